/* Tests for values (src/value.c) and the JSON codec (value_json_*.c).
 * The expected encodings were checked against Perl's JSON::XS 4.04
 * (encode_json / decode_json). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aemp/error.h"
#include "aemp/value.h"
#include "value_int.h"
#include "value_json.h"

/* Asserts that v encodes (compact, insertion order) to exactly expect. */
#define ck_json(v, expect)                                                  \
    do {                                                                    \
        size_t len_;                                                        \
        char *j_ = aemp_to_json((v), &len_);                                \
        ck_assert_ptr_nonnull(j_);                                          \
        ck_assert_str_eq(j_, (expect));                                     \
        ck_assert_uint_eq(len_, strlen(expect));                            \
        free(j_);                                                           \
    } while (0)

/* Parses in, which must succeed, and checks its encoding. */
static void roundtrip(const char *in, const char *expect)
{
    char *err = NULL;
    aemp_val *v = aemp_from_json(in, strlen(in), &err);
    ck_assert_msg(v != NULL, "parse %s: %s", in, err ? err : "?");
    ck_json(v, expect);
    aemp_unref(v);
}

static aemp_val *parse(const char *in)
{
    aemp_val *v = aemp_from_json(in, strlen(in), NULL);
    ck_assert_msg(v != NULL, "parse %s", in);
    return v;
}

static void parse_fails(const char *in, size_t len)
{
    char *err = NULL;
    aemp_val *v = aemp_from_json(in, len, &err);
    ck_assert_msg(v == NULL, "parsed what should fail: %.*s", (int)len, in);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "at byte") != NULL, "message: %s", err);
    free(err);
}

START_TEST(test_scalars)
{
    aemp_val *v = aemp_null();
    ck_assert_int_eq(aemp_type_of(v), AEMP_NULL);
    ck_assert(aemp_is_null(v) && aemp_is_null(NULL));
    aemp_unref(v);

    v = aemp_bool(5);
    ck_assert_int_eq(aemp_type_of(v), AEMP_BOOL);
    ck_assert_int_eq(aemp_as_int(v), 1);
    aemp_unref(v);

    v = aemp_int(-42);
    ck_assert_int_eq(aemp_type_of(v), AEMP_INT);
    ck_assert_int_eq(aemp_as_int(v), -42);
    ck_assert(aemp_as_double(v) == -42.0);
    ck_assert(!aemp_is_null(v));
    aemp_unref(v);

    v = aemp_uint(7); /* fits int64: stored as AEMP_INT */
    ck_assert_int_eq(aemp_type_of(v), AEMP_INT);
    aemp_unref(v);
    v = aemp_uint(UINT64_MAX);
    ck_assert_int_eq(aemp_type_of(v), AEMP_UINT);
    ck_assert(aemp_as_uint(v) == UINT64_MAX);
    ck_assert(aemp_as_int(v) == INT64_MAX);
    aemp_unref(v);

    v = aemp_double(2.5);
    ck_assert_int_eq(aemp_type_of(v), AEMP_DOUBLE);
    ck_assert(aemp_as_double(v) == 2.5);
    ck_assert_int_eq(aemp_as_int(v), 2);
    aemp_unref(v);

    ck_assert_str_eq(aemp_type_name(AEMP_UINT), "uint");
    ck_assert_str_eq(aemp_type_name(AEMP_MAP), "map");
    ck_assert_int_eq(aemp_type_of(NULL), AEMP_NULL);
}
END_TEST

START_TEST(test_strings)
{
    size_t len;
    aemp_val *v = aemp_strn("a\0b", 3);
    const char *p = aemp_str_ptr(v, &len);
    ck_assert_uint_eq(len, 3);
    ck_assert_mem_eq(p, "a\0b", 4); /* and the NUL after it */
    ck_assert(!aemp_str_eq(v, "a"));
    ck_json(v, "\"a\\u0000b\"");
    aemp_unref(v);

    v = aemp_str("");
    ck_assert_ptr_nonnull(aemp_str_ptr(v, NULL));
    ck_assert_int_eq(aemp_str_ptr(v, NULL)[0], 0);
    aemp_unref(v);

    v = aemp_strf("%s#%d", "node", 42);
    ck_assert(aemp_str_eq(v, "node#42"));
    aemp_unref(v);

    /* long strings are one allocation too */
    char big[5000];
    memset(big, 'x', sizeof(big));
    v = aemp_strn(big, sizeof(big));
    ck_assert_mem_eq(aemp_str_ptr(v, &len), big, sizeof(big));
    ck_assert_uint_eq(len, sizeof(big));
    aemp_unref(v);

    v = aemp_int(1);
    ck_assert_ptr_null(aemp_str_ptr(v, &len));
    ck_assert(!aemp_str_eq(v, "1"));
    aemp_unref(v);
}
END_TEST

START_TEST(test_refcount)
{
    aemp_val *s = aemp_str("shared");
    aemp_val *a = aemp_arrayv(aemp_ref(s), aemp_ref(s), NULL);
    ck_assert_uint_eq(aemp_array_len(a), 2);
    ck_assert_ptr_eq(aemp_array_at(a, 0), s);
    aemp_unref(a);
    ck_assert(aemp_str_eq(s, "shared")); /* still ours (ASan would see) */
    ck_assert_ptr_eq(aemp_ref(NULL), NULL);
    aemp_unref(NULL);
    aemp_unref(s);

    /* a deep copy shares nothing */
    aemp_val *m = parse("{\"k\":[1,\"x\",{\"y\":null}],\"d\":0.5}");
    aemp_val *c = aemp_copy(m);
    ck_assert(aemp_equal(m, c));
    ck_assert_ptr_ne(aemp_map_get(m, "k"), aemp_map_get(c, "k"));
    aemp_array_push(aemp_map_get(c, "k"), aemp_int(2));
    ck_assert(!aemp_equal(m, c));
    ck_json(m, "{\"k\":[1,\"x\",{\"y\":null}],\"d\":0.5}");
    aemp_unref(m);
    aemp_unref(c);
}
END_TEST

