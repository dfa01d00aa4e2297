/* caemp conform: the transport group. Each check opens its own
 * connection and plays one handshake, right or wrong on purpose, as
 * AnyEvent::MP::Transport's new() defines it (docs/conformance.md §1). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conform_int.h"

/* The last line of what the node wrote, for a report (static). */
static const char *last_line(const char *rest)
{
    static char line[160];
    if (!rest || !*rest)
        return "nothing";
    size_t n = strlen(rest);
    while (n && rest[n - 1] == '\n')
        n--;
    size_t s = n;
    while (s && rest[s - 1] != '\n')
        s--;
    snprintf(line, sizeof line, "'%.*s'", (int)(n - s > 120 ? 120 : n - s),
             rest + s);
    return line;
}

/* Expects the node to close c after what; a pass notes what it wrote. */
static void expect_close(cf_conn *c, cf_result *res, const char *what)
{
    char *rest = NULL;
    int r = cf_wait_close(c, c->timeout, &rest);
    if (r == CF_CLOSED)
        cf_note(res, "closed; its last line: %s", last_line(rest));
    else
        cf_fail(res, "expected a close after %s, got the link open for "
                     "%.1f s", what, c->timeout);
    free(rest);
}

/* Connects and reads the node's greeting; 0, or res failed. */
static int greeted(cf_ctx *ctx, cf_conn *c, cf_result *res)
{
    if (cf_connect(c, ctx->host, ctx->port, ctx->timeout) == 0 &&
        cf_read_greeting(c) == CF_GOT)
        return 0;
    cf_fail(res, "expected the node's greeting, got: %s", c->err);
    return -1;
}

/* ---- greeting ---- */

static void greet_format(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    /* the node must greet first, without waiting for us */
    if (greeted(ctx, &c, res))
        goto out;
    aemp_greeting *g = &c.rg;
    if (strcmp(g->protocol, "aemp") || g->version != 1)
        cf_fail(res, "expected 'aemp;1;...', got '%.100s'", c.r1);
    else if (!g->nodeid[0])
        cf_fail(res, "expected a node id, got an empty one in '%.100s'", c.r1);
    else if (!g->auths[0] || !g->framings[0])
        cf_fail(res, "expected auth and framing lists, got '%.100s'", c.r1);
    else if (!g->provider || !g->peeraddr)
        cf_fail(res, "expected provider= and peeraddr=, got '%.160s'", c.r1);
    else
        cf_note(res, "'%.160s'", c.r1);
    /* every field after the fifth is KEY=VALUE */
    int field = 0;
    for (const char *p = c.r1; res->status == CF_PASS && p; field++) {
        const char *e = strchr(p, ';');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (field >= 5 && !memchr(p, '=', n))
            cf_fail(res, "expected KEY=VALUE fields, got '%.*s'", (int)n, p);
        p = e ? e + 1 : NULL;
    }
out:
    cf_close(&c);
}

static int is_nonce(const char *s)
{
    if (strlen(s) != 88)
        return 0;
    for (const char *p = s; *p; p++)
        if (!(*p >= 'A' && *p <= 'Z') && !(*p >= 'a' && *p <= 'z') &&
            !(*p >= '0' && *p <= '9') && *p != '+' && *p != '/')
            return 0;
    return 1;
}

static void greet_nonce(cf_ctx *ctx, cf_result *res)
{
    cf_conn a, b;
    int ga = greeted(ctx, &a, res), gb = ga ? -1 : greeted(ctx, &b, res);
    if (!ga && !gb) {
        if (!is_nonce(a.r2))
            cf_fail(res, "expected 88 base64 characters, got '%.100s'", a.r2);
        else if (!strcmp(a.r2, b.r2))
            cf_fail(res, "expected a new nonce per connection, got '%s' twice",
                    a.r2);
    }
    cf_close(&a);
    if (!ga)
        cf_close(&b);
}

/* ---- authentication ---- */

static void auth_hmac(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    if (cf_link(ctx, &c, res, NULL) == 0 &&
        cf_sync(&c, res, "the handshake", NULL) == 0)
        cf_note(res, "data phase, the node sends %s", c.rfram);
    cf_close(&c);
}

