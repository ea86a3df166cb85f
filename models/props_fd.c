/* props_fd.c - the properties about descriptors: deadline and close.
 *
 * Same shape as props_io.c: each function sees an event before it is
 * applied to the shared state (walk.h), and NULL at the end. References:
 * go-netpoll.md (GN) and iocp-facts.md (IF), by section.
 */
#include "walk.h"

static mw_op *running(mw *w, const model_event *e, uint32_t *index) {
    uint32_t i = mw_op_of_slot(w, e->a[0]);
    *index = i;
    if (i == 0 || mw_op_at(w, i)->ended) return NULL;
    return mw_op_at(w, i);
}

/* deadline (DESIGN.md property 6: a timeout is reported no earlier than its
 * deadline; close and deadline errors only where they are allowed; GN §2
 * pollSetDeadline, netpolldeadlineimpl and netpollcheckerr: Timeout only once
 * the mode's deadline has expired; GN §4 row 12: stale timers (rseq/wseq)
 * must not time out a reused or re-armed descriptor).
 *
 * The deadline in force for an fd and mode is its last MEV_DEADLINE (0
 * none, -1 past, else absolute ns; 'r'+'w' sets both); MEV_FD_OPEN clears
 * them. A deadline takes effect at the poller call (np_fd_set_deadline), not
 * at the harness's note of it: the note comes first (it reads the clock), so
 * until the call's MEV_DEADLINE_SET the previous deadline may still be the
 * poller's, and both count. For a read or write, E is the earliest expiry in
 * force at any moment from its MEV_OP_BEGIN to its MEV_OP_END (a deadline
 * moved later while it ran still counts, since its timer may have fired
 * first).
 *  (a) A read/write that ends with timeout had a deadline (E exists) and ends
 *      no earlier than E, less `slack_ns` when time is not virtual. No tick
 *      is allowed: deadlines are enforced by the poller's runtime timers,
 *      which fire only when the backend clock has reached them (GN §2); a
 *      port wait that ends a tick early (IF §3) only makes the runtime find
 *      the timer not yet due and poll again. The harness records the
 *      deadline before the poller reads the clock, so the poller's expiry is
 *      never earlier than E: on virtual time, a timeout before E is always a
 *      bug; on a real clock `slack_ns` covers the two clock reads.
 *  (b) Only reads and writes end with timeout; and a read/write that begins
 *      after its own thread set its mode's deadline to past (and nothing
 *      replaced it) ends with timeout or closed: a negative deadline expires
 *      at once (GN §2 pollSetDeadline) and prepare (pollReset) returns the
 *      error before any I/O is submitted (GN §3 execIO step 2, GN §4 row 10).
 *      Only the own thread's setting counts: another thread's may not have
 *      reached the poller yet, and a future deadline expires only when the
 *      runtime's timer has fired, which may be a tick after it.
 *  (c) A read/write ends with closed only if a close of its fd had begun
 *      before it ended (GN §2 netpollcheckerr: Closing once closing is set);
 *      a close ends with closed only if another close of that fd had begun
 *      (since the fd was opened) before it ended: of two racing closes, the
 *      one that began first may lose; other operations never end with closed.
 * Not checked: how late a timeout comes (a reader may wait behind another
 * one for the fd's read lock for any time). Vacuous for an operation that
 * began while MW_FD_OPEN_OPS others were running on its fd.
 */
