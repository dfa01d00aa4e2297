/* libaemp: the global protocol as a normal node speaks it (Kernel.pm's
 * second half): the node's own database, its master (the first seed that
 * is up), requests that wait for a master and go again to each new one,
 * queries answered by g_reply, database monitors fed by g_chg1/g_chg2,
 * and g_find for the addresses of nodes we have not met. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "global.h"
#include "global_int.h"
#include "value_int.h"

/* ---- life cycle ---- */

aemp_global *aempi_global_new(void)
{
    aemp_global *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->local_db = aemp_map();
    g->requests = aemp_map();
    g->mon_db = aemp_map();
    g->global_db = aemp_map();
    g->local_dbs = aemp_map();
    g->holders = aemp_map();
    g->slaves = aemp_map();
    g->gmon = aemp_map();
    g->keepalive = aemp_map();
    g->down = aemp_map();
    strcpy(g->res_id, "a");
    if (g->local_db && g->requests && g->mon_db && g->global_db &&
        g->local_dbs && g->holders && g->slaves && g->gmon && g->keepalive &&
        g->down)
        return g;
    aempi_global_state_free(g);
    return NULL;
}

static void handle_free(db_handle *h)
{
    free(h->family);
    free(h->key);
    free(h);
}

void aempi_global_state_free(aemp_global *g)
{
    if (!g)
        return;
    aempi_gseed_free(g);
    aemp_unref(g->local_db);
    aemp_unref(g->requests);
    aemp_unref(g->mon_db);
    free(g->master);
    for (aemp_dict_entry *e = aempi_dict_next(&g->replies, NULL); e;
         e = aempi_dict_next(&g->replies, e)) {
        db_reply *r = e->value;
        free(r->family);
        free(r);
    }
    aempi_dict_clear(&g->replies);
    for (aemp_dict_entry *e = aempi_dict_next(&g->handles, NULL); e;
         e = aempi_dict_next(&g->handles, e))
        handle_free(e->value);
    aempi_dict_clear(&g->handles);
    while (g->mons) {
        db_monitor *next = g->mons->next;
        free(g->mons->family);
        free(g->mons);
        g->mons = next;
    }
    aempi_dict_clear(&g->global_nodes);
    free(g);
}

int aempi_global_is_on(const aemp_node *n)
{
    const aemp_global *g = global_of(n);
    return g && g->on;
}

const char *aemp_node_master(const aemp_node *n)
{
    const aemp_global *g = n ? global_of(n) : NULL;
    return g ? g->master : NULL;
}

/* ---- values as Perl compares them ---- */

int aempi_global_sv_eq(const aemp_val *a, const aemp_val *b)
{
    aemp_type ta = aemp_type_of(a), tb = aemp_type_of(b);
    int ra = ta == AEMP_ARRAY || ta == AEMP_MAP;
    int rb = tb == AEMP_ARRAY || tb == AEMP_MAP;
    if (ra || rb)
        return aemp_equal(a, b);
    if ((ta == AEMP_NULL) != (tb == AEMP_NULL))
        return 0;
    char *sa = aempi_config_perl_str(a), *sb = aempi_config_perl_str(b);
    int eq = sa && sb && !strcmp(sa, sb);
    free(sa);
    free(sb);
    return eq;
}

/* ---- the master and its requests ---- */

static void to_master(aemp_node *n, aemp_val *msg)
{
    if (global_of(n)->master)
        aemp_snd(n, global_of(n)->master, msg);
    else
        aemp_unref(msg);
}

/* global_req_add: remembered until answered, sent to every new master. */
static void req_add(aemp_node *n, const char *id, aemp_val *req)
{
    aemp_global *g = global_of(n);
    if (!req || aemp_map_get(g->requests, id)) {
        aemp_unref(req);
        return;
    }
    aemp_map_set(g->requests, id, aemp_ref(req));
    to_master(n, req);
}

static void req_del(aemp_node *n, const char *id)
{
    aemp_map_del(global_of(n)->requests, id, strlen(id));
}

/* g_slave {LOCAL_DB} to the new master. A global node is its own master:
 * Perl's send to itself runs at once, so its shard is in place before it
 * tells any other global what its slaves have (g_set). That includes its
 * own 'l, which the other mirrors: from the queue, a g_set could go first
 * without it, and the other would mirror null. */
