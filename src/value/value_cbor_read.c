/* libaemp: the CBOR reader, an incremental parser for the "cbor" framing.
 *
 * CBOR items arrive back to back; every complete top-level item goes to
 * the frame callback at once. A chunk may end anywhere: a head split
 * between chunks waits in hdr[], a string's bytes in sbuf (one buffer,
 * reused, that grows only as bytes arrive, so a declared length of 2^62
 * costs nothing until the bytes are there; arrays and maps are not sized
 * ahead from their declared counts either). A string that lies whole in
 * the chunk is made straight from it. Open containers live on the
 * reader's own stack until they close, and only then join their parent,
 * so freeing the reader (or failing) at any point drops exactly what the
 * stack holds.
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
 * - Map keys become strings as a Perl hash key stringifies them: integers
 *   as digits, true/false "1"/"0", null "", doubles as Perl prints an NV
 *   ("1.5", "1e+23", "0" for -0.0, "Inf", "NaN"). An array or map as a key
 *   is an error (Perl would make "ARRAY(0x...)" of it). A repeated key
 *   replaces the value, as hv_store does.
 * - Other tags are skipped and their content decoded (CBOR::XS makes
 *   objects of some, CBOR::XS::Tagged of the rest), except 25 (stringref)
 *   and 29 (sharedref): their content is an index into state that
 *   encode_cbor only makes with pack_strings or allow_sharing, which
 *   AnyEvent::MP never sets, so they are refused rather than mis-decoded.
 * - Nesting deeper than AEMP_MAX_DEPTH (512) arrays and maps is an error,
 *   at the head of the 513th, as in CBOR::XS; tags do not nest.
 *
 * With a limit set (aemp_cbor_reader_set_limit, max_frame on a link), a
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
#include "value_int.h"
#include "value_json.h"

typedef struct level {
    aemp_val *c;   /* the open array or map */
    aemp_val *key; /* maps: the key that waits for its value */
    uint64_t left; /* definite: items (arrays) or pairs (maps) to come */
    int indef;     /* indefinite length: ends at a break */
} level;

/* A link sees the same short strings over and over: port ids, request
 * names, family and key names. Values are immutable and counted, so the
 * reader hands out another reference to the one it made last time
 * instead of allocating a copy: a slot per hash of the bytes, the newest
 * string wins the slot. */
#define STR_CACHE 128
#define STR_CACHE_MAX 32 /* longer strings are rarely repeated */

struct aemp_cbor_reader {
    aemp_cbor_frame_cb cb;
    void *ud;
    level *stack;
    size_t depth, cap;
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
    int err;               /* once set, the reader stays failed with it */
    int in_feed;           /* inside feed: the frame callback may run */
    int free_pending;      /* freed from inside the frame callback */
    int cb_rc;             /* what the frame callback returned */
    size_t max;            /* aemp_cbor_reader_set_limit, 0: none */
    size_t size;           /* the frame so far, counted as the limit is */
    size_t work;           /* bytes parsed, for aemp_cbor_reader_work */
    char msg[256];
    aemp_val *recent[STR_CACHE]; /* short text strings seen lately */
};

/* Records the first error; returns non-zero to stop the parse. */
static int fail(aemp_cbor_reader *r, int err, const char *why)
{
    if (!r->err) {
        r->err = err;
        snprintf(r->msg, sizeof(r->msg), "CBOR at byte %zu: %s", r->at, why);
    }
    return r->err;
}

/* What the frame may still count before it passes the limit. */
static size_t room(const aemp_cbor_reader *r)
{
    return r->max ? r->max - r->size : SIZE_MAX;
}

static int over_limit(aemp_cbor_reader *r)
{
    char why[64];
    snprintf(why, sizeof(why), "frame exceeds the limit of %zu bytes",
             r->max);
    return fail(r, AEMP_ELIMIT, why);
}

/* Counts n more bytes of the frame against the limit. */
static int charge(aemp_cbor_reader *r, size_t n)
{
    if (n > room(r))
        return over_limit(r);
    r->size += n;
    return AEMP_OK;
}

static int deliver(aemp_cbor_reader *r, aemp_val *v)
{
    r->size = 0;
    r->cb_rc = r->cb(v, r->ud);
    if (r->free_pending)
        return fail(r, AEMP_ESTATE, "reader freed by the frame callback");
    if (r->cb_rc)
        return fail(r, r->cb_rc, "stopped by the frame callback");
    return AEMP_OK;
}

/* ---- map keys ---------------------------------------------------------- */

