/* cli_output.c - the files a command writes besides stdout: --trace (text),
 * --trace-json (Chrome trace events) and --junit (XML).
 *
 * Every file is opened before the first execution, so a path that cannot be
 * written is bad usage (exit 2) and nothing has run; each scenario's traced
 * execution is then appended, so a command over several scenarios keeps all
 * of them (the text one after another; in the Chrome trace one process per
 * execution, named after its scenario); the JUnit report is written at the
 * end from the cases collected.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../lang/scn_ext.h"
#include "cli.h"

static FILE *open_out(const char *file, const char *what) {
    if (strcmp(file, "-") == 0) return stdout;
    FILE *f = fopen(file, "w");
    if (f == NULL) fprintf(stderr, "iocpcheck: %s: cannot write %s: %s\n", what, file, strerror(errno));
    return f;
}

static bool close_out(FILE *f) { return f == stdout ? fflush(f) == 0 : fclose(f) == 0; }

int cli_sinks_open(cli_sinks *s, const cli_opts *o) {
    memset(s, 0, sizeof *s);
    if (o->trace_path != NULL && (s->trace = open_out(o->trace_path, "--trace")) == NULL) goto bad;
    if (o->trace_json != NULL) {
        if ((s->trace_json = open_out(o->trace_json, "--trace-json")) == NULL) goto bad;
        fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", s->trace_json);
    }
    if (o->junit != NULL) {
        /* Opened (and emptied) now so that a bad path stops the command first. */
        if ((s->junit = open_out(o->junit, "--junit")) == NULL) goto bad;
        if (s->junit == stdout) {
            fprintf(stderr, "iocpcheck: --junit needs a file, not -\n");
            goto bad;
        }
    }
    return 0;
bad:
    s->trace_json = NULL; /* nothing written yet: no closing bracket */
    cli_sinks_close(s, 0);
    return CLI_EXIT_USAGE;
}

void cli_sinks_trace(cli_sinks *s, cli_target *t, const char *label) {
    if (s->trace != NULL) {
        fprintf(s->trace, "== simulator trace: %s (%s)%s%s ==\n", t->path, scn_name(t->scn), label ? ": " : "",
                label ? label : "");
        sim_trace_write(t->sim, s->trace);
        fprintf(s->trace, "== model trace ==\n");
        model_trace_write(t->trace, s->trace);
        fflush(s->trace);
    }
    if (s->trace_json != NULL) cli_trace_json_append(s, t, label);
}

/* Chrome trace-event format (opens in Perfetto and chrome://tracing): one
 * process per execution, named after its scenario; one track per thread,
 * named as the scenario names it ("main" runs the scenario), and the kernel
 * as a track of its own. ts is virtual time in microseconds (ns precision):
 * events at the same instant share it, in step order; the step is in args. */
void cli_trace_json_append(cli_sinks *s, cli_target *t, const char *label) {
    FILE *f = s->trace_json;
    uint32_t pid = ++s->trace_json_pid;
    char name[512];
    snprintf(name, sizeof name, "%s (%s)%s%s", scn_name(t->scn), t->path, label ? ": " : "", label ? label : "");
    fprintf(f, "%s\n{\"ph\":\"M\",\"pid\":%u,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":", pid > 1 ? "," : "",
            pid);
    cli_json_string(f, name);
    fputs("}}", f);
    const sim_event *ev = sim_trace_events(t->sim);
    uint32_t n = sim_trace_count(t->sim);
    bool named[SIM_KERNEL_LABEL + 1] = {false};
    char line[320];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t tid = ev[i].thread;
        if (tid <= SIM_KERNEL_LABEL && !named[tid]) {
            named[tid] = true;
            const char *tn = tid == SIM_KERNEL_LABEL ? "kernel" : tid == 0 ? "main" : scn_thread_name(t->scn, tid - 1);
            char buf[32];
            if (tn == NULL) {
                snprintf(buf, sizeof buf, "T%u", tid);
                tn = buf;
            }
            fprintf(f, ",\n{\"ph\":\"M\",\"pid\":%u,\"tid\":%u,\"name\":\"thread_name\",\"args\":{\"name\":", pid, tid);
            cli_json_string(f, tn);
            /* The kernel's track last in Perfetto's list; the threads in order. */
            fprintf(f, "}},\n{\"ph\":\"M\",\"pid\":%u,\"tid\":%u,\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":%u}}",
                    pid, tid, tid);
        }
        sim_event_format(t->sim, &ev[i], line, sizeof line);
        fprintf(f, ",\n{\"ph\":\"i\",\"s\":\"t\",\"pid\":%u,\"tid\":%u,\"ts\":%" PRId64 ".%03d,\"name\":", pid, tid,
                ev[i].time_ns / 1000, (int)(ev[i].time_ns % 1000));
        cli_json_string(f, sim_event_name(ev[i].kind));
        fprintf(f, ",\"args\":{\"step\":%" PRIu64 ",\"virtual_ns\":%" PRId64 ",\"event\":", ev[i].step, ev[i].time_ns);
        cli_json_string(f, line);
        fputs("}}", f);
    }
    fflush(f);
}

void cli_sinks_case(cli_sinks *s, const cli_target *t, double time_s, uint64_t executions, const cli_outcome *fail) {
    if (s->junit == NULL) return;
    if (s->ncases == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->cases = cli_xrealloc(s->cases, s->cap * sizeof *s->cases);
    }
    cli_junit_case *c = &s->cases[s->ncases++];
    memset(c, 0, sizeof *c);
    /* Copies: the scenario is freed before the report is written. */
    c->name = cli_xstrdup(scn_name(t->scn));
    c->path = cli_xstrdup(t->path);
    c->time_s = time_s;
    c->executions = executions;
    if (fail != NULL) {
        c->failed = true;
        c->property = cli_xstrdup(fail->property ? fail->property : "?");
        c->message = cli_xstrdup(fail->message);
        c->schedule = cli_xstrdup(fail->schedule ? fail->schedule : "");
    }
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

static void junit_write(FILE *f, const cli_junit_case *cases, uint32_t n, double elapsed_s) {
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
}

bool cli_sinks_close(cli_sinks *s, double elapsed_s) {
    bool ok = true;
    if (s->trace != NULL) ok &= close_out(s->trace);
    if (s->trace_json != NULL) {
        fputs("\n]}\n", s->trace_json);
        ok &= close_out(s->trace_json);
    }
    if (s->junit != NULL) {
        junit_write(s->junit, s->cases, s->ncases, elapsed_s);
        ok &= close_out(s->junit);
    }
    for (uint32_t i = 0; i < s->ncases; i++) {
        free((char *)s->cases[i].name);
        free((char *)s->cases[i].path);
        free((char *)s->cases[i].property);
        free((char *)s->cases[i].message);
        free((char *)s->cases[i].schedule);
    }
    free(s->cases);
    if (!ok) fprintf(stderr, "iocpcheck: an output file could not be written in full\n");
    memset(s, 0, sizeof *s);
    return ok;
}
