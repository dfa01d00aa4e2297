/* caemp: the command-line tool, aemp's C twin.
 *
 * Like aemp, caemp takes a chain of commands: each command eats the
 * arguments it needs and the rest is read as the next command, e.g.
 *
 *    caemp gensecret profile seed setbinds '*:4040' setseeds host:4040
 *
 * main() (caemp.c) walks the chain. rc-file commands are caemp_rc.c's;
 * every other command goes to caemp_node_command (caemp_node.c). The rc
 * file is written once at the end, if anything changed, as aemp's END
 * block does (also after an error). */
#ifndef CAEMP_H
#define CAEMP_H

#include <stdio.h>

#include "aemp/node.h"
#include "aemp/rc.h"
#include "aemp/value.h"

/* What caemp_rc_command returns for a command that is not an rc command. */
#define CAEMP_NOT_RC (-1)

/* The exit status of a failed command: aemp dies, and perl exits 255. */
#define CAEMP_EXIT_DIE 255

typedef struct caemp_ctx {
    /* The command line after the program name, as aemp sees @ARGV:
     * args[i] is the value of argument i (a string, or the decoded JSON
     * of an argument that starts with '[', '{' or '"'); raw[i] is its
     * text. pos is the next argument to read. */
    aemp_val *args;
    char **raw;
    int argc;
    int pos;

    /* The rc file, loaded on first use by an rc command (NULL before).
     * As in aemp, "is it dirty" is the rc's own "dirty" key (a count):
     * aemp's showconfig prints it too, and saving removes it. See
     * caemp_rc_dirty(). */
    aemp_rc *rc;

    /* The map that rc commands edit: the rc's top level (global
     * defaults, profile_name NULL) or the profile chosen with "profile
     * NAME". A profile removed with delprofile goes on being edited,
     * detached, as in aemp: then detached is a copy of it that edits go
     * to (and are lost with), else NULL. */
    char *profile_name;
    aemp_val *detached;

    /* main's argv, for run's re-execution (caemp restart) */
    char **argv;
} caemp_ctx;

/* ---- caemp_rc.c ---- */

/* Runs cmd if it is an rc command, taking its arguments from
 * ctx->args[ctx->pos...] (advancing pos). Returns CAEMP_NOT_RC if cmd is
 * none of them, 0 on success, or an exit status (a message has been
 * printed to stderr). */
int caemp_rc_command(caemp_ctx *ctx, const char *cmd);

/* caemp_service.c: caemp run's loader of "Module::" services, plugins on
 * the rc key service_path and the installed directory */
int caemp_service_loader(aemp_node *node, const char *module, void *ud);

/* 1 if the rc has been loaded and changed (its "dirty" key is true). */
int caemp_rc_dirty(const caemp_ctx *ctx);

/* Writes the rc if it is dirty (removing "dirty" first, as Config.pm's
 * save). 0 or an exit status after printing a message. */
int caemp_rc_save(caemp_ctx *ctx);

/* Loads the rc if not yet loaded. 0 or an exit status after a message. */
int caemp_rc_ensure(caemp_ctx *ctx);

void caemp_ctx_free(caemp_ctx *ctx);

/* For the rc commands (caemp_rc.c, caemp_rc_keys.c). Each returns 0 or
 * an exit status after a message unless it says otherwise. */

/* Prints msg and a newline to stderr; the exit status of a die. */
int caemp_die(const char *msg);
int caemp_oom(void);
/* After an aemp_rc call on ctx->rc failed with r: its message. */
int caemp_rc_failed(const caemp_ctx *ctx, int r);
/* ++$cfg->{dirty}, as aemp does after every rc command. */
int caemp_rc_mark_dirty(caemp_ctx *ctx);
/* The next argument (borrowed), or NULL after printing missing. */
const aemp_val *caemp_need_arg(caemp_ctx *ctx, const char *missing);

/* The edited map's key (borrowed, valid until the next edit), set (taking
 * v) and removal. */
const aemp_val *caemp_target_get(const caemp_ctx *ctx, const char *key);
int caemp_target_set(caemp_ctx *ctx, const char *key, aemp_val *v);
void caemp_target_del(caemp_ctx *ctx, const char *key);

/* An rc command: key is the rc key it edits (NULL for the profile
 * commands), missing aemp's message for a missing argument. */