/* A scalar key as Perl stringifies it (see the top); takes v. */
static aemp_val *key_of(aemp_val *v)
{
    aemp_val *k = NULL;
    double d;
    aemp_buf b = AEMP_BUF_INIT;
    switch (aemp_type_of(v)) {
    case AEMP_STRING: return v;
    case AEMP_NULL: k = aemp_strn("", 0); break;
    case AEMP_BOOL: k = aemp_str(aemp_is_true(v) ? "1" : "0"); break;
    case AEMP_INT:
    case AEMP_UINT:
    case AEMP_DOUBLE:
        d = aemp_as_double(v);
        if (aemp_type_of(v) == AEMP_DOUBLE && (d == 0 || !isfinite(d))) {
            k = aemp_str(d == 0 ? "0" : isnan(d) ? "NaN" : d > 0 ? "Inf"
                                                               : "-Inf");
        } else if (!aemp_json_write(&b, v, 0)) {
            /* the JSON writer prints numbers as Perl does ("%.15g") */
            k = aemp_strn(b.p, b.len);
        }
        aemp_buf_free(&b);
        break;
    default: break; /* containers are refused when they open */
    }
    aemp_unref(v);
    return k;
}

/* ---- values ------------------------------------------------------------ */

/* What a finished item counts against the limit; containers counted
 * themselves when they opened. */
static size_t item_cost(const aemp_val *v)
{
    size_t len = 0;
    aemp_type t = aemp_type_of(v);
    if (t == AEMP_ARRAY || t == AEMP_MAP)
        return 0;
    aemp_str_ptr(v, &len);
    return AEMP_COST_VALUE + len;
}

/* A finished item joins the open container, or is a frame; a container
 * that it completes joins its parent in turn. */
static int add(aemp_cbor_reader *r, aemp_val *v)
{
    if (v && charge(r, item_cost(v))) {
        aemp_unref(v);
        return r->err;
    }
    for (;;) {
        if (!v)
            return fail(r, AEMP_ENOMEM, "out of memory");
        if (r->depth == 0)
            return deliver(r, v);
        level *l = &r->stack[r->depth - 1];
        if (charge(r, aemp_type_of(l->c) == AEMP_ARRAY ? AEMP_COST_ITEM
                      : l->key                         ? AEMP_COST_ENTRY
                                                       : 0)) {
            aemp_unref(v);
            return r->err;
        }
        if (aemp_type_of(l->c) == AEMP_ARRAY) {
            if (aemp_array_push(l->c, v))
                return fail(r, AEMP_ENOMEM, "out of memory");
        } else if (!l->key) {
            if (!(l->key = key_of(v)))
                return fail(r, AEMP_ENOMEM, "out of memory");
            return AEMP_OK;
        } else {
            int rc = aemp_map_set_kv(l->c, l->key, v);
            l->key = NULL;
            if (rc)
                return fail(r, AEMP_ENOMEM, "out of memory");
        }
        if (l->indef || --l->left)
            return AEMP_OK;
        v = l->c;
        r->depth--;
    }
}

static int open_level(aemp_cbor_reader *r, unsigned major, uint64_t n,
                      int indef)
{
    if (r->depth && !r->stack[r->depth - 1].key &&
        aemp_type_of(r->stack[r->depth - 1].c) == AEMP_MAP)
        return fail(r, AEMP_EPARSE, "map key is an array or map");
    if (r->depth == AEMP_MAX_DEPTH)
        return fail(r, AEMP_EPARSE, "nesting deeper than 512 levels");
    /* each item, or pair, counts at least this much: a declared length
     * that cannot fit is refused before any item comes */
    size_t least = major == 4 ? AEMP_COST_VALUE + AEMP_COST_ITEM
                              : 2 * AEMP_COST_VALUE + AEMP_COST_ENTRY;
    if (charge(r, AEMP_COST_VALUE))
        return r->err;
    if (!indef && n > room(r) / least)
        return over_limit(r);
    /* a definite array gets its room at once (a length from the wire is
     * trusted only so far: the rest grows as items really come) */
    aemp_val *c = major != 4 ? aemp_map()
                  : indef    ? aemp_array()
                             : aemp_array_with_room(n < 64 ? (size_t)n : 64);
    if (!c || (!indef && n == 0))
        return add(r, c);
    if (r->depth == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        level *stack = realloc(r->stack, cap * sizeof(*stack));
        if (!stack) {
            aemp_unref(c);
            return fail(r, AEMP_ENOMEM, "out of memory");
        }
        r->stack = stack;
        r->cap = cap;
    }
    r->stack[r->depth++] = (level){c, NULL, n, indef};
    return AEMP_OK;
}

