/* scn_exec.c - runs one execution of a scenario on a shim (both backends).
 *
 * Order of an execution:
 *   1. per-execution state from hooks->alloc; the poller on the given shim
 *      (its fatal hook emits MEV_FATAL and reports "no-fatal");
 *   2. a socket pair per socket; np_fd_open of each non-deferred one;
 *   3. one shim thread per scenario thread, spawned in file order;
 *   4. join the threads that do not run the poller loop, check the
 *      top-level expectations, then stop the loop (np_stop) and join it;
 *   5. MEV_QUIESCENT with netpollWaiters, the foreign operations' decoys,
 *      and the teardown: close and free every descriptor, close every peer,
 *      destroy the poller, and check it freed all it allocated (no-leak; the
 *      simulator checks primitives and handles itself).
 * Nothing here allocates with malloc, parses or formats on the success path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn_exec_int.h"

static void fatal_hook(void *arg, const char *msg) {
    scn_exec_st *x = arg;
    model_emit_text(x->tr, MEV_FATAL, msg);
    char m[300];
    const char *want = x->s->fatal;
    if (want != NULL && strstr(msg, want) != NULL && x->opts.end_expected != NULL) {
        /* Go's throw ends the process: so does this execution, as a pass.
         * Nothing after the throw is checked (threads, leaks, properties):
         * a poller that threw has no state to check. */
        snprintf(m, sizeof m, "the poller threw as expected (line %u): %s", x->s->fatal_line, msg);
        x->opts.end_expected(x->opts.end_arg, m);
    }
    if (want == NULL) snprintf(m, sizeof m, "the poller threw: %s", msg);
    else if (strstr(msg, want) == NULL)
        snprintf(m, sizeof m, "the poller threw \"%s\", expected a throw containing \"%s\" (line %u)", msg, want,
                 x->s->fatal_line);
    else snprintf(m, sizeof m, "the poller threw as expected, but this backend cannot end an execution there: %s", msg);
    x->hk->fail(x->hk->arg, want == NULL ? "no-fatal" : "expect", m);
    /* A backend whose fail returns (Win32): the poller's state is broken
     * and np_fatal_fn must not return, as Go's throw does not. */
    fprintf(stderr, "iocpcheck: %s: %s\n", x->s->path, m);
    abort();
}

static void thread_main(void *arg) {
    scn_xthread *t = arg;
    scn_exec_st *x = t->x;
    const scn_thread *th = &x->s->threads[t->idx];
    if (th->polls) t->m = np_m_create(x->p); /* Go's per-M wait packet and timer; NULL without them */
    for (uint32_t i = 0; i < th->count && atomic_load(&x->stop) == 0 && !t->stopped; i++)
        scn__run_step(x, t, &x->s->steps[th->first + i]);
    np_m_destroy(x->p, t->m); /* NULL too: netpoll.h allows it (a thread without wait packets) */
}

static void *zalloc(scn_exec_st *x, size_t n) {
    if (n == 0) return NULL;
    void *p = x->hk->alloc(x->hk->arg, n);
    if (p == NULL) {
        x->hk->fail(x->hk->arg, "setup", "out of memory for the execution's state");
        return NULL;
    }
    return p;
}

static bool alloc_state(scn_exec_st *x) {
    const scn_scenario *s = x->s;
    x->fds = zalloc(x, s->nsockets * sizeof *x->fds);
    x->res = zalloc(x, s->nresults * sizeof *x->res);
    x->th = zalloc(x, s->nthreads * sizeof *x->th);
    x->fo = zalloc(x, s->nforeign * sizeof *x->fo);
    if (s->nforeign > 0) x->decoy = zalloc(x, SCN_DECOY_BYTES);
    if ((s->nsockets && !x->fds) || (s->nresults && !x->res) || !x->th || (s->nforeign && (!x->fo || !x->decoy)))
        return false;
    for (uint32_t k = 0; k < s->nsockets; k++) {
        if (s->sockets[k].stream == 0) continue;
        x->fds[k].stream = zalloc(x, s->sockets[k].stream);
        if (x->fds[k].stream == NULL) return false;
        if (s->sockets[k].shared && s->sockets[k].kind == SCN_SOCK_PAIR) {
            x->fds[k].claimed = zalloc(x, s->sockets[k].stream);
            if (x->fds[k].claimed == NULL) return false;
        }
    }
    for (uint32_t k = 0; k < s->nsockets; k++) {
        if (s->sockets[k].kind != SCN_SOCK_DGRAM || s->sockets[k].dgrams == 0) continue;
        x->fds[k].dg_off = zalloc(x, s->sockets[k].dgrams * sizeof(uint32_t));
        x->fds[k].dg_len = zalloc(x, s->sockets[k].dgrams * sizeof(uint32_t));
        if (x->fds[k].dg_off == NULL || x->fds[k].dg_len == NULL) return false;
    }
    for (uint32_t i = 0; i < s->nthreads; i++) {
        x->th[i].x = x;
        x->th[i].idx = i;
        if (s->threads[i].buf_len == 0) continue;
        x->th[i].buf = zalloc(x, s->threads[i].buf_len);
        if (x->th[i].buf == NULL) return false;
    }
    for (uint32_t i = 0; i < s->nforeign; i++) x->fo[i].fd = -1;
    return true;
}

