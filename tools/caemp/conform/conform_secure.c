/* caemp conform: secure mode, run when the operator says the node is
 * secure (--secure). Kernel.pm's _secure_check: eval, and any function
 * that is not a node request already loaded, die with "remote execution
 * not allowed"; nothing is answered and the link stays up. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform_int.h"

/* Links up when the node is said to be secure: 0, else res skipped or
 * failed. */
static int secure_link(cf_ctx *ctx, cf_conn *c, cf_result *res)
{
    if (ctx->secure)
        return cf_link(ctx, c, res, NULL);
    memset(c, 0, sizeof *c);
    c->fd = -1;
    cf_skip(res, "the node is not said to be secure (--secure)");
    return -1;
}

/* Sends msg (taken) and syncs: 0 with nothing for our ports before the
 * sync's reply (a kil0 aside), else res failed. */
static int refused(cf_conn *c, cf_result *res, aemp_val *msg,
                   const char *what)
{
    char *early = NULL;
    if (cf_send_msg(c, msg)) {
        cf_fail(res, "expected to send %s, got: %s", what, c->err);
        return -1;
    }
    if (cf_sync(c, res, what, &early))
        return -1;
    if (early && !strstr(early, "\"kil0\"")) {
        cf_fail(res, "expected %s refused, got %.200s", what, early);
        free(early);
        return -1;
    }
    free(early);
    return 0;
}

static void secure_eval(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    char port[128];
    if (secure_link(ctx, &c, res) == 0) {
        snprintf(port, sizeof port, "%s#e", c.nodeid);
        if (refused(&c, res, aemp_arrayv(aemp_str(""), aemp_str("eval"),
                                         aemp_str("6 * 7"), aemp_str(port),
                                         aemp_str("ev"), NULL), "eval") == 0)
            cf_note(res, "not answered");
    }
    cf_close(&c);
}

static void secure_spawn(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    char id[32], full[300], hex[9];
    aemp_val *m = NULL;
    cf_random_hex(hex, 8);
    snprintf(id, sizeof id, "conform%s", hex);
    snprintf(full, sizeof full, "%s#%s", ctx->node, id);
    if (secure_link(ctx, &c, res) ||
        refused(&c, res, aemp_arrayv(aemp_str(""),
                                     aemp_str("AnyEvent::MP::_spawn"),
                                     aemp_str(id),
                                     aemp_str("AnyEvent::MP::rcv"),
                                     aemp_str(full), aemp_str("conform"),
                                     aemp_null(), NULL), "a spawn"))
        goto out;
    /* the port must not exist: a monitor of it is killed at once */
    if (cf_send_msg(&c, aemp_arrayv(aemp_str(""), aemp_str("mon1"),
                                    aemp_str(id), NULL))) {
        cf_fail(res, "expected to send mon1, got: %s", c.err);
        goto out;
    }
    int r = cf_recv_match(&c, "", "kil0", c.timeout, &m, NULL);
    if (r != CF_GOT)
        cf_fail(res, "expected a kil0 for the port the spawn would have made, "
                     "got %s", r == CF_CLOSED ? "a close" : "nothing");
    else if (!aemp_str_eq(aemp_array_at(m, 2), id) ||
             !aemp_str_eq(aemp_array_at(m, 3), "no_such_port"))
        cf_fail(res, "expected [\"\",\"kil0\",\"%s\",\"no_such_port\",...], "
                     "got another kil0 (the spawn ran?)", id);
    else
        cf_note(res, "no port made, not answered");
    aemp_unref(m);
out:
    cf_close(&c);
}

#define KS "Kernel.pm _secure_check"
const cf_check cf_secure_checks[] = {
    {"K-SECURE-EVAL", "kernel",
     "a secure node refuses eval: nothing answered, the link stays up",
     KS " (eval)", secure_eval},
    {"K-SECURE-SPAWN", "kernel",
     "a secure node refuses a function it has not registered "
     "(AnyEvent::MP::_spawn): no port made, nothing answered, the link "
     "stays up", KS " (load_func)", secure_spawn},
    {NULL, NULL, NULL, NULL, NULL},
};
