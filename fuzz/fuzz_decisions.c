/* fuzz_decisions.c - libFuzzer target: a library scenario run with every
 * choice taken from the input (decisions.h has the layout).
 *
 * Guidance: the coverage of the poller, the simulated kernel and the
 * engine; with -use_value_profile=1 also the operands of their compares,
 * among them every simulated compare-and-swap of the poller's state words
 * (sim/sync.c compares the old value with the expected one in instrumented
 * code). On top, an extra-counters region counts pairs of consecutive
 * decisions (kind and label): an interleaving libFuzzer has not seen before
 * is new coverage even where the code paths are the same.
 *
 * A failed execution (a property, an expectation, deadlock, livelock,
 * crash) prints the report, its schedule and the replay command, then
 * aborts, so libFuzzer saves the input; fuzz_decisions_schedule turns that
 * input back into the schedule.
 */
#include <stdio.h>
#include <stdlib.h>

#include "decisions.h"

#if defined(__linux__) && defined(__clang__)
/* libFuzzer reads this section as extra coverage counters. */
__attribute__((section("__libfuzzer_extra_counters"))) static uint8_t pair_counters[1u << 14];
static uint32_t prev_choice;
static void count_pair(const sim_choice_point *pt, uint32_t index) {
    if (pt->position == 0) prev_choice = 0; /* a new execution */
    uint32_t label = pt->labels != NULL ? pt->labels[index] : index;
    uint32_t preempt = pt->current != SIM_NO_CURRENT && index != pt->current;
    uint32_t cur = (uint32_t)pt->kind << 8 | (label & 0x7f) | preempt << 7;
    uint32_t h = (prev_choice * 0x9e3779b1u ^ cur) * 0x85ebca6bu;
    uint8_t *c = &pair_counters[h >> 18];
    if (*c < 255) (*c)++;
    prev_choice = cur;
}
#define OBSERVER count_pair
#else
#define OBSERVER NULL
#endif

static uint64_t executions;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cli_outcome out = {0};
    fuzz_decisions_observe(OBSERVER);
    const char *path = fuzz_decisions_run(data, size, &out);
    executions++;
    if (out.failed) {
        fprintf(stderr,
                "fuzz_decisions: %s failed after %llu executions: %s\n%s\nschedule: %s\n"
                "replay: iocpcheck replay %s --schedule '%s'\n",
                path, (unsigned long long)executions, out.property, out.message, out.schedule, path, out.schedule);
        fflush(stderr);
        abort();
    }
    cli_outcome_clear(&out);
    return 0;
}
