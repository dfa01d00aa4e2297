/* The shared part of the stream-reader tests (stream_harness.h). */
#include "stream_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "aemp/error.h"
#include "testutil.h"

char *stream;
size_t stream_len;
char *expected[NMSG];
size_t offset[NMSG + 1];
aemp_val *ref[NMSG];

static const stream_codec *codec; /* the reader under test */

static char *slurp(const char *name, size_t *len)
{
    char *p = test_read_vector(name, len);
    if (!p) {
        fprintf(stderr, "cannot read %s (set AEMP_VECTORS)\n", name);
        exit(EXIT_FAILURE);
    }
    return p;
}

static void load_vectors(void)
{
    size_t len;
    stream = slurp(codec->stream_file, &stream_len);
    char *lines = slurp("frames.expected.jsonl", &len), *p = lines;
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
        unsigned long col[2];
        col[0] = strtoul(p, &p, 10);
        col[1] = strtoul(p, &p, 10);
        offset[i + 1] = offset[i] + col[codec->lengths_column];
    }
    free(lens);
    if (offset[NMSG] != stream_len) {
        fprintf(stderr, "frames.lengths.txt does not add up\n");
        exit(EXIT_FAILURE);
    }
}

static void free_vectors(void)
{
    for (int i = 0; i < NMSG; i++) {
        free(expected[i]);
        aemp_unref(ref[i]);
    }
    free(stream);
}

/* ---- collecting and comparing ------------------------------------------ */

int collect(aemp_val *frame, void *ud)
{
    collector *c = ud;
    if (c->n < 64)
        c->frames[c->n++] = frame;
    else
        aemp_unref(frame);
    if (c->free_me && (int)c->n == c->stop_at)
        codec->drop(c->free_me);
    return (int)c->n == c->stop_at ? c->stop_rc : 0;
}

void collector_clear(collector *c)
{
    for (size_t i = 0; i < c->n; i++)
        aemp_unref(c->frames[i]);
    c->n = 0;
}

int same(const aemp_val *a, const aemp_val *b)
{
    aemp_type t = aemp_type_of(a);
    size_t la, lb;
    const char *sa, *sb;
    if (t != aemp_type_of(b))
        return 0;
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
    case AEMP_DOUBLE: return aemp_as_double(a) == aemp_as_double(b);
    case AEMP_UINT: return aemp_as_uint(a) == aemp_as_uint(b);
    default: return aemp_as_int(a) == aemp_as_int(b);
    }
}

/* (Plain ifs: every passing ck_assert costs Check a write(), and the
 * split test runs this for every cut.) */
void check_all(const collector *c, const char *how)
{
    if (c->n != NMSG)
        ck_abort_msg("%s: %zu frames", how, c->n);
    for (int i = 0; i < NMSG; i++)
        if (!same(c->frames[i], ref[i]))
            ck_abort_msg("%s: message %d differs", how, i + 1);
}

unsigned long error_offset(const char *msg)
{
    const char *p = msg ? strstr(msg, "at byte ") : NULL;
    ck_assert_msg(p != NULL, "no offset in %s", msg ? msg : "(null)");
    return strtoul(p + 8, NULL, 10);
}

void check_truncated_vectors(void)
{
    for (int m = 0; m < NMSG; m++) {
        collector c = {0};
        void *r = codec->make(collect, &c);
        ck_assert_int_eq(codec->feed(r, stream, offset[m + 1] - 1), AEMP_OK);
        ck_assert_uint_eq(c.n, (size_t)m);
        collector_clear(&c);
        codec->drop(r);
    }
}

/* ---- the vectors ------------------------------------------------------- */

/* The types and bytes the comparison by text would not show. */
static void check_details(const collector *c)
{
    aemp_val *m9 = c->frames[8];
    ck_assert_int_eq(aemp_type_of(aemp_array_at(m9, 4)), AEMP_INT);
    ck_assert(aemp_as_int(aemp_array_at(m9, 4)) == 9007199254740993LL);
    ck_assert_int_eq(aemp_type_of(aemp_array_at(m9, 6)), AEMP_INT);
    ck_assert(aemp_as_int(aemp_array_at(m9, 6)) == INT64_MIN);
    ck_assert_int_eq(aemp_type_of(aemp_array_at(m9, 7)), AEMP_UINT);
    ck_assert(aemp_as_uint(aemp_array_at(m9, 7)) == UINT64_MAX);
    ck_assert_int_eq(aemp_type_of(aemp_array_at(c->frames[9], 1)),
                     AEMP_DOUBLE);
    ck_assert(aemp_as_double(aemp_array_at(c->frames[9], 1)) == 0.5);
    size_t len;
    const char *s = aemp_str_ptr(aemp_array_at(c->frames[11], 2), &len);
    ck_assert_mem_eq(s + len - 7, "\0 bell\a", 7);
    s = aemp_str_ptr(aemp_array_at(c->frames[13], 1), &len);
    ck_assert_uint_eq(len, 256); /* 128 characters U+0080..U+00FF */
    ck_assert_mem_eq(s, "\xc2\x80", 2);
    ck_assert_mem_eq(s + 254, "\xc3\xbf", 2);
}

