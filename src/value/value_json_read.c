/* libaemp: the JSON reader, an incremental parser over yajl 2.
 *
 * The "json" framing sends JSON texts back to back with no separator, so
 * the stream reader runs yajl with yajl_allow_multiple_values and builds
 * values from its callbacks; every complete top-level value goes to the
 * frame callback at once. A chunk may end anywhere (inside a number, a
 * string, an escape, a UTF-8 sequence or "true"). Strings and keys must be
 * UTF-8 as JSON::XS decodes it (aempi_utf8_valid: shortest form, Perl's
 * code points beyond U+10FFFF included), checked by us instead of yajl.
 *
 * Time stays linear in the bytes received, however they are cut: yajl
 * keeps a token that a chunk cut short, but re-reads it from its first
 * byte at every later call, so a long string arriving in 16 KiB reads
 * would cost time quadratic in its length. So a scanner
 * (value_json_scan.c) looks at each byte first, and a string or number
 * that is still open at the end of a chunk is held back, from its first
 * byte, until its end arrives; yajl gets it in one piece. yajl still sees
 * every byte in order, as soon as no open token is in the way, so errors
 * show (with their stream offsets) as early as before, and a frame is
 * delivered by its last byte. Only "true", "false" and "null" may still
 * reach yajl in pieces, at most 4 bytes of them.
 *
 * Most frames are small and lie whole in the chunk that brings them: such
 * a text (an array or map, of strings without escapes, numbers and
 * literals, at most 32 levels deep, 64 KiB long) is parsed here, the fast
 * way, and handed to the builder as yajl's callbacks would, without
 * yajl or the scanner (they were over 40% of a json receiver's time).
 * Only where yajl has finished every text it got, so it cannot tell.
 * Anything else, and anything that fails (a malformed text, a limit),
 * leaves the builder as it was and goes to yajl from the text's first
 * byte: yajl says what is wrong, with the offsets and words as before.
 * A stream reader gives yajl one text at a time, so that the next can
 * take the fast way again.
 *
 * With a limit set (aempi_json_reader_set_limit, max_frame on a link), a
 * frame may neither decode to more than that (counted as value_int.h's
 * AEMP_COST_* say) nor take more bytes on the wire; so the bytes held
 * back are bounded too.
 *
 * The values are put together by the builder both readers share
 * (value_build.c): it keeps the open containers, the nesting limit and
 * the count against max_frame.
 *
 * Numbers come as text (the yajl_number callback) and are typed as
 * JSON::XS types them:
 * - with '.', 'e' or 'E': a double (strtod);
 * - an integer that fits int64_t: AEMP_INT; that fits uint64_t: AEMP_UINT;
 * - any other integer: the string of its digits. (JSON::XS would try a
 *   double only for 15 digits or fewer, which always fit an IV; so for
 *   every integer beyond 64 bits, e.g. 100000000000000000000, it keeps
 *   the string, and so do we.)
 * Divergences from JSON::XS 4.x, all at the edges:
 * - -9223372036854775808 is AEMP_INT here; JSON::XS misses INT64_MIN by
 *   one (it tests uv < (UV)IV_MIN) and returns the string of the digits.
 *   The vectors (frames.expected.jsonl) carry it as a number.
 * - yajl turns a lone \ud800-\udfff escape into '?'. Perl never sends
 *   one.
 * - strtod rounds correctly; JSON::XS has its own less exact atof, which
 *   shows at the ends of the range (it reads 5e-324 as 0 and
 *   2.2250738585072014e-308 as 2e-308). Ordinary doubles print alike.
 * Nesting deeper than AEMP_MAX_DEPTH (512) is an error, as in JSON::XS.
 */
#include "value_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "aemp/error.h"
#include "value_build.h"
#include "value_int.h"
#include "value_json_scan.h"
#include "value_strcache.h"

/* Flat frames (flat_text): at most this many items; the strings of the
 * first FLAT_LAST places are kept for the next. */
#define FLAT_MAX 8
#define FLAT_LAST 4

