/* Tests for the streaming JSON reader: the Perl vectors (frames.json.bin,
 * through the shared harness, stream_harness.h) and other input. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aemp/error.h"
#include "aemp/value.h"
#include "stream_harness.h"
#include "value_int.h"
#include "value_json.h"

/* ---- the reader behind the harness's face ------------------------------ */

static void *json_make(int (*cb)(aemp_val *, void *), void *ud)
{
    return aempi_json_reader_new(cb, ud);
}
static int json_feed(void *r, const char *p, size_t len)
{
    return aempi_json_reader_feed(r, p, len);
}
static const char *json_error(const void *r)
{
    return aempi_json_reader_error(r);
}
static void json_drop(void *r)
{
    aempi_json_reader_free(r);
}

/* Message i, written as we send it, is byte for byte what Perl sent. */
static void json_check_reencoded(int i, const aemp_val *msg)
{
    size_t len;
    char *mine = aemp_to_json(msg, &len);
    size_t perl_len = offset[i + 1] - offset[i];
    ck_assert_msg(len == perl_len && memcmp(mine, stream + offset[i], len) == 0,
                  "message %d re-encoded:\n%.300s\nPerl wrote:\n%.300s",
                  i + 1, mine, stream + offset[i]);
    free(mine);
}

static const stream_codec json_codec = {
    .name = "json_stream",
    .stream_file = "frames.json.bin",
    .lengths_column = 0,
    .slices = 32,
    .make = json_make,
    .feed = json_feed,
    .error = json_error,
    .drop = json_drop,
    .check_reencoded = json_check_reencoded,
};

/* ---- other input ------------------------------------------------------- */

START_TEST(test_separators)
{
    static const char in[] = "[1][2] [3]\n\t[4]\r\n{\"a\":[]}[[]]";
    collector c = {0};
    aemp_json_reader *r = aempi_json_reader_new(collect, &c);
    ck_assert_int_eq(aempi_json_reader_feed(r, in, sizeof(in) - 1), AEMP_OK);
    ck_assert_uint_eq(c.n, 6);
    ck_assert_int_eq(aemp_as_int(aemp_array_at(c.frames[3], 0)), 4);
    ck_assert_int_eq(aemp_type_of(c.frames[4]), AEMP_MAP);
    collector_clear(&c);
    aempi_json_reader_free(r);
}
END_TEST

/* Texts that are not arrays are still delivered: rejecting them is the
 * caller's job. A top-level number ends only where the next text starts. */
START_TEST(test_non_array)
{
    static const char in[] = "{\"k\":1}\"str\"true null 5[0]-7 ";
    collector c = {0};
    aemp_json_reader *r = aempi_json_reader_new(collect, &c);
    ck_assert_int_eq(aempi_json_reader_feed(r, in, sizeof(in) - 1), AEMP_OK);
    ck_assert_uint_eq(c.n, 7);
    ck_assert_int_eq(aemp_type_of(c.frames[0]), AEMP_MAP);
    ck_assert(aemp_str_eq(c.frames[1], "str"));
    ck_assert_int_eq(aemp_type_of(c.frames[2]), AEMP_BOOL);
    ck_assert_int_eq(aemp_type_of(c.frames[3]), AEMP_NULL);
    ck_assert_int_eq(aemp_as_int(c.frames[4]), 5);
    ck_assert_int_eq(aemp_type_of(c.frames[5]), AEMP_ARRAY);
    ck_assert_int_eq(aemp_as_int(c.frames[6]), -7);
    collector_clear(&c);
    aempi_json_reader_free(r);
}
END_TEST

/* Frames before the error arrive; after it the reader stays failed, with
 * the same message, and delivers nothing more. */
