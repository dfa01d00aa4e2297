/* caemp graph [--dot FILE] [--svg FILE] [SEED...]: the network as a
 * Graphviz graph.
 *
 * Walks the network as trace does (caemp_walk.c), from the seeds given
 * (else from the master node caemp's node finds). Each node is first
 * asked "can" for AEMP_REQ_UP_NODES: a C node has it and answers it, a
 * Perl node is asked by eval; both answer with the nodes they are linked
 * to and the provider each of those named in its greeting. So a node
 * caemp cannot reach itself still gets its provider from one that is
 * linked to it; a node caemp reached tells its own in its greeting to
 * caemp (aemp_node_provider), which counts first. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "caemp.h"
#include "caemp_dot.h"

/* A Perl node's answer, as the C nodes' request gives it: NODE,
 * PROVIDER, ... for every node with a link up. */
#define PERL_UP_NODES                                                         \
    "map +($_, $AnyEvent::MP::Kernel::NODE{$_}{transport}"                  \
    "{remote_greeting}{provider} // \"\"), AnyEvent::MP::Kernel::up_nodes"

typedef struct graph_run {
    caemp_walk walk;
    caemp_graph g;
    struct event *poll; /* waiting for a master, without seeds given */
    int polls;
} graph_run;

static void graph_ask(caemp_walk *w, const char *nodeid)
{
    aemp_sndv(w->cmd.node, nodeid, aemp_str("can"),
              aemp_str(AEMP_REQ_UP_NODES), aemp_str(w->reply),
              aemp_str(nodeid), aemp_str("can"), NULL);
}

static void graph_timeout(caemp_walk *w, const char *nodeid)
{
    fprintf(stderr, "caemp: graph: %s did not answer within %d seconds%s\n",
            nodeid, CAEMP_WALK_TIMEOUT,
            caemp_last_error_note(w->cmd.node, nodeid, NULL));
    w->status = 1;
}

/* [NODE, "up", $@, NODE1, PROVIDER1, ...] */
static void graph_links(graph_run *r, const char *from, const aemp_val *msg)
{
    caemp_walk *w = &r->walk;
    size_t errlen = 0;
    const char *err = aemp_str_ptr(aemp_array_at(msg, 2), &errlen);
    if (!err || errlen) {
        while (errlen && err[errlen - 1] == '\n')
            errlen--;
        fprintf(stderr, "caemp: graph: %s cannot answer: %.*s\n", from,
                (int)errlen, err ? err : "");
        w->status = 1;
        return;
    }
    const char *self = aemp_node_id(w->cmd.node);
    for (size_t i = 3; i + 1 < aemp_array_len(msg); i += 2) {
        const char *n = aemp_str_ptr(aemp_array_at(msg, i), NULL);
        const char *p = aemp_str_ptr(aemp_array_at(msg, i + 1), NULL);
        if (!n || !strcmp(n, self))
            continue;
        caemp_graph_node(&r->g, n, p, 0);
        caemp_graph_link(&r->g, from, n);
        caemp_walk_ask(w, n);
    }
}

static int graph_answer(caemp_walk *w, const char *from, const aemp_val *msg)
{
    graph_run *r = w->ud;
    /* what it said to us in its greeting */
    caemp_graph_node(&r->g, from, aemp_node_provider(w->cmd.node, from), 1);
    if (aemp_str_eq(aemp_array_at(msg, 1), "can")) {
        if (aemp_is_true(aemp_array_at(msg, 2)))
            aemp_sndv(w->cmd.node, from, aemp_str(AEMP_REQ_UP_NODES),
                      aemp_str(w->reply), aemp_str(from), aemp_str("up"),
                      NULL);
        else
            aemp_eval_on(w->cmd.node, from, PERL_UP_NODES,
                         aemp_arrayv(aemp_str(w->reply), aemp_str(from),
                                     aemp_str("up"), NULL));
        return 0;
    }
    graph_links(r, from, msg);
    return 1;
}

/* Runs "dot -Tsvg -o FILE" on the DOT text. */
static int write_svg(const char *file, const char *dot, size_t len)
{
    char *cmd = NULL;
    FILE *p = NULL;
    /* the file name goes to the shell quoted: ' as '\'' */
    size_t n = strlen(file);
    cmd = malloc(4 * n + 32);
    if (!cmd)
        return 1;
    char *q = cmd + sprintf(cmd, "dot -Tsvg -o '");
    for (const char *s = file; *s; s++)
        q += *s == '\'' ? sprintf(q, "'\\''") : sprintf(q, "%c", *s);
    strcpy(q, "'");
    p = popen(cmd, "w");
    free(cmd);
    if (!p) {
        fprintf(stderr, "caemp: graph: cannot run dot\n");
        return 1;
    }
    fwrite(dot, 1, len, p);
    int rc = pclose(p);
    if (rc != 0) {
        fprintf(stderr, "caemp: graph: dot failed making %s\n", file);
        return 1;
    }
    return 0;
}

