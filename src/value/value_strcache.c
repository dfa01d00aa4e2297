/* libaemp: the short-string cache of the frame readers
 * (value_strcache.h). */
#include "value_strcache.h"

#include <stdlib.h>


/* The first size, and the strings looked up before it grows to
 * AEMP_STR_CACHE_SLOTS. */
#define STR_CACHE_FIRST 16
#define STR_CACHE_GROW 512

void aempi_str_cache_drop(aemp_str_cache *c)
{
    for (unsigned i = 0; i < c->n; i++)
        aemp_unref(c->slot[i]);
    free(c->slot);
    c->slot = NULL;
    c->n = 0;
}

aemp_val **aempi_str_cache_slots(aemp_str_cache *c)
{
    unsigned want = c->n;
    if (!want)
        want = STR_CACHE_FIRST;
    else if (++c->seen >= STR_CACHE_GROW)
        want = AEMP_STR_CACHE_SLOTS;
    if (want != c->n) {
        aemp_val **s = calloc(want, sizeof(*s));
        if (!s)
            return c->slot;
        aempi_str_cache_drop(c);
        c->slot = s;
        c->n = want;
    }
    return c->slot;
}

void aempi_str_cache_put(aemp_val **slot, aemp_val *v)
{
    aemp_unref(*slot);
    *slot = aemp_ref(v);
}
