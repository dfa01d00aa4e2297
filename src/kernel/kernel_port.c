/* libaemp: local ports, messages and kills (AnyEvent::MP's port, rcv,
 * snd, kil; Kernel.pm's _inject and _kill). Monitors are in
 * kernel_mon.c, the job queue that runs every user callback in
 * kernel_jobs.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "value_int.h"

/* ---- ids ---- */

/* Perl's magic string increment, as ++$ID from "a": b, c, ... z, aa, ab. */
void aempi_kernel_string_increment(char *s, size_t cap)
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

char *aempi_kernel_next_id(aemp_node *n, const char *prefix)
{
    aempi_kernel_string_increment(n->id_counter, sizeof n->id_counter);
    size_t len = strlen(prefix) + strlen(n->id_counter) + 1;
    char *id = malloc(len);
    if (id)
        snprintf(id, len, "%s%s", prefix, n->id_counter);
    return id;
}

/* Splits "NODE#PORT" at the first '#'; a node id alone names the node
 * port "". Returns a malloc'd node id and points *portid into port. */
/* The same, into buf when the node id fits its cap bytes (else a
 * malloc'd copy, as with a buf of 0 bytes). */
static char *split_port_into(const char *port, char *buf, size_t cap,
                             const char **portid)
{
    const char *hash = strchr(port, '#');
    size_t nlen = hash ? (size_t)(hash - port) : strlen(port);
    *portid = hash ? hash + 1 : "";
    char *node = nlen < cap ? buf : malloc(nlen + 1);
    if (node) {
        memcpy(node, port, nlen);
        node[nlen] = 0;
    }
    return node;
}

char *aempi_kernel_split_port(const char *port, const char **portid)
{
    return split_port_into(port, NULL, 0, portid);
}

char *aemp_node_of(const char *port)
{
    const char *portid;
    if (!aempi_kernel_has_node(port))
        return NULL;
    return aempi_kernel_split_port(port, &portid);
}

int aemp_port_is_local(const aemp_node *n, const char *port)
{
    if (!n || !port)
        return 0;
    const char *hash = strchr(port, '#');
    size_t nlen = hash ? (size_t)(hash - port) : strlen(port);
    return nlen == strlen(n->id) && !memcmp(port, n->id, nlen);
}

/* ---- ports ---- */

aemp_lport *aempi_kernel_port_find(aemp_node *n, const char *localid)
{
    return aempi_dict_get(&n->ports, localid);
}

