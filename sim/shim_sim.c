/* shim_sim.c - the simulator's shim: fills the seam's function table.
 *
 * The synchronization, time and thread calls come from sync.c; the
 * completion-port, socket and wait-packet calls from the simulated kernel
 * (port.c, sock.c, waitpkt.c), which simw_attach plugs into the engine as
 * its world. CloseHandle, which spans every kind of handle, and the last
 * error live here.
 */
#include <string.h>

#include "world.h"

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
    simw_state *w = simw(s);
    uint8_t kind = simw_handle_kind(w, h);
    uint32_t obj = 0;
    switch (kind) {
    case SIMW_H_PORT:
        simw_handle_get(w, h, kind, &obj);
        return simw_port_close(s, h, obj);
    case SIMW_H_SOCKET:
        simw_handle_get(w, h, kind, &obj);
        simw_sock_close(s, h, obj, false);
        return true;
    case SIMW_H_TIMER:
    case SIMW_H_WAITPKT:
        simw_handle_get(w, h, kind, &obj);
        simw_handle_free(w, h);
        sim__event(s, SIM_EV_HANDLE_CLOSE, h, 0, 0, 0);
        return simw_waitpkt_close(s, kind, obj);
    default:
        sim__event(s, SIM_EV_HANDLE_CLOSE, h, SHIM_ERROR_INVALID_HANDLE, 0, 0);
        simw_set_error(s, SHIM_ERROR_INVALID_HANDLE);
        return false;
    }
}

void sim__fill_shim(sim_ctx *s) {
    shim *sh = &s->shim;
    memset(sh, 0, sizeof *sh);
    sh->version = SHIM_VERSION_1;
    sh->name = "sim";
    sh->ctx = s;
    sh->caps = 0;
    sh->close_handle = close_handle;
    sh->get_last_error = get_last_error;
    sh->set_last_error = set_last_error;
    sim__fill_sync(sh);
    simw_attach(s); /* ports, sockets, wait packets; caps are set per execution */
}
