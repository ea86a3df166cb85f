/* explore_progs.h - small programs with hand-counted interleavings, shared
 * by tests/check_explore.c and bench/bench_explore.c.
 *
 * Every program logs its own shared loads and stores (only one virtual
 * thread runs at a time, so the log order is the execution order), which
 * gives each execution a Mazurkiewicz class signature that does not depend
 * on the engine's numbering: per word, the order of its writes and, for
 * each read, the write it saw.
 */
#ifndef IOCPCHECK_EXPLORE_PROGS_H
#define IOCPCHECK_EXPLORE_PROGS_H

#include <string.h>

#include "sim/sim.h"

#define EP_WORDS 4
#define EP_LOG 256

typedef enum ep_kind {
    EP_INDEP2,  /* T1: x=1 | T2: y=1 */
    EP_SAME2,   /* T1: x=1; x=2 | T2: x=3; x=4 */
    EP_INDEP3,  /* T1: x=1 | T2: y=1 | T3: z=1 */
    EP_INDEP4,  /* T1..T4 each store their own word */
    EP_LOST2,   /* T1, T2: v=load c; c=v+1; main joins and checks c == 2 */
    EP_LOST3,   /* the same with three threads, checks c == 3 */
    EP_WINDOW,  /* T1: x=1; x=2 | T2: fails if it loads 1 */
    EP_KERNEL,   /* T1: u=choose(3); x=u | T2: y=1 */
    EP_MUTEX2,  /* T1, T2: lock; v=load c; c=v+1; unlock; main joins, checks c == 2 */
    EP_MUTEX3,  /* the same with three threads */
    EP_READERS3,/* T1: x=1 | T2: load x | T3: load x */
    EP_CHOICES, /* main alone: a=choose(3); b=choose(2); c=choose(3); fails if a == 2 and c == 1 */
    EP_WRACE,   /* T1: u=choose(2); u ? (x=1; x=2) : x=2 | T2: fails if it loads 1 */
} ep_kind;

typedef struct ep_prog ep_prog;
typedef struct ep_worker {
    ep_prog *p;
    uint32_t id;
} ep_worker;

struct ep_prog {
    ep_kind kind;
    const shim *sh;
    sim_ctx *sim;
    volatile uint32_t w[EP_WORDS];
    shim_mutex mu;
    ep_worker wk[4];
    uint32_t opc[5];
    uint32_t nlog;
    struct {
        uint8_t thr, op, obj, write;
    } log[EP_LOG];
    uint32_t user; /* EP_KERNEL: the value chosen, + 1 */
};

static inline void ep_note(ep_prog *p, uint32_t thr, uint32_t obj, uint32_t write) {
    if (p->nlog < EP_LOG) {
        p->log[p->nlog].thr = (uint8_t)thr;
        p->log[p->nlog].op = (uint8_t)p->opc[thr]++;
        p->log[p->nlog].obj = (uint8_t)obj;
        p->log[p->nlog].write = (uint8_t)write;
        p->nlog++;
    }
}
static inline void ep_store(ep_prog *p, uint32_t thr, uint32_t obj, uint32_t v) {
    p->sh->sync->atomic_store32(p->sh->sync->ctx, &p->w[obj], v);
    ep_note(p, thr, obj, 1);
}
static inline uint32_t ep_load(ep_prog *p, uint32_t thr, uint32_t obj) {
    uint32_t v = p->sh->sync->atomic_load32(p->sh->sync->ctx, &p->w[obj]);
    ep_note(p, thr, obj, 0);
    return v;
}

static void ep_worker_fn(void *arg) {
    ep_worker *wk = arg;
    ep_prog *p = wk->p;
    uint32_t me = wk->id;
    switch (p->kind) {
    case EP_INDEP2:
    case EP_INDEP3:
    case EP_INDEP4: ep_store(p, me, me - 1, 1); break;
    case EP_SAME2:
        ep_store(p, me, 0, me == 1 ? 1 : 3);
        ep_store(p, me, 0, me == 1 ? 2 : 4);
        break;
    case EP_LOST2:
    case EP_LOST3: {
        uint32_t v = ep_load(p, me, 0);
        ep_store(p, me, 0, v + 1);
        break;
    }
    case EP_WINDOW:
        if (me == 1) {
            ep_store(p, me, 0, 1);
            ep_store(p, me, 0, 2);
        } else if (ep_load(p, me, 0) == 1) {
            sim_fail(p->sim, "window", "T2 saw the intermediate value");
        }
        break;
    case EP_KERNEL:
        if (me == 1) {
            uint32_t u = sim_choose_user(p->sim, 3);
            p->user = u + 1;
            ep_store(p, me, 0, u);
        } else {
            ep_store(p, me, 1, 1);
        }
        break;
    case EP_MUTEX2:
    case EP_MUTEX3: {
        p->sh->sync->mutex_lock(p->sh->sync->ctx, &p->mu);
        uint32_t v = ep_load(p, me, 0);
        ep_store(p, me, 0, v + 1);
        p->sh->sync->mutex_unlock(p->sh->sync->ctx, &p->mu);
        break;
    }
    case EP_WRACE:
        if (me == 1) {
            uint32_t u = sim_choose_user(p->sim, 2);
            p->user = u + 1;
            if (u == 1) ep_store(p, me, 0, 1);
            ep_store(p, me, 0, 2);
        } else if (ep_load(p, me, 0) == 1) {
            sim_fail(p->sim, "window", "T2 saw the intermediate value");
        }
        break;
    case EP_CHOICES: break; /* no workers */
    case EP_READERS3:
        if (me == 1)
            ep_store(p, me, 0, 1);
        else
            (void)ep_load(p, me, 0);
        break;
    }
}

