/* explore.c - stateless depth-first exploration of the decision stream.
 *
 * The search keeps the path of the current execution as a stack of nodes,
 * one per recorded decision. Each run replays the stack's choices (checking
 * that the program asks the same questions), then extends the path with a
 * default choice: the running thread if it may go on, else the first thread
 * allowed. After the run the deepest node that still has an alternative to
 * try is advanced, and everything below it is popped.
 *
 * Kernel choices are bounded: with a kernel bound D, a kernel node past its
 * first alternative costs one deviation ('e' excepted: scheduling), and a
 * node whose path already has D deviations keeps only its first alternative
 * (counted in pruned_kernel). No run is ever cut for D: the default is free.
 * They are reduced only where the choice names the one object it affects
 * (SIM_ACC_EFFECT) and nothing below its first alternative touched it: the
 * other alternatives would run alike (note_observations, DPOR only).
 *
 * Reduction (thread choices only):
 *  - preemption bound (CHESS): an alternative that switches away from a
 *    thread that could go on costs one preemption, exactly as the engine's
 *    sim_decision.preempt counts it ("tk" included); paths over K are cut.
 *  - sleep sets: after a thread's step at a node has been explored, later
 *    siblings carry it "asleep" down their paths until a step that depends on
 *    it runs; a node whose every allowed thread sleeps ends the run early.
 *    With a bound, a step only goes to sleep if its subtree lost nothing to
 *    the bound (else the equivalent of a pruned run may be over the bound:
 *    the known unsoundness of sleep sets under context bounding).
 *  - source-DPOR (Abdulla et al., POPL'14, without wakeup trees), on top of
 *    sleep sets: a node only explores its first thread plus the threads
 *    added by races found in later executions (races are computed after each
 *    run from the access log with vector clocks). With a finite bound the
 *    explorer also adds each race's thread at the node where the thread that
 *    was running got control (BPOR's conservative branch, Coons et al.,
 *    OOPSLA'13), where switching costs no more than the path already paid.
 *
 * The analysis code lives in explore_race.c; this file owns the search.
 */
#include "explore_int.h"

#include <stdlib.h>
#include <string.h>

const char *explore_por_name(explore_por p) {
    switch (p) {
    case EXPLORE_POR_NONE: return "none";
    case EXPLORE_POR_SLEEP: return "sleep";
    case EXPLORE_POR_DPOR: return "dpor";
    }
    return "?";
}

bool explore_por_parse(const char *s, explore_por *out) {
    for (int p = EXPLORE_POR_NONE; p <= EXPLORE_POR_DPOR; p++) {
        if (strcmp(s, explore_por_name((explore_por)p)) == 0) {
            *out = (explore_por)p;
            return true;
        }
    }
    return false;
}

void explore_options_default(explore_options *o) {
    memset(o, 0, sizeof *o);
    o->por = EXPLORE_POR_DPOR;
    o->preemption_bound = 2;
    o->kernel_bound = 2;
    o->stop_on_violation = true;
    o->max_executions = EX_DEFAULT_MAX_EXECUTIONS;
    o->max_depth = EX_DEFAULT_MAX_DEPTH;
    o->max_accesses = EX_DEFAULT_MAX_ACCESSES;
    o->max_states = EX_DEFAULT_MAX_STATES;
    o->shard_count = 1;
}

/* ---- Small helpers ---- */

bool ex_grow(void **p, uint32_t *cap, uint32_t need, size_t elem) {
    if (need <= *cap) return true;
    uint32_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, (size_t)c * elem);
    if (q == NULL) return false;
    *p = q;
    *cap = c;
    return true;
}

uint32_t ex_cost(const ex_node *nd, uint32_t idx) {
    return nd->kind == SIM_CHOICE_THREAD && nd->cur != SIM_NO_CURRENT && idx != nd->cur;
}

/* A kernel choice's first alternative is its default; any other costs one
 * deviation. Thread choices cost none here, nor does 'e' (which enabled
 * kernel action runs): it is scheduling, not a deviation, and its index
 * depends on actions of objects a step does not touch, so only a free 'e'
 * keeps equivalent executions at the same cost (see explore.h). */
uint32_t ex_wcost(const ex_node *nd, uint32_t idx) {
    return explore_deviation((sim_choice_kind)nd->kind, idx);
}

bool explore_deviation(sim_choice_kind kind, uint32_t index) {
    return kind != SIM_CHOICE_THREAD && kind != SIM_CHOICE_EVENT && index != 0;
}

static bool kernel_allowed(const explorer *ex, const ex_node *nd, uint32_t idx) {
    return ex->kbound < 0 || nd->pre_dev + ex_wcost(nd, idx) <= (uint32_t)ex->kbound;
}

bool ex_allowed(const explorer *ex, const ex_node *nd, uint32_t idx) {
    return ex->bound < 0 || nd->pre_preempt + ex_cost(nd, idx) <= (uint32_t)ex->bound;
}