START_TEST(test_garbage)
{
    collector c = {0};
    aemp_json_reader *r = aempi_json_reader_new(collect, &c);
    ck_assert_int_eq(aempi_json_reader_feed(r, "[1,2]", 5), AEMP_OK);
    ck_assert_int_eq(aempi_json_reader_feed(r, "[\"x\"][3,x][4]", 13),
                     AEMP_EPARSE);
    ck_assert_uint_eq(c.n, 2);
    const char *msg = aempi_json_reader_error(r);
    unsigned long at = error_offset(msg); /* the x is stream byte 13 */
    ck_assert_msg(at >= 13 && at <= 14, "%s", msg);
    char *first = strdup(msg);

    ck_assert_int_eq(aempi_json_reader_feed(r, "[5]", 3), AEMP_EPARSE);
    ck_assert_int_eq(aempi_json_reader_feed(r, "", 0), AEMP_EPARSE);
    ck_assert_str_eq(aempi_json_reader_error(r), first);
    ck_assert_uint_eq(c.n, 2);
    free(first);
    collector_clear(&c);
    aempi_json_reader_free(r);

    static const char *bad[] = {
        "x", "]", "[1,]", "[1 2]", "{\"a\" 1}", "{1:2}", "[\"\xff\"]",
        "[\"a\nb\"]", "[01]", "[truex]", "[1]]", "[\"\\q\"]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = aempi_json_reader_new(collect, &c);
        ck_assert_msg(aempi_json_reader_feed(r, bad[i], strlen(bad[i])) ==
                          AEMP_EPARSE,
                      "accepted %s", bad[i]);
        error_offset(aempi_json_reader_error(r));
        collector_clear(&c);
        aempi_json_reader_free(r);
    }
}
END_TEST

/* Strings as JSON::XS decodes them: Perl's code points beyond U+10FFFF
 * (which a C node relays from cbor) pass, also cut between feeds inside
 * their bytes; overlong forms fail with JSON::XS's words, at the string. */
START_TEST(test_perl_utf8)
{
    static const char text[] =
        "[\"\xf8\x88\x80\x80\x80\"]"                         /* U+200000 */
        "{\"\xff\x80\x87\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf\":1}"; /* 2^63-1 */
    size_t len = sizeof(text) - 1;
    for (size_t cut = 0; cut <= len; cut++) {
        collector c = {0};
        aemp_json_reader *r = aempi_json_reader_new(collect, &c);
        ck_assert_int_eq(aempi_json_reader_feed(r, text, cut), AEMP_OK);
        ck_assert_int_eq(aempi_json_reader_feed(r, text + cut, len - cut),
                         AEMP_OK);
        ck_assert_uint_eq(c.n, 2);
        ck_assert(aemp_str_eq(aemp_array_at(c.frames[0], 0),
                              "\xf8\x88\x80\x80\x80"));
        ck_assert_ptr_nonnull(aemp_map_get(
            c.frames[1], "\xff\x80\x87\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf"));
        collector_clear(&c);
        aempi_json_reader_free(r);
    }
    static const char *const bad[] = {
        "[1][\"\xc0\xaf\"]",             /* overlong '/' */
        "[1][\"\xf8\x87\xbf\xbf\xbf\"]",  /* U+1FFFFF in five bytes */
        "[1]{\"\xe0\x80\x80\":1}",       /* an overlong key */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        collector c = {0};
        aemp_json_reader *r = aempi_json_reader_new(collect, &c);
        ck_assert_int_eq(aempi_json_reader_feed(r, bad[i], strlen(bad[i])),
                         AEMP_EPARSE);
        ck_assert_uint_eq(c.n, 1);
        const char *msg = aempi_json_reader_error(r);
        ck_assert_msg(strstr(msg, "malformed UTF-8 character in JSON string"),
                      "%s", msg);
        ck_assert_uint_ge(error_offset(msg), 4);
        collector_clear(&c);
        aempi_json_reader_free(r);
    }
}
END_TEST

/* A stream that ends inside a message: nothing for it, no error (more may
 * come), and freeing the reader then frees the partial value. */
START_TEST(test_truncated)
{
    check_truncated_vectors();
    static const char partial[] =
        "[\"a\",{\"k\":[1,{\"x\":\"y\",\"pending\":[[\"deep";
    collector c = {0};
    aemp_json_reader *r = aempi_json_reader_new(collect, &c);
    ck_assert_int_eq(aempi_json_reader_feed(r, partial, sizeof(partial) - 1),
                     AEMP_OK);
    ck_assert_uint_eq(c.n, 0);
    aempi_json_reader_free(r);
    r = aempi_json_reader_new(collect, &c); /* a key without its value */
    ck_assert_int_eq(aempi_json_reader_feed(r, "[{\"a\":1,\"b\":", 12),
                     AEMP_OK);
    aempi_json_reader_free(r);
    r = aempi_json_reader_new(collect, &c); /* an error mid-value */
    ck_assert_int_eq(aempi_json_reader_feed(r, "[{\"a\":[1,{\"b\":x", 15),
                     AEMP_EPARSE);
    aempi_json_reader_free(r);
}
END_TEST

