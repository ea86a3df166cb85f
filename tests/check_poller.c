/* check_poller.c - the poller on the simulated port, fuzzed over many seeds.
 *
 * Each test is a small multi-threaded program (a runtime loop thread, readers,
 * writers, a peer) run under seeded random scheduling; every seed must pass.
 * Properties are checked in the program and reported with sim_fail under the
 * names of DESIGN.md (break-delivered, close, deadline, bytes-conserved,
 * foreign-packets, no-lost-wakeup, poll-delay, no-fatal); the simulator adds
 * deadlock, overlapped-lifetime and the rest.
 *
 * Built once against the correct poller (CTest "poller") and once per mutant
 * (CTest "mutant-<name>", run with --expect-fail: passes only if some test
 * fails by an assertion, which is how a mutant is caught).
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poller/netpoll.h"
#include "sim/sim.h"

#define MS 1000000LL

/* ---- The harness ---- */

#define ENV_MAX_FDS 8

typedef struct env {
    sim_ctx *sim;
    const shim *sh;
    void *ctx;
    np_poller *p;
    shim_thread loop;
    bool looping;
    np_fd *fds[ENV_MAX_FDS]; /* every descriptor opened, freed by env_finish */
    uint32_t nfds;
    uint32_t live;           /* the poller's allocations not yet freed */
} env;

static void fatal_hook(void *arg, const char *msg) { sim_fail(arg, "no-fatal", "the poller threw: %s", msg); }
/* Arena memory goes with the execution: count it, or a leak would not show. */
static void *arena_alloc(void *arg, size_t n) {
    env *e = arg;
    e->live++;
    return sim_alloc(e->sim, n);
}
static void arena_free(void *arg, void *ptr) {
    env *e = arg;
    if (ptr != NULL) e->live--;
}

static void loop_main(void *arg) {
    env *e = arg;
    np_m *m = np_m_create(e->p);
    np_run(e->p, m);
    np_m_destroy(e->p, m);
}

static void env_init(env *e, sim_ctx *sim, const shim *sh, bool loop) {
    memset(e, 0, sizeof *e);
    e->sim = sim;
    e->sh = sh;
    e->ctx = sh->ctx;
    np_config cfg = {.procs = 1, .max_fds = 8, .fatal = fatal_hook, .fatal_arg = sim,
                     .alloc = arena_alloc, .free = arena_free, .alloc_arg = e};
    e->p = np_init(sh, &cfg);
    if (e->p == NULL) sim_fail(sim, "setup", "np_init failed: %u", sh->get_last_error(sh->ctx));
    if (loop) {
        harness_spawn(sim_harness_of(sh), &e->loop, loop_main, e, "netpoll");
        e->looping = true;
    }
}

static void env_pair(env *e, shim_handle s[2]) {
    if (!harness_socket_pair(sim_harness_of(e->sh), s)) sim_fail(e->sim, "setup", "socket_pair failed");
}

/* A listener on 127.0.0.1 (backlog 4), its port in *port; closed by the test. */
static np_fd *env_listen(env *e, uint16_t *port) {
    int err = 0;
    np_fd *l = np_fd_listen(e->p, 4, port, &err);
    if (l == NULL) sim_fail(e->sim, "setup", "np_fd_listen failed: %d", err);
    if (e->nfds == ENV_MAX_FDS) sim_fail(e->sim, "setup", "more than %u descriptors", ENV_MAX_FDS);
    e->fds[e->nfds++] = l;
    return l;
}

static np_fd *env_open(env *e, shim_handle s, bool skip) {
    int err;
    np_fd *fd = np_fd_open(e->p, s, skip, &err);
    if (fd == NULL) sim_fail(e->sim, "setup", "np_fd_open failed: %d", err);
    if (e->nfds == ENV_MAX_FDS) sim_fail(e->sim, "setup", "more than %u descriptors", ENV_MAX_FDS);
    e->fds[e->nfds++] = fd;
    return fd;
}

/* Stops the loop and checks the waiter count at quiescence. */
static void env_finish(env *e) {
    if (e->looping) {
        np_stop(e->p);
        harness_join(sim_harness_of(e->sh), &e->loop);
    }
    uint32_t w = np_waiters(e->p);
    if (w != 0) sim_fail(e->sim, "no-lost-wakeup", "netpollWaiters = %u at quiescence, expected 0", w);
    /* Every test has closed its descriptors by now; the simulator checks
     * their primitives and handles at the end, memory is checked here. */
    for (uint32_t i = 0; i < e->nfds; i++) np_fd_free(e->fds[i]);
    np_destroy(e->p);
    if (e->live != 0) sim_fail(e->sim, "no-leak", "the poller left %u allocation(s) unfreed after np_destroy", e->live);
}

/* Closes the poller's side and the peer, then env_finish. */
static void env_close(env *e, np_fd *fd, shim_handle peer) {
    np_fd_close(fd);
    e->sh->closesocket(e->ctx, peer);
    env_finish(e);
}

static void poll_once(env *e, np_m *m, int64_t delay) {
    np_list l = {0};
    int32_t d = np_poll(e->p, m, delay, &l);
    np_ready(e->p, &l);
    np_adjust_waiters(e->p, d);
}

