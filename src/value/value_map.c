/* libaemp: maps (include/aemp/value.h), string keys in insertion order.
 *
 * The entries live in a vector in insertion order, each with its key's
 * hash. Small maps, the common case in messages, are searched linearly,
 * comparing hashes first. Past MAP_INDEX_MIN entries (a node's share of
 * the global database can hold thousands) an open-addressing index with
 * linear probing is kept beside the vector: 2 * cap slots, each 0 or an
 * entry number + 1, so it is at most half full. The index is only a
 * speed-up: when there is no memory for it, lookups stay linear.
 */
#include "value_int.h"

#include <stdlib.h>
#include <string.h>

#include "aemp/error.h"

/* Above this many entries a map gets a hash index; below, a linear scan
 * over a few cache lines is as fast and costs no memory. */
#define MAP_INDEX_MIN 16
#define NOT_FOUND ((size_t)-1)

/* ---- keys -------------------------------------------------------------- */

/* Keys are held as UTF-8, so that two keys that are one string to Perl
 * are one key here too (a hash key is a character string; CBOR::XS
 * stores a byte key "\xe9" and a text key "é" as one key, the later value
 * wins). Bytes that are not UTF-8 are a Perl byte string and held as the
 * UTF-8 of their characters. Otherwise a map could hold both, and both
 * writers would send the same key twice, losing a value at the reader. */
static aemp_val *key_take(aemp_val *key)
{
    if (key->utf8 && !key->big)
        return key;
    /* a bignum key is the plain string of its digits */
    aemp_val *k = key->utf8 ? aemp_strn(key->str, key->u.len)
                            : aempi_str_latin1(key->str, key->u.len);
    aemp_unref(key);
    return k;
}

/* The bytes to look key up by: key itself if it is UTF-8, else the bytes
 * of *held, a new UTF-8 string value for the caller to drop. NULL when
 * out of memory. */
static const char *key_lookup(const char *key, size_t *klen, aemp_val **held)
{
    *held = NULL;
    if (aempi_utf8_valid((const unsigned char *)key, *klen))
        return key;
    if (!(*held = aempi_str_latin1(key, *klen)))
        return NULL;
    *klen = (*held)->u.len;
    return (*held)->str;
}

/* FNV-1a: short keys, no seed (no global state). Peers are authenticated,
 * so deliberate collisions are not a concern worth a keyed hash. */
static uint32_t key_hash(const char *k, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)k[i];
        h *= 16777619u;
    }
    return h;
}

static int ent_is(const aemp_mapent *e, const char *key, size_t klen,
                  uint32_t h)
{
    return e->hash == h && e->key->u.len == klen &&
           memcmp(e->key->str, key, klen) == 0;
}

static size_t map_find(const aemp_val *m, const char *key, size_t klen,
                       uint32_t h)
{
    const aemp_mapent *ents = m->u.m.ents;
    if (m->u.m.index) {
        uint32_t mask = 2 * m->u.m.cap - 1;
        for (uint32_t s = h & mask;; s = (s + 1) & mask) {
            uint32_t slot = m->u.m.index[s];
            if (!slot)
                return NOT_FOUND;
            if (ent_is(&ents[slot - 1], key, klen, h))
                return slot - 1;
        }
    }
    for (size_t i = 0; i < m->u.m.len; i++)
        if (ent_is(&ents[i], key, klen, h))
            return i;
    return NOT_FOUND;
}

static void index_insert(aemp_val *m, uint32_t i)
{
    uint32_t mask = 2 * m->u.m.cap - 1;
    uint32_t s = m->u.m.ents[i].hash & mask;
    while (m->u.m.index[s])
        s = (s + 1) & mask;
    m->u.m.index[s] = i + 1;
}

/* (Re)builds the index after the entry vector moved or shrank. The index
 * is only a speed-up: without memory for it, lookups stay linear. */
static void index_rebuild(aemp_val *m)
{
    free(m->u.m.index);
    m->u.m.index = NULL;
    if (m->u.m.len <= MAP_INDEX_MIN)
        return;
    m->u.m.index = calloc(2 * (size_t)m->u.m.cap, sizeof(uint32_t));
    if (!m->u.m.index)
        return;
    for (uint32_t i = 0; i < m->u.m.len; i++)
        index_insert(m, i);
}

/* Appends a new entry, taking key and v. The cap stays a power of two so
 * the index (2 * cap slots) can be masked, and at most half full. */
static int map_append(aemp_val *m, aemp_val *key, aemp_val *v, uint32_t h)
{
    if (m->u.m.len == m->u.m.cap) {
        uint32_t cap = m->u.m.cap ? m->u.m.cap * 2 : 1;
        aemp_mapent *ents = NULL;
        if (cap <= UINT32_MAX / 4)
            ents = realloc(m->u.m.ents, cap * sizeof(*ents));
        if (!ents) {
            aemp_unref(key);
            aemp_unref(v);
            return AEMP_ENOMEM;
        }
        m->u.m.ents = ents;
        m->u.m.cap = cap;
        if (m->u.m.index)
            index_rebuild(m);
    }
    uint32_t i = m->u.m.len++;
    m->u.m.ents[i] = (aemp_mapent){key, v, h};
    if (m->u.m.index)
        index_insert(m, i);
    else if (m->u.m.len > MAP_INDEX_MIN)
        index_rebuild(m);
    return AEMP_OK;
}

