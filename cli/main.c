/* main.c - the iocpcheck command line: option parsing and dispatch.
 *
 * Exit codes: 0 passed, 1 a property failed, 2 bad usage or input,
 * 3 internal error. Bad options are reported before anything runs.
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../search/explore.h"
#include "cli.h"
#include "cli_real.h"
#include "demo.h"

#define IOCPCHECK_VERSION "0.2.0"

static void usage(FILE *out) {
    fprintf(out,
            "usage: iocpcheck COMMAND [OPTIONS] FILE|DIR...\n"
            "\n"
            "commands:\n"
            "  run FILE... [--seed N] [--strategy S]     one execution each\n"
            "  fuzz FILE... [--runs N | --time DUR] [--strategy random|pct:D|swarm] [--seed S]\n"
            "               [--jobs J] [--shard K/N] [--keep-going] [--no-shrink] [--all] [--stats]\n"
            "                                            many executions; a failure is shrunk and reported\n"
            "  replay FILE --schedule STR [--swarm SEED] exactly one execution again\n"
            "  shrink FILE --schedule STR [--swarm SEED] a failing schedule made as small as possible\n"
            "  explore FILE... [--preemptions K|inf] [--kernel-bound D|inf] [--por none|sleep|dpor]\n"
            "               [--max-execs N] [--time DUR] [--jobs J]\n"
            "                                            every schedule within K preemptions and D kernel\n"
            "                                            deviations (iterative deepening on K + D)\n"
            "  bench [FILE...] [--time DUR] [--explore]  executions and steps per second per scenario;\n"
            "                                            --explore: explored executions/s, DPOR vs naive\n"
            "  validate FILE... --backend win32 [--runs N] [--tolerance-ms T] [--conformance [--max-execs N]]\n"
            "                                            the scenarios on the real backend (Windows build),\n"
            "                                            traces checked by the models; --conformance: every real\n"
            "                                            outcome must be one the simulator can produce\n"
            "  bench --backend win32 [FILE...]           real and simulated executions per second, side by side\n"
            "  demo                                      the engine's demonstration programs\n"
            "  version | help\n"
            "\n"
            "output: --json (one JSON object per line; with --all, every execution, not only failures),\n"
            "        --junit FILE, --trace FILE|-, --trace-json FILE\n"
            "A DIR argument means every *.scn file under it, in name order.\n"
            "exit codes: 0 passed, 1 a property failed, 2 bad usage or input, 3 internal error\n");
}

static int bad(const char *fmt, const char *arg) {
    fprintf(stderr, "iocpcheck: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(run 'iocpcheck help' for usage)\n");
    return CLI_EXIT_USAGE;
}

static bool parse_u64(const char *s, uint64_t *out) {
    if (s == NULL || *s == 0 || *s == '-') return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != 0) return false;
    *out = v;
    return true;
}

/* "10s", "2m", "500ms", "1h", or plain seconds. */
static bool parse_duration_s(const char *s, double *out) {
    if (s == NULL || *s == 0) return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || v <= 0) return false;
    if (*end == 0 || strcmp(end, "s") == 0)
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

/* ---- FILE and DIR arguments ---- */

typedef struct file_list {
    char **v;
    uint32_t n, cap;
} file_list;

static void list_add(file_list *l, const char *path) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = strdup(path);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool expand(file_list *l, const char *path, int depth) {
    struct stat st;
    if (stat(path, &st) != 0) return false;
    if (!S_ISDIR(st.st_mode)) {
        list_add(l, path);
        return true;
    }
    if (depth > 16) return true;
    DIR *d = opendir(path);
    if (d == NULL) return false;
    file_list here = {0};
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        size_t n = strlen(path) + strlen(e->d_name) + 2;
        char *full = malloc(n);
        snprintf(full, n, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", e->d_name);
        struct stat cs;
        if (stat(full, &cs) == 0 && (S_ISDIR(cs.st_mode) || (strlen(e->d_name) > 4 && strcmp(e->d_name + strlen(e->d_name) - 4, ".scn") == 0)))
            list_add(&here, full);
        free(full);
    }
    closedir(d);
    /* Name order: the same on every machine, whatever readdir returns. */
    if (here.n > 0) qsort(here.v, here.n, sizeof *here.v, cmp_str);
    for (uint32_t i = 0; i < here.n; i++) {
        expand(l, here.v[i], depth + 1);
        free(here.v[i]);
    }
    free(here.v);
    return true;
}

/* ---- Options ---- */

