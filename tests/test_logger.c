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
    aemp_logger lg = {5, test_log_record, &got, NULL};
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
    aemp_logger lg = {9, NULL, NULL, NULL};
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

/* ---- PERL_ANYEVENT_LOG ---- */

/* every line the sink got, "LEVEL CTX: MSG\n" each */
typedef struct seen_lines {
    char text[4096];
    int count;
} seen_lines;

static void seen_record(int level, const char *ctx, const char *msg,
                        void *ud)
{
    seen_lines *s = ud;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof s->text - n, "%d %s: %s\n", level, ctx, msg);
    s->count++;
}

/* A logger at level 4 with the spec applied; the lines of the standard
 * probe (one per level 1..9 from ctx) in got. */
static int spec_lines(const char *spec, const char *ctx, seen_lines *got)
{
    memset(got, 0, sizeof *got);
    aemp_logger lg = {4, seen_record, got, NULL};
    char err[512];
    int rc = aempi_logger_configure(&lg, spec, err, sizeof err);
    for (int l = 1; l <= 9; l++)
        aempi_logger_log(&lg, l, ctx, "l%d", l);
    aempi_logger_free(&lg);
    return rc;
}

/* AE_LOG=AnyEvent::MP=+log, as the Intro recommends: the AnyEvent::MP
 * contexts (and those below them) reach the log context past the filter,
 * each line once; other contexts keep the filter's level. */
START_TEST(test_spec_plus_log)
{
    seen_lines got;
    ck_assert_int_eq(spec_lines("AnyEvent::MP=+log", "AnyEvent::MP::Kernel",
                                &got),
                     0);
    ck_assert_int_eq(got.count, 9);
    ck_assert_ptr_nonnull(strstr(got.text, "9 AnyEvent::MP::Kernel: l9\n"));
    ck_assert_int_eq(spec_lines("AnyEvent::MP=+log", "main", &got), 0);
    ck_assert_int_eq(got.count, 4);
    ck_assert_int_eq(spec_lines("AnyEvent::MP=+log", "AnyEvent::MPX", &got),
                     0);
    ck_assert_int_eq(got.count, 4);
    /* a trailing "::" names the package too */
    ck_assert_int_eq(spec_lines("AnyEvent::MP::=+log", "AnyEvent::MP", &got),
                     0);
    ck_assert_int_eq(got.count, 9);
}
END_TEST

/* Levels per context: names, numbers, only/except, off; whitespace and
 * ':' separate specifications. */
START_TEST(test_spec_levels)
{
    seen_lines got;
    ck_assert_int_eq(spec_lines("filter=debug", "X", &got), 0);
    ck_assert_int_eq(got.count, 8);
    ck_assert_int_eq(spec_lines("filter=7", "X", &got), 0);
    ck_assert_int_eq(got.count, 7);
    ck_assert_int_eq(spec_lines("filter=only,trace,err", "X", &got), 0);
    ck_assert_int_eq(got.count, 2);
    ck_assert_str_eq(got.text, "4 X: l4\n9 X: l9\n");
    ck_assert_int_eq(spec_lines("filter=all  filter=except,fatal,trace", "X",
                                &got),
                     0);
    ck_assert_int_eq(got.count, 7);
    ck_assert_int_eq(spec_lines("AnyEvent::MP::Kernel=off", "AnyEvent::MP::"
                                                             "Kernel",
                                &got),
                     0);
    ck_assert_int_eq(got.count, 0);
    ck_assert_int_eq(spec_lines("AnyEvent::MP::Kernel=off",
                                "AnyEvent::MP::Transport", &got),
                     0);
    ck_assert_int_eq(got.count, 4);
    /* the package's level lets debug through to the filter, which stops
     * it; with the filter at debug, the package's notice keeps info out */
    ck_assert_int_eq(spec_lines("filter=debug:AnyEvent::MP=notice",
                                "AnyEvent::MP::Kernel", &got),
                     0);
    ck_assert_int_eq(got.count, 6);
}
END_TEST

/* Outputs: stderr (the sink) on a context of its own, cap, "+" detaching
 * the parent, file= on an anonymous context. */
