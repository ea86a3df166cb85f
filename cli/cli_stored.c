/* cli_stored.c - a scenario's stored schedules (`schedule "..." expect ...`),
 * replayed before anything else by run, fuzz and explore.
 *
 * Each is a regression case: its decisions are followed as far as the
 * execution offers them, the default taken where it does not or after the
 * last one (cli_exec_lenient: a schedule that once broke a poller still
 * drives the fixed one through the same interleaving as far as the code
 * allows), and the execution must end as its `expect` says: pass, or fail
 * with the named property or verdict. A mismatch fails the scenario and is
 * reported with the schedule's file:line.
 */
#include <string.h>

#include "../lang/scn_ext.h"
#include "cli.h"

uint32_t cli_stored_run(const cli_opts *o, cli_target *t, cli_sinks *sinks, uint64_t *executions,
                        cli_outcome *first_bad) {
    uint32_t bad = 0;
    bool traced = sinks->trace != NULL || sinks->trace_json != NULL;
    for (uint32_t i = 0; i < scn_schedule_count(t->scn); i++) {
        const char *want = scn_schedule_expect(t->scn, i);
        uint32_t line = scn_schedule_line(t->scn, i);
        cli_outcome oc = {0};
        sim_set_record_trace(t->sim, traced);
        /* The parser has checked the text: this cannot fail. */
        cli_exec_lenient(t, scn_schedule(t->scn, i), &oc);
        sim_set_record_trace(t->sim, false);
        (*executions)++;
        const char *got = oc.failed ? oc.property : "pass";
        bool ok = want == NULL || strcmp(got, want) == 0;
        char label[64];
        snprintf(label, sizeof label, "stored schedule, line %u", line);
        if (traced) cli_sinks_trace(sinks, t, label);
        if (o->json && (o->report_all || !ok)) {
            cli_outcome shown = oc;
            if (!ok) {
                /* The record says why the scenario fails: its expectation. */
                shown.failed = true;
                shown.property = "stored-schedule";
                snprintf(shown.message, sizeof shown.message, "%s:%u: stored schedule ended %s%s%s, expected %s%s",
                         t->path, line, oc.failed ? "failing " : "", got, oc.failed ? "" : "ing",
                         strcmp(want, "pass") == 0 ? "pass" : "failing ",
                         strcmp(want, "pass") == 0 ? "" : want);
            }
            cli_json_outcome(stdout, t, &shown, "stored");
        } else if (!ok) {
            printf("FAIL %s:%u (%s): stored schedule ended %s%s, expected %s%s\n", t->path, line, scn_name(t->scn),
                   oc.failed ? "failing " : "passing", oc.failed ? got : "",
                   strcmp(want, "pass") == 0 ? "pass" : "failing ", strcmp(want, "pass") == 0 ? "" : want);
            if (oc.failed) printf("  %s\n", oc.message);
            printf("  schedule: %s\n", scn_schedule(t->scn, i));
        }
        if (!ok) {
            if (bad == 0 && first_bad != NULL) {
                cli_outcome_clear(first_bad);
                *first_bad = oc;
                first_bad->failed = true;
                first_bad->property = "stored-schedule";
                snprintf(first_bad->message, sizeof first_bad->message, "%s:%u: stored schedule ended %s, expected %s",
                         t->path, line, got, want);
                oc.schedule = NULL; /* moved */
            }
            bad++;
        }
        cli_outcome_clear(&oc);
    }
    return bad;
}
