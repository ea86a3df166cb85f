/* check_fault.c - the fault shim (shim/fault.h).
 *
 * Over the simulator (decisions through the decision stream): each family
 * fails its calls with the errors fault.c documents and has no other
 * effect; countdowns, budgets, transient and persistent faults; fault
 * decisions are 'f' tokens of the schedule and replay to the same execution.
 * Over a plain stub shim (the real backend's path: the built-in seeded
 * generator): probabilities, the same decisions for the same seed, and every
 * decision recorded in the model trace.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "models/trace.h"
#include "shim/fault.h"
#include "sim/sim.h"

#define WSAENOBUFS 10055u
#define STATUS_NO_MEMORY 0xC0000017u

/* ---- Over the simulator ---- */

static uint32_t sim_decide(void *self, uint32_t family, const uint32_t *errs, uint32_t nerrs, bool must,
                           uint32_t permille) {
    (void)permille;
    return sim_choose_fault(self, family, errs, nerrs, must);
}

typedef struct body_arg {
    shim_fault *f;
    uint32_t fam;
    uint32_t calls;     /* calls of the family to make */
    uint32_t fail[16];  /* per call: the error it failed with, 0 if it went through */
    uint32_t injected;  /* shim_fault_injected at the end */
    bool side_effects;  /* a failed call left something behind */
} body_arg;

/* One OVERLAPPED per call: one still in flight must not be reused. */
static shim_overlapped ovs[16];

/* Call `i` of `fam` on `sh`; returns 0 if it went through, else its error. */
static uint32_t call_once(const shim *sh, uint32_t fam, uint32_t i, shim_handle port, const shim_handle sock[2],
                          bool *side) {
    switch (fam) {
    case SHIM_FAULT_PORT: {
        shim_handle p = sh->create_io_completion_port(sh->ctx, SHIM_INVALID_HANDLE, SHIM_NULL_HANDLE, 0, 0);
        return p == SHIM_NULL_HANDLE ? sh->get_last_error(sh->ctx) : 0;
    }
    case SHIM_FAULT_POST: {
        if (sh->post_queued_completion_status(sh->ctx, port, 7, 9, NULL)) {
            shim_overlapped_entry e;
            uint32_t n = 0;
            sh->get_queued_completion_status_ex(sh->ctx, port, &e, 1, &n, 0, false); /* drain it */
            return 0;
        }
        uint32_t err = sh->get_last_error(sh->ctx);
        shim_overlapped_entry e;
        uint32_t n = 0;
        if (sh->get_queued_completion_status_ex(sh->ctx, port, &e, 1, &n, 0, false)) *side = true; /* no packet */
        return err;
    }
    case SHIM_FAULT_SOCKIO: {
        char buf[4];
        shim_wsabuf wb = {4, buf};
        shim_overlapped *ov = &ovs[i];
        memset(ov, 0, sizeof *ov);
        uint32_t n = 0;
        int rc = sh->wsa_send(sh->ctx, sock[0], &wb, 1, &n, 0, ov);
        uint32_t err = rc == 0 ? 0 : sh->get_last_error(sh->ctx);
        if (err == SHIM_ERROR_IO_PENDING) err = 0;
        shim_overlapped_entry e;
        bool got = sh->get_queued_completion_status_ex(sh->ctx, port, &e, 1, &n, 0, false);
        if (err != 0 && (got || ov->internal != 0)) *side = true; /* not started: no packet, OVERLAPPED untouched */
        return err;
    }
    case SHIM_FAULT_WAITPKT: {
        shim_handle t = sh->create_waitable_timer(sh->ctx, false);
        if (t == SHIM_NULL_HANDLE) return sh->get_last_error(sh->ctx);
        shim_handle w = SHIM_NULL_HANDLE;
        uint32_t st = sh->nt_create_wait_completion_packet(sh->ctx, &w);
        if (st != 0 && w != SHIM_NULL_HANDLE) *side = true;
        return st;
    }
    case SHIM_FAULT_DEQUEUE: {
        /* A packet waits: a failed dequeue must leave it queued. */
        ck_assert(sh->post_queued_completion_status(sh->ctx, port, 1, 5, NULL));
        shim_overlapped_entry e;
        uint32_t n = 7;
        if (sh->get_queued_completion_status_ex(sh->ctx, port, &e, 1, &n, 0, false)) return 0;
        uint32_t err = sh->get_last_error(sh->ctx);
        if (n != 0 || !sh->get_queued_completion_status_ex(sh->ctx, port, &e, 1, &n, 0, false)) *side = true;
        return err;
    }
    case SHIM_FAULT_CANCEL: {
        /* Nothing is pending: the real call says FALSE with ERROR_NOT_FOUND. */
        if (sh->cancel_io_ex(sh->ctx, sock[0], &ovs[i])) *side = true;
        uint32_t err = sh->get_last_error(sh->ctx);
        return err == SHIM_ERROR_NOT_FOUND ? 0 : err;
    }
    case SHIM_FAULT_WAITARM: {
        /* Calls in Go's order, one per i: cancel, set the timer, associate. */
        static shim_handle t, w;
        if (i % 3 == 0) {
            t = sh->create_waitable_timer(sh->ctx, true);
            ck_assert(t != SHIM_NULL_HANDLE && sh->nt_create_wait_completion_packet(sh->ctx, &w) == 0);
            uint32_t st = sh->nt_cancel_wait_completion_packet(sh->ctx, w, true);
            return st == 0 || st == SHIM_STATUS_CANCELLED ? 0 : st;
        }
        if (i % 3 == 1) return sh->set_waitable_timer(sh->ctx, t, -100000) ? 0 : sh->get_last_error(sh->ctx);
        bool already = false;
        return sh->nt_associate_wait_completion_packet(sh->ctx, w, port, t, 3, 0, 0, 0, &already);
    }
    case SHIM_FAULT_SOCK: /* one of the calls without an OVERLAPPED: nothing to leave behind */
        return sh->setsockopt(sh->ctx, sock[0], SHIM_SOL_SOCKET, SHIM_SO_UPDATE_CONNECT_CONTEXT, NULL, 0) == 0
                   ? 0
                   : sh->get_last_error(sh->ctx);
    case SHIM_FAULT_ALLOC: /* asked of the wrapper (its ctx), not a seam call; unwrapped: nothing fails */
        if (strcmp(sh->name, "fault") != 0) return 0;
        return shim_fault_alloc_fails((shim_fault *)sh->ctx) ? SHIM_ERROR_NOT_ENOUGH_MEMORY : 0;
    }
    return 0;
}