static int close_level(aemp_cbor_reader *r)
{
    level *l = r->depth ? &r->stack[r->depth - 1] : NULL;
    if (!l || !l->indef)
        return fail(r, AEMP_EPARSE, "unexpected break");
    if (l->key)
        return fail(r, AEMP_EPARSE, "break after a map key");
    r->depth--;
    return add(r, l->c);
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
 * writer send most strings: both make the same value.) */
static aemp_val *short_string(aemp_cbor_reader *r, const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    aemp_val **slot = &r->recent[(h ^ h >> 16) % STR_CACHE];
    /* (s may be NULL when len is 0: an empty indefinite-length string) */
    if (*slot && (*slot)->u.len == len &&
        (!len || !memcmp((*slot)->str, s, len)))
        return aemp_ref(*slot);
    aemp_val *v = aemp_strn(s, len);
    if (v) {
        aemp_unref(*slot);
        *slot = aemp_ref(v);
    }
    return v;
}

/* The string of the current head is complete: s, len. */
static int finish_string(aemp_cbor_reader *r, const unsigned char *s,
                         size_t len)
{
    r->str_indef = 0;
    if (r->str_major == 3)
        return add(r, len <= STR_CACHE_MAX
                          ? short_string(r, (const char *)s, len)
                          : aemp_strn((const char *)s, len));
    if (!r->str_big) {
        int ascii = len <= STR_CACHE_MAX;
        for (size_t i = 0; ascii && i < len; i++)
            ascii = s[i] < 0x80;
        /* a byte string: Perl's characters in UTF-8 (see the top) */
        return add(r, ascii ? short_string(r, (const char *)s, len)
                            : aemp_str_latin1((const char *)s, len));
    }
    while (len && !*s)
        s++, len--;
    if (len > AEMP_BIGNUM_BYTES)
        return fail(r, AEMP_EPARSE, "bignum longer than 1024 bytes");
    return add(r, aemp_bignum_from_bytes(s, len, r->str_big == 3));
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
        aemp_buf_reset(&r->sbuf);
        if (indef) {
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
        if (arg > PTRDIFF_MAX)
            return fail(r, AEMP_EPARSE, "string longer than memory");
        r->str_left = arg;
        return AEMP_OK;
    case 4:
    case 5: return open_level(r, major, arg, indef);
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
            return close_level(r);
        }
        return fail(r, AEMP_EPARSE, "reserved or unassigned simple value");
    }
}

/* Parses a chunk; returns non-zero when it stopped (r->err says why). */
static int parse(aemp_cbor_reader *r, const unsigned char *p,
                 const unsigned char *end)
{
    const unsigned char *start = p;
    while (p < end) {
        if (r->str_left) { /* a string's bytes that did not fit */
            size_t n = (size_t)(end - p);
            if (n > r->str_left)
                n = (size_t)r->str_left;
            if (aemp_buf_append(&r->sbuf, p, n))
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

aemp_cbor_reader *aemp_cbor_reader_new(aemp_cbor_frame_cb cb, void *ud)
{
    if (!cb)
        return NULL;
    aemp_cbor_reader *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->cb = cb;
    r->ud = ud;
    return r;
}

static void reader_destroy(aemp_cbor_reader *r)
{
    for (size_t i = 0; i < r->depth; i++) {
        aemp_unref(r->stack[i].c);
        aemp_unref(r->stack[i].key);
    }
    free(r->stack);
    aemp_buf_free(&r->sbuf);
    for (size_t i = 0; i < STR_CACHE; i++)
        aemp_unref(r->recent[i]);
    free(r);
}

void aemp_cbor_reader_free(aemp_cbor_reader *r)
{
    if (!r)
        return;
    if (r->in_feed) { /* inside the frame callback: feed frees it */
        r->free_pending = 1;
        return;
    }
    reader_destroy(r);
}

int aemp_cbor_reader_feed(aemp_cbor_reader *r, const char *data, size_t len)
{
    if (r->err)
        return r->err;
    if (r->in_feed) /* called again from the frame callback */
        return AEMP_ESTATE;
    r->in_feed = 1;
    r->work += len;
    const unsigned char *p = (const unsigned char *)data;
    int rc = len ? parse(r, p, p + len) : AEMP_OK;
    r->in_feed = 0;
    if (r->free_pending) {
        rc = r->cb_rc;
        reader_destroy(r);
        return rc;
    }
    r->fed += len;
    return rc;
}

void aemp_cbor_reader_set_limit(aemp_cbor_reader *r, size_t max)
{
    if (r)
        r->max = max;
}

size_t aemp_cbor_reader_work(const aemp_cbor_reader *r)
{
    return r ? r->work : 0;
}

const char *aemp_cbor_reader_error(const aemp_cbor_reader *r)
{
    return r && r->err ? r->msg : NULL;
}