lset ex_sleep_set(const explorer *ex, const ex_node *nd) {
    lset s = {{0, 0}};
    for (uint32_t e = nd->ent_start; e < nd->ent_end; e++) ls_add(&s, ex->ents[e].label);
    return s;
}

/* Do two objects (one from a sleep entry made at a node with the given bases)
 * possibly name the same thing? Objects created after that node are numbered
 * in the order of creation or first touch, which differs between branches, so
 * any two of them (of one kind) may be the same: conservative. */
static bool same_object(uint32_t a, uint32_t b, const ex_sleep *e) {
    if (a == b) return true;
    if (SIM_ACC_CLASS(a) != SIM_ACC_CLASS(b)) return false;
    uint32_t ia = SIM_ACC_INDEX(a), ib = SIM_ACC_INDEX(b);
    switch (SIM_ACC_CLASS(a)) {
    case SIM_ACC_SYNC: return ia >= e->obj_base && ib >= e->obj_base;
    case SIM_ACC_THREAD: return ia >= e->thr_base && ib >= e->thr_base;
    case SIM_ACC_KERNEL: {
        uint32_t k = SIM_ACC_KOBJ_KIND(a);
        if (k != SIM_ACC_KOBJ_KIND(b)) return false;
        uint32_t base = k < SIM_KOBJ__COUNT ? e->kobj_base[k] : 0;
        return SIM_ACC_KOBJ_ID(a) >= base && SIM_ACC_KOBJ_ID(b) >= base;
    }
    default: return false;
    }
}

static bool entry_conflicts(const explorer *ex, const ex_sleep *e, const sim_access *x) {
    for (uint32_t i = 0; i < e->len; i++) {
        const ex_objw *w = &ex->pool[e->off + i];
        if ((w->write || x->write) && same_object(w->object, x->object, e)) return true;
    }
    return false;
}

/* Brings the node bases (objects and threads existing so far) up to date. */
static void scan_bases(explorer *ex, const sim_access *a, uint32_t count) {
    for (; ex->scan_pos < count; ex->scan_pos++) {
        const sim_access *x = &a[ex->scan_pos];
        uint32_t c = SIM_ACC_CLASS(x->object), i = SIM_ACC_INDEX(x->object);
        if (c == SIM_ACC_SYNC && i + 1 > ex->obj_base) ex->obj_base = i + 1;
        if (c == SIM_ACC_THREAD && i + 1 > ex->thr_base) ex->thr_base = i + 1;
        if (c == SIM_ACC_KERNEL) {
            uint32_t k = SIM_ACC_KOBJ_KIND(x->object), id = SIM_ACC_KOBJ_ID(x->object);
            if (k < SIM_KOBJ__COUNT && id + 1 > ex->kobj_base[k]) ex->kobj_base[k] = id + 1;
        }
    }
}

static uint64_t shard_hash(const explorer *ex, uint32_t depth) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (uint32_t i = 0; i < depth; i++) {
        const ex_node *nd = &ex->nodes[i];
        uint32_t label = nd->kind == SIM_CHOICE_THREAD ? nd->labels[nd->chosen] : nd->chosen;
        h = (h ^ ((uint64_t)nd->kind << 32 | label)) * 0x100000001B3ull;
        h ^= h >> 29;
    }
    return h;
}

static bool shard_mine(const explorer *ex, uint32_t depth) {
    return ex->o->shard_count <= 1 || shard_hash(ex, depth) % ex->o->shard_count == ex->o->shard_index;
}

/* Ends the current run early: the rest of it is covered elsewhere (sleep
 * set, other shard) or cannot be explored (over the bound, too deep). */
static uint32_t cut(explorer *ex, sim_ctx *sim, const char *why) {
    ex->cut = why;
    sim_report_divergence(sim, "explore: run cut (%s)", why);
    return SIM_CHOICE_DIVERGED;
}

/* ---- The chooser ---- */

static void ex_begin(void *self, sim_ctx *sim) {
    (void)sim;
    explorer *ex = self;
    ex->last_thread = EX_NONE;
    ex->scan_pos = 0;
    ex->obj_base = 0;
    ex->thr_base = 0;
    memset(ex->kobj_base, 0, sizeof ex->kobj_base);
    ex->cut = NULL;
    ex->diverged = false;
}

/* The sleep set a new thread node inherits from the previous thread node:
 * its entries whose step is independent of everything executed since. A
 * sleeping thread that ran anyway (the only one able to) means this state
 * is covered: the run is cut. */
