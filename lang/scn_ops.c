/* scn_ops.c - what each scenario step does, with the harness events of
 * models/trace.h around it.
 *
 * Events that announce a cause (a deadline, a peer's send, shutdown or
 * reset) are emitted before the call that causes it, so that on a real
 * backend no effect (a timeout, the bytes read, EOF) can appear in the trace
 * ahead of its cause. Operation ends are emitted before any check of their
 * result, so a failure report shows the result that broke the check.
 */
#include <string.h>

#include "scn_exec_int.h"

#define NO_FD UINT64_MAX

/* The model operation of a step: its row of the step table (scn_steps.c). */
static uint32_t mop(const scn_step *st) { return scn__step_def(st->op)->mop; }

static void begin(scn_exec_st *x, const scn_step *st, uint64_t fd, uint64_t arg) {
    atomic_fetch_add(&x->inflight, 1);
    model_emit(x->tr, MEV_OP_BEGIN, st->slot, mop(st), fd, arg, 0);
}

static void end(scn_exec_st *x, const scn_step *st, uint8_t out, uint64_t val, uint64_t off) {
    model_emit(x->tr, MEV_OP_END, st->slot, mop(st), out, val, off);
    atomic_fetch_sub(&x->inflight, 1);
}

/* Maps a poller result to an outcome of the language. */
/* The texts of Go's internal/poll errors that users match on (ErrNetClosing,
 * ErrDeadlineExceeded: net.ErrClosed's text, os.ErrDeadlineExceeded's), which
 * np_strerror promises to keep (netpoll.h). */
static void check_error_text(scn_exec_st *x, int rc) {
    const char *want = rc == NP_ERR_CLOSING ? "use of closed network connection"
                       : rc == NP_ERR_TIMEOUT ? "i/o timeout" : NULL;
    const char *got = np_strerror(rc);
    if (want != NULL && (got == NULL || strcmp(got, want) != 0))
        scn__fail(x, "error-text", "%s: np_strerror(%d) is \"%s\", Go's text is \"%s\"", x->s->path, rc,
                  got != NULL ? got : "(null)", want);
}

static uint8_t outcome(scn_exec_st *x, int rc, uint32_t n, bool is_read, uint64_t *val) {
    check_error_text(x, rc);
    *val = 0;
    switch (rc) {
    case NP_OK:
        *val = n;
        return is_read && n == 0 ? MOUT_EOF : MOUT_OK;
    case NP_ERR_TIMEOUT: return MOUT_TIMEOUT;
    case NP_ERR_CLOSING: return MOUT_CLOSED;
    default:
        *val = (uint64_t)(int64_t)rc; /* a Win32 error, or another NP_ERR_* (negative) */
        return MOUT_ERROR;
    }
}

/* np_fd_open of socket k; its error (NP_OK when it opened). Running out of
 * memory (NP_ERR_NO_MEMORY, netpoll.h) is allowed when an allocation of the
 * poller failed during the call (knob faults_alloc) or, for an `open` step
 * whose result the scenario names (and so expects), when the pollDesc cache
 * is full; the socket is then marked open_failed. Any other failure is the
 * "setup" property's. */
int scn__open_fd(scn_exec_st *x, uint32_t k, bool result_named) {
    const scn_socket *so = &x->s->sockets[k];
    scn_xfd *f = &x->fds[k];
    int err = 0;
    uint32_t faults0 = atomic_load(&x->alloc_faults);
    f->fd = so->kind == SCN_SOCK_DGRAM ? np_fd_open_dgram(x->p, f->h[0], &err) : np_fd_open(x->p, f->h[0], so->skip_sync, &err);
    if (f->fd == NULL) {
        bool injected = atomic_load(&x->alloc_faults) != faults0;
        if (err == NP_ERR_NO_MEMORY && (injected || result_named)) {
            atomic_store(&f->open_failed, 1);
            return err;
        }
        scn__fail(x, "setup", "np_fd_open of socket '%s' failed: %d (%s)%s", so->name, err, np_strerror(err),
                  injected ? " after an allocation failed (the contract: NULL with NP_ERR_NO_MEMORY)" : "");
        return err != NP_OK ? err : NP_ERR_NO_MEMORY;
    }
    /* Asked after the open, so the poller's own question comes first (the
     * simulator decides a socket's provider once, when first asked). */
    uint64_t skip = so->skip_sync ? (x->sh->socket_is_ifs(x->sh->ctx, f->h[0]) ? MODEL_SKIP_IFS : 1) : 0;
    model_emit(x->tr, MEV_FD_OPEN, k, model_handle(x->tr, f->h[0]), np_fd_seq(f->fd), skip, so->kind == SCN_SOCK_DGRAM);
    return NP_OK;
}

