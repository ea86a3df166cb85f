/* cli_shrink.c - replay and shrink.
 *
 * Shrinking works on the decision stream. A candidate stream is run with a
 * lenient chooser: it follows the candidate where it can, takes the
 * non-preemptive default (keep the running thread; outcome 0 for kernel
 * choices) where the candidate does not fit or has run out. A candidate is
 * kept when its execution fails the same property; the stream that execution
 * actually recorded becomes the new best, so the result always replays
 * strictly. Passes: delete chunks (delta debugging, halving), then turn
 * preemptions into "keep running", then lower kernel choices to outcome 0;
 * repeat while anything improves, within a budget of executions. Fewer
 * preemptions come first, then fewer decisions (never more decisions than
 * the schedule started with). Where that stalls above one preemption, the
 * explorer looks for the same failure with fewer preemptions (iterative
 * deepening from none, every schedule up to two fewer than the best): when
 * its search of those bounds is complete and finds none, the best is within
 * one of the fewest any schedule needs (within the kernel bound).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "../search/explore.h"
#include "../search/strategies.h"
#include "cli.h"

#define SHRINK_MAX_EXECS 3000u
#define SHRINK_EXPLORE_EXECS 20000u /* the explorer's budget, per call */
#define SHRINK_KERNEL_BOUND 2       /* as explore's default */
#define LABEL_DEFAULT UINT32_MAX /* "take the default here" */

typedef struct lenient {
    const sim_decision *d;
    uint32_t n, pos;
} lenient;

static uint32_t lenient_default(const sim_choice_point *pt) { return pt->current != SIM_NO_CURRENT ? pt->current : 0; }

static uint32_t lenient_choose(void *self, sim_ctx *sim, const sim_choice_point *pt) {
    (void)sim;
    lenient *l = self;
    if (l->pos >= l->n) return lenient_default(pt);
    const sim_decision *tok = &l->d[l->pos++];
    if (tok->kind != pt->kind || tok->label == LABEL_DEFAULT) return lenient_default(pt);
    for (uint32_t i = 0; i < pt->n; i++)
        if ((pt->labels != NULL ? pt->labels[i] : i) == tok->label) return i;
    return lenient_default(pt);
}

static void lenient_begin(void *self, sim_ctx *sim) {
    (void)sim;
    ((lenient *)self)->pos = 0;
}

