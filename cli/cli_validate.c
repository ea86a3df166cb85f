/* cli_validate.c - `validate FILE... --backend win32` and
 * `bench --backend win32`: the scenario library on the real backend.
 *
 * validate runs each scenario N times on real completion ports and sockets
 * (cli_real.c), checks every trace with the ten properties in real time and
 * the scenario's expectations with a tolerance, and reports per scenario
 * like fuzz: PASS, FAIL (the first failing run), or NOT-RUN with the reason
 * by name when this host cannot run it. Under Wine it names the differences
 * from Windows the traces show. --conformance then asks the simulator for
 * every distinct observable outcome the real runs showed (cli_conform.c)
 * and reports each one it cannot produce as a fidelity gap (exit 1).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_real.h"
#include "../lang/scn_ext.h"
#include "wallclock.h"

#define DEFAULT_RUNS 5
#define DEFAULT_CONFORM_BUDGET 20000

static bool wants_win32(const cli_opts *o, const char *what) {
    if (o->backend != NULL && strcmp(o->backend, "win32") == 0) return true;
    fprintf(stderr, "iocpcheck: %s runs scenarios on a real backend: give --backend win32\n", what);
    return false;
}

#if defined(CLI_HAVE_WIN32)

static void json_str(FILE *out, const char *s) {
    fputc('"', out);
    for (; s != NULL && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
        else if (c == '\n') fputs("\\n", out);
        else if (c < 0x20) fprintf(out, "\\u%04x", c);
        else fputc(c, out);
    }
    fputc('"', out);
}

#define NREASONS 3 /* why a scenario is not run: wait-packets-absent, virtual-time-only, simulator-only */

/* What the whole run counts. */
typedef struct tally {
    uint32_t passed, failed, not_run;
    uint32_t reasons[NREASONS]; /* by reason_names */
    uint64_t executions;
    uint64_t too_slow; /* failed runs judged "host too slow" (cli_real_too_slow) */
    uint64_t outcomes, gaps, timing, gap_scenarios, sim_execs;
    uint32_t seen[SIM_CHOICE__COUNT]; /* kernel alternatives the real runs were seen to take */
} tally;

static const char *const reason_names[NREASONS] = {"wait-packets-absent", "virtual-time-only", "simulator-only"};

static void count_reason(tally *t, const char *why) {
    for (uint32_t i = 0; i < NREASONS; i++)
        if (strncmp(why, reason_names[i], strlen(reason_names[i])) == 0) t->reasons[i]++;
}

/* The command that runs this program again from the shell it was started
 * in: under Wine that is the host's (Linux) shell, so `wine` and the Unix
 * path of a Z:\ drive path (Wine maps Z: to /). */
static const char *shell_self(cli_real *r, const char *argv0, char *buf, size_t n) {
    if (!cli_real_is_wine(r)) return argv0;
    const char *p = argv0;
    if ((p[0] == 'Z' || p[0] == 'z') && p[1] == ':') p += 2;
    size_t k = (size_t)snprintf(buf, n, "wine ");
    for (; *p && k + 1 < n; p++) buf[k++] = *p == '\\' ? '/' : *p;
    buf[k < n ? k : n - 1] = 0;
    return buf;
}

static void print_host(const cli_opts *o, cli_real *r, uint64_t runs, int64_t tol) {
    const model_options *m = cli_real_model_options(r);
    if (o->json) {
        printf("{\"type\":\"validate-host\",\"host\":");
        json_str(stdout, cli_real_host(r));
        printf(",\"wine\":%s,\"wait_packets\":%s,\"host_tick_ns\":%" PRId64 ",\"model_tick_ns\":%" PRId64
               ",\"tolerance_ns\":%" PRId64 ",\"runs\":%" PRIu64 "}\n",
               cli_real_is_wine(r) ? "true" : "false", cli_real_wait_packets(r) ? "true" : "false",
               cli_real_host_tick_ns(r), m->tick_ns, tol, runs);
        return;
    }
    printf("validate: real backend win32 on %s, %" PRIu64 " runs per scenario, tolerance %.1f ms, model tick %.3f ms, "
           "properties in real time\n",
           cli_real_host(r), runs, (double)tol / 1e6, (double)m->tick_ns / 1e6);
    if (cli_real_is_wine(r)) {
        /* iocp-facts.md §9/§11: host-wide differences, named once. */
        printf("  wine: wine-no-tick (waits end to the millisecond; Windows quantizes them to %.3f ms)\n", 15.625);
        if (!cli_real_wait_packets(r))
            printf("  wine: wine-no-wait-packets (NtCreateWaitCompletionPacket absent: the poller's fallback path "
                   "runs; Windows 10+ has them)\n");
    } else if (!cli_real_wait_packets(r)) {
        printf("  host: no wait completion packets: the poller's fallback path runs\n");
    }
    printf("\n");
}

