/* libaemp: values (include/aemp/value.h): constructors, strings, arrays,
 * lifetime and Perl's conversions. The layout is in value_int.h; maps are
 * in value_map.c, bignums in value_bignum.c, the UTF-8 rules in
 * value_utf8.c; equality is in value_json_write.c, because it is defined
 * by the JSON encoding.
 *
 * There is no global state: even aemp_null() allocates, so values made by
 * different nodes in one process never share a refcount.
 */
#include "value_int.h"

#include <langinfo.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aemp/error.h"

static aemp_val *val_new(aemp_type type, size_t extra)
{
    aemp_val *v = malloc(sizeof(*v) + extra);
    if (!v)
        return NULL;
    memset(v, 0, sizeof(*v));
    v->refs = 1;
    v->type = (uint8_t)type;
    return v;
}

/* ---- scalars ----------------------------------------------------------- */

aemp_val *aemp_null(void)
{
    return val_new(AEMP_NULL, 0);
}

aemp_val *aemp_bool(int b)
{
    aemp_val *v = val_new(AEMP_BOOL, 0);
    if (v)
        v->u.b = b != 0;
    return v;
}

aemp_val *aemp_int(int64_t i)
{
    aemp_val *v = val_new(AEMP_INT, 0);
    if (v)
        v->u.i = i;
    return v;
}

aemp_val *aemp_uint(uint64_t u)
{
    /* One representation per number: AEMP_UINT only above INT64_MAX, so
     * the two integer types never overlap. */
    if (u <= INT64_MAX)
        return aemp_int((int64_t)u);
    aemp_val *v = val_new(AEMP_UINT, 0);
    if (v)
        v->u.u = u;
    return v;
}

aemp_val *aemp_double(double d)
{
    aemp_val *v = val_new(AEMP_DOUBLE, 0);
    if (v)
        v->u.d = d;
    return v;
}

/* ---- strings ----------------------------------------------------------- */

/* A string value with room for len bytes; the caller fills str[] and then
 * calls str_done(). */
static aemp_val *str_alloc(size_t len)
{
    if (len > SIZE_MAX - sizeof(aemp_val) - 1)
        return NULL;
    aemp_val *v = val_new(AEMP_STRING, len + 1);
    if (v)
        v->u.len = len;
    return v;
}

/* 1 if no byte of s is above 0x7f, 8 at a time. */
static int all_ascii(const unsigned char *s, size_t len)
{
    uint64_t high = 0;
    size_t i = 0;
    for (; len - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        high |= w;
    }
    for (; i < len; i++)
        high |= s[i];
    return !(high & 0x8080808080808080u);
}

static void str_done(aemp_val *v)
{
    const unsigned char *s = (const unsigned char *)v->str;
    v->str[v->u.len] = 0;
    /* ASCII, most strings, is UTF-8 as it is */
    v->ascii = (uint8_t)all_ascii(s, v->u.len);
    v->utf8 = (uint8_t)(v->ascii || aempi_utf8_valid(s, v->u.len));
}

aemp_val *aemp_strn(const char *s, size_t len)
{
    if (!s && len)
        return aemp_null(); /* no string: undef, as Perl has it */
    aemp_val *v = str_alloc(len);
    if (!v)
        return NULL;
    if (len)
        memcpy(v->str, s, len);
    str_done(v);
    return v;
}

/* How many bytes of s have the top bit set, 8 at a time. */
static size_t count_high(const unsigned char *s, size_t len)
{
    size_t high = 0, i = 0;
    for (; len - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        w = (w >> 7) & 0x0101010101010101u;
        high += (size_t)((w * 0x0101010101010101u) >> 56);
    }
    for (; i < len; i++)
        high += s[i] >> 7;
    return high;
}

