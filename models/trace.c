/* trace.c - the model trace's storage: events, their texts, ordinals.
 *
 * Everything is retained across executions: model_trace_reset empties the
 * event array, rewinds the text blocks and clears the ordinal tables by
 * bumping their generation, so a fuzzing loop allocates nothing once the
 * buffers have grown to the size of its executions. Appends take a tiny
 * spinlock (C11 atomic_flag, not a seam call): on the simulator only one
 * thread runs and it is never contended; on the real backend the poller's
 * threads record concurrently.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "trace_int.h"

#define TEXT_BLOCK 4096u
#define REC_SLOTS 4u

typedef struct text_block {
    char *p;
    size_t cap, used;
} text_block;

struct model_trace {
    model_clock clock;
    atomic_flag lock;
    model_event *ev;
    uint32_t count, cap;
    text_block *blocks;
    uint32_t nblocks, blockcap, cur; /* blocks[cur] is being filled */
    model_map ovs, handles;
    uint8_t *haux; /* per handle ordinal (index ordinal - 1) */
    uint32_t hauxcap, hauxlen;
    model_rec rec[REC_SLOTS];
    uint32_t rec_next;
    model_scratch_box scratch;
    bool single; /* model_trace_single_thread: no lock */
};

static void lock(model_trace *t) {
    if (t->single) return;
    while (atomic_flag_test_and_set_explicit(&t->lock, memory_order_acquire)) {
    }
}
static void unlock(model_trace *t) {
    if (!t->single) atomic_flag_clear_explicit(&t->lock, memory_order_release);
}

void model_trace_single_thread(model_trace *t) { t->single = true; }

model_trace *model_trace_create(model_clock clock) {
    model_trace *t = calloc(1, sizeof *t);
    if (t == NULL) return NULL;
    t->clock = clock;
    atomic_flag_clear(&t->lock);
    model_map_init(&t->ovs);
    model_map_init(&t->handles);
    model_map_clear(&t->ovs);
    model_map_clear(&t->handles);
    return t;
}

void model_trace_destroy(model_trace *t) {
    if (t == NULL) return;
    if (t->scratch.p != NULL && t->scratch.destroy != NULL) t->scratch.destroy(t->scratch.p);
    for (uint32_t i = 0; i < t->nblocks; i++) free(t->blocks[i].p);
    free(t->blocks);
    free(t->ev);
    free(t->haux);
    model_map_free(&t->ovs);
    model_map_free(&t->handles);
    free(t);
}

void model_trace_reset(model_trace *t) {
    lock(t);
    t->count = 0;
    for (uint32_t i = 0; i < t->nblocks; i++) t->blocks[i].used = 0;
    t->cur = 0;
    model_map_clear(&t->ovs);
    model_map_clear(&t->handles);
    t->hauxlen = 0;
    unlock(t);
}

uint32_t model_trace_count(const model_trace *t) { return t->count; }
const model_event *model_trace_events(const model_trace *t) { return t->ev; }

static model_event *append(model_trace *t, model_ev_kind kind) {
    t->ev = model_grow(t->ev, &t->cap, t->count + 1, sizeof *t->ev);
    model_event *e = &t->ev[t->count];
    e->seq = t->count++;
    e->time_ns = t->clock.now_ns != NULL ? t->clock.now_ns(t->clock.self) : 0;
    e->thread = t->clock.thread != NULL ? t->clock.thread(t->clock.self) : 0;
    e->kind = (uint32_t)kind;
    e->text = NULL;
    return e;
}

uint32_t model_emit_at(model_trace *t, model_ev_kind kind, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                        uint64_t a4) {
    lock(t);
    model_event *e = append(t, kind);
    e->a[0] = a0;
    e->a[1] = a1;
    e->a[2] = a2;
    e->a[3] = a3;
    e->a[4] = a4;
    uint32_t at = (uint32_t)e->seq;
    unlock(t);
    return at;
}

void model_emit(model_trace *t, model_ev_kind kind, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4) {
    (void)model_emit_at(t, kind, a0, a1, a2, a3, a4);
}

