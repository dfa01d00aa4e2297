/* libaemp: the JSON reader, an incremental parser over yajl 2.
 *
 * The "json" framing sends JSON texts back to back with no separator, so
 * the stream reader runs yajl with yajl_allow_multiple_values and builds
 * values from its callbacks; every complete top-level value goes to the
 * frame callback at once. yajl keeps partial tokens between chunks, so a
 * chunk may end anywhere (inside a number, a string, an escape, a UTF-8
 * sequence or "true"). Strings and keys must be UTF-8 as JSON::XS decodes
 * it (aemp_utf8_valid: shortest form, Perl's code points beyond U+10FFFF
 * included), checked by us instead of yajl.
 *
 * Open containers live on the reader's own stack until they close, and
 * only then join their parent, so freeing the reader (or failing) at any
 * point drops exactly what the stack holds.
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
#include "value_int.h"

typedef struct level {
    aemp_val *c;   /* the open array or map */
    aemp_val *key; /* maps: the key that waits for its value */
} level;

struct aemp_json_reader {
    yajl_handle h;
    aemp_json_frame_cb cb;
    void *ud;
    level *stack;
    size_t depth, cap;
    size_t fed;        /* bytes of the chunks before the current one */
    int err;           /* once set, the reader stays failed with it */
    const char *why;   /* for errors raised in our callbacks */
    int in_feed;       /* inside yajl_parse: the frame callback may run */
    int free_pending;  /* freed from inside the frame callback */
    int cb_rc;         /* what the frame callback returned */
    char msg[256];
};

/* Records an error raised inside a yajl callback; returning 0 makes yajl
 * stop with yajl_status_client_canceled. */
static int fail(aemp_json_reader *r, int err, const char *why)
{
    if (!r->err) {
        r->err = err;
        r->why = why;
    }
    return 0;
}

static int deliver(aemp_json_reader *r, aemp_val *v)
{
    r->cb_rc = r->cb(v, r->ud);
    if (r->free_pending)
        return fail(r, AEMP_ESTATE, "reader freed by the frame callback");
    if (r->cb_rc)
        return fail(r, r->cb_rc, "stopped by the frame callback");
    return 1;
}

/* A finished value joins the open container, or is a frame. */
static int add(aemp_json_reader *r, aemp_val *v)
{
    if (!v)
        return fail(r, AEMP_ENOMEM, "out of memory");
    if (r->depth == 0)
        return deliver(r, v);
    level *l = &r->stack[r->depth - 1];
    int rc;
    if (aemp_type_of(l->c) == AEMP_ARRAY) {
        rc = aemp_array_push(l->c, v);
    } else {
        rc = aemp_map_set_kv(l->c, l->key, v);
        l->key = NULL;
    }
    return rc ? fail(r, AEMP_ENOMEM, "out of memory") : 1;
}

static int open_level(aemp_json_reader *r, aemp_val *c)
{
    if (!c)
        return fail(r, AEMP_ENOMEM, "out of memory");
    if (r->depth == AEMP_MAX_DEPTH) {
        aemp_unref(c);
        return fail(r, AEMP_EPARSE, "nesting deeper than 512 levels");
    }
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
    r->stack[r->depth++] = (level){c, NULL};
    return 1;
}

/* The value of a JSON number's text; see the top of the file. */
static aemp_val *number_value(const char *s, size_t len)
{
    if (memchr(s, '.', len) || memchr(s, 'e', len) || memchr(s, 'E', len))
        return aemp_double(aemp_parse_double(s, len));
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
    return aemp_utf8_valid(s, len)
               ? 1
               : fail(r, AEMP_EPARSE, "malformed UTF-8 character in JSON "
                                      "string");
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    return utf8_ok(ctx, s, len) && add(ctx, aemp_strn((const char *)s, len));
}

static int on_start_map(void *ctx)
{
    return open_level(ctx, aemp_map());
}

static int on_start_array(void *ctx)
{
    return open_level(ctx, aemp_array());
}

static int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
    aemp_json_reader *r = ctx;
    level *l = &r->stack[r->depth - 1];
    if (!utf8_ok(r, key, len))
        return 0;
    aemp_unref(l->key); /* NULL: yajl alternates keys and values */
    l->key = aemp_strn((const char *)key, len);
    return l->key ? 1 : fail(r, AEMP_ENOMEM, "out of memory");
}

static int on_end(void *ctx)
{
    aemp_json_reader *r = ctx;
    level *l = &r->stack[--r->depth];
    aemp_unref(l->key); /* NULL unless the map ended after a key */
    return add(r, l->c);
}

/* yajl_number, not yajl_integer/yajl_double: we type numbers ourselves. */
static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
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
    r->cb = cb;
    r->ud = ud;
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
    for (size_t i = 0; i < r->depth; i++) {
        aemp_unref(r->stack[i].c);
        aemp_unref(r->stack[i].key);
    }
    free(r->stack);
    yajl_free(r->h);
    free(r);
}

aemp_json_reader *aemp_json_reader_new(aemp_json_frame_cb cb, void *ud)
{
    return cb ? reader_new(cb, ud, 1) : NULL;
}

void aemp_json_reader_free(aemp_json_reader *r)
{
    if (!r)
        return;
    if (r->in_feed) { /* inside the frame callback: feed frees it */
        r->free_pending = 1;
        return;
    }
    reader_destroy(r);
}

/* Turns yajl's verdict on a chunk of len bytes into our result and, on
 * failure, the message with the stream offset where parsing stopped. */
static int settle(aemp_json_reader *r, yajl_status st, size_t len)
{
    if (st == yajl_status_ok) {
        r->fed += len;
        return AEMP_OK;
    }
    size_t pos = r->fed + (len ? yajl_get_bytes_consumed(r->h) : 0);
    if (st == yajl_status_error) {
        unsigned char *e = yajl_get_error(r->h, 0, NULL, 0);
        const char *text = e ? (const char *)e : "parse error";
        int n = (int)strcspn(text, "\n");
        snprintf(r->msg, sizeof(r->msg), "JSON at byte %zu: %.*s", pos, n,
                 text);
        if (e)
            yajl_free_error(r->h, e);
        r->err = AEMP_EPARSE;
    } else {
        snprintf(r->msg, sizeof(r->msg), "JSON at byte %zu: %s", pos,
                 r->why ? r->why : "stopped");
        if (!r->err)
            r->err = AEMP_EPARSE;
    }
    return r->err;
}

int aemp_json_reader_feed(aemp_json_reader *r, const char *data, size_t len)
{
    if (r->err)
        return r->err;
    if (r->in_feed) /* called again from the frame callback */
        return AEMP_ESTATE;
    r->in_feed = 1;
    yajl_status st = yajl_parse(r->h, (const unsigned char *)data, len);
    r->in_feed = 0;
    if (r->free_pending) {
        int rc = r->cb_rc;
        reader_destroy(r);
        return rc;
    }
    return settle(r, st, len);
}

const char *aemp_json_reader_error(const aemp_json_reader *r)
{
    return r && r->err ? r->msg : NULL;
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
    int rc = r ? aemp_json_reader_feed(r, json, len) : AEMP_ENOMEM;
    if (r && !rc)
        rc = settle(r, yajl_complete_parse(r->h), 0);
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