aemp_val *aempi_str_latin1(const char *s, size_t len)
{
    const unsigned char *b = (const unsigned char *)s;
    size_t high = count_high(b, len);
    if (high > SIZE_MAX - len)
        return NULL;
    aemp_val *v = str_alloc(len + high);
    if (!v)
        return NULL;
    unsigned char *o = (unsigned char *)v->str;
    if (!high) { /* the common case, ASCII: the bytes as they are */
        memcpy(o, b, len);
        len = 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (b[i] < 0x80) {
            *o++ = b[i];
        } else {
            *o++ = (unsigned char)(0xc0 | b[i] >> 6);
            *o++ = (unsigned char)(0x80 | (b[i] & 0x3f));
        }
    }
    v->str[v->u.len] = 0;
    v->utf8 = 1; /* by construction */
    v->ascii = !high;
    return v;
}

aemp_val *aemp_str(const char *s)
{
    /* undef, not NULL: NULL would end an aemp_sndv/aemp_arrayv list */
    return s ? aemp_strn(s, strlen(s)) : aemp_null();
}

aemp_val *aemp_strf(const char *fmt, ...)
{
    if (!fmt)
        return aemp_null();
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    aemp_val *v = str_alloc((size_t)n);
    if (!v)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(v->str, (size_t)n + 1, fmt, ap);
    va_end(ap);
    str_done(v);
    return v;
}

const char *aemp_str_ptr(const aemp_val *v, size_t *len)
{
    if (!v || v->type != AEMP_STRING)
        return NULL;
    if (len)
        *len = v->u.len;
    return v->str;
}

int aemp_str_eq(const aemp_val *v, const char *s)
{
    if (!v || v->type != AEMP_STRING || !s)
        return 0;
    size_t n = strlen(s);
    return v->u.len == n && memcmp(v->str, s, n) == 0;
}

int aempi_str_is_utf8(const aemp_val *v)
{
    return v && v->type == AEMP_STRING && v->utf8;
}

/* ---- arrays ------------------------------------------------------------ */

aemp_val *aemp_array(void)
{
    return val_new(AEMP_ARRAY, 0);
}

/* An array made for a known small length (a frame, a message built in
 * one call) keeps its items in its own allocation, after the header: one
 * malloc and one free per array instead of two. It moves them out only
 * if it grows past that. */
#define ARRAY_INLINE_MAX 8

static aemp_val **inline_items(aemp_val *a)
{
    return (aemp_val **)(void *)a->str;
}

static int array_reserve(aemp_val *a, size_t need)
{
    if (need <= a->u.a.cap)
        return AEMP_OK;
    size_t cap = a->u.a.cap ? a->u.a.cap * 2 : 4;
    while (cap < need)
        cap *= 2;
    if (cap > SIZE_MAX / sizeof(aemp_val *))
        return AEMP_ENOMEM;
    aemp_val **old = a->u.a.items;
    int was_inline = old == inline_items(a);
    aemp_val **items = realloc(was_inline ? NULL : old,
                               cap * sizeof(*items));
    if (!items)
        return AEMP_ENOMEM;
    if (was_inline)
        memcpy(items, old, a->u.a.len * sizeof(*items));
    a->u.a.items = items;
    a->u.a.cap = cap;
    return AEMP_OK;
}

aemp_val *aempi_array_with_room(size_t n)
{
    if (n && n <= ARRAY_INLINE_MAX) {
        aemp_val *a = val_new(AEMP_ARRAY, n * sizeof(aemp_val *));
        if (a) {
            a->u.a.items = inline_items(a);
            a->u.a.cap = n;
        }
        return a;
    }
    aemp_val *a = aemp_array();
    if (a && n && array_reserve(a, n)) {
        aemp_unref(a);
        return NULL;
    }
    return a;
}

