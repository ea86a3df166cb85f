/* props_wake.c - the properties about waking and waiting: no-lost-wakeup,
 * break-delivered, poll-delay, no-fatal.
 *
 * Same shape as props_io.c: each function sees an event before it is
 * applied to the shared state (walk.h), and NULL at the end. References:
 * go-netpoll.md (GN) and iocp-facts.md (IF), by section.
 */
#include <inttypes.h>

#include "walk.h"

/* no-lost-wakeup (DESIGN.md property 2: at quiescence no thread is still
 * parked in a poller wait; GN §2 netpollWaiters ("goes up by 1 at the park
 * commit and down through the delta"); GN §4 row 11 (#33624, #60782): the
 * waiter count must equal the parked goroutines at quiescence; GN §4 row 13;
 * "spurious wakeups are legal; lost ones are not").
 * Every MEV_QUIESCENT reports netpollWaiters (a0) = 0 and no thread parked
 * in the poller (a1) = 0. Vacuous without MEV_QUIESCENT: an execution that
 * ends with threads blocked is reported by the simulator as a deadlock.
 */
void mp_no_lost_wakeup(mw *w, const model_event *e) {
    if (e == NULL || e->kind != MEV_QUIESCENT) return;
    if (e->a[0] == 0 && e->a[1] == 0) return;
    mw_fail(w, MP_NO_LOST_WAKEUP, MW_SEQS(e->seq),
            "at the end of the scenario ([%llu]) netpollWaiters is %" PRId32 " and %llu thread(s) are still parked in "
            "the poller; both must be 0",
            (unsigned long long)e->seq, (int32_t)(uint32_t)e->a[0], (unsigned long long)e->a[1]);
}

/* break-delivered (DESIGN.md property 3: after break returns, a blocked (or
 * next blocking) poll returns; at most one break packet is queued at any
 * time; GN §1 netpollBreak and the Break case of netpoll (clear the flag;
 * netpoll(0) re-posts); GN §4 rows 3-5 (#42237, PR 36294 (a)-(c), #53434);
 * GN §4 global oracle "netpollWakeSig == 1 implies a break packet is queued
 * or being handled"; IF §4 a posted packet goes to a waiting thread).
 *
 * A break packet is a successful MEV_POST with the Break key of no pollDesc
 * (source 2, slot 0: key 2). A blocking wait is a MEV_WAIT_BEGIN with a
 * timeout other than 0; it returns at its thread's next MEV_DEQUEUE or
 * MEV_DEQUEUE_FAIL. A break packet is being handled from its dequeue by a
 * blocking wait until that thread begins its next wait or ends its direct
 * poll (MOP_POLL): the thread is awake and clears the wake flag before it
 * blocks again or returns (Go's "being handled").
 *  (a) Per port, at most one break packet is posted and not yet dequeued.
 *  (b) A break (MOP_BREAK) that begins while no break packet is being
 *      handled is owed a wakeup: the first blocking wait on the poller's port
 *      (the port of the break posts) to return after the break began delivers
 *      it, and every break owed before. If the break has ended by then, at
 *      time Tb, that wait, begun at Tw, must return by max(Tb, Tw) + slack: a
 *      packet posted to a port with a waiter wakes it at once, and a
 *      non-blocking poll that takes the break forwards it at once, so no
 *      virtual time may pass (slack_ns on a real clock). A break that begins
 *      while one is being handled may find the flag still set and post
 *      nothing, legitimately: the awake thread re-checks before blocking.
 * Vacuous: a wait that never returns is the simulator's deadlock; (b) is not
 * checked when break packets go to more than one port; a lost flag is only
 * seen once a break begins after its handler has blocked again.
 */
