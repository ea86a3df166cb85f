/* trace_int.h - what the models' own files share about a model_trace.
 *
 * The checkers keep their scratch state on the trace so that checking
 * allocates nothing in steady state. Internal to models/.
 */
#ifndef IOCPCHECK_MODELS_TRACE_INT_H
#define IOCPCHECK_MODELS_TRACE_INT_H

#include "trace.h"

/* The checkers' scratch: created on first use, freed with the trace. The
 * pointer lives in a box the const trace points to, so checking a const
 * trace can still keep its tables. Not for concurrent checks of one trace. */
typedef struct model_scratch_box {
    void *p;
    void (*destroy)(void *p);
} model_scratch_box;
model_scratch_box *model__scratch(const model_trace *t);

#endif
