/* What a higher layer plugs into the kernel (kernel_hooks.c,
 * kernel_nodereq.c): node-port requests by tag, and hooks the kernel
 * calls on configure, node events, seeds, connects, idle remote entries
 * and free. Nodes of the kernel alone, played against full nodes over
 * loopback. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "kernel.h"
#include "node_fixture.h"
#include "testutil.h"

/* ---- a layer played by the test ---- */

typedef struct layer {
    int configured, freed, seed_is_self;
    char greeted[64];    /* the last seed_greeted */
    char events[256];    /* node events: "+id -id " */
    kernel_addr_rc addr_rc;
    const char *addr;    /* what KERNEL_ADDR_FOUND returns */
    char asked[64];      /* the last node addresses were asked for */
    const char *keep;    /* the node keeps says 1 for */
    int requests;        /* x_req calls */
    char req_src[64];
    aemp_val *req_msg;
} layer;

static layer *layer_of(const aemp_node *n)
{
    return n->upper;
}

static void on_configured(aemp_node *n)
{
    layer_of(n)->configured++;
}

static void on_node_event(aemp_node *n, const char *id, int up)
{
    char *ev = layer_of(n)->events;
    size_t used = strlen(ev);
    snprintf(ev + used, 256 - used, "%c%s ", up ? '+' : '-', id);
}

static void on_seed_greeted(aemp_node *n, const char *rnode)
{
    snprintf(layer_of(n)->greeted, 64, "%s", rnode);
}

static void on_seed_is_self(aemp_node *n)
{
    layer_of(n)->seed_is_self++;
}

static kernel_addr_rc on_addresses(aemp_node *n, const char *id,
                                   aemp_val **addrs)
{
    layer *l = layer_of(n);
    snprintf(l->asked, sizeof l->asked, "%s", id);
    *addrs = l->addr_rc == KERNEL_ADDR_FOUND
                 ? aemp_arrayv(aemp_str(l->addr), NULL)
                 : NULL;
    return l->addr_rc;
}

static int on_keeps(const aemp_node *n, const char *id)
{
    const char *keep = layer_of(n)->keep;
    return keep && !strcmp(keep, id);
}

static void on_free(aemp_node *n)
{
    layer_of(n)->freed++;
}

static const kernel_hooks test_hooks = {
    .configured = on_configured,
    .node_event = on_node_event,
    .seed_greeted = on_seed_greeted,
    .seed_is_self = on_seed_is_self,
    .addresses = on_addresses,
    .keeps = on_keeps,
    .free = on_free,
};

static void on_x_req(aemp_node *n, const char *src, aemp_val *msg)
{
    layer *l = layer_of(n);
    l->requests++;
    snprintf(l->req_src, sizeof l->req_src, "%s", src);
    aemp_unref(l->req_msg);
    l->req_msg = aemp_copy(msg); /* borrowed: the kernel frees it */
}

/* Runs the loop for that long. */
static void spin(double seconds)
{
    int never = 0;
    run_until(&never, seconds);
}

/* A node of the kernel alone, with hooks and l plugged in if l is given
 * (before configure, as aemp_node_new does), with one seed if given. */
static aemp_node *kernel_node_with(const char *id, const kernel_hooks *hooks,
                                   layer *l, const char *seed)
{
    aemp_node *n = aempi_kernel_node_new(base);
    ck_assert_ptr_nonnull(n);
    aemp_node_set_log(n, 0, NULL, NULL);
    if (l)
        ck_assert_int_eq(aempi_kernel_hooks_set(n, hooks, l), AEMP_OK);
    configure_node(n, id, "s", seed);
    return n;
}

/* Listening at a port known beforehand, which is also its seed. */
static aemp_node *its_own_seed(const char *id, layer *l)
{
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", test_free_port());
    aemp_val *at = aemp_arrayv(aemp_str(addr), NULL);
    extra_config = aemp_map();
    aemp_map_set(extra_config, "binds", aemp_ref(at));
    aemp_map_set(extra_config, "seeds", at);
    aemp_node *n = l ? kernel_node_with(id, &test_hooks, l, NULL)
                     : make_node(id, "s", NULL, NULL);
    aemp_unref(extra_config);
    extra_config = NULL;
    return n;
}

