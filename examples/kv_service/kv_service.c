/* KV::Service, a key-value cache as a service plugin for caemp run
 * (docs/services.md). Its Perl twin, KV/Service.pm beside this file,
 * speaks the same protocol, so one rc profile
 *
 *     "services": ["KV::Service::"]
 *
 * starts either: a Perl node finds KV/Service.pm on @INC, `caemp run`
 * finds KV/Service.so on its service path.
 *
 * On load it creates one port and registers it in the database family
 * "kv". Requests are cal-style, the reply port last:
 *
 *     ["get", KEY, REPLY]            -> REPLY gets [VALUE] (null if unset)
 *     ["set", KEY, VALUE, REPLY]     -> REPLY gets [1]; every subscriber
 *                                       gets ["changed", KEY, VALUE]
 *     ["subscribe", PORT, REPLY]     -> REPLY gets [1]; PORT is monitored
 *                                       and forgotten when it dies
 *     ["subscribers", REPLY]         -> REPLY gets [NUMBER OF SUBSCRIBERS]
 *
 * Anything else is ignored. kv_client.pl is a client for either twin. */
#include <stdlib.h>
#include <string.h>

#include "aemp/aemp.h"

typedef struct kv {
    aemp_val *data; /* key -> value */
    aemp_val *subs; /* subscriber port -> true */
} kv;

static void kv_free(void *p)
{
    kv *s = p;
    aemp_unref(s->data);
    aemp_unref(s->subs);
    free(s);
}

/* the last element of a request: where the answer goes */
static const char *reply_port(const aemp_val *msg)
{
    size_t n = aemp_array_len(msg);
    return n ? aemp_str_ptr(aemp_array_at(msg, n - 1), NULL) : NULL;
}

static int on_get(aemp_node *node, const char *port, const aemp_val *msg,
                  void *ud)
{
    (void)port;
    kv *s = ud;
    const char *key = aemp_str_ptr(aemp_array_at(msg, 1), NULL);
    const char *reply = reply_port(msg);
    if (key && reply && aemp_array_len(msg) == 3) {
        aemp_val *v = aemp_map_get(s->data, key);
        aemp_sndv(node, reply, v ? aemp_ref(v) : aemp_null(), NULL);
    }
    return 0;
}

static int on_set(aemp_node *node, const char *port, const aemp_val *msg,
                  void *ud)
{
    (void)port;
    kv *s = ud;
    const char *key = aemp_str_ptr(aemp_array_at(msg, 1), NULL);
    const char *reply = reply_port(msg);
    if (!key || !reply || aemp_array_len(msg) != 4)
        return 0;
    aemp_val *value = aemp_array_at(msg, 2);
    aemp_map_set(s->data, key, aemp_ref(value));
    for (size_t i = 0; i < aemp_map_len(s->subs); i++)
        aemp_sndv(node, aemp_map_key_at(s->subs, i, NULL),
                  aemp_str("changed"), aemp_str(key), aemp_ref(value), NULL);
    aemp_sndv(node, reply, aemp_int(1), NULL);
    return 0;
}

/* a subscriber died: no more changes for it */
static void on_sub_died(aemp_node *node, const char *port,
                        const aemp_val *reason, void *ud)
{
    (void)node;
    (void)reason;
    kv *s = ud;
    aemp_map_del(s->subs, port, strlen(port));
}

static int on_subscribe(aemp_node *node, const char *port,
                        const aemp_val *msg, void *ud)
{
    (void)port;
    kv *s = ud;
    const char *sub = aemp_str_ptr(aemp_array_at(msg, 1), NULL);
    const char *reply = reply_port(msg);
    if (!sub || !reply || aemp_array_len(msg) != 3)
        return 0;
    if (!aemp_map_get(s->subs, sub) && aemp_mon(node, sub, on_sub_died,
                                                s).id)
        aemp_map_set(s->subs, sub, aemp_bool(1));
    aemp_sndv(node, reply, aemp_int(1), NULL);
    return 0;
}

static int on_subscribers(aemp_node *node, const char *port,
                          const aemp_val *msg, void *ud)
{
    (void)port;
    kv *s = ud;
    const char *reply = reply_port(msg);
    if (reply && aemp_array_len(msg) == 2)
        aemp_sndv(node, reply, aemp_int((int64_t)aemp_map_len(s->subs)),
                  NULL);
    return 0;
}

static int ignore(aemp_node *node, const char *port, const aemp_val *msg,
                  void *ud)
{
    (void)node;
    (void)port;
    (void)msg;
    (void)ud;
    return 0;
}

/* The plugin's entry point (include/aemp/service.h): what KV/Service.pm's
 * top-level code does on require. */
AEMP_SERVICE_EXPORT int aemp_service_init(aemp_node *node,
                                          const char *module);

int aemp_service_init(aemp_node *node, const char *module)
{
    (void)module;
    kv *s = calloc(1, sizeof *s);
    char *port = s ? aemp_port(node, ignore, s) : NULL;
    if (s) {
        s->data = aemp_map();
        s->subs = aemp_map();
    }
    if (!port || !s->data || !s->subs) {
        free(port);
        if (s)
            kv_free(s);
        aemp_die(node, "KV::Service: out of memory");
        return 1;
    }
    aemp_rcv(node, port, "get", on_get, s);
    aemp_rcv(node, port, "set", on_set, s);
    aemp_rcv(node, port, "subscribe", on_subscribe, s);
    aemp_rcv(node, port, "subscribers", on_subscribers, s);
    /* the state lives as long as the port (or the node) */
    aemp_mon_guard(node, port, kv_free, s);
    aemp_db_reg(node, "kv", port, NULL);
    aemp_log(node, AEMP_LOG_INFO, "KV::Service: serving on %s", port);
    free(port);
    return 0;
}
