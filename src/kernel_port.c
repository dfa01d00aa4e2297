/* libaemp: local ports, messages, kills and monitors (AnyEvent::MP's port,
 * rcv, snd, kil, mon; Kernel.pm's _inject, _kill, _monitor).
 *
 * Every user callback runs from the node's job queue, drained by an event
 * on the caller's event_base: a message sent from inside a callback is
 * never delivered inside the aemp_snd() call, and the network code never
 * has user code on its stack. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "kernel.h"

/* ---- ids ---- */

/* Perl's magic string increment, as ++$ID from "a": b, c, ... z, aa, ab. */
void kernel_string_increment(char *s, size_t cap)
{
    size_t len = strlen(s);
    for (size_t i = len; i-- > 0;) {
        if (s[i] != 'z') {
            s[i]++;
            return;
        }
        s[i] = 'a';
    }
    if (len + 2 <= cap) {
        memmove(s + 1, s, len + 1);
        s[0] = 'a';
    }
}

char *kernel_next_id(aemp_node *n, const char *prefix)
{
    kernel_string_increment(n->id_counter, sizeof n->id_counter);
    size_t len = strlen(prefix) + strlen(n->id_counter) + 1;
    char *id = malloc(len);
    if (id)
        snprintf(id, len, "%s%s", prefix, n->id_counter);
    return id;
}

/* Splits "NODE#PORT" at the first '#'; a node id alone names the node
 * port "". Returns a malloc'd node id and points *portid into port. */
static char *split_port(const char *port, const char **portid)
{
    const char *hash = strchr(port, '#');
    size_t nlen = hash ? (size_t)(hash - port) : strlen(port);
    *portid = hash ? hash + 1 : "";
    char *node = malloc(nlen + 1);
    if (node) {
        memcpy(node, port, nlen);
        node[nlen] = 0;
    }
    return node;
}

char *aemp_node_of(const char *port)
{
    const char *portid;
    return split_port(port, &portid);
}

int aemp_port_is_local(const aemp_node *n, const char *port)
{
    const char *hash = strchr(port, '#');
    size_t nlen = hash ? (size_t)(hash - port) : strlen(port);
    return nlen == strlen(n->id) && !memcmp(port, n->id, nlen);
}

/* ---- the job queue ---- */

void kernel_queue_job(aemp_node *n, aemp_job *job)
{
    job->next = NULL;
    if (n->dispatching && job->kind == JOB_FIRE) {
        /* monitors fired by the job running now run right after it */
        *n->urgent_tail = job;
        n->urgent_tail = &job->next;
        return;
    }
    *n->jobs_tail = job;
    n->jobs_tail = &job->next;
    event_active(n->jobs_ev, 0, 0);
}

/* Jobs are the per-message allocation: reuse them. */
#define JOB_POOL_MAX 1024

aemp_job *kernel_job_alloc(aemp_node *n)
{
    aemp_job *job = n->job_pool;
    if (job) {
        n->job_pool = job->next;
        n->job_pool_len--;
        memset(job, 0, sizeof *job);
        return job;
    }
    return calloc(1, sizeof *job);
}

static aemp_job *job_new(aemp_node *n, aemp_job_kind kind, const char *name,
                         aemp_val *val)
{
    aemp_job *job = kernel_job_alloc(n);
    if (!job) {
        aemp_unref(val);
        return NULL;
    }
    job->kind = kind;
    job->name = name ? strdup(name) : NULL;
    job->val = val;
    return job;
}

void kernel_queue_call(aemp_node *n, aemp_job_fn fn, const char *name,
                       aemp_val *val, uint64_t id)
{
    aemp_job *job = job_new(n, JOB_CALL, name, val);
    if (!job)
        return;
    job->fn = fn;
    job->id = id;
    kernel_queue_job(n, job);
}

