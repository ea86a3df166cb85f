/* choose.c - the one decision stream, and the standard choosers.
 *
 * Every nondeterministic choice of an execution goes through sim__choose:
 * it asks the chooser, checks the answer, records it (the schedule), counts
 * it (choice coverage), and notes preemptions. Choices with a single
 * alternative are not asked and not recorded.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

static const struct {
    char letter;
    const char *name;
} kinds[SIM_CHOICE__COUNT] = {
    [SIM_CHOICE_THREAD] = {'t', "thread"},
    [SIM_CHOICE_USER] = {'u', "user"},
    [SIM_CHOICE_EVENT] = {'e', "event"},
    [SIM_CHOICE_BATCH] = {'b', "batch"},
    [SIM_CHOICE_WAITER] = {'w', "waiter"},
    [SIM_CHOICE_CONCURRENCY] = {'c', "concurrency"},
    [SIM_CHOICE_INTERNAL] = {'i', "internal"},
    [SIM_CHOICE_CANCEL] = {'x', "cancel"},
    [SIM_CHOICE_CLOSE] = {'k', "close-status"},
    [SIM_CHOICE_TIMEOUT] = {'o', "timeout"},
    [SIM_CHOICE_REMOVED] = {'n', "removed"},
    [SIM_CHOICE_ABANDON] = {'l', "abandon"},
    [SIM_CHOICE_SYNC] = {'s', "sync"},
    [SIM_CHOICE_PARTIAL] = {'p', "partial"},
    [SIM_CHOICE_SKIP] = {'r', "skip"},
    [SIM_CHOICE_WAITPKT_API] = {'a', "waitpkt-api"},
    [SIM_CHOICE_SIGNAL] = {'g', "signal"},
    [SIM_CHOICE_WPCANCEL] = {'y', "waitpkt-cancel"},
    [SIM_CHOICE_FAULT] = {'f', "fault"},
    [SIM_CHOICE_JUMP] = {'j', "time-jump"},
    [SIM_CHOICE_ZEROBUFS] = {'z', "zero-bufs"},
    [SIM_CHOICE_RESETRECV] = {'q', "reset-recv"},
    [SIM_CHOICE_SIGNALED] = {'v', "already-signaled"},
    [SIM_CHOICE_LOSS] = {'d', "dgram-loss"},
    [SIM_CHOICE_MSGSKIP] = {'m', "msgsize-skip"},
    [SIM_CHOICE_ACCEPTRESET] = {'h', "accept-reset"},
};

char sim_choice_letter(sim_choice_kind k) { return (unsigned)k < SIM_CHOICE__COUNT ? kinds[k].letter : '?'; }
const char *sim_choice_name(sim_choice_kind k) { return (unsigned)k < SIM_CHOICE__COUNT ? kinds[k].name : "?"; }

int sim_choice_from_letter(char c) {
    for (int k = 0; k < SIM_CHOICE__COUNT; k++)
        if (kinds[k].letter == c) return k;
    return -1;
}

void sim_report_divergence(sim_ctx *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    s->divergence = sim_arena_vprintf(&s->arena, fmt, ap);
    va_end(ap);
}

/* ---- Where each alternative is seen (the README's choice table) ----
 * W Windows 10+, N Wine 8, O old Windows (XP, pre-10), X what-if (the
 * documented contract or TCP allows it, never observed). Kinds not listed
 * (thread, user, event, batch, fault, time-jump) are seen everywhere: batch
 * sizes are restricted where they are asked (port.c). */
