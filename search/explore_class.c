/* explore_class.c - which equivalence class an execution belongs to, and
 * sets of 64-bit hashes (final states, classes).
 *
 * The class of a run is the Mazurkiewicz trace of its access log under the
 * dependence the race analysis uses (explore_race.c): per object, its writes
 * in order and each read with the write it saw; each thread's accesses in
 * program order; the kernel counted as one thread (so two kernel actions on
 * different objects in the other order count as another class: an upper
 * bound on the classes, exactly as fine as the reduction's own notion).
 * Plus the outcomes of the kernel choices, which the log does not show.
 * Two runs DPOR treats as equivalent hash alike; distinct hashes among the
 * executions of a search say how many of them were really different, and
 * executions / classes how much of the work was redundant.
 */
#include <stdlib.h>

#include "explore_int.h"

uint64_t ex_mix64(uint64_t h, uint64_t v) {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h *= 0xFF51AFD7ED558CCDull;
    return h ^ (h >> 32);
}

int ex_hset_add(ex_hset *s, uint64_t h) {
    if (h == 0) h = 1; /* 0 marks an empty slot */
    if ((s->n + 1) * 2 > s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 1024;
        uint64_t *t = calloc(cap, sizeof *t);
        if (t == NULL) return -1;
        for (uint32_t i = 0; i < s->cap; i++) {
            if (s->slot[i] == 0) continue;
            uint32_t j = (uint32_t)(ex_mix64(0, s->slot[i]) & (cap - 1));
            while (t[j] != 0) j = (j + 1) & (cap - 1);
            t[j] = s->slot[i];
        }
        free(s->slot);
        s->slot = t;
        s->cap = cap;
    }
    /* At most half full: the probe always ends. */
    uint32_t j = (uint32_t)(ex_mix64(0, h) & (s->cap - 1));
    while (s->slot[j] != 0) {
        if (s->slot[j] == h) return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->slot[j] = h;
    s->n++;
    return 1;
}

void ex_hset_free(ex_hset *s) {
    free(s->slot);
    s->slot = NULL;
    s->n = s->cap = 0;
}

/* The last write of each object seen so far in the walk: open addressing
 * keyed by object, a slot valid only in the walk that stamped it. */
static uint32_t lastw_slot(explorer *ex, uint32_t object) {
    uint32_t mask = ex->cls_cap - 1, j = (uint32_t)(ex_mix64(0, object) & mask);
    while (ex->cls_stamp[j] == ex->cls_walk && ex->cls_obj[j] != object) j = (j + 1) & mask;
    return j;
}

bool ex_class_hash(explorer *ex, const sim_result *r, uint64_t *out) {
    uint32_t m = sim_access_count(ex->sim);
    const sim_access *a = sim_accesses(ex->sim);
    uint32_t cap = ex->cls_cap ? ex->cls_cap : 1024;
    while (cap < 2 * m + 2) cap *= 2;
    if (cap != ex->cls_cap) {
        free(ex->cls_obj);
        free(ex->cls_stamp);
        free(ex->cls_last);
        ex->cls_obj = malloc(cap * sizeof *ex->cls_obj);
        ex->cls_stamp = calloc(cap, sizeof *ex->cls_stamp);
        ex->cls_last = malloc(cap * sizeof *ex->cls_last);
        ex->cls_cap = ex->cls_obj && ex->cls_stamp && ex->cls_last ? cap : 0;
        ex->cls_walk = 0;
        if (ex->cls_cap == 0) return false;
    }
    if (++ex->cls_walk == 0) { /* the stamps wrapped: forget them all */
        for (uint32_t i = 0; i < ex->cls_cap; i++) ex->cls_stamp[i] = 0;
        ex->cls_walk = 1;
    }
    uint32_t seq[EX_LABELS] = {0};
    uint64_t sum = 0;
    for (uint32_t x = 0; x < m; x++) {
        uint32_t t = a[x].thread < EX_LABELS ? a[x].thread : SIM_KERNEL_LABEL;
        uint64_t self = (uint64_t)t << 32 | ++seq[t];
        uint32_t c = SIM_ACC_CLASS(a[x].object);
        uint64_t key = ex_mix64(self, (uint64_t)a[x].event << 8 | a[x].write);
        if (c == SIM_ACC_SYNC) key = ex_mix64(key, a[x].value);
        if (c == SIM_ACC_THREAD) {
            /* Thread objects are named by spawn order, the same in every
             * equivalent run; they order only spawn/start and end/join. */
            key = ex_mix64(key, a[x].object);
        } else {
            uint32_t j = lastw_slot(ex, a[x].object);
            bool seen = ex->cls_stamp[j] == ex->cls_walk;
            /* An object's first access names its class and kernel kind only:
             * numbers by first touch may differ between equivalent runs. */
            key = ex_mix64(key, seen ? ex->cls_last[j] : (uint64_t)(c << 8 | SIM_ACC_KOBJ_KIND(a[x].object)) << 40);
            if (a[x].write) {
                ex->cls_stamp[j] = ex->cls_walk;
                ex->cls_obj[j] = a[x].object;
                ex->cls_last[j] = self;
            }
        }
        sum += ex_mix64(key, 0x27d4eb2fu);
    }
    /* Kernel choices: the outcomes taken, as a multiset by kind ('e' is
     * scheduling, already in the order of the kernel's accesses). */
    uint32_t nth[SIM_CHOICE__COUNT] = {0};
    for (uint32_t i = 0; i < r->ndecisions; i++) {
        uint32_t k = r->decisions[i].kind;
        if (k == SIM_CHOICE_THREAD || k == SIM_CHOICE_EVENT || k >= SIM_CHOICE__COUNT) continue;
        sum += ex_mix64((uint64_t)k << 40 | (uint64_t)nth[k]++ << 20, r->decisions[i].label);
    }
    *out = ex_mix64(ex_mix64(0x5bd1e995u, (uint64_t)r->verdict), sum);
    return true;
}