START_TEST(test_arrays)
{
    aemp_val *a = aemp_array();
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(aemp_array_push(a, aemp_int(i)), AEMP_OK);
    ck_assert_uint_eq(aemp_array_len(a), 100);
    ck_assert_int_eq(aemp_as_int(aemp_array_at(a, 99)), 99);
    ck_assert_ptr_null(aemp_array_at(a, 100));

    aemp_val *t = aemp_array_take(a, 10);
    ck_assert_int_eq(aemp_as_int(t), 10);
    aemp_unref(t);
    ck_assert_uint_eq(aemp_array_len(a), 99);
    ck_assert_int_eq(aemp_as_int(aemp_array_at(a, 10)), 11);

    aemp_array_shift(a, 5);
    ck_assert_uint_eq(aemp_array_len(a), 94);
    ck_assert_int_eq(aemp_as_int(aemp_array_at(a, 0)), 5);
    aemp_array_shift(a, 1000);
    ck_assert_uint_eq(aemp_array_len(a), 0);
    ck_json(a, "[]");
    aemp_unref(a);

    /* arrayn with a failed constructor fails and drops the others */
    aemp_val *items[3] = {aemp_int(1), NULL, aemp_str("x")};
    ck_assert_ptr_null(aemp_arrayn(3, items));
    aemp_val *ok[2] = {aemp_int(1), aemp_str("x")};
    a = aemp_arrayn(2, ok);
    ck_json(a, "[1,\"x\"]");

    /* push onto a non-array fails and takes the item */
    aemp_val *n = aemp_int(3);
    ck_assert_int_eq(aemp_array_push(n, aemp_int(4)), AEMP_EINVAL);
    ck_assert_int_eq(aemp_array_push(a, NULL), AEMP_ENOMEM);
    aemp_unref(n);
    aemp_unref(a);
}
END_TEST

/* Arrays made with their length known keep the items in their own
 * allocation; they must grow out of it, lose items and copy like any
 * other (the sanitizer build watches the memory). */
START_TEST(test_arrays_sized)
{
    for (int n = 1; n <= 10; n++) {
        aemp_val *a = aemp_arrayv(aemp_int(0), n > 1 ? aemp_int(1) : NULL,
                                  NULL);
        for (int i = (int)aemp_array_len(a); i < n; i++)
            ck_assert_int_eq(aemp_array_push(a, aemp_int(i)), AEMP_OK);
        aemp_val *c = aemp_copy(a);
        for (int i = n; i < 40; i++)
            ck_assert_int_eq(aemp_array_push(a, aemp_int(i)), AEMP_OK);
        aemp_val *t = aemp_array_take(a, 0);
        ck_assert_int_eq(aemp_as_int(t), 0);
        aemp_unref(t);
        aemp_array_shift(a, 1);
        ck_assert_uint_eq(aemp_array_len(a), 38);
        for (int i = 0; i < 38; i++)
            ck_assert_int_eq(aemp_as_int(aemp_array_at(a, (size_t)i)),
                             i + 2);
        ck_assert_uint_eq(aemp_array_len(c), (size_t)n);
        for (int i = 0; i < n; i++)
            ck_assert_int_eq(aemp_as_int(aemp_array_at(c, (size_t)i)), i);
        aemp_unref(a);
        aemp_unref(c);
    }
    aemp_val *items[8];
    for (int i = 0; i < 8; i++)
        items[i] = aemp_int(i);
    aemp_val *a = aemp_arrayn(8, items);
    ck_assert_int_eq(aemp_array_push(a, aemp_str("x")), AEMP_OK);
    ck_json(a, "[0,1,2,3,4,5,6,7,\"x\"]");
    aemp_unref(a);
}
END_TEST

/* A node's pool of frame arrays: an array comes back empty and is handed
 * out again; one still referenced, grown out of its room, or past the
 * pool's cap is freed as usual (the sanitizer build checks the memory). */
