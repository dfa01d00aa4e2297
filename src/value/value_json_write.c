/* libaemp: the JSON writer, byte for byte what Perl's JSON::XS encode_json
 * (utf8, compact) writes, and value equality, which Perl defines through
 * that encoding (the global database compares values by their JSON).
 *
 * What JSON::XS does, and so what this does:
 * - Strings escape only '"', '\\', \b \f \n \r \t and, as \u00xx with
 *   lowercase hex, the other bytes below 0x20. '/' and 0x7f stay raw, and
 *   so does all non-ASCII UTF-8.
 * - A string that is not well-formed UTF-8 is a Perl byte string: each
 *   byte is the character of that code point, so 0x80-0xff become the two
 *   byte UTF-8 sequences C2 80 .. C3 BF.
 * - Doubles are written as Perl stringifies an NV: "%.15g".
 * - Canonical mode sorts keys by code point, which is bytewise order of
 *   the encoded keys (JSON::XS canonical).
 * - Nesting deeper than AEMP_MAX_DEPTH is refused, as JSON::XS croaks.
 * (Checked against JSON::XS 4.04 on 40000 random strings and doubles.)
 *
 * One deliberate divergence: JSON::XS writes inf, -inf and nan as bare
 * words, which no JSON parser (its own included) accepts, so the peer
 * would drop the whole message. We write null instead.
 */
#include "value_json.h"

#include <langinfo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aemp/error.h"
#include "value_int.h"
#include "value_json_scan.h"

static const char hexdigits[] = "0123456789abcdef";

/* One byte: brackets, commas and colons, several for every message, so
 * inline where the room is there. */
static inline int put1(aemp_buf *b, char c)
{
    if (aempi_buf_reserve(b, 1))
        return AEMP_ENOMEM;
    b->p[b->len++] = c;
    b->p[b->len] = 0;
    return AEMP_OK;
}

/* The bytes at the start of s[0, len) that a string writes as they are:
 * all but control characters, '"' and '\\', and bytes from 0x80 unless
 * the string is UTF-8. Most strings are that whole, so the test goes
 * eight bytes at a time. */
static size_t plain_prefix(const char *s, size_t len, int utf8)
{
    uint64_t high = utf8 ? 0 : 0x8080808080808080u;
    size_t i = 0;
    while (len - i >= 8 && aemp_json_plain_word(s + i, high))
        i += 8;
    /* the last bytes of a longer string: the word that ends with them */
    if (i < len && len - i < 8 && len >= 8 &&
        aemp_json_plain_word(s + len - 8, high))
        return len;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\' || (c >= 0x80 && !utf8))
            break;
    }
    return i;
}

/* The rest of a string from the first byte that is not plain, byte by
 * byte. */
static int write_escaped(aemp_buf *b, const char *s, size_t len, int utf8)
{
    size_t run = 0; /* start of the bytes that need no escaping */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && (c < 0x80 || utf8))
            continue;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            if (c < 0x20) {
                memcpy(esc + 1, "u00", 3);
                esc[4] = hexdigits[c >> 4];
                esc[5] = hexdigits[c & 15];
                n = 6;
            } else { /* a byte of a byte string: its code point in UTF-8 */
                esc[0] = (char)(0xc0 | c >> 6);
                esc[1] = (char)(0x80 | (c & 0x3f));
            }
        }
        if (aempi_buf_append(b, s + run, i - run) ||
            aempi_buf_append(b, esc, n))
            return AEMP_ENOMEM;
        run = i + 1;
    }
    return aempi_buf_append(b, s + run, len - run);
}

/* A string's bytes in quotes: the plain ones copied at once into room
 * reserved for them and both quotes (every string of every message comes
 * here), the rest escaped. */