int cli_exec_lenient(cli_target *t, const char *schedule, cli_outcome *out) {
    sim_schedule s;
    char err[256];
    if (!sim_schedule_parse(schedule, &s, err, sizeof err)) {
        fprintf(stderr, "iocpcheck: --schedule: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    lenient l = {s.d, s.count, 0};
    sim_chooser ch = {&l, "lenient", lenient_begin, lenient_choose, NULL};
    cli_exec(t, &ch, out);
    sim_schedule_free(&s);
    return 0;
}

typedef struct shrinker {
    cli_target *t;
    const char *property;
    sim_decision *best;
    uint32_t nbest;
    uint32_t best_preemptions;
    uint32_t max_decisions; /* the input's: a candidate never has more */
    uint64_t execs;
    cli_outcome last;
} shrinker;

static bool better(const shrinker *s, uint32_t n, uint32_t pre) {
    if (n > s->max_decisions) return false;
    return pre < s->best_preemptions || (pre == s->best_preemptions && n < s->nbest);
}

/* Runs `cand`; if it fails the same property with a shorter (or as long but
 * less preemptive) recorded stream, adopts that stream. */
static bool try_candidate(shrinker *s, const sim_decision *cand, uint32_t n) {
    if (s->execs >= SHRINK_MAX_EXECS) return false;
    s->execs++;
    lenient l = {cand, n, 0};
    sim_chooser ch = {&l, "shrink", lenient_begin, lenient_choose, NULL};
    cli_exec(s->t, &ch, &s->last);
    if (!s->last.failed || s->last.property == NULL || strcmp(s->last.property, s->property) != 0) return false;
    sim_schedule parsed;
    char err[64];
    if (!sim_schedule_parse(s->last.schedule, &parsed, err, sizeof err)) return false;
    uint32_t pre = s->last.preemptions;
    if (!better(s, parsed.count, pre)) {
        sim_schedule_free(&parsed);
        return false;
    }
    free(s->best);
    s->best = parsed.d;
    s->nbest = parsed.count;
    free(parsed.col);
    s->best_preemptions = pre;
    return true;
}

/* The explorer, below the best's preemptions: the first execution it finds
 * that fails the same property with fewer (other failures do not stop it;
 * its rounds go by K + D, so the first found has about the fewest). */
typedef struct fewer {
    shrinker *s;
    bool found;
} fewer;

static void fewer_seen(void *user, sim_ctx *sim, const sim_result *r) {
    (void)sim;
    fewer *f = user;
    if (f->found || r->verdict == SIM_PASS || r->property == NULL || strcmp(r->property, f->s->property) != 0 ||
        r->preemptions >= f->s->best_preemptions)
        return;
    shrinker *s = f->s;
    free(s->best);
    s->best = cli_xmalloc((r->ndecisions + 1) * sizeof *s->best);
    memcpy(s->best, r->decisions, r->ndecisions * sizeof *s->best);
    s->nbest = r->ndecisions;
    s->best_preemptions = r->preemptions;
    if (s->nbest > s->max_decisions) s->max_decisions = s->nbest;
    f->found = true;
}

static bool fewer_keep_going(void *user, const explore_stats *st) {
    (void)st;
    return !((fewer *)user)->found;
}

static bool explore_fewer(shrinker *s) {
    if (s->best_preemptions < 2) return false;
    explore_options eo;
    explore_options_default(&eo);
    eo.preemption_bound = (int32_t)s->best_preemptions - 2;
    eo.kernel_bound = SHRINK_KERNEL_BOUND;
    eo.iterative = true;
    eo.stop_on_violation = false;
    eo.max_executions = SHRINK_EXPLORE_EXECS;
    fewer f = {s, false};
    eo.on_execution = fewer_seen;
    eo.exec_user = &f;
    eo.keep_going = fewer_keep_going;
    eo.keep_user = &f;
    explore_result er;
    memset(&er, 0, sizeof er);
    explore_run(s->t->sim, cli_exec_main, s->t, &eo, &er);
    s->execs += er.stats.executions;
    explore_result_free(&er);
    return f.found;
}

uint64_t cli_shrink(cli_target *t, cli_outcome *fail) {
    shrinker s = {0};
    s.t = t;
    s.property = fail->property;
    sim_schedule parsed;
    char err[64];
    if (fail->schedule == NULL || !sim_schedule_parse(fail->schedule, &parsed, err, sizeof err)) return 0;
    s.best = parsed.d;
    s.nbest = parsed.count;
    free(parsed.col);
    s.best_preemptions = fail->preemptions;
    s.max_decisions = s.nbest;
    bool improved = true, explored = false;
    for (;;) {
    while (improved && s.execs < SHRINK_MAX_EXECS) {
        improved = false;
        /* 1. Delete chunks, halving the chunk size. */
        for (uint32_t chunk = s.nbest / 2 > 0 ? s.nbest / 2 : 1; chunk >= 1; chunk /= 2) {
            for (uint32_t i = 0; i < s.nbest && s.execs < SHRINK_MAX_EXECS;) {
                uint32_t len = chunk < s.nbest - i ? chunk : s.nbest - i;
                uint32_t n = s.nbest - len;
                sim_decision *cand = cli_xmalloc((n + 1) * sizeof *cand);
                memcpy(cand, s.best, i * sizeof *cand);
                memcpy(cand + i, s.best + i + len, (s.nbest - i - len) * sizeof *cand);
                bool ok = try_candidate(&s, cand, n);
                free(cand);
                if (ok)
                    improved = true;
                else
                    i += len;
            }
            if (chunk == 1) break;
        }
        /* 2. Thread choices become "keep running", one at a time (a no-op
         * where the choice did not preempt: the candidate is then no better). */
        for (uint32_t i = 0; i < s.nbest && s.execs < SHRINK_MAX_EXECS; i++) {
            if (s.best[i].kind != SIM_CHOICE_THREAD) continue;
            sim_decision *cand = cli_xmalloc((s.nbest + 1) * sizeof *cand);
            memcpy(cand, s.best, s.nbest * sizeof *cand);
            cand[i].label = LABEL_DEFAULT;
            if (try_candidate(&s, cand, s.nbest)) improved = true;
            free(cand);
        }
        /* 3. Kernel choices down to outcome 0. */
        for (uint32_t i = 0; i < s.nbest && s.execs < SHRINK_MAX_EXECS; i++) {
            if (s.best[i].kind == SIM_CHOICE_THREAD || s.best[i].label == 0) continue;
            sim_decision *cand = cli_xmalloc((s.nbest + 1) * sizeof *cand);
            memcpy(cand, s.best, s.nbest * sizeof *cand);
            cand[i].label = 0;
            if (try_candidate(&s, cand, s.nbest)) improved = true;
            free(cand);
        }
    }
    /* Once: the explorer where random shrinking stalled; if it found fewer
     * preemptions, shrink its schedule's decisions again. */
    if (explored || !explore_fewer(&s)) break;
    explored = true;
    improved = true;
    s.execs = s.execs < SHRINK_MAX_EXECS ? s.execs : SHRINK_MAX_EXECS / 2;
    }
    /* Final: a strict replay of the best stream, which becomes the outcome. */
    sim_replay rp;
    sim_chooser ch = sim_replay_chooser(&rp, s.best, NULL, s.nbest, NULL);
    cli_outcome final = {0};
    cli_exec(t, &ch, &final);
    s.execs++;
    if (final.failed && strcmp(final.property, fail->property) == 0) {
        uint64_t seed = fail->seed;
        cli_strategy st = fail->strategy;
        bool swarm = fail->swarm;
        uint64_t sw = fail->swarm_seed;
        char desc[sizeof fail->swarm_desc];
        memcpy(desc, fail->swarm_desc, sizeof desc);
        cli_outcome_clear(fail);
        *fail = final;
        fail->seed = seed;
        fail->strategy = st;
        fail->swarm = swarm;
        fail->swarm_seed = sw;
        memcpy(fail->swarm_desc, desc, sizeof desc);
    } else {
        cli_outcome_clear(&final);
    }
    cli_outcome_clear(&s.last);
    free(s.best);
    return s.execs;
}

/* ---- Commands ---- */

static int replay_or_shrink(const cli_opts *o, bool shrink) {
    if (o->nfiles != 1) {
        fprintf(stderr, "iocpcheck: %s needs exactly one scenario file\n", o->cmd);
        return CLI_EXIT_USAGE;
    }
    if (o->schedule == NULL) {
        fprintf(stderr, "iocpcheck: %s needs --schedule STRING\n", o->cmd);
        return CLI_EXIT_USAGE;
    }
    cli_sinks sinks;
    int rc = cli_sinks_open(&sinks, o);
    if (rc != 0) return rc;
    cli_target t;
    rc = cli_target_open(&t, o->files[0]);
    if (rc != 0) {
        cli_sinks_close(&sinks, 0);
        return rc;
    }
    if (o->swarm_set) {
        uint32_t budget[SHIM_FAULT_FAMILIES];
        sim_swarm_faults(o->swarm_seed, t.fault_max, budget, SHIM_FAULT_FAMILIES);
        cli_target_faults(&t, budget);
    }
    cli_outcome oc = {0};
    oc.swarm = o->swarm_set;
    oc.swarm_seed = o->swarm_seed;
    sim_set_record_trace(t.sim, true);
    rc = cli_exec_schedule(&t, o->schedule, true, &oc);
    if (rc == 0 && oc.verdict == SIM_NONDETERMINISM) {
        fprintf(stderr, "iocpcheck: --schedule: the schedule does not fit this scenario: %s\n", oc.message);
        rc = CLI_EXIT_USAGE;
    }
    if (rc != 0) {
        cli_outcome_clear(&oc);
        cli_target_close(&t);
        cli_sinks_close(&sinks, 0);
        return rc;
    }
    uint64_t execs = 1;
    uint32_t before_d = oc.ndecisions, before_p = oc.preemptions;
    if (shrink) {
        if (!oc.failed) {
            printf("%s: the schedule passes: nothing to shrink\n", t.path);
            cli_outcome_clear(&oc);
            cli_target_close(&t);
            cli_sinks_close(&sinks, 0);
            return CLI_EXIT_PASS;
        }
        sim_set_record_trace(t.sim, false);
        execs += cli_shrink(&t, &oc);
    }
    if (shrink) {
        /* Run the shrunk schedule once more with the trace kept, for the report. */
        sim_set_record_trace(t.sim, true);
        char *sched = cli_xstrdup(oc.schedule);
        cli_outcome_clear(&oc);
        cli_exec_schedule(&t, sched, true, &oc);
        oc.swarm = o->swarm_set;
        oc.swarm_seed = o->swarm_seed;
        free(sched);
    }
    if (o->json) {
        cli_json_outcome(stdout, &t, &oc, "schedule");
    } else if (oc.failed) {
        cli_report_failure(stdout, o, &t, &oc, execs, before_d, before_p);
    } else {
        printf("PASS %s  (%u decision%s, %u preemption%s, %llu steps, trace hash %016llx)\n", t.path, oc.ndecisions,
               cli_s(oc.ndecisions), oc.preemptions, cli_s(oc.preemptions), (unsigned long long)oc.steps, (unsigned long long)oc.trace_hash);
    }
    cli_sinks_trace(&sinks, &t, shrink ? "shrunk" : NULL);
    rc = cli_exit_merge(CLI_EXIT_PASS, &oc);
    cli_outcome_clear(&oc);
    cli_target_close(&t);
    if (!cli_sinks_close(&sinks, 0) && rc == CLI_EXIT_PASS) rc = CLI_EXIT_INTERNAL;
    return rc;
}

int cli_cmd_replay(const cli_opts *o) { return replay_or_shrink(o, false); }
int cli_cmd_shrink(const cli_opts *o) { return replay_or_shrink(o, true); }
