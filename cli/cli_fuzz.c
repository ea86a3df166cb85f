/* cli_fuzz.c - the run, fuzz and bench commands.
 *
 * Seeds: execution i of a scenario uses seed S + i, whatever the strategy,
 * so any execution is reproducible from (strategy, seed) as well as from its
 * schedule. --shard K/N keeps the indices i with i mod N == K-1; --jobs J
 * splits a shard's indices again between J processes (i / N mod J), so the
 * union of all shards and jobs is exactly the single-process run. The
 * report of a failure comes from re-running the lowest failing seed in the
 * parent, so it does not depend on which process found it first.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../search/strategies.h"
#include "cli.h"
#include "wallclock.h"

typedef struct fuzz_tally {
    uint64_t executions;
    uint64_t failures;
    uint64_t first_fail; /* lowest failing index, UINT64_MAX if none */
    uint64_t steps;
} fuzz_tally;

static bool index_mine(const cli_opts *o, uint64_t i, uint32_t job, uint32_t jobs) {
    if (i % o->shard_n != o->shard_k - 1) return false;
    return (i / o->shard_n) % jobs == job;
}

/* The bar on stderr (a terminal only), redrawn in place; when the scenario
 * is done it is erased, so that only its PASS or FAIL line stays. With
 * --jobs the first job draws it, counting its own share times the jobs. */
static void progress(const cli_opts *o, const char *path, const fuzz_tally *t, double elapsed, bool final,
                     uint32_t jobs) {
    if (!o->progress) return;
    if (final) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        return;
    }
    uint64_t execs = t->executions * jobs;
    double rate = elapsed > 0 ? (double)execs / elapsed : 0;
    char who[32] = "";
    if (jobs > 1) snprintf(who, sizeof who, " x%u jobs", jobs);
    if (o->runs_set) {
        double frac = o->runs ? (double)execs * o->shard_n / (double)o->runs : 1;
        if (frac > 1) frac = 1;
        int bar = (int)(frac * 24);
        fprintf(stderr, "\r%-40.40s [%.*s%*s] %" PRIu64 " execs%s %8.0f/s %" PRIu64 " failures\033[K", path, bar,
                "########################", 24 - bar, "", execs, who, rate, t->failures);
    } else {
        fprintf(stderr, "\r%-40.40s %6.1fs of %.1fs %" PRIu64 " execs%s %8.0f/s %" PRIu64 " failures\033[K", path,
                elapsed, o->time_s, execs, who, rate, t->failures);
    }
    fflush(stderr);
}

/* Runs this process's share of the indices. */
static void fuzz_slice(const cli_opts *o, cli_target *t, uint32_t job, uint32_t jobs, fuzz_tally *tally, bool show) {
    memset(tally, 0, sizeof *tally);
    tally->first_fail = UINT64_MAX;
    double t0 = wall_seconds(), last = t0;
    cli_outcome oc = {0};
    /* Only --json --all prints a passing execution's schedule and hash; a
     * failure is run again in the parent for its report. */
    t->failure_schedules_only = !(o->report_all && o->json);
    sim_set_skip_trace_hash(t->sim, t->failure_schedules_only);
    for (uint64_t i = 0;; i++) {
        if (o->runs_set && i >= o->runs) break;
        if (!index_mine(o, i, job, jobs)) continue;
        if ((tally->executions & 63) == 0) {
            double now = wall_seconds();
            if (!o->runs_set && now - t0 >= o->time_s) break;
            if (show && now - last >= 0.25) {
                progress(o, t->path, tally, now - t0, false, jobs);
                last = now;
            }
        }
        cli_exec_seed(t, o->strategy, o->pct_depth, o->seed + i, &oc);
        if (o->report_all && o->json) cli_json_outcome(stdout, t, &oc, NULL);
        tally->executions++;
        tally->steps += oc.steps;
        if (oc.failed) {
            tally->failures++;
            if (i < tally->first_fail) tally->first_fail = i;
            if (!o->keep_going) break;
        }
    }
    if (show) progress(o, t->path, tally, wall_seconds() - t0, true, jobs);
    t->failure_schedules_only = false;
    sim_set_skip_trace_hash(t->sim, false);
    cli_outcome_clear(&oc);
}

/* --jobs: each process runs its share of the slice; the tallies add up. */
typedef struct fuzz_job {
    const cli_opts *o;
    cli_target *t;
    fuzz_tally *sum;
} fuzz_job;

static void fuzz_job_work(void *arg, uint32_t job, uint32_t jobs, void *result) {
    fuzz_job *fj = arg;
    fuzz_slice(fj->o, fj->t, job, jobs, result, job == 0);
}

static void fuzz_job_done(void *arg, uint32_t job, const void *result) {
    (void)job;
    fuzz_tally *sum = ((fuzz_job *)arg)->sum;
    const fuzz_tally *part = result;
    sum->executions += part->executions;
    sum->failures += part->failures;
    sum->steps += part->steps;
    if (part->first_fail < sum->first_fail) sum->first_fail = part->first_fail;
}

