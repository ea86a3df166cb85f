/* demo_progs.c - the programs of demo_progs.h. */
#include "demo_progs.h"

static void counter_worker(void *arg) {
    demo_counter *p = arg;
    const shim *sh = p->sh;
    for (uint32_t i = 0; i < p->increments; i++) {
        if (p->locked) sh->mutex_lock(sh->ctx, &p->mu);
        uint32_t in = sh->atomic_add32(sh->ctx, &p->inside, 1);
        if (p->locked && in != 1) sim_fail(p->sim, "mutual-exclusion", "%u threads inside", in);
        /* Deliberately not atomic: another thread may run between these. */
        uint32_t v = sh->atomic_load32(sh->ctx, &p->counter);
        sh->sleep_ns(sh->ctx, 0); /* a yield inside the section */
        sh->atomic_store32(sh->ctx, &p->counter, v + 1);
        sh->atomic_add32(sh->ctx, &p->inside, -1);
        if (p->locked) sh->mutex_unlock(sh->ctx, &p->mu);
    }
}

void demo_counter_main(sim_ctx *sim, const shim *sh, void *arg) {
    demo_counter *p = arg;
    p->sh = sh;
    p->sim = sim;
    p->counter = 0;
    p->inside = 0;
    if (p->locked) sh->mutex_init(sh->ctx, &p->mu);
    shim_thread t[8];
    for (uint32_t i = 0; i < p->threads && i < 8; i++) sh->thread_spawn(sh->ctx, &t[i], counter_worker, p, "worker");
    for (uint32_t i = 0; i < p->threads && i < 8; i++) sh->thread_join(sh->ctx, &t[i]);
    uint32_t want = p->threads * p->increments;
    uint32_t got = sh->atomic_load32(sh->ctx, &p->counter);
    if (got != want) sim_fail(sim, "lost-update", "counter = %u, expected %u", got, want);
}

static void abba_one(void *arg) {
    demo_abba *p = arg;
    p->sh->mutex_lock(p->sh->ctx, &p->a);
    p->sh->mutex_lock(p->sh->ctx, &p->b);
    p->sh->mutex_unlock(p->sh->ctx, &p->b);
    p->sh->mutex_unlock(p->sh->ctx, &p->a);
}

static void abba_two(void *arg) {
    demo_abba *p = arg;
    p->sh->mutex_lock(p->sh->ctx, &p->b);
    p->sh->mutex_lock(p->sh->ctx, &p->a);
    p->sh->mutex_unlock(p->sh->ctx, &p->a);
    p->sh->mutex_unlock(p->sh->ctx, &p->b);
}

void demo_abba_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)sim;
    demo_abba *p = arg;
    p->sh = sh;
    sh->mutex_init(sh->ctx, &p->a);
    sh->mutex_init(sh->ctx, &p->b);
    shim_thread t1, t2;
    sh->thread_spawn(sh->ctx, &t1, abba_one, p, "a-then-b");
    sh->thread_spawn(sh->ctx, &t2, abba_two, p, "b-then-a");
    sh->thread_join(sh->ctx, &t1);
    sh->thread_join(sh->ctx, &t2);
}

void demo_timed_main(sim_ctx *sim, const shim *sh, void *arg) {
    int64_t *woke = arg;
    shim_sema s;
    sh->sema_init(sh->ctx, &s, 0);
    bool got = sh->sema_wait(sh->ctx, &s, 10 * 1000 * 1000);
    *woke = sh->now_ns(sh->ctx);
    if (got) sim_fail(sim, "timed-wait", "a wait on an empty semaphore succeeded");
}
