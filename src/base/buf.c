/* libaemp: a growable byte buffer, the one place output is assembled. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aemp/error.h"

int aempi_buf_grow(aemp_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1; /* + the trailing NUL */
    if (need <= b->cap)
        return AEMP_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return AEMP_ENOMEM;
    if (!b->p) /* a new buffer is an empty C string, even if never written */
        p[0] = 0;
    b->p = p;
    b->cap = cap;
    return AEMP_OK;
}

int aempi_buf_putc(aemp_buf *b, char c)
{
    return aempi_buf_append(b, &c, 1);
}

int aempi_buf_puts(aemp_buf *b, const char *s)
{
    return aempi_buf_append(b, s, strlen(s));
}

int aempi_buf_printf(aemp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || aempi_buf_reserve(b, (size_t)n))
        return AEMP_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return AEMP_OK;
}

char *aempi_buf_detach(aemp_buf *b, size_t *len)
{
    if (!b->p && aempi_buf_reserve(b, 0))
        return NULL;
    char *p = b->p;
    if (len)
        *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void aempi_buf_reset(aemp_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = 0;
}

void aempi_buf_free(aemp_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
