/* cli_real.c - one execution of a scenario on the real backend (Win32 on
 * Windows or Wine), recorded and checked by the models.
 *
 * The interpreter runs on OS threads over the recording shim wrapped around
 * the fault shim wrapped around shim_win32: a scenario's fault knobs become
 * the fault shim's budgets, decided by a generator seeded from the run and
 * recorded in the trace. The recorder's clock comes from shim_win32's
 * helpers (the same QueryPerformanceCounter as the seam's now_ns, and small
 * thread numbers), never from a seam call, so recording changes nothing the
 * poller sees. Failures come in on any thread (hooks.fail returns on
 * Win32): the first is kept. Memory for an execution is a list freed when it
 * ends. The execution runs on its own thread under a watchdog, because a
 * lost wakeup on a real port is a hang, not a verdict. Windows build only.
 */
#include "cli_real.h"

#if defined(CLI_HAVE_WIN32)
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../shim/shim_win32.h"
#include "../lang/scn_ext.h"
#include "wallclock.h"

#define LONGEST_REAL_WAIT_NS (60LL * 1000000000) /* a step waiting longer is for virtual time only */
#define WATCHDOG_NS (60LL * 1000000000)         /* besides the scenario's own longest wait (x 4) */

/* Execution memory: a header keeps blocks aligned for anything the poller stores. */
typedef union blk_head {
    union blk_head *next;
    long double align;
} blk_head;

struct cli_real {
    const shim *win;   /* shim_win32 */
    shim masked;       /* the same without wait completion packets (`knob wait_packets absent`) */
    shim rec;          /* the recording shim, rewrapped per execution */
    shim_fault *faults; /* under the recorder: the scenario's fault budgets, seeded per run */
    model_trace *trace;
    model_options mopt;
    int64_t tolerance_ns, host_tick_ns;
    bool wine;
    /* per execution */
    const scn_scenario *scn;
    scn_hooks hooks;
    scn_exec_opts xopts;
    _Atomic(blk_head *) blocks;
    atomic_uint failed;
    atomic_int monitor_stop;
    atomic_int_fast64_t overslept_ns;
    atomic_uint_fast64_t choices;
    uint64_t choice_seed;
    uint64_t fault_seed;
    cli_real_run *out;
    shim_sema done;
};

static uint32_t clock_thread(void *self) {
    (void)self;
    return shim_win32_thread_number();
}
static int64_t clock_now(void *self) {
    (void)self;
    return shim_win32_now_ns();
}

cli_real *cli_real_create(int64_t tolerance_ns) {
    cli_real *r = cli_xcalloc(1, sizeof *r);
    r->win = shim_win32_create();
    if (r->win == NULL) {
        free(r);
        return NULL; /* shim_win32_create printed why */
    }
    r->masked = *r->win;
    r->masked.caps &= ~(uint32_t)SHIM_CAP_WAIT_PACKETS;
    r->trace = model_trace_create((model_clock){r, clock_thread, clock_now});
    r->faults = shim_fault_create((shim_fault_source){NULL, NULL}, r->trace);
    if (r->faults == NULL) {
        fprintf(stderr, "iocpcheck: out of memory for the fault shim\n");
        cli_real_destroy(r);
        return NULL;
    }
    r->wine = strncmp(shim_win32_host(), "wine", 4) == 0;
    r->host_tick_ns = shim_win32_tick_ns();
    r->tolerance_ns = tolerance_ns;
    model_options_default(&r->mopt);
    /* Real time: the host's tick; where waits are not quantized (Wine) one
     * is allowed anyway, so a trace that passes here passes on Windows' tick
     * too. The tolerance covers scheduling jitter. */
    r->mopt.tick_ns = r->host_tick_ns > 0 ? r->host_tick_ns : 15625000;
    r->mopt.slack_ns = tolerance_ns;
    r->mopt.virtual_time = false;
    return r;
}

void cli_real_destroy(cli_real *r) {
    if (r == NULL) return;
    shim_fault_destroy(r->faults);
    model_trace_destroy(r->trace);
    shim_win32_destroy(r->win);
    free(r);
}

