/* libaemp: data connections (AnyEvent::MP::DataConn, docs/dataconn.md).
 *
 * connect_to on node A for node B, as Perl does it:
 *   1. A sends B ["", "AnyEvent::MP::DataConn::_expect", ID, PORT,
 *      TIMEOUT, INITFUNC, INITDATA...]: B remembers ID.
 *   2. A sends B ["", "snd", PORT]; B's empty message back to PORT says
 *      that _expect has arrived (both go over the same link, in order).
 *   3. A looks up B's listeners. With some, A connects to them, one every
 *      2 seconds, greeting with "aemp-dataconn;...;dataconn_id=ID"; with
 *      none, A sends B ["", "AnyEvent::MP::DataConn::_connect", ID, A]
 *      and B connects to A's listeners the same way.
 *   4. The handshake (auth, TLS) is a node link's. Then each side finds
 *      ID among its pending connections (the transport's dataconn hook)
 *      and takes the socket: B calls INITFUNC(INITDATA..., its end), A
 *      the caller's callback with its end.
 * On failure A's caller hears the error, and B kills PORT with
 * ("AnyEvent::MP::DataConn", TEXT). Perl's PORT is the caller's $SELF; a
 * C caller has a callback instead, so A makes a port of its own for it.
 *
 * Unlike Perl: a failed attempt moves on to the next address rather than
 * failing the whole connection; a handshake that fails on the accepting
 * side (a stranger guessing an id) leaves the pending connection alone;
 * and the node at the other end must be the one expected. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "aemp/dataconn.h"
#include "aemp/func.h"
#include "config.h"
#include "kernel.h"

#define DC_EXPECT "AnyEvent::MP::DataConn::_expect"
#define DC_CONNECT "AnyEvent::MP::DataConn::_connect"
#define LOG_DATACONN "AnyEvent::MP::DataConn"
/* what a peer may make us hold: pending connections, their ids, the
 * addresses tried for one */
#define DC_MAX_PENDING 1024
#define DC_MAX_ID 256
#define DC_MAX_ADDRS 16
#define DC_STAGGER 2.0 /* Perl's: one address every 2 seconds */
#define DC_TIMEOUT_MAX 1e9

enum dc_wait {
    DC_ROUNDTRIP, /* for the reply that says _expect has arrived */
    DC_ADDRESSES, /* for the addresses hook's lookup */
    DC_CONNECTING, /* trying the addresses */
    DC_INCOMING,  /* for the other node to connect to us */
};

typedef struct kernel_dc {
    aemp_node *node;
    char *id;
    char *peer;          /* the node at the other end */
    int expect;          /* made by _expect: the init function's side */
    int local;           /* connect_to our own node: a socketpair */
    char *port;          /* expect: the caller's port, killed on failure;
                            connect: ours, which the peer replies to */
    char *initfunc;
    aemp_val *initdata;  /* array */
    aemp_dataconn_cb cb; /* connect */
    void *ud;
    aemp_port_mon_id mon; /* connect: our port's death is the peer's error */
    enum dc_wait wait;
    double timeout;
    struct event *timer; /* the timeout */
    struct event *next_ev; /* the next address */
    aemp_val *addrs;
    size_t next;
    aemp_link *trials[DC_MAX_ADDRS];
    size_t ntrials;
    char *last_error;
    /* finished, for the job that calls the user */
    struct bufferevent *bev, *bev2; /* bev2: the init side of a local one */
    char *error;
    struct kernel_dc *done_next;
} kernel_dc;

typedef struct dc_init {
    aemp_dataconn_init_cb cb;
    void *ud;
} dc_init;

typedef struct kernel_dataconns {
    aemp_dict pending; /* id -> kernel_dc */
    aemp_dict inits;   /* name -> dc_init */
    char counter[32];  /* Perl's $ID: "a", then ++ before each use */
    kernel_dc *done, **done_tail;
} kernel_dataconns;