static bool inherit_sleep(explorer *ex, ex_node *nd, const sim_access *a, uint32_t count) {
    nd->ent_start = nd->ent_end = ex->nents;
    nd->pool_end = ex->npool;
    if (ex->por == EXPLORE_POR_NONE || ex->last_thread == EX_NONE) return true;
    const ex_node *pk = &ex->nodes[ex->last_thread];
    EX_CHECK(ex, pk->acc_at <= count && pk->ent_end <= ex->nents, "a sleep set is inherited from an earlier node");
    for (uint32_t e = pk->ent_start; e < pk->ent_end; e++) {
        const ex_sleep *en = &ex->ents[e];
        bool keep = true;
        for (uint32_t i = pk->acc_at; i < count && keep; i++) {
            if (a[i].thread == en->label) return false;
            if (entry_conflicts(ex, en, &a[i])) keep = false;
        }
        if (!keep) continue;
        if (!ex_grow((void **)&ex->ents, &ex->cap_ents, ex->nents + 1, sizeof *ex->ents)) {
            ex->oom = true;
            return true;
        }
        ex->ents[ex->nents++] = *en;
    }
    nd->ent_end = ex->nents;
    return true;
}

static uint32_t new_node(explorer *ex, sim_ctx *sim, const sim_choice_point *pt) {
    uint32_t pos = pt->position;
    EX_CHECK(ex, pos == ex->nnodes, "a new decision extends the path by one node");
    EX_CHECK(ex, pt->n >= 2 && (pt->kind != SIM_CHOICE_THREAD || pt->n <= EX_LABELS),
             "a choice has 2 or more alternatives, a thread choice at most one per label");
    if (pos >= ex->o->max_depth) return cut(ex, sim, "max-depth");
    if (ex->o->shard_count > 1 && pos == ex->o->shard_depth && !shard_mine(ex, pos)) return cut(ex, sim, "shard");
    if (!ex_grow((void **)&ex->nodes, &ex->cap_nodes, pos + 1, sizeof *ex->nodes)) {
        ex->oom = true;
        return cut(ex, sim, "memory");
    }
    uint32_t count = sim_access_count(sim);
    const sim_access *a = sim_accesses(sim);
    scan_bases(ex, a, count);
    ex_node *nd = &ex->nodes[pos];
    memset(nd, 0, offsetof(ex_node, labels));
    nd->kind = (uint8_t)pt->kind;
    nd->n = pt->n;
    nd->cur = pt->current;
    nd->chosen = 0;
    nd->acc_at = count;
    nd->obj_base = ex->obj_base;
    nd->thr_base = ex->thr_base;
    memcpy(nd->kobj_base, ex->kobj_base, sizeof nd->kobj_base);
    nd->prev_thread = ex->last_thread;
    nd->owner = sim_acting_thread(sim);
    nd->effect = EX_NONE;
    nd->effect_except = EX_NONE;
    if (pos > 0) {
        const ex_node *up = &ex->nodes[pos - 1];
        nd->pre_preempt = up->pre_preempt + ex_cost(up, up->chosen);
        nd->pre_dev = up->pre_dev + ex_wcost(up, up->chosen);
    }
    /* Every choice above was taken within the bounds. */
    EX_CHECK(ex, (ex->bound < 0 || nd->pre_preempt <= (uint32_t)ex->bound) &&
                     (ex->kbound < 0 || nd->pre_dev <= (uint32_t)ex->kbound),
             "the path is within the preemption and kernel bounds");
    bool shallow = pos < ex->o->shard_depth;
    nd->full = pt->kind != SIM_CHOICE_THREAD || ex->por != EXPLORE_POR_DPOR || shallow;
    if (pt->kind == SIM_CHOICE_THREAD) {
        for (uint32_t i = 0; i < pt->n; i++) {
            /* Labels index the lsets and are stored in a byte. */
            EX_CHECK(ex, pt->labels[i] < EX_LABELS && (i == 0 || pt->labels[i - 1] < pt->labels[i]),
                     "thread labels are ascending and below EX_LABELS");
            nd->labels[i] = (uint8_t)pt->labels[i];
            ls_add(&nd->enabled, pt->labels[i]);
        }
        if (!inherit_sleep(ex, nd, a, count)) return cut(ex, sim, "sleep");
        lset sl = ex_sleep_set(ex, nd);
        /* Default: the running thread, else the first allowed one awake. */
        uint32_t pick = EX_NONE;
        if (pt->current != SIM_NO_CURRENT && !ls_has(&sl, nd->labels[pt->current])) pick = pt->current;
        for (uint32_t i = 0; i < pt->n && pick == EX_NONE; i++)
            if (!ls_has(&sl, nd->labels[i]) && ex_allowed(ex, nd, i)) pick = i;
        if (pick == EX_NONE) {
            /* Nothing awake within the bound: what is awake is over it. */
            for (uint32_t i = 0; i < pt->n; i++)
                if (!ls_has(&sl, nd->labels[i])) ex->res->stats.pruned_bound++;
            return cut(ex, sim, "sleep");
        }
        nd->chosen = pick;
        nd->bound_mark = ex->res->stats.pruned_bound;
        ls_add(&nd->todo, nd->labels[pick]);
        ex->last_thread = pos;
    } else {
        nd->ent_start = nd->ent_end = ex->nents;
        nd->pool_end = ex->npool;
    }
    ex->nnodes = pos + 1;
    return nd->chosen;
}

