/* libaemp: logging in AnyEvent::Log's format, with the part of its
 * context graph that PERL_ANYEVENT_LOG configures (AnyEvent/Log.pm, the
 * _log function and the parser at the end of the module). */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {
    "0", "fatal", "alert", "crit", "error", "warn", "note", "info", "debug",
    "trace",
};

/* AnyEvent::Log's %STR2LEVEL: the syslog names too */
static const struct {
    const char *name;
    int level;
} str2level[] = {
    {"fatal", 1},   {"emerg", 1}, {"exit", 1},    {"alert", 2},
    {"critical", 3}, {"crit", 3}, {"error", 4},   {"err", 4},
    {"die", 4},     {"warn", 5},  {"warning", 5}, {"note", 6},
    {"notice", 6},  {"info", 7},  {"debug", 8},   {"trace", 9},
};

#define ALL_LEVELS 0x3feu /* bits 1..9 */
#define UPTO(l) ((l) <= 0 ? 0u : (l) >= 9 ? ALL_LEVELS : ((1u << (l)) - 1) << 1)

/* Bounds that keep a specification from the environment small; a walk
 * visits each context once, so its stack is bounded by them too. */
#define MAX_CTX 32
#define MAX_SLAVES 8
#define STACK_MAX (1 + MAX_CTX * (MAX_SLAVES + 2))

enum { CTX_COLLECT, CTX_FILTER, CTX_LOG }; /* the three predefined ones */
enum { OUT_NONE, OUT_STDERR, OUT_FILE, OUT_PATH };

typedef struct log_ctx {
    char *name;        /* "collect", "%anon" or a package */
    int pkg;           /* a package's: its parent package is a slave */
    int detached;      /* "+" dropped the parent */
    unsigned mask;     /* bit L: level L enters */
    int mask_set;      /* the filter's: set by the spec, not by the level */
    int cap;           /* 0: none */
    int out;           /* OUT_* */
    char *path;        /* OUT_PATH's */
    int fd;            /* OUT_FILE's */
    int nslaves;
    int slaves[MAX_SLAVES];
    int parent;        /* pkg: the nearest configured ancestor, or collect */
} log_ctx;

typedef struct log_conf {
    int nctx;
    log_ctx ctx[MAX_CTX];
} log_conf;

struct aempi_log_tap {
    int level;
    aempi_log_tap_fn fn;
    void *ud;
    void (*free_ud)(void *);
    aempi_log_tap *next;
};

struct aempi_log_state {
    log_conf *conf; /* NULL: AnyEvent::Log's defaults */
    aempi_log_tap *taps;
    int busy;       /* in a tap or a relay: no taps */
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

int aempi_log_level_parse(const char *s)
{
    if (!s)
        return -1;
    if (s[0] >= '1' && s[0] <= '9' && !s[1])
        return s[0] - '0';
    for (size_t i = 0; i < sizeof str2level / sizeof *str2level; i++)
        if (!strcmp(s, str2level[i].name))
            return str2level[i].level;
    return -1;
}

static void error_line(const aemp_logger *lg, const char *msg);

void aempi_logger_init(aemp_logger *lg)
{
    const char *v = aempi_ae_getenv("VERBOSE");
    lg->level = v && *v ? atoi(v) : 4;
    lg->cb = NULL;
    lg->ud = NULL;
    lg->st = NULL;
    const char *spec = aempi_ae_getenv("LOG");
    if (spec && *spec) {
        char err[512];
        if (aempi_logger_configure(lg, spec, err, sizeof err))
            error_line(lg, err);
    }
}

static void conf_free(log_conf *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->nctx; i++) {
        free(c->ctx[i].name);
        free(c->ctx[i].path);
        if (c->ctx[i].out == OUT_FILE && c->ctx[i].fd >= 0)
            close(c->ctx[i].fd);
    }
    free(c);
}

void aempi_logger_free(aemp_logger *lg)
{
    if (!lg || !lg->st)
        return;
    while (lg->st->taps)
        aempi_logger_tap_remove(lg, lg->st->taps);
    conf_free(lg->st->conf);
    free(lg->st);
    lg->st = NULL;
}

static aempi_log_state *state(aemp_logger *lg)
{
    if (!lg->st)
        lg->st = calloc(1, sizeof *lg->st);
    return lg->st;
}

