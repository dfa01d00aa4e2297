/* Tests for the CBOR codec: the Perl vectors (frames.cbor.bin, CBOR::XS
 * 1.86 encode_cbor, through the shared harness, stream_harness.h), items
 * decoded and encoded, and bad input. Expected bytes in the encoder tests
 * are what CBOR::XS 1.86 writes for the same Perl data. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aemp/error.h"
#include "aemp/value.h"
#include "buf.h"
#include "stream_harness.h"
#include "value_cbor.h"
#include "value_int.h"

/* ---- the reader behind the harness's face ------------------------------ */

static void *cbor_make(int (*cb)(aemp_val *, void *), void *ud)
{
    return aempi_cbor_reader_new(cb, ud);
}
static int cbor_feed(void *r, const char *p, size_t len)
{
    return aempi_cbor_reader_feed(r, p, len);
}
static const char *cbor_error(const void *r)
{
    return aempi_cbor_reader_error(r);
}
static void cbor_drop(void *r)
{
    aempi_cbor_reader_free(r);
}

/* Message i, written again whole and as a frame from port id and
 * message, is byte for byte what Perl sent. */
static void cbor_check_reencoded(int i, const aemp_val *m)
{
    size_t perl_len = offset[i + 1] - offset[i];
    aemp_buf b = AEMP_BUF_INIT;
    ck_assert_int_eq(aempi_cbor_write(&b, m), AEMP_OK);
    ck_assert_msg(b.len == perl_len &&
                      memcmp(b.p, stream + offset[i], b.len) == 0,
                  "message %d re-encoded differs (%zu bytes, Perl %zu)",
                  i + 1, b.len, perl_len);
    aempi_buf_reset(&b);
    aemp_val *rest = aemp_copy(m);
    aemp_val *port = aemp_array_take(rest, 0);
    ck_assert_int_eq(aempi_cbor_write_frame(&b, aemp_str_ptr(port, NULL),
                                            rest),
                     AEMP_OK);
    ck_assert_msg(b.len == perl_len &&
                      memcmp(b.p, stream + offset[i], b.len) == 0,
                  "message %d as a frame differs", i + 1);
    aemp_unref(port);
    aemp_unref(rest);
    aempi_buf_free(&b);
}

static const stream_codec cbor_codec = {
    .name = "cbor_stream",
    .stream_file = "frames.cbor.bin",
    .lengths_column = 1,
    .slices = 16,
    .make = cbor_make,
    .feed = cbor_feed,
    .error = cbor_error,
    .drop = cbor_drop,
    .check_reencoded = cbor_check_reencoded,
};

/* ---- helpers ----------------------------------------------------------- */

/* Hex digits (spaces ignored) to bytes; returns the length. */
static size_t unhex(const char *h, char *out)
{
    size_t n = 0;
    for (; *h; h++) {
        if (*h == ' ')
            continue;
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (char)v;
        h++;
    }
    return n;
}

/* A new reader (*rp, for the caller to free) fed the bytes of hex;
 * returns what the feed returned. */
static int feed_hex(const char *hex, collector *c, aemp_cbor_reader **rp)
{
    char in[1100];
    size_t len = unhex(hex, in);
    *rp = aempi_cbor_reader_new(collect, c);
    return aempi_cbor_reader_feed(*rp, in, len);
}

/* The one item that the hex text decodes to. */
static aemp_val *decode1(const char *hex)
{
    collector c = {0};
    aemp_cbor_reader *r;
    int rc = feed_hex(hex, &c, &r);
    ck_assert_msg(rc == AEMP_OK && c.n == 1, "%s: rc %d, %zu items, %s",
                  hex, rc, c.n, aempi_cbor_reader_error(r));
    aempi_cbor_reader_free(r);
    return c.frames[0];
}

/* ---- decoding ---------------------------------------------------------- */

