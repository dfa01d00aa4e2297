/* libaemp internal: a growable byte buffer. */
#ifndef AEMP_BUF_H
#define AEMP_BUF_H

#include <stddef.h>

typedef struct aemp_buf {
    char *p;    /* NULL until the first append or reserve; NUL-terminated
                 * from then on */
    size_t len; /* bytes used, not counting the NUL */
    size_t cap; /* bytes allocated */
} aemp_buf;

#define AEMP_BUF_INIT {NULL, 0, 0}

int aemp_buf_reserve(aemp_buf *b, size_t extra);
int aemp_buf_append(aemp_buf *b, const void *data, size_t len);
int aemp_buf_putc(aemp_buf *b, char c);
int aemp_buf_puts(aemp_buf *b, const char *s);
int aemp_buf_printf(aemp_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Gives the buffer to the caller (malloc'd, NUL-terminated) and resets b. */
char *aemp_buf_detach(aemp_buf *b, size_t *len);
void aemp_buf_reset(aemp_buf *b); /* len = 0, keeps memory */
void aemp_buf_free(aemp_buf *b);

#endif
