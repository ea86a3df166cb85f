/* check_explore.c - soundness of the explorer on programs whose numbers of
 * interleavings and of equivalence classes are counted by hand.
 *
 * How the engine cuts a thread into steps (this fixes the counts): a thread
 * is asked for at a scheduling point before each seam call, and a decision
 * is recorded only when two or more threads could run. A worker that does
 * one store has two steps: [start] (up to the scheduling point before the
 * store) and [store, end] (it returns without another scheduling point).
 * main, which spawns n workers and returns, has n steps: [start, spawn T1]
 * (alone, no decision), [spawn T2], ..., [spawn Tn, end]. An execution is a
 * word over these steps that respects: each thread's steps in order, a
 * worker's steps after the spawn that creates it. So:
 *
 *   INDEP2 (T1: x=1 | T2: y=1): after main's first step, the chain
 *     (spawn T2, T2 start, T2 store) and the chain (T1 start, T1 store)
 *     interleave freely: C(5,2) = 10 executions; 1 class (nothing conflicts).
 *   SAME2 (T1: x=1; x=2 | T2: x=3; x=4): chains of 4 and 3: C(7,3) = 35
 *     executions; classes = orders of the 4 stores keeping each thread's
 *     order: C(4,2) = 6; final states: x = 2 or x = 4.
 *   INDEP3 (three workers, three words): main (spawn T2, spawn T3) with
 *     T2 and T3 chains hanging off it: 1 x C(5,2) = 10 orders; T1's 2-step
 *     chain placed anywhere among the 8 steps: C(8,2) = 28; 10 x 28 = 280
 *     executions, 1 class.
 *   With K = 0 (no preemption) a running thread goes on until it ends, and
 *     only the choice of who runs next at an end is free: INDEP2 and SAME2
 *     have 2 executions (T1 or T2 first after main ends), INDEP3 has 3! = 6.
 *   WINDOW (T1: x=1; x=2 | T2: fails if it loads 1): the failure needs T2's
 *     load between T1's stores, that is, a preemption of T1: none at K = 0,
 *     found at K = 1. Classes: the load before, between or after = 3.
 *   KERNEL (T1: u = choose(3); x = u | T2: y = 1): 3 values of u, each with
 *     1 class: 3 classes, whatever the reduction.
 *   MUTEX2 (lock; c = c + 1; unlock in two threads): 2 classes (who enters
 *     first); never fails. LOST2: 'lost-update' exists (both load 0).
 *
 * Kernel bound D (a kernel choice past its first alternative is a deviation):
 *   CHOICES (main alone: a in 0..2, b in 0..1, c in 0..2; fails if a = 2
 *     and c = 1): one execution per tuple with at most D non-zero values.
 *     Non-zero alternatives: a 2, b 1, c 2. D = 0: 1. D = 1: 1 + 2 + 1 + 2
 *     = 6. D = 2: 6 + (a,b) 2x1 + (a,c) 2x2 + (b,c) 1x2 = 14. D = 3: 6 + 8
 *     + 2x1x2 = 18 = 3 x 2 x 3, as with no bound. Failing tuples: (2,0,1)
 *     from D = 2, (2,1,1) from D = 3.
 *   WRACE (T1: u = choose(2); u ? x=1; x=2 : x=2 | T2: fails if it loads 1):
 *     the failure needs u = 1 (one deviation) and T2 between the stores (one
 *     preemption): found in round (K, D) = (1, 1), the fifth round of the
 *     diagonals (0,0) (0,1) (1,0) (0,2) (1,1).
 *
 * Tests that predate the kernel bound run with D = inf (kernel_bound = -1):
 * their counts are the exhaustive behaviour, unchanged.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "search/explore.h"
#include "search/strategies.h"
#include "tests/explore_progs.h"

static sim_ctx *sim;

static void setup(void) {
    sim_config cfg;
    sim_config_default(&cfg);
    cfg.record_trace = false;
    cfg.stack_size = 64 * 1024;
    sim = sim_create(&cfg);
    ck_assert_ptr_nonnull(sim);
}

static void teardown(void) { sim_destroy(sim); }

/* ---- A small set of 64-bit values ---- */