static int fuzz_jobs(const cli_opts *o, cli_target *t, fuzz_tally *sum) {
    memset(sum, 0, sizeof *sum);
    sum->first_fail = UINT64_MAX;
    fuzz_job fj = {o, t, sum};
    return cli_run_jobs(o->jobs, sizeof(fuzz_tally), fuzz_job_work, fuzz_job_done, &fj);
}

/* --time: the whole command's budget. Each scenario gets an equal share of
 * what is left, so time a scenario does not use (it failed early) goes to
 * the ones after it. */
double cli_time_share(const cli_opts *o, double t_all, uint32_t f) {
    double left = o->time_s - (wall_seconds() - t_all);
    double share = left / (double)(o->nfiles - f);
    return share > 0.001 ? share : 0.001;
}

int cli_cmd_fuzz(const cli_opts *o) {
    cli_sinks sinks;
    int rc = cli_sinks_open(&sinks, o);
    if (rc != 0) return rc;
    uint64_t total_execs = 0, total_fail = 0;
    uint32_t passed = 0, failed = 0;
    double t_all = wall_seconds();
    for (uint32_t f = 0; f < o->nfiles; f++) {
        cli_target t;
        int orc = cli_target_open(&t, o->files[f]);
        if (orc != 0) {
            rc = orc;
            break;
        }
        if (o->time_jumps) sim_set_time_jumps(t.sim, true);
        double t0 = wall_seconds();
        uint64_t stored_execs = 0;
        cli_outcome stored_bad = {0};
        uint32_t nbad = cli_stored_run(o, &t, &sinks, &stored_execs, &stored_bad);
        total_execs += stored_execs;
        total_fail += nbad;
        fuzz_tally tally = {0};
        tally.first_fail = UINT64_MAX;
        cli_opts so = *o;
        if (!o->runs_set) so.time_s = cli_time_share(o, t_all, f);
        int jrc = 0;
        if (nbad == 0 || o->keep_going)
            jrc = o->jobs > 1 ? fuzz_jobs(&so, &t, &tally) : (fuzz_slice(&so, &t, 0, 1, &tally, true), 0);
        double el = wall_seconds() - t0;
        if (jrc != 0) rc = jrc;
        total_execs += tally.executions;
        total_fail += tally.failures;
        if (tally.first_fail != UINT64_MAX) {
            /* Re-run the lowest failing seed here, trace kept, then shrink it. */
            cli_outcome oc = {0};
            cli_exec_seed(&t, o->strategy, o->pct_depth, o->seed + tally.first_fail, &oc);
            uint32_t d0 = oc.ndecisions, p0 = oc.preemptions;
            if (oc.failed && !o->no_shrink) cli_shrink(&t, &oc);
            /* One last strict replay with the trace kept, for the report. */
            sim_set_record_trace(t.sim, true);
            cli_outcome shown = {0};
            cli_exec_schedule(&t, oc.schedule, true, &shown);
            sim_set_record_trace(t.sim, false);
            shown.seed = oc.seed;
            shown.strategy = oc.strategy;
            shown.swarm = oc.swarm;
            shown.swarm_seed = oc.swarm_seed;
            memcpy(shown.swarm_desc, oc.swarm_desc, sizeof shown.swarm_desc);
            if (o->json)
                cli_json_outcome(stdout, &t, &shown, NULL);
            else
                cli_report_failure(stdout, o, &t, &shown, tally.first_fail + 1, d0, p0);
            cli_sinks_trace(&sinks, &t, "the failure");
            cli_sinks_case(&sinks, &t, el, stored_execs + tally.executions, &shown);
            cli_outcome_clear(&shown);
            cli_outcome_clear(&oc);
            failed++;
            rc = cli_exit_merge(rc == CLI_EXIT_PASS ? CLI_EXIT_FAIL : rc, &shown);
        } else if (nbad > 0) {
            cli_sinks_case(&sinks, &t, el, stored_execs + tally.executions, &stored_bad);
            failed++;
            if (rc == CLI_EXIT_PASS) rc = CLI_EXIT_FAIL;
        } else {
            passed++;
            cli_sinks_case(&sinks, &t, el, stored_execs + tally.executions, NULL);
            if (!o->json)
                printf("PASS %-52s %8" PRIu64 " executions (%s) %9.0f exec/s\n", t.path,
                       stored_execs + tally.executions, cli_strategy_name(o->strategy),
                       el > 0 ? (double)tally.executions / el : 0.0);
        }
        cli_outcome_clear(&stored_bad);
        if (o->stats && !o->json) cli_print_stats(stdout, &t); /* this process's executions (not --jobs children) */
        fflush(stdout);
        cli_target_close(&t);
    }
    double el = wall_seconds() - t_all;
    if (o->json) {
        cli_json_summary(stdout, passed + failed, failed, total_execs, total_fail, el);
    } else {
        printf("\n%u scenarios, %" PRIu64 " executions, %" PRIu64 " failing executions, %.1f s (%.0f exec/s)\n",
               passed + failed, total_execs, total_fail, el, el > 0 ? (double)total_execs / el : 0.0);
        printf("%u passed, %u failed\n", passed, failed);
    }
    if (!cli_sinks_close(&sinks, el) && rc == CLI_EXIT_PASS) rc = CLI_EXIT_INTERNAL;
    return rc;
}

