/* aemp-bench swarm: many client nodes on one event_base, each with its own
 * link to a seed (its master).
 *
 * mode "churn": the first "observers" nodes db_mon the family "bench";
 * every other node is a writer that alternately db_sets its own key (a new
 * value each time) and db_dels it. Every op changes the family, so the
 * seed sends one g_chg2 per op to each observer: an op is done when every
 * observer has seen it. Observers and writers share this process, so the
 * flow control needs no messages: writers, taken in turn, issue ops while
 * fewer than "window" ops are not yet seen by the slowest observer. That
 * bounds what the seed has queued, in and out. Once every node has a
 * master and every observer its first db_mon call, the writers start;
 * after "warmup" seconds the counters are read, and again "duration"
 * seconds later: ops/s are ops seen by every observer per second,
 * events/s the changes all observers together saw per second.
 *
 * mode "fanin": each node sends one ["x"] to "hub" once it has a master;
 * it finds the hub through the seed (g_find) and links to it directly.
 */
#include "bench.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAMILY "bench"

typedef struct swarm swarm;

typedef struct member {
    swarm *sw;
    aemp_node *node;
    int observer;
    int mon_ready;
    int sent; /* fanin: the message to the hub went; churn: db_mon called */
    char key[64];
    aemp_db_handle handle;
    int64_t seq;
    int64_t events;
} member;

struct swarm {
    struct event_base *base;
    const aemp_val *conf;
    const char *prefix;
    const char *hub;
    int fanin;
    size_t n, made, observers, batch, next_writer;
    int64_t window, issued;
    double warmup, duration;
    double t0, t_start, t_warm;
    int phase; /* 0 joining, 1 warmup, 2 measuring, 3 done */
    int64_t warm_done, warm_events;
    member *m;
    struct event *tick;
};

/* ops every observer has seen */
static int64_t ops_done(const swarm *sw)
{
    int64_t min = INT64_MAX;
    for (size_t i = 0; i < sw->observers; i++)
        if (sw->m[i].events < min)
            min = sw->m[i].events;
    return min;
}

static int64_t events_seen(const swarm *sw)
{
    int64_t sum = 0;
    for (size_t i = 0; i < sw->observers; i++)
        sum += sw->m[i].events;
    return sum;
}

/* ---- writers ---- */

static void writer_op(member *m)
{
    if (!m->handle.id) {
        m->handle = aemp_db_set(m->node, FAMILY, m->key, aemp_int(++m->seq));
    } else {
        aemp_db_del(m->node, FAMILY, m->key);
        aemp_db_release(m->node, m->handle); /* frees the handle */
        m->handle = (aemp_db_handle){0};
    }
}

static void pump(swarm *sw)
{
    if (sw->phase != 1 && sw->phase != 2)
        return;
    int64_t done = ops_done(sw);
    size_t writers = sw->n - sw->observers;
    while (sw->issued - done < sw->window) {
        writer_op(&sw->m[sw->observers + sw->next_writer]);
        sw->next_writer = (sw->next_writer + 1) % writers;
        sw->issued++;
    }
}

/* ---- observers ---- */

static void on_change(aemp_node *node, const char *family, const aemp_val *db,
                      const aemp_val *added, const aemp_val *changed,
                      const aemp_val *deleted, void *ud)
{
    (void)node;
    (void)family;
    (void)db;
    member *m = ud;
    if (!m->mon_ready) {
        m->mon_ready = 1; /* the initial contents: not a change */
        return;
    }
    m->events += (int64_t)(aemp_array_len(added) + aemp_array_len(changed) +
                           aemp_array_len(deleted));
    pump(m->sw);
}

/* ---- the swarm ---- */

static void make_member(swarm *sw, size_t i)
{
    member *m = &sw->m[i];
    m->sw = sw;
    m->observer = !sw->fanin && i < sw->observers;
    aemp_val *conf = aemp_copy(sw->conf);
    snprintf(m->key, sizeof m->key, "%s-%zu", sw->prefix, i);
    aemp_map_set(conf, "nodeid", aemp_str(m->key));
    m->node = bench_node_new(sw->base, conf);
    aemp_unref(conf);
}