/* Each decoded message, written canonically, is its expected line; and
 * written as we send it, it is byte for byte what Perl sent. No message
 * needs an exception: all 18 reproduce exactly. */
START_TEST(test_one_piece)
{
    collector c = {0};
    void *r = codec->make(collect, &c);
    ck_assert_int_eq(codec->feed(r, stream, stream_len), AEMP_OK);
    ck_assert_ptr_null(codec->error(r));
    check_all(&c, "one piece");
    for (int i = 0; i < NMSG; i++) {
        char *canon = aemp_to_json_canonical(c.frames[i], NULL);
        ck_assert_msg(strcmp(canon, expected[i]) == 0,
                      "message %d canonical:\n%.300s\nexpected:\n%.300s",
                      i + 1, canon, expected[i]);
        free(canon);
        ck_assert_msg(aemp_equal(c.frames[i], ref[i]), "message %d", i + 1);
        codec->check_reencoded(i, c.frames[i]);
    }
    check_details(&c);
    collector_clear(&c);
    codec->drop(r);
}
END_TEST

/* Cut the stream into two reads at every offset; each slice of offsets
 * is its own test run. One reader takes the whole stream again for every
 * cut of its slice: after a complete message the reader is where a new
 * one starts, and keeping it keeps yajl's ~128 KB token buffer, which a
 * new reader per cut would allocate (and, under ASan, mmap) 100000
 * times. test_one_piece and test_bytewise use fresh readers. */
START_TEST(test_split_everywhere)
{
    size_t from = stream_len * (size_t)_i / (size_t)codec->slices;
    size_t to = stream_len * (size_t)(_i + 1) / (size_t)codec->slices;
    if (_i == codec->slices - 1)
        to = stream_len + 1; /* include the cut after the last byte */
    collector c = {0};
    void *r = codec->make(collect, &c);
    for (size_t k = from; k < to; k++) {
        int rc1 = codec->feed(r, stream, k);
        int rc2 = codec->feed(r, stream + k, stream_len - k);
        if (rc1 != AEMP_OK || rc2 != AEMP_OK)
            ck_abort_msg("cut at %zu: %s", k, codec->error(r));
        char how[32];
        snprintf(how, sizeof(how), "cut at %zu", k);
        check_all(&c, how);
        collector_clear(&c);
    }
    codec->drop(r);
}
END_TEST

START_TEST(test_bytewise)
{
    collector c = {0};
    void *r = codec->make(collect, &c);
    int m = 0;
    for (size_t i = 0; i < stream_len; i++) {
        if (codec->feed(r, stream + i, 1) != AEMP_OK)
            ck_abort_msg("byte %zu: %s", i, codec->error(r));
        /* a message is delivered by its last byte, not later */
        if (offset[m + 1] == i + 1)
            m++;
        if (c.n != (size_t)m)
            ck_abort_msg("after byte %zu: %zu frames", i, c.n);
    }
    check_all(&c, "bytewise");
    collector_clear(&c);
    codec->drop(r);
}
END_TEST

TCase *stream_vectors_tcase(void)
{
    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, test_one_piece);
    tcase_add_test(tc, test_bytewise);
    tcase_add_loop_test(tc, test_split_everywhere, 0, codec->slices);
    return tc;
}

/* ---- running ----------------------------------------------------------- */

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

int stream_harness_main(const stream_codec *c, Suite *(*make_suite)(void))
{
#ifdef __GLIBC__
    /* The split test makes and frees ~100 KB buffers 100000 times; keep
     * glibc from handing the heap top back and faulting it in each time
     * (that is most of the run time otherwise). */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_MMAP_THRESHOLD, 16 << 20);
#endif
    codec = c;
    load_vectors();
    int status = test_run_suite(make_suite());
    free_vectors();
    return status;
}