static uint32_t ex_choose(void *self, sim_ctx *sim, const sim_choice_point *pt) {
    explorer *ex = self;
    uint32_t pos = pt->position;
    if (pos >= ex->nnodes) return new_node(ex, sim, pt);
    ex_node *nd = &ex->nodes[pos];
    bool same = nd->kind == (uint8_t)pt->kind && nd->n == pt->n && nd->cur == pt->current;
    for (uint32_t i = 0; same && nd->kind == SIM_CHOICE_THREAD && i < pt->n; i++) same = nd->labels[i] == pt->labels[i];
    if (!same) {
        ex->diverged = true;
        sim_report_divergence(sim,
                              "nondeterminism at decision %u: replaying the explored prefix, the program asked a "
                              "different question (%s choice of %u, expected %s of %u)",
                              pos, sim_choice_name(pt->kind), pt->n, sim_choice_name((sim_choice_kind)nd->kind), nd->n);
        return SIM_CHOICE_DIVERGED;
    }
    EX_CHECK(ex, nd->chosen < nd->n, "a replayed choice is one of the alternatives");
    EX_CHECK(ex, nd->kind != SIM_CHOICE_THREAD || ls_has(&nd->todo, nd->labels[nd->chosen]),
             "an explored thread is in its node's backtrack set");
    nd->acc_at = sim_access_count(sim);
    if (nd->kind == SIM_CHOICE_THREAD) ex->last_thread = pos;
    return nd->chosen;
}

/* ---- Backtracking ---- */

/* Adds the step just explored at thread node k to k's sleep set: the
 * leading accesses of its thread after the decision. Steps that contain a
 * kernel choice are never put to sleep (their effect depends on it). */
static void add_sleep(explorer *ex, uint32_t k, uint32_t path_len) {
    ex_node *nd = &ex->nodes[k];
    if (ex->por == EXPLORE_POR_NONE || k < ex->o->shard_depth) return;
    /* A subtree the bound cut may lack the equivalent of a run that this
     * sleeper would prune in a sibling (the equivalent can need more
     * preemptions): only a subtree explored without bound cuts may sleep. */
    if (ex->res->stats.pruned_bound != nd->bound_mark) return;
    if (path_len > k + 1 && ex->nodes[k + 1].kind != SIM_CHOICE_THREAD) return;
    const sim_access *a = sim_accesses(ex->sim);
    uint32_t end = path_len > k + 1 ? ex->nodes[k + 1].acc_at : sim_access_count(ex->sim);
    EX_CHECK(ex, nd->acc_at <= end && end <= sim_access_count(ex->sim), "a step's accesses lie in the log");
    uint32_t label = nd->labels[nd->chosen];
    uint32_t len = 0;
    while (nd->acc_at + len < end && a[nd->acc_at + len].thread == label) len++;
    if (!ex_grow((void **)&ex->pool, &ex->cap_pool, ex->npool + len, sizeof *ex->pool) ||
        !ex_grow((void **)&ex->ents, &ex->cap_ents, ex->nents + 1, sizeof *ex->ents)) {
        ex->oom = true;
        return;
    }
    ex_sleep *e = &ex->ents[ex->nents++];
    e->label = label;
    e->off = ex->npool;
    e->len = len;
    e->obj_base = nd->obj_base;
    e->thr_base = nd->thr_base;
    memcpy(e->kobj_base, nd->kobj_base, sizeof e->kobj_base);
    for (uint32_t i = 0; i < len; i++) {
        ex->pool[ex->npool].object = a[nd->acc_at + i].object;
        ex->pool[ex->npool].write = a[nd->acc_at + i].write;
        ex->npool++;
    }
    nd->ent_end = ex->nents;
    nd->pool_end = ex->npool;
}

/* Marks the kernel nodes of the run whose effect object (the access logged
 * right after the choice, SIM_ACC_EFFECT) anything accessed afterwards. An
 * effect is found only where it follows its node's decision at once. An
 * effect that names a thread (value = thread + 1) is not observed by that
 * thread's own next access of the object, which ends its watch; nor by a
 * blind write (SIM_ACC_OVERWRITE), after which every alternative leaves
 * the object alike. */