static aemp_node *kernel_node(const char *id, layer *l, const char *seed)
{
    return kernel_node_with(id, &test_hooks, l, seed);
}

/* ["can", tag, port, tag]: the node's answer ("1" or "") lands in s. */
static const char *can(aemp_node *n, const char *tag)
{
    static char answer[8];
    seen s = {0};
    char *p = aemp_port(n, record, &s);
    aemp_sndv(n, aemp_node_id(n), aemp_str("can"), aemp_str(tag),
              aemp_str(p), aemp_str(tag), NULL);
    run_until(&s.calls, 2);
    ck_assert_int_eq(s.calls, 1);
    ck_assert_str_eq(aemp_str_ptr(aemp_array_at(s.last, 0), NULL), tag);
    snprintf(answer, sizeof answer, "%s",
             aemp_str_ptr(aemp_array_at(s.last, 1), NULL));
    aemp_unref(s.last);
    aemp_kil(n, p, NULL);
    free(p);
    return answer;
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

/* ---- node-port requests by tag ---- */

START_TEST(test_request_by_tag)
{
    layer l = {0};
    aemp_node *k = kernel_node("k", &l, NULL);
    ck_assert_str_eq(can(k, "x_req"), "");
    ck_assert_int_eq(aempi_kernel_node_request_add(k, "x_req", on_x_req),
                     AEMP_OK);
    ck_assert_str_eq(can(k, "x_req"), "1");
    /* a tag is taken once: built in, or by a layer */
    ck_assert_int_eq(aempi_kernel_node_request_add(k, "snd", on_x_req),
                     AEMP_EINVAL);
    ck_assert_int_eq(aempi_kernel_node_request_add(k, "x_req", on_x_req),
                     AEMP_EINVAL);

    aemp_sndv(k, "k", aemp_str("x_req"), aemp_int(7), NULL);
    run_until(&l.requests, 2);
    ck_assert_int_eq(l.requests, 1);
    ck_assert_str_eq(l.req_src, "k");
    ck_assert(json_is(l.req_msg, "[\"\",\"x_req\",7]"));

    /* from another node too, with that node as the source: k links to b,
     * b answers over that link */
    aemp_node *b = make_node("b", "s", NULL, NULL);
    l.addr_rc = KERNEL_ADDR_FOUND;
    l.addr = bind_of(b);
    seen got = {0};
    char *p = aemp_port(b, record, &got);
    aemp_sndv(k, p, aemp_str("hello"), NULL);
    run_until(&got.calls, 3);
    ck_assert_int_eq(got.calls, 1);
    aemp_sndv(b, "k", aemp_str("x_req"), aemp_str("hi"), NULL);
    l.requests = 0;
    run_until(&l.requests, 3);
    ck_assert_int_eq(l.requests, 1);
    ck_assert_str_eq(l.req_src, "b");
    ck_assert(json_is(l.req_msg, "[\"\",\"x_req\",\"hi\"]"));
    aemp_unref(got.last);
    free(p);
    aemp_node_free(b);
    aemp_unref(l.req_msg);
    aemp_node_free(k);
    ck_assert_int_eq(l.freed, 1);
}
END_TEST

/* "z#p" on n, which knows no address for z: its monitor hears so. */
static void no_address_for_z(aemp_node *n)
{
    seen gone = {0};
    aemp_mon(n, "z#p", mon_record, &gone); /* its mon1 fails unheard */
    aemp_sndv(n, "z#p", aemp_str("lost"), NULL);
    run_until(&gone.calls, 2);
    ck_assert_int_eq(gone.calls, 1);
    ck_assert(json_is(gone.last,
                      "[\"transport_error\",\"z\",\"no known address\"]"));
    aemp_unref(gone.last);
}

START_TEST(test_kernel_alone)
{
    /* no layer: no global request, no address for a node */
    aemp_node *k = kernel_node("k", NULL, NULL);
    ck_assert_str_eq(can(k, "g_find"), "");
    ck_assert_str_eq(can(k, "time"), "1");
    no_address_for_z(k);
    aemp_node_free(k);
}
END_TEST

START_TEST(test_node_new_plugs_global)
{
    aemp_node *n = make_node("full", "s", NULL, NULL);
    /* a normal node has Kernel.pm's g_* requests, not Global.pm's */
    static const char *const normal[] = {"g_global", "g_reply", "g_found",
                                         "g_chg1", "g_chg2", "g_slave"};
    static const char *const global[] = {
        "g_set",       "g_upd",       "g_find", "g_db_family",
        "g_db_keys",   "g_db_values", "g_mon1", "g_mon0"};
    for (size_t i = 0; i < sizeof normal / sizeof *normal; i++)
        ck_assert_str_eq(can(n, normal[i]), "1");
    for (size_t i = 0; i < sizeof global / sizeof *global; i++)
        ck_assert_str_eq(can(n, global[i]), "");
    ck_assert_int_eq(aempi_kernel_node_request_add(n, "g_find", on_x_req),
                     AEMP_EINVAL);
    /* the global protocol is the node's one layer */
    layer l = {0};
    ck_assert_int_eq(aempi_kernel_hooks_set(n, &test_hooks, &l), AEMP_ESTATE);
    aemp_node_free(n);
    ck_assert_int_eq(l.freed, 0);

    /* its hooks: a node whose seed address is its own is a global node,
     * its own master */
    aemp_node *me = its_own_seed("me", NULL);
    for (int i = 0; i < 300 && !aemp_node_master(me); i++)
        spin(0.01);
    ck_assert_str_eq(aemp_node_master(me), "me");
    /* a global node has them all */
    for (size_t i = 0; i < sizeof normal / sizeof *normal; i++)
        ck_assert_str_eq(can(me, normal[i]), "1");
    for (size_t i = 0; i < sizeof global / sizeof *global; i++)
        ck_assert_str_eq(can(me, global[i]), "1");
    aemp_node_free(me);
}
END_TEST

static int noop_func(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)n;
    (void)args;
    (*(int *)ud)++;
    return 0;
}

