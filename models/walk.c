/* walk.c - the shared state of the property checkers, event by event.
 *
 * mw_apply knows what each event means for OVERLAPPEDs (packets queued and
 * dequeued), sockets (skip-on-success, their fd, the operations' packets
 * still queued), pollDesc slots (which socket their key belongs to now),
 * threads (their open operation, their wait), fds (deadlines, close) and
 * ports (break packets). It judges nothing: the properties do (props_*.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "walk.h"

#define STATUS_WARNING_OVERFLOW 0x80000005u /* STATUS_BUFFER_OVERFLOW (iocp-facts §0) */
#define STATUS_FAILED 0xC0000001u           /* STATUS_UNSUCCESSFUL: a submission that failed at once */

static void *tget(model_map *m, void **v, uint32_t *cap, size_t elem, uint64_t key) {
    bool added;
    uint32_t i = model_map_get(m, key, &added);
    if (added) {
        *v = model_grow(*v, cap, i, elem);
        memset((char *)*v + (size_t)(i - 1) * elem, 0, elem);
    }
    return (char *)*v + (size_t)(i - 1) * elem;
}

#define TGET(w, t, key) tget(&(w)->t.map, (void **)&(w)->t.v, &(w)->t.cap, sizeof *(w)->t.v, (key))

mw_ov *mw_ov_get(mw *w, uint64_t ov) { return TGET(w, ovs, ov); }
mw_slot *mw_slot_get(mw *w, uint64_t slot) { return TGET(w, slots, slot); }
mw_thread *mw_thread_get(mw *w, uint32_t thread) { return TGET(w, threads, thread); }
mw_port *mw_port_get(mw *w, uint64_t port) { return TGET(w, ports, port); }

mw_sock *mw_sock_get(mw *w, uint64_t sock) {
    bool fresh = model_map_find(&w->socks.map, sock) == 0;
    mw_sock *s = TGET(w, socks, sock);
    if (fresh) s->fd = MW_NO_FD;
    return s;
}

mw_fd *mw_fd_get(mw *w, uint64_t fd) {
    bool fresh = model_map_find(&w->fds.map, fd) == 0;
    mw_fd *f = TGET(w, fds, fd);
    if (fresh)
        for (uint32_t m = 0; m < 2; m++) {
            f->exp[m] = f->grp_min[m] = f->held_min[m] = MW_NEVER;
            f->grp_alone[m] = true;
        }
    return f;
}

mw_op *mw_op_at(mw *w, uint32_t index) { return &w->ops.v[index - 1]; }
uint32_t mw_op_of_slot(const mw *w, uint64_t slot) { return model_map_find(&w->ops.map, slot); }


const char *mw_ms(int64_t ns, char buf[32]) {
    uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    snprintf(buf, 32, "%s%llu.%06llums", ns < 0 ? "-" : "", (unsigned long long)(u / 1000000),
             (unsigned long long)(u % 1000000));
    return buf;
}

void mw_fail(mw *w, uint32_t p, uint32_t nseq, const uint64_t *seqs, const char *fmt, ...) {
    if (!mw_live(w, p)) return;
    w->failed |= 1u << p;
    model_violation *v = &w->v[p];
    v->property = model_property_names[p];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->message, sizeof v->message, fmt, ap);
    va_end(ap);
    v->nevents = nseq < 4 ? nseq : 4;
    for (uint32_t i = 0; i < v->nevents; i++) v->events[i] = seqs[i];
}

/* ---- Events ---- */

static void submit(mw *w, const model_event *e) {
    const uint64_t *a = e->a;
    mw_thread *th = mw_thread_get(w, e->thread);
    mw_op *op = th->op != 0 ? mw_op_at(w, th->op) : NULL;
    bool by_op = op != NULL && !op->ended && model_op_is_rw(op->kind);
    mw_sock *s = mw_sock_get(w, a[0]);
    if (a[1] == 0) return; /* no OVERLAPPED: nothing to follow */
    mw_ov *o = mw_ov_get(w, a[1]);
    o->sock = a[0];
    o->sub_at = e->seq + 1;
    o->sub_op = by_op ? th->op : 0;
    o->sub_mode = (uint32_t)a[2];
    o->done = false;
    if (by_op) {
        op->last_ov = a[1];
        op->last_sub_seq = e->seq;
        s->op_ov[a[2] == 'w'] = a[1];
    }
    bool pending = a[3] == SHIM_ERROR_IO_PENDING;
    /* Synchronous completion: success, or a warning that still queues a packet (§6). */
    bool sync = a[3] == 0 || a[3] == SHIM_WSAEMSGSIZE || a[3] == SHIM_ERROR_MORE_DATA;
    bool def = pending || (sync && s->skip != MW_SKIP_EFFECTIVE && s->skip != MW_SKIP_UNKNOWN);
    if (def) {
        o->def++;
        o->def_seq = e->seq;
        if (by_op) {
            o->def_op++;
            s->out_op++;
            w->out_op++;
        }
    } else if (sync && s->skip == MW_SKIP_UNKNOWN) {
        o->maybe++;
    }
    if (!pending) {
        o->done = true;
        o->status = sync ? (a[3] == 0 ? 0 : STATUS_WARNING_OVERFLOW) : STATUS_FAILED;
        o->bytes = sync ? (uint32_t)a[4] : 0;
        o->done_seq = e->seq;
    }
}

