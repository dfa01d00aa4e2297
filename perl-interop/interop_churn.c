/* interop_node's commands for link churn: a flood of sequence numbers to
 * a monitored port, and a sink that writes what arrives to a file, so the
 * record survives the receiver being killed. perl_node.pl has the same.
 *
 *   ["flood", NAME, PORT, USEC]  send [0], [1], ... to PORT, one every USEC
 *                                microseconds (0: on every turn of the
 *                                loop), with a monitor on PORT; each time
 *                                it fires, report ["flood_mon", NAME, LAST,
 *                                @reason] (LAST: the last number sent) and
 *                                monitor again
 *   ["flood_stop", NAME]         stop; reports ["flood_stopped", NAME, LAST]
 */
#include "interop_churn.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

typedef struct flood {
    struct flood *next;
    char *name, *port;
    struct event *timer;
    struct timeval every;
    long long next_seq;
    aemp_port_mon_id mon;
} flood;

static aemp_node *node;
static struct event_base *base;
static interop_emit_fn emit;
static flood *floods; /* kept for the life of the process */

void churn_init(aemp_node *n, struct event_base *b, interop_emit_fn e)
{
    node = n;
    base = b;
    emit = e;
}

static int on_sink(aemp_node *n, const char *port, const aemp_val *msg,
                   void *ud)
{
    (void)n;
    (void)port;
    char line[32];
    int len = snprintf(line, sizeof line, "%lld\n",
                       (long long)aemp_as_int(aemp_array_at(msg, 0)));
    if (write((int)(intptr_t)ud, line, (size_t)len) != len)
        emit(aemp_arrayv(aemp_str("error"), aemp_str("sink write failed"),
                         NULL));
    return 0;
}

void churn_sink_from_env(void)
{
    const char *spec = getenv("AEMP_INTEROP_SINK");
    const char *eq = spec ? strchr(spec, '=') : NULL;
    if (!eq)
        return;
    int fd = open(eq + 1, O_WRONLY | O_APPEND | O_CREAT, 0644);
    size_t len = strlen(aemp_node_id(node)) + (size_t)(eq - spec) + 2;
    char *port = malloc(len);
    if (port)
        snprintf(port, len, "%s#%.*s", aemp_node_id(node), (int)(eq - spec),
                 spec);
    if (fd < 0 || !port ||
        aemp_rcv(node, port, NULL, on_sink, (void *)(intptr_t)fd))
        fprintf(stderr, "interop_node: cannot make the sink %s\n", spec);
    free(port);
}

/* ---- flood ---- */

static void flood_monitor(flood *f);

static void on_flood_mon(aemp_node *n, const char *port,
                         const aemp_val *reason, void *ud)
{
    (void)n;
    (void)port;
    flood *f = ud;
    aemp_val *ev = aemp_arrayv(aemp_str("flood_mon"), aemp_str(f->name),
                               aemp_int(f->next_seq - 1), NULL);
    for (size_t i = 0; i < aemp_array_len(reason); i++)
        aemp_array_push(ev, aemp_copy(aemp_array_at(reason, i)));
    emit(ev);
    f->mon = (aemp_port_mon_id){0};
    if (f->timer) /* still flooding */
        flood_monitor(f);
}

static void flood_monitor(flood *f)
{
    f->mon = aemp_mon(node, f->port, on_flood_mon, f);
}

static void on_flood_tick(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    flood *f = ud;
    aemp_sndv(node, f->port, aemp_int(f->next_seq++), NULL);
    evtimer_add(f->timer, &f->every);
}

static flood *flood_find(const char *name)
{
    for (flood *f = floods; f; f = f->next)
        if (!strcmp(f->name, name))
            return f;
    return NULL;
}

static void flood_start(const char *name, const char *port, long long usec)
{
    flood *f = calloc(1, sizeof *f);
    if (!f || flood_find(name) || usec < 0) {
        free(f);
        emit(aemp_arrayv(aemp_str("error"), aemp_str("bad flood"), NULL));
        return;
    }
    f->name = strdup(name);
    f->port = strdup(port);
    f->every.tv_sec = (time_t)(usec / 1000000);
    f->every.tv_usec = (suseconds_t)(usec % 1000000);
    f->timer = evtimer_new(base, on_flood_tick, f);
    f->next = floods;
    floods = f;
    flood_monitor(f);
    evtimer_add(f->timer, &f->every);
}

static void flood_stop(const char *name)
{
    flood *f = flood_find(name);
    if (!f || !f->timer) {
        emit(aemp_arrayv(aemp_str("error"), aemp_str("no such flood"), NULL));
        return;
    }
    event_free(f->timer);
    f->timer = NULL;
    if (f->mon.id)
        aemp_mon_cancel(node, f->mon);
    f->mon = (aemp_port_mon_id){0};
    emit(aemp_arrayv(aemp_str("flood_stopped"), aemp_str(f->name),
                     aemp_int(f->next_seq - 1), NULL));
}

int churn_command(const char *op, const aemp_val *cmd)
{
    const char *name = aemp_str_ptr(aemp_array_at(cmd, 1), NULL);
    const char *port = aemp_str_ptr(aemp_array_at(cmd, 2), NULL);
    if (!strcmp(op, "flood") && name && port)
        flood_start(name, port, aemp_as_int(aemp_array_at(cmd, 3)));
    else if (!strcmp(op, "flood_stop") && name)
        flood_stop(name);
    else
        return 0;
    return 1;
}
