/* polldesc.c - the pollDesc layer: readiness words, deadlines, evict/close.
 *
 * rg and wg each hold NIL, READY, WAIT or a parked waiter's number:
 *   READY  a notification is pending; the consumer turns it into NIL.
 *   WAIT   a thread is about to park; it commits by CAS to its number,
 *          otherwise I/O turns the word into READY, or a timeout or close
 *          into NIL, and the thread does not park.
 *   number a thread is parked: I/O sets READY, timeout or close sets NIL,
 *          and the thread is unparked.
 * One waiter per mode. closing, rd and wd change under the lock, and every
 * change is published to `info` (read without the lock) before any waiter
 * is unblocked, so a woken waiter always sees why it was woken.
 */
#include "np_internal.h"

#define WAITER_BASE 3u /* waiter numbers start above WAIT */

static inline const shim *SH(const np_pd *pd) { return pd->p->sh; }
static inline void *CTX(const np_pd *pd) { return pd->p->ctx; }
static inline const shim_sync *SY(const np_pd *pd) { return pd->p->sy; }
static inline void *SYCTX(const np_pd *pd) { return pd->p->syctx; }

/* ---- pollcache ---- */

bool np__cache_init(np_poller *p) {
    uint32_t n = p->cfg.max_fds;
    p->pds = p->cfg.alloc(p->cfg.alloc_arg, (size_t)n * sizeof *p->pds);
    if (p->pds == NULL) return false;
    p->sy->mutex_init(p->syctx, &p->cache_lock);
    /* Slots are handed out lowest first, so slot numbers are deterministic. */
    for (uint32_t i = n; i-- > 0;) {
        np_pd *pd = &p->pds[i];
        pd->index = i + 1;
        pd->p = p;
        pd->fdseq = 1;
        pd->rwaiter.id = WAITER_BASE + 2 * i;
        pd->wwaiter.id = WAITER_BASE + 2 * i + 1;
        p->sy->sema_init(p->syctx, &pd->rwaiter.sema, 0);
        p->sy->sema_init(p->syctx, &pd->wwaiter.sema, 0);
        p->sy->mutex_init(p->syctx, &pd->lock);
        pd->link = p->free;
        p->free = pd;
    }
    return true;
}

/* At np_destroy: every descriptor is closed and no thread is inside, so no
 * waiter can still be parked on a pollDesc's semaphores. */
void np__cache_destroy(np_poller *p) {
    for (uint32_t i = 0; i < p->cfg.max_fds; i++) {
        np_pd *pd = &p->pds[i];
        p->sy->sema_destroy(p->syctx, &pd->rwaiter.sema);
        p->sy->sema_destroy(p->syctx, &pd->wwaiter.sema);
        p->sy->mutex_destroy(p->syctx, &pd->lock);
    }
    p->sy->mutex_destroy(p->syctx, &p->cache_lock);
}

np_pd *np__pd_from_index(np_poller *p, uint32_t index) {
    if (index == 0 || index > p->cfg.max_fds) return NULL;
    return &p->pds[index - 1];
}

static np_waiter *waiter_of(np_pd *pd, uintptr_t v) {
    if (v == pd->rwaiter.id) return &pd->rwaiter;
    if (v == pd->wwaiter.id) return &pd->wwaiter;
    np__fatal(pd->p, "runtime: corrupted polldesc (unknown waiter)");
    return NULL;
}

/* Under pd->lock: closing, rd, wd and fdseq, seen by checkerr without it. */
static void publish_info(np_pd *pd) {
    uint32_t info = SY(pd)->atomic_load32(SYCTX(pd), &pd->fdseq) & NP_INFO_SEQ_MASK;
    if (pd->closing) info |= NP_INFO_CLOSING;
    if (pd->rd < 0) info |= NP_INFO_EXPIRED_READ;
    if (pd->wd < 0) info |= NP_INFO_EXPIRED_WRITE;
    SY(pd)->atomic_store32(SYCTX(pd), &pd->info, info);
}

static int check_err(np_pd *pd, int mode) {
    uint32_t info = SY(pd)->atomic_load32(SYCTX(pd), &pd->info);
    if (info & NP_INFO_CLOSING) return NP_ERR_CLOSING;
    if ((mode == 'r' && (info & NP_INFO_EXPIRED_READ)) || (mode == 'w' && (info & NP_INFO_EXPIRED_WRITE)))
        return NP_ERR_TIMEOUT;
    return NP_OK;
}

