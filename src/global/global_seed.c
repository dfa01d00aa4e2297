/* libaemp: the global (seed) node's side of the global protocol, as
 * AnyEvent::MP::Global does it.
 *
 * A global node keeps one shard per node (what that node set, LOCAL_DBS)
 * and their merge (GLOBAL_DB). Its slaves send their whole database with
 * g_slave and changes with g_upd; it answers g_find and the g_db_*
 * queries, feeds g_mon1 monitors with g_chg1/g_chg2, forwards what its
 * slaves change to the other global nodes, and exchanges g_set with
 * them. The node itself is its own master and slave, so its own database
 * takes part like any other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "global.h"
#include "global_int.h"
#include "value_int.h"

/* ---- small helpers over maps of maps ---- */

static aemp_val *map_child(aemp_val *m, const char *key)
{
    aemp_val *c = aemp_map_get(m, key);
    if (!c) {
        c = aemp_map();
        aemp_map_set(m, key, c);
    }
    return c;
}

static int is_slave(const aemp_global *g, const char *node)
{
    return aemp_map_get(g->slaves, node) != NULL;
}

static void snd_node(aemp_node *n, const char *node, aemp_val *msg)
{
    aemp_snd(n, node, msg);
}

/* ---- g_upd: the merge ---- */

/* ---- which shards hold a key ----
 *
 * On a delete the merge falls back to another shard holding the key.
 * Looking in every node's shard costs a lookup per node (thousands on a
 * busy seed) for each delete; holders answers from the few that hold it.
 * A key's holders are kept in the order they first set it: the node's id
 * (a string) while there is one, the common case, so that a key set and
 * deleted costs no map of its own; a map node -> null past that. */

static void holders_add(aemp_global *g, const char *family, aemp_val *key,
                        aemp_val *node_val)
{
    const char *node = aemp_str_ptr(node_val, NULL);
    size_t klen;
    const char *kp = aemp_str_ptr(key, &klen);
    aemp_val *keys = map_child(g->holders, family);
    aemp_val *nodes = aemp_map_getn(keys, kp, klen);
    if (!nodes) {
        aempi_map_set_kv(keys, aemp_ref(key), aemp_ref(node_val));
        return;
    }
    if (aemp_type_of(nodes) == AEMP_STRING) {
        const char *only = aemp_str_ptr(nodes, NULL);
        if (!strcmp(only, node))
            return;
        aemp_val *m = aemp_map();
        aemp_map_set(m, only, aemp_null());
        aemp_map_setn(keys, kp, klen, m); /* drops the string */
        nodes = m;
    }
    if (!aemp_map_get(nodes, node))
        aemp_map_set(nodes, node, aemp_null());
}

/* 1 if no shard holds the key any more (nothing for shard_with to
 * find: the common delete looks no further). */
static int holders_del(aemp_global *g, const char *family, const char *key,
                       size_t klen, const char *node)
{
    aemp_val *keys = aemp_map_get(g->holders, family);
    aemp_val *nodes = aemp_map_getn(keys, key, klen);
    int none = 0;
    if (aemp_type_of(nodes) == AEMP_STRING) {
        if (!strcmp(aemp_str_ptr(nodes, NULL), node))
            none = aemp_map_del(keys, key, klen);
    } else {
        aemp_map_del(nodes, node, strlen(node));
        if (nodes && !aemp_map_len(nodes))
            none = aemp_map_del(keys, key, klen);
    }
    if (keys && !aemp_map_len(keys))
        aemp_map_del(g->holders, family, strlen(family));
    return none;
}

/* The first node whose shard of family has key, among slaves (want_slave)
 * or among global nodes; *any is set if some shard has it at all. */
static const char *shard_with(aemp_global *g, const char *family,
                              const char *key, size_t klen, int want_slave,
                              int *any)
{
    const aemp_val *nodes =
        aemp_map_getn(aemp_map_get(g->holders, family), key, klen);
    if (aemp_type_of(nodes) == AEMP_STRING) {
        const char *node = aemp_str_ptr(nodes, NULL);
        *any = 1;
        return !!is_slave(g, node) == !!want_slave ? node : NULL;
    }
    for (size_t i = 0; i < aemp_map_len(nodes); i++) {
        const char *node = aemp_map_key_at(nodes, i, NULL);
        *any = 1;
        if (!!is_slave(g, node) == !!want_slave)
            return node;
    }
    return NULL;
}

/* A map the merge may change: set starts as the message's own map,
 * borrowed, and is copied on the first change (most ops never change
 * it). */
