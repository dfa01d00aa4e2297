/* libaemp: one link to another node, as AnyEvent::MP::Transport::new runs
 * it: both sides send two greeting lines at once, each reads the other's,
 * picks an auth method and a framing from the remote lists, sends its auth
 * line, checks the remote one, and then frames flow both ways.
 *
 * Error texts are Perl's, since they end up in kill reasons that Perl
 * programs match on (transport_error => NODE, MESSAGE). */
#include "transport.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "aemp/error.h"
#include "transport_auth.h"
#include "transport_int.h"
#include "transport_tls.h"
#include "value_cbor.h"
#include "value_json.h"

/* ---- formatting helpers ---- */

/* host:port as AnyEvent::Socket::format_hostport writes it: IPv6 hosts in
 * brackets. */
static char *format_hostport(const struct sockaddr *sa)
{
    char host[INET6_ADDRSTRLEN + 2], port[16];
    if (getnameinfo(sa,
                    sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in),
                    host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV))
        return strdup("unknown:0");
    size_t n = strlen(host) + strlen(port) + 4;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
    return s;
}

static struct timeval monitor_tv(const aemp_link_host *h)
{
    double t = h->set.monitor_timeout;
    struct timeval tv;
    tv.tv_sec = (time_t)t;
    tv.tv_usec = (suseconds_t)((t - (double)tv.tv_sec) * 1e6);
    return tv;
}

static aemp_link *link_new(aemp_link_host *h, evutil_socket_t fd)
{
    aemp_link *l = calloc(1, sizeof *l + h->owner_size);
    if (!l)
        return NULL;
    l->host = h;
    l->bev = bufferevent_socket_new(h->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!l->bev) {
        free(l);
        return NULL;
    }
    l->io = l->bev;
    /* libevent reads 4 KiB at a time by default: a busy link wants more
     * per system call */
    bufferevent_set_max_single_read(l->bev, 256 * 1024);
    bufferevent_set_max_single_write(l->bev, 256 * 1024);
    l->next = h->links;
    if (h->links)
        h->links->prev = l;
    h->links = l;
    return l;
}

/* ---- sending ---- */

static int send_greeting(aemp_link *l)
{
    const aemp_link_settings *set = &l->host->set;
    const char *tls = set->tls_ctx ? "1.0" : NULL;
    /* an accepted link greets before it knows what the peer wants */
    l->lg1 = l->dataconn_id && !l->accepted
                 ? aempi_greeting_format_dataconn(set->nodeid,
                                                  set->auth_accept,
                                                  set->framings, l->peer, tls,
                                                  l->dataconn_id)
                 : aempi_greeting_format(set->nodeid, set->auth_accept,
                                         set->framings, l->peer, tls);
    if (!l->lg1 || aempi_nonce_line(l->lg2))
        return -1;
    struct evbuffer *out = bufferevent_get_output(l->bev);
    return evbuffer_add_printf(out, "%s\n%s\n", l->lg1, l->lg2) < 0 ? -1 : 0;
}

/* ---- closing ---- */

void aempi_link_close(aemp_link *l, const char *reason)
{
    if (l->state == LINK_DEAD)
        return;
    l->state = LINK_DEAD;
    free(l->reason);
    l->reason = strdup(reason ? reason : "closed");
    /* what the flush had not written joins the output */
    aempi_link_io_stop(l);
    /* Stop all I/O now; the memory goes in the reaper, after whatever
     * callback we are in has returned. */
    bufferevent_disable(l->io, EV_READ | EV_WRITE);
    bufferevent_setcb(l->io, NULL, NULL, NULL, NULL);
    /* Perl's handle writes at once; what we queued (our auth line, say)
     * should reach the peer before the close, so it can log its side.
     * Over TLS the socket's buffer holds what TLS already encrypted, a
     * TLS alert say: that goes out too. */
    struct evbuffer *out = bufferevent_get_output(l->bev);
    evutil_socket_t fd = bufferevent_getfd(l->bev);
    if (fd >= 0 && evbuffer_get_length(out)) {
        /* the socket bufferevent keeps its output frozen at the front;
         * we are done with it, so write past it */
        evbuffer_unfreeze(out, 1);
        evbuffer_write(out, fd);
    }
    aemp_link_host *h = l->host;
    event_active(h->reap_ev, 0, 0);
    /* the seed or connect attempt that made the link must learn that it
     * is gone */
    h->hooks->error(h->ud, l, l->reason);
}