static void auth_node_hmac(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    /* cf_handshake checks the value of whatever method the node chose */
    if (cf_link(ctx, &c, res, NULL) == 0 &&
        strncmp(c.rauth, "hmac_sha3_512;", 14) != 0)
        cf_fail(res, "expected 'hmac_sha3_512;HEX;FRAMING' (we accept only "
                     "hmac_sha3_512), got '%.100s'", c.rauth);
    cf_close(&c);
}

/* Greets, then sends line (an auth line; NULL: a real HMAC keyed with a
 * wrong secret) with a time request in json behind it (frame_first: in
 * front of it, where the auth line belongs). Expects a close with nothing
 * but the node's own auth line before it: the request is never answered. */
static void refused_auth(cf_ctx *ctx, cf_result *res, const char *line,
                         int frame_first)
{
    cf_conn c;
    char wrong[300];
    if (greeted(ctx, &c, res) || cf_send_greeting(&c, NULL, NULL, "json"))
        goto out;
    if (!line) {
        char auth[200];
        aempi_auth_value("hmac_sha3_512", "conform-wrong-secret", 20, c.l1,
                         c.l2, c.r1, c.r2, auth, sizeof auth);
        snprintf(wrong, sizeof wrong, "hmac_sha3_512;%s;json\n", auth);
        line = wrong;
    }
    cf_expect_refused(&c, res, line, frame_first);
out:
    cf_close(&c);
}

void cf_expect_refused(cf_conn *c, cf_result *res, const char *line,
                       int frame_first)
{
    char port[128];
    aemp_buf b = AEMP_BUF_INIT;
    snprintf(port, sizeof port, "%s#early", c->nodeid);
    size_t flen = 0;
    char *frame = cf_encode("json", aemp_arrayv(aemp_str(""), aemp_str("time"),
                                                aemp_str(port), aemp_str("e"),
                                                NULL), &flen);
    if (!frame || (frame_first && (aempi_buf_append(&b, frame, flen) ||
                                   aempi_buf_putc(&b, '\n'))) ||
        aempi_buf_puts(&b, line) ||
        (!frame_first && aempi_buf_append(&b, frame, flen))) {
        free(frame);
        aempi_buf_free(&b);
        cf_fail(res, "out of memory");
        return;
    }
    free(frame);
    cf_send(c, b.p, b.len); /* a node that closed early makes this fail */
    aempi_buf_free(&b);
    char *rest = NULL;
    int r = cf_wait_close(c, c->timeout, &rest);
    /* the node's auth line may come before its close: it sends it as soon
     * as it has our greeting. Anything after it would be data. */
    const char *lf = rest ? strchr(rest, '\n') : NULL;
    if (r != CF_CLOSED)
        cf_fail(res, "expected a close, got the link open for %.1f s",
                c->timeout);
    else if (lf && lf[1])
        cf_fail(res, "expected nothing after the node's auth line, got "
                     "'%.80s'", lf + 1);
    else
        cf_note(res, "closed; its last line: %s", last_line(rest));
    free(rest);
}

static void auth_wrong_secret(cf_ctx *ctx, cf_result *res)
{
    refused_auth(ctx, res, NULL, 0);
}

static void auth_unknown_method(cf_ctx *ctx, cf_result *res)
{
    refused_auth(ctx, res, "conform_no_such_method;00;json\n", 0);
}

static void auth_early_data(cf_ctx *ctx, cf_result *res)
{
    /* the frame where the auth line belongs: it must be taken for a bad
     * auth line, never for a message */
    refused_auth(ctx, res, "", 1);
}

static void auth_cleartext(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    if (greeted(ctx, &c, res))
        goto out;
    if (!aempi_list_has(c.rg.auths, "cleartext")) {
        cf_skip(res, "the node does not accept cleartext (its list: %s)",
                c.rg.auths);
        goto out;
    }
    cf_close(&c);
    cf_peer p = {ctx->host, ctx->port, ctx->secret, NULL, "cleartext", NULL,
                 NULL, ctx->timeout, NULL, 0};
    if (cf_handshake(&c, &p))
        cf_fail(res, "expected the cleartext secret accepted, got: %s", c.err);
    else
        cf_sync(&c, res, "a cleartext auth", NULL);
out:
    cf_close(&c);
}

/* ---- refusals during the greeting ---- */

/* Greets with a line 1 (and nonce) of our making, or (l1 NULL) with the
 * node's own lines sent back; expects a close. */
