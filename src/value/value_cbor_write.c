/* libaemp: the CBOR writer, byte for byte what Perl's CBOR::XS 1.86
 * encode_cbor writes for the Perl data a value stands for, so a Perl node
 * decodes exactly that data.
 *
 * What CBOR::XS does, and so what this does:
 * - Integers (IV/UV) in the shortest head: major 0, or major 1 for
 *   negatives; 18446744073709551615 is 1b ff..ff, never a bignum tag.
 * - An NV (our AEMP_DOUBLE) is written by CBOR::XS's encode_nv: if it
 *   equals (U32)nv it is the unsigned integer (so 2.0 is 02 and -0.0 is
 *   00); else if it equals (float)nv it is a single (fa), never a half
 *   (0.5 is fa 3f000000, inf is fa 7f800000); else a double (fb, NaN
 *   included, its bits as they are).
 * - A Perl string is a byte string (major 2) unless its UTF-8 flag is on,
 *   then a text string (major 3); hash keys are always downgraded by Perl
 *   when they can be, so they go as byte strings unless they hold a
 *   character above U+00FF. Our strings carry no such flag, so we decide
 *   by content: a string whose characters are all below U+0100 is written
 *   as a byte string of those characters (ASCII as it is, é as the one
 *   byte e9), any other well-formed UTF-8 as a text string, and bytes that
 *   are not UTF-8 (a Perl byte string held raw) as a byte string of those
 *   bytes. This reproduces whatever Perl sends as a byte string (every
 *   ASCII string of an unflagged Perl scalar, message 14 of the vectors)
 *   and every string with characters above U+00FF. The one divergence: a
 *   flagged Perl string of only ASCII or Latin-1 characters (e.g. one
 *   CBOR::XS decoded from a text string) comes back as a byte string.
 *   Perl sees the same characters either way (eq, hash keys, JSON all
 *   agree); only utf8::is_utf8 tells them apart.
 * - A bignum (Math::BigInt) as its TO_CBOR writes it: an integer in the
 *   32-bit range, else tag 2/3 on the magnitude (value_bignum.c).
 * - Maps in insertion order (CBOR::XS writes Perl's hash order, which is
 *   random anyway), definite lengths everywhere.
 * - Nesting deeper than AEMP_MAX_DEPTH is refused, as CBOR::XS croaks.
 * The 18 vector messages all reproduce byte for byte.
 */
#include "value_cbor.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "aemp/error.h"
#include "value_int.h"

enum { MAJ_UINT = 0, MAJ_NINT, MAJ_BYTES, MAJ_TEXT, MAJ_ARRAY, MAJ_MAP };

/* The head of an item (at most 9 bytes) at h: major type and argument,
 * in the shortest form. Returns its length. */
static size_t head_at(unsigned char *h, unsigned major, uint64_t arg)
{
    size_t n; /* bytes of argument after the initial byte */
    if (arg < 24)
        h[0] = (unsigned char)(major << 5 | arg), n = 0;
    else if (arg <= 0xff)
        h[0] = (unsigned char)(major << 5 | 24), n = 1;
    else if (arg <= 0xffff)
        h[0] = (unsigned char)(major << 5 | 25), n = 2;
    else if (arg <= 0xffffffff)
        h[0] = (unsigned char)(major << 5 | 26), n = 4;
    else
        h[0] = (unsigned char)(major << 5 | 27), n = 8;
    for (size_t i = n; i > 0; i--, arg >>= 8)
        h[i] = (unsigned char)(arg & 0xff);
    return n + 1;
}

/* The head of an item, written in place (every item has one). */
static int put_head(aemp_buf *b, unsigned major, uint64_t arg)
{
    if (aempi_buf_reserve(b, 9))
        return AEMP_ENOMEM;
    b->len += head_at((unsigned char *)b->p + b->len, major, arg);
    b->p[b->len] = 0;
    return AEMP_OK;
}

static int write_int(aemp_buf *b, int64_t i)
{
    if (i < 0) /* -1 - i, without overflow for INT64_MIN */
        return put_head(b, MAJ_NINT, (uint64_t)(-(i + 1)));
    return put_head(b, MAJ_UINT, (uint64_t)i);
}