/* Items and the canonical JSON of what they decode to. */
START_TEST(test_decode)
{
    static const struct {
        const char *hex, *json;
    } cases[] = {
        {"f93c00", "1"}, {"f9c100", "-2.5"},
        {"f90001", "5.96046447753906e-08"},
        {"fa3fc00000", "1.5"}, {"fb3fb999999999999a", "0.1"},
        {"3b7fffffffffffffff", "-9223372036854775808"},
        {"3b8000000000000000", "\"-9223372036854775809\""},
        {"3bffffffffffffffff", "\"-18446744073709551616\""},
        /* bignums: tag 3 is -n, as CBOR::XS reads it */
        {"c249010000000000000000", "18446744073709551616"},
        {"c349010000000000000000", "-18446744073709551616"},
        {"c348ffffffffffffffff", "-18446744073709551615"},
        {"c2 4a 0000ffffffffffffffff", "18446744073709551615"},
        {"c3487fffffffffffffff", "-9223372036854775807"},
        {"c2420001", "1"}, {"c240", "0"}, {"c34100", "0"}, {"c34101", "-1"},
        {"c201", "1"}, {"c1 1a5f000000", "1593835520"},
        {"d9d9f7 83 01 02 03", "[1,2,3]"}, {"d81c 4161", "\"a\""},
        {"c6c6c6c601", "1"}, {"f7", "null"}, {"f6", "null"},
        {"5f 4161 40 4162 ff", "\"ab\""}, {"5f ff", "\"\""},
        {"83 5f 4161 ff 7f ff 01", "[\"a\",\"\",1]"},
        /* an empty indefinite string meets "" in the string cache */
        {"82 40 7f ff", "[\"\",\"\"]"},
        {"5f 41e9 ff", "\"\xc3\xa9\""}, {"7f 62c3a9 60 ff", "\"\xc3\xa9\""},
        {"41 c3", "\"\xc3\x83\""}, {"42 c3a9", "\"\xc3\x83\xc2\xa9\""},
        {"9f 01 9f ff 80 ff", "[1,[],[]]"}, {"bf 6161 01 ff", "{\"a\":1}"},
        {"bf 6161 bf ff 6162 9f ff ff", "{\"a\":{},\"b\":[]}"},
        {"a1 01 6161", "{\"1\":\"a\"}"}, {"a1 20 00", "{\"-1\":0}"},
        {"a1 f5 00", "{\"1\":0}"}, {"a1 f4 00", "{\"0\":0}"},
        {"a1 f6 00", "{\"\":0}"}, {"a1 fb3ff8000000000000 00", "{\"1.5\":0}"},
        {"a1 fb44b52d02c7e14af6 00", "{\"1e+23\":0}"},
        {"a1 fb8000000000000000 00", "{\"0\":0}"},
        {"a1 fa7f800000 00", "{\"Inf\":0}"}, {"a1 f97e00 00", "{\"NaN\":0}"},
        {"a1 c249010000000000000000 00", "{\"18446744073709551616\":0}"},
        {"a1 1bffffffffffffffff 00", "{\"18446744073709551615\":0}"},
        {"a1 41e9 01", "{\"\xc3\xa9\":1}"}, {"a1 c6 4161 f5", "{\"a\":true}"},
        {"a2 6161 01 4161 02", "{\"a\":2}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        aemp_val *v = decode1(cases[i].hex);
        char *json = aemp_to_json_canonical(v, NULL);
        ck_assert_msg(strcmp(json, cases[i].json) == 0, "%s: %s, not %s",
                      cases[i].hex, json, cases[i].json);
        free(json);
        aemp_unref(v);
    }
    aemp_val *v = decode1("c2 48 ffffffffffffffff");
    ck_assert(aemp_is_bignum(v) && aemp_str_eq(v, "18446744073709551615"));
    aemp_unref(v);
    v = decode1("f97c00");
    ck_assert(isinf(aemp_as_double(v)) && aemp_as_double(v) > 0);
    aemp_unref(v);
    v = decode1("f97e00");
    ck_assert(isnan(aemp_as_double(v)));
    aemp_unref(v);
    v = decode1("62 c328"); /* malformed text is kept as it is */
    ck_assert_mem_eq(aemp_str_ptr(v, NULL), "\xc3\x28", 3);
    aemp_unref(v);
}
END_TEST

/* Items that are not arrays are still delivered: rejecting them is the
 * caller's job. */
START_TEST(test_non_array)
{
    collector c = {0};
    aemp_cbor_reader *r;
    ck_assert_int_eq(feed_hex("a1616b01 63737472 f5 f6 05 8100 26", &c, &r),
                     AEMP_OK);
    ck_assert_uint_eq(c.n, 7);
    ck_assert_int_eq(aemp_type_of(c.frames[0]), AEMP_MAP);
    ck_assert(aemp_str_eq(c.frames[1], "str"));
    ck_assert_int_eq(aemp_type_of(c.frames[2]), AEMP_BOOL);
    ck_assert_int_eq(aemp_type_of(c.frames[3]), AEMP_NULL);
    ck_assert_int_eq(aemp_as_int(c.frames[4]), 5);
    ck_assert_int_eq(aemp_type_of(c.frames[5]), AEMP_ARRAY);
    ck_assert_int_eq(aemp_as_int(c.frames[6]), -7);
    collector_clear(&c);
    aempi_cbor_reader_free(r);
}
END_TEST

/* ---- encoding ---------------------------------------------------------- */

/* v (taken) encodes to the bytes of hex. */
static void check_enc(aemp_val *v, const char *hex)
{
    char want[256];
    size_t len = unhex(hex, want);
    aemp_buf b = AEMP_BUF_INIT;
    ck_assert_int_eq(aempi_cbor_write(&b, v), AEMP_OK);
    char got[520] = "";
    for (size_t i = 0; i < b.len && i < 256; i++)
        snprintf(got + 2 * i, 3, "%02x", (unsigned char)b.p[i]);
    ck_assert_msg(b.len == len && memcmp(b.p, want, len) == 0,
                  "wrote %s, not %s", got, hex);
    aempi_buf_free(&b);
    aemp_unref(v);
}

START_TEST(test_encode)
{
    static const struct {
        int64_t i;
        const char *hex;
    } ints[] = {
        {0, "00"}, {23, "17"}, {24, "1818"}, {255, "18ff"},
        {256, "190100"}, {65535, "19ffff"}, {65536, "1a00010000"},
        {4294967295, "1affffffff"}, {4294967296, "1b0000000100000000"},
        {INT64_MAX, "1b7fffffffffffffff"}, {-1, "20"}, {-24, "37"},
        {-25, "3818"}, {-256, "38ff"}, {-257, "390100"},
        {INT64_MIN, "3b7fffffffffffffff"},
    };
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        check_enc(aemp_int(ints[i].i), ints[i].hex);
    check_enc(aemp_uint(UINT64_MAX), "1bffffffffffffffff");

    /* encode_nv: integral in 0..2^32-1 is an integer, else single when
     * exact (never half), else double */
    static const struct {
        double d;
        const char *hex;
    } dbls[] = {
        {2.0, "02"}, {-0.0, "00"}, {65504.0, "19ffe0"},
        {4294967295.0, "1affffffff"}, {4294967296.0, "fa4f800000"},
        {-1.0, "fabf800000"}, {-3.0, "fac0400000"}, {0.5, "fa3f000000"},
        {1.5, "fa3fc00000"}, {-2.5, "fac0200000"}, {1e10, "fa501502f9"},
        {-4294967296.0, "facf800000"}, {3.4028234663852886e38, "fa7f7fffff"},
        {INFINITY, "fa7f800000"}, {-INFINITY, "faff800000"},
        {0.1, "fb3fb999999999999a"}, {1e300, "fb7e37e43c8800759c"},
        {5e-324, "fb0000000000000001"}, {1e-45, "fb3696d601ad376ab9"},
        {1e20, "fb4415af1d78b58c40"}, {3.14159265358979, "fb400921fb54442d11"},
    };
    for (size_t i = 0; i < sizeof(dbls) / sizeof(dbls[0]); i++)
        check_enc(aemp_double(dbls[i].d), dbls[i].hex);
    volatile double zero = 0.0;
    double nan = zero / zero; /* Perl's NaN: fff8... on x86 */
    uint64_t bits;
    memcpy(&bits, &nan, 8);
    char hex[32];
    snprintf(hex, sizeof(hex), "fb%016llx", (unsigned long long)bits);
    check_enc(aemp_double(nan), hex);

    check_enc(aemp_null(), "f6");
    check_enc(aemp_bool(1), "f5");
    check_enc(aemp_bool(0), "f4");
    check_enc(aemp_str(""), "40");
    check_enc(aemp_str("abc"), "43616263");
    check_enc(aemp_str("\xc3\xa9"), "41e9");           /* é as Perl bytes */
    check_enc(aemp_str("\xe9"), "41e9");               /* the same */
    check_enc(aemp_str("\xc4\x80"), "62c480");         /* U+0100: text */
    check_enc(aemp_str("\xc3\xa9\xe2\x98\xba"), "65c3a9e298ba");
    check_enc(aemp_str("\xff\xfe"), "42fffe");         /* not UTF-8 */
    check_enc(aemp_strn("a\0b", 3), "43610062");
    check_enc(aemp_array(), "80");
    check_enc(aemp_map(), "a0");
    aemp_val *m = aemp_map();
    aemp_map_set(m, "\xc3\xa9", aemp_int(1));
    aemp_map_set(m, "\xe2\x98\xba", aemp_arrayv(aemp_int(1), NULL));
    aemp_map_set(m, "b", aemp_null());
    check_enc(m, "a3 41e9 01 63e298ba 8101 4162 f6");

    /* a port id is a string like any other */
    static const char *ports[][2] = {
        {"port", "\x83\x44port"}, {"\xc3\xa9", "\x83\x41\xe9"},
        {"\xe2\x98\xba", "\x83\x63\xe2\x98\xba"}, {"\xff", "\x83\x41\xff"},
    };
    aemp_buf b = AEMP_BUF_INIT;
    aemp_val *msg = aemp_arrayv(aemp_int(1), aemp_str("x"), NULL);
    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        size_t n = strlen(ports[i][1]);
        aempi_buf_reset(&b);
        ck_assert_int_eq(aempi_cbor_write_frame(&b, ports[i][0], msg),
                         AEMP_OK);
        ck_assert_uint_eq(b.len, n + 3);
        ck_assert_mem_eq(b.p, ports[i][1], n);
        ck_assert_mem_eq(b.p + n, "\x01\x41x", 3);
    }
    aemp_unref(msg);

    /* 512 levels are fine, 513 are refused, as CBOR::XS croaks */
    aemp_val *deep = aemp_array();
    for (int i = 1; i < 512; i++)
        deep = aemp_arrayv(deep, NULL);
    aempi_buf_reset(&b);
    ck_assert_int_eq(aempi_cbor_write(&b, deep), AEMP_OK);
    ck_assert_uint_eq(b.len, 512);
    deep = aemp_arrayv(deep, NULL);
    aempi_buf_reset(&b);
    ck_assert_int_eq(aempi_cbor_write(&b, deep), AEMP_EINVAL);
    aemp_unref(deep);
    aempi_buf_free(&b);
}
END_TEST