struct aemp_json_reader {
    yajl_handle h;
    aemp_build b;        /* the values, and the reader's first error */
    aemp_json_scan scan; /* where tokens and texts end, ahead of yajl */
    aemp_buf hold;     /* an unfinished string or number, held back */
    size_t hold_at;    /* its stream offset */
    size_t work;       /* bytes looked at, for aempi_json_reader_work */
    size_t carry;      /* bytes yajl keeps of a token cut by a call */
    int in_feed;       /* inside yajl_parse: the frame callback may run */
    aemp_str_cache recent; /* short strings seen lately, all UTF-8 */
    aemp_val *last[FLAT_LAST]; /* the strings of the last flat frame */
    int stream;        /* texts back to back (not aemp_from_json) */
    int clean;         /* yajl has finished every text it was given */
    char msg[256];
};


/* The hold buffer keeps its memory between tokens up to this much. */
#define HOLD_KEEP (64 * 1024)

/* What a yajl callback returns for the builder's rc: 1 goes on, 0 makes
 * yajl stop with yajl_status_client_canceled (b.err then says why). */
static int go_on(int rc)
{
    return rc == AEMP_OK;
}

/* The value of a JSON number's text; see the top of the file. */
static aemp_val *number_value(const char *s, size_t len)
{
    if (memchr(s, '.', len) || memchr(s, 'e', len) || memchr(s, 'E', len))
        return aemp_double(aempi_parse_double(s, len));
    int neg = s[0] == '-';
    uint64_t u = 0;
    for (size_t i = (size_t)neg; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (u > (UINT64_MAX - d) / 10)
            return aemp_strn(s, len);
        u = u * 10 + d;
    }
    if (!neg)
        return aemp_uint(u);
    if (u > (uint64_t)INT64_MAX + 1)
        return aemp_strn(s, len);
    return aemp_int(u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u);
}

static int add(void *ctx, aemp_val *v)
{
    aemp_json_reader *r = ctx;
    return go_on(aempi_build_value(&r->b, v));
}

static int on_null(void *ctx)
{
    return add(ctx, aemp_null());
}

static int on_boolean(void *ctx, int b)
{
    return add(ctx, aemp_bool(b));
}

static int on_number(void *ctx, const char *s, size_t len)
{
    return add(ctx, number_value(s, len));
}

/* JSON::XS's test for the UTF-8 of a string or key (yajl's own check
 * refuses Perl's code points beyond U+1FFFFF and lets overlong forms
 * through, so it is off). */
static int utf8_ok(aemp_json_reader *r, const unsigned char *s, size_t len)
{
    return aempi_utf8_valid(s, len) ||
           go_on(aempi_build_fail(&r->b, AEMP_EPARSE,
                                  "malformed UTF-8 character in JSON "
                                  "string"));
}

/* The value of a string's bytes, a short one from the cache when it is
 * there: it passed the UTF-8 check when it went in, and is not checked
 * again. NULL: out of memory, or (*bad set) not UTF-8. */
static aemp_val *string_value(aemp_json_reader *r, const unsigned char *s,
                              size_t len, int *bad)
{
    *bad = 0;
    if (len > AEMP_STR_CACHE_MAX) {
        *bad = !aempi_utf8_valid(s, len);
        return *bad ? NULL : aemp_strn((const char *)s, len);
    }
    uint64_t w[4];
    aempi_str_cover(s, len, w);
    aemp_val **slot, *v = aempi_str_cache_find(&r->recent, len, w, &slot);
    if (v)
        return v;
    if (!aempi_utf8_valid(s, len)) {
        *bad = 1;
        return NULL;
    }
    v = aemp_strn((const char *)s, len);
    if (v && slot)
        aempi_str_cache_put(slot, v);
    return v;
}

/* A string, or a map key: yajl alternates keys and values, so the
 * builder takes a string where its map waits for a key as the key. */
static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    aemp_json_reader *r = ctx;
    int bad;
    aemp_val *v = string_value(r, s, len, &bad);
    return bad ? utf8_ok(r, s, len) : add(r, v);
}

static int on_start_map(void *ctx)
{
    aemp_json_reader *r = ctx;
    return go_on(aempi_build_open(&r->b, AEMP_MAP, 0, 1));
}

