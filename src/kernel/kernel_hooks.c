/* libaemp: the hooks a higher layer plugs into the kernel. The kernel
 * calls them at points of its own work (a node up or down, a seed greeted,
 * a connect that needs addresses, an idle remote entry, configure, free)
 * and so never names the layer: the global protocol registers itself, as
 * Perl's Global.pm does. Hooks a layer leaves NULL, and every hook of a
 * node without a layer, do what the kernel alone would: nothing. */
#include "kernel.h"

static void none_node(aemp_node *n)
{
    (void)n;
}

static void none_node_event(aemp_node *n, const char *id, int up)
{
    (void)n;
    (void)id;
    (void)up;
}

static void none_seed_greeted(aemp_node *n, const char *rnode)
{
    (void)n;
    (void)rnode;
}

/* The kernel alone knows no node's address. */
static kernel_addr_rc none_addresses(aemp_node *n, const char *id,
                                     aemp_val **addrs)
{
    (void)n;
    (void)id;
    *addrs = NULL;
    return KERNEL_ADDR_NONE;
}

static int none_keeps(const aemp_node *n, const char *id)
{
    (void)n;
    (void)id;
    return 0;
}

static void none_stats(aemp_node *n, aemp_val *stats)
{
    (void)n;
    (void)stats;
}

static const kernel_hooks hooks_none = {
    .configured = none_node,
    .node_event = none_node_event,
    .seed_greeted = none_seed_greeted,
    .seed_is_self = none_node,
    .addresses = none_addresses,
    .keeps = none_keeps,
    .free = none_node,
    .stats = none_stats,
};

void aempi_kernel_hooks_none(aemp_node *n)
{
    n->hooks = hooks_none;
    n->upper = NULL;
}

#define TAKE(field) (hooks->field ? hooks->field : hooks_none.field)

int aempi_kernel_hooks_set(aemp_node *n, const kernel_hooks *hooks,
                           void *state)
{
    if (!hooks || !state)
        return AEMP_EINVAL;
    if (n->upper)
        return AEMP_ESTATE;
    n->hooks = (kernel_hooks){
        .configured = TAKE(configured),
        .node_event = TAKE(node_event),
        .seed_greeted = TAKE(seed_greeted),
        .seed_is_self = TAKE(seed_is_self),
        .addresses = TAKE(addresses),
        .keeps = TAKE(keeps),
        .free = TAKE(free),
        .stats = TAKE(stats),
    };
    n->upper = state;
    return AEMP_OK;
}

void aempi_kernel_hooks_free(aemp_node *n)
{
    if (n->hooks.free) /* NULL only if aempi_kernel_node_new failed early */
        n->hooks.free(n);
    aempi_kernel_hooks_none(n);
}