START_TEST(test_callback_stop)
{
    collector c = {.stop_at = 2, .stop_rc = 42};
    aemp_json_reader *r = aempi_json_reader_new(collect, &c);
    ck_assert_int_eq(aempi_json_reader_feed(r, "[1][2][3]", 9), 42);
    ck_assert_uint_eq(c.n, 2);
    ck_assert_ptr_nonnull(strstr(aempi_json_reader_error(r), "callback"));
    ck_assert_int_eq(aempi_json_reader_feed(r, "[4]", 3), 42);
    ck_assert_uint_eq(c.n, 2);
    collector_clear(&c);
    aempi_json_reader_free(r);
}
END_TEST

/* The frame callback may free the reader (a connection closing). */
START_TEST(test_free_in_callback)
{
    for (int rc = 0; rc <= 1; rc++) {
        collector c = {.stop_at = 2, .stop_rc = rc};
        aemp_json_reader *r = aempi_json_reader_new(collect, &c);
        c.free_me = r;
        ck_assert_int_eq(aempi_json_reader_feed(r, "[1][2][3,[4", 11), rc);
        ck_assert_uint_eq(c.n, 2);
        collector_clear(&c);
    }
}
END_TEST

START_TEST(test_depth)
{
    enum { MAX = 512 };
    char text[2 * (MAX + 1)];
    collector c = {0};
    aemp_json_reader *r = aempi_json_reader_new(collect, &c);
    memset(text, '[', MAX);
    memset(text + MAX, ']', MAX);
    ck_assert_int_eq(aempi_json_reader_feed(r, text, 2 * MAX), AEMP_OK);
    ck_assert_uint_eq(c.n, 1);
    memset(text, '[', MAX + 1);
    ck_assert_int_eq(aempi_json_reader_feed(r, text, MAX + 1), AEMP_EPARSE);
    ck_assert_ptr_nonnull(strstr(aempi_json_reader_error(r), "nesting"));
    ck_assert_uint_eq(error_offset(aempi_json_reader_error(r)),
                      2 * MAX + MAX + 1);
    collector_clear(&c);
    aempi_json_reader_free(r);
}
END_TEST

/* The reader keeps the short strings it made and hands them out again:
 * strings of every length up to past the cache's, each differing from
 * the one before in a single place at every position (many changes
 * share a position, so some meet in a cache slot), as values and as map
 * keys, over more strings than the cache needs to grow: each must come
 * out exactly as it went in. A UTF-8 character (2 bytes) in the change
 * too, and after each string one that is not UTF-8 and has a cached
 * string's length: the cache must not let it through. */
START_TEST(test_strings_every_byte)
{
    char s[40], text[128];
    for (size_t len = 0; len <= 33; len++) {
        collector c = {0};
        aemp_json_reader *r = aempi_json_reader_new(collect, &c);
        for (size_t n = 0; n < 2 * 27 * len + 1; n++) {
            memset(s, 'x', len);
            size_t k = n / 2 % 27, at = n / 2 / 27;
            if (n % 2 && k < 26)
                s[at] = (char)('a' + k);
            else if (n % 2 && at + 1 < len) /* e with an acute accent */
                memcpy(s + at, "\xc3\xa9", 2);
            for (int key = 0; key <= 1; key++) {
                int tl = key ? snprintf(text, sizeof text, "{\"%.*s\":1}",
                                        (int)len, s)
                             : snprintf(text, sizeof text, "[\"%.*s\"]",
                                        (int)len, s);
                ck_assert_int_eq(aempi_json_reader_feed(r, text, (size_t)tl),
                                 AEMP_OK);
                ck_assert_uint_eq(c.n, 1);
                size_t glen;
                const char *got =
                    key ? aemp_map_key_at(c.frames[0], 0, &glen)
                        : aemp_str_ptr(aemp_array_at(c.frames[0], 0), &glen);
                ck_assert_msg(got && glen == len && !memcmp(got, s, len),
                              "length %zu, change %zu, key %d", len, n, key);
                collector_clear(&c);
            }
        }
        aempi_json_reader_free(r);
        if (!len)
            continue;
        /* the string of x's is cached; one x turned into a byte that is
         * not UTF-8 on its own */
        r = aempi_json_reader_new(collect, &c);
        memset(s, 'x', len);
        int tl = snprintf(text, sizeof text, "[\"%.*s\"]", (int)len, s);
        ck_assert_int_eq(aempi_json_reader_feed(r, text, (size_t)tl),
                         AEMP_OK);
        text[2 + len - 1] = (char)0xe9;
        ck_assert_int_eq(aempi_json_reader_feed(r, text, (size_t)tl),
                         AEMP_EPARSE);
        ck_assert_uint_eq(c.n, 1);
        ck_assert_ptr_nonnull(strstr(aempi_json_reader_error(r),
                                     "malformed UTF-8 character"));
        collector_clear(&c);
        aempi_json_reader_free(r);
    }
}
END_TEST

