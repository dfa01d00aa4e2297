/* A node's memory does not grow with the node ids it has met. Nodes with
 * fresh ids (as caemp's are) come by the thousand, talk, monitor and go,
 * at a plain node and at a seed, and every table keyed by node id is back
 * where it was. What keeps an entry (a monitor, a connect attempt, being a
 * seed) keeps it, and a queued message from a node outlives its entry. */
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
#include "global_int.h"
#include "testutil.h"

enum { ROUNDS = 10, BATCH = 100 }; /* a thousand fresh nodes a test */

static struct event_base *base;
static double monitor_timeout; /* 0: the default */

static void spin(void)
{
    struct timeval tv = {0, 10000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

/* Runs the loop until *count reaches want, for at most ten seconds. */
static void wait_for(const int *count, int want)
{
    for (int i = 0; i < 1000 && *count < want; i++)
        spin();
}

static aemp_node *node_at(const char *id, const char *bind, const char *seed)
{
    aemp_node *n = aemp_node_new(base);
    ck_assert_ptr_nonnull(n);
    aemp_node_set_log(n, 0, NULL, NULL);
    aemp_val *args = aemp_map();
    aemp_map_set(args, "norc", aemp_int(1));
    aemp_map_set(args, "nodeid", aemp_str(id));
    aemp_map_set(args, "secret", aemp_str("s"));
    aemp_map_set(args, "binds", aemp_arrayv(aemp_str(bind), NULL));
    aemp_map_set(args, "connect_interval", aemp_double(1));
    if (monitor_timeout > 0)
        aemp_map_set(args, "monitor_timeout", aemp_double(monitor_timeout));
    if (seed)
        aemp_map_set(args, "seeds", aemp_arrayv(aemp_str(seed), NULL));
    ck_assert_int_eq(aemp_node_configure(n, args, NULL), 0);
    aemp_unref(args);
    return n;
}

static aemp_node *node_new(const char *id, const char *seed)
{
    return node_at(id, "127.0.0.1:*", seed);
}

/* A seed: a global node, made so by hand. */
static aemp_node *seed_new(const char *id)
{
    aemp_node *n = node_new(id, NULL);
    aempi_gseed_become(n);
    spin();
    return n;
}

static const char *bind_of(const aemp_node *n)
{
    return aemp_str_ptr(aemp_array_at(aemp_node_binds(n), 0), NULL);
}

/* Entries at depth levels below the top of a map of maps. */
static size_t leaves(const aemp_val *m, int depth)
{
    if (depth == 1)
        return aemp_map_len(m);
    size_t sum = 0;
    for (size_t i = 0; i < aemp_map_len(m); i++)
        sum += leaves(aemp_map_value_at(m, i), depth - 1);
    return sum;
}

/* Every table a node keeps per node id, in one line (malloc'd). */
static char *tables(const aemp_node *n)
{
    const aemp_global *g = global_of(n);
    char *s = malloc(512);
    snprintf(s, 512,
             "remotes %zu monitors %zu global_nodes %zu requests %zu "
             "shards %zu slaves %zu gmon %zu holders %zu 'l %zu "
             "keepalive %zu down %zu ports %zu",
             n->remotes.count, n->monitors.count, g->global_nodes.count,
             aemp_map_len(g->requests), aemp_map_len(g->local_dbs),
             aemp_map_len(g->slaves), leaves(g->gmon, 2),
             leaves(g->holders, 3),
             aemp_map_len(aemp_map_get(g->global_db, "'l")),
             aemp_map_len(g->keepalive), aemp_map_len(g->down),
             n->ports.count);
    return s;
}

static void tables_are(const aemp_node *n, const char *want)
{
    char *got = tables(n);
    ck_assert_msg(!strcmp(got, want), "%s:\n got  %s\n want %s",
                  aemp_node_id(n), got, want);
    free(got);
}

static size_t up_count(const aemp_node *n)
{
    aemp_val *up = aemp_up_nodes(n);
    size_t len = aemp_array_len(up);
    aemp_unref(up);
    return len;
}

/* Frees the nodes, then runs the loop until node has only `stay` links. */
static void drop_all(aemp_node **nodes, int count, aemp_node *node,
                     size_t stay)
{
    for (int i = 0; i < count; i++)
        aemp_node_free(nodes[i]);
    for (int i = 0; i < 1000 && up_count(node) > stay; i++)
        spin();
    ck_assert_uint_eq(up_count(node), stay);
    spin(); /* what went down is forgotten from the loop */
}

static void count_reply(aemp_node *n, const aemp_val *reply, void *ud)
{
    (void)n;
    if (reply)
        ++*(int *)ud;
}

static void count_db(aemp_node *n, const char *family, const aemp_val *db,
                     const aemp_val *a, const aemp_val *c, const aemp_val *d,
                     void *ud)
{
    (void)n;
    (void)family;
    (void)db;
    (void)a;
    (void)c;
    (void)d;
    ++*(int *)ud;
}

/* A caemp-like visit to a seed: it is the node's master (g_slave with its
 * 'l), the node sets and monitors a family and asks the seed the time. */
static aemp_node *visit_seed(aemp_node *seed, int serial, int *answered,
                             int *monitored)
{
    char id[32];
    snprintf(id, sizeof id, "fresh%d", serial);
    aemp_node *f = node_new(id, bind_of(seed));
    aemp_db_set(f, "churn", id, aemp_int(serial));
    aemp_db_mon(f, "churn", count_db, monitored);
    free(aemp_cal(f, aemp_node_id(seed), aemp_arrayv(aemp_str("time"), NULL),
                  10, count_reply, answered));
    return f;
}

START_TEST(test_seed_forgets_nodes)
{
    aemp_node *seed = seed_new("seed");
    char *before = tables(seed);
    for (int round = 0; round < ROUNDS; round++) {
        aemp_node *fresh[BATCH];
        int answered = 0, monitored = 0;
        for (int i = 0; i < BATCH; i++)
            fresh[i] = visit_seed(seed, round * BATCH + i, &answered,
                                  &monitored);
        wait_for(&answered, BATCH);
        wait_for(&monitored, BATCH);
        ck_assert_int_eq(answered, BATCH);
        drop_all(fresh, BATCH, seed, 0);
        tables_are(seed, before);
    }
    /* and it still serves */
    int answered = 0, monitored = 0;
    aemp_node *last = visit_seed(seed, -1, &answered, &monitored);
    wait_for(&answered, 1);
    ck_assert_int_eq(answered, 1);
    aemp_node_free(last);
    free(before);
    aemp_node_free(seed);
}
END_TEST

typedef struct plain {
    int his;   /* "hi" messages the plain node got */
    int oks;   /* its answers the fresh nodes got */
    int gone;  /* its monitors of fresh and unknown nodes' ports fired */
} plain;

static void count_death(aemp_node *n, const char *port,
                        const aemp_val *reason, void *ud)
{
    (void)n;
    (void)port;
    (void)reason;
    ++*(int *)ud;
}

/* ["hi", REPLY]: monitor the sender's port, answer. */
static int on_hi(aemp_node *n, const char *port, const aemp_val *msg,
                 void *ud)
{
    (void)port;
    plain *p = ud;
    const char *reply = aemp_str_ptr(aemp_array_at(msg, 1), NULL);
    p->his++;
    aemp_mon(n, reply, count_death, &p->gone);
    aemp_sndv(n, reply, aemp_str("ok"), NULL);
    return 0;
}

static int on_ok(aemp_node *n, const char *port, const aemp_val *msg,
                 void *ud)
{
    (void)n;
    (void)port;
    (void)msg;
    ((plain *)ud)->oks++;
    return 0;
}

static void ignore_death(aemp_node *n, const char *port,
                         const aemp_val *reason, void *ud)
{
    (void)n;
    (void)port;
    (void)reason;
    (void)ud;
}

/* A node that finds the plain node through the seed, monitors its inbox
 * (mon1 there) and says hi with a reply port (monitored in turn). */
static aemp_node *visit_plain(aemp_node *seed, const char *inbox, int serial,
                              plain *p)
{
    char id[32];
    snprintf(id, sizeof id, "fresh%d", serial);
    aemp_node *f = node_new(id, bind_of(seed));
    char *reply = aemp_port(f, on_ok, p);
    aemp_mon(f, inbox, ignore_death, NULL);
    aemp_sndv(f, inbox, aemp_str("hi"), aemp_str(reply), NULL);
    free(reply);
    return f;
}

START_TEST(test_plain_node_forgets_nodes)
{
    aemp_node *seed = seed_new("seed");
    aemp_node *b = node_new("plain", bind_of(seed));
    plain p = {0, 0, 0};
    char *inbox = aemp_port(b, NULL, NULL);
    aemp_rcv(b, inbox, "hi", on_hi, &p);
    for (int i = 0; i < 100 && !aemp_node_master(b); i++)
        spin();
    ck_assert_str_eq(aemp_node_master(b), "seed");
    spin();
    char *before = tables(b), *seed_before = tables(seed);
    for (int round = 0; round < ROUNDS; round++) {
        aemp_node *fresh[BATCH];
        for (int i = 0; i < BATCH; i++) {
            fresh[i] = visit_plain(seed, inbox, round * BATCH + i, &p);
            /* and nodes that never were: sent to and monitored */
            char never[40];
            snprintf(never, sizeof never, "never%d#x",
                     round * BATCH + i);
            aemp_sndv(b, never, aemp_int(i), NULL);
            aemp_mon(b, never, count_death, &p.gone);
        }
        wait_for(&p.oks, (round + 1) * BATCH);
        ck_assert_int_eq(p.his, (round + 1) * BATCH);
        drop_all(fresh, BATCH, b, 1);
        wait_for(&p.gone, 2 * (round + 1) * BATCH);
        ck_assert_int_eq(p.gone, 2 * (round + 1) * BATCH);
        spin();
        tables_are(b, before);
        tables_are(seed, seed_before);
    }
    /* a seed's entry stays when its link goes */
    aemp_node_free(seed);
    for (int i = 0; i < 300 && aemp_node_is_up(b, "seed") == 1; i++)
        spin();
    spin();
    ck_assert_int_eq(aemp_node_is_up(b, "seed"), 0);
    free(before);
    free(seed_before);
    free(inbox);
    aemp_node_free(b);
}
END_TEST

START_TEST(test_what_keeps_an_entry)
{
    aemp_node *n = node_new("keeper", NULL);
    /* a monitor of a node's node port: no message goes, only the
     * monitor keeps the entry */
    int deaths = 0;
    aemp_port_mon_id m = aemp_mon(n, "watched", count_death, &deaths);
    spin();
    ck_assert_int_eq(aemp_node_is_up(n, "watched"), 0);
    aemp_mon_cancel(n, m);
    spin();
    ck_assert_int_eq(aemp_node_is_up(n, "watched"), -1);

    /* a message on its way: kept while the connect attempt lasts (no
     * master to ask, so until connect_interval), then forgotten */
    m = aemp_mon(n, "far#p", count_death, &deaths);
    aemp_sndv(n, "far#p", aemp_int(1), NULL);
    spin();
    ck_assert_int_eq(aemp_node_is_up(n, "far"), 0);
    wait_for(&deaths, 1);
    ck_assert_int_eq(deaths, 1);
    spin();
    ck_assert_int_eq(aemp_node_is_up(n, "far"), -1);
    ck_assert_uint_eq(n->remotes.count, 0);
    aemp_node_free(n);
}
END_TEST

/* A message to a node's node port, as if it came from src. */
static void request(aemp_node *n, const char *src, const char *json)
{
    aempi_kernel_node_request(n, src, aemp_from_json(json, strlen(json),
                                                     NULL));
}

/* A socket that takes connections and never says a word. */
static int silent_listener(char *addr, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    socklen_t len = sizeof sa;
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(fd, 8), 0);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    snprintf(addr, cap, "127.0.0.1:%d", ntohs(sa.sin_port));
    return fd;
}

START_TEST(test_trial_keeps_entry)
{
    /* the seed knows an address for "slow" where nobody greets: the
     * connect attempt times out while its trial link still waits for a
     * greeting, and the entry stays until that link gives up too */
    monitor_timeout = 2;
    aemp_node *seed = seed_new("seed");
    char addr[64], json[160];
    int fd = silent_listener(addr, sizeof addr);
    snprintf(json, sizeof json,
             "[\"\",\"g_slave\",{\"'l\":{\"slow\":[\"%s\"]}}]", addr);
    request(seed, "slow", json);
    int deaths = 0;
    aemp_mon(seed, "slow#p", count_death, &deaths);
    wait_for(&deaths, 1);
    ck_assert_int_eq(deaths, 1);
    spin();
    ck_assert_int_eq(aemp_node_is_up(seed, "slow"), 0);
    for (int i = 0; i < 500 && aemp_node_is_up(seed, "slow") == 0; i++)
        spin();
    ck_assert_int_eq(aemp_node_is_up(seed, "slow"), -1);
    close(fd);
    aemp_node_free(seed);
}
END_TEST

START_TEST(test_global_keeps_entry)
{
    /* another global node in 'g, with no address known: every attempt to
     * reach it fails at once, and the keepalive alone keeps its entry */
    aemp_node *seed = seed_new("seed");
    request(seed, "g2", "[\"\",\"g_set\",{\"'g\":{\"g2\":null}}]");
    for (int i = 0; i < 10; i++)
        spin();
    ck_assert(aempi_gseed_keeps(seed, "g2"));
    ck_assert_int_eq(aemp_node_is_up(seed, "g2"), 0);
    /* it leaves 'g: let go */
    request(seed, "g2", "[\"\",\"g_upd\",\"'g\",null,[\"g2\"]]");
    for (int i = 0; i < 10 && aemp_node_is_up(seed, "g2") == 0; i++)
        spin();
    ck_assert(!aempi_gseed_keeps(seed, "g2"));
    ck_assert_int_eq(aemp_node_is_up(seed, "g2"), -1);
    aemp_node_free(seed);
}
END_TEST

START_TEST(test_seed_new_id)
{
    /* a seed comes back at its address under a new id: its old id is
     * no longer a seed's, and is let go */
    aemp_node *old = seed_new("old");
    char addr[64];
    snprintf(addr, sizeof addr, "%s", bind_of(old));
    aemp_node *b = node_new("plain", addr);
    for (int i = 0; i < 100 && !aemp_node_master(b); i++)
        spin();
    ck_assert_str_eq(aemp_node_master(b), "old");
    aemp_node_free(old);
    for (int i = 0; i < 100 && aemp_node_is_up(b, "old") == 1; i++)
        spin();
    spin();
    ck_assert_int_eq(aemp_node_is_up(b, "old"), 0); /* still a seed's */
    aemp_node *renewed = node_at("new", addr, NULL);
    aempi_gseed_become(renewed);
    for (int i = 0; i < 500 && aemp_node_is_up(b, "new") != 1; i++)
        spin();
    ck_assert_int_eq(aemp_node_is_up(b, "new"), 1);
    spin();
    ck_assert_int_eq(aemp_node_is_up(b, "old"), -1);
    aemp_node_free(b);
    aemp_node_free(renewed);
}
END_TEST

START_TEST(test_firing_keeps_entry)
{
    /* a link failure's monitors have not run yet: sends to the node
     * wait for them, so its entry stays until they have */
    aemp_node *n = node_new("keeper", NULL);
    int deaths = 0;
    aemp_mon(n, "far#p", count_death, &deaths);
    aempi_kernel_remote_error(aempi_kernel_remote_get(n, "far", 0), "gone");
    aempi_kernel_remotes_reap(n);
    ck_assert_ptr_nonnull(aempi_kernel_remote_get(n, "far", 0));
    spin();
    ck_assert_int_eq(deaths, 1);
    ck_assert_int_eq(aemp_node_is_up(n, "far"), -1);
    aemp_node_free(n);
}
END_TEST

static int record_src(aemp_node *n, const char *port, const aemp_val *msg,
                      void *ud)
{
    (void)port;
    (void)msg;
    snprintf(ud, 64, "%s", aemp_srcnode(n));
    return 0;
}

START_TEST(test_message_outlives_entry)
{
    aemp_node *n = node_new("self", NULL);
    char src[64] = "";
    aemp_rcv(n, "self#inbox", NULL, record_src, src);
    aemp_remote *r = aempi_kernel_remote_get(n, "passing", 1);
    aempi_kernel_inject(n, r->idv,
                        aemp_arrayv(aemp_str("inbox"), aemp_int(1), NULL));
    /* the idle entry goes before the message is delivered */
    aempi_kernel_remotes_reap(n);
    ck_assert_ptr_null(aempi_kernel_remote_get(n, "passing", 0));
    spin();
    ck_assert_str_eq(src, "passing");
    aemp_node_free(n);
}
END_TEST

static void setup(void)
{
    base = event_base_new();
    monitor_timeout = 0;
}

static void teardown(void)
{
    event_base_free(base);
}

int main(void)
{
    Suite *s = suite_create("node_table");
    TCase *tc = tcase_create("churn");
    tcase_set_timeout(tc, 100);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_what_keeps_an_entry);
    tcase_add_test(tc, test_trial_keeps_entry);
    tcase_add_test(tc, test_global_keeps_entry);
    tcase_add_test(tc, test_seed_new_id);
    tcase_add_test(tc, test_firing_keeps_entry);
    tcase_add_test(tc, test_message_outlives_entry);
    tcase_add_test(tc, test_seed_forgets_nodes);
    tcase_add_test(tc, test_plain_node_forgets_nodes);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