/* The poller's memory, counted: on the simulator it is arena memory that a
 * leak would never show otherwise. */
static void *np_alloc(void *arg, size_t size) {
    scn_exec_st *x = arg;
    if (x->opts.alloc_fails != NULL && x->opts.alloc_fails(x->opts.alloc_fails_arg)) {
        atomic_fetch_add(&x->alloc_faults, 1);
        return NULL;
    }
    void *p = x->hk->alloc(x->hk->arg, size);
    if (p != NULL) atomic_fetch_add(&x->np_live, 1);
    return p;
}

static void np_free(void *arg, void *ptr) {
    scn_exec_st *x = arg;
    if (ptr == NULL) return;
    atomic_fetch_sub(&x->np_live, 1);
    x->hk->free(x->hk->arg, ptr);
}

static bool setup(scn_exec_st *x) {
    const scn_scenario *s = x->s;
    np_config cfg = {.procs = s->procs, .max_fds = s->max_fds, .fatal = fatal_hook, .fatal_arg = x,
                     .alloc = np_alloc, .free = np_free, .alloc_arg = x};
    /* `poller defaults`: procs and max_fds left 0, so the poller's own
     * defaults decide them (GOMAXPROCS 1, 64 pollDescs). The allocator and
     * the fatal hook stay the interpreter's: with calloc, an execution the
     * explorer abandons half-way would leak what the poller had allocated. */
    if (s->poller_defaults) cfg.procs = cfg.max_fds = 0;
    x->p = np_init(x->sh, &cfg);
    if (x->p == NULL) {
        /* For want of memory (knob faults_alloc), or a port that could not be
         * created (knob faults_port: the last error is ERROR_NOT_ENOUGH_MEMORY,
         * netpoll.h's "the shim's last error says why"), np_init may fail:
         * nothing runs, and the poller must have given back all it took. */
        uint32_t live = atomic_load(&x->np_live), err = x->sh->get_last_error(x->ctx);
        if (atomic_load(&x->alloc_faults) == 0 && err != SHIM_ERROR_NOT_ENOUGH_MEMORY)
            scn__fail(x, "setup", "np_init failed: error %u", err);
        else if (live != 0)
            scn__fail(x, "no-leak", "%s: np_init failed for want of memory and left %u allocation(s) unfreed",
                      s->path, live);
        return false;
    }
    /* User memory past a foreign OVERLAPPED holds any value: a second decoy,
     * allocated after the poller's pollDescs, so that the word a careless
     * poller would compare with its pollDesc lies above it as well as below
     * (the first decoy came before np_init). */
    if (s->nforeign > 1 && (x->decoy_hi = zalloc(x, SCN_DECOY_BYTES)) == NULL) return false;
    if (s->timed) x->t0 = x->sh->sync->now_ns(x->sh->sync->ctx);
    for (uint32_t k = 0; k < s->nsockets; k++) {
        if (s->sockets[k].kind == SCN_SOCK_DGRAM) {
            /* Both ends made and bound as Go's net package would (the seam's
             * socket calls): the poller's and the peer's. */
            scn_xfd *f = &x->fds[k];
            for (int e = 0; e < 2; e++) {
                f->h[e] = shim_loopback_socket(x->sh, SHIM_SOCK_DGRAM, &f->addr[e]);
                if (f->h[e] == SHIM_INVALID_HANDLE && scn__sock_fault(x) != 0) return false; /* knob faults_sock */
                if (f->h[e] == SHIM_INVALID_HANDLE) {
                    scn__fail(x, "setup", "a UDP socket for '%s' failed: error %u", s->sockets[k].name,
                              x->sh->get_last_error(x->ctx));
                    return false;
                }
            }
            continue;
        }
        if (s->sockets[k].kind != SCN_SOCK_PAIR) {
            /* A listener's socket is the poller's; dialed and accepted ones
             * come from their steps; their byte streams are not numbered. */
            x->fds[k].h[0] = x->fds[k].h[1] = SHIM_INVALID_HANDLE;
            atomic_store(&x->fds[k].lossy, 1);
            atomic_store(&x->fds[k].write_lossy, 1);
            continue;
        }
        if (s->sockets[k].shared) { /* several readers or writers: offsets are not the bookkeeping's */
            atomic_store(&x->fds[k].lossy, 1);
            atomic_store(&x->fds[k].write_lossy, 1);
        }
        if (!harness_socket_pair(x->hn, x->fds[k].h)) {
            x->fds[k].h[0] = x->fds[k].h[1] = SHIM_INVALID_HANDLE;
            scn__fail(x, "setup", "socket_pair for '%s' failed: error %u", s->sockets[k].name,
                      x->sh->get_last_error(x->ctx));
            return false;
        }
    }
    for (uint32_t k = 0; k < s->nsockets; k++) {
        if (s->sockets[k].kind == SCN_SOCK_LISTEN) {
            scn__open_listener(x, k);
            if (x->fds[k].fd == NULL) return false;
            continue;
        }
        if (s->sockets[k].deferred) continue;
        /* failed for want of memory (knob faults_alloc): nothing runs; the teardown checks for leaks */
        if (scn__open_fd(x, k, false) != NP_OK) return false;
    }
    return true;
}

