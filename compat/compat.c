/* libaemp_compat: the default node, its loop, configure, the records
 * behind callbacks, guards, and values.
 *
 * The compat layer keeps one node and one event_base per process, as
 * Perl has one node per process. That is this layer's one deliberate
 * global state (the core library has none); everything here is built on
 * the public aemp_* API only. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "compat_int.h"

static struct {
    struct event_base *base;
    int own_base;
    aemp_node *node;
    int configured;
    char *errmsg;
    aemp_val *no_args;
    aemp_val *recs;   /* key -> record address, as an integer */
    compat_rec *list; /* every record */
} compat;

/* ---- the node and its loop ---------------------------------------------- */

struct event_base *aemp_compat_base(void)
{
    if (!compat.base) {
        compat.base = event_base_new();
        compat.own_base = 1;
    }
    return compat.base;
}

int aemp_compat_use_base(struct event_base *base)
{
    if (compat.node || compat.base)
        return AEMP_ESTATE;
    compat.base = base;
    compat.own_base = 0;
    return AEMP_OK;
}

aemp_node *aempi_compat_node(void)
{
    if (!compat.node && aemp_compat_base()) {
        if (!compat.recs)
            compat.recs = aemp_map();
        if (!compat.no_args)
            compat.no_args = aemp_array();
        if (compat.recs && compat.no_args)
            compat.node = aemp_node_new(compat.base);
    }
    return compat.node;
}

aemp_node *aemp_compat_node(void)
{
    return aempi_compat_node();
}

int aemp_compat_loop(void)
{
    if (!aempi_compat_node())
        return AEMP_ENOMEM;
    /* AE::cv->recv waits even with nothing to wait for */
    return event_base_loop(compat.base, EVLOOP_NO_EXIT_ON_EMPTY) < 0
               ? AEMP_EIO
               : AEMP_OK;
}

void aemp_compat_loop_exit(void)
{
    if (compat.base)
        event_base_loopbreak(compat.base);
}

void aemp_compat_destroy(void)
{
    /* the node first: it calls nothing back when freed */
    aemp_node_free(compat.node);
    compat.node = NULL;
    while (compat.list) {
        compat_rec *rec = compat.list;
        if (rec->release) /* a mon_guard: the port "dies" with the node */
            rec->release(rec->ud);
        aempi_compat_rec_free(rec);
    }
    aemp_unref(compat.recs);
    aemp_unref(compat.no_args);
    if (compat.own_base && compat.base)
        event_base_free(compat.base);
    free(compat.errmsg);
    memset(&compat, 0, sizeof compat);
}

aemp_val *aempi_compat_no_args(void)
{
    return compat.no_args;
}

/* ---- configure and the node's identity ------------------------------------ */

static void set_errmsg(const char *msg)
{
    free(compat.errmsg);
    compat.errmsg = msg ? strdup(msg) : NULL;
}

const char *aemp_compat_errmsg(void)
{
    return compat.errmsg ? compat.errmsg : "";
}

/* Perl's configure: key => value pairs, or a profile name and pairs. */
static aemp_val *configure_args(aemp_val *list)
{
    aemp_val *args = aemp_map();
    size_t i = 0;
    if (args && aemp_array_len(list) % 2) {
        if (!aemp_str_ptr(aemp_array_at(list, 0), NULL)) {
            aemp_unref(args);
            return NULL;
        }
        aemp_map_set(args, "profile", aemp_ref(aemp_array_at(list, 0)));
        i = 1;
    }
    for (; args && i + 1 < aemp_array_len(list); i += 2) {
        const char *key = aemp_str_ptr(aemp_array_at(list, i), NULL);
        if (!key || aemp_map_set(args, key, aemp_ref(aemp_array_at(list, i + 1)))) {
            aemp_unref(args);
            return NULL;
        }
    }
    return args;
}