static void job_free(aemp_node *n, aemp_job *job)
{
    free(job->name);
    free(job->src_owned);
    aemp_unref(job->port);
    aemp_unref(job->val);
    if (job->mon)
        kernel_monitor_free(job->mon);
    if (n && n->job_pool_len < JOB_POOL_MAX) {
        job->next = n->job_pool;
        n->job_pool = job;
        n->job_pool_len++;
    } else
        free(job);
}

void kernel_jobs_free(aemp_node *n)
{
    while (n->urgent) {
        aemp_job *next = n->urgent->next;
        job_free(NULL, n->urgent);
        n->urgent = next;
    }
    n->urgent_tail = &n->urgent;
    while (n->jobs) {
        aemp_job *next = n->jobs->next;
        job_free(NULL, n->jobs);
        n->jobs = next;
    }
    n->jobs_tail = &n->jobs;
    while (n->job_pool) {
        aemp_job *next = n->job_pool->next;
        free(n->job_pool);
        n->job_pool = next;
    }
    n->job_pool_len = 0;
}

/* ---- ports ---- */

aemp_lport *kernel_port_find(aemp_node *n, const char *localid)
{
    return aemp_dict_get(&n->ports, localid);
}

static aemp_lport *port_create(aemp_node *n, const char *localid)
{
    aemp_lport *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->id = strdup(localid);
    size_t len = strlen(n->id) + strlen(localid) + 2;
    p->full = malloc(len);
    if (!p->id || !p->full || aemp_dict_set(&n->ports, localid, p)) {
        free(p->id);
        free(p->full);
        free(p);
        return NULL;
    }
    snprintf(p->full, len, "%s#%s", n->id, localid);
    return p;
}

static void port_free(aemp_lport *p)
{
    while (p->tags) {
        aemp_tag_cb *next = p->tags->next;
        free(p->tags);
        p->tags = next;
    }
    free(p->id);
    free(p->full);
    free(p);
}

void kernel_ports_free(aemp_node *n)
{
    while (n->self_mons) {
        aemp_monitor *next = n->self_mons->next;
        kernel_monitor_free(n->self_mons);
        n->self_mons = next;
    }
    for (aemp_dict_entry *e = aemp_dict_next(&n->ports, NULL); e;
         e = aemp_dict_next(&n->ports, e)) {
        aemp_lport *p = e->value;
        while (p->mons) {
            aemp_monitor *next = p->mons->next;
            kernel_monitor_free(p->mons);
            p->mons = next;
        }
        port_free(p);
    }
    aemp_dict_clear(&n->ports);
}

char *aemp_port(aemp_node *n, aemp_recv_cb cb, void *ud)
{
    char *localid = kernel_next_id(n, n->uniq);
    aemp_lport *p = localid ? port_create(n, localid) : NULL;
    free(localid);
    if (!p)
        return NULL;
    p->dflt = cb;
    p->dflt_ud = ud;
    p->kill_unmatched = cb == NULL;
    return strdup(p->full);
}

int aemp_rcv(aemp_node *n, const char *port, const char *tag,
             aemp_recv_cb cb, void *ud)
{
    const char *localid;
    if (!aemp_port_is_local(n, port))
        return AEMP_EINVAL; /* rcv can only be called on local ports */
    free(split_port(port, &localid));
    if (!*localid)
        return AEMP_EINVAL;
    aemp_lport *p = kernel_port_find(n, localid);
    if (!p && !(p = port_create(n, localid)))
        return AEMP_ENOMEM;
    if (!tag) {
        p->dflt = cb;
        p->dflt_ud = ud;
        p->kill_unmatched = 0;
        return AEMP_OK;
    }
    for (aemp_tag_cb **t = &p->tags; *t; t = &(*t)->next) {
        if (!strcmp((*t)->tag, tag)) {
            if (cb) {
                (*t)->cb = cb;
                (*t)->ud = ud;
            } else {
                aemp_tag_cb *dead = *t;
                *t = dead->next;
                free(dead);
            }
            return AEMP_OK;
        }
    }
    if (!cb)
        return AEMP_OK;
    aemp_tag_cb *t = malloc(sizeof *t + strlen(tag) + 1);
    if (!t)
        return AEMP_ENOMEM;
    t->cb = cb;
    t->ud = ud;
    strcpy(t->tag, tag);
    t->next = p->tags;
    p->tags = t;
    return AEMP_OK;
}

