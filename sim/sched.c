/* sched.c - virtual threads and the run loop.
 *
 * Exactly one virtual thread runs at a time. Control passes only at
 * scheduling points (sim__sched_point, before every seam call) and when a
 * thread blocks or ends; the next thread is picked through the decision
 * stream, and the switch goes directly from thread to thread (the main
 * fiber is only resumed when the execution ends), so a step that keeps the
 * same thread costs no switch at all.
 *
 * An execution ends when every thread is done (pass), when every thread is
 * blocked and no timer is pending (deadlock), at the step limit (livelock),
 * on a harness failure, a replay divergence, a resource limit, or a stack
 * overflow caught by the guard page.
 */
#define _GNU_SOURCE
#if !defined(_WIN32)
#include <signal.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* The simulator that is running on this OS thread, for the SIGSEGV handler
 * only: a signal handler gets no argument to find it by. Never used for any
 * decision. */
static _Thread_local sim_ctx *sim__active;

#if defined(__SANITIZE_ADDRESS__)
#define SIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_ASAN 1
#endif
#endif
#ifndef SIM_ASAN
#define SIM_ASAN 0
#endif

void sim_config_default(sim_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->max_threads = SIM_MAX_THREADS;
    cfg->max_steps = 2000000;
    cfg->max_decisions = 1000000;
    cfg->max_objects = 4096;
    cfg->stack_size = SIM_ASAN ? 1024 * 1024 : 256 * 1024;
    cfg->record_trace = true;
    cfg->max_trace_events = 1u << 20;
    cfg->tick_ns = 15625000; /* 64 Hz, iocp-facts.md §3 */
    cfg->wait_packets = SIM_WAITPKT_PRESENT;
    cfg->time_jumps = true;
    cfg->max_time_jumps = 2;
    cfg->max_jump_ns = 1000000;
    cfg->sock_buffer = 2621440;
    cfg->recv_window = 2875392;
}

const char *sim_verdict_name(sim_verdict v) {
    switch (v) {
    case SIM_PASS: return "pass";
    case SIM_FAIL: return "fail";
    case SIM_DEADLOCK: return "deadlock";
    case SIM_LIVELOCK: return "livelock";
    case SIM_STACK_OVERFLOW: return "stack-overflow";
    case SIM_NONDETERMINISM: return "nondeterminism";
    case SIM_LIMIT: return "limit";
    case SIM_USAGE: return "usage";
    case SIM_CRASH: return "crash";
    case SIM_INTERNAL: return "internal";
    }
    return "?";
}

/* ---- Switching ---- */

static void switch_to(sim_ctx *s, uint32_t next, bool final) {
    uint32_t prev = s->current;
    /* The runnable set holds only existing threads (pick checks it). */
    SIM_CHECK(s, (s->runnable >> next) & 1, "the thread switched to is runnable");
    if (next == prev) return;
    s->current = next;
    if (final)
        sim_fiber_switch_final(&s->threads[prev].fiber, &s->threads[next].fiber);
    else
        sim_fiber_switch(&s->threads[prev].fiber, &s->threads[next].fiber);
}

static inline uint32_t kernel_pending(sim_ctx *s) { return s->kernel != NULL ? s->kernel->pending(s) : 0; }

/* One kernel action: which one is an 'e' choice when several are enabled. */
static void kernel_step(sim_ctx *s, uint32_t acts) {
    if (++s->steps > s->cfg.max_steps) {
        sim__end(s, SIM_LIVELOCK, NULL,
                 sim_arena_printf(&s->arena, "livelock: step limit %llu reached\n%s",
                                  (unsigned long long)s->cfg.max_steps, sim__describe_threads(s)));
    }
    SIM_CHECK(s, acts > 0, "the kernel acts only when it has an action");
    uint32_t which = acts > 1 ? sim__choose(s, SIM_CHOICE_EVENT, acts, NULL, SIM_NO_CURRENT) : 0;
    s->in_kernel = true;
    sim__access_begin(s);
    s->kernel->fire(s, which);
    s->in_kernel = false;
}

/* With time jumps on, the running thread may find at its scheduling point
 * that time has passed to the earliest pending deadline (a 'j' choice): a
 * real machine may preempt it between any two calls, or start it late. The
 * budget and the size bound keep executions short and the delay within what
 * a preemption costs (the models allow it as lateness); otherwise the clock
 * moves only when nothing can run. */
