/* facts_dgram.h - the datagram facts (sim/kernel/FACTS.md D1-D8) as bodies
 * against the seam and the harness only, so one body runs on both
 * backends: tests/check_conformance.c sweeps each over many seeds on the
 * simulator (every outcome the simulator must produce, and only allowed
 * ones); tests/check_win32.c runs each once under Wine (or on Windows),
 * asserts its outcome is one Wine or Windows shows, and prints which.
 *
 * The includer defines, before including this file:
 *   DG_HARNESS(sh)  the harness beside `sh`
 *   DG_WAIT_MS      a wait for a packet that must come
 *   DG_NONE_MS      a wait that shows no packet is coming
 *   DG_SETTLE_NS    long enough for loopback (or the kernel) to deliver
 */
#ifndef IOCPCHECK_TESTS_FACTS_DGRAM_H
#define IOCPCHECK_TESTS_FACTS_DGRAM_H

#include <string.h>

#include "shim/harness.h"
#include "shim/iocp_shim.h"
#include "tests/cf_out.h"

static uint32_t dg_err(const shim *sh) { return sh->get_last_error(sh->ctx); }
static void dg_settle(const shim *sh) { harness_sleep(DG_HARNESS(sh), DG_SETTLE_NS); }

/* A port, a receiver bound to it (key 7) and a sender, both UDP on 127.0.0.1. */
typedef struct dg_env {
    shim_handle port, r, p;
    shim_sockaddr_in ra, pa;
} dg_env;

static bool dg_open(const shim *sh, dg_env *e, cf_out *o) {
    e->port = sh->create_io_completion_port(sh->ctx, SHIM_INVALID_HANDLE, SHIM_NULL_HANDLE, 0, 4);
    e->r = shim_loopback_socket(sh, SHIM_SOCK_DGRAM, &e->ra);
    e->p = shim_loopback_socket(sh, SHIM_SOCK_DGRAM, &e->pa);
    CF_EXPECT(o, e->port != SHIM_NULL_HANDLE && e->r != SHIM_INVALID_HANDLE && e->p != SHIM_INVALID_HANDLE,
              "port and two bound UDP sockets (error %u)", dg_err(sh));
    if (o->bad[0] != 0) return false;
    CF_EXPECT(o, e->ra.port != 0 && e->ra.port != e->pa.port, "two ephemeral ports");
    CF_EXPECT(o, sh->create_io_completion_port(sh->ctx, e->r, e->port, 7, 0) == e->port, "associate");
    return o->bad[0] == 0;
}

static void dg_close(const shim *sh, dg_env *e) {
    sh->closesocket(sh->ctx, e->r);
    sh->closesocket(sh->ctx, e->p);
    sh->close_handle(sh->ctx, e->port);
}

static void dg_send(const shim *sh, dg_env *e, const char *data, uint32_t n) {
    DG_HARNESS(sh)->sock_sendto_sync(DG_HARNESS(sh)->ctx, e->p, data, n, &e->ra);
}

/* One packet within `ms`; false if none came. */
static bool dg_packet(const shim *sh, dg_env *e, uint32_t ms, shim_overlapped_entry *out) {
    uint32_t n = 0;
    memset(out, 0, sizeof *out);
    return sh->get_queued_completion_status_ex(sh->ctx, e->port, out, 1, &n, ms, false) && n == 1;
}

/* A WSARecvFrom of one datagram into `len` bytes: the call's return and
 * error, then its packet's status and bytes (waiting DG_WAIT_MS when one
 * must come; when the datagram may have been lost, DG_NONE_MS and then the
 * request is cancelled). *lost: no datagram came. */
typedef struct dg_recv {
    int rc;
    uint32_t err, n;   /* the call: 0 / SOCKET_ERROR, its error, *bytes (preset 12345) */
    bool packet;       /* a packet came */
    uint32_t status, bytes;
    bool lost;
    shim_sockaddr_in from;
    int fromlen;
    char buf[64];
} dg_recv;