static void family_body(sim_ctx *s, const shim *sim_sh, void *arg) {
    body_arg *a = arg;
    shim_fault_reset(a->f, 0);
    const shim *sh = shim_fault_wrap(a->f, sim_sh, sim_harness(s));
    /* Set-up through the inner shim: only the calls under test go through the faults. */
    shim_handle port = sim_sh->create_io_completion_port(sim_sh->ctx, SHIM_INVALID_HANDLE, SHIM_NULL_HANDLE, 0, 0);
    shim_handle sock[2];
    harness_socket_pair(sim_harness(s), sock);
    sim_sh->create_io_completion_port(sim_sh->ctx, sock[0], port, 1, 0);
    for (uint32_t i = 0; i < a->calls; i++) a->fail[i] = call_once(sh, a->fam, i, port, sock, &a->side_effects);
    a->injected = shim_fault_injected(a->f, a->fam);
}

static sim_ctx *new_sim(void) {
    sim_config cfg;
    sim_config_default(&cfg);
    cfg.allow_leaks = true; /* the bodies leave their port and sockets open: faults are the subject */
    sim_ctx *sim = sim_create(&cfg);
    ck_assert_ptr_nonnull(sim);
    return sim;
}

static const sim_result *run_first(sim_ctx *sim, body_arg *a) {
    sim_chooser ch = sim_first_chooser();
    const sim_result *r = sim_run(sim, &ch, family_body, a);
    ck_assert_msg(r->verdict == SIM_PASS, "%s: %s", r->property, r->message);
    return r;
}