void model_patch(model_trace *t, uint32_t index, unsigned arg, uint64_t value) {
    lock(t);
    if (index < t->count && arg < 5) t->ev[index].a[arg] = value;
    unlock(t);
}

/* Copies `s` into the text blocks; the copy stays put until the next reset
 * (blocks are never reallocated, only added). A text that does not fit in
 * the current block moves on to the next one, or to a new one big enough. */
static const char *intern(model_trace *t, const char *s) {
    size_t n = strlen(s) + 1;
    while (t->cur < t->nblocks && t->blocks[t->cur].cap - t->blocks[t->cur].used < n && t->cur + 1 < t->nblocks)
        t->cur++;
    if (t->cur >= t->nblocks || t->blocks[t->cur].cap - t->blocks[t->cur].used < n) {
        t->blocks = model_grow(t->blocks, &t->blockcap, t->nblocks + 1, sizeof *t->blocks);
        size_t cap = n > TEXT_BLOCK ? n : TEXT_BLOCK;
        text_block b = {malloc(cap), cap, 0};
        if (b.p == NULL) return "(text lost: out of memory)";
        t->blocks[t->nblocks] = b;
        t->cur = t->nblocks++;
    }
    text_block *b = &t->blocks[t->cur];
    char *p = b->p + b->used;
    memcpy(p, s, n);
    b->used += n;
    return p;
}

void model_emit_text(model_trace *t, model_ev_kind kind, const char *text) {
    lock(t);
    model_event *e = append(t, kind);
    memset(e->a, 0, sizeof e->a);
    e->text = intern(t, text != NULL ? text : "");
    unlock(t);
}

/* ---- Ordinals ---- */

uint64_t model_ov(model_trace *t, const shim_overlapped *ov) {
    if (ov == NULL) return 0;
    lock(t);
    uint64_t o = model_map_get(&t->ovs, (uint64_t)(uintptr_t)ov, NULL);
    unlock(t);
    return o;
}

static void haux_fit(model_trace *t) {
    /* A new ordinal's byte starts at 0. */
    if (t->handles.count > t->hauxlen) {
        t->haux = model_grow(t->haux, &t->hauxcap, t->handles.count, 1);
        memset(t->haux + t->hauxlen, 0, t->handles.count - t->hauxlen);
        t->hauxlen = t->handles.count;
    }
}

uint64_t model_handle(model_trace *t, shim_handle h) {
    if (h == SHIM_NULL_HANDLE || h == SHIM_INVALID_HANDLE) return 0;
    lock(t);
    uint64_t o = model_map_get(&t->handles, (uint64_t)h, NULL);
    haux_fit(t);
    unlock(t);
    return o;
}

void model_handle_retire(model_trace *t, shim_handle h) {
    if (h == SHIM_NULL_HANDLE || h == SHIM_INVALID_HANDLE) return;
    lock(t);
    if (model_map_find(&t->handles, (uint64_t)h) != 0) {
        model_map_renew(&t->handles, (uint64_t)h);
        haux_fit(t);
    }
    unlock(t);
}

uint8_t model_handle_aux(model_trace *t, uint64_t ordinal) {
    lock(t);
    uint8_t v = ordinal != 0 && ordinal <= t->hauxlen ? t->haux[ordinal - 1] : 0;
    unlock(t);
    return v;
}

void model_handle_set_aux(model_trace *t, uint64_t ordinal, uint8_t v) {
    lock(t);
    if (ordinal != 0 && ordinal <= t->hauxlen) t->haux[ordinal - 1] = v;
    unlock(t);
}

/* ---- Recorder slots and checker scratch ---- */

model_rec *model_rec_slot(model_trace *t, const shim *inner) {
    for (uint32_t i = 0; i < REC_SLOTS; i++)
        if (t->rec[i].inner == inner) return &t->rec[i];
    model_rec *r = &t->rec[t->rec_next++ % REC_SLOTS];
    r->inner = inner;
    r->trace = t;
    return r;
}

model_scratch_box *model__scratch(const model_trace *t) {
    /* The box is part of the trace but belongs to the checkers: casting away
     * const here is the one place where checking writes to the trace object. */
    return (model_scratch_box *)&t->scratch;
}
