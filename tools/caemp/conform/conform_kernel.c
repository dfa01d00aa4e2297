/* caemp conform: the kernel group. Over an authenticated link the kit is
 * a node of its own (conform-XXXXXXXX) and sends ["", TAG, ...] to the
 * node port; replies go to ports of the kit's node, which the node sends
 * back over the same link. Each check has its own link, and ends by
 * proving the link still up (cf_sync: a time request answered, with
 * nothing unexpected before it). Kernel.pm's %NODE_REQ defines all of
 * it (docs/conformance.md §2). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "conform_int.h"

/* Our port id for local id p, into buf. */
static const char *ours(const cf_conn *c, const char *p, char *buf, size_t n)
{
    snprintf(buf, n, "%s#%s", c->nodeid, p);
    return buf;
}

static int send_req(cf_conn *c, cf_result *res, aemp_val *msg)
{
    if (cf_send_msg(c, msg) == 0)
        return 0;
    cf_fail(res, "expected to send a request, got: %s", c->err);
    return -1;
}

/* Links up and sends ["", tag, arg (if not NULL, taken), OUR#p, rtag]:
 * a request whose reply goes to our port p with rtag first. 0, or res
 * failed. */
static int link_request(cf_ctx *ctx, cf_conn *c, cf_result *res,
                        const char *tag, aemp_val *arg, const char *p,
                        const char *rtag)
{
    char buf[160];
    aemp_val *msg = NULL;
    if (cf_link(ctx, c, res, NULL) == 0 &&
        (msg = aemp_arrayv(aemp_str(""), aemp_str(tag), NULL)) &&
        (!arg || aemp_array_push(msg, arg) == 0)) {
        arg = NULL;
        if (aemp_array_push(msg, aemp_str(ours(c, p, buf, sizeof buf))) ||
            aemp_array_push(msg, aemp_str(rtag)))
            msg = (aemp_unref(msg), NULL);
        if (msg)
            return send_req(c, res, msg);
        cf_fail(res, "out of memory");
    }
    aemp_unref(arg);
    aemp_unref(msg);
    return -1;
}

static const char *status_text(const cf_conn *c, int r)
{
    return r == CF_CLOSED ? "a close" : r == CF_TIMEOUT ? "nothing" : c->err;
}

/* Waits for a message to our port p (tag second); res failed if none. */
static aemp_val *reply(cf_conn *c, cf_result *res, const char *p,
                       const char *tag, const char *what)
{
    aemp_val *m = NULL;
    int r = cf_recv_match(c, p, tag, c->timeout, &m, NULL);
    if (r != CF_GOT)
        cf_fail(res, "expected %s, got %s within %.1f s", what,
                status_text(c, r), c->timeout);
    return m;
}

/* After the message sent, nothing comes back and the link stays up. */
static void nothing_back(cf_conn *c, cf_result *res, const char *what)
{
    char *early = NULL;
    if (cf_sync(c, res, what, &early) == 0 && early)
        cf_fail(res, "expected no answer to %s, got %.200s", what, early);
    free(early);
}

static char *json(const aemp_val *v)
{
    char *s = aemp_to_json(v, NULL);
    return s ? s : strdup("?");
}

/* ---- checks ---- */

static void k_time(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    if (link_request(ctx, &c, res, "time", NULL, "t", "tm"))
        goto out;
    aemp_val *m = reply(&c, res, "t", "tm", "['t','tm',TIME]");
    if (m) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        double now = tv.tv_sec + tv.tv_usec / 1e6;
        aemp_type t = aemp_type_of(aemp_array_at(m, 2));
        char *s = json(m);
        if (aemp_array_len(m) != 3 ||
            (t != AEMP_DOUBLE && t != AEMP_INT && t != AEMP_UINT))
            cf_fail(res, "expected ['t','tm',NUMBER], got %.200s", s);
        else if (fabs(aemp_as_double(aemp_array_at(m, 2)) - now) > 10)
            cf_fail(res, "expected the time within 10 s of ours (%.0f), got "
                         "%.200s", now, s);
        else
            nothing_back(&c, res, "time");
        free(s);
        aemp_unref(m);
    }
