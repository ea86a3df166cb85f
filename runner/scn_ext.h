/* scn_ext.h - what the scenario runner offers beyond runner/scenario.h.
 *
 *  - the expected verdict of a stored schedule (`schedule "..." expect ...`);
 *  - scn_exec_ex: scn_exec with a harness chooser, which `maybe` steps need
 *    (on the simulator: sim_choose_user, a 'u' decision in the schedule).
 *    scn_exec is scn_exec_ex without one: every `maybe` step then runs.
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

typedef struct scn_exec_opts {
    /* A value in [0, n), recorded by the backend so that replays repeat it. */
    uint32_t (*choose)(void *arg, uint32_t n);
    void *choose_arg;
} scn_exec_opts;

void scn_exec_ex(const scn_scenario *s, const shim *sh, model_trace *trace, const scn_hooks *hooks,
                 const scn_exec_opts *opts);

/* Counts, for drivers and reports. */
uint32_t scn_thread_count(const scn_scenario *s);
uint32_t scn_socket_count(const scn_scenario *s);
uint32_t scn_step_count(const scn_scenario *s);

#ifdef __cplusplus
}
#endif

#endif
