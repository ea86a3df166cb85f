/* listener.c - stream sockets made through the seam (sockname.c makes and
 * binds them): listen, AcceptEx, ConnectEx (loaded through WSAIoctl),
 * setsockopt's context updates and shutdown.
 *
 * A ConnectEx to a listening port is a pending operation that completes as
 * a kernel action: established when the listener is open and its backlog
 * has room (the server end, an *embryo* without a handle, waits in the
 * backlog), refused otherwise. A pending AcceptEx completes as a kernel
 * action once the backlog holds a connection: the embryo's state moves into
 * the accept socket, which becomes the client's peer. Whether an accept
 * completes before or after a close of the listener is the schedule's
 * choice (a kernel action against a thread's step), not a coin. Every
 * behaviour cites its row in FACTS.md (S1..).
 */
#include <string.h>

#include "kernel.h"

void kern_listener_reset(kern_state *w) { w->connectex_loaded = false; }

static int fail(sim_ctx *s, uint32_t err) {
    kern_set_error(s, err);
    return SHIM_SOCKET_ERROR;
}

static bool failb(sim_ctx *s, uint32_t err) {
    kern_set_error(s, err);
    return false;
}

/* The open listener bound to `port`, or UINT32_MAX. */
static uint32_t listener_on(sim_ctx *s, uint16_t port) {
    uint32_t id = kern_port_owner(s, port, false);
    return id != UINT32_MAX && kern(s)->socks[id].role == KERN_ROLE_LISTEN ? id : UINT32_MAX;
}

/* ---- listen (socket, bind, getsockname: sockname.c) ---- */

/* S3: listen needs a bound socket (WSAEINVAL); the backlog is clamped. */
static int listen_(void *ctx, shim_handle h, int backlog) {
    sim_ctx *s = ctx;
    uint32_t sid;
    if (!kern_sock_call(s, h, &sid)) return SHIM_SOCKET_ERROR;
    kern_sock *so = &kern(s)->socks[sid];
    if (so->lport == 0 || (so->role != KERN_ROLE_FRESH && so->role != KERN_ROLE_LISTEN)) return fail(s, SHIM_WSAEINVAL);
    so->role = KERN_ROLE_LISTEN;
    so->backlog = backlog < 1 ? 1u : (uint32_t)backlog > KERN_MAX_BACKLOG ? KERN_MAX_BACKLOG : (uint32_t)backlog;
    kern(s)->dirty = true; /* pending connects to this port may go on */
    return 0;
}

/* ---- AcceptEx ---- */

/* Moves the oldest embryo of listener `lid` into accept socket `aid`: the
 * accept socket becomes the client's peer with what the embryo received. */
static void take_embryo(sim_ctx *s, uint32_t lid, uint32_t aid) {
    kern_state *w = kern(s);
    kern_sock *l = &w->socks[lid], *a = &w->socks[aid];
    uint32_t eid = l->q[0];
    memmove(l->q, l->q + 1, (l->nq - 1) * sizeof l->q[0]);
    l->nq--;
    kern_sock *e = &w->socks[eid];
    uint32_t cid = e->peer;
    kern_touch_sock(s, eid); /* the embryo's pair (with the client) */
    kern_bytes rx = a->rx;
    a->rx = e->rx;
    e->rx = rx;
    a->eof = e->eof;
    a->reset = e->reset;
    a->role = KERN_ROLE_PAIR;
    a->peer = cid;
    e->open = false;
    e->role = KERN_ROLE_DEAD;
    e->peer = eid;
    if (w->socks[cid].peer == eid) w->socks[cid].peer = aid;
    kern_touch_sock(s, aid); /* the new pair */
}

/* S6: the status of an accept taking listener lid's oldest connection:
 * success, or, when its client reset it, the reset (Windows) or an invalid
 * connection (Wine 8) (choice 'h'). */
static uint32_t accept_status(sim_ctx *s, uint32_t lid) {
    kern_state *w = kern(s);
    if (!w->socks[w->socks[lid].q[0]].reset) return SHIM_STATUS_SUCCESS;
    return sim__choose(s, SIM_CHOICE_ACCEPTRESET, 2, NULL, SIM_NO_CURRENT) == 0 ? SHIM_STATUS_CONNECTION_RESET
                                                                                 : SHIM_STATUS_CONNECTION_INVALID;
}

/* S4: AcceptEx validates its sockets at once (WSAEINVAL: not a listener, or
 * an accept socket already bound or connected), then takes a queued
 * connection at once or pends (choice 's', §6). A connection whose client
 * reset it before the accept ends the accept with STATUS_CONNECTION_RESET
 * (S6: Go's accept loop retries on ERROR_NETNAME_DELETED and WSAECONNRESET
 * for this reason). */
