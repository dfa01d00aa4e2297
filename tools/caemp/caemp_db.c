/* caemp: the shared database and the network, from the command line:
 *
 *   caemp db_keys F | db_values F | db_family F   query, print JSON, exit
 *   caemp db_set F K [V]    hold F/K (= V, default null) until SIGINT/TERM
 *   caemp db_mon F          print every change of F as a JSON line
 *   caemp nodes             print the nodes linked once there is a master
 *   caemp logcatcher [L]    every other node's log lines, until SIGINT/TERM
 *
 * Each runs a node configured as aemp's (caemp_start_node). Output is
 * canonical JSON (keys sorted), one line, so it can be compared and
 * parsed. See docs/caemp.md. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "aemp/db.h"
#include "caemp.h"

/* A database command's run: the node plus what it holds. */
typedef struct db_run {
    caemp_cmd st;
    const char *family;
    aemp_db_handle handle; /* db_set */
    char *reply_port;      /* db_set: the goodbye round trip */
    struct event *wait;    /* the five seconds, or the nodes poll */
    struct event *sigint, *sigterm;
    int waited;            /* nodes: poll rounds */
} db_run;

static void print_line(const aemp_val *v)
{
    char *json = aemp_to_json_canonical(v, NULL);
    if (json) {
        fputs(json, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    free(json);
}

/* ---- sorting: keys as strings, values by their canonical JSON ---- */

typedef struct sort_item {
    char *key; /* first: the comparator reads it through the item */
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
    aemp_val *out = aemp_array();
    if (!items || !out) {
        free(items);
        aemp_unref(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        items[i].v = aemp_array_at(a, i);
        const char *s = by_json ? NULL : aemp_str_ptr(items[i].v, NULL);
        items[i].key = s ? strdup(s)
                         : aemp_to_json_canonical(items[i].v, NULL);
        if (!items[i].key)
            items[i].key = strdup("");
    }
    qsort(items, n, sizeof *items, cmp_item);
    for (size_t i = 0; i < n; i++) {
        aemp_array_push(out, aemp_copy(items[i].v));
        free(items[i].key);
    }
    free(items);
    return out;
}

/* ---- arguments ---- */

/* A string argument by aemp's rule (JSON if it starts with [ { "). */
static aemp_val *string_arg(const char *what, const char *name,
                            const char *arg)
{
    char *err = NULL;
    aemp_val *v = caemp_arg_value(arg, &err);
    if (!v) {
        fprintf(stderr, "caemp: %s: %s '%s' is not valid JSON: %s\n", what,
                name, arg, err ? err : "parse error");
        free(err);
        return NULL;
    }
    if (!aemp_str_ptr(v, NULL)) {
        fprintf(stderr, "caemp: %s: %s must be a string, not %s\n", what,
                name, arg);
        aemp_unref(v);
        return NULL;
    }
    return v;
}

/* Starts the node with the five seconds left to our own timer: cb runs
 * after them (timer 0 = no timer). */
static int start(db_run *r, const char *what, event_callback_fn cb,
                 int periodic)
{
    if (caemp_start_node(&r->st, what))
        return -1;
    event_del(r->st.timeout); /* ours say more */
    if (cb) {
        r->wait = event_new(r->st.base, -1, periodic ? EV_PERSIST : 0, cb,
                            r);
        struct timeval tv = {periodic ? 0 : 5, periodic ? 20000 : 0};
        event_add(r->wait, &tv);
    }
    return 0;
}

static void stop(db_run *r)
{
    if (r->wait)
        event_free(r->wait);
    if (r->sigint)
        event_free(r->sigint);
    if (r->sigterm)
        event_free(r->sigterm);
    free(r->reply_port);
    caemp_stop_node(&r->st);
}

static void no_master_message(db_run *r)
{
    const char *m = aemp_node_master(r->st.node);
    if (m)
        fprintf(stderr, "caemp: %s: no answer from the master node %s "
                "within 5 seconds\n", r->st.what, m);
    else
        fprintf(stderr, "caemp: %s: no master node within 5 seconds "
                "(is a seed reachable? check the seeds and the secret)%s\n",
                r->st.what, caemp_last_error_note(r->st.node, NULL, NULL));
}

static void on_signals(db_run *r, event_callback_fn cb)
{
    r->sigint = evsignal_new(r->st.base, SIGINT, cb, r);
    r->sigterm = evsignal_new(r->st.base, SIGTERM, cb, r);
    event_add(r->sigint, NULL);
    event_add(r->sigterm, NULL);
}

/* ---- db_keys, db_values, db_family ---- */

static void query_timeout(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    db_run *r = ud;
    no_master_message(r);
    caemp_finish(&r->st, 1);
}

static void query_reply(aemp_node *node, const char *family,
                        const aemp_val *result, void *ud)
{
    (void)node;
    (void)family;
    db_run *r = ud;
    if (!strcmp(r->st.what, "db_family")) {
        if (result)
            print_line(result);
        else
            puts("{}");
    } else {
        aemp_val *s = sorted(result, !strcmp(r->st.what, "db_values"));
        print_line(s);
        aemp_unref(s);
    }
    caemp_finish(&r->st, 0);
}

static int cmd_query(const char *what, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "caemp: %s: usage: caemp %s <family>\n", what, what);
        return 1;
    }
    aemp_val *family = string_arg(what, "family", argv[0]);
    if (!family)
        return 1;
    db_run r = {0};
    int rc = start(&r, what, query_timeout, 0);
    if (!rc) {
        const char *f = aemp_str_ptr(family, NULL);
        rc = !strcmp(what, "db_keys")     ? aemp_db_keys(r.st.node, f, query_reply, &r)
             : !strcmp(what, "db_values") ? aemp_db_values(r.st.node, f, query_reply, &r)
                                          : aemp_db_family(r.st.node, f, query_reply, &r);
        if (rc)
            fprintf(stderr, "caemp: %s: cannot query family '%s'\n", what, f);
    }
    if (!rc)
        event_base_dispatch(r.st.base);
    aemp_unref(family);
    stop(&r);
    return rc ? 1 : r.st.status;
}

/* ---- db_set ---- */

static void set_no_master(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    db_run *r = ud;
    if (!aemp_node_master(r->st.node))
        fprintf(stderr, "caemp: db_set: no master node within 5 seconds "
                "(is a seed reachable?)%s; the entry is published once there "
                "is one\n",
                caemp_last_error_note(r->st.node, NULL, NULL));
}

static int goodbye_reply(aemp_node *node, const char *port,
                         const aemp_val *msg, void *ud)
{
    (void)node;
    (void)port;
    (void)msg;
    caemp_finish(ud, 0);
    return 0;
}

static void goodbye_timeout(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    db_run *r = ud;
    caemp_finish(&r->st, 0); /* the seed drops our keys with the link */
}

/* Deletes the entry; a round trip to the master proves the delete got
 * there before the link goes (the master would drop it then anyway). */
static void set_stop(evutil_socket_t sig, short what, void *ud)
{
    (void)sig;
    (void)what;
    db_run *r = ud;
    if (!r->handle.id)
        return;
    aemp_db_release(r->st.node, r->handle);
    r->handle = (aemp_db_handle){0};
    const char *master = aemp_node_master(r->st.node);
    if (!master || !(r->reply_port = aemp_port(r->st.node, goodbye_reply,
                                               &r->st))) {
        caemp_finish(&r->st, 0);
        return;
    }
    aemp_sndv(r->st.node, master, aemp_str("time"), aemp_str(r->reply_port),
              NULL);
    event_del(r->wait);
    event_assign(r->wait, r->st.base, -1, 0, goodbye_timeout, r);
    struct timeval two = {2, 0};
    event_add(r->wait, &two);
}

static int cmd_set(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "caemp: db_set: usage: caemp db_set <family> <key> "
                "[<value>]\n");
        return 1;
    }
    aemp_val *family = string_arg("db_set", "family", argv[0]);
    aemp_val *key = family ? string_arg("db_set", "key", argv[1]) : NULL;
    aemp_val *value = NULL;
    if (key && argc == 3) {
        char *err = NULL;
        value = caemp_arg_value(argv[2], &err);
        if (!value) {
            fprintf(stderr, "caemp: db_set: value '%s' is not valid JSON: "
                    "%s\n", argv[2], err ? err : "parse error");
            free(err);
        }
    }
    if (!key || (argc == 3 && !value)) {
        aemp_unref(family);
        aemp_unref(key);
        return 1;
    }
    db_run r = {0};
    int rc = start(&r, "db_set", set_no_master, 0);
    if (!rc) {
        r.handle = aemp_db_set(r.st.node, aemp_str_ptr(family, NULL),
                               aemp_str_ptr(key, NULL), value);
        value = NULL; /* taken */
        if (!r.handle.id) {
            fprintf(stderr, "caemp: db_set: cannot set %s/%s\n",
                    aemp_str_ptr(family, NULL), aemp_str_ptr(key, NULL));
            rc = 1;
        }
    }
    aemp_unref(value);
    if (!rc) {
        on_signals(&r, set_stop);
        event_base_dispatch(r.st.base);
    }
    aemp_unref(family);
    aemp_unref(key);
    stop(&r);
    return rc ? 1 : r.st.status;
}

