/* cli_report.c - what the CLI prints and writes: the failure report, JSON
 * lines, JUnit XML, and the trace as text or as Chrome trace events.
 *
 * A failure report says which property failed and why, the schedule that
 * reproduces it (after shrinking), the relevant part of the model trace, and
 * the one command that replays it.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void json_string(FILE *out, const char *s) {
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

static void xml_string(FILE *out, const char *s) {
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default:
            if (*p < 0x20 && *p != '\n' && *p != '\t')
                fputc(' ', out);
            else
                fputc(*p, out);
        }
    }
}

const char *cli_verdict_word(const cli_outcome *oc) {
    return !oc->failed ? "pass" : oc->verdict == SIM_INTERNAL ? "internal" : "fail";
}

int cli_exit_merge(int rc, const cli_outcome *oc) {
    if (!oc->failed) return rc;
    if (oc->verdict == SIM_INTERNAL) return CLI_EXIT_INTERNAL;
    return rc == CLI_EXIT_PASS ? CLI_EXIT_FAIL : rc;
}

void cli_json_outcome(FILE *out, const cli_target *t, const cli_outcome *oc) {
    fputs("{\"scenario\":", out);
    json_string(out, scn_name(t->scn));
    fputs(",\"file\":", out);
    json_string(out, t->path);
    fputs(",\"backend\":\"sim\",\"strategy\":", out);
    json_string(out, cli_strategy_name(oc->strategy));
    fprintf(out, ",\"seed\":%" PRIu64 ",\"verdict\":\"%s\",\"property\":", oc->seed, cli_verdict_word(oc));
    if (oc->failed)
        json_string(out, oc->property);
    else
        fputs("null", out);
    fputs(",\"message\":", out);
    json_string(out, oc->failed ? oc->message : "");
    fputs(",\"schedule\":", out);
    json_string(out, oc->schedule);
    fprintf(out,
            ",\"decisions\":%u,\"preemptions\":%u,\"deviations\":%u,\"steps\":%" PRIu64 ",\"virtual_ns\":%" PRId64
            ",\"trace_hash\":\"%016" PRIx64 "\"",
            oc->ndecisions, oc->preemptions, oc->deviations, oc->steps, oc->virtual_ns, oc->trace_hash);
    if (oc->swarm) {
        fprintf(out, ",\"swarm_seed\":%" PRIu64 ",\"swarm\":", oc->swarm_seed);
        json_string(out, oc->swarm_desc);
    }
    fputs("}\n", out);
    fflush(out);
}

void cli_json_summary(FILE *out, uint64_t executions, uint64_t failures, double elapsed_s) {
    fprintf(out,
            "{\"summary\":true,\"executions\":%" PRIu64 ",\"failures\":%" PRIu64
            ",\"exec_per_s\":%.1f,\"elapsed_s\":%.6f}\n",
            executions, failures, elapsed_s > 0 ? (double)executions / elapsed_s : 0.0, elapsed_s);
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
    /* An internal error is iocpcheck's own bug: said apart from a failure. */
    fprintf(out, "%s %s (%s)\n", oc->verdict == SIM_INTERNAL ? "INTERNAL ERROR" : "FAIL", t->path, scn_name(t->scn));
    fprintf(out, "  property: %s\n", oc->property);
    fprintf(out, "  %s\n", oc->message);
    if (o != NULL && (o->cmd != NULL && strcmp(o->cmd, "fuzz") == 0))
        fprintf(out, "  found by %s at seed %" PRIu64 " after %" PRIu64 " executions\n", cli_strategy_name(oc->strategy),
                oc->seed, executions);
    if (oc->swarm) fprintf(out, "  swarm configuration: %s\n", oc->swarm_desc);
    if (decisions_before != oc->ndecisions || preemptions_before != oc->preemptions)
        fprintf(out, "  shrunk: %u -> %u decisions, %u -> %u preemptions\n", decisions_before, oc->ndecisions,
                preemptions_before, oc->preemptions);
    fprintf(out, "  schedule: %s\n  (%u decisions: %u preemptions, %u other choices (kernel, scenario) off their first outcome)\n",
            oc->schedule, oc->ndecisions, oc->preemptions, oc->deviations);
    fprintf(out, "  trace (model events; >> marks the ones the property names):\n");
    print_relevant(out, t, oc);
    fprintf(out, "  replay: %s replay %s --schedule '%s'", o && o->argv0 ? o->argv0 : "iocpcheck", t->path,
            oc->schedule);
    if (oc->swarm) fprintf(out, " --swarm %" PRIu64, oc->swarm_seed);
    fprintf(out, " --trace -\n");
    fflush(out);
}

