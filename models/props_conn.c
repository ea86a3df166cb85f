/* props_conn.c - the property of the socket calls' failures.
 *
 * Like the others: one event before it is applied to the shared state
 * (walk.h), and e == NULL once at the end.
 */
#include "../shim/fault.h"
#include "walk.h"

/* fault-reported (Go's internal/poll and net: a system call that fails is
 * the operation's error, wrapped as os.NewSyscallError(name, err); the user
 * sees the call's own errno, never a success, another error or a hang): a
 * socket call that the fault shim failed at once (families sock and
 * sockio: WSASocketW, bind, setsockopt, WSAIoctl, shutdown, AcceptEx,
 * ConnectEx, WSARecvFrom, WSASendTo) inside an accept, dial, shutdown,
 * recvfrom or sendto ends that operation with error(that code). The one
 * exception is Go's accept loop: an AcceptEx that fails with WSAECONNRESET
 * is the connection's error, not the listener's, and the accept goes on
 * (TestAcceptIgnoreSomeErrors; sim/kernel/FACTS.md S6). A fault outside an
 * operation (a socket the setup makes) is not the poller's.
 * Vacuous without fault knobs (faults_sock, faults_sockio).
 */
static bool reports_faults(uint32_t kind) {
    return kind == MOP_ACCEPT || kind == MOP_DIAL || kind == MOP_SHUTDOWN || kind == MOP_RECVFROM ||
           kind == MOP_SENDTO;
}

void mp_fault_reported(mw *w, const model_event *e) {
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
    if (op->ended || op->fault_err == 0) return;
    if (a[2] == MOUT_ERROR && a[3] == op->fault_err) return;
    mw_fail(w, MP_FAULT_REPORTED, MW_SEQS(op->fault_seq, e->seq),
            "#%llu (%s) ended %s(%lld) at [%llu], but a socket call it made failed with %u at [%llu]: the call's "
            "error is the operation's",
            (unsigned long long)op->slot, model_op_name(op->kind), model_outcome_name(a[2]), (long long)a[3],
            (unsigned long long)e->seq, op->fault_err, (unsigned long long)op->fault_seq);
}
