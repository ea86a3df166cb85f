/* scn_ext.h - what the scenario language offers beyond lang/scenario.h.
 *
 *  - the expected verdict of a stored schedule (`schedule "..." expect ...`);
 *  - scn_exec_ex: scn_exec with a harness chooser, which `maybe` steps need
 *    (on the simulator: sim_choose_user, a 'u' decision in the schedule).
 *    scn_exec is scn_exec_ex without one: every `maybe` step then runs;
 *    and, for real time, a tolerance on the expectations about time.
 */
#ifndef IOCPCHECK_RUNNER_SCN_EXT_H
#define IOCPCHECK_RUNNER_SCN_EXT_H

#include "scenario.h"

#ifdef __cplusplus
extern "C" {
#endif

/* NULL: no expectation; "pass"; or the property the schedule must fail
 * (one of the ten, "expect", or a simulator verdict such as "deadlock"). */
const char *scn_schedule_expect(const scn_scenario *s, uint32_t i);

/* `expect fatal "TEXT"`: TEXT, which the poller's throw message must contain;
 * NULL when the scenario expects no throw. */
const char *scn_expected_fatal(const scn_scenario *s);

typedef struct scn_exec_opts {
    /* A value in [0, n), recorded by the backend so that replays repeat it. */
    uint32_t (*choose)(void *arg, uint32_t n);
    void *choose_arg;
    /* Real time (the Win32 backend): expectations on times (`at`, `took`,
     * `elapsed`) accept an upper bound up to late_ns late and a lower bound
     * up to early_ns early (scheduling jitter; a wait that ends a tick
     * early). 0 on the simulator, whose virtual time is exact. */
    int64_t late_ns, early_ns;
    /* Every `sleep` is a 0 ns sleep (a yield). validate --conformance uses
     * it to tell real outcomes that only need a thread to be delayed while
     * it was runnable (which virtual time never does) from the others. */
    bool sleeps_yield;
    /* Whether the poller's next allocation fails (the fault shim's "alloc"
     * family, knob faults_alloc); NULL: none fails. */
    bool (*alloc_fails)(void *arg);
    void *alloc_fails_arg;
    /* Ends the execution now as passed, with `why` in the trace: the poller
     * threw as the scenario expects (`expect fatal`). It must not return.
     * NULL (the real backend: a throw ends the process): an expected throw
     * is reported as a failure that names the missing hook. */
    void (*end_expected)(void *arg, const char *why);
    void *end_arg;
    /* The error of the latest fault of the fault shim's "sock" family (knob
     * faults_sock), 0: none; NULL: no such faults. A socket the setup makes
     * (a listener, a UDP pair) that fails by one ends the execution before
     * any thread runs, a pass if the poller reported that error and leaked
     * nothing. The argument is alloc_fails_arg. */
    uint32_t (*sock_fault_err)(void *arg);
    /* Called once the setup is done, before the threads start (the fault
     * shim's "sock" family is held until then unless knob faults_sock_setup
     * is on). The argument is alloc_fails_arg. */
    void (*setup_done)(void *arg);
} scn_exec_opts;

void scn_exec_ex(const scn_scenario *s, const shim *sh, const shim_harness *hn, model_trace *trace,
                 const scn_hooks *hooks, const scn_exec_opts *opts);

/* Counts, for drivers and reports. */
uint32_t scn_thread_count(const scn_scenario *s);
/* The name of scenario thread i (file order), NULL past the last. */
const char *scn_thread_name(const scn_scenario *s, uint32_t i);
uint32_t scn_socket_count(const scn_scenario *s);
uint32_t scn_step_count(const scn_scenario *s);
/* The line of thread step `slot` (the 1-based slot of MEV_OP_BEGIN/END), 0 if none. */
uint32_t scn_step_line(const scn_scenario *s, uint32_t slot);
/* The longest single wait a step asks for (a sleep, a poll delay, a
 * deadline), in ns: what an execution in real time may have to sit out. */
int64_t scn_longest_wait_ns(const scn_scenario *s);

#ifdef __cplusplus
}
#endif

#endif