static inline uint32_t ep_threads(ep_kind k) {
    switch (k) {
    case EP_INDEP3:
    case EP_LOST3:
    case EP_MUTEX3:
    case EP_READERS3: return 3;
    case EP_INDEP4: return 4;
    case EP_CHOICES: return 0;
    default: return 2;
    }
}

/* main: spawn the workers; join and check only where a final check needs it
 * (without joins the counts stay clean: see check_explore.c). */
static void ep_main(sim_ctx *s, const shim *sh, void *arg) {
    ep_prog *p = arg;
    ep_kind k = p->kind;
    memset(p, 0, sizeof *p);
    p->kind = k;
    p->sh = sh;
    p->sim = s;
    bool join = k == EP_LOST2 || k == EP_LOST3 || k == EP_MUTEX2 || k == EP_MUTEX3;
    if (k == EP_MUTEX2 || k == EP_MUTEX3) sh->sync->mutex_init(sh->sync->ctx, &p->mu);
    if (k == EP_CHOICES) {
        /* Only kernel choices: each tuple (a, b, c) is one execution. */
        uint32_t a = sim_choose_user(s, 3), b = sim_choose_user(s, 2), c = sim_choose_user(s, 3);
        p->user = 1 + a * 6 + b * 3 + c;
        ep_store(p, 0, 0, p->user);
        if (a == 2 && c == 1) sim_fail(s, "choices", "a = 2 and c = 1");
        return;
    }
    uint32_t n = ep_threads(k);
    shim_thread t[4];
    for (uint32_t i = 0; i < n; i++) {
        p->wk[i].p = p;
        p->wk[i].id = i + 1;
        harness_spawn(sim_harness_of(sh), &t[i], ep_worker_fn, &p->wk[i], "w");
    }
    if (!join) return;
    for (uint32_t i = 0; i < n; i++) harness_join(sim_harness_of(sh), &t[i]);
    if (k == EP_MUTEX2 || k == EP_MUTEX3) sh->sync->mutex_destroy(sh->sync->ctx, &p->mu); /* not a scheduling point */
    uint32_t c = sh->sync->atomic_load32(sh->sync->ctx, &p->w[0]);
    if (c != n) sim_fail(s, "lost-update", "counter = %u, expected %u", c, n);
}

static inline uint64_t ep_mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h *= 0xFF51AFD7ED558CCDull;
    return h ^ (h >> 32);
}

/* The class: per word, its writes in order; each read with the write it saw
 * (order-independent among the reads). Plus the kernel choice. */
static inline uint64_t ep_class(const ep_prog *p) {
    uint64_t h = ep_mix(0, p->user), reads = 0;
    for (uint32_t o = 0; o < EP_WORDS; o++) {
        uint32_t writes = 0;
        for (uint32_t i = 0; i < p->nlog; i++) {
            if (p->log[i].obj != o) continue;
            uint64_t id = (uint64_t)o << 24 | (uint64_t)p->log[i].thr << 16 | (uint64_t)p->log[i].op << 8;
            if (p->log[i].write) {
                h = ep_mix(h, id | 1);
                writes++;
            } else {
                reads += ep_mix(id, writes);
            }
        }
    }
    return ep_mix(h, reads);
}

/* The final state: every word's value and the verdict's property. */
static inline uint64_t ep_state(const ep_prog *p, const sim_result *r) {
    uint64_t h = ep_mix(0, (uint64_t)r->verdict);
    for (uint32_t o = 0; o < EP_WORDS; o++) h = ep_mix(h, p->w[o]);
    return h;
}

#endif