static aemp_val *own_map(aemp_val **m, int *owned)
{
    if (!*owned) {
        aemp_val *c = *m ? aemp_copy(*m) : aemp_map();
        aemp_unref(*m);
        *m = c;
        *owned = 1;
    }
    return *m;
}

/* A deleted key for a reply: the message's string itself, or, for a
 * bignum's digits, a plain string of them, as before */
static aemp_val *del_key(aemp_val *kv, const char *k, size_t klen)
{
    return kv->big ? aemp_strn(k, klen) : aemp_ref(kv);
}

static aemp_val *lazy(aemp_val **v, aemp_val *(*make)(void))
{
    if (!*v)
        *v = make();
    return *v;
}

/* The global's frame cache, emptied for the next message; a local one
 * while it is in use (a send that fails at once may run a node-down
 * hook that merges again, inside this one). */
static aemp_frame_cache *cache_take(aemp_global *g, aemp_frame_cache *local)
{
    if (g->cache_busy) {
        *local = (aemp_frame_cache){{AEMP_BUF_INIT, AEMP_BUF_INIT}};
        return local;
    }
    g->cache_busy = 1;
    return &g->cache;
}

/* What the kept frame cache may hold on to between ops: the frames of a
 * churn are small; a large one (a g_set's family) is not kept. */
#define CACHE_KEEP (64 * 1024)

static void cache_give(aemp_global *g, aemp_frame_cache *c)
{
    if (c == &g->cache) {
        /* the memory stays for the next op: a frame per op otherwise
         * costs a malloc and a free per framing */
        for (int i = 0; i < 2; i++) {
            if (c->enc[i].cap > CACHE_KEEP)
                aempi_buf_free(&c->enc[i]);
            else
                aempi_buf_reset(&c->enc[i]);
        }
        g->cache_busy = 0;
    } else
        aempi_frame_cache_free(c);
}

/* The kernel's entries of the nodes in mons (the family's monitors), as
 * the last fan-out found them if nothing has changed since, or looked
 * up now; NULL (send by name) while in use or without memory. */
static aemp_remote **targets_take(aemp_node *n, aemp_global *g,
                                  const aemp_val *mons)
{
    size_t len = aemp_map_len(mons);
    if (g->targets.busy)
        return NULL; /* a merge inside a send: see cache_take */
    if (g->targets.mons != mons || g->targets.gmon_gen != g->gmon_gen ||
        g->targets.remote_epoch != n->remote_epoch || g->targets.len != len) {
        if (len > g->targets.cap) {
            aemp_remote **r = realloc(g->targets.r, len * sizeof *r);
            if (!r)
                return NULL;
            g->targets.r = r;
            g->targets.cap = len;
        }
        for (size_t i = 0; i < len; i++)
            g->targets.r[i] =
                aempi_kernel_shared_target(n, aemp_map_key_at(mons, i, NULL));
        g->targets.mons = mons;
        g->targets.gmon_gen = g->gmon_gen;
        g->targets.remote_epoch = n->remote_epoch;
        g->targets.len = len;
    }
    g->targets.busy = 1;
    return g->targets.r;
}

/* The family's name as a string value for a map key or a message: the
 * caller's own, referenced, where it is the same string (a malloc, a
 * copy and a UTF-8 check fewer per op); else one made of its bytes up to
 * the first NUL, as by name. */
static aemp_val *family_val(aemp_val *famv, const char *family, size_t flen)
{
    size_t len;
    aemp_str_ptr(famv, &len);
    return !famv->big && len == flen ? aemp_ref(famv)
                                     : aemp_strn(family, flen);
}

