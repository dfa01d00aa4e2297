/* caemp: shell NODE and restart NODE, as aemp's.
 *
 * shell reads stdin line by line (no terminal library: use rlfe or the
 * like for line editing, as aemp says). Against a Perl node each line is
 * evaluated there as aemp does it: ["eval", "package PKG; my $ECHO =
 * 'ECHOPORT'; LINE", REPLY], the answer printed in aemp's format (the
 * results as JSON::XS's pretty, ascii JSON). A C node cannot evaluate
 * Perl; it answers an eval with its refusal, and that answer is how the
 * shell knows it: then each line is one of caemp's verbs (snd, cal, mon,
 * db_*, nodes), run from the shell's node. "=" and "=NAME" work alike for
 * both. When stdin is not a terminal (a script), a line waits for its
 * answer (at most 5 seconds) before the next is read, so the output
 * follows the input; at the end of stdin the shell waits for what is
 * still outstanding (at most 5 seconds) and exits 0.
 *
 * restart sends aemp's restart eval (AnyEvent::Watchdog::Util::restart
 * from an idle watcher). A C node refuses the eval; restart then calls
 * the function of that name on it, which `caemp run` registers: it
 * re-executes itself. restart waits until the node's link goes down. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "aemp/db.h"
#include "aemp/func.h"
#include "caemp.h"

#define SHELL_WAIT 5        /* seconds a scripted line waits for its answer */
#define SHELL_MAX_LINE (1u << 20)

/* The start of a C node's answer to an eval (kernel_nodereq.c). */
static const char c_refusal[] = "eval: this node (libaemp, C)";

/* ---- JSON::XS->new->pretty->ascii ---------------------------------------- */

static void indent(FILE *out, int level)
{
    for (int i = 0; i < level * 3; i++)
        fputc(' ', out);
}

/* A scalar's compact JSON (JSON::XS's, raw UTF-8) with every non-ASCII
 * character as \uXXXX (surrogate pairs above U+FFFF), as ascii does. */
static void put_ascii(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x80) {
            fputc(*p++, out);
            continue;
        }
        unsigned cp;
        int n = *p >= 0xf0 ? 3 : *p >= 0xe0 ? 2 : 1;
        cp = *p++ & (0x3fu >> n);
        for (int i = 0; i < n && *p; i++)
            cp = cp << 6 | (*p++ & 0x3fu);
        if (cp > 0xffff) {
            cp -= 0x10000;
            fprintf(out, "\\u%04x\\u%04x", 0xd800 + (cp >> 10),
                    0xdc00 + (cp & 0x3ff));
        } else {
            fprintf(out, "\\u%04x", cp);
        }
    }
}

static void put_scalar(FILE *out, const aemp_val *v)
{
    char *json = aemp_to_json(v, NULL);
    put_ascii(out, json ? json : "null");
    free(json);
}

static void pretty(FILE *out, const aemp_val *v, int level)
{
    aemp_type t = aemp_type_of(v);
    if (t == AEMP_ARRAY && aemp_array_len(v)) {
        fputs("[\n", out);
        for (size_t i = 0; i < aemp_array_len(v); i++) {
            indent(out, level + 1);
            pretty(out, aemp_array_at(v, i), level + 1);
            fputs(i + 1 < aemp_array_len(v) ? ",\n" : "\n", out);
        }
        indent(out, level);
        fputc(']', out);
    } else if (t == AEMP_MAP && aemp_map_len(v)) {
        fputs("{\n", out);
        for (size_t i = 0; i < aemp_map_len(v); i++) {
            size_t klen;
            const char *k = aemp_map_key_at(v, i, &klen);
            aemp_val *key = aemp_strn(k, klen);
            indent(out, level + 1);
            put_scalar(out, key);
            aemp_unref(key);
            fputs(" : ", out);
            pretty(out, aemp_map_value_at(v, i), level + 1);
            fputs(i + 1 < aemp_map_len(v) ? ",\n" : "\n", out);
        }
        indent(out, level);
        fputc('}', out);
    } else if (t == AEMP_ARRAY) {
        fputs("[]", out);
    } else if (t == AEMP_MAP) {
        fputs("{}", out);
    } else {
        put_scalar(out, v);
    }
}

/* $json->encode($v): pretty ends the top level with a newline. */
static void print_pretty(const aemp_val *v)
{
    pretty(stdout, v, 0);
    fputc('\n', stdout);
}