void aempi_logger_set_level(aemp_logger *lg, int level)
{
    lg->level = level;
    if (lg->st && lg->st->conf)
        lg->st->conf->ctx[CTX_FILTER].mask_set = 0;
}

/* ---- the specification ---- */

typedef struct parser {
    const char *spec;
    const char *p;
    char *err;
    size_t errlen;
    int warned;
    log_conf *c;
} parser;

static int fail(parser *ps, const char *fmt, const char *arg)
{
    char what[256];
    snprintf(what, sizeof what, fmt, arg ? arg : "");
    snprintf(ps->err, ps->errlen, "PERL_ANYEVENT_LOG (%s): %s", ps->spec,
             what);
    return -1;
}

static void warn_left_out(parser *ps, const char *what)
{
    if (!ps->warned)
        snprintf(ps->err, ps->errlen,
                 "PERL_ANYEVENT_LOG (%s): '%s' is not supported here, left "
                 "out",
                 ps->spec, what);
    ps->warned = 1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

/* One name or directive: runs of characters other than the stops (and
 * whitespace), "::", or a backslash and any character, which stands for
 * that character. Returns the unescaped text (malloc'd) or NULL when
 * nothing matched. */
static char *token(parser *ps, const char *stops)
{
    const char *p = ps->p;
    char *out = malloc(strlen(p) + 1);
    size_t n = 0;
    if (!out)
        return NULL;
    for (;;) {
        if (p[0] == '\\' && p[1]) {
            out[n++] = p[1];
            p += 2;
        } else if (p[0] == ':' && p[1] == ':') {
            out[n++] = ':';
            out[n++] = ':';
            p += 2;
        } else if (*p && !is_space(*p) && !strchr(stops, *p)) {
            out[n++] = *p++;
        } else {
            break;
        }
    }
    if (!n) {
        free(out);
        return NULL;
    }
    out[n] = 0;
    ps->p = p;
    return out;
}

static int ctx_add(parser *ps, const char *name, int pkg)
{
    log_conf *c = ps->c;
    if (c->nctx == MAX_CTX)
        return fail(ps, "more than %s contexts", "32");
    log_ctx *x = &c->ctx[c->nctx];
    memset(x, 0, sizeof *x);
    x->name = strdup(name);
    if (!x->name)
        return fail(ps, "%s", "out of memory");
    x->pkg = pkg;
    x->mask = ALL_LEVELS;
    x->fd = -1;
    x->parent = CTX_COLLECT;
    return c->nctx++;
}

/* AnyEvent::Log's $pkg: collect, filter, log, %anon or a package, a
 * trailing "::" forcing the package */
static int ctx_find(parser *ps, const char *name)
{
    log_conf *c = ps->c;
    if (!strcmp(name, "collect"))
        return CTX_COLLECT;
    if (!strcmp(name, "filter"))
        return CTX_FILTER;
    if (!strcmp(name, "log"))
        return CTX_LOG;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", name);
    size_t len = strlen(buf);
    int pkg = buf[0] != '%' || !buf[1];
    if (pkg && len > 2 && !strcmp(buf + len - 2, "::"))
        buf[len - 2] = 0;
    if (!*buf)
        return fail(ps, "parse error at '%s'", name);
    for (int i = 3; i < c->nctx; i++)
        if (c->ctx[i].pkg == pkg && !strcmp(c->ctx[i].name, buf))
            return i;
    return ctx_add(ps, buf, pkg);
}

static int attach(parser *ps, log_ctx *x, const char *name)
{
    int i = ctx_find(ps, name);
    if (i < 0)
        return -1;
    for (int k = 0; k < x->nslaves; k++)
        if (x->slaves[k] == i)
            return 0;
    if (x->nslaves == MAX_SLAVES)
        return fail(ps, "more than %s slaves of one context", "8");
    x->slaves[x->nslaves++] = i;
    return 0;
}

enum { MODE_LEVEL, MODE_ONLY, MODE_EXCEPT };

static int directive(parser *ps, int ix, const char *d, int *mode)
{
    log_ctx *x = &ps->c->ctx[ix];
    int lv;
    if (!strcmp(d, "stderr")) {
        x->out = OUT_STDERR;
    } else if (!strncmp(d, "file=", 5) && d[5]) {
        int fd = open(d + 5, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0) {
            char why[200];
            snprintf(why, sizeof why, "%.120s: %.70s", d + 5, strerror(errno));
            return fail(ps, "cannot open %s", why);
        }
        if (x->out == OUT_FILE && x->fd >= 0)
            close(x->fd);
        x->out = OUT_FILE;
        x->fd = fd;
    } else if (!strncmp(d, "path=", 5) && d[5]) {
        free(x->path);
        x->path = strdup(d + 5);
        x->out = x->path ? OUT_PATH : OUT_NONE;
    } else if (!strncmp(d, "syslog", 6) && (!d[6] || d[6] == '=')) {
        warn_left_out(ps, d);
    } else if (!strcmp(d, "nolog")) {
        x->out = OUT_NONE;
    } else if (!strncmp(d, "cap=", 4)) {
        const char *l = d + 4;
        if (!strcmp(l, "0") || !strcmp(l, "off") || !strcmp(l, "none"))
            x->cap = 0;
        else if (!strcmp(l, "all"))
            x->cap = 9;
        else if ((x->cap = aempi_log_level_parse(l)) < 0)
            return fail(ps, "%s: not a valid logging level", l);
    } else if (d[0] == '+' && d[1]) {
        return attach(ps, x, d + 1);
    } else if (!strcmp(d, "+")) {
        x->nslaves = 0;
        x->detached = 1;
    } else {
        unsigned m = x->mask;
        if (!strcmp(d, "off") || !strcmp(d, "0")) {
            m = 0;
        } else if (!strcmp(d, "all")) {
            m = ALL_LEVELS;
        } else if (!strcmp(d, "level")) {
            m = ALL_LEVELS;
            *mode = MODE_LEVEL;
        } else if (!strcmp(d, "only")) {
            m = 0;
            *mode = MODE_ONLY;
        } else if (!strcmp(d, "except")) {
            m = ALL_LEVELS;
            *mode = MODE_EXCEPT;
        } else if ((lv = aempi_log_level_parse(d)) > 0) {
            m = *mode == MODE_LEVEL  ? UPTO(lv)
                : *mode == MODE_ONLY ? m | 1u << lv
                                     : m & ~(1u << lv);
        } else {
            return fail(ps, "parse error at '%s'", d);
        }
        x->mask = m;
        x->mask_set = 1;
    }
    return 0;
}

static void skip(parser *ps, const char *also)
{
    while (*ps->p && (is_space(*ps->p) || strchr(also, *ps->p)))
        ps->p++;
}

static int parse(parser *ps)
{
    skip(ps, "");
    for (;;) {
        const char *start = ps->p;
        char *name = token(ps, ":=");
        if (!name)
            break;
        if (*ps->p != '=') {
            free(name);
            ps->p = start;
            break;
        }
        ps->p++;
        int ix = ctx_find(ps, name);
        free(name);
        if (ix < 0)
            return -1;
        int mode = MODE_LEVEL;
        char *d;
        while ((d = token(ps, ",:"))) {
            int rc = directive(ps, ix, d, &mode);
            free(d);
            if (rc)
                return -1;
            if (*ps->p != ',')
                break;
            ps->p++;
        }
        if (!*ps->p || !(is_space(*ps->p) || *ps->p == ':'))
            break;
        skip(ps, ":");
    }
    skip(ps, "");
    if (*ps->p)
        return fail(ps, "parse error at '%s'", ps->p);
    return 0;
}

/* the nearest configured package context of name or its parents */
static int find_pkg(const log_conf *c, const char *name, size_t len)
{
    for (;;) {
        for (int i = 3; i < c->nctx; i++)
            if (c->ctx[i].pkg && strlen(c->ctx[i].name) == len &&
                !memcmp(c->ctx[i].name, name, len))
                return i;
        /* AnyEvent::Log: the parent of A::B is A, of A the collector */
        size_t k = len;
        while (k >= 2 && !(name[k - 1] == ':' && name[k - 2] == ':'))
            k--;
        if (k < 2)
            return CTX_COLLECT;
        len = k - 2;
    }
}

int aempi_logger_configure(aemp_logger *lg, const char *spec, char *err,
                           size_t errlen)
{
    char dummy[1];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof dummy;
    }
    *err = 0;
    parser ps = {spec ? spec : "", spec ? spec : "", err, errlen, 0, NULL};
    ps.c = calloc(1, sizeof *ps.c);
    if (!ps.c)
        return fail(&ps, "%s", "out of memory");
    /* the default hierarchy: collect -> filter -> log, log to stderr */
    static const char *const pre[] = {"$AnyEvent::Log::COLLECT",
                                      "$AnyEvent::Log::FILTER",
                                      "$AnyEvent::Log::LOG"};
    for (int i = 0; i < 3; i++)
        if (ctx_add(&ps, pre[i], 0) < 0) {
            conf_free(ps.c);
            return -1;
        }
    ps.c->ctx[CTX_COLLECT].slaves[ps.c->ctx[CTX_COLLECT].nslaves++] =
        CTX_FILTER;
    ps.c->ctx[CTX_FILTER].slaves[ps.c->ctx[CTX_FILTER].nslaves++] = CTX_LOG;
    ps.c->ctx[CTX_LOG].out = OUT_STDERR;
    if (parse(&ps) || !state(lg)) {
        if (!*err)
            fail(&ps, "%s", "out of memory");
        conf_free(ps.c);
        return -1;
    }
    for (int i = 3; i < ps.c->nctx; i++) {
        log_ctx *x = &ps.c->ctx[i];
        if (!x->pkg)
            continue;
        size_t k = strlen(x->name);
        while (k >= 2 && !(x->name[k - 1] == ':' && x->name[k - 2] == ':'))
            k--;
        x->parent = k < 2 ? CTX_COLLECT : find_pkg(ps.c, x->name, k - 2);
    }
    conf_free(lg->st->conf);
    lg->st->conf = ps.c;
    return ps.warned ? 1 : 0;
}