static int write_bytes(aemp_buf *b, const char *s, size_t len, int utf8)
{
    size_t plain = plain_prefix(s, len, utf8);
    if (aempi_buf_reserve(b, len + 2))
        return AEMP_ENOMEM;
    char *o = b->p + b->len;
    *o++ = '"';
    memcpy(o, s, plain);
    b->len += plain + 1;
    if (plain < len && write_escaped(b, s + plain, len - plain, utf8))
        return AEMP_ENOMEM;
    if (aempi_buf_reserve(b, 1))
        return AEMP_ENOMEM;
    b->p[b->len++] = '"';
    b->p[b->len] = 0;
    return AEMP_OK;
}

static int write_str(aemp_buf *b, const aemp_val *v)
{
    return write_bytes(b, v->str, v->u.len, v->utf8);
}

/* "%.15g" as Perl prints an NV, with '.' whatever LC_NUMERIC says.
 * buf must hold 32 bytes. Returns the length. */
static size_t fmt_double(char *buf, double d)
{
    int n = snprintf(buf, 32, "%.15g", d);
    const char *radix = nl_langinfo(RADIXCHAR);
    size_t rlen = strlen(radix);
    char *p;
    if (strcmp(radix, ".") != 0 && rlen && (p = strstr(buf, radix))) {
        *p = '.';
        memmove(p + 1, p + rlen, strlen(p + rlen) + 1);
        n -= (int)rlen - 1;
    }
    return (size_t)n;
}

static int write_uint(aemp_buf *b, uint64_t u, int negative)
{
    char tmp[21];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (negative)
        tmp[--i] = '-';
    return aempi_buf_append(b, tmp + i, sizeof(tmp) - i);
}

static int write_int(aemp_buf *b, int64_t i)
{
    if (i < 0) /* negate in unsigned arithmetic: INT64_MIN has no opposite */
        return write_uint(b, (uint64_t)0 - (uint64_t)i, 1);
    return write_uint(b, (uint64_t)i, 0);
}

static int write_double(aemp_buf *b, double d)
{
    char tmp[32];
    if (!isfinite(d)) /* see the top of the file */
        return aempi_buf_append(b, "null", 4);
    return aempi_buf_append(b, tmp, fmt_double(tmp, d));
}

/* A bignum as a bare number of its digits. JSON::XS cannot write a
 * Math::BigInt at all (Perl's snd dies); the number is what a reader
 * wants, and JSON::XS decodes it to the same digits (a string beyond 64
 * bits, as our reader does). */
static int write_bignum(aemp_buf *b, const aemp_val *v)
{
    size_t len;
    const char *s = aemp_str_ptr(v, &len);
    return aempi_buf_append(b, s, len);
}

/* ---- code point order of strings --------------------------------------- */

/* The next character of a string: a decoded UTF-8 sequence if the string
 * is well-formed UTF-8 (checked when it was made), else one byte. */
static uint64_t next_cp(const unsigned char *s, size_t *i, int utf8)
{
    return utf8 ? aempi_utf8_next(s, i) : s[(*i)++];
}

/* Compares two strings as Perl compares them: by characters, which is the
 * bytewise order of their JSON encodings. */
static int str_cmp(const aemp_val *a, const aemp_val *b)
{
    size_t la, lb, i = 0, j = 0;
    const unsigned char *sa = (const unsigned char *)aemp_str_ptr(a, &la);
    const unsigned char *sb = (const unsigned char *)aemp_str_ptr(b, &lb);
    int ua = aempi_str_is_utf8(a), ub = aempi_str_is_utf8(b);
    if (ua == ub) { /* bytes are in character order already */
        int c = memcmp(sa, sb, la < lb ? la : lb);
        return c ? c : (la > lb) - (la < lb);
    }
    while (i < la && j < lb) {
        uint64_t ca = next_cp(sa, &i, ua), cb = next_cp(sb, &j, ub);
        if (ca != cb)
            return ca < cb ? -1 : 1;
    }
    return (i < la) - (j < lb);
}

/* ---- values ------------------------------------------------------------ */

typedef struct kv {
    const aemp_val *key, *val;
} kv;