#define W SIM_SEEN_WINDOWS
#define N SIM_SEEN_WINE
#define O SIM_SEEN_OLD_WINDOWS
#define X SIM_SEEN_WHATIF
static const uint8_t seen[SIM_CHOICE__COUNT][4] = {
    [SIM_CHOICE_WAITER] = {W, N, O | N},         /* §4, §11: LIFO; FIFO (Wine 8); stolen (pre-10, older Wine) */
    [SIM_CHOICE_CONCURRENCY] = {W, N},           /* §4, §9.1: enforced; ignored by Wine */
    [SIM_CHOICE_INTERNAL] = {N, W},              /* §3: final at completion (Wine); at dequeue (Windows) */
    [SIM_CHOICE_CANCEL] = {W | N, W | N},        /* §7, §12 C1: cancelled; too late, completes */
    [SIM_CHOICE_CLOSE] = {X, O, N, W},           /* §2 documents 995; §12 W18: XP 64, Wine 676, Windows 1236 */
    [SIM_CHOICE_TIMEOUT] = {W, N, W},            /* §3: tick early; on time (Wine); tick late */
    [SIM_CHOICE_REMOVED] = {X, W | N},           /* §3, §12 K3: 0 unspecified; 1 as written on a timeout */
    [SIM_CHOICE_ABANDON] = {W, N},               /* §2, §11: 735; keep waiting (Wine 8) */
    [SIM_CHOICE_SYNC] = {W | N, X},              /* §12 W6/W7: at once; pending although it could finish */
    [SIM_CHOICE_PARTIAL] = {W | N, X, X, X},     /* §12 W6/W7: all; a short read (TCP allows it) */
    [SIM_CHOICE_SKIP] = {W | N, W},              /* §6: effective; a non-IFS LSP (KB 2568167) */
    [SIM_CHOICE_WAITPKT_API] = {W, N},           /* §8, §11: present (Windows 10+); absent (Wine 8) */
    [SIM_CHOICE_SIGNAL] = {W, N},                /* §8: consumed (KiWaitSatisfyOther); kept (newer Wine) */
    [SIM_CHOICE_WPCANCEL] = {W, W},              /* §8: SUCCESS; PENDING (both documented on Windows) */
    [SIM_CHOICE_ZEROBUFS] = {W, N},              /* §12 W34: WSAEINVAL; pends (Wine 8, todo_wine) */
    [SIM_CHOICE_RESETRECV] = {W, N},             /* §12 W11/W12: 10054; 0 bytes at once (Wine 8) */
    [SIM_CHOICE_SIGNALED] = {W, X},              /* §8: queued at once; go-netpoll.md §1: none queued */
    [SIM_CHOICE_LOSS] = {W | N, X},              /* FACTS.md D4: delivered; lost with room (UDP allows it) */
    [SIM_CHOICE_MSGSKIP] = {N, W},               /* FACTS.md D3: no packet (Wine 8); a packet (documented: only success skips) */
    [SIM_CHOICE_ACCEPTRESET] = {W, N},           /* FACTS.md S6: reset (Go's comment); invalid connection (Wine 8) */
};
#undef W
#undef N
#undef O
#undef X

uint32_t sim_choice_seen(int kind, uint32_t label) {
    if (kind < 0 || kind >= SIM_CHOICE__COUNT || seen[kind][0] == 0) return SIM_SEEN_ALL;
    return label < 4 ? seen[kind][label] : 0;
}

uint32_t sim_platform_seen(uint8_t platform) {
    switch (platform) {
    case SIM_PLATFORM_REAL: return SIM_SEEN_WINDOWS | SIM_SEEN_WINE | SIM_SEEN_OLD_WINDOWS;
    case SIM_PLATFORM_WINDOWS: return SIM_SEEN_WINDOWS;
    case SIM_PLATFORM_WINE: return SIM_SEEN_WINE;
    default: return SIM_SEEN_ALL;
    }
}

static const char *const platform_names[] = {"any", "real", "windows", "wine"};
const char *sim_platform_name(uint8_t platform) { return platform < 4 ? platform_names[platform] : "?"; }
int sim_platform_from_name(const char *name) {
    for (int i = 0; i < 4; i++)
        if (strcmp(name, platform_names[i]) == 0) return i;
    return -1;
}

static uint32_t choose_raw(sim_ctx *s, sim_choice_kind kind, uint32_t n, const uint32_t *labels, uint32_t current);

/* Keeps the alternatives the platform sees; an alternative the caller must
 * offer alone is taken unasked. When none is seen there, the offered ones
 * stand for outcomes that coincide at this point (the same instant, the
 * same waiter): all stay. Returns the index in the caller's list. */
uint32_t sim__choose(sim_ctx *s, sim_choice_kind kind, uint32_t n, const uint32_t *labels, uint32_t current) {
    uint32_t allow = sim_platform_seen(s->cfg.platform);
    if (allow == SIM_SEEN_ALL || n > 16 || sim_choice_seen(kind, 0) == SIM_SEEN_ALL)
        return choose_raw(s, kind, n, labels, current);
    uint32_t keep[16], lab[16], m = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t l = labels != NULL ? labels[i] : i;
        if (sim_choice_seen(kind, l) & allow) {
            keep[m] = i;
            lab[m++] = l;
        }
    }
    if (m == 0 || m == n) return choose_raw(s, kind, n, labels, current);
    if (m == 1) return keep[0];
    return keep[choose_raw(s, kind, m, lab, SIM_NO_CURRENT)];
}