int aempi_map_set_kv(aemp_val *m, aemp_val *key, aemp_val *v)
{
    if (!key || !v || !m || m->type != AEMP_MAP ||
        key->type != AEMP_STRING) {
        int err = key && v ? AEMP_EINVAL : AEMP_ENOMEM;
        aemp_unref(key);
        aemp_unref(v);
        return err;
    }
    if (!(key = key_take(key))) {
        aemp_unref(v);
        return AEMP_ENOMEM;
    }
    uint32_t h = key_hash(key->str, key->u.len);
    size_t i = map_find(m, key->str, key->u.len, h);
    if (i != NOT_FOUND) {
        aemp_unref(m->u.m.ents[i].val);
        m->u.m.ents[i].val = v;
        aemp_unref(key);
        return AEMP_OK;
    }
    return map_append(m, key, v, h);
}

int aemp_map_setn(aemp_val *m, const char *key, size_t klen, aemp_val *v)
{
    if (!v)
        return AEMP_ENOMEM;
    if (!m || m->type != AEMP_MAP || !key) {
        aemp_unref(v);
        return AEMP_EINVAL;
    }
    aemp_val *k;
    if (!(key = key_lookup(key, &klen, &k))) {
        aemp_unref(v);
        return AEMP_ENOMEM;
    }
    uint32_t h = key_hash(key, klen);
    size_t i = map_find(m, key, klen, h);
    if (i != NOT_FOUND) { /* replace without allocating a key */
        aemp_unref(m->u.m.ents[i].val);
        m->u.m.ents[i].val = v;
        aemp_unref(k);
        return AEMP_OK;
    }
    if (!k && !(k = aemp_strn(key, klen))) {
        aemp_unref(v);
        return AEMP_ENOMEM;
    }
    return map_append(m, k, v, h);
}

int aemp_map_set(aemp_val *m, const char *key, aemp_val *v)
{
    return aemp_map_setn(m, key, key ? strlen(key) : 0, v);
}

/* Entry number of key, or NOT_FOUND. */
static size_t map_lookup(const aemp_val *m, const char *key, size_t klen)
{
    aemp_val *held;
    if (!m || m->type != AEMP_MAP || !key ||
        !(key = key_lookup(key, &klen, &held)))
        return NOT_FOUND;
    size_t i = map_find(m, key, klen, key_hash(key, klen));
    aemp_unref(held);
    return i;
}

aemp_val *aemp_map_getn(const aemp_val *m, const char *key, size_t klen)
{
    size_t i = map_lookup(m, key, klen);
    return i == NOT_FOUND ? NULL : m->u.m.ents[i].val;
}

aemp_val *aempi_map_key_val(const aemp_val *m, const char *key, size_t klen)
{
    size_t i = map_lookup(m, key, klen);
    return i == NOT_FOUND ? NULL : m->u.m.ents[i].key;
}

aemp_val *aemp_map_get(const aemp_val *m, const char *key)
{
    return aemp_map_getn(m, key, key ? strlen(key) : 0);
}

/* Takes entry i out of the index before the vector closes the gap behind
 * it: the slot goes (backward-shift deletion keeps every probe chain
 * unbroken, no tombstones), and the entries behind i, one place nearer
 * the front after the shift, are renumbered. O(slots) without hashing or
 * allocating, where a rebuild would do both on every delete. */
static void index_remove(aemp_val *m, uint32_t i)
{
    uint32_t *ix = m->u.m.index;
    uint32_t mask = 2 * m->u.m.cap - 1;
    uint32_t s = m->u.m.ents[i].hash & mask;
    while (ix[s] != i + 1)
        s = (s + 1) & mask;
    for (uint32_t j = (s + 1) & mask; ix[j]; j = (j + 1) & mask) {
        uint32_t home = m->u.m.ents[ix[j] - 1].hash & mask;
        /* the entry at j may move to the hole at s unless its home lies
         * cyclically in (s, j] */
        if (((j - home) & mask) >= ((j - s) & mask)) {
            ix[s] = ix[j];
            s = j;
        }
    }
    ix[s] = 0;
    for (uint32_t k = 0; k <= mask; k++)
        ix[k] -= ix[k] > i + 1;
}

int aemp_map_del(aemp_val *m, const char *key, size_t klen)
{
    size_t i = map_lookup(m, key, klen);
    if (i == NOT_FOUND)
        return 0;
    if (m->u.m.index)
        index_remove(m, (uint32_t)i);
    aemp_unref(m->u.m.ents[i].key);
    aemp_unref(m->u.m.ents[i].val);
    m->u.m.len--;
    /* insertion order is kept: the entries behind i close the gap */
    memmove(m->u.m.ents + i, m->u.m.ents + i + 1,
            (m->u.m.len - i) * sizeof(aemp_mapent));
    return 1;
}

size_t aemp_map_len(const aemp_val *m)
{
    return m && m->type == AEMP_MAP ? m->u.m.len : 0;
}

aemp_val *aempi_map_key_val_at(const aemp_val *m, size_t i)
{
    if (!m || m->type != AEMP_MAP || i >= m->u.m.len)
        return NULL;
    return m->u.m.ents[i].key;
}

const char *aemp_map_key_at(const aemp_val *m, size_t i, size_t *klen)
{
    return aemp_str_ptr(aempi_map_key_val_at(m, i), klen);
}

aemp_val *aemp_map_value_at(const aemp_val *m, size_t i)
{
    if (!m || m->type != AEMP_MAP || i >= m->u.m.len)
        return NULL;
    return m->u.m.ents[i].val;
}

void aempi_map_free_entries(aemp_val *m)
{
    for (uint32_t i = 0; i < m->u.m.len; i++) {
        aemp_unref(m->u.m.ents[i].key);
        aemp_unref(m->u.m.ents[i].val);
    }
    free(m->u.m.ents);
    free(m->u.m.index);
}
