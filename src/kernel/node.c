/* libaemp: a node's life cycle and configure (the second half of
 * Kernel.pm's configure: listeners, the 'l entry, seeds). */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "config.h"
#include "kernel.h"
#include "transport_tls.h"

static void on_jobs(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    aempi_kernel_run_jobs(ud);
}

/* A peer that closes while we write must cost a link, not the process:
 * SIGPIPE is ignored unless the program has a handler of its own (Perl's
 * AnyEvent does the same). */
static void ignore_sigpipe(void)
{
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
    }
}

aemp_node *aempi_kernel_node_new(struct event_base *base)
{
    if (!base)
        return NULL;
    aemp_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    aempi_kernel_hooks_none(n);
    n->base = base;
    n->jobs_tail = &n->jobs;
    n->urgent_tail = &n->urgent;
    strcpy(n->id_counter, "a");
    n->id = strdup("");
    n->uniq = malloc(10);
    n->runiq = malloc(11);
    n->jobs_ev = event_new(base, -1, 0, on_jobs, n);
    int no_host = aempi_kernel_link_host_init(n) ||
                  aempi_kernel_dataconn_init(n);
    n->monitor_timeout = 30;
    n->connect_interval = 2;
    n->max_send_queue = 64 * 1024 * 1024;
    if (!n->id || !n->uniq || !n->runiq || !n->jobs_ev || no_host) {
        aemp_node_free(n);
        return NULL;
    }
    /* local port ids get a per-node prefix so that ids stay unique across
     * restarts; ids made for other nodes (spawn) a longer one ending in an
     * upper-case letter, so the two never clash (Kernel.pm UNIQ, RUNIQ) */
    if (aempi_config_nonce62(n->uniq, 9) || aempi_config_runiq(n->runiq)) {
        aemp_node_free(n);
        return NULL;
    }
    aempi_log_init(n);
    ignore_sigpipe();
    return n;
}

void aemp_node_free(aemp_node *n)
{
    if (!n)
        return;
    aempi_kernel_seeds_free(n);
    aempi_kernel_listeners_free(n);
    aempi_kernel_metrics_free(n);
    aempi_link_host_clear(&n->transport); /* the links, without hooks */
    aempi_kernel_dataconn_free(n);
    aempi_kernel_remotes_free(n);
    aempi_kernel_hooks_free(n);
    aempi_kernel_node_requests_free(n);
    aempi_kernel_funcs_free(n);
    aempi_kernel_services_free(n);
    aempi_kernel_ports_free(n);
    aempi_kernel_jobs_free(n);
    aempi_pool_clear(&n->pool); /* after the links and jobs using it */
    aempi_dict_clear(&n->monitors); /* all freed with their lists above */
    while (n->node_mons) {
        aemp_node_mon *next = n->node_mons->next;
        free(n->node_mons);
        n->node_mons = next;
    }
    if (n->jobs_ev)
        event_free(n->jobs_ev);
    aemp_unref(n->config);
    aemp_unref(n->binds);
    free(n->id);
    free(n->uniq);
    free(n->runiq);
    aempi_buf_free(&n->die_msg);
    aempi_buf_free(&n->scratch);
    free(n->errmsg);
    free(n->last_link_error);
    aempi_log_free(n);
    free(n);
}

const char *aemp_node_id(const aemp_node *n)
{
    return n ? n->id : NULL;
}

const aemp_val *aemp_node_config(const aemp_node *n)
{
    return n ? n->config : NULL;
}

const aemp_val *aemp_node_binds(const aemp_node *n)
{
    return n ? n->binds : NULL;
}

size_t aemp_node_unsent(const aemp_node *n)
{
    return n ? aempi_link_host_unsent(&n->transport) : 0;
}

const char *aemp_node_errmsg(const aemp_node *n)
{
    if (!n) /* most likely aemp_node_new failed */
        return "no node";
    return n->errmsg ? n->errmsg : "";
}

static int fail(aemp_node *n, int err, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    free(n->errmsg);
    n->errmsg = strdup(msg);
    aemp_log_ctx(n, 4, LOG_KERNEL, "%s", msg);
    return err;
}

/* Joins an array of strings with commas; the framing and auth lists of
 * the greeting. keep, if given, filters entries. */
static char *join_list(const aemp_val *list, int (*keep)(const char *))
{
    aemp_buf b = AEMP_BUF_INIT;
    aempi_buf_puts(&b, "");
    int first = 1;
    for (size_t i = 0; i < aemp_array_len(list); i++) {
        const char *s = aemp_str_ptr(aemp_array_at(list, i), NULL);
        if (!s || (keep && !keep(s)))
            continue;
        if (!first)
            aempi_buf_putc(&b, ',');
        aempi_buf_puts(&b, s);
        first = 0;
    }
    return aempi_buf_detach(&b, NULL);
}

/* The framings this implementation reads (Perl's third, storable, is
 * Perl's own). */
static int supported_framing(const char *f)
{
    return !strcmp(f, "json") || !strcmp(f, "cbor");
}

/* max_frame: a number of bytes, or a string of digits (0: no limit);
 * missing or null keeps the default. */
