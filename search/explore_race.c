/* explore_race.c - the source-DPOR race analysis of one finished run.
 *
 * Input: the access log of the run (who touched which object, read or
 * write) and the explorer's path (which decision each access follows).
 * Happens-before is program order, plus spawn -> child start, plus every
 * pair of conflicting accesses to one object in log order (two accesses
 * conflict when at least one writes), tracked with vector clocks; the kernel
 * is one more "thread". A race is a conflicting pair from two threads whose
 * first access is not already ordered before the second by anything else.
 *
 * For a race between an access of the step taken at thread node k and a
 * later access e' of thread q, source-DPOR looks at v: the accesses after
 * the step that do not happen after it, then e'. Some thread that can start
 * v (its first access in v has no predecessor in v) and is enabled at k
 * must be in k's backtrack set; if none is, one is added. Initials that are
 * not enabled at k mean the race cannot be reversed there (q waited for the
 * step itself, e.g. a lock released by it): nothing is added. Accesses that
 * are not part of the chosen thread's own step (a thread that ran because it
 * was the only one able to) sit at states with one choice: no race there.
 * Thread objects (spawn/start/end/join) never race and only order spawn
 * before the child's start and a thread's end before a join that returns:
 * whether a join blocked first changes nothing the threads see.
 */
#include <stdlib.h>
#include <string.h>

#include "explore_int.h"

static bool need(void **p, size_t *cap, size_t n, size_t elem) {
    if (n <= *cap) return true;
    size_t c = *cap ? *cap : 1024;
    while (c < n) c *= 2;
    void *q = realloc(*p, c * elem);
    if (q == NULL) return false;
    *p = q;
    *cap = c;
    return true;
}

typedef struct race_ctx {
    explorer *ex;
    const sim_access *a;
    uint32_t m, nt;       /* accesses, clock slots (threads + kernel) */
    uint32_t kslot;       /* the kernel's slot */
    uint32_t *vc;         /* m x nt */
    uint32_t *owner;      /* per access: owning thread node, or EX_NONE */
    uint8_t *instep;      /* per access: part of its node's step */
    uint32_t *step_end;   /* per node: first access after its step */
    uint32_t *stamp, *firstc, *seen; /* per slot scratch for initials */
    uint32_t race_id;
} race_ctx;

static inline uint32_t slot_of(const race_ctx *rc, uint32_t thread) {
    return thread == SIM_KERNEL_LABEL ? rc->kslot : thread;
}

/* The node where the thread running at k took control: a switch there costs
 * no more than the path already paid (BPOR's conservative point). */
static uint32_t switch_node(const explorer *ex, uint32_t k) {
    for (;;) {
        const ex_node *nd = &ex->nodes[k];
        if (nd->cur == SIM_NO_CURRENT || nd->chosen != nd->cur || nd->prev_thread == EX_NONE) return k;
        /* The walk goes strictly up the path, so it ends. */
        EX_CHECK(ex, nd->prev_thread < k && ex->nodes[nd->prev_thread].kind == SIM_CHOICE_THREAD,
                 "a thread node's previous thread node is above it");
        k = nd->prev_thread;
    }
}

static bool is_enabled(const ex_node *nd, uint32_t label) { return ls_has(&nd->enabled, label); }

static uint32_t index_of(const ex_node *nd, uint32_t label) {
    for (uint32_t i = 0; i < nd->n; i++)
        if (nd->labels[i] == label) return i;
    return EX_NONE;
}

/* Is access x (thread slot r) an initial of v: no earlier v-access of another
 * thread happens before it? */
static bool initial(const race_ctx *rc, uint32_t x, uint32_t r, uint32_t nseen) {
    const uint32_t *cx = &rc->vc[(size_t)x * rc->nt];
    for (uint32_t s = 0; s < nseen; s++) {
        uint32_t t = rc->seen[s];
        if (t != r && cx[t] >= rc->firstc[t]) return false;
    }
    return true;
}

