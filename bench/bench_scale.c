/* aemp-bench scale: thousands of client nodes against one seed, each as
 * cheap as a node can be, so that the seed is what limits the figures.
 *
 * A client here is not an aemp_node: it speaks the protocol itself over
 * its own socket, just enough of it to be a proper node to the seed (its
 * greeting, hmac_sha3_512 authentication, cbor frames, the global
 * protocol's g_slave, g_upd and g_mon1). It sends frames it encodes with a
 * few lines of CBOR and reads only the heads of what comes back: no
 * values, no database, no monitors of its own. What the seed does for it
 * is what it does for any node (AnyEvent::MP's or libaemp's). Its node id
 * is PREFIX-INDEX and it has no listener (binds [], an empty 'l entry:
 * nobody can connect to it, which AnyEvent::MP allows); it links to the
 * seed only. At most "inflight" handshakes run at once, so that the
 * seed's listen backlog never overflows.
 *
 * Phases, each started by a line on stdin from the harness (bench/run),
 * so that it can read the seed's memory and CPU time in between:
 *
 *   (start)  every client connects; its g_slave carries its 'l entry and
 *            one key in family "scale" (and the victim, the last client,
 *            one in "watch"). The first "observers" clients db_mon
 *            (g_mon1) "scale", "scalek" and "bench". ["joined", {seconds}]
 *            once every observer has seen all "nodes" keys of "scale",
 *            from the first connect. ["status", {...}] every second.
 *   keys     every client sets "keys" keys in "scalek" (one g_upd);
 *            ["keyed", {seconds}] once the observers have seen them all.
 *   churn    "writers" clients, spread over all of them, alternately set
 *            and delete their key in "bench" (g_upd); every op makes the
 *            seed send one g_chg2 to each observer. Writers issue ops
 *            while fewer than "window" are unseen by the slowest observer.
 *            ["mark", "warm"] after "warmup" s, ["result", {...}]
 *            "duration" s later.
 *   down     every client but the victim db_mons "watch"; once each has
 *            the victim's key (g_chg1), ["watching"], and the victim's
 *            link closes. The seed clears its entries and sends each
 *            monitor a g_chg2 deleting the key: that is how an
 *            AnyEvent::MP 2.02 node learns that a node it does not link
 *            to went away (there is no other notice). ["down", {seconds}]
 *            once all of them have it, from the close.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

typedef struct scale scale;

enum { C_IDLE, C_CONNECTING, C_GREETING, C_NONCE, C_AUTH, C_DATA, C_DEAD };

typedef struct client {
    scale *sc;
    int idx;
    int fd;
    int state;
    struct event *ev;
    char *in; /* what was read and not yet consumed */
    size_t inlen, incap;
    char *out; /* what the socket did not take */
    size_t outlen, outcap;
    char *lines; /* handshake: "lg1\nlg2\n" then the remote lines */
    int dirty;
    struct client *dirty_next;
    int64_t scale_keys, k_keys, bench_chg;
    int bench_ready, watching, learned, key_set;
} client;

struct scale {
    struct event_base *base;
    const char *prefix, *secret, *host, *port;
    char peeraddr[80];
    struct sockaddr_in sa;
    int n, observers, inflight, keys, writers;
    int64_t window, issued;
    double warmup, duration;
    client *c;
    int next, pending, data;
    int phase; /* 0 join, 1 joined, 2 keys, 3 churn warm, 4 churn measure,
                  5 churn done, 6 down: watching, 7 down: closed, 8 done */
    double t0, t_phase, t_warm, t_close;
    int64_t warm_done;
    int next_writer, learned;
    client *dirty;
    struct event *tick, *flush;
    EVP_MAC *mac;
    uint64_t rnd;
};

static scale S;

/* ---- CBOR: what we send ------------------------------------------------ */

typedef struct wbuf {
    unsigned char b[512];
    size_t n;
} wbuf;

