/* mutator.c - mutations of fuzz_decisions inputs beyond libFuzzer's own,
 * chosen by IOCPCHECK_FUZZ_MUTATOR (default prefix:50; "0": libFuzzer's
 * alone).
 *
 * "prefix": keep the prefix of an execution, explore after it (the search
 * of RFF, Wolff et al., ASPLOS 2024, and of Coyote's feedback-guided
 * schedulers). An input is explicit decisions then a random tail seeded
 * from the whole input (decisions.h), so any byte-level mutation re-draws
 * everything past the explicit bytes, and a state the tail reached is lost
 * with it. Here the input is first expanded to the execution it made (every
 * answer written out, fuzz_decisions_expansion: an input that repeats it
 * exactly), then, of the mutations not left to libFuzzer ("prefix:N": N%
 * are its own), 3 in 8 cut after a random decision (the kept prefix, then
 * a new tail), 1 in 8 gives one random decision another answer (a
 * preemption where it went on, or another alternative) and cuts after it,
 * 2 in 8 do that at a conflict point (observe.h: a decision that let one of
 * two conflicting accesses run first; the rarest kind of four drawn), and
 * 2 in 8 change a conflict point's answer and keep every later decision.
 * The crossover splices two expansions at one decision. An input that gained
 * coverage is thereby mutated as the execution that gained it. Expansions
 * of the last inputs run are kept (fuzz_mutator_note); an input whose
 * expansion is not kept is run again to get it, and that run is counted as
 * an execution (fuzz_decisions_count).
 *
 * "1": structural mutations of the explicit bytes: add a preemption at one
 * decision (a nonzero byte), remove one (a zero byte), re-draw one decision
 * or a short window of them, insert or delete one decision (what follows
 * shifts by one), and splice two inputs at the same decision position (the
 * prefix of one, the rest of the other). Half of the mutations are
 * libFuzzer's own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decisions.h"
#include "mutator.h"
#include "observe.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *a, size_t asize, const uint8_t *b, size_t bsize, uint8_t *out,
                                 size_t max_out, unsigned int seed);

enum { MUT_NONE, MUT_STRUCTURAL, MUT_PREFIX };
static uint32_t own_pct = 50; /* prefix: % of mutations left to libFuzzer ("prefix:PCT") */
/* prefix: % of mutations that are a fresh execution (IOCPCHECK_FUZZ_FRESH,
 * 0 to 100, default FRESH_DEFAULT): the selector byte and 1 to 8 random
 * decision bytes, so the tail (decisions.h) is a new draw from the start:
 * the tail's own strategies (random, PCT) as the CLI runs them, which the
 * search then never falls far behind. */
#define FRESH_DEFAULT 0
static uint32_t fresh_pct = FRESH_DEFAULT;
/* IOCPCHECK_FUZZ_MUTATOR: unset or "" is prefix:50 (measured best on the
 * README's hard pairs), "0" libFuzzer's own alone, "1" structural,
 * "prefix" or "prefix:PCT" (PCT from 0 to 100). Anything else exits 2. */
static int mode(void) {
    static int m = -1;
    if (m < 0) {
        const char *e = getenv("IOCPCHECK_FUZZ_MUTATOR");
        char *end = NULL;
        m = e == NULL || *e == 0 ? MUT_PREFIX : strcmp(e, "0") == 0 ? MUT_NONE : strcmp(e, "1") == 0 ? MUT_STRUCTURAL : -1;
        if (e != NULL && strcmp(e, "prefix") == 0) m = MUT_PREFIX;
        if (e != NULL && strncmp(e, "prefix:", 7) == 0 && e[7] >= '0' && e[7] <= '9') {
            unsigned long pct = strtoul(e + 7, &end, 10);
            if (*end == 0 && pct <= 100) {
                m = MUT_PREFIX;
                own_pct = (uint32_t)pct;
            }
        }
        if (m < 0) {
            fprintf(stderr, "fuzz_decisions: IOCPCHECK_FUZZ_MUTATOR=%s: expected 0, 1, prefix or prefix:PCT (0 to 100)\n", e);
            exit(2);
        }
        const char *f = getenv("IOCPCHECK_FUZZ_FRESH");
        if (f != NULL && *f != 0) {
            unsigned long pct = strtoul(f, &end, 10);
            if (*f < '0' || *f > '9' || *end != 0 || pct > 100) {
                fprintf(stderr, "fuzz_decisions: IOCPCHECK_FUZZ_FRESH=%s: expected a percentage, 0 to 100\n", f);
                exit(2);
            }
            fresh_pct = (uint32_t)pct;
        }
    }
    return m;
}
static bool on(void) { return mode() == MUT_STRUCTURAL; }