static void time_jump(sim_ctx *s) {
    /* No timer at all (most steps of most scenarios): nothing to jump to. */
    if (!s->cfg.time_jumps || s->jumps >= s->cfg.max_time_jumps || s->ntimers == 0) return;
    int64_t next = sim__clock_next(s);
    if (next < 0 || next - s->now_ns > s->cfg.max_jump_ns) return;
    if (sim__choose(s, SIM_CHOICE_JUMP, 2, NULL, SIM_NO_CURRENT) == 0) return;
    s->jumps++;
    sim__clock_advance(s);
}

/* Picks the next thread to run among the runnable ones, letting the kernel
 * act first as often as the schedule says. `current` is the running thread
 * if it may go on (choosing anything else is then a preemption). Returns
 * SIM_NO_CURRENT when no thread can run and the kernel has nothing to do. */
static uint32_t pick(sim_ctx *s, uint32_t current) {
    for (;;) {
        uint64_t m = s->runnable;
        SIM_CHECK(s, (m >> 1 >> (s->nthreads - 1)) == 0, "the runnable set holds only existing threads");
        uint32_t acts = kernel_pending(s);
        if (acts == 0) {
            if (m == 0) return SIM_NO_CURRENT;
            if ((m & (m - 1)) == 0) return sim__ctz64(m);
        }
        /* The runnable set changes at blocks and wakes, far less often than
         * it is offered: its labels are kept until it changes. */
        uint32_t *labels = s->pick_labels;
        if (m != s->pick_mask) {
            uint32_t k = 0;
            for (uint64_t r = m; r != 0; r &= r - 1) {
                s->pick_index[sim__ctz64(r)] = (uint8_t)k;
                labels[k++] = sim__ctz64(r);
            }
            s->pick_mask = m;
            s->pick_n = k;
        }
        uint32_t n = s->pick_n;
        /* The running thread's index among the runnable ones. */
        uint32_t cur = current < SIM_MAX_THREADS && ((m >> current) & 1) ? s->pick_index[current] : SIM_NO_CURRENT;
        if (acts > 0) labels[n++] = SIM_KERNEL;
        uint32_t chosen = n == 1 ? labels[0] : labels[sim__choose(s, SIM_CHOICE_THREAD, n, labels, cur)];
        if (chosen != SIM_KERNEL) return chosen;
        kernel_step(s, acts);
    }
}

void sim__end(sim_ctx *s, sim_verdict v, const char *property, const char *message) {
    s->ended = true;
    s->in_kernel = false;
    s->result.verdict = v;
    s->result.property = property != NULL ? property : sim_verdict_name(v);
    s->result.message = message != NULL ? message : "";
    /* On the main stack (a choice or a check before the first thread runs,
     * or in the end-of-run monitors) there is no fiber to leave: go back to
     * the phase of sim_run that was running. */
    if (!s->in_thread) longjmp(s->end_jmp, 1);
    sim_fiber_switch_final(&s->threads[s->current].fiber, &s->main_fiber);
    abort(); /* unreachable: an ended execution is never resumed */
}

/* __FILE__ from the source tree's root (the build may pass absolute paths,
 * which differ between checkouts and would make reports differ). */
static const char *tree_path(const char *file) {
    const char *best = file;
    for (const char *p = file; *p != 0; p++)
        if ((*p == '/' || *p == '\\') && (strncmp(p + 1, "sim", 3) == 0 || strncmp(p + 1, "search", 6) == 0))
            best = p + 1;
    return best;
}

void sim__internal(sim_ctx *s, const char *what, const char *cond, const char *file, int line) {
    if (s->ended && s->result.verdict == SIM_INTERNAL) sim__end(s, SIM_INTERNAL, "internal", s->result.message);
    s->in_kernel = false;
    size_t len = sim_schedule_format(s->decisions, s->ndecisions, NULL, 0) + 1;
    char *sched = sim_arena_alloc(&s->arena, len);
    sim_schedule_format(s->decisions, s->ndecisions, sched, len);
    uint32_t t = s->current;
    const char *who = t < s->nthreads ? sim_arena_printf(&s->arena, "T%u '%s'", t, s->threads[t].name) : "no thread";
    const char *msg = sim_arena_printf(&s->arena,
                                       "internal: invariant '%s' failed at %s:%d: %s\n"
                                       "  at step %llu, decision %u, in %s%s\n"
                                       "  schedule: %s\n"
                                       "  (a bug in iocpcheck, not in the code under test)\n",
                                       what, tree_path(file), line, cond, (unsigned long long)s->steps,
                                       s->ndecisions, who, s->in_thread ? "" : " (main stack)", sched);
    sim__end(s, SIM_INTERNAL, "internal", msg);
}

