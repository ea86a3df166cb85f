/* dgram.c - datagram (UDP) sockets of the simulated kernel.
 *
 * A datagram socket is a kern_sock of role KERN_ROLE_DGRAM with no peer
 * (its `peer` is itself, so the access log names it alone), made and bound
 * by sockname.c to a port of 127.0.0.1; a datagram sent to that port joins its receive queue whole:
 * the bytes in `rx`, and per datagram an 8-byte header in `msgs` (length,
 * sender's port). One receive takes one datagram: whole, or truncated to
 * the buffers with STATUS_BUFFER_OVERFLOW (its tail dropped). The overlapped
 * machinery (sync or pending, packets, cancel, close) is sock.c's; the rows
 * of sim/kernel/FACTS.md "Datagrams" (D1-D8) say which measured fact each
 * behaviour models:
 *  - D1 message boundaries: a receive never joins or splits datagrams.
 *  - D2 truncation: SOCKET_ERROR/WSAEMSGSIZE at once (Internal BUFFER_OVERFLOW,
 *    InternalHigh the bytes copied, `*bytes` not written), or a pending
 *    receive's packet with ERROR_MORE_DATA and the bytes copied.
 *  - D3 the synchronous truncation's packet: queued without skip-on-success;
 *    with it, none on Wine 8, one as a what-if (choice 'm').
 *  - D4 loss: a full queue (KERN_DGRAM_QUEUE bytes) drops the datagram; any
 *    other datagram may be lost as a what-if (choice 'd').
 *  - D5 a datagram to a port nobody bound vanishes: no error for the sender
 *    (Go turns SIO_UDP_CONNRESET off; Wine 8 reports nothing either).
 *  - D6 zero-length datagrams are datagrams: a receive of 0 bytes, success.
 *  - D7 WSASendTo: at once on loopback; 10022 without an address (not
 *    started, no packet); over 65,507 bytes SOCKET_ERROR/10040 at once with
 *    STATUS_BUFFER_OVERFLOW and 0 bytes, a warning that still queues a
 *    packet (Wine 8, measured: §6's synchronous warning, on the send side).
 *  - D8 closesocket under a pending WSARecvFrom: as any socket (§2, 'k').
 */
#include <string.h>

#include "kernel.h"

#define HDR 8u /* per datagram in `msgs`: length, sender's port (little-endian uint32 each) */