static int all_joined(swarm *sw)
{
    int done = sw->made == sw->n;
    for (size_t i = 0; i < sw->made; i++) {
        member *m = &sw->m[i];
        if (!aemp_node_master(m->node)) {
            done = 0;
            continue;
        }
        if (sw->fanin) {
            if (!m->sent) {
                m->sent = 1;
                aemp_sndv(m->node, sw->hub, aemp_str("x"), NULL);
            }
        } else if (m->observer && !m->mon_ready) {
            done = 0;
            if (!m->sent) { /* db_mon once the master is known */
                m->sent = 1;
                aemp_db_mon(m->node, FAMILY, on_change, m);
            }
        }
    }
    return done;
}

static void on_tick(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    swarm *sw = ud;
    double now = bench_now();
    /* nodes are made a batch per tick: no thundering herd at the seed */
    for (size_t k = 0; k < sw->batch && sw->made < sw->n; k++)
        make_member(sw, sw->made++);
    if (sw->phase == 0) {
        if (!all_joined(sw))
            return;
        aemp_val *r = aemp_map();
        aemp_map_set(r, "nodes", aemp_int((int64_t)sw->n));
        aemp_map_set(r, "seconds", aemp_double(now - sw->t0));
        bench_emit(aemp_arrayv(aemp_str("joined"), r, NULL));
        if (sw->fanin) {
            sw->phase = 3;
            event_del(sw->tick);
            return;
        }
        sw->phase = 1;
        sw->t_start = now;
        pump(sw);
        return;
    }
    if (sw->phase == 1 && now - sw->t_start >= sw->warmup) {
        sw->phase = 2;
        sw->t_warm = now;
        sw->warm_done = ops_done(sw);
        sw->warm_events = events_seen(sw);
        bench_emit(aemp_arrayv(aemp_str("mark"), aemp_str("warm"), NULL));
        return;
    }
    if (sw->phase == 2 && now - sw->t_warm >= sw->duration) {
        int64_t ops = ops_done(sw) - sw->warm_done;
        int64_t events = events_seen(sw) - sw->warm_events;
        double dt = now - sw->t_warm;
        sw->phase = 3; /* the writers stop */
        event_del(sw->tick);
        aemp_val *r = aemp_map();
        aemp_map_set(r, "seconds", aemp_double(dt));
        aemp_map_set(r, "ops", aemp_int(ops));
        aemp_map_set(r, "events", aemp_int(events));
        aemp_map_set(r, "ops_per_s", aemp_double((double)ops / dt));
        aemp_map_set(r, "events_per_s", aemp_double((double)events / dt));
        aemp_map_set(r, "writers", aemp_int((int64_t)(sw->n - sw->observers)));
        aemp_map_set(r, "observers", aemp_int((int64_t)sw->observers));
        aemp_map_set(r, "window", aemp_int(sw->window));
        bench_emit(aemp_arrayv(aemp_str("result"), r, NULL));
    }
}

int bench_swarm(struct event_base *base, const aemp_val *args)
{
    static swarm sw;
    sw.base = base;
    sw.conf = aemp_map_get(args, "conf");
    sw.prefix = bench_arg_str(args, "prefix", "sw");
    sw.fanin = !strcmp(bench_arg_str(args, "mode", "churn"), "fanin");
    sw.hub = bench_arg_str(args, "hub", NULL);
    sw.n = (size_t)bench_arg_num(args, "nodes", 240);
    sw.observers = (size_t)bench_arg_num(args, "observers", 8);
    sw.batch = (size_t)bench_arg_num(args, "batch", 16);
    sw.window = (int64_t)bench_arg_num(args, "window", 2048);
    sw.warmup = bench_arg_num(args, "warmup", 0.5);
    sw.duration = bench_arg_num(args, "duration", 2.5);
    if (!sw.conf || !sw.n || sw.batch < 1 || sw.window < 1 ||
        (sw.fanin && !sw.hub) ||
        (!sw.fanin && (sw.observers < 1 || sw.observers >= sw.n))) {
        fprintf(stderr, "swarm: bad arguments (churn needs 1 <= observers "
                        "< nodes; fanin needs hub)\n");
        return 1;
    }
    sw.m = calloc(sw.n, sizeof *sw.m);
    if (!sw.m)
        return 1;
    sw.t0 = bench_now();
    sw.tick = bench_every(base, 0.005, on_tick, &sw);
    bench_emit(aemp_arrayv(aemp_str("ready"), aemp_str(sw.prefix), NULL));
    return 0;
}
