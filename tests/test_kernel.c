/* The node kernel: port dispatch, kills, monitors, and two or three nodes
 * on one event_base talking over loopback, including bad peers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "node_fixture.h"
#include "testutil.h"

/* ---- fixtures (more in node_fixture.h) ---- */

static void stop_soon(void)
{
    struct timeval tv = {0, 1000};
    event_base_loopexit(base, &tv);
}

static int failing(aemp_node *n, const char *port, const aemp_val *msg,
                   void *ud)
{
    (void)port;
    (void)msg;
    (void)ud;
    aemp_die(n, "boom at line %d", 42);
    return 1;
}

static void setup(void)
{
    base = event_base_new();
    monitor_timeout = 0;
}

static void teardown(void)
{
    event_base_free(base);
}

/* ---- local ports ---- */

START_TEST(test_port_dispatch)
{
    aemp_node *n = make_node("solo", "s", NULL, NULL);
    seen dflt = {0}, tagged = {0};
    char *p = aemp_port(n, record, &dflt);
    ck_assert_ptr_nonnull(p);
    ck_assert(aemp_port_is_local(n, p));
    ck_assert_int_eq(aemp_rcv(n, p, "ping", record, &tagged), 0);

    aemp_sndv(n, p, aemp_str("ping"), aemp_int(1), NULL);
    aemp_sndv(n, p, aemp_str("other"), aemp_int(2), NULL);
    /* delivery is asynchronous */
    ck_assert_int_eq(tagged.calls + dflt.calls, 0);
    run_until(&dflt.calls, 2);
    ck_assert_int_eq(tagged.calls, 1);
    ck_assert_int_eq(dflt.calls, 1);
    ck_assert(json_is(dflt.last, "[\"other\",2]"));

    /* tags match whole: "pin" takes neither "ping" nor "pi" */
    seen pin = {0};
    aemp_rcv(n, p, "pin", record, &pin);
    aemp_sndv(n, p, aemp_str("pi"), NULL);
    aemp_sndv(n, p, aemp_str("pin"), NULL);
    dflt.calls = 0;
    run_until(&pin.calls, 2);
    ck_assert_int_eq(pin.calls, 1);
    ck_assert_int_eq(dflt.calls, 1);
    ck_assert_int_eq(tagged.calls, 1);
    aemp_unref(pin.last);

    /* removing the tag callback sends ping to the default */
    aemp_rcv(n, p, "ping", NULL, NULL);
    aemp_sndv(n, p, aemp_str("ping"), NULL);
    dflt.calls = 0;
    run_until(&dflt.calls, 2);
    ck_assert_int_eq(tagged.calls, 1);
    aemp_unref(dflt.last);
    aemp_unref(tagged.last);
    free(p);
    aemp_node_free(n);
}
END_TEST

START_TEST(test_unmatched_and_die)
{
    aemp_node *n = make_node("solo", "s", NULL, NULL);
    seen m1 = {0}, m2 = {0}, tagged = {0};
    char *p = aemp_port(n, NULL, NULL); /* no default: kill on unmatched */
    aemp_rcv(n, p, "known", record, &tagged);
    aemp_mon(n, p, mon_record, &m1);
    aemp_sndv(n, p, aemp_str("known"), NULL);
    aemp_sndv(n, p, aemp_str("unknown\ttag"), NULL);
    run_until(&m1.calls, 2);
    ck_assert_int_eq(tagged.calls, 1);
    ck_assert(json_is(m1.last, "[\"unhandled_message\",\"no callback found "
                               "for message 'unknown.tag'\"]"));

    char *q = aemp_port(n, failing, NULL);
    aemp_mon(n, q, mon_record, &m2);
    aemp_sndv(n, q, aemp_str("x"), NULL);
    run_until(&m2.calls, 2);
    ck_assert(json_is(m2.last, "[\"die\",\"boom at line 42\"]"));

    /* the port is gone: a new monitor says so */
    m2.calls = 0;
    aemp_mon(n, q, mon_record, &m2);
    run_until(&m2.calls, 2);
    ck_assert_str_eq(aemp_str_ptr(aemp_array_at(m2.last, 0), NULL),
                     "no_such_port");
    aemp_unref(m1.last);
    aemp_unref(m2.last);
    aemp_unref(tagged.last);
    free(p);
    free(q);
    aemp_node_free(n);
}
END_TEST

