/* The benchmark programs' plain helpers: clocks, loopback sockets, round
 * trip samples. libc only, so that aemp-bench, aemp-bench-scan and
 * aemp-bench-zmq (which does not link libaemp) share them. */
#ifndef AEMP_BENCH_SYS_H
#define AEMP_BENCH_SYS_H

#include <stddef.h>

/* Monotonic time in seconds. */
double bench_now(void);

/* CPU seconds (user + system) this process has used. */
double bench_cpu(void);

/* A TCP socket listening on 127.0.0.1 at a port the kernel picks, which
 * goes to *port; -1 (errno set) on failure. */
int bench_listen_loopback(int *port);

/* A TCP connection to 127.0.0.1:port with TCP_NODELAY (as libaemp's
 * links); -1 (errno set) on failure. */
int bench_connect_loopback(int port);

/* Samples (round trips), growing as they come. */
typedef struct bench_samples {
    double *v;
    size_t n, cap;
} bench_samples;

/* 0, or -1 when out of memory (the sample is dropped). */
int bench_samples_add(bench_samples *s, double x);

/* Sorts the samples: call before bench_samples_pct. */
void bench_samples_sort(bench_samples *s);

/* The q quantile of sorted samples (the sample at q * (n - 1)); 0 when
 * there are none. */
double bench_samples_pct(const bench_samples *s, double q);

void bench_samples_free(bench_samples *s);

/* Calls round(ud), one request and its answer (0, or -1 on failure), one
 * after the other for warmup + duration seconds; the round trips after
 * the warmup go to rtt, in microseconds, sorted. -1 when a round failed. */
int bench_round_trips(int (*round)(void *), void *ud, double warmup,
                      double duration, bench_samples *rtt);

#endif