static bool note_observations(explorer *ex) {
    uint32_t m = sim_access_count(ex->sim), neff = 0;
    const sim_access *a = sim_accesses(ex->sim);
    for (uint32_t x = 0; x < m; x++) {
        if (a[x].event == SIM_ACC_EFFECT) {
            uint32_t k = a[x].pos - 1;
            if (a[x].pos == 0 || k >= ex->nnodes || ex->nodes[k].kind == SIM_CHOICE_THREAD || ex->nodes[k].acc_at != x)
                continue;
            ex->nodes[k].effect = a[x].object;
            ex->nodes[k].effect_except = a[x].value != 0 ? (uint32_t)a[x].value - 1 : EX_NONE;
            if (!ex_grow((void **)&ex->eff_node, &ex->cap_eff, neff + 1, sizeof *ex->eff_node)) return false;
            ex->eff_node[neff++] = k;
            continue;
        }
        for (uint32_t e = 0; e < neff; e++) {
            ex_node *nd = &ex->nodes[ex->eff_node[e]];
            if (nd->effect != a[x].object) continue;
            if (a[x].thread != nd->effect_except && a[x].event != SIM_ACC_OVERWRITE) nd->observed = true;
            ex->eff_node[e--] = ex->eff_node[--neff]; /* watched no longer */
        }
    }
    return true;
}

/* Counts the alternatives of a node that were not explored, by reason. */
static void count_pruned(explorer *ex, const ex_node *nd) {
    if (nd->kind != SIM_CHOICE_THREAD) return;
    lset sl = ex_sleep_set(ex, nd);
    for (uint32_t i = 0; i < nd->n; i++) {
        uint32_t l = nd->labels[i];
        if (ls_has(&nd->done, l)) continue;
        if (ls_has(&sl, l))
            ex->res->stats.pruned_sleep++;
        else if (!nd->full && !ls_has(&nd->todo, l))
            ex->res->stats.pruned_por++;
        else
            ex->res->stats.pruned_bound++;
    }
}

/* Advances the deepest node with an alternative left; false when the tree
 * (within the bound) is exhausted. */
static bool backtrack(explorer *ex) {
    uint32_t path_len = ex->nnodes;
    while (ex->nnodes > 0) {
        uint32_t k = ex->nnodes - 1;
        ex_node *nd = &ex->nodes[k];
        /* Sleep entries and their accesses are stacks along the path. */
        EX_CHECK(ex, nd->ent_start <= nd->ent_end && nd->ent_end <= ex->nents && nd->pool_end <= ex->npool,
                 "sleep entries are a stack along the path");
        ex->nents = nd->ent_end;
        ex->npool = nd->pool_end;
        if (nd->kind != SIM_CHOICE_THREAD) {
            if (nd->chosen == 0 && nd->effect != EX_NONE && !nd->observed && ex->por == EXPLORE_POR_DPOR &&
                k >= ex->o->shard_depth) {
                /* Nothing below the first alternative looked at what the
                 * choice changed: every other alternative runs the same. */
                ex->res->stats.pruned_por += nd->n - 1;
                ex->nnodes--;
                continue;
            }
            if (nd->chosen + 1 < nd->n) {
                if (kernel_allowed(ex, nd, nd->chosen + 1)) {
                    nd->chosen++;
                    ex->res->stats.branches[nd->kind]++;
                    return true;
                }
                /* Every later alternative costs the same deviation. */
                ex->res->stats.pruned_kernel += nd->n - 1 - nd->chosen;
            }
            ex->nnodes--;
            continue;
        }
        EX_CHECK(ex, nd->chosen < nd->n && !ls_has(&nd->done, nd->labels[nd->chosen]),
                 "a thread alternative is explored once");
        ls_add(&nd->done, nd->labels[nd->chosen]);
        add_sleep(ex, k, path_len);
        lset sl = ex_sleep_set(ex, nd);
        for (uint32_t i = 0; i < nd->n; i++) {
            uint32_t l = nd->labels[i];
            if (ls_has(&nd->done, l) || ls_has(&sl, l) || !ex_allowed(ex, nd, i)) continue;
            if (!nd->full && !ls_has(&nd->todo, l)) continue;
            nd->chosen = i;
            nd->bound_mark = ex->res->stats.pruned_bound;
            ls_add(&nd->todo, l);
            ex->res->stats.branches[nd->kind]++;
            return true;
        }
        count_pruned(ex, nd);
        ex->nnodes--;
    }
    return false;
}

/* ---- Results ---- */

/* Default final state: the verdict and the last value written to each
 * atomic word. Words are numbered by first touch, which differs between
 * equivalent runs, so the values are combined order-independently. */
