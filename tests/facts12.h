/* facts12.h - rows of iocp-facts.md §12 (what Wine's conformance tests
 * assert about Windows) as bodies against the seam and the harness only, so
 * one body runs on both backends: tests/check_conformance.c sweeps each over
 * many seeds on the simulator with the platform set to `windows`;
 * tests/check_win32.c runs each once under Wine (or on Windows). The rows
 * below hold on Windows and on Wine 8 alike ("same" in §12), so each body's
 * outcome is 0 on both; sim/kernel/FACTS.md maps every §12 row to its test.
 *
 * The includer defines, before including this file:
 *   F12_HARNESS(sh)  the harness beside `sh`
 *   F12_WAIT_MS      a wait for a packet that must come
 *   F12_SETTLE_NS    long enough for the kernel (or loopback) to deliver
 * (cf_out and CF_EXPECT come from cf_out.h). */
#ifndef IOCPCHECK_TESTS_FACTS12_H
#define IOCPCHECK_TESTS_FACTS12_H

#include <string.h>

#include "shim/harness.h"
#include "tests/cf_out.h"
#include "shim/iocp_shim.h"

static uint32_t f12_err(const shim *sh) { return sh->get_last_error(sh->ctx); }
static void f12_settle(const shim *sh) { harness_sleep(F12_HARNESS(sh), F12_SETTLE_NS); }

/* A port and a pair whose end 0 is bound to it with key 100. */
static shim_handle f12_pair(const shim *sh, shim_handle s[2], cf_out *o) {
    shim_handle p = sh->create_io_completion_port(sh->ctx, SHIM_INVALID_HANDLE, SHIM_NULL_HANDLE, 0, 4);
    CF_EXPECT(o, p != SHIM_NULL_HANDLE, "port");
    CF_EXPECT(o, harness_socket_pair(F12_HARNESS(sh), s), "socket pair");
    CF_EXPECT(o, sh->create_io_completion_port(sh->ctx, s[0], p, 100, 0) == p, "associate");
    return p;
}

static int f12_recv(const shim *sh, shim_handle s, char *buf, uint32_t len, shim_overlapped *ov, uint32_t *n) {
    memset(ov, 0, sizeof *ov);
    shim_wsabuf wb = {len, buf};
    uint32_t fl = 0;
    *n = 0;
    return sh->wsa_recv(sh->ctx, s, &wb, 1, n, &fl, ov);
}

static bool f12_pending(const shim *sh, int r) { return r != 0 && f12_err(sh) == SHIM_ERROR_IO_PENDING; }

/* One entry, waiting up to `ms`; false on a timeout (or another failure). */
static bool f12_entry(const shim *sh, shim_handle p, uint32_t ms, shim_overlapped_entry *e) {
    uint32_t m = 0;
    memset(e, 0, sizeof *e);
    return sh->get_queued_completion_status_ex(sh->ctx, p, e, 1, &m, ms, false) && m == 1;
}

static bool f12_no_packet(const shim *sh, shim_handle p) {
    shim_overlapped_entry e;
    f12_settle(sh);
    return !f12_entry(sh, p, 0, &e) && f12_err(sh) == SHIM_WAIT_TIMEOUT;
}

static void f12_close(const shim *sh, shim_handle p, shim_handle s[2]) {
    sh->closesocket(sh->ctx, s[0]);
    sh->closesocket(sh->ctx, s[1]);
    sh->close_handle(sh->ctx, p);
}

/* W2: a pending WSARecv, the peer resets: GQCS FALSE with 64, 0 bytes, the
 * key and the overlapped filled. (The socket is the peer's to close: the
 * abort closed it.) */