int aemp_compat_configure(size_t n, aemp_val *const *items)
{
    aemp_val *list = aempi_compat_list(n, items);
    aemp_node *node = aempi_compat_node();
    if (!list || !node) {
        aemp_unref(list);
        set_errmsg("out of memory");
        return AEMP_ENOMEM;
    }
    if (compat.configured) {
        aemp_unref(list);
        set_errmsg("configure was called already");
        return AEMP_ESTATE;
    }
    aemp_val *args = configure_args(list);
    aemp_unref(list);
    if (!args) {
        set_errmsg("configure: keys (and a profile name) must be strings");
        return AEMP_EINVAL;
    }
    int rc = aemp_node_configure(node, args, NULL);
    aemp_unref(args);
    set_errmsg(rc ? aemp_node_errmsg(node) : NULL);
    compat.configured = !rc;
    return rc;
}

const char *aemp_compat_node_id(void)
{
    aemp_node *node = aempi_compat_node();
    return node ? aemp_node_id(node) : "";
}

const char *aemp_compat_self(void)
{
    return compat.node ? aemp_self(compat.node) : NULL;
}

char *aemp_compat_node_of(const char *port)
{
    return port ? aemp_node_of(port) : NULL;
}

int aemp_compat_port_is_local(const char *port)
{
    aemp_node *node = aempi_compat_node();
    return node && port ? aemp_port_is_local(node, port) : 0;
}

int aemp_compat_node_is_up(const char *nodeid)
{
    aemp_node *node = aempi_compat_node();
    return node && nodeid ? aemp_node_is_up(node, nodeid) : -1;
}

aemp_val *aemp_compat_up_nodes(void)
{
    aemp_node *node = aempi_compat_node();
    return node ? aemp_up_nodes(node) : NULL;
}

/* ---- records ------------------------------------------------------------ */

compat_rec *aempi_compat_rec_new(aemp_compat_sub sub, void *ud)
{
    compat_rec *rec = calloc(1, sizeof *rec);
    if (!rec)
        return NULL;
    rec->sub = sub;
    rec->ud = ud;
    rec->next = compat.list;
    if (compat.list)
        compat.list->prev = rec;
    compat.list = rec;
    return rec;
}

int aempi_compat_rec_file(compat_rec *rec, const char *key)
{
    if (!compat.recs || !(rec->key = strdup(key)))
        return AEMP_ENOMEM;
    /* the address as an integer: the map holds values, not pointers */
    return aemp_map_set(compat.recs, key, aemp_int((int64_t)(intptr_t)rec));
}

compat_rec *aempi_compat_rec_find(const char *key)
{
    aemp_val *v = compat.recs ? aemp_map_get(compat.recs, key) : NULL;
    return v ? (compat_rec *)(intptr_t)aemp_as_int(v) : NULL;
}

void aempi_compat_rec_free(compat_rec *rec)
{
    if (!rec)
        return;
    if (rec->key && compat.recs)
        aemp_map_del(compat.recs, rec->key, strlen(rec->key));
    if (rec->prev)
        rec->prev->next = rec->next;
    else
        compat.list = rec->next;
    if (rec->next)
        rec->next->prev = rec->prev;
    free(rec->key);
    free(rec->port);
    aemp_unref(rec->msg);
    free(rec);
}

aemp_compat_guard aempi_compat_guard(int kind, uint64_t id)
{
    return id ? (uint64_t)kind << GUARD_SHIFT | id : 0;
}

static void guard_key(aemp_compat_guard g, char key[32])
{
    snprintf(key, 32, "g%llu", (unsigned long long)g);
}

int aempi_compat_rec_file_guard(compat_rec *rec, int kind, uint64_t id)
{
    char key[32];
    rec->guard = aempi_compat_guard(kind, id);
    guard_key(rec->guard, key);
    return aempi_compat_rec_file(rec, key);
}