/* Perl's `$NODE_REQ{TAG} ||= load_func TAG` keeps every function name
 * called on the node port, even one that did not resolve: `can` answers
 * "1" for it from then on, "" before. */
START_TEST(test_can_function_names)
{
    aemp_node *n = make_node("fn", "s", NULL, NULL);
    aemp_node_set_log(n, 0, NULL, NULL);
    int calls = 0;
    ck_assert_int_eq(aemp_func_register(n, "My::func", noop_func, &calls),
                     AEMP_OK);
    ck_assert_str_eq(can(n, "My::func"), "");
    ck_assert_str_eq(can(n, "No::such"), "");
    aemp_snd_to_func(n, "fn", "My::func", NULL);
    aemp_snd_to_func(n, "fn", "No::such", NULL);
    run_until(&calls, 2);
    ck_assert_int_eq(calls, 1);
    ck_assert_str_eq(can(n, "My::func"), "1");
    ck_assert_str_eq(can(n, "No::such"), "1");
    /* made-up names are kept up to a bound; registered ones always */
    char name[32];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "Made::up%d", i);
        aemp_snd_to_func(n, "fn", name, NULL);
    }
    ck_assert_str_eq(can(n, "Made::up0"), "1");
    ck_assert_str_eq(can(n, "Made::up299"), "");
    ck_assert_int_eq(aemp_func_register(n, "My::later", noop_func, &calls),
                     AEMP_OK);
    aemp_snd_to_func(n, "fn", "My::later", NULL);
    run_until(&calls, 2);
    ck_assert_str_eq(can(n, "My::later"), "1");
    aemp_node_free(n);

    /* secure mode refuses unknown names before Perl keeps them */
    extra_config = aemp_map();
    aemp_map_set(extra_config, "secure", aemp_int(1));
    aemp_node *sec = make_node("sec", "s", NULL, NULL);
    aemp_unref(extra_config);
    extra_config = NULL;
    aemp_node_set_log(sec, 0, NULL, NULL);
    aemp_snd_to_func(sec, "sec", "No::such", NULL);
    ck_assert_str_eq(can(sec, "No::such"), "");
    aemp_node_free(sec);
}
END_TEST