static void f12_w2_reset_pending(const shim *sh, cf_out *o) {
    shim_handle s[2], p = f12_pair(sh, s, o);
    char buf[8];
    shim_overlapped ov;
    uint32_t n;
    CF_EXPECT(o, f12_pending(sh, f12_recv(sh, s[0], buf, sizeof buf, &ov, &n)), "no data: pending");
    harness_abort(F12_HARNESS(sh), s[1]);
    uint32_t b = 77;
    uintptr_t k = 0;
    shim_overlapped *got = NULL;
    bool ok = sh->get_queued_completion_status(sh->ctx, p, &b, &k, &got, F12_WAIT_MS);
    CF_EXPECT(o, !ok && f12_err(sh) == SHIM_ERROR_NETNAME_DELETED, "FALSE with 64: %d, %u", ok, f12_err(sh));
    CF_EXPECT(o, got == &ov && k == 100 && b == 0, "overlapped, key 100, 0 bytes: key %u bytes %u", (unsigned)k, b);
    sh->closesocket(sh->ctx, s[0]);
    sh->close_handle(sh->ctx, p);
}

/* N7 (the part the seam can express) with §1's late association: a recv
 * pending before the socket is associated still completes to the port; the
 * next one carries the new key. (A packet already queued before the
 * association, which keeps no key, needs a completion queued to a handle
 * with no port: the seam has no call for that.) */
static void f12_n7_late_association(const shim *sh, cf_out *o) {
    shim_handle p = sh->create_io_completion_port(sh->ctx, SHIM_INVALID_HANDLE, SHIM_NULL_HANDLE, 0, 4), s[2];
    CF_EXPECT(o, harness_socket_pair(F12_HARNESS(sh), s), "socket pair");
    char buf[8];
    shim_overlapped ov, ov2;
    uint32_t n;
    CF_EXPECT(o, f12_pending(sh, f12_recv(sh, s[0], buf, sizeof buf, &ov, &n)), "pending before the association");
    CF_EXPECT(o, sh->create_io_completion_port(sh->ctx, s[0], p, 300, 0) == p, "associate late");
    harness_send(F12_HARNESS(sh), s[1], "ab", 2);
    shim_overlapped_entry e;
    CF_EXPECT(o, f12_entry(sh, p, F12_WAIT_MS, &e) && e.overlapped == &ov && e.bytes == 2, "it completes to the port");
    int r = f12_recv(sh, s[0], buf, sizeof buf, &ov2, &n);
    CF_EXPECT(o, f12_pending(sh, r), "pending");
    harness_send(F12_HARNESS(sh), s[1], "c", 1);
    CF_EXPECT(o, f12_entry(sh, p, F12_WAIT_MS, &e) && e.overlapped == &ov2 && e.key == 300, "the new key: %u",
              (unsigned)e.key);
    f12_close(sh, p, s);
}

/* W6/W7: a 1024-byte WSASend completes at once, whole; a WSARecv with
 * those 1024 bytes already buffered completes at once with all of them. */
static void f12_w6_w7_at_once(const shim *sh, cf_out *o) {
    shim_handle s[2], p = f12_pair(sh, s, o);
    static char out[1024], in[1024];
    for (int i = 0; i < 1024; i++) out[i] = (char)i;
    shim_wsabuf wb = {sizeof out, out};
    shim_overlapped ov, ovr;
    memset(&ov, 0, sizeof ov);
    uint32_t n = 0;
    CF_EXPECT(o, sh->wsa_send(sh->ctx, s[0], &wb, 1, &n, 0, &ov) == 0 && n == 1024, "W6: at once, 1024: n %u err %u", n,
              f12_err(sh));
    shim_overlapped_entry e;
    CF_EXPECT(o, f12_entry(sh, p, F12_WAIT_MS, &e) && e.overlapped == &ov && e.bytes == 1024, "W6: its packet");
    /* the bytes reach the other end, then come back to the bound one */
    char echo[1024];
    uint32_t got = 0;
    while (got < 1024) {
        int r = harness_recv(F12_HARNESS(sh), s[1], echo + got, 1024 - got, true);
        CF_EXPECT(o, r > 0, "peer recv %d", r);
        if (r <= 0) break;
        got += (uint32_t)r;
    }
    harness_send(F12_HARNESS(sh), s[1], echo, 1024);
    f12_settle(sh);
    CF_EXPECT(o, f12_recv(sh, s[0], in, sizeof in, &ovr, &n) == 0 && n == 1024, "W7: at once, all 1024: n %u err %u", n,
              f12_err(sh));
    CF_EXPECT(o, memcmp(in, out, sizeof in) == 0, "W7: the bytes, in order");
    CF_EXPECT(o, f12_entry(sh, p, F12_WAIT_MS, &e) && e.overlapped == &ovr && e.bytes == 1024, "W7: its packet");
    f12_close(sh, p, s);
}

