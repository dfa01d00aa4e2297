/* caemp conform: the seed group, the global protocol against a seed
 * (a global node). The kit is one or more normal nodes of its own
 * (conform-XXXXXXXX, a fresh id per connection): each connection says
 * g_slave as Kernel.pm's seed_connect does, then g_slave {LOCAL_DB} with
 * its 'l entry as master_set does, and asks the seed as db_family,
 * db_keys, db_values, db_mon and the node lookup do; one check plays a
 * second global node (g_global, g_set). Every check has its own
 * connections and its own family names, so no check sees another's
 * state. Global.pm's %NODE_REQ defines the seed's side
 * (docs/conformance.md §3). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conform_int.h"

/* The listen address the kit's nodes publish in 'l: nothing listens
 * there (the discard port), the seed only stores and returns it. */
#define KIT_ADDR "127.0.0.1:9"

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *json(const aemp_val *v)
{
    char *s = v ? aemp_to_json(v, NULL) : NULL;
    return s ? s : strdup(v ? "?" : "nothing");
}

/* A name of our own: conform-XXXXXXXX-what, for families and ids. */
static void fresh(char *out, size_t n, const char *what)
{
    char hex[9];
    cf_random_hex(hex, 8);
    snprintf(out, n, "conform-%s-%s", hex, what);
}

/* Sends ["", TAG, args...] (taken, NULL-ended). 0, or res failed. */
static int g_send(cf_conn *c, cf_result *res, const char *tag, ...)
{
    va_list ap;
    aemp_val *msg = aemp_arrayv(aemp_str(""), aemp_str(tag), NULL);
    va_start(ap, tag);
    for (aemp_val *a; (a = va_arg(ap, aemp_val *));)
        if (!msg || aemp_array_push(msg, a))
            aemp_unref(a);
    va_end(ap);
    if (msg && cf_send_msg(c, msg) == 0)
        return 0;
    cf_fail(res, "expected to send %s, got: %s", tag, c->err);
    return -1;
}

/* Waits for ["", TAG, ARG, ...] (ARG any when NULL); node-port
 * messages before it that do not match go to seen (when not NULL, an
 * array), the rest is dropped. res failed with what when none comes. */
static aemp_val *await(cf_conn *c, cf_result *res, const char *tag,
                       const char *arg, aemp_val *seen, const char *what)
{
    double deadline = now_mono() + c->timeout;
    for (;;) {
        double left = deadline - now_mono();
        aemp_val *m = NULL;
        int r = cf_recv_match(c, "", NULL, left > 0 ? left : 0, &m, NULL);
        if (r != CF_GOT) {
            cf_fail(res, "expected %s, got %s within %.1f s", what,
                    r == CF_CLOSED ? "a close" : r == CF_TIMEOUT ? "nothing"
                                                                 : c->err,
                    c->timeout);
            return NULL;
        }
        if (aemp_str_eq(aemp_array_at(m, 1), tag) &&
            (!arg || aemp_str_eq(aemp_array_at(m, 2), arg)))
            return m;
        if (seen)
            aemp_array_push(seen, m);
        else
            aemp_unref(m);
    }
}

/* Compares got (may be NULL) with the JSON text want: 0 when equal, else
 * res failed "expected want, got ...". */
static int expect(cf_result *res, const aemp_val *got, const char *want)
{
    aemp_val *w = aemp_from_json(want, strlen(want), NULL);
    int ok = w && got && aemp_equal(got, w);
    aemp_unref(w);
    if (ok)
        return 0;
    char *s = json(got);
    cf_fail(res, "expected %.250s, got %.250s", want, s);
    free(s);
    return -1;
}

/* A slave as Perl's normal node is one: links, says g_slave (start the
 * global service), then g_slave {LOCAL_DB}: db (a map, taken, NULL for
 * none) with our 'l entry [KIT_ADDR] added. 0, or res failed. */
static int slave(cf_ctx *ctx, cf_conn *c, cf_result *res, aemp_val *db)
{
    aemp_val *l = aemp_map();
    if (!db)
        db = aemp_map();
    if (cf_link(ctx, c, res, NULL)) {
        aemp_unref(db);
        aemp_unref(l);
        return -1;
    }
    aemp_map_set(l, c->nodeid, aemp_arrayv(aemp_str(KIT_ADDR), NULL));
    aemp_map_set(db, "'l", l);
    if (g_send(c, res, "g_slave", NULL) ||
        g_send(c, res, "g_slave", db, NULL))
        return -1;
    return 0;
}

