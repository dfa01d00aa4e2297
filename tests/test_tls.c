/* TLS links between C nodes: the role choice, both roles in practice,
 * tls_sha3_512 over TLS, a secret beside a certificate, and refusals: a
 * different certificate, an expired one, no certificate, TLS garbage. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "test_cert.h"
#include "testutil.h"
#include "transport_tls.h"

static struct event_base *base;

typedef struct seen {
    int calls;
    char logs[16384];
} seen;

static void capture(int level, const char *ctx, const char *msg, void *ud)
{
    (void)level;
    (void)ctx;
    seen *s = ud;
    size_t used = strlen(s->logs);
    if (used < sizeof s->logs - 1)
        snprintf(s->logs + used, sizeof s->logs - used, "%s\n", msg);
}

static long send_cap; /* max_send_queue for the next nodes, 0: default */
static double timeout; /* monitor_timeout for the next nodes, 0: default */

static aemp_node *make_node_on(struct event_base *on, const char *id,
                               const char *cert, const char *secret,
                               const char *seed, seen *logs)
{
    aemp_node *n = aemp_node_new(on);
    aemp_node_set_log(n, 9, capture, logs);
    aemp_val *args = aemp_map();
    aemp_map_set(args, "norc", aemp_int(1));
    aemp_map_set(args, "nodeid", aemp_str(id));
    if (cert)
        aemp_map_set(args, "cert", aemp_str(cert));
    if (secret)
        aemp_map_set(args, "secret", aemp_str(secret));
    aemp_map_set(args, "binds", aemp_arrayv(aemp_str("127.0.0.1:*"), NULL));
    if (seed)
        aemp_map_set(args, "seeds", aemp_arrayv(aemp_str(seed), NULL));
    if (send_cap)
        aemp_map_set(args, "max_send_queue", aemp_int(send_cap));
    if (timeout > 0)
        aemp_map_set(args, "monitor_timeout", aemp_double(timeout));
    ck_assert_msg(aemp_node_configure(n, args, NULL) == 0, "%s",
                  aemp_node_errmsg(n));
    aemp_unref(args);
    return n;
}

static aemp_node *make_node(const char *id, const char *cert,
                            const char *secret, const char *seed, seen *logs)
{
    return make_node_on(base, id, cert, secret, seed, logs);
}

static const char *addr(aemp_node *n)
{
    return aemp_str_ptr(aemp_array_at(aemp_node_binds(n), 0), NULL);
}

static int record(aemp_node *n, const char *port, const aemp_val *msg,
                  void *ud)
{
    (void)n;
    (void)port;
    (void)msg;
    ((seen *)ud)->calls++;
    return 0;
}