void aempi_gseed_upd(aemp_node *n, const char *node, aemp_val *famv,
                     const aemp_val *set_in, const aemp_val *del)
{
    aemp_global *g = global_of(n);
    const char *family = aemp_str_ptr(famv, NULL);
    size_t nlen = strlen(node), flen = strlen(family);
    aemp_val *shard = map_child(g->local_dbs, node);
    aemp_val *ldb = aemp_map_getn(shard, family, flen);
    if (!ldb) {
        ldb = aemp_map();
        aempi_map_set_kv(shard, family_val(famv, family, flen), ldb);
    }
    /* the keys and the node's id are shared among the maps that hold
     * them, not copied into each: a seed holds a few of each per node */
    aemp_val *node_val = aempi_map_key_val(g->local_dbs, node, nlen);
    aemp_val *gdb = map_child(g->global_db, family);
    const int slave = is_slave(g, node);
    /* the message's values go into the database as they are: values do
     * not change once made (the reader shares its strings too) */
    int set_owned = 0;
    aemp_val *set = set_in && aemp_type_of(set_in) == AEMP_MAP
                        ? aemp_ref((aemp_val *)set_in)
                        : NULL;
    /* made only when a delete needs them */
    aemp_val *local_set = NULL, *del_local = NULL, *del_global = NULL;

    for (size_t i = 0; i < aemp_map_len(set); i++) {
        aemp_val *k = aempi_map_key_val_at(set, i);
        aemp_val *v = aemp_map_value_at(set, i);
        aempi_map_set_kv(ldb, aemp_ref(k), aemp_ref(v));
        aempi_map_set_kv(gdb, aemp_ref(k), aemp_ref(v));
        holders_add(g, family, k, node_val);
    }

    for (size_t i = 0; i < aemp_array_len(del); i++) {
        aemp_val *kv = aemp_array_at(del, i);
        size_t klen;
        const char *k = aemp_str_ptr(kv, &klen);
        if (!k)
            continue;
        int none = aemp_map_del(ldb, k, klen) &&
                   holders_del(g, family, k, klen, node);
        int any = 0;
        const char *slave_with =
            none ? NULL : shard_with(g, family, k, klen, 1, &any);
        if (slave_with) {
            /* a slave's shard still has it: that value wins */
            aemp_val *v = aemp_map_getn(
                aemp_map_get(aemp_map_get(g->local_dbs, slave_with), family),
                k, klen);
            if (!aempi_global_sv_eq(aemp_map_getn(gdb, k, klen), v)) {
                aemp_map_setn(own_map(&set, &set_owned), k, klen,
                              aemp_ref(v));
                aemp_map_setn(gdb, k, klen, aemp_ref(v));
            }
        } else if (any) {
            /* only another global's shard has it */
            const char *global = shard_with(g, family, k, klen, 0, &any);
            aemp_val *v = aemp_map_getn(
                aemp_map_get(aemp_map_get(g->local_dbs, global), family), k,
                klen);
            aemp_array_push(lazy(&del_global, aemp_array),
                            del_key(kv, k, klen));
            if (!aempi_global_sv_eq(aemp_map_getn(gdb, k, klen), v)) {
                aemp_map_setn(lazy(&local_set, aemp_map), k, klen,
                              aemp_ref(v));
                aemp_map_setn(gdb, k, klen, aemp_ref(v));
            }
        } else {
            aemp_map_del(gdb, k, klen);
            aemp_array_push(lazy(&del_local, aemp_array), del_key(kv, k, klen));
            if (slave)
                aemp_array_push(lazy(&del_global, aemp_array),
                            del_key(kv, k, klen));
        }
    }

    if (!aemp_map_len(gdb))
        aemp_map_del(g->global_db, family, flen);
    if (!aemp_map_len(ldb))
        aemp_map_del(shard, family, flen);

    /* our slaves' changes go to the other global nodes */
    if (slave && (aemp_map_len(set) || aemp_array_len(del_global)) &&
        g->global_nodes.count) {
        /* one message for all: sending does not change it, and set is
         * copied, as it may change below */
        aemp_val *upd = aemp_arrayv(
            aemp_str("g_upd"), aemp_str(family),
            set ? aemp_copy(set) : aemp_map(),
            del_global ? aemp_ref(del_global) : aemp_array(), NULL);
        aemp_frame_cache local, *cache = cache_take(g, &local);
        for (aemp_dict_entry *e = aempi_dict_next(&g->global_nodes, NULL); e;
             e = aempi_dict_next(&g->global_nodes, e))
            aempi_kernel_snd_node_shared(n, e->key, upd, cache);
        cache_give(g, cache);
        aemp_unref(upd);
    }

    /* and every change to the family's monitors */
    aemp_val *mons = aemp_map_get(g->gmon, family);
    if (aemp_map_len(mons) && (aemp_map_len(set) || aemp_map_len(local_set) ||
                               aemp_array_len(del_local))) {
        for (size_t i = 0; i < aemp_map_len(local_set); i++) {
            size_t klen;
            const char *k = aemp_map_key_at(local_set, i, &klen);
            aemp_map_setn(own_map(&set, &set_owned), k, klen,
                          aemp_ref(aemp_map_value_at(local_set, i)));
        }
        aemp_val *chg = aemp_arrayv(
            aemp_ref(g->s_chg2 ? g->s_chg2 : (g->s_chg2 = aemp_str("g_chg2"))),
            family_val(famv, family, flen),
            set ? aemp_ref(set) : aemp_map(),
            del_local ? aemp_ref(del_local) : aemp_array(), NULL);
        /* every monitor gets the same bytes: encoded once per framing */
        aemp_frame_cache local, *cache = cache_take(g, &local);
        aemp_remote **targets = n->trace ? NULL : targets_take(n, g, mons);
        const uint64_t gen = g->gmon_gen;
        g->count.changes++;
        g->count.fanout += aemp_map_len(mons);
        for (size_t i = 0; i < aemp_map_len(mons); i++) {
            const char *id = aemp_map_key_at(mons, i, NULL);
            /* a send that closes a link may change gmon: by name then */
            if (targets && gen == g->gmon_gen)
                aempi_kernel_snd_remote_shared(n, targets[i], id, chg, cache);
            else
                aempi_kernel_snd_node_shared(n, id, chg, cache);
        }
        if (targets)
            g->targets.busy = 0;
        cache_give(g, cache);
        aemp_unref(chg);
    }
    aemp_unref(set);
    aemp_unref(local_set);
    aemp_unref(del_local);
    aemp_unref(del_global);
}

