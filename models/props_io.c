/* props_io.c - the properties about packets and bytes: one-completion,
 * overlapped-lifetime, bytes-conserved, foreign-packets.
 *
 * Each function sees one event before it is applied to the shared state
 * (walk.h), and e == NULL once at the end of the trace. The comment above
 * each says exactly what it checks and which reference fact it encodes:
 * go-netpoll.md (GN) and iocp-facts.md (IF), by section.
 */
#include "walk.h"

static uint32_t op_for_end(mw *w, const model_event *e, mw_op **out) {
    uint32_t i = mw_op_of_slot(w, e->a[0]);
    *out = NULL;
    if (i == 0) return 0;
    mw_op *op = mw_op_at(w, i);
    if (op->ended) return 0;
    *out = op;
    return i;
}

static bool is_rw(uint32_t kind) { return model_op_is_rw(kind); }

/* A wakeup the operation's own packet cannot explain: the poller reads the
 * result (MEV_GET_RESULT) of an OVERLAPPED an operation submitted while that
 * submission's packet is still queued, or the read says ERROR_IO_INCOMPLETE. */
static bool premature_result(mw_ov *o, const model_event *e) {
    return o->sub_op != 0 && (o->def > 0 || (!e->a[2] && e->a[3] == SHIM_ERROR_IO_INCOMPLETE));
}

/* A packet foreign to the poller, carrying this socket's key, was dequeued
 * after the OVERLAPPED's last submission. */
static bool foreign_since(mw *w, uint64_t sock, const mw_ov *o) {
    return mw_sock_get(w, sock)->foreign_deq_at > o->sub_at;
}

/* one-completion (DESIGN.md property 1: each submitted operation yields
 * exactly one completion, each wait exactly one wakeup; GN §4 global oracle
 * "at most one completion per operation", GN §4 row 9 "every wakeup matches
 * its own operation"; IF §6 which submissions queue a packet).
 *
 * A submission (MEV_SUBMIT) queues a packet when it is pending (997), or
 * when it completed at once (0, or the warnings WSAEMSGSIZE / ERROR_MORE_DATA,
 * which still queue one, IF §6) and skip-on-success is not known to be
 * effective on its socket (MEV_SET_MODES with the flag, ok, and an IFS
 * provider: IF §6, KB 2568167). When the provider is unknown the packet may
 * or may not come. A MEV_POST with an OVERLAPPED queues one too.
 *  (a) Every MEV_DEQUEUE with an OVERLAPPED matches a packet queued for that
 *      OVERLAPPED and not yet dequeued: no operation completes twice.
 *  (b) The poller never reads an operation's result (MEV_GET_RESULT on an
 *      OVERLAPPED last submitted inside a read/write) while that submission's
 *      packet is still queued, and never gets ERROR_IO_INCOMPLETE (996) there:
 *      either way its wait ended on a packet that was not its own. When a
 *      packet foreign to the poller was dequeued with that socket's key since
 *      the submission, foreign-packets reports it instead.
 *  (c) Each MEV_OP_BEGIN has exactly one MEV_OP_END, naming the same
 *      operation, before its slot begins again; at MEV_QUIESCENT none is open.
 *  (d) At MEV_QUIESCENT every packet an operation's submission queued has
 *      been dequeued: each completion was consumed once.
 *  (e) A socket opened with skip_sync whose provider is IFS (MEV_FD_OPEN a3 =
 *      MODEL_SKIP_IFS, the interpreter's own socket_is_ifs after the open)
 *      has skip-on-success in effect (MEV_SET_MODES, made inside np_fd_open,
 *      before the note): netpoll.h's np_fd_open promises it, and without it
 *      every synchronous success costs a packet and a wait (Go enables it on
 *      IFS providers, #22149/#77448).
 * Undecidable parts hold vacuously: packets that may or may not come (provider
 * unknown) are allowed but not required, and dequeues are matched to certain
 * packets first, so (b) may miss a wakeup by such a packet (996 still shows
 * it); (c)'s and (d)'s end checks need MEV_QUIESCENT, since an execution that
 * stops with threads blocked is the simulator's deadlock, not a trace to judge.
 */
