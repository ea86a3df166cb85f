/* check_invariants.c - the simulator's and the explorer's own invariants,
 * and the limits reported by name.
 *
 * Each test breaks the engine's state on purpose (through sim_internal.h or
 * the kernel's header, which only tests may reach into) or corrupts a
 * structure the public API hands out, and asserts that the execution ends
 * with the verdict `internal`, naming the invariant and its file:line, with
 * the schedule that got there: never a bare abort, never a silent pass.
 * The limit tests hit KERN_MAX_ACTIONS and see it reported by name.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "search/explore.h"
#include "sim/kernel/kernel.h"
#include "tests/explore_progs.h"

static sim_ctx *sim;

static void setup(void) {
    sim = sim_create(NULL);
    ck_assert_ptr_nonnull(sim);
}

static void teardown(void) { sim_destroy(sim); }

static const sim_result *run_seed(sim_main_fn fn, void *arg, uint64_t seed) {
    sim_random rnd;
    sim_chooser ch = sim_random_chooser(&rnd, seed);
    return sim_run(sim, &ch, fn, arg);
}

/* The report of an internal verdict: the invariant, where, the schedule. */
static void assert_internal(const sim_result *r, const char *what, const char *where) {
    ck_assert_int_eq(r->verdict, SIM_INTERNAL);
    ck_assert_str_eq(r->property, "internal");
    ck_assert_str_eq(sim_verdict_name(r->verdict), "internal");
    ck_assert_msg(strstr(r->message, what) != NULL, "no invariant '%s' in: %s", what, r->message);
    ck_assert_msg(strstr(r->message, where) != NULL, "no '%s' in: %s", where, r->message);
    ck_assert_msg(strstr(r->message, "schedule: ") != NULL, "no schedule in: %s", r->message);
    /* A path from the source tree's root, whatever the checkout. */
    ck_assert_msg(strstr(r->message, "/work/") == NULL && strstr(r->message, "failed at /") == NULL,
                  "absolute path in: %s", r->message);
}

/* ---- The engine ---- */

static void prog_nothing(sim_ctx *s, const shim *sh, void *arg) {
    (void)s, (void)sh, (void)arg;
}

static void worker_yield(void *arg) {
    const shim *sh = arg;
    harness_sleep(sim_harness_of(sh), 0);
}

/* Main spawns a worker, then puts a thread that does not exist into the
 * runnable set: the next scheduling point must refuse to pick from it. */
static void prog_bad_runnable(sim_ctx *s, const shim *sh, void *arg) {
    (void)arg;
    const shim_harness *hs = sim_harness_of(sh);
    shim_thread t;
    harness_spawn(hs, &t, worker_yield, (void *)sh, "w");
    s->runnable |= 1ull << 9;
    harness_sleep(hs, 0);
    harness_join(hs, &t);
}

START_TEST(test_engine_runnable_corrupted) {
    const sim_result *r = run_seed(prog_bad_runnable, NULL, 1);
    assert_internal(r, "the runnable set holds only existing threads", "sim/sched.c:");
    /* The schedule is the recorded stream: it replays to the same verdict. */
    char sched[256];
    sim_schedule_format(r->decisions, r->ndecisions, sched, sizeof sched);
    ck_assert_msg(strstr(r->message, sched) != NULL, "schedule '%s' not in: %s", sched, r->message);
    uint32_t n = r->ndecisions;
    sim_decision *copy = malloc((n ? n : 1) * sizeof *copy); /* the result's stream is reused by the next run */
    if (n > 0) memcpy(copy, r->decisions, n * sizeof *copy);
    sim_replay rp;
    sim_chooser ch = sim_replay_chooser(&rp, copy, NULL, n, NULL);
    r = sim_run(sim, &ch, prog_bad_runnable, NULL);
    ck_assert_int_eq(r->verdict, SIM_INTERNAL);
    ck_assert_uint_eq(r->ndecisions, n);
    free(copy);
    /* The simulator stays usable: the next execution is a clean one. */
    r = run_seed(prog_nothing, NULL, 2);
    ck_assert_int_eq(r->verdict, SIM_PASS);
}
END_TEST

