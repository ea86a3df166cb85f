/* trace.c - the event trace: record, hash, render.
 *
 * Every seam call of a virtual thread leaves one event (step, thread,
 * virtual time, kind, up to four arguments). The 64-bit hash covers every
 * event of the execution, kept or not, so two runs can be compared by hash
 * alone; arguments are values and object ordinals, never addresses.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

static const char *const names[SIM_EV__COUNT] = {
    [SIM_EV_THREAD_START] = "thread.start", [SIM_EV_THREAD_END] = "thread.end",
    [SIM_EV_SPAWN] = "thread.spawn",        [SIM_EV_JOIN] = "thread.join",
    [SIM_EV_ATOMIC_LOAD] = "atomic.load",   [SIM_EV_ATOMIC_STORE] = "atomic.store",
    [SIM_EV_ATOMIC_CAS] = "atomic.cas",     [SIM_EV_ATOMIC_SWAP] = "atomic.swap",
    [SIM_EV_ATOMIC_ADD] = "atomic.add",     [SIM_EV_MUTEX_INIT] = "mutex.init",
    [SIM_EV_MUTEX_LOCK] = "mutex.lock",     [SIM_EV_MUTEX_BLOCK] = "mutex.block",
    [SIM_EV_MUTEX_UNLOCK] = "mutex.unlock", [SIM_EV_SEMA_INIT] = "sema.init",
    [SIM_EV_SEMA_WAIT] = "sema.wait",       [SIM_EV_SEMA_BLOCK] = "sema.block",
    [SIM_EV_SEMA_POST] = "sema.post",       [SIM_EV_SLEEP] = "sleep",
    [SIM_EV_NOW] = "clock.now",             [SIM_EV_TIMEOUT] = "timeout",
    [SIM_EV_CHOICE] = "choice",             [SIM_EV_NOTE] = "note",
    [SIM_EV_FAIL] = "fail",
    [SIM_EV_PORT_CREATE] = "port.create",   [SIM_EV_PORT_ASSOC] = "port.assoc",
    [SIM_EV_PORT_POST] = "port.post",       [SIM_EV_PORT_DEQUEUE] = "port.dequeue",
    [SIM_EV_PORT_WAIT] = "port.wait",       [SIM_EV_PORT_FAIL] = "port.fail",
    [SIM_EV_HANDLE_CLOSE] = "handle.close", [SIM_EV_SOCK_PAIR] = "sock.pair",
    [SIM_EV_SOCK_IO] = "sock.io",           [SIM_EV_IO_DONE] = "io.done",
    [SIM_EV_CANCEL] = "io.cancel",          [SIM_EV_SOCK_PEER] = "sock.peer",
    [SIM_EV_SET_MODES] = "sock.modes",      [SIM_EV_GET_RESULT] = "io.result",
    [SIM_EV_FAULT] = "fault",               [SIM_EV_WAITPKT] = "waitpkt",
    [SIM_EV_TIMER] = "timer",
};

const char *sim_event_name(uint32_t kind) { return kind < SIM_EV__COUNT && names[kind] ? names[kind] : "?"; }

static inline uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h *= 0xFF51AFD7ED558CCDull;
    return h ^ (h >> 32);
}

void sim__events_update(sim_ctx *s) {
    s->events_read = !s->cfg.skip_trace_hash || s->cfg.record_trace || s->acc_limit != 0;
}

void sim__trace_reset(sim_ctx *s) {
    sim__events_update(s);
    s->nevents = 0;
    s->hash = s->cfg.skip_trace_hash ? 0 : 0xCBF29CE484222325ull;
    s->nacc = 0;
    s->acc_truncated = false;
}

/* ---- The access log ---- */

void sim_access_log(sim_ctx *s, uint32_t limit) {
    s->acc_limit = limit;
    sim__events_update(s);
}
uint32_t sim_access_count(const sim_ctx *s) { return s->nacc; }
const sim_access *sim_accesses(const sim_ctx *s) { return s->accs; }
bool sim_access_truncated(const sim_ctx *s) { return s->acc_truncated; }

