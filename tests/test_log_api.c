/* The public logging calls, seen only through include/aemp: aemp_log and
 * aemp_log_ctx go through the node's level and sink as AE::log goes
 * through AnyEvent::Log's, with "main" as the context of a program. */
#include <string.h>

#include "aemp/aemp.h"
#include "testutil.h"

static struct event_base *base;
static aemp_node *node;
static test_log_lines got;

static void setup(void)
{
    memset(&got, 0, sizeof got);
    base = event_base_new();
    node = aemp_node_new(base);
    ck_assert_ptr_nonnull(node);
    aemp_node_set_log(node, AEMP_LOG_NOTE, test_log_record, &got);
}

static void teardown(void)
{
    aemp_node_free(node);
    event_base_free(base);
}

/* A line at or below the level reaches the sink, formatted, with the
 * program's context "main"; a line above the level does not. */
START_TEST(test_log_level_and_context)
{
    aemp_log(node, AEMP_LOG_INFO, "dropped %d", 1);
    ck_assert_int_eq(got.count, 0);
    aemp_log(node, AEMP_LOG_WARN, "disk %s at %d%%", "/var", 93);
    ck_assert_int_eq(got.count, 1);
    ck_assert_int_eq(got.level, 5);
    ck_assert_str_eq(got.ctx, "main");
    ck_assert_str_eq(got.msg, "disk /var at 93%");
    aemp_log(node, AEMP_LOG_NOTE, "at the level");
    ck_assert_int_eq(got.count, 2);
    ck_assert_int_eq(got.level, AEMP_LOG_NOTE);
}
END_TEST

/* aemp_log_ctx names its context; NULL is "main". */
START_TEST(test_log_ctx)
{
    aemp_log_ctx(node, AEMP_LOG_ERROR, "KV::Service", "lost %s", "x");
    ck_assert_int_eq(got.count, 1);
    ck_assert_str_eq(got.ctx, "KV::Service");
    ck_assert_str_eq(got.msg, "lost x");
    aemp_log_ctx(node, AEMP_LOG_ERROR, NULL, "plain");
    ck_assert_str_eq(got.ctx, "main");
}
END_TEST

/* Level 0 logs nothing, level 9 everything; out-of-range levels count as
 * the nearest (fatal, trace); a line past 2 KiB is cut, not refused. */
START_TEST(test_log_edges)
{
    aemp_node_set_log(node, 0, test_log_record, &got);
    aemp_log(node, AEMP_LOG_FATAL, "silent");
    ck_assert_int_eq(got.count, 0);
    aemp_node_set_log(node, AEMP_LOG_TRACE, test_log_record, &got);
    aemp_log(node, 42, "high");
    ck_assert_int_eq(got.level, AEMP_LOG_TRACE);
    aemp_log(node, -1, "low");
    ck_assert_int_eq(got.level, AEMP_LOG_FATAL);
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    aemp_log(node, AEMP_LOG_ERROR, "%s", big);
    ck_assert_int_eq(got.count, 3);
    ck_assert_uint_eq(strlen(got.msg), 2047);
}
END_TEST

/* NULL node or format: nothing happens, nothing crashes. */
START_TEST(test_log_null_safe)
{
    aemp_log(NULL, AEMP_LOG_ERROR, "x");
    aemp_log_ctx(NULL, AEMP_LOG_ERROR, "c", "x");
    aemp_log(node, AEMP_LOG_ERROR, NULL);
    aemp_log_ctx(node, AEMP_LOG_ERROR, "c", NULL);
    ck_assert_int_eq(got.count, 0);
}
END_TEST

/* The library's own lines go through the same sink, under the kernel's
 * context: a configure that cannot listen says why. */
START_TEST(test_library_lines_share_the_sink)
{
    int port, fd = test_busy_port(&port);
    aemp_val *args = aemp_map();
    aemp_map_set(args, "norc", aemp_int(1));
    aemp_map_set(args, "nodeid", aemp_str("logtest"));
    aemp_map_set(args, "binds",
                 aemp_arrayv(aemp_strf("127.0.0.1:%d", port), NULL));
    ck_assert_int_ne(aemp_node_configure(node, args, NULL), AEMP_OK);
    aemp_unref(args);
    close(fd);
    ck_assert_int_ge(got.count, 1);
    ck_assert_str_eq(got.ctx, "AnyEvent::MP::Kernel");
    ck_assert_int_le(got.level, AEMP_LOG_ERROR);
}
END_TEST

/* set_log_sink changes where lines go and keeps the level; NULL is back
 * to stderr (nothing more reaches the old sink). */
START_TEST(test_log_sink_keeps_level)
{
    test_log_lines other;
    memset(&other, 0, sizeof other);
    aemp_node_set_log_sink(node, test_log_record, &other);
    aemp_log(node, AEMP_LOG_INFO, "above the level");
    aemp_log(node, AEMP_LOG_WARN, "to the new sink");
    ck_assert_int_eq(other.count, 1);
    ck_assert_str_eq(other.msg, "to the new sink");
    ck_assert_int_eq(got.count, 0);
    aemp_node_set_log(node, 0, NULL, NULL);
    aemp_node_set_log_sink(node, NULL, NULL);
    aemp_node_set_log_sink(NULL, test_log_record, &other);
    aemp_log(node, AEMP_LOG_FATAL, "level 0: silent");
    ck_assert_int_eq(other.count, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log_api");
    TCase *tc = tcase_create("log_api");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_log_level_and_context);
    tcase_add_test(tc, test_log_ctx);
    tcase_add_test(tc, test_log_edges);
    tcase_add_test(tc, test_log_null_safe);
    tcase_add_test(tc, test_library_lines_share_the_sink);
    tcase_add_test(tc, test_log_sink_keeps_level);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