static int kv_cmp(const void *a, const void *b)
{
    return str_cmp(((const kv *)a)->key, ((const kv *)b)->key);
}

static int write_val(aemp_buf *b, const aemp_val *v, int canonical,
                     int depth);

static int write_array(aemp_buf *b, const aemp_val *v, int canonical,
                       int depth)
{
    size_t n = aemp_array_len(v);
    if (put1(b, '['))
        return AEMP_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (i && put1(b, ','))
            return AEMP_ENOMEM;
        int rc = write_val(b, aemp_array_at(v, i), canonical, depth);
        if (rc)
            return rc;
    }
    return put1(b, ']');
}

static int write_pairs(aemp_buf *b, const kv *pairs, size_t n, int canonical,
                       int depth)
{
    if (put1(b, '{'))
        return AEMP_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if ((i && put1(b, ',')) || write_str(b, pairs[i].key) ||
            put1(b, ':'))
            return AEMP_ENOMEM;
        int rc = write_val(b, pairs[i].val, canonical, depth);
        if (rc)
            return rc;
    }
    return put1(b, '}');
}

static int write_map(aemp_buf *b, const aemp_val *v, int canonical,
                     int depth)
{
    size_t n = aemp_map_len(v);
    kv small[16], *pairs = small;
    if (n > 16 && !(pairs = malloc(n * sizeof(*pairs))))
        return AEMP_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        pairs[i].key = aempi_map_key_val_at(v, i);
        pairs[i].val = aemp_map_value_at(v, i);
    }
    if (canonical && n > 1)
        qsort(pairs, n, sizeof(*pairs), kv_cmp);
    int rc = write_pairs(b, pairs, n, canonical, depth);
    if (pairs != small)
        free(pairs);
    return rc;
}

static int write_val(aemp_buf *b, const aemp_val *v, int canonical,
                     int depth)
{
    switch (aemp_type_of(v)) {
    case AEMP_NULL: return aempi_buf_append(b, "null", 4);
    case AEMP_BOOL:
        return aemp_is_true(v) ? aempi_buf_append(b, "true", 4)
                               : aempi_buf_append(b, "false", 5);
    case AEMP_INT: return write_int(b, aemp_as_int(v));
    case AEMP_UINT: return write_uint(b, aemp_as_uint(v), 0);
    case AEMP_DOUBLE: return write_double(b, aemp_as_double(v));
    case AEMP_STRING:
        return aemp_is_bignum(v) ? write_bignum(b, v) : write_str(b, v);
    case AEMP_ARRAY:
        if (depth >= AEMP_MAX_DEPTH)
            return AEMP_EINVAL;
        return write_array(b, v, canonical, depth + 1);
    case AEMP_MAP:
        if (depth >= AEMP_MAX_DEPTH)
            return AEMP_EINVAL;
        return write_map(b, v, canonical, depth + 1);
    }
    return AEMP_EINVAL;
}

int aempi_json_write(aemp_buf *b, const aemp_val *v, int canonical)
{
    return write_val(b, v, canonical, 0);
}

/* A C string (a port id) as a string value made of it would be written,
 * without making one. */
static int write_cstr(aemp_buf *b, const char *s)
{
    size_t len = strlen(s);
    return write_bytes(b, s, len,
                       aempi_utf8_valid((const unsigned char *)s, len));
}

int aempi_json_write_frame_items(aemp_buf *b, const char *portid,
                                 aemp_val *const *items, size_t n)
{
    if (put1(b, '[') || write_cstr(b, portid))
        return AEMP_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int rc = put1(b, ',');
        if (!rc)
            rc = write_val(b, items[i], 0, 1);
        if (rc)
            return rc;
    }
    return put1(b, ']');
}

int aempi_json_write_frame(aemp_buf *b, const char *portid,
                           const aemp_val *msg)
{
    return aempi_json_write_frame_items(b, portid, aempi_array_items(msg),
                                        aemp_array_len(msg));
}