/* A listener on a free port, opened for polled I/O (np_fd_listen). */
void scn__open_listener(scn_exec_st *x, uint32_t k) {
    const scn_socket *so = &x->s->sockets[k];
    scn_xfd *f = &x->fds[k];
    int err = 0;
    uint32_t faults0 = atomic_load(&x->alloc_faults);
    f->fd = np_fd_listen(x->p, (int)so->backlog, &f->port, &err);
    /* Out of memory by knob faults_alloc (np_fd_open's pollDesc): as a socket
     * opened before the threads, the execution ends; the socket is closed. */
    if (f->fd == NULL && err == NP_ERR_NO_MEMORY && atomic_load(&x->alloc_faults) != faults0) return;
    uint32_t fault = scn__sock_fault(x);
    if (f->fd == NULL && fault != 0) {
        /* A socket call failed by knob faults_sock: np_fd_listen reports the
         * call's error (netpoll.h) and nothing runs. */
        if (err != (int)fault)
            scn__fail(x, "setup", "np_fd_listen for '%s' failed with %d (%s), but the socket call that failed gave %u",
                      so->name, err, np_strerror(err), fault);
        return;
    }
    if (f->fd == NULL) {
        scn__fail(x, "setup", "np_fd_listen for '%s' failed: %d (%s)", so->name, err, np_strerror(err));
        return;
    }
    model_emit(x->tr, MEV_FD_OPEN, k, model_handle(x->tr, np_fd_handle(f->fd)), np_fd_seq(f->fd), 0, 0);
}

/* accept A: from A's listener (Go's Accept); dial C [DUR]: to C's listener
 * (Go's DialTimeout). On success the socket is A's (C's), opened for
 * polled I/O, and its handle ordinal is the result's value: an accepted
 * socket is handed out once (accept-once). */
static uint8_t conn_step(scn_exec_st *x, const scn_step *st, uint32_t k, uint64_t *val) {
    const scn_socket *so = &x->s->sockets[k];
    scn_xfd *f = &x->fds[k], *l = &x->fds[so->listener];
    if (st->op == SCN_DIAL && st->arg > 0) {
        /* The dial's timeout is its socket's write deadline while it connects
         * (the poller sets it, then clears it): the models' deadline. */
        model_emit(x->tr, MEV_DEADLINE, k, 'w', (uint64_t)(x->sh->sync->now_ns(x->sh->sync->ctx) + st->arg), 0, 0);
        model_emit(x->tr, MEV_DEADLINE_SET, k, 'w', 0, 0, 0);
    }
    /* An accept is an operation of the listener (its read), a dial of the new socket. */
    begin(x, st, st->op == SCN_ACCEPT ? (uint64_t)so->listener : k, st->op == SCN_DIAL ? (uint64_t)st->arg : 0);
    /* *out starts as no descriptor: a failed accept or dial must leave NULL there (netpoll.h). */
    static char unset;
    np_fd *fd = (np_fd *)(void *)&unset;
    int rc = st->op == SCN_ACCEPT ? np_fd_accept(l->fd, so->skip_sync, &fd) : np_fd_dial(x->p, l->port, st->arg, so->skip_sync, &fd);
    if (rc != NP_OK && fd != NULL) {
        scn__fail(x, "accept-once", "%s:%u: %s into '%s' failed (%d) but handed out a descriptor", x->s->path, st->line,
                  st->op == SCN_ACCEPT ? "accept" : "dial", so->name, rc);
        fd = NULL;
    }
    uint8_t out = outcome(x, rc, 0, false, val);
    uint64_t h = fd != NULL ? model_handle(x->tr, np_fd_handle(fd)) : 0;
    if (out == MOUT_OK) *val = h;
    end(x, st, out, *val, 0);
    if (out != MOUT_OK) return out;
    f->fd = fd;
    model_emit(x->tr, MEV_FD_OPEN, k, h, np_fd_seq(fd), so->skip_sync, 0);
    if (st->op == SCN_ACCEPT) {
        for (uint32_t i = 0; i < x->s->nsockets; i++)
            if (i != k && x->s->sockets[i].kind == SCN_SOCK_ACCEPT && x->fds[i].fd != NULL &&
                np_fd_handle(x->fds[i].fd) == np_fd_handle(fd))
                scn__fail(x, "accept-once", "%s:%u: accept into '%s' returned the socket already accepted into '%s'",
                          x->s->path, st->line, so->name, x->s->sockets[i].name);
    }
    return out;
}

