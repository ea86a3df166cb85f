/* demo_progs.c - the programs of demo_progs.h. */
#include "demo_progs.h"

static void counter_worker(void *arg) {
    demo_counter *p = arg;
    const shim *sh = p->sh;
    for (uint32_t i = 0; i < p->increments; i++) {
        if (p->locked) sh->sync->mutex_lock(sh->sync->ctx, &p->mu);
        uint32_t in = sh->sync->atomic_add32(sh->sync->ctx, &p->inside, 1);
        if (p->locked && in != 1) sim_fail(p->sim, "mutual-exclusion", "%u threads inside", in);
        /* Deliberately not atomic: another thread may run between these. */
        uint32_t v = sh->sync->atomic_load32(sh->sync->ctx, &p->counter);
        harness_sleep(sim_harness_of(sh), 0); /* a yield inside the section */
        sh->sync->atomic_store32(sh->sync->ctx, &p->counter, v + 1);
        sh->sync->atomic_add32(sh->sync->ctx, &p->inside, -1);
        if (p->locked) sh->sync->mutex_unlock(sh->sync->ctx, &p->mu);
    }
}

void demo_counter_main(sim_ctx *sim, const shim *sh, void *arg) {
    demo_counter *p = arg;
    p->sh = sh;
    p->sim = sim;
    p->counter = 0;
    p->inside = 0;
    if (p->locked) sh->sync->mutex_init(sh->sync->ctx, &p->mu);
    shim_thread t[8];
    for (uint32_t i = 0; i < p->threads && i < 8; i++) harness_spawn(sim_harness_of(sh), &t[i], counter_worker, p, "worker");
    for (uint32_t i = 0; i < p->threads && i < 8; i++) harness_join(sim_harness_of(sh), &t[i]);
    if (p->locked) sh->sync->mutex_destroy(sh->sync->ctx, &p->mu);
    uint32_t want = p->threads * p->increments;
    uint32_t got = sh->sync->atomic_load32(sh->sync->ctx, &p->counter);
    if (got != want) sim_fail(sim, "lost-update", "counter = %u, expected %u", got, want);
}

static void abba_one(void *arg) {
    demo_abba *p = arg;
    p->sh->sync->mutex_lock(p->sh->sync->ctx, &p->a);
    p->sh->sync->mutex_lock(p->sh->sync->ctx, &p->b);
    p->sh->sync->mutex_unlock(p->sh->sync->ctx, &p->b);
    p->sh->sync->mutex_unlock(p->sh->sync->ctx, &p->a);
}

static void abba_two(void *arg) {
    demo_abba *p = arg;
    p->sh->sync->mutex_lock(p->sh->sync->ctx, &p->b);
    p->sh->sync->mutex_lock(p->sh->sync->ctx, &p->a);
    p->sh->sync->mutex_unlock(p->sh->sync->ctx, &p->a);
    p->sh->sync->mutex_unlock(p->sh->sync->ctx, &p->b);
}

void demo_abba_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)sim;
    demo_abba *p = arg;
    p->sh = sh;
    sh->sync->mutex_init(sh->sync->ctx, &p->a);
    sh->sync->mutex_init(sh->sync->ctx, &p->b);
    shim_thread t1, t2;
    harness_spawn(sim_harness_of(sh), &t1, abba_one, p, "a-then-b");
    harness_spawn(sim_harness_of(sh), &t2, abba_two, p, "b-then-a");
    harness_join(sim_harness_of(sh), &t1);
    harness_join(sim_harness_of(sh), &t2);
    sh->sync->mutex_destroy(sh->sync->ctx, &p->a);
    sh->sync->mutex_destroy(sh->sync->ctx, &p->b);
}

void demo_timed_main(sim_ctx *sim, const shim *sh, void *arg) {
    int64_t *woke = arg;
    shim_sema s;
    sh->sync->sema_init(sh->sync->ctx, &s, 0);
    bool got = sh->sync->sema_wait(sh->sync->ctx, &s, 10 * 1000 * 1000);
    *woke = sh->sync->now_ns(sh->sync->ctx);
    sh->sync->sema_destroy(sh->sync->ctx, &s);
    if (got) sim_fail(sim, "timed-wait", "a wait on an empty semaphore succeeded");
}
