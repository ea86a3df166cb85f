/* swarm.c - swarm testing: a random bias per execution.
 *
 * Uniform random choice spreads executions thinly; many bugs need one choice
 * kind pushed hard one way (every cancel loses the race, every batch is 1,
 * the running thread keeps going). Each execution draws, from its seed, which
 * kinds to bias and how strongly, so across seeds every corner gets executions
 * concentrated on it, while each execution stays replayable from its schedule.
 */
#include <string.h>

#include "../sim/sim.h"
#include "strategies.h"

static void swarm_draw(sim_swarm *w) {
    uint64_t cfg[4];
    sim_rng_seed(cfg, w->seed ^ 0x5EA5EA5EA5EA5EA5ull);
    static const uint32_t sticky[] = {0, 50, 80, 95, 99};
    w->sticky_pct = sticky[sim_rng_below(cfg, 5)];
    static const uint32_t strength[] = {60, 85, 97};
    for (int k = 0; k < SIM_CHOICE__COUNT; k++) {
        w->favour[k] = -1;
        w->favour_pct[k] = 0;
        if (k == SIM_CHOICE_THREAD || sim_rng_below(cfg, 2) == 0) continue;
        w->favour[k] = (int32_t)sim_rng_below(cfg, 4); /* small outcome numbers: every kind has at least 2 */
        w->favour_pct[k] = strength[sim_rng_below(cfg, 3)];
    }
}

static void swarm_begin(void *self, sim_ctx *sim) {
    (void)sim;
    sim_swarm *w = self;
    sim_rng_seed(w->rng, w->seed);
}

static uint32_t swarm_choose(void *self, sim_ctx *sim, const sim_choice_point *pt) {
    (void)sim;
    sim_swarm *w = self;
    if (pt->kind == SIM_CHOICE_THREAD) {
        if (pt->current != SIM_NO_CURRENT && sim_rng_below(w->rng, 100) < w->sticky_pct) return pt->current;
        return sim_rng_below(w->rng, pt->n);
    }
    int32_t f = w->favour[pt->kind];
    if (f >= 0 && (uint32_t)f < pt->n && sim_rng_below(w->rng, 100) < w->favour_pct[pt->kind]) return (uint32_t)f;
    return sim_rng_below(w->rng, pt->n);
}

sim_chooser sim_swarm_chooser(sim_swarm *w, uint64_t seed) {
    memset(w, 0, sizeof *w);
    w->seed = seed;
    swarm_draw(w);
    sim_rng_seed(w->rng, seed);
    return (sim_chooser){w, "swarm", swarm_begin, swarm_choose, NULL};
}

void sim_swarm_faults(uint64_t seed, const uint32_t *max, uint32_t *out, uint32_t n) {
    uint64_t r[4];
    sim_rng_seed(r, seed ^ 0xFA017FA017FA017Full);
    for (uint32_t f = 0; f < n; f++) out[f] = max[f] == 0 ? 0 : sim_rng_below(r, max[f] + 1);
}

size_t sim_swarm_describe(const sim_swarm *w, char *buf, size_t len) {
    size_t used = 0;
    int n = snprintf(buf, len, "threads sticky %u%%", w->sticky_pct);
    if (n > 0) used = (size_t)n;
    for (int k = 0; k < SIM_CHOICE__COUNT; k++) {
        if (w->favour[k] < 0) continue;
        n = snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0, "; %c favours %d at %u%%",
                     sim_choice_letter((sim_choice_kind)k), w->favour[k], w->favour_pct[k]);
        if (n > 0) used += (size_t)n;
    }
    return used;
}
