/* observe.c - see observe.h. Features go to libFuzzer's extra counters
 * (a section it reads after every input, as it reads edge counters); a
 * counter's value is bucketed by libFuzzer (1, 2, 3, 4-7, 8-15, ...), so
 * how often a transition happens in one execution is a feature too.
 */
#include <stdlib.h>
#include <string.h>

#include "observe.h"

/* libFuzzer clears and scans the whole region after every input, used or
 * not: at 64 KiB that was half of fuzz_decisions' time (perf), so 4 KiB. */
#define COUNTERS_BITS 12
#if defined(__linux__) && defined(__clang__)
__attribute__((section("__libfuzzer_extra_counters"))) static uint8_t counters[1u << COUNTERS_BITS];
#else
static uint8_t counters[1u << COUNTERS_BITS]; /* no engine reads them: harmless */
#endif

static bool boolean; /* 'b': a feature is seen or not, not how often */
static bool no_thread; /* 'n': events without the acting thread */
static bool no_pairs;  /* 'e': events alone, not pairs of consecutive ones */
static void count(uint32_t h) {
    uint8_t *c = &counters[(h * 0x9e3779b1u) >> (32 - COUNTERS_BITS)];
    if (boolean) *c = 1;
    else if (*c < 255) (*c)++;
}
static uint32_t mix(uint32_t a, uint32_t b) { return (a ^ (b + 0x7f4a7c15u + (a << 6) + (a >> 2))) * 0x85ebca6bu; }

/* ---- p: pairs of consecutive decisions ---- */

static uint32_t prev_choice;
static void count_pair(const sim_choice_point *pt, uint32_t index) {
    if (pt->position == 0) prev_choice = 0; /* a new execution */
    uint32_t label = pt->labels != NULL ? pt->labels[index] : index;
    uint32_t preempt = pt->current != SIM_NO_CURRENT && index != pt->current;
    uint32_t cur = (uint32_t)pt->kind << 8 | (label & 0x7f) | preempt << 7;
    count(mix(prev_choice, cur) ^ 0x1000000u);
    prev_choice = cur;
}

/* ---- s: the synchronization state, through a wrapped sync table ---- */

#define MAX_WORDS 64u /* words numbered per execution; later ones share the last number */
#define MAX_POINTS 512u /* conflict points kept per execution */
#define SIG_BITS 12     /* a conflict point: its kind above, its position below */
#define POINT_BITS (32 - SIG_BITS)
#define POINT_MASK ((1u << POINT_BITS) - 1)
#define RF_THREADS 16u /* threads told apart by the reads-from features; later ones share the last */
static struct {
    sim_ctx *sim;
    const shim_sync *inner;
    shim_sync table;
    shim wrapped;
    const volatile void *words[MAX_WORDS];
    uint32_t nwords;
    uint64_t parked; /* threads inside a semaphore wait */
    uint32_t prev;   /* the last event, for pairs */
    /* r, w: per word, who wrote its value last (thread + 1, 0: its initial
     * value) and at which of that thread's operations; per thread and word,
     * the value it last saw there. */
    uint8_t writer[MAX_WORDS];
    uint16_t writer_op[MAX_WORDS];
    uint16_t ops[RF_THREADS];
    uint64_t seen[RF_THREADS][MAX_WORDS];
    uint64_t seen_valid[RF_THREADS]; /* bit per word */
    /* Per word, its value after the last operation (any thread's). A store
     * yields to the scheduler before it writes (the simulator's choice point
     * is inside the operation), so what it overwrites is known only from
     * the operations that ran in between: this, not a read before it. */
    uint64_t val[MAX_WORDS];
    uint64_t val_valid;
    /* Conflict points (fuzz_observe_conflicts): per word, the last access
     * (thread + 1, whether it wrote, the decision byte that let it run). */
    uint8_t last_thread[MAX_WORDS];
    bool last_wrote[MAX_WORDS];
    uint8_t last_what[MAX_WORDS];
    uint32_t last_pos[MAX_WORDS];
    uint32_t points[MAX_POINTS];
    uint32_t npoints;
    /* g: per thread and word, its last read that did not write there (the
     * first half of a read-then-write), as the count of every thread's
     * operations and of its own at that time. */
    uint32_t all_ops;
    uint32_t read_at[RF_THREADS][MAX_WORDS];
    uint16_t read_own[RF_THREADS][MAX_WORDS];
    uint64_t read_valid[RF_THREADS]; /* bit per word */
} st;

