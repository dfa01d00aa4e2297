/* caemp conform: the master group (--master). The kit plays the seed a
 * normal node connects to: it listens, accepts the node's connection,
 * greets as any node does and sends g_global as a seed does, so the node
 * takes it as its master (Kernel.pm seed_connect, master_search,
 * master_set). The checks are one scripted session, in order: each
 * leaves the link and the node's state where the next one expects them.
 * What the node's program does (db_set, db_del, db_mon) the kit asks
 * through three named functions the node under test provides: the
 * scenario of docs/conformance.md §4. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform_int.h"

#define FAM "conform_fam"   /* the family the node sets and deletes in */
#define WATCH "conform_watch" /* the family the node monitors */

/* The session the checks share. */
static struct {
    cf_conn c;
    int up;             /* c is an authenticated link */
    char kit[64];       /* the node id the kit plays, kept over reconnects */
    aemp_val *log;      /* messages read but not yet taken */
    aemp_val *l_entry;  /* the 'l entry of the node's first g_slave */
    aemp_val *mon_db;   /* the family as the node last reported it */
} S;

static char *json(const aemp_val *v)
{
    char *s = v ? aemp_to_json(v, NULL) : strdup("nothing");
    return s ? s : strdup("?");
}

static int str_at(const aemp_val *m, size_t i, const char *s)
{
    return aemp_str_eq(aemp_array_at(m, i), s);
}

/* A message is wanted when its first two elements are first, second and
 * (len > 0) it has len elements. */
typedef struct want {
    const char *first, *second;
    size_t len;
} want;

static int wanted(const aemp_val *m, const want *w)
{
    return str_at(m, 0, w->first) && (!w->second || str_at(m, 1, w->second)) &&
           (!w->len || aemp_array_len(m) == w->len);
}

/* The first message (read before or within the timeout) that w wants;
 * others stay in the log, keepalives (the empty tag) are dropped. NULL,
 * with *why set, when none came. */
static aemp_val *take(const want *w, const char **why)
{
    for (size_t i = 0; i < aemp_array_len(S.log); i++)
        if (wanted(aemp_array_at(S.log, i), w))
            return aemp_array_take(S.log, i);
    *why = "nothing";
    if (!S.up) {
        *why = "no link";
        return NULL;
    }
    for (;;) {
        aemp_val *m = NULL;
        int r = cf_recv_match(&S.c, NULL, NULL, S.c.timeout, &m, NULL);
        if (r != CF_GOT) {
            *why = r == CF_CLOSED ? "a close" : r == CF_TIMEOUT ? "nothing"
                                                                : S.c.err;
            if (r == CF_CLOSED)
                S.up = 0;
            return NULL;
        }
        if (wanted(m, w))
            return m;
        if (str_at(m, 0, "") && str_at(m, 1, ""))
            aemp_unref(m);
        else
            aemp_array_push(S.log, m);
    }
}

/* Takes the next message w wants and compares it with expect (taken):
 * res passes when equal. With upto (expect a marker sent behind what
 * must send nothing), a message that differs is followed by dropping
 * those w wants up to the marker, so a node that sent one too many
 * leaves the next check the link as it expects it. */
static void expect_upto(cf_result *res, const want *w, aemp_val *expect,
                        const char *what, int upto)
{
    const char *why;
    aemp_val *m = take(w, &why);
    char *e = json(expect);
    if (!m) {
        cf_fail(res, "expected %.250s (%s), got %s", e, what, why);
    } else if (!aemp_equal(m, expect)) {
        char *g = json(m);
        cf_fail(res, "expected %.250s (%s), got %.250s", e, what, g);
        free(g);
        aemp_val *n = NULL;
        while (upto && (n = take(w, &why)) && !aemp_equal(n, expect))
            aemp_unref(n);
        aemp_unref(n);
    }
    free(e);
    aemp_unref(m);
    aemp_unref(expect);
}

static void expect(cf_result *res, const want *w, aemp_val *expect,
                   const char *what)
{
    expect_upto(res, w, expect, what, 0);
}

