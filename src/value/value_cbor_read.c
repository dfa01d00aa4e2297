/* libaemp: the CBOR reader, an incremental parser for the "cbor" framing.
 *
 * CBOR items arrive back to back; every complete top-level item goes to
 * the frame callback at once. A chunk may end anywhere: a head split
 * between chunks waits in hdr[], a string's bytes in sbuf (one buffer,
 * reused, that grows only as bytes arrive, so a declared length of 2^62
 * costs nothing until the bytes are there; arrays and maps are not sized
 * ahead from their declared counts either). A string that lies whole in
 * the chunk is made straight from it. The values are put together by
 * the builder both readers share (value_build.c): it keeps the open
 * containers, the nesting limit and the count against max_frame.
 *
 * Items are mapped as CBOR::XS 1.86 decodes them, into the value model:
 * - Integers: major 0 and 1 to AEMP_INT/AEMP_UINT. A negative below
 *   INT64_MIN (3b 8000000000000000 and up) becomes the string of its
 *   digits ("-18446744073709551616"), as the JSON reader keeps integers
 *   beyond 64 bits. CBOR::XS computes -1 - (IV)n there and wraps around
 *   (3b ff..ff decodes as 0): not worth copying.
 * - Tags 2 and 3 (bignums; CBOR::XS makes Math::BigInt objects) on a byte
 *   string: a bignum (value_bignum.c) of n for tag 2 and of -n for tag 3,
 *   as CBOR::XS reads them (RFC 8949 has -1 - n); magnitudes over 1024
 *   bytes are refused (converting them costs quadratic time).
 * - Byte strings are Perl byte strings: each byte is the character of
 *   that code point, stored as its UTF-8 (e9 -> C3 A9), which is what the
 *   json framing delivers for the same Perl string, and what the writer
 *   turns back into the same byte string. Text strings keep their bytes
 *   (CBOR::XS does not validate them either; our value model then treats
 *   malformed ones as byte strings).
 * - Indefinite-length strings must be made of definite chunks of the same
 *   major type, as CBOR::XS requires.
 * - false, true, null as such; undefined (f7) as null (CBOR::XS gives
 *   Types::Serialiser::error, which croaks when used). Half, single and
 *   double floats to AEMP_DOUBLE. Other simple values and additional
 *   information 28-30 are errors, as in CBOR::XS.
 * - Map keys become strings as a Perl hash key stringifies them (the
 *   builder does it, value_build.h): integers as digits, true/false
 *   "1"/"0", null "", doubles as Perl prints an NV ("1.5", "1e+23", "0"
 *   for -0.0, "Inf", "NaN"). An array or map as a key is an error (Perl
 *   would make "ARRAY(0x...)" of it). A repeated key replaces the value,
 *   as hv_store does.
 * - Other tags are skipped and their content decoded (CBOR::XS makes
 *   objects of some, CBOR::XS::Tagged of the rest), except 25 (stringref)
 *   and 29 (sharedref): their content is an index into state that
 *   encode_cbor only makes with pack_strings or allow_sharing, which
 *   AnyEvent::MP never sets, so they are refused rather than mis-decoded.
 * - Nesting deeper than AEMP_MAX_DEPTH (512) arrays and maps is an error,
 *   at the head of the 513th, as in CBOR::XS; tags do not nest.
 *
 * With a limit set (aempi_cbor_reader_set_limit, max_frame on a link), a
 * frame may not decode to more than that, counted as value_int.h's
 * AEMP_COST_* say: an indefinite array of 0s costs 48 bytes an item, not
 * one. A head whose declared length alone passes the limit (a string of
 * that many bytes, an array or map of that many items at their least)
 * fails at once; other frames fail at the item that passes it.
 */
#include "value_cbor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aemp/error.h"
#include "value_build.h"
#include "value_int.h"
#include "value_strcache.h"

#define MSG_SIZE 256

/* Flat frames (flat_frame): at most this many items; the strings of the
 * first FLAT_LAST places are kept for the next. */
#define FLAT_MAX 8
#define FLAT_LAST 4

