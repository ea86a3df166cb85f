/* arena.c - bump allocation for per-execution state.
 *
 * Chunks are kept across executions and rewound by sim_arena_reset, so a
 * long fuzzing run reaches a steady state with no malloc at all. Memory is
 * handed out zeroed, which keeps executions independent of what an earlier
 * one left behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define ARENA_CHUNK_BYTES (256u * 1024u)

struct sim_arena_chunk {
    sim_arena_chunk *next;
    size_t size; /* usable bytes in data[] */
    size_t dirty; /* high-water mark: bytes to zero on reuse */
    _Alignas(16) unsigned char data[];
};

static sim_arena_chunk *chunk_new(size_t size) {
    sim_arena_chunk *c = malloc(sizeof *c + size);
    if (c == NULL) {
        fprintf(stderr, "iocpcheck: out of memory (arena chunk of %zu bytes)\n", size);
        abort();
    }
    c->next = NULL;
    c->size = size;
    c->dirty = size; /* unknown contents: zero on first use */
    return c;
}

void sim_arena_init(sim_arena *a) {
    a->head = chunk_new(ARENA_CHUNK_BYTES);
    a->current = a->head;
    a->used = 0;
}

void sim_arena_reset(sim_arena *a) {
    a->current = a->head;
    a->used = 0;
}

void sim_arena_free(sim_arena *a) {
    sim_arena_chunk *c = a->head;
    while (c != NULL) {
        sim_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = a->current = NULL;
    a->used = 0;
}

void *sim_arena_alloc(sim_arena *a, size_t size) {
    size = (size + 15u) & ~(size_t)15u;
    if (size == 0) size = 16;
    for (;;) {
        sim_arena_chunk *c = a->current;
        if (a->used + size <= c->size) {
            unsigned char *p = c->data + a->used;
            a->used += size;
            /* Zero lazily: only bytes an earlier execution may have written. */
            size_t start = (size_t)(p - c->data);
            if (start < c->dirty) {
                size_t end = a->used < c->dirty ? a->used : c->dirty;
                memset(p, 0, end - start);
            }
            if (a->used > c->dirty) c->dirty = a->used;
            return p;
        }
        if (c->next == NULL || c->next->size < size) {
            /* Insert a fresh chunk after this one (large requests get their own). */
            sim_arena_chunk *n = chunk_new(size > ARENA_CHUNK_BYTES ? size : ARENA_CHUNK_BYTES);
            n->next = c->next;
            c->next = n;
        }
        a->current = c->next;
        a->used = 0;
    }
}

size_t sim_arena_in_use(const sim_arena *a) {
    size_t n = 0;
    for (const sim_arena_chunk *c = a->head; c != NULL; c = c->next) {
        if (c == a->current) return n + a->used;
        n += c->size; /* an earlier chunk: counted whole */
    }
    return n;
}

char *sim_arena_vprintf(sim_arena *a, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) n = 0;
    char *s = sim_arena_alloc(a, (size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *sim_arena_printf(sim_arena *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = sim_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return s;
}