static char *to_json(const aemp_val *v, size_t *len, int canonical)
{
    aemp_buf b = AEMP_BUF_INIT;
    if (aempi_json_write(&b, v, canonical)) {
        aempi_buf_free(&b);
        return NULL;
    }
    return aempi_buf_detach(&b, len);
}

char *aemp_to_json(const aemp_val *v, size_t *len)
{
    return to_json(v, len, 0);
}

char *aemp_to_json_canonical(const aemp_val *v, size_t *len)
{
    return to_json(v, len, 1);
}

/* ---- equality ---------------------------------------------------------- */

static int is_number(aemp_type t)
{
    return t == AEMP_INT || t == AEMP_UINT || t == AEMP_DOUBLE;
}

/* A number as Perl prints it; for inf and nan that is what JSON::XS would
 * send, not our null, so they stay distinct from null and each other. */
static void num_text(const aemp_val *v, char buf[32])
{
    switch (aemp_type_of(v)) {
    case AEMP_INT:
        snprintf(buf, 32, "%lld", (long long)aemp_as_int(v));
        break;
    case AEMP_UINT:
        snprintf(buf, 32, "%llu", (unsigned long long)aemp_as_uint(v));
        break;
    default:
        fmt_double(buf, aemp_as_double(v));
    }
}

static int num_equal(const aemp_val *a, const aemp_val *b)
{
    aemp_type ta = aemp_type_of(a), tb = aemp_type_of(b);
    if (ta == AEMP_INT && tb == AEMP_INT)
        return aemp_as_int(a) == aemp_as_int(b);
    if (ta == AEMP_UINT && tb == AEMP_UINT)
        return aemp_as_uint(a) == aemp_as_uint(b);
    /* Doubles (and a double against an integer) are equal when Perl would
     * print them alike: 2.0 is 2, 0.1 + 0.2 is 0.3, but -0.0 is not 0. */
    char ba[32], bb[32];
    num_text(a, ba);
    num_text(b, bb);
    return strcmp(ba, bb) == 0;
}

/* A bignum (a) equals a bignum or a number that is written alike. */
static int big_equal(const aemp_val *a, const aemp_val *b)
{
    char text[32];
    const char *other = text;
    if (aemp_is_bignum(b))
        other = aemp_str_ptr(b, NULL);
    else if (is_number(aemp_type_of(b)))
        num_text(b, text);
    else
        return 0; /* a plain string of the same digits is written quoted */
    return strcmp(aemp_str_ptr(a, NULL), other) == 0;
}

int aemp_equal(const aemp_val *a, const aemp_val *b)
{
    if (aemp_is_bignum(a) || aemp_is_bignum(b))
        return aemp_is_bignum(a) ? big_equal(a, b) : big_equal(b, a);
    aemp_type ta = aemp_type_of(a), tb = aemp_type_of(b);
    if (is_number(ta) && is_number(tb))
        return num_equal(a, b);
    if (ta != tb)
        return 0;
    switch (ta) {
    case AEMP_BOOL: return !aemp_is_true(a) == !aemp_is_true(b);
    case AEMP_STRING: return str_cmp(a, b) == 0;
    case AEMP_ARRAY:
        if (aemp_array_len(a) != aemp_array_len(b))
            return 0;
        for (size_t i = 0; i < aemp_array_len(a); i++)
            if (!aemp_equal(aemp_array_at(a, i), aemp_array_at(b, i)))
                return 0;
        return 1;
    case AEMP_MAP:
        if (aemp_map_len(a) != aemp_map_len(b))
            return 0;
        for (size_t i = 0; i < aemp_map_len(a); i++) {
            size_t klen; /* keys are UTF-8 in every map: bytes compare */
            const char *k = aemp_map_key_at(a, i, &klen);
            const aemp_val *bv = aemp_map_getn(b, k, klen);
            if (!bv || !aemp_equal(aemp_map_value_at(a, i), bv))
                return 0;
        }
        return 1;
    default: return 1; /* null */
    }
}
