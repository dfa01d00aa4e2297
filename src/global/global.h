/* libaemp internal: the global protocol (Kernel.pm's second half and
 * Global.pm) as the layer above sees it. The kernel knows nothing of it:
 * the protocol registers its node-port requests and hooks into a node,
 * as Global.pm fills Kernel.pm's %NODE_REQ. */
#ifndef AEMP_GLOBAL_H
#define AEMP_GLOBAL_H

#include "kernel.h"

/* Plugs the global protocol into a new node (aempi_kernel_node_new's, before
 * configure): its g_* requests and its hooks (global_register.c).
 * AEMP_ENOMEM, or AEMP_ESTATE if the node has a layer already. */
int aempi_global_register(aemp_node *n);

#endif