static bool conflicts; /* record conflict points */
static uint32_t sig_count[1u << SIG_BITS];

uint32_t fuzz_observe_conflict_count(uint32_t point) { return sig_count[point >> POINT_BITS]; }

/* Thread t accessed word w (wrote, or only read): if another thread's
 * access came last and one of them wrote, the two are in conflict, and the
 * decision that let the earlier one run is a point where another answer
 * reorders them. */
static void conflict(uint32_t what, uint32_t t, uint32_t w, bool wrote) {
    if (!conflicts || w >= MAX_WORDS) return;
    size_t pos = fuzz_decisions_position();
    if (st.last_thread[w] != 0 && st.last_thread[w] != t + 1 && (wrote || st.last_wrote[w]) && st.last_pos[w] > 0 &&
        st.last_pos[w] < 1u << POINT_BITS && st.npoints < MAX_POINTS &&
        (st.npoints == 0 || (st.points[st.npoints - 1] & POINT_MASK) != st.last_pos[w])) {
        /* The pair's kind (word, the two threads, the two operations), counted over
         * the whole run: the mutator prefers the rare ones. */
        uint32_t sig = mix(mix(w, st.last_thread[w] << 8 | (t + 1)), st.last_what[w] << 8 | what) >> (32 - SIG_BITS);
        if (sig_count[sig] < UINT32_MAX) sig_count[sig]++;
        st.points[st.npoints++] = st.last_pos[w] | sig << POINT_BITS;
    }
    st.last_thread[w] = (uint8_t)(t + 1);
    st.last_wrote[w] = wrote;
    st.last_what[w] = (uint8_t)what;
    st.last_pos[w] = pos > 1 ? (uint32_t)pos - 1 : 0;
}

const uint32_t *fuzz_observe_conflict_points(size_t *n) {
    *n = conflicts ? st.npoints : 0;
    return st.points;
}

/* 'g': a thread read word w, then wrote it: how many other threads'
 * operations ran in between (0, 1, 2-3, 4-7, ...), by word, thread and the
 * two operations, and whether w itself changed meanwhile. A lost update
 * needs that window open and someone writing inside it; the feature says
 * an execution stretched the window further than any before, a step
 * towards that even when nobody wrote in it yet. */
static void window(uint32_t what, uint32_t t, uint32_t own, uint32_t w, bool writes) {
    if (!writes) {
        st.read_at[t][w] = st.all_ops;
        st.read_own[t][w] = (uint16_t)own;
        st.read_valid[t] |= 1ull << w;
        return;
    }
    if (!(st.read_valid[t] >> w & 1)) return;
    st.read_valid[t] &= ~(1ull << w);
    uint32_t others = st.all_ops - st.read_at[t][w] - 1 - (uint16_t)(own - st.read_own[t][w] - 1);
    uint32_t bucket = 0;
    while (others >> bucket) bucket++;
    bool changed = st.val[w] != st.seen[t][w]; /* both set by the read at least */
    count(mix(mix(what << 24 | w << 12 | t, bucket), changed) ^ 0x5000000u);
}

/* What a store to `p` (word w) overwrote: the tracked value, else what the
 * word held before the call. */
static uint64_t overwritten(uint32_t w, uint64_t before) { return st.val_valid >> w & 1 ? st.val[w] : before; }

static bool reads_from;   /* 'r' */
static bool windows;      /* 'g' */
static bool stale_write;  /* 'w' */
static bool state_events; /* 's' */


static uint32_t word(const volatile void *p) {
    for (uint32_t i = 0; i < st.nwords; i++)
        if (st.words[i] == p) return i;
    if (st.nwords == MAX_WORDS) return MAX_WORDS - 1;
    st.words[st.nwords] = p;
    return st.nwords++;
}

/* A value's class: small numbers (states, flags, counts) as they are; the
 * poller's packed words (flags above bit 20, a sequence below) by their
 * flags; anything wider (a waiter's address) as one class. */
static uint32_t cls(uint64_t v) {
    if (v < 16) return (uint32_t)v;
    if (v > 0xffffffffu) return 16;
    return 32 + (uint32_t)((v >> 20) & 0xfff) * 2 + ((v & 0xfffff) != 0);
}

static void event(uint32_t what, uint32_t obj, uint32_t before, uint32_t after) {
    if (!state_events) return;
    uint32_t thread = no_thread ? 0 : sim_current_thread(st.sim);
    uint32_t e = mix(mix(mix(what << 24 | obj << 12 | (thread & 0xfff), before), after), 0);
    count(e);
    if (!no_pairs) count(mix(st.prev, e) ^ 0x2000000u);
    st.prev = e;
}

