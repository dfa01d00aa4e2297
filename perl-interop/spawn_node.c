/* spawn_node: a C node for the interop suite's spawn, cal and secure-mode
 * scenarios (t/80_spawn_cal.t, t/81_secure.t). spawn_node.pl is its Perl
 * twin: both read the same JSON-line commands and report the same events,
 * so a scenario can swap roles.
 *
 * Usage: spawn_node CONFIGURE-ARGS-AS-JSON-OBJECT
 *
 * Commands:
 *   ["ping", X]                     reports ["pong", X]
 *   ["port", NAME]                  port NODE#NAME, reports ["rcv", NAME, @msg]
 *   ["snd", PORT, @msg]
 *   ["kil", PORT, @reason]
 *   ["mon", PORT, TAG]              reports ["mon", TAG, @reason]
 *   ["spawn", TAG, NODE, INIT, @args]
 *                                   reports ["spawned", TAG, PORT]
 *   ["spawn_mon", TAG, NODE, INIT, @args]
 *                                   the same, and monitors PORT at once
 *                                   (MP.pm's idiom): ["mon", TAG, @reason]
 *   ["cal", TAG, PORT, TIMEOUT, @msg]
 *                                   cal; TIMEOUT null: none. Reports
 *                                   ["cal", TAG, @reply] (no reply: empty)
 *   ["func", NODE, NAME, @args]     snd_to_func
 *   ["dataconn", TAG, NODE, TIMEOUT, INIT, @data]
 *                                   AnyEvent::MP::DataConn::connect_to;
 *                                   reports ["dc_connected", TAG] and
 *                                   writes "hello from connect TAG\n",
 *                                   then ["dc_line", TAG, LINE] for the
 *                                   line the other end writes; on failure
 *                                   ["dc_error", TAG, TEXT]
 *   ["global_addr"]                 (Perl only) ["global_addr", [the keys
 *                                   of %AnyEvent::MP::Global::addr]]
 *   ["quit"]
 *
 * Functions other nodes may call (spawn_node.pl defines the same subs):
 *   Interop::Spawn::init PEER, @x   spawn's init: reports ["init", $SELF,
 *                                   PEER, @x]; kills $SELF when PEER dies
 *                                   abnormally (mon PEER); reports ["died",
 *                                   $SELF, @reason] when $SELF dies; $SELF
 *                                   answers ["echo", REPLY, @y] with
 *                                   ["echoed", @y] and dies on ["die", X]
 *   Interop::Func::add N..., REPLY  sends the sum to REPLY; reports
 *                                   ["func", "add", N...]
 *   Interop::Func::note @x          reports ["func", "note", @x]
 *   Interop::DataConn::init @data, END
 *                                   a data connection's init function:
 *                                   reports ["dc_init", @data], writes
 *                                   "hello from init\n", then ["dc_line",
 *                                   "init", LINE] for the line it reads
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

/* [tag, name, @list[from..]] */
static aemp_val *event_with(const char *tag, const char *name,
                            const aemp_val *list, size_t from)
{
    aemp_val *ev = aemp_arrayv(aemp_str(tag), aemp_str(name), NULL);
    for (size_t i = from; i < aemp_array_len(list); i++)
        aemp_array_push(ev, aemp_copy(aemp_array_at(list, i)));
    return ev;
}

static const char *str_at(const aemp_val *list, size_t i)
{
    const char *s = aemp_str_ptr(aemp_array_at(list, i), NULL);
    return s ? s : "";
}

static aemp_val *rest(const aemp_val *list, size_t from)
{
    aemp_val *a = aemp_array();
    for (size_t i = from; i < aemp_array_len(list); i++)
        aemp_array_push(a, aemp_copy(aemp_array_at(list, i)));
    return a;
}

/* ---- callbacks; their names live as long as the process ------------------ */

static int on_port(aemp_node *n, const char *port, const aemp_val *msg,
                   void *ud)
{
    (void)n;
    (void)port;
    emit(event_with("rcv", ud, msg, 0));
    return 0;
}

static void on_mon(aemp_node *n, const char *port, const aemp_val *reason,
                   void *ud)
{
    (void)n;
    (void)port;
    emit(event_with("mon", ud, reason, 0));
}

static void on_cal(aemp_node *n, const aemp_val *reply, void *ud)
{
    (void)n;
    emit(event_with("cal", ud, reply, 0)); /* NULL reply: no elements */
}

/* ---- the functions ---------------------------------------------------------- */