static bool accept_ex(void *ctx, shim_handle lh, shim_handle ah, void *buf, uint32_t recv_len, uint32_t local_len,
                      uint32_t remote_len, uint32_t *bytes, shim_overlapped *ov) {
    sim_ctx *s = ctx;
    uint32_t lid, aid;
    if (!kern_sock_call(s, lh, &lid)) return false;
    kern_state *w = kern(s);
    if (!kern_handle_get(w, ah, KERN_H_SOCKET, &aid)) return failb(s, SHIM_WSAENOTSOCK);
    if (w->socks[lid].role != KERN_ROLE_LISTEN || w->socks[aid].role != KERN_ROLE_FRESH || w->socks[aid].lport != 0)
        return failb(s, SHIM_WSAEINVAL);
    if (buf == NULL || ov == NULL || local_len < 16 + 16 || remote_len < 16 + 16) return failb(s, SHIM_WSAEFAULT);
    if (recv_len != 0)
        kern_limit(s, "accept-data-limit", "limit: AcceptEx with a receive length (the simulator takes 0 only)");
    uint32_t id = kern_op_begin(s, lid, ov, KERN_OPK_ACCEPT, false);
    w->ops[id].other = aid;
    memset(buf, 0, local_len + remote_len);
    kern_sock *l = &w->socks[lid];
    bool now = l->nq > 0 && sim__choose(s, SIM_CHOICE_SYNC, 2, NULL, SIM_NO_CURRENT) == 0;
    if (!now) {
        l->pending++;
        w->dirty = true;
        sim__event(s, SIM_EV_SOCK_IO, lh, w->ops[id].ov_ord, SHIM_ERROR_IO_PENDING, 0);
        return failb(s, SHIM_ERROR_IO_PENDING);
    }
    uint32_t st = accept_status(s, lid);
    take_embryo(s, lid, aid);
    uint32_t err = st == SHIM_STATUS_SUCCESS ? 0 : kern_nt_to_wsa(st);
    sim__event(s, SIM_EV_SOCK_IO, lh, w->ops[id].ov_ord, err, 0);
    kern_op_complete(s, id, st, 0, false);
    if (err != 0) return failb(s, err);
    if (bytes != NULL) *bytes = 0;
    return true;
}

/* ---- setsockopt, WSAIoctl ---- */

/* S5: the context updates; the accept update names a socket (WSAENOTSOCK
 * otherwise). On a socket not connected, Wine 8 returns 0 for both
 * (measured, tests/facts_stream.h): so does the simulator. */
static int setsockopt_(void *ctx, shim_handle h, int level, int opt, const void *val, int len) {
    sim_ctx *s = ctx;
    uint32_t sid, lid;
    if (!kern_sock_call(s, h, &sid)) return SHIM_SOCKET_ERROR;
    kern_sock *so = &kern(s)->socks[sid];
    if (level != SHIM_SOL_SOCKET || (opt != SHIM_SO_UPDATE_ACCEPT_CONTEXT && opt != SHIM_SO_UPDATE_CONNECT_CONTEXT))
        return fail(s, SHIM_WSAENOPROTOOPT);
    if (opt == SHIM_SO_UPDATE_ACCEPT_CONTEXT) {
        if (val == NULL || len < (int)sizeof(shim_handle)) return fail(s, SHIM_WSAEFAULT);
        shim_handle lh;
        memcpy(&lh, val, sizeof lh);
        if (!kern_handle_get(kern(s), lh, KERN_H_SOCKET, &lid)) return fail(s, SHIM_WSAENOTSOCK);
    }
    so->ctx_updated = so->role == KERN_ROLE_PAIR;
    return 0;
}

/* S7: ConnectEx is loaded through WSAIoctl; any socket of the provider
 * serves, the pointer is good for every socket after. */
static int ioctl_get_extension(void *ctx, shim_handle h, uint32_t which) {
    sim_ctx *s = ctx;
    uint32_t sid;
    if (!kern_sock_call(s, h, &sid)) return SHIM_SOCKET_ERROR;
    if (which != SHIM_WSAID_CONNECTEX) return fail(s, SHIM_WSAEINVAL);
    kern(s)->connectex_loaded = true;
    return 0;
}

/* ---- ConnectEx ---- */

/* S8: ConnectEx needs a bound, unconnected socket (WSAEINVAL; WSAEISCONN
 * when connected); it pends, and the kernel establishes or refuses it
 * later (kern_conn_fire). */