/* W9/W10: after the peer's FIN, WSARecv returns 0 at once with 0 bytes, and
 * its packet carries 0 bytes. */
static void f12_w9_w10_fin(const shim *sh, cf_out *o) {
    shim_handle s[2], p = f12_pair(sh, s, o);
    harness_shutdown_send(F12_HARNESS(sh), s[1]);
    f12_settle(sh);
    char buf[8];
    shim_overlapped ov;
    uint32_t n = 99;
    CF_EXPECT(o, f12_recv(sh, s[0], buf, sizeof buf, &ov, &n) == 0 && n == 0, "W9: 0 at once, 0 bytes: n %u err %u", n,
              f12_err(sh));
    shim_overlapped_entry e;
    CF_EXPECT(o, f12_entry(sh, p, F12_WAIT_MS, &e) && e.overlapped == &ov && e.bytes == 0, "W10: a 0-byte packet");
    f12_close(sh, p, s);
}

/* W13/W35: closesocket with nothing pending, and shutdown, queue no packet. */
static void f12_w13_w35_no_packet(const shim *sh, cf_out *o) {
    shim_handle s[2], p = f12_pair(sh, s, o);
    harness_shutdown_send(F12_HARNESS(sh), s[0]);
    CF_EXPECT(o, f12_no_packet(sh, p), "W35: shutdown queues nothing");
    CF_EXPECT(o, sh->closesocket(sh->ctx, s[0]) == 0, "closesocket");
    CF_EXPECT(o, f12_no_packet(sh, p), "W13: closesocket with nothing pending queues nothing");
    sh->closesocket(sh->ctx, s[1]);
    sh->close_handle(sh->ctx, p);
}

/* W21/W22: a recv issued by a thread that then exits is not cancelled: it
 * completes later, with its bytes. */
typedef struct f12_issuer {
    const shim *sh;
    shim_handle s;
    char buf[8];
    shim_overlapped ov;
    int r;
    uint32_t err;
} f12_issuer;

static void f12_issuer_main(void *arg) {
    f12_issuer *is = arg;
    uint32_t n;
    is->r = f12_recv(is->sh, is->s, is->buf, sizeof is->buf, &is->ov, &n);
    is->err = f12_err(is->sh);
}

static void f12_w21_w22_thread_exit(const shim *sh, cf_out *o) {
    shim_handle s[2], p = f12_pair(sh, s, o);
    static f12_issuer is;
    memset(&is, 0, sizeof is);
    is.sh = sh;
    is.s = s[0];
    shim_thread t;
    CF_EXPECT(o, harness_spawn(F12_HARNESS(sh), &t, f12_issuer_main, &is, "issuer"), "spawn");
    harness_join(F12_HARNESS(sh), &t);
    CF_EXPECT(o, is.r != 0 && is.err == SHIM_ERROR_IO_PENDING, "pending when its thread exits: r %d err %u", is.r, is.err);
    harness_send(F12_HARNESS(sh), s[1], "late", 4);
    shim_overlapped_entry e;
    CF_EXPECT(o, f12_entry(sh, p, F12_WAIT_MS, &e) && e.overlapped == &is.ov && e.internal == SHIM_STATUS_SUCCESS &&
                     e.bytes == 4 && memcmp(is.buf, "late", 4) == 0,
              "completes later with its bytes: status 0x%08X bytes %u", (unsigned)e.internal, e.bytes);
    f12_close(sh, p, s);
}

/* Two receives of `len` bytes into a and b, both pending (no data yet). */
static void f12_two_pending(const shim *sh, shim_handle s, char *a, char *b, uint32_t len, shim_overlapped *ova,
                            shim_overlapped *ovb, cf_out *o) {
    uint32_t n;
    CF_EXPECT(o, f12_pending(sh, f12_recv(sh, s, a, len, ova, &n)), "first pending");
    CF_EXPECT(o, f12_pending(sh, f12_recv(sh, s, b, len, ovb, &n)), "second pending");
}

