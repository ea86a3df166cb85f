/* sock.c - virtual connected socket pairs and their overlapped operations.
 *
 * Each end has a receive buffer (a retained byte ring). WSARecv/WSASend
 * complete at once or stay pending (choice 's', §6); a pending one completes
 * later as a kernel action, in submission order per socket and direction.
 * Completion queues a packet to the associated port (§6's queuing rule),
 * writes OVERLAPPED.Internal at completion or at dequeue (choice 'i', §3).
 * CancelIoEx (§7), closesocket (§2), skip-on-success (§6), peer send,
 * shutdown and reset, WSAGetOverlappedResult (§6) live here too, with the
 * overlapped-lifetime monitor and the list of operations never completed.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

/* ---- Byte rings ---- */

static void bytes_push(sim_ctx *s, kern_bytes *b, const void *data, uint32_t n) {
    if (b->len + n > KERN_MAX_SOCKBUF)
        kern_limit(s, "socket-buffer-limit", "limit: more than %u bytes buffered in one socket (KERN_MAX_SOCKBUF)",
                   KERN_MAX_SOCKBUF);
    if (b->len + n > b->cap) {
        uint32_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        unsigned char *nb = malloc(cap);
        if (nb == NULL) sim__end(s, SIM_LIMIT, "memory-limit", "limit: out of memory for a socket buffer");
        for (uint32_t i = 0; i < b->len; i++) nb[i] = b->buf[(b->head + i) & (b->cap - 1)];
        free(b->buf);
        b->buf = nb;
        b->cap = cap;
        b->head = 0;
    }
    SIM_CHECK(s, b->len + n <= b->cap && (b->cap & (b->cap - 1)) == 0, "a byte ring has room and a power-of-two size");
    const unsigned char *d = data;
    uint32_t tail = (b->head + b->len) & (b->cap - 1);
    uint32_t first = b->cap - tail < n ? b->cap - tail : n;
    memcpy(b->buf + tail, d, first);
    memcpy(b->buf, d + first, n - first);
    b->len += n;
}

/* Pops n bytes into out (NULL: discard). */
static void bytes_pop(sim_ctx *s, kern_bytes *b, void *out, uint32_t n) {
    SIM_CHECK(s, n <= b->len, "a byte ring gives only the bytes it holds");
    if (out != NULL) {
        uint32_t first = b->cap - b->head < n ? b->cap - b->head : n;
        memcpy(out, b->buf + b->head, first);
        memcpy((unsigned char *)out + first, b->buf, n - first);
    }
    b->head = b->len == n ? 0 : (b->head + n) & (b->cap - 1);
    b->len -= n;
}

static uint32_t bytes_peek32(const kern_bytes *b) {
    uint32_t v = 0;
    for (uint32_t i = 0; i < 4; i++) v |= (uint32_t)b->buf[(b->head + i) & (b->cap - 1)] << (8 * i);
    return v;
}

/* ---- Tables ---- */

void kern_sock_reset(kern_state *w) {
    for (uint32_t i = 0; i < w->nsocks; i++) {
        kern_sock *so = &w->socks[i];
        kern_bytes rx = so->rx, msgs = so->msgs;
        memset(so, 0, sizeof *so);
        so->rx = (kern_bytes){rx.buf, rx.cap, 0, 0};
        so->msgs = (kern_bytes){msgs.buf, msgs.cap, 0, 0};
    }
    w->nsocks = 0;
    w->nops = 0;
    w->free_op = 0;
    w->ops_live = 0;
    w->op_seq = 0;
}

void kern_sock_free_all(kern_state *w) {
    for (uint32_t i = 0; i < KERN_MAX_SOCKETS; i++) {
        free(w->socks[i].rx.buf);
        free(w->socks[i].msgs.buf);
    }
    free(w->socks);
}

static kern_op *op_new(sim_ctx *s, uint32_t *id) {
    kern_state *w = kern(s);
    uint32_t i;
    if (w->free_op != 0) {
        i = w->free_op - 1;
        SIM_CHECK(s, i < w->nops && w->ops[i].state == KERN_OP_FREE, "the operation free list holds free slots");
        w->free_op = w->ops[i].next_free;
    } else {
        if (w->nops >= KERN_MAX_OPS)
            kern_limit(s, "operation-limit", "limit: more than %u overlapped operations in flight (KERN_MAX_OPS)",
                       KERN_MAX_OPS);
        i = w->nops++;
    }
    kern_op *op = &w->ops[i];
    memset(op, 0, sizeof *op);
    op->seq = w->op_seq++;
    w->ops_live++;
    *id = i;
    return op;
}

static void op_free(sim_ctx *s, uint32_t id) {
    kern_state *w = kern(s);
    kern_op *op = &w->ops[id];
    SIM_CHECK(s, op->state != KERN_OP_FREE && w->ops_live > 0, "an operation is freed once");
    if (op->ov != NULL) kern_ov_slot(s, op->ov)->op = 0; /* the OVERLAPPED may be reused now */
    op->state = KERN_OP_FREE;
    op->next_free = w->free_op;
    w->free_op = id + 1;
    w->ops_live--;
}

static bool sock_get(sim_ctx *s, shim_handle h, uint32_t *sid) { return kern_handle_get(kern(s), h, KERN_H_SOCKET, sid); }

/* An OVERLAPPED's slot, used on socket sid: whether it is in flight and its
 * status block belong to the socket it was last used on, which is touched
 * too when it is another one. */