static void cb_head(wbuf *w, int major, uint64_t v)
{
    unsigned char m = (unsigned char)(major << 5);
    if (v < 24)
        w->b[w->n++] = m | (unsigned char)v;
    else if (v < 256) {
        w->b[w->n++] = m | 24;
        w->b[w->n++] = (unsigned char)v;
    } else {
        w->b[w->n++] = m | 25;
        w->b[w->n++] = (unsigned char)(v >> 8);
        w->b[w->n++] = (unsigned char)v;
    }
}

static void cb_str(wbuf *w, const char *s)
{
    size_t len = strlen(s);
    cb_head(w, 3, len);
    memcpy(w->b + w->n, s, len);
    w->n += len;
}

static void key_of(const client *c, char *out, size_t n)
{
    snprintf(out, n, "%s-%d", c->sc->prefix, c->idx);
}

/* ---- CBOR: what we read, heads only ------------------------------------ */

/* The head at p: *major, *val; bytes used, 0 if incomplete, -1 if it is
 * something we do not take (indefinite lengths: neither peer sends them). */
static long rd_head(const unsigned char *p, const unsigned char *end,
                    int *major, uint64_t *val)
{
    if (p >= end)
        return 0;
    *major = p[0] >> 5;
    int ai = p[0] & 31;
    if (ai < 24) {
        *val = (uint64_t)ai;
        return 1;
    }
    int n = ai == 24 ? 1 : ai == 25 ? 2 : ai == 26 ? 4 : ai == 27 ? 8 : -1;
    if (n < 0)
        return -1;
    if (end - p < 1 + n)
        return 0;
    uint64_t v = 0;
    for (int i = 1; i <= n; i++)
        v = v << 8 | p[i];
    *val = v;
    return 1 + n;
}

/* Skips one item: bytes, 0 if incomplete, -1 if malformed. */
static long rd_skip(const unsigned char *p, const unsigned char *end,
                    int depth)
{
    int major;
    uint64_t v;
    long h = rd_head(p, end, &major, &v);
    if (h <= 0 || depth > 64)
        return h ? -1 : 0;
    const unsigned char *q = p + h;
    switch (major) {
    case 2:
    case 3:
        if ((uint64_t)(end - q) < v)
            return 0;
        return (long)(h + (long)v);
    case 4:
    case 5:
        for (uint64_t i = 0; i < (major == 5 ? 2 * v : v); i++) {
            long s = rd_skip(q, end, depth + 1);
            if (s <= 0)
                return s;
            q += s;
        }
        return (long)(q - p);
    case 6:
    {
        long s = rd_skip(q, end, depth + 1);
        return s <= 0 ? s : (long)(q - p) + s;
    }
    default:
        return h;
    }
}

/* A string item: its bytes at *s, *len; bytes used as rd_skip. */
static long rd_str(const unsigned char *p, const unsigned char *end,
                   const unsigned char **s, size_t *len)
{
    int major;
    uint64_t v;
    long h = rd_head(p, end, &major, &v);
    if (h <= 0)
        return h;
    if (major != 2 && major != 3) {
        *s = NULL;
        return rd_skip(p, end, 0);
    }
    if ((uint64_t)(end - p - h) < v)
        return 0;
    *s = p + h;
    *len = (size_t)v;
    return h + (long)v;
}

static int str_is(const unsigned char *s, size_t len, const char *want)
{
    return s && len == strlen(want) && !memcmp(s, want, len);
}

/* ---- sockets ----------------------------------------------------------- */

static void flush_later(client *c)
{
    if (c->dirty)
        return;
    c->dirty = 1;
    c->dirty_next = S.dirty;
    S.dirty = c;
    event_active(S.flush, 0, 0);
}

static void out_add(client *c, const void *p, size_t n)
{
    if (c->state == C_DEAD)
        return;
    if (c->outlen + n > c->outcap) {
        size_t cap = c->outcap ? c->outcap : 256;
        while (cap < c->outlen + n)
            cap *= 2;
        char *o = realloc(c->out, cap);
        if (!o) {
            fprintf(stderr, "scale: out of memory\n");
            exit(1);
        }
        c->out = o;
        c->outcap = cap;
    }
    memcpy(c->out + c->outlen, p, n);
    c->outlen += n;
    flush_later(c);
}

