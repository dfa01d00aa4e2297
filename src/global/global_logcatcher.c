/* libaemp: AnyEvent::MP::LogCatcher::catch. One port per node listed in
 * the 'l family, connected there with LogCatcher::connect; the lines that
 * arrive go to the caller or into this node's log as Perl's catch logs
 * them. It needs the global database, so it lives here; it uses the
 * public calls, and the node's logger for relaying without the taps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "aemp/db.h"
#include "aemp/func.h"
#include "aemp/logcatcher.h"
#include "kernel.h"

#define LC_CTX "AnyEvent::MP::LogCatcher"
#define CONNECT_FUNC LC_CTX "::connect"

/* The least time between two connects to one node: a node that is listed
 * but cannot be reached must not make us spin. */
#define RECONNECT_PAUSE 1.0

typedef struct lc_node lc_node;

struct aemp_logcatcher {
    aemp_node *n;
    int level;
    aemp_logcatcher_cb cb;
    void *ud;
    aemp_db_mon_id mon;
    lc_node *nodes;
};

/* %LPORT's entry: the node, its port here (NULL while waiting to connect
 * again), the monitor of that port */
struct lc_node {
    aemp_logcatcher *lc;
    char *node;
    char *port;
    aemp_port_mon_id port_mon;
    aemp_timer_id retry;
    double connected; /* when the last connect was sent */
    lc_node *next;
};

static double now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

/* the lport's callback: my ($time, $ctx, $level, $msg) = @_ */
static int on_line(aemp_node *n, const char *port, const aemp_val *msg,
                   void *ud)
{
    (void)port;
    lc_node *e = ud;
    aemp_logcatcher *lc = e->lc;
    double t = aemp_as_double(aemp_array_at(msg, 0));
    const char *ctx = aemp_str_ptr(aemp_array_at(msg, 1), NULL);
    int level = (int)aemp_as_int(aemp_array_at(msg, 2));
    char *text = aemp_to_json(aemp_array_at(msg, 3), NULL);
    const char *line = aemp_str_ptr(aemp_array_at(msg, 3), NULL);
    if (!line) /* not a string: its JSON, so nothing is lost */
        line = text ? text : "";
    if (!ctx || !*ctx)
        ctx = "main";
    level = level < 1 ? 1 : level > 9 ? 9 : level;
    if (lc->cb) {
        lc->cb(n, e->node, t, level, ctx, line, lc->ud);
    } else {
        /* $level = 2 if $level < 2; do not exit just because others do */
        double diff = now() - t;
        char d[32] = "";
        double ad = diff < 0 ? -diff : diff;
        if (ad >= 1e-3 && ad < 1e12) /* abs $diff < 1e-3 ? "" : ... */
            snprintf(d, sizeof d, "%+.3fs", diff);
        aemp_buf b = AEMP_BUF_INIT;
        aempi_buf_printf(&b, "[%s%s] %s", e->node, d, line);
        aempi_logger_relay(&n->log, level < 2 ? 2 : level, ctx,
                           b.p ? b.p : "");
        aempi_buf_free(&b);
    }
    free(text);
    return 0;
}

static void connect_node(lc_node *e);

static void on_retry(aemp_node *n, void *ud)
{
    (void)n;
    lc_node *e = ud;
    e->retry.id = 0;
    connect_node(e);
}

/* mon $lport: the port died while the node is still listed (a del kills
 * it after cancelling this): say why, and connect again */
