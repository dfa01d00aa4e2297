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

/* A string, or a map key: yajl alternates keys and values, so the
 * builder takes a string where its map waits for a key as the key. A
 * short one comes from the cache when it is there: it passed the UTF-8
 * check when it went in, and is not checked again. */
static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    aemp_json_reader *r = ctx;
    if (len > AEMP_STR_CACHE_MAX)
        return utf8_ok(r, s, len) && add(r, aemp_strn((const char *)s, len));
    uint64_t w[4];
    aempi_str_cover(s, len, w);
    aemp_val **slot, *v = aempi_str_cache_find(&r->recent, len, w, &slot);
    if (v)
        return add(r, v);
    if (!utf8_ok(r, s, len))
        return 0;
    v = aemp_strn((const char *)s, len);
    if (v && slot)
        aempi_str_cache_put(slot, v);
    return add(r, v);
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
    yajl_config(r->h, yajl_dont_validate_strings, 1); /* see utf8_ok */
    return r;
}

static void reader_destroy(aemp_json_reader *r)
{
    aempi_build_clear(&r->b);
    aempi_buf_free(&r->hold);
    aempi_str_cache_drop(&r->recent);
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

/* One chunk, scanned first: yajl gets all of it up to a string or number
 * that is still open at its end, and that token's first byte (so yajl
 * knows that a number before it has ended, and sees a byte that it
 * refuses there); the rest of the token waits in hold. */
static int feed(aemp_json_reader *r, const char *data, size_t len)
{
    const char *end = data + len;
    size_t at = r->scan.at;
    const char *stop = aempi_json_scan_run(&r->scan, data, end, r->b.max);
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
    if (rc || stop == end)
        return rc;
    aempi_build_over_limit(&r->b); /* the text outgrew the limit at stop */
    return stopped(r, at + (size_t)(stop - data));
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
