/* What one peer can cost a node: the cap on a link's unsent output and on
 * messages queued for a node without a link (max_send_queue), the write
 * timeout for a peer that stops reading, the handshake deadline, the
 * listener backing off when file descriptors run out, and the last link
 * error kept for a node. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "global_int.h"
#include "node_fixture.h"
#include "testutil.h"
#include "value_cbor.h"

static void setup(void)
{
    base = event_base_new();
    monitor_timeout = 0;
    extra_config = aemp_map();
}

static void teardown(void)
{
    aemp_unref(extra_config);
    extra_config = NULL;
    event_base_free(base);
}

/* Resident memory of this process, in bytes. */
static size_t resident(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fscanf(f, "%lu %lu", &size, &res), 2);
    fclose(f);
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

/* Reads one line from fd, waiting at most 30 s. */
static void read_line(int fd, char *buf, size_t cap)
{
    size_t used = 0;
    while (used < cap - 1 && (!used || buf[used - 1] != '\n')) {
        struct pollfd p = {fd, POLLIN, 0};
        ck_assert_int_eq(poll(&p, 1, 30000), 1);
        ssize_t r = read(fd, buf + used, 1);
        ck_assert_int_eq(r, 1);
        used++;
    }
    buf[used] = 0;
}

/* Runs child(report) in a forked process; returns its pid and, in
 * *from, the reading end of its report pipe. */
