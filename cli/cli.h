/* cli.h - the iocpcheck command line: options, one execution, reports.
 *
 * Files: main.c (FILE and DIR arguments, dispatch), cli_opts.c (the tables
 * of commands and options: parsing, usage), cli_alloc.c (checked
 * allocation), cli_target.c (a scenario on the simulator: one execution with
 * the fault and recording shims and the models), cli_knobs.c (a scenario's
 * knobs onto the simulator and the fault shim),
 * cli_fuzz.c (run, fuzz: strategies, budgets, jobs, shards), cli_shrink.c
 * (replay, shrink), cli_report.c (text, JSON lines, JUnit, Chrome trace).
 * Exit codes: 0 passed, 1 a property or expectation failed, 2 bad usage or
 * input, 3 internal error.
 */
#ifndef IOCPCHECK_RUNNER_CLI_H
#define IOCPCHECK_RUNNER_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../models/props.h"
#include "../models/trace.h"
#include "../shim/fault.h"
#include "../sim/sim.h"
#include "../lang/scenario.h"

#define CLI_EXIT_PASS 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_INTERNAL 3

typedef enum cli_strategy { CLI_RANDOM = 0, CLI_PCT, CLI_SWARM } cli_strategy;

typedef struct cli_opts {
    const char *argv0;
    const char *cmd;
    const char **files;
    uint32_t nfiles;
    uint64_t seed;
    bool seed_set;
    uint64_t runs;
    bool runs_set;
    double time_s;
    cli_strategy strategy;
    uint32_t pct_depth;
    uint32_t jobs;
    uint32_t shard_k, shard_n; /* 1-based k of n; n = 1: everything */
    bool keep_going;
    bool json;
    const char *junit;
    const char *trace_path;
    const char *trace_json;
    const char *schedule;
    uint64_t swarm_seed;
    bool swarm_set;
    const char *backend;
    bool progress;
    bool stats;
    bool no_shrink;
    bool report_all; /* --all: report every execution, not only failures */
    bool time_jumps; /* --time-jumps: every scenario as with knob time_jumps on */
    int platform;    /* --platform: SIM_PLATFORM_*, or -1: the scenario's (default any) */
    /* explore */
    int32_t preemptions; /* < 0: unbounded */
    int32_t kernel_bound; /* deviations of kernel choices from their first alternative; < 0: unbounded */
    bool bench_explore;  /* bench --explore */
    bool last_round_first; /* explore --last-round-first (explore_options.last_round_first) */
    int por;             /* explore_por */
    uint64_t max_execs;
    /* validate, bench --backend win32 (cli_validate.c) */
    double tolerance_ms; /* < 0: the default */
    bool conformance;
    /* demo */
    bool demo_trace;         /* --trace: print the lost update's trace */
    const char *demo_replay; /* --replay-lost-update SCHEDULE */
} cli_opts;

/* A scenario loaded on the simulator. */
typedef struct cli_target {
    const char *path;
    scn_scenario *scn;
    scn_knobs knobs;
    sim_config cfg;
    uint32_t fault_max[SHIM_FAULT_FAMILIES]; /* the scenario's fault budgets: swarm draws within them */
    sim_ctx *sim;
    shim_fault *faults; /* wraps the simulated seam; decides through the decision stream */
    model_trace *trace;
    model_options mopt;
    uint32_t pct_k; /* PCT's step estimate, from a calibration run */
    model_violation violation; /* the last execution's, when a model property failed */
    bool violated;
    bool sleeps_yield; /* scn_exec_opts.sleeps_yield (validate --conformance) */
    bool failure_schedules_only; /* fuzz, bench: a passing execution's schedule is left NULL and its deviations 0 (nobody prints them) */
} cli_target;

/* One execution's result. */
typedef struct cli_outcome {
    bool failed;
    sim_verdict verdict;
    const char *property;
    const char *limit; /* a limit reached (property "livelock"): the knob that raises it */
    char message[2048];
    uint64_t seed;
    cli_strategy strategy;
    uint64_t steps;
    int64_t virtual_ns;
    uint64_t trace_hash;
    uint32_t ndecisions, preemptions;
    uint32_t deviations; /* kernel choices that did not take their first outcome */
    char *schedule; /* malloc'd; cli_outcome_clear frees it */
    bool swarm;
    uint64_t swarm_seed;
    char swarm_desc[512];
    uint64_t violation_events[4]; /* model event seqs involved, when a model property failed */
    uint32_t nviolation_events;
} cli_outcome;