out:
    cf_close(&c);
}

/* can TAG: the reply Perl's "exists $NODE_REQ{TAG}" gives: "1" or "". */
static void can(cf_ctx *ctx, cf_result *res, const char *tag, const char *want)
{
    cf_conn c;
    if (link_request(ctx, &c, res, "can", aemp_str(tag), "c", "cn"))
        goto out;
    aemp_val *m = reply(&c, res, "c", "cn", "['c','cn',ANSWER]");
    if (m) {
        char *s = json(m);
        if (aemp_array_len(m) != 3 || !aemp_str_eq(aemp_array_at(m, 2), want))
            cf_fail(res, "expected [\"c\",\"cn\",\"%s\"], got %.200s", want, s);
        else
            nothing_back(&c, res, "can");
        free(s);
        aemp_unref(m);
    }
out:
    cf_close(&c);
}

static void k_can_known(cf_ctx *ctx, cf_result *res)
{
    can(ctx, res, "time", "1");
}

static void k_can_unknown(cf_ctx *ctx, cf_result *res)
{
    can(ctx, res, "conform_no_such_request", "");
}

/* Sends msg; nothing may come back, the link stays up. */
static void silent(cf_ctx *ctx, cf_result *res, aemp_val *msg,
                   const char *what)
{
    cf_conn c;
    if (cf_link(ctx, &c, res, NULL) == 0 && send_req(&c, res, msg) == 0)
        nothing_back(&c, res, what);
    else
        aemp_unref(msg);
    cf_close(&c);
}

static void k_devnull(cf_ctx *ctx, cf_result *res)
{
    silent(ctx, res, aemp_arrayv(aemp_str(""), aemp_str("devnull"),
                                 aemp_str("x"), aemp_int(1), NULL),
           "devnull");
}

static void k_empty_tag(cf_ctx *ctx, cf_result *res)
{
    silent(ctx, res, aemp_arrayv(aemp_str(""), aemp_str(""), NULL),
           "the empty tag");
}

static void k_unknown_func(cf_ctx *ctx, cf_result *res)
{
    silent(ctx, res, aemp_arrayv(aemp_str(""),
                                 aemp_str("conform::no_such_function"),
                                 aemp_str("x"), NULL),
           "an unknown function name");
}

static void k_unknown_port(cf_ctx *ctx, cf_result *res)
{
    silent(ctx, res, aemp_arrayv(aemp_str("conformnosuchport"),
                                 aemp_str("x"), aemp_int(1), NULL),
           "a message to an unknown port");
}

static void k_snd_relay(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    char buf[160];
    if (cf_link(ctx, &c, res, NULL))
        goto out;
    aemp_val *payload = aemp_arrayv(aemp_str("r"), aemp_str("relayed"),
                                    aemp_int(42), aemp_arrayv(aemp_str("a"),
                                                              NULL), NULL);
    if (send_req(&c, res, aemp_arrayv(aemp_str(""), aemp_str("snd"),
                                      aemp_str(ours(&c, "r", buf, sizeof buf)),
                                      aemp_str("relayed"), aemp_int(42),
                                      aemp_arrayv(aemp_str("a"), NULL), NULL))) {
        aemp_unref(payload);
        goto out;
    }
    aemp_val *m = reply(&c, res, "r", "relayed", "['r','relayed',42,['a']]");
    if (m) {
        char *s = json(m);
        if (!aemp_equal(m, payload))
            cf_fail(res, "expected [\"r\",\"relayed\",42,[\"a\"]], got %.200s",
                    s);
        else
            nothing_back(&c, res, "snd");
        free(s);
        aemp_unref(m);
    }
    aemp_unref(payload);
out:
    cf_close(&c);
}

/* Expects ["", "kil0", port, reason...] with reason exactly want (an
 * array), or res failed. */