void sim__access_log(sim_ctx *s, uint32_t object, bool write, uint32_t event, uint64_t value) {
    if (s->nacc >= s->acc_limit) {
        s->acc_truncated = true;
        return;
    }
    if (s->nacc == s->acc_cap) {
        uint32_t cap = s->acc_cap ? s->acc_cap * 2 : 4096;
        sim_access *a = realloc(s->accs, cap * sizeof *a);
        if (a == NULL) sim__end(s, SIM_LIMIT, "memory-limit", "limit: out of memory for the access log");
        s->accs = a;
        s->acc_cap = cap;
    }
    /* The explorer trusts the log: an actor that exists, in decision order. */
    SIM_CHECK(s, s->in_kernel || s->current < s->nthreads, "an access has an actor");
    SIM_CHECK(s, s->nacc == 0 || s->accs[s->nacc - 1].pos <= s->ndecisions, "accesses are logged in decision order");
    sim_access *a = &s->accs[s->nacc++];
    a->pos = s->ndecisions;
    a->thread = s->in_kernel ? SIM_KERNEL : s->current;
    a->object = object;
    a->write = write;
    a->event = (uint8_t)event;
    a->reserved = 0;
    a->value = value;
    if (SIM_ACC_CLASS(object) == SIM_ACC_KERNEL) s->acc_kernel = true;
}

/* What an event touched: its object (the ordinal in a0) and whether it wrote
 * it. Kernel events log nothing themselves: the kernel code logs every object
 * it touches (kernel.h, kern_touch), and an event with none logged before it
 * in the same call is a missing one, which would let the explorer take
 * dependent steps for independent ones. An injected fault touches nothing:
 * the call fails before it reaches the kernel. Choices, notes and failures
 * touch nothing. */
static void event_access(sim_ctx *s, sim_event_kind kind, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3) {
    uint32_t sync = SIM_ACC_OBJECT(SIM_ACC_SYNC, a0), thr = SIM_ACC_OBJECT(SIM_ACC_THREAD, a0);
    switch (kind) {
    case SIM_EV_THREAD_START:
    case SIM_EV_THREAD_END:
    case SIM_EV_JOIN: sim__access_log(s, thr, true, kind, 0); break;
    case SIM_EV_SPAWN:
        sim__access_log(s, SIM_ACC_OBJECT(SIM_ACC_THREADS, 0), true, kind, 0);
        sim__access_log(s, thr, true, kind, 0);
        break;
    case SIM_EV_ATOMIC_LOAD: sim__access_log(s, sync, false, kind, a1); break;
    case SIM_EV_ATOMIC_STORE:
    case SIM_EV_ATOMIC_SWAP: sim__access_log(s, sync, true, kind, a1); break;
    case SIM_EV_ATOMIC_CAS: sim__access_log(s, sync, true, kind, a3 == a1 ? a2 : a3); break;
    case SIM_EV_ATOMIC_ADD: sim__access_log(s, sync, true, kind, a2); break;
    case SIM_EV_MUTEX_INIT:
    case SIM_EV_MUTEX_LOCK:
    case SIM_EV_MUTEX_BLOCK:
    case SIM_EV_MUTEX_UNLOCK:
    case SIM_EV_SEMA_INIT:
    case SIM_EV_SEMA_WAIT:
    case SIM_EV_SEMA_BLOCK:
    case SIM_EV_SEMA_POST: sim__access_log(s, sync, true, kind, 0); break;
    case SIM_EV_SLEEP:
    case SIM_EV_NOW: sim__access_log(s, SIM_ACC_OBJECT(SIM_ACC_CLOCK, 0), false, kind, 0); break;
    case SIM_EV_TIMEOUT: sim__access_log(s, SIM_ACC_OBJECT(SIM_ACC_CLOCK, 0), true, kind, 0); break;
    case SIM_EV_CHOICE:
    case SIM_EV_NOTE:
    case SIM_EV_FAIL:
    case SIM_EV_FAULT: break;
    default:
        SIM_CHECK(s, s->acc_kernel || s->acc_truncated || s->kernel == NULL,
                  "a kernel event follows the access of a kernel object it touched");
        break;
    }
}

