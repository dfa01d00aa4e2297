/* libaemp: remote nodes (Node.pm's AnyEvent::MP::Node::Remote) and what
 * links tell the kernel: messages queue until a link is up, a connect
 * tries the known addresses with a stagger and gives up after
 * connect_interval, and a failing link fires every monitor of that node's
 * ports with (transport_error, NODE, MESSAGE). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "aemp/version.h"
#include "config.h"
#include "kernel.h"
#include "random.h"
#include "value_cbor.h"

/* ---- connect attempts ---- */

static void stop_connecting(aemp_remote *r)
{
    if (r->connect_to)
        event_free(r->connect_to);
    if (r->connect_w)
        event_free(r->connect_w);
    r->connect_to = r->connect_w = NULL;
    aemp_unref(r->addresses);
    r->addresses = NULL;
}

void aempi_kernel_remote_stop_connecting(aemp_remote *r)
{
    stop_connecting(r);
}

/* ---- node events ---- */

void aempi_kernel_node_event(aemp_node *n, const char *id, int up,
                             const aemp_val *reason)
{
    if (up)
        aemp_log_ctx(n, 7, LOG_KERNEL, "%s is up.", id);
    else {
        char *why = aemp_to_json(reason, NULL);
        aemp_log_ctx(n, 7, LOG_KERNEL, "%s is down (%s).", id, why ? why : "");
        free(why);
    }
    /* the kernel's own reactions first: seeds are looked after */
    for (size_t i = 0; i < n->nseeds; i++)
        if (n->seeds[i].nodeid && !strcmp(n->seeds[i].nodeid, id) && !up)
            aempi_kernel_seed_again(n);
    n->hooks.node_event(n, id, up);
    if (!n->node_mons)
        return;
    aemp_job *job = aempi_kernel_job_alloc(n);
    if (!job)
        return;
    job->kind = JOB_NODE_EVENT;
    job->name = strdup(id);
    job->up = up;
    job->val = up ? aemp_array() : aemp_copy(reason);
    aempi_kernel_queue_job(n, job);
}

void aempi_kernel_run_node_event(aemp_node *n, aemp_job *job)
{
    for (aemp_node_mon *m = n->node_mons; m; m = m->next)
        if (m->cb)
            m->cb(n, job->name, job->up, job->val, m->ud);
    /* drop the ones cancelled meanwhile */
    for (aemp_node_mon **p = &n->node_mons; *p;) {
        if (!(*p)->cb) {
            aemp_node_mon *dead = *p;
            *p = dead->next;
            free(dead);
        } else
            p = &(*p)->next;
    }
}

aemp_node_mon_id aemp_mon_nodes(aemp_node *n, aemp_node_cb cb, void *ud)
{
    const aemp_node_mon_id none = {0};
    if (!n || aempi_kernel_check_cb(n, "aemp_mon_nodes", cb != NULL))
        return none;
    aemp_node_mon *m = calloc(1, sizeof *m);
    if (!m)
        return none;
    m->id = ++n->next_mon_id;
    m->cb = cb;
    m->ud = ud;
    /* append, so callbacks run in registration order */
    aemp_node_mon **p = &n->node_mons;
    while (*p)
        p = &(*p)->next;
    *p = m;
    return (aemp_node_mon_id){m->id};
}

void aemp_mon_nodes_cancel(aemp_node *n, aemp_node_mon_id id)
{
    if (!n)
        return;
    /* only marked: a node event may be iterating the list right now */
    for (aemp_node_mon *m = n->node_mons; m; m = m->next)
        if (m->id == id.id)
            m->cb = NULL;
}

int aemp_node_is_up(const aemp_node *n, const char *nodeid)
{
    if (!n || !nodeid)
        return -1; /* Perl: nothing is known about undef */
    if (!strcmp(nodeid, n->id))
        return 1;
    aemp_remote *r = aempi_dict_get(&n->remotes, nodeid);
    return r ? r->link != NULL : -1;
}

const char *aemp_node_provider(aemp_node *n, const char *nodeid)
{
    if (!n || !nodeid)
        return NULL;
    if (!strcmp(nodeid, n->id))
        return AEMP_PROVIDER;
    aemp_remote *r = aempi_dict_get(&n->remotes, nodeid);
    return r && r->link ? aempi_link_provider(r->link) : NULL;
}