aemp_val *aemp_arrayn(size_t n, aemp_val *const *items)
{
    if (n && !items)
        return NULL;
    aemp_val *a = aempi_array_with_room(n);
    int ok = a != NULL;
    for (size_t i = 0; i < n; i++)
        ok = ok && items[i];
    if (!ok) {
        for (size_t i = 0; i < n; i++)
            aemp_unref(items[i]);
        aemp_unref(a);
        return NULL;
    }
    if (n)
        memcpy(a->u.a.items, items, n * sizeof(*items));
    a->u.a.len = n;
    return a;
}

static int pool_kind(aemp_val *a)
{
    return a->type == AEMP_ARRAY && a->u.a.items == inline_items(a) &&
           a->u.a.cap == AEMP_POOL_ITEMS;
}

aemp_val *aempi_pool_array(aemp_val_pool *pool, size_t n)
{
    if (!pool || n > AEMP_POOL_ITEMS)
        return aempi_array_with_room(n);
    aemp_val *a = pool->free;
    if (!a)
        return aempi_array_with_room(AEMP_POOL_ITEMS);
    pool->free = inline_items(a)[0];
    pool->n--;
    a->refs = 1;
    return a;
}

void aempi_pool_drop(aemp_val_pool *pool, aemp_val *v)
{
    if (!pool || !v || v->refs > 1 || !pool_kind(v) ||
        pool->n >= AEMP_POOL_MAX) {
        aemp_unref(v);
        return;
    }
    for (size_t i = 0; i < v->u.a.len; i++) {
        aemp_val *item = v->u.a.items[i];
        if (item && item->refs > 1) /* a cached string, most often */
            item->refs--;
        else
            aemp_unref(item);
    }
    v->u.a.len = 0;
    inline_items(v)[0] = pool->free;
    pool->free = v;
    pool->n++;
}

void aempi_pool_clear(aemp_val_pool *pool)
{
    while (pool->free) {
        aemp_val *next = inline_items(pool->free)[0];
        free(pool->free);
        pool->free = next;
    }
    pool->n = 0;
}

aemp_val *aempi_array_va(aemp_val *first, va_list ap)
{
    va_list count;
    size_t n = 0;
    va_copy(count, ap);
    for (aemp_val *v = first; v; v = va_arg(count, aemp_val *))
        n++;
    va_end(count);
    /* room for exactly the n items: they go in without a check */
    aemp_val *a = aempi_array_with_room(n);
    for (aemp_val *v = first; v; v = va_arg(ap, aemp_val *)) {
        if (a)
            a->u.a.items[a->u.a.len++] = v;
        else
            aemp_unref(v);
    }
    return a;
}

aemp_val *aemp_arrayv(aemp_val *first, ...)
{
    va_list ap;
    va_start(ap, first);
    aemp_val *a = aempi_array_va(first, ap);
    va_end(ap);
    return a;
}

size_t aemp_array_len(const aemp_val *a)
{
    return a && a->type == AEMP_ARRAY ? a->u.a.len : 0;
}

aemp_val *aemp_array_at(const aemp_val *a, size_t i)
{
    if (!a || a->type != AEMP_ARRAY || i >= a->u.a.len)
        return NULL;
    return a->u.a.items[i];
}

int aemp_array_push(aemp_val *a, aemp_val *item)
{
    if (!item) /* most likely a failed constructor */
        return AEMP_ENOMEM;
    if (!a || a->type != AEMP_ARRAY) {
        aemp_unref(item);
        return AEMP_EINVAL;
    }
    if (array_reserve(a, a->u.a.len + 1)) {
        aemp_unref(item);
        return AEMP_ENOMEM;
    }
    a->u.a.items[a->u.a.len++] = item;
    return AEMP_OK;
}

aemp_val *aemp_array_take(aemp_val *a, size_t i)
{
    if (!a || a->type != AEMP_ARRAY || i >= a->u.a.len)
        return NULL;
    aemp_val *item = a->u.a.items[i];
    a->u.a.len--;
    memmove(a->u.a.items + i, a->u.a.items + i + 1,
            (a->u.a.len - i) * sizeof(aemp_val *));
    return item;
}

