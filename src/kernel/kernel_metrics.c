/* libaemp: the node's counters served as GET /metrics over HTTP
 * (libevent's evhttp) when the configuration has metrics_bind
 * (docs/metrics.md). What a scraper can cost the node is bounded: a
 * request's headers (8 KiB) and body (none taken), 5 seconds of
 * inactivity per connection, one request per connection (the reply
 * closes it), and every answer built in one go from counters (no state
 * per connection beyond evhttp's own). Anything but GET or HEAD of
 * /metrics is answered 404 or 405. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>
#include <netdb.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "aemp/stats.h"
#include "config.h"
#include "kernel.h"

#define METRICS_PATH "/metrics"
#define METRICS_HEADERS_MAX 8192
#define METRICS_BODY_MAX 256
#define METRICS_IDLE_SECONDS 5
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct kernel_metrics {
    struct evhttp *http;
    char *addr; /* host:port bound */
};

static void refuse(struct evhttp_request *req, int code, const char *why)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "Connection", "close");
    if (code == 405)
        evhttp_add_header(out, "Allow", "GET, HEAD");
    evhttp_send_error(req, code, why);
}

static void serve(struct evhttp_request *req, void *ud)
{
    aemp_node *n = ud;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!path || strcmp(path, METRICS_PATH)) {
        refuse(req, HTTP_NOTFOUND, "Not Found");
        return;
    }
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        refuse(req, 405, "Method Not Allowed");
        return;
    }
    aemp_val *stats = aempi_kernel_stats(n);
    size_t len;
    char *text = aemp_stats_prometheus(stats, &len);
    aemp_unref(stats);
    struct evbuffer *body = text ? evbuffer_new() : NULL;
    if (!body || evbuffer_add(body, text, len)) {
        free(text);
        if (body)
            evbuffer_free(body);
        refuse(req, HTTP_INTERNAL, "Out Of Memory");
        return;
    }
    free(text);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "Content-Type", METRICS_CONTENT_TYPE);
    evhttp_add_header(out, "Connection", "close");
    evhttp_send_reply(req, HTTP_OK, "OK", body);
    evbuffer_free(body);
}

/* *why = the message (malloc'd; NULL when out of memory). */
static void say(char **why, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void say(char **why, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    *why = strdup(msg);
}

/* The port the socket got (metrics_bind may ask for 0), as text. */
static int bound_port(struct evhttp_bound_socket *bs, char out[8])
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[NI_MAXHOST];
    if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss,
                    &sl) ||
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, out, 8,
                    NI_NUMERICHOST | NI_NUMERICSERV))
        return -1;
    return 0;
}

static int bind_http(aemp_node *n, struct kernel_metrics *m, const char *host,
                     const char *port, char **why)
{
    char *end;
    unsigned long p = strtoul(port, &end, 10);
    if (!*port || *end || p > 65535) {
        say(why, "metrics_bind: %s: not a port number", port);
        return AEMP_ECONFIG;
    }
    m->http = evhttp_new(n->base);
    if (!m->http)
        return AEMP_ENOMEM;
    evhttp_set_max_headers_size(m->http, METRICS_HEADERS_MAX);
    evhttp_set_max_body_size(m->http, METRICS_BODY_MAX);
    evhttp_set_timeout(m->http, METRICS_IDLE_SECONDS);
    evhttp_set_gencb(m->http, serve, n);
    struct evhttp_bound_socket *bs =
        evhttp_bind_socket_with_handle(m->http, host, (ev_uint16_t)p);
    char real[8];
    if (!bs || bound_port(bs, real)) {
        say(why, "metrics_bind: %s:%s: cannot listen: %s", host, port,
            strerror(errno));
        return AEMP_EIO;
    }
    m->addr = aempi_format_hostport(host, real);
    return m->addr ? AEMP_OK : AEMP_ENOMEM;
}

int aempi_kernel_metrics_start(aemp_node *n, char **why)
{
    *why = NULL;
    const aemp_val *v = aemp_map_get(n->config, "metrics_bind");
    if (!v || aemp_is_null(v))
        return AEMP_OK; /* off by default */
    const char *s = aemp_str_ptr(v, NULL);
    char *host = NULL, *port = NULL;
    if (!s || aempi_parse_hostport(s, NULL, &host, &port)) {
        say(why, "metrics_bind: not host:port");
        return AEMP_ECONFIG;
    }
    n->metrics = calloc(1, sizeof *n->metrics);
    int rc = n->metrics ? bind_http(n, n->metrics, host, port, why)
                        : AEMP_ENOMEM;
    free(host);
    free(port);
    if (rc)
        aempi_kernel_metrics_free(n);
    return rc;
}

void aempi_kernel_metrics_free(aemp_node *n)
{
    if (!n->metrics)
        return;
    if (n->metrics->http)
        evhttp_free(n->metrics->http);
    free(n->metrics->addr);
    free(n->metrics);
    n->metrics = NULL;
}

const char *aemp_node_metrics_addr(const aemp_node *n)
{
    return n && n->metrics ? n->metrics->addr : NULL;
}
