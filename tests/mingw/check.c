/* check.c - the runner behind tests/mingw/check.h, the small Check stand-in
 * for the Windows builds (see that header for what is and is not covered).
 *
 * Output follows Check's CK_NORMAL shape, so a log reads the same on both
 * platforms: "Running suite(s): NAME", one "file:line:F:tcase:test:i: msg"
 * line per failure, and "P%: Checks: N, Failures: F, Errors: 0".
 * A failed assertion longjmps back here; assertions must therefore be made
 * from the thread that runs the test, as in Check's no-fork mode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

typedef struct ck_test {
    TFun fn;
    const char *name;
    int start, end;
} ck_test;

typedef struct ck_fixture {
    SFun setup, teardown;
} ck_fixture;

struct TCase {
    const char *name;
    ck_test *tests;
    int ntests;
    ck_fixture *fixtures;
    int nfixtures;
    double timeout_s; /* recorded only: CTest enforces the time limit */
    TCase *next;
};

struct Suite {
    const char *name;
    TCase *first, *last;
    Suite *next;
};

struct SRunner {
    Suite *first, *last;
    int checks, failures;
};

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q == NULL) {
        fputs("check: out of memory\n", stderr);
        exit(3);
    }
    return q;
}

Suite *suite_create(const char *name)
{
    Suite *s = xrealloc(NULL, sizeof *s);
    s->name = name;
    s->first = s->last = NULL;
    s->next = NULL;
    return s;
}

void suite_add_tcase(Suite *s, TCase *tc)
{
    if (s->last != NULL)
        s->last->next = tc;
    else
        s->first = tc;
    s->last = tc;
}

TCase *tcase_create(const char *name)
{
    TCase *tc = xrealloc(NULL, sizeof *tc);
    tc->name = name;
    tc->tests = NULL;
    tc->ntests = 0;
    tc->fixtures = NULL;
    tc->nfixtures = 0;
    tc->timeout_s = 0;
    tc->next = NULL;
    return tc;
}

void tcase_add_test_impl(TCase *tc, TFun fn, const char *name, int start, int end)
{
    tc->tests = xrealloc(tc->tests, (size_t)(tc->ntests + 1) * sizeof *tc->tests);
    ck_test *t = &tc->tests[tc->ntests++];
    t->fn = fn;
    t->name = name;
    t->start = start;
    t->end = end;
}

void tcase_add_checked_fixture(TCase *tc, SFun setup, SFun teardown)
{
    tc->fixtures = xrealloc(tc->fixtures, (size_t)(tc->nfixtures + 1) * sizeof *tc->fixtures);
    tc->fixtures[tc->nfixtures].setup = setup;
    tc->fixtures[tc->nfixtures].teardown = teardown;
    tc->nfixtures++;
}

void tcase_set_timeout(TCase *tc, double seconds)
{
    tc->timeout_s = seconds;
}

SRunner *srunner_create(Suite *s)
{
    SRunner *sr = xrealloc(NULL, sizeof *sr);
    sr->first = sr->last = NULL;
    sr->checks = sr->failures = 0;
    if (s != NULL)
        srunner_add_suite(sr, s);
    return sr;
}

void srunner_add_suite(SRunner *sr, Suite *s)
{
    if (sr->last != NULL)
        sr->last->next = s;
    else
        sr->first = s;
    sr->last = s;
}

void srunner_set_fork_status(SRunner *sr, enum fork_status fs)
{
    (void)sr;
    (void)fs; /* always in-process: Windows has no fork */
}

/* ---- Failing ---- */

static jmp_buf ck_jump;
static char ck_msg[1024];
static const char *ck_last_file = "";
static int ck_last_line;

void ck_mark_point_at(const char *file, int line)
{
    ck_last_file = file;
    ck_last_line = line;
}