/* ---- lines ---- */

static double now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

/* AnyEvent::Log::default_format: "2026-11-22 19:41:29.123456 +0000 warn
 * Ctx: message", each further line of a message after " + ". */
static size_t format_line(char *out, size_t cap, double t, int level,
                          const char *ctx, const char *msg)
{
    struct tm tm;
    time_t s = (time_t)t;
    localtime_r(&s, &tm);
    char ts[32], zone[8];
    strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
    strftime(zone, sizeof zone, "%z", &tm);
    long us = (long)((t - (double)s) * 1e6);
    if (us > 999999)
        us = 999999;
    char stamp[96];
    snprintf(stamp, sizeof stamp, "%s.%06ld %s", ts, us, zone);
    size_t n = 0;
    int first = 1;
    const char *p = msg;
    do {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        int w = first ? snprintf(out + n, cap - n, "%s %-5s %s: %.*s\n",
                                 stamp, level_names[level], ctx, len, p)
                      : snprintf(out + n, cap - n, "%s + %.*s\n", stamp, len,
                                 p);
        if (w < 0 || (size_t)w >= cap - n) {
            n = cap - 1;
            out[n - 1] = '\n';
            break;
        }
        n += (size_t)w;
        first = 0;
        p = nl ? nl + 1 : NULL;
    } while (p && *p);
    return n;
}