void aemp_die(aemp_node *n, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    aemp_buf_reset(&n->die_msg);
    aemp_buf_puts(&n->die_msg, msg);
    n->die_set = 1;
}

const char *aemp_self(const aemp_node *n)
{
    return n->self;
}

const char *aemp_srcnode(const aemp_node *n)
{
    return n->srcnode;
}

/* ---- sending ---- */

/* Queues delivery of msg (taken) to the local port named by port (taken,
 * a string). src must outlive the job: a remote's id or our own. */
static void queue_message(aemp_node *n, const char *src, aemp_val *port,
                          aemp_val *msg, aemp_job_fn fn)
{
    aemp_job *job = kernel_job_alloc(n);
    if (!job || (!port && !fn)) {
        free(job);
        aemp_unref(port);
        aemp_unref(msg);
        return;
    }
    job->kind = fn ? JOB_CALL : JOB_DELIVER;
    job->fn = fn;
    job->port = port;
    job->src = src;
    job->val = msg;
    kernel_queue_job(n, job);
}

static void queue_delivery(aemp_node *n, const char *src, aemp_val *port,
                           aemp_val *msg)
{
    queue_message(n, src, port, msg, NULL);
}

/* Node-port requests run from the queue too, in order with the messages
 * around them: a spawn, then a mon1 of the spawned port, finds it. */
static void run_node_request(aemp_node *n, aemp_job *job)
{
    aemp_val *msg = job->val;
    job->val = NULL; /* the request handler takes it */
    kernel_node_request(n, job->src, msg);
}

void kernel_inject(aemp_node *n, const char *src, aemp_val *msg)
{
    if (n->trace)
        aemp_trace_msg(n, "RCV", src, NULL, msg);
    aemp_val *first = aemp_array_at(msg, 0);
    const char *portid = aemp_str_ptr(first, NULL);
    if (portid && !*portid) {
        queue_message(n, src, NULL, msg, run_node_request);
        return;
    }
    /* Perl looks the port up by the first element's string form */
    aemp_val *port = portid ? aemp_array_take(msg, 0) : aemp_str("");
    if (!portid)
        aemp_array_shift(msg, 1);
    queue_delivery(n, src, port, msg);
}

int aemp_snd(aemp_node *n, const char *port, aemp_val *msg)
{
    if (!msg || aemp_type_of(msg) != AEMP_ARRAY) {
        aemp_unref(msg);
        return AEMP_EINVAL;
    }
    const char *portid;
    char *nodeid = split_port(port, &portid);
    if (!nodeid || !*nodeid) {
        free(nodeid);
        aemp_unref(msg);
        return AEMP_EINVAL;
    }
    /* Perl traces the port id before it stringifies it: a node port
     * shows as null */
    if (n->trace)
        aemp_trace_msg(n, "SND", nodeid, strchr(port, '#') ? portid : NULL,
                       msg);
    int local = !strcmp(nodeid, n->id);
    aemp_remote *r = local ? NULL : kernel_remote_get(n, nodeid, 1);
    free(nodeid);
    if (!local && !r) {
        aemp_unref(msg);
        return AEMP_ENOMEM;
    }
    /* the common cases without a wire array: a local port, a link up */
    if (local && *portid) {
        if (n->trace)
            aemp_trace_msg(n, "RCV", n->id, portid, msg);
        queue_delivery(n, n->id, aemp_str(portid), msg);
        return AEMP_OK;
    }
    if (r && r->link) {
        int rc = aemp_link_send_to(r->link, portid, msg);
        aemp_unref(msg);
        return rc;
    }
    aemp_val *wire = aemp_array();
    if (!wire || aemp_array_push(wire, aemp_str(portid))) {
        aemp_unref(wire);
        aemp_unref(msg);
        return AEMP_ENOMEM;
    }
    for (size_t i = 0; i < aemp_array_len(msg); i++)
        aemp_array_push(wire, aemp_ref(aemp_array_at(msg, i)));
    aemp_unref(msg);
    if (local)
        kernel_inject(n, n->id, wire);
    else
        kernel_remote_send(r, wire);
    return AEMP_OK;
}