static void send_slave(aemp_node *n, const char *master)
{
    aemp_val *db = aemp_copy(global_of(n)->local_db);
    if (strcmp(master, n->id))
        aemp_sndv(n, master, aemp_str("g_slave"), db, NULL);
    else {
        aempi_gseed_slave(n, master, db);
        aemp_unref(db);
    }
}

void aempi_gslave_master_set(aemp_node *n, const char *id)
{
    aemp_global *g = global_of(n);
    free(g->master);
    g->master = strdup(id);
    g->searching = 0;
    aemp_log_ctx(n, 8, LOG_KERNEL, "new master node: %s.", id);
    send_slave(n, id);
    for (size_t i = 0; i < aemp_map_len(g->requests); i++)
        aemp_snd(n, id, aemp_ref(aemp_map_value_at(g->requests, i)));
}

static void master_search(aemp_node *n)
{
    aemp_log_ctx(n, 9, LOG_KERNEL, "starting search for master node.");
    for (size_t i = 0; i < n->nseeds; i++) {
        const char *id = n->seeds[i].nodeid;
        if (id && aemp_node_is_up(n, id) == 1) {
            aempi_gslave_master_set(n, id);
            return;
        }
    }
    global_of(n)->searching = 1;
}

void aempi_global_seed_greeted(aemp_node *n, const char *rnode)
{
    /* also start the global service there, in case it is not running */
    aemp_sndv(n, rnode, aemp_str("g_slave"), NULL);
}

void aempi_global_node_event(aemp_node *n, const char *id, int up)
{
    aemp_global *g = global_of(n);
    if (!up)
        aempi_dict_del(&g->global_nodes, id);
    if (up && aempi_kernel_is_seed_node(n, id))
        aemp_sndv(n, id, aemp_str("g_slave"), NULL);
    if (!up && g->master && !strcmp(g->master, id)) {
        free(g->master);
        g->master = NULL;
        master_search(n);
    } else if (up && g->searching && aempi_kernel_is_seed_node(n, id)) {
        aempi_gslave_master_set(n, id);
    }
    aempi_gseed_node_event(n, id, up);
}

void aempi_global_start(aemp_node *n)
{
    /* our listeners, for others to find us */
    aemp_val *fam = aemp_map();
    aemp_map_set(fam, n->id, aemp_ref(n->binds));
    aemp_map_set(global_of(n)->local_db, "'l", fam);
    master_search(n);
}

void aempi_global_find(aemp_node *n, const char *id)
{
    char key[512];
    snprintf(key, sizeof key, "g_find %s", id);
    req_add(n, key, aemp_arrayv(aemp_str("g_find"), aemp_str(id), NULL));
}

void aempi_global_req_g_found(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)src;
    const char *id = aemp_str_ptr(aemp_array_at(msg, 2), NULL);
    if (!id)
        return;
    char key[512];
    snprintf(key, sizeof key, "g_find %s", id);
    req_del(n, key);
    aemp_remote *r = aempi_kernel_remote_get(n, id, 0);
    const aemp_val *addrs = aemp_array_at(msg, 3);
    if (!r)
        return;
    /* undef (unknown node) reads as an empty list in Perl's connect_to
     * (no strict refs there): "no known address" at once */
    if (aemp_type_of(addrs) == AEMP_ARRAY)
        aempi_kernel_remote_connect_to(r, addrs);
    else {
        aemp_val *none = aemp_array();
        aempi_kernel_remote_connect_to(r, none);
        aemp_unref(none);
    }
}

/* ---- the local database ---- */

static aemp_db_handle handle_new(aemp_node *n, const char *family,
                                 const char *key)
{
    const aemp_db_handle none = {0};
    aemp_global *g = global_of(n);
    db_handle *h = calloc(1, sizeof *h);
    if (!h || !(h->family = strdup(family)) || !(h->key = strdup(key))) {
        if (h)
            handle_free(h);
        return none;
    }
    char id[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long)++g->next_handle);
    if (aempi_dict_set(&g->handles, id, h)) {
        handle_free(h);
        return none;
    }
    return (aemp_db_handle){g->next_handle};
}

static int valid_name(const char *s)
{
    return s && *s;
}

