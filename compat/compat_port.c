/* libaemp_compat: ports, rcv, snd, kil, die, peval and the monitors
 * (MP.pm's port, rcv, snd, kil, peval, mon, mon_guard).
 *
 * rcv callbacks live as long as their port: each port that has one is
 * monitored by this layer, and its records are freed when it dies. (So
 * the kernel's "unmonitored local port ... died" error is never logged
 * for such a port; Perl would log it.) The death reaches us a round of
 * the event loop after the kill: rcv on that port id in between, which
 * would make a new port, would put its callback with the dying ones. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat_int.h"

/* ---- ports and rcv ----------------------------------------------------------- */

char *aemp_compat_port0(void)
{
    aemp_node *node = aempi_compat_node();
    /* without a callback an unmatched message kills the port, as Perl's */
    return node ? aemp_port(node, NULL, NULL) : NULL;
}

static aemp_val *without_tag(const aemp_val *msg)
{
    aemp_val *a = aemp_array();
    for (size_t i = 1; a && i < aemp_array_len(msg); i++)
        aemp_array_push(a, aemp_ref(aemp_array_at(msg, i)));
    return a;
}

/* The core's port callback: calls the sub with Perl's @_. */
static int rcv_trampoline(aemp_node *node, const char *port,
                          const aemp_val *msg, void *ud)
{
    (void)port;
    compat_rec *rec = ud;
    if (!rec->tagged)
        return rec->sub(msg, rec->ud);
    aemp_val *args = without_tag(msg);
    if (!args) {
        aemp_die(node, "out of memory");
        return 1;
    }
    /* the sub may remove its own callback: rec is not used after it */
    int rc = rec->sub(args, rec->ud);
    aemp_unref(args);
    return rc;
}

/* The port died: its callbacks go with it. */
static void port_died(aemp_node *node, const char *port,
                      const aemp_val *reason, void *ud)
{
    (void)node;
    (void)port;
    (void)reason;
    compat_rec *prec = ud;
    while (prec->rcvs) {
        compat_rec *rec = prec->rcvs;
        prec->rcvs = rec->port_next;
        aempi_compat_rec_free(rec);
    }
    aempi_compat_rec_free(prec);
}

static void port_unlink_rcv(compat_rec *prec, compat_rec *rec)
{
    for (compat_rec **p = &prec->rcvs; *p; p = &(*p)->port_next) {
        if (*p == rec) {
            *p = rec->port_next;
            return;
        }
    }
}

/* The record of a port that has callbacks, made (and monitored) on first
 * use. */
static compat_rec *port_rec(aemp_node *node, const char *port)
{
    size_t len = strlen(port) + 2;
    char *key = malloc(len);
    if (!key)
        return NULL;
    snprintf(key, len, "p%s", port);
    compat_rec *prec = aempi_compat_rec_find(key);
    if (!prec && (prec = aempi_compat_rec_new(NULL, NULL))) {
        if (aempi_compat_rec_file(prec, key)
            || !(prec->port_mon = aemp_mon(node, port, port_died, prec)).id) {
            aempi_compat_rec_free(prec);
            prec = NULL;
        }
    }
    free(key);
    return prec;
}

static char *rcv_key(const char *port, const char *tag)
{
    size_t len = strlen(port) + (tag ? strlen(tag) : 0) + 5;
    char *key = malloc(len);
    if (key)
        snprintf(key, len, "r%s\n%s%s", port, tag ? "t" : "d", tag ? tag : "");
    return key;
}

/* rcv $port, $tag => undef */
static const char *rcv_remove(aemp_node *node, const char *port,
                              const char *tag, char *key)
{
    compat_rec *rec = aempi_compat_rec_find(key);
    free(key);
    if (aemp_rcv(node, port, tag, NULL, NULL))
        return NULL;
    if (rec) {
        compat_rec *prec = rec->port_rec;
        port_unlink_rcv(prec, rec);
        aempi_compat_rec_free(rec);
        if (!prec->rcvs) { /* nothing left to free when it dies */
            aemp_mon_cancel(node, prec->port_mon);
            aempi_compat_rec_free(prec);
        }
    }
    return port;
}

const char *aemp_compat_rcv(const char *port, const char *tag,
                            aemp_compat_sub cb, void *ud)
{
    aemp_node *node = aempi_compat_node();
    if (!node)
        return NULL;
    if (!port || !aemp_port_is_local(node, port) || !strchr(port, '#')) {
        /* the core refuses it too: in a port's callback that kills the
         * port, as Perl's croak does */
        aemp_rcv(node, port, tag, NULL, NULL);
        return NULL;
    }
    char *key = rcv_key(port, tag);
    if (!key)
        return NULL;
    if (!cb)
        return rcv_remove(node, port, tag, key);
    compat_rec *rec = aempi_compat_rec_find(key);
    if (rec) { /* a new callback for the same tag: the core has rec */
        free(key);
        rec->sub = cb;
        rec->ud = ud;
        return port;
    }
    compat_rec *prec = NULL;
    if (!(rec = aempi_compat_rec_new(cb, ud)) ||
        aempi_compat_rec_file(rec, key)
        || aemp_rcv(node, port, tag, rcv_trampoline, rec)
        || !(prec = port_rec(node, port))) {
        if (rec && rec->key) /* the core may hold rec: take it back */
            aemp_rcv(node, port, tag, NULL, NULL);
        aempi_compat_rec_free(rec);
        free(key);
        return NULL;
    }
    free(key);
    rec->tagged = tag != NULL;
    rec->port_rec = prec;
    rec->port_next = prec->rcvs;
    prec->rcvs = rec;
    return port;
}