struct aemp_cbor_reader {
    aemp_build b;          /* the values, and the reader's first error */
    size_t fed;            /* stream offset of the current chunk */
    size_t at;             /* stream offset of the current head */
    unsigned char hdr[9];  /* a head split between chunks */
    unsigned hdr_len, hdr_need;
    unsigned tag;          /* a tag waits for its item: 1, or 2/3 bignum */
    unsigned str_major;    /* 2 or 3: the string being collected */
    unsigned str_big;      /* it is the magnitude of a bignum (tag 2/3) */
    int str_indef;         /* inside an indefinite-length string */
    uint64_t str_left;     /* bytes of the string (or piece) to come */
    aemp_buf sbuf;         /* a string's bytes collected so far */
    int in_feed;           /* inside feed: the frame callback may run */
    size_t work;           /* bytes parsed, for aempi_cbor_reader_work */
    char *msg;             /* the first error's message: made with it */
    aemp_str_cache recent; /* short text strings seen lately */
    aemp_val *last[FLAT_LAST]; /* the strings of the last flat frame */
    unsigned char last_major[FLAT_LAST];
};

/* rc, a builder's verdict; on the first error also its message, at the
 * offset of the current head. Non-zero stops the parse. */
static int said(aemp_cbor_reader *r, int rc)
{
    if (rc && !r->msg && (r->msg = malloc(MSG_SIZE)))
        snprintf(r->msg, MSG_SIZE, "CBOR at byte %zu: %s", r->at,
                 r->b.why);
    return rc;
}

static int fail(aemp_cbor_reader *r, int err, const char *why)
{
    return said(r, aempi_build_fail(&r->b, err, why));
}

static int over_limit(aemp_cbor_reader *r)
{
    return said(r, aempi_build_over_limit(&r->b));
}

/* What the frame may still count before it passes the limit. */
static size_t room(const aemp_cbor_reader *r)
{
    return aempi_build_room(&r->b);
}

/* A finished scalar joins the open container, or is a frame. */
static int add(aemp_cbor_reader *r, aemp_val *v)
{
    return said(r, aempi_build_value(&r->b, v));
}

static aemp_val *negative(uint64_t n)
{
    if (n <= INT64_MAX)
        return aemp_int(-1 - (int64_t)n);
    /* -1 - n = -(n + 1), and n + 1 may be 2^64 */
    if (n == UINT64_MAX)
        return aemp_str("-18446744073709551616");
    return aemp_strf("-%llu", (unsigned long long)n + 1);
}

/* A short string as aemp_strn makes it, from the cache if it is there.
 * (Text strings, and byte strings of ASCII, which is how CBOR::XS and our
 * writer send most strings: both make the same value.) w: its words
 * (aempi_str_cover). */
static aemp_val *short_string(aemp_cbor_reader *r, const char *s, size_t len,
                              const uint64_t w[4])
{
    aemp_val **slot, *v = aempi_str_cache_find(&r->recent, len, w, &slot);
    if (v)
        return v;
    v = aemp_strn(s, len);
    if (v && slot)
        aempi_str_cache_put(slot, v);
    return v;
}