static void dg_recvfrom(const shim *sh, dg_env *e, uint32_t len, bool may_lose, dg_recv *r, cf_out *o) {
    static shim_overlapped ov;
    memset(&ov, 0, sizeof ov);
    memset(r, 0, sizeof *r);
    shim_wsabuf wb = {len, r->buf};
    uint32_t fl = 0;
    r->n = 12345;
    r->fromlen = (int)sizeof r->from;
    r->rc = sh->wsa_recv_from(sh->ctx, e->r, &wb, 1, &r->n, &fl, &r->from, &r->fromlen, &ov);
    r->err = r->rc == 0 ? 0 : dg_err(sh);
    CF_EXPECT(o, r->rc == 0 || r->err == SHIM_ERROR_IO_PENDING || r->err == SHIM_WSAEMSGSIZE, "recvfrom: %u",
              r->err);
    shim_overlapped_entry pk;
    bool got = dg_packet(sh, e, may_lose && r->err == SHIM_ERROR_IO_PENDING ? DG_NONE_MS : DG_WAIT_MS, &pk);
    if (!got && r->err == SHIM_ERROR_IO_PENDING && may_lose) {
        r->lost = true;
        CF_EXPECT(o, sh->cancel_io_ex(sh->ctx, e->r, &ov), "cancel the receive of a lost datagram");
        CF_EXPECT(o, dg_packet(sh, e, DG_WAIT_MS, &pk) && pk.overlapped == &ov, "the cancelled receive's packet");
        return;
    }
    r->packet = got;
    if (got) {
        CF_EXPECT(o, pk.overlapped == &ov && pk.key == 7, "the receive's packet");
        r->status = (uint32_t)pk.internal;
        r->bytes = pk.bytes;
    }
}

/* ---- D1, D6: message boundaries, zero-length datagrams, the sender's address ---- */

/* Outcome 0: three datagrams (3, 5 and 0 bytes) come whole, in order;
 * 1: one was lost (what-if on loopback, choice 'd'). */
static void dg_body_boundaries(const shim *sh, cf_out *o) {
    dg_env e;
    if (!dg_open(sh, &e, o)) return;
    dg_send(sh, &e, "abc", 3);
    dg_send(sh, &e, "defgh", 5);
    dg_send(sh, &e, "", 0);
    dg_settle(sh);
    static const uint32_t want[3] = {3, 5, 0};
    uint32_t next = 0;
    for (int i = 0; i < 3 && o->bad[0] == 0; i++) {
        dg_recv r;
        dg_recvfrom(sh, &e, 16, true, &r, o);
        if (r.lost) {
            o->outcome = 1;
            break;
        }
        uint32_t n = r.rc == 0 ? r.n : r.bytes;
        CF_EXPECT(o, r.packet && r.status == 0 && r.bytes == n, "a whole datagram's success packet");
        while (next < 3 && want[next] != n) next++; /* lost ones are skipped, never split */
        CF_EXPECT(o, next < 3, "datagram %d: %u bytes is no datagram sent (split or joined)", i, n);
        if (next != (uint32_t)i) o->outcome = 1;
        if (n == 3) CF_EXPECT(o, memcmp(r.buf, "abc", 3) == 0, "its bytes");
        if (n == 5) CF_EXPECT(o, memcmp(r.buf, "defgh", 5) == 0, "its bytes");
        CF_EXPECT(o, r.fromlen == (int)sizeof r.from && r.from.port == e.pa.port &&
                         r.from.addr == shim_htonl(SHIM_INADDR_LOOPBACK),
                  "the sender's address");
        next++;
    }
    dg_close(sh, &e);
}

/* ---- D2, D3: truncation ---- */