static kern_ovslot *ov_slot_on(sim_ctx *s, shim_overlapped *ov, uint32_t sid) {
    kern_ovslot *slot = kern_ov_slot(s, ov);
    uint32_t pair = kern_pair(kern(s), sid);
    if (slot->pair != 0 && slot->pair != pair + 1) kern_touch(s, SIM_KOBJ_SOCK, slot->pair - 1, true);
    slot->pair = pair + 1;
    return slot;
}

/* ---- Peers blocked in a harness recv or send ---- */

/* Something for a peer blocked in recv on `so`: bytes, EOF or a reset. */
static void wake_reader(sim_ctx *s, kern_sock *so) {
    if (so->recv_waiter == 0) return;
    uint32_t t = so->recv_waiter - 1;
    so->recv_waiter = 0;
    sim__wake(s, t);
}

/* Room in `so`'s receive window (or nobody left to read): a peer blocked
 * sending to it goes on. */
static void wake_sender(sim_ctx *s, kern_sock *so) {
    kern_sock *from = &kern(s)->socks[so->peer];
    if (from->send_waiter == 0) return;
    uint32_t t = from->send_waiter - 1;
    from->send_waiter = 0;
    sim__wake(s, t);
}

/* ---- Completion ---- */

static void write_status(shim_overlapped *ov, uint32_t status, uint32_t bytes) {
    ov->internal = status;
    ov->internal_high = bytes;
}

/* Ends operation `id` with (status, bytes). `pending`: it had returned 997.
 * §6: a packet is queued if the socket is port-bound, the event's low bit is
 * clear, and (pending or skip-on-success is not in effect) and (pending or the
 * status is not an error). Returns whether a packet was queued. */
static bool complete(sim_ctx *s, uint32_t id, uint32_t status, uint32_t bytes, bool pending) {
    kern_state *w = kern(s);
    kern_op *op = &w->ops[id];
    kern_sock *so = &w->socks[op->sock];
    SIM_CHECK(s, op->state == KERN_OP_PENDING && (!pending || so->pending > 0),
              "an operation completes once, and a pending one was counted on its socket");
    if (pending) so->pending--;
    bool is_error = (status >> 30) == 3;
    bool skipped = so->skip && so->skip_works;
    /* A datagram truncated at once is a failed call with a warning status:
     * Wine skips its packet like a success's; Windows may not (choice 'm'). */
    if (!pending && skipped && kern_is_dgram(so) && status == SHIM_STATUS_BUFFER_OVERFLOW)
        skipped = !kern_dgram_overflow_packet(s);
    bool packet = so->port != 0 && (op->ov->event & 1) == 0 && (pending || !skipped) && (pending || !is_error);
    if (packet) {
        /* §3: Windows writes the status block when the packet is removed,
         * Wine before queuing it. */
        uint32_t asked = s->ndecisions;
        op->defer_internal = sim__choose(s, SIM_CHOICE_INTERNAL, 2, NULL, SIM_NO_CURRENT) == 1;
        /* The choice shows only in the status block until the dequeue writes
         * it either way: WSAGetOverlappedResult in between observes it. */
        sim__access_effect(s, asked, SIM_ACC_KOBJ(SIM_KOBJ_STATUS, id));
        op->final_status = status;
        op->final_bytes = bytes;
        if (!op->defer_internal) write_status(op->ov, status, bytes);
        op->state = KERN_OP_QUEUED;
        kern_packet pk = {so->key, op->ov, bytes, status, id + 1, op->ov_ord, 0};
        sim__event(s, SIM_EV_IO_DONE, so->h, op->ov_ord, status, ((uint64_t)bytes << 1) | 1);
        kern_port_queue(s, so->port - 1, &pk);
    } else {
        write_status(op->ov, status, bytes);
        sim__event(s, SIM_EV_IO_DONE, so->h, op->ov_ord, status, (uint64_t)bytes << 1);
        op_free(s, id);
    }
    w->dirty = true;
    return packet;
}

bool kern_op_complete(sim_ctx *s, uint32_t id, uint32_t status, uint32_t bytes, bool pending) {
    return complete(s, id, status, bytes, pending);
}

void kern_op_dequeued(sim_ctx *s, const kern_packet *pk) {
    SIM_CHECK(s, pk->op - 1 < kern(s)->nops && kern(s)->ops[pk->op - 1].state == KERN_OP_QUEUED,
              "a dequeued completion's operation is queued");
    kern_op *op = &kern(s)->ops[pk->op - 1];
    kern_touch_sock(s, op->sock);
    if (op->defer_internal) write_status(op->ov, op->final_status, op->final_bytes);
    op_free(s, pk->op - 1);
}

/* ---- Transfers ---- */