#define SET_MAX 8192
typedef struct vset {
    uint64_t v[SET_MAX];
    uint32_t n;
} vset;

static bool vset_add(vset *s, uint64_t v) {
    for (uint32_t i = 0; i < s->n; i++)
        if (s->v[i] == v) return false;
    ck_assert_uint_lt(s->n, SET_MAX);
    s->v[s->n++] = v;
    return true;
}
static bool vset_has(const vset *s, uint64_t v) {
    for (uint32_t i = 0; i < s->n; i++)
        if (s->v[i] == v) return true;
    return false;
}
static bool vset_subset(const vset *a, const vset *b) {
    for (uint32_t i = 0; i < a->n; i++)
        if (!vset_has(b, a->v[i])) return false;
    return true;
}

/* ---- Running one exploration and collecting what it saw ---- */

typedef struct seen {
    ep_prog prog;
    vset classes, states, schedules, users;
    uint64_t violations;
    bool res_rounds_repeat; /* several rounds: executions may repeat */
    explore_result res;
} seen;

static uint64_t schedule_hash(const sim_result *r) {
    uint64_t h = 1;
    for (uint32_t i = 0; i < r->ndecisions; i++)
        h = ep_mix(h, (uint64_t)r->decisions[i].kind << 32 | r->decisions[i].label);
    return h;
}

static void on_exec(void *user, sim_ctx *s, const sim_result *r) {
    (void)s;
    seen *sn = user;
    vset_add(&sn->classes, ep_class(&sn->prog));
    vset_add(&sn->states, ep_state(&sn->prog, r));
    /* Within one round, never; rounds of deepening repeat the smaller ones. */
    ck_assert_msg(vset_add(&sn->schedules, schedule_hash(r)) || sn->res_rounds_repeat, "an execution was visited twice");
    if (sn->prog.user) vset_add(&sn->users, sn->prog.user);
    if (r->verdict != SIM_PASS) sn->violations++;
}

static uint64_t state_of(void *user, sim_ctx *s, const sim_result *r) {
    (void)s;
    return ep_state(&((seen *)user)->prog, r);
}

static seen *explore(ep_kind k, explore_por por, int32_t bound, const explore_options *base) {
    seen *sn = calloc(1, sizeof *sn);
    ck_assert_ptr_nonnull(sn);
    sn->prog.kind = k;
    explore_options o;
    if (base != NULL) {
        o = *base;
    } else {
        explore_options_default(&o);
        o.kernel_bound = -1; /* every kernel alternative: the exhaustive behaviour */
    }
    o.por = por;
    o.preemption_bound = bound;
    o.stop_on_violation = false;
    o.on_execution = on_exec;
    o.exec_user = sn;
    o.state_hash = state_of;
    o.state_user = sn;
    sn->res_rounds_repeat = o.iterative;
    ck_assert(explore_run(sim, ep_main, &sn->prog, &o, &sn->res));
    return sn;
}

/* Every run after a round's first follows one alternative taken past a
 * node's first: the per-kind branch counts add up to the runs. */
static void check_branches(const seen *sn) {
    uint64_t b = 0;
    for (uint32_t k = 0; k < SIM_CHOICE__COUNT; k++) b += sn->res.stats.branches[k];
    ck_assert_msg(b + sn->res.stats.rounds == sn->res.stats.executions + sn->res.stats.partial,
                  "branches %llu + rounds %u != runs %llu", (unsigned long long)b, sn->res.stats.rounds,
                  (unsigned long long)(sn->res.stats.executions + sn->res.stats.partial));
}

static void done(seen *sn) {
    explore_result_free(&sn->res);
    free(sn);
}

/* ---- Naive DFS: exactly the hand counts ---- */

