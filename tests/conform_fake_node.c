/* A scripted fake AnyEvent::MP node for testing caemp conform's
 * transport group (tests/conform_faults.py --transport). The library's
 * transport has no fault hooks and gets none, so this program plays the
 * accepting side of the handshake itself, built from the kit's own wire
 * pieces (conform_wire.h) and the library's greeting, auth and framing
 * functions, step by step as AnyEvent::MP::Transport's new() does it,
 * unless FAULT switches one behaviour wrong:
 *
 *    conform_fake_node PORT SECRET FAULT [CERTFILE]
 *
 * With CERTFILE (the network's key and certificate, PEM) it does TLS as
 * Transport.pm does: tls=1.0 in its greeting, TLS started after the
 * greetings when the peer's says so too, the lower nonce's side the TLS
 * client, tls_sha3_512 sent and tls_sha3_512 and tls_anon accepted over
 * it.
 *
 * Faults (docs/testing.md lists the check each must fail):
 *   none                   behave as a Perl node does
 *   no-provider            greeting line 1 without provider=
 *   nonce-fixed            the same nonce on every connection
 *   any-hmac               an hmac_sha3_512 auth line accepted whatever
 *                          its value
 *   hmac-refused           the right hmac_sha3_512 refused
 *   node-hmac-wrong        its own auth line keyed with a wrong secret
 *   node-sends-cleartext   its own auth line cleartext, whatever the peer
 *                          accepts
 *   unknown-method         an auth line METHOD;VALUE;FRAMING of a method
 *                          it does not know accepted
 *   early-data             a message sent where the auth line belongs is
 *                          delivered (answered) before the close
 *   cleartext-refused      cleartext listed, but refused
 *   plain-tls-auth         tls_sha3_512 accepted on a link without TLS
 *   version-any            any greeting version accepted
 *   protocol-any           any protocol name accepted
 *   self-unchecked         its own node id accepted
 *   self-echo-unchecked    its own node id and its own greeting accepted
 *   long-line              handshake lines up to 64 KiB
 *   no-auth-any            no common auth method: hmac_sha3_512 anyway
 *   no-framing-any         no common framing: its own first anyway
 *   framing-own-list       the framing chosen by its own list, not the
 *                          peer's
 *   json-first-reads-json  lists json,cbor and reads json whatever the
 *                          peer's auth line names
 *   writes-own-first       writes its first framing whatever it named
 *   writes-as-read         writes the framing the peer writes
 *   no-timeout             a silent peer is never closed in the handshake
 *   tls                    no fault (a name beginning with tls tells
 *                          conform_faults.py to give it a certificate)
 *   tls-no-server          refuses to be the TLS server
 *   tls-no-client          refuses to be the TLS client
 *   tls-anon-refused       tls_anon refused over TLS
 *   tls-any-cert           any peer certificate accepted (one required)
 *   tls-cert-optional      a peer without a certificate accepted
 *
 * It listens on 127.0.0.1:PORT, prints "ready", and serves each
 * connection in a child of its own: the kit mostly opens one connection
 * at a time, but T-GREET-NONCE holds two open at once, and a node greets
 * every connection at once. In the data phase it answers the node-port
 * request the transport checks use, `time`. Runs until killed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>

#include <openssl/ssl.h>

#include "aemp/value.h"
#include "conform_wire.h"
#include "transport_auth.h"
#include "transport_tls.h"
#include "value_cbor.h"
#include "value_json.h"

#define NODEID "conform-fake-node"
/* the node's monitor_timeout, the handshake's read timeout:
 * conform_faults.py --transport gives the kit the same. Well above the
 * kit's --timeout 1, so a node that wrongly keeps a link open is seen
 * open, not closed by this timeout. */
#define MONITOR_TIMEOUT 3.0
#define AUTH_ACCEPT "hmac_sha3_512,cleartext"
#define AUTH_OFFER "hmac_sha3_512"

static const char *fault, *secret;
static const char *framings = "cbor,json"; /* what it reads and writes */
static char fixed_nonce[89];

static int is(const char *f)
{
    return !strcmp(fault, f);
}

static const char *const faults[] = {
    "none", "no-provider", "nonce-fixed", "any-hmac", "hmac-refused",
    "node-hmac-wrong", "node-sends-cleartext", "unknown-method",
    "early-data", "cleartext-refused", "plain-tls-auth", "version-any",
    "protocol-any", "self-unchecked", "self-echo-unchecked", "long-line",
    "no-auth-any", "no-framing-any", "framing-own-list",
    "json-first-reads-json", "writes-own-first", "writes-as-read",
    "no-timeout", "tls", "tls-no-server", "tls-no-client",
    "tls-anon-refused", "tls-any-cert", "tls-cert-optional", NULL};