unsigned char *scn__decoy_of(scn_exec_st *x, uint32_t i) {
    return i % 2 == 1 && x->decoy_hi != NULL ? x->decoy_hi : x->decoy;
}

/* The user's foreign OVERLAPPEDs: the poller must never have taken their
 * trailing bytes for one of its operations (Go #21172, #58870). */
static void check_foreign(scn_exec_st *x) {
    for (uint32_t i = 0; i < x->s->nforeign; i++) {
        scn_xforeign *fo = &x->fo[i];
        if (fo->fd < 0) continue;
        unsigned char *decoy = scn__decoy_of(x, i);
        bool intact = fo->decoy == decoy && fo->mode == 'r';
        for (uint32_t j = 0; intact && j < SCN_DECOY_BYTES; j++) intact = decoy[j] == 0;
        model_emit(x->tr, MEV_FOREIGN, (uint64_t)fo->fd, model_ov(x->tr, &fo->ov), intact, 0, 0);
        if (!intact)
            scn__fail(x, "foreign-packets", "%s: the trailing bytes of a foreign OVERLAPPED (on '%s') were used as a "
                      "poller operation", x->s->path, x->s->sockets[fo->fd].name);
    }
}

/* Every thread has been joined: nothing can call into a descriptor now. */
static void teardown(scn_exec_st *x) {
    const scn_scenario *s = x->s;
    for (uint32_t k = 0; k < s->nsockets; k++) {
        scn_xfd *f = &x->fds[k];
        if (f->fd != NULL) {
            np_fd_close(f->fd); /* closes h[0] too (NP_ERR_CLOSING if the scenario did) */
        } else if (f->h[0] != SHIM_INVALID_HANDLE && f->h[0] != SHIM_NULL_HANDLE) {
            x->sh->closesocket(x->ctx, f->h[0]);
        }
        /* As a user's cleanup does: free what the open returned, NULL for
         * an open that failed or never ran (np_fd_free(NULL) does nothing). */
        np_fd_free(f->fd);
        f->fd = NULL;
        if (f->h[1] != SHIM_INVALID_HANDLE && f->h[1] != SHIM_NULL_HANDLE) x->sh->closesocket(x->ctx, f->h[1]);
    }
    np_destroy(x->p);
    x->p = NULL;
    uint32_t live = atomic_load(&x->np_live);
    if (live != 0 && atomic_load(&x->stop) == 0)
        scn__fail(x, "no-leak", "%s: the poller left %u allocation(s) unfreed after np_destroy", s->path, live);
}

