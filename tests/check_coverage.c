/* check_coverage.c - choice coverage of the simulated kernel.
 *
 * One workout touches every choice point; over a fixed set of seeds, every
 * choice kind must take every outcome it documents (sim.h) at least once,
 * as counted by sim_get_stats. A kind that never varies would mean a
 * behaviour of Windows or Wine the simulator can no longer produce.
 * Faults come from the fault shim (shim/fault.h) wrapped around the simulated
 * seam, deciding through the decision stream; also checked: only the errors
 * each call allows.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "shim/fault.h"
#include "sim/sim.h"

/* The simulator's harness for the running body: the seam a body sees is
 * the fault shim's, which has no harness of its own. */
static const shim_harness *HN;


typedef struct wk {
    const shim *sh;
    shim_handle port;
} wk;

static void waiter(void *arg) {
    wk *w = arg;
    uint32_t b;
    uintptr_t k;
    shim_overlapped *ov;
    w->sh->get_queued_completion_status(w->sh->ctx, w->port, &b, &k, &ov, 50);
}

/* Retries injected creation faults (the budget is finite). */
static shim_handle port_new(const shim *sh, uint32_t conc) {
    shim_handle p;
    while ((p = sh->create_io_completion_port(sh->ctx, SHIM_INVALID_HANDLE, SHIM_NULL_HANDLE, 0, conc)) == 0) {
    }
    return p;
}

static void drain(const shim *sh, shim_handle p) {
    shim_overlapped_entry e[8];
    uint32_t n;
    while (sh->get_queued_completion_status_ex(sh->ctx, p, e, 8, &n, 0, false)) {
    }
}

/* A blocked GQCSEx woken by the first of several posts: batch (b). */
static void batch_waiter(void *arg) {
    wk *w = arg;
    shim_overlapped_entry e[8];
    uint32_t n;
    w->sh->get_queued_completion_status_ex(w->sh->ctx, w->port, e, 8, &n, SHIM_INFINITE, false);
    drain(w->sh, w->port);
}

/* waiters (w), concurrency (c), close under waiters (l), timeouts (o, n), batch (b) */
static void workout_port(sim_ctx *s, const shim *sh) {
    wk w = {sh, port_new(sh, 1)};
    shim_thread t[2];
    harness_spawn(HN, &t[0], waiter, &w, "A");
    harness_spawn(HN, &t[1], waiter, &w, "B");
    harness_sleep(HN, 1000000);
    sh->post_queued_completion_status(sh->ctx, w.port, 0, 1, NULL);
    sh->post_queued_completion_status(sh->ctx, w.port, 0, 2, NULL);
    if (sim_choose_user(s, 2) == 0) sh->close_handle(sh->ctx, w.port);
    harness_join(HN, &t[0]);
    harness_join(HN, &t[1]);
    shim_handle p = port_new(sh, 0);
    wk bw = {sh, p};
    shim_thread bt;
    harness_spawn(HN, &bt, batch_waiter, &bw, "C");
    harness_sleep(HN, 1000000);
    for (uintptr_t k = 0; k < 4; k++) sh->post_queued_completion_status(sh->ctx, p, 0, k, NULL);
    harness_join(HN, &bt);
    shim_overlapped_entry e[1];
    uint32_t n;
    sh->get_queued_completion_status_ex(sh->ctx, p, e, 1, &n, 20, false);
    sh->get_queued_completion_status_ex(sh->ctx, p, e, 0, &n, 0, false); /* 87: removed 0 or 1 */
}

