/* port.c - simulated completion ports: create/associate, post, dequeue
 * (GetQueuedCompletionStatus and its Ex form), close.
 *
 * Packets sit in a per-port FIFO ring (retained, no allocation per packet).
 * A packet queued while threads wait is handed straight to one of them
 * (Windows: LIFO; older Wine: FIFO; pre-Windows-10: a newcomer may steal it,
 * all through choice 'w', §4), subject to the concurrency limit (enforced or
 * ignored, choice 'c'). Every return path of §3 is modelled: success, failed
 * I/O packets, timeouts quantized to the tick (choice 'o'), 735 on close
 * (or Wine's keep-waiting, choice 'l'), 87 for count 0, 6 for a bad handle,
 * batch sizes (choice 'b') and the entries-removed count on failure ('n').
 */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

void kern_port_reset(kern_state *w) {
    for (uint32_t i = 0; i < w->nports; i++) {
        kern_port *p = &w->ports[i];
        kern_packet *ring = p->ring;
        uint32_t cap = p->cap;
        memset(p, 0, sizeof *p);
        p->ring = ring; /* keep the retained ring */
        p->cap = cap;
    }
    w->nports = 0;
}

/* ---- The FIFO ring ---- */

static void ring_push(sim_ctx *s, kern_port *p, const kern_packet *pk) {
    if (p->count == p->cap) {
        if (p->count >= KERN_MAX_QUEUE)
            kern_limit(s, "queue-limit", "limit: more than %u packets queued on port h%llu (KERN_MAX_QUEUE)",
                       KERN_MAX_QUEUE, (unsigned long long)p->h);
        uint32_t cap = p->cap ? p->cap * 2 : KERN_QUEUE_INITIAL;
        kern_packet *r = malloc(cap * sizeof *r);
        if (r == NULL) sim__end(s, SIM_LIMIT, "memory-limit", "limit: out of memory for a port's queue");
        for (uint32_t i = 0; i < p->count; i++) r[i] = p->ring[(p->head + i) & (p->cap - 1)];
        free(p->ring);
        p->ring = r;
        p->cap = cap;
        p->head = 0;
    }
    /* The ring is indexed with cap - 1 as a mask. */
    SIM_CHECK(s, p->count < p->cap && (p->cap & (p->cap - 1)) == 0, "a port's ring has room and a power-of-two size");
    p->ring[(p->head + p->count) & (p->cap - 1)] = *pk;
    p->count++;
}

static kern_packet ring_pop(sim_ctx *s, kern_port *p) {
    SIM_CHECK(s, p->count > 0 && p->head < p->cap, "a packet is popped from a non-empty queue");
    kern_packet pk = p->ring[p->head];
    p->head = (p->head + 1) & (p->cap - 1);
    p->count--;
    return pk;
}

/* Removes the packet of wait packet `wp` (NtCancelWaitCompletionPacket with
 * removeSignaled, §8); keeps the order of the others. */
bool kern_port_unqueue_wp(sim_ctx *s, uint32_t port, uint32_t wp) {
    kern_touch_port(s, port);
    kern_port *p = &kern(s)->ports[port];
    for (uint32_t i = 0; i < p->count; i++) {
        if (p->ring[(p->head + i) & (p->cap - 1)].wp != wp + 1) continue;
        for (uint32_t j = i; j + 1 < p->count; j++)
            p->ring[(p->head + j) & (p->cap - 1)] = p->ring[(p->head + j + 1) & (p->cap - 1)];
        p->count--;
        return true;
    }
    return false;
}

/* ---- Waiters and the concurrency limit (§4) ---- */

/* Threads bound to the port that are runnable, other than `except`: a thread
 * blocked anywhere (here, a sleep, a lock) does not count, as on Windows. */
static uint32_t active_count(sim_ctx *s, uint32_t port, uint32_t except) {
    kern_state *w = kern(s);
    uint32_t n = 0;
    for (uint32_t t = 0; t < s->nthreads; t++)
        if (t != except && w->th[t].bound == port + 1 && s->threads[t].state == SIM_T_RUNNABLE) n++;
    return n;
}

