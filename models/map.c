/* map.c - the probe-only, generation-cleared hash map of map.h.
 *
 * Open addressing with linear probing, load factor at most 1/2. Growth
 * rehashes from the dense key array in index order, so even growth never
 * walks the table itself (whose layout depends on key values, e.g. addresses).
 */
#include "map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *model_grow_to(void *ptr, uint32_t *cap, uint32_t need, size_t elem) {
    if (need <= *cap) return ptr;
    uint32_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > UINT32_MAX / 2) {
            n = need;
            break;
        }
        n *= 2;
    }
    void *p = realloc(ptr, (size_t)n * elem);
    if (p == NULL) {
        fprintf(stderr, "iocpcheck: models: out of memory (%u elements of %zu bytes)\n", n, elem);
        abort();
    }
    *cap = n;
    return p;
}

void model_map_init(model_map *m) { memset(m, 0, sizeof *m); }

void model_map_free(model_map *m) {
    free(m->slots);
    free(m->keys);
    memset(m, 0, sizeof *m);
}

void model_map_clear(model_map *m) {
    m->count = 0;
    if (++m->gen == 0) {
        /* The generation wrapped: stale stamps could match again. */
        if (m->slots != NULL) memset(m->slots, 0, (size_t)m->cap * sizeof *m->slots);
        memset(m->dgen, 0, sizeof m->dgen);
        m->gen = 1;
    }
}

static uint32_t hash(uint64_t key, uint32_t mask) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return (uint32_t)key & mask;
}

/* The slot holding `key`, or the empty slot where it would go. */
static model_map_slot *probe(const model_map *m, uint64_t key) {
    uint32_t mask = m->cap - 1;
    for (uint32_t i = hash(key, mask);; i = (i + 1) & mask) {
        model_map_slot *s = &m->slots[i];
        if (s->gen != m->gen || s->key == key) return s;
    }
}

uint32_t model_map_find_hashed(const model_map *m, uint64_t key) {
    if (m->cap == 0) return 0;
    const model_map_slot *s = probe(m, key);
    return s->gen == m->gen ? s->index : 0;
}

static void put(model_map *m, uint64_t key, uint32_t index) {
    if (key < MODEL_MAP_DIRECT) {
        m->dgen[key] = m->gen;
        m->dindex[key] = index;
        return;
    }
    model_map_slot *s = probe(m, key);
    s->key = key;
    s->gen = m->gen;
    s->index = index;
}

static void rehash(model_map *m, uint32_t cap) {
    free(m->slots);
    m->slots = calloc(cap, sizeof *m->slots);
    if (m->slots == NULL) {
        fprintf(stderr, "iocpcheck: models: out of memory (hash table of %u slots)\n", cap);
        abort();
    }
    m->cap = cap;
    if (m->gen == 0) m->gen = 1;
    /* In index order: a renewed key ends up with its latest index. */
    for (uint32_t i = 0; i < m->count; i++) put(m, m->keys[i], i + 1);
}

static uint32_t assign(model_map *m, uint64_t key) {
    if ((m->count + 1) * 2 > m->cap) {
        uint32_t cap = m->cap ? m->cap * 2 : 64;
        m->keys = model_grow(m->keys, &m->keycap, m->count + 1, sizeof *m->keys);
        m->keys[m->count++] = key;
        rehash(m, cap);
        return m->count;
    }
    m->keys = model_grow(m->keys, &m->keycap, m->count + 1, sizeof *m->keys);
    m->keys[m->count++] = key;
    put(m, key, m->count);
    return m->count;
}

uint32_t model_map_renew(model_map *m, uint64_t key) { return assign(m, key); }
