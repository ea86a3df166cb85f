/* fuzz_decisions.c - libFuzzer target: a library scenario run with every
 * choice taken from the input (decisions.h has the layout).
 *
 * Guidance: the coverage of the poller, the simulated kernel and the
 * engine; with -use_value_profile=1 also the operands of their compares;
 * and, when IOCPCHECK_FUZZ_FEEDBACK asks for them, the schedule-state
 * features of observe.h (extra counters).
 * Mutations: libFuzzer's, and with IOCPCHECK_FUZZ_MUTATOR=1 the
 * structural ones of mutator.c.
 *
 * Each input runs once on the fast path (no schedule formatted). A failed
 * execution (a property, an expectation, deadlock, livelock, crash) runs
 * again for its report, which is printed with its schedule and the replay
 * command, then aborts, so libFuzzer saves the input;
 * fuzz_decisions_schedule turns that input back into the schedule.
 */
#include <stdio.h>
#include <stdlib.h>

#include "decisions.h"
#include "observe.h"

static uint64_t executions;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_observe_setup();
    executions++;
    if (!fuzz_decisions_check(data, size)) return 0;
    cli_outcome out = {0};
    const char *path = fuzz_decisions_run(data, size, &out);
    if (out.failed) {
        fprintf(stderr,
                "fuzz_decisions: %s failed after %llu executions: %s\n%s\nschedule: %s\n"
                "replay: iocpcheck replay %s --schedule '%s'\n",
                path, (unsigned long long)executions, out.property, out.message, out.schedule, path, out.schedule);
        fflush(stderr);
        abort();
    }
    /* The repeat passed: the observer changed the execution (a bug here). */
    fprintf(stderr, "fuzz_decisions: %s: the input failed on the fast path and passed when repeated\n", path);
    abort();
}