void aemp_array_shift(aemp_val *a, size_t n)
{
    if (!a || a->type != AEMP_ARRAY)
        return;
    if (n > a->u.a.len)
        n = a->u.a.len;
    for (size_t i = 0; i < n; i++)
        aemp_unref(a->u.a.items[i]);
    a->u.a.len -= n;
    memmove(a->u.a.items, a->u.a.items + n, a->u.a.len * sizeof(aemp_val *));
}

/* ---- maps (the rest is in value_map.c) --------------------------------- */

aemp_val *aemp_map(void)
{
    return val_new(AEMP_MAP, 0);
}

/* ---- lifetime ---------------------------------------------------------- */

aemp_val *aemp_ref(aemp_val *v)
{
    if (v)
        v->refs++;
    return v;
}

void aemp_unref(aemp_val *v)
{
    if (!v || --v->refs > 0)
        return;
    if (v->type == AEMP_ARRAY) {
        for (size_t i = 0; i < v->u.a.len; i++)
            aemp_unref(v->u.a.items[i]);
        if (v->u.a.items != inline_items(v))
            free(v->u.a.items);
    } else if (v->type == AEMP_MAP) {
        aempi_map_free_entries(v);
    }
    free(v);
}

aemp_val *aemp_copy(const aemp_val *v)
{
    if (!v)
        return NULL;
    aemp_val *c;
    switch ((aemp_type)v->type) {
    case AEMP_STRING:
        c = aemp_strn(v->str, v->u.len);
        if (c)
            c->big = v->big;
        return c;
    case AEMP_ARRAY:
        c = aempi_array_with_room(v->u.a.len);
        for (size_t i = 0; c && i < v->u.a.len; i++) {
            if (aemp_array_push(c, aemp_copy(v->u.a.items[i]))) {
                aemp_unref(c);
                c = NULL;
            }
        }
        return c;
    case AEMP_MAP:
        c = aemp_map();
        for (uint32_t i = 0; c && i < v->u.m.len; i++) {
            const aemp_mapent *e = &v->u.m.ents[i];
            if (aempi_map_set_kv(c, aemp_copy(e->key), aemp_copy(e->val))) {
                aemp_unref(c);
                c = NULL;
            }
        }
        return c;
    default: /* scalars: the union is the whole value */
        c = val_new((aemp_type)v->type, 0);
        if (c)
            c->u = v->u;
        return c;
    }
}

int aempi_nesting_exceeds(const aemp_val *v, size_t limit)
{
    if (!v || (v->type != AEMP_ARRAY && v->type != AEMP_MAP))
        return 0;
    if (limit == 0)
        return 1;
    if (v->type == AEMP_ARRAY) {
        for (size_t i = 0; i < v->u.a.len; i++)
            if (aempi_nesting_exceeds(v->u.a.items[i], limit - 1))
                return 1;
    } else {
        for (uint32_t i = 0; i < v->u.m.len; i++)
            if (aempi_nesting_exceeds(v->u.m.ents[i].val, limit - 1))
                return 1;
    }
    return 0;
}

/* ---- type and conversions ---------------------------------------------- */

aemp_type aemp_type_of(const aemp_val *v)
{
    return v ? (aemp_type)v->type : AEMP_NULL;
}

const char *aemp_type_name(aemp_type t)
{
    switch (t) {
    case AEMP_NULL: return "null";
    case AEMP_BOOL: return "bool";
    case AEMP_INT: return "int";
    case AEMP_UINT: return "uint";
    case AEMP_DOUBLE: return "double";
    case AEMP_STRING: return "string";
    case AEMP_ARRAY: return "array";
    case AEMP_MAP: return "map";
    }
    return "unknown";
}

int aemp_is_null(const aemp_val *v)
{
    return !v || v->type == AEMP_NULL;
}

