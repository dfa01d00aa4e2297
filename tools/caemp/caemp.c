/* caemp: aemp's command loop. Reads the arguments as aemp does (JSON
 * where they start with '[', '{' or '"'), then runs the chain of
 * commands, and saves the rc file at the end if a command changed it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aemp/error.h"
#include "caemp.h"

static const char usage_text[] =
    "Usage: caemp command args... [command args...]...\n"
    "\n"
    "Commands run one after the other; each takes the arguments it needs.\n"
    "An argument starting with [ { or \" is JSON; a single argument starting\n"
    "with [ is a JSON list of all the arguments. The rc file is\n"
    "$PERL_ANYEVENT_MP_RC, else ~/.perl-anyevent-mp, shared with aemp.\n"
    "\n"
    "   # protocol commands\n"
    "   caemp snd <port> <arg...>      # send a message\n"
    "   caemp mon <port>               # wait till port is killed\n"
    "   caemp cal <port> <arg...>      # send message, append reply\n"
    "   caemp eval <node> <expr...>    # evaluate expression (Perl nodes)\n"
    "   caemp trace <node>             # trace the network topology\n"
    "   caemp graph [--dot F] [--svg F] [<seed>...] # the network as Graphviz DOT\n"
    "   caemp stats <node> [--json] [--interval <secs>] # a node's counters\n"
    "   caemp shell [<node>]           # run an interactive shell\n"
    "   caemp restart <node>           # restart a node (Perl: watchdog; C: caemp run)\n"
    "   caemp conform [options] <host:port> # test a node's protocol (TAP)\n"
    "\n"
    "   # the shared database and the network (JSON on stdout)\n"
    "   caemp db_keys <family>         # print the keys of a family\n"
    "   caemp db_values <family>       # print its values\n"
    "   caemp db_family <family>       # print the family as an object\n"
    "   caemp db_set <family> <key> [<value>] # hold key=value until ^C\n"
    "   caemp db_mon <family>          # print each change, until ^C\n"
    "   caemp nodes                    # print the nodes linked to\n"
    "   caemp logcatcher [<level>]     # print every node's log, until ^C\n"
    "\n"
    "   # run a node\n"
    "   caemp run configure_args...    # run a node (first command only)\n"
    "\n";

/* in two pieces: C11 compilers need not take a literal past 4095 bytes */
static const char usage_config[] =
    "   # node configuration: node ID\n"
    "   caemp setnodeid <nodeid>       # configure the real node id\n"
    "   caemp delnodeid                # reset node id to default (= inherit)\n"
    "\n"
    "   # node configuration: authentication\n"
    "   caemp gensecret                # generate a random shared secret\n"
    "   caemp setsecret <secret>       # set the shared secret\n"
    "   caemp delsecret                # remove the secret (= inherit)\n"
    "   caemp gencert                  # generate a random certificate\n"
    "   caemp setcert <file>           # set a certificate (key.pem + certificate.pem)\n"
    "   caemp delcert                  # remove certificate (= inherit)\n"
    "\n"
    "   # node configuration: seed addresses for bootstrapping\n"
    "   caemp setseeds <host:port>,... # set seeds\n"
    "   caemp delseeds                 # clear all seeds (= inherit)\n"
    "   caemp addseed <host:port>      # add a seed\n"
    "   caemp delseed <host:port>      # remove seed\n"
    "\n"
    "   # node configuration: bind addresses\n"
    "   caemp setbinds <host:port>,... # set binds\n"
    "   caemp delbinds                 # clear all binds (= inherit)\n"
    "   caemp addbind <host:port>      # add a bind address\n"
    "   caemp delbind <host:port>      # remove a bind address\n"
    "\n"
    "   # node configuration: services (Perl modules, caemp run plugins)\n"
    "   caemp setservices initfunc,... # set service functions\n"
    "   caemp delservices              # clear all services (= inherit)\n"
    "   caemp addservice <initfunc>    # add an instance of a service\n"
    "   caemp delservice <initfunc>    # delete one instance of a service\n"
    "   caemp setservice_path <dir>,... # where caemp run finds plugins\n"
    "   caemp addservice_dir <dir>     # add a plugin directory\n"
    "   caemp delservice_dir <dir>     # remove one\n"
    "   caemp seteval <string>         # perl code a Perl node evaluates\n"
    "   caemp deleval                  # remove it\n"
    "\n"
    "   # profile management\n"
    "   caemp profile <name> <command>... # apply command to profile only\n"
    "   caemp setparent <name>         # specify a parent profile\n"
    "   caemp delparent                # clear parent again\n"
    "   caemp delprofile <name>        # eradicate the named profile\n"
    "   caemp showprofile <name>       # display given profile\n"
    "   caemp showconfig <name> ...    # display effective config\n"
    "\n"
    "   # node configuration: low-level protocol\n"
    "   caemp [set|del]secure <boolean>\n"
    "   caemp [set|del]monitor_timeout <seconds>\n"
    "   caemp [set|del]connect_interval <seconds>\n"
    "   caemp [set|del]framing_format [array]\n"
    "   caemp [set|del]auth_offer [array]\n"
    "   caemp [set|del]auth_accept [array]\n"
    "   caemp [set|del]autocork <boolean>\n"
    "   caemp [set|del]nodelay <boolean>\n"
    "   caemp [set|del]metrics_bind <host:port> # serve GET /metrics (C nodes)\n"
    "\n"
    "   caemp help                     # this text\n"
    "\n"
    "Every setxxx command also works without its set prefix (nodeid, binds,\n"
    "...), except seteval.\n";

