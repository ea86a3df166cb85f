/* bytes.c - the byte-driven chooser: every answer comes from an input
 * buffer (a fuzzer's input), so a coverage-guided fuzzer owns the schedule.
 *
 * One byte per choice (two when a choice has more than 256 alternatives).
 * A thread choice counts from the running thread, so byte 0 means "go on"
 * and the all-zero input is the non-preemptive execution; other choices
 * take alternative byte mod n. Past the end of the input every answer is
 * the first chooser's, so a short input is a schedule prefix.
 */
#include <string.h>

#include "../sim/sim.h"
#include "strategies.h"

static void bytes_begin(void *self, sim_ctx *sim) {
    (void)sim;
    sim_bytes *b = self;
    b->pos = 0;
}

static uint32_t bytes_choose(void *self, sim_ctx *sim, const sim_choice_point *pt) {
    (void)sim;
    sim_bytes *b = self;
    uint32_t base = pt->current != SIM_NO_CURRENT ? pt->current : 0;
    if (b->pos >= b->size) return base;
    uint32_t v = b->data[b->pos++];
    if (pt->n > 256 && b->pos < b->size) v = v << 8 | b->data[b->pos++];
    return (base + v) % (pt->n);
}

sim_chooser sim_bytes_chooser(sim_bytes *b, const uint8_t *data, size_t size) {
    memset(b, 0, sizeof *b);
    b->data = data;
    b->size = size;
    return (sim_chooser){b, "bytes", bytes_begin, bytes_choose, NULL};
}
