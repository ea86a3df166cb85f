/* scenario.h - scenario files: parse, and run one execution on any shim.
 *
 * A scenario declares sockets, poller settings, threads and their steps,
 * expectations on results, simulator knobs (ignored by the real backend) and
 * stored schedules (scenarios/README.md has the grammar). The interpreter
 * runs one execution on a shim: on the simulator it is called as the
 * execution's main thread; on Win32 on a real thread. The same interpreter
 * serves both backends.
 */
#ifndef IOCPCHECK_RUNNER_SCENARIO_H
#define IOCPCHECK_RUNNER_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../models/trace.h"
#include "../shim/harness.h"
#include "../shim/iocp_shim.h"
#include "../sim/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct scn_scenario scn_scenario;

/* Parses scenario text. On error returns NULL and writes
 * "path:line:col: message" into err. Nothing is run. */
scn_scenario *scn_parse(const char *path, const char *text, char *err, size_t errlen);
/* Reads and parses a file (errors as above, including "cannot read"). */
scn_scenario *scn_load(const char *path, char *err, size_t errlen);
void scn_free(scn_scenario *s);

const char *scn_name(const scn_scenario *s);   /* the `scenario NAME` line, else the file's base name */
const char *scn_path(const scn_scenario *s);
/* The scenario's simulator knobs applied over `cfg`. */
void scn_apply_knobs(const scn_scenario *s, sim_config *cfg);
/* Schedules stored in the file (regression cases), in file order. */
uint32_t scn_schedule_count(const scn_scenario *s);
const char *scn_schedule(const scn_scenario *s, uint32_t i);
/* 1-based line of stored schedule i (for error messages). */
uint32_t scn_schedule_line(const scn_scenario *s, uint32_t i);

/* How the interpreter reports and allocates, per backend. */
typedef struct scn_hooks {
    void *arg;
    /* A property or expectation failed. On the simulator this ends the
     * execution (sim_fail) and does not return; on Win32 it records and
     * returns, and the interpreter stops the scenario as soon as it can. */
    void (*fail)(void *arg, const char *property, const char *message);
    /* Memory for the poller and the interpreter, zeroed, freed with the
     * execution (simulator: the arena) or by scn_exec's caller. */
    void *(*alloc)(void *arg, size_t size);
    void (*free)(void *arg, void *ptr);
} scn_hooks;

/* Runs one execution of `s` on `sh`, recording harness events into `trace`.
 * `sh` should already be the recording shim wrapping the backend, so that
 * the poller's seam calls are recorded too; `hn` is the backend's harness
 * (threads, sleep, the peer side of sockets), used unwrapped. A shim or
 * harness the interpreter cannot use fails the execution as "setup". Expectations of the scenario are
 * checked as results come in (property "expect"); the ten model properties
 * are checked afterwards by the caller on the trace. */
void scn_exec(const scn_scenario *s, const shim *sh, const shim_harness *hn, model_trace *trace,
              const scn_hooks *hooks);

#ifdef __cplusplus
}
#endif

#endif
