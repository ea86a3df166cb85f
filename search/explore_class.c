/* explore_class.c - which equivalence class an execution belongs to, and
 * sets of 64-bit hashes (final states, classes).
 *
 * The class of a run is the Mazurkiewicz trace of its access log under the
 * dependence the race analysis uses (explore_race.c): per object, its writes
 * in order and each read with the write it saw; each thread's accesses in
 * program order; the kernel counted as one thread (so two kernel actions on
 * different objects in the other order count as another class: an upper
 * bound on the classes, exactly as fine as the reduction's own notion).
 * Plus the outcomes of the kernel choices, which the log does not show,
 * but not of one that names the object it alone affects (SIM_ACC_EFFECT)
 * when nothing accessed that object afterwards: its alternatives give the
 * same trace (the reduction runs only its first, explore.c); nor a time
 * jump not taken ('j' 0), which is no event at all.
 * A kernel choice is named by the thread (or kernel) whose step asked it
 * and the accesses that thread had logged before. Runs of different classes
 * hash alike only by a 64-bit collision, or where they differ in nothing but
 * which never-written object a read names. So the count is an upper bound on
 * the classes among the executions of a search, and executions / classes a
 * lower bound on how often it ran a class again.
 */
#include <stdlib.h>
#include <string.h>

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

static uint64_t attr_of(const explorer *ex, uint32_t d, const uint32_t *seq) {
    uint32_t o = ex->nodes[d].owner < EX_LABELS ? ex->nodes[d].owner : SIM_KERNEL_LABEL;
    return (uint64_t)o << 32 | seq[o];
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
        free(ex->cls_eff);
        free(ex->cls_exc);
        ex->cls_obj = malloc(cap * sizeof *ex->cls_obj);
        ex->cls_eff = malloc(cap * sizeof *ex->cls_eff);
        ex->cls_exc = malloc(cap * sizeof *ex->cls_exc);
        ex->cls_stamp = calloc(cap, sizeof *ex->cls_stamp);
        ex->cls_last = malloc(cap * sizeof *ex->cls_last);
        ex->cls_cap = ex->cls_obj && ex->cls_stamp && ex->cls_last && ex->cls_eff && ex->cls_exc ? cap : 0;
        ex->cls_walk = 0;
        if (ex->cls_cap == 0) return false;
    }
    if (++ex->cls_walk == 0) { /* the stamps wrapped: forget them all */
        for (uint32_t i = 0; i < ex->cls_cap; i++) ex->cls_stamp[i] = 0;
        ex->cls_walk = 1;
    }
    /* Per decision: 1 its effect object is not accessed (yet), 2 it is. */
    uint32_t nd = r->ndecisions;
    uint32_t cap_seen = ex->cls_seen_cap;
    if (!ex_grow((void **)&ex->cls_seen, &ex->cls_seen_cap, nd + 1, 1) ||
        !ex_grow((void **)&ex->cls_attr, &cap_seen, nd + 1, sizeof *ex->cls_attr))
        return false;
    memset(ex->cls_seen, 0, nd + 1);
    uint32_t di = 0;
    uint32_t seq[EX_LABELS] = {0};
    uint64_t sum = 0;
    for (uint32_t x = 0; x < m; x++) {
        /* A join that blocks first (a silent access of the thread object)
         * orders nothing: the race analysis ignores it, so does the class. */
        if (SIM_ACC_CLASS(a[x].object) == SIM_ACC_THREAD && a[x].event > SIM_EV_JOIN) continue;
        uint32_t t = a[x].thread < EX_LABELS ? a[x].thread : SIM_KERNEL_LABEL;
        /* A kernel choice is named by whose step asked it and how many
         * accesses that step's thread had logged before. */
        for (; di < nd && ex->nodes[di].acc_at <= x; di++) ex->cls_attr[di] = attr_of(ex, di, seq);
        if (a[x].event == SIM_ACC_DROP) continue; /* a note for the race analysis, no access */
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
            if (!seen) {
                ex->cls_stamp[j] = ex->cls_walk;
                ex->cls_obj[j] = a[x].object;
                ex->cls_last[j] = 0;
                ex->cls_eff[j] = EX_NONE;
            }
            if (a[x].event == SIM_ACC_EFFECT && a[x].pos >= 1 && a[x].pos <= nd) {
                ex->cls_eff[j] = a[x].pos - 1;
                ex->cls_seen[a[x].pos - 1] = 1;
                ex->cls_exc[j] = a[x].value != 0 ? (uint32_t)a[x].value - 1 : EX_NONE;
            } else if (ex->cls_eff[j] != EX_NONE) {
                /* The effect's own thread (explore.c, note_observations) does not see it. */
                if (a[x].thread != ex->cls_exc[j] && a[x].event != SIM_ACC_OVERWRITE) ex->cls_seen[ex->cls_eff[j]] = 2;
                ex->cls_eff[j] = EX_NONE;
            }
            seen = ex->cls_last[j] != 0;
            /* An object's first access names its class and kernel kind only:
             * numbers by first touch may differ between equivalent runs. */
            key = ex_mix64(key, seen ? ex->cls_last[j] : (uint64_t)(c << 8 | SIM_ACC_KOBJ_KIND(a[x].object)) << 40);
            if (a[x].write) ex->cls_last[j] = self;
        }
        sum += ex_mix64(key, 0x27d4eb2fu);
    }
    for (; di < nd; di++) ex->cls_attr[di] = attr_of(ex, di, seq);
    /* Kernel choices: each outcome with the step it belongs to ('e' is
     * scheduling, already in the order of the kernel's accesses). */
    for (uint32_t i = 0; i < nd; i++) {
        uint32_t k = r->decisions[i].kind;
        if (k == SIM_CHOICE_THREAD || k == SIM_CHOICE_EVENT || k >= SIM_CHOICE__COUNT || ex->cls_seen[i] == 1) continue;
        /* Time not jumping changes nothing: whether the jump is offered
         * depends on other threads' deadlines, the class must not. */
        if (k == SIM_CHOICE_JUMP && r->decisions[i].index == 0) continue;
        sum += ex_mix64(ex_mix64(ex->cls_attr[i], (uint64_t)k << 32 | r->decisions[i].label), 0x165667b1u);
    }
    *out = ex_mix64(ex_mix64(0x5bd1e995u, (uint64_t)r->verdict), sum);
    return true;
}