/* Perl's "$err @res" */
static void print_err_res(const aemp_val *msg)
{
    for (size_t i = 0; i < aemp_array_len(msg); i++) {
        char *s = caemp_perl_str(aemp_array_at(msg, i));
        if (i > 1)
            fputc(' ', stdout);
        size_t len = s ? strlen(s) : 0;
        caemp_print(stdout, s ? s : "", len);
        if (i == 0)
            fputc(' ', stdout); /* "$err " even without results */
        free(s);
    }
}

/* ---- the shell ------------------------------------------------------------ */

enum { KIND_UNKNOWN, KIND_PERL, KIND_C };

typedef struct shell shell;

/* One line's request: its answer comes later. */
typedef struct shell_req {
    shell *sh;
    struct shell_req *next;
    char *line;
    char *node;            /* the node it was for */
    char *reply;           /* our reply port, if any */
    aemp_port_mon_id mon;  /* cal/snd: the target */
    struct timeval t0;
    int probe;             /* the eval that tells C from Perl */
    int blocking;          /* a scripted shell waits for it */
} shell_req;

struct shell {
    caemp_cmd cmd;
    char *node;            /* the current node */
    int kind;
    char *pkg;
    char *echo;
    int serial;            /* stdin is not a terminal */
    int waiting;           /* a blocking request is out */
    int eof;
    int pending;
    shell_req *reqs;
    struct event *in_ev;   /* stdin readable, or the reading timer */
    const struct timeval *in_tick; /* the timer's period, or NULL */
    struct event *wait_ev; /* the 5 seconds */
    char *buf;
    size_t len, cap;
};

static void prompt(shell *sh)
{
    if (sh->kind == KIND_C)
        printf("%s> ", sh->node);
    else
        printf("%s %s> ", sh->node, sh->pkg);
    fflush(stdout);
}

static void shell_next(shell *sh);

static shell_req *req_new(shell *sh, const char *line, int blocking)
{
    shell_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->sh = sh;
    r->line = strdup(line);
    r->node = strdup(sh->node);
    r->blocking = blocking;
    gettimeofday(&r->t0, NULL);
    r->next = sh->reqs;
    sh->reqs = r;
    sh->pending++;
    if (blocking > 1 || (blocking && sh->serial)) {
        sh->waiting = 1;
        struct timeval tv = {SHELL_WAIT, 0};
        event_add(sh->wait_ev, &tv);
    }
    return r;
}

static void req_free(shell_req *r)
{
    free(r->line);
    free(r->node);
    free(r->reply);
    free(r);
}

/* The request is answered: forget it, let the next line in. */
static void req_done(shell_req *r)
{
    shell *sh = r->sh;
    for (shell_req **p = &sh->reqs; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    if (r->reply)
        aemp_kil(sh->cmd.node, r->reply, NULL);
    if (r->mon.id)
        aemp_mon_cancel(sh->cmd.node, r->mon);
    sh->pending--;
    if (r->blocking && sh->waiting) {
        sh->waiting = 0;
        event_del(sh->wait_ev);
    }
    req_free(r);
    shell_next(sh);
}

/* "\nNODE: LINE\n0.012s\n" */
static void answer_head(shell_req *r)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    double t = (double)(now.tv_sec - r->t0.tv_sec)
               + (double)(now.tv_usec - r->t0.tv_usec) / 1e6;
    printf("\n%s: %s\n%0.3fs\n", r->node, r->line, t);
}

static void answer_tail(shell *sh)
{
    fputc('\n', stdout);
    prompt(sh);
}

/* ---- Perl nodes: eval --------------------------------------------------- */

static int perl_kind_from(shell *sh, const aemp_val *msg)
{
    const char *err = aemp_str_ptr(aemp_array_at(msg, 0), NULL);
    (void)sh;
    return err && !strncmp(err, c_refusal, sizeof c_refusal - 1) ? KIND_C
                                                                  : KIND_PERL;
}