/* The execution just run into --trace and --trace-json, with `label`. */
static void trace_run(cli_sinks *sk, cli_real *r, const scn_scenario *s, const char *label) {
    if (sk->trace != NULL) {
        fprintf(sk->trace, "== model trace: %s (%s): %s ==\n", scn_path(s), scn_name(s), label);
        model_trace_write(cli_real_trace(r), sk->trace);
        fflush(sk->trace);
    }
    cli_trace_json_model(sk, s, scn_path(s), cli_real_trace(r), label);
}

/* One scenario on the real backend; returns false when it failed. */
static bool validate_one(const cli_opts *o, cli_real *r, const scn_scenario *s, uint64_t runs, tally *tl,
                         cli_outcome_set *set, cli_sinks *sk) {
    char why[300], label[96];
    if (!cli_real_fits(r, s, why, sizeof why)) {
        tl->not_run++;
        count_reason(tl, why);
        cli_sinks_case_add(sk, scn_name(s), scn_path(s), 0, 0, NULL, NULL, NULL, why);
        if (o->json) {
            printf("{\"type\":\"validate\",\"scenario\":");
            json_str(stdout, scn_name(s));
            printf(",\"file\":");
            json_str(stdout, scn_path(s));
            printf(",\"backend\":\"win32\",\"verdict\":\"not-run\",\"reason\":");
            json_str(stdout, why);
            printf("}\n");
        } else {
            printf("NOT-RUN %-48s %s\n", scn_path(s), why);
        }
        return true;
    }
    cli_real_run run, first = {0}, slow_first = {0};
    uint64_t done = 0, fails = 0, first_run = 0, slow = 0;
    int64_t slow_max = 0;
    uint32_t wine_runs[CLI_WINE_DIFFS] = {0};
    double t0 = wall_seconds();
    for (uint64_t i = 0; i < runs; i++) {
        cli_real_exec(r, s, i, &run);
        done++;
        uint32_t bits = cli_observe_wine(cli_real_trace(r));
        for (uint32_t b = 0; b < CLI_WINE_DIFFS; b++) wine_runs[b] += (bits >> b) & 1u;
        if (!run.failed) {
            cli_outcome_set_add(set, cli_observe(cli_real_trace(r), s));
            continue;
        }
        if (cli_real_too_slow(r, &run)) {
            /* The host kept a thread from running longer than the tolerance:
             * this run cannot be judged (neither a pass nor a failure). */
            if (slow++ == 0) slow_first = run;
            if (run.overslept_ns > slow_max) slow_max = run.overslept_ns;
            continue;
        }
        if (fails++ == 0) {
            first = run;
            first_run = i;
            snprintf(label, sizeof label, "run %" PRIu64 " of %" PRIu64 ", the failure", i + 1, runs);
            trace_run(sk, r, s, label);
        }
        if (!o->keep_going) break;
    }
    double el = wall_seconds() - t0;
    if (fails == 0) {
        snprintf(label, sizeof label, "run %" PRIu64 " of %" PRIu64, done, runs);
        trace_run(sk, r, s, label);
    }
    char again[160];
    snprintf(again, sizeof again, "run %" PRIu64 " of %" PRIu64 " failed: %s", first_run + 1, runs, first.message);
    cli_sinks_case_add(sk, scn_name(s), scn_path(s), el, done, fails ? first.property : NULL, again, NULL, NULL);
    tl->executions += done;
    tl->too_slow += slow;
    if (o->json) {
        printf("{\"type\":\"validate\",\"scenario\":");
        json_str(stdout, scn_name(s));
        printf(",\"file\":");
        json_str(stdout, scn_path(s));
        printf(",\"backend\":\"win32\",\"verdict\":\"%s\",\"runs\":%" PRIu64 ",\"failures\":%" PRIu64
               ",\"outcomes\":%u,\"elapsed_s\":%.3f",
               fails ? "fail" : "pass", done, fails, set->n, el);
        printf(",\"too_slow\":%" PRIu64, slow);
        if (fails) {
            printf(",\"run\":%" PRIu64 ",\"property\":", first_run + 1);
            json_str(stdout, first.property);
            printf(",\"message\":");
            json_str(stdout, first.message);
        }
        printf(",\"wine\":[");
        for (uint32_t b = 0, k = 0; b < CLI_WINE_DIFFS; b++)
            if (wine_runs[b]) printf("%s{\"name\":\"%s\",\"runs\":%u}", k++ ? "," : "", cli_wine_name(b), wine_runs[b]);
        printf("]}\n");
    } else {
        if (fails)
            printf("FAIL    %-48s run %" PRIu64 " of %" PRIu64 "%s: %s: %s\n", scn_path(s), first_run + 1, runs,
                   done < runs ? " (the rest not run: --keep-going runs them)" : "", first.property, first.message);
        else
            printf("PASS    %-48s %4" PRIu64 " runs %7.2f s  %u outcome%s\n", scn_path(s), done, el, set->n,
                   set->n == 1 ? "" : "s");
        if (slow)
            printf("        host too slow to judge %" PRIu64 " of %" PRIu64 " run%s: the host kept a thread from running "
                   "for up to %.1f ms (a wait of the monitor beside it or a sleep step, past its length and a tick; "
                   "tolerance %.1f ms); the first: %s: %s\n",
                   slow, done, cli_s(done), (double)slow_max / 1e6,
                   (double)cli_real_tolerance_ns(r) / 1e6, slow_first.property, slow_first.message);
        for (uint32_t b = 0; b < CLI_WINE_DIFFS; b++)
            if (wine_runs[b])
                printf("        wine: %s in %u of %" PRIu64 " runs: %s\n", cli_wine_name(b), wine_runs[b], done,
                       cli_wine_what(b));
        if (fails) {
            char self[1024];
            printf("        again: %s validate %s --backend win32 --runs %" PRIu64 " --trace -\n",
                   shell_self(r, o->argv0, self, sizeof self), scn_path(s), first_run + 1);
        }
    }
    if (fails) tl->failed++;
    else tl->passed++;
    fflush(stdout);
    return fails == 0;
}