static int on_start_array(void *ctx)
{
    aemp_json_reader *r = ctx;
    return go_on(aempi_build_open(&r->b, AEMP_ARRAY, 0, 1));
}

static int on_end(void *ctx)
{
    aemp_json_reader *r = ctx;
    return go_on(aempi_build_close(&r->b));
}

/* yajl_number, not yajl_integer/yajl_double: we type numbers ourselves. */
static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_string,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

static aemp_json_reader *reader_new(aemp_json_frame_cb cb, void *ud,
                                    int stream)
{
    aemp_json_reader *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    aempi_build_init(&r->b, cb, ud);
    r->scan = (aemp_json_scan)AEMP_JSON_SCAN_INIT;
    r->h = yajl_alloc(&callbacks, NULL, r);
    if (!r->h) {
        free(r);
        return NULL;
    }
    if (stream)
        yajl_config(r->h, yajl_allow_multiple_values, 1);
    r->stream = stream;
    r->clean = 1;
    yajl_config(r->h, yajl_dont_validate_strings, 1); /* see utf8_ok */
    return r;
}

static void reader_destroy(aemp_json_reader *r)
{
    aempi_build_clear(&r->b);
    aempi_buf_free(&r->hold);
    aempi_str_cache_drop(&r->recent);
    for (unsigned i = 0; i < FLAT_LAST; i++)
        aemp_unref(r->last[i]);
    yajl_free(r->h);
    free(r);
}

aemp_json_reader *aempi_json_reader_new(aemp_json_frame_cb cb, void *ud)
{
    return cb ? reader_new(cb, ud, 1) : NULL;
}

void aempi_json_reader_free(aemp_json_reader *r)
{
    if (!r)
        return;
    if (r->in_feed) { /* inside the frame callback: feed frees it */
        r->b.free_pending = 1;
        return;
    }
    reader_destroy(r);
}

void aempi_json_reader_set_limit(aemp_json_reader *r, size_t max)
{
    if (r)
        r->b.max = max;
}

void aempi_json_reader_set_pool(aemp_json_reader *r,
                                struct aemp_val_pool *pool)
{
    if (r)
        r->b.pool = pool;
}

size_t aempi_json_reader_work(const aemp_json_reader *r)
{
    return r ? r->work : 0;
}

/* The message of the error that stopped the reader at stream offset
 * pos. */
static int stopped(aemp_json_reader *r, size_t pos)
{
    snprintf(r->msg, sizeof(r->msg), "JSON at byte %zu: %s", pos, r->b.why);
    return r->b.err;
}

/* Turns yajl's verdict into our result and, on failure, the message with
 * the stream offset pos where parsing stopped. */
static int settle(aemp_json_reader *r, yajl_status st, size_t pos)
{
    if (st == yajl_status_ok)
        return AEMP_OK;
    if (st == yajl_status_error) {
        unsigned char *e = yajl_get_error(r->h, 0, NULL, 0);
        const char *text = e ? (const char *)e : "parse error";
        int n = (int)strcspn(text, "\n");
        snprintf(r->msg, sizeof(r->msg), "JSON at byte %zu: %.*s", pos, n,
                 text);
        if (e)
            yajl_free_error(r->h, e);
        r->b.err = AEMP_EPARSE;
        return r->b.err;
    }
    aempi_build_fail(&r->b, AEMP_EPARSE, "stopped");
    return stopped(r, pos);
}

/* Hands yajl len bytes that begin at stream offset at. The work counted
 * is what yajl reads: these bytes, and again those of a string or number
 * that the previous call ended inside (yajl keeps them and reads them
 * from their start); holding such tokens back keeps that at zero. */
static int parse(aemp_json_reader *r, const char *p, size_t len, size_t at)
{
    r->work += len + r->carry;
    yajl_status st = yajl_parse(r->h, (const unsigned char *)p, len);
    size_t end = at + len;
    r->carry = aemp_json_scan_in_token(&r->scan) && r->scan.tok_start < end
                   ? end - r->scan.tok_start
                   : 0;
    if (r->b.free_pending)
        return AEMP_ESTATE;
    return settle(r, st, at + yajl_get_bytes_consumed(r->h));
}