int aempi_gslave_set(aemp_node *n, const char *family, const char *key,
                     aemp_val *value)
{
    aemp_global *g = global_of(n);
    if (!valid_name(family) || !key) {
        aemp_unref(value);
        return AEMP_EINVAL;
    }
    if (!value)
        value = aemp_null();
    aemp_val *fam = aemp_map_get(g->local_db, family);
    if (!fam) {
        fam = aemp_map();
        aemp_map_set(g->local_db, family, fam);
    }
    aemp_val *old = aemp_map_get(fam, key);
    if (!old || !aempi_global_sv_eq(old, value)) {
        aemp_map_set(fam, key, aemp_ref(value));
        aemp_val *set = aemp_map();
        aemp_map_set(set, key, aemp_ref(value));
        to_master(n, aemp_arrayv(aemp_str("g_upd"), aemp_str(family), set,
                                 NULL));
    }
    aemp_unref(value);
    return AEMP_OK;
}

aemp_db_handle aemp_db_set(aemp_node *n, const char *family, const char *key,
                           aemp_val *value)
{
    const aemp_db_handle none = {0};
    if (!n || aempi_kernel_check_family(n, family) ||
        aempi_kernel_check_key(n, key)) {
        aemp_unref(value);
        return none;
    }
    if (aempi_gslave_set(n, family, key, value))
        return none;
    return handle_new(n, family, key);
}

int aemp_db_del(aemp_node *n, const char *family, const char *key)
{
    if (!n || aempi_kernel_check_family(n,
                                        family) || aempi_kernel_check_key(n,
                                                                          key))
        return AEMP_EINVAL;
    aemp_val *fam = aemp_map_get(global_of(n)->local_db, family);
    if (!fam || !aemp_map_del(fam, key, strlen(key)))
        return AEMP_OK;
    to_master(n, aemp_arrayv(aemp_str("g_upd"), aemp_str(family), aemp_null(),
                             aemp_arrayv(aemp_str(key), NULL), NULL));
    return AEMP_OK;
}

static db_handle *handle_get(aemp_node *n, uint64_t id, int take)
{
    char key[24];
    snprintf(key, sizeof key, "%llu", (unsigned long long)id);
    return take ? aempi_dict_del(&global_of(n)->handles, key)
                : aempi_dict_get(&global_of(n)->handles, key);
}

void aemp_db_release(aemp_node *n, aemp_db_handle id)
{
    if (!n)
        return;
    db_handle *h = handle_get(n, id.id, 1);
    if (!h)
        return;
    if (h->mon.id)
        aemp_mon_cancel(n, h->mon);
    aemp_db_del(n, h->family, h->key);
    handle_free(h);
}

/* db_reg: the registered port died, its entry goes. */
static void reg_port_died(aemp_node *n, const char *port,
                          const aemp_val *reason, void *ud)
{
    (void)reason;
    db_handle *h = handle_get(n, (uint64_t)(uintptr_t)ud, 0);
    if (!h)
        return;
    h->mon = (aemp_port_mon_id){0};
    aemp_db_del(n, h->family, port);
}

aemp_db_handle aemp_db_reg(aemp_node *n, const char *family, const char *port,
                           aemp_val *value)
{
    if (n && !port)
        port = n->self; /* as Perl's db_reg without a port */
    if (!n || aempi_kernel_check_port(n, port)) {
        aemp_unref(value);
        return (aemp_db_handle){0};
    }
    aemp_db_handle id = aemp_db_set(n, family, port, value);
    db_handle *h = id.id ? handle_get(n, id.id, 0) : NULL;
    if (h)
        h->mon = aemp_mon(n, port, reg_port_died, (void *)(uintptr_t)id.id);
    return id;
}

/* ---- queries ---- */

static void run_reply(aemp_node *n, aemp_job *job)
{
    db_reply *r = aempi_dict_del(&global_of(n)->replies, job->name);
    if (!r)
        return;
    r->cb(n, r->family, job->val, r->ud);
    free(r->family);
    free(r);
}

void aempi_global_req_g_reply(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)src;
    const char *id = aemp_str_ptr(aemp_array_at(msg, 2), NULL);
    if (!id)
        return;
    req_del(n, id);
    if (aempi_dict_get(&global_of(n)->replies, id))
        aempi_kernel_queue_call(n, run_reply, id, aemp_ref(aemp_array_at(msg,
                                                                         3)),
                                0);
}