const char *cli_real_host(const cli_real *r) {
    (void)r;
    return shim_win32_host();
}
bool cli_real_is_wine(const cli_real *r) { return r->wine; }
bool cli_real_wait_packets(const cli_real *r) { return (r->win->caps & SHIM_CAP_WAIT_PACKETS) != 0; }
int64_t cli_real_host_tick_ns(const cli_real *r) { return r->host_tick_ns; }
const model_options *cli_real_model_options(const cli_real *r) { return &r->mopt; }
model_trace *cli_real_trace(cli_real *r) { return r->trace; }

/* The longest virtual time of a few executions on the simulator. */
static int64_t longest_virtual_ns(const scn_scenario *s) {
    cli_target t;
    if (cli_target_open(&t, scn_path(s)) != 0) return INT64_MAX;
    cli_outcome oc = {0};
    sim_chooser first = sim_first_chooser();
    cli_exec(&t, &first, &oc);
    int64_t m = oc.virtual_ns;
    for (uint64_t seed = 1; seed <= 16; seed++) {
        cli_exec_seed(&t, CLI_RANDOM, 3, seed, &oc);
        if (oc.virtual_ns > m) m = oc.virtual_ns;
    }
    cli_outcome_clear(&oc);
    cli_target_close(&t);
    return m;
}

bool cli_real_fits(const cli_real *r, const scn_scenario *s, char *why, size_t n) {
    scn_knobs k = scn_get_knobs(s);
    if (k.wait_packets == SCN_WAITPKT_PRESENT && !cli_real_wait_packets(r)) {
        snprintf(why, n,
                 "wait-packets-absent: it asks for wait completion packets (knob wait_packets present), which %s "
                 "lacks (iocp-facts.md §9.7)",
                 shim_win32_host());
        return false;
    }
    if (scn_expected_fatal(s) != NULL) {
        snprintf(why, n, "simulator-only: it expects the poller to throw (expect fatal), which ends a real process");
        return false;
    }
    /* A step's timeout says how long a thread may wait; the simulator says
     * how long one does: a deadline of an hour that data beats by a
     * millisecond is never waited out. So a long timeout alone is judged by
     * the virtual time of the scenario's executions (the first-outcome one
     * and a few random ones), each as long as a real run at least. */
    int64_t longest = scn_longest_wait_ns(s);
    if (longest > LONGEST_REAL_WAIT_NS) {
        int64_t lasts = longest_virtual_ns(s);
        if (lasts > LONGEST_REAL_WAIT_NS) {
            snprintf(why, n, "virtual-time-only: an execution lasts %.0f s of virtual time (%.1f days of real time)",
                     (double)lasts / 1e9, (double)lasts / 86400e9);
            return false;
        }
    }
    return true;
}

/* ---- Hooks: failures from any thread, memory on a list ---- */

static void hook_fail(void *arg, const char *property, const char *message) {
    cli_real *r = arg;
    unsigned expected = 0;
    if (!atomic_compare_exchange_strong(&r->failed, &expected, 1)) return; /* the first failure is the verdict */
    r->out->failed = true;
    snprintf(r->out->property, sizeof r->out->property, "%s", property);
    snprintf(r->out->message, sizeof r->out->message, "%s", message);
}

static void *hook_alloc(void *arg, size_t size) {
    cli_real *r = arg;
    blk_head *b = cli_xcalloc(1, sizeof *b + size);
    b->next = atomic_load(&r->blocks);
    while (!atomic_compare_exchange_weak(&r->blocks, &b->next, b)) {
    }
    return b + 1;
}

static void hook_free(void *arg, void *ptr) {
    (void)arg;
    (void)ptr; /* freed with the execution, like the simulator's arena */
}