START_TEST(test_local_monitors)
{
    aemp_node *n = make_node("solo", "s", NULL, NULL);
    seen cb = {0}, got = {0}, victim_mon = {0};
    char *a = aemp_port(n, record, NULL);
    char *victim = aemp_port(n, record, NULL);
    char *inbox = aemp_port(n, record, &got);
    aemp_mon(n, a, mon_record, &cb);
    aemp_mon_kil(n, a, victim);
    aemp_mon_snd(n, a, inbox, aemp_arrayv(aemp_str("died"), NULL));
    aemp_mon(n, victim, mon_record, &victim_mon);

    /* a normal kill: the kil form does not propagate it */
    aemp_kil(n, a, NULL);
    run_until(&got.calls, 2);
    ck_assert_int_eq(cb.calls, 1);
    ck_assert_uint_eq(aemp_array_len(cb.last), 0);
    ck_assert(json_is(got.last, "[\"died\"]"));
    ck_assert_int_eq(victim_mon.calls, 0);

    /* an abnormal kill does, and a cancelled monitor stays quiet */
    char *b = aemp_port(n, record, NULL);
    seen cancelled = {0};
    aemp_port_mon_id id = aemp_mon(n, b, mon_record, &cancelled);
    aemp_mon_kil(n, b, victim);
    aemp_mon_cancel(n, id);
    aemp_kil(n, b, aemp_arrayv(aemp_str("oops"), aemp_int(7), NULL));
    run_until(&victim_mon.calls, 2);
    ck_assert(json_is(victim_mon.last, "[\"oops\",7]"));
    ck_assert_int_eq(cancelled.calls, 0);
    /* a node port cannot be killed */
    ck_assert_int_eq(aemp_kil(n, "solo", NULL), AEMP_EINVAL);
    aemp_unref(cb.last);
    aemp_unref(got.last);
    aemp_unref(victim_mon.last);
    free(a);
    free(b);
    free(victim);
    free(inbox);
    aemp_node_free(n);
}
END_TEST

/* ---- two nodes ---- */

START_TEST(test_two_nodes)
{
    aemp_node *b = make_node("nodeb", "sec", NULL, NULL);
    aemp_node *a = make_node("nodea", "sec", bind_of(b), NULL);
    seen replies = {0}, mons = {0}, remote_mon = {0};

    char *service = aemp_port(b, NULL, NULL);
    aemp_rcv(b, service, "echo", echo, NULL);
    char *inbox = aemp_port(a, record, &replies);
    aemp_sndv(a, service, aemp_str("echo"), aemp_str(inbox),
              aemp_strn("bytes\0and\xc3\xa4", 11), NULL);
    run_until(&replies.calls, 5);
    ck_assert_int_eq(replies.calls, 1);
    ck_assert(json_is(replies.last,
                      "[\"echoed\",\"bytes\\u0000and\xc3\xa4\",\"nodea\"]"));
    ck_assert_int_eq(aemp_node_is_up(a, "nodeb"), 1);
    ck_assert_int_eq(aemp_node_is_up(a, "nobody"), -1);

    /* remote monitor, killed from the monitoring side with a reason */
    aemp_mon(a, service, mon_record, &mons);
    aemp_kil(a, service, aemp_arrayv(aemp_str("stop"), aemp_str("now"),
                                     NULL));
    run_until(&mons.calls, 5);
    ck_assert(json_is(mons.last, "[\"stop\",\"now\"]"));

    /* monitoring a port that does not exist over there */
    aemp_mon(a, service, mon_record, &remote_mon);
    run_until(&remote_mon.calls, 5);
    ck_assert(aemp_str_eq(aemp_array_at(remote_mon.last, 0), "no_such_port"));
    ck_assert(aemp_str_eq(aemp_array_at(remote_mon.last, 1),
                          "cannot monitor nonexistent port"));
    ck_assert(aemp_str_eq(aemp_array_at(remote_mon.last, 2), service));

    /* the node goes away: monitors fire with transport_error */
    char *other = aemp_port(b, record, NULL);
    seen lost = {0};
    aemp_mon(a, other, mon_record, &lost);
    run_until(&lost.calls, 0.3); /* let mon1 reach b */
    aemp_node_free(b);
    run_until(&lost.calls, 5);
    ck_assert_int_eq(lost.calls, 1);
    ck_assert_str_eq(aemp_str_ptr(aemp_array_at(lost.last, 0), NULL),
                     "transport_error");
    ck_assert_str_eq(aemp_str_ptr(aemp_array_at(lost.last, 1), NULL),
                     "nodeb");
    aemp_unref(replies.last);
    aemp_unref(mons.last);
    aemp_unref(remote_mon.last);
    aemp_unref(lost.last);
    free(service);
    free(inbox);
    free(other);
    aemp_node_free(a);
}
END_TEST