START_TEST(test_spec_outputs)
{
    seen_lines got;
    /* the package logs itself and also goes on to the filter: once each */
    ck_assert_int_eq(spec_lines("AnyEvent::MP=stderr", "AnyEvent::MP", &got),
                     0);
    ck_assert_int_eq(got.count, 9 + 4);
    ck_assert_int_eq(spec_lines("AnyEvent::MP=+,stderr", "AnyEvent::MP",
                                &got),
                     0);
    ck_assert_int_eq(got.count, 9);
    ck_assert_int_eq(spec_lines("log=cap=error", "X", &got), 0);
    ck_assert_str_eq(got.text, "4 X: l1\n4 X: l2\n4 X: l3\n4 X: l4\n");
    ck_assert_int_eq(spec_lines("log=nolog", "X", &got), 0);
    ck_assert_int_eq(got.count, 0);

    char path[] = "/tmp/test_logger_file_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    char spec[256];
    snprintf(spec, sizeof spec, "%%f=only,debug,file=%s collect=+%%f", path);
    ck_assert_int_eq(spec_lines(spec, "Y", &got), 0);
    ck_assert_int_eq(got.count, 4);
    char out[1024] = {0};
    ck_assert_int_gt(pread(fd, out, sizeof out - 1, 0), 0);
    close(fd);
    unlink(path);
    ck_assert_ptr_nonnull(strstr(out, " debug Y: l8\n"));
    ck_assert_ptr_null(strstr(out, "l4"));
}
END_TEST

/* Bad specifications: Perl's message, nothing applied; what is left out
 * (syslog) is said and the rest applied; a level set later wins over
 * filter=. */
