/* decisions_schedule.c - fuzz_decisions_schedule: a fuzz_decisions input
 * (a crash file libFuzzer saved) back into the scenario and the schedule
 * that `iocpcheck replay` takes. Built without libFuzzer's main.
 *
 *   fuzz_decisions_schedule [--shrink] INPUT
 *   fuzz_decisions_schedule --seeds DIR COUNT
 *
 * Prints "key: value" lines: scenario, verdict, property (when it failed),
 * schedule, replay (the command). --shrink first shrinks a failing schedule
 * (same property), as `iocpcheck fuzz` does. Exit 1 if the execution
 * failed, 0 if it passed, 2 on bad usage or an unreadable input.
 *
 * --seeds writes a seed corpus: for every embedded scenario, the input of
 * its non-preemptive execution (NAME-first) and the inputs that
 * repeat `fuzz --strategy random` executions 1..COUNT (NAME-random-SEED),
 * each checked to replay the same schedule through the bytes chooser; so
 * the fuzzer starts where random testing does. IOCPCHECK_FUZZ_SCENARIO
 * (decisions.h) restricts both modes to one scenario. Exit 0, 2 on bad usage or an
 * unwritable DIR, 3 if an input does not repeat its execution.
 *
 *   fuzz_decisions_schedule --stored FILE EXCEPT DIR
 * writes, as inputs, the stored failing schedules of FILE (the format of
 * scenarios/mutant-schedules.txt: MUTANT SCENARIO PROPERTY SCHEDULE) on the
 * embedded scenarios in range, except those of mutant EXCEPT (leave one
 * out: the mutant being measured never starts from its own schedule). Each
 * is followed as far as the execution offers it (the default past that, as
 * stored schedules run) and written as the input of the execution it made
 * (DIR/stored-MUTANT). Exit 0, 2 on bad usage or an unreadable FILE.
 *
 *   fuzz_decisions_schedule --expand INPUT OUT
 * writes to OUT the input that repeats INPUT's execution with every
 * decision written out and no tail (fuzz_decisions_expansion: what the
 * "prefix" mutator keeps a prefix of). Exit 1 if the execution failed, 0 if
 * it passed, 2 if INPUT cannot be read or OUT written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decisions.h"

static int write_seeds(const char *argv0, const char *dir, const char *count_text) {
    char *end;
    unsigned long count = strtoul(count_text, &end, 10);
    if (*count_text == 0 || *end != 0 || count == 0 || count > 100000) {
        fprintf(stderr, "%s: --seeds: COUNT must be a number from 1 to 100000, got '%s'\n", argv0, count_text);
        return CLI_EXIT_USAGE;
    }
    uint32_t first, n;
    fuzz_decisions_range(&first, &n);
    for (uint32_t pick = first; pick < first + n; pick++) {
        const char *base = strrchr(fuzz_scenarios[pick].path, '/');
        base = base != NULL ? base + 1 : fuzz_scenarios[pick].path;
        for (unsigned long seed = 0; seed <= count; seed++) {
            /* Seed 0: the non-preemptive execution (every decision written: a short
             * input would have a random tail). */
            sim_random r;
            sim_chooser ch = seed > 0 ? sim_random_chooser(&r, seed) : sim_first_chooser();
            uint8_t *bytes;
            size_t size;
            cli_outcome want = {0}, got = {0};
            if (!fuzz_decisions_encode(pick, &ch, &bytes, &size, &want)) {
                free(bytes);
                cli_outcome_clear(&want);
                continue; /* a choice too wide for two bytes: no seed for this one */
            }
            fuzz_decisions_run(bytes, size, &got);
            if (strcmp(want.schedule, got.schedule) != 0) {
                fprintf(stderr, "%s: %s seed %lu: the input does not repeat the execution\n  %s\n  %s\n", argv0,
                        fuzz_scenarios[pick].path, seed, want.schedule, got.schedule);
                return CLI_EXIT_INTERNAL;
            }
            size_t len = strlen(dir) + strlen(base) + 32;
            char *file = cli_xmalloc(len);
            int stem = (int)strcspn(base, ".");
            if (seed == 0)
                snprintf(file, len, "%s/%.*s-first", dir, stem, base);
            else
                snprintf(file, len, "%s/%.*s-random-%lu", dir, stem, base, seed);
            FILE *f = fopen(file, "wb");
            if (f == NULL || fwrite(bytes, 1, size, f) != size || fclose(f) != 0) {
                fprintf(stderr, "%s: cannot write %s\n", argv0, file);
                return CLI_EXIT_USAGE;
            }
            free(file);
            free(bytes);
            cli_outcome_clear(&want);
            cli_outcome_clear(&got);
        }
    }
    return CLI_EXIT_PASS;
}

/* Follows a schedule where the execution offers its decisions, the
 * non-preemptive default elsewhere and after its end. */
