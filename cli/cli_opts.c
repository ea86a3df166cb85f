/* cli_opts.c - the commands and options of iocpcheck, as two tables.
 *
 * `commands` has one row per command and per variant of a command that an
 * option selects (bench --explore, bench --backend win32, validate
 * --conformance, demo --replay-lost-update): each variant reads different
 * options. `options` has one row per option: its argument, the variants it
 * applies to (a mask of command rows), how its value is parsed and where it
 * goes in cli_opts. An option is looked up within the command named on the
 * line, so one given to a command that does not read it is an error (exit
 * 2), never silently ignored. The usage text is printed from the same rows.
 * Which fields each command reads: cli_fuzz.c (run, fuzz, bench),
 * cli_shrink.c (replay, shrink), cli_explore.c (explore, bench --explore),
 * cli_validate.c (validate, bench --backend win32), demo.c.
 */
#include "cli_opts.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../search/explore.h"
#include "cli_real.h"
#include "demo.h"

/* ---- Commands ---- */

typedef enum cmd_id {
    CMD_RUN,
    CMD_FUZZ,
    CMD_REPLAY,
    CMD_SHRINK,
    CMD_EXPLORE,
    CMD_BENCH,
    CMD_BENCH_EXPLORE, /* variants: the first one whose option is given, in this order */
    CMD_BENCH_REAL,
    CMD_VALIDATE,
    CMD_CONFORM,
    CMD_DEMO,
    CMD_DEMO_REPLAY,
    CMD__COUNT
} cmd_id;

#define C(id) (1u << (id))
#define RUN C(CMD_RUN)
#define FUZZ C(CMD_FUZZ)
#define REPLAY C(CMD_REPLAY)
#define SHRINK C(CMD_SHRINK)
#define EXPLORE C(CMD_EXPLORE)
#define BENCH C(CMD_BENCH)
#define BENCH_EXPLORE C(CMD_BENCH_EXPLORE)
#define BENCH_REAL C(CMD_BENCH_REAL)
#define VALIDATE C(CMD_VALIDATE)
#define CONFORM C(CMD_CONFORM)
#define DEMO C(CMD_DEMO)
#define DEMO_REPLAY C(CMD_DEMO_REPLAY)

static bool real_backend(const cli_opts *o) { return o->backend != NULL && strcmp(o->backend, "win32") == 0; }
static bool bench_explore(const cli_opts *o) { return o->bench_explore; }
static bool conformance(const cli_opts *o) { return o->conformance; }
static bool demo_replay(const cli_opts *o) { return o->demo_replay != NULL; }

static int run_demo(const cli_opts *o) { return demo_main(o->argv0, o->seed, 1000, o->demo_trace); }
static int run_demo_replay(const cli_opts *o) { return demo_replay_lost_update(o->demo_replay); }

static const cli_command commands[CMD__COUNT] = {
    [CMD_RUN] = {"run", NULL, NULL, "run FILE...", "one execution each", CLI_FILES_NEEDED, cli_cmd_run},
    [CMD_FUZZ] = {"fuzz", NULL, NULL, "fuzz FILE...", "many executions; a failure is shrunk and reported",
                  CLI_FILES_NEEDED, cli_cmd_fuzz},
    [CMD_REPLAY] = {"replay", NULL, NULL, "replay FILE --schedule STR", "exactly one execution again",
                    CLI_FILES_NEEDED, cli_cmd_replay},
    [CMD_SHRINK] = {"shrink", NULL, NULL, "shrink FILE --schedule STR",
                    "a failing schedule made as small as possible", CLI_FILES_NEEDED, cli_cmd_shrink},
    [CMD_EXPLORE] = {"explore", NULL, NULL, "explore FILE...",
                     "every schedule within K preemptions and D kernel deviations (iterative deepening on K + D)",
                     CLI_FILES_NEEDED, cli_cmd_explore},
    [CMD_BENCH] = {"bench", NULL, NULL, "bench [FILE...]", "executions and steps per second per scenario",
                   CLI_FILES_LIBRARY, cli_cmd_bench},
    [CMD_BENCH_EXPLORE] = {"bench", "--explore", bench_explore, "bench --explore [FILE...]",
                           "explored executions/s, DPOR vs naive DFS", CLI_FILES_LIBRARY, cli_bench_explore},
    [CMD_BENCH_REAL] = {"bench", "--backend win32", real_backend, "bench --backend win32 [FILE...]",
                        "real and simulated executions per second, side by side (Windows build)", CLI_FILES_LIBRARY,
                        cli_cmd_bench_real},
    [CMD_VALIDATE] = {"validate", NULL, NULL, "validate FILE... --backend win32",
                      "the scenarios on the real backend (Windows build), traces checked by the models",
                      CLI_FILES_NEEDED, cli_cmd_validate},
    [CMD_CONFORM] = {"validate", "--conformance", conformance, "validate FILE... --backend win32 --conformance",
                     "validate, then every real outcome must be one the simulator can produce", CLI_FILES_NEEDED,
                     cli_cmd_validate},
    [CMD_DEMO] = {"demo", NULL, NULL, "demo", "the engine's demonstration programs", CLI_FILES_NONE, run_demo},
    [CMD_DEMO_REPLAY] = {"demo", "--replay-lost-update", demo_replay, "demo --replay-lost-update STR",
                         "the demo's lost update replayed from a schedule, traced", CLI_FILES_NONE,
                         run_demo_replay},
};

