/* caemp conform: the catalogue runner. Parses the options, resolves the
 * secret through the rc file (aemp/rc.h, as every caemp command does),
 * runs the selected checks one after the other and prints TAP, and the
 * same results as JSON with --json. */
#define _POSIX_C_SOURCE 200809L
#include "conform.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aemp/rc.h"
#include "aemp/value.h"
#include "conform_int.h"

#define EXIT_USAGE 2

static const char usage[] =
    "Usage: caemp conform [options] HOST:PORT\n"
    "       caemp conform --master [options] --listen HOST:PORT\n"
    "Tests the AnyEvent::MP node listening at HOST:PORT, printing TAP;\n"
    "with --master, plays the seed at HOST:PORT that a normal node connects\n"
    "to and tests that node's side of the global protocol.\n"
    "  --list              print the catalogue (id, group, rule, reference)\n"
    "  --only ID|GROUP,... run only these checks or groups\n"
    "  --skip ID|GROUP,... leave these out\n"
    "  --json FILE         write the results as a JSON report too\n"
    "  --secret S          the shared secret (default: the rc file's)\n"
    "  --profile P         the rc profile to take the secret from\n"
    "  --timeout SECONDS   how long to wait for each expectation (3)\n"
    "  --cert FILE         the network's key and certificate, PEM (default:\n"
    "                      the rc file's cert), for the TLS checks\n"
    "  --secure            the node runs secure: check that it refuses\n"
    "  --monitor-timeout S the node's monitor_timeout: check the handshake\n"
    "                      timeout (--slow: 30, Perl's default)\n"
    "  --seed              the node is a seed: run the seed group too\n"
    "  --master            play the node's seed instead (the master group)\n"
    "  --listen HOST:PORT  with --master: where the kit listens\n"
    "  --wait SECONDS      with --master: how long to wait for the node (30)\n"
    "Exit status: 0 all selected checks passed (skips allowed), 1 some\n"
    "failed, 2 a usage error or the node cannot be tested.\n";

int cf_set(cf_result *res, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    res->status = status;
    vsnprintf(res->msg, sizeof res->msg, fmt, ap);
    va_end(ap);
    return 0;
}

int cf_link(cf_ctx *ctx, cf_conn *c, cf_result *res, const char *offer)
{
    cf_peer p = {ctx->host, ctx->port, ctx->secret, NULL, NULL, offer, NULL,
                 ctx->timeout, NULL, 0};
    if (cf_handshake(c, &p) == 0)
        return 0;
    cf_fail(res, "expected an authenticated link, got: %s", c->err);
    return -1;
}

int cf_sync(cf_conn *c, cf_result *res, const char *what, char **early)
{
    char port[128];
    aemp_val *m = NULL;
    snprintf(port, sizeof port, "%s#sync", c->nodeid);
    if (early)
        *early = NULL;
    if (cf_send_msg(c, aemp_arrayv(aemp_str(""), aemp_str("time"),
                                   aemp_str(port), aemp_str("sync"), NULL))) {
        cf_fail(res, "expected the link up after %s, got a failed send", what);
        return -1;
    }
    int r = cf_recv_match(c, "sync", "sync", c->timeout, &m, early);
    aemp_unref(m);
    if (r == CF_GOT)
        return 0;
    cf_fail(res, "expected the link up after %s (a time request answered), "
                 "got %s", what,
            r == CF_CLOSED ? "a close" : r == CF_TIMEOUT ? "no answer"
                                                         : c->err);
    return -1;
}

/* ---- selection ---- */

static int listed(const char *list, const char *id, const char *group)
{
    return list && (aempi_list_has(list, id) || aempi_list_has(list, group));
}

/* The seed and master groups need the node in that role: they run only
 * when asked for, by --seed/--master (roles) or by name in --only. */
static int selected(const cf_check *k, const char *only, const char *skip,
                    const char *roles)
{
    int role = !strcmp(k->group, "seed") || !strcmp(k->group, "master");
    if (listed(skip, k->id, k->group))
        return 0;
    if (only)
        return listed(only, k->id, k->group);
    return !role || aempi_list_has(roles, k->group);
}

typedef struct run {
    const cf_check *check;
    cf_result res;
    double secs;
} run;

static double now_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void print_catalogue(const cf_check *const *groups)
{
    for (int g = 0; groups[g]; g++)
        for (const cf_check *c = groups[g]; c->id; c++)
            printf("%-24s %-9s %s [%s]\n", c->id, c->group, c->rule, c->ref);
}

/* One TAP line; the message after '#' kept on one line. */
static void tap(int n, const run *r)
{
    char msg[sizeof r->res.msg];
    snprintf(msg, sizeof msg, "%s", r->res.msg);
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (r->res.status == CF_FAIL)
        printf("not ok %d - %s %s # %s\n", n, r->check->id, r->check->rule,
               msg);
    else if (r->res.status == CF_SKIP)
        printf("ok %d - %s %s # SKIP %s\n", n, r->check->id, r->check->rule,
               msg);
    else if (msg[0])
        printf("ok %d - %s %s (%s)\n", n, r->check->id, r->check->rule, msg);
    else
        printf("ok %d - %s %s\n", n, r->check->id, r->check->rule);
    fflush(stdout);
}