static void expect_kil0(cf_conn *c, cf_result *res, const char *port,
                        aemp_val *want)
{
    aemp_val *m = NULL;
    int r = cf_recv_match(c, "", "kil0", c->timeout, &m, NULL);
    aemp_val *expect = aemp_arrayv(aemp_str(""), aemp_str("kil0"),
                                   aemp_str(port), NULL);
    for (size_t i = 0; expect && i < aemp_array_len(want); i++)
        aemp_array_push(expect, aemp_ref(aemp_array_at(want, i)));
    char *e = json(expect);
    if (r != CF_GOT) {
        cf_fail(res, "expected %.200s, got %s", e, status_text(c, r));
    } else if (!aemp_equal(m, expect)) {
        char *s = json(m);
        cf_fail(res, "expected %.200s, got %.200s", e, s);
        free(s);
    } else {
        nothing_back(c, res, "the kil0");
    }
    free(e);
    aemp_unref(m);
    aemp_unref(expect);
    aemp_unref(want);
}

static void k_mon1_noport(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    char id[32], full[300];
    cf_random_hex(id + 7, 8);
    memcpy(id, "conform", 7);
    if (cf_link(ctx, &c, res, NULL) == 0 &&
        send_req(&c, res, aemp_arrayv(aemp_str(""), aemp_str("mon1"),
                                      aemp_str(id), NULL)) == 0) {
        snprintf(full, sizeof full, "%s#%s", ctx->node, id);
        expect_kil0(&c, res, id,
                    aemp_arrayv(aemp_str("no_such_port"),
                                aemp_str("cannot monitor nonexistent port"),
                                aemp_str(full), NULL));
    }
    cf_close(&c);
}

/* A port on the node, made through spawn: AnyEvent::MP::_spawn ID INIT
 * runs INIT with $SELF = NODE#ID, and AnyEvent::MP::rcv NODE#ID TAG undef
 * creates that port. A node that cannot (not Perl, or secure) makes the
 * check skip. The port is monitored (mon1) on return: 0, or res set. */
static int spawn_port(cf_ctx *ctx, cf_conn *c, cf_result *res, char *id,
                      size_t n)
{
    char full[300];
    aemp_val *m = NULL;
    char *early = NULL;
    char hex[9];
    cf_random_hex(hex, 8);
    snprintf(id, n, "conform%s", hex);
    snprintf(full, sizeof full, "%s#%s", ctx->node, id);
    if (send_req(c, res, aemp_arrayv(aemp_str(""),
                                     aemp_str("AnyEvent::MP::_spawn"),
                                     aemp_str(id),
                                     aemp_str("AnyEvent::MP::rcv"),
                                     aemp_str(full), aemp_str("conform"),
                                     aemp_null(), NULL)) ||
        send_req(c, res, aemp_arrayv(aemp_str(""), aemp_str("mon1"),
                                     aemp_str(id), NULL)) ||
        cf_sync(c, res, "a spawn and a mon1", &early))
        return -1;
    /* a kil0 (no_such_port) means the port does not exist; a node may
     * send it from a queue, after the sync's reply: a second sync waits
     * for that */
    int r = early ? CF_TIMEOUT : cf_recv_match(c, "", "kil0", 0, &m, NULL);
    if (!early && r != CF_GOT &&
        cf_sync(c, res, "a spawn and a mon1", &early))
        return -1;
    if (r == CF_GOT || early) {
        char *s = early ? early : json(m);
        cf_skip(res, "cannot make a port on the node (spawn of "
                     "AnyEvent::MP::rcv: %.150s)", s);
        free(s);
        aemp_unref(m);
        return -1;
    }
    return 0;
}

/* kil1 of a spawned, monitored port with reason (an array, taken):
 * the kil0 must carry it exactly. */
