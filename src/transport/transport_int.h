/* libaemp internal: what transport.c and transport_io.c share about a
 * link. Nothing outside the transport looks inside. */
#ifndef AEMP_TRANSPORT_INT_H
#define AEMP_TRANSPORT_INT_H

#include <stddef.h>

#include "buf.h"
#include "transport.h"
#include "value_cbor.h"
#include "value_json.h"

struct bufferevent;
struct event;

struct aemp_link {
    aemp_link *next, *prev; /* in host->links */
    aemp_link_host *host;
    struct bufferevent *bev; /* the socket */
    struct bufferevent *io;  /* what we read and write: bev, or a TLS
                                filter on top of it */
    enum aemp_link_state state;
    int tls;                 /* TLS was negotiated */
    int untrusted;           /* the peer authenticated with tls_anon */
    char *peer;        /* host:port of the other side, as Perl formats it */
    char *lg1, *rg1;   /* greeting lines */
    char lg2[89], *rg2;
    char *remote_id;
    char *provider;    /* the peer's greeting's provider=, or NULL */
    int accepted;      /* from our listener */
    char *dataconn_id; /* a data connection (aemp-dataconn): its id */
    char s_auth[64];   /* what we send */
    char s_framing[32];
    char *reason;      /* why it closed */
    aemp_json_reader *reader;   /* the peer sends json ... */
    aemp_cbor_reader *creader;  /* ... or cbor */
    int cbor_out;               /* we send cbor */
    aemp_buf out;      /* scratch for encoding */
    /* the data phase of a plain (not TLS) link: transport_io.c */
    int direct;             /* our own reads and writes on the socket */
    aemp_buf pend;          /* frames for the socket, written at the flush */
    aemp_link *dirty_next;  /* in host->dirty_links while pend has bytes */
    int dirty;
    struct event *rd_ev;    /* readable socket */
    int over_cap;          /* unsent output passed max_send_queue */
    struct event *fail_ev; /* closes the link from the loop with fail_msg */
    char *fail_msg;
    max_align_t owner[]; /* host->owner_size bytes: aempi_link_owner_data */
};

/* Logs and closes (Perl's "HOST:PORT disconnected - MSG."). */
void aempi_link_error(aemp_link *l, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Frees the link now, without a hook (the reaper, the host's end). */
void aempi_link_free(aemp_link *l);

/* Closes the link with msg from the event loop, in this turn. */
void aempi_link_fail_soon(aemp_link *l, const char *msg);

/* Bytes sent on the link that the socket has not taken yet. */
size_t aempi_link_unsent(const aemp_link *l);

/* Feeds received bytes to the link's frame reader; 0, or -1 when the link
 * died meanwhile (a bad frame, or a callback closed it). */
int aempi_link_feed(aemp_link *l, const char *data, size_t len);

/* ---- transport_io.c: the data phase of a plain link ---- */

/* From the first frame on, a plain link reads and writes its socket
 * itself: called once the handshake's input is consumed. */
void aempi_link_io_start(aemp_link *l);
/* pend got bytes: they go out at the host's next flush. */
void aempi_link_io_dirty(aemp_link *l);
/* Before a close: pend goes to the socket's output buffer (the close
 * writes that out), reading stops, the flush forgets the link. */
void aempi_link_io_stop(aemp_link *l);
void aempi_link_io_free(aemp_link *l);
/* Writes the frames of every dirty link (what the flush event does). */
void aempi_link_io_flush_all(aemp_link_host *h);

#endif