/* connect L.peer: the harness's client connects (blocking); its handle is
 * L's peer, for `reset L.peer` and `shutdown L.peer`. */
static uint8_t connect_peer(scn_exec_st *x, uint32_t k, uint64_t *val) {
    scn_xfd *f = &x->fds[k];
    shim_sockaddr_in to = shim_addr_in(SHIM_INADDR_LOOPBACK, f->port);
    shim_handle h = SHIM_INVALID_HANDLE;
    bool ok = x->hn->sock_connect(x->hn->ctx, &to, &h);
    f->h[1] = h;
    if (ok) return MOUT_OK;
    *val = x->sh->get_last_error(x->ctx);
    return MOUT_ERROR;
}

static uint8_t shutdown_own(scn_exec_st *x, const scn_step *st, uint32_t k, uint64_t *val) {
    int how = st->mode == 'r' ? SHIM_SD_RECEIVE : st->mode == 'w' ? SHIM_SD_SEND : SHIM_SD_BOTH;
    begin(x, st, k, (uint64_t)how);
    int rc = np_fd_shutdown(x->fds[k].fd, how);
    uint8_t out = outcome(x, rc, 0, false, val);
    end(x, st, out, *val, 0);
    return out;
}

/* A shared socket's reads end in no order the interpreter knows, so their
 * offsets are not checked; still each returns a run of what the peer sent,
 * and no byte twice (bytes-conserved). A run found once in the stream is
 * claimed byte by byte; one found more often is only checked to occur. */
static void check_shared_read(scn_exec_st *x, const scn_step *st, uint32_t k, const char *buf, uint32_t n) {
    scn_xfd *f = &x->fds[k];
    uint32_t sent = atomic_load(&f->sent), at = 0, hits = 0;
    for (uint32_t o = 0; o + n <= sent && hits < 2; o++)
        if (memcmp(f->stream + o, buf, n) == 0 && hits++ == 0) at = o;
    if (hits == 0) {
        scn__fail(x, "bytes-conserved", "%s:%u: read of shared '%s' returned %u bytes that are no run of what its peer sent",
                  x->s->path, st->line, x->s->sockets[k].name, n);
        return;
    }
    for (uint32_t i = 0; hits == 1 && i < n; i++)
        if (atomic_exchange(&f->claimed[at + i], 1) != 0) {
            scn__fail(x, "bytes-conserved", "%s:%u: read of shared '%s' returned stream byte %u, which another read returned",
                      x->s->path, st->line, x->s->sockets[k].name, at + i);
            return;
        }
}

/* One np_fd_read; checks the bytes against what the peer sent at that
 * offset (bytes-conserved: in order, none twice, none invented). */