START_TEST(test_naive_counts) {
    static const struct {
        ep_kind k;
        int32_t bound;
        uint64_t execs, classes;
    } want[] = {
        {EP_INDEP2, -1, 10, 1}, {EP_SAME2, -1, 35, 6}, {EP_INDEP3, -1, 280, 1},
        {EP_INDEP2, 0, 2, 1},   {EP_SAME2, 0, 2, 2},   {EP_INDEP3, 0, 6, 1},
        {EP_WINDOW, -1, 0, 3},  {EP_KERNEL, -1, 0, 3},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        seen *sn = explore(want[i].k, EXPLORE_POR_NONE, want[i].bound, NULL);
        if (want[i].execs != 0)
            ck_assert_msg(sn->res.stats.executions == want[i].execs, "program %d K=%d: %llu executions, want %llu",
                          want[i].k, want[i].bound, (unsigned long long)sn->res.stats.executions,
                          (unsigned long long)want[i].execs);
        ck_assert_msg(sn->classes.n == want[i].classes, "program %d K=%d: %u classes, want %llu", want[i].k,
                      want[i].bound, sn->classes.n, (unsigned long long)want[i].classes);
        ck_assert(sn->res.stats.complete);
        ck_assert_ptr_null(sn->res.stats.stopped_by);
        done(sn);
    }
}
END_TEST

/* ---- Reduction: every class and every violation naive DFS finds ---- */

static const ep_kind all_progs[] = {EP_INDEP2, EP_SAME2, EP_INDEP3,   EP_LOST2,   EP_LOST3, EP_WINDOW,
                                    EP_KERNEL,  EP_MUTEX2, EP_MUTEX3, EP_READERS3, EP_CHOICES, EP_WRACE};

START_TEST(test_reduction_sound) {
    static const int32_t bounds[] = {0, 1, 2, 3, -1};
    for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++) {
        for (size_t i = 0; i < sizeof all_progs / sizeof all_progs[0]; i++) {
            ep_kind k = all_progs[i];
            /* Three threads with joins: over 8192 runs past K = 2 (the sets below are small). */
            if ((bounds[b] < 0 || bounds[b] > 2) && (k == EP_LOST3 || k == EP_MUTEX3)) continue;
            seen *naive = explore(k, EXPLORE_POR_NONE, bounds[b], NULL);
            for (explore_por por = EXPLORE_POR_SLEEP; por <= EXPLORE_POR_DPOR; por++) {
                seen *red = explore(k, por, bounds[b], NULL);
                ck_assert_msg(vset_subset(&naive->classes, &red->classes),
                              "%s misses a class of program %d at K=%d (%u of %u)", explore_por_name(por), k,
                              bounds[b], red->classes.n, naive->classes.n);
                ck_assert_msg(vset_subset(&naive->states, &red->states), "%s misses a final state", explore_por_name(por));
                ck_assert_msg((naive->violations > 0) == (red->violations > 0),
                              "%s: violation found by naive DFS but not by reduction (program %d, K=%d)",
                              explore_por_name(por), k, bounds[b]);
                ck_assert_uint_le(red->res.stats.executions, naive->res.stats.executions);
                ck_assert(red->res.stats.complete);
                done(red);
            }
            done(naive);
        }
    }
}
END_TEST

/* DPOR on independent threads: one execution per class, not 280. */
START_TEST(test_dpor_independent) {
    seen *sn = explore(EP_INDEP3, EXPLORE_POR_DPOR, -1, NULL);
    ck_assert_uint_eq(sn->classes.n, 1);
    ck_assert_uint_le(sn->res.stats.executions, 2);
    done(sn);
    sn = explore(EP_SAME2, EXPLORE_POR_DPOR, -1, NULL);
    ck_assert_uint_eq(sn->classes.n, 6);
    ck_assert_uint_lt(sn->res.stats.executions, 35);
    done(sn);
}
END_TEST

