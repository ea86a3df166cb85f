/* demo.c - the engine's demonstration programs.
 *
 * Four programs, each run on the simulator with seeded random scheduling:
 *   lost-update   two threads increment a counter with a load then a store;
 *                 the race is found, replayed from its schedule, and traced;
 *   mutex-counter the same increments under a mutex: no seed may fail;
 *   abba          two threads take two mutexes in opposite orders: the
 *                 deadlock is found and every blocked thread is named;
 *   timed-wait    a semaphore wait with a 10 ms timeout ends at exactly
 *                 10 ms of virtual time.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "../sim/sim.h"

typedef struct counter_prog {
    uint32_t threads;
    uint32_t increments;
    bool locked;
    volatile uint32_t counter;
    shim_mutex mu;
    const shim *sh;
} counter_prog;

static void counter_worker(void *arg) {
    counter_prog *p = arg;
    const shim *sh = p->sh;
    for (uint32_t i = 0; i < p->increments; i++) {
        if (p->locked) sh->mutex_lock(sh->ctx, &p->mu);
        /* Deliberately not atomic: another thread may run between these. */
        uint32_t v = sh->atomic_load32(sh->ctx, &p->counter);
        sh->atomic_store32(sh->ctx, &p->counter, v + 1);
        if (p->locked) sh->mutex_unlock(sh->ctx, &p->mu);
    }
}

static void counter_main(sim_ctx *sim, const shim *sh, void *arg) {
    counter_prog *p = arg;
    p->sh = sh;
    p->counter = 0;
    if (p->locked) sh->mutex_init(sh->ctx, &p->mu);
    shim_thread t[8];
    for (uint32_t i = 0; i < p->threads; i++) sh->thread_spawn(sh->ctx, &t[i], counter_worker, p, "worker");
    for (uint32_t i = 0; i < p->threads; i++) sh->thread_join(sh->ctx, &t[i]);
    uint32_t want = p->threads * p->increments;
    uint32_t got = sh->atomic_load32(sh->ctx, &p->counter);
    if (got != want) sim_fail(sim, "lost-update", "counter = %u, expected %u", got, want);
}

typedef struct abba_prog {
    shim_mutex a, b;
    const shim *sh;
} abba_prog;

static void abba_one(void *arg) {
    abba_prog *p = arg;
    p->sh->mutex_lock(p->sh->ctx, &p->a);
    p->sh->mutex_lock(p->sh->ctx, &p->b);
    p->sh->mutex_unlock(p->sh->ctx, &p->b);
    p->sh->mutex_unlock(p->sh->ctx, &p->a);
}

static void abba_two(void *arg) {
    abba_prog *p = arg;
    p->sh->mutex_lock(p->sh->ctx, &p->b);
    p->sh->mutex_lock(p->sh->ctx, &p->a);
    p->sh->mutex_unlock(p->sh->ctx, &p->a);
    p->sh->mutex_unlock(p->sh->ctx, &p->b);
}

static void abba_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)sim;
    abba_prog *p = arg;
    p->sh = sh;
    sh->mutex_init(sh->ctx, &p->a);
    sh->mutex_init(sh->ctx, &p->b);
    shim_thread t1, t2;
    sh->thread_spawn(sh->ctx, &t1, abba_one, p, "a-then-b");
    sh->thread_spawn(sh->ctx, &t2, abba_two, p, "b-then-a");
    sh->thread_join(sh->ctx, &t1);
    sh->thread_join(sh->ctx, &t2);
}

static void timed_main(sim_ctx *sim, const shim *sh, void *arg) {
    int64_t *woke = arg;
    shim_sema s;
    sh->sema_init(sh->ctx, &s, 0);
    bool got = sh->sema_wait(sh->ctx, &s, 10 * 1000 * 1000);
    *woke = sh->now_ns(sh->ctx);
    if (got) sim_fail(sim, "timed-wait", "a wait on an empty semaphore succeeded");
}

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
    counter_prog lost = {.threads = 2, .increments = 2, .locked = false};
    sim_replay rp;
    sim_chooser ch = sim_replay_chooser(&rp, parsed.d, parsed.col, parsed.count, NULL);
    const sim_result *r = sim_run(sim, &ch, counter_main, &lost);
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
    counter_prog lost = {.threads = 2, .increments = 2, .locked = false};
    int64_t found = search(sim, counter_main, &lost, seed, max_seeds, &r);
    printf("1. lost-update: 2 threads x 2 unlocked increments (load, then store)\n");
    if (found < 0) {
        printf("   NOT FOUND in %u seeds\n", max_seeds);
        rc = 1;
    } else {
        size_t need = sim_schedule_format(r->decisions, r->ndecisions, NULL, 0) + 1;
        char *sched = malloc(need);
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
            r = sim_run(sim, &ch, counter_main, &lost);
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
    counter_prog safe = {.threads = 3, .increments = 3, .locked = true};
    found = search(sim, counter_main, &safe, seed, max_seeds, &r);
    printf("\n2. mutex-counter: 3 threads x 3 increments under a mutex\n");
    if (found >= 0) {
        printf("   UNEXPECTED %s at seed %" PRId64 ": %s\n", sim_verdict_name(r->verdict), found, r->message);
        rc = 3;
    } else {
        printf("   %u seeds, no failure\n", max_seeds);
    }

    /* 3. ABBA deadlock */
    abba_prog abba;
    memset(&abba, 0, sizeof abba);
    found = search(sim, abba_main, &abba, seed, max_seeds, &r);
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
    r = sim_run(sim, &ch, timed_main, &woke);
    printf("\n4. timed-wait: a 10 ms wait on an empty semaphore\n");
    printf("   %s, woke at %" PRId64 " ns of virtual time\n", sim_verdict_name(r->verdict), woke);
    if (r->verdict != SIM_PASS || woke != 10000000) rc = 3;

    const sim_stats *st = sim_get_stats(sim);
    printf("\n%" PRIu64 " executions, %" PRIu64 " scheduling steps\n", st->executions, st->steps);
    sim_destroy(sim);
    return rc;
}