/* Reads until `want` bytes arrived (a recv may return part of what is
 * buffered, as TCP may). Returns NP_OK or the first error. */
static int read_exact(np_fd *fd, char *buf, uint32_t want, uint32_t *got) {
    *got = 0;
    while (*got < want) {
        uint32_t n = 0;
        int r = np_fd_read(fd, buf + *got, want - *got, &n);
        if (r != NP_OK) return r;
        if (n == 0) return NP_OK; /* end of stream */
        *got += n;
    }
    return NP_OK;
}

static bool expect_fail_mode;

static void run_seeds_on(uint8_t platform, const char *name, sim_main_fn fn, uint32_t seeds);
static void run_seeds(const char *name, sim_main_fn fn, uint32_t seeds) { run_seeds_on(SIM_PLATFORM_ANY, name, fn, seeds); }
static void run_seeds_on(uint8_t platform, const char *name, sim_main_fn fn, uint32_t seeds) {
    sim_config cfg;
    sim_config_default(&cfg);
    cfg.platform = platform;
    cfg.max_steps = 200000;
    sim_ctx *sim = sim_create(&cfg);
    ck_assert_ptr_nonnull(sim);
    for (uint32_t seed = 0; seed < seeds; seed++) {
        sim_random rnd;
        sim_chooser ch = sim_random_chooser(&rnd, seed);
        const sim_result *r = sim_run(sim, &ch, fn, NULL);
        if (r->verdict != SIM_PASS) {
            size_t need = sim_schedule_format(r->decisions, r->ndecisions, NULL, 0) + 1;
            char *sched = malloc(need);
            sim_schedule_format(r->decisions, r->ndecisions, sched, need);
            if (!expect_fail_mode) sim_trace_write(sim, stderr);
            char msg[1024];
            snprintf(msg, sizeof msg, "%s: seed %u: %s: %.600s\nschedule (%u decisions): %.200s%s", name, seed,
                     r->property, r->message, r->ndecisions, sched, need > 200 ? "..." : "");
            free(sched);
            sim_destroy(sim);
            ck_abort_msg("%s", msg);
        }
    }
    sim_destroy(sim);
}

/* ---- Break ---- */

typedef struct poll_arg {
    env *e;
    int64_t delay;
    volatile uint32_t done;
} poll_arg;

static void blocking_poller(void *arg) {
    poll_arg *a = arg;
    poll_once(a->e, NULL, a->delay);
    a->e->sh->sync->atomic_store32(a->e->sh->sync->ctx, &a->done, 1);
}

static void break_blocked_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)arg;
    env e;
    env_init(&e, sim, sh, false);
    poll_arg a = {&e, -1, 0};
    shim_thread t;
    harness_spawn(sim_harness_of(sh), &t, blocking_poller, &a, "poller");
    if (sim_choose_user(sim, 2)) harness_sleep(sim_harness_of(sh), 1 * MS);
    np_break(e.p);
    harness_join(sim_harness_of(sh), &t); /* a lost break leaves the poller blocked: deadlock */
    env_finish(&e);
}
START_TEST(test_break_wakes_blocked_poll) { run_seeds("break-wakes-blocked", break_blocked_main, 400); }
END_TEST

static void nonblocking_poller(void *arg) {
    env *e = arg;
    for (int i = 0; i < 3; i++) poll_once(e, NULL, 0);
}

/* Go #42237: a non-blocking poll may take the break meant for the blocked one. */
static void break_stolen_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)arg;
    env e;
    env_init(&e, sim, sh, false);
    poll_arg a = {&e, -1, 0};
    shim_thread t1, t2;
    harness_spawn(sim_harness_of(sh), &t1, blocking_poller, &a, "blocked");
    harness_spawn(sim_harness_of(sh), &t2, nonblocking_poller, &e, "nonblock");
    np_break(e.p);
    harness_join(sim_harness_of(sh), &t2);
    harness_join(sim_harness_of(sh), &t1);
    env_finish(&e);
}
START_TEST(test_break_taken_by_nonblocking_poll) { run_seeds("break-forwarded", break_stolen_main, 1500); }
END_TEST

static void twice_poller(void *arg) {
    poll_arg *a = arg;
    poll_once(a->e, NULL, -1);
    a->e->sh->sync->atomic_store32(a->e->sh->sync->ctx, &a->done, 1);
    poll_once(a->e, NULL, -1);
}

/* The wake flag is cleared when its packet is consumed: a later break works. */
static void break_twice_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)arg;
    env e;
    env_init(&e, sim, sh, false);
    poll_arg a = {&e, -1, 0};
    shim_thread t;
    harness_spawn(sim_harness_of(sh), &t, twice_poller, &a, "poller");
    np_break(e.p);
    while (sh->sync->atomic_load32(sh->sync->ctx, &a.done) == 0) harness_sleep(sim_harness_of(sh), 1 * MS);
    np_break(e.p);
    harness_join(sim_harness_of(sh), &t);
    env_finish(&e);
}
START_TEST(test_break_twice) { run_seeds("break-twice", break_twice_main, 300); }
END_TEST

static void breaker(void *arg) {
    env *e = arg;
    np_break(e->p);
}

