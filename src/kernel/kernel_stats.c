/* libaemp: the kernel's and the transport's counters as a stats map
 * (aemp/stats.h, docs/metrics.md). The transport counts in its host, the
 * kernel in its node, each with plain increments where the work is done;
 * this reads them. A higher layer adds its own through its stats hook. */
#include <string.h>

#include "aemp/stats.h"
#include "kernel.h"

static const char *const framing_name[2] = {"json", "cbor"};

aemp_val *aempi_stats_new(const char *nodeid)
{
    aemp_val *s = aemp_map();
    aemp_map_set(s, "node", aemp_str(nodeid ? nodeid : ""));
    aemp_map_set(s, "provider", aemp_str("libaemp"));
    aemp_map_set(s, "metrics", aemp_map());
    return s;
}

aemp_val *aempi_stats_label(const char *name, const char *value)
{
    aemp_val *l = aemp_map();
    aemp_map_set(l, name, aemp_str(value));
    return l;
}

void aempi_stats_add(aemp_val *stats, const char *name, const char *type,
                     const char *help, aemp_val *labels, uint64_t value)
{
    aemp_val *metrics = aemp_map_get(stats, "metrics");
    aemp_val *m = aemp_map_get(metrics, name);
    if (!m && metrics) {
        m = aemp_map();
        aemp_map_set(m, "type", aemp_str(type));
        aemp_map_set(m, "help", aemp_str(help));
        aemp_map_set(m, "samples", aemp_array());
        aemp_map_set(metrics, name, m);
        m = aemp_map_get(metrics, name);
    }
    aemp_val *sample = aemp_arrayv(labels ? labels : aemp_map(),
                                   aemp_uint(value), NULL);
    if (!m)
        aemp_unref(sample);
    else
        aemp_array_push(aemp_map_get(m, "samples"), sample);
}

/* One counter per framing. */
static void add_framed(aemp_val *stats, const char *name, const char *help,
                       const uint64_t count[2])
{
    for (int f = 0; f < 2; f++)
        aempi_stats_add(stats, name, "counter", help,
                        aempi_stats_label("framing", framing_name[f]),
                        count[f]);
}

/* The links up: a label each for the first AEMP_STATS_MAX_PEERS, the
 * rest summed, so that a seed's thousands of links stay a short page. */
typedef struct link_visit {
    aemp_val *stats;
    size_t listed;
    uint64_t up[2];
    uint64_t other_links, other_unsent;
} link_visit;

/* Adds value to the sample of name with these labels (taken), or adds
 * the sample: two links to one peer (a reconnect racing the old link's
 * close) must not make two series of the same labels, which a scraper
 * refuses. */
static void add_or_bump(aemp_val *stats, const char *name, const char *help,
                        aemp_val *labels, uint64_t value)
{
    aemp_val *m = aemp_map_get(aemp_map_get(stats, "metrics"), name);
    aemp_val *samples = aemp_map_get(m, "samples");
    for (size_t i = 0; i < aemp_array_len(samples); i++) {
        aemp_val *sample = aemp_array_at(samples, i);
        if (aemp_equal(aemp_array_at(sample, 0), labels)) {
            uint64_t sum = aemp_as_uint(aemp_array_at(sample, 1)) + value;
            aemp_unref(aemp_array_take(sample, 1));
            aemp_array_push(sample, aemp_uint(sum));
            aemp_unref(labels);
            return;
        }
    }
    aempi_stats_add(stats, name, "gauge", help, labels, value);
}

static void peer_sample(aemp_val *stats, const char *peer,
                        const char *framing, uint64_t links, uint64_t unsent)
{
    aemp_val *labels = aempi_stats_label("peer", peer);
    aemp_map_set(labels, "framing", aemp_str(framing));
    add_or_bump(stats, "aemp_link_up",
                "links up to a peer node, by peer and framing", labels, links);
    add_or_bump(stats, "aemp_link_send_queue_bytes",
                "bytes sent on the link that the socket has not taken",
                aempi_stats_label("peer", peer), unsent);
}

static void visit_link(void *ud, const char *remote_id, const char *framing,
                       size_t unsent)
{
    link_visit *v = ud;
    v->up[!strcmp(framing, "cbor")]++;
    if (v->listed < AEMP_STATS_MAX_PEERS) {
        v->listed++;
        peer_sample(v->stats, remote_id, framing, 1, unsent);
        return;
    }
    v->other_links++;
    v->other_unsent += unsent;
}

static void add_links(aemp_node *n, aemp_val *stats)
{
    link_visit v = {.stats = stats};
    aempi_link_host_each_up(&n->transport, visit_link, &v);
    if (v.other_links)
        peer_sample(stats, "_other", "", v.other_links, v.other_unsent);
    for (int f = 0; f < 2; f++)
        aempi_stats_add(stats, "aemp_links_up", "gauge",
                        "node links in the data phase, by framing",
                        aempi_stats_label("framing", framing_name[f]),
                        v.up[f]);
}

static uint64_t queued_bytes(aemp_node *n)
{
    uint64_t sum = 0;
    for (aemp_dict_entry *e = aempi_dict_next(&n->remotes, NULL); e;
         e = aempi_dict_next(&n->remotes, e))
        sum += ((aemp_remote *)e->value)->queue_bytes;
    return sum;
}

static void add_gauge(aemp_val *stats, const char *name, const char *help,
                      uint64_t value)
{
    aempi_stats_add(stats, name, "gauge", help, NULL, value);
}

aemp_val *aempi_kernel_stats(aemp_node *n)
{
    aemp_val *stats = aempi_stats_new(n->id);
    const aemp_link_counters *c = &n->transport.count;
    aempi_stats_add(stats, "aemp_node_info", "gauge",
                    "1, labelled with the node id",
                    aempi_stats_label("node", n->id), 1);
    add_framed(stats, "aemp_messages_in_total", "messages received, by framing",
               c->msgs_in);
    add_framed(stats, "aemp_messages_out_total", "messages sent, by framing",
               c->msgs_out);
    add_framed(stats, "aemp_bytes_in_total",
               "bytes of frames received, by framing", c->bytes_in);
    add_framed(stats, "aemp_bytes_out_total",
               "bytes of frames sent, by framing", c->bytes_out);
    aempi_stats_add(stats, "aemp_links_opened_total", "counter",
                    "node links that reached the data phase", NULL,
                    c->links_up);
    add_links(n, stats);
    add_gauge(stats, "aemp_queued_bytes",
              "bytes of messages waiting for a node's link to come up",
              queued_bytes(n));
    add_gauge(stats, "aemp_ports", "local ports", n->ports.count);
    add_gauge(stats, "aemp_monitors", "monitors of ports, of every kind",
              n->monitors.count);
    add_gauge(stats, "aemp_remote_nodes",
              "other nodes the node keeps an entry for", n->remotes.count);
    aempi_stats_add(stats, "aemp_jobs_run_total", "counter",
                    "deliveries, kills, monitor firings and other deferred "
                    "work run", NULL, n->jobs_run);
    n->hooks.stats(n, stats);
    return stats;
}