static bool limit_allows(sim_ctx *s, uint32_t port, uint32_t except) {
    const kern_port *p = &kern(s)->ports[port];
    return !p->enforce || p->limit == 0 || active_count(s, port, except) < p->limit;
}

/* Waiters still blocked in the call (one woken by its timeout is not). */
static uint64_t eligible(sim_ctx *s, kern_port *p) {
    uint64_t m = p->waiters, e = 0;
    SIM_CHECK(s, (m >> 1 >> (s->nthreads - 1)) == 0, "a port's waiters are threads");
    while (m != 0) {
        uint32_t t = sim__ctz64(m);
        m &= m - 1;
        const sim_thread *th = &s->threads[t];
        if (th->state == SIM_T_BLOCKED && (th->wait_kind == (sim_wait_kind)KERN_WAIT_GQCS ||
                                           th->wait_kind == (sim_wait_kind)KERN_WAIT_GQCSEX))
            e |= 1ull << t;
        else
            p->waiters &= ~(1ull << t);
    }
    return e;
}

/* Hands `pk` to a waiter, or (steal) wakes one and leaves it queued.
 * Returns false when it was queued without a handoff. */
static bool deliver(sim_ctx *s, uint32_t port, const kern_packet *pk, uint64_t elig, bool allow_steal) {
    kern_state *w = kern(s);
    kern_port *p = &w->ports[port];
    uint32_t lifo = 0, fifo = 0;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (uint64_t m = elig; m != 0; m &= m - 1) {
        uint32_t t = sim__ctz64(m);
        if (w->th[t].wait_seq >= hi) hi = w->th[t].wait_seq, lifo = t;
        if (w->th[t].wait_seq < lo) lo = w->th[t].wait_seq, fifo = t;
    }
    SIM_CHECK(s, ((elig >> lifo) & 1) && ((elig >> fifo) & 1), "a packet goes to an eligible waiter");
    uint32_t labels[3], n = 0;
    /* One waiter: LIFO and FIFO pick it alike; say FIFO where LIFO is not seen. */
    labels[n++] = fifo == lifo && !(sim_platform_seen(s->cfg.platform) & SIM_SEEN_WINDOWS) ? 1 : 0;
    if (fifo != lifo) labels[n++] = 1;
    if (allow_steal) labels[n++] = 2;
    uint32_t how = n > 1 ? labels[sim__choose(s, SIM_CHOICE_WAITER, n, labels, SIM_NO_CURRENT)] : 0;
    uint32_t t = how == 0 ? lifo : fifo;
    /* One waiter, handed the packet or woken to take it from the queue: the
     * two differ only if someone else touches the port before the waiter
     * takes it (a newcomer steals it, a packet joins its batch, a close), or
     * if the concurrency limit could stop the woken waiter (which reads the
     * threads' states, not logged), so only where it cannot bind. */
    if (n == 2 && allow_steal && (!p->enforce || p->limit == 0 || p->limit >= SIM_MAX_THREADS))
        sim__access_effect_except(s, SIM_ACC_KOBJ(SIM_KOBJ_PORT, port), t);
    SIM_CHECK(s, s->threads[t].state == SIM_T_BLOCKED && s->threads[t].wait_obj == port && w->th[t].bound == port + 1,
              "the waiter a packet goes to is blocked on that port");
    p->waiters &= ~(1ull << t);
    if (how == 2) {
        /* Older Wine / pre-Windows-10: the woken waiter competes for the
         * packet and may find it taken (§4). */
        ring_push(s, p, pk);
        w->th[t].stolen = true;
    } else {
        w->th[t].handed = true;
        w->th[t].packet = *pk;
    }
    sim__wake(s, t);
    return how != 2;
}

void kern_port_queue(sim_ctx *s, uint32_t port, const kern_packet *pk) {
    kern_state *w = kern(s);
    SIM_CHECK(s, port < w->nports, "a packet is queued to a port that exists");
    kern_touch_port(s, port);
    kern_port *p = &w->ports[port];
    w->dirty = true;
    if (p->waiters != 0) {
        uint64_t elig = eligible(s, p);
        if (elig != 0 && limit_allows(s, port, SIM_NO_CURRENT)) {
            deliver(s, port, pk, elig, true);
            return;
        }
    }
    ring_push(s, p, pk);
}