void aempi_link_error(aemp_link *l, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    aempi_logger_log(l->host->log, l->state == LINK_DATA ? 7 : 5,
                     LOG_TRANSPORT, "%s disconnected - %s.", l->peer, msg);
    aempi_link_close(l, msg);
}

void aempi_link_free(aemp_link *l)
{
    aemp_link_host *h = l->host;
    if (l->prev)
        l->prev->next = l->next;
    else
        h->links = l->next;
    if (l->next)
        l->next->prev = l->prev;
    aempi_link_io_free(l);
    if (l->io) /* NULL: aempi_link_take gave it away */
        bufferevent_free(l->io); /* a TLS filter frees the socket with it */
    if (l->fail_ev)
        event_free(l->fail_ev);
    free(l->fail_msg);
    aempi_json_reader_free(l->reader);
    aempi_cbor_reader_free(l->creader);
    aempi_buf_free(&l->out);
    free(l->peer);
    free(l->lg1);
    free(l->rg1);
    free(l->rg2);
    free(l->remote_id);
    free(l->provider);
    free(l->dataconn_id);
    free(l->reason);
    free(l);
}

/* ---- the handshake ---- */

static int on_greeting(aemp_link *l, char *line)
{
    aemp_greeting g;
    const char *err;
    l->rg1 = line; /* the link owns the line from here on */
    if (aempi_greeting_parse(line, &g, &err)) {
        aempi_link_error(l,
                         "unparsable greeting, expected 'aemp', got '%.64s'",
                         line);
        return -1;
    }
    /* Perl's accepting side switches to the protocol the peer asks for;
     * one we connected ourselves keeps its own */
    int dataconn = !strcmp(g.protocol, AEMP_DATACONN_PROTOCOL);
    if (dataconn && !l->accepted && !l->dataconn_id) {
        aempi_greeting_clear(&g);
        aempi_link_error(l, "unparsable greeting, expected 'aemp', got '%s'",
                         AEMP_DATACONN_PROTOCOL);
        return -1;
    }
    if (dataconn && !l->dataconn_id) {
        if (!g.dataconn_id || !*g.dataconn_id) {
            aempi_greeting_clear(&g);
            aempi_link_error(l, "%s greeting without dataconn_id",
                             AEMP_DATACONN_PROTOCOL);
            return -1;
        }
        l->dataconn_id = strdup(g.dataconn_id);
    }
    l->remote_id = strdup(g.nodeid);
    /* kept for the link's life (aemp_node_provider): the greeting line
     * itself goes once the link is up */
    l->provider = g.provider ? strdup(g.provider) : NULL;
    long version = g.version;
    aempi_greeting_clear(&g);
    if (!l->remote_id || (dataconn && !l->dataconn_id)) {
        aempi_link_error(l, "out of memory");
        return -1;
    }
    const char *why = NULL;
    aemp_link_host *h = l->host;
    /* a data connection is no node link: Perl skips the checks of
     * talking to ourselves and of a node already connected */
    int refuse = l->dataconn_id
                     ? 0
                     : h->hooks->greeted(h->ud, l, l->remote_id, &why);
    if (l->state == LINK_DEAD)
        return -1;
    if (version != AEMP_PROTOCOL_VERSION) {
        aempi_link_error(l, "version mismatch (we: %d, they: %ld)",
                         AEMP_PROTOCOL_VERSION, version);
        return -1;
    }
    if (refuse) {
        aempi_link_error(l, "%s", why);
        return -1;
    }
    l->state = LINK_NONCE;
    return 0;
}