/* With a pool, arrays of every length come from it and go back to it
 * as frames are let go, and come out the same every time: those of the
 * pool's size in its arrays, longer ones grown out of them. */
START_TEST(test_pool_arrays)
{
    aemp_val_pool pool = {0};
    collector c = {0};
    aemp_json_reader *r = aempi_json_reader_new(collect, &c);
    aempi_json_reader_set_pool(r, &pool);
    char text[128];
    for (int round = 0; round < 3; round++) {
        for (int n = 0; n <= 10; n++) {
            int tl = snprintf(text, sizeof text, "[[");
            for (int i = 0; i < n; i++)
                tl += snprintf(text + tl, sizeof text - (size_t)tl, "%s%d",
                               i ? "," : "", i);
            tl += snprintf(text + tl, sizeof text - (size_t)tl, "],\"x\"]");
            ck_assert_int_eq(aempi_json_reader_feed(r, text, (size_t)tl),
                             AEMP_OK);
            ck_assert_uint_eq(c.n, 1);
            char *back = aemp_to_json(c.frames[0], NULL);
            ck_assert_mem_eq(back, text, (size_t)tl);
            free(back);
            aempi_pool_drop(&pool, c.frames[0]);
            c.n = 0;
        }
    }
    ck_assert_uint_gt(pool.n, 0);
    aempi_json_reader_free(r);
    aempi_pool_clear(&pool);
}
END_TEST

/* ---- the fast way and yajl's way ------------------------------------- */

/* What a reader made of a stream: its frames, result and message. */
typedef struct outcome {
    collector c;
    int rc;
    char msg[256];
} outcome;

/* The stream in, cut at each of the offsets in cuts (ascending, ending
 * with len), read with the frame limit max; the callback stops the
 * reader with 42 at frame stop_at (0: never). */
static void read_cut(const char *in, size_t len, const size_t *cuts,
                     size_t max, int stop_at, outcome *o)
{
    *o = (outcome){.c = {.stop_at = stop_at, .stop_rc = 42}};
    aemp_json_reader *r = aempi_json_reader_new(collect, &o->c);
    aempi_json_reader_set_limit(r, max);
    size_t at = 0;
    for (size_t i = 0; at < len && !o->rc; at = cuts[i++])
        o->rc = aempi_json_reader_feed(r, in + at, cuts[i] - at);
    const char *m = aempi_json_reader_error(r);
    snprintf(o->msg, sizeof o->msg, "%s", m ? m : "");
    aempi_json_reader_free(r);
}

static void same_outcome(const outcome *a, const outcome *b,
                         const char *in, const char *how)
{
    ck_assert_msg(a->rc == b->rc && a->c.n == b->c.n &&
                      !strcmp(a->msg, b->msg),
                  "%s, %s: %d, %zu frames, \"%s\" against %d, %zu, \"%s\"",
                  in, how, a->rc, a->c.n, a->msg, b->rc, b->c.n, b->msg);
    for (size_t i = 0; i < a->c.n; i++)
        ck_assert_msg(same(a->c.frames[i], b->c.frames[i]),
                      "%s, %s: frame %zu differs", in, how, i);
}

/* Texts that lie whole in a chunk are parsed without yajl; fed a byte at
 * a time, each goes through yajl. Every stream here, valid or not, with
 * and without a frame limit and a callback that stops, must give the
 * same frames, result and message (offset included) whole, a byte at a
 * time, and cut in two at every place. */