void sim__event_read(sim_ctx *s, sim_event_kind kind, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3) {
    SIM_CHECK(s, (unsigned)kind < SIM_EV__COUNT, "events are of a known kind");
    uint32_t thread = s->in_kernel ? SIM_KERNEL : s->current;
    if (!s->cfg.skip_trace_hash) {
        uint64_t h = mix(s->hash, s->steps);
        h = mix(h, ((uint64_t)thread << 32) | (uint32_t)kind);
        h = mix(h, (uint64_t)s->now_ns);
        if (kind == SIM_EV_NOTE || kind == SIM_EV_FAIL) {
            /* a0 is the text: hash its bytes, never its address. */
            for (const unsigned char *p = (const unsigned char *)(uintptr_t)a0; *p; p++) h = mix(h, *p);
            h = mix(h, a1);
        } else {
            h = mix(mix(mix(mix(h, a0), a1), a2), a3);
        }
        s->hash = h;
    }
    if (s->acc_limit != 0) event_access(s, kind, a0, a1, a2, a3);
    if (!s->cfg.record_trace || s->nevents >= s->cfg.max_trace_events) return;
    if (s->nevents == s->event_cap) {
        uint32_t cap = s->event_cap ? s->event_cap * 2 : 4096;
        sim_event *e = realloc(s->events, cap * sizeof *e);
        if (e == NULL) sim__end(s, SIM_LIMIT, "memory-limit", "limit: out of memory for the trace");
        s->events = e;
        s->event_cap = cap;
    }
    sim_event *e = &s->events[s->nevents++];
    e->step = s->steps;
    e->time_ns = s->now_ns;
    e->thread = thread;
    e->kind = (uint32_t)kind;
    e->arg[0] = a0;
    e->arg[1] = a1;
    e->arg[2] = a2;
    e->arg[3] = a3;
}

uint32_t sim_trace_count(const sim_ctx *s) { return s->nevents; }
const sim_event *sim_trace_events(const sim_ctx *s) { return s->events; }

void sim_note(sim_ctx *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *text = sim_arena_vprintf(&s->arena, fmt, ap);
    va_end(ap);
    sim__event(s, SIM_EV_NOTE, (uint64_t)(uintptr_t)text, 0, 0, 0);
}

/* OVERLAPPEDs are rendered by ordinal (ov1, ov2, ...), never by address. */
static const char *ovname(uint64_t ord, char *buf, size_t len) {
    if (ord == 0) return "NULL";
    snprintf(buf, len, "ov%llu", (unsigned long long)ord);
    return buf;
}

