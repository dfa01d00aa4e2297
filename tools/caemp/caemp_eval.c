/* caemp: eval and trace, as aemp's node_eval and trace.
 *
 * eval NODE EXPR... sends ["eval", EXPR, REPLY] to the node port; a Perl
 * node answers [$@, RESULTS...]. A C node answers with its error (it has
 * no Perl to run), a node in secure mode not at all.
 *
 * trace NODE asks NODE for its up_nodes (by eval), then each node it
 * names, and so on, printing "NODE -> NEIGHBOURS" per answer, as aemp
 * does. Only Perl nodes can answer; a node that answers with an error (a
 * C node) is printed as "NODE (cannot answer: ERROR)", and like a node
 * that does not answer within 15 seconds ("NODE (timeout)") it makes the
 * exit status 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "caemp.h"

#define TRACE_TIMEOUT 15 /* seconds per node, as aemp's */

/* Perl's "@list" for the values from..: strings as they are, undef as
 * "", anything else as JSON. */
static void join_values(FILE *out, const aemp_val *list, size_t from)
{
    for (size_t i = from; i < aemp_array_len(list); i++) {
        const aemp_val *v = aemp_array_at(list, i);
        const char *s = aemp_str_ptr(v, NULL);
        char *json = s || aemp_is_null(v) ? NULL : aemp_to_json(v, NULL);
        if (i > from)
            fputc(' ', out);
        fputs(s ? s : json ? json : "", out);
        free(json);
    }
}

/* Text built with stdio: open_memstream's buffer and length. */
typedef struct text {
    FILE *f;
    char *p;
    size_t len;
} text;

static int text_open(text *t)
{
    t->p = NULL;
    t->len = 0;
    t->f = open_memstream(&t->p, &t->len);
    return t->f ? 0 : -1;
}

/* Ends the writing: t->p and t->len are the text (p NULL when out of
 * memory). */
static void text_close(text *t)
{
    if (fclose(t->f) != 0) {
        free(t->p);
        t->p = NULL;
        t->len = 0;
    }
}

/* ---- eval ------------------------------------------------------------------ */

/* die "$err @res": the text, with a newline if it has none. */
static void print_failure(const aemp_val *msg)
{
    text t;
    if (text_open(&t))
        return;
    join_values(t.f, msg, 0);
    text_close(&t);
    while (t.len && (t.p[t.len - 1] == ' ' || t.p[t.len - 1] == '\n'))
        t.len--;
    caemp_print(stderr, t.p ? t.p : "", t.len);
    fputc('\n', stderr);
    free(t.p);
}

/* [$@, RESULTS...] */
static int eval_reply(aemp_node *node, const char *port, const aemp_val *msg,
                      void *ud)
{
    (void)node;
    (void)port;
    /* Perl's length $err */
    const aemp_val *err = aemp_array_at(msg, 0);
    size_t errlen = 0;
    int failed = aemp_str_ptr(err, &errlen) ? errlen > 0 : !aemp_is_null(err);
    if (failed) {
        print_failure(msg);
        caemp_finish(ud, CAEMP_EXIT_DIE);
        return 0;
    }
    /* the results as JSON without the outer brackets, as aemp prints */
    aemp_val *res = aemp_array();
    for (size_t i = 1; res && i < aemp_array_len(msg); i++)
        aemp_array_push(res, aemp_ref(aemp_array_at(msg, i)));
    char *json = res ? aemp_to_json(res, NULL) : NULL;
    if (json) {
        size_t len = strlen(json);
        caemp_print(stdout, json + 1, len - 2);
        fputc('\n', stdout);
    }
    free(json);
    aemp_unref(res);
    caemp_finish(ud, json ? 0 : 1);
    return 0;
}

/* mon $node: the link failed; aemp dies with the reason */
static void eval_node_died(aemp_node *node, const char *port,
                           const aemp_val *reason, void *ud)
{
    (void)node;
    (void)port;
    print_failure(reason);
    caemp_finish(ud, CAEMP_EXIT_DIE);
}

static int cmd_eval(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "caemp: eval: node id missing\n");
        return 1;
    }
    /* aemp joins the remaining arguments as Perl has them: JSON decoded,
     * the others byte strings */
    text expr;
    if (text_open(&expr)) {
        fprintf(stderr, "caemp: eval: out of memory\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        aemp_val *v = *arg == '[' || *arg == '{' || *arg == '"'
                          ? caemp_arg_value(arg, NULL)
                          : caemp_bytes_value(arg, strlen(arg));
        const char *s = aemp_str_ptr(v, NULL);
        if (i > 1)
            fputc(' ', expr.f);
        fputs(s ? s : argv[i], expr.f);
        aemp_unref(v);
    }
    text_close(&expr);
    caemp_cmd st = {0};
    char *nodeid = aemp_node_of(argv[0]);
    if (caemp_start_node(&st, "eval")) {
        caemp_stop_node(&st);
        free(expr.p);
        free(nodeid);
        return 1;
    }
    char *reply = aemp_port(st.node, eval_reply, &st);
    aemp_sndv(st.node, nodeid, aemp_str("eval"),
              aemp_str(expr.p ? expr.p : ""), aemp_str(reply), NULL);
    aemp_mon(st.node, nodeid, eval_node_died, &st);
    event_base_dispatch(st.base);
    free(reply);
    free(nodeid);
    free(expr.p);
    caemp_stop_node(&st);
    return st.status;
}

/* ---- trace ------------------------------------------------------------------ */