bool kern_port_starved(sim_ctx *s, uint32_t port) {
    kern_port *p = &kern(s)->ports[port];
    return p->count > 0 && eligible(s, p) != 0 && limit_allows(s, port, SIM_NO_CURRENT);
}

/* Kernel action: the active count dropped below the limit (a bound thread
 * blocked elsewhere or exited), so a waiter gets the oldest packet (§4). */
void kern_port_release(sim_ctx *s, uint32_t port) {
    kern_touch_port(s, port);
    kern_port *p = &kern(s)->ports[port];
    uint64_t elig = eligible(s, p);
    if (p->count == 0 || elig == 0) return;
    kern_packet pk = ring_pop(s, p);
    deliver(s, port, &pk, elig, false);
}

/* ---- Create, associate ---- */

static uint32_t new_port(sim_ctx *s, uint32_t concurrency) {
    kern_state *w = kern(s);
    if (w->nports >= KERN_MAX_PORTS)
        kern_limit(s, "port-limit", "limit: more than %u ports per execution (KERN_MAX_PORTS)", KERN_MAX_PORTS);
    uint32_t id = w->nports++;
    kern_port *p = &w->ports[id];
    p->open = true;
    p->limit = concurrency; /* 0: "number of CPUs"; the simulated machine has one per thread */
    p->enforce = false;
    if (concurrency != 0 && concurrency < s->cfg.max_threads) /* §4, §9.1: Wine ignores the limit */
        p->enforce = sim__choose(s, SIM_CHOICE_CONCURRENCY, 2, NULL, SIM_NO_CURRENT) == 0;
    p->h = kern_handle_new(s, KERN_H_PORT, id);
    sim__event(s, SIM_EV_PORT_CREATE, p->h, concurrency, p->enforce, 0);
    return id;
}

static shim_handle create_port(void *ctx, shim_handle file, shim_handle existing, uintptr_t key,
                               uint32_t concurrency) {
    sim_ctx *s = ctx;
    kern_state *w = kern(s);
    sim__sched_point(s);
    if (file == SHIM_INVALID_HANDLE) {
        if (existing != SHIM_NULL_HANDLE) { /* §1: invalid combination */
            kern_set_error(s, SHIM_ERROR_INVALID_PARAMETER);
            return SHIM_NULL_HANDLE;
        }
        return w->ports[new_port(s, concurrency)].h;
    }
    uint32_t sid, pid = 0;
    if (!kern_handle_get(w, file, KERN_H_SOCKET, &sid) ||
        (existing != SHIM_NULL_HANDLE && !kern_handle_get(w, existing, KERN_H_PORT, &pid))) {
        sim__event(s, SIM_EV_PORT_ASSOC, existing, file, key, SHIM_ERROR_INVALID_HANDLE);
        kern_set_error(s, SHIM_ERROR_INVALID_HANDLE);
        return SHIM_NULL_HANDLE;
    }
    kern_sock *so = &w->socks[sid];
    if (so->port != 0) {
        /* §1: one port per handle; FileCompletionInformation fails with
         * STATUS_INVALID_PARAMETER (87). (Wine 8 leaves 0, §11.) Wine closes a
         * port it just created for this, so check before creating. */
        sim__event(s, SIM_EV_PORT_ASSOC, existing, file, key, SHIM_ERROR_INVALID_PARAMETER);
        kern_set_error(s, SHIM_ERROR_INVALID_PARAMETER);
        return SHIM_NULL_HANDLE;
    }
    if (existing == SHIM_NULL_HANDLE) pid = new_port(s, concurrency);
    /* §1: late association still routes operations already pending: their
     * completion looks the port up on the socket when it happens. */
    so->port = pid + 1;
    so->key = key;
    sim__event(s, SIM_EV_PORT_ASSOC, w->ports[pid].h, file, key, 0);
    return w->ports[pid].h;
}

/* ---- Post (§5) ---- */

