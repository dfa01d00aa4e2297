/* libaemp: a node's counters (docs/metrics.md), as a value, as
 * Prometheus' text exposition format, and served over HTTP when the
 * configuration has `metrics_bind` (docs/config.md).
 *
 * The stats value is a map:
 *
 *    {"node": NODEID, "provider": "libaemp",
 *     "metrics": {NAME: {"type": "counter" | "gauge", "help": TEXT,
 *                        "samples": [[LABELS, VALUE], ...]}, ...}}
 *
 * (caemp stats gets the same from a Perl node by eval, with provider
 * "perl"). LABELS is a map of label name to string ({} for none), VALUE an
 * unsigned integer. Counters only grow while the node lives; a reader
 * takes two stats and divides the difference by the time between them
 * for a rate. Peers get one label each, for at most AEMP_STATS_MAX_PEERS
 * links; the rest are summed under the peer "_other". The same map is
 * what a C node's named function "aemp::stats" sends back.
 */
#ifndef AEMP_STATS_H
#define AEMP_STATS_H

#include "aemp/export.h"

#include <stddef.h>

#include "aemp/node.h"
#include "aemp/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Links listed one by one (a label each); the rest are summed. */
#define AEMP_STATS_MAX_PEERS 64

/* The name of the function every C node registers: called as
 * ["", "aemp::stats", REPLYPORT], it sends the stats map to REPLYPORT as
 * a one-element message. */
#define AEMP_STATS_FUNC "aemp::stats"

/* The node's counters now: a new map the caller owns (aemp_unref), or
 * NULL for a NULL node or when out of memory. Cheap: the counters are
 * read, never reset. */
AEMP_API aemp_val *aemp_node_stats(aemp_node *node);

/* Renders a stats map (borrowed) as Prometheus' text exposition format
 * (version 0.0.4): "# HELP" and "# TYPE" lines, then one line per sample.
 * Returns a malloc'd NUL-terminated buffer the caller frees with free(),
 * its length in *len if len is not NULL; NULL when stats is not such a
 * map or out of memory (memory that runs out on the way leaves lines
 * out). Names, labels and values that do not fit the format are left
 * out: the map may come from another node. */
AEMP_API char *aemp_stats_prometheus(const aemp_val *stats, size_t *len);

/* The address the node serves GET /metrics on ("host:port", the port
 * the system chose when metrics_bind asked for port 0), or NULL when
 * metrics_bind is not set (or the node is NULL or not configured).
 * Borrowed: valid until the node is freed. */
AEMP_API const char *aemp_node_metrics_addr(const aemp_node *node);

#ifdef __cplusplus
}
#endif

#endif