static bool connect_ex(void *ctx, shim_handle h, const shim_sockaddr_in *to, int namelen, shim_overlapped *ov) {
    sim_ctx *s = ctx;
    uint32_t sid;
    if (!kern_sock_call(s, h, &sid)) return false;
    kern_state *w = kern(s);
    kern_sock *so = &w->socks[sid];
    if (!w->connectex_loaded) return failb(s, SHIM_WSAEINVAL); /* called through a pointer never loaded */
    if (so->role == KERN_ROLE_PAIR) return failb(s, SHIM_WSAEISCONN);
    if (so->role != KERN_ROLE_FRESH || so->lport == 0) return failb(s, SHIM_WSAEINVAL);
    if (to == NULL || ov == NULL || namelen < (int)sizeof *to) return failb(s, SHIM_WSAEFAULT);
    if (to->family != SHIM_AF_INET || shim_ntohl(to->addr) != SHIM_INADDR_LOOPBACK || to->port == 0)
        kern_limit(s, "connect-address-limit", "limit: ConnectEx to an address other than loopback");
    uint32_t id = kern_op_begin(s, sid, ov, KERN_OPK_CONNECT, true);
    w->ops[id].other = shim_ntohs(to->port);
    so->role = KERN_ROLE_CONNECTING;
    so->pending++;
    w->dirty = true;
    sim__event(s, SIM_EV_SOCK_IO, h, w->ops[id].ov_ord, ((uint64_t)1 << 32) | SHIM_ERROR_IO_PENDING, 0);
    return failb(s, SHIM_ERROR_IO_PENDING);
}

/* S8: client cid's connection to `port`: established when the listener is
 * open and its backlog has room (the server end waits there as an embryo),
 * else refused (cid is then unusable). */
static bool establish(sim_ctx *s, uint32_t cid, uint16_t port) {
    kern_state *w = kern(s);
    uint32_t lid = listener_on(s, port);
    if (lid == UINT32_MAX || w->socks[lid].nq >= w->socks[lid].backlog) {
        w->socks[cid].role = KERN_ROLE_DEAD;
        return false;
    }
    kern_touch_sock(s, lid);
    uint32_t eid = kern_sock_new(s, true);
    kern_sock *e = &w->socks[eid], *c = &w->socks[cid], *l = &w->socks[lid];
    e->role = KERN_ROLE_EMBRYO;
    e->lport = l->lport;
    e->peer = cid;
    c->peer = eid;
    c->role = KERN_ROLE_PAIR;
    l->q[l->nq++] = eid;
    w->dirty = true; /* a pending AcceptEx may go on */
    return true;
}

bool kern_conn_actionable(sim_ctx *s, uint32_t id) {
    kern_state *w = kern(s);
    const kern_op *op = &w->ops[id];
    if (op->kind == KERN_OPK_CONNECT) return true; /* established or refused: either can happen now */
    return w->socks[op->sock].nq > 0 || !w->socks[op->other].open;
}

void kern_conn_fire(sim_ctx *s, uint32_t id) {
    kern_state *w = kern(s);
    kern_op *op = &w->ops[id];
    if (op->kind == KERN_OPK_ACCEPT) {
        /* A cancel races the connection (§7): taken, or cancelled. */
        if (op->cancel && (w->socks[op->sock].nq == 0 || !w->socks[op->other].open || sim__choose(s, SIM_CHOICE_CANCEL, 2, NULL, SIM_NO_CURRENT) == 0)) {
            kern_op_complete(s, id, SHIM_STATUS_CANCELLED, 0, true);
            return;
        }
        uint32_t aid = op->other;
        if (!w->socks[aid].open) { /* S4: its accept socket was closed under it */
            kern_op_complete(s, id, SHIM_STATUS_CANCELLED, 0, true);
            return;
        }
        uint32_t st = accept_status(s, op->sock);
        take_embryo(s, op->sock, aid);
        kern_op_complete(s, id, st, 0, true);
        return;
    }
    /* ConnectEx. S8: refused when nothing listens there or its backlog is
     * full (Windows retries a refused loopback SYN for about 2 s first;
     * Wine refuses at once: the action may come at any time). */
    uint32_t cid = op->sock;
    if (op->cancel && sim__choose(s, SIM_CHOICE_CANCEL, 2, NULL, SIM_NO_CURRENT) == 0) {
        w->socks[cid].role = KERN_ROLE_DEAD; /* S9: a cancelled connect leaves the socket unusable */
        kern_op_complete(s, id, SHIM_STATUS_CANCELLED, 0, true);
        return;
    }
    bool ok = establish(s, cid, (uint16_t)op->other);
    kern_op_complete(s, id, ok ? SHIM_STATUS_SUCCESS : SHIM_STATUS_CONNECTION_REFUSED, 0, true);
}