static void put32(unsigned char *p, uint32_t v) {
    for (uint32_t i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p) {
    uint32_t v = 0;
    for (uint32_t i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}

bool kern_dgram_ready(const kern_sock *so) { return so->msgs.len >= HDR; }

/* Sends one datagram of `n` bytes from socket `from` to `to` (D4, D5).
 * Returns whether it joined a queue. */
static bool deliver(sim_ctx *s, uint32_t from, const shim_sockaddr_in *to, const void *data, uint32_t n) {
    kern_state *w = kern(s);
    uint32_t dst = shim_ntohl(to->addr) == SHIM_INADDR_LOOPBACK ? kern_port_owner(s, shim_ntohs(to->port), true) : UINT32_MAX;
    if (dst == UINT32_MAX) return false; /* D5: nobody bound there */
    kern_touch_sock(s, dst);
    kern_sock *so = &w->socks[dst];
    bool full = (uint64_t)so->dgram_bytes + n > KERN_DGRAM_QUEUE;
    /* D4: with room, a datagram may still be lost (what-if: UDP allows it). */
    if (full || sim__choose(s, SIM_CHOICE_LOSS, 2, NULL, SIM_NO_CURRENT) == 1) {
        sim__event(s, SIM_EV_SOCK_PEER, so->h, 6, n, full);
        return false;
    }
    unsigned char hdr[HDR];
    put32(hdr, n);
    put32(hdr + 4, w->socks[from].lport);
    if (n > 0) kern_bytes_push(s, &so->rx, data, n);
    kern_bytes_push(s, &so->msgs, hdr, HDR);
    so->dgram_bytes += n;
    kern_sock_wake_reader(s, so);
    w->dirty = true;
    sim__event(s, SIM_EV_SOCK_PEER, so->h, 7, n, 0);
    return true;
}

/* Takes the head datagram into `out` (up to `space` bytes, NULL: drop it);
 * its length in *len and sender's port in *port; returns the bytes copied. */
static uint32_t take(sim_ctx *s, kern_sock *so, const kern_op *op, void *out, uint32_t space, uint32_t *len,
                     uint16_t *port) {
    unsigned char hdr[HDR];
    kern_bytes_pop(s, &so->msgs, hdr, HDR);
    *len = get32(hdr);
    *port = (uint16_t)get32(hdr + 4);
    uint32_t k = *len < space ? *len : space;
    if (op != NULL) {
        uint32_t left = k;
        for (uint32_t i = 0; i < op->nbufs && left > 0; i++) {
            uint32_t c = op->bufs[i].len < left ? op->bufs[i].len : left;
            kern_bytes_pop(s, &so->rx, op->bufs[i].buf, c);
            left -= c;
        }
    } else {
        kern_bytes_pop(s, &so->rx, out, k);
    }
    kern_bytes_pop(s, &so->rx, NULL, *len - k); /* D2: the tail is dropped */
    so->dgram_bytes -= *len;
    kern(s)->dirty = true;
    return k;
}

uint32_t kern_dgram_recv(sim_ctx *s, uint32_t id, uint32_t *bytes) {
    kern_state *w = kern(s);
    kern_op *op = &w->ops[id];
    kern_sock *so = &w->socks[op->sock];
    uint64_t space = 0;
    for (uint32_t i = 0; i < op->nbufs; i++) space += op->bufs[i].len;
    uint32_t len;
    uint16_t port;
    *bytes = take(s, so, op, NULL, space > UINT32_MAX ? UINT32_MAX : (uint32_t)space, &len, &port);
    /* The sender's address is written as the datagram is taken (measured:
     * a pending WSARecvFrom's address is there when it completes). */
    if (op->from != NULL && op->fromlen != NULL && *op->fromlen >= (int)sizeof(shim_sockaddr_in)) {
        kern_sockaddr(op->from, port);
        *op->fromlen = (int)sizeof(shim_sockaddr_in);
    }
    return len > *bytes ? SHIM_STATUS_BUFFER_OVERFLOW : SHIM_STATUS_SUCCESS; /* D2: a warning */
}

uint32_t kern_dgram_send(sim_ctx *s, uint32_t id, uint32_t *bytes) {
    kern_state *w = kern(s);
    kern_op *op = &w->ops[id];
    uint32_t total = 0;
    for (uint32_t i = 0; i < op->nbufs; i++) total += op->bufs[i].len;
    *bytes = 0;
    if (total > KERN_DGRAM_MAX) return SHIM_STATUS_BUFFER_OVERFLOW; /* D7: never sent, a warning */
    unsigned char *tmp = sim_alloc(s, total ? total : 1);
    for (uint32_t i = 0, at = 0; i < op->nbufs; i++) {
        memcpy(tmp + at, op->bufs[i].buf, op->bufs[i].len);
        at += op->bufs[i].len;
    }
    deliver(s, op->sock, &op->to, tmp, total);
    *bytes = total; /* taken whole, whether or not it arrives (D4) */
    return SHIM_STATUS_SUCCESS;
}

bool kern_dgram_overflow_packet(sim_ctx *s) { return sim__choose(s, SIM_CHOICE_MSGSKIP, 2, NULL, SIM_NO_CURRENT) == 1; }

/* ---- The seam: WSARecvFrom, WSASendTo ---- */

/* MSG_OOB, and the error for it on a socket that is not stream-style (FACTS.md D9). */
#define DGRAM_MSG_OOB 0x1u
#define DGRAM_WSAEOPNOTSUPP 10045u

static bool dgram_sock(sim_ctx *s, shim_handle h, uint32_t *sid) {
    return kern_handle_get(kern(s), h, KERN_H_SOCKET, sid) && kern_is_dgram(&kern(s)->socks[*sid]);
}

static int wsa_recv_from(void *ctx, shim_handle h, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes,
                         uint32_t *flags, shim_sockaddr_in *from, int *fromlen, shim_overlapped *ov) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    kern_flags_modelled(s, "WSARecvFrom", flags != NULL ? *flags : 0);
    uint32_t sid;
    if (kern_handle_get(kern(s), h, KERN_H_SOCKET, &sid) && !kern_is_dgram(&kern(s)->socks[sid])) {
        kern_set_error(s, SHIM_WSAEINVAL); /* this model has no connected stream WSARecvFrom */
        return SHIM_SOCKET_ERROR;
    }
    if (flags != NULL && (*flags & DGRAM_MSG_OOB) != 0 && dgram_sock(s, h, &sid)) {
        kern_set_error(s, DGRAM_WSAEOPNOTSUPP); /* D9: [D] WSARecvFrom, MSG_OOB on a datagram socket */
        return SHIM_SOCKET_ERROR;
    }
    if (from != NULL && (fromlen == NULL || *fromlen < (int)sizeof(shim_sockaddr_in))) {
        kern_set_error(s, SHIM_WSAEFAULT); /* [D] WSARecvFrom: lpFromlen too small */
        return SHIM_SOCKET_ERROR;
    }
    if (dgram_sock(s, h, &sid) && kern(s)->socks[sid].lport == 0) {
        kern_set_error(s, SHIM_WSAEINVAL); /* [D] WSARecvFrom: the socket is not bound */
        return SHIM_SOCKET_ERROR;
    }
    uint32_t id = kern_op_start(s, h, bufs, nbufs, ov, false);
    if (id == UINT32_MAX) return SHIM_SOCKET_ERROR;
    if (flags != NULL) *flags = 0;
    kern_state *w = kern(s);
    w->ops[id].from = from;
    w->ops[id].fromlen = fromlen;
    kern_touch_sock(s, w->ops[id].sock);
    bool can = kern_dgram_ready(&w->socks[w->ops[id].sock]);
    return kern_op_finish(s, id, can, false, bytes, h);
}

static int wsa_send_to(void *ctx, shim_handle h, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes, uint32_t flags,
                       const shim_sockaddr_in *to, int tolen, shim_overlapped *ov) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    kern_flags_modelled(s, "WSASendTo", flags);
    uint32_t sid;
    uint64_t total = 0;
    for (uint32_t i = 0; bufs != NULL && i < nbufs; i++) total += bufs[i].len;
    uint32_t err = 0;
    if (!kern_handle_get(kern(s), h, KERN_H_SOCKET, &sid)) err = SHIM_WSAENOTSOCK;
    else if (!kern_is_dgram(&kern(s)->socks[sid])) err = SHIM_WSAEINVAL;          /* no stream sendto here */
    else if (to == NULL || tolen < (int)sizeof(shim_sockaddr_in)) err = SHIM_WSAEINVAL; /* D7, measured */
    else if (to->family != SHIM_AF_INET) err = SHIM_WSAEAFNOSUPPORT;
    else if ((flags & DGRAM_MSG_OOB) != 0) err = DGRAM_WSAEOPNOTSUPP; /* D9: [D] WSASendTo */
    if (err != 0) {
        kern_set_error(s, err);
        return SHIM_SOCKET_ERROR;
    }
    kern_state *w = kern(s);
    if (w->socks[sid].lport == 0) kern_bind_ephemeral(s, sid); /* an implicit bind */
    uint32_t id = kern_op_start(s, h, bufs, nbufs, ov, true);
    if (id == UINT32_MAX) return SHIM_SOCKET_ERROR;
    w->ops[id].to = *to;
    kern_touch_sock(s, sid);
    return kern_op_finish(s, id, true, total > KERN_DGRAM_MAX, bytes, h);
}