/* CBOR::XS's encode_nv; see the top of the file. The range tests stand
 * in for its (U32) and (float) casts, which are undefined in C for values
 * out of range (on x86 they never compare equal there either). */
static int write_double(aemp_buf *b, double d)
{
    unsigned char h[9];
    if (d >= 0 && d <= 4294967295.0 && d == (double)(uint32_t)d)
        return put_head(b, MAJ_UINT, (uint32_t)d);
    if (isinf(d) || (fabs(d) <= FLT_MAX && (double)(float)d == d)) {
        float f = (float)d;
        uint32_t bits;
        memcpy(&bits, &f, 4);
        h[0] = 0xfa;
        for (int i = 4; i > 0; i--, bits >>= 8)
            h[i] = (unsigned char)(bits & 0xff);
        return aempi_buf_append(b, h, 5);
    }
    uint64_t bits;
    memcpy(&bits, &d, 8);
    h[0] = 0xfb;
    for (int i = 8; i > 0; i--, bits >>= 8)
        h[i] = (unsigned char)(bits & 0xff);
    return aempi_buf_append(b, h, 9);
}

/* Index of the first byte >= 0x80, or len. */
static size_t ascii_prefix(const unsigned char *s, size_t len)
{
    size_t i = 0;
    for (; len - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080u)
            break;
    }
    while (i < len && s[i] < 0x80)
        i++;
    return i;
}

/* A string of len bytes; utf8: it is well-formed UTF-8; ascii: it is
 * known to be ASCII (0: look). See the top of the file for which strings
 * are byte strings. */
static int write_bytes(aemp_buf *b, const char *str, size_t len, int utf8,
                       int ascii)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = ascii ? len : ascii_prefix(s, len), wide = 0;
    if (i == len) { /* ASCII, most strings: head and bytes as they are */
        if (aempi_buf_reserve(b, 9 + len))
            return AEMP_ENOMEM;
        unsigned char *o = (unsigned char *)b->p + b->len;
        size_t h = head_at(o, MAJ_BYTES, len);
        memcpy(o + h, s, len);
        b->len += h + len;
        b->p[b->len] = 0;
        return AEMP_OK;
    }
    if (utf8) {
        /* Well-formed, so every lead byte C2/C3 starts a character
         * U+0080..U+00FF and any lead byte from C4 up a higher one. */
        for (size_t j = i; j < len; j++) {
            if (s[j] >= 0xc4) {
                if (put_head(b, MAJ_TEXT, len))
                    return AEMP_ENOMEM;
                return aempi_buf_append(b, s, len);
            }
            wide += s[j] >= 0xc0;
        }
    }
    if (put_head(b, MAJ_BYTES, len - wide) ||
        aempi_buf_reserve(b, len - wide))
        return AEMP_ENOMEM;
    unsigned char *o = (unsigned char *)b->p + b->len;
    memcpy(o, s, i);
    if (!wide) {
        memcpy(o + i, s + i, len - i);
    } else { /* C2/C3 xx back to the one byte of that code point */
        size_t k = i;
        for (size_t j = i; j < len; j++) {
            unsigned c = s[j];
            if (c >= 0xc0)
                c = (c & 3) << 6 | (s[++j] & 0x3f);
            o[k++] = (unsigned char)c;
        }
    }
    b->len += len - wide;
    b->p[b->len] = 0;
    return AEMP_OK;
}

static int write_str(aemp_buf *b, const aemp_val *v)
{
    return write_bytes(b, v->str, v->u.len, v->utf8, v->ascii);
}

/* A bignum as CBOR::XS writes a Math::BigInt (see value_bignum.c): a
 * plain integer in the 32-bit range, else tag 2, or 3 for a negative one,
 * on the byte string of its magnitude. */
static int write_bignum(aemp_buf *b, const aemp_val *v)
{
    int64_t small;
    if (aempi_bignum_small(v, &small))
        return write_int(b, small);
    aemp_buf mag = AEMP_BUF_INIT;
    int rc = aempi_bignum_magnitude(v, &mag);
    if (!rc)
        rc = aempi_buf_putc(b, *aemp_str_ptr(v, NULL) == '-' ? (char)0xc3
                                                             : (char)0xc2);
    if (!rc)
        rc = put_head(b, MAJ_BYTES, mag.len);
    if (!rc)
        rc = aempi_buf_append(b, mag.p, mag.len);
    aempi_buf_free(&mag);
    return rc ? AEMP_ENOMEM : AEMP_OK;
}