/* W29/W30: two pending recvs of 16 bytes, one 32-byte send: they fill in
 * order, 16 + 16. */
static void f12_w29_w30_in_order(const shim *sh, cf_out *o) {
    shim_handle s[2], p = f12_pair(sh, s, o);
    char a[16], b[16];
    shim_overlapped ova, ovb;
    f12_two_pending(sh, s[0], a, b, sizeof a, &ova, &ovb, o);
    harness_send(F12_HARNESS(sh), s[1], "0123456789abcdefGHIJKLMNOPQRSTUV", 32);
    shim_overlapped_entry e1, e2;
    CF_EXPECT(o, f12_entry(sh, p, F12_WAIT_MS, &e1) && f12_entry(sh, p, F12_WAIT_MS, &e2), "two packets");
    CF_EXPECT(o, e1.overlapped == &ova && e1.bytes == 16 && e2.overlapped == &ovb && e2.bytes == 16,
              "first then second, 16 + 16: %u, %u", e1.bytes, e2.bytes);
    CF_EXPECT(o, memcmp(a, "0123456789abcdef", 16) == 0 && memcmp(b, "GHIJKLMNOPQRSTUV", 16) == 0, "in order");
    f12_close(sh, p, s);
}

/* W31-W33: a zero-length WSARecv pends while there is no data, completes
 * with 0 when data arrives, and completes at once with 0 when data is
 * already there (the data stays for the next recv). */
static void f12_w31_w33_zero_length(const shim *sh, cf_out *o) {
    shim_handle s[2], p = f12_pair(sh, s, o);
    char buf[8];
    shim_overlapped ov, ov2, ov3;
    uint32_t n = 99;
    CF_EXPECT(o, f12_pending(sh, f12_recv(sh, s[0], buf, 0, &ov, &n)), "W31: pends without data");
    harness_send(F12_HARNESS(sh), s[1], "xy", 2);
    shim_overlapped_entry e;
    CF_EXPECT(o, f12_entry(sh, p, F12_WAIT_MS, &e) && e.overlapped == &ov && e.internal == SHIM_STATUS_SUCCESS &&
                     e.bytes == 0,
              "W32: completes with 0 when data arrives");
    CF_EXPECT(o, f12_recv(sh, s[0], buf, 0, &ov2, &n) == 0 && n == 0, "W33: at once with 0: n %u err %u", n, f12_err(sh));
    CF_EXPECT(o, f12_entry(sh, p, F12_WAIT_MS, &e) && e.overlapped == &ov2 && e.bytes == 0, "W33: its packet");
    CF_EXPECT(o, f12_recv(sh, s[0], buf, sizeof buf, &ov3, &n) == 0 && n == 2 && memcmp(buf, "xy", 2) == 0,
              "the data stayed: n %u", n);
    CF_EXPECT(o, f12_entry(sh, p, F12_WAIT_MS, &e) && e.overlapped == &ov3, "its packet");
    f12_close(sh, p, s);
}

/* W36: with the skip flag set, a request that pends still queues its packet. */
static void f12_w36_skip_pending(const shim *sh, cf_out *o) {
    shim_handle s[2], p = f12_pair(sh, s, o);
    CF_EXPECT(o, sh->set_file_completion_notification_modes(sh->ctx, s[0], SHIM_FILE_SKIP_COMPLETION_PORT_ON_SUCCESS),
              "skip flag");
    char buf[8];
    shim_overlapped ov;
    uint32_t n;
    CF_EXPECT(o, f12_pending(sh, f12_recv(sh, s[0], buf, sizeof buf, &ov, &n)), "pending");
    harness_send(F12_HARNESS(sh), s[1], "abc", 3);
    shim_overlapped_entry e;
    CF_EXPECT(o, f12_entry(sh, p, F12_WAIT_MS, &e) && e.overlapped == &ov && e.bytes == 3, "its packet comes");
    f12_close(sh, p, s);
}

/* W37: an hEvent with the low bit set: the completion queues no packet; the
 * status block still gets the result. Wine's test sets the bit on a real
 * event; the seam creates no events, and under Wine 8 WSARecv with hEvent 1
 * (NULL with the bit) fails at once with 10038: this body runs on the
 * simulator only (f12_rows' `real` false). */