static void sleeper(void *arg) {
    void **a = arg;
    const shim *sh = a[0];
    harness_sleep(sim_harness_of(sh), (int64_t)(uintptr_t)a[1]);
}

/* Two sleepers (30 ms, then 10 ms) are in the timer heap; main swaps the
 * heap's first two entries, so the root is no longer the earliest. */
static void prog_bad_heap(sim_ctx *s, const shim *sh, void *arg) {
    (void)arg;
    static void *a1[2], *a2[2];
    a1[0] = (void *)sh, a1[1] = (void *)(uintptr_t)30000000;
    a2[0] = (void *)sh, a2[1] = (void *)(uintptr_t)10000000;
    const shim_harness *hs = sim_harness_of(sh);
    shim_thread t1, t2;
    harness_spawn(hs, &t1, sleeper, a1, "slow");
    harness_spawn(hs, &t2, sleeper, a2, "fast");
    harness_sleep(hs, 5000000); /* both go to sleep; main's timer fires first */
    ck_assert_uint_eq(s->ntimers, 2);
    sim_timer tmp = s->timers[0];
    s->timers[0] = s->timers[1];
    s->timers[1] = tmp;
    harness_join(hs, &t1);
    harness_join(hs, &t2);
}

START_TEST(test_engine_timer_heap_corrupted) {
    sim_chooser ch = sim_first_chooser();
    const sim_result *r = sim_run(sim, &ch, prog_bad_heap, NULL);
    assert_internal(r, "due timers fire at one instant, in order", "sim/clock.c:");
}
END_TEST

/* A pending WSARecv; main zeroes its socket's count of pending operations,
 * then the peer sends: the completion finds the count inconsistent. */
static void prog_bad_pending(sim_ctx *s, const shim *sh, void *arg) {
    (void)arg;
    const shim_harness *hs = sim_harness_of(sh);
    shim_handle h[2];
    ck_assert(harness_socket_pair(hs, h));
    static shim_overlapped ov;
    static char buf[8];
    shim_wsabuf wb = {sizeof buf, buf};
    uint32_t flags = 0;
    ck_assert_int_eq(sh->wsa_recv(sh->ctx, h[0], &wb, 1, NULL, &flags, &ov), SHIM_SOCKET_ERROR);
    kern_state *w = kern(s);
    uint32_t sid = w->ops[0].sock;
    w->socks[sid].pending = 0;
    harness_send(hs, h[1], "x", 1);
    harness_sleep(hs, 1000000); /* the kernel completes the receive meanwhile */
    sh->closesocket(sh->ctx, h[0]);
    sh->closesocket(sh->ctx, h[1]);
}

START_TEST(test_kernel_pending_count_corrupted) {
    sim_chooser ch = sim_first_chooser();
    const sim_result *r = sim_run(sim, &ch, prog_bad_pending, NULL);
    assert_internal(r, "a pending one was counted on its socket", "sim/kernel/sock.c:");
    ck_assert_msg(strstr(r->message, "T0 'main'") != NULL, "%s", r->message); /* the kernel acted on main's stack */
}
END_TEST

/* A chooser whose own invariant fails at the first choice: with the
 * wait-packet capability a choice, that is the kernel's reset, on the main
 * stack before any thread runs. */
static uint32_t broken_choose(void *self, sim_ctx *s, const sim_choice_point *pt) {
    (void)self;
    (void)pt;
    sim_report_internal(s, "the test chooser's invariant", "false", "search/test.c", 42);
}