static int eval_answer(aemp_node *node, const char *port, const aemp_val *msg,
                       void *ud)
{
    (void)node;
    (void)port;
    shell_req *r = ud;
    shell *sh = r->sh;
    if (r->probe) {
        if (!strcmp(r->node, sh->node)) {
            sh->kind = perl_kind_from(sh, msg);
            prompt(sh);
        }
        req_done(r);
        return 0;
    }
    answer_head(r);
    size_t errlen = 0;
    const aemp_val *err = aemp_array_at(msg, 0);
    int failed = aemp_str_ptr(err, &errlen) ? errlen > 0 : !aemp_is_null(err);
    if (failed) {
        print_err_res(msg);
    } else {
        aemp_val *res = aemp_array();
        for (size_t i = 1; res && i < aemp_array_len(msg); i++)
            aemp_array_push(res, aemp_ref(aemp_array_at(msg, i)));
        print_pretty(res);
        aemp_unref(res);
    }
    answer_tail(sh);
    req_done(r);
    return 0;
}

static void send_eval(shell *sh, shell_req *r, const char *code)
{
    r->reply = aemp_port(sh->cmd.node, eval_answer, r);
    aemp_sndv(sh->cmd.node, r->node, aemp_str("eval"), aemp_str(code),
              aemp_str(r->reply ? r->reply : ""), NULL);
}

/* Asks the current node what it is: a Perl node evaluates "1", a C node
 * refuses. The prompt is printed with the answer. */
static void probe(shell *sh)
{
    sh->kind = KIND_UNKNOWN;
    shell_req *r = req_new(sh, "", 2); /* a terminal waits for it too */
    if (!r)
        return;
    r->probe = 1;
    send_eval(sh, r, "1");
}

static void perl_line(shell *sh, const char *line)
{
    shell_req *r = req_new(sh, line, 1);
    char *code = NULL;
    if (!r || asprintf(&code, "package %s; my $ECHO = '%s'; %s", sh->pkg,
                       sh->echo, line) < 0) {
        fprintf(stderr, "caemp: shell: out of memory\n");
        if (r)
            req_done(r);
        return;
    }
    send_eval(sh, r, code);
    free(code);
}

/* ---- C nodes: caemp's verbs --------------------------------------------- */

/* Splits a line into arguments: words, or JSON texts where a word starts
 * with [ { " (aemp's rule for arguments), "." as the current node and
 * $ECHO as the echo port. NULL and *err on bad JSON. */
static aemp_val *split_line(shell *sh, const char *s, char **err)
{
    aemp_val *a = aemp_array();
    while (a && *s) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        const char *start = s;
        if (*s == '[' || *s == '{' || *s == '"') {
            /* to the end of the JSON text: a string's closing quote, or
             * the bracket that balances the first (outside strings) */
            int depth = 0, in_str = 0;
            do {
                if (in_str) {
                    if (*s == '\\' && s[1])
                        s++;
                    else if (*s == '"')
                        in_str = 0;
                } else if (*s == '"') {
                    in_str = 1;
                } else if (*s == '[' || *s == '{') {
                    depth++;
                } else if (*s == ']' || *s == '}') {
                    depth--;
                }
                s++;
            } while (*s && (in_str || depth > 0));
            aemp_val *v = aemp_from_json(start, (size_t)(s - start), err);
            if (!v) {
                aemp_unref(a);
                return NULL;
            }
            aemp_array_push(a, v);
            continue;
        }
        while (*s && *s != ' ' && *s != '\t')
            s++;
        size_t n = (size_t)(s - start);
        if (n == 1 && *start == '.')
            aemp_array_push(a, aemp_str(sh->node));
        else if (n == 5 && !strncmp(start, "$ECHO", 5))
            aemp_array_push(a, aemp_str(sh->echo));
        else
            aemp_array_push(a, aemp_strn(start, n));
    }
    return a;
}

/* The answer of a verb: its results, printed as an eval's. */
static void verb_answer(shell_req *r, const aemp_val *results)
{
    answer_head(r);
    print_pretty(results);
    answer_tail(r->sh);
    req_done(r);
}

static int reply_answer(aemp_node *node, const char *port, const aemp_val *msg,
                        void *ud)
{
    (void)node;
    (void)port;
    verb_answer(ud, msg);
    return 0;
}

/* snd: the round trip to the node behind the message proves delivery */
static int snd_answer(aemp_node *node, const char *port, const aemp_val *msg,
                      void *ud)
{
    (void)node;
    (void)port;
    (void)msg;
    aemp_val *none = aemp_array();
    verb_answer(ud, none);
    aemp_unref(none);
    return 0;
}