/* libFuzzer passes a seed per call: a small generator from it keeps the
 * mutations reproducible with -seed. */
static uint32_t next(uint32_t *r) {
    *r ^= *r << 13;
    *r ^= *r >> 17;
    *r ^= *r << 5;
    return *r;
}

/* A decision byte other than `b`: "go on" where it preempted, else a near
 * alternative (the byte is taken mod the count, small for threads) or any. */
static uint8_t other(uint8_t b, uint32_t *r) {
    if (b != 0 && next(r) % 2) return 0;
    return (uint8_t)(b + 1 + (next(r) % 2 ? next(r) % 7 : next(r) % 255));
}

/* ---- prefix: expansions ---- */

typedef struct expanded {
    uint64_t key; /* hash of the input (0: empty slot) */
    uint8_t *bytes;
    size_t size;
    uint32_t *points; /* its conflict points (observe.h) */
    size_t npoints;
} expanded;
#define RECENT 64u       /* the last inputs run: a mutation chain mutates the one just run */
#define KEPT (1u << 14)  /* those the mutator asked for: the corpus, about */
static expanded recent[RECENT];
static uint32_t recent_at;
static expanded kept[KEPT];
static uint32_t nkept;

static uint64_t key_of(const uint8_t *data, size_t size) {
    uint64_t h = 0xcbf29ce484222325ull ^ size;
    for (size_t i = 0; i < size; i++) h = (h ^ data[i]) * 0x100000001b3ull;
    return h | 1;
}

static void set(expanded *e, uint64_t key, const uint8_t *bytes, size_t size, const uint32_t *points, size_t npoints) {
    e->key = key;
    e->bytes = realloc(e->bytes, size ? size : 1);
    e->points = realloc(e->points, (npoints ? npoints : 1) * sizeof *points);
    if (e->bytes == NULL || e->points == NULL) abort();
    memcpy(e->bytes, bytes, size);
    e->size = size;
    if (npoints) memcpy(e->points, points, npoints * sizeof *points);
    e->npoints = npoints;
}

/* The last execution's expansion and conflict points into `e`. */
static void set_last(expanded *e, uint64_t key) {
    size_t n, np;
    const uint8_t *b = fuzz_decisions_expansion(&n);
    const uint32_t *p = fuzz_observe_conflict_points(&np);
    set(e, key, b, n, p, np);
}

void fuzz_mutator_setup(void) {
    fuzz_decisions_record(mode() == MUT_PREFIX);
    if (mode() == MUT_PREFIX) fuzz_observe_conflicts();
}

void fuzz_mutator_note(const uint8_t *data, size_t size) {
    if (mode() != MUT_PREFIX) return;
    set_last(&recent[recent_at++ % RECENT], key_of(data, size));
}

/* The expansion of `data` (size 0 if it has none). */
static const expanded *expansion_of(const uint8_t *data, size_t size) {
    uint64_t key = key_of(data, size);
    uint32_t at = (uint32_t)key & (KEPT - 1);
    while (kept[at].key != 0 && kept[at].key != key) at = (at + 1) & (KEPT - 1);
    if (kept[at].key == key) return &kept[at];
    if (nkept >= KEPT / 2) { /* full: start over (the corpus is re-expanded on demand) */
        for (uint32_t i = 0; i < KEPT; i++) kept[i].key = 0;
        nkept = 0;
        at = (uint32_t)key & (KEPT - 1);
    }
    nkept++;
    for (uint32_t i = 0; i < RECENT; i++)
        if (recent[i].key == key) {
            set(&kept[at], key, recent[i].bytes, recent[i].size, recent[i].points, recent[i].npoints);
            return &kept[at];
        }
    fuzz_decisions_count();
    fuzz_decisions_check(data, size);
    set_last(&kept[at], key);
    return &kept[at];
}

static size_t put_prefix(uint8_t *out, size_t max, const expanded *e, size_t keep) {
    if (keep > e->size) keep = e->size;
    if (keep > max) keep = max;
    memmove(out, e->bytes, keep);
    return keep;
}