/* A 10-byte datagram into 4 bytes. `skip`: skip-on-success set first;
 * `pending`: the receive is posted before the datagram is sent.
 * Outcomes: 0 at once: SOCKET_ERROR 10040, *bytes untouched, a packet
 * (234, 4 bytes); 1 pending: 997 then that packet; 2 at once with skip in
 * effect: 10040 and no packet (Wine 8); 3 at once with skip: a packet
 * anyway (what-if, 'm'); 4 the datagram was lost (what-if, 'd'). */
static void dg_truncate(const shim *sh, cf_out *o, bool skip, bool pending) {
    dg_env e;
    if (!dg_open(sh, &e, o)) return;
    bool skipping = skip &&
                    sh->set_file_completion_notification_modes(sh->ctx, e.r, SHIM_FILE_SKIP_COMPLETION_PORT_ON_SUCCESS) &&
                    sh->socket_is_ifs(sh->ctx, e.r);
    if (!pending) {
        dg_send(sh, &e, "0123456789", 10);
        dg_settle(sh);
    }
    static shim_overlapped ov;
    memset(&ov, 0, sizeof ov);
    char buf[4];
    shim_wsabuf wb = {4, buf};
    uint32_t n = 12345, fl = 0;
    shim_sockaddr_in from;
    int fromlen = (int)sizeof from;
    int rc = sh->wsa_recv_from(sh->ctx, e.r, &wb, 1, &n, &fl, &from, &fromlen, &ov);
    uint32_t err = rc == 0 ? 0 : dg_err(sh);
    if (pending) {
        dg_send(sh, &e, "0123456789", 10);
        dg_settle(sh);
    }
    CF_EXPECT(o, rc != 0 && (err == SHIM_WSAEMSGSIZE || err == SHIM_ERROR_IO_PENDING), "never success: %d %u", rc,
              err);
    shim_overlapped_entry pk;
    bool got = dg_packet(sh, &e, err == SHIM_WSAEMSGSIZE && skipping ? DG_NONE_MS : DG_NONE_MS * 4, &pk);
    if (err == SHIM_ERROR_IO_PENDING && !got) { /* lost (what-if): nothing came */
        o->outcome = 4;
        CF_EXPECT(o, sh->cancel_io_ex(sh->ctx, e.r, &ov) && dg_packet(sh, &e, DG_WAIT_MS, &pk), "cancelled");
        dg_close(sh, &e);
        return;
    }
    if (err == SHIM_WSAEMSGSIZE) {
        CF_EXPECT(o, n == 12345, "*bytes left as it was on the synchronous warning (Wine 8: %u)", n);
        o->outcome = !skipping ? 0 : got ? 3 : 2;
        CF_EXPECT(o, skipping || got, "without skip-on-success the warning queues a packet (§6)");
    } else {
        o->outcome = 1;
        CF_EXPECT(o, got, "the pending receive's packet");
    }
    CF_EXPECT(o, memcmp(buf, "0123", 4) == 0, "the datagram's head");
    CF_EXPECT(o, from.port == e.pa.port, "the sender's address, even truncated");
    if (got) {
        CF_EXPECT(o, pk.overlapped == &ov && pk.bytes == 4 && (uint32_t)pk.internal == SHIM_STATUS_BUFFER_OVERFLOW,
                  "the packet: BUFFER_OVERFLOW with 4 bytes (status 0x%x, %u bytes)", (unsigned)pk.internal, pk.bytes);
    }
    uint32_t b = 777, f2 = 0;
    CF_EXPECT(o, !sh->wsa_get_overlapped_result(sh->ctx, e.r, &ov, &b, false, &f2) && dg_err(sh) == SHIM_WSAEMSGSIZE &&
                     b == 4,
              "WSAGetOverlappedResult: FALSE, 10040, 4 bytes (got %u, %u)", dg_err(sh), b);
    CF_EXPECT(o, !dg_packet(sh, &e, DG_NONE_MS, &pk), "one packet, not two");
    /* The tail was dropped: the next receive pends. */
    static shim_overlapped ov2;
    memset(&ov2, 0, sizeof ov2);
    char big[16];
    shim_wsabuf wb2 = {16, big};
    rc = sh->wsa_recv_from(sh->ctx, e.r, &wb2, 1, &n, &fl, NULL, NULL, &ov2);
    CF_EXPECT(o, rc != 0 && dg_err(sh) == SHIM_ERROR_IO_PENDING, "the tail is gone: the next receive pends");
    sh->cancel_io_ex(sh->ctx, e.r, &ov2);
    dg_packet(sh, &e, DG_WAIT_MS, &pk);
    dg_close(sh, &e);
}
static void dg_body_trunc_sync(const shim *sh, cf_out *o) { dg_truncate(sh, o, false, false); }
static void dg_body_trunc_pending(const shim *sh, cf_out *o) { dg_truncate(sh, o, false, true); }
static void dg_body_trunc_skip(const shim *sh, cf_out *o) { dg_truncate(sh, o, true, false); }