/* "k3 (windows) o1 (wine)": each kernel alternative of `seen` with where it
 * is seen (sim_choice_seen, the README's choice table). */
static void alternatives_text(const uint32_t seen[SIM_CHOICE__COUNT], char *buf, size_t len) {
    static const char *const where[4] = {"windows", "wine", "old-windows", "what-if"};
    size_t used = 0;
    buf[0] = 0;
    for (int k = 0; k < SIM_CHOICE__COUNT; k++) {
        for (uint32_t l = 0; l < 32; l++) {
            if (!((seen[k] >> l) & 1) || used >= len) continue;
            uint32_t bits = sim_choice_seen(k, l);
            int n = snprintf(buf + used, len - used, "%s%c%u (", used ? " " : "", sim_choice_letter((sim_choice_kind)k), l);
            if (n > 0) used += (size_t)n;
            if (bits == SIM_SEEN_ALL) {
                n = snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0, "any)");
            } else {
                n = 0;
                for (int b = 0; b < 4 && used < len; b++) {
                    if (!((bits >> b) & 1)) continue;
                    int m = snprintf(buf + used, len - used, "%s%s", n++ ? "," : "", where[b]);
                    if (m > 0) used += (size_t)m;
                }
                n = used < len ? snprintf(buf + used, len - used, ")") : 0;
            }
            if (n > 0) used += (size_t)n;
        }
    }
    if (used >= len && len > 4) memcpy(buf + len - 4, "...", 4);
}

