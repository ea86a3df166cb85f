/* bench_sched.c - scheduling throughput of the simulator.
 *
 * Prints a table of scheduling steps per second for a 4-thread mutex
 * ping-pong (each thread: lock, load, store, unlock, repeated), under seeded
 * random scheduling, with the trace kept and with only its hash, plus a
 * single-thread baseline. Wall-clock time is read here, in the benchmark,
 * and nowhere in the simulator.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/fiber.h"
#include "sim/sim.h"

typedef struct pingpong {
    uint32_t threads, rounds;
    volatile uint32_t counter;
    shim_mutex mu;
    const shim *sh;
} pingpong;

static void worker(void *arg) {
    pingpong *p = arg;
    const shim *sh = p->sh;
    for (uint32_t i = 0; i < p->rounds; i++) {
        sh->sync->mutex_lock(sh->sync->ctx, &p->mu);
        uint32_t v = sh->sync->atomic_load32(sh->sync->ctx, &p->counter);
        sh->sync->atomic_store32(sh->sync->ctx, &p->counter, v + 1);
        sh->sync->mutex_unlock(sh->sync->ctx, &p->mu);
    }
}

static void pingpong_main(sim_ctx *sim, const shim *sh, void *arg) {
    pingpong *p = arg;
    p->sh = sh;
    p->counter = 0;
    sh->sync->mutex_init(sh->sync->ctx, &p->mu);
    if (p->threads == 1) {
        worker(p);
    } else {
        shim_thread t[8];
        for (uint32_t i = 0; i < p->threads; i++) harness_spawn(sim_harness_of(sh), &t[i], worker, p, "w");
        for (uint32_t i = 0; i < p->threads; i++) harness_join(sim_harness_of(sh), &t[i]);
    }
    if (p->counter != p->threads * p->rounds) sim_fail(sim, "bench", "counter %u", p->counter);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct row {
    const char *name;
    uint32_t threads, rounds;
    bool trace;
} row;

int main(int argc, char **argv) {
    double budget_s = argc > 1 ? atof(argv[1]) : 1.0;
    if (budget_s <= 0) budget_s = 1.0;
    row rows[] = {
        {"mutex ping-pong, 4 threads, hash only", 4, 1000, false},
        {"mutex ping-pong, 4 threads, trace kept", 4, 1000, true},
        {"mutex ping-pong, 2 threads, hash only", 2, 1000, false},
        {"one thread (no choices), hash only", 1, 4000, false},
        {"small execution, 4 threads x 5 rounds", 4, 5, false},
    };
    printf("simulator scheduling throughput (fiber: %s, seeded random scheduling, %.1f s per row)\n\n",
           sim_fiber_impl(), budget_s);
    printf("%-42s %10s %12s %14s %9s %12s\n", "program", "execs", "steps", "steps/s", "ns/step", "execs/s");
    int rc = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sim_config cfg;
        sim_config_default(&cfg);
        cfg.record_trace = rows[i].trace;
        cfg.allow_leaks = true; /* the programs leave their mutexes: throughput only */
        sim_ctx *sim = sim_create(&cfg);
        pingpong p = {.threads = rows[i].threads, .rounds = rows[i].rounds};
        uint64_t execs = 0, steps = 0;
        double t0 = now_s(), t1 = t0;
        sim_random rnd;
        while (t1 - t0 < budget_s) {
            sim_chooser ch = sim_random_chooser(&rnd, execs);
            const sim_result *r = sim_run(sim, &ch, pingpong_main, &p);
            if (r->verdict != SIM_PASS) {
                fprintf(stderr, "bench: unexpected %s: %s\n", r->property, r->message);
                rc = 3;
                break;
            }
            steps += r->steps;
            execs++;
            if ((execs & 7) == 0 || rows[i].rounds > 100) t1 = now_s();
        }
        t1 = now_s();
        double el = t1 - t0;
        printf("%-42s %10" PRIu64 " %12" PRIu64 " %14.0f %9.1f %12.0f\n", rows[i].name, execs, steps,
               (double)steps / el, el * 1e9 / (double)steps, (double)execs / el);
        sim_destroy(sim);
    }
    return rc;
}
