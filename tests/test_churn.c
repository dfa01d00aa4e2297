/* Link churn. AnyEvent::MP promises, for a monitored port: either every
 * message sent to it arrives, or the monitor fires, and no message lost
 * is followed by a later one arriving before that. Perl runs the monitors
 * inside its link error handling, before any other code of the program.
 *
 * A sender sends a sequence number on every turn of the loop to a port
 * of a receiver, on the same event_base over loopback, while the link
 * between them is broken again and again: the receiver's socket shut
 * down under it, or the receiver freed and made anew on the same
 * address. Both have a third node as seed, which tells the sender where
 * the receiver is (g_find) when it connects again. Each monitor callback
 * notes the last number sent and monitors again. A gap of lost numbers
 * [a, b] is silent unless a monitor fired after a was sent and before
 * b + 1 was. */
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
#include "kernel.h" /* test_hold_until_fired looks at the remote's queue */
#include "testutil.h"

enum { MAX_SEQ = 1 << 22, BREAKS = 40, MAX_FIRES = 4096 };

static struct event_base *base;

typedef struct churn {
    aemp_node *seed, *a, *b; /* the seed, sender, receiver */
    char seed_addr[64];
    int port;             /* the receiver's, the same across restarts */
    struct event *tick;
    int next;             /* the next number to send */
    int breaks;
    int since_break;      /* arrivals since the last break */
    int done;
    unsigned char *arrived;
    int last_arrived, disorder;
    int fired_at[MAX_FIRES]; /* the last number sent when a monitor fired */
    int fires;
} churn;

static void setup(void)
{
    base = event_base_new();
}

static void teardown(void)
{
    event_base_free(base);
}

static aemp_node *make_node(const char *id, const char *bind,
                            const char *seed)
{
    aemp_node *n = aemp_node_new(base);
    ck_assert_ptr_nonnull(n);
    aemp_node_set_log(n, 0, NULL, NULL);
    aemp_val *args = aemp_map();
    aemp_map_set(args, "norc", aemp_int(1));
    aemp_map_set(args, "nodeid", aemp_str(id));
    aemp_map_set(args, "secret", aemp_str("churn"));
    aemp_map_set(args, "binds", aemp_arrayv(aemp_str(bind), NULL));
    aemp_map_set(args, "connect_interval", aemp_double(1));
    if (seed)
        aemp_map_set(args, "seeds", aemp_arrayv(aemp_str(seed), NULL));
    int rc = aemp_node_configure(n, args, NULL);
    ck_assert_msg(rc == 0, "configure: %s", aemp_node_errmsg(n));
    aemp_unref(args);
    return n;
}

/* ---- the receiver ---- */

static int on_sink(aemp_node *n, const char *port, const aemp_val *msg,
                   void *ud)
{
    (void)n;
    (void)port;
    churn *c = ud;
    int seq = (int)aemp_as_int(aemp_array_at(msg, 0));
    ck_assert(seq >= 0 && seq < MAX_SEQ);
    if (seq <= c->last_arrived)
        c->disorder++;
    c->last_arrived = seq;
    c->arrived[seq] = 1;
    c->since_break++;
    return 0;
}

static void start_receiver(churn *c)
{
    char bind[64];
    snprintf(bind, sizeof bind, "127.0.0.1:%d", c->port);
    c->b = make_node("nodeb", bind, c->seed_addr);
    ck_assert_int_eq(aemp_rcv(c->b, "nodeb#sink", NULL, on_sink, c),
                     AEMP_OK);
}

/* The receiver's end of every link to it goes: it reads what is there,
 * then end-of-file, and resets what the sender writes meanwhile. */
static int shut_receiver_side(int port)
{
    int count = 0;
    for (int fd = 3; fd < 4096; fd++) {
        struct sockaddr_in sa;
        socklen_t len = sizeof sa;
        if (getsockname(fd, (struct sockaddr *)&sa, &len) ||
            sa.sin_family != AF_INET || ntohs(sa.sin_port) != port)
            continue;
        len = sizeof sa;
        if (getpeername(fd, (struct sockaddr *)&sa, &len))
            continue; /* the listener */
        shutdown(fd, SHUT_RDWR);
        count++;
    }
    return count;
}

static void break_link(churn *c)
{
    if (c->breaks++ % 2) {
        aemp_node_free(c->b); /* unread input is reset */
        start_receiver(c);
    } else {
        ck_assert_int_ge(shut_receiver_side(c->port), 1);
    }
    c->since_break = 0;
}

/* ---- the sender ---- */

static void on_fire(aemp_node *n, const char *port, const aemp_val *reason,
                    void *ud)
{
    (void)reason;
    churn *c = ud;
    ck_assert_int_lt(c->fires, MAX_FIRES);
    c->fired_at[c->fires++] = c->next - 1;
    if (!c->done)
        aemp_mon(n, port, on_fire, c);
}

static void on_tick(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    churn *c = ud;
    /* messages flow again; how many before the next break varies, so
     * that breaks find the links in different states */
    int settled = c->since_break >= 10 + (c->breaks * 37) % 97 &&
                  aemp_node_is_up(c->a, "nodeb") == 1;
    if (settled && c->breaks == BREAKS) {
        c->done = 1; /* the last break is behind us, messages flow */
        return;
    }
    if (settled)
        break_link(c);
    ck_assert_int_lt(c->next, MAX_SEQ);
    aemp_sndv(c->a, "nodeb#sink", aemp_int(c->next++), NULL);
    static const struct timeval zero = {0, 0};
    evtimer_add(c->tick, &zero); /* again on the next turn of the loop */
}

