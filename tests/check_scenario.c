/* check_scenario.c - the scenario language: the parser (good and bad files)
 * and the library (every scenarios/<theme>/<name>.scn on the correct poller).
 *
 * Runs from the source tree (CTest sets the working directory), so paths in
 * error messages are the relative ones written in the bad files' comments.
 *
 * Parser: each tests/scenarios/bad/<name>.scn starts with the line
 *   # error: <path>:<line>:<col>: <message>
 * and must fail with exactly that message; each tests/scenarios/good/<name>.scn
 * must parse. Library: each scenario runs SEEDS (1,000) seeds of random scheduling
 * on the simulator, through the recording shim, with the models checked on
 * every trace; any verdict but pass fails the test. Stored schedules are
 * replayed and must end as their `expect` says.
 *
 * Also a small driver for development:
 *   check_scenario --run FILE [--seeds N] [--first S]  (prints exec/s)
 *   check_scenario --run FILE --trace SEED              (one seed's model trace)
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "models/props.h"
#include "models/trace.h"
#include "lang/scenario.h"
#include "cli/cli.h" /* the knobs' mapping onto the simulator and the fault shim (cli_knobs.c) */
#include "lang/scn_ext.h"
#include "shim/fault.h"
#include "sim/sim.h"

#define SEEDS 1000

/* ---- The simulator driver ---- */

typedef struct drv {
    sim_ctx *sim;
    shim rec;
    const shim_harness *hn; /* NULL: the simulator's own */
    shim_fault *faults;
    model_trace *tr;
    const scn_scenario *s;
    scn_hooks hk;
    scn_exec_opts opts;
    bool threw_as_expected; /* the execution ended in an expected throw: no trace properties after it */
    bool errors_as_timeouts; /* the poller sees every failed dequeue as WAIT_TIMEOUT (test_expect_fatal) */
} drv;

static void drv_fail(void *arg, const char *property, const char *msg) {
    drv *d = arg;
    sim_fail(d->sim, property, "%s", msg);
}
static void *drv_alloc(void *arg, size_t n) { return sim_alloc(((drv *)arg)->sim, n); }
static void drv_free(void *arg, void *p) {
    (void)arg;
    (void)p; /* arena memory goes with the execution */
}
static uint32_t drv_choose(void *arg, uint32_t n) { return sim_choose_user(((drv *)arg)->sim, n); }
static uint32_t clk_thread(void *self) { return sim_current_thread(self); }
static int64_t clk_now(void *self) { return sim_now_ns(self); }

static void drv_end(void *arg, const char *why) {
    drv *d = arg;
    d->threw_as_expected = true;
    sim_end_pass(d->sim, "%s", why);
}

/* What a poller that takes every failed GetQueuedCompletionStatusEx for a
 * timeout would see: the seam reports the failure as WAIT_TIMEOUT. */
static const shim *lie_inner;
static bool lie_failed;
static bool lie_gqcs_ex(void *ctx, shim_handle port, shim_overlapped_entry *e, uint32_t count, uint32_t *removed,
                        uint32_t ms, bool alertable) {
    bool ok = lie_inner->get_queued_completion_status_ex(ctx, port, e, count, removed, ms, alertable);
    lie_failed = !ok;
    return ok;
}
static uint32_t lie_last_error(void *ctx) { return lie_failed ? 258u : lie_inner->get_last_error(ctx); }

static void drv_main(sim_ctx *sim, const shim *sh, void *arg) {
    drv *d = arg;
    const shim_harness *hn = d->hn != NULL ? d->hn : sim_harness(sim);
    shim_fault_reset(d->faults, 0);
    shim_fault_hold(d->faults, SHIM_FAULT_SOCK, !scn_get_knobs(d->s).faults_sock_setup);
    const shim *faulty = shim_fault_wrap(d->faults, sh, sim_harness(sim));
    ck_assert_ptr_nonnull(faulty);
    ck_assert_ptr_null(model_record_wrap(&d->rec, faulty, d->tr));
    static shim lie;
    if (d->errors_as_timeouts) {
        lie = d->rec;
        lie_inner = &d->rec;
        lie_failed = false;
        lie.get_queued_completion_status_ex = lie_gqcs_ex;
        lie.get_last_error = lie_last_error;
    }
    scn_exec_ex(d->s, d->errors_as_timeouts ? &lie : &d->rec, hn, d->tr, &d->hk, &d->opts);
}

