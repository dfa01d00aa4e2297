/* libaemp: monitors (AnyEvent::MP's mon in its three forms, mon1/mon0
 * for remote nodes watching our ports, Kernel.pm's _monitor). A monitor
 * fires once; firing goes through the job queue. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

/* ---- monitors ---- */

aemp_monitor *aempi_kernel_monitor_new(aemp_node *n, aemp_mon_kind kind,
                                       const char *port)
{
    aemp_monitor *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->kind = kind;
    m->port = strdup(port);
    m->id = ++n->next_mon_id;
    if (!m->port) {
        free(m);
        return NULL;
    }
    return m;
}

void aempi_kernel_monitor_free(aemp_monitor *m)
{
    free(m->port);
    free(m->target);
    aemp_unref(m->msg);
    free(m);
}

static void mon_key(uint64_t id, char key[24])
{
    snprintf(key, 24, "%llu", (unsigned long long)id);
}

uint64_t aempi_kernel_monitor_add(aemp_node *n, aemp_monitor *m)
{
    char key[24];
    mon_key(m->id, key);
    if (aempi_dict_set(&n->monitors, key, m))
        return 0;
    return m->id;
}

size_t aempi_kernel_fire_list(aemp_node *n, aemp_monitor *list,
                              const aemp_val *reason, const char *remote)
{
    size_t for_remote = 0;
    while (list) {
        aemp_monitor *m = list;
        list = m->next;
        m->next = NULL;
        char key[24];
        mon_key(m->id, key);
        aempi_dict_del(&n->monitors, key);
        aemp_job *job = aempi_kernel_job_new(n, JOB_FIRE, remote,
                                             aemp_copy(reason));
        if (!job) {
            aempi_kernel_monitor_free(m);
            continue;
        }
        job->mon = m;
        for_remote += job->name != NULL;
        aempi_kernel_queue_job(n, job);
    }
    return for_remote;
}

void aempi_kernel_run_fire(aemp_node *n, aemp_monitor *m,
                           const aemp_val *reason)
{
    size_t nr = aemp_array_len(reason);
    switch (m->kind) {
    case MON_CB:
        m->cb(n, m->port, reason, m->ud);
        break;
    case MON_KIL: /* only abnormal deaths propagate */
        if (nr)
            aemp_kil(n, m->target, aemp_copy(reason));
        break;
    case MON_SND: {
        aemp_val *msg = aemp_copy(m->msg);
        for (size_t i = 0; msg && i < nr; i++)
            aemp_array_push(msg, aemp_ref(aemp_array_at(reason, i)));
        aemp_snd(n, m->target, msg);
        break;
    }
    case MON_REMOTE: { /* a remote node watches our port: tell it */
        const char *localid = strchr(m->port, '#') + 1;
        aemp_remote *r = aempi_kernel_remote_get(n, m->target, 0);
        if (!r)
            break;
        aemp_monitor *mine = aempi_dict_get(&r->rmon, localid);
        if (mine == m)
            aempi_dict_del(&r->rmon, localid);
        if (r->link) {
            aemp_val *wire = aemp_arrayv(aemp_str(""), aemp_str("kil0"),
                                         aemp_str(localid), NULL);
            for (size_t i = 0; wire && i < nr; i++)
                aemp_array_push(wire, aemp_ref(aemp_array_at(reason, i)));
            if (wire)
                aempi_kernel_remote_send(r, wire);
        }
        break;
    }
    }
}

/* Adds m to the local port it names; a missing port fires at once (from
 * the queue) with no_such_port, as Kernel.pm's _monitor. */
static uint64_t monitor_local(aemp_node *n, aemp_monitor *m)
{
    const char *localid = strchr(m->port, '#');
    localid = localid ? localid + 1 : "";
    if (!*localid) {
        /* our node port always exists and never dies (Perl's _monitor
         * finds $PORT{""}): kept until cancelled or the node goes */
        if (!aempi_kernel_monitor_add(n, m)) {
            aempi_kernel_monitor_free(m);
            return 0;
        }
        m->next = n->self_mons;
        n->self_mons = m;
        return m->id;
    }
    aemp_lport *p = aempi_kernel_port_find(n, localid);
    if (!p) {
        uint64_t id = m->id;
        aemp_val *reason = aemp_arrayv(
            aemp_str("no_such_port"),
            aemp_str("cannot monitor nonexistent port"),
            aemp_strf("%s#%s", n->id, localid), NULL);
        aempi_kernel_fire_list(n, m, reason, NULL);
        aemp_unref(reason);
        return id;
    }
    if (!aempi_kernel_monitor_add(n, m)) {
        aempi_kernel_monitor_free(m);
        return 0;
    }
    m->next = p->mons;
    p->mons = m;
    return m->id;
}

/* Registers a new monitor where its port lives. */
static uint64_t monitor_register(aemp_node *n, aemp_monitor *m)
{
    if (aemp_port_is_local(n, m->port))
        return monitor_local(n, m);
    const char *portid;
    char *nodeid = aempi_kernel_split_port(m->port, &portid);
    aemp_remote *r = nodeid && *nodeid ? aempi_kernel_remote_get(n, nodeid, 1)
                                       : NULL;
    free(nodeid);
    if (!r || !aempi_kernel_monitor_add(n, m)) {
        aempi_kernel_monitor_free(m);
        return 0;
    }
    aempi_kernel_remote_monitor(r, m);
    return m->id;
}

