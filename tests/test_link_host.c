/* The transport on its own, without a node: two link hosts on one
 * event_base over loopback, with hooks that only record what links tell
 * them. Links greet, authenticate and carry frames; a host may refuse a
 * peer with its own reason; a close reaches the hooks on both sides; the
 * host's depth of event callbacks decides when io_done and io_deliver
 * run; clearing a host frees its links without a hook. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "aemp/aemp.h"
#include "testutil.h"
#include "transport.h"
#include "transport_int.h"
#include <netinet/tcp.h>
#include <event2/bufferevent.h>

enum { OWNER_SIZE = 24 };

/* One side: its host, its logger, and what its hooks saw. */
typedef struct side {
    aemp_link_host host;
    aemp_logger log;
    char logs[4096];
    const char *refuse;   /* greeted refuses with this, or NULL */
    int greeted, up, errors, frames, io_done, io_deliver;
    int owner_zeroed;     /* every link's owner data was zero when up */
    char rnode[64];       /* the node the last greeting named */
    char error[256];      /* the last error's message */
    aemp_link *link;      /* the last link up */
    aemp_val *frame;      /* the last frame */
    struct evconnlistener *listener;
} side;

static struct event_base *base;

static int on_greeted(void *ud, aemp_link *link, const char *rnode,
                      const char **why)
{
    (void)link;
    side *s = ud;
    s->greeted++;
    snprintf(s->rnode, sizeof s->rnode, "%s", rnode);
    *why = s->refuse;
    return s->refuse != NULL;
}

static void on_up(void *ud, aemp_link *link)
{
    side *s = ud;
    const unsigned char *o = aempi_link_owner_data(link);
    for (int i = 0; i < OWNER_SIZE; i++)
        if (o[i])
            s->owner_zeroed = 0;
    memset(aempi_link_owner_data(link), 0xa5, OWNER_SIZE); /* it is ours */
    s->up++;
    s->link = link;
}

static void on_error(void *ud, aemp_link *link, const char *msg)
{
    side *s = ud;
    s->errors++;
    snprintf(s->error, sizeof s->error, "%s", msg);
    if (s->link == link)
        s->link = NULL;
}

static void on_frame(void *ud, aemp_link *link, aemp_val *frame)
{
    (void)link;
    side *s = ud;
    s->frames++;
    aemp_unref(s->frame);
    s->frame = frame;
}

static void on_io_done(void *ud)
{
    ((side *)ud)->io_done++;
}

static void on_io_deliver(void *ud)
{
    ((side *)ud)->io_deliver++;
}

static const aemp_link_hooks hooks = {
    .greeted = on_greeted,
    .up = on_up,
    .error = on_error,
    .frame = on_frame,
    .io_done = on_io_done,
    .io_deliver = on_io_deliver,
};

static void capture(int level, const char *ctx, const char *msg, void *ud)
{
    side *s = ud;
    size_t used = strlen(s->logs);
    snprintf(s->logs + used, sizeof s->logs - used, "%d %s: %s\n", level,
             ctx, msg);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
                      struct sockaddr *sa, int salen, void *ud)
{
    (void)l;
    side *s = ud;
    aempi_link_accept(&s->host, fd, sa, salen);
}

/* A host for node id, with the secret "sec" and the given framings,
 * listening on a free loopback port. */
static void side_init(side *s, const char *id, const char *framings)
{
    memset(s, 0, sizeof *s);
    s->owner_zeroed = 1;
    s->log.level = 9;
    s->log.cb = capture;
    s->log.ud = s;
    ck_assert_int_eq(aempi_link_host_init(&s->host, base, &hooks, s, &s->log,
                                          OWNER_SIZE),
                     0);
    aemp_link_settings *set = &s->host.set;
    set->nodeid = strdup(id);
    set->secret = strdup("sec");
    set->secret_len = 3;
    set->auth_offer = strdup("hmac_sha3_512");
    set->auth_accept = strdup("hmac_sha3_512");
    set->framings = strdup(framings);
    struct sockaddr_in sin = {0};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->listener = evconnlistener_new_bind(
        base, on_accept, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
        (struct sockaddr *)&sin, sizeof sin);
    ck_assert_ptr_nonnull(s->listener);
}