/* g_set: a node's whole database (its shard must be empty). */
static void gseed_set(aemp_node *n, const char *node, const aemp_val *db)
{
    for (size_t i = 0; i < aemp_map_len(db); i++)
        aempi_gseed_upd(n, node, aempi_map_key_val_at(db, i),
                        aemp_map_value_at(db, i), NULL);
}

/* g_clr: every key of a node goes. */
static void gseed_clr(aemp_node *n, const char *node)
{
    aemp_global *g = global_of(n);
    aemp_val *shard = aemp_ref(aemp_map_get(g->local_dbs, node));
    aemp_val *families = aemp_copy(shard);
    for (size_t i = 0; i < aemp_map_len(families); i++) {
        const aemp_val *fam = aemp_map_value_at(families, i);
        aemp_val *keys = aemp_array();
        for (size_t k = 0; k < aemp_map_len(fam); k++) {
            size_t klen;
            const char *key = aemp_map_key_at(fam, k, &klen);
            aemp_array_push(keys, aemp_strn(key, klen));
        }
        aempi_gseed_upd(n, node, aempi_map_key_val_at(families, i), NULL,
                        keys);
        aemp_unref(keys);
    }
    aemp_unref(families);
    aemp_unref(shard);
    aemp_map_del(g->local_dbs, node, strlen(node));
}

/* ---- requests to a global node ---- */

void aempi_gseed_slave(aemp_node *n, const char *node, const aemp_val *db)
{
    /* null until it monitors a family: most slaves never do, and a seed
     * has thousands */
    aemp_global *g = global_of(n);
    if (!aemp_map_get(g->slaves, node))
        aemp_map_set(g->slaves, node, aemp_null());
    gseed_set(n, node, db);
}

void aempi_gseed_req_g_slave(aemp_node *n, const char *src, aemp_val *msg)
{
    if (!global_of(n)->on)
        aempi_gseed_become(n);
    global_of(n)->count.ops[GOP_SLAVE]++;
    if (aemp_array_len(msg) < 3)
        return; /* an empty g_slave only starts the global service */
    aempi_gseed_slave(n, src, aemp_array_at(msg, 2));
}

void aempi_gseed_req_g_set(aemp_node *n, const char *src, aemp_val *msg)
{
    if (!global_of(n)->on)
        return;
    global_of(n)->count.ops[GOP_SET]++;
    const aemp_val *db = aemp_array_at(msg, 2);
    aemp_val *binds = aemp_copy(aemp_map_get(aemp_map_get(db, "'l"), src));
    gseed_set(n, src, db);
    /* mirror the other global's listeners, so globals find each other */
    aempi_gslave_set(n, "'l", src, binds);
}

void aempi_gseed_req_g_upd(aemp_node *n, const char *src, aemp_val *msg)
{
    const char *family = aemp_str_ptr(aemp_array_at(msg, 2), NULL);
    if (!global_of(n)->on || !family)
        return;
    global_of(n)->count.ops[GOP_UPD]++;
    aempi_gseed_upd(n, src, aemp_array_at(msg, 2), aemp_array_at(msg, 3),
                    aemp_array_at(msg, 4));
}