/* The same, with the handle for the user. */
static aemp_port_mon_id monitor_start(aemp_node *n, aemp_monitor *m)
{
    return (aemp_port_mon_id){monitor_register(n, m)};
}

aemp_port_mon_id aemp_mon(aemp_node *n, const char *port, aemp_mon_cb cb,
                          void *ud)
{
    const aemp_port_mon_id none = {0};
    if (!n || aempi_kernel_check_port(n, port) ||
        aempi_kernel_check_cb(n, "aemp_mon", cb != NULL))
        return none;
    aemp_monitor *m = aempi_kernel_monitor_new(n, MON_CB, port);
    if (!m)
        return none;
    m->cb = cb;
    m->ud = ud;
    return monitor_start(n, m);
}

aemp_port_mon_id aemp_mon_kil(aemp_node *n, const char *port,
                              const char *rcvport)
{
    const aemp_port_mon_id none = {0};
    if (!n || aempi_kernel_check_port(n, port))
        return none;
    /* Perl's one-argument mon: kill $SELF */
    if (!rcvport && !(rcvport = n->self)) {
        aempi_kernel_refuse(n, "mon: called with one argument only, but $SELF "
                         "not set,");
        return none;
    }
    if (aempi_kernel_check_kil(n, rcvport))
        return none;
    aemp_monitor *m = aempi_kernel_monitor_new(n, MON_KIL, port);
    if (!m)
        return none;
    if (!(m->target = strdup(rcvport))) {
        aempi_kernel_monitor_free(m);
        return none;
    }
    return monitor_start(n, m);
}

aemp_port_mon_id aemp_mon_snd(aemp_node *n, const char *port,
                              const char *rcvport, aemp_val *msg)
{
    const aemp_port_mon_id none = {0};
    aemp_monitor *m = NULL;
    if (!n || aempi_kernel_check_port(n, port) ||
        aempi_kernel_check_port(n, rcvport) ||
        aempi_kernel_check_array(n, "aemp_mon_snd: the message", msg) ||
        !(m = aempi_kernel_monitor_new(n, MON_SND, port))) {
        aemp_unref(msg);
        return none;
    }
    m->msg = msg;
    if (!(m->target = strdup(rcvport))) {
        aempi_kernel_monitor_free(m);
        return none;
    }
    return monitor_start(n, m);
}

/* Removes m from the list at *head; 1 if it was there. */
static int list_unlink(aemp_monitor **head, aemp_monitor *m)
{
    for (; *head; head = &(*head)->next)
        if (*head == m) {
            *head = m->next;
            m->next = NULL;
            return 1;
        }
    return 0;
}

void aemp_mon_cancel(aemp_node *n, aemp_port_mon_id id)
{
    if (!n)
        return;
    char key[24];
    mon_key(id.id, key);
    aemp_monitor *m = aempi_dict_del(&n->monitors, key);
    if (!m)
        return; /* fired or cancelled already */
    if (aemp_port_is_local(n, m->port)) {
        const char *localid = strchr(m->port, '#');
        localid = localid ? localid + 1 : "";
        aemp_lport *p = aempi_kernel_port_find(n, localid);
        if (p)
            list_unlink(&p->mons, m);
        else if (!*localid)
            list_unlink(&n->self_mons, m);
        aempi_kernel_monitor_free(m);
        return;
    }
    const char *portid;
    char *nodeid = aempi_kernel_split_port(m->port, &portid);
    aemp_remote *r = nodeid ? aempi_kernel_remote_get(n, nodeid, 0) : NULL;
    free(nodeid);
    if (r)
        aempi_kernel_remote_unmonitor(r, m);
    aempi_kernel_monitor_free(m);
}

/* A remote node asks to monitor our port (mon1). */
void aempi_kernel_rmon_add(aemp_node *n, aemp_remote *r, const char *localid)
{
    if (aempi_dict_get(&r->rmon, localid))
        return; /* already watched for that node */
    size_t len = strlen(n->id) + strlen(localid) + 2;
    char *port = malloc(len);
    if (!port)
        return;
    snprintf(port, len, "%s#%s", n->id, localid);
    aemp_monitor *m = aempi_kernel_monitor_new(n, MON_REMOTE, port);
    free(port);
    if (!m || !(m->target = strdup(r->id))) {
        if (m)
            aempi_kernel_monitor_free(m);
        return;
    }
    if (aempi_kernel_port_find(n, localid))
        aempi_dict_set(&r->rmon, localid, m);
    monitor_local(n, m);
}

/* mon0: the remote node no longer watches our port. */
void aempi_kernel_rmon_del(aemp_node *n, aemp_remote *r, const char *localid)
{
    aemp_monitor *m = aempi_dict_del(&r->rmon, localid);
    if (m)
        aemp_mon_cancel(n, (aemp_port_mon_id){m->id});
}
