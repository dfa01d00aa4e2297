/* libaemp internal: a string-keyed hash table (ports, nodes, monitors).
 * Keys are copied; values are opaque pointers the caller owns. */
#ifndef AEMP_DICT_H
#define AEMP_DICT_H

#include <stddef.h>

typedef struct aemp_dict_entry {
    struct aemp_dict_entry *next;
    void *value;
    size_t hash;
    size_t klen;
    char key[]; /* NUL-terminated */
} aemp_dict_entry;

/* All zero is an empty table (the structs that hold them are calloc'd). */
typedef struct aemp_dict {
    aemp_dict_entry **slots;
    size_t nslots; /* a power of two, or 0 */
    size_t count;
} aemp_dict;

void *aempi_dict_get(const aemp_dict *d, const char *key);
aemp_dict_entry *aempi_dict_find(const aemp_dict *d, const char *key,
                                 size_t klen);
/* Inserts or replaces; returns 0, or -1 when out of memory. */
int aempi_dict_set(aemp_dict *d, const char *key, void *value);
/* Removes key and returns its value (NULL if absent). */
void *aempi_dict_del(aemp_dict *d, const char *key);
/* Iteration: start with it = NULL; returns NULL at the end. The table must
 * not change during an iteration. */
aemp_dict_entry *aempi_dict_next(const aemp_dict *d, aemp_dict_entry *it);
void aempi_dict_clear(aemp_dict *d); /* frees entries, not values */

#endif