static void client_fail(client *c, const char *why)
{
    if (c->state == C_DEAD)
        return;
    fprintf(stderr, "scale: client %d: %s\n", c->idx, why);
    c->state = C_DEAD;
    if (c->ev)
        event_del(c->ev);
    close(c->fd);
}

static void on_io(evutil_socket_t fd, short what, void *ud);

static void client_write(client *c)
{
    size_t off = 0;
    while (off < c->outlen) {
        ssize_t w = send(c->fd, c->out + off, c->outlen - off, MSG_NOSIGNAL);
        if (w > 0)
            off += (size_t)w;
        else if (w < 0 && errno == EINTR)
            continue;
        else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        else {
            client_fail(c, strerror(errno));
            return;
        }
    }
    memmove(c->out, c->out + off, c->outlen - off);
    c->outlen -= off;
    short want = EV_READ | EV_PERSIST | (c->outlen ? EV_WRITE : 0);
    if (event_get_events(c->ev) != want) {
        event_del(c->ev);
        event_assign(c->ev, S.base, c->fd, want, on_io, c);
        event_add(c->ev, NULL);
    }
    if (!c->outlen && c->outcap > 4096) {
        free(c->out);
        c->out = NULL;
        c->outcap = 0;
    }
}

static void on_flush(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    (void)ud;
    while (S.dirty) {
        client *c = S.dirty;
        S.dirty = c->dirty_next;
        c->dirty = 0;
        if (c->state != C_DEAD && c->state != C_CONNECTING)
            client_write(c);
    }
}

/* ---- the handshake ----------------------------------------------------- */

static uint64_t rnd64(void)
{
    /* xorshift: nonces only need to differ, the peer authenticates us */
    S.rnd ^= S.rnd << 13;
    S.rnd ^= S.rnd >> 7;
    S.rnd ^= S.rnd << 17;
    return S.rnd;
}

static void send_greeting(client *c)
{
    char id[64], g[512];
    key_of(c, id, sizeof id);
    unsigned char nonce[66];
    for (size_t i = 0; i < sizeof nonce; i++)
        nonce[i] = (unsigned char)(rnd64() >> 24);
    char b64[96];
    EVP_EncodeBlock((unsigned char *)b64, nonce, sizeof nonce);
    int n = snprintf(g, sizeof g,
                     "aemp;1;%s;hmac_sha3_512;cbor;provider=aemp-bench-scale;"
                     "peeraddr=%s;mproto=1;gproto=1\n%s\n",
                     id, S.peeraddr, b64);
    c->lines = strdup(g);
    out_add(c, g, (size_t)n);
    c->state = C_GREETING;
}

static void send_frame(client *c, const wbuf *w)
{
    out_add(c, w->b, w->n);
}

static void send_mon1(client *c, const char *family)
{
    wbuf w = {.n = 0};
    cb_head(&w, 4, 3);
    cb_str(&w, "");
    cb_str(&w, "g_mon1");
    cb_str(&w, family);
    send_frame(c, &w);
}

static void client_up(client *c)
{
    char id[64];
    key_of(c, id, sizeof id);
    S.pending--;
    S.data++;
    free(c->lines);
    c->lines = NULL;
    /* the seed greeted us: "start your global service", then (the seed is
     * up, our master) our database */
    wbuf w = {.n = 0};
    cb_head(&w, 4, 2);
    cb_str(&w, "");
    cb_str(&w, "g_slave");
    send_frame(c, &w);
    w.n = 0;
    int victim = c->idx == S.n - 1;
    cb_head(&w, 4, 3);
    cb_str(&w, "");
    cb_str(&w, "g_slave");
    cb_head(&w, 5, victim ? 3 : 2);
    cb_str(&w, "'l");
    cb_head(&w, 5, 1);
    cb_str(&w, id);
    cb_head(&w, 4, 0);
    cb_str(&w, "scale");
    cb_head(&w, 5, 1);
    cb_str(&w, id);
    cb_head(&w, 0, 1);
    if (victim) {
        cb_str(&w, "watch");
        cb_head(&w, 5, 1);
        cb_str(&w, id);
        cb_head(&w, 0, 1);
    }
    send_frame(c, &w);
    if (c->idx < S.observers) {
        send_mon1(c, "scale");
        send_mon1(c, "scalek");
        send_mon1(c, "bench");
    }
}

