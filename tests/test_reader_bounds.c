/* The frame readers' bounds: the work of reading stays linear in the bytes
 * however they are cut (counted as work, the bytes the readers look at,
 * not as time), and a frame over the limit (max_frame) fails at the item
 * or byte that passes it, while one just at the limit passes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aemp/error.h"
#include "aemp/value.h"
#include "value_cbor.h"
#include "value_int.h"
#include "value_json.h"

/* ---- both readers behind one face ---------------------------------------- */

typedef struct codec {
    const char *name;
    void *(*make)(int (*cb)(aemp_val *, void *), void *ud);
    int (*feed)(void *r, const char *p, size_t len);
    void (*limit)(void *r, size_t max);
    size_t (*work)(const void *r);
    const char *(*error)(const void *r);
    void (*drop)(void *r);
} codec;

static void *json_make(int (*cb)(aemp_val *, void *), void *ud)
{
    return aempi_json_reader_new(cb, ud);
}
static int json_feed(void *r, const char *p, size_t len)
{
    return aempi_json_reader_feed(r, p, len);
}
static void json_limit(void *r, size_t max)
{
    aempi_json_reader_set_limit(r, max);
}
static size_t json_work(const void *r)
{
    return aempi_json_reader_work(r);
}
static const char *json_error(const void *r)
{
    return aempi_json_reader_error(r);
}
static void json_drop(void *r)
{
    aempi_json_reader_free(r);
}

static void *cbor_make(int (*cb)(aemp_val *, void *), void *ud)
{
    return aempi_cbor_reader_new(cb, ud);
}
static int cbor_feed(void *r, const char *p, size_t len)
{
    return aempi_cbor_reader_feed(r, p, len);
}
static void cbor_limit(void *r, size_t max)
{
    aempi_cbor_reader_set_limit(r, max);
}
static size_t cbor_work(const void *r)
{
    return aempi_cbor_reader_work(r);
}
static const char *cbor_error(const void *r)
{
    return aempi_cbor_reader_error(r);
}
static void cbor_drop(void *r)
{
    aempi_cbor_reader_free(r);
}

static const codec json = {"json", json_make, json_feed, json_limit,
                           json_work, json_error, json_drop};
static const codec cbor = {"cbor", cbor_make, cbor_feed, cbor_limit,
                           cbor_work, cbor_error, cbor_drop};

/* What arrived: how many frames, and the last one (for the caller to
 * check and drop). */
typedef struct got {
    size_t frames;
    aemp_val *last;
} got;

static int keep_last(aemp_val *frame, void *ud)
{
    got *g = ud;
    g->frames++;
    aemp_unref(g->last);
    g->last = frame;
    return 0;
}

/* A reader with the limit max fed in pieces of at most chunk bytes; the
 * feed's result, or the first failure. */
static int feed_all(const codec *c, size_t max, const char *in, size_t len,
                    size_t chunk, got *g, char **err)
{
    void *r = c->make(keep_last, g);
    c->limit(r, max);
    int rc = AEMP_OK;
    for (size_t at = 0; at < len && !rc; at += chunk)
        rc = c->feed(r, in + at, len - at < chunk ? len - at : chunk);
    if (err)
        *err = rc ? strdup(c->error(r)) : NULL;
    c->drop(r);
    return rc;
}

/* The frame passes with the limit max, whole and byte by byte, and fails
 * with max - 1 at stream offset at, both ways, with the limit named. */
static void limit_is(const codec *c, const char *in, size_t len, size_t max,
                     size_t at)
{
    char want[96];
    snprintf(want, sizeof want, "at byte %zu: frame exceeds the limit of "
                                "%zu bytes", at, max - 1);
    for (size_t chunk = len; chunk; chunk = chunk == 1 ? 0 : 1) {
        got g = {0};
        char *err;
        int rc = feed_all(c, max, in, len, chunk, &g, &err);
        ck_assert_msg(rc == AEMP_OK && g.frames == 1,
                      "%s, limit %zu, pieces of %zu: %d, %s", c->name, max,
                      chunk, rc, err ? err : "no frame");
        aemp_unref(g.last);
        g = (got){0};
        rc = feed_all(c, max - 1, in, len, chunk, &g, &err);
        ck_assert_msg(rc == AEMP_ELIMIT && g.frames == 0,
                      "%s, limit %zu, pieces of %zu: %d", c->name, max - 1,
                      chunk, rc);
        ck_assert_msg(strstr(err, want), "%s: %s, not %s", c->name, err,
                      want);
        free(err);
    }
}

/* ---- linear work ------------------------------------------------------- */

#define MIB ((size_t)1 << 20)
#define READ_SIZE (16 * 1024) /* what a link reads at a time */