START_TEST(test_hooks_set_refuses)
{
    aemp_node *n = aempi_kernel_node_new(base);
    layer l = {0};
    ck_assert_int_eq(aempi_kernel_hooks_set(n, NULL, &l), AEMP_EINVAL);
    ck_assert_int_eq(aempi_kernel_hooks_set(n, &test_hooks, NULL),
                     AEMP_EINVAL);
    ck_assert_int_eq(aempi_kernel_hooks_set(n, &test_hooks, &l), AEMP_OK);
    ck_assert_int_eq(aempi_kernel_hooks_set(n, &test_hooks, &l), AEMP_ESTATE);
    aemp_node_free(n);
    ck_assert_int_eq(l.freed, 1);
}
END_TEST

START_TEST(test_hooks_left_null)
{
    /* a layer with a free hook only: the kernel's own work goes on as
     * without a layer (a seed met, a node up, no address known) */
    layer l = {0};
    kernel_hooks only_free = {.free = on_free};
    aemp_node *s = make_node("s", "s", NULL, NULL);
    aemp_node *k = kernel_node_with("k", &only_free, &l, bind_of(s));
    for (int i = 0; i < 300 && aemp_node_is_up(k, "s") != 1; i++)
        spin(0.01);
    ck_assert_int_eq(aemp_node_is_up(k, "s"), 1);
    no_address_for_z(k);
    aemp_node_free(s);
    spin(0.1);
    aemp_node_free(k);
    ck_assert_int_eq(l.freed, 1);
    ck_assert_int_eq(l.configured, 0);
}
END_TEST

/* ---- hooks ---- */

START_TEST(test_connect_asks_the_layer)
{
    layer l = {0};
    aemp_node *b = make_node("b", "s", NULL, NULL);
    aemp_node *k = kernel_node("k", &l, NULL);
    ck_assert_int_eq(l.configured, 1);
    seen got = {0};
    char *p = aemp_port(b, record, &got);

    /* found: the kernel connects there */
    l.addr_rc = KERNEL_ADDR_FOUND;
    l.addr = bind_of(b);
    aemp_sndv(k, p, aemp_str("hello"), NULL);
    run_until(&got.calls, 3);
    ck_assert_int_eq(got.calls, 1);
    ck_assert_str_eq(l.asked, "b");
    ck_assert_str_eq(l.events, "+b ");

    /* down: the layer hears it; an entry it keeps stays */
    l.keep = "b";
    aemp_node_free(b);
    for (int i = 0; i < 300 && !strstr(l.events, "-b"); i++)
        spin(0.01);
    ck_assert_str_eq(l.events, "+b -b ");
    spin(0.1);
    ck_assert_int_eq(aemp_node_is_up(k, "b"), 0);
    /* and goes once the layer lets go */
    l.keep = NULL;
    aempi_kernel_remote_let_go(k, "b");
    spin(0.1);
    ck_assert_int_eq(aemp_node_is_up(k, "b"), -1);

    aemp_unref(got.last);
    free(p);
    aemp_node_free(k);
}
END_TEST

START_TEST(test_connect_unknown_or_looking)
{
    layer l = {0};
    aemp_node *k = kernel_node("k", &l, NULL);

    /* nobody knows: the connect fails at once */
    l.addr_rc = KERNEL_ADDR_NONE;
    no_address_for_z(k);
    ck_assert_str_eq(l.asked, "z");

    /* a lookup: nothing happens until its answer connects */
    aemp_node *c = make_node("c", "s", NULL, NULL);
    seen got = {0};
    char *p = aemp_port(c, record, &got);
    l.addr_rc = KERNEL_ADDR_LOOKING;
    aemp_sndv(k, p, aemp_str("late"), NULL);
    spin(0.3);
    ck_assert_str_eq(l.asked, "c");
    ck_assert_int_eq(got.calls, 0);
    aemp_val *addrs = aemp_arrayv(aemp_str(bind_of(c)), NULL);
    aemp_remote *r = aempi_kernel_remote_get(k, "c", 0);
    ck_assert_ptr_nonnull(r); /* still trying */
    aempi_kernel_remote_connect_to(r, addrs);
    aemp_unref(addrs);
    run_until(&got.calls, 3);
    ck_assert_int_eq(got.calls, 1);
    ck_assert(json_is(got.last, "[\"late\"]"));

    aemp_unref(got.last);
    free(p);
    aemp_node_free(c);
    aemp_node_free(k);
}
END_TEST