static int auth_line(client *c, char *out, size_t n)
{
    char id[64];
    key_of(c, id, sizeof id);
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(S.mac);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                         (char *)"SHA3-512", 0),
        OSSL_PARAM_construct_end(),
    };
    unsigned char mac[64];
    size_t maclen = 0;
    int ok = ctx &&
             EVP_MAC_init(ctx, (const unsigned char *)S.secret,
                          strlen(S.secret), params) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)c->lines,
                            strlen(c->lines)) == 1 &&
             EVP_MAC_final(ctx, mac, &maclen, sizeof mac) == 1;
    EVP_MAC_CTX_free(ctx);
    if (!ok || maclen != 64)
        return -1;
    static const char hex[] = "0123456789abcdef";
    size_t k = (size_t)snprintf(out, n, "hmac_sha3_512;");
    for (size_t i = 0; i < 64; i++) {
        out[k++] = hex[mac[i] >> 4];
        out[k++] = hex[mac[i] & 15];
    }
    k += (size_t)snprintf(out + k, n - k, ";cbor\n");
    return (int)k;
}

/* One handshake line (without its LF). */
static void on_line(client *c, char *line)
{
    size_t len = strlen(line);
    if (len && line[len - 1] == '\r')
        line[--len] = 0;
    if (c->state == C_GREETING || c->state == C_NONCE) {
        if (c->state == C_GREETING && strncmp(line, "aemp;1;", 7)) {
            client_fail(c, "bad greeting");
            return;
        }
        size_t have = strlen(c->lines);
        char *l = realloc(c->lines, have + len + 2);
        if (!l)
            exit(1);
        memcpy(l + have, line, len);
        l[have + len] = '\n';
        l[have + len + 1] = 0;
        c->lines = l;
        if (c->state == C_GREETING) {
            c->state = C_NONCE;
            return;
        }
        char a[256];
        int n = auth_line(c, a, sizeof a);
        if (n < 0) {
            client_fail(c, "hmac failed");
            return;
        }
        out_add(c, a, (size_t)n);
        c->state = C_AUTH;
        return;
    }
    /* the seed's auth line: it checked ours, it is up; its own we take
     * on trust (a benchmark, not a node anyone relies on) */
    if (strncmp(line, "hmac_sha3_512;", 14)) {
        client_fail(c, "authentication refused");
        return;
    }
    c->state = C_DATA;
    client_up(c);
}

/* ---- what the seed sends ----------------------------------------------- */

static void frame(client *c, const unsigned char *p, const unsigned char *end)
{
    int major;
    uint64_t n;
    long h = rd_head(p, end, &major, &n);
    if (h <= 0 || major != 4 || n < 3)
        return; /* g_global and such: nothing to count */
    p += h;
    const unsigned char *s;
    size_t len;
    p += rd_str(p, end, &s, &len); /* the port: "" */
    long k = rd_str(p, end, &s, &len);
    p += k;
    int chg1 = str_is(s, len, "g_chg1");
    if (!chg1 && !str_is(s, len, "g_chg2"))
        return;
    const unsigned char *fam;
    size_t flen;
    p += rd_str(p, end, &fam, &flen);
    uint64_t set = 0, del = 0;
    if (p < end) {
        h = rd_head(p, end, &major, &set);
        if (major != 5)
            set = 0;
        p += rd_skip(p, end, 0);
    }
    if (!chg1 && p < end) {
        rd_head(p, end, &major, &del);
        if (major != 4)
            del = 0;
    }
    if (str_is(fam, flen, "scale"))
        c->scale_keys += (int64_t)set;
    else if (str_is(fam, flen, "scalek"))
        c->k_keys += (int64_t)set;
    else if (str_is(fam, flen, "bench")) {
        if (chg1)
            c->bench_ready = 1;
        else
            c->bench_chg++;
    } else if (str_is(fam, flen, "watch")) {
        if (chg1 && set)
            c->watching = 1;
        else if (!chg1 && del && !c->learned) {
            c->learned = 1;
            S.learned++;
        }
    }
}

