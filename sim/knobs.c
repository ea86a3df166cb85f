/* knobs.c - the few simulator settings a driver may change between
 * executions: fault budgets (swarm draws them per execution) and whether
 * the trace is kept (fuzzing keeps only its hash; a replay keeps it all).
 * Neither changes how an execution with a given schedule behaves, except
 * that fault choices are only offered while a budget allows them. */
#include "sim_internal.h"

void sim_set_fault_budget(sim_ctx *s, const uint32_t budget[4]) {
    for (int f = 0; f < 4; f++) s->cfg.fault_budget[f] = budget[f];
}

void sim_set_record_trace(sim_ctx *s, bool on) { s->cfg.record_trace = on; }

void sim_set_time_jumps(sim_ctx *s, bool on) { s->cfg.time_jumps = on; }
