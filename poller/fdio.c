/* fdio.c - the fd I/O layer: execIO and the close protocol.
 *
 * execIO: prepare (before submit: returns close/deadline errors early and
 * wipes stale readiness), submit with the operation's own OVERLAPPED, then
 * wait for its packet unless it completed synchronously with skip-on-success.
 * If the wait fails (close or deadline): CancelIoEx, wait for the cancelled
 * operation's packet anyway, and read the result; an I/O that completed
 * despite the cancel returns its bytes.
 *
 * Close: mark closed, evict (waiters fail with "closing" and cancel their
 * own I/O), and only when the last in-flight operation has consumed its
 * packet close the pollDesc and the socket. A packet can therefore never
 * reach a pollDesc slot that has been handed to another socket.
 */
#include <string.h>

#include "np_internal.h"

#define FD_CLOSED 1u
#define FD_REF 2u

static inline const shim *SH(const np_fd *fd) { return fd->p->sh; }
static inline void *CTX(const np_fd *fd) { return fd->p->ctx; }
static inline const shim_sync *SY(const np_fd *fd) { return fd->p->sy; }
static inline void *SYCTX(const np_fd *fd) { return fd->p->syctx; }

np_fd *np_fd_open(np_poller *p, shim_handle sock, bool try_skip_sync, int *err) {
    const shim *sh = p->sh;
    np_fd *fd = p->cfg.alloc(p->cfg.alloc_arg, sizeof *fd);
    if (fd == NULL) {
        *err = NP_ERR_NO_MEMORY;
        return NULL;
    }
    fd->p = p;
    fd->sock = sock;
    fd->pd = np__pd_open(p, sock, err);
    if (fd->pd == NULL) {
        p->cfg.free(p->cfg.alloc_arg, fd);
        return NULL;
    }
    /* Skip-on-success only where the provider honours it: a non-IFS layered
     * provider makes the flag silently ineffective (KB 2568167, Go #22149,
     * #77448), and then a synchronous success still queues a packet that
     * would satisfy the next wait. */
    if (try_skip_sync && (NP_MUTANT_IS(SKIP_NO_IFS_CHECK) || sh->socket_is_ifs(p->ctx, sock))) {
        fd->skip_sync = sh->set_file_completion_notification_modes(p->ctx, sock,
                                                                  SHIM_FILE_SKIP_COMPLETION_PORT_ON_SUCCESS);
    }
    fd->rop.pd = fd->pd;
    fd->rop.mode = 'r';
    fd->wop.pd = fd->pd;
    fd->wop.mode = 'w';
    p->sy->mutex_init(p->syctx, &fd->rmu);
    p->sy->mutex_init(p->syctx, &fd->wmu);
    p->sy->sema_init(p->syctx, &fd->csema, 0);
    *err = NP_OK;
    return fd;
}

uint32_t np_fd_seq(const np_fd *fd) { return fd->pd->fdseq; }

/* ---- References (Go's fdMutex, reduced to what the close protocol needs) ---- */

static bool incref(np_fd *fd) {
    for (;;) {
        uint32_t s = SY(fd)->atomic_load32(SYCTX(fd), &fd->state);
        if (s & FD_CLOSED) return false;
        if (SY(fd)->atomic_cas32(SYCTX(fd), &fd->state, s, s + FD_REF)) return true;
    }
}

static void destroy(np_fd *fd) {
    /* Every operation has consumed its packet: now the slot may be reused. */
    np__pd_close(fd->pd);
    SH(fd)->closesocket(CTX(fd), fd->sock);
    if (NP_MUTANT_IS(CLOSE_RETURNS_EARLY)) {
        /* Go before #21856: nobody waits; the last reference tears down. */
        SY(fd)->mutex_destroy(SYCTX(fd), &fd->rmu);
        SY(fd)->mutex_destroy(SYCTX(fd), &fd->wmu);
        SY(fd)->sema_destroy(SYCTX(fd), &fd->csema);
        return;
    }
    SY(fd)->sema_post(SYCTX(fd), &fd->csema);
}