static int hold(aemp_json_reader *r, const char *p, size_t len)
{
    r->work += len;
    return aempi_buf_append(&r->hold, p, len) ? AEMP_ENOMEM : AEMP_OK;
}

/* yajl gets what was held back, then [p, cut); p is at stream offset at. */
static int hand_over(aemp_json_reader *r, const char *p, const char *cut,
                     size_t at)
{
    if (!r->hold.len)
        return cut > p ? parse(r, p, (size_t)(cut - p), at) : AEMP_OK;
    int rc = hold(r, p, (size_t)(cut - p));
    if (!rc)
        rc = parse(r, r->hold.p, r->hold.len, r->hold_at);
    if (r->hold.cap > HOLD_KEEP)
        aempi_buf_free(&r->hold);
    else
        aempi_buf_reset(&r->hold);
    return rc;
}

/* ---- the fast way: whole texts without yajl ---------------------------- */

/* The bytes yajl skips between tokens: ' ' and '\t' '\n' '\v' '\f' '\r'
 * (9 to 13). Asked before every token, where there is most often none:
 * one compare tells most bytes apart. */
static int is_space(char c)
{
    unsigned char u = (unsigned char)c;
    return u <= ' ' && (u == ' ' || (unsigned)(u - '\t') <= '\r' - '\t');
}

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && is_space(*p))
        p++;
    return p;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Past a number at p as yajl lexes it (-?(0|[1-9][0-9]*)(.[0-9]+)?
 * ([eE][+-]?[0-9]+)?), or NULL where yajl would refuse it. */
static const char *number_end(const char *p, const char *end)
{
    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0')
        p++;
    else if (p < end && is_digit(*p))
        while (++p < end && is_digit(*p))
            ;
    else
        return NULL;
    if (p < end && *p == '.') {
        if (++p == end || !is_digit(*p))
            return NULL;
        while (++p < end && is_digit(*p))
            ;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        if (++p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !is_digit(*p))
            return NULL;
        while (++p < end && is_digit(*p))
            ;
    }
    return p;
}

/* Past the plain bytes of a string that begin at p: all but control
 * characters, '"' and '\\'. */
static const char *string_end(const char *p, const char *end)
{
    for (; end - p >= 8; p += 8) {
        uint64_t bits = aemp_json_unplain_bits(p, 0);
        if (bits) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            /* the first mark is the first byte that is not plain */
            return p + (__builtin_ctzll(bits) >> 3);
#else
            break;
#endif
        }
    }
    while (p < end && (unsigned char)*p >= 0x20 && *p != '"' && *p != '\\')
        p++;
    return p;
}

enum { FAST_NO = -1 }; /* the text is not for the fast way */

/* The value that begins at *pp (not a container), as the yajl callbacks
 * would make it; *pp goes past it. NULL with *no set: not for the fast
 * way (an escape, a control character, not UTF-8, a malformed number or
 * literal, or its end not in [*pp, end)). */
static aemp_val *fast_scalar(aemp_json_reader *r, const char **pp,
                             const char *end, int *no)
{
    const char *p = *pp, *q;
    *no = 1;
    switch (*p) {
    case '"':
        q = string_end(p + 1, end);
        if (q == end || *q != '"')
            return NULL; /* an escape, a control character, cut off */
        *pp = q + 1;
        return string_value(r, (const unsigned char *)p + 1,
                            (size_t)(q - p - 1), no);
    case 't':
    case 'f':
    case 'n': {
        static const char *const words[] = {"true", "false", "null"};
        int k = *p == 't' ? 0 : *p == 'f' ? 1 : 2;
        size_t n = strlen(words[k]);
        if ((size_t)(end - p) < n || memcmp(p, words[k], n))
            return NULL;
        *pp = p + n;
        *no = 0;
        return k == 2 ? aemp_null() : aemp_bool(k == 0);
    }
    default:
        q = number_end(p, end);
        /* yajl knows where a number ends only from the byte after it */
        if (!q || q == end)
            return NULL;
        *pp = q;
        *no = 0;
        return number_value(p, (size_t)(q - p));
    }
}