void sim_report_internal(sim_ctx *s, const char *what, const char *cond, const char *file, int line) {
    sim__internal(s, what, cond, file, line);
}

/* Runs the next runnable thread; the current one has blocked or finished.
 * Time moves only here, when neither a thread nor the kernel can act. */
static void run_next(sim_ctx *s, bool final) {
    for (;;) {
        if (s->live == 0) sim__end(s, SIM_PASS, NULL, NULL);
        uint32_t next = pick(s, SIM_NO_CURRENT);
        if (next != SIM_NO_CURRENT) {
            switch_to(s, next, final);
            return;
        }
        if (!sim__clock_advance(s)) {
            SIM_CHECK(s, s->runnable == 0 && s->live > 0, "a deadlock leaves unfinished threads, none runnable");
            sim__end(s, SIM_DEADLOCK, NULL,
                     sim_arena_printf(&s->arena, "deadlock: every thread is blocked and no timer is pending\n%s",
                                      sim__describe_threads(s)));
        }
    }
}

void sim__sched_point(sim_ctx *s) {
    /* Kernel actions run with no scheduling point inside (sim_internal.h). */
    SIM_CHECK(s, s->in_thread && !s->in_kernel, "a scheduling point is taken by a virtual thread");
    if (++s->steps > s->cfg.max_steps) {
        sim__end(s, SIM_LIVELOCK, NULL,
                 sim_arena_printf(&s->arena, "livelock: step limit %llu reached\n%s",
                                  (unsigned long long)s->cfg.max_steps, sim__describe_threads(s)));
    }
    time_jump(s);
    uint64_t m = s->runnable;
    SIM_CHECK(s, (m >> s->current) & 1, "the running thread is runnable");
    if ((m & (m - 1)) != 0 || kernel_pending(s) != 0) switch_to(s, pick(s, s->current), false);
    sim__access_begin(s); /* the seam call's own accesses start here */
}

void sim__block(sim_ctx *s, sim_wait_kind kind, uint32_t obj, int64_t deadline_ns) {
    sim_thread *t = &s->threads[s->current];
    SIM_CHECK(s, t->state == SIM_T_RUNNABLE && kind != SIM_WAIT_NONE && !s->in_kernel,
              "a running thread blocks on something, never a kernel action");
    t->state = SIM_T_BLOCKED;
    t->wait_kind = kind;
    t->wait_obj = obj;
    t->deadline_ns = deadline_ns;
    t->wait_gen++;
    t->timed_out = false;
    s->runnable &= ~(1ull << t->id);
    if (deadline_ns >= 0) sim__timer_add(s, t->id, deadline_ns);
    run_next(s, false);
    sim__access_begin(s); /* resumed: a new step of this thread */
    SIM_CHECK(s, t->state == SIM_T_RUNNABLE, "a blocked thread resumes only once woken");
}

void sim__wake(sim_ctx *s, uint32_t thread) {
    SIM_CHECK(s, thread < s->nthreads, "a woken thread exists");
    sim_thread *t = &s->threads[thread];
    if (t->state != SIM_T_BLOCKED) return;
    SIM_CHECK(s, ((s->runnable >> thread) & 1) == 0, "a blocked thread is not in the runnable set");
    t->state = SIM_T_RUNNABLE;
    t->wait_kind = SIM_WAIT_NONE;
    s->runnable |= 1ull << thread;
}

void sim__wake_mask(sim_ctx *s, uint64_t mask) {
    SIM_CHECK(s, s->nthreads > 0 && (mask >> 1 >> (s->nthreads - 1)) == 0, "a waiter set holds only threads");
    while (mask != 0) {
        sim__wake(s, sim__ctz64(mask));
        mask &= mask - 1;
    }
}

/* ---- Thread lifetime ---- */