static void target_died(aemp_node *node, const char *port,
                        const aemp_val *reason, void *ud)
{
    (void)node;
    shell_req *r = ud;
    r->mon.id = 0;
    answer_head(r);
    char *why = aemp_to_json(reason, NULL);
    printf("%s died: %s", port, why ? why : "");
    free(why);
    answer_tail(r->sh);
    req_done(r);
}

static void mon_fired(aemp_node *node, const char *port,
                      const aemp_val *reason, void *ud)
{
    (void)node;
    (void)port;
    shell_req *r = ud;
    r->mon.id = 0;
    verb_answer(r, reason);
}

static void db_answer(aemp_node *node, const char *family,
                      const aemp_val *result, void *ud)
{
    (void)node;
    (void)family;
    aemp_val *res = aemp_arrayv(result ? aemp_ref((aemp_val *)result)
                                       : aemp_map(), NULL);
    verb_answer(ud, res);
    aemp_unref(res);
}

static const char verbs_help[] =
    "verbs: snd PORT ARG... | cal PORT ARG... | mon PORT | db_set FAMILY KEY "
    "[VALUE] | db_del FAMILY KEY | db_family FAMILY | db_keys FAMILY | "
    "db_values FAMILY | nodes | help\n"
    "arguments starting with [ { \" are JSON; '.' is the current node, "
    "$ECHO the echo port\n";

/* A verb's arguments: argc of them, strings where said. */
static int verb_usage(const char *verb, size_t have, size_t min, size_t max,
                      const aemp_val *args)
{
    if (have < min || have > max) {
        printf("%s: wrong number of arguments (try help)\n", verb);
        return -1;
    }
    for (size_t i = 1; i < have && i < 3; i++)
        if (!aemp_str_ptr(aemp_array_at(args, i), NULL)) {
            printf("%s: argument %zu must be a string\n", verb, i);
            return -1;
        }
    return 0;
}

static void c_line(shell *sh, const char *line)
{
    char *err = NULL;
    aemp_val *args = split_line(sh, line, &err);
    if (!args) {
        printf("not valid JSON: %s\n", err ? err : "parse error");
        free(err);
        return;
    }
    aemp_node *node = sh->cmd.node;
    const char *verb = aemp_str_ptr(aemp_array_at(args, 0), NULL);
    size_t n = aemp_array_len(args);
    const char *a1 = aemp_str_ptr(aemp_array_at(args, 1), NULL);
    const char *a2 = aemp_str_ptr(aemp_array_at(args, 2), NULL);
    shell_req *r = NULL;
    if (!verb) {
        printf("%s", verbs_help);
    } else if (!strcmp(verb, "help")) {
        fputs(verbs_help, stdout);
    } else if (!strcmp(verb, "snd") || !strcmp(verb, "cal")) {
        if (verb_usage(verb, n, 2, (size_t)-1, args) == 0
            && (r = req_new(sh, line, 1))) {
            aemp_val *msg = aemp_array();
            for (size_t i = 2; i < n; i++)
                aemp_array_push(msg, aemp_ref(aemp_array_at(args, i)));
            r->mon = aemp_mon(node, a1, target_died, r);
            if (!strcmp(verb, "cal")) {
                r->reply = aemp_port(node, reply_answer, r);
                aemp_array_push(msg, aemp_str(r->reply ? r->reply : ""));
                aemp_snd(node, a1, msg);
            } else {
                aemp_snd(node, a1, msg);
                r->reply = aemp_port(node, snd_answer, r);
                char *to = aemp_node_of(a1);
                aemp_sndv(node, to ? to : a1, aemp_str("snd"),
                          aemp_str(r->reply ? r->reply : ""), NULL);
                free(to);
            }
        }
    } else if (!strcmp(verb, "mon")) {
        /* a watch, not a question: a script does not wait for it */
        if (verb_usage(verb, n, 2, 2, args) == 0 && (r = req_new(sh, line, 0)))
            r->mon = aemp_mon(node, a1, mon_fired, r);
    } else if (!strcmp(verb, "db_set")) {
        if (verb_usage(verb, n, 3, 4, args) == 0) {
            aemp_val *v = n > 3 ? aemp_ref(aemp_array_at(args, 3)) : NULL;
            if (!aemp_db_set(node, a1, a2, v).id)
                printf("db_set: cannot set %s/%s\n", a1, a2);
        }
    } else if (!strcmp(verb, "db_del")) {
        if (verb_usage(verb, n, 3, 3, args) == 0 && aemp_db_del(node, a1, a2))
            printf("db_del: cannot delete %s/%s\n", a1, a2);
    } else if (!strcmp(verb, "db_family") || !strcmp(verb, "db_keys")
               || !strcmp(verb, "db_values")) {
        if (verb_usage(verb, n, 2, 2, args) == 0
            && (r = req_new(sh, line, 1))) {
            int rc = !strcmp(verb, "db_family") ? aemp_db_family(node, a1, db_answer, r)
                     : !strcmp(verb, "db_keys") ? aemp_db_keys(node, a1, db_answer, r)
                                                : aemp_db_values(node, a1, db_answer, r);
            if (rc) {
                printf("%s: cannot query %s\n", verb, a1);
                req_done(r);
            }
        }
    } else if (!strcmp(verb, "nodes")) {
        aemp_val *up = aemp_up_nodes(node);
        if ((r = req_new(sh, line, 1)))
            verb_answer(r, up);
        aemp_unref(up);
    } else {
        printf("%s: no such verb (try help)\n", verb);
    }
    aemp_unref(args);
}

