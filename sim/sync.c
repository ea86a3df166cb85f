/* sync.c - the seam's synchronization, time and thread calls, simulated.
 *
 * Each call starts with a scheduling point, then acts atomically (only one
 * virtual thread runs at a time, so plain memory operations are sequentially
 * consistent), then leaves one trace event. Objects are numbered per kind in
 * creation order (m0, s0, a0, ...), which is deterministic because the
 * execution is; the numbers, never the addresses, appear in traces.
 *
 * Wake-ups are "wake all, retry": unlocking a mutex or posting a semaphore
 * makes every waiter runnable, and the schedule decides who wins. This lets
 * the decision stream reach every acquisition order a real OS could produce.
 */
#include <string.h>

#include "sim_internal.h"

static const char obj_letter[] = {'?', 'm', 's', 'a'};

const char *sim__obj_name(sim_ctx *s, uint32_t obj, char *buf, size_t len) {
    if (obj >= s->nobjs) {
        snprintf(buf, len, "?%u", obj);
    } else {
        snprintf(buf, len, "%c%u", obj_letter[s->objs[obj].kind], s->objs[obj].ordinal);
    }
    return buf;
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn, format(printf, 2, 3)))
#endif
static void usage(sim_ctx *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *msg = sim_arena_vprintf(&s->arena, fmt, ap);
    va_end(ap);
    sim__end(s, SIM_USAGE, "usage", msg);
}

static uint32_t new_obj(sim_ctx *s, sim_obj_kind kind) {
    if (s->nobjs >= s->cfg.max_objects) {
        sim__end(s, SIM_LIMIT, "object-limit",
                 sim_arena_printf(&s->arena, "limit: more than %u synchronization objects (max_objects)",
                                  s->cfg.max_objects));
    }
    uint32_t i = s->nobjs++;
    sim_obj *o = &s->objs[i];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->ordinal = s->ord[kind]++;
    o->creator = s->current;
    o->step = s->steps;
    return i;
}

/* Looks up (or numbers, on first touch) the atomic word at `p`. The table is
 * keyed by address but only ever probed, never iterated, and the number it
 * hands out depends only on the order of first touches. */
static uint32_t atomic_obj(sim_ctx *s, const volatile void *p) {
    uintptr_t addr = (uintptr_t)p;
    uint64_t h = (uint64_t)addr * 0x9E3779B97F4A7C15ull;
    uint32_t mask = s->addr_cap - 1;
    /* new_obj stops at max_objects, half the table: a probe finds a free slot. */
    SIM_CHECK(s, s->nobjs < s->addr_cap, "the atomic-word table has a free slot");
    for (uint32_t i = (uint32_t)(h >> 40) & mask;; i = (i + 1) & mask) {
        sim_addr_slot *slot = &s->addrs[i];
        if (slot->exec != s->exec) {
            slot->exec = s->exec;
            slot->addr = addr;
            slot->obj = new_obj(s, SIM_OBJ_ATOMIC);
            return slot->obj;
        }
        if (slot->addr == addr) return slot->obj;
    }
}

static sim_obj *handle_obj(sim_ctx *s, const uintptr_t opaque[2], sim_obj_kind kind, const char *what,
                           uint32_t *index) {
    uint32_t i = (uint32_t)opaque[0] - 1;
    if (opaque[1] != s->exec || opaque[0] == 0 || i >= s->nobjs || s->objs[i].kind != kind)
        usage(s, "usage: T%u uses a %s that was not initialized in this execution", s->current, what);
    *index = i;
    return &s->objs[i];
}

/* ---- Atomics ---- */