#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn))
#endif
static void thread_exit(sim_ctx *s) {
    sim_thread *t = &s->threads[s->current];
    sim__event(s, SIM_EV_THREAD_END, t->id, 0, 0, 0);
    SIM_CHECK(s, t->state == SIM_T_RUNNABLE && s->live > 0, "only a running thread ends");
    t->state = SIM_T_DONE;
    s->runnable &= ~(1ull << t->id);
    s->live--;
    /* Joiners are found by scanning ids in order: deterministic. */
    for (uint32_t i = 0; i < s->nthreads; i++) {
        sim_thread *w = &s->threads[i];
        if (w->state == SIM_T_BLOCKED && w->wait_kind == SIM_WAIT_JOIN && w->wait_obj == t->id) sim__wake(s, i);
    }
    run_next(s, true);
    abort(); /* unreachable: a finished thread is never resumed */
}

static void thread_entry(void *arg) {
    sim_ctx *s = arg;
    sim_thread *t = &s->threads[s->current];
    sim__event(s, SIM_EV_THREAD_START, t->id, 0, 0, 0);
    if (t->id == 0)
        s->main_fn(s, &s->shim, s->main_arg);
    else
        t->fn(t->arg);
    thread_exit(s);
}

uint32_t sim__spawn(sim_ctx *s, shim_thread_fn fn, void *arg, const char *name) {
    if (s->nthreads >= s->cfg.max_threads) {
        sim__end(s, SIM_LIMIT, "thread-limit",
                 sim_arena_printf(&s->arena, "limit: more than %u threads (max_threads)", s->cfg.max_threads));
    }
    uint32_t id = s->nthreads;
    SIM_CHECK(s, id < SIM_MAX_THREADS && ((s->runnable >> id) & 1) == 0, "a new thread id is unused");
    if (id >= s->nstacks) {
        if (!sim_stack_alloc(&s->stacks[id], s->cfg.stack_size)) {
            sim__end(s, SIM_LIMIT, "stack-limit",
                     sim_arena_printf(&s->arena, "limit: cannot map a %zu-byte stack for thread %u",
                                      s->cfg.stack_size, id));
        }
        s->nstacks = id + 1;
    }
    s->nthreads++;
    sim_thread *t = &s->threads[id];
    sim_fiber fiber = t->fiber; /* keep the fiber's retained allocation */
    memset(t, 0, sizeof *t);
    t->fiber = fiber;
    t->id = id;
    t->state = SIM_T_RUNNABLE;
    t->deadline_ns = -1;
    t->fn = fn;
    t->arg = arg;
    size_t len = strlen(name != NULL ? name : "") + 1;
    char *copy = sim_arena_alloc(&s->arena, len);
    memcpy(copy, name != NULL ? name : "", len);
    t->name = copy;
    sim_fiber_make(&t->fiber, &s->stacks[id], thread_entry, s);
    s->runnable |= 1ull << id;
    s->live++;
    SIM_CHECK(s, s->live <= s->nthreads, "live threads are threads");
    return id;
}

/* ---- Reports ---- */