static int write_json(const char *file, const char *node, const run *runs,
                      int n)
{
    static const char *const names[] = {"pass", "fail", "skip"};
    aemp_val *checks = aemp_array();
    aemp_val *top = aemp_map();
    for (int i = 0; checks && i < n; i++) {
        aemp_val *m = aemp_map();
        if (!m)
            break;
        aemp_map_set(m, "id", aemp_str(runs[i].check->id));
        aemp_map_set(m, "group", aemp_str(runs[i].check->group));
        aemp_map_set(m, "rule", aemp_str(runs[i].check->rule));
        aemp_map_set(m, "reference", aemp_str(runs[i].check->ref));
        aemp_map_set(m, "status", aemp_str(names[runs[i].res.status]));
        aemp_map_set(m, "message", aemp_str(runs[i].res.msg));
        aemp_map_set(m, "duration", aemp_double(runs[i].secs));
        aemp_array_push(checks, m);
    }
    if (!top || !checks) {
        aemp_unref(top);
        aemp_unref(checks);
        return -1;
    }
    aemp_map_set(top, "node", aemp_str(node));
    aemp_map_set(top, "checks", checks);
    char *text = NULL;
    size_t len = 0;
    int r = aemp_rc_pretty(top, &text, &len);
    aemp_unref(top);
    FILE *f = r ? NULL : fopen(file, "w");
    if (!f || fwrite(text, 1, len, f) != len) {
        if (f)
            fclose(f);
        free(text);
        return -1;
    }
    free(text);
    return fclose(f) ? -1 : 0;
}

/* The rc file's key (secret, cert) for the profile (the top level's
 * when none is given), as configure would find it. */
static char *rc_value(const char *profile, const char *key)
{
    aemp_rc *rc = aemp_rc_new(NULL);
    aemp_val *cfg = NULL;
    char *s = NULL;
    if (rc && aemp_rc_load(rc) == 0 &&
        aemp_rc_find_profile(rc, profile, NULL, &cfg) == 0) {
        const char *p = aemp_str_ptr(aemp_map_get(cfg, key), NULL);
        if (p)
            s = strdup(p);
    }
    aemp_unref(cfg);
    aemp_rc_free(rc);
    return s;
}

/* --cert FILE: the PEM text, NUL-terminated (malloc'd), or NULL. */
static char *read_pem(const char *file)
{
    FILE *f = fopen(file, "rb");
    char *text = NULL;
    size_t len = 0, cap = 0, n;
    while (f) {
        if (cap - len < 4096) {
            char *t = realloc(text, cap = cap * 2 + 4096);
            if (!t)
                break;
            text = t;
        }
        n = fread(text + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) {
            text[len] = 0;
            fclose(f);
            return text;
        }
    }
    if (f)
        fclose(f);
    free(text);
    return NULL;
}

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "caemp conform: %s%s\n%s", msg, arg ? arg : "", usage);
    return EXIT_USAGE;
}