static int write_val(aemp_buf *b, const aemp_val *v, int depth);

static int write_array(aemp_buf *b, const aemp_val *v, int depth)
{
    size_t n = aemp_array_len(v);
    if (put_head(b, MAJ_ARRAY, n))
        return AEMP_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int rc = write_val(b, aemp_array_at(v, i), depth);
        if (rc)
            return rc;
    }
    return AEMP_OK;
}

static int write_map(aemp_buf *b, const aemp_val *v, int depth)
{
    size_t n = aemp_map_len(v);
    if (put_head(b, MAJ_MAP, n))
        return AEMP_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (write_str(b, aempi_map_key_val_at(v, i)))
            return AEMP_ENOMEM;
        int rc = write_val(b, aemp_map_value_at(v, i), depth);
        if (rc)
            return rc;
    }
    return AEMP_OK;
}

static int write_val(aemp_buf *b, const aemp_val *v, int depth)
{
    switch (aemp_type_of(v)) {
    case AEMP_NULL: return aempi_buf_putc(b, (char)0xf6);
    case AEMP_BOOL: return aempi_buf_putc(b, aemp_is_true(v) ? (char)0xf5
                                                            : (char)0xf4);
    case AEMP_INT: return write_int(b, aemp_as_int(v));
    case AEMP_UINT: return put_head(b, MAJ_UINT, aemp_as_uint(v));
    case AEMP_DOUBLE: return write_double(b, aemp_as_double(v));
    case AEMP_STRING:
        return v->big ? write_bignum(b, v) : write_str(b, v);
    case AEMP_ARRAY:
        if (depth >= AEMP_MAX_DEPTH)
            return AEMP_EINVAL;
        return write_array(b, v, depth + 1);
    case AEMP_MAP:
        if (depth >= AEMP_MAX_DEPTH)
            return AEMP_EINVAL;
        return write_map(b, v, depth + 1);
    }
    return AEMP_EINVAL;
}

int aempi_cbor_write(aemp_buf *b, const aemp_val *v)
{
    return write_val(b, v, 0);
}

/* Every item is counted with the longest head (9 bytes), every string
 * with all its bytes; nesting past AEMP_MAX_DEPTH, which the writer
 * refuses, is not followed. */
static size_t size_bound(const aemp_val *v, int depth)
{
    size_t n = 9, len = 0;
    switch (aemp_type_of(v)) {
    case AEMP_STRING:
        aemp_str_ptr(v, &len);
        return n + len;
    case AEMP_ARRAY:
        for (size_t i = 0; depth < AEMP_MAX_DEPTH && i < aemp_array_len(v);
             i++)
            n += size_bound(aemp_array_at(v, i), depth + 1);
        return n;
    case AEMP_MAP:
        for (size_t i = 0; depth < AEMP_MAX_DEPTH && i < aemp_map_len(v);
             i++) {
            aemp_map_key_at(v, i, &len);
            n += 9 + len + size_bound(aemp_map_value_at(v, i), depth + 1);
        }
        return n;
    default:
        return n;
    }
}

size_t aempi_cbor_size_bound(const aemp_val *v)
{
    return size_bound(v, 0);
}

int aempi_cbor_write_frame_items(aemp_buf *b, const char *portid,
                                 aemp_val *const *items, size_t n)
{
    size_t len = strlen(portid);
    const unsigned char *s = (const unsigned char *)portid;
    /* Port ids are ASCII nearly always; only others need the check. */
    int ascii = ascii_prefix(s, len) == len;
    int utf8 = ascii || aempi_utf8_valid(s, len);
    if (put_head(b, MAJ_ARRAY, (uint64_t)n + 1) ||
        write_bytes(b, portid, len, utf8, ascii))
        return AEMP_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int rc = write_val(b, items[i], 1);
        if (rc)
            return rc;
    }
    return AEMP_OK;
}

int aempi_cbor_write_frame(aemp_buf *b, const char *portid,
                           const aemp_val *msg)
{
    return aempi_cbor_write_frame_items(b, portid, aempi_array_items(msg),
                                        aemp_array_len(msg));
}