int aemp_sndv(aemp_node *n, const char *port, ...)
{
    aemp_val *msg = aemp_array();
    int failed = !msg;
    va_list ap;
    va_start(ap, port);
    aemp_val *v;
    while ((v = va_arg(ap, aemp_val *)))
        if (failed || aemp_array_push(msg, v))
            failed = 1;
    va_end(ap);
    if (failed) {
        aemp_unref(msg);
        return AEMP_ENOMEM;
    }
    return aemp_snd(n, port, msg);
}

/* ---- kills ---- */

void kernel_kill_local(aemp_node *n, const char *localid, aemp_val *reason)
{
    /* Kills are always delayed, so monitor callbacks never run inside the
     * caller (Node::Self::kill). */
    aemp_job *job = job_new(n, JOB_KILL, localid, reason ? reason : aemp_array());
    if (job)
        kernel_queue_job(n, job);
}

int aemp_kil(aemp_node *n, const char *port, aemp_val *reason)
{
    const char *portid;
    char *nodeid = split_port(port, &portid);
    if (!nodeid || !*nodeid || !*portid) {
        /* killing a node port is not allowed */
        free(nodeid);
        aemp_unref(reason);
        return AEMP_EINVAL;
    }
    if (reason && aemp_type_of(reason) != AEMP_ARRAY) {
        free(nodeid);
        aemp_unref(reason);
        return AEMP_EINVAL;
    }
    int rc = AEMP_OK;
    if (!strcmp(nodeid, n->id)) {
        kernel_kill_local(n, portid, reason);
    } else {
        aemp_remote *r = kernel_remote_get(n, nodeid, 1);
        aemp_val *wire = aemp_arrayv(aemp_str(""), aemp_str("kil1"),
                                     aemp_str(portid), NULL);
        for (size_t i = 0; wire && i < aemp_array_len(reason); i++)
            aemp_array_push(wire, aemp_ref(aemp_array_at(reason, i)));
        aemp_unref(reason);
        if (r && wire)
            kernel_remote_send(r, wire);
        else {
            aemp_unref(wire);
            rc = AEMP_ENOMEM;
        }
    }
    free(nodeid);
    return rc;
}

/* Kernel.pm _kill: the port goes, its monitors fire. */
static void run_kill(aemp_node *n, const char *localid, aemp_val *reason)
{
    aemp_lport *p = aemp_dict_del(&n->ports, localid);
    if (!p)
        return; /* killing nonexistent ports is O.K. */
    if (!p->mons && aemp_array_len(reason)) {
        aemp_buf b = AEMP_BUF_INIT;
        for (size_t i = 0; i < aemp_array_len(reason); i++) {
            aemp_val *r = aemp_array_at(reason, i);
            const char *s = aemp_str_ptr(r, NULL);
            if (i)
                aemp_buf_putc(&b, ' ');
            if (s)
                aemp_buf_puts(&b, s);
            else {
                char *j = aemp_to_json(r, NULL);
                aemp_buf_puts(&b, j ? j : "");
                free(j);
            }
        }
        aemp_log(n, 4, LOG_KERNEL,
                 "unmonitored local port %s died with reason: %s", localid,
                 b.p ? b.p : "");
        aemp_buf_free(&b);
    }
    aemp_monitor *mons = p->mons;
    p->mons = NULL;
    kernel_fire_list(n, mons, reason);
    port_free(p);
}