np_pd *np__pd_open(np_poller *p, shim_handle fd, int *err) {
    const shim *sh = p->sh;
    p->sy->mutex_lock(p->syctx, &p->cache_lock);
    np_pd *pd = p->free;
    if (pd != NULL) p->free = pd->link;
    p->sy->mutex_unlock(p->syctx, &p->cache_lock);
    if (pd == NULL) {
        *err = NP_ERR_NO_MEMORY;
        return NULL;
    }
    p->sy->mutex_lock(p->syctx, &pd->lock);
    uintptr_t rg = p->sy->atomic_load_ptr(p->syctx, &pd->rg), wg = p->sy->atomic_load_ptr(p->syctx, &pd->wg);
    if (rg != NP_PD_NIL && rg != NP_PD_READY) np__fatal(p, "runtime: blocked read on free polldesc");
    if (wg != NP_PD_NIL && wg != NP_PD_READY) np__fatal(p, "runtime: blocked write on free polldesc");
    pd->fd = fd;
    pd->closing = false;
    pd->rseq++;
    p->sy->atomic_store_ptr(p->syctx, &pd->rg, NP_PD_NIL);
    pd->rd = 0;
    pd->wseq++;
    p->sy->atomic_store_ptr(p->syctx, &pd->wg, NP_PD_NIL);
    pd->wd = 0;
    publish_info(pd);
    p->sy->mutex_unlock(p->syctx, &pd->lock);
    if (!np__open_port(p, pd)) {
        *err = (int)sh->get_last_error(p->ctx);
        if (*err == 0) *err = (int)SHIM_ERROR_INVALID_PARAMETER; /* Wine 8 leaves 0 (§11) */
        pd->closing = true;
        np__pd_close(pd);
        return NULL;
    }
    return pd;
}

/* Returns the pollDesc to the cache. The sequence bump and republish stop a
 * poll that still holds the old slot from marking the new user ready. */
void np__pd_close(np_pd *pd) {
    np_poller *p = pd->p;
    if (!pd->closing) np__fatal(p, "runtime: close polldesc w/o unblock");
    uintptr_t rg = p->sy->atomic_load_ptr(p->syctx, &pd->rg), wg = p->sy->atomic_load_ptr(p->syctx, &pd->wg);
    if (rg != NP_PD_NIL && rg != NP_PD_READY) np__fatal(p, "runtime: blocked read on closing polldesc");
    if (wg != NP_PD_NIL && wg != NP_PD_READY) np__fatal(p, "runtime: blocked write on closing polldesc");
    p->sy->mutex_lock(p->syctx, &pd->lock);
    uint32_t seq = p->sy->atomic_load32(p->syctx, &pd->fdseq) + 1;
    if ((seq & NP_INFO_SEQ_MASK) == 0) seq++; /* never 0 */
    p->sy->atomic_store32(p->syctx, &pd->fdseq, seq);
    publish_info(pd);
    p->sy->mutex_unlock(p->syctx, &pd->lock);
    p->sy->mutex_lock(p->syctx, &p->cache_lock);
    pd->link = p->free;
    p->free = pd;
    p->sy->mutex_unlock(p->syctx, &p->cache_lock);
}

/* ---- Blocking and unblocking ---- */

/* Returns true if I/O is ready, false on timeout or close (or a spurious
 * wake). With waitio, ignores errors and waits for the I/O packet itself. */
static bool netpollblock(np_pd *pd, int mode, bool waitio) {
    const shim_sync *sy = SY(pd);
    void *syctx = SYCTX(pd);
    volatile uintptr_t *gpp = mode == 'r' ? &pd->rg : &pd->wg;
    np_waiter *me = mode == 'r' ? &pd->rwaiter : &pd->wwaiter;
    for (;;) {
        if (sy->atomic_cas_ptr(syctx, gpp, NP_PD_READY, NP_PD_NIL)) return true;
        if (sy->atomic_cas_ptr(syctx, gpp, NP_PD_NIL, NP_PD_WAIT)) break;
        uintptr_t v = sy->atomic_load_ptr(syctx, gpp);
        if (v != NP_PD_READY && v != NP_PD_NIL) np__fatal(pd->p, "runtime: double wait");
    }
    /* Recheck after WAIT is visible: pairs with the other side's order
     * (publish the state, then look at rg/wg), so a close or deadline that
     * came in between is never missed. */
    if (waitio || NP_MUTANT_IS(NO_RECHECK) || check_err(pd, mode) == NP_OK) {
        if (sy->atomic_cas_ptr(syctx, gpp, NP_PD_WAIT, me->id)) {
            sy->atomic_add32(syctx, &pd->p->waiters, 1);
            sy->sema_wait(syctx, &me->sema, -1);
        }
    }
    /* Swap, not store: a READY set concurrently must not be lost. */
    uintptr_t old;
    if (NP_MUTANT_IS(FINAL_STORE)) {
        old = sy->atomic_load_ptr(syctx, gpp);
        sy->atomic_store_ptr(syctx, gpp, NP_PD_NIL);
    } else {
        old = sy->atomic_swap_ptr(syctx, gpp, NP_PD_NIL);
    }
    if (old > NP_PD_WAIT) np__fatal(pd->p, "runtime: corrupted polldesc");
    return old == NP_PD_READY;
}