/* aemp_node_provider: what a linked peer's greeting named, on both sides
 * of a link between two C nodes; and the up_nodes request that tells it
 * to other nodes. */
START_TEST(test_provider)
{
    aemp_node *b = make_node("nodeb", "sec", NULL, NULL);
    aemp_node *a = make_node("nodea", "sec", bind_of(b), NULL);
    ck_assert_ptr_null(aemp_node_provider(a, "nodeb")); /* no link yet */
    seen replies = {0};
    char *inbox = aemp_port(a, record, &replies);
    aemp_sndv(a, "nodeb", aemp_str(AEMP_REQ_UP_NODES), aemp_str(inbox),
              aemp_str("tag"), NULL);
    run_until(&replies.calls, 5);
    ck_assert_int_eq(replies.calls, 1);
    ck_assert(json_is(replies.last,
                      "[\"tag\",\"\",\"nodea\",\"" AEMP_PROVIDER "\"]"));
    ck_assert_str_eq(aemp_node_provider(a, "nodeb"), AEMP_PROVIDER);
    ck_assert_str_eq(aemp_node_provider(b, "nodea"), AEMP_PROVIDER);
    ck_assert_str_eq(aemp_node_provider(a, "nodea"), AEMP_PROVIDER);
    ck_assert_ptr_null(aemp_node_provider(a, "nobody"));
    ck_assert_ptr_null(aemp_node_provider(a, NULL));
    ck_assert_ptr_null(aemp_node_provider(NULL, "nodeb"));

    /* a greeting without provider=: up, but nothing known */
    int fd = raw_handshake(b, "rawnode"), never = 0;
    for (int i = 0; i < 300 && aemp_node_is_up(b, "rawnode") != 1; i++)
        run_until(&never, 0.01);
    ck_assert_int_eq(aemp_node_is_up(b, "rawnode"), 1);
    ck_assert_ptr_null(aemp_node_provider(b, "rawnode"));
    close(fd);

    /* the link goes: no provider any more */
    aemp_node_free(b);
    for (int i = 0; i < 300 && aemp_node_is_up(a, "nodeb") == 1; i++)
        run_until(&never, 0.01);
    ck_assert_ptr_null(aemp_node_provider(a, "nodeb"));
    aemp_unref(replies.last);
    free(inbox);
    aemp_node_free(a);
}
END_TEST

/* Runs the loop until *count reaches want or seconds pass. */
static void run_until_n(int *count, int want, double seconds)
{
    int reached = 0;
    for (int i = 0; i < (int)(seconds * 100) && !reached; i++) {
        run_until(&reached, 0.01);
        reached = *count >= want;
    }
}

/* Messages from a link to one port skip the port lookup after the
 * first; a port killed and made again under the same id must get the
 * next message, the old one never again. */
START_TEST(test_port_again)
{
    aemp_node *b = make_node("nodeb", "sec", NULL, NULL);
    aemp_node *a = make_node("nodea", "sec", bind_of(b), NULL);
    seen first = {0}, second = {0}, gone = {0};
    ck_assert_int_eq(aemp_rcv(b, "nodeb#box", NULL, record, &first), 0);
    aemp_sndv(a, "nodeb#box", aemp_str("one"), NULL);
    aemp_sndv(a, "nodeb#box", aemp_str("two"), NULL);
    run_until_n(&first.calls, 2, 5);
    ck_assert_int_eq(first.calls, 2);

    aemp_mon(b, "nodeb#box", mon_record, &gone);
    aemp_kil(b, "nodeb#box", NULL);
    run_until(&gone.calls, 5);
    ck_assert_int_eq(gone.calls, 1);
    aemp_sndv(a, "nodeb#box", aemp_str("lost"), NULL);
    /* a message to another port between, then the id again */
    aemp_sndv(a, "nodeb#nobody", aemp_str("x"), NULL);
    run_until(&second.calls, 0.2);
    ck_assert_int_eq(aemp_rcv(b, "nodeb#box", NULL, record, &second), 0);
    aemp_sndv(a, "nodeb#box", aemp_str("three"), NULL);
    run_until(&second.calls, 5);
    ck_assert_int_eq(second.calls, 1);
    ck_assert(json_is(second.last, "[\"three\"]"));
    ck_assert_int_eq(first.calls, 2);
    aemp_unref(first.last);
    aemp_unref(second.last);
    aemp_unref(gone.last);
    aemp_node_free(a);
    aemp_node_free(b);
}
END_TEST