#define SIM_ATOMIC_OPS(SUFFIX, T, ST)                                                                         \
    static T atomic_load##SUFFIX(void *ctx, volatile T *p) {                                                  \
        sim_ctx *s = ctx;                                                                                     \
        sim__sched_point(s);                                                                                  \
        T v = *p;                                                                                             \
        sim__event(s, SIM_EV_ATOMIC_LOAD, atomic_obj(s, p), (uint64_t)v, 0, 0);                               \
        return v;                                                                                             \
    }                                                                                                         \
    static void atomic_store##SUFFIX(void *ctx, volatile T *p, T v) {                                         \
        sim_ctx *s = ctx;                                                                                     \
        sim__sched_point(s);                                                                                  \
        *p = v;                                                                                               \
        sim__event(s, SIM_EV_ATOMIC_STORE, atomic_obj(s, p), (uint64_t)v, 0, 0);                              \
    }                                                                                                         \
    static bool atomic_cas##SUFFIX(void *ctx, volatile T *p, T expected, T desired) {                         \
        sim_ctx *s = ctx;                                                                                     \
        sim__sched_point(s);                                                                                  \
        T old = *p;                                                                                           \
        if (old == expected) *p = desired;                                                                    \
        sim__event(s, SIM_EV_ATOMIC_CAS, atomic_obj(s, p), (uint64_t)expected, (uint64_t)desired,             \
                   (uint64_t)old);                                                                            \
        return old == expected;                                                                               \
    }                                                                                                         \
    static T atomic_swap##SUFFIX(void *ctx, volatile T *p, T v) {                                             \
        sim_ctx *s = ctx;                                                                                     \
        sim__sched_point(s);                                                                                  \
        T old = *p;                                                                                           \
        *p = v;                                                                                               \
        sim__event(s, SIM_EV_ATOMIC_SWAP, atomic_obj(s, p), (uint64_t)v, (uint64_t)old, 0);                   \
        return old;                                                                                           \
    }                                                                                                         \
    static T atomic_add##SUFFIX(void *ctx, volatile T *p, ST d) {                                             \
        sim_ctx *s = ctx;                                                                                     \
        sim__sched_point(s);                                                                                  \
        T v = (T)(*p + (T)d);                                                                                 \
        *p = v;                                                                                               \
        sim__event(s, SIM_EV_ATOMIC_ADD, atomic_obj(s, p), (uint64_t)(int64_t)d, (uint64_t)v, 0);             \
        return v;                                                                                             \
    }

SIM_ATOMIC_OPS(32, uint32_t, int32_t)
SIM_ATOMIC_OPS(_ptr, uintptr_t, intptr_t)

/* ---- Mutex ---- */

static void mutex_init(void *ctx, shim_mutex *m) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    uint32_t i = new_obj(s, SIM_OBJ_MUTEX);
    s->sync_undestroyed++;
    m->opaque[0] = (uintptr_t)i + 1;
    m->opaque[1] = (uintptr_t)s->exec;
    sim__event(s, SIM_EV_MUTEX_INIT, i, 0, 0, 0);
}

static void mutex_lock(void *ctx, shim_mutex *m) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    uint32_t i;
    sim_obj *o = handle_obj(s, m->opaque, SIM_OBJ_MUTEX, "mutex", &i);
    uint32_t me = s->current;
    while (o->owner != 0) {
        if (o->owner == me + 1) {
            char n[32];
            usage(s, "usage: T%u locks mutex %s, which it already holds (an SRWLOCK would hang)", me,
                  sim__obj_name(s, i, n, sizeof n));
        }
        sim__event(s, SIM_EV_MUTEX_BLOCK, i, o->owner - 1, 0, 0);
        o->waiters |= 1ull << me;
        sim__block(s, SIM_WAIT_MUTEX, i, -1);
        SIM_CHECK(s, ((o->waiters >> me) & 1) == 0, "a mutex waiter wakes only at an unlock");
    }
    o->owner = me + 1;
    sim__event(s, SIM_EV_MUTEX_LOCK, i, 0, 0, 0);
}

static void mutex_unlock(void *ctx, shim_mutex *m) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    uint32_t i;
    sim_obj *o = handle_obj(s, m->opaque, SIM_OBJ_MUTEX, "mutex", &i);
    if (o->owner != s->current + 1) {
        char n[32];
        usage(s, "usage: T%u unlocks mutex %s, which it does not hold", s->current,
              sim__obj_name(s, i, n, sizeof n));
    }
    o->owner = 0;
    sim__wake_mask(s, o->waiters);
    o->waiters = 0;
    sim__event(s, SIM_EV_MUTEX_UNLOCK, i, 0, 0, 0);
}

/* Destroys are not scheduling points: only the last user may destroy, and a
 * stray access after it is still caught (a usage verdict) at that access's
 * own scheduling point, in whichever order the schedule puts them. Teardown
 * then costs no decisions, so schedules recorded before the poller destroyed
 * its primitives stay valid. */
