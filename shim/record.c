/* record.c - the recording shim: forwards every call to an inner shim and
 * writes the calls the models need into a model trace.
 *
 * Recorded (trace.h has the arguments): port creation and association,
 * posts, dequeues (GetQueuedCompletionStatus and ...Ex: a MEV_WAIT_BEGIN
 * before the call, one MEV_DEQUEUE per entry removed, MEV_DEQUEUE_FAIL on
 * failure), WSARecv/WSASend (MEV_SUBMIT), CancelIoEx, WSAGetOverlappedResult,
 * SetFileCompletionNotificationModes, closesocket and CloseHandle. Atomics,
 * locks, semaphores, time and threads pass straight through: they are
 * scheduling points of the simulator already and would only bloat the trace.
 *
 * The recorder is invisible to the code under test:
 *  - it makes no seam call of its own (thread and time come from the trace's
 *    model_clock), except get_last_error after an inner call that failed,
 *    which reads and changes nothing;
 *  - every return value, out-parameter and last error is the inner shim's.
 * Calls whose effects another thread may record (a post's packet being
 * dequeued, a submission completing, a socket's packets after its close) are
 * recorded before the inner call and their results filled in after, so on
 * a real backend an effect never precedes its cause in the trace.
 */
#include <string.h>

#include "../models/trace.h"
#include "sock_pass.h"

/* socket_is_ifs answers, kept per socket ordinal for MEV_SET_MODES a3. */
#define IFS_UNKNOWN 0u
#define IFS_YES 1u
#define IFS_NO 2u

static inline const shim *IN(void *ctx) { return ((model_rec *)ctx)->inner; }
static inline void *ICTX(void *ctx) { return ((model_rec *)ctx)->inner->ctx; }
static inline model_trace *TR(void *ctx) { return ((model_rec *)ctx)->trace; }

/* ---- Completion ports ---- */

static shim_handle rec_create_port(void *ctx, shim_handle file, shim_handle existing, uintptr_t key,
                                   uint32_t concurrency) {
    shim_handle r = IN(ctx)->create_io_completion_port(ICTX(ctx), file, existing, key, concurrency);
    model_trace *t = TR(ctx);
    bool has_file = file != SHIM_INVALID_HANDLE;
    if (existing == SHIM_NULL_HANDLE && (r != SHIM_NULL_HANDLE || !has_file))
        model_emit(t, MEV_PORT_CREATE, model_handle(t, r), 0, 0, 0, 0);
    if (has_file || existing != SHIM_NULL_HANDLE) {
        shim_handle port = r != SHIM_NULL_HANDLE ? r : existing;
        model_emit(t, MEV_ASSOCIATE, model_handle(t, port), model_handle(t, file), key, r != SHIM_NULL_HANDLE, 0);
    }
    return r;
}

static uint64_t entry_status(const shim_overlapped *ov) { return ov != NULL ? (uint32_t)ov->internal : 0; }

static bool rec_gqcs(void *ctx, shim_handle port, uint32_t *bytes, uintptr_t *key, shim_overlapped **ov,
                     uint32_t timeout_ms) {
    model_trace *t = TR(ctx);
    uint64_t ph = model_handle(t, port);
    model_emit(t, MEV_WAIT_BEGIN, ph, timeout_ms, 1, 0, 0);
    bool ok = IN(ctx)->get_queued_completion_status(ICTX(ctx), port, bytes, key, ov, timeout_ms);
    shim_overlapped *o = ov != NULL ? *ov : NULL;
    if (ok || o != NULL) {
        /* TRUE, or FALSE with an OVERLAPPED: a packet was removed (a failed
         * I/O's). Its status is in the OVERLAPPED's Internal by now (§3). */
        model_emit(t, MEV_DEQUEUE, ph, key != NULL ? *key : 0, model_ov(t, o), entry_status(o),
                   bytes != NULL ? *bytes : 0);
    } else {
        uint32_t err = IN(ctx)->get_last_error(ICTX(ctx));
        model_emit(t, MEV_DEQUEUE_FAIL, ph, err, timeout_ms, 0, 0);
    }
    return ok;
}