const char *sim__describe_threads(sim_ctx *s) {
    char *out = sim_arena_printf(&s->arena, "%s", "");
    for (uint32_t i = 0; i < s->nthreads; i++) {
        sim_thread *t = &s->threads[i];
        if (t->state == SIM_T_DONE) continue;
        char obj[32];
        const char *what;
        sim_wait_kind wk = t->state == SIM_T_BLOCKED ? t->wait_kind : SIM_WAIT_NONE;
        /* The report indexes the object waited for. */
        SIM_CHECK(s, (wk != SIM_WAIT_MUTEX && wk != SIM_WAIT_SEMA) || t->wait_obj < s->nobjs,
                  "a thread waits for an object that exists");
        SIM_CHECK(s, wk != SIM_WAIT_JOIN || t->wait_obj < s->nthreads, "a thread joins a thread that exists");
        switch (wk >= SIM_WAIT_KERNEL ? SIM_WAIT_KERNEL : wk) {
        case SIM_WAIT_MUTEX: {
            const sim_obj *o = &s->objs[t->wait_obj];
            what = o->owner != 0
                       ? sim_arena_printf(&s->arena, "waits for mutex %s, held by T%u '%s'",
                                          sim__obj_name(s, t->wait_obj, obj, sizeof obj), o->owner - 1,
                                          s->threads[o->owner - 1].name)
                       : sim_arena_printf(&s->arena, "waits for mutex %s (free)",
                                          sim__obj_name(s, t->wait_obj, obj, sizeof obj));
            break;
        }
        case SIM_WAIT_SEMA:
            what = sim_arena_printf(&s->arena, "waits on semaphore %s (count %u)",
                                    sim__obj_name(s, t->wait_obj, obj, sizeof obj), s->objs[t->wait_obj].count);
            break;
        case SIM_WAIT_JOIN:
            what = sim_arena_printf(&s->arena, "joins T%u '%s'", t->wait_obj, s->threads[t->wait_obj].name);
            break;
        case SIM_WAIT_SLEEP: what = "sleeps"; break;
        case SIM_WAIT_NONE: what = "is runnable"; break;
        default: /* SIM_WAIT_KERNEL and above: the port or a socket */
            what = s->kernel != NULL ? s->kernel->describe_wait(s, t) : "waits";
            break;
        }
        const char *until = (t->state == SIM_T_BLOCKED && t->deadline_ns >= 0)
                                ? sim_arena_printf(&s->arena, " until %lld ns", (long long)t->deadline_ns)
                                : "";
        out = sim_arena_printf(&s->arena, "%s  T%u '%s' %s%s\n", out, t->id, t->name, what, until);
    }
    return out;
}

/* ---- Stack overflow ---- */

#if !SIM_ASAN && !defined(_WIN32) /* Windows: an overflow kills the process (fiber_win32.c) */
static void on_fault(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    sim_ctx *s = sim__active;
    if (s != NULL && !s->ended && s->current < s->nstacks) {
        /* A fault while a virtual thread runs is a finding of the code under
         * test (a wild pointer, a dereferenced foreign OVERLAPPED): end the
         * execution with a replayable report instead of dying. */
        s->ended = true;
        s->crash_signal = sig;
        s->result.verdict = sim_stack_guard_hit(&s->stacks[s->current], si->si_addr) ? SIM_STACK_OVERFLOW : SIM_CRASH;
        siglongjmp(s->overflow_jmp, 1);
    }
    /* Not inside an execution: fall back to the default action. */
    signal(sig, SIG_DFL);
}

/* The signal stack installed on this OS thread (sigaltstack is per thread),
 * so a run installs the handler only when another simulator (or nobody)
 * did: six system calls per execution were 7% of a small scenario's time. */
static _Thread_local void *fault_altstack;

