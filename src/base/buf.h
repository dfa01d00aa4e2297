/* libaemp internal: a growable byte buffer. */
#ifndef AEMP_BUF_H
#define AEMP_BUF_H

#include <stddef.h>
#include <string.h>

#include "aemp/error.h"

typedef struct aemp_buf {
    char *p;    /* NULL until the first append or reserve; NUL-terminated
                 * from then on */
    size_t len; /* bytes used, not counting the NUL */
    size_t cap; /* bytes allocated */
} aemp_buf;

#define AEMP_BUF_INIT {NULL, 0, 0}

/* Room for extra more bytes (and the NUL): AEMP_OK or AEMP_ENOMEM. The
 * encoders reserve and append for every item they write, so the case
 * where the room is there is inline; aempi_buf_grow makes it. */
int aempi_buf_grow(aemp_buf *b, size_t extra);

static inline int aempi_buf_reserve(aemp_buf *b, size_t extra)
{
    if (b->cap && extra < b->cap - b->len) /* len + extra + 1 <= cap */
        return AEMP_OK;
    return aempi_buf_grow(b, extra);
}

static inline int aempi_buf_append(aemp_buf *b, const void *data, size_t len)
{
    if (aempi_buf_reserve(b, len))
        return AEMP_ENOMEM;
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = 0;
    return AEMP_OK;
}

int aempi_buf_putc(aemp_buf *b, char c);
int aempi_buf_puts(aemp_buf *b, const char *s);
int aempi_buf_printf(aemp_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Gives the buffer to the caller (malloc'd, NUL-terminated) and resets b. */
char *aempi_buf_detach(aemp_buf *b, size_t *len);
void aempi_buf_reset(aemp_buf *b); /* len = 0, keeps memory */
void aempi_buf_free(aemp_buf *b);

#endif