/* Asks ["", TAG, FAMILY, ID] and returns the result of g_reply ID
 * RESULT (a new reference), or NULL with res failed. Node-port messages
 * before the reply go to seen (when not NULL). */
static aemp_val *query(cf_conn *c, cf_result *res, const char *tag,
                       const char *family, aemp_val *seen)
{
    char id[64], what[200];
    fresh(id, sizeof id, "id");
    if (g_send(c, res, tag, aemp_str(family), aemp_str(id), NULL))
        return NULL;
    snprintf(what, sizeof what, "[\"\",\"g_reply\",\"%s\",RESULT] for %s",
             id, tag);
    aemp_val *m = await(c, res, "g_reply", id, seen, what);
    if (!m)
        return NULL;
    aemp_val *r = aemp_ref(aemp_array_at(m, 3));
    if (aemp_array_len(m) != 4) {
        char *s = json(m);
        cf_fail(res, "expected %s, got %.250s", what, s);
        free(s);
        aemp_unref(r);
        r = NULL;
    }
    aemp_unref(m);
    return r;
}

/* Everything the seed has sent before now: a g_db_family round trip on
 * c (the seed handles a link's messages in order). 0, or res failed. */
static int settle(cf_conn *c, cf_result *res, aemp_val *seen)
{
    char f[64];
    fresh(f, sizeof f, "sync");
    aemp_val *r = query(c, res, "g_db_family", f, seen);
    aemp_unref(r);
    return r ? 0 : -1;
}

/* A query whose result must equal the JSON text want. */
static int query_is(cf_conn *c, cf_result *res, const char *tag,
                    const char *family, const char *want)
{
    aemp_val *r = query(c, res, tag, family, NULL);
    int ok = r && expect(res, r, want) == 0;
    aemp_unref(r);
    return ok ? 0 : -1;
}

/* The next ["", TAG, FAMILY, ...] must equal want (JSON text, the whole
 * message). */
static int await_is(cf_conn *c, cf_result *res, const char *tag,
                    const char *family, const char *want)
{
    aemp_val *m = await(c, res, tag, family, NULL, want);
    int ok = m && expect(res, m, want) == 0;
    aemp_unref(m);
    return ok ? 0 : -1;
}

/* g_upd FAMILY {key: value (JSON text)} as db_set sends it. */
static int upd_set(cf_conn *c, cf_result *res, const char *family,
                   const char *key, const char *value)
{
    aemp_val *v = aemp_from_json(value, strlen(value), NULL);
    aemp_val *set = aemp_map();
    aemp_map_set(set, key, v);
    return g_send(c, res, "g_upd", aemp_str(family), set, NULL);
}

/* g_upd FAMILY undef [key] as db_del sends it. */
static int upd_del(cf_conn *c, cf_result *res, const char *family,
                   const char *key)
{
    return g_send(c, res, "g_upd", aemp_str(family), aemp_null(),
                  aemp_arrayv(aemp_str(key), NULL), NULL);
}

/* ---- checks ---- */

/* A slave hears g_global from the seed, and nothing else unasked. */
static void s_global_up(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    aemp_val *seen = aemp_array();
    if (slave(ctx, &c, res, NULL) == 0 && settle(&c, res, seen) == 0)
        expect(res, seen, "[[\"\",\"g_global\"]]");
    aemp_unref(seen);
    cf_close(&c);
}

static void s_slave_db(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    char f[64];
    fresh(f, sizeof f, "f");
    const char *fam = "{\"a\":\"x\",\"b\":[1,2]}";
    aemp_val *db = aemp_map();
    aemp_map_set(db, f, aemp_from_json(fam, strlen(fam), NULL));
    if (slave(ctx, &c, res, db) == 0)
        query_is(&c, res, "g_db_family", f, fam);
    cf_close(&c);
}

/* g_db_keys / g_db_values of a family with two keys, and of none: the
 * list, in any order (Perl's hash order). */