void mp_deadline(mw *w, const model_event *e) {
    if (e == NULL || e->kind != MEV_OP_END) return;
    const uint64_t *a = e->a;
    uint32_t i;
    mw_op *op = running(w, e, &i);
    if (op == NULL) return;
    bool rw = model_op_is_rw(op->kind);
    char t1[32], t2[32];
    if (rw && op->past_own && a[2] != MOUT_TIMEOUT && a[2] != MOUT_CLOSED) {
        mw_fail(w, MP_DEADLINE, MW_SEQS(op->past_seq, op->begin_seq, e->seq),
                "#%llu (%s on fd%llu) began at [%llu] with its deadline past (set at [%llu] by the same thread) but "
                "did not end with timeout at [%llu]: prepare must fail before any I/O",
                (unsigned long long)op->slot, model_op_name(op->kind), (unsigned long long)op->fd,
                (unsigned long long)op->begin_seq, (unsigned long long)op->past_seq, (unsigned long long)e->seq);
        return;
    }
    if (a[2] == MOUT_TIMEOUT) {
        if (!rw) {
            mw_fail(w, MP_DEADLINE, MW_SEQS(op->begin_seq, e->seq), "#%llu, a %s, ended with timeout at [%llu]",
                    (unsigned long long)op->slot, model_op_name(op->kind), (unsigned long long)e->seq);
        } else if (op->exp_untracked) {
            return;
        } else if (op->min_exp == MW_NEVER) {
            mw_fail(w, MP_DEADLINE, MW_SEQS(op->begin_seq, e->seq),
                    "#%llu (%s on fd%llu) ended with timeout at [%llu], but no %s deadline was in force while it ran",
                    (unsigned long long)op->slot, model_op_name(op->kind), (unsigned long long)op->fd,
                    (unsigned long long)e->seq, model_op_name(op->kind));
        } else if (op->min_exp != MW_EXPIRED) {
            int64_t slack = w->opt->virtual_time ? 0 : w->opt->slack_ns;
            if (e->time_ns < op->min_exp - slack)
                mw_fail(w, MP_DEADLINE, MW_SEQS(op->min_exp_seq, op->begin_seq, e->seq),
                        "#%llu (%s on fd%llu) timed out at %s ([%llu]), before its deadline %s set at [%llu]",
                        (unsigned long long)op->slot, model_op_name(op->kind), (unsigned long long)op->fd,
                        mw_ms(e->time_ns, t1), (unsigned long long)e->seq, mw_ms(op->min_exp, t2),
                        (unsigned long long)op->min_exp_seq);
        }
    } else if (a[2] == MOUT_CLOSED) {
        if (rw || op->kind == MOP_SHUTDOWN) { /* np_fd_shutdown of a closed descriptor: Go's ErrNetClosing */
            mw_fd *f = mw_fd_get(w, op->fd);
            if (f->close_begin_at == 0)
                mw_fail(w, MP_DEADLINE, MW_SEQS(op->begin_seq, e->seq),
                        "#%llu (%s on fd%llu) ended with closed at [%llu], but no close of fd%llu had begun",
                        (unsigned long long)op->slot, model_op_name(op->kind), (unsigned long long)op->fd,
                        (unsigned long long)e->seq, (unsigned long long)op->fd);
        } else if (op->kind == MOP_CLOSE) {
            if (mw_fd_get(w, op->fd)->closes < 2)
                mw_fail(w, MP_DEADLINE, MW_SEQS(op->begin_seq, e->seq),
                        "#%llu, the only close of fd%llu, ended with closed at [%llu]", (unsigned long long)op->slot,
                        (unsigned long long)op->fd, (unsigned long long)e->seq);
        } else {
            mw_fail(w, MP_DEADLINE, MW_SEQS(op->begin_seq, e->seq), "#%llu, a %s, ended with closed at [%llu]",
                    (unsigned long long)op->slot, model_op_name(op->kind), (unsigned long long)e->seq);
        }
    }
}

/* An OVERLAPPED of an operation on `sock` whose packet is still queued. */
static uint64_t queued_op_ov(mw *w, mw_sock *s, uint64_t *sub_seq) {
    for (uint32_t m = 0; m < 2; m++) {
        if (s->op_ov[m] == 0) continue;
        mw_ov *o = mw_ov_get(w, s->op_ov[m]);
        if (o->def_op == 0) continue;
        *sub_seq = o->def_seq;
        return s->op_ov[m];
    }
    *sub_seq = 0;
    return 0;
}

/* close (DESIGN.md property 7: after close returns, nothing waits on that
 * descriptor and no completion reaches a reused descriptor; GN §3 Close and
 * its invariant "the handle is closed and the pd recycled only after every
 * execIO has consumed its packet"; GN §4 row 14 (#59545, Windows analogue:
 * close-no-wait); IF §2: a closed socket's pending operations still queue
 * their packets, possibly after closesocket returned).
 *  (a) An operation on an fd (read, write or close) that begins after a
 *      close of that fd returned ends with closed.
 *  (b) The poller closes a socket (MEV_CLOSESOCKET) only when no packet that
 *      an operation's submission on it queued is still outstanding, and a
 *      close of an fd returns (MEV_OP_END of a close) only then.
 *  (c) No packet of an operation's OVERLAPPED is dequeued with the ready key
 *      of a pollDesc slot (key >> 4) whose latest association
 *      (MEV_ASSOCIATE) is of another socket than the one the OVERLAPPED was
 *      submitted on: the slot was reused while the packet was in flight.
 *  (d) A descriptor opened on a pollDesc slot (its socket's association
 *      key) that an earlier descriptor had gets another np_fd_seq than that
 *      one (MEV_FD_OPEN a2): netpoll.h promises the sequence "changes when
 *      its slot is reused", and Go's pollDesc.fdseq keeps a stale poll from
 *      readying the new descriptor.
 * Vacuous: (b) counts only packets certainly queued by operations'
 * submissions (foreign I/O on the socket is the user's business).
 */