static void on_race(race_ctx *rc, uint32_t i, uint32_t j) {
    explorer *ex = rc->ex;
    uint32_t k = rc->owner[i];
    if (k == EX_NONE || !rc->instep[i]) return;
    EX_CHECK(ex, i < j && j < rc->m && k < ex->nnodes && ex->nodes[k].kind == SIM_CHOICE_THREAD,
             "a race is an earlier step of a thread node against a later access");
    ex_node *nd = &ex->nodes[k];
    if (nd->full) return;
    ex->res->stats.races++;
    uint32_t p = slot_of(rc, rc->a[i].thread);
    uint32_t fp = rc->vc[(size_t)nd->acc_at * rc->nt + p];
    lset sl = ex_sleep_set(ex, nd);
    rc->race_id++;
    uint32_t nseen = 0, pick = EX_NONE, satisfied = EX_NONE;
    int best = -1;
    for (uint32_t x = rc->step_end[k]; x <= j && satisfied == EX_NONE; x++) {
        if (x < j && rc->vc[(size_t)x * rc->nt + p] >= fp) continue; /* happens after the step */
        if (rc->a[x].event == SIM_ACC_DROP) continue;
        uint32_t r = slot_of(rc, rc->a[x].thread);
        if (rc->stamp[r] == rc->race_id) continue;
        bool init = initial(rc, x, r, nseen);
        rc->stamp[r] = rc->race_id;
        rc->firstc[r] = rc->vc[(size_t)x * rc->nt + r];
        rc->seen[nseen++] = r;
        uint32_t label = rc->a[x].thread;
        if (!init || !is_enabled(nd, label)) continue;
        uint32_t idx = index_of(nd, label);
        EX_CHECK(ex, idx < nd->n, "a node's enabled set and its labels agree");
        /* Only a thread that will really run here satisfies the race: one
         * in the backtrack set but over the bound does not. */
        if (ls_has(&nd->todo, label) && ex_allowed(ex, nd, idx)) {
            satisfied = label;
            break;
        }
        /* Prefer an initial that is awake, then one within the bound. */
        int score = (!ls_has(&sl, label) ? 2 : 0) + (ex_allowed(ex, nd, idx) ? 1 : 0);
        if (score > best) {
            best = score;
            pick = label;
        }
    }
    uint32_t label = satisfied != EX_NONE ? satisfied : pick;
    if (label == EX_NONE) return; /* not reversible at k */
    if (satisfied == EX_NONE) ls_add(&nd->todo, label);
    if (ex->bound >= 0) {
        uint32_t c = switch_node(ex, k);
        ex_node *nc = &ex->nodes[c];
        if (c != k && !nc->full && is_enabled(nc, label)) ls_add(&nc->todo, label);
    }
}

/* A step that disabled a kernel action enabled at its node (SIM_ACC_DROP):
 * the action never runs, so no access of the kernel's can race with the
 * step, yet running the kernel first is another class (the action then sees
 * the state before the step, e.g. a wait packet queued rather than
 * cancelled). As with a race whose initial is the kernel: the kernel joins
 * the node's backtrack set, and the conservative point's under a bound. */
static void on_drop(race_ctx *rc, uint32_t j) {
    explorer *ex = rc->ex;
    uint32_t k = rc->owner[j];
    if (k == EX_NONE || rc->a[j].thread == SIM_KERNEL_LABEL) return;
    ex_node *nd = &ex->nodes[k];
    EX_CHECK(ex, k < ex->nnodes && nd->kind == SIM_CHOICE_THREAD, "a dropped action follows a thread node");
    if (nd->full || !is_enabled(nd, SIM_KERNEL_LABEL) || nd->labels[nd->chosen] == SIM_KERNEL_LABEL) return;
    ex->res->stats.races++;
    ls_add(&nd->todo, SIM_KERNEL_LABEL);
    if (ex->bound >= 0) {
        uint32_t c = switch_node(ex, k);
        ex_node *nc = &ex->nodes[c];
        if (c != k && !nc->full && is_enabled(nc, SIM_KERNEL_LABEL)) ls_add(&nc->todo, SIM_KERNEL_LABEL);
    }
}