void scn_exec_ex(const scn_scenario *s, const shim *sh, const shim_harness *hn, model_trace *trace,
                 const scn_hooks *hooks, const scn_exec_opts *opts) {
    /* Both halves of the seam are checked before anything runs. */
    const char *why = np_check_shim(sh);
    if (why == NULL) why = shim_harness_check(hn, SHIM_HARNESS_VERSION_1);
    for (uint32_t k = 0; why == NULL && k < s->nsockets; k++)
        if (s->sockets[k].kind != SCN_SOCK_PAIR && (!shim_has_sockets(sh) || hn->version < SHIM_HARNESS_VERSION_2))
            why = "the scenario has a listen, dial, accept or dgram socket and the backend has no socket calls (seam v3, "
                  "harness v2)";
    if (why != NULL) {
        hooks->fail(hooks->arg, "setup", why);
        return;
    }
    scn_exec_st *x = hooks->alloc(hooks->arg, sizeof *x);
    if (x == NULL) {
        hooks->fail(hooks->arg, "setup", "out of memory for the execution's state");
        return;
    }
    x->s = s;
    x->sh = sh;
    x->ctx = sh->ctx;
    x->hn = hn;
    x->tr = trace;
    x->hk = hooks;
    if (opts != NULL) x->opts = *opts;
    if (!alloc_state(x)) return;
    for (uint32_t k = 0; k < s->nsockets; k++) x->fds[k].h[0] = x->fds[k].h[1] = SHIM_INVALID_HANDLE;
    if (!setup(x)) {
        if (s->fatal != NULL && atomic_load(&x->stop) == 0)
            scn__fail(x, "expect", "%s:%u: expected the poller to throw \"%s\"; the set-up failed first (np_init or "
                      "an open, for want of memory)", s->path, s->fatal_line, s->fatal);
        if (x->p != NULL) teardown(x);
        return;
    }
    if (x->opts.setup_done != NULL) x->opts.setup_done(x->opts.alloc_fails_arg);
    for (uint32_t i = 0; i < s->nthreads; i++) {
        if (!harness_spawn(hn, &x->th[i].t, thread_main, &x->th[i], s->threads[i].name)) {
            scn__fail(x, "setup", "cannot start thread '%s'", s->threads[i].name);
            return; /* threads already started may still run: nothing safe to tear down */
        }
    }
    bool loops = false;
    for (uint32_t i = 0; i < s->nthreads; i++) {
        if (s->threads[i].runs_poller) loops = true;
        else harness_join(hn, &x->th[i].t);
    }
    for (uint32_t i = 0; i < s->nfinals && atomic_load(&x->stop) == 0; i++) scn__check(x, &s->finals[i]);
    if (loops) {
        np_stop(x->p);
        for (uint32_t i = 0; i < s->nthreads; i++)
            if (s->threads[i].runs_poller) harness_join(hn, &x->th[i].t);
    }
    if (s->fatal != NULL && atomic_load(&x->stop) == 0)
        scn__fail(x, "expect", "%s:%u: expected the poller to throw \"%s\"; every thread finished and it did not",
                  s->path, s->fatal_line, s->fatal);
    uint32_t waiters = np_waiters(x->p);
    model_emit(trace, MEV_QUIESCENT, waiters, atomic_load(&x->inflight), 0, 0, 0);
    if (waiters != 0 && atomic_load(&x->stop) == 0)
        scn__fail(x, "no-lost-wakeup", "%s: netpollWaiters = %u at quiescence, expected 0", s->path, waiters);
    check_foreign(x);
    teardown(x);
}

void scn_exec(const scn_scenario *s, const shim *sh, const shim_harness *hn, model_trace *trace,
              const scn_hooks *hooks) {
    scn_exec_ex(s, sh, hn, trace, hooks, NULL);
}

uint32_t scn_thread_count(const scn_scenario *s) { return s->nthreads; }
const char *scn_thread_name(const scn_scenario *s, uint32_t i) { return i < s->nthreads ? s->threads[i].name : NULL; }
uint32_t scn_socket_count(const scn_scenario *s) { return s->nsockets; }
uint32_t scn_step_count(const scn_scenario *s) { return s->nsteps; }

uint32_t scn_step_line(const scn_scenario *s, uint32_t slot) {
    for (uint32_t i = 0; i < s->nsteps; i++)
        if (s->steps[i].slot == slot) return s->steps[i].line;
    return 0;
}

int64_t scn_longest_wait_ns(const scn_scenario *s) {
    int64_t m = 0;
    for (uint32_t i = 0; i < s->nsteps; i++) {
        const scn_step *st = &s->steps[i];
        bool waits = st->op == SCN_SLEEP || st->op == SCN_POLL || st->op == SCN_DEADLINE;
        if (waits && st->arg > m) m = st->arg;
    }
    return m;
}
