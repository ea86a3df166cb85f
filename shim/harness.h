/* harness.h - what only a test harness calls: the other half of the seam.
 *
 * The poller never spawns threads, sleeps, plays the peer of a socket or
 * sets the last error; scenarios and tests do. Keeping those calls out of
 * `shim` (iocp_shim.h) means a wrapper of the poller's seam (the recorder,
 * the fault shim) carries none of them. Each backend fills one of these
 * beside its shim; like the seam it is versioned and checked by its users.
 */
#ifndef IOCPCHECK_SHIM_HARNESS_H
#define IOCPCHECK_SHIM_HARNESS_H

#include "iocp_shim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SHIM_HARNESS_VERSION_1 1
/* v2: datagram sockets (socket, bind, getsockname, sendto), appended. */
#define SHIM_HARNESS_VERSION_2 2
#define SHIM_HARNESS_VERSION SHIM_HARNESS_VERSION_2

typedef void (*shim_thread_fn)(void *arg);

typedef struct shim_harness {
    int version;      /* SHIM_HARNESS_VERSION_n */
    const char *name; /* "sim", "win32" */
    void *ctx;        /* passed back as the first argument of every call */

    /* SetLastError for the calling thread (tests that check it is read back). */
    void (*set_last_error)(void *ctx, uint32_t err);

    /* == the peer side of sockets ==
     * A connected stream pair: out[0] and out[1], both overlapped-capable
     * (real backend: loopback TCP). */
    bool (*socket_pair)(void *ctx, shim_handle out[2]);
    /* Blocking, non-overlapped send of all `len` bytes from the peer side.
     * Returns bytes sent or -1. */
    int (*sock_send_sync)(void *ctx, shim_handle s, const void *buf, uint32_t len);
    /* Graceful close of the sending side: the other end reads 0 bytes. */
    bool (*sock_shutdown_send)(void *ctx, shim_handle s);
    /* Abortive close (linger 0): the other end sees a reset. */
    bool (*sock_abort)(void *ctx, shim_handle s);
    /* Non-overlapped receive on the peer side of up to `len` bytes. `wait`:
     * blocks until a byte, EOF or an error; else takes only what is buffered
     * now. Returns the bytes received (0: EOF, or with !wait nothing
     * buffered), -1 on an error (a reset: WSAECONNRESET). The peer reads
     * only here: between calls it has stopped reading, and what the poller
     * sends piles up to the flow-control bound. */
    int (*sock_recv_sync)(void *ctx, shim_handle s, void *buf, uint32_t len, bool wait);

    /* == time and threads ==
     * Sleeps at least `ns`; 0 yields (a scheduling point in the simulator). */
    void (*sleep_ns)(void *ctx, int64_t ns);
    /* Thread creation; `name` appears in traces and reports. */
    bool (*thread_spawn)(void *ctx, shim_thread *t, shim_thread_fn fn, void *arg, const char *name);
    void (*thread_join)(void *ctx, shim_thread *t);

    /* == v2: datagram sockets. The poller never creates or binds a socket
     * (Go's net package does, before internal/poll sees it): these are the
     * harness's, Win32-shaped with Winsock's codes. ==
     * WSASocketW(af, type, protocol, NULL, 0, WSA_FLAG_OVERLAPPED): only
     * AF_INET / SOCK_DGRAM / IPPROTO_UDP (or 0) is needed; INVALID with
     * 10047 (WSAEAFNOSUPPORT) for another family. The socket takes
     * overlapped WSARecvFrom / WSASendTo and the peer calls below. */
    shim_handle (*socket)(void *ctx, int af, int type, int protocol);
    /* bind: 127.0.0.1 or INADDR_ANY, port 0 = an ephemeral port. 0, or
     * SOCKET_ERROR with 10048 (port in use), 10049 (not a local address),
     * 10022 (already bound), 10014 (namelen < 16), 10038 (not a socket). */
    int (*bind)(void *ctx, shim_handle s, const shim_sockaddr_in *addr, int namelen);
    /* getsockname: the bound address (the ephemeral port chosen). 10022
     * while unbound (Winsock), 10014 when *namelen < 16. */
    int (*getsockname)(void *ctx, shim_handle s, shim_sockaddr_in *addr, int *namelen);
    /* Blocking, non-overlapped sendto of one datagram of `len` bytes from
     * the peer side. Returns `len` or -1 (10040 over 65,507 bytes). A
     * datagram may be lost: a full receive queue drops it (sim: choice 'm'). */
    int (*sock_sendto_sync)(void *ctx, shim_handle s, const void *buf, uint32_t len, const shim_sockaddr_in *to);
} shim_harness;

