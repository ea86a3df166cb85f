/* handles.c - the simulated kernel's handle table.
 *
 * Handles are small deterministic integers: slot + 1 in the low 16 bits and
 * the slot's generation above them, so the first handles of an execution are
 * 1, 2, 3 ... (rendered h1, h2, h3). A closed slot is reused (LIFO, as
 * Windows reuses handle values) with its generation bumped, so a stale value
 * never resolves to the object that reuses the slot: the call fails with
 * ERROR_INVALID_HANDLE (6) and touches nothing.
 */
#include "kernel.h"

void kern_handles_reset(kern_state *w) {
    w->nhandles = 0;
    w->free_handle = 0;
}

static shim_handle encode(uint32_t slot, uint16_t gen) { return ((shim_handle)gen << 16) | (slot + 1); }

shim_handle kern_handle_new(sim_ctx *s, uint8_t kind, uint32_t obj) {
    kern_state *w = kern(s);
    uint32_t slot;
    /* The value depends on every create and close before it. The new object
     * itself is not logged: nobody can name it before this returns. */
    kern_touch(s, SIM_KOBJ_TABLE, 0, true);
    if (w->free_handle != 0) {
        slot = w->free_handle - 1;
        SIM_CHECK(s, slot < w->nhandles && w->handles[slot].kind == KERN_H_FREE, "the handle free list holds free slots");
        w->free_handle = w->handles[slot].next_free;
    } else {
        if (w->nhandles >= KERN_MAX_HANDLES)
            kern_limit(s, "handle-limit", "limit: more than %u open handles (KERN_MAX_HANDLES)", KERN_MAX_HANDLES);
        slot = w->nhandles++;
        w->handles[slot].gen = 0;
    }
    kern_handle *e = &w->handles[slot];
    SIM_CHECK(s, kind > KERN_H_FREE && kind <= KERN_H_WAITPKT, "a handle has a known kind");
    e->kind = kind;
    e->obj = obj;
    e->next_free = 0;
    e->creator = s->current;
    e->step = s->steps;
    return encode(slot, e->gen);
}

/* The object a handle names, as the access log numbers it. */
static void touch_obj(kern_state *w, const kern_handle *e) {
    sim_ctx *s = w->sim;
    switch (e->kind) {
    case KERN_H_PORT: kern_touch_port(s, e->obj); break;
    case KERN_H_SOCKET: kern_touch_sock(s, e->obj); break;
    case KERN_H_TIMER: kern_touch_timer(s, e->obj); break;
    default: kern_touch_waitpkt(s, e->obj); break;
    }
}

/* A lookup that finds an object touches it (whoever closes it touches it
 * too); one that finds nothing read the table, which a create or a close of
 * that slot may change. */
static kern_handle *lookup(kern_state *w, shim_handle h) {
    uint32_t low = (uint32_t)(h & 0xFFFF);
    kern_handle *e = low != 0 && low <= w->nhandles && (h >> 16) <= 0xFFFF ? &w->handles[low - 1] : NULL;
    if (e != NULL && (e->kind == KERN_H_FREE || e->gen != (uint16_t)(h >> 16))) e = NULL;
    if (e != NULL)
        touch_obj(w, e);
    else
        kern_touch(w->sim, SIM_KOBJ_TABLE, 0, false);
    return e;
}

bool kern_handle_get(kern_state *w, shim_handle h, uint8_t kind, uint32_t *obj) {
    kern_handle *e = lookup(w, h);
    if (e == NULL || e->kind != kind) return false;
    *obj = e->obj;
    return true;
}

uint8_t kern_handle_kind(kern_state *w, shim_handle h) {
    kern_handle *e = lookup(w, h);
    return e != NULL ? e->kind : KERN_H_FREE;
}

void kern_handle_free(kern_state *w, shim_handle h) {
    kern_handle *e = lookup(w, h);
    if (e == NULL) return;
    uint32_t slot = (uint32_t)(e - w->handles);
    /* A wrapped generation would let a stale value resolve again. */
    if (e->gen == KERN_MAX_HANDLE_GEN)
        kern_limit(w->sim, "handle-reuse-limit",
                   "limit: handle slot %u closed more than %u times (KERN_MAX_HANDLE_GEN)", slot, KERN_MAX_HANDLE_GEN);
    kern_touch(w->sim, SIM_KOBJ_TABLE, 0, true);
    e->kind = KERN_H_FREE;
    e->gen++;
    e->next_free = w->free_handle;
    w->free_handle = slot + 1;
}

/* ---- Monitor: handles never closed ---- */

static const char *const kind_name[] = {"free", "port", "socket", "waitable timer", "wait packet"};

const char *kern_handle_leaks(sim_ctx *s, uint32_t *count) {
    kern_state *w = kern(s);
    const char *out = "";
    uint32_t n = 0;
    for (uint32_t slot = 0; slot < w->nhandles; slot++) {
        const kern_handle *e = &w->handles[slot];
        if (e->kind == KERN_H_FREE) continue;
        /* The value (as the trace shows it) and the kind's creation number. */
        if (n++ < SIM_LEAKS_LISTED)
            out = sim_arena_printf(&s->arena, "%s  %s h%llu (#%u) opened by T%u '%s' at step %llu, never closed\n", out,
                                   kind_name[e->kind], (unsigned long long)encode(slot, e->gen), e->obj, e->creator, s->threads[e->creator].name, (unsigned long long)e->step);
    }
    if (n > SIM_LEAKS_LISTED) out = sim_arena_printf(&s->arena, "%s  ... and %u more handles\n", out, n - SIM_LEAKS_LISTED);
    *count = n;
    return out;
}