/* At most one break packet is queued at any time. */
static void break_flood_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)arg;
    env e;
    env_init(&e, sim, sh, false);
    shim_thread t[3];
    for (int i = 0; i < 3; i++) harness_spawn(sim_harness_of(sh), &t[i], breaker, &e, "breaker");
    for (int i = 0; i < 3; i++) harness_join(sim_harness_of(sh), &t[i]);
    uint32_t posts = 0;
    const sim_event *ev = sim_trace_events(sim);
    for (uint32_t i = 0; i < sim_trace_count(sim); i++)
        if (ev[i].kind == SIM_EV_PORT_POST) posts++;
    if (posts != 1) sim_fail(sim, "break-delivered", "%u break packets queued at once, at most 1 allowed", posts);
    poll_once(&e, NULL, 0); /* consume it */
    env_finish(&e);
}
START_TEST(test_break_at_most_one_packet) { run_seeds("break-flood", break_flood_main, 200); }
END_TEST

/* ---- Close ---- */

typedef struct io_arg {
    env *e;
    np_fd *fd;
    int result;
    uint32_t n;
    uint32_t total;
    int64_t at;
    char buf[64];
} io_arg;

static void reader_once(void *arg) {
    io_arg *a = arg;
    a->result = np_fd_read(a->fd, a->buf, sizeof a->buf, &a->n);
    a->at = a->e->sh->sync->now_ns(a->e->sh->sync->ctx);
}

static void writer_loop(void *arg) {
    io_arg *a = arg;
    for (int i = 0; i < 4; i++) {
        a->result = np_fd_write(a->fd, "abcdefgh", 8, &a->n);
        if (a->result != NP_OK) return;
    }
}

static void close_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)arg;
    env e;
    env_init(&e, sim, sh, true);
    shim_handle s[2];
    env_pair(&e, s);
    np_fd *fd = env_open(&e, s[0], false);
    io_arg r = {.e = &e, .fd = fd}, w = {.e = &e, .fd = fd};
    shim_thread tr, tw;
    harness_spawn(sim_harness_of(sh), &tr, reader_once, &r, "reader");
    harness_spawn(sim_harness_of(sh), &tw, writer_loop, &w, "writer");
    if (sim_choose_user(sim, 2)) harness_sleep(sim_harness_of(sh), 2 * MS);
    if (np_fd_close(fd) != NP_OK) sim_fail(sim, "close", "the first close failed");
    harness_join(sim_harness_of(sh), &tr);
    harness_join(sim_harness_of(sh), &tw);
    /* No data was ever sent: the reader can only have been closed. */
    if (r.result != NP_ERR_CLOSING)
        sim_fail(sim, "close", "reader got %d (%s), expected the closing error", r.result, np_strerror(r.result));
    if (w.result != NP_OK && w.result != NP_ERR_CLOSING)
        sim_fail(sim, "close", "writer got %d (%s)", w.result, np_strerror(w.result));
    if (np_fd_close(fd) != NP_ERR_CLOSING) sim_fail(sim, "close", "a second close did not fail");
    sh->closesocket(sh->ctx, s[1]);
    env_finish(&e);
}
START_TEST(test_close_wakes_reader_and_writer) { run_seeds("close", close_main, 1500); }
END_TEST

/* ---- Deadlines ---- */

static void deadline_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)arg;
    env e;
    env_init(&e, sim, sh, true);
    shim_handle s[2];
    env_pair(&e, s);
    np_fd *fd = env_open(&e, s[0], false);
    np_fd_set_deadline(fd, 50 * MS, 'r');
    io_arg r = {.e = &e, .fd = fd};
    reader_once(&r);
    if (r.result != NP_ERR_TIMEOUT) sim_fail(sim, "deadline", "read got %d, expected a timeout", r.result);
    if (r.at < 50 * MS) sim_fail(sim, "deadline", "timed out at %" PRId64 " ns, before the 50 ms deadline", r.at);
    /* Late by at most two ticks of the coarse poll timeout. */
    if (r.at > 50 * MS + 32 * MS) sim_fail(sim, "poll-delay", "timed out at %" PRId64 " ns, late", r.at);
    env_close(&e, fd, s[1]);
}
START_TEST(test_deadline_times_out) { run_seeds("deadline", deadline_main, 400); }
END_TEST

typedef struct peer_arg {
    env *e;
    shim_handle s;
    int64_t delay;
    const char *data;
    bool shutdown;
} peer_arg;

static void peer(void *arg) {
    peer_arg *a = arg;
    if (a->delay > 0) harness_sleep(sim_harness_of(a->e->sh), a->delay);
    if (a->data != NULL) harness_send(sim_harness_of(a->e->sh), a->s, a->data, (uint32_t)strlen(a->data));
    if (a->shutdown) harness_shutdown_send(sim_harness_of(a->e->sh), a->s);
}

/* Bytes that arrive exactly at the deadline are returned now or by the next
 * read, never lost (the cancel race of execIO). */
