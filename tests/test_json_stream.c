/* Tests for the streaming JSON reader against the Perl vectors:
 * frames.json.bin holds 18 messages exactly as AnyEvent::MP's json framing
 * (JSON::XS encode_json) wrote them, back to back with no separator;
 * frames.expected.jsonl has the same messages as canonical JSON, one a
 * line (raw UTF-8, JSON::XS escapes, sorted keys); frames.lengths.txt has
 * each message's length in the json stream (first column). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "aemp/error.h"
#include "aemp/value.h"
#include "value_json.h"

#define NMSG 18

static char *stream;            /* frames.json.bin */
static size_t stream_len;
static char *expected[NMSG];    /* lines of frames.expected.jsonl */
static size_t offset[NMSG + 1]; /* where each message starts in stream */
static aemp_val *ref[NMSG];     /* the messages, from the expected lines */

static char *slurp(const char *name, size_t *len)
{
    const char *dir = getenv("AEMP_VECTORS");
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/vectors", name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s (set AEMP_VECTORS)\n", path);
        exit(EXIT_FAILURE);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *p = malloc((size_t)n + 1);
    if (!p || fread(p, 1, (size_t)n, f) != (size_t)n)
        exit(EXIT_FAILURE);
    p[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* Loads the vectors once; forked test cases inherit them. */
static void load_vectors(void)
{
    size_t len;
    stream = slurp("frames.json.bin", &stream_len);

    char *lines = slurp("frames.expected.jsonl", &len);
    char *p = lines;
    for (int i = 0; i < NMSG; i++) {
        char *nl = strchr(p, '\n');
        if (!nl)
            exit(EXIT_FAILURE);
        expected[i] = strndup(p, (size_t)(nl - p));
        ref[i] = aemp_from_json(p, (size_t)(nl - p), NULL);
        if (!ref[i])
            exit(EXIT_FAILURE);
        p = nl + 1;
    }
    free(lines);

    char *lens = slurp("frames.lengths.txt", &len);
    p = lens;
    for (int i = 0; i < NMSG; i++) {
        unsigned long json_len = strtoul(p, &p, 10);
        strtoul(p, &p, 10); /* the cbor length */
        offset[i + 1] = offset[i] + json_len;
    }
    free(lens);
    if (offset[NMSG] != stream_len) {
        fprintf(stderr, "frames.lengths.txt does not add up\n");
        exit(EXIT_FAILURE);
    }
}

/* ---- collecting frames ------------------------------------------------- */

typedef struct collector {
    aemp_val *frames[64];
    size_t n;
    int stop_at;  /* return stop_rc for this frame (1-based), 0: never */
    int stop_rc;
    aemp_json_reader *free_me; /* free the reader from the callback */
} collector;

static int collect(aemp_val *frame, void *ud)
{
    collector *c = ud;
    if (c->n < 64)
        c->frames[c->n++] = frame;
    else
        aemp_unref(frame);
    if (c->free_me && (int)c->n == c->stop_at) {
        aemp_json_reader_free(c->free_me);
        return c->stop_rc;
    }
    return (int)c->n == c->stop_at ? c->stop_rc : 0;
}

static void collector_clear(collector *c)
{
    for (size_t i = 0; i < c->n; i++)
        aemp_unref(c->frames[i]);
    c->n = 0;
}

/* Strict sameness, stricter than aemp_equal: same types, same bytes, same
 * key order. */
static int same(const aemp_val *a, const aemp_val *b)
{
    aemp_type t = aemp_type_of(a);
    if (t != aemp_type_of(b))
        return 0;
    size_t la, lb;
    const char *sa, *sb;
    switch (t) {
    case AEMP_STRING:
        sa = aemp_str_ptr(a, &la);
        sb = aemp_str_ptr(b, &lb);
        return la == lb && memcmp(sa, sb, la) == 0;
    case AEMP_ARRAY:
        if (aemp_array_len(a) != aemp_array_len(b))
            return 0;
        for (size_t i = 0; i < aemp_array_len(a); i++)
            if (!same(aemp_array_at(a, i), aemp_array_at(b, i)))
                return 0;
        return 1;
    case AEMP_MAP:
        if (aemp_map_len(a) != aemp_map_len(b))
            return 0;
        for (size_t i = 0; i < aemp_map_len(a); i++) {
            sa = aemp_map_key_at(a, i, &la);
            sb = aemp_map_key_at(b, i, &lb);
            if (la != lb || memcmp(sa, sb, la) != 0 ||
                !same(aemp_map_value_at(a, i), aemp_map_value_at(b, i)))
                return 0;
        }
        return 1;
    case AEMP_DOUBLE:
        return aemp_as_double(a) == aemp_as_double(b);
    case AEMP_UINT:
        return aemp_as_uint(a) == aemp_as_uint(b);
    default:
        return aemp_as_int(a) == aemp_as_int(b);
    }
}

/* All 18 messages arrived, each the same as its reference. (Plain ifs:
 * every passing ck_assert costs Check a write(), and this runs 2 million
 * times.) */
static void check_all(const collector *c, const char *how)
{
    if (c->n != NMSG)
        ck_abort_msg("%s: %zu frames", how, c->n);
    for (int i = 0; i < NMSG; i++)
        if (!same(c->frames[i], ref[i]))
            ck_abort_msg("%s: message %d differs", how, i + 1);
}

/* ---- the vectors ------------------------------------------------------- */

/* Each decoded message, written canonically, is its expected line; and
 * written as we send it, it is byte for byte what Perl sent. No message
 * needs an exception: all 18 reproduce exactly. */
START_TEST(test_one_piece)
{
    collector c = {0};
    aemp_json_reader *r = aemp_json_reader_new(collect, &c);
    ck_assert_int_eq(aemp_json_reader_feed(r, stream, stream_len), AEMP_OK);
    ck_assert_ptr_null(aemp_json_reader_error(r));
    ck_assert_uint_eq(c.n, NMSG);
    for (int i = 0; i < NMSG; i++) {
        size_t len;
        char *canon = aemp_to_json_canonical(c.frames[i], &len);
        ck_assert_msg(strcmp(canon, expected[i]) == 0,
                      "message %d canonical:\n%.300s\nexpected:\n%.300s",
                      i + 1, canon, expected[i]);
        free(canon);
        ck_assert_msg(aemp_equal(c.frames[i], ref[i]), "message %d", i + 1);

        char *mine = aemp_to_json(c.frames[i], &len);
        size_t perl_len = offset[i + 1] - offset[i];
        ck_assert_msg(len == perl_len &&
                          memcmp(mine, stream + offset[i], len) == 0,
                      "message %d re-encoded:\n%.300s\nPerl wrote:\n%.300s",
                      i + 1, mine, stream + offset[i]);
        free(mine);
    }

    /* a few types the comparison by text would not show */
    aemp_val *m9 = c.frames[8];
    ck_assert_int_eq(aemp_type_of(aemp_array_at(m9, 4)), AEMP_INT);
    ck_assert(aemp_as_int(aemp_array_at(m9, 4)) == 9007199254740993LL);
    ck_assert(aemp_as_int(aemp_array_at(m9, 6)) == INT64_MIN);
    ck_assert_int_eq(aemp_type_of(aemp_array_at(m9, 7)), AEMP_UINT);
    ck_assert(aemp_as_uint(aemp_array_at(m9, 7)) == UINT64_MAX);
    ck_assert_int_eq(aemp_type_of(aemp_array_at(c.frames[9], 1)),
                     AEMP_DOUBLE);
    size_t len;
    const char *s = aemp_str_ptr(aemp_array_at(c.frames[11], 2), &len);
    ck_assert_mem_eq(s + len - 7, "\0 bell\a", 7);
    s = aemp_str_ptr(aemp_array_at(c.frames[13], 1), &len);
    ck_assert_uint_eq(len, 256); /* 128 characters U+0080..U+00FF */
    ck_assert_mem_eq(s, "\xc2\x80", 2);

    collector_clear(&c);
    aemp_json_reader_free(r);
}
END_TEST

/* Cut the stream into two reads at every offset. Each slice of offsets is
 * its own test run, to keep each under the Check timeout. One reader
 * takes the whole stream again for every cut of its slice: after a
 * complete message the reader is where a new one starts, and keeping it
 * keeps yajl's ~128 KB token buffer, which a new reader per cut would
 * allocate (and, under ASan, mmap) 100000 times. test_one_piece and
 * test_bytewise use fresh readers. */
#define SLICES 32

START_TEST(test_split_everywhere)
{
    size_t from = stream_len * (size_t)_i / SLICES;
    size_t to = stream_len * (size_t)(_i + 1) / SLICES;
    if (_i == SLICES - 1)
        to = stream_len + 1; /* include the cut after the last byte */
    collector c = {0};
    aemp_json_reader *r = aemp_json_reader_new(collect, &c);
    for (size_t k = from; k < to; k++) {
        int rc1 = aemp_json_reader_feed(r, stream, k);
        int rc2 = aemp_json_reader_feed(r, stream + k, stream_len - k);
        if (rc1 != AEMP_OK || rc2 != AEMP_OK)
            ck_abort_msg("cut at %zu: %s", k, aemp_json_reader_error(r));
        char how[32];
        snprintf(how, sizeof(how), "cut at %zu", k);
        check_all(&c, how);
        collector_clear(&c);
    }
    aemp_json_reader_free(r);
}
END_TEST

START_TEST(test_bytewise)
{
    collector c = {0};
    aemp_json_reader *r = aemp_json_reader_new(collect, &c);
    int m = 0;
    for (size_t i = 0; i < stream_len; i++) {
        if (aemp_json_reader_feed(r, stream + i, 1) != AEMP_OK)
            ck_abort_msg("byte %zu: %s", i, aemp_json_reader_error(r));
        /* a message is delivered by its last byte, not later */
        if (offset[m + 1] == i + 1)
            m++;
        if (c.n != (size_t)m)
            ck_abort_msg("after byte %zu: %zu frames", i, c.n);
    }
    check_all(&c, "bytewise");
    collector_clear(&c);
    aemp_json_reader_free(r);
}
END_TEST

/* ---- other input ------------------------------------------------------- */

START_TEST(test_separators)
{
    static const char in[] = "[1][2] [3]\n\t[4]\r\n{\"a\":[]}[[]]";
    collector c = {0};
    aemp_json_reader *r = aemp_json_reader_new(collect, &c);
    ck_assert_int_eq(aemp_json_reader_feed(r, in, sizeof(in) - 1), AEMP_OK);
    ck_assert_uint_eq(c.n, 6);
    ck_assert_int_eq(aemp_as_int(aemp_array_at(c.frames[3], 0)), 4);
    ck_assert_int_eq(aemp_type_of(c.frames[4]), AEMP_MAP);
    collector_clear(&c);
    aemp_json_reader_free(r);
}
END_TEST

/* Texts that are not arrays are still delivered: rejecting them is the
 * caller's job. A top-level number ends only where the next text starts. */
START_TEST(test_non_array)
{
    static const char in[] = "{\"k\":1}\"str\"true null 5[0]-7 ";
    collector c = {0};
    aemp_json_reader *r = aemp_json_reader_new(collect, &c);
    ck_assert_int_eq(aemp_json_reader_feed(r, in, sizeof(in) - 1), AEMP_OK);
    ck_assert_uint_eq(c.n, 7);
    ck_assert_int_eq(aemp_type_of(c.frames[0]), AEMP_MAP);
    ck_assert(aemp_str_eq(c.frames[1], "str"));
    ck_assert_int_eq(aemp_type_of(c.frames[2]), AEMP_BOOL);
    ck_assert_int_eq(aemp_type_of(c.frames[3]), AEMP_NULL);
    ck_assert_int_eq(aemp_as_int(c.frames[4]), 5);
    ck_assert_int_eq(aemp_type_of(c.frames[5]), AEMP_ARRAY);
    ck_assert_int_eq(aemp_as_int(c.frames[6]), -7);
    collector_clear(&c);
    aemp_json_reader_free(r);
}
END_TEST

static unsigned long error_offset(const char *msg)
{
    const char *p = msg ? strstr(msg, "at byte ") : NULL;
    ck_assert_msg(p != NULL, "no offset in %s", msg ? msg : "(null)");
    return strtoul(p + 8, NULL, 10);
}

/* Frames before the error arrive; after it the reader stays failed, with
 * the same message, and delivers nothing more. */
START_TEST(test_garbage)
{
    collector c = {0};
    aemp_json_reader *r = aemp_json_reader_new(collect, &c);
    ck_assert_int_eq(aemp_json_reader_feed(r, "[1,2]", 5), AEMP_OK);
    ck_assert_int_eq(aemp_json_reader_feed(r, "[\"x\"][3,x][4]", 13),
                     AEMP_EPARSE);
    ck_assert_uint_eq(c.n, 2);
    const char *msg = aemp_json_reader_error(r);
    unsigned long at = error_offset(msg); /* the x is stream byte 13 */
    ck_assert_msg(at >= 13 && at <= 14, "%s", msg);
    char *first = strdup(msg);

    ck_assert_int_eq(aemp_json_reader_feed(r, "[5]", 3), AEMP_EPARSE);
    ck_assert_int_eq(aemp_json_reader_feed(r, "", 0), AEMP_EPARSE);
    ck_assert_str_eq(aemp_json_reader_error(r), first);
    ck_assert_uint_eq(c.n, 2);
    free(first);
    collector_clear(&c);
    aemp_json_reader_free(r);

    static const char *bad[] = {
        "x", "]", "[1,]", "[1 2]", "{\"a\" 1}", "{1:2}", "[\"\xff\"]",
        "[\"a\nb\"]", "[01]", "[truex]", "[1]]", "[\"\\q\"]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = aemp_json_reader_new(collect, &c);
        ck_assert_msg(aemp_json_reader_feed(r, bad[i], strlen(bad[i])) ==
                          AEMP_EPARSE,
                      "accepted %s", bad[i]);
        error_offset(aemp_json_reader_error(r));
        collector_clear(&c);
        aemp_json_reader_free(r);
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
        aemp_json_reader *r = aemp_json_reader_new(collect, &c);
        ck_assert_int_eq(aemp_json_reader_feed(r, text, cut), AEMP_OK);
        ck_assert_int_eq(aemp_json_reader_feed(r, text + cut, len - cut),
                         AEMP_OK);
        ck_assert_uint_eq(c.n, 2);
        ck_assert(aemp_str_eq(aemp_array_at(c.frames[0], 0),
                              "\xf8\x88\x80\x80\x80"));
        ck_assert_ptr_nonnull(aemp_map_get(
            c.frames[1], "\xff\x80\x87\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf"));
        collector_clear(&c);
        aemp_json_reader_free(r);
    }
    static const char *const bad[] = {
        "[1][\"\xc0\xaf\"]",             /* overlong '/' */
        "[1][\"\xf8\x87\xbf\xbf\xbf\"]",  /* U+1FFFFF in five bytes */
        "[1]{\"\xe0\x80\x80\":1}",       /* an overlong key */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        collector c = {0};
        aemp_json_reader *r = aemp_json_reader_new(collect, &c);
        ck_assert_int_eq(aemp_json_reader_feed(r, bad[i], strlen(bad[i])),
                         AEMP_EPARSE);
        ck_assert_uint_eq(c.n, 1);
        const char *msg = aemp_json_reader_error(r);
        ck_assert_msg(strstr(msg, "malformed UTF-8 character in JSON string"),
                      "%s", msg);
        ck_assert_uint_ge(error_offset(msg), 4);
        collector_clear(&c);
        aemp_json_reader_free(r);
    }
}
END_TEST

/* A stream that ends inside a message: nothing for it, no error (more may
 * come), and freeing the reader then frees the partial value. */
START_TEST(test_truncated)
{
    for (int m = 0; m < NMSG; m++) {
        size_t cut = offset[m + 1] - 1;
        collector c = {0};
        aemp_json_reader *r = aemp_json_reader_new(collect, &c);
        ck_assert_int_eq(aemp_json_reader_feed(r, stream, cut), AEMP_OK);
        ck_assert_uint_eq(c.n, (size_t)m);
        collector_clear(&c);
        aemp_json_reader_free(r);
    }
    static const char partial[] =
        "[\"a\",{\"k\":[1,{\"x\":\"y\",\"pending\":[[\"deep";
    collector c = {0};
    aemp_json_reader *r = aemp_json_reader_new(collect, &c);
    ck_assert_int_eq(aemp_json_reader_feed(r, partial, sizeof(partial) - 1),
                     AEMP_OK);
    ck_assert_uint_eq(c.n, 0);
    aemp_json_reader_free(r);
    r = aemp_json_reader_new(collect, &c); /* a key without its value */
    ck_assert_int_eq(aemp_json_reader_feed(r, "[{\"a\":1,\"b\":", 12),
                     AEMP_OK);
    aemp_json_reader_free(r);
    r = aemp_json_reader_new(collect, &c); /* an error mid-value */
    ck_assert_int_eq(aemp_json_reader_feed(r, "[{\"a\":[1,{\"b\":x", 15),
                     AEMP_EPARSE);
    aemp_json_reader_free(r);
}
END_TEST

START_TEST(test_callback_stop)
{
    collector c = {.stop_at = 2, .stop_rc = 42};
    aemp_json_reader *r = aemp_json_reader_new(collect, &c);
    ck_assert_int_eq(aemp_json_reader_feed(r, "[1][2][3]", 9), 42);
    ck_assert_uint_eq(c.n, 2);
    ck_assert_ptr_nonnull(strstr(aemp_json_reader_error(r), "callback"));
    ck_assert_int_eq(aemp_json_reader_feed(r, "[4]", 3), 42);
    ck_assert_uint_eq(c.n, 2);
    collector_clear(&c);
    aemp_json_reader_free(r);
}
END_TEST

/* The frame callback may free the reader (a connection closing). */
START_TEST(test_free_in_callback)
{
    for (int rc = 0; rc <= 1; rc++) {
        collector c = {.stop_at = 2, .stop_rc = rc};
        aemp_json_reader *r = aemp_json_reader_new(collect, &c);
        c.free_me = r;
        ck_assert_int_eq(aemp_json_reader_feed(r, "[1][2][3,[4", 11), rc);
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
    aemp_json_reader *r = aemp_json_reader_new(collect, &c);
    memset(text, '[', MAX);
    memset(text + MAX, ']', MAX);
    ck_assert_int_eq(aemp_json_reader_feed(r, text, 2 * MAX), AEMP_OK);
    ck_assert_uint_eq(c.n, 1);
    memset(text, '[', MAX + 1);
    ck_assert_int_eq(aemp_json_reader_feed(r, text, MAX + 1), AEMP_EPARSE);
    ck_assert_ptr_nonnull(strstr(aemp_json_reader_error(r), "nesting"));
    ck_assert_uint_eq(error_offset(aemp_json_reader_error(r)),
                      2 * MAX + MAX + 1);
    collector_clear(&c);
    aemp_json_reader_free(r);
}
END_TEST

static Suite *stream_suite(void)
{
    Suite *s = suite_create("json_stream");
    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, test_one_piece);
    tcase_add_test(tc, test_bytewise);
    tcase_add_loop_test(tc, test_split_everywhere, 0, SLICES);
    suite_add_tcase(s, tc);
    tc = tcase_create("input");
    tcase_add_test(tc, test_separators);
    tcase_add_test(tc, test_non_array);
    tcase_add_test(tc, test_garbage);
    tcase_add_test(tc, test_perl_utf8);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_callback_stop);
    tcase_add_test(tc, test_free_in_callback);
    tcase_add_test(tc, test_depth);
    suite_add_tcase(s, tc);
    return s;
}

#ifdef __SANITIZE_ADDRESS__
/* The split test frees ~100 KB strings 100000 times. With ASan's default
 * 256 MB quarantine each allocation lands on fresh pages, which triples
 * the run time; 16 MB still keeps over a hundred of them poisoned. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=16";
}
#endif

int main(void)
{
#ifdef __GLIBC__
    /* The split test makes and frees ~100 KB buffers 100000 times; keep
     * glibc from handing the heap top back and faulting it in each time
     * (that is most of the run time otherwise). */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_MMAP_THRESHOLD, 16 << 20);
#endif
    load_vectors();
    SRunner *sr = srunner_create(stream_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    for (int i = 0; i < NMSG; i++) {
        free(expected[i]);
        aemp_unref(ref[i]);
    }
    free(stream);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