int aemp_is_true(const aemp_val *v)
{
    switch (aemp_type_of(v)) {
    case AEMP_NULL: return 0;
    case AEMP_BOOL: return v->u.b;
    case AEMP_INT: return v->u.i != 0;
    case AEMP_UINT: return 1;
    case AEMP_DOUBLE: return v->u.d != 0.0; /* NaN is true in Perl too */
    case AEMP_STRING:
        return !(v->u.len == 0 || (v->u.len == 1 && v->str[0] == '0'));
    case AEMP_ARRAY:
    case AEMP_MAP: return 1; /* references are always true */
    }
    return 0;
}

double aempi_parse_double(const char *s, size_t len)
{
    /* strtod wants the locale's radix character; JSON's is always '.'. */
    const char *radix = nl_langinfo(RADIXCHAR);
    size_t rlen = strlen(radix);
    char small[64], *buf = small;
    if (len > SIZE_MAX - rlen - 1)
        return 0.0;
    if (len + rlen + 1 > sizeof(small) && !(buf = malloc(len + rlen + 1)))
        return 0.0;
    size_t o = 0;
    int seen = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.' && !seen && rlen) {
            memcpy(buf + o, radix, rlen);
            o += rlen;
            seen = 1;
        } else {
            buf[o++] = s[i];
        }
    }
    buf[o] = 0;
    double d = strtod(buf, NULL);
    if (buf != small)
        free(buf);
    return d;
}

/* Perl numifies a string by its leading number; unlike strtod it knows no
 * hexadecimal. */
static double str_to_double(const aemp_val *v)
{
    const char *p = v->str;
    while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        p++;
    const char *q = p + (*p == '+' || *p == '-');
    if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
        return 0.0;
    return aempi_parse_double(p, v->u.len - (size_t)(p - v->str));
}

static int looks_fractional(const char *end)
{
    return *end == '.' || *end == 'e' || *end == 'E';
}

static int64_t dbl_to_int(double d)
{
    if (isnan(d))
        return 0;
    if (d >= 9223372036854775808.0)
        return INT64_MAX;
    if (d < -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)d;
}

static uint64_t dbl_to_uint(double d)
{
    if (isnan(d))
        return 0;
    if (d < 0)
        return (uint64_t)dbl_to_int(d); /* as Perl casts a negative IV */
    if (d >= 18446744073709551616.0)
        return UINT64_MAX;
    return (uint64_t)d;
}

int64_t aemp_as_int(const aemp_val *v)
{
    char *end;
    long long i;
    switch (aemp_type_of(v)) {
    case AEMP_BOOL: return v->u.b;
    case AEMP_INT: return v->u.i;
    case AEMP_UINT: return INT64_MAX; /* always above it: clamp */
    case AEMP_DOUBLE: return dbl_to_int(v->u.d);
    case AEMP_STRING:
        i = strtoll(v->str, &end, 10);
        return looks_fractional(end) ? dbl_to_int(str_to_double(v)) : i;
    default: return 0;
    }
}

uint64_t aemp_as_uint(const aemp_val *v)
{
    char *end;
    unsigned long long u;
    switch (aemp_type_of(v)) {
    case AEMP_BOOL: return (uint64_t)v->u.b;
    case AEMP_INT: return (uint64_t)v->u.i;
    case AEMP_UINT: return v->u.u;
    case AEMP_DOUBLE: return dbl_to_uint(v->u.d);
    case AEMP_STRING:
        u = strtoull(v->str, &end, 10);
        return looks_fractional(end) ? dbl_to_uint(str_to_double(v)) : u;
    default: return 0;
    }
}

double aemp_as_double(const aemp_val *v)
{
    switch (aemp_type_of(v)) {
    case AEMP_BOOL: return v->u.b;
    case AEMP_INT: return (double)v->u.i;
    case AEMP_UINT: return (double)v->u.u;
    case AEMP_DOUBLE: return v->u.d;
    case AEMP_STRING: return str_to_double(v);
    default: return 0.0;
    }
}
