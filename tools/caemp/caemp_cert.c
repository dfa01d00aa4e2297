/* caemp gencert: the certificate aemp makes with
 *    openssl req -new -nodes -x509 -days 3650 -newkey rsa:2048
 *                -batch -subj /CN=AnyEvent::MP
 * made with the OpenSSL library instead, so caemp needs no openssl
 * binary. Like openssl req's defaults: a random serial, SHA-256, and the
 * v3_ca extensions of the stock openssl.cnf. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "caemp.h"

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return 0;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

static int random_serial(X509 *x)
{
    BIGNUM *bn = BN_new();
    int ok = bn && BN_rand(bn, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY)
             && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    return ok;
}

static X509 *self_signed(EVP_PKEY *key)
{
    X509 *x = X509_new();
    X509_NAME *name = x ? X509_get_subject_name(x) : NULL;

    if (!x || !name
        || !X509_set_version(x, 2)
        || !random_serial(x)
        || !X509_gmtime_adj(X509_getm_notBefore(x), 0)
        || !X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 24 * 60 * 60)
        || !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       (const unsigned char *)"AnyEvent::MP", -1, -1, 0)
        || !X509_set_issuer_name(x, name)
        || !X509_set_pubkey(x, key)
        || !add_ext(x, NID_subject_key_identifier, "hash")
        || !add_ext(x, NID_authority_key_identifier, "keyid:always,issuer")
        || !add_ext(x, NID_basic_constraints, "critical,CA:true")
        || !X509_sign(x, key, EVP_sha256())) {
        X509_free(x);
        return NULL;
    }
    return x;
}

char *caemp_gencert(char **err)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    X509 *x = key ? self_signed(key) : NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    char *out = NULL;

    /* aemp stores "$cert$key": the certificate first */
    if (x && bio && PEM_write_bio_X509(bio, x)
        && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) {
        char *p;
        long n = BIO_get_mem_data(bio, &p);
        if (n > 0 && (out = malloc((size_t)n + 1))) {
            memcpy(out, p, (size_t)n);
            out[n] = 0;
        }
    }
    if (!out && err) {
        unsigned long e = ERR_get_error();
        *err = strdup(e ? ERR_reason_error_string(e) ? ERR_reason_error_string(e)
                            : "OpenSSL error"
                        : "out of memory");
    }
    BIO_free(bio);
    X509_free(x);
    EVP_PKEY_free(key);
    return out;
}
