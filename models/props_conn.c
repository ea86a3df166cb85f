/* props_conn.c - the property of the socket calls' failures.
 *
 * Like the others: one event before it is applied to the shared state
 * (walk.h), and e == NULL once at the end.
 */
#include "../shim/fault.h"
#include "walk.h"

/* call-result: an operation's result is its system calls' result.
 * (a) Go's internal/poll and net: a system call that fails is the
 * operation's error, wrapped as os.NewSyscallError(name, err); the user
 * sees the call's own errno, never a success, another error or a hang: a
 * socket call that the fault shim failed at once (families sock and
 * sockio: WSASocketW, bind, setsockopt, WSAIoctl, shutdown, AcceptEx,
 * ConnectEx, WSARecvFrom, WSASendTo) inside an accept, dial, shutdown,
 * recvfrom or sendto ends that operation with error(that code). The one
 * exception is Go's accept loop: an AcceptEx that fails with WSAECONNRESET
 * is the connection's error, not the listener's, and the accept goes on
 * (TestAcceptIgnoreSomeErrors; sim/kernel/FACTS.md S6). A fault outside an
 * operation (a socket the setup makes) is not the poller's.
 * Vacuous without fault knobs (faults_sock, faults_sockio).
 * (b) a dial that returns ok is a connection: the last ConnectEx it
 * submitted completed with success (Go's connect returns the ConnectEx's
 * error, or the context's when the deadline cancelled it; a cancelled or
 * refused ConnectEx never yields a conn). A connect that completed although
 * its deadline fired is a connection (§7) and passes.
 * (c) a dial or accept whose last ConnectEx / AcceptEx was cancelled
 * (STATUS_CANCELLED: only the deadline or the close cancels) ends timeout or
 * closed: Go's execIO returns the deadline's or the close's error, and the
 * accept or connect returns before any further call (SO_UPDATE_*_CONTEXT).
 */
#define STATUS_CANCELLED_NT 0xC0000120u

static bool reports_faults(uint32_t kind) {
    return kind == MOP_ACCEPT || kind == MOP_DIAL || kind == MOP_SHUTDOWN || kind == MOP_RECVFROM ||
           kind == MOP_SENDTO;
}

void mp_call_result(mw *w, const model_event *e) {
    if (e == NULL) return;
    const uint64_t *a = e->a;
    if (e->kind == MEV_FAULT) {
        if (a[1] == 0 || (a[0] != SHIM_FAULT_SOCK && a[0] != SHIM_FAULT_SOCKIO)) return;
        mw_thread *th = mw_thread_get(w, e->thread);
        mw_op *op = th->op != 0 ? mw_op_at(w, th->op) : NULL;
        if (op == NULL || op->ended || !reports_faults(op->kind)) return;
        if (op->kind == MOP_ACCEPT && a[1] == SHIM_WSAECONNRESET) return; /* retried, as Go does */
        if (op->fault_err == 0) {
            op->fault_err = (uint32_t)a[1];
            op->fault_seq = e->seq;
        }
        return;
    }
    if (e->kind != MEV_OP_END) return;
    uint32_t i = mw_op_of_slot(w, a[0]);
    if (i == 0) return;
    mw_op *op = mw_op_at(w, i);
    if (op->ended) return;
    if ((op->kind == MOP_DIAL || op->kind == MOP_ACCEPT) && op->last_ov != 0) {
        const mw_ov *o = mw_ov_get(w, op->last_ov);
        if (o->done && o->status == STATUS_CANCELLED_NT && a[2] != MOUT_TIMEOUT && a[2] != MOUT_CLOSED)
            mw_fail(w, MP_CALL_RESULT, MW_SEQS(o->done_seq, e->seq),
                    "#%llu (%s on fd%llu) ended %s(%lld) at [%llu], but its last %s was cancelled at [%llu]: a "
                    "cancel is the deadline's or the close's, so the result is timeout or closed",
                    (unsigned long long)op->slot, model_op_name(op->kind), (unsigned long long)op->fd,
                    model_outcome_name(a[2]), (long long)a[3], (unsigned long long)e->seq,
                    op->kind == MOP_DIAL ? "ConnectEx" : "AcceptEx", (unsigned long long)o->done_seq);
    }
    if (op->kind == MOP_DIAL && a[2] == MOUT_OK && op->last_ov != 0) {
        const mw_ov *o = mw_ov_get(w, op->last_ov);
        if (o->done && !mw_status_ok(o->status))
            mw_fail(w, MP_CALL_RESULT, MW_SEQS(o->done_seq, e->seq),
                    "#%llu (dial on fd%llu) ended ok at [%llu], but its ConnectEx ended with status 0x%08x at [%llu]: "
                    "no connection",
                    (unsigned long long)op->slot, (unsigned long long)op->fd, (unsigned long long)e->seq, o->status,
                    (unsigned long long)o->done_seq);
    }
    if (op->fault_err == 0) return;
    if (a[2] == MOUT_ERROR && a[3] == op->fault_err) return;
    mw_fail(w, MP_CALL_RESULT, MW_SEQS(op->fault_seq, e->seq),
            "#%llu (%s) ended %s(%lld) at [%llu], but a socket call it made failed with %u at [%llu]: the call's "
            "error is the operation's",
            (unsigned long long)op->slot, model_op_name(op->kind), model_outcome_name(a[2]), (long long)a[3],
            (unsigned long long)e->seq, op->fault_err, (unsigned long long)op->fault_seq);
}