static void dc_free(kernel_dc *d)
{
    if (d->timer)
        event_free(d->timer);
    if (d->next_ev)
        event_free(d->next_ev);
    if (d->bev)
        bufferevent_free(d->bev);
    if (d->bev2)
        bufferevent_free(d->bev2);
    aemp_unref(d->initdata);
    aemp_unref(d->addrs);
    free(d->id);
    free(d->peer);
    free(d->port);
    free(d->initfunc);
    free(d->last_error);
    free(d->error);
    free(d);
}

static void set_error(char **slot, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void set_error(char **slot, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    free(*slot);
    *slot = strdup(msg);
}

/* ---- finishing: the user's callbacks run from the job queue ---- */

/* A read callback the user set in its callback runs for what already
 * sits in the input (the peer wrote right behind the handshake). The
 * extra reference keeps bev valid if the user freed it. */
static void hand_over_end(struct bufferevent *bev)
{
    if (evbuffer_get_length(bufferevent_get_input(bev)) &&
        (bufferevent_get_enabled(bev) & EV_READ))
        bufferevent_trigger(bev, EV_READ,
                            BEV_TRIG_IGNORE_WATERMARKS |
                                BEV_TRIG_DEFER_CALLBACKS);
    bufferevent_decref(bev);
}

/* Calls the init function initfunc with bev; 0, or -1 (bev still ours)
 * when it is not registered. */
static int call_init(aemp_node *n, kernel_dc *d, struct bufferevent *bev)
{
    dc_init *init = aempi_dict_get(&n->dataconns->inits, d->initfunc);
    if (!init)
        return -1;
    bufferevent_incref(bev);
    init->cb(n, d->local ? n->id : d->peer, d->initdata, bev, init->ud);
    hand_over_end(bev);
    return 0;
}

static void call_cb(aemp_node *n, kernel_dc *d, struct bufferevent *bev,
                    const char *error)
{
    if (bev)
        bufferevent_incref(bev);
    d->cb(n, bev, error, d->ud);
    if (bev)
        hand_over_end(bev);
}

static void run_local(aemp_node *n, kernel_dc *d)
{
    /* Perl calls the init function first, then the callback */
    if (!d->error && call_init(n, d, d->bev2))
        set_error(&d->error, "unable to resolve function '%s'", d->initfunc);
    else
        d->bev2 = NULL;
    if (d->error) {
        call_cb(n, d, NULL, d->error);
        return;
    }
    struct bufferevent *bev = d->bev;
    d->bev = NULL;
    call_cb(n, d, bev, NULL);
}

static void run_done(aemp_node *n, aemp_job *job)
{
    (void)job;
    kernel_dataconns *s = n->dataconns;
    kernel_dc *d = s->done;
    if (!d)
        return;
    if (!(s->done = d->done_next))
        s->done_tail = &s->done;
    if (d->local) {
        run_local(n, d);
    } else if (d->expect) {
        if (d->bev) {
            struct bufferevent *bev = d->bev;
            d->bev = NULL;
            if (call_init(n, d, bev)) {
                aemp_log_ctx(n, 4, LOG_KERNEL,
                             "error processing node message from %s: unable "
                             "to resolve function '%s'",
                             d->peer, d->initfunc);
                bufferevent_free(bev);
            }
        } else {
            aemp_kil(n, d->port,
                     aemp_arrayv(aemp_str(LOG_DATACONN),
                                 aemp_str(d->error ? d->error : ""), NULL));
        }
    } else {
        aemp_kil(n, d->port, NULL); /* its monitor is cancelled */
        struct bufferevent *bev = d->bev;
        d->bev = NULL;
        call_cb(n, d, bev, bev ? NULL : d->error);
    }
    dc_free(d);
}

static void queue_done(aemp_node *n, kernel_dc *d)
{
    kernel_dataconns *s = n->dataconns;
    d->done_next = NULL;
    *s->done_tail = d;
    s->done_tail = &d->done_next;
    aempi_kernel_queue_call(n, run_done, NULL, NULL, 0);
}

/* Ends d: with the connection (bev, taken) or an error. */
static void finish(kernel_dc *d, struct bufferevent *bev, const char *error)
{
    aemp_node *n = d->node;
    if (aempi_dict_get(&n->dataconns->pending, d->id) == d)
        aempi_dict_del(&n->dataconns->pending, d->id);
    if (d->timer)
        event_del(d->timer);
    if (d->next_ev)
        event_del(d->next_ev);
    /* the attempts still under way lost */
    size_t count = d->ntrials;
    d->ntrials = 0;
    for (size_t i = 0; i < count; i++) {
        aemp_link_owner_of(d->trials[i])->dataconn = NULL;
        aempi_link_close(d->trials[i], "superseded");
    }
    if (d->mon.id) {
        aemp_mon_cancel(n, d->mon);
        d->mon.id = 0;
    }
    d->bev = bev;
    if (error)
        set_error(&d->error, "%s", error);
    if (!bev)
        aemp_log_ctx(n, 5, LOG_DATACONN, "data connection %s with %s: %s",
                     d->id, d->peer, error);
    queue_done(n, d);
}

/* ---- connecting ---- */

static void check_exhausted(kernel_dc *d)
{
    if (d->ntrials || d->next < aemp_array_len(d->addrs))
        return;
    aemp_buf b = AEMP_BUF_INIT;
    aempi_buf_printf(&b, "%s: cannot connect: %s", d->peer,
                     d->last_error ? d->last_error : "no address");
    finish(d, NULL, b.p ? b.p : "out of memory");
    aempi_buf_free(&b);
}

static void try_next(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    kernel_dc *d = ud;
    aemp_node *n = d->node;
    aempi_kernel_io_enter(n); /* a link may fail at once */
    size_t count = aemp_array_len(d->addrs);
    if (d->next < count) {
        const char *endpoint =
            aemp_str_ptr(aemp_array_at(d->addrs, d->next++), NULL);
        if (d->next < count) {
            struct timeval tv = {(time_t)DC_STAGGER, 0};
            event_add(d->next_ev, &tv);
        }
        char *host = NULL, *port = NULL;
        aemp_link *l = NULL;
        if (!endpoint || aempi_parse_hostport(endpoint, NULL, &host, &port))
            set_error(&d->last_error, "'%s' is not a resolved node reference",
                      endpoint ? endpoint : "");
        else if (!(l = aempi_link_connect_dataconn(&n->transport, host, port,
                                                   d->id)))
            set_error(&d->last_error, "out of memory");
        free(host);
        free(port);
        if (l) {
            aemp_log_ctx(n, 9, LOG_DATACONN,
                         "data connection %s: connecting to %s at %s", d->id,
                         d->peer, endpoint);
            aemp_link_owner_of(l)->dataconn = d;
            d->trials[d->ntrials++] = l;
        }
    }
    check_exhausted(d);
    aempi_kernel_io_leave(n);
}

/* The addresses of d->peer are known (NULL: none). */
static void got_addresses(kernel_dc *d, const aemp_val *addrs)
{
    aemp_node *n = d->node;
    size_t count = aemp_type_of(addrs) == AEMP_ARRAY ? aemp_array_len(addrs)
                                                      : 0;
    if (!count) {
        if (d->expect) {
            set_error(&d->error, "%s: no listeners found", d->peer);
            finish(d, NULL, d->error);
            return;
        }
        /* no listeners there: it connects to ours */
        d->wait = DC_INCOMING;
        aemp_snd_to_func(n, d->peer, DC_CONNECT,
                         aemp_arrayv(aemp_str(d->id), aemp_str(n->id), NULL));
        return;
    }
    if (count > DC_MAX_ADDRS)
        count = DC_MAX_ADDRS;
    d->addrs = aemp_array();
    for (size_t i = 0; d->addrs && i < count; i++)
        aemp_array_push(d->addrs, aemp_ref(aemp_array_at(addrs, i)));
    d->next = 0;
    d->wait = DC_CONNECTING;
    if (!d->addrs || !(d->next_ev || (d->next_ev = event_new(n->base, -1, 0,
                                                              try_next, d)))) {
        finish(d, NULL, "out of memory");
        return;
    }
    event_active(d->next_ev, 0, 0);
}

static void find_addresses(kernel_dc *d)
{
    aemp_node *n = d->node;
    aemp_val *addrs = NULL;
    d->wait = DC_ADDRESSES;
    switch (n->hooks.addresses(n, d->peer, &addrs)) {
    case KERNEL_ADDR_LOOKING: break; /* aempi_kernel_dataconn_addresses */
    case KERNEL_ADDR_FOUND: got_addresses(d, addrs); break;
    case KERNEL_ADDR_NONE: got_addresses(d, NULL); break;
    }
    aemp_unref(addrs);
}

void aempi_kernel_dataconn_addresses(aemp_node *n, const char *id,
                                     const aemp_val *addrs)
{
    kernel_dataconns *s = n->dataconns;
    if (!s)
        return;
    /* got_addresses may end a connection: look again after each */
    for (;;) {
        kernel_dc *d = NULL;
        for (aemp_dict_entry *e = aempi_dict_next(&s->pending, NULL); e;
             e = aempi_dict_next(&s->pending, e)) {
            kernel_dc *c = e->value;
            if (c->wait == DC_ADDRESSES && !strcmp(c->peer, id)) {
                d = c;
                break;
            }
        }
        if (!d)
            return;
        got_addresses(d, addrs);
    }
}

static void on_timeout(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    kernel_dc *d = ud;
    aemp_node *n = d->node;
    aempi_kernel_io_enter(n);
    aemp_buf b = AEMP_BUF_INIT;
    if (d->expect)
        aempi_buf_printf(&b, "%s: no data connection from %s within %g "
                         "seconds", n->id, d->peer, d->timeout);
    else /* Perl's text */
        aempi_buf_printf(&b, "%s: unable to establish connection within %g "
                         "seconds", d->peer, d->timeout);
    finish(d, NULL, b.p ? b.p : "timeout");
    aempi_buf_free(&b);
    aempi_kernel_io_leave(n);
}

static int start_timer(kernel_dc *d, double timeout)
{
    if (!(timeout > 0))
        timeout = 0; /* NaN too: AE::timer fires at once */
    if (timeout > DC_TIMEOUT_MAX)
        timeout = DC_TIMEOUT_MAX;
    d->timeout = timeout;
    d->timer = event_new(d->node->base, -1, 0, on_timeout, d);
    if (!d->timer)
        return -1;
    struct timeval tv;
    tv.tv_sec = (time_t)timeout;
    tv.tv_usec = (suseconds_t)((timeout - (double)tv.tv_sec) * 1e6);
    return event_add(d->timer, &tv);
}

/* ---- what links tell us ---- */

static void remove_trial(kernel_dc *d, aemp_link *link)
{
    for (size_t i = 0; i < d->ntrials; i++)
        if (d->trials[i] == link) {
            d->trials[i] = d->trials[--d->ntrials];
            break;
        }
    aemp_link_owner_of(link)->dataconn = NULL;
}

void aempi_kernel_dataconn_link(aemp_node *n, aemp_link *link, const char *id)
{
    kernel_dc *d = aemp_link_owner_of(link)->dataconn;
    int ours = d != NULL;
    if (ours)
        remove_trial(d, link);
    else
        d = aempi_dict_get(&n->dataconns->pending, id);
    const char *rnode = aempi_link_remote_id(link);
    if (!d) {
        /* Perl's _inject drops it as quietly */
        aemp_log_ctx(n, 5, LOG_DATACONN,
                     "data connection %s from %s: not expected, closed", id,
                     rnode);
        return; /* the transport closes the link */
    }
    if (strcmp(rnode, d->peer)) {
        aemp_log_ctx(n, 5, LOG_DATACONN,
                     "data connection %s: from %s, expected %s, closed", id,
                     rnode, d->peer);
        if (ours) {
            set_error(&d->last_error, "the listener is %s's", rnode);
            check_exhausted(d);
        }
        return;
    }
    struct bufferevent *bev = aempi_link_take(link);
    if (bev)
        finish(d, bev, NULL);
}

void aempi_kernel_dataconn_link_error(aemp_node *n, aemp_link *link,
                                      const char *msg)
{
    (void)n;
    kernel_dc *d = aemp_link_owner_of(link)->dataconn;
    if (!d)
        return; /* accepted: a failed handshake ends nothing */
    remove_trial(d, link);
    set_error(&d->last_error, "%s", msg);
    /* the next address at once, not after the stagger */
    if (d->next < aemp_array_len(d->addrs))
        event_active(d->next_ev, 0, 0);
    else
        check_exhausted(d);
}

/* ---- our port: the round trip, or the peer's error ---- */

static kernel_dc *find_by_port(aemp_node *n, const char *port)
{
    for (aemp_dict_entry *e = aempi_dict_next(&n->dataconns->pending, NULL); e;
         e = aempi_dict_next(&n->dataconns->pending, e)) {
        kernel_dc *d = e->value;
        if (!d->expect && !strcmp(d->port, port))
            return d;
    }
    return NULL;
}

static int on_port(aemp_node *n, const char *port, const aemp_val *msg,
                   void *ud)
{
    (void)msg;
    (void)ud;
    kernel_dc *d = find_by_port(n, port);
    if (d && d->wait == DC_ROUNDTRIP)
        find_addresses(d);
    return 0;
}

static void on_port_died(aemp_node *n, const char *port,
                         const aemp_val *reason, void *ud)
{
    (void)ud;
    kernel_dc *d = find_by_port(n, port);
    if (!d)
        return;
    d->mon.id = 0; /* fired */
    /* the peer's kil: ("AnyEvent::MP::DataConn", TEXT) */
    const char *text = aemp_str_ptr(aemp_array_at(reason, 1), NULL);
    char *json = text && *text ? NULL : aemp_to_json(reason, NULL);
    aemp_buf b = AEMP_BUF_INIT;
    aempi_buf_printf(&b, "%s: %s", d->peer,
                     json ? json : text && *text ? text : "killed");
    free(json);
    finish(d, NULL, b.p ? b.p : "killed");
    aempi_buf_free(&b);
}

/* ---- the requests ---- */

static const char *arg_str(const aemp_val *msg, size_t i)
{
    return aemp_str_ptr(aemp_array_at(msg, i), NULL);
}

static kernel_dc *dc_new(aemp_node *n, const char *id, const char *peer)
{
    kernel_dc *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->node = n;
    d->id = strdup(id);
    d->peer = strdup(peer);
    if (!d->id || !d->peer) {
        dc_free(d);
        return NULL;
    }
    return d;
}

/* _expect ID PORT TIMEOUT INITFUNC INITDATA...: the other node is about
 * to make data connection ID with us. */
static void req_expect(aemp_node *n, const char *src, aemp_val *msg)
{
    kernel_dataconns *s = n->dataconns;
    const char *id = arg_str(msg, 2), *port = arg_str(msg, 3),
               *initfunc = arg_str(msg, 5);
    const char *bad =
        !id || !*id || strlen(id) > DC_MAX_ID ? "no usable id"
        : !port || !aempi_kernel_has_node(port) ? "no usable port"
        : !initfunc || !*initfunc            ? "no init function"
        : aempi_dict_get(&s->pending, id)    ? "the id is taken"
                                             : NULL;
    if (bad) {
        aemp_log_ctx(n, 4, LOG_DATACONN, "%s from %s refused: %s", DC_EXPECT,
                     src, bad);
        return;
    }
    if (s->pending.count >= DC_MAX_PENDING) {
        aemp_log_ctx(n, 4, LOG_DATACONN,
                     "%s from %s refused: %d data connections pending",
                     DC_EXPECT, src, DC_MAX_PENDING);
        aemp_kil(n, port,
                 aemp_arrayv(aemp_str(LOG_DATACONN),
                             aemp_str("too many data connections pending"),
                             NULL));
        return;
    }
    kernel_dc *d = dc_new(n, id, src);
    if (!d)
        return;
    d->expect = 1;
    d->wait = DC_INCOMING;
    d->port = strdup(port);
    d->initfunc = strdup(initfunc);
    d->initdata = aemp_array();
    for (size_t i = 6; d->initdata && i < aemp_array_len(msg); i++)
        aemp_array_push(d->initdata, aemp_ref(aemp_array_at(msg, i)));
    if (!d->port || !d->initfunc || !d->initdata ||
        start_timer(d, aemp_as_double(aemp_array_at(msg, 4))) ||
        aempi_dict_set(&s->pending, id, d)) {
        dc_free(d);
        return;
    }
}

/* _connect ID NODE: the node that asked us to expect ID has no
 * listeners; we connect to it. */
static void req_connect(aemp_node *n, const char *src, aemp_val *msg)
{
    const char *id = arg_str(msg, 2);
    kernel_dc *d = id ? aempi_dict_get(&n->dataconns->pending, id) : NULL;
    /* Perl: $STATE{$id} or return */
    if (!d || !d->expect || strcmp(d->peer, src) || d->wait != DC_INCOMING)
        return;
    find_addresses(d);
}

/* ---- the API ---- */

int aemp_dataconn_register(aemp_node *n, const char *name,
                           aemp_dataconn_init_cb cb, void *ud)
{
    if (!n)
        return AEMP_EINVAL;
    if (!name || !*name)
        return aempi_kernel_refuse(n, "'%s': not a function name to register",
                                   name ? name : "undef");
    kernel_dataconns *s = n->dataconns;
    free(aempi_dict_del(&s->inits, name));
    if (!cb)
        return AEMP_OK;
    dc_init *f = malloc(sizeof *f);
    if (!f)
        return AEMP_ENOMEM;
    f->cb = cb;
    f->ud = ud;
    if (aempi_dict_set(&s->inits, name, f)) {
        free(f);
        return AEMP_ENOMEM;
    }
    return AEMP_OK;
}

static int check_connect(aemp_node *n, const char *target, double timeout,
                         const char *initfunc, const aemp_val *initdata,
                         int has_cb)
{
    if (aempi_kernel_check_port(n, target))
        return AEMP_EINVAL;
    if (!initfunc || !*initfunc)
        return aempi_kernel_refuse(n, "aemp_dataconn_connect: no init "
                                      "function");
    if (initdata && aempi_kernel_check_array(
                        n, "aemp_dataconn_connect: the init data", initdata))
        return AEMP_EINVAL;
    if (aempi_kernel_check_cb(n, "aemp_dataconn_connect", has_cb))
        return AEMP_EINVAL;
    if (!(timeout > 0))
        return aempi_kernel_refuse(n, "aemp_dataconn_connect: the timeout "
                                      "must be more than 0 seconds");
    if (!*n->id)
        return aempi_kernel_refuse(n, "aemp_dataconn_connect: the node is not "
                                      "configured");
    return AEMP_OK;
}

/* Our own node: both ends of a socketpair, as Perl's. */
static int connect_local(aemp_node *n, kernel_dc *d)
{
    evutil_socket_t fds[2];
    d->local = 1;
    if (evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, fds)) {
        set_error(&d->error, "cannot create local socketpair");
    } else {
        evutil_make_socket_nonblocking(fds[0]);
        evutil_make_socket_nonblocking(fds[1]);
        d->bev = bufferevent_socket_new(n->base, fds[0],
                                        BEV_OPT_CLOSE_ON_FREE);
        d->bev2 = bufferevent_socket_new(n->base, fds[1],
                                         BEV_OPT_CLOSE_ON_FREE);
        if (!d->bev || !d->bev2) {
            if (!d->bev)
                evutil_closesocket(fds[0]);
            if (!d->bev2)
                evutil_closesocket(fds[1]);
            return AEMP_ENOMEM;
        }
        bufferevent_enable(d->bev, EV_READ | EV_WRITE);
        bufferevent_enable(d->bev2, EV_READ | EV_WRITE);
    }
    queue_done(n, d);
    return AEMP_OK;
}

