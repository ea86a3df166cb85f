/* fdio_conn.c - the stream paths of Go's fd layer: listen, accept, connect
 * (dial) and shutdown, over the same execIO and close protocol as reads
 * and writes (fdio.c).
 *
 * Accept is a read of the listener (Go: fd.readLock, fd.rop): a fresh
 * socket, AcceptEx into it through execIO, then SO_UPDATE_ACCEPT_CONTEXT,
 * and only then the new socket is opened for polled I/O. A connection its
 * client reset before the accept completed fails the AcceptEx with
 * ERROR_NETNAME_DELETED (GQCS) or WSAECONNRESET (WSAGetOverlappedResult):
 * that error is the connection's, not the listener's, so the loop closes
 * the socket and accepts again. Any other failure closes the fresh socket
 * and is reported: an accepted socket is handed out exactly once, or its
 * failure is.
 *
 * Dial is a write of the new socket (Go: fd.wop): open it for polled I/O,
 * set the write deadline from the dial's timeout, bind the wildcard
 * address (ConnectEx needs a bound socket), load ConnectEx, ConnectEx
 * through execIO, clear the deadline again, SO_UPDATE_CONNECT_CONTEXT. A
 * connect that completes although its deadline fired is a connection.
 */
#include <string.h>

#include "np_internal.h"

static inline const shim *SH(const np_fd *fd) { return fd->p->sh; }
static inline void *CTX(const np_fd *fd) { return fd->p->ctx; }

static int last_error(const np_poller *p) { return (int)p->sh->get_last_error(p->ctx); }

np_fd *np_fd_listen(np_poller *p, int backlog, uint16_t *port, int *err) {
    const shim *sh = p->sh;
    if (!shim_has_sockets(sh)) {
        *err = (int)SHIM_ERROR_CALL_NOT_IMPLEMENTED;
        return NULL;
    }
    shim_sockaddr_in a;
    shim_handle s = shim_loopback_socket(sh, SHIM_SOCK_STREAM, &a);
    if (s == SHIM_INVALID_HANDLE) {
        *err = last_error(p);
        return NULL;
    }
    if (sh->listen(p->ctx, s, backlog) != 0) {
        *err = last_error(p);
        sh->closesocket(p->ctx, s);
        return NULL;
    }
    *port = shim_ntohs(a.port);
    /* A listener's completions are its AcceptEx packets: the same pollDesc
     * and execIO as any socket; no skip-on-success (Go sets it on TCP
     * sockets alike, but a listener's synchronous accepts are rare and the
     * packet path is the one every backend has). */
    np_fd *fd = np_fd_open(p, s, false, err);
    if (fd == NULL) sh->closesocket(p->ctx, s);
    return fd;
}

static int submit_accept(np_fd *fd, np_op *op, uint32_t *qty) {
    /* BOOL, not a WSA int: TRUE is execIO's 0, FALSE its SOCKET_ERROR. */
    return SH(fd)->accept_ex(CTX(fd), fd->sock, op->handle, op->addrs, 0, SHIM_ACCEPT_ADDR_LEN, SHIM_ACCEPT_ADDR_LEN, qty,
                             &op->ov)
               ? 0
               : SHIM_SOCKET_ERROR;
}

/* Go's acceptOne: AcceptEx into a fresh socket, then inherit the
 * listener's properties. The fresh socket is closed on any failure. */
static int accept_one(np_fd *l, shim_handle s) {
    const shim *sh = SH(l);
    np_op *op = &l->rop;
    op->handle = s;
    uint32_t n = 0;
    int err = np__exec_io(l, op, submit_accept, &n);
    if (err == NP_OK &&
        sh->setsockopt(CTX(l), s, SHIM_SOL_SOCKET, SHIM_SO_UPDATE_ACCEPT_CONTEXT, &l->sock, (int)sizeof l->sock) != 0)
        err = last_error(l->p);
    return err;
}