/* --conformance for one scenario: the simulator searched for each real outcome. */
static const char *entry_label(const cli_outcome_entry *e) {
    return e->sim_first ? "sim" : e->sim_timing ? "TIMING" : "GAP";
}

static int conform_one(const cli_opts *o, cli_real *r, const scn_scenario *s, cli_outcome_set *set, tally *tl) {
    if (set->n == 0) return 0;
    cli_conform_host host = {cli_real_wait_packets(r)};
    uint64_t budget = o->max_execs ? o->max_execs : DEFAULT_CONFORM_BUDGET;
    cli_conform_stats st;
    int rc = cli_conform(scn_path(s), &host, set, budget, o->seed, &st);
    if (rc != 0) return rc;
    tl->outcomes += set->n;
    tl->gaps += st.missing;
    tl->timing += st.timing;
    tl->gap_scenarios += st.missing > 0;
    tl->sim_execs += st.executions;
    uint64_t last = 0;
    for (uint32_t i = 0; i < set->n; i++)
        if (set->v[i].sim_first > last) last = set->v[i].sim_first;
    for (int k = 0; k < SIM_CHOICE__COUNT; k++) tl->seen[k] |= st.seen[k];
    char alts[1024];
    alternatives_text(st.seen, alts, sizeof alts);
    if (o->json) {
        printf("{\"type\":\"conformance\",\"file\":");
        json_str(stdout, scn_path(s));
        printf(",\"outcomes\":%u,\"timing_gaps\":%u,\"gaps\":%u,\"sim_executions\":%" PRIu64
               ",\"sim_failures\":%" PRIu64 ",\"not_first_search\":[",
               set->n, st.timing, st.missing, st.executions, st.failures);
        for (uint32_t i = 0, k = 0; i < set->n; i++) {
            if (set->v[i].sim_first != 0) continue;
            printf("%s{\"kind\":\"%s\",\"real_runs\":%u,\"outcome\":", k++ ? "," : "",
                   set->v[i].sim_timing ? "timing-gap" : "fidelity-gap", set->v[i].real);
            json_str(stdout, set->v[i].text);
            printf("}");
        }
        printf("],\"alternatives\":");
        json_str(stdout, alts);
        printf("}\n");
    } else if (st.missing == 0 && st.timing == 0) {
        printf("        conformance: OK, %u real outcome%s, all produced by the simulator (the last after %" PRIu64
               " executions)\n",
               set->n, set->n == 1 ? "" : "s", last);
        if (alts[0] != 0) printf("        alternatives the real runs took: %s\n", alts);
    } else {
        printf("        conformance: %s, of %u real outcomes %u timing-gap, %u fidelity-gap (%" PRIu64
               " simulator executions, %" PRIu64 " failing):\n",
               st.missing ? "GAP" : "TIMING", set->n, st.timing, st.missing, st.executions, st.failures);
        for (uint32_t i = 0; i < set->n; i++) {
            const cli_outcome_entry *e = &set->v[i];
            printf("          %-6s %3u real run%s: %s\n", entry_label(e), e->real, e->real == 1 ? " " : "s", e->text);
        }
        if (alts[0] != 0) printf("        alternatives the real runs took: %s\n", alts);
    }
    fflush(stdout);
    return 0;
}

