/* Frames between two nodes on one event_base over loopback, at the size
 * bounds: a long string crosses a json link whole, and a frame over the
 * receiver's max_frame closes the link with a reason that names the cap,
 * after which the node goes on and a new link works. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "node_fixture.h"
#include "testutil.h"

/* A string of len bytes, 'a' to 'z' over and over. */
static aemp_val *long_string(size_t len)
{
    char *s = malloc(len);
    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < len; i++)
        s[i] = (char)('a' + i % 26);
    aemp_val *v = aemp_strn(s, len);
    free(s);
    return v;
}

static void setup(void)
{
    base = event_base_new();
    monitor_timeout = 0;
    extra_config = aemp_map();
}

static void teardown(void)
{
    aemp_unref(extra_config);
    extra_config = NULL;
    event_base_free(base);
}

/* ---- a long string over json ------------------------------------------- */

/* 16 MiB in one string, sent as json: it arrives whole (the reader takes
 * the 16 KiB reads in time linear in the bytes). */
START_TEST(test_long_string_json)
{
    enum { LEN = 16 << 20 };
    aemp_map_set(extra_config, "framing_format",
                 aemp_arrayv(aemp_str("json"), NULL));
    aemp_node *b = make_node("nodeb", "sec", NULL, NULL);
    aemp_unref(extra_config); /* the other node: the defaults */
    extra_config = aemp_map();
    aemp_node *a = make_node("nodea", "sec", bind_of(b), NULL);
    seen got = {0};
    char *inbox = aemp_port(b, record, &got);
    aemp_sndv(a, inbox, aemp_str("big"), long_string(LEN), NULL);
    run_until(&got.calls, 60);
    ck_assert_int_eq(got.calls, 1);
    size_t len = 0;
    const char *s = aemp_str_ptr(aemp_array_at(got.last, 1), &len);
    ck_assert_uint_eq(len, LEN);
    ck_assert_int_eq(s[0], 'a');
    ck_assert_int_eq(s[LEN - 1], 'a' + (LEN - 1) % 26);
    aemp_unref(got.last);
    free(inbox);
    aemp_node_free(a);
    aemp_node_free(b);
}
END_TEST

/* ---- max_frame --------------------------------------------------------- */

/* b takes frames up to 1 MiB in framing f; a sends it 2 MiB. b closes the
 * link, and its monitor of a port on a fires with the reason naming the
 * cap; then a small message gets through on a new link. */
START_TEST(test_oversize_frame)
{
    static const char *framing[] = {"cbor", "json"};
    aemp_map_set(extra_config, "framing_format",
                 aemp_arrayv(aemp_str(framing[_i]), NULL));
    aemp_map_set(extra_config, "max_frame", aemp_int(1 << 20));
    seen blog = {0}, alog = {0};
    aemp_node *b = make_node("nodeb", "sec", NULL, &blog);
    aemp_unref(extra_config); /* the other node: the defaults */
    extra_config = aemp_map();
    aemp_node *a = make_node("nodea", "sec", bind_of(b), &alog);
    seen got = {0}, lost = {0}, up = {0}, a_lost = {0};
    char *inbox = aemp_port(b, record, &got);
    char *on_a = aemp_port(a, record, &up);

    aemp_mon(b, on_a, mon_record, &lost); /* b connects and monitors */
    aemp_mon(a, inbox, mon_record, &a_lost);
    aemp_sndv(a, inbox, aemp_str("small"), NULL);
    run_until(&got.calls, 10);
    ck_assert_int_eq(got.calls, 1);

    aemp_sndv(a, inbox, aemp_str("big"), long_string(2 << 20), NULL);
    run_until(&lost.calls, 30);
    ck_assert_int_eq(lost.calls, 1);
    ck_assert_int_eq(got.calls, 1);
    ck_assert_str_eq(aemp_str_ptr(aemp_array_at(lost.last, 0), NULL),
                     "transport_error");
    ck_assert_str_eq(aemp_str_ptr(aemp_array_at(lost.last, 1), NULL),
                     "nodea");
    ck_assert_str_eq(aemp_str_ptr(aemp_array_at(lost.last, 2), NULL),
                     "frame exceeds max_frame (1048576 bytes)");
    ck_assert_msg(strstr(blog.logs, "frame exceeds the limit of 1048576"),
                  "%s", blog.logs);

    /* a sees the link go too (what it sent meanwhile is lost, as always
     * when a link fails) and, its master gone, connects to its seed
     * again: a new link, which carries messages */
    run_until(&a_lost.calls, 10);
    ck_assert_int_eq(a_lost.calls, 1);
    int again_up = 0;
    for (int i = 0; i < 3000 && !again_up; i++) {
        run_until(&again_up, 0.01);
        again_up = aemp_node_is_up(a, "nodeb") == 1;
    }
    ck_assert_msg(again_up, "%s\n--- a:\n%s", blog.logs, alog.logs);
    seen later = {0};
    char *inbox2 = aemp_port(b, record, &later);
    aemp_sndv(a, inbox2, aemp_str("again"), NULL);
    run_until(&later.calls, 10);
    ck_assert_int_eq(later.calls, 1);
    ck_assert_str_eq(aemp_str_ptr(aemp_array_at(later.last, 0), NULL),
                     "again");
    aemp_unref(got.last);
    aemp_unref(later.last);
    aemp_unref(lost.last);
    aemp_unref(a_lost.last);
    free(inbox);
    free(inbox2);
    free(on_a);
    aemp_node_free(a);
    aemp_node_free(b);
}
END_TEST

