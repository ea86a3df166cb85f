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
 * named as the scenario names it ("main" runs the scenario; the simulator's
 * kernel is a track of its own). */
static uint32_t chrome_process(cli_sinks *s, const scn_scenario *scn, const char *path, const char *label) {
    FILE *f = s->trace_json;
    uint32_t pid = ++s->trace_json_pid;
    char name[512];
    snprintf(name, sizeof name, "%s (%s)%s%s", scn_name(scn), path, label ? ": " : "", label ? label : "");
    fprintf(f, "%s\n{\"ph\":\"M\",\"pid\":%u,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":", pid > 1 ? "," : "",
            pid);
    cli_json_string(f, name);
    fputs("}}", f);
    return pid;
}

static void chrome_thread(FILE *f, const scn_scenario *scn, uint32_t pid, uint32_t tid) {
    const char *tn = tid == SIM_KERNEL_LABEL ? "kernel" : tid == 0 ? "main" : scn_thread_name(scn, tid - 1);
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

/* An instant event at `ns` (microseconds with ns precision); `clock` names
 * the args field that carries ns exactly (virtual_ns, wall_ns). */
static void chrome_instant(FILE *f, uint32_t pid, uint32_t tid, int64_t ns, const char *name, const char *clock,
                           const char *step_field, uint64_t step, const char *text) {
    fprintf(f, ",\n{\"ph\":\"i\",\"s\":\"t\",\"pid\":%u,\"tid\":%u,\"ts\":%" PRId64 ".%03d,\"name\":", pid, tid,
            ns / 1000, (int)(ns % 1000));
    cli_json_string(f, name);
    fprintf(f, ",\"args\":{\"%s\":%" PRIu64 ",\"%s\":%" PRId64 ",\"event\":", step_field, step, clock, ns);
    cli_json_string(f, text);
    fputs("}}", f);
}

/* The simulator's execution: ts is virtual time; events at the same instant
 * share it, in step order; the step is in args. */
void cli_trace_json_append(cli_sinks *s, cli_target *t, const char *label) {
    FILE *f = s->trace_json;
    uint32_t pid = chrome_process(s, t->scn, t->path, label);
    const sim_event *ev = sim_trace_events(t->sim);
    uint32_t n = sim_trace_count(t->sim);
    bool named[SIM_KERNEL_LABEL + 1] = {false};
    char line[320];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t tid = ev[i].thread;
        if (tid <= SIM_KERNEL_LABEL && !named[tid]) {
            named[tid] = true;
            chrome_thread(f, t->scn, pid, tid);
        }
        sim_event_format(t->sim, &ev[i], line, sizeof line);
        chrome_instant(f, pid, tid, ev[i].time_ns, sim_event_name(ev[i].kind), "virtual_ns", "step", ev[i].step, line);
    }
    fflush(f);
}

/* A real execution's model trace (validate): ts is the backend's clock, wall
 * time in microseconds, counted from the execution's first event; a thread's
 * events are in the order it made them, so each track's ts only grows. The
 * trace's position of each event is in args (seq). */
void cli_trace_json_model(cli_sinks *s, const scn_scenario *scn, const char *path, const model_trace *mt,
                          const char *label) {
    FILE *f = s->trace_json;
    if (f == NULL) return;
    uint32_t pid = chrome_process(s, scn, path, label);
    const model_event *ev = model_trace_events(mt);
    uint32_t n = model_trace_count(mt);
    int64_t t0 = n > 0 ? ev[0].time_ns : 0;
    for (uint32_t i = 1; i < n; i++)
        if (ev[i].time_ns < t0) t0 = ev[i].time_ns;
    uint64_t named[4] = {0}; /* threads 0..255 */
    char line[512];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t tid = ev[i].thread;
        if (tid < 256 && !(named[tid / 64] >> (tid % 64) & 1)) {
            named[tid / 64] |= 1ull << (tid % 64);
            chrome_thread(f, scn, pid, tid);
        }
        model_event_format(&ev[i], line, sizeof line);
        chrome_instant(f, pid, tid, ev[i].time_ns - t0, model_event_name(ev[i].kind), "wall_ns", "seq", ev[i].seq, line);
    }
    fflush(f);
}

void cli_sinks_case_add(cli_sinks *s, const char *name, const char *path, double time_s, uint64_t executions,
                        const char *property, const char *message, const char *schedule, const char *skipped) {
    if (s->junit == NULL) return;
    if (s->ncases == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->cases = cli_xrealloc(s->cases, s->cap * sizeof *s->cases);
    }
    cli_junit_case *c = &s->cases[s->ncases++];
    memset(c, 0, sizeof *c);
    /* Copies: the scenario is freed before the report is written. */
    c->name = cli_xstrdup(name);
    c->path = cli_xstrdup(path);
    c->time_s = time_s;
    c->executions = executions;
    if (property != NULL) {
        c->failed = true;
        c->property = cli_xstrdup(property);
        c->message = cli_xstrdup(message ? message : "");
        c->schedule = cli_xstrdup(schedule ? schedule : "");
    } else if (skipped != NULL) {
        c->skipped = cli_xstrdup(skipped);
    }
}

void cli_sinks_case(cli_sinks *s, const cli_target *t, double time_s, uint64_t executions, const cli_outcome *fail) {
    cli_sinks_case_add(s, scn_name(t->scn), t->path, time_s, executions,
                       fail != NULL ? (fail->property ? fail->property : "?") : NULL, fail ? fail->message : NULL,
                       fail ? fail->schedule : NULL, NULL);
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
    uint32_t failures = 0, skipped = 0;
    for (uint32_t i = 0; i < n; i++) {
        failures += cases[i].failed;
        skipped += cases[i].skipped != NULL;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites tests=\"%u\" failures=\"%u\" skipped=\"%u\" time=\"%.3f\">\n", n, failures, skipped,
            elapsed_s);
    fprintf(f, "  <testsuite name=\"iocpcheck\" tests=\"%u\" failures=\"%u\" skipped=\"%u\" time=\"%.3f\">\n", n,
            failures, skipped, elapsed_s);
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
            fprintf(f, "\">");
            if (c->schedule[0] != 0) fprintf(f, "schedule: ");
            xml_string(f, c->schedule[0] != 0 ? c->schedule : c->message);
            fprintf(f, "</failure>\n");
        } else if (c->skipped != NULL) {
            fprintf(f, "      <skipped message=\"");
            xml_string(f, c->skipped);
            fprintf(f, "\"/>\n");
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
        free((char *)s->cases[i].skipped);
    }
    free(s->cases);
    if (!ok) fprintf(stderr, "iocpcheck: an output file could not be written in full\n");
    memset(s, 0, sizeof *s);
    return ok;
}
