/* libaemp: random bytes from getrandom(2). */
#include "random.h"

#include <errno.h>
#include <sys/random.h>

int aempi_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

double aempi_random_unit(void)
{
    unsigned int x = 0;
    aempi_random_bytes(&x, sizeof x);
    return (double)x / 4294967296.0;
}