typedef struct follow {
    const sim_decision *d;
    uint32_t n, pos;
} follow;
static uint32_t follow_choose(void *self, sim_ctx *sim, const sim_choice_point *pt) {
    (void)sim;
    follow *f = self;
    uint32_t dflt = pt->current != SIM_NO_CURRENT ? pt->current : 0;
    if (f->pos >= f->n) return dflt;
    const sim_decision *tok = &f->d[f->pos++];
    if (tok->kind != pt->kind) return dflt;
    for (uint32_t i = 0; i < pt->n; i++)
        if ((pt->labels != NULL ? pt->labels[i] : i) == tok->label) return i;
    return dflt;
}
static void follow_begin(void *self, sim_ctx *sim) {
    (void)sim;
    ((follow *)self)->pos = 0;
}

static int write_stored(const char *argv0, const char *file, const char *except, const char *dir) {
    FILE *f = fopen(file, "r");
    if (f == NULL) {
        fprintf(stderr, "%s: cannot read %s\n", argv0, file);
        return CLI_EXIT_USAGE;
    }
    uint32_t first, n;
    fuzz_decisions_range(&first, &n);
    char line[16384];
    int rc = CLI_EXIT_PASS;
    for (unsigned lineno = 1; fgets(line, sizeof line, f) != NULL; lineno++) {
        char mutant[128], scn[512], prop[128], sched[16000];
        if (line[0] == '#' || sscanf(line, "%127s %511s %127s %15999s", mutant, scn, prop, sched) != 4) continue;
        if (strcmp(mutant, except) == 0) continue;
        char path[600];
        snprintf(path, sizeof path, "scenarios/%s", scn);
        for (uint32_t pick = first; pick < first + n; pick++) {
            if (strcmp(fuzz_scenarios[pick].path, path) != 0) continue;
            sim_schedule s;
            char err[256];
            if (!sim_schedule_parse(sched, &s, err, sizeof err)) {
                fprintf(stderr, "%s:%u:1: %s\n", file, lineno, err);
                rc = CLI_EXIT_USAGE;
                break;
            }
            follow fl = {s.d, s.count, 0};
            sim_chooser ch = {&fl, "follow", follow_begin, follow_choose, NULL};
            uint8_t *bytes;
            size_t size;
            cli_outcome out = {0};
            bool ok = fuzz_decisions_encode(pick, &ch, &bytes, &size, &out);
            char name[700];
            snprintf(name, sizeof name, "%s/stored-%s", dir, mutant);
            FILE *w = ok ? fopen(name, "wb") : NULL;
            if (ok && (w == NULL || fwrite(bytes, 1, size, w) != size || fclose(w) != 0)) {
                fprintf(stderr, "%s: cannot write %s\n", argv0, name);
                rc = CLI_EXIT_USAGE;
            }
            free(bytes);
            cli_outcome_clear(&out);
            sim_schedule_free(&s);
        }
    }
    fclose(f);
    return rc;
}

/* The whole of `file` (malloc'd), or NULL after saying why. */
static uint8_t *read_input(const char *argv0, const char *file, size_t *size) {
    FILE *f = fopen(file, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: cannot read %s\n", argv0, file);
        return NULL;
    }
    size_t cap = 1 << 16, got;
    uint8_t *data = cli_xmalloc(cap);
    *size = 0;
    while ((got = fread(data + *size, 1, cap - *size, f)) > 0)
        if ((*size += got) == cap) data = cli_xrealloc(data, cap *= 2);
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: cannot read %s\n", argv0, file);
        free(data);
        return NULL;
    }
    return data;
}

/* --expand: the input that repeats INPUT's execution with every decision
 * written out (what mutator.c's "prefix" mutates). */
static int write_expansion(const char *argv0, const char *in, const char *out) {
    size_t size, n;
    uint8_t *data = read_input(argv0, in, &size);
    if (data == NULL) return CLI_EXIT_USAGE;
    fuzz_decisions_record(true);
    bool failed = fuzz_decisions_check(data, size);
    const uint8_t *e = fuzz_decisions_expansion(&n);
    free(data);
    FILE *w = n > 0 ? fopen(out, "wb") : NULL;
    if (w == NULL || fwrite(e, 1, n, w) != n || fclose(w) != 0) {
        fprintf(stderr, "%s: cannot write %s\n", argv0, out);
        return CLI_EXIT_USAGE;
    }
    return failed ? CLI_EXIT_FAIL : CLI_EXIT_PASS;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "--seeds") == 0) return write_seeds(argv[0], argv[2], argv[3]);
    if (argc == 5 && strcmp(argv[1], "--stored") == 0) return write_stored(argv[0], argv[2], argv[3], argv[4]);
    if (argc == 4 && strcmp(argv[1], "--expand") == 0) return write_expansion(argv[0], argv[2], argv[3]);
    bool shrink = argc == 3 && strcmp(argv[1], "--shrink") == 0;
    if (argc != 2 + shrink || argv[argc - 1][0] == '-') {
        fprintf(stderr, "usage: %s [--shrink] INPUT | --seeds DIR COUNT | --stored FILE EXCEPT DIR | --expand INPUT OUT\n",
                argv[0]);
        return CLI_EXIT_USAGE;
    }
    size_t size;
    uint8_t *data = read_input(argv[0], argv[argc - 1], &size);
    if (data == NULL) return CLI_EXIT_USAGE;
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