static int take_max_frame(aemp_node *n)
{
    const aemp_val *v = aemp_map_get(n->config, "max_frame");
    const char *s = aemp_str_ptr(v, NULL);
    double d = aemp_as_double(v);
    int ok = 0;
    switch (aemp_type_of(v)) {
    case AEMP_NULL: return AEMP_OK;
    case AEMP_INT:
    case AEMP_UINT:
    case AEMP_DOUBLE: ok = d >= 0; break;
    case AEMP_STRING: ok = *s && strspn(s, "0123456789") == strlen(s); break;
    default: break;
    }
    if (!ok)
        return fail(n, AEMP_ECONFIG,
                    "max_frame must be a number of bytes (0: no limit)");
    n->transport.set.max_frame = d >= (double)SIZE_MAX ? SIZE_MAX
                                                       : (size_t)d;
    return AEMP_OK;
}

/* The links' settings (n->transport.set) from the configuration; the
 * kernel keeps the timings and the queue cap for itself too. */
static int take_transport_settings(aemp_node *n)
{
    const aemp_val *c = n->config;
    aemp_link_settings *set = &n->transport.set;
    const aemp_val *secret = aemp_map_get(c, "secret");
    if (secret && !aemp_is_null(secret)) {
        size_t len;
        const char *s = aemp_str_ptr(secret, &len);
        char *json = s ? NULL : aemp_to_json(secret, &len);
        set->secret = malloc(len + 1);
        if (!set->secret) {
            free(json);
            return fail(n, AEMP_ENOMEM, "out of memory");
        }
        memcpy(set->secret, s ? s : json, len);
        set->secret[len] = 0;
        set->secret_len = len;
        free(json);
    }
    set->nodeid = strdup(n->id);
    set->auth_offer = join_list(aemp_map_get(c, "auth_offer"), NULL);
    set->auth_accept = join_list(aemp_map_get(c, "auth_accept"), NULL);
    set->framings = join_list(aemp_map_get(c, "framing_format"),
                              supported_framing);
    if (!set->nodeid || !set->auth_offer || !set->auth_accept ||
        !set->framings)
        return fail(n, AEMP_ENOMEM, "out of memory");
    if (!*set->framings)
        return fail(n, AEMP_ECONFIG,
                    "framing_format lists no framing this node can read "
                    "(it reads cbor and json)");
    const aemp_val *v = aemp_map_get(c, "monitor_timeout");
    if (v && !aemp_is_null(v))
        n->monitor_timeout = aemp_as_double(v);
    v = aemp_map_get(c, "connect_interval");
    if (v && !aemp_is_null(v))
        n->connect_interval = aemp_as_double(v);
    if (n->monitor_timeout <= 0 || n->connect_interval <= 0)
        return fail(n, AEMP_ECONFIG,
                    "monitor_timeout and connect_interval must be positive");
    v = aemp_map_get(c, "max_send_queue");
    if (v && !aemp_is_null(v)) {
        double q = aemp_as_double(v);
        if (!(q >= 1 && q <= (double)(SIZE_MAX / 2)))
            return fail(n, AEMP_ECONFIG,
                        "max_send_queue must be a positive number of bytes");
        n->max_send_queue = (size_t)q;
    }
    set->monitor_timeout = n->monitor_timeout;
    set->max_send_queue = n->max_send_queue;
    if (take_max_frame(n))
        return AEMP_ECONFIG;
    n->secure = aemp_is_true(aemp_map_get(c, "secure"));
    /* Transport.pm: exists $config->{nodelay} ? $config->{nodelay} : 1 */
    v = aemp_map_get(c, "nodelay");
    set->tcp_delay = v && !aemp_is_true(v);
    const aemp_val *cert = aemp_map_get(c, "cert");
    size_t certlen;
    const char *pem = aemp_str_ptr(cert, &certlen);
    if (pem && certlen) {
        char *err = NULL;
        set->tls_ctx = aempi_tls_ctx_new(pem, certlen, &err);
        if (!set->tls_ctx) {
            int rc = fail(n, AEMP_ECONFIG, "%s", err ? err : "cert unusable");
            free(err);
            return rc;
        }
    }
    return AEMP_OK;
}

static int listen_one(aemp_node *n, const char *bind)
{
    char *host, *port;
    if (aempi_parse_hostport(bind, NULL, &host, &port))
        return fail(n, AEMP_ECONFIG, "%s: unparsable local bind address",
                    bind);
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
    int gai = getaddrinfo(host, strcmp(port, "*") ? port : "0", &hints, &ai);
    free(host);
    free(port);
    if (gai)
        return fail(n, AEMP_ECONFIG, "%s: %s", bind, gai_strerror(gai));
    struct evconnlistener *l =
        aempi_kernel_listener_new(n, ai->ai_addr, (int)ai->ai_addrlen);
    freeaddrinfo(ai);
    if (!l)
        return fail(n, AEMP_EIO, "%s: cannot listen: %s", bind,
                    strerror(errno));
    /* port * (0) became a real port: publish that one */
    struct sockaddr_storage ss;
    socklen_t slen = sizeof ss;
    char h[INET6_ADDRSTRLEN], p[16];
    getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &slen);
    getnameinfo((struct sockaddr *)&ss, slen, h, sizeof h, p, sizeof p,
                NI_NUMERICHOST | NI_NUMERICSERV);
    aemp_val *actual = aemp_strf(strchr(h, ':') ? "[%s]:%s" : "%s:%s", h, p);
    aemp_listener *nl = realloc(n->listeners,
                                (n->nlisteners + 1) * sizeof *nl);
    if (!actual || !nl) {
        aemp_unref(actual);
        evconnlistener_free(l);
        return fail(n, AEMP_ENOMEM, "out of memory");
    }
    n->listeners = nl;
    nl[n->nlisteners].l = l;
    nl[n->nlisteners].bind = strdup(aemp_str_ptr(actual, NULL));
    n->nlisteners++;
    aemp_array_push(n->binds, actual);
    return AEMP_OK;
}

