/* libaemp: a node, its ports, messages and monitors.
 *
 * A node lives on the caller's libevent event_base; it makes no threads and
 * keeps no global state, so several nodes may share one process and one
 * event_base. Every callback runs from the event loop, never from inside a
 * call into this API (delivery is asynchronous and never re-entrant).
 *
 * Port ids are strings "NODEID#LOCALID"; a node id alone names that node's
 * node port. A message is an array value: for a tag-matching port its first
 * element is the tag.
 *
 * Arguments (docs/api.md, "Arguments"): no argument crashes a function. A
 * NULL node, an id whose node part is empty (NULL, "", "#x": Perl's
 * "'undef' or the empty string are not valid node/port IDs"), a message
 * that is not an array or a missing callback is refused: AEMP_EINVAL, 0
 * for an id, NULL for a pointer. A value the function takes is released
 * then too. Inside a port's context (aemp_self() set: a receive
 * callback, a spawn's init function, aemp_peval) a refused call also
 * kills that port with ("die", TEXT), TEXT being Perl's croak text where
 * Perl croaks, as Perl's croak there would; the callback runs on, the
 * kill is queued and the first reason wins.
 */
#ifndef AEMP_NODE_H
#define AEMP_NODE_H

#include "aemp/export.h"

#include <stdint.h>

#include "aemp/value.h"

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
typedef struct aemp_node aemp_node;

/* Receives a message. msg is the whole message array (for a tag callback,
 * element 0 is the tag); it is borrowed: aemp_ref() it to keep it. Return 0,
 * or non-zero to make the port die as a Perl callback that dies would:
 * killed with reason ("die", MESSAGE), MESSAGE from aemp_die() if the
 * callback called it, else "callback failed". */
typedef int (*aemp_recv_cb)(aemp_node *node, const char *port,
                            const aemp_val *msg, void *ud);

/* A monitored port died. reason is an array: empty for a normal kil,
 * otherwise e.g. ["transport_error", NODE, "connect timeout"]. */
typedef void (*aemp_mon_cb)(aemp_node *node, const char *port,
                            const aemp_val *reason, void *ud);

/* A node came up (up = 1) or went down (up = 0, with a reason array). */
typedef void (*aemp_node_cb)(aemp_node *node, const char *nodeid, int up,
                             const aemp_val *reason, void *ud);

/* Log levels, AnyEvent::Log's: a line is logged when its level is at
 * most the node's (AE_VERBOSE, default AEMP_LOG_ERROR). */
enum aemp_log_level {
    AEMP_LOG_FATAL = 1,
    AEMP_LOG_ALERT,
    AEMP_LOG_CRIT,
    AEMP_LOG_ERROR,
    AEMP_LOG_WARN,
    AEMP_LOG_NOTE,
    AEMP_LOG_INFO,
    AEMP_LOG_DEBUG,
    AEMP_LOG_TRACE,
};

/* Log sink: level an aemp_log_level, ctx a context name (AnyEvent::Log's,
 * e.g. "AnyEvent::MP::Kernel"), msg one line without its newline. */
typedef void (*aemp_log_cb)(int level, const char *ctx, const char *msg,
                            void *ud);

/* ---- life cycle ---------------------------------------------------- */

/* A new node on base (NULL if base is NULL). If SIGPIPE still has its
 * default action it is set to ignored: a peer closing its socket must not
 * end the process. */
AEMP_API aemp_node *aemp_node_new(struct event_base *base);

/* configure: args is a map of configure's key/value pairs (profile, nodeid,
 * binds, seeds, secret, norc, force, monitor_timeout, connect_interval,
 * framing_format, auth_offer, auth_accept, secure, max_send_queue,
 * max_frame, ...); the rc file fills in the rest exactly as
 * AnyEvent::MP::Config does (max_send_queue and max_frame are libaemp's
 * own, which Perl ignores: docs/config.md). rcpath NULL means
 * $PERL_ANYEVENT_MP_RC, else ~/.perl-anyevent-mp. Listens on every bind and
 * starts connecting to the seeds. Call once. args is borrowed. */