void mp_close(mw *w, const model_event *e) {
    if (e == NULL) return;
    const uint64_t *a = e->a;
    uint64_t sub = 0, ov;
    switch (e->kind) {
    case MEV_FD_OPEN: {
        uint64_t slot = mw_sock_get(w, a[1])->slot;
        mw_slot *sl = slot != 0 ? mw_slot_get(w, slot - 1) : NULL;
        if (sl != NULL && sl->fd_at != 0 && sl->fdseq == a[2])
            mw_fail(w, MP_CLOSE, MW_SEQS(sl->fd_at - 1, e->seq),
                    "fd%llu opened at [%llu] on pollDesc slot %llu with sequence %llu, the sequence of the slot's "
                    "previous descriptor (opened at [%llu]): np_fd_seq did not change when the slot was reused",
                    (unsigned long long)a[0], (unsigned long long)e->seq, (unsigned long long)(slot - 1),
                    (unsigned long long)a[2], (unsigned long long)(sl->fd_at - 1));
        return;
    }
    case MEV_OP_END: {
        uint32_t i;
        mw_op *op = running(w, e, &i);
        if (op == NULL || op->fd == MW_NO_FD) return;
        if (op->closed_before_at != 0 && a[2] != MOUT_CLOSED) {
            mw_fail(w, MP_CLOSE, MW_SEQS(op->closed_before_at - 1, op->begin_seq, e->seq),
                    "#%llu (%s on fd%llu) began at [%llu], after fd%llu's close had returned at [%llu], yet did not end "
                    "with closed",
                    (unsigned long long)op->slot, model_op_name(op->kind), (unsigned long long)op->fd,
                    (unsigned long long)op->begin_seq, (unsigned long long)op->fd,
                    (unsigned long long)(op->closed_before_at - 1));
            return;
        }
        if (op->kind != MOP_CLOSE || a[2] != MOUT_OK) return;
        mw_fd *f = mw_fd_get(w, op->fd);
        if (f->sock == 0) return;
        ov = queued_op_ov(w, mw_sock_get(w, f->sock), &sub);
        if (ov != 0)
            mw_fail(w, MP_CLOSE, MW_SEQS(sub, e->seq),
                    "the close of fd%llu returned at [%llu] while ov%llu, submitted by an operation at [%llu], still had "
                    "its packet queued",
                    (unsigned long long)op->fd, (unsigned long long)e->seq, (unsigned long long)ov,
                    (unsigned long long)sub);
        return;
    }
    case MEV_CLOSESOCKET:
        ov = queued_op_ov(w, mw_sock_get(w, a[0]), &sub);
        if (ov != 0)
            mw_fail(w, MP_CLOSE, MW_SEQS(sub, e->seq),
                    "socket h%llu was closed at [%llu] while ov%llu, submitted by an operation at [%llu], still had its "
                    "packet queued",
                    (unsigned long long)a[0], (unsigned long long)e->seq, (unsigned long long)ov,
                    (unsigned long long)sub);
        return;
    case MEV_DEQUEUE: {
        if (a[2] == 0 || NP_KEY_SRC(a[1]) != NP_SRC_READY) return;
        mw_ov *o = mw_ov_get(w, a[2]);
        if (o->sub_op == 0) return;
        uint32_t si = model_map_find(&w->slots.map, NP_KEY_SLOT(a[1]));
        if (si == 0) return;
        mw_slot *s = &w->slots.v[si - 1];
        if (s->sock == 0 || s->sock == o->sock) return;
        mw_fail(w, MP_CLOSE, MW_SEQS(o->sub_at - 1, s->assoc_seq, e->seq),
                "the packet of ov%llu, submitted on socket h%llu at [%llu], was dequeued at [%llu] with slot %llu's key "
                "after slot %llu had been given to socket h%llu at [%llu]",
                (unsigned long long)a[2], (unsigned long long)o->sock, (unsigned long long)(o->sub_at - 1),
                (unsigned long long)e->seq, (unsigned long long)NP_KEY_SLOT(a[1]), (unsigned long long)NP_KEY_SLOT(a[1]),
                (unsigned long long)s->sock, (unsigned long long)s->assoc_seq);
        return;
    }
    default: return;
    }
}
