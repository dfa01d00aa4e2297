/* libaemp: greeting lines and authentication values of the handshake
 * (AnyEvent::MP::Transport, POD section PROTOCOL). */
#include "transport_auth.h"

#include "aemp/version.h"
#include "random.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

char *aempi_greeting_format(const char *nodeid, const char *auth_accept,
                            const char *framings, const char *peeraddr,
                            const char *tls)
{
    /* Perl writes the key=value pairs in hash order, which varies from run
     * to run; readers take them in any order. */
    const char *fmt = "aemp;%d;%s;%s;%s;provider=%s;peeraddr=%s;mproto=1;"
                      "gproto=1%s%s";
    const char *provider = AEMP_PROVIDER;
    const char *tlsk = tls ? ";tls=" : "";
    int n = snprintf(NULL, 0, fmt, AEMP_PROTOCOL_VERSION, nodeid, auth_accept,
                     framings, provider, peeraddr, tlsk, tls ? tls : "");
    char *line = malloc((size_t)n + 1);
    if (line)
        snprintf(line, (size_t)n + 1, fmt, AEMP_PROTOCOL_VERSION, nodeid,
                 auth_accept, framings, provider, peeraddr, tlsk,
                 tls ? tls : "");
    return line;
}

char *aempi_greeting_format_dataconn(const char *nodeid,
                                     const char *auth_accept,
                                     const char *framings,
                                     const char *peeraddr, const char *tls,
                                     const char *dataconn_id)
{
    const char *fmt = AEMP_DATACONN_PROTOCOL
        ";%d;%s;%s;%s;provider=%s;peeraddr=%s;dataconn_id=%s%s%s";
    const char *provider = AEMP_PROVIDER;
    const char *tlsk = tls ? ";tls=" : "";
    int n = snprintf(NULL, 0, fmt, AEMP_PROTOCOL_VERSION, nodeid, auth_accept,
                     framings, provider, peeraddr, dataconn_id, tlsk,
                     tls ? tls : "");
    char *line = malloc((size_t)n + 1);
    if (line)
        snprintf(line, (size_t)n + 1, fmt, AEMP_PROTOCOL_VERSION, nodeid,
                 auth_accept, framings, provider, peeraddr, dataconn_id, tlsk,
                 tls ? tls : "");
    return line;
}

static void greeting_kv(aemp_greeting *g, char *kv)
{
    char *eq = strchr(kv, '=');
    if (!eq)
        return; /* Perl's split would give an undef value; ignore it */
    *eq = 0;
    char *v = eq + 1;
    if (!strcmp(kv, "provider"))
        g->provider = v;
    else if (!strcmp(kv, "peeraddr"))
        g->peeraddr = v;
    else if (!strcmp(kv, "mproto"))
        g->mproto = v;
    else if (!strcmp(kv, "gproto"))
        g->gproto = v;
    else if (!strcmp(kv, "tls"))
        g->tls = v;
    else if (!strcmp(kv, "dataconn_id"))
        g->dataconn_id = v;
}

int aempi_greeting_parse(const char *line, aemp_greeting *g, const char **err)
{
    memset(g, 0, sizeof *g);
    g->copy = strdup(line);
    if (!g->copy) {
        *err = "out of memory";
        return -1;
    }
    /* Fields are ';'-separated: protocol, version, nodeid, auths,
     * framings, then key=value pairs. Empty fields are kept. */
    char *fields[5] = {0};
    char *p = g->copy;
    for (int i = 0; i < 5; i++) {
        if (!p) {
            *err = "malformed greeting (too few fields)";
            aempi_greeting_clear(g);
            return -1;
        }
        fields[i] = p;
        char *semi = strchr(p, ';');
        if (semi)
            *semi++ = 0;
        p = semi;
    }
    while (p) {
        char *semi = strchr(p, ';');
        if (semi)
            *semi++ = 0;
        greeting_kv(g, p);
        p = semi;
    }
    g->protocol = fields[0];
    char *end;
    g->version = strtol(fields[1], &end, 10);
    if (end == fields[1] || *end)
        g->version = -1;
    g->nodeid = fields[2];
    g->auths = fields[3];
    g->framings = fields[4];
    /* Perl takes any aemp-WORD and fails later when it has no handler
     * for it; dataconn is the only one there is */
    if (strcmp(g->protocol, "aemp") &&
        strcmp(g->protocol, AEMP_DATACONN_PROTOCOL)) {
        *err = "protocol mismatch";
        aempi_greeting_clear(g);
        return -1;
    }
    return 0;
}

