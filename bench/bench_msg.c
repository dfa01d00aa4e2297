/* aemp-bench: messages between two nodes (throughput, latency) and a plain
 * node (idle, seed, hub).
 *
 * Throughput: the source sends ["d", PAYLOAD] to SINK#data as fast as a
 * credit window lets it; the sink acks every ack_every messages with
 * ["a", COUNT] to the source's port, so at most window messages are in
 * flight (no unbounded buffering on either side). After "duration"
 * seconds the source sends ["end"]; the sink reports how many messages it
 * counted from the first one to the end.
 *
 * Latency: the pinger sends ["p", REPLYPORT, SEQ] to ECHO#echo and the
 * next one only when ["r", SEQ] came back: one message in flight.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sink ---------------------------------------------------------- */

typedef struct sink {
    const char *ack;
    int64_t ack_every;
    int64_t count;
    double first, first_cpu;
} sink;

static int sink_data(aemp_node *node, const char *port, const aemp_val *msg,
                     void *ud)
{
    (void)port;
    (void)msg;
    sink *s = ud;
    if (!s->count++) {
        s->first = bench_now();
        s->first_cpu = bench_cpu();
    }
    if (s->count % s->ack_every == 0)
        aemp_sndv(node, s->ack, aemp_str("a"), aemp_int(s->count), NULL);
    return 0;
}

static int sink_end(aemp_node *node, const char *port, const aemp_val *msg,
                    void *ud)
{
    (void)node;
    (void)port;
    (void)msg;
    sink *s = ud;
    double secs = bench_now() - s->first;
    double cpu = bench_cpu() - s->first_cpu;
    aemp_val *r = aemp_map();
    aemp_map_set(r, "count", aemp_int(s->count));
    aemp_map_set(r, "seconds", aemp_double(secs));
    aemp_map_set(r, "rate", aemp_double(s->count > 1 && secs > 0
                                            ? (double)(s->count - 1) / secs
                                            : 0));
    /* the sink's own cost per message, whatever kept it waiting: user
     * and system time (reads, decoding, the callbacks, the acks) */
    aemp_map_set(r, "cpu_s", aemp_double(cpu));
    aemp_map_set(r, "cpu_ns_per_msg",
                 aemp_double(s->count > 1 ? cpu * 1e9 / (double)(s->count - 1)
                                          : 0));
    bench_emit(aemp_arrayv(aemp_str("result"), r, NULL));
    s->count = 0;
    return 0;
}

int bench_sink(struct event_base *base, const aemp_val *args)
{
    static sink s;
    aemp_node *node = bench_node_new(base, aemp_map_get(args, "conf"));
    s.ack = bench_arg_str(args, "ack", NULL);
    s.ack_every = (int64_t)bench_arg_num(args, "ack_every", 1024);
    if (!s.ack || s.ack_every < 1) {
        fprintf(stderr, "sink: needs ack and ack_every\n");
        return 1;
    }
    /* busy_poll: microseconds (aemp_node_set_busy_poll), 0 is off */
    if (aemp_node_set_busy_poll(node,
                                (unsigned)bench_arg_num(args, "busy_poll", 0))) {
        fprintf(stderr, "sink: busy_poll is at most 1000000\n");
        return 1;
    }
    char port[256];
    snprintf(port, sizeof port, "%s#data", aemp_node_id(node));
    aemp_rcv(node, port, "d", sink_data, &s);
    aemp_rcv(node, port, "end", sink_end, &s);
    bench_emit_ready(node);
    return 0;
}

/* ---- source -------------------------------------------------------- */

typedef struct source {
    aemp_node *node;
    const char *to;
    char *to_node;
    aemp_val *tag, *payload;
    int64_t window, sent, acked;
    double start, duration;
    int started, ended;
    struct event *poll;
} source;

static void source_fill(source *s)
{
    while (s->sent - s->acked < s->window) {
        aemp_sndv(s->node, s->to, aemp_ref(s->tag), aemp_ref(s->payload),
                  NULL);
        s->sent++;
    }
}

