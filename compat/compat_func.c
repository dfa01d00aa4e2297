/* libaemp_compat: named functions, spawn, cal and after (MP.pm's spawn,
 * cal, after; Perl's named subs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat_int.h"

/* ---- named functions ----------------------------------------------------- */

static int func_trampoline(aemp_node *node, const aemp_val *args, void *ud)
{
    (void)node;
    compat_rec *rec = ud;
    return rec->sub(args, rec->ud);
}

int aemp_compat_sub_define(const char *name, aemp_compat_sub cb, void *ud)
{
    aemp_node *node = aempi_compat_node();
    if (!node)
        return AEMP_ENOMEM;
    if (!name)
        return aemp_func_register(node, name, NULL, NULL); /* refused */
    size_t len = strlen(name) + 2;
    char *key = malloc(len);
    if (!key)
        return AEMP_ENOMEM;
    snprintf(key, len, "f%s", name);
    compat_rec *rec = aempi_compat_rec_find(key);
    int rc = AEMP_OK;
    if (!cb) {
        rc = aemp_func_register(node, name, NULL, NULL);
        aempi_compat_rec_free(rec);
    } else if (rec) { /* redefined: the core keeps calling rec */
        rec->sub = cb;
        rec->ud = ud;
    } else if (!(rec = aempi_compat_rec_new(cb, ud)) ||
               aempi_compat_rec_file(rec, key) ||
               (rc = aemp_func_register(node, name, func_trampoline, rec))) {
        aempi_compat_rec_free(rec);
        rc = rc ? rc : AEMP_ENOMEM;
    }
    free(key);
    return rc;
}

/* The node and *list, a new array of the items; NULL (and no list) when
 * out of memory. */
static aemp_node *node_and_list(size_t n, aemp_val *const *items,
                                aemp_val **list)
{
    *list = aempi_compat_list(n, items);
    aemp_node *node = aempi_compat_node();
    if (*list && node)
        return node;
    aemp_unref(*list);
    *list = NULL;
    return NULL;
}

/* ---- spawn ------------------------------------------------------------------ */

char *aemp_compat_spawn(const char *target, const char *init, size_t n,
                        aemp_val *const *items)
{
    aemp_val *args;
    aemp_node *node = node_and_list(n, items, &args);
    return node ? aemp_spawn(node, target, init, args) : NULL;
}

/* ---- snd_to_func ----------------------------------------------------------- */

int aemp_compat_snd_to_func(const char *target, const char *func, size_t n,
                            aemp_val *const *items)
{
    aemp_val *args;
    aemp_node *node = node_and_list(n, items, &args);
    return node ? aemp_snd_to_func(node, target, func, args) : AEMP_ENOMEM;
}

/* ---- cal ------------------------------------------------------------------------ */

/* The reply, or NULL after a timeout or the target's death: @_ is then
 * empty, as Perl calls $cb->(). */
static void cal_trampoline(aemp_node *node, const aemp_val *reply, void *ud)
{
    (void)node;
    compat_rec *rec = ud;
    aemp_compat_sub sub = rec->sub;
    void *sub_ud = rec->ud;
    aempi_compat_rec_free(rec);
    sub(reply ? reply : aempi_compat_no_args(), sub_ud);
}

int aemp_compat_cal(const char *port, double timeout, aemp_compat_sub cb,
                    void *ud, size_t n, aemp_val *const *items)
{
    aemp_val *msg = aempi_compat_list(n, items);
    aemp_node *node = aempi_compat_node();
    compat_rec *rec = msg && node && cb ? aempi_compat_rec_new(cb, ud) : NULL;
    if (!msg || !node || (cb && !rec)) {
        aemp_unref(msg);
        return msg && node ? AEMP_EINVAL : AEMP_ENOMEM;
    }
    /* Perl returns the reply port; nobody needs it (MP.pm says so). The
     * core checks port and cb. */
    char *reply = aemp_cal(node, port, msg, timeout,
                           cb ? cal_trampoline : NULL, rec);
    if (!reply) {
        aempi_compat_rec_free(rec);
        return AEMP_EINVAL;
    }
    free(reply);
    return AEMP_OK;
}

/* ---- after ------------------------------------------------------------------------ */

static void after_trampoline(aemp_node *node, void *ud)
{
    (void)node;
    compat_rec *rec = ud;
    aemp_compat_sub sub = rec->sub;
    void *sub_ud = rec->ud;
    aempi_compat_rec_free(rec);
    sub(aempi_compat_no_args(), sub_ud);
}

aemp_compat_guard aemp_compat_after(double seconds, aemp_compat_sub cb,
                                    void *ud)
{
    aemp_node *node = aempi_compat_node();
    if (node && !cb) {
        aemp_after(node, seconds, NULL, NULL); /* refused by the core */
        return 0;
    }
    compat_rec *rec = node ? aempi_compat_rec_new(cb, ud) : NULL;
    aemp_timer_id id = {0};
    if (rec)
        id = aemp_after(node, seconds, after_trampoline, rec);
    if (!id.id || aempi_compat_rec_file_guard(rec, GUARD_TIMER, id.id)) {
        if (id.id)
            aemp_after_cancel(node, id);
        aempi_compat_rec_free(rec);
        return 0;
    }
    return rec->guard;
}

aemp_compat_guard aemp_compat_after_snd(double seconds, const char *port,
                                        size_t n, aemp_val *const *items)
{
    aemp_val *msg = aempi_compat_list(n, items);
    aemp_node *node = aempi_compat_node();
    if (!msg || !node) {
        aemp_unref(msg);
        return 0;
    }
    return aempi_compat_guard(GUARD_TIMER,
                              aemp_after_snd(node, seconds, port, msg).id);
}
