/* pct.c - the PCT scheduler (probabilistic concurrency testing).
 *
 * Priorities: a thread first seen gets a random rank among the threads seen
 * so far, above all change-point priorities (1..d-1), so initial priorities
 * are a uniformly random permutation, as PCT requires, even though threads
 * appear one by one. Change point j (j = 1..d-1) at thread decision change[j]
 * sets the running thread's priority to j.
 */
#include <string.h>

#include "../sim/sim.h"
#include "strategies.h"

/* A broken invariant of the strategy ends the execution as internal. */
#define PCT_CHECK(sim, cond, what)                                                           \
    do {                                                                                     \
        if (__builtin_expect(!(cond), 0)) sim_report_internal((sim), (what), #cond, __FILE__, __LINE__); \
    } while (0)

static void pct_begin(void *self, sim_ctx *sim) {
    (void)sim;
    sim_pct *p = self;
    sim_rng_seed(p->rng, p->seed);
    memset(p->prio, 0, sizeof p->prio);
    p->steps = 0;
    p->next_prio = SIM_PCT_MAX_DEPTH + 1;
    for (uint32_t j = 1; j < p->depth; j++) p->change[j] = 1 + sim_rng_below(p->rng, p->k);
}

/* Gives `label` a random rank among the labels seen so far: shift every
 * priority at or above a random cut up by one and take the cut. */
static void pct_admit(sim_pct *p, uint32_t label) {
    uint32_t seen = 0;
    for (uint32_t i = 0; i <= SIM_KERNEL_LABEL; i++)
        if (p->prio[i] > SIM_PCT_MAX_DEPTH) seen++;
    uint32_t rank = sim_rng_below(p->rng, seen + 1); /* 0 = lowest */
    uint32_t cut = SIM_PCT_MAX_DEPTH + 1 + rank;
    for (uint32_t i = 0; i <= SIM_KERNEL_LABEL; i++)
        if (p->prio[i] >= cut) p->prio[i]++;
    p->prio[label] = cut;
}

static uint32_t pct_choose(void *self, sim_ctx *sim, const sim_choice_point *pt) {
    sim_pct *p = self;
    PCT_CHECK(sim, p->depth >= 1 && p->depth <= SIM_PCT_MAX_DEPTH && p->k >= 1, "PCT's depth and step estimate are set");
    if (pt->kind != SIM_CHOICE_THREAD) return sim_rng_below(p->rng, pt->n);
    for (uint32_t i = 0; i < pt->n; i++)
        if (p->prio[pt->labels[i]] == 0) pct_admit(p, pt->labels[i]);
    p->steps++;
    if (pt->current != SIM_NO_CURRENT) {
        for (uint32_t j = 1; j < p->depth; j++)
            if (p->change[j] == p->steps) p->prio[pt->labels[pt->current]] = j;
    }
    uint32_t best = 0;
    for (uint32_t i = 1; i < pt->n; i++)
        if (p->prio[pt->labels[i]] > p->prio[pt->labels[best]]) best = i;
    /* Every offered thread was admitted, so the highest priority is a real one. */
    PCT_CHECK(sim, p->prio[pt->labels[best]] != 0, "every thread PCT picks from has a priority");
    return best;
}

sim_chooser sim_pct_chooser(sim_pct *p, uint64_t seed, uint32_t depth, uint32_t k) {
    memset(p, 0, sizeof *p);
    p->seed = seed;
    p->depth = depth < 1 ? 1 : depth > SIM_PCT_MAX_DEPTH ? SIM_PCT_MAX_DEPTH : depth;
    p->k = k < 1 ? 1 : k;
    return (sim_chooser){p, "pct", pct_begin, pct_choose, NULL};
}