static uint8_t one_read(scn_exec_st *x, scn_xthread *t, const scn_step *st, uint32_t len, uint64_t *val) {
    uint32_t k = (uint32_t)st->sock;
    scn_xfd *f = &x->fds[k];
    begin(x, st, k, len);
    uint32_t n = 0;
    int rc = np_fd_read(f->fd, t->buf, len, &n);
    uint8_t out = outcome(x, rc, n, len != 0, val); /* a zero-length read's 0 is no EOF (Go: eofError only for len > 0) */
    uint32_t off = f->rd;
    const scn_socket *so = &x->s->sockets[k];
    end(x, st, out, *val, so->kind != SCN_SOCK_PAIR || so->shared ? MODEL_NO_OFFSET : off);
    if (out == MOUT_OK && n > 0) {
        f->rd += n;
        if (f->claimed != NULL) check_shared_read(x, st, k, t->buf, n);
        if (atomic_load(&f->lossy) == 0) {
            uint32_t sent = atomic_load(&f->sent);
            if (off + n > sent)
                scn__fail(x, "bytes-conserved", "%s:%u: read of '%s' returned %u bytes at stream offset %u, but its peer sent only %u",
                          x->s->path, st->line, x->s->sockets[k].name, n, off, sent);
            else if (memcmp(t->buf, f->stream + off, n) != 0)
                scn__fail(x, "bytes-conserved", "%s:%u: read of '%s' returned %u bytes at stream offset %u that differ from "
                          "what its peer sent there (reordered, duplicated or stale)", x->s->path, st->line,
                          x->s->sockets[k].name, n, off);
        }
    } else if (out == MOUT_EOF && atomic_load(&f->lossy) == 0 && f->rd != atomic_load(&f->sent)) {
        scn__fail(x, "bytes-conserved", "%s:%u: '%s' reached EOF after %u bytes, but its peer sent %u", x->s->path, st->line,
                  x->s->sockets[k].name, f->rd, atomic_load(&f->sent));
    }
    return out;
}

static void set_deadline(scn_exec_st *x, uint32_t k, int mode, int64_t d_ns) {
    /* The absolute deadline for the models, read before the poller reads
     * the clock: the poller's own deadline is never earlier than this one. */
    /* now + d saturates at INT64_MAX (a `max` deadline), as the poller's does.
     * The clock is read only for a future deadline: on the simulator a read
     * of the clock is a step, and the decision streams stored before `max`
     * read it only there. */
    uint64_t abs = 0;
    if (d_ns < 0) abs = UINT64_MAX;
    else if (d_ns > 0) {
        int64_t now = x->sh->sync->now_ns(x->sh->sync->ctx);
        abs = (uint64_t)(d_ns > INT64_MAX - now ? INT64_MAX : now + d_ns);
    }
    model_emit(x->tr, MEV_DEADLINE, k, (uint64_t)mode, abs, 0, 0);
    np_fd_set_deadline(x->fds[k].fd, d_ns, mode);
    model_emit(x->tr, MEV_DEADLINE_SET, k, (uint64_t)mode, 0, 0, 0);
}

/* read_all: to EOF; a timeout clears the read deadline and goes on (the
 * bytes of a read that completed despite its timeout come back from the
 * poller, the next read gets the rest). */
static uint8_t read_all(scn_exec_st *x, scn_xthread *t, const scn_step *st, uint64_t *val) {
    uint32_t k = (uint32_t)st->sock;
    uint32_t start = x->fds[k].rd;
    uint32_t limit = x->s->sockets[k].stream + 64; /* each round reads a byte or ends a deadline */
    for (uint32_t i = 0; i < limit; i++) {
        uint8_t out = one_read(x, t, st, (uint32_t)st->arg, val);
        if (out == MOUT_OK) continue;
        if (out == MOUT_TIMEOUT) {
            set_deadline(x, k, 'r', 0);
            continue;
        }
        if (out != MOUT_EOF) return out;
        *val = x->fds[k].rd - start;
        return MOUT_OK;
    }
    scn__fail(x, "expect", "%s:%u: read_all of '%s' did not reach EOF in %u reads", x->s->path, st->line,
              x->s->sockets[k].name, limit);
    return MOUT_ERROR;
}

