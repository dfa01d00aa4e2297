/* caemp conform: the wire side of the kit. One TCP connection to the
 * node under test, driven synchronously: blocking writes, reads under
 * poll() with a timeout, so a check reads as the protocol does (send the
 * greeting, read a line, send the auth line, expect a reply or a close).
 * It plays the peer deliberately: every step can be left out or done
 * wrong by the check that calls it. */
#ifndef CONFORM_WIRE_H
#define CONFORM_WIRE_H

#include <stddef.h>

#include "aemp/value.h"
#include "transport_auth.h"

/* What cf_read_line and the receive functions report. */
enum {
    CF_GOT = 1,      /* a line or a message */
    CF_TIMEOUT = 0,  /* nothing within the timeout */
    CF_CLOSED = -1,  /* the node closed (or reset) the connection */
    CF_TOOLONG = -2, /* a line longer than the limit */
    CF_ERROR = -3    /* a local failure, or undecodable data */
};

typedef struct cf_conn {
    int fd;
    double timeout;   /* seconds per expectation */
    char *in;         /* bytes read and not yet consumed */
    size_t inlen, incap;
    int eof;          /* the node closed its side */
    char peeraddr[96]; /* the node's address as HOST:PORT */

    /* the handshake: our lines, the node's lines (NULL until read) */
    char *l1, *l2, *r1, *r2;
    aemp_greeting rg; /* the node's line 1, parsed (rg.copy NULL before) */
    char *rauth;      /* the node's auth line */
    char nodeid[64];  /* the node id we play */
    char sfram[32], rfram[32]; /* framing we send, framing the node sends */

    /* data phase: decoded frames waiting to be looked at */
    void *reader;     /* aemp_cbor_reader or aemp_json_reader */
    int reader_json;
    aemp_val *frames; /* array */
    char err[256];    /* why a step failed */
    void *tls;        /* the SSL once TLS has started (cf_starttls) */
} cf_conn;

/* Connects to host:port within timeout. 0, or -1 with c->err set. */
int cf_connect(cf_conn *c, const char *host, const char *port, double timeout);
void cf_close(cf_conn *c);

/* The accepting side, for the kit playing a seed: a listening socket on
 * host:port (the fd, or -1 with err set), and one connection accepted
 * within wait seconds (CF_GOT, CF_TIMEOUT, CF_ERROR with c->err set);
 * c->timeout is then timeout. */
int cf_listen(const char *host, const char *port, char *err, size_t n);
int cf_accept(cf_conn *c, int lfd, double wait, double timeout);

/* Writes all bytes (fails only on a local error or a closed socket:
 * -1). A node that closes early can make writes fail: callers treat
 * that as part of what they check. */
int cf_send(cf_conn *c, const void *data, size_t len);
int cf_send_str(cf_conn *c, const char *s);

/* Reads a line (LF removed, malloc'd into *line) of at most max bytes. */
int cf_read_line(cf_conn *c, char **line, size_t max, double timeout);

/* Waits up to timeout for the node to close. CF_CLOSED or CF_TIMEOUT;
 * whatever it wrote before goes to *rest (malloc'd, may be NULL). */
int cf_wait_close(cf_conn *c, double timeout, char **rest);

/* Reads the node's two greeting lines into r1, r2, rg. CF_GOT, else the
 * failing status with err set. */
int cf_read_greeting(cf_conn *c);

/* Our greeting line 1 with the given fields (NULL: the defaults: our
 * node id, hmac_sha3_512, cbor,json), stored as l1, a fresh nonce as l2;
 * both sent. */
int cf_send_greeting(cf_conn *c, const char *nodeid, const char *auths,
                     const char *framings);

/* A well-behaved peer's whole handshake: connect, greetings, our auth
 * line computed with secret (method hmac_sha3_512, or cleartext), our
 * framing the first of the node's list in sfram_list, reading the node's
 * auth line (checked: its method must be known to us and its value
 * right) and switching to the data phase. offer is our framing list
 * (NULL: cbor,json). 0, or -1 with err set. */
typedef struct cf_peer {
    const char *host, *port, *secret;
    const char *nodeid;   /* NULL: a fresh conform-XXXXXXXX */
    const char *method;   /* NULL: hmac_sha3_512 */
    const char *offer;    /* framings we receive, NULL: cbor,json */
    const char *send_framing; /* NULL: the first of the node's list */
    double timeout;
    /* TLS (an SSL_CTX): our greeting says tls=1.0 and offers tls_sha3_512,
     * our nonce is picked so that we are the TLS client (tls_client) or
     * server, and TLS starts after the greetings; method NULL then means
     * tls_sha3_512 */
    void *tls_ctx;
    int tls_client;
} cf_peer;
int cf_handshake(cf_conn *c, const cf_peer *p);
/* The same handshake on a connection already made (cf_accept): both
 * sides greet at once, so the accepting side's steps are the same. */
int cf_handshake_on(cf_conn *c, const cf_peer *p);

/* After the node's greeting (r2 read): sends our greeting saying tls=1.0
 * with auths (NULL: tls_sha3_512) and framings (NULL: cbor,json), its
 * nonce picked so that we are the TLS client (client) or server, as
 * Transport.pm decides by the nonces. */
int cf_send_tls_greeting(cf_conn *c, const char *auths, const char *framings,
                         int client);

/* Starts TLS on c with ctx (an SSL_CTX) as client or server, the
 * handshake bounded by c->timeout; every read and write after goes
 * through it. CF_GOT, CF_CLOSED (the node closed or refused: err says
 * what OpenSSL saw) or CF_ERROR. Fails if bytes are already buffered. */
int cf_starttls(cf_conn *c, void *ctx, int client);

/* The node's auth line split: method, value, framing (into out buffers). */
int cf_split_auth(const char *line, char *method, size_t mn, char *value,
                  size_t vn, char *fram, size_t fn);

/* Sends one message (an array, taken) in our framing. */
int cf_send_msg(cf_conn *c, aemp_val *msg);
/* The frame bytes of msg (taken) in framing fram, appended to a new
 * malloc'd buffer. */
char *cf_encode(const char *fram, aemp_val *msg, size_t *len);

/* Receives the next message whose first element is the string first (any
 * message when first is NULL) and,
 * if second is not NULL, whose second is that string; messages that do
 * not match are dropped, but when skipped is not NULL the first of them
 * that is a kil0 or addressed to one of our ports is kept there (a copy in JSON, malloc'd) for the report. */
int cf_recv_match(cf_conn *c, const char *first, const char *second,
                  double timeout, aemp_val **msg, char **skipped);

/* A random lowercase hex string of n characters into out (n+1 bytes). */
void cf_random_hex(char *out, size_t n);

#endif