/* Each family, a countdown: the second step's call fails with the family's
 * first error (the first chooser takes alternative 0), the others go on. (A
 * wait-packet step makes two calls, timer then packet: its third call is the
 * second step's timer.) */
START_TEST(test_each_family_countdown) {
    static const uint32_t first_err[SHIM_FAULT_FAMILIES] = {
        SHIM_ERROR_NOT_ENOUGH_MEMORY, 1450, WSAENOBUFS, SHIM_ERROR_NOT_ENOUGH_MEMORY, SHIM_ERROR_NOT_ENOUGH_MEMORY,
        735 /* ERROR_ABANDONED_WAIT_0 */, 6 /* ERROR_INVALID_HANDLE */, 6 /* SetWaitableTimer's */,
        10050 /* WSAENETDOWN */};
    uint32_t fam = (uint32_t)_i;
    sim_ctx *sim = new_sim();
    shim_fault *f = shim_fault_create((shim_fault_source){sim, sim_decide}, NULL);
    shim_fault_rule r = {SHIM_FAULT_COUNTDOWN, 0, fam == SHIM_FAULT_WAITPKT ? 3 : 2, 0, false};
    shim_fault_set_rule(f, fam, &r);
    body_arg a = {f, fam, 4, {0}, 0, false};
    const sim_result *res = run_first(sim, &a);
    ck_assert_msg(a.fail[0] == 0 && a.fail[2] == 0 && a.fail[3] == 0, "%s: %u %u %u", shim_fault_family_name(fam),
                  a.fail[0], a.fail[2], a.fail[3]);
    ck_assert_uint_eq(a.fail[1], first_err[fam]);
    ck_assert_uint_eq(a.injected, 1);
    ck_assert(!a.side_effects);
    /* A certain fault with one possible error asks nothing; sockio's and dequeue's two ask which. */
    ck_assert_uint_eq(sim_get_stats(sim)->asked[SIM_CHOICE_FAULT],
                      fam == SHIM_FAULT_SOCKIO || fam == SHIM_FAULT_DEQUEUE ? 1 : 0);
    (void)res;
    shim_fault_destroy(f);
    sim_destroy(sim);
}
END_TEST

/* The wait-packet family's second call, NtCreateWaitCompletionPacket, fails
 * with an NTSTATUS (no last error). */
START_TEST(test_waitpkt_ntstatus) {
    sim_ctx *sim = new_sim();
    shim_fault *f = shim_fault_create((shim_fault_source){sim, sim_decide}, NULL);
    /* Calls: timer (1), packet (2). */
    shim_fault_rule r = {SHIM_FAULT_COUNTDOWN, 0, 2, 0, false};
    shim_fault_set_rule(f, SHIM_FAULT_WAITPKT, &r);
    body_arg a = {f, SHIM_FAULT_WAITPKT, 1, {0}, 0, false};
    run_first(sim, &a);
    ck_assert_uint_eq(a.fail[0], STATUS_NO_MEMORY);
    ck_assert(!a.side_effects);
    shim_fault_destroy(f);
    sim_destroy(sim);
}
END_TEST

/* Transient: one call fails. Persistent: from the first fault on, every call
 * fails the same way, with no further decision. */