void caemp_usage(FILE *out)
{
    fputs(usage_text, out);
    fputs(usage_config, out);
}

/* ---- Perl strings in and out ---- */

aemp_val *caemp_bytes_value(const char *s, size_t len)
{
    char *utf8 = malloc(2 * len + 1); /* each byte at most two */
    size_t n = 0;

    if (!utf8)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            utf8[n++] = (char)c;
        } else {
            utf8[n++] = (char)(0xc0 | c >> 6);
            utf8[n++] = (char)(0x80 | (c & 0x3f));
        }
    }
    aemp_val *v = aemp_strn(utf8, n);
    free(utf8);
    return v;
}

char *caemp_perl_str(const aemp_val *v)
{
    char *s = NULL;
    size_t len;
    const char *p;
    int n = 0;

    switch (aemp_type_of(v)) {
    case AEMP_NULL:
        return strdup("");
    case AEMP_BOOL:
        return strdup(aemp_is_true(v) ? "1" : "0");
    case AEMP_STRING:
        p = aemp_str_ptr(v, &len);
        return strndup(p, len);
    case AEMP_INT:
        n = asprintf(&s, "%lld", (long long)aemp_as_int(v));
        break;
    case AEMP_UINT:
        n = asprintf(&s, "%llu", (unsigned long long)aemp_as_uint(v));
        break;
    case AEMP_DOUBLE:
        n = asprintf(&s, "%.15g", aemp_as_double(v));
        break;
    case AEMP_ARRAY:
    case AEMP_MAP:
        n = asprintf(&s, "%s(%p)", aemp_type_of(v) == AEMP_ARRAY ? "ARRAY" : "HASH",
                     (const void *)v);
        break;
    }
    return n < 0 ? NULL : s;
}

void caemp_print(FILE *out, const char *text, size_t len)
{
    /* a lead byte above 0xc3 is a character above U+00FF: then Perl
     * prints UTF-8 (anything malformed goes out as it is, too) */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x80)
            continue;
        if ((c != 0xc2 && c != 0xc3) || i + 1 == len
            || ((unsigned char)text[i + 1] & 0xc0) != 0x80) {
            fwrite(text, 1, len, out);
            return;
        }
        i++;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x80) {
            c = (unsigned char)(((c & 0x03u) << 6) | ((unsigned char)text[++i] & 0x3fu));
        }
        fputc(c, out);
    }
}

static int starts_json(const char *s)
{
    return s[0] == '[' || s[0] == '{' || s[0] == '"';
}

static int bad_json(const char *arg, char *err)
{
    fprintf(stderr, "caemp: argument '%s' is not valid JSON: %s\n", arg,
            err ? err : "malformed");
    free(err);
    return CAEMP_EXIT_DIE;
}

/* A single argument starting with '[' is the whole argument list. Node
 * commands still want text: JSON for what is not a plain string, and
 * strings that would read as JSON quoted again. */