START_TEST(test_pool)
{
    aemp_val_pool pool = {0};
    aemp_val *a = aempi_pool_array(&pool, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(aemp_array_push(a, aemp_str("x")), AEMP_OK);
    aempi_pool_drop(&pool, a);
    ck_assert_uint_eq(pool.n, 1);
    aemp_val *b = aempi_pool_array(&pool, 2);
    ck_assert_ptr_eq(a, b);
    ck_assert_uint_eq(pool.n, 0);
    ck_assert_uint_eq(aemp_array_len(b), 0);
    ck_json(b, "[]");

    /* still referenced elsewhere: it stays as it is */
    aemp_array_push(b, aemp_int(7));
    aemp_ref(b);
    aempi_pool_drop(&pool, b);
    ck_assert_uint_eq(pool.n, 0);
    ck_json(b, "[7]");
    /* grown past its room: freed, not kept */
    for (int i = 0; i < 10; i++)
        aemp_array_push(b, aemp_int(i));
    aempi_pool_drop(&pool, b);
    ck_assert_uint_eq(pool.n, 0);
    /* more than it holds, or too large, or not arrays */
    aemp_val *many[AEMP_POOL_MAX + 2];
    for (size_t i = 0; i < AEMP_POOL_MAX + 2; i++)
        many[i] = aempi_pool_array(&pool, i % (AEMP_POOL_ITEMS + 1));
    for (size_t i = 0; i < AEMP_POOL_MAX + 2; i++)
        aempi_pool_drop(&pool, many[i]);
    ck_assert_uint_eq(pool.n, AEMP_POOL_MAX);
    aempi_pool_drop(&pool, aempi_pool_array(&pool, AEMP_POOL_ITEMS + 1));
    aempi_pool_drop(&pool, aemp_str("not an array"));
    aempi_pool_drop(&pool, NULL);
    aempi_pool_clear(&pool);
    ck_assert_uint_eq(pool.n, 0);
    ck_assert_ptr_null(pool.free);
    /* without a pool: plain arrays, plain unref */
    a = aempi_pool_array(NULL, 2);
    ck_assert_int_eq(aemp_array_push(a, aemp_int(1)), AEMP_OK);
    aempi_pool_drop(NULL, a);
}
END_TEST

START_TEST(test_map_basic)
{
    aemp_val *m = aemp_map();
    ck_assert_int_eq(aemp_map_set(m, "b", aemp_int(1)), AEMP_OK);
    ck_assert_int_eq(aemp_map_set(m, "a", aemp_int(2)), AEMP_OK);
    ck_assert_int_eq(aemp_map_setn(m, "k\0z", 3, aemp_int(3)), AEMP_OK);
    ck_assert_uint_eq(aemp_map_len(m), 3);
    ck_json(m, "{\"b\":1,\"a\":2,\"k\\u0000z\":3}");

    /* replace keeps the key's place and its uniqueness */
    ck_assert_int_eq(aemp_map_set(m, "b", aemp_str("new")), AEMP_OK);
    ck_assert_uint_eq(aemp_map_len(m), 3);
    ck_json(m, "{\"b\":\"new\",\"a\":2,\"k\\u0000z\":3}");
    ck_assert(aemp_str_eq(aemp_map_get(m, "b"), "new"));
    ck_assert_ptr_null(aemp_map_get(m, "k")); /* "k" is not "k\0z" */
    ck_assert_int_eq(aemp_as_int(aemp_map_getn(m, "k\0z", 3)), 3);

    size_t klen;
    ck_assert_str_eq(aemp_map_key_at(m, 1, &klen), "a");
    ck_assert_uint_eq(klen, 1);
    ck_assert_int_eq(aemp_as_int(aemp_map_value_at(m, 1)), 2);
    ck_assert_ptr_null(aemp_map_key_at(m, 3, NULL));

    ck_assert_int_eq(aemp_map_del(m, "b", 1), 1);
    ck_assert_int_eq(aemp_map_del(m, "b", 1), 0);
    ck_json(m, "{\"a\":2,\"k\\u0000z\":3}");

    char *c = aemp_to_json_canonical(m, NULL);
    ck_assert_str_eq(c, "{\"a\":2,\"k\\u0000z\":3}");
    free(c);
    ck_assert_int_eq(aemp_map_set(m, "", aemp_null()), AEMP_OK);
    c = aemp_to_json_canonical(m, NULL);
    ck_assert_str_eq(c, "{\"\":null,\"a\":2,\"k\\u0000z\":3}");
    free(c);

    /* set on a non-map fails and takes the value */
    aemp_val *a = aemp_array();
    ck_assert_int_eq(aemp_map_set(a, "x", aemp_int(1)), AEMP_EINVAL);
    ck_assert_int_eq(aemp_map_set(m, "x", NULL), AEMP_ENOMEM);
    ck_assert_ptr_null(aemp_map_get(a, "x"));
    aemp_unref(a);
    aemp_unref(m);
}
END_TEST

/* Enough keys for the hash index, then deletes that shrink the map back
 * below it; order and lookups must hold all along. */
/* A key is a Perl string: bytes that are not UTF-8 are the characters of
 * those bytes, so "\xe9" and "\xc3\xa9" (é) are one key, held as UTF-8. */
START_TEST(test_map_byte_keys)
{
    aemp_val *m = aemp_map();
    ck_assert_int_eq(aemp_map_set(m, "\xe9", aemp_int(1)), AEMP_OK);
    ck_assert_int_eq(aemp_map_set(m, "\xc3\xa9", aemp_int(2)), AEMP_OK);
    ck_assert_uint_eq(aemp_map_len(m), 1);
    ck_assert_str_eq(aemp_map_key_at(m, 0, NULL), "\xc3\xa9");
    ck_assert_int_eq(aemp_as_int(aemp_map_get(m, "\xe9")), 2);
    ck_assert_int_eq(aemp_as_int(aemp_map_get(m, "\xc3\xa9")), 2);
    ck_json(m, "{\"\xc3\xa9\":2}");
    ck_assert_int_eq(aemp_map_del(m, "\xe9", 1), 1);
    ck_assert_uint_eq(aemp_map_len(m), 0);
    /* overlong and cut-short sequences are bytes too */
    aemp_map_set(m, "\xc1\x81", aemp_int(1));
    aemp_map_set(m, "\xc3\x81\xc2\x81", aemp_int(2));
    aemp_map_set(m, "\xe2\x98", aemp_int(3));
    aemp_map_set(m, "\xc3\xa2\xc2\x98", aemp_int(4));
    ck_assert_uint_eq(aemp_map_len(m), 2);
    ck_json(m, "{\"\xc3\x81\xc2\x81\":2,\"\xc3\xa2\xc2\x98\":4}");
    /* a copy keeps one key, and equality sees the same map */
    aemp_val *c = aemp_copy(m);
    ck_assert(aemp_equal(m, c));
    aemp_unref(c);
    aemp_unref(m);
}
END_TEST

START_TEST(test_map_many)
{
    enum { N = 5000 };
    aemp_val *m = aemp_map();
    char key[32];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "node%d#port", i);
        ck_assert_int_eq(aemp_map_set(m, key, aemp_int(i)), AEMP_OK);
    }
    for (int i = 0; i < N; i += 7) { /* replacing adds nothing */
        snprintf(key, sizeof(key), "node%d#port", i);
        ck_assert_int_eq(aemp_map_set(m, key, aemp_int(-i)), AEMP_OK);
    }
    ck_assert_uint_eq(aemp_map_len(m), N);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "node%d#port", i);
        ck_assert_int_eq(aemp_as_int(aemp_map_get(m, key)),
                         i % 7 ? i : -i);
        size_t klen;
        ck_assert_str_eq(aemp_map_key_at(m, (size_t)i, &klen), key);
    }
    ck_assert_ptr_null(aemp_map_get(m, "node5000#port"));

    /* delete all odd keys, then all but the first three even ones */
    for (int i = 1; i < N; i += 2) {
        snprintf(key, sizeof(key), "node%d#port", i);
        ck_assert_int_eq(aemp_map_del(m, key, strlen(key)), 1);
    }
    ck_assert_uint_eq(aemp_map_len(m), N / 2);
    for (int i = 0; i < N / 2; i++) {
        snprintf(key, sizeof(key), "node%d#port", 2 * i);
        ck_assert_str_eq(aemp_map_key_at(m, (size_t)i, NULL), key);
        ck_assert_ptr_nonnull(aemp_map_get(m, key));
        snprintf(key, sizeof(key), "node%d#port", 2 * i + 1);
        ck_assert_ptr_null(aemp_map_get(m, key));
    }
    for (int i = 6; i < N; i += 2) {
        snprintf(key, sizeof(key), "node%d#port", i);
        ck_assert_int_eq(aemp_map_del(m, key, strlen(key)), 1);
    }
    ck_json(m, "{\"node0#port\":0,\"node2#port\":2,\"node4#port\":4}");
    ck_assert_int_eq(aemp_map_set(m, "node1#port", aemp_int(1)), AEMP_OK);
    char *c = aemp_to_json_canonical(m, NULL);
    ck_assert_str_eq(c, "{\"node0#port\":0,\"node1#port\":1,"
                        "\"node2#port\":2,\"node4#port\":4}");
    free(c);
    aemp_unref(m);
}
END_TEST

