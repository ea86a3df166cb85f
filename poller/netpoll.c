/* netpoll.c - the port core: init, break, poll(delay), dispatch by key source.
 *
 * One completion port for everything. A completion key packs a source
 * (ready, break, timer) with a pollDesc slot number; a packet's overlapped is
 * only trusted once the pollDesc stored just after it equals the key's
 * (go.dev/issue/58870): user I/O on an associated handle completes to our
 * port with our key but with an overlapped we do not own.
 */
#include <stdio.h>
#include <stdlib.h>

#include "np_internal.h"

static void default_fatal(void *arg, const char *msg) {
    (void)arg;
    fprintf(stderr, "fatal error: %s\n", msg);
    abort();
}

void np__fatal(np_poller *p, const char *msg) {
    p->cfg.fatal(p->cfg.fatal_arg, msg);
    abort(); /* the hook must not return */
}

const char *np_mutant_name(void) {
#define NP_MUTANT_NAME(num, NAME, name, row) \
    if (NP_MUTANT == num) return #name;
    NP_MUTANT_LIST(NP_MUTANT_NAME)
#undef NP_MUTANT_NAME
    return "none";
}

const char *np_strerror(int err) {
    switch (err) {
    case NP_OK: return "ok";
    case NP_ERR_CLOSING: return "use of closed network connection";
    case NP_ERR_TIMEOUT: return "i/o timeout";
    case NP_ERR_NOT_POLLABLE: return "not pollable";
    case NP_ERR_NO_MEMORY: return "out of pollDescs";
    default: return "win32 error";
    }
}

static void *default_alloc(void *arg, size_t size) {
    (void)arg;
    return calloc(1, size);
}

static void default_free(void *arg, void *ptr) {
    (void)arg;
    free(ptr);
}

uintptr_t np__key(uint32_t source, const np_pd *pd) {
    /* A slot number, not the pointer (netpoll.h): slot 0 is "no pollDesc". */
    return NP_KEY(source, pd != NULL ? pd->index : 0);
}

const char *np_check_shim(const shim *sh) { return shim_check(sh, SHIM_VERSION_2); }

np_poller *np_init(const shim *sh, const np_config *cfg) {
    np_config c = {0};
    if (cfg != NULL) c = *cfg;
    /* Refuse a seam this poller does not understand, before touching it. */
    if (np_check_shim(sh) != NULL) return NULL;
    if (c.procs == 0) c.procs = 1;
    if (c.max_fds == 0) c.max_fds = 64;
    if (c.fatal == NULL) c.fatal = default_fatal;
    if (c.alloc == NULL || c.free == NULL) {
        c.alloc = default_alloc;
        c.free = default_free;
    }
    np_poller *p = c.alloc(c.alloc_arg, sizeof *p);
    if (p == NULL) return NULL;
    p->sh = sh;
    p->ctx = sh->ctx;
    p->sy = sh->sync;
    p->syctx = sh->sync->ctx;
    p->cfg = c;
    /* Go: max(8, 64 / gomaxprocs), so each poller takes a fair share. */
    p->batch = 64 / c.procs;
    if (p->batch < 8) p->batch = 8;
    if (p->batch > NP_MAX_BATCH) p->batch = NP_MAX_BATCH;
    p->sy->mutex_init(p->syctx, &p->timer_lock);
    if (!np__cache_init(p)) {
        p->sy->mutex_destroy(p->syctx, &p->timer_lock);
        c.free(c.alloc_arg, p);
        return NULL;
    }
    /* Concurrency "unlimited": every runtime thread may poll at once. */
    p->port = sh->create_io_completion_port(p->ctx, SHIM_INVALID_HANDLE, SHIM_NULL_HANDLE, 0, 0xFFFFFFFFu);
    if (p->port == SHIM_NULL_HANDLE) {
        np_destroy(p);
        return NULL;
    }
    return p;
}

void np_destroy(np_poller *p) {
    if (p == NULL) return;
    /* Everything np_init created, in reverse: the pollDescs' primitives
     * (their last users were the descriptors, all closed by now), the locks,
     * the port. */
    np__cache_destroy(p);
    p->sy->mutex_destroy(p->syctx, &p->timer_lock);
    if (p->port != SHIM_NULL_HANDLE) p->sh->close_handle(p->ctx, p->port);
    p->cfg.free(p->cfg.alloc_arg, p->heap);
    p->cfg.free(p->cfg.alloc_arg, p->pds);
    p->cfg.free(p->cfg.alloc_arg, p);
}

