/* libaemp: a node's counters (aemp/stats.h). Each layer counts in its
 * own structures; the kernel reads its own and the transport's and asks
 * the layer above through its stats hook (kernel_stats.c). Here, at the
 * top, they are handed out: to the program, and to other nodes through
 * the named function aemp::stats. */
#include "aemp/func.h"
#include "aemp/stats.h"
#include "kernel.h"
#include "node_int.h"

aemp_val *aemp_node_stats(aemp_node *n)
{
    return n ? aempi_kernel_stats(n) : NULL;
}

/* ["", "aemp::stats", REPLYPORT]: the stats map to REPLYPORT. Anything
 * else is a call that does nothing (as a Perl function that ignores its
 * arguments would). */
static int stats_called(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)ud;
    const char *reply = aemp_str_ptr(aemp_array_at(args, 0), NULL);
    if (!reply || !aempi_kernel_has_node(reply))
        return 0;
    aemp_snd(n, reply, aemp_arrayv(aempi_kernel_stats(n), NULL));
    return 0;
}

int aempi_node_stats_register(aemp_node *n)
{
    return aemp_func_register(n, AEMP_STATS_FUNC, stats_called, NULL);
}