static void ck_format(const char *file, int line, const char *prefix, const char *fmt, va_list ap)
{
    ck_mark_point_at(file, line);
    int n = snprintf(ck_msg, sizeof ck_msg, "%s", prefix);
    if (n < 0 || (size_t)n >= sizeof ck_msg)
        n = 0;
    vsnprintf(ck_msg + n, sizeof ck_msg - (size_t)n, fmt, ap);
}

void ck_fail_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ck_format(file, line, "", fmt, ap);
    va_end(ap);
    longjmp(ck_jump, 1);
}

void ck_fail_msg_at(const char *file, int line, const char *expr, const char *fmt, ...)
{
    char prefix[512];
    snprintf(prefix, sizeof prefix, "Assertion '%s' failed: ", expr);
    va_list ap;
    va_start(ap, fmt);
    ck_format(file, line, prefix, fmt, ap);
    va_end(ap);
    longjmp(ck_jump, 1);
}

/* ---- Running ---- */

/* Runs fn (a fixture when test is NULL) and returns 1 if it passed. The
 * state a longjmp must not lose lives in statics, not in locals. */
static TFun ck_cur_test;
static SFun ck_cur_fixture;
static int ck_cur_i;

static int ck_call(void)
{
    if (setjmp(ck_jump) != 0)
        return 0;
    if (ck_cur_test != NULL)
        ck_cur_test(ck_cur_i);
    else
        ck_cur_fixture();
    return 1;
}

static void ck_report(SRunner *sr, const TCase *tc, const ck_test *t, int i, const char *what)
{
    sr->failures++;
    printf("%s:%d:F:%s:%s:%d: %s%s\n", ck_last_file, ck_last_line, tc->name, t->name, i, what,
           ck_msg);
    fflush(stdout);
}

static void ck_run_one(SRunner *sr, const TCase *tc, const ck_test *t, int i)
{
    sr->checks++;
    ck_msg[0] = 0;
    for (int f = 0; f < tc->nfixtures; f++) {
        if (tc->fixtures[f].setup == NULL)
            continue;
        ck_cur_test = NULL;
        ck_cur_fixture = tc->fixtures[f].setup;
        if (!ck_call()) {
            ck_report(sr, tc, t, i, "(setup) ");
            return;
        }
    }
    ck_cur_test = t->fn;
    ck_cur_i = i;
    ck_mark_point_at("", 0);
    if (!ck_call())
        ck_report(sr, tc, t, i, "");
    for (int f = tc->nfixtures - 1; f >= 0; f--) {
        if (tc->fixtures[f].teardown == NULL)
            continue;
        ck_cur_test = NULL;
        ck_cur_fixture = tc->fixtures[f].teardown;
        if (!ck_call())
            ck_report(sr, tc, t, i, "(teardown) ");
    }
}

void srunner_run_all(SRunner *sr, enum print_output mode)
{
    for (Suite *s = sr->first; s != NULL; s = s->next) {
        if (mode != CK_SILENT)
            printf("Running suite(s): %s\n", s->name);
        fflush(stdout);
        for (TCase *tc = s->first; tc != NULL; tc = tc->next)
            for (int k = 0; k < tc->ntests; k++)
                for (int i = tc->tests[k].start; i < tc->tests[k].end; i++)
                    ck_run_one(sr, tc, &tc->tests[k], i);
    }
    if (mode != CK_SILENT) {
        int pct = sr->checks > 0 ? 100 * (sr->checks - sr->failures) / sr->checks : 0;
        printf("%d%%: Checks: %d, Failures: %d, Errors: 0\n", pct, sr->checks, sr->failures);
        fflush(stdout);
    }
}

int srunner_ntests_failed(SRunner *sr)
{
    return sr->failures;
}

void srunner_free(SRunner *sr)
{
    Suite *s = sr->first;
    while (s != NULL) {
        Suite *sn = s->next;
        TCase *tc = s->first;
        while (tc != NULL) {
            TCase *tn = tc->next;
            free(tc->tests);
            free(tc->fixtures);
            free(tc);
            tc = tn;
        }
        free(s);
        s = sn;
    }
    free(sr);
}
