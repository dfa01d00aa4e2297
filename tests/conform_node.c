/* A C node for testing caemp conform (tests/conform_faults.py), with one
 * deliberate fault switched on by its argument, so the kit is shown to
 * tell right from wrong: each fault must make exactly the check meant
 * for it fail. The faults live here, not in the library: they replace a
 * built-in node-port request (aempi_kernel_node_request_replace).
 *
 *    conform_node PORT SECRET FAULT [SEED]
 *
 * FAULT: none, time-string (time answered with a string), kil0-no-reason
 * (kil1 kills without the reason), mon0-ignored (mon0 does nothing);
 * against `caemp conform --master` (SEED its listen address):
 * slave-no-l (the node's own 'l entry deleted, so g_slave lacks it),
 * chg2-ignored (g_chg2 does nothing).
 *
 * The node provides the master group's scenario functions
 * (docs/conformance.md): conform::db_set F K V, conform::db_del F K,
 * conform::db_mon F PORT.
 *
 * A FAULT beginning with "seed" makes the node a seed (its own address
 * its seed), for caemp conform --seed: seed (no fault), seed-chg2-del
 * (a delete by g_upd is not told to monitors), seed-keys-map (g_db_keys
 * replies a map, not a list), seed-chg1-empty (g_mon1 of a family that
 * does not exist answers {}, not undef).
 * Prints "ready" when it listens, then runs until killed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "global_int.h"
#include "kernel.h"

static const char *str_at(const aemp_val *msg, size_t i)
{
    const char *s = aemp_str_ptr(aemp_array_at(msg, i), NULL);
    return s ? s : "";
}

/* ["", "time", PORT, @tag]: replies @tag and a string */
static void time_string(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)src;
    aemp_val *out = aemp_array();
    for (size_t i = 3; out && i < aemp_array_len(msg); i++)
        aemp_array_push(out, aemp_ref(aemp_array_at(msg, i)));
    aemp_array_push(out, aemp_str("half past noon"));
    aemp_snd(n, str_at(msg, 2), out);
}

/* ["", "kil1", ID, @reason]: kills ID, forgetting the reason */
static void kil1_no_reason(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)src;
    char port[300];
    snprintf(port, sizeof port, "%s#%s", aemp_node_id(n), str_at(msg, 2));
    aemp_kil(n, port, NULL);
}

static void ignore(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)n;
    (void)src;
    (void)msg;
}

static int ignore_msg(aemp_node *n, const char *port, const aemp_val *msg,
                      void *ud)
{
    (void)n;
    (void)port;
    (void)msg;
    (void)ud;
    return 0;
}

/* The init function the kit spawns ports with (MP.pm's rcv, as
 * AnyEvent::MP::_spawn ID AnyEvent::MP::rcv NODE#ID TAG undef uses it on
 * a Perl node): the spawned port exists and ignores what it gets. */
static int rcv_init(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)args;
    (void)ud;
    return aemp_rcv(n, aemp_self(n), NULL, ignore_msg, NULL) ? 1 : 0;
}

/* ---- the master group's scenario ---- */

static int sc_db_set(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)ud;
    aemp_db_set(n, str_at(args, 0), str_at(args, 1),
                aemp_ref(aemp_array_at(args, 2)));
    return 0;
}

static int sc_db_del(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)ud;
    aemp_db_del(n, str_at(args, 0), str_at(args, 1));
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static aemp_val *sorted(const aemp_val *keys)
{
    size_t n = aemp_array_len(keys);
    const char **k = calloc(n + 1, sizeof *k);
    aemp_val *a = aemp_array();
    for (size_t i = 0; k && i < n; i++)
        k[i] = str_at(keys, i);
    if (k)
        qsort(k, n, sizeof *k, cmp_str);
    for (size_t i = 0; k && a && i < n; i++)
        aemp_array_push(a, aemp_str(k[i]));
    free(k);
    return a;
}

/* reports each change to the port given: ["conform_chg", F, DB, ADDED,
 * CHANGED, DELETED], key lists sorted */
static void sc_report(aemp_node *n, const char *family, const aemp_val *db,
                      const aemp_val *added, const aemp_val *changed,
                      const aemp_val *deleted, void *ud)
{
    aemp_snd(n, ud, aemp_arrayv(aemp_str("conform_chg"), aemp_str(family),
                                aemp_ref((aemp_val *)db), sorted(added),
                                sorted(changed), sorted(deleted), NULL));
}

static int sc_db_mon(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)ud;
    /* the port outlives the node's run: kept until exit */
    char *port = strdup(str_at(args, 1));
    aemp_db_mon(n, str_at(args, 0), sc_report, port);
    return 0;
}

/* ---- the seed group's faults ---- */