static void list_query(cf_ctx *ctx, cf_result *res, const char *tag,
                       const char *want1, const char *want2)
{
    cf_conn c;
    char f[64], none[64];
    fresh(f, sizeof f, "f");
    fresh(none, sizeof none, "none");
    if (slave(ctx, &c, res, NULL) || upd_set(&c, res, f, "a", "1") ||
        upd_set(&c, res, f, "b", "\"two\""))
        goto out;
    aemp_val *r = query(&c, res, tag, f, NULL);
    if (!r)
        goto out;
    char w1[100], w2[100];
    snprintf(w1, sizeof w1, "[%s,%s]", want1, want2);
    snprintf(w2, sizeof w2, "[%s,%s]", want2, want1);
    cf_result alt;
    if (expect(res, r, w1) && expect(&alt, r, w2) == 0)
        res->status = CF_PASS, res->msg[0] = 0;
    aemp_unref(r);
    if (res->status == CF_PASS)
        query_is(&c, res, tag, none, "[]");
out:
    cf_close(&c);
}

static void s_db_keys(cf_ctx *ctx, cf_result *res)
{
    list_query(ctx, res, "g_db_keys", "\"a\"", "\"b\"");
}

static void s_db_values(cf_ctx *ctx, cf_result *res)
{
    list_query(ctx, res, "g_db_values", "1", "\"two\"");
}

/* g_find NODE answers g_found NODE ADDRESSES (want: JSON text; NULL:
 * any non-empty array). */
static int find_is(cf_conn *c, cf_result *res, const char *node,
                   const char *want)
{
    char what[400];
    if (g_send(c, res, "g_find", aemp_str(node), NULL))
        return -1;
    snprintf(what, sizeof what, "[\"\",\"g_found\",\"%s\",%s]", node,
             want ? want : "ADDRESSES");
    aemp_val *m = await(c, res, "g_found", node, NULL, what);
    if (!m)
        return -1;
    int r;
    if (want) {
        r = expect(res, m, what);
    } else {
        aemp_val *a = aemp_array_at(m, 3);
        r = aemp_array_len(m) == 4 && aemp_type_of(a) == AEMP_ARRAY &&
                    aemp_array_len(a) > 0
                ? 0
                : -1;
        if (r) {
            char *s = json(m);
            cf_fail(res, "expected %s, got %.250s", what, s);
            free(s);
        }
    }
    aemp_unref(m);
    return r;
}

static void s_find(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    if (slave(ctx, &c, res, NULL) == 0 &&
        find_is(&c, res, c.nodeid, "[\"" KIT_ADDR "\"]") == 0)
        find_is(&c, res, ctx->node, NULL);
    cf_close(&c);
}

static void s_find_unknown(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    char node[64];
    fresh(node, sizeof node, "nonode");
    if (slave(ctx, &c, res, NULL) == 0)
        find_is(&c, res, node, "null");
    cf_close(&c);
}

/* g_mon1 FAMILY must be answered g_chg1 FAMILY want (JSON text). */
static int mon1(cf_conn *c, cf_result *res, const char *family,
                const char *want)
{
    char w[300];
    snprintf(w, sizeof w, "[\"\",\"g_chg1\",\"%s\",%s]", family, want);
    if (g_send(c, res, "g_mon1", aemp_str(family), NULL))
        return -1;
    return await_is(c, res, "g_chg1", family, w);
}

/* A slave's script on a fresh family F, one step a string: "set KEY
 * JSON" (g_upd F {KEY: JSON}), "del KEY" (g_upd F undef [KEY]),
 * "g_db_family JSON" (its g_reply must carry JSON), "g_mon1 JSON" (its
 * g_chg1 must carry JSON). Ends with NULL. */
