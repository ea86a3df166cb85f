/* cli_target.c - a scenario on the simulator, and one execution of it.
 *
 * An execution: the simulator runs the scenario interpreter as its main
 * thread, on the recording shim wrapped around the fault shim wrapped around
 * the simulated seam, so every seam call of the poller (failed ones too)
 * lands in the model trace next to the harness events, and every fault is
 * an 'f' decision of the schedule. When the simulator says "pass", the ten properties are checked on
 * that trace; the first violation is the execution's verdict.
 */
#include <stdlib.h>
#include <string.h>

#include "../search/explore.h"
#include "../search/strategies.h"
#include "cli.h"
#include "../lang/scn_ext.h"

void cli_outcome_clear(cli_outcome *o) {
    free(o->schedule);
    memset(o, 0, sizeof *o);
}

const char *cli_strategy_name(cli_strategy s) {
    switch (s) {
    case CLI_RANDOM: return "random";
    case CLI_PCT: return "pct";
    case CLI_SWARM: return "swarm";
    }
    return "?";
}

static uint32_t clock_thread(void *self) { return sim_current_thread(self); }
static int64_t clock_now(void *self) { return sim_now_ns(self); }

static void hook_fail(void *arg, const char *property, const char *message) {
    sim_fail(arg, property, "%s", message);
}
static void *hook_alloc(void *arg, size_t size) { return sim_alloc(arg, size); }
/* `expect fatal`: the throw came as expected; the execution ends there. */
static void hook_end_expected(void *arg, const char *why) { sim_end_pass(arg, "%s", why); }
/* `maybe` steps: a 'u' decision, so replays repeat it. */
static uint32_t hook_choose(void *arg, uint32_t n) { return sim_choose_user(arg, n); }
static void hook_free(void *arg, void *ptr) {
    (void)arg;
    (void)ptr; /* arena memory: freed with the execution */
}

void cli_exec_main(sim_ctx *sim, const shim *sh, void *arg) {
    cli_target *t = arg;
    model_trace_reset(t->trace);
    t->violated = false;
    shim_fault_reset(t->faults, 0); /* the seed is unused: the decision stream decides */
    shim_fault_hold(t->faults, SHIM_FAULT_SOCK, !t->knobs.faults_sock_setup); /* until setup_done */
    const shim *faulty = shim_fault_wrap(t->faults, sh, sim_harness(sim));
    shim *rec = sim_alloc(sim, sizeof *rec);
    scn_hooks hooks = {sim, hook_fail, hook_alloc, hook_free};
    const char *why = faulty == NULL ? "the fault shim refuses the simulator's seam" : model_record_wrap(rec, faulty, t->trace);
    if (why != NULL) {
        hook_fail(sim, "setup", why);
        return;
    }
    scn_exec_opts opts = {.choose = hook_choose, .choose_arg = sim, .sleeps_yield = t->sleeps_yield,
                          .alloc_fails = cli_alloc_fails, .alloc_fails_arg = t->faults,
                          .end_expected = hook_end_expected, .end_arg = sim,
                          .sock_fault_err = cli_sock_fault_err, .setup_done = cli_sock_setup_done};
    scn_exec_ex(t->scn, rec, sim_harness(sim), t->trace, &hooks, &opts);
    /* The properties, inside the execution: a violation fails it like a
     * deadlock would, which is what the explorer and the shrinker need. */
    if (!model_check(t->trace, &t->mopt, &t->violation)) {
        t->violated = true;
        sim_fail(sim, t->violation.property, "%s", t->violation.message);
    }
}

/* --platform, for every scenario the process opens (it wins over the
 * scenario's knob): set once, before any target is opened. */
static int platform_override = -1;
void cli_target_platform(int platform) { platform_override = platform; }

int cli_target_open(cli_target *t, const char *path) { return cli_target_open_with(t, path, NULL, NULL); }

static int target_setup(cli_target *t, void (*adjust)(sim_config *cfg, void *arg), void *arg);