/* At most this many open arrays and maps on the fast way; deeper texts
 * take yajl's (which keeps the real limit, AEMP_MAX_DEPTH). */
#define FAST_DEPTH 32
/* Texts longer than this take yajl's way: the fast way is for the many
 * small frames. */
#define FAST_SPAN (64 * 1024)

/* Tells the builder what the fast way found; FAST_NO when it refuses
 * (the frame's limit, nesting, memory: yajl's way then meets the same
 * and says so at the right offset), or the frame callback's verdict. */
static int fast_built(aemp_json_reader *r, int rc)
{
    if (!rc || r->b.cb_rc || r->b.free_pending)
        return rc;
    return FAST_NO;
}

/* One text that begins at *pp with '[' or '{', parsed here and handed to
 * the builder as yajl's callbacks would, in one piece: *pp goes past it,
 * the frame is delivered. FAST_NO when it is not for the fast way (it
 * does not end before end, or has something that yajl's way does
 * better: see fast_scalar); the builder is then as before. Else
 * AEMP_OK, or what the frame callback returned. */
static int fast_text(aemp_json_reader *r, const char **pp, const char *end)
{
    const char *p = *pp;
    char close[FAST_DEPTH]; /* the bracket that closes each open one */
    size_t depth = 0;
    int key = 0; /* a map's key is due, not a value */
    int rc;
    for (;;) { /* a value (or key) is due at p */
        p = skip_space(p, end);
        if (p == end || (key && *p != '"'))
            goto refused;
        if (*p == '[' || *p == '{') {
            if (depth == FAST_DEPTH)
                goto refused;
            close[depth++] = *p == '[' ? ']' : '}';
            rc = fast_built(r, aempi_build_open(&r->b, *p == '['
                                                           ? AEMP_ARRAY
                                                           : AEMP_MAP,
                                                0, 1));
            if (rc)
                goto out;
            p = skip_space(p + 1, end);
            if (p < end && *p == close[depth - 1])
                goto closed; /* empty */
            key = close[depth - 1] == '}';
            continue;
        }
        int no;
        aemp_val *v = fast_scalar(r, &p, end, &no);
        if (no)
            goto refused;
        rc = fast_built(r, aempi_build_value(&r->b, v));
        if (rc)
            goto out;
        if (key) { /* its ':', then its value */
            p = skip_space(p, end);
            if (p == end || *p != ':')
                goto refused;
            p++;
            key = 0;
            continue;
        }
        for (;;) { /* after a value: a ',' or the close */
            p = skip_space(p, end);
            if (p == end)
                goto refused;
            if (*p == ',') {
                p++;
                key = close[depth - 1] == '}';
                break;
            }
            if (*p != close[depth - 1])
                goto refused;
        closed:
            p++;
            depth--;
            rc = fast_built(r, aempi_build_close(&r->b));
            if (rc)
                goto out;
            if (!depth) {
                *pp = p;
                return AEMP_OK;
            }
        }
    }
refused:
    rc = FAST_NO;
out:
    *pp = p;
    if (rc == FAST_NO) { /* as before: yajl's way takes the text */
        aempi_build_clear(&r->b);
        r->b.err = AEMP_OK;
        r->b.why = NULL;
        r->b.size = 0;
    }
    return rc;
}

/* The scalar at place i of a flat frame, at *pp, as fast_scalar makes
 * it; a string is the one at the same place in the last flat frame when
 * it has the same bytes (a link's frames repeat their port ids and tags),
 * which costs a compare and no hashing or UTF-8 check. */