static bool rec_gqcs_ex(void *ctx, shim_handle port, shim_overlapped_entry *entries, uint32_t count,
                        uint32_t *removed, uint32_t timeout_ms, bool alertable) {
    model_trace *t = TR(ctx);
    uint64_t ph = model_handle(t, port);
    model_emit(t, MEV_WAIT_BEGIN, ph, timeout_ms, count, 0, 0);
    bool ok = IN(ctx)->get_queued_completion_status_ex(ICTX(ctx), port, entries, count, removed, timeout_ms, alertable);
    if (ok) {
        uint32_t n = removed != NULL ? *removed : 0;
        for (uint32_t i = 0; i < n && i < count; i++) {
            const shim_overlapped_entry *e = &entries[i];
            model_emit(t, MEV_DEQUEUE, ph, e->key, model_ov(t, e->overlapped), (uint32_t)e->internal, e->bytes);
        }
    } else {
        uint32_t err = IN(ctx)->get_last_error(ICTX(ctx));
        model_emit(t, MEV_DEQUEUE_FAIL, ph, err, timeout_ms, 0, 0);
    }
    return ok;
}

static bool rec_post(void *ctx, shim_handle port, uint32_t bytes, uintptr_t key, shim_overlapped *ov) {
    model_trace *t = TR(ctx);
    uint32_t at = model_emit_at(t, MEV_POST, model_handle(t, port), key, model_ov(t, ov), bytes, 1);
    bool ok = IN(ctx)->post_queued_completion_status(ICTX(ctx), port, bytes, key, ov);
    if (!ok) model_patch(t, at, 4, 0);
    return ok;
}

static bool rec_close_handle(void *ctx, shim_handle h) {
    model_trace *t = TR(ctx);
    uint32_t at = model_emit_at(t, MEV_CLOSE_HANDLE, model_handle(t, h), 1, 0, 0, 0);
    bool ok = IN(ctx)->close_handle(ICTX(ctx), h);
    if (ok) model_handle_retire(t, h);
    else model_patch(t, at, 1, 0);
    return ok;
}

/* ---- Overlapped socket I/O ---- */

/* The submission is recorded as pending first; the result is filled in. */
static int submit_done(void *ctx, uint32_t at, int rc, const uint32_t *bytes) {
    model_trace *t = TR(ctx);
    if (rc == 0) {
        model_patch(t, at, 3, 0);
        model_patch(t, at, 4, bytes != NULL ? *bytes : 0);
    } else {
        uint32_t err = IN(ctx)->get_last_error(ICTX(ctx));
        if (err != SHIM_ERROR_IO_PENDING) model_patch(t, at, 3, err);
        /* A synchronous warning (WSAEMSGSIZE) still reports its bytes. */
        if (err == SHIM_WSAEMSGSIZE && bytes != NULL) model_patch(t, at, 4, *bytes);
    }
    return rc;
}

static int rec_wsa_recv(void *ctx, shim_handle s, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes, uint32_t *flags,
                        shim_overlapped *ov) {
    model_trace *t = TR(ctx);
    uint32_t at = model_emit_at(t, MEV_SUBMIT, model_handle(t, s), model_ov(t, ov), 'r', SHIM_ERROR_IO_PENDING, 0);
    int rc = IN(ctx)->wsa_recv(ICTX(ctx), s, bufs, nbufs, bytes, flags, ov);
    return submit_done(ctx, at, rc, bytes);
}

static int rec_wsa_send(void *ctx, shim_handle s, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes, uint32_t flags,
                        shim_overlapped *ov) {
    model_trace *t = TR(ctx);
    uint32_t at = model_emit_at(t, MEV_SUBMIT, model_handle(t, s), model_ov(t, ov), 'w', SHIM_ERROR_IO_PENDING, 0);
    int rc = IN(ctx)->wsa_send(ICTX(ctx), s, bufs, nbufs, bytes, flags, ov);
    return submit_done(ctx, at, rc, bytes);
}

/* AcceptEx reads on the listener and ConnectEx writes on its socket, as
 * Go's read and write operations: the models take them as submissions of
 * that direction (their packets and OVERLAPPEDs obey the same rules). */