/* sync (s), partial (p), internal (i), cancel (x), close status (k), skip (r), event (e) */
static void workout_sock(const shim *sh) {
    shim_handle p = port_new(sh, 0), a[2], b[2];
    harness_socket_pair(HN, a);
    harness_socket_pair(HN, b);
    sh->create_io_completion_port(sh->ctx, a[0], p, 1, 0);
    sh->create_io_completion_port(sh->ctx, b[0], p, 2, 0);
    sh->set_file_completion_notification_modes(sh->ctx, b[0], SHIM_FILE_SKIP_COMPLETION_PORT_ON_SUCCESS);
    char buf[2][8];
    shim_wsabuf wb[2] = {{8, buf[0]}, {8, buf[1]}};
    shim_overlapped ov[2];
    memset(ov, 0, sizeof ov);
    uint32_t n, fl = 0; /* lpFlags is [in, out]: only 0 is modelled */
    sh->wsa_recv(sh->ctx, a[0], &wb[0], 1, &n, &fl, &ov[0]);
    sh->wsa_recv(sh->ctx, b[0], &wb[1], 1, &n, &fl, &ov[1]);
    harness_send(HN, a[1], "01234567", 8);
    harness_send(HN, b[1], "01234567", 8);
    sh->cancel_io_ex(sh->ctx, a[0], &ov[0]);
    harness_sleep(HN, 1000000);
    drain(sh, p);
    memset(ov, 0, sizeof ov);
    sh->wsa_recv(sh->ctx, b[0], &wb[1], 1, &n, &fl, &ov[1]);
    sh->wsa_recv(sh->ctx, a[0], &wb[0], 1, &n, &fl, &ov[0]);
    shim_handle c[2]; /* a receive on a reset socket (q) */
    harness_socket_pair(HN, c);
    harness_abort(HN, c[1]);
    shim_overlapped oq;
    memset(&oq, 0, sizeof oq);
    sh->wsa_recv(sh->ctx, c[0], &wb[1], 1, &n, &fl, &oq);
    sh->closesocket(sh->ctx, c[0]);
    shim_overlapped oz; /* zero buffers (z): refused, or pending until the close */
    memset(&oz, 0, sizeof oz);
    sh->wsa_recv(sh->ctx, a[0], NULL, 0, &n, &fl, &oz);
    sh->closesocket(sh->ctx, a[0]);
    harness_sleep(HN, 1000000);
    drain(sh, p);
}

/* datagrams (d, m): a send that may be lost, a truncation at once with
 * skip-on-success set */
static void workout_dgram(const shim *sh) {
    shim_handle p = port_new(sh, 0);
    shim_sockaddr_in ra, pa;
    shim_handle r = shim_loopback_socket(sh, SHIM_SOCK_DGRAM, &ra), q = shim_loopback_socket(sh, SHIM_SOCK_DGRAM, &pa);
    sh->create_io_completion_port(sh->ctx, r, p, 3, 0);
    sh->set_file_completion_notification_modes(sh->ctx, r, SHIM_FILE_SKIP_COMPLETION_PORT_ON_SUCCESS);
    HN->sock_sendto_sync(HN->ctx, q, "0123456789", 10, &ra);
    char buf[4];
    shim_wsabuf wb = {4, buf};
    static shim_overlapped ov; /* not the stack slot of workout_sock's, which may still be pending */
    memset(&ov, 0, sizeof ov);
    uint32_t n, fl = 0; /* lpFlags is [in, out]: only 0 is modelled */
    sh->wsa_recv_from(sh->ctx, r, &wb, 1, &n, &fl, NULL, NULL, &ov);
    sh->closesocket(sh->ctx, r);
    sh->closesocket(sh->ctx, q);
    harness_sleep(HN, 1000000);
    drain(sh, p);
}

/* wait packets (a, g, y) */
static void workout_waitpkt(const shim *sh) {
    if (sh->nt_create_wait_completion_packet == NULL) return;
    shim_handle p = port_new(sh, 0), t = sh->create_waitable_timer(sh->ctx, true), w = 0;
    if (sh->nt_create_wait_completion_packet(sh->ctx, &w) != 0 || t == 0) return;
    sh->set_waitable_timer(sh->ctx, t, -10000);
    bool already;
    sh->nt_associate_wait_completion_packet(sh->ctx, w, p, t, 5, 0, 0, 0, &already);
    harness_sleep(HN, 1000000);
    sh->nt_cancel_wait_completion_packet(sh->ctx, w, true);
    harness_sleep(HN, 1000000);
    drain(sh, p);
    /* An association on a timer that already fired ('v'). */
    sh->nt_cancel_wait_completion_packet(sh->ctx, w, true);
    sh->set_waitable_timer(sh->ctx, t, -1);
    harness_sleep(HN, 1000000);
    sh->nt_associate_wait_completion_packet(sh->ctx, w, p, t, 6, 0, 0, 0, &already);
    harness_sleep(HN, 1000000);
    drain(sh, p);
}