static aemp_val *flat_scalar(aemp_json_reader *r, unsigned i,
                             const char **pp, const char *end, int *no)
{
    const char *p = *pp;
    if (*p != '"' || i >= FLAT_LAST)
        return fast_scalar(r, pp, end, no);
    aemp_val *v = r->last[i];
    /* The last string came from fast_scalar, so its bytes are plain (no
     * quote, backslash or control character): the same bytes and then a
     * quote are the whole string, as string_end would find it, without
     * looking for its end first. */
    if (v && (size_t)(end - p - 1) > v->u.len && p[1 + v->u.len] == '"' &&
        aempi_str_same((const unsigned char *)v->str,
                       (const unsigned char *)p + 1, v->u.len)) {
        *pp = p + 1 + v->u.len + 1;
        *no = 0;
        v->refs++; /* aemp_ref, without the call */
        return v;
    }
    v = fast_scalar(r, pp, end, no);
    if (v && (size_t)(*pp - p - 2) <= AEMP_STR_CACHE_MAX) {
        aemp_unref(r->last[i]);
        v->refs++;
        r->last[i] = v;
    }
    return v;
}

/* The frames most links carry: an array of at most FLAT_MAX scalars
 * (a port id and a few strings and numbers), whole before end, at *pp
 * ('['). Made and delivered in one step, without the builder's levels;
 * the values and what the frame counts against the limit are fast_text's.
 * FAST_NO for anything else, or a frame the limit would refuse (the
 * builder untouched: fast_text or yajl then takes it and says why); else
 * *pp goes past it, and AEMP_OK or what the frame callback returned. */
static int flat_text(aemp_json_reader *r, const char **pp, const char *end)
{
    aemp_val *v[FLAT_MAX];
    unsigned n = 0;
    size_t cost = AEMP_COST_VALUE;
    const char *p = skip_space(*pp + 1, end);
    if (p < end && *p == ']')
        goto whole;
    for (;;) {
        int no;
        if (p == end || n == FLAT_MAX || *p == '[' || *p == '{')
            goto refused;
        aemp_val *x = flat_scalar(r, n, &p, end, &no);
        if (!x)
            goto refused; /* not for the fast way, or out of memory */
        v[n++] = x;
        cost += AEMP_COST_VALUE + AEMP_COST_ITEM +
                (x->type == AEMP_STRING ? x->u.len : 0);
        p = skip_space(p, end);
        if (p < end && *p == ']')
            break;
        if (p == end || *p != ',')
            goto refused;
        p = skip_space(p + 1, end);
    }
whole:
    if (cost > aempi_build_room(&r->b))
        goto refused;
    aemp_val *a = aempi_pool_array(r->b.pool, n);
    if (!a)
        goto refused;
    for (unsigned i = 0; i < n; i++) /* a few: no memcpy call */
        a->u.a.items[i] = v[i];
    a->u.a.len = n;
    *pp = p + 1;
    return aempi_build_frame(&r->b, a);
refused:
    while (n)
        aemp_unref(v[--n]);
    return FAST_NO;
}

/* The texts from *pp on, the fast way, as long as it takes them; *pp goes
 * past them. Only where yajl has finished every text it got (clean), so
 * that it cannot tell: it would only have skipped whitespace between them
 * and made the same values. */
static int fast(aemp_json_reader *r, const char **pp, const char *end)
{
    const char *p = *pp, *looked = p;
    int rc = AEMP_OK;
    for (;;) {
        p = skip_space(p, end);
        if (p == end || (*p != '[' && *p != '{'))
            break;
        const char *q = p;
        /* a frame's bytes on the wire are bounded as the scanner bounds
         * them: one that would not end within the limit is yajl's; so is
         * one longer than FAST_SPAN (what a text that is not for the fast
         * way costs it to find out stays small) */
        size_t span = r->b.max && r->b.max < FAST_SPAN ? r->b.max : FAST_SPAN;
        const char *lim = (size_t)(end - p) > span ? p + span : end;
        rc = *p == '[' ? flat_text(r, &q, lim) : FAST_NO;
        if (rc == FAST_NO)
            rc = fast_text(r, &q, lim);
        if (q > looked)
            looked = q;
        if (rc == FAST_NO) {
            rc = AEMP_OK;
            break;
        }
        p = q;
        if (rc)
            break;
    }
    r->work += (size_t)(looked - *pp);
    r->scan.at += (size_t)(p - *pp);
    *pp = p;
    if (rc && !r->b.free_pending)
        stopped(r, r->scan.at); /* yajl stops after the closing bracket */
    return rc;
}

