/* libaemp internal: the handshake's greeting lines and authentication
 * values, as AnyEvent::MP::Transport computes them. Pure functions: no
 * sockets here, so the vectors in tests/vectors/auth.json test them. */
#ifndef AEMP_TRANSPORT_AUTH_H
#define AEMP_TRANSPORT_AUTH_H

#include <stddef.h>

#define AEMP_PROTOCOL_VERSION 1
#define AEMP_NONCE_BYTES 66  /* base64: 88 characters */
#define AEMP_LINE_MAX 4096   /* Perl's rbuf_max during the handshake */
/* The protocol of a data connection (AnyEvent::MP::DataConn): the same
 * handshake, then the socket is handed to its user instead of carrying
 * frames (docs/dataconn.md). */
#define AEMP_DATACONN_PROTOCOL "aemp-dataconn"

/* Greeting line 1 as parsed. Pointers point into the parsed copy. */
typedef struct aemp_greeting {
    char *copy;         /* owns all strings below */
    char *protocol;     /* "aemp" or AEMP_DATACONN_PROTOCOL */
    long version;       /* must be 1 */
    char *nodeid;
    char *auths;        /* comma list: methods the sender accepts */
    char *framings;     /* comma list: formats the sender can receive */
    char *provider;     /* key=value pairs, NULL when absent */
    char *peeraddr;
    char *mproto;
    char *gproto;
    char *tls;
    char *dataconn_id;  /* which data connection (aemp-dataconn) */
} aemp_greeting;

/* Builds greeting line 1 (no LF). tls may be NULL (no cert). malloc'd. */
char *aempi_greeting_format(const char *nodeid, const char *auth_accept,
                            const char *framings, const char *peeraddr,
                            const char *tls);

/* Greeting line 1 of a data connection (aemp-dataconn): as Perl's, no
 * mproto or gproto (those are the node protocol's), and dataconn_id.
 * malloc'd. */
char *aempi_greeting_format_dataconn(const char *nodeid,
                                     const char *auth_accept,
                                     const char *framings,
                                     const char *peeraddr, const char *tls,
                                     const char *dataconn_id);

/* Parses greeting line 1 of protocol "aemp" or "aemp-dataconn" (the
 * caller checks which it may take). Returns 0, or -1 with *err a static
 * text. */
int aempi_greeting_parse(const char *line, aemp_greeting *g, const char **err);
void aempi_greeting_clear(aemp_greeting *g);

/* A fresh nonce line: base64 of 66 random bytes. 89 bytes with the NUL. */
int aempi_nonce_line(char out[89]);

/* 1 if the comma list contains item. */
int aempi_list_has(const char *list, const char *item);

/* The first entry of the remote comma list that is also in the local comma
 * list, where tls_* entries count only when tls is set. Copies it into out
 * (size n) and returns 0, or -1 when there is none. */
int aempi_pick_common(const char *remote, const char *local, int tls,
                      char *out, size_t n);

/* The auth data for a method, as lowercase hex into out (129 bytes for the
 * SHA3-512 methods, 2*secret_len+1 for cleartext).
 * l1 l2 are the computing side's greeting lines, r1 r2 the other side's:
 * the value sent is auth(local..., remote...), the value expected from the
 * peer is auth(remote..., local...).
 * Returns 0, or -1 for an unknown method or a missing secret. */
int aempi_auth_value(const char *method, const char *secret, size_t secret_len,
                     const char *l1, const char *l2, const char *r1,
                     const char *r2, char *out, size_t n);

/* Constant-time comparison of two NUL-terminated strings. */
int aempi_auth_equal(const char *a, const char *b);

#endif