static uint32_t buf_space(const kern_op *op) {
    uint64_t n = 0;
    for (uint32_t i = 0; i < op->nbufs; i++) n += op->bufs[i].len;
    return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static bool recv_ready(const kern_sock *so) {
    if (kern_is_dgram(so)) return kern_dgram_ready(so);
    return so->rx.len > 0 || so->reset || so->eof;
}

/* Flow control (sim_config.sock_buffer): a send goes through only when all
 * its bytes fit in what the direction holds; an overlapped send is taken
 * whole or pends, never in part (check_win32, send-buffer). Where the bytes
 * will be dropped (the peer closed or reset) or the send fails (a reset),
 * nothing holds it back. */
static bool send_fits(sim_ctx *s, const kern_op *op) {
    kern_state *w = kern(s);
    const kern_sock *so = &w->socks[op->sock], *peer = &w->socks[so->peer];
    uint64_t cap = s->cfg.sock_buffer;
    if (kern_is_dgram(so)) return true; /* a datagram goes or is dropped: a send never waits (FACTS.md D4) */
    if (cap == 0 || so->reset || !peer->open || peer->reset) return true;
    return (uint64_t)peer->rx.len + buf_space(op) <= cap;
}

/* The oldest pending operation of its socket and direction: the kernel
 * completes them in order (data goes to the first posted receive). */
static bool is_head(sim_ctx *s, uint32_t id) {
    kern_state *w = kern(s);
    const kern_op *op = &w->ops[id];
    for (uint32_t i = 0; i < w->nops; i++) {
        const kern_op *o = &w->ops[i];
        if (o->state == KERN_OP_PENDING && o->sock == op->sock && o->send == op->send && !o->closing &&
            o->seq < op->seq)
            return false;
    }
    return true;
}

/* Scatters n bytes from the ring into the operation's buffers. */
static void scatter(sim_ctx *s, kern_bytes *b, const kern_op *op, uint32_t n) {
    SIM_CHECK(s, n <= buf_space(op), "a receive takes no more than its buffers hold");
    for (uint32_t i = 0; i < op->nbufs && n > 0; i++) {
        uint32_t k = op->bufs[i].len < n ? op->bufs[i].len : n;
        bytes_pop(s, b, op->bufs[i].buf, k);
        n -= k;
    }
}

/* Performs a receive that recv_ready allows; returns its status, *bytes. */
static uint32_t do_recv(sim_ctx *s, uint32_t id, uint32_t *bytes) {
    kern_state *w = kern(s);
    kern_op *op = &w->ops[id];
    kern_sock *so = &w->socks[op->sock];
    uint32_t space = buf_space(op);
    *bytes = 0;
    if (kern_is_dgram(so)) return kern_dgram_recv(s, id, bytes);
    if (so->rx.len > 0 && so->msg) {
        uint32_t mlen = bytes_peek32(&so->msgs);
        bytes_pop(s, &so->msgs, NULL, 4);
        uint32_t k = mlen < space ? mlen : space;
        scatter(s, &so->rx, op, k);
        bytes_pop(s, &so->rx, NULL, mlen - k); /* a datagram's tail is dropped */
        wake_sender(s, so);
        *bytes = k;
        return mlen > space ? SHIM_STATUS_BUFFER_OVERFLOW : SHIM_STATUS_SUCCESS; /* §6: a warning */
    }
    if (so->rx.len > 0) {
        uint32_t avail = so->rx.len < space ? so->rx.len : space;
        uint32_t k = avail;
        if (avail > 1) { /* partial reads: the data may have arrived in pieces */
            uint32_t cand[4] = {avail, 1, avail / 2, avail - 1}, labels[4], n = 0;
            for (uint32_t i = 0; i < 4; i++) {
                bool dup = cand[i] == 0;
                for (uint32_t j = 0; j < n; j++) dup = dup || cand[labels[j]] == cand[i];
                if (!dup) labels[n++] = i;
            }
            if (n > 1) k = cand[labels[sim__choose(s, SIM_CHOICE_PARTIAL, n, labels, SIM_NO_CURRENT)]];
        }
        scatter(s, &so->rx, op, k);
        wake_sender(s, so);
        *bytes = k;
        return SHIM_STATUS_SUCCESS;
    }
    if (so->reset) return SHIM_STATUS_CONNECTION_RESET;
    return SHIM_STATUS_SUCCESS; /* graceful close: 0 bytes */
}

static void deliver_to_peer(sim_ctx *s, kern_sock *so, const void *data, uint32_t n) {
    kern_state *w = kern(s);
    kern_sock *peer = &w->socks[so->peer];
    if (!peer->open || peer->reset) return; /* nobody will read it */
    bytes_push(s, &peer->rx, data, n);
    wake_reader(s, peer);
    if (peer->msg) {
        unsigned char len[4] = {(unsigned char)n, (unsigned char)(n >> 8), (unsigned char)(n >> 16),
                                (unsigned char)(n >> 24)};
        bytes_push(s, &peer->msgs, len, 4);
    }
    w->dirty = true;
}

static uint32_t do_send(sim_ctx *s, uint32_t id, uint32_t *bytes) {
    kern_state *w = kern(s);
    kern_op *op = &w->ops[id];
    kern_sock *so = &w->socks[op->sock];
    *bytes = 0;
    if (kern_is_dgram(so)) return kern_dgram_send(s, id, bytes);
    if (so->reset) return SHIM_STATUS_CONNECTION_RESET;
    if (w->socks[so->peer].msg) {
        /* one message: gather it first */
        uint32_t total = buf_space(op);
        unsigned char *tmp = sim_alloc(s, total ? total : 1);
        uint32_t at = 0;
        for (uint32_t i = 0; i < op->nbufs; i++) {
            memcpy(tmp + at, op->bufs[i].buf, op->bufs[i].len);
            at += op->bufs[i].len;
        }
        deliver_to_peer(s, so, tmp, total);
        *bytes = total;
        return SHIM_STATUS_SUCCESS;
    }
    for (uint32_t i = 0; i < op->nbufs; i++) {
        deliver_to_peer(s, so, op->bufs[i].buf, op->bufs[i].len);
        *bytes += op->bufs[i].len;
    }
    return SHIM_STATUS_SUCCESS;
}

/* ---- Kernel actions ---- */

bool kern_op_actionable(sim_ctx *s, uint32_t id) {
    kern_state *w = kern(s);
    const kern_op *op = &w->ops[id];
    if (op->closing || op->cancel) return true;
    if (op->kind != KERN_OPK_IO) return kern_conn_actionable(s, id);
    if (op->send) return is_head(s, id) && send_fits(s, op);
    return recv_ready(&w->socks[op->sock]) && is_head(s, id);
}

void kern_op_fire(sim_ctx *s, uint32_t id) {
    kern_state *w = kern(s);
    kern_op *op = &w->ops[id];
    kern_touch_sock(s, op->sock);
    kern_sock *so = &w->socks[op->sock];
    if (op->closing) {
        complete(s, id, op->close_status, 0, true);
        return;
    }
    if (op->kind != KERN_OPK_IO) {
        kern_conn_fire(s, id);
        return;
    }
    bool normal = op->send ? is_head(s, id) && send_fits(s, op) : recv_ready(so) && is_head(s, id);
    if (op->cancel) {
        /* §7: a cancel may come too late: the operation completes normally
         * (with an error if the socket failed meanwhile), or ends with 995. */
        if (!normal || sim__choose(s, SIM_CHOICE_CANCEL, 2, NULL, SIM_NO_CURRENT) == 0) {
            complete(s, id, SHIM_STATUS_CANCELLED, 0, true);
            return;
        }
    }
    uint32_t bytes, st = op->send ? do_send(s, id, &bytes) : do_recv(s, id, &bytes);
    complete(s, id, st, bytes, true);
}

/* ---- The seam: socket pairs and harness-side calls ---- */

uint32_t kern_sock_new(sim_ctx *s, bool embryo) {
    kern_state *w = kern(s);
    if (w->nsocks >= KERN_MAX_SOCKETS)
        kern_limit(s, "socket-limit", "limit: more than %u sockets per execution (KERN_MAX_SOCKETS)",
                   KERN_MAX_SOCKETS);
    uint32_t id = w->nsocks++;
    kern_sock *so = &w->socks[id];
    so->open = true;
    so->peer = id; /* until it is connected: its own pair in the access log */
    so->h = embryo ? SHIM_NULL_HANDLE : kern_handle_new(s, KERN_H_SOCKET, id);
    return id;
}

static uint32_t new_sock(sim_ctx *s) { return kern_sock_new(s, false); }

static bool socket_pair(void *ctx, shim_handle out[2]) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    uint32_t a = new_sock(s), b = new_sock(s);
    kern_state *w = kern(s);
    w->socks[a].peer = b;
    w->socks[b].peer = a;
    out[0] = w->socks[a].h;
    out[1] = w->socks[b].h;
    sim__event(s, SIM_EV_SOCK_PAIR, out[0], out[1], 0, 0);
    return true;
}