/* Code points beyond U+10FFFF: CBOR::XS sends chr(0x110000) and up as a
 * text string of Perl's extended UTF-8; they come back as the same text
 * string, byte for byte. (The items are what encode_cbor writes.) */
START_TEST(test_beyond_unicode)
{
    static const char *const items[] = {
        "64f4908080", "64f7bfbfbf", "65f888808080", "65fbbfbfbfbf",
        "66fc8480808080", "66fdbfbfbfbfbf", "67fe828080808080",
        "67febfbfbfbfbfbf", "6dff808080808081808080808080",
        "6dff8087bfbfbfbfbfbfbfbfbfbf",
        "66 61 f4908080 62", /* amid ASCII */
        "66 c3a9 f4908080",  /* with a Latin-1 character: still text */
    };
    for (size_t i = 0; i < sizeof(items) / sizeof(*items); i++) {
        aemp_val *v = decode1(items[i]);
        check_enc(v, items[i]);
    }
}
END_TEST

/* A byte-string key and a text key that are one string to our model (the
 * text not UTF-8, so taken for bytes) are one key: the later value wins,
 * and no writer sends the key twice. (CBOR::XS keeps a malformed text key
 * apart from the byte key; a valid one it merges, as here.) */
START_TEST(test_equivalent_keys)
{
    static const char *const maps[][2] = {
        {"a2 41c3 01 61c3 02", "a1 41c3 02"},     /* malformed text */
        {"a2 61c3 01 41c3 02", "a1 41c3 02"},     /* either order */
        {"a2 42c181 01 62c181 02", "a1 42c181 02"}, /* overlong 'A' */
        {"a2 41e9 01 62c3a9 02", "a1 41e9 02"},   /* valid text */
        {"a3 41e9 01 62c3a9 02 61e9 03", "a1 41e9 03"},
    };
    for (size_t i = 0; i < sizeof(maps) / sizeof(*maps); i++) {
        aemp_val *m = decode1(maps[i][0]);
        ck_assert_msg(aemp_map_len(m) == 1, "%s: %zu keys", maps[i][0],
                      aemp_map_len(m));
        char *j = aemp_to_json(m, NULL);
        ck_assert_msg(strchr(j, ',') == NULL, "%s: JSON %s", maps[i][0], j);
        free(j);
        check_enc(m, maps[i][1]);
    }
}
END_TEST