/* A frame of one long item: head, body bytes repeating unit, tail. */
typedef struct shape {
    const codec *c;
    const char *head;
    size_t head_len;
    const char *unit, *tail;
    size_t body; /* bytes */
    size_t item_len; /* the length of the string it decodes to */
} shape;

static char *build(const shape *s, size_t *len)
{
    size_t ulen = strlen(s->unit), tlen = strlen(s->tail);
    *len = s->head_len + s->body + tlen;
    char *p = malloc(*len);
    ck_assert_ptr_nonnull(p);
    memcpy(p, s->head, s->head_len);
    for (size_t i = 0; i < s->body; i += ulen)
        memcpy(p + s->head_len + i, s->unit, ulen);
    memcpy(p + s->head_len + s->body, s->tail, tlen);
    return p;
}

static void frame_arrived(const shape *s, got *g)
{
    size_t len = 0;
    ck_assert_uint_eq(g->frames, 1);
    aemp_str_ptr(aemp_array_at(g->last, 0), &len);
    ck_assert_uint_eq(len, s->item_len);
    aemp_unref(g->last);
    *g = (got){0};
}

/* The work for the frame in 16 KiB reads stays within twice its work in
 * one piece, and at every read within a few times the bytes so far: so a
 * reader that re-reads an unfinished item at every read (which makes the
 * time quadratic) fails early, after a few reads. */
static void check_linear(const shape *s)
{
    size_t len;
    char *in = build(s, &len);
    got g = {0};
    void *r = s->c->make(keep_last, &g);
    ck_assert_int_eq(s->c->feed(r, in, len), AEMP_OK);
    size_t whole = s->c->work(r);
    s->c->drop(r);
    frame_arrived(s, &g);

    r = s->c->make(keep_last, &g);
    for (size_t at = 0; at < len; at += READ_SIZE) {
        size_t n = len - at < READ_SIZE ? len - at : READ_SIZE;
        ck_assert_int_eq(s->c->feed(r, in + at, n), AEMP_OK);
        size_t work = s->c->work(r);
        if (work > 4 * (at + n) + 64 * 1024)
            ck_abort_msg("%s, %s: %zu bytes of work for %zu bytes",
                         s->c->name, s->unit, work, at + n);
    }
    size_t pieces = s->c->work(r);
    s->c->drop(r);
    frame_arrived(s, &g);
    free(in);
    ck_assert_msg(pieces <= 2 * whole, "%s, %s: %zu bytes of work in "
                  "pieces, %zu in one", s->c->name, s->unit, pieces, whole);
}

/* CBOR heads for a byte string, a text string and an array of one. */
static const char cbor_bytes64[] = "\x81\x5b\x00\x00\x00\x00\x04\x00\x00\x00";
static const char cbor_text16[] = "\x81\x7b\x00\x00\x00\x00\x01\x00\x00\x00";

START_TEST(test_linear)
{
    const shape shapes[] = {
        {&json, "[\"", 2, "z", "\"]", 64 * MIB, 64 * MIB},
        {&json, "[\"", 2, "\\\"", "\"]", 16 * MIB, 8 * MIB},
        {&json, "[", 1, "7", "]", 16 * MIB, 16 * MIB}, /* digits stay */
        {&cbor, cbor_bytes64, 10, "z", "", 64 * MIB, 64 * MIB},
        {&cbor, cbor_text16, 10, "z", "", 16 * MIB, 16 * MIB},
        /* an indefinite string of 8 MiB one-byte pieces */
        {&cbor, "\x81\x5f", 2, "\x41z", "\xff", 16 * MIB, 8 * MIB},
    };
    check_linear(&shapes[_i]);
}
END_TEST

/* ---- tokens held back (JSON) ------------------------------------------ */

/* A byte that yajl refuses inside a string or number reaches it at once,
 * though the token is unfinished: the error is the one the whole text
 * gives, at the same offset, whole or byte by byte. */
START_TEST(test_json_refused_in_token)
{
    static const char *bad[] = {
        "[\"ab\x01", "[\"a\\q", "[\"\\u12G", "[\"\\u\"", "[1.x", "[-x",
        "[1e+x", "[0.5ex", "[-01.5,",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char whole[64];
        snprintf(whole, sizeof whole, "%s\"]", bad[i]);
        char *want, *err;
        got g = {0};
        ck_assert_int_eq(feed_all(&json, 0, whole, strlen(whole),
                                  strlen(whole), &g, &want),
                         AEMP_EPARSE);
        size_t len = strlen(bad[i]), chunks[] = {1, 2, len};
        for (size_t k = 0; k < 3; k++) {
            size_t chunk = chunks[k];
            ck_assert_int_eq(feed_all(&json, 0, bad[i], len, chunk, &g, &err),
                             AEMP_EPARSE);
            ck_assert_str_eq(err, want);
            free(err);
        }
        free(want);
    }
}
END_TEST

