/* fuzz_decisions.c - libFuzzer target: a library scenario run with every
 * choice taken from the input (decisions.h has the layout).
 *
 * Guidance: the coverage of the poller, the simulated kernel and the
 * engine; with -use_value_profile=1 also the operands of their compares;
 * and, when IOCPCHECK_FUZZ_FEEDBACK asks for them, the schedule-state
 * features of observe.h (extra counters).
 * Mutations: mutator.c's prefix-keeping ones and libFuzzer's, half each
 * by default (IOCPCHECK_FUZZ_MUTATOR, mutator.c).
 *
 * Each input runs once on the fast path (no schedule formatted). A failed
 * execution (a property, an expectation, deadlock, livelock, crash) runs
 * again for its report, which is printed with its schedule and the replay
 * command, then aborts, so libFuzzer saves the input;
 * fuzz_decisions_schedule turns that input back into the schedule. The
 * report also says how long the search took from its first input, so a
 * measurement can tell libFuzzer's start-up from the search (the time goes
 * to stderr only: no decision depends on it).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "decisions.h"
#include "mutator.h"
#include "observe.h"

static uint64_t executions;
void fuzz_decisions_count(void) { executions++; }

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
static double first_input;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (executions == 0) {
        first_input = now();
        fuzz_observe_setup();
        fuzz_mutator_setup();
    }
    executions++;
    if (!fuzz_decisions_check(data, size)) {
        fuzz_mutator_note(data, size);
        return 0;
    }
    cli_outcome out = {0};
    const char *path = fuzz_decisions_run(data, size, &out);
    if (out.failed) {
        fprintf(stderr,
                "fuzz_decisions: %s failed after %llu executions: %s\n%s\nschedule: %s\n"
                "replay: iocpcheck replay %s --schedule '%s'\n",
                path, (unsigned long long)executions, out.property, out.message, out.schedule, path, out.schedule);
        fprintf(stderr, "fuzz_decisions: %.3f s from the first input\n", now() - first_input);
        fflush(stderr);
        abort();
    }
    /* The repeat passed: the observer changed the execution (a bug here). */
    fprintf(stderr, "fuzz_decisions: %s: the input failed on the fast path and passed when repeated\n", path);
    abort();
}