START_TEST(test_spec_errors)
{
    seen_lines got;
    char err[512];
    aemp_logger lg = {4, seen_record, &got, NULL};
    memset(&got, 0, sizeof got);
    ck_assert_int_eq(aempi_logger_configure(&lg, "filter=bogus", err,
                                            sizeof err),
                     -1);
    ck_assert_str_eq(err, "PERL_ANYEVENT_LOG (filter=bogus): parse error at "
                          "'bogus'");
    ck_assert_int_eq(aempi_logger_configure(&lg, "filter=debug junk", err,
                                            sizeof err),
                     -1);
    ck_assert_str_eq(err, "PERL_ANYEVENT_LOG (filter=debug junk): parse "
                          "error at 'junk'");
    ck_assert_int_eq(aempi_logger_configure(&lg, "log=cap=high", err,
                                            sizeof err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "high: not a valid logging level"));
    ck_assert_int_eq(aempi_logger_configure(&lg, "=x", err, sizeof err), -1);
    ck_assert_int_eq(aempi_logger_configure(&lg, "log=file=/nonexistent/x/y",
                                            err, sizeof err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot open /nonexistent/x/y"));
    char many[2048] = "";
    for (int i = 0; i < 40; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "P%d=1 ", i);
    ck_assert_int_eq(aempi_logger_configure(&lg, many, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "more than 32 contexts"));
    aempi_logger_log(&lg, 8, "X", "debug");
    ck_assert_int_eq(got.count, 0);

    ck_assert_int_eq(aempi_logger_configure(&lg, "log=syslog,8 filter=8",
                                            err, sizeof err),
                     1);
    ck_assert_ptr_nonnull(strstr(err, "'syslog' is not supported"));
    aempi_logger_log(&lg, 8, "X", "debug");
    ck_assert_int_eq(got.count, 1);
    aempi_logger_set_level(&lg, 4);
    aempi_logger_log(&lg, 8, "X", "debug");
    ck_assert_int_eq(got.count, 1);
    aempi_logger_free(&lg);

    /* from the environment: a bad one is said on stderr and ignored */
    setenv("AE_LOG", "filter=nonsense", 1);
    aempi_logger_init(&lg);
    unsetenv("AE_LOG");
    ck_assert_ptr_null(lg.st);
    setenv("PERL_ANYEVENT_LOG", "filter=9", 1);
    aempi_logger_init(&lg);
    unsetenv("PERL_ANYEVENT_LOG");
    ck_assert_ptr_nonnull(lg.st);
    aempi_logger_free(&lg);
}
END_TEST

/* ---- taps (LogCatcher's connect) ---- */

typedef struct tap_seen {
    const aemp_logger *lg;
    int count;
    int level;
    char ctx[64];
    char msg[256];
    int freed;
} tap_seen;

static void tap_record(double t, int level, const char *ctx, const char *msg,
                       void *ud)
{
    tap_seen *s = ud;
    ck_assert(t > 1e9);
    s->count++;
    s->level = level;
    snprintf(s->ctx, sizeof s->ctx, "%s", ctx);
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    /* a line logged while a line is sent does not come round again */
    aempi_logger_log(s->lg, 1, "Tap", "inside");
}

static void tap_free(void *ud)
{
    ((tap_seen *)ud)->freed++;
}

/* A tap sees lines at its level or below before the filter, not relayed
 * ones nor its own; removing it frees its data. */
START_TEST(test_taps)
{
    seen_lines got = {0};
    aemp_logger lg = {4, seen_record, &got, NULL};
    tap_seen ts = {&lg, 0, 0, "", "", 0};
    aempi_log_tap *t = aempi_logger_tap_add(&lg, 8, tap_record, &ts,
                                            tap_free);
    ck_assert_ptr_nonnull(t);
    aempi_logger_log(&lg, 8, "AnyEvent::MP::Kernel", "dbg %d", 1);
    ck_assert_int_eq(ts.count, 1);
    ck_assert_int_eq(ts.level, 8);
    ck_assert_str_eq(ts.ctx, "AnyEvent::MP::Kernel");
    ck_assert_str_eq(ts.msg, "dbg 1");
    ck_assert_int_eq(got.count, 1); /* "inside", through the filter */
    aempi_logger_log(&lg, 9, "X", "trace");
    ck_assert_int_eq(ts.count, 1);
    aempi_logger_relay(&lg, 3, "X", "[other] relayed");
    ck_assert_int_eq(ts.count, 1);
    ck_assert_int_eq(got.count, 2);
    /* with AE_LOG: a tap hangs on collect, so log=off does not stop it */
    ck_assert_int_eq(aempi_logger_configure(&lg, "log=off", NULL, 0), 0);
    aempi_logger_log(&lg, 2, "X", "alert");
    ck_assert_int_eq(ts.count, 2);
    ck_assert_int_eq(got.count, 2);
    aempi_logger_tap_remove(&lg, t);
    ck_assert_int_eq(ts.freed, 1);
    aempi_logger_log(&lg, 2, "X", "alert");
    ck_assert_int_eq(ts.count, 2);
    aempi_logger_tap_add(&lg, 9, tap_record, &ts, tap_free);
    aempi_logger_free(&lg);
    ck_assert_int_eq(ts.freed, 2);
}
END_TEST

/* level names and numbers as AnyEvent::Log takes them */
START_TEST(test_level_names)
{
    ck_assert_int_eq(aempi_log_level_parse("fatal"), 1);
    ck_assert_int_eq(aempi_log_level_parse("emerg"), 1);
    ck_assert_int_eq(aempi_log_level_parse("critical"), 3);
    ck_assert_int_eq(aempi_log_level_parse("err"), 4);
    ck_assert_int_eq(aempi_log_level_parse("warning"), 5);
    ck_assert_int_eq(aempi_log_level_parse("notice"), 6);
    ck_assert_int_eq(aempi_log_level_parse("9"), 9);
    ck_assert_int_eq(aempi_log_level_parse("0"), -1);
    ck_assert_int_eq(aempi_log_level_parse("10"), -1);
    ck_assert_int_eq(aempi_log_level_parse("Debug"), -1);
    ck_assert_int_eq(aempi_log_level_parse(NULL), -1);
}
END_TEST

static Suite *logger_suite(void)
{
    Suite *s = suite_create("logger");
    TCase *tc = tcase_create("logger");
    tcase_add_test(tc, test_level_from_env);
    tcase_add_test(tc, test_level_and_callback);
    tcase_add_test(tc, test_stderr_format);
    tcase_add_test(tc, test_spec_plus_log);
    tcase_add_test(tc, test_spec_levels);
    tcase_add_test(tc, test_spec_outputs);
    tcase_add_test(tc, test_spec_errors);
    tcase_add_test(tc, test_taps);
    tcase_add_test(tc, test_level_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(logger_suite());
}