/* A top-level number ends where the next text starts, even when that
 * text is a string still held back. */
START_TEST(test_json_number_before_held)
{
    got g = {0};
    ck_assert_int_eq(feed_all(&json, 0, "5\"unfinished", 12, 12, &g, NULL),
                     AEMP_OK);
    ck_assert_uint_eq(g.frames, 1);
    ck_assert_int_eq(aemp_as_int(g.last), 5);
    aemp_unref(g.last);
}
END_TEST

/* ---- the limit: JSON --------------------------------------------------- */

#define VALUE AEMP_COST_VALUE
#define ITEM (AEMP_COST_VALUE + AEMP_COST_ITEM) /* a scalar in an array */

START_TEST(test_json_decoded)
{
    /* the array, then each 0 and its slot; the 10th item passes the
     * limit and fails as yajl reads it, at the ']' after it */
    static const char zeros[] = "[0,0,0,0,0,0,0,0,0,0]";
    limit_is(&json, zeros, strlen(zeros), VALUE + 10 * ITEM, 20);
    /* a map: the map, the key, the value, the entry */
    static const char map[] = "{\"ab\":\"cde\"}";
    limit_is(&json, map, strlen(map),
             VALUE + (VALUE + 2) + (VALUE + 3) + AEMP_COST_ENTRY, 11);
    /* an integer beyond 64 bits is the string of its digits */
    static const char big[] = "[123456789012345678901234567890]";
    limit_is(&json, big, strlen(big), VALUE + ITEM + 30, 31);
}
END_TEST

/* The bytes of a frame count too, whitespace inside it included (not
 * between frames); the failure is at the first byte over. */
START_TEST(test_json_raw)
{
    char in[128];
    memset(in, ' ', sizeof in);
    in[10] = '[';
    in[109] = ']'; /* a frame of 100 bytes after 10 spaces */
    limit_is(&json, in, 110, 100, 109);
    /* a number ends at the byte after it, which is not part of it: 51
     * bytes of a double that decodes to one value */
    static const char num[] =
        " 1e0000000000000000000000000000000000000000000000001 ";
    limit_is(&json, num, strlen(num), 51, 51);
}
END_TEST

/* A string that never ends is held back no further than the limit: the
 * reader fails at the first byte over, having looked at little more. */
START_TEST(test_json_held_string)
{
    size_t len = 4 * MIB, max = 64 * 1024;
    char *in = malloc(len);
    memset(in, 'z', len);
    memcpy(in, "[\"", 2);
    got g = {0};
    void *r = json.make(keep_last, &g);
    json.limit(r, max);
    int rc = AEMP_OK;
    size_t at = 0;
    for (; at < len && !rc; at += 1000)
        rc = json.feed(r, in + at, 1000);
    ck_assert_int_eq(rc, AEMP_ELIMIT);
    ck_assert_uint_le(at, max + 1000);
    ck_assert_uint_le(json.work(r), 3 * (max + 1000));
    ck_assert_ptr_nonnull(strstr(json.error(r), "JSON at byte 65536: frame "
                                                "exceeds the limit of 65536"));
    ck_assert_uint_eq(g.frames, 0);
    json.drop(r);
    free(in);
}
END_TEST

/* The limit is per frame: frames that each fit all pass. */
START_TEST(test_per_frame)
{
    static const char two[] = "[0,0][0,0]";
    got g = {0};
    ck_assert_int_eq(feed_all(&json, VALUE + 2 * ITEM, two, 10, 3, &g, NULL),
                     AEMP_OK);
    ck_assert_uint_eq(g.frames, 2);
    aemp_unref(g.last);
    static const char two_cbor[] = "\x82\x00\x00\x82\x00\x00";
    g = (got){0};
    ck_assert_int_eq(feed_all(&cbor, VALUE + 2 * ITEM, two_cbor, 6, 1, &g,
                              NULL),
                     AEMP_OK);
    ck_assert_uint_eq(g.frames, 2);
    aemp_unref(g.last);
}
END_TEST

/* ---- the limit: CBOR --------------------------------------------------- */