static void mutex_destroy(void *ctx, shim_mutex *m) {
    sim_ctx *s = ctx;
    uint32_t i;
    sim_obj *o = handle_obj(s, m->opaque, SIM_OBJ_MUTEX, "mutex", &i);
    if (o->owner != 0 || o->waiters != 0) {
        char n[32];
        usage(s, "usage: T%u destroys mutex %s while it is held or waited for", s->current,
              sim__obj_name(s, i, n, sizeof n));
    }
    m->opaque[0] = 0;
    o->destroyed = true;
    s->sync_undestroyed--;
    sim__access(s, SIM_ACC_OBJECT(SIM_ACC_SYNC, i), true); /* destroy leaves no event */
}

/* ---- Semaphore ---- */

static void sema_init(void *ctx, shim_sema *sem, uint32_t count) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    uint32_t i = new_obj(s, SIM_OBJ_SEMA);
    s->sync_undestroyed++;
    s->objs[i].count = count;
    sem->opaque[0] = (uintptr_t)i + 1;
    sem->opaque[1] = (uintptr_t)s->exec;
    sim__event(s, SIM_EV_SEMA_INIT, i, count, 0, 0);
}

static bool sema_wait(void *ctx, shim_sema *sem, int64_t timeout_ns) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    uint32_t i;
    sim_obj *o = handle_obj(s, sem->opaque, SIM_OBJ_SEMA, "semaphore", &i);
    int64_t deadline = -1;
    if (timeout_ns > 0) deadline = timeout_ns > INT64_MAX - s->now_ns ? INT64_MAX : s->now_ns + timeout_ns;
    for (;;) {
        if (o->count > 0) {
            o->count--;
            sim__event(s, SIM_EV_SEMA_WAIT, i, 1, 0, 0);
            return true;
        }
        if (timeout_ns == 0 || s->threads[s->current].timed_out) {
            s->threads[s->current].timed_out = false;
            sim__event(s, SIM_EV_SEMA_WAIT, i, 0, 0, 0);
            return false;
        }
        sim__event(s, SIM_EV_SEMA_BLOCK, i, (uint64_t)timeout_ns, 0, 0);
        o->waiters |= 1ull << s->current;
        sim__block(s, SIM_WAIT_SEMA, i, deadline);
        o->waiters &= ~(1ull << s->current);
    }
}

static void sema_post(void *ctx, shim_sema *sem) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    uint32_t i;
    sim_obj *o = handle_obj(s, sem->opaque, SIM_OBJ_SEMA, "semaphore", &i);
    o->count++;
    sim__wake_mask(s, o->waiters);
    o->waiters = 0;
    sim__event(s, SIM_EV_SEMA_POST, i, o->count, 0, 0);
}

static void sema_destroy(void *ctx, shim_sema *sem) {
    sim_ctx *s = ctx;
    uint32_t i;
    sim_obj *o = handle_obj(s, sem->opaque, SIM_OBJ_SEMA, "semaphore", &i);
    if (o->waiters != 0) {
        char n[32];
        usage(s, "usage: T%u destroys semaphore %s while threads wait on it", s->current,
              sim__obj_name(s, i, n, sizeof n));
    }
    sem->opaque[0] = 0;
    o->destroyed = true;
    s->sync_undestroyed--;
    sim__access(s, SIM_ACC_OBJECT(SIM_ACC_SYNC, i), true); /* destroy leaves no event */
}

/* ---- Monitor: primitives never destroyed ---- */

const char *sim__sync_leaks(sim_ctx *s, uint32_t *count) {
    const char *out = "";
    uint32_t n = 0;
    if (s->sync_undestroyed == 0) { /* the usual end: nothing to list, no table to walk */
        *count = 0;
        return out;
    }
    for (uint32_t i = 0; i < s->nobjs; i++) {
        const sim_obj *o = &s->objs[i];
        if ((o->kind != SIM_OBJ_MUTEX && o->kind != SIM_OBJ_SEMA) || o->destroyed) continue;
        if (n++ < SIM_LEAKS_LISTED) {
            char name[32];
            /* The creation ordinal (m3, s7) is what the trace's init event shows. */
            out = sim_arena_printf(&s->arena, "%s  %s %s created by T%u '%s' at step %llu, never destroyed\n", out,
                                   o->kind == SIM_OBJ_MUTEX ? "mutex" : "semaphore", sim__obj_name(s, i, name, sizeof name),
                                   o->creator, s->threads[o->creator].name, (unsigned long long)o->step);
        }
    }
    if (n > SIM_LEAKS_LISTED)
        out = sim_arena_printf(&s->arena, "%s  ... and %u more primitives\n", out, n - SIM_LEAKS_LISTED);
    *count = n;
    return out;
}

