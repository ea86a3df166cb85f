/* trace_int.h - what the models' own files share about a model_trace.
 *
 * The recorder needs two things the public API does not give: to record a
 * call before making it and fill in its result afterwards (so that on a real
 * backend no effect of a call, e.g. the dequeue of the packet it queued, can
 * land in the trace ahead of the call), and a per-handle byte to remember
 * what a socket's provider said (socket_is_ifs) until SetFile-
 * CompletionNotificationModes is recorded. The checkers keep their scratch
 * state on the trace so that checking allocates nothing in steady state.
 * Internal to models/.
 */
#ifndef IOCPCHECK_MODELS_TRACE_INT_H
#define IOCPCHECK_MODELS_TRACE_INT_H

#include "trace.h"

/* Appends an event and returns its index (= its seq), for model__patch. */
uint32_t model__emit_at(model_trace *t, model_ev_kind kind, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                        uint64_t a4);
/* Sets argument `arg` (0..4) of event `index`. */
void model__patch(model_trace *t, uint32_t index, unsigned arg, uint64_t value);
/* Numbers the next sight of `h` as a new handle (after a successful close:
 * Win32 reuses handle values for new objects). */
void model__handle_retire(model_trace *t, shim_handle h);
/* A byte of recorder memory per handle ordinal (0 for a new ordinal, and for
 * ordinal 0, which keeps nothing). */
uint8_t model__handle_aux(model_trace *t, uint64_t ordinal);
void model__handle_set_aux(model_trace *t, uint64_t ordinal, uint8_t v);

/* Recorder state: one per wrapped inner shim, owned by the trace. */
typedef struct model_rec {
    const shim *inner;
    model_trace *trace;
} model_rec;
model_rec *model__rec_slot(model_trace *t, const shim *inner);

/* The checkers' scratch: created on first use, freed with the trace. The
 * pointer lives in a box the const trace points to, so checking a const
 * trace can still keep its tables. Not for concurrent checks of one trace. */
typedef struct model_scratch_box {
    void *p;
    void (*destroy)(void *p);
} model_scratch_box;
model_scratch_box *model__scratch(const model_trace *t);

#endif