static void run_until(int *flag, double seconds)
{
    for (int i = 0; i < (int)(seconds * 100) && !*flag; i++) {
        struct timeval tv = {0, 10000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
}

/* Runs the loop until s->calls reaches n or seconds pass. */
static void wait_calls(seen *s, int n, double seconds)
{
    for (int i = 0; i < (int)(seconds * 100) && s->calls < n; i++) {
        int never = 0;
        run_until(&never, 0.01);
    }
}

static int wait_log(seen *s, const char *needle, double seconds)
{
    int found = 0;
    for (int i = 0; i < (int)(seconds * 100) && !found; i++) {
        found = strstr(s->logs, needle) != NULL;
        run_until(&found, 0.01);
    }
    return found;
}

static void setup(void)
{
    base = event_base_new();
    send_cap = 0;
    timeout = 0;
}

static void teardown(void)
{
    event_base_free(base);
}

START_TEST(test_role_choice)
{
    ck_assert(aempi_tls_is_client("AAAA", "BBBB"));
    ck_assert(!aempi_tls_is_client("BBBB", "AAAA"));
    ck_assert(aempi_tls_is_client("+abc", "/abc")); /* raw octets: + < / */
    ck_assert(aempi_tls_is_client("Zz", "a"));
    ck_assert(aempi_tls_wanted("1.0"));
    ck_assert(aempi_tls_wanted("1"));
    ck_assert(!aempi_tls_wanted("0.9"));
    ck_assert(!aempi_tls_wanted(NULL));
}
END_TEST

START_TEST(test_links_both_roles)
{
    char *cert = make_cert(0, 30);
    seen alog = {0};
    aemp_node *a = make_node("tlsa", cert, NULL, NULL, &alog);
    seen got = {0};
    aemp_rcv(a, "tlsa#in", NULL, record, &got);
    /* new nodes link to a until a has been TLS client and server: the
     * role follows the random nonces */
    int i;
    for (i = 0; i < 40; i++) {
        char id[32];
        snprintf(id, sizeof id, "tlsb%d", i);
        seen blog = {0};
        aemp_node *b = make_node(id, cert, NULL, addr(a), &blog);
        int before = got.calls;
        aemp_sndv(b, "tlsa#in", aemp_str("hello"), NULL);
        wait_calls(&got, before + 1, 5);
        ck_assert_int_eq(got.calls, before + 1);
        ck_assert_ptr_nonnull(strstr(blog.logs, "over TLS"));
        aemp_node_free(b);
        if (strstr(alog.logs, "TLS as client") &&
            strstr(alog.logs, "TLS as server") && i >= 3)
            break;
    }
    ck_assert_ptr_nonnull(strstr(alog.logs, "TLS as client"));
    ck_assert_ptr_nonnull(strstr(alog.logs, "TLS as server"));
    aemp_node_free(a);
    free(cert);
}
END_TEST

START_TEST(test_cert_and_secret)
{
    /* both have a cert: TLS, even with a secret; one has none: the
     * secret (hmac) carries the link */
    char *cert = make_cert(0, 30);
    seen alog = {0}, blog = {0}, clog = {0}, got = {0};
    aemp_node *a = make_node("ta", cert, "sec", NULL, &alog);
    aemp_rcv(a, "ta#in", NULL, record, &got);
    aemp_node *b = make_node("tb", cert, "sec", addr(a), &blog);
    aemp_sndv(b, "ta#in", aemp_str("x"), NULL);
    wait_calls(&got, 1, 5);
    ck_assert_int_eq(got.calls, 1);
    ck_assert_ptr_nonnull(strstr(blog.logs, "over TLS"));
    aemp_node *c = make_node("tc", NULL, "sec", addr(a), &clog);
    aemp_sndv(c, "ta#in", aemp_str("y"), NULL);
    wait_calls(&got, 2, 5);
    ck_assert_msg(got.calls == 2, "a: %s\nc: %s", alog.logs, clog.logs);
    ck_assert_ptr_null(strstr(clog.logs, "over TLS"));
    aemp_node_free(c);
    aemp_node_free(b);
    aemp_node_free(a);
    free(cert);
}
END_TEST

/* b must not get a link to a; both log why; a still serves others */
static void refused(const char *acert, const char *bcert, const char *bsecret,
                    const char *why_a, const char *why_b)
{
    seen alog = {0}, blog = {0}, got = {0};
    aemp_node *a = make_node("ra", acert, NULL, NULL, &alog);
    aemp_rcv(a, "ra#in", NULL, record, &got);
    aemp_node *b = make_node("rb", bcert, bsecret, addr(a), &blog);
    aemp_sndv(b, "ra#in", aemp_str("no"), NULL);
    ck_assert_msg(wait_log(&blog, why_b, 5), "b: %s", blog.logs);
    if (why_a)
        ck_assert_msg(wait_log(&alog, why_a, 5), "a: %s", alog.logs);
    ck_assert_int_eq(got.calls, 0);
    ck_assert_int_ne(aemp_node_is_up(b, "ra"), 1);
    /* a is undisturbed: a good peer gets through */
    seen clog = {0};
    aemp_node *c = make_node("rc", acert, NULL, addr(a), &clog);
    aemp_sndv(c, "ra#in", aemp_str("yes"), NULL);
    wait_calls(&got, 1, 5);
    ck_assert_int_eq(got.calls, 1);
    aemp_node_free(c);
    aemp_node_free(b);
    aemp_node_free(a);
}

START_TEST(test_different_cert)
{
    char *one = make_cert(0, 30), *two = make_cert(0, 30);
    refused(one, two, NULL, "TLS: ", "TLS: ");
    free(one);
    free(two);
}
END_TEST

START_TEST(test_expired_cert)
{
    char *good = make_cert(0, 30), *old = make_cert(-60, 30);
    /* an expired certificate of a CA a trusts is still refused */
    char *both = malloc(strlen(good) + strlen(old) + 1);
    strcpy(both, good);
    strcat(both, old);
    refused(both, old, NULL, "TLS: ", "TLS: ");
    free(good);
    free(old);
    free(both);
}
END_TEST

START_TEST(test_no_cert)
{
    /* a has only a cert, b has neither cert nor (the same) secret */
    char *cert = make_cert(0, 30);
    refused(cert, NULL, "other", "no shared secret", "disconnected");
    free(cert);
}
END_TEST

START_TEST(test_tls_garbage)
{
    char *cert = make_cert(0, 30);
    seen alog = {0};
    aemp_node *a = make_node("ga", cert, NULL, NULL, &alog);
    int port = atoi(strrchr(addr(a), ':') + 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    const char *hello = "aemp;1;garbler;tls_sha3_512;json;tls=1.0\n"
                        "~~~~ highest nonce: we are the TLS server\n"
                        "this is not a TLS client hello at all\r\n\r\n";
    ck_assert_int_eq(write(fd, hello, strlen(hello)), (ssize_t)strlen(hello));
    ck_assert_msg(wait_log(&alog, "TLS: ", 5), "%s", alog.logs);
    close(fd);
    aemp_node_free(a);
    free(cert);
}
END_TEST

/* ---- what was read comes before a failure ---- */

typedef struct in_turn {
    int delivered;
    int at_timer; /* delivered when the timer of that turn ran */
} in_turn;

static int note_delivery(aemp_node *n, const char *port, const aemp_val *msg,
                         void *ud)
{
    (void)n;
    (void)port;
    (void)msg;
    ((in_turn *)ud)->delivered = 1;
    return 0;
}

static void note_timer(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    in_turn *t = ud;
    t->at_timer = t->delivered;
}

/* A message read on a TLS link is delivered in the callback that read it,
 * before the other callbacks of that turn run (as on a plain link, and as
 * Perl handles a message when it reads it): a failure of the link found
 * by one of them (the connect timeout, a write) cannot fire monitors
 * ahead of it. b runs on a base of its own, one turn when the test says:
 * a timer due at once and the bytes of a's message in its socket. */
START_TEST(test_delivered_in_read_turn)
{
    char *cert = make_cert(0, 30);
    struct event_base *base_b = event_base_new();
    seen alog = {0}, blog = {0};
    aemp_node *b = make_node_on(base_b, "ob", cert, NULL, NULL, &blog);
    aemp_node *a = make_node("oa", cert, NULL, addr(b), &alog);
    in_turn t = {0, 0};
    aemp_rcv(b, "ob#in", NULL, note_delivery, &t);
    for (int i = 0; i < 5000 && aemp_node_is_up(b, "oa") != 1; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        event_base_loop(base_b, EVLOOP_NONBLOCK);
        usleep(1000);
    }
    ck_assert_msg(aemp_node_is_up(b, "oa") == 1, "b: %s", blog.logs);
    ck_assert_ptr_nonnull(strstr(blog.logs, "over TLS"));
    aemp_sndv(a, "ob#in", aemp_str("x"), NULL);
    for (int i = 0; i < 20; i++) /* a writes it */
        event_base_loop(base, EVLOOP_NONBLOCK);
    struct event *timer = evtimer_new(base_b, note_timer, &t);
    static const struct timeval now = {0, 0};
    evtimer_add(timer, &now);
    event_base_loop(base_b, EVLOOP_ONCE);
    ck_assert_int_eq(t.delivered, 1);
    ck_assert_int_eq(t.at_timer, 1);
    event_free(timer);
    aemp_node_free(a);
    aemp_node_free(b);
    event_base_free(base_b);
    free(cert);
}
END_TEST

/* Over TLS the cap counts what the filter holds and what it encrypted
 * for the socket: a burst past it, sent while the loop does not run,
 * fails, and the link closes with the cap as its reason. */
START_TEST(test_tls_send_cap)
{
    enum { SIZE = 64 * 1024, N = 64 }; /* 4 MiB */
    char *cert = make_cert(0, 30);
    seen alog = {0}, blog = {0}, got = {0};
    aemp_node *a = make_node("ta", cert, NULL, NULL, &alog);
    aemp_rcv(a, "ta#in", NULL, record, &got);
    send_cap = 1 << 20;
    aemp_node *b = make_node("tb", cert, NULL, addr(a), &blog);
    aemp_sndv(b, "ta#in", aemp_str("x"), NULL);
    wait_calls(&got, 1, 5);
    ck_assert_ptr_nonnull(strstr(blog.logs, "over TLS"));
    char *pad = malloc(SIZE + 1);
    memset(pad, 'x', SIZE);
    pad[SIZE] = 0;
    int limited = 0;
    for (int i = 0; i < N; i++)
        limited += aemp_sndv(b, "ta#in", aemp_str(pad), NULL) == AEMP_ELIMIT;
    free(pad);
    ck_assert_int_ge(limited, N - (1 << 20) / SIZE);
    ck_assert_msg(wait_log(&blog, "disconnected - send queue exceeds "
                                  "max_send_queue (1048576 bytes)", 5),
                  "%s", blog.logs);
    ck_assert_int_ne(aemp_node_is_up(b, "ta"), 1); /* down, or forgotten */
    aemp_node_free(b);
    aemp_node_free(a);
    free(cert);
}
END_TEST

/* monitor_timeout bounds the handshake and stalled writes, not silence:
 * an idle TLS link stays up, though its socket now has a write timeout
 * under the TLS filter. */
START_TEST(test_tls_idle)
{
    char *cert = make_cert(0, 30);
    seen alog = {0}, blog = {0}, got = {0};
    timeout = 1;
    aemp_node *a = make_node("ta", cert, NULL, NULL, &alog);
    aemp_rcv(a, "ta#in", NULL, record, &got);
    aemp_node *b = make_node("tb", cert, NULL, addr(a), &blog);
    aemp_sndv(b, "ta#in", aemp_str("x"), NULL);
    wait_calls(&got, 1, 5);
    ck_assert_ptr_nonnull(strstr(blog.logs, "over TLS"));
    int never = 0;
    run_until(&never, 2.5);
    ck_assert_msg(aemp_node_is_up(b, "ta") == 1, "%s", blog.logs);
    aemp_sndv(b, "ta#in", aemp_str("y"), NULL);
    wait_calls(&got, 2, 5);
    ck_assert_int_eq(got.calls, 2);
    aemp_node_free(b);
    aemp_node_free(a);
    free(cert);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tls");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_role_choice);
    tcase_add_test(tc, test_links_both_roles);
    tcase_add_test(tc, test_cert_and_secret);
    tcase_add_test(tc, test_different_cert);
    tcase_add_test(tc, test_expired_cert);
    tcase_add_test(tc, test_no_cert);
    tcase_add_test(tc, test_tls_garbage);
    tcase_add_test(tc, test_delivered_in_read_turn);
    tcase_add_test(tc, test_tls_send_cap);
    tcase_add_test(tc, test_tls_idle);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
