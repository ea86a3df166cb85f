/* cli_explore.c - the explore command: every schedule within a bound.
 *
 * Runs the systematic explorer (search/explore.h) over a scenario: thread
 * choices under a preemption bound K with sleep sets or DPOR, the kernel's
 * (kernel) choices under a deviation bound D (--kernel-bound; inf: every
 * alternative of every kernel choice), iterative deepening on K + D. The ten properties are checked inside each execution (the
 * scenario's main thread runs the models before it returns), so a property
 * violation is a failing execution to the explorer like a deadlock is.
 * --jobs J splits the tree into J shards (by the first decisions) explored by
 * J processes; their union is the whole bounded space, the same search as
 * one job's: a complete search counts the same executions whatever J is.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../search/explore.h"
#include "../search/strategies.h"
#include "cli.h"
#include "wallclock.h"

#define SHARD_DEPTH 3u
#define CLI_EXPLORE_MAX_SCHEDULE 8192u /* characters of a violation's schedule a report carries (jobs pass it whole) */

typedef struct explore_report {
    explore_stats stats;
    bool found;
    sim_verdict verdict; /* of the violation; SIM_INTERNAL: the search hit a bug of iocpcheck */
    char message[2048];  /* SIM_INTERNAL: the report (invariant, file:line, schedule) */
    uint32_t preemptions, deviations, ndecisions;
    int32_t bound, kernel_bound;
    uint64_t execution;
    char stopped[64]; /* what stopped an incomplete search ("" when complete) */
    char schedule[CLI_EXPLORE_MAX_SCHEDULE];
} explore_report;

typedef struct budget {
    double deadline;
} budget;

static bool keep_going(void *user, const explore_stats *st) {
    (void)st;
    budget *b = user;
    return b->deadline <= 0 || wall_seconds() < b->deadline;
}

static void explore_one(const cli_opts *o, cli_target *t, uint32_t shard, uint32_t shards, explore_report *rep) {
    memset(rep, 0, sizeof *rep);
    explore_options eo;
    explore_options_default(&eo);
    eo.por = o->por;
    eo.preemption_bound = o->preemptions;
    eo.kernel_bound = o->kernel_bound;
    eo.iterative = true;
    eo.last_round_first = o->last_round_first;
    /* --max-execs is the scenario's: the shards share it. */
    eo.max_executions = o->max_execs == 0 ? 0 : o->max_execs / shards + (shard < o->max_execs % shards);
    if (o->max_execs != 0 && eo.max_executions == 0) eo.max_executions = 1;
    budget b = {o->time_s > 0 ? wall_seconds() + o->time_s : 0};
    eo.keep_going = keep_going;
    eo.keep_user = &b;
    /* One job explores the same tree as J jobs, as one shard: the first
     * SHARD_DEPTH decisions are expanded fully either way (search/explore.h),
     * so the shards' executions add up to exactly one job's. Without it one
     * job pruned those first decisions too, and a complete search counted
     * 24,596 executions with one job, 29,984 with two
     * (close/close-parked-reader). */
    eo.shard_index = shard;
    eo.shard_count = shards;
    eo.shard_depth = SHARD_DEPTH;
    explore_result er;
    memset(&er, 0, sizeof er);
    explore_run(t->sim, cli_exec_main, t, &eo, &er);
    rep->stats = er.stats;
    rep->stats.stopped_by = NULL; /* a pointer: not meaningful across processes */
    if (er.violation.found) {
        rep->found = true;
        rep->verdict = er.violation.verdict;
        snprintf(rep->message, sizeof rep->message, "%s", er.violation.message ? er.violation.message : "");
        rep->preemptions = er.violation.preemptions;
        rep->deviations = er.violation.deviations;
        rep->kernel_bound = er.violation.kernel_bound;
        rep->ndecisions = er.violation.ndecisions;
        rep->bound = er.violation.bound;
        rep->execution = er.violation.execution;
        size_t len = sim_schedule_format(er.violation.decisions, er.violation.ndecisions, rep->schedule,
                                         sizeof rep->schedule);
        if (len >= sizeof rep->schedule) {
            /* A cut schedule would not replay: say so instead of reporting it. */
            rep->verdict = SIM_INTERNAL;
            snprintf(rep->message, sizeof rep->message,
                     "limit: the %s's schedule has %zu characters, more than a report holds "
                     "(CLI_EXPLORE_MAX_SCHEDULE = %u)\n",
                     er.violation.property ? er.violation.property : "violation", len, CLI_EXPLORE_MAX_SCHEDULE);
            rep->schedule[0] = 0;
        }
    }
    if (er.stats.stopped_by != NULL) snprintf(rep->stopped, sizeof rep->stopped, "%s", er.stats.stopped_by);
    explore_result_free(&er);
}

