/* libaemp: a string-keyed hash table with chaining; FNV-1a hashes. */
#include "dict.h"

#include <stdlib.h>
#include <string.h>

static size_t hash_bytes(const char *s, size_t n)
{
    size_t h = (size_t)14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= (size_t)1099511628211ULL;
    }
    return h;
}

aemp_dict_entry *aempi_dict_find(const aemp_dict *d, const char *key,
                                 size_t klen)
{
    if (!d->nslots)
        return NULL;
    size_t h = hash_bytes(key, klen);
    for (aemp_dict_entry *e = d->slots[h & (d->nslots - 1)]; e; e = e->next)
        if (e->hash == h && e->klen == klen && !memcmp(e->key, key, klen))
            return e;
    return NULL;
}

void *aempi_dict_get(const aemp_dict *d, const char *key)
{
    aemp_dict_entry *e = aempi_dict_find(d, key, strlen(key));
    return e ? e->value : NULL;
}

static int grow(aemp_dict *d)
{
    size_t n = d->nslots ? d->nslots * 2 : 16;
    aemp_dict_entry **slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < d->nslots; i++) {
        aemp_dict_entry *e = d->slots[i];
        while (e) {
            aemp_dict_entry *next = e->next;
            e->next = slots[e->hash & (n - 1)];
            slots[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(d->slots);
    d->slots = slots;
    d->nslots = n;
    return 0;
}

int aempi_dict_set(aemp_dict *d, const char *key, void *value)
{
    size_t klen = strlen(key);
    aemp_dict_entry *e = aempi_dict_find(d, key, klen);
    if (e) {
        e->value = value;
        return 0;
    }
    if (d->count >= d->nslots && grow(d))
        return -1;
    e = malloc(sizeof *e + klen + 1);
    if (!e)
        return -1;
    e->hash = hash_bytes(key, klen);
    e->klen = klen;
    e->value = value;
    memcpy(e->key, key, klen + 1);
    aemp_dict_entry **slot = &d->slots[e->hash & (d->nslots - 1)];
    e->next = *slot;
    *slot = e;
    d->count++;
    return 0;
}

void *aempi_dict_del(aemp_dict *d, const char *key)
{
    if (!d->nslots)
        return NULL;
    size_t klen = strlen(key);
    size_t h = hash_bytes(key, klen);
    for (aemp_dict_entry **p = &d->slots[h & (d->nslots - 1)]; *p;
         p = &(*p)->next) {
        aemp_dict_entry *e = *p;
        if (e->hash == h && e->klen == klen && !memcmp(e->key, key, klen)) {
            void *v = e->value;
            *p = e->next;
            free(e);
            d->count--;
            return v;
        }
    }
    return NULL;
}

aemp_dict_entry *aempi_dict_next(const aemp_dict *d, aemp_dict_entry *it)
{
    size_t i = 0;
    if (it) {
        if (it->next)
            return it->next;
        i = (it->hash & (d->nslots - 1)) + 1;
    }
    for (; i < d->nslots; i++)
        if (d->slots[i])
            return d->slots[i];
    return NULL;
}

void aempi_dict_clear(aemp_dict *d)
{
    for (size_t i = 0; i < d->nslots; i++) {
        aemp_dict_entry *e = d->slots[i];
        while (e) {
            aemp_dict_entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(d->slots);
    d->slots = NULL;
    d->nslots = d->count = 0;
}
