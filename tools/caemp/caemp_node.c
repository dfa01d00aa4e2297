/* caemp: the commands that run a node (run, snd, cal, mon), as aemp's;
 * snd and cal also fail loudly where aemp would hang or stay silent. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "caemp.h"
#include "conform/conform.h"

/* aemp's rule: arguments starting with [ { or " are JSON, others strings. */
aemp_val *caemp_arg_value(const char *s, char **err)
{
    if (*s == '[' || *s == '{' || *s == '"')
        return aemp_from_json(s, strlen(s), err);
    return aemp_str(s);
}

static aemp_val *args_array(int argc, char **argv)
{
    aemp_val *a = aemp_array();
    for (int i = 0; a && i < argc; i++) {
        char *err = NULL;
        aemp_val *v = caemp_arg_value(argv[i], &err);
        if (!v) {
            fprintf(stderr, "caemp: argument '%s' is not valid JSON: %s\n",
                    argv[i], err ? err : "parse error");
            free(err);
            aemp_unref(a);
            return NULL;
        }
        aemp_array_push(a, v);
    }
    return a;
}

typedef caemp_cmd cmd_state; /* caemp.h */

void caemp_finish(cmd_state *st, int status)
{
    if (st->done)
        return;
    st->done = 1;
    st->status = status;
    event_base_loopexit(st->base, NULL);
}

const char *caemp_last_error_note(const aemp_node *node, const char *nodeid,
                                  const char *unless)
{
    static char note[600];
    const char *why = nodeid ? aemp_node_last_error(node, nodeid) : NULL;
    if (!why)
        why = aemp_node_last_error(node, NULL);
    if (!why || (unless && !strcmp(why, unless)))
        return "";
    snprintf(note, sizeof note, " (last error: %.500s)", why);
    return note;
}

static void on_timeout(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    cmd_state *st = ud;
    fprintf(stderr, "caemp: %s: no answer within 5 seconds%s\n", st->what,
            caemp_last_error_note(st->node, NULL, NULL));
    caemp_finish(st, 1);
}

/* aemp's init: configure profile => "aemp", nodeid => "aemp/%n/%u". */
int caemp_start_node(cmd_state *st, const char *what)
{
    st->what = what;
    st->status = 1;
    st->base = event_base_new();
    st->node = st->base ? aemp_node_new(st->base) : NULL;
    if (!st->node) {
        fprintf(stderr, "caemp: out of memory\n");
        return -1;
    }
    aemp_val *args = aemp_map();
    aemp_map_set(args, "profile", aemp_str("aemp"));
    aemp_map_set(args, "nodeid", aemp_str("aemp/%n/%u"));
    int rc = aemp_node_configure(st->node, args, NULL);
    aemp_unref(args);
    if (rc) {
        fprintf(stderr, "caemp: configure failed: %s\n",
                aemp_node_errmsg(st->node));
        return -1;
    }
    st->timeout = event_new(st->base, -1, 0, on_timeout, st);
    struct timeval five = {5, 0};
    event_add(st->timeout, &five);
    return 0;
}

void caemp_stop_node(cmd_state *st)
{
    if (st->timeout)
        event_free(st->timeout);
    aemp_node_free(st->node);
    if (st->base)
        event_base_free(st->base);
}

/* Prints values joined by spaces, as Perl's print join " ", @list. */
static void print_joined(const aemp_val *list, size_t from)
{
    for (size_t i = from; i < aemp_array_len(list); i++) {
        const aemp_val *v = aemp_array_at(list, i);
        const char *s = aemp_str_ptr(v, NULL);
        if (s)
            fputs(s, stdout);
        else if (!aemp_is_null(v)) {
            char *j = aemp_to_json(v, NULL);
            fputs(j ? j : "", stdout);
            free(j);
        }
        fputc(' ', stdout);
    }
}

static int is_transport_error(const aemp_val *reason)
{
    return aemp_str_eq(aemp_array_at(reason, 0), "transport_error");
}

/* ---- snd ---- */

static int snd_reply(aemp_node *node, const char *port, const aemp_val *msg,
                     void *ud)
{
    (void)node;
    (void)port;
    print_joined(msg, 0);
    fputs("\n", stdout);
    caemp_finish(ud, 0);
    return 0;
}

static void target_died(aemp_node *node, const char *port,
                        const aemp_val *reason, void *ud)
{
    cmd_state *st = ud;
    char *text = aemp_to_json(reason, NULL);
    if (is_transport_error(reason))
        fprintf(stderr, "caemp: %s: cannot reach %s: %s%s\n", st->what, port,
                text ? text : "",
                caemp_last_error_note(
                    node, aemp_str_ptr(aemp_array_at(reason, 1), NULL),
                    aemp_str_ptr(aemp_array_at(reason, 2), NULL)));
    else
        fprintf(stderr, "caemp: %s: port %s died: %s\n", st->what, port,
                text ? text : "");
    free(text);
    caemp_finish(st, 1);
}