int cli_cmd_validate(const cli_opts *o) {
    if (!wants_win32(o, "validate")) return CLI_EXIT_USAGE;
    /* Every file parses before anything runs (exit 2 names file:line:col). */
    scn_scenario **scns = cli_xcalloc(o->nfiles, sizeof *scns);
    int rc = CLI_EXIT_PASS;
    for (uint32_t f = 0; f < o->nfiles && rc == 0; f++) {
        char err[1024];
        scns[f] = scn_load(o->files[f], err, sizeof err);
        if (scns[f] == NULL) {
            fprintf(stderr, "%s\n", err);
            rc = CLI_EXIT_USAGE;
        }
    }
    /* Output files open before anything runs (a bad path: exit 2). */
    cli_sinks sk;
    memset(&sk, 0, sizeof sk);
    if (rc == 0) rc = cli_sinks_open(&sk, o);
    int64_t tol = (int64_t)((o->tolerance_ms >= 0 ? o->tolerance_ms : CLI_DEFAULT_TOLERANCE_MS) * 1e6);
    uint64_t runs = o->runs_set ? o->runs : DEFAULT_RUNS;
    cli_real *r = rc == 0 ? cli_real_create(tol) : NULL;
    if (rc == 0 && r == NULL) rc = CLI_EXIT_INTERNAL;
    tally tl = {0};
    double t0 = wall_seconds();
    if (rc == 0) print_host(o, r, runs, tol);
    for (uint32_t f = 0; f < o->nfiles && rc == 0; f++) {
        cli_outcome_set set = {0};
        bool ok = validate_one(o, r, scns[f], runs, &tl, &set, &sk);
        if (ok && o->conformance) {
            int crc = conform_one(o, r, scns[f], &set, &tl);
            if (crc != 0) rc = crc;
        }
        cli_outcome_set_free(&set);
    }
    double el = wall_seconds() - t0;
    if (r != NULL && o->json) {
        printf("{\"type\":\"summary\",\"scenarios\":%u,\"passed\":%u,\"failed\":%u,\"not_run\":%u,\"executions\":%" PRIu64
               ",\"elapsed_s\":%.3f",
               tl.passed + tl.failed + tl.not_run, tl.passed, tl.failed, tl.not_run, tl.executions, el);
        printf(",\"too_slow\":%" PRIu64, tl.too_slow);
        if (o->conformance)
            printf(",\"outcomes\":%" PRIu64 ",\"timing_gaps\":%" PRIu64 ",\"gaps\":%" PRIu64
                   ",\"sim_executions\":%" PRIu64,
                   tl.outcomes, tl.timing, tl.gaps, tl.sim_execs);
        if (o->conformance) {
            char alts[2048];
            alternatives_text(tl.seen, alts, sizeof alts);
            printf(",\"alternatives\":");
            json_str(stdout, alts);
        }
        printf("}\n");
    } else if (r != NULL) {
        printf("\n%u scenarios on win32 (%s): %u passed, %u failed, %u not run", tl.passed + tl.failed + tl.not_run,
               cli_real_host(r), tl.passed, tl.failed, tl.not_run);
        for (uint32_t i = 0, k = 0; i < NREASONS; i++)
            if (tl.reasons[i]) printf("%s%s %u", k++ ? ", " : " (", reason_names[i], tl.reasons[i]);
        printf("%s; %" PRIu64 " executions, %.1f s", tl.not_run ? ")" : "", tl.executions, el);
        if (tl.too_slow)
            printf("; %" PRIu64 " failed run%s not judged: host too slow", tl.too_slow, cli_s(tl.too_slow));
        printf("\n");
        if (o->conformance) {
            printf("conformance: %" PRIu64 " distinct real outcomes, %" PRIu64 " simulator executions: %" PRIu64
                   " fidelity gap%s (in %" PRIu64 " scenario%s), %" PRIu64 " timing gap%s\n",
                   tl.outcomes, tl.sim_execs, tl.gaps, tl.gaps == 1 ? "" : "s", tl.gap_scenarios,
                   tl.gap_scenarios == 1 ? "" : "s", tl.timing, tl.timing == 1 ? "" : "s");
            char alts[2048];
            alternatives_text(tl.seen, alts, sizeof alts);
            printf("alternatives the real runs were seen to take (choice, label, where seen): %s\n",
                   alts[0] ? alts : "none");
            if (tl.timing > 0)
                printf("  timing gap: produced only with every sleep made a yield: it needs a thread kept runnable "
                       "while another's sleep ran out, which the simulator's virtual time never does (README, "
                       "\"Conformance\")\n");
        }
    }
    if (rc == 0 && (tl.failed > 0 || tl.gaps > 0)) rc = CLI_EXIT_FAIL;
    if (!cli_sinks_close(&sk, el) && rc == CLI_EXIT_PASS) rc = CLI_EXIT_INTERNAL;
    cli_real_destroy(r);
    for (uint32_t f = 0; f < o->nfiles; f++)
        if (scns[f] != NULL) scn_free(scns[f]);
    free(scns);
    return rc;
}