static bool rec_accept_ex(void *ctx, shim_handle l, shim_handle a, void *buf, uint32_t rl, uint32_t ll, uint32_t ral,
                          uint32_t *bytes, shim_overlapped *ov) {
    model_trace *t = TR(ctx);
    uint32_t at = model_emit_at(t, MEV_SUBMIT, model_handle(t, l), model_ov(t, ov), 'r', SHIM_ERROR_IO_PENDING, 0);
    bool ok = IN(ctx)->accept_ex(ICTX(ctx), l, a, buf, rl, ll, ral, bytes, ov);
    submit_done(ctx, at, ok ? 0 : SHIM_SOCKET_ERROR, bytes);
    return ok;
}

static bool rec_connect_ex(void *ctx, shim_handle s, const shim_sockaddr_in *to, int len, shim_overlapped *ov) {
    model_trace *t = TR(ctx);
    uint32_t at = model_emit_at(t, MEV_SUBMIT, model_handle(t, s), model_ov(t, ov), 'w', SHIM_ERROR_IO_PENDING, 0);
    bool ok = IN(ctx)->connect_ex(ICTX(ctx), s, to, len, ov);
    submit_done(ctx, at, ok ? 0 : SHIM_SOCKET_ERROR, NULL);
    return ok;
}

/* Datagrams: recorded as the same submissions (the models judge a WSARecvFrom
 * as a WSARecv: its packet rules are the same, §6). */
static int rec_wsa_recv_from(void *ctx, shim_handle s, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes,
                             uint32_t *flags, shim_sockaddr_in *from, int *fromlen, shim_overlapped *ov) {
    model_trace *t = TR(ctx);
    uint32_t at = model_emit_at(t, MEV_SUBMIT, model_handle(t, s), model_ov(t, ov), 'r', SHIM_ERROR_IO_PENDING, 0);
    int rc = IN(ctx)->wsa_recv_from(ICTX(ctx), s, bufs, nbufs, bytes, flags, from, fromlen, ov);
    return submit_done(ctx, at, rc, bytes);
}

static int rec_wsa_send_to(void *ctx, shim_handle s, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes,
                           uint32_t flags, const shim_sockaddr_in *to, int tolen, shim_overlapped *ov) {
    model_trace *t = TR(ctx);
    uint32_t at = model_emit_at(t, MEV_SUBMIT, model_handle(t, s), model_ov(t, ov), 'w', SHIM_ERROR_IO_PENDING, 0);
    int rc = IN(ctx)->wsa_send_to(ICTX(ctx), s, bufs, nbufs, bytes, flags, to, tolen, ov);
    return submit_done(ctx, at, rc, bytes);
}

SHIM_SOCK_PASS(rp, IN)

static bool rec_cancel(void *ctx, shim_handle h, shim_overlapped *ov) {
    bool ok = IN(ctx)->cancel_io_ex(ICTX(ctx), h, ov);
    uint32_t err = ok ? 0 : IN(ctx)->get_last_error(ICTX(ctx));
    model_trace *t = TR(ctx);
    model_emit(t, MEV_CANCEL, model_handle(t, h), model_ov(t, ov), ok, err, 0);
    return ok;
}

static int rec_closesocket(void *ctx, shim_handle s) {
    model_trace *t = TR(ctx);
    uint32_t at = model_emit_at(t, MEV_CLOSESOCKET, model_handle(t, s), 0, 0, 0, 0);
    int rc = IN(ctx)->closesocket(ICTX(ctx), s);
    if (rc == 0) model_handle_retire(t, s);
    else model_patch(t, at, 1, (uint64_t)(int64_t)rc);
    return rc;
}

static bool rec_set_modes(void *ctx, shim_handle h, uint8_t flags) {
    bool ok = IN(ctx)->set_file_completion_notification_modes(ICTX(ctx), h, flags);
    model_trace *t = TR(ctx);
    uint64_t ho = model_handle(t, h);
    uint8_t ifs = model_handle_aux(t, ho);
    model_emit(t, MEV_SET_MODES, ho, flags, ok, ifs == IFS_YES ? 1 : ifs == IFS_NO ? 0 : 2, 0);
    return ok;
}

static bool rec_socket_is_ifs(void *ctx, shim_handle s) {
    bool yes = IN(ctx)->socket_is_ifs(ICTX(ctx), s);
    /* Not an event of its own: remembered for the socket's MEV_SET_MODES. */
    model_trace *t = TR(ctx);
    model_handle_set_aux(t, model_handle(t, s), yes ? IFS_YES : IFS_NO);
    return yes;
}

