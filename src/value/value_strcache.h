/* libaemp internal: the short-string cache of the frame readers.
 *
 * A link sees the same short strings over and over: port ids, request
 * names, family and key names. Values are immutable and counted, so a
 * reader hands out another reference to the string it made last time
 * instead of allocating a copy: a slot per hash of the bytes, the newest
 * string wins the slot. Every string a reader makes is looked up, so
 * hashing and comparing go a word at a time (aempi_str_cover): a byte at
 * a time they were a fifth of a receiver's time.
 *
 * A seed holds thousands of links that are idle after a few frames: the
 * cache starts small, allocated with the first lookup, and grows once
 * enough strings went through it (memory per idle link, not per
 * message). Each reader has its own; what it puts in is its business
 * (the JSON reader only strings that passed its UTF-8 check). */
#ifndef AEMP_VALUE_STRCACHE_H
#define AEMP_VALUE_STRCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "aemp/value.h"
#include "value_int.h"

/* Longer strings are rarely repeated, and not cached. */
#define AEMP_STR_CACHE_MAX 32

typedef struct aemp_str_cache {
    aemp_val **slot; /* NULL until the first lookup */
    unsigned n;      /* slots: 0, or one of the two sizes */
    unsigned seen;   /* strings looked up while it is small */
} aemp_str_cache;

#define AEMP_STR_CACHE_INIT {NULL, 0, 0}

/* Bytes at p as one word, in whatever byte order: only hashed and
 * compared. */
static inline uint64_t aempi_load64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline uint64_t aempi_load32(const unsigned char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

/* Four words that cover the len (at most AEMP_STR_CACHE_MAX) bytes of s,
 * read a word at a time rather than a byte, always at the same places for
 * the same len: from 8 bytes on, the words at 0, 8 (from 17 bytes) and 16
 * (from 25), and the one that ends at len, overlapping them; 4 to 7
 * bytes, the 4 at the start and the 4 at the end; 1 to 3 bytes, the
 * first, middle and last. Every byte lies in one of them, none beyond
 * len is read, and the words not needed are 0: two strings of one length
 * are equal when their words are. Always four, so that hashing and
 * comparing run without a loop. */
static inline void aempi_str_cover(const unsigned char *s, size_t len,
                                   uint64_t w[4])
{
    if (len >= 8) {
        w[0] = aempi_load64(s);
        w[1] = len > 16 ? aempi_load64(s + 8) : 0;
        w[2] = len > 24 ? aempi_load64(s + 16) : 0;
        w[3] = aempi_load64(s + len - 8);
        return;
    }
    if (len >= 4)
        w[0] = aempi_load32(s) | aempi_load32(s + len - 4) << 32;
    else if (len)
        w[0] = s[0] | (uint64_t)s[len / 2] << 8 | (uint64_t)s[len - 1] << 16;
    else
        w[0] = 0;
    w[1] = w[2] = w[3] = 0;
}

/* 1 if the len (at most AEMP_STR_CACHE_MAX) bytes at a and b are the
 * same: a word at a time, without a call (the readers compare a frame's
 * strings with the last frame's this way, several per message). */
static inline int aempi_str_same(const unsigned char *a,
                                 const unsigned char *b, size_t len)
{
    if (len >= 8) {
        for (size_t i = 0; i + 8 < len; i += 8)
            if (aempi_load64(a + i) != aempi_load64(b + i))
                return 0;
        return aempi_load64(a + len - 8) == aempi_load64(b + len - 8);
    }
    if (len >= 4)
        return aempi_load32(a) == aempi_load32(b) &&
               aempi_load32(a + len - 4) == aempi_load32(b + len - 4);
    return !len || (a[0] == b[0] && a[len / 2] == b[len / 2] &&
                    a[len - 1] == b[len - 1]);
}

/* The slots when full size: indexed by a hash's top 7 bits. */
#define AEMP_STR_CACHE_SLOTS 128

/* The slots for the next string while the cache is not full size yet:
 * allocated, or grown (a fresh array, the old strings dropped); NULL
 * without memory. */
aemp_val **aempi_str_cache_slots(aemp_str_cache *c);

/* The cached string of len bytes (at most AEMP_STR_CACHE_MAX) whose
 * words are w, with a new reference; else NULL, and *slot is where a new
 * string of these bytes goes (aempi_str_cache_put), or NULL without
 * memory (no caching then). Inline: it is on the path of every string. */
static inline aemp_val *aempi_str_cache_find(aemp_str_cache *c, size_t len,
                                             const uint64_t w[4],
                                             aemp_val ***slot)
{
    aemp_val **s = c->n == AEMP_STR_CACHE_SLOTS ? c->slot
                                                : aempi_str_cache_slots(c);
    *slot = NULL;
    if (!s)
        return NULL;
    const uint64_t k = 0x9e3779b97f4a7c15u;
    uint64_t h = ((((len ^ w[0]) * k ^ w[1]) * k ^ w[2]) * k ^ w[3]) * k;
    /* the best mixed bits: the top ones, as many as the size needs */
    *slot = &s[h >> (c->n == AEMP_STR_CACHE_SLOTS ? 57 : 60)];
    aemp_val *v = **slot;
    if (v && v->u.len == len) {
        /* (a string of len 0 may come with no bytes at all: its words
         * are 0, and so are the cached "") */
        uint64_t cw[4];
        aempi_str_cover((const unsigned char *)v->str, len, cw);
        if (!((cw[0] ^ w[0]) | (cw[1] ^ w[1]) | (cw[2] ^ w[2]) |
              (cw[3] ^ w[3]))) {
            v->refs++; /* aemp_ref, without the call */
            return v;
        }
    }
    return NULL;
}

/* v (a string, not taken) goes into slot, replacing what was there. */
void aempi_str_cache_put(aemp_val **slot, aemp_val *v);

/* Drops the cached strings and the slots; c is then empty. */
void aempi_str_cache_drop(aemp_str_cache *c);

#endif
