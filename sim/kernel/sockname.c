/* sockname.c - sockets made through the seam and their names: socket,
 * bind, getsockname for both kinds (stream: listener.c; datagram: dgram.c),
 * and the port namespace they share.
 *
 * Ports are per type, as in Winsock: a TCP and a UDP socket may hold the
 * same number. Port 0 and a datagram socket's implicit bind (its first
 * sendto) take the next free ephemeral port from KERN_EPHEMERAL_FIRST, in
 * bind order: a value a program sees, deterministic. The access log takes
 * the handle table as what names ports: a bind writes it, a lookup reads it.
 * Rows: FACTS.md S1, S2 (streams), D7 (implicit bind), and the dgram-bind
 * conformance row.
 */
#include <string.h>

#include "kernel.h"

void kern_names_reset(kern_state *w) { w->next_port = KERN_EPHEMERAL_FIRST; }

static bool same_type(const kern_sock *a, bool dgram) { return (a->role == KERN_ROLE_DGRAM) == dgram; }

/* The open socket of that type bound to `port`, or UINT32_MAX (a
 * listener's embryos share its port: the listener owns it). */
uint32_t kern_port_owner(sim_ctx *s, uint16_t port, bool dgram) {
    kern_state *w = kern(s);
    kern_touch(s, SIM_KOBJ_TABLE, 0, false);
    for (uint32_t i = 0; i < w->nsocks; i++)
        if (w->socks[i].open && w->socks[i].lport == port && same_type(&w->socks[i], dgram) &&
            w->socks[i].role != KERN_ROLE_EMBRYO)
            return i;
    return UINT32_MAX;
}

static bool taken(kern_state *w, uint16_t port, bool dgram) {
    for (uint32_t i = 0; i < w->nsocks; i++)
        if (w->socks[i].open && w->socks[i].lport == port && same_type(&w->socks[i], dgram)) return true;
    return false;
}

void kern_bind_ephemeral(sim_ctx *s, uint32_t sid) {
    kern_state *w = kern(s);
    bool dgram = w->socks[sid].role == KERN_ROLE_DGRAM;
    kern_touch(s, SIM_KOBJ_TABLE, 0, true);
    uint16_t port;
    do {
        if (w->next_port > 0xFFFFu)
            kern_limit(s, "port-limit", "limit: no ephemeral port left (ports from %u)", KERN_EPHEMERAL_FIRST);
        port = (uint16_t)w->next_port++;
    } while (taken(w, port, dgram));
    w->socks[sid].lport = port;
}

/* S1: WSASocket gives an unbound, unconnected overlapped socket: a stream
 * socket before its bind, listen or connect, or a datagram socket (no
 * peer: its `peer` is itself). Another family: WSAEAFNOSUPPORT; another
 * type or a protocol not of the type: the codes [D] WSASocketW lists. */
static shim_handle wsa_socket(void *ctx, int af, int type, int protocol) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    uint32_t err = 0;
    if (af != SHIM_AF_INET) err = SHIM_WSAEAFNOSUPPORT;
    else if (type != SHIM_SOCK_STREAM && type != SHIM_SOCK_DGRAM) err = SHIM_WSAESOCKTNOSUPPORT;
    else if (protocol != 0 && protocol != (type == SHIM_SOCK_STREAM ? SHIM_IPPROTO_TCP : SHIM_IPPROTO_UDP))
        err = SHIM_WSAEPROTONOSUPPORT;
    if (err != 0) {
        kern_set_error(s, err);
        return SHIM_INVALID_HANDLE;
    }
    uint32_t sid = kern_sock_new(s, false);
    kern_sock *so = &kern(s)->socks[sid];
    so->role = type == SHIM_SOCK_DGRAM ? KERN_ROLE_DGRAM : KERN_ROLE_FRESH;
    kern_touch_sock(s, sid);
    sim__event(s, SIM_EV_SOCK_PAIR, so->h, so->h, 0, 0); /* a socket of its own: no pair */
    return so->h;
}

/* S2 and the dgram-bind row: bind once (a second bind, or a bind of a
 * stream socket past its fresh state: WSAEINVAL); port 0 picks a free
 * ephemeral port; a port in use by a socket of the same type:
 * WSAEADDRINUSE; 127.0.0.1 or INADDR_ANY only (WSAEADDRNOTAVAIL). */
static int bind_(void *ctx, shim_handle h, const shim_sockaddr_in *a, int len) {
    sim_ctx *s = ctx;
    uint32_t sid;
    if (!kern_sock_call(s, h, &sid)) return SHIM_SOCKET_ERROR;
    kern_state *w = kern(s);
    kern_sock *so = &w->socks[sid];
    kern_touch_sock(s, sid);
    bool dgram = so->role == KERN_ROLE_DGRAM;
    uint32_t err = 0;
    uint32_t addr = a != NULL ? shim_ntohl(a->addr) : 0;
    if (a == NULL || len < (int)sizeof *a) err = SHIM_WSAEFAULT;
    else if (so->lport != 0 || (!dgram && so->role != KERN_ROLE_FRESH)) err = SHIM_WSAEINVAL;
    else if (a->family != SHIM_AF_INET) err = SHIM_WSAEAFNOSUPPORT;
    else if (addr != SHIM_INADDR_LOOPBACK && addr != 0) err = SHIM_WSAEADDRNOTAVAIL;
    else if (a->port != 0 && kern_port_owner(s, shim_ntohs(a->port), dgram) != UINT32_MAX) err = SHIM_WSAEADDRINUSE;
    if (err != 0) {
        kern_set_error(s, err);
        return SHIM_SOCKET_ERROR;
    }
    if (a->port == 0) {
        kern_bind_ephemeral(s, sid);
    } else {
        kern_touch(s, SIM_KOBJ_TABLE, 0, true);
        so->lport = shim_ntohs(a->port);
    }
    return 0;
}

/* The bound address, as 127.0.0.1 (the only local address here); 10022
 * while unbound ([D] getsockname), 10014 for a short buffer. */
static int getsockname_(void *ctx, shim_handle h, shim_sockaddr_in *a, int *len) {
    sim_ctx *s = ctx;
    uint32_t sid;
    if (!kern_sock_call(s, h, &sid)) return SHIM_SOCKET_ERROR;
    kern_sock *so = &kern(s)->socks[sid];
    kern_touch_sock(s, sid);
    uint32_t err = a == NULL || len == NULL || *len < (int)sizeof *a ? SHIM_WSAEFAULT : so->lport == 0 ? SHIM_WSAEINVAL : 0;
    if (err != 0) {
        kern_set_error(s, err);
        return SHIM_SOCKET_ERROR;
    }
    kern_sockaddr(a, so->lport);
    *len = (int)sizeof *a;
    return 0;
}

void kern_sockaddr(shim_sockaddr_in *a, uint16_t port) { *a = shim_addr_in(SHIM_INADDR_LOOPBACK, port); }

void kern_names_fill(shim *sh) {
    sh->wsa_socket = wsa_socket;
    sh->bind = bind_;
    sh->getsockname = getsockname_;
}