/* The remote greeting line 1, split again for the lists we need. */
static int remote_lists(const aemp_link *l, char **auths, char **framings,
                        int *tls)
{
    aemp_greeting g;
    const char *err;
    if (aempi_greeting_parse(l->rg1, &g, &err))
        return -1;
    *auths = strdup(g.auths);
    *framings = strdup(g.framings);
    *tls = aempi_tls_wanted(g.tls);
    aempi_greeting_clear(&g);
    return *auths && *framings ? 0 : -1;
}

static void on_read(struct bufferevent *bev, void *ud);
static void on_event(struct bufferevent *bev, short what, void *ud);

/* TLS starts right after the greetings, before the auth lines: a filter
 * on the socket's bufferevent; from now on we read and write through it. */
static int start_tls(aemp_link *l)
{
    aemp_link_host *h = l->host;
    int client = aempi_tls_is_client(l->lg2, l->rg2);
    SSL *ssl = SSL_new(h->set.tls_ctx);
    struct bufferevent *f =
        ssl ? bufferevent_openssl_filter_new(
                  h->base, l->bev, ssl,
                  client ? BUFFEREVENT_SSL_CONNECTING
                         : BUFFEREVENT_SSL_ACCEPTING,
                  BEV_OPT_CLOSE_ON_FREE)
            : NULL;
    if (!f) {
        if (ssl)
            SSL_free(ssl);
        return -1;
    }
    l->io = f;
    l->tls = 1;
    bufferevent_setcb(f, on_read, NULL, on_event, l);
    bufferevent_enable(f, EV_READ | EV_WRITE);
    /* the peer's first TLS bytes may already sit in the socket's buffer,
     * behind its nonce line: make the filter look at them */
    bufferevent_trigger(l->bev, EV_READ,
                        BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
    aempi_logger_log(h->log, 9, LOG_TRANSPORT, "%s: TLS as %s", l->peer,
                     client ? "client" : "server");
    return 0;
}

static int on_nonce(aemp_link *l, char *line)
{
    const aemp_link_settings *set = &l->host->set;
    l->rg2 = line;
    if (!strcmp(l->lg1, l->rg1) && !strcmp(l->lg2, l->rg2)) {
        aempi_link_error(l, "authentication error, echo attack?");
        return -1;
    }
    char *auths = NULL, *framings = NULL;
    int remote_tls = 0;
    if (remote_lists(l, &auths, &framings, &remote_tls)) {
        free(auths);
        free(framings);
        aempi_link_error(l, "out of memory");
        return -1;
    }
    int tls = set->tls_ctx && remote_tls;
    int bad_auth = aempi_pick_common(auths, set->auth_offer, tls, l->s_auth,
                                     sizeof l->s_auth);
    int bad_framing = aempi_pick_common(framings, set->framings, 1,
                                        l->s_framing, sizeof l->s_framing);
    if (bad_auth)
        aempi_link_error(l, "%s: no common auth type supported", auths);
    else if (bad_framing)
        aempi_link_error(l, "%s: no common framing method supported",
                         framings);
    free(auths);
    free(framings);
    if (bad_auth || bad_framing)
        return -1;

    if (tls) {
        /* over TLS only the tls_* methods are sent */
        if (strcmp(l->s_auth, "tls_sha3_512") &&
            strcmp(l->s_auth, "tls_anon")) {
            aempi_link_error(l,
                             "%s: fatal, selected unsupported snd auth method",
                             l->s_auth);
            return -1;
        }
        if (start_tls(l)) {
            aempi_link_error(l, "cannot start TLS");
            return -1;
        }
    } else if (!set->secret_len) {
        aempi_link_error(l, "unable to handshake TLS and no shared secret "
                      "configured");
        return -1;
    } else if (strcmp(l->s_auth, "hmac_sha3_512")) {
        aempi_link_error(l, "%s: fatal, selected unsupported snd auth method",
                         l->s_auth);
        return -1;
    }
    char lauth[129];
    if (aempi_auth_value(l->s_auth, set->secret, set->secret_len, l->lg1,
                         l->lg2, l->rg1, l->rg2, lauth, sizeof lauth)) {
        aempi_link_error(l, "cannot compute the auth value");
        return -1;
    }
    evbuffer_add_printf(bufferevent_get_output(l->io), "%s;%s;%s\n",
                        l->s_auth, lauth, l->s_framing);
    l->state = LINK_AUTH;
    return 0;
}

static int on_frame(aemp_val *frame, void *ud)
{
    aemp_link *l = ud;
    aemp_link_host *h = l->host;
    h->count.msgs_in[l->creader != NULL]++;
    h->hooks->frame(h->ud, l, frame);
    return l->state == LINK_DEAD ? 1 : 0;
}

static int dataconn_up(aemp_link *l);

static int on_auth(aemp_link *l, char *line)
{
    aemp_link_host *h = l->host;
    const aemp_link_settings *set = &h->set;
    /* method;authdata;framing */
    char *method = line, *data = "", *framing = "";
    char *semi = strchr(method, ';');
    if (semi) {
        *semi = 0;
        data = semi + 1;
        if ((semi = strchr(data, ';'))) {
            *semi = 0;
            framing = semi + 1;
            if ((semi = strchr(framing, ';')))
                *semi = 0;
        }
    }
    char expect[1024];
    int tls = l->tls;
    int known = !strcmp(method, "hmac_sha3_512") ||
                !strcmp(method, "cleartext") || !strcmp(method, "tls_anon") ||
                !strcmp(method, "tls_sha3_512");
    if (!known) {
        aempi_link_error(l, "%s: fatal, selected unsupported rcv auth method",
                         method);
        free(line);
        return -1;
    }
    int ok;
    if (!strncmp(method, "tls_", 4) && !tls)
        ok = 0; /* tls_* without TLS never matches, as in Perl */
    else
        ok = aempi_auth_value(method, set->secret, set->secret_len, l->rg1,
                              l->rg2, l->lg1, l->lg2, expect,
                              sizeof expect) == 0 &&
             aempi_auth_equal(data, expect);
    if (!ok) {
        aempi_link_error(l, "authentication failure/shared secret mismatch");
        free(line);
        return -1;
    }
    /* tls_anon carries no proof of the greetings: Perl marks such a peer
     * untrusted */
    l->untrusted = !strcmp(method, "tls_anon");
    if (!aempi_list_has(set->framings, framing)) {
        aempi_link_error(l, "%s: unusable remote framing", framing);
        free(line);
        return -1;
    }
    int cbor_in = !strcmp(framing, "cbor");
    free(line);
    if (l->dataconn_id)
        return dataconn_up(l);
    /* each side sends in the framing it chose from the other's list */
    l->cbor_out = !strcmp(l->s_framing, "cbor");
    if (cbor_in)
        l->creader = aempi_cbor_reader_new(on_frame, l);
    else
        l->reader = aempi_json_reader_new(on_frame, l);
    if (!l->reader && !l->creader) {
        aempi_link_error(l, "out of memory");
        return -1;
    }
    aempi_cbor_reader_set_limit(l->creader, set->max_frame);
    aempi_cbor_reader_set_pool(l->creader, l->host->pool);
    aempi_json_reader_set_limit(l->reader, set->max_frame);
    aempi_json_reader_set_pool(l->reader, l->host->pool);
    /* After auth there is no deadline and no read timeout: TCP keepalive
     * watches the link. But output that the peer has not taken for monitor_timeout
     * closes it: a stopped peer keeps its connection open, and keepalive
     * probes are answered by its kernel. The socket's bufferevent times
     * the writes, also under TLS, whose filter passes on all it has. */
    struct timeval wt = monitor_tv(h);
    /* the handshake deadline: freed, not only stopped, as a seed keeps
     * thousands of idle links (link_fail_at makes another if needed) */
    if (l->fail_ev)
        event_free(l->fail_ev);
    l->fail_ev = NULL;
    free(l->fail_msg);
    l->fail_msg = NULL;
    bufferevent_set_timeouts(l->bev, NULL, &wt);
    l->state = LINK_DATA;
    /* the greeting lines only served the handshake: a seed keeps
     * thousands of idle links */
    free(l->lg1);
    free(l->rg1);
    free(l->rg2);
    l->lg1 = l->rg1 = l->rg2 = NULL;
    aempi_logger_log(h->log, 9, LOG_TRANSPORT, "%s connected as %s%s%s.",
                     l->peer, l->remote_id, l->tls ? " over TLS" : "",
                     l->untrusted ? " (untrusted, tls_anon)" : "");
    h->count.links_up++;
    h->hooks->up(h->ud, l);
    return l->state == LINK_DEAD ? -1 : 0;
}

/* A data connection is authenticated: its user takes the socket
 * (aempi_link_take) or the link closes. Either way no more lines. */
static int dataconn_up(aemp_link *l)
{
    aemp_link_host *h = l->host;
    if (l->fail_ev)
        event_del(l->fail_ev); /* the handshake deadline */
    l->state = LINK_DATA;
    aempi_logger_log(h->log, 9, LOG_TRANSPORT,
                     "%s: data connection %s with %s%s.", l->peer,
                     l->dataconn_id, l->remote_id, l->tls ? " over TLS" : "");
    if (h->hooks->dataconn)
        h->hooks->dataconn(h->ud, l, l->dataconn_id);
    if (l->state != LINK_DEAD)
        aempi_link_close(l, "data connection not taken");
    return -1;
}

struct bufferevent *aempi_link_take(aemp_link *l)
{
    if (!l->dataconn_id || l->state != LINK_DATA || !l->io)
        return NULL;
    struct bufferevent *b = l->io;
    /* the socket's bufferevent under a TLS filter keeps the filter's
     * callbacks; the one the user gets has none of ours */
    bufferevent_setcb(b, NULL, NULL, NULL, NULL);
    bufferevent_set_timeouts(l->bev, NULL, NULL);
    bufferevent_set_timeouts(b, NULL, NULL);
    l->io = l->bev = NULL;
    l->state = LINK_DEAD;
    free(l->reason);
    l->reason = strdup("taken");
    event_active(l->host->reap_ev, 0, 0);
    return b;
}

const char *aempi_link_provider(const aemp_link *l)
{
    return l ? l->provider : NULL;
}

const char *aempi_link_dataconn_id(const aemp_link *l)
{
    return l->dataconn_id;
}

/* Reads handshake lines (each handler takes its line); returns -1 when the link died, 0 when more input
 * is needed, 1 when the data phase has started. */
static int read_lines(aemp_link *l, struct bufferevent *from)
{
    struct evbuffer *in = bufferevent_get_input(from);
    /* after the nonce line TLS may take over: what follows in the
     * socket's buffer is for the TLS filter, no longer lines for us */
    while (l->state < LINK_DATA && l->io == from) {
        size_t len;
        char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
        if (!line) {
            if (evbuffer_get_length(in) >= AEMP_LINE_MAX) {
                aempi_link_error(l, "line too long during handshake (over %d "
                              "bytes)", AEMP_LINE_MAX);
                return -1;
            }
            return 0;
        }
        if (len >= AEMP_LINE_MAX) {
            free(line);
            aempi_link_error(l,
                             "line too long during handshake (over %d bytes)",
                             AEMP_LINE_MAX);
            return -1;
        }
        if (len && line[len - 1] == '\r')
            line[--len] = 0;
        int rc = l->state == LINK_GREETING ? on_greeting(l, line)
                 : l->state == LINK_NONCE  ? on_nonce(l, line)
                                           : on_auth(l, line);
        if (rc)
            return -1;
    }
    return l->state == LINK_DATA ? 1 : 0;
}

int aempi_link_feed(aemp_link *l, const char *data, size_t len)
{
    l->host->unflushed_in += len; /* aempi_link_host_deliver */
    l->host->count.bytes_in[l->creader != NULL] += len;
    int rc = l->creader ? aempi_cbor_reader_feed(l->creader, data, len)
                        : aempi_json_reader_feed(l->reader, data, len);
    if (l->state == LINK_DEAD)
        return -1;
    if (rc == AEMP_ELIMIT) {
        /* the reader's own text has the offset; the log and the kill
         * reason name the setting to change */
        aempi_logger_log(l->host->log, 9, LOG_TRANSPORT, "%s: %s", l->peer,
                         l->creader ? aempi_cbor_reader_error(l->creader)
                                   : aempi_json_reader_error(l->reader));
        aempi_link_error(l, "frame exceeds max_frame (%zu bytes)",
                         l->host->set.max_frame);
        return -1;
    }
    if (rc) {
        const char *why = l->creader ? aempi_cbor_reader_error(l->creader)
                                     : aempi_json_reader_error(l->reader);
        aempi_link_error(l, "%s", rc == AEMP_EPARSE ? why : "out of memory");
        return -1;
    }
    return 0;
}

static void feed_frames(aemp_link *l, struct evbuffer *in)
{
    while (l->state == LINK_DATA && evbuffer_get_length(in)) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            return;
        if (aempi_link_feed(l, v.iov_base, v.iov_len))
            return;
        evbuffer_drain(in, v.iov_len);
    }
}

