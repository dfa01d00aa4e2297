/* libaemp internal: the value layout (for value.c and value_map.c) and
 * what the values share with the codecs (JSON, CBOR). Codecs use the
 * accessors, not the struct. */
#ifndef AEMP_VALUE_INT_H
#define AEMP_VALUE_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "aemp/value.h"
#include "buf.h"

/* Nesting limit for decoders and the JSON writer: JSON::XS's default
 * max_depth, so what Perl refuses is refused here too, and recursion
 * stays bounded. */
#define AEMP_MAX_DEPTH 512

/* One map entry; entries stay in insertion order. */
typedef struct aemp_mapent {
    aemp_val *key; /* an AEMP_STRING, so a decoder can hand its key over */
    aemp_val *val;
    uint32_t hash;
} aemp_mapent;

/* Every value is one malloc'd struct: refcount, type, and a union big
 * enough for the largest container header (40 bytes in all on 64-bit).
 * Strings are immutable and keep their bytes in the flexible array member
 * after the union, so a string of any length is one allocation. */
struct aemp_val {
    uint32_t refs;
    uint8_t type; /* aemp_type */
    uint8_t utf8; /* strings: 1 if well-formed UTF-8, see below */
    uint8_t big;  /* strings: the digits of a bignum (value_bignum.c) */
    uint8_t ascii; /* strings: 1 if no byte is above 0x7f, found when the
                      string is made (0: not, or not known), so that the
                      writers need not look again at every send */
    union {
        int b;
        int64_t i;
        uint64_t u;
        double d;
        size_t len; /* string: bytes in str[], not counting the NUL */
        struct {
            aemp_val **items;
            size_t len, cap;
        } a;
        struct {
            aemp_mapent *ents; /* insertion order, cap a power of two */
            uint32_t *index;   /* NULL, or 2 * cap slots: entry + 1 */
            uint32_t len, cap;
        } m;
    } u;
    char str[]; /* strings only: u.len bytes and a NUL */
};

/* The items of the array a (an AEMP_ARRAY), aemp_array_len(a) of them:
 * for the frame writers and the send path, which walk them without a
 * call per item. */
static inline aemp_val *const *aempi_array_items(const aemp_val *a)
{
    return a->u.a.items;
}

/* aemp_array_at and aemp_str_ptr(v, NULL), without the call: the kernel
 * asks them several times of every message it receives. */
static inline aemp_val *aempi_item(const aemp_val *a, size_t i)
{
    return a && a->type == AEMP_ARRAY && i < a->u.a.len ? a->u.a.items[i]
                                                        : NULL;
}

static inline const char *aempi_str_bytes(const aemp_val *v)
{
    return v && v->type == AEMP_STRING ? v->str : NULL;
}

/* 1 if v nests arrays and maps more than limit levels deep (v itself is
 * the first), as an encoder with that max_depth would refuse it. */
int aempi_nesting_exceeds(const aemp_val *v, size_t limit);

/* Drops a map's entries and storage (for aemp_unref). */
void aempi_map_free_entries(aemp_val *m);

/* 1 if the string value holds well-formed UTF-8 (a Perl character string),
 * 0 if it is to be treated as a Perl byte string. Computed once, when the
 * string is made. Well-formed means what JSON::XS decodes, which is what
 * Perl holds: shortest form, any code point Perl allows (up to 2^63 - 1,
 * in Perl's extended UTF-8 beyond U+10FFFF: F4 90 80 80 is U+110000, FF
 * leads 13 bytes); UTF-16 surrogates (ED A0..BF xx) included. */
int aempi_str_is_utf8(const aemp_val *v);
int aempi_utf8_valid(const unsigned char *s, size_t len);
/* The code point at s[*i] of a string aempi_utf8_valid accepted; advances
 * *i past it. */
uint64_t aempi_utf8_next(const unsigned char *s, size_t *i);

