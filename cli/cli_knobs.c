/* cli_knobs.c - a scenario's knobs (lang's scn_knobs, plain values) onto the
 * backends: the simulator's configuration and the fault shim's rules. The
 * language knows neither; this is the one place that maps one onto the other.
 */
#include "cli.h"

void cli_knobs_to_sim(const scn_knobs *k, sim_config *cfg) {
    if (k->tick_set) cfg->tick_ns = k->tick_ns;
    switch (k->wait_packets) {
    case SCN_WAITPKT_PRESENT: cfg->wait_packets = SIM_WAITPKT_PRESENT; break;
    case SCN_WAITPKT_ABSENT: cfg->wait_packets = SIM_WAITPKT_ABSENT; break;
    case SCN_WAITPKT_CHOICE: cfg->wait_packets = SIM_WAITPKT_CHOOSE; break;
    case SCN_WAITPKT_UNSET: break;
    }
    if (k->max_steps_set) cfg->max_steps = k->max_steps;
    if (k->max_decisions_set) cfg->max_decisions = k->max_decisions;
    if (k->max_objects_set) cfg->max_objects = k->max_objects;
    if (k->time_jumps_set) cfg->time_jumps = k->time_jumps;
    if (k->send_buffer_set) cfg->sock_buffer = k->send_buffer;
    if (k->recv_window_set) cfg->recv_window = k->recv_window;
    switch (k->platform) {
    case SCN_PLATFORM_ANY: cfg->platform = SIM_PLATFORM_ANY; break;
    case SCN_PLATFORM_REAL: cfg->platform = SIM_PLATFORM_REAL; break;
    case SCN_PLATFORM_WINDOWS: cfg->platform = SIM_PLATFORM_WINDOWS; break;
    case SCN_PLATFORM_WINE: cfg->platform = SIM_PLATFORM_WINE; break;
    case SCN_PLATFORM_UNSET: break;
    }
    if (cfg->max_threads < k->threads) cfg->max_threads = k->threads;
}

void cli_fault_budgets(shim_fault *f, const uint32_t budget[SHIM_FAULT_FAMILIES]) {
    for (uint32_t fam = 0; fam < SHIM_FAULT_FAMILIES; fam++) {
        shim_fault_rule r = {budget[fam] > 0 ? SHIM_FAULT_BUDGET : SHIM_FAULT_OFF, budget[fam], 0, 0, false};
        shim_fault_set_rule(f, fam, &r);
    }
}

void cli_fault_countdowns(shim_fault *f, const uint32_t fail_at[SHIM_FAULT_FAMILIES]) {
    for (uint32_t fam = 0; fam < SHIM_FAULT_FAMILIES; fam++) {
        if (fail_at[fam] == 0) continue;
        shim_fault_rule r = {SHIM_FAULT_COUNTDOWN, 0, fail_at[fam], 0, false};
        shim_fault_set_rule(f, fam, &r);
    }
}

/* The chooser decides, so the rule's probability plays no part here. */
static uint32_t sim_decide(void *self, uint32_t family, const uint32_t *errs, uint32_t nerrs, bool must,
                           uint32_t permille) {
    (void)permille;
    return sim_choose_fault(self, family, errs, nerrs, must);
}

/* The interpreter's allocator asks the fault shim (family "alloc"). */
bool cli_alloc_fails(void *faults) { return shim_fault_alloc_fails(faults); }
uint32_t cli_sock_fault_err(void *faults) { return shim_fault_last(faults, SHIM_FAULT_SOCK); }
void cli_sock_setup_done(void *faults) { shim_fault_hold(faults, SHIM_FAULT_SOCK, false); }

shim_fault_source cli_sim_fault_source(sim_ctx *sim) { return (shim_fault_source){sim, sim_decide}; }