void cli_outcome_clear(cli_outcome *o);

/* cli_alloc.c: every allocation of cli/. On failure they print a message and
 * exit with CLI_EXIT_INTERNAL (3); they never return NULL. */
void *cli_xmalloc(size_t n);
void *cli_xcalloc(size_t n, size_t size);
void *cli_xrealloc(void *p, size_t n);
char *cli_xstrdup(const char *s);

/* cli_target.c */
/* Loads a scenario: 0, or CLI_EXIT_USAGE with the message printed. */
int cli_target_open(cli_target *t, const char *path);
/* The same, with `adjust` called on the configuration after the scenario's
 * knobs (validate --conformance: the simulator set up like the real host). */
int cli_target_open_with(cli_target *t, const char *path, void (*adjust)(sim_config *cfg, void *arg), void *arg);
/* The same from scenario text already in memory (the fuzz targets embed theirs). */
int cli_target_open_text(cli_target *t, const char *path, const char *text);
void cli_target_platform(int platform); /* --platform (SIM_PLATFORM_*), -1: the scenario's */
void cli_target_close(cli_target *t);
/* Sets the fault budgets for the next executions. */
void cli_target_faults(cli_target *t, const uint32_t budget[SHIM_FAULT_FAMILIES]);
/* The execution's main function (for sim_run and the explorer): runs the
 * scenario on the recording shim, then the ten properties on its trace, and
 * fails the execution (sim_fail) with the first violated one. */
void cli_exec_main(sim_ctx *sim, const shim *sh, void *arg);
/* Runs one execution with `chooser`; fills `out` (schedule included). */
void cli_exec(cli_target *t, sim_chooser *chooser, cli_outcome *out);
/* Runs one execution of `strategy` at `seed` (swarm: also its faults). */
void cli_exec_seed(cli_target *t, cli_strategy strategy, uint32_t pct_depth, uint64_t seed, cli_outcome *out);
/* Replays a schedule string: CLI_EXIT_USAGE for a bad string (message printed). */
int cli_exec_schedule(cli_target *t, const char *schedule, bool strict, cli_outcome *out);

/* cli_knobs.c */
/* The scenario's knobs over a simulator configuration (the knobs it sets;
 * at least the threads it needs). */
void cli_knobs_to_sim(const scn_knobs *k, sim_config *cfg);
/* Per-family budgets as the fault shim's rules (a budget of faults any call
 * may take; 0: off). */
void cli_fault_budgets(shim_fault *f, const uint32_t budget[SHIM_FAULT_FAMILIES]);
/* `knob fail_FAMILY N`: that family's rule becomes a countdown (the N-th call
 * fails for certain), whatever its budget. */
void cli_fault_countdowns(shim_fault *f, const uint32_t fail_at[SHIM_FAULT_FAMILIES]);
/* scn_exec_opts.alloc_fails over a shim_fault (its "alloc" family). */
bool cli_alloc_fails(void *faults);
/* scn_exec_opts.sock_fault_err over a shim_fault (its "sock" family). */
uint32_t cli_sock_fault_err(void *faults);
/* scn_exec_opts.setup_done over a shim_fault: the "sock" family is no longer held. */
void cli_sock_setup_done(void *faults);
/* The decision stream as the fault shim's source ('f' choices). */
shim_fault_source cli_sim_fault_source(sim_ctx *sim);

/* cli_shrink.c */
/* Runs a schedule leniently: each decision is followed where the execution
 * offers it; where it does not (another code path: a fixed poller, an edited
 * scenario), or past its end, the default is taken (keep the running
 * thread, outcome 0). Exact when the schedule fits. CLI_EXIT_USAGE for a
 * bad string (message printed). */
int cli_exec_lenient(cli_target *t, const char *schedule, cli_outcome *out);
/* Shrinks a failing outcome in place: fewer decisions, then fewer preemptions,
 * same property. Prints nothing. Returns the number of executions it ran. */
uint64_t cli_shrink(cli_target *t, cli_outcome *fail);

/* cli_report.c */
/* "pass", "fail", or "internal" (SIM_INTERNAL: a bug in iocpcheck), as JSON reports it. */
const char *cli_verdict_word(const cli_outcome *oc);
/* The exit code after one more outcome: an internal error (3) outranks a failure (1). */
int cli_exit_merge(int rc, const cli_outcome *oc);
/* "s" unless n is 1: "1 decision", "2 decisions". */
const char *cli_s(uint64_t n);
void cli_report_failure(FILE *out, const cli_opts *o, cli_target *t, const cli_outcome *oc, uint64_t executions,
                        uint32_t decisions_before, uint32_t preemptions_before);