void aempi_greeting_clear(aemp_greeting *g)
{
    free(g->copy);
    memset(g, 0, sizeof *g);
}

int aempi_nonce_line(char out[89])
{
    unsigned char nonce[AEMP_NONCE_BYTES];
    if (aempi_random_bytes(nonce, sizeof nonce))
        return -1;
    EVP_EncodeBlock((unsigned char *)out, nonce, sizeof nonce);
    return 0;
}

/* Calls fn on each entry of a comma list until it returns non-zero. */
static int list_find(const char *list, const char *item, size_t ilen)
{
    const char *p = list;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n == ilen && !memcmp(p, item, n))
            return 1;
        if (!c)
            break;
        p = c + 1;
    }
    return 0;
}

int aempi_list_has(const char *list, const char *item)
{
    return list_find(list, item, strlen(item));
}

int aempi_pick_common(const char *remote, const char *local, int tls,
                      char *out, size_t n)
{
    const char *p = remote;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        int usable = tls || len < 4 || memcmp(p, "tls_", 4);
        if (len && usable && list_find(local, p, len) && len < n) {
            memcpy(out, p, len);
            out[len] = 0;
            return 0;
        }
        if (!c)
            break;
        p = c + 1;
    }
    return -1;
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = 0;
}

/* The four greeting lines, each followed by LF: what both SHA3 methods
 * digest. */
static char *four_lines(const char *a, const char *b, const char *c,
                        const char *d, size_t *len)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + strlen(d) + 4;
    char *s = malloc(n + 1);
    if (s)
        snprintf(s, n + 1, "%s\n%s\n%s\n%s\n", a, b, c, d);
    *len = n;
    return s;
}

static int hmac_sha3_512(const char *key, size_t klen, const char *msg,
                         size_t mlen, unsigned char out[64])
{
    /* OpenSSL's HMAC over SHA3-512 uses the SHA3-512 rate (72 bytes) as
     * its block size, which is what Perl's Transport::hmac_sha3_512_hex
     * does too. */
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                         (char *)"SHA3-512", 0),
        OSSL_PARAM_construct_end(),
    };
    size_t outlen = 0;
    /* A zero-length key is legal HMAC; OpenSSL wants a non-NULL pointer. */
    int ok = ctx &&
             EVP_MAC_init(ctx, (const unsigned char *)(klen ? key : ""), klen,
                          params) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)msg, mlen) == 1 &&
             EVP_MAC_final(ctx, out, &outlen, 64) == 1 && outlen == 64;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok ? 0 : -1;
}

int aempi_auth_value(const char *method, const char *secret, size_t secret_len,
                     const char *l1, const char *l2, const char *r1,
                     const char *r2, char *out, size_t n)
{
    unsigned char md[64];
    if (!strcmp(method, "cleartext")) {
        if (!secret || n < 2 * secret_len + 1)
            return -1;
        to_hex((const unsigned char *)secret, secret_len, out);
        return 0;
    }
    if (!strcmp(method, "tls_anon")) {
        if (n < 1)
            return -1;
        out[0] = 0;
        return 0;
    }
    int hmac = !strcmp(method, "hmac_sha3_512");
    if ((!hmac && strcmp(method, "tls_sha3_512")) || n < 129 ||
        (hmac && !secret))
        return -1;
    size_t len;
    char *msg = four_lines(l1, l2, r1, r2, &len);
    if (!msg)
        return -1;
    int rc;
    if (hmac) {
        rc = hmac_sha3_512(secret, secret_len, msg, len, md);
    } else {
        unsigned int mdlen = 0;
        rc = EVP_Digest(msg, len, md, &mdlen, EVP_sha3_512(), NULL) == 1 &&
                     mdlen == 64
                 ? 0
                 : -1;
    }
    free(msg);
    if (rc == 0)
        to_hex(md, 64, out);
    return rc;
}

int aempi_auth_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return 0;
    return CRYPTO_memcmp(a, b, la) == 0;
}
