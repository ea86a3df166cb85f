/* fdio_dgram.c - the datagram paths of the fd layer: Go's FD.ReadFrom and
 * FD.WriteTo (internal/poll/fd_windows.go) over the same execIO, close and
 * deadline protocol as np_fd_read / np_fd_write (fdio.c).
 *
 * A datagram descriptor never sets skip-on-success: a datagram truncated at
 * once is a failed call whose packet Wine skips and Windows, as documented,
 * queues (sim/kernel/FACTS.md D3), so no rule could tell whether to wait for
 * it; Go leaves the flag off for UDP for the same kind of reason. Without
 * it every submission that starts, warnings included, ends with its packet.
 */
#include <string.h>

#include "np_internal.h"

np_fd *np_fd_open_dgram(np_poller *p, shim_handle sock, int *err) {
    if (!shim_has_sockets(p->sh)) {
        *err = (int)SHIM_ERROR_CALL_NOT_IMPLEMENTED;
        return NULL;
    }
    return np_fd_open(p, sock, false, err);
}

static int submit_recv_from(np_fd *fd, np_op *op, uint32_t *qty) {
    op->flags = 0;
    op->salen = (int)sizeof op->sa;
    memset(&op->sa, 0, sizeof op->sa);
    return fd->p->sh->wsa_recv_from(fd->p->ctx, fd->sock, &op->buf, 1, qty, &op->flags, &op->sa, &op->salen, &op->ov);
}

static int submit_send_to(np_fd *fd, np_op *op, uint32_t *qty) {
    return fd->p->sh->wsa_send_to(fd->p->ctx, fd->sock, &op->buf, 1, qty, 0, &op->sa, (int)sizeof op->sa, &op->ov);
}

int np_fd_read_from(np_fd *fd, void *buf, uint32_t len, uint32_t *n, shim_sockaddr_in *from) {
    *n = 0;
    if (len == 0) return NP_OK; /* as Go: no receive at all, so no datagram is consumed */
    int err = np__rw(fd, &fd->rop, &fd->rmu, submit_recv_from, buf, len, NULL, n);
    /* The address is the operation's until the next read: copy it out only
     * for a datagram actually taken (whole or truncated). */
    if (from != NULL && (err == NP_OK || err == (int)SHIM_WSAEMSGSIZE || err == (int)SHIM_ERROR_MORE_DATA))
        *from = fd->rop.sa;
    return err;
}

int np_fd_write_to(np_fd *fd, const void *buf, uint32_t len, const shim_sockaddr_in *to, uint32_t *n) {
    *n = 0;
    /* The destination goes into the write operation under the write lock,
     * with the buffer: np__rw copies it there. */
    return np__rw(fd, &fd->wop, &fd->wmu, submit_send_to, (char *)(uintptr_t)buf, len, to, n);
}