static void kil1(cf_ctx *ctx, cf_result *res, aemp_val *reason)
{
    cf_conn c;
    char id[32];
    aemp_val *msg = NULL;
    if (cf_link(ctx, &c, res, NULL) || spawn_port(ctx, &c, res, id, sizeof id))
        goto out;
    msg = aemp_arrayv(aemp_str(""), aemp_str("kil1"), aemp_str(id), NULL);
    for (size_t i = 0; msg && reason && i < aemp_array_len(reason); i++)
        aemp_array_push(msg, aemp_ref(aemp_array_at(reason, i)));
    if (send_req(&c, res, msg) == 0) {
        expect_kil0(&c, res, id, reason);
        reason = NULL;
    }
out:
    aemp_unref(reason);
    cf_close(&c);
}

static void k_kil1_reason(cf_ctx *ctx, cf_result *res)
{
    kil1(ctx, res, aemp_arrayv(aemp_str("conform_reason"),
                               aemp_str("a detail"), aemp_int(7), NULL));
}

static void k_kil1_normal(cf_ctx *ctx, cf_result *res)
{
    kil1(ctx, res, aemp_array());
}

static void k_mon0(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    char id[32];
    if (cf_link(ctx, &c, res, NULL) || spawn_port(ctx, &c, res, id, sizeof id))
        goto out;
    if (send_req(&c, res, aemp_arrayv(aemp_str(""), aemp_str("mon0"),
                                      aemp_str(id), NULL)) ||
        send_req(&c, res, aemp_arrayv(aemp_str(""), aemp_str("kil1"),
                                      aemp_str(id), aemp_str("conform_reason"),
                                      NULL)))
        goto out;
    nothing_back(&c, res, "mon0 and kil1");
    /* a kill may be delayed past the sync: give it one more round */
    if (res->status == CF_PASS)
        nothing_back(&c, res, "mon0 and kil1");
out:
    cf_close(&c);
}

/* nothing_back, where a kil1 counts too (cf_sync passes over the node's
 * node-port traffic, a kil1 with it). */
static void nothing_but_sync(cf_conn *c, cf_result *res, const char *what)
{
    char port[200];
    aemp_val *m = NULL;
    if (send_req(c, res, aemp_arrayv(aemp_str(""), aemp_str("time"),
                                     aemp_str(ours(c, "sync", port,
                                                   sizeof port)),
                                     aemp_str("sync"), NULL)))
        return;
    for (;;) {
        int r = cf_recv_match(c, NULL, NULL, c->timeout, &m, NULL);
        if (r != CF_GOT) {
            cf_fail(res, "expected the link up after %s (a time request "
                         "answered), got %s", what, status_text(c, r));
            return;
        }
        int sync = aemp_str_eq(aemp_array_at(m, 0), "sync");
        int own = aemp_str_eq(aemp_array_at(m, 0), "") &&
                  !aemp_str_eq(aemp_array_at(m, 1), "kil0") &&
                  !aemp_str_eq(aemp_array_at(m, 1), "kil1");
        if (!sync && !own) {
            char *s = json(m);
            cf_fail(res, "expected no answer to %s, got %.200s", what, s);
            free(s);
        }
        aemp_unref(m);
        if (sync || !own)
            return;
    }
}

/* The kit's port watched, monitored by the node: spawned with MP.pm's
 * mon as the init function (AnyEvent::MP::_spawn ID AnyEvent::MP::mon
 * KIT#watched KIT#report [died]), which sends mon1 watched to the kit.
 * Then the kit kills watched with reason (an array, taken): kil0. With
 * died (mon PORT, RCVPORT, @MSG) the node sends ["report", "died",
 * @reason] for every kill; without (mon PORT, RCVPORT) it kills report
 * (kil1 report @reason) on an abnormal kill, and does nothing on a normal
 * one. A node without AnyEvent::MP::rcv (spawn_port) makes the check
 * skip: one that has MP.pm's functions has mon as well. */
