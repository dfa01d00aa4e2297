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

int bench_tcpecho(struct event_base *base, const aemp_val *args)
{
    (void)base;
    (void)args;
    int port;
    int ls = bench_listen_loopback(&port);
    if (ls < 0) {
        perror("tcpecho");
        return 1;
    }
    bench_emit(aemp_arrayv(aemp_str("ready"), aemp_int(port), NULL));
    int fd = accept(ls, NULL, NULL);
    if (fd < 0) {
        perror("tcpecho: accept");
        return 1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char buf[PING_SIZE];
    while (!full_io(fd, buf, sizeof buf, 0) && !full_io(fd, buf, sizeof buf, 1))
        ;
    exit(0);
}

static int tcp_round(void *ud)
{
    int fd = *(int *)ud;
    char buf[PING_SIZE];
    memset(buf, 'p', sizeof buf);
    return full_io(fd, buf, sizeof buf, 1) || full_io(fd, buf, sizeof buf, 0)
               ? -1
               : 0;
}

int bench_tcpping(struct event_base *base, const aemp_val *args)
{
    (void)base;
    int port = (int)bench_arg_num(args, "port", 0);
    double warmup = bench_arg_num(args, "warmup", 0.3);
    double duration = bench_arg_num(args, "duration", 1);
    int fd = bench_connect_loopback(port);
    if (fd < 0) {
        perror("tcpping");
        return 1;
    }
    bench_samples rtt = {NULL, 0, 0};
    if (bench_round_trips(tcp_round, &fd, warmup, duration, &rtt)) {
        perror("tcpping");
        return 1;
    }
    close(fd);
    aemp_val *r = aemp_map();
    aemp_map_set(r, "count", aemp_int((int64_t)rtt.n));
    aemp_map_set(r, "p50", aemp_double(bench_samples_pct(&rtt, 0.50)));
    aemp_map_set(r, "p99", aemp_double(bench_samples_pct(&rtt, 0.99)));
    bench_emit(aemp_arrayv(aemp_str("result"), r, NULL));
    bench_samples_free(&rtt);
    exit(0);
}