static int global_call(aemp_node *n, const char *tag, const char *family,
                       aemp_db_reply_cb cb, void *ud)
{
    if (!n || aempi_kernel_check_family(n, family))
        return AEMP_EINVAL;
    if (!cb) /* tag: "g_db_family" for aemp_db_family */
        return aempi_kernel_refuse(n, "aemp_%s: no callback", tag + 2);
    aemp_global *g = global_of(n);
    db_reply *r = calloc(1, sizeof *r);
    if (!r || !(r->family = strdup(family))) {
        free(r);
        return AEMP_ENOMEM;
    }
    r->cb = cb;
    r->ud = ud;
    aempi_kernel_string_increment(g->res_id, sizeof g->res_id);
    if (aempi_dict_set(&g->replies, g->res_id, r)) {
        free(r->family);
        free(r);
        return AEMP_ENOMEM;
    }
    req_add(n, g->res_id,
            aemp_arrayv(aemp_str(tag), aemp_str(family), aemp_str(g->res_id),
                        NULL));
    return AEMP_OK;
}

int aemp_db_family(aemp_node *n, const char *family, aemp_db_reply_cb cb,
                   void *ud)
{
    return global_call(n, "g_db_family", family, cb, ud);
}

int aemp_db_keys(aemp_node *n, const char *family, aemp_db_reply_cb cb,
                 void *ud)
{
    return global_call(n, "g_db_keys", family, cb, ud);
}

int aemp_db_values(aemp_node *n, const char *family, aemp_db_reply_cb cb,
                   void *ud)
{
    return global_call(n, "g_db_values", family, cb, ud);
}

/* ---- monitors ---- */

static db_monitor *mon_find(aemp_global *g, uint64_t id)
{
    for (db_monitor *m = g->mons; m; m = m->next)
        if (m->id == id)
            return m;
    return NULL;
}

/* Calls every active monitor of family; callbacks may cancel monitors. */
static void notify(aemp_node *n, const char *family, aemp_val *added,
                   aemp_val *changed, aemp_val *deleted)
{
    aemp_global *g = global_of(n);
    aemp_val *db = aemp_ref(aemp_map_get(g->mon_db, family));
    /* the ids first: a callback may cancel monitors, its own or others */
    size_t count = 0;
    for (db_monitor *m = g->mons; m; m = m->next)
        count++;
    uint64_t few[8];
    uint64_t *ids = count <= 8 ? few : calloc(count, sizeof *ids);
    size_t k = 0;
    for (db_monitor *m = g->mons; ids && m; m = m->next)
        if (m->active && !strcmp(m->family, family))
            ids[k++] = m->id;
    for (size_t i = 0; i < k; i++) {
        db_monitor *m = mon_find(g, ids[i]);
        if (m)
            m->cb(n, family, db, added, changed, deleted, m->ud);
    }
    if (ids != few)
        free(ids);
    aemp_unref(db);
}

static aemp_val *keys_of(const aemp_val *map)
{
    aemp_val *keys = aemp_array();
    for (size_t i = 0; keys && i < aemp_map_len(map); i++) {
        size_t len;
        const char *k = aemp_map_key_at(map, i, &len);
        aemp_array_push(keys, aemp_strn(k, len));
    }
    return keys;
}

static void run_activate(aemp_node *n, aemp_job *job)
{
    aemp_global *g = global_of(n);
    db_monitor *m = mon_find(g, job->id);
    aemp_val *db = aemp_map_get(g->mon_db, job->name);
    if (!m || !db)
        return; /* cancelled meanwhile */
    m->active = 1;
    aemp_val *added = keys_of(db), *none = aemp_array(), *gone = aemp_array();
    aemp_ref(db);
    m->cb(n, job->name, db, added, none, gone, m->ud);
    aemp_unref(db);
    aemp_unref(added);
    aemp_unref(none);
    aemp_unref(gone);
}

aemp_db_mon_id aemp_db_mon(aemp_node *n, const char *family,
                           aemp_db_mon_cb cb, void *ud)
{
    const aemp_db_mon_id none = {0};
    if (!n || aempi_kernel_check_family(n, family) ||
        aempi_kernel_check_cb(n, "aemp_db_mon", cb != NULL))
        return none;
    aemp_global *g = global_of(n);
    db_monitor *m = calloc(1, sizeof *m);
    if (!m || !(m->family = strdup(family))) {
        free(m);
        return none;
    }
    m->id = ++n->next_mon_id;
    m->cb = cb;
    m->ud = ud;
    m->next = g->mons;
    g->mons = m;
    if (aemp_map_get(g->mon_db, family)) {
        /* monitored already: the current state, from the event loop */
        aempi_kernel_queue_call(n, run_activate, family, NULL, m->id);
        return (aemp_db_mon_id){m->id};
    }
    m->active = 1;
    aemp_map_set(g->mon_db, family, aemp_map());
    char key[512];
    snprintf(key, sizeof key, "mon1 %s", family);
    req_add(n, key, aemp_arrayv(aemp_str("g_mon1"), aemp_str(family), NULL));
    return (aemp_db_mon_id){m->id};
}

