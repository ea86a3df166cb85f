/* props.h - the ten properties, checked on an execution's model trace.
 *
 * Each property has a name that failure reports quote (DESIGN.md "Models"):
 *   one-completion, no-lost-wakeup, break-delivered, overlapped-lifetime,
 *   bytes-conserved, deadline, close, poll-delay, foreign-packets, no-fatal,
 *   datagram, call-result.
 * Properties are always on; a scenario cannot turn them off. The checkers
 * read only the trace (models/trace.h), so real-backend traces are checked
 * by the same code; the options say how much real-time slack to allow.
 */
#ifndef IOCPCHECK_MODELS_PROPS_H
#define IOCPCHECK_MODELS_PROPS_H

#include "trace.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MODEL_PROPERTIES 12
extern const char *const model_property_names[MODEL_PROPERTIES];

/* Real time (virtual_time false: traces from the Win32 backend, `validate`).
 * Three clauses hold exactly only in virtual time, where nothing runs while
 * the clock is read and a woken thread runs before time moves; on a real
 * clock each is relaxed by slack_ns (scheduling jitter; `--tolerance-ms`):
 *   deadline (a)         a timeout ends no earlier than its deadline
 *                        (real: no earlier than deadline - slack_ns);
 *   break-delivered (b)  a blocked poll returns at once after a break
 *                        (real: within slack_ns);
 *   poll-delay (b)       poll(d) returns by d + one tick after the last
 *                        thing another thread did (real: + slack_ns).
 * tick_ns applies on both clocks (the host's tick on Windows; `validate`
 * allows 15.625 ms under Wine too, whose waits are not quantized). Nothing
 * else in the ten properties reads a time; none is skipped in real time. */
typedef struct model_options {
    int64_t tick_ns;        /* the port's timer tick: waits may end a tick early or late */
    int64_t slack_ns;       /* extra lateness allowed (real backend: scheduling jitter); 0 on the simulator */
    bool virtual_time;      /* time is virtual: properties stated "in virtual time only" are checked exactly */
    int64_t jump_ns;        /* virtual time: lateness the simulator's time jumps (preemptions) may add */
} model_options;

void model_options_default(model_options *o); /* simulator defaults: tick 15.625 ms, no slack, virtual */

typedef struct model_violation {
    const char *property;  /* one of model_property_names */
    char message[512];     /* what broke, in words */
    uint64_t events[4];    /* seq of the events that break it */
    uint32_t nevents;
} model_violation;

/* Checks every property; returns true when all hold, else fills `v` with the
 * first violation (in the order of model_property_names). `o` NULL: the
 * defaults. One linear pass; the checker's tables are kept on the trace, so
 * do not check one trace from two threads at once. The definition of each
 * property is the comment above its function in models/props_*.c. */
bool model_check(const model_trace *t, const model_options *o, model_violation *v);
/* Checks one property by index. */
bool model_check_one(const model_trace *t, const model_options *o, uint32_t property, model_violation *v);

#ifdef __cplusplus
}
#endif

#endif