static void script(cf_ctx *ctx, cf_result *res, const char *const *steps)
{
    cf_conn c;
    char f[64], key[64];
    fresh(f, sizeof f, "f");
    if (slave(ctx, &c, res, NULL))
        goto out;
    for (; *steps && res->status == CF_PASS; steps++) {
        const char *arg = strchr(*steps, ' ') + 1;
        const char *sp = strchr(arg, ' ');
        snprintf(key, sizeof key, "%.*s", (int)(sp ? sp - arg : 63), arg);
        if (!strncmp(*steps, "set ", 4))
            upd_set(&c, res, f, key, sp + 1);
        else if (!strncmp(*steps, "del ", 4))
            upd_del(&c, res, f, key);
        else if (!strncmp(*steps, "g_mon1 ", 7))
            mon1(&c, res, f, arg);
        else
            query_is(&c, res, "g_db_family", f, arg);
    }
out:
    cf_close(&c);
}

#define SCRIPT(name, ...)                                                  \
    static void name(cf_ctx *ctx, cf_result *res)                          \
    {                                                                      \
        static const char *const steps[] = {__VA_ARGS__, NULL};            \
        script(ctx, res, steps);                                           \
    }

SCRIPT(s_upd_set, "set k1 1", "set k2 {\"v\":[\"x\"]}", "set k1 \"one\"",
       "g_db_family {\"k1\":\"one\",\"k2\":{\"v\":[\"x\"]}}")
SCRIPT(s_upd_del, "set k1 1", "set k2 2", "del k1", "g_db_family {\"k2\":2}",
       "del k2", "g_db_family {}")
SCRIPT(s_db_family_unknown, "g_db_family {}")
SCRIPT(s_mon1_null, "g_mon1 null")
SCRIPT(s_mon1_full, "set a 1", "set b [\"x\"]", "g_mon1 {\"a\":1,\"b\":[\"x\"]}")

/* Two slaves: a changes the family, b monitors it (its g_chg1 seen
 * before a's first change, whatever its shape: S-MON1-* check that);
 * a holds key k = 1 when set_first. */
static int pair(cf_ctx *ctx, cf_conn *a, cf_conn *b, cf_result *res,
                const char *f, int set_first)
{
    memset(b, 0, sizeof *b);
    b->fd = -1;
    if (slave(ctx, a, res, NULL))
        return -1;
    if (set_first && (upd_set(a, res, f, "k", "1") || settle(a, res, NULL)))
        return -1;
    if (slave(ctx, b, res, NULL) ||
        g_send(b, res, "g_mon1", aemp_str(f), NULL))
        return -1;
    aemp_val *m = await(b, res, "g_chg1", f, NULL, "g_chg1 for g_mon1");
    aemp_unref(m);
    return m ? 0 : -1;
}

static void s_chg2_set(cf_ctx *ctx, cf_result *res)
{
    cf_conn a, b;
    char f[64], w[200];
    fresh(f, sizeof f, "f");
    snprintf(w, sizeof w, "[\"\",\"g_chg2\",\"%s\",{\"k\":[\"v\"]},[]]", f);
    if (pair(ctx, &a, &b, res, f, 0) == 0 &&
        upd_set(&a, res, f, "k", "[\"v\"]") == 0)
        await_is(&b, res, "g_chg2", f, w);
    cf_close(&a);
    cf_close(&b);
}

static void s_chg2_del(cf_ctx *ctx, cf_result *res)
{
    cf_conn a, b;
    char f[64], w[200];
    fresh(f, sizeof f, "f");
    snprintf(w, sizeof w, "[\"\",\"g_chg2\",\"%s\",{},[\"k\"]]", f);
    if (pair(ctx, &a, &b, res, f, 1) == 0 && upd_del(&a, res, f, "k") == 0)
        await_is(&b, res, "g_chg2", f, w);
    cf_close(&a);
    cf_close(&b);
}

static void s_mon0(cf_ctx *ctx, cf_result *res)
{
    cf_conn a, b;
    char f[64];
    fresh(f, sizeof f, "f");
    aemp_val *seen = aemp_array();
    if (pair(ctx, &a, &b, res, f, 0) ||
        g_send(&b, res, "g_mon0", aemp_str(f), NULL) ||
        settle(&b, res, NULL) || upd_set(&a, res, f, "k", "1") ||
        settle(&a, res, NULL) || settle(&b, res, seen))
        goto out;
    for (size_t i = 0; i < aemp_array_len(seen); i++) {
        aemp_val *m = aemp_array_at(seen, i);
        if (aemp_str_eq(aemp_array_at(m, 2), f)) {
            char *s = json(m);
            cf_fail(res, "expected nothing for %s after g_mon0, got %.250s",
                    f, s);
            free(s);
            break;
        }
    }
out:
    aemp_unref(seen);
    cf_close(&a);
    cf_close(&b);
}