/* Asks the node under test to run a scenario function:
 * ["", "conform::NAME", ARGS...] (args taken). */
static int call(cf_result *res, const char *name, aemp_val *args)
{
    char fn[64];
    snprintf(fn, sizeof fn, "conform::%s", name);
    aemp_val *m = aemp_arrayv(aemp_str(""), aemp_str(fn), NULL);
    for (size_t i = 0; m && i < aemp_array_len(args); i++)
        aemp_array_push(m, aemp_ref(aemp_array_at(args, i)));
    aemp_unref(args);
    if (!S.up) {
        aemp_unref(m);
        cf_fail(res, "expected a link to the node, got none (an earlier "
                     "check failed)");
        return -1;
    }
    if (m && cf_send_msg(&S.c, m) == 0)
        return 0;
    cf_fail(res, "expected to send %s, got: %s", fn, S.c.err);
    return -1;
}

/* Sends m (taken, also without a link). */
static int send_msg(cf_result *res, aemp_val *m)
{
    if (!S.up) {
        aemp_unref(m);
        cf_fail(res, "expected to send to the node, got: no link");
        return -1;
    }
    if (cf_send_msg(&S.c, m) == 0)
        return 0;
    cf_fail(res, "expected to send to the node, got: %s", S.c.err);
    return -1;
}

/* ---- accepting the node ---- */

static void accept_node(cf_ctx *ctx, cf_result *res, double wait)
{
    cf_peer p = {.secret = ctx->secret, .nodeid = S.kit,
                 .timeout = ctx->timeout};
    if (!S.kit[0]) {
        char hex[9];
        cf_random_hex(hex, 8);
        snprintf(S.kit, sizeof S.kit, "conform-%s", hex);
        S.log = aemp_array();
    }
    int r = cf_accept(&S.c, ctx->lfd, wait, ctx->timeout);
    if (r != CF_GOT) {
        cf_fail(res, "expected the node to connect to its seed within "
                     "%.0f s, got %s", wait, S.c.err);
        return;
    }
    if (cf_handshake_on(&S.c, &p)) {
        cf_fail(res, "expected an authenticated link, got: %s", S.c.err);
        return;
    }
    S.up = 1;
    snprintf(ctx->node, sizeof ctx->node, "%s", S.c.rg.nodeid);
    /* a seed tells every node that comes up that it is a global node
     * (Global.pm mon_nodes) */
    send_msg(res, aemp_arrayv(aemp_str(""), aemp_str("g_global"), NULL));
}

static void m_connect(cf_ctx *ctx, cf_result *res)
{
    accept_node(ctx, res, ctx->wait);
    if (res->status == CF_PASS)
        cf_note(res, "node %s from %s", ctx->node, S.c.peeraddr);
}

/* ---- g_slave ---- */

static void m_slave_start(cf_ctx *ctx, cf_result *res)
{
    (void)ctx;
    want w = {"", "g_slave", 2};
    const char *why;
    aemp_val *m = take(&w, &why);
    if (!m)
        cf_fail(res, "expected [\"\",\"g_slave\"], got %s", why);
    aemp_unref(m);
}

/* The g_slave with the node's database; res failed unless it is
 * ["", "g_slave", {DB}]. */
static aemp_val *slave_db(cf_result *res)
{
    want w = {"", "g_slave", 3};
    const char *why;
    aemp_val *m = take(&w, &why);
    if (!m) {
        cf_fail(res, "expected [\"\",\"g_slave\",{DATABASE}], got %s", why);
        return NULL;
    }
    if (aemp_type_of(aemp_array_at(m, 2)) != AEMP_MAP) {
        char *g = json(m);
        cf_fail(res, "expected [\"\",\"g_slave\",{DATABASE}], got %.300s", g);
        free(g);
        aemp_unref(m);
        return NULL;
    }
    return m;
}