/* ---- Time ---- */

static int64_t now_ns(void *ctx) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    sim__event(s, SIM_EV_NOW, (uint64_t)s->now_ns, 0, 0, 0);
    return s->now_ns;
}

static void sleep_ns(void *ctx, int64_t ns) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    sim__event(s, SIM_EV_SLEEP, (uint64_t)ns, 0, 0, 0);
    if (ns <= 0) return; /* a yield: the scheduling point above was it */
    int64_t deadline = ns > INT64_MAX - s->now_ns ? INT64_MAX : s->now_ns + ns;
    sim__block(s, SIM_WAIT_SLEEP, 0, deadline);
    s->threads[s->current].timed_out = false;
}

/* ---- Threads ---- */

static bool thread_spawn(void *ctx, shim_thread *t, shim_thread_fn fn, void *arg, const char *name) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    uint32_t id = sim__spawn(s, fn, arg, name);
    t->opaque[0] = (uintptr_t)id + 1;
    t->opaque[1] = (uintptr_t)s->exec;
    sim__event(s, SIM_EV_SPAWN, id, 0, 0, 0);
    return true;
}

static void thread_join(void *ctx, shim_thread *t) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    uint32_t id = (uint32_t)t->opaque[0] - 1;
    if (t->opaque[1] != s->exec || t->opaque[0] == 0 || id >= s->nthreads)
        usage(s, "usage: T%u joins a thread that was not spawned in this execution", s->current);
    if (id == s->current) usage(s, "usage: T%u joins itself", s->current);
    while (s->threads[id].state != SIM_T_DONE) {
        sim__access(s, SIM_ACC_OBJECT(SIM_ACC_THREAD, id), true); /* the wait leaves no event */
        sim__block(s, SIM_WAIT_JOIN, id, -1);
    }
    sim__event(s, SIM_EV_JOIN, id, 0, 0, 0);
}

void sim__fill_sync(sim_ctx *s) {
    shim_sync *y = &s->sync;
    memset(y, 0, sizeof *y);
    y->version = SHIM_VERSION_2;
    y->name = "sim";
    y->ctx = s;
    y->atomic_load32 = atomic_load32;
    y->atomic_store32 = atomic_store32;
    y->atomic_cas32 = atomic_cas32;
    y->atomic_swap32 = atomic_swap32;
    y->atomic_add32 = atomic_add32;
    y->atomic_load_ptr = atomic_load_ptr;
    y->atomic_store_ptr = atomic_store_ptr;
    y->atomic_cas_ptr = atomic_cas_ptr;
    y->atomic_swap_ptr = atomic_swap_ptr;
    y->atomic_add_ptr = atomic_add_ptr;
    y->mutex_init = mutex_init;
    y->mutex_lock = mutex_lock;
    y->mutex_unlock = mutex_unlock;
    y->mutex_destroy = mutex_destroy;
    y->sema_init = sema_init;
    y->sema_wait = sema_wait;
    y->sema_post = sema_post;
    y->sema_destroy = sema_destroy;
    y->now_ns = now_ns;
    s->shim.sync = y;
    shim_harness *h = &s->harness;
    h->sleep_ns = sleep_ns;
    h->thread_spawn = thread_spawn;
    h->thread_join = thread_join;
}

/* ---- Harness helpers ---- */

void sim_fail(sim_ctx *s, const char *property, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *msg = sim_arena_vprintf(&s->arena, fmt, ap);
    va_end(ap);
    sim__event(s, SIM_EV_FAIL, (uint64_t)(uintptr_t)msg, 0, 0, 0);
    sim__end(s, SIM_FAIL, property, msg);
}

void sim_end_pass(sim_ctx *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *msg = sim_arena_vprintf(&s->arena, fmt, ap);
    va_end(ap);
    sim__event(s, SIM_EV_NOTE, (uint64_t)(uintptr_t)msg, 0, 0, 0); /* in the trace and its hash: replays show why */
    s->ended_on_purpose = true;
    sim__end(s, SIM_PASS, NULL, msg);
}

void *sim_alloc(sim_ctx *s, size_t size) { return sim_arena_alloc(&s->arena, size); }