/* A string of the characters of the bytes s (a Perl byte string: each
 * byte the character of that code point) in UTF-8: "\xe9" is "\xc3\xa9".
 * NULL when out of memory. */
aemp_val *aempi_str_latin1(const char *s, size_t len);

/* Bignums (value_bignum.c). The longest magnitude the CBOR reader takes:
 * converting digits costs time quadratic in their number. */
#define AEMP_BIGNUM_BYTES 1024
/* The bignum of big-endian magnitude s (neg: its negative, as CBOR::XS
 * reads tag 3); NULL when out of memory or longer than AEMP_BIGNUM_BYTES
 * after leading zeros. */
aemp_val *aempi_bignum_from_bytes(const unsigned char *s, size_t len,
                                  int neg);
/* 1 and *i when the bignum v is in -2^31 .. 2^31 - 1, where CBOR::XS
 * writes a Math::BigInt as a plain integer. */
int aempi_bignum_small(const aemp_val *v, int64_t *i);
/* Appends the big-endian magnitude of the bignum v, without leading zeros
 * (nothing for 0). AEMP_ENOMEM. */
int aempi_bignum_magnitude(const aemp_val *v, aemp_buf *out);

/* The key of entry i as a string value (borrowed). */
aemp_val *aempi_map_key_val_at(const aemp_val *m, size_t i);
/* The key equal to key as m holds it (borrowed), or NULL: another map
 * can share it rather than allocate a copy. */
aemp_val *aempi_map_key_val(const aemp_val *m, const char *key, size_t klen);
/* Sets m[key] = v, taking both key (a string value) and v. */
int aempi_map_set_kv(aemp_val *m, aemp_val *key, aemp_val *v);
/* An empty array with room for n items: a decoder that knows the length
 * allocates the item vector once. */
aemp_val *aempi_array_with_room(size_t n);
/* Arrays a node takes in and lets go of in bulk (the frames of a read,
 * freed as their jobs finish) are kept for reuse, per node: in bulk,
 * malloc and free miss their fast caches and cost more than the rest of
 * a small message's handling. A pool holds arrays with room for
 * AEMP_POOL_ITEMS items in their own allocation (aempi_array_with_room
 * makes those too), at most AEMP_POOL_MAX of them. No state is shared
 * between pools: several nodes in one process each have their own. */
#define AEMP_POOL_ITEMS 4
#define AEMP_POOL_MAX 512

typedef struct aemp_val_pool {
    aemp_val *free; /* linked through their first item */
    size_t n;
} aemp_val_pool;

/* An empty array with room for n items, from the pool when n is at most
 * AEMP_POOL_ITEMS (pool may be NULL: aempi_array_with_room). */
aemp_val *aempi_pool_array(aemp_val_pool *pool, size_t n);
/* aemp_unref(v), but an array that goes and is of the pool's kind is
 * kept in the pool (pool may be NULL). */
void aempi_pool_drop(aemp_val_pool *pool, aemp_val *v);
/* Frees what the pool holds. */
void aempi_pool_clear(aemp_val_pool *pool);

/* aemp_arrayv's work: the array of first and the values ap holds up to a
 * NULL (taken; all dropped, and NULL returned, when out of memory). */
aemp_val *aempi_array_va(aemp_val *first, va_list ap);

/* What a decoder counts against the size limit of one frame (max_frame):
 * every value its node (and a string its bytes), every array item its
 * slot, every map entry its entry and index slots. Near what the frame
 * costs in memory, whatever the wire format spends on it. */
#define AEMP_COST_VALUE sizeof(struct aemp_val)
#define AEMP_COST_ITEM sizeof(aemp_val *)
#define AEMP_COST_ENTRY (sizeof(aemp_mapent) + 2 * sizeof(uint32_t))

/* strtod for JSON number text, independent of the C locale's decimal
 * point; s need not be NUL-terminated. */
double aempi_parse_double(const char *s, size_t len);

#endif