void mp_one_completion(mw *w, const model_event *e) {
    if (e == NULL) return;
    const uint64_t *a = e->a;
    switch (e->kind) {
    case MEV_FD_OPEN:
        if (a[3] == MODEL_SKIP_IFS && mw_sock_get(w, a[1])->skip != MW_SKIP_EFFECTIVE)
            mw_fail(w, MP_ONE_COMPLETION, MW_SEQS(e->seq),
                    "fd%llu was opened with skip_sync on an IFS provider, but np_fd_open did not set "
                    "FILE_SKIP_COMPLETION_PORT_ON_SUCCESS on socket h%llu",
                    (unsigned long long)a[0], (unsigned long long)a[1]);
        return;
    case MEV_DEQUEUE: {
        if (a[2] == 0) return;
        mw_ov *o = mw_ov_get(w, a[2]);
        if (o->def > 0 || o->maybe > 0) return;
        if (o->deq_at > o->sub_at && o->sub_at != 0)
            mw_fail(w, MP_ONE_COMPLETION, MW_SEQS(o->sub_at - 1, o->deq_at - 1, e->seq),
                    "ov%llu completed twice: its submission at [%llu] was dequeued at [%llu] and again at [%llu]",
                    (unsigned long long)a[2], (unsigned long long)(o->sub_at - 1), (unsigned long long)(o->deq_at - 1),
                    (unsigned long long)e->seq);
        else if (o->sub_at != 0)
            mw_fail(w, MP_ONE_COMPLETION, MW_SEQS(o->sub_at - 1, e->seq),
                    "a packet for ov%llu was dequeued at [%llu], but its submission at [%llu] queues none "
                    "(failed at once, or completed at once with skip-on-success effective)",
                    (unsigned long long)a[2], (unsigned long long)e->seq, (unsigned long long)(o->sub_at - 1));
        else
            mw_fail(w, MP_ONE_COMPLETION, MW_SEQS(e->seq),
                    "a packet for ov%llu was dequeued at [%llu], but none was outstanding for it (no submission or "
                    "post queued one since its last dequeue)",
                    (unsigned long long)a[2], (unsigned long long)e->seq);
        return;
    }
    case MEV_GET_RESULT: {
        if (a[1] == 0) return;
        mw_ov *o = mw_ov_get(w, a[1]);
        if (!premature_result(o, e) || foreign_since(w, a[0], o)) return;
        if (o->def > 0)
            mw_fail(w, MP_ONE_COMPLETION, MW_SEQS(o->sub_at - 1, e->seq),
                    "the poller read ov%llu's result at [%llu] while the packet of its submission at [%llu] was still "
                    "queued: its wait ended on a packet that was not its own",
                    (unsigned long long)a[1], (unsigned long long)e->seq, (unsigned long long)(o->sub_at - 1));
        else
            mw_fail(w, MP_ONE_COMPLETION, MW_SEQS(o->sub_at - 1, e->seq),
                    "the poller read ov%llu's result at [%llu] and got ERROR_IO_INCOMPLETE: the operation submitted "
                    "at [%llu] was still in flight, so its wait ended on a packet that was not its own",
                    (unsigned long long)a[1], (unsigned long long)e->seq, (unsigned long long)(o->sub_at - 1));
        return;
    }
    case MEV_OP_BEGIN: {
        uint32_t i = mw_op_of_slot(w, a[0]);
        if (i == 0 || mw_op_at(w, i)->ended) return;
        mw_op *op = mw_op_at(w, i);
        mw_fail(w, MP_ONE_COMPLETION, MW_SEQS(op->begin_seq, e->seq),
                "#%llu began again at [%llu] while its %s begun at [%llu] had not ended", (unsigned long long)a[0],
                (unsigned long long)e->seq, model_op_name(op->kind), (unsigned long long)op->begin_seq);
        return;
    }
    case MEV_OP_END: {
        mw_op *op;
        if (op_for_end(w, e, &op) == 0) {
            mw_fail(w, MP_ONE_COMPLETION, MW_SEQS(e->seq), "#%llu ended at [%llu] with no %s of that slot running",
                    (unsigned long long)a[0], (unsigned long long)e->seq, model_op_name((uint32_t)a[1]));
        } else if (op->kind != a[1]) {
            mw_fail(w, MP_ONE_COMPLETION, MW_SEQS(op->begin_seq, e->seq),
                    "#%llu began as a %s at [%llu] but ended as a %s at [%llu]", (unsigned long long)a[0],
                    model_op_name(op->kind), (unsigned long long)op->begin_seq, model_op_name((uint32_t)a[1]),
                    (unsigned long long)e->seq);
        }
        return;
    }
    case MEV_QUIESCENT: {
        if (w->open_ops > 0) {
            for (uint32_t i = 1; i <= w->ops.map.count; i++) {
                mw_op *op = mw_op_at(w, i);
                if (op->ended) continue;
                mw_fail(w, MP_ONE_COMPLETION, MW_SEQS(op->begin_seq, e->seq),
                        "#%llu (a %s begun at [%llu]) never ended, though the scenario reached its end at [%llu]",
                        (unsigned long long)op->slot, model_op_name(op->kind), (unsigned long long)op->begin_seq,
                        (unsigned long long)e->seq);
                return;
            }
        }
        if (w->out_op > 0) {
            for (uint32_t i = 1; i <= w->ovs.map.count; i++) {
                mw_ov *o = &w->ovs.v[i - 1];
                if (o->def_op == 0) continue;
                mw_fail(w, MP_ONE_COMPLETION, MW_SEQS(o->def_seq, e->seq),
                        "the packet of ov%llu's submission at [%llu] was never dequeued (end of scenario at [%llu])",
                        (unsigned long long)w->ovs.map.keys[i - 1], (unsigned long long)o->def_seq,
                        (unsigned long long)e->seq);
                return;
            }
        }
        return;
    }
    default: return;
    }
}