static SSL_CTX *tls_ctx; /* with CERTFILE */

/* Perl's split /;/ into at most n fields, in place; the count. */
static int split(char *s, char **f, int n)
{
    int i = 0;
    while (s && i < n) {
        f[i++] = s;
        s = strchr(s, ';');
        if (s)
            *s++ = 0;
    }
    return i;
}

/* A handshake line read a byte at a time: TLS may start right behind
 * the greeting, and OpenSSL must find the peer's first TLS bytes still
 * in the socket. Within timeout; max bytes at most (Perl's rbuf_max). */
static int read_line(cf_conn *c, char **line, size_t max, double timeout)
{
    char *buf = malloc(max + 2);
    size_t n = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    *line = NULL;
    while (buf) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        double left = timeout - (double)(t.tv_sec - t0.tv_sec) -
                      (t.tv_nsec - t0.tv_nsec) / 1e9;
        struct pollfd p = {c->fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) <= 0)
            break;
        if (recv(c->fd, buf + n, 1, 0) != 1)
            break;
        if (buf[n] == '\n') {
            buf[n] = 0;
            *line = buf;
            return CF_GOT;
        }
        if (++n > max)
            break;
    }
    free(buf);
    return CF_CLOSED;
}

/* The value of greeting line 1's KEY=VALUE field key, or NULL. */
static const char *greeting_kv(const char *l1, const char *key)
{
    size_t k = strlen(key);
    int field = 0;
    for (const char *p = l1; p; p = strchr(p, ';'), p = p ? p + 1 : p)
        if (field++ >= 5 && !strncmp(p, key, k) && p[k] == '=')
            return p + k + 1;
    return NULL;
}

static int on_frame(aemp_val *frame, void *ud)
{
    cf_conn *c = ud;
    return aemp_array_push(c->frames, frame) ? -1 : 0;
}

/* Feeds bytes to c's reader; 0, or -1 when they do not decode. */
static int feed(cf_conn *c, const char *p, size_t n)
{
    return (c->reader_json ? aempi_json_reader_feed(c->reader, p, n)
                           : aempi_cbor_reader_feed(c->reader, p, n))
               ? -1 : 0;
}

static int set_reader(cf_conn *c, const char *fram)
{
    c->reader_json = !strcmp(fram, "json");
    c->reader = c->reader_json ? (void *)aempi_json_reader_new(on_frame, c)
                               : (void *)aempi_cbor_reader_new(on_frame, c);
    return c->reader ? 0 : -1;
}

/* A message from the peer peer: ["", "time", NODE#PORT, @tag] is
 * answered as Kernel.pm's time request is, [PORT, @tag, now]; a reply
 * for another node would be relayed, and there is none here. */
static void handle(cf_conn *c, const char *peer, const aemp_val *m)
{
    const char *req = aemp_str_ptr(aemp_array_at(m, 1), NULL);
    const char *to = aemp_str_ptr(aemp_array_at(m, 2), NULL);
    const char *self = aemp_str_ptr(aemp_array_at(m, 0), NULL);
    const char *hash = to ? strchr(to, '#') : NULL;
    if (!self || *self || !req || strcmp(req, "time") || !hash ||
        strncmp(to, peer, (size_t)(hash - to)) || peer[hash - to])
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    aemp_val *out = aemp_arrayv(aemp_str(hash + 1), NULL);
    for (size_t i = 3; out && i < aemp_array_len(m); i++)
        aemp_array_push(out, aemp_ref(aemp_array_at(m, i)));
    aemp_array_push(out, aemp_double((double)ts.tv_sec + ts.tv_nsec / 1e9));
    cf_send_msg(c, out);
}

/* The data phase: messages read in rfram until the peer closes. */
static void data_phase(cf_conn *c, const char *peer, const char *rfram)
{
    if (set_reader(c, rfram))
        return;
    /* bytes read behind the auth line are frames already */
    if (c->inlen && feed(c, c->in, c->inlen))
        return;
    c->inlen = 0;
    for (;;) {
        aemp_val *m = NULL;
        if (cf_recv_match(c, NULL, NULL, 86400, &m, NULL) != CF_GOT)
            return;
        handle(c, peer, m);
        aemp_unref(m);
    }
}

