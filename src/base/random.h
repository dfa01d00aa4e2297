/* libaemp internal: random bytes from the kernel (getrandom), not from
 * OpenSSL: a node that has made no link yet has not touched libcrypto,
 * which keeps an idle node small. */
#ifndef AEMP_RANDOM_H
#define AEMP_RANDOM_H

#include <stddef.h>

/* Fills buf with n random bytes; 0, or -1 when the kernel will not. */
int aempi_random_bytes(void *buf, size_t n);

/* A random double in [0, 1). */
double aempi_random_unit(void);

#endif