void aemp_db_mon_cancel(aemp_node *n, aemp_db_mon_id id)
{
    if (!n)
        return;
    aemp_global *g = global_of(n);
    db_monitor **p = &g->mons;
    while (*p && (*p)->id != id.id)
        p = &(*p)->next;
    if (!*p)
        return;
    db_monitor *m = *p;
    *p = m->next;
    int others = 0;
    for (db_monitor *o = g->mons; o; o = o->next)
        others |= !strcmp(o->family, m->family);
    if (!others) {
        char key[512];
        snprintf(key, sizeof key, "mon1 %s", m->family);
        req_del(n, key);
        /* no queued request: if we have no master, nobody to tell */
        to_master(n, aemp_arrayv(aemp_str("g_mon0"), aemp_str(m->family),
                                 NULL));
        aemp_map_del(g->mon_db, m->family, strlen(m->family));
    }
    free(m->family);
    free(m);
}

/* Applies the keys of set to db: each is added or changed. */
static void apply_set(aemp_val *db, const aemp_val *set, aemp_val *added,
                      aemp_val *changed)
{
    for (size_t i = 0; i < aemp_map_len(set); i++) {
        /* the key's string is shared, not copied: values are immutable */
        aemp_val *k = aempi_map_key_val_at(set, i);
        size_t len;
        const char *kp = aemp_str_ptr(k, &len);
        aemp_array_push(aemp_map_getn(db, kp, len) ? changed : added,
                        aemp_ref(k));
        aempi_map_set_kv(db, aemp_ref(k), aemp_ref(aemp_map_value_at(set, i)));
    }
}

/* g_chg1 FAMILY {full} (everything the master has: what is missing is
 * deleted) or g_chg2 FAMILY {set} [deleted] (a change). */
static void run_change(aemp_node *n, aemp_job *job, int full)
{
    aemp_val *db = aemp_map_get(global_of(n)->mon_db, job->name);
    if (!db)
        return;
    const aemp_val *set = aemp_array_at(job->val, 3);
    aemp_val *added = aemp_array(), *changed = aemp_array();
    aemp_val *deleted = aemp_array();
    apply_set(db, set, added, changed);
    if (full) {
        for (size_t i = aemp_map_len(db); i-- > 0;) {
            size_t len;
            const char *k = aemp_map_key_at(db, i, &len);
            if (!aemp_map_getn(set, k, len)) {
                aemp_array_push(deleted, aemp_strn(k, len));
                aemp_map_del(db, k, len);
            }
        }
    } else {
        const aemp_val *del = aemp_array_at(job->val, 4);
        for (size_t i = 0; i < aemp_array_len(del); i++) {
            size_t len;
            const char *k = aemp_str_ptr(aemp_array_at(del, i), &len);
            if (k)
                aemp_map_del(db, k, len);
            aemp_array_push(deleted, aemp_ref(aemp_array_at(del, i)));
        }
    }
    notify(n, job->name, added, changed, deleted);
    aemp_unref(added);
    aemp_unref(changed);
    aemp_unref(deleted);
}

static void run_chg1(aemp_node *n, aemp_job *job)
{
    run_change(n, job, 1);
}

static void run_chg2(aemp_node *n, aemp_job *job)
{
    run_change(n, job, 0);
}

/* Changes count only from the current master. */
static void queue_change(aemp_node *n, const char *src, aemp_val *msg,
                         aemp_job_fn fn)
{
    const char *family = aemp_str_ptr(aemp_array_at(msg, 2), NULL);
    const char *master = global_of(n)->master;
    if (!family || !master || strcmp(src, master))
        return;
    aempi_kernel_queue_call(n, fn, family, aemp_ref(msg), 0);
}

void aempi_global_req_g_chg1(aemp_node *n, const char *src, aemp_val *msg)
{
    queue_change(n, src, msg, run_chg1);
}

void aempi_global_req_g_chg2(aemp_node *n, const char *src, aemp_val *msg)
{
    queue_change(n, src, msg, run_chg2);
}
