/* check_models.c - the model trace, the recording shim and the ten properties.
 *
 * Property tests build traces by hand (a fake clock sets each event's thread
 * and time) and assert, for each property, traces that break it (the
 * property named, the events quoted) and traces that keep it (all ten
 * properties hold). The recording shim is tested over the simulator: what it
 * records, that the simulated execution is the same with and without it
 * (it adds no scheduling point and changes no result), and that the same
 * seed gives the same trace.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/props.h"
#include "models/trace.h"
#include "sim/sim.h"

#define MS 1000000LL

/* ---- Hand-built traces ---- */

typedef struct fake_clock {
    uint32_t thread;
    int64_t now;
} fake_clock;

static uint32_t fk_thread(void *s) { return ((fake_clock *)s)->thread; }
static int64_t fk_now(void *s) { return ((fake_clock *)s)->now; }

static fake_clock clk;
static model_trace *T;
static model_options opt;

static void setup(void) {
    clk = (fake_clock){0, 0};
    T = model_trace_create((model_clock){&clk, fk_thread, fk_now});
    ck_assert_ptr_nonnull(T);
    model_options_default(&opt);
}
static void teardown(void) { model_trace_destroy(T); }

/* Sets the thread and time of the events that follow. */
static void at(uint32_t thread, int64_t ns) {
    clk.thread = thread;
    clk.now = ns;
}

/* Emits an event and returns its seq. */
static uint64_t emit5(model_ev_kind k, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4) {
    model_emit(T, k, a0, a1, a2, a3, a4);
    return model_trace_count(T) - 1;
}
#define E_(k, a, b, c, d, e, ...) emit5(k, a, b, c, d, e)
#define E(...) E_(__VA_ARGS__, 0, 0, 0, 0, 0)

#define NONE UINT64_MAX /* no fd; a past deadline */
#define PORT 1
#define SOCK 2
#define PEER 3
#define KEY ((1u << 4) | 1u)   /* slot 1, source ready */
#define BREAK_KEY 2u           /* slot 0, source break */
#define PENDING 997

/* Asserts that `prop` fails, naming exactly the events `seqs`. */
static void breaks(uint32_t prop, uint32_t n, const uint64_t *seqs) {
    model_violation v;
    bool ok = model_check_one(T, &opt, prop, &v);
    ck_assert_msg(!ok, "%s holds, expected it to fail", model_property_names[prop]);
    ck_assert_str_eq(v.property, model_property_names[prop]);
    ck_assert_msg(strlen(v.message) > 10, "no message");
    ck_assert_msg(v.nevents == n, "%s: %u events named, expected %u (%s)", v.property, v.nevents, n, v.message);
    for (uint32_t i = 0; i < n; i++)
        ck_assert_msg(v.events[i] == seqs[i], "%s: event %u is [%llu], expected [%llu] (%s)", v.property, i,
                      (unsigned long long)v.events[i], (unsigned long long)seqs[i], v.message);
}
#define BREAKS(prop, ...) breaks(prop, (uint32_t)(sizeof((uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t)), (uint64_t[]){__VA_ARGS__})

/* Asserts that all ten properties hold. */
static void keeps(void) {
    model_violation v;
    bool ok = model_check(T, &opt, &v);
    ck_assert_msg(ok, "%s failed: %s", v.property, v.message);
}

enum { P_ONE, P_WAKEUP, P_BREAK, P_LIFETIME, P_BYTES, P_DEADLINE, P_CLOSE, P_POLL, P_FOREIGN, P_FATAL };

/* A port, a socket associated with slot 1's key, scenario fd 0 on it, and
 * the runtime loop (thread 9) blocked on the port. */
static void prologue(void) {
    at(0, 0);
    E(MEV_PORT_CREATE, PORT);
    E(MEV_ASSOCIATE, PORT, SOCK, KEY, 1);
    E(MEV_FD_OPEN, 0, SOCK, 1, 0);
    at(9, 0);
    E(MEV_WAIT_BEGIN, PORT, SHIM_INFINITE, 64);
}

/* A read of fd 0 on thread 1, slot `slot`, whose recv of ov1 pends. Returns the submit's seq. */
static uint64_t read_pends(uint64_t slot, int64_t t) {
    at(1, t);
    E(MEV_OP_BEGIN, slot, MOP_READ, 0, 16);
    return E(MEV_SUBMIT, SOCK, 1, 'r', PENDING);
}

/* The loop dequeues ov1's packet and blocks again. Returns the dequeue's seq. */
static uint64_t loop_dequeues(uint64_t ov, uint32_t status, uint32_t bytes, int64_t t) {
    at(9, t);
    uint64_t s = E(MEV_DEQUEUE, PORT, KEY, ov, status, bytes);
    E(MEV_WAIT_BEGIN, PORT, SHIM_INFINITE, 64);
    return s;
}

static void epilogue(int64_t t) {
    at(0, t);
    E(MEV_QUIESCENT, 0, 0);
}

/* A whole good read: the peer sends 5 bytes, the read gets them. */
START_TEST(test_good_read_keeps_all) {
    prologue();
    at(2, 0);
    E(MEV_PEER_SEND, 0, 5, 0);
    read_pends(1, 0);
    loop_dequeues(1, 0, 5, 0);
    at(1, 0);
    E(MEV_GET_RESULT, SOCK, 1, 1, 0, 5);
    E(MEV_OP_END, 1, MOP_READ, MOUT_OK, 5, 0);
    epilogue(0);
    keeps();
}
END_TEST

/* ---- one-completion ---- */

START_TEST(test_one_completion_double_dequeue) {
    prologue();
    uint64_t s = read_pends(1, 0);
    uint64_t d1 = loop_dequeues(1, 0, 5, 0);
    uint64_t d2 = loop_dequeues(1, 0, 5, 0);
    BREAKS(P_ONE, s, d1, d2);
}
END_TEST

START_TEST(test_one_completion_woken_by_another_packet) {
    prologue();
    uint64_t s = read_pends(1, 0);
    at(1, 0);
    uint64_t g = E(MEV_GET_RESULT, SOCK, 1, 0, SHIM_ERROR_IO_INCOMPLETE, 0);
    BREAKS(P_ONE, s, g);
}
END_TEST

START_TEST(test_one_completion_skip_effective_queues_none) {
    prologue();
    at(0, 0);
    E(MEV_SET_MODES, SOCK, SHIM_FILE_SKIP_COMPLETION_PORT_ON_SUCCESS, 1, 1);
    at(1, 0);
    E(MEV_OP_BEGIN, 1, MOP_READ, 0, 16);
    uint64_t s = E(MEV_SUBMIT, SOCK, 1, 'r', 0, 5);
    E(MEV_OP_END, 1, MOP_READ, MOUT_OK, 5, 0);
    uint64_t d = loop_dequeues(1, 0, 5, 0);
    BREAKS(P_ONE, s, d);
}
END_TEST

START_TEST(test_one_completion_op_never_ends) {
    prologue();
    uint64_t begin = read_pends(1, 0) - 1;
    loop_dequeues(1, 0, 5, 0);
    at(0, 10 * MS);
    uint64_t q = E(MEV_QUIESCENT, 0, 0);
    BREAKS(P_ONE, begin, q);
}
END_TEST