const shim *np_shim(const np_poller *p) { return p->sh; }

bool np__open_port(np_poller *p, np_pd *pd) {
    shim_handle h = p->sh->create_io_completion_port(p->ctx, pd->fd, p->port, np__key(NP_SRC_READY, pd), 0);
    return h != SHIM_NULL_HANDLE;
}

/* ---- Break ---- */

void np_break(np_poller *p) {
    /* At most one break packet in flight: the flag is cleared only when the
     * packet is consumed, so a flood of wakeups posts once. */
    if (!NP_MUTANT_IS(BREAK_NO_CAS) && !p->sy->atomic_cas32(p->syctx, &p->wakesig, 0, 1)) return;
    if (!p->sh->post_queued_completion_status(p->ctx, p->port, 0, np__key(NP_SRC_BREAK, NULL), NULL))
        np__fatal(p, "runtime: netpoll: PostQueuedCompletionStatus failed");
}

/* ---- Waiters ---- */

void np_ready(np_poller *p, np_list *list) {
    np_waiter *w = list->head;
    list->head = NULL;
    list->n = 0;
    while (w != NULL) {
        np_waiter *next = w->next;
        w->next = NULL;
        p->sy->sema_post(p->syctx, &w->sema);
        w = next;
    }
}

void np_adjust_waiters(np_poller *p, int32_t delta) {
    if (NP_MUTANT_IS(WAITERS_NO_DELTA)) return;
    if (NP_MUTANT_IS(WAITERS_DOUBLE_DELTA)) delta *= 2;
    if (delta != 0) p->sy->atomic_add32(p->syctx, &p->waiters, delta);
}

uint32_t np_waiters(np_poller *p) { return p->sy->atomic_load32(p->syctx, &p->waiters); }

/* ---- The high-resolution timer path (Go 1.23+) ---- */

np_m *np_m_create(np_poller *p) {
    const shim *sh = p->sh;
    if ((sh->caps & SHIM_CAP_WAIT_PACKETS) == 0) return NULL;
    np_m *m = p->cfg.alloc(p->cfg.alloc_arg, sizeof *m);
    if (m == NULL) return NULL;
    m->timer = sh->create_waitable_timer(p->ctx, true);
    if (m->timer == SHIM_NULL_HANDLE || sh->nt_create_wait_completion_packet(p->ctx, &m->packet) != 0) {
        if (m->timer != SHIM_NULL_HANDLE) sh->close_handle(p->ctx, m->timer);
        p->cfg.free(p->cfg.alloc_arg, m);
        return NULL;
    }
    return m;
}

void np_m_destroy(np_poller *p, np_m *m) {
    if (m == NULL) return;
    p->sh->nt_cancel_wait_completion_packet(p->ctx, m->packet, true);
    p->sh->close_handle(p->ctx, m->packet);
    p->sh->close_handle(p->ctx, m->timer);
    p->cfg.free(p->cfg.alloc_arg, m);
}

/* Arms this thread's timer to queue a timer packet after `delay_ns`.
 * Returns true when the timer already expired (nothing will be queued). */
static bool queue_timer(np_poller *p, np_m *m, int64_t delay_ns) {
    const shim *sh = p->sh;
    /* The packet serves one wait at a time, and an earlier wakeup (a break or
     * I/O) may have left it armed: disarm it now, not at wakeup, because
     * another thread could still take the old packet meanwhile. */
    uint32_t st = sh->nt_cancel_wait_completion_packet(p->ctx, m->packet, true);
    if (NP_MUTANT_IS(TIMER_PENDING_OK) && st == SHIM_STATUS_PENDING) st = SHIM_STATUS_SUCCESS;
    if (st == SHIM_STATUS_PENDING) return false; /* being satisfied now: skip the precise timer this round */
    if (st != SHIM_STATUS_SUCCESS && st != SHIM_STATUS_CANCELLED)
        np__fatal(p, "runtime: netpoll: NtCancelWaitCompletionPacket failed");
    int64_t due = -(delay_ns / 100); /* relative, in 100 ns units */
    if (due == 0) due = -1;
    if (!sh->set_waitable_timer(p->ctx, m->timer, due)) np__fatal(p, "runtime: netpoll: SetWaitableTimer failed");
    bool signaled = false;
    st = sh->nt_associate_wait_completion_packet(p->ctx, m->packet, p->port, m->timer,
                                                 np__key(NP_SRC_TIMER, NULL), 0, 0, 0, &signaled);
    if (st != SHIM_STATUS_SUCCESS) np__fatal(p, "runtime: netpoll: NtAssociateWaitCompletionPacket failed");
    if (NP_MUTANT_IS(TIMER_IGNORE_SIGNALED)) signaled = false;
    return signaled;
}

