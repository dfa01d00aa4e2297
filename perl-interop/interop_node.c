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
 *                             ["echoed", @x] to REPLY, ["wrap", REPLY, @x]
 *                             sends ["wrapped", [@x]], one level deeper
 *   ["strict", NAME]          a new port without default callback, with a
 *                             tag "echo" as above; reports
 *                             ["strict", NAME, PORTID]
 *   ["snd", PORT, @msg]       send
 *   ["snd_on", NODE, PORT, @msg]    NODE sends @msg to PORT (snd_on)
 *   ["eval_on", NODE, CODE, @reply] NODE evaluates CODE (eval_on)
 *   ["mon", PORT, TAG]        monitor; reports ["mon", TAG, @reason]
 *   ["kil", PORT, @reason]    kill
 *   ["nodes"]                 reports ["nodes", @up_nodes]
 *   ["ping", X]               reports ["pong", X]: earlier commands are done
 *   ["quit"]
 *
 * The shared database (Perl: db_set, db_del, db_reg, db_mon, db_family,
 * db_keys, db_values; C: aemp_db_*). Guards and monitors are kept by NAME;
 * reusing a NAME drops the old one after making the new one, as assigning
 * a new guard to a Perl variable does.
 *   ["db_set", NAME, FAMILY, KEY, VALUE?]
 *                             set FAMILY/KEY (VALUE absent: null), keeping
 *                             the guard under NAME
 *   ["db_release", NAME]      drop that guard: deletes the entry
 *   ["db_del", FAMILY, KEY...]
 *   ["db_reg", NAME, FAMILY, PORTNAME, VALUE?]
 *                             register NODE#PORTNAME (make it with "port"
 *                             first): deleted when the port dies
 *   ["db_mon", NAME, FAMILY]  monitor; each callback reports
 *                             ["db_mon", NAME, DB, ADDED, CHANGED, DELETED]
 *                             with the key arrays sorted (missing as [])
 *   ["db_unmon", NAME]        stop it
 *   ["db_family", TAG, FAMILY]  reports ["db_family", TAG, {KEY: VALUE...}]
 *   ["db_keys", TAG, FAMILY]    reports ["db_keys", TAG, [KEY...]], sorted
 *   ["db_values", TAG, FAMILY]  reports ["db_values", TAG, [VALUE...]],
 *                               sorted by their canonical JSON
 *   ["master"]                reports ["master", MASTER-or-null]
 *
 * Link churn (interop_churn.c): ["flood", NAME, PORT, USEC],
 * ["flood_stop", NAME], and the sink AEMP_INTEROP_SINK=NAME=FILE.
 *
 * Events: ["ready", NODEID, BINDS], ["rcv", NAME, @msg],
 *         ["mon", TAG, @reason], ["node", NODEID, 0|1, @reason],
 *         ["db_mon", ...], ["db_family"|"db_keys"|"db_values", TAG, ...],
 *         ["master", ID], ["flood_mon", ...], ["flood_stopped", ...],
 *         ["error", TEXT]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "aemp/aemp.h"
#include "aemp/db.h"
#include "interop_churn.h"

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
    int wrap = aemp_str_eq(aemp_array_at(msg, 0), "wrap");
    aemp_val *x = aemp_arrayv(aemp_str(wrap ? "wrapped" : "echoed"), NULL);
    aemp_val *items = wrap ? aemp_array() : x;
    for (size_t i = 2; i < aemp_array_len(msg); i++)
        aemp_array_push(items, aemp_copy(aemp_array_at(msg, i)));
    if (wrap)
        aemp_array_push(x, items);
    aemp_snd(n, reply, x);
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

/* ---- the database ---- */

/* Guards (db_set, db_reg) and monitors (db_mon) by name. */
typedef struct named {
    struct named *next;
    char *name;
    int is_mon;
    uint64_t id; /* an aemp_db_handle's or an aemp_db_mon_id's id */
} named;

static named *names;

static void named_drop(named *n)
{
    if (n->is_mon)
        aemp_db_mon_cancel(node, (aemp_db_mon_id){n->id});
    else
        aemp_db_release(node, (aemp_db_handle){n->id});
    free(n->name);
    free(n);
}

/* Removes NAME of that kind from the list; the caller drops it. */
static named *named_take(const char *name, int is_mon)
{
    for (named **p = &names; *p; p = &(*p)->next)
        if ((*p)->is_mon == is_mon && !strcmp((*p)->name, name)) {
            named *n = *p;
            *p = n->next;
            return n;
        }
    return NULL;
}

static void named_put(const char *name, int is_mon, uint64_t id)
{
    named *old = named_take(name, is_mon);
    if (id) {
        named *n = calloc(1, sizeof *n);
        n->name = strdup(name);
        n->is_mon = is_mon;
        n->id = id;
        n->next = names;
        names = n;
    } else {
        emit_error(is_mon ? "db_mon failed" : "db_set/db_reg failed");
    }
    if (old) /* after the new one, as Perl's $guard{NAME} = db_set ... */
        named_drop(old);
}

/* Sorts strings, or any values by their canonical JSON: pairs of (sort
 * key, value) sorted by key. */
typedef struct sort_item {
    char *key;
    const aemp_val *v;
} sort_item;

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const sort_item *)a)->key, ((const sort_item *)b)->key);
}