static uint8_t read_exact(scn_exec_st *x, scn_xthread *t, const scn_step *st, uint64_t *val) {
    uint32_t want = (uint32_t)st->arg, got = 0;
    while (got < want) {
        uint8_t out = one_read(x, t, st, want - got, val);
        if (out != MOUT_OK) return out;
        got += (uint32_t)*val;
    }
    *val = got;
    return MOUT_OK;
}

/* The peer sends one datagram to the poller's socket. It is recorded (its
 * bytes and length, numbered) before it is sent, as a stream send is. */
static void peer_sendto(scn_exec_st *x, const scn_step *st) {
    uint32_t k = (uint32_t)st->sock;
    scn_xfd *f = &x->fds[k];
    uint32_t off = atomic_load(&f->sent), num = atomic_load(&f->ndg);
    memcpy(f->stream + off, x->s->bytes + st->data, st->len);
    f->dg_off[num] = off;
    f->dg_len[num] = st->len;
    atomic_store(&f->sent, off + st->len);
    atomic_store(&f->ndg, num + 1);
    model_emit(x->tr, MEV_PEER_SEND, k, st->len, off, num + 1, 0);
    int n = x->hn->sock_sendto_sync(x->hn->ctx, f->h[1], x->s->bytes + st->data, st->len, &f->addr[0]);
    if (n != (int)st->len) model_emit_text(x->tr, MEV_NOTE, "a peer sendto failed: that datagram never went");
}

/* Which datagram a recvfrom's bytes are: the first one from dg_next on
 * whose bytes they are (whole for ok, its head for truncated); returns
 * number + 1 and its length << 32, 0 for none (the datagram property). */
static uint64_t match_dgram(scn_xfd *f, const char *buf, uint32_t n, bool truncated) {
    uint32_t sent = atomic_load(&f->ndg);
    for (uint32_t j = f->dg_next; j < sent; j++) {
        uint32_t len = f->dg_len[j];
        if ((truncated ? len > n : len == n) && memcmp(f->stream + f->dg_off[j], buf, n) == 0) {
            f->dg_next = j + 1;
            return (uint64_t)(j + 1) | ((uint64_t)len << 32);
        }
    }
    return 0;
}

static uint8_t recvfrom_step(scn_exec_st *x, scn_xthread *t, const scn_step *st, uint64_t *val) {
    uint32_t k = (uint32_t)st->sock;
    scn_xfd *f = &x->fds[k];
    /* *n starts as no length a datagram has: np_fd_read_from must set it
     * (netpoll.h: NP_OK with *n its length, 0 for a 0-byte buffer). */
    uint32_t len = (uint32_t)st->arg, n = UINT32_MAX;
    begin(x, st, k, len);
    /* A pattern no address has: `from` is written only for a datagram taken (netpoll.h). */
    shim_sockaddr_in from, unset;
    memset(&unset, 0xA5, sizeof unset);
    from = unset;
    int rc = np_fd_read_from(f->fd, t->buf, len, &n, &from);
    uint8_t out;
    if (rc == (int)SHIM_WSAEMSGSIZE || rc == (int)SHIM_ERROR_MORE_DATA) {
        out = MOUT_TRUNC; /* Go's (n, WSAEMSGSIZE): the head of a larger datagram */
        *val = n;
    } else {
        out = outcome(x, rc, n, false, val);
    }
    /* A 0-byte recvfrom receives nothing (Go): no datagram to name. */
    bool took = len > 0 && (out == MOUT_OK || out == MOUT_TRUNC);
    uint64_t which = took ? match_dgram(f, t->buf, n, out == MOUT_TRUNC) : 0;
    end(x, st, out, *val, which);
    if (took && from.port != f->addr[1].port)
        scn__fail(x, "datagram", "%s:%u: recvfrom of '%s' returned a datagram from port %u, not its peer's %u", x->s->path,
                  st->line, x->s->sockets[k].name, shim_ntohs(from.port), shim_ntohs(f->addr[1].port));
    else if (!took && memcmp(&from, &unset, sizeof from) != 0)
        scn__fail(x, "datagram", "%s:%u: recvfrom of '%s' ended %s without a datagram, but wrote a sender address",
                  x->s->path, st->line, x->s->sockets[k].name, model_outcome_name(out));
    return out;
}

