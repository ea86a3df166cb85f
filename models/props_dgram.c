/* props_dgram.c - the datagram property.
 *
 * Like the others: one event before it is applied to the shared state
 * (walk.h), and e == NULL once at the end.
 */
#include "walk.h"

/* datagram (UDP's contract as Winsock keeps it, sim/kernel/FACTS.md D1, D2,
 * D4; Go's FD.ReadFrom, internal/poll/fd_windows.go, and go.dev/issue/14074
 * for the bytes of a truncated datagram): a datagram is delivered whole,
 * truncated with the right error and count, or lost; never split, joined,
 * duplicated or invented.
 *
 * The harness numbers the datagrams the peer sends to each datagram fd
 * (MEV_PEER_SEND a3 = number + 1) and, for each recvfrom that returned
 * bytes, names the datagram those bytes are (MEV_OP_END a4 = number + 1 and
 * its length << 32; 0 when they are no datagram the peer sent, from the
 * first datagram after the last one returned). At a recvfrom's MEV_OP_END:
 *  (a) ok(n) and truncated(n) name a datagram (a4 != 0) that the peer sent:
 *      a recvfrom never returns bytes that are no whole datagram's or its
 *      head (split, joined or invented);
 *  (b) ok(n): n is the datagram's length (whole); truncated(n): the datagram
 *      is longer than the buffer and n is the buffer's length (the head, with
 *      WSAEMSGSIZE or ERROR_MORE_DATA and the bytes received, #14074);
 *  (c) the datagrams a fd's recvfroms return are numbered in increasing
 *      order: none twice (loopback keeps a sender's order; a skipped number
 *      is a lost datagram, which UDP allows).
 *  (d) a recvfrom of 0 bytes returns ok(0) and names no datagram: it
 *      receives nothing (Go's ReadFrom returns at once; a zero-length
 *      WSARecvFrom would take the head datagram and truncate it to nothing).
 * Vacuous: for outcomes other than ok and truncated (timeout, closed, error:
 * no datagram was returned; losing one to a timeout is bytes-conserved (d)'s).
 */
void mp_datagram(mw *w, const model_event *e) {
    if (e == NULL || e->kind != MEV_OP_END || e->a[1] != MOP_RECVFROM) return;
    const uint64_t *a = e->a;
    uint32_t i = mw_op_of_slot(w, a[0]);
    if (i == 0) return;
    mw_op *op = mw_op_at(w, i);
    if (op->ended || op->fd == MW_NO_FD) return;
    uint64_t num = a[4] & 0xFFFFFFFFu, len = a[4] >> 32, n = a[3], buf = (uint64_t)op->arg;
    if (buf == 0) { /* (d) a 0-byte recvfrom receives nothing: ok(0), no datagram taken */
        if (a[2] != MOUT_OK || n != 0 || num != 0)
            mw_fail(w, MP_DATAGRAM, MW_SEQS(op->begin_seq, e->seq),
                    "#%llu (recvfrom on fd%llu, a 0-byte buffer) returned %s(%llu) at [%llu]: an empty read takes no "
                    "datagram (Go's ReadFrom returns 0 at once)",
                    (unsigned long long)op->slot, (unsigned long long)op->fd, model_outcome_name(a[2]),
                    (unsigned long long)n, (unsigned long long)e->seq);
        return;
    }
    if (a[2] != MOUT_OK && a[2] != MOUT_TRUNC) return;
    mw_fd *f = mw_fd_get(w, op->fd);
    unsigned long long slot = (unsigned long long)op->slot, fd = (unsigned long long)op->fd;
    if (num == 0 || num > f->dgrams) {
        mw_fail(w, MP_DATAGRAM, MW_SEQS(op->begin_seq, e->seq),
                "#%llu (recvfrom on fd%llu) returned %s(%llu) at [%llu], bytes that are no datagram its peer sent "
                "after the last one returned (split, joined, stale or invented)",
                slot, fd, model_outcome_name(a[2]), (unsigned long long)n, (unsigned long long)e->seq);
        return;
    }
    if (a[2] == MOUT_OK && n != len) {
        mw_fail(w, MP_DATAGRAM, MW_SEQS(op->begin_seq, e->seq),
                "#%llu (recvfrom on fd%llu) returned ok(%llu) at [%llu] for datagram %llu of %llu bytes: not whole", slot,
                fd, (unsigned long long)n, (unsigned long long)e->seq, (unsigned long long)(num - 1),
                (unsigned long long)len);
        return;
    }
    if (a[2] == MOUT_TRUNC && (len <= buf || n != buf)) {
        mw_fail(w, MP_DATAGRAM, MW_SEQS(op->begin_seq, e->seq),
                "#%llu (recvfrom on fd%llu, a %llu-byte buffer) returned truncated(%llu) at [%llu] for datagram %llu of "
                "%llu bytes: a truncation gives the buffer's length in bytes, and only for a datagram longer than it",
                slot, fd, (unsigned long long)buf, (unsigned long long)n, (unsigned long long)e->seq,
                (unsigned long long)(num - 1), (unsigned long long)len);
        return;
    }
    if (num <= f->dg_last) {
        mw_fail(w, MP_DATAGRAM, MW_SEQS(f->dg_last_seq, e->seq),
                "#%llu (recvfrom on fd%llu) returned datagram %llu at [%llu], but datagram %llu was already returned at "
                "[%llu]: %s",
                slot, fd, (unsigned long long)(num - 1), (unsigned long long)e->seq,
                (unsigned long long)(f->dg_last - 1), (unsigned long long)f->dg_last_seq,
                num == f->dg_last ? "the same datagram twice" : "out of order");
        return;
    }
    f->dg_last = num;
    f->dg_last_seq = e->seq;
}
