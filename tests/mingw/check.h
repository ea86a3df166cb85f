/* check.h - a tiny stand-in for the Check unit-test framework, for the
 * Windows (MinGW-w64) builds only.
 *
 * Debian packages Check for Linux but not for Windows, and nothing may be
 * downloaded, so the Windows test programs are compiled against this header
 * instead. It implements only the subset of Check's API that tests/ uses,
 * with Check's names and meanings: suites, test cases, checked fixtures,
 * loop tests, the runner, and the ck_assert family. Differences: tests
 * always run in the runner's process (CK_NOFORK; Windows has no fork), a
 * failed assertion longjmps out of the test, and tcase_set_timeout is
 * recorded but not enforced (CTest's TIMEOUT is the backstop).
 */
#ifndef IOCPCHECK_MINGW_CHECK_H
#define IOCPCHECK_MINGW_CHECK_H

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct Suite Suite;
typedef struct TCase TCase;
typedef struct SRunner SRunner;

typedef void (*TFun)(int _i);
typedef void (*SFun)(void);

enum fork_status { CK_FORK_GETENV, CK_NOFORK, CK_FORK };
enum print_output { CK_SILENT, CK_MINIMAL, CK_NORMAL, CK_VERBOSE, CK_ENV };

Suite *suite_create(const char *name);
void suite_add_tcase(Suite *s, TCase *tc);
TCase *tcase_create(const char *name);
void tcase_add_test_impl(TCase *tc, TFun fn, const char *name, int start, int end);
void tcase_add_checked_fixture(TCase *tc, SFun setup, SFun teardown);
void tcase_set_timeout(TCase *tc, double seconds);

SRunner *srunner_create(Suite *s);
void srunner_add_suite(SRunner *sr, Suite *s);
void srunner_set_fork_status(SRunner *sr, enum fork_status fs);
void srunner_run_all(SRunner *sr, enum print_output mode);
int srunner_ntests_failed(SRunner *sr);
void srunner_free(SRunner *sr);

#define tcase_add_test(tc, tf) tcase_add_test_impl((tc), (tf), #tf, 0, 1)
#define tcase_add_loop_test(tc, tf, s, e) tcase_add_test_impl((tc), (tf), #tf, (s), (e))