/* Kernel choices are never pruned: all three values in every mode. */
START_TEST(test_kernel_choices_explored) {
    for (explore_por por = EXPLORE_POR_NONE; por <= EXPLORE_POR_DPOR; por++) {
        for (int32_t k = 0; k <= 1; k++) {
            seen *sn = explore(EP_KERNEL, por, k, NULL);
            ck_assert_uint_eq(sn->users.n, 3);
            ck_assert_uint_eq(sn->classes.n, 3);
            done(sn);
        }
    }
}
END_TEST

/* ---- Bounds, iterative deepening, limits ---- */

START_TEST(test_bound_and_deepening) {
    for (explore_por por = EXPLORE_POR_NONE; por <= EXPLORE_POR_DPOR; por++) {
        seen *sn = explore(EP_WINDOW, por, 0, NULL);
        ck_assert_uint_eq(sn->violations, 0); /* needs one preemption */
        ck_assert_uint_gt(sn->res.stats.pruned_bound, 0);
        done(sn);

        explore_options o;
        explore_options_default(&o);
        o.por = por;
        o.preemption_bound = 3;
        o.iterative = true;
        ep_prog p = {.kind = EP_WINDOW};
        explore_result r;
        ck_assert(explore_run(sim, ep_main, &p, &o, &r));
        ck_assert(r.violation.found);
        ck_assert_str_eq(r.violation.property, "window");
        ck_assert_int_eq(r.violation.bound, 1);
        ck_assert_uint_eq(r.violation.preemptions, 1);
        ck_assert_str_eq(r.stats.stopped_by, "violation");
        ck_assert(!r.stats.complete);
        /* The schedule replays to the same failure. */
        sim_replay rp;
        sim_chooser ch = sim_replay_chooser(&rp, r.violation.decisions, NULL, r.violation.ndecisions, NULL);
        const sim_result *res = sim_run(sim, &ch, ep_main, &p);
        ck_assert_int_eq(res->verdict, SIM_FAIL);
        ck_assert_str_eq(res->property, "window");
        explore_result_free(&r);
    }
}
END_TEST

START_TEST(test_lost_update_every_mode) {
    for (explore_por por = EXPLORE_POR_NONE; por <= EXPLORE_POR_DPOR; por++) {
        explore_options o;
        explore_options_default(&o);
        o.por = por;
        o.preemption_bound = 2;
        o.iterative = true;
        ep_prog p = {.kind = EP_LOST2};
        explore_result r;
        ck_assert(explore_run(sim, ep_main, &p, &o, &r));
        ck_assert(r.violation.found);
        ck_assert_str_eq(r.violation.property, "lost-update");
        ck_assert_int_eq(r.violation.bound, 1);
        explore_result_free(&r);
    }
}
END_TEST

START_TEST(test_limits_and_completeness) {
    explore_options o;
    explore_options_default(&o);
    o.max_executions = 5;
    seen *sn = explore(EP_INDEP3, EXPLORE_POR_NONE, -1, &o);
    ck_assert_uint_eq(sn->res.stats.executions, 5);
    ck_assert(!sn->res.stats.complete);
    ck_assert_str_eq(sn->res.stats.stopped_by, "max-executions");
    done(sn);
    explore_options_default(&o);
    o.max_depth = 3;
    sn = explore(EP_INDEP3, EXPLORE_POR_NONE, -1, &o);
    ck_assert(!sn->res.stats.complete);
    ck_assert_str_eq(sn->res.stats.stopped_by, "max-depth");
    done(sn);
    sn = explore(EP_MUTEX2, EXPLORE_POR_DPOR, 2, NULL);
    ck_assert(sn->res.stats.complete);
    ck_assert_uint_eq(sn->violations, 0);
    ck_assert_uint_eq(sn->res.stats.distinct_states, 1);
    done(sn);
}
END_TEST