/* ---- Options ---- */

typedef enum opt_kind {
    OPT_FLAG,     /* bool */
    OPT_TEXT,     /* const char *, the argument itself */
    OPT_U64,      /* uint64_t in [min, max] */
    OPT_U32,      /* uint32_t in [min, max] */
    OPT_BOUND,    /* int32_t in [min, max], or inf/unbounded: -1 */
    OPT_DURATION, /* double seconds > 0: 30s, 500ms, 5m, 1h (a unit required) */
    OPT_PARSE,    /* its own parser */
} opt_kind;

typedef struct opt_def opt_def;
struct opt_def {
    const char *name;
    const char *arg; /* NULL: a flag */
    uint32_t cmds;   /* the command rows it applies to */
    opt_kind kind;
    size_t field;    /* offsetof(cli_opts, ...) */
    size_t given;    /* offsetof a bool set when the option is given, or NO_GIVEN */
    uint64_t min, max;
    bool (*parse)(const char *v, cli_opts *o);
    const char *want; /* the error: "<name> needs <want>, got '<value>'" */
    const char *help;
};

#define F(field) offsetof(cli_opts, field)
#define NO_GIVEN SIZE_MAX

static bool parse_strategy(const char *v, cli_opts *o) {
    uint64_t d = 3;
    if (strcmp(v, "random") == 0) {
        o->strategy = CLI_RANDOM;
    } else if (strcmp(v, "swarm") == 0) {
        o->strategy = CLI_SWARM;
    } else if (strncmp(v, "pct", 3) == 0 && (v[3] == 0 || v[3] == ':')) {
        if (v[3] == ':') {
            char *end;
            errno = 0;
            d = strtoull(v + 4, &end, 10);
            if (v[4] < '0' || v[4] > '9' || *end != 0 || errno != 0 || d < 1 || d > 16) return false;
        }
        o->strategy = CLI_PCT;
        o->pct_depth = (uint32_t)d;
    } else {
        return false;
    }
    return true;
}

static bool parse_shard(const char *v, cli_opts *o) {
    unsigned k = 0, n = 0;
    char tail;
    if (sscanf(v, "%u/%u%c", &k, &n, &tail) != 2 || n < 1 || k < 1 || k > n) return false;
    o->shard_k = k;
    o->shard_n = n;
    return true;
}

static bool parse_backend(const char *v, cli_opts *o) {
    if (strcmp(v, "sim") != 0 && strcmp(v, "win32") != 0) return false;
    o->backend = v;
    return true;
}

static bool parse_tolerance(const char *v, cli_opts *o) {
    char *end;
    errno = 0;
    double t = strtod(v, &end);
    if (end == v || *end != 0 || errno != 0 || !(t >= 0 && t <= 600000)) return false;
    o->tolerance_ms = t;
    return true;
}

static bool parse_platform(const char *v, cli_opts *o) {
    int p = sim_platform_from_name(v);
    if (p < 0) return false;
    o->platform = p;
    return true;
}

static bool parse_por(const char *v, cli_opts *o) {
    explore_por p;
    if (!explore_por_parse(v, &p)) return false;
    o->por = (int)p;
    return true;
}

