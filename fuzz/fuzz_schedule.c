/* fuzz_schedule.c - libFuzzer target: the schedule parser (sim/schedule.c)
 * on arbitrary bytes, and a strict replay of what parses on a fixed library
 * scenario (the first one embedded; CMake embeds close/close-data-race.scn).
 *
 * Checked: what parses prints back to a string that parses to the same
 * decisions; a replay that passes recorded exactly the parsed decisions;
 * no replay fails a property on the correct poller (every decision a
 * replay accepts is a legal choice, so its execution is a real one).
 */
#include <stdlib.h>
#include <string.h>

#include "decisions.h"

/* Repeat counts can ask for up to 10^8 decisions (16 bytes each): inputs
 * whose counts add up past this are skipped, to stay within libFuzzer's
 * memory limit. */
#define MAX_DECISIONS 200000u

static bool too_long(const char *text) {
    uint64_t total = 0;
    for (const char *p = text; *p; p++) {
        if (*p != 'x' || p[1] < '0' || p[1] > '9') continue;
        uint64_t v = 0;
        for (p++; *p >= '0' && *p <= '9'; p++)
            if ((v = v * 10 + (uint64_t)(*p - '0')) > MAX_DECISIONS) return true;
        if ((total += v) > MAX_DECISIONS) return true;
        p--;
    }
    return false;
}

static bool same(const sim_schedule *a, const sim_schedule *b) {
    if (a->count != b->count) return false;
    for (uint32_t i = 0; i < a->count; i++)
        if (a->d[i].kind != b->d[i].kind || a->d[i].label != b->d[i].label) return false;
    return true;
}

static cli_target target;
static bool opened;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    sim_schedule s;
    char err[256];
    if (too_long(text) || !sim_schedule_parse(text, &s, err, sizeof err)) {
        free(text);
        return 0;
    }
    size_t need = sim_schedule_format(s.d, s.count, NULL, 0) + 1;
    char *printed = malloc(need);
    sim_schedule again;
    if (printed == NULL) abort();
    sim_schedule_format(s.d, s.count, printed, need);
    if (!sim_schedule_parse(printed, &again, err, sizeof err) || !same(&s, &again)) abort();
    sim_schedule_free(&again);

    if (!opened) {
        if (cli_target_open_text(&target, fuzz_scenarios[0].path, fuzz_scenarios[0].text) != 0) exit(2);
        opened = true;
    }
    cli_outcome out = {0};
    if (cli_exec_schedule(&target, text, true, &out) != 0) abort(); /* it parsed above */
    if (out.verdict == SIM_PASS && strcmp(out.schedule, printed) != 0) abort();
    if (out.failed && out.verdict != SIM_NONDETERMINISM) {
        fprintf(stderr, "fuzz_schedule: %s: %s\n%s\nreplay: iocpcheck replay %s --schedule '%s'\n",
                fuzz_scenarios[0].path, out.property, out.message, fuzz_scenarios[0].path, printed);
        abort();
    }
    cli_outcome_clear(&out);
    sim_schedule_free(&s);
    free(printed);
    free(text);
    return 0;
}