static void dequeue(mw *w, const model_event *e) {
    const uint64_t *a = e->a;
    mw_thread *th = mw_thread_get(w, e->thread);
    th->waiting = false;
    if (a[1] == NP_BREAK_KEY) {
        mw_port *p = mw_port_get(w, a[0]);
        if (p->breaks > 0) p->breaks--;
    }
    if (a[2] == 0) return;
    mw_ov *o = mw_ov_get(w, a[2]);
    o->deq_at = e->seq + 1;
    if (o->def > 0) {
        o->def--;
        if (o->def_op > 0) {
            o->def_op--;
            mw_sock *s = mw_sock_get(w, o->sock);
            if (s->out_op > 0) s->out_op--;
            if (w->out_op > 0) w->out_op--;
        }
    } else if (o->maybe > 0) {
        o->maybe--;
    }
    o->done = true;
    o->status = (uint32_t)a[3];
    o->bytes = (uint32_t)a[4];
    o->done_seq = e->seq;
    if (NP_KEY_SRC(a[1]) == NP_SRC_READY && o->sub_op == 0) {
        uint32_t si = model_map_find(&w->slots.map, NP_KEY_SLOT(a[1]));
        if (si != 0 && w->slots.v[si - 1].sock != 0) mw_sock_get(w, w->slots.v[si - 1].sock)->foreign_deq_at = e->seq + 1;
    }
}

static void op_begin(mw *w, const model_event *e) {
    const uint64_t *a = e->a;
    uint32_t i = model_map_renew(&w->ops.map, a[0]);
    w->ops.v = model_grow(w->ops.v, &w->ops.cap, i, sizeof *w->ops.v);
    mw_op *op = mw_op_at(w, i);
    memset(op, 0, sizeof *op);
    op->slot = a[0];
    op->kind = (uint32_t)a[1];
    op->thread = e->thread;
    op->fd = a[2];
    op->arg = (int64_t)a[3];
    op->begin_seq = e->seq;
    op->begin_time = e->time_ns;
    op->min_exp = MW_NEVER;
    w->open_ops++;
    mw_thread_get(w, e->thread)->op = i;
    if (op->fd == MW_NO_FD) return;
    mw_fd *f = mw_fd_get(w, op->fd);
    op->closed_before_at = f->close_end_at;
    if (model_op_is_rw(op->kind)) {
        uint32_t m = model_op_is_write(op->kind);
        /* Any deadline of the last group may be the poller's; while a set
         * is still running, so may the one before the group. */
        op->min_exp = f->grp_min[m];
        op->min_exp_seq = f->grp_min_seq[m];
        if (f->exp_unsettled[m] > 0 && f->held_min[m] < op->min_exp) {
            op->min_exp = f->held_min[m];
            op->min_exp_seq = f->held_min_seq[m];
        }
        /* Certainly past only when this thread's own set was the only one
         * of its group and every set has returned. */
        op->past_own = f->exp[m] == MW_EXPIRED && f->exp_thread[m] == e->thread && f->grp_alone[m] &&
                       f->exp_unsettled[m] == 0;
        op->past_seq = f->exp_seq[m];
        if (f->nopen < MW_FD_OPEN_OPS) f->open_ops[f->nopen++] = i;
        else op->exp_untracked = true;
    }
    if (op->kind == MOP_CLOSE) {
        if (f->close_begin_at == 0) f->close_begin_at = e->seq + 1;
        f->closes++;
    }
}

static void op_end(mw *w, const model_event *e) {
    uint32_t i = mw_op_of_slot(w, e->a[0]);
    if (i == 0) return;
    mw_op *op = mw_op_at(w, i);
    if (op->ended) return;
    op->ended = true;
    if (w->open_ops > 0) w->open_ops--;
    mw_thread *th = mw_thread_get(w, op->thread);
    if (th->op == i) th->op = 0;
    if (op->fd == MW_NO_FD) return;
    mw_fd *f = mw_fd_get(w, op->fd);
    for (uint32_t k = 0; k < f->nopen; k++) {
        if (f->open_ops[k] != i) continue;
        f->open_ops[k] = f->open_ops[--f->nopen];
        break;
    }
    if (op->kind == MOP_CLOSE && f->close_end_at == 0) f->close_end_at = e->seq + 1;
}

