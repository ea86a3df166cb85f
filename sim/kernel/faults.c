/* faults.c - fault injection through the decision stream.
 *
 * Each call family (sim_fault_family) may fail with one of the errors its
 * contract allows. While the family's per-execution budget
 * (sim_config.fault_budget) lasts, every call of the family asks an 'f'
 * choice: 0 = no fault, k = fail with the k-th allowed error. Off (no
 * choice at all) when the budget is 0, the default, so schedules of runs
 * without faults are unchanged.
 */
#include "kernel.h"

void kern_faults_reset(sim_ctx *s) {
    kern_state *w = kern(s);
    for (uint32_t f = 0; f < SIM_FAULT__COUNT; f++) w->faults_left[f] = s->cfg.fault_budget[f];
}

uint32_t kern_fault(sim_ctx *s, sim_fault_family fam, const uint32_t *errs, uint32_t nerrs) {
    kern_state *w = kern(s);
    if (w->faults_left[fam] == 0 || nerrs == 0) return 0;
    uint32_t k = sim__choose(s, SIM_CHOICE_FAULT, nerrs + 1, NULL, SIM_NO_CURRENT);
    if (k == 0) return 0;
    w->faults_left[fam]--;
    sim__event(s, SIM_EV_FAULT, fam, errs[k - 1], 0, 0);
    return errs[k - 1];
}