static void source_end(source *s)
{
    s->ended = 1;
    aemp_sndv(s->node, s->to, aemp_str("end"), NULL);
    aemp_val *r = aemp_map();
    aemp_map_set(r, "sent", aemp_int(s->sent));
    aemp_map_set(r, "seconds", aemp_double(bench_now() - s->start));
    bench_emit(aemp_arrayv(aemp_str("sent"), r, NULL));
}

static int source_ack(aemp_node *node, const char *port, const aemp_val *msg,
                      void *ud)
{
    (void)node;
    (void)port;
    source *s = ud;
    s->acked = aemp_as_int(aemp_array_at(msg, 1));
    if (s->ended)
        return 0;
    if (bench_now() - s->start >= s->duration)
        source_end(s);
    else
        source_fill(s);
    return 0;
}

/* Starts sending once the link to the sink is up. */
static void source_poll(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    source *s = ud;
    if (s->started || aemp_node_is_up(s->node, s->to_node) != 1)
        return;
    s->started = 1;
    event_del(s->poll);
    s->start = bench_now();
    source_fill(s);
}

int bench_source(struct event_base *base, const aemp_val *args)
{
    static source s;
    s.node = bench_node_new(base, aemp_map_get(args, "conf"));
    s.to = bench_arg_str(args, "to", NULL);
    s.window = (int64_t)bench_arg_num(args, "window", 8192);
    s.duration = bench_arg_num(args, "duration", 2.5);
    /* a message ["d", "xxx..."] of exactly size bytes as JSON */
    size_t size = (size_t)bench_arg_num(args, "size", 30);
    if (!s.to || size < 9 || s.window < 1) {
        fprintf(stderr, "source: needs to, size >= 9 and window\n");
        return 1;
    }
    char *fill = malloc(size - 8 + 1);
    if (!fill)
        return 1;
    memset(fill, 'x', size - 8);
    fill[size - 8] = 0;
    s.payload = aemp_str(fill);
    s.tag = aemp_str("d");
    free(fill);
    s.to_node = aemp_node_of(s.to);
    char port[256];
    snprintf(port, sizeof port, "%s#ack", aemp_node_id(s.node));
    aemp_rcv(s.node, port, "a", source_ack, &s);
    s.poll = bench_every(base, 0.002, source_poll, &s);
    bench_emit_ready(s.node);
    return 0;
}

/* ---- echo ---------------------------------------------------------- */

static int echo_ping(aemp_node *node, const char *port, const aemp_val *msg,
                     void *ud)
{
    (void)port;
    (void)ud;
    const char *reply = aemp_str_ptr(aemp_array_at(msg, 1), NULL);
    if (reply)
        aemp_sndv(node, reply, aemp_str("r"),
                  aemp_ref(aemp_array_at(msg, 2)), NULL);
    return 0;
}

int bench_echo(struct event_base *base, const aemp_val *args)
{
    aemp_node *node = bench_node_new(base, aemp_map_get(args, "conf"));
    char port[256];
    snprintf(port, sizeof port, "%s#echo", aemp_node_id(node));
    aemp_rcv(node, port, "p", echo_ping, NULL);
    bench_emit_ready(node);
    return 0;
}

/* ---- ping ---------------------------------------------------------- */

typedef struct pinger {
    aemp_node *node;
    const char *to;
    char *to_node;
    char reply[256];
    double start, sent_at, warmup, duration;
    int64_t seq;
    bench_samples rtt;
    int started, done;
    struct event *poll;
} pinger;

static void ping_send(pinger *p)
{
    p->sent_at = bench_now();
    aemp_sndv(p->node, p->to, aemp_str("p"), aemp_str(p->reply),
              aemp_int(++p->seq), NULL);
}

