/* shim_sim.c - the simulator's shim: fills the seam's function table.
 *
 * The synchronization and time table and the harness's thread and sleep
 * calls come from sync.c; the
 * completion-port, socket and wait-packet calls from the simulated kernel
 * (port.c, sock.c, waitpkt.c), which kern_attach plugs into the engine as
 * its kernel. CloseHandle, which spans every kind of handle, and the last
 * error live here.
 */
#include <string.h>

#include "kernel.h"

static uint32_t get_last_error(void *ctx) {
    sim_ctx *s = ctx;
    return s->threads[s->current].last_error;
}

static void set_last_error(void *ctx, uint32_t err) {
    sim_ctx *s = ctx;
    s->threads[s->current].last_error = err;
}

/* CloseHandle: ports (§2), sockets (as closesocket), timers, wait packets.
 * A closed or unknown value fails with 6 and touches nothing (handles.c). */
static bool close_handle(void *ctx, shim_handle h) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    kern_state *w = kern(s);
    uint8_t kind = kern_handle_kind(w, h);
    uint32_t obj = 0;
    switch (kind) {
    case KERN_H_PORT:
        kern_handle_get(w, h, kind, &obj);
        return kern_port_close(s, h, obj);
    case KERN_H_SOCKET:
        kern_handle_get(w, h, kind, &obj);
        kern_sock_close(s, h, obj, false);
        return true;
    case KERN_H_TIMER:
    case KERN_H_WAITPKT:
        kern_handle_get(w, h, kind, &obj);
        kern_handle_free(w, h);
        sim__event(s, SIM_EV_HANDLE_CLOSE, h, 0, 0, 0);
        return kern_waitpkt_close(s, kind, obj);
    default:
        sim__event(s, SIM_EV_HANDLE_CLOSE, h, SHIM_ERROR_INVALID_HANDLE, 0, 0);
        kern_set_error(s, SHIM_ERROR_INVALID_HANDLE);
        return false;
    }
}

void sim__fill_shim(sim_ctx *s) {
    shim *sh = &s->shim;
    memset(sh, 0, sizeof *sh);
    sh->version = SHIM_VERSION_3;
    sh->name = "sim";
    sh->ctx = s;
    sh->caps = 0;
    sh->close_handle = close_handle;
    sh->get_last_error = get_last_error;
    shim_harness *h = &s->harness;
    memset(h, 0, sizeof *h);
    h->version = SHIM_HARNESS_VERSION_2;
    h->name = "sim";
    h->ctx = s;
    h->set_last_error = set_last_error;
    sim__fill_sync(s);
    kern_attach(s); /* ports, sockets, wait packets; caps are set per execution */
}