/* The binds come resolved from the configuration (Kernel.pm _resolve);
 * port 0 listens on any port, and the real one is published. */
static int start_listeners(aemp_node *n)
{
    const aemp_val *binds = aemp_map_get(n->config, "binds");
    int rc = AEMP_OK;
    n->binds = aemp_array();
    if (!n->binds)
        return fail(n, AEMP_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < aemp_array_len(binds); i++) {
        const char *b = aemp_str_ptr(aemp_array_at(binds, i), NULL);
        rc = b ? listen_one(n, b)
               : fail(n, AEMP_ECONFIG, "binds: not a list of strings");
    }
    if (!rc)
        aemp_log_ctx(n, 8, LOG_KERNEL, "node listens on %zu address(es).",
                     aemp_array_len(n->binds));
    return rc;
}

static int set_seeds(aemp_node *n)
{
    const aemp_val *seeds = aemp_map_get(n->config, "seeds");
    n->nseeds = aemp_array_len(seeds);
    n->seeds = calloc(n->nseeds ? n->nseeds : 1, sizeof *n->seeds);
    if (!n->seeds)
        return fail(n, AEMP_ENOMEM, "out of memory");
    for (size_t i = 0; i < n->nseeds; i++) {
        const char *s = aemp_str_ptr(aemp_array_at(seeds, i), NULL);
        if (!s || !(n->seeds[i].addr = strdup(s)))
            return fail(n, AEMP_ECONFIG, "seeds: not a list of host:port");
    }
    return AEMP_OK;
}

/* A configure that failed after the listeners started leaves none open:
 * the node must not be found half-configured. why: a message to set
 * (a service's), NULL when fail() set it already. */
static int unstart(aemp_node *n, int rc, const char *why)
{
    if (why)
        fail(n, rc, "%s", why);
    aempi_kernel_listeners_free(n);
    aempi_kernel_metrics_free(n);
    aemp_unref(n->binds);
    n->binds = aemp_array();
    return rc;
}

int aemp_node_configure(aemp_node *n, const aemp_val *args,
                        const char *rcpath)
{
    if (!n)
        return AEMP_EINVAL;
    if (n->config)
        return fail(n, AEMP_ESTATE, "configure called twice");
    aemp_val *empty = args ? NULL : aemp_map();
    aemp_val *cfg = NULL;
    char *err = NULL;
    int randomised = 0;
    /* a randomised node id uses the same random id as the ids this node
     * makes for others, as in Perl */
    aemp_config_env env = {0};
    env.rcpath = rcpath;
    env.runiq = n->runiq;
    int rc = aempi_config_resolve_env(args ? args : empty, &env, &cfg,
                                      &randomised, &err);
    aemp_unref(empty);
    if (rc) {
        rc = fail(n, rc, "%s", err ? err : "configuration error");
        free(err);
        return rc;
    }
    n->config = cfg;
    const char *id = aemp_str_ptr(aemp_map_get(cfg, "nodeid"), NULL);
    if (!id || !*id || strchr(id, '#'))
        return fail(n, AEMP_ECONFIG, "%s: illegal node ID",
                    id ? id : "(none)");
    free(n->id);
    n->id = strdup(id);
    if (randomised)
        n->uniq[0] = 0; /* randomised node ids need no port prefix */
    if (!n->id)
        return fail(n, AEMP_ENOMEM, "out of memory");
    aemp_log_ctx(n, 8, LOG_KERNEL, "node %s starting up.", n->id);
    if ((rc = take_transport_settings(n)) || (rc = start_listeners(n)) ||
        (rc = set_seeds(n)))
        return unstart(n, rc, NULL);
    char *why = NULL;
    if ((rc = aempi_kernel_metrics_start(n, &why))) {
        unstart(n, rc, why ? why : "out of memory");
        free(why);
        return rc;
    }
    /* Perl starts the services after publishing 'l and the seeds; they
     * run here before both, which no service can tell (neither is sent
     * before the loop runs), so that a failing one leaves nothing behind */
    if ((rc = aempi_kernel_services_run(n)))
        return unstart(n, rc, n->die_msg.p);
    n->hooks.configured(n);
    aempi_kernel_seeds_start(n);
    return AEMP_OK;
}