static bool rec_get_result(void *ctx, shim_handle s, shim_overlapped *ov, uint32_t *bytes, bool wait, uint32_t *flags) {
    bool ok = IN(ctx)->wsa_get_overlapped_result(ICTX(ctx), s, ov, bytes, wait, flags);
    uint32_t err = ok ? 0 : IN(ctx)->get_last_error(ICTX(ctx));
    model_trace *t = TR(ctx);
    model_emit(t, MEV_GET_RESULT, model_handle(t, s), model_ov(t, ov), ok, err, ok && bytes != NULL ? *bytes : 0);
    return ok;
}

/* ---- Pass-through: last error, wait packets (the sync table is shared whole) ---- */

static uint32_t p_get_last_error(void *ctx) { return IN(ctx)->get_last_error(ICTX(ctx)); }
static shim_handle p_create_timer(void *ctx, bool high_res) { return IN(ctx)->create_waitable_timer(ICTX(ctx), high_res); }
static bool p_set_timer(void *ctx, shim_handle timer, int64_t due) {
    return IN(ctx)->set_waitable_timer(ICTX(ctx), timer, due);
}
static uint32_t p_create_wp(void *ctx, shim_handle *packet) {
    return IN(ctx)->nt_create_wait_completion_packet(ICTX(ctx), packet);
}
static uint32_t p_assoc_wp(void *ctx, shim_handle packet, shim_handle port, shim_handle target, uintptr_t key,
                           uintptr_t apc_ctx, uint32_t status, uintptr_t info, bool *already) {
    return IN(ctx)->nt_associate_wait_completion_packet(ICTX(ctx), packet, port, target, key, apc_ctx, status, info,
                                                        already);
}
static uint32_t p_cancel_wp(void *ctx, shim_handle packet, bool remove) {
    return IN(ctx)->nt_cancel_wait_completion_packet(ICTX(ctx), packet, remove);
}

/* Each entry is set only where the inner shim has one: optional calls stay
 * NULL, so callers probe the wrapped shim exactly as they would the inner. */
#define WRAP(field, fn) out->field = inner->field != NULL ? fn : NULL

const char *model_record_wrap(shim *out, const shim *inner, model_trace *t) {
    memset(out, 0, sizeof *out);
    /* The recorder knows the v3 layout and needs v2: refuse an older or
     * incomplete inner shim, and report the lower of the two versions upward. */
    const char *why = shim_check(inner, SHIM_VERSION_2);
    if (why != NULL) return why;
    out->version = inner->version < SHIM_VERSION_3 ? inner->version : SHIM_VERSION_3;
    out->name = "record";
    out->ctx = model_rec_slot(t, inner);
    out->caps = inner->caps;
    WRAP(create_io_completion_port, rec_create_port);
    WRAP(get_queued_completion_status, rec_gqcs);
    WRAP(get_queued_completion_status_ex, rec_gqcs_ex);
    WRAP(post_queued_completion_status, rec_post);
    WRAP(close_handle, rec_close_handle);
    WRAP(wsa_recv, rec_wsa_recv);
    WRAP(wsa_send, rec_wsa_send);
    WRAP(cancel_io_ex, rec_cancel);
    WRAP(closesocket, rec_closesocket);
    WRAP(set_file_completion_notification_modes, rec_set_modes);
    WRAP(socket_is_ifs, rec_socket_is_ifs);
    WRAP(wsa_get_overlapped_result, rec_get_result);
    WRAP(get_last_error, p_get_last_error);
    WRAP(create_waitable_timer, p_create_timer);
    WRAP(set_waitable_timer, p_set_timer);
    WRAP(nt_create_wait_completion_packet, p_create_wp);
    WRAP(nt_associate_wait_completion_packet, p_assoc_wp);
    WRAP(nt_cancel_wait_completion_packet, p_cancel_wp);
    SHIM_SOCK_WRAP(out, inner, rp);
    if (inner->version >= SHIM_VERSION_3) {
        out->accept_ex = rec_accept_ex;
        out->connect_ex = rec_connect_ex;
        out->wsa_recv_from = rec_wsa_recv_from;
        out->wsa_send_to = rec_wsa_send_to;
    }
    out->sync = inner->sync; /* nothing to record: the poller's sync calls leave no model event */
    return NULL;
}