/* ---- db_mon ---- */

static void mon_no_master(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    db_run *r = ud;
    if (!aemp_node_master(r->st.node))
        fprintf(stderr, "caemp: db_mon: no master node within 5 seconds "
                "(is a seed reachable?)%s; still waiting\n",
                caemp_last_error_note(r->st.node, NULL, NULL));
}

/* {"added":{k:v},"changed":{k:v},"deleted":[k]} */
static aemp_val *subset(const aemp_val *db, const aemp_val *keys)
{
    aemp_val *m = aemp_map();
    for (size_t i = 0; m && i < aemp_array_len(keys); i++) {
        size_t len;
        const char *k = aemp_str_ptr(aemp_array_at(keys, i), &len);
        aemp_val *v = k ? aemp_map_getn(db, k, len) : NULL;
        if (k)
            aemp_map_setn(m, k, len, v ? aemp_ref(v) : aemp_null());
    }
    return m;
}

static void mon_change(aemp_node *node, const char *family,
                       const aemp_val *db, const aemp_val *added,
                       const aemp_val *changed, const aemp_val *deleted,
                       void *ud)
{
    (void)node;
    (void)family;
    (void)ud;
    aemp_val *line = aemp_map();
    aemp_map_set(line, "added", subset(db, added));
    aemp_map_set(line, "changed", subset(db, changed));
    aemp_map_set(line, "deleted", sorted(deleted, 0));
    print_line(line);
    aemp_unref(line);
}