START_TEST(test_chooser_internal_on_main_stack) {
    sim_config cfg;
    sim_config_default(&cfg);
    cfg.wait_packets = SIM_WAITPKT_CHOOSE;
    sim_ctx *s2 = sim_create(&cfg);
    ck_assert_ptr_nonnull(s2);
    sim_chooser ch = {NULL, "broken", NULL, broken_choose, NULL};
    const sim_result *r = sim_run(s2, &ch, prog_nothing, NULL);
    assert_internal(r, "the test chooser's invariant", "search/test.c:42");
    ck_assert_msg(strstr(r->message, "(main stack)") != NULL, "%s", r->message);
    /* A replay diverging at that same first choice ends as nondeterminism
     * (it used to leave the main stack through a fiber that never ran). */
    sim_decision d = {.kind = SIM_CHOICE_THREAD, .label = 0};
    sim_replay rp;
    ch = sim_replay_chooser(&rp, &d, NULL, 1, NULL);
    r = sim_run(s2, &ch, prog_nothing, NULL);
    ck_assert_int_eq(r->verdict, SIM_NONDETERMINISM);
    /* And the next run is whole. */
    sim_random rnd;
    ch = sim_random_chooser(&rnd, 1);
    r = sim_run(s2, &ch, prog_nothing, NULL);
    ck_assert_int_eq(r->verdict, SIM_PASS);
    sim_destroy(s2);
}
END_TEST

/* ---- Limits ---- */

typedef struct many_recvs {
    uint32_t n;
    shim_overlapped ov[KERN_MAX_ACTIONS + 8];
    char buf[KERN_MAX_ACTIONS + 8];
} many_recvs;

/* n receives pending on one socket, then the socket is closed: every one of
 * them becomes an enabled kernel action at once (it ends cancelled). */
static void prog_many_recvs(sim_ctx *s, const shim *sh, void *arg) {
    (void)s;
    many_recvs *m = arg;
    const shim_harness *hs = sim_harness_of(sh);
    shim_handle h[2];
    ck_assert(harness_socket_pair(hs, h));
    for (uint32_t i = 0; i < m->n; i++) {
        shim_wsabuf wb = {1, &m->buf[i]};
        uint32_t flags = 0;
        ck_assert_int_eq(sh->wsa_recv(sh->ctx, h[0], &wb, 1, NULL, &flags, &m->ov[i]), SHIM_SOCKET_ERROR);
    }
    sh->closesocket(sh->ctx, h[0]);
    harness_sleep(hs, 1000000); /* the kernel ends them meanwhile */
    sh->closesocket(sh->ctx, h[1]);
}

START_TEST(test_action_limit_reported) {
    static many_recvs m;
    memset(&m, 0, sizeof m);
    m.n = KERN_MAX_ACTIONS + 1;
    sim_chooser ch = sim_first_chooser();
    const sim_result *r = sim_run(sim, &ch, prog_many_recvs, &m);
    ck_assert_int_eq(r->verdict, SIM_LIMIT);
    ck_assert_str_eq(r->property, "action-limit");
    ck_assert_msg(strstr(r->message, "KERN_MAX_ACTIONS") != NULL, "%s", r->message);
}
END_TEST

START_TEST(test_action_limit_boundary) {
    /* Exactly KERN_MAX_ACTIONS actions fit: no limit, every one is taken. */
    static many_recvs m;
    memset(&m, 0, sizeof m);
    m.n = KERN_MAX_ACTIONS;
    sim_chooser ch = sim_first_chooser();
    const sim_result *r = sim_run(sim, &ch, prog_many_recvs, &m);
    ck_assert_msg(r->verdict == SIM_PASS, "%s: %s", r->property, r->message);
    for (uint32_t i = 0; i < m.n; i++) ck_assert_uint_eq(m.ov[i].internal, SHIM_STATUS_CANCELLED);
}
END_TEST

START_TEST(test_action_limit_ends_exploration) {
    /* The explorer never calls a tree complete that the limit pruned: the
     * run that hits it is a violation (limit), and the search stops. */
    static many_recvs m;
    memset(&m, 0, sizeof m);
    m.n = KERN_MAX_ACTIONS + 1;
    explore_options o;
    explore_options_default(&o);
    explore_result er;
    ck_assert(explore_run(sim, prog_many_recvs, &m, &o, &er));
    ck_assert(!er.stats.complete);
    ck_assert(er.violation.found);
    ck_assert_int_eq(er.violation.verdict, SIM_LIMIT);
    ck_assert_str_eq(er.violation.property, "action-limit");
    explore_result_free(&er);
}
END_TEST

/* ---- The explorer ---- */