/* g_upd FAMILY SET DEL, with the family's monitors (Global.pm's
 * $GLOBAL_MON{FAMILY}) set aside while a delete is applied: they are not
 * told of it */
static void upd_quiet_delete(aemp_node *n, const char *src, aemp_val *msg)
{
    aemp_global *g = global_of(n);
    const char *family = str_at(msg, 2);
    aemp_val *mons = NULL;
    if (aemp_array_len(aemp_array_at(msg, 4))) {
        mons = aemp_ref(aemp_map_get(g->gmon, family));
        aemp_map_del(g->gmon, family, strlen(family));
    }
    aempi_gseed_req_g_upd(n, src, msg);
    if (mons)
        aemp_map_set(g->gmon, family, mons);
}

/* g_db_keys FAMILY ID: replies the family itself, a map */
static void keys_as_map(aemp_node *n, const char *src, aemp_val *msg)
{
    const aemp_val *fam = aemp_map_get(global_of(n)->global_db, str_at(msg, 2));
    aemp_snd(n, src, aemp_arrayv(aemp_str("g_reply"),
                                 aemp_copy(aemp_array_at(msg, 3)),
                                 fam ? aemp_copy(fam) : aemp_map(), NULL));
}

/* g_mon1 FAMILY: a family that does not exist is made, empty, first */
static void mon1_empty(aemp_node *n, const char *src, aemp_val *msg)
{
    aemp_global *g = global_of(n);
    if (!aemp_map_get(g->global_db, str_at(msg, 2)))
        aemp_map_set(g->global_db, str_at(msg, 2), aemp_map());
    aempi_gseed_req_g_mon1(n, src, msg);
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: conform_node PORT SECRET FAULT [SEED]\n");
        return 2;
    }
    struct event_base *base = event_base_new();
    aemp_node *n = aemp_node_new(base);
    aemp_val *args = aemp_map();
    aemp_map_set(args, "norc", aemp_int(1));
    aemp_map_set(args, "nodeid", aemp_str("conform-test-node"));
    aemp_map_set(args, "secret", aemp_str(argv[2]));
    /* cleartext listed, so the kit's cleartext check runs too */
    aemp_map_set(args, "auth_accept", aemp_arrayv(aemp_str("hmac_sha3_512"),
                                                  aemp_str("cleartext"),
                                                  NULL));
    aemp_map_set(args, "binds",
                 aemp_arrayv(aemp_strf("127.0.0.1:%s", argv[1]), NULL));
    if (argc == 5)
        aemp_map_set(args, "seeds", aemp_arrayv(aemp_str(argv[4]), NULL));
    else if (!strncmp(argv[3], "seed", 4))
        aemp_map_set(args, "seeds",
                     aemp_arrayv(aemp_strf("127.0.0.1:%s", argv[1]), NULL));
    if (!n || aemp_node_configure(n, args, NULL)) {
        fprintf(stderr, "conform_node: %s\n", aemp_node_errmsg(n));
        return 1;
    }
    aemp_unref(args);
    aemp_func_register(n, "AnyEvent::MP::rcv", rcv_init, NULL);
    aemp_func_register(n, "conform::db_set", sc_db_set, NULL);
    aemp_func_register(n, "conform::db_del", sc_db_del, NULL);
    aemp_func_register(n, "conform::db_mon", sc_db_mon, NULL);

    const char *fault = argv[3];
    int r = 0;
    if (!strcmp(fault, "time-string"))
        r = aempi_kernel_node_request_replace(n, "time", time_string);
    else if (!strcmp(fault, "kil0-no-reason"))
        r = aempi_kernel_node_request_replace(n, "kil1", kil1_no_reason);
    else if (!strcmp(fault, "mon0-ignored"))
        r = aempi_kernel_node_request_replace(n, "mon0", ignore);
    else if (!strcmp(fault, "slave-no-l"))
        r = aemp_db_del(n, "'l", aemp_node_id(n));
    else if (!strcmp(fault, "chg2-ignored"))
        r = aempi_kernel_node_request_replace(n, "g_chg2", ignore);
    else if (!strcmp(fault, "seed-chg2-del"))
        r = aempi_kernel_node_request_replace(n, "g_upd", upd_quiet_delete);
    else if (!strcmp(fault, "seed-keys-map"))
        r = aempi_kernel_node_request_replace(n, "g_db_keys", keys_as_map);
    else if (!strcmp(fault, "seed-chg1-empty"))
        r = aempi_kernel_node_request_replace(n, "g_mon1", mon1_empty);
    else if (strcmp(fault, "none") && strcmp(fault, "seed"))
        r = -1;
    if (r) {
        fprintf(stderr, "conform_node: bad fault %s\n", fault);
        return 2;
    }
    printf("ready\n");
    fflush(stdout);
    event_base_dispatch(base);
    aemp_node_free(n);
    event_base_free(base);
    return 0;
}
