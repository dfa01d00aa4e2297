/* Data connections (AnyEvent::MP::DataConn): C to C both ways, through
 * a listener and by connecting back to a node without one, to our own
 * node, a timeout, and how an accepting node matches a connection
 * against the ones it expects (a peer by hand over a raw socket). */
#include "node_fixture.h"
#include "test_cert.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>

/* One end of a data connection: what it read, and the bufferevent. */
typedef struct end {
    struct bufferevent *bev;
    char got[1024];
    int eof;
    int calls;
    char error[512];
    char peer[64];
    char data[256]; /* the init data as json */
} end;

static void end_read(struct bufferevent *bev, void *ud)
{
    end *e = ud;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t used = strlen(e->got);
    size_t n = evbuffer_get_length(in);
    if (n > sizeof e->got - used - 1)
        n = sizeof e->got - used - 1;
    evbuffer_remove(in, e->got + used, n);
    e->got[used + n] = 0;
}

static void end_event(struct bufferevent *bev, short what, void *ud)
{
    (void)bev;
    end *e = ud;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        e->eof = 1;
}

static void end_take(end *e, struct bufferevent *bev)
{
    e->bev = bev;
    bufferevent_setcb(bev, end_read, NULL, end_event, e);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* The init function on the accepting node: keeps its end, answers. */
static void init_recv(aemp_node *n, const char *peer, const aemp_val *data,
                      struct bufferevent *bev, void *ud)
{
    (void)n;
    end *e = ud;
    e->calls++;
    snprintf(e->peer, sizeof e->peer, "%s", peer);
    char *j = aemp_to_json(data, NULL);
    snprintf(e->data, sizeof e->data, "%s", j ? j : "");
    free(j);
    end_take(e, bev);
    bufferevent_write(bev, "hello from init\n", 16);
}

static void connected(aemp_node *n, struct bufferevent *bev,
                      const char *error, void *ud)
{
    (void)n;
    end *e = ud;
    e->calls++;
    if (error)
        snprintf(e->error, sizeof e->error, "%s", error);
    if (bev) {
        end_take(e, bev);
        bufferevent_write(bev, "hello from connect\n", 19);
    }
}

static void end_free(end *e)
{
    if (e->bev)
        bufferevent_free(e->bev);
    e->bev = NULL;
}

static void setup(void)
{
    base = event_base_new();
}

static void teardown(void)
{
    event_base_free(base);
}

/* the logs of nodes a and b */
static seen la, lb;

/* Until a and b have told their master (the global node) where they
 * listen: a lookup before that finds nothing. */
static void wait_masters(void)
{
    int done = 0;
    for (int k = 0; k < 500 && !done; k++) {
        run_until(&done, 0.01);
        done = strstr(la.logs, "new master node") &&
               strstr(lb.logs, "new master node");
    }
    ck_assert(done);
    int never = 0;
    run_until(&never, 0.2); /* their g_slave reaches it */
}

static int both_read(end *a, end *b)
{
    return strstr(a->got, "hello from init\n") &&
           strstr(b->got, "hello from connect\n");
}

/* from connects to to (both seeded by a global node), to's init gets the
 * init data; each end reads what the other wrote. */
static void connect_pair(aemp_node *from, aemp_node *to, const char *toid)
{
    end c = {0}, i = {0};
    aemp_dataconn_register(to, "T::recv", init_recv, &i);
    ck_assert_int_eq(aemp_dataconn_connect(from, toid, 5, "T::recv",
                                           aemp_arrayv(aemp_int(1),
                                                       aemp_str("two"), NULL),
                                           connected, &c),
                     AEMP_OK);
    int done = 0;
    for (int k = 0; k < 500 && !done; k++) {
        run_until(&done, 0.01);
        done = both_read(&c, &i);
    }
    if (!done) /* what the nodes saw */
        fprintf(stderr, "a:\n%s\nb:\n%s\n", la.logs, lb.logs);
    ck_assert_msg(done, "no data both ways: connect got '%s' (error '%s'), "
                        "init got '%s'",
                  c.got, c.error, i.got);
    ck_assert_int_eq(c.calls, 1);
    ck_assert_int_eq(i.calls, 1);
    ck_assert_str_eq(i.data, "[1,\"two\"]");
    ck_assert_str_eq(i.peer, aemp_node_id(from));
    end_free(&c);
    end_free(&i);
    aemp_dataconn_register(to, "T::recv", NULL, NULL);
}

START_TEST(test_c_to_c_both_ways)
{
    aemp_node *s = make_node("s", "sec", NULL, NULL);
    la.logs[0] = lb.logs[0] = 0;
    aemp_node *a = make_node("a", "sec", bind_of(s), &la);
    aemp_node *b = make_node("b", "sec", bind_of(s), &lb);
    wait_masters();
    connect_pair(a, b, "b");
    connect_pair(b, a, "a#someport"); /* a port names its node */
    connect_pair(s, a, "a");          /* the global node knows at once */
    aemp_node_free(a);
    aemp_node_free(b);
    aemp_node_free(s);
}
END_TEST

/* The node asked has no listener: it connects back (_connect). */
START_TEST(test_connect_back)
{
    aemp_node *s = make_node("s", "sec", NULL, NULL);
    la.logs[0] = lb.logs[0] = 0;
    aemp_node *a = make_node("a", "sec", bind_of(s), &la);
    extra_config = aemp_map();
    aemp_map_set(extra_config, "binds", aemp_array());
    aemp_node *b = make_node("b", "sec", bind_of(s), &lb);
    aemp_unref(extra_config);
    extra_config = NULL;
    ck_assert_int_eq(aemp_array_len(aemp_node_binds(b)), 0);
    wait_masters();
    /* nobody reaches a node without a listener: it connects first */
    aemp_snd(b, "a", aemp_arrayv(aemp_str("devnull"), NULL));
    int up = 0;
    for (int k = 0; k < 300 && !up; k++) {
        run_until(&up, 0.01);
        up = strstr(la.logs, "b is up.") != NULL;
    }
    ck_assert(up);
    connect_pair(a, b, "b");
    aemp_node_free(a);
    aemp_node_free(b);
    aemp_node_free(s);
}
END_TEST

/* Over TLS, as the node links: no secret, only the certificate. */
START_TEST(test_tls)
{
    char *cert = make_cert(0, 30);
    extra_config = aemp_map();
    aemp_map_set(extra_config, "cert", aemp_str(cert));
    aemp_map_set(extra_config, "secret", aemp_str(""));
    aemp_node *s = make_node("s", "", NULL, NULL);
    la.logs[0] = lb.logs[0] = 0;
    aemp_node *a = make_node("a", "", bind_of(s), &la);
    aemp_node *b = make_node("b", "", bind_of(s), &lb);
    aemp_unref(extra_config);
    extra_config = NULL;
    wait_masters();
    connect_pair(a, b, "b");
    ck_assert_ptr_nonnull(strstr(la.logs, "data connection b@a with b over "
                                          "TLS."));
    ck_assert_ptr_nonnull(strstr(lb.logs, "data connection b@a with a over "
                                          "TLS."));
    aemp_node_free(a);
    aemp_node_free(b);
    aemp_node_free(s);
    free(cert);
}
END_TEST

START_TEST(test_own_node)
{
    aemp_node *a = make_node("a", "sec", NULL, NULL);
    connect_pair(a, a, "a");
    /* an init function that is not there: the callback hears it */
    end c = {0};
    ck_assert_int_eq(aemp_dataconn_connect(a, "a", 5, "T::none", NULL,
                                           connected, &c),
                     AEMP_OK);
    run_until(&c.calls, 2);
    ck_assert_str_eq(c.error, "unable to resolve function 'T::none'");
    aemp_node_free(a);
}
END_TEST

START_TEST(test_timeout_and_args)
{
    seen logs = {0};
    aemp_node *a = make_node("a", "sec", NULL, &logs);
    end c = {0};
    /* nobody knows where "nowhere" lives */
    ck_assert_int_eq(aemp_dataconn_connect(a, "nowhere", 0.5, "T::recv", NULL,
                                           connected, &c),
                     AEMP_OK);
    run_until(&c.calls, 5);
    ck_assert_int_eq(c.calls, 1);
    ck_assert_str_eq(c.error,
                     "nowhere: unable to establish connection within 0.5 "
                     "seconds");
    ck_assert_int_eq(aemp_dataconn_connect(a, "b", 0, "T::recv", NULL,
                                           connected, &c),
                     AEMP_EINVAL);
    ck_assert_int_eq(aemp_dataconn_connect(a, "", 1, "T::recv", NULL,
                                           connected, &c),
                     AEMP_EINVAL);
    ck_assert_int_eq(aemp_dataconn_connect(a, "b", 1, NULL, NULL, connected,
                                           &c),
                     AEMP_EINVAL);
    ck_assert_int_eq(aemp_dataconn_connect(a, "b", 1, "T::recv",
                                           aemp_str("not an array"),
                                           connected, &c),
                     AEMP_EINVAL);
    ck_assert_int_eq(aemp_dataconn_connect(a, "b", 1, "T::recv", NULL, NULL,
                                           NULL),
                     AEMP_EINVAL);
    ck_assert_int_eq(aemp_dataconn_connect(NULL, "b", 1, "T::recv", NULL,
                                           connected, &c),
                     AEMP_EINVAL);
    ck_assert_int_eq(aemp_dataconn_register(NULL, "x", init_recv, NULL),
                     AEMP_EINVAL);
    ck_assert_int_eq(aemp_dataconn_register(a, "", init_recv, NULL),
                     AEMP_EINVAL);
    aemp_node_free(a);
}
END_TEST

/* ---- the accepting side, by hand ---- */

/* Reads one line (without LF) from fd into line, running the loop. */
static int raw_line(int fd, char *line, size_t cap)
{
    size_t used = 0;
    for (int i = 0; i < 300; i++) {
        struct timeval tv = {0, 10000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
        for (;;) {
            if (used + 1 >= cap)
                return -1;
            ssize_t r = recv(fd, line + used, 1, MSG_DONTWAIT);
            if (r <= 0)
                break;
            if (line[used] == '\n') {
                line[used] = 0;
                return 0;
            }
            used++;
        }
    }
    return -1;
}

/* A data connection's handshake as node myid for dataconn id, then
 * payload right behind the auth line; returns the socket. */
static int raw_dataconn(aemp_node *n, const char *myid, const char *id,
                        const char *payload)
{
    int fd = raw_connect(bind_of(n));
    char g1[4096], g2[4096], auth[256];
    raw_greeting(fd, g1, g2);
    ck_assert_ptr_nonnull(strstr(g1, "aemp;1;"));
    char l1[512], l2[] = "bm9uY2Vub25jZQ";
    snprintf(l1, sizeof l1,
             "aemp-dataconn;1;%s;hmac_sha3_512;json;dataconn_id=%s", myid,
             id);
    ck_assert_int_eq(aempi_auth_value("hmac_sha3_512", "sec", 3, l1, l2, g1,
                                      g2, auth, sizeof auth),
                     0);
    char out[2048];
    snprintf(out, sizeof out, "%s\n%s\nhmac_sha3_512;%s;json\n%s", l1, l2,
             auth, payload);
    raw_send(fd, out);
    return fd;
}

START_TEST(test_accept_matching)
{
    seen logs = {0};
    aemp_node *b = make_node("b", "sec", NULL, &logs);
    end i = {0};
    aemp_dataconn_register(b, "T::recv", init_recv, &i);

    /* no _expect for this id: closed after the handshake */
    int fd = raw_dataconn(b, "r", "x@r", "");
    ck_assert(raw_closed(fd));
    close(fd);
    ck_assert_ptr_nonnull(strstr(logs.logs, "data connection x@r from r: not "
                                            "expected, closed"));

    /* node r says it will connect for x@r */
    int link = raw_handshake(b, "r");
    raw_send(link, "[\"\",\"AnyEvent::MP::DataConn::_expect\",\"x@r\","
                   "\"r#p\",5,\"T::recv\",\"d\"]");
    /* another node cannot take it */
    fd = raw_dataconn(b, "q", "x@r", "");
    ck_assert(raw_closed(fd));
    close(fd);
    ck_assert_ptr_nonnull(strstr(logs.logs, "data connection x@r: from q, "
                                            "expected r, closed"));
    ck_assert_int_eq(i.calls, 0);

    /* r can; what it wrote right behind its auth line is read */
    fd = raw_dataconn(b, "r", "x@r", "early bytes\n");
    char line[4096];
    ck_assert_int_eq(raw_line(fd, line, sizeof line), 0); /* b's auth */
    ck_assert_ptr_nonnull(strstr(line, "hmac_sha3_512;"));
    ck_assert_int_eq(raw_line(fd, line, sizeof line), 0);
    ck_assert_str_eq(line, "hello from init");
    ck_assert_int_eq(i.calls, 1);
    ck_assert_str_eq(i.peer, "r");
    ck_assert_str_eq(i.data, "[\"d\"]");
    run_until(&i.eof, 0.3);
    ck_assert_str_eq(i.got, "early bytes\n");
    raw_send(fd, "more\n");
    for (int k = 0; k < 100 && !strstr(i.got, "more"); k++)
        run_until(&i.eof, 0.01);
    ck_assert_str_eq(i.got, "early bytes\nmore\n");

    /* the id is used up */
    int again = raw_dataconn(b, "r", "x@r", "");
    ck_assert(raw_closed(again));
    close(again);

    close(fd);
    run_until(&i.eof, 2);
    ck_assert(i.eof);
    end_free(&i);
    close(link);
    aemp_node_free(b);
}
END_TEST

/* An aemp-dataconn greeting without an id; and the node's own links
 * do not turn into data connections. */
START_TEST(test_accept_bad_greeting)
{
    seen logs = {0};
    aemp_node *b = make_node("b", "sec", NULL, &logs);
    int fd = raw_connect(bind_of(b));
    raw_send(fd, "aemp-dataconn;1;r;hmac_sha3_512;json\nbm9uY2U\n");
    ck_assert(raw_closed(fd));
    close(fd);
    ck_assert_ptr_nonnull(strstr(logs.logs, "aemp-dataconn greeting without "
                                            "dataconn_id"));
    fd = raw_connect(bind_of(b));
    raw_send(fd, "aemp-other;1;r;hmac_sha3_512;json\nbm9uY2U\n");
    ck_assert(raw_closed(fd));
    close(fd);
    ck_assert_ptr_nonnull(strstr(logs.logs, "unparsable greeting, expected "
                                            "'aemp', got 'aemp-other;"));
    aemp_node_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dataconn");
    TCase *tc = tcase_create("dataconn");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_c_to_c_both_ways);
    tcase_add_test(tc, test_connect_back);
    tcase_add_test(tc, test_tls);
    tcase_add_test(tc, test_own_node);
    tcase_add_test(tc, test_timeout_and_args);
    tcase_add_test(tc, test_accept_matching);
    tcase_add_test(tc, test_accept_bad_greeting);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