/* Order: the order of the usage text. */
static const opt_def options[] = {
    {"--seed", "N", RUN | FUZZ | BENCH | BENCH_REAL | CONFORM | DEMO, OPT_U64, F(seed), F(seed_set), 0, UINT64_MAX,
     NULL, "a non-negative integer", "the first seed: execution i uses N + i (default 1)"},
    {"--runs", "N", FUZZ | VALIDATE | CONFORM, OPT_U64, F(runs), F(runs_set), 1, UINT64_MAX, NULL,
     "a positive integer", "executions per scenario (fuzz: 1000 by default, validate: 5)"},
    {"--time", "DUR", FUZZ | EXPLORE | BENCH | BENCH_EXPLORE | BENCH_REAL, OPT_DURATION, F(time_s), NO_GIVEN, 0, 0,
     NULL, "a duration with its unit such as 500ms, 30s, 5m or 1h",
     "wall-clock budget: fuzz, explore: of the whole command, shared between the scenarios; bench: per scenario "
     "(500ms, 30s, 5m, 1h)"},
    {"--strategy", "S", RUN | FUZZ | BENCH | BENCH_REAL, OPT_PARSE, 0, NO_GIVEN, 0, 0, parse_strategy,
     "random, pct:D (D from 1 to 16) or swarm", "random, pct:D (PCT of depth D, 3 by default) or swarm"},
    {"--jobs", "J", FUZZ | EXPLORE, OPT_U32, F(jobs), NO_GIVEN, 1, CLI_MAX_JOBS, NULL, "an integer from 1 to 64",
     "J worker processes"},
    {"--shard", "K/N", FUZZ, OPT_PARSE, 0, NO_GIVEN, 0, 0, parse_shard, "K/N with 1 <= K <= N",
     "only the executions i with i mod N = K - 1 (one of N machines)"},
    {"--keep-going", NULL, FUZZ | VALIDATE | CONFORM, OPT_FLAG, F(keep_going), NO_GIVEN, 0, 0, NULL, NULL,
     "go on after a failing execution"},
    {"--no-shrink", NULL, FUZZ, OPT_FLAG, F(no_shrink), NO_GIVEN, 0, 0, NULL, NULL, "report a failure as found"},
    {"--all", NULL, FUZZ, OPT_FLAG, F(report_all), NO_GIVEN, 0, 0, NULL, NULL,
     "with --json: every execution, not only failures"},
    {"--time-jumps", NULL, RUN | FUZZ, OPT_FLAG, F(time_jumps), NO_GIVEN, 0, 0, NULL, NULL,
     "time may pass while a thread could run, in every scenario (as knob time_jumps on)"},
    {"--platform", "P", RUN | FUZZ | REPLAY | SHRINK | EXPLORE | BENCH, OPT_PARSE, 0, NO_GIVEN, 0, 0, parse_platform,
     "windows, wine, real or any", "the simulator takes only what P shows (default any: what-ifs too)"},
    {"--stats", NULL, FUZZ, OPT_FLAG, F(stats), NO_GIVEN, 0, 0, NULL, NULL, "how the choices were taken"},
    {"--schedule", "STR", REPLAY | SHRINK, OPT_TEXT, F(schedule), NO_GIVEN, 0, 0, NULL, NULL,
     "the decision stream to follow, as a failure report prints it"},
    {"--swarm", "SEED", REPLAY | SHRINK, OPT_U64, F(swarm_seed), F(swarm_set), 0, UINT64_MAX, NULL,
     "the seed of a swarm configuration", "the swarm configuration the schedule was found under"},
    {"--preemptions", "K", EXPLORE | BENCH_EXPLORE, OPT_BOUND, F(preemptions), NO_GIVEN, 0, 64, NULL,
     "an integer from 0 to 64 or 'inf'", "preemption bound (default 2)"},
    {"--kernel-bound", "D", EXPLORE | BENCH_EXPLORE, OPT_BOUND, F(kernel_bound), NO_GIVEN, 0, 64, NULL,
     "an integer from 0 to 64 or 'inf'", "bound on kernel choices off their first outcome (default 2)"},
    {"--por", "P", EXPLORE, OPT_PARSE, 0, NO_GIVEN, 0, 0, parse_por, "none, sleep or dpor",
     "partial-order reduction: none, sleep or dpor (default)"},
    {"--last-round-first", NULL, EXPLORE, OPT_FLAG, F(last_round_first), NO_GIVEN, 0, 0, NULL, NULL,
     "run the round (K, D) alone, the smaller rounds only to minimise a violation it finds"},
    {"--max-execs", "N", EXPLORE | BENCH_EXPLORE | CONFORM, OPT_U64, F(max_execs), NO_GIVEN, 1, UINT64_MAX, NULL,
     "a positive integer", "at most N executions per scenario and search"},
    {"--explore", NULL, BENCH_EXPLORE, OPT_FLAG, F(bench_explore), NO_GIVEN, 0, 0, NULL, NULL,
     "bench the explorer instead"},
    {"--backend", "B", BENCH | BENCH_REAL | VALIDATE | CONFORM, OPT_PARSE, 0, NO_GIVEN, 0, 0, parse_backend,
     "sim or win32", "sim (the simulator, default) or win32 (the real backend)"},
    {"--tolerance-ms", "T", BENCH_REAL | VALIDATE | CONFORM, OPT_PARSE, 0, NO_GIVEN, 0, 0, parse_tolerance,
     "milliseconds from 0 to 600000", "lateness allowed to real waits"},
    {"--conformance", NULL, CONFORM, OPT_FLAG, F(conformance), NO_GIVEN, 0, 0, NULL, NULL,
     "ask the simulator for every real outcome"},
    {"--json", NULL, RUN | FUZZ | REPLAY | SHRINK | EXPLORE | VALIDATE | CONFORM, OPT_FLAG, F(json), NO_GIVEN, 0, 0,
     NULL, NULL, "one JSON object per line"},
    {"--junit", "FILE", RUN | FUZZ | EXPLORE | VALIDATE | CONFORM, OPT_TEXT, F(junit), NO_GIVEN, 0, 0, NULL, NULL, "a JUnit XML report"},
    {"--trace", "FILE|-", RUN | FUZZ | REPLAY | SHRINK | EXPLORE | VALIDATE | CONFORM, OPT_TEXT, F(trace_path),
     NO_GIVEN, 0, 0, NULL, NULL, "the traced executions as text, every scenario's (fuzz, explore: its failure; replay, shrink: the schedule's; "
     "run: the execution; validate: each scenario's first failing run, else its last); - for stdout"},
    {"--trace-json", "FILE", RUN | FUZZ | REPLAY | SHRINK | EXPLORE | VALIDATE | CONFORM, OPT_TEXT, F(trace_json), NO_GIVEN, 0, 0, NULL,
     NULL, "the same in Chrome trace-event format (opens in Perfetto): one process per execution"},
    {"--trace", NULL, DEMO, OPT_FLAG, F(demo_trace), NO_GIVEN, 0, 0, NULL, NULL, "demo: print the lost update's trace"},
    {"--replay-lost-update", "STR", DEMO_REPLAY, OPT_TEXT, F(demo_replay), NO_GIVEN, 0, 0, NULL, NULL,
     "replay the demo's lost update"},
};
#define NOPTIONS (sizeof options / sizeof options[0])
_Static_assert(NOPTIONS <= 64, "the options given are a 64-bit set");
_Static_assert(CMD__COUNT <= 32, "an option's commands are a 32-bit mask");