static void to_stderr(const aemp_logger *lg, double t, int level,
                      const char *ctx, const char *msg)
{
    if (lg->cb) {
        lg->cb(level, ctx, msg, lg->ud);
        return;
    }
    char line[4096];
    size_t n = format_line(line, sizeof line, t, level, ctx, msg);
    fwrite(line, 1, n, stderr);
}

static void to_fd(int fd, double t, int level, const char *ctx,
                  const char *msg)
{
    char line[4096];
    size_t n = format_line(line, sizeof line, t, level, ctx, msg);
    /* a log line that cannot be written has nowhere to be reported */
    ssize_t w = write(fd, line, n);
    (void)w;
}

static void output(const aemp_logger *lg, const log_ctx *x, double t,
                   int level, const char *ctx, const char *msg)
{
    if (x->out == OUT_STDERR) {
        to_stderr(lg, t, level, ctx, msg);
    } else if (x->out == OUT_FILE) {
        to_fd(x->fd, t, level, ctx, msg);
    } else if (x->out == OUT_PATH) {
        int fd = open(x->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                      0666);
        if (fd >= 0) {
            to_fd(fd, t, level, ctx, msg);
            close(fd);
        }
    }
}

static void run_taps(const aemp_logger *lg, double t, int level,
                     const char *ctx, const char *msg)
{
    aempi_log_state *st = lg->st;
    if (!st || st->busy || !st->taps)
        return;
    st->busy = 1;
    for (aempi_log_tap *tp = st->taps, *next; tp; tp = next) {
        next = tp->next;
        if (level <= tp->level)
            tp->fn(t, level, ctx, msg, tp->ud);
    }
    st->busy = 0;
}