START_TEST(test_one_completion_ineffective_skip_keeps) {
    /* Provider not IFS: the synchronous success still queues a packet, which the read waits for. */
    prologue();
    at(0, 0);
    E(MEV_PEER_SEND, 0, 5, 0);
    E(MEV_SET_MODES, SOCK, SHIM_FILE_SKIP_COMPLETION_PORT_ON_SUCCESS, 1, 0);
    at(1, 0);
    E(MEV_OP_BEGIN, 1, MOP_READ, 0, 16);
    E(MEV_SUBMIT, SOCK, 1, 'r', 0, 5);
    loop_dequeues(1, 0, 5, 0);
    at(1, 0);
    E(MEV_GET_RESULT, SOCK, 1, 1, 0, 5);
    E(MEV_OP_END, 1, MOP_READ, MOUT_OK, 5, 0);
    epilogue(0);
    keeps();
}
END_TEST

/* ---- no-lost-wakeup ---- */

START_TEST(test_no_lost_wakeup) {
    prologue();
    at(0, 0);
    uint64_t q = E(MEV_QUIESCENT, 1, 0);
    BREAKS(P_WAKEUP, q);
    model_trace_reset(T);
    prologue();
    epilogue(0);
    keeps();
}
END_TEST

/* ---- break-delivered ---- */

START_TEST(test_break_two_packets_queued) {
    prologue();
    at(3, 0);
    uint64_t p1 = E(MEV_POST, PORT, BREAK_KEY, 0, 0, 1);
    at(4, 0);
    uint64_t p2 = E(MEV_POST, PORT, BREAK_KEY, 0, 0, 1);
    BREAKS(P_BREAK, p1, p2);
}
END_TEST

START_TEST(test_break_lost) {
    /* The loop blocks for 50 ms; a break at 10 ms posts nothing (the flag
     * was left set): the loop only wakes by its timeout. */
    at(0, 0);
    E(MEV_PORT_CREATE, PORT);
    at(9, 0);
    uint64_t w = E(MEV_WAIT_BEGIN, PORT, 50, 64);
    at(3, 10 * MS);
    E(MEV_OP_BEGIN, 1, MOP_BREAK, NONE, 0);
    uint64_t b = E(MEV_OP_END, 1, MOP_BREAK, MOUT_OK, 0);
    at(9, 50 * MS);
    uint64_t f = E(MEV_DEQUEUE_FAIL, PORT, SHIM_WAIT_TIMEOUT, 50);
    BREAKS(P_BREAK, b, w, f);
}
END_TEST

START_TEST(test_break_delivered_keeps) {
    at(0, 0);
    E(MEV_PORT_CREATE, PORT);
    at(9, 0);
    E(MEV_WAIT_BEGIN, PORT, 50, 64);
    at(3, 10 * MS);
    E(MEV_OP_BEGIN, 1, MOP_BREAK, NONE, 0);
    E(MEV_POST, PORT, BREAK_KEY, 0, 0, 1);
    E(MEV_OP_END, 1, MOP_BREAK, MOUT_OK, 0);
    at(9, 10 * MS);
    E(MEV_DEQUEUE, PORT, BREAK_KEY, 0, 0, 0);
    /* A second break while the loop is still awake with the first one finds
     * the flag set and posts nothing: the loop re-checks before blocking. */
    at(4, 10 * MS);
    E(MEV_OP_BEGIN, 2, MOP_BREAK, NONE, 0);
    E(MEV_OP_END, 2, MOP_BREAK, MOUT_OK, 0);
    at(9, 10 * MS);
    E(MEV_WAIT_BEGIN, PORT, 50, 64);
    at(9, 60 * MS);
    E(MEV_DEQUEUE_FAIL, PORT, SHIM_WAIT_TIMEOUT, 50);
    epilogue(60 * MS);
    keeps();
}
END_TEST

/* ---- overlapped-lifetime ---- */

START_TEST(test_lifetime_resubmit_while_queued) {
    prologue();
    uint64_t s1 = read_pends(1, 0);
    at(1, 0);
    uint64_t s2 = E(MEV_SUBMIT, SOCK, 1, 'r', PENDING);
    BREAKS(P_LIFETIME, s1, s2);
}
END_TEST

START_TEST(test_lifetime_released_while_queued) {
    /* The deadline fires, CancelIoEx finds nothing (the I/O finished), and
     * the read returns without waiting for the packet (cancel-skip-wait). */
    prologue();
    at(0, 0);
    E(MEV_DEADLINE, 0, 'r', 50 * MS);
    uint64_t s = read_pends(1, 0);
    at(1, 50 * MS);
    E(MEV_CANCEL, SOCK, 1, 0, SHIM_ERROR_NOT_FOUND);
    uint64_t end = E(MEV_OP_END, 1, MOP_READ, MOUT_TIMEOUT, 0);
    BREAKS(P_LIFETIME, s, end);
}
END_TEST

START_TEST(test_lifetime_cancelled_and_consumed_keeps) {
    prologue();
    at(0, 0);
    E(MEV_DEADLINE, 0, 'r', 50 * MS);
    read_pends(1, 0);
    at(1, 50 * MS);
    E(MEV_CANCEL, SOCK, 1, 1, 0);
    loop_dequeues(1, SHIM_STATUS_CANCELLED, 0, 50 * MS);
    at(1, 50 * MS);
    E(MEV_GET_RESULT, SOCK, 1, 0, SHIM_ERROR_OPERATION_ABORTED, 0);
    E(MEV_OP_END, 1, MOP_READ, MOUT_TIMEOUT, 0);
    epilogue(50 * MS);
    keeps();
}
END_TEST

/* ---- bytes-conserved ---- */

START_TEST(test_bytes_lost_on_timeout) {
    /* The I/O completed with 5 bytes before the cancel, but the read
     * reported the timeout (cancel-no-result). */
    prologue();
    at(0, 0);
    E(MEV_DEADLINE, 0, 'r', 50 * MS);
    at(2, 50 * MS);
    E(MEV_PEER_SEND, 0, 5, 0);
    uint64_t s = read_pends(1, 0);
    at(1, 50 * MS);
    E(MEV_CANCEL, SOCK, 1, 0, SHIM_ERROR_NOT_FOUND);
    uint64_t d = loop_dequeues(1, 0, 5, 50 * MS);
    at(1, 50 * MS);
    uint64_t end = E(MEV_OP_END, 1, MOP_READ, MOUT_TIMEOUT, 0);
    BREAKS(P_BYTES, s, d, end);
}
END_TEST

START_TEST(test_bytes_skipped) {
    prologue();
    at(2, 0);
    E(MEV_PEER_SEND, 0, 10, 0);
    at(1, 0);
    E(MEV_OP_BEGIN, 1, MOP_READ, 0, 4);
    uint64_t r1 = E(MEV_OP_END, 1, MOP_READ, MOUT_OK, 4, 0);
    E(MEV_OP_BEGIN, 2, MOP_READ, 0, 4);
    uint64_t r2 = E(MEV_OP_END, 2, MOP_READ, MOUT_OK, 3, 6);
    BREAKS(P_BYTES, r1, r2);
}
END_TEST

START_TEST(test_bytes_lost_before_eof) {
    prologue();
    at(2, 0);
    uint64_t send = E(MEV_PEER_SEND, 0, 10, 0);
    E(MEV_PEER_SHUTDOWN, 0);
    at(1, 0);
    E(MEV_OP_BEGIN, 1, MOP_READ, 0, 4);
    E(MEV_OP_END, 1, MOP_READ, MOUT_OK, 4, 0);
    E(MEV_OP_BEGIN, 2, MOP_READ, 0, 4);
    uint64_t eof = E(MEV_OP_END, 2, MOP_READ, MOUT_EOF, 0, 4);
    epilogue(0);
    BREAKS(P_BYTES, send, eof);
}
END_TEST

