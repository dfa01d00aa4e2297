/* interop_node's commands for link churn (perl-interop/t/15_churn.t). */
#ifndef INTEROP_CHURN_H
#define INTEROP_CHURN_H

#include "aemp/aemp.h"

struct event_base;

/* How interop_node reports an event (takes it). */
typedef void (*interop_emit_fn)(aemp_val *event);

void churn_init(aemp_node *node, struct event_base *base,
                interop_emit_fn emit);

/* AEMP_INTEROP_SINK=NAME=FILE: port NODE#NAME appends the first element
 * of each message it gets to FILE, one a line, as soon as it arrives; made
 * right after configure, before any link can deliver to it. */
void churn_sink_from_env(void);

/* flood, flood_stop; 0 if op is not one of them. */
int churn_command(const char *op, const aemp_val *cmd);

#endif