typedef int (*caemp_rc_fn)(caemp_ctx *ctx, const char *key,
                           const char *missing);

/* A command found by name: what runs it, with which key and message. */
typedef struct caemp_rc_op {
    caemp_rc_fn fn;
    const char *key;
    const char *missing;
} caemp_rc_op;

/* ---- caemp_rc_keys.c ---- */

/* 1 and *op if cmd is one of the commands of one rc key (setKEY, KEY,
 * delKEY, genKEY, addITEM, delITEM), else 0. */
int caemp_rc_find_key_op(const char *cmd, caemp_rc_op *op);

/* ---- caemp.c ---- */

/* Perl's stringification of a scalar: strings as they are, integers in
 * decimal, doubles as %.15g, booleans "1"/"0", null "". Arrays and maps
 * give "ARRAY(0x...)" / "HASH(0x...)" as Perl would. malloc'd, NULL when
 * out of memory. */
char *caemp_perl_str(const aemp_val *v);

/* A string as Perl holds a command-line argument or file content read
 * without a layer: each byte a character, so bytes >= 0x80 become two
 * UTF-8 bytes when stored in the rc (aemp does exactly that). */
aemp_val *caemp_bytes_value(const char *s, size_t len);

/* Prints UTF-8 text as Perl prints a character string to a handle without
 * layers: as Latin-1 bytes when every character fits, else as UTF-8. */
void caemp_print(FILE *out, const char *text, size_t len);

/* The usage text. */
void caemp_usage(FILE *out);

/* ---- caemp_cert.c ---- */

/* What aemp gencert stores: a new self-signed certificate (RSA 2048,
 * CN=AnyEvent::MP, 3650 days) in PEM, followed by its unencrypted key in
 * PEM, as "openssl req -new -nodes -x509" gives them. malloc'd, or NULL
 * and a message in *err. */
char *caemp_gencert(char **err);

/* ---- caemp_node.c ----
 *
 * Runs a command that is not an rc command (run, snd, cal, mon, ...).
 * cmd is the command name; argc/argv are ALL the arguments after it, raw
 * (JSON arguments still as text: the command decodes what it uses).
 * The command consumes all of them: main() stops after it and exits with
 * its return value. Returns -1 if cmd is unknown; main then prints
 * "CMD: no such caemp command (try caemp help)" and exits 255.
 * Edits made earlier in the chain (caemp gensecret snd ...) have been
 * saved to the rc file before the call, so a node configured from the
 * file sees them, as aemp's node sees its in-memory %CFG. "run" is only
 * passed as the first command, as aemp handles it only there. */
int caemp_node_command(caemp_ctx *ctx, const char *cmd, int argc, char **argv);

/* What the node commands share (caemp_node.c, caemp_db.c). */

struct event;
struct event_base;

/* One command's node: the event loop, the node and what ends the run. */
typedef struct caemp_cmd {
    struct event_base *base;
    aemp_node *node;
    struct event *timeout; /* 5 s, armed by caemp_start_node */
    int status;            /* exit code */
    int done;
    const char *what;      /* for messages */
} caemp_cmd;

/* aemp's init: a node configured with profile "aemp" and node id
 * "aemp/%n/%u", and the five-second timeout armed (it prints "caemp: WHAT:
 * no answer within 5 seconds" and finishes with 1). 0, or -1 after a
 * message; call caemp_stop_node either way. */
int caemp_start_node(caemp_cmd *st, const char *what);
void caemp_stop_node(caemp_cmd *st);

/* Ends the run with that exit status (the first call wins). */
void caemp_finish(caemp_cmd *st, int status);

/* " (last error: TEXT)", where TEXT is why the last link to nodeid failed
 * (nodeid NULL, or nothing known for it: the last link the node started
 * itself), or "" when no link failed or TEXT is already said (equal to
 * unless, which may be NULL). Kill reasons stay Perl's ("connect
 * timeout"); this names the cause. Valid until the next call. */
const char *caemp_last_error_note(const aemp_node *node, const char *nodeid,
                                  const char *unless);

/* aemp's rule: an argument starting with [ { or " is JSON, else a string.
 * NULL and a message in *err for bad JSON. */
aemp_val *caemp_arg_value(const char *s, char **err);