/* A slave's link drops: its keys go (monitors told with g_chg2), and so
 * does its 'l entry. */
static void s_cleanup(cf_ctx *ctx, cf_result *res)
{
    cf_conn a, b;
    char f[64], w[200], gone[64];
    fresh(f, sizeof f, "f");
    snprintf(w, sizeof w, "[\"\",\"g_chg2\",\"%s\",{},[\"k\"]]", f);
    if (pair(ctx, &a, &b, res, f, 1))
        goto out;
    snprintf(gone, sizeof gone, "%s", a.nodeid);
    cf_close(&a);
    if (await_is(&b, res, "g_chg2", f, w) == 0 &&
        query_is(&b, res, "g_db_family", f, "{}") == 0)
        find_is(&b, res, gone, "null");
out:
    cf_close(&a);
    cf_close(&b);
}

/* The kit as a second global node: says g_global, as a global does to
 * every node that comes up; the seed answers g_set {its slaves' merged
 * databases}, its own 'l entry among them. 0, or res failed. Without
 * check_set the answer is not waited for (whatever comes is ignored),
 * only the g_global seen handled: the checks on what follows fail for
 * their own rule, not for S-GLOBAL-SET's. */
static int global(cf_ctx *ctx, cf_conn *g, cf_result *res, int check_set)
{
    char what[300];
    if (cf_link(ctx, g, res, NULL) || g_send(g, res, "g_global", NULL))
        return -1;
    if (!check_set)
        return settle(g, res, NULL);
    snprintf(what, sizeof what, "[\"\",\"g_set\",{\"'l\":{\"%s\":[...],...},"
             "...}]", ctx->node);
    aemp_val *m = await(g, res, "g_set", NULL, NULL, what);
    if (!m)
        return -1;
    aemp_val *db = aemp_array_at(m, 2);
    aemp_val *l = aemp_map_get(aemp_map_get(db, "'l"), ctx->node);
    int r = 0;
    if (aemp_array_len(m) != 3 || aemp_type_of(db) != AEMP_MAP ||
        aemp_type_of(l) != AEMP_ARRAY) {
        char *s = json(m);
        cf_fail(res, "expected %s, got %.250s", what, s);
        free(s);
        r = -1;
    }
    aemp_unref(m);
    return r;
}

static void s_global_set(cf_ctx *ctx, cf_result *res)
{
    cf_conn g;
    global(ctx, &g, res, 1);
    cf_close(&g);
}

/* Our g_set is the seed's shard of us; our 'l entry is mirrored. */
static void s_global_mirror(cf_ctx *ctx, cf_result *res)
{
    cf_conn g, b;
    char f[64];
    memset(&b, 0, sizeof b);
    b.fd = -1;
    fresh(f, sizeof f, "f");
    if (global(ctx, &g, res, 0))
        goto out;
    aemp_val *db = aemp_map(), *l = aemp_map(), *fam = aemp_map();
    aemp_map_set(l, g.nodeid, aemp_arrayv(aemp_str(KIT_ADDR), NULL));
    aemp_map_set(db, "'l", l);
    aemp_map_set(fam, "k", aemp_str("from a global"));
    aemp_map_set(db, f, fam);
    if (g_send(&g, res, "g_set", db, NULL) == 0 &&
        settle(&g, res, NULL) == 0 && cf_link(ctx, &b, res, NULL) == 0 &&
        find_is(&b, res, g.nodeid, "[\"" KIT_ADDR "\"]") == 0)
        query_is(&b, res, "g_db_family", f, "{\"k\":\"from a global\"}");
out:
    cf_close(&g);
    cf_close(&b);
}

