/* fuzz_scenario_parse.c - libFuzzer target: the scenario parser (lang/) on
 * arbitrary bytes. A parse either fails with a "path:line:col: message"
 * that fits the buffer, or gives a scenario whose accessors work; both
 * free everything (the leak check runs after every input). */
#include <stdlib.h>
#include <string.h>

#include "../lang/scn_ext.h"
#include "../lang/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    text[size] = 0; /* the parser takes a C string: an inner NUL ends it early */
    char err[512];
    err[0] = 0;
    scn_scenario *s = scn_parse("fuzz.scn", text, err, sizeof err);
    if (s == NULL) {
        /* An error names where: the path first, always terminated. */
        if (strncmp(err, "fuzz.scn:", 9) != 0 || memchr(err, 0, sizeof err) == NULL) abort();
    } else {
        scn_knobs k = scn_get_knobs(s);
        (void)scn_knobs_faults(&k);
        (void)scn_name(s);
        for (uint32_t i = 0; i < scn_schedule_count(s); i++)
            if (scn_schedule(s, i) == NULL || scn_schedule_line(s, i) == 0) abort();
        (void)scn_thread_count(s);
        (void)scn_step_count(s);
        (void)scn_longest_wait_ns(s);
        scn_free(s);
    }
    free(text);
    return 0;
}