/* Sets and deletes in a pseudo-random order against a model of the map
 * (its keys in insertion order): deletes update the hash index in place,
 * so lookups and the order must survive long churn of an indexed map. */
START_TEST(test_map_churn)
{
    enum { KEYS = 300, STEPS = 20000 };
    int order[KEYS], n = 0; /* the model: live keys, oldest first */
    aemp_val *m = aemp_map();
    uint32_t r = 12345;
    char key[32];
    for (int step = 0; step < STEPS; step++) {
        r = r * 1103515245u + 12345u;
        int k = (int)((r >> 8) % KEYS);
        snprintf(key, sizeof(key), "k%d", k);
        int at = -1;
        for (int i = 0; i < n; i++)
            if (order[i] == k)
                at = i;
        if (at < 0) {
            ck_assert_int_eq(aemp_map_set(m, key, aemp_int(k)), AEMP_OK);
            order[n++] = k;
        } else {
            ck_assert_int_eq(aemp_map_del(m, key, strlen(key)), 1);
            memmove(order + at, order + at + 1,
                    (size_t)(n - at - 1) * sizeof(int));
            n--;
        }
        if (step % 97)
            continue;
        ck_assert_uint_eq(aemp_map_len(m), (size_t)n);
        for (int i = 0; i < n; i++) {
            snprintf(key, sizeof(key), "k%d", order[i]);
            ck_assert_str_eq(aemp_map_key_at(m, (size_t)i, NULL), key);
            ck_assert_int_eq(aemp_as_int(aemp_map_get(m, key)), order[i]);
        }
        for (int j = 0; j < KEYS; j++) {
            int live = 0;
            for (int i = 0; i < n; i++)
                live |= order[i] == j;
            snprintf(key, sizeof(key), "k%d", j);
            ck_assert_int_eq(aemp_map_get(m, key) != NULL, live);
        }
    }
    aemp_unref(m);
}
END_TEST