static void ping_report(pinger *p)
{
    p->done = 1;
    bench_samples *s = &p->rtt;
    bench_samples_sort(s);
    double sum = 0;
    for (size_t i = 0; i < s->n; i++)
        sum += s->v[i];
    aemp_val *r = aemp_map();
    aemp_map_set(r, "count", aemp_int((int64_t)s->n));
    aemp_map_set(r, "p50", aemp_double(bench_samples_pct(s, 0.50)));
    aemp_map_set(r, "p90", aemp_double(bench_samples_pct(s, 0.90)));
    aemp_map_set(r, "p99", aemp_double(bench_samples_pct(s, 0.99)));
    aemp_map_set(r, "max", aemp_double(bench_samples_pct(s, 1)));
    aemp_map_set(r, "mean", aemp_double(s->n ? sum / (double)s->n : 0));
    bench_emit(aemp_arrayv(aemp_str("result"), r, NULL));
}

static int ping_pong(aemp_node *node, const char *port, const aemp_val *msg,
                     void *ud)
{
    (void)node;
    (void)port;
    pinger *p = ud;
    double now = bench_now();
    if (p->done || aemp_as_int(aemp_array_at(msg, 1)) != p->seq)
        return 0;
    if (now - p->start >= p->warmup &&
        bench_samples_add(&p->rtt, (now - p->sent_at) * 1e6)) {
        ping_report(p);
        return 0;
    }
    if (now - p->start >= p->warmup + p->duration)
        ping_report(p);
    else
        ping_send(p);
    return 0;
}

static void ping_poll(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    pinger *p = ud;
    if (p->started || aemp_node_is_up(p->node, p->to_node) != 1)
        return;
    p->started = 1;
    event_del(p->poll);
    p->start = bench_now();
    ping_send(p);
}

int bench_ping(struct event_base *base, const aemp_val *args)
{
    static pinger p;
    p.node = bench_node_new(base, aemp_map_get(args, "conf"));
    p.to = bench_arg_str(args, "to", NULL);
    p.warmup = bench_arg_num(args, "warmup", 0.3);
    p.duration = bench_arg_num(args, "duration", 2);
    if (!p.to) {
        fprintf(stderr, "ping: needs to\n");
        return 1;
    }
    p.to_node = aemp_node_of(p.to);
    snprintf(p.reply, sizeof p.reply, "%s#pong", aemp_node_id(p.node));
    aemp_rcv(p.node, p.reply, "r", ping_pong, &p);
    p.poll = bench_every(base, 0.002, ping_poll, &p);
    bench_emit_ready(p.node);
    return 0;
}

/* ---- a plain node ---------------------------------------------------- */

/* An idle node, a seed (conf's seeds hold its own address), or a hub: it
 * counts messages on NODE#sink and reports ["count", N] once it has
 * "expect" of them. With "report_master" it reports ["master", ID] when
 * it has one. */
typedef struct plain {
    aemp_node *node;
    int64_t count, expect;
    int report_master;
    struct event *poll;
} plain;

static int plain_sink(aemp_node *node, const char *port, const aemp_val *msg,
                      void *ud)
{
    (void)node;
    (void)port;
    (void)msg;
    plain *p = ud;
    if (++p->count == p->expect)
        bench_emit(aemp_arrayv(aemp_str("count"), aemp_int(p->count), NULL));
    return 0;
}

static void plain_poll(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    plain *p = ud;
    const char *m = aemp_node_master(p->node);
    if (!m)
        return;
    bench_emit(aemp_arrayv(aemp_str("master"), aemp_str(m), NULL));
    event_del(p->poll);
}

int bench_plain(struct event_base *base, const aemp_val *args)
{
    static plain p;
    p.node = bench_node_new(base, aemp_map_get(args, "conf"));
    p.expect = (int64_t)bench_arg_num(args, "expect", 0);
    char port[256];
    snprintf(port, sizeof port, "%s#sink", aemp_node_id(p.node));
    aemp_rcv(p.node, port, NULL, plain_sink, &p);
    if (bench_arg_num(args, "report_master", 0))
        p.poll = bench_every(base, 0.005, plain_poll, &p);
    bench_emit_ready(p.node);
    return 0;
}

/* ---- no node at all ---------------------------------------------------- */

/* The same program and libraries without a node: the floor under the
 * idle node's resident size. */
int bench_bare(struct event_base *base, const aemp_val *args)
{
    (void)base;
    (void)args;
    bench_emit(aemp_arrayv(aemp_str("ready"), NULL));
    return 0;
}