enum { EV_LOAD = 1, EV_STORE, EV_CAS_OK, EV_CAS_FAIL, EV_SWAP, EV_ADD, EV_PARK, EV_UNPARK, EV_TIMEOUT, EV_POST, EV_LOCK };

static uint32_t rf_thread(void) {
    uint32_t t = sim_current_thread(st.sim);
    return t < RF_THREADS ? t : RF_THREADS - 1;
}

/* An operation on word w read `old` (every atomic operation reads) and, if
 * `writes`, wrote `now`. 'r': which thread's write it read (RFF's reads-from
 * pair, the writer's operation counted in its thread, as a class); 'w': a
 * plain store over a value its thread had not seen (a lost update's
 * shape; an atomic read-modify-write reads what it replaces). */
static void rf(uint32_t what, uint32_t w, uint64_t old, bool writes, uint64_t now) {
    uint32_t t = rf_thread();
    uint32_t op = st.ops[t] < 0xffff ? st.ops[t]++ : st.ops[t];
    st.all_ops++;
    if (w >= MAX_WORDS) return;
    conflict(what, t, w, writes);
    if (windows) window(what, t, op, w, writes);
    if (reads_from) {
        uint32_t wop = st.writer_op[w];
        uint32_t wcls = wop < 4 ? wop : wop < 16 ? 4 + wop / 4 : 8;
        count(mix(mix(mix(what << 24 | w << 12 | t, st.writer[w]), wcls), cls(old)) ^ 0x3000000u);
    }
    if (stale_write && what == EV_STORE && (st.seen_valid[t] >> w & 1) && st.seen[t][w] != old)
        count(mix(mix(mix(what << 24 | w << 12 | t, st.writer[w]), cls(st.seen[t][w])), cls(old)) ^ 0x4000000u);
    st.seen[t][w] = writes ? now : old;
    st.seen_valid[t] |= 1ull << w;
    st.val[w] = writes ? now : old;
    st.val_valid |= 1ull << w;
    if (writes) {
        st.writer[w] = (uint8_t)(t + 1);
        st.writer_op[w] = (uint16_t)op;
    }
}

#define ATOMICS(T, S)                                                                                    \
    static T load##S(void *ctx, volatile T *p) {                                                         \
        (void)ctx;                                                                                       \
        T v = st.inner->atomic_load##S(st.inner->ctx, p);                                                \
        event(EV_LOAD, word(p), cls(v), cls(v));                                                         \
        rf(EV_LOAD, word(p), v, false, 0);                                                               \
        return v;                                                                                        \
    }                                                                                                    \
    static void store##S(void *ctx, volatile T *p, T v) {                                                \
        (void)ctx;                                                                                       \
        T before = *p;                                                                                   \
        st.inner->atomic_store##S(st.inner->ctx, p, v);                                                  \
        uint64_t old = overwritten(word(p), before);                                                     \
        event(EV_STORE, word(p), cls(old), cls(v));                                                      \
        rf(EV_STORE, word(p), old, true, v);                                                             \
    }                                                                                                    \
    static bool cas##S(void *ctx, volatile T *p, T expected, T desired) {                                \
        (void)ctx;                                                                                       \
        bool ok = st.inner->atomic_cas##S(st.inner->ctx, p, expected, desired);                          \
        event(ok ? EV_CAS_OK : EV_CAS_FAIL, word(p), cls(expected), cls(ok ? desired : *p));             \
        rf(ok ? EV_CAS_OK : EV_CAS_FAIL, word(p), ok ? expected : *p, ok, desired);                      \
        return ok;                                                                                       \
    }                                                                                                    \
    static T swap##S(void *ctx, volatile T *p, T v) {                                                    \
        (void)ctx;                                                                                       \
        T old = st.inner->atomic_swap##S(st.inner->ctx, p, v);                                           \
        event(EV_SWAP, word(p), cls(old), cls(v));                                                       \
        rf(EV_SWAP, word(p), old, true, v);                                                              \
        return old;                                                                                      \
    }
ATOMICS(uint32_t, 32)
ATOMICS(uintptr_t, _ptr)