/* Frames from a link are handed out again once their delivery is done,
 * unless the receiver kept a reference: what it kept stays intact while
 * many more frames come. */
typedef struct keeper {
    int calls;
    aemp_val *kept[50];
} keeper;

static int keep_some(aemp_node *n, const char *port, const aemp_val *msg,
                     void *ud)
{
    (void)n;
    (void)port;
    keeper *k = ud;
    if (k->calls < 50)
        k->kept[k->calls] = aemp_ref((aemp_val *)msg);
    k->calls++;
    return 0;
}

START_TEST(test_kept_frames)
{
    aemp_node *b = make_node("nodeb", "sec", NULL, NULL);
    aemp_node *a = make_node("nodea", "sec", bind_of(b), NULL);
    keeper k = {0};
    ck_assert_int_eq(aemp_rcv(b, "nodeb#keep", NULL, keep_some, &k), 0);
    for (int i = 0; i < 2000; i++)
        aemp_sndv(a, "nodeb#keep", aemp_int(i), aemp_str("x"), NULL);
    run_until_n(&k.calls, 2000, 10);
    ck_assert_int_eq(k.calls, 2000);
    for (int i = 0; i < 50; i++) {
        char want[32];
        snprintf(want, sizeof want, "[%d,\"x\"]", i);
        ck_assert_msg(json_is(k.kept[i], want), "message %d changed", i);
        aemp_unref(k.kept[i]);
    }
    aemp_node_free(a);
    aemp_node_free(b);
}
END_TEST

/* Sends to one port in a row take a shortcut past the port's lookup
 * (aemp_sndv's items straight onto the link): messages of a few items,
 * of more than aemp_sndv keeps on its stack, aemp_snd's, sends to
 * another port and to the node's port in between all arrive, in order
 * and whole. */
START_TEST(test_snd_in_a_row)
{
    aemp_node *b = make_node("nodeb", "sec", NULL, NULL);
    aemp_node *a = make_node("nodea", "sec", bind_of(b), NULL);
    keeper k = {0}, other = {0}, reply = {0};
    ck_assert_int_eq(aemp_rcv(a, "nodea#reply", NULL, keep_some, &reply), 0);
    ck_assert_int_eq(aemp_rcv(b, "nodeb#keep", NULL, keep_some, &k), 0);
    ck_assert_int_eq(aemp_rcv(b, "nodeb#other", NULL, keep_some, &other), 0);
    /* the link up first: the shortcut is only for a link that is */
    aemp_sndv(a, "nodeb#other", aemp_int(-1), NULL);
    run_until_n(&other.calls, 1, 10);
    for (int i = 0; i < 10; i++) {
        switch (i % 5) {
        case 0:
            aemp_sndv(a, "nodeb#keep", aemp_int(i), aemp_str("x"), NULL);
            break;
        case 1:
            aemp_sndv(a, "nodeb#keep", aemp_int(i), aemp_int(1), aemp_int(2),
                      aemp_int(3), aemp_int(4), aemp_int(5), aemp_int(6),
                      aemp_int(7), aemp_int(8), aemp_int(9), NULL);
            break;
        case 2: aemp_snd(a, "nodeb#keep", aemp_arrayv(aemp_int(i), NULL)); break;
        case 3:
            aemp_sndv(a, "nodeb#other", aemp_int(i), NULL);
            for (int j = 0; j < 2; j++) /* the node's port: a reply */
                aemp_sndv(a, "nodeb", aemp_str("can"), aemp_str("snd"),
                          aemp_str("nodea#reply"), NULL);
            aemp_sndv(a, "nodeb#keep", aemp_int(i), NULL);
            break;
        default: aemp_sndv(a, "nodeb#keep", aemp_int(i), NULL);
        }
    }
    run_until_n(&k.calls, 10, 10);
    ck_assert_int_eq(k.calls, 10);
    static const char *const want[] = {
        "[0,\"x\"]", "[1,1,2,3,4,5,6,7,8,9]", "[2]", "[3]", "[4]",
        "[5,\"x\"]", "[6,1,2,3,4,5,6,7,8,9]", "[7]", "[8]", "[9]"};
    for (int i = 0; i < 10; i++) {
        ck_assert_msg(json_is(k.kept[i], want[i]), "message %d", i);
        aemp_unref(k.kept[i]);
    }
    run_until_n(&other.calls, 3, 10);
    ck_assert_int_eq(other.calls, 3);
    ck_assert(json_is(other.kept[0], "[-1]"));
    ck_assert(json_is(other.kept[1], "[3]"));
    ck_assert(json_is(other.kept[2], "[8]"));
    for (int i = 0; i < 3; i++)
        aemp_unref(other.kept[i]);
    run_until_n(&reply.calls, 4, 10);
    ck_assert_int_eq(reply.calls, 4);
    for (int i = 0; i < 4; i++) {
        ck_assert(json_is(reply.kept[i], "[\"1\"]"));
        aemp_unref(reply.kept[i]);
    }
    aemp_node_free(a);
    aemp_node_free(b);
}
END_TEST