static uint32_t sim_decide(void *self, uint32_t family, const uint32_t *errs, uint32_t nerrs, bool must,
                           uint32_t permille) {
    (void)permille;
    return sim_choose_fault(self, family, errs, nerrs, must);
}

/* A fault shim deciding through `sim`, with `budget` for every family a
 * program survives (as `knob faults`): the bodies here check outcomes, and a
 * failed dequeue, cancel or timer arm is a throw in Go, not an outcome. */
static shim_fault *faults_new(sim_ctx *sim, uint32_t budget) {
    shim_fault *f = shim_fault_create((shim_fault_source){sim, sim_decide}, NULL);
    ck_assert_ptr_nonnull(f);
    shim_fault_rule r = {SHIM_FAULT_BUDGET, budget, 0, 0, false};
    for (uint32_t fam = 0; fam < SHIM_FAULT_DEQUEUE; fam++) shim_fault_set_rule(f, fam, &r);
    return f;
}

static const shim *faulty(shim_fault *f, const shim *sh) {
    shim_fault_reset(f, 0);
    const shim *w = shim_fault_wrap(f, sh, HN);
    ck_assert_ptr_nonnull(w);
    return w;
}

/* 'h': an AcceptEx takes a connection its client reset. */
static void workout_accept(const shim *sh) {
    shim_sockaddr_in to;
    shim_handle l = shim_loopback_socket(sh, SHIM_SOCK_STREAM, &to), c;
    shim_handle a = sh->wsa_socket(sh->ctx, SHIM_AF_INET, SHIM_SOCK_STREAM, SHIM_IPPROTO_TCP);
    if (l == SHIM_INVALID_HANDLE || sh->listen(sh->ctx, l, 2) != 0) return;
    if (!HN->sock_connect(HN->ctx, &to, &c)) return;
    harness_abort(HN, c);
    char addrs[2 * SHIM_ACCEPT_ADDR_LEN];
    shim_overlapped ov;
    memset(&ov, 0, sizeof ov);
    uint32_t n;
    sh->accept_ex(sh->ctx, l, a, addrs, 0, SHIM_ACCEPT_ADDR_LEN, SHIM_ACCEPT_ADDR_LEN, &n, &ov);
}

static void workout(sim_ctx *s, const shim *sh, void *arg) {
    HN = sim_harness(s);
    sh = faulty(arg, sh);
    workout_port(s, sh);
    workout_sock(sh);
    workout_dgram(sh);
    workout_waitpkt(sh);
    workout_accept(sh);
}