static void pump(void);

static void on_data(client *c)
{
    const unsigned char *p = (unsigned char *)c->in,
                        *end = (unsigned char *)c->in + c->inlen;
    while (p < end) {
        long n = rd_skip(p, end, 0);
        if (n < 0) {
            client_fail(c, "malformed cbor");
            return;
        }
        if (!n)
            break;
        frame(c, p, p + n);
        p += n;
    }
    size_t used = (size_t)(p - (unsigned char *)c->in);
    memmove(c->in, c->in + used, c->inlen - used);
    c->inlen -= used;
    if (c->idx < S.observers)
        pump();
}

static void client_read(client *c)
{
    for (;;) {
        if (c->incap - c->inlen < 4096) {
            size_t cap = c->incap ? c->incap * 2 : 8192;
            char *in = realloc(c->in, cap);
            if (!in)
                exit(1);
            c->in = in;
            c->incap = cap;
        }
        ssize_t r = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
        if (r == 0) {
            client_fail(c, "the seed closed the link");
            return;
        }
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                client_fail(c, strerror(errno));
            break;
        }
        c->inlen += (size_t)r;
        if ((size_t)r < c->incap - c->inlen + (size_t)r)
            break;
    }
    while (c->state >= C_GREETING && c->state <= C_AUTH) {
        char *nl = memchr(c->in, '\n', c->inlen);
        if (!nl)
            break;
        *nl = 0;
        size_t used = (size_t)(nl - c->in) + 1;
        on_line(c, c->in);
        if (c->state == C_DEAD)
            return;
        memmove(c->in, c->in + used, c->inlen - used);
        c->inlen -= used;
    }
    if (c->state == C_DATA && c->inlen)
        on_data(c);
    /* an idle link keeps no buffer */
    if (!c->inlen && c->incap > 8192) {
        free(c->in);
        c->in = NULL;
        c->incap = 0;
    }
}

static void on_io(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    client *c = ud;
    if (c->state == C_CONNECTING) {
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            client_fail(c, strerror(err));
            return;
        }
        event_del(c->ev);
        event_assign(c->ev, S.base, c->fd, EV_READ | EV_PERSIST, on_io, c);
        event_add(c->ev, NULL);
        send_greeting(c);
        return;
    }
    if (what & EV_WRITE)
        client_write(c);
    if ((what & EV_READ) && c->state != C_DEAD)
        client_read(c);
}

static void client_start(client *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0) {
        fprintf(stderr, "scale: socket: %s\n", strerror(errno));
        exit(1);
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->state = C_CONNECTING;
    S.pending++;
    c->ev = event_new(S.base, c->fd, EV_WRITE, on_io, c);
    if (connect(c->fd, (struct sockaddr *)&S.sa, sizeof S.sa) &&
        errno != EINPROGRESS) {
        client_fail(c, strerror(errno));
        return;
    }
    event_add(c->ev, NULL);
}

/* ---- the phases -------------------------------------------------------- */

static int64_t obs_min(int what)
{
    int64_t min = INT64_MAX;
    for (int i = 0; i < S.observers; i++) {
        const client *c = &S.c[i];
        int64_t v = what == 0 ? c->scale_keys : what == 1 ? c->k_keys
                                                          : c->bench_chg;
        if (v < min)
            min = v;
    }
    return min;
}

static void writer_op(client *c)
{
    char id[64];
    key_of(c, id, sizeof id);
    wbuf w = {.n = 0};
    if (!c->key_set) {
        cb_head(&w, 4, 4);
        cb_str(&w, "");
        cb_str(&w, "g_upd");
        cb_str(&w, "bench");
        cb_head(&w, 5, 1);
        cb_str(&w, id);
        cb_head(&w, 0, 1);
    } else {
        cb_head(&w, 4, 5);
        cb_str(&w, "");
        cb_str(&w, "g_upd");
        cb_str(&w, "bench");
        cb_head(&w, 7, 22); /* null */
        cb_head(&w, 4, 1);
        cb_str(&w, id);
    }
    c->key_set = !c->key_set;
    send_frame(c, &w);
}