/* Levels of arrays, following the first item. */
static int levels(const aemp_val *v)
{
    int n = 0;
    for (; aemp_type_of(v) == AEMP_ARRAY; v = aemp_array_at(v, 0))
        n++;
    return n;
}

/* n arrays around 1 */
static aemp_val *nested(int n)
{
    aemp_val *v = aemp_int(1);
    for (int i = 0; i < n; i++)
        v = aemp_arrayv(v, NULL);
    return v;
}

/* ["wrap", REPLYPORT, x]: sends ["wrapped", [x]] back, one level deeper */
static int wrap(aemp_node *n, const char *port, const aemp_val *msg, void *ud)
{
    (void)port;
    seen *s = ud;
    const char *reply = aemp_str_ptr(aemp_array_at(msg, 1), NULL);
    s->calls++;
    s->last = aemp_int(aemp_sndv(n, reply, aemp_str("wrapped"),
                                 aemp_arrayv(aemp_copy(aemp_array_at(msg, 2)),
                                             NULL),
                                 NULL));
    return 0;
}

/* Perl's encoders refuse more than 512 levels (the frame included), and
 * its snd dies then: a C sender gets AEMP_EINVAL, a sending port dies
 * with the encoder's words, and nothing reaches the link. */
START_TEST(test_too_deep)
{
    aemp_node *b = make_node("nodeb", "sec", NULL, NULL);
    aemp_node *a = make_node("nodea", "sec", bind_of(b), NULL);
    seen replies = {0}, wrapped = {0}, died = {0}, local = {0};
    char *service = aemp_port(b, NULL, NULL);
    aemp_rcv(b, service, "echo", echo, NULL);
    aemp_rcv(b, service, "wrap", wrap, &wrapped);
    aemp_mon(b, service, mon_record, &died);
    char *inbox = aemp_port(a, record, &replies);
    aemp_sndv(a, service, aemp_str("echo"), aemp_str(inbox), aemp_int(1),
              NULL);
    run_until(&replies.calls, 5);
    ck_assert_int_eq(replies.calls, 1);

    /* [portid, "echo", inbox, x]: x may have 511 levels, not 512 */
    ck_assert_int_eq(aemp_sndv(a, service, aemp_str("echo"), aemp_str(inbox),
                               nested(512), NULL),
                     AEMP_EINVAL);
    ck_assert_int_eq(aemp_sndv(a, "nobody#x", nested(512), NULL),
                     AEMP_EINVAL); /* no link yet: refused all the same */
    ck_assert_int_eq(aemp_kil(a, service, aemp_arrayv(nested(512), NULL)),
                     AEMP_EINVAL); /* ["", "kil1", portid, reason...] */
    ck_assert_int_eq(aemp_sndv(a, service, aemp_str("echo"), aemp_str(inbox),
                               nested(511), NULL),
                     AEMP_OK);
    run_until_n(&replies.calls, 2, 5);
    ck_assert_int_eq(replies.calls, 2);
    ck_assert_int_eq(levels(aemp_array_at(replies.last, 1)), 511);

    /* a port that sends too deep dies with the encoder's reason */
    ck_assert_int_eq(aemp_sndv(a, service, aemp_str("wrap"), aemp_str(inbox),
                               nested(511), NULL),
                     AEMP_OK);
    run_until(&died.calls, 5);
    ck_assert_int_eq(wrapped.calls, 1);
    ck_assert_int_eq(aemp_as_int(wrapped.last), AEMP_EINVAL);
    ck_assert(json_is(died.last, "[\"die\",\"cbor text or perl structure "
                                 "exceeds maximum nesting level (max_depth "
                                 "set too low?)\"]"));

    /* a local message is not encoded: Perl delivers it, and so do we */
    char *self = aemp_port(a, record, &local);
    ck_assert_int_eq(aemp_sndv(a, self, nested(600), NULL), AEMP_OK);
    run_until(&local.calls, 5);
    ck_assert_int_eq(local.calls, 1);

    /* and the link still carries the next message */
    char *service2 = aemp_port(b, NULL, NULL);
    aemp_rcv(b, service2, "echo", echo, NULL);
    aemp_sndv(a, service2, aemp_str("echo"), aemp_str(inbox), aemp_int(3),
              NULL);
    run_until_n(&replies.calls, 3, 5);
    ck_assert(json_is(replies.last, "[\"echoed\",3,\"nodea\"]"));
    ck_assert_int_eq(replies.calls, 3);
    aemp_unref(replies.last);
    aemp_unref(wrapped.last);
    aemp_unref(died.last);
    aemp_unref(local.last);
    free(service);
    free(service2);
    free(inbox);
    free(self);
    aemp_node_free(a);
    aemp_node_free(b);
}
END_TEST

