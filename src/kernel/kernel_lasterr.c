/* libaemp: why links failed, kept for aemp_node_last_error. A connect
 * that cannot be made ends in the kill reason (transport_error, NODE,
 * "connect timeout"), as in Perl, while the cause (a wrong secret, a
 * refused connection) was only logged by the link that met it. */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

static void set_text(char **slot, const char *text)
{
    char *copy = strdup(text);
    if (!copy)
        return; /* the older text stays: still a reason, if not the last */
    free(*slot);
    *slot = copy;
}

/* The node a failed link was about: the one a connect attempt was for,
 * the one it carried, or the one its greeting named. A node that is up
 * over another link is left alone: the failure (a duplicate link, a
 * superseded attempt) is not why it cannot be reached. */
static aemp_remote *remote_of(aemp_node *n, aemp_link *link)
{
    aemp_link_owner *o = aemp_link_owner_of(link);
    if (o->trial)
        return o->trial;
    if (o->remote)
        return o->remote;
    const char *id = aempi_link_remote_id(link);
    aemp_remote *r = id ? aempi_kernel_remote_get(n, id, 0) : NULL;
    return r && !r->link ? r : NULL;
}

void aempi_kernel_note_link_error(aemp_node *n, aemp_link *link,
                                  const char *msg)
{
    aemp_link_owner *o = aemp_link_owner_of(link);
    aemp_remote *r = remote_of(n, link);
    if (r)
        set_text(&r->last_error, msg);
    if (o->seed || o->trial)
        set_text(&n->last_link_error, msg);
}

const char *aemp_node_last_error(const aemp_node *n, const char *nodeid)
{
    if (!n)
        return NULL;
    if (!nodeid)
        return n->last_link_error;
    const aemp_remote *r = aempi_dict_get(&n->remotes, nodeid);
    return r ? r->last_error : NULL;
}