void mp_break_delivered(mw *w, const model_event *e) {
    if (e == NULL) return;
    const uint64_t *a = e->a;
    char t1[32], t2[32];
    switch (e->kind) {
    case MEV_POST: {
        if (!a[4] || a[1] != NP_BREAK_KEY) return;
        if (w->brk_port == 0) w->brk_port = a[0];
        else if (w->brk_port != a[0]) w->brk_ports_many = true;
        mw_port *p = mw_port_get(w, a[0]);
        if (p->breaks == 0) return;
        mw_fail(w, MP_BREAK_DELIVERED, MW_SEQS(p->break_seq, e->seq),
                "a second break packet was posted to port h%llu at [%llu] while the one posted at [%llu] was still "
                "queued",
                (unsigned long long)a[0], (unsigned long long)e->seq, (unsigned long long)p->break_seq);
        return;
    }
    case MEV_WAIT_BEGIN: {
        mw_thread *th = mw_thread_get(w, e->thread);
        if (th->brk_handling) {
            th->brk_handling = false;
            w->brk_handlers--;
        }
        return;
    }
    case MEV_OP_BEGIN:
        if (a[1] == MOP_BREAK && w->brk_handlers == 0) w->brk_open++;
        return;
    case MEV_OP_END:
        if (a[1] == MOP_POLL) {
            mw_thread *th = mw_thread_get(w, e->thread);
            if (th->brk_handling) {
                th->brk_handling = false;
                w->brk_handlers--;
            }
        }
        if (a[1] == MOP_BREAK && w->brk_open > 0 && !w->brk_ended) {
            w->brk_ended = true;
            w->brk_end_time = e->time_ns;
            w->brk_end_seq = e->seq;
        }
        return;
    case MEV_DEQUEUE:
    case MEV_DEQUEUE_FAIL: {
        mw_thread *th = mw_thread_get(w, e->thread);
        if (th->wait_timeout == 0 || w->brk_ports_many) return;
        if (w->brk_port != 0 && th->wait_port != w->brk_port) return;
        if (e->kind == MEV_DEQUEUE && a[1] == NP_BREAK_KEY && !th->brk_handling) {
            th->brk_handling = true;
            w->brk_handlers++;
        }
        if (!th->waiting) return; /* not the first entry of its batch */
        if (w->brk_ended) {
            int64_t by = w->brk_end_time > th->wait_time ? w->brk_end_time : th->wait_time;
            int64_t slack = w->opt->virtual_time ? w->opt->jump_ns : w->opt->slack_ns;
            if (e->time_ns > by + slack)
                mw_fail(w, MP_BREAK_DELIVERED, MW_SEQS(w->brk_end_seq, th->wait_seq, e->seq),
                        "the break that ended at [%llu] (%s) did not wake the poll blocked at [%llu]: it returned only "
                        "at %s ([%llu])",
                        (unsigned long long)w->brk_end_seq, mw_ms(w->brk_end_time, t1), (unsigned long long)th->wait_seq,
                        mw_ms(e->time_ns, t2), (unsigned long long)e->seq);
        }
        w->brk_open = 0;
        w->brk_ended = false;
        return;
    }
    default: return;
    }
}

/* Go's netpoll timeout for a delay (GN §1 netpoll steps 2 and 4). */
static uint64_t go_timeout_ms(int64_t d) {
    if (d < 0) return SHIM_INFINITE;
    if (d == 0) return 0;
    if (d < 1000000) return 1;
    if (d > NP_MAX_DELAY_NS) d = NP_MAX_DELAY_NS;
    return (uint64_t)(d / 1000000);
}

/* poll-delay (DESIGN.md property 8: poll(delay) returns by delay plus the
 * allowed lateness; GN §1 netpoll steps 2-4 (clamp at 1e15 ns; INFINITE, 0,
 * 1 ms under a millisecond, else truncated ms; the millisecond wait stays
 * as a backstop with the precise timer); GN §4 rows 6, 7 and 17; IF §3
 * timeouts are quantized to the tick and end at most one tick late; IF §4
 * older Wine: a waiter woken for a packet that another thread takes waits
 * again, restarting its full timeout).
 * For a direct poll (MOP_POLL with delay d = a3 of its MEV_OP_BEGIN), let
 * D = min(d, 1e15 ns), or 1 ms when 0 < d < 1 ms (the wait it asks for):
 *  (a) each wait it makes (MEV_WAIT_BEGIN on its thread while it runs) asks
 *      for Go's timeout of d: INFINITE if d < 0, 0 if d = 0, 1 ms if
 *      0 < d < 1 ms, else D / 1 ms, truncated;
 *  (b) if d >= 0, it ends (MEV_OP_END) by max(its begin, R) + D + tick_ns
 *      (+ slack_ns when time is not virtual), where R is the time of the last
 *      event of another thread before the end: the port may end a wait up to
 *      a tick after its due time, and restart it once more when a packet it
 *      was woken for is taken; whatever takes it acts, and records an event,
 *      at that moment. The precise timer is never later.
 *  (c) every wait on the port, the runtime loop's own included, asks for
 *      INFINITE or at most 1e15 ns in ms (1e9 ms): no delay converts to
 *      more, whatever timer the loop computed it from (GN §1 step 2).
 * A poll with d < 0 may block for ever (a lost wakeup is break-delivered's or
 * the simulator's deadlock). (a) and (b) are vacuous for the runtime loop's
 * polls, whose delay the harness does not announce; (b) is weak while other
 * threads are busy.
 */
