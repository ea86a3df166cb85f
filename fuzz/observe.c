/* observe.c - see observe.h. Features go to libFuzzer's extra counters
 * (a section it reads after every input, as it reads edge counters); a
 * counter's value is bucketed by libFuzzer (1, 2, 3, 4-7, 8-15, ...), so
 * how often a transition happens in one execution is a feature too.
 */
#include <stdlib.h>
#include <string.h>

#include "observe.h"

#if defined(__linux__) && defined(__clang__)
#define COUNTERS_BITS 16
__attribute__((section("__libfuzzer_extra_counters"))) static uint8_t counters[1u << COUNTERS_BITS];
#else
#define COUNTERS_BITS 16
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
static struct {
    sim_ctx *sim;
    const shim_sync *inner;
    shim_sync table;
    shim wrapped;
    const volatile void *words[MAX_WORDS];
    uint32_t nwords;
    uint64_t parked; /* threads inside a semaphore wait */
    uint32_t prev;   /* the last event, for pairs */
} st;

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
    uint32_t thread = no_thread ? 0 : sim_current_thread(st.sim);
    uint32_t e = mix(mix(mix(what << 24 | obj << 12 | (thread & 0xfff), before), after), 0);
    count(e);
    if (!no_pairs) count(mix(st.prev, e) ^ 0x2000000u);
    st.prev = e;
}

enum { EV_LOAD = 1, EV_STORE, EV_CAS_OK, EV_CAS_FAIL, EV_SWAP, EV_ADD, EV_PARK, EV_UNPARK, EV_TIMEOUT, EV_POST, EV_LOCK };

#define ATOMICS(T, S)                                                                                    \
    static T load##S(void *ctx, volatile T *p) {                                                         \
        (void)ctx;                                                                                       \
        T v = st.inner->atomic_load##S(st.inner->ctx, p);                                                \
        event(EV_LOAD, word(p), cls(v), cls(v));                                                         \
        return v;                                                                                        \
    }                                                                                                    \
    static void store##S(void *ctx, volatile T *p, T v) {                                                \
        (void)ctx;                                                                                       \
        T old = *p;                                                                                      \
        st.inner->atomic_store##S(st.inner->ctx, p, v);                                                  \
        event(EV_STORE, word(p), cls(old), cls(v));                                                      \
    }                                                                                                    \
    static bool cas##S(void *ctx, volatile T *p, T expected, T desired) {                                \
        (void)ctx;                                                                                       \
        bool ok = st.inner->atomic_cas##S(st.inner->ctx, p, expected, desired);                          \
        event(ok ? EV_CAS_OK : EV_CAS_FAIL, word(p), cls(expected), cls(ok ? desired : *p));             \
        return ok;                                                                                       \
    }                                                                                                    \
    static T swap##S(void *ctx, volatile T *p, T v) {                                                    \
        (void)ctx;                                                                                       \
        T old = st.inner->atomic_swap##S(st.inner->ctx, p, v);                                           \
        event(EV_SWAP, word(p), cls(old), cls(v));                                                       \
        return old;                                                                                      \
    }
ATOMICS(uint32_t, 32)
ATOMICS(uintptr_t, _ptr)

static uint32_t add32(void *ctx, volatile uint32_t *p, int32_t d) {
    (void)ctx;
    uint32_t v = st.inner->atomic_add32(st.inner->ctx, p, d);
    event(EV_ADD, word(p), cls(v - (uint32_t)d), cls(v));
    return v;
}
static uintptr_t add_ptr(void *ctx, volatile uintptr_t *p, intptr_t d) {
    (void)ctx;
    uintptr_t v = st.inner->atomic_add_ptr(st.inner->ctx, p, d);
    event(EV_ADD, word(p), cls(v - (uintptr_t)d), cls(v));
    return v;
}

/* Parking: which object a thread waits on, and who else is parked then. */
static uint32_t parked_set(void) { return (uint32_t)(st.parked ^ st.parked >> 32); }
static bool sema_wait(void *ctx, shim_sema *s, int64_t timeout_ns) {
    (void)ctx;
    uint32_t self = sim_current_thread(st.sim) & 63;
    uint32_t obj = word(s);
    event(EV_PARK, obj, parked_set(), timeout_ns < 0 ? 0 : timeout_ns == 0 ? 1 : 2);
    st.parked |= 1ull << self;
    bool got = st.inner->sema_wait(st.inner->ctx, s, timeout_ns);
    st.parked &= ~(1ull << self);
    event(got ? EV_UNPARK : EV_TIMEOUT, obj, parked_set(), 0);
    return got;
}
static void sema_post(void *ctx, shim_sema *s) {
    (void)ctx;
    event(EV_POST, word(s), parked_set(), 0);
    st.inner->sema_post(st.inner->ctx, s);
}
static void mutex_lock(void *ctx, shim_mutex *m) {
    (void)ctx;
    st.inner->mutex_lock(st.inner->ctx, m);
    event(EV_LOCK, word(m), parked_set(), 0);
}

static const shim *wrap(sim_ctx *sim, const shim *sh) {
    st.sim = sim;
    st.inner = sh->sync;
    st.nwords = 0;
    st.parked = 0;
    st.prev = 0;
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
    fuzz_decisions_wrap(strchr(f, 's') != NULL ? wrap : NULL);
}