static size_t prefix_mutate(uint8_t *data, size_t size, size_t max_size, uint32_t *r) {
    if (fresh_pct > 0 && next(r) % 100 < fresh_pct && max_size >= 9) {
        size_t n = 2 + next(r) % 8;
        if (size == 0) data[0] = 0;
        for (size_t i = 1; i < n; i++) data[i] = (uint8_t)next(r);
        return n;
    }
    bool own = next(r) % 100 < own_pct;
    uint32_t op = next(r) % 8;
    const expanded *e = size > 0 && !own ? expansion_of(data, size) : NULL;
    if (e == NULL || e->size < 2) return LLVMFuzzerMutate(data, size, max_size);
    size_t nd = e->size - 1; /* decisions, about */
    size_t k = next(r) % nd; /* decision bytes kept before the change */
    size_t n;
    if (op < 3) { /* the prefix, then a new tail */
        n = put_prefix(data, max_size, e, 1 + k);
        /* The same bytes would make the same execution: one decision less. */
        if (n == size && n > 1 && memcmp(data, e->bytes, n) == 0) n--;
        return n;
    }
    /* Another answer at one decision: at a conflict point (ops 4 to 7) if
     * the execution has one, else anywhere; then a new tail (up to 5) or
     * every later decision kept. */
    if (op >= 4 && e->npoints > 0) { /* the rarest kind of four drawn */
        uint32_t best = e->points[next(r) % e->npoints];
        for (int i = 0; i < 3; i++) {
            uint32_t p = e->points[next(r) % e->npoints];
            if (fuzz_observe_conflict_count(p) < fuzz_observe_conflict_count(best)) best = p;
        }
        k = FUZZ_POINT_POSITION(best) - 1;
    }
    if (k >= nd) k = nd - 1;
    uint8_t flipped = other(e->bytes[1 + k], r);
    n = put_prefix(data, max_size, e, op < 6 ? 2 + k : e->size);
    if (1 + k < n) data[1 + k] = flipped;
    return n;
}

static size_t prefix_cross(const uint8_t *a, size_t asize, const uint8_t *b, size_t bsize, uint8_t *out, size_t max_out,
                           uint32_t *r) {
    if (asize == 0 || bsize == 0 || max_out == 0) return 0;
    const expanded *ea = expansion_of(a, asize);
    size_t cut = 1 + next(r) % (ea->size > 0 ? ea->size : 1);
    expanded pa = {0, NULL, 0, NULL, 0};
    set(&pa, 1, ea->bytes, ea->size < cut ? ea->size : cut, NULL, 0);
    const expanded *eb = expansion_of(b, bsize); /* may reuse ea's slot: pa is a copy */
    size_t n = put_prefix(out, max_out, &pa, cut);
    free(pa.bytes);
    free(pa.points);
    for (size_t i = n; i < eb->size && i < max_out; i++) out[n++] = eb->bytes[i];
    return n;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed) {
    uint32_t r = seed | 1;
    if (mode() == MUT_PREFIX) return prefix_mutate(data, size, max_size, &r);
    if (!on() || size < 2 || next(&r) % 2 == 0) return LLVMFuzzerMutate(data, size, max_size);
    size_t n = size - 1; /* decisions */
    uint8_t *d = data + 1;
    size_t at = next(&r) % n;
    switch (next(&r) % 6) {
    case 0: /* a preemption */
        d[at] = (uint8_t)(1 + next(&r) % 255);
        break;
    case 1: /* no preemption: the first nonzero byte from `at` */
        for (size_t i = 0; i < n; i++)
            if (d[(at + i) % n] != 0) {
                d[(at + i) % n] = 0;
                break;
            }
        break;
    case 2: /* one decision re-drawn */
        d[at] = (uint8_t)next(&r);
        break;
    case 3: /* a window of 2..8 decisions re-drawn */
        for (size_t k = 2 + next(&r) % 7, i = at; i < n && k > 0; i++, k--) d[i] = (uint8_t)next(&r);
        break;
    case 4: /* a decision inserted */
        if (size >= max_size) return LLVMFuzzerMutate(data, size, max_size);
        memmove(d + at + 1, d + at, n - at);
        d[at] = next(&r) % 2 ? 0 : (uint8_t)next(&r);
        return size + 1;
    default: /* a decision deleted */
        memmove(d + at, d + at + 1, n - at - 1);
        return size - 1;
    }
    return size;
}

size_t LLVMFuzzerCustomCrossOver(const uint8_t *a, size_t asize, const uint8_t *b, size_t bsize, uint8_t *out,
                                 size_t max_out, unsigned int seed) {
    uint32_t r = seed | 1;
    if (mode() == MUT_PREFIX) return prefix_cross(a, asize, b, bsize, out, max_out, &r);
    if (!on() || asize == 0 || max_out == 0) return 0; /* 0: libFuzzer tries another mutation */
    /* Same cut in both: decision i stays decision i. */
    size_t cut = 1 + next(&r) % asize;
    if (cut > max_out) cut = max_out;
    memcpy(out, a, cut);
    size_t rest = bsize > cut ? bsize - cut : 0;
    if (cut + rest > max_out) rest = max_out - cut;
    memcpy(out + cut, b + cut, rest);
    return cut + rest;
}
