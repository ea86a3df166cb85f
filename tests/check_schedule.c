/* check_schedule.c - the schedule string: format, parse, and the errors a
 * hand-edited schedule gets (with the column of the mistake). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

static void roundtrip(const sim_decision *d, uint32_t n, const char *want) {
    char buf[256];
    size_t len = sim_schedule_format(d, n, buf, sizeof buf);
    ck_assert_str_eq(buf, want);
    ck_assert_uint_eq(len, strlen(want));
    sim_schedule s;
    char err[128];
    ck_assert_msg(sim_schedule_parse(buf, &s, err, sizeof err), "%s", err);
    ck_assert_uint_eq(s.count, n);
    for (uint32_t i = 0; i < n; i++) {
        ck_assert_uint_eq(s.d[i].kind, d[i].kind);
        ck_assert_uint_eq(s.d[i].label, d[i].label);
    }
    sim_schedule_free(&s);
}

START_TEST(test_format_and_parse) {
    sim_decision d[8];
    memset(d, 0, sizeof d);
    uint32_t labels[8] = {0, 0, 0, 1, 2, 2, 0, 7};
    for (int i = 0; i < 8; i++) {
        d[i].kind = SIM_CHOICE_THREAD;
        d[i].label = labels[i];
    }
    d[4].kind = SIM_CHOICE_USER;
    roundtrip(d, 8, "t0x3,t1,u2,t2,t0,t7");
    roundtrip(d, 0, "");
    d[1].label = SIM_KERNEL_LABEL;
    d[2].kind = SIM_CHOICE_EVENT;
    d[2].label = 3;
    roundtrip(d, 4, "t0,tk,e3,t1");
    roundtrip(d, 1, "t0");
}
END_TEST

START_TEST(test_parse_forms) {
    sim_schedule s;
    char err[128];
    ck_assert_msg(sim_schedule_parse("  t1 t2,\n u0x2 ,t4294967294 ", &s, err, sizeof err), "%s", err);
    ck_assert_uint_eq(s.count, 5);
    ck_assert_uint_eq(s.d[2].kind, SIM_CHOICE_USER);
    ck_assert_uint_eq(s.d[3].label, 0);
    ck_assert_uint_eq(s.d[4].label, 4294967294u);
    ck_assert_uint_eq(s.col[0], 3);
    ck_assert_uint_eq(s.col[2], 11);
    ck_assert_uint_eq(s.col[3], 11);
    sim_schedule_free(&s);
    ck_assert(sim_schedule_parse("", &s, err, sizeof err));
    ck_assert_uint_eq(s.count, 0);
    sim_schedule_free(&s);
}
END_TEST

/* `want` is the whole message, or "PREFIX...SUFFIX" (the list of choice
 * letters in between grows with the simulator). */
static void bad(const char *text, const char *want) {
    sim_schedule s;
    char err[160];
    ck_assert_msg(!sim_schedule_parse(text, &s, err, sizeof err), "'%s' parsed", text);
    const char *dots = strstr(want, "...");
    if (dots == NULL) {
        ck_assert_msg(strcmp(err, want) == 0, "'%s': got \"%s\", want \"%s\"", text, err, want);
    } else {
        size_t pre = (size_t)(dots - want), suf = strlen(dots + 3);
        ck_assert_msg(strncmp(err, want, pre) == 0 && strlen(err) >= pre + suf &&
                          strcmp(err + strlen(err) - suf, dots + 3) == 0,
                      "'%s': got \"%s\", want \"%s\"", text, err, want);
    }
    ck_assert_ptr_null(s.d);
}

START_TEST(test_bad_schedules) {
    bad("t0,Q1", "col 4: expected a choice letter (t u e...), got 'Q'");
    bad("t", "col 2: expected a decimal label, got the end of the schedule");
    bad("t0,,t1", "col 4: expected a choice letter (t u e...), got ','");
    bad("t0,", "col 4: expected a token after ',', got the end of the schedule");
    /* Each message names what is wrong (issue 11, item 12). */
    bad("t0x0", "col 4: a repeat count is from 1 to 100000000, not 0");
    bad("t0x999999999", "col 4: repeat count too large (at most 100000000)");
    bad("t0x", "col 4: expected a repeat count from 1 to 100000000 after 'x', got the end of the schedule");
    bad("t0xz", "col 4: expected a repeat count from 1 to 100000000 after 'x', got 'z'");
    bad("t99999999999", "col 2: label too large (at most 4294967294)");
    bad("t1t2", "col 3: expected ',' or white space after a token, got 't'");
    bad("t1;t2", "col 3: expected ',' or white space after a token, got ';'");
    bad("t-1", "col 2: expected a decimal label, got '-'");
    bad("uk", "col 2: expected a decimal label, got 'k'");
    bad("t1\x01", "col 3: expected ',' or white space after a token, got byte 0x01");
}
END_TEST

int main(void) {
    Suite *s = suite_create("schedule");
    TCase *tc = tcase_create("string");
    tcase_add_test(tc, test_format_and_parse);
    tcase_add_test(tc, test_parse_forms);
    tcase_add_test(tc, test_bad_schedules);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