START_TEST(test_every_outcome) {
    sim_config cfg;
    sim_config_default(&cfg);
    cfg.wait_packets = SIM_WAITPKT_CHOOSE;
    cfg.allow_leaks = true; /* the workouts reach outcomes, and leave their handles open */
    sim_ctx *sim = sim_create(&cfg);
    ck_assert_ptr_nonnull(sim);
    shim_fault *faults = faults_new(sim, 1);
    for (uint64_t seed = 0; seed < 3000; seed++) {
        sim_random rnd;
        sim_chooser ch = sim_random_chooser(&rnd, seed);
        const sim_result *r = sim_run(sim, &ch, workout, faults);
        ck_assert_msg(r->verdict == SIM_PASS, "seed %llu: %s: %s", (unsigned long long)seed, r->property, r->message);
    }
    /* outcomes (labels) each kind documents in sim.h */
    static const struct {
        sim_choice_kind k;
        uint32_t mask;
    } want[] = {
        {SIM_CHOICE_THREAD, 0x7},        {SIM_CHOICE_USER, 0x3},       {SIM_CHOICE_EVENT, 0x3},
        {SIM_CHOICE_BATCH, 0x1E},        {SIM_CHOICE_WAITER, 0x7},     {SIM_CHOICE_CONCURRENCY, 0x3},
        {SIM_CHOICE_INTERNAL, 0x3},      {SIM_CHOICE_CANCEL, 0x3},     {SIM_CHOICE_CLOSE, 0xF},
        {SIM_CHOICE_TIMEOUT, 0x7},       {SIM_CHOICE_REMOVED, 0x3},    {SIM_CHOICE_ABANDON, 0x3},
        {SIM_CHOICE_SYNC, 0x3},          {SIM_CHOICE_PARTIAL, 0xF},    {SIM_CHOICE_SKIP, 0x3},
        {SIM_CHOICE_WAITPKT_API, 0x3},   {SIM_CHOICE_SIGNAL, 0x3},     {SIM_CHOICE_WPCANCEL, 0x3},
        {SIM_CHOICE_FAULT, 0x7},         {SIM_CHOICE_JUMP, 0x3},       {SIM_CHOICE_ZEROBUFS, 0x3},
        {SIM_CHOICE_RESETRECV, 0x3},     {SIM_CHOICE_SIGNALED, 0x3},   {SIM_CHOICE_LOSS, 0x3},
        {SIM_CHOICE_MSGSKIP, 0x3},       {SIM_CHOICE_ACCEPTRESET, 0x3},
    };
    ck_assert_uint_eq(sizeof want / sizeof want[0], SIM_CHOICE__COUNT);
    const sim_stats *st = sim_get_stats(sim);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        for (uint32_t o = 0; o < SIM_STATS_OUTCOMES; o++) {
            if (!((want[i].mask >> o) & 1)) continue;
            ck_assert_msg(st->outcome[want[i].k][o] > 0, "choice '%c' (%s) never took outcome %u",
                          sim_choice_letter(want[i].k), sim_choice_name(want[i].k), o);
        }
    }
    shim_fault_destroy(faults);
    sim_destroy(sim);
}
END_TEST

/* A platform restricts every kernel choice to the alternatives seen there
 * (the README's choice table), and still leaves every outcome seen there
 * reachable. */
START_TEST(test_platforms) {
    static const uint8_t platforms[] = {SIM_PLATFORM_WINDOWS, SIM_PLATFORM_WINE, SIM_PLATFORM_REAL};
    for (size_t pi = 0; pi < sizeof platforms; pi++) {
        sim_config cfg;
        sim_config_default(&cfg);
        cfg.wait_packets = SIM_WAITPKT_CHOOSE;
        cfg.allow_leaks = true; /* the workouts leave their handles open */
        cfg.platform = platforms[pi];
        sim_ctx *sim = sim_create(&cfg);
        ck_assert_ptr_nonnull(sim);
        shim_fault *faults = faults_new(sim, 1);
        for (uint64_t seed = 0; seed < 1500; seed++) {
            sim_random rnd;
            sim_chooser ch = sim_random_chooser(&rnd, seed);
            const sim_result *r = sim_run(sim, &ch, workout, faults);
            ck_assert_msg(r->verdict == SIM_PASS, "%s seed %llu: %s: %s", sim_platform_name(platforms[pi]),
                          (unsigned long long)seed, r->property, r->message);
        }
        const sim_stats *st = sim_get_stats(sim);
        uint32_t allow = sim_platform_seen(platforms[pi]);
        for (int k = 0; k < SIM_CHOICE__COUNT; k++) {
            if (sim_choice_seen(k, 0) == SIM_SEEN_ALL) continue; /* not labelled per alternative */
            for (uint32_t o = 0; o < 4; o++) {
                bool here = (sim_choice_seen(k, o) & allow) != 0;
                ck_assert_msg(st->outcome[k][o] == 0 || here, "%s: choice '%c' took outcome %u, not seen there",
                              sim_platform_name(platforms[pi]), sim_choice_letter((sim_choice_kind)k), o);
            }
        }
        shim_fault_destroy(faults);
        sim_destroy(sim);
    }
}
END_TEST