bool sim_sock_message_mode(sim_ctx *s, shim_handle h) {
    uint32_t sid;
    if (s->kernel_state == NULL || !sock_get(s, h, &sid)) return false;
    kern_state *w = kern(s);
    w->socks[sid].msg = true;
    w->socks[w->socks[sid].peer].msg = true;
    return true;
}

/* The start of a call on a socket: a scheduling point, then the
 * socket, or WSAENOTSOCK. */
static bool sock_call(sim_ctx *s, shim_handle h, uint32_t *sid) {
    sim__sched_point(s);
    if (sock_get(s, h, sid)) return true;
    kern_set_error(s, SHIM_WSAENOTSOCK);
    return false;
}

/* A blocking send: what fits in the receiver's window (sim_config.
 * recv_window) goes at once, the rest when the receiver reads, as a
 * blocking TCP send does (check_win32, recv-window). A message goes whole. */
static int send_sync(void *ctx, shim_handle h, const void *buf, uint32_t len) {
    sim_ctx *s = ctx;
    uint32_t sid;
    if (!sock_call(s, h, &sid)) return -1;
    kern_state *w = kern(s);
    kern_sock *so = &w->socks[sid], *to = &w->socks[so->peer];
    const unsigned char *p = buf;
    uint32_t done = 0;
    for (;;) {
        if (so->shut_send || so->reset) {
            kern_set_error(s, so->reset ? SHIM_WSAECONNRESET : SHIM_WSAESHUTDOWN);
            return -1;
        }
        uint32_t room = len - done, cap = s->cfg.recv_window;
        if (cap != 0 && !to->msg && to->open && !to->reset) room = to->rx.len >= cap ? 0 : cap - to->rx.len < room ? cap - to->rx.len : room;
        if (room > 0 || done == len) {
            deliver_to_peer(s, so, p + done, room);
            done += room;
            if (done == len) break;
        }
        sim__event(s, SIM_EV_SOCK_PEER, h, 5, done, 0);
        so->send_waiter = s->current + 1;
        sim__block(s, (sim_wait_kind)KERN_WAIT_PEER_SEND, sid, -1);
        kern_touch_sock(s, sid); /* woken: a new step, which reads the pair again */
        so->send_waiter = 0;
    }
    sim__event(s, SIM_EV_SOCK_PEER, h, 0, len, 0);
    return (int)len;
}