static uint32_t choose_raw(sim_ctx *s, sim_choice_kind kind, uint32_t n, const uint32_t *labels, uint32_t current) {
    /* Preconditions: a real choice (forced ones are not asked) of a known
     * kind (a constant at every call site); the thread that may go on, if
     * any, is one of the alternatives. Two compares: the hottest path. */
    _Static_assert(SIM_NO_CURRENT == UINT32_MAX, "current + 1 wraps to 0 for no current thread");
    SIM_CHECK(s, n >= 2 && current + 1 <= n, "a choice has 2 or more alternatives, the current one among them");
    if (s->ndecisions >= s->cfg.max_decisions) {
        sim__end(s, SIM_LIVELOCK, NULL,
                 sim_arena_printf(&s->arena, "livelock: decision limit %u reached\n%s", s->cfg.max_decisions,
                                  sim__describe_threads(s)));
    }
    sim_choice_point pt = {s->ndecisions, kind, n, labels, current};
    uint32_t idx = s->chooser->choose(s->chooser->self, s, &pt);
    if (idx >= n) {
        if (s->divergence == NULL)
            sim_report_divergence(s, "chooser '%s' answered %u for a %s choice of %u alternatives",
                                  s->chooser->name, idx, sim_choice_name(kind), n);
        s->result.divergence_at = s->ndecisions;
        sim__end(s, SIM_NONDETERMINISM, "nondeterminism", s->divergence);
    }
    /* Labels are ascending (the schedule names them, replay looks them up):
     * checked below the answer, which is what gets recorded. Whether a
     * chosen thread is runnable, switch_to checks. */
    SIM_CHECK(s, labels == NULL || idx == 0 || labels[idx - 1] < labels[idx], "choice labels are ascending");
    if (s->ndecisions == s->decision_cap) {
        uint32_t cap = s->decision_cap ? s->decision_cap * 2 : 4096;
        sim_decision *d = realloc(s->decisions, cap * sizeof *d);
        if (d == NULL) sim__end(s, SIM_LIMIT, "memory-limit", "limit: out of memory for the decision stream");
        s->decisions = d;
        s->decision_cap = cap;
    }
    sim_decision *d = &s->decisions[s->ndecisions++];
    d->kind = (uint8_t)kind;
    d->preempt = (uint8_t)(current != SIM_NO_CURRENT && idx != current);
    d->reserved = 0;
    d->n = n;
    d->index = idx;
    d->label = labels != NULL ? labels[idx] : idx;
    s->preemptions += d->preempt;
    s->stats.asked[kind]++;
    /* Kernel choices count by label (the outcome number, stable whatever subset
     * was offered); thread choices by index. */
    uint32_t o = kind == SIM_CHOICE_THREAD ? idx : d->label;
    s->stats.outcome[kind][o < SIM_STATS_OUTCOMES ? o : SIM_STATS_OUTCOMES - 1]++;
    if (kind != SIM_CHOICE_THREAD) sim__event(s, SIM_EV_CHOICE, kind, d->label, n, 0);
    return idx;
}

uint32_t sim_choose_user(sim_ctx *s, uint32_t n) {
    if (n <= 1) return 0;
    return sim__choose(s, SIM_CHOICE_USER, n, NULL, SIM_NO_CURRENT);
}

#define FAULT_MAX_ERRS 16 /* errors one call may fail with: a fault shim offers one to three */

uint32_t sim_choose_fault(sim_ctx *s, uint32_t family, const uint32_t *errs, uint32_t nerrs, bool must) {
    if (nerrs == 0) return 0;
    if (nerrs > FAULT_MAX_ERRS)
        sim__end(s, SIM_LIMIT, "fault-error-limit",
                 sim_arena_printf(&s->arena, "limit: a fault with %u possible errors (FAULT_MAX_ERRS %u)", nerrs,
                                  FAULT_MAX_ERRS));
    /* Labels are the outcome numbers of sim.h: 0 none, k the k-th error. */
    uint32_t labels[FAULT_MAX_ERRS + 1];
    uint32_t n = 0;
    for (uint32_t k = must ? 1 : 0; k <= nerrs; k++) labels[n++] = k;
    uint32_t k = n == 1 ? labels[0] : labels[sim__choose(s, SIM_CHOICE_FAULT, n, labels, SIM_NO_CURRENT)];
    if (k != 0) sim__event(s, SIM_EV_FAULT, family, errs[k - 1], 0, 0);
    return k;
}

/* ---- Seeded random ---- */

static void random_begin(void *self, sim_ctx *sim) {
    (void)sim;
    sim_random *r = self;
    sim_rng_seed(r->s, r->seed);
}