/* ---- D4: a full receive queue drops datagrams ---- */

/* 40 datagrams of 8,000 bytes (320,000 > the queue) sent, nobody reading;
 * then everything queued is read at once. Outcome 0: some were dropped
 * (fewer than 40 came), every one that came whole. */
static void dg_body_queue_full(const shim *sh, cf_out *o) {
    dg_env e;
    if (!dg_open(sh, &e, o)) return;
    static char data[8000];
    for (int i = 0; i < 40; i++) dg_send(sh, &e, data, sizeof data);
    dg_settle(sh);
    uint32_t got = 0;
    for (;;) {
        static shim_overlapped ov;
        memset(&ov, 0, sizeof ov);
        static char buf[9000];
        shim_wsabuf wb = {sizeof buf, buf};
        uint32_t n = 0, fl = 0;
        int rc = sh->wsa_recv_from(sh->ctx, e.r, &wb, 1, &n, &fl, NULL, NULL, &ov);
        shim_overlapped_entry pk;
        if (rc != 0) {
            CF_EXPECT(o, dg_err(sh) == SHIM_ERROR_IO_PENDING, "recvfrom %u", dg_err(sh));
            /* Pending although a datagram may be queued (what-if 's'): wait a little. */
            if (dg_packet(sh, &e, DG_NONE_MS, &pk)) {
                CF_EXPECT(o, pk.bytes == sizeof data, "whole: %u", pk.bytes);
                got++;
                continue;
            }
            sh->cancel_io_ex(sh->ctx, e.r, &ov);
            dg_packet(sh, &e, DG_WAIT_MS, &pk);
            break;
        }
        CF_EXPECT(o, n == sizeof data && dg_packet(sh, &e, DG_WAIT_MS, &pk), "whole, with its packet");
        got++;
        if (o->bad[0] != 0 || got > 40) break;
    }
    o->value = got;
    CF_EXPECT(o, got < 40 && got * sizeof data <= 212992, "a full queue drops: %u of 40 came", got);
    o->outcome = 0;
    dg_close(sh, &e);
}

/* ---- D5, D7: WSASendTo ---- */

/* Outcome 0: WSASendTo at once with a success packet (5 bytes); 1: pending
 * then the packet (what-if 's'). No address: 10022 and no packet; 65,508
 * bytes: 10040 at once, yet a packet (BUFFER_OVERFLOW, 0 bytes: the
 * synchronous warning, Wine 8 measured); a datagram to a port nobody bound
 * vanishes, and no error reaches the sender's pending receive. */
