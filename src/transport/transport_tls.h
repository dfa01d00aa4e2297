/* libaemp internal: TLS for links, as AnyEvent::MP::Transport sets up
 * AnyEvent::TLS: one PEM (key, certificate, chain) from the `cert`
 * setting serves as our certificate and as the CAs we accept; the peer
 * must present a certificate that verifies against them. */
#ifndef AEMP_TRANSPORT_TLS_H
#define AEMP_TRANSPORT_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/* A context from PEM text holding a private key and certificate(s).
 * NULL with a message in *err (malloc'd) when it does not load. */
SSL_CTX *aempi_tls_ctx_new(const char *pem, size_t len, char **err);

/* Which side is the TLS client: the one whose nonce line is lower,
 * compared as raw octets (Perl's lt on byte strings). */
int aempi_tls_is_client(const char *local_nonce, const char *remote_nonce);

/* "1.0" and the like: does the remote greeting's tls= value ask for TLS
 * (Perl: 1 == int $value)? */
int aempi_tls_wanted(const char *value);

#endif