/* One connection, Transport.pm new() from the greeting on; returning
 * closes it (Perl's $self->error). */
static void serve(cf_conn *c)
{
    char l1[512], l2[89], *r1 = NULL, *r2 = NULL, *rline = NULL;
    char *g[5], *a[3], *copy = NULL;
    char s_auth[64], s_framing[32], lauth[1024], want[1024], line[1200];
    double hs = is("no-timeout") ? 86400 : MONITOR_TIMEOUT;
    size_t max = is("long-line") ? 65536 : AEMP_LINE_MAX;

    snprintf(l1, sizeof l1, "aemp;1;%s;%s%s;%s;%speeraddr=%s%s", NODEID,
             tls_ctx ? "tls_sha3_512,tls_anon," : "", AUTH_ACCEPT, framings,
             is("no-provider") ? "" : "provider=AE-conform-fake;",
             c->peeraddr, tls_ctx ? ";tls=1.0" : "");
    if (is("nonce-fixed"))
        memcpy(l2, fixed_nonce, sizeof l2);
    else if (aempi_nonce_line(l2))
        return;
    snprintf(line, sizeof line, "%s\n%s\n", l1, l2);
    if (cf_send_str(c, line))
        return;

    if (read_line(c, &r1, max, hs) != CF_GOT || !(copy = strdup(r1)) ||
        split(copy, g, 5) < 5)
        goto out;
    char *end;
    long version = strtol(g[1], &end, 10);
    if (strcmp(g[0], "aemp") && !is("protocol-any"))
        goto out; /* unparsable greeting */
    if ((version != 1 || end == g[1]) && !is("version-any"))
        goto out; /* version mismatch */
    if (!strcmp(g[2], NODEID) && !is("self-unchecked") &&
        !is("self-echo-unchecked"))
        goto out; /* I refuse to talk to myself */
    if (read_line(c, &r2, max, hs) != CF_GOT)
        goto out;
    if (!strcmp(r1, l1) && !strcmp(r2, l2) && !is("self-echo-unchecked"))
        goto out; /* echo attack? */

    const char *tlsv = greeting_kv(r1, "tls");
    int tls = tls_ctx && aempi_tls_wanted(tlsv);
    /* the first of the peer's lists that this node does */
    if (aempi_pick_common(g[3], "tls_sha3_512," AUTH_OFFER, tls, s_auth,
                          sizeof s_auth)) {
        if (!is("no-auth-any"))
            goto out; /* no common auth type supported */
        snprintf(s_auth, sizeof s_auth, "hmac_sha3_512");
    }
    if (is("framing-own-list")
            ? aempi_pick_common(framings, g[4], 0, s_framing, sizeof s_framing)
            : aempi_pick_common(g[4], framings, 0, s_framing,
                                sizeof s_framing)) {
        if (!is("no-framing-any"))
            goto out; /* no common framing method supported */
        snprintf(s_framing, sizeof s_framing, "%.*s",
                 (int)strcspn(framings, ","), framings);
    }

    if (tls) {
        int client = aempi_tls_is_client(l2, r2);
        if ((client && is("tls-no-client")) ||
            (!client && is("tls-no-server")) ||
            cf_starttls(c, tls_ctx, client) != CF_GOT)
            goto out;
        if (aempi_auth_value(s_auth, NULL, 0, l1, l2, r1, r2, lauth,
                             sizeof lauth))
            goto out; /* selected unsupported snd auth method */
    } else if (is("node-sends-cleartext")) {
        snprintf(s_auth, sizeof s_auth, "cleartext");
        aempi_auth_value("cleartext", secret, strlen(secret), l1, l2, r1, r2,
                         lauth, sizeof lauth);
    } else if (aempi_auth_value("hmac_sha3_512",
                                is("node-hmac-wrong") ? "not the secret"
                                                      : secret,
                                is("node-hmac-wrong") ? 14 : strlen(secret),
                                l1, l2, r1, r2, lauth, sizeof lauth)) {
        goto out;
    }
    snprintf(line, sizeof line, "%s;%s;%s\n", s_auth, lauth, s_framing);
    if (cf_send_str(c, line))
        goto out;

    if (cf_read_line(c, &rline, max, hs) != CF_GOT)
        goto out;
    if (is("early-data") && rline[0] == '[') {
        /* the line taken for a message, then refused as an auth line */
        snprintf(c->sfram, sizeof c->sfram, "%s", s_framing);
        if (set_reader(c, "json") == 0 &&
            feed(c, rline, strlen(rline)) == 0 && aemp_array_len(c->frames))
            handle(c, g[2], aemp_array_at(c->frames, 0));
        goto out;
    }
    int n = split(rline, a, 3);
    if (n < 2)
        goto out; /* unsupported rcv auth method */
    size_t slen = strlen(secret);
    /* "\n\n" never matches, as in Perl */
    snprintf(want, sizeof want, "\n\n");
    if (!strcmp(a[0], "hmac_sha3_512")) {
        if (!is("hmac-refused"))
            aempi_auth_value(a[0], secret, slen, r1, r2, l1, l2, want,
                             sizeof want);
        if (is("any-hmac"))
            snprintf(want, sizeof want, "%s", a[1]);
    } else if (!strcmp(a[0], "cleartext")) {
        if (is("cleartext-refused"))
            goto out;
        aempi_auth_value(a[0], secret, slen, r1, r2, l1, l2, want,
                         sizeof want);
    } else if (!strcmp(a[0], "tls_sha3_512")) {
        /* right only over TLS */
        if (tls || is("plain-tls-auth"))
            aempi_auth_value(a[0], NULL, 0, r1, r2, l1, l2, want,
                             sizeof want);
    } else if (!strcmp(a[0], "tls_anon")) {
        if (tls && !is("tls-anon-refused"))
            want[0] = 0;
    } else {
        if (!is("unknown-method") || n < 3)
            goto out; /* unsupported rcv auth method */
        snprintf(want, sizeof want, "%s", a[1]);
    }
    if (strcmp(a[1], want))
        goto out; /* authentication failure/shared secret mismatch */
    /* Transport.pm's set_rcv_framing: cbor and json are all it reads */
    if (n < 3 || (strcmp(a[2], "cbor") && strcmp(a[2], "json")))
        goto out;

    const char *wfram = s_framing;
    char first[32];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(framings, ","),
             framings);
    if (is("writes-own-first"))
        wfram = first;
    else if (is("writes-as-read"))
        wfram = a[2];
    snprintf(c->sfram, sizeof c->sfram, "%s", wfram);
    data_phase(c, g[2], is("json-first-reads-json") ? "json" : a[2]);
