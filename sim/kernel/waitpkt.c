/* waitpkt.c - waitable timers and wait completion packets (§8), an optional
 * capability: present or absent per execution (sim_config.wait_packets, or
 * an 'a' choice), as Go probes Wine 8, which lacks them.
 *
 * A timer fires on the virtual clock (a kernel timer); a wait packet armed on
 * it then becomes "firing" and is queued to its port by a kernel action, so
 * NtCancelWaitCompletionPacket can hit the window in between (choice 'y':
 * SUCCESS or STATUS_PENDING). Whether satisfying the wait consumes the
 * timer's signal is choice 'g'; whether an association on a timer that is
 * already signaled queues its packet at once is choice 'v'. Only timers are
 * supported as targets.
 */
#include "kernel.h"

void kern_waitpkt_reset(kern_state *w) {
    w->ntimers = 0;
    w->nwps = 0;
}

/* ---- Timers ---- */

static uint32_t timer_id(uint32_t idx, uint32_t gen) { return (idx << 16) | (gen & 0xFFFF); }

bool kern_timer_live(sim_ctx *s, uint32_t id) {
    kern_state *w = kern(s);
    uint32_t idx = id >> 16;
    return idx < w->ntimers && w->timers[idx].armed && (w->timers[idx].gen & 0xFFFF) == (id & 0xFFFF);
}

/* The timer's signaled state as the explorer's log names it: read where a
 * call or action looks at it, set blindly by a set or a firing. */
static uint32_t signal_object(const kern_state *w, const kern_timer *t) {
    return SIM_ACC_KOBJ(SIM_KOBJ_SIGNAL, (uint32_t)(t - w->timers));
}

static void signal_read(sim_ctx *s, const kern_timer *t) { sim__access(s, signal_object(kern(s), t), false); }

static void signal_set(sim_ctx *s, const kern_timer *t) {
    if (s->acc_limit != 0) sim__access_log(s, signal_object(kern(s), t), true, SIM_ACC_OVERWRITE, 0);
}

static void satisfy(sim_ctx *s, kern_timer *t) {
    /* §8: Windows' KiWaitSatisfyOther suggests the signal is consumed (an
     * auto-reset timer resets); the newer Wine tree does not consume it. */
    if (sim__choose(s, SIM_CHOICE_SIGNAL, 2, NULL, SIM_NO_CURRENT) == 0) t->signaled = false;
    /* The alternatives differ in the signal alone: unseen if the timer is
     * set or fires again before anyone looks at it (explore.c). */
    sim__access_effect(s, s->ndecisions - 1, signal_object(kern(s), t));
}

void kern_timer_fired(sim_ctx *s, uint32_t id) {
    kern_state *w = kern(s);
    SIM_CHECK(s, (id >> 16) < w->ntimers && w->timers[id >> 16].armed, "a timer fires only while armed");
    kern_timer *t = &w->timers[id >> 16];
    kern_touch_timer(s, id >> 16);
    sim__access(s, SIM_ACC_OBJECT(SIM_ACC_CLOCK, 0), true); /* after whoever moved the clock */
    t->armed = false;
    t->signaled = true;
    signal_set(s, t);
    sim__event(s, SIM_EV_TIMER, t->h, 2, (uint64_t)s->now_ns, 0);
    for (uint32_t i = 0; i < w->nwps; i++) {
        if (w->wps[i].state != KERN_WP_ARMED || w->wps[i].timer != id >> 16) continue;
        kern_touch_waitpkt(s, i);
        w->wps[i].state = KERN_WP_FIRING;
    }
    w->dirty = true;
}

static shim_handle create_timer(void *ctx, bool high_res) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    (void)high_res; /* §8: Wine accepts the flag and ignores it; timers are not quantized here */
    kern_state *w = kern(s);
    if (w->ntimers >= KERN_MAX_TIMERS)
        kern_limit(s, "timer-limit", "limit: more than %u waitable timers (KERN_MAX_TIMERS)", KERN_MAX_TIMERS);
    uint32_t idx = w->ntimers++;
    kern_timer *t = &w->timers[idx];
    *t = (kern_timer){0};
    t->open = true;
    t->h = kern_handle_new(s, KERN_H_TIMER, idx);
    sim__event(s, SIM_EV_TIMER, t->h, 0, 0, 0);
    return t->h;
}