/* Returns the parked waiter to wake (and counts it in *delta), or NULL. */
static np_waiter *netpollunblock(np_pd *pd, int mode, bool ioready, int32_t *delta) {
    const shim_sync *sy = SY(pd);
    void *syctx = SYCTX(pd);
    volatile uintptr_t *gpp = mode == 'r' ? &pd->rg : &pd->wg;
    for (;;) {
        uintptr_t old = sy->atomic_load_ptr(syctx, gpp);
        if (old == NP_PD_READY) return NULL;
        if (old == NP_PD_NIL && !ioready) return NULL; /* only I/O sets READY */
        uintptr_t next = ioready ? NP_PD_READY : NP_PD_NIL;
        if (sy->atomic_cas_ptr(syctx, gpp, old, next)) {
            if (old == NP_PD_WAIT || old == NP_PD_NIL) return NULL; /* never parked */
            *delta -= 1;
            return waiter_of(pd, old);
        }
    }
}

static void list_push(np_list *l, np_waiter *w) {
    if (w == NULL) return;
    w->next = l->head;
    l->head = w;
    l->n++;
}

int32_t np__pd_ready(np_pd *pd, int mode, np_list *list) {
    int32_t delta = 0;
    list_push(list, netpollunblock(pd, mode, true, &delta));
    return delta;
}

/* Wakes `list`, then applies the delta: waiters first, so the count never
 * says "nobody waits" while a woken thread has not yet run. */
static void ready_and_adjust(np_pd *pd, np_list *list, int32_t delta) {
    np_ready(pd->p, list);
    np_adjust_waiters(pd->p, delta);
}

/* ---- Entry points used by the fd layer ---- */

int np__pd_reset(np_pd *pd, int mode) {
    int err = check_err(pd, mode);
    if (err != NP_OK) return err;
    /* Wipe a stale READY left by an earlier operation. */
    SY(pd)->atomic_store_ptr(SYCTX(pd), mode == 'r' ? &pd->rg : &pd->wg, NP_PD_NIL);
    return NP_OK;
}

int np__pd_wait(np_pd *pd, int mode) {
    int err = check_err(pd, mode);
    if (err != NP_OK) return err;
    while (!netpollblock(pd, mode, false)) {
        err = check_err(pd, mode);
        if (err != NP_OK) return err;
        /* A timeout fired and the deadline was reset since: wait again. */
    }
    return NP_OK;
}

void np__pd_wait_canceled(np_pd *pd, int mode) {
    /* Close and timeout no longer matter: only the cancelled operation's own
     * packet may end this wait. */
    while (!netpollblock(pd, mode, true)) {
    }
}

void np__pd_evict(np_pd *pd) {
    np_poller *p = pd->p;
    p->sy->mutex_lock(p->syctx, &pd->lock);
    if (pd->closing) np__fatal(p, "runtime: unblock on closing polldesc");
    pd->closing = true;
    pd->rseq++;
    pd->wseq++;
    int32_t delta = 0;
    np_list list = {0};
    if (!NP_MUTANT_IS(PUBLISH_AFTER_UNBLOCK)) publish_info(pd);
    list_push(&list, netpollunblock(pd, 'r', false, &delta));
    list_push(&list, netpollunblock(pd, 'w', false, &delta));
    if (NP_MUTANT_IS(PUBLISH_AFTER_UNBLOCK)) publish_info(pd);
    if (pd->rrun) {
        np__timer_stop(p, &pd->rt);
        pd->rrun = false;
    }
    if (pd->wrun) {
        np__timer_stop(p, &pd->wt);
        pd->wrun = false;
    }
    p->sy->mutex_unlock(p->syctx, &pd->lock);
    ready_and_adjust(pd, &list, delta);
}