static void read_input(aemp_link *l, struct bufferevent *bev)
{
    if (l->state < LINK_DATA && read_lines(l, bev) <= 0)
        return;
    feed_frames(l, bufferevent_get_input(bev));
    /* the handshake's bytes are consumed: a plain link reads and writes
     * its socket itself from now on */
    if (!l->tls && l->state == LINK_DATA)
        aempi_link_io_start(l);
}

static void on_read(struct bufferevent *bev, void *ud)
{
    aemp_link *l = ud;
    if (bev != l->io)
        return; /* the socket's own callback, before TLS took it over */
    aemp_link_host *h = l->host;
    aempi_link_host_enter(h); /* a link up may replace another */
    read_input(l, bev);
    /* what was read is delivered now, as on a plain link, before a
     * failure found in a later callback fires monitors ahead of it */
    aempi_link_host_deliver(h);
    aempi_link_host_leave(h);
}

/* A link's socket, connected or accepted: TCP_NODELAY unless nodelay is
 * false (Transport.pm's no_delay, on by default), and keepalives. */
static void socket_options(const aemp_link_host *h, evutil_socket_t fd)
{
    int one = 1, nodelay = !h->set.tcp_delay;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
}

static void link_event(aemp_link *l, short what)
{
    if (what & BEV_EVENT_CONNECTED) {
        socket_options(l->host, bufferevent_getfd(l->bev));
        return;
    }
    unsigned long tls_err = l->tls ? bufferevent_get_openssl_error(l->io) : 0;
    if (tls_err) {
        char buf[256];
        ERR_error_string_n(tls_err, buf, sizeof buf);
        while (bufferevent_get_openssl_error(l->io))
            ; /* the first error says it */
        aempi_link_error(l, "TLS: %s", buf);
    } else if (what & BEV_EVENT_TIMEOUT) /* the only one: writes */
        aempi_link_error(l,
                         "write timeout: the peer took nothing for %g seconds",
                         l->host->set.monitor_timeout);
    else if (what & BEV_EVENT_EOF)
        /* AnyEvent::Handle: EOF while a read is queued (the handshake)
         * is EPIPE; in the data phase (on_read) "Unexpected end-of-file" */
        aempi_link_error(l, "%s",
                         l->state == LINK_DATA ? "Unexpected end-of-file"
                                                  : strerror(EPIPE));
    else {
        int err = EVUTIL_SOCKET_ERROR();
        aempi_link_error(l, "%s", strerror(err ? err : EPIPE));
    }
}