static void data_at_deadline_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)arg;
    env e;
    env_init(&e, sim, sh, true);
    shim_handle s[2];
    env_pair(&e, s);
    np_fd *fd = env_open(&e, s[0], false);
    np_fd_set_deadline(fd, 50 * MS, 'r');
    peer_arg pa = {&e, s[1], 50 * MS, "hello", true};
    shim_thread tp;
    harness_spawn(sim_harness_of(sh), &tp, peer, &pa, "peer");
    uint32_t total = 0;
    for (int i = 0; i < 10; i++) {
        char buf[16];
        uint32_t n = 0;
        int r = np_fd_read(fd, buf, sizeof buf, &n);
        if (r == NP_ERR_TIMEOUT) {
            if (sh->sync->now_ns(sh->sync->ctx) < 50 * MS) sim_fail(sim, "deadline", "timeout before the deadline");
            np_fd_set_deadline(fd, 0, 'r');
            continue;
        }
        if (r != NP_OK) sim_fail(sim, "bytes-conserved", "read failed with %d (%s)", r, np_strerror(r));
        if (n == 0) break;
        total += n;
    }
    if (total != 5) sim_fail(sim, "bytes-conserved", "read %u bytes of the 5 sent", total);
    harness_join(sim_harness_of(sh), &tp);
    env_close(&e, fd, s[1]);
}
START_TEST(test_data_at_deadline_not_lost) { run_seeds("data-at-deadline", data_at_deadline_main, 1500); }
END_TEST

/* A deadline timer of a closed descriptor never fires into the descriptor
 * that reuses its pollDesc slot. */
static void stale_timer_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)arg;
    env e;
    env_init(&e, sim, sh, true);
    shim_handle a[2], b[2];
    env_pair(&e, a);
    np_fd *fa = env_open(&e, a[0], false);
    np_fd_set_deadline(fa, 50 * MS, 'r');
    harness_sleep(sim_harness_of(sh), 50 * MS); /* wake together with the timer */
    np_fd_close(fa);
    env_pair(&e, b);
    np_fd *fb = env_open(&e, b[0], false);
    np_fd_set_deadline(fb, 10000 * MS, 'r');
    peer_arg pa = {&e, b[1], 100 * MS, "abc", false};
    shim_thread tp;
    harness_spawn(sim_harness_of(sh), &tp, peer, &pa, "peer");
    char buf[8];
    uint32_t n = 0;
    int r = read_exact(fb, buf, 3, &n);
    if (r == NP_ERR_TIMEOUT)
        sim_fail(sim, "deadline", "timeout at %" PRId64 " ns on a descriptor whose deadline is 10 s",
                 sh->sync->now_ns(sh->sync->ctx));
    if (r != NP_OK || n != 3) sim_fail(sim, "bytes-conserved", "read got %d with %u bytes", r, n);
    harness_join(sim_harness_of(sh), &tp);
    np_fd_close(fb);
    sh->closesocket(sh->ctx, a[1]);
    sh->closesocket(sh->ctx, b[1]);
    env_finish(&e);
}
START_TEST(test_stale_deadline_timer) { run_seeds("stale-timer", stale_timer_main, 1500); }
END_TEST

/* ---- Foreign completions ---- */

/* A user's own overlapped I/O on a socket the poller associated: its packet
 * carries the poller's key but an OVERLAPPED the poller does not own, whose
 * trailing bytes point at a decoy. */
typedef struct foreign_op {
    shim_overlapped ov;
    void *decoy;
    int32_t mode;
    char pad[64];
} foreign_op;

static void foreign_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)arg;
    env e;
    env_init(&e, sim, sh, true);
    shim_handle s[2];
    env_pair(&e, s);
    np_fd *fd = env_open(&e, s[0], false);
    enum { DECOY = 4096 };
    unsigned char *decoy = sim_alloc(sim, DECOY);
    foreign_op *fop = sim_alloc(sim, sizeof *fop);
    fop->decoy = decoy;
    fop->mode = 'r';
    char fbuf[1]; /* one byte: the foreign recv takes exactly the one byte sent */
    shim_wsabuf wb = {sizeof fbuf, fbuf};
    uint32_t fn = 0, flags = 0;
    int rc = sh->wsa_recv(sh->ctx, s[0], &wb, 1, &fn, &flags, &fop->ov);
    if (rc != 0 && sh->get_last_error(sh->ctx) != SHIM_ERROR_IO_PENDING) sim_fail(sim, "setup", "foreign recv failed");
    harness_send(sim_harness_of(sh), s[1], "x", 1); /* completes the foreign recv */
    harness_sleep(sim_harness_of(sh), 1 * MS);               /* the loop dequeues its packet */
    peer_arg pa = {&e, s[1], 2 * MS, "four", false};
    shim_thread tp;
    harness_spawn(sim_harness_of(sh), &tp, peer, &pa, "peer");
    char buf[8];
    uint32_t n = 0;
    int r = read_exact(fd, buf, 4, &n);
    if (r != NP_OK || n != 4 || memcmp(buf, "four", 4) != 0)
        sim_fail(sim, "foreign-packets", "the poller's read got %d with %u bytes after a foreign completion", r, n);
    for (int i = 0; i < DECOY; i++)
        if (decoy[i] != 0) sim_fail(sim, "foreign-packets", "a foreign packet's trailing bytes were used as a pollDesc");
    harness_join(sim_harness_of(sh), &tp);
    env_close(&e, fd, s[1]);
}
START_TEST(test_foreign_completion_ignored) { run_seeds("foreign", foreign_main, 400); }
END_TEST