/* ---- lines -------------------------------------------------------------- */

static int nodes_listed(aemp_node *node, const char *family,
                        const aemp_val *keys, shell *sh)
{
    (void)node;
    (void)family;
    printf("\nnodes: ");
    /* sort @{ $_[0] } */
    size_t n = aemp_array_len(keys);
    const char **k = calloc(n ? n : 1, sizeof *k);
    for (size_t i = 0; k && i < n; i++)
        k[i] = aemp_str_ptr(aemp_array_at(keys, i), NULL);
    for (size_t i = 1; k && i < n; i++)
        for (size_t j = i; j > 0 && strcmp(k[j - 1] ? k[j - 1] : "",
                                           k[j] ? k[j] : "") > 0; j--) {
            const char *t = k[j];
            k[j] = k[j - 1];
            k[j - 1] = t;
        }
    for (size_t i = 0; k && i < n; i++)
        printf("%s%s", i ? " " : "", k[i] ? k[i] : "");
    free(k);
    printf("\n");
    prompt(sh);
    return 0;
}

static void nodes_answer(aemp_node *node, const char *family,
                         const aemp_val *result, void *ud)
{
    shell_req *r = ud;
    nodes_listed(node, family, result, r->sh);
    req_done(r);
}

/* One line, as aemp's shell takes it. */
static void shell_line(shell *sh, char *line)
{
    if (line[0] == '=') {
        if (line[1]) {
            free(sh->node);
            sh->node = strdup(line + 1);
            probe(sh); /* the prompt comes with its answer */
            return;
        }
        shell_req *r = req_new(sh, line, 1);
        if (r && aemp_db_keys(sh->cmd.node, "'l", nodes_answer, r))
            req_done(r);
    } else if (sh->kind != KIND_C && !strncmp(line + strspn(line, " \t"),
                                              "package", 7)) {
        /* /^\s*package\s+(\S+)\s*;?\s*$/ */
        char *p = line + strspn(line, " \t") + 7;
        size_t sp = strspn(p, " \t");
        char *name = p + sp;
        size_t nl = strcspn(name, " \t\r\f\v"); /* \S+ takes a ';' */
        char *rest = name + nl;
        rest += strspn(rest, " \t");
        if (*rest == ';')
            rest++;
        rest += strspn(rest, " \t");
        if (sp && nl && !*rest) {
            free(sh->pkg);
            sh->pkg = strndup(name, nl);
        } else {
            perl_line(sh, line);
        }
    } else if (line[strspn(line, " \t\r\f\v")]) {
        if (sh->kind == KIND_C)
            c_line(sh, line);
        else
            perl_line(sh, line);
    }
    prompt(sh);
}

static void finish_if_done(shell *sh)
{
    if (sh->eof && !sh->pending)
        caemp_finish(&sh->cmd, 0);
    else if (sh->eof && !event_pending(sh->wait_ev, EV_TIMEOUT, NULL)) {
        struct timeval tv = {SHELL_WAIT, 0};
        event_add(sh->wait_ev, &tv);
    }
}

