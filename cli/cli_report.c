/* cli_report.c - what the CLI prints and writes: the failure report, JSON
 * lines (files: cli_output.c).
 *
 * A failure report says which property failed and why, the schedule that
 * reproduces it (after shrinking), the relevant part of the model trace, and
 * the one command that replays it.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *cli_s(uint64_t n) { return n == 1 ? "" : "s"; }

void cli_json_string(FILE *out, const char *s) {
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

const char *cli_verdict_word(const cli_outcome *oc) {
    return !oc->failed ? "pass" : oc->verdict == SIM_INTERNAL ? "internal" : oc->limit ? "limit" : "fail";
}

int cli_exit_merge(int rc, const cli_outcome *oc) {
    if (!oc->failed) return rc;
    if (oc->verdict == SIM_INTERNAL) return CLI_EXIT_INTERNAL;
    return rc == CLI_EXIT_PASS ? CLI_EXIT_FAIL : rc;
}

void cli_json_outcome(FILE *out, const cli_target *t, const cli_outcome *oc, const char *how) {
    fputs("{\"type\":\"execution\",\"scenario\":", out);
    cli_json_string(out, scn_name(t->scn));
    fputs(",\"file\":", out);
    cli_json_string(out, t->path);
    /* A seed means something only with the strategy that drew from it. */
    fputs(",\"backend\":\"sim\",\"strategy\":", out);
    cli_json_string(out, how != NULL ? how : cli_strategy_name(oc->strategy));
    if (how != NULL)
        fputs(",\"seed\":null", out);
    else
        fprintf(out, ",\"seed\":%" PRIu64, oc->seed);
    fprintf(out, ",\"verdict\":\"%s\",\"property\":", cli_verdict_word(oc));
    if (oc->failed)
        cli_json_string(out, oc->property);
    else
        fputs("null", out);
    fputs(",\"message\":", out);
    cli_json_string(out, oc->failed ? oc->message : "");
    fputs(",\"schedule\":", out);
    cli_json_string(out, oc->schedule);
    fprintf(out,
            ",\"decisions\":%u,\"preemptions\":%u,\"deviations\":%u,\"steps\":%" PRIu64 ",\"virtual_ns\":%" PRId64
            ",\"trace_hash\":\"%016" PRIx64 "\"",
            oc->ndecisions, oc->preemptions, oc->deviations, oc->steps, oc->virtual_ns, oc->trace_hash);
    if (oc->failed && oc->limit) {
        fputs(",\"knob\":", out);
        cli_json_string(out, oc->limit);
    }
    if (oc->swarm) {
        fprintf(out, ",\"swarm_seed\":%" PRIu64 ",\"swarm\":", oc->swarm_seed);
        cli_json_string(out, oc->swarm_desc);
    }
    fputs("}\n", out);
    fflush(out);
}

void cli_json_summary(FILE *out, uint32_t scenarios, uint32_t failed, uint64_t executions, uint64_t failures,
                      double elapsed_s) {
    fprintf(out,
            "{\"type\":\"summary\",\"scenarios\":%u,\"failed\":%u,\"executions\":%" PRIu64
            ",\"failures\":%" PRIu64 ",\"exec_per_s\":%.1f,\"elapsed_s\":%.6f}\n",
            scenarios, failed, executions, failures, elapsed_s > 0 ? (double)executions / elapsed_s : 0.0, elapsed_s);
    fflush(out);
}

/* The model events worth showing: those a violation names, with a little
 * context, else the last ones before the end. */
static void print_relevant(FILE *out, const cli_target *t, const cli_outcome *oc) {
    uint32_t n = model_trace_count(t->trace);
    const model_event *ev = model_trace_events(t->trace);
    if (n == 0) return;
    bool *show = cli_xcalloc(n, sizeof *show);
    uint32_t shown = 0;
    for (uint32_t k = 0; k < oc->nviolation_events; k++) {
        uint64_t at = oc->violation_events[k];
        for (uint64_t i = at >= 3 ? at - 3 : 0; i <= at + 3 && i < n; i++) show[i] = true;
    }
    uint32_t tail = n < 30 ? n : 30;
    for (uint32_t i = n - tail; i < n; i++) show[i] = true;
    for (uint32_t i = 0; i < n; i++)
        if (ev[i].kind == MEV_OP_BEGIN || ev[i].kind == MEV_OP_END || ev[i].kind == MEV_FATAL) show[i] = true;
    char line[320];
    bool gap = false;
    for (uint32_t i = 0; i < n; i++) {
        if (!show[i]) {
            gap = true;
            continue;
        }
        if (gap) fputs("        ...\n", out);
        gap = false;
        bool named = false;
        for (uint32_t k = 0; k < oc->nviolation_events; k++) named |= oc->violation_events[k] == i;
        model_event_format(&ev[i], line, sizeof line);
        fprintf(out, "    %s %s\n", named ? ">>" : "  ", line);
        shown++;
    }
    if (gap) fputs("        ...\n", out);
    free(show);
}