static void pump(void)
{
    if (S.phase != 3 && S.phase != 4)
        return;
    int64_t done = obs_min(2);
    /* writers spread over all clients past the observers */
    int span = S.n - S.observers - 1; /* not the victim */
    while (S.issued - done < S.window) {
        int i = S.observers + (int)((int64_t)S.next_writer * span / S.writers);
        writer_op(&S.c[i]);
        S.next_writer = (S.next_writer + 1) % S.writers;
        S.issued++;
    }
}

static void emit_status(double now)
{
    aemp_val *r = aemp_map();
    aemp_map_set(r, "seconds", aemp_double(now - S.t0));
    aemp_map_set(r, "started", aemp_int(S.next));
    aemp_map_set(r, "linked", aemp_int(S.data));
    aemp_map_set(r, "registered", aemp_int(obs_min(0)));
    aemp_map_set(r, "learned", aemp_int(S.learned));
    aemp_map_set(r, "phase", aemp_int(S.phase));
    bench_emit(aemp_arrayv(aemp_str("status"), r, NULL));
}

static void emit_seconds(const char *tag, double s)
{
    aemp_val *r = aemp_map();
    aemp_map_set(r, "seconds", aemp_double(s));
    aemp_map_set(r, "nodes", aemp_int(S.n));
    bench_emit(aemp_arrayv(aemp_str(tag), r, NULL));
}

static double last_status;

static void on_tick(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    (void)ud;
    double now = bench_now();
    if (now - last_status >= 1) {
        last_status = now;
        emit_status(now);
    }
    while (S.next < S.n && S.pending < S.inflight)
        client_start(&S.c[S.next++]);
    switch (S.phase) {
    case 0:
        if (S.data == S.n && obs_min(0) >= S.n) {
            S.phase = 1;
            emit_seconds("joined", now - S.t0);
        }
        break;
    case 2:
        if (obs_min(1) >= (int64_t)S.n * S.keys) {
            S.phase = 1;
            emit_seconds("keyed", now - S.t_phase);
        }
        break;
    case 3:
        if (now - S.t_phase >= S.warmup) {
            S.phase = 4;
            S.t_warm = now;
            S.warm_done = obs_min(2);
            bench_emit(aemp_arrayv(aemp_str("mark"), aemp_str("warm"), NULL));
        }
        break;
    case 4:
        if (now - S.t_warm >= S.duration) {
            int64_t ops = obs_min(2) - S.warm_done;
            double dt = now - S.t_warm;
            S.phase = 5;
            aemp_val *r = aemp_map();
            aemp_map_set(r, "seconds", aemp_double(dt));
            aemp_map_set(r, "ops", aemp_int(ops));
            aemp_map_set(r, "ops_per_s", aemp_double((double)ops / dt));
            aemp_map_set(r, "writers", aemp_int(S.writers));
            aemp_map_set(r, "observers", aemp_int(S.observers));
            aemp_map_set(r, "window", aemp_int(S.window));
            bench_emit(aemp_arrayv(aemp_str("result"), r, NULL));
        }
        break;
    case 6:
    {
        int all = 1;
        for (int i = 0; all && i < S.n - 1; i++)
            all = S.c[i].watching || S.c[i].state == C_DEAD;
        if (!all)
            break;
        bench_emit(aemp_arrayv(aemp_str("watching"), NULL));
        client *v = &S.c[S.n - 1];
        S.t_close = bench_now();
        event_del(v->ev);
        close(v->fd); /* the node is gone: its link drops */
        v->state = C_DEAD;
        S.phase = 7;
        break;
    }
    case 7:
        if (S.learned >= S.n - 1) {
            S.phase = 8;
            emit_seconds("down", now - S.t_close);
        }
        break;
    default:
        break;
    }
}

