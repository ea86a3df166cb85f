/* mutator.c - structural mutations of fuzz_decisions inputs, on when
 * IOCPCHECK_FUZZ_MUTATOR=1 (off: libFuzzer's own mutations alone).
 *
 * An input is a selector byte, then one byte per decision (decisions.h), so
 * a mutation that keeps positions keeps every other decision's meaning:
 * add a preemption at one decision (a nonzero byte), remove one (a zero
 * byte), re-draw one decision or a short window of them, insert or delete
 * one decision (what follows shifts by one), and splice two inputs at the
 * same decision position (the prefix of one, the rest of the other). Half
 * of the mutations are libFuzzer's own.
 */
#include <stdlib.h>
#include <string.h>

#include "decisions.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *a, size_t asize, const uint8_t *b, size_t bsize, uint8_t *out,
                                 size_t max_out, unsigned int seed);

static int enabled = -1;
static bool on(void) {
    if (enabled < 0) {
        const char *m = getenv("IOCPCHECK_FUZZ_MUTATOR");
        enabled = m != NULL && strcmp(m, "1") == 0;
    }
    return enabled;
}

/* libFuzzer passes a seed per call: a small generator from it keeps the
 * mutations reproducible with -seed. */
static uint32_t next(uint32_t *r) {
    *r ^= *r << 13;
    *r ^= *r >> 17;
    *r ^= *r << 5;
    return *r;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed) {
    uint32_t r = seed | 1;
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