static void mon_stop(evutil_socket_t sig, short what, void *ud)
{
    (void)sig;
    (void)what;
    db_run *r = ud;
    caemp_finish(&r->st, 0);
}

static int cmd_mon(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "caemp: db_mon: usage: caemp db_mon <family>\n");
        return 1;
    }
    aemp_val *family = string_arg("db_mon", "family", argv[0]);
    if (!family)
        return 1;
    db_run r = {0};
    int rc = start(&r, "db_mon", mon_no_master, 0);
    if (!rc && !aemp_db_mon(r.st.node, aemp_str_ptr(family, NULL),
                            mon_change, &r).id) {
        fprintf(stderr, "caemp: db_mon: cannot monitor family '%s'\n",
                aemp_str_ptr(family, NULL));
        rc = 1;
    }
    if (!rc) {
        on_signals(&r, mon_stop);
        event_base_dispatch(r.st.base);
    }
    aemp_unref(family);
    stop(&r);
    return rc ? 1 : r.st.status;
}

/* ---- nodes ---- */

/* Polls for a master every 20 ms for five seconds. */
static void nodes_poll(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    db_run *r = ud;
    if (aemp_node_master(r->st.node)) {
        aemp_val *up = aemp_up_nodes(r->st.node);
        aemp_val *others = aemp_array();
        for (size_t i = 0; i < aemp_array_len(up); i++)
            if (!aemp_str_eq(aemp_array_at(up, i), aemp_node_id(r->st.node)))
                aemp_array_push(others, aemp_ref(aemp_array_at(up, i)));
        aemp_val *s = sorted(others, 0);
        print_line(s);
        aemp_unref(s);
        aemp_unref(others);
        aemp_unref(up);
        caemp_finish(&r->st, 0);
    } else if (++r->waited >= 250) {
        no_master_message(r);
        caemp_finish(&r->st, 1);
    }
}

static int cmd_nodes(int argc, char **argv)
{
    (void)argv;
    if (argc != 0) {
        fprintf(stderr, "caemp: nodes: takes no arguments\n");
        return 1;
    }
    db_run r = {0};
    int rc = start(&r, "nodes", nodes_poll, 1);
    if (!rc)
        event_base_dispatch(r.st.base);
    stop(&r);
    return rc ? 1 : r.st.status;
}

/* ---- logcatcher ---- */

/* LogCatcher.pm's catch: every other node's lines at LEVEL or below, on
 * stderr in AnyEvent::Log's format with the [NODE+DIFF] prefix, this
 * node's filter opened to LEVEL so that they pass it, as with
 * AE_VERBOSE=LEVEL aemp run ... services '[["...::catch",LEVEL]]'. */
static int cmd_logcatcher(int argc, char **argv)
{
    int level = argc ? aemp_log_level(argv[0]) : 9;
    if (argc > 1 || level < 0) {
        fprintf(stderr, "caemp: logcatcher: usage: caemp logcatcher "
                "[LEVEL] (1..9 or a name: fatal alert crit error warn note "
                "info debug trace)\n");
        return 1;
    }
    db_run r = {0};
    aemp_logcatcher *lc = NULL;
    int rc = start(&r, "logcatcher", mon_no_master, 0);
    if (!rc) {
        aemp_node_set_log(r.st.node, level, NULL, NULL);
        lc = aemp_logcatcher_start(r.st.node, level, NULL, NULL);
        if (!lc) {
            fprintf(stderr, "caemp: logcatcher: %s\n",
                    aemp_node_errmsg(r.st.node));
            rc = 1;
        }
    }
    if (!rc) {
        on_signals(&r, mon_stop);
        event_base_dispatch(r.st.base);
    }
    aemp_logcatcher_stop(lc);
    stop(&r);
    return rc ? 1 : r.st.status;
}

int caemp_db_command(const char *cmd, int argc, char **argv)
{
    if (!strcmp(cmd, "logcatcher"))
        return cmd_logcatcher(argc, argv);
    if (!strcmp(cmd, "db_keys") || !strcmp(cmd, "db_values")
        || !strcmp(cmd, "db_family"))
        return cmd_query(cmd, argc, argv);
    if (!strcmp(cmd, "db_set"))
        return cmd_set(argc, argv);
    if (!strcmp(cmd, "db_mon"))
        return cmd_mon(argc, argv);
    if (!strcmp(cmd, "nodes"))
        return cmd_nodes(argc, argv);
    return -1;
}