static int parse_opts(int argc, char **argv, cli_opts *o, file_list *files) {
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE()                                              \
    do {                                                          \
        if (v == NULL) return bad("%s needs a value", a);         \
        i++;                                                      \
    } while (0)
        if (strcmp(a, "--seed") == 0) {
            NEED_VALUE();
            if (!parse_u64(v, &o->seed)) return bad("--seed needs a non-negative integer, got '%s'", v);
            o->seed_set = true;
        } else if (strcmp(a, "--runs") == 0) {
            NEED_VALUE();
            if (!parse_u64(v, &o->runs) || o->runs == 0) return bad("--runs needs a positive integer, got '%s'", v);
            o->runs_set = true;
        } else if (strcmp(a, "--time") == 0) {
            NEED_VALUE();
            if (!parse_duration_s(v, &o->time_s)) return bad("--time needs a duration such as 30s, 5m or 1h, got '%s'", v);
        } else if (strcmp(a, "--strategy") == 0) {
            NEED_VALUE();
            if (strcmp(v, "random") == 0) {
                o->strategy = CLI_RANDOM;
            } else if (strcmp(v, "swarm") == 0) {
                o->strategy = CLI_SWARM;
            } else if (strncmp(v, "pct", 3) == 0) {
                o->strategy = CLI_PCT;
                uint64_t d = 3;
                if (v[3] == ':' && (!parse_u64(v + 4, &d) || d < 1 || d > 16))
                    return bad("--strategy pct:D needs a depth D from 1 to 16, got '%s'", v);
                if (v[3] != ':' && v[3] != 0) return bad("unknown strategy '%s' (random, pct:D, swarm)", v);
                o->pct_depth = (uint32_t)d;
            } else {
                return bad("unknown strategy '%s' (random, pct:D, swarm)", v);
            }
        } else if (strcmp(a, "--jobs") == 0) {
            NEED_VALUE();
            uint64_t j;
            if (!parse_u64(v, &j) || j < 1 || j > 64) return bad("--jobs needs an integer from 1 to 64, got '%s'", v);
            o->jobs = (uint32_t)j;
        } else if (strcmp(a, "--shard") == 0) {
            NEED_VALUE();
            unsigned k = 0, n = 0;
            char tail;
            if (sscanf(v, "%u/%u%c", &k, &n, &tail) != 2 || n < 1 || k < 1 || k > n)
                return bad("--shard needs K/N with 1 <= K <= N, got '%s'", v);
            o->shard_k = k;
            o->shard_n = n;
        } else if (strcmp(a, "--keep-going") == 0) {
            o->keep_going = true;
        } else if (strcmp(a, "--all") == 0) {
            o->report_all = true;
        } else if (strcmp(a, "--no-shrink") == 0) {
            o->no_shrink = true;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--junit") == 0) {
            NEED_VALUE();
            o->junit = v;
        } else if (strcmp(a, "--trace") == 0) {
            NEED_VALUE();
            o->trace_path = v;
        } else if (strcmp(a, "--trace-json") == 0) {
            NEED_VALUE();
            o->trace_json = v;
        } else if (strcmp(a, "--schedule") == 0) {
            NEED_VALUE();
            o->schedule = v;
        } else if (strcmp(a, "--swarm") == 0) {
            NEED_VALUE();
            if (!parse_u64(v, &o->swarm_seed)) return bad("--swarm needs the seed of a swarm configuration, got '%s'", v);
            o->swarm_set = true;
        } else if (strcmp(a, "--backend") == 0) {
            NEED_VALUE();
            if (strcmp(v, "sim") != 0 && strcmp(v, "win32") != 0) return bad("unknown backend '%s' (sim, win32)", v);
            o->backend = v;
        } else if (strcmp(a, "--tolerance-ms") == 0) {
            NEED_VALUE();
            char *end;
            o->tolerance_ms = strtod(v, &end);
            if (*end != 0 || end == v || !(o->tolerance_ms >= 0 && o->tolerance_ms <= 600000))
                return bad("--tolerance-ms needs milliseconds from 0 to 600000, got '%s'", v);
        } else if (strcmp(a, "--conformance") == 0) {
            o->conformance = true;
        } else if (strcmp(a, "--preemptions") == 0) {
            NEED_VALUE();
            uint64_t k;
            if (strcmp(v, "inf") == 0 || strcmp(v, "unbounded") == 0)
                o->preemptions = -1;
            else if (!parse_u64(v, &k) || k > 64)
                return bad("--preemptions needs an integer from 0 to 64 or 'inf', got '%s'", v);
            else
                o->preemptions = (int32_t)k;
        } else if (strcmp(a, "--kernel-bound") == 0) {
            NEED_VALUE();
            uint64_t d;
            if (strcmp(v, "inf") == 0 || strcmp(v, "unbounded") == 0)
                o->kernel_bound = -1;
            else if (!parse_u64(v, &d) || d > 64)
                return bad("--kernel-bound needs an integer from 0 to 64 or 'inf', got '%s'", v);
            else
                o->kernel_bound = (int32_t)d;
        } else if (strcmp(a, "--explore") == 0) {
            o->bench_explore = true;
        } else if (strcmp(a, "--por") == 0) {
            NEED_VALUE();
            explore_por p;
            if (!explore_por_parse(v, &p)) return bad("--por needs none, sleep or dpor, got '%s'", v);
            o->por = (int)p;
        } else if (strcmp(a, "--max-execs") == 0) {
            NEED_VALUE();
            if (!parse_u64(v, &o->max_execs) || o->max_execs == 0)
                return bad("--max-execs needs a positive integer, got '%s'", v);
        } else if (strcmp(a, "--stats") == 0) {
            o->stats = true;
        } else if (a[0] == '-' && a[1] != 0) {
            return bad("unknown option '%s'", a);
        } else {
            if (!expand(files, a, 0)) return bad("cannot read '%s'", a);
        }
#undef NEED_VALUE
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("iocpcheck %s\n", IOCPCHECK_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "demo") == 0) {
        uint64_t seed = 1;
        int trace = 0;
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--replay-lost-update") == 0 && i + 1 < argc) return demo_replay_lost_update(argv[i + 1]);
            if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc && parse_u64(argv[i + 1], &seed)) {
                i++;
                continue;
            }
            if (strcmp(argv[i], "--trace") == 0) {
                trace = 1;
                continue;
            }
            return bad("demo: unknown option '%s'", argv[i]);
        }
        return demo_main(argv[0], seed, 1000, trace);
    }
    cli_opts o;
    memset(&o, 0, sizeof o);
    o.argv0 = argv[0];
    o.cmd = cmd;
    o.seed = 1;
    o.pct_depth = 3;
    o.jobs = 1;
    o.shard_k = o.shard_n = 1;
    o.time_s = 0;
    o.preemptions = 2;
    o.kernel_bound = 2;
    o.por = EXPLORE_POR_DPOR;
    o.tolerance_ms = -1;
    file_list files = {0};
    int rc = parse_opts(argc - 2, argv + 2, &o, &files);
    if (rc != 0) return rc;
    bool needs_files = strcmp(cmd, "bench") != 0;
    if (files.n == 0 && !needs_files) expand(&files, "scenarios", 0);
    if (files.n == 0) return bad("%s needs at least one scenario file or directory", cmd);
    o.files = (const char **)files.v;
    o.nfiles = files.n;
    /* Every file must parse before anything runs. */
    for (uint32_t i = 0; i < files.n; i++) {
        char err[1024];
        scn_scenario *s = scn_load(files.v[i], err, sizeof err);
        if (s == NULL) {
            fprintf(stderr, "%s\n", err);
            return CLI_EXIT_USAGE;
        }
        scn_free(s);
    }
    bool is_explore = strcmp(cmd, "explore") == 0;
    if (strcmp(cmd, "fuzz") == 0 && !o.runs_set && o.time_s <= 0) {
        o.runs = 1000;
        o.runs_set = true;
    }
    if (o.runs_set && o.time_s > 0) return bad("%s", "--runs and --time are exclusive");
    o.progress = isatty(2) && !o.json;
    bool real = o.backend != NULL && strcmp(o.backend, "win32") == 0;
    if (real && strcmp(cmd, "validate") != 0 && strcmp(cmd, "bench") != 0)
        return bad("--backend win32: only validate and bench run on the real backend (%s runs on the simulator)", cmd);
    if (strcmp(cmd, "run") == 0)
        rc = cli_cmd_run(&o);
    else if (strcmp(cmd, "fuzz") == 0)
        rc = cli_cmd_fuzz(&o);
    else if (strcmp(cmd, "replay") == 0)
        rc = cli_cmd_replay(&o);
    else if (strcmp(cmd, "shrink") == 0)
        rc = cli_cmd_shrink(&o);
    else if (strcmp(cmd, "bench") == 0)
        rc = real ? cli_cmd_bench_real(&o) : o.bench_explore ? cli_bench_explore(&o) : cli_cmd_bench(&o);
    else if (strcmp(cmd, "validate") == 0)
        rc = cli_cmd_validate(&o);
    else if (is_explore)
        rc = cli_cmd_explore(&o);
    else
        rc = bad("unknown command '%s'", cmd);
    for (uint32_t i = 0; i < files.n; i++) free(files.v[i]);
    free(files.v);
    return rc;
}