/* ---- caemp_notify.c: caemp run and systemd (sd_notify) ----
 *
 * With libsystemd (meson option systemd): caemp_notify_ready sends
 * READY=1 (call it once configure returned: every bind listens) and
 * keeps a STATUS= line ("seed, N nodes linked") current from node
 * events; caemp_notify_stopping sends STOPPING=1. Without libsystemd
 * they do nothing and ready returns NULL. NULL-safe. */
typedef struct caemp_notify caemp_notify;
caemp_notify *caemp_notify_ready(aemp_node *node, struct event_base *base);
void caemp_notify_stopping(caemp_notify *nt);
void caemp_notify_free(caemp_notify *nt);

/* ---- caemp_journal.c: log lines for the journal ---- */

/* 1 if stderr is the journal's stream (JOURNAL_STREAM names it). */
int caemp_stderr_is_journal(void);
/* A log sink (aemp_log_cb) writing "<PRIORITY>ctx: msg" to stderr. */
void caemp_journal_log(int level, const char *ctx, const char *msg,
                       void *ud);

/* ---- caemp_db.c ----
 *
 * The database commands (db_keys, db_values, db_family, db_set, db_mon)
 * and nodes; as caemp_node_command, -1 if cmd is none of them. */
int caemp_db_command(const char *cmd, int argc, char **argv);

/* ---- caemp_walk.c ----
 *
 * Walking the network from node to node, as trace and graph do: each
 * node asked once, with CAEMP_WALK_TIMEOUT seconds to answer, answers
 * coming to w->reply as [NODE, ...] (the node's id first: the command
 * asks with that in its reply). */

#define CAEMP_WALK_TIMEOUT 15 /* seconds per node, as aemp's trace */

typedef struct caemp_walk caemp_walk;

typedef struct caemp_walk_ops {
    /* Sends nodeid the question, the answer to go to w->reply. */
    void (*ask)(caemp_walk *w, const char *nodeid);
    /* An answer [nodeid, ...] (borrowed). 1: the node is done; 0: it was
     * asked again (its time runs on). May ask other nodes. */
    int (*answer)(caemp_walk *w, const char *nodeid, const aemp_val *msg);
    /* nodeid did not answer in time; it is done. */
    void (*timeout)(caemp_walk *w, const char *nodeid);
} caemp_walk_ops;

struct caemp_walk {
    caemp_cmd cmd;
    const caemp_walk_ops *ops;
    void *ud;          /* the command's */
    char *reply;       /* our port for the answers */
    aemp_val *seen;    /* node id -> its timer's address, null once done */
    int pending;       /* nodes asked that are not done */
    int status;        /* the exit status once all are done */
};

/* Starts caemp's node and the reply port (0, or -1 after a message);
 * call caemp_walk_stop either way. */
int caemp_walk_start(caemp_walk *w, const char *what,
                     const caemp_walk_ops *ops, void *ud);
/* Asks nodeid unless it has been asked before. */
void caemp_walk_ask(caemp_walk *w, const char *nodeid);
/* Runs until every node asked is done; the exit status. */
int caemp_walk_run(caemp_walk *w);
void caemp_walk_stop(caemp_walk *w);

/* ---- caemp_eval.c ----
 *
 * eval NODE EXPR... and trace NODE, as aemp's; -1 if cmd is neither. */
int caemp_eval_command(const char *cmd, int argc, char **argv);

/* ---- caemp_graph.c ----
 *
 * graph [--dot FILE] [--svg FILE] [SEED...]: the network as Graphviz DOT
 * (docs/caemp.md). */
int caemp_graph_command(int argc, char **argv);
/* ---- caemp_stats.c ----
 *
 * stats NODE [--json] [--interval SECS]: the node's counters
 * (docs/metrics.md). */
int caemp_stats_command(int argc, char **argv);

/* ---- caemp_shell.c ----
 *
 * shell [NODE] and restart NODE, as aemp's; -1 if cmd is neither. */
int caemp_shell_command(const char *cmd, int argc, char **argv);

/* The function a node started by `caemp run` answers a restart with (it
 * re-executes itself): the one aemp's restart evaluates. */
#define CAEMP_RESTART_FUNC "AnyEvent::Watchdog::Util::restart"

#endif
