/* caemp conform: the catalogue's shape, shared by the check groups. */
#ifndef CONFORM_INT_H
#define CONFORM_INT_H

#include <stdarg.h>

#include "conform_wire.h"

enum { CF_PASS, CF_FAIL, CF_SKIP };

/* What every check knows: the node under test and how to reach it. */
typedef struct cf_ctx {
    const char *host, *port, *secret;
    double timeout;   /* seconds per expectation */
    char node[256];   /* the node's id, from a first greeting */
    int lfd;          /* --master: the kit's listening socket */
    double wait;      /* --master: how long to wait for the node to connect */
    const char *cert; /* PEM, key and certificate (--cert, or the rc
                       * file's cert); NULL: the TLS checks skip */
    int secure;       /* --secure: the operator says the node is secure */
    double monitor_timeout; /* the node's, for the handshake timeout
                             * check (--monitor-timeout, --slow: 30);
                             * 0: that check skips */
} cf_ctx;

typedef struct cf_result {
    int status;
    char msg[600];    /* "expected X, got Y", a skip reason, or a note */
} cf_result;

typedef void (*cf_check_fn)(cf_ctx *ctx, cf_result *res);

typedef struct cf_check {
    const char *id;    /* T-GREET-FORMAT */
    const char *group; /* transport, kernel, seed, master */
    const char *rule;  /* one sentence */
    const char *ref;   /* where Perl defines it: Transport.pm new */
    cf_check_fn fn;
} cf_check;

/* The groups' catalogues, ended by an entry with a NULL id. */
extern const cf_check cf_transport_checks[];
extern const cf_check cf_kernel_checks[];
extern const cf_check cf_master_checks[];
extern const cf_check cf_seed_checks[];
extern const cf_check cf_tls_checks[];    /* transport: TLS, timeout */
extern const cf_check cf_secure_checks[]; /* kernel: secure mode */

/* Sets res to status (CF_FAIL: "expected X, got Y"; CF_SKIP: the
 * reason; CF_PASS: a note), printf-style. */
int cf_set(cf_result *res, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define cf_fail(res, ...) cf_set((res), CF_FAIL, __VA_ARGS__)
#define cf_skip(res, ...) cf_set((res), CF_SKIP, __VA_ARGS__)
#define cf_note(res, ...) cf_set((res), CF_PASS, __VA_ARGS__)

/* A well-behaved authenticated link to the node (hmac_sha3_512, the
 * node's own framing order), or a failed res. 0 when up. */
int cf_link(cf_ctx *ctx, cf_conn *c, cf_result *res, const char *offer);

/* Asks the node its time over c, replying to our port "sync": proves the
 * link is up and that everything sent before has been handled. On a
 * failure res is set (with what) and -1 returned; whatever the node sent
 * to us before the reply is kept in *early (JSON, malloc'd, or NULL). */
int cf_sync(cf_conn *c, cf_result *res, const char *what, char **early);

/* After the greetings on c: sends line (an auth line the node must
 * refuse) with a time request in json behind it (frame_first: in front of
 * it) and expects a close with nothing but the node's own auth line
 * before it: the request is never answered. */
void cf_expect_refused(cf_conn *c, cf_result *res, const char *line,
                       int frame_first);

#endif