/* After each complete execution (before the race analysis reads the log),
 * corrupt one access: an actor that is neither a thread nor the kernel. */
static void corrupt_log(void *user, sim_ctx *s, const sim_result *r) {
    (void)r;
    uint32_t *calls = user;
    if (++*calls < 3 || sim_access_count(s) == 0) return;
    sim_access *a = (sim_access *)sim_accesses(s);
    a[sim_access_count(s) - 1].thread = 200;
}

START_TEST(test_explorer_log_corrupted) {
    for (int stop = 0; stop <= 1; stop++) {
        explore_options o;
        explore_options_default(&o);
        o.por = EXPLORE_POR_DPOR;
        o.stop_on_violation = stop;
        uint32_t calls = 0;
        o.on_execution = corrupt_log;
        o.exec_user = &calls;
        ep_prog p = {.kind = EP_SAME2};
        explore_result er;
        ck_assert(explore_run(sim, ep_main, &p, &o, &er));
        ck_assert(!er.stats.complete);
        ck_assert_str_eq(er.stats.stopped_by, "internal");
        ck_assert(er.violation.found);
        ck_assert_int_eq(er.violation.verdict, SIM_INTERNAL);
        ck_assert_str_eq(er.violation.property, "internal");
        ck_assert_msg(strstr(er.violation.message, "an access is by a thread or the kernel") != NULL, "%s",
                      er.violation.message);
        ck_assert_msg(strstr(er.violation.message, "search/explore_race.c:") != NULL, "%s", er.violation.message);
        /* The schedule of the run whose analysis broke: the third one. */
        ck_assert_uint_eq(er.violation.execution, 3);
        ck_assert_uint_gt(er.violation.ndecisions, 0);
        char sched[256];
        sim_schedule_format(er.violation.decisions, er.violation.ndecisions, sched, sizeof sched);
        ck_assert_msg(strstr(er.violation.message, sched) != NULL, "'%s' not in %s", sched, er.violation.message);
        explore_result_free(&er);
    }
}
END_TEST

/* A run whose engine check fails inside the explorer's search: the search
 * stops with the engine's report, whatever stop_on_violation says. */
static void prog_bad_runnable_late(sim_ctx *s, const shim *sh, void *arg) {
    uint32_t *runs = arg;
    ep_prog p = {.kind = EP_MUTEX2};
    ep_main(s, sh, &p); /* joins its workers: main is alone at the end */
    if (++*runs >= 4) s->runnable |= 1ull << 9;
    harness_sleep(sim_harness_of(sh), 0);
}

START_TEST(test_explorer_stops_at_engine_internal) {
    explore_options o;
    explore_options_default(&o);
    o.stop_on_violation = false;
    o.por = EXPLORE_POR_NONE;
    uint32_t runs = 0;
    explore_result er;
    ck_assert(explore_run(sim, prog_bad_runnable_late, &runs, &o, &er));
    ck_assert(!er.stats.complete);
    ck_assert_str_eq(er.stats.stopped_by, "internal");
    ck_assert_int_eq(er.violation.verdict, SIM_INTERNAL);
    ck_assert_msg(strstr(er.violation.message, "the runnable set holds only existing threads") != NULL, "%s", er.violation.message);
    ck_assert_msg(strstr(er.violation.message, "sim/sched.c:") != NULL, "%s", er.violation.message);
    ck_assert_uint_eq(runs, 4);
    explore_result_free(&er);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("invariants");
    TCase *tc = tcase_create("engine");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_engine_runnable_corrupted);
    tcase_add_test(tc, test_engine_timer_heap_corrupted);
    tcase_add_test(tc, test_kernel_pending_count_corrupted);
    tcase_add_test(tc, test_chooser_internal_on_main_stack);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_action_limit_reported);
    tcase_add_test(tc, test_action_limit_boundary);
    tcase_add_test(tc, test_action_limit_ends_exploration);
    suite_add_tcase(s, tc);
    tc = tcase_create("explorer");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_explorer_log_corrupted);
    tcase_add_test(tc, test_explorer_stops_at_engine_internal);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
