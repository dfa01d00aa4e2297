/* Helpers for the tests that run nodes on one event_base over loopback:
 * making nodes, running the loop, recording messages, monitors and log
 * lines, and a peer played by hand over a raw socket. */
#ifndef AEMP_NODE_FIXTURE_H
#define AEMP_NODE_FIXTURE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "transport_auth.h"

typedef struct seen {
    int calls;
    aemp_val *last;    /* last message or reason */
    char logs[8192];   /* captured log lines */
} seen;

static struct event_base *base;
static double monitor_timeout; /* 0: the default */
static aemp_val *extra_config; /* more configure arguments, or NULL */

/* Runs the loop until *flag becomes non-zero or seconds pass. */
static inline void run_until(int *flag, double seconds)
{
    for (int i = 0; i < (int)(seconds * 100) && !*flag; i++) {
        struct timeval tv = {0, 10000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
}

static inline void capture_log(int level, const char *ctx, const char *msg,
                               void *ud)
{
    (void)level;
    (void)ctx;
    seen *s = ud;
    size_t used = strlen(s->logs);
    snprintf(s->logs + used, sizeof s->logs - used, "%s\n", msg);
}

/* Configures n: listening on loopback, one seed if given, extra_config
 * last. */
static inline void configure_node(aemp_node *n, const char *id,
                                  const char *secret, const char *seed)
{
    aemp_val *args = aemp_map();
    aemp_map_set(args, "norc", aemp_int(1));
    aemp_map_set(args, "nodeid", aemp_str(id));
    aemp_map_set(args, "secret", aemp_str(secret));
    aemp_map_set(args, "binds", aemp_arrayv(aemp_str("127.0.0.1:*"), NULL));
    aemp_map_set(args, "connect_interval", aemp_double(1));
    if (monitor_timeout > 0)
        aemp_map_set(args, "monitor_timeout", aemp_double(monitor_timeout));
    if (seed)
        aemp_map_set(args, "seeds", aemp_arrayv(aemp_str(seed), NULL));
    for (size_t i = 0; i < aemp_map_len(extra_config); i++)
        aemp_map_set(args, aemp_map_key_at(extra_config, i, NULL),
                     aemp_copy(aemp_map_value_at(extra_config, i)));
    int rc = aemp_node_configure(n, args, NULL);
    ck_assert_msg(rc == 0, "configure: %s", aemp_node_errmsg(n));
    aemp_unref(args);
}

static inline aemp_node *make_node(const char *id, const char *secret,
                                   const char *seed, seen *logs)
{
    aemp_node *n = aemp_node_new(base);
    ck_assert_ptr_nonnull(n);
    if (logs)
        aemp_node_set_log(n, 9, capture_log, logs);
    else
        aemp_node_set_log(n, 0, NULL, NULL);
    configure_node(n, id, secret, seed);
    return n;
}

static inline const char *bind_of(aemp_node *n)
{
    return aemp_str_ptr(aemp_array_at(aemp_node_binds(n), 0), NULL);
}

static inline int record(aemp_node *n, const char *port, const aemp_val *msg,
                         void *ud)
{
    (void)n;
    (void)port;
    seen *s = ud;
    s->calls++;
    aemp_unref(s->last);
    s->last = aemp_copy(msg);
    return 0;
}

static inline void mon_record(aemp_node *n, const char *port,
                              const aemp_val *reason, void *ud)
{
    (void)n;
    (void)port;
    seen *s = ud;
    s->calls++;
    aemp_unref(s->last);
    s->last = aemp_copy(reason);
}

static inline int json_is(const aemp_val *v, const char *json)
{
    char *j = aemp_to_json(v, NULL);
    int ok = j && !strcmp(j, json);
    if (!ok)
        fprintf(stderr, "got %s, want %s\n", j ? j : "(null)", json);
    free(j);
    return ok;
}

static inline int echo(aemp_node *n, const char *port, const aemp_val *msg,
                       void *ud)
{
    (void)port;
    (void)ud;
    /* ["echo", REPLYPORT, value] */
    const char *reply = aemp_str_ptr(aemp_array_at(msg, 1), NULL);
    aemp_sndv(n, reply, aemp_str("echoed"),
              aemp_copy(aemp_array_at(msg, 2)),
              aemp_str(aemp_srcnode(n)), NULL);
    return 0;
}

/* ---- a peer by hand over a raw socket ---- */

static inline int raw_connect(const char *hostport)
{
    int port = atoi(strrchr(hostport, ':') + 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

static inline void raw_send(int fd, const char *s)
{
    ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Reads what the node sent until it closes or the loop idles. */
static inline int raw_closed(int fd)
{
    char buf[8192];
    for (int i = 0; i < 200; i++) {
        struct timeval tv = {0, 10000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r == 0)
            return 1;
    }
    return 0;
}

/* Reads the node's two greeting lines. */
static inline void raw_greeting(int fd, char *g1, char *g2)
{
    char buf[8192];
    size_t used = 0;
    for (int i = 0; i < 200; i++) {
        struct timeval tv = {0, 10000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
        ssize_t r = recv(fd, buf + used, sizeof buf - used - 1, MSG_DONTWAIT);
        if (r > 0)
            used += (size_t)r;
        buf[used] = 0;
        char *nl1 = strchr(buf, '\n');
        char *nl2 = nl1 ? strchr(nl1 + 1, '\n') : NULL;
        if (nl2) {
            *nl1 = *nl2 = 0;
            strcpy(g1, buf);
            strcpy(g2, nl1 + 1);
            return;
        }
    }
    ck_abort_msg("no greeting");
}

/* A full handshake by hand (secret "sec", json); returns the socket in
 * the data phase. */
static inline int raw_handshake(aemp_node *n, const char *myid)
{
    int fd = raw_connect(bind_of(n));
    char g1[4096], g2[4096], auth[256];
    raw_greeting(fd, g1, g2);
    char l1[256], l2[] = "bm9uY2Vub25jZQ";
    snprintf(l1, sizeof l1, "aemp;1;%s;hmac_sha3_512;json", myid);
    ck_assert_int_eq(aempi_auth_value("hmac_sha3_512", "sec", 3, l1, l2, g1,
                                      g2,
                                      auth, sizeof auth), 0);
    char out[1024];
    snprintf(out, sizeof out, "%s\n%s\nhmac_sha3_512;%s;json\n", l1, l2, auth);
    raw_send(fd, out);
    return fd;
}

/* A fresh node reaches a port of b and gets its answer. */
static inline int node_still_serves(aemp_node *b)
{
    aemp_node *a = make_node("checker", "sec", bind_of(b), NULL);
    seen replies = {0};
    char *service = aemp_port(b, NULL, NULL);
    aemp_rcv(b, service, "echo", echo, NULL);
    char *inbox = aemp_port(a, record, &replies);
    aemp_sndv(a, service, aemp_str("echo"), aemp_str(inbox), aemp_int(1),
              NULL);
    run_until(&replies.calls, 5);
    aemp_unref(replies.last);
    free(service);
    free(inbox);
    aemp_node_free(a);
    return replies.calls == 1;
}

#endif