START_TEST(test_bytes_in_order_to_eof_keeps) {
    prologue();
    at(2, 0);
    E(MEV_PEER_SEND, 0, 6, 0);
    E(MEV_PEER_SEND, 0, 4, 6);
    E(MEV_PEER_SHUTDOWN, 0);
    at(1, 0);
    E(MEV_OP_BEGIN, 1, MOP_READ, 0, 4);
    E(MEV_OP_END, 1, MOP_READ, MOUT_OK, 4, 0);
    E(MEV_OP_BEGIN, 1, MOP_READ, 0, 8);
    E(MEV_OP_END, 1, MOP_READ, MOUT_OK, 6, 4);
    E(MEV_OP_BEGIN, 1, MOP_READ, 0, 8);
    E(MEV_OP_END, 1, MOP_READ, MOUT_EOF, 0, 10);
    epilogue(0);
    keeps();
}
END_TEST

/* ---- poll-delay (c): the runtime loop's own waits ---- */

/* Issue 11 item 19: the loop (thread 9, in no announced poll) waits
 * 3,186,109,392 ms: more than any delay converts to under Go's clamp. */
START_TEST(test_poll_delay_loop_wait_unclamped) {
    prologue();
    at(9, 1 * MS);
    uint64_t w = E(MEV_WAIT_BEGIN, PORT, 3186109392u, 64);
    BREAKS(P_POLL, w);
}
END_TEST

/* The clamp itself (1e9 ms) and INFINITE are waits Go makes. */
START_TEST(test_poll_delay_loop_wait_clamped_keeps) {
    prologue();
    at(9, 1 * MS);
    E(MEV_WAIT_BEGIN, PORT, 1000000000u, 64);
    E(MEV_WAIT_BEGIN, PORT, SHIM_INFINITE, 64);
    epilogue(1 * MS);
    keeps();
}
END_TEST

/* ---- deadline ---- */

START_TEST(test_deadline_timeout_too_early) {
    prologue();
    at(0, 0);
    uint64_t d = E(MEV_DEADLINE, 0, 'r', 50 * MS);
    at(1, 0);
    uint64_t b = E(MEV_OP_BEGIN, 1, MOP_READ, 0, 16);
    at(1, 40 * MS);
    uint64_t end = E(MEV_OP_END, 1, MOP_READ, MOUT_TIMEOUT, 0);
    BREAKS(P_DEADLINE, d, b, end);
}
END_TEST

/* Issue 11 item 18: thread 0 records a later deadline (4 ms) for fd 0 and
 * is preempted before its np_fd_set_deadline; the poller still holds the
 * earlier one (1 ms, already past), under which thread 1's read times out
 * at 2 ms. Until the set returns (MEV_DEADLINE_SET) both deadlines count. */
START_TEST(test_deadline_not_yet_set_counts_old) {
    prologue();
    at(0, 0);
    E(MEV_DEADLINE, 0, 'r', 1 * MS);
    E(MEV_DEADLINE_SET, 0, 'r');
    at(0, 1 * MS);
    E(MEV_DEADLINE, 0, 'r', 4 * MS); /* recorded; the poller call has not returned */
    at(1, 1 * MS);
    E(MEV_OP_BEGIN, 1, MOP_READ, 0, 16);
    at(1, 2 * MS);
    E(MEV_OP_END, 1, MOP_READ, MOUT_TIMEOUT, 0);
    at(0, 2 * MS);
    E(MEV_DEADLINE_SET, 0, 'r');
    epilogue(2 * MS);
    keeps();
}
END_TEST

/* Once the set has returned, only the new deadline is the poller's: a
 * timeout before it is a bug again. */
START_TEST(test_deadline_set_then_early_timeout) {
    prologue();
    at(0, 0);
    E(MEV_DEADLINE, 0, 'r', 1 * MS);
    E(MEV_DEADLINE_SET, 0, 'r');
    at(0, 1 * MS);
    uint64_t d = E(MEV_DEADLINE, 0, 'r', 4 * MS);
    E(MEV_DEADLINE_SET, 0, 'r');
    at(1, 1 * MS);
    uint64_t b = E(MEV_OP_BEGIN, 1, MOP_READ, 0, 16);
    at(1, 2 * MS);
    uint64_t end = E(MEV_OP_END, 1, MOP_READ, MOUT_TIMEOUT, 0);
    BREAKS(P_DEADLINE, d, b, end);
}
END_TEST

/* Two threads set fd 0's read deadline at once: thread 0 notes 1 ms, thread
 * 2 notes 4 ms, thread 2's np_fd_set_deadline returns first and thread 0's
 * last, so the poller holds 1 ms although 4 ms was noted last. Both calls
 * have returned when thread 1's read begins; its timeout at 2 ms is right.
 * The deadline takes effect at the call: of overlapping sets any may be the
 * last to land. */
START_TEST(test_deadline_overlapping_sets_last_call_wins) {
    prologue();
    at(0, 0);
    E(MEV_DEADLINE, 0, 'r', 1 * MS);
    at(2, 0);
    E(MEV_DEADLINE, 0, 'r', 4 * MS);
    E(MEV_DEADLINE_SET, 0, 'r');
    at(0, 0);
    E(MEV_DEADLINE_SET, 0, 'r');
    at(1, 1 * MS);
    E(MEV_OP_BEGIN, 1, MOP_READ, 0, 16);
    at(1, 2 * MS);
    E(MEV_OP_END, 1, MOP_READ, MOUT_TIMEOUT, 0);
    epilogue(2 * MS);
    keeps();
}
END_TEST

/* Clause (b) at the call, not the note: thread 1 noted "past" last, but
 * thread 0's set of a far deadline, noted first, landed after thread 1's;
 * thread 1's read then finds no expired deadline and reads its bytes. */
START_TEST(test_deadline_past_overtaken_by_other_set) {
    prologue();
    at(2, 0);
    E(MEV_PEER_SEND, 0, 2, 0);
    at(0, 0);
    E(MEV_DEADLINE, 0, 'r', 50 * MS);
    at(1, 0);
    E(MEV_DEADLINE, 0, 'r', NONE);
    E(MEV_DEADLINE_SET, 0, 'r');
    at(0, 0);
    E(MEV_DEADLINE_SET, 0, 'r');
    at(1, 0);
    E(MEV_OP_BEGIN, 1, MOP_READ, 0, 8);
    E(MEV_OP_END, 1, MOP_READ, MOUT_OK, 2, 0);
    epilogue(1 * MS);
    keeps();
}
END_TEST

/* ... and a set by another thread while the read runs may land before the
 * read's prepare looks at the deadline. */
START_TEST(test_deadline_past_replaced_while_running) {
    prologue();
    at(2, 0);
    E(MEV_PEER_SEND, 0, 2, 0);
    at(1, 0);
    E(MEV_DEADLINE, 0, 'r', NONE);
    E(MEV_DEADLINE_SET, 0, 'r');
    E(MEV_OP_BEGIN, 1, MOP_READ, 0, 8);
    at(0, 0);
    E(MEV_DEADLINE, 0, 'r', 0);
    E(MEV_DEADLINE_SET, 0, 'r');
    at(1, 0);
    E(MEV_OP_END, 1, MOP_READ, MOUT_OK, 2, 0);
    epilogue(1 * MS);
    keeps();
}
END_TEST

