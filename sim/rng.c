/* rng.c - the simulator's only source of randomness.
 *
 * xoshiro256** (Blackman and Vigna), seeded through SplitMix64 so that any
 * 64-bit seed, 0 included, gives a well-mixed state. Bounded draws use
 * Lemire's multiply-and-reject method, so every outcome is exactly equally
 * likely and the sequence is the same on every platform.
 */
#include "sim_internal.h"

uint64_t sim_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void sim_rng_seed(uint64_t s[4], uint64_t seed) {
    uint64_t sm = seed;
    for (int i = 0; i < 4; i++) s[i] = sim_splitmix64(&sm);
}

uint64_t sim_rng_next(uint64_t s[4]) { return sim__rng_next(s); }

uint32_t sim_rng_below(uint64_t s[4], uint32_t n) { return sim__rng_below(s, n); }
