/* Helpers shared by the unit tests. */
#ifndef AEMP_TESTUTIL_H
#define AEMP_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

/* Reads a file from the reference vectors ($AEMP_VECTORS, set by meson to
 * tests/vectors). */
static inline char *test_read_vector(const char *name, size_t *len)
{
    const char *dir = getenv("AEMP_VECTORS");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/vectors",
             name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        *len = (size_t)n;
    }
    return buf;
}

/* Runs base's loop in 10 ms turns until *flag becomes non-zero or
 * seconds pass. */
static inline void test_run_until(struct event_base *base, int *flag,
                                  double seconds)
{
    for (int i = 0; i < (int)(seconds * 100) && !*flag; i++) {
        struct timeval tv = {0, 10000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
}

/* A socket listening on a loopback port the kernel chose; *port gets
 * it. For a bind that must fail. */
static inline int test_busy_port(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(fd, 1), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* A loopback port free a moment ago: for a node that must know its own
 * address before it listens (a seed that is itself). */
static inline int test_free_port(void)
{
    int port;
    close(test_busy_port(&port));
    return port;
}

/* A log sink (aemp_log_cb) that keeps the count and the last line. */
typedef struct test_log_lines {
    int count;
    int level;
    char ctx[64];
    char msg[4096];
} test_log_lines;

static inline void test_log_record(int level, const char *ctx,
                                   const char *msg, void *ud)
{
    test_log_lines *l = ud;
    l->count++;
    l->level = level;
    snprintf(l->ctx, sizeof l->ctx, "%s", ctx);
    snprintf(l->msg, sizeof l->msg, "%s", msg);
}

static inline int test_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