/* `maybe` steps: a choice drawn from the run index, so runs differ. */
static uint32_t hook_choose(void *arg, uint32_t n) {
    cli_real *r = arg;
    uint64_t z = r->choice_seed + 0x9e3779b97f4a7c15ull * (atomic_fetch_add(&r->choices, 1) + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull; /* splitmix64's finalizer */
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return n ? (uint32_t)(z % n) : 0;
}

static void free_blocks(cli_real *r) {
    blk_head *b = atomic_exchange(&r->blocks, NULL);
    while (b != NULL) {
        blk_head *next = b->next;
        free(b);
        b = next;
    }
}

/* ---- One execution ---- */

static void exec_thread(void *arg) {
    cli_real *r = arg;
    /* The scenario asks for no wait packets: hide the host's (the poller
     * probes caps the way Go probes GetProcAddress). */
    scn_knobs k = scn_get_knobs(r->scn);
    const shim *inner = k.wait_packets == SCN_WAITPKT_ABSENT ? &r->masked : r->win;
    const shim_harness *hn = shim_win32_harness(r->win);
    cli_fault_budgets(r->faults, k.faults);
    cli_fault_countdowns(r->faults, k.fail_at);
    shim_fault_reset(r->faults, r->fault_seed);
    const shim *faulty = shim_fault_wrap(r->faults, inner, hn);
    const char *why = faulty == NULL ? "the fault shim refuses the real backend" : model_record_wrap(&r->rec, faulty, r->trace);
    if (why != NULL) r->hooks.fail(r->hooks.arg, "setup", why);
    else scn_exec_ex(r->scn, &r->rec, hn, r->trace, &r->hooks, &r->xopts);
    r->win->sync->sema_post(r->win->sync->ctx, &r->done);
}

/* The descheduling monitor: 1 ms waits in a loop beside the execution; any
 * lateness past a host tick is time the host kept a runnable thread waiting
 * (a loaded machine), which the tolerance model cannot absorb. It alternates
 * the two ways a thread of the execution waits: a sleep, and a wait on a
 * completion port (a port of its own that nothing is posted to). They are
 * not the same path under Wine: a sleep is timed in the process itself,
 * while a port wait goes through the wineserver, one more process that a
 * loaded machine must schedule before the waiter can run; with sleeps alone
 * the monitor saw no lateness while the poller's port waits came back 60 ms
 * late (scripts/loaded-conformance, README, "On a loaded machine"). */
#define MONITOR_WAIT_NS 1000000LL

static void monitor_thread(void *arg) {
    cli_real *r = arg;
    const shim_harness *hn = shim_win32_harness(r->win);
    const shim *w = r->win;
    shim_handle port = w->create_io_completion_port(w->ctx, SHIM_INVALID_HANDLE, SHIM_NULL_HANDLE, 0, 1);
    for (uint64_t i = 0; !atomic_load(&r->monitor_stop); i++) {
        double t0 = wall_seconds();
        if (port != SHIM_NULL_HANDLE && i % 2 == 1) {
            uint32_t bytes;
            uintptr_t key;
            shim_overlapped *ov;
            (void)w->get_queued_completion_status(w->ctx, port, &bytes, &key, &ov,
                                                  (uint32_t)(MONITOR_WAIT_NS / 1000000));
        } else {
            harness_sleep(hn, MONITOR_WAIT_NS);
        }
        int64_t late = (int64_t)((wall_seconds() - t0) * 1e9) - MONITOR_WAIT_NS - r->host_tick_ns;
        if (late > atomic_load(&r->overslept_ns)) atomic_store(&r->overslept_ns, late);
    }
    if (port != SHIM_NULL_HANDLE) w->close_handle(w->ctx, port);
}

/* The scenario's own `sleep` steps measure the host too: a sleep is the
 * harness's, not the poller's, so whatever it took past its length and a
 * tick is time the host kept that very thread from running (under load a
 * `sleep 50ms` of a peer took 670 ms while the monitor beside it saw less
 * than the tolerance). The largest such lateness in the trace. */
static int64_t sleeps_overslept(const model_trace *t, int64_t tick_ns) {
    const model_event *ev = model_trace_events(t);
    uint32_t n = model_trace_count(t);
    int64_t most = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (ev[i].kind != MEV_OP_END || ev[i].a[1] != MOP_SLEEP) continue;
        for (uint32_t j = i; j-- > 0;) {
            if (ev[j].kind != MEV_OP_BEGIN || ev[j].a[0] != ev[i].a[0] || ev[j].thread != ev[i].thread) continue;
            int64_t late = ev[i].time_ns - ev[j].time_ns - (int64_t)ev[j].a[3] - tick_ns;
            if (late > most) most = late;
            break;
        }
    }
    return most;
}

int64_t cli_real_tolerance_ns(const cli_real *r) { return r->tolerance_ns; }

bool cli_real_too_slow(const cli_real *r, const cli_real_run *run) {
    return run->failed && run->overslept_ns > r->tolerance_ns;
}

