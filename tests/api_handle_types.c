/* Compiled by tests/meson.build, not run: each kind of handle (the three
 * monitor handles, the db handle, the timer id) is its own type. With
 * MIX 0 every handle goes to its own function and this compiles; with
 * MIX 1 to 9 one goes to another kind's function (or a bare number to
 * one), which must not compile. The bare number is a uint64_t variable,
 * not a handle's .id, so that a handle type turned back into a plain
 * integer typedef makes its MIX compile (and the test fail). */
#include "aemp/aemp.h"

void use_handles(aemp_node *n);

void use_handles(aemp_node *n)
{
    aemp_port_mon_id port = aemp_mon(n, "a#b", NULL, NULL);
    aemp_node_mon_id node = aemp_mon_nodes(n, NULL, NULL);
    aemp_db_mon_id db = aemp_db_mon(n, "f", NULL, NULL);
    aemp_db_handle entry = aemp_db_set(n, "f", "k", NULL);
    aemp_timer_id timer = aemp_after(n, 1, NULL, NULL);
#if MIX == 1
    aemp_mon_cancel(n, node);
#elif MIX == 2
    aemp_mon_nodes_cancel(n, db);
#elif MIX == 3
    aemp_db_mon_cancel(n, port);
#elif MIX == 4
    uint64_t number = 1;
    aemp_mon_cancel(n, number);
#elif MIX == 5
    aemp_db_release(n, timer);
#elif MIX == 6
    aemp_after_cancel(n, entry);
#elif MIX == 7
    uint64_t number = 1;
    aemp_db_release(n, number);
#elif MIX == 8
    uint64_t number = 1;
    aemp_after_cancel(n, number);
#elif MIX == 9
    aemp_db_mon_cancel(n, entry);
#else
    aemp_mon_cancel(n, port);
    aemp_mon_nodes_cancel(n, node);
    aemp_db_mon_cancel(n, db);
    aemp_db_release(n, entry);
    aemp_after_cancel(n, timer);
#endif
}