/* A peer whose string never ends: the node holds it back no further than
 * max_frame, then closes the link with the cap as the reason, and goes
 * on. */
START_TEST(test_endless_string)
{
    aemp_map_set(extra_config, "max_frame", aemp_int(64 * 1024));
    seen blog = {0};
    aemp_node *b = make_node("nodeb", "sec", NULL, &blog);
    int fd = raw_handshake(b, "rawnode");
    raw_send(fd, "[\"inbox\",\"");
    char chunk[4096];
    memset(chunk, 'z', sizeof chunk - 1);
    chunk[sizeof chunk - 1] = 0;
    for (int i = 0; i < 32; i++) /* 128 KiB: the socket takes it all */
        raw_send(fd, chunk);
    ck_assert(raw_closed(fd));
    close(fd);
    ck_assert_msg(strstr(blog.logs, "rawnode is down ([\"transport_error\","
                                    "\"rawnode\",\"frame exceeds max_frame "
                                    "(65536 bytes)\"])"),
                  "%s", blog.logs);
    ck_assert(node_still_serves(b));
    aemp_node_free(b);
}
END_TEST

/* max_frame: a number or a string of digits; anything else is refused. */
START_TEST(test_max_frame_config)
{
    static const char *bad[] = {"-1", "\"12k\"", "\"\"", "[1]", "true"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        aemp_node *n = aemp_node_new(base);
        aemp_val *args = aemp_map();
        aemp_map_set(args, "norc", aemp_int(1));
        aemp_map_set(args, "nodeid", aemp_str("n"));
        aemp_map_set(args, "binds", aemp_arrayv(aemp_str("127.0.0.1:*"),
                                                NULL));
        aemp_map_set(args, "max_frame", aemp_from_json(bad[i],
                                                       strlen(bad[i]), NULL));
        ck_assert_int_eq(aemp_node_configure(n, args, NULL), AEMP_ECONFIG);
        ck_assert_ptr_nonnull(strstr(aemp_node_errmsg(n), "max_frame"));
        aemp_unref(args);
        aemp_node_free(n);
    }
    aemp_map_set(extra_config, "max_frame", aemp_str("65536"));
    aemp_node_free(make_node("n", "sec", NULL, NULL));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("link_limits");
    TCase *tc = tcase_create("links");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_long_string_json);
    tcase_add_loop_test(tc, test_oversize_frame, 0, 2);
    tcase_add_test(tc, test_endless_string);
    tcase_add_test(tc, test_max_frame_config);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
