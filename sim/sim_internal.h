/* sim_internal.h - the simulator context and the functions its files share.
 *
 * Everything an execution touches lives in struct sim_ctx. Memory is either
 * retained across executions (stacks, fibers, growable buffers, object
 * tables) and merely rewound, or bump-allocated from the arena, which is
 * rewound at the start of every run. Nothing is keyed or ordered by address
 * except the atomic-word table, which is only looked up, never iterated.
 */
#ifndef IOCPCHECK_SIM_INTERNAL_H
#define IOCPCHECK_SIM_INTERNAL_H

#include <setjmp.h>

#include "fiber.h"
#include "sim.h"

/* ---- Invariants ----
 * SIM_CHECK(s, cond, what) is always on (release builds too): a compare and
 * a branch predicted not taken. `what` names the invariant in a few words.
 * A failure is a bug in the simulator, never in the code under test: it ends
 * the execution with SIM_INTERNAL, naming the invariant and file:line, with
 * the schedule that reached it (sim__internal); never a bare abort. It works
 * from a virtual thread, from a kernel action, and from the main stack
 * before the first thread runs or in the end-of-run monitors (sim__end). */
#define SIM_CHECK(s, cond, what)                                                        \
    do {                                                                                \
        if (__builtin_expect(!(cond), 0)) sim__internal((s), (what), #cond, __FILE__, __LINE__); \
    } while (0)

/* ---- Arena ---- */

typedef struct sim_arena_chunk sim_arena_chunk;
typedef struct sim_arena {
    sim_arena_chunk *head;    /* first chunk; retained */
    sim_arena_chunk *current; /* chunk being filled */
    size_t used;              /* bytes used in current */
} sim_arena;

void sim_arena_init(sim_arena *a);
void sim_arena_reset(sim_arena *a);
void sim_arena_free(sim_arena *a);
void *sim_arena_alloc(sim_arena *a, size_t size); /* zeroed, 16-byte aligned; aborts on OOM */
size_t sim_arena_in_use(const sim_arena *a); /* bytes handed out since the reset (earlier chunks whole) */
char *sim_arena_vprintf(sim_arena *a, const char *fmt, va_list ap);
char *sim_arena_printf(sim_arena *a, const char *fmt, ...);


/* ---- Threads ---- */

typedef enum sim_thread_state {
    SIM_T_RUNNABLE = 0,
    SIM_T_BLOCKED,
    SIM_T_DONE,
} sim_thread_state;

/* What a blocked thread waits for; the deadlock report prints it. */
typedef enum sim_wait_kind {
    SIM_WAIT_NONE = 0,
    SIM_WAIT_MUTEX,
    SIM_WAIT_SEMA,
    SIM_WAIT_JOIN,
    SIM_WAIT_SLEEP,
    SIM_WAIT_KERNEL, /* and above: waits owned by the kernel (port, socket); it describes them */
} sim_wait_kind;

typedef struct sim_thread {
    uint32_t id;
    sim_thread_state state;
    const char *name; /* arena copy */
    shim_thread_fn fn;
    void *arg;
    sim_fiber fiber;
    /* blocking */
    sim_wait_kind wait_kind;
    uint32_t wait_obj;  /* object index, or thread id for JOIN */
    int64_t deadline_ns; /* < 0: none */
    uint32_t wait_gen;   /* bumped at every block; stale timer entries carry an older one */
    bool timed_out;      /* set when the clock woke it */
    uint32_t last_error; /* GetLastError */
} sim_thread;

/* ---- Objects ---- */

typedef enum sim_obj_kind { SIM_OBJ_FREE = 0, SIM_OBJ_MUTEX, SIM_OBJ_SEMA, SIM_OBJ_ATOMIC } sim_obj_kind;

typedef struct sim_obj {
    sim_obj_kind kind;
    uint32_t ordinal;  /* per-kind number in creation order: m0, s0, a0 ... */
    uint32_t owner;    /* MUTEX: holder thread id + 1, 0 = free */
    uint32_t count;    /* SEMA: units */
    uint64_t waiters;  /* mask of threads blocked on it */
    bool destroyed;    /* MUTEX, SEMA: destroyed; the leak check skips it */
    uint32_t creator;  /* thread that created it, and at which step: the leak report */
    uint64_t step;
} sim_obj;

/* Atomic-word table: address -> object index, valid for one execution
 * (entries carry the execution number, so reset is O(1)). */
typedef struct sim_addr_slot {
    uintptr_t addr;
    uint64_t exec;
    uint32_t obj;
} sim_addr_slot;

/* ---- Timers: a binary min-heap of (deadline, seq) ---- */

typedef struct sim_timer {
    int64_t deadline_ns;
    uint64_t seq;      /* insertion order: ties fire in the order they were set */
    uint32_t thread;   /* a thread id, or SIM_KERNEL for a kernel timer */
    uint32_t gen;      /* thread: its wait_gen when set; kernel: the kernel's timer id */
} sim_timer;

/* ---- The simulated kernel beside the threads ----
 * The completion port and sockets are a kernel that acts on its own: a
 * pending I/O completes, a timer fires. Its enabled actions are offered at
 * every scheduling point as one more alternative of the thread choice,
 * labelled SIM_KERNEL; when chosen, an 'e' choice picks which action. Kernel
 * actions run on the current stack, with no scheduling point inside, and
 * their trace events belong to the kernel pseudo-thread. */
#define SIM_KERNEL SIM_KERNEL_LABEL

typedef struct sim_kernel_ops {
    void (*reset)(sim_ctx *s);                        /* start of every execution */
    uint32_t (*pending)(sim_ctx *s);                  /* actions enabled now */
    void (*fire)(sim_ctx *s, uint32_t index);         /* performs action index < pending */
    bool (*timer_live)(sim_ctx *s, uint32_t id);      /* a kernel timer still matters */
    void (*timer_fired)(sim_ctx *s, uint32_t id);     /* a kernel timer is due */
    const char *(*describe_wait)(sim_ctx *s, const struct sim_thread *t); /* wait kinds >= SIM_WAIT_KERNEL */
    void (*finish)(sim_ctx *s);                       /* end of execution: monitors, leftovers */
    void (*destroy)(sim_ctx *s);                      /* sim_destroy: frees kernel_state (may be NULL) */
} sim_kernel_ops;

/* ---- The context ---- */

struct sim_ctx {
    sim_config cfg;
    shim shim;
    shim_sync sync;
    shim_harness harness;
    sim_arena arena;

    /* retained across executions */
    sim_stack stacks[SIM_MAX_THREADS];
    uint32_t nstacks;
    sim_fiber main_fiber;
    sim_thread threads[SIM_MAX_THREADS];
    sim_obj *objs;          /* cfg.max_objects */
    sim_addr_slot *addrs;   /* addr_cap slots, power of two */
    uint32_t addr_cap;
    sim_timer *timers;      /* heap, capacity timer_cap */
    uint32_t timer_cap;
    sim_decision *decisions;
    uint32_t decision_cap;
    sim_event *events;
    uint32_t event_cap;
    sim_stats stats;
    uint64_t exec;          /* executions run so far (1-based during a run) */
    void *altstack;         /* signal stack for the overflow handler */
    bool trust_fault_handler; /* skip the per-run check that it is still installed (sim_set_trust_fault_handler) */

    /* the kernel, if one is attached (the simulated port) */
    const sim_kernel_ops *kernel;
    void *kernel_state;

    /* per execution */
    sim_chooser *chooser;
    sim_main_fn main_fn;
    void *main_arg;
    uint32_t nthreads;
    uint64_t runnable;      /* mask of runnable thread ids */
    uint32_t live;          /* threads not done */
    uint32_t current;       /* running thread id */
    bool in_kernel;         /* a kernel action is running: events belong to SIM_KERNEL */
    uint64_t steps;
    uint32_t jumps;     /* time jumps taken this execution ('j') */
    int64_t now_ns;
    uint32_t ntimers;
    uint64_t timer_seq;
    uint32_t nobjs;
    uint32_t sync_undestroyed; /* mutexes and semaphores created and not destroyed (the leak check's shortcut) */
    uint32_t ord[4];        /* per-kind ordinals */
    uint64_t pick_mask;     /* the runnable set pick_labels lists (sched.c) */
    uint32_t pick_n;
    uint32_t pick_labels[SIM_MAX_THREADS + 1]; /* its thread ids ascending, room for SIM_KERNEL */
    uint8_t pick_index[SIM_MAX_THREADS];       /* a listed thread's index in pick_labels */
    uint32_t ndecisions;
    uint32_t preemptions;
    uint32_t nevents;
    uint64_t hash;
    bool ended;
    bool ended_on_purpose;  /* sim_end_pass: threads abandoned on purpose, no leak check */
    bool in_thread;         /* a virtual thread's fiber is running (else: the main stack) */
    jmp_buf end_jmp;        /* sim__end on the main stack returns to sim_run through it */
    sim_result result;
    const char *divergence; /* set by sim_report_divergence */
    jmp_buf overflow_jmp;
    int crash_signal;       /* the signal that ended the execution as SIM_CRASH */

    /* the access log (sim_access_log): retained buffer, rewound every run */
    sim_access *accs;
    uint32_t nacc, acc_cap, acc_limit;
    bool acc_truncated;
    bool acc_kernel;        /* the current seam call or kernel action logged a kernel object (trace.c) */
    bool events_read;       /* something reads events: the hash, the kept trace or the access log (trace.c) */
};

/* sched.c */
void sim__sched_point(sim_ctx *s);                 /* before every seam call */
void sim__block(sim_ctx *s, sim_wait_kind kind, uint32_t obj, int64_t deadline_ns);
void sim__wake(sim_ctx *s, uint32_t thread);      /* make a blocked thread runnable */
void sim__wake_mask(sim_ctx *s, uint64_t mask);
uint32_t sim__spawn(sim_ctx *s, shim_thread_fn fn, void *arg, const char *name);
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn))
#endif
void sim__end(sim_ctx *s, sim_verdict v, const char *property, const char *message);
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn, cold))
#endif
void sim__internal(sim_ctx *s, const char *what, const char *cond, const char *file, int line);
const char *sim__describe_threads(sim_ctx *s); /* every unfinished thread and its wait */

