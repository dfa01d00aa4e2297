/* libaemp_compat: the shared database and node monitors (MP.pm's db_*,
 * Kernel.pm's mon_nodes). */
#include <stdlib.h>

#include "compat_int.h"

/* db_set and db_reg take an optional value: a list of zero or one. */
static int one_value(size_t n, aemp_val *const *items, aemp_val **value)
{
    *value = NULL;
    if (n > 1 || (n == 1 && !items[0])) {
        aempi_compat_drop(n, items);
        return -1;
    }
    if (n == 1)
        *value = items[0];
    return 0;
}

aemp_compat_guard aemp_compat_db_set(const char *family, const char *key,
                                     size_t n, aemp_val *const *items)
{
    aemp_val *value;
    if (one_value(n, items, &value))
        return 0;
    aemp_node *node = aempi_compat_node();
    if (!node) {
        aemp_unref(value);
        return 0;
    }
    return aempi_compat_guard(GUARD_DB,
                              aemp_db_set(node, family, key, value).id);
}

int aemp_compat_db_del(const char *family, size_t n, const char *const *keys)
{
    aemp_node *node = aempi_compat_node();
    int rc = node ? AEMP_OK : AEMP_EINVAL;
    for (size_t i = 0; !rc && i < n; i++)
        rc = aemp_db_del(node, family, keys[i]); /* the core checks */
    return rc;
}

aemp_compat_guard aemp_compat_db_reg(const char *family, const char *port,
                                     size_t n, aemp_val *const *items)
{
    aemp_val *value;
    if (one_value(n, items, &value))
        return 0;
    aemp_node *node = aempi_compat_node();
    /* port NULL: the core takes $SELF, as Perl's db_reg $family */
    if (!node) {
        aemp_unref(value);
        return 0;
    }
    return aempi_compat_guard(GUARD_DB,
                              aemp_db_reg(node, family, port, value).id);
}

/* ---- db_mon ---------------------------------------------------------------- */

static void db_mon_trampoline(aemp_node *node, const char *family,
                              const aemp_val *db, const aemp_val *added,
                              const aemp_val *changed, const aemp_val *deleted,
                              void *ud)
{
    (void)node;
    (void)family;
    compat_rec *rec = ud;
    aemp_val *args = aemp_arrayv(compat_ref(db), compat_ref(added),
                                 compat_ref(changed), compat_ref(deleted),
                                 NULL);
    /* the sub may release its own monitor: rec is not used after it */
    if (args)
        rec->sub(args, rec->ud);
    aemp_unref(args);
}

aemp_compat_guard aemp_compat_db_mon(const char *family, aemp_compat_sub cb,
                                     void *ud)
{
    aemp_node *node = aempi_compat_node();
    if (node && (!family || !cb)) {
        aemp_db_mon(node, family, NULL, NULL); /* refused by the core */
        return 0;
    }
    compat_rec *rec = node ? aempi_compat_rec_new(cb, ud) : NULL;
    aemp_db_mon_id id = {0};
    if (rec)
        id = aemp_db_mon(node, family, db_mon_trampoline, rec);
    if (!id.id || aempi_compat_rec_file_guard(rec, GUARD_DB_MON, id.id)) {
        if (id.id)
            aemp_db_mon_cancel(node, id);
        aempi_compat_rec_free(rec);
        return 0;
    }
    return rec->guard;
}

/* ---- queries ----------------------------------------------------------------- */

static void query_trampoline(aemp_node *node, const char *family,
                             const aemp_val *result, void *ud)
{
    (void)node;
    (void)family;
    compat_rec *rec = ud;
    aemp_compat_sub sub = rec->sub;
    void *sub_ud = rec->ud;
    aempi_compat_rec_free(rec);
    aemp_val *args = aemp_arrayv(compat_ref(result), NULL);
    if (args)
        sub(args, sub_ud);
    aemp_unref(args);
}

typedef int (*query_fn)(aemp_node *, const char *, aemp_db_reply_cb, void *);

static int query(query_fn fn, const char *family, aemp_compat_sub cb, void *ud)
{
    aemp_node *node = aempi_compat_node();
    if (node && (!family || !cb))
        return fn(node, family, NULL, NULL); /* refused by the core */
    compat_rec *rec = node ? aempi_compat_rec_new(cb, ud) : NULL;
    if (!rec)
        return AEMP_ENOMEM;
    int rc = fn(node, family, query_trampoline, rec);
    if (rc)
        aempi_compat_rec_free(rec);
    return rc;
}

int aemp_compat_db_family(const char *family, aemp_compat_sub cb, void *ud)
{
    return query(aemp_db_family, family, cb, ud);
}

int aemp_compat_db_keys(const char *family, aemp_compat_sub cb, void *ud)
{
    return query(aemp_db_keys, family, cb, ud);
}

int aemp_compat_db_values(const char *family, aemp_compat_sub cb, void *ud)
{
    return query(aemp_db_values, family, cb, ud);
}

/* ---- mon_nodes ------------------------------------------------------------------- */

static void nodes_trampoline(aemp_node *node, const char *nodeid, int up,
                             const aemp_val *reason, void *ud)
{
    (void)node;
    compat_rec *rec = ud;
    aemp_val *args = aemp_arrayv(aemp_str(nodeid), aemp_int(up ? 1 : 0), NULL);
    for (size_t i = 0; args && i < aemp_array_len(reason); i++)
        aemp_array_push(args, compat_ref(aemp_array_at(reason, i)));
    if (args)
        rec->sub(args, rec->ud);
    aemp_unref(args);
}

aemp_compat_guard aemp_compat_mon_nodes(aemp_compat_sub cb, void *ud)
{
    aemp_node *node = aempi_compat_node();
    if (node && !cb) {
        aemp_mon_nodes(node, NULL, NULL); /* refused by the core */
        return 0;
    }
    compat_rec *rec = node ? aempi_compat_rec_new(cb, ud) : NULL;
    aemp_node_mon_id id = {0};
    if (rec)
        id = aemp_mon_nodes(node, nodes_trampoline, rec);
    if (!id.id || aempi_compat_rec_file_guard(rec, GUARD_NODES, id.id)) {
        if (id.id)
            aemp_mon_nodes_cancel(node, id);
        aempi_compat_rec_free(rec);
        return 0;
    }
    return rec->guard;
}