int cli_cmd_run(const cli_opts *o) {
    cli_sinks sinks;
    int rc = cli_sinks_open(&sinks, o);
    if (rc != 0) return rc;
    uint32_t passed = 0, failed = 0;
    uint64_t total_execs = 0, total_fail = 0;
    double t_all = wall_seconds();
    for (uint32_t f = 0; f < o->nfiles; f++) {
        cli_target t;
        int orc = cli_target_open(&t, o->files[f]);
        if (orc != 0) {
            rc = orc;
            break;
        }
        if (o->time_jumps) sim_set_time_jumps(t.sim, true);
        double t0 = wall_seconds();
        uint64_t execs = 0;
        cli_outcome stored_bad = {0};
        uint32_t nbad = cli_stored_run(o, &t, &sinks, &execs, &stored_bad);
        sim_set_record_trace(t.sim, true);
        cli_outcome oc = {0};
        cli_exec_seed(&t, o->strategy, o->pct_depth, o->seed, &oc);
        execs++;
        if (o->json) {
            cli_json_outcome(stdout, &t, &oc, NULL);
        } else if (oc.failed) {
            cli_report_failure(stdout, o, &t, &oc, 1, oc.ndecisions, oc.preemptions);
        } else if (nbad == 0) {
            printf("PASS %s  seed %" PRIu64 ", %u decision%s, %" PRIu64 " steps, %.3f ms virtual, trace hash %016" PRIx64
                   "\n",
                   t.path, oc.seed, oc.ndecisions, cli_s(oc.ndecisions), oc.steps, (double)oc.virtual_ns / 1e6, oc.trace_hash);
        }
        cli_sinks_trace(&sinks, &t, NULL);
        total_execs += execs;
        total_fail += nbad + oc.failed;
        cli_sinks_case(&sinks, &t, wall_seconds() - t0, execs, oc.failed ? &oc : nbad ? &stored_bad : NULL);
        if (oc.failed || nbad > 0) {
            failed++;
            rc = oc.failed ? cli_exit_merge(rc, &oc) : rc == CLI_EXIT_PASS ? CLI_EXIT_FAIL : rc;
        } else {
            passed++;
        }
        cli_outcome_clear(&stored_bad);
        cli_outcome_clear(&oc);
        cli_target_close(&t);
    }
    double el = wall_seconds() - t_all;
    if (o->json)
        cli_json_summary(stdout, passed + failed, failed, total_execs, total_fail, el);
    else if (o->nfiles > 1)
        printf("%u passed, %u failed\n", passed, failed);
    if (!cli_sinks_close(&sinks, el) && rc == CLI_EXIT_PASS) rc = CLI_EXIT_INTERNAL;
    return rc;
}

int cli_cmd_bench(const cli_opts *o) {
    double budget = o->time_s > 0 ? o->time_s : 0.5;
    printf("simulator throughput per scenario (%s scheduling, %.2f s each, one core)\n\n",
           cli_strategy_name(o->strategy), budget);
    printf("%-52s %10s %12s %14s %10s\n", "scenario", "execs", "exec/s", "steps/s", "steps/exec");
    int rc = 0;
    for (uint32_t f = 0; f < o->nfiles; f++) {
        cli_target t;
        if (cli_target_open(&t, o->files[f]) != 0) return CLI_EXIT_USAGE;
        t.failure_schedules_only = true;
        sim_set_skip_trace_hash(t.sim, true); /* bench prints no hash */
        cli_outcome oc = {0};
        uint64_t execs = 0, steps = 0, fails = 0;
        double t0 = wall_seconds(), now = t0;
        while (now - t0 < budget) {
            for (int k = 0; k < 32; k++) {
                cli_exec_seed(&t, o->strategy, o->pct_depth, o->seed + execs, &oc);
                execs++;
                steps += oc.steps;
                fails += oc.failed;
            }
            now = wall_seconds();
        }
        double el = now - t0;
        printf("%-52s %10" PRIu64 " %12.0f %14.0f %10.1f%s\n", t.path, execs, (double)execs / el, (double)steps / el,
               (double)steps / (double)execs, fails ? "  (failures!)" : "");
        if (fails) rc = CLI_EXIT_FAIL;
        cli_outcome_clear(&oc);
        cli_target_close(&t);
    }
    return rc;
}
