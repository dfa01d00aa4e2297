/* caemp: walking the network from node to node (trace, graph).
 *
 * The walk keeps who has been asked: each node once, with its own
 * timeout, answers coming to one reply port as [NODE, ...]. What is asked
 * and what an answer means is the command's (caemp_walk_ops); an answer
 * may end the node's turn or ask it again (graph asks "can" first). The
 * run ends when no node is left waiting. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "caemp.h"

typedef struct walk_timer {
    caemp_walk *w;
    char *nodeid;
    struct event *ev;
} walk_timer;

static void timer_free(walk_timer *t)
{
    event_free(t->ev);
    free(t->nodeid);
    free(t);
}

static void done_one(caemp_walk *w)
{
    if (--w->pending == 0)
        caemp_finish(&w->cmd, w->status);
}

/* A waiting node's timer, taken from seen (the node is then done); NULL
 * for a node not waiting (unknown, done, or timed out already). */
static walk_timer *take_timer(caemp_walk *w, const char *nodeid)
{
    aemp_val *v = aemp_map_get(w->seen, nodeid);
    if (!v || aemp_is_null(v))
        return NULL;
    walk_timer *t = (walk_timer *)(intptr_t)aemp_as_int(v);
    aemp_map_set(w->seen, nodeid, aemp_null());
    return t;
}

static void on_timeout(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    walk_timer *t = ud;
    caemp_walk *w = t->w;
    take_timer(w, t->nodeid);
    w->ops->timeout(w, t->nodeid);
    timer_free(t);
    done_one(w);
}

/* [NODE, ...] from a node we asked */
static int on_answer(aemp_node *node, const char *port, const aemp_val *msg,
                     void *ud)
{
    (void)node;
    (void)port;
    caemp_walk *w = ud;
    const char *from = aemp_str_ptr(aemp_array_at(msg, 0), NULL);
    aemp_val *v = from ? aemp_map_get(w->seen, from) : NULL;
    if (!v || aemp_is_null(v))
        return 0; /* not waited for (any more) */
    if (!w->ops->answer(w, from, msg))
        return 0; /* asked again: its timer runs on */
    timer_free(take_timer(w, from));
    done_one(w);
    return 0;
}

int caemp_walk_start(caemp_walk *w, const char *what,
                     const caemp_walk_ops *ops, void *ud)
{
    w->ops = ops;
    w->ud = ud;
    if (caemp_start_node(&w->cmd, what))
        return -1;
    event_del(w->cmd.timeout); /* each node has its own time */
    w->seen = aemp_map();
    w->reply = aemp_port(w->cmd.node, on_answer, w);
    if (!w->seen || !w->reply) {
        fprintf(stderr, "caemp: out of memory\n");
        return -1;
    }
    return 0;
}

void caemp_walk_ask(caemp_walk *w, const char *nodeid)
{
    if (!nodeid || aemp_map_get(w->seen, nodeid))
        return;
    walk_timer *t = calloc(1, sizeof *t);
    if (!t || !(t->nodeid = strdup(nodeid))
        || !(t->ev = event_new(w->cmd.base, -1, 0, on_timeout, t))) {
        free(t ? t->nodeid : NULL);
        free(t);
        w->status = 1;
        return;
    }
    t->w = w;
    struct timeval tv = {CAEMP_WALK_TIMEOUT, 0};
    event_add(t->ev, &tv);
    aemp_map_set(w->seen, nodeid, aemp_int((int64_t)(intptr_t)t));
    w->pending++;
    w->ops->ask(w, nodeid);
}

int caemp_walk_run(caemp_walk *w)
{
    if (w->pending)
        event_base_dispatch(w->cmd.base);
    else
        w->cmd.status = w->status;
    return w->cmd.status;
}

void caemp_walk_stop(caemp_walk *w)
{
    for (size_t i = 0; i < aemp_map_len(w->seen); i++) {
        aemp_val *v = aemp_map_value_at(w->seen, i);
        if (!aemp_is_null(v))
            timer_free((walk_timer *)(intptr_t)aemp_as_int(v));
    }
    aemp_unref(w->seen);
    free(w->reply);
    caemp_stop_node(&w->cmd);
}