void aemp_compat_release(aemp_compat_guard guard)
{
    aemp_node *node = compat.node;
    uint64_t id = guard & ((UINT64_C(1) << GUARD_SHIFT) - 1);
    if (!node || !id)
        return;
    switch ((int)(guard >> GUARD_SHIFT)) {
    case GUARD_MON: aemp_mon_cancel(node, (aemp_port_mon_id){id}); break;
    case GUARD_DB: aemp_db_release(node, (aemp_db_handle){id}); break;
    case GUARD_DB_MON:
        aemp_db_mon_cancel(node, (aemp_db_mon_id){id});
        break;
    case GUARD_NODES:
        aemp_mon_nodes_cancel(node, (aemp_node_mon_id){id});
        break;
    case GUARD_TIMER: aemp_after_cancel(node, (aemp_timer_id){id}); break;
    default: return;
    }
    char key[32];
    guard_key(guard, key);
    compat_rec *rec = aempi_compat_rec_find(key);
    if (rec && rec->release) /* mon_guard: undef $guard frees the refs */
        rec->release(rec->ud);
    aempi_compat_rec_free(rec);
}

/* ---- lists and values ---------------------------------------------------- */

void aempi_compat_drop(size_t n, aemp_val *const *items)
{
    for (size_t i = 0; i < n; i++)
        aemp_unref(items[i]);
}

aemp_val *aempi_compat_list(size_t n, aemp_val *const *items)
{
    aemp_val *a = aemp_array();
    for (size_t i = 0; i < n; i++) {
        /* a failed push has taken items[i] too */
        if (!a || !items[i] || aemp_array_push(a, items[i])) {
            if (!a)
                aemp_unref(items[i]);
            aempi_compat_drop(n - i - 1, items + i + 1);
            aemp_unref(a);
            return NULL;
        }
    }
    return a;
}

aemp_val *aemp_compat_str(const char *s)
{
    return s ? aemp_str(s) : aemp_null();
}

aemp_val *aemp_compat_array(size_t n, aemp_val *const *items)
{
    return aempi_compat_list(n, items);
}

aemp_val *aemp_compat_hash(size_t n, aemp_val *const *items)
{
    aemp_val *list = aempi_compat_list(n, items);
    aemp_val *h = list && n % 2 == 0 ? aemp_map() : NULL;
    for (size_t i = 0; h && i < n; i += 2) {
        size_t klen;
        const char *k = aemp_str_ptr(aemp_array_at(list, i), &klen);
        if (!k || aemp_map_setn(h, k, klen, aemp_ref(aemp_array_at(list, i + 1)))) {
            aemp_unref(h);
            h = NULL;
        }
    }
    aemp_unref(list);
    return h;
}

aemp_val *aemp_compat_json(const char *json)
{
    return json ? aemp_from_json(json, strlen(json), NULL) : NULL;
}

char *aemp_compat_str_of(const aemp_val *v)
{
    const char *s = aemp_str_ptr(v, NULL);
    if (s)
        return strdup(s);
    switch (aemp_type_of(v)) {
    case AEMP_NULL: return strdup("");
    case AEMP_BOOL: return strdup(aemp_is_true(v) ? "1" : "0");
    case AEMP_ARRAY:
    case AEMP_MAP: return aemp_to_json(v, NULL);
    default: break;
    }
    /* a number: its JSON text is how Perl prints it (%.15g) */
    return aemp_to_json(v, NULL);
}

char *aemp_compat_join(const char *sep, const aemp_val *list)
{
    size_t n = aemp_array_len(list), len = 0, seplen = strlen(sep);
    char **parts = calloc(n ? n : 1, sizeof *parts);
    for (size_t i = 0; parts && i < n; i++) {
        if (!(parts[i] = aemp_compat_str_of(aemp_array_at(list, i)))) {
            n = i; /* free what there is, fail */
            len = SIZE_MAX;
            break;
        }
        len += strlen(parts[i]) + (i ? seplen : 0);
    }
    char *out = parts && len != SIZE_MAX ? malloc(len + 1) : NULL;
    char *p = out;
    for (size_t i = 0; parts && i < n; i++) {
        if (p) {
            if (i) {
                memcpy(p, sep, seplen);
                p += seplen;
            }
            memcpy(p, parts[i], strlen(parts[i]));
            p += strlen(parts[i]);
        }
        free(parts[i]);
    }
    if (p)
        *p = 0;
    free(parts);
    return out;
}