static uint64_t default_state(sim_ctx *sim, const sim_result *r, explorer *ex) {
    uint32_t n = sim_access_count(sim);
    const sim_access *a = sim_accesses(sim);
    uint32_t words = 0;
    for (uint32_t i = 0; i < n; i++)
        if (SIM_ACC_CLASS(a[i].object) == SIM_ACC_SYNC && SIM_ACC_INDEX(a[i].object) + 1 > words)
            words = SIM_ACC_INDEX(a[i].object) + 1;
    if (!ex_grow((void **)&ex->last_val, &ex->cap_last_val, words, sizeof *ex->last_val)) return (uint64_t)r->verdict;
    for (uint32_t w = 0; w < words; w++) ex->last_val[w] = UINT64_MAX;
    for (uint32_t i = 0; i < n; i++)
        if (SIM_ACC_CLASS(a[i].object) == SIM_ACC_SYNC && a[i].write && a[i].event >= SIM_EV_ATOMIC_STORE &&
            a[i].event <= SIM_EV_ATOMIC_ADD)
            ex->last_val[SIM_ACC_INDEX(a[i].object)] = a[i].value;
    uint64_t h = ex_mix64(0x5bd1e995u, (uint64_t)r->verdict), sum = 0;
    for (uint32_t w = 0; w < words; w++)
        if (ex->last_val[w] != UINT64_MAX) sum += ex_mix64(0x27d4eb2fu, ex->last_val[w]);
    return ex_mix64(h, sum);
}

/* Remembers a final-state hash and the run's class, up to max_states each
 * (the classes are a measure only: a full table stops counting them). */
static void note_state(explorer *ex, uint64_t h, const sim_result *r) {
    if (ex->states.n >= ex->o->max_states) {
        ex->states_full = true;
    } else if (ex_hset_add(&ex->states, h) < 0) {
        ex->oom = true;
        return;
    }
    ex->res->stats.distinct_states = ex->states.n;
    uint64_t c;
    if (ex->classes.n >= ex->o->max_states) return;
    if (!ex_class_hash(ex, r, &c) || ex_hset_add(&ex->classes, c) < 0) {
        ex->oom = true;
        return;
    }
    ex->res->stats.classes = ex->classes.n;
}

static char *dup_str(const char *s) {
    size_t n = strlen(s != NULL ? s : "") + 1;
    char *d = malloc(n);
    if (d != NULL) memcpy(d, s != NULL ? s : "", n);
    return d;
}

/* Keeps the first violation; an internal error replaces it (it ends the
 * search, and says the rest of the results cannot be trusted). */
static void keep_violation(explorer *ex, const sim_result *r) {
    explore_violation *v = &ex->res->violation;
    if (v->found && r->verdict != SIM_INTERNAL) return;
    explore_result_free(ex->res);
    v->found = true;
    v->verdict = r->verdict;
    v->property = dup_str(r->property);
    v->message = dup_str(r->message);
    v->ndecisions = r->ndecisions;
    v->decisions = malloc((r->ndecisions ? r->ndecisions : 1) * sizeof *v->decisions);
    if (v->decisions != NULL && r->ndecisions) memcpy(v->decisions, r->decisions, r->ndecisions * sizeof *v->decisions);
    v->preemptions = r->preemptions;
    v->deviations = 0;
    for (uint32_t i = 0; i < r->ndecisions; i++)
        v->deviations += explore_deviation((sim_choice_kind)r->decisions[i].kind, r->decisions[i].index);
    v->bound = ex->bound;
    v->kernel_bound = ex->kbound;
    v->execution = ex->res->stats.executions;
    v->trace_hash = r->trace_hash;
}

/* __FILE__ from the source tree's root (see the engine's sim__internal). */
static const char *tree_path(const char *file) {
    const char *best = file;
    for (const char *p = file; *p != 0; p++)
        if ((*p == '/' || *p == '\\') && (strncmp(p + 1, "search", 6) == 0 || strncmp(p + 1, "sim", 3) == 0))
            best = p + 1;
    return best;
}

void ex_internal(const explorer *cex, const char *what, const char *cond, const char *file, int line) {
    explorer *ex = (explorer *)cex; /* checks read, the report writes */
    if (ex->in_run) sim_report_internal(ex->sim, what, cond, file, line);
    /* Between runs: the schedule is the last run's, the one whose analysis
     * or backtracking broke the invariant. */
    const sim_result *r = ex->last;
    sim_result empty;
    memset(&empty, 0, sizeof empty);
    if (r == NULL) r = &empty;
    size_t len = sim_schedule_format(r->decisions, r->ndecisions, NULL, 0) + 1;
    char *sched = malloc(len);
    if (sched != NULL) sim_schedule_format(r->decisions, r->ndecisions, sched, len);
    const char *fmt = "internal: invariant '%s' failed at %s:%d: %s\n"
                      "  in the explorer, after execution %llu; the last run's schedule: %s\n"
                      "  (a bug in iocpcheck, not in the code under test)\n";
    unsigned long long execs = (unsigned long long)ex->res->stats.executions;
    const char *at = tree_path(file), *sc = sched != NULL ? sched : "?";
    int need = snprintf(NULL, 0, fmt, what, at, line, cond, execs, sc);
    char *msg = malloc(need > 0 ? (size_t)need + 1 : 1);
    if (msg != NULL) snprintf(msg, (size_t)need + 1, fmt, what, at, line, cond, execs, sc);
    free(sched);
    sim_result rep = *r;
    rep.verdict = SIM_INTERNAL;
    rep.property = "internal";
    rep.message = msg != NULL ? msg : "internal: out of memory for the report";
    keep_violation(ex, &rep);
    free(msg);
    ex->res->stats.stopped_by = "internal";
    longjmp(ex->fail_jmp, 1);
}