/* Faults: only the errors each call's contract allows, and no packet. */
typedef struct fault_arg {
    shim_fault *faults;
    uint32_t seen[3];
} fault_arg;

static void fault_body(sim_ctx *s, const shim *sh, void *arg) {
    HN = sim_harness(s);
    fault_arg *fa = arg;
    uint32_t *seen = fa->seen;
    sh = faulty(fa->faults, sh);
    shim_handle p = sh->create_io_completion_port(sh->ctx, SHIM_INVALID_HANDLE, SHIM_NULL_HANDLE, 0, 0);
    if (p == SHIM_NULL_HANDLE) {
        ck_assert_uint_eq(sh->get_last_error(sh->ctx), SHIM_ERROR_NOT_ENOUGH_MEMORY);
        seen[0]++;
        return;
    }
    if (!sh->post_queued_completion_status(sh->ctx, p, 0, 1, NULL)) {
        ck_assert_uint_eq(sh->get_last_error(sh->ctx), 1450);
        seen[1]++;
    }
    shim_handle a[2];
    harness_socket_pair(HN, a);
    sh->create_io_completion_port(sh->ctx, a[0], p, 1, 0);
    char buf[4];
    shim_wsabuf wb = {4, buf};
    shim_overlapped ov;
    memset(&ov, 0, sizeof ov);
    uint32_t n, fl = 0; /* lpFlags is [in, out]: only 0 is modelled */
    if (sh->wsa_recv(sh->ctx, a[0], &wb, 1, &n, &fl, &ov) != 0 && sh->get_last_error(sh->ctx) != SHIM_ERROR_IO_PENDING) {
        uint32_t e = sh->get_last_error(sh->ctx);
        ck_assert(e == 10055 || e == SHIM_WSAECONNRESET);
        seen[2]++;
        /* not started: the OVERLAPPED is free again */
        harness_send(HN, a[1], "x", 1);
        sh->wsa_recv(sh->ctx, a[0], &wb, 1, &n, &fl, &ov);
    }
}

START_TEST(test_faults) {
    sim_config cfg;
    sim_config_default(&cfg);
    cfg.allow_leaks = true;
    sim_ctx *sim = sim_create(&cfg);
    fault_arg fa = {faults_new(sim, 2), {0, 0, 0}};
    for (uint64_t seed = 0; seed < 300; seed++) {
        sim_random rnd;
        sim_chooser ch = sim_random_chooser(&rnd, seed);
        const sim_result *r = sim_run(sim, &ch, fault_body, &fa);
        ck_assert_msg(r->verdict == SIM_PASS, "seed %llu: %s: %s", (unsigned long long)seed, r->property, r->message);
    }
    ck_assert(fa.seen[0] > 0 && fa.seen[1] > 0 && fa.seen[2] > 0);
    shim_fault_destroy(fa.faults);
    sim_destroy(sim);
    /* every rule off: no 'f' choice at all */
    sim = sim_create(NULL);
    fa.faults = faults_new(sim, 0);
    sim_chooser ch = sim_first_chooser();
    sim_run(sim, &ch, fault_body, &fa);
    ck_assert_uint_eq(sim_get_stats(sim)->asked[SIM_CHOICE_FAULT], 0);
    shim_fault_destroy(fa.faults);
    sim_destroy(sim);
}
END_TEST

int main(void) {
    Suite *s = suite_create("coverage");
    TCase *tc = tcase_create("choices");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_every_outcome);
    tcase_add_test(tc, test_platforms);
    tcase_add_test(tc, test_faults);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
