/* libaemp: the TLS context of a node and the choice of TLS roles. */
#include "transport_tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static char *ssl_error(const char *what)
{
    char buf[256] = "";
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    size_t n = strlen(what) + strlen(buf) + 8;
    char *msg = malloc(n);
    if (msg)
        snprintf(msg, n, "%s%s%s", what, *buf ? ": " : "", buf);
    return msg;
}

/* Every certificate in the PEM: the first is ours, the rest its chain,
 * and all of them are the CAs we trust (Perl passes the same text as
 * cert and ca_cert). */
static int load_certs(SSL_CTX *ctx, const char *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    X509 *x;
    int count = 0;
    while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
        int ok = X509_STORE_add_cert(store, x) == 1;
        if (count == 0)
            ok = ok && SSL_CTX_use_certificate(ctx, x) == 1;
        else
            ok = ok && SSL_CTX_add1_chain_cert(ctx, x) == 1;
        X509_free(x);
        if (!ok) {
            BIO_free(bio);
            return -1;
        }
        count++;
    }
    ERR_clear_error(); /* the end of the PEM reads as an error */
    BIO_free(bio);
    return count ? 0 : -1;
}

static int load_key(SSL_CTX *ctx, const char *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                        : NULL;
    int ok = key && SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
             SSL_CTX_check_private_key(ctx) == 1;
    EVP_PKEY_free(key);
    BIO_free(bio);
    return ok ? 0 : -1;
}

SSL_CTX *aempi_tls_ctx_new(const char *pem, size_t len, char **err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (!ctx) {
        *err = ssl_error("cannot make a TLS context");
        return NULL;
    }
    /* sslv2 and sslv3 off, TLS 1.0 and later on, as Transport.pm asks */
    SSL_CTX_set_options(ctx, SSL_OP_ALL | SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3);
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    SSL_CTX_set_dh_auto(ctx, 1);
    if (load_certs(ctx, pem, len)) {
        *err = ssl_error("cert: no usable certificate in the PEM");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (load_key(ctx, pem, len)) {
        *err = ssl_error("cert: no private key matching the certificate");
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* the peer's certificate is required and verified, both ways */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       NULL);
    return ctx;
}

int aempi_tls_is_client(const char *local_nonce, const char *remote_nonce)
{
    return strcmp(local_nonce, remote_nonce) < 0;
}

int aempi_tls_wanted(const char *value)
{
    return value && atoi(value) == 1;
}