/* ---- The search ---- */

/* One round at one bound. Returns false when the whole search must stop. */
static bool explore_round(explorer *ex, sim_main_fn main_fn, void *arg) {
    explore_stats *st = &ex->res->stats;
    const explore_options *o = ex->o;
    sim_chooser ch = {ex, "explore", ex_begin, ex_choose, NULL};
    ex->nnodes = 0;
    ex->nents = 0;
    ex->npool = 0;
    for (;;) {
        if (o->max_executions != 0 && st->executions >= o->max_executions) {
            st->stopped_by = "max-executions";
            return false;
        }
        ex->in_run = true;
        const sim_result *r = sim_run(ex->sim, &ch, main_fn, arg);
        ex->in_run = false;
        ex->last = r;
        if (r->verdict == SIM_INTERNAL) { /* the engine's or the chooser's invariant: stop whatever the options */
            keep_violation(ex, r);
            st->stopped_by = "internal";
            return false;
        }
        if (ex->oom) {
            st->stopped_by = "memory";
            return false;
        }
        if (ex->diverged || (ex->cut == NULL && r->verdict == SIM_NONDETERMINISM)) {
            keep_violation(ex, r);
            st->stopped_by = "nondeterminism";
            return false;
        }
        /* Every decision of the run went through the chooser: the path is the
         * run's schedule, unless the program ended inside the replayed prefix. */
        EX_CHECK(ex, r->ndecisions <= ex->nnodes, "every decision of a run is a node of the path");
        if (r->ndecisions < ex->nnodes && ex->cut == NULL) {
            sim_result nd = *r;
            nd.verdict = SIM_NONDETERMINISM;
            nd.property = "nondeterminism";
            nd.message = "nondeterminism: replaying the explored prefix, the program ended before its last decision";
            keep_violation(ex, &nd);
            st->stopped_by = "nondeterminism";
            return false;
        }
        EX_CHECK(ex, r->ndecisions == 0 || r->decisions[r->ndecisions - 1].index == ex->nodes[r->ndecisions - 1].chosen,
                 "the engine recorded what the explorer chose");
        /* A truncated log leaves the reduction blind, but a failing run is
         * a real execution all the same: report it below before stopping. */
        bool truncated = sim_access_truncated(ex->sim) && (ex->por != EXPLORE_POR_NONE || o->state_hash == NULL);
        if (truncated && (ex->cut != NULL || r->verdict == SIM_PASS)) {
            st->stopped_by = "max-accesses";
            return false;
        }
        /* A run longer than shard_depth was checked when it got there. */
        bool counted = ex->cut == NULL && (o->shard_count <= 1 || ex->nnodes > o->shard_depth ||
                                           shard_mine(ex, ex->nnodes));
        if (ex->cut != NULL && strcmp(ex->cut, "max-depth") == 0) ex->depth_cut = true;
        if (counted) {
            st->executions++;
            if (r->ndecisions > st->max_depth) st->max_depth = r->ndecisions;
            note_state(ex, o->state_hash != NULL ? o->state_hash(o->state_user, ex->sim, r) : default_state(ex->sim, r, ex),
                       r);
            if (o->on_execution != NULL) o->on_execution(o->exec_user, ex->sim, r);
            if (r->verdict != SIM_PASS) {
                keep_violation(ex, r);
                if (o->stop_on_violation) {
                    st->stopped_by = "violation";
                    return false;
                }
            }
        } else {
            st->partial++;
        }
        if (truncated) {
            st->stopped_by = "max-accesses";
            return false;
        }
        if (ex->por == EXPLORE_POR_DPOR && (!ex_analyze(ex) || !note_observations(ex))) {
            st->stopped_by = "memory";
            return false;
        }
        if (o->keep_going != NULL && !o->keep_going(o->keep_user, st)) {
            st->stopped_by = "keep-going";
            return false;
        }
        if (!backtrack(ex)) break;
    }
    if (ex->depth_cut) {
        st->stopped_by = "max-depth";
        return false;
    }
    return true;
}

/* One round at (k, d); *cut_k says whether the preemption bound cut
 * anything. Returns false when the whole search must stop. */
static bool explore_bounds(explorer *ex, sim_main_fn main_fn, void *arg, int32_t k, int32_t d, bool *cut_k) {
    explore_stats *st = &ex->res->stats;
    ex->bound = k;
    ex->kbound = d;
    st->bound = k;
    st->kernel_bound = d;
    st->rounds++;
    uint64_t pb = st->pruned_bound;
    bool go = explore_round(ex, main_fn, arg);
    if (cut_k != NULL) *cut_k = st->pruned_bound != pb;
    return go;
}

