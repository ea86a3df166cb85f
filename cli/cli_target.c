/* cli_target.c - a scenario on the simulator, and one execution of it.
 *
 * An execution: the simulator runs the scenario interpreter as its main
 * thread, on the recording shim wrapped around the simulated seam, so every
 * seam call of the poller lands in the model trace next to the harness
 * events. When the simulator says "pass", the ten properties are checked on
 * that trace; the first violation is the execution's verdict.
 */
#include <stdlib.h>
#include <string.h>

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
    shim *rec = sim_alloc(sim, sizeof *rec);
    model_record_wrap(rec, sh, t->trace);
    scn_hooks hooks = {sim, hook_fail, hook_alloc, hook_free};
    scn_exec_opts opts = {.choose = hook_choose, .choose_arg = sim, .sleeps_yield = t->sleeps_yield};
    scn_exec_ex(t->scn, rec, t->trace, &hooks, &opts);
    /* The properties, inside the execution: a violation fails it like a
     * deadlock would, which is what the explorer and the shrinker need. */
    if (!model_check(t->trace, &t->mopt, &t->violation)) {
        t->violated = true;
        sim_fail(sim, t->violation.property, "%s", t->violation.message);
    }
}

int cli_target_open(cli_target *t, const char *path) { return cli_target_open_with(t, path, NULL, NULL); }

int cli_target_open_with(cli_target *t, const char *path, void (*adjust)(sim_config *cfg, void *arg), void *arg) {
    memset(t, 0, sizeof *t);
    char err[1024];
    t->path = path;
    t->scn = scn_load(path, err, sizeof err);
    if (t->scn == NULL) {
        fprintf(stderr, "%s\n", err);
        return CLI_EXIT_USAGE;
    }
    sim_config_default(&t->cfg);
    t->cfg.max_steps = 1000000;
    t->cfg.record_trace = false; /* the hash is enough while fuzzing; replays turn it on */
    scn_apply_knobs(t->scn, &t->cfg);
    if (adjust != NULL) adjust(&t->cfg, arg);
    memcpy(t->fault_max, t->cfg.fault_budget, sizeof t->fault_max);
    t->sim = sim_create(&t->cfg);
    if (t->sim == NULL) {
        fprintf(stderr, "iocpcheck: cannot create the simulator for %s\n", path);
        scn_free(t->scn);
        return CLI_EXIT_INTERNAL;
    }
    t->trace = model_trace_create((model_clock){t->sim, clock_thread, clock_now});
    model_options_default(&t->mopt);
    t->mopt.tick_ns = t->cfg.tick_ns;
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
    if (t->trace != NULL) model_trace_destroy(t->trace);
    if (t->sim != NULL) sim_destroy(t->sim);
    if (t->scn != NULL) scn_free(t->scn);
    memset(t, 0, sizeof *t);
}

void cli_target_faults(cli_target *t, const uint32_t budget[4]) { sim_set_fault_budget(t->sim, budget); }

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
    for (uint32_t i = 0; i < r->ndecisions; i++)
        out->deviations += r->decisions[i].kind != SIM_CHOICE_THREAD && r->decisions[i].index != 0;
    out->schedule = format_schedule(r);
    out->nviolation_events = 0;
    if (r->verdict != SIM_PASS) {
        out->failed = true;
        out->property = r->property;
        snprintf(out->message, sizeof out->message, "%s", r->message);
        if (t->violated) {
            out->nviolation_events = t->violation.nevents;
            memcpy(out->violation_events, t->violation.events, sizeof t->violation.events);
        }
        return;
    }
    out->failed = false;
    out->property = NULL;
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
        uint32_t budget[4];
        sim_swarm_faults(seed, t->fault_max, budget);
        cli_target_faults(t, budget);
        sim_swarm w;
        sim_chooser ch = sim_swarm_chooser(&w, seed);
        out->swarm = true;
        out->swarm_seed = seed;
        size_t used = sim_swarm_describe(&w, out->swarm_desc, sizeof out->swarm_desc);
        if (used < sizeof out->swarm_desc)
            snprintf(out->swarm_desc + used, sizeof out->swarm_desc - used, "; faults port %u post %u sockio %u waitpkt %u",
                     budget[0], budget[1], budget[2], budget[3]);
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
        fprintf(stderr, "iocpcheck: --schedule:%s\n", err);
        return CLI_EXIT_USAGE;
    }
    sim_replay rp;
    sim_chooser first = sim_first_chooser();
    sim_chooser ch = sim_replay_chooser(&rp, s.d, s.col, s.count, strict ? NULL : &first);
    cli_exec(t, &ch, out);
    sim_schedule_free(&s);
    return 0;
}