/* JSON lines (schemas/iocpcheck.schema.json): every record has a "type". */
void cli_json_string(FILE *out, const char *s);
/* An execution; `how` names where its schedule came from when it was not a
 * seed of oc->strategy ("schedule": --schedule, "explore", "stored"), else NULL. */
void cli_json_outcome(FILE *out, const cli_target *t, const cli_outcome *oc, const char *how);
void cli_json_summary(FILE *out, uint32_t scenarios, uint32_t failed, uint64_t executions, uint64_t failures,
                      double elapsed_s);

/* cli_output.c: --trace, --trace-json and --junit, opened before anything
 * runs (a path that cannot be written: exit 2) and kept over every scenario. */
typedef struct cli_junit_case {
    const char *name;
    const char *path;
    double time_s;
    uint64_t executions;
    bool failed;
    const char *property;
    const char *message;
    const char *schedule;
    const char *skipped; /* not run, and why (validate's NOT-RUN) */
} cli_junit_case;
typedef struct cli_sinks {
    FILE *trace, *trace_json, *junit;
    uint32_t trace_json_pid; /* executions written to the Chrome trace */
    cli_junit_case *cases;   /* strings owned */
    uint32_t ncases, cap;
} cli_sinks;
/* 0, or CLI_EXIT_USAGE with the message printed (nothing left open). */
int cli_sinks_open(cli_sinks *s, const cli_opts *o);
/* Appends the execution just run with the trace kept; `label` says which. */
void cli_sinks_trace(cli_sinks *s, cli_target *t, const char *label);
void cli_trace_json_append(cli_sinks *s, cli_target *t, const char *label);
/* A real execution's model trace (validate), wall time: one process. */
void cli_trace_json_model(cli_sinks *s, const scn_scenario *scn, const char *path, const model_trace *mt,
                          const char *label);
/* One JUnit test case per scenario; `fail` NULL when it passed. */
void cli_sinks_case(cli_sinks *s, const cli_target *t, double time_s, uint64_t executions, const cli_outcome *fail);
/* The same by name: `property` non-NULL for a failure, else `skipped` (the
 * reason) non-NULL for a scenario not run, else a pass. */
void cli_sinks_case_add(cli_sinks *s, const char *name, const char *path, double time_s, uint64_t executions,
                        const char *property, const char *message, const char *schedule, const char *skipped);
/* Writes the JUnit report and closes everything: false if a write failed. */
bool cli_sinks_close(cli_sinks *s, double elapsed_s);
const char *cli_strategy_name(cli_strategy s);
void cli_print_stats(FILE *out, const cli_target *t);

/* cli_jobs.c: runs `work` in `jobs` forked processes (at most CLI_MAX_JOBS);
 * each fills a zeroed result of `size` bytes, which `done` receives in the
 * parent, in job order. 0, CLI_EXIT_INTERNAL if a job died, or CLI_EXIT_USAGE
 * where there is no fork (Windows). */
#define CLI_MAX_JOBS 64
typedef void (*cli_job_fn)(void *arg, uint32_t job, uint32_t jobs, void *result);
typedef void (*cli_job_done)(void *arg, uint32_t job, const void *result);
int cli_run_jobs(uint32_t jobs, size_t size, cli_job_fn work, cli_job_done done, void *arg);

/* cli_stored.c: replays the scenario's stored schedules and checks their
 * `expect`; returns how many did not end as expected (each reported, the
 * first copied into *first_bad as a failure "stored-schedule"). */
uint32_t cli_stored_run(const cli_opts *o, cli_target *t, cli_sinks *sinks, uint64_t *executions,
                        cli_outcome *first_bad);

/* cli_fuzz.c */
/* The wall-clock seconds scenario f (of o->nfiles) may use of --time. */
double cli_time_share(const cli_opts *o, double t_all, uint32_t f);
int cli_cmd_run(const cli_opts *o);
int cli_cmd_fuzz(const cli_opts *o);
int cli_cmd_bench(const cli_opts *o);
/* cli_explore.c */
int cli_cmd_explore(const cli_opts *o);
/* bench --explore: explored executions per second, DPOR vs naive DFS. */
int cli_bench_explore(const cli_opts *o);
/* cli_shrink.c */
int cli_cmd_replay(const cli_opts *o);
int cli_cmd_shrink(const cli_opts *o);

#endif
