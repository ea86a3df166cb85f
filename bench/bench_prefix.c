/* bench_prefix - would prefix reuse beat re-execution for explore?
 *
 * The explorer re-runs every execution from its start. The alternative is to
 * restore a snapshot of the state at the prefix the next execution shares
 * with the previous one (a copy of the arena, the stacks and the context, or
 * a fork of the process) and run only the rest. This program measures, per
 * scenario, what each side costs:
 *   - explore at (K, D) = (2, 2), DPOR, one round: CPU per run and, from
 *     consecutive executions' decision streams, the fraction of each
 *     execution that repeats the previous one's prefix (what reuse could skip);
 *   - the simulation's share of a run (random runs of the scenario, per
 *     decision): only that part is skipped, the explorer's analysis stays;
 *   - the snapshot: its size (sim_get_footprint, a lower bound: the kernel's
 *     retained buffers and the model trace are not counted), the time to copy
 *     that many bytes, and the time of a fork + exit + wait of this process;
 * and estimates the best speedup: DPOR learns where to branch only after an
 * execution, so snapshots must be taken as an execution runs, one every k
 * decisions (k chosen best), and a restore lands up to k decisions before
 * the branch point. Time is taken as proportional to decisions.
 *
 * All times are CPU time of this process.
 *
 *   bench_prefix [CPU seconds per scenario] [FILE...]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../cli/cli.h"
#include "../search/explore.h"

/* CPU seconds of this process: the machine is shared, and every figure
 * below is compared with the others, so all are CPU time (fork: the
 * parent's share, the copy of its page tables). */
static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct prefix_acc {
    sim_ctx *sim;
    sim_decision *prev;
    uint32_t nprev, cap;
    uint64_t runs, decisions, shared; /* over runs after the first */
    double deadline;
} prefix_acc;

static bool note_run(void *user, const explore_stats *st) {
    (void)st;
    prefix_acc *a = user;
    const sim_result *r = sim_last_result(a->sim);
    uint32_t p = 0;
    while (p < r->ndecisions && p < a->nprev && r->decisions[p].kind == a->prev[p].kind &&
           r->decisions[p].index == a->prev[p].index)
        p++;
    if (a->runs > 0) {
        a->decisions += r->ndecisions;
        a->shared += p;
    }
    a->runs++;
    if (r->ndecisions > a->cap) {
        a->cap = r->ndecisions * 2;
        a->prev = realloc(a->prev, a->cap * sizeof *a->prev);
        if (a->prev == NULL) abort();
    }
    if (r->ndecisions > 0) memcpy(a->prev, r->decisions, r->ndecisions * sizeof *a->prev);
    a->nprev = r->ndecisions;
    return cpu_seconds() < a->deadline;
}

static double copy_us(size_t bytes) {
    char *src = malloc(bytes), *dst = malloc(bytes);
    if (src == NULL || dst == NULL) abort();
    memset(src, 1, bytes);
    memset(dst, 0, bytes);
    int reps = 200;
    double t0 = cpu_seconds();
    for (int i = 0; i < reps; i++) {
        src[i % bytes] = (char)i; /* keep the copies from being folded */
        memcpy(dst, src, bytes);
    }
    double us = (cpu_seconds() - t0) / reps * 1e6;
    volatile char sink = dst[bytes / 2];
    (void)sink;
    free(src);
    free(dst);
    return us;
}

static double fork_us(void) {
    int reps = 50;
    double t0 = cpu_seconds();
    for (int i = 0; i < reps; i++) {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        if (pid < 0) return -1;
        waitpid(pid, NULL, 0);
    }
    return (cpu_seconds() - t0) / reps * 1e6;
}

/* Time per run with reuse, snapshots every k decisions, each costing c us:
 * the explorer's own work per run (t - sim) stays; of the simulation, the
 * new suffix is run, (n - p) / k snapshots are taken, one restored, and on
 * average k / 2 decisions before the branch point are run again. */
static double with_reuse(double t, double sim, double n, double p, double c, double *best_k) {
    double td = n > 0 ? sim / n : 0, best = t;
    *best_k = 0;
    for (double k = 1; k <= n; k = k < 8 ? k + 1 : k * 1.25) {
        double run = (t - sim) + sim * (n - p) / n + c + (n - p) / k * c + (k / 2 < p ? k / 2 : p) * td;
        if (run < best) {
            best = run;
            *best_k = k;
        }
    }
    return best;
}