START_TEST(test_cbor_decoded)
{
    /* [_ 0 x 10]: fails at the head of the 10th item, byte 10 */
    static const char zeros[] = "\x9f\0\0\0\0\0\0\0\0\0\0\xff";
    limit_is(&cbor, zeros, 12, VALUE + 10 * ITEM, 10);
    /* [h'68656c6c6f']: the string's bytes count at its head (byte 1) */
    static const char hello[] = "\x81\x45hello";
    limit_is(&cbor, hello, 7, VALUE + ITEM + 5, 1);
    /* {"a": "b"} fails at the value, byte 3 */
    static const char map[] = "\xa1\x61" "a" "\x61" "b";
    limit_is(&cbor, map, 5,
             VALUE + (VALUE + 1) + (VALUE + 1) + AEMP_COST_ENTRY, 3);
    /* an indefinite string: at its end, byte 8 (the pieces alone fit) */
    static const char pieces[] = "\x81\x5f\x42" "ab" "\x42" "cd" "\xff";
    limit_is(&cbor, pieces, 9, VALUE + ITEM + 4, 8);
}
END_TEST

/* A declared length that cannot fit fails at its head, before any of
 * what it declares has come. */
START_TEST(test_cbor_declared)
{
    static const char *heads[] = {
        "\x9b\x00\x00\x00\x01\x00\x00\x00\x00", /* 2^32 items */
        "\xbb\x00\x00\x00\x00\x01\x00\x00\x00", /* 2^24 pairs */
        "\x5b\x00\x00\x00\x00\x04\x00\x00\x01", /* 64 MiB + 1 bytes */
        "\x5f\x5a\x04\x00\x00\x01",             /* a piece as long */
    };
    static const size_t lens[] = {9, 9, 9, 6};
    for (size_t i = 0; i < 4; i++) {
        got g = {0};
        char *err;
        ck_assert_int_eq(feed_all(&cbor, 64 * MIB, heads[i], lens[i],
                                  lens[i], &g, &err),
                         AEMP_ELIMIT);
        ck_assert_msg(strstr(err, "frame exceeds the limit of 67108864"),
                      "%s", err);
        free(err);
    }
    /* just fitting, the string is waited for */
    got g = {0};
    ck_assert_int_eq(feed_all(&cbor, 64 * MIB, "\x5a\x03\xff\xff\xff", 5, 5,
                              &g, NULL),
                     AEMP_OK);
}
END_TEST

/* An endless [_ 0, 0, ...] (one byte an item on the wire, 48 in memory)
 * fails once the items would pass 64 MiB, at the item that does. */
START_TEST(test_cbor_zero_bomb)
{
    size_t max = 64 * MIB, fits = (max - VALUE) / ITEM;
    char *chunk = calloc(1, READ_SIZE);
    chunk[0] = '\x9f';
    got g = {0};
    void *r = cbor.make(keep_last, &g);
    cbor.limit(r, max);
    int rc = AEMP_OK;
    size_t fed = 0;
    while (!rc && fed < 50 * MIB) {
        rc = cbor.feed(r, chunk, READ_SIZE);
        chunk[0] = 0;
        fed += READ_SIZE;
    }
    ck_assert_int_eq(rc, AEMP_ELIMIT);
    char want[64];
    snprintf(want, sizeof want, "CBOR at byte %zu: ", fits + 1);
    ck_assert_msg(strstr(cbor.error(r), want), "%s", cbor.error(r));
    ck_assert_uint_lt(fed, 2 * MIB);
    cbor.drop(r);
    free(chunk);
}
END_TEST

/* No limit unless one is set; 0 sets none. */
START_TEST(test_no_limit)
{
    static const char zeros[] = "[0,0,0,0,0,0,0,0,0,0]";
    got g = {0};
    ck_assert_int_eq(feed_all(&json, 0, zeros, strlen(zeros), 1, &g, NULL),
                     AEMP_OK);
    ck_assert_uint_eq(g.frames, 1);
    aemp_unref(g.last);
}
END_TEST

static Suite *bounds_suite(void)
{
    Suite *s = suite_create("reader_bounds");
    TCase *tc = tcase_create("linear");
    tcase_add_loop_test(tc, test_linear, 0, 6);
    suite_add_tcase(s, tc);
    tc = tcase_create("held");
    tcase_add_test(tc, test_json_refused_in_token);
    tcase_add_test(tc, test_json_number_before_held);
    suite_add_tcase(s, tc);
    tc = tcase_create("limit");
    tcase_add_test(tc, test_json_decoded);
    tcase_add_test(tc, test_json_raw);
    tcase_add_test(tc, test_json_held_string);
    tcase_add_test(tc, test_per_frame);
    tcase_add_test(tc, test_cbor_decoded);
    tcase_add_test(tc, test_cbor_declared);
    tcase_add_test(tc, test_cbor_zero_bomb);
    tcase_add_test(tc, test_no_limit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(bounds_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