/* 'l -> NODE -> [HOST:PORT, ...], at least one address */
static int good_l_entry(const aemp_val *e)
{
    if (aemp_type_of(e) != AEMP_ARRAY || !aemp_array_len(e))
        return 0;
    for (size_t i = 0; i < aemp_array_len(e); i++) {
        const char *a = aemp_str_ptr(aemp_array_at(e, i), NULL);
        const char *colon = a ? strrchr(a, ':') : NULL;
        if (!colon || colon == a || !colon[1])
            return 0;
    }
    return 1;
}

static void m_slave_db(cf_ctx *ctx, cf_result *res)
{
    aemp_val *m = slave_db(res);
    if (!m)
        return;
    aemp_val *l = aemp_map_get(aemp_array_at(m, 2), "'l");
    aemp_val *e = aemp_map_get(l, ctx->node);
    S.l_entry = aemp_ref(e);
    if (!good_l_entry(e)) {
        char *g = json(aemp_array_at(m, 2));
        cf_fail(res, "expected a database with 'l -> %s -> [HOST:PORT,...], "
                     "got %.300s", ctx->node, g);
        free(g);
    } else {
        char *g = json(e);
        cf_note(res, "'l: %.200s", g);
        free(g);
    }
    aemp_unref(m);
}

/* ---- g_upd ---- */

static aemp_val *value(void)
{
    return aemp_arrayv(aemp_str("v"), aemp_int(1),
                       aemp_arrayv(aemp_str("x"), NULL), NULL);
}

static aemp_val *set_args(const char *key, aemp_val *v)
{
    return aemp_arrayv(aemp_str(FAM), aemp_str(key), v, NULL);
}

/* ["", "g_upd", FAM, {key: v}] (v taken) */
static aemp_val *upd_set(const char *key, aemp_val *v)
{
    aemp_val *set = aemp_map();
    aemp_map_set(set, key, v);
    return aemp_arrayv(aemp_str(""), aemp_str("g_upd"), aemp_str(FAM), set,
                       NULL);
}

static aemp_val *upd_del(const char *key)
{
    return aemp_arrayv(aemp_str(""), aemp_str("g_upd"), aemp_str(FAM),
                       aemp_null(), aemp_arrayv(aemp_str(key), NULL), NULL);
}

static const want any_upd = {"", "g_upd", 0};

static void m_upd_set(cf_ctx *ctx, cf_result *res)
{
    (void)ctx;
    if (call(res, "db_set", set_args("k1", value())) == 0)
        expect(res, &any_upd, upd_set("k1", value()),
               "db_set " FAM " k1 VALUE");
}

static void m_upd_same(cf_ctx *ctx, cf_result *res)
{
    (void)ctx;
    /* an unchanged value sends nothing: the next g_upd is the marker's */
    if (call(res, "db_set", set_args("k1", value())) == 0 &&
        call(res, "db_set", set_args("k2", aemp_str("marker"))) == 0)
        expect_upto(res, &any_upd, upd_set("k2", aemp_str("marker")),
                    "nothing for the unchanged k1, then the marker k2", 1);
}

static void m_upd_del(cf_ctx *ctx, cf_result *res)
{
    (void)ctx;
    if (call(res, "db_del", aemp_arrayv(aemp_str(FAM), aemp_str("k1"),
                                        NULL)) == 0)
        expect(res, &any_upd, upd_del("k1"), "db_del " FAM " k1");
}

static void m_upd_del_unset(cf_ctx *ctx, cf_result *res)
{
    (void)ctx;
    if (call(res, "db_del", aemp_arrayv(aemp_str(FAM), aemp_str("nokey"),
                                        NULL)) == 0 &&
        call(res, "db_set", set_args("k3", aemp_str("kept"))) == 0)
        expect_upto(res, &any_upd, upd_set("k3", aemp_str("kept")),
                    "nothing for the unset key, then the marker k3", 1);
}

/* ---- monitors ---- */

static void m_mon1(cf_ctx *ctx, cf_result *res)
{
    (void)ctx;
    char port[128];
    snprintf(port, sizeof port, "%s#mon", S.kit);
    want w = {"", "g_mon1", 0};
    if (call(res, "db_mon", aemp_arrayv(aemp_str(WATCH), aemp_str(port),
                                        NULL)) == 0)
        expect(res, &w, aemp_arrayv(aemp_str(""), aemp_str("g_mon1"),
                                    aemp_str(WATCH), NULL),
               "db_mon " WATCH);
}

