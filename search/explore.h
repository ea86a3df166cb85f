/* explore.h - systematic exploration of one program's decision stream.
 *
 * Stateless depth-first search over every decision of sim_run (thread
 * choices and the kernel's choices alike), with CHESS-style preemption
 * bounding, optional partial-order reduction (sleep sets, or source-DPOR
 * with sleep sets) over the objects of the access log, iterative deepening
 * on the bound, sharding of the tree, and a limit on everything. The search
 * keeps an explicit stack (no recursion) and is deterministic: the same
 * program and options give the same counts and the same first violation.
 *
 * Thread choices ('t') are reduced; every other kind is a "kernel choice".
 *
 * Two bounds, both optional (< 0: none):
 *  - K, the preemption bound (CHESS): a thread choice that switches away
 *    from a thread that could go on costs one preemption.
 *  - D, the kernel bound: a kernel choice whose chosen alternative is not
 *    index 0 (the first, lowest label; for most kinds the Windows-typical
 *    outcome, see sim/kernel/FACTS.md) costs one deviation. Index 0 is also what
 *    the explorer picks first, so every prefix can be completed at no cost.
 * An execution is "within (K, D)" when its schedule has at most K
 * preemptions and at most D deviations. complete == true after a round at
 * (K, D) means: every execution within (K, D) was run, or is equivalent
 * (same Mazurkiewicz trace over the access log, hence the same final state
 * and verdict) to one that was. With D < 0 every alternative of every kernel
 * choice is taken (the exhaustive behaviour); with K < 0 and D < 0 the whole
 * tree is covered. Equivalent executions have the same deviations (their
 * kernel choices are the same steps seeing the same state), so sleep sets
 * and DPOR need no special care for D; the preemption bound needs some
 * (see explore.c).
 */
#ifndef IOCPCHECK_EXPLORE_H
#define IOCPCHECK_EXPLORE_H

#include "../sim/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum explore_por {
    EXPLORE_POR_NONE = 0, /* every interleaving within the bound */
    EXPLORE_POR_SLEEP,    /* sleep sets: skip steps already covered by an independent sibling */
    EXPLORE_POR_DPOR,     /* source-DPOR (backtrack only at races) plus sleep sets */
} explore_por;

const char *explore_por_name(explore_por p);
/* Parses "none", "sleep" or "dpor"; false otherwise. */
bool explore_por_parse(const char *s, explore_por *out);

struct explore_stats;

typedef struct explore_options {
    explore_por por;
    int32_t preemption_bound;  /* K; < 0: unbounded */
    int32_t kernel_bound;       /* D: deviations from kernel choices' first alternative; < 0: unbounded */
    /* Iterative deepening: rounds (k, d) in order of k + d, then of k (a
     * diagonal tries kernel deviations before preemptions), k <= K, d <= D,
     * stopping after the first round with a violation. With D < 0 the rounds
     * are k = 0, 1, ... K with d unbounded (as before the kernel bound). An
     * unbounded K stops growing when a round's K no longer cuts anything. */
    bool iterative;
    /* With iterative and both bounds finite: run the last round (K, D) first,
     * and the rounds before it only if it finds a violation (to report the
     * smallest round that has one, as iterative deepening does). A search
     * without a violation then runs once what the rounds would repeat;
     * one with a violation costs that first round more. */
    bool last_round_first;
    bool stop_on_violation;    /* stop at the first violation (default true) */
    uint64_t max_executions;   /* complete executions; 0 = no limit */
    uint32_t max_depth;        /* decisions per execution; deeper runs are cut and make the result incomplete */
    uint32_t max_accesses;     /* access-log entries per execution (the DPOR analysis is O(accesses)) */
    uint32_t max_states;       /* distinct final states remembered */
    /* Sharding: an execution belongs to shard shard_index of shard_count by a
     * hash of its first shard_depth decisions. The first shard_depth
     * decisions are expanded fully in every mode (no sleep set, no DPOR), so
     * the subtrees below them are explored independently: the union over all
     * indices is exactly the unsharded run with the same shard_depth. */
    uint32_t shard_index, shard_count, shard_depth;
    /* Final-state hash of a completed execution; NULL: the verdict and the
     * last value written to every atomic word. */
    uint64_t (*state_hash)(void *user, sim_ctx *sim, const sim_result *r);
    void *state_user;
    /* Called after every complete execution (counted ones only). */
    void (*on_execution)(void *user, sim_ctx *sim, const sim_result *r);
    void *exec_user;
    /* Called after every execution; returning false stops the search (the
     * caller's time budget). */
    bool (*keep_going)(void *user, const struct explore_stats *st);
    void *keep_user;
} explore_options;

void explore_options_default(explore_options *o);

/* Does a decision cost one deviation under the kernel bound D? Every kernel
 * choice off its first alternative but 'e' (scheduling among kernel actions). */
bool explore_deviation(sim_choice_kind kind, uint32_t index);

typedef struct explore_stats {
    uint64_t executions;      /* complete executions (every round of iterative deepening) */
    uint64_t partial;         /* runs cut short: sleep-blocked, over the bound, other shard, too deep */
    uint64_t distinct_states; /* distinct final-state hashes (up to max_states) */
    uint64_t classes;         /* distinct classes among the executions (explore_class.c; up to max_states):
                               * executions - classes ran a class again */
    uint64_t pruned_bound;    /* alternatives not taken: over the preemption bound */
    uint64_t pruned_kernel;    /* ... over the kernel bound */
    uint64_t pruned_sleep;    /* ... in the sleep set */
    uint64_t pruned_por;      /* ... not in a DPOR backtrack set, or a kernel choice nobody observed */
    uint64_t races;           /* reversible races the DPOR analysis found */
    /* Alternatives explored past a node's first, by choice kind: where the
     * executions go (each one starts a new subtree). */
    uint64_t branches[SIM_CHOICE__COUNT];
    uint32_t max_depth;       /* most decisions in one execution */
    int32_t bound;            /* the last preemption bound explored (-1: unbounded) */
    int32_t kernel_bound;      /* the last kernel bound explored (-1: unbounded) */
    uint32_t rounds;          /* rounds of iterative deepening run */
    bool complete;            /* the bounded space was covered completely */
    const char *stopped_by;   /* why not complete: "max-executions", "max-depth", "max-accesses",
                               * "max-states", "keep-going", "violation", "nondeterminism", "internal"
                               * (an invariant of the engine or the explorer failed: always stops,
                               * whatever stop_on_violation says); NULL if complete */
} explore_stats;

typedef struct explore_violation {
    bool found;
    sim_verdict verdict;      /* SIM_INTERNAL: a bug in iocpcheck; it replaces an earlier violation */
    char *property;           /* malloc'd copies */
    char *message;
    sim_decision *decisions;  /* the schedule: format with sim_schedule_format */
    uint32_t ndecisions;
    uint32_t preemptions;
    uint32_t deviations;      /* kernel choices not at their first alternative */
    int32_t bound;            /* the round that found it: K */
    int32_t kernel_bound;      /* ... and D */
    uint64_t execution;       /* 1-based count of complete executions when found */
    uint64_t trace_hash;
} explore_violation;

typedef struct explore_result {
    explore_stats stats;
    explore_violation violation;
} explore_result;

/* Explores `main_fn(arg)` on `sim`. Returns false only if memory ran out (the
 * result then says how far it got). Free the result with explore_result_free. */
bool explore_run(sim_ctx *sim, sim_main_fn main_fn, void *arg, const explore_options *opt, explore_result *out);
void explore_result_free(explore_result *r);

#ifdef __cplusplus
}
#endif

#endif
