/* decisions.c - see decisions.h. Each embedded scenario is opened (parsed,
 * its simulator created, PCT's calibration run) the first time an input
 * picks it, and stays open: every execution starts from the simulator's
 * reset, so what ran before does not matter. */
#include <stdlib.h>

#include "../search/strategies.h"
#include "decisions.h"

#define MAX_SCENARIOS 256 /* the selector is one byte */
static cli_target targets[MAX_SCENARIOS];
static bool opened[MAX_SCENARIOS];
static int64_t last = -1;

static void (*observer)(const sim_choice_point *pt, uint32_t index);

void fuzz_decisions_observe(void (*fn)(const sim_choice_point *pt, uint32_t index)) { observer = fn; }

/* The bytes chooser, with every answer shown to the observer. */
static uint32_t observed_choose(void *self, sim_ctx *sim, const sim_choice_point *pt) {
    sim_chooser *inner = self;
    uint32_t idx = inner->choose(inner->self, sim, pt);
    if (observer != NULL) observer(pt, idx);
    return idx;
}
static void observed_begin(void *self, sim_ctx *sim) {
    sim_chooser *inner = self;
    inner->begin(inner->self, sim);
}

cli_target *fuzz_decisions_target(void) { return last >= 0 ? &targets[last] : NULL; }

const char *fuzz_decisions_run(const uint8_t *data, size_t size, cli_outcome *out) {
    uint32_t n = fuzz_nscenarios < MAX_SCENARIOS ? fuzz_nscenarios : MAX_SCENARIOS;
    uint32_t pick = size > 0 ? data[0] % n : 0;
    if (!opened[pick]) {
        const fuzz_scenario *f = &fuzz_scenarios[pick];
        if (cli_target_open_text(&targets[pick], f->path, f->text) != 0) exit(CLI_EXIT_USAGE);
        opened[pick] = true;
    }
    last = pick;
    sim_bytes b;
    sim_chooser ch = size > 0 ? sim_bytes_chooser(&b, data + 1, size - 1) : sim_bytes_chooser(&b, NULL, 0);
    sim_chooser obs = {&ch, "bytes", observed_begin, observed_choose, NULL};
    cli_exec(&targets[pick], &obs, out);
    return fuzz_scenarios[pick].path;
}
