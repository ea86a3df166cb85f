/* strategies.h - scheduling strategies beyond uniform random: PCT, swarm,
 * and the byte-driven chooser of the libFuzzer targets (fuzz/).
 *
 * All are sim_choosers, deterministic per seed (per input for bytes): the same seed
 * gives the same answers whatever ran before, so fuzzing can be sharded and
 * any execution replays from its recorded schedule alone.
 */
#ifndef IOCPCHECK_SIM_STRATEGIES_H
#define IOCPCHECK_SIM_STRATEGIES_H

#include "../sim/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010): every
 * thread (and the kernel) gets a random distinct priority when first seen;
 * the highest-priority runnable one always runs; at d-1 change points, drawn
 * uniformly among the first `k` thread decisions, the running thread drops
 * below every initial priority. A bug of depth d is found with probability at
 * least 1/(n k^(d-1)). Non-thread choices are uniform. */
#define SIM_PCT_MAX_DEPTH 16
typedef struct sim_pct {
    uint64_t seed;
    uint32_t depth;      /* d >= 1 */
    uint32_t k;          /* estimated thread decisions per execution */
    uint64_t rng[4];
    uint32_t prio[SIM_KERNEL_LABEL + 1]; /* 0: not seen yet; higher runs first */
    uint32_t change[SIM_PCT_MAX_DEPTH];  /* decision numbers of the change points */
    uint32_t steps;      /* thread decisions so far */
    uint32_t next_prio;  /* for newly seen threads, above every change-point priority */
} sim_pct;
sim_chooser sim_pct_chooser(sim_pct *p, uint64_t seed, uint32_t depth, uint32_t k);

/* Swarm testing (Groce et al., ISSTA 2012): each execution draws its own
 * configuration from its seed — per choice kind, maybe a favoured outcome and
 * how strongly it is favoured; for threads, how sticky the running thread is —
 * and then chooses at random under that bias. Fault budgets are drawn apart
 * (sim_swarm_faults) since they configure the fault shim, not the chooser. */
typedef struct sim_swarm {
    uint64_t seed;
    uint64_t rng[4];
    uint32_t sticky_pct;                    /* thread choice: % to keep the running thread (0: uniform) */
    int32_t favour[SIM_CHOICE__COUNT];      /* outcome index favoured, -1: none */
    uint32_t favour_pct[SIM_CHOICE__COUNT]; /* % of choices that take it when offered */
} sim_swarm;
sim_chooser sim_swarm_chooser(sim_swarm *w, uint64_t seed);
/* Draws `n` per-family fault budgets, out[f] in [0, max[f]], from the seed. */
void sim_swarm_faults(uint64_t seed, const uint32_t *max, uint32_t *out, uint32_t n);
/* Prints the configuration drawn for `seed` (snprintf-style). */
size_t sim_swarm_describe(const sim_swarm *w, char *buf, size_t len);

/* Byte-driven (a fuzzer's input): each choice takes the next byte (two when
 * n > 256); a thread choice counts from the running thread, so 0 = go on;
 * other choices take byte mod n. Past the end: the first chooser's answer. */
typedef struct sim_bytes {
    const uint8_t *data;
    size_t size;
    size_t pos; /* bytes used by the current execution */
} sim_bytes;
sim_chooser sim_bytes_chooser(sim_bytes *b, const uint8_t *data, size_t size);

#ifdef __cplusplus
}
#endif

#endif