static aemp_lport *port_create(aemp_node *n, const char *localid)
{
    aemp_lport *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->id = strdup(localid);
    size_t len = strlen(n->id) + strlen(localid) + 2;
    p->full = malloc(len);
    if (!p->id || !p->full || aempi_dict_set(&n->ports, localid, p)) {
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

static void forget_last_port(aemp_node *n)
{
    aemp_unref(n->last_port_id);
    n->last_port_id = NULL;
    n->last_port = NULL;
}

/* The port a delivery names by port (a string value). */
static aemp_lport *port_of(aemp_node *n, aemp_val *port)
{
    if (port == n->last_port_id)
        return n->last_port;
    aemp_lport *p = aempi_kernel_port_find(n, aemp_str_ptr(port, NULL));
    if (p) {
        forget_last_port(n);
        n->last_port_id = aemp_ref(port);
        n->last_port = p;
    }
    return p;
}

void aempi_kernel_ports_free(aemp_node *n)
{
    while (n->self_mons) {
        aemp_monitor *next = n->self_mons->next;
        aempi_kernel_monitor_free(n->self_mons);
        n->self_mons = next;
    }
    for (aemp_dict_entry *e = aempi_dict_next(&n->ports, NULL); e;
         e = aempi_dict_next(&n->ports, e)) {
        aemp_lport *p = e->value;
        while (p->mons) {
            aemp_monitor *next = p->mons->next;
            aempi_kernel_monitor_free(p->mons);
            p->mons = next;
        }
        port_free(p);
    }
    aempi_dict_clear(&n->ports);
    forget_last_port(n);
}

char *aemp_port(aemp_node *n, aemp_recv_cb cb, void *ud)
{
    if (!n)
        return NULL;
    char *localid = aempi_kernel_next_id(n, n->uniq);
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
    if (!n)
        return AEMP_EINVAL;
    if (!aemp_port_is_local(n, port))
        return aempi_kernel_refuse(n,
            "%s: rcv can only be called on local ports, caught",
            port ? port : "");
    const char *hash = strchr(port, '#');
    const char *localid = hash ? hash + 1 : "";
    if (!*localid) /* Perl would replace its node port's handler */
        return aempi_kernel_refuse(n,
                                   "%s: rcv cannot be called on a node port",
                                   port);
    aemp_lport *p = aempi_kernel_port_find(n, localid);
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
    if (!n)
        return;
    char msg[1024] = "Died"; /* Perl's text for a die without one */
    va_list ap;
    va_start(ap, fmt);
    if (fmt)
        vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    aempi_buf_reset(&n->die_msg);
    aempi_buf_puts(&n->die_msg, msg);
    n->die_set = 1;
}

const char *aemp_self(const aemp_node *n)
{
    return n ? n->self : NULL;
}

const char *aemp_srcnode(const aemp_node *n)
{
    return n ? n->srcnode : NULL;
}

/* ---- sending ---- */

/* Queues delivery of msg (taken) to the local port named by port (taken,
 * a string). The job references src, the sender's id (NULL: our own). */
static void queue_message(aemp_node *n, aemp_val *src, aemp_val *port,
                          aemp_val *msg, aemp_job_fn fn)
{
    aemp_job *job = aempi_kernel_job_alloc(n);
    if (!job || (!port && !fn)) {
        free(job);
        aemp_unref(port);
        aemp_unref(msg);
        return;
    }
    job->kind = fn ? JOB_CALL : JOB_DELIVER;
    job->fn = fn;
    job->port = port;
    job->src_ref = aemp_ref(src);
    job->src = src ? aempi_str_bytes(src) : n->id;
    job->val = msg;
    aempi_kernel_queue_job(n, job);
}

static void queue_delivery(aemp_node *n, aemp_val *src, aemp_val *port,
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
    aempi_kernel_node_request(n, job->src, msg);
}

void aempi_kernel_inject(aemp_node *n, aemp_val *src, aemp_val *msg)
{
    if (n->trace)
        aempi_trace_msg(n, "RCV", src ? aemp_str_ptr(src, NULL) : n->id, NULL,
                        msg);
    const char *portid = aempi_str_bytes(aempi_item(msg, 0));
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

/* Perl's snd to another node dies when the encoder refuses the message
 * (nested deeper than 512 levels with the frame), which in a port's
 * callback kills the port (aempi_kernel_refuse). The words are the encoder's,
 * without Perl's " at FILE line N."; framing is the link's, or Perl's
 * default, cbor, while there is no link yet: the check is made now, so it
 * is this sender that fails, not a later flush of the queue. */
static int snd_refused(aemp_node *n, const char *framing)
{
    return aempi_kernel_refuse(n, "%s text or perl structure exceeds maximum "
                            "nesting level (max_depth set too low?)",
                         framing ? framing : "cbor");
}

/* The remote of port when aemp_snd sent there last (see snd_last), its
 * port id in *portid; else NULL. */
static aemp_remote *snd_cached(aemp_node *n, const char *port,
                               const char **portid)
{
    if (!n->snd_last.r || n->snd_last.epoch != n->remote_epoch ||
        strcmp(n->snd_last.port, port))
        return NULL;
    *portid = port + n->snd_last.portid_at;
    return n->snd_last.r;
}

static void snd_remember(aemp_node *n, const char *port, aemp_remote *r)
{
    size_t len = strlen(port);
    if (len >= sizeof n->snd_last.port)
        return;
    memcpy(n->snd_last.port, port, len + 1);
    /* a node's port has no '#': its port id is "", the end of port */
    const char *hash = strchr(port, '#');
    n->snd_last.portid_at = hash ? (size_t)(hash + 1 - port) : len;
    n->snd_last.r = r;
    n->snd_last.epoch = n->remote_epoch;
}

/* A message to a port on r's link, which is up: encoded into the link's
 * output at once. Takes msg. */
static int snd_on_link(aemp_node *n, aemp_remote *r, const char *portid,
                       aemp_val *msg)
{
    int rc = aempi_link_send_to(r->link, portid, msg);
    aempi_pool_drop(&n->pool, msg); /* unless someone else holds it */
    return rc == AEMP_EINVAL ? snd_refused(n, aempi_link_framing(r->link))
                             : rc;
}

int aemp_snd(aemp_node *n, const char *port, aemp_val *msg)
{
    const char *portid;
    aemp_remote *r;
    /* a stream of sends to one port: what the last one found */
    if (n && port && !n->trace && aemp_type_of(msg) == AEMP_ARRAY &&
        (r = snd_cached(n, port, &portid)) && r->link && !r->firing)
        return snd_on_link(n, r, portid, msg);
    if (!n || aempi_kernel_check_port(n, port) ||
        aempi_kernel_check_array(n, "aemp_snd: the message", msg)) {
        aemp_unref(msg);
        return AEMP_EINVAL;
    }
    /* every send looks at the node id, few keep it: on the stack when
     * it is short */
    char small[64];
    char *nodeid = split_port_into(port, small, sizeof small, &portid);
    if (!nodeid) {
        aemp_unref(msg);
        return AEMP_ENOMEM;
    }
    /* Perl traces the port id before it stringifies it: a node port
     * shows as null */
    if (n->trace)
        aempi_trace_msg(n, "SND", nodeid, strchr(port, '#') ? portid : NULL,
                        msg);
    int local = !strcmp(nodeid, n->id);
    r = local ? NULL : aempi_kernel_remote_get(n, nodeid, 1);
    if (nodeid != small)
        free(nodeid);
    if (!local && !r) {
        aemp_unref(msg);
        return AEMP_ENOMEM;
    }
    if (r)
        snd_remember(n, port, r);
    /* the common cases without a wire array: a local port, a link up */
    if (local && *portid) {
        if (n->trace)
            aempi_trace_msg(n, "RCV", n->id, portid, msg);
        queue_delivery(n, NULL, aemp_str(portid), msg);
        return AEMP_OK;
    }
    if (r && r->link && !r->firing)
        return snd_on_link(n, r, portid, msg);
    if (!local && aempi_nesting_exceeds(msg, AEMP_MAX_DEPTH)) {
        aemp_unref(msg); /* the frame [portid, items] nests as msg does */
        return snd_refused(n, NULL);
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
        aempi_kernel_inject(n, NULL, wire);
    else
        aempi_kernel_remote_send(r, wire);
    return AEMP_OK;
}

aemp_remote *aempi_kernel_shared_target(aemp_node *n, const char *nodeid)
{
    /* local nodes (and ids that are ports) take the usual way */
    return !strcmp(nodeid, n->id) || strchr(nodeid, '#')
               ? NULL
               : aempi_kernel_remote_get(n, nodeid, 0);
}

int aempi_kernel_snd_remote_shared(aemp_node *n, aemp_remote *r,
                                   const char *nodeid, const aemp_val *msg,
                                   aemp_frame_cache *cache)
{
    /* so do traced sends and nodes without a link up */
    if (r && !n->trace && r->link && !r->firing &&
        aemp_type_of(msg) == AEMP_ARRAY)
        return aempi_link_send_cached(r->link, cache, "", msg);
    return aemp_snd(n, nodeid, aemp_ref((aemp_val *)msg));
}

int aempi_kernel_snd_node_shared(aemp_node *n, const char *nodeid,
                                 const aemp_val *msg, aemp_frame_cache *cache)
{
    return aempi_kernel_snd_remote_shared(
        n, n->trace ? NULL : aempi_kernel_shared_target(n, nodeid), nodeid,
        msg, cache);
}

/* aemp_sndv's items on its stack: most messages have a few. */
#define SNDV_STACK 8

/* v (taken) joins *msg; when it cannot, *msg goes and is NULL: a
 * message with an item missing is not sent. */
static void sndv_push(aemp_val **msg, aemp_val *v)
{
    if (!*msg) {
        aemp_unref(v);
    } else if (aemp_array_push(*msg, v)) {
        aemp_unref(*msg);
        *msg = NULL;
    }
}

int aemp_sndv(aemp_node *n, const char *port, ...)
{
    aemp_val *items[SNDV_STACK];
    size_t len = 0;
    va_list ap;
    va_start(ap, port);
    aemp_val *v = NULL;
    while (len < SNDV_STACK && (v = va_arg(ap, aemp_val *)))
        items[len++] = v;
    const char *portid;
    aemp_remote *r;
    /* a stream of sends to one port on a link that is up (see aemp_snd):
     * the items are encoded straight into the link's output, and no
     * array is made of them */
    if (len < SNDV_STACK && n && port && !n->trace &&
        (r = snd_cached(n, port, &portid)) && r->link && !r->firing) {
        va_end(ap);
        int rc = aempi_link_send_items(r->link, portid, items, len);
        while (len)
            aemp_unref(items[--len]);
        return rc == AEMP_EINVAL ? snd_refused(n, aempi_link_framing(r->link))
                                 : rc;
    }
    /* else an array from the node's pool, back to it once the frame is
     * encoded (aemp_snd): a message built only to be sent costs no
     * malloc of its own */
    aemp_val *msg = aempi_pool_array(n ? &n->pool : NULL, len);
    for (size_t i = 0; i < len; i++)
        sndv_push(&msg, items[i]);
    if (len == SNDV_STACK) /* and the rest */
        while ((v = va_arg(ap, aemp_val *)))
            sndv_push(&msg, v);
    va_end(ap);
    if (!msg)
        return AEMP_ENOMEM;
    return aemp_snd(n, port, msg);
}

/* ---- kills ---- */

void aempi_kernel_kill_local(aemp_node *n, const char *localid,
                             aemp_val *reason)
{
    /* Kills are always delayed, so monitor callbacks never run inside the
     * caller (Node::Self::kill). */
    aemp_job *job = aempi_kernel_job_new(n, JOB_KILL, localid,
                                         reason ? reason : aemp_array());
    if (job)
        aempi_kernel_queue_job(n, job);
}

int aemp_kil(aemp_node *n, const char *port, aemp_val *reason)
{
    if (!n || aempi_kernel_check_kil(n, port) ||
        (reason && aempi_kernel_check_array(n, "aemp_kil: the reason",
                                            reason))) {
        aemp_unref(reason);
        return AEMP_EINVAL;
    }
    return aempi_kernel_kil(n, port, reason);
}

int aempi_kernel_kil(aemp_node *n, const char *port, aemp_val *reason)
{
    const char *portid;
    char *nodeid = aempi_kernel_split_port(port, &portid);
    if (!nodeid) {
        aemp_unref(reason);
        return AEMP_ENOMEM;
    }
    int rc = AEMP_OK;
    if (!strcmp(nodeid, n->id)) {
        aempi_kernel_kill_local(n, portid, reason);
    } else {
        aemp_remote *r = aempi_kernel_remote_get(n, nodeid, 1);
        aemp_val *wire = aemp_arrayv(aemp_str(""), aemp_str("kil1"),
                                     aemp_str(portid), NULL);
        for (size_t i = 0; wire && i < aemp_array_len(reason); i++)
            aemp_array_push(wire, aemp_ref(aemp_array_at(reason, i)));
        aemp_unref(reason);
        if (r && wire && aempi_nesting_exceeds(wire, AEMP_MAX_DEPTH)) {
            /* Perl's kil sends as snd does, and dies alike */
            aemp_unref(wire);
            rc = snd_refused(n, r->link ? aempi_link_framing(r->link) : NULL);
        } else if (r && wire) {
            aempi_kernel_remote_send(r, wire);
        } else {
            aemp_unref(wire);
            rc = AEMP_ENOMEM;
        }
    }
    free(nodeid);
    return rc;
}

/* Kernel.pm _kill: the port goes, its monitors fire. */
void aempi_kernel_run_kill(aemp_node *n, const char *localid, aemp_val *reason)
{
    aemp_lport *p = aempi_dict_del(&n->ports, localid);
    if (!p)
        return; /* killing nonexistent ports is O.K. */
    if (p == n->last_port)
        forget_last_port(n);
    if (!p->mons && aemp_array_len(reason)) {
        aemp_buf b = AEMP_BUF_INIT;
        for (size_t i = 0; i < aemp_array_len(reason); i++) {
            aemp_val *r = aemp_array_at(reason, i);
            const char *s = aemp_str_ptr(r, NULL);
            if (i)
                aempi_buf_putc(&b, ' ');
            if (s)
                aempi_buf_puts(&b, s);
            else {
                char *j = aemp_to_json(r, NULL);
                aempi_buf_puts(&b, j ? j : "");
                free(j);
            }
        }
        aemp_log_ctx(n, 4, LOG_KERNEL,
                     "unmonitored local port %s died with reason: %s", localid,
                     b.p ? b.p : "");
        aempi_buf_free(&b);
    }
    aemp_monitor *mons = p->mons;
    p->mons = NULL;
    aempi_kernel_fire_list(n, mons, reason, NULL);
    port_free(p);
}

/* ---- delivery ---- */

/* The tag as Perl's hash lookup sees the first element: its string form. */
static const char *tag_of(const aemp_val *msg, char *buf, size_t n)
{
    const aemp_val *t = aempi_item(msg, 0);
    switch (t ? (aemp_type)t->type : AEMP_NULL) {
    case AEMP_STRING: return t->str;
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
    aempi_kernel_kill_local(n, p->id,
        aemp_arrayv(aemp_str("unhandled_message"),
                    aemp_strf("no callback found for message '%s'", shown),
                    NULL));
}

/* strcmp(a, b) == 0 for what tags are, a few bytes: without a call */
static int same_tag(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

void aempi_kernel_run_deliver(aemp_node *n, aemp_job *job)
{
    aemp_lport *p = port_of(n, job->port);
    if (!p)
        return; /* messages to unknown ports are dropped */
    char buf[32];
    const char *tag = tag_of(job->val, buf, sizeof buf);
    aemp_recv_cb cb = p->dflt;
    void *ud = p->dflt_ud;
    for (aemp_tag_cb *t = p->tags; tag && t; t = t->next)
        if (same_tag(t->tag, tag)) {
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
        aempi_kernel_kill_local(n, p->id,
                                aemp_arrayv(aemp_str("die"), aemp_str(why),
                                            NULL));
    }
}
