/* cli_conform.c - can the simulator produce what the real backend did?
 *
 * DESIGN.md: the simulator is only trustworthy if every outcome the real
 * completion port shows is one the simulator can produce. For a scenario,
 * the real executions give a set of observable outcomes (cli_observe.c);
 * this file fuzzes the simulator on the same file, set up like the real
 * host where the host has no choice (whether it has wait completion
 * packets), with random, swarm and PCT seeds in turn, until each real
 * outcome has been produced or the budget is spent.
 *
 * Outcomes still missing get a second search with longer time jumps
 * (sim_config.time_jumps): the default search lets time pass under a
 * running thread only up to 1 ms, twice a run, while on a real machine a
 * runnable thread can be kept waiting longer than that (a slow thread
 * start, a preemption); the second search lets time jump to any pending
 * deadline, which is the simulator producing that outcome. Still missing: a third search with every
 * `sleep` made a yield; an outcome found only this way is a timing gap
 * (named, not a failure); one found by none is a fidelity gap. Only passing simulator executions count: a failing one
 * stops early, so its outcome is partial.
 */
#include <stdlib.h>
#include <string.h>

#include "../search/strategies.h"
#include "cli_real.h"

static void like_host(sim_config *cfg, void *arg) {
    const cli_conform_host *h = arg;
    /* A scenario that says `wait_packets absent` ran without them on any
     * host; one that says nothing ran with what the host has. (One that asks
     * for them on a host without them was not run.) The tick stays the
     * scenario's: a real wait also ends late by some scheduling jitter, even
     * where waits are not quantized (Wine), and the simulator's early/late
     * choices within the tick are what cover that. */
    if (cfg->wait_packets == SIM_WAITPKT_PRESENT && !h->wait_packets) cfg->wait_packets = SIM_WAITPKT_ABSENT;
    /* The real backend ignores `knob send_buffer` and `recv_window`: it ran with the host's
     * buffers, which the simulator's default was measured from (Wine 8). */
    sim_config d;
    sim_config_default(&d);
    cfg->sock_buffer = d.sock_buffer;
    cfg->recv_window = d.recv_window; /* likewise `knob recv_window` */
}

/* The kernel alternatives of an execution that produced a real outcome: the
 * real run was seen to take them (or an equivalent: the outcome is the same). */
static void note_alternatives(const char *schedule, cli_conform_stats *out) {
    sim_schedule sc;
    char err[128];
    if (schedule == NULL || !sim_schedule_parse(schedule, &sc, err, sizeof err)) return;
    for (uint32_t i = 0; i < sc.count; i++) {
        uint8_t k = sc.d[i].kind;
        if (k == SIM_CHOICE_THREAD || k == SIM_CHOICE_USER || k == SIM_CHOICE_EVENT || sc.d[i].label >= 32) continue;
        out->seen[k] |= 1u << sc.d[i].label;
    }
    sim_schedule_free(&sc);
}

/* One search; stages 1 (plain) and 2 (time jumps) mark sim_first, 3 (sleeps
 * as yields) marks sim_timing. */
static int search(cli_target *t, cli_outcome_set *set, uint32_t *missing, int stage, uint64_t budget, uint64_t seed,
                  cli_conform_stats *out) {
    cli_outcome oc = {0};
    int rc = 0;
    for (uint64_t i = 0; i < budget && *missing > 0; i++) {
        /* Random finds the likely outcomes, swarm the ones behind skewed
         * choices, PCT (depth 3) the ones behind a thread kept waiting. */
        static const cli_strategy turn[3] = {CLI_RANDOM, CLI_SWARM, CLI_PCT};
        cli_exec_seed(t, turn[i % 3], 3, seed + i / 3, &oc);
        out->executions++;
        if (oc.failed) {
            out->failures++;
            continue;
        }
        char *text = cli_observe(t->trace, t->scn);
        if (text == NULL) {
            rc = CLI_EXIT_INTERNAL;
            break;
        }
        cli_outcome_entry *e = cli_outcome_set_find(set, text);
        free(text);
        if (e == NULL || e->sim_first != 0 || e->sim_timing != 0) continue;
        if (stage <= 2) e->sim_first = i + 1;
        else e->sim_timing = i + 1;
        (*missing)--;
        note_alternatives(oc.schedule, out);
    }
    cli_outcome_clear(&oc);
    return rc;
}

int cli_conform(const char *path, const cli_conform_host *host, cli_outcome_set *set, uint64_t budget, uint64_t seed,
                cli_conform_stats *out) {
    memset(out, 0, sizeof *out);
    uint32_t missing = 0;
    for (uint32_t i = 0; i < set->n; i++) missing += set->v[i].sim_first == 0 && set->v[i].sim_timing == 0;
    if (missing == 0) return 0;
    cli_target t;
    cli_conform_host h = *host;
    int rc = cli_target_open_with(&t, path, like_host, &h);
    if (rc != 0) return rc;
    rc = search(&t, set, &missing, 1, budget, seed, out);
    if (rc == 0 && missing > 0) {
        /* Stage 2: longer and more jumps than the default search's (any
         * pending deadline, 64 a run), the models allowing that lateness. */
        int64_t jump_ns = t.mopt.jump_ns;
        sim_set_time_jump_bounds(t.sim, 64, INT64_MAX / 4);
        t.mopt.jump_ns = INT64_MAX / 4;
        rc = search(&t, set, &missing, 2, budget, seed, out);
        sim_set_time_jump_bounds(t.sim, t.cfg.max_time_jumps, t.cfg.max_jump_ns);
        t.mopt.jump_ns = jump_ns;
    }
    uint32_t after_first = missing;
    if (rc == 0 && missing > 0) {
        t.sleeps_yield = true;
        rc = search(&t, set, &missing, 3, budget, seed, out);
    }
    out->timing = after_first - missing;
    out->missing = missing;
    cli_target_close(&t);
    return rc;
}