START_TEST(test_deadline_timeout_without_deadline) {
    prologue();
    at(1, 0);
    uint64_t b = E(MEV_OP_BEGIN, 1, MOP_READ, 0, 16);
    at(1, 40 * MS);
    uint64_t end = E(MEV_OP_END, 1, MOP_READ, MOUT_TIMEOUT, 0);
    BREAKS(P_DEADLINE, b, end);
}
END_TEST

START_TEST(test_deadline_past_ignored) {
    /* The reader's own thread set the deadline to past: prepare must fail. */
    prologue();
    at(2, 0);
    E(MEV_PEER_SEND, 0, 2, 0);
    at(1, 0);
    uint64_t d = E(MEV_DEADLINE, 0, 'r' + 'w', NONE);
    E(MEV_DEADLINE_SET, 0, 'r' + 'w'); /* the interpreter records the set's return */
    uint64_t b = E(MEV_OP_BEGIN, 1, MOP_READ, 0, 8);
    uint64_t end = E(MEV_OP_END, 1, MOP_READ, MOUT_OK, 2, 0);
    BREAKS(P_DEADLINE, d, b, end);
}
END_TEST

START_TEST(test_deadline_closed_without_close) {
    prologue();
    at(1, 0);
    uint64_t b = E(MEV_OP_BEGIN, 1, MOP_READ, 0, 16);
    uint64_t end = E(MEV_OP_END, 1, MOP_READ, MOUT_CLOSED, 0);
    BREAKS(P_DEADLINE, b, end);
}
END_TEST

START_TEST(test_deadline_keeps) {
    /* Times out at its deadline; a deadline moved later while it ran still
     * counts (its timer may have fired first); a past deadline set by
     * another thread may not have reached the poller yet. */
    prologue();
    at(0, 0);
    E(MEV_DEADLINE, 0, 'r', 50 * MS);
    read_pends(1, 0);
    at(0, 30 * MS);
    E(MEV_DEADLINE, 0, 'r', 100 * MS);
    at(1, 50 * MS);
    E(MEV_CANCEL, SOCK, 1, 1, 0);
    loop_dequeues(1, SHIM_STATUS_CANCELLED, 0, 50 * MS);
    at(1, 50 * MS);
    E(MEV_GET_RESULT, SOCK, 1, 0, SHIM_ERROR_OPERATION_ABORTED, 0);
    E(MEV_OP_END, 1, MOP_READ, MOUT_TIMEOUT, 0);
    at(2, 60 * MS);
    E(MEV_PEER_SEND, 0, 2, 0);
    at(0, 60 * MS);
    E(MEV_DEADLINE, 0, 'r', NONE);
    at(1, 60 * MS);
    E(MEV_OP_BEGIN, 2, MOP_READ, 0, 16);
    E(MEV_OP_END, 2, MOP_READ, MOUT_OK, 2, 0);
    epilogue(60 * MS);
    keeps();
}
END_TEST

/* ---- close ---- */

START_TEST(test_close_then_read_succeeds) {
    prologue();
    at(1, 0);
    E(MEV_OP_BEGIN, 1, MOP_CLOSE, 0, 0);
    uint64_t c = E(MEV_OP_END, 1, MOP_CLOSE, MOUT_OK, 0);
    at(2, 0);
    E(MEV_PEER_SEND, 0, 1, 0);
    at(1, 0);
    uint64_t b = E(MEV_OP_BEGIN, 2, MOP_READ, 0, 8);
    uint64_t end = E(MEV_OP_END, 2, MOP_READ, MOUT_OK, 1, 0);
    BREAKS(P_CLOSE, c, b, end);
}
END_TEST

START_TEST(test_close_socket_with_packet_queued) {
    /* close-no-wait: the socket is closed under a pending read. */
    prologue();
    uint64_t s = read_pends(1, 0);
    at(5, 1 * MS);
    E(MEV_OP_BEGIN, 2, MOP_CLOSE, 0, 0);
    uint64_t cs = E(MEV_CLOSESOCKET, SOCK, 0);
    BREAKS(P_CLOSE, s, cs);
}
END_TEST

START_TEST(test_close_packet_reaches_reused_slot) {
    prologue();
    uint64_t s = read_pends(1, 0);
    at(0, 1 * MS);
    uint64_t a = E(MEV_ASSOCIATE, PORT, 7, KEY, 1); /* slot 1 handed to socket h7 */
    uint64_t d = loop_dequeues(1, SHIM_STATUS_CANCELLED, 0, 1 * MS);
    BREAKS(P_CLOSE, s, a, d);
}
END_TEST

START_TEST(test_close_keeps) {
    /* The reader is evicted, cancels, consumes its packet; then the socket
     * is closed and the slot reused; a later read and a second close fail
     * with closed. */
    prologue();
    read_pends(1, 0);
    at(5, 1 * MS);
    E(MEV_OP_BEGIN, 2, MOP_CLOSE, 0, 0);
    at(1, 1 * MS);
    E(MEV_CANCEL, SOCK, 1, 1, 0);
    loop_dequeues(1, SHIM_STATUS_CANCELLED, 0, 1 * MS);
    at(1, 1 * MS);
    E(MEV_GET_RESULT, SOCK, 1, 0, SHIM_ERROR_OPERATION_ABORTED, 0);
    E(MEV_OP_END, 1, MOP_READ, MOUT_CLOSED, 0);
    at(5, 1 * MS);
    E(MEV_CLOSESOCKET, SOCK, 0);
    E(MEV_OP_END, 2, MOP_CLOSE, MOUT_OK, 0);
    E(MEV_ASSOCIATE, PORT, 7, KEY, 1);
    E(MEV_OP_BEGIN, 3, MOP_CLOSE, 0, 0);
    E(MEV_OP_END, 3, MOP_CLOSE, MOUT_CLOSED, 0);
    at(1, 1 * MS);
    E(MEV_OP_BEGIN, 4, MOP_READ, 0, 8);
    E(MEV_OP_END, 4, MOP_READ, MOUT_CLOSED, 0);
    epilogue(1 * MS);
    keeps();
}
END_TEST

/* ---- poll-delay ---- */

START_TEST(test_poll_delay_conversion) {
    /* A 0.5 ms delay must wait 1 ms, never 0 (a 0 ms wait spins). */
    at(0, 0);
    E(MEV_PORT_CREATE, PORT);
    at(1, 0);
    uint64_t b = E(MEV_OP_BEGIN, 1, MOP_POLL, NONE, 500000);
    uint64_t w = E(MEV_WAIT_BEGIN, PORT, 0, 8);
    BREAKS(P_POLL, b, w);
}
END_TEST

START_TEST(test_poll_delay_late) {
    at(0, 0);
    E(MEV_PORT_CREATE, PORT);
    at(1, 0);
    uint64_t b = E(MEV_OP_BEGIN, 1, MOP_POLL, NONE, 5 * MS);
    E(MEV_WAIT_BEGIN, PORT, 5, 8);
    at(1, 30 * MS);
    E(MEV_DEQUEUE_FAIL, PORT, SHIM_WAIT_TIMEOUT, 5);
    uint64_t end = E(MEV_OP_END, 1, MOP_POLL, MOUT_OK, 0);
    BREAKS(P_POLL, b, end);
}
END_TEST