/* A peer client's blocking connect (harness): established at once or
 * refused, as the kernel action of a ConnectEx would be. */
static bool sock_connect(void *ctx, const shim_sockaddr_in *to, shim_handle *out) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    kern_state *w = kern(s);
    uint32_t cid = kern_sock_new(s, false);
    w->socks[cid].role = KERN_ROLE_FRESH;
    *out = w->socks[cid].h;
    if (to == NULL || !establish(s, cid, shim_ntohs(to->port))) {
        kern_set_error(s, SHIM_WSAECONNREFUSED);
        return false;
    }
    /* S11: the blocking connect returns after the handshake; a close of
     * the listener in between resets it (Wine 8, measured: validate of
     * accept/accept-races-close saw 10054). A new step, which reads the
     * pair again. */
    sim__sched_point(s);
    kern_touch_sock(s, cid);
    if (w->socks[cid].reset) {
        kern_set_error(s, SHIM_WSAECONNRESET);
        return false;
    }
    return true;
}

void kern_listener_harness_fill(shim_harness *hn) { hn->sock_connect = sock_connect; }

/* §2 (Wine [WC]): closing a listener or a connecting socket ends its
 * pending AcceptEx / ConnectEx with STATUS_CANCELLED, no status choice
 * (S10). A listener's queued connections are reset: their clients read a
 * reset (S11). */
bool kern_conn_close(sim_ctx *s, uint32_t sid, uint32_t *status) {
    kern_state *w = kern(s);
    kern_sock *so = &w->socks[sid];
    if (so->role == KERN_ROLE_PAIR || kern_is_dgram(so)) return false;
    *status = SHIM_STATUS_CANCELLED;
    if (so->role == KERN_ROLE_LISTEN) {
        for (uint32_t i = 0; i < so->nq; i++) {
            kern_sock *e = &w->socks[so->q[i]], *c = &w->socks[e->peer];
            kern_touch_sock(s, so->q[i]);
            e->open = false;
            e->role = KERN_ROLE_DEAD;
            if (c->open) {
                c->reset = true;
                c->rx.len = c->rx.head = 0;
                if (c->recv_waiter != 0) {
                    uint32_t t = c->recv_waiter - 1;
                    c->recv_waiter = 0;
                    sim__wake(s, t);
                }
            }
        }
        so->nq = 0;
    }
    so->role = KERN_ROLE_DEAD;
    return true;
}

/* ---- shutdown ---- */

/* S12: shutdown of a connected socket: SD_SEND, the peer reads EOF after
 * the data and later sends fail with WSAESHUTDOWN; SD_RECEIVE, later
 * receives fail with WSAESHUTDOWN; no packet (§12 W35). Unconnected:
 * WSAENOTCONN. */
static int shutdown_(void *ctx, shim_handle h, int how) {
    sim_ctx *s = ctx;
    uint32_t sid;
    if (!kern_sock_call(s, h, &sid)) return SHIM_SOCKET_ERROR;
    kern_state *w = kern(s);
    kern_sock *so = &w->socks[sid];
    if (how < SHIM_SD_RECEIVE || how > SHIM_SD_BOTH) return fail(s, SHIM_WSAEINVAL);
    if (so->role != KERN_ROLE_PAIR) return fail(s, SHIM_WSAENOTCONN);
    if (how != SHIM_SD_SEND) so->shut_recv = true;
    if (how != SHIM_SD_RECEIVE && !so->shut_send) {
        so->shut_send = true;
        kern_sock *peer = &w->socks[so->peer];
        peer->eof = true;
        if (peer->recv_waiter != 0) {
            uint32_t t = peer->recv_waiter - 1;
            peer->recv_waiter = 0;
            sim__wake(s, t);
        }
    }
    w->dirty = true;
    sim__event(s, SIM_EV_SOCK_PEER, h, 1, (uint64_t)how, 0);
    return 0;
}

void kern_listener_fill(shim *sh) {
    sh->listen = listen_;
    sh->accept_ex = accept_ex;
    sh->setsockopt = setsockopt_;
    sh->wsa_ioctl_get_extension = ioctl_get_extension;
    sh->connect_ex = connect_ex;
    sh->shutdown = shutdown_;
}
