/* bench_port.c - throughput of the simulated completion port and sockets.
 *
 * Prints a table: posted packets round-tripped (post + GetQueuedCompletion-
 * StatusEx, one thread, batches of 64) per second, and socket completions
 * (overlapped WSASend + WSARecv on a pair, dequeued in batches of 64) per
 * second, with the trace hash only (record_trace off) and with the trace
 * kept. A fixed chooser takes the largest batch and the first outcome of
 * every other choice. Wall-clock time is read here only.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/sim.h"

#define BATCH 64u

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint32_t bench_choose(void *self, sim_ctx *sim, const sim_choice_point *pt) {
    (void)self, (void)sim;
    if (pt->kind == SIM_CHOICE_BATCH) return pt->n - 1;
    return pt->current != SIM_NO_CURRENT ? pt->current : 0;
}

typedef struct bench_arg {
    uint32_t rounds;
    uint64_t packets;
} bench_arg;

static void post_main(sim_ctx *s, const shim *sh, void *arg) {
    (void)s;
    bench_arg *a = arg;
    shim_handle p = sh->create_io_completion_port(sh->ctx, SHIM_INVALID_HANDLE, SHIM_NULL_HANDLE, 0, 0);
    shim_overlapped_entry e[BATCH];
    for (uint32_t r = 0; r < a->rounds; r++) {
        for (uint32_t i = 0; i < BATCH; i++) sh->post_queued_completion_status(sh->ctx, p, i, i, NULL);
        uint32_t got = 0;
        while (got < BATCH) {
            uint32_t n = 0;
            if (!sh->get_queued_completion_status_ex(sh->ctx, p, e, BATCH, &n, 0, false)) abort();
            got += n;
        }
        a->packets += got;
    }
}

static void sock_main(sim_ctx *s, const shim *sh, void *arg) {
    (void)s;
    bench_arg *a = arg;
    shim_handle p = sh->create_io_completion_port(sh->ctx, SHIM_INVALID_HANDLE, SHIM_NULL_HANDLE, 0, 0), so[2];
    harness_socket_pair(sim_harness_of(sh), so);
    sh->create_io_completion_port(sh->ctx, so[0], p, 0, 0);
    sh->create_io_completion_port(sh->ctx, so[1], p, 1, 0);
    static shim_overlapped ov[BATCH];
    static char data[BATCH / 2][16], in[BATCH / 2][16];
    shim_wsabuf sb[BATCH / 2], rb[BATCH / 2];
    for (uint32_t i = 0; i < BATCH / 2; i++) {
        sb[i] = (shim_wsabuf){16, data[i]};
        rb[i] = (shim_wsabuf){16, in[i]};
    }
    shim_overlapped_entry e[BATCH];
    for (uint32_t r = 0; r < a->rounds; r++) {
        uint32_t n, fl = 0; /* lpFlags is [in, out]: only 0 is modelled */
        for (uint32_t i = 0; i < BATCH / 2; i++) {
            sh->wsa_send(sh->ctx, so[1], &sb[i], 1, &n, 0, &ov[2 * i]);
            sh->wsa_recv(sh->ctx, so[0], &rb[i], 1, &n, &fl, &ov[2 * i + 1]);
        }
        uint32_t got = 0;
        while (got < BATCH) {
            uint32_t m = 0;
            if (!sh->get_queued_completion_status_ex(sh->ctx, p, e, BATCH, &m, SHIM_INFINITE, false)) abort();
            got += m;
        }
        a->packets += got;
    }
}

static void row(const char *what, sim_main_fn fn, uint32_t rounds, bool trace) {
    sim_config cfg;
    sim_config_default(&cfg);
    cfg.max_steps = UINT64_MAX / 2;
    cfg.max_decisions = UINT32_MAX / 2;
    cfg.record_trace = trace;
    cfg.max_trace_events = 1u << 22;
    cfg.allow_leaks = true; /* the workloads leave their port and sockets open: throughput only */
    sim_ctx *sim = sim_create(&cfg);
    sim_chooser ch = {NULL, "bench", NULL, bench_choose, NULL};
    bench_arg a = {rounds, 0};
    sim_run(sim, &ch, fn, &a); /* warm-up: rings and buffers grow once */
    a.packets = 0;
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        a.packets = 0;
        double t0 = now_s();
        const sim_result *r = sim_run(sim, &ch, fn, &a);
        double dt = now_s() - t0;
        if (r->verdict != SIM_PASS) {
            fprintf(stderr, "%s: %s: %s\n", what, r->property, r->message);
            exit(1);
        }
        double rate = (double)a.packets / dt;
        if (rate > best) best = rate;
    }
    printf("| %-44s | %-5s | %12" PRIu64 " | %10.2f |\n", what, trace ? "kept" : "hash", a.packets, best / 1e6);
    sim_destroy(sim);
}

int main(int argc, char **argv) {
    uint32_t rounds = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 16384;
    printf("| %-44s | %-5s | %12s | %10s |\n", "workload (one thread, batches of 64)", "trace", "packets", "M/s");
    printf("|----------------------------------------------|-------|--------------|------------|\n");
    row("post + GQCSEx round trips", post_main, rounds, false);
    row("post + GQCSEx round trips", post_main, rounds / 16, true);
    row("WSASend + WSARecv completions (socket pair)", sock_main, rounds / 4, false);
    return 0;
}