static void decref(np_fd *fd) {
    uint32_t s = SY(fd)->atomic_add32(SYCTX(fd), &fd->state, -(int32_t)FD_REF);
    if (s == FD_CLOSED) destroy(fd);
}

bool np__fd_incref(np_fd *fd) { return incref(fd); }
void np__fd_decref(np_fd *fd) { decref(fd); }
bool np__fd_closed(np_fd *fd) { return (SY(fd)->atomic_load32(SYCTX(fd), &fd->state) & FD_CLOSED) != 0; }

/* ---- execIO ---- */

static int submit_recv(np_fd *fd, np_op *op, uint32_t *qty) {
    op->flags = 0;
    return SH(fd)->wsa_recv(CTX(fd), fd->sock, &op->buf, 1, qty, &op->flags, &op->ov);
}

static int submit_send(np_fd *fd, np_op *op, uint32_t *qty) {
    return SH(fd)->wsa_send(CTX(fd), fd->sock, &op->buf, 1, qty, 0, &op->ov);
}

/* The operation's final result after its packet was consumed. */
static int op_result(np_fd *fd, np_op *op, uint32_t *n) {
    uint32_t flags = 0, qty = 0;
    if (SH(fd)->wsa_get_overlapped_result(CTX(fd), fd->sock, &op->ov, &qty, false, &flags)) {
        *n = qty;
        return NP_OK;
    }
    int err = (int)SH(fd)->get_last_error(CTX(fd));
    /* More data than the buffer: give back the bytes received (Go #14074). */
    if ((err == (int)SHIM_ERROR_MORE_DATA || err == (int)SHIM_WSAEMSGSIZE) && !NP_MUTANT_IS(DGRAM_MSGSIZE_ZERO_N))
        *n = qty;
    return err;
}

int np__exec_io(np_fd *fd, np_op *op, np_submit_fn submit, uint32_t *n) {
    const shim *sh = SH(fd);
    void *ctx = CTX(fd);
    *n = 0;
    int err;
    if (!NP_MUTANT_IS(PREPARE_AFTER_SUBMIT)) {
        err = np__pd_reset(fd->pd, op->mode);
        if (err != NP_OK) return err;
    }
    memset(&op->ov, 0, sizeof op->ov);
    uint32_t qty = 0;
    int rc = submit(fd, op, &qty);
    if (NP_MUTANT_IS(PREPARE_AFTER_SUBMIT)) {
        err = np__pd_reset(fd->pd, op->mode);
        if (err != NP_OK && rc != 0 && sh->get_last_error(ctx) != SHIM_ERROR_IO_PENDING) return err;
    }
    if (rc == 0) {
        if (fd->skip_sync) {
            *n = qty; /* no packet will follow */
            return NP_OK;
        }
    } else {
        uint32_t e = sh->get_last_error(ctx);
        /* A synchronous warning (a datagram truncated, or too large to send)
         * is no failure: its packet still comes unless skip-on-success is
         * in effect (§6, sim/kernel/FACTS.md D2, D7), and leaving it queued
         * would complete the next operation on this OVERLAPPED. */
        bool warning = e == SHIM_WSAEMSGSIZE && !fd->skip_sync && !NP_MUTANT_IS(DGRAM_MSGSIZE_NO_WAIT);
        if (e != SHIM_ERROR_IO_PENDING && !warning) return (int)e; /* not started: no packet */
    }
    err = np__pd_wait(fd->pd, op->mode);
    if (err == NP_OK) return op_result(fd, op, n);
    if (err != NP_ERR_CLOSING && err != NP_ERR_TIMEOUT) np__fatal(fd->p, "unexpected runtime.pollWait error");
    /* Close or deadline: cancel, then wait for the packet anyway. The
     * operation may have finished first (NOT_FOUND): its packet still comes. */
    if (!sh->cancel_io_ex(ctx, fd->sock, &op->ov)) {
        uint32_t e = sh->get_last_error(ctx);
        if (e != SHIM_ERROR_NOT_FOUND) np__fatal(fd->p, "CancelIoEx failed");
        if (NP_MUTANT_IS(CANCEL_SKIP_WAIT)) return err;
    }
    np__pd_wait_canceled(fd->pd, op->mode);
    if (NP_MUTANT_IS(CANCEL_NO_RESULT)) return err;
    int res = op_result(fd, op, n);
    if (res == (int)SHIM_ERROR_OPERATION_ABORTED) {
        *n = 0;
        return err;
    }
    return res; /* success despite the cancel: these bytes must not be lost */
}