START_TEST(test_wrong_secret)
{
    seen blog = {0}, alog = {0}, lost = {0};
    aemp_node *b = make_node("nodeb", "right", NULL, &blog);
    aemp_node *a = make_node("nodea", "wrong", bind_of(b), &alog);
    aemp_mon(a, "nodeb#x", mon_record, &lost);
    run_until(&lost.calls, 5);
    ck_assert_int_eq(lost.calls, 1);
    ck_assert_str_eq(aemp_str_ptr(aemp_array_at(lost.last, 0), NULL),
                     "transport_error");
    ck_assert_msg(strstr(blog.logs, "authentication failure"), "b: %s a: %s", blog.logs, alog.logs);
    ck_assert_ptr_nonnull(strstr(alog.logs, "authentication failure"));
    ck_assert_int_ne(aemp_node_is_up(a, "nodeb"), 1);
    aemp_unref(lost.last);
    aemp_node_free(a);
    aemp_node_free(b);
}
END_TEST

/* ---- bad peers, by hand over a raw socket ---- */

START_TEST(test_bad_greetings)
{
    seen blog = {0};
    aemp_node *b = make_node("nodeb", "sec", NULL, &blog);
    const char *bad[] = {
        "GET / HTTP/1.0\r\n\r\n",
        "aemp;2;x;hmac_sha3_512;json\nnonce\n",
        "aemp;1;nodeb;hmac_sha3_512;json\nnonce\n",
    };
    const char *why[] = {"unparsable greeting", "version mismatch",
                         "refuse to talk to myself"};
    for (size_t i = 0; i < 3; i++) {
        int fd = raw_connect(bind_of(b));
        raw_send(fd, bad[i]);
        ck_assert_msg(raw_closed(fd), "case %zu not closed", i);
        close(fd);
        ck_assert_msg(strstr(blog.logs, why[i]), "case %zu: log has %s", i,
                      blog.logs);
    }
    /* an over-long line */
    int fd = raw_connect(bind_of(b));
    char *longline = malloc(6000);
    memset(longline, 'a', 5999);
    longline[5999] = 0;
    raw_send(fd, longline);
    free(longline);
    ck_assert(raw_closed(fd));
    close(fd);
    ck_assert_ptr_nonnull(strstr(blog.logs, "line too long"));
    /* a wrong auth line */
    fd = raw_connect(bind_of(b));
    char g1[4096], g2[4096];
    raw_greeting(fd, g1, g2);
    raw_send(fd, "aemp;1;intruder;hmac_sha3_512;json\nxyz\n"
                 "hmac_sha3_512;00;json\n");
    ck_assert(raw_closed(fd));
    close(fd);
    ck_assert_ptr_nonnull(strstr(blog.logs, "shared secret mismatch"));
    ck_assert(node_still_serves(b));
    aemp_node_free(b);
}
END_TEST

