/* caemp graph's picture of the network and its Graphviz DOT text
 * (caemp_dot.c): nodes with the provider each runs, the seeds, and the
 * links between nodes, undirected. Written sorted, so the same network
 * always gives the same text. */
#ifndef CAEMP_DOT_H
#define CAEMP_DOT_H

#include <stdio.h>

#include "aemp/value.h"

typedef struct caemp_graph {
    aemp_val *provider; /* node id -> provider text, "" when unknown */
    aemp_val *seed;     /* node id -> true, for the seeds */
    aemp_val *links;    /* JSON of [a, b] with a < b -> that array */
} caemp_graph;

/* 0, or -1 when out of memory (clear g either way). */
int caemp_graph_init(caemp_graph *g);
void caemp_graph_clear(caemp_graph *g);

/* Adds node id. provider (NULL or "": unknown) is what someone says it
 * runs: it fills an unknown one, or replaces the one known with sure set
 * (what the node's own greeting to us said). */
void caemp_graph_node(caemp_graph *g, const char *id, const char *provider,
                      int sure);
void caemp_graph_seed(caemp_graph *g, const char *id);
/* A link between a and b (both added as nodes); the same link either
 * way round counts once, and a node's link to itself not at all. */
void caemp_graph_link(caemp_graph *g, const char *a, const char *b);

/* "C" for a libaemp node, "Perl" for AnyEvent::MP's ("AE-2.02"), NULL
 * when the provider is unknown or another. */
const char *caemp_provider_kind(const char *provider);

/* Writes g as an undirected DOT graph: nodes sorted by id, each labelled
 * with its id and what it runs, seeds with a double bold border, then
 * each link once, sorted. Ids are quoted, with ", \ and control
 * characters escaped. 0, or -1 on a write error. */
int caemp_graph_dot(const caemp_graph *g, FILE *out);

#endif