int cli_target_open_with(cli_target *t, const char *path, void (*adjust)(sim_config *cfg, void *arg), void *arg) {
    memset(t, 0, sizeof *t);
    char err[1024];
    t->path = path;
    t->scn = scn_load(path, err, sizeof err);
    if (t->scn == NULL) {
        fprintf(stderr, "%s\n", err);
        return CLI_EXIT_USAGE;
    }
    return target_setup(t, adjust, arg);
}

int cli_target_open_text(cli_target *t, const char *path, const char *text) {
    memset(t, 0, sizeof *t);
    char err[1024];
    t->path = path;
    t->scn = scn_parse(path, text, err, sizeof err);
    if (t->scn == NULL) {
        fprintf(stderr, "%s\n", err);
        return CLI_EXIT_USAGE;
    }
    return target_setup(t, NULL, NULL);
}

static int target_setup(cli_target *t, void (*adjust)(sim_config *cfg, void *arg), void *arg) {
    const char *path = t->path;
    sim_config_default(&t->cfg);
    t->cfg.max_steps = 1000000;
    t->cfg.record_trace = false; /* the hash is enough while fuzzing; replays turn it on */
    t->knobs = scn_get_knobs(t->scn);
    cli_knobs_to_sim(&t->knobs, &t->cfg);
    if (platform_override >= 0) t->cfg.platform = (uint8_t)platform_override;
    if (adjust != NULL) adjust(&t->cfg, arg);
    memcpy(t->fault_max, t->knobs.faults, sizeof t->fault_max);
    t->sim = sim_create(&t->cfg);
    if (t->sim == NULL) {
        fprintf(stderr, "iocpcheck: cannot create the simulator for %s\n", path);
        scn_free(t->scn);
        return CLI_EXIT_INTERNAL;
    }
    sim_set_trust_fault_handler(t->sim, true); /* the CLI installs no signal handler of its own */
    t->trace = model_trace_create((model_clock){t->sim, clock_thread, clock_now});
    if (t->trace != NULL) model_trace_single_thread(t->trace); /* one OS thread runs every virtual one */
    t->faults = shim_fault_create(cli_sim_fault_source(t->sim), t->trace);
    if (t->faults == NULL) {
        fprintf(stderr, "iocpcheck: out of memory for the fault shim of %s\n", path);
        cli_target_close(t);
        return CLI_EXIT_INTERNAL;
    }
    cli_target_faults(t, t->fault_max);
    model_options_default(&t->mopt);
    t->mopt.tick_ns = t->cfg.tick_ns;
    /* A time jump is a preemption: it may make a wake-up that late. */
    t->mopt.jump_ns = t->cfg.time_jumps ? (int64_t)t->cfg.max_time_jumps * t->cfg.max_jump_ns : 0;
    /* PCT needs an estimate of the thread decisions per execution: take it
     * from one non-preemptive run, the same on every machine and shard. */
    sim_chooser first = sim_first_chooser();
    cli_outcome o = {0};
    cli_exec(t, &first, &o);
    t->pct_k = o.ndecisions * 2 + 16;
    cli_outcome_clear(&o);
    return 0;
}

void cli_target_close(cli_target *t) {
    if (t->faults != NULL) shim_fault_destroy(t->faults);
    if (t->trace != NULL) model_trace_destroy(t->trace);
    if (t->sim != NULL) sim_destroy(t->sim);
    if (t->scn != NULL) scn_free(t->scn);
    memset(t, 0, sizeof *t);
}

void cli_target_faults(cli_target *t, const uint32_t budget[SHIM_FAULT_FAMILIES]) {
    cli_fault_budgets(t->faults, budget);
    cli_fault_countdowns(t->faults, t->knobs.fail_at);
}

static char *format_schedule(const sim_result *r) {
    size_t need = sim_schedule_format(r->decisions, r->ndecisions, NULL, 0) + 1;
    char *s = cli_xmalloc(need);
    sim_schedule_format(r->decisions, r->ndecisions, s, need);
    return s;
}