static int connect_remote(aemp_node *n, kernel_dc *d, double timeout)
{
    kernel_dataconns *s = n->dataconns;
    d->port = aemp_port(n, on_port, NULL);
    if (!d->port || start_timer(d, timeout) ||
        aempi_dict_set(&s->pending, d->id, d))
        return AEMP_ENOMEM;
    d->mon = aemp_mon(n, d->port, on_port_died, NULL);
    aemp_val *args = aemp_arrayv(aemp_str(d->id), aemp_str(d->port),
                                 aemp_double(d->timeout),
                                 aemp_str(d->initfunc), NULL);
    for (size_t i = 0; args && i < aemp_array_len(d->initdata); i++)
        aemp_array_push(args, aemp_ref(aemp_array_at(d->initdata, i)));
    aemp_snd_to_func(n, d->peer, DC_EXPECT, args);
    /* the reply to this says the _expect is there (Perl's snd_on) */
    aemp_snd(n, d->peer,
             aemp_arrayv(aemp_str("snd"), aemp_str(d->port), NULL));
    return AEMP_OK;
}

int aemp_dataconn_connect(aemp_node *n, const char *target, double timeout,
                          const char *initfunc, aemp_val *initdata,
                          aemp_dataconn_cb cb, void *ud)
{
    if (!n || check_connect(n, target, timeout, initfunc, initdata,
                            cb != NULL)) {
        aemp_unref(initdata);
        return AEMP_EINVAL;
    }
    kernel_dataconns *s = n->dataconns;
    if (s->pending.count >= DC_MAX_PENDING) {
        aemp_unref(initdata);
        return aempi_kernel_refuse(n, "aemp_dataconn_connect: %d data "
                                      "connections pending",
                                   DC_MAX_PENDING);
    }
    char *peer = aemp_node_of(target);
    aempi_kernel_string_increment(s->counter, sizeof s->counter);
    aemp_buf id = AEMP_BUF_INIT;
    aempi_buf_printf(&id, "%s@%s", s->counter, n->id);
    kernel_dc *d = peer && id.p ? dc_new(n, id.p, peer) : NULL;
    free(peer);
    aempi_buf_free(&id);
    if (!d || !(d->initfunc = strdup(initfunc)) ||
        !(d->initdata = initdata ? initdata : aemp_array())) {
        if (d && !d->initdata)
            aemp_unref(initdata);
        if (d)
            dc_free(d);
        else
            aemp_unref(initdata);
        return AEMP_ENOMEM;
    }
    d->cb = cb;
    d->ud = ud;
    d->timeout = timeout;
    int rc = !strcmp(d->peer, n->id) ? connect_local(n, d)
                                     : connect_remote(n, d, timeout);
    if (rc) {
        if (aempi_dict_get(&s->pending, d->id) == d)
            aempi_dict_del(&s->pending, d->id);
        if (d->port)
            aemp_kil(n, d->port, NULL);
        dc_free(d);
    }
    return rc;
}

