/* demo_progs.h - small programs with known races for the engine: the demo's
 * (cli/demo.c) and the engine's tests' (tests/check_sim.c), one copy for
 * both. Each runs as a sim_main_fn; arg is the program's struct.
 */
#ifndef IOCPCHECK_CLI_DEMO_PROGS_H
#define IOCPCHECK_CLI_DEMO_PROGS_H

#include <stdbool.h>
#include <stdint.h>

#include "../sim/sim.h"

/* `threads` workers each increment a counter `increments` times with a load,
 * a yield and a store, under a mutex if `locked`. Fails "lost-update" when
 * the final count is short, "mutual-exclusion" when two workers are inside
 * a locked section at once. */
typedef struct demo_counter {
    uint32_t threads, increments; /* threads <= 8 */
    bool locked;
    volatile uint32_t counter;
    volatile uint32_t inside; /* workers inside the section */
    shim_mutex mu;
    const shim *sh;
    sim_ctx *sim;
} demo_counter;
void demo_counter_main(sim_ctx *sim, const shim *sh, void *arg);

/* Two threads take mutexes a, b in opposite orders: deadlocks on some
 * schedules ("a-then-b" and "b-then-a"). */
typedef struct demo_abba {
    shim_mutex a, b;
    const shim *sh;
} demo_abba;
void demo_abba_main(sim_ctx *sim, const shim *sh, void *arg);

/* A 10 ms wait on an empty semaphore; arg is an int64_t that receives the
 * virtual time it woke at. Fails "timed-wait" if the wait succeeds. */
void demo_timed_main(sim_ctx *sim, const shim *sh, void *arg);

#endif