START_TEST(test_poll_delay_keeps) {
    at(0, 0);
    E(MEV_PORT_CREATE, PORT);
    at(1, 0);
    E(MEV_OP_BEGIN, 1, MOP_POLL, NONE, 5 * MS);
    E(MEV_WAIT_BEGIN, PORT, 5, 8);
    at(1, 15625000);
    E(MEV_DEQUEUE_FAIL, PORT, SHIM_WAIT_TIMEOUT, 5);
    E(MEV_OP_END, 1, MOP_POLL, MOUT_OK, 0);
    /* Older Wine: woken for a packet another thread took at 10 ms, the wait
     * restarts its full timeout, and may end a tick after that. */
    E(MEV_OP_BEGIN, 2, MOP_POLL, NONE, 5 * MS);
    E(MEV_WAIT_BEGIN, PORT, 5, 8);
    at(2, 20 * MS);
    E(MEV_WAIT_BEGIN, PORT, 0, 8);
    E(MEV_DEQUEUE, PORT, 3, 0, 0, 0);
    at(1, 40 * MS);
    E(MEV_DEQUEUE_FAIL, PORT, SHIM_WAIT_TIMEOUT, 5);
    E(MEV_OP_END, 2, MOP_POLL, MOUT_OK, 0);
    /* Huge delays are clamped to 1e15 ns; negative ones wait for ever. */
    E(MEV_OP_BEGIN, 3, MOP_POLL, NONE, 1000000000000000000LL);
    E(MEV_WAIT_BEGIN, PORT, 1000000000, 8);
    E(MEV_OP_END, 3, MOP_POLL, MOUT_OK, 0);
    E(MEV_OP_BEGIN, 4, MOP_POLL, NONE, NONE);
    E(MEV_WAIT_BEGIN, PORT, SHIM_INFINITE, 8);
    at(1, 400 * MS);
    E(MEV_DEQUEUE, PORT, BREAK_KEY, 0, 0, 0);
    E(MEV_OP_END, 4, MOP_POLL, MOUT_OK, 0);
    epilogue(400 * MS);
    keeps();
}
END_TEST

/* ---- foreign-packets ---- */

START_TEST(test_foreign_decoy_written) {
    prologue();
    at(0, 0);
    uint64_t f = E(MEV_FOREIGN, 0, 9, 0);
    BREAKS(P_FOREIGN, f);
}
END_TEST

START_TEST(test_foreign_packet_wakes_read) {
    /* The user's own recv (ov9) completes with the socket's key; the
     * poller's read wakes on it and finds its own I/O still in flight. */
    prologue();
    at(0, 0);
    E(MEV_SUBMIT, SOCK, 9, 'r', PENDING);
    uint64_t s = read_pends(1, 0);
    uint64_t d = loop_dequeues(9, 0, 1, 0);
    at(1, 0);
    uint64_t g = E(MEV_GET_RESULT, SOCK, 1, 0, SHIM_ERROR_IO_INCOMPLETE, 0);
    BREAKS(P_FOREIGN, d, s, g);
    /* The blame is foreign-packets', not one-completion's. */
    model_violation v;
    ck_assert(model_check_one(T, &opt, P_ONE, &v));
}
END_TEST

START_TEST(test_foreign_ignored_keeps) {
    prologue();
    at(0, 0);
    E(MEV_SUBMIT, SOCK, 9, 'r', PENDING);
    at(2, 0);
    E(MEV_PEER_SEND, 0, 4, 0);
    read_pends(1, 0);
    loop_dequeues(9, 0, 1, 0);
    loop_dequeues(1, 0, 4, 0);
    at(1, 0);
    E(MEV_GET_RESULT, SOCK, 1, 1, 0, 4);
    E(MEV_OP_END, 1, MOP_READ, MOUT_OK, 4, 0);
    epilogue(0);
    E(MEV_FOREIGN, 0, 9, 1);
    keeps();
}
END_TEST

/* ---- no-fatal ---- */

START_TEST(test_no_fatal) {
    prologue();
    at(9, 0);
    uint64_t f = model_trace_count(T);
    model_emit_text(T, MEV_FATAL, "runtime: netpoll failed");
    BREAKS(P_FATAL, f);
    model_violation v;
    model_check(T, &opt, &v);
    ck_assert(strstr(v.message, "runtime: netpoll failed") != NULL);
}
END_TEST

/* model_check reports the first violated property in name order. */
START_TEST(test_first_in_name_order) {
    prologue();
    at(9, 0);
    model_emit_text(T, MEV_FATAL, "boom");
    at(0, 0);
    uint64_t q = E(MEV_QUIESCENT, 2, 0);
    model_violation v;
    ck_assert(!model_check(T, &opt, &v));
    ck_assert_str_eq(v.property, "no-lost-wakeup");
    ck_assert_uint_eq(v.nevents, 1);
    ck_assert_uint_eq(v.events[0], q);
    ck_assert(!model_check_one(T, &opt, P_FATAL, &v));
    ck_assert_str_eq(v.property, "no-fatal");
    ck_assert(model_check_one(T, &opt, MODEL_PROPERTIES, &v)); /* out of range: nothing to check */
}
END_TEST

/* ---- The trace itself ---- */

