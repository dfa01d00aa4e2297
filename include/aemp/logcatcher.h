/* libaemp: AnyEvent::MP::LogCatcher, both ways.
 *
 * Every node (Perl nodes once LogCatcher is loaded, which they do on the
 * first call) serves the named function AnyEvent::MP::LogCatcher::connect
 * (VERSION, PORT, LEVEL): from then on it sends [TIME, CONTEXT, LEVEL,
 * MESSAGE] to PORT for every line of its log at LEVEL or below, before
 * its own filter (AE_VERBOSE), until PORT dies. A C node serves it from
 * aemp_node_new on, as a registered function.
 *
 * A catcher is the other side, Perl's AnyEvent::MP::LogCatcher::catch:
 * it watches the nodes in the global database ('l), makes one port per
 * node and connects it there, and connects again when the port dies while
 * the node is still listed. */
#ifndef AEMP_LOGCATCHER_H
#define AEMP_LOGCATCHER_H

#include "aemp/export.h"

#include "aemp/node.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aemp_logcatcher aemp_logcatcher;

/* One caught line: from is the node it came from, time its time there
 * (seconds since the epoch), level 1..9, ctx its context there, msg the
 * line. */
typedef void (*aemp_logcatcher_cb)(aemp_node *node, const char *from,
                                   double time, int level, const char *ctx,
                                   const char *msg, void *ud);

/* Starts catching the lines at level or below (1..9; aemp_log_level
 * reads a name) of every other node. cb NULL logs
 * them into this node's log as Perl's catch does: under their context,
 * the level at least 2 (alert), the message prefixed "[NODE]" or
 * "[NODE+0.123s]" (this node's time minus theirs, when it is 1 ms or
 * more), and not sent on to catchers of this node. Returns NULL on bad arguments
 * (a message in aemp_node_errmsg). Stop it before
 * aemp_node_free. */
AEMP_API aemp_logcatcher *aemp_logcatcher_start(aemp_node *node, int level,
                                                aemp_logcatcher_cb cb,
                                                void *ud);
/* Stops: the ports made for it are killed, so the nodes stop sending. */
AEMP_API void aemp_logcatcher_stop(aemp_logcatcher *lc);

/* A level name or number ("debug", "err", "8") as AnyEvent::Log takes
 * it; -1 for anything else. */
AEMP_API int aemp_log_level(const char *name);

#ifdef __cplusplus
}
#endif

#endif
