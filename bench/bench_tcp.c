/* aemp-bench tcpecho / tcpping: the floor under the latency figures. The
 * same ping-pong as echo/ping, 32 bytes each way over a plain loopback TCP
 * connection (TCP_NODELAY, as libaemp's links), without libaemp or an
 * event loop: what the kernel alone costs per round trip here.
 *
 *   tcpecho {}                       reports ["ready", PORT], echoes one
 *                                    connection until it closes
 *   tcpping {"port": P, "warmup": S, "duration": S}
 *                                    reports ["result", {p50, p99, ...}]
 */
#include "bench.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PING_SIZE 32

static int full_io(int fd, char *buf, size_t len, int writing)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = writing ? write(fd, buf + done, len - done)
                            : read(fd, buf + done, len - done);
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

static void nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int bench_tcpecho(struct event_base *base, const aemp_val *args)
{
    (void)base;
    (void)args;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t salen = sizeof sa;
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) ||
        listen(ls, 1) || getsockname(ls, (struct sockaddr *)&sa, &salen)) {
        perror("tcpecho");
        return 1;
    }
    bench_emit(aemp_arrayv(aemp_str("ready"), aemp_int(ntohs(sa.sin_port)),
                           NULL));
    int fd = accept(ls, NULL, NULL);
    if (fd < 0) {
        perror("tcpecho: accept");
        return 1;
    }
    nodelay(fd);
    char buf[PING_SIZE];
    while (!full_io(fd, buf, sizeof buf, 0) && !full_io(fd, buf, sizeof buf, 1))
        ;
    exit(0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int bench_tcpping(struct event_base *base, const aemp_val *args)
{
    (void)base;
    int port = (int)bench_arg_num(args, "port", 0);
    double warmup = bench_arg_num(args, "warmup", 0.3);
    double duration = bench_arg_num(args, "duration", 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        perror("tcpping");
        return 1;
    }
    nodelay(fd);
    size_t n = 0, cap = 1 << 16;
    double *rtt = malloc(cap * sizeof *rtt);
    char buf[PING_SIZE];
    memset(buf, 'p', sizeof buf);
    double start = bench_now();
    for (;;) {
        double t = bench_now();
        if (t - start >= warmup + duration)
            break;
        if (full_io(fd, buf, sizeof buf, 1) || full_io(fd, buf, sizeof buf, 0)) {
            perror("tcpping");
            return 1;
        }
        double now = bench_now();
        if (now - start < warmup)
            continue;
        if (n == cap) {
            double *r = realloc(rtt, 2 * cap * sizeof *r);
            if (!r)
                break;
            rtt = r;
            cap *= 2;
        }
        rtt[n++] = (now - t) * 1e6;
    }
    close(fd);
    qsort(rtt, n, sizeof *rtt, cmp_double);
    aemp_val *r = aemp_map();
    aemp_map_set(r, "count", aemp_int((int64_t)n));
    aemp_map_set(r, "p50", aemp_double(n ? rtt[(size_t)(0.50 * (double)(n - 1))] : 0));
    aemp_map_set(r, "p99", aemp_double(n ? rtt[(size_t)(0.99 * (double)(n - 1))] : 0));
    bench_emit(aemp_arrayv(aemp_str("result"), r, NULL));
    free(rtt);
    exit(0);
}
