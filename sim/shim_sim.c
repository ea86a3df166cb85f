/* shim_sim.c - the simulator's shim: fills the seam's function table.
 *
 * The synchronization, time and thread calls come from sync.c. The
 * completion-port, socket and wait-packet calls belong to the simulated
 * port (the next layer of the simulator); until it is linked in they fail
 * with ERROR_CALL_NOT_IMPLEMENTED (120), as an absent Win32 export would,
 * and the wait-packet capability is not advertised.
 */
#include <string.h>

#include "sim_internal.h"

static uint32_t get_last_error(void *ctx) {
    sim_ctx *s = ctx;
    return s->threads[s->current].last_error;
}

static void set_last_error(void *ctx, uint32_t err) {
    sim_ctx *s = ctx;
    s->threads[s->current].last_error = err;
}

static void not_implemented(sim_ctx *s) {
    sim__sched_point(s);
    s->threads[s->current].last_error = SHIM_ERROR_CALL_NOT_IMPLEMENTED;
}

static shim_handle create_port(void *ctx, shim_handle f, shim_handle e, uintptr_t k, uint32_t c) {
    (void)f, (void)e, (void)k, (void)c;
    not_implemented(ctx);
    return SHIM_NULL_HANDLE;
}
static bool gqcs(void *ctx, shim_handle p, uint32_t *b, uintptr_t *k, shim_overlapped **ov, uint32_t t) {
    (void)p, (void)b, (void)k, (void)t;
    *ov = NULL;
    not_implemented(ctx);
    return false;
}
static bool gqcs_ex(void *ctx, shim_handle p, shim_overlapped_entry *e, uint32_t c, uint32_t *r, uint32_t t,
                    bool a) {
    (void)p, (void)e, (void)c, (void)t, (void)a;
    *r = 0;
    not_implemented(ctx);
    return false;
}
static bool post(void *ctx, shim_handle p, uint32_t b, uintptr_t k, shim_overlapped *ov) {
    (void)p, (void)b, (void)k, (void)ov;
    not_implemented(ctx);
    return false;
}
static bool close_handle(void *ctx, shim_handle h) {
    (void)h;
    not_implemented(ctx);
    return false;
}
static int wsa_recv(void *ctx, shim_handle s, shim_wsabuf *b, uint32_t n, uint32_t *by, uint32_t *f,
                    shim_overlapped *ov) {
    (void)s, (void)b, (void)n, (void)by, (void)f, (void)ov;
    not_implemented(ctx);
    return SHIM_SOCKET_ERROR;
}
static int wsa_send(void *ctx, shim_handle s, shim_wsabuf *b, uint32_t n, uint32_t *by, uint32_t f,
                    shim_overlapped *ov) {
    (void)s, (void)b, (void)n, (void)by, (void)f, (void)ov;
    not_implemented(ctx);
    return SHIM_SOCKET_ERROR;
}
static bool cancel_io_ex(void *ctx, shim_handle h, shim_overlapped *ov) {
    (void)h, (void)ov;
    not_implemented(ctx);
    return false;
}
static int closesocket_(void *ctx, shim_handle s) {
    (void)s;
    not_implemented(ctx);
    return SHIM_SOCKET_ERROR;
}
static bool set_modes(void *ctx, shim_handle h, uint8_t f) {
    (void)h, (void)f;
    not_implemented(ctx);
    return false;
}
static bool get_result(void *ctx, shim_handle s, shim_overlapped *ov, uint32_t *b, bool w, uint32_t *f) {
    (void)s, (void)ov, (void)b, (void)w, (void)f;
    not_implemented(ctx);
    return false;
}
static bool socket_pair(void *ctx, shim_handle out[2]) {
    out[0] = out[1] = SHIM_INVALID_HANDLE;
    not_implemented(ctx);
    return false;
}
static int send_sync(void *ctx, shim_handle s, const void *b, uint32_t l) {
    (void)s, (void)b, (void)l;
    not_implemented(ctx);
    return -1;
}
static bool sock_flag(void *ctx, shim_handle s) {
    (void)s;
    not_implemented(ctx);
    return false;
}

void sim__fill_shim(sim_ctx *s) {
    shim *sh = &s->shim;
    memset(sh, 0, sizeof *sh);
    sh->version = SHIM_VERSION_1;
    sh->name = "sim";
    sh->ctx = s;
    sh->caps = 0;
    sh->create_io_completion_port = create_port;
    sh->get_queued_completion_status = gqcs;
    sh->get_queued_completion_status_ex = gqcs_ex;
    sh->post_queued_completion_status = post;
    sh->close_handle = close_handle;
    sh->wsa_recv = wsa_recv;
    sh->wsa_send = wsa_send;
    sh->cancel_io_ex = cancel_io_ex;
    sh->closesocket = closesocket_;
    sh->set_file_completion_notification_modes = set_modes;
    sh->wsa_get_overlapped_result = get_result;
    sh->get_last_error = get_last_error;
    sh->set_last_error = set_last_error;
    sh->socket_pair = socket_pair;
    sh->sock_send_sync = send_sync;
    sh->sock_shutdown_send = sock_flag;
    sh->sock_abort = sock_flag;
    sim__fill_sync(sh);
}
