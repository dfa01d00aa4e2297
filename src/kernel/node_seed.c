/* libaemp: seed links (Kernel.pm seed_connect, seed_all, seed_again): a
 * node keeps trying to hold a link to every seed, retrying with a doubling
 * delay capped at monitor_timeout. */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config.h"
#include "kernel.h"
#include "random.h"

static void seed_connect(aemp_node *n, aemp_seed *s)
{
    char *host, *port;
    if (aempi_parse_hostport(s->addr, NULL, &host, &port)) {
        aemp_log_ctx(n, 3, LOG_KERNEL, "%s: unparsable seed address", s->addr);
        return;
    }
    aemp_log_ctx(n, 9, LOG_KERNEL, "trying connect to seed node %s.", s->addr);
    s->connect = aempi_link_connect(&n->transport, host, port);
    if (s->connect)
        aemp_link_owner_of(s->connect)->seed = s;
    free(host);
    free(port);
}

static int seed_is_up(aemp_node *n, const aemp_seed *s)
{
    return s->nodeid && aemp_node_is_up(n, s->nodeid) == 1;
}

static void seed_all(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    aemp_node *n = ud;
    int missing = 0;
    for (size_t i = 0; i < n->nseeds; i++) {
        aemp_seed *s = &n->seeds[i];
        if (s->is_self || seed_is_up(n, s))
            continue;
        missing = 1;
        if (!s->connect)
            seed_connect(n, s);
    }
    if (!missing)
        return; /* all seeds connected or connecting: no timer needed */
    n->seed_retry *= 2;
    if (n->seed_retry > n->monitor_timeout)
        n->seed_retry = n->monitor_timeout;
    struct timeval tv;
    tv.tv_sec = (time_t)n->seed_retry;
    tv.tv_usec = (suseconds_t)((n->seed_retry - (double)tv.tv_sec) * 1e6);
    event_add(n->seed_timer, &tv);
}

void aempi_kernel_seed_again(aemp_node *n)
{
    n->seed_retry = (1.0 + aempi_random_unit()) * 0.6;
    if (n->seed_timer && !event_pending(n->seed_timer, EV_TIMEOUT, NULL)) {
        struct timeval now = {0, 0};
        event_add(n->seed_timer, &now);
    }
}

void aempi_kernel_seeds_start(aemp_node *n)
{
    if (!n->nseeds)
        return;
    n->seed_timer = event_new(n->base, -1, 0, seed_all, n);
    aempi_kernel_seed_again(n);
}

void aempi_kernel_seed_greeted(aemp_node *n, aemp_seed *s, const char *rnode)
{
    if (!strcmp(rnode, n->id)) {
        /* our own address: we are a seed (a global node) */
        s->is_self = 1;
        n->hooks.seed_is_self(n);
        return;
    }
    char *old = s->nodeid;
    s->nodeid = strdup(rnode);
    /* a seed that came back under a new id: the old one is just a node */
    if (old && strcmp(old, rnode))
        aempi_kernel_remote_let_go(n, old);
    free(old);
    n->hooks.seed_greeted(n, rnode);
}

int aempi_kernel_is_seed_node(const aemp_node *n, const char *id)
{
    for (size_t i = 0; i < n->nseeds; i++)
        if (n->seeds[i].nodeid && !strcmp(n->seeds[i].nodeid, id))
            return 1;
    return 0;
}

void aempi_kernel_seeds_free(aemp_node *n)
{
    if (n->seed_timer)
        event_free(n->seed_timer);
    n->seed_timer = NULL;
    for (size_t i = 0; i < n->nseeds; i++)
        free(n->seeds[i].nodeid);
    for (size_t i = 0; i < n->nseeds; i++)
        free(n->seeds[i].addr);
    free(n->seeds);
    n->seeds = NULL;
    n->nseeds = 0;
}