char *aemp_compat_port(aemp_compat_sub cb, void *ud)
{
    char *port = aemp_compat_port0();
    if (port && cb && !aemp_compat_rcv(port, NULL, cb, ud)) {
        aemp_kil(aempi_compat_node(), port, NULL);
        free(port);
        return NULL;
    }
    return port;
}

/* ---- snd, kil, die, peval -------------------------------------------------- */

int aemp_compat_snd(const char *port, size_t n, aemp_val *const *items)
{
    aemp_val *msg = aempi_compat_list(n, items);
    aemp_node *node = aempi_compat_node();
    if (!msg || !node) {
        aemp_unref(msg);
        return msg ? AEMP_EINVAL : AEMP_ENOMEM;
    }
    return aemp_snd(node, port, msg); /* the core checks the port */
}

int aemp_compat_kil(const char *port, size_t n, aemp_val *const *items)
{
    aemp_val *reason = aempi_compat_list(n, items);
    aemp_node *node = aempi_compat_node();
    if (!reason || !node) {
        aemp_unref(reason);
        return reason ? AEMP_EINVAL : AEMP_ENOMEM;
    }
    return aemp_kil(node, port, reason); /* empty: a normal kill */
}

int aemp_compat_die(const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    char *text = len >= (int)sizeof small ? malloc((size_t)len + 1) : NULL;
    if (text) {
        va_start(ap, fmt);
        vsnprintf(text, (size_t)len + 1, fmt, ap);
        va_end(ap);
    }
    aemp_node *node = aempi_compat_node();
    if (node)
        aemp_die(node, "%s", text ? text : small);
    free(text);
    return 1;
}

typedef struct peval_call {
    aemp_compat_sub sub;
    void *ud;
    aemp_val *args;
} peval_call;

static int peval_trampoline(aemp_node *node, void *ud)
{
    (void)node;
    peval_call *call = ud;
    return call->sub(call->args, call->ud);
}

int aemp_compat_peval(const char *port, aemp_compat_sub cb, void *ud,
                      size_t n, aemp_val *const *items)
{
    peval_call call = {cb, ud, aempi_compat_list(n, items)};
    aemp_node *node = aempi_compat_node();
    int rc = call.args && node ? aemp_peval(node, port,
                                            cb ? peval_trampoline : NULL,
                                            &call)
                               : 1;
    aemp_unref(call.args);
    return rc;
}

/* ---- monitors ------------------------------------------------------------------ */

/* A monitor fires once: the record goes before the sub runs. */
static void mon_trampoline(aemp_node *node, const char *port,
                           const aemp_val *reason, void *ud)
{
    (void)node;
    (void)port;
    compat_rec *rec = ud;
    aemp_compat_sub sub = rec->sub;
    void *sub_ud = rec->ud;
    aempi_compat_rec_free(rec);
    sub(reason, sub_ud);
}

aemp_compat_guard aemp_compat_mon(const char *port, aemp_compat_sub cb,
                                  void *ud)
{
    aemp_node *node = aempi_compat_node();
    if (node && (!port || !cb)) {
        aemp_mon(node, port, NULL, NULL); /* refused by the core */
        return 0;
    }
    compat_rec *rec = node ? aempi_compat_rec_new(cb, ud) : NULL;
    aemp_port_mon_id id = {0};
    if (rec)
        id = aemp_mon(node, port, mon_trampoline, rec);
    if (!id.id || aempi_compat_rec_file_guard(rec, GUARD_MON, id.id)) {
        if (id.id)
            aemp_mon_cancel(node, id);
        aempi_compat_rec_free(rec);
        return 0;
    }
    return rec->guard;
}

aemp_compat_guard aemp_compat_mon_kil(const char *port, const char *rcvport)
{
    aemp_node *node = aempi_compat_node();
    if (!node)
        return 0;
    /* rcvport NULL: $SELF, or refused as Perl's one-argument mon */
    return aempi_compat_guard(GUARD_MON, aemp_mon_kil(node, port, rcvport).id);
}

aemp_compat_guard aemp_compat_mon_snd(const char *port, const char *rcvport,
                                      size_t n, aemp_val *const *items)
{
    aemp_val *msg = aempi_compat_list(n, items);
    aemp_node *node = aempi_compat_node();
    if (!msg || !node) {
        aemp_unref(msg);
        return 0;
    }
    return aempi_compat_guard(GUARD_MON,
                        aemp_mon_snd(node, port, rcvport, msg).id);
}

static void guard_trampoline(aemp_node *node, const char *port,
                             const aemp_val *reason, void *ud)
{
    (void)node;
    (void)port;
    (void)reason;
    compat_rec *rec = ud;
    void (*release)(void *) = rec->release;
    void *data = rec->ud;
    aempi_compat_rec_free(rec);
    release(data);
}

/* Not the core's aemp_mon_guard: releasing a Perl guard frees the refs at
 * once, and the core keeps them until the node goes. */
aemp_compat_guard aemp_compat_mon_guard(const char *port,
                                        void (*release)(void *data),
                                        void *data)
{
    aemp_node *node = aempi_compat_node();
    if (node && (!port || !release)) {
        aemp_mon(node, port, NULL, NULL); /* refused by the core */
        return 0;
    }
    compat_rec *rec = node ? aempi_compat_rec_new(NULL, data) : NULL;
    aemp_port_mon_id id = {0};
    if (rec)
        id = aemp_mon(node, port, guard_trampoline, rec);
    if (!id.id || aempi_compat_rec_file_guard(rec, GUARD_MON, id.id)) {
        if (id.id)
            aemp_mon_cancel(node, id);
        aempi_compat_rec_free(rec);
        return 0;
    }
    rec->release = release;
    return rec->guard;
}
