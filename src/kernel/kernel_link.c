/* libaemp: the kernel as the transport's user: the hooks through which
 * links tell the kernel about their progress (kernel_remote.c does the
 * work), and busy polling, which the links' reads drive. */
#include "kernel.h"

static int hook_greeted(void *ud, aemp_link *link, const char *rnode,
                        const char **why)
{
    return aempi_kernel_link_greeted(ud, link, rnode, why);
}

static void hook_up(void *ud, aemp_link *link)
{
    aempi_kernel_link_up(ud, link);
}

static void hook_error(void *ud, aemp_link *link, const char *msg)
{
    if (aempi_link_dataconn_id(link)) /* never a node's link */
        aempi_kernel_dataconn_link_error(ud, link, msg);
    else
        aempi_kernel_link_error(ud, link, msg);
}

static void hook_dataconn(void *ud, aemp_link *link, const char *id)
{
    aempi_kernel_dataconn_link(ud, link, id);
}

static void hook_frame(void *ud, aemp_link *link, aemp_val *frame)
{
    aempi_kernel_link_frame(ud, link, frame);
}

static void hook_io_done(void *ud)
{
    aempi_kernel_io_done(ud);
}

static void hook_io_deliver(void *ud)
{
    aempi_kernel_io_deliver(ud);
}

static const aemp_link_hooks link_hooks = {
    .greeted = hook_greeted,
    .up = hook_up,
    .error = hook_error,
    .frame = hook_frame,
    .io_done = hook_io_done,
    .io_deliver = hook_io_deliver,
    .dataconn = hook_dataconn,
};

int aempi_kernel_link_host_init(aemp_node *n)
{
    int rc = aempi_link_host_init(&n->transport, n->base, &link_hooks, n,
                                  &n->log, sizeof(aemp_link_owner));
    n->transport.pool = &n->pool; /* the jobs give the frames back */
    return rc;
}

int aemp_node_set_busy_poll(aemp_node *n, unsigned usec)
{
    if (!n)
        return AEMP_EINVAL;
    if (usec > 1000000)
        return aempi_kernel_refuse(n, "aemp_node_set_busy_poll: more than a "
                                "second");
    aempi_link_host_busy_poll(&n->transport, usec);
    return AEMP_OK;
}