static aemp_val *sorted(const aemp_val *a, int by_json)
{
    size_t n = aemp_array_len(a);
    sort_item *items = calloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; i < n; i++) {
        items[i].v = aemp_array_at(a, i);
        const char *s = by_json ? NULL : aemp_str_ptr(items[i].v, NULL);
        items[i].key = s ? strdup(s) : aemp_to_json_canonical(items[i].v, NULL);
    }
    qsort(items, n, sizeof *items, cmp_item);
    aemp_val *out = aemp_array();
    for (size_t i = 0; i < n; i++) {
        aemp_array_push(out, aemp_copy(items[i].v));
        free(items[i].key);
    }
    free(items);
    return out;
}

static void on_db_mon(aemp_node *n, const char *family, const aemp_val *db,
                      const aemp_val *added, const aemp_val *changed,
                      const aemp_val *deleted, void *ud)
{
    (void)n;
    (void)family;
    emit(aemp_arrayv(aemp_str("db_mon"), aemp_str(ud),
                     db ? aemp_copy(db) : aemp_map(), sorted(added, 0),
                     sorted(changed, 0), sorted(deleted, 0), NULL));
}

/* A query's answer: ["db_keys", TAG, RESULT] */
typedef struct query {
    const char *op; /* static */
    aemp_val *tag;
} query;

static void on_db_reply(aemp_node *n, const char *family,
                        const aemp_val *result, void *ud)
{
    (void)n;
    (void)family;
    query *q = ud;
    aemp_val *r = !strcmp(q->op, "db_family") ? aemp_copy(result)
                  : sorted(result, !strcmp(q->op, "db_values"));
    emit(aemp_arrayv(aemp_str(q->op), q->tag, r ? r : aemp_null(), NULL));
    free(q);
}

/* Returns 1 if op was a database command. */
static int db_command(const char *op, const aemp_val *cmd)
{
    const char *a1 = aemp_str_ptr(aemp_array_at(cmd, 1), NULL);
    const char *a2 = aemp_str_ptr(aemp_array_at(cmd, 2), NULL);
    const char *a3 = aemp_str_ptr(aemp_array_at(cmd, 3), NULL);
    const aemp_val *a4 = aemp_array_at(cmd, 4);

    if (!strcmp(op, "master")) {
        const char *m = aemp_node_master(node);
        emit(aemp_arrayv(aemp_str("master"), m ? aemp_str(m) : aemp_null(),
                         NULL));
    } else if (!strcmp(op, "db_set") && a1 && a2 && a3) {
        named_put(a1, 0,
                  aemp_db_set(node, a2, a3, a4 ? aemp_copy(a4) : NULL).id);
    } else if (!strcmp(op, "db_reg") && a1 && a2 && a3) {
        char *port = full_port(a3);
        named_put(a1, 0,
                  aemp_db_reg(node, a2, port, a4 ? aemp_copy(a4) : NULL).id);
        free(port);
    } else if (!strcmp(op, "db_release") && a1) {
        named *n = named_take(a1, 0);
        if (n)
            named_drop(n);
    } else if (!strcmp(op, "db_del") && a1) {
        for (size_t i = 2; i < aemp_array_len(cmd); i++) {
            const char *key = aemp_str_ptr(aemp_array_at(cmd, i), NULL);
            if (key)
                aemp_db_del(node, a1, key);
        }
    } else if (!strcmp(op, "db_mon") && a1 && a2) {
        /* the name lives as long as the callback may run: the process */
        named_put(a1, 1, aemp_db_mon(node, a2, on_db_mon, keep(a1)).id);
    } else if (!strcmp(op, "db_unmon") && a1) {
        named *n = named_take(a1, 1);
        if (n)
            named_drop(n);
    } else if ((!strcmp(op, "db_family") || !strcmp(op, "db_keys")
                || !strcmp(op, "db_values")) && a2) {
        query *q = malloc(sizeof *q);
        q->op = !strcmp(op, "db_family") ? "db_family"
                : !strcmp(op, "db_keys") ? "db_keys" : "db_values";
        const aemp_val *tag = aemp_array_at(cmd, 1);
        q->tag = tag ? aemp_copy(tag) : aemp_null();
        int rc = q->op[3] == 'f' ? aemp_db_family(node, a2, on_db_reply, q)
                 : q->op[3] == 'k' ? aemp_db_keys(node, a2, on_db_reply, q)
                                   : aemp_db_values(node, a2, on_db_reply, q);
        if (rc) {
            aemp_unref(q->tag);
            free(q);
            emit_error("db query failed");
        }
    } else {
        return 0;
    }
    return 1;
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
    } else if (!strcmp(op, "snd_on") && a1) {
        aemp_snd_on(node, a1, aemp_str_ptr(aemp_array_at(cmd, 2), NULL),
                    rest(cmd, 3));
    } else if (!strcmp(op, "eval_on") && a1) {
        aemp_eval_on(node, a1, aemp_str_ptr(aemp_array_at(cmd, 2), NULL),
                     rest(cmd, 3));
    } else if (!strcmp(op, "mon") && a1) {
        const char *tag = aemp_str_ptr(aemp_array_at(cmd, 2), NULL);
        aemp_mon(node, a1, on_mon, keep(tag ? tag : a1));
    } else if (!strcmp(op, "kil") && a1) {
        aemp_kil(node, a1, rest(cmd, 2));
    } else if (!strcmp(op, "log") && a1) { /* ["log", TEXT, LEVEL] */
        aemp_log(node, (int)aemp_as_int(aemp_array_at(cmd, 2)), "%s", a1);
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
    } else if (!db_command(op, cmd) && !churn_command(op, cmd)) {
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
    churn_init(node, base, emit);
    churn_sink_from_env();
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
