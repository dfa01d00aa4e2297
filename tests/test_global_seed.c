/* A global node's shard merge (Global.pm g_upd): which value the merged
 * database keeps when shards disagree and when keys are deleted, what its
 * monitors are told, and what a node going down takes with it. The node
 * under test is made global by hand; other nodes' messages are handed to
 * the request handlers as if they had arrived. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "global_int.h"
#include "testutil.h"

static struct event_base *base;
static aemp_node *node;

typedef struct seen {
    int calls;
    aemp_val *last; /* [db, added, changed, deleted] */
} seen;

static void on_mon(aemp_node *n, const char *family, const aemp_val *db,
                   const aemp_val *a, const aemp_val *c, const aemp_val *d,
                   void *ud)
{
    (void)n;
    (void)family;
    seen *s = ud;
    s->calls++;
    aemp_unref(s->last);
    s->last = aemp_arrayv(aemp_copy(db), aemp_copy(a), aemp_copy(c),
                          aemp_copy(d), NULL);
}

static void spin(void)
{
    struct timeval tv = {0, 20000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

/* A message from another node, JSON, to the node port. */
static void from(const char *src, const char *json)
{
    aemp_val *msg = aemp_from_json(json, strlen(json), NULL);
    ck_assert_ptr_nonnull(msg);
    aempi_kernel_node_request(node, src, msg);
}

static char *merged(const char *family)
{
    return aemp_to_json_canonical(
        aemp_map_get(global_of(node)->global_db, family), NULL);
}

static void merged_is(const char *family, const char *want)
{
    char *got = merged(family);
    ck_assert_msg(!strcmp(got ? got : "null", want), "%s: got %s want %s",
                  family, got ? got : "null", want);
    free(got);
}

static void setup(void)
{
    base = event_base_new();
    node = aemp_node_new(base);
    aemp_node_set_log(node, 0, NULL, NULL);
    aemp_val *args = aemp_map();
    aemp_map_set(args, "norc", aemp_int(1));
    aemp_map_set(args, "nodeid", aemp_str("g1"));
    aemp_map_set(args, "secret", aemp_str("s"));
    aemp_map_set(args, "binds", aemp_arrayv(aemp_str("127.0.0.1:*"), NULL));
    ck_assert_int_eq(aemp_node_configure(node, args, NULL), 0);
    aemp_unref(args);
    aempi_gseed_become(node);
    spin();
    ck_assert_str_eq(aemp_node_master(node), "g1");
}

static void teardown(void)
{
    aemp_node_free(node);
    event_base_free(base);
}

START_TEST(test_own_database)
{
    /* the global node is its own slave: its 'l and 'g are merged */
    char *l = merged("'l");
    ck_assert_ptr_nonnull(strstr(l, "\"g1\":[\"127.0.0.1:"));
    free(l);
    merged_is("'g", "{\"g1\":null}");
    aemp_db_set(node, "svc", "mine", aemp_int(7));
    spin(); /* our own g_upd reaches us from the queue */
    merged_is("svc", "{\"mine\":7}");
}
END_TEST

START_TEST(test_slave_shards)
{
    seen m = {0};
    aemp_db_mon(node, "F", on_mon, &m);
    spin();
    from("s1", "[\"\",\"g_slave\",{\"F\":{\"k\":1,\"only1\":\"a\"}}]");
    from("s2", "[\"\",\"g_slave\",{\"F\":{\"k\":2}}]");
    merged_is("F", "{\"k\":2,\"only1\":\"a\"}");
    spin();
    ck_assert(m.calls >= 2);

    /* s2 deletes k: s1's shard still has it, a slave's value wins */
    from("s2", "[\"\",\"g_upd\",\"F\",null,[\"k\"]]");
    merged_is("F", "{\"k\":1,\"only1\":\"a\"}");
    spin();
    char *j = aemp_to_json_canonical(m.last, NULL);
    ck_assert_str_eq(j, "[{\"k\":1,\"only1\":\"a\"},[],[\"k\"],[]]");
    free(j);

    /* a key in one shard only: gone, and the monitors hear of it */
    from("s1", "[\"\",\"g_upd\",\"F\",{},[\"only1\"]]");
    merged_is("F", "{\"k\":1}");
    spin();
    j = aemp_to_json_canonical(m.last, NULL);
    ck_assert_str_eq(j, "[{\"k\":1},[],[],[\"only1\"]]");
    free(j);

    /* the last key: the family goes */
    from("s1", "[\"\",\"g_upd\",\"F\",null,[\"k\"]]");
    merged_is("F", "null");
    aemp_unref(m.last);
}
END_TEST

START_TEST(test_global_shard_fallback)
{
    /* another global node's data (g_set) is kept as its shard */
    from("g2", "[\"\",\"g_set\",{\"F\":{\"k\":\"from g2\"},"
               "\"'l\":{\"g2\":[\"127.0.0.1:1\"]}}]");
    merged_is("F", "{\"k\":\"from g2\"}");
    /* ... and its listeners are mirrored into our own database */
    aemp_val *mine = aemp_map_get(global_of(node)->local_db, "'l");
    ck_assert_ptr_nonnull(aemp_map_get(mine, "g2"));

    /* a slave overrides, and on delete the global's value comes back */
    from("s1", "[\"\",\"g_slave\",{\"F\":{\"k\":\"from s1\"}}]");
    merged_is("F", "{\"k\":\"from s1\"}");
    from("s1", "[\"\",\"g_upd\",\"F\",null,[\"k\"]]");
    merged_is("F", "{\"k\":\"from g2\"}");

    /* the global's own delete of a key only it had removes it */
    from("g2", "[\"\",\"g_upd\",\"F\",{},[\"k\"]]");
    merged_is("F", "null");
}
END_TEST

/* Several slaves hold one key: a delete falls back to the oldest holder
 * left, and the index of holders empties with the shards. */
START_TEST(test_global_many_holders)
{
    from("s1", "[\"\",\"g_slave\",{\"F\":{\"k\":1}}]");
    from("s2", "[\"\",\"g_slave\",{\"F\":{\"k\":2}}]");
    from("s3", "[\"\",\"g_slave\",{\"F\":{\"k\":3,\"j\":3}}]");
    merged_is("F", "{\"j\":3,\"k\":3}");
    from("s3", "[\"\",\"g_upd\",\"F\",null,[\"k\"]]");
    merged_is("F", "{\"j\":3,\"k\":1}");
    from("s1", "[\"\",\"g_upd\",\"F\",null,[\"k\"]]");
    merged_is("F", "{\"j\":3,\"k\":2}");
    /* s1 sets it again: it is now the newest holder */
    from("s1", "[\"\",\"g_upd\",\"F\",{\"k\":11},[]]");
    merged_is("F", "{\"j\":3,\"k\":11}");
    aempi_gseed_node_event(node, "s2", 0);
    merged_is("F", "{\"j\":3,\"k\":11}");
    aempi_gseed_node_event(node, "s3", 0);
    merged_is("F", "{\"k\":11}");
    from("s1", "[\"\",\"g_upd\",\"F\",null,[\"k\"]]");
    merged_is("F", "null");
    ck_assert_ptr_null(aemp_map_get(global_of(node)->holders, "F"));
}
END_TEST

/* An observer node with a link to the seed, reading framing (json or
 * cbor). */
static aemp_node *observer(const char *id, const char *framing, seen *s)
{
    aemp_node *o = aemp_node_new(base);
    aemp_node_set_log(o, 0, NULL, NULL);
    aemp_val *args = aemp_map();
    aemp_map_set(args, "norc", aemp_int(1));
    aemp_map_set(args, "nodeid", aemp_str(id));
    aemp_map_set(args, "secret", aemp_str("s"));
    aemp_map_set(args, "binds", aemp_arrayv(aemp_str("127.0.0.1:*"), NULL));
    aemp_map_set(args, "seeds", aemp_copy(aemp_node_binds(node)));
    aemp_map_set(args, "framing_format", aemp_arrayv(aemp_str(framing), NULL));
    ck_assert_int_eq(aemp_node_configure(o, args, NULL), 0);
    aemp_unref(args);
    aemp_db_mon(o, "F", on_mon, s);
    return o;
}

/* The seed encodes a change once per framing and sends the same bytes to
 * every monitor: observers reading json and cbor both get it whole. */
START_TEST(test_fanout_framings)
{
    seen sj = {0, NULL}, sc = {0, NULL};
    aemp_node *oj = observer("oj", "json", &sj);
    aemp_node *oc = observer("oc", "cbor", &sc);
    for (int i = 0; i < 100 && (!sj.calls || !sc.calls); i++)
        spin(); /* masters found, monitors in, initial contents seen */
    ck_assert_int_eq(sj.calls, 1);
    ck_assert_int_eq(sc.calls, 1);
    from("s1", "[\"\",\"g_slave\",{\"F\":{\"k\":[\"gr\u00fc\u00df\","
               "\"\u263a\",-7,1.5,null]}}]");
    for (int i = 0; i < 100 && (sj.calls < 2 || sc.calls < 2); i++)
        spin();
    const char *want = "[{\"k\":[\"gr\u00fc\u00df\",\"\u263a\",-7,1.5,"
                       "null]},[\"k\"],[],[]]";
    aemp_val *w = aemp_from_json(want, strlen(want), NULL);
    ck_assert(aemp_equal(sj.last, w));
    ck_assert(aemp_equal(sc.last, w));
    aemp_unref(w);
    from("s1", "[\"\",\"g_upd\",\"F\",null,[\"k\"]]");
    for (int i = 0; i < 100 && (sj.calls < 3 || sc.calls < 3); i++)
        spin();
    char *j = aemp_to_json_canonical(sj.last, NULL);
    char *c = aemp_to_json_canonical(sc.last, NULL);
    ck_assert_str_eq(j, "[{},[],[],[\"k\"]]");
    ck_assert_str_eq(c, j);
    free(j);
    free(c);
    aemp_unref(sj.last);
    aemp_unref(sc.last);
    aemp_node_free(oj);
    aemp_node_free(oc);
}
END_TEST

/* The seed keeps the kernel's entries of a family's monitors from one
 * change to the next; when the monitors change, the next change goes to
 * the new ones, also when as many as before are in the same map. */
START_TEST(test_fanout_new_monitors)
{
    seen sa = {0, NULL}, sb = {0, NULL};
    aemp_node *oa = observer("oa", "cbor", &sa);
    for (int i = 0; i < 100 && !sa.calls; i++)
        spin();
    from("s1", "[\"\",\"g_slave\",{\"F\":{\"k\":1}}]");
    for (int i = 0; i < 100 && sa.calls < 2; i++)
        spin();
    ck_assert_int_eq(sa.calls, 2);
    /* ob starts monitoring, oa stops (its db_mon stays: it would see a
     * change): one monitor again, in the same map */
    aemp_node *ob = observer("ob", "cbor", &sb);
    for (int i = 0; i < 100 && !sb.calls; i++)
        spin();
    ck_assert_int_eq(sb.calls, 1);
    from("oa", "[\"\",\"g_mon0\",\"F\"]");
    ck_assert_int_eq(aemp_map_len(aemp_map_get(global_of(node)->gmon, "F")),
                     1);
    from("s1", "[\"\",\"g_upd\",\"F\",{\"k\":2},[]]");
    for (int i = 0; i < 100 && sb.calls < 2; i++)
        spin();
    ck_assert_int_eq(sb.calls, 2);
    char *j = aemp_to_json_canonical(sb.last, NULL);
    ck_assert_str_eq(j, "[{\"k\":2},[],[\"k\"],[]]");
    free(j);
    ck_assert_int_eq(sa.calls, 2);
    aemp_unref(sa.last);
    aemp_unref(sb.last);
    aemp_node_free(oa);
    aemp_node_free(ob);
}
END_TEST

/* The seed keeps its frame buffers between changes, but not the memory
 * of a large one. */
START_TEST(test_fanout_big_frame_not_kept)
{
    seen so = {0, NULL};
    aemp_node *o = observer("o", "cbor", &so);
    for (int i = 0; i < 100 && !so.calls; i++)
        spin();
    aemp_val *big = aemp_map();
    for (int i = 0; i < 4000; i++) {
        char k[32];
        snprintf(k, sizeof k, "key%d", i);
        aemp_map_set(big, k, aemp_str("a value of some thirty bytes.."));
    }
    aemp_val *msg = aemp_arrayv(aemp_str(""), aemp_str("g_upd"),
                                aemp_str("F"), big, aemp_array(), NULL);
    aempi_kernel_node_request(node, "s1", msg);
    for (int i = 0; i < 100 && so.calls < 2; i++)
        spin();
    ck_assert_int_eq(so.calls, 2);
    ck_assert_uint_eq(aemp_array_len(aemp_array_at(so.last, 1)), 4000);
    const aemp_global *g = global_of(node);
    ck_assert_uint_le(g->cache.enc[0].cap + g->cache.enc[1].cap, 64 * 1024);
    /* a small change keeps what its frame needs */
    from("s1", "[\"\",\"g_upd\",\"F\",{\"k\":1},[]]");
    for (int i = 0; i < 100 && so.calls < 3; i++)
        spin();
    ck_assert_int_eq(so.calls, 3);
    ck_assert_uint_gt(g->cache.enc[1].cap, 0);
    aemp_unref(so.last);
    aemp_node_free(o);
}
END_TEST

/* A family name with a NUL in it is the name up to the NUL everywhere,
 * in the node's shard as in the merge and the monitors' g_chg2. */
START_TEST(test_family_name_nul)
{
    seen m = {0, NULL};
    aemp_db_mon(node, "F", on_mon, &m);
    spin();
    from("s1", "[\"\",\"g_upd\",\"F\\u0000x\",{\"k\":1},[]]");
    merged_is("F", "{\"k\":1}");
    const aemp_val *shard =
        aemp_map_get(global_of(node)->local_dbs, "s1");
    ck_assert_int_eq(aemp_map_len(shard), 1);
    size_t len;
    ck_assert_str_eq(aemp_map_key_at(shard, 0, &len), "F");
    ck_assert_uint_eq(len, 1);
    for (int i = 0; i < 100 && m.calls < 2; i++)
        spin();
    char *j = aemp_to_json_canonical(m.last, NULL);
    ck_assert_str_eq(j, "[{\"k\":1},[\"k\"],[],[]]");
    free(j);
    aemp_unref(m.last);
}
END_TEST

START_TEST(test_queries_and_find)
{
    from("s1", "[\"\",\"g_slave\",{\"'l\":{\"s1\":[\"127.0.0.1:5\"]},"
               "\"F\":{\"a\":1,\"b\":[2]}}]");
    merged_is("F", "{\"a\":1,\"b\":[2]}");
    aemp_val *addrs = aempi_gseed_addresses(node, "s1");
    char *j = aemp_to_json(addrs, NULL);
    ck_assert_str_eq(j, "[\"127.0.0.1:5\"]");
    free(j);
    aemp_unref(addrs);
    ck_assert_ptr_null(aempi_gseed_addresses(node, "nobody"));
}
END_TEST

START_TEST(test_node_down)
{
    seen m = {0};
    aemp_db_mon(node, "F", on_mon, &m);
    spin();
    from("s1", "[\"\",\"g_slave\",{\"'l\":{\"s1\":[\"127.0.0.1:5\"]},"
               "\"F\":{\"a\":1}}]");
    from("s1", "[\"\",\"g_mon1\",\"F\"]");
    ck_assert_ptr_nonnull(aemp_map_get(
        aemp_map_get(global_of(node)->gmon, "F"), "s1"));
    merged_is("F", "{\"a\":1}");
    /* s1 goes down: its keys, its listeners and its monitors go */
    aempi_gseed_node_event(node, "s1", 0);
    merged_is("F", "null");
    ck_assert_ptr_null(aemp_map_get(aemp_map_get(global_of(node)->global_db,
                                                 "'l"),
                                    "s1"));
    ck_assert_ptr_null(aemp_map_get(
        aemp_map_get(global_of(node)->gmon, "F"), "s1"));
    spin();
    char *j = aemp_to_json_canonical(m.last, NULL);
    ck_assert_str_eq(j, "[{},[],[],[\"a\"]]");
    free(j);
    aemp_unref(m.last);
}
END_TEST

/* The 'l entry of a node, in a database family map, as JSON. */
static char *l_of(const aemp_val *db, const char *id)
{
    return aemp_to_json_canonical(aemp_map_get(aemp_map_get(db, "'l"), id),
                                  NULL);
}

/* A node that already knows a global node turns global itself: the first
 * g_set it sends that global must carry its own 'l, which the global
 * mirrors into its own database. With a null there, the global's merged
 * 'l falls back to that null when a third global holding the entry goes
 * down, and the node cannot be found through it. */
START_TEST(test_become_global_next_to_one)
{
    seen s = {0, NULL};
    aemp_node *a = observer("ga", "json", &s);
    for (int i = 0; i < 100 && !aempi_dict_get(&global_of(a)->global_nodes,
                                               "g1"); i++)
        spin();
    ck_assert_ptr_nonnull(aempi_dict_find(&global_of(a)->global_nodes, "g1",
                                          2));
    aempi_gseed_become(a); /* as when a node sends it g_slave */
    char *want = aemp_to_json_canonical(aemp_node_binds(a), NULL);
    /* g1 has ga's g_set when it has mirrored ga's 'l */
    for (int i = 0; i < 100 && !aemp_map_get(aemp_map_get(
                                      global_of(node)->local_db, "'l"), "ga");
         i++)
        spin();
    for (int i = 0; i < 10; i++)
        spin();
    char *mirror = l_of(global_of(node)->local_db, "ga");
    ck_assert_msg(mirror && !strcmp(mirror, want), "g1 mirrors %s, not %s",
                  mirror, want);
    free(mirror);
    /* a third global that had ga's 'l goes down: g1 still has it */
    char json[256];
    snprintf(json, sizeof json,
             "[\"\",\"g_set\",{\"'l\":{\"g3\":[\"127.0.0.1:3\"],"
             "\"ga\":%s}}]", want);
    from("g3", json);
    aempi_gseed_node_event(node, "g3", 0);
    char *merged_l = l_of(global_of(node)->global_db, "ga");
    ck_assert_str_eq(merged_l, want);
    free(merged_l);
    free(want);
    aemp_unref(s.last);
    aemp_node_free(a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("global_seed");
    TCase *tc = tcase_create("merge");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_own_database);
    tcase_add_test(tc, test_slave_shards);
    tcase_add_test(tc, test_global_shard_fallback);
    tcase_add_test(tc, test_global_many_holders);
    tcase_add_test(tc, test_fanout_framings);
    tcase_add_test(tc, test_fanout_new_monitors);
    tcase_add_test(tc, test_family_name_nul);
    tcase_add_test(tc, test_fanout_big_frame_not_kept);
    tcase_add_test(tc, test_queries_and_find);
    tcase_add_test(tc, test_node_down);
    tcase_add_test(tc, test_become_global_next_to_one);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
