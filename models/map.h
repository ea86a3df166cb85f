/* map.h - a small hash map from 64-bit keys to dense indexes (1, 2, 3 ...).
 *
 * Used for the trace's ordinal tables (OVERLAPPED and handle addresses ->
 * ov<n>, h<n>) and for the checkers' per-object state (per socket, per fd,
 * per operation slot ...). Two rules make it fit both jobs:
 *   - it is only probed, never iterated in table order: whatever it stores,
 *     the order in which things are numbered is the order of first sight,
 *     so a table keyed by addresses gives the same ordinals in every run
 *     (small keys live in a direct table, large ones are hashed: the
 *     indexes are the same either way);
 *   - clearing is O(1): entries carry the generation they were written in,
 *     and a clear bumps the generation. Memory is kept across clears, so an
 *     execution that looks like the previous one allocates nothing.
 * Internal to models/.
 */
#ifndef IOCPCHECK_MODELS_MAP_H
#define IOCPCHECK_MODELS_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct model_map_slot {
    uint64_t key;
    uint32_t gen; /* the map's generation when written; any other value: empty */
    uint32_t index;
} model_map_slot;

/* Keys below this (the checkers' ordinals, thread ids, fds, slot numbers)
 * skip hashing: a direct table, stamped with the generation like the slots. */
#define MODEL_MAP_DIRECT 64u

typedef struct model_map {
    uint32_t dgen[MODEL_MAP_DIRECT];   /* generation when written, per small key */
    uint32_t dindex[MODEL_MAP_DIRECT];
    model_map_slot *slots;
    uint32_t cap; /* power of two, 0 before first use */
    uint32_t gen;
    uint32_t count;   /* indexes handed out since the last clear */
    uint64_t *keys;   /* keys[i - 1]: the key index i was given for (rehash source, in index order) */
    uint32_t keycap;
} model_map;

void model_map_init(model_map *m);
void model_map_free(model_map *m);
/* Forgets every key; keeps the memory. */
void model_map_clear(model_map *m);
/* The index of `key`, or 0 when it has none. Small keys (nearly every
 * lookup of the checkers) are answered inline, without a call. */
uint32_t model_map_find_hashed(const model_map *m, uint64_t key);
static inline uint32_t model_map_find(const model_map *m, uint64_t key) {
    /* dindex is 0 where never written, so a map never cleared (gen 0) finds nothing. */
    if (key < MODEL_MAP_DIRECT) return m->dgen[key] == m->gen ? m->dindex[key] : 0;
    return model_map_find_hashed(m, key);
}
/* Gives `key` the next index even if it had one (a handle value reused for
 * a new object; a slot number that begins a new operation). */
uint32_t model_map_renew(model_map *m, uint64_t key);
/* The index of `key`, giving it the next one if it has none (*added set). */
static inline uint32_t model_map_get(model_map *m, uint64_t key, bool *added) {
    uint32_t i = model_map_find(m, key);
    if (added != NULL) *added = i == 0;
    return i != 0 ? i : model_map_renew(m, key);
}
/* Grows a heap array to hold at least `need` elements (doubling); aborts
 * with a message when memory runs out (the checker cannot go on without it). */
void *model_grow_to(void *ptr, uint32_t *cap, uint32_t need, size_t elem);
static inline void *model_grow(void *ptr, uint32_t *cap, uint32_t need, size_t elem) {
    return need <= *cap ? ptr : model_grow_to(ptr, cap, need, elem);
}

#endif