AEMP_API int aemp_node_configure(aemp_node *node, const aemp_val *args,
                                 const char *rcpath);

/* Closes every link and listener and frees everything. Monitors do not
 * fire. Not to be called from inside one of the node's callbacks. */
AEMP_API void aemp_node_free(aemp_node *node);

/* The node id (after configure), e.g. "mynode" or "anon/Xc8RzO5kqA". */
AEMP_API const char *aemp_node_id(const aemp_node *node);

/* The effective configuration (a map; borrowed), NULL before configure. */
AEMP_API const aemp_val *aemp_node_config(const aemp_node *node);

/* The addresses the node listens on, as published in 'l (borrowed array). */
AEMP_API const aemp_val *aemp_node_binds(const aemp_node *node);

/* Bytes the node's links hold that their sockets have not taken yet
 * (frames waiting to be written, TLS's output): 0 once everything sent
 * on a link is with the operating system. A program about to free the
 * node for a clean stop runs its loop until this is 0, for a bounded
 * while (caemp run on SIGTERM: at most 0.1 s), since freeing the node
 * drops what is left. Messages queued for a node whose link is not up
 * are not counted. 0 for NULL. */
AEMP_API size_t aemp_node_unsent(const aemp_node *node);

/* Detail of the last error from configure (file names, addresses); never
 * NULL ("no node" for a NULL node). */
AEMP_API const char *aemp_node_errmsg(const aemp_node *node);

/* Logging. The node's level starts from AE_VERBOSE / PERL_ANYEVENT_VERBOSE
 * (default 4, AEMP_LOG_ERROR): lines above it are dropped. The default
 * sink (cb NULL) writes AnyEvent::Log's format to stderr,
 * "2026-12-02 12:00:00.123456 +0000 warn  ctx: msg". aemp_node_set_log
 * sets the level (1..9; 0 logs nothing) and the sink. Tracing of every
 * message (AE_MP_TRACE / PERL_ANYEVENT_MP_TRACE) writes Perl's
 * "SND node <- [...]" / "RCV node -> [...]" lines to stderr. */
AEMP_API void aemp_node_set_log(aemp_node *node, int level, aemp_log_cb cb,
                                void *ud);

/* Sets only the sink (cb NULL: back to the default stderr format),
 * keeping the level: for a program that formats lines for where they go,
 * e.g. caemp run's syslog priority prefix when stderr is the journal. */
AEMP_API void aemp_node_set_log_sink(aemp_node *node, aemp_log_cb cb,
                                     void *ud);

/* Logs one line through the node's level and sink, as AE::log does: the
 * context is "main" for aemp_log (the package of a Perl script), ctx for
 * aemp_log_ctx (NULL: "main"). level is clamped to 1..9; a line longer
 * than 2 KiB is cut there. */
