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

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sim_rng_next(uint64_t s[4]) {
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t sim_rng_below(uint64_t s[4], uint32_t n) {
    uint32_t x = (uint32_t)(sim_rng_next(s) >> 32);
    uint64_t m = (uint64_t)x * n;
    uint32_t l = (uint32_t)m;
    if (l < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (l < threshold) {
            x = (uint32_t)(sim_rng_next(s) >> 32);
            m = (uint64_t)x * n;
            l = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}