/* ---- Reuse ---- */

static void reuse_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)arg;
    env e;
    env_init(&e, sim, sh, true);
    shim_handle a[2], b[2];
    env_pair(&e, a);
    np_fd *fa = env_open(&e, a[0], false);
    uint32_t seq = np_fd_seq(fa);
    io_arg r = {.e = &e, .fd = fa};
    shim_thread tr;
    harness_spawn(sim_harness_of(sh), &tr, reader_once, &r, "old-reader");
    if (sim_choose_user(sim, 2)) harness_sleep(sim_harness_of(sh), 1 * MS);
    np_fd_close(fa);
    env_pair(&e, b);
    np_fd *fb = env_open(&e, b[0], false);
    if (np_fd_seq(fb) == seq) sim_fail(sim, "close", "a reused pollDesc kept its sequence number");
    peer_arg pa = {&e, b[1], 0, "new", false};
    shim_thread tp;
    harness_spawn(sim_harness_of(sh), &tp, peer, &pa, "peer");
    char buf[8];
    uint32_t n = 0;
    int rr = read_exact(fb, buf, 3, &n);
    if (rr != NP_OK || n != 3 || memcmp(buf, "new", 3) != 0)
        sim_fail(sim, "close", "the reused descriptor's read got %d with %u bytes", rr, n);
    harness_join(sim_harness_of(sh), &tr);
    if (r.result != NP_ERR_CLOSING) sim_fail(sim, "close", "the old reader got %d, expected closing", r.result);
    harness_join(sim_harness_of(sh), &tp);
    np_fd_close(fb);
    sh->closesocket(sh->ctx, a[1]);
    sh->closesocket(sh->ctx, b[1]);
    env_finish(&e);
}
START_TEST(test_reused_descriptor_gets_no_old_completion) { run_seeds("reuse", reuse_main, 1500); }
END_TEST

/* ---- Synchronous completions and skip-on-success ---- */

static void sync_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)arg;
    env e;
    env_init(&e, sim, sh, true);
    shim_handle s[2];
    env_pair(&e, s);
    harness_send(sim_harness_of(sh), s[1], "0123456789", 10);
    np_fd *fd = env_open(&e, s[0], sim_choose_user(sim, 2) == 1);
    peer_arg pa = {&e, s[1], 5 * MS, NULL, true};
    shim_thread tp;
    harness_spawn(sim_harness_of(sh), &tp, peer, &pa, "peer");
    uint32_t total = 0;
    for (int i = 0; i < 12; i++) {
        char buf[4];
        uint32_t n = 0;
        int r = np_fd_read(fd, buf, sizeof buf, &n);
        if (r != NP_OK) sim_fail(sim, "bytes-conserved", "read %d failed with %d (%s)", i, r, np_strerror(r));
        if (n == 0) break;
        total += n;
    }
    if (total != 10) sim_fail(sim, "bytes-conserved", "read %u bytes of the 10 sent", total);
    harness_join(sim_harness_of(sh), &tp);
    env_close(&e, fd, s[1]);
}
START_TEST(test_synchronous_completions) { run_seeds("sync", sync_main, 1000); }
END_TEST

/* ---- Datagrams: ReadFrom and WriteTo ---- */

typedef struct dgram_late_arg {
    const shim_harness *hn;
    shim_handle q;
    shim_sockaddr_in to;
} dgram_late_arg;

static void dgram_late(void *arg) {
    dgram_late_arg *a = arg;
    a->hn->sock_sendto_sync(a->hn->ctx, a->q, "0123456789", 10, &a->to);
}

/* Go's ReadFrom on a truncated datagram: (4, WSAEMSGSIZE), the head, the sender. */
static void dgram_check_trunc(sim_ctx *sim, int rc, uint32_t n, const char *buf, const shim_sockaddr_in *from,
                              const shim_sockaddr_in *peer_addr) {
    if (rc != (int)SHIM_WSAEMSGSIZE && rc != (int)SHIM_ERROR_MORE_DATA)
        sim_fail(sim, "datagram", "a truncated datagram gave %d (%s), not WSAEMSGSIZE", rc, np_strerror(rc));
    if (n != 4 || memcmp(buf, "0123", 4) != 0) sim_fail(sim, "datagram", "a truncated datagram gave %u bytes, not its 4-byte head", n);
    if (from->port != peer_addr->port) sim_fail(sim, "datagram", "the sender's address was not given");
}

/* A 10-byte datagram into 4 bytes: (4, WSAEMSGSIZE) with the sender's
 * address, then the next datagram whole; a datagram back with WriteTo.
 * Loss is turned off here (platform wine: 'd' 1 is a what-if), so every
 * datagram arrives. */