/* Bignums (Perl's Math::BigInt, tags 2 and 3) stay bignums: the digits
 * for C, and out again as CBOR::XS writes a Math::BigInt. The first
 * column is what encode_cbor writes for Math::BigInt->new(digits). */
START_TEST(test_bignums)
{
    static const char *const perl[][2] = {
        {"123456789012345678901234567890", "c24d018ee90ff6c373e0ee4e3f0ad2"},
        {"18446744073709551616", "c249010000000000000000"},
        {"18446744073709551615", "c248ffffffffffffffff"},
        {"4294967296", "c2450100000000"},
        {"2147483648", "c24480000000"},
    };
    for (size_t i = 0; i < sizeof(perl) / sizeof(*perl); i++) {
        aemp_val *v = decode1(perl[i][1]);
        ck_assert_int_eq(aemp_type_of(v), AEMP_STRING);
        ck_assert(aemp_is_bignum(v) && aemp_str_eq(v, perl[i][0]));
        check_enc(v, perl[i][1]);
        check_enc(aemp_bignum(perl[i][0]), perl[i][1]);
    }
    /* in the 32-bit range CBOR::XS writes a Math::BigInt as an integer */
    static const char *const small[][3] = {
        {"c2420001", "1", "01"},
        {"c24100", "0", "00"},
        {"c24480000000", "2147483648", "c24480000000"},
        {"c2447fffffff", "2147483647", "1a7fffffff"},
        {"c34480000000", "-2147483648", "3a7fffffff"},
        {"c34480000001", "-2147483649", "c34480000001"},
        {"c3420001", "-1", "20"},
    };
    for (size_t i = 0; i < sizeof(small) / sizeof(*small); i++) {
        aemp_val *v = decode1(small[i][0]);
        ck_assert_msg(aemp_str_eq(v, small[i][1]), "%s", small[i][0]);
        check_enc(v, small[i][2]);
    }
    /* a negative one goes out as the magnitude CBOR::XS reads back as the
     * same number (its own TO_CBOR garbles it: it would send
     * c34d118ee9.. for the -1234.. below and read that back as
     * -1391107389240575080397937773266, which we relay unchanged) */
    check_enc(aemp_bignum("-123456789012345678901234567890"),
              "c34d018ee90ff6c373e0ee4e3f0ad2");
    aemp_val *v = decode1("c34d118ee90ff6c373e0ee4e3f0ad2");
    ck_assert(aemp_str_eq(v, "-1391107389240575080397937773266"));
    check_enc(v, "c34d118ee90ff6c373e0ee4e3f0ad2");
    /* the json framing writes a bare number (JSON::XS cannot write one) */
    v = decode1("82 c24d018ee90ff6c373e0ee4e3f0ad2 c34100");
    char *j = aemp_to_json(v, NULL);
    ck_assert_str_eq(j, "[123456789012345678901234567890,0]");
    free(j);
    aemp_unref(v);
    /* as a map key it is the plain string of its digits */
    v = decode1("a1 c249010000000000000000 f5");
    ck_assert(!aemp_is_bignum(aempi_map_key_val_at(v, 0)));
    ck_assert_str_eq(aemp_map_key_at(v, 0, NULL), "18446744073709551616");
    aemp_unref(v);
}
END_TEST