START_TEST(test_transient_persistent) {
    sim_ctx *sim = new_sim();
    shim_fault *f = shim_fault_create((shim_fault_source){sim, sim_decide}, NULL);
    shim_fault_rule r = {SHIM_FAULT_COUNTDOWN, 0, 3, 0, false};
    shim_fault_set_rule(f, SHIM_FAULT_POST, &r);
    body_arg a = {f, SHIM_FAULT_POST, 6, {0}, 0, false};
    run_first(sim, &a);
    static const uint32_t transient[6] = {0, 0, 1450, 0, 0, 0};
    ck_assert_mem_eq(a.fail, transient, sizeof transient);
    r.persistent = true;
    shim_fault_set_rule(f, SHIM_FAULT_POST, &r);
    memset(a.fail, 0, sizeof a.fail);
    run_first(sim, &a);
    static const uint32_t persistent[6] = {0, 0, 1450, 1450, 1450, 1450};
    ck_assert_mem_eq(a.fail, persistent, sizeof persistent);
    ck_assert_uint_eq(a.injected, 4);
    /* sockio persistent: the error chosen once is the one that sticks. */
    r = (shim_fault_rule){SHIM_FAULT_BUDGET, 1, 0, 0, true};
    shim_fault_set_rule(f, SHIM_FAULT_SOCKIO, &r);
    body_arg b = {f, SHIM_FAULT_SOCKIO, 5, {0}, 0, false};
    bool seen = false;
    for (uint64_t seed = 0; seed < 64; seed++) {
        sim_random rnd;
        sim_chooser ch = sim_random_chooser(&rnd, seed);
        memset(b.fail, 0, sizeof b.fail);
        const sim_result *res = sim_run(sim, &ch, family_body, &b);
        ck_assert_msg(res->verdict == SIM_PASS, "%s", res->message);
        uint32_t k = 0;
        while (k < 5 && b.fail[k] == 0) k++;
        if (k == 5) continue;
        seen = true;
        for (uint32_t j = k; j < 5; j++) ck_assert_uint_eq(b.fail[j], b.fail[k]);
        ck_assert(b.fail[k] == WSAENOBUFS || b.fail[k] == SHIM_WSAECONNRESET);
    }
    ck_assert(seen);
    shim_fault_destroy(f);
    sim_destroy(sim);
}
END_TEST

/* A budget: each call is an 'f' decision while it lasts; at most `budget`
 * faults; the schedule shows them and a strict replay repeats the execution. */
START_TEST(test_budget_schedule_replay) {
    sim_ctx *sim = new_sim();
    shim_fault *f = shim_fault_create((shim_fault_source){sim, sim_decide}, NULL);
    shim_fault_rule r = {SHIM_FAULT_BUDGET, 2, 0, 0, false};
    shim_fault_set_rule(f, SHIM_FAULT_SOCKIO, &r);
    body_arg a = {f, SHIM_FAULT_SOCKIO, 8, {0}, 0, false};
    uint32_t faulted_runs = 0;
    for (uint64_t seed = 0; seed < 40; seed++) {
        sim_random rnd;
        sim_chooser ch = sim_random_chooser(&rnd, seed);
        memset(a.fail, 0, sizeof a.fail);
        const sim_result *res = sim_run(sim, &ch, family_body, &a);
        ck_assert_msg(res->verdict == SIM_PASS, "%s", res->message);
        ck_assert_uint_le(a.injected, 2);
        uint32_t failed = 0, fdec = 0;
        for (uint32_t i = 0; i < 8; i++) failed += a.fail[i] != 0;
        ck_assert_uint_eq(failed, a.injected);
        for (uint32_t i = 0; i < res->ndecisions; i++) fdec += res->decisions[i].kind == SIM_CHOICE_FAULT;
        ck_assert_uint_ge(fdec, a.injected);
        if (a.injected == 0) continue;
        faulted_runs++;
        /* The schedule string carries the faults ... */
        char sched[4096];
        ck_assert_uint_lt(sim_schedule_format(res->decisions, res->ndecisions, sched, sizeof sched), sizeof sched);
        ck_assert_msg(strstr(sched, "f1") != NULL || strstr(sched, "f2") != NULL, "%s", sched);
        uint64_t hash = res->trace_hash;
        uint32_t want[8];
        memcpy(want, a.fail, sizeof want);
        /* ... and replays to the same execution. */
        sim_schedule sc;
        char err[128];
        ck_assert_msg(sim_schedule_parse(sched, &sc, err, sizeof err), "%s", err);
        sim_replay rp;
        sim_chooser rch = sim_replay_chooser(&rp, sc.d, sc.col, sc.count, NULL);
        memset(a.fail, 0, sizeof a.fail);
        const sim_result *again = sim_run(sim, &rch, family_body, &a);
        ck_assert_msg(again->verdict == SIM_PASS, "%s", again->message);
        ck_assert_uint_eq(again->trace_hash, hash);
        ck_assert_mem_eq(a.fail, want, sizeof want);
        sim_schedule_free(&sc);
    }
    ck_assert_uint_gt(faulted_runs, 0);
    shim_fault_destroy(f);
    sim_destroy(sim);
}
END_TEST