static void on_command(const char *line)
{
    if (!strcmp(line, "keys") && S.phase == 1) {
        S.phase = 2;
        S.t_phase = bench_now();
        for (int i = 0; i < S.n; i++) {
            client *c = &S.c[i];
            char id[64], k[80];
            key_of(c, id, sizeof id);
            wbuf w = {.n = 0};
            cb_head(&w, 4, 4);
            cb_str(&w, "");
            cb_str(&w, "g_upd");
            cb_str(&w, "scalek");
            cb_head(&w, 5, (uint64_t)S.keys);
            for (int j = 0; j < S.keys; j++) {
                snprintf(k, sizeof k, "%s/%d", id, j);
                cb_str(&w, k);
                cb_head(&w, 0, 1);
            }
            send_frame(c, &w);
        }
    } else if (!strcmp(line, "churn") && S.phase == 1) {
        S.phase = 3;
        S.t_phase = bench_now();
        pump();
    } else if (!strcmp(line, "down") && (S.phase == 1 || S.phase == 5)) {
        S.phase = 6;
        for (int i = 0; i < S.n - 1; i++)
            send_mon1(&S.c[i], "watch");
    } else {
        fprintf(stderr, "scale: '%s' not now (phase %d)\n", line, S.phase);
    }
}

int bench_scale(struct event_base *base, const aemp_val *args)
{
    S.base = base;
    const aemp_val *conf = aemp_map_get(args, "conf");
    S.prefix = bench_arg_str(args, "prefix", "s");
    S.secret = aemp_str_ptr(aemp_map_get(conf, "secret"), NULL);
    const char *seed =
        aemp_str_ptr(aemp_array_at(aemp_map_get(conf, "seeds"), 0), NULL);
    S.n = (int)bench_arg_num(args, "nodes", 1000);
    S.observers = (int)bench_arg_num(args, "observers", 8);
    S.inflight = (int)bench_arg_num(args, "inflight", 100);
    S.keys = (int)bench_arg_num(args, "keys", 10);
    S.writers = (int)bench_arg_num(args, "writers", 256);
    S.window = (int64_t)bench_arg_num(args, "window", 2048);
    S.warmup = bench_arg_num(args, "warmup", 0.5);
    S.duration = bench_arg_num(args, "duration", 2);
    if (S.writers > S.n - S.observers - 1)
        S.writers = S.n - S.observers - 1;
    char host[64];
    const char *colon = seed ? strrchr(seed, ':') : NULL;
    if (!S.secret || !colon || (size_t)(colon - seed) >= sizeof host ||
        S.observers < 1 || S.writers < 1 || S.inflight < 1 || S.keys < 1 ||
        S.keys > 20) {
        fprintf(stderr, "scale: bad arguments (conf needs secret and seeds; "
                        "1 <= observers, writers < nodes; 1 <= keys <= 20)\n");
        return 1;
    }
    memcpy(host, seed, (size_t)(colon - seed));
    host[colon - seed] = 0;
    S.sa.sin_family = AF_INET;
    S.sa.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &S.sa.sin_addr) != 1) {
        fprintf(stderr, "scale: the seed must be an IPv4 address\n");
        return 1;
    }
    snprintf(S.peeraddr, sizeof S.peeraddr, "%s", seed);
    S.mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    S.rnd = (uint64_t)(bench_now() * 1e9) | 1;
    S.c = calloc((size_t)S.n, sizeof *S.c);
    if (!S.c || !S.mac)
        return 1;
    for (int i = 0; i < S.n; i++) {
        S.c[i].sc = &S;
        S.c[i].idx = i;
        S.c[i].fd = -1;
    }
    S.flush = event_new(base, -1, 0, on_flush, NULL);
    bench_on_line = on_command;
    S.t0 = bench_now();
    last_status = S.t0;
    /* the observers first: they count what the others register */
    while (S.next < S.observers)
        client_start(&S.c[S.next++]);
    S.tick = bench_every(base, 0.002, on_tick, NULL);
    bench_emit(aemp_arrayv(aemp_str("ready"), aemp_str(S.prefix), NULL));
    return 0;
}
