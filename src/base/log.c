/* libaemp: logging in AnyEvent::Log's format, and message tracing in
 * AnyEvent::MP::Kernel's, so logs of C and Perl nodes read alike. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "kernel.h"
#include "value_json.h"

static const char *const level_names[] = {
    "0", "fatal", "alert", "crit", "error", "warn", "note", "info", "debug",
    "trace",
};

/* AE_VERBOSE wins over PERL_ANYEVENT_VERBOSE, as AnyEvent copies AE_* over
 * PERL_ANYEVENT_* at startup; the default level is 4 (error). */
static const char *env2(const char *short_name, const char *long_name)
{
    const char *v = getenv(short_name);
    return v && *v ? v : getenv(long_name);
}

void aemp_log_init(aemp_node *n)
{
    const char *v = env2("AE_VERBOSE", "PERL_ANYEVENT_VERBOSE");
    n->log_level = v && *v ? atoi(v) : 4;
    v = env2("AE_MP_TRACE", "PERL_ANYEVENT_MP_TRACE");
    n->trace = v && *v && strcmp(v, "0");
}

void aemp_node_set_log(aemp_node *n, int level, aemp_log_cb cb, void *ud)
{
    if (!n)
        return;
    n->log_level = level;
    n->log_cb = cb;
    n->log_ud = ud;
}

void aemp_node_set_trace(aemp_node *n, int on)
{
    if (!n)
        return;
    n->trace = on;
}

/* "2026-11-22 19:41:29.123456 +0000 warn  Ctx: message" */
static void default_sink(int level, const char *ctx, const char *msg)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    time_t t = tv.tv_sec;
    localtime_r(&t, &tm);
    char ts[64], zone[16];
    strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
    strftime(zone, sizeof zone, "%z", &tm);
    fprintf(stderr, "%s.%06ld %s %-5s %s: %s\n", ts, (long)tv.tv_usec, zone,
            level_names[level], ctx, msg);
}

void aemp_log(aemp_node *n, int level, const char *ctx, const char *fmt, ...)
{
    if (level < 1)
        level = 1;
    if (level > 9)
        level = 9;
    if (level > n->log_level)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n->log_cb)
        n->log_cb(level, ctx, msg, n->log_ud);
    else
        default_sink(level, ctx, msg);
}

/* Kernel.pm: warn "SND $nodeid <- " . encode([$portid, @_]) and
 * warn "RCV $SRCNODE -> " . encode(\@_). For SND, msg is the message and
 * portid goes in front (NULL: null, as Perl's undef for a node port); for
 * RCV, msg is the array on the wire, or the message with portid given. */
void aemp_trace_msg(aemp_node *n, const char *dir, const char *nodeid,
                    const char *portid, const aemp_val *msg)
{
    aemp_buf *b = &n->scratch;
    aemp_buf_reset(b);
    aemp_buf_printf(b, "%s %s %s [", dir, nodeid ? nodeid : "",
                    !strcmp(dir, "SND") ? "<-" : "->");
    int first = 1;
    if (!strcmp(dir, "SND") || portid) {
        aemp_val *p = portid ? aemp_str(portid) : aemp_null();
        aemp_json_write(b, p, 0);
        aemp_unref(p);
        first = 0;
    }
    for (size_t i = 0; i < aemp_array_len(msg); i++) {
        if (!first)
            aemp_buf_putc(b, ',');
        aemp_json_write(b, aemp_array_at(msg, i), 0);
        first = 0;
    }
    aemp_buf_puts(b, "]\n");
    fwrite(b->p, 1, b->len, stderr);
}