/* Every rule off: the wrapper asks nothing, so the execution (its schedule
 * and trace hash) is the one without the wrapper. */
static void plain_body(sim_ctx *s, const shim *sh, void *arg) {
    body_arg *a = arg;
    if (a->f != NULL) family_body(s, sh, arg);
    else {
        shim_handle port = sh->create_io_completion_port(sh->ctx, SHIM_INVALID_HANDLE, SHIM_NULL_HANDLE, 0, 0);
        shim_handle sock[2];
        harness_socket_pair(sim_harness(s), sock);
        sh->create_io_completion_port(sh->ctx, sock[0], port, 1, 0);
        for (uint32_t i = 0; i < a->calls; i++) a->fail[i] = call_once(sh, a->fam, i, port, sock, &a->side_effects);
    }
}

START_TEST(test_off_is_invisible) {
    sim_ctx *sim = new_sim();
    shim_fault *f = shim_fault_create((shim_fault_source){sim, sim_decide}, NULL);
    ck_assert(!shim_fault_any(f));
    for (uint32_t fam = 0; fam < SHIM_FAULT_FAMILIES; fam++) {
        body_arg with = {f, fam, 3, {0}, 0, false}, without = {NULL, fam, 3, {0}, 0, false};
        sim_random r1, r2;
        sim_chooser c1 = sim_random_chooser(&r1, 7), c2 = sim_random_chooser(&r2, 7);
        uint64_t h1 = sim_run(sim, &c1, plain_body, &with)->trace_hash;
        uint64_t h2 = sim_run(sim, &c2, plain_body, &without)->trace_hash;
        ck_assert_uint_eq(h1, h2);
    }
    ck_assert_uint_eq(sim_get_stats(sim)->asked[SIM_CHOICE_FAULT], 0);
    shim_fault_destroy(f);
    sim_destroy(sim);
}
END_TEST

/* ---- The real backend's path: a stub shim, the built-in generator ---- */

typedef struct stub {
    uint32_t last_error;
    uint32_t posts; /* posts that reached the stub */
} stub;

static bool stub_post(void *ctx, shim_handle port, uint32_t bytes, uintptr_t key, shim_overlapped *ov) {
    (void)port, (void)bytes, (void)key, (void)ov;
    ((stub *)ctx)->posts++;
    return true;
}
static uint32_t stub_get_error(void *ctx) { return ((stub *)ctx)->last_error; }
static void stub_set_error(void *ctx, uint32_t e) { ((stub *)ctx)->last_error = e; }
static uint32_t no_thread(void *self) {
    (void)self;
    return 0;
}
static int64_t no_time(void *self) {
    (void)self;
    return 0;
}

#define POSTS 2000

/* Runs POSTS posts through a seeded fault shim; returns the faults injected
 * and fills `pattern` (1 where a post failed). */
static uint32_t seeded_run(shim_fault *f, model_trace *t, uint64_t seed, uint8_t *pattern, stub *st) {
    /* A complete v2 seam (a simulator's, never run: only its shape counts)
     * whose post and last error are the stub's. */
    sim_config cfg;
    sim_config_default(&cfg);
    cfg.wait_packets = SIM_WAITPKT_ABSENT;
    sim_ctx *shape = sim_create(&cfg);
    shim inner = *sim_shim(shape);
    inner.name = "stub";
    inner.ctx = st;
    inner.caps = 0;
    inner.create_waitable_timer = NULL; /* an optional call the backend lacks */
    inner.post_queued_completion_status = stub_post;
    inner.get_last_error = stub_get_error;
    shim_harness hn = *sim_harness(shape);
    hn.ctx = st;
    hn.set_last_error = stub_set_error;
    model_trace_reset(t);
    shim_fault_reset(f, seed);
    const shim *sh = shim_fault_wrap(f, &inner, &hn);
    ck_assert_ptr_nonnull(sh);
    /* Optional calls the inner lacks stay NULL through the wrapper; the sync
     * table is the inner's own. */
    ck_assert_ptr_null(sh->create_waitable_timer);
    ck_assert_ptr_eq(sh->sync, inner.sync);
    uint32_t failed = 0;
    for (uint32_t i = 0; i < POSTS; i++) {
        bool ok = sh->post_queued_completion_status(sh->ctx, 1, 0, i, NULL);
        pattern[i] = !ok;
        if (!ok) {
            ck_assert_uint_eq(sh->get_last_error(sh->ctx), 1450);
            failed++;
        }
    }
    sim_destroy(shape);
    return failed;
}