static aemp_val *keys(const char *a, const char *b)
{
    return aemp_arrayv(a ? aemp_str(a) : NULL, b ? aemp_str(b) : NULL, NULL);
}

/* Sends chg (taken) from the master and expects the node's monitor to
 * report ["mon", "conform_chg", WATCH, db, added, changed, deleted]
 * (taken, key lists sorted). */
static void report(cf_result *res, aemp_val *chg, aemp_val *db,
                   aemp_val *added, aemp_val *changed, aemp_val *deleted,
                   const char *what)
{
    aemp_val *e = aemp_arrayv(aemp_str("mon"), aemp_str("conform_chg"),
                              aemp_str(WATCH), aemp_ref(db), added, changed,
                              deleted, NULL);
    if (send_msg(res, chg)) {
        aemp_unref(e);
    } else {
        want w = {"mon", "conform_chg", 0};
        expect(res, &w, e, what);
    }
    if (res->status == CF_PASS) {
        aemp_unref(S.mon_db);
        S.mon_db = aemp_ref(db);
    }
    aemp_unref(db);
}

static aemp_val *ab(int a, int b)
{
    aemp_val *m = aemp_map();
    aemp_map_set(m, "a", aemp_int(a));
    aemp_map_set(m, "b", aemp_int(b));
    return m;
}

static void m_chg1(cf_ctx *ctx, cf_result *res)
{
    (void)ctx;
    report(res, aemp_arrayv(aemp_str(""), aemp_str("g_chg1"), aemp_str(WATCH),
                            ab(1, 2), NULL),
           ab(1, 2), keys("a", "b"), keys(NULL, NULL), keys(NULL, NULL),
           "g_chg1 " WATCH " {a:1,b:2}");
}

static void m_chg2(cf_ctx *ctx, cf_result *res)
{
    (void)ctx;
    aemp_val *set = aemp_map();
    aemp_map_set(set, "b", aemp_int(3));
    aemp_map_set(set, "c", aemp_int(4));
    aemp_val *db = aemp_map();
    aemp_map_set(db, "b", aemp_int(3));
    aemp_map_set(db, "c", aemp_int(4));
    report(res, aemp_arrayv(aemp_str(""), aemp_str("g_chg2"), aemp_str(WATCH),
                            set, keys("a", NULL), NULL),
           db, keys("c", NULL), keys("b", NULL), keys("a", NULL),
           "g_chg2 " WATCH " {b:3,c:4} [a]");
}

/* ---- the master going away ---- */

static void m_master_lost(cf_ctx *ctx, cf_result *res)
{
    cf_close(&S.c);
    S.up = 0;
    aemp_unref(S.log);
    S.log = aemp_array();
    /* Perl retries a lost seed after 0.6 to 1.2 s (seed_again) */
    accept_node(ctx, res, ctx->wait);
}

static void m_reslave(cf_ctx *ctx, cf_result *res)
{
    aemp_val *m = slave_db(res);
    if (!m)
        return;
    aemp_val *db = aemp_array_at(m, 2);
    aemp_val *fam = aemp_map();
    aemp_map_set(fam, "k2", aemp_str("marker"));
    aemp_map_set(fam, "k3", aemp_str("kept"));
    aemp_val *l = aemp_map_get(aemp_map_get(db, "'l"), ctx->node);
    if (!aemp_equal(aemp_map_get(db, FAM), fam) ||
        !(l && S.l_entry ? aemp_equal(l, S.l_entry) : l == S.l_entry)) {
        char *g = json(db), *f = json(fam), *e = json(S.l_entry);
        cf_fail(res, "expected a database with " FAM " -> %.100s and 'l -> "
                     "%s -> %.100s as before, got %.300s", f, ctx->node, e, g);
        free(g);
        free(f);
        free(e);
    }
    aemp_unref(fam);
    aemp_unref(m);
}