/* --jobs: each process explores one shard; the reports add up, and the
 * violation with the fewest preemptions + deviations is kept. */
typedef struct explore_job {
    const cli_opts *o;
    cli_target *t;
    explore_report *sum;
} explore_job;

static void explore_job_work(void *arg, uint32_t job, uint32_t jobs, void *result) {
    explore_job *ej = arg;
    explore_one(ej->o, ej->t, job, jobs, result);
}

static void explore_job_done(void *arg, uint32_t j, const void *result) {
    explore_report *sum = ((explore_job *)arg)->sum;
    const explore_report *part = result;
    sum->stats.executions += part->stats.executions;
    sum->stats.partial += part->stats.partial;
    sum->stats.distinct_states += part->stats.distinct_states; /* an upper bound: shards may share states */
    sum->stats.classes += part->stats.classes;                 /* shards share none: they split the tree */
    sum->stats.pruned_bound += part->stats.pruned_bound;
    sum->stats.pruned_kernel += part->stats.pruned_kernel;
    sum->stats.pruned_sleep += part->stats.pruned_sleep;
    sum->stats.pruned_por += part->stats.pruned_por;
    sum->stats.races += part->stats.races;
    for (uint32_t k = 0; k < SIM_CHOICE__COUNT; k++) sum->stats.branches[k] += part->stats.branches[k];
    if (part->stats.max_depth > sum->stats.max_depth) sum->stats.max_depth = part->stats.max_depth;
    /* The last round of the shard that got furthest (K + D, then K). */
    if (j == 0 || part->stats.bound + part->stats.kernel_bound > sum->stats.bound + sum->stats.kernel_bound ||
        (part->stats.bound + part->stats.kernel_bound == sum->stats.bound + sum->stats.kernel_bound &&
         part->stats.bound > sum->stats.bound)) {
        sum->stats.bound = part->stats.bound;
        sum->stats.kernel_bound = part->stats.kernel_bound;
    }
    sum->stats.complete &= part->stats.complete;
    if (!part->stats.complete && sum->stopped[0] == 0) memcpy(sum->stopped, part->stopped, sizeof sum->stopped);
    /* Keep the violation with the fewest preemptions + deviations, then
     * preemptions, then decisions. */
    uint32_t pc = part->preemptions + part->deviations, sc = sum->preemptions + sum->deviations;
    bool internal = part->found && part->verdict == SIM_INTERNAL, had = sum->found && sum->verdict == SIM_INTERNAL;
    if (internal != had ? internal
                        : part->found && (!sum->found || pc < sc || (pc == sc && part->preemptions < sum->preemptions) ||
                                          (pc == sc && part->preemptions == sum->preemptions &&
                                           part->ndecisions < sum->ndecisions))) {
        sum->found = true;
        sum->verdict = part->verdict;
        memcpy(sum->message, part->message, sizeof sum->message);
        sum->preemptions = part->preemptions;
        sum->deviations = part->deviations;
        sum->kernel_bound = part->kernel_bound;
        sum->ndecisions = part->ndecisions;
        sum->bound = part->bound;
        sum->execution = part->execution;
        memcpy(sum->schedule, part->schedule, sizeof sum->schedule);
    }
}

static int explore_jobs(const cli_opts *o, cli_target *t, explore_report *sum) {
    memset(sum, 0, sizeof *sum);
    sum->stats.complete = true;
    explore_job ej = {o, t, sum};
    return cli_run_jobs(o->jobs, sizeof(explore_report), explore_job_work, explore_job_done, &ej);
}

