/* Metrics (docs/metrics.md): counters move as traffic flows, seen through
 * aemp_node_stats, the named function aemp::stats and an HTTP GET of
 * /metrics on metrics_bind; bad requests and bad settings are refused. */
#include <errno.h>
#include <poll.h>

#include "node_fixture.h"
#include "testutil.h"

static void setup(void)
{
    base = event_base_new();
    extra_config = NULL;
}

static void teardown(void)
{
    aemp_unref(extra_config);
    extra_config = NULL;
    event_base_free(base);
}

/* A node serving /metrics on a port of the system's choice. */
static aemp_node *metrics_node(const char *id, const char *seed)
{
    extra_config = aemp_map();
    aemp_map_set(extra_config, "metrics_bind", aemp_str("127.0.0.1:0"));
    aemp_node *n = make_node(id, "s", seed, NULL);
    aemp_unref(extra_config);
    extra_config = NULL;
    ck_assert_ptr_nonnull(aemp_node_metrics_addr(n));
    return n;
}

/* The sum of a metric's samples whose labels include name=value (name
 * NULL: all of them), from a stats map. */
static uint64_t stat_sum(const aemp_val *stats, const char *metric,
                         const char *name, const char *value)
{
    const aemp_val *m = aemp_map_get(aemp_map_get(stats, "metrics"), metric);
    const aemp_val *samples = aemp_map_get(m, "samples");
    ck_assert_msg(m != NULL, "no metric %s", metric);
    uint64_t sum = 0;
    for (size_t i = 0; i < aemp_array_len(samples); i++) {
        const aemp_val *s = aemp_array_at(samples, i);
        const aemp_val *l = aemp_map_get(aemp_array_at(s, 0), name ? name : "");
        if (!name || aemp_str_eq(l, value))
            sum += aemp_as_uint(aemp_array_at(s, 1));
    }
    return sum;
}

static uint64_t node_stat(aemp_node *n, const char *metric, const char *name,
                          const char *value)
{
    aemp_val *s = aemp_node_stats(n);
    uint64_t v = stat_sum(s, metric, name, value);
    aemp_unref(s);
    return v;
}