static int recv_sync(void *ctx, shim_handle h, void *buf, uint32_t len, bool wait) {
    sim_ctx *s = ctx;
    uint32_t sid;
    if (!sock_call(s, h, &sid)) return -1;
    kern_state *w = kern(s);
    kern_sock *so = &w->socks[sid];
    if (kern_is_dgram(so)) return kern_dgram_recv_sync(s, h, sid, buf, len, wait);
    for (;;) {
        if (so->rx.len > 0 && len > 0) {
            uint32_t n = so->rx.len < len ? so->rx.len : len, skip = 0;
            if (so->msg) { /* one datagram; its tail is dropped */
                uint32_t mlen = bytes_peek32(&so->msgs);
                bytes_pop(s, &so->msgs, NULL, 4);
                n = mlen < len ? mlen : len;
                skip = mlen - n;
            }
            bytes_pop(s, &so->rx, buf, n);
            bytes_pop(s, &so->rx, NULL, skip);
            wake_sender(s, so);
            w->dirty = true; /* a send pending on the full buffer may fit now */
            sim__event(s, SIM_EV_SOCK_PEER, h, 4, n, 0);
            return (int)n;
        }
        if (so->reset) {
            kern_set_error(s, SHIM_WSAECONNRESET);
            return -1;
        }
        if (so->eof || !wait || len == 0) {
            sim__event(s, SIM_EV_SOCK_PEER, h, 4, 0, 0);
            return 0;
        }
        so->recv_waiter = s->current + 1;
        sim__block(s, (sim_wait_kind)KERN_WAIT_PEER_RECV, sid, -1);
        kern_touch_sock(s, sid); /* woken: a new step, which reads the pair again */
        so->recv_waiter = 0;
    }
}

static bool shutdown_send(void *ctx, shim_handle h) {
    sim_ctx *s = ctx;
    uint32_t sid;
    if (!sock_call(s, h, &sid)) return false;
    kern_state *w = kern(s);
    w->socks[sid].shut_send = true;
    w->socks[w->socks[sid].peer].eof = true; /* reads give 0 after the data */
    wake_reader(s, &w->socks[w->socks[sid].peer]);
    w->dirty = true;
    sim__event(s, SIM_EV_SOCK_PEER, h, 1, 0, 0);
    return true;
}

/* Closes socket sid (closesocket, CloseHandle, or an abortive close). §2:
 * pending operations are cancelled; their packets are still queued, with a
 * status chosen once per close ('k'), as kernel actions that may run after
 * closesocket has returned. */
void kern_sock_close(sim_ctx *s, shim_handle h, uint32_t sid, bool abortive) {
    kern_state *w = kern(s);
    SIM_CHECK(s, sid < w->nsocks && w->socks[sid].open && w->socks[sid].h == h, "a closed socket was open");
    kern_sock *so = &w->socks[sid];
    kern_handle_free(w, h);
    so->open = false;
    uint32_t status = SHIM_STATUS_CANCELLED;
    bool unpaired = kern_conn_close(s, sid, &status);
    if (unpaired) {
        for (uint32_t i = 0; i < w->nops; i++) {
            kern_op *op = &w->ops[i];
            if (op->state == KERN_OP_PENDING && op->sock == sid) {
                op->closing = true;
                op->close_status = status;
            }
        }
        w->dirty = true;
        sim__event(s, SIM_EV_SOCK_PEER, h, 3, status, so->pending);
        return;
    }
    if (so->pending > 0) {
        /* §2 documents 995 (what-if: not seen by Wine's tests); XP gives
         * LOCAL_DISCONNECT (old-windows); Wine 8 HANDLES_CLOSED (wine);
         * Windows 10+ CONNECTION_ABORTED (windows) (§12 W18). */
        static const uint32_t st[4] = {SHIM_STATUS_CANCELLED, SHIM_STATUS_LOCAL_DISCONNECT, SHIM_STATUS_HANDLES_CLOSED,
                                       SHIM_STATUS_CONNECTION_ABORTED};
        status = st[sim__choose(s, SIM_CHOICE_CLOSE, 4, NULL, SIM_NO_CURRENT)];
        for (uint32_t i = 0; i < w->nops; i++) {
            kern_op *op = &w->ops[i];
            if (op->state == KERN_OP_PENDING && op->sock == sid) {
                op->closing = true;
                op->close_status = status;
            }
        }
    }
    kern_sock *peer = &w->socks[so->peer];
    if (kern_is_dgram(so)) { /* no peer: its queue goes with it, its port is free again */
        kern_bytes_pop(s, &so->rx, NULL, so->rx.len);
        so->msgs.len = so->msgs.head = 0;
        so->dgram_bytes = 0;
        w->dirty = true;
        sim__event(s, SIM_EV_SOCK_PEER, h, 3, status, so->pending);
        return;
    }
    if (abortive || so->rx.len > 0) {
        /* A reset (also what a close with unread data sends): the peer's
         * buffered data is lost and reads fail. */
        peer->reset = true;
        bytes_pop(s, &peer->rx, NULL, peer->rx.len);
        peer->msgs.len = peer->msgs.head = 0;
    } else {
        peer->eof = true;
    }
    wake_reader(s, peer);
    wake_sender(s, so);  /* nobody will read what it sends */
    wake_sender(s, peer); /* its window emptied, or it is closed */
    w->dirty = true;
    sim__event(s, SIM_EV_SOCK_PEER, h, abortive ? 2 : 3, status, so->pending);
}

static bool sock_abort(void *ctx, shim_handle h) {
    sim_ctx *s = ctx;
    uint32_t sid;
    if (!sock_call(s, h, &sid)) return false;
    kern_sock_close(s, h, sid, true);
    return true;
}

static int closesocket_(void *ctx, shim_handle h) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    uint32_t sid;
    if (!sock_get(s, h, &sid)) {
        kern_set_error(s, SHIM_WSAENOTSOCK);
        return SHIM_SOCKET_ERROR;
    }
    kern_sock_close(s, h, sid, false);
    return 0;
}

/* ---- Overlapped recv / send (§6) ---- */

/* Common start: validation and the overlapped-lifetime monitor. Returns
 * the new operation id, or UINT32_MAX with the last error set. */