/* What we write, we read back as the same data. */
START_TEST(test_roundtrip)
{
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    aemp_val *v = aemp_arrayv(
        aemp_strn(all, 256), aemp_strn(all, 128),
        aemp_str("gr\xc3\xbc\xc3\x9f"),
        aemp_str("\xf0\x9f\x98\x80"), aemp_double(0.1), aemp_double(-7.25),
        aemp_double(1e100), aemp_int(INT64_MIN), aemp_uint(UINT64_MAX),
        aemp_bool(1), aemp_null(), aemp_map(), NULL);
    aemp_map_set(aemp_array_at(v, 11), "\xff", aemp_str("k"));
    aemp_buf b = AEMP_BUF_INIT;
    ck_assert_int_eq(aempi_cbor_write(&b, v), AEMP_OK);
    collector c = {0};
    aemp_cbor_reader *r = aempi_cbor_reader_new(collect, &c);
    ck_assert_int_eq(aempi_cbor_reader_feed(r, b.p, b.len), AEMP_OK);
    ck_assert_uint_eq(c.n, 1);
    ck_assert(aemp_equal(c.frames[0], v));
    aemp_buf b2 = AEMP_BUF_INIT; /* and it writes the same bytes again */
    ck_assert_int_eq(aempi_cbor_write(&b2, c.frames[0]), AEMP_OK);
    ck_assert(b2.len == b.len && memcmp(b.p, b2.p, b.len) == 0);
    aempi_buf_free(&b);
    aempi_buf_free(&b2);
    aemp_unref(v);
    collector_clear(&c);
    aempi_cbor_reader_free(r);
}
END_TEST

/* The reader keeps the short text strings it made and hands them out
 * again: many frames of repeated, colliding, similar and long strings
 * in one stream must still come out exactly, also across the point where
 * the cache grows from its first few slots to its full size. */
START_TEST(test_repeated_strings)
{
    enum { FRAMES = 60, ITEMS = 50 };
    aemp_val *sent[FRAMES];
    aemp_buf b = AEMP_BUF_INIT;
    char s[64];
    for (int f = 0; f < FRAMES; f++) {
        sent[f] = aemp_array();
        for (int j = 0; j < ITEMS; j++) {
            int k = (f * 7 + j * 13) % 500;
            aemp_val *v;
            switch (j % 5) {
            case 0: /* 500 keys: more than the cache holds */
                snprintf(s, sizeof s, "k%d", k);
                v = aemp_str(s);
                break;
            case 1: /* a prefix of another key, and the empty string */
                snprintf(s, sizeof s, "k%d", k / 10);
                v = aemp_str(k % 3 ? s : "");
                break;
            case 2: /* too long for the cache, then just short enough */
                memset(s, 'a' + k % 26, 40);
                v = aemp_strn(s, k % 2 ? 33 : 32);
                break;
            case 3: /* a map: keys go through the cache too */
                v = aemp_map();
                snprintf(s, sizeof s, "k%d", k);
                aemp_map_set(v, s, aemp_int(k));
                break;
            default:
                v = aemp_str("gr\xc3\xbc\xc3\x9f");
            }
            aemp_array_push(sent[f], v);
        }
        ck_assert_int_eq(aempi_cbor_write(&b, sent[f]), AEMP_OK);
    }
    collector c = {0};
    aemp_cbor_reader *r = aempi_cbor_reader_new(collect, &c);
    ck_assert_int_eq(aempi_cbor_reader_feed(r, b.p, b.len), AEMP_OK);
    ck_assert_uint_eq(c.n, FRAMES);
    for (int f = 0; f < FRAMES; f++) {
        ck_assert_msg(same(c.frames[f], sent[f]), "frame %d differs", f);
        aemp_unref(sent[f]);
    }
    collector_clear(&c);
    aempi_cbor_reader_free(r);
    aempi_buf_free(&b);
}
END_TEST

/* Small flat arrays (integers and strings) are made in one step, with
 * the strings of the frame before at hand: one reader fed frames whose
 * places repeat a string, change its major type with the same bytes
 * (a byte string of c3 a9 is Latin-1, a text string of them is not),
 * its length or one byte, hold every integer head, a negative beyond
 * int64 (the digits, made by the general parse), a nested item, and the
 * longest and one more item than the fast path takes. */