START_TEST(test_deterministic) {
    for (explore_por por = EXPLORE_POR_NONE; por <= EXPLORE_POR_DPOR; por++) {
        seen *a = explore(EP_MUTEX3, por, 1, NULL);
        seen *b = explore(EP_MUTEX3, por, 1, NULL);
        ck_assert_uint_eq(a->res.stats.executions, b->res.stats.executions);
        ck_assert_uint_eq(a->res.stats.partial, b->res.stats.partial);
        ck_assert_uint_eq(a->res.stats.pruned_por, b->res.stats.pruned_por);
        ck_assert_uint_eq(a->schedules.n, b->schedules.n);
        for (uint32_t i = 0; i < a->schedules.n; i++) ck_assert_uint_eq(a->schedules.v[i], b->schedules.v[i]);
        done(a);
        done(b);
    }
}
END_TEST

/* ---- The kernel bound ---- */

static seen *explore_kd(ep_kind k, explore_por por, int32_t bound, int32_t kd) {
    explore_options o;
    explore_options_default(&o);
    o.kernel_bound = kd;
    return explore(k, por, bound, &o);
}

START_TEST(test_kernel_bound_default) {
    explore_options o;
    explore_options_default(&o);
    ck_assert_int_eq(o.kernel_bound, 2);
}
END_TEST

/* CHOICES at each D: the hand counts, in every mode (no thread choices). */
START_TEST(test_kernel_bound_counts) {
    static const struct {
        int32_t d;
        uint64_t execs, violations;
    } want[] = {{0, 1, 0}, {1, 6, 0}, {2, 14, 1}, {3, 18, 2}, {64, 18, 2}, {-1, 18, 2}};
    for (explore_por por = EXPLORE_POR_NONE; por <= EXPLORE_POR_DPOR; por++) {
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            seen *sn = explore_kd(EP_CHOICES, por, 0, want[i].d);
            ck_assert_msg(sn->res.stats.executions == want[i].execs, "%s D=%d: %llu executions, want %llu",
                          explore_por_name(por), want[i].d, (unsigned long long)sn->res.stats.executions,
                          (unsigned long long)want[i].execs);
            ck_assert_uint_eq(sn->classes.n, want[i].execs);
            ck_assert_uint_eq(sn->violations, want[i].violations);
            ck_assert(sn->res.stats.complete);
            /* Cut alternatives are counted until the bound stops cutting. */
            ck_assert((sn->res.stats.pruned_kernel > 0) == (want[i].d >= 0 && want[i].d < 3));
            ck_assert_int_eq(sn->res.stats.kernel_bound, want[i].d);
            done(sn);
        }
    }
}
END_TEST

/* At every (K, D) of the grid, for every program, sleep sets and DPOR see
 * every class, final state and violation that naive DFS sees at the same
 * (K, D), in no more executions; naive DFS at D sees a subset of D + 1; D =
 * inf is D = 64 exactly. (Three threads with joins stop at K = 2: past it
 * naive DFS runs more executions than the sets hold.) */
