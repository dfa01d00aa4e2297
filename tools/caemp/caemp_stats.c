/* caemp: stats NODE [--json] [--interval SECS]: a node's counters
 * (docs/metrics.md), one "NAME{LABELS} VALUE" line each, or the stats map
 * as JSON.
 *
 * A C node answers its named function aemp::stats with the map. A Perl
 * node has no such function: what it can tell is learnt by eval (links
 * up and their peers, ports, nodes known, the database's sizes on a
 * seed), in the same shape. caemp asks by eval first: a Perl node
 * answers, a C node answers with an error (it runs no Perl) and is then
 * asked by name; a node that answers no eval within 2 seconds (a C node
 * in secure mode) is asked by name too.
 *
 * With --interval SECS it asks again every SECS seconds until stopped;
 * from the second answer on, counters (NAME_total) are printed as
 * NAME_per_second, their rate since the answer before. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "caemp.h"

#define FALLBACK_SECONDS 2
#define ANSWER_SECONDS 5

/* What a Perl node evaluates: its counters as a stats map. */
static const char perl_stats[] =
    "my (%m, $add); my $K = \\%AnyEvent::MP::Kernel::NODE;"
    " my $self = $AnyEvent::MP::Kernel::NODE;"
    " $add = sub { my ($n, $t, $h, $l, $v) = @_;"
    "  $m{$n} ||= { type => $t, help => $h, samples => [] };"
    "  push @{ $m{$n}{samples} }, [$l || {}, 0 + $v] };"
    " my $inner = sub { my $s = 0; $s += keys %$_ for grep ref, values %{$_[0]}; $s };"
    " my @up = sort grep { $_ ne $self && ref $K->{$_} && $K->{$_}{transport} } keys %$K;"
    " $add->('aemp_node_info', 'gauge', '1, labelled with the node id', { node => $self }, 1);"
    " $add->('aemp_links_up', 'gauge', 'node links up', {}, scalar @up);"
    " $add->('aemp_link_up', 'gauge', 'links up to a peer node, by peer', { peer => $_ }, 1)"
    "  for @up[0 .. (@up > 64 ? 63 : $#up)];"
    " $add->('aemp_link_up', 'gauge', 'links up to a peer node, by peer', { peer => '_other' }, @up - 64)"
    "  if @up > 64;"
    " $add->('aemp_ports', 'gauge', 'local ports', {}, scalar keys %AnyEvent::MP::Kernel::PORT);"
    " $add->('aemp_remote_nodes', 'gauge', 'other nodes the node keeps an entry for', {},"
    "  scalar grep { $_ ne $self } keys %$K);"
    " $add->('aemp_global_node', 'gauge', '1 on a global (seed) node, else 0', {},"
    "  $AnyEvent::MP::Kernel::GLOBAL ? 1 : 0);"
    " $add->('aemp_db_local_keys', 'gauge', 'keys this node registered (db_set), all families', {},"
    "  $inner->(\\%AnyEvent::MP::Kernel::LOCAL_DB));"
    " if ($AnyEvent::MP::Kernel::GLOBAL) {"
    "  $add->('aemp_seed_nodes', 'gauge', 'nodes that registered with this seed', {},"
    "   scalar keys %AnyEvent::MP::Kernel::GLOBAL_SLAVE);"
    "  $add->('aemp_seed_global_nodes', 'gauge', 'other global nodes known', {},"
    "   scalar grep { $_ ne $self } keys %AnyEvent::MP::Kernel::GLOBAL_NODE);"
    "  $add->('aemp_seed_families', 'gauge', 'families in the global database', {},"
    "   scalar keys %AnyEvent::MP::Kernel::GLOBAL_DB);"
    "  $add->('aemp_seed_keys', 'gauge', 'keys in the global database, all families', {},"
    "   $inner->(\\%AnyEvent::MP::Kernel::GLOBAL_DB));"
    "  $add->('aemp_seed_family_monitors', 'gauge', 'nodes monitoring a family, summed over the families', {},"
    "   $inner->(\\%AnyEvent::MP::Kernel::GLOBAL_MON)) }"
    " +{ node => $self, provider => 'perl', metrics => \\%m }";

typedef struct stats_state {
    caemp_cmd cmd;
    char *nodeid;
    char *reply;      /* aemp::stats' answers */
    char *eval_reply; /* eval's */
    int json;
    double interval;  /* 0: once */
    int by_name;      /* known to answer aemp::stats (a C node) */
    struct event *fallback, *again;
    aemp_val *prev;   /* the answer before, for rates */
    struct timespec prev_at;
} stats_state;

