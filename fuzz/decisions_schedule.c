/* decisions_schedule.c - fuzz_decisions_schedule: a fuzz_decisions input
 * (a crash file libFuzzer saved) back into the scenario and the schedule
 * that `iocpcheck replay` takes. Built without libFuzzer's main.
 *
 *   fuzz_decisions_schedule [--shrink] INPUT
 *
 * Prints "key: value" lines: scenario, verdict, property (when it failed),
 * schedule, replay (the command). --shrink first shrinks a failing schedule
 * (same property), as `iocpcheck fuzz` does. Exit 1 if the execution
 * failed, 0 if it passed, 2 on bad usage or an unreadable input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decisions.h"

int main(int argc, char **argv) {
    bool shrink = argc == 3 && strcmp(argv[1], "--shrink") == 0;
    if (argc != 2 + shrink || argv[argc - 1][0] == '-') {
        fprintf(stderr, "usage: %s [--shrink] INPUT\n", argv[0]);
        return CLI_EXIT_USAGE;
    }
    const char *file = argv[argc - 1];
    FILE *f = fopen(file, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: cannot read %s\n", argv[0], file);
        return CLI_EXIT_USAGE;
    }
    size_t cap = 1 << 16, size = 0, got;
    uint8_t *data = cli_xmalloc(cap);
    while ((got = fread(data + size, 1, cap - size, f)) > 0)
        if ((size += got) == cap) data = cli_xrealloc(data, cap *= 2);
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: cannot read %s\n", argv[0], file);
        free(data);
        return CLI_EXIT_USAGE;
    }
    cli_outcome out = {0};
    const char *path = fuzz_decisions_run(data, size, &out);
    if (out.failed && shrink) cli_shrink(fuzz_decisions_target(), &out);
    printf("scenario: %s\nverdict: %s\n", path, out.failed ? "fail" : "pass");
    if (out.failed) printf("property: %s\n", out.property);
    printf("schedule: %s\nreplay: iocpcheck replay %s --schedule '%s'\n", out.schedule, path, out.schedule);
    int rc = out.failed ? CLI_EXIT_FAIL : CLI_EXIT_PASS;
    cli_outcome_clear(&out);
    free(data);
    return rc;
}
