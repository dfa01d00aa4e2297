/* libaemp: the value builder of the frame readers (value_build.h).
 *
 * Open containers join their parent only when they close. What a frame
 * counts against the limit: every value its node as it comes (a string
 * also its bytes, a container when it opens), and every item or map
 * entry its place in the container as it joins. */
#include "value_build.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "aemp/error.h"
#include "buf.h"
#include "value_int.h"
#include "value_json.h"

struct aemp_build_level {
    aemp_val *c;   /* the open array or map */
    aemp_val *key; /* maps: the key that waits for its value */
    uint64_t left; /* definite: items (arrays) or pairs (maps) to come */
    int indef;     /* indefinite length: ends at aempi_build_close */
};

void aempi_build_init(aemp_build *b, aemp_build_frame_cb cb, void *ud)
{
    *b = (aemp_build){.cb = cb, .ud = ud};
}

void aempi_build_clear(aemp_build *b)
{
    for (size_t i = 0; i < b->depth; i++) {
        aemp_unref(b->stack[i].c);
        aemp_unref(b->stack[i].key);
    }
    free(b->stack);
    b->stack = NULL;
    b->depth = b->cap = 0;
}

int aempi_build_fail(aemp_build *b, int err, const char *why)
{
    if (!b->err) {
        b->err = err;
        b->why = why;
    }
    return b->err;
}

int aempi_build_over_limit(aemp_build *b)
{
    snprintf(b->limit_why, sizeof(b->limit_why),
             "frame exceeds the limit of %zu bytes", b->max);
    return aempi_build_fail(b, AEMP_ELIMIT, b->limit_why);
}

/* Counts n more bytes of the frame against the limit. */
static int charge(aemp_build *b, size_t n)
{
    if (n > aempi_build_room(b))
        return aempi_build_over_limit(b);
    b->size += n;
    return AEMP_OK;
}

static int deliver(aemp_build *b, aemp_val *v)
{
    b->size = 0;
    b->cb_rc = b->cb(v, b->ud);
    if (b->free_pending)
        return aempi_build_fail(b, AEMP_ESTATE,
                                "reader freed by the frame callback");
    if (b->cb_rc)
        return aempi_build_fail(b, b->cb_rc, "stopped by the frame callback");
    return AEMP_OK;
}

static int out_of_memory(aemp_build *b)
{
    return aempi_build_fail(b, AEMP_ENOMEM, "out of memory");
}

/* A scalar key as Perl stringifies it (see value_build.h); takes v. */
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
        } else if (!aempi_json_write(&b, v, 0)) {
            /* the JSON writer prints numbers as Perl does ("%.15g") */
            k = aemp_strn(b.p, b.len);
        }
        aempi_buf_free(&b);
        break;
    default: break; /* containers are refused when they open */
    }
    aemp_unref(v);
    return k;
}

/* What the place of a value in l costs: an array item its slot, a map
 * value its entry; a key nothing more. */
static size_t place_cost(const aemp_build_level *l)
{
    return l->c->type == AEMP_ARRAY ? AEMP_COST_ITEM
           : l->key                         ? AEMP_COST_ENTRY
                                            : 0;
}

/* A finished value (a scalar that counted itself, or a container that
 * closed) joins the open container, or is a frame; a container whose
 * declared length it completes joins its parent in turn. */
static int join(aemp_build *b, aemp_val *v)
{
    for (;;) {
        if (b->depth == 0)
            return deliver(b, v);
        aemp_build_level *l = &b->stack[b->depth - 1];
        if (charge(b, place_cost(l))) {
            aemp_unref(v);
            return b->err;
        }
        aemp_val *c = l->c;
        if (c->type == AEMP_ARRAY) {
            /* every value of every frame passes here: room made ahead
             * (aempi_build_open) is filled without a call */
            if (c->u.a.len < c->u.a.cap)
                c->u.a.items[c->u.a.len++] = v;
            else if (aemp_array_push(c, v))
                return out_of_memory(b);
        } else if (!l->key) {
            l->key = key_of(v);
            return l->key ? AEMP_OK : out_of_memory(b);
        } else {
            int rc = aempi_map_set_kv(l->c, l->key, v);
            l->key = NULL;
            if (rc)
                return out_of_memory(b);
        }
        if (l->indef || --l->left)
            return AEMP_OK;
        v = l->c;
        b->depth--;
    }
}

int aempi_build_value(aemp_build *b, aemp_val *v)
{
    if (!v)
        return out_of_memory(b);
    /* strings count their bytes too */
    size_t len = v->type == AEMP_STRING ? v->u.len : 0;
    if (charge(b, AEMP_COST_VALUE + len)) {
        aemp_unref(v);
        return b->err;
    }
    return join(b, v);
}

int aempi_build_frame(aemp_build *b, aemp_val *frame)
{
    return frame ? deliver(b, frame) : out_of_memory(b);
}

static int push_level(aemp_build *b, aemp_val *c, uint64_t n, int indef)
{
    if (b->depth == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4;
        aemp_build_level *stack = realloc(b->stack, cap * sizeof(*stack));
        if (!stack) {
            aemp_unref(c);
            return out_of_memory(b);
        }
        b->stack = stack;
        b->cap = cap;
    }
    b->stack[b->depth++] = (aemp_build_level){c, NULL, n, indef};
    return AEMP_OK;
}

int aempi_build_open(aemp_build *b, aemp_type type, uint64_t n, int indef)
{
    const aemp_build_level *l = b->depth ? &b->stack[b->depth - 1] : NULL;
    if (l && !l->key && aemp_type_of(l->c) == AEMP_MAP)
        return aempi_build_fail(b, AEMP_EPARSE, "map key is an array or map");
    if (b->depth == AEMP_MAX_DEPTH)
        return aempi_build_fail(b, AEMP_EPARSE,
                                "nesting deeper than 512 levels");
    /* each item, or pair, counts at least this much: a declared length
     * that cannot fit is refused before any item comes */
    size_t least = type == AEMP_ARRAY ? AEMP_COST_VALUE + AEMP_COST_ITEM
                                      : 2 * AEMP_COST_VALUE + AEMP_COST_ENTRY;
    if (charge(b, AEMP_COST_VALUE))
        return b->err;
    if (!indef && n > aempi_build_room(b) / least)
        return aempi_build_over_limit(b);
    /* a definite array gets its room at once (a length from the wire is
     * trusted only so far: the rest grows as items really come); an
     * indefinite one (every JSON array) comes from the pool if there is
     * one, with the room of the pool's arrays (most frames fit) */
    aemp_val *c = type != AEMP_ARRAY ? aemp_map()
                  : indef ? (b->pool ? aempi_pool_array(b->pool,
                                                        AEMP_POOL_ITEMS)
                                     : aemp_array())
                          : aempi_pool_array(b->pool,
                                             n < 64 ? (size_t)n : 64);
    if (!c)
        return out_of_memory(b);
    if (!indef && n == 0)
        return join(b, c);
    return push_level(b, c, n, indef);
}

int aempi_build_close(aemp_build *b)
{
    aemp_build_level *l = b->depth ? &b->stack[b->depth - 1] : NULL;
    if (!l || !l->indef)
        return aempi_build_fail(b, AEMP_EPARSE, "unexpected break");
    if (l->key)
        return aempi_build_fail(b, AEMP_EPARSE, "break after a map key");
    b->depth--;
    return join(b, l->c);
}