/* clock.c */
void sim__timer_add(sim_ctx *s, uint32_t thread, int64_t deadline_ns);
void sim__kernel_timer_add(sim_ctx *s, uint32_t id, int64_t deadline_ns);
/* Advances the clock to the earliest live timer and wakes its threads;
 * false when no timer is pending. */
bool sim__clock_advance(sim_ctx *s);
/* Whether a live timer is pending (drops dead ones at the top). */
int64_t sim__clock_next(sim_ctx *s); /* earliest live deadline, -1: none */
bool sim__clock_pending(sim_ctx *s);

/* choose.c */
uint32_t sim__choose(sim_ctx *s, sim_choice_kind kind, uint32_t n, const uint32_t *labels,
                     uint32_t current);

/* trace.c */
void sim__event_read(sim_ctx *s, sim_event_kind kind, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3);
/* One event. When nothing reads events (fuzz and bench: no hash, no kept
 * trace, no access log) it costs one test: 150 calls a run of a small
 * scenario were 7% of its instructions. */
static inline void sim__event(sim_ctx *s, sim_event_kind kind, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3) {
    if (s->events_read) sim__event_read(s, kind, a0, a1, a2, a3);
}
void sim__trace_reset(sim_ctx *s);
/* Recomputes events_read after a setting it depends on changed. */
void sim__events_update(sim_ctx *s);
/* Logs one access by the acting thread (or the kernel) when the log is on. */
void sim__access_log(sim_ctx *s, uint32_t object, bool write, uint32_t event, uint64_t value);
static inline void sim__access(sim_ctx *s, uint32_t object, bool write) {
    if (s->acc_limit != 0) sim__access_log(s, object, write, SIM_ACC_NO_EVENT, 0);
}
/* The only object the choice just made (if one was asked since `before`
 * decisions) has an effect on (SIM_ACC_EFFECT). */
