/* Compiled by tests/meson.build, not run: each kind of monitor handle is
 * its own type. With MIX 0 every handle goes to its own cancel and this
 * compiles; with MIX 1 to 4 one goes to another kind's cancel (or a bare
 * number to one), which must not compile. */
#include "aemp/aemp.h"

void use_handles(aemp_node *n);

void use_handles(aemp_node *n)
{
    aemp_port_mon_id port = aemp_mon(n, "a#b", NULL, NULL);
    aemp_node_mon_id node = aemp_mon_nodes(n, NULL, NULL);
    aemp_db_mon_id db = aemp_db_mon(n, "f", NULL, NULL);
#if MIX == 1
    aemp_mon_cancel(n, node);
#elif MIX == 2
    aemp_mon_nodes_cancel(n, db);
#elif MIX == 3
    aemp_db_mon_cancel(n, port);
#elif MIX == 4
    aemp_mon_cancel(n, port.id);
#else
    aemp_mon_cancel(n, port);
    aemp_mon_nodes_cancel(n, node);
    aemp_db_mon_cancel(n, db);
#endif
}