static char *port_of(side *s)
{
    static char port[16];
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    getsockname(evconnlistener_get_fd(s->listener), (struct sockaddr *)&sin,
                &len);
    snprintf(port, sizeof port, "%d", ntohs(sin.sin_port));
    return port;
}

/* Hosts for nodea and nodeb, both in framing f, and a link from a to b
 * under way. */
static void start_pair(side *a, side *b, const char *f)
{
    side_init(a, "nodea", f);
    side_init(b, "nodeb", f);
    ck_assert_ptr_nonnull(aempi_link_connect(&a->host, "127.0.0.1",
                                             port_of(b)));
}

static void side_clear(side *s)
{
    evconnlistener_free(s->listener);
    aempi_link_host_clear(&s->host);
    aemp_unref(s->frame);
}

/* Runs the loop (5 s at most) until both counters reach count. */
static void run_until_both(const int *x, const int *y, int count)
{
    int both = 0;
    for (int i = 0; i < 500 && !both; i++) {
        test_run_until(base, &both, 0.01);
        both = *x >= count && *y >= count;
    }
}

/* Runs the loop until both sides have had `count` links up. */
static void run_until_up(side *a, side *b, int count)
{
    run_until_both(&a->up, &b->up, count);
    ck_assert_int_eq(a->up, count);
    ck_assert_int_eq(b->up, count);
}

static void setup(void)
{
    base = event_base_new();
}

static void teardown(void)
{
    event_base_free(base);
}

/* a connects to b: each hears the other's node id from the greeting, the
 * link comes up with owner data of its own, zeroed, and a frame sent from
 * a arrives at b's frame hook, in each framing. The read that decoded it
 * ran inside b's outermost callback: io_deliver, then io_done. */
START_TEST(test_up_and_frame)
{
    static const char *framings[] = {"cbor", "json"};
    const char *f = framings[_i];
    side a, b;
    start_pair(&a, &b, f);
    run_until_up(&a, &b, 1);
    ck_assert_str_eq(a.rnode, "nodeb");
    ck_assert_str_eq(b.rnode, "nodea");
    ck_assert_int_eq(a.owner_zeroed && b.owner_zeroed, 1);
    ck_assert_str_eq(aempi_link_framing(a.link), f);
    ck_assert_str_eq(aempi_link_remote_id(b.link), "nodea");

    int deliver_before = b.io_deliver, done_before = b.io_done;
    aemp_val *msg = aemp_arrayv(aemp_int(1), aemp_str("x"), NULL);
    ck_assert_int_eq(aempi_link_send_to(a.link, "port", msg), AEMP_OK);
    aemp_unref(msg);
    test_run_until(base, &b.frames, 5);
    ck_assert_int_eq(b.frames, 1);
    char *json = aemp_to_json(b.frame, NULL);
    ck_assert_str_eq(json, "[\"port\",1,\"x\"]");
    free(json);
    ck_assert_int_gt(b.io_deliver, deliver_before);
    ck_assert_int_gt(b.io_done, done_before);
    ck_assert_int_eq(a.errors + b.errors, 0);
    ck_assert_ptr_nonnull(strstr(b.logs, "9 AnyEvent::MP::Transport: "));
    ck_assert_ptr_nonnull(strstr(b.logs, " connected as nodea."));
    side_clear(&a);
    side_clear(&b);
}
END_TEST

/* b's greeted hook refuses a with its own reason: b's link closes with
 * that reason, logged in Perl's words through b's logger; a hears the
 * end of its link too, and neither comes up. */
