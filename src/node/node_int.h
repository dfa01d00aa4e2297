/* libaemp internal: what the files of the top layer (src/node) share. */
#ifndef AEMP_NODE_INT_H
#define AEMP_NODE_INT_H

#include "aemp/node.h"

/* Registers the named function aemp::stats (node_stats.c); 0 or an
 * error code. */
int aempi_node_stats_register(aemp_node *n);

#endif
