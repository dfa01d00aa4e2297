/* libaemp_compat: the Perl names that need a second node. The compat node
 * talks to a core node (the "peer") on the same event_base; the peer is
 * its own seed, so it also holds the shared database: named functions,
 * spawn both ways, cal, after, node_of and friends, the db_* functions
 * and mon_nodes. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "compat_testutil.h"

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    socklen_t len = sizeof sa;
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    close(fd);
    return ntohs(sa.sin_port);
}

/* The peer: a core node that is its own seed, on the compat loop. */
static aemp_node *peer;
static char seed_addr[64];

static void start_peer(void)
{
    snprintf(seed_addr, sizeof seed_addr, "127.0.0.1:%d", free_port());
    peer = aemp_node_new(aemp_compat_base());
    aemp_node_set_log(peer, 0, quiet, NULL);
    aemp_val *args = aemp_map();
    aemp_map_set(args, "norc", I(1));
    aemp_map_set(args, "nodeid", S("peer"));
    aemp_map_set(args, "secret", S("s"));
    aemp_map_set(args, "binds", A(S(seed_addr)));
    aemp_map_set(args, "seeds", A(S(seed_addr)));
    ck_assert_int_eq(aemp_node_configure(peer, args, NULL), 0);
    aemp_unref(args);
}

/* The compat node, linked to the peer (its seed and master). */
static void start_both(void)
{
    start_peer();
    aemp_node_set_log(aemp_compat_node(), 0, quiet, NULL);
    ck_assert_int_eq(configure(S("norc"), I(1), S("nodeid"), S("compat"),
                               S("secret"), S("s"),
                               S("binds"), A(S("127.0.0.1:*")),
                               S("seeds"), A(S(seed_addr))),
                     0);
    /* both sides: each finishes the handshake on its own */
    for (int i = 0; i < 500 && (!aemp_node_master(aemp_compat_node())
                                || aemp_node_is_up(peer, "compat") != 1); i++)
        spin();
    ck_assert_str_eq(aemp_node_master(aemp_compat_node()), "peer");
    ck_assert_int_eq(aemp_node_is_up(peer, "compat"), 1);
}

static void stop_all(void)
{
    aemp_node_free(peer);
    peer = NULL;
    aemp_compat_destroy();
}

/* ---- functions, spawn, cal, after, nodes (with the peer) ------------------------------ */

static int init_func(const aemp_val *args, void *ud)
{
    note(ud, args);
    rcv(SELF, "hi", record, ud); /* the init makes $SELF */
    return 0;
}

static int peer_init(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)args;
    return aemp_rcv(n, aemp_self(n), NULL, NULL, ud) ? 1 : 0;
}

static int peer_func(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)n;
    note(ud, args);
    return 0;
}

static int answer(aemp_node *n, const char *port, const aemp_val *msg,
                  void *ud)
{
    (void)port, (void)ud;
    /* ["ask", X, REPLY] */
    aemp_sndv(n, aemp_str_ptr(aemp_array_at(msg, 2), NULL), S("answer"),
              aemp_copy(aemp_array_at(msg, 1)), NULL);
    return 0;
}