/* runs the loop for 10 ms */
static void spin(void)
{
    struct timeval tv = {0, 10000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

/* ---- HTTP by hand, the node's loop running while we wait ---- */

/* Sends req to addr and returns all the server sent until it closed
 * (malloc'd). */
static char *http(const char *addr, const char *req, size_t reqlen)
{
    int fd = raw_connect(addr);
    ck_assert_int_ge(fd, 0);
    size_t off = 0;
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap);
    for (int i = 0; i < 500; i++) {
        if (off < reqlen) {
            ssize_t w = send(fd, req + off, reqlen - off,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w > 0)
                off += (size_t)w;
        }
        spin();
        ssize_t r;
        while ((r = recv(fd, out + len, cap - len - 1, MSG_DONTWAIT)) > 0)
            len += (size_t)r;
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            break; /* closed: the whole answer is in */
    }
    close(fd);
    out[len] = 0;
    return out;
}

static int status_of(const char *resp)
{
    int code = 0;
    sscanf(resp, "HTTP/1.%*d %d", &code);
    return code;
}

static char *get_metrics(aemp_node *n)
{
    const char *req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    char *resp = http(aemp_node_metrics_addr(n), req, strlen(req));
    ck_assert_msg(status_of(resp) == 200, "status: %.80s", resp);
    ck_assert_ptr_nonnull(
        strstr(resp, "Content-Type: text/plain; version=0.0.4"));
    return resp;
}

/* A sample's value from exposition text: the line starting with
 * "NAME{LABELS} " or "NAME "; -1 if none. */
static long long text_value(const char *text, const char *sample)
{
    size_t len = strlen(sample);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
        if (!strncmp(p, sample, len) && p[len] == ' ')
            return atoll(p + len + 1);
    return -1;
}

static int sink(aemp_node *n, const char *port, const aemp_val *msg, void *ud)
{
    (void)n;
    (void)port;
    (void)msg;
    ++*(int *)ud;
    return 0;
}

/* spins the loop until *got reaches want, 5 seconds at most */
static void spin_until(const int *got, int want)
{
    for (int i = 0; i < 500 && *got < want; i++)
        spin();
}

/* count messages from b to a's port */
static void traffic(aemp_node *b, const char *port, int *got, int count)
{
    int want = *got + count;
    for (int i = 0; i < count; i++)
        aemp_sndv(b, port, aemp_str("hello"), aemp_int(i), NULL);
    spin_until(got, want);
}

START_TEST(test_counters_move)
{
    aemp_node *a = metrics_node("ma", NULL);
    aemp_node *b = make_node("mb", "s", bind_of(a), NULL);
    int got = 0;
    char *port = aemp_port(a, sink, &got);
    /* before: nothing in from b */
    uint64_t in0 = node_stat(a, "aemp_messages_in_total", NULL, NULL);
    uint64_t jobs0 = node_stat(a, "aemp_jobs_run_total", NULL, NULL);
    traffic(b, port, &got, 50);
    ck_assert_int_eq(got, 50);

    uint64_t in1 = node_stat(a, "aemp_messages_in_total", NULL, NULL);
    ck_assert_uint_ge(in1 - in0, 50);
    ck_assert_uint_ge(node_stat(a, "aemp_jobs_run_total", NULL, NULL) - jobs0,
                      50);
    ck_assert_uint_ge(node_stat(b, "aemp_messages_out_total", NULL, NULL), 50);
    ck_assert_uint_gt(node_stat(b, "aemp_bytes_out_total", NULL, NULL), 50);
    ck_assert_uint_gt(node_stat(a, "aemp_bytes_in_total", NULL, NULL), 50);
    /* the link and its peer, in b's framing (cbor, the default) */
    ck_assert_uint_eq(node_stat(a, "aemp_link_up", "peer", "mb"), 1);
    ck_assert_uint_ge(node_stat(a, "aemp_messages_in_total", "framing",
                                "cbor"), 50);
    ck_assert_uint_eq(node_stat(a, "aemp_links_up", NULL, NULL), 1);
    ck_assert_uint_ge(node_stat(a, "aemp_ports", NULL, NULL), 1);
    ck_assert_uint_eq(node_stat(a, "aemp_link_send_queue_bytes", "peer", "mb"),
                      0);
    uint64_t mons = node_stat(a, "aemp_monitors", NULL, NULL);
    seen fired = {0};
    aemp_port_mon_id mid = aemp_mon(b, port, mon_record, &fired);
    aemp_mon(a, port, mon_record, &fired);
    ck_assert_uint_ge(node_stat(a, "aemp_monitors", NULL, NULL), mons + 1);
    ck_assert_uint_ge(node_stat(b, "aemp_monitors", NULL, NULL), 1);
    aemp_mon_cancel(b, mid);

    /* the same over HTTP, and moving */
    char *t1 = get_metrics(a);
    long long h1 = text_value(t1, "aemp_messages_in_total{framing=\"cbor\"}");
    ck_assert_int_ge(h1, 50);
    ck_assert_ptr_nonnull(strstr(t1, "# TYPE aemp_messages_in_total counter\n"));
    ck_assert_int_eq(text_value(t1, "aemp_link_up{peer=\"mb\",framing=\"cbor\"}"),
                     1);
    traffic(b, port, &got, 30);
    char *t2 = get_metrics(a);
    long long h2 = text_value(t2, "aemp_messages_in_total{framing=\"cbor\"}");
    ck_assert_int_ge(h2 - h1, 30);
    free(t1);
    free(t2);
    free(port);
    aemp_node_free(b);
    aemp_node_free(a);
}
END_TEST

/* More links than AEMP_STATS_MAX_PEERS: the first ones a label each, the
 * rest summed under peer="_other", every link counted. */
START_TEST(test_peer_labels_bounded)
{
    enum { LINKS = AEMP_STATS_MAX_PEERS + 6 };
    aemp_node *a = make_node("hub", "s", NULL, NULL);
    aemp_node *peers[LINKS];
    int got = 0;
    char *port = aemp_port(a, sink, &got);
    for (int i = 0; i < LINKS; i++) {
        char id[16];
        snprintf(id, sizeof id, "p%d", i);
        peers[i] = make_node(id, "s", bind_of(a), NULL);
        aemp_sndv(peers[i], port, aemp_str("hi"), NULL);
    }
    spin_until(&got, LINKS);
    ck_assert_int_eq(got, LINKS);
    aemp_val *st = aemp_node_stats(a);
    ck_assert_uint_eq(stat_sum(st, "aemp_links_up", NULL, NULL), LINKS);
    ck_assert_uint_eq(stat_sum(st, "aemp_link_up", NULL, NULL), LINKS);
    const aemp_val *up = aemp_map_get(aemp_map_get(aemp_map_get(st, "metrics"),
                                                   "aemp_link_up"),
                                      "samples");
    ck_assert_uint_eq(aemp_array_len(up), AEMP_STATS_MAX_PEERS + 1);
    ck_assert_uint_eq(stat_sum(st, "aemp_link_up", "peer", "_other"),
                      LINKS - AEMP_STATS_MAX_PEERS);
    aemp_unref(st);
    for (int i = 0; i < LINKS; i++)
        aemp_node_free(peers[i]);
    free(port);
    aemp_node_free(a);
}
END_TEST

/* aemp::stats answers [STATS]; record (node_fixture.h) keeps the message */
static const aemp_val *reply_stats(const seen *s)
{
    return aemp_array_at(s->last, 0);
}

static void db_changed(aemp_node *n, const char *family, const aemp_val *db,
                       const aemp_val *added, const aemp_val *changed,
                       const aemp_val *deleted, void *ud)
{
    (void)n;
    (void)family;
    (void)db;
    (void)added;
    (void)changed;
    (void)deleted;
    ((seen *)ud)->calls++;
}

/* A seed counts its nodes, keys and requests; another node reads them
 * with aemp::stats over the network. */
START_TEST(test_seed_and_named_function)
{
    aemp_node *a = metrics_node("sa", NULL);
    aemp_node *b = make_node("sb", "s", bind_of(a), NULL);
    /* its own listeners ('l) are there from configure on */
    uint64_t own = node_stat(b, "aemp_db_local_keys", NULL, NULL);
    aemp_db_set(b, "fam", "k1", aemp_int(1));
    aemp_db_set(b, "fam", "k2", aemp_int(2));
    seen r = {0};
    const aemp_val *st = NULL; /* the last answer's stats map */
    char *reply = aemp_port(b, record, &r);
    for (int i = 0; i < 300; i++) {
        aemp_snd_to_func(b, "sa", AEMP_STATS_FUNC,
                         aemp_arrayv(aemp_str(reply), NULL));
        r.calls = 0;
        run_until(&r.calls, 1);
        ck_assert_int_eq(r.calls, 1);
        st = reply_stats(&r);
        if (stat_sum(st, "aemp_global_node", NULL, NULL) == 1 &&
            aemp_map_get(aemp_map_get(st, "metrics"), "aemp_seed_keys") &&
            stat_sum(st, "aemp_seed_keys", NULL, NULL) >= 2)
            break;
    }
    ck_assert_str_eq(aemp_str_ptr(aemp_map_get(st, "node"), NULL), "sa");
    ck_assert(aemp_str_eq(aemp_map_get(st, "provider"), "libaemp"));
    ck_assert_uint_ge(stat_sum(st, "aemp_seed_keys", NULL, NULL), 2);
    ck_assert_uint_ge(stat_sum(st, "aemp_seed_families", NULL, NULL), 1);
    ck_assert_uint_ge(stat_sum(st, "aemp_seed_nodes", NULL, NULL), 1);
    ck_assert_uint_ge(stat_sum(st, "aemp_seed_db_ops_total", "op",
                               "g_slave"), 1);
    ck_assert_uint_eq(node_stat(b, "aemp_db_local_keys", NULL, NULL),
                      own + 2);
    ck_assert_uint_eq(node_stat(b, "aemp_global_node", NULL, NULL), 0);

    /* a monitor of the family: each change fans out to it */
    uint64_t fan0 = node_stat(a, "aemp_seed_fanout_total", NULL, NULL);
    seen m = {0};
    aemp_db_mon(b, "fam", db_changed, &m);
    for (int i = 0; i < 300 && !node_stat(a, "aemp_seed_family_monitors",
                                          NULL, NULL);
         i++)
        spin();
    aemp_db_set(b, "fam", "k3", aemp_int(3));
    for (int i = 0;
         i < 300 && node_stat(a, "aemp_seed_fanout_total", NULL, NULL) == fan0;
         i++)
        spin();
    ck_assert_uint_gt(node_stat(a, "aemp_seed_fanout_total", NULL, NULL), fan0);
    ck_assert_uint_ge(node_stat(a, "aemp_seed_changes_total", NULL, NULL), 1);

    char *text = get_metrics(a);
    ck_assert_int_ge(text_value(text, "aemp_seed_keys"), 3);
    ck_assert_int_ge(text_value(text, "aemp_seed_db_ops_total{op=\"g_upd\"}"),
                     1);
    free(text);
    aemp_unref(r.last);
    free(reply);
    aemp_node_free(b);
    aemp_node_free(a);
}
END_TEST

START_TEST(test_bad_requests)
{
    aemp_node *a = metrics_node("ba", NULL);
    const char *addr = aemp_node_metrics_addr(a);
    const char *nf = "GET /other HTTP/1.1\r\nHost: x\r\n\r\n";
    char *resp = http(addr, nf, strlen(nf));
    ck_assert_int_eq(status_of(resp), 404);
    free(resp);
    const char *post = "POST /metrics HTTP/1.1\r\nHost: x\r\n"
                       "Content-Length: 2\r\n\r\nhi";
    resp = http(addr, post, strlen(post));
    ck_assert_int_eq(status_of(resp), 405);
    free(resp);
    /* headers past the cap: refused, not read on */
    size_t big = 64 * 1024;
    char *req = malloc(big + 64);
    int off = snprintf(req, 64, "GET /metrics HTTP/1.1\r\nX-Big: ");
    memset(req + off, 'a', big);
    strcpy(req + off + big, "\r\n\r\n");
    resp = http(addr, req, strlen(req));
    ck_assert_int_ne(status_of(resp), 200);
    free(resp);
    free(req);
    /* a body past the cap */
    const char *body = "GET /metrics HTTP/1.1\r\nHost: x\r\n"
                       "Content-Length: 100000\r\n\r\n";
    resp = http(addr, body, strlen(body));
    ck_assert_int_ne(status_of(resp), 200);
    free(resp);
    /* garbage */
    const char *junk = "\x01\x02 nonsense\r\n\r\n";
    resp = http(addr, junk, strlen(junk));
    ck_assert_int_ne(status_of(resp), 200);
    free(resp);
    /* and the node still serves */
    free(get_metrics(a));
    aemp_node_free(a);
}
END_TEST

static void configure_fails(const char *bind, const char *want)
{
    aemp_node *n = aemp_node_new(base);
    aemp_node_set_log(n, 0, NULL, NULL);
    aemp_val *args = aemp_map();
    aemp_map_set(args, "norc", aemp_int(1));
    aemp_map_set(args, "nodeid", aemp_str("bad"));
    aemp_map_set(args, "binds", aemp_arrayv(aemp_str("127.0.0.1:*"), NULL));
    aemp_map_set(args, "metrics_bind", aemp_from_json(bind, strlen(bind),
                                                      NULL));
    ck_assert_int_ne(aemp_node_configure(n, args, NULL), 0);
    ck_assert_msg(strstr(aemp_node_errmsg(n), want), "%s: %s", bind,
                  aemp_node_errmsg(n));
    ck_assert_ptr_null(aemp_node_metrics_addr(n));
    ck_assert_uint_eq(aemp_array_len(aemp_node_binds(n)), 0);
    aemp_unref(args);
    aemp_node_free(n);
}

START_TEST(test_settings)
{
    /* off by default */
    aemp_node *n = make_node("off", "s", NULL, NULL);
    ck_assert_ptr_null(aemp_node_metrics_addr(n));
    ck_assert_ptr_null(aemp_node_metrics_addr(NULL));
    ck_assert_ptr_null(aemp_node_stats(NULL));
    configure_fails("[1]", "metrics_bind: not host:port");
    configure_fails("\"127.0.0.1\"", "metrics_bind: not host:port");
    configure_fails("\"127.0.0.1:http\"", "not a port number");
    configure_fails("\"127.0.0.1:99999\"", "not a port number");
    /* a port taken: n's own listener */
    char taken[80];
    snprintf(taken, sizeof taken, "\"%s\"", bind_of(n));
    configure_fails(taken, "cannot listen");
    aemp_node_free(n);
}
END_TEST

/* What does not fit the format is left out, label values are escaped. */
START_TEST(test_prometheus_text)
{
    const char *json =
        "{\"metrics\":{"
        "\"ok_total\":{\"type\":\"counter\",\"help\":\"a\\\\b\\nc\","
        "\"samples\":[[{\"l\":\"q\\\"\\\\\\n\",\"bad-name\":\"x\","
        "\"n\":1},5],[{},\"x\"],[{},-2]]},"
        "\"bad name\":{\"type\":\"gauge\",\"samples\":[[{},1]]},"
        "\"g\":{\"type\":\"histogram\",\"samples\":[[{},1.5]]}}}";
    aemp_val *v = aemp_from_json(json, strlen(json), NULL);
    ck_assert_ptr_nonnull(v);
    size_t len;
    char *text = aemp_stats_prometheus(v, &len);
    ck_assert_str_eq(text, "# HELP ok_total a\\\\b\\nc\n"
                           "# TYPE ok_total counter\n"
                           "ok_total{l=\"q\\\"\\\\\\n\"} 5\n"
                           "ok_total -2\n"
                           "g 1.5\n");
    ck_assert_uint_eq(len, strlen(text));
    free(text);
    aemp_unref(v);
    ck_assert_ptr_null(aemp_stats_prometheus(NULL, NULL));
    aemp_val *empty = aemp_map();
    ck_assert_ptr_null(aemp_stats_prometheus(empty, NULL));
    aemp_unref(empty);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_counters_move);
    tcase_add_test(tc, test_seed_and_named_function);
    tcase_add_test(tc, test_peer_labels_bounded);
    tcase_add_test(tc, test_bad_requests);
    tcase_add_test(tc, test_settings);
    tcase_add_test(tc, test_prometheus_text);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
