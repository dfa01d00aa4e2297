/* aemp-bench: the C side of the benchmark harness (bench/run).
 *
 * One program, one mode per run: aemp-bench MODE ARGS-AS-JSON-OBJECT.
 * ARGS holds "conf" (configure's key/value pairs) and the mode's own
 * settings. Events go to stdout, one JSON array per line; the harness
 * reads them. Every mode ends by itself after "timeout" seconds (default
 * 60) and when stdin reaches end of file, so nothing outlives the harness.
 *
 * Modes (bench_msg.c, bench_swarm.c):
 *   sink    throughput receiver: counts ["d", ...] on NODE#data, acks
 *   source  throughput sender: ["d", PAYLOAD] with a credit window
 *   echo    latency: ["p", REPLYPORT, SEQ] on NODE#echo -> ["r", SEQ]
 *   ping    latency: one ping in flight, RTT percentiles
 *   node    a plain node (idle, seed, or a hub that counts messages)
 *   swarm   many nodes on one event_base: database churn against a seed
 *           with db_mon observers, or one message each to a hub
 *   bare    no node: the program and its libraries idle (an RSS floor)
 *   scale   thousands of protocol-speaking clients of one seed, phases
 *           started by commands on stdin (bench_scale.c)
 *   tcpecho, tcpping  the same ping-pong over plain TCP (bench_tcp.c)
 */
#ifndef AEMP_BENCH_H
#define AEMP_BENCH_H

#include <aemp/aemp.h>
#include <event2/event.h>

#include "bench_sys.h"

/* Writes event (taken) as one JSON line on stdout and flushes. */
void bench_emit(aemp_val *event);

/* ["ready", NODEID, BINDS]. */
void bench_emit_ready(aemp_node *node);

/* Settings from ARGS, with defaults. */
const char *bench_arg_str(const aemp_val *args, const char *key,
                          const char *def);
double bench_arg_num(const aemp_val *args, const char *key, double def);

/* A new node on base configured with ARGS' "conf" (the rc file from
 * $PERL_ANYEVENT_MP_RC fills in the rest). Exits on failure. */
aemp_node *bench_node_new(struct event_base *base, const aemp_val *conf);

/* A timer calling cb every interval seconds (persistent). */
struct event *bench_every(struct event_base *base, double interval,
                          event_callback_fn cb, void *ud);

/* The modes. Each sets up its nodes on base and returns 0, or prints why
 * not to stderr and returns non-zero. The caller runs the loop. */
int bench_sink(struct event_base *base, const aemp_val *args);
int bench_source(struct event_base *base, const aemp_val *args);
int bench_echo(struct event_base *base, const aemp_val *args);
int bench_ping(struct event_base *base, const aemp_val *args);
int bench_plain(struct event_base *base, const aemp_val *args);
int bench_swarm(struct event_base *base, const aemp_val *args);
int bench_bare(struct event_base *base, const aemp_val *args);
int bench_tcpecho(struct event_base *base, const aemp_val *args);
int bench_tcpping(struct event_base *base, const aemp_val *args);
int bench_scale(struct event_base *base, const aemp_val *args);

/* A mode that takes commands sets this: each line from stdin (without its
 * LF) is passed to it. Otherwise stdin is only watched for its end. */
extern void (*bench_on_line)(const char *line);

#endif