static uint32_t start(sim_ctx *s, shim_handle h, shim_wsabuf *bufs, uint32_t nbufs, shim_overlapped *ov, bool send) {
    kern_state *w = kern(s);
    uint32_t sid;
    if (!sock_get(s, h, &sid)) {
        kern_set_error(s, SHIM_WSAENOTSOCK);
        return UINT32_MAX;
    }
    /* Not connected (a stream socket before its connect or accept
     * completed): 10057; after shutdown(SD_RECEIVE): 10058. A datagram
     * socket needs no connection (dgram.c). */
    bool unconnected = w->socks[sid].role != KERN_ROLE_PAIR && !kern_is_dgram(&w->socks[sid]);
    if (unconnected || (!send && w->socks[sid].shut_recv)) {
        kern_set_error(s, unconnected ? SHIM_WSAENOTCONN : SHIM_WSAESHUTDOWN);
        return UINT32_MAX;
    }
    if (ov == NULL || (nbufs > 0 && bufs == NULL)) {
        kern_set_error(s, SHIM_WSAEINVAL);
        return UINT32_MAX;
    }
    if (!send && nbufs == 0 && sim__choose(s, SIM_CHOICE_ZEROBUFS, 2, NULL, SIM_NO_CURRENT) == 0) {
        /* §12 W34: no buffers is WSAEINVAL on Windows; Wine 8 takes the
         * request (alternative 1) as a zero-length receive. */
        kern_set_error(s, SHIM_WSAEINVAL);
        return UINT32_MAX;
    }
    if (nbufs > KERN_MAX_BUFS)
        kern_limit(s, "wsabuf-limit", "limit: more than %u WSABUFs in one request (KERN_MAX_BUFS)", KERN_MAX_BUFS);
    uint32_t id = kern_op_begin(s, sid, ov, KERN_OPK_IO, send);
    kern_op *op = &w->ops[id];
    op->nbufs = nbufs;
    for (uint32_t i = 0; i < nbufs; i++) op->bufs[i] = bufs[i]; /* the WSABUF array is captured */
    return id;
}

static const char *op_name(uint8_t kind, bool send) {
    return kind == KERN_OPK_ACCEPT ? "AcceptEx" : kind == KERN_OPK_CONNECT ? "ConnectEx" : send ? "WSASend" : "WSARecv";
}

uint32_t kern_op_begin(sim_ctx *s, uint32_t sid, shim_overlapped *ov, uint8_t kind, bool send) {
    kern_state *w = kern(s);
    shim_handle h = w->socks[sid].h;
    kern_ovslot *slot = ov_slot_on(s, ov, sid);
    if (slot->op != 0) {
        /* Monitor: the OVERLAPPED of an operation still in flight (pending,
         * or its packet not yet dequeued) must not be reused. */
        const kern_op *old = &w->ops[slot->op - 1];
        const char *msg = sim_arena_printf(
            &s->arena, "T%u '%s' resubmits ov%u (%s on h%llu) while its %s on h%llu is still in flight (%s)",
            s->current, s->threads[s->current].name, slot->ord + 1, op_name(kind, send),
            (unsigned long long)h, op_name(old->kind, old->send), (unsigned long long)w->socks[old->sock].h,
            old->state == KERN_OP_PENDING ? "pending" : "its packet is not yet dequeued");
        sim__event(s, SIM_EV_FAIL, (uint64_t)(uintptr_t)msg, 0, 0, 0);
        sim__end(s, SIM_FAIL, "overlapped-lifetime", msg);
    }
    uint32_t id;
    kern_op *op = op_new(s, &id);
    op->send = send;
    op->kind = kind;
    op->sock = sid;
    op->ov = ov;
    op->ov_ord = slot->ord + 1;
    op->state = KERN_OP_PENDING;
    slot->op = id + 1;
    write_status(ov, SHIM_STATUS_PENDING, 0); /* §3: STATUS_PENDING while in flight */
    return id;
}

/* Finishes a started operation: at once (synchronous) or pending. `must`:
 * it finishes at once, no choice (a send on a reset socket, §12 W4/W5). */
static int finish(sim_ctx *s, uint32_t id, bool can_now, bool must, uint32_t *bytes, shim_handle h) {
    kern_state *w = kern(s);
    kern_op *op = &w->ops[id];
    bool send = op->send;
    uint32_t ord = op->ov_ord;
    bool dgram = kern_is_dgram(&w->socks[op->sock]);
    bool sync = must || (can_now && sim__choose(s, SIM_CHOICE_SYNC, 2, NULL, SIM_NO_CURRENT) == 0);
    if (!sync) {
        w->socks[op->sock].pending++;
        w->dirty = true;
        sim__event(s, SIM_EV_SOCK_IO, h, ord, ((uint64_t)send << 32) | SHIM_ERROR_IO_PENDING, 0);
        kern_set_error(s, SHIM_ERROR_IO_PENDING);
        return SHIM_SOCKET_ERROR;
    }
    uint32_t n, st = send ? do_send(s, id, &n) : do_recv(s, id, &n);
    uint32_t err = kern_nt_failed(st) ? kern_nt_to_wsa(st) : 0;
    sim__event(s, SIM_EV_SOCK_IO, h, ord, ((uint64_t)send << 32) | err, n);
    complete(s, id, st, n, false);
    if (err != 0) {
        /* A synchronous error queues nothing; a synchronous warning
         * (WSAEMSGSIZE) still queues a packet: the double completion (§6). */
        if (st == SHIM_STATUS_BUFFER_OVERFLOW && bytes != NULL && !dgram) *bytes = n;
        kern_set_error(s, err);
        return SHIM_SOCKET_ERROR;
    }
    if (bytes != NULL) *bytes = n;
    return 0;
}

