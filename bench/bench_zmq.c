/* aemp-bench-zmq: ZeroMQ beside libaemp (bench/run's anchors), built only
 * when libzmq is found. The same events on stdout as aemp-bench's modes,
 * one JSON array per line.
 *
 *   pull {"hwm": W}
 *       PULL bound to 127.0.0.1, reports ["ready", PORT]; counts messages
 *       from the first to a 1-byte end marker and reports ["result",
 *       {count, seconds, rate, cpu_ns_per_msg}]
 *   push {"port": P, "hwm": W, "size": 30, "duration": 2}
 *       PUSH connected to it, sends size-byte messages for duration
 *       seconds (blocking sends), then the end marker
 *   rep {}                    REP bound to 127.0.0.1, echoes; ["ready", PORT]
 *   req {"port": P, "warmup": S, "duration": S}
 *       REQ, one 32-byte request in flight; ["result", {count, p50, p99}]
 *
 * The window: PUSH/PULL has no acknowledgements of its own. What bounds
 * the messages in flight is the high-water mark, SNDHWM on the pusher
 * and RCVHWM on the puller, both set to the window aemp-bench's source
 * keeps (so at most twice the window is queued, plus what the kernel's
 * socket buffers hold). The message is the bytes of aemp-bench's
 * ["d", "xxx..."] as JSON, size bytes. One I/O thread per context, the
 * default.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_sys.h"

/* A number from the flat JSON object of the arguments: "key": N. */
static double arg(const char *json, const char *key, double def)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    if (!p)
        return def;
    p += strlen(pat);
    return strtod(*p == '"' ? p + 1 : p, NULL);
}

static void die(const char *what)
{
    fprintf(stderr, "aemp-bench-zmq: %s: %s\n", what, zmq_strerror(zmq_errno()));
    exit(1);
}

static void *bind_local(void *ctx, int type, int hwm_opt, int hwm)
{
    void *s = zmq_socket(ctx, type);
    if (!s)
        die("zmq_socket");
    if (hwm_opt && zmq_setsockopt(s, hwm_opt, &hwm, sizeof hwm))
        die("hwm");
    if (zmq_bind(s, "tcp://127.0.0.1:*"))
        die("zmq_bind");
    char ep[256];
    size_t len = sizeof ep;
    if (zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &len))
        die("ZMQ_LAST_ENDPOINT");
    const char *colon = strrchr(ep, ':');
    printf("[\"ready\",%d]\n", colon ? atoi(colon + 1) : 0);
    fflush(stdout);
    return s;
}

static void *connect_local(void *ctx, int type, int hwm_opt, int hwm, int port)
{
    void *s = zmq_socket(ctx, type);
    if (!s)
        die("zmq_socket");
    if (hwm_opt && zmq_setsockopt(s, hwm_opt, &hwm, sizeof hwm))
        die("hwm");
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    if (zmq_connect(s, ep))
        die("zmq_connect");
    return s;
}

static int pull(void *ctx, const char *args)
{
    void *s = bind_local(ctx, ZMQ_PULL, ZMQ_RCVHWM, (int)arg(args, "hwm", 8192));
    char buf[65536];
    long long count = 0;
    double t0 = 0, c0 = 0;
    for (;;) {
        int n = zmq_recv(s, buf, sizeof buf, 0);
        if (n < 0)
            die("zmq_recv");
        if (n == 1)
            break;
        if (!count++) {
            t0 = bench_now();
            c0 = bench_cpu();
        }
    }
    double secs = bench_now() - t0, cpu = bench_cpu() - c0;
    /* as aemp-bench's sink: messages after the first over the time from
     * the first to the end; CPU counts the process's I/O thread too */
    printf("[\"result\",{\"count\":%lld,\"seconds\":%.6f,\"rate\":%.1f,"
           "\"cpu_ns_per_msg\":%.2f}]\n",
           count, secs, count > 1 && secs > 0 ? (double)(count - 1) / secs : 0.0,
           count > 1 ? cpu * 1e9 / (double)(count - 1) : 0.0);
    fflush(stdout);
    zmq_close(s);
    return 0;
}

static int push(void *ctx, const char *args)
{
    size_t size = (size_t)arg(args, "size", 30);
    double duration = arg(args, "duration", 2);
    void *s = connect_local(ctx, ZMQ_PUSH, ZMQ_SNDHWM, (int)arg(args, "hwm", 8192),
                            (int)arg(args, "port", 0));
    if (size < 9 || size > 65536) {
        fprintf(stderr, "push: 9 <= size <= 65536\n");
        return 1;
    }
    char *msg = malloc(size);
    memcpy(msg, "[\"d\",\"", 6);
    memset(msg + 6, 'x', size - 8);
    memcpy(msg + size - 2, "\"]", 2);
    printf("[\"ready\"]\n");
    fflush(stdout);
    double start = bench_now();
    long long sent = 0;
    for (;;) {
        if (zmq_send(s, msg, size, 0) < 0)
            die("zmq_send");
        if (++sent % 1024 == 0 && bench_now() - start >= duration)
            break;
    }
    if (zmq_send(s, "e", 1, 0) < 0)
        die("zmq_send");
    printf("[\"sent\",{\"sent\":%lld,\"seconds\":%.6f}]\n", sent, bench_now() - start);
    fflush(stdout);
    int linger = 5000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(s);
    free(msg);
    return 0;
}

static int rep(void *ctx, const char *args)
{
    (void)args;
    void *s = bind_local(ctx, ZMQ_REP, 0, 0);
    char buf[256];
    int n;
    /* until the harness kills it */
    while ((n = zmq_recv(s, buf, sizeof buf, 0)) >= 0)
        if (zmq_send(s, buf, (size_t)n, 0) < 0)
            break;
    die("rep");
    return 1;
}

static int req_round(void *s)
{
    char buf[32];
    memset(buf, 'p', sizeof buf);
    return zmq_send(s, buf, sizeof buf, 0) < 0 ||
                   zmq_recv(s, buf, sizeof buf, 0) < 0
               ? -1
               : 0;
}

static int req(void *ctx, const char *args)
{
    double warmup = arg(args, "warmup", 0.3), duration = arg(args, "duration", 1);
    void *s = connect_local(ctx, ZMQ_REQ, 0, 0, (int)arg(args, "port", 0));
    bench_samples rtt = {NULL, 0, 0};
    if (bench_round_trips(req_round, s, warmup, duration, &rtt))
        die("req");
    printf("[\"result\",{\"count\":%zu,\"p50\":%.3f,\"p99\":%.3f}]\n", rtt.n,
           bench_samples_pct(&rtt, 0.50), bench_samples_pct(&rtt, 0.99));
    fflush(stdout);
    bench_samples_free(&rtt);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: aemp-bench-zmq pull|push|rep|req ARGS-JSON\n");
        return 1;
    }
    /* the harness's time limit, in case it went away */
    alarm((unsigned)arg(argv[2], "timeout", 60));
    void *ctx = zmq_ctx_new();
    if (!ctx)
        die("zmq_ctx_new");
    int rc = !strcmp(argv[1], "pull")   ? pull(ctx, argv[2])
             : !strcmp(argv[1], "push") ? push(ctx, argv[2])
             : !strcmp(argv[1], "rep")  ? rep(ctx, argv[2])
             : !strcmp(argv[1], "req")  ? req(ctx, argv[2])
                                        : (fprintf(stderr, "unknown mode\n"), 1);
    zmq_ctx_term(ctx);
    return rc;
}