/* ---- Poll ---- */

/* The operation an entry belongs to, or NULL for a packet we do not own. */
static np_op *op_from_entry(np_poller *p, const shim_overlapped_entry *e) {
    if (e->overlapped == NULL) return NULL;
    np_op *op = (np_op *)(void *)e->overlapped;
    if (NP_MUTANT_IS(FOREIGN_CAST) || NP_MUTANT_IS(NO_KEY_MATCH)) return op;
    /* Compare before any dereference: in a foreign OVERLAPPED the field just
     * past it is user memory. A stale slot number is safe to turn into a
     * pointer: pollDescs are freed only by np_destroy. */
    uint32_t slot = (uint32_t)NP_KEY_SLOT(e->key);
    np_pd *pd = np__pd_from_index(p, slot);
    if (pd == NULL || op->pd != pd) return NULL;
    return op;
}

int32_t np_poll(np_poller *p, np_m *m, int64_t delay_ns, np_list *ready) {
    const shim *sh = p->sh;
    if (p->port == SHIM_NULL_HANDLE) return 0;
    if (!NP_MUTANT_IS(NO_DELAY_CLAMP) && delay_ns > NP_MAX_DELAY_NS) delay_ns = NP_MAX_DELAY_NS;
    bool timer_armed = false;
    if (delay_ns > 0 && m != NULL) {
        if (queue_timer(p, m, delay_ns)) return 0; /* already due: nothing to wait for */
        timer_armed = true;
    }
    uint32_t wait_ms;
    if (delay_ns < 0)
        wait_ms = SHIM_INFINITE;
    else if (delay_ns == 0)
        wait_ms = 0;
    else if (delay_ns < 1000000)
        wait_ms = NP_MUTANT_IS(SUBMS_ZERO) ? 0 : 1; /* round up: 0 would spin */
    else
        wait_ms = (uint32_t)(uint64_t)(delay_ns / 1000000); /* the clamp keeps this below INFINITE */
    /* The millisecond timeout stays as a backstop even with the precise timer
     * armed: any poller (a netpoll(0) included) may take the timer packet. */
    if (NP_MUTANT_IS(TIMER_INFINITE) && timer_armed) wait_ms = SHIM_INFINITE;

    shim_overlapped_entry entries[NP_MAX_BATCH];
    uint32_t n = 0;
    if (!sh->get_queued_completion_status_ex(p->ctx, p->port, entries, p->batch, &n, wait_ms, false)) {
        uint32_t err = sh->get_last_error(p->ctx);
        if (err == SHIM_WAIT_TIMEOUT) return 0;
        np__fatal(p, "runtime: netpoll failed (GetQueuedCompletionStatusEx)");
    }
    int32_t delta = 0;
    for (uint32_t i = 0; i < n; i++) {
        const shim_overlapped_entry *e = &entries[i];
        uint32_t src = NP_MUTANT_IS(FOREIGN_CAST) && e->overlapped != NULL ? NP_SRC_READY : NP_KEY_SRC(e->key);
        switch (src) {
        case NP_SRC_READY: {
            np_op *op = op_from_entry(p, e);
            if (op == NULL) break; /* not ours: ignore, never dereference */
            if (op->mode != 'r' && op->mode != 'w') np__fatal(p, "runtime: GetQueuedCompletionStatusEx returned net_op with invalid mode");
            delta += np__pd_ready(op->pd, op->mode, ready);
            break;
        }
        case NP_SRC_BREAK:
            /* Cleared only here, when the packet is consumed: a break posted
             * after this point posts a new packet. */
            if (!NP_MUTANT_IS(BREAK_NEVER_CLEAR) && !(NP_MUTANT_IS(BREAK_EPOLL_RULE) && delay_ns == 0))
                p->sy->atomic_store32(p->syctx, &p->wakesig, 0);
            /* A non-blocking poll may have taken the break meant for a blocked
             * one, and a dequeued packet cannot be put back: forward it. */
            if (delay_ns == 0 && !NP_MUTANT_IS(NO_BREAK_FORWARD)) np_break(p);
            break;
        case NP_SRC_TIMER:
            break; /* only wakes the poll */
        default:
            np__fatal(p, "runtime: GetQueuedCompletionStatusEx returned invalid key");
        }
    }
    return delta;
}