static bool drv_init(drv *d, const scn_scenario *s, bool trace) {
    memset(d, 0, sizeof *d);
    sim_config cfg;
    sim_config_default(&cfg);
    cfg.max_steps = 200000;
    cfg.record_trace = trace;
    scn_knobs k = scn_get_knobs(s);
    cli_knobs_to_sim(&k, &cfg);
    d->sim = sim_create(&cfg);
    if (d->sim == NULL) return false;
    d->tr = model_trace_create((model_clock){d->sim, clk_thread, clk_now});
    d->faults = shim_fault_create(cli_sim_fault_source(d->sim), d->tr);
    ck_assert_ptr_nonnull(d->faults);
    cli_fault_budgets(d->faults, k.faults);
    cli_fault_countdowns(d->faults, k.fail_at);
    d->s = s;
    d->hk = (scn_hooks){d, drv_fail, drv_alloc, drv_free};
    d->opts = (scn_exec_opts){.choose = drv_choose, .choose_arg = d, .alloc_fails = cli_alloc_fails,
                              .alloc_fails_arg = d->faults, .end_expected = drv_end, .end_arg = d,
                              .sock_fault_err = cli_sock_fault_err, .setup_done = cli_sock_setup_done};
    return true;
}

static void drv_destroy(drv *d) {
    shim_fault_destroy(d->faults);
    model_trace_destroy(d->tr);
    sim_destroy(d->sim);
}

/* One execution; returns "pass" or the failed property, with a message. */
static const char *drv_run(drv *d, sim_chooser *ch, char *msg, size_t len, const sim_result **out) {
    model_trace_reset(d->tr);
    d->threw_as_expected = false;
    const sim_result *r = sim_run(d->sim, ch, drv_main, d);
    *out = r;
    if (r->verdict != SIM_PASS) {
        snprintf(msg, len, "%.700s", r->message);
        return r->property;
    }
    if (d->threw_as_expected) return "pass";
    model_options o;
    model_options_default(&o);
    static model_violation v;
    if (!model_check(d->tr, &o, &v)) {
        snprintf(msg, len, "%.500s", v.message);
        return v.property;
    }
    return "pass";
}

/* Runs seeds [first, first+n); returns the number of failures (stops at the first). */
static uint32_t run_seeds(const scn_scenario *s, uint64_t first, uint32_t n, char *report, size_t rlen) {
    drv d;
    if (!drv_init(&d, s, false)) {
        snprintf(report, rlen, "%s: cannot create the simulator", scn_path(s));
        return 1;
    }
    for (uint64_t seed = first; seed < first + n; seed++) {
        sim_random rnd;
        sim_chooser ch = sim_random_chooser(&rnd, seed);
        char msg[800];
        const sim_result *r;
        const char *verdict = drv_run(&d, &ch, msg, sizeof msg, &r);
        if (strcmp(verdict, "pass") == 0) continue;
        char sched[400];
        size_t need = sim_schedule_format(r->decisions, r->ndecisions, sched, sizeof sched);
        snprintf(report, rlen, "%s: seed %llu: %s: %s\nschedule (%u decisions): %s%s", scn_path(s),
                 (unsigned long long)seed, verdict, msg, r->ndecisions, sched, need >= sizeof sched ? "..." : "");
        drv_destroy(&d);
        return 1;
    }
    drv_destroy(&d);
    return 0;
}

/* Replays stored schedule i; false with a report unless it ends as its `expect` says. */
static bool replay_stored(const scn_scenario *s, uint32_t i, char *report, size_t rlen) {
    const char *want = scn_schedule_expect(s, i);
    sim_schedule sch;
    char err[128];
    if (!sim_schedule_parse(scn_schedule(s, i), &sch, err, sizeof err)) {
        snprintf(report, rlen, "%s:%u: %s", scn_path(s), scn_schedule_line(s, i), err);
        return false;
    }
    drv d;
    drv_init(&d, s, false);
    sim_chooser rest = sim_first_chooser();
    sim_replay rp;
    sim_chooser ch = sim_replay_chooser(&rp, sch.d, sch.col, sch.count, &rest);
    char msg[800];
    const sim_result *r;
    const char *verdict = drv_run(&d, &ch, msg, sizeof msg, &r);
    bool ok = want == NULL || strcmp(verdict, want) == 0;
    if (!ok)
        snprintf(report, rlen, "%s:%u: stored schedule ended '%s', expected '%s': %s", scn_path(s),
                 scn_schedule_line(s, i), verdict, want, msg);
    drv_destroy(&d);
    sim_schedule_free(&sch);
    return ok;
}