static uint8_t sendto_step(scn_exec_st *x, const scn_step *st, uint32_t k, uint64_t *val) {
    scn_xfd *f = &x->fds[k];
    uint32_t n = 0;
    atomic_fetch_add(&f->writing, st->len);
    begin(x, st, k, st->len);
    int rc = np_fd_write_to(f->fd, x->s->bytes + st->data, st->len, &f->addr[1], &n);
    uint8_t out = outcome(x, rc, n, false, val);
    end(x, st, out, *val, 0);
    if (out == MOUT_OK || out == MOUT_TIMEOUT) atomic_fetch_add(&f->wrote_ok, n);
    else atomic_store(&f->write_lossy, 1);
    atomic_fetch_sub(&f->writing, st->len);
    return out;
}

static void peer_send(scn_exec_st *x, const scn_step *st) {
    uint32_t k = (uint32_t)st->sock;
    scn_xfd *f = &x->fds[k];
    if (x->s->sockets[k].kind == SCN_SOCK_DGRAM) {
        peer_sendto(x, st);
        return;
    }
    /* Reserve the offsets and copy the bytes before sending, so a reader
     * that gets them at once finds them accounted for. */
    uint32_t off = atomic_load(&f->sent);
    memcpy(f->stream + off, x->s->bytes + st->data, st->len);
    atomic_store(&f->sent, off + st->len);
    model_emit(x->tr, MEV_PEER_SEND, k, st->len, off, 0, 0);
    int n = harness_send(x->hn, f->h[1], x->s->bytes + st->data, st->len);
    if (n != (int)st->len) {
        atomic_store(&f->lossy, 1);
        model_emit_text(x->tr, MEV_NOTE, "a peer send failed: later stream offsets of this socket are not checked");
    }
}

/* bytes-conserved, write side: the peer never takes more than the writes
 * reported plus the writes still in flight. A write that timed out although
 * its bytes went (the cancel came too late, §7) breaks it. */
static void check_written(scn_exec_st *x, const scn_step *st, uint32_t k) {
    scn_xfd *f = &x->fds[k];
    if (atomic_load(&f->write_lossy) != 0) return;
    uint64_t got = atomic_load(&f->peer_got), ok = atomic_load(&f->wrote_ok), fly = atomic_load(&f->writing);
    if (got > ok + fly)
        scn__fail(x, "bytes-conserved", "%s:%u: the peer of '%s' took %llu bytes, but the writes reported %llu written and "
                  "%llu are in flight: a write that did not report its bytes had sent them", x->s->path, st->line,
                  x->s->sockets[k].name, (unsigned long long)got, (unsigned long long)ok, (unsigned long long)fly);
}

static uint8_t write_step(scn_exec_st *x, const scn_step *st, uint32_t k, uint64_t *val) {
    scn_xfd *f = &x->fds[k];
    uint32_t n = 0;
    atomic_fetch_add(&f->writing, st->len);
    begin(x, st, k, st->len);
    int rc = np_fd_write(f->fd, x->s->bytes + st->data, st->len, &n);
    uint8_t out = outcome(x, rc, n, false, val);
    end(x, st, out, *val, 0);
    if (out == MOUT_OK || out == MOUT_TIMEOUT) atomic_fetch_add(&f->wrote_ok, n);
    else atomic_store(&f->write_lossy, 1);
    atomic_fetch_sub(&f->writing, st->len);
    check_written(x, st, k);
    return out;
}

