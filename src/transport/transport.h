/* libaemp internal: one link to another node (AnyEvent::MP::Transport):
 * the greeting, authentication and the data phase over a bufferevent.
 * The kernel (kernel_*.c) owns links and is told about their progress
 * through the kernel_link_* functions in kernel.h. */
#ifndef AEMP_TRANSPORT_H
#define AEMP_TRANSPORT_H

#include <event2/util.h>

#include "aemp/value.h"
#include "buf.h"

struct aemp_node;
struct sockaddr;

typedef struct aemp_link aemp_link;

enum aemp_link_state {
    LINK_GREETING, /* waiting for the remote greeting line 1 */
    LINK_NONCE,    /* waiting for line 2 */
    LINK_AUTH,     /* waiting for the auth line */
    LINK_DATA,     /* authenticated: frames */
    LINK_DEAD,     /* closed, to be freed */
};

/* Starts connecting to host:port; the greeting goes out at once. */
aemp_link *aemp_link_connect(struct aemp_node *node, const char *host,
                             const char *port);

/* Takes an accepted socket. */
aemp_link *aemp_link_accept(struct aemp_node *node, evutil_socket_t fd,
                            const struct sockaddr *sa, int salen);

/* The send functions return AEMP_OK, AEMP_ESTATE (not in the data phase),
 * AEMP_ENOMEM, or AEMP_EINVAL when the message nests deeper than the
 * encoders take (512 levels with the frame, as Perl's): nothing of it is
 * sent then. */

/* Sends one message (an array) in the link's framing. Only in LINK_DATA. */
int aemp_link_send(aemp_link *link, const aemp_val *msg);

/* Sends [portid, msg...] without building that array: the hot path. */
int aemp_link_send_to(aemp_link *link, const char *portid,
                      const aemp_val *msg);

/* One message to several links: each framing is encoded once, on first
 * use, and the bytes copied to every link that uses it. The cache is only
 * good for one (portid, msg) pair, unchanged, and starts zeroed. */
typedef struct aemp_frame_cache {
    aemp_buf enc[2]; /* json, cbor: empty until encoded */
} aemp_frame_cache;

int aemp_link_send_cached(aemp_link *link, aemp_frame_cache *cache,
                          const char *portid, const aemp_val *msg);
void aemp_frame_cache_free(aemp_frame_cache *cache);

/* Closes the link with a reason; the kernel hears kernel_link_error().
 * Only link_error() inside the transport logs. The memory goes when the
 * current callback returns. */
void aemp_link_close(aemp_link *link, const char *reason);

/* Accessors for the kernel. */
const char *aemp_link_remote_id(const aemp_link *link); /* NULL before
                                                          greeting */
/* The framing the link writes, "cbor" or "json"; NULL before the data
 * phase. */
const char *aemp_link_framing(const aemp_link *link);

/* What the kernel attaches to a link: which seed or connect attempt made
 * it, and the remote node it carries once up. */
typedef struct aemp_link_owner {
    struct aemp_seed *seed;       /* a seed connect, or NULL */
    struct aemp_remote *trial;    /* a connect attempt for this node */
    char *trial_endpoint;         /* the address tried (malloc'd) */
    struct aemp_remote *remote;   /* set when the link carries a node */
} aemp_link_owner;

aemp_link_owner *aemp_link_owner_of(aemp_link *link);

#endif