static bool set_timer(void *ctx, shim_handle h, int64_t due_100ns) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    kern_state *w = kern(s);
    uint32_t idx;
    if (!kern_handle_get(w, h, KERN_H_TIMER, &idx)) {
        kern_set_error(s, SHIM_ERROR_INVALID_HANDLE);
        return false;
    }
    kern_timer *t = &w->timers[idx];
    if (t->gen >= KERN_MAX_TIMER_SETS)
        kern_limit(s, "timer-set-limit", "limit: timer h%llu set more than %u times (KERN_MAX_TIMER_SETS)",
                   (unsigned long long)h, KERN_MAX_TIMER_SETS);
    /* negative: relative; positive: absolute on the (virtual) clock */
    kern_touch_clock(s);
    int64_t due = due_100ns < 0 ? s->now_ns + (-due_100ns) * 100 : due_100ns * 100;
    t->signaled = false; /* setting a timer resets its signal */
    signal_set(s, t);
    t->armed = true;
    t->gen++;
    sim__kernel_timer_add(s, timer_id(idx, t->gen), due);
    sim__event(s, SIM_EV_TIMER, h, 1, (uint64_t)due, 0);
    return true;
}

/* ---- Wait completion packets ---- */

static uint32_t create_wp(void *ctx, shim_handle *out) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    kern_state *w = kern(s);
    if (w->nwps >= KERN_MAX_WAITPKTS)
        kern_limit(s, "waitpkt-limit", "limit: more than %u wait packets (KERN_MAX_WAITPKTS)", KERN_MAX_WAITPKTS);
    uint32_t idx = w->nwps++;
    kern_waitpkt *p = &w->wps[idx];
    *p = (kern_waitpkt){0};
    p->open = true;
    p->h = kern_handle_new(s, KERN_H_WAITPKT, idx);
    *out = p->h;
    sim__event(s, SIM_EV_WAITPKT, p->h, 0, 0, 0);
    return SHIM_STATUS_SUCCESS;
}

static void queue_wp(sim_ctx *s, uint32_t idx) {
    kern_waitpkt *p = &kern(s)->wps[idx];
    SIM_CHECK(s, p->port < kern(s)->nports && p->state != KERN_WP_QUEUED, "a wait packet is queued once, to a port");
    kern_packet pk = {p->key, (shim_overlapped *)p->apc, p->info, p->status, 0, 0, idx + 1};
    if (pk.ov != NULL) pk.ov_ord = kern_ov_ord(s, pk.ov);
    p->state = KERN_WP_QUEUED;
    sim__event(s, SIM_EV_WAITPKT, p->h, 3, p->key, 0);
    kern_port_queue(s, p->port, &pk);
}

/* Kernel action: a firing packet reaches its port. */
void kern_waitpkt_fire(sim_ctx *s, uint32_t idx) {
    kern_state *w = kern(s);
    kern_waitpkt *p = &w->wps[idx];
    kern_touch_waitpkt(s, idx);
    if (p->state != KERN_WP_FIRING) return;
    SIM_CHECK(s, p->timer < w->ntimers, "a firing wait packet waits on a timer");
    kern_timer *t = &w->timers[p->timer];
    kern_touch_timer(s, p->timer);
    signal_read(s, t);
    if (t->signaled) satisfy(s, t);
    queue_wp(s, idx);
}

void kern_waitpkt_dequeued(sim_ctx *s, uint32_t idx) {
    SIM_CHECK(s, idx < kern(s)->nwps, "a dequeued packet's wait packet exists");
    kern_waitpkt *p = &kern(s)->wps[idx];
    kern_touch_waitpkt(s, idx);
    if (p->state == KERN_WP_QUEUED) p->state = KERN_WP_IDLE; /* may be associated again */
}

