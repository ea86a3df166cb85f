/* cli_conform.c - can the simulator produce what the real backend did?
 *
 * DESIGN.md: the simulator is only trustworthy if every outcome the real
 * completion port shows is one the simulator can produce. For a scenario,
 * the real executions give a set of observable outcomes (cli_observe.c);
 * this file fuzzes the simulator on the same file, set up like the real
 * host (its wait quantization, whether it has wait completion packets:
 * facts of the host, not choices of the simulator), with random and swarm
 * seeds in turn, until each real outcome has been produced or the budget
 * is spent. An outcome left over is a fidelity gap. Only passing simulator
 * executions count: a failing one stops early, so its outcome is partial.
 */
#include <stdlib.h>
#include <string.h>

#include "cli_real.h"

static void like_host(sim_config *cfg, void *arg) {
    const cli_conform_host *h = arg;
    cfg->tick_ns = h->tick_ns;
    /* A scenario that says `wait_packets absent` ran without them on any
     * host; one that says nothing ran with what the host has. (One that asks
     * for them on a host without them was not run.) */
    if (cfg->wait_packets == SIM_WAITPKT_PRESENT && !h->wait_packets) cfg->wait_packets = SIM_WAITPKT_ABSENT;
}

int cli_conform(const char *path, const cli_conform_host *host, cli_outcome_set *set, uint64_t budget, uint64_t seed,
                cli_conform_stats *out) {
    memset(out, 0, sizeof *out);
    uint32_t missing = 0;
    for (uint32_t i = 0; i < set->n; i++) missing += set->v[i].sim_first == 0;
    if (missing == 0) return 0;
    cli_target t;
    cli_conform_host h = *host;
    int rc = cli_target_open_with(&t, path, like_host, &h);
    if (rc != 0) return rc;
    cli_outcome oc = {0};
    for (uint64_t i = 0; i < budget && missing > 0; i++) {
        cli_exec_seed(&t, (i & 1) ? CLI_SWARM : CLI_RANDOM, 3, seed + i / 2, &oc);
        out->executions++;
        if (oc.failed) {
            out->failures++;
            continue;
        }
        char *text = cli_observe(t.trace, t.scn);
        if (text == NULL) {
            rc = CLI_EXIT_INTERNAL;
            break;
        }
        cli_outcome_entry *e = cli_outcome_set_find(set, text);
        free(text);
        if (e != NULL && e->sim_first == 0) {
            e->sim_first = i + 1;
            missing--;
        }
    }
    out->missing = missing;
    cli_outcome_clear(&oc);
    cli_target_close(&t);
    return rc;
}