bool cli_junit_write(const char *file, const cli_junit_case *cases, uint32_t n, double elapsed_s) {
    FILE *f = fopen(file, "w");
    if (f == NULL) {
        fprintf(stderr, "iocpcheck: cannot write %s\n", file);
        return false;
    }
    uint32_t failures = 0;
    for (uint32_t i = 0; i < n; i++) failures += cases[i].failed;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites tests=\"%u\" failures=\"%u\" time=\"%.3f\">\n", n, failures, elapsed_s);
    fprintf(f, "  <testsuite name=\"iocpcheck\" tests=\"%u\" failures=\"%u\" time=\"%.3f\">\n", n, failures, elapsed_s);
    for (uint32_t i = 0; i < n; i++) {
        const cli_junit_case *c = &cases[i];
        fprintf(f, "    <testcase classname=\"");
        xml_string(f, c->path);
        fprintf(f, "\" name=\"");
        xml_string(f, c->name);
        fprintf(f, "\" time=\"%.3f\">\n", c->time_s);
        if (c->failed) {
            fprintf(f, "      <failure type=\"");
            xml_string(f, c->property);
            fprintf(f, "\" message=\"");
            xml_string(f, c->message);
            fprintf(f, "\">schedule: ");
            xml_string(f, c->schedule);
            fprintf(f, "</failure>\n");
        }
        fprintf(f, "      <system-out>%" PRIu64 " executions</system-out>\n", c->executions);
        fprintf(f, "    </testcase>\n");
    }
    fprintf(f, "  </testsuite>\n</testsuites>\n");
    return fclose(f) == 0;
}

static FILE *open_out(const char *file) {
    if (strcmp(file, "-") == 0) return stdout;
    FILE *f = fopen(file, "w");
    if (f == NULL) fprintf(stderr, "iocpcheck: cannot write %s\n", file);
    return f;
}

static bool close_out(FILE *f) { return f == stdout ? fflush(f) == 0 : fclose(f) == 0; }

/* Text: the simulator's own trace (every seam call, kernel action and choice)
 * followed by the model trace. Written from the last execution, which the
 * caller has just run with the trace kept. */
bool cli_trace_text(const char *file, cli_target *t) {
    FILE *f = open_out(file);
    if (f == NULL) return false;
    fprintf(f, "== simulator trace: %s ==\n", t->path);
    sim_trace_write(t->sim, f);
    fprintf(f, "== model trace ==\n");
    model_trace_write(t->trace, f);
    return close_out(f);
}

/* Chrome trace-event format (opens in Perfetto and chrome://tracing): one
 * track per virtual thread plus one for the kernel, every simulator event an
 * instant event. The timestamp is the step number in microseconds, so events
 * at the same virtual instant stay apart; the virtual time is in args. */
bool cli_trace_json(const char *file, cli_target *t) {
    FILE *f = open_out(file);
    if (f == NULL) return false;
    fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n", f);
    const sim_event *ev = sim_trace_events(t->sim);
    uint32_t n = sim_trace_count(t->sim);
    bool named[SIM_MAX_THREADS + 1] = {false};
    char line[320];
    bool first = true;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t tid = ev[i].thread;
        if (tid <= SIM_MAX_THREADS && !named[tid]) {
            named[tid] = true;
            fprintf(f, "%s{\"ph\":\"M\",\"pid\":1,\"tid\":%u,\"name\":\"thread_name\",\"args\":{\"name\":\"%s%u\"}}",
                    first ? "" : ",\n", tid, tid == SIM_KERNEL_LABEL ? "kernel " : "T", tid);
            first = false;
        }
        sim_event_format(t->sim, &ev[i], line, sizeof line);
        fprintf(f, "%s{\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":%u,\"ts\":%" PRIu64 ",\"name\":", first ? "" : ",\n",
                tid, ev[i].step);
        first = false;
        json_string(f, sim_event_name(ev[i].kind));
        fprintf(f, ",\"args\":{\"virtual_ns\":%" PRId64 ",\"event\":", ev[i].time_ns);
        json_string(f, line);
        fputs("}}", f);
    }
    fputs("\n]}\n", f);
    return close_out(f);
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