static uint32_t add32(void *ctx, volatile uint32_t *p, int32_t d) {
    (void)ctx;
    uint32_t v = st.inner->atomic_add32(st.inner->ctx, p, d);
    event(EV_ADD, word(p), cls(v - (uint32_t)d), cls(v));
    rf(EV_ADD, word(p), v - (uint32_t)d, true, v);
    return v;
}
static uintptr_t add_ptr(void *ctx, volatile uintptr_t *p, intptr_t d) {
    (void)ctx;
    uintptr_t v = st.inner->atomic_add_ptr(st.inner->ctx, p, d);
    event(EV_ADD, word(p), cls(v - (uintptr_t)d), cls(v));
    rf(EV_ADD, word(p), v - (uintptr_t)d, true, v);
    return v;
}

/* Parking: which object a thread waits on, and who else is parked then. */
static uint32_t parked_set(void) { return (uint32_t)(st.parked ^ st.parked >> 32); }
static bool sema_wait(void *ctx, shim_sema *s, int64_t timeout_ns) {
    (void)ctx;
    uint32_t self = sim_current_thread(st.sim) & 63;
    uint32_t obj = word(s);
    event(EV_PARK, obj, parked_set(), timeout_ns < 0 ? 0 : timeout_ns == 0 ? 1 : 2);
    conflict(EV_PARK, rf_thread(), obj, true);
    st.parked |= 1ull << self;
    bool got = st.inner->sema_wait(st.inner->ctx, s, timeout_ns);
    st.parked &= ~(1ull << self);
    event(got ? EV_UNPARK : EV_TIMEOUT, obj, parked_set(), 0);
    return got;
}
static void sema_post(void *ctx, shim_sema *s) {
    (void)ctx;
    event(EV_POST, word(s), parked_set(), 0);
    conflict(EV_POST, rf_thread(), word(s), true);
    st.inner->sema_post(st.inner->ctx, s);
}
static void mutex_lock(void *ctx, shim_mutex *m) {
    (void)ctx;
    st.inner->mutex_lock(st.inner->ctx, m);
    event(EV_LOCK, word(m), parked_set(), 0);
    conflict(EV_LOCK, rf_thread(), word(m), true);
}

static const shim *wrap(sim_ctx *sim, const shim *sh) {
    st.sim = sim;
    st.inner = sh->sync;
    st.nwords = 0;
    st.parked = 0;
    st.prev = 0;
    memset(st.writer, 0, sizeof st.writer);
    memset(st.writer_op, 0, sizeof st.writer_op);
    memset(st.ops, 0, sizeof st.ops);
    memset(st.seen_valid, 0, sizeof st.seen_valid);
    st.val_valid = 0;
    st.all_ops = 0;
    memset(st.read_valid, 0, sizeof st.read_valid);
    memset(st.last_thread, 0, sizeof st.last_thread);
    st.npoints = 0;
    st.table = *sh->sync;
    st.table.name = "fuzz-observe";
    st.table.atomic_load32 = load32;
    st.table.atomic_store32 = store32;
    st.table.atomic_cas32 = cas32;
    st.table.atomic_swap32 = swap32;
    st.table.atomic_add32 = add32;
    st.table.atomic_load_ptr = load_ptr;
    st.table.atomic_store_ptr = store_ptr;
    st.table.atomic_cas_ptr = cas_ptr;
    st.table.atomic_swap_ptr = swap_ptr;
    st.table.atomic_add_ptr = add_ptr;
    st.table.sema_wait = sema_wait;
    st.table.sema_post = sema_post;
    st.table.mutex_lock = mutex_lock;
    st.wrapped = *sh;
    st.wrapped.sync = &st.table;
    return &st.wrapped;
}

void fuzz_observe_setup(void) {
    static bool done;
    if (done) return;
    done = true;
    const char *f = getenv("IOCPCHECK_FUZZ_FEEDBACK");
    if (f == NULL) f = ""; /* measured: neither s nor p pays on the hard pairs (README) */
    boolean = strchr(f, 'b') != NULL;
    no_thread = strchr(f, 'n') != NULL;
    no_pairs = strchr(f, 'e') != NULL;
    fuzz_decisions_observe(strchr(f, 'p') != NULL ? count_pair : NULL);
    state_events = strchr(f, 's') != NULL;
    reads_from = strchr(f, 'r') != NULL;
    stale_write = strchr(f, 'w') != NULL;
    windows = strchr(f, 'g') != NULL;
    fuzz_decisions_wrap(state_events || reads_from || stale_write || windows || conflicts ? wrap : NULL);
}

void fuzz_observe_conflicts(void) {
    conflicts = true;
    fuzz_decisions_wrap(wrap);
}
