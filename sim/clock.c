/* clock.c - the virtual clock and its timers.
 *
 * Time is an int64 count of nanoseconds that starts at 0 in every execution
 * and moves only when no thread can run: then it jumps to the earliest
 * pending deadline and wakes every thread due at that instant. Timers are a
 * binary min-heap ordered by (deadline, insertion sequence), so threads due
 * at the same instant wake in the order their timers were set, independent
 * of memory layout. Timers of threads woken early are left in the heap and
 * dropped when they surface (their wait generation no longer matches).
 */
#include <stdlib.h>

#include "sim_internal.h"

static bool timer_less(const sim_timer *a, const sim_timer *b) {
    if (a->deadline_ns != b->deadline_ns) return a->deadline_ns < b->deadline_ns;
    return a->seq < b->seq;
}

/* Sifts h[i] up; returns where it stopped. */
static uint32_t heap_up(sim_timer *h, uint32_t i) {
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!timer_less(&h[i], &h[p])) break;
        sim_timer t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
    return i;
}

/* Sifts h[i] down; returns where it stopped. */
static uint32_t heap_down(sim_timer *h, uint32_t n, uint32_t i) {
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && timer_less(&h[l], &h[m])) m = l;
        if (r < n && timer_less(&h[r], &h[m])) m = r;
        if (m == i) return i;
        sim_timer t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static bool timer_live(sim_ctx *s, const sim_timer *t) {
    if (t->thread == SIM_KERNEL) return s->kernel != NULL && s->kernel->timer_live(s, t->gen);
    SIM_CHECK(s, t->thread < s->nthreads, "a timer belongs to a thread or the kernel");
    const sim_thread *th = &s->threads[t->thread];
    return th->state == SIM_T_BLOCKED && th->wait_gen == t->gen;
}

/* The heap's order, checked where an operation stopped: against the
 * parent and the children of that one slot (O(1), not the whole heap). */
static void heap_check(sim_ctx *s, uint32_t i) {
    const sim_timer *h = s->timers;
    uint32_t l = 2 * i + 1, r = l + 1, n = s->ntimers;
    SIM_CHECK(s, i == 0 || !timer_less(&h[i], &h[(i - 1) / 2]), "a timer is not earlier than its parent");
    SIM_CHECK(s, (l >= n || !timer_less(&h[l], &h[i])) && (r >= n || !timer_less(&h[r], &h[i])),
              "a timer is not later than its children");
}

static void heap_pop(sim_ctx *s) {
    SIM_CHECK(s, s->ntimers > 0 && s->ntimers <= s->timer_cap, "a timer is popped from a non-empty heap");
    s->timers[0] = s->timers[--s->ntimers];
    if (s->ntimers > 0) heap_check(s, heap_down(s->timers, s->ntimers, 0));
}

static void timer_push(sim_ctx *s, uint32_t owner, uint32_t gen, int64_t deadline_ns) {
    SIM_CHECK(s, owner == SIM_KERNEL || (owner < s->nthreads && s->threads[owner].state == SIM_T_BLOCKED),
              "a timer is set for the kernel or a thread that blocks");
    /* Drop dead entries at the top first, so the heap holds at most a few
     * stale timers per thread. */
    while (s->ntimers > 0 && !timer_live(s, &s->timers[0])) heap_pop(s);
    if (s->ntimers == s->timer_cap) {
        uint32_t cap = s->timer_cap * 2;
        sim_timer *t = realloc(s->timers, cap * sizeof *t);
        if (t == NULL) sim__end(s, SIM_LIMIT, "memory-limit", "limit: out of memory for timers");
        s->timers = t;
        s->timer_cap = cap;
    }
    sim_timer *t = &s->timers[s->ntimers];
    t->deadline_ns = deadline_ns < s->now_ns ? s->now_ns : deadline_ns;
    t->seq = s->timer_seq++;
    t->thread = owner;
    t->gen = gen;
    uint32_t at = heap_up(s->timers, s->ntimers++);
    heap_check(s, at);
}

void sim__timer_add(sim_ctx *s, uint32_t thread, int64_t deadline_ns) {
    timer_push(s, thread, s->threads[thread].wait_gen, deadline_ns);
}

void sim__kernel_timer_add(sim_ctx *s, uint32_t id, int64_t deadline_ns) { timer_push(s, SIM_KERNEL, id, deadline_ns); }

bool sim__clock_pending(sim_ctx *s) {
    while (s->ntimers > 0 && !timer_live(s, &s->timers[0])) heap_pop(s);
    return s->ntimers > 0;
}

int64_t sim__clock_next(sim_ctx *s) { return sim__clock_pending(s) ? s->timers[0].deadline_ns : -1; }

bool sim__clock_advance(sim_ctx *s) {
    while (s->ntimers > 0 && !timer_live(s, &s->timers[0])) heap_pop(s);
    if (s->ntimers == 0) return false;
    int64_t when = s->timers[0].deadline_ns;
    /* Timers are never set in the past (timer_push clamps): time only moves on. */
    SIM_CHECK(s, when >= s->now_ns, "the clock never goes back");
    if (when > s->now_ns) s->now_ns = when;
    uint64_t next_seq = 0;
    while (s->ntimers > 0 && s->timers[0].deadline_ns <= s->now_ns) {
        sim_timer t = s->timers[0];
        /* Due timers are never in the past and fire in the order they were set. */
        SIM_CHECK(s, t.deadline_ns == when && t.seq >= next_seq, "due timers fire at one instant, in order");
        next_seq = t.seq + 1;
        heap_pop(s);
        if (!timer_live(s, &t)) continue;
        if (t.thread == SIM_KERNEL) {
            /* Whoever moved the clock caused the kernel timer's firing: the
             * write orders it before the kernel's (waitpkt.c). */
            sim__access(s, SIM_ACC_OBJECT(SIM_ACC_CLOCK, 0), true);
            s->in_kernel = true;
            sim__access_begin(s);
            s->kernel->timer_fired(s, t.gen);
            s->in_kernel = false;
            continue;
        }
        s->threads[t.thread].timed_out = true;
        sim__wake(s, t.thread);
        /* The event is attributed to the woken thread. */
        uint32_t cur = s->current;
        s->current = t.thread;
        sim__event(s, SIM_EV_TIMEOUT, t.thread, (uint64_t)when, 0, 0);
        /* Its wait deadline fired: what tells a choice 'o' apart (port.c).
         * Not a kernel call's touch: the flag of the step it interrupts stays. */
        bool acc_kernel = s->acc_kernel;
        sim__access(s, SIM_ACC_KOBJ(SIM_KOBJ_DEADLINE, t.thread), true);
        s->acc_kernel = acc_kernel;
        s->current = cur;
    }
    return true;
}