/* The simulated kernel's events (port.c, sock.c, waitpkt.c). */
static void format_kernel(const sim_event *e, char *d, size_t n) {
    const uint64_t *a = e->arg;
    char ov[24];
    unsigned long long h = (unsigned long long)a[0];
    static const char *const peer[] = {"send", "shutdown", "abort", "close", "recv", "send-blocks", "dgram-dropped", "dgram-sent"};
    static const char *const wp[] = {"create", "associate", "cancel", "queued"};
    static const char *const tm[] = {"create", "set", "fire"};
    switch ((sim_event_kind)e->kind) {
    case SIM_EV_PORT_CREATE:
        snprintf(d, n, "h%llu concurrency %llu%s", h, (unsigned long long)a[1], a[2] ? " (enforced)" : "");
        break;
    case SIM_EV_PORT_ASSOC:
        if (a[3] != 0)
            snprintf(d, n, "h%llu to port h%llu key %llu -> error %llu", (unsigned long long)a[1], h,
                     (unsigned long long)a[2], (unsigned long long)a[3]);
        else
            snprintf(d, n, "h%llu to port h%llu key %llu -> ok", (unsigned long long)a[1], h, (unsigned long long)a[2]);
        break;
    case SIM_EV_PORT_POST:
        snprintf(d, n, "h%llu key %llu %s bytes %llu", h, (unsigned long long)a[1], ovname(a[2], ov, sizeof ov),
                 (unsigned long long)a[3]);
        break;
    case SIM_EV_PORT_DEQUEUE:
        snprintf(d, n, "h%llu key %llu %s status 0x%08llX bytes %llu", h, (unsigned long long)a[1],
                 ovname(a[2], ov, sizeof ov), (unsigned long long)(a[3] >> 32), (unsigned long long)(uint32_t)a[3]);
        break;
    case SIM_EV_PORT_WAIT:
        if ((int64_t)a[2] < 0)
            snprintf(d, n, "h%llu timeout %llu ms: blocks (forever)", h, (unsigned long long)a[1]);
        else
            snprintf(d, n, "h%llu timeout %llu ms: blocks for %lld ns", h, (unsigned long long)a[1], (long long)a[2]);
        break;
    case SIM_EV_PORT_FAIL:
        snprintf(d, n, "h%llu -> error %llu, removed %llu", h, (unsigned long long)a[1], (unsigned long long)a[2]);
        break;
    case SIM_EV_HANDLE_CLOSE:
        if (a[1] != 0)
            snprintf(d, n, "h%llu -> error %llu", h, (unsigned long long)a[1]);
        else
            snprintf(d, n, "h%llu%s", h, a[2] ? " (waiters abandoned)" : "");
        break;
    case SIM_EV_SOCK_PAIR: snprintf(d, n, "h%llu <-> h%llu", h, (unsigned long long)a[1]); break;
    case SIM_EV_SOCK_IO:
        snprintf(d, n, "%s h%llu %s -> %s%llu, %llu bytes", (a[2] >> 32) ? "send" : "recv", h,
                 ovname(a[1], ov, sizeof ov), (uint32_t)a[2] ? "error " : "sync", (unsigned long long)(uint32_t)a[2],
                 (unsigned long long)a[3]);
        break;
    case SIM_EV_IO_DONE:
        snprintf(d, n, "h%llu %s status 0x%08llX bytes %llu%s", h, ovname(a[1], ov, sizeof ov),
                 (unsigned long long)a[2], (unsigned long long)(a[3] >> 1), (a[3] & 1) ? " (packet queued)" : "");
        break;
    case SIM_EV_CANCEL:
        snprintf(d, n, "h%llu %s: %llu matched%s", h, a[1] ? ovname(a[1], ov, sizeof ov) : "all",
                 (unsigned long long)a[2], a[3] ? " (FALSE)" : "");
        break;
    case SIM_EV_SOCK_PEER:
        if (a[1] == 2 || a[1] == 3)
            snprintf(d, n, "h%llu %s: %llu pending op(s) end with 0x%08llX", h, peer[a[1]],
                     (unsigned long long)a[3], (unsigned long long)a[2]);
        else
            snprintf(d, n, "h%llu %s %llu bytes", h, peer[a[1] < 8 ? a[1] : 0], (unsigned long long)a[2]);
        break;
    case SIM_EV_SET_MODES:
        snprintf(d, n, "h%llu flags %llu -> %s", h, (unsigned long long)a[1],
                 a[3] ? "error" : a[2] ? "skip effective" : "skip not in effect");
        break;
    case SIM_EV_GET_RESULT:
        snprintf(d, n, "h%llu %s -> %s%llu", h, ovname(a[1], ov, sizeof ov), a[2] ? "error " : "ok, bytes ",
                 a[2] ? (unsigned long long)a[2] : (unsigned long long)a[3]);
        break;
    case SIM_EV_FAULT: snprintf(d, n, "family %llu fails with %llu", h, (unsigned long long)a[1]); break;
    case SIM_EV_WAITPKT:
        snprintf(d, n, "h%llu %s %llu %llu", h, wp[a[1] & 3], (unsigned long long)a[2], (unsigned long long)a[3]);
        break;
    case SIM_EV_TIMER:
        snprintf(d, n, "h%llu %s %lld ns", h, a[1] < 3 ? tm[a[1]] : "?", (long long)a[2]);
        break;
    default: break;
    }
}