START_TEST(test_seed_hooks)
{
    /* a seed that is another node: greeted with its id */
    layer l = {0};
    aemp_node *s = make_node("s", "s", NULL, NULL);
    aemp_node *k = kernel_node("k", &l, bind_of(s));
    for (int i = 0; i < 300 && !l.greeted[0]; i++)
        spin(0.01);
    ck_assert_str_eq(l.greeted, "s");
    ck_assert_int_eq(l.seed_is_self, 0);
    aemp_node_free(k);

    /* a seed that is our own address: this node is a seed */
    layer self = {0};
    aemp_node *me = its_own_seed("me", &self);
    for (int i = 0; i < 300 && !self.seed_is_self; i++)
        spin(0.01);
    ck_assert_int_eq(self.seed_is_self, 1);
    ck_assert_str_eq(self.greeted, "");
    aemp_node_free(me);
    aemp_node_free(s);
}
END_TEST

/* nodelay (Transport.pm: exists $config->{nodelay} ? $config->{nodelay}
 * : 1) reaches the links' settings: missing is on, false or null off */
START_TEST(test_nodelay_setting)
{
    static const char *const values[] = {NULL, "1", "0", "null", "\"\""};
    static const int delay[] = {0, 0, 1, 1, 1};
    for (size_t i = 0; i < sizeof delay / sizeof *delay; i++) {
        if (values[i]) {
            extra_config = aemp_map();
            aemp_map_set(extra_config, "nodelay",
                         aemp_from_json(values[i], strlen(values[i]), NULL));
        }
        aemp_node *n = make_node("nd", "s", NULL, NULL);
        aemp_unref(extra_config);
        extra_config = NULL;
        ck_assert_int_eq(n->transport.set.tcp_delay, delay[i]);
        aemp_node_free(n);
    }
}
END_TEST

/* aemp_sndv's array goes back to the node's pool once the frame is
 * encoded for a link that is up; an array the caller still holds is
 * left alone and stays intact. */
typedef struct counted {
    int calls;
} counted;

static int count_msg(aemp_node *n, const char *port, const aemp_val *msg,
                     void *ud)
{
    (void)n;
    (void)port;
    (void)msg;
    ((counted *)ud)->calls++;
    return 0;
}

START_TEST(test_sndv_arrays_pooled)
{
    aemp_node *b = make_node("nodeb", "sec", NULL, NULL);
    aemp_node *a = make_node("nodea", "sec", bind_of(b), NULL);
    counted c = {0};
    ck_assert_int_eq(aemp_rcv(b, "nodeb#count", NULL, count_msg, &c), 0);
    /* the first waits in the queue for the link */
    aemp_sndv(a, "nodeb#count", aemp_int(0), NULL);
    for (int i = 0; i < 100 && !c.calls; i++)
        run_until(&c.calls, 0.05);
    ck_assert_int_eq(c.calls, 1);
    size_t before = a->pool.n;
    aemp_val *mine = aemp_arrayv(aemp_int(7), aemp_str("y"), NULL);
    for (int i = 0; i < 20; i++) {
        aemp_sndv(a, "nodeb#count", aemp_int(i), aemp_str("x"), NULL);
        aemp_snd(a, "nodeb#count", aemp_ref(mine));
    }
    ck_assert_uint_gt(a->pool.n, before);
    ck_assert(json_is(mine, "[7,\"y\"]"));
    aemp_unref(mine);
    for (int i = 0, never = 0; i < 300 && c.calls < 41; i++)
        run_until(&never, 0.01);
    ck_assert_int_eq(c.calls, 41);
    aemp_node_free(a);
    aemp_node_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kernel_hooks");
    TCase *tc = tcase_create("hooks");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_request_by_tag);
    tcase_add_test(tc, test_kernel_alone);
    tcase_add_test(tc, test_node_new_plugs_global);
    tcase_add_test(tc, test_can_function_names);
    tcase_add_test(tc, test_nodelay_setting);
    tcase_add_test(tc, test_hooks_set_refuses);
    tcase_add_test(tc, test_hooks_left_null);
    tcase_add_test(tc, test_connect_asks_the_layer);
    tcase_add_test(tc, test_connect_unknown_or_looking);
    tcase_add_test(tc, test_seed_hooks);
    tcase_add_test(tc, test_sndv_arrays_pooled);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