static void dg_body_sendto(const shim *sh, cf_out *o) {
    dg_env e;
    if (!dg_open(sh, &e, o)) return;
    CF_EXPECT(o, sh->create_io_completion_port(sh->ctx, e.p, e.port, 8, 0) == e.port, "associate the sender");
    static shim_overlapped ov;
    memset(&ov, 0, sizeof ov);
    shim_wsabuf wb = {5, (char *)"hello"};
    uint32_t n = 0;
    int rc = sh->wsa_send_to(sh->ctx, e.p, &wb, 1, &n, 0, &e.ra, (int)sizeof e.ra, &ov);
    uint32_t err = rc == 0 ? 0 : dg_err(sh);
    CF_EXPECT(o, rc == 0 || err == SHIM_ERROR_IO_PENDING, "sendto: %u", err);
    o->outcome = rc == 0 ? 0 : 1;
    shim_overlapped_entry pk;
    CF_EXPECT(o, dg_packet(sh, &e, DG_WAIT_MS, &pk) && pk.overlapped == &ov && pk.key == 8 && pk.bytes == 5 &&
                     pk.internal == 0,
              "its success packet with 5 bytes");
    memset(&ov, 0, sizeof ov);
    CF_EXPECT(o, sh->wsa_send_to(sh->ctx, e.p, &wb, 1, &n, 0, NULL, 0, &ov) != 0 && dg_err(sh) == SHIM_WSAEINVAL,
              "no address: 10022");
    static char huge[65508];
    shim_wsabuf hb = {sizeof huge, huge};
    memset(&ov, 0, sizeof ov);
    CF_EXPECT(o, !dg_packet(sh, &e, DG_NONE_MS, &pk), "a call not started queues no packet");
    CF_EXPECT(o, sh->wsa_send_to(sh->ctx, e.p, &hb, 1, &n, 0, &e.ra, (int)sizeof e.ra, &ov) != 0 &&
                     dg_err(sh) == SHIM_WSAEMSGSIZE,
              "65,508 bytes: 10040");
    CF_EXPECT(o, dg_packet(sh, &e, DG_WAIT_MS, &pk) && pk.overlapped == &ov && pk.bytes == 0 &&
                     (uint32_t)pk.internal == SHIM_STATUS_BUFFER_OVERFLOW,
              "the oversized datagram's warning packet (0x%x, %u bytes)", (unsigned)pk.internal, pk.bytes);
    CF_EXPECT(o, sh->wsa_send(sh->ctx, e.p, &wb, 1, &n, 0, &ov) != 0 && dg_err(sh) == SHIM_WSAEINVAL,
              "WSASend unconnected: 10022 (%u)", dg_err(sh));
    /* D5: to a port nobody holds (the receiver closed). */
    shim_sockaddr_in gone = e.ra;
    sh->closesocket(sh->ctx, e.r);
    e.r = shim_loopback_socket(sh, SHIM_SOCK_DGRAM, &e.ra);
    CF_EXPECT(o, e.r != SHIM_INVALID_HANDLE && e.ra.port != gone.port, "a new receiver on another port");
    CF_EXPECT(o, DG_HARNESS(sh)->sock_sendto_sync(DG_HARNESS(sh)->ctx, e.p, "x", 1, &gone) == 1, "sendto: taken");
    static shim_overlapped ov3;
    memset(&ov3, 0, sizeof ov3);
    char b3[4];
    shim_wsabuf w3 = {4, b3};
    uint32_t fl = 0;
    rc = sh->wsa_recv_from(sh->ctx, e.p, &w3, 1, &n, &fl, NULL, NULL, &ov3);
    CF_EXPECT(o, rc != 0 && dg_err(sh) == SHIM_ERROR_IO_PENDING, "no port-unreachable error for the sender: %u",
              dg_err(sh));
    CF_EXPECT(o, !dg_packet(sh, &e, DG_NONE_MS, &pk), "nothing comes");
    sh->cancel_io_ex(sh->ctx, e.p, &ov3);
    dg_packet(sh, &e, DG_WAIT_MS, &pk);
    dg_close(sh, &e);
}

/* ---- bind and getsockname ---- */

