/* interop_node: a C node driven line by line, for the Perl interop suite.
 *
 * Usage: interop_node CONFIGURE-ARGS-AS-JSON-OBJECT
 * Reads commands from stdin, one JSON array per line, and writes events to
 * stdout, one JSON array per line. perl_node.pl speaks the same language,
 * so a test can drive a C node and a Perl node alike.
 *
 * Commands:
 *   ["port", NAME]            port NODE#NAME that reports what it receives
 *   ["echo", NAME]            port NODE#NAME: ["echo", REPLY, @x] sends
 *                             ["echoed", @x] to REPLY
 *   ["strict", NAME]          a new port without default callback, with a
 *                             tag "echo" as above; reports
 *                             ["strict", NAME, PORTID]
 *   ["snd", PORT, @msg]       send
 *   ["mon", PORT, TAG]        monitor; reports ["mon", TAG, @reason]
 *   ["kil", PORT, @reason]    kill
 *   ["nodes"]                 reports ["nodes", @up_nodes]
 *   ["ping", X]               reports ["pong", X]: earlier commands are done
 *   ["quit"]
 * Events: ["ready", NODEID, BINDS], ["rcv", NAME, @msg],
 *         ["mon", TAG, @reason], ["node", NODEID, 0|1, @reason],
 *         ["error", TEXT]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "aemp/aemp.h"

static aemp_node *node;
static struct event_base *base;

static void emit(aemp_val *event)
{
    char *json = aemp_to_json(event, NULL);
    if (json) {
        printf("%s\n", json);
        fflush(stdout);
    }
    free(json);
    aemp_unref(event);
}

static void emit_error(const char *text)
{
    emit(aemp_arrayv(aemp_str("error"), aemp_str(text), NULL));
}

/* ["rcv", NAME, @msg] */
static int on_port(aemp_node *n, const char *port, const aemp_val *msg,
                   void *ud)
{
    (void)n;
    (void)port;
    aemp_val *ev = aemp_arrayv(aemp_str("rcv"), aemp_str(ud), NULL);
    for (size_t i = 0; i < aemp_array_len(msg); i++)
        aemp_array_push(ev, aemp_copy(aemp_array_at(msg, i)));
    emit(ev);
    return 0;
}

static int on_echo(aemp_node *n, const char *port, const aemp_val *msg,
                   void *ud)
{
    (void)port;
    (void)ud;
    const char *reply = aemp_str_ptr(aemp_array_at(msg, 1), NULL);
    if (!reply)
        return 0;
    aemp_val *out = aemp_arrayv(aemp_str("echoed"), NULL);
    for (size_t i = 2; i < aemp_array_len(msg); i++)
        aemp_array_push(out, aemp_copy(aemp_array_at(msg, i)));
    aemp_snd(n, reply, out);
    return 0;
}

static void on_mon(aemp_node *n, const char *port, const aemp_val *reason,
                   void *ud)
{
    (void)n;
    (void)port;
    aemp_val *ev = aemp_arrayv(aemp_str("mon"), aemp_str(ud), NULL);
    for (size_t i = 0; i < aemp_array_len(reason); i++)
        aemp_array_push(ev, aemp_copy(aemp_array_at(reason, i)));
    emit(ev);
    free(ud);
}

static void on_node(aemp_node *n, const char *id, int up,
                    const aemp_val *reason, void *ud)
{
    (void)n;
    (void)ud;
    aemp_val *ev = aemp_arrayv(aemp_str("node"), aemp_str(id), aemp_int(up),
                               NULL);
    for (size_t i = 0; i < aemp_array_len(reason); i++)
        aemp_array_push(ev, aemp_copy(aemp_array_at(reason, i)));
    emit(ev);
}

/* Names live as long as their ports may: the process. */
static char *keep(const char *s)
{
    return strdup(s);
}

static char *full_port(const char *name)
{
    size_t len = strlen(aemp_node_id(node)) + strlen(name) + 2;
    char *p = malloc(len);
    snprintf(p, len, "%s#%s", aemp_node_id(node), name);
    return p;
}

static aemp_val *rest(const aemp_val *cmd, size_t from)
{
    aemp_val *a = aemp_array();
    for (size_t i = from; i < aemp_array_len(cmd); i++)
        aemp_array_push(a, aemp_copy(aemp_array_at(cmd, i)));
    return a;
}