int np__rw(np_fd *fd, np_op *op, shim_mutex *mu, np_submit_fn submit, char *buf, uint32_t len,
           const shim_sockaddr_in *to, uint32_t *n) {
    *n = 0;
    if (!incref(fd)) return NP_ERR_CLOSING;
    SY(fd)->mutex_lock(SYCTX(fd), mu);
    /* The operation is this reader's (or writer's) only while the lock is
     * held: set its buffer here, not before. */
    op->buf.buf = buf;
    op->buf.len = len;
    if (to != NULL) op->sa = *to; /* a datagram's destination, likewise */
    int err = NP_ERR_CLOSING;
    if ((SY(fd)->atomic_load32(SYCTX(fd), &fd->state) & FD_CLOSED) == 0) err = np__exec_io(fd, op, submit, n);
    SY(fd)->mutex_unlock(SYCTX(fd), mu);
    decref(fd);
    return err;
}

int np_fd_read(np_fd *fd, void *buf, uint32_t len, uint32_t *n) {
    return np__rw(fd, &fd->rop, &fd->rmu, submit_recv, buf, len, NULL, n);
}

int np_fd_write(np_fd *fd, const void *buf, uint32_t len, uint32_t *n) {
    return np__rw(fd, &fd->wop, &fd->wmu, submit_send, (char *)(uintptr_t)buf, len, NULL, n);
}

void np_fd_set_deadline(np_fd *fd, int64_t d_ns, int mode) {
    if (!incref(fd)) return;
    np__pd_set_deadline(fd->pd, d_ns, mode);
    decref(fd);
}

int np_fd_close(np_fd *fd) {
    const shim_sync *sy = SY(fd);
    void *syctx = SYCTX(fd);
    /* increfAndClose: mark closed and hold a reference through the evict. */
    for (;;) {
        uint32_t s = sy->atomic_load32(syctx, &fd->state);
        if (s & FD_CLOSED) return NP_ERR_CLOSING;
        if (sy->atomic_cas32(syctx, &fd->state, s, (s | FD_CLOSED) + FD_REF)) break;
    }
    np__pd_evict(fd->pd);
    if (NP_MUTANT_IS(CLOSE_NO_WAIT)) {
        /* Frees the slot and closes the socket while operations may still be
         * waiting for their packets. */
        destroy(fd);
        return NP_OK;
    }
    decref(fd);
    /* Go #21856: Close returns only once the socket is really closed (a
     * listener's port is free again), which the last reference does. */
    if (NP_MUTANT_IS(CLOSE_RETURNS_EARLY)) return NP_OK;
    sy->sema_wait(syctx, &fd->csema, -1);
    /* The last reference is gone and the closed bit refuses new ones, so no
     * thread can reach these any more (the destroyer's post was its last
     * touch). The memory stays for np_fd_free: a late caller still reads
     * `state` to learn it is closed. */
    if (!NP_MUTANT_IS(FD_LEAK)) {
        sy->mutex_destroy(syctx, &fd->rmu);
        sy->mutex_destroy(syctx, &fd->wmu);
        sy->sema_destroy(syctx, &fd->csema);
    }
    return NP_OK;
}

void np_fd_free(np_fd *fd) {
    if (fd != NULL && !NP_MUTANT_IS(FD_NO_FREE)) fd->p->cfg.free(fd->p->cfg.alloc_arg, fd);
}
