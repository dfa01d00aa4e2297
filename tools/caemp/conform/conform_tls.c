/* caemp conform: the transport group's TLS checks and the handshake
 * timeout (docs/conformance.md §1). TLS runs when the node's greeting
 * says tls=1.0 and the kit has the network's certificate; Transport.pm
 * starts it right after the greetings, the side with the lower nonce as
 * the TLS client, and the kit picks its nonce to play either role. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>

#include "../caemp.h" /* caemp_gencert: an outsider's certificate */
#include "conform_int.h"
#include "transport_tls.h"

/* 1 when the node's greeting asks for TLS and we hold a certificate;
 * else res skips and 0. */
static int tls_ready(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    int tls = -1;
    if (cf_connect(&c, ctx->host, ctx->port, ctx->timeout) == 0 &&
        cf_read_greeting(&c) == CF_GOT)
        tls = aempi_tls_wanted(c.rg.tls);
    cf_close(&c);
    if (tls < 0)
        cf_fail(res, "expected the node's greeting, got: %s", c.err);
    else if (!tls)
        cf_skip(res, "the node's greeting has no tls=1.0 (no certificate)");
    else if (!ctx->cert)
        cf_skip(res, "the node does TLS, the kit has no certificate (give "
                     "--cert FILE or set cert in the rc file)");
    return tls > 0 && ctx->cert;
}

/* TLS contexts, made once: the network's certificate (verifying the
 * node's), an outsider's, and none. Both odd ones verify nothing: what
 * is checked is the node's refusal, not ours. */
enum { CTX_OURS, CTX_OTHER, CTX_NONE };
static SSL_CTX *tls_ctx(cf_ctx *ctx, cf_result *res, int which)
{
    static SSL_CTX *made[3];
    if (made[which])
        return made[which];
    char *err = NULL, *pem = NULL;
    if (which == CTX_OURS)
        made[which] = aempi_tls_ctx_new(ctx->cert, strlen(ctx->cert), &err);
    else if (which == CTX_OTHER && (pem = caemp_gencert(&err)))
        made[which] = aempi_tls_ctx_new(pem, strlen(pem), &err);
    else if (which == CTX_NONE)
        made[which] = SSL_CTX_new(TLS_method());
    if (made[which] && which != CTX_OURS)
        SSL_CTX_set_verify(made[which], SSL_VERIFY_NONE, NULL);
    if (!made[which])
        cf_fail(res, "expected a TLS context, got: %s",
                err ? err : "OpenSSL failed");
    free(err);
    free(pem);
    return made[which];
}

/* A whole handshake over TLS in role client (1) or server (0) with
 * method (NULL: tls_sha3_512), then a time request answered. */
static void tls_link(cf_ctx *ctx, cf_result *res, int client,
                     const char *method, const char *offer)
{
    cf_conn c;
    SSL_CTX *sc;
    if (!tls_ready(ctx, res) || !(sc = tls_ctx(ctx, res, CTX_OURS)))
        return;
    cf_peer p = {ctx->host, ctx->port, ctx->secret, NULL, method, offer,
                 NULL, ctx->timeout, sc, client};
    if (cf_handshake(&c, &p))
        cf_fail(res, "expected a link over TLS as the TLS %s, got: %s",
                client ? "client" : "server", c.err);
    else if (strncmp(c.rauth, "tls_sha3_512;", 13))
        cf_fail(res, "expected the node's auth line 'tls_sha3_512;HEX;"
                     "FRAMING' (we accept only that), got '%.100s'", c.rauth);
    else if (cf_sync(&c, res, "the TLS handshake", NULL) == 0)
        cf_note(res, "%s, the node sends %s", SSL_get_version(c.tls), c.rfram);
    cf_close(&c);
}

static void tls_client(cf_ctx *ctx, cf_result *res)
{
    tls_link(ctx, res, 1, NULL, "cbor,json");
}

static void tls_server(cf_ctx *ctx, cf_result *res)
{
    tls_link(ctx, res, 0, NULL, "json,cbor");
}

static void tls_anon(cf_ctx *ctx, cf_result *res)
{
    tls_link(ctx, res, 1, "tls_anon", NULL);
}

/* TLS with ctx which (an outsider's or no certificate) in role client:
 * the node must refuse, in the TLS handshake or by closing after it. */