/* A slave's changes go to every other global as g_upd FAMILY SET DEL. */
static void s_global_fwd(cf_ctx *ctx, cf_result *res)
{
    cf_conn g, a;
    char f[64], w[200];
    memset(&a, 0, sizeof a);
    a.fd = -1;
    fresh(f, sizeof f, "f");
    if (global(ctx, &g, res, 0) || slave(ctx, &a, res, NULL) ||
        upd_set(&a, res, f, "k", "[1]") || upd_del(&a, res, f, "k"))
        goto out;
    snprintf(w, sizeof w, "[\"\",\"g_upd\",\"%s\",{\"k\":[1]},[]]", f);
    if (await_is(&g, res, "g_upd", f, w))
        goto out;
    snprintf(w, sizeof w, "[\"\",\"g_upd\",\"%s\",{},[\"k\"]]", f);
    await_is(&g, res, "g_upd", f, w);
out:
    cf_close(&g);
    cf_close(&a);
}

#define GN "Global.pm $NODE_REQ{"
const cf_check cf_seed_checks[] = {
    {"S-GLOBAL-UP", "seed", "a seed sends g_global to a node whose link comes "
     "up, and nothing else to a slave unasked", "Global.pm mon_nodes",
     s_global_up},
    {"S-SLAVE-DB", "seed", "g_slave DB stores the sender's database: its "
     "families are in the merged database", GN "g_slave}, g_set", s_slave_db},
    {"S-UPD-SET", "seed", "g_upd FAMILY {KEY: VALUE} sets keys; a later set "
     "replaces", "Global.pm g_upd, Kernel.pm db_set", s_upd_set},
    {"S-UPD-DEL", "seed", "g_upd FAMILY undef [KEY] deletes keys; a family "
     "without keys is gone", "Global.pm g_upd, Kernel.pm db_del", s_upd_del},
    {"S-DB-FAMILY", "seed", "g_db_family FAMILY ID of an unknown family "
     "replies g_reply ID {}", GN "g_db_family}", s_db_family_unknown},
    {"S-DB-KEYS", "seed", "g_db_keys FAMILY ID replies g_reply ID [KEYS] "
     "([] for an unknown family)", GN "g_db_keys}", s_db_keys},
    {"S-DB-VALUES", "seed", "g_db_values FAMILY ID replies g_reply ID "
     "[VALUES] ([] for an unknown family)", GN "g_db_values}", s_db_values},
    {"S-FIND", "seed", "g_find NODE replies g_found NODE ADDRESSES from 'l: "
     "the kit's own and the seed's", GN "g_find}", s_find},
    {"S-FIND-UNKNOWN", "seed", "g_find of an unknown node replies g_found "
     "NODE undef", GN "g_find}", s_find_unknown},
    {"S-MON1-NULL", "seed", "g_mon1 of a family that does not exist replies "
     "g_chg1 FAMILY undef", GN "g_mon1}", s_mon1_null},
    {"S-MON1-FULL", "seed", "g_mon1 FAMILY replies g_chg1 FAMILY {the whole "
     "family}", GN "g_mon1}", s_mon1_full},
    {"S-CHG2-SET", "seed", "another node's set reaches a monitor as g_chg2 "
     "FAMILY {KEY: VALUE} []", "Global.pm g_upd", s_chg2_set},
    {"S-CHG2-DEL", "seed", "another node's delete reaches a monitor as "
     "g_chg2 FAMILY {} [KEY]", "Global.pm g_upd", s_chg2_del},
    {"S-MON0", "seed", "g_mon0 FAMILY ends the monitor: no more g_chg2",
     GN "g_mon0}", s_mon0},
    {"S-CLEANUP", "seed", "a node whose link drops loses its keys (monitors "
     "get g_chg2 FAMILY {} [KEY]) and its 'l entry",
     "Global.pm g_disconnect, g_clr", s_cleanup},
    {"S-GLOBAL-SET", "seed", "g_global from another global is answered "
     "g_set {the seed's slaves' databases merged}, its own 'l among them",
     GN "g_global}, g_global_connect", s_global_set},
    {"S-GLOBAL-MIRROR", "seed", "a global's g_set DB is stored as its shard, "
     "its 'l entry mirrored: others find it", GN "g_set}",
     s_global_mirror},
    {"S-GLOBAL-FWD", "seed", "a slave's changes go to the other globals as "
     "g_upd FAMILY SET [DELETED]", "Global.pm g_upd, g_broadcast",
     s_global_fwd},
    {NULL, NULL, NULL, NULL, NULL},
};