/* snd and cal: PORT ARG... -> the node started and the message. */
static aemp_val *start_port_command(cmd_state *st, const char *what, int argc,
                                    char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "caemp: %s: port missing\n", what);
        return NULL;
    }
    aemp_val *msg = args_array(argc - 1, argv + 1);
    if (msg && caemp_start_node(st, what)) {
        aemp_unref(msg);
        caemp_stop_node(st);
        return NULL;
    }
    return msg;
}

static int cmd_snd(int argc, char **argv)
{
    cmd_state st = {0};
    aemp_val *msg = start_port_command(&st, "snd", argc, argv);
    if (!msg)
        return 1;
    const char *port = argv[0];
    aemp_snd(st.node, port, msg);
    aemp_mon(st.node, port, target_died, &st);
    /* the message arrived if a node-port snd behind it comes back */
    char *reply = aemp_port(st.node, snd_reply, &st);
    char *nodeid = aemp_node_of(port);
    aemp_sndv(st.node, nodeid, aemp_str("snd"), aemp_str(reply),
              aemp_str("message sent successfully"), NULL);
    event_base_dispatch(st.base);
    free(reply);
    free(nodeid);
    caemp_stop_node(&st);
    return st.status;
}

/* ---- cal ---- */

static int cal_reply(aemp_node *node, const char *port, const aemp_val *msg,
                     void *ud)
{
    (void)node;
    (void)port;
    /* the reply as JSON without the outer brackets */
    char *json = aemp_to_json(msg, NULL);
    if (json) {
        size_t len = strlen(json);
        printf("%.*s\n", (int)(len - 2), json + 1);
        free(json);
    }
    caemp_finish(ud, 0);
    return 0;
}

static int cmd_cal(int argc, char **argv)
{
    cmd_state st = {0};
    aemp_val *msg = start_port_command(&st, "cal", argc, argv);
    if (!msg)
        return 1;
    /* cal without a timeout of its own monitors the target (MP.pm cal) */
    char *reply = aemp_port(st.node, cal_reply, &st);
    aemp_mon(st.node, argv[0], target_died, &st);
    aemp_array_push(msg, aemp_str(reply));
    aemp_snd(st.node, argv[0], msg);
    event_base_dispatch(st.base);
    free(reply);
    caemp_stop_node(&st);
    return st.status;
}

/* ---- mon ---- */

static void mon_fired(aemp_node *node, const char *port,
                      const aemp_val *reason, void *ud)
{
    (void)node;
    (void)port;
    print_joined(reason, 0);
    fputs("\n", stdout);
    caemp_finish(ud, is_transport_error(reason) ? 1 : 0);
}

static int cmd_mon(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "caemp: mon: port missing\n");
        return 1;
    }
    cmd_state st = {0};
    if (caemp_start_node(&st, "mon")) {
        caemp_stop_node(&st);
        return 1;
    }
    /* mon waits as long as the port lives */
    event_del(st.timeout);
    aemp_mon(st.node, argv[0], mon_fired, &st);
    event_base_dispatch(st.base);
    caemp_stop_node(&st);
    return st.status;
}

/* ---- run ---- */

/* How long a stopping node goes on writing what its links hold before
 * they close: short, so a service manager's stop is quick, and bounded
 * whatever the peers do; looked at every STOP_POLL_USEC. */
#define STOP_FLUSH_USEC 100000
#define STOP_POLL_USEC 5000

/* A running node's command: caemp restart (CAEMP_RESTART_FUNC) gives
 * what is queued on the links a moment to go out, then the loop ends and
 * cmd_run re-executes; a signal stops it (on_signal); systemd hears of
 * both (caemp_notify.c). */
typedef struct run_state {
    cmd_state st;
    int restart;
    int stopping;
    struct event *flush; /* the stop's bounded flush */
    int flush_polls;     /* how often it looked */
    caemp_notify *notify;
} run_state;

/* the links' output written, or the time up: the stop goes on */
static void flush_poll(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    run_state *rs = ud;
    if (!aemp_node_unsent(rs->st.node) ||
        ++rs->flush_polls >= STOP_FLUSH_USEC / STOP_POLL_USEC)
        caemp_finish(&rs->st, 0);
}

/* SIGTERM or SIGINT: the node stops, its links get a last moment to
 * write what they hold (at most STOP_FLUSH_USEC), then the node is
 * freed, closing them and the listeners: the peers see the links close,
 * so the seeds drop the node's database entries at once and its nodes
 * take another master. A second signal ends at once. */