/* Takes the lines read so far, one at a time while a script waits. */
static void shell_next(shell *sh)
{
    while (!sh->waiting && sh->kind != KIND_UNKNOWN) {
        char *nl = memchr(sh->buf, '\n', sh->len);
        if (!nl && !(sh->eof && sh->len))
            break;
        size_t n = nl ? (size_t)(nl - sh->buf) : sh->len;
        char *line = strndup(sh->buf, n);
        size_t used = nl ? n + 1 : n;
        memmove(sh->buf, sh->buf + used, sh->len - used);
        sh->len -= used;
        if (line)
            shell_line(sh, line);
        free(line);
    }
    /* read no more while a whole line waits: the input stays bounded */
    if (sh->eof)
        ;
    else if (memchr(sh->buf, '\n', sh->len))
        event_del(sh->in_ev);
    else if (!event_pending(sh->in_ev, EV_READ | EV_TIMEOUT, NULL))
        event_add(sh->in_ev, sh->in_tick);
    if (!sh->waiting && !sh->len)
        finish_if_done(sh);
}

static void on_input(evutil_socket_t fd, short what, void *ud)
{
    (void)what;
    shell *sh = ud;
    if (sh->len + 4096 > sh->cap) {
        if (sh->cap >= SHELL_MAX_LINE) {
            fprintf(stderr, "caemp: shell: a line longer than %u bytes, "
                    "dropped\n", SHELL_MAX_LINE);
            sh->len = 0;
        } else {
            size_t cap = sh->cap ? sh->cap * 2 : 8192;
            char *b = realloc(sh->buf, cap);
            if (!b)
                return;
            sh->buf = b;
            sh->cap = cap;
        }
    }
    (void)fd;
    ssize_t got = read(0, sh->buf + sh->len, sh->cap - sh->len);
    if (got <= 0) {
        sh->eof = 1;
        event_del(sh->in_ev);
    } else {
        sh->len += (size_t)got;
    }
    shell_next(sh);
}

static int echo_rcv(aemp_node *node, const char *port, const aemp_val *msg,
                    void *ud)
{
    (void)port;
    shell *sh = ud;
    const char *src = aemp_srcnode(node);
    printf("\nECHO<%s> ", src ? src : "");
    print_pretty(msg);
    fputc('\n', stdout);
    prompt(sh);
    return 0;
}

static void wait_over(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    shell *sh = ud;
    if (sh->eof && !sh->waiting) {
        caemp_finish(&sh->cmd, 0);
        return;
    }
    if (sh->kind == KIND_UNKNOWN) {
        fprintf(stderr, "caemp: shell: %s does not answer an eval (down, or "
                "in secure mode); lines go to it as Perl code\n", sh->node);
        sh->kind = KIND_PERL;
        prompt(sh);
    } else {
        fprintf(stderr, "caemp: shell: no answer within %d seconds, going "
                "on\n", SHELL_WAIT);
    }
    /* the request stays: its answer is printed when it comes */
    for (shell_req *r = sh->reqs; r; r = r->next)
        r->blocking = 0;
    sh->waiting = 0;
    shell_next(sh);
}

static int cmd_shell(int argc, char **argv)
{
    shell sh = {0};
    if (caemp_start_node(&sh.cmd, "shell")) {
        caemp_stop_node(&sh.cmd);
        return 1;
    }
    event_del(sh.cmd.timeout);
    sh.node = strdup(argc > 0 ? argv[0] : aemp_node_id(sh.cmd.node));
    sh.pkg = strdup("AnyEvent::MP::Kernel");
    sh.echo = aemp_port(sh.cmd.node, echo_rcv, &sh);
    struct stat st;
    int tty = isatty(0);
    sh.serial = !tty;
    /* pipes, sockets and terminals can be polled; a file or /dev/null
     * is read from a timer (it never blocks) */
    int pollable = tty || (fstat(0, &st) == 0
                           && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)));
    static const struct timeval tick = {0, 10000};
    sh.in_tick = pollable ? NULL : &tick;
    sh.in_ev = event_new(sh.cmd.base, pollable ? 0 : -1,
                         pollable ? EV_READ | EV_PERSIST : EV_PERSIST, on_input,
                         &sh);
    sh.wait_ev = event_new(sh.cmd.base, -1, 0, wait_over, &sh);
    if (!sh.node || !sh.pkg || !sh.echo || !sh.in_ev || !sh.wait_ev) {
        fprintf(stderr, "caemp: shell: out of memory\n");
        sh.cmd.status = 1;
    } else {
        printf("Entering interactive shell - no commandline editing of course "
               "(use rlfe etc.).\n\n"
               "=           display a list of nodes\n"
               "=name       switch to another node\n"
               "package P   switch to package P when evaluating\n"
               "$ECHO       contains the name of a port that echos "
               "everything sent to it\n\n");
        fflush(stdout);
        event_add(sh.in_ev, sh.in_tick);
        probe(&sh);
        event_base_dispatch(sh.cmd.base);
    }
    if (sh.in_ev)
        event_free(sh.in_ev);
    if (sh.wait_ev)
        event_free(sh.wait_ev);
    caemp_stop_node(&sh.cmd);
    while (sh.reqs) {
        shell_req *next = sh.reqs->next;
        req_free(sh.reqs);
        sh.reqs = next;
    }
    free(sh.node);
    free(sh.pkg);
    free(sh.echo);
    free(sh.buf);
    return sh.cmd.status;
}