static void deadline(mw *w, const model_event *e) {
    const uint64_t *a = e->a;
    mw_fd *f = mw_fd_get(w, a[0]);
    int64_t x = a[2] == 0 ? MW_NEVER : a[2] == UINT64_MAX ? MW_EXPIRED : (int64_t)a[2];
    bool r = a[1] == 'r' || a[1] == 'r' + 'w', wr = a[1] == 'w' || a[1] == 'r' + 'w';
    for (uint32_t m = 0; m < 2; m++) {
        if (!(m == 0 ? r : wr)) continue;
        if (f->exp_unsettled[m] == 0) { /* a new group; the last one's is what the poller holds now */
            f->held_min[m] = f->grp_min[m];
            f->held_min_seq[m] = f->grp_min_seq[m];
            f->grp_min[m] = x;
            f->grp_min_seq[m] = e->seq;
            f->grp_alone[m] = true;
        } else {
            f->grp_alone[m] = false;
            if (x < f->grp_min[m]) {
                f->grp_min[m] = x;
                f->grp_min_seq[m] = e->seq;
            }
        }
        f->exp_unsettled[m]++;
        f->exp[m] = x;
        f->exp_seq[m] = e->seq;
        f->exp_thread[m] = e->thread;
    }
    /* The operations running now may have this deadline in force too (its
     * set may land before they look), and a past deadline of their own may
     * be replaced before their prepare reads it. */
    for (uint32_t k = 0; k < f->nopen; k++) {
        mw_op *op = mw_op_at(w, f->open_ops[k]);
        bool hit = model_op_is_write(op->kind) ? wr : r;
        if (!hit) continue;
        op->past_own = false;
        if (x < op->min_exp) {
            op->min_exp = x;
            op->min_exp_seq = e->seq;
        }
    }
}

void mw_apply(mw *w, const model_event *e) {
    const uint64_t *a = e->a;
    if (e->thread != w->last_thread) {
        w->other_time = w->last_time;
        w->last_thread = e->thread;
    }
    w->last_time = e->time_ns;
    switch (e->kind) {
    case MEV_ASSOCIATE:
        if (a[3] && NP_KEY_SRC(a[2]) == NP_SRC_READY) {
            mw_slot *s = mw_slot_get(w, NP_KEY_SLOT(a[2]));
            s->sock = a[1];
            s->assoc_seq = e->seq;
            mw_sock_get(w, a[1])->slot = NP_KEY_SLOT(a[2]) + 1;
        }
        break;
    case MEV_POST:
        if (!a[4]) break;
        if (a[2] != 0) {
            mw_ov *o = mw_ov_get(w, a[2]);
            o->def++;
            o->def_seq = e->seq;
        }
        if (a[1] == NP_BREAK_KEY) {
            mw_port *p = mw_port_get(w, a[0]);
            p->breaks++;
            p->break_seq = e->seq;
        }
        break;
    case MEV_WAIT_BEGIN: {
        mw_thread *th = mw_thread_get(w, e->thread);
        th->waiting = true;
        th->wait_seq = e->seq;
        th->wait_time = e->time_ns;
        th->wait_timeout = a[1];
        th->wait_port = a[0];
        break;
    }
    case MEV_DEQUEUE: dequeue(w, e); break;
    case MEV_DEQUEUE_FAIL: mw_thread_get(w, e->thread)->waiting = false; break;
    case MEV_SUBMIT: submit(w, e); break;
    case MEV_SET_MODES:
        if (a[2] && (a[1] & SHIM_FILE_SKIP_COMPLETION_PORT_ON_SUCCESS))
            mw_sock_get(w, a[0])->skip = a[3] == 1 ? MW_SKIP_EFFECTIVE : a[3] == 0 ? MW_SKIP_INEFFECTIVE : MW_SKIP_UNKNOWN;
        break;
    case MEV_FD_OPEN: {
        mw_fd *f = mw_fd_get(w, a[0]);
        f->sock = a[1];
        for (uint32_t m = 0; m < 2; m++) {
            f->exp[m] = f->grp_min[m] = f->held_min[m] = MW_NEVER;
            f->exp_unsettled[m] = 0;
            f->grp_alone[m] = true;
        }
        f->close_begin_at = f->close_end_at = 0;
        f->closes = 0;
        mw_sock_get(w, a[1])->fd = a[0];
        uint64_t slot = mw_sock_get(w, a[1])->slot;
        if (slot != 0) {
            mw_slot *sl = mw_slot_get(w, slot - 1);
            sl->fdseq = a[2];
            sl->fd_at = e->seq + 1;
        }
        break;
    }
    case MEV_OP_BEGIN: op_begin(w, e); break;
    case MEV_OP_END: op_end(w, e); break;
    case MEV_DEADLINE: deadline(w, e); break;
    case MEV_DEADLINE_SET: {
        mw_fd *f = mw_fd_get(w, a[0]);
        for (uint32_t m = 0; m < 2; m++) {
            bool hit = m == 0 ? (a[1] == 'r' || a[1] == 'r' + 'w') : (a[1] == 'w' || a[1] == 'r' + 'w');
            if (hit && f->exp_unsettled[m] > 0) f->exp_unsettled[m]--;
        }
        break;
    }
    case MEV_PEER_SEND: {
        mw_fd *f = mw_fd_get(w, a[0]);
        if (a[3] > f->dgrams) f->dgrams = a[3];
        if (a[2] + a[1] > f->sent) f->sent = a[2] + a[1];
        f->send_seq = e->seq;
        break;
    }
    case MEV_PEER_RESET: mw_fd_get(w, a[0])->reset = true; break;
    case MEV_QUIESCENT: w->quiescent = true; break;
    default: break;
    }
}