void np__pd_set_deadline(np_pd *pd, int64_t d_ns, int mode) {
    np_poller *p = pd->p;
    p->sy->mutex_lock(p->syctx, &pd->lock);
    if (pd->closing) {
        p->sy->mutex_unlock(p->syctx, &pd->lock);
        return;
    }
    int64_t rd0 = pd->rd, wd0 = pd->wd;
    bool combo0 = rd0 > 0 && rd0 == wd0;
    int64_t d = d_ns;
    if (d > 0) {
        int64_t now = p->sy->now_ns(p->syctx);
        d = d > INT64_MAX - now ? INT64_MAX : now + d;
    } else if (d < 0) {
        d = -1;
    }
    if (mode == 'r' || mode == 'r' + 'w') pd->rd = d;
    if (mode == 'w' || mode == 'r' + 'w') pd->wd = d;
    publish_info(pd);
    bool combo = pd->rd > 0 && pd->rd == pd->wd;
    np_timer_kind rkind = combo ? NP_TIMER_RW : NP_TIMER_READ;
    /* A timer armed with an older sequence fires into nothing: bump the
     * sequence whenever the deadline or its combo status changes. */
    bool bump = !NP_MUTANT_IS(DEADLINE_NO_SEQ);
    if (!pd->rrun) {
        if (pd->rd > 0) {
            np__timer_modify(p, &pd->rt, pd->rd, rkind, pd, pd->rseq);
            pd->rrun = true;
        }
    } else if (pd->rd != rd0 || combo != combo0) {
        if (bump) pd->rseq++;
        if (pd->rd > 0) {
            np__timer_modify(p, &pd->rt, pd->rd, rkind, pd, pd->rseq);
        } else {
            np__timer_stop(p, &pd->rt);
            pd->rrun = false;
        }
    }
    if (!pd->wrun) {
        if (pd->wd > 0 && !combo) {
            np__timer_modify(p, &pd->wt, pd->wd, NP_TIMER_WRITE, pd, pd->wseq);
            pd->wrun = true;
        }
    } else if (pd->wd != wd0 || combo != combo0) {
        if (bump) pd->wseq++;
        if (pd->wd > 0 && !combo) {
            np__timer_modify(p, &pd->wt, pd->wd, NP_TIMER_WRITE, pd, pd->wseq);
        } else {
            np__timer_stop(p, &pd->wt);
            pd->wrun = false;
        }
    }
    /* A deadline set in the past unblocks the pending I/O now. */
    int32_t delta = 0;
    np_list list = {0};
    if (pd->rd < 0) list_push(&list, netpollunblock(pd, 'r', false, &delta));
    if (pd->wd < 0) list_push(&list, netpollunblock(pd, 'w', false, &delta));
    p->sy->mutex_unlock(p->syctx, &pd->lock);
    ready_and_adjust(pd, &list, delta);
}

void np__pd_deadline_fired(np_timer *t) {
    np_pd *pd = t->pd;
    np_poller *p = pd->p;
    bool read = t->kind == NP_TIMER_READ || t->kind == NP_TIMER_RW;
    bool write = t->kind == NP_TIMER_WRITE || t->kind == NP_TIMER_RW;
    p->sy->mutex_lock(p->syctx, &pd->lock);
    /* The descriptor was reused, or the deadline reset, since this timer was
     * armed: ignore it. */
    uint32_t current = read ? pd->rseq : pd->wseq;
    if (t->seq != current && !NP_MUTANT_IS(DEADLINE_NO_SEQ)) {
        p->sy->mutex_unlock(p->syctx, &pd->lock);
        return;
    }
    int32_t delta = 0;
    np_list list = {0};
    if (read) {
        if (pd->rd <= 0 || !pd->rrun) np__fatal(p, "runtime: inconsistent read deadline");
        pd->rd = -1;
        pd->rrun = false;
        publish_info(pd);
        list_push(&list, netpollunblock(pd, 'r', false, &delta));
    }
    if (write) {
        if (pd->wd <= 0 || (!pd->wrun && !read)) np__fatal(p, "runtime: inconsistent write deadline");
        pd->wd = -1;
        pd->wrun = false;
        publish_info(pd);
        list_push(&list, netpollunblock(pd, 'w', false, &delta));
    }
    p->sy->mutex_unlock(p->syctx, &pd->lock);
    ready_and_adjust(pd, &list, delta);
}
