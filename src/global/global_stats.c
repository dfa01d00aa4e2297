/* libaemp: the global protocol's counters, for the kernel's stats map
 * (its stats hook; docs/metrics.md). Every node says whether it is a
 * global node and how many keys it owns; a global (seed) node adds its
 * database's size, the requests it served and its fan-out. */
#include "global_int.h"

static const char *const op_name[GOP_COUNT] = {
    [GOP_SLAVE] = "g_slave", [GOP_SET] = "g_set", [GOP_UPD] = "g_upd",
    [GOP_FIND] = "g_find",   [GOP_DB] = "g_db",   [GOP_MON1] = "g_mon1",
    [GOP_MON0] = "g_mon0",
};

/* The entries of the maps that are m's values. */
static uint64_t inner_len(const aemp_val *m)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < aemp_map_len(m); i++)
        sum += aemp_map_len(aemp_map_value_at(m, i));
    return sum;
}

static void gauge(aemp_val *stats, const char *name, const char *help,
                  uint64_t value)
{
    aempi_stats_add(stats, name, "gauge", help, NULL, value);
}

static void counter(aemp_val *stats, const char *name, const char *help,
                    uint64_t value)
{
    aempi_stats_add(stats, name, "counter", help, NULL, value);
}

static void seed_stats(aemp_global *g, aemp_val *stats)
{
    gauge(stats, "aemp_seed_nodes", "nodes that registered with this seed",
          aemp_map_len(g->slaves));
    gauge(stats, "aemp_seed_global_nodes", "other global nodes known",
          g->global_nodes.count);
    gauge(stats, "aemp_seed_families", "families in the global database",
          aemp_map_len(g->global_db));
    gauge(stats, "aemp_seed_keys", "keys in the global database, all families",
          inner_len(g->global_db));
    gauge(stats, "aemp_seed_family_monitors",
          "nodes monitoring a family, summed over the families",
          inner_len(g->gmon));
    for (int op = 0; op < GOP_COUNT; op++)
        aempi_stats_add(stats, "aemp_seed_db_ops_total", "counter",
                        "database requests served, by request",
                        aempi_stats_label("op", op_name[op]),
                        g->count.ops[op]);
    counter(stats, "aemp_seed_changes_total",
            "family changes sent to the family's monitors", g->count.changes);
    counter(stats, "aemp_seed_fanout_total",
            "change messages sent to monitoring nodes (one per monitor)",
            g->count.fanout);
}

void aempi_global_stats(aemp_node *n, aemp_val *stats)
{
    aemp_global *g = global_of(n);
    gauge(stats, "aemp_global_node", "1 on a global (seed) node, else 0",
          g->on ? 1 : 0);
    gauge(stats, "aemp_db_local_keys",
          "keys this node registered (db_set), all families",
          inner_len(g->local_db));
    if (g->on)
        seed_stats(g, stats);
}