int np_fd_accept(np_fd *l, bool try_skip_sync, np_fd **out) {
    const shim *sh = SH(l);
    np_poller *p = l->p;
    *out = NULL;
    if (!np__fd_incref(l)) return NP_ERR_CLOSING;
    p->sy->mutex_lock(p->syctx, &l->rmu); /* one accept at a time: it is the listener's read */
    shim_handle s = SHIM_INVALID_HANDLE;
    int err = NP_ERR_CLOSING;
    while (!np__fd_closed(l)) {
        s = sh->wsa_socket(p->ctx, SHIM_AF_INET, SHIM_SOCK_STREAM, SHIM_IPPROTO_TCP);
        if (s == SHIM_INVALID_HANDLE) {
            err = last_error(p);
            break;
        }
        err = accept_one(l, s);
        if (err == NP_OK) break;
        sh->closesocket(p->ctx, s);
        s = SHIM_INVALID_HANDLE;
        /* The connection was reset before AcceptEx completed: its error,
         * not the listener's. Go ignores these two and accepts again. */
        if (NP_MUTANT_IS(ACCEPT_NO_RETRY) ||
            (err != (int)SHIM_ERROR_NETNAME_DELETED && err != (int)SHIM_WSAECONNRESET))
            break;
    }
    p->sy->mutex_unlock(p->syctx, &l->rmu);
    np__fd_decref(l);
    if (err != NP_OK) return err;
    /* Go's newFD + init: the accepted socket joins the port only now. */
    *out = np_fd_open(p, s, try_skip_sync, &err);
    if (*out == NULL) sh->closesocket(p->ctx, s);
    return err;
}

static int submit_connect(np_fd *fd, np_op *op, uint32_t *qty) {
    (void)qty;
    return SH(fd)->connect_ex(CTX(fd), fd->sock, &op->sa, (int)sizeof op->sa, &op->ov) ? 0 : SHIM_SOCKET_ERROR;
}

/* Go's netFD.connect: the socket is not yet the caller's, so no lock is
 * needed; the reference keeps a close from racing it anyway. */
static int connect_fd(np_fd *fd, uint16_t port, int64_t timeout_ns) {
    const shim *sh = SH(fd);
    if (timeout_ns != 0) np_fd_set_deadline(fd, timeout_ns, 'w');
    shim_sockaddr_in any = shim_addr_in(0, 0);
    int err = NP_OK;
    if (sh->bind(CTX(fd), fd->sock, &any, (int)sizeof any) != 0 ||
        sh->wsa_ioctl_get_extension(CTX(fd), fd->sock, SHIM_WSAID_CONNECTEX) != 0)
        err = last_error(fd->p);
    if (err == NP_OK) {
        if (!np__fd_incref(fd)) return NP_ERR_CLOSING;
        fd->wop.sa = shim_addr_in(SHIM_INADDR_LOOPBACK, port);
        uint32_t n = 0;
        err = np__exec_io(fd, &fd->wop, submit_connect, &n);
        np__fd_decref(fd);
    }
    /* The dial's timeout is not the connection's: clear it (Go defers
     * SetWriteDeadline(noDeadline)). */
    if (timeout_ns != 0 && !NP_MUTANT_IS(DIAL_DEADLINE_KEPT)) np_fd_set_deadline(fd, 0, 'w');
    if (err == NP_OK && sh->setsockopt(CTX(fd), fd->sock, SHIM_SOL_SOCKET, SHIM_SO_UPDATE_CONNECT_CONTEXT, NULL, 0) != 0)
        err = last_error(fd->p);
    return err;
}

int np_fd_dial(np_poller *p, uint16_t port, int64_t timeout_ns, bool try_skip_sync, np_fd **out) {
    const shim *sh = p->sh;
    *out = NULL;
    if (!shim_has_sockets(sh)) return (int)SHIM_ERROR_CALL_NOT_IMPLEMENTED;
    shim_handle s = sh->wsa_socket(p->ctx, SHIM_AF_INET, SHIM_SOCK_STREAM, SHIM_IPPROTO_TCP);
    if (s == SHIM_INVALID_HANDLE) return last_error(p);
    int err;
    np_fd *fd = np_fd_open(p, s, try_skip_sync, &err);
    if (fd == NULL) {
        sh->closesocket(p->ctx, s);
        return err;
    }
    err = connect_fd(fd, port, timeout_ns);
    if (err != NP_OK) {
        np_fd_close(fd);
        np_fd_free(fd);
        return err;
    }
    *out = fd;
    return NP_OK;
}

shim_handle np_fd_handle(const np_fd *fd) { return fd->sock; }

int np_fd_shutdown(np_fd *fd, int how) {
    if (!np__fd_incref(fd)) return NP_ERR_CLOSING;
    int err = SH(fd)->shutdown(CTX(fd), fd->sock, how) == 0 ? NP_OK : last_error(fd->p);
    np__fd_decref(fd);
    return err;
}
