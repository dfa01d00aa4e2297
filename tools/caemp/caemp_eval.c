/* caemp: eval and trace, as aemp's node_eval and trace.
 *
 * eval NODE EXPR... sends ["eval", EXPR, REPLY] to the node port; a Perl
 * node answers [$@, RESULTS...]. A C node answers with its error (it has
 * no Perl to run), a node in secure mode not at all.
 *
 * trace NODE asks NODE for its up_nodes (by eval), then each node it
 * names, and so on (the walk is caemp_walk.c's, shared with graph),
 * printing "NODE -> NEIGHBOURS" per answer, as aemp does. Only Perl nodes can answer; a node that answers with an error (a
 * C node) is printed as "NODE (cannot answer: ERROR)", and like a node
 * that does not answer within 15 seconds ("NODE (timeout)") it makes the
 * exit status 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "caemp.h"

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

/* Ends the writing and prints the text to stdout, at once. */
static void text_print(text *t)
{
    text_close(t);
    caemp_print(stdout, t->p ? t->p : "", t->len);
    fflush(stdout);
    free(t->p);
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

static void trace_ask(caemp_walk *w, const char *nodeid)
{
    aemp_sndv(w->cmd.node, nodeid, aemp_str("eval"),
              aemp_str("AnyEvent::MP::Kernel::up_nodes"), aemp_str(w->reply),
              aemp_str(nodeid), NULL);
}

static void trace_timeout(caemp_walk *w, const char *nodeid)
{
    printf("%s (timeout)\n", nodeid);
    fflush(stdout);
    w->status = 1;
}

/* "FROM -> NEIGHBOURS" (our own node left out), asking each of them. */
static void trace_print_links(caemp_walk *w, FILE *out, const char *from,
                              const aemp_val *msg, size_t first)
{
    fprintf(out, "%s -> ", from);
    aemp_val *neigh = aemp_array();
    for (size_t i = first; i < aemp_array_len(msg); i++) {
        const char *n = aemp_str_ptr(aemp_array_at(msg, i), NULL);
        if (n && strcmp(n, aemp_node_id(w->cmd.node)))
            aemp_array_push(neigh, aemp_str(n));
    }
    join_values(out, neigh, 0);
    fputc('\n', out);
    for (size_t i = 0; i < aemp_array_len(neigh); i++)
        caemp_walk_ask(w, aemp_str_ptr(aemp_array_at(neigh, i), NULL));
    aemp_unref(neigh);
}

/* [NODE, $@, NEIGHBOURS...] */
static int trace_answer(caemp_walk *w, const char *from, const aemp_val *msg)
{
    size_t errlen = 0;
    const char *err = aemp_str_ptr(aemp_array_at(msg, 1), &errlen);
    text line;
    if (text_open(&line))
        return 1;
    if (err && errlen) {
        while (errlen && err[errlen - 1] == '\n')
            errlen--;
        fprintf(line.f, "%s (cannot answer: %.*s)\n", from, (int)errlen, err);
        w->status = 1;
    } else {
        trace_print_links(w, line.f, from, msg, 2);
    }
    text_print(&line);
    return 1;
}

static int cmd_trace(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "node id missing\n");
        return CAEMP_EXIT_DIE;
    }
    static const caemp_walk_ops ops = {trace_ask, trace_answer,
                                       trace_timeout};
    caemp_walk w = {0};
    if (caemp_walk_start(&w, "trace", &ops, NULL)) {
        caemp_walk_stop(&w);
        return 1;
    }
    /* aemp's first line, "seed -> NODE" */
    aemp_val *seed = aemp_arrayv(aemp_str(argv[0]), NULL);
    text line;
    if (!seed || text_open(&line)) {
        aemp_unref(seed);
        caemp_walk_stop(&w);
        return 1;
    }
    trace_print_links(&w, line.f, "seed", seed, 0);
    text_print(&line);
    aemp_unref(seed);
    int status = caemp_walk_run(&w);
    caemp_walk_stop(&w);
    return status;
}

int caemp_eval_command(const char *cmd, int argc, char **argv)
{
    if (!strcmp(cmd, "eval"))
        return cmd_eval(argc, argv);
    if (!strcmp(cmd, "trace"))
        return cmd_trace(argc, argv);
    return -1;
}
