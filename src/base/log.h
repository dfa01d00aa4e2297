/* libaemp internal: log lines in AnyEvent::Log's format, so logs of C and
 * Perl nodes read alike. A logger is a level and where the lines go; the
 * node holds one and lends it to the layers that log for it. */
#ifndef AEMP_LOG_H
#define AEMP_LOG_H

#include <stdarg.h>

/* Where a line goes: level 1 (fatal) to 9 (trace), ctx a context name
 * (e.g. "AnyEvent::MP::Kernel"), msg one line without its newline. The
 * same as aemp_log_cb of the public API. */
typedef void (*aemp_log_sink)(int level, const char *ctx, const char *msg,
                              void *ud);

typedef struct aemp_logger {
    int level;        /* lines above it are dropped */
    aemp_log_sink cb; /* NULL: stderr, with AnyEvent::Log's time stamp */
    void *ud;         /* cb's */
} aemp_logger;

/* The value of AE_name, or else of PERL_ANYEVENT_name (AnyEvent copies
 * AE_* over PERL_ANYEVENT_* at startup); NULL if neither is set. */
const char *aempi_ae_getenv(const char *name);

/* The level from AE_VERBOSE (default 4, error); lines to stderr. */
void aempi_logger_init(aemp_logger *lg);

void aempi_logger_log(const aemp_logger *lg, int level, const char *ctx,
                      const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
void aempi_logger_vlog(const aemp_logger *lg, int level, const char *ctx,
                       const char *fmt, va_list ap)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 0)))
#endif
    ;

#endif