AEMP_API void aemp_log(aemp_node *node, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
AEMP_API void aemp_log_ctx(aemp_node *node, int level, const char *ctx,
                           const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
AEMP_API void aemp_node_set_trace(aemp_node *node, int on);

/* Busy polling, off (0) by default. With usec > 0, after a link's socket
 * gave data the node keeps its event loop from sleeping for usec
 * microseconds: the loop polls (epoll_wait with no timeout, other events
 * run as usual) instead of waiting. A peer that writes each message on
 * its own, as a Perl node does, then finds the node awake and does not
 * pay for waking it on every write; on a two-core VM that made a Perl
 * sender about 35% faster (docs/performance.md). The price: the process
 * uses a whole core while messages keep coming less than usec apart.
 * Returns AEMP_OK, or AEMP_EINVAL above one second. */
AEMP_API int aemp_node_set_busy_poll(aemp_node *node, unsigned usec);

/* ---- ports ------------------------------------------------------------ */

/* A new local port; cb (may be NULL) is its default callback. Without a
 * callback an unmatched message kills the port with reason
 * ("unhandled_message", "no callback found for message 'TAG'").
 * Returns the port id, malloc'd (free() it), or NULL. */
AEMP_API char *aemp_port(aemp_node *node, aemp_recv_cb cb, void *ud);

/* Sets (cb non-NULL) or removes (cb NULL) the callback for messages whose
 * first element is the string tag; tag NULL sets the default callback.
 * rcv on a local port id that does not exist creates it (as Perl does),
 * with a default callback that ignores unmatched messages. A port of
 * another node, or the node port, is refused (AEMP_EINVAL). */
AEMP_API int aemp_rcv(aemp_node *node, const char *port, const char *tag,
                      aemp_recv_cb cb, void *ud);

/* For use inside a receive callback that is about to return non-zero: the
 * text of the "die" reason (fmt NULL: "Died", as Perl's bare die). */
AEMP_API void aemp_die(aemp_node *node, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
             ;

/* The port whose callback is running (Perl's $SELF), or NULL. */
AEMP_API const char *aemp_self(const aemp_node *node);

/* The node that sent the message being delivered (Perl's SRCNODE). */
AEMP_API const char *aemp_srcnode(const aemp_node *node);

/* 1 if port names a port of this node. */
AEMP_API int aemp_port_is_local(const aemp_node *node, const char *port);

/* The node id part of a port id, malloc'd; NULL if it is empty. */
AEMP_API char *aemp_node_of(const char *port);

/* ---- messages ------------------------------------------------------------ */

/* Sends msg (an array: the message's elements) to any port. Takes msg,
 * also when it refuses the call (port without a node part: AEMP_EINVAL).
 * Local delivery is queued; to a remote node without a link the message is
 * queued until the link is up (and dropped with the queue if the link
 * cannot be made, as in Perl, or if the queue passes max_send_queue
 * bytes). A message for another node that Perl's
 * encoders refuse, nested deeper than 512 levels with the frame (the
 * message array is the frame's level), is not sent: AEMP_EINVAL, and
 * inside a port callback the port is killed with ("die", "cbor text or
 * perl structure exceeds maximum nesting level (max_depth set too
 * low?)") ("json text ..." on a json link), as Perl's snd dies there.
 * aemp_kil of a remote port refuses a reason that deep alike.
 * AEMP_ELIMIT: the link's unsent output would pass max_send_queue; the
 * message is dropped and the link closes, so the monitors of that node's
 * ports fire ("send queue exceeds max_send_queue (N bytes)"). */
AEMP_API int aemp_snd(aemp_node *node, const char *port, aemp_val *msg);

/* aemp_snd with the elements listed, each taken, NULL-terminated. */
AEMP_API int aemp_sndv(aemp_node *node, const char *port, ...);

/* Kills a port. reason NULL (or an empty array) is a normal kill; else an
 * array, e.g. ["myerror", "text"], taken. Killing a node port is refused
 * (AEMP_EINVAL), as Perl's "NODE#: killing a node port is not allowed". */
AEMP_API int aemp_kil(aemp_node *node, const char *port, aemp_val *reason);

/* ---- monitors ------------------------------------------------------------ */

/* Monitor handles. Each kind of monitor has its own type (a port
 * monitor's here, a node monitor's below, a database monitor's in db.h),
 * so that cancelling one kind with another kind's cancel does not
 * compile. A handle whose id is 0 is none (the call failed). A monitor
 * fires once, after which its handle is stale; cancelling a stale handle
 * is harmless. */
typedef struct aemp_port_mon_id {
    uint64_t id;
} aemp_port_mon_id;

/* Calls cb when port dies. A remote port also dies for us when the link
 * to its node fails (transport_error, NODE, MESSAGE): then cb runs before
 * any other callback of the program, and nothing sent to that node
 * afterwards arrives before it has (docs/protocol.md). */
AEMP_API aemp_port_mon_id aemp_mon(aemp_node *node, const char *port,
                                   aemp_mon_cb cb,
                                   void *ud);
/* Kills rcvport with the same reason when port dies abnormally. rcvport
 * NULL is the running port (aemp_self), as Perl's one-argument mon;
 * refused outside a port's context. */
AEMP_API aemp_port_mon_id aemp_mon_kil(aemp_node *node, const char *port,
                                       const char *rcvport);
/* Sends msg (array, taken) with the reason appended to rcvport when port
 * dies. */
AEMP_API aemp_port_mon_id aemp_mon_snd(aemp_node *node, const char *port,
                                       const char *rcvport, aemp_val *msg);
AEMP_API void aemp_mon_cancel(aemp_node *node, aemp_port_mon_id id);

/* ---- nodes -------------------------------------------------------------- */

/* 1 if a link to nodeid is up (or it is this node), 0 if the node is known
 * but not connected (messages or monitors wait for it, a connect attempt
 * runs, or it is a seed or a global node kept linked), -1 if nothing is
 * known about it: never met, or gone and forgotten, as Perl forgets a node
 * that nothing refers to any more (or nodeid is NULL). */
AEMP_API int aemp_node_is_up(const aemp_node *node, const char *nodeid);

/* The ids of all nodes with a link up (not this one): a new array. */
AEMP_API aemp_val *aemp_up_nodes(const aemp_node *node);

/* The software a connected peer runs, as its greeting's provider= says:
 * "AE-2.02" from a Perl node (AnyEvent::MP 2.02), AEMP_PROVIDER
 * (aemp/version.h) from a libaemp node, or whatever another
 * implementation sends. This node's own id gives AEMP_PROVIDER. NULL when
 * no link to nodeid is up or its greeting named no provider. The text
 * belongs to the link: it is valid until the node's loop runs again
 * (copy it to keep it). */
AEMP_API const char *aemp_node_provider(aemp_node *node, const char *nodeid);

/* The node-port request with which a libaemp node tells what Perl's tell
 * by eval (caemp graph walks the network with it): ["", AEMP_REQ_UP_NODES,
 * REPLY, ARGS...] is answered with [ARGS..., "", NODE1, PROVIDER1, NODE2,
 * PROVIDER2, ...] sent to port REPLY: the nodes with a link up and their
 * providers ("" when unknown), after an empty "$@" as an eval's answer.
 * Perl nodes have no such request ("can" says so); it is answered in
 * secure mode too, as it runs no code. */
#define AEMP_REQ_UP_NODES "libaemp_up_nodes"

/* Why the most recent link to nodeid failed: a connect attempt for it, a
 * seed link whose greeting named it, or its link while it was up (e.g.
 * "authentication failure/shared secret mismatch", "Connection
 * refused"). With nodeid NULL: why the most recent link this node started
 * itself (to a seed, or to reach a node) failed. NULL if none has. Kill
 * reasons stay Perl's (a node that cannot be reached is ("transport_error",
 * NODE, "connect timeout")); this is the cause behind them. The text
 * belongs to the node and stays valid until its loop runs again. */
AEMP_API const char *aemp_node_last_error(const aemp_node *node,
                                          const char *nodeid);

/* A node monitor's handle (see aemp_port_mon_id). */
typedef struct aemp_node_mon_id {
    uint64_t id;
} aemp_node_mon_id;

/* Calls cb for every node up/down. Returns a handle for
 * aemp_mon_nodes_cancel. */
AEMP_API aemp_node_mon_id aemp_mon_nodes(aemp_node *node, aemp_node_cb cb,
                                         void *ud);
AEMP_API void aemp_mon_nodes_cancel(aemp_node *node, aemp_node_mon_id id);

#ifdef __cplusplus
}
#endif

#endif