typedef struct trace_state {
    caemp_cmd cmd;
    char *reply;       /* our port for the answers */
    aemp_val *seen;    /* node id -> timer address, or null once done */
    int pending;       /* nodes asked that have not answered */
    int status;
} trace_state;

typedef struct trace_timer {
    trace_state *tr;
    char *nodeid;
    struct event *ev;
} trace_timer;

static void trace_done_one(trace_state *tr)
{
    if (--tr->pending == 0)
        caemp_finish(&tr->cmd, tr->status);
}

static void timer_free(trace_timer *t)
{
    event_free(t->ev);
    free(t->nodeid);
    free(t);
}

/* A node's timer, taken from seen (it is then done). */
static trace_timer *take_timer(trace_state *tr, const char *nodeid)
{
    aemp_val *v = aemp_map_get(tr->seen, nodeid);
    if (!v || aemp_is_null(v))
        return NULL;
    trace_timer *t = (trace_timer *)(intptr_t)aemp_as_int(v);
    aemp_map_set(tr->seen, nodeid, aemp_null());
    return t;
}

static void trace_timeout(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    trace_timer *t = ud;
    trace_state *tr = t->tr;
    printf("%s (timeout)\n", t->nodeid);
    fflush(stdout);
    tr->status = 1;
    take_timer(tr, t->nodeid);
    timer_free(t);
    trace_done_one(tr);
}

/* Asks a node we have not asked yet for its up_nodes. */
static void trace_ask(trace_state *tr, const char *nodeid)
{
    if (aemp_map_get(tr->seen, nodeid))
        return;
    trace_timer *t = calloc(1, sizeof *t);
    if (!t || !(t->nodeid = strdup(nodeid))
        || !(t->ev = event_new(tr->cmd.base, -1, 0, trace_timeout, t))) {
        free(t ? t->nodeid : NULL);
        free(t);
        return;
    }
    t->tr = tr;
    struct timeval tv = {TRACE_TIMEOUT, 0};
    event_add(t->ev, &tv);
    aemp_map_set(tr->seen, nodeid, aemp_int((int64_t)(intptr_t)t));
    tr->pending++;
    aemp_sndv(tr->cmd.node, nodeid, aemp_str("eval"),
              aemp_str("AnyEvent::MP::Kernel::up_nodes"), aemp_str(tr->reply),
              aemp_str(nodeid), NULL);
}

/* [NODE, $@, NEIGHBOURS...] */
static int trace_reply(aemp_node *node, const char *port, const aemp_val *msg,
                       void *ud)
{
    (void)port;
    trace_state *tr = ud;
    const char *from = aemp_str_ptr(aemp_array_at(msg, 0), NULL);
    trace_timer *t = from ? take_timer(tr, from) : NULL;
    if (t)
        timer_free(t);
    size_t errlen = 0;
    const char *err = aemp_str_ptr(aemp_array_at(msg, 1), &errlen);
    text line;
    if (text_open(&line)) {
        trace_done_one(tr);
        return 0;
    }
    if (err && errlen) {
        while (errlen && err[errlen - 1] == '\n')
            errlen--;
        fprintf(line.f, "%s (cannot answer: %.*s)\n", from ? from : "",
                (int)errlen, err);
        tr->status = 1;
    } else {
        fprintf(line.f, "%s -> ", from ? from : "");
        aemp_val *neigh = aemp_array();
        for (size_t i = 2; i < aemp_array_len(msg); i++) {
            const char *n = aemp_str_ptr(aemp_array_at(msg, i), NULL);
            if (n && strcmp(n, aemp_node_id(node)))
                aemp_array_push(neigh, aemp_str(n));
        }
        join_values(line.f, neigh, 0);
        fputc('\n', line.f);
        for (size_t i = 0; i < aemp_array_len(neigh); i++)
            trace_ask(tr, aemp_str_ptr(aemp_array_at(neigh, i), NULL));
        aemp_unref(neigh);
    }
    text_close(&line);
    caemp_print(stdout, line.p ? line.p : "", line.len);
    fflush(stdout);
    free(line.p);
    trace_done_one(tr);
    return 0;
}

static int cmd_trace(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "node id missing\n");
        return CAEMP_EXIT_DIE;
    }
    trace_state tr = {0};
    if (caemp_start_node(&tr.cmd, "trace")) {
        caemp_stop_node(&tr.cmd);
        return 1;
    }
    event_del(tr.cmd.timeout); /* each node has its own 15 seconds */
    tr.seen = aemp_map();
    tr.reply = aemp_port(tr.cmd.node, trace_reply, &tr);
    /* aemp starts with a message to itself: "seed -> NODE" */
    tr.pending = 1;
    aemp_sndv(tr.cmd.node, tr.reply, aemp_str("seed"), aemp_null(),
              aemp_str(argv[0]), NULL);
    event_base_dispatch(tr.cmd.base);
    for (size_t i = 0; i < aemp_map_len(tr.seen); i++) {
        aemp_val *v = aemp_map_value_at(tr.seen, i);
        if (!aemp_is_null(v))
            timer_free((trace_timer *)(intptr_t)aemp_as_int(v));
    }
    aemp_unref(tr.seen);
    free(tr.reply);
    caemp_stop_node(&tr.cmd);
    return tr.cmd.status;
}

int caemp_eval_command(const char *cmd, int argc, char **argv)
{
    if (!strcmp(cmd, "eval"))
        return cmd_eval(argc, argv);
    if (!strcmp(cmd, "trace"))
        return cmd_trace(argc, argv);
    return -1;
}
