/* The global protocol from a normal node's side, against fake seeds that
 * this test plays over loopback: what the node sends its master and when,
 * master selection and failover, queued requests, and db_mon's diffs. */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "testutil.h"
#include "transport_auth.h"
#include "value_json.h"

static struct event_base *base;

static void spin(double seconds)
{
    struct timeval tv = {(time_t)seconds,
                         (suseconds_t)((seconds - (long)seconds) * 1e6)};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

/* ---- a fake seed: listens, does the handshake, collects frames ---- */

typedef struct fake {
    const char *id;
    int lfd, fd;
    char addr[64];
    char in[1 << 16];
    size_t len;
    aemp_json_reader *reader;
    aemp_val *frames;
} fake;

static int collect(aemp_val *frame, void *ud)
{
    aemp_array_push(((fake *)ud)->frames, frame);
    return 0;
}

static void fake_listen(fake *f, const char *id)
{
    memset(f, 0, sizeof *f);
    f->id = id;
    f->fd = -1;
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t slen = sizeof sa;
    ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(f->lfd, 4), 0);
    getsockname(f->lfd, (struct sockaddr *)&sa, &slen);
    snprintf(f->addr, sizeof f->addr, "127.0.0.1:%d", ntohs(sa.sin_port));
    f->frames = aemp_array();
    f->reader = aempi_json_reader_new(collect, f);
}

/* Reads what is there without blocking the node's loop for long. */
static void fake_read(fake *f)
{
    spin(0.01);
    while (f->fd >= 0) {
        struct pollfd p = {f->fd, POLLIN, 0};
        if (poll(&p, 1, 0) < 1)
            return;
        ssize_t r = read(f->fd, f->in + f->len, sizeof f->in - f->len - 1);
        if (r <= 0)
            return;
        f->len += (size_t)r;
    }
}

static char *take_line(fake *f)
{
    char *nl = memchr(f->in, '\n', f->len);
    if (!nl)
        return NULL;
    size_t n = (size_t)(nl - f->in);
    char *line = strndup(f->in, n);
    memmove(f->in, nl + 1, f->len - n - 1);
    f->len -= n + 1;
    return line;
}

