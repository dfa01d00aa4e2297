/* libaemp internal: log lines in AnyEvent::Log's format, so logs of C and
 * Perl nodes read alike. A logger is a level and where the lines go; the
 * node holds one and lends it to the layers that log for it. It also
 * holds what AE_LOG configured (AnyEvent::Log's contexts) and its taps
 * (LogCatcher's connections), in a state of its own, so nothing is
 * global. */
#ifndef AEMP_LOG_H
#define AEMP_LOG_H

#include <stdarg.h>
#include <stddef.h>

/* Where a line goes: level 1 (fatal) to 9 (trace), ctx a context name
 * (e.g. "AnyEvent::MP::Kernel"), msg one line without its newline. The
 * same as aemp_log_cb of the public API. */
typedef void (*aemp_log_sink)(int level, const char *ctx, const char *msg,
                              void *ud);

/* AE_LOG's contexts and the taps; see log.c. */
typedef struct aempi_log_state aempi_log_state;

typedef struct aemp_logger {
    int level;           /* the filter context's: lines above it dropped */
    aemp_log_sink cb;    /* NULL: stderr, with AnyEvent::Log's time stamp */
    void *ud;            /* cb's */
    aempi_log_state *st; /* NULL: no AE_LOG and no taps (the plain path) */
} aemp_logger;

/* The value of AE_name, or else of PERL_ANYEVENT_name (AnyEvent copies
 * AE_* over PERL_ANYEVENT_* at startup); NULL if neither is set. */
const char *aempi_ae_getenv(const char *name);

/* The level from AE_VERBOSE (default 4, error); lines to stderr; AE_LOG
 * (or PERL_ANYEVENT_LOG) applied, a bad one logged and ignored. */
void aempi_logger_init(aemp_logger *lg);
/* Frees what init, configure and the taps added (files closed). */
void aempi_logger_free(aemp_logger *lg);

/* Sets the filter context's level (aemp_node_set_log), over AE_LOG's
 * filter=. */
void aempi_logger_set_level(aemp_logger *lg, int level);

/* Applies a PERL_ANYEVENT_LOG specification (AnyEvent::Log's syntax,
 * docs/api.md says which parts). 0: applied; 1: applied, but err says
 * what was left out (e.g. syslog); -1: not applied, err says why, the
 * logger as before. Replaces an earlier specification. */
int aempi_logger_configure(aemp_logger *lg, const char *spec, char *err,
                           size_t errlen);

/* A level name or number as AnyEvent::Log takes it ("debug", "err", "8");
 * -1 for anything else. */
int aempi_log_level_parse(const char *s);

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

/* A line from elsewhere (LogCatcher's catch): logged as any other, but
 * not given to the taps, as Perl's catch logs with $PROPAGATE off, so
 * that two catchers do not send each other's lines around forever. */
void aempi_logger_relay(const aemp_logger *lg, int level, const char *ctx,
                        const char *msg);

/* A tap sees every line that reaches AnyEvent::Log's collect context at
 * its level or below (LogCatcher attaches there), before the filter.
 * time: seconds since the epoch. Lines logged while a tap runs do not
 * reach the taps again. free_ud (may be NULL) runs when the tap is
 * removed or the logger freed. */
typedef void (*aempi_log_tap_fn)(double time, int level, const char *ctx,
                                 const char *msg, void *ud);
typedef struct aempi_log_tap aempi_log_tap;
aempi_log_tap *aempi_logger_tap_add(aemp_logger *lg, int level,
                                    aempi_log_tap_fn fn, void *ud,
                                    void (*free_ud)(void *));
void aempi_logger_tap_remove(aemp_logger *lg, aempi_log_tap *tap);

#endif