START_TEST(test_flat_frames)
{
    static const struct {
        const char *hex, *json;
    } cases[] = {
        {"83 6161 42c3a9 01", "[\"a\",\"\xc3\x83\xc2\xa9\",1]"},
        {"83 6161 62c3a9 01", "[\"a\",\"\xc3\xa9\",1]"},
        {"83 4161 62c3a9 20", "[\"a\",\"\xc3\xa9\",-1]"},
        {"83 4161 42c3a9 20", "[\"a\",\"\xc3\x83\xc2\xa9\",-1]"},
        {"83 4162 42c3aa 1818", "[\"b\",\"\xc3\x83\xc2\xaa\",24]"},
        {"83 4162 43c3aa00 190100", "[\"b\",\"\xc3\x83\xc2\xaa\\u0000\",256]"},
        {"84 1a00010000 1b0000000100000000 1bffffffffffffffff "
         "3b7fffffffffffffff",
         "[65536,4294967296,18446744073709551615,-9223372036854775808]"},
        {"82 6161 3b8000000000000000", "[\"a\",\"-9223372036854775809\"]"},
        {"82 6161 81 01", "[\"a\",[1]]"}, {"82 6161 f5", "[\"a\",true]"},
        {"81 40", "[\"\"]"}, {"81 60", "[\"\"]"}, {"80", "[]"},
        {"88 01 02 03 04 6161 6162 6163 6164",
         "[1,2,3,4,\"a\",\"b\",\"c\",\"d\"]"},
        {"89 01 02 03 04 6161 6162 6163 6164 6165",
         "[1,2,3,4,\"a\",\"b\",\"c\",\"d\",\"e\"]"},
        {"81 7821 78787878787878787878787878787878787878787878787878787878787"
         "8787878",
         "[\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"]"},
        {"81 6161", "[\"a\"]"},
    };
    collector c = {0};
    aemp_cbor_reader *r = aempi_cbor_reader_new(collect, &c);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char in[128];
        size_t len = unhex(cases[i].hex, in);
        ck_assert_int_eq(aempi_cbor_reader_feed(r, in, len), AEMP_OK);
        ck_assert_uint_eq(c.n, 1);
        char *json = aemp_to_json_canonical(c.frames[0], NULL);
        ck_assert_msg(strcmp(json, cases[i].json) == 0, "%s: %s, not %s",
                      cases[i].hex, json, cases[i].json);
        free(json);
        collector_clear(&c);
    }
    aempi_cbor_reader_free(r);
}
END_TEST

/* Strings of every length up to past the cache's, each differing from
 * the one before in a single byte at every position, as text and as
 * byte strings: the cache must never hand out a string that differs
 * anywhere, however the lookup reads the bytes; and a byte string with
 * one byte above 0x7f anywhere is Latin-1, not ASCII. */
START_TEST(test_strings_every_byte)
{
    collector c = {0};
    aemp_cbor_reader *r = aempi_cbor_reader_new(collect, &c);
    aemp_cbor_reader *rf[2] = {aempi_cbor_reader_new(collect, &c),
                               aempi_cbor_reader_new(collect, &c)};
    char s[40], want[80];
    for (size_t len = 0; len <= 33; len++) {
        /* the base string, then one byte of it changed to one of 27
         * values (the last above 0x7f), then the base again, ...: many
         * changes share a position, so some meet in a cache slot */
        for (size_t n = 0; n < 2 * 27 * len + 1; n++) {
            memset(s, 'x', len);
            if (n % 2) {
                size_t k = n / 2 % 27;
                s[n / 2 / 27] = k == 26 ? (char)0xe9 : (char)('a' + k);
            }
            /* alone, and in a flat frame (compared with the last
             * frame's string at its place: a reader for each major
             * type, so that the same type meets itself there) */
            for (int way = 0; way < 4; way++) {
                int major = 2 + way % 2, flat = way / 2;
                char item[48];
                item[0] = (char)0x81;
                item[flat] = (char)(major << 5 | 24);
                item[flat + 1] = (char)len;
                memcpy(item + flat + 2, s, len);
                ck_assert_int_eq(aempi_cbor_reader_feed(flat ? rf[major - 2]
                                                             : r,
                                                        item, len + 2 + flat),
                                 AEMP_OK);
                ck_assert_uint_eq(c.n, 1);
                aemp_val *got_v = flat ? aemp_array_at(c.frames[0], 0)
                                       : c.frames[0];
                size_t wlen = 0;
                for (size_t i = 0; i < len; i++) {
                    unsigned char b = (unsigned char)s[i];
                    if (b >= 0x80 && major == 2) { /* Latin-1 */
                        want[wlen++] = (char)(0xc0 | b >> 6);
                        want[wlen++] = (char)(0x80 | (b & 0x3f));
                    } else {
                        want[wlen++] = (char)b;
                    }
                }
                size_t glen;
                const char *got = aemp_str_ptr(got_v, &glen);
                ck_assert_msg(got && glen == wlen && !memcmp(got, want, wlen),
                              "length %zu, change %zu, major %d", len, n,
                              major);
                collector_clear(&c);
            }
        }
    }
    aempi_cbor_reader_free(rf[0]);
    aempi_cbor_reader_free(rf[1]);
    aempi_cbor_reader_free(r);
}
END_TEST

