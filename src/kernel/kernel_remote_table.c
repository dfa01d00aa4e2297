/* libaemp: the table of remote nodes, and how long an entry lives. */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "kernel.h"

/* An entry lives while something needs it: a link, queued messages, a
 * connect attempt, monitors of the node's ports (or those of its link's
 * failure, still to run), or the node being one of our seeds or one a
 * higher layer keeps a link to (the global protocol: a global node).
 * Everything else about a node (its monitors of our ports) goes with the
 * entry, so a node's memory does not grow with the node ids it has met.
 * Perl does the same: Node.pm weakens the node's %NODE entry on
 * transport_error, and the object goes as soon as nothing holds it.
 * Callers up the stack may hold an entry right now, so an entry that may
 * have become idle is only listed; an event frees the ones still idle
 * from the loop. */

static void free_monitor_lists(aemp_dict *d)
{
    for (aemp_dict_entry *e = aempi_dict_next(d, NULL); e;
         e = aempi_dict_next(d, e)) {
        aemp_monitor *m = e->value;
        while (m) {
            aemp_monitor *next = m->next;
            aempi_kernel_monitor_free(m);
            m = next;
        }
    }
    aempi_dict_clear(d);
}

static void remote_free(aemp_remote *r)
{
    if (r->node->last_remote == r)
        r->node->last_remote = NULL;
    r->node->remote_epoch++;
    aempi_kernel_remote_stop_connecting(r);
    aemp_unref(r->queue);
    aempi_dict_clear(&r->trials);
    free_monitor_lists(&r->lmon);
    aempi_dict_clear(&r->rmon); /* those monitors live on our ports */
    free(r->last_error);
    aemp_unref(r->idv);
    free(r);
}

static int remote_idle(const aemp_remote *r)
{
    aemp_node *n = r->node;
    return !r->link && !r->queue && !r->connect_to && !r->connect_w &&
           !r->trials.count && !r->lmon.count && !r->firing &&
           !aempi_kernel_is_seed_node(n, r->id) && !n->hooks.keeps(n, r->id);
}

static void on_reap(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    aempi_kernel_remotes_reap(ud);
}

void aempi_kernel_remote_may_be_idle(aemp_remote *r)
{
    aemp_node *n = r->node;
    if (r->reap_listed)
        return;
    if (!n->remote_reap_ev &&
        !(n->remote_reap_ev = event_new(n->base, -1, 0, on_reap, n)))
        return; /* kept: memory, not correctness */
    r->reap_listed = 1;
    r->reap_next = n->reap_remotes;
    n->reap_remotes = r;
    event_active(n->remote_reap_ev, 0, 0);
}

/* An idle entry goes, and with it the node's monitors of our ports: a
 * node that comes back has lost them, as its own side of them fired when
 * the link went (Perl's mon1 callbacks hold the node weakly). */
static void forget(aemp_node *n, aemp_remote *r)
{
    for (aemp_dict_entry *e = aempi_dict_next(&r->rmon, NULL); e;
         e = aempi_dict_next(&r->rmon, e))
        aemp_mon_cancel(n,
                        (aemp_port_mon_id){((aemp_monitor *)e->value)->id});
    aempi_dict_clear(&r->rmon);
    aempi_dict_del(&n->remotes, r->id);
    remote_free(r);
}

void aempi_kernel_remotes_reap(aemp_node *n)
{
    aemp_remote *list = n->reap_remotes;
    n->reap_remotes = NULL;
    while (list) {
        aemp_remote *r = list;
        list = r->reap_next;
        r->reap_next = NULL;
        r->reap_listed = 0;
        if (remote_idle(r))
            forget(n, r);
    }
}

void aempi_kernel_remote_let_go(aemp_node *n, const char *id)
{
    aemp_remote *r = id ? aempi_dict_get(&n->remotes, id) : NULL;
    if (r)
        aempi_kernel_remote_may_be_idle(r);
}

aemp_remote *aempi_kernel_remote_get(aemp_node *n, const char *id, int create)
{
    aemp_remote *r = n->last_remote;
    if (r && !strcmp(r->id, id))
        return r;
    r = aempi_dict_get(&n->remotes, id);
    if (r)
        n->last_remote = r;
    if (r || !create || !*id)
        return r;
    r = calloc(1, sizeof *r);
    if (!r || !(r->idv = aemp_str(id)) || aempi_dict_set(&n->remotes, id, r)) {
        if (r)
            aemp_unref(r->idv);
        free(r);
        return NULL;
    }
    r->id = aemp_str_ptr(r->idv, NULL);
    r->node = n;
    /* in case the caller ends up with nothing for it */
    aempi_kernel_remote_may_be_idle(r);
    return r;
}

void aempi_kernel_remotes_free(aemp_node *n)
{
    for (aemp_dict_entry *e = aempi_dict_next(&n->remotes, NULL); e;
         e = aempi_dict_next(&n->remotes, e))
        remote_free(e->value);
    aempi_dict_clear(&n->remotes);
    n->reap_remotes = NULL;
    if (n->remote_reap_ev)
        event_free(n->remote_reap_ev);
    n->remote_reap_ev = NULL;
}