static void m_remon1(cf_ctx *ctx, cf_result *res)
{
    (void)ctx;
    want w = {"", "g_mon1", 0};
    expect(res, &w, aemp_arrayv(aemp_str(""), aemp_str("g_mon1"),
                                aemp_str(WATCH), NULL),
           "the monitor's request again, to the new master");
}

/* g_chg1 from the new master: changes counted against what the node
 * last reported. */
static void m_chg1_diff(cf_ctx *ctx, cf_result *res)
{
    (void)ctx;
    aemp_val *full = aemp_map();
    aemp_map_set(full, "c", aemp_int(5));
    aemp_map_set(full, "d", aemp_int(6));
    aemp_val *added = aemp_array(), *changed = aemp_array(),
             *deleted = aemp_array();
    aemp_val *old = S.mon_db ? aemp_ref(S.mon_db) : aemp_map();
    const char *ks[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++) {
        int was = aemp_map_get(old, ks[i]) != NULL;
        int is = aemp_map_get(full, ks[i]) != NULL;
        if (is)
            aemp_array_push(was ? changed : added, aemp_str(ks[i]));
        else if (was)
            aemp_array_push(deleted, aemp_str(ks[i]));
    }
    aemp_unref(old);
    report(res, aemp_arrayv(aemp_str(""), aemp_str("g_chg1"), aemp_str(WATCH),
                            aemp_ref(full), NULL),
           full, added, changed, deleted, "g_chg1 " WATCH " {c:5,d:6}");
    /* the session ends here */
    cf_close(&S.c);
    S.up = 0;
}

#define KP "Kernel.pm "
const cf_check cf_master_checks[] = {
    {"M-CONNECT", "master", "the node connects to its seed (the kit) and "
     "authenticates", KP "seed_connect", m_connect},
    {"M-SLAVE-START", "master", "the node sends g_slave without arguments "
     "to a seed once greeted", KP "seed_connect, mon_nodes", m_slave_start},
    {"M-SLAVE-DB", "master", "the node sends its master g_slave {DB}, with "
     "'l -> NODE -> [its addresses]", KP "master_set, configure",
     m_slave_db},
    {"M-UPD-SET", "master", "db_set F K V sends [\"\",\"g_upd\",F,{K:V}]",
     KP "db_set", m_upd_set},
    {"M-UPD-SAME", "master", "db_set of an unchanged value sends nothing",
     KP "db_set, sv_eq", m_upd_same},
    {"M-UPD-DEL", "master", "db_del F K sends [\"\",\"g_upd\",F,null,[K]]",
     KP "db_del", m_upd_del},
    {"M-UPD-DEL-UNSET", "master", "db_del of a key not set sends nothing",
     KP "db_del", m_upd_del_unset},
    {"M-MON1", "master", "db_mon F sends [\"\",\"g_mon1\",F]",
     KP "db_mon, global_req_add", m_mon1},
    {"M-CHG1", "master", "g_chg1 F {DB} from the master: the monitor sees "
     "every key added", KP "$NODE_REQ{g_chg1}", m_chg1},
    {"M-CHG2", "master", "g_chg2 F {SET} [DEL]: new keys added, known ones "
     "changed, DEL deleted", KP "$NODE_REQ{g_chg2}", m_chg2},
    {"M-MASTER-LOST", "master", "the master gone, the node connects to the "
     "seed again", KP "mon_nodes, seed_again", m_master_lost},
    {"M-RESLAVE", "master", "the new master gets g_slave {DB} with the "
     "whole local database", KP "master_search, master_set", m_reslave},
    {"M-REMON1", "master", "requests still pending (the monitor's g_mon1) "
     "go again to the new master", KP "master_set, %GLOBAL_REQ", m_remon1},
    {"M-CHG1-DIFF", "master", "g_chg1 from the new master: changes counted "
     "against the contents the node holds", KP "$NODE_REQ{g_chg1}",
     m_chg1_diff},
    {NULL, NULL, NULL, NULL, NULL},
};
