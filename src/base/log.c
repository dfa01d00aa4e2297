/* libaemp: logging in AnyEvent::Log's format. */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static const char *const level_names[] = {
    "0", "fatal", "alert", "crit", "error", "warn", "note", "info", "debug",
    "trace",
};

const char *aempi_ae_getenv(const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "AE_%s", name);
    const char *v = getenv(key);
    if (v && *v)
        return v;
    snprintf(key, sizeof key, "PERL_ANYEVENT_%s", name);
    return getenv(key);
}

void aempi_logger_init(aemp_logger *lg)
{
    const char *v = aempi_ae_getenv("VERBOSE");
    lg->level = v && *v ? atoi(v) : 4;
    lg->cb = NULL;
    lg->ud = NULL;
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

void aempi_logger_vlog(const aemp_logger *lg, int level, const char *ctx,
                       const char *fmt, va_list ap)
{
    if (level < 1)
        level = 1;
    if (level > 9)
        level = 9;
    if (level > lg->level)
        return;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (lg->cb)
        lg->cb(level, ctx, msg, lg->ud);
    else
        default_sink(level, ctx, msg);
}

void aempi_logger_log(const aemp_logger *lg, int level, const char *ctx,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    aempi_logger_vlog(lg, level, ctx, fmt, ap);
    va_end(ap);
}