/* recv SOCK.peer LEN (waits for a byte): ok(n), eof, or error(WSA code);
 * drain SOCK.peer: takes what is buffered now, in chunks: ok(total). */
static uint8_t peer_read(scn_exec_st *x, scn_xthread *t, const scn_step *st, uint64_t *val) {
    shim_handle h = x->fds[st->sock].h[1];
    bool wait = st->op == SCN_PEER_RECV;
    uint64_t total = 0;
    for (;;) {
        int n = harness_recv(x->hn, h, t->buf, (uint32_t)st->arg, wait);
        if (n < 0) {
            *val = x->sh->get_last_error(x->ctx);
            return MOUT_ERROR;
        }
        total += (uint64_t)n;
        atomic_fetch_add(&x->fds[st->sock].peer_got, (uint64_t)n);
        check_written(x, st, (uint32_t)st->sock);
        if (wait || n == 0) break;
    }
    *val = total;
    return wait && total == 0 ? MOUT_EOF : MOUT_OK;
}

static void foreign(scn_exec_st *x, const scn_step *st) {
    uint32_t k = (uint32_t)st->sock;
    scn_xforeign *fo = &x->fo[st->data];
    fo->decoy = scn__decoy_of(x, st->data);
    fo->mode = 'r';
    fo->fd = (int32_t)k;
    shim_wsabuf wb = {sizeof fo->byte, fo->byte};
    uint32_t n = 0, flags = 0;
    int rc = x->sh->wsa_recv(x->ctx, x->fds[k].h[0], &wb, 1, &n, &flags, &fo->ov);
    if (rc != 0 && x->sh->get_last_error(x->ctx) != SHIM_ERROR_IO_PENDING) {
        model_emit_text(x->tr, MEV_NOTE, "the foreign recv did not start");
        return;
    }
    /* Its byte is not numbered: it is the user's, not the poller's. The
     * recv is pending and no poller read of this socket can be (the same
     * thread does both), so the byte goes to it. */
    if (st->arg == 1) return; /* `foreign s pending`: stays outstanding */
    harness_send(x->hn, x->fds[k].h[1], "!", 1);
}