/* ---- restart ------------------------------------------------------------ */

typedef struct restart_state {
    caemp_cmd cmd;
    char *nodeid;
    int c_node; /* the restart function was called: wait for the link */
} restart_state;

/* aemp's restart: Watchdog's restart from an idle watcher, after the
 * answer has gone */
static const char restart_eval[] =
    "my $w; $w = AE::idle sub { undef $w; use AnyEvent::Watchdog::Util ();"
    "AnyEvent::Watchdog::Util::restart}; ()";

static int restart_answer(aemp_node *node, const char *port,
                          const aemp_val *msg, void *ud)
{
    (void)port;
    restart_state *rs = ud;
    const char *err = aemp_str_ptr(aemp_array_at(msg, 0), NULL);
    if (err && !strncmp(err, c_refusal, sizeof c_refusal - 1)) {
        /* a C node: call the function; the link going down says it
         * restarts */
        rs->c_node = 1;
        aemp_snd_to_func(node, rs->nodeid, CAEMP_RESTART_FUNC, NULL);
        return 0;
    }
    if (err && *err) {
        fputs(err, stderr);
        for (size_t i = 1; i < aemp_array_len(msg); i++) {
            char *s = caemp_perl_str(aemp_array_at(msg, i));
            fprintf(stderr, " %s", s ? s : "");
            free(s);
        }
        if (!*err || err[strlen(err) - 1] != '\n')
            fputc('\n', stderr);
        caemp_finish(&rs->cmd, CAEMP_EXIT_DIE);
        return 0;
    }
    /* the results of "()": none, and aemp prints an empty line */
    fputc('\n', stdout);
    caemp_finish(&rs->cmd, 0);
    return 0;
}

static void restart_node_gone(aemp_node *node, const char *port,
                              const aemp_val *reason, void *ud)
{
    (void)node;
    (void)port;
    restart_state *rs = ud;
    if (rs->c_node) {
        fputc('\n', stdout);
        caemp_finish(&rs->cmd, 0);
        return;
    }
    /* aemp dies with "$err @res" */
    for (size_t i = 0; i < aemp_array_len(reason); i++) {
        char *s = caemp_perl_str(aemp_array_at(reason, i));
        fprintf(stderr, "%s%s", i ? " " : "", s ? s : "");
        free(s);
    }
    fputc('\n', stderr);
    caemp_finish(&rs->cmd, CAEMP_EXIT_DIE);
}

static int cmd_restart(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "caemp: restart: node id missing\n");
        return 1;
    }
    restart_state rs = {0};
    rs.nodeid = aemp_node_of(argv[0]);
    if (!rs.nodeid || caemp_start_node(&rs.cmd, "restart")) {
        caemp_stop_node(&rs.cmd);
        free(rs.nodeid);
        return 1;
    }
    char *reply = aemp_port(rs.cmd.node, restart_answer, &rs);
    aemp_sndv(rs.cmd.node, rs.nodeid, aemp_str("eval"), aemp_str(restart_eval),
              aemp_str(reply ? reply : ""), NULL);
    aemp_mon(rs.cmd.node, rs.nodeid, restart_node_gone, &rs);
    event_base_dispatch(rs.cmd.base);
    free(reply);
    free(rs.nodeid);
    caemp_stop_node(&rs.cmd);
    return rs.cmd.status;
}

int caemp_shell_command(const char *cmd, int argc, char **argv)
{
    if (!strcmp(cmd, "shell"))
        return cmd_shell(argc, argv);
    if (!strcmp(cmd, "restart"))
        return cmd_restart(argc, argv);
    return -1;
}