static void install_fault_handler(sim_ctx *s) {
    if (fault_altstack == s->altstack) {
        if (s->trust_fault_handler) return; /* the driver installs none between runs */
        /* Still ours unless someone replaced it since (one call, not six). */
        struct sigaction cur;
        if (sigaction(SIGSEGV, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_fault) return;
    }
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = s->altstack;
    ss.ss_size = 64 * 1024;
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    /* NODEFER: siglongjmp out of the handler without restoring a mask. */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    fault_altstack = s->altstack;
}

/* A destroyed simulator's signal stack must not stay installed. */
static void uninstall_fault_stack(sim_ctx *s) {
    if (s->altstack == NULL || fault_altstack != s->altstack) return;
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
    fault_altstack = NULL;
}
#endif

/* ---- Create, run, destroy ---- */

sim_ctx *sim_create(const sim_config *cfg) {
    sim_ctx *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    if (cfg != NULL)
        s->cfg = *cfg;
    else
        sim_config_default(&s->cfg);
    if (s->cfg.max_threads == 0 || s->cfg.max_threads > SIM_MAX_THREADS) s->cfg.max_threads = SIM_MAX_THREADS;
    if (s->cfg.max_objects == 0) s->cfg.max_objects = 4096;
    if (s->cfg.max_objects > SIM_MAX_OBJECTS) s->cfg.max_objects = SIM_MAX_OBJECTS;
    if (s->cfg.stack_size < 16 * 1024) s->cfg.stack_size = 16 * 1024;
    sim_arena_init(&s->arena);
    sim__events_update(s);
    s->objs = calloc(s->cfg.max_objects, sizeof *s->objs);
    s->addr_cap = 1;
    while (s->addr_cap < 2 * s->cfg.max_objects) s->addr_cap <<= 1;
    s->addrs = calloc(s->addr_cap, sizeof *s->addrs);
    s->timer_cap = 4 * SIM_MAX_THREADS;
    s->timers = calloc(s->timer_cap, sizeof *s->timers);
    s->altstack = malloc(64 * 1024);
    if (s->objs == NULL || s->addrs == NULL || s->timers == NULL || s->altstack == NULL) {
        sim_destroy(s);
        return NULL;
    }
    sim_fiber_init_main(&s->main_fiber);
    sim__fill_shim(s);
    return s;
}

void sim_destroy(sim_ctx *s) {
    if (s == NULL) return;
    /* The kernel keeps retained buffers (port rings, socket buffers) of its own. */
    if (s->kernel != NULL && s->kernel->destroy != NULL) s->kernel->destroy(s);
    for (uint32_t i = 0; i < SIM_MAX_THREADS; i++) sim_fiber_destroy(&s->threads[i].fiber);
    for (uint32_t i = 0; i < s->nstacks; i++) sim_stack_free(&s->stacks[i]);
    sim_fiber_destroy(&s->main_fiber);
    sim_arena_free(&s->arena);
    free(s->objs);
    free(s->addrs);
    free(s->timers);
    free(s->decisions);
    free(s->events);
    free(s->accs);
#if !SIM_ASAN && !defined(_WIN32)
    uninstall_fault_stack(s);
#endif
    free(s->altstack);
    free(s);
}

const sim_config *sim_get_config(const sim_ctx *s) { return &s->cfg; }
const shim *sim_shim(sim_ctx *s) { return &s->shim; }

const shim_harness *sim_harness(sim_ctx *s) { return &s->harness; }

const shim_harness *sim_harness_of(const shim *sh) {
    if (sh == NULL || sh->name == NULL || strcmp(sh->name, "sim") != 0) return NULL;
    sim_ctx *s = sh->ctx;
    return &s->shim == sh ? &s->harness : NULL;
}
const sim_stats *sim_get_stats(const sim_ctx *s) { return &s->stats; }
void sim_reset_stats(sim_ctx *s) { memset(&s->stats, 0, sizeof s->stats); }
uint32_t sim_current_thread(const sim_ctx *s) { return s->current; }
uint32_t sim_acting_thread(const sim_ctx *s) { return s->in_kernel ? SIM_KERNEL_LABEL : s->current; }
int64_t sim_now_ns(const sim_ctx *s) { return s->now_ns; }

static void reset_execution(sim_ctx *s) {
    sim_arena_reset(&s->arena);
    s->exec++;
    s->nthreads = 0;
    s->runnable = 0;
    s->live = 0;
    s->current = 0;
    s->steps = 0;
    s->jumps = 0;
    s->now_ns = 0;
    s->ntimers = 0;
    s->timer_seq = 0;
    s->nobjs = 0;
    s->sync_undestroyed = 0;
    s->pick_mask = 0;
    s->pick_n = 0;
    memset(s->ord, 0, sizeof s->ord);
    s->ndecisions = 0;
    s->preemptions = 0;
    s->ended = false;
    s->ended_on_purpose = false;
    s->in_kernel = false;
    s->in_thread = false;
    s->divergence = NULL;
    memset(&s->result, 0, sizeof s->result);
    sim__trace_reset(s);
}

/* After a pass only: an execution cut short leaves its objects behind by
 * necessity. The kernel's finish has listed its handles already. */
static void check_leaks(sim_ctx *s) {
    const char *handles = s->result.leaks != NULL ? s->result.leaks : "";
    s->result.leaks = "";
    if (s->result.verdict != SIM_PASS || s->ended_on_purpose) {
        s->result.leaked_handles = 0;
        return;
    }
    uint32_t nobj = 0, nh = s->result.leaked_handles;
    const char *objs = sim__sync_leaks(s, &nobj);
    s->result.leaked_objects = nobj;
    if (nobj == 0 && nh == 0) return;
    s->result.leaks = sim_arena_printf(&s->arena, "%s%s", objs, handles);
    if (s->cfg.allow_leaks) return;
    const char *msg = s->result.message != NULL ? s->result.message : "";
    s->result.verdict = SIM_FAIL;
    s->result.property = "no-leak";
    s->result.message = sim_arena_printf(&s->arena,
                                         "leak: at the end, %u primitive(s) never destroyed and %u handle(s) never "
                                         "closed\n%s%s%s",
                                         nobj, nh, s->result.leaks, msg, (*msg && msg[strlen(msg) - 1] != '\n') ? "\n" : "");
}

/* The start of a run, then its threads until the execution ends. */
static void run_threads(sim_ctx *s) {
    if (s->chooser->begin != NULL) s->chooser->begin(s->chooser->self, s);
    if (s->kernel != NULL) s->kernel->reset(s);
    sim__spawn(s, NULL, NULL, "main");
    s->current = 0;
    SIM_CHECK(s, s->nthreads == 1 && s->runnable == 1 && s->live == 1, "an execution starts with main alone");
    sim__active = s;
#if !SIM_ASAN && !defined(_WIN32) /* Windows: an overflow kills the process (fiber_win32.c) */
    install_fault_handler(s);
    if (sigsetjmp(s->overflow_jmp, 0) != 0) {
        /* Back from the fault handler: the faulting thread is abandoned. */
        s->in_thread = false;
        sim_thread *t = &s->threads[s->current];
        if (s->result.verdict == SIM_STACK_OVERFLOW) {
            s->result.property = "stack-overflow";
            s->result.message = sim_arena_printf(
                &s->arena, "stack overflow: T%u '%s' ran past its %zu-byte stack into the guard page\n%s", t->id,
                t->name, s->cfg.stack_size, sim__describe_threads(s));
        } else {
            const char *what = s->crash_signal == SIGSEGV   ? "SIGSEGV (invalid memory access)"
                               : s->crash_signal == SIGBUS  ? "SIGBUS (invalid memory access)"
                               : s->crash_signal == SIGFPE  ? "SIGFPE (arithmetic fault)"
                                                            : "SIGILL (illegal instruction)";
            s->result.property = "crash";
            s->result.message = sim_arena_printf(&s->arena, "crash: T%u '%s' faulted with %s\n%s", t->id, t->name,
                                                 what, sim__describe_threads(s));
        }
    } else
#endif
    {
        s->in_thread = true;
        sim_fiber_switch(&s->main_fiber, &s->threads[0].fiber);
        s->in_thread = false;
    }
}

/* The end-of-run monitors. A broken invariant found before them leaves the
 * kernel's state suspect: they are skipped. */
static void run_monitors(sim_ctx *s) {
    if (s->result.verdict == SIM_INTERNAL) return;
    if (s->kernel != NULL) s->kernel->finish(s);
    if (s->result.verdict == SIM_PASS) {
        SIM_CHECK(s, s->ended_on_purpose || (s->live == 0 && s->runnable == 0),
                  "a passed execution leaves no thread behind");
        if (s->chooser->end != NULL) s->chooser->end(s->chooser->self, s);
    }
}

/* Runs one phase on the main stack; sim__end there (a limit, a check, a
 * divergence on the main stack) comes back here by longjmp. A function of
 * its own, so no local of sim_run lives across the setjmp. */
static void run_phase(sim_ctx *s, void (*phase)(sim_ctx *)) {
    if (setjmp(s->end_jmp) == 0) phase(s);
    s->in_thread = false;
    s->in_kernel = false;
}

const sim_result *sim_run(sim_ctx *s, sim_chooser *chooser, sim_main_fn main_fn, void *arg) {
    reset_execution(s);
    s->chooser = chooser;
    s->main_fn = main_fn;
    s->main_arg = arg;
    run_phase(s, run_threads);
    sim__active = NULL;
    run_phase(s, run_monitors);
    if (s->divergence != NULL && s->result.verdict != SIM_NONDETERMINISM && s->result.verdict != SIM_INTERNAL) {
        s->result.verdict = SIM_NONDETERMINISM;
        s->result.property = "nondeterminism";
        s->result.message = s->divergence;
        s->result.divergence_at = s->ndecisions;
    }
    run_phase(s, check_leaks); /* on the main stack too: a check there comes back here */
    s->result.steps = s->steps;
    s->result.virtual_ns = s->now_ns;
    s->result.trace_hash = s->hash;
    s->result.decisions = s->decisions;
    s->result.ndecisions = s->ndecisions;
    s->result.preemptions = s->preemptions;
    s->result.threads = s->nthreads;
    s->stats.executions++;
    s->stats.steps += s->steps;
    return &s->result;
}