/* Runs one execution of the step (no repeat, no maybe); returns its outcome. */
static uint8_t run_once(scn_exec_st *x, scn_xthread *t, const scn_step *st, uint64_t *val) {
    uint32_t k = st->sock >= 0 ? (uint32_t)st->sock : 0;
    int rc;
    *val = 0;
    switch (st->op) {
    case SCN_READ: return one_read(x, t, st, (uint32_t)st->arg, val);
    case SCN_READ_EXACT: return read_exact(x, t, st, val);
    case SCN_READ_ALL: return read_all(x, t, st, val);
    case SCN_WRITE: return write_step(x, st, k, val);
    case SCN_DEADLINE: set_deadline(x, k, st->mode, st->arg); return MOUT_OK;
    case SCN_SEND: peer_send(x, st); return MOUT_OK;
    case SCN_SHUTDOWN:
        model_emit(x->tr, MEV_PEER_SHUTDOWN, k, 0, 0, 0, 0);
        harness_shutdown_send(x->hn, x->fds[k].h[1]);
        return MOUT_OK;
    case SCN_RESET:
        model_emit(x->tr, MEV_PEER_RESET, k, 0, 0, 0, 0);
        atomic_store(&x->fds[k].lossy, 1); /* the poller side may lose what was buffered */
        harness_abort(x->hn, x->fds[k].h[1]);
        return MOUT_OK;
    case SCN_CLOSE: {
        begin(x, st, k, 0);
        rc = np_fd_close(x->fds[k].fd);
        uint8_t out = rc == NP_OK ? MOUT_OK : MOUT_CLOSED;
        end(x, st, out, 0, 0);
        return out;
    }
    case SCN_OPEN:
        if (st->arg == 1) { /* open S again: a second descriptor on S's socket */
            int err = INT32_MIN; /* np_fd_open must set it on failure, whatever it held */
            np_fd *twin = np_fd_open(x->p, x->fds[k].h[0], x->s->sockets[k].skip_sync, &err);
            /* A twin the poller should have refused stays open: closing it
             * would close S's socket too; the expectation and no-leak say it. */
            uint8_t out = twin != NULL ? MOUT_OK : MOUT_ERROR;
            *val = twin != NULL ? 0 : (uint64_t)(int64_t)err;
            return out;
        }
        rc = scn__open_fd(x, k, st->result >= 0);
        if (rc == NP_OK) return MOUT_OK;
        *val = (uint64_t)(int64_t)rc;
        return MOUT_ERROR;
    case SCN_BREAK:
        begin(x, st, NO_FD, 0);
        np_break(x->p);
        end(x, st, MOUT_OK, 0, 0);
        return MOUT_OK;
    case SCN_SLEEP:
        begin(x, st, NO_FD, (uint64_t)st->arg);
        harness_sleep(x->hn, x->opts.sleeps_yield ? 0 : st->arg);
        end(x, st, MOUT_OK, 0, 0);
        return MOUT_OK;
    case SCN_POLL: {
        begin(x, st, NO_FD, (uint64_t)st->arg);
        np_list l = {0};
        int32_t d = np_poll(x->p, t->m, st->arg, &l);
        *val = l.n;
        np_ready(x->p, &l);
        /* Go's injectglist "clears glist": a caller may reuse the list. */
        if (l.head != NULL || l.n != 0)
            scn__fail(x, "list-emptied", "%s: np_ready left its list with %u waiter(s)%s", x->s->path, l.n,
                      l.head != NULL ? " and a head" : "");
        np_adjust_waiters(x->p, d);
        end(x, st, MOUT_OK, *val, 0);
        return MOUT_OK;
    }
    case SCN_FOREIGN: foreign(x, st); return MOUT_OK;
    case SCN_RUN_POLLER: np_run(x->p, t->m); return MOUT_OK;
    case SCN_PEER_RECV:
    case SCN_DRAIN: return peer_read(x, t, st, val);
    case SCN_ACCEPT:
    case SCN_DIAL: return conn_step(x, st, k, val);
    case SCN_CONNECT: return connect_peer(x, k, val);
    case SCN_SHUTDOWN_OWN: return shutdown_own(x, st, k, val);
    case SCN_RECVFROM: return recvfrom_step(x, t, st, val);
    case SCN_SENDTO: return sendto_step(x, st, k, val);
    default: scn__check(x, st); return MOUT_OK;
    }
}

void scn__run_step(scn_exec_st *x, scn_xthread *t, const scn_step *st) {
    /* maybe: 1 runs the step (a 'u' decision on the simulator). */
    if (st->maybe && x->opts.choose != NULL && x->opts.choose(x->opts.choose_arg, 2) == 0) return;
    /* The poller's side of a socket whose open failed (scn__open_fd) does not exist. */
    if (st->sock >= 0 && atomic_load(&x->fds[st->sock].open_failed) != 0 &&
        (st->op == SCN_READ || st->op == SCN_READ_EXACT || st->op == SCN_READ_ALL || st->op == SCN_WRITE ||
         st->op == SCN_DEADLINE || st->op == SCN_CLOSE || st->op == SCN_FOREIGN)) {
        t->stopped = true;
        return;
    }
    uint8_t out = MOUT_OK;
    uint64_t val = 0;
    int64_t start = st->timed ? scn__since_start(x) : 0;
    for (uint32_t i = 0; i < st->repeat && atomic_load(&x->stop) == 0; i++) {
        out = run_once(x, t, st, &val);
        if (out != MOUT_OK) break;
    }
    if (st->result < 0) return;
    scn_xres *r = &x->res[st->result];
    r->outcome = out;
    r->value = val;
    if (st->timed) {
        r->at_ns = scn__since_start(x);
        r->took_ns = r->at_ns - start;
    }
}
