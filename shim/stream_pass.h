/* stream_pass.h - pass-through of the seam's stream group for wrappers.
 *
 * A wrapper (the recorder, the fault shim) that has nothing to add to a
 * stream call forwards it to its inner shim. SHIM_STREAM_PASS(P, INNER)
 * defines P_socket, P_bind, ... forwarding through INNER(ctx), the inner
 * shim; SHIM_STREAM_WRAP(out, inner, P) sets the fields (NULL where the
 * inner shim has none, so callers probe the wrapper as they would the inner).
 * A wrapper that records or fails a call sets that field after.
 */
#ifndef IOCPCHECK_SHIM_STREAM_PASS_H
#define IOCPCHECK_SHIM_STREAM_PASS_H

#include "iocp_shim.h"

#define SHIM_STREAM_PASS(P, INNER)                                                                                  \
    static shim_handle P##_socket(void *ctx) { return INNER(ctx)->wsa_socket(INNER(ctx)->ctx); }                   \
    static int P##_bind(void *ctx, shim_handle s, const shim_sockaddr_in *a) {                                     \
        return INNER(ctx)->bind(INNER(ctx)->ctx, s, a);                                                            \
    }                                                                                                               \
    static int P##_listen(void *ctx, shim_handle s, int backlog) {                                                 \
        return INNER(ctx)->listen(INNER(ctx)->ctx, s, backlog);                                                    \
    }                                                                                                               \
    static int P##_getsockname(void *ctx, shim_handle s, shim_sockaddr_in *a) {                                    \
        return INNER(ctx)->getsockname(INNER(ctx)->ctx, s, a);                                                     \
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
    static bool P##_connect_ex(void *ctx, shim_handle s, const shim_sockaddr_in *to, shim_overlapped *ov) {       \
        return INNER(ctx)->connect_ex(INNER(ctx)->ctx, s, to, ov);                                                 \
    }                                                                                                               \
    static int P##_shutdown(void *ctx, shim_handle s, int how) { return INNER(ctx)->shutdown(INNER(ctx)->ctx, s, how); }

#define SHIM_STREAM_WRAP(out, inner, P)                                                                             \
    do {                                                                                                            \
        (out)->wsa_socket = (inner)->wsa_socket != NULL ? P##_socket : NULL;                                       \
        (out)->bind = (inner)->bind != NULL ? P##_bind : NULL;                                                     \
        (out)->listen = (inner)->listen != NULL ? P##_listen : NULL;                                               \
        (out)->getsockname = (inner)->getsockname != NULL ? P##_getsockname : NULL;                                \
        (out)->accept_ex = (inner)->accept_ex != NULL ? P##_accept_ex : NULL;                                      \
        (out)->setsockopt = (inner)->setsockopt != NULL ? P##_setsockopt : NULL;                                   \
        (out)->wsa_ioctl_get_extension = (inner)->wsa_ioctl_get_extension != NULL ? P##_ioctl_ext : NULL;          \
        (out)->connect_ex = (inner)->connect_ex != NULL ? P##_connect_ex : NULL;                                   \
        (out)->shutdown = (inner)->shutdown != NULL ? P##_shutdown : NULL;                                         \
    } while (0)

#endif
