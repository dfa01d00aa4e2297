/* The benchmark programs' plain helpers. See bench_sys.h. */
#include "bench_sys.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_cpu(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru))
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static void loopback(struct sockaddr_in *sa, int port)
{
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa->sin_port = htons((uint16_t)port);
}

int bench_listen_loopback(int *port)
{
    struct sockaddr_in sa;
    socklen_t salen = sizeof sa;
    loopback(&sa, 0);
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    if (ls < 0)
        return -1;
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) || listen(ls, 1) ||
        getsockname(ls, (struct sockaddr *)&sa, &salen)) {
        close(ls);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return ls;
}

int bench_connect_loopback(int port)
{
    struct sockaddr_in sa;
    loopback(&sa, port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int bench_samples_add(bench_samples *s, double x)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 65536;
        double *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = x;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void bench_samples_sort(bench_samples *s)
{
    if (s->n)
        qsort(s->v, s->n, sizeof *s->v, cmp_double);
}

double bench_samples_pct(const bench_samples *s, double q)
{
    return s->n ? s->v[(size_t)(q * (double)(s->n - 1))] : 0;
}

int bench_round_trips(int (*round)(void *), void *ud, double warmup,
                      double duration, bench_samples *rtt)
{
    double start = bench_now();
    for (;;) {
        double t = bench_now();
        if (t - start >= warmup + duration)
            break;
        if (round(ud))
            return -1;
        double now = bench_now();
        if (now - start >= warmup && bench_samples_add(rtt, (now - t) * 1e6))
            break;
    }
    bench_samples_sort(rtt);
    return 0;
}

void bench_samples_free(bench_samples *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}