static void dgram_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)arg;
    env e;
    env_init(&e, sim, sh, true);
    const shim_harness *hn = sim_harness_of(sh);
    shim_sockaddr_in ra, pa;
    shim_handle r = shim_loopback_socket(sh, SHIM_SOCK_DGRAM, &ra), q = shim_loopback_socket(sh, SHIM_SOCK_DGRAM, &pa);
    if (r == SHIM_INVALID_HANDLE || q == SHIM_INVALID_HANDLE) sim_fail(sim, "setup", "UDP sockets");
    int err;
    np_fd *fd = np_fd_open_dgram(e.p, r, &err);
    if (fd == NULL) sim_fail(sim, "setup", "np_fd_open_dgram failed: %d", err);
    e.fds[e.nfds++] = fd;
    bool late = sim_choose_user(sim, 2) == 1; /* the datagram before the read (at once) or after (pending) */
    if (!late) hn->sock_sendto_sync(hn->ctx, q, "0123456789", 10, &ra);
    char buf[4];
    uint32_t n = 99;
    shim_sockaddr_in from;
    memset(&from, 0, sizeof from);
    if (late) {
        shim_thread tp;
        dgram_late_arg la = {hn, q, ra};
        harness_spawn(hn, &tp, dgram_late, &la, "peer");
        int rc = np_fd_read_from(fd, buf, sizeof buf, &n, &from);
        harness_join(hn, &tp);
        dgram_check_trunc(sim, rc, n, buf, &from, &pa);
    } else {
        int rc = np_fd_read_from(fd, buf, sizeof buf, &n, &from);
        dgram_check_trunc(sim, rc, n, buf, &from, &pa);
    }
    hn->sock_sendto_sync(hn->ctx, q, "ab", 2, &ra);
    int rc = np_fd_read_from(fd, buf, sizeof buf, &n, &from);
    if (rc != NP_OK || n != 2 || memcmp(buf, "ab", 2) != 0)
        sim_fail(sim, "datagram", "the next datagram: %d, %u bytes (want 2 whole: the tail of the first is gone)", rc, n);
    if (np_fd_write_to(fd, "xyz", 3, &pa, &n) != NP_OK || n != 3) sim_fail(sim, "datagram", "WriteTo: %u", n);
    char back[8];
    int got = harness_recv(hn, q, back, sizeof back, true);
    if (got != 3 || memcmp(back, "xyz", 3) != 0) sim_fail(sim, "datagram", "the peer got %d bytes", got);
    np_fd_close(fd);
    sh->closesocket(sh->ctx, q);
    env_finish(&e);
}
START_TEST(test_datagrams) { run_seeds_on(SIM_PLATFORM_WINE, "dgram", dgram_main, 600); }
END_TEST

/* ---- Delay conversion ---- */

static void delays_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)arg;
    env e;
    env_init(&e, sim, sh, false);
    const int64_t tick = 15625000;
    /* Huge delays are clamped to 1e15 ns, not wrapped into a u32 of ms. */
    int64_t t0 = sh->sync->now_ns(sh->sync->ctx);
    poll_once(&e, NULL, 1000000000000000000LL);
    int64_t el = sh->sync->now_ns(sh->sync->ctx) - t0;
    if (el < 1000000000000000LL - tick || el > 1000000000000000LL + 2 * tick)
        sim_fail(sim, "poll-delay", "poll(1e18 ns) returned after %" PRId64 " ns, expected the 1e15 ns clamp", el);
    /* Under 1 ms rounds up to 1 ms, never 0 (a 0 ms wait would spin). */
    uint32_t before = sim_trace_count(sim);
    poll_once(&e, NULL, 500000);
    const sim_event *ev = sim_trace_events(sim);
    bool seen = false;
    for (uint32_t i = before; i < sim_trace_count(sim); i++) {
        if (ev[i].kind != SIM_EV_PORT_WAIT) continue;
        seen = true;
        if (ev[i].arg[1] != 1) sim_fail(sim, "poll-delay", "poll(500 us) waited %" PRIu64 " ms, expected 1", ev[i].arg[1]);
    }
    if (!seen) sim_fail(sim, "poll-delay", "poll(500 us) did not wait at all");
    /* Zero does not wait. */
    before = sim_trace_count(sim);
    poll_once(&e, NULL, 0);
    for (uint32_t i = before; i < sim_trace_count(sim); i++)
        if (ev[i].kind == SIM_EV_PORT_WAIT && ev[i].arg[1] != 0) sim_fail(sim, "poll-delay", "poll(0) waited");
    env_finish(&e);
}
START_TEST(test_delay_conversion) { run_seeds("delays", delays_main, 50); }
END_TEST

/* ---- The high-resolution timer path ---- */

static void timer_poller(void *arg) {
    poll_arg *a = arg;
    env *e = a->e;
    np_m *m = np_m_create(e->p);
    for (int i = 0; i < 3; i++) {
        int64_t t0 = e->sh->sync->now_ns(e->sh->sync->ctx);
        poll_once(e, m, 5 * MS);
        int64_t el = e->sh->sync->now_ns(e->sh->sync->ctx) - t0;
        /* Without the precise timer a 5 ms poll may take a whole tick or two. */
        if (el > 5 * MS + 32 * MS) sim_fail(e->sim, "poll-delay", "poll(5 ms) took %" PRId64 " ns", el);
    }
    np_m_destroy(e->p, m);
    e->sh->sync->atomic_store32(e->sh->sync->ctx, &a->done, 1);
}