static void on_event(struct bufferevent *bev, short what, void *ud)
{
    (void)bev;
    aemp_link *l = ud;
    aemp_link_host *h = l->host;
    aempi_link_host_enter(h);
    link_event(l, what);
    aempi_link_host_leave(h);
}

static void on_fail(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    aemp_link *l = ud;
    aemp_link_host *h = l->host;
    aempi_link_host_enter(h);
    if (l->state != LINK_DEAD)
        aempi_link_error(l, "%s", l->fail_msg);
    aempi_link_host_leave(h);
}

/* Closes the link with msg from the event loop, after the time given or
 * (NULL) in this turn; a later call replaces an earlier one. Failures
 * found inside a call (a connect that cannot start, a send past the cap)
 * go this way, so no caller sees callbacks run inside its own call. */
static void link_fail_at(aemp_link *l, const char *msg,
                         const struct timeval *after)
{
    char *m = strdup(msg);
    if (!m || (!l->fail_ev &&
               !(l->fail_ev = event_new(l->host->base, -1, 0, on_fail, l)))) {
        free(m);
        return; /* out of memory: no deadline; a send past the cap
                   waits for the write timeout */
    }
    free(l->fail_msg);
    l->fail_msg = m;
    event_del(l->fail_ev);
    if (after)
        event_add(l->fail_ev, after);
    else
        event_active(l->fail_ev, 0, 0);
}