size_t sim_event_format(const sim_ctx *s, const sim_event *e, char *buf, size_t len) {
    char o[32], detail[192];
    const uint64_t *a = e->arg;
    detail[0] = 0;
    switch ((sim_event_kind)e->kind) {
    case SIM_EV_SPAWN:
    case SIM_EV_JOIN:
        snprintf(detail, sizeof detail, "T%llu '%s'", (unsigned long long)a[0],
                 a[0] < s->nthreads ? s->threads[a[0]].name : "?");
        break;
    case SIM_EV_ATOMIC_LOAD:
        snprintf(detail, sizeof detail, "%s -> %llu", sim__obj_name((sim_ctx *)s, (uint32_t)a[0], o, sizeof o),
                 (unsigned long long)a[1]);
        break;
    case SIM_EV_ATOMIC_STORE:
        snprintf(detail, sizeof detail, "%s = %llu", sim__obj_name((sim_ctx *)s, (uint32_t)a[0], o, sizeof o),
                 (unsigned long long)a[1]);
        break;
    case SIM_EV_ATOMIC_CAS:
        snprintf(detail, sizeof detail, "%s %llu -> %llu: %s (was %llu)",
                 sim__obj_name((sim_ctx *)s, (uint32_t)a[0], o, sizeof o), (unsigned long long)a[1],
                 (unsigned long long)a[2], a[3] == a[1] ? "ok" : "failed", (unsigned long long)a[3]);
        break;
    case SIM_EV_ATOMIC_SWAP:
        snprintf(detail, sizeof detail, "%s = %llu (was %llu)",
                 sim__obj_name((sim_ctx *)s, (uint32_t)a[0], o, sizeof o), (unsigned long long)a[1],
                 (unsigned long long)a[2]);
        break;
    case SIM_EV_ATOMIC_ADD:
        snprintf(detail, sizeof detail, "%s += %lld -> %llu",
                 sim__obj_name((sim_ctx *)s, (uint32_t)a[0], o, sizeof o), (long long)a[1],
                 (unsigned long long)a[2]);
        break;
    case SIM_EV_MUTEX_INIT:
    case SIM_EV_MUTEX_LOCK:
    case SIM_EV_MUTEX_UNLOCK:
        snprintf(detail, sizeof detail, "%s", sim__obj_name((sim_ctx *)s, (uint32_t)a[0], o, sizeof o));
        break;
    case SIM_EV_MUTEX_BLOCK:
        snprintf(detail, sizeof detail, "%s held by T%llu", sim__obj_name((sim_ctx *)s, (uint32_t)a[0], o, sizeof o),
                 (unsigned long long)a[1]);
        break;
    case SIM_EV_SEMA_INIT:
    case SIM_EV_SEMA_POST:
        snprintf(detail, sizeof detail, "%s count %llu", sim__obj_name((sim_ctx *)s, (uint32_t)a[0], o, sizeof o),
                 (unsigned long long)a[1]);
        break;
    case SIM_EV_SEMA_WAIT:
        snprintf(detail, sizeof detail, "%s -> %s", sim__obj_name((sim_ctx *)s, (uint32_t)a[0], o, sizeof o),
                 a[1] ? "acquired" : "timed out");
        break;
    case SIM_EV_SEMA_BLOCK:
        if ((int64_t)a[1] < 0)
            snprintf(detail, sizeof detail, "%s", sim__obj_name((sim_ctx *)s, (uint32_t)a[0], o, sizeof o));
        else
            snprintf(detail, sizeof detail, "%s timeout %lld ns",
                     sim__obj_name((sim_ctx *)s, (uint32_t)a[0], o, sizeof o), (long long)a[1]);
        break;
    case SIM_EV_SLEEP:
        snprintf(detail, sizeof detail, "%lld ns", (long long)a[0]);
        break;
    case SIM_EV_NOW:
        snprintf(detail, sizeof detail, "-> %lld ns", (long long)a[0]);
        break;
    case SIM_EV_TIMEOUT:
        snprintf(detail, sizeof detail, "T%llu woken by the clock", (unsigned long long)a[0]);
        break;
    case SIM_EV_CHOICE:
        snprintf(detail, sizeof detail, "%s %c%llu of %llu", sim_choice_name((sim_choice_kind)a[0]),
                 sim_choice_letter((sim_choice_kind)a[0]), (unsigned long long)a[1], (unsigned long long)a[2]);
        break;
    case SIM_EV_NOTE:
    case SIM_EV_FAIL:
        snprintf(detail, sizeof detail, "%s", (const char *)(uintptr_t)a[0]);
        break;
    default:
        format_kernel(e, detail, sizeof detail);
        break;
    }
    const char *tname = e->thread == SIM_KERNEL ? "kernel" : e->thread < s->nthreads ? s->threads[e->thread].name : "?";
    char tid[16]; /* room for any uint32_t: profile feedback's inlining made gcc check it */
    if (e->thread == SIM_KERNEL)
        snprintf(tid, sizeof tid, "K ");
    else
        snprintf(tid, sizeof tid, "T%-2u", e->thread);
    int w = snprintf(buf, len, "%7llu %4lld.%09lld %s %-8.8s %-13s %s", (unsigned long long)e->step,
                     (long long)(e->time_ns / 1000000000), (long long)(e->time_ns % 1000000000), tid, tname,
                     sim_event_name(e->kind), detail);
    return w < 0 ? 0 : (size_t)w;
}

void sim_trace_write(const sim_ctx *s, FILE *out) {
    char line[320];
    fprintf(out, "   step     time (s) thread      event         detail\n");
    for (uint32_t i = 0; i < s->nevents; i++) {
        sim_event_format(s, &s->events[i], line, sizeof line);
        fprintf(out, "%s\n", line);
    }
    if (s->nevents >= s->cfg.max_trace_events)
        fprintf(out, "(trace truncated at %u events: max_trace_events)\n", s->cfg.max_trace_events);
}