static int spawned_echo(aemp_node *n, const char *port, const aemp_val *msg,
                        void *ud)
{
    (void)port;
    (void)ud;
    /* ["echo", REPLY, @y] */
    aemp_val *out = aemp_arrayv(aemp_str("echoed"), NULL);
    for (size_t i = 2; i < aemp_array_len(msg); i++)
        aemp_array_push(out, aemp_copy(aemp_array_at(msg, i)));
    aemp_snd(n, str_at(msg, 1), out);
    return 0;
}

static int spawned_die(aemp_node *n, const char *port, const aemp_val *msg,
                       void *ud)
{
    (void)port;
    (void)ud;
    aemp_die(n, "%s", str_at(msg, 1));
    return 1;
}

static void spawned_died(aemp_node *n, const char *port,
                         const aemp_val *reason, void *ud)
{
    (void)n;
    (void)ud;
    emit(event_with("died", port, reason, 0));
}

static int spawn_init(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)ud;
    const char *self = aemp_self(n);
    emit(event_with("init", self, args, 0));
    aemp_rcv(n, self, "echo", spawned_echo, NULL);
    aemp_rcv(n, self, "die", spawned_die, NULL);
    aemp_mon_kil(n, str_at(args, 0), self); /* mon $peer */
    aemp_mon(n, self, spawned_died, NULL);
    return 0;
}

static int func_add(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)ud;
    if (!aemp_array_len(args))
        return 0;
    size_t last = aemp_array_len(args) - 1;
    double sum = 0;
    aemp_val *numbers = rest(args, 0);
    aemp_unref(aemp_array_take(numbers, last));
    for (size_t i = 0; i < last; i++)
        sum += aemp_as_double(aemp_array_at(args, i));
    emit(event_with("func", "add", numbers, 0));
    aemp_unref(numbers);
    aemp_sndv(n, str_at(args, last), aemp_double(sum), NULL);
    return 0;
}

static int func_note(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)n;
    (void)ud;
    emit(event_with("func", "note", args, 0));
    return 0;
}

/* ---- commands --------------------------------------------------------------------- */

/* ---- data connections ------------------------------------------------------ */

/* One end: reports the first line it reads under its tag, and stays open
 * until the other closes it, so that its own line is surely written. */
static void dc_read(struct bufferevent *bev, void *ud)
{
    size_t len;
    char *line = evbuffer_readln(bufferevent_get_input(bev), &len,
                                 EVBUFFER_EOL_LF);
    if (!line)
        return;
    emit(aemp_arrayv(aemp_str("dc_line"), aemp_str(ud), aemp_str(line),
                     NULL));
    free(line);
}

static void dc_event(struct bufferevent *bev, short what, void *ud)
{
    (void)what;
    free(ud);
    bufferevent_free(bev);
}

static void dc_start(struct bufferevent *bev, const char *tag,
                     const char *hello)
{
    bufferevent_setcb(bev, dc_read, NULL, dc_event, strdup(tag));
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    bufferevent_write(bev, hello, strlen(hello));
}

static void dc_init(aemp_node *n, const char *peer, const aemp_val *data,
                    struct bufferevent *bev, void *ud)
{
    (void)n;
    (void)peer;
    (void)ud;
    aemp_val *ev = aemp_arrayv(aemp_str("dc_init"), NULL);
    for (size_t i = 0; i < aemp_array_len(data); i++)
        aemp_array_push(ev, aemp_copy(aemp_array_at(data, i)));
    emit(ev);
    dc_start(bev, "init", "hello from init\n");
}

static void dc_connected(aemp_node *n, struct bufferevent *bev,
                         const char *error, void *ud)
{
    (void)n;
    char *tag = ud;
    if (bev) {
        emit(aemp_arrayv(aemp_str("dc_connected"), aemp_str(tag), NULL));
        char hello[128];
        snprintf(hello, sizeof hello, "hello from connect %s\n", tag);
        dc_start(bev, tag, hello);
    } else {
        emit(aemp_arrayv(aemp_str("dc_error"), aemp_str(tag),
                         aemp_str(error), NULL));
    }
    free(tag);
}

/* dataconn: TAG, NODE, TIMEOUT, INIT, @data */
static void cmd_dataconn(const aemp_val *cmd)
{
    char *tag = strdup(str_at(cmd, 1));
    int rc = aemp_dataconn_connect(node, str_at(cmd, 2),
                                   aemp_as_double(aemp_array_at(cmd, 3)),
                                   str_at(cmd, 4), rest(cmd, 5), dc_connected,
                                   tag);
    if (rc) {
        emit(aemp_arrayv(aemp_str("dc_error"), aemp_str(tag),
                         aemp_str(aemp_strerror(rc)), NULL));
        free(tag);
    }
}