static inline void sim__access_effect(sim_ctx *s, uint32_t before, uint32_t object) {
    if (s->acc_limit != 0 && s->ndecisions != before) sim__access_log(s, object, true, SIM_ACC_EFFECT, 0);
}
/* The same right after a choice the caller knows was asked, whose effect a
 * thread's own next access of `object` does not observe (that thread then
 * finds the object as every alternative leaves it): value = thread + 1. */
static inline void sim__access_effect_except(sim_ctx *s, uint32_t object, uint32_t thread) {
    if (s->acc_limit != 0) sim__access_log(s, object, true, SIM_ACC_EFFECT, (uint64_t)thread + 1);
}
/* A seam call or a kernel action begins: its kernel events must follow an
 * access to the kernel object they touch (checked in trace.c). */
static inline void sim__access_begin(sim_ctx *s) { s->acc_kernel = false; }

/* sync.c */
void sim__fill_sync(sim_ctx *s);
const char *sim__obj_name(sim_ctx *s, uint32_t obj, char *buf, size_t len);
#define SIM_LEAKS_LISTED 32u /* leaked objects listed by name; the rest are counted */
/* Mutexes and semaphores created and not destroyed, one line each ("" when
 * none), with their count in *count. */
const char *sim__sync_leaks(sim_ctx *s, uint32_t *count);

/* shim_sim.c */
void sim__fill_shim(sim_ctx *s);

/* rng.c's generator in line: the random chooser draws once per decision. */
static inline uint64_t sim__rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static inline uint64_t sim__rng_next(uint64_t s[4]) {
    uint64_t result = sim__rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = sim__rotl(s[3], 45);
    return result;
}
static inline uint32_t sim__rng_below(uint64_t s[4], uint32_t n) {
    uint32_t x = (uint32_t)(sim__rng_next(s) >> 32);
    uint64_t m = (uint64_t)x * n;
    uint32_t l = (uint32_t)m;
    if (l < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (l < threshold) {
            x = (uint32_t)(sim__rng_next(s) >> 32);
            m = (uint64_t)x * n;
            l = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

static inline uint32_t sim__popcount64(uint64_t x) { return (uint32_t)__builtin_popcountll(x); }
static inline uint32_t sim__ctz64(uint64_t x) { return (uint32_t)__builtin_ctzll(x); }

#endif