START_TEST(test_kernel_bound_sound) {
    const ep_kind *progs = all_progs;
    static const int32_t ks[] = {0, 1, 2, -1};
    static const int32_t ds[] = {0, 1, 2, -1};
    for (size_t pi = 0; pi < sizeof all_progs / sizeof all_progs[0]; pi++) {
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
            if (ks[ki] < 0 && (progs[pi] == EP_LOST3 || progs[pi] == EP_MUTEX3)) continue;
            seen *prev = NULL;
            for (size_t di = 0; di < sizeof ds / sizeof ds[0]; di++) {
                seen *naive = explore_kd(progs[pi], EXPLORE_POR_NONE, ks[ki], ds[di]);
                ck_assert(naive->res.stats.complete);
                check_branches(naive);
                if (prev != NULL) {
                    ck_assert(vset_subset(&prev->schedules, &naive->schedules));
                    done(prev);
                }
                for (explore_por por = EXPLORE_POR_SLEEP; por <= EXPLORE_POR_DPOR; por++) {
                    seen *red = explore_kd(progs[pi], por, ks[ki], ds[di]);
                    ck_assert_msg(vset_subset(&naive->classes, &red->classes),
                                  "%s misses a class of program %d at (K, D) = (%d, %d)", explore_por_name(por),
                                  progs[pi], ks[ki], ds[di]);
                    ck_assert(vset_subset(&naive->states, &red->states));
                    ck_assert_msg((naive->violations > 0) == (red->violations > 0),
                                  "%s: a violation naive DFS finds is missed (program %d, (K, D) = (%d, %d))",
                                  explore_por_name(por), progs[pi], ks[ki], ds[di]);
                    ck_assert_uint_le(red->res.stats.executions, naive->res.stats.executions);
                    ck_assert(red->res.stats.complete);
                    check_branches(red);
                    /* The explorer's own class count (explore_class.c, over the
                     * access log) is the hand count, but where a lock may block
                     * first: a blocked lock attempt is an access of its own. */
                    if (progs[pi] != EP_MUTEX2 && progs[pi] != EP_MUTEX3) {
                        ck_assert_uint_eq(red->res.stats.classes, red->classes.n);
                        ck_assert_uint_eq(naive->res.stats.classes, naive->classes.n);
                    }
                    done(red);
                }
                prev = naive;
            }
            seen *wide = explore_kd(progs[pi], EXPLORE_POR_NONE, ks[ki], 64);
            ck_assert_uint_eq(wide->res.stats.executions, prev->res.stats.executions);
            ck_assert(vset_subset(&wide->schedules, &prev->schedules) && vset_subset(&prev->schedules, &wide->schedules));
            done(wide);
            done(prev);
        }
    }
}
END_TEST

/* The last round first: a passing program runs one round, the same
 * classes and states as the rounds from (0, 0) and no more executions than
 * they do; a failing one reports the same smallest round as deepening. */
START_TEST(test_last_round_first) {
    for (explore_por por = EXPLORE_POR_NONE; por <= EXPLORE_POR_DPOR; por++) {
        for (size_t pi = 0; pi < sizeof all_progs / sizeof all_progs[0]; pi++) {
            explore_options o;
            explore_options_default(&o);
            o.preemption_bound = 2;
            o.kernel_bound = 2;
            o.iterative = true;
            seen *deep = explore(all_progs[pi], por, 2, &o);
            o.last_round_first = true;
            seen *last = explore(all_progs[pi], por, 2, &o);
            ck_assert(deep->res.violation.found == last->res.violation.found);
            check_branches(last);
            if (!deep->res.violation.found) {
                ck_assert(last->res.stats.complete && deep->res.stats.complete);
                ck_assert_uint_eq(last->res.stats.rounds, 1);
                ck_assert(vset_subset(&deep->classes, &last->classes) && vset_subset(&last->classes, &deep->classes));
                ck_assert(vset_subset(&deep->states, &last->states) && vset_subset(&last->states, &deep->states));
                ck_assert_uint_le(last->res.stats.executions, deep->res.stats.executions);
            } else {
                ck_assert_int_eq(last->res.violation.bound, deep->res.violation.bound);
                ck_assert_int_eq(last->res.violation.kernel_bound, deep->res.violation.kernel_bound);
                ck_assert_str_eq(last->res.violation.property, deep->res.violation.property);
                ck_assert_uint_eq(last->res.stats.rounds, deep->res.stats.rounds + 1);
            }
            done(deep);
            done(last);
        }
    }
}
END_TEST

/* Iterative deepening on (K, D): the diagonals in order, the first round
 * with a violation, its schedule's preemptions and deviations. */