START_TEST(test_ordinals_and_reset) {
    shim_overlapped a, b;
    ck_assert_uint_eq(model_ov(T, NULL), 0);
    ck_assert_uint_eq(model_ov(T, &b), 1);
    ck_assert_uint_eq(model_ov(T, &a), 2);
    ck_assert_uint_eq(model_ov(T, &b), 1);
    ck_assert_uint_eq(model_handle(T, SHIM_NULL_HANDLE), 0);
    ck_assert_uint_eq(model_handle(T, SHIM_INVALID_HANDLE), 0);
    ck_assert_uint_eq(model_handle(T, 0x4242), 1);
    ck_assert_uint_eq(model_handle(T, 7), 2);
    /* Many more: the table grows and keeps every ordinal. */
    static shim_overlapped many[3000];
    for (uint32_t i = 0; i < 3000; i++) ck_assert_uint_eq(model_ov(T, &many[i]), i + 3);
    for (uint32_t i = 0; i < 3000; i += 7) ck_assert_uint_eq(model_ov(T, &many[i]), i + 3);
    ck_assert_uint_eq(model_ov(T, &a), 2);
    model_emit_text(T, MEV_NOTE, "before reset");
    model_trace_reset(T);
    ck_assert_uint_eq(model_trace_count(T), 0);
    ck_assert_uint_eq(model_ov(T, &a), 1); /* numbered afresh */
    ck_assert_uint_eq(model_handle(T, 7), 1);
    /* Texts are owned by the trace, and survive growth. */
    char big[6000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    for (int i = 0; i < 200; i++) model_emit_text(T, MEV_NOTE, i == 100 ? big : "a note");
    const model_event *ev = model_trace_events(T);
    ck_assert_str_eq(ev[0].text, "a note");
    ck_assert_uint_eq(strlen(ev[100].text), sizeof big - 1);
    ck_assert_str_eq(ev[199].text, "a note");
    ck_assert_uint_eq(ev[199].seq, 199);
}
END_TEST

START_TEST(test_format) {
    at(3, 15625000);
    E(MEV_DEQUEUE, 1, 0x11, 3, SHIM_STATUS_CANCELLED, 0);
    at(1, 0);
    E(MEV_OP_END, 4, MOP_READ, MOUT_OK, 5, 10);
    E(MEV_POST, 1, 2, 0, 0, 1);
    E(MEV_WAIT_BEGIN, 1, SHIM_INFINITE, 64);
    model_emit_text(T, MEV_FATAL, "runtime: netpoll failed");
    const model_event *ev = model_trace_events(T);
    char line[256];
    size_t n = model_event_format(&ev[0], line, sizeof line);
    ck_assert_str_eq(line, "[0] 15.625000ms t3 dequeue port h1 key 0x11 ov3 status 0xC0000120 bytes 0");
    ck_assert_uint_eq(n, strlen(line));
    model_event_format(&ev[1], line, sizeof line);
    ck_assert_str_eq(line, "[1] 0.000000ms t1 op_end #4 read ok 5 offset 10");
    model_event_format(&ev[2], line, sizeof line);
    ck_assert_str_eq(line, "[2] 0.000000ms t1 post port h1 key 0x2 null bytes 0 ok");
    model_event_format(&ev[3], line, sizeof line);
    ck_assert_str_eq(line, "[3] 0.000000ms t1 wait port h1 timeout infinite batch 64");
    n = model_event_format(&ev[4], line, 10); /* truncated, snprintf-style length */
    ck_assert_uint_eq(strlen(line), 9);
    ck_assert_uint_eq(n, strlen("[4] 0.000000ms t1 fatal runtime: netpoll failed"));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    model_trace_write(T, f);
    fclose(f);
    ck_assert(strstr(buf, "dequeue port h1 key 0x11 ov3 status 0xC0000120 bytes 0\n[1] ") != NULL);
    ck_assert(strstr(buf, "fatal runtime: netpoll failed\n") != NULL);
    free(buf);
}
END_TEST

/* ---- The recording shim over the simulator ---- */

typedef struct rec_env {
    model_trace *trace; /* NULL: run on the bare simulated shim */
    shim rec;
    /* what the calls returned, to compare runs with and without the recorder */
    uint32_t results[16];
    uint32_t nresults;
} rec_env;

static void note(rec_env *r, uint32_t v) {
    if (r->nresults < 16) r->results[r->nresults++] = v;
}

typedef struct waiter_arg {
    const shim *sh;
    shim_handle port;
    uintptr_t key;
} waiter_arg;

static void waiter(void *arg) {
    waiter_arg *w = arg;
    shim_overlapped_entry e[2];
    uint32_t n = 0;
    if (w->sh->get_queued_completion_status_ex(w->sh->ctx, w->port, e, 2, &n, SHIM_INFINITE, false)) w->key = e[0].key;
}

static void rec_main(sim_ctx *sim, const shim *inner, void *arg) {
    rec_env *r = arg;
    const shim *sh = inner;
    if (r->trace != NULL) {
        model_record_wrap(&r->rec, inner, r->trace);
        sh = &r->rec;
    }
    void *c = sh->ctx;
    shim_handle port = sh->create_io_completion_port(c, SHIM_INVALID_HANDLE, SHIM_NULL_HANDLE, 0, 0);
    /* A waiter on its own thread gets a posted packet. */
    waiter_arg wa = {sh, port, 0};
    shim_thread t;
    harness_spawn(sim_harness(sim), &t, waiter, &wa, "waiter");
    harness_sleep(sim_harness(sim), 1 * MS);
    static shim_overlapped posted;
    note(r, sh->post_queued_completion_status(c, port, 7, 0x33, &posted));
    harness_join(sim_harness(sim), &t);
    note(r, (uint32_t)wa.key);
    /* An empty port: a 0 ms wait fails with WAIT_TIMEOUT, and the last error survives the recorder. */
    shim_overlapped_entry e[4];
    uint32_t n = 0;
    note(r, sh->get_queued_completion_status_ex(c, port, e, 4, &n, 0, false));
    note(r, sh->get_last_error(c));
    /* A socket pair: a recv pends until the peer sends. */
    shim_handle s[2];
    harness_socket_pair(sim_harness(sim), s);
    note(r, sh->create_io_completion_port(c, s[0], port, 0x11, 0) == port);
    static shim_overlapped rov;
    char buf[8];
    shim_wsabuf wb = {sizeof buf, buf};
    uint32_t got = 0, flags = 0;
    int rc = sh->wsa_recv(c, s[0], &wb, 1, &got, &flags, &rov);
    note(r, rc == 0 ? 0 : sh->get_last_error(c));
    harness_send(sim_harness(sim), s[1], "hello", 5);
    uint32_t bytes = 0;
    uintptr_t key = 0;
    shim_overlapped *ov = NULL;
    note(r, sh->get_queued_completion_status(c, port, &bytes, &key, &ov, SHIM_INFINITE));
    note(r, ov == &rov);
    uint32_t res = 0;
    note(r, sh->wsa_get_overlapped_result(c, s[0], &rov, &res, false, &flags));
    note(r, res == bytes);
    /* A recv cancelled: its packet still comes, with STATUS_CANCELLED; a second cancel finds nothing. */
    sh->wsa_recv(c, s[0], &wb, 1, &got, &flags, &rov);
    note(r, sh->cancel_io_ex(c, s[0], &rov));
    note(r, sh->get_queued_completion_status_ex(c, port, e, 4, &n, SHIM_INFINITE, false));
    note(r, !sh->cancel_io_ex(c, s[0], &rov) ? sh->get_last_error(c) : 0);
    sh->closesocket(c, s[0]);
    sh->closesocket(c, s[1]);
    sh->close_handle(c, port);
}

static const sim_result *run_rec(sim_ctx *sim, rec_env *r, uint64_t seed) {
    sim_random rnd;
    sim_chooser ch = sim_random_chooser(&rnd, seed);
    r->nresults = 0;
    if (r->trace != NULL) model_trace_reset(r->trace);
    return sim_run(sim, &ch, rec_main, r);
}

static uint32_t clk_thread(void *self) { return sim_current_thread(self); }
static int64_t clk_now(void *self) { return sim_now_ns(self); }

/* The kinds and key arguments the recorder writes for rec_main. */
START_TEST(test_recorder_events) {
    sim_ctx *sim = sim_create(NULL);
    ck_assert_ptr_nonnull(sim);
    rec_env r = {0};
    r.trace = model_trace_create((model_clock){sim, clk_thread, clk_now});
    const sim_result *res = run_rec(sim, &r, 1);
    ck_assert_msg(res->verdict == SIM_PASS, "%s", res->message);
    static const uint32_t kinds[] = {
        MEV_PORT_CREATE, MEV_WAIT_BEGIN, MEV_POST, MEV_DEQUEUE,  MEV_WAIT_BEGIN,   MEV_DEQUEUE_FAIL,
        MEV_ASSOCIATE,   MEV_SUBMIT,     MEV_WAIT_BEGIN, MEV_DEQUEUE, MEV_GET_RESULT, MEV_SUBMIT,
        MEV_CANCEL,      MEV_WAIT_BEGIN, MEV_DEQUEUE, MEV_CANCEL,  MEV_CLOSESOCKET,  MEV_CLOSESOCKET,
        MEV_CLOSE_HANDLE,
    };
    uint32_t n = model_trace_count(r.trace);
    const model_event *ev = model_trace_events(r.trace);
    if (n != sizeof kinds / sizeof kinds[0]) model_trace_write(r.trace, stderr);
    ck_assert_uint_eq(n, sizeof kinds / sizeof kinds[0]);
    for (uint32_t i = 0; i < n; i++) {
        ck_assert_msg(ev[i].kind == kinds[i], "event %u is kind %u, expected %u", i, ev[i].kind, kinds[i]);
        ck_assert_uint_eq(ev[i].seq, i);
    }
    /* The waiter (thread 1) got the post (ov1, key 0x33, 7 bytes). */
    ck_assert_uint_eq(ev[1].thread, 1);
    ck_assert_uint_eq(ev[1].a[1], SHIM_INFINITE);
    ck_assert_uint_eq(ev[2].thread, 0);
    ck_assert_uint_eq(ev[2].a[1], 0x33);
    ck_assert_uint_eq(ev[2].a[2], 1);
    ck_assert_uint_eq(ev[2].a[4], 1);
    ck_assert_uint_eq(ev[3].thread, 1);
    ck_assert_uint_eq(ev[3].a[1], 0x33);
    ck_assert_uint_eq(ev[3].a[2], 1);
    ck_assert_uint_eq(ev[3].a[4], 7);
    ck_assert_int_ge(ev[3].time_ns, 1 * MS);
    /* The timeout, with its error. */
    ck_assert_uint_eq(ev[5].a[1], SHIM_WAIT_TIMEOUT);
    ck_assert_uint_eq(ev[5].a[2], 0);
    /* The association names the port h1 and the socket. */
    ck_assert_uint_eq(ev[6].a[0], ev[0].a[0]);
    ck_assert_uint_eq(ev[6].a[2], 0x11);
    ck_assert_uint_eq(ev[6].a[3], 1);
    uint64_t sock = ev[6].a[1];
    /* The pending recv of ov2, its packet, its result. */
    ck_assert_uint_eq(ev[7].a[0], sock);
    ck_assert_uint_eq(ev[7].a[1], 2);
    ck_assert_uint_eq(ev[7].a[2], 'r');
    ck_assert_uint_eq(ev[7].a[3], SHIM_ERROR_IO_PENDING);
    ck_assert_uint_eq(ev[9].a[1], 0x11);
    ck_assert_uint_eq(ev[9].a[2], 2);
    ck_assert_uint_eq(ev[9].a[3], 0);
    ck_assert(ev[9].a[4] >= 1 && ev[9].a[4] <= 5);
    ck_assert_uint_eq(ev[10].a[2], 1);
    ck_assert_uint_eq(ev[10].a[4], ev[9].a[4]);
    /* The cancel, its packet (STATUS_CANCELLED), the second cancel's NOT_FOUND. */
    ck_assert_uint_eq(ev[12].a[2], 1);
    ck_assert_uint_eq(ev[14].a[2], 2);
    ck_assert_uint_eq(ev[14].a[3], SHIM_STATUS_CANCELLED);
    ck_assert_uint_eq(ev[15].a[2], 0);
    ck_assert_uint_eq(ev[15].a[3], SHIM_ERROR_NOT_FOUND);
    ck_assert_uint_eq(ev[16].a[1], 0);
    ck_assert_uint_eq(ev[18].a[1], 1);
    /* The last error the caller saw after the recorded timeout. */
    ck_assert_uint_eq(r.results[3], SHIM_WAIT_TIMEOUT);
    ck_assert_uint_eq(r.results[12], SHIM_ERROR_NOT_FOUND);
    /* A trace of seam calls only: every property holds (most vacuously). */
    model_violation v;
    ck_assert_msg(model_check(r.trace, NULL, &v), "%s: %s", v.property, v.message);
    model_trace_destroy(r.trace);
    sim_destroy(sim);
}
END_TEST

/* The recorder adds no scheduling point and changes no result: the same
 * seed gives the same simulated execution with and without it; and the
 * same seed gives the same model trace, byte for byte. */
START_TEST(test_recorder_transparent_and_deterministic) {
    sim_config cfg;
    sim_config_default(&cfg);
    cfg.record_trace = true;
    sim_ctx *sim = sim_create(&cfg);
    ck_assert_ptr_nonnull(sim);
    model_trace *tr = model_trace_create((model_clock){sim, clk_thread, clk_now});
    for (uint64_t seed = 0; seed < 200; seed++) {
        rec_env bare = {0}, a = {0}, b = {0};
        const sim_result *r0 = run_rec(sim, &bare, seed);
        ck_assert_msg(r0->verdict == SIM_PASS, "%s", r0->message);
        uint64_t h0 = r0->trace_hash;
        uint32_t d0 = r0->ndecisions;
        a.trace = tr;
        const sim_result *r1 = run_rec(sim, &a, seed);
        ck_assert_msg(r1->trace_hash == h0, "seed %llu: the recorder changed the execution",
                      (unsigned long long)seed);
        ck_assert_uint_eq(r1->ndecisions, d0);
        ck_assert_uint_eq(a.nresults, bare.nresults);
        ck_assert(memcmp(a.results, bare.results, sizeof a.results) == 0);
        char *t1 = NULL, *t2 = NULL;
        size_t l1 = 0, l2 = 0;
        FILE *f = open_memstream(&t1, &l1);
        model_trace_write(tr, f);
        fclose(f);
        b.trace = tr;
        run_rec(sim, &b, seed);
        f = open_memstream(&t2, &l2);
        model_trace_write(tr, f);
        fclose(f);
        ck_assert_uint_gt(l1, 0);
        ck_assert_msg(l1 == l2 && memcmp(t1, t2, l1) == 0, "seed %llu: two runs gave different traces",
                      (unsigned long long)seed);
        free(t1);
        free(t2);
    }
    model_trace_destroy(tr);
    sim_destroy(sim);
}
END_TEST

/* Optional calls stay absent, caps are the inner shim's, the sync table is
 * shared whole (the recorder carries no pass-through for it). */
START_TEST(test_recorder_shape) {
    sim_config cfg;
    sim_config_default(&cfg);
    cfg.wait_packets = SIM_WAITPKT_ABSENT;
    sim_ctx *sim = sim_create(&cfg);
    const shim *in = sim_shim(sim);
    model_trace *tr = model_trace_create((model_clock){0});
    shim rec;
    ck_assert_ptr_null(model_record_wrap(&rec, in, tr));
    ck_assert_int_eq(rec.version, SHIM_VERSION_3);
    ck_assert_ptr_nonnull(rec.wsa_recv_from); /* v3: the datagram calls are recorded */
    ck_assert_ptr_nonnull(rec.wsa_send_to);
    ck_assert_uint_eq(rec.caps, in->caps);
    ck_assert(rec.ctx != in->ctx);
    ck_assert((rec.create_waitable_timer == NULL) == (in->create_waitable_timer == NULL));
    ck_assert((rec.nt_cancel_wait_completion_packet == NULL) == (in->nt_cancel_wait_completion_packet == NULL));
    ck_assert_ptr_nonnull(rec.get_queued_completion_status_ex);
    ck_assert_ptr_eq(rec.sync, in->sync);
    ck_assert_ptr_null(shim_check(&rec, SHIM_VERSION_2));
    model_trace_destroy(tr);
    sim_destroy(sim);
}
END_TEST

/* A trace told that one OS thread records (the simulator) skips its lock and
 * keeps the same events, texts and ordinals as a locked one. */
START_TEST(test_single_thread_trace_same_content) {
    model_trace *tr[2];
    for (int k = 0; k < 2; k++) {
        tr[k] = model_trace_create((model_clock){&clk, fk_thread, fk_now});
        if (k == 1) model_trace_single_thread(tr[k]);
        for (int run = 0; run < 2; run++) { /* a reset between executions, as the fuzz loop does */
            model_trace_reset(tr[k]);
            at(2, 7);
            uint64_t h = model_handle(tr[k], (shim_handle)0x1234);
            int ovs[2];
            model_emit(tr[k], MEV_PORT_CREATE, h, 0, 0, 0, 0);
            model_emit(tr[k], MEV_SUBMIT, model_handle(tr[k], (shim_handle)0x99), model_ov(tr[k], (shim_overlapped *)&ovs[1]),
                       'r', 997, 0);
            uint32_t at_ = model_emit_at(tr[k], MEV_POST, h, 5, model_ov(tr[k], (shim_overlapped *)&ovs[0]), 0, 1);
            model_patch(tr[k], at_, 4, 0);
            model_handle_set_aux(tr[k], h, 3);
            model_handle_retire(tr[k], (shim_handle)0x1234);
            model_emit(tr[k], MEV_CLOSE_HANDLE, model_handle(tr[k], (shim_handle)0x1234), 1, 0, 0, 0);
            model_emit_text(tr[k], MEV_NOTE, "a note");
            ck_assert_uint_eq(model_handle_aux(tr[k], h), 3);
        }
    }
    ck_assert_uint_eq(model_trace_count(tr[0]), 5);
    ck_assert_uint_eq(model_trace_count(tr[1]), model_trace_count(tr[0]));
    const model_event *a = model_trace_events(tr[0]), *b = model_trace_events(tr[1]);
    for (uint32_t i = 0; i < model_trace_count(tr[0]); i++) {
        ck_assert_uint_eq(a[i].seq, b[i].seq);
        ck_assert_uint_eq(a[i].thread, b[i].thread);
        ck_assert_int_eq(a[i].time_ns, b[i].time_ns);
        ck_assert_uint_eq(a[i].kind, b[i].kind);
        for (int j = 0; j < 5; j++) ck_assert_uint_eq(a[i].a[j], b[i].a[j]);
        ck_assert((a[i].text == NULL) == (b[i].text == NULL));
        if (a[i].text != NULL) ck_assert_str_eq(a[i].text, b[i].text);
    }
    ck_assert_uint_eq(b[3].a[0], 3); /* the retired handle value got a new ordinal */
    ck_assert_uint_eq(b[2].a[4], 0); /* the patch landed */
    for (int k = 0; k < 2; k++) model_trace_destroy(tr[k]);
}
END_TEST

/* The recorder refuses what it does not understand, and reports the lower
 * version when the inner shim is newer than it knows. */
START_TEST(test_recorder_refuses) {
    sim_ctx *sim = sim_create(NULL);
    model_trace *tr = model_trace_create((model_clock){0});
    shim in = *sim_shim(sim), rec;
    in.version = SHIM_VERSION_1; /* the old flat layout */
    const char *why = model_record_wrap(&rec, &in, tr);
    ck_assert_ptr_nonnull(why);
    ck_assert_msg(strstr(why, "version") != NULL, "%s", why);
    ck_assert_ptr_null(rec.create_io_completion_port); /* left zeroed: unusable */
    in = *sim_shim(sim);
    in.cancel_io_ex = NULL; /* a call the recorder wraps */
    ck_assert_ptr_nonnull(model_record_wrap(&rec, &in, tr));
    in = *sim_shim(sim);
    shim_sync y = *in.sync;
    y.sema_destroy = NULL;
    in.sync = &y;
    ck_assert_ptr_nonnull(model_record_wrap(&rec, &in, tr));
    in = *sim_shim(sim);
    in.version = SHIM_VERSION_3 + 1; /* a newer seam: the recorder speaks v3 */
    ck_assert_ptr_null(model_record_wrap(&rec, &in, tr));
    ck_assert_int_eq(rec.version, SHIM_VERSION_3);
    in = *sim_shim(sim);
    in.version = SHIM_VERSION_2; /* an older seam: no datagram calls, reported as v2 */
    ck_assert_ptr_null(model_record_wrap(&rec, &in, tr));
    ck_assert_int_eq(rec.version, SHIM_VERSION_2);
    ck_assert_ptr_null(rec.wsa_recv_from);
    model_trace_destroy(tr);
    sim_destroy(sim);
}
END_TEST

int main(void) {
    Suite *s = suite_create("models");
    TCase *tp = tcase_create("properties");
    tcase_add_checked_fixture(tp, setup, teardown);
    tcase_add_test(tp, test_good_read_keeps_all);
    tcase_add_test(tp, test_one_completion_double_dequeue);
    tcase_add_test(tp, test_one_completion_woken_by_another_packet);
    tcase_add_test(tp, test_one_completion_skip_effective_queues_none);
    tcase_add_test(tp, test_one_completion_op_never_ends);
    tcase_add_test(tp, test_one_completion_ineffective_skip_keeps);
    tcase_add_test(tp, test_no_lost_wakeup);
    tcase_add_test(tp, test_break_two_packets_queued);
    tcase_add_test(tp, test_break_lost);
    tcase_add_test(tp, test_break_delivered_keeps);
    tcase_add_test(tp, test_lifetime_resubmit_while_queued);
    tcase_add_test(tp, test_lifetime_released_while_queued);
    tcase_add_test(tp, test_lifetime_cancelled_and_consumed_keeps);
    tcase_add_test(tp, test_bytes_lost_on_timeout);
    tcase_add_test(tp, test_bytes_skipped);
    tcase_add_test(tp, test_bytes_lost_before_eof);
    tcase_add_test(tp, test_bytes_in_order_to_eof_keeps);
    tcase_add_test(tp, test_deadline_timeout_too_early);
    tcase_add_test(tp, test_deadline_overlapping_sets_last_call_wins);
    tcase_add_test(tp, test_deadline_past_overtaken_by_other_set);
    tcase_add_test(tp, test_deadline_past_replaced_while_running);
    tcase_add_test(tp, test_deadline_timeout_without_deadline);
    tcase_add_test(tp, test_deadline_past_ignored);
    tcase_add_test(tp, test_deadline_closed_without_close);
    tcase_add_test(tp, test_deadline_keeps);
    tcase_add_test(tp, test_poll_delay_loop_wait_unclamped);
    tcase_add_test(tp, test_poll_delay_loop_wait_clamped_keeps);
    tcase_add_test(tp, test_deadline_not_yet_set_counts_old);
    tcase_add_test(tp, test_deadline_set_then_early_timeout);
    tcase_add_test(tp, test_close_then_read_succeeds);
    tcase_add_test(tp, test_close_socket_with_packet_queued);
    tcase_add_test(tp, test_close_packet_reaches_reused_slot);
    tcase_add_test(tp, test_close_keeps);
    tcase_add_test(tp, test_poll_delay_conversion);
    tcase_add_test(tp, test_poll_delay_late);
    tcase_add_test(tp, test_poll_delay_keeps);
    tcase_add_test(tp, test_foreign_decoy_written);
    tcase_add_test(tp, test_foreign_packet_wakes_read);
    tcase_add_test(tp, test_foreign_ignored_keeps);
    tcase_add_test(tp, test_no_fatal);
    tcase_add_test(tp, test_first_in_name_order);
    suite_add_tcase(s, tp);
    TCase *tt = tcase_create("trace");
    tcase_add_checked_fixture(tt, setup, teardown);
    tcase_add_test(tt, test_ordinals_and_reset);
    tcase_add_test(tt, test_format);
    suite_add_tcase(s, tt);
    TCase *tr = tcase_create("recorder");
    tcase_set_timeout(tr, 120);
    tcase_add_test(tr, test_recorder_events);
    tcase_add_test(tr, test_recorder_transparent_and_deterministic);
    tcase_add_test(tr, test_recorder_shape);
    tcase_add_test(tr, test_recorder_refuses);
    tcase_add_test(tr, test_single_thread_trace_same_content);
    suite_add_tcase(s, tr);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