/* overlapped-lifetime (DESIGN.md property 4: no OVERLAPPED is resubmitted
 * or released while its packet is outstanding; GN §4 global oracle "no
 * OVERLAPPED reused while its packet is pending"; GN §3 invariant "the
 * handle is closed and the pd recycled only after every execIO has consumed
 * its packet", a memory-safety rule since Go 1.26 pools operations; GN §4
 * rows 8 and 9).
 *  (a) No MEV_SUBMIT of an OVERLAPPED that still has a packet certainly
 *      queued (see one-completion) and not yet dequeued.
 *  (b) No read or write ends (MEV_OP_END) while the packet of its own last
 *      submission is queued and not yet dequeued: execIO returned, releasing
 *      the OVERLAPPED, with its completion still to come.
 * Undecidable: packets that may or may not come (skip-on-success with the
 * provider unknown) are not counted as outstanding.
 */
void mp_overlapped_lifetime(mw *w, const model_event *e) {
    if (e == NULL) return;
    const uint64_t *a = e->a;
    if (e->kind == MEV_SUBMIT && a[1] != 0) {
        mw_ov *o = mw_ov_get(w, a[1]);
        if (o->def == 0) return;
        mw_fail(w, MP_OVERLAPPED_LIFETIME, MW_SEQS(o->def_seq, e->seq),
                "ov%llu was submitted again at [%llu] (%s on h%llu) while the packet queued at [%llu] was still "
                "outstanding",
                (unsigned long long)a[1], (unsigned long long)e->seq, a[2] == 'w' ? "send" : "recv",
                (unsigned long long)a[0], (unsigned long long)o->def_seq);
    } else if (e->kind == MEV_OP_END) {
        mw_op *op;
        uint32_t i = op_for_end(w, e, &op);
        if (i == 0 || !is_rw(op->kind) || op->last_ov == 0) return;
        mw_ov *o = mw_ov_get(w, op->last_ov);
        if (o->sub_op != i || o->def_op == 0) return;
        mw_fail(w, MP_OVERLAPPED_LIFETIME, MW_SEQS(op->last_sub_seq, e->seq),
                "#%llu (%s on fd%llu) ended at [%llu] while the packet of its submission of ov%llu at [%llu] was "
                "still queued: the OVERLAPPED was released with its completion outstanding",
                (unsigned long long)op->slot, model_op_name(op->kind), (unsigned long long)op->fd,
                (unsigned long long)e->seq, (unsigned long long)op->last_ov, (unsigned long long)op->last_sub_seq);
    }
}

