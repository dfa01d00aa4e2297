/* A scripted fake normal node for `caemp conform --master`
 * (tests/conform_faults.py), with one deliberate fault switched on by its
 * argument, so each master check is shown to fail when the node gets its
 * rule wrong. A normal node's part of the global protocol (the g_upd a
 * db_set sends, g_mon1, re-sending everything to a new master) lives
 * inside libaemp, which gets no fault switches; so this node is not
 * libaemp but a script over the kit's own wire pieces
 * (tools/caemp/conform/conform_wire.h) on the connecting side, doing what
 * Kernel.pm's normal node does, and nothing more than the kit's scenario
 * needs (docs/conformance.md §4).
 *
 *    conform_fake_slave PORT SECRET FAULT SEED
 *
 * It connects to SEED (HOST:PORT, the kit's listener) as its seed, keeps
 * a local database (its 'l entry names 127.0.0.1:PORT, where it does not
 * listen: nobody connects to a normal node in this session) and its
 * monitored families, answers conform::db_set, db_del and db_mon, applies
 * g_chg1 and g_chg2, and connects again when the master closes. FAULT,
 * each aimed at one check:
 *
 *   none                  every rule kept
 *   no-connect            never connects (M-CONNECT)
 *   no-slave-start        no argument-less g_slave (M-SLAVE-START)
 *   slave-no-l            no 'l entry in its database (M-SLAVE-DB)
 *   upd-extra-del         the db_set creating a family sends an empty
 *                         delete list too (M-UPD-SET)
 *   upd-same              db_set of an unchanged value sends g_upd
 *                         (M-UPD-SAME)
 *   del-shape             db_del sends the key bare, not in a list
 *                         (M-UPD-DEL)
 *   del-unset             db_del of a key not set sends g_upd
 *                         (M-UPD-DEL-UNSET)
 *   no-mon1               the first db_mon sends no g_mon1 (the request
 *                         is still kept, for the next master) (M-MON1)
 *   chg1-wrong            g_chg1 on monitored contents held empty reports
 *                         its keys changed, not added (M-CHG1)
 *   chg2-ignored          g_chg2 does nothing (M-CHG2)
 *   no-reconnect          stays away once the master closes
 *                         (M-MASTER-LOST)
 *   reslave-no-db         the new master gets no g_slave {DB} (M-RESLAVE)
 *   no-remon1             the pending g_mon1 is not sent to the new master
 *                         (M-REMON1)
 *   chg1-diff-all-added   the monitored contents are forgotten when the
 *                         master goes, so its successor's g_chg1 counts
 *                         every key added (M-CHG1-DIFF)
 *
 * Prints "ready" at once, then runs until killed. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conform_wire.h"

#define SELF "conform-fake-slave"

typedef struct mon {
    char *family;
    char *port;     /* where conform_chg reports go */
    aemp_val *held; /* the family as the master last told it (MON_DB) */
} mon;

static struct {
    const char *fault;
    char host[128], port[16]; /* the seed */
    const char *secret;
    aemp_val *db;     /* family -> key -> value (Kernel.pm %LOCAL_DB) */
    mon mons[8];      /* the monitored families (%LOCAL_MON, %MON_DB) */
    size_t nmons;
    cf_conn c;
    int up;           /* c is a link to the master */
    int links;        /* how many times a link came up */
} F;

static const char *const faults[] = {
    "none", "no-connect", "no-slave-start", "slave-no-l", "upd-extra-del",
    "upd-same", "del-shape", "del-unset", "no-mon1", "chg1-wrong",
    "chg2-ignored", "no-reconnect", "reslave-no-db", "no-remon1",
    "chg1-diff-all-added", NULL};

static int fault(const char *f)
{
    return !strcmp(F.fault, f);
}

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static const char *str_at(const aemp_val *m, size_t i)
{
    const char *s = aemp_str_ptr(aemp_array_at(m, i), NULL);
    return s ? s : "";
}

/* to the master; dropped with no master, as Perl's `snd $MASTER, ...
 * if defined $MASTER` */
static void to_master(aemp_val *m)
{
    if (F.up)
        cf_send_msg(&F.c, m);
    else
        aemp_unref(m);
}

static aemp_val *node_msg(const char *name, aemp_val *a, aemp_val *b,
                          aemp_val *c)
{
    return aemp_arrayv(aemp_str(""), aemp_str(name), a, b, c, NULL);
}

static mon *mon_of(const char *family)
{
    for (size_t i = 0; i < F.nmons; i++)
        if (!strcmp(F.mons[i].family, family))
            return &F.mons[i];
    return NULL;
}

/* ---- a new master (Kernel.pm seed_connect, mon_nodes, master_set) ---- */