/* ---- delivery ---- */

/* The tag as Perl's hash lookup sees the first element: its string form. */
static const char *tag_of(const aemp_val *msg, char *buf, size_t n)
{
    const aemp_val *t = aemp_array_at(msg, 0);
    switch (aemp_type_of(t)) {
    case AEMP_STRING: return aemp_str_ptr(t, NULL);
    case AEMP_INT: snprintf(buf, n, "%lld", (long long)aemp_as_int(t)); return buf;
    case AEMP_UINT:
        snprintf(buf, n, "%llu", (unsigned long long)aemp_as_uint(t));
        return buf;
    default: return NULL;
    }
}

static void kill_unmatched(aemp_node *n, aemp_lport *p, const char *tag)
{
    /* MP.pm's $KILME: the first 30 characters, unprintables as '.' */
    char shown[31];
    size_t i = 0;
    for (; tag && tag[i] && i < 30; i++)
        shown[i] = tag[i] >= 0x20 && tag[i] <= 0x7e ? tag[i] : '.';
    shown[i] = 0;
    kernel_kill_local(n, p->id,
                      aemp_arrayv(aemp_str("unhandled_message"),
                                  aemp_strf("no callback found for message "
                                            "'%s'", shown),
                                  NULL));
}

static void run_deliver(aemp_node *n, aemp_job *job)
{
    aemp_lport *p = kernel_port_find(n, aemp_str_ptr(job->port, NULL));
    if (!p)
        return; /* messages to unknown ports are dropped */
    char buf[32];
    const char *tag = tag_of(job->val, buf, sizeof buf);
    aemp_recv_cb cb = p->dflt;
    void *ud = p->dflt_ud;
    for (aemp_tag_cb *t = p->tags; tag && t; t = t->next)
        if (!strcmp(t->tag, tag)) {
            cb = t->cb;
            ud = t->ud;
            break;
        }
    if (!cb) {
        if (p->kill_unmatched)
            kill_unmatched(n, p, tag);
        return;
    }
    /* A port goes only in a kill job, never during a callback, so p
     * stays valid while its callback runs. */
    n->self = p->full;
    n->srcnode = job->src;
    n->die_set = 0;
    int rc = cb(n, p->full, job->val, ud);
    n->self = NULL;
    n->srcnode = NULL;
    if (rc) {
        const char *why = n->die_set ? n->die_msg.p : "callback failed";
        kernel_kill_local(n, p->id,
                          aemp_arrayv(aemp_str("die"), aemp_str(why), NULL));
    }
}

/* ---- monitors ---- */

aemp_monitor *kernel_monitor_new(aemp_node *n, aemp_mon_kind kind,
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

void kernel_monitor_free(aemp_monitor *m)
{
    free(m->port);
    free(m->target);
    aemp_unref(m->msg);
    free(m);
}

static void mon_key(aemp_mon_id id, char key[24])
{
    snprintf(key, 24, "%llu", (unsigned long long)id);
}

aemp_mon_id kernel_monitor_add(aemp_node *n, aemp_monitor *m)
{
    char key[24];
    mon_key(m->id, key);
    if (aemp_dict_set(&n->monitors, key, m))
        return 0;
    return m->id;
}

void kernel_fire_list(aemp_node *n, aemp_monitor *list, const aemp_val *reason)
{
    while (list) {
        aemp_monitor *m = list;
        list = m->next;
        m->next = NULL;
        char key[24];
        mon_key(m->id, key);
        aemp_dict_del(&n->monitors, key);
        aemp_job *job = job_new(n, JOB_FIRE, NULL, aemp_copy(reason));
        if (!job) {
            kernel_monitor_free(m);
            continue;
        }
        job->mon = m;
        kernel_queue_job(n, job);
    }
}

static void run_fire(aemp_node *n, aemp_monitor *m, const aemp_val *reason)
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
        aemp_remote *r = kernel_remote_get(n, m->target, 0);
        if (!r)
            break;
        aemp_monitor *mine = aemp_dict_get(&r->rmon, localid);
        if (mine == m)
            aemp_dict_del(&r->rmon, localid);
        if (r->link) {
            aemp_val *wire = aemp_arrayv(aemp_str(""), aemp_str("kil0"),
                                         aemp_str(localid), NULL);
            for (size_t i = 0; wire && i < nr; i++)
                aemp_array_push(wire, aemp_ref(aemp_array_at(reason, i)));
            if (wire)
                kernel_remote_send(r, wire);
        }
        break;
    }
    }
}