START_TEST(test_equal)
{
    struct {
        const char *a, *b;
        int eq;
    } cases[] = {
        {"11", "\"11\"", 0},      /* Perl's database: 11 ne "11" */
        {"11", "11", 1},
        {"2.0", "2", 1},          /* %.15g prints 2.0 as 2 */
        {"2.5", "2", 0},
        {"1e15", "1000000000000000", 0}, /* 1e+15 vs 1000000000000000 */
        {"-0.0", "0", 0},         /* -0 vs 0 */
        {"-0", "0", 1},           /* an integer -0 is 0 */
        {"true", "1", 0},
        {"true", "true", 1},
        {"false", "true", 0},
        {"null", "null", 1},
        {"null", "false", 0},
        {"\"\"", "null", 0},
        {"18446744073709551615", "18446744073709551615", 1},
        {"18446744073709551615", "-1", 0},
        {"[1,[2]]", "[1,[2]]", 1},
        {"[1,[2]]", "[1,[2],3]", 0},
        {"[]", "{}", 0},
        {"{\"a\":1,\"b\":[2]}", "{\"b\":[2],\"a\":1}", 1},
        {"{\"a\":1,\"b\":[2]}", "{\"b\":[2],\"a\":2}", 0},
        {"{\"a\":1}", "{\"a\":1,\"b\":1}", 0},
        {"{\"a\":1}", "{\"b\":1}", 0},
        {"\"gr\\u00fc\\u00dfe\"", "\"gr\xc3\xbc\xc3\x9f" "e\"", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        aemp_val *a = parse(cases[i].a), *b = parse(cases[i].b);
        ck_assert_msg(aemp_equal(a, b) == cases[i].eq, "%s vs %s",
                      cases[i].a, cases[i].b);
        ck_assert_msg(aemp_equal(b, a) == cases[i].eq, "%s vs %s",
                      cases[i].b, cases[i].a);
        aemp_unref(a);
        aemp_unref(b);
    }

    aemp_val *x = aemp_double(0.1 + 0.2), *y = aemp_double(0.3);
    ck_assert(aemp_equal(x, y)); /* both print as 0.3 */
    aemp_unref(x);
    aemp_unref(y);
    x = aemp_double(NAN);
    y = aemp_null();
    ck_assert(!aemp_equal(x, y)); /* Perl would send nan, not null */
    ck_assert(aemp_equal(NULL, y));
    aemp_unref(x);
    aemp_unref(y);

    /* a byte string equals the character string of the same characters,
     * as in Perl; in map keys too */
    x = aemp_str("\xe9t\xe9");        /* not UTF-8: Latin-1 bytes */
    y = aemp_str("\xc3\xa9t\xc3\xa9"); /* UTF-8 */
    ck_assert(aemp_equal(x, y) && aemp_equal(y, x));
    aemp_val *mx = aemp_map(), *my = aemp_map();
    aemp_map_set(mx, "\xe9", aemp_int(1));
    aemp_map_set(my, "\xc3\xa9", aemp_int(1));
    ck_assert(aemp_equal(mx, my) && aemp_equal(my, mx));
    aemp_map_set(my, "\xc3\xa9", aemp_int(2));
    ck_assert(!aemp_equal(mx, my) && !aemp_equal(my, mx));
    aemp_unref(mx);
    aemp_unref(my);
    aemp_unref(x);
    aemp_unref(y);
    x = aemp_str("\xc3\xa9");
    y = aemp_str("\xc3");
    ck_assert(!aemp_equal(x, y) && !aemp_equal(y, x));
    aemp_unref(x);
    aemp_unref(y);
}
END_TEST

START_TEST(test_truth)
{
    struct {
        const char *json;
        int truth;
    } cases[] = {
        {"null", 0},  {"false", 0},  {"true", 1},   {"0", 0},
        {"1", 1},     {"-1", 1},     {"0.0", 0},    {"-0.0", 0},
        {"0.5", 1},   {"\"\"", 0},   {"\"0\"", 0},  {"\"0.0\"", 1},
        {"\"00\"", 1}, {"\" \"", 1}, {"\"a\"", 1},  {"[]", 1},
        {"{}", 1},    {"18446744073709551615", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        aemp_val *v = parse(cases[i].json);
        ck_assert_msg(aemp_is_true(v) == cases[i].truth, "%s",
                      cases[i].json);
        aemp_unref(v);
    }
    ck_assert(!aemp_is_true(NULL));
    aemp_val *v = aemp_double(NAN);
    ck_assert(aemp_is_true(v));
    aemp_unref(v);
}
END_TEST

START_TEST(test_conversions)
{
    struct {
        const char *s;
        int64_t i;
        double d;
    } cases[] = {
        {"12", 12, 12},      {" 12abc", 12, 12}, {"-7", -7, -7},
        {"1.9", 1, 1.9},     {"1e3", 1000, 1000}, {"abc", 0, 0},
        {"0x10", 0, 0},      {"", 0, 0},
        {"99999999999999999999", INT64_MAX, 1e20},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        aemp_val *v = aemp_str(cases[i].s);
        ck_assert_msg(aemp_as_int(v) == cases[i].i, "%s", cases[i].s);
        ck_assert_msg(aemp_as_double(v) == cases[i].d, "%s", cases[i].s);
        aemp_unref(v);
    }
    aemp_val *v = aemp_str("18446744073709551615");
    ck_assert(aemp_as_uint(v) == UINT64_MAX);
    aemp_unref(v);
    v = aemp_double(1e30);
    ck_assert(aemp_as_int(v) == INT64_MAX);
    ck_assert(aemp_as_uint(v) == UINT64_MAX);
    aemp_unref(v);
    v = aemp_double(-3.7);
    ck_assert(aemp_as_int(v) == -3);
    aemp_unref(v);
    v = aemp_array();
    ck_assert(aemp_as_int(v) == 0 && aemp_as_double(v) == 0);
    aemp_unref(v);
}
END_TEST

START_TEST(test_escapes)
{
    static const char raw[] = "q\" b\\ s/ t\t n\n r\r f\f b\b z\0 a\a"
                              " e\x1b us\x1f del\x7f sp ~";
    aemp_val *v = aemp_strn(raw, sizeof(raw) - 1);
    ck_json(v, "\"q\\\" b\\\\ s/ t\\t n\\n r\\r f\\f b\\b z\\u0000"
               " a\\u0007 e\\u001b us\\u001f del\x7f sp ~\"");
    aemp_unref(v);

    /* UTF-8 passes through, never \u-escaped */
    v = aemp_str("gr\xc3\xbc\xc3\x9f" "e \xe2\x98\xba \xf0\x9f\x98\x80");
    ck_json(v, "\"gr\xc3\xbc\xc3\x9f" "e \xe2\x98\xba \xf0\x9f\x98\x80\"");
    aemp_unref(v);

    /* surrogates in UTF-8 form pass, as JSON::XS re-encodes them */
    v = aemp_str("\xed\xa0\x80");
    ck_json(v, "\"\xed\xa0\x80\"");
    aemp_unref(v);

    /* escapes in input decode to UTF-8 */
    roundtrip("[\"\\u00e9\\u263a\\ud83d\\ude00\\/\\u0041\"]",
              "[\"\xc3\xa9\xe2\x98\xba\xf0\x9f\x98\x80/A\"]");
}
END_TEST

/* JSON::XS's escaping, a byte at a time: what the writer's word-wise
 * path must match. */
static size_t ref_escape(const unsigned char *s, size_t len, int utf8,
                         char *out)
{
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    *o++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned c = s[i];
        const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\"
                        : c == '\b' ? "\\b" : c == '\f' ? "\\f"
                        : c == '\n' ? "\\n" : c == '\r' ? "\\r"
                        : c == '\t' ? "\\t" : NULL;
        if (e) {
            memcpy(o, e, 2);
            o += 2;
        } else if (c < 0x20) {
            o += sprintf(o, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
        } else if (c >= 0x80 && !utf8) {
            *o++ = (char)(0xc0 | c >> 6);
            *o++ = (char)(0x80 | (c & 0x3f));
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    return (size_t)(o - out);
}

/* Every byte value at every place in strings of 1 to 24 bytes (the
 * writer looks at 8 bytes at a time, then at the rest one by one), in a
 * UTF-8 string and in a byte string; and as a frame's port id. */
START_TEST(test_escapes_every_byte)
{
    unsigned char s[24];
    char expect[2 + 24 * 6 + 1];
    for (size_t len = 1; len <= sizeof(s); len++) {
        for (unsigned c = 0; c < 256; c++) {
            for (size_t at = 0; at < len; at++) {
                memset(s, 'a', len);
                s[at] = (unsigned char)c;
                if (c >= 0x80 && at + 1 < len) /* also a UTF-8 string */
                    s[at + 1] = 0x80;
                aemp_val *v = aemp_strn((const char *)s, len);
                size_t n = ref_escape(s, len, aempi_str_is_utf8(v), expect);
                size_t got_len;
                char *got = aemp_to_json(v, &got_len);
                ck_assert_msg(got && got_len == n && !memcmp(got, expect, n),
                              "byte %02x at %zu of %zu", c, at, len);
                free(got);
                aemp_unref(v);
                if (!c)
                    continue; /* a port id is a C string */
                char portid[sizeof(s) + 1];
                memcpy(portid, s, len);
                portid[len] = 0;
                aemp_buf b = AEMP_BUF_INIT;
                aemp_val *msg = aemp_arrayv(aemp_int(1), NULL);
                ck_assert_int_eq(aempi_json_write_frame(&b, portid, msg), 0);
                ck_assert_msg(b.len == n + 4 && b.p[0] == '[' &&
                                  !memcmp(b.p + 1, expect, n) &&
                                  !memcmp(b.p + 1 + n, ",1]", 3),
                              "port id: byte %02x at %zu of %zu", c, at, len);
                aempi_buf_free(&b);
                aemp_unref(msg);
            }
        }
    }
}
END_TEST

/* A string that is not UTF-8 is a Perl byte string: each byte is written
 * as the character of that code point. */
START_TEST(test_byte_strings)
{
    char bytes[128], expect[2 + 256 + 1], *p = expect;
    *p++ = '"';
    for (int i = 0; i < 128; i++) {
        bytes[i] = (char)(0x80 + i);
        *p++ = (char)(0xc0 | (0x80 + i) >> 6);
        *p++ = (char)(0x80 | (i & 0x3f));
    }
    *p++ = '"';
    *p = 0;
    aemp_val *v = aemp_strn(bytes, sizeof(bytes));
    ck_json(v, expect);

    /* it comes back as UTF-8: other bytes, same characters */
    aemp_val *back = aemp_from_json(expect, strlen(expect), NULL);
    ck_assert_ptr_nonnull(back);
    size_t len;
    aemp_str_ptr(back, &len);
    ck_assert_uint_eq(len, 256);
    ck_assert(aemp_equal(v, back));
    ck_json(back, expect);
    aemp_unref(back);
    aemp_unref(v);

    /* mixed: ASCII stays, a stray byte makes the whole string bytes */
    v = aemp_str("a\xc3\xa9\xff\n");
    ck_json(v, "\"a\xc3\x83\xc2\xa9\xc3\xbf\\n\"");
    aemp_unref(v);
    /* overlong forms are not UTF-8 either */
    v = aemp_str("\xc0\x80");
    ck_json(v, "\"\xc3\x80\xc2\x80\"");
    aemp_unref(v);
    v = aemp_str("\xe0\x9f\xbf"); /* U+07FF in three bytes */
    ck_json(v, "\"\xc3\xa0\xc2\x9f\xc2\xbf\"");
    aemp_unref(v);
    v = aemp_str("\xf0\x8f\xbf\xbf"); /* U+FFFF in four bytes */
    ck_json(v, "\"\xc3\xb0\xc2\x8f\xc2\xbf\xc2\xbf\"");
    aemp_unref(v);
    v = aemp_str("\xe0\xa0\x80\xf0\x90\x80\x80"); /* the shortest: fine */
    ck_json(v, "\"\xe0\xa0\x80\xf0\x90\x80\x80\"");
    aemp_unref(v);
    v = aemp_str("\xe2\x98"); /* cut short */
    ck_json(v, "\"\xc3\xa2\xc2\x98\"");
    aemp_unref(v);
    v = aemp_str("\xf4\x8f\xbf\xbf"); /* U+10FFFF is */
    ck_json(v, "\"\xf4\x8f\xbf\xbf\"");
    aemp_unref(v);
}
END_TEST

/* Perl strings hold code points beyond U+10FFFF, in Perl's extended
 * UTF-8 (what CBOR::XS sends in a text string). They are characters, not
 * bytes: JSON carries them raw, which JSON::XS decodes to the same code
 * points (its encoder refuses them, its decoder does not). Overlong forms
 * and code points above 2^63 - 1 are not UTF-8: bytes. (The byte
 * sequences are what CBOR::XS writes for chr of each code point.) */
static const char *const beyond_unicode[] = {
    "\xf4\x90\x80\x80",                 /* U+110000 */
    "\xf7\xbf\xbf\xbf",                 /* U+1FFFFF */
    "\xf8\x88\x80\x80\x80",             /* U+200000 */
    "\xfb\xbf\xbf\xbf\xbf",             /* U+3FFFFFF */
    "\xfc\x84\x80\x80\x80\x80",         /* U+4000000 */
    "\xfd\xbf\xbf\xbf\xbf\xbf",         /* U+7FFFFFFF */
    "\xfe\x82\x80\x80\x80\x80\x80",     /* U+80000000 */
    "\xfe\xbf\xbf\xbf\xbf\xbf\xbf",     /* U+FFFFFFFFF */
    "\xff\x80\x80\x80\x80\x80\x81\x80\x80\x80\x80\x80\x80", /* 2^36 */
    "\xff\x80\x87\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf", /* 2^63-1 */
};

START_TEST(test_beyond_unicode)
{
    for (size_t i = 0; i < sizeof(beyond_unicode) / sizeof(*beyond_unicode);
         i++) {
        const char *s = beyond_unicode[i];
        char json[64];
        snprintf(json, sizeof(json), "[\"%s\"]", s);
        aemp_val *v = aemp_arrayv(aemp_str(s), NULL);
        ck_json(v, json); /* raw, as JSON::XS decodes it */
        aemp_val *back = parse(json);
        ck_assert(aemp_str_eq(aemp_array_at(back, 0), s));
        ck_assert(aemp_equal(v, back));
        aemp_unref(back);
        aemp_unref(v);
    }
    static const char *const bytes[][2] = {
        /* U+1FFFFF in five bytes: overlong */
        {"\xf8\x87\xbf\xbf\xbf", "\xc3\xb8\xc2\x87\xc2\xbf\xc2\xbf\xc2\xbf"},
        /* U+3FFFFFF in six */
        {"\xfc\x83\xbf\xbf\xbf\xbf",
         "\xc3\xbc\xc2\x83\xc2\xbf\xc2\xbf\xc2\xbf\xc2\xbf"},
        /* U+7FFFFFFF in seven */
        {"\xfe\x81\xbf\xbf\xbf\xbf\xbf",
         "\xc3\xbe\xc2\x81\xc2\xbf\xc2\xbf\xc2\xbf\xc2\xbf\xc2\xbf"},
        /* 2^36 - 1 in thirteen */
        {"\xff\x80\x80\x80\x80\x80\x80\xbf\xbf\xbf\xbf\xbf\xbf",
         "\xc3\xbf\xc2\x80\xc2\x80\xc2\x80\xc2\x80\xc2\x80\xc2\x80\xc2\xbf"
         "\xc2\xbf\xc2\xbf\xc2\xbf\xc2\xbf\xc2\xbf"},
        /* 2^63: more than an IV holds */
        {"\xff\x80\x88\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80",
         "\xc3\xbf\xc2\x80\xc2\x88\xc2\x80\xc2\x80\xc2\x80\xc2\x80\xc2\x80"
         "\xc2\x80\xc2\x80\xc2\x80\xc2\x80\xc2\x80"},
        /* cut short */
        {"\xf8\x88\x80\x80", "\xc3\xb8\xc2\x88\xc2\x80\xc2\x80"},
    };
    for (size_t i = 0; i < sizeof(bytes) / sizeof(*bytes); i++) {
        char in[64], out[128];
        aemp_val *v = aemp_str(bytes[i][0]);
        snprintf(out, sizeof(out), "\"%s\"", bytes[i][1]);
        ck_json(v, out);
        aemp_unref(v);
        /* and JSON::XS refuses such bytes in a text: so do we */
        snprintf(in, sizeof(in), "[\"%s\"]", bytes[i][0]);
        parse_fails(in, strlen(in));
    }
    /* overlong forms below U+10FFFF too, and as keys */
    parse_fails("[\"\xc0\xaf\"]", 6);
    parse_fails("[\"\xf0\x8f\xbf\xbf\"]", 8);
    parse_fails("{\"\xe0\x80\x80\":1}", 9);
    /* characters sort by code point: U+10FFFF < U+110000 < U+200000 */
    aemp_val *m = aemp_map();
    aemp_map_set(m, "\xf8\x88\x80\x80\x80", aemp_int(3));
    aemp_map_set(m, "\xf4\x90\x80\x80", aemp_int(2));
    aemp_map_set(m, "\xf4\x8f\xbf\xbf", aemp_int(1));
    char *j = aemp_to_json_canonical(m, NULL);
    ck_assert_str_eq(j, "{\"\xf4\x8f\xbf\xbf\":1,\"\xf4\x90\x80\x80\":2,"
                        "\"\xf8\x88\x80\x80\x80\":3}");
    free(j);
    aemp_unref(m);
}
END_TEST

START_TEST(test_doubles)
{
    struct {
        double d;
        const char *json;
    } cases[] = {
        {0.5, "0.5"},
        {-2.25, "-2.25"},
        {1e300, "1e+300"},
        {3.14159265358979323846, "3.14159265358979"},
        {1.5e-10, "1.5e-10"},
        {2.0, "2"},
        {1e15, "1e+15"},
        {123456789012345.0, "123456789012345"},
        {0.1 + 0.2, "0.3"},
        {1.0 / 3, "0.333333333333333"},
        {3e-5, "3e-05"},
        {-0.0, "-0"},
        {INFINITY, "null"}, /* JSON::XS: inf, see value_json_write.c */
        {-INFINITY, "null"},
        {NAN, "null"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        aemp_val *v = aemp_double(cases[i].d);
        ck_json(v, cases[i].json);
        aemp_unref(v);
    }
    roundtrip("[1.0,1e2,-0.0,0.1,1E400,2.5e-3]", "[1,100,-0,0.1,null,0.0025]");
}
END_TEST

START_TEST(test_integers)
{
    aemp_val *v = parse("[18446744073709551615,-9223372036854775808,"
                        "9223372036854775807,9223372036854775808,-0,"
                        "9007199254740993]");
    ck_assert_int_eq(aemp_type_of(aemp_array_at(v, 0)), AEMP_UINT);
    ck_assert(aemp_as_uint(aemp_array_at(v, 0)) == UINT64_MAX);
    ck_assert_int_eq(aemp_type_of(aemp_array_at(v, 1)), AEMP_INT);
    ck_assert(aemp_as_int(aemp_array_at(v, 1)) == INT64_MIN);
    ck_assert_int_eq(aemp_type_of(aemp_array_at(v, 2)), AEMP_INT);
    ck_assert(aemp_as_int(aemp_array_at(v, 2)) == INT64_MAX);
    ck_assert_int_eq(aemp_type_of(aemp_array_at(v, 3)), AEMP_UINT);
    ck_assert_int_eq(aemp_type_of(aemp_array_at(v, 4)), AEMP_INT);
    ck_assert(aemp_as_int(aemp_array_at(v, 5)) == 9007199254740993LL);
    ck_json(v, "[18446744073709551615,-9223372036854775808,"
               "9223372036854775807,9223372036854775808,0,"
               "9007199254740993]");
    aemp_unref(v);

    v = aemp_int(INT64_MIN);
    ck_json(v, "-9223372036854775808");
    aemp_unref(v);
    v = aemp_uint(UINT64_MAX);
    ck_json(v, "18446744073709551615");
    aemp_unref(v);
    v = aemp_int(0);
    ck_json(v, "0");
    aemp_unref(v);
}
END_TEST

/* Integers beyond 64 bits: JSON::XS keeps their digits as a string (it
 * would try a double only for at most 15 digits, which always fit). */
START_TEST(test_big_integers)
{
    const char *big[] = {
        "123456789012345678901234567890",
        "100000000000000000000",
        "18446744073709551616",
        "-9223372036854775809",
        "-18446744073709551616",
    };
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
        char in[64], out[64];
        snprintf(in, sizeof(in), "[%s]", big[i]);
        snprintf(out, sizeof(out), "[\"%s\"]", big[i]);
        aemp_val *v = parse(in);
        ck_assert_int_eq(aemp_type_of(aemp_array_at(v, 0)), AEMP_STRING);
        ck_assert(aemp_str_eq(aemp_array_at(v, 0), big[i]));
        ck_json(v, out);
        aemp_unref(v);
    }
    /* with a fraction or exponent it is a double, precision lost */
    roundtrip("[100000000000000000000.0,1e20]", "[1e+20,1e+20]");
}
END_TEST

/* Bignums (Perl's Math::BigInt): strings of digits to C, numbers on the
 * wire. */
START_TEST(test_bignum)
{
    aemp_val *v = aemp_bignum("-123456789012345678901234567890");
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(aemp_type_of(v), AEMP_STRING);
    ck_assert(aemp_is_bignum(v));
    ck_assert(aemp_str_eq(v, "-123456789012345678901234567890"));
    ck_json(v, "-123456789012345678901234567890"); /* a number, bare */
    ck_assert_int_eq(aemp_as_int(v), INT64_MIN);        /* clamped */
    aemp_val *c = aemp_copy(v);
    ck_assert(aemp_is_bignum(c) && aemp_equal(v, c));
    aemp_unref(c);
    /* not the plain string of the same digits: JSON quotes that */
    c = aemp_str("-123456789012345678901234567890");
    ck_assert(!aemp_is_bignum(c));
    ck_assert(!aemp_equal(v, c) && !aemp_equal(c, v));
    aemp_unref(c);
    aemp_unref(v);
    /* equal to an integer of the same digits, as written */
    v = aemp_bignum("18446744073709551615");
    c = aemp_uint(UINT64_MAX);
    ck_assert(aemp_equal(v, c) && aemp_equal(c, v));
    aemp_unref(c);
    c = aemp_bignum("18446744073709551614");
    ck_assert(!aemp_equal(v, c));
    aemp_unref(c);
    aemp_unref(v);
    v = aemp_bignum("0");
    c = aemp_int(0);
    ck_assert(aemp_equal(v, c) && !aemp_is_true(v));
    aemp_unref(c);
    aemp_unref(v);
    /* only canonical digits, at most 2466 of them (1024 bytes) */
    static const char *const bad[] = {"", "-", "-0", "01", "+1", "1 ", "1.5",
                                      "1e5", "0x10", "--1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        ck_assert_msg(aemp_bignum(bad[i]) == NULL, "took \"%s\"", bad[i]);
    ck_assert_ptr_null(aemp_bignum(NULL));
    char digits[2468];
    memset(digits, '9', sizeof(digits) - 1);
    digits[2467] = 0;
    ck_assert_ptr_null(aemp_bignum(digits));
    digits[2466] = 0;
    v = aemp_bignum(digits);
    ck_assert_ptr_nonnull(v);
    aemp_unref(v);
    /* in a map: keys are plain strings, values stay bignums */
    aemp_val *m = aemp_map();
    aemp_map_set(m, "n", aemp_bignum("100000000000000000000"));
    ck_assert(aemp_is_bignum(aemp_map_get(m, "n")));
    ck_json(m, "{\"n\":100000000000000000000}");
    aemp_unref(m);
}
END_TEST

START_TEST(test_from_json)
{
    roundtrip("  [ 1 , \"a\" , { \"k\" : [ ] } ]\n", "[1,\"a\",{\"k\":[]}]");
    roundtrip("5", "5");
    roundtrip("\"s\"", "\"s\"");
    roundtrip("{\"a\":1,\"a\":2}", "{\"a\":2}"); /* later wins, as Perl */

    parse_fails("", 0);
    parse_fails("   ", 3);
    parse_fails("[1,2", 4);
    parse_fails("[1,2]]", 6);
    parse_fails("[1] [2]", 7); /* one text only */
    parse_fails("[1,]", 4);
    parse_fails("{1:2}", 5);
    parse_fails("[01]", 4);
    parse_fails("[\"a\nb\"]", 7);  /* raw control character */
    parse_fails("[\"\xff\"]", 5);  /* not UTF-8 */
    parse_fails("[\"a\0\"]", 6);
    parse_fails("[tru]", 5);
    parse_fails("[nan]", 5);
    parse_fails("// c\n[1]", 8);

    char *err = (char *)"untouched";
    ck_assert_ptr_null(aemp_from_json("[", 1, NULL)); /* err optional */
    ck_assert_ptr_null(aemp_from_json("[x]", 3, &err));
    ck_assert_msg(strstr(err, "at byte 2") != NULL, "%s", err);
    free(err);
}
END_TEST

/* JSON::XS refuses nesting deeper than 512, in both directions. */
START_TEST(test_depth)
{
    enum { MAX = 512 };
    char text[2 * (MAX + 1) + 1];
    for (int depth = MAX; depth <= MAX + 1; depth++) {
        memset(text, '[', (size_t)depth);
        memset(text + depth, ']', (size_t)depth);
        text[2 * depth] = 0;
        char *err = NULL;
        aemp_val *v = aemp_from_json(text, strlen(text), &err);
        if (depth == MAX) {
            ck_assert_ptr_nonnull(v);
            ck_json(v, text);
            aemp_unref(v);
        } else {
            ck_assert_ptr_null(v);
            ck_assert_msg(strstr(err, "nesting") != NULL, "%s", err);
            free(err);
        }
    }
    aemp_val *v = aemp_array();
    for (int i = 1; i < MAX; i++)
        v = aemp_arrayv(v, NULL);
    char *j = aemp_to_json(v, NULL);
    ck_assert_ptr_nonnull(j);
    free(j);
    v = aemp_arrayv(v, NULL);
    ck_assert_ptr_null(aemp_to_json(v, NULL));
    aemp_buf b = AEMP_BUF_INIT;
    ck_assert_int_eq(aempi_json_write(&b, v, 0), AEMP_EINVAL);
    aempi_buf_free(&b);
    aemp_unref(v);
}
END_TEST

START_TEST(test_canonical)
{
    aemp_val *v = parse("{\"b\":{\"z\":1,\"y\":[{\"d\":1,\"c\":2}]},\"a\":0,"
                        "\"\xc3\xa9\":1,\"ab\":2,\"B\":3,\"\":4}");
    char *c = aemp_to_json_canonical(v, NULL);
    ck_assert_str_eq(c, "{\"\":4,\"B\":3,\"a\":0,\"ab\":2,"
                        "\"b\":{\"y\":[{\"c\":2,\"d\":1}],\"z\":1},"
                        "\"\xc3\xa9\":1}");
    free(c);
    aemp_unref(v);

    /* a byte-string key sorts by its characters: \xff is U+00FF, below
     * U+0100 (c4 80) but above U+00E9 */
    v = aemp_map();
    aemp_map_set(v, "\xc4\x80", aemp_int(1));
    aemp_map_set(v, "\xff", aemp_int(2));
    aemp_map_set(v, "\xc3\xa9", aemp_int(3));
    c = aemp_to_json_canonical(v, NULL);
    ck_assert_str_eq(c, "{\"\xc3\xa9\":3,\"\xc3\xbf\":2,\"\xc4\x80\":1}");
    free(c);
    aemp_unref(v);
}
END_TEST

static Suite *value_suite(void)
{
    Suite *s = suite_create("value");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_scalars);
    tcase_add_test(tc, test_strings);
    tcase_add_test(tc, test_refcount);
    tcase_add_test(tc, test_arrays);
    tcase_add_test(tc, test_arrays_sized);
    tcase_add_test(tc, test_pool);
    tcase_add_test(tc, test_map_basic);
    tcase_add_test(tc, test_map_byte_keys);
    tcase_add_test(tc, test_map_many);
    tcase_add_test(tc, test_map_churn);
    tcase_add_test(tc, test_equal);
    tcase_add_test(tc, test_truth);
    tcase_add_test(tc, test_conversions);
    suite_add_tcase(s, tc);
    tc = tcase_create("json");
    tcase_add_test(tc, test_escapes);
    tcase_add_test(tc, test_escapes_every_byte);
    tcase_add_test(tc, test_byte_strings);
    tcase_add_test(tc, test_beyond_unicode);
    tcase_add_test(tc, test_doubles);
    tcase_add_test(tc, test_integers);
    tcase_add_test(tc, test_big_integers);
    tcase_add_test(tc, test_bignum);
    tcase_add_test(tc, test_from_json);
    tcase_add_test(tc, test_depth);
    tcase_add_test(tc, test_canonical);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(value_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
