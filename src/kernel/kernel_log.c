/* libaemp: the node's log (a logger of the base layer, lent to the
 * transport) and message tracing in AnyEvent::MP::Kernel's format, so
 * logs of C and Perl nodes read alike. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aemp/func.h"
#include "aemp/logcatcher.h"
#include "kernel.h"
#include "value_json.h"

#define LOGCATCHER_CTX "AnyEvent::MP::LogCatcher"

/* ---- LogCatcher.pm's connect: this node's lines to a catcher's port ---- */

/* One catcher's connection: a tap of the node's logger, removed when the
 * catcher's port dies (the tap owns it). */
typedef struct catcher_conn {
    aemp_node *n;
    char *port;
    aempi_log_tap *tap;
} catcher_conn;

static void conn_free(void *ud)
{
    catcher_conn *c = ud;
    free(c->port);
    free(c);
}

/* fmt_cb's [$time, $ctx->title, $level, $msg], sent as log_cb does */
static void conn_line(double t, int level, const char *ctx, const char *msg,
                      void *ud)
{
    catcher_conn *c = ud;
    aemp_snd(c->n, c->port,
             aemp_arrayv(aemp_double(t), aemp_str(ctx), aemp_int(level),
                         aemp_str(msg), NULL));
}

static void conn_port_gone(aemp_node *n, const char *port,
                           const aemp_val *reason, void *ud)
{
    (void)port;
    (void)reason;
    aempi_logger_tap_remove(&n->log, ((catcher_conn *)ud)->tap);
}

/* AnyEvent::Log's level of a context: a number, a name, "all", "off" */
static int catcher_level(const aemp_val *v)
{
    const char *s = aemp_str_ptr(v, NULL);
    if (!s) {
        aemp_type t = aemp_type_of(v);
        double l = aemp_as_double(v);
        if ((t != AEMP_INT && t != AEMP_UINT && t != AEMP_DOUBLE) || !(l >= 0))
            return -1;
        return l > 9 ? 9 : (int)l;
    }
    if (!strcmp(s, "0") || !strcmp(s, "off") || !strcmp(s, "none"))
        return 0;
    if (!strcmp(s, "all"))
        return 9;
    return aempi_log_level_parse(s);
}

/* connect ($version, $rport, $loglevel) */
static int catcher_connect(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)ud;
    const char *port = aemp_str_ptr(aemp_array_at(args, 1), NULL);
    int level = catcher_level(aemp_array_at(args, 2));
    if (!port || !strchr(port, '#')) {
        aemp_die(n, "%s::connect: no port to send the log to", LOGCATCHER_CTX);
        return 1;
    }
    if (level < 0) {
        aemp_die(n, "%s::connect: not a valid logging level", LOGCATCHER_CTX);
        return 1;
    }
    catcher_conn *c = calloc(1, sizeof *c);
    if (c && (c->port = strdup(port))) {
        c->n = n;
        c->tap = aempi_logger_tap_add(&n->log, level, conn_line, c, conn_free);
    }
    if (!c || !c->tap) {
        if (c)
            conn_free(c);
        aemp_die(n, "out of memory");
        return 1;
    }
    /* monitor them, silently stop if they die */
    if (!aemp_mon(n, port, conn_port_gone, c).id) {
        aempi_logger_tap_remove(&n->log, c->tap);
        aemp_die(n, "%s::connect: cannot monitor %s", LOGCATCHER_CTX, port);
        return 1;
    }
    aemp_log_ctx(n, 8, LOGCATCHER_CTX,
                 "starting to propagate log messages to %s", port);
    return 0;
}

int aemp_log_level(const char *name)
{
    return aempi_log_level_parse(name);
}

void aempi_log_init(aemp_node *n)
{
    aempi_logger_init(&n->log);
    const char *v = aempi_ae_getenv("MP_TRACE");
    n->trace = v && *v && strcmp(v, "0");
    aemp_func_register(n, LOGCATCHER_CTX "::connect", catcher_connect, NULL);
}

void aempi_log_free(aemp_node *n)
{
    aempi_logger_free(&n->log);
}

void aemp_node_set_log(aemp_node *n, int level, aemp_log_cb cb, void *ud)
{
    if (!n)
        return;
    aempi_logger_set_level(&n->log, level);
    n->log.cb = cb;
    n->log.ud = ud;
}

void aemp_node_set_log_sink(aemp_node *n, aemp_log_cb cb, void *ud)
{
    if (!n)
        return;
    n->log.cb = cb;
    n->log.ud = ud;
}

void aemp_node_set_trace(aemp_node *n, int on)
{
    if (!n)
        return;
    n->trace = on;
}

void aemp_log(aemp_node *n, int level, const char *fmt, ...)
{
    if (!n || !fmt)
        return;
    va_list ap;
    va_start(ap, fmt);
    aempi_logger_vlog(&n->log, level, "main", fmt, ap);
    va_end(ap);
}

void aemp_log_ctx(aemp_node *n, int level, const char *ctx, const char *fmt,
                  ...)
{
    if (!n || !fmt)
        return;
    va_list ap;
    va_start(ap, fmt);
    aempi_logger_vlog(&n->log, level, ctx ? ctx : "main", fmt, ap);
    va_end(ap);
}

/* Kernel.pm: warn "SND $nodeid <- " . encode([$portid, @_]) and
 * warn "RCV $SRCNODE -> " . encode(\@_). For SND, msg is the message and
 * portid goes in front (NULL: null, as Perl's undef for a node port); for
 * RCV, msg is the array on the wire, or the message with portid given. */
void aempi_trace_msg(aemp_node *n, const char *dir, const char *nodeid,
                     const char *portid, const aemp_val *msg)
{
    aemp_buf *b = &n->scratch;
    aempi_buf_reset(b);
    aempi_buf_printf(b, "%s %s %s [", dir, nodeid ? nodeid : "",
                     !strcmp(dir, "SND") ? "<-" : "->");
    int first = 1;
    if (!strcmp(dir, "SND") || portid) {
        aemp_val *p = portid ? aemp_str(portid) : aemp_null();
        aempi_json_write(b, p, 0);
        aemp_unref(p);
        first = 0;
    }
    for (size_t i = 0; i < aemp_array_len(msg); i++) {
        if (!first)
            aempi_buf_putc(b, ',');
        aempi_json_write(b, aemp_array_at(msg, i), 0);
        first = 0;
    }
    aempi_buf_puts(b, "]\n");
    fwrite(b->p, 1, b->len, stderr);
}