void aempi_gseed_req_g_find(aemp_node *n, const char *src, aemp_val *msg)
{
    const char *node = aemp_str_ptr(aemp_array_at(msg, 2), NULL);
    if (!global_of(n)->on || !node)
        return;
    global_of(n)->count.ops[GOP_FIND]++;
    aemp_val *addrs = aemp_map_get(aemp_map_get(global_of(n)->global_db, "'l"),
                                   node);
    snd_node(n, src, aemp_arrayv(aemp_str("g_found"), aemp_str(node),
                                 addrs ? aemp_copy(addrs) : aemp_null(),
                                 NULL));
}

/* A family's map for a reply: the database's own, referenced, where it
 * is encoded for another node (or queued for it, where like Perl's
 * reference it goes out as it is then), so that a flood of requests for
 * a large family costs no copy each; a copy for one of our own ports,
 * whose callback must not hold the live database. */
static aemp_val *family_for(aemp_node *n, const char *dst,
                            const aemp_val *fam)
{
    return strcmp(dst, n->id) ? aemp_ref((aemp_val *)fam) : aemp_copy(fam);
}

/* g_db_family / g_db_keys / g_db_values FAMILY ID */
void aempi_gseed_req_g_db(aemp_node *n, const char *src, aemp_val *msg)
{
    const char *tag = aemp_str_ptr(aemp_array_at(msg, 1), NULL);
    const char *family = aemp_str_ptr(aemp_array_at(msg, 2), NULL);
    if (!global_of(n)->on || !family)
        return;
    global_of(n)->count.ops[GOP_DB]++;
    const aemp_val *fam = aemp_map_get(global_of(n)->global_db, family);
    aemp_val *result;
    /* Perl's keys/values %{ $GLOBAL_DB{$family} } create the family, so
     * a later g_mon1 of it gets {} rather than null: the same here */
    if (!fam && strcmp(tag, "g_db_family"))
        fam = map_child(global_of(n)->global_db, family);
    if (!strcmp(tag, "g_db_family"))
        result = fam ? family_for(n, src, fam) : aemp_map();
    else {
        int keys = !strcmp(tag, "g_db_keys");
        result = aemp_array();
        for (size_t i = 0; i < aemp_map_len(fam); i++) {
            size_t klen;
            const char *k = aemp_map_key_at(fam, i, &klen);
            aemp_array_push(result, keys ? aemp_strn(k, klen)
                                         : aemp_copy(aemp_map_value_at(fam, i)));
        }
    }
    snd_node(n, src, aemp_arrayv(aemp_str("g_reply"),
                                 aemp_copy(aemp_array_at(msg, 3)), result,
                                 NULL));
}

void aempi_gseed_req_g_mon1(aemp_node *n, const char *src, aemp_val *msg)
{
    aemp_global *g = global_of(n);
    const char *family = aemp_str_ptr(aemp_array_at(msg, 2), NULL);
    if (!g->on || !family)
        return;
    g->count.ops[GOP_MON1]++;
    /* as in Perl, a monitoring node counts as a slave from now on */
    if (aemp_type_of(aemp_map_get(g->slaves, src)) != AEMP_MAP)
        aemp_map_set(g->slaves, src, aemp_map());
    aemp_map_set(aemp_map_get(g->slaves, src), family, aemp_null());
    aemp_map_set(map_child(g->gmon, family), src, aemp_null());
    g->gmon_gen++;
    const aemp_val *fam = aemp_map_get(g->global_db, family);
    snd_node(n, src, aemp_arrayv(aemp_str("g_chg1"), aemp_str(family),
                                 fam ? family_for(n, src, fam) : aemp_null(),
                                 NULL));
}

void aempi_gseed_req_g_mon0(aemp_node *n, const char *src, aemp_val *msg)
{
    aemp_global *g = global_of(n);
    const char *family = aemp_str_ptr(aemp_array_at(msg, 2), NULL);
    if (!g->on || !family)
        return;
    g->count.ops[GOP_MON0]++;
    aemp_val *mons = aemp_map_get(g->gmon, family);
    aemp_map_del(mons, src, strlen(src));
    if (mons && !aemp_map_len(mons))
        aemp_map_del(g->gmon, family, strlen(family));
    g->gmon_gen++;
    /* Perl's delete $SLAVES{$SRCNODE}{$family} makes it a slave too */
    if (!aemp_map_get(g->slaves, src))
        aemp_map_set(g->slaves, src, aemp_null());
    aemp_map_del(aemp_map_get(g->slaves, src), family, strlen(family));
}

/* ---- global nodes among themselves ---- */