static void kil0(cf_ctx *ctx, cf_result *res, int with_msg, aemp_val *reason)
{
    cf_conn c;
    char id[32], watched[160], report[160];
    aemp_val *m = NULL, *want = NULL, *msg = NULL;
    if (cf_link(ctx, &c, res, NULL) || spawn_port(ctx, &c, res, id, sizeof id))
        goto out;
    msg = aemp_arrayv(aemp_str(""), aemp_str("AnyEvent::MP::_spawn"),
                      aemp_strf("%sm", id), aemp_str("AnyEvent::MP::mon"),
                      aemp_str(ours(&c, "watched", watched, sizeof watched)),
                      aemp_str(ours(&c, "report", report, sizeof report)),
                      NULL);
    if (with_msg)
        aemp_array_push(msg, aemp_str("died"));
    if (send_req(&c, res, msg))
        goto out;
    /* the node's mon1 is its own node-port traffic: found, not skipped */
    int r = cf_recv_match(&c, "", "mon1", c.timeout, &m, NULL);
    char *s = m ? json(m) : NULL;
    if (r != CF_GOT || aemp_array_len(m) != 3 ||
        !aemp_str_eq(aemp_array_at(m, 2), "watched"))
        cf_fail(res, "expected [\"\",\"mon1\",\"watched\"] (spawn of "
                     "AnyEvent::MP::mon), got %.200s",
                s ? s : status_text(&c, r));
    free(s);
    aemp_unref(m);
    m = NULL;
    if (res->status != CF_PASS)
        goto out;
    msg = aemp_arrayv(aemp_str(""), aemp_str("kil0"), aemp_str("watched"),
                      NULL);
    want = with_msg ? aemp_arrayv(aemp_str("report"), aemp_str("died"), NULL)
           : aemp_array_len(reason)
               ? aemp_arrayv(aemp_str(""), aemp_str("kil1"),
                             aemp_str("report"), NULL)
               : NULL;
    for (size_t i = 0; i < aemp_array_len(reason); i++) {
        aemp_array_push(msg, aemp_ref(aemp_array_at(reason, i)));
        if (want)
            aemp_array_push(want, aemp_ref(aemp_array_at(reason, i)));
    }
    if (send_req(&c, res, msg))
        goto out;
    if (!want) {
        /* a kill may be delayed past the sync: give it one more round */
        for (int i = 0; i < 2 && res->status == CF_PASS; i++)
            nothing_but_sync(&c, res, "a normal kil0");
        goto out;
    }
    char *e = json(want);
    r = cf_recv_match(&c, with_msg ? "report" : "",
                      with_msg ? NULL : "kil1", c.timeout, &m, NULL);
    s = m ? json(m) : NULL;
    if (r != CF_GOT || !aemp_equal(m, want))
        cf_fail(res, "expected %.200s, got %.200s", e,
                s ? s : status_text(&c, r));
    else
        nothing_back(&c, res, "the kil0");
    free(e);
    free(s);
    aemp_unref(m);
out:
    aemp_unref(want);
    aemp_unref(reason);
    cf_close(&c);
}

static void k_kil0_reason(cf_ctx *ctx, cf_result *res)
{
    kil0(ctx, res, 1, aemp_arrayv(aemp_str("conform_reason"),
                                  aemp_str("a detail"), aemp_int(7), NULL));
}

static void k_kil0_normal(cf_ctx *ctx, cf_result *res)
{
    kil0(ctx, res, 1, aemp_array());
}

static void k_kil0_link(cf_ctx *ctx, cf_result *res)
{
    kil0(ctx, res, 0, aemp_arrayv(aemp_str("conform_reason"),
                                  aemp_str("a detail"), aemp_int(7), NULL));
}

static void k_kil0_link_normal(cf_ctx *ctx, cf_result *res)
{
    kil0(ctx, res, 0, aemp_array());
}