static int wsa_recv(void *ctx, shim_handle h, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes, uint32_t *flags,
                    shim_overlapped *ov) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    kern_flags_modelled(s, "WSARecv", flags != NULL ? *flags : 0);
    uint32_t id = start(s, h, bufs, nbufs, ov, false);
    if (id == UINT32_MAX) return SHIM_SOCKET_ERROR;
    if (flags != NULL) *flags = 0;
    kern_state *w = kern(s);
    kern_sock *so = &w->socks[w->ops[id].sock];
    if (so->reset && so->rx.len == 0 && is_head(s, id) &&
        sim__choose(s, SIM_CHOICE_RESETRECV, 2, NULL, SIM_NO_CURRENT) == 1) {
        /* §12 W11/W12: Windows fails at once with WSAECONNRESET (below);
         * Wine 8 differs (todo_wine there; measured by check_win32): it
         * succeeds at once with 0 bytes, as at EOF. */
        sim__event(s, SIM_EV_SOCK_IO, h, w->ops[id].ov_ord, 0, 0);
        complete(s, id, SHIM_STATUS_SUCCESS, 0, false);
        if (bytes != NULL) *bytes = 0;
        return 0;
    }
    bool can = recv_ready(so) && is_head(s, id);
    return finish(s, id, can, false, bytes, h);
}

static int wsa_send(void *ctx, shim_handle h, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes, uint32_t flags,
                    shim_overlapped *ov) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    kern_flags_modelled(s, "WSASend", flags);
    kern_state *w = kern(s);
    uint32_t sid;
    if (sock_get(s, h, &sid) && w->socks[sid].shut_send) {
        kern_set_error(s, SHIM_WSAESHUTDOWN);
        return SHIM_SOCKET_ERROR;
    }
    if (sock_get(s, h, &sid) && kern_is_dgram(&w->socks[sid])) {
        kern_set_error(s, SHIM_WSAEINVAL); /* unconnected: 10022, no packet (Wine 8, measured; [D] says WSAENOTCONN) */
        return SHIM_SOCKET_ERROR;
    }
    uint32_t id = start(s, h, bufs, nbufs, ov, true);
    if (id == UINT32_MAX) return SHIM_SOCKET_ERROR;
    /* §12 W4/W5: on a socket the peer reset, WSAECONNRESET at once, no
     * packet (Windows and Wine alike). */
    return finish(s, id, is_head(s, id) && send_fits(s, &w->ops[id]), w->socks[w->ops[id].sock].reset, bytes, h);
}

/* ---- CancelIoEx (§7) ---- */

static bool cancel_io_ex(void *ctx, shim_handle h, shim_overlapped *ov) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    kern_state *w = kern(s);
    uint8_t kind = kern_handle_kind(w, h);
    uint32_t ord = ov != NULL ? kern_ov_ord(s, ov) : 0;
    if (kind == KERN_H_FREE) {
        sim__event(s, SIM_EV_CANCEL, h, ord, 0, SHIM_ERROR_INVALID_HANDLE);
        kern_set_error(s, SHIM_ERROR_INVALID_HANDLE);
        return false;
    }
    uint32_t sid = UINT32_MAX, matched = 0;
    if (kind == KERN_H_SOCKET) kern_handle_get(w, h, KERN_H_SOCKET, &sid);
    /* Wine skips requests already terminated or cancelled: one that finished
     * but whose packet is not yet dequeued is NOT_FOUND, and its packet still
     * arrives (§7, §11). */
    for (uint32_t i = 0; i < w->nops && sid != UINT32_MAX; i++) {
        kern_op *op = &w->ops[i];
        if (op->state != KERN_OP_PENDING || op->sock != sid || op->cancel || op->closing) continue;
        if (ov != NULL && op->ov != ov) continue;
        op->cancel = true;
        matched++;
    }
    sim__event(s, SIM_EV_CANCEL, h, ord, matched, matched ? 0 : SHIM_ERROR_NOT_FOUND);
    if (matched == 0) {
        kern_set_error(s, SHIM_ERROR_NOT_FOUND);
        return false;
    }
    w->dirty = true;
    return true;
}

/* ---- SetFileCompletionNotificationModes (§6) ---- */

/* Whether the socket's provider is IFS, decided once per socket when first
 * needed: a non-IFS LSP makes skip-on-success ineffective (KB 2568167; Go
 * issues 22149 and 77448), and socket_is_ifs reports the same answer. */
static bool provider_ifs(sim_ctx *s, kern_sock *so) {
    if (!so->ifs_known) {
        so->ifs_known = true;
        so->skip_works = sim__choose(s, SIM_CHOICE_SKIP, 2, NULL, SIM_NO_CURRENT) == 0;
    }
    return so->skip_works;
}

static bool socket_is_ifs(void *ctx, shim_handle h) {
    sim_ctx *s = ctx;
    uint32_t sid;
    if (!sock_call(s, h, &sid)) return false;
    return provider_ifs(s, &kern(s)->socks[sid]);
}

