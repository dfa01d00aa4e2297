/* libaemp: global nodes keep links to every other global node they know
 * of ('g), retrying with a doubling delay up to monitor_timeout
 * (Kernel.pm keepalive_*). */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "global_int.h"
#include "random.h"

static void keepalive_all(aemp_node *n)
{
    aemp_global *g = global_of(n);
    aemp_log_ctx(n, 9, LOG_KERNEL,
                 "keepalive: trying to establish connections with %zu "
                 "node(s).", aemp_map_len(g->down));
    for (size_t i = 0; i < aemp_map_len(g->down); i++) {
        aemp_remote *r = aempi_kernel_remote_get(n, aemp_map_key_at(g->down,
                                                                    i, NULL),
                                                 1);
        if (r)
            aempi_kernel_remote_connect(r);
    }
    g->keepalive_retry *= 2;
    if (g->keepalive_retry > n->monitor_timeout)
        g->keepalive_retry = n->monitor_timeout;
    struct timeval tv;
    tv.tv_sec = (time_t)g->keepalive_retry;
    tv.tv_usec = (suseconds_t)((g->keepalive_retry - (double)tv.tv_sec) * 1e6);
    event_add(g->keepalive_timer, &tv);
}

static void on_keepalive(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    aempi_kernel_io_enter(ud); /* a node without an address fails at once */
    keepalive_all(ud);
    aempi_kernel_io_leave(ud);
}

static void keepalive_again(aemp_node *n)
{
    aemp_global *g = global_of(n);
    g->keepalive_retry = (1.0 + aempi_random_unit()) * 0.3;
    if (!g->keepalive_timer)
        g->keepalive_timer = event_new(n->base, -1, 0, on_keepalive, n);
    if (g->keepalive_timer) {
        event_del(g->keepalive_timer);
        keepalive_all(n);
    }
}

void aempi_gseed_keepalive_add(aemp_node *n, const char *id)
{
    aemp_global *g = global_of(n);
    if (!id || !strcmp(id, n->id))
        return;
    aemp_val *count = aemp_map_get(g->keepalive, id);
    aemp_map_set(g->keepalive, id, aemp_int(count ? aemp_as_int(count) + 1 : 1));
    if (count || aemp_node_is_up(n, id) == 1)
        return;
    aemp_map_set(g->down, id, aemp_null());
    keepalive_again(n);
}

void aempi_gseed_keepalive_del(aemp_node *n, const char *id)
{
    aemp_global *g = global_of(n);
    aemp_val *count = id ? aemp_map_get(g->keepalive, id) : NULL;
    if (!count)
        return;
    if (aemp_as_int(count) > 1) {
        aemp_map_set(g->keepalive, id, aemp_int(aemp_as_int(count) - 1));
        return;
    }
    aemp_map_del(g->keepalive, id, strlen(id));
    aemp_map_del(g->down, id, strlen(id));
    if (!aemp_map_len(g->down) && g->keepalive_timer)
        event_del(g->keepalive_timer);
    aempi_kernel_remote_let_go(n, id);
}

int aempi_gseed_keeps(const aemp_node *n, const char *id)
{
    const aemp_global *g = global_of(n);
    return g && aemp_map_get(g->keepalive, id) != NULL;
}

void aempi_gseed_keepalive_event(aemp_node *n, const char *id, int up)
{
    aemp_global *g = global_of(n);
    if (!aemp_map_get(g->keepalive, id))
        return;
    if (up) {
        aemp_map_del(g->down, id, strlen(id));
        if (!aemp_map_len(g->down) && g->keepalive_timer)
            event_del(g->keepalive_timer);
    } else {
        aemp_map_set(g->down, id, aemp_null());
        keepalive_again(n);
    }
}

void aempi_gseed_free(aemp_global *g)
{
    if (g->keepalive_timer)
        event_free(g->keepalive_timer);
    aemp_unref(g->global_db);
    aemp_unref(g->local_dbs);
    aemp_unref(g->holders);
    aemp_unref(g->slaves);
    aemp_unref(g->gmon);
    aemp_unref(g->keepalive);
    aemp_unref(g->down);
    aempi_frame_cache_free(&g->cache);
    free(g->targets.r);
    aemp_unref(g->s_chg2);
}