static bool post(void *ctx, shim_handle port, uint32_t bytes, uintptr_t key, shim_overlapped *ov) {
    sim_ctx *s = ctx;
    kern_state *w = kern(s);
    sim__sched_point(s);
    uint32_t pid;
    if (!kern_handle_get(w, port, KERN_H_PORT, &pid)) {
        kern_set_error(s, SHIM_ERROR_INVALID_HANDLE);
        return false;
    }
    /* Never validated: the overlapped is only numbered, never dereferenced. */
    kern_packet pk = {key, ov, bytes, SHIM_STATUS_SUCCESS, 0, ov != NULL ? kern_ov_ord(s, ov) : 0, 0};
    sim__event(s, SIM_EV_PORT_POST, port, key, pk.ov_ord, bytes);
    kern_port_queue(s, pid, &pk);
    return true;
}

/* ---- Dequeue (§3) ---- */

/* Wait deadline for `timeout_ms`: quantized to the tick, ending early (the
 * tick boundary before the due time), on time, or late (the next boundary),
 * a choice 'o' among the distinct ones (§3). -1: forever. */
static int64_t wait_deadline(sim_ctx *s, uint32_t timeout_ms) {
    if (timeout_ms == SHIM_INFINITE) return -1;
    kern_touch_clock(s);
    int64_t due = s->now_ns + (int64_t)timeout_ms * 1000000;
    int64_t tick = s->cfg.tick_ns;
    if (tick <= 0) return due;
    int64_t early = due / tick * tick, late = early + tick;
    int64_t when[3] = {early, due, late};
    uint32_t labels[3], n = 0;
    for (uint32_t i = 0; i < 3; i++) {
        /* "Early" is the tick boundary before the due time, and only if it is
         * still ahead: some time always passes in a finite wait, or a loop
         * of short waits could spin forever at one instant, which real time
         * never allows. */
        if (i == 0 && early <= s->now_ns) continue;
        if (n == 0 || when[labels[n - 1]] != when[i]) labels[n++] = i;
    }
    if (n < 2) return when[labels[0]];
    uint32_t pick = labels[sim__choose(s, SIM_CHOICE_TIMEOUT, n, labels, SIM_NO_CURRENT)];
    /* The deadline differs between the alternatives, and nothing else: a
     * wait that ends for another reason before the clock reaches the
     * earliest of them never tells them apart (clock.c logs the firing). */
    sim__access_effect(s, s->ndecisions - 1, SIM_ACC_KOBJ(SIM_KOBJ_DEADLINE, s->current));
    return when[pick];
}

/* Takes between `lo` and min(max, queued) packets into out (choice 'b';
 * labels are the total batch size including `base` already taken). */
static uint32_t take(sim_ctx *s, kern_port *p, kern_packet *out, uint32_t max, uint32_t lo, uint32_t base) {
    uint32_t hi = max < p->count ? max : p->count;
    if (hi < lo) return 0;
    uint32_t n = lo;
    uint32_t seen = sim_platform_seen(s->cfg.platform);
    if (hi > lo && (seen & SIM_SEEN_WHATIF)) {
        uint32_t *labels = kern_labels(s, hi - lo + 1);
        for (uint32_t i = 0; i <= hi - lo; i++) labels[i] = base + lo + i;
        n = lo + sim__choose(s, SIM_CHOICE_BATCH, hi - lo + 1, labels, SIM_NO_CURRENT);
    } else if (hi > lo) {
        /* Seen: Windows takes every queued entry that fits, Wine (and older
         * systems) one after a wake-up (§3); sizes in between are what-ifs. */
        bool w = (seen & SIM_SEEN_WINDOWS) != 0, o = (seen & (SIM_SEEN_WINE | SIM_SEEN_OLD_WINDOWS)) != 0;
        uint32_t labels[2] = {base + lo, base + hi};
        n = w && o ? (sim__choose(s, SIM_CHOICE_BATCH, 2, labels, SIM_NO_CURRENT) ? hi : lo) : w ? hi : lo;
    }
    for (uint32_t i = 0; i < n; i++) out[i] = ring_pop(s, p);
    return n;
}