START_TEST(test_refused)
{
    side a, b;
    start_pair(&a, &b, "json");
    b.refuse = "not you"; /* before the loop runs: nothing is read yet */
    run_until_both(&a.errors, &b.errors, 1);
    ck_assert_int_eq(b.errors, 1);
    ck_assert_str_eq(b.error, "not you");
    ck_assert_int_eq(a.errors, 1);
    ck_assert_int_eq(a.up + b.up, 0);
    ck_assert_ptr_nonnull(strstr(b.logs, "5 AnyEvent::MP::Transport: "));
    ck_assert_ptr_nonnull(strstr(b.logs, " disconnected - not you.\n"));
    side_clear(&a);
    side_clear(&b);
}
END_TEST

/* aempi_link_close tells the closing side's error hook at once, and the
 * peer hears the end of file; a host cleared with a live link frees it
 * without calling a hook. */
START_TEST(test_close_and_clear)
{
    side a, b;
    start_pair(&a, &b, "json");
    run_until_up(&a, &b, 1);
    aempi_link_close(a.link, "bye");
    ck_assert_int_eq(a.errors, 1);
    ck_assert_str_eq(a.error, "bye");
    test_run_until(base, &b.errors, 5);
    ck_assert_int_eq(b.errors, 1);
    ck_assert_str_eq(b.error, "Unexpected end-of-file");

    ck_assert_ptr_nonnull(aempi_link_connect(&a.host, "127.0.0.1",
                                             port_of(&b)));
    run_until_up(&a, &b, 2);
    ck_assert_ptr_nonnull(a.host.links);
    side_clear(&a);
    ck_assert_ptr_null(a.host.links);
    ck_assert_int_eq(a.errors, 1);
    side_clear(&b);
}
END_TEST

/* io_done runs when the outermost enter is left, not an inner one;
 * io_deliver only inside the outermost. */
START_TEST(test_io_depth)
{
    side s;
    side_init(&s, "node", "json");
    aempi_link_host_deliver(&s.host); /* outside every callback */
    ck_assert_int_eq(s.io_deliver, 0);
    aempi_link_host_enter(&s.host);
    aempi_link_host_deliver(&s.host);
    ck_assert_int_eq(s.io_deliver, 1);
    aempi_link_host_enter(&s.host);
    aempi_link_host_deliver(&s.host);
    ck_assert_int_eq(s.io_deliver, 1);
    aempi_link_host_leave(&s.host);
    ck_assert_int_eq(s.io_done, 0);
    aempi_link_host_leave(&s.host);
    ck_assert_int_eq(s.io_done, 1);
    side_clear(&s);
}
END_TEST

/* TCP_NODELAY on a link's socket, as getsockopt reads it */
static int nodelay_of(aemp_link *link)
{
    int v = -1;
    socklen_t len = sizeof v;
    ck_assert_int_eq(getsockopt(bufferevent_getfd(link->bev), IPPROTO_TCP,
                                TCP_NODELAY, &v, &len),
                     0);
    return v != 0;
}

/* Transport.pm's no_delay: TCP_NODELAY on both ends of a link (the
 * connecting one and the accepted one) unless the settings say
 * tcp_delay (nodelay => 0) */
START_TEST(test_nodelay)
{
    int delay = _i;
    side a, b;
    side_init(&a, "nodea", "cbor");
    side_init(&b, "nodeb", "cbor");
    a.host.set.tcp_delay = b.host.set.tcp_delay = delay;
    ck_assert_ptr_nonnull(aempi_link_connect(&a.host, "127.0.0.1",
                                             port_of(&b)));
    run_until_up(&a, &b, 1);
    ck_assert_int_eq(nodelay_of(a.link), !delay);
    ck_assert_int_eq(nodelay_of(b.link), !delay);
    side_clear(&a);
    side_clear(&b);
}
END_TEST

static Suite *link_host_suite(void)
{
    Suite *s = suite_create("link_host");
    TCase *tc = tcase_create("host");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_up_and_frame, 0, 2);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_close_and_clear);
    tcase_add_test(tc, test_io_depth);
    tcase_add_loop_test(tc, test_nodelay, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(link_host_suite());
}