/* ---- Errors ---- */

int cli_usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "iocpcheck: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(run 'iocpcheck help' for usage)\n");
    va_end(ap);
    return CLI_EXIT_USAGE;
}

/* "run" or "bench --explore". */
static const char *cmd_label(const cli_command *c, char *buf, size_t n) {
    snprintf(buf, n, "%s%s%s", c->name, c->mode ? " " : "", c->mode ? c->mode : "");
    return buf;
}

/* "explore, bench --explore": the commands of a mask, in table order. */
static const char *mask_labels(uint32_t mask, char *buf, size_t n) {
    size_t len = 0;
    buf[0] = 0;
    for (uint32_t c = 0; c < CMD__COUNT && len < n; c++) {
        if (!(mask & C(c))) continue;
        char one[64];
        len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "", cmd_label(&commands[c], one, sizeof one));
    }
    return buf;
}

static int not_for(const opt_def *d, const char *label) {
    char where[512];
    return cli_usage_error("option %s does not apply to '%s' (it applies to %s)", d->name, label,
                           mask_labels(d->cmds, where, sizeof where));
}

/* ---- Values ---- */

static bool parse_u64(const char *s, uint64_t *out) {
    if (s == NULL || *s < '0' || *s > '9') return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != 0) return false;
    *out = v;
    return true;
}

