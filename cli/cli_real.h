/* cli_real.h - scenarios on the real backend: `validate` and
 * `bench --backend win32`.
 *
 * Files: cli_real.c (one execution on shim_win32 under the recording shim,
 * with a watchdog; which scenarios this host can run), cli_observe.c (the
 * observable outcome of a trace, the Wine differences a trace shows, a set
 * of outcomes), cli_conform.c (the simulator searched for every outcome the
 * real backend showed), cli_validate.c (the validate command and the
 * side-by-side benchmark). The real backend exists only in the Windows build
 * (CLI_HAVE_WIN32); elsewhere the commands say so and exit 2.
 */
#ifndef IOCPCHECK_RUNNER_CLI_REAL_H
#define IOCPCHECK_RUNNER_CLI_REAL_H

#include "cli.h"

#if defined(_WIN32)
#define CLI_HAVE_WIN32 1
#endif

#define CLI_DEFAULT_TOLERANCE_MS 50.0

/* ---- cli_real.c (Windows build only) ---- */

typedef struct cli_real cli_real;

typedef struct cli_real_run {
    bool failed;
    char property[32]; /* one of the ten, "expect", "setup", ... */
    char message[1024];
    double seconds;    /* wall time of the execution */
    /* The most a 1 ms wait of a monitor thread beside the execution, or a
     * sleep step of the scenario, overslept (past a host tick): how long the
     * host kept a runnable thread from running, measured. */
    int64_t overslept_ns;
} cli_real_run;
/* Whether a failed run is judged "host too slow": the host kept a thread
 * from running longer than the tolerance while it ran. */
bool cli_real_too_slow(const cli_real *r, const cli_real_run *run);
int64_t cli_real_tolerance_ns(const cli_real *r);

/* The real backend of this host, its trace and its model options (real
 * time: the host's tick, or 15.625 ms where waits are not quantized;
 * slack = tolerance). NULL, with the reason printed, if Winsock fails. */
cli_real *cli_real_create(int64_t tolerance_ns);
void cli_real_destroy(cli_real *r);
const char *cli_real_host(const cli_real *r);  /* "windows", "wine 8.0" */
bool cli_real_is_wine(const cli_real *r);
bool cli_real_wait_packets(const cli_real *r); /* the host has wait completion packets */
int64_t cli_real_host_tick_ns(const cli_real *r);
const model_options *cli_real_model_options(const cli_real *r);
model_trace *cli_real_trace(cli_real *r);      /* the last execution's, until the next */

/* Whether this host can run `s` on the real backend. If not, writes
 * "NAME: why" into `why` (NAME: wait-packets-absent or virtual-time-only)
 * and returns false. Fault knobs run: the fault shim injects them here too. */
bool cli_real_fits(const cli_real *r, const scn_scenario *s, char *why, size_t n);

/* One execution of `s`; `run` seeds the `maybe` choices and the fault shim's
 * generator (its decisions are MEV_FAULT events of the trace). A run that does
 * not finish within its time limit (a lost wakeup, a deadlock) leaves
 * threads stuck in the OS: the process reports it and exits 1. */
void cli_real_exec(cli_real *r, const scn_scenario *s, uint64_t run, cli_real_run *out);

/* ---- cli_observe.c (portable) ---- */

/* The observable outcome of an execution (README, "Conformance"): for each
 * scenario step that ran, in step order, "L<line> <op> <last outcome>",
 * plus " (also X, Y)" for the other outcomes it produced before the last
 * one (repeats, the rounds of read_all and read_exact), as a sorted set.
 * Abstracted: byte counts (ok(n) of reads and writes is "ok"), times, and
 * how many times each outcome came. Kept: error codes, poll's ready counts,
 * which `maybe` steps ran. Steps are separated by "; ". Returns malloc'd. */
char *cli_observe(const model_trace *t, const scn_scenario *s);

/* Wine differences (iocp-facts.md §9, §11) a trace shows, as bits. */
#define CLI_WINE_HANDLES_CLOSED 1u /* a socket-close packet with STATUS_HANDLES_CLOSED */
#define CLI_WINE_RESULT_676 2u     /* WSAGetOverlappedResult failing with ERROR_HANDLES_CLOSED */
#define CLI_WINE_DIFFS 2u
uint32_t cli_observe_wine(const model_trace *t);
const char *cli_wine_name(uint32_t index); /* by bit index */
const char *cli_wine_what(uint32_t index);

/* A set of distinct outcomes with how often each came. */
typedef struct cli_outcome_entry {
    char *text;
    uint32_t real;      /* real executions that showed it */
    uint64_t sim_first; /* the first simulator execution that produced it (1-based), 0 if none */
    uint64_t sim_timing; /* the same, in the search with sleeps made yields (a timing gap) */
} cli_outcome_entry;
typedef struct cli_outcome_set {
    cli_outcome_entry *v;
    uint32_t n, cap;
} cli_outcome_set;
/* Adds `text` (taking it) or counts it again; returns its entry. */
cli_outcome_entry *cli_outcome_set_add(cli_outcome_set *set, char *text);
cli_outcome_entry *cli_outcome_set_find(cli_outcome_set *set, const char *text);
void cli_outcome_set_free(cli_outcome_set *set);

/* ---- cli_conform.c (portable: the simulator) ---- */

typedef struct cli_conform_host {
    bool wait_packets; /* the host has wait completion packets */
} cli_conform_host;

typedef struct cli_conform_stats {
    uint64_t executions; /* simulator executions run */
    uint64_t failures;   /* of them, failing (their outcomes are not counted) */
    uint32_t timing;     /* real outcomes produced only with sleeps made yields: timing gaps */
    uint32_t missing;    /* real outcomes not produced at all: fidelity gaps */
    /* Kernel alternatives the simulator took in the executions that produced
     * a real outcome first: per choice kind, a mask of labels (< 32). */
    uint32_t seen[SIM_CHOICE__COUNT];
} cli_conform_stats;

/* Runs the simulator on `path`, set up like `host`, up to `budget`
 * executions (random, swarm and PCT in turn, seeds from `seed`), until
 * every outcome of `set` has been produced (sim_first); then, for those
 * left, up to `budget` more with every sleep a yield (sim_timing).
 * Returns 0, or CLI_EXIT_USAGE / CLI_EXIT_INTERNAL (printed). */
int cli_conform(const char *path, const cli_conform_host *host, cli_outcome_set *set, uint64_t budget, uint64_t seed,
                cli_conform_stats *out);

/* ---- cli_validate.c ---- */
int cli_cmd_validate(const cli_opts *o);
int cli_cmd_bench_real(const cli_opts *o);

#endif