int cli_cmd_explore(const cli_opts *o) {
    cli_sinks sinks;
    int rc = cli_sinks_open(&sinks, o);
    if (rc != 0) return rc;
    uint32_t passed = 0, failed = 0;
    uint64_t total = 0, failures = 0;
    double t_all = wall_seconds();
    if (!o->json)
        printf("%-48s %2s %3s %5s %10s %8s %9s %10s %6s %9s %s\n", "scenario", "K", "D", "por", "execs", "states",
               "pruned", "races", "depth", "time", "complete");
    for (uint32_t f = 0; f < o->nfiles; f++) {
        cli_target t;
        int orc = cli_target_open(&t, o->files[f]);
        if (orc != 0) {
            rc = orc;
            break;
        }
        double t0 = wall_seconds();
        uint64_t stored_execs = 0;
        cli_outcome stored_bad = {0};
        uint32_t nbad = cli_stored_run(o, &t, &sinks, &stored_execs, &stored_bad);
        cli_opts so = *o;
        if (o->time_s > 0) so.time_s = cli_time_share(o, t_all, f);
        explore_report *rep = cli_xmalloc(sizeof *rep);
        if (o->jobs > 1) {
            if (explore_jobs(&so, &t, rep) != 0) rc = CLI_EXIT_INTERNAL;
        } else {
            explore_one(&so, &t, 0, 1, rep);
        }
        double el = wall_seconds() - t0;
        total += rep->stats.executions + stored_execs;
        failures += nbad + rep->found;
        uint64_t pruned =
            rep->stats.pruned_bound + rep->stats.pruned_kernel + rep->stats.pruned_sleep + rep->stats.pruned_por;
        const char *verdict = rep->found && rep->verdict == SIM_INTERNAL ? "internal" : rep->found || nbad ? "fail" : "pass";
        if (o->json) {
            printf("{\"type\":\"explore\",\"scenario\":");
            cli_json_string(stdout, scn_name(t.scn));
            printf(",\"file\":");
            cli_json_string(stdout, t.path);
            printf(",\"backend\":\"sim\",\"preemption_bound\":%d,\"kernel_bound\":%d,\"por\":\"%s\","
                   "\"executions\":%" PRIu64 ",\"distinct_states\":%" PRIu64 ",\"classes\":%" PRIu64 ",\"pruned\":%" PRIu64
                   ",\"races\":%" PRIu64 ",\"max_depth\":%u,\"complete\":%s,\"stopped_by\":",
                   rep->stats.bound, rep->stats.kernel_bound, explore_por_name(o->por), rep->stats.executions,
                   rep->stats.distinct_states, rep->stats.classes, pruned, rep->stats.races, rep->stats.max_depth,
                   rep->stats.complete ? "true" : "false");
            if (rep->stats.complete || rep->stopped[0] == 0)
                printf("null");
            else
                cli_json_string(stdout, rep->stopped);
            printf(",\"branches\":{");
            for (uint32_t k = 0, sep = 0; k < SIM_CHOICE__COUNT; k++)
                if (rep->stats.branches[k] != 0)
                    printf("%s\"%c\":%" PRIu64, sep++ ? "," : "", sim_choice_letter((sim_choice_kind)k),
                           rep->stats.branches[k]);
            printf("},\"elapsed_s\":%.3f,\"verdict\":\"%s\"}\n", el, verdict);
        } else {
            char dbuf[8];
            snprintf(dbuf, sizeof dbuf, "%d", rep->stats.kernel_bound);
            printf("%-48s %2d %3s %5s %10" PRIu64 " %8" PRIu64 " %9" PRIu64 " %10" PRIu64 " %6u %8.2fs %s\n", t.path,
                   rep->stats.bound, rep->stats.kernel_bound < 0 ? "inf" : dbuf, explore_por_name(o->por),
                   rep->stats.executions, rep->stats.distinct_states, pruned, rep->stats.races, rep->stats.max_depth, el,
                   rep->stats.complete ? "yes" : rep->stopped[0] ? rep->stopped : "no");
        }
        if (rep->found && rep->verdict == SIM_INTERNAL) {
            /* The explorer's or the engine's own invariant: reported as is (a
             * check between runs need not fail on a replay). */
            failed++;
            rc = CLI_EXIT_INTERNAL;
            cli_outcome oc = {0};
            oc.failed = true;
            oc.verdict = SIM_INTERNAL;
            oc.property = "internal";
            snprintf(oc.message, sizeof oc.message, "%s", rep->message);
            oc.schedule = cli_xstrdup(rep->schedule);
            oc.ndecisions = rep->ndecisions;
            oc.preemptions = rep->preemptions;
            oc.deviations = rep->deviations;
            if (o->json)
                cli_json_outcome(stdout, &t, &oc, "explore");
            else
                printf("INTERNAL ERROR %s (%s)\n  %s  found by explore after %" PRIu64 " executions\n", t.path,
                       scn_name(t.scn), oc.message, rep->execution);
            cli_sinks_case(&sinks, &t, el, rep->stats.executions + stored_execs, &oc);
            cli_outcome_clear(&oc);
            cli_outcome_clear(&stored_bad);
            fflush(stdout);
            free(rep);
            cli_target_close(&t);
            continue;
        }
        if (rep->found) {
            sim_set_record_trace(t.sim, true);
            cli_outcome oc = {0};
            cli_exec_schedule(&t, rep->schedule, true, &oc);
            sim_set_record_trace(t.sim, false);
            if (o->json)
                cli_json_outcome(stdout, &t, &oc, "explore");
            else
                cli_report_failure(stdout, o, &t, &oc, rep->execution, oc.ndecisions, oc.preemptions);
            cli_sinks_trace(&sinks, &t, "the failure");
            cli_sinks_case(&sinks, &t, el, rep->stats.executions + stored_execs, &oc);
            cli_outcome_clear(&oc);
        } else {
            cli_sinks_case(&sinks, &t, el, rep->stats.executions + stored_execs, nbad ? &stored_bad : NULL);
        }
        if (rep->found || nbad) {
            failed++;
            if (rc == CLI_EXIT_PASS) rc = CLI_EXIT_FAIL;
        } else {
            passed++;
        }
        cli_outcome_clear(&stored_bad);
        fflush(stdout);
        free(rep);
        cli_target_close(&t);
    }
    double el = wall_seconds() - t_all;
    if (o->json)
        cli_json_summary(stdout, passed + failed, failed, total, failures, el);
    else
        printf("\n%u passed, %u failed\n", passed, failed);
    if (!cli_sinks_close(&sinks, el) && rc == CLI_EXIT_PASS) rc = CLI_EXIT_INTERNAL;
    return rc;
}