START_TEST(test_bad_frames)
{
    seen blog = {0}, got = {0};
    aemp_node *b = make_node("nodeb", "sec", NULL, &blog);
    aemp_rcv(b, "nodeb#inbox", NULL, record, &got);

    /* non-array frames and unknown requests are dropped, the link lives */
    int fd = raw_handshake(b, "rawnode");
    raw_send(fd, "{\"a\":1}42[][\"\",\"No::Such::function\",1]"
                 "[\"inbox\",\"hello\"]");
    run_until(&got.calls, 3);
    ck_assert_int_eq(got.calls, 1);
    ck_assert(json_is(got.last, "[\"hello\"]"));
    ck_assert_ptr_nonnull(strstr(blog.logs, "malformed message"));
    ck_assert_ptr_nonnull(
        strstr(blog.logs, "unable to resolve function 'No::Such::function'"));
    ck_assert_int_eq(aemp_node_is_up(b, "rawnode"), 1);

    /* garbage closes the link with the reason logged */
    raw_send(fd, "[\"inbox\",]]]garbage");
    ck_assert(raw_closed(fd));
    close(fd);
    /* down, and forgotten: nothing else kept its entry (Perl's undef) */
    ck_assert_int_eq(aemp_node_is_up(b, "rawnode"), -1);
    ck_assert(node_still_serves(b));
    aemp_unref(got.last);
    aemp_node_free(b);
}
END_TEST

/* A peer that does not read: the node's writes back up (the socket
 * takes part, the rest waits in the link's output). When the peer reads,
 * every frame arrives, whole and in order; when a peer with a backlog
 * goes away, only its link goes. */
START_TEST(test_write_backlog)
{
    enum { N = 2000, SIZE = 10000 }; /* 20 MB, more than socket buffers */
    seen blog = {0};
    aemp_node *b = make_node("nodeb", "sec", NULL, &blog);
    int fd = raw_handshake(b, "rawnode");
    run_until(&blog.calls, 0.3); /* the link comes up */
    ck_assert_int_eq(aemp_node_is_up(b, "rawnode"), 1);
    char *pad = malloc(SIZE + 1);
    memset(pad, 'x', SIZE);
    pad[SIZE] = 0;
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(aemp_sndv(b, "rawnode#sink", aemp_int(i),
                                   aemp_str(pad), NULL),
                         AEMP_OK);
    run_until(&blog.calls, 0.3); /* writes until the socket is full */
    ck_assert_uint_gt(aemp_node_unsent(b), 0);

    /* read it all: the auth line, then frames back to back, each
     * ["sink",SEQ,"xx...x"] */
    size_t cap = 1 << 16, used = 0;
    char *buf = malloc(cap);
    int next = 0, authed = 0;
    for (int round = 0; round < 4000 && next < N; round++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        ssize_t r = recv(fd, buf + used, cap - used, MSG_DONTWAIT);
        if (r <= 0) {
            run_until(&blog.calls, 0.005);
            continue;
        }
        used += (size_t)r;
        char *at = buf, *end = buf + used;
        if (!authed) {
            char *nl = memchr(buf, '\n', used);
            if (!nl)
                continue;
            at = nl + 1;
            authed = 1;
        }
        for (;;) {
            size_t len = strlen("[\"sink\",,\"\"]") + SIZE +
                         (size_t)snprintf(NULL, 0, "%d", next);
            if ((size_t)(end - at) < len)
                break;
            int seq = -1;
            ck_assert_int_eq(sscanf(at, "[\"sink\",%d,", &seq), 1);
            ck_assert_int_eq(seq, next);
            ck_assert(at[len - 2] == '"' && at[len - 1] == ']');
            ck_assert(at[len - 3] == 'x');
            at += len;
            next++;
        }
        used = (size_t)(end - at);
        memmove(buf, at, used);
        if (used == cap)
            buf = realloc(buf, cap *= 2);
    }
    ck_assert_int_eq(next, N);
    /* all of it read: nothing left unsent */
    ck_assert_uint_eq(aemp_node_unsent(b), 0);
    ck_assert_uint_eq(aemp_node_unsent(NULL), 0);

    /* a backlog again, and the peer goes away */
    for (int i = 0; i < N; i++)
        aemp_sndv(b, "rawnode#sink", aemp_int(i), aemp_str(pad), NULL);
    run_until(&blog.calls, 0.3);
    close(fd);
    for (int i = 0; i < 300 && aemp_node_is_up(b, "rawnode") == 1; i++)
        run_until(&blog.calls, 0.01);
    ck_assert_int_eq(aemp_node_is_up(b, "rawnode"), -1);
    ck_assert(node_still_serves(b));
    free(buf);
    free(pad);
    aemp_node_free(b);
}
END_TEST

