/* sock_pass.h - pass-through of the seam's v3 socket calls for wrappers.
 *
 * A wrapper (the recorder, the fault shim) that has nothing to add to a
 * socket call forwards it to its inner shim. SHIM_SOCK_PASS(P, INNER)
 * defines P_socket, P_bind, ... forwarding through INNER(ctx), the inner
 * shim; SHIM_SOCK_WRAP(out, inner, P) sets the fields when the inner shim
 * is v3 (shim_check has then vouched for every call) and leaves them NULL
 * for an older one, whose version the wrapper reports. A wrapper that
 * records or fails a call sets that field after.
 */
#ifndef IOCPCHECK_SHIM_SOCK_PASS_H
#define IOCPCHECK_SHIM_SOCK_PASS_H

#include "iocp_shim.h"

#define SHIM_SOCK_PASS(P, INNER)                                                                                    \
    static shim_handle P##_socket(void *ctx, int af, int type, int proto) {                                        \
        return INNER(ctx)->wsa_socket(INNER(ctx)->ctx, af, type, proto);                                           \
    }                                                                                                               \
    static int P##_bind(void *ctx, shim_handle s, const shim_sockaddr_in *a, int len) {                           \
        return INNER(ctx)->bind(INNER(ctx)->ctx, s, a, len);                                                       \
    }                                                                                                               \
    static int P##_listen(void *ctx, shim_handle s, int backlog) {                                                 \
        return INNER(ctx)->listen(INNER(ctx)->ctx, s, backlog);                                                    \
    }                                                                                                               \
    static int P##_getsockname(void *ctx, shim_handle s, shim_sockaddr_in *a, int *len) {                         \
        return INNER(ctx)->getsockname(INNER(ctx)->ctx, s, a, len);                                                \
    }                                                                                                               \
    static bool P##_accept_ex(void *ctx, shim_handle l, shim_handle a, void *buf, uint32_t rl, uint32_t ll,       \
                              uint32_t ral, uint32_t *bytes, shim_overlapped *ov) {                                \
        return INNER(ctx)->accept_ex(INNER(ctx)->ctx, l, a, buf, rl, ll, ral, bytes, ov);                         \
    }                                                                                                               \
    static int P##_setsockopt(void *ctx, shim_handle s, int level, int opt, const void *v, int len) {             \
        return INNER(ctx)->setsockopt(INNER(ctx)->ctx, s, level, opt, v, len);                                     \
    }                                                                                                               \
    static int P##_ioctl_ext(void *ctx, shim_handle s, uint32_t which) {                                           \
        return INNER(ctx)->wsa_ioctl_get_extension(INNER(ctx)->ctx, s, which);                                     \
    }                                                                                                               \
    static bool P##_connect_ex(void *ctx, shim_handle s, const shim_sockaddr_in *to, int len, shim_overlapped *ov) { \
        return INNER(ctx)->connect_ex(INNER(ctx)->ctx, s, to, len, ov);                                            \
    }                                                                                                               \
    static int P##_shutdown(void *ctx, shim_handle s, int how) { return INNER(ctx)->shutdown(INNER(ctx)->ctx, s, how); } \
    static int P##_recv_from(void *ctx, shim_handle s, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes,        \
                             uint32_t *flags, shim_sockaddr_in *from, int *fromlen, shim_overlapped *ov) {         \
        return INNER(ctx)->wsa_recv_from(INNER(ctx)->ctx, s, bufs, nbufs, bytes, flags, from, fromlen, ov);       \
    }                                                                                                               \
    static int P##_send_to(void *ctx, shim_handle s, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes,          \
                           uint32_t flags, const shim_sockaddr_in *to, int tolen, shim_overlapped *ov) {           \
        return INNER(ctx)->wsa_send_to(INNER(ctx)->ctx, s, bufs, nbufs, bytes, flags, to, tolen, ov);             \
    }

#define SHIM_SOCK_WRAP(out, inner, P)                                                                               \
    do {                                                                                                            \
        if ((inner)->version < SHIM_VERSION_3) break;                                                               \
        (out)->wsa_socket = P##_socket;                                                                             \
        (out)->bind = P##_bind;                                                                                     \
        (out)->listen = P##_listen;                                                                                 \
        (out)->getsockname = P##_getsockname;                                                                       \
        (out)->accept_ex = P##_accept_ex;                                                                           \
        (out)->setsockopt = P##_setsockopt;                                                                         \
        (out)->wsa_ioctl_get_extension = P##_ioctl_ext;                                                             \
        (out)->connect_ex = P##_connect_ex;                                                                         \
        (out)->shutdown = P##_shutdown;                                                                             \
        (out)->wsa_recv_from = P##_recv_from;                                                                       \
        (out)->wsa_send_to = P##_send_to;                                                                           \
    } while (0)

#endif