static void master_set(void)
{
    int again = F.links > 1;
    if (!fault("no-slave-start"))
        to_master(node_msg("g_slave", NULL, NULL, NULL));
    if (!(again && fault("reslave-no-db")))
        to_master(node_msg("g_slave", aemp_ref(F.db), NULL, NULL));
    for (size_t i = 0; i < F.nmons; i++) {
        if (again && fault("chg1-diff-all-added")) {
            aemp_unref(F.mons[i].held);
            F.mons[i].held = aemp_map();
        }
        /* the pending requests (%GLOBAL_REQ): each family's g_mon1 */
        if (!(again && fault("no-remon1")))
            to_master(node_msg("g_mon1", aemp_str(F.mons[i].family), NULL,
                               NULL));
    }
}

/* Connects to the seed until a link is up (Perl's seed_again retries
 * after 0.6 to 1.2 s; shorter here, the kit waits anyway). */
static void connect_master(void)
{
    for (;;) {
        cf_peer p = {.host = F.host, .port = F.port, .secret = F.secret,
                     .nodeid = SELF, .timeout = 3};
        if (cf_handshake(&F.c, &p) == 0)
            break;
        cf_close(&F.c);
        nap(0.2);
    }
    F.up = 1;
    F.links++;
    master_set();
}

/* ---- the scenario (conform::db_set, db_del, db_mon) ---- */

static void db_set(const char *family, const char *key, aemp_val *v)
{
    aemp_val *fam = aemp_map_get(F.db, family);
    int created = !fam;
    if (created) {
        fam = aemp_map();
        aemp_map_set(F.db, family, fam);
    }
    aemp_val *old = aemp_map_get(fam, key);
    if (old && aemp_equal(old, v) && !fault("upd-same"))
        return;
    aemp_map_set(fam, key, aemp_ref(v));
    aemp_val *set = aemp_map();
    aemp_map_set(set, key, aemp_ref(v));
    to_master(node_msg("g_upd", aemp_str(family), set,
                       created && fault("upd-extra-del") ? aemp_array()
                                                         : NULL));
}

static void db_del(const char *family, const char *key)
{
    aemp_val *fam = aemp_map_get(F.db, family);
    if (!(fam && aemp_map_del(fam, key, strlen(key))) &&
        !fault("del-unset"))
        return;
    aemp_val *del = fault("del-shape") ? aemp_str(key)
                                       : aemp_arrayv(aemp_str(key), NULL);
    to_master(node_msg("g_upd", aemp_str(family), aemp_null(), del));
}

static void db_mon(const char *family, const char *port)
{
    mon *m = mon_of(family);
    if (m || F.nmons == sizeof F.mons / sizeof *F.mons) {
        if (m) {
            free(m->port);
            m->port = strdup(port);
        }
        return;
    }
    m = &F.mons[F.nmons++];
    m->family = strdup(family);
    m->port = strdup(port);
    m->held = aemp_map();
    if (!fault("no-mon1"))
        to_master(node_msg("g_mon1", aemp_str(family), NULL, NULL));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(aemp_str_ptr(*(aemp_val *const *)a, NULL),
                  aemp_str_ptr(*(aemp_val *const *)b, NULL));
}

static aemp_val *sorted(aemp_val *keys)
{
    size_t n = aemp_array_len(keys);
    aemp_val **k = calloc(n + 1, sizeof *k);
    for (size_t i = 0; k && i < n; i++)
        k[i] = aemp_array_at(keys, i);
    if (k)
        qsort(k, n, sizeof *k, cmp_str);
    aemp_val *a = aemp_array();
    for (size_t i = 0; k && i < n; i++)
        aemp_array_push(a, aemp_ref(k[i]));
    free(k);
    aemp_unref(keys);
    return a;
}

/* the monitor's callback: ["conform_chg", F, DB, ADDED, CHANGED,
 * DELETED] (lists taken) to its port, when that is on the master: the
 * only node this one has a link to; a message to NODE#ID goes as [ID,
 * ...] */
static void report(const mon *m, aemp_val *added, aemp_val *changed,
                   aemp_val *deleted)
{
    const char *hash = strchr(m->port, '#');
    aemp_val *msg = aemp_arrayv(
        aemp_str(hash ? hash + 1 : ""), aemp_str("conform_chg"),
        aemp_str(m->family), aemp_copy(m->held), sorted(added),
        sorted(changed), sorted(deleted), NULL);
    if (hash && F.up && F.c.rg.nodeid &&
        strlen(F.c.rg.nodeid) == (size_t)(hash - m->port) &&
        !strncmp(m->port, F.c.rg.nodeid, (size_t)(hash - m->port)))
        cf_send_msg(&F.c, msg);
    else
        aemp_unref(msg);
}