void cli_real_exec(cli_real *r, const scn_scenario *s, uint64_t run, cli_real_run *out) {
    memset(out, 0, sizeof *out);
    r->scn = s;
    r->out = out;
    atomic_store(&r->failed, 0);
    atomic_store(&r->choices, 0);
    r->choice_seed = run * 0x2545f4914f6cdd1dull + 1;
    r->fault_seed = r->choice_seed ^ 0xFA017FA017FA017Full; /* apart from the `maybe` stream */
    r->hooks = (scn_hooks){r, hook_fail, hook_alloc, hook_free};
    r->xopts = (scn_exec_opts){.choose = hook_choose, .choose_arg = r, .late_ns = r->tolerance_ns,
                               .early_ns = r->tolerance_ns, .alloc_fails = cli_alloc_fails,
                               .alloc_fails_arg = r->faults, .sock_fault_err = cli_sock_fault_err,
                               .setup_done = cli_sock_setup_done};
    shim_fault_hold(r->faults, SHIM_FAULT_SOCK, !scn_get_knobs(s).faults_sock_setup); /* until setup_done */
    model_trace_reset(r->trace);
    /* Started before the renumbering: the execution's own threads keep their numbers. */
    atomic_store(&r->monitor_stop, 0);
    atomic_store(&r->overslept_ns, 0);
    shim_thread mon;
    bool monitored = harness_spawn(shim_win32_harness(r->win), &mon, monitor_thread, r, "monitor");
    shim_win32_thread_renumber(); /* the execution's threads: 0 (its main), 1, 2, ... */
    double t0 = wall_seconds();
    const shim *w = r->win;
    w->sync->sema_init(w->sync->ctx, &r->done, 0);
    shim_thread th;
    if (!harness_spawn(shim_win32_harness(w), &th, exec_thread, r, "validate")) {
        hook_fail(r, "setup", "cannot start the execution's thread");
        w->sync->sema_destroy(w->sync->ctx, &r->done);
        if (monitored) {
            atomic_store(&r->monitor_stop, 1);
            harness_join(shim_win32_harness(w), &mon);
        }
        return;
    }
    int64_t limit = WATCHDOG_NS + 4 * scn_longest_wait_ns(s);
    if (!w->sync->sema_wait(w->sync->ctx, &r->done, limit)) {
        /* Its threads are stuck in the OS: nothing can be torn down safely. */
        int64_t held = atomic_load(&r->overslept_ns), slept = sleeps_overslept(r->trace, r->host_tick_ns);
        if (slept > held) held = slept;
        printf("HANG %s: run %" PRIu64 " did not finish within %.0f s on the real backend (%s): a lost wakeup or a "
               "deadlock; its threads are stuck, stopping (meanwhile the host kept a thread from running for up to "
               "%.1f ms%s)\n",
               scn_path(s), run + 1, (double)limit / 1e9, shim_win32_host(), (double)held / 1e6,
               held > r->tolerance_ns ? ", more than the tolerance: a scenario ordered by sleeps may have run out "
                                        "of order" : "");
        /* The trace so far says where each thread stopped (they are blocked
         * in the OS, not appending). */
        model_trace_write(r->trace, stdout);
        fflush(stdout);
        exit(CLI_EXIT_FAIL);
    }
    harness_join(shim_win32_harness(w), &th);
    w->sync->sema_destroy(w->sync->ctx, &r->done);
    out->seconds = wall_seconds() - t0;
    if (monitored) {
        atomic_store(&r->monitor_stop, 1);
        harness_join(shim_win32_harness(w), &mon);
        out->overslept_ns = atomic_load(&r->overslept_ns);
    }
    int64_t slept = sleeps_overslept(r->trace, r->host_tick_ns);
    if (slept > out->overslept_ns) out->overslept_ns = slept;
    if (!out->failed) {
        model_violation v;
        if (!model_check(r->trace, &r->mopt, &v)) {
            out->failed = true;
            snprintf(out->property, sizeof out->property, "%s", v.property);
            snprintf(out->message, sizeof out->message, "%s", v.message);
        }
    }
    free_blocks(r);
}

#else
/* Not a Windows build: cli_validate.c says so before calling anything here. */
typedef int cli_real_not_built;
#endif