/* bytes-conserved (DESIGN.md property 5: bytes sent = bytes read, in order,
 * none twice; a read whose I/O completed despite a timeout or cancel returns
 * its bytes; GN §3 execIO step 6.3 "success -> return qty: the I/O finished
 * before the cancel, and those bytes must not be lost"; GN §4 row 8; GN §4
 * global oracle "each transferred byte reported exactly once"; IF §7 a
 * cancelled operation may complete normally).
 *
 * Per scenario fd, the peer's bytes are numbered from 0 (MEV_PEER_SEND: a1
 * bytes at offset a2) and each read's MEV_OP_END gives its count (a3) and the
 * offset of its first byte (a4).
 *  (a) Reads return the stream in order, each byte once: an ok read's offset
 *      equals the bytes the fd's earlier reads returned (lower: bytes read
 *      twice; higher: bytes skipped).
 *  (b) By the end of the trace, the reads returned no byte the peer did not
 *      send.
 *  (c) When a read reached EOF and the peer was not reset, the reads returned
 *      every byte the peer sent.
 *  (d) A read or write that ends with timeout or closed did not have its own
 *      I/O complete with bytes: if its last submission completed (at once, or
 *      by its dequeued packet) with a success or warning status and a
 *      non-zero count, those bytes were lost.
 * Vacuous: (a)-(c) for fds the harness announced no bytes for (no
 * MEV_PEER_SEND and no read returning bytes); (c) after a peer reset, which
 * may discard buffered bytes.
 */
void mp_bytes_conserved(mw *w, const model_event *e) {
    char t1[32];
    if (e == NULL) {
        for (uint32_t i = 1; i <= w->fds.map.count; i++) {
            mw_fd *f = &w->fds.v[i - 1];
            unsigned long long fd = (unsigned long long)w->fds.map.keys[i - 1];
            if (f->next > f->sent)
                mw_fail(w, MP_BYTES_CONSERVED, MW_SEQS(f->last_read_at - 1),
                        "the reads of fd%llu returned %llu bytes, but its peer sent only %llu", fd,
                        (unsigned long long)f->next, (unsigned long long)f->sent);
            else if (f->eof_at != 0 && !f->reset && f->next < f->sent)
                mw_fail(w, MP_BYTES_CONSERVED, MW_SEQS(f->send_seq, f->eof_at - 1),
                        "fd%llu reached EOF at [%llu] after %llu bytes, but its peer sent %llu: bytes %llu..%llu were lost",
                        fd, (unsigned long long)(f->eof_at - 1), (unsigned long long)f->next,
                        (unsigned long long)f->sent, (unsigned long long)f->next, (unsigned long long)(f->sent - 1));
        }
        return;
    }
    if (e->kind != MEV_OP_END) return;
    const uint64_t *a = e->a;
    mw_op *op;
    uint32_t i = op_for_end(w, e, &op);
    if (i == 0 || !is_rw(op->kind)) return;
    if ((a[2] == MOUT_TIMEOUT || a[2] == MOUT_CLOSED) && op->last_ov != 0) {
        mw_ov *o = mw_ov_get(w, op->last_ov);
        if (o->sub_op == i && o->done && mw_status_ok(o->status) && o->bytes > 0) {
            mw_fail(w, MP_BYTES_CONSERVED, MW_SEQS(op->last_sub_seq, o->done_seq, e->seq),
                    "#%llu (%s on fd%llu) ended with %s at [%llu], but its I/O (ov%llu, submitted at [%llu]) had "
                    "completed with %u bytes at [%llu]: they were lost",
                    (unsigned long long)op->slot, model_op_name(op->kind), (unsigned long long)op->fd,
                    a[2] == MOUT_TIMEOUT ? "timeout" : "closed", (unsigned long long)e->seq,
                    (unsigned long long)op->last_ov, (unsigned long long)op->last_sub_seq, o->bytes,
                    (unsigned long long)o->done_seq);
            return;
        }
    }
    if (op->kind != MOP_READ || op->fd == MW_NO_FD || a[4] == MODEL_NO_OFFSET) return;
    mw_fd *f = mw_fd_get(w, op->fd);
    if (a[2] == MOUT_EOF && f->eof_at == 0) f->eof_at = e->seq + 1;
    if (a[2] != MOUT_OK || a[3] == 0) return;
    if (a[4] != f->next) {
        bool twice = a[4] < f->next;
        mw_fail(w, MP_BYTES_CONSERVED, MW_SEQS(f->last_read_at ? f->last_read_at - 1 : e->seq, e->seq),
                "#%llu read %llu bytes of fd%llu at stream offset %llu at [%llu] (%s), but the earlier reads had "
                "returned %llu bytes: %s",
                (unsigned long long)op->slot, (unsigned long long)a[3], (unsigned long long)op->fd,
                (unsigned long long)a[4], (unsigned long long)e->seq, mw_ms(e->time_ns, t1),
                (unsigned long long)f->next, twice ? "bytes returned twice" : "bytes skipped");
        return;
    }
    f->next = a[4] + a[3];
    f->last_read_at = e->seq + 1;
}