/* ---- the way through yajl ---------------------------------------------- */

/* Bytes from *p, scanned first: yajl gets all of them up to a string or
 * number that is still open at their end, and that token's first byte
 * (so yajl knows that a number before it has ended, and sees a byte that
 * it refuses there); the rest of the token waits in hold. A stream
 * reader stops after a text that ends there (so that the next can take
 * the fast way), another goes on to end. *p goes past what was taken. */
static int slow(aemp_json_reader *r, const char **pp, const char *end)
{
    const char *data = *pp;
    size_t at = r->scan.at;
    const char *stop =
        r->stream ? aempi_json_scan_text(&r->scan, data, end, r->b.max)
                  : aempi_json_scan_run(&r->scan, data, end, r->b.max);
    r->work += (size_t)(stop - data);
    int rc;
    if (aemp_json_scan_in_token(&r->scan) && r->scan.tok_start < at) {
        if (!r->hold.len)
            r->hold_at = at;
        rc = hold(r, data, (size_t)(stop - data)); /* the held token goes on */
    } else {
        const char *cut = aemp_json_scan_in_token(&r->scan)
                              ? data + (r->scan.tok_start - at) + 1
                              : stop;
        rc = hand_over(r, data, cut, at);
        r->hold_at = at + (size_t)(cut - data);
        if (!rc && cut < stop)
            rc = hold(r, cut, (size_t)(stop - cut));
    }
    *pp = stop;
    if (!rc && r->scan.ended)
        r->clean = r->scan.ended == 1;
    if (rc || stop == end || r->scan.ended)
        return rc;
    aempi_build_over_limit(&r->b); /* the text outgrew the limit at stop */
    return stopped(r, at + (size_t)(stop - data));
}

/* One chunk: texts that lie whole in it the fast way, yajl's way for the
 * rest. */
static int feed(aemp_json_reader *r, const char *data, size_t len)
{
    const char *p = data, *end = data + len;
    int rc = AEMP_OK;
    while (!rc && p < end) {
        if (r->stream && r->clean && !r->hold.len && !r->scan.state &&
            !r->scan.depth && !r->scan.in_text) {
            rc = fast(r, &p, end);
            if (rc || p == end)
                break;
        }
        rc = slow(r, &p, end);
    }
    return rc;
}

int aempi_json_reader_feed(aemp_json_reader *r, const char *data, size_t len)
{
    if (r->b.err)
        return r->b.err;
    if (r->in_feed) /* called again from the frame callback */
        return AEMP_ESTATE;
    r->in_feed = 1;
    int rc = feed(r, data, len);
    r->in_feed = 0;
    if (r->b.free_pending) {
        rc = r->b.cb_rc;
        reader_destroy(r);
        return rc;
    }
    if (rc && !r->b.err) { /* out of memory outside yajl */
        aempi_build_fail(&r->b, rc, "out of memory");
        stopped(r, r->scan.at);
    }
    return rc;
}

const char *aempi_json_reader_error(const aemp_json_reader *r)
{
    return r && r->b.err ? r->msg : NULL;
}

static int keep_value(aemp_val *v, void *ud)
{
    *(aemp_val **)ud = v;
    return 0;
}

aemp_val *aemp_from_json(const char *json, size_t len, char **err)
{
    if (!json) {
        if (err)
            *err = strdup("no JSON text");
        return NULL;
    }
    aemp_val *v = NULL;
    /* Without yajl_allow_multiple_values a second value is an error
     * ("trailing garbage"), so keep_value runs at most once. */
    aemp_json_reader *r = reader_new(keep_value, &v, 0);
    int rc = r ? aempi_json_reader_feed(r, json, len) : AEMP_ENOMEM;
    if (r && !rc) /* a number at the end is still held back */
        rc = hand_over(r, json + len, json + len, r->scan.at);
    if (r && !rc)
        rc = settle(r, yajl_complete_parse(r->h), r->scan.at);
    if (rc) {
        if (err)
            *err = strdup(r ? r->msg : "out of memory");
        aemp_unref(v);
        v = NULL;
    }
    if (r)
        reader_destroy(r);
    return v;
}