static void timer_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)arg;
    env e;
    env_init(&e, sim, sh, false);
    poll_arg a = {&e, 0, 0};
    shim_thread t;
    harness_spawn(sim_harness_of(sh), &t, timer_poller, &a, "timed");
    /* Another poller may take the timer packet (any poller may). */
    while (sh->sync->atomic_load32(sh->sync->ctx, &a.done) == 0) {
        poll_once(&e, NULL, 0);
        harness_sleep(sim_harness_of(sh), 2 * MS);
    }
    harness_join(sim_harness_of(sh), &t);
    env_finish(&e);
}
START_TEST(test_high_resolution_timer) { run_seeds("timer", timer_main, 600); }
END_TEST

/* A delay under the timer's 100 ns resolution: the timer may be due before
 * the association (a time jump), which then reports it already signaled;
 * the poll must return at once, for under go-netpoll.md §1's reading (the
 * what-if 'v' 1) no timer packet will come (go-netpoll.md §1 step 3). */
static void signaled_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)arg;
    if (!(sh->caps & SHIM_CAP_WAIT_PACKETS)) return;
    env e;
    env_init(&e, sim, sh, false);
    np_m *m = np_m_create(e.p);
    for (int i = 0; i < 2; i++) {
        int64_t t0 = sh->sync->now_ns(sh->sync->ctx);
        poll_once(&e, m, 50);
        int64_t el = sh->sync->now_ns(sh->sync->ctx) - t0;
        if (el > 100000) sim_fail(sim, "poll-delay", "poll(50 ns) took %" PRId64 " ns", el);
    }
    np_m_destroy(e.p, m);
    env_finish(&e);
}
START_TEST(test_already_signaled_timer) { run_seeds("already-signaled", signaled_main, 400); }
END_TEST

/* ---- Teardown when np_init fails ---- */

/* The simulated seam with CreateIoCompletionPort failing (no memory): np_init
 * has created its locks and pollDescs by then, and must give them back. */
static shim failing_port_shim;
static const shim_harness *failing_hn;

static shim_handle no_port(void *ctx, shim_handle file, shim_handle existing, uintptr_t key, uint32_t conc) {
    (void)file;
    (void)existing;
    (void)key;
    (void)conc;
    (void)ctx;
    harness_set_last_error(failing_hn, SHIM_ERROR_NOT_ENOUGH_MEMORY);
    return SHIM_NULL_HANDLE;
}

static void init_fails_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)arg;
    failing_port_shim = *sh;
    failing_hn = sim_harness(sim);
    failing_port_shim.create_io_completion_port = no_port;
    env e;
    memset(&e, 0, sizeof e);
    e.sim = sim;
    np_config cfg = {.procs = 1, .max_fds = 8, .fatal = fatal_hook, .fatal_arg = sim,
                     .alloc = arena_alloc, .free = arena_free, .alloc_arg = &e};
    if (np_init(&failing_port_shim, &cfg) != NULL) sim_fail(sim, "setup", "np_init succeeded without a port");
    /* The simulator then checks that no mutex or semaphore is left. */
    if (e.live != 0) sim_fail(sim, "no-leak", "a failed np_init left %u allocation(s)", e.live);
}
START_TEST(test_failed_init_gives_back_everything) { run_seeds("init-fails", init_fails_main, 3); }
END_TEST

/* ---- Runner ---- */

/* The poller refuses a seam it does not understand before touching it: an
 * older layout, a missing call, a missing sync table. */
static void refuse_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)sim;
    (void)arg;
    shim bad = *sh;
    bad.version = SHIM_VERSION_1;
    ck_assert_ptr_nonnull(np_check_shim(&bad));
    ck_assert_ptr_null(np_init(&bad, NULL));
    bad = *sh;
    bad.post_queued_completion_status = NULL;
    ck_assert_ptr_null(np_init(&bad, NULL));
    bad = *sh;
    bad.sync = NULL;
    ck_assert_ptr_null(np_init(&bad, NULL));
    ck_assert_ptr_null(np_check_shim(sh));
}
/* ---- Stream sockets: accept and dial (poller/fdio_conn.c) ---- */

/* A connection reset before its accept completed is skipped: the accept
 * returns the next one (Go's TestAcceptIgnoreSomeErrors, #10785), or, on
 * Wine's alternative, reports 10057. */
static void accept_reset_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)arg;
    env e;
    env_init(&e, sim, sh, true);
    uint16_t port = 0;
    np_fd *l = env_listen(&e, &port);
    shim_sockaddr_in to = shim_addr_in(SHIM_INADDR_LOOPBACK, port);
    shim_handle c1, c2;
    const shim_harness *hn = sim_harness_of(sh);
    if (!hn->sock_connect(hn->ctx, &to, &c1) || !hn->sock_connect(hn->ctx, &to, &c2))
        sim_fail(sim, "setup", "connect failed");
    harness_abort(hn, c1); /* closes c1 */
    np_fd *a = NULL;
    int r = np_fd_accept(l, false, &a);
    /* Wine 8 fails that AcceptEx with an invalid connection (10057, choice
     * 'h' 1), which Go does not retry: its accept reports it. */
    if (r != NP_OK && r != (int)SHIM_WSAENOTCONN)
        sim_fail(sim, "accept", "accept got %d (%s), expected the second connection", r, np_strerror(r));
    if (a != NULL) {
        e.fds[e.nfds++] = a;
        np_fd_close(a);
    }
    sh->closesocket(sh->ctx, c2);
    np_fd_close(l);
    env_finish(&e);
}
START_TEST(test_accept_skips_reset_connection) { run_seeds("accept-reset", accept_reset_main, 200); }
END_TEST

