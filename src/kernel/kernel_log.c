/* libaemp: the node's log (a logger of the base layer, lent to the
 * transport) and message tracing in AnyEvent::MP::Kernel's format, so
 * logs of C and Perl nodes read alike. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernel.h"
#include "value_json.h"

void aempi_log_init(aemp_node *n)
{
    aempi_logger_init(&n->log);
    const char *v = aempi_ae_getenv("MP_TRACE");
    n->trace = v && *v && strcmp(v, "0");
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