/* A string (major 2 or 3, not a bignum's magnitude) of len bytes at s. */
static aemp_val *make_string(aemp_cbor_reader *r, unsigned major,
                             const unsigned char *s, size_t len)
{
    uint64_t w[4];
    int cached = len <= AEMP_STR_CACHE_MAX;
    if (cached)
        aempi_str_cover(s, len, w);
    if (major == 3)
        return cached ? short_string(r, (const char *)s, len, w)
                      : aemp_strn((const char *)s, len);
    /* a byte string: Perl's characters in UTF-8 (see the top); ASCII is
     * the same either way, and the words say whether it is */
    return cached && !((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080u)
               ? short_string(r, (const char *)s, len, w)
               : aempi_str_latin1((const char *)s, len);
}

/* The string of the current head is complete: s, len. */
static int finish_string(aemp_cbor_reader *r, const unsigned char *s,
                         size_t len)
{
    r->str_indef = 0;
    if (!r->str_big)
        return add(r, make_string(r, r->str_major, s, len));
    while (len && !*s)
        s++, len--;
    if (len > AEMP_BIGNUM_BYTES)
        return fail(r, AEMP_EPARSE, "bignum longer than 1024 bytes");
    return add(r, aempi_bignum_from_bytes(s, len, r->str_big == 3));
}

/* The string at place i of a flat frame (see flat_frame): the one at the
 * same place in the last such frame when it has the same bytes and major
 * type (a link's frames repeat their port ids and tags), which costs a
 * compare and no hashing; else made, and remembered for the next. */
static aemp_val *flat_string(aemp_cbor_reader *r, unsigned i, unsigned major,
                             const unsigned char *s, size_t len)
{
    if (i >= FLAT_LAST || len > AEMP_STR_CACHE_MAX)
        return make_string(r, major, s, len);
    aemp_val *v = r->last[i];
    if (v && v->u.len == len && r->last_major[i] == major &&
        aempi_str_same((const unsigned char *)v->str, s, len)) {
        v->refs++; /* aemp_ref, without the call */
        return v;
    }
    v = make_string(r, major, s, len);
    if (v) {
        aemp_unref(r->last[i]);
        v->refs++;
        r->last[i] = v;
        r->last_major[i] = (unsigned char)major;
    }
    return v;
}

/* An item of a flat frame: its major type, argument, and a string's
 * bytes. */
typedef struct flat_item {
    const unsigned char *s;
    uint64_t arg;
    unsigned major;
} flat_item;

/* The heads of a flat frame's n items from q on, all in the chunk: the
 * end of the last, or NULL when it is not a flat frame (an item that is
 * no integer or string, a negative beyond int64, a reserved head, or
 * bytes still to come). */
static const unsigned char *flat_heads(const unsigned char *q,
                                       const unsigned char *end, unsigned n,
                                       flat_item *it)
{
    for (unsigned i = 0; i < n; i++) {
        if (q >= end)
            return NULL;
        unsigned ib = *q++, major = ib >> 5, ai = ib & 31;
        uint64_t arg = ai < 24 ? ai : 0;
        if (ai >= 24) {
            if (ai >= 28)
                return NULL;
            size_t k = (size_t)1 << (ai - 24);
            if ((size_t)(end - q) < k)
                return NULL;
            for (size_t j = 0; j < k; j++)
                arg = arg << 8 | q[j];
            q += k;
        }
        if (major > 3 || (major == 1 && arg > INT64_MAX))
            return NULL;
        it[i].s = q;
        it[i].arg = arg;
        it[i].major = major;
        if (major >= 2) {
            if (arg > (uint64_t)(end - q))
                return NULL;
            q += arg;
        }
    }
    return q;
}

/* The frames most links carry: a definite array of at most FLAT_MAX
 * items, each an integer or a string, whole in the chunk (a port id and a
 * few scalars). Made and delivered in one step, without the builder's
 * levels and with the strings of the last such frame at hand; the values
 * and what the frame counts against the limit are the general parse's.
 * Anything else, or a frame the limit would refuse, is left to the
 * general parse (which then says why): 0. Else the bytes it took, and
 * *rc. */
static size_t flat_frame(aemp_cbor_reader *r, const unsigned char *p,
                         const unsigned char *end, int *rc)
{
    unsigned n = (unsigned)(*p - 0x80);
    flat_item it[FLAT_MAX];
    const unsigned char *q = flat_heads(p + 1, end, n, it);
    if (!q)
        return 0;
    size_t cost = AEMP_COST_VALUE + n * (AEMP_COST_VALUE + AEMP_COST_ITEM);
    size_t strbytes = 0;
    for (unsigned i = 0; i < n; i++)
        if (it[i].major >= 2)
            strbytes += (size_t)it[i].arg;
    if (strbytes > room(r) || cost > room(r) - strbytes)
        return 0;
    r->work += strbytes; /* read again to make the strings */
    aemp_val *a = aempi_pool_array(r->b.pool, n);
    for (unsigned i = 0; a && i < n; i++) {
        const flat_item *t = &it[i];
        aemp_val *v = t->major == 0   ? aemp_uint(t->arg)
                      : t->major == 1 ? aemp_int(-1 - (int64_t)t->arg)
                                      : flat_string(r, i, t->major, t->s,
                                                    (size_t)t->arg);
        if (!v) {
            aemp_unref(a);
            a = NULL;
        } else {
            a->u.a.items[a->u.a.len++] = v;
        }
    }
    *rc = said(r, aempi_build_frame(&r->b, a));
    return (size_t)(q - p);
}

static double half_value(unsigned h)
{
    unsigned exp = h >> 10 & 0x1f, mant = h & 0x3ff;
    double d = exp == 0    ? ldexp(mant, -24)
               : exp == 31 ? (mant ? NAN : INFINITY)
                           : ldexp(mant + 1024, (int)exp - 25);
    return h & 0x8000 ? -d : d;
}

static double float_value(uint64_t arg, unsigned ai)
{
    if (ai == 25)
        return half_value((unsigned)arg);
    if (ai == 26) {
        uint32_t bits = (uint32_t)arg;
        float f;
        memcpy(&f, &bits, 4);
        return f;
    }
    double d;
    memcpy(&d, &arg, 8);
    return d;
}

/* One complete head: initial byte ib, argument arg; *pp is the rest of the
 * chunk, where a string's bytes follow. */
static int item(aemp_cbor_reader *r, unsigned ib, uint64_t arg,
                const unsigned char **pp, const unsigned char *end)
{
    unsigned major = ib >> 5, ai = ib & 31, tag = r->tag;
    int indef = ai == 31;
    r->tag = 0;
    if (r->str_indef) { /* only chunks of the same type, or the break */
        if (ib == 0xff) {
            r->work += r->sbuf.len;
            return finish_string(r, (const unsigned char *)r->sbuf.p,
                                 r->sbuf.len);
        }
        if (major != r->str_major || indef)
            return fail(r, AEMP_EPARSE,
                        "invalid chunk in indefinite-length string");
        if (arg > room(r) || r->sbuf.len > room(r) - arg)
            return over_limit(r);
        if (arg > PTRDIFF_MAX)
            return fail(r, AEMP_EPARSE, "string longer than memory");
        r->str_left = arg; /* the main loop collects it */
        return AEMP_OK;
    }
    if (indef && (major < 2 || major == 6))
        return fail(r, AEMP_EPARSE, "indefinite length on a number or tag");
    switch (major) {
    case 0: return add(r, aemp_uint(arg));
    case 1: return add(r, negative(arg));
    case 2:
    case 3:
        r->str_major = major;
        r->str_big = major == 2 && tag > 1 ? tag : 0;
        if (indef) {
            aempi_buf_reset(&r->sbuf);
            r->str_indef = 1;
            return AEMP_OK;
        }
        if (arg > room(r))
            return over_limit(r);
        if (arg <= (uint64_t)(end - *pp)) { /* whole in the chunk */
            const unsigned char *s = *pp;
            *pp += arg;
            r->work += arg; /* read again to make the string */
            return finish_string(r, s, (size_t)arg);
        }
        aempi_buf_reset(&r->sbuf); /* its bytes are collected there */
        if (arg > PTRDIFF_MAX)
            return fail(r, AEMP_EPARSE, "string longer than memory");
        r->str_left = arg;
        return AEMP_OK;
    case 4:
    case 5:
        return said(r, aempi_build_open(&r->b, major == 4 ? AEMP_ARRAY
                                                          : AEMP_MAP,
                                       arg, indef));
    case 6:
        if (arg == 25 || arg == 29)
            return fail(r, AEMP_EPARSE, "stringref and sharedref tags are "
                                        "not supported");
        r->tag = arg == 2 || arg == 3 ? (unsigned)arg : 1;
        return AEMP_OK;
    default:
        switch (ai) {
        case 20:
        case 21: return add(r, aemp_bool(ai == 21));
        case 22:
        case 23: return add(r, aemp_null());
        case 25:
        case 26:
        case 27: return add(r, aemp_double(float_value(arg, ai)));
        case 31:
            if (tag)
                return fail(r, AEMP_EPARSE, "break after a tag");
            return said(r, aempi_build_close(&r->b));
        }
        return fail(r, AEMP_EPARSE, "reserved or unassigned simple value");
    }
}

/* Parses a chunk; returns non-zero when it stopped (r->b.err says why). */
static int parse(aemp_cbor_reader *r, const unsigned char *p,
                 const unsigned char *end)
{
    const unsigned char *start = p;
    while (p < end) {
        if (r->str_left) { /* a string's bytes that did not fit */
            size_t n = (size_t)(end - p);
            if (n > r->str_left)
                n = (size_t)r->str_left;
            if (aempi_buf_append(&r->sbuf, p, n))
                return fail(r, AEMP_ENOMEM, "out of memory");
            r->work += n;
            p += n;
            r->str_left -= n;
            if (r->str_left || r->str_indef)
                continue;
            r->work += r->sbuf.len;
            int rc = finish_string(r, (const unsigned char *)r->sbuf.p,
                                   r->sbuf.len);
            if (rc)
                return rc;
            continue;
        }
        unsigned ib;
        uint64_t arg = 0;
        if (r->hdr_len) { /* the rest of a split head */
            size_t n = r->hdr_need - r->hdr_len;
            if (n > (size_t)(end - p))
                n = (size_t)(end - p);
            memcpy(r->hdr + r->hdr_len, p, n);
            r->hdr_len += (unsigned)n;
            p += n;
            if (r->hdr_len < r->hdr_need)
                return AEMP_OK;
            ib = r->hdr[0];
            for (unsigned i = 1; i < r->hdr_need; i++)
                arg = arg << 8 | r->hdr[i];
            r->hdr_len = 0;
        } else {
            r->at = r->fed + (size_t)(p - start);
            ib = *p;
            if (ib - 0x81u < FLAT_MAX && !r->b.depth && !r->tag &&
                !r->str_indef) {
                int rc;
                size_t used = flat_frame(r, p, end, &rc);
                if (used) {
                    if (rc)
                        return rc;
                    p += used;
                    continue;
                }
            }
            unsigned ai = ib & 31;
            if (ai < 24 || ai == 31) {
                arg = ai;
                p++;
            } else if (ai < 28) {
                size_t n = (size_t)1 << (ai - 24);
                if ((size_t)(end - p) <= n) { /* wait for the rest */
                    r->hdr_len = (unsigned)(end - p);
                    r->hdr_need = (unsigned)n + 1;
                    memcpy(r->hdr, p, r->hdr_len);
                    return AEMP_OK;
                }
                for (size_t i = 1; i <= n; i++)
                    arg = arg << 8 | p[i];
                p += n + 1;
            } else {
                return fail(r, AEMP_EPARSE,
                            "reserved additional information");
            }
        }
        int rc = item(r, ib, arg, &p, end);
        if (rc)
            return rc;
    }
    return AEMP_OK;
}

aemp_cbor_reader *aempi_cbor_reader_new(aemp_cbor_frame_cb cb, void *ud)
{
    if (!cb)
        return NULL;
    aemp_cbor_reader *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    aempi_build_init(&r->b, cb, ud);
    return r;
}

static void reader_destroy(aemp_cbor_reader *r)
{
    aempi_build_clear(&r->b);
    aempi_buf_free(&r->sbuf);
    aempi_str_cache_drop(&r->recent);
    for (unsigned i = 0; i < FLAT_LAST; i++)
        aemp_unref(r->last[i]);
    free(r->msg);
    free(r);
}

void aempi_cbor_reader_free(aemp_cbor_reader *r)
{
    if (!r)
        return;
    if (r->in_feed) { /* inside the frame callback: feed frees it */
        r->b.free_pending = 1;
        return;
    }
    reader_destroy(r);
}

int aempi_cbor_reader_feed(aemp_cbor_reader *r, const char *data, size_t len)
{
    if (r->b.err)
        return r->b.err;
    if (r->in_feed) /* called again from the frame callback */
        return AEMP_ESTATE;
    r->in_feed = 1;
    r->work += len;
    const unsigned char *p = (const unsigned char *)data;
    int rc = len ? parse(r, p, p + len) : AEMP_OK;
    r->in_feed = 0;
    if (r->b.free_pending) {
        rc = r->b.cb_rc;
        reader_destroy(r);
        return rc;
    }
    r->fed += len;
    return rc;
}

void aempi_cbor_reader_set_limit(aemp_cbor_reader *r, size_t max)
{
    if (r)
        r->b.max = max;
}

void aempi_cbor_reader_set_pool(aemp_cbor_reader *r,
                                struct aemp_val_pool *pool)
{
    if (r)
        r->b.pool = pool;
}

size_t aempi_cbor_reader_work(const aemp_cbor_reader *r)
{
    return r ? r->work : 0;
}

const char *aempi_cbor_reader_error(const aemp_cbor_reader *r)
{
    if (!r || !r->b.err)
        return NULL;
    return r->msg ? r->msg : "out of memory";
}