/* sets set's keys in m's contents, each counted added or changed */
static void apply_set(mon *m, const aemp_val *set, aemp_val *added,
                      aemp_val *changed, int held_empty)
{
    for (size_t i = 0; i < aemp_map_len(set); i++) {
        size_t kl;
        const char *k = aemp_map_key_at(set, i, &kl);
        int known = aemp_map_getn(m->held, k, kl) != NULL;
        aemp_array_push(known || (held_empty && fault("chg1-wrong"))
                            ? changed : added,
                        aemp_strn(k, kl));
        aemp_map_setn(m->held, k, kl, aemp_copy(aemp_map_value_at(set, i)));
    }
}

/* ["", "g_chg1", F, {DB}]: the contents replaced */
static void g_chg1(const aemp_val *msg)
{
    mon *m = mon_of(str_at(msg, 2));
    const aemp_val *db = aemp_array_at(msg, 3);
    if (!m)
        return;
    aemp_val *added = aemp_array(), *changed = aemp_array(),
             *deleted = aemp_array();
    apply_set(m, db, added, changed, !aemp_map_len(m->held));
    for (size_t i = 0; i < aemp_map_len(m->held);) {
        size_t kl;
        const char *k = aemp_map_key_at(m->held, i, &kl);
        if (aemp_map_getn(db, k, kl)) {
            i++;
            continue;
        }
        aemp_array_push(deleted, aemp_strn(k, kl));
        aemp_map_del(m->held, k, kl);
    }
    report(m, added, changed, deleted);
}

/* ["", "g_chg2", F, {SET}, [DEL]]: DEL is reported as given */
static void g_chg2(const aemp_val *msg)
{
    mon *m = mon_of(str_at(msg, 2));
    if (!m || fault("chg2-ignored"))
        return;
    aemp_val *added = aemp_array(), *changed = aemp_array();
    apply_set(m, aemp_array_at(msg, 3), added, changed, 0);
    const aemp_val *del = aemp_array_at(msg, 4);
    for (size_t i = 0; i < aemp_array_len(del); i++)
        aemp_map_del(m->held, str_at(del, i), strlen(str_at(del, i)));
    report(m, added, changed, aemp_copy(del));
}

static void handle(const aemp_val *msg)
{
    if (!aemp_str_eq(aemp_array_at(msg, 0), ""))
        return;
    const char *fn = str_at(msg, 1);
    if (!strcmp(fn, "conform::db_set"))
        db_set(str_at(msg, 2), str_at(msg, 3), aemp_array_at(msg, 4));
    else if (!strcmp(fn, "conform::db_del"))
        db_del(str_at(msg, 2), str_at(msg, 3));
    else if (!strcmp(fn, "conform::db_mon"))
        db_mon(str_at(msg, 2), str_at(msg, 3));
    else if (!strcmp(fn, "g_chg1"))
        g_chg1(msg);
    else if (!strcmp(fn, "g_chg2"))
        g_chg2(msg);
    /* g_global and the rest: nothing a normal node answers */
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: conform_fake_slave PORT SECRET FAULT SEED\n");
        return 2;
    }
    F.fault = argv[3];
    size_t i = 0;
    while (faults[i] && strcmp(faults[i], F.fault))
        i++;
    if (!faults[i]) {
        fprintf(stderr, "conform_fake_slave: bad fault %s\n", F.fault);
        return 2;
    }
    F.secret = argv[2];
    const char *colon = strrchr(argv[4], ':');
    if (!colon || (size_t)(colon - argv[4]) >= sizeof F.host ||
        strlen(colon + 1) >= sizeof F.port) {
        fprintf(stderr, "conform_fake_slave: SEED is HOST:PORT\n");
        return 2;
    }
    memcpy(F.host, argv[4], (size_t)(colon - argv[4]));
    snprintf(F.port, sizeof F.port, "%s", colon + 1);
    /* configure: db_set "'l" => $NODE => $BINDS */
    F.db = aemp_map();
    if (!fault("slave-no-l")) {
        aemp_val *l = aemp_map();
        aemp_map_set(l, SELF,
                     aemp_arrayv(aemp_strf("127.0.0.1:%s", argv[1]), NULL));
        aemp_map_set(F.db, "'l", l);
    }
    printf("ready\n");
    fflush(stdout);
    if (fault("no-connect"))
        for (;;)
            nap(60);
    for (;;) {
        if (!F.up)
            connect_master();
        aemp_val *m = NULL;
        int r = cf_recv_match(&F.c, NULL, NULL, 1, &m, NULL);
        if (r == CF_GOT)
            handle(m);
        aemp_unref(m);
        if (r == CF_GOT || r == CF_TIMEOUT)
            continue;
        /* the master is gone */
        cf_close(&F.c);
        F.up = 0;
        if (fault("no-reconnect"))
            for (;;)
                nap(60);
        nap(0.2);
    }
}