static uint32_t associate_wp(void *ctx, shim_handle pkt, shim_handle port, shim_handle target, uintptr_t key,
                             uintptr_t apc_ctx, uint32_t status, uintptr_t info, bool *already) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    kern_state *w = kern(s);
    uint32_t idx, pid, tid;
    if (already != NULL) *already = false;
    if (!kern_handle_get(w, pkt, KERN_H_WAITPKT, &idx) || !kern_handle_get(w, port, KERN_H_PORT, &pid))
        return SHIM_STATUS_INVALID_HANDLE;
    uint8_t tk = kern_handle_kind(w, target);
    if (tk == KERN_H_FREE) return SHIM_STATUS_INVALID_HANDLE;
    if (tk != KERN_H_TIMER) return SHIM_STATUS_INVALID_PARAMETER_3; /* ports and wait packets are refused (§8) */
    kern_handle_get(w, target, KERN_H_TIMER, &tid);
    kern_waitpkt *p = &w->wps[idx];
    if (p->state != KERN_WP_IDLE) return SHIM_STATUS_INVALID_PARAMETER_1; /* in use (§8) */
    p->port = pid;
    p->timer = tid;
    p->key = key;
    p->apc = apc_ctx;
    p->status = status;
    p->info = info;
    kern_timer *t = &w->timers[tid];
    signal_read(s, t);
    sim__event(s, SIM_EV_WAITPKT, pkt, 1, target, t->signaled);
    if (t->signaled) {
        /* The two references disagree on what follows alreadySignaled:
         * iocp-facts.md §8 (the documentation) queues the packet at once;
         * go-netpoll.md §1 says none is queued, and Go's code only says it
         * may return at once. Not confirmed on Windows: the second is a
         * what-if ('v' 1), which leaves the target signaled and the packet
         * free to associate again. */
        if (already != NULL) *already = true;
        if (sim__choose(s, SIM_CHOICE_SIGNALED, 2, NULL, SIM_NO_CURRENT) == 0) {
            satisfy(s, t);
            queue_wp(s, idx);
        }
    } else {
        p->state = KERN_WP_ARMED;
    }
    w->dirty = true;
    return SHIM_STATUS_SUCCESS;
}

static uint32_t cancel_wp(void *ctx, shim_handle pkt, bool remove_signaled) {
    sim_ctx *s = ctx;
    sim__sched_point(s);
    kern_state *w = kern(s);
    uint32_t idx;
    if (!kern_handle_get(w, pkt, KERN_H_WAITPKT, &idx)) return SHIM_STATUS_INVALID_HANDLE;
    kern_waitpkt *p = &w->wps[idx];
    uint32_t st;
    switch (p->state) {
    case KERN_WP_ARMED: p->state = KERN_WP_IDLE; st = SHIM_STATUS_SUCCESS; break;
    case KERN_WP_FIRING: /* §8: the rare race: being satisfied right now */
        if (sim__choose(s, SIM_CHOICE_WPCANCEL, 2, NULL, SIM_NO_CURRENT) == 0) {
            p->state = KERN_WP_IDLE;
            st = SHIM_STATUS_SUCCESS;
        } else {
            st = SHIM_STATUS_PENDING;
        }
        break;
    case KERN_WP_QUEUED: /* removed from the port with removeSignaled, else PENDING (§8, newer Wine) */
        if (remove_signaled && kern_port_unqueue_wp(s, p->port, idx)) {
            p->state = KERN_WP_IDLE;
            st = SHIM_STATUS_SUCCESS;
        } else {
            st = SHIM_STATUS_PENDING;
        }
        break;
    default: st = SHIM_STATUS_CANCELLED; break; /* never associated, or already delivered */
    }
    sim__event(s, SIM_EV_WAITPKT, pkt, 2, remove_signaled, st);
    w->dirty = true;
    return st;
}

bool kern_waitpkt_close(sim_ctx *s, uint8_t kind, uint32_t obj) {
    kern_state *w = kern(s);
    if (kind == KERN_H_TIMER) {
        w->timers[obj].open = false;
        w->timers[obj].armed = false;
    } else {
        kern_waitpkt *p = &w->wps[obj];
        p->open = false;
        if (p->state == KERN_WP_ARMED || p->state == KERN_WP_FIRING) p->state = KERN_WP_IDLE;
    }
    w->dirty = true;
    return true;
}

void kern_waitpkt_fill(shim *sh, bool present) {
    sh->caps = present ? (sh->caps | SHIM_CAP_WAIT_PACKETS) : (sh->caps & ~SHIM_CAP_WAIT_PACKETS);
    sh->create_waitable_timer = present ? create_timer : NULL;
    sh->set_waitable_timer = present ? set_timer : NULL;
    sh->nt_create_wait_completion_packet = present ? create_wp : NULL;
    sh->nt_associate_wait_completion_packet = present ? associate_wp : NULL;
    sh->nt_cancel_wait_completion_packet = present ? cancel_wp : NULL;
}
