/* knobs.c - the few simulator settings a driver may change between
 * executions: whether the trace is kept (fuzzing keeps only its hash; a
 * replay keeps it all), time jumps (validate --conformance's second
 * search), and whether a run rechecks its fault handler. Fault budgets
 * are the fault shim's (shim/fault.h), not the simulator's. */
#include "sim_internal.h"

void sim_set_record_trace(sim_ctx *s, bool on) {
    s->cfg.record_trace = on;
    sim__events_update(s);
}

void sim_set_skip_trace_hash(sim_ctx *s, bool skip) {
    s->cfg.skip_trace_hash = skip;
    sim__events_update(s);
}

void sim_set_time_jumps(sim_ctx *s, bool on) { s->cfg.time_jumps = on; }

void sim_set_time_jump_bounds(sim_ctx *s, uint32_t max_jumps, int64_t max_jump_ns) {
    s->cfg.max_time_jumps = max_jumps;
    s->cfg.max_jump_ns = max_jump_ns;
}

void sim_set_trust_fault_handler(sim_ctx *s, bool trust) { s->trust_fault_handler = trust; }