aemp_val *aemp_up_nodes(const aemp_node *n)
{
    if (!n)
        return NULL;
    aemp_val *list = aemp_array();
    for (aemp_dict_entry *e = aempi_dict_next(&n->remotes, NULL); list && e;
         e = aempi_dict_next(&n->remotes, e)) {
        aemp_remote *r = e->value;
        if (r->link)
            aemp_array_push(list, aemp_str(r->id));
    }
    return list;
}

/* ---- sending and connecting ---- */

/* Messages for a node without a link count against max_send_queue too:
 * past it they are given up as a link's would be. */
static int queue_over_cap(aemp_remote *r, size_t size)
{
    size_t cap = r->node->max_send_queue;
    if (size <= cap && r->queue_bytes <= cap - size)
        return 0;
    char why[96];
    snprintf(why, sizeof why, AEMP_SEND_CAP_FMT, cap);
    aempi_kernel_remote_error(r, why);
    return 1;
}

void aempi_kernel_remote_send(aemp_remote *r, aemp_val *msg)
{
    if (r->link && !r->firing) {
        aempi_link_send(r->link, msg);
        aemp_unref(msg);
        return;
    }
    size_t size = aempi_cbor_size_bound(msg);
    if (queue_over_cap(r, size) ||
        (!r->queue && !(r->queue = aemp_array()))) {
        aemp_unref(msg);
        return;
    }
    aemp_array_push(r->queue, msg);
    r->queue_bytes += size;
    aempi_kernel_remote_connect(r);
}

static void on_connect_timeout(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    aemp_remote *r = ud;
    aemp_node *n = r->node;
    aempi_kernel_io_enter(n);
    aempi_kernel_remote_error(r, "connect timeout");
    aempi_kernel_io_leave(n);
}

static struct timeval seconds(double s)
{
    struct timeval tv;
    tv.tv_sec = (time_t)s;
    tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
    return tv;
}

void aempi_kernel_remote_connect(aemp_remote *r)
{
    aemp_node *n = r->node;
    if (r->link || r->connect_w || r->firing)
        return;
    if (!r->connect_to) {
        r->connect_to = event_new(n->base, -1, 0, on_connect_timeout, r);
        struct timeval tv = seconds(n->connect_interval);
        if (r->connect_to)
            event_add(r->connect_to, &tv);
    }
    /* Where the node lives a higher layer knows (the global protocol:
     * its master, or its own 'l on a global node). A lookup that waits
     * may run into the connect timeout, as a Perl node's does. */
    aemp_val *addrs = NULL;
    switch (n->hooks.addresses(n, r->id, &addrs)) {
    case KERNEL_ADDR_LOOKING: break;
    case KERNEL_ADDR_FOUND: aempi_kernel_remote_connect_to(r, addrs); break;
    case KERNEL_ADDR_NONE:
        aempi_kernel_remote_error(r, "no known address");
        break;
    }
    aemp_unref(addrs);
}

static void try_next_address(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    aemp_remote *r = ud;
    aemp_node *n = r->node;
    if (r->next_address >= aemp_array_len(r->addresses))
        return; /* all tried; wait for them or for the timeout */
    const char *endpoint =
        aemp_str_ptr(aemp_array_at(r->addresses, r->next_address++), NULL);
    double jitter = 0.9 + 0.1 * aempi_random_unit();
    struct timeval tv = seconds(r->stagger * jitter);
    event_add(r->connect_w, &tv);
    if (!endpoint || aempi_dict_get(&r->trials, endpoint))
        return;
    aemp_log_ctx(n, 9, LOG_KERNEL, "connecting to %s at %s", r->id, endpoint);
    char *host, *port;
    if (aempi_parse_hostport(endpoint, NULL, &host, &port)) {
        aemp_log_ctx(n, 3, LOG_KERNEL,
                     "%s: '%s' is not a resolved node reference.", r->id,
                     endpoint);
        return;
    }
    aemp_link *l = aempi_link_connect(&n->transport, host, port);
    free(host);
    free(port);
    if (!l)
        return;
    /* a trial points at r: r stays while its trials list the link */
    if (!aempi_dict_set(&r->trials, endpoint, l))
        aemp_link_owner_of(l)->trial = r;
}