static char *full_port(const char *name)
{
    size_t len = strlen(aemp_node_id(node)) + strlen(name) + 2;
    char *p = malloc(len);
    snprintf(p, len, "%s#%s", aemp_node_id(node), name);
    return p;
}

/* spawn and spawn_mon: TAG, NODE, INIT, @args */
static void cmd_spawn(const aemp_val *cmd, int monitor)
{
    const char *tag = str_at(cmd, 1);
    char *port = aemp_spawn(node, str_at(cmd, 2), str_at(cmd, 3), rest(cmd, 4));
    if (port && monitor)
        aemp_mon(node, port, on_mon, strdup(tag));
    emit(aemp_arrayv(aemp_str("spawned"), aemp_str(tag),
                     port ? aemp_str(port) : aemp_null(), NULL));
    free(port);
}

/* cal: TAG, PORT, TIMEOUT (null: none), @msg */
static void cmd_cal(const aemp_val *cmd)
{
    const aemp_val *t = aemp_array_at(cmd, 3);
    double timeout = aemp_is_null(t) ? -1 : aemp_as_double(t);
    char *reply = aemp_cal(node, str_at(cmd, 2), rest(cmd, 4), timeout, on_cal,
                           strdup(str_at(cmd, 1)));
    free(reply);
}

static void run_command(const aemp_val *cmd)
{
    const char *op = str_at(cmd, 0);
    if (!strcmp(op, "ping")) {
        emit(aemp_arrayv(aemp_str("pong"), aemp_copy(aemp_array_at(cmd, 1)),
                         NULL));
    } else if (!strcmp(op, "port")) {
        char *p = full_port(str_at(cmd, 1));
        aemp_rcv(node, p, NULL, on_port, strdup(str_at(cmd, 1)));
        free(p);
    } else if (!strcmp(op, "snd")) {
        aemp_snd(node, str_at(cmd, 1), rest(cmd, 2));
    } else if (!strcmp(op, "kil")) {
        aemp_kil(node, str_at(cmd, 1), rest(cmd, 2));
    } else if (!strcmp(op, "mon")) {
        aemp_mon(node, str_at(cmd, 1), on_mon, strdup(str_at(cmd, 2)));
    } else if (!strcmp(op, "spawn") || !strcmp(op, "spawn_mon")) {
        cmd_spawn(cmd, !strcmp(op, "spawn_mon"));
    } else if (!strcmp(op, "cal")) {
        cmd_cal(cmd);
    } else if (!strcmp(op, "func")) {
        aemp_snd_to_func(node, str_at(cmd, 1), str_at(cmd, 2), rest(cmd, 3));
    } else if (!strcmp(op, "dataconn")) {
        cmd_dataconn(cmd);
    } else if (!strcmp(op, "quit")) {
        event_base_loopexit(base, NULL);
    } else {
        emit(aemp_arrayv(aemp_str("error"), aemp_str("unknown command"), NULL));
    }
}

static void on_stdin(struct bufferevent *bev, void *ud)
{
    (void)ud;
    char *line;
    size_t len;
    while ((line = evbuffer_readln(bufferevent_get_input(bev), &len,
                                   EVBUFFER_EOL_LF))) {
        aemp_val *cmd = aemp_from_json(line, len, NULL);
        if (cmd && aemp_type_of(cmd) == AEMP_ARRAY)
            run_command(cmd);
        else
            emit(aemp_arrayv(aemp_str("error"), aemp_str(line), NULL));
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
    aemp_val *args = argc == 2 ? aemp_from_json(argv[1], strlen(argv[1]), NULL)
                               : NULL;
    if (!args || aemp_type_of(args) != AEMP_MAP) {
        fprintf(stderr, "usage: spawn_node '{configure args}'\n");
        return 2;
    }
    base = event_base_new();
    node = aemp_node_new(base);
    if (aemp_node_configure(node, args, NULL)) {
        fprintf(stderr, "spawn_node: configure: %s\n", aemp_node_errmsg(node));
        return 1;
    }
    aemp_unref(args);
    aemp_func_register(node, "Interop::Spawn::init", spawn_init, NULL);
    aemp_func_register(node, "Interop::Func::add", func_add, NULL);
    aemp_func_register(node, "Interop::Func::note", func_note, NULL);
    aemp_dataconn_register(node, "Interop::DataConn::init", dc_init, NULL);
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
