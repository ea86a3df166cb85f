/* demo.c - the engine's demonstration programs.
 *
 * Four programs, each run on the simulator with seeded random scheduling:
 *   lost-update   two threads increment a counter with a load then a store;
 *                 the race is found, replayed from its schedule, and traced;
 *   mutex-counter the same increments under a mutex: no seed may fail
 *                 (neither lost-update nor mutual-exclusion);
 *   abba          two threads take two mutexes in opposite orders: the
 *                 deadlock is found and every blocked thread is named;
 *   timed-wait    a semaphore wait with a 10 ms timeout ends at exactly
 *                 10 ms of virtual time.
 * The programs are in demo_progs.c, shared with tests/check_sim.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "demo.h"
#include "demo_progs.h"

/* Runs seeds from `seed` until the verdict is not pass; returns the seed or -1. */
static int64_t search(sim_ctx *sim, sim_main_fn fn, void *arg, uint64_t seed, uint32_t max_seeds,
                      const sim_result **out) {
    sim_random rnd;
    for (uint32_t i = 0; i < max_seeds; i++) {
        sim_chooser ch = sim_random_chooser(&rnd, seed + i);
        const sim_result *r = sim_run(sim, &ch, fn, arg);
        if (r->verdict != SIM_PASS) {
            *out = r;
            return (int64_t)(seed + i);
        }
    }
    return -1;
}

static void indent(const char *text, const char *prefix) {
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        printf("%s%.*s\n", prefix, (int)n, p);
        p += n + (nl ? 1 : 0);
    }
}

int demo_replay_lost_update(const char *schedule) {
    sim_schedule parsed;
    char err[160];
    if (!sim_schedule_parse(schedule, &parsed, err, sizeof err)) {
        fprintf(stderr, "iocpcheck: schedule:%s\n", err);
        return 2;
    }
    sim_ctx *sim = sim_create(NULL);
    if (sim == NULL) {
        sim_schedule_free(&parsed);
        fprintf(stderr, "iocpcheck: cannot create the simulator\n");
        return 3;
    }
    demo_counter lost = {.threads = 2, .increments = 2, .locked = false};
    sim_replay rp;
    sim_chooser ch = sim_replay_chooser(&rp, parsed.d, parsed.col, parsed.count, NULL);
    const sim_result *r = sim_run(sim, &ch, demo_counter_main, &lost);
    sim_trace_write(sim, stdout);
    printf("verdict: %s (%s)%s%s\ntrace hash %016" PRIx64 ", %" PRIu64 " steps, %u decisions, %u preemptions\n",
           sim_verdict_name(r->verdict), r->property, r->message[0] ? ": " : "", r->message, r->trace_hash,
           r->steps, r->ndecisions, r->preemptions);
    int rc = r->verdict == SIM_PASS ? 0 : r->verdict == SIM_NONDETERMINISM ? 2 : r->verdict == SIM_INTERNAL ? 3 : 1;
    sim_destroy(sim);
    sim_schedule_free(&parsed);
    return rc;
}

int demo_main(const char *argv0, uint64_t seed, uint32_t max_seeds, int show_trace) {
    sim_ctx *sim = sim_create(NULL);
    if (sim == NULL) {
        fprintf(stderr, "iocpcheck: cannot create the simulator\n");
        return 3;
    }
    int rc = 0;
    const sim_result *r = NULL;
    printf("iocpcheck demo: the simulation engine on four small programs\n");
    printf("(seeded random scheduling from seed %" PRIu64 ", at most %u seeds each)\n\n", seed, max_seeds);

    /* 1. lost update */
    demo_counter lost = {.threads = 2, .increments = 2, .locked = false};
    int64_t found = search(sim, demo_counter_main, &lost, seed, max_seeds, &r);
    printf("1. lost-update: 2 threads x 2 unlocked increments (load, then store)\n");
    if (found < 0) {
        printf("   NOT FOUND in %u seeds\n", max_seeds);
        rc = 1;
    } else {
        size_t need = sim_schedule_format(r->decisions, r->ndecisions, NULL, 0) + 1;
        char *sched = cli_xmalloc(need);
        sim_schedule_format(r->decisions, r->ndecisions, sched, need);
        uint64_t hash = r->trace_hash;
        printf("   found at seed %" PRId64 " (%" PRId64 " seeds tried): %s: %s\n", found,
               found - (int64_t)seed + 1, r->property, r->message);
        printf("   schedule: %s  (%u decisions, %u preemptions)\n", sched, r->ndecisions, r->preemptions);
        sim_schedule parsed;
        char err[128];
        if (!sim_schedule_parse(sched, &parsed, err, sizeof err)) {
            printf("   internal error: the printed schedule does not parse: %s\n", err);
            rc = 3;
        } else {
            sim_replay rp;
            sim_chooser ch = sim_replay_chooser(&rp, parsed.d, parsed.col, parsed.count, NULL);
            r = sim_run(sim, &ch, demo_counter_main, &lost);
            printf("   replayed: %s, trace hash %016" PRIx64 " %s %016" PRIx64 "\n", sim_verdict_name(r->verdict),
                   r->trace_hash, r->trace_hash == hash ? "==" : "!=", hash);
            if (r->trace_hash != hash || r->verdict != SIM_FAIL) rc = 3;
            if (show_trace) sim_trace_write(sim, stdout);
            printf("   replay it:  %s demo --replay-lost-update '%s'\n", argv0, sched);
            sim_schedule_free(&parsed);
        }
        free(sched);
    }

    /* 2. mutex counter */
    demo_counter safe = {.threads = 3, .increments = 3, .locked = true};
    found = search(sim, demo_counter_main, &safe, seed, max_seeds, &r);
    printf("\n2. mutex-counter: 3 threads x 3 increments under a mutex\n");
    if (found >= 0) {
        printf("   UNEXPECTED %s at seed %" PRId64 ": %s\n", sim_verdict_name(r->verdict), found, r->message);
        rc = 3;
    } else {
        printf("   %u seeds, no failure\n", max_seeds);
    }

    /* 3. ABBA deadlock */
    demo_abba abba;
    memset(&abba, 0, sizeof abba);
    found = search(sim, demo_abba_main, &abba, seed, max_seeds, &r);
    printf("\n3. abba: two threads take mutexes m0, m1 in opposite orders\n");
    if (found < 0) {
        printf("   NOT FOUND in %u seeds\n", max_seeds);
        rc = rc ? rc : 1;
    } else {
        printf("   found at seed %" PRId64 " (%" PRId64 " seeds tried):\n", found, found - (int64_t)seed + 1);
        indent(r->message, "   ");
    }

    /* 4. timed wait */
    int64_t woke = -1;
    sim_random rnd;
    sim_chooser ch = sim_random_chooser(&rnd, seed);
    r = sim_run(sim, &ch, demo_timed_main, &woke);
    printf("\n4. timed-wait: a 10 ms wait on an empty semaphore\n");
    printf("   %s, woke at %" PRId64 " ns of virtual time\n", sim_verdict_name(r->verdict), woke);
    if (r->verdict != SIM_PASS || woke != 10000000) rc = 3;

    const sim_stats *st = sim_get_stats(sim);
    printf("\n%" PRIu64 " executions, %" PRIu64 " scheduling steps\n", st->executions, st->steps);
    sim_destroy(sim);
    return rc;
}