static pid_t fork_child(void (*child)(int report), int *from)
{
    int pipefd[2];
    ck_assert_int_eq(pipe(pipefd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(pipefd[0]);
        child(pipefd[1]); /* does not return */
    }
    close(pipefd[1]);
    *from = pipefd[0];
    return pid;
}

/* Waits for the child, which must have exited with 0. */
static void child_done(pid_t pid)
{
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int reason_is(const aemp_val *reason, const char *node,
                     const char *msg)
{
    return aemp_str_eq(aemp_array_at(reason, 0), "transport_error") &&
           aemp_str_eq(aemp_array_at(reason, 1), node) &&
           aemp_str_eq(aemp_array_at(reason, 2), msg);
}

/* ---- max_send_queue ---- */

/* A peer that never reads: the node takes 1 MiB for it and no more. The
 * send past the cap fails, the link closes with the cap as the reason, the
 * monitors of the peer's ports fire with it, and the node goes on. */
START_TEST(test_send_cap)
{
    enum { SIZE = 64 * 1024, N = 1024 }; /* 64 MiB offered */
    aemp_map_set(extra_config, "max_send_queue", aemp_int(1 << 20));
    seen blog = {0}, lost = {0};
    aemp_node *b = make_node("nodeb", "sec", NULL, &blog);
    int fd = raw_handshake(b, "rawnode");
    run_until(&lost.calls, 0.3); /* the link comes up */
    ck_assert_int_eq(aemp_node_is_up(b, "rawnode"), 1);
    aemp_mon(b, "rawnode#sink", mon_record, &lost);

    char *pad = malloc(SIZE + 1);
    memset(pad, 'x', SIZE);
    pad[SIZE] = 0;
    aemp_val *padv = aemp_str(pad);
    free(pad);
    size_t before = resident();
    int sent = 0, refused = 0;
    for (int i = 0; i < N; i++) {
        int rc = aemp_sndv(b, "rawnode#sink", aemp_ref(padv), NULL);
        if (rc == AEMP_OK) {
            ck_assert_int_eq(refused, 0); /* nothing after a lost one */
            sent++;
        } else {
            ck_assert_int_eq(rc, AEMP_ELIMIT);
            refused++;
        }
    }
    size_t grown = resident() - before;
    ck_assert_msg(grown < 16u << 20, "grew by %zu bytes", grown);
    ck_assert_int_le(sent, (1 << 20) / SIZE);

    run_until(&lost.calls, 5);
    ck_assert_int_eq(lost.calls, 1);
    ck_assert(reason_is(lost.last, "rawnode",
                        "send queue exceeds max_send_queue (1048576 "
                        "bytes)"));
    ck_assert_int_ne(aemp_node_is_up(b, "rawnode"), 1); /* down, or forgotten */
    ck_assert(raw_closed(fd));
    close(fd);
    ck_assert(node_still_serves(b));
    aemp_unref(padv);
    aemp_unref(lost.last);
    aemp_node_free(b);
}
END_TEST

/* max_send_queue must be a positive number of bytes. */
START_TEST(test_send_cap_config)
{
    const char *bad[] = {"0", "-5", "\"lots\"", "[]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        aemp_node *n = aemp_node_new(base);
        aemp_node_set_log(n, 0, NULL, NULL);
        aemp_val *args = aemp_map();
        aemp_map_set(args, "norc", aemp_int(1));
        aemp_map_set(args, "nodeid", aemp_str("n"));
        aemp_map_set(args, "binds", aemp_array());
        aemp_map_set(args, "max_send_queue",
                     aemp_from_json(bad[i], strlen(bad[i]), NULL));
        ck_assert_int_eq(aemp_node_configure(n, args, NULL), AEMP_ECONFIG);
        ck_assert_ptr_nonnull(strstr(aemp_node_errmsg(n), "max_send_queue"));
        aemp_unref(args);
        aemp_node_free(n);
    }
}
END_TEST

/* Messages for a node with no link yet count against the same cap: past
 * it they are given up with the cap as the reason, before any connect
 * attempt could have timed out. */
START_TEST(test_queue_cap)
{
    aemp_map_set(extra_config, "max_send_queue", aemp_int(64 * 1024));
    seen lost = {0};
    aemp_node *a = make_node("nodea", "sec", NULL, NULL);
    aemp_mon(a, "nowhere#port", mon_record, &lost);
    char pad[1024];
    memset(pad, 'y', sizeof pad - 1);
    pad[sizeof pad - 1] = 0;
    for (int i = 0; i < 100; i++)
        aemp_sndv(a, "nowhere#port", aemp_str(pad), NULL);
    run_until(&lost.calls, 5);
    ck_assert_int_eq(lost.calls, 1);
    ck_assert_msg(reason_is(lost.last, "nowhere",
                            "send queue exceeds max_send_queue (65536 "
                            "bytes)"),
                  "%s", aemp_str_ptr(aemp_array_at(lost.last, 2), NULL));
    aemp_unref(lost.last);
    aemp_node_free(a);
}
END_TEST

/* The queue's count is never below what the cbor framing sends. */
START_TEST(test_size_bound)
{
    const char *cases[] = {
        "[]", "[null,true,false,0,-1,4294967296,1.5,1e300]",
        "[\"\",\"a\",\"\u00e9t\u00e9\",\"\u20ac\",\"long enough to need a "
        "two byte head, long enough to need a two byte head\"]",
        "{\"k\":{\"nested\":[1,[2,[3,{\"\":\"\"}]]]},\"\u00fc\":null}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        aemp_val *v = aemp_from_json(cases[i], strlen(cases[i]), NULL);
        ck_assert_ptr_nonnull(v);
        aemp_buf b = AEMP_BUF_INIT;
        ck_assert_int_eq(aempi_cbor_write(&b, v), 0);
        ck_assert_uint_ge(aempi_cbor_size_bound(v), b.len);
        ck_assert_uint_le(aempi_cbor_size_bound(v), 9 * b.len + 9);
        aempi_buf_free(&b);
        aemp_unref(v);
    }
}
END_TEST

/* A global node asked again and again for a large family by a peer that
 * does not read: the replies pile up to the cap, no further, and the
 * peer is disconnected; the node goes on. */
START_TEST(test_reply_flood)
{
    enum { VALUE = 64 * 1024, KEYS = 4, REQUESTS = 200 }; /* 256 KiB each */
    aemp_map_set(extra_config, "max_send_queue", aemp_int(4 << 20));
    seen lost = {0};
    aemp_node *g = make_node("nodeg", "sec", NULL, NULL);
    aempi_gseed_become(g);
    char *pad = malloc(VALUE + 1);
    memset(pad, 'v', VALUE);
    pad[VALUE] = 0;
    for (int i = 0; i < KEYS; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        aemp_db_set(g, "big", key, aemp_str(pad));
    }
    free(pad);
    int fd = raw_handshake(g, "rawnode");
    run_until(&lost.calls, 0.3);
    ck_assert_int_eq(aemp_node_is_up(g, "rawnode"), 1);
    aemp_mon(g, "rawnode#x", mon_record, &lost);

    size_t before = resident();
    char req[64];
    for (int i = 0; i < REQUESTS; i++) {
        snprintf(req, sizeof req, "[\"\",\"g_db_family\",\"big\",\"r%d\"]", i);
        raw_send(fd, req);
    }
    run_until(&lost.calls, 3);
    size_t grown = resident() - before;
    ck_assert_msg(grown < 32u << 20, "grew by %zu bytes", grown);
    ck_assert_int_eq(lost.calls, 1);
    ck_assert(reason_is(lost.last, "rawnode",
                        "send queue exceeds max_send_queue (4194304 "
                        "bytes)"));
    close(fd);
    ck_assert(node_still_serves(g));
    aemp_unref(lost.last);
    aemp_node_free(g);
}
END_TEST

/* ---- a backlog is not copied ---- */

/* The child: 32 MiB of frames for a peer that does not read, flushed;
 * reports by how much its peak resident memory grew (KiB). */
static void backlog_child(int report)
{
    enum { SIZE = 64 * 1024, N = 512 };
    base = event_base_new(); /* the parent's stays the parent's */
    aemp_node *b = make_node("nodeb", "sec", NULL, NULL);
    int fd = raw_handshake(b, "rawnode"); /* never read */
    int never = 0;
    run_until(&never, 0.3);
    char *pad = malloc(SIZE + 1);
    memset(pad, 'x', SIZE);
    pad[SIZE] = 0;
    aemp_val *padv = aemp_str(pad);
    free(pad);
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    for (int i = 0; i < N; i++)
        aemp_sndv(b, "rawnode#sink", aemp_ref(padv), NULL);
    run_until(&never, 0.3);
    getrusage(RUSAGE_SELF, &after);
    char line[64];
    int len = snprintf(line, sizeof line, "%ld %d\n",
                       after.ru_maxrss - before.ru_maxrss,
                       aemp_node_is_up(b, "rawnode"));
    close(fd);
    _exit(write(report, line, (size_t)len) == len ? 0 : 2);
}

/* What the socket does not take goes to the bufferevent's buffer without
 * a copy: a 32 MiB backlog raises the peak by about 32 MiB, not twice
 * that. Measured in a child, whose peak starts low; not under
 * AddressSanitizer, whose allocator keeps what is freed for a while. */
START_TEST(test_backlog_not_copied)
{
#if defined(__SANITIZE_ADDRESS__)
    return;
#endif
    int from;
    pid_t pid = fork_child(backlog_child, &from);
    char line[64];
    read_line(from, line, sizeof line);
    close(from);
    child_done(pid);
    long grown_kib = -1;
    int up = -1;
    ck_assert_int_eq(sscanf(line, "%ld %d", &grown_kib, &up), 2);
    ck_assert_int_eq(up, 1);
    ck_assert_int_ge(grown_kib, 24 * 1024); /* it did hold the backlog */
    ck_assert_int_lt(grown_kib, 48 * 1024);
}
END_TEST

/* ---- the write timeout ---- */

/* A peer that keeps its connection open but stops reading (a stopped
 * process): once the socket is full and nothing moves for
 * monitor_timeout, the link closes and the monitors fire. An idle link,
 * with nothing to write, stays. */
START_TEST(test_write_timeout)
{
    enum { SIZE = 64 * 1024, N = 320 }; /* 20 MiB, more than the sockets
                                           take, less than the cap */
    monitor_timeout = 1;
    seen blog = {0}, lost = {0};
    aemp_node *b = make_node("nodeb", "sec", NULL, &blog);
    int fd = raw_handshake(b, "rawnode");
    run_until(&lost.calls, 0.3);
    ck_assert_int_eq(aemp_node_is_up(b, "rawnode"), 1);
    aemp_mon(b, "rawnode#sink", mon_record, &lost);
    run_until(&lost.calls, 2.5);
    ck_assert_int_eq(lost.calls, 0);
    ck_assert_int_eq(aemp_node_is_up(b, "rawnode"), 1);

    char *pad = malloc(SIZE + 1);
    memset(pad, 'x', SIZE);
    pad[SIZE] = 0;
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(aemp_sndv(b, "rawnode#sink", aemp_str(pad), NULL),
                         AEMP_OK);
    free(pad);
    /* more keeps coming meanwhile: that is no progress either */
    for (int i = 0; i < 100 && !lost.calls; i++) {
        aemp_sndv(b, "rawnode#sink", aemp_str("more"), NULL);
        run_until(&lost.calls, 0.1);
    }
    ck_assert_int_eq(lost.calls, 1);
    ck_assert_msg(reason_is(lost.last, "rawnode",
                            "write timeout: the peer took nothing for 1 "
                            "seconds"),
                  "%s", blog.logs);
    close(fd);
    ck_assert(node_still_serves(b));
    aemp_unref(lost.last);
    aemp_node_free(b);
}
END_TEST

/* ---- the handshake deadline ---- */

/* A peer that sends its greeting a byte at a time, each well within
 * monitor_timeout of the last, is still dropped once monitor_timeout has
 * passed since it connected. */
START_TEST(test_handshake_trickle)
{
    monitor_timeout = 1;
    seen blog = {0};
    aemp_node *b = make_node("nodeb", "sec", NULL, &blog);
    int fd = raw_connect(bind_of(b));
    const char *greeting = "aemp;1;slowpoke;hmac_sha3_512;json\n";
    int closed = 0;
    char buf[4096];
    for (size_t i = 0; i < strlen(greeting) && !closed; i++) {
        if (send(fd, greeting + i, 1, MSG_NOSIGNAL) != 1)
            break; /* closed */
        int never = 0;
        run_until(&never, 0.2);
        ssize_t r;
        while ((r = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
            ;
        closed = r == 0;
    }
    ck_assert_msg(closed, "still open after %zu bytes", strlen(greeting));
    close(fd);
    ck_assert_ptr_nonnull(strstr(blog.logs, "Connection timed out"));
    ck_assert(node_still_serves(b));
    aemp_node_free(b);
}
END_TEST

/* ---- file descriptors running out ---- */

static int libevent_lines;

static void count_libevent(int severity, const char *msg)
{
    (void)severity;
    (void)msg;
    libevent_lines++;
}

/* counts[0]: lines saying accept fails, counts[1]: that it works again,
 * counts[2]: the failed attempts that line counts */
static void count_accept_lines(int level, const char *ctx, const char *msg,
                               void *ud)
{
    (void)level;
    (void)ctx;
    int *counts = ud;
    const char *again = strstr(msg, "accepting connections again (after ");
    /* while the descriptors are used up: once the node accepts again, the
     * connections its backlog still holds may use them up anew, and a
     * second run of failures is a second line */
    counts[0] += !counts[1] && strstr(msg, "cannot accept connections");
    counts[1] += again != NULL;
    if (again)
        counts[2] += atoi(again + strlen("accepting connections again "
                                         "(after "));
}

/* The forked child: a node allowed 48 file descriptors. It tells its port
 * on the pipe, runs until it accepts again after failing (at most 20 s),
 * and reports its counts. Check's assertions are for the parent. */
static void starved_node(int report)
{
    struct rlimit rl = {48, 48};
    event_set_log_callback(count_libevent);
    base = event_base_new();
    aemp_node *n = base ? aemp_node_new(base) : NULL;
    int counts[3] = {0, 0, 0};
    aemp_val *args = aemp_map();
    aemp_map_set(args, "norc", aemp_int(1));
    aemp_map_set(args, "nodeid", aemp_str("starved"));
    aemp_map_set(args, "secret", aemp_str("sec"));
    aemp_map_set(args, "binds", aemp_arrayv(aemp_str("127.0.0.1:*"), NULL));
    if (!n || aemp_node_configure(n, args, NULL) ||
        setrlimit(RLIMIT_NOFILE, &rl))
        _exit(2);
    aemp_node_set_log(n, 9, count_accept_lines, counts);
    char line[128];
    int len = snprintf(line, sizeof line, "%s\n", bind_of(n));
    if (write(report, line, (size_t)len) != len)
        _exit(2);
    for (int i = 0; i < 2000 && !(counts[0] && counts[1]); i++)
        run_until(&counts[1], 0.01);
    len = snprintf(line, sizeof line, "%d %d %d %d\n", counts[0], counts[1],
                   counts[2], libevent_lines);
    _exit(write(report, line, (size_t)len) == len ? 0 : 2);
}


/* 64 connections to a node allowed 48 descriptors: accept fails for as
 * long as they stay. The node says so once, and once that it accepts
 * again after they went; it tries again a few times meanwhile, not in a
 * loop, and libevent's per-attempt warning never comes. */
START_TEST(test_fd_exhaustion)
{
    enum { CONNS = 64 };
    int from;
    pid_t pid = fork_child(starved_node, &from);
    char line[128];
    read_line(from, line, sizeof line);
    *strchr(line, '\n') = 0;
    int fds[CONNS];
    for (int i = 0; i < CONNS; i++)
        fds[i] = raw_connect(line);
    usleep(1500 * 1000); /* several rounds of the back-off */
    for (int i = 0; i < CONNS; i++)
        close(fds[i]);
    read_line(from, line, sizeof line);
    close(from);
    child_done(pid);
    int failing = -1, again = -1, attempts = -1, warnings = -1;
    ck_assert_int_eq(sscanf(line, "%d %d %d %d", &failing, &again, &attempts,
                            &warnings),
                     4);
    ck_assert_int_eq(warnings, 0);
    ck_assert_int_eq(failing, 1);
    ck_assert_int_eq(again, 1);
    /* the listener rested between attempts: a few in 1.5 s, not a spin */
    ck_assert_int_ge(attempts, 1);
    ck_assert_int_le(attempts, 30);
}
END_TEST

/* ---- the last link error ---- */

/* A wrong secret: the monitor's reason is Perl's transport_error, and the
 * cause the link met is kept, for the node and for the node's own links.
 * A seed that refuses the connection is such a cause too. */
START_TEST(test_last_error)
{
    seen lost = {0};
    aemp_node *b = make_node("nodeb", "right", NULL, NULL);
    aemp_node *a = make_node("nodea", "wrong", bind_of(b), NULL);
    ck_assert_ptr_null(aemp_node_last_error(a, NULL));
    aemp_mon(a, "nodeb#x", mon_record, &lost);
    run_until(&lost.calls, 5);
    ck_assert_int_eq(lost.calls, 1);
    ck_assert(aemp_str_eq(aemp_array_at(lost.last, 0), "transport_error"));
    ck_assert_pstr_eq(aemp_node_last_error(a, "nodeb"),
                      "authentication failure/shared secret mismatch");
    ck_assert_pstr_eq(aemp_node_last_error(a, NULL),
                      "authentication failure/shared secret mismatch");
    ck_assert_ptr_null(aemp_node_last_error(a, "nobody"));
    ck_assert_ptr_null(aemp_node_last_error(NULL, "nodeb"));
    /* the side that was called knows nothing it started failed */
    ck_assert_ptr_null(aemp_node_last_error(b, NULL));

    char gone[64]; /* b's address, with b gone */
    snprintf(gone, sizeof gone, "%s", bind_of(b));
    aemp_node_free(b);
    /* held by a socket that does not listen, so that c cannot be given
     * b's port for its own (it would then connect to itself) and a
     * connect there is refused */
    int hold = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)atoi(strrchr(gone, ':') + 1));
    ck_assert_int_eq(bind(hold, (struct sockaddr *)&sa, sizeof sa), 0);
    aemp_node *c = make_node("nodec", "sec", gone, NULL);
    int never = 0;
    for (int i = 0; i < 500 && !aemp_node_last_error(c, NULL); i++)
        run_until(&never, 0.01);
    ck_assert_pstr_eq(aemp_node_last_error(c, NULL), "Connection refused");
    close(hold);
    aemp_unref(lost.last);
    aemp_node_free(c);
    aemp_node_free(a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("caps");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_send_cap);
    tcase_add_test(tc, test_send_cap_config);
    tcase_add_test(tc, test_queue_cap);
    tcase_add_test(tc, test_size_bound);
    tcase_add_test(tc, test_reply_flood);
    tcase_add_test(tc, test_backlog_not_copied);
    tcase_add_test(tc, test_write_timeout);
    tcase_add_test(tc, test_handshake_trickle);
    tcase_add_test(tc, test_fd_exhaustion);
    tcase_add_test(tc, test_last_error);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