static const char *const defaults[] = {
    "scenarios/close/close-parked-reader.scn", "scenarios/break/break-wakes-blocked.scn",
    "scenarios/close/close-concurrent.scn",    "scenarios/timeout/deadline-extend-while-blocked.scn",
    "scenarios/stress/many-readers-close.scn", "scenarios/stress/stream-deadlines.scn",
};

int main(int argc, char **argv) {
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    const char *const *files = argc > 2 ? (const char *const *)argv + 2 : defaults;
    int nfiles = argc > 2 ? argc - 2 : (int)(sizeof defaults / sizeof defaults[0]);
    if (secs <= 0) secs = 2.0;
    printf("prefix reuse for explore (DPOR, (K, D) = (2, 2), one round, %.1f CPU s per scenario)\n\n", secs);
    printf("%-46s %7s %6s %8s %8s %7s %9s %7s %7s %12s %12s\n", "scenario", "runs", "dec", "us/run", "sim us", "shared",
           "snapshot", "copy us", "fork us", "best (copy)", "best (fork)");
    for (int f = 0; f < nfiles; f++) {
        cli_target t;
        if (cli_target_open(&t, files[f]) != 0) return 2;
        prefix_acc a = {t.sim, NULL, 0, 0, 0, 0, 0, 0};
        explore_options eo;
        explore_options_default(&eo);
        eo.por = EXPLORE_POR_DPOR;
        eo.preemption_bound = 2;
        eo.kernel_bound = 2;
        eo.iterative = false;
        eo.stop_on_violation = false;
        eo.keep_going = note_run;
        eo.keep_user = &a;
        explore_result er;
        memset(&er, 0, sizeof er);
        double t0 = cpu_seconds();
        a.deadline = t0 + secs;
        explore_run(t.sim, cli_exec_main, &t, &eo, &er);
        double us = (cpu_seconds() - t0) / (double)(a.runs ? a.runs : 1) * 1e6;
        explore_result_free(&er);
        /* The simulation's share of a run: the same scenario under random
         * scheduling, per decision, times the explored runs' decisions. */
        double r0 = cpu_seconds();
        uint64_t rdec = 0, rruns = 0;
        cli_outcome oc = {0};
        t.failure_schedules_only = true;
        while (cpu_seconds() - r0 < secs / 4) {
            cli_exec_seed(&t, CLI_RANDOM, 0, 1 + rruns, &oc);
            rdec += oc.ndecisions;
            rruns++;
        }
        cli_outcome_clear(&oc);
        double sim_per_dec = rdec ? (cpu_seconds() - r0) * 1e6 / (double)rdec : 0;
        sim_footprint fp;
        sim_get_footprint(t.sim, &fp);
        size_t bytes = fp.ctx + fp.arena + fp.stacks + fp.tables;
        double c = copy_us(bytes), fk = fork_us();
        double n = a.runs > 1 ? (double)a.decisions / (double)(a.runs - 1) : 0;
        double p = a.runs > 1 ? (double)a.shared / (double)(a.runs - 1) : 0;
        double kc, kf;
        double sim = sim_per_dec * n < us ? sim_per_dec * n : us;
        double rc = with_reuse(us, sim, n, p, c, &kc), rf = with_reuse(us, sim, n, p, fk, &kf);
        char bc[32], bf[32];
        if (kc > 0) snprintf(bc, sizeof bc, "%.2fx k=%.0f", us / rc, kc);
        else snprintf(bc, sizeof bc, "none");
        if (kf > 0) snprintf(bf, sizeof bf, "%.2fx k=%.0f", us / rf, kf);
        else snprintf(bf, sizeof bf, "none");
        const char *name = strncmp(t.path, "scenarios/", 10) == 0 ? t.path + 10 : t.path;
        printf("%-46s %7llu %6.0f %8.1f %8.1f %6.0f%% %8.0fK %7.1f %7.0f %12s %12s\n", name, (unsigned long long)a.runs, n,
               us, sim, n > 0 ? 100 * p / n : 0, (double)bytes / 1024, c, fk, bc, bf);
        free(a.prev);
        cli_target_close(&t);
    }
    printf("\nus/run: CPU per explored run (the explorer's analysis included); sim us: the simulation's share "
           "(random runs of the scenario, per decision, times dec); shared: decisions each run repeats from the previous one (what reuse could skip); snapshot: context "
           "+ arena + stacks + tables (a lower bound); best: estimated speedup of explore with a snapshot every k "
           "decisions, 'none' when re-running is cheaper\n");
    return 0;
}