static void tls_refused(cf_ctx *ctx, cf_result *res, int which, int client)
{
    cf_conn c;
    SSL_CTX *sc;
    char auth[200], line[300];
    if (cf_connect(&c, ctx->host, ctx->port, ctx->timeout) ||
        cf_read_greeting(&c) != CF_GOT) {
        cf_fail(res, "expected the node's greeting, got: %s", c.err);
    } else if ((sc = tls_ctx(ctx, res, which)) &&
               cf_send_tls_greeting(&c, NULL, "json", client) == 0) {
        int r = cf_starttls(&c, sc, client);
        if (r == CF_CLOSED) {
            cf_note(res, "refused: %s", c.err);
        } else if (r != CF_GOT) {
            cf_fail(res, "expected a refusal, got: %s", c.err);
        } else {
            /* TLS 1.3: the client's handshake ends before the server has
             * looked at its certificate; the refusal comes after */
            aempi_auth_value("tls_sha3_512", NULL, 0, c.l1, c.l2, c.r1, c.r2,
                             auth, sizeof auth);
            snprintf(line, sizeof line, "tls_sha3_512;%s;json\n", auth);
            cf_expect_refused(&c, res, line, 0);
        }
    }
    cf_close(&c);
}

static void tls_wrong_cert(cf_ctx *ctx, cf_result *res)
{
    if (!tls_ready(ctx, res))
        return;
    tls_refused(ctx, res, CTX_OTHER, 1);
    if (res->status == CF_PASS)
        tls_refused(ctx, res, CTX_OTHER, 0);
}

static void tls_no_cert(cf_ctx *ctx, cf_result *res)
{
    if (tls_ready(ctx, res))
        tls_refused(ctx, res, CTX_NONE, 1);
}

/* On a link without TLS, tls_sha3_512 (right value and all) is refused. */
static void tls_auth_plain(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    char auth[200], line[300];
    if (cf_connect(&c, ctx->host, ctx->port, ctx->timeout) ||
        cf_read_greeting(&c) != CF_GOT) {
        cf_fail(res, "expected the node's greeting, got: %s", c.err);
    } else if (cf_send_greeting(&c, NULL, NULL, "json") == 0) {
        aempi_auth_value("tls_sha3_512", NULL, 0, c.l1, c.l2, c.r1, c.r2,
                         auth, sizeof auth);
        snprintf(line, sizeof line, "tls_sha3_512;%s;json\n", auth);
        cf_expect_refused(&c, res, line, 0);
    }
    cf_close(&c);
}

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A peer that greets and then says nothing is closed after
 * monitor_timeout (Perl: the handle's rtimeout until auth is done). */
static void handshake_timeout(cf_ctx *ctx, cf_result *res)
{
    cf_conn c;
    double mt = ctx->monitor_timeout;
    if (mt <= 0) {
        cf_skip(res, "slow: give --monitor-timeout SECONDS (the node's) or "
                     "--slow (30 s, Perl's default)");
        return;
    }
    double t0 = now_mono();
    if (cf_connect(&c, ctx->host, ctx->port, ctx->timeout) ||
        cf_read_greeting(&c) != CF_GOT) {
        cf_fail(res, "expected the node's greeting, got: %s", c.err);
    } else {
        int r = cf_wait_close(&c, mt + ctx->timeout, NULL);
        double took = now_mono() - t0;
        if (r != CF_CLOSED)
            cf_fail(res, "expected a close within %.1f s of silence, got the "
                         "link open for %.1f s", mt, took);
        else
            cf_note(res, "closed after %.1f s", took);
    }
    cf_close(&c);
}

#define TP "Transport.pm new"
const cf_check cf_tls_checks[] = {
    {"T-TLS-CLIENT", "transport",
     "with tls=1.0 on both sides TLS starts after the greetings, the lower "
     "nonce's side the TLS client; the node as TLS server presents the "
     "network's certificate, sends tls_sha3_512 and serves the data phase",
     TP " (starttls, $lauth)", tls_client},
    {"T-TLS-SERVER", "transport",
     "the same with the node as TLS client (its nonce the lower)",
     TP " (starttls, $lauth)", tls_server},
    {"T-TLS-ANON", "transport",
     "over TLS, tls_anon (an empty value) is accepted", TP " ($rauth tls_anon)",
     tls_anon},
    {"T-TLS-WRONG-CERT", "transport",
     "a certificate the network's does not verify is refused, as TLS "
     "client and as server", TP " (tls_ctx verify)", tls_wrong_cert},
    {"T-TLS-NO-CERT", "transport",
     "a TLS client without a certificate is refused",
     TP " (verify_require_client_cert)", tls_no_cert},
    {"T-TLS-AUTH-PLAIN", "transport",
     "tls_sha3_512 on a link without TLS is refused, even with the right "
     "value", TP " ($rauth tls_sha3_512 without $tls)", tls_auth_plain},
    {"T-HANDSHAKE-TIMEOUT", "transport",
     "a peer silent after the greeting is closed after monitor_timeout",
     TP " (rtimeout => $timeout)", handshake_timeout},
    {NULL, NULL, NULL, NULL, NULL},
};
