/* libaemp: the node the API hands out. The kernel's node with the global
 * protocol plugged in: the one place that knows every layer, so that no
 * layer below has to know one above it. */
#include "aemp/node.h"
#include "global.h"
#include "kernel.h"
#include "node_int.h"

aemp_node *aemp_node_new(struct event_base *base)
{
    aemp_node *n = aempi_kernel_node_new(base);
    if (n && (aempi_global_register(n) || aempi_node_stats_register(n))) {
        aemp_node_free(n);
        return NULL;
    }
    return n;
}