/* ---- bad input --------------------------------------------------------- */

/* Frames before the error arrive; after it the reader stays failed, with
 * the same message, and delivers nothing more. */
START_TEST(test_garbage)
{
    collector c = {0};
    aemp_cbor_reader *r = aempi_cbor_reader_new(collect, &c);
    ck_assert_int_eq(aempi_cbor_reader_feed(r, "\x82\x01\x02", 3), AEMP_OK);
    ck_assert_int_eq(aempi_cbor_reader_feed(r, "\x81\x41x\x82\x03\x1c\x81\x04",
                                            8),
                     AEMP_EPARSE);
    ck_assert_uint_eq(c.n, 2);
    const char *msg = aempi_cbor_reader_error(r);
    ck_assert_uint_eq(error_offset(msg), 8); /* the 1c */
    ck_assert_ptr_nonnull(strstr(msg, "reserved"));
    char *first = strdup(msg);
    ck_assert_int_eq(aempi_cbor_reader_feed(r, "\x81\x05", 2), AEMP_EPARSE);
    ck_assert_int_eq(aempi_cbor_reader_feed(r, "", 0), AEMP_EPARSE);
    ck_assert_str_eq(aempi_cbor_reader_error(r), first);
    ck_assert_uint_eq(c.n, 2);
    free(first);
    collector_clear(&c);
    aempi_cbor_reader_free(r);

    static const struct {
        const char *hex;
        unsigned long at; /* the head where it fails */
    } bad[] = {
        {"ff", 0}, {"1c", 0}, {"1d", 0}, {"1e", 0}, {"3c", 0}, {"5d", 0},
        {"7e", 0}, {"9c", 0}, {"bd", 0}, {"dc", 0}, {"fc", 0}, {"fd", 0},
        {"fe", 0}, {"1f", 0}, {"3f", 0}, {"df", 0}, {"f0", 0}, {"f3", 0},
        {"f8 20", 0}, {"f8 ff", 0}, {"82 01 ff", 2}, {"9f c6 ff", 2},
        {"5f 4161 6162 ff", 3}, {"5f 5f ff ff", 1}, {"5f 01 ff", 1},
        {"5f 41 61 5f", 3}, {"bf 6161 ff", 3}, {"a1 80 01", 1},
        {"bf 6161 01 a0 01 ff", 4}, {"d8 19 00", 0}, {"d8 1d 00", 0},
        {"5b ffffffffffffffff", 0}, {"9f 01 02 c6 ff", 4},
        {"82 01 1c", 2}, {"81 81 81 fe", 3},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(feed_hex(bad[i].hex, &c, &r) == AEMP_EPARSE,
                      "accepted %s", bad[i].hex);
        ck_assert_msg(error_offset(aempi_cbor_reader_error(r)) == bad[i].at,
                      "%s: %s", bad[i].hex, aempi_cbor_reader_error(r));
        ck_assert_uint_eq(c.n, 0);
        aempi_cbor_reader_free(r);
    }

    /* a bignum too long to convert in reasonable time */
    char big[1030] = "\xc2\x59\x04\x01\x01"; /* 1025 bytes from 01 */
    r = aempi_cbor_reader_new(collect, &c);
    ck_assert_int_eq(aempi_cbor_reader_feed(r, big, 4 + 1025), AEMP_EPARSE);
    ck_assert_ptr_nonnull(strstr(aempi_cbor_reader_error(r), "bignum"));
    aempi_cbor_reader_free(r);
    big[4] = 0; /* 1024 bytes after a leading zero are fine */
    big[5] = 1;
    r = aempi_cbor_reader_new(collect, &c);
    ck_assert_int_eq(aempi_cbor_reader_feed(r, big, 4 + 1025), AEMP_OK);
    ck_assert_uint_eq(c.n, 1);
    size_t len; /* 2^8184: 2464 digits */
    const char *s = aemp_str_ptr(c.frames[0], &len);
    ck_assert_uint_eq(len, 2464);
    ck_assert_mem_eq(s + len - 4, "4816", 4);
    collector_clear(&c);
    aempi_cbor_reader_free(r);
}
END_TEST

/* A stream that ends inside a message: nothing for it, no error (more may
 * come), and freeing the reader then frees the partial value (ASan's leak
 * check sees to that). A declared length is believed only as far as bytes
 * arrive: a string of 2^62 bytes, or an array or map of 2^40 items,
 * allocates nothing ahead (malloc of that would fail, or abort under
 * ASan). */
START_TEST(test_incomplete)
{
    check_truncated_vectors();
    static const char *partial[] = {
        "82 1b 0000",          /* inside a head */
        "82 45 6162",          /* inside a string */
        "81 5f 4161 41",       /* inside an indefinite string */
        "a2 6161 01 6162",     /* a key without its value */
        "81 c2",               /* a tag without its item */
        "81 a1 6161 9f 01 bf", /* open containers of all kinds */
        "c2 49 0100",          /* inside a bignum */
        "5b 4000000000000000 616263",
        "7b 4000000000000000 616263",
        "9b 0000010000000000 010203",
        "bb 0000010000000000 6161 01 6162",
        "81 5f 5b 4000000000000000 6162",
    };
    for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
        collector c = {0};
        aemp_cbor_reader *r;
        ck_assert_msg(feed_hex(partial[i], &c, &r) == AEMP_OK, "%s: %s",
                      partial[i], aempi_cbor_reader_error(r));
        ck_assert_uint_eq(c.n, 0);
        aempi_cbor_reader_free(r);
    }
}
END_TEST

