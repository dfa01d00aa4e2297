/* A whole node fed bytes over a socketpair, for fuzz_node_raw and
 * fuzz_node_auth. Each input gets a fresh event_base and node (configured
 * with FUZZ_NODE_ID and FUZZ_SECRET, no listener, no seeds), so nothing
 * carries over from one input to the next and leaks show at once. The
 * node takes one end as an accepted link from 127.0.0.1:4040; the harness
 * plays the peer on the other end. */
#ifndef AEMP_FUZZ_NODE_H
#define AEMP_FUZZ_NODE_H

#include <stddef.h>

#define FUZZ_NODE_ID "fuzznode"
#define FUZZ_PEER_ID "fuzzpeer"
#define FUZZ_SECRET "fuzzsecret"

struct event_base;
struct bufferevent;
typedef struct aemp_node aemp_node;

typedef struct fuzz_peer {
    struct event_base *base;
    aemp_node *node;
    struct bufferevent *bev; /* the peer's end */
    int closing;             /* shut our side down once the output is out */
    int closed;              /* the node closed its end (or the socket
                                failed) */
    int up;                  /* the node logged the link as authenticated */
} fuzz_peer;

/* A fresh base and node, and the link between node and peer. Aborts when
 * that cannot be made: without it the target tests nothing. */
void fuzz_peer_open(fuzz_peer *p);

/* Queues bytes for the node. */
void fuzz_peer_write(fuzz_peer *p, const void *data, size_t len);

/* Runs the loop until the node has sent n lines, and gives them (malloc'd,
 * without LF) in lines[0..n-1]. 0, or -1 when the node closed first. */
int fuzz_peer_read_lines(fuzz_peer *p, int n, char **lines);

/* Sends what is queued, then end-of-file, runs the loop until the node has
 * closed the link and run what that left queued, and frees everything. */
void fuzz_peer_close(fuzz_peer *p);

#endif