/* Shorthands: the call with the harness's own context. */
static inline void harness_set_last_error(const shim_harness *h, uint32_t err) { h->set_last_error(h->ctx, err); }
static inline bool harness_socket_pair(const shim_harness *h, shim_handle out[2]) { return h->socket_pair(h->ctx, out); }
static inline int harness_send(const shim_harness *h, shim_handle s, const void *buf, uint32_t len) {
    return h->sock_send_sync(h->ctx, s, buf, len);
}
static inline bool harness_shutdown_send(const shim_harness *h, shim_handle s) {
    return h->sock_shutdown_send(h->ctx, s);
}
static inline bool harness_abort(const shim_harness *h, shim_handle s) { return h->sock_abort(h->ctx, s); }
static inline int harness_recv(const shim_harness *h, shim_handle s, void *buf, uint32_t len, bool wait) {
    return h->sock_recv_sync(h->ctx, s, buf, len, wait);
}
static inline void harness_sleep(const shim_harness *h, int64_t ns) { h->sleep_ns(h->ctx, ns); }
static inline bool harness_spawn(const shim_harness *h, shim_thread *t, shim_thread_fn fn, void *arg,
                                 const char *name) {
    return h->thread_spawn(h->ctx, t, fn, arg, name);
}
static inline void harness_join(const shim_harness *h, shim_thread *t) { h->thread_join(h->ctx, t); }

static inline bool shim_harness_has_dgram(const shim_harness *h) {
    return h != NULL && h->version >= SHIM_HARNESS_VERSION_2 && h->socket != NULL && h->bind != NULL &&
           h->getsockname != NULL && h->sock_sendto_sync != NULL;
}

/* A datagram socket bound to 127.0.0.1 on an ephemeral port, its address
 * in *addr; SHIM_INVALID_HANDLE on failure (the socket closed again). */
static inline shim_handle harness_udp_socket(const shim_harness *h, const shim *sh, shim_sockaddr_in *addr) {
    shim_handle s = h->socket(h->ctx, SHIM_AF_INET, SHIM_SOCK_DGRAM, SHIM_IPPROTO_UDP);
    if (s == SHIM_INVALID_HANDLE) return s;
    shim_sockaddr_in a = {SHIM_AF_INET, 0, shim_htonl(SHIM_INADDR_LOOPBACK), {0}};
    int len = (int)sizeof a;
    if (h->bind(h->ctx, s, &a, len) != 0 || h->getsockname(h->ctx, s, addr, &len) != 0) {
        sh->closesocket(sh->ctx, s);
        return SHIM_INVALID_HANDLE;
    }
    return s;
}

/* NULL when `h` has at least `min_version` and every call, else why not. */
static inline const char *shim_harness_check(const shim_harness *h, int min_version) {
    if (h == NULL) return "no harness";
    if (h->version < min_version) return "harness version too old for this consumer";
    if (h->set_last_error == NULL || h->socket_pair == NULL || h->sock_send_sync == NULL ||
        h->sock_shutdown_send == NULL || h->sock_abort == NULL || h->sock_recv_sync == NULL || h->sleep_ns == NULL || h->thread_spawn == NULL ||
        h->thread_join == NULL)
        return "harness lacks a call";
    if (min_version >= SHIM_HARNESS_VERSION_2 && !shim_harness_has_dgram(h)) return "harness lacks a datagram call (v2)";
    return NULL;
}

#ifdef __cplusplus
}
#endif

#endif