void cli_report_failure(FILE *out, const cli_opts *o, cli_target *t, const cli_outcome *oc, uint64_t executions,
                        uint32_t decisions_before, uint32_t preemptions_before) {
    /* An internal error is iocpcheck's own bug, a limit is no property's
     * failure: each said apart from a failure. */
    fprintf(out, "%s %s (%s)\n", oc->verdict == SIM_INTERNAL ? "INTERNAL ERROR" : oc->limit ? "LIMIT" : "FAIL", t->path,
            scn_name(t->scn));
    if (oc->limit && oc->verdict != SIM_INTERNAL)
        fprintf(out, "  a limit reached, not a property failure (knob %s raises it)\n", oc->limit);
    else
        fprintf(out, "  property: %s\n", oc->property);
    fprintf(out, "  %s\n", oc->message);
    if (o != NULL && (o->cmd != NULL && strcmp(o->cmd, "fuzz") == 0))
        fprintf(out, "  found by %s at seed %" PRIu64 " after %" PRIu64 " execution%s\n", cli_strategy_name(oc->strategy),
                oc->seed, executions, cli_s(executions));
    if (oc->swarm) fprintf(out, "  swarm configuration: %s\n", oc->swarm_desc);
    bool shrunk = o != NULL && o->cmd != NULL &&
                  (strcmp(o->cmd, "shrink") == 0 || (strcmp(o->cmd, "fuzz") == 0 && !o->no_shrink));
    if (decisions_before != oc->ndecisions || preemptions_before != oc->preemptions)
        fprintf(out, "  shrunk: %u -> %u decision%s, %u -> %u preemption%s\n", decisions_before, oc->ndecisions,
                oc->ndecisions == 1 ? "" : "s", preemptions_before, oc->preemptions, oc->preemptions == 1 ? "" : "s");
    else if (shrunk)
        fprintf(out, "  shrunk: nothing could be removed (no shorter or less preemptive schedule fails it)\n");
    fprintf(out, "  schedule: %s\n  (%u decision%s: %u preemption%s, %u other choice%s (kernel, scenario) off %s first outcome)\n",
            oc->schedule, oc->ndecisions, oc->ndecisions == 1 ? "" : "s", oc->preemptions,
            oc->preemptions == 1 ? "" : "s", oc->deviations, oc->deviations == 1 ? "" : "s",
            oc->deviations == 1 ? "its" : "their");
    fprintf(out, "  trace (model events; >> marks the ones the property names):\n");
    print_relevant(out, t, oc);
    fprintf(out, "  replay: %s replay %s --schedule '%s'", o && o->argv0 ? o->argv0 : "iocpcheck", t->path,
            oc->schedule);
    if (oc->swarm) fprintf(out, " --swarm %" PRIu64, oc->swarm_seed);
    fprintf(out, " --trace -\n");
    fflush(out);
}

/* --stats: how often each choice kind was asked, and its outcomes, over every
 * execution this simulator ran (choice coverage at a glance). */
void cli_print_stats(FILE *out, const cli_target *t) {
    const sim_stats *st = sim_get_stats(t->sim);
    fprintf(out, "  choices over %" PRIu64 " executions (%" PRIu64 " steps): kind asked [outcome 0, 1, ...]\n",
            st->executions, st->steps);
    for (int k = 0; k < SIM_CHOICE__COUNT; k++) {
        if (st->asked[k] == 0) continue;
        fprintf(out, "    %c %-12s %12" PRIu64 "  [", sim_choice_letter((sim_choice_kind)k),
                sim_choice_name((sim_choice_kind)k), st->asked[k]);
        int last = SIM_STATS_OUTCOMES - 1;
        while (last > 0 && st->outcome[k][last] == 0) last--;
        for (int i = 0; i <= last; i++) fprintf(out, "%s%" PRIu64, i ? ", " : "", st->outcome[k][i]);
        fprintf(out, "]\n");
    }
}