static void k_eval(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    if (link_request(ctx, &c, res, "eval", aemp_str("6 * 7"), "e", "ev"))
        goto out;
    char *early = NULL;
    if (cf_sync(&c, res, "eval", &early))
        goto out;
    if (!early) {
        cf_note(res, "not answered: refused, as a secure node does");
        goto out;
    }
    aemp_val *m = aemp_from_json(early, strlen(early), NULL);
    aemp_val *err = aemp_array_at(m, 2);
    if (!aemp_str_eq(aemp_array_at(m, 0), "e") ||
        !aemp_str_eq(aemp_array_at(m, 1), "ev") ||
        aemp_type_of(err) != AEMP_STRING)
        cf_fail(res, "expected [\"e\",\"ev\",ERROR,RESULTS...], got %.200s",
                early);
    else if (aemp_str_eq(err, ""))
        cf_note(res, "evaluated: %.200s", early);
    else
        cf_note(res, "answered with an error: %.200s", early);
    aemp_unref(m);
    free(early);
out:
    cf_close(&c);
}

#define KR "Kernel.pm %NODE_REQ "
const cf_check cf_kernel_checks[] = {
    {"K-TIME", "kernel",
     "time PORT @TAG replies @TAG and the node's time, a number close to now",
     KR "time", k_time},
    {"K-CAN-KNOWN", "kernel", "can TAG PORT @TAG replies \"1\" for a request "
     "the node knows", KR "can", k_can_known},
    {"K-CAN-UNKNOWN", "kernel", "can TAG PORT @TAG replies \"\" for one it "
     "does not know", KR "can", k_can_unknown},
    {"K-DEVNULL", "kernel", "devnull is not answered, the link stays up",
     KR "devnull", k_devnull},
    {"K-EMPTY-TAG", "kernel", "the empty tag (a keepalive) is not answered, "
     "the link stays up", KR "\"\"", k_empty_tag},
    {"K-UNKNOWN-FUNC", "kernel", "an unknown function name is not answered, "
     "the link stays up", "Kernel.pm $PORT{\"\"}, load_func",
     k_unknown_func},
    {"K-UNKNOWN-PORT", "kernel", "a message to an unknown port is dropped, "
     "the link stays up", "Kernel.pm _inject", k_unknown_port},
    {"K-SND-RELAY", "kernel", "snd PORT @MSG relays @MSG to PORT, here back "
     "to the kit", KR "snd", k_snd_relay},
    {"K-MON1-NOPORT", "kernel", "mon1 of a port that does not exist answers "
     "kil0 with no_such_port, 'cannot monitor nonexistent port', NODE#ID",
     "Kernel.pm _monitor, " KR "mon1", k_mon1_noport},
    {"K-KIL1-REASON", "kernel", "kil1 of a monitored port kills it, and the "
     "kil0 carries the reason exactly", KR "kil1, mon1", k_kil1_reason},
    {"K-KIL1-NORMAL", "kernel", "kil1 without a reason is a normal kill: kil0 "
     "without a reason", KR "kil1, mon1", k_kil1_normal},
    {"K-MON0", "kernel", "mon0 stops a monitor: the kill is not reported",
     KR "mon0", k_mon0},
    {"K-KIL0-REASON", "kernel", "kil0 of a port the node monitors (mon "
     "PORT, RCVPORT, @MSG) sends RCVPORT @MSG and the reason, exactly",
     KR "kil0; MP.pm mon", k_kil0_reason},
    {"K-KIL0-NORMAL", "kernel", "kil0 without a reason, a normal kill, sends "
     "RCVPORT @MSG alone", KR "kil0; MP.pm mon", k_kil0_normal},
    {"K-KIL0-LINK", "kernel", "kil0 with a reason of a port the node "
     "monitors with mon PORT, RCVPORT kills RCVPORT with that reason (kil1)",
     KR "kil0; MP.pm mon", k_kil0_link},
    {"K-KIL0-LINK-NORMAL", "kernel", "kil0 without a reason leaves RCVPORT "
     "of mon PORT, RCVPORT alive: nothing is sent",
     KR "kil0; MP.pm mon", k_kil0_link_normal},
    {"K-EVAL", "kernel", "eval CODE PORT @TAG is answered with @TAG, the "
     "error text and the results, or refused without an answer",
     KR "eval", k_eval},
    {NULL, NULL, NULL, NULL, NULL},
};