static int args_from_array(caemp_ctx *ctx, const char *arg)
{
    char *err = NULL;
    aemp_val *list = aemp_from_json(arg, strlen(arg), &err);

    if (!list)
        return bad_json(arg, err);
    if (aemp_type_of(list) != AEMP_ARRAY) {
        aemp_unref(list);
        return bad_json(arg, strdup("not a JSON list"));
    }
    ctx->args = list;
    ctx->argc = (int)aemp_array_len(list);
    ctx->raw = calloc((size_t)ctx->argc + 1, sizeof *ctx->raw);
    if (!ctx->raw)
        return CAEMP_EXIT_DIE;
    for (int i = 0; i < ctx->argc; i++) {
        const aemp_val *v = aemp_array_at(list, (size_t)i);
        const char *s = aemp_str_ptr(v, NULL);
        ctx->raw[i] = s && !starts_json(s) ? strdup(s) : aemp_to_json(v, NULL);
        if (!ctx->raw[i])
            return CAEMP_EXIT_DIE;
    }
    return 0;
}

/* Reads argv as aemp's BEGIN block does: JSON where an argument starts
 * with '[', '{' or '"', else a Perl byte string. */
static int read_args(caemp_ctx *ctx, int argc, char **argv)
{
    if (argc == 1 && argv[0][0] == '[')
        return args_from_array(ctx, argv[0]);

    ctx->args = aemp_array();
    ctx->argc = argc;
    ctx->raw = calloc((size_t)argc + 1, sizeof *ctx->raw);
    if (!ctx->args || !ctx->raw)
        return CAEMP_EXIT_DIE;
    for (int i = 0; i < argc; i++) {
        char *err = NULL;
        aemp_val *v = starts_json(argv[i])
                          ? aemp_from_json(argv[i], strlen(argv[i]), &err)
                          : caemp_bytes_value(argv[i], strlen(argv[i]));
        if (!v)
            return bad_json(argv[i], err);
        if (aemp_array_push(ctx->args, v) || !(ctx->raw[i] = strdup(argv[i])))
            return CAEMP_EXIT_DIE;
    }
    return 0;
}

static void free_raw(caemp_ctx *ctx)
{
    for (int i = 0; ctx->raw && i < ctx->argc; i++)
        free(ctx->raw[i]);
    free(ctx->raw);
}

static int unknown(const char *cmd)
{
    fprintf(stderr, "%s: no such caemp command (try caemp help)\n", cmd);
    return CAEMP_EXIT_DIE;
}

/* One command of the chain; 0 to go on, or the exit status. Node
 * commands take every remaining argument. */
static int run_one(caemp_ctx *ctx, const char *cmd)
{
    if (strcmp(cmd, "help") == 0) {
        caemp_usage(stdout);
        return 0;
    }
    int r = caemp_rc_command(ctx, cmd);
    if (r != CAEMP_NOT_RC)
        return r;
    /* aemp knows "run" only as the very first command */
    if (strcmp(cmd, "run") == 0)
        return unknown(cmd);
    /* the node reads the rc file: let it see this chain's edits (aemp's
     * node uses its %CFG in memory; aemp saves at exit) */
    if ((r = caemp_rc_save(ctx)) != 0)
        return r;
    int rest = ctx->argc - ctx->pos;
    char **argv = ctx->raw + ctx->pos;
    ctx->pos = ctx->argc;
    r = caemp_node_command(ctx, cmd, rest, argv);
    return r < 0 ? unknown(cmd) : r;
}

int main(int argc, char **argv)
{
    caemp_ctx ctx;
    int status = 0;

    memset(&ctx, 0, sizeof ctx);
    ctx.argv = argv;
    if (argc < 2) {
        caemp_usage(stderr);
        return CAEMP_EXIT_DIE;
    }
    if ((status = read_args(&ctx, argc - 1, argv + 1)) != 0)
        goto out;
    if (ctx.argc == 0) { /* caemp '[]' */
        caemp_usage(stderr);
        status = CAEMP_EXIT_DIE;
        goto out;
    }

    char *first = caemp_perl_str(aemp_array_at(ctx.args, 0));
    if (first && strcmp(first, "run") == 0) {
        status = caemp_node_command(&ctx, "run", ctx.argc - 1, ctx.raw + 1);
        if (status < 0)
            status = unknown(first);
        free(first);
        goto out;
    }
    free(first);

    while (!status && ctx.pos < ctx.argc) {
        char *cmd = caemp_perl_str(aemp_array_at(ctx.args, (size_t)ctx.pos++));
        if (!cmd) {
            status = CAEMP_EXIT_DIE;
            break;
        }
        status = run_one(&ctx, cmd);
        free(cmd);
    }

    /* like aemp's END block: what was changed is saved, error or not */
    int saved = caemp_rc_save(&ctx);
    if (!status)
        status = saved;
out:
    free_raw(&ctx);
    caemp_ctx_free(&ctx);
    return status;
}
