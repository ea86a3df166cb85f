/* props.c - the property checker's entry points: names, options, and the
 * one pass that checks the ten properties over a trace.
 *
 * The pass visits each event once: every property still holding looks at
 * it against the shared state (walk.c), then the state takes it in. Each
 * property keeps its first violation; model_check reports the first in the
 * order of model_property_names. The checker's tables live on the trace
 * (cleared in O(1) per check), so checking after every fuzzed execution is
 * linear in the trace and allocates nothing once they have grown.
 */
#include <stdlib.h>
#include <string.h>

#include "trace_int.h"
#include "walk.h"

const char *const model_property_names[MODEL_PROPERTIES] = {
    "one-completion", "no-lost-wakeup", "break-delivered", "overlapped-lifetime", "bytes-conserved",
    "deadline",       "close",          "poll-delay",      "foreign-packets",     "no-fatal",
    "datagram",       "call-result",
};

static const mw_prop_fn props[MODEL_PROPERTIES] = {
    mp_one_completion, mp_no_lost_wakeup, mp_break_delivered, mp_overlapped_lifetime, mp_bytes_conserved,
    mp_deadline,       mp_close,          mp_poll_delay,      mp_foreign_packets,     mp_no_fatal,
    mp_datagram,       mp_call_result,
};

/* Which properties look at each kind of event (the cases of their
 * functions); the others are not called for it. Every property is also
 * called once at the end. */
#define B(p) (1u << (p))
static const uint32_t interest[MEV__COUNT] = {
    [MEV_POST] = B(MP_BREAK_DELIVERED),
    [MEV_FD_OPEN] = B(MP_ONE_COMPLETION) | B(MP_CLOSE),
    [MEV_DEQUEUE] = B(MP_ONE_COMPLETION) | B(MP_BREAK_DELIVERED) | B(MP_CLOSE),
    [MEV_DEQUEUE_FAIL] = B(MP_BREAK_DELIVERED),
    [MEV_WAIT_BEGIN] = B(MP_BREAK_DELIVERED) | B(MP_POLL_DELAY),
    [MEV_SUBMIT] = B(MP_OVERLAPPED_LIFETIME),
    [MEV_GET_RESULT] = B(MP_ONE_COMPLETION) | B(MP_FOREIGN_PACKETS),
    [MEV_CLOSESOCKET] = B(MP_CLOSE),
    [MEV_OP_BEGIN] = B(MP_ONE_COMPLETION) | B(MP_BREAK_DELIVERED),
    [MEV_OP_END] = B(MP_ONE_COMPLETION) | B(MP_BREAK_DELIVERED) | B(MP_OVERLAPPED_LIFETIME) | B(MP_BYTES_CONSERVED) |
                   B(MP_DEADLINE) | B(MP_CLOSE) | B(MP_POLL_DELAY) | B(MP_DATAGRAM) | B(MP_CALL_RESULT),
    [MEV_FAULT] = B(MP_CALL_RESULT),
    [MEV_FOREIGN] = B(MP_FOREIGN_PACKETS),
    [MEV_FATAL] = B(MP_NO_FATAL),
    [MEV_QUIESCENT] = B(MP_ONE_COMPLETION) | B(MP_NO_LOST_WAKEUP),
};
#undef B

void model_options_default(model_options *o) {
    o->tick_ns = 15625000; /* 64 Hz, iocp-facts §3 */
    o->slack_ns = 0;
    o->virtual_time = true;
    o->jump_ns = 2000000; /* the simulator's default time jumps: 2 of at most 1 ms */
}

static void mw_destroy(void *p) {
    mw *w = p;
    model_map *maps[] = {&w->ovs.map, &w->socks.map, &w->slots.map, &w->threads.map,
                         &w->fds.map, &w->ports.map, &w->ops.map};
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) model_map_free(maps[i]);
    free(w->ovs.v);
    free(w->socks.v);
    free(w->slots.v);
    free(w->threads.v);
    free(w->fds.v);
    free(w->ports.v);
    free(w->ops.v);
    free(w);
}

static mw *checker(const model_trace *t) {
    model_scratch_box *box = model__scratch(t);
    if (box->p == NULL) {
        mw *w = calloc(1, sizeof *w);
        if (w == NULL) {
            fputs("iocpcheck: models: out of memory for the checker\n", stderr);
            abort();
        }
        box->p = w;
        box->destroy = mw_destroy;
    }
    mw *w = box->p;
    model_map *maps[] = {&w->ovs.map, &w->socks.map, &w->slots.map, &w->threads.map,
                         &w->fds.map, &w->ports.map, &w->ops.map};
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) model_map_clear(maps[i]);
    w->open_ops = w->out_op = 0;
    w->quiescent = false;
    w->last_thread = UINT32_MAX;
    w->last_time = w->other_time = INT64_MIN;
    w->brk_open = w->brk_handlers = 0;
    w->brk_ended = w->brk_ports_many = false;
    w->brk_end_time = 0;
    w->brk_end_seq = w->brk_port = 0;
    w->failed = 0;
    return w;
}

/* The index of the lowest set bit of x != 0. */
static inline uint32_t lowest(uint32_t x) {
#if defined(__GNUC__) || defined(__clang__)
    return (uint32_t)__builtin_ctz(x);
#else
    uint32_t p = 0;
    while ((x & 1u) == 0) x >>= 1, p++;
    return p;
#endif
}

/* Runs the pass for the properties in `want`; returns the failed ones. */
static mw *run(const model_trace *t, const model_options *o, uint32_t want) {
    static const model_options defaults = {15625000, 0, true, 2000000};
    mw *w = checker(t);
    w->opt = o != NULL ? o : &defaults;
    w->want = want;
    w->ev = model_trace_events(t);
    w->n = model_trace_count(t);
    uint32_t top = want & (~want + 1); /* nothing can outrank the first wanted property */
    for (uint32_t i = 0; i < w->n && (w->failed & top) == 0; i++) {
        const model_event *e = &w->ev[i];
        uint32_t look = e->kind < MEV__COUNT ? interest[e->kind] & w->want & ~w->failed : 0;
        for (; look != 0; look &= look - 1) props[lowest(look)](w, e); /* in property order */
        mw_apply(w, e);
    }
    for (uint32_t p = 0; p < MODEL_PROPERTIES; p++)
        if (mw_live(w, p)) props[p](w, NULL);
    return w;
}

static bool report(const mw *w, model_violation *v) {
    for (uint32_t p = 0; p < MODEL_PROPERTIES; p++) {
        if ((w->failed & (1u << p)) == 0) continue;
        if (v != NULL) *v = w->v[p];
        return false;
    }
    if (v != NULL) memset(v, 0, sizeof *v);
    return true;
}

bool model_check(const model_trace *t, const model_options *o, model_violation *v) {
    return report(run(t, o, (1u << MODEL_PROPERTIES) - 1), v);
}

bool model_check_one(const model_trace *t, const model_options *o, uint32_t property, model_violation *v) {
    if (property >= MODEL_PROPERTIES) {
        if (v != NULL) memset(v, 0, sizeof *v);
        return true;
    }
    return report(run(t, o, 1u << property), v);
}
