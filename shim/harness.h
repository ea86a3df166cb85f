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
/* v2: the peer side of the seam's v3 sockets, appended: a client that
 * connects to a listener, a datagram sender. (The sockets themselves are
 * made and bound through the seam: shim.wsa_socket, bind, getsockname.) */
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

    /* == v2: the peer side of sockets (the seam's v3 calls) ==
     * Blocking connect of a new peer-side socket to `to`: true with *out
     * connected (queued in the listener's backlog until accepted), false
     * with the last error (10061 refused). Its sends, reads, shutdown and
     * abort are the calls above. */
    bool (*sock_connect)(void *ctx, const shim_sockaddr_in *to, shim_handle *out);
    /* Blocking, non-overlapped sendto of one datagram of `len` bytes from
     * a datagram socket (made with shim.wsa_socket). Returns `len` or -1
     * (10040 over 65,507 bytes). A datagram may be lost: a full receive
     * queue drops it (sim: choice 'd'). */
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

/* NULL when `h` has at least `min_version` and every call, else why not. */
static inline const char *shim_harness_check(const shim_harness *h, int min_version) {
    if (h == NULL) return "no harness";
    if (h->version < min_version) return "harness version too old for this consumer";
    if (h->set_last_error == NULL || h->socket_pair == NULL || h->sock_send_sync == NULL ||
        h->sock_shutdown_send == NULL || h->sock_abort == NULL || h->sock_recv_sync == NULL || h->sleep_ns == NULL || h->thread_spawn == NULL ||
        h->thread_join == NULL)
        return "harness lacks a call";
    if (h->version >= SHIM_HARNESS_VERSION_2) { /* a table says what it has: all of v2 */
        if (h->sock_connect == NULL) return "harness lacks the stream peer call (v2: sock_connect)";
        if (h->sock_sendto_sync == NULL) return "harness lacks the datagram peer call (v2: sock_sendto_sync)";
    }
    return NULL;
}

#ifdef __cplusplus
}
#endif

#endif