static uint32_t random_choose(void *self, sim_ctx *sim, const sim_choice_point *pt) {
    (void)sim;
    sim_random *r = self;
    return sim__rng_below(r->s, pt->n);
}

sim_chooser sim_random_chooser(sim_random *r, uint64_t seed) {
    r->seed = seed;
    sim_rng_seed(r->s, seed);
    return (sim_chooser){r, "random", random_begin, random_choose, NULL};
}

/* ---- First (non-preemptive default) ---- */

static uint32_t first_choose(void *self, sim_ctx *sim, const sim_choice_point *pt) {
    (void)self;
    (void)sim;
    return pt->current != SIM_NO_CURRENT ? pt->current : 0;
}

sim_chooser sim_first_chooser(void) { return (sim_chooser){NULL, "first", NULL, first_choose, NULL}; }

/* ---- Replay ---- */

static void replay_begin(void *self, sim_ctx *sim) {
    sim_replay *r = self;
    r->pos = 0;
    if (r->rest != NULL && r->rest->begin != NULL) r->rest->begin(r->rest->self, sim);
}

static void describe_alternatives(sim_ctx *s, const sim_choice_point *pt, char *buf, size_t len) {
    size_t used = 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < pt->n && used + 16 < len; i++) {
        uint32_t label = pt->labels != NULL ? pt->labels[i] : i;
        int w = pt->kind == SIM_CHOICE_THREAD && label == SIM_KERNEL
                    ? snprintf(buf + used, len - used, "%stk", i ? "," : "")
                    : snprintf(buf + used, len - used, "%s%c%u", i ? "," : "", sim_choice_letter(pt->kind), label);
        if (w > 0) used += (size_t)w;
    }
    (void)s;
}

static const char *at_col(sim_ctx *s, const sim_replay *r, uint32_t pos) {
    if (r->col == NULL || pos >= r->count) return "";
    return sim_arena_printf(&s->arena, " (schedule col %u)", r->col[pos]);
}

static uint32_t replay_choose(void *self, sim_ctx *sim, const sim_choice_point *pt) {
    sim_replay *r = self;
    if (r->pos >= r->count) {
        if (r->rest != NULL) return r->rest->choose(r->rest->self, sim, pt);
        char alts[256];
        describe_alternatives(sim, pt, alts, sizeof alts);
        sim_report_divergence(sim,
                              "nondeterminism at decision %u: the schedule ended after %u decisions, but the "
                              "execution asks for a %s choice among {%s}",
                              pt->position, r->count, sim_choice_name(pt->kind), alts);
        return SIM_CHOICE_DIVERGED;
    }
    const sim_decision *d = &r->d[r->pos];
    if (d->kind != pt->kind) {
        char alts[256];
        describe_alternatives(sim, pt, alts, sizeof alts);
        sim_report_divergence(sim,
                              "nondeterminism at decision %u%s: the schedule has %c%u, but the execution asks "
                              "for a %s choice among {%s}",
                              pt->position, at_col(sim, r, r->pos), sim_choice_letter((sim_choice_kind)d->kind),
                              d->label, sim_choice_name(pt->kind), alts);
        return SIM_CHOICE_DIVERGED;
    }
    for (uint32_t i = 0; i < pt->n; i++) {
        uint32_t label = pt->labels != NULL ? pt->labels[i] : i;
        if (label == d->label) {
            r->pos++;
            return i;
        }
    }
    char alts[256];
    describe_alternatives(sim, pt, alts, sizeof alts);
    sim_report_divergence(sim, "nondeterminism at decision %u%s: the schedule has %c%u, which is not among {%s}",
                          pt->position, at_col(sim, r, r->pos), sim_choice_letter(pt->kind), d->label, alts);
    return SIM_CHOICE_DIVERGED;
}

static void replay_end(void *self, sim_ctx *sim) {
    sim_replay *r = self;
    if (r->rest == NULL && r->pos < r->count) {
        sim_report_divergence(sim,
                              "nondeterminism: the execution ended after %u decisions, but the schedule has %u%s",
                              r->pos, r->count, at_col(sim, r, r->pos));
    }
    if (r->rest != NULL && r->rest->end != NULL) r->rest->end(r->rest->self, sim);
}

sim_chooser sim_replay_chooser(sim_replay *r, const sim_decision *d, const uint32_t *col, uint32_t count,
                               sim_chooser *rest) {
    r->d = d;
    r->col = col;
    r->count = count;
    r->pos = 0;
    r->rest = rest;
    return (sim_chooser){r, "replay", replay_begin, replay_choose, replay_end};
}