static double since(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) +
           (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* The sample of metric name in stats whose labels equal labels. */
static const aemp_val *sample_in(const aemp_val *stats, const char *name,
                                 const aemp_val *labels)
{
    const aemp_val *m = aemp_map_get(aemp_map_get(stats, "metrics"), name);
    const aemp_val *samples = aemp_map_get(m, "samples");
    for (size_t i = 0; i < aemp_array_len(samples); i++) {
        const aemp_val *s = aemp_array_at(samples, i);
        if (aemp_equal(aemp_array_at(s, 0), labels))
            return aemp_array_at(s, 1);
    }
    return NULL;
}

/* The counters' samples as rates per second since prev (dt seconds). */
static aemp_val *counter_rates(const char *name, const aemp_val *m,
                               const aemp_val *prev, double dt)
{
    aemp_val *rates = aemp_array();
    const aemp_val *samples = aemp_map_get(m, "samples");
    for (size_t i = 0; i < aemp_array_len(samples); i++) {
        const aemp_val *s = aemp_array_at(samples, i);
        const aemp_val *before = sample_in(prev, name, aemp_array_at(s, 0));
        double d = aemp_as_double(aemp_array_at(s, 1)) -
                   (before ? aemp_as_double(before) : 0);
        uint64_t rate = d > 0 && dt > 0 ? (uint64_t)llround(d / dt) : 0;
        aemp_array_push(rates, aemp_arrayv(aemp_copy(aemp_array_at(s, 0)),
                                           aemp_uint(rate), NULL));
    }
    return rates;
}

/* cur with each NAME_total counter replaced by NAME_per_second. */
static aemp_val *with_rates(const aemp_val *cur, const aemp_val *prev,
                            double dt)
{
    aemp_val *out = aemp_copy(cur);
    const aemp_val *metrics = aemp_map_get(cur, "metrics");
    aemp_val *om = aemp_map();
    for (size_t i = 0; i < aemp_map_len(metrics); i++) {
        const char *name = aemp_map_key_at(metrics, i, NULL);
        const aemp_val *m = aemp_map_value_at(metrics, i);
        size_t len = strlen(name);
        if (!aemp_str_eq(aemp_map_get(m, "type"), "counter") || len < 6 ||
            strcmp(name + len - 6, "_total")) {
            aemp_map_set(om, name, aemp_copy(m));
            continue;
        }
        const char *help = aemp_str_ptr(aemp_map_get(m, "help"), NULL);
        aemp_val *r = aemp_map();
        aemp_map_set(r, "type", aemp_str("gauge"));
        aemp_map_set(r, "help", aemp_strf("per second: %s", help ? help : ""));
        aemp_map_set(r, "samples", counter_rates(name, m, prev, dt));
        char rname[256];
        snprintf(rname, sizeof rname, "%.*s_per_second", (int)(len - 6),
                 name);
        aemp_map_set(om, rname, r);
    }
    aemp_map_set(out, "metrics", om);
    return out;
}

/* One answer: JSON, or the exposition's sample lines without the
 * comments. */
static int print_stats(const stats_state *st, const aemp_val *stats)
{
    if (st->json) {
        char *json = aemp_to_json(stats, NULL);
        if (json)
            printf("%s\n", json);
        free(json);
        fflush(stdout);
        return json ? 0 : -1;
    }
    size_t len;
    char *text = aemp_stats_prometheus(stats, &len);
    if (!text)
        return -1;
    for (char *line = text, *end; *line; line = end + 1) {
        end = strchr(line, '\n');
        if (!end)
            break;
        if (*line != '#')
            fwrite(line, 1, (size_t)(end - line) + 1, stdout);
    }
    if (st->interval > 0)
        fputs("\n", stdout); /* a blank line between the rounds */
    fflush(stdout);
    free(text);
    return 0;
}

static void ask(stats_state *st);

static void ask_again(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    ask(ud);
}

static void got_stats(stats_state *st, const aemp_val *stats)
{
    if (aemp_type_of(aemp_map_get(stats, "metrics")) != AEMP_MAP) {
        fprintf(stderr, "caemp: stats: %s: the answer is not a stats map\n",
                st->nodeid);
        caemp_finish(&st->cmd, 1);
        return;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    aemp_val *shown = st->prev ? with_rates(stats, st->prev,
                                            since(&st->prev_at, &now))
                               : aemp_ref((aemp_val *)stats);
    int failed = print_stats(st, shown);
    aemp_unref(shown);
    if (failed || st->interval <= 0) {
        caemp_finish(&st->cmd, failed ? 1 : 0);
        return;
    }
    aemp_unref(st->prev);
    st->prev = aemp_copy(stats);
    st->prev_at = now;
    event_del(st->cmd.timeout);
    struct timeval tv = {(time_t)st->interval,
                         (suseconds_t)((st->interval - floor(st->interval)) *
                                       1e6)};
    event_add(st->again, &tv);
}

static void ask_by_name(stats_state *st)
{
    event_del(st->fallback);
    st->by_name = 1;
    aemp_snd_to_func(st->cmd.node, st->nodeid, AEMP_STATS_FUNC,
                     aemp_arrayv(aemp_str(st->reply), NULL));
}

static void fallback(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    ask_by_name(ud);
}

/* [STATS] from aemp::stats */
static int stats_reply(aemp_node *node, const char *port, const aemp_val *msg,
                       void *ud)
{
    (void)node;
    (void)port;
    got_stats(ud, aemp_array_at(msg, 0));
    return 0;
}

/* [$@, STATS] from eval: a Perl node's, or a C node's error */
static int eval_reply(aemp_node *node, const char *port, const aemp_val *msg,
                      void *ud)
{
    (void)node;
    (void)port;
    stats_state *st = ud;
    size_t errlen = 0;
    const aemp_val *err = aemp_array_at(msg, 0);
    if (st->by_name)
        return 0; /* asked by name meanwhile: that answer counts */
    if ((aemp_str_ptr(err, &errlen) && errlen) ||
        (!aemp_str_ptr(err, NULL) && !aemp_is_null(err))) {
        ask_by_name(st); /* no Perl there: a C node */
        return 0;
    }
    event_del(st->fallback);
    got_stats(st, aemp_array_at(msg, 1));
    return 0;
}

static void ask(stats_state *st)
{
    struct timeval answer = {ANSWER_SECONDS, 0};
    event_add(st->cmd.timeout, &answer);
    if (st->by_name) {
        ask_by_name(st);
        return;
    }
    aemp_sndv(st->cmd.node, st->nodeid, aemp_str("eval"), aemp_str(perl_stats),
              aemp_str(st->eval_reply), NULL);
    struct timeval fb = {FALLBACK_SECONDS, 0};
    event_add(st->fallback, &fb);
}

static void node_died(aemp_node *node, const char *port,
                      const aemp_val *reason, void *ud)
{
    (void)node;
    (void)port;
    stats_state *st = ud;
    char *why = aemp_to_json(reason, NULL);
    fprintf(stderr, "caemp: stats: %s: %s%s\n", st->nodeid, why ? why : "",
            caemp_last_error_note(st->cmd.node, st->nodeid, NULL));
    free(why);
    caemp_finish(&st->cmd, 1);
}

/* NODE [--json] [--interval SECS], options anywhere after NODE. */
static int parse_args(stats_state *st, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            st->json = 1;
        else if (!strcmp(argv[i], "--interval") && i + 1 < argc) {
            char *end;
            st->interval = strtod(argv[++i], &end);
            if (*end || !(st->interval > 0) || st->interval > 86400) {
                fprintf(stderr, "caemp: stats: --interval: not a number of "
                                "seconds (0 < SECS <= 86400): %s\n",
                        argv[i]);
                return -1;
            }
        } else if (argv[i][0] == '-' || st->nodeid) {
            fprintf(stderr, "caemp: stats: unknown argument: %s (usage: "
                            "stats NODE [--json] [--interval SECS])\n",
                    argv[i]);
            return -1;
        } else
            st->nodeid = aemp_node_of(argv[i]);
    }
    if (!st->nodeid) {
        fprintf(stderr, "caemp: stats: node id missing\n");
        return -1;
    }
    return 0;
}

int caemp_stats_command(int argc, char **argv)
{
    stats_state st = {0};
    if (parse_args(&st, argc, argv)) {
        free(st.nodeid);
        return 1;
    }
    if (caemp_start_node(&st.cmd, "stats")) {
        caemp_stop_node(&st.cmd);
        free(st.nodeid);
        return 1;
    }
    st.fallback = event_new(st.cmd.base, -1, 0, fallback, &st);
    st.again = event_new(st.cmd.base, -1, 0, ask_again, &st);
    st.reply = aemp_port(st.cmd.node, stats_reply, &st);
    st.eval_reply = aemp_port(st.cmd.node, eval_reply, &st);
    aemp_mon(st.cmd.node, st.nodeid, node_died, &st);
    ask(&st);
    event_base_dispatch(st.cmd.base);
    event_free(st.fallback);
    event_free(st.again);
    free(st.reply);
    free(st.eval_reply);
    free(st.nodeid);
    aemp_unref(st.prev);
    caemp_stop_node(&st.cmd);
    return st.cmd.status;
}
