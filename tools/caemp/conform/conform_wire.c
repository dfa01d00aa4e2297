/* caemp conform: the wire side (conform_wire.h). Plain blocking sockets
 * and poll(): the kit runs one scripted connection at a time and needs no
 * event loop. The greeting, auth values and framings are the library's
 * own pieces (transport_auth.h, value_cbor.h, value_json.h), so the kit
 * computes exactly what a libaemp link would, and can send anything
 * else on purpose. */
#define _POSIX_C_SOURCE 200809L
#include "conform_wire.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "aemp/error.h"
#include "buf.h"
#include "random.h"
#include "transport_tls.h"
#include "value_cbor.h"
#include "value_json.h"

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void cf_random_hex(char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[64];

    if (n > sizeof b)
        n = sizeof b;
    if (aempi_random_bytes(b, n))
        memset(b, 0x5a, n);
    for (size_t i = 0; i < n; i++)
        out[i] = hex[b[i] & 15];
    out[n] = 0;
}

static int fail(cf_conn *c, int status, const char *fmt, const char *arg)
{
    snprintf(c->err, sizeof c->err, fmt, arg ? arg : "");
    return status;
}

int cf_connect(cf_conn *c, const char *host, const char *port, double timeout)
{
    struct addrinfo hints, *res = NULL;
    int r;

    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->timeout = timeout;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if ((r = getaddrinfo(host, port, &hints, &res)) != 0)
        return fail(c, -1, "%s", gai_strerror(r));
    const char *why = "no address";
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        /* non-blocking only for the connect, to bound it by timeout */
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
            errno == EINPROGRESS) {
            struct pollfd p = {fd, POLLOUT, 0};
            int err = ETIMEDOUT;
            socklen_t len = sizeof err;
            if (poll(&p, 1, (int)(timeout * 1000)) == 1)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            errno = err;
        } else {
            errno = 0;
        }
        if (errno) {
            why = strerror(errno);
            close(fd);
            continue;
        }
        fcntl(fd, F_SETFL, fl);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        char h[64] = "?";
        if (ai->ai_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr,
                      h, sizeof h);
        else if (ai->ai_family == AF_INET6)
            inet_ntop(AF_INET6,
                      &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, h,
                      sizeof h);
        snprintf(c->peeraddr, sizeof c->peeraddr,
                 ai->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h, port);
        break;
    }
    freeaddrinfo(res);
    if (c->fd < 0)
        return fail(c, -1, "%s", why);
    c->frames = aemp_array();
    return c->frames ? 0 : -1;
}