void aempi_kernel_remote_connect_to(aemp_remote *r, const aemp_val *addresses)
{
    aemp_node *n = r->node;
    /* a data connection may be waiting for the same answer */
    aempi_kernel_dataconn_addresses(n, r->id, addresses);
    if (r->link || r->connect_w || r->firing)
        return;
    size_t count = aemp_array_len(addresses);
    if (!count) {
        aempi_kernel_remote_error(r, "no known address");
        return;
    }
    /* Node.pm connect_to: spread the attempts over what is left of
     * monitor_timeout, but no faster than one every 0.4 s. */
    double interval = n->connect_interval;
    double share = (n->monitor_timeout - interval) / (double)count;
    if (share < interval)
        interval = share;
    if (interval < 0.4)
        interval = 0.4;
    r->stagger = interval;
    r->addresses = aemp_copy(addresses);
    r->next_address = 0;
    r->connect_w = event_new(n->base, -1, 0, try_next_address, r);
    if (!r->addresses || !r->connect_w) {
        stop_connecting(r);
        return;
    }
    struct timeval now = {0, 0};
    event_add(r->connect_w, &now);
}

/* Node.pm transport_error. Perl runs the monitors right here; ours run
 * before any other job, at the end of the event callback that found the
 * failure (aempi_kernel_io_leave), and until the last of them has run, what is
 * sent to the node waits in its queue: nothing sent after the failure can
 * arrive before the monitors have fired. */
void aempi_kernel_remote_error(aemp_remote *r, const char *msg)
{
    aemp_node *n = r->node;
    int had_link = r->link != NULL;
    if (had_link)
        aemp_link_owner_of(r->link)->remote = NULL;
    r->link = NULL;
    stop_connecting(r);
    aemp_unref(r->queue); /* the queue is lost, as in Perl */
    r->queue = NULL;
    r->queue_bytes = 0;
    aemp_val *reason = aemp_arrayv(aemp_str("transport_error"),
                                   aemp_str(r->id), aemp_str(msg), NULL);
    for (aemp_dict_entry *e = aempi_dict_next(&r->lmon, NULL); e;
         e = aempi_dict_next(&r->lmon, e))
        r->firing += aempi_kernel_fire_list(n, e->value, reason, r->id);
    aempi_dict_clear(&r->lmon);
    if (had_link)
        aempi_kernel_node_event(n, r->id, 0, reason);
    aemp_log_ctx(n, 9, LOG_KERNEL, "transport_error %s %s", r->id, msg);
    aemp_unref(reason);
    aempi_kernel_remote_may_be_idle(r);
}

/* The queue goes out on the link, in order. */
static void send_queue(aemp_remote *r)
{
    aemp_link *link = r->link;
    aemp_val *queue = r->queue;
    r->queue = NULL;
    r->queue_bytes = 0;
    for (size_t i = 0; i < aemp_array_len(queue) && r->link == link; i++)
        aempi_link_send(link, aemp_array_at(queue, i));
    aemp_unref(queue);
}

void aempi_kernel_remote_fired(aemp_node *n, const char *id)
{
    aemp_remote *r = aempi_kernel_remote_get(n, id, 0);
    if (!r || !r->firing || --r->firing)
        return;
    /* the monitors have run: what was sent meanwhile may go */
    if (r->link)
        send_queue(r);
    else if (r->queue)
        aempi_kernel_remote_connect(r);
    else
        aempi_kernel_remote_may_be_idle(r); /* the monitors were all it kept */
}

/* ---- monitors of remote ports ---- */

static const char *portid_of(const char *port)
{
    const char *hash = strchr(port, '#');
    return hash ? hash + 1 : "";
}

void aempi_kernel_remote_monitor(aemp_remote *r, aemp_monitor *m)
{
    const char *portid = portid_of(m->port);
    aemp_monitor *list = aempi_dict_get(&r->lmon, portid);
    /* one mon1 per port, however many local monitors; a node port is
     * watched by its link alone */
    if (!list && *portid)
        aempi_kernel_remote_send(r, aemp_arrayv(aemp_str(""), aemp_str("mon1"),
                                                aemp_str(portid), NULL));
    m->next = list;
    aempi_dict_set(&r->lmon, portid, m);
}

void aempi_kernel_remote_unmonitor(aemp_remote *r, aemp_monitor *m)
{
    const char *portid = portid_of(m->port);
    aemp_monitor *list = aempi_dict_get(&r->lmon, portid), **p = &list;
    while (*p && *p != m)
        p = &(*p)->next;
    if (!*p)
        return;
    *p = m->next;
    if (list) {
        aempi_dict_set(&r->lmon, portid, list);
        return;
    }
    aempi_dict_del(&r->lmon, portid);
    aempi_kernel_remote_may_be_idle(r); /* that may have been all it kept */
    if (*portid)
        aempi_kernel_remote_send(r, aemp_arrayv(aemp_str(""), aemp_str("mon0"),
                                                aemp_str(portid), NULL));
}