static void fake_send(fake *f, const char *s)
{
    ck_assert_int_eq(write(f->fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Accepts the node's connection and completes the handshake. */
static void fake_accept(fake *f)
{
    for (int i = 0; i < 300 && f->fd < 0; i++) {
        spin(0.01);
        struct pollfd p = {f->lfd, POLLIN, 0};
        if (poll(&p, 1, 0) == 1)
            f->fd = accept(f->lfd, NULL, NULL);
    }
    ck_assert_int_ge(f->fd, 0);
    char *l1 = NULL, *l2 = NULL, *auth = NULL;
    char g1[256], g2[] = "ZmFrZXNlZWRub25jZQ";
    snprintf(g1, sizeof g1, "aemp;1;%s;hmac_sha3_512;json;gproto=1", f->id);
    char out[512];
    snprintf(out, sizeof out, "%s\n%s\n", g1, g2);
    fake_send(f, out);
    for (int i = 0; i < 300 && !auth; i++) {
        fake_read(f);
        if (!l1)
            l1 = take_line(f);
        if (l1 && !l2)
            l2 = take_line(f);
        if (l2 && !auth)
            auth = take_line(f);
    }
    ck_assert_ptr_nonnull(auth);
    char mine[129];
    aempi_auth_value("hmac_sha3_512", "sec", 3, g1, g2, l1, l2, mine,
                     sizeof mine);
    snprintf(out, sizeof out, "hmac_sha3_512;%s;json\n", mine);
    fake_send(f, out);
    free(l1);
    free(l2);
    free(auth);
}

/* Waits for a frame whose JSON contains needle; returns its index. */
static long fake_expect(fake *f, const char *needle)
{
    for (int i = 0; i < 300; i++) {
        fake_read(f);
        if (f->len) {
            aempi_json_reader_feed(f->reader, f->in, f->len);
            f->len = 0;
        }
        for (size_t k = 0; k < aemp_array_len(f->frames); k++) {
            char *j = aemp_to_json(aemp_array_at(f->frames, k), NULL);
            int hit = strstr(j, needle) != NULL;
            free(j);
            if (hit)
                return (long)k;
        }
    }
    return -1;
}

static int fake_count(fake *f, const char *needle)
{
    fake_expect(f, "\"\"");
    int count = 0;
    for (size_t k = 0; k < aemp_array_len(f->frames); k++) {
        char *j = aemp_to_json(aemp_array_at(f->frames, k), NULL);
        count += strstr(j, needle) != NULL;
        free(j);
    }
    return count;
}

static void fake_close(fake *f)
{
    if (f->fd >= 0)
        close(f->fd);
    close(f->lfd);
    f->fd = -1;
    aempi_json_reader_free(f->reader);
    aemp_unref(f->frames);
}

static aemp_node *make_node(const char *seed1, const char *seed2)
{
    aemp_node *n = aemp_node_new(base);
    aemp_node_set_log(n, 0, NULL, NULL);
    aemp_val *args = aemp_map();
    aemp_map_set(args, "norc", aemp_int(1));
    aemp_map_set(args, "nodeid", aemp_str("slave"));
    aemp_map_set(args, "secret", aemp_str("sec"));
    aemp_map_set(args, "binds", aemp_arrayv(aemp_str("127.0.0.1:*"), NULL));
    aemp_val *seeds = aemp_arrayv(aemp_str(seed1), NULL);
    if (seed2)
        aemp_array_push(seeds, aemp_str(seed2));
    aemp_map_set(args, "seeds", seeds);
    ck_assert_int_eq(aemp_node_configure(n, args, NULL), 0);
    aemp_unref(args);
    return n;
}

/* ---- callbacks ---- */

typedef struct got {
    int calls;
    aemp_val *last; /* [db, added, changed, deleted] or the reply */
} got;

static void on_reply(aemp_node *n, const char *family, const aemp_val *r,
                     void *ud)
{
    (void)n;
    (void)family;
    got *g = ud;
    g->calls++;
    aemp_unref(g->last);
    g->last = aemp_copy(r);
}

static void on_mon(aemp_node *n, const char *family, const aemp_val *db,
                   const aemp_val *a, const aemp_val *c, const aemp_val *d,
                   void *ud)
{
    (void)n;
    (void)family;
    got *g = ud;
    g->calls++;
    aemp_unref(g->last);
    g->last = aemp_arrayv(aemp_copy(db), aemp_copy(a), aemp_copy(c),
                          aemp_copy(d), NULL);
}

static void wait_calls(got *g, int n)
{
    for (int i = 0; i < 300 && g->calls < n; i++)
        spin(0.01);
    ck_assert_int_ge(g->calls, n);
}

static int json_is(const aemp_val *v, const char *want)
{
    char *j = aemp_to_json_canonical(v, NULL);
    int ok = j && !strcmp(j, want);
    if (!ok)
        fprintf(stderr, "got %s\nwant %s\n", j, want);
    free(j);
    return ok;
}

static void setup(void)
{
    base = event_base_new();
}

static void teardown(void)
{
    event_base_free(base);
}

/* ---- tests ---- */

START_TEST(test_slave_and_queue)
{
    fake s;
    fake_listen(&s, "fakeseed");
    aemp_node *n = make_node(s.addr, NULL);
    ck_assert_ptr_null(aemp_node_master(n));
    /* before any master: kept locally, queries wait */
    aemp_db_set(n, "svc", "k1", aemp_int(1));
    got keys = {0};
    aemp_db_keys(n, "svc", on_reply, &keys);
    fake_accept(&s);
    long slave_db = fake_expect(&s, "[\"\",\"g_slave\",{");
    long query = fake_expect(&s, "[\"\",\"g_db_keys\",\"svc\",\"b\"]");
    ck_assert_int_ge(slave_db, 0);
    ck_assert_int_gt(query, slave_db); /* the database first, then requests */
    ck_assert_str_eq(aemp_node_master(n), "fakeseed");
    /* the g_slave database holds our listeners and what we set */
    char *db = aemp_to_json(aemp_array_at(s.frames, (size_t)slave_db), NULL);
    ck_assert_ptr_nonnull(strstr(db, "\"svc\":{\"k1\":1}"));
    free(db);
    ck_assert_int_ge(fake_count(&s, "\"'l\":{\"slave\":[\"127.0.0.1:"), 1);
    /* "run your global service": at the seed's greeting, and again when
     * the link to the seed node is up */
    ck_assert_int_eq(fake_count(&s, "[\"\",\"g_slave\"]"), 2);

    /* the answer reaches the callback, once */
    fake_send(&s, "[\"\",\"g_reply\",\"b\",[\"k1\"]]");
    wait_calls(&keys, 1);
    ck_assert(json_is(keys.last, "[\"k1\"]"));

    /* changes go to the master as g_upd, only when the value changes,
     * compared as Perl compares scalars */
    aemp_db_handle h = aemp_db_set(n, "svc", "k2", aemp_int(11));
    aemp_db_set(n, "svc", "k2", aemp_str("11"));
    aemp_db_set(n, "svc", "k2", aemp_int(11));
    ck_assert_int_ge(fake_expect(&s, "[\"\",\"g_upd\",\"svc\",{\"k2\":11}]"), 0);
    ck_assert_int_eq(fake_count(&s, "\"k2\""), 1);
    aemp_db_release(n, h);
    ck_assert_int_ge(fake_expect(&s, "[\"\",\"g_upd\",\"svc\",null,[\"k2\"]]"), 0);
    aemp_db_release(n, h); /* stale: nothing more */

    /* db_reg: the entry goes when the port dies */
    char *port = aemp_port(n, NULL, NULL);
    aemp_db_reg(n, "workers", port, NULL);
    aemp_kil(n, port, NULL);
    char del[256];
    snprintf(del, sizeof del, "[\"\",\"g_upd\",\"workers\",null,[\"%s\"]]",
             port);
    ck_assert_int_ge(fake_expect(&s, del), 0);
    free(port);
    aemp_unref(keys.last);
    aemp_node_free(n);
    fake_close(&s);
}
END_TEST

START_TEST(test_db_mon_diffs)
{
    fake s;
    fake_listen(&s, "fakeseed");
    aemp_node *n = make_node(s.addr, NULL);
    fake_accept(&s);
    got m1 = {0}, m2 = {0};
    aemp_db_mon_id id1 = aemp_db_mon(n, "fam", on_mon, &m1);
    ck_assert_int_ge(fake_expect(&s, "[\"\",\"g_mon1\",\"fam\"]"), 0);

    fake_send(&s, "[\"\",\"g_chg1\",\"fam\",{\"a\":1,\"b\":2}]");
    wait_calls(&m1, 1);
    ck_assert(json_is(m1.last, "[{\"a\":1,\"b\":2},[\"a\",\"b\"],[],[]]"));
    fake_send(&s, "[\"\",\"g_chg2\",\"fam\",{\"b\":3,\"c\":4},[\"a\"]]");
    wait_calls(&m1, 2);
    ck_assert(json_is(m1.last, "[{\"b\":3,\"c\":4},[\"c\"],[\"b\"],[\"a\"]]"));
    fake_send(&s, "[\"\",\"g_chg1\",\"fam\",{\"c\":4,\"d\":5}]");
    wait_calls(&m1, 3);
    ck_assert(json_is(m1.last, "[{\"c\":4,\"d\":5},[\"d\"],[\"c\"],[\"b\"]]"));

    /* a second monitor gets the state at once, and no second g_mon1 */
    aemp_db_mon_id id2 = aemp_db_mon(n, "fam", on_mon, &m2);
    wait_calls(&m2, 1);
    ck_assert(json_is(m2.last, "[{\"c\":4,\"d\":5},[\"c\",\"d\"],[],[]]") ||
              json_is(m2.last, "[{\"c\":4,\"d\":5},[\"d\",\"c\"],[],[]]"));
    ck_assert_int_eq(fake_count(&s, "g_mon1"), 1);

    /* the last monitor gone: g_mon0 */
    aemp_db_mon_cancel(n, id1);
    aemp_db_mon_cancel(n, id2);
    ck_assert_int_ge(fake_expect(&s, "[\"\",\"g_mon0\",\"fam\"]"), 0);
    aemp_unref(m1.last);
    aemp_unref(m2.last);
    aemp_node_free(n);
    fake_close(&s);
}
END_TEST

START_TEST(test_failover)
{
    fake a, b;
    fake_listen(&a, "seedA");
    fake_listen(&b, "seedB");
    aemp_node *n = make_node(a.addr, b.addr);
    fake_accept(&a);
    fake_accept(&b);
    ck_assert_int_ge(fake_expect(&a, "g_slave\",{"), 0);
    ck_assert_int_ge(fake_expect(&b, "[\"\",\"g_slave\"]"), 0);
    ck_assert_ptr_nonnull(aemp_node_master(n));
    char *first = strdup(aemp_node_master(n)); /* the node frees its copy */
    fake *master = !strcmp(first, "seedA") ? &a : &b;
    fake *other = master == &a ? &b : &a;
    got m = {0};
    aemp_db_mon(n, "fam", on_mon, &m);
    aemp_db_set(n, "fam", "mine", aemp_str("v"));
    ck_assert_int_ge(fake_expect(master, "g_mon1"), 0);

    /* only the master's changes count */
    fake_send(other, "[\"\",\"g_chg1\",\"fam\",{\"x\":1}]");
    spin(0.2);
    ck_assert_int_eq(m.calls, 0);

    /* the master goes: the other seed gets our database and the pending
     * monitor request */
    close(master->fd);
    master->fd = -1;
    for (int i = 0; i < 300 && (!aemp_node_master(n) ||
                                !strcmp(aemp_node_master(n), first)); i++)
        spin(0.01);
    ck_assert_str_eq(aemp_node_master(n), other->id);
    ck_assert_int_ge(fake_expect(other, "\"fam\":{\"mine\":\"v\"}"), 0);
    ck_assert_int_ge(fake_expect(other, "[\"\",\"g_mon1\",\"fam\"]"), 0);
    fake_send(other, "[\"\",\"g_chg1\",\"fam\",{\"mine\":\"v\"}]");
    wait_calls(&m, 1);
    ck_assert(json_is(m.last, "[{\"mine\":\"v\"},[\"mine\"],[],[]]"));
    aemp_unref(m.last);
    free(first);
    aemp_node_free(n);
    fake_close(&a);
    fake_close(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("global");
    TCase *tc = tcase_create("slave");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_slave_and_queue);
    tcase_add_test(tc, test_db_mon_diffs);
    tcase_add_test(tc, test_failover);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