static void refused_greeting(cf_ctx *ctx, cf_result *res, const char *l1,
                             const char *l2)
{
    cf_conn c;
    if (greeted(ctx, &c, res))
        goto out;
    if (!l1) {
        l1 = c.r1;
        l2 = c.r2;
    }
    char *all = malloc(strlen(l1) + strlen(l2) + 3);
    if (!all)
        goto out;
    sprintf(all, "%s\n%s\n", l1, l2);
    cf_send_str(&c, all);
    free(all);
    expect_close(&c, res, "that greeting");
out:
    cf_close(&c);
}

static void refuse_version(cf_ctx *ctx, cf_result *res)
{
    char l1[256], nonce[89];
    aempi_nonce_line(nonce);
    snprintf(l1, sizeof l1, "aemp;2;conform-v2;hmac_sha3_512;cbor,json");
    refused_greeting(ctx, res, l1, nonce);
}

static void refuse_protocol(cf_ctx *ctx, cf_result *res)
{
    char nonce[89];
    aempi_nonce_line(nonce);
    refused_greeting(ctx, res, "xyzzy;1;conform-p;hmac_sha3_512;cbor,json",
                     nonce);
}

static void refuse_self(cf_ctx *ctx, cf_result *res)
{
    char nonce[89];
    aempi_nonce_line(nonce);
    char *l1 = aempi_greeting_format(ctx->node, "hmac_sha3_512", "cbor,json",
                                     "127.0.0.1:1", NULL);
    if (l1)
        refused_greeting(ctx, res, l1, nonce);
    free(l1);
}

static void refuse_echo(cf_ctx *ctx, cf_result *res)
{
    refused_greeting(ctx, res, NULL, NULL);
}

static void refuse_long_line(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    if (greeted(ctx, &c, res) == 0) {
        /* 5000 bytes, no LF: past the 4 KiB a handshake line may have */
        char *big = malloc(5001);
        if (big) {
            memset(big, 'a', 5000);
            big[5000] = 0;
            cf_send_str(&c, "aemp;1;conform-long;hmac_sha3_512;");
            cf_send_str(&c, big);
            free(big);
            expect_close(&c, res, "a line of 5000 bytes");
        }
    }
    cf_close(&c);
}

static void refuse_no_auth(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    if (greeted(ctx, &c, res) == 0 &&
        cf_send_greeting(&c, NULL, "conform_no_such_auth", "cbor,json") == 0)
        expect_close(&c, res, "a greeting with no auth method in common");
    cf_close(&c);
}

static void refuse_no_framing(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    if (greeted(ctx, &c, res) == 0 &&
        cf_send_greeting(&c, NULL, NULL, "conform_no_such_framing") == 0)
        expect_close(&c, res, "a greeting with no framing in common");
    cf_close(&c);
}

/* ---- framing ---- */

/* The framing the node names in its auth line when we receive offer. */
static int chosen(cf_ctx *ctx, cf_result *res, const char *offer, char *out,
                  size_t n)
{
    cf_conn c;
    int r = cf_link(ctx, &c, res, offer);
    if (r == 0)
        snprintf(out, n, "%s", c.rfram);
    cf_close(&c);
    return r;
}

static void framing_choice(cf_ctx *ctx, cf_result *res)
{
    char a[32], b[32];
    if (chosen(ctx, res, "json,cbor", a, sizeof a) ||
        chosen(ctx, res, "cbor,json", b, sizeof b))
        return;
    if (strcmp(a, "json") || strcmp(b, "cbor"))
        cf_fail(res, "expected the first of our list (json for 'json,cbor', "
                     "cbor for 'cbor,json'), got %s and %s", a, b);
}

/* A time request answered with us receiving rcv and sending snd. */
static void data_phase(cf_ctx *ctx, cf_result *res, const char *rcv,
                       const char *snd)
{
    cf_conn c;
    if (greeted(ctx, &c, res))
        goto out;
    if (!aempi_list_has(c.rg.framings, snd)) {
        cf_skip(res, "the node does not read %s (its list: %s)", snd,
                c.rg.framings);
        goto out;
    }
    cf_close(&c);
    cf_peer p = {ctx->host, ctx->port, ctx->secret, NULL, NULL, rcv, snd,
                 ctx->timeout, NULL, 0};
    if (cf_handshake(&c, &p)) {
        cf_fail(res, "expected an authenticated link, got: %s", c.err);
    } else if (strcmp(c.rfram, rcv)) {
        cf_fail(res, "expected the node to send %s, got %s", rcv, c.rfram);
    } else {
        char what[64];
        snprintf(what, sizeof what, "a %s request", snd);
        cf_sync(&c, res, what, NULL);
    }
out:
    cf_close(&c);
}