static void run_command(const aemp_val *cmd)
{
    const char *op = aemp_str_ptr(aemp_array_at(cmd, 0), NULL);
    const char *a1 = aemp_str_ptr(aemp_array_at(cmd, 1), NULL);
    if (!op) {
        emit_error("command is not an array starting with a string");
        return;
    }
    if (!strcmp(op, "quit")) {
        event_base_loopexit(base, NULL);
    } else if ((!strcmp(op, "port") || !strcmp(op, "echo")) && a1) {
        char *port = full_port(a1);
        aemp_rcv(node, port, NULL, !strcmp(op, "port") ? on_port : on_echo,
                 keep(a1));
        free(port);
    } else if (!strcmp(op, "strict") && a1) {
        char *port = aemp_port(node, NULL, NULL);
        aemp_rcv(node, port, "echo", on_echo, NULL);
        emit(aemp_arrayv(aemp_str("strict"), aemp_str(a1), aemp_str(port),
                         NULL));
        free(port);
    } else if (!strcmp(op, "snd") && a1) {
        aemp_snd(node, a1, rest(cmd, 2));
    } else if (!strcmp(op, "mon") && a1) {
        const char *tag = aemp_str_ptr(aemp_array_at(cmd, 2), NULL);
        aemp_mon(node, a1, on_mon, keep(tag ? tag : a1));
    } else if (!strcmp(op, "kil") && a1) {
        aemp_kil(node, a1, rest(cmd, 2));
    } else if (!strcmp(op, "ping")) {
        emit(aemp_arrayv(aemp_str("pong"), aemp_copy(aemp_array_at(cmd, 1)),
                         NULL));
    } else if (!strcmp(op, "nodes")) {
        aemp_val *ev = aemp_arrayv(aemp_str("nodes"), NULL);
        aemp_val *up = aemp_up_nodes(node);
        for (size_t i = 0; i < aemp_array_len(up); i++)
            aemp_array_push(ev, aemp_ref(aemp_array_at(up, i)));
        aemp_unref(up);
        emit(ev);
    } else {
        emit_error("unknown command");
    }
}

static void on_stdin(struct bufferevent *bev, void *ud)
{
    (void)ud;
    char *line;
    size_t len;
    while ((line = evbuffer_readln(bufferevent_get_input(bev), &len,
                                   EVBUFFER_EOL_LF))) {
        char *err = NULL;
        aemp_val *cmd = aemp_from_json(line, len, &err);
        if (cmd && aemp_type_of(cmd) == AEMP_ARRAY)
            run_command(cmd);
        else
            emit_error(err ? err : "not an array");
        free(err);
        aemp_unref(cmd);
        free(line);
    }
}

static void on_stdin_event(struct bufferevent *bev, short what, void *ud)
{
    (void)bev;
    (void)what;
    (void)ud;
    event_base_loopexit(base, NULL); /* stdin closed: the test is over */
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: interop_node '{configure args}'\n");
        return 2;
    }
    char *err = NULL;
    aemp_val *args = aemp_from_json(argv[1], strlen(argv[1]), &err);
    if (!args || aemp_type_of(args) != AEMP_MAP) {
        fprintf(stderr, "interop_node: bad configure args: %s\n",
                err ? err : "not an object");
        return 2;
    }
    base = event_base_new();
    node = aemp_node_new(base);
    if (aemp_node_configure(node, args, NULL)) {
        fprintf(stderr, "interop_node: configure: %s\n",
                aemp_node_errmsg(node));
        return 1;
    }
    aemp_unref(args);
    aemp_mon_nodes(node, on_node, NULL);
    struct bufferevent *in = bufferevent_socket_new(base, 0, 0);
    bufferevent_setcb(in, on_stdin, NULL, on_stdin_event, NULL);
    bufferevent_enable(in, EV_READ);
    emit(aemp_arrayv(aemp_str("ready"), aemp_str(aemp_node_id(node)),
                     aemp_copy(aemp_node_binds(node)), NULL));
    event_base_dispatch(base);
    bufferevent_free(in);
    aemp_node_free(node);
    event_base_free(base);
    return 0;
}
