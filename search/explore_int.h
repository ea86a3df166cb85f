/* explore_int.h - the explorer's state, shared by explore.c (the search)
 * and explore_race.c (the DPOR race analysis). Not a public header.
 */
#ifndef IOCPCHECK_EXPLORE_INT_H
#define IOCPCHECK_EXPLORE_INT_H

#include <setjmp.h>
#include <stddef.h>

#include "explore.h"

#define EX_LABELS (SIM_KERNEL_LABEL + 1) /* thread ids 0..63 and the kernel, 64 */
/* Defaults of explore_options (0 in a given option means the default). */
#define EX_DEFAULT_MAX_EXECUTIONS 1000000u
#define EX_DEFAULT_MAX_DEPTH (1u << 16)
#define EX_DEFAULT_MAX_ACCESSES (1u << 18)
#define EX_DEFAULT_MAX_STATES (1u << 20)
#define EX_NONE UINT32_MAX

/* A set of thread-choice labels. */
typedef struct lset {
    uint64_t w[2];
} lset;
static inline bool ls_has(const lset *s, uint32_t l) { return (s->w[l >> 6] >> (l & 63)) & 1; }
static inline void ls_add(lset *s, uint32_t l) { s->w[l >> 6] |= 1ull << (l & 63); }

/* One decision of the current path. */
typedef struct ex_node {
    uint8_t kind;         /* sim_choice_kind */
    bool full;            /* explore every allowed alternative (not only the backtrack set) */
    bool observed;        /* kernel node: some run below its first alternative accessed its effect object */
    uint32_t effect;      /* kernel node: the object its choice alone affects (SIM_ACC_EFFECT), or EX_NONE */
    uint32_t effect_except; /* ... whose next access by this thread does not observe it, or EX_NONE */
    uint32_t n;
    uint32_t cur;         /* index of the thread that may go on, or SIM_NO_CURRENT */
    uint32_t chosen;      /* index being explored */
    uint32_t pre_preempt; /* preemptions on the path before this decision */
    uint32_t pre_dev;     /* kernel deviations on the path before this decision */
    uint32_t acc_at;      /* access-log length when the decision was asked */
    uint32_t obj_base;    /* sync objects / threads that existed at this decision */
    uint32_t thr_base;
    uint32_t kobj_base[SIM_KOBJ__COUNT]; /* kernel objects of each kind that existed */
    uint32_t prev_thread; /* the previous thread node on the path, or EX_NONE */
    uint32_t owner;       /* kernel node: whose step asked it (sim_acting_thread) */
    uint32_t ent_start, ent_end; /* its sleep set: entries [start, end) */
    uint32_t pool_end;
    uint64_t bound_mark;  /* stats.pruned_bound when `chosen` was taken */
    lset enabled, done, todo; /* thread nodes: by label */
    uint8_t labels[EX_LABELS];
} ex_node;

/* A sleeping thread and the accesses of the step it would take. */
typedef struct ex_sleep {
    uint32_t label;
    uint32_t off, len; /* in the pool */
    uint32_t obj_base, thr_base; /* of the node where it was explored */
    uint32_t kobj_base[SIM_KOBJ__COUNT];
} ex_sleep;

/* A set of 64-bit hashes (explore_class.c). */
typedef struct ex_hset {
    uint64_t *slot;
    uint32_t n, cap;
} ex_hset;

typedef struct ex_objw {
    uint32_t object;
    uint32_t write;
} ex_objw;

typedef struct explorer {
    sim_ctx *sim;
    const explore_options *o;
    explore_por por;
    int32_t bound;          /* < 0: none */
    int32_t kbound;         /* the kernel bound; < 0: none */
    explore_result *res;

    ex_node *nodes;
    uint32_t nnodes, cap_nodes;
    ex_sleep *ents;
    uint32_t nents, cap_ents;
    ex_objw *pool;
    uint32_t npool, cap_pool;

    /* per run */
    uint32_t last_thread;
    uint32_t scan_pos, obj_base, thr_base, kobj_base[SIM_KOBJ__COUNT];
    const char *cut;        /* why the run was cut short, or NULL */
    bool diverged;          /* the replay saw a different question: nondeterminism */
    bool depth_cut;
    bool oom;
    bool in_run;            /* inside sim_run: the chooser's callbacks */
    const sim_result *last; /* the last run's result (valid until the next run) */
    jmp_buf fail_jmp;       /* a broken invariant between runs ends the search here */

    /* final states and classes of the executions */
    ex_hset states, classes;
    bool states_full;
    /* class walk scratch (explore_class.c): last write per object */
    uint32_t *cls_obj, *cls_stamp, *cls_eff, *cls_exc;
    uint64_t *cls_last;
    uint32_t cls_cap, cls_walk;
    uint8_t *cls_seen;      /* per decision: its effect unobserved (1) or observed (2) */
    uint64_t *cls_attr;     /* per decision: the step (thread, access number) it belongs to */
    uint32_t cls_seen_cap;
    uint64_t *last_val;
    uint32_t cap_last_val;

    /* race analysis scratch (explore_race.c) */
    uint32_t *vc;           /* accesses x slots */
    size_t cap_vc;
    uint32_t *aux;          /* per access: previous on the same object, owner node, in-step flag */
    uint32_t cap_aux;
    uint32_t *objlast;
    uint32_t cap_objlast;
    uint32_t *tmp;
    uint32_t cap_tmp;

    /* effects of the run's kernel choices (note_observations) */
    uint32_t *eff_node;
    uint32_t cap_eff;
} explorer;

/* ---- Invariants ----
 * EX_CHECK(ex, cond, what) is always on; `what` names the invariant. A
 * failure is a bug in the explorer, never in the program explored. Inside a
 * run (the chooser) it ends the execution through the engine, which reports
 * the verdict internal with the schedule so far; between runs (backtracking,
 * the race analysis) it ends the search with the last run's schedule. Either
 * way explore_run stops with stopped_by "internal" and a violation whose
 * verdict is SIM_INTERNAL: never a bare abort, never a "complete" search. */
#define EX_CHECK(ex, cond, what)                                                         \
    do {                                                                                 \
        if (__builtin_expect(!(cond), 0)) ex_internal((ex), (what), #cond, __FILE__, __LINE__); \
    } while (0)
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn, cold))
#endif
void ex_internal(const explorer *ex, const char *what, const char *cond, const char *file, int line);

/* Grows *p to at least `need` elements of `elem` bytes; false if memory ran out. */
bool ex_grow(void **p, uint32_t *cap, uint32_t need, size_t elem);
uint32_t ex_cost(const ex_node *nd, uint32_t idx);
uint32_t ex_wcost(const ex_node *nd, uint32_t idx);
bool ex_allowed(const explorer *ex, const ex_node *nd, uint32_t idx);
lset ex_sleep_set(const explorer *ex, const ex_node *nd);

/* explore_class.c */
uint64_t ex_mix64(uint64_t h, uint64_t v);
/* Adds h: 1 if new, 0 if already there, -1 if memory ran out. */
int ex_hset_add(ex_hset *s, uint64_t h);
void ex_hset_free(ex_hset *s);
/* The class of the run just finished (see explore_class.c); false if memory ran out. */
bool ex_class_hash(explorer *ex, const sim_result *r, uint64_t *out);

/* explore_race.c: finds the races of the run just finished and adds their
 * threads to the backtrack sets of the path; false if memory ran out. */
bool ex_analyze(explorer *ex);
void ex_analysis_free(explorer *ex);

#endif