static void framing_cbor(cf_ctx *ctx, cf_result *res)
{
    data_phase(ctx, res, "cbor", "cbor");
}

static void framing_json(cf_ctx *ctx, cf_result *res)
{
    data_phase(ctx, res, "json", "json");
}

static void framing_mixed(cf_ctx *ctx, cf_result *res)
{
    data_phase(ctx, res, "cbor", "json");
}

#define TP "Transport.pm new"
const cf_check cf_transport_checks[] = {
    {"T-GREET-FORMAT", "transport",
     "the node greets at once with 'aemp;1;NODEID;AUTHS;FRAMINGS;KEY=VALUE...' "
     "naming provider and peeraddr", TP " ($lgreeting1)", greet_format},
    {"T-GREET-NONCE", "transport",
     "greeting line 2 is base64 of 66 random bytes, new per connection",
     TP " ($lgreeting2)", greet_nonce},
    {"T-AUTH-HMAC", "transport",
     "hmac_sha3_512 with the shared secret over both greetings is accepted "
     "and the link reaches the data phase", TP " (push_read auth line)",
     auth_hmac},
    {"T-AUTH-NODE-HMAC", "transport",
     "the node's auth line is hmac_sha3_512 of the secret over its lines, "
     "then ours", TP " ($lauth)", auth_node_hmac},
    {"T-AUTH-WRONG-SECRET", "transport",
     "an HMAC with a wrong secret is refused: the node closes, nothing "
     "sent behind it is answered", TP " (shared secret mismatch)",
     auth_wrong_secret},
    {"T-AUTH-UNKNOWN-METHOD", "transport",
     "an auth line with an unknown method is refused (close)",
     TP " (unsupported rcv auth method)", auth_unknown_method},
    {"T-AUTH-EARLY-DATA", "transport",
     "a message sent where the auth line belongs is never delivered: the "
     "node closes", TP " (push_read auth line)", auth_early_data},
    {"T-AUTH-CLEARTEXT", "transport",
     "cleartext (the hex of the secret) is accepted by a node that lists it",
     TP " ($rauth cleartext)", auth_cleartext},
    {"T-REFUSE-VERSION", "transport",
     "a greeting of version 2 is refused (close)",
     TP " (version mismatch)", refuse_version},
    {"T-REFUSE-PROTOCOL", "transport",
     "a greeting not starting 'aemp' is refused (close)",
     TP " (unparsable greeting)", refuse_protocol},
    {"T-REFUSE-SELF", "transport",
     "a greeting with the node's own id is refused (close)",
     TP " (I refuse to talk to myself)", refuse_self},
    {"T-REFUSE-ECHO", "transport",
     "the node's own two greeting lines sent back are refused (close)",
     TP " (echo attack?)", refuse_echo},
    {"T-REFUSE-LONG-LINE", "transport",
     "a handshake line of 4 KiB or more is refused (close)",
     TP " (rbuf_max 4 * 1024)", refuse_long_line},
    {"T-REFUSE-NO-AUTH", "transport",
     "a greeting with no auth method the node offers is refused (close)",
     TP " (no common auth type supported)", refuse_no_auth},
    {"T-REFUSE-NO-FRAMING", "transport",
     "a greeting with no framing the node writes is refused (close)",
     TP " (no common framing method supported)", refuse_no_framing},
    {"T-FRAMING-CHOICE", "transport",
     "the node sends in the first framing of the peer's list that it "
     "writes, and names it in its auth line", TP " ($s_framing)",
     framing_choice},
    {"T-FRAMING-CBOR", "transport",
     "the cbor data phase: a request in cbor is answered in cbor",
     "Transport.pm set_snd_framing/set_rcv_framing", framing_cbor},
    {"T-FRAMING-JSON", "transport",
     "the json data phase: a request in json is answered in json",
     "Transport.pm set_snd_framing/set_rcv_framing", framing_json},
    {"T-FRAMING-MIXED", "transport",
     "each direction has its own framing: json in, cbor out",
     "Transport.pm set_snd_framing/set_rcv_framing", framing_mixed},
    {NULL, NULL, NULL, NULL, NULL},
};