/* bench --backend win32: real and simulated executions per second of each
 * scenario the host can run, side by side, for the same time budget. */
int cli_cmd_bench_real(const cli_opts *o) {
    if (!wants_win32(o, "bench --backend")) return CLI_EXIT_USAGE;
    double budget = o->time_s > 0 ? o->time_s : 0.5;
    int64_t tol = (int64_t)((o->tolerance_ms >= 0 ? o->tolerance_ms : CLI_DEFAULT_TOLERANCE_MS) * 1e6);
    cli_real *r = cli_real_create(tol);
    if (r == NULL) return CLI_EXIT_INTERNAL;
    printf("executions per second, real backend (win32 on %s) and simulator (%s), %.2f s each, one core\n\n",
           cli_real_host(r), cli_strategy_name(o->strategy), budget);
    printf("%-48s %10s %10s %12s %9s\n", "scenario", "real", "sim", "sim/real", "");
    int rc = 0;
    double sum_real = 0, sum_sim = 0;
    uint32_t n = 0;
    for (uint32_t f = 0; f < o->nfiles; f++) {
        cli_target t;
        if (cli_target_open(&t, o->files[f]) != 0) {
            rc = CLI_EXIT_USAGE;
            break;
        }
        char why[300];
        if (!cli_real_fits(r, t.scn, why, sizeof why)) {
            printf("%-48s %10s %10s %12s  not run: %.*s\n", t.path, "-", "-", "-", (int)strcspn(why, ":"), why);
            cli_target_close(&t);
            continue;
        }
        cli_real_run run;
        uint64_t real = 0, sim = 0, fails = 0;
        double t0 = wall_seconds(), now = t0;
        do { /* at least one run, whatever its length */
            cli_real_exec(r, t.scn, real, &run);
            real++;
            fails += run.failed;
            now = wall_seconds();
        } while (now - t0 < budget);
        double real_rate = (double)real / (now - t0);
        cli_outcome oc = {0};
        t0 = now = wall_seconds();
        while (now - t0 < budget) {
            for (int k = 0; k < 32; k++) {
                cli_exec_seed(&t, o->strategy, o->pct_depth, o->seed + sim, &oc);
                sim++;
                fails += oc.failed;
            }
            now = wall_seconds();
        }
        double sim_rate = (double)sim / (now - t0);
        printf("%-48s %10.1f %10.0f %11.0fx%s\n", t.path, real_rate, sim_rate, sim_rate / real_rate,
               fails ? "  (failures!)" : "");
        fflush(stdout);
        if (fails) rc = CLI_EXIT_FAIL;
        sum_real += real_rate;
        sum_sim += sim_rate;
        n++;
        cli_outcome_clear(&oc);
        cli_target_close(&t);
    }
    if (n > 0)
        printf("\n%-48s %10.1f %10.0f %11.0fx\n", "mean over the scenarios run", sum_real / n, sum_sim / n,
               sum_sim / sum_real);
    cli_real_destroy(r);
    return rc;
}

#else

static int needs_windows(const char *what) {
    fprintf(stderr,
            "iocpcheck: %s --backend win32 needs the Windows build of iocpcheck: the real backend is Win32 "
            "(shim/shim_win32.c). Build it with `cmake --workflow --preset mingw` and run "
            "build-mingw/iocpcheck.exe under wine, or build on Windows (README, \"The real backend\").\n",
            what);
    return CLI_EXIT_USAGE;
}

int cli_cmd_validate(const cli_opts *o) {
    if (!wants_win32(o, "validate")) return CLI_EXIT_USAGE;
    return needs_windows("validate");
}

int cli_cmd_bench_real(const cli_opts *o) {
    (void)o;
    return needs_windows("bench");
}

#endif