/* ---- Files ---- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted paths of the *.scn files in dir (NULL-terminated, malloc'd). */
static char **list_scn(const char *dir, uint32_t *count) {
    char **v = NULL;
    uint32_t n = 0, cap = 0;
    DIR *dp = opendir(dir);
    if (dp == NULL) {
        *count = 0;
        return NULL;
    }
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".scn") != 0) continue;
        if (n + 1 >= cap) {
            cap = cap ? cap * 2 : 16;
            v = realloc(v, cap * sizeof *v);
        }
        size_t pl = strlen(dir) + l + 2;
        v[n] = malloc(pl);
        snprintf(v[n], pl, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(dp);
    if (n > 0) qsort(v, n, sizeof *v, cmp_str);
    *count = n;
    return v;
}

static void free_list(char **v, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

static const char *const themes[] = {"break", "close", "timeout", "foreign", "skipsync", "timer", "stress", "dgram", "accept", "connect", "shared", "fatal"};
#define NTHEMES (sizeof themes / sizeof themes[0])

/* ---- Parser tests ---- */

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *r = malloc(n + 1);
    memcpy(r, buf, n + 1);
    return r;
}

START_TEST(test_bad_files) {
    uint32_t n;
    char **files = list_scn("tests/scenarios/bad", &n);
    ck_assert_msg(n >= 20, "expected at least 20 bad files, found %u (run from the source tree)", n);
    for (uint32_t i = 0; i < n; i++) {
        char *text = read_text(files[i]);
        ck_assert_ptr_nonnull(text);
        const char *prefix = "# error: ";
        ck_assert_msg(strncmp(text, prefix, strlen(prefix)) == 0, "%s: first line must be '# error: ...'", files[i]);
        char want[512];
        const char *w = text + strlen(prefix);
        size_t wl = strcspn(w, "\n");
        snprintf(want, sizeof want, "%.*s", (int)wl, w);
        char err[512];
        scn_scenario *s = scn_load(files[i], err, sizeof err);
        ck_assert_msg(s == NULL, "%s parsed, expected: %s", files[i], want);
        ck_assert_msg(strcmp(err, want) == 0, "%s:\n  got:  %s\n  want: %s", files[i], err, want);
        free(text);
    }
    free_list(files, n);
}
END_TEST

START_TEST(test_good_files) {
    uint32_t n;
    char **files = list_scn("tests/scenarios/good", &n);
    ck_assert_msg(n >= 3, "expected good files, found %u", n);
    for (uint32_t i = 0; i < n; i++) {
        char err[512];
        scn_scenario *s = scn_load(files[i], err, sizeof err);
        ck_assert_msg(s != NULL, "%s", err);
        scn_free(s);
    }
    free_list(files, n);
}
END_TEST