/* Busy polling: while messages come, the node keeps one more event
 * pending (the zero timeout that keeps the loop from sleeping); once they
 * stop, it goes after the busy time and the loop can sleep again. */
typedef struct busy_seen {
    int calls;
    int events_added; /* pending events while a message is delivered */
} busy_seen;

static int busy_record(aemp_node *n, const char *port, const aemp_val *msg,
                       void *ud)
{
    (void)n;
    (void)port;
    (void)msg;
    busy_seen *s = ud;
    s->calls++;
    s->events_added = event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED);
    return 0;
}

START_TEST(test_busy_poll)
{
    aemp_node *b = make_node("nodeb", "sec", NULL, NULL);
    aemp_node *a = make_node("nodea", "sec", bind_of(b), NULL);
    ck_assert_int_eq(aemp_node_set_busy_poll(b, 2000000), AEMP_EINVAL);
    busy_seen got = {0, 0};
    aemp_rcv(b, "nodeb#inbox", NULL, busy_record, &got);
    aemp_sndv(a, "nodeb#inbox", aemp_str("first"), NULL);
    run_until(&got.calls, 5);
    ck_assert_int_eq(got.calls, 1);
    int never = 0;
    run_until(&never, 0.1); /* the links settle */
    int idle = event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED);

    /* a message without polling, then one with 20 ms of it */
    aemp_sndv(a, "nodeb#inbox", aemp_str("second"), NULL);
    for (int i = 0; i < 500 && got.calls < 2; i++)
        run_until(&never, 0.01);
    ck_assert_int_eq(got.calls, 2);
    int without = got.events_added;
    run_until(&never, 0.1);
    ck_assert_int_eq(aemp_node_set_busy_poll(b, 20000), AEMP_OK);
    aemp_sndv(a, "nodeb#inbox", aemp_str("third"), NULL);
    for (int i = 0; i < 500 && got.calls < 3; i++)
        run_until(&never, 0.01);
    ck_assert_int_eq(got.calls, 3);
    ck_assert_int_eq(got.events_added, without + 1);
    /* 20 ms after the last message the timeout is gone */
    run_until(&never, 0.1);
    ck_assert_int_eq(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED),
                     idle);
    aemp_node_free(a);
    aemp_node_free(b);
}
END_TEST

START_TEST(test_handshake_timeout)
{
    seen blog = {0};
    monitor_timeout = 1;
    aemp_node *b = make_node("nodeb", "sec", NULL, &blog);
    /* a peer that connects and says nothing is dropped after
     * monitor_timeout */
    int fd = raw_connect(bind_of(b));
    ck_assert(raw_closed(fd));
    close(fd);
    ck_assert_ptr_nonnull(strstr(blog.logs, "Connection timed out"));
    ck_assert(node_still_serves(b));
    aemp_node_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kernel");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_port_dispatch);
    tcase_add_test(tc, test_unmatched_and_die);
    tcase_add_test(tc, test_local_monitors);
    tcase_add_test(tc, test_two_nodes);
    tcase_add_test(tc, test_provider);
    tcase_add_test(tc, test_port_again);
    tcase_add_test(tc, test_kept_frames);
    tcase_add_test(tc, test_snd_in_a_row);
    tcase_add_test(tc, test_too_deep);
    tcase_add_test(tc, test_wrong_secret);
    tcase_add_test(tc, test_bad_greetings);
    tcase_add_test(tc, test_bad_frames);
    tcase_add_test(tc, test_write_backlog);
    tcase_add_test(tc, test_busy_poll);
    tcase_add_test(tc, test_handshake_timeout);
    suite_add_tcase(s, tc);
    (void)stop_soon;
    return test_run_suite(s);
}