void cli_exec(cli_target *t, sim_chooser *chooser, cli_outcome *out) {
    free(out->schedule);
    out->schedule = NULL;
    t->violated = false;
    const sim_result *r = sim_run(t->sim, chooser, cli_exec_main, t);
    out->verdict = r->verdict;
    out->steps = r->steps;
    out->virtual_ns = r->virtual_ns;
    out->trace_hash = r->trace_hash;
    out->ndecisions = r->ndecisions;
    out->preemptions = r->preemptions;
    out->deviations = 0;
    /* Formatting every passing schedule was a tenth of a small scenario's
     * execution while fuzzing, where only failures are printed; the count
     * of deviations, printed beside it, is left 0 with it. */
    if (r->verdict != SIM_PASS || !t->failure_schedules_only) {
        for (uint32_t i = 0; i < r->ndecisions; i++)
            out->deviations += explore_deviation((sim_choice_kind)r->decisions[i].kind, r->decisions[i].index);
        out->schedule = format_schedule(r);
    }
    out->nviolation_events = 0;
    if (r->verdict != SIM_PASS) {
        out->failed = true;
        out->property = r->property;
        snprintf(out->message, sizeof out->message, "%s", r->message);
        /* The engine's "livelock" is a limit reached (it does not tell a
         * long finite execution from one without progress): say which and
         * the knob that raises it. */
        out->limit = NULL;
        if (r->verdict == SIM_LIVELOCK) {
            bool decisions = strstr(r->message, "decision limit") != NULL;
            out->limit = decisions ? "max_decisions" : "max_steps";
            size_t len = strlen(out->message);
            snprintf(out->message + len, sizeof out->message - len,
                     "%sa limit, not a property: if the execution is long but finite, raise it with `knob %s N` "
                     "in the scenario\n",
                     len > 0 && out->message[len - 1] != '\n' ? "\n" : "", out->limit);
        }
        if (t->violated) {
            out->nviolation_events = t->violation.nevents;
            memcpy(out->violation_events, t->violation.events, sizeof t->violation.events);
        }
        return;
    }
    out->failed = false;
    out->property = NULL;
    out->limit = NULL;
    out->message[0] = 0;
}

void cli_exec_seed(cli_target *t, cli_strategy strategy, uint32_t pct_depth, uint64_t seed, cli_outcome *out) {
    out->seed = seed;
    out->strategy = strategy;
    out->swarm = false;
    switch (strategy) {
    case CLI_PCT: {
        sim_pct p;
        sim_chooser ch = sim_pct_chooser(&p, seed, pct_depth, t->pct_k);
        cli_exec(t, &ch, out);
        return;
    }
    case CLI_SWARM: {
        uint32_t budget[SHIM_FAULT_FAMILIES];
        sim_swarm_faults(seed, t->fault_max, budget, SHIM_FAULT_FAMILIES);
        cli_target_faults(t, budget);
        sim_swarm w;
        sim_chooser ch = sim_swarm_chooser(&w, seed);
        out->swarm = true;
        out->swarm_seed = seed;
        size_t used = sim_swarm_describe(&w, out->swarm_desc, sizeof out->swarm_desc);
        const char *sep = "; faults";
        for (uint32_t f = 0; f < SHIM_FAULT_FAMILIES && used < sizeof out->swarm_desc; f++, sep = "") {
            int n = snprintf(out->swarm_desc + used, sizeof out->swarm_desc - used, "%s %s %u", sep,
                             shim_fault_family_name(f), budget[f]);
            if (n > 0) used += (size_t)n;
        }
        cli_exec(t, &ch, out);
        cli_target_faults(t, t->fault_max);
        return;
    }
    case CLI_RANDOM:
    default: {
        sim_random r;
        sim_chooser ch = sim_random_chooser(&r, seed);
        cli_exec(t, &ch, out);
        return;
    }
    }
}

int cli_exec_schedule(cli_target *t, const char *schedule, bool strict, cli_outcome *out) {
    sim_schedule s;
    char err[256];
    if (!sim_schedule_parse(schedule, &s, err, sizeof err)) {
        fprintf(stderr, "iocpcheck: --schedule: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    sim_replay rp;
    sim_chooser first = sim_first_chooser();
    sim_chooser ch = sim_replay_chooser(&rp, s.d, s.col, s.count, strict ? NULL : &first);
    cli_exec(t, &ch, out);
    sim_schedule_free(&s);
    return 0;
}