static void on_port_gone(aemp_node *n, const char *port,
                         const aemp_val *reason, void *ud)
{
    (void)port;
    lc_node *e = ud;
    free(e->port);
    e->port = NULL;
    e->port_mon.id = 0;
    if (aemp_array_len(reason)) {
        aemp_buf b = AEMP_BUF_INIT;
        for (size_t i = 0; i < aemp_array_len(reason); i++) {
            const char *s = aemp_str_ptr(aemp_array_at(reason, i), NULL);
            aempi_buf_printf(&b, "%s%s", i ? " " : "", s ? s : "");
        }
        aemp_log_ctx(n, 4, LC_CTX, "%s", b.p ? b.p : "");
        aempi_buf_free(&b);
    }
    double wait = e->connected + RECONNECT_PAUSE - now();
    if (wait > 0)
        e->retry = aemp_after(n, wait, on_retry, e);
    else
        connect_node(e);
}

/* mon_node's body: port, monitor, connect, and mon $node, $lport */
static void connect_node(lc_node *e)
{
    aemp_node *n = e->lc->n;
    e->port = aemp_port(n, on_line, e);
    if (!e->port)
        return;
    e->connected = now();
    e->port_mon = aemp_mon(n, e->port, on_port_gone, e);
    aemp_snd_to_func(n, e->node, CONNECT_FUNC,
                     aemp_arrayv(aemp_int(0), aemp_str(e->port),
                                 aemp_int(e->lc->level), NULL));
    aemp_mon_kil(n, e->node, e->port);
}

static void add_node(aemp_logcatcher *lc, const char *node)
{
    /* don't log messages from ourselves */
    if (!strcmp(node, aemp_node_id(lc->n)))
        return;
    for (lc_node *e = lc->nodes; e; e = e->next)
        if (!strcmp(e->node, node))
            return;
    lc_node *e = calloc(1, sizeof *e);
    if (!e || !(e->node = strdup(node))) {
        free(e);
        return;
    }
    e->lc = lc;
    e->next = lc->nodes;
    lc->nodes = e;
    connect_node(e);
}

static void drop_node(aemp_logcatcher *lc, lc_node **pp)
{
    lc_node *e = *pp;
    *pp = e->next;
    aemp_after_cancel(lc->n, e->retry);
    if (e->port) {
        aemp_mon_cancel(lc->n, e->port_mon);
        aemp_kil(lc->n, e->port, NULL);
    }
    free(e->port);
    free(e->node);
    free(e);
}

static void on_family(aemp_node *n, const char *family, const aemp_val *db,
                      const aemp_val *added, const aemp_val *changed,
                      const aemp_val *deleted, void *ud)
{
    (void)n;
    (void)family;
    (void)db;
    (void)changed;
    aemp_logcatcher *lc = ud;
    for (size_t i = 0; i < aemp_array_len(deleted); i++) {
        const char *node = aemp_str_ptr(aemp_array_at(deleted, i), NULL);
        for (lc_node **pp = &lc->nodes; node && *pp; pp = &(*pp)->next)
            if (!strcmp((*pp)->node, node)) {
                drop_node(lc, pp);
                break;
            }
    }
    for (size_t i = 0; i < aemp_array_len(added); i++) {
        const char *node = aemp_str_ptr(aemp_array_at(added, i), NULL);
        if (node)
            add_node(lc, node);
    }
}

aemp_logcatcher *aemp_logcatcher_start(aemp_node *n, int level,
                                       aemp_logcatcher_cb cb, void *ud)
{
    if (!n)
        return NULL;
    if (level < 0 || level > 9) {
        aempi_kernel_refuse(n, "%d: not a valid logging level", level);
        return NULL;
    }
    aemp_logcatcher *lc = calloc(1, sizeof *lc);
    if (!lc)
        return NULL;
    lc->n = n;
    lc->level = level;
    lc->cb = cb;
    lc->ud = ud;
    lc->mon = aemp_db_mon(n, "'l", on_family, lc);
    if (!lc->mon.id) {
        free(lc);
        return NULL;
    }
    return lc;
}

void aemp_logcatcher_stop(aemp_logcatcher *lc)
{
    if (!lc)
        return;
    aemp_db_mon_cancel(lc->n, lc->mon);
    while (lc->nodes)
        drop_node(lc, &lc->nodes);
    free(lc);
}