/* "10s", "2m", "500ms", "1h": the unit is required, as in a scenario. */
static bool parse_duration_s(const char *s, double *out) {
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9') return false; /* no sign, inf or nan */
    double v = strtod(s, &end);
    if (errno != 0 || end == s || !(v > 0) || v > 1e9) return false;
    if (strcmp(end, "s") == 0)
        *out = v;
    else if (strcmp(end, "ms") == 0)
        *out = v / 1000;
    else if (strcmp(end, "m") == 0)
        *out = v * 60;
    else if (strcmp(end, "h") == 0)
        *out = v * 3600;
    else
        return false;
    return true;
}

/* Stores the value of `d` in `o`; false if it is not one `d` takes. */
static bool store(const opt_def *d, const char *v, cli_opts *o) {
    char *base = (char *)o;
    uint64_t u = 0;
    switch (d->kind) {
    case OPT_FLAG: *(bool *)(base + d->field) = true; break;
    case OPT_TEXT: *(const char **)(base + d->field) = v; break;
    case OPT_U64:
    case OPT_U32:
        if (!parse_u64(v, &u) || u < d->min || u > d->max) return false;
        if (d->kind == OPT_U64) *(uint64_t *)(base + d->field) = u;
        else *(uint32_t *)(base + d->field) = (uint32_t)u;
        break;
    case OPT_BOUND:
        if (strcmp(v, "inf") == 0 || strcmp(v, "unbounded") == 0)
            *(int32_t *)(base + d->field) = -1;
        else if (parse_u64(v, &u) && u >= d->min && u <= d->max)
            *(int32_t *)(base + d->field) = (int32_t)u;
        else
            return false;
        break;
    case OPT_DURATION:
        if (!parse_duration_s(v, (double *)(base + d->field))) return false;
        break;
    case OPT_PARSE:
        if (!d->parse(v, o)) return false;
        break;
    }
    if (d->given != NO_GIVEN) *(bool *)(base + d->given) = true;
    return true;
}

/* ---- Parsing ---- */

void cli_opts_default(cli_opts *o, const char *argv0, const char *cmd) {
    memset(o, 0, sizeof *o);
    o->argv0 = argv0;
    o->cmd = cmd;
    o->seed = 1;
    o->pct_depth = 3;
    o->jobs = 1;
    o->shard_k = o->shard_n = 1;
    o->preemptions = 2;
    o->kernel_bound = 2;
    o->por = EXPLORE_POR_DPOR;
    o->tolerance_ms = -1;
    o->platform = -1;
}

/* The row of `name` among the options of `family`; or, when no option of
 * the family has that name, the first row of that name (*applies = false),
 * or NULL for an unknown option. */
static const opt_def *find_option(const char *name, uint32_t family, bool *applies) {
    const opt_def *any = NULL;
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (strcmp(options[i].name, name) != 0) continue;
        if (options[i].cmds & family) {
            *applies = true;
            return &options[i];
        }
        if (any == NULL) any = &options[i];
    }
    *applies = false;
    return any;
}

/* The variant of the family the options select (table order decides). */
static cmd_id variant(uint32_t family, const cli_opts *o) {
    cmd_id plain = CMD__COUNT;
    for (uint32_t c = 0; c < CMD__COUNT; c++) {
        if (!(family & C(c))) continue;
        if (commands[c].selected == NULL) plain = (cmd_id)c;
        else if (commands[c].selected(o)) return (cmd_id)c;
    }
    return plain;
}