/* 1 if an executable "dot" is on PATH */
static int have_dot(void)
{
    const char *path = getenv("PATH");
    if (!path)
        return 0;
    char *copy = strdup(path);
    int found = 0;
    for (char *save = NULL, *dir = copy ? strtok_r(copy, ":", &save) : NULL;
         dir && !found; dir = strtok_r(NULL, ":", &save)) {
        char file[4096];
        snprintf(file, sizeof file, "%s/dot", *dir ? dir : ".");
        found = access(file, X_OK) == 0;
    }
    free(copy);
    return found;
}

/* The DOT text to stdout or --dot's file, and --svg's picture. */
static int graph_write(const caemp_graph *g, const char *dot_file,
                       const char *svg_file)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem || caemp_graph_dot(g, mem) || fclose(mem)) {
        fprintf(stderr, "caemp: graph: out of memory\n");
        free(text);
        return 1;
    }
    int status = 0;
    if (dot_file || !svg_file) {
        FILE *out = dot_file ? fopen(dot_file, "w") : stdout;
        if (!out || fwrite(text, 1, len, out) != len
            || (dot_file ? fclose(out) : fflush(out))) {
            fprintf(stderr, "caemp: graph: cannot write %s\n",
                    dot_file ? dot_file : "the output");
            status = 1;
        }
    }
    if (svg_file && !status)
        status = write_svg(svg_file, text, len);
    free(text);
    return status;
}

/* No seed given: walk from the master once caemp's node has one. */
static void poll_master(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    graph_run *r = ud;
    const char *master = aemp_node_master(r->walk.cmd.node);
    if (master) {
        caemp_graph_seed(&r->g, master);
        r->walk.pending--; /* the wait for a master is done */
        caemp_walk_ask(&r->walk, master);
        return;
    }
    if (++r->polls >= 250) {
        fprintf(stderr, "caemp: graph: no seed given and no master node "
                        "within 5 seconds%s\n",
                caemp_last_error_note(r->walk.cmd.node, NULL, NULL));
        caemp_finish(&r->walk.cmd, 1);
        return;
    }
    struct timeval tv = {0, 20000};
    event_add(r->poll, &tv);
}

/* --dot FILE, --svg FILE; the rest are seeds. 0, or 1 after a message. */
static int parse_args(int argc, char **argv, const char **dot,
                      const char **svg, int *first_seed)
{
    int i = 0;
    for (; i < argc && !strncmp(argv[i], "--", 2); i += 2) {
        const char **slot = !strcmp(argv[i], "--dot")   ? dot
                            : !strcmp(argv[i], "--svg") ? svg
                                                        : NULL;
        if (!strcmp(argv[i], "--")) {
            i++;
            break;
        }
        if (!slot) {
            fprintf(stderr, "caemp: graph: unknown option %s\n", argv[i]);
            return 1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "caemp: graph: %s needs a file name\n", argv[i]);
            return 1;
        }
        *slot = argv[i + 1];
    }
    *first_seed = i;
    if (*svg && !have_dot()) {
        fprintf(stderr, "caemp: graph: --svg needs Graphviz's dot program, "
                        "which is not on PATH (install graphviz, or use "
                        "--dot and draw it elsewhere)\n");
        return 1;
    }
    return 0;
}

int caemp_graph_command(int argc, char **argv)
{
    const char *dot = NULL, *svg = NULL;
    int first;
    if (parse_args(argc, argv, &dot, &svg, &first))
        return 1;
    static const caemp_walk_ops ops = {graph_ask, graph_answer,
                                       graph_timeout};
    graph_run r = {0};
    int status = 1;
    if (caemp_graph_init(&r.g) || caemp_walk_start(&r.walk, "graph", &ops, &r))
        goto out;
    for (int i = first; i < argc; i++) {
        caemp_graph_seed(&r.g, argv[i]);
        caemp_walk_ask(&r.walk, argv[i]);
    }
    if (first == argc) {
        r.poll = event_new(r.walk.cmd.base, -1, 0, poll_master, &r);
        r.walk.pending++; /* until a master is found */
        poll_master(-1, 0, &r);
    }
    status = caemp_walk_run(&r.walk);
    if (r.walk.pending == 0) /* else no master was found */
        status = graph_write(&r.g, dot, svg) ? 1 : status;
out:
    if (r.poll)
        event_free(r.poll);
    caemp_walk_stop(&r.walk);
    caemp_graph_clear(&r.g);
    return status;
}