/* ---- what links tell the kernel ---- */

int aempi_kernel_link_greeted(aemp_node *n, aemp_link *link, const char *rnode,
                              const char **why)
{
    aemp_link_owner *o = aemp_link_owner_of(link);
    if (o->seed)
        aempi_kernel_seed_greeted(n, o->seed, rnode);
    if (!strcmp(rnode, n->id)) {
        *why = "I refuse to talk to myself";
        return 1;
    }
    aemp_remote *r = aempi_kernel_remote_get(n, rnode, 0);
    if (r && r->link) {
        static const char fmt[] = "%s already connected, not connecting "
                                  "again.";
        aempi_buf_reset(&n->scratch);
        aempi_buf_printf(&n->scratch, fmt, rnode);
        *why = n->scratch.p;
        return 1;
    }
    return 0;
}

/* Takes link out of r's connect attempts, which are keyed by the address
 * tried. */
static void forget_trial(aemp_remote *r, const aemp_link *link)
{
    for (aemp_dict_entry *e = aempi_dict_next(&r->trials, NULL); e;
         e = aempi_dict_next(&r->trials, e))
        if (e->value == link) {
            aempi_dict_del(&r->trials, e->key); /* frees e: stop here */
            return;
        }
}

/* The connect attempts that made this link, or lost the race, end. */
static void release_owner(aemp_node *n, aemp_link *link)
{
    aemp_link_owner *o = aemp_link_owner_of(link);
    if (o->seed) {
        o->seed->connect = NULL;
        o->seed = NULL;
    }
    (void)n;
    if (o->trial) {
        forget_trial(o->trial, link);
        aempi_kernel_remote_may_be_idle(o->trial);
    }
    o->trial = NULL;
}

/* Node.pm transport_connect. */
void aempi_kernel_link_up(aemp_node *n, aemp_link *link)
{
    release_owner(n, link);
    aemp_remote *r = aempi_kernel_remote_get(n, aempi_link_remote_id(link), 1);
    if (!r) {
        aempi_link_close(link, "out of memory");
        return;
    }
    /* other attempts for this node are no longer wanted */
    for (aemp_dict_entry *e = aempi_dict_next(&r->trials, NULL); e;
         e = aempi_dict_next(&r->trials, e)) {
        aemp_link *t = e->value;
        aemp_link_owner_of(t)->trial = NULL;
        aempi_link_close(t, "superseded");
    }
    aempi_dict_clear(&r->trials);
    if (r->link) {
        aemp_link *old = r->link;
        aempi_kernel_remote_error(r, "switched connections");
        aempi_link_close(old, "switched connections");
    }
    stop_connecting(r);
    r->link = link;
    aemp_link_owner_of(link)->remote = r;
    aempi_kernel_node_event(n, r->id, 1, NULL);
    if (!r->firing) /* else once the monitors of a failure have run */
        send_queue(r);
}

void aempi_kernel_link_error(aemp_node *n, aemp_link *link, const char *msg)
{
    aempi_kernel_note_link_error(n, link, msg);
    release_owner(n, link);
    aemp_remote *r = aemp_link_owner_of(link)->remote;
    if (r && r->link == link)
        aempi_kernel_remote_error(r, msg);
}

void aempi_kernel_link_frame(aemp_node *n, aemp_link *link, aemp_val *frame)
{
    /* the jobs this frame queues hold a reference to the sender's id */
    aemp_remote *r = aemp_link_owner_of(link)->remote;
    const char *src = r ? r->id : aempi_link_remote_id(link);
    if (!aempi_item(frame, 0)) { /* (items are never NULL) */
        /* Perl would die in its read callback; we drop the message */
        char *text = aemp_to_json(frame, NULL);
        aemp_log_ctx(n, 4, LOG_KERNEL,
                     "malformed message from %s dropped (not a non-empty "
                     "array): %.200s",
                     src, text ? text : "");
        free(text);
        aemp_unref(frame);
        return;
    }
    if (r) {
        aempi_kernel_inject(n, r->idv, frame);
        return;
    }
    aemp_val *id = aemp_str(src);
    aempi_kernel_inject(n, id, frame);
    aemp_unref(id);
}