START_TEST(test_depth)
{
    enum { MAX = 512 };
    char text[MAX + 2];
    collector c = {0};
    aemp_cbor_reader *r = aempi_cbor_reader_new(collect, &c);
    memset(text, 0x81, MAX - 1);
    text[MAX - 1] = (char)0x80; /* 512 arrays */
    ck_assert_int_eq(aempi_cbor_reader_feed(r, text, MAX), AEMP_OK);
    ck_assert_uint_eq(c.n, 1);
    memset(text, 0x81, MAX);
    text[MAX] = (char)0x80; /* 513 */
    ck_assert_int_eq(aempi_cbor_reader_feed(r, text, MAX + 1), AEMP_EPARSE);
    ck_assert_ptr_nonnull(strstr(aempi_cbor_reader_error(r), "nesting"));
    ck_assert_uint_eq(error_offset(aempi_cbor_reader_error(r)), MAX + MAX);
    collector_clear(&c);
    aempi_cbor_reader_free(r);

    /* an indefinite-length bomb fails as soon as it is too deep */
    char bomb[4096];
    memset(bomb, 0x9f, sizeof(bomb));
    r = aempi_cbor_reader_new(collect, &c);
    ck_assert_int_eq(aempi_cbor_reader_feed(r, bomb, sizeof(bomb)),
                     AEMP_EPARSE);
    ck_assert_uint_eq(error_offset(aempi_cbor_reader_error(r)), MAX);
    aempi_cbor_reader_free(r);

    /* tags do not nest: a long chain of them is one item */
    memset(bomb, 0xc6, sizeof(bomb));
    bomb[sizeof(bomb) - 1] = 0x01;
    r = aempi_cbor_reader_new(collect, &c);
    ck_assert_int_eq(aempi_cbor_reader_feed(r, bomb, sizeof(bomb)), AEMP_OK);
    ck_assert_uint_eq(c.n, 1);
    ck_assert_int_eq(aemp_as_int(c.frames[0]), 1);
    collector_clear(&c);
    aempi_cbor_reader_free(r);
}
END_TEST

START_TEST(test_callback_stop)
{
    collector c = {.stop_at = 2, .stop_rc = 42};
    aemp_cbor_reader *r = aempi_cbor_reader_new(collect, &c);
    ck_assert_int_eq(aempi_cbor_reader_feed(r, "\x81\x01\x81\x02\x81\x03", 6),
                     42);
    ck_assert_uint_eq(c.n, 2);
    ck_assert_ptr_nonnull(strstr(aempi_cbor_reader_error(r), "callback"));
    ck_assert_int_eq(aempi_cbor_reader_feed(r, "\x81\x04", 2), 42);
    ck_assert_uint_eq(c.n, 2);
    collector_clear(&c);
    aempi_cbor_reader_free(r);
}
END_TEST

/* The frame callback may free the reader (a connection closing), also
 * with a partial message and a partial string behind the frame. */
START_TEST(test_free_in_callback)
{
    for (int rc = 0; rc <= 1; rc++) {
        collector c = {.stop_at = 2, .stop_rc = rc};
        aemp_cbor_reader *r = aempi_cbor_reader_new(collect, &c);
        c.free_me = r;
        static const char in[] = "\x81\x01\x81\x02\x82\x03\x81\x45"
                                 "ab";
        ck_assert_int_eq(aempi_cbor_reader_feed(r, in, sizeof(in) - 1), rc);
        ck_assert_uint_eq(c.n, 2);
        collector_clear(&c);
    }
}
END_TEST

static Suite *stream_suite(void)
{
    Suite *s = suite_create(cbor_codec.name);
    suite_add_tcase(s, stream_vectors_tcase());
    TCase *tc = tcase_create("codec");
    tcase_add_test(tc, test_decode);
    tcase_add_test(tc, test_non_array);
    tcase_add_test(tc, test_encode);
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_beyond_unicode);
    tcase_add_test(tc, test_equivalent_keys);
    tcase_add_test(tc, test_bignums);
    tcase_add_test(tc, test_repeated_strings);
    tcase_add_test(tc, test_strings_every_byte);
    tcase_add_test(tc, test_flat_frames);
    suite_add_tcase(s, tc);
    tc = tcase_create("input");
    tcase_add_test(tc, test_garbage);
    tcase_add_test(tc, test_incomplete);
    tcase_add_test(tc, test_depth);
    tcase_add_test(tc, test_callback_stop);
    tcase_add_test(tc, test_free_in_callback);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return stream_harness_main(&cbor_codec, stream_suite);
}
