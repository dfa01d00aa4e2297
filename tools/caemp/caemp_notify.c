/* caemp run under systemd: readiness, status and stopping, told through
 * sd_notify (Type=notify units, tools/systemd). Built with libsystemd
 * only (meson option systemd); without it every call here does nothing
 * and the unit is Type=exec. Outside a unit (no NOTIFY_SOCKET) sd_notify
 * itself does nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "caemp.h"

#ifdef CAEMP_SYSTEMD
#include <systemd/sd-daemon.h>

/* How long node events are gathered into one STATUS line: a seed that
 * hundreds of nodes join at once sends one, not hundreds. */
#define STATUS_EVERY 1.0

struct caemp_notify {
    aemp_node *node;
    struct event *timer;
    aemp_node_mon_id mon;
    char last[256];
};

/* "seed, N nodes linked", "node, master M, N nodes linked" or, before a
 * seed answered, "node, no master yet, N nodes linked" */
static void status_text(const caemp_notify *nt, char *out, size_t len)
{
    const char *master = aemp_node_master(nt->node);
    const char *self = aemp_node_id(nt->node);
    aemp_val *up = aemp_up_nodes(nt->node);
    size_t n = aemp_array_len(up);
    aemp_unref(up);
    if (master && self && !strcmp(master, self))
        snprintf(out, len, "seed, %zu nodes linked", n);
    else if (master)
        snprintf(out, len, "node, master %.100s, %zu nodes linked", master,
                 n);
    else
        snprintf(out, len, "node, no master yet, %zu nodes linked", n);
}

static void arm(caemp_notify *nt)
{
    struct timeval tv = {(time_t)STATUS_EVERY, 0};
    if (!event_pending(nt->timer, EV_TIMEOUT, NULL))
        event_add(nt->timer, &tv);
}

static void status_due(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    caemp_notify *nt = ud;
    char now[sizeof nt->last];
    status_text(nt, now, sizeof now);
    if (strcmp(now, nt->last)) {
        memcpy(nt->last, now, sizeof now);
        sd_notifyf(0, "STATUS=%s", now);
    }
    /* becoming a seed, or finding a master, is no node event: look
     * again while neither happened */
    if (!aemp_node_master(nt->node))
        arm(nt);
}

static void node_event(aemp_node *node, const char *nodeid, int up,
                       const aemp_val *reason, void *ud)
{
    (void)node;
    (void)nodeid;
    (void)up;
    (void)reason;
    arm(ud);
}

caemp_notify *caemp_notify_ready(aemp_node *node, struct event_base *base)
{
    caemp_notify *nt = calloc(1, sizeof *nt);
    if (!nt)
        return NULL;
    nt->node = node;
    nt->timer = evtimer_new(base, status_due, nt);
    if (!nt->timer) {
        free(nt);
        return NULL;
    }
    nt->mon = aemp_mon_nodes(node, node_event, nt);
    status_text(nt, nt->last, sizeof nt->last);
    /* configure returned: every bind listens */
    sd_notifyf(0, "READY=1\nSTATUS=%s", nt->last);
    arm(nt);
    return nt;
}

void caemp_notify_stopping(caemp_notify *nt)
{
    if (!nt)
        return;
    event_del(nt->timer);
    sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

void caemp_notify_free(caemp_notify *nt)
{
    if (!nt)
        return;
    aemp_mon_nodes_cancel(nt->node, nt->mon);
    event_free(nt->timer);
    free(nt);
}

#else /* no libsystemd: nothing to tell */

caemp_notify *caemp_notify_ready(aemp_node *node, struct event_base *base)
{
    (void)node;
    (void)base;
    return NULL;
}

void caemp_notify_stopping(caemp_notify *nt)
{
    (void)nt;
}

void caemp_notify_free(caemp_notify *nt)
{
    (void)nt;
}

#endif
