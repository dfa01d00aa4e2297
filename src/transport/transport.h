/* libaemp internal: links to other nodes (AnyEvent::MP::Transport): the
 * greeting, authentication and the data phase over a bufferevent.
 *
 * The transport knows nothing of what uses it. Its user (the kernel)
 * makes a host: the settings links need, filled from its configuration,
 * and hooks through which links report their progress (greeted, up,
 * error, frame) and through which the host says when deferred work may
 * run. The host also holds what the links of one node share: the list of
 * links, the links with frames to write, the read buffer, busy polling. */
#ifndef AEMP_TRANSPORT_H
#define AEMP_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/util.h>

#include "aemp/value.h"
#include "buf.h"
#include "log.h"

struct bufferevent;
struct event;
struct event_base;
struct sockaddr;
struct ssl_ctx_st;

typedef struct aemp_link aemp_link;

enum aemp_link_state {
    LINK_GREETING, /* waiting for the remote greeting line 1 */
    LINK_NONCE,    /* waiting for line 2 */
    LINK_AUTH,     /* waiting for the auth line */
    LINK_DATA,     /* authenticated: frames */
    LINK_DEAD,     /* closed, to be freed */
};

#define LOG_TRANSPORT "AnyEvent::MP::Transport"

/* Why a link or a queue was given up (transport_error's message). */
#define AEMP_SEND_CAP_FMT "send queue exceeds max_send_queue (%zu bytes)"

/* max_frame when the configuration does not say (docs/config.md) */
#define AEMP_MAX_FRAME_DEFAULT ((size_t)64 << 20)

/* What links need from the configuration. The host owns the strings and
 * tls_ctx (freed by aempi_link_host_clear); the user fills them before the
 * first link. */
typedef struct aemp_link_settings {
    char *nodeid;             /* ours, for the greeting */
    char *secret;             /* NULL: none */
    size_t secret_len;
    char *auth_offer;         /* comma lists */
    char *auth_accept;
    char *framings;           /* what we can receive, in config order */
    struct ssl_ctx_st *tls_ctx; /* from the `cert` setting, or NULL */
    double monitor_timeout;   /* seconds: the handshake, stalled writes */
    size_t max_send_queue;    /* bytes a link may hold unsent */
    size_t max_frame;         /* the most one incoming frame may decode
                                 to, 0: no limit (docs/config.md) */
    int tcp_delay;            /* 1: leave TCP_NODELAY off (nodelay => 0);
                                 0, Perl's default: set it */
} aemp_link_settings;

/* What links tell their user; ud is the host's. A hook may close links,
 * the one it is told about too; none may free the host. */
typedef struct aemp_link_hooks {
    /* The remote greeting named node rnode. Non-zero refuses the link,
     * with *why as the reason (good until the hook is called again). */
    int (*greeted)(void *ud, aemp_link *link, const char *rnode,
                   const char **why);
    /* Authenticated: frames flow from now on. */
    void (*up)(void *ud, aemp_link *link);
    /* The link closed (aempi_link_close) with msg; its memory goes when
     * the current callback returns. */
    void (*error)(void *ud, aemp_link *link, const char *msg);
    /* A frame arrived; the hook takes it. */
    void (*frame)(void *ud, aemp_link *link, aemp_val *frame);
    /* The outermost of the host's event callbacks (aempi_link_host_enter)
     * is returning: what they found may run now. */
    void (*io_done)(void *ud);
    /* Inside the outermost of them, after a read decoded frames: what
     * they queued may run now, before the other sockets are read. */
    void (*io_deliver)(void *ud);
    /* A data connection (aemp-dataconn, docs/dataconn.md) finished the
     * handshake: an accepted one whose greeting named dataconn_id id, or
     * one of aempi_link_connect_dataconn. The hook takes the socket with
     * aempi_link_take, or leaves the link to be closed. Such links never
     * see greeted, up or frame. NULL: every data connection is closed. */
    void (*dataconn)(void *ud, aemp_link *link, const char *id);
} aemp_link_hooks;

/* What the links of a host counted (docs/metrics.md): plain increments
 * where frames are read and written. Index: the link's framing, 0 json,
 * 1 cbor. Bytes are those of the data phase (frames), not the handshake. */
typedef struct aemp_link_counters {
    uint64_t msgs_in[2], bytes_in[2];
    uint64_t msgs_out[2], bytes_out[2];
    uint64_t links_up; /* node links that reached the data phase */
} aemp_link_counters;

typedef struct aemp_link_host {
    struct event_base *base;
    aemp_link_settings set;
    const aemp_link_hooks *hooks;
    void *ud;                 /* the hooks' */
    const aemp_logger *log;   /* the user's: links log through it */
    size_t owner_size;        /* bytes each link keeps for its user
                                 (aempi_link_owner_data) */

    /* the transport's own */
    aemp_link *links;         /* every link, live or dead */
    struct event *reap_ev;    /* frees dead links outside their callbacks */
    aemp_link *dirty_links;   /* links with frames to write (transport_io) */
    struct event *flush_ev;   /* writes them, after this turn's jobs */
    char *rbuf;               /* what a link read, before its frame reader */
    unsigned busy_poll_us;    /* aempi_link_host_busy_poll, 0: off */
    struct timespec busy_until; /* the loop polls until then */
    struct event *busy_ev;    /* a zero timeout while polling */
    size_t unflushed_in;      /* bytes read since the last flush
                                 (aempi_link_host_deliver) */
    int io_depth;             /* aempi_link_host_enter: inside the host's
                                 (or its user's) event callbacks, or a write
                                 that may run them */
    int delivering;           /* in aempi_link_host_deliver's jobs, whose
                                 output it writes right after them */
    struct aemp_val_pool *pool; /* the user's, for the frame readers'
                                   arrays (value_int.h), or NULL; it
                                   outlives the host */
    aemp_link_counters count; /* read by the user, written by the links */
} aemp_link_host;