/* Adds m to the local port it names; a missing port fires at once (from
 * the queue) with no_such_port, as Kernel.pm's _monitor. */
static aemp_mon_id monitor_local(aemp_node *n, aemp_monitor *m)
{
    const char *localid = strchr(m->port, '#');
    localid = localid ? localid + 1 : "";
    if (!*localid) {
        /* our node port always exists and never dies (Perl's _monitor
         * finds $PORT{""}): kept until cancelled or the node goes */
        if (!kernel_monitor_add(n, m)) {
            kernel_monitor_free(m);
            return 0;
        }
        m->next = n->self_mons;
        n->self_mons = m;
        return m->id;
    }
    aemp_lport *p = kernel_port_find(n, localid);
    if (!p) {
        aemp_mon_id id = m->id;
        aemp_val *reason = aemp_arrayv(
            aemp_str("no_such_port"),
            aemp_str("cannot monitor nonexistent port"),
            aemp_strf("%s#%s", n->id, localid), NULL);
        kernel_fire_list(n, m, reason);
        aemp_unref(reason);
        return id;
    }
    if (!kernel_monitor_add(n, m)) {
        kernel_monitor_free(m);
        return 0;
    }
    m->next = p->mons;
    p->mons = m;
    return m->id;
}

/* Registers a new monitor where its port lives. */
static aemp_mon_id monitor_start(aemp_node *n, aemp_monitor *m)
{
    if (aemp_port_is_local(n, m->port))
        return monitor_local(n, m);
    const char *portid;
    char *nodeid = split_port(m->port, &portid);
    aemp_remote *r = nodeid && *nodeid ? kernel_remote_get(n, nodeid, 1)
                                       : NULL;
    free(nodeid);
    if (!r || !kernel_monitor_add(n, m)) {
        kernel_monitor_free(m);
        return 0;
    }
    kernel_remote_monitor(r, m);
    return m->id;
}

aemp_mon_id aemp_mon(aemp_node *n, const char *port, aemp_mon_cb cb, void *ud)
{
    aemp_monitor *m = cb ? kernel_monitor_new(n, MON_CB, port) : NULL;
    if (!m)
        return 0;
    m->cb = cb;
    m->ud = ud;
    return monitor_start(n, m);
}

aemp_mon_id aemp_mon_kil(aemp_node *n, const char *port, const char *rcvport)
{
    aemp_monitor *m = kernel_monitor_new(n, MON_KIL, port);
    if (!m)
        return 0;
    if (!(m->target = strdup(rcvport))) {
        kernel_monitor_free(m);
        return 0;
    }
    return monitor_start(n, m);
}