START_TEST(test_kernel_bound_deepening) {
    for (explore_por por = EXPLORE_POR_NONE; por <= EXPLORE_POR_DPOR; por++) {
        explore_options o;
        explore_options_default(&o);
        o.por = por;
        o.preemption_bound = 3;
        o.kernel_bound = 3;
        o.iterative = true;
        ep_prog p = {.kind = EP_WRACE};
        explore_result r;
        ck_assert(explore_run(sim, ep_main, &p, &o, &r));
        ck_assert(r.violation.found);
        ck_assert_str_eq(r.violation.property, "window");
        ck_assert_int_eq(r.violation.bound, 1);
        ck_assert_int_eq(r.violation.kernel_bound, 1);
        ck_assert_uint_eq(r.violation.preemptions, 1);
        ck_assert_uint_eq(r.violation.deviations, 1);
        ck_assert_uint_eq(r.stats.rounds, 5);
        explore_result_free(&r);

        /* D = inf: rounds on K alone, as before the kernel bound. */
        o.kernel_bound = -1;
        ck_assert(explore_run(sim, ep_main, &p, &o, &r));
        ck_assert(r.violation.found);
        ck_assert_int_eq(r.violation.bound, 1);
        ck_assert_int_eq(r.violation.kernel_bound, -1);
        ck_assert_uint_eq(r.stats.rounds, 2);
        explore_result_free(&r);

        /* No thread choices: (0,0) (0,1) (1,0) (0,2) finds it, two deviations. */
        p.kind = EP_CHOICES;
        o.kernel_bound = 3;
        ck_assert(explore_run(sim, ep_main, &p, &o, &r));
        ck_assert(r.violation.found);
        ck_assert_int_eq(r.violation.kernel_bound, 2);
        ck_assert_int_eq(r.violation.bound, 0);
        ck_assert_uint_eq(r.violation.deviations, 2);
        ck_assert_uint_eq(r.stats.rounds, 4);
        explore_result_free(&r);

        /* A passing program covers the whole grid: the last round is (K, D). */
        p.kind = EP_MUTEX2;
        o.preemption_bound = 2;
        o.kernel_bound = 1;
        ck_assert(explore_run(sim, ep_main, &p, &o, &r));
        ck_assert(!r.violation.found);
        ck_assert(r.stats.complete);
        ck_assert_int_eq(r.stats.bound, 2);
        ck_assert_int_eq(r.stats.kernel_bound, 1);
        ck_assert_uint_eq(r.stats.rounds, 6); /* (0,0) (0,1) (1,0) (1,1) (2,0) (2,1) */
        explore_result_free(&r);
    }
}
END_TEST

/* ---- Sharding: the shards partition the executions of the unsharded run
 * with the same shard_depth (whose first levels are expanded fully) ---- */

/* The byte-driven chooser (search/bytes.c): the empty input and the all-zero
 * input are the non-preemptive execution; a kernel choice takes byte mod n;
 * a thread choice counts from the running thread; past the end, go on. */
START_TEST(test_bytes_chooser) {
    ep_prog p = {.kind = EP_LOST2};
    sim_chooser first = sim_first_chooser();
    const sim_result *r = sim_run(sim, &first, ep_main, &p);
    uint32_t n0 = r->ndecisions;
    sim_decision *want = malloc((n0 + 1) * sizeof *want);
    memcpy(want, r->decisions, n0 * sizeof *want);
    static const uint8_t zeros[64];
    for (size_t len = 0; len <= sizeof zeros; len += 32) {
        sim_bytes b;
        p.kind = EP_LOST2;
        sim_chooser ch = sim_bytes_chooser(&b, zeros, len);
        r = sim_run(sim, &ch, ep_main, &p);
        ck_assert_uint_eq(r->ndecisions, n0);
        for (uint32_t i = 0; i < n0; i++) ck_assert_uint_eq(r->decisions[i].label, want[i].label);
        ck_assert_uint_eq(r->preemptions, 0);
    }
    free(want);
    /* A non-zero byte at a thread choice where the running thread may go on preempts it. */
    static const uint8_t one[1] = {1};
    sim_bytes b;
    p.kind = EP_LOST2;
    sim_chooser ch = sim_bytes_chooser(&b, one, 1);
    r = sim_run(sim, &ch, ep_main, &p);
    ck_assert(r->ndecisions > 0);
    ck_assert(r->decisions[0].preempt == 1 || r->decisions[0].index == 1);
    /* CHOICES: bytes (a, b, c), mod 3, 2, 3: fails exactly for a = 2 and c = 1. */
    uint32_t fails = 0;
    for (uint8_t a = 0; a < 6; a++)
        for (uint8_t bb = 0; bb < 2; bb++)
            for (uint8_t c = 0; c < 3; c++) {
                uint8_t in[3] = {a, bb, c};
                p.kind = EP_CHOICES;
                ch = sim_bytes_chooser(&b, in, 3);
                r = sim_run(sim, &ch, ep_main, &p);
                ck_assert_uint_eq(r->ndecisions, 3);
                ck_assert_uint_eq(r->decisions[0].label, a % 3);
                ck_assert_uint_eq(r->verdict == SIM_FAIL, a % 3 == 2 && c == 1);
                fails += r->verdict == SIM_FAIL;
            }
    ck_assert_uint_eq(fails, 4); /* a in {2, 5}, b in {0, 1}, c = 1 */
}
END_TEST