int cf_listen(const char *host, const char *port, char *err, size_t n)
{
    struct addrinfo hints, *res = NULL;
    int r, fd = -1;

    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
        snprintf(err, n, "%s", gai_strerror(r));
        return -1;
    }
    snprintf(err, n, "no address");
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 8)) {
            snprintf(err, n, "%s", strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

int cf_accept(cf_conn *c, int lfd, double wait, double timeout)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;

    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->timeout = timeout;
    struct pollfd p = {lfd, POLLIN, 0};
    int r = poll(&p, 1, (int)(wait * 1000));
    if (r == 0)
        return fail(c, CF_TIMEOUT, "%s", "no connection");
    int fd = r > 0 ? accept(lfd, (struct sockaddr *)&sa, &len) : -1;
    if (fd < 0)
        return fail(c, CF_ERROR, "accept: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    char h[64] = "?";
    unsigned port = 0;
    if (sa.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&sa;
        inet_ntop(AF_INET, &in->sin_addr, h, sizeof h);
        port = ntohs(in->sin_port);
    } else if (sa.ss_family == AF_INET6) {
        struct sockaddr_in6 *in = (struct sockaddr_in6 *)&sa;
        inet_ntop(AF_INET6, &in->sin6_addr, h, sizeof h);
        port = ntohs(in->sin6_port);
    }
    snprintf(c->peeraddr, sizeof c->peeraddr,
             sa.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", h, port);
    c->frames = aemp_array();
    return c->frames ? CF_GOT : fail(c, CF_ERROR, "%s", "out of memory");
}

static void free_reader(cf_conn *c)
{
    if (!c->reader)
        return;
    if (c->reader_json)
        aempi_json_reader_free(c->reader);
    else
        aempi_cbor_reader_free(c->reader);
    c->reader = NULL;
}

void cf_close(cf_conn *c)
{
    SSL_free(c->tls);
    c->tls = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->in);
    free(c->l1);
    free(c->l2);
    free(c->r1);
    free(c->r2);
    free(c->rauth);
    if (c->rg.copy)
        aempi_greeting_clear(&c->rg);
    free_reader(c);
    aemp_unref(c->frames);
    c->in = c->l1 = c->l2 = c->r1 = c->r2 = c->rauth = NULL;
    c->frames = NULL;
}

/* Waits until fd is ready for the TLS layer's wish (SSL_ERROR_WANT_*).
 * 1 ready, 0 timeout, -1 error. */
static int tls_wait(cf_conn *c, int want, double deadline)
{
    double left = deadline - now_mono();
    struct pollfd p = {c->fd, want == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN,
                       0};
    int r = poll(&p, 1, left > 0 ? (int)(left * 1000 + 0.5) : 0);
    return r < 0 ? (errno == EINTR ? 0 : -1) : r;
}

/* OpenSSL's reason for a failed TLS call into c->err. */
static void tls_error(cf_conn *c, const char *what, int e)
{
    char buf[200] = "";
    unsigned long q = ERR_get_error();
    if (q)
        ERR_error_string_n(q, buf, sizeof buf);
    else if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL)
        snprintf(buf, sizeof buf, "the node closed");
    else
        snprintf(buf, sizeof buf, "SSL error %d", e);
    ERR_clear_error();
    snprintf(c->err, sizeof c->err, "%s: %s", what, buf);
}

static int tls_send(cf_conn *c, const char *p, size_t len)
{
    double deadline = now_mono() + c->timeout;
    while (len) {
        int n = SSL_write(c->tls, p, len > 65536 ? 65536 : (int)len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        int e = SSL_get_error(c->tls, n);
        if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
            tls_wait(c, e, deadline) > 0)
            continue;
        tls_error(c, "TLS send", e);
        return -1;
    }
    return 0;
}

int cf_send(cf_conn *c, const void *data, size_t len)
{
    const char *p = data;
    if (c->tls)
        return tls_send(c, p, len);
    while (len) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fail(c, -1, "send: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int cf_send_str(cf_conn *c, const char *s)
{
    return cf_send(c, s, strlen(s));
}

/* Reads more bytes, waiting until deadline. CF_GOT, CF_TIMEOUT,
 * CF_CLOSED. */
static int fill(cf_conn *c, double deadline)
{
    if (c->eof)
        return CF_CLOSED;
    if (c->incap - c->inlen < 65536) {
        size_t cap = c->incap * 2 + 65536;
        char *n = realloc(c->in, cap);
        if (!n)
            return CF_ERROR;
        c->in = n;
        c->incap = cap;
    }
    while (c->tls) {
        int n = SSL_read(c->tls, c->in + c->inlen,
                         (int)(c->incap - c->inlen));
        if (n > 0) {
            c->inlen += (size_t)n;
            return CF_GOT;
        }
        int e = SSL_get_error(c->tls, n);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            /* an alert, a close_notify or a reset: the node's close */
            tls_error(c, "TLS", e);
            c->eof = 1;
            return CF_CLOSED;
        }
        int r = tls_wait(c, e, deadline);
        if (r <= 0)
            return r == 0 ? CF_TIMEOUT : CF_ERROR;
    }
    double left = deadline - now_mono();
    if (left < 0)
        left = 0;
    struct pollfd p = {c->fd, POLLIN, 0};
    int r = poll(&p, 1, (int)(left * 1000 + 0.5));
    if (r == 0)
        return CF_TIMEOUT;
    if (r < 0)
        return errno == EINTR ? CF_TIMEOUT : CF_ERROR;
    ssize_t n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
    if (n <= 0) { /* EOF or a reset: both are the node's close */
        c->eof = 1;
        return CF_CLOSED;
    }
    c->inlen += (size_t)n;
    return CF_GOT;
}

static void consume(cf_conn *c, size_t n)
{
    memmove(c->in, c->in + n, c->inlen - n);
    c->inlen -= n;
}

int cf_read_line(cf_conn *c, char **line, size_t max, double timeout)
{
    double deadline = now_mono() + timeout;
    *line = NULL;
    for (;;) {
        char *lf = c->inlen ? memchr(c->in, '\n', c->inlen) : NULL;
        if (lf) {
            size_t n = (size_t)(lf - c->in);
            if (n > max)
                return CF_TOOLONG;
            if (!(*line = strndup(c->in, n)))
                return CF_ERROR;
            consume(c, n + 1);
            return CF_GOT;
        }
        if (c->inlen > max)
            return CF_TOOLONG;
        int r = fill(c, deadline);
        if (r != CF_GOT)
            return r;
    }
}

int cf_wait_close(cf_conn *c, double timeout, char **rest)
{
    double deadline = now_mono() + timeout;
    int r;
    while ((r = fill(c, deadline)) == CF_GOT)
        ;
    if (rest)
        *rest = c->inlen ? strndup(c->in, c->inlen) : NULL;
    return r == CF_CLOSED ? CF_CLOSED : CF_TIMEOUT;
}

int cf_read_greeting(cf_conn *c)
{
    const char *err = NULL;
    int r = cf_read_line(c, &c->r1, AEMP_LINE_MAX, c->timeout);
    if (r != CF_GOT)
        return fail(c, r, "%s", r == CF_CLOSED ? "closed before its greeting"
                                : "no greeting line 1");
    if ((r = cf_read_line(c, &c->r2, AEMP_LINE_MAX, c->timeout)) != CF_GOT)
        return fail(c, r, "%s", r == CF_CLOSED ? "closed after greeting line 1"
                                : "no greeting line 2 (nonce)");
    if (aempi_greeting_parse(c->r1, &c->rg, &err))
        return fail(c, CF_ERROR, "greeting line 1 unparsable: %s", err);
    /* the parser also takes a data connection's; a node link is "aemp" */
    if (strcmp(c->rg.protocol, "aemp"))
        return fail(c, CF_ERROR, "greeting line 1 unparsable: %s",
                    "protocol mismatch");
    return CF_GOT;
}

/* Makes nonce (random, base64) lower than the node's (lower 1) or higher
 * (0), changing as little as it can: where the node's first has a
 * character other than the lowest ('+') or highest ('z') base64
 * character, ours takes the node's before it and that extreme there; the
 * rest stays random. Drawing until one falls right is not enough: a
 * node's nonce that starts "+A" is beaten by one draw in 300. -1 when no
 * nonce can be (the node's is all '+' or all 'z'). */
static int order_nonce(char *nonce, const char *theirs, int lower)
{
    char extreme = lower ? '+' : 'z';
    size_t n = strlen(nonce);
    for (size_t i = 0; i < n && theirs[i]; i++) {
        if (theirs[i] != extreme) {
            memcpy(nonce, theirs, i);
            nonce[i] = extreme;
            return 0;
        }
    }
    return -1;
}

/* Sends greeting lines 1 and 2 (stored as l1, l2); tls adds tls=1.0
 * and then role picks the nonce: 1 lower than the node's (we are the TLS
 * client), 0 higher, -1 any. */
static int send_greeting(cf_conn *c, const char *nodeid, const char *auths,
                         const char *framings, const char *tls, int role)
{
    char nonce[89];
    if (!c->nodeid[0]) {
        char hex[9];
        cf_random_hex(hex, 8);
        snprintf(c->nodeid, sizeof c->nodeid, "conform-%s", hex);
    }
    free(c->l1);
    free(c->l2);
    c->l1 = aempi_greeting_format(nodeid ? nodeid : c->nodeid,
                                  auths ? auths : "hmac_sha3_512",
                                  framings ? framings : "cbor,json",
                                  c->peeraddr, tls);
    int bad = aempi_nonce_line(nonce);
    if (!bad && role >= 0 && c->r2 &&
        aempi_tls_is_client(nonce, c->r2) != role)
        bad = order_nonce(nonce, c->r2, role);
    c->l2 = bad ? NULL : strdup(nonce);
    if (!c->l1 || !c->l2)
        return fail(c, -1, "%s", "out of memory");
    aemp_buf b = AEMP_BUF_INIT;
    if (aempi_buf_printf(&b, "%s\n%s\n", c->l1, c->l2)) {
        aempi_buf_free(&b);
        return -1;
    }
    int r = cf_send(c, b.p, b.len);
    aempi_buf_free(&b);
    return r;
}

int cf_send_greeting(cf_conn *c, const char *nodeid, const char *auths,
                     const char *framings)
{
    return send_greeting(c, nodeid, auths, framings, NULL, -1);
}

int cf_send_tls_greeting(cf_conn *c, const char *auths, const char *framings,
                         int client)
{
    return send_greeting(c, NULL, auths ? auths : "tls_sha3_512", framings,
                         "1.0", client ? 1 : 0);
}

int cf_starttls(cf_conn *c, void *ctx, int client)
{
    if (c->inlen)
        return fail(c, CF_ERROR, "%s", "bytes before TLS started");
    SSL *ssl = SSL_new(ctx);
    if (!ssl || !SSL_set_fd(ssl, c->fd)) {
        SSL_free(ssl);
        return fail(c, CF_ERROR, "%s", "cannot make a TLS session");
    }
    if (client)
        SSL_set_connect_state(ssl);
    else
        SSL_set_accept_state(ssl);
    /* non-blocking from here: every TLS wait is a poll() with a deadline */
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    c->tls = ssl;
    double deadline = now_mono() + c->timeout;
    for (;;) {
        int r = SSL_do_handshake(ssl);
        if (r == 1)
            return CF_GOT;
        int e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            int w = tls_wait(c, e, deadline);
            if (w > 0)
                continue;
            return fail(c, w ? CF_ERROR : CF_TIMEOUT, "%s",
                        "the TLS handshake timed out");
        }
        tls_error(c, client ? "TLS handshake as client"
                            : "TLS handshake as server", e);
        c->eof = 1;
        return CF_CLOSED;
    }
}

int cf_split_auth(const char *line, char *method, size_t mn, char *value,
                  size_t vn, char *fram, size_t fn)
{
    const char *a = strchr(line, ';');
    const char *b = a ? strchr(a + 1, ';') : NULL;
    if (!b)
        return -1;
    snprintf(method, mn, "%.*s", (int)(a - line), line);
    snprintf(value, vn, "%.*s", (int)(b - a - 1), a + 1);
    snprintf(fram, fn, "%s", b + 1);
    return 0;
}

/* What the kit holds of a node's output, whatever the node sends: no
 * check needs a frame past 16 MiB or more than 10,000 frames unread, so a
 * node that floods fails its check instead of filling the kit's memory. */
#define CF_MAX_FRAME ((size_t)16 << 20)
#define CF_MAX_PENDING 10000

static int on_frame(aemp_val *frame, void *ud)
{
    cf_conn *c = ud;
    if (aemp_array_len(c->frames) >= CF_MAX_PENDING) {
        aemp_unref(frame);
        return AEMP_ELIMIT;
    }
    return aemp_array_push(c->frames, frame) ? AEMP_ENOMEM : 0;
}

/* Hands the bytes read to the frame reader. 0, or -1 with err set. */
static int feed_reader(cf_conn *c)
{
    int r = c->reader_json
                ? aempi_json_reader_feed(c->reader, c->in, c->inlen)
                : aempi_cbor_reader_feed(c->reader, c->in, c->inlen);
    c->inlen = 0;
    if (r == AEMP_ELIMIT)
        return fail(c, -1, "%s", "the node sent more than the kit holds (a "
                                 "frame past 16 MiB, or 10000 frames unread)");
    if (r)
        return fail(c, -1, "%s", "undecodable data from the node");
    return 0;
}

/* The data phase: frames the node sends are read in fram. */
static int start_data(cf_conn *c, const char *fram)
{
    free_reader(c);
    snprintf(c->rfram, sizeof c->rfram, "%s", fram);
    if (!strcmp(fram, "json")) {
        c->reader = aempi_json_reader_new(on_frame, c);
        c->reader_json = 1;
    } else if (!strcmp(fram, "cbor")) {
        c->reader = aempi_cbor_reader_new(on_frame, c);
        c->reader_json = 0;
    } else {
        return fail(c, -1, "the node chose framing '%s', which the kit "
                           "cannot read", fram);
    }
    if (!c->reader)
        return -1;
    if (c->reader_json)
        aempi_json_reader_set_limit(c->reader, CF_MAX_FRAME);
    else
        aempi_cbor_reader_set_limit(c->reader, CF_MAX_FRAME);
    /* bytes already read behind the auth line are frames */
    if (c->inlen) {
        if (feed_reader(c))
            return -1;
    }
    return 0;
}

int cf_handshake(cf_conn *c, const cf_peer *p)
{
    if (cf_connect(c, p->host, p->port, p->timeout))
        return -1;
    return cf_handshake_on(c, p);
}

int cf_handshake_on(cf_conn *c, const cf_peer *p)
{
    char method[32], value[200], fram[32];
    const char *m = p->method ? p->method
                    : p->tls_ctx ? "tls_sha3_512" : "hmac_sha3_512";
    char auth[1024];

    if (p->nodeid)
        snprintf(c->nodeid, sizeof c->nodeid, "%s", p->nodeid);
    if (p->tls_ctx) {
        /* the node's nonce first: ours is picked against it */
        if (cf_read_greeting(c) != CF_GOT ||
            cf_send_tls_greeting(c, NULL, p->offer, p->tls_client))
            return -1;
        if (!aempi_tls_wanted(c->rg.tls))
            return fail(c, -1, "%s", "the node's greeting has no tls=1.0");
        if (cf_starttls(c, p->tls_ctx, p->tls_client) != CF_GOT)
            return -1;
    } else if (cf_send_greeting(c, NULL, NULL, p->offer) ||
               cf_read_greeting(c) != CF_GOT) {
        return -1;
    }
    const char *sf = p->send_framing;
    if (!sf) {
        if (aempi_pick_common(c->rg.framings, "cbor,json", 0, c->sfram,
                              sizeof c->sfram))
            return fail(c, -1, "no framing of ours in the node's list '%s'",
                        c->rg.framings);
    } else {
        snprintf(c->sfram, sizeof c->sfram, "%s", sf);
    }
    size_t slen = p->secret ? strlen(p->secret) : 0;
    if (aempi_auth_value(m, p->secret, slen, c->l1, c->l2,
                         c->r1, c->r2, auth, sizeof auth))
        return fail(c, -1, "cannot compute auth method %s", m);
    aemp_buf b = AEMP_BUF_INIT;
    if (aempi_buf_printf(&b, "%s;%s;%s\n", m, auth, c->sfram) ||
        cf_send(c, b.p, b.len)) {
        aempi_buf_free(&b);
        return -1;
    }
    aempi_buf_free(&b);
    int r = cf_read_line(c, &c->rauth, AEMP_LINE_MAX, c->timeout);
    if (r != CF_GOT)
        return fail(c, -1, "%s", r == CF_CLOSED
                    ? "the node closed instead of sending its auth line"
                    : "no auth line from the node");
    if (cf_split_auth(c->rauth, method, sizeof method, value, sizeof value,
                      fram, sizeof fram))
        return fail(c, -1, "unparsable auth line '%s'", c->rauth);
    /* Transport.pm: tls_* never matches on a link without TLS */
    if (!p->tls_ctx && !strncmp(method, "tls_", 4))
        return fail(c, -1, "the node sent '%s' on a link without TLS", method);
    char want[1024];
    if (aempi_auth_value(method, p->secret, slen, c->r1, c->r2,
                         c->l1, c->l2, want, sizeof want))
        return fail(c, -1, "the node sent auth method '%s'", method);
    if (!aempi_auth_equal(want, value))
        return fail(c, -1, "%s", "the node's auth value is wrong");
    return start_data(c, fram);
}

char *cf_encode(const char *fram, aemp_val *msg, size_t *len)
{
    aemp_buf b = AEMP_BUF_INIT;
    int r = !strcmp(fram, "json") ? aempi_json_write(&b, msg, 0)
                                  : aempi_cbor_write(&b, msg);
    aemp_unref(msg);
    if (r) {
        aempi_buf_free(&b);
        return NULL;
    }
    return aempi_buf_detach(&b, len);
}

int cf_send_msg(cf_conn *c, aemp_val *msg)
{
    size_t len;
    char *p = cf_encode(c->sfram, msg, &len);
    if (!p)
        return fail(c, -1, "%s", "cannot encode a message");
    int r = cf_send(c, p, len);
    free(p);
    return r;
}

static int str_at(const aemp_val *a, size_t i, const char *s)
{
    return aemp_type_of(a) == AEMP_ARRAY && aemp_array_len(a) > i &&
           aemp_str_eq(aemp_array_at(a, i), s);
}

int cf_recv_match(cf_conn *c, const char *first, const char *second,
                  double timeout, aemp_val **msg, char **skipped)
{
    double deadline = now_mono() + timeout;
    *msg = NULL;
    for (;;) {
        while (aemp_array_len(c->frames)) {
            aemp_val *f = aemp_array_take(c->frames, 0);
            if ((!first || str_at(f, 0, first)) &&
                (!second || str_at(f, 1, second))) {
                *msg = f;
                return CF_GOT;
            }
            /* the node's own node-port traffic (keepalives, the global
             * protocol) is not an answer; a kil0 or a message to one of
             * our ports is */
            int own = str_at(f, 0, "") && !str_at(f, 1, "kil0");
            if (skipped && !*skipped && !own)
                *skipped = aemp_to_json(f, NULL);
            aemp_unref(f);
        }
        if (!c->reader)
            return CF_ERROR;
        int r = fill(c, deadline);
        if (r != CF_GOT)
            return r;
        if (feed_reader(c))
            return CF_ERROR;
    }
}