/* The dial's timeout bounds the connect only: a write after it succeeds. */
static void dial_deadline_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)arg;
    env e;
    env_init(&e, sim, sh, true);
    uint16_t port = 0;
    np_fd *l = env_listen(&e, &port);
    np_fd *c = NULL;
    int r = np_fd_dial(e.p, port, 10 * MS, false, &c);
    if (r == NP_ERR_TIMEOUT) { /* the deadline won the race: nothing more to see */
        np_fd_close(l);
        env_finish(&e);
        return;
    }
    if (r != NP_OK) sim_fail(sim, "dial", "dial got %d (%s)", r, np_strerror(r));
    e.fds[e.nfds++] = c;
    harness_sleep(sim_harness_of(sh), 20 * MS);
    uint32_t n = 0;
    r = np_fd_write(c, "x", 1, &n);
    if (r != NP_OK || n != 1) sim_fail(sim, "deadline", "a write after the dial's timeout got %d (%s)", r, np_strerror(r));
    np_fd_close(c);
    np_fd_close(l);
    env_finish(&e);
}
START_TEST(test_dial_deadline_cleared) { run_seeds("dial-deadline", dial_deadline_main, 200); }
END_TEST

/* A listener's close returns once its socket is closed: a dial right after
 * it is refused, even with an accept pending at the close (Go #21856). */
typedef struct accept_arg {
    np_fd *l;
    int result;
} accept_arg;
static void acceptor(void *arg) {
    accept_arg *a = arg;
    np_fd *out = NULL;
    a->result = np_fd_accept(a->l, false, &out);
    if (out != NULL) {
        np_fd_close(out);
        np_fd_free(out);
    }
}
static void close_frees_port_main(sim_ctx *sim, const shim *sh, void *arg) {
    (void)arg;
    env e;
    env_init(&e, sim, sh, true);
    uint16_t port = 0;
    np_fd *l = env_listen(&e, &port);
    accept_arg a = {.l = l};
    shim_thread t;
    harness_spawn(sim_harness_of(sh), &t, acceptor, &a, "acceptor");
    harness_sleep(sim_harness_of(sh), 1 * MS);
    np_fd_close(l);
    np_fd *c = NULL;
    int r = np_fd_dial(e.p, port, 0, false, &c);
    if (r == NP_OK) {
        e.fds[e.nfds++] = c;
        np_fd_close(c);
        sim_fail(sim, "close", "a dial after the listener's close connected: the close returned before the socket closed");
    }
    harness_join(sim_harness_of(sh), &t);
    if (a.result != NP_ERR_CLOSING) sim_fail(sim, "close", "the pending accept got %d, not closing", a.result);
    env_finish(&e);
}
START_TEST(test_close_frees_listener_port) { run_seeds("close-frees-port", close_frees_port_main, 200); }
END_TEST

START_TEST(test_refuses_unknown_shim) {
    sim_ctx *sim = sim_create(NULL);
    sim_random rnd;
    sim_chooser ch = sim_random_chooser(&rnd, 1);
    const sim_result *r = sim_run(sim, &ch, refuse_main, NULL);
    ck_assert_msg(r->verdict == SIM_PASS, "%s", r->message);
    sim_destroy(sim);
}
END_TEST

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--expect-fail") == 0) {
            expect_fail_mode = true;
        } else {
            fprintf(stderr, "usage: %s [--expect-fail]\n", argv[0]);
            return 2;
        }
    }
    Suite *s = suite_create("poller");
    TCase *tc = tcase_create("netpoll");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_break_wakes_blocked_poll);
    tcase_add_test(tc, test_break_taken_by_nonblocking_poll);
    tcase_add_test(tc, test_break_twice);
    tcase_add_test(tc, test_break_at_most_one_packet);
    tcase_add_test(tc, test_close_wakes_reader_and_writer);
    tcase_add_test(tc, test_deadline_times_out);
    tcase_add_test(tc, test_data_at_deadline_not_lost);
    tcase_add_test(tc, test_stale_deadline_timer);
    tcase_add_test(tc, test_foreign_completion_ignored);
    tcase_add_test(tc, test_reused_descriptor_gets_no_old_completion);
    tcase_add_test(tc, test_synchronous_completions);
    tcase_add_test(tc, test_delay_conversion);
    tcase_add_test(tc, test_high_resolution_timer);
    tcase_add_test(tc, test_already_signaled_timer);
    tcase_add_test(tc, test_refuses_unknown_shim);
    tcase_add_test(tc, test_failed_init_gives_back_everything);
    tcase_add_test(tc, test_accept_skips_reset_connection);
    tcase_add_test(tc, test_dial_deadline_cleared);
    tcase_add_test(tc, test_datagrams);
    tcase_add_test(tc, test_close_frees_listener_port);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, expect_fail_mode ? CK_NORMAL : CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (expect_fail_mode) {
        /* A mutant is caught when at least one test fails (by assertion: a
         * crash would not get here). */
        printf("%s: %d test(s) caught the mutant\n", failed > 0 ? "caught" : "NOT CAUGHT", failed);
        return failed > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
    }
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