/* A test is a function of the loop index _i, as in Check. */
#define START_TEST(name)                                                                           \
    static void name(int _i)                                                                       \
    {                                                                                              \
        (void)_i;
#define END_TEST }

/* Failure reporting: records the message and leaves the running test. */
#if defined(__MINGW32__)
/* gnu_printf: the build uses MinGW's C99 printf (__USE_MINGW_ANSI_STDIO). */
#define CK_NORETURN __attribute__((noreturn))
#define CK_PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#elif defined(__GNUC__)
#define CK_NORETURN __attribute__((noreturn))
#define CK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#elif defined(_MSC_VER)
#define CK_NORETURN __declspec(noreturn)
#define CK_PRINTF(f, a)
#else
#define CK_NORETURN
#define CK_PRINTF(f, a)
#endif
CK_NORETURN void ck_fail_at(const char *file, int line, const char *fmt, ...) CK_PRINTF(3, 4);
/* "Assertion '<expr>' failed: " followed by the caller's message. */
CK_NORETURN void ck_fail_msg_at(const char *file, int line, const char *expr, const char *fmt, ...)
    CK_PRINTF(4, 5);
/* Check's mark_point: the last line reached, reported if the test dies. */
void ck_mark_point_at(const char *file, int line);
#define mark_point() ck_mark_point_at(__FILE__, __LINE__)

#define ck_abort_msg(...) ck_fail_at(__FILE__, __LINE__, __VA_ARGS__)
#define ck_assert(expr)                                                                            \
    do {                                                                                           \
        if (!(expr))                                                                               \
            ck_fail_at(__FILE__, __LINE__, "Assertion '%s' failed", #expr);                        \
    } while (0)
/* The message is a printf format and its arguments, as in Check. */
#define ck_assert_msg(expr, ...)                                                                   \
    do {                                                                                           \
        if (!(expr))                                                                               \
            ck_fail_msg_at(__FILE__, __LINE__, #expr, __VA_ARGS__);                                \
    } while (0)

#define CK_CMP_(T, FMT, CAST, X, OP, Y)                                                            \
    do {                                                                                           \
        T ck_x_ = (T)(X);                                                                          \
        T ck_y_ = (T)(Y);                                                                          \
        if (!(ck_x_ OP ck_y_))                                                                     \
            ck_fail_at(__FILE__, __LINE__, "Assertion '%s' failed: %s == " FMT ", %s == " FMT,     \
                       #X " " #OP " " #Y, #X, (CAST)ck_x_, #Y, (CAST)ck_y_);                       \
    } while (0)

#define ck_assert_int_eq(X, Y) CK_CMP_(intmax_t, "%lld", long long, X, ==, Y)
#define ck_assert_int_ne(X, Y) CK_CMP_(intmax_t, "%lld", long long, X, !=, Y)
#define ck_assert_int_lt(X, Y) CK_CMP_(intmax_t, "%lld", long long, X, <, Y)
#define ck_assert_int_le(X, Y) CK_CMP_(intmax_t, "%lld", long long, X, <=, Y)
#define ck_assert_int_gt(X, Y) CK_CMP_(intmax_t, "%lld", long long, X, >, Y)
#define ck_assert_int_ge(X, Y) CK_CMP_(intmax_t, "%lld", long long, X, >=, Y)
#define ck_assert_uint_eq(X, Y) CK_CMP_(uintmax_t, "%llu", unsigned long long, X, ==, Y)
#define ck_assert_uint_ne(X, Y) CK_CMP_(uintmax_t, "%llu", unsigned long long, X, !=, Y)
#define ck_assert_uint_lt(X, Y) CK_CMP_(uintmax_t, "%llu", unsigned long long, X, <, Y)
#define ck_assert_uint_le(X, Y) CK_CMP_(uintmax_t, "%llu", unsigned long long, X, <=, Y)
#define ck_assert_uint_gt(X, Y) CK_CMP_(uintmax_t, "%llu", unsigned long long, X, >, Y)
#define ck_assert_uint_ge(X, Y) CK_CMP_(uintmax_t, "%llu", unsigned long long, X, >=, Y)

#define CK_STR_(X, OP, Y)                                                                          \
    do {                                                                                           \
        const char *ck_x_ = (X);                                                                   \
        const char *ck_y_ = (Y);                                                                   \
        if (ck_x_ == NULL || ck_y_ == NULL || !(strcmp(ck_x_, ck_y_) OP 0))                        \
            ck_fail_at(__FILE__, __LINE__, "Assertion '%s' failed: %s == \"%s\", %s == \"%s\"",    \
                       #X " " #OP " " #Y, #X, ck_x_ ? ck_x_ : "(null)", #Y,                        \
                       ck_y_ ? ck_y_ : "(null)");                                                  \
    } while (0)
#define ck_assert_str_eq(X, Y) CK_STR_(X, ==, Y)
#define ck_assert_str_ne(X, Y) CK_STR_(X, !=, Y)

/* Pointers are compared, never printed (no addresses in any output). */
#define CK_PTR_(X, OP, Y)                                                                          \
    do {                                                                                           \
        if (!((const void *)(X) OP (const void *)(Y)))                                             \
            ck_fail_at(__FILE__, __LINE__, "Assertion '%s' failed", #X " " #OP " " #Y);            \
    } while (0)
#define ck_assert_ptr_eq(X, Y) CK_PTR_(X, ==, Y)
#define ck_assert_ptr_ne(X, Y) CK_PTR_(X, !=, Y)
#define ck_assert_ptr_null(X) CK_PTR_(X, ==, NULL)
#define ck_assert_ptr_nonnull(X) CK_PTR_(X, !=, NULL)

#ifdef __cplusplus
}
#endif

#endif