bool ex_analyze(explorer *ex) {
    sim_ctx *sim = ex->sim;
    uint32_t m = sim_access_count(sim);
    const sim_access *a = sim_accesses(sim);
    if (m == 0 || ex->nnodes == 0) return true;

    /* Slots: threads 0..T-1 and the kernel; objects by class. The log is
     * the engine's: checked as input, since every index below trusts it. */
    uint32_t T = 0, S = 0, TH = 0, KN[SIM_KOBJ__COUNT] = {0};
    EX_CHECK(ex, m <= ex->o->max_accesses && a[m - 1].pos <= ex->nnodes, "the access log is within its limit and the path");
    for (uint32_t x = 0; x < m; x++) {
        EX_CHECK(ex, a[x].thread < SIM_MAX_THREADS || a[x].thread == SIM_KERNEL_LABEL,
                 "an access is by a thread or the kernel");
        EX_CHECK(ex, SIM_ACC_CLASS(a[x].object) <= SIM_ACC_KERNEL && (x == 0 || a[x - 1].pos <= a[x].pos),
                 "accesses name a known object class, in decision order");
        if (a[x].thread != SIM_KERNEL_LABEL && a[x].thread + 1 > T) T = a[x].thread + 1;
        uint32_t c = SIM_ACC_CLASS(a[x].object), i = SIM_ACC_INDEX(a[x].object);
        if (c == SIM_ACC_SYNC && i + 1 > S) S = i + 1;
        if (c == SIM_ACC_THREAD && i + 1 > TH) TH = i + 1;
        if (c == SIM_ACC_KERNEL) {
            uint32_t k = SIM_ACC_KOBJ_KIND(a[x].object), id = SIM_ACC_KOBJ_ID(a[x].object);
            EX_CHECK(ex, k < SIM_KOBJ__COUNT, "a kernel object is of a known kind");
            if (id + 1 > KN[k]) KN[k] = id + 1;
        }
    }
    /* Object slots: sync objects, threads, the thread table, the clock, then
     * the kernel's objects kind by kind. */
    uint32_t koff[SIM_KOBJ__COUNT], nobj = S + TH + 2;
    for (uint32_t k = 0; k < SIM_KOBJ__COUNT; k++) {
        koff[k] = nobj;
        nobj += KN[k];
    }
    uint32_t nt = T + 1;
    /* Ten arrays carved out of four buffers; each size is named once and
     * the carving below is checked against it:
     *   vc:      m clocks of nt slots, then d (the clock being built)     m*nt + nt
     *   aux:     prev (m), owner (m), instep (m bytes, in m words)        3m
     *   objlast: objlast (nobj), spawned (TH), ended (TH)                 nobj + 2TH
     *   tmp:     node_owner, step_end (nnodes each), stamp, firstc, seen
     *            (nt each), clock (nt x nt)                               2 nnodes + 3nt + nt*nt */
    size_t vc_n = (size_t)m * nt + nt, aux_n = 3 * (size_t)m, ol_n = nobj + 2 * (size_t)TH;
    size_t tmp_n = (size_t)ex->nnodes * 2 + 3 * (size_t)nt + (size_t)nt * nt;
    size_t vc_cap = ex->cap_vc, aux_cap = ex->cap_aux, ol_cap = ex->cap_objlast, tmp_cap = ex->cap_tmp;
    if (!need((void **)&ex->vc, &vc_cap, vc_n, sizeof *ex->vc) || !need((void **)&ex->aux, &aux_cap, aux_n, sizeof *ex->aux) ||
        !need((void **)&ex->objlast, &ol_cap, ol_n, sizeof *ex->objlast) ||
        !need((void **)&ex->tmp, &tmp_cap, tmp_n, sizeof *ex->tmp))
        return false;
    /* The capacities are kept in 32 bits: a larger buffer would be forgotten. */
    EX_CHECK(ex, aux_cap <= UINT32_MAX && ol_cap <= UINT32_MAX && tmp_cap <= UINT32_MAX,
             "analysis buffer capacities fit their 32-bit fields");
    ex->cap_vc = vc_cap;
    ex->cap_aux = (uint32_t)aux_cap;
    ex->cap_objlast = (uint32_t)ol_cap;
    ex->cap_tmp = (uint32_t)tmp_cap;

    race_ctx rc = {.ex = ex, .a = a, .m = m, .nt = nt, .kslot = T, .vc = ex->vc};
    uint32_t *prev = ex->aux;
    rc.owner = ex->aux + m;
    rc.instep = (uint8_t *)(ex->aux + 2 * (size_t)m);
    uint32_t *objlast = ex->objlast, *spawned = ex->objlast + nobj, *ended = spawned + TH;
    uint32_t *node_owner = ex->tmp;
    rc.step_end = ex->tmp + ex->nnodes;
    rc.stamp = rc.step_end + ex->nnodes;
    rc.firstc = rc.stamp + nt;
    rc.seen = rc.firstc + nt;
    uint32_t *clock = rc.seen + nt; /* nt x nt: each thread's current clock */
    uint32_t *d = ex->vc + (size_t)m * nt;
    EX_CHECK(ex, d + nt == ex->vc + vc_n && rc.instep + m <= (uint8_t *)(ex->aux + aux_n) &&
                     ended + TH == objlast + ol_n && clock + (size_t)nt * nt == ex->tmp + tmp_n,
             "the carved arrays end where their buffers' sizes say");

    /* Which thread node owns each decision, and each node's step. */
    for (uint32_t k = 0; k < ex->nnodes; k++) {
        node_owner[k] = ex->nodes[k].kind == SIM_CHOICE_THREAD ? k : k > 0 ? node_owner[k - 1] : EX_NONE;
        rc.step_end[k] = ex->nodes[k].acc_at;
    }
    uint32_t run_owner = EX_NONE;
    bool run_alive = false;
    for (uint32_t x = 0; x < m; x++) {
        uint32_t dpos = a[x].pos;
        uint32_t o = dpos == 0 ? EX_NONE : node_owner[(dpos - 1 < ex->nnodes ? dpos : ex->nnodes) - 1];
        if (o != run_owner) {
            run_owner = o;
            run_alive = true;
        }
        rc.owner[x] = o;
        bool in = o != EX_NONE && run_alive && a[x].thread == ex->nodes[o].labels[ex->nodes[o].chosen];
        rc.instep[x] = in;
        if (in)
            rc.step_end[o] = x + 1;
        else
            run_alive = false;
    }

    memset(clock, 0, (size_t)nt * nt * sizeof *clock);
    memset(rc.stamp, 0, nt * sizeof *rc.stamp);
    for (uint32_t s = 0; s < nobj; s++) objlast[s] = EX_NONE;
    for (uint32_t s = 0; s < TH; s++) spawned[s] = ended[s] = EX_NONE;

    for (uint32_t j = 0; j < m; j++) {
        const sim_access *aj = &a[j];
        uint32_t t = slot_of(&rc, aj->thread);
        if (aj->event == SIM_ACC_DROP) {
            /* Not an access of the object: it orders nothing. */
            memcpy(&rc.vc[(size_t)j * nt], &clock[(size_t)t * nt], nt * sizeof *clock);
            prev[j] = EX_NONE;
            on_drop(&rc, j);
            continue;
        }
        uint32_t c = SIM_ACC_CLASS(aj->object), i = SIM_ACC_INDEX(aj->object);
        uint32_t os = c == SIM_ACC_SYNC     ? i
                      : c == SIM_ACC_THREAD ? S + i
                      : c == SIM_ACC_THREADS ? S + TH
                      : c == SIM_ACC_CLOCK   ? S + TH + 1
                                             : koff[SIM_ACC_KOBJ_KIND(aj->object)] + SIM_ACC_KOBJ_ID(aj->object);
        uint32_t *ct = &clock[(size_t)t * nt];
        /* A thread's start is its first access: its own clock is still 0. */
        EX_CHECK(ex, aj->event != SIM_EV_THREAD_START || c != SIM_ACC_THREAD || ct[t] == 0,
                 "a thread's start is its first access");
        if (aj->event == SIM_EV_THREAD_START && c == SIM_ACC_THREAD && i < TH && spawned[i] != EX_NONE) {
            const uint32_t *sv = &rc.vc[(size_t)spawned[i] * nt];
            for (uint32_t s = 0; s < nt; s++)
                if (sv[s] > ct[s]) ct[s] = sv[s];
        }
        ct[t]++;
        if (c == SIM_ACC_THREAD) {
            /* Thread objects order only what must be ordered: spawn before
             * start (above) and end before a join that returns. A join that
             * blocks, or a start, orders nothing else. */
            if (aj->event == SIM_EV_THREAD_END && i < TH) ended[i] = j;
            if (aj->event == SIM_EV_JOIN && i < TH && ended[i] != EX_NONE) {
                const uint32_t *ev = &rc.vc[(size_t)ended[i] * nt];
                EX_CHECK(ex, ended[i] < j && ev[t] < ct[t], "a joined thread's end happened before the join");
                for (uint32_t s = 0; s < nt; s++)
                    if (ev[s] > ct[s]) ct[s] = ev[s];
            }
            memcpy(&rc.vc[(size_t)j * nt], ct, nt * sizeof *ct);
            prev[j] = EX_NONE;
            if (aj->event == SIM_EV_SPAWN && i < TH) spawned[i] = j;
            continue;
        }
        memcpy(d, ct, nt * sizeof *d);
        for (uint32_t x = objlast[os]; x != EX_NONE; x = prev[x]) {
            const sim_access *ax = &a[x];
            if (!(ax->write || aj->write)) continue;
            const uint32_t *cx = &rc.vc[(size_t)x * nt];
            uint32_t tx = slot_of(&rc, ax->thread);
            /* Clocks are monotonic and happens-before follows the log: an
             * earlier access cannot have seen this thread's present. */
            EX_CHECK(ex, x < j && cx[t] < ct[t], "an earlier access does not know a thread's future");
            if (tx != t && cx[tx] > d[tx]) on_race(&rc, x, j);
            for (uint32_t s = 0; s < nt; s++)
                if (cx[s] > d[s]) d[s] = cx[s];
            if (ax->write) break;
        }
        memcpy(ct, d, nt * sizeof *ct);
        memcpy(&rc.vc[(size_t)j * nt], ct, nt * sizeof *ct);
        prev[j] = objlast[os];
        objlast[os] = j;
    }
    return true;
}

void ex_analysis_free(explorer *ex) {
    free(ex->vc);
    free(ex->aux);
    free(ex->objlast);
    free(ex->tmp);
}