/* ---- life cycle ---- */

int aempi_kernel_dataconn_init(aemp_node *n)
{
    kernel_dataconns *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    strcpy(s->counter, "a");
    s->done_tail = &s->done;
    n->dataconns = s;
    return aempi_kernel_node_request_add_by_name(n, DC_EXPECT, req_expect) ||
                   aempi_kernel_node_request_add_by_name(n, DC_CONNECT,
                                                         req_connect)
               ? -1
               : 0;
}

void aempi_kernel_dataconn_free(aemp_node *n)
{
    kernel_dataconns *s = n->dataconns;
    if (!s)
        return;
    /* the links are gone already (trials point at freed memory) */
    for (aemp_dict_entry *e = aempi_dict_next(&s->pending, NULL); e;
         e = aempi_dict_next(&s->pending, e)) {
        kernel_dc *d = e->value;
        d->ntrials = 0;
        dc_free(d);
    }
    aempi_dict_clear(&s->pending);
    while (s->done) {
        kernel_dc *d = s->done;
        s->done = d->done_next;
        dc_free(d);
    }
    for (aemp_dict_entry *e = aempi_dict_next(&s->inits, NULL); e;
         e = aempi_dict_next(&s->inits, e))
        free(e->value);
    aempi_dict_clear(&s->inits);
    free(s);
    n->dataconns = NULL;
}