START_TEST(test_fast_way_as_yajl)
{
    static const char *const streams[] = {
        "[\"sink#data\",\"d\",\"xxxxxxxxxxxxxxxxxxxxxx\"][\"sink#data\",\"d\"]",
        "[1,-2,3.5,1e3,-0,0.5E-2,2E+2,18446744073709551615,"
        "18446744073709551616,-9223372036854775808,-9223372036854775809]"
        "[0,-0.0,1.5e-400,9e999]",
        "[true,false,null,[],{},[[]],{\"a\":{\"b\":[1,{}]}}] {\"k\" : 1 ,"
        " \"k\":2}\t\n\v\f\r[ ] [ 1 , \"a\" , { \"b\" : null } ]",
        "[\"a\\nb\",\"\\u00e9\",\"\\\"\"][\"plain\"][\"\\/\"]",
        "[\"gr\xc3\xbc\xc3\x9f\",\"\xf0\x9f\x98\x80\",\"\xf8\x88\x80\x80\x80\"]"
        "{\"\xc3\xa9\":\"\xc3\xa9\"}",
        "[\"0123456789012345678901234567890123456789\",\"\",\"a\"][1,2,3,4,5,"
        "6,7,8,9,10,11,12,13,14,15,16,17]",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
        "]]]]]]]]]]]][2]",
        "5[1]\"s\"[2]true[3] null[4]-7 [5]{}[6]",
        "[1][\"\xc3\"][2]", "[1][\"\xc0\xaf\"]", "[1]{\"\xe0\x80\x80\":1}",
        "[1][1,]", "[1][01]", "[1][1.]", "[1][-]", "[1][1e]", "[1][1e+]",
        "[1][1.e1]", "[1][truex]", "[1][tru]", "[1][nul", "[1]{1:2}",
        "[\"ab\",\"cd\"][\"ab\",\"ce\"] [ \"ab\" , \"cd\" , 1 ][\"abc\"]"
        "[\"\xc3\xa9\"][\"\xc3\xa9\",\"\"][1,2,3,4,5,6,7,8][1,2,3,4,5,6,7,8,9]"
        "[\"ab\",[\"cd\"]][\"ab\",{}][\"ab\",true,null,-1.5]",
        "[\"\xc3\xa9\"][\"\xc3\"]", "[\"ab\"][\"ab\\n\"]", "[\"ab\"][\"ab\"x]",
        "[\"abc\",\"d\"][\"ab\",\"d\"][\"abcd\",\"\"][\"abc\",\"d\"]",
        "[\"a\"][\"ax]", "[\"ab\"][\"ab\x01\"]",
        "[1]{\"a\"}", "[1]{\"a\":}", "[1]{\"a\" 1}", "[1]{,}", "[1][,1]",
        "[1][\"a\tb\"]", "[1][\"\x01\"]", "[1]]", "[1][1}", "[1]{\"a\":1]",
        "[1]tru[2]", "[1]x[2]", "[1] \"a\t\"[2]", "[1]\"]\t[2]", "[1][1 2]",
        "[1][\"\\q\"]", "[1][\"\\u12\"]", "[1]{\"a\":1,}", "[1][[1]2]",
        "[1][true false]", "[1]{\"a\":[}]", "[1]}",
    };
    static const size_t limits[] = {0, 24, 64};
    for (size_t i = 0; i < sizeof(streams) / sizeof(*streams); i++) {
        const char *in = streams[i];
        size_t len = strlen(in), bytes[256], whole[1] = {len};
        ck_assert_uint_lt(len, 256);
        for (size_t k = 0; k < len; k++)
            bytes[k] = k + 1;
        for (size_t li = 0; li < 3; li++) {
            for (int stop_at = 0; stop_at <= 2; stop_at += 2) {
                outcome ref, o;
                size_t max = limits[li];
                read_cut(in, len, bytes, max, stop_at, &ref);
                read_cut(in, len, whole, max, stop_at, &o);
                same_outcome(&o, &ref, in, "whole");
                collector_clear(&o.c);
                for (size_t cut = 1; cut < len; cut++) {
                    size_t two[2] = {cut, len};
                    char how[32];
                    read_cut(in, len, two, max, stop_at, &o);
                    snprintf(how, sizeof how, "cut at %zu, limit %zu", cut,
                             max);
                    same_outcome(&o, &ref, in, how);
                    collector_clear(&o.c);
                }
                collector_clear(&ref.c);
            }
        }
    }
}
END_TEST

static Suite *stream_suite(void)
{
    Suite *s = suite_create(json_codec.name);
    suite_add_tcase(s, stream_vectors_tcase());
    TCase *tc = tcase_create("input");
    tcase_add_test(tc, test_separators);
    tcase_add_test(tc, test_non_array);
    tcase_add_test(tc, test_garbage);
    tcase_add_test(tc, test_perl_utf8);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_callback_stop);
    tcase_add_test(tc, test_free_in_callback);
    tcase_add_test(tc, test_depth);
    tcase_add_test(tc, test_strings_every_byte);
    tcase_add_test(tc, test_pool_arrays);
    tcase_add_test(tc, test_fast_way_as_yajl);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return stream_harness_main(&json_codec, stream_suite);
}