/* A gap [a, b] is silent unless a monitor fired after a was sent and
 * before b + 1 was. */
static int silent_gaps(const churn *c, int *gaps, int *lost)
{
    int silent = 0;
    *gaps = *lost = 0;
    for (int a = 0; a < c->last_arrived; a++) {
        if (c->arrived[a])
            continue;
        int b = a;
        while (!c->arrived[b + 1])
            b++;
        int told = 0;
        for (int f = 0; f < c->fires; f++)
            told |= c->fired_at[f] >= a && c->fired_at[f] <= b;
        if (!told)
            fprintf(stderr, "silent gap %d-%d\n", a, b);
        silent += !told;
        (*gaps)++;
        *lost += b - a + 1;
        a = b;
    }
    return silent;
}

START_TEST(test_churn_every_turn)
{
    churn *c = calloc(1, sizeof *c);
    c->arrived = calloc(MAX_SEQ, 1);
    c->last_arrived = -1;
    c->port = test_free_port();
    c->seed = make_node("seed", "127.0.0.1:*", NULL);
    snprintf(c->seed_addr, sizeof c->seed_addr, "%s",
             aemp_str_ptr(aemp_array_at(aemp_node_binds(c->seed), 0), NULL));
    start_receiver(c);
    c->a = make_node("nodea", "127.0.0.1:*", c->seed_addr);
    aemp_mon(c->a, "nodeb#sink", on_fire, c);
    c->tick = evtimer_new(base, on_tick, c);
    static const struct timeval zero = {0, 0};
    evtimer_add(c->tick, &zero);
    test_run_until(base, &c->done, 60);
    ck_assert_msg(c->done, "only %d breaks", c->breaks);

    int gaps, lost, silent = silent_gaps(c, &gaps, &lost);
    fprintf(stderr, "churn: %d sent, %d breaks, %d lost in %d gaps, "
                    "%d silent, %d monitor calls\n",
            c->next, c->breaks, lost, gaps, silent, c->fires);
    ck_assert_int_eq(c->disorder, 0);
    ck_assert_msg(gaps > 0, "no message lost: the churn proves nothing");
    ck_assert_int_eq(silent, 0);

    event_free(c->tick);
    aemp_node_free(c->a);
    aemp_node_free(c->b);
    aemp_node_free(c->seed);
    free(c->arrived);
    free(c);
}
END_TEST

/* A failure found while the program's own call runs (a TLS filter can
 * report one inside aemp_snd): the monitors run from the job queue, and
 * until they have, what is sent to that node stays in its queue and no
 * connect starts; it goes out after them. */
typedef struct held {
    int fires;
    int arrived;
    int fires_at_arrival;
} held;

static void held_fire(aemp_node *n, const char *port, const aemp_val *reason,
                      void *ud)
{
    (void)n;
    (void)port;
    (void)reason;
    ((held *)ud)->fires++;
}

static int held_sink(aemp_node *n, const char *port, const aemp_val *msg,
                     void *ud)
{
    (void)n;
    (void)port;
    held *h = ud;
    if (aemp_str_eq(aemp_array_at(msg, 0), "after")) {
        h->arrived = 1;
        h->fires_at_arrival = h->fires;
    }
    return 0;
}

START_TEST(test_hold_until_fired)
{
    held h = {0, 0, 0};
    aemp_node *seed = make_node("seed", "127.0.0.1:*", NULL);
    const char *seed_addr =
        aemp_str_ptr(aemp_array_at(aemp_node_binds(seed), 0), NULL);
    aemp_node *b = make_node("nodeb", "127.0.0.1:*", seed_addr);
    aemp_node *a = make_node("nodea", "127.0.0.1:*", seed_addr);
    aemp_rcv(b, "nodeb#sink", NULL, held_sink, &h);
    aemp_mon(a, "nodeb#sink", held_fire, &h);
    aemp_sndv(a, "nodeb#sink", aemp_str("before"), NULL);
    aemp_remote *r = aempi_dict_get(&a->remotes, "nodeb");
    ck_assert_ptr_nonnull(r);
    for (int i = 0; i < 500 && !r->link; i++) {
        int never = 0;
        test_run_until(base, &never, 0.01);
    }
    ck_assert_ptr_nonnull(r->link);

    aempi_link_close(r->link, "broken by the test");
    ck_assert_int_eq(h.fires, 0); /* never inside the program's call */
    ck_assert_int_eq(aemp_sndv(a, "nodeb#sink", aemp_str("after"), NULL),
                     AEMP_OK);
    ck_assert_int_eq(aemp_array_len(r->queue), 1);
    ck_assert_ptr_null(r->connect_to);
    ck_assert_ptr_null(r->connect_w);

    test_run_until(base, &h.arrived, 10);
    ck_assert_int_eq(h.arrived, 1);
    ck_assert_int_eq(h.fires_at_arrival, 1);
    aemp_node_free(a);
    aemp_node_free(b);
    aemp_node_free(seed);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("churn");
    TCase *tc = tcase_create("churn");
    tcase_set_timeout(tc, 90);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_churn_every_turn);
    suite_add_tcase(s, tc);
    tc = tcase_create("hold");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_hold_until_fired);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
