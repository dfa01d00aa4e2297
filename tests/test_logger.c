/* The base layer's logger: the level from AE_VERBOSE (or
 * PERL_ANYEVENT_VERBOSE), lines above the level dropped, levels clamped
 * to 1..9, a callback getting the formatted line, and without one the
 * line on stderr in AnyEvent::Log's format. */
#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "testutil.h"

static int level_from_env(const char *ae, const char *perl)
{
    unsetenv("AE_VERBOSE");
    unsetenv("PERL_ANYEVENT_VERBOSE");
    if (ae)
        setenv("AE_VERBOSE", ae, 1);
    if (perl)
        setenv("PERL_ANYEVENT_VERBOSE", perl, 1);
    aemp_logger lg;
    aempi_logger_init(&lg);
    unsetenv("AE_VERBOSE");
    unsetenv("PERL_ANYEVENT_VERBOSE");
    return lg.level;
}

/* error (4) by default; AE_VERBOSE wins over PERL_ANYEVENT_VERBOSE
 * unless it is empty, as AnyEvent copies AE_* over the long names. */
START_TEST(test_level_from_env)
{
    ck_assert_int_eq(level_from_env(NULL, NULL), 4);
    ck_assert_int_eq(level_from_env("7", NULL), 7);
    ck_assert_int_eq(level_from_env(NULL, "6"), 6);
    ck_assert_int_eq(level_from_env("8", "6"), 8);
    ck_assert_int_eq(level_from_env("", "6"), 6);
}
END_TEST

/* Lines at or below the level reach the callback, formatted; those above
 * do not; levels outside 1..9 count as the nearest. */
START_TEST(test_level_and_callback)
{
    test_log_lines got = {0};
    aemp_logger lg = {5, test_log_record, &got};
    aempi_logger_log(&lg, 6, "Ctx", "dropped %d", 1);
    ck_assert_int_eq(got.count, 0);
    aempi_logger_log(&lg, 5, "Ctx", "kept %d %s", 2, "x");
    ck_assert_int_eq(got.count, 1);
    ck_assert_int_eq(got.level, 5);
    ck_assert_str_eq(got.ctx, "Ctx");
    ck_assert_str_eq(got.msg, "kept 2 x");
    aempi_logger_log(&lg, -3, "Low", "clamped");
    ck_assert_int_eq(got.level, 1);
    lg.level = 9;
    aempi_logger_log(&lg, 12, "High", "clamped");
    ck_assert_int_eq(got.count, 3);
    ck_assert_int_eq(got.level, 9);
}
END_TEST

/* Without a callback: "YYYY-MM-DD HH:MM:SS.UUUUUU +ZZZZ warn  Ctx: msg",
 * the level name padded to five, as AnyEvent::Log writes. */
START_TEST(test_stderr_format)
{
    char path[] = "/tmp/test_logger_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    aemp_logger lg = {9, NULL, NULL};
    aempi_logger_log(&lg, 5, "AnyEvent::MP::Kernel", "hello %d", 42);
    aempi_logger_log(&lg, 9, "T", "x");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char out[512] = {0};
    ck_assert_int_gt(pread(fd, out, sizeof out - 1, 0), 0);
    close(fd);
    regex_t re;
    ck_assert_int_eq(
        regcomp(&re,
                "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"
                "\\.[0-9]{6} [+-][0-9]{4} warn  AnyEvent::MP::Kernel: "
                "hello 42\n"
                "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"
                "\\.[0-9]{6} [+-][0-9]{4} trace T: x\n$",
                REG_EXTENDED),
        0);
    int match = regexec(&re, out, 0, NULL, 0);
    regfree(&re);
    ck_assert_msg(match == 0, "log lines: %s", out);
}
END_TEST

static Suite *logger_suite(void)
{
    Suite *s = suite_create("logger");
    TCase *tc = tcase_create("logger");
    tcase_add_test(tc, test_level_from_env);
    tcase_add_test(tc, test_level_and_callback);
    tcase_add_test(tc, test_stderr_format);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(logger_suite());
}