START_TEST(test_seeded_probability_recorded) {
    model_trace *t = model_trace_create((model_clock){NULL, no_thread, no_time});
    shim_fault *f = shim_fault_create((shim_fault_source){NULL, NULL}, t);
    shim_fault_rule r = {SHIM_FAULT_PROBABILITY, POSTS, 0, 250, false};
    shim_fault_set_rule(f, SHIM_FAULT_POST, &r);
    static uint8_t p1[POSTS], p2[POSTS], p3[POSTS];
    stub st = {0, 0};
    uint32_t n1 = seeded_run(f, t, 42, p1, &st);
    /* About a quarter fail; the rest reached the inner shim. */
    ck_assert_msg(n1 > POSTS / 4 - 150 && n1 < POSTS / 4 + 150, "%u of %u", n1, POSTS);
    ck_assert_uint_eq(st.posts, POSTS - n1);
    ck_assert_uint_eq(shim_fault_injected(f, SHIM_FAULT_POST), n1);
    /* Every decision is in the trace, in call order, with its outcome. */
    const model_event *ev = model_trace_events(t);
    ck_assert_uint_eq(model_trace_count(t), POSTS);
    for (uint32_t i = 0; i < POSTS; i++) {
        ck_assert_uint_eq(ev[i].kind, MEV_FAULT);
        ck_assert_uint_eq(ev[i].a[0], SHIM_FAULT_POST);
        ck_assert_uint_eq(ev[i].a[1], p1[i] ? 1450 : 0);
        ck_assert_uint_eq(ev[i].a[2], i + 1);
        ck_assert_uint_eq(ev[i].a[3], i + 1);
    }
    char line[160];
    model_event_format(&ev[0], line, sizeof line);
    ck_assert_msg(strstr(line, "fault") != NULL, "%s", line);
    /* The same seed, the same decisions; another seed, others. */
    uint32_t n2 = seeded_run(f, t, 42, p2, &st);
    ck_assert_uint_eq(n2, n1);
    ck_assert_mem_eq(p1, p2, POSTS);
    seeded_run(f, t, 43, p3, &st);
    ck_assert(memcmp(p1, p3, POSTS) != 0);
    /* A budget caps the faults; after it, no more decisions are recorded. */
    r.budget = 3;
    shim_fault_set_rule(f, SHIM_FAULT_POST, &r);
    ck_assert_uint_eq(seeded_run(f, t, 42, p2, &st), 3);
    uint32_t recorded = model_trace_count(t);
    ck_assert_uint_lt(recorded, POSTS);
    ck_assert_uint_eq(model_trace_events(t)[recorded - 1].a[1], 1450);
    /* A countdown on the generator: exactly that call. */
    r = (shim_fault_rule){SHIM_FAULT_COUNTDOWN, 0, 10, 0, false};
    shim_fault_set_rule(f, SHIM_FAULT_POST, &r);
    ck_assert_uint_eq(seeded_run(f, t, 5, p2, &st), 1);
    ck_assert_uint_eq(p2[9], 1);
    ck_assert_uint_eq(model_trace_count(t), 1);
    shim_fault_destroy(f);
    model_trace_destroy(t);
}
END_TEST

int main(void) {
    Suite *s = suite_create("fault");
    TCase *tc = tcase_create("shim");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_each_family_countdown, 0, SHIM_FAULT_FAMILIES);
    tcase_add_test(tc, test_waitpkt_ntstatus);
    tcase_add_test(tc, test_transient_persistent);
    tcase_add_test(tc, test_budget_schedule_replay);
    tcase_add_test(tc, test_off_is_invisible);
    tcase_add_test(tc, test_seeded_probability_recorded);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