int cli_parse_args(int argc, char **argv, cli_opts *o, const cli_command **cmd,
                   bool (*file)(void *arg, const char *path), void *arg) {
    uint32_t family = 0;
    for (uint32_t c = 0; c < CMD__COUNT; c++)
        if (strcmp(commands[c].name, o->cmd) == 0) family |= C(c);
    if (family == 0) return cli_usage_error("unknown command '%s'", o->cmd);
    uint32_t first = 0;
    while (!(family & C(first))) first++;
    uint64_t given = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == 0) {
            if (commands[first].files == CLI_FILES_NONE)
                return cli_usage_error("%s takes no FILE arguments, got '%s'", o->cmd, a);
            if (!file(arg, a)) return cli_usage_error("cannot read '%s'", a);
            continue;
        }
        bool applies;
        const opt_def *d = find_option(a, family, &applies);
        if (d == NULL) return cli_usage_error("unknown option '%s'", a);
        if (!applies) return not_for(d, o->cmd);
        const char *v = NULL;
        if (d->arg != NULL) {
            if (i + 1 >= argc) return cli_usage_error("%s needs a value (%s)", a, d->arg);
            v = argv[++i];
        }
        if (!store(d, v, o)) return cli_usage_error("%s needs %s, got '%s'", a, d->want, v);
        given |= 1ull << (d - options);
    }
    /* Now the variant is known: every option given must be one it reads. */
    cmd_id c = variant(family, o);
    for (size_t i = 0; i < NOPTIONS; i++)
        if ((given >> i & 1) && !(options[i].cmds & C(c))) {
            char label[64];
            return not_for(&options[i], cmd_label(&commands[c], label, sizeof label));
        }
    *cmd = &commands[c];
    return 0;
}

/* ---- Usage ---- */

#define USAGE_WIDTH 100
#define USAGE_INDENT 6
#define USAGE_HELP_COL 32

/* Prints `text` from column `col` on, wrapped at USAGE_WIDTH, each further
 * line starting at `col`; NBSP (never broken) prints as a space. */
#define NBSP '\x01'

static void wrap(FILE *out, const char *text, int col) {
    int at = col;
    while (*text) {
        size_t n = strcspn(text, " ");
        if (at > col && at + 1 + (int)n > USAGE_WIDTH) {
            fprintf(out, "\n%*s", col, "");
            at = col;
        } else if (at > col) {
            fputc(' ', out);
            at++;
        }
        for (size_t i = 0; i < n; i++) fputc(text[i] == NBSP ? ' ' : text[i], out);
        at += (int)n;
        text += n;
        while (*text == ' ') text++;
    }
    fputc('\n', out);
}

/* "  NAME ARGS   help", the help on the next line if NAME ARGS is long. */
static void usage_row(FILE *out, const char *head, const char *help) {
    int n = fprintf(out, "  %s", head);
    if (n + 2 > USAGE_HELP_COL) n = fprintf(out, "\n") - 1;
    fprintf(out, "%*s", USAGE_HELP_COL - n, "");
    wrap(out, help, USAGE_HELP_COL);
}

void cli_usage(FILE *out) {
    fprintf(out, "usage: iocpcheck COMMAND [OPTIONS] FILE|DIR...\n\ncommands, each with the options it takes:\n");
    for (uint32_t c = 0; c < CMD__COUNT; c++) {
        const cli_command *k = &commands[c];
        usage_row(out, k->args, k->help);
        char list[1024];
        size_t len = 0;
        for (size_t i = 0; i < NOPTIONS && len < sizeof list; i++) {
            const opt_def *d = &options[i];
            /* An option the synopsis already writes out is not repeated. */
            if (!(d->cmds & C(c)) || strstr(k->args, d->name) != NULL) continue;
            len += (size_t)snprintf(list + len, sizeof list - len, "%s[%s%s%s]", len ? " " : "", d->name,
                                    d->arg ? "\x01" : "", d->arg ? d->arg : "");
        }
        if (len > 0) {
            fprintf(out, "%*s", USAGE_INDENT, "");
            wrap(out, list, USAGE_INDENT);
        }
    }
    fprintf(out, "  version | help\n\noptions:\n");
    for (size_t i = 0; i < NOPTIONS; i++) {
        const opt_def *d = &options[i];
        char head[64];
        snprintf(head, sizeof head, "%s%s%s", d->name, d->arg ? " " : "", d->arg ? d->arg : "");
        usage_row(out, head, d->help);
    }
    fprintf(out, "\nA DIR argument means every *.scn file under it, in name order. An option given\n"
                 "to a command that does not use it is an error.\n"
                 "exit codes: 0 passed, 1 a property failed, 2 bad usage or input, 3 internal error\n");
}