/* AnyEvent::Log::_log: from the line's context along the slaves, each
 * context once, entered when its mask has the level; a cap lowers the
 * priority for the contexts behind it. */
static void walk(const aemp_logger *lg, const log_conf *c, double t,
                 int level, const char *ctx, const char *msg)
{
    int stack[STACK_MAX];
    int sp = 0;
    unsigned seen = 0;
    stack[sp++] = find_pkg(c, ctx, strlen(ctx));
    while (sp) {
        int e = stack[--sp];
        if (e < 0) { /* back out of a cap */
            level = -e;
            continue;
        }
        const log_ctx *x = &c->ctx[e];
        unsigned mask = e == CTX_FILTER && !x->mask_set ? UPTO(lg->level)
                                                        : x->mask;
        if (!(mask & 1u << level) || seen & 1u << e)
            continue;
        seen |= 1u << e;
        if (x->cap > level) {
            stack[sp++] = -level;
            level = x->cap;
        }
        output(lg, x, t, level, ctx, msg);
        if (e == CTX_COLLECT)
            run_taps(lg, t, level, ctx, msg);
        if (x->pkg && !x->detached)
            stack[sp++] = x->parent;
        for (int i = 0; i < x->nslaves; i++)
            stack[sp++] = x->slaves[i];
    }
}

static void emit(const aemp_logger *lg, int level, const char *ctx,
                 const char *msg)
{
    double t = now();
    if (lg->st && lg->st->conf) {
        walk(lg, lg->st->conf, t, level, ctx, msg);
        return;
    }
    run_taps(lg, t, level, ctx, msg);
    if (level <= lg->level)
        to_stderr(lg, t, level, ctx, msg);
}

static int clamp(int level)
{
    return level < 1 ? 1 : level > 9 ? 9 : level;
}

/* whether a line of this level may go anywhere; the plain path decides
 * before the message is formatted */
static int wanted(const aemp_logger *lg, int level)
{
    if (level <= lg->level || (lg->st && lg->st->conf))
        return 1;
    if (lg->st && !lg->st->busy)
        for (const aempi_log_tap *tp = lg->st->taps; tp; tp = tp->next)
            if (level <= tp->level)
                return 1;
    return 0;
}

void aempi_logger_vlog(const aemp_logger *lg, int level, const char *ctx,
                       const char *fmt, va_list ap)
{
    level = clamp(level);
    if (!wanted(lg, level))
        return;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    emit(lg, level, ctx, msg);
}

void aempi_logger_log(const aemp_logger *lg, int level, const char *ctx,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    aempi_logger_vlog(lg, level, ctx, fmt, ap);
    va_end(ap);
}

void aempi_logger_relay(const aemp_logger *lg, int level, const char *ctx,
                        const char *msg)
{
    level = clamp(level);
    int was = lg->st ? lg->st->busy : 0;
    if (lg->st)
        lg->st->busy = 1;
    if (wanted(lg, level))
        emit(lg, level, ctx, msg);
    if (lg->st)
        lg->st->busy = was;
}

static void error_line(const aemp_logger *lg, const char *msg)
{
    aempi_logger_relay(lg, 4, "AnyEvent::Log", msg);
}

/* ---- taps ---- */

aempi_log_tap *aempi_logger_tap_add(aemp_logger *lg, int level,
                                    aempi_log_tap_fn fn, void *ud,
                                    void (*free_ud)(void *))
{
    if (!fn || !state(lg))
        return NULL;
    aempi_log_tap *tp = calloc(1, sizeof *tp);
    if (!tp)
        return NULL;
    tp->level = level;
    tp->fn = fn;
    tp->ud = ud;
    tp->free_ud = free_ud;
    tp->next = lg->st->taps;
    lg->st->taps = tp;
    return tp;
}

void aempi_logger_tap_remove(aemp_logger *lg, aempi_log_tap *tap)
{
    if (!lg->st || !tap)
        return;
    for (aempi_log_tap **pp = &lg->st->taps; *pp; pp = &(*pp)->next)
        if (*pp == tap) {
            *pp = tap->next;
            if (tap->free_ud)
                tap->free_ud(tap->ud);
            free(tap);
            return;
        }
}