static bool set_modes(void *ctx, shim_handle h, uint8_t flags) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    kern_state *w = kern(s);
    uint32_t sid;
    uint32_t err = 0;
    if (!sock_get(s, h, &sid))
        err = kern_handle_kind(w, h) == KERN_H_FREE ? SHIM_ERROR_INVALID_HANDLE : SHIM_ERROR_INVALID_PARAMETER;
    /* §12 N11/N12: 0x4 and unknown bits are accepted (and ignored). */
    if (err != 0) {
        sim__event(s, SIM_EV_SET_MODES, h, flags, 0, err);
        kern_set_error(s, err);
        return false;
    }
    kern_sock *so = &w->socks[sid];
    if ((flags & SHIM_FILE_SKIP_COMPLETION_PORT_ON_SUCCESS) && !so->skip) {
        so->skip = true; /* flags are only ever added (§6) */
        provider_ifs(s, so);
    }
    sim__event(s, SIM_EV_SET_MODES, h, flags, so->skip && so->skip_works, 0);
    return true;
}

/* ---- WSAGetOverlappedResult (§6) ---- */

static bool get_result(void *ctx, shim_handle h, shim_overlapped *ov, uint32_t *bytes, bool wait, uint32_t *flags) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    (void)wait; /* fWait needs an event, which simulated requests never have: as FALSE */
    uint32_t sid;
    uint32_t ord = ov != NULL ? kern_ov_ord(s, ov) : 0;
    if (!sock_get(s, h, &sid) || ov == NULL) {
        uint32_t e = ov == NULL ? SHIM_WSAEINVAL : SHIM_WSAENOTSOCK;
        sim__event(s, SIM_EV_GET_RESULT, h, ord, e, 0);
        kern_set_error(s, e);
        return false;
    }
    kern_ovslot *slot = ov_slot_on(s, ov, sid);
    if (slot->op != 0 && kern(s)->ops[slot->op - 1].state == KERN_OP_QUEUED)
        kern_touch(s, SIM_KOBJ_STATUS, slot->op - 1, false); /* sees choice 'i' */
    /* It reads the status block: with Internal final only at dequeue, an
     * operation already completed still reads as pending (§3). */
    uint32_t st = (uint32_t)ov->internal;
    if (st == SHIM_STATUS_BUFFER_OVERFLOW) {
        /* A truncated datagram (a warning): FALSE with WSAEMSGSIZE, and the
         * bytes copied are given (Wine 8, measured: FACTS.md D2). */
        *bytes = (uint32_t)ov->internal_high;
        sim__event(s, SIM_EV_GET_RESULT, h, ord, SHIM_WSAEMSGSIZE, 0);
        kern_set_error(s, SHIM_WSAEMSGSIZE);
        return false;
    }
    if (st == SHIM_STATUS_PENDING || kern_nt_failed(st)) {
        uint32_t e = kern_nt_to_wsa(st); /* 996 while pending; bytes not updated on failure */
        sim__event(s, SIM_EV_GET_RESULT, h, ord, e, 0);
        kern_set_error(s, e);
        return false;
    }
    *bytes = (uint32_t)ov->internal_high;
    if (flags != NULL) *flags = 0;
    sim__event(s, SIM_EV_GET_RESULT, h, ord, 0, *bytes);
    return true;
}

/* ---- Monitor: operations never completed ---- */

const char *kern_op_leftovers(sim_ctx *s, uint32_t *count) {
    kern_state *w = kern(s);
    const char *out = "";
    uint32_t n = 0;
    for (uint32_t i = 0; i < w->nops; i++) {
        const kern_op *op = &w->ops[i];
        if (op->state != KERN_OP_PENDING) continue;
        if (n++ < KERN_LEFTOVERS_LISTED)
            out = sim_arena_printf(&s->arena, "%s  socket h%llu: %s ov%u never completed%s\n", out,
                                   (unsigned long long)w->socks[op->sock].h, op_name(op->kind, op->send),
                                   op->ov_ord, op->cancel ? " (cancel requested)" : op->closing ? " (socket closed)" : "");
    }
    if (n > KERN_LEFTOVERS_LISTED) out = sim_arena_printf(&s->arena, "%s  ... and %u more operations\n", out, n - KERN_LEFTOVERS_LISTED);
    *count = n;
    return out;
}

/* ---- For dgram.c ---- */

uint32_t kern_op_start(sim_ctx *s, shim_handle h, shim_wsabuf *bufs, uint32_t nbufs, shim_overlapped *ov, bool send) {
    return start(s, h, bufs, nbufs, ov, send);
}
int kern_op_finish(sim_ctx *s, uint32_t id, bool can_now, bool must, uint32_t *bytes, shim_handle h) {
    return finish(s, id, can_now, must, bytes, h);
}
bool kern_sock_call(sim_ctx *s, shim_handle h, uint32_t *sid) { return sock_call(s, h, sid); }
void kern_bytes_push(sim_ctx *s, kern_bytes *b, const void *data, uint32_t n) { bytes_push(s, b, data, n); }
void kern_bytes_pop(sim_ctx *s, kern_bytes *b, void *out, uint32_t n) { bytes_pop(s, b, out, n); }
void kern_sock_wake_reader(sim_ctx *s, kern_sock *so) { wake_reader(s, so); }

void kern_sock_fill(shim *sh, shim_harness *hn) {
    sh->wsa_recv = wsa_recv;
    sh->wsa_send = wsa_send;
    sh->cancel_io_ex = cancel_io_ex;
    sh->closesocket = closesocket_;
    sh->set_file_completion_notification_modes = set_modes;
    sh->socket_is_ifs = socket_is_ifs;
    sh->wsa_get_overlapped_result = get_result;
    hn->socket_pair = socket_pair;
    hn->sock_send_sync = send_sync;
    hn->sock_shutdown_send = shutdown_send;
    hn->sock_abort = sock_abort;
    hn->sock_recv_sync = recv_sync;
    kern_dgram_fill(sh, hn);
}