/* ---- bench --explore ---- */

typedef struct bench_row {
    uint64_t execs, partial;
    double secs;
    bool complete;
} bench_row;

/* One round at exactly (K, D) (no deepening), within the budget. */
static bench_row bench_round(const cli_opts *o, cli_target *t, explore_por por, uint64_t max_execs, double secs) {
    explore_options eo;
    explore_options_default(&eo);
    eo.por = por;
    eo.preemption_bound = o->preemptions;
    eo.kernel_bound = o->kernel_bound;
    eo.stop_on_violation = false;
    eo.max_executions = max_execs;
    double t0 = wall_seconds();
    budget b = {t0 + secs};
    eo.keep_going = keep_going;
    eo.keep_user = &b;
    explore_result er;
    memset(&er, 0, sizeof er);
    explore_run(t->sim, cli_exec_main, t, &eo, &er);
    bench_row r = {er.stats.executions, er.stats.partial, wall_seconds() - t0, er.stats.complete};
    explore_result_free(&er);
    return r;
}

/* Per scenario: DPOR's explored executions per second (complete runs plus
 * the runs cut short, which cost as much to run), and the reduction ratio
 * naive / DPOR at the same (K, D). The ratio is exact when both covered the
 * space, a lower bound (">=") when only DPOR did, and unknown when DPOR did
 * not finish within the budget. */
int cli_bench_explore(const cli_opts *o) {
    uint64_t max_execs = o->max_execs ? o->max_execs : 20000;
    double secs = o->time_s > 0 ? o->time_s : 2.0;
    char kb[16], db[16];
    snprintf(kb, sizeof kb, "%d", o->preemptions);
    snprintf(db, sizeof db, "%d", o->kernel_bound);
    printf("explorer throughput and DPOR reduction per scenario ((K, D) = (%s, %s), at most %" PRIu64
           " executions or %.1f s per search, one core)\n\n",
           o->preemptions < 0 ? "inf" : kb, o->kernel_bound < 0 ? "inf" : db, max_execs, secs);
    printf("%-52s %10s %10s %9s | %10s %9s | %9s\n", "scenario", "dpor", "runs/s", "complete", "naive", "complete",
           "ratio");
    for (uint32_t f = 0; f < o->nfiles; f++) {
        cli_target t;
        if (cli_target_open(&t, o->files[f]) != 0) return CLI_EXIT_USAGE;
        bench_row d = bench_round(o, &t, EXPLORE_POR_DPOR, max_execs, secs);
        bench_row n = bench_round(o, &t, EXPLORE_POR_NONE, max_execs, secs);
        char ratio[32];
        double r = (double)n.execs / (double)(d.execs ? d.execs : 1);
        if (d.complete && n.complete)
            snprintf(ratio, sizeof ratio, "%.1fx", r);
        else if (d.complete)
            snprintf(ratio, sizeof ratio, ">=%.1fx", r);
        else
            snprintf(ratio, sizeof ratio, "?");
        printf("%-52s %10" PRIu64 " %10.0f %9s | %10" PRIu64 " %9s | %9s\n", t.path, d.execs,
               (double)(d.execs + d.partial) / (d.secs > 0 ? d.secs : 1e-9), d.complete ? "yes" : "no", n.execs,
               n.complete ? "yes" : "no", ratio);
        cli_target_close(&t);
    }
    return CLI_EXIT_PASS;
}