/* Sets up h on base with its defaults (monitor_timeout 30 s,
 * max_send_queue 64 MiB, max_frame AEMP_MAX_FRAME_DEFAULT); hooks, ud
 * and log are borrowed and must outlive h. Each link keeps owner_size
 * zeroed bytes for its user. 0, or -1 when out of memory (clear h then). */
int aempi_link_host_init(aemp_link_host *h, struct event_base *base,
                         const aemp_link_hooks *hooks, void *ud,
                         const aemp_logger *log, size_t owner_size);
/* Frees every link (no hook runs), the settings and the events. */
void aempi_link_host_clear(aemp_link_host *h);

/* Bytes the host's links hold, not yet written to their sockets. */
size_t aempi_link_host_unsent(const aemp_link_host *h);

/* Around an event callback of the host, or of its user, that may find a
 * link failure: when the outermost returns, hooks->io_done runs. A
 * callback inside another, or inside a write from the program's own call
 * (TLS filters call back at once), leaves that to the outermost one. */
void aempi_link_host_enter(aemp_link_host *h);
void aempi_link_host_leave(aemp_link_host *h);
/* Inside the outermost callback: hooks->io_deliver; then what it sent
 * goes out at once if it went to one link (a reply) or once
 * AEMP_FLUSH_AFTER_IN bytes came in since the last flush, else at the end
 * of the loop turn (a fan-out, batched over the turn's reads). */
#define AEMP_FLUSH_AFTER_IN ((size_t)16 * 1024)
void aempi_link_host_deliver(aemp_link_host *h);

/* For usec (0: off) after each read the event loop polls rather than
 * sleeps, so that the peer's next write finds this process awake and
 * need not wake it (transport_io.c). */
void aempi_link_host_busy_poll(aemp_link_host *h, unsigned usec);

/* Starts connecting to host:port; the greeting goes out at once. */
aemp_link *aempi_link_connect(aemp_link_host *h, const char *host,
                              const char *port);

/* Starts a data connection (aemp-dataconn) to host:port for dataconn
 * id: the handshake of a link, then hooks->dataconn. */
aemp_link *aempi_link_connect_dataconn(aemp_link_host *h, const char *host,
                                       const char *port, const char *id);

/* Inside hooks->dataconn: the connection's bufferevent (a TLS filter when
 * TLS was negotiated) with no callbacks or timeouts, what the peer sent
 * after its auth line still in its input. The caller owns it from now
 * on; the link is gone (no error hook) when the current callback
 * returns. NULL for any other link. */
struct bufferevent *aempi_link_take(aemp_link *link);

/* The data connection's id, or NULL for a node link (so far: an accepted
 * link learns it from the greeting). */
const char *aempi_link_dataconn_id(const aemp_link *link);

/* The provider= of the peer's greeting (e.g. "AE-2.02" from a Perl
 * node), or NULL before the greeting or when it named none. Owned by the
 * link: good while it lives. */
const char *aempi_link_provider(const aemp_link *link);

/* Takes an accepted socket. */
aemp_link *aempi_link_accept(aemp_link_host *h, evutil_socket_t fd,
                             const struct sockaddr *sa, int salen);

/* The send functions return AEMP_OK, AEMP_ESTATE (not in the data phase),
 * AEMP_ENOMEM, or AEMP_EINVAL when the message nests deeper than the
 * encoders take (512 levels with the frame, as Perl's): nothing of it is
 * sent then. */

/* Sends one message (an array) in the link's framing. Only in LINK_DATA. */
int aempi_link_send(aemp_link *link, const aemp_val *msg);

/* Sends [portid, msg...] without building that array: the hot path. */
int aempi_link_send_to(aemp_link *link, const char *portid,
                       const aemp_val *msg);
/* The same for a message held as its n items (aemp_sndv's, on its
 * stack), not an array. */
int aempi_link_send_items(aemp_link *link, const char *portid,
                          aemp_val *const *items, size_t n);

/* One message to several links: each framing is encoded once, on first
 * use, and the bytes copied to every link that uses it. The cache is only
 * good for one (portid, msg) pair, unchanged, and starts zeroed. */
typedef struct aemp_frame_cache {
    aemp_buf enc[2]; /* json, cbor: empty until encoded */
} aemp_frame_cache;

int aempi_link_send_cached(aemp_link *link, aemp_frame_cache *cache,
                           const char *portid, const aemp_val *msg);
void aempi_frame_cache_free(aemp_frame_cache *cache);

/* Closes the link with a reason; the user hears hooks->error. Only
 * aempi_link_error() inside the transport logs. The memory goes when the
 * current callback returns. */
void aempi_link_close(aemp_link *link, const char *reason);

/* Calls fn for each node link in the data phase (not data connections):
 * its remote node id, framing ("cbor" or "json") and the bytes sent on it
 * that the socket has not taken yet. fn must not close links. */
typedef void (*aemp_link_visit_fn)(void *ud, const char *remote_id,
                                   const char *framing, size_t unsent);
void aempi_link_host_each_up(aemp_link_host *h, aemp_link_visit_fn fn,
                             void *ud);

/* Accessors for the user. */
const char *aempi_link_remote_id(const aemp_link *link); /* NULL before
                                                          greeting */
/* The framing the link writes, "cbor" or "json"; NULL before the data
 * phase. */
const char *aempi_link_framing(const aemp_link *link);
/* The host's owner_size bytes of the link, for its user: zeroed when the
 * link is made, gone with it. */
void *aempi_link_owner_data(aemp_link *link);

#endif