START_TEST(test_shards_union) {
    static const ep_kind progs[] = {EP_SAME2, EP_INDEP3, EP_MUTEX2, EP_KERNEL};
    for (size_t pi = 0; pi < sizeof progs / sizeof progs[0]; pi++) {
        for (explore_por por = EXPLORE_POR_NONE; por <= EXPLORE_POR_DPOR; por++) {
            explore_options wo;
            explore_options_default(&wo);
            wo.shard_depth = 3;
            seen *whole = explore(progs[pi], por, 2, &wo);
            seen *plain = explore(progs[pi], EXPLORE_POR_NONE, 2, NULL);
            vset *u = calloc(1, sizeof *u), *uc = calloc(1, sizeof *uc);
            uint64_t total = 0;
            const uint32_t shards = 3;
            for (uint32_t k = 0; k < shards; k++) {
                explore_options o;
                explore_options_default(&o);
                o.shard_index = k;
                o.shard_count = shards;
                o.shard_depth = 3;
                seen *part = explore(progs[pi], por, 2, &o);
                ck_assert(part->res.stats.complete);
                total += part->res.stats.executions;
                for (uint32_t i = 0; i < part->schedules.n; i++)
                    ck_assert_msg(vset_add(u, part->schedules.v[i]), "an execution is in two shards");
                for (uint32_t i = 0; i < part->classes.n; i++) vset_add(uc, part->classes.v[i]);
                done(part);
            }
            /* The same tree, cut in three; and still every class. */
            ck_assert_uint_eq(total, whole->res.stats.executions);
            ck_assert(vset_subset(&whole->schedules, u) && vset_subset(u, &whole->schedules));
            ck_assert(vset_subset(&plain->classes, uc));
            free(u);
            free(uc);
            done(whole);
            done(plain);
        }
    }
}
END_TEST

static Suite *explore_suite(void) {
    Suite *s = suite_create("explore");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_naive_counts);
    tcase_add_test(tc, test_last_round_first);
    tcase_add_test(tc, test_reduction_sound);
    tcase_add_test(tc, test_dpor_independent);
    tcase_add_test(tc, test_kernel_choices_explored);
    tcase_add_test(tc, test_bound_and_deepening);
    tcase_add_test(tc, test_lost_update_every_mode);
    tcase_add_test(tc, test_limits_and_completeness);
    tcase_add_test(tc, test_deterministic);
    tcase_add_test(tc, test_shards_union);
    tcase_add_test(tc, test_bytes_chooser);
    tcase_add_test(tc, test_kernel_bound_default);
    tcase_add_test(tc, test_kernel_bound_counts);
    tcase_add_test(tc, test_kernel_bound_sound);
    tcase_add_test(tc, test_kernel_bound_deepening);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(explore_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