static void dg_body_bind(const shim *sh, cf_out *o) {
    shim_sockaddr_in a;
    shim_handle s1 = shim_loopback_socket(sh, SHIM_SOCK_DGRAM, &a);
    shim_handle s2 = sh->wsa_socket(sh->ctx, SHIM_AF_INET, SHIM_SOCK_DGRAM, SHIM_IPPROTO_UDP);
    CF_EXPECT(o, s1 != SHIM_INVALID_HANDLE && s2 != SHIM_INVALID_HANDLE, "two sockets");
    shim_sockaddr_in b;
    int len = (int)sizeof b;
    CF_EXPECT(o, sh->getsockname(sh->ctx, s2, &b, &len) != 0 && dg_err(sh) == SHIM_WSAEINVAL,
              "getsockname unbound: 10022 (%u)", dg_err(sh));
    CF_EXPECT(o, sh->bind(sh->ctx, s2, &a, (int)sizeof a) != 0 && dg_err(sh) == SHIM_WSAEADDRINUSE,
              "a port in use: 10048 (%u)", dg_err(sh));
    CF_EXPECT(o, sh->bind(sh->ctx, s1, &a, (int)sizeof a) != 0 && dg_err(sh) == SHIM_WSAEINVAL,
              "bound twice: 10022 (%u)", dg_err(sh));
    /* A non-local address is refused by Windows (10049) but not by every
     * Wine host (Linux ip_nonlocal_bind): not asserted. */
    sh->closesocket(sh->ctx, s1);
    sh->closesocket(sh->ctx, s2);
}

/* ---- D8: closesocket under a pending WSARecvFrom ---- */

/* Outcome = the packet's status: 0 CANCELLED, 1 LOCAL_DISCONNECT, 2
 * HANDLES_CLOSED (Wine 8), 3 CONNECTION_ABORTED (Windows 10+) (§2, §12 W18). */
static void dg_body_close_pending(const shim *sh, cf_out *o) {
    dg_env e;
    if (!dg_open(sh, &e, o)) return;
    static shim_overlapped ov;
    memset(&ov, 0, sizeof ov);
    char buf[8];
    shim_wsabuf wb = {8, buf};
    uint32_t n, fl = 0;
    int rc = sh->wsa_recv_from(sh->ctx, e.r, &wb, 1, &n, &fl, NULL, NULL, &ov);
    CF_EXPECT(o, rc != 0 && dg_err(sh) == SHIM_ERROR_IO_PENDING, "pending");
    CF_EXPECT(o, sh->closesocket(sh->ctx, e.r) == 0, "closesocket");
    shim_overlapped_entry pk;
    CF_EXPECT(o, dg_packet(sh, &e, DG_WAIT_MS, &pk) && pk.overlapped == &ov, "the packet still comes");
    uint32_t st = (uint32_t)pk.internal;
    o->outcome = st == SHIM_STATUS_CANCELLED ? 0 : st == SHIM_STATUS_LOCAL_DISCONNECT ? 1
               : st == SHIM_STATUS_HANDLES_CLOSED ? 2 : st == SHIM_STATUS_CONNECTION_ABORTED ? 3 : 9;
    sh->closesocket(sh->ctx, e.p);
    sh->close_handle(sh->ctx, e.port);
}

static const cf_row dg_rows[] = {
    {"dgram-boundaries", "D1 D6", dg_body_boundaries, 0x3, 0x3, 0x1},
    {"dgram-trunc-sync", "D2 D3", dg_body_trunc_sync, 0x13, 0x13, 0x1},
    {"dgram-trunc-pending", "D2", dg_body_trunc_pending, 0x12, 0x12, 0x2},
    {"dgram-trunc-skip", "D2 D3", dg_body_trunc_skip, 0x1F, 0x1F, 0x4},
    {"dgram-queue-full", "D4", dg_body_queue_full, 0x1, 0x1, 0x1},
    {"dgram-sendto", "D5 D7", dg_body_sendto, 0x3, 0x3, 0x1},
    {"dgram-bind", "bind", dg_body_bind, 0x1, 0x1, 0x1},
    {"dgram-close-pending", "D8", dg_body_close_pending, 0xF, 0xF, 0x4},
};

#endif