/* The common dequeue: returns n >= 1 packets in out, or 0 with *err. */
static uint32_t dequeue(sim_ctx *s, shim_handle h, kern_packet *out, uint32_t max, uint32_t timeout_ms, bool ex,
                        uint32_t *err) {
    kern_state *w = kern(s);
    uint32_t pid, me = s->current;
    if (!kern_handle_get(w, h, KERN_H_PORT, &pid)) { /* §2: the close beat the wait */
        *err = SHIM_ERROR_INVALID_HANDLE;
        return 0;
    }
    kern_port *p = &w->ports[pid];
    kern_thread *t = &w->th[me];
    if (me >= w->th_used) w->th_used = me + 1;
    t->bound = pid + 1; /* §1: bound from its first dequeue call */
    t->handed = t->abandoned = t->stolen = false;
    bool blocked = false;
    int64_t deadline = -2;
    for (;;) {
        if (t->handed) {
            t->handed = false;
            out[0] = t->packet;
            /* Windows takes more already-queued entries without waiting; Wine
             * returns exactly 1 after blocking (§3): extra in [0, ...]. */
            return 1 + take(s, p, out + 1, max - 1, 0, 1);
        }
        if (t->abandoned) {
            *err = SHIM_ERROR_ABANDONED_WAIT_0;
            return 0;
        }
        if (blocked && s->threads[me].timed_out) {
            s->threads[me].timed_out = false;
            *err = SHIM_WAIT_TIMEOUT;
            return 0;
        }
        if (p->count > 0 && limit_allows(s, pid, me)) {
            /* §12 K5, §3: a call that did not block takes every queued
             * entry that fits; a short batch only after a wake-up. */
            uint32_t all = max < p->count ? max : p->count;
            return take(s, p, out, max, blocked ? 1 : all, 0);
        }
        if (timeout_ms == 0) {
            *err = SHIM_WAIT_TIMEOUT;
            return 0;
        }
        /* Older Wine restarts the full timeout after losing a packet (§4). */
        if (deadline == -2 || t->stolen) deadline = wait_deadline(s, timeout_ms);
        t->stolen = false;
        p->waiters |= 1ull << me;
        t->wait_seq = ++w->wait_seq;
        w->dirty = true;
        sim__event(s, SIM_EV_PORT_WAIT, h, timeout_ms, (uint64_t)(deadline < 0 ? -1 : deadline - s->now_ns), 0);
        sim__block(s, ex ? (sim_wait_kind)KERN_WAIT_GQCSEX : (sim_wait_kind)KERN_WAIT_GQCS, pid, deadline);
        kern_touch_port(s, pid); /* a new step: it reads what the port handed it */
        /* Woken by a packet, a steal, a close or the clock: exactly one reason. */
        SIM_CHECK(s, (uint32_t)t->handed + t->stolen + t->abandoned + s->threads[me].timed_out <= 1,
                  "a port waiter wakes for one reason");
        p->waiters &= ~(1ull << me);
        w->dirty = true;
        blocked = true;
    }
}

static void dequeued(sim_ctx *s, shim_handle h, const kern_packet *pk) {
    if (pk->op != 0) kern_op_dequeued(s, pk);
    if (pk->wp != 0) kern_waitpkt_dequeued(s, pk->wp - 1);
    sim__event(s, SIM_EV_PORT_DEQUEUE, h, pk->key, pk->ov_ord, ((uint64_t)pk->status << 32) | (uint32_t)pk->info);
}

static bool gqcs(void *ctx, shim_handle port, uint32_t *bytes, uintptr_t *key, shim_overlapped **ov,
                 uint32_t timeout_ms) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    kern_packet pk;
    uint32_t err = 0;
    if (dequeue(s, port, &pk, 1, timeout_ms, false, &err) == 0) {
        *ov = NULL;
        sim__event(s, SIM_EV_PORT_FAIL, port, err, 0, 0);
        kern_set_error(s, err);
        return false;
    }
    dequeued(s, port, &pk);
    *bytes = (uint32_t)pk.info; /* DWORD truncation of Information (§3) */
    *key = pk.key;
    *ov = pk.ov;
    if (kern_nt_failed(pk.status)) { /* Wine: FALSE for negative status, warnings included (§3) */
        kern_set_error(s, kern_nt_to_win32(pk.status));
        return false;
    }
    return true;
}