int caemp_conform(int argc, char **argv)
{
    const char *only = NULL, *skip = NULL, *json = NULL, *secret = NULL,
               *profile = NULL, *addr = NULL, *cert = NULL;
    int list = 0, master = 0, secure = 0;
    double timeout = 3, wait = 30, monitor_timeout = 0;
    char roles[32] = "";
    const cf_check *const node_groups[] = {cf_transport_checks, cf_tls_checks,
                                           cf_kernel_checks, cf_secure_checks,
                                           cf_seed_checks, NULL};
    const cf_check *const *groups = node_groups;
    /* a node closing while the kit writes (a TLS handshake it refuses:
     * OpenSSL's socket writes are plain write()s) is a check's result,
     * not the kit's death by SIGPIPE */
    signal(SIGPIPE, SIG_IGN);

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--list"))
            list = 1;
        else if (!strcmp(a, "--seed"))
            strcat(roles, "seed,");
        else if (!strcmp(a, "--master"))
            master = 1;
        else if (!strcmp(a, "--secure"))
            secure = 1;
        else if (!strcmp(a, "--slow"))
            monitor_timeout = monitor_timeout > 0 ? monitor_timeout : 30;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (a[0] == '-' && a[1] == '-' && !more)
            return usage_error("missing value for ", a);
        else if (!strcmp(a, "--only"))
            only = argv[++i];
        else if (!strcmp(a, "--skip"))
            skip = argv[++i];
        else if (!strcmp(a, "--json"))
            json = argv[++i];
        else if (!strcmp(a, "--secret"))
            secret = argv[++i];
        else if (!strcmp(a, "--profile"))
            profile = argv[++i];
        else if (!strcmp(a, "--listen"))
            addr = argv[++i];
        else if (!strcmp(a, "--wait")) {
            char *end;
            wait = strtod(argv[++i], &end);
            if (*end || !(wait > 0))
                return usage_error("--wait wants seconds, got ", argv[i]);
        } else if (!strcmp(a, "--cert"))
            cert = argv[++i];
        else if (!strcmp(a, "--monitor-timeout")) {
            char *end;
            monitor_timeout = strtod(argv[++i], &end);
            if (*end || !(monitor_timeout > 0))
                return usage_error("--monitor-timeout wants seconds, got ",
                                   argv[i]);
        } else if (!strcmp(a, "--timeout")) {
            char *end;
            timeout = strtod(argv[++i], &end);
            if (*end || !(timeout > 0))
                return usage_error("--timeout wants seconds, got ", argv[i]);
        } else if (a[0] == '-')
            return usage_error("unknown option ", a);
        else if (addr)
            return usage_error("one HOST:PORT only, got also ", a);
        else
            addr = a;
    }
    const cf_check *const master_groups[] = {cf_master_checks, NULL};
    if (list) {
        print_catalogue(groups);
        print_catalogue(master_groups);
        return 0;
    }
    if (!addr)
        return usage_error(master ? "missing --listen HOST:PORT"
                                  : "missing HOST:PORT", NULL);

    /* HOST:PORT, IPv6 in brackets */
    char host[256], *port;
    snprintf(host, sizeof host, "%s", addr);
    port = strrchr(host, ':');
    if (!port || port == host || !port[1])
        return usage_error("expected HOST:PORT, got ", addr);
    *port++ = 0;
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = 0;
    }

    char *rc_secret = secret ? NULL : rc_value(profile, "secret");
    /* the cert as caemp setcert stores it: the PEM text itself */
    char *pem = NULL;
    if (cert) {
        if (!(pem = read_pem(cert))) {
            free(rc_secret);
            fprintf(stderr, "caemp conform: cannot read %s\n", cert);
            return EXIT_USAGE;
        }
    } else {
        pem = rc_value(profile, "cert");
    }
    cf_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.host = host;
    ctx.port = port;
    ctx.secret = secret ? secret : rc_secret;
    ctx.timeout = timeout;
    ctx.cert = pem;
    ctx.secure = secure;
    ctx.monitor_timeout = monitor_timeout;
    if (!ctx.secret) {
        free(pem);
        fprintf(stderr, "caemp conform: no secret: give --secret, or set one "
                        "in the rc file (caemp setsecret)\n");
        return EXIT_USAGE;
    }

    ctx.lfd = -1;
    ctx.wait = wait;
    cf_conn c;
    if (master) {
        /* the node connects to us: listen before it is looked for */
        if ((ctx.lfd = cf_listen(host, port, c.err, sizeof c.err)) < 0) {
            fprintf(stderr, "caemp conform: cannot listen at %s: %s\n", addr,
                    c.err);
            free(rc_secret);
            free(pem);
            return EXIT_USAGE;
        }
        groups = master_groups;
        strcat(roles, "master,");
        snprintf(ctx.node, sizeof ctx.node, "(the node connecting)");
    } else if (cf_connect(&c, host, port, timeout) ||
               cf_read_greeting(&c) != CF_GOT) {
        /* can it be tested at all: a node that greets */
        fprintf(stderr, "caemp conform: cannot test %s: %s\n", addr, c.err);
        cf_close(&c);
        free(rc_secret);
        free(pem);
        return EXIT_USAGE;
    }
    if (!master) {
        snprintf(ctx.node, sizeof ctx.node, "%s", c.rg.nodeid);
        cf_close(&c);
    }

    int n = 0;
    for (int g = 0; groups[g]; g++)
        for (const cf_check *k = groups[g]; k->id; k++)
            n++;
    run *runs = calloc((size_t)n + 1, sizeof *runs);
    if (!runs) {
        free(rc_secret);
        free(pem);
        return EXIT_USAGE;
    }
    int sel = 0;
    for (int g = 0; groups[g]; g++)
        for (const cf_check *k = groups[g]; k->id; k++)
            if (selected(k, only, skip, roles))
                runs[sel++].check = k;

    if (master)
        printf("1..%d\n# playing a seed at %s\n", sel, addr);
    else
        printf("1..%d\n# node %s at %s\n", sel, ctx.node, addr);
    fflush(stdout);
    int failed = 0;
    for (int i = 0; i < sel; i++) {
        double t0 = now_wall();
        runs[i].res.status = CF_PASS;
        runs[i].check->fn(&ctx, &runs[i].res);
        runs[i].secs = now_wall() - t0;
        failed += runs[i].res.status == CF_FAIL;
        tap(i + 1, &runs[i]);
    }
    int status = failed ? 1 : 0;
    if (json && write_json(json, ctx.node, runs, sel)) {
        fprintf(stderr, "caemp conform: cannot write %s\n", json);
        status = EXIT_USAGE;
    }
    free(runs);
    free(rc_secret);
    if (ctx.lfd >= 0)
        close(ctx.lfd);
    free(pem);
    return status;
}
