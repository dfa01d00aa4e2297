/* libaemp: the global protocol plugs itself into a node: its node-port
 * requests by tag and its hooks into the kernel's work, as Global.pm
 * fills Kernel.pm's %NODE_REQ and watches nodes. This file is the whole
 * of what the kernel gets to call of the protocol. */
#include <stddef.h>

#include "global_int.h"

/* seed: 1 for the tags only Global.pm defines, which a Perl node has in
 * %NODE_REQ once it is global (a seed of itself, or made master by a
 * g_slave); the others Kernel.pm defines on every node (g_slave there
 * loads Global.pm and makes the node global). */
static const struct {
    const char *tag;
    kernel_req_fn fn;
    int seed;
} requests[] = {
    /* a normal node's side */
    {"g_global", aempi_gseed_req_g_global, 0},
    {"g_reply", aempi_global_req_g_reply, 0},
    {"g_found", aempi_global_req_g_found, 0},
    {"g_chg1", aempi_global_req_g_chg1, 0},
    {"g_chg2", aempi_global_req_g_chg2, 0},
    {"g_slave", aempi_gseed_req_g_slave, 0},
    /* a global node's side */
    {"g_set", aempi_gseed_req_g_set, 1},
    {"g_upd", aempi_gseed_req_g_upd, 1},
    {"g_find", aempi_gseed_req_g_find, 1},
    {"g_db_family", aempi_gseed_req_g_db, 1},
    {"g_db_keys", aempi_gseed_req_g_db, 1},
    {"g_db_values", aempi_gseed_req_g_db, 1},
    {"g_mon1", aempi_gseed_req_g_mon1, 1},
    {"g_mon0", aempi_gseed_req_g_mon0, 1},
};

/* Where a node lives: a normal node asks its master (g_find; without a
 * master the request waits for one); a global node looks in its own 'l
 * and knows or does not. */
static kernel_addr_rc addresses(aemp_node *n, const char *id,
                                aemp_val **addrs)
{
    *addrs = NULL;
    if (!aempi_global_is_on(n)) {
        aempi_global_find(n, id);
        return KERNEL_ADDR_LOOKING;
    }
    *addrs = aempi_gseed_addresses(n, id);
    return *addrs ? KERNEL_ADDR_FOUND : KERNEL_ADDR_NONE;
}

static void state_free(aemp_node *n)
{
    aempi_global_state_free(global_of(n));
}

static const kernel_hooks hooks = {
    .configured = aempi_global_start,
    .node_event = aempi_global_node_event,
    .seed_greeted = aempi_global_seed_greeted,
    .seed_is_self = aempi_gseed_become,
    .addresses = addresses,
    .keeps = aempi_gseed_keeps,
    .free = state_free,
    .stats = aempi_global_stats,
};

int aempi_global_register(aemp_node *n)
{
    aemp_global *g = aempi_global_new();
    if (!g)
        return AEMP_ENOMEM;
    int rc = aempi_kernel_hooks_set(n, &hooks, g);
    if (rc) {
        aempi_global_state_free(g);
        return rc;
    }
    for (size_t i = 0; !rc && i < sizeof requests / sizeof *requests; i++)
        rc = aempi_kernel_node_request_add_when(
            n, requests[i].tag, requests[i].fn,
            requests[i].seed ? aempi_global_is_on : NULL);
    return rc;
}
