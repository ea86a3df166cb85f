/* check_cli_alloc.c - the command line's checked allocation (cli/cli_alloc.c):
 * what it returns is usable, and a request that cannot be met ends the
 * process with exit code 3 and a message, never a NULL the caller ignores.
 *
 * The failure is reached through a size that overflows (n * size > SIZE_MAX),
 * which fails before any allocator is asked: the same path as an allocator
 * returning NULL, and deterministic under every build and sanitizer.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"

START_TEST(test_allocations_usable) {
    char *s = cli_xstrdup("iocpcheck");
    ck_assert_str_eq(s, "iocpcheck");
    s = cli_xrealloc(s, 4096);
    ck_assert_str_eq(s, "iocpcheck"); /* the contents survive growing */
    free(s);
    uint32_t *z = cli_xcalloc(64, sizeof *z);
    for (int i = 0; i < 64; i++) ck_assert_uint_eq(z[i], 0);
    free(z);
    void *empty = cli_xmalloc(0); /* never NULL, even for nothing */
    ck_assert_ptr_nonnull(empty);
    free(empty);
}
END_TEST

START_TEST(test_failure_exits_3_with_message) {
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        void *p = cli_xcalloc(SIZE_MAX / 2 + 1, 4);
        _exit(p == NULL ? 42 : 43); /* not reached: it must not return */
    }
    close(fds[1]);
    char out[512];
    size_t used = 0;
    ssize_t got;
    while ((got = read(fds[0], out + used, sizeof out - 1 - used)) > 0) used += (size_t)got;
    out[used] = 0;
    close(fds[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == CLI_EXIT_INTERNAL, "status %d, stderr: %s", status, out);
    ck_assert_msg(strstr(out, "iocpcheck: out of memory") != NULL, "stderr: %s", out);
}
END_TEST

int main(void) {
    Suite *s = suite_create("cli_alloc");
    TCase *tc = tcase_create("alloc");
    tcase_add_test(tc, test_allocations_usable);
    tcase_add_test(tc, test_failure_exits_3_with_message);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