void mp_poll_delay(mw *w, const model_event *e) {
    if (e == NULL) return;
    char t1[32], t2[32];
    if (e->kind == MEV_WAIT_BEGIN) {
        if (e->a[1] != SHIM_INFINITE && e->a[1] > (uint64_t)(NP_MAX_DELAY_NS / 1000000)) {
            mw_fail(w, MP_POLL_DELAY, MW_SEQS(e->seq),
                    "T%u waited on the port with a timeout of %" PRIu64 " ms at [%llu]: more than Go's clamp of any "
                    "delay (1e15 ns = %lld ms) and not INFINITE",
                    e->thread, e->a[1], (unsigned long long)e->seq, (long long)(NP_MAX_DELAY_NS / 1000000));
            return;
        }
        mw_thread *th = mw_thread_get(w, e->thread);
        if (th->op == 0) return;
        mw_op *op = mw_op_at(w, th->op);
        if (op->ended || op->kind != MOP_POLL) return;
        uint64_t want = go_timeout_ms(op->arg);
        if (e->a[1] == want) return;
        mw_fail(w, MP_POLL_DELAY, MW_SEQS(op->begin_seq, e->seq),
                "#%llu poll(%" PRId64 " ns) waited on the port with a timeout of %" PRIu64 " ms at [%llu]; Go's "
                "conversion gives %s%" PRIu64 "%s",
                (unsigned long long)op->slot, op->arg, e->a[1], (unsigned long long)e->seq,
                want == SHIM_INFINITE ? "INFINITE (" : "", want, want == SHIM_INFINITE ? ")" : " ms");
    } else if (e->kind == MEV_OP_END && e->a[1] == MOP_POLL) {
        uint32_t i = mw_op_of_slot(w, e->a[0]);
        if (i == 0) return;
        mw_op *op = mw_op_at(w, i);
        if (op->ended || op->kind != MOP_POLL || op->arg < 0) return;
        int64_t d = op->arg > NP_MAX_DELAY_NS ? NP_MAX_DELAY_NS : op->arg > 0 && op->arg < 1000000 ? 1000000 : op->arg;
        int64_t slack = w->opt->virtual_time ? w->opt->jump_ns : w->opt->slack_ns;
        int64_t from = mw_other_time(w, e) > op->begin_time ? mw_other_time(w, e) : op->begin_time;
        int64_t by = from + d + w->opt->tick_ns + slack;
        if (e->time_ns <= by) return;
        mw_fail(w, MP_POLL_DELAY, MW_SEQS(op->begin_seq, e->seq),
                "#%llu poll(%" PRId64 " ns) begun at [%llu] returned at %s ([%llu]), later than %s (delay + one tick "
                "after the last thing another thread did%s)",
                (unsigned long long)op->slot, op->arg, (unsigned long long)op->begin_seq, mw_ms(e->time_ns, t1),
                (unsigned long long)e->seq, mw_ms(by, t2), slack ? ", + slack" : "");
    }
}

/* no-fatal (DESIGN.md property 10: the poller's fatal path never fires on a
 * valid scenario; GN §1 the throws of netpoll and netpollBreak, GN §2
 * "double wait", "corrupted polldesc", "inconsistent read deadline", GN §3
 * execIO's panics, GN §4 rows 15 and 16).
 * The trace has no MEV_FATAL.
 */
void mp_no_fatal(mw *w, const model_event *e) {
    if (e == NULL || e->kind != MEV_FATAL) return;
    mw_fail(w, MP_NO_FATAL, MW_SEQS(e->seq), "the poller threw at [%llu]: %s", (unsigned long long)e->seq,
            e->text != NULL ? e->text : "");
}
