/* footprint.c - what a snapshot of an execution would have to copy.
 *
 * Only for measuring whether prefix reuse (restoring a copy of the state at
 * a common prefix instead of re-running it) could pay: bench_prefix. The
 * figure is a lower bound: the kernel's retained buffers and the model trace
 * (allocated outside the arena) are not counted.
 */
#include "sim_internal.h"

const sim_result *sim_last_result(const sim_ctx *s) { return &s->result; }

/* Stacks are zero-filled mappings reused from run to run: the first
 * non-zero byte from the bottom is as deep as any run went. */
static size_t stack_depth(const sim_stack *st) {
    if (st->base == NULL) return 0; /* Windows: the OS owns fiber stacks */
    const unsigned char *p = st->base, *end = p + st->size;
    while (p < end && *p == 0) p++;
    return (size_t)(end - p);
}

void sim_get_footprint(const sim_ctx *s, sim_footprint *out) {
    out->ctx = sizeof *s;
    out->arena = sim_arena_in_use(&s->arena);
    out->stacks = 0;
    for (uint32_t i = 0; i < s->nstacks; i++) out->stacks += stack_depth(&s->stacks[i]);
    out->tables = (size_t)s->nobjs * sizeof *s->objs + (size_t)s->ntimers * sizeof *s->timers +
                  (size_t)s->ndecisions * sizeof *s->decisions;
}