/* foreign-packets (DESIGN.md property 9: foreign packets are ignored, never
 * dereferenced, never wake anyone; GN §1 pollOperationFromOverlappedEntry and
 * go.dev/issue/58870; GN §4 rows 1 and 2 (#21172, #58870); IF §1 "the key is
 * never validated" and §5 posts carry any OVERLAPPED).
 *
 * A packet is foreign to the poller when its OVERLAPPED's last submission was
 * made outside any scenario operation (the user's own I/O on a socket the
 * poller associated, which completes with the poller's key), or it was
 * posted, or never submitted.
 *  (a) Every MEV_FOREIGN says its decoy is intact: the bytes just past the
 *      foreign OVERLAPPED, where the poller's operations keep their pollDesc,
 *      were never used as one.
 *  (b) No read or write wakes on a foreign packet: when the poller reads an
 *      operation's result while that operation's own packet is still queued
 *      (or gets ERROR_IO_INCOMPLETE), and a foreign packet with the same
 *      socket's key was dequeued since the operation's submission, the
 *      foreign packet woke it.
 * Vacuous: (a) without MEV_FOREIGN events; (b) for wakeups the trace cannot
 * see (an operation that never reads its result).
 */
void mp_foreign_packets(mw *w, const model_event *e) {
    if (e == NULL) return;
    const uint64_t *a = e->a;
    if (e->kind == MEV_FOREIGN && a[2] == 0) {
        mw_fail(w, MP_FOREIGN_PACKETS, MW_SEQS(e->seq),
                "the decoy behind the foreign ov%llu on fd%llu was written: the poller used a foreign OVERLAPPED's "
                "trailing bytes as its own",
                (unsigned long long)a[1], (unsigned long long)a[0]);
    } else if (e->kind == MEV_GET_RESULT && a[1] != 0) {
        mw_ov *o = mw_ov_get(w, a[1]);
        if (!premature_result(o, e) || !foreign_since(w, a[0], o)) return;
        uint64_t fseq = mw_sock_get(w, a[0])->foreign_deq_at - 1;
        mw_fail(w, MP_FOREIGN_PACKETS, MW_SEQS(fseq, o->sub_at - 1, e->seq),
                "the operation that submitted ov%llu at [%llu] woke before its own completion (result read at [%llu]): "
                "the foreign packet dequeued at [%llu] with h%llu's key woke it",
                (unsigned long long)a[1], (unsigned long long)(o->sub_at - 1), (unsigned long long)e->seq,
                (unsigned long long)fseq, (unsigned long long)a[0]);
    }
}