static void f12_w37_event_low_bit(const shim *sh, cf_out *o) {
    shim_handle s[2], p = f12_pair(sh, s, o);
    char buf[8];
    shim_overlapped ov;
    memset(&ov, 0, sizeof ov);
    ov.event = 1;
    shim_wsabuf wb = {sizeof buf, buf};
    uint32_t n = 0, fl = 0;
    int r = sh->wsa_recv(sh->ctx, s[0], &wb, 1, &n, &fl, &ov);
    CF_EXPECT(o, f12_pending(sh, r), "pending: r %d err %u", r, f12_err(sh));
    harness_send(F12_HARNESS(sh), s[1], "abc", 3);
    CF_EXPECT(o, f12_no_packet(sh, p), "no packet");
    CF_EXPECT(o, ov.internal == SHIM_STATUS_SUCCESS && ov.internal_high == 3, "the status block: 0x%08X, %u",
              (unsigned)ov.internal, (unsigned)ov.internal_high);
    f12_close(sh, p, s);
}

/* C1-C3: CancelIoEx of the second of two requests: TRUE, it ends with 995,
 * its status block STATUS_CANCELLED with 0 bytes; a second CancelIoEx of it:
 * FALSE, 1168; the first completes later. */
static void f12_c1_c3_cancel_second(const shim *sh, cf_out *o) {
    shim_handle s[2], p = f12_pair(sh, s, o);
    char a[16], b[16];
    shim_overlapped ova, ovb;
    f12_two_pending(sh, s[0], a, b, sizeof a, &ova, &ovb, o);
    CF_EXPECT(o, sh->cancel_io_ex(sh->ctx, s[0], &ovb), "C1: TRUE");
    shim_overlapped_entry e;
    CF_EXPECT(o, f12_entry(sh, p, F12_WAIT_MS, &e) && e.overlapped == &ovb && e.internal == SHIM_STATUS_CANCELLED &&
                     e.bytes == 0,
              "C1: it ends with STATUS_CANCELLED: 0x%08X", (unsigned)e.internal);
    CF_EXPECT(o, ovb.internal == SHIM_STATUS_CANCELLED && ovb.internal_high == 0, "C3: its status block: 0x%08X, %u",
              (unsigned)ovb.internal, (unsigned)ovb.internal_high);
    CF_EXPECT(o, !sh->cancel_io_ex(sh->ctx, s[0], &ovb) && f12_err(sh) == SHIM_ERROR_NOT_FOUND, "C2: FALSE, 1168: %u",
              f12_err(sh));
    harness_send(F12_HARNESS(sh), s[1], "first", 5);
    CF_EXPECT(o, f12_entry(sh, p, F12_WAIT_MS, &e) && e.overlapped == &ova && e.internal == SHIM_STATUS_SUCCESS &&
                     e.bytes == 5,
              "C1: the first completes later with its bytes");
    f12_close(sh, p, s);
}

static const struct {
    const char *row, *name;
    cf_body body;
    bool real; /* the real backend can run it through the seam */
} f12_rows[] = {
    {"N7", "late-association-new-key", f12_n7_late_association, true},
    {"W2", "reset-under-pending-recv", f12_w2_reset_pending, true},
    {"W6/W7", "send-recv-at-once", f12_w6_w7_at_once, true},
    {"W9/W10", "recv-after-fin", f12_w9_w10_fin, true},
    {"W13/W35", "close-shutdown-no-packet", f12_w13_w35_no_packet, true},
    {"W21/W22", "recv-outlives-thread", f12_w21_w22_thread_exit, true},
    {"W29/W30", "two-recvs-in-order", f12_w29_w30_in_order, true},
    {"W31-W33", "zero-length-recv", f12_w31_w33_zero_length, true},
    {"W36", "skip-flag-pending-packet", f12_w36_skip_pending, true},
    {"W37", "event-low-bit-no-packet", f12_w37_event_low_bit, false},
    {"C1-C3", "cancel-second-of-two", f12_c1_c3_cancel_second, true},
};

#endif