/* Tell another global node what our slaves have (g_set), and note it in
 * 'g. */
static void global_connect(aemp_node *n, const char *node)
{
    aemp_global *g = global_of(n);
    aempi_gslave_set(n, "'g", node, NULL);
    aemp_val *db = aemp_map();
    for (size_t i = 0; i < aemp_map_len(g->local_dbs); i++) {
        if (!is_slave(g, aemp_map_key_at(g->local_dbs, i, NULL)))
            continue;
        const aemp_val *shard = aemp_map_value_at(g->local_dbs, i);
        for (size_t f = 0; f < aemp_map_len(shard); f++) {
            aemp_val *dst = map_child(db, aemp_map_key_at(shard, f, NULL));
            const aemp_val *src = aemp_map_value_at(shard, f);
            for (size_t k = 0; k < aemp_map_len(src); k++) {
                size_t klen;
                const char *key = aemp_map_key_at(src, k, &klen);
                aemp_map_setn(dst, key, klen,
                              aemp_ref(aemp_map_value_at(src, k)));
            }
        }
    }
    snd_node(n, node, aemp_arrayv(aemp_str("g_set"), db, NULL));
}

/* A node is gone (or turned global): its entries and monitors go. */
static void disconnect(aemp_node *n, const char *node)
{
    aemp_global *g = global_of(n);
    aempi_dict_del(&g->global_nodes, node);
    aemp_db_del(n, "'g", node);
    aemp_db_del(n, "'l", node);
    gseed_clr(n, node);
    aemp_val *mine = aemp_map_get(g->slaves, node);
    for (size_t i = 0; i < aemp_map_len(mine); i++) {
        const char *family = aemp_map_key_at(mine, i, NULL);
        aemp_val *mons = aemp_map_get(g->gmon, family);
        aemp_map_del(mons, node, strlen(node));
        if (mons && !aemp_map_len(mons))
            aemp_map_del(g->gmon, family, strlen(family));
    }
    g->gmon_gen++;
    aemp_map_del(g->slaves, node, strlen(node));
}

void aempi_gseed_req_g_global(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)msg;
    aemp_global *g = global_of(n);
    if (!g->on) {
        aempi_dict_set(&g->global_nodes, src, NULL);
        return;
    }
    disconnect(n, src);
    aempi_dict_set(&g->global_nodes, src, NULL);
    global_connect(n, src);
}

void aempi_gseed_node_event(aemp_node *n, const char *id, int up)
{
    if (!global_of(n)->on)
        return;
    if (up)
        aemp_sndv(n, id, aemp_str("g_global"), NULL);
    else
        disconnect(n, id);
    aempi_gseed_keepalive_event(n, id, up);
}

aemp_val *aempi_gseed_addresses(aemp_node *n, const char *id)
{
    return aemp_copy(aemp_map_get(aemp_map_get(global_of(n)->global_db, "'l"),
                                  id));
}

/* db_mon of 'g: keep links to every global node. */
static void on_globals(aemp_node *n, const char *family, const aemp_val *db,
                       const aemp_val *added, const aemp_val *changed,
                       const aemp_val *deleted, void *ud)
{
    (void)family;
    (void)db;
    (void)changed;
    (void)ud;
    for (size_t i = 0; i < aemp_array_len(added); i++)
        aempi_gseed_keepalive_add(n, aemp_str_ptr(aemp_array_at(added, i),
                                                  NULL));
    for (size_t i = 0; i < aemp_array_len(deleted); i++)
        aempi_gseed_keepalive_del(n, aemp_str_ptr(aemp_array_at(deleted, i),
                                                  NULL));
}

void aempi_gseed_become(aemp_node *n)
{
    aemp_global *g = global_of(n);
    if (g->on)
        return;
    g->on = 1;
    aemp_log_ctx(n, 7, LOG_KERNEL, "starting global service.");
    /* our own master: this sends our database to ourselves */
    aempi_gslave_master_set(n, n->id);
    aempi_gslave_set(n, "'g", n->id, NULL);
    aemp_val *up = aemp_up_nodes(n);
    for (size_t i = 0; i < aemp_array_len(up); i++) {
        const char *id = aemp_str_ptr(aemp_array_at(up, i), NULL);
        aemp_sndv(n, id, aemp_str("g_global"), NULL);
        if (aempi_dict_find(&g->global_nodes, id, strlen(id)))
            global_connect(n, id);
    }
    aemp_unref(up);
    aemp_db_mon(n, "'g", on_globals, NULL);
}