static void on_signal(evutil_socket_t sig, short what, void *ud)
{
    (void)what;
    run_state *rs = ud;
    if (rs->stopping++) {
        caemp_finish(&rs->st, 0);
        return;
    }
    aemp_log_ctx(rs->st.node, AEMP_LOG_NOTE, "caemp",
                 "stopping on %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    caemp_notify_stopping(rs->notify);
    struct timeval tv = {0, STOP_POLL_USEC};
    rs->flush = event_new(rs->st.base, -1, EV_PERSIST, flush_poll, rs);
    if (!rs->flush || event_add(rs->flush, &tv))
        caemp_finish(&rs->st, 0);
}

static void restart_now(aemp_node *node, void *ud)
{
    (void)node;
    caemp_finish(ud, 0);
}

static int restart_called(aemp_node *node, const aemp_val *args, void *ud)
{
    (void)args; /* Watchdog's restart takes a timeout: nothing to wait for */
    run_state *rs = ud;
    if (!rs->restart) {
        rs->restart = 1;
        aemp_log(node, AEMP_LOG_NOTE, "restart requested by %s: re-executing",
                 aemp_srcnode(node) ? aemp_srcnode(node) : "?");
        aemp_after(node, 0.1, restart_now, &rs->st);
    }
    return 0;
}

/* Runs the same caemp again, with the same arguments (the same pid). */
static int reexec(char **argv)
{
    fflush(NULL);
    execv("/proc/self/exe", argv);
    execvp(argv[0], argv); /* no /proc */
    perror("caemp: run: restart: exec");
    return 1;
}

static int cmd_run(char **main_argv, int argc, char **argv)
{
    aemp_val *list = args_array(argc, argv);
    if (!list)
        return 1;
    if (aemp_array_len(list) % 2) {
        /* configure's rule: an odd list starts with a profile name */
        aemp_val *fixed = aemp_arrayv(aemp_str("profile"), NULL);
        for (size_t i = 0; fixed && i < aemp_array_len(list); i++)
            aemp_array_push(fixed, aemp_ref(aemp_array_at(list, i)));
        aemp_unref(list);
        list = fixed;
    }
    aemp_val *args = aemp_map();
    for (size_t i = 0; args && i + 1 < aemp_array_len(list); i += 2) {
        const char *k = aemp_str_ptr(aemp_array_at(list, i), NULL);
        if (!k) {
            fprintf(stderr, "caemp: run: configure keys must be strings\n");
            aemp_unref(list);
            aemp_unref(args);
            return 1;
        }
        aemp_map_set(args, k, aemp_ref(aemp_array_at(list, i + 1)));
    }
    aemp_unref(list);
    run_state rs = {0};
    cmd_state *st = &rs.st;
    int journal = caemp_stderr_is_journal();
    st->base = event_base_new();
    st->node = st->base ? aemp_node_new(st->base) : NULL;
    if (st->node)
        aemp_node_set_service_loader(st->node, caemp_service_loader, NULL);
    if (st->node && journal)
        aemp_node_set_log_sink(st->node, caemp_journal_log, NULL);
    if (!st->node || aemp_node_configure(st->node, args, NULL)) {
        fprintf(stderr, "%scaemp: run: %s\n", journal ? "<3>" : "",
                st->node ? aemp_node_errmsg(st->node) : "out of memory");
        aemp_unref(args);
        caemp_stop_node(st);
        return 1;
    }
    aemp_unref(args);
    if (main_argv)
        aemp_func_register(st->node, CAEMP_RESTART_FUNC, restart_called, &rs);
    struct event *sigint = evsignal_new(st->base, SIGINT, on_signal, &rs);
    struct event *sigterm = evsignal_new(st->base, SIGTERM, on_signal, &rs);
    event_add(sigint, NULL);
    event_add(sigterm, NULL);
    rs.notify = caemp_notify_ready(st->node, st->base);
    event_base_dispatch(st->base);
    event_free(sigint);
    event_free(sigterm);
    if (rs.flush)
        event_free(rs.flush);
    caemp_notify_free(rs.notify);
    /* freeing the node closes its links and its listener before the new
     * image binds again */
    caemp_stop_node(st);
    return rs.restart ? reexec(main_argv) : 0;
}

int caemp_node_command(caemp_ctx *ctx, const char *cmd, int argc, char **argv)
{
    /* aemp configures from its in-memory rc, earlier edits included; we
     * configure from the file, so write those edits first */
    if (caemp_rc_dirty(ctx) && caemp_rc_save(ctx))
        return CAEMP_EXIT_DIE;
    if (!strcmp(cmd, "run"))
        return cmd_run(ctx->argv, argc, argv);
    if (!strcmp(cmd, "snd"))
        return cmd_snd(argc, argv);
    if (!strcmp(cmd, "cal"))
        return cmd_cal(argc, argv);
    if (!strcmp(cmd, "mon"))
        return cmd_mon(argc, argv);
    if (!strcmp(cmd, "conform"))
        return caemp_conform(argc, argv); /* conform/conform.c */
    if (!strcmp(cmd, "shell") || !strcmp(cmd, "restart"))
        return caemp_shell_command(cmd, argc, argv); /* caemp_shell.c */
    if (!strcmp(cmd, "stats"))
        return caemp_stats_command(argc, argv); /* caemp_stats.c */
    if (!strcmp(cmd, "eval") || !strcmp(cmd, "trace"))
        return caemp_eval_command(cmd, argc, argv); /* caemp_eval.c */
    if (!strcmp(cmd, "graph"))
        return caemp_graph_command(argc, argv); /* caemp_graph.c */
    return caemp_db_command(cmd, argc, argv); /* caemp_db.c, or -1 */
}