void aempi_link_fail_soon(aemp_link *l, const char *msg)
{
    link_fail_at(l, msg, NULL);
}

static void link_start(aemp_link *l)
{
    /* The handshake must be over within monitor_timeout. Perl's is a
     * read timeout, which every byte restarts: a peer trickling a byte
     * now and then holds the socket (a file descriptor, a link's memory)
     * for ever. This deadline counts from the start instead; a peer
     * that is merely slow still has all of monitor_timeout. */
    struct timeval tv = monitor_tv(l->host);
    bufferevent_setcb(l->bev, on_read, NULL, on_event, l);
    bufferevent_enable(l->bev, EV_READ | EV_WRITE);
    link_fail_at(l, strerror(ETIMEDOUT), &tv);
}

static aemp_link *link_connect(aemp_link_host *h, const char *host,
                               const char *port, const char *dataconn_id)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    aemp_link *l = link_new(h, -1);
    if (!l)
        return NULL;
    if (dataconn_id && !(l->dataconn_id = strdup(dataconn_id))) {
        aempi_link_free(l);
        return NULL;
    }
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai) {
        l->peer = malloc(strlen(host) + strlen(port) + 4);
        if (l->peer)
            sprintf(l->peer, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host,
                    port);
        if (!l->peer || send_greeting(l)) {
            aempi_link_free(l);
            return NULL;
        }
        link_start(l);
        aempi_link_fail_soon(l, gai_strerror(gai));
        return l;
    }
    l->peer = format_hostport(res->ai_addr);
    if (!l->peer || send_greeting(l)) {
        freeaddrinfo(res);
        aempi_link_free(l);
        return NULL;
    }
    link_start(l);
    if (bufferevent_socket_connect(l->bev, res->ai_addr,
                                   (int)res->ai_addrlen)) {
        int err = EVUTIL_SOCKET_ERROR();
        aempi_link_fail_soon(l, strerror(err ? err : ECONNREFUSED));
    }
    freeaddrinfo(res);
    return l;
}

aemp_link *aempi_link_connect(aemp_link_host *h, const char *host,
                              const char *port)
{
    return link_connect(h, host, port, NULL);
}

aemp_link *aempi_link_connect_dataconn(aemp_link_host *h, const char *host,
                                       const char *port, const char *id)
{
    return id && *id ? link_connect(h, host, port, id) : NULL;
}

aemp_link *aempi_link_accept(aemp_link_host *h, evutil_socket_t fd,
                             const struct sockaddr *sa, int salen)
{
    (void)salen;
    socket_options(h, fd);
    aemp_link *l = link_new(h, fd);
    if (!l) {
        evutil_closesocket(fd);
        return NULL;
    }
    l->accepted = 1;
    l->peer = format_hostport(sa);
    if (!l->peer || send_greeting(l)) {
        aempi_link_free(l);
        return NULL;
    }
    link_start(l);
    return l;
}

const char *aempi_link_remote_id(const aemp_link *l)
{
    return l->remote_id;
}

const char *aempi_link_framing(const aemp_link *l)
{
    return l->state == LINK_DATA ? l->s_framing : NULL;
}

void *aempi_link_owner_data(aemp_link *l)
{
    return l->owner;
}