static bool gqcs_ex(void *ctx, shim_handle port, shim_overlapped_entry *entries, uint32_t count, uint32_t *removed,
                    uint32_t timeout_ms, bool alertable) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    (void)alertable; /* the simulator queues no APCs, so 192 never happens */
    uint32_t err = 0, n = 0;
    kern_packet stack_pk[64];
    kern_packet *pk = stack_pk;
    if (count > 64) pk = sim_alloc(s, (size_t)count * sizeof *pk);
    if (count == 0)
        err = SHIM_ERROR_INVALID_PARAMETER; /* §3: 87 for ulCount == 0 */
    else
        n = dequeue(s, port, pk, count, timeout_ms, true, &err);
    if (n == 0) {
        /* §12 K3: a timeout writes 1 on Windows and Wine; other failures
         * write 0 or 1, unspecified (§3). */
        *removed = err == SHIM_WAIT_TIMEOUT ? 1 : sim__choose(s, SIM_CHOICE_REMOVED, 2, NULL, SIM_NO_CURRENT);
        sim__event(s, SIM_EV_PORT_FAIL, port, err, *removed, 0);
        kern_set_error(s, err);
        return false;
    }
    for (uint32_t i = 0; i < n; i++) {
        dequeued(s, port, &pk[i]);
        entries[i].key = pk[i].key;
        entries[i].overlapped = pk[i].ov;
        entries[i].internal = pk[i].status; /* the NTSTATUS (§3) */
        entries[i].bytes = (uint32_t)pk[i].info;
    }
    *removed = n;
    return true;
}

/* ---- Close (§2) ---- */

bool kern_port_close(sim_ctx *s, shim_handle h, uint32_t pid) {
    kern_state *w = kern(s);
    SIM_CHECK(s, pid < w->nports && w->ports[pid].open && w->ports[pid].h == h, "a closed port was open");
    kern_port *p = &w->ports[pid];
    kern_handle_free(w, h);
    p->open = false;
    uint64_t elig = p->waiters != 0 ? eligible(s, p) : 0;
    uint32_t mode = 0;
    if (elig != 0) {
        /* Windows abandons them with 735; Wine 8 and older Wine keep them
         * waiting until their timeout (§2, §4, §11). A waiter already handed
         * a packet is not a waiter any more and keeps it. */
        mode = sim__choose(s, SIM_CHOICE_ABANDON, 2, NULL, SIM_NO_CURRENT);
        if (mode == 0) {
            for (uint64_t m = elig; m != 0; m &= m - 1) {
                uint32_t t = sim__ctz64(m);
                w->th[t].abandoned = true;
                sim__wake(s, t);
            }
            p->waiters = 0;
        }
    }
    sim__event(s, SIM_EV_HANDLE_CLOSE, h, 0, mode == 0 ? sim__popcount64(elig) : 0, 0);
    w->dirty = true;
    return true;
}

/* ---- Monitor: packets never dequeued ---- */

const char *kern_port_leftovers(sim_ctx *s, uint32_t *count) {
    kern_state *w = kern(s);
    const char *out = "";
    uint32_t n = 0;
    for (uint32_t i = 0; i < w->nports; i++) {
        const kern_port *p = &w->ports[i];
        for (uint32_t j = 0; j < p->count; j++, n++) {
            const kern_packet *pk = &p->ring[(p->head + j) & (p->cap - 1)];
            if (n < KERN_LEFTOVERS_LISTED)
                out = sim_arena_printf(&s->arena, "%s  port h%llu: packet key %llu ov%u (0 = NULL) status 0x%08X bytes %llu never dequeued\n",
                                       out, (unsigned long long)p->h, (unsigned long long)pk->key, pk->ov_ord,
                                       pk->status, (unsigned long long)pk->info);
        }
    }
    if (n > KERN_LEFTOVERS_LISTED) out = sim_arena_printf(&s->arena, "%s  ... and %u more packets\n", out, n - KERN_LEFTOVERS_LISTED);
    *count = n;
    return out;
}

void kern_port_fill(shim *sh) {
    sh->create_io_completion_port = create_port;
    sh->get_queued_completion_status = gqcs;
    sh->get_queued_completion_status_ex = gqcs_ex;
    sh->post_queued_completion_status = post;
}