aemp_mon_id aemp_mon_snd(aemp_node *n, const char *port, const char *rcvport,
                         aemp_val *msg)
{
    aemp_monitor *m = kernel_monitor_new(n, MON_SND, port);
    if (!m || !msg || aemp_type_of(msg) != AEMP_ARRAY) {
        aemp_unref(msg);
        if (m)
            kernel_monitor_free(m);
        return 0;
    }
    m->msg = msg;
    if (!(m->target = strdup(rcvport))) {
        kernel_monitor_free(m);
        return 0;
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

void aemp_mon_cancel(aemp_node *n, aemp_mon_id id)
{
    char key[24];
    mon_key(id, key);
    aemp_monitor *m = aemp_dict_del(&n->monitors, key);
    if (!m)
        return; /* fired or cancelled already */
    if (aemp_port_is_local(n, m->port)) {
        const char *localid = strchr(m->port, '#');
        localid = localid ? localid + 1 : "";
        aemp_lport *p = kernel_port_find(n, localid);
        if (p)
            list_unlink(&p->mons, m);
        else if (!*localid)
            list_unlink(&n->self_mons, m);
        kernel_monitor_free(m);
        return;
    }
    const char *portid;
    char *nodeid = split_port(m->port, &portid);
    aemp_remote *r = nodeid ? kernel_remote_get(n, nodeid, 0) : NULL;
    free(nodeid);
    if (r)
        kernel_remote_unmonitor(r, m);
    kernel_monitor_free(m);
}

/* A remote node asks to monitor our port (mon1). */
void kernel_rmon_add(aemp_node *n, aemp_remote *r, const char *localid)
{
    if (aemp_dict_get(&r->rmon, localid))
        return; /* already watched for that node */
    size_t len = strlen(n->id) + strlen(localid) + 2;
    char *port = malloc(len);
    if (!port)
        return;
    snprintf(port, len, "%s#%s", n->id, localid);
    aemp_monitor *m = kernel_monitor_new(n, MON_REMOTE, port);
    free(port);
    if (!m || !(m->target = strdup(r->id))) {
        if (m)
            kernel_monitor_free(m);
        return;
    }
    if (kernel_port_find(n, localid))
        aemp_dict_set(&r->rmon, localid, m);
    monitor_local(n, m);
}

/* mon0: the remote node no longer watches our port. */
void kernel_rmon_del(aemp_node *n, aemp_remote *r, const char *localid)
{
    aemp_monitor *m = aemp_dict_del(&r->rmon, localid);
    if (m)
        aemp_mon_cancel(n, m->id);
}

/* ---- the dispatcher ---- */

/* Jobs one round may run before the node returns to the event loop. */
#define JOBS_PER_ROUND 10000

void kernel_run_jobs(aemp_node *n)
{
    /* Monitors a job fires run right after it, before the jobs behind
     * it: a kil0 request fires its monitors before the next message is
     * delivered, as Perl runs them inside the request. Everything else a
     * job queues goes to the back, as Perl delays local kills and sends.
     * After a round's worth the rest waits for the next turn of the loop,
     * so a busy node still reads its sockets. */
    aemp_job *jobs = n->jobs;
    n->jobs = NULL;
    n->jobs_tail = &n->jobs;
    n->dispatching = 1;
    for (int count = 0; jobs && count < JOBS_PER_ROUND; count++) {
        aemp_job *job = jobs;
        jobs = job->next;
        switch (job->kind) {
        case JOB_DELIVER: run_deliver(n, job); break;
        case JOB_KILL: run_kill(n, job->name, job->val); break;
        case JOB_FIRE: run_fire(n, job->mon, job->val); break;
        case JOB_NODE_EVENT: kernel_run_node_event(n, job); break;
        case JOB_CALL: job->fn(n, job); break;
        }
        job_free(n, job);
        if (n->urgent) {
            *n->urgent_tail = jobs;
            jobs = n->urgent;
            n->urgent = NULL;
            n->urgent_tail = &n->urgent;
        }
    }
    n->dispatching = 0;
    if (jobs) { /* left for the next round, in front of anything new */
        aemp_job **tail = &jobs;
        while (*tail)
            tail = &(*tail)->next;
        *tail = n->jobs;
        if (!n->jobs)
            n->jobs_tail = tail;
        n->jobs = jobs;
    }
    if (n->jobs)
        event_active(n->jobs_ev, 0, 0);
}
