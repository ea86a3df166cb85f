/* scenario.h - scenario files: parse, and run one execution on any shim.
 *
 * A scenario declares sockets, poller settings, threads and their steps,
 * expectations on results, knobs (plain values, scn_knobs, that the driver
 * maps onto its backend: the simulator's configuration, the fault shim) and
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
#include "../shim/fault.h"
#include "../shim/harness.h"
#include "../shim/iocp_shim.h"

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
/* The scenario's knobs (`knob NAME VALUE` lines; a later line wins), as plain
 * values owned by the language: drivers map them onto their backend. A knob
 * not written is "unset" (its _set flag false, wait_packets UNSET), so each
 * driver keeps its own default. */
typedef enum scn_wait_packets {
    SCN_WAITPKT_UNSET = 0, /* not said: whatever the backend has */
    SCN_WAITPKT_PRESENT,   /* present (Windows 10+) */
    SCN_WAITPKT_ABSENT,    /* absent (Wine 8) */
    SCN_WAITPKT_CHOICE,    /* either, chosen per execution (the simulator only) */
} scn_wait_packets;

/* Which observed behaviours the simulator may take (README: choice table). */
typedef enum scn_platform {
    SCN_PLATFORM_UNSET = 0, /* not said: the driver's default */
    SCN_PLATFORM_ANY,       /* what-ifs too */
    SCN_PLATFORM_REAL,      /* anything observed */
    SCN_PLATFORM_WINDOWS,
    SCN_PLATFORM_WINE,
} scn_platform;

typedef struct scn_knobs {
    bool tick_set;
    int64_t tick_ns; /* port timeout tick; 0 = exact (Wine) */
    scn_wait_packets wait_packets;
    uint32_t faults[SHIM_FAULT_FAMILIES]; /* per fault family: faults per execution (0: none) */
    bool max_steps_set, max_decisions_set, max_objects_set, time_jumps_set;
    uint64_t max_steps;
    uint32_t max_decisions, max_objects;
    bool time_jumps;
    scn_platform platform;
    bool send_buffer_set;
    uint32_t send_buffer; /* bytes a direction of a pair holds before a send pends; 0 = unbounded */
    bool recv_window_set;
    uint32_t recv_window; /* bytes a poller's socket holds unread before its peer's send blocks; 0 = unbounded */
    uint32_t threads; /* threads an execution runs: the main one and one per scenario thread */
    uint32_t fail_at[SHIM_FAULT_FAMILIES]; /* `fail_FAMILY N`: that family's N-th call fails for certain
                                            * (a countdown, the error chosen); 0: none */
    bool faults_sock_setup; /* the "sock" family may fail the setup's socket calls (listeners, UDP pairs) too */
} scn_knobs;

scn_knobs scn_get_knobs(const scn_scenario *s);
/* Whether any family's fault budget is above 0. */
bool scn_knobs_faults(const scn_knobs *k);
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