/* ---- The harness: a peer's sendto and recv (socket, bind: sockname.c) ---- */

static int h_sendto(void *ctx, shim_handle h, const void *buf, uint32_t len, const shim_sockaddr_in *to) {
    sim_ctx *s = ctx;
    uint32_t sid;
    if (!kern_sock_call(s, h, &sid)) return -1;
    kern_state *w = kern(s);
    kern_touch_sock(s, sid);
    if (!kern_is_dgram(&w->socks[sid]) || to == NULL) {
        kern_set_error(s, SHIM_WSAEINVAL);
        return -1;
    }
    if (len > KERN_DGRAM_MAX) {
        kern_set_error(s, SHIM_WSAEMSGSIZE);
        return -1;
    }
    if (w->socks[sid].lport == 0) kern_bind_ephemeral(s, sid); /* an implicit bind */
    deliver(s, sid, to, buf, len);
    sim__event(s, SIM_EV_SOCK_PEER, h, 0, len, 0);
    return (int)len;
}

/* The peer's recv on a datagram socket: one datagram, its tail dropped. */
int kern_dgram_recv_sync(sim_ctx *s, shim_handle h, uint32_t sid, void *buf, uint32_t len, bool wait) {
    kern_state *w = kern(s);
    kern_sock *so = &w->socks[sid];
    for (;;) {
        kern_touch_sock(s, sid);
        if (kern_dgram_ready(so)) {
            uint32_t dlen;
            uint16_t port;
            uint32_t n = take(s, so, NULL, buf, len, &dlen, &port);
            sim__event(s, SIM_EV_SOCK_PEER, h, 4, n, 0);
            return (int)n;
        }
        if (!wait) {
            sim__event(s, SIM_EV_SOCK_PEER, h, 4, 0, 0);
            return 0;
        }
        so->recv_waiter = s->current + 1;
        sim__block(s, (sim_wait_kind)KERN_WAIT_PEER_RECV, sid, -1);
        so->recv_waiter = 0;
    }
}

void kern_dgram_fill(shim *sh, shim_harness *hn) {
    sh->wsa_recv_from = wsa_recv_from;
    sh->wsa_send_to = wsa_send_to;
    hn->sock_sendto_sync = h_sendto;
}