out:
    free(copy);
    free(r1);
    free(r2);
    free(rline);
}

/* Accepts any certificate that is there (tls-any-cert). */
static int verify_any(int ok, X509_STORE_CTX *x)
{
    (void)ok;
    (void)x;
    return 1;
}

/* The TLS context from the PEM file, with the fault's verification. */
static SSL_CTX *load_cert(const char *file)
{
    char pem[65536], *err = NULL;
    FILE *f = fopen(file, "r");
    size_t n = f ? fread(pem, 1, sizeof pem - 1, f) : 0;
    if (f)
        fclose(f);
    pem[n] = 0;
    SSL_CTX *ctx = aempi_tls_ctx_new(pem, n, &err);
    if (!ctx) {
        fprintf(stderr, "conform_fake_node: %s: %s\n", file,
                err ? err : "cannot read");
        free(err);
        return NULL;
    }
    if (is("tls-any-cert"))
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
                                SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_any);
    else if (is("tls-cert-optional"))
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

int main(int argc, char **argv)
{
    char err[256];
    int known = 0;
    if (argc != 4 && argc != 5) {
        fprintf(stderr,
                "usage: conform_fake_node PORT SECRET FAULT [CERTFILE]\n");
        return 2;
    }
    secret = argv[2];
    fault = argv[3];
    for (int i = 0; faults[i]; i++)
        known |= is(faults[i]);
    if (!known) {
        fprintf(stderr, "conform_fake_node: bad fault %s\n", fault);
        return 2;
    }
    if (is("json-first-reads-json"))
        framings = "json,cbor";
    if (aempi_nonce_line(fixed_nonce))
        return 1;
    if (argc == 5 && !(tls_ctx = load_cert(argv[4])))
        return 1;
    int lfd = cf_listen("127.0.0.1", argv[1], err, sizeof err);
    if (lfd < 0) {
        fprintf(stderr, "conform_fake_node: %s\n", err);
        return 1;
    }
    signal(SIGCHLD, SIG_IGN); /* children reaped by the system */
    pid_t parent = getpid();
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        cf_conn c;
        if (cf_accept(&c, lfd, 86400, MONITOR_TIMEOUT) == CF_GOT &&
            fork() == 0) {
            /* the runner kills the node: its children go with it */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(0);
            close(lfd);
            serve(&c);
            cf_close(&c);
            _exit(0);
        }
        cf_close(&c);
    }
}
