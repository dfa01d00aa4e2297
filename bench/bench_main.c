/* aemp-bench: entry point, shared helpers. See bench.h. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void bench_emit(aemp_val *event)
{
    char *json = aemp_to_json(event, NULL);
    if (json) {
        fputs(json, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    free(json);
    aemp_unref(event);
}

void bench_emit_ready(aemp_node *node)
{
    bench_emit(aemp_arrayv(aemp_str("ready"), aemp_str(aemp_node_id(node)),
                           aemp_copy(aemp_node_binds(node)), NULL));
}

const char *bench_arg_str(const aemp_val *args, const char *key,
                          const char *def)
{
    const char *s = aemp_str_ptr(aemp_map_get(args, key), NULL);
    return s ? s : def;
}

double bench_arg_num(const aemp_val *args, const char *key, double def)
{
    const aemp_val *v = aemp_map_get(args, key);
    return v && !aemp_is_null(v) ? aemp_as_double(v) : def;
}

aemp_node *bench_node_new(struct event_base *base, const aemp_val *conf)
{
    aemp_node *node = aemp_node_new(base);
    if (!node) {
        fprintf(stderr, "aemp-bench: aemp_node_new failed\n");
        exit(1);
    }
    int rc = aemp_node_configure(node, conf, NULL);
    if (rc) {
        fprintf(stderr, "aemp-bench: configure: %s: %s\n", aemp_strerror(rc),
                aemp_node_errmsg(node));
        exit(1);
    }
    return node;
}

struct event *bench_every(struct event_base *base, double interval,
                          event_callback_fn cb, void *ud)
{
    struct event *ev = event_new(base, -1, EV_PERSIST, cb, ud);
    struct timeval tv;
    tv.tv_sec = (time_t)interval;
    tv.tv_usec = (suseconds_t)((interval - (double)tv.tv_sec) * 1e6);
    if (!ev || event_add(ev, &tv)) {
        fprintf(stderr, "aemp-bench: no timer\n");
        exit(1);
    }
    return ev;
}

void (*bench_on_line)(const char *line);

/* The harness went away: so do we. Lines it sends go to the mode. */
static void on_stdin(evutil_socket_t fd, short what, void *ud)
{
    (void)what;
    (void)ud;
    static char line[256];
    static size_t have;
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0)
        exit(0);
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] != '\n') {
            if (have < sizeof line - 1)
                line[have++] = buf[i];
            continue;
        }
        line[have] = 0;
        have = 0;
        if (bench_on_line)
            bench_on_line(line);
    }
}

static void on_timeout(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    (void)ud;
    fprintf(stderr, "aemp-bench: timeout\n");
    exit(2);
}

/* Many nodes in one process need more descriptors than a default soft
 * limit may allow. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static const struct {
    const char *name;
    int (*run)(struct event_base *, const aemp_val *);
} modes[] = {
    {"sink", bench_sink},   {"source", bench_source}, {"echo", bench_echo},
    {"ping", bench_ping},   {"node", bench_plain},    {"swarm", bench_swarm},
    {"bare", bench_bare},   {"tcpecho", bench_tcpecho},
    {"tcpping", bench_tcpping}, {"scale", bench_scale},
};

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: aemp-bench MODE ARGS-JSON (see bench.h)\n");
        return 1;
    }
    char *err = NULL;
    aemp_val *args = aemp_from_json(argv[2], strlen(argv[2]), &err);
    if (!args || aemp_type_of(args) != AEMP_MAP) {
        fprintf(stderr, "aemp-bench: ARGS must be a JSON object: %s\n",
                err ? err : "not an object");
        return 1;
    }
    raise_fd_limit();
    struct event_base *base = event_base_new();
    if (!base)
        return 1;
    /* stdin from the harness is a pipe (epoll refuses files, /dev/null) */
    struct stat st;
    if (!fstat(0, &st) && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
        struct event *in = event_new(base, 0, EV_READ | EV_PERSIST,
                                     on_stdin, NULL);
        if (in)
            event_add(in, NULL);
    }
    double limit = bench_arg_num(args, "timeout", 60);
    struct event *deadline = event_new(base, -1, 0, on_timeout, NULL);
    struct timeval tv = {(time_t)limit, 0};
    if (deadline)
        event_add(deadline, &tv);

    int (*run)(struct event_base *, const aemp_val *) = NULL;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (!strcmp(argv[1], modes[i].name))
            run = modes[i].run;
    if (!run) {
        fprintf(stderr, "aemp-bench: unknown mode %s\n", argv[1]);
        return 1;
    }
    if (run(base, args))
        return 1;
    event_base_dispatch(base);
    return 0;
}