START_TEST(test_functions)
{
    start_both();
    seen init = {0}, fn = {0};

    /* sub: callable by name from the peer, and as spawn's init */
    ck_assert_int_eq(sub("My::func", record, &fn), 0);
    aemp_snd_to_func(peer, "compat", "My::func", A(I(1), S("x")));
    wait_for(&fn.calls, 1);
    ck_assert(json_is(fn.last, "[1,\"x\"]"));
    ck_assert_int_eq(sub("My::init", init_func, &init), 0);
    char *spawned = aemp_spawn(peer, "compat", "My::init", A(I(42)));
    wait_for(&init.calls, 1);
    ck_assert_str_eq(init.self, spawned);
    ck_assert(json_is(init.last, "[42]"));
    aemp_sndv(peer, spawned, S("hi"), I(5), NULL);
    wait_for(&init.calls, 2);
    ck_assert(json_is(init.last, "[5]"));
    /* snd_to_func: by name on the peer, and on our own node */
    seen peer_fn = {0};
    aemp_func_register(peer, "Peer::func", peer_func, &peer_fn);
    ck_assert_int_eq(snd_to_func("peer", "Peer::func", I(7), S("y")), 0);
    wait_for(&peer_fn.calls, 1);
    ck_assert(json_is(peer_fn.last, "[7,\"y\"]"));
    ck_assert_int_eq(snd_to_func("compat", "My::func"), 0);
    wait_for(&fn.calls, 2);
    ck_assert(json_is(fn.last, "[]"));
    ck_assert_int_ne(snd_to_func("peer#port", "Peer::func"), 0);
    aemp_unref(peer_fn.last);
    sub("My::func", NULL, NULL); /* gone: now unresolved */

    /* spawn on the peer: the port id at once, on the peer's node */
    aemp_func_register(peer, "Peer::init", peer_init, NULL);
    char *there = spawn("peer", "Peer::init", S("arg"));
    ck_assert_int_eq(strncmp(there, "peer#", 5), 0);
    ck_assert_ptr_null(spawn("peer", "noqualifier"));

    /* node_of, port_is_local, node_is_up, up_nodes */
    char *nodeid = node_of(there);
    ck_assert_str_eq(nodeid, "peer");
    ck_assert(port_is_local(spawned));
    ck_assert(!port_is_local(there));
    ck_assert_int_eq(node_is_up("peer"), 1);
    ck_assert_int_eq(node_is_up("unheard_of"), -1);
    ck_assert(take_json_is(up_nodes(), "[\"peer\"]"));

    /* cal: a reply; a timeout; the target's death (no timeout) */
    char *srv = aemp_port(peer, answer, NULL);
    seen r = {0}, t = {0}, d = {0};
    ck_assert_int_eq(cal(srv, record, &r, S("ask"), I(5)), 0);
    ck_assert_int_eq(cal_timeout("peer", 5.0, record, &t, S("time")), 0);
    wait_for(&r.calls, 1);
    wait_for(&t.calls, 1);
    ck_assert(json_is(r.last, "[\"answer\",5]"));
    ck_assert_int_eq(aemp_type_of(aemp_array_at(t.last, 0)), AEMP_DOUBLE);
    char *mute = aemp_port(peer, NULL, NULL);
    aemp_rcv(peer, mute, "ask", NULL, NULL);
    seen late = {0};
    cal_timeout(mute, 0.1, record, &late, S("nothing"));
    cal(mute, record, &d, S("nothing"));
    wait_for(&late.calls, 1);
    ck_assert(json_is(late.last, "[]")); /* timeout: empty @_ */
    aemp_kil(peer, mute, A(S("gone")));
    wait_for(&d.calls, 1);
    ck_assert(json_is(d.last, "[]")); /* target died: empty @_ */

    /* after: a callback, a message, one released */
    seen tick = {0}, msg = {0}, never = {0};
    char *inbox = port(record, &msg);
    after(0.05, record, &tick);
    after_snd(0.05, inbox, S("tick"), I(1));
    release(after(0.05, record, &never));
    wait_for(&tick.calls, 1);
    wait_for(&msg.calls, 1);
    ck_assert(json_is(tick.last, "[]"));
    ck_assert(json_is(msg.last, "[\"tick\",1]"));
    ck_assert_int_eq(never.calls, 0);

    aemp_unref(init.last), aemp_unref(fn.last), aemp_unref(r.last);
    aemp_unref(t.last), aemp_unref(late.last), aemp_unref(d.last);
    aemp_unref(tick.last), aemp_unref(msg.last);
    free(spawned), free(there), free(nodeid), free(srv), free(mute);
    free(inbox);
    stop_all();
}
END_TEST

/* ---- the shared database and mon_nodes --------------------------------------------- */

START_TEST(test_db)
{
    seen nodes = {0};
    aemp_compat_guard ng = mon_nodes(record, &nodes);
    start_both();
    wait_for(&nodes.calls, 1);
    ck_assert(json_is(nodes.last, "[\"peer\",1]"));
    release(ng);

    seen m = {0};
    aemp_compat_guard mg = db_mon("cfam", record, &m);
    wait_for(&m.calls, 1);
    ck_assert(json_is(m.last, "[{},[],[],[]]"));

    char *p = port();
    aemp_compat_guard g1 = db_set("cfam", "k1", I(1));
    db_set("cfam", "k2");                    /* no value: undef */
    db_reg("cfam", p, S("reg"));
    ck_assert_int_eq(db_set("cfam", "k3", I(1), I(2)), 0); /* one value */
    for (int i = 0; i < 500 && !(m.last && aemp_map_len(aemp_array_at(m.last, 0)) == 3); i++)
        spin();
    aemp_val *wanted = H(S("k1"), I(1), S("k2"), U(), S(p), S("reg"));
    char *want = aemp_to_json_canonical(wanted, NULL);
    aemp_unref(wanted);
    char *got = aemp_to_json_canonical(aemp_array_at(m.last, 0), NULL);
    ck_assert_str_eq(got, want);
    free(got), free(want);

    /* queries get @_ = (result) */
    seen fam = {0}, keys = {0}, vals = {0};
    db_family("cfam", record, &fam);
    db_keys("cfam", record, &keys);
    db_values("cfam", record, &vals);
    wait_for(&fam.calls, 1);
    wait_for(&keys.calls, 1);
    wait_for(&vals.calls, 1);
    ck_assert_int_eq(aemp_map_len(aemp_array_at(fam.last, 0)), 3);
    ck_assert_int_eq(aemp_array_len(aemp_array_at(keys.last, 0)), 3);
    ck_assert_int_eq(aemp_array_len(aemp_array_at(vals.last, 0)), 3);

    /* release the db_set guard, db_del, kill the db_reg port */
    release(g1);
    db_del("cfam", "k2", "nosuch");
    kil(p);
    for (int i = 0; i < 500 && aemp_map_len(aemp_array_at(m.last, 0)); i++)
        spin();
    ck_assert(json_is(aemp_array_at(m.last, 0), "{}"));

    /* a released monitor hears nothing */
    release(mg);
    int before = m.calls;
    db_set("cfam", "k4", I(4));
    seen sync = {0};
    db_keys("cfam", record, &sync); /* answered after the change */
    wait_for(&sync.calls, 1);
    ck_assert_int_eq(m.calls, before);

    aemp_unref(nodes.last), aemp_unref(m.last), aemp_unref(fam.last);
    aemp_unref(keys.last), aemp_unref(vals.last), aemp_unref(sync.last);
    free(p);
    stop_all();
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("two nodes");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_functions);
    tcase_add_test(tc, test_db);
    return run_suite(tc);
}