START_TEST(test_parse_details) {
    char err[256];
    const char *text = "# a comment\n"
                       "scenario demo-1   # trailing comment\n"
                       "socket s skip_sync\n"
                       "knob tick 15.625ms\n"
                       "knob wait_packets absent\n"
                       "knob faults_sockio 2\n"
                       "thread t:\n"
                       "    r = write s \"a\\x41\\n\\\"\\\\\"\n"
                       "    expect r in {ok(5), error(995), closed}\n"
                       "\n"
                       "    repeat 3 poll 0\n"
                       "schedule \"t0x3,t1\" expect fail no-lost-wakeup\n"
                       "schedule \"t0\"\n"
                       "expect elapsed <= 1.5s\n";
    scn_scenario *s = scn_parse("mem.scn", text, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_str_eq(scn_name(s), "demo-1");
    ck_assert_str_eq(scn_path(s), "mem.scn");
    ck_assert_uint_eq(scn_schedule_count(s), 2);
    ck_assert_str_eq(scn_schedule(s, 0), "t0x3,t1");
    ck_assert_uint_eq(scn_schedule_line(s, 0), 12);
    ck_assert_str_eq(scn_schedule_expect(s, 0), "no-lost-wakeup");
    ck_assert_ptr_null(scn_schedule_expect(s, 1));
    ck_assert_uint_eq(scn_thread_count(s), 1);
    ck_assert_uint_eq(scn_step_count(s), 3);
    /* The knobs as plain values, then mapped onto the simulator. */
    scn_knobs k = scn_get_knobs(s);
    ck_assert(k.tick_set);
    ck_assert_int_eq(k.tick_ns, 15625000);
    ck_assert_int_eq(k.wait_packets, SCN_WAITPKT_ABSENT);
    ck_assert_uint_eq(k.faults[SHIM_FAULT_SOCKIO], 2);
    ck_assert_uint_eq(k.faults[SHIM_FAULT_PORT], 0);
    ck_assert(scn_knobs_faults(&k));
    ck_assert(!k.max_steps_set && !k.max_decisions_set && !k.max_objects_set && !k.time_jumps_set);
    ck_assert_uint_eq(k.threads, 2);
    sim_config cfg;
    sim_config_default(&cfg);
    cfg.tick_ns = 1;
    cfg.max_steps = 77;
    cli_knobs_to_sim(&k, &cfg);
    ck_assert_int_eq(cfg.tick_ns, 15625000);
    ck_assert_uint_eq(cfg.wait_packets, SIM_WAITPKT_ABSENT);
    ck_assert_uint_eq(cfg.max_steps, 77); /* not set by the scenario: the driver's own stays */
    scn_free(s);
    /* Unset knobs: wait_packets UNSET leaves the backend's default. */
    s = scn_parse("k.scn", "knob faults 3\nknob faults_post 1\nknob max_steps 9\nthread t:\n  break\n", err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    k = scn_get_knobs(s);
    ck_assert_int_eq(k.wait_packets, SCN_WAITPKT_UNSET);
    ck_assert(!k.tick_set);
    ck_assert_uint_eq(k.faults[SHIM_FAULT_PORT], 3);
    ck_assert_uint_eq(k.faults[SHIM_FAULT_POST], 1); /* a later line wins */
    ck_assert_uint_eq(k.faults[SHIM_FAULT_WAITPKT], 3);
    ck_assert(k.max_steps_set);
    sim_config_default(&cfg);
    cli_knobs_to_sim(&k, &cfg);
    ck_assert_uint_eq(cfg.wait_packets, SIM_WAITPKT_PRESENT);
    ck_assert_uint_eq(cfg.max_steps, 9);
    ck_assert_uint_eq(cfg.platform, SIM_PLATFORM_ANY); /* unset: the default, what-ifs too */
    scn_free(s);
    /* The platform knob, onto the simulator. */
    static const char *const pnames[] = {"any", "real", "windows", "wine"};
    static const uint8_t pvals[] = {SIM_PLATFORM_ANY, SIM_PLATFORM_REAL, SIM_PLATFORM_WINDOWS, SIM_PLATFORM_WINE};
    for (int i = 0; i < 4; i++) {
        char ktext[128];
        snprintf(ktext, sizeof ktext, "knob platform %s\nthread t:\n  break\n", pnames[i]);
        s = scn_parse("k.scn", ktext, err, sizeof err);
        ck_assert_msg(s != NULL, "%s", err);
        k = scn_get_knobs(s);
        sim_config_default(&cfg);
        cli_knobs_to_sim(&k, &cfg);
        ck_assert_uint_eq(cfg.platform, pvals[i]);
        ck_assert_int_eq(sim_platform_from_name(pnames[i]), pvals[i]);
        scn_free(s);
    }
    /* The name defaults to the file's base name. */
    s = scn_parse("dir/x/go1-y.scn", "thread t:\n  break\n", err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_str_eq(scn_name(s), "go1-y");
    scn_free(s);
    /* Durations and their errors. */
    const char *bad[][2] = {
        {"thread t:\n  sleep 10\n", "m.scn:2:9: bad duration '10': needs a unit (ns, us, ms or s)"},
        {"thread t:\n  sleep 10min\n", "m.scn:2:9: bad duration '10min' (a number and a unit: ns, us, ms or s)"},
        {"thread t:\n  sleep 1.5ns\n", "m.scn:2:9: bad duration '1.5ns': not a whole number of nanoseconds"},
        {"thread t:\n  sleep 1.ms\n", "m.scn:2:9: bad duration '1.ms' (a number and a unit: ns, us, ms or s)"},
        {"thread t:\n\tbreak\n", "m.scn:2:1: bad indentation: tabs are not allowed, indent with spaces"},
        {"socket s\nthread t:\n  write s \"a\\qb\"\n", "m.scn:3:13: unknown escape '\\q' (known: \\n \\t \\r \\0 \\\\ \\\" \\xHH)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = scn_parse("m.scn", bad[i][0], err, sizeof err);
        ck_assert_ptr_null(s);
        ck_assert_str_eq(err, bad[i][1]);
    }
    s = scn_parse("m.scn", "thread t:\n  sleep 500us\n  sleep 2s\n  sleep 0\n  sleep 7ns\n", err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    scn_free(s);
    ck_assert_ptr_null(scn_load("no/such/file.scn", err, sizeof err));
    ck_assert_str_eq(err, "no/such/file.scn:1:1: cannot read the file");
}
END_TEST

/* ---- The library ---- */

/* The interpreter checks both halves of the seam before running anything:
 * a harness that is too old or lacks a call fails the execution as "setup"
 * with the reason, and no thread of the scenario starts. */
START_TEST(test_refuses_bad_harness) {
    char err[512];
    scn_scenario *s = scn_load("tests/scenarios/good/minimal.scn", err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    drv d;
    ck_assert(drv_init(&d, s, false));
    shim_harness bad = *sim_harness(d.sim);
    bad.version = 0;
    d.hn = &bad;
    sim_random rnd;
    sim_chooser ch = sim_random_chooser(&rnd, 1);
    char msg[1024];
    const sim_result *r;
    ck_assert_str_eq(drv_run(&d, &ch, msg, sizeof msg, &r), "setup");
    ck_assert_msg(strstr(msg, "harness version") != NULL, "%s", msg);
    bad = *sim_harness(d.sim);
    bad.sock_abort = NULL;
    ck_assert_str_eq(drv_run(&d, &ch, msg, sizeof msg, &r), "setup");
    ck_assert_msg(strstr(msg, "lacks") != NULL, "%s", msg);
    d.hn = NULL; /* and the same scenario passes with the real one */
    ck_assert_str_eq(drv_run(&d, &ch, msg, sizeof msg, &r), "pass");
    drv_destroy(&d);
    scn_free(s);
}
END_TEST

START_TEST(test_library_parses) {
    uint32_t total = 0;
    for (size_t t = 0; t < NTHEMES; t++) {
        char dir[64];
        snprintf(dir, sizeof dir, "scenarios/%s", themes[t]);
        uint32_t n;
        char **files = list_scn(dir, &n);
        ck_assert_msg(n >= 1, "theme %s has no scenario", themes[t]);
        for (uint32_t i = 0; i < n; i++) {
            char err[512];
            scn_scenario *s = scn_load(files[i], err, sizeof err);
            ck_assert_msg(s != NULL, "%s", err);
            scn_free(s);
        }
        total += n;
        free_list(files, n);
    }
    ck_assert_msg(total >= 30, "the library has %u scenarios, at least 30 wanted", total);
}
END_TEST

START_TEST(test_library_passes) {
    const char *theme = themes[_i];
    char dir[64];
    snprintf(dir, sizeof dir, "scenarios/%s", theme);
    uint32_t n;
    char **files = list_scn(dir, &n);
    for (uint32_t i = 0; i < n; i++) {
        char err[512];
        scn_scenario *s = scn_load(files[i], err, sizeof err);
        ck_assert_msg(s != NULL, "%s", err);
        static char report[2048];
        ck_assert_msg(run_seeds(s, 0, SEEDS, report, sizeof report) == 0, "%s", report);
        for (uint32_t j = 0; j < scn_schedule_count(s); j++)
            ck_assert_msg(replay_stored(s, j, report, sizeof report), "%s", report);
        scn_free(s);
    }
    free_list(files, n);
}
END_TEST

/* `expect fatal`: dequeue-fails passes on the poller, which throws on the
 * failed dequeue; the same scenario fails as `expect` ("did not") when the
 * poller sees the failure as a timeout (the bug of a poller that ignores the
 * error), and a throw the scenario does not expect fails as no-fatal. */
static const char *first_verdict(const scn_scenario *s, bool lie, uint32_t seeds, char *msg, size_t len) {
    drv d;
    ck_assert(drv_init(&d, s, false));
    d.errors_as_timeouts = lie;
    const char *verdict = "pass";
    for (uint64_t seed = 1; seed <= seeds && strcmp(verdict, "pass") == 0; seed++) {
        sim_random rnd;
        sim_chooser ch = sim_random_chooser(&rnd, seed);
        const sim_result *r;
        verdict = drv_run(&d, &ch, msg, len, &r);
    }
    drv_destroy(&d);
    return verdict;
}

START_TEST(test_expect_fatal) {
    char err[512], msg[800];
    scn_scenario *s = scn_load("scenarios/fatal/dequeue-fails.scn", err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_str_eq(scn_expected_fatal(s), "runtime: netpoll failed");
    ck_assert_str_eq(first_verdict(s, false, 200, msg, sizeof msg), "pass");
    ck_assert_str_eq(first_verdict(s, true, 1, msg, sizeof msg), "expect");
    ck_assert_msg(strstr(msg, "expected the poller to throw \"runtime: netpoll failed\"") != NULL, "%s", msg);
    scn_free(s);
    static const char unexpected[] = "knob fail_dequeue 1\nthread t:\n    poll 0\n";
    s = scn_parse("unexpected.scn", unexpected, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_str_eq(first_verdict(s, false, 1, msg, sizeof msg), "no-fatal");
    scn_free(s);
    static const char other[] = "knob fail_dequeue 1\nexpect fatal \"CancelIoEx\"\nthread t:\n    poll 0\n";
    s = scn_parse("other.scn", other, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_str_eq(first_verdict(s, false, 1, msg, sizeof msg), "expect");
    ck_assert_msg(strstr(msg, "expected a throw containing \"CancelIoEx\"") != NULL, "%s", msg);
    scn_free(s);
}
END_TEST

/* ---- Development driver ---- */

static int dev_run(int argc, char **argv) {
    const char *file = argv[2];
    uint64_t first = 0;
    uint32_t seeds = 1000;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seeds") == 0) seeds = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--first") == 0) first = strtoull(argv[i + 1], NULL, 10);
    }
    char err[512];
    scn_scenario *s = scn_load(file, err, sizeof err);
    if (s == NULL) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    if (argc >= 5 && strcmp(argv[3], "--trace") == 0) { /* one seed, its model trace on stdout */
        drv d;
        drv_init(&d, s, true);
        sim_random rnd;
        sim_chooser ch = sim_random_chooser(&rnd, strtoull(argv[4], NULL, 10));
        char msg[800];
        const sim_result *r;
        printf("%s: %s\n", drv_run(&d, &ch, msg, sizeof msg, &r), msg);
        model_trace_write(d.tr, stdout);
        drv_destroy(&d);
        scn_free(s);
        return 0;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    static char report[4096];
    uint32_t f = run_seeds(s, first, seeds, report, sizeof report);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double sec = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    if (f) printf("%s\n", report);
    printf("%s: %u seeds, %s, %.0f exec/s\n", scn_name(s), seeds, f ? "FAIL" : "pass", seeds / sec);
    scn_free(s);
    return f ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "--run") == 0) return dev_run(argc, argv);
    Suite *su = suite_create("scenario");
    TCase *tp = tcase_create("parser");
    tcase_add_test(tp, test_parse_details);
    tcase_add_test(tp, test_bad_files);
    tcase_add_test(tp, test_good_files);
    tcase_add_test(tp, test_library_parses);
    tcase_add_test(tp, test_refuses_bad_harness);
    tcase_add_test(tp, test_expect_fatal);
    suite_add_tcase(su, tp);
    TCase *tl = tcase_create("library");
    tcase_set_timeout(tl, 600);
    tcase_add_loop_test(tl, test_library_passes, 0, (int)NTHEMES);
    suite_add_tcase(su, tl);
    SRunner *sr = srunner_create(su);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
