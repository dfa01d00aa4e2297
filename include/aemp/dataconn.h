/* libaemp: data connections between nodes (AnyEvent::MP::DataConn): a
 * plain socket to another node, for bulk data, made over the node's own
 * listener with the same authentication and TLS as a node link
 * (protocol "aemp-dataconn", docs/dataconn.md).
 *
 * aemp_dataconn_connect is Perl's connect_to: it asks the other node to
 * expect the connection (AnyEvent::MP::DataConn::_expect), then connects
 * to one of its listeners, or, when it has none, asks it to connect back
 * (_connect). Once the handshake is done, the other node calls its init
 * function with the init data and its end, and the caller's callback
 * gets this end. Either end is a libevent bufferevent (a TLS filter when
 * the nodes use TLS) with no callbacks set, reading and writing enabled,
 * owned by whoever gets it (bufferevent_free closes it). Bytes the peer
 * sent right behind the handshake may already sit in its input: the
 * read callback set in the callback runs for them. */
#ifndef AEMP_DATACONN_H
#define AEMP_DATACONN_H

#include "aemp/export.h"

#include "aemp/node.h"
#include "aemp/value.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bufferevent;

/* The connection is made (bev non-NULL, error NULL), or it failed (bev
 * NULL, error a text such as "NODE: unable to establish connection
 * within 5 seconds"; the texts Perl kills its port with). */
typedef void (*aemp_dataconn_cb)(aemp_node *node, struct bufferevent *bev,
                                 const char *error, void *ud);

/* The remote end: the init function a connecting node named, called
 * with its init data (an array, borrowed) and the connection. peer is
 * the node at the other end. */
typedef void (*aemp_dataconn_init_cb)(aemp_node *node, const char *peer,
                                      const aemp_val *initdata,
                                      struct bufferevent *bev, void *ud);

/* Registers (cb non-NULL) or removes (cb NULL) an init function under a
 * name such as "MyApp::receiver", as aemp_func_register does for named
 * functions: a connection naming an unregistered one is closed and
 * "unable to resolve function 'NAME'" logged. */
AEMP_API int aemp_dataconn_register(aemp_node *node, const char *name,
                                    aemp_dataconn_init_cb cb, void *ud);

/* connect_to: a data connection to the node of nodeid_or_port, within
 * timeout seconds (more than 0; cover four network round trips and one
 * message round trip). initfunc names the init function on the other
 * node (a Perl function there, or one aemp_dataconn_register'ed on a C
 * node); initdata (an array, taken; NULL: none) are its first
 * arguments. cb runs once, from the event loop: with the connection, or
 * with the error. Our own node is served through a socketpair, as in
 * Perl. AEMP_OK, or AEMP_EINVAL (cb is not called then). */
AEMP_API int aemp_dataconn_connect(aemp_node *node, const char *nodeid_or_port,
                                   double timeout, const char *initfunc,
                                   aemp_val *initdata, aemp_dataconn_cb cb,
                                   void *ud);

#ifdef __cplusplus
}
#endif

#endif