/* Iterative deepening on K alone, every kernel choice in full (the
 * behaviour before the kernel bound). */
static bool deepen_k(explorer *ex, sim_main_fn main_fn, void *arg, const explore_options *o) {
    for (int32_t k = 0;; k++) {
        bool cut_k;
        int32_t kk = o->preemption_bound >= 0 && k > o->preemption_bound ? o->preemption_bound : k;
        if (!explore_bounds(ex, main_fn, arg, kk, -1, &cut_k)) return false;
        if (ex->res->violation.found) return true; /* the smallest bound with a violation */
        if (kk == o->preemption_bound || (o->preemption_bound < 0 && !cut_k)) return true;
    }
}

/* Iterative deepening on (k, d) by diagonals k + d = s, d first within one
 * (a kernel deviation is cheaper to try than a preemption: no run is cut),
 * up to (K, D). Every round repeats the smaller ones (the search is
 * stateless), so the total is at most (rounds) x the last round. With K
 * unbounded, the rounds at d = D go on until K no longer cuts. */
static bool deepen_kd(explorer *ex, sim_main_fn main_fn, void *arg, const explore_options *o) {
    int32_t K = o->preemption_bound, D = o->kernel_bound;
    for (int32_t s = 0;; s++) {
        for (int32_t d = s < D ? s : D; d >= 0; d--) {
            int32_t k = s - d;
            if (K >= 0 && k > K) break;
            bool cut_k;
            if (!explore_bounds(ex, main_fn, arg, k, d, &cut_k)) return false;
            if (ex->res->violation.found) return true;
            if (d == D && (k == K || (K < 0 && !cut_k))) return true; /* the last round: (K, D) covered */
        }
    }
}

/* The rounds of the search. A broken invariant between runs (ex_internal)
 * comes back here by longjmp; a function of its own, so that no local of
 * explore_run lives across the setjmp. */
static bool search(explorer *ex, sim_main_fn main_fn, void *arg) {
    if (setjmp(ex->fail_jmp) != 0) return false;
    const explore_options *o = ex->o;
    if (!o->iterative) return explore_bounds(ex, main_fn, arg, o->preemption_bound, o->kernel_bound, NULL);
    if (o->kernel_bound < 0) return deepen_k(ex, main_fn, arg, o);
    if (o->last_round_first && o->preemption_bound >= 0) {
        /* Every round's space is inside the last one's: no violation there
         * means none in any round, and (K, D) is covered. */
        bool go = explore_bounds(ex, main_fn, arg, o->preemption_bound, o->kernel_bound, NULL);
        const char *why = ex->res->stats.stopped_by;
        if (!ex->res->violation.found || ex->res->violation.verdict == SIM_INTERNAL ||
            (!go && (why == NULL || strcmp(why, "violation") != 0)))
            return go;
        /* A violation: the rounds from (0, 0) find the smallest one. */
        explore_result_free(ex->res);
        ex->res->stats.stopped_by = NULL;
    }
    return deepen_kd(ex, main_fn, arg, o);
}

bool explore_run(sim_ctx *sim, sim_main_fn main_fn, void *arg, const explore_options *opt, explore_result *out) {
    explore_options o = *opt;
    if (o.max_depth == 0) o.max_depth = EX_DEFAULT_MAX_DEPTH;
    if (o.max_accesses == 0) o.max_accesses = EX_DEFAULT_MAX_ACCESSES;
    if (o.max_states == 0) o.max_states = EX_DEFAULT_MAX_STATES;
    if (o.shard_count == 0) o.shard_count = 1;
    memset(out, 0, sizeof *out);
    explorer ex;
    memset(&ex, 0, sizeof ex);
    ex.sim = sim;
    ex.o = &o;
    ex.por = o.por;
    ex.res = out;
    sim_access_log(sim, o.max_accesses);
    bool go = search(&ex, main_fn, arg);
    out->stats.complete = go && out->stats.stopped_by == NULL;
    if (ex.states_full && out->stats.complete) {
        out->stats.complete = false;
        out->stats.stopped_by = "max-states";
    }
    sim_access_log(sim, 0);
    free(ex.nodes);
    free(ex.ents);
    free(ex.pool);
    ex_hset_free(&ex.states);
    ex_hset_free(&ex.classes);
    free(ex.cls_obj);
    free(ex.cls_stamp);
    free(ex.cls_last);
    free(ex.cls_eff);
    free(ex.cls_exc);
    free(ex.cls_seen);
    free(ex.cls_attr);
    free(ex.last_val);
    free(ex.eff_node);
    ex_analysis_free(&ex);
    return !ex.oom;
}

void explore_result_free(explore_result *r) {
    free(r->violation.property);
    free(r->violation.message);
    free(r->violation.decisions);
    memset(&r->violation, 0, sizeof r->violation);
}
