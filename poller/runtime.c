/* runtime.c - the small loop that plays Go's scheduler for these tests.
 *
 * Deadline timers live in one heap under timer_lock, ordered by (when,
 * arming order). The loop: fire the timers that are due, poll with the delay
 * to the next one, ready the waiters the poll returned, apply the delta.
 * Arming a timer earlier than the blocked poll's wake time breaks that poll
 * (Go's wakeNetPoller): spurious wakeups are fine, a lost one would let a
 * deadline pass unnoticed. The poll's wake time is recorded under the same
 * lock that guards the heap, so no timer can slip in unseen between the
 * computation of the delay and the poll.
 */
#include "np_internal.h"

static bool timer_before(const np_timer *a, const np_timer *b) {
    if (a->when != b->when) return a->when < b->when;
    /* Ties: lower slot number first; deterministic, independent of addresses. */
    if (a->pd->index != b->pd->index) return a->pd->index < b->pd->index;
    return a->kind < b->kind;
}

static void heap_set(np_poller *p, uint32_t i, np_timer *t) {
    p->heap[i] = t;
    t->slot = i + 1;
}

static void heap_up(np_poller *p, uint32_t i) {
    np_timer *t = p->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!timer_before(t, p->heap[parent])) break;
        heap_set(p, i, p->heap[parent]);
        i = parent;
    }
    heap_set(p, i, t);
}

static void heap_down(np_poller *p, uint32_t i) {
    np_timer *t = p->heap[i];
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        const np_timer *best = t;
        if (l < p->nheap && timer_before(p->heap[l], best)) {
            m = l;
            best = p->heap[l];
        }
        if (r < p->nheap && timer_before(p->heap[r], best)) m = r;
        if (m == i) break;
        heap_set(p, i, p->heap[m]);
        i = m;
    }
    heap_set(p, i, t);
}

static void heap_remove(np_poller *p, np_timer *t) {
    uint32_t i = t->slot - 1;
    t->slot = 0;
    np_timer *last = p->heap[--p->nheap];
    if (i == p->nheap) return;
    heap_set(p, i, last);
    heap_down(p, i);
    heap_up(p, last->slot - 1);
}

static bool heap_reserve(np_poller *p) {
    if (p->heap != NULL) return true;
    /* Two timers per pollDesc at most. */
    p->heap = p->cfg.alloc(p->cfg.alloc_arg, 2 * (size_t)p->cfg.max_fds * sizeof *p->heap);
    return p->heap != NULL;
}

void np__timer_modify(np_poller *p, np_timer *t, int64_t when, np_timer_kind kind, np_pd *pd, uint32_t seq) {
    p->sy->mutex_lock(p->syctx, &p->timer_lock);
    if (!heap_reserve(p)) np__fatal(p, "runtime: out of memory for timers");
    if (t->slot != 0) heap_remove(p, t);
    t->when = when;
    t->kind = kind;
    t->pd = pd;
    t->seq = seq;
    heap_set(p, p->nheap++, t);
    heap_up(p, t->slot - 1);
    /* wakeNetPoller: the blocked poll would sleep past this timer. */
    bool wake = p->poll_until != 0 && when < p->poll_until;
    if (wake) p->poll_until = 0;
    p->sy->mutex_unlock(p->syctx, &p->timer_lock);
    if (wake) np_break(p);
}

void np__timer_stop(np_poller *p, np_timer *t) {
    p->sy->mutex_lock(p->syctx, &p->timer_lock);
    if (t->slot != 0) heap_remove(p, t);
    p->sy->mutex_unlock(p->syctx, &p->timer_lock);
}

/* Fires due timers; returns the delay to the next one (-1: none). With
 * `blocking`, records the wake time of the poll about to block, under the
 * lock, so a timer armed from now on sees it. */
static int64_t run_timers(np_poller *p, bool blocking) {
    for (;;) {
        p->sy->mutex_lock(p->syctx, &p->timer_lock);
        int64_t now = p->sy->now_ns(p->syctx);
        if (p->nheap > 0 && p->heap[0]->when <= now) {
            np_timer *t = p->heap[0];
            heap_remove(p, t);
            /* Snapshot what the callback needs: the pollDesc may re-arm `t`. */
            np_timer fired = *t;
            p->sy->mutex_unlock(p->syctx, &p->timer_lock);
            np__pd_deadline_fired(&fired);
            continue;
        }
        int64_t delay = -1;
        if (p->nheap > 0) delay = p->heap[0]->when - now;
        if (blocking) p->poll_until = delay < 0 ? INT64_MAX : p->heap[0]->when;
        p->sy->mutex_unlock(p->syctx, &p->timer_lock);
        return delay;
    }
}

int64_t np_run_timers(np_poller *p) { return run_timers(p, false); }

void np_run(np_poller *p, np_m *m) {
    while (p->sy->atomic_load32(p->syctx, &p->stopped) == 0) {
        int64_t delay = run_timers(p, true);
        np_list ready = {0};
        int32_t delta = np_poll(p, m, delay, &ready);
        p->sy->mutex_lock(p->syctx, &p->timer_lock);
        p->poll_until = 0;
        p->sy->mutex_unlock(p->syctx, &p->timer_lock);
        np_ready(p, &ready);
        np_adjust_waiters(p, delta);
    }
}

void np_stop(np_poller *p) {
    p->sy->atomic_store32(p->syctx, &p->stopped, 1);
    np_break(p);
}
