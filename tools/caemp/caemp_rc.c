/* caemp: the commands that edit the rc file, as aemp's (setsecret,
 * profile, setbinds, showconfig, ...), with aemp's argument handling,
 * messages and quirks: a missing profile is created by "profile NAME",
 * "delbind" on a profile without binds leaves it an empty list, every
 * command marks the rc dirty even when nothing changed.
 *
 * Here: the rc (libaemp's public aemp_rc, aemp/rc.h) and the map that
 * commands edit, the profile commands, and finding a command. The
 * commands of one key each are caemp_rc_keys.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "aemp/error.h"
#include "aemp/rc.h"
#include "caemp.h"

/* ---- the rc and what commands edit ---- */

int caemp_die(const char *msg)
{
    fprintf(stderr, "%s\n", msg);
    return CAEMP_EXIT_DIE;
}

int caemp_oom(void)
{
    return caemp_die("caemp: out of memory");
}

/* A failed aemp_rc call (r its result): its message, then the exit status. */
int caemp_rc_failed(const caemp_ctx *ctx, int r)
{
    if (r == AEMP_ENOMEM)
        return caemp_oom();
    fprintf(stderr, "caemp: %s\n", aemp_rc_errmsg(ctx->rc));
    return CAEMP_EXIT_DIE;
}

int caemp_rc_ensure(caemp_ctx *ctx)
{
    if (ctx->rc)
        return 0;
    if (!(ctx->rc = aemp_rc_new(NULL)))
        return caemp_oom();
    int r = aemp_rc_load(ctx->rc);
    if (r) {
        caemp_rc_failed(ctx, r);
        aemp_rc_free(ctx->rc);
        ctx->rc = NULL;
        return CAEMP_EXIT_DIE;
    }
    return 0;
}

int caemp_rc_dirty(const caemp_ctx *ctx)
{
    return ctx->rc && aemp_is_true(aemp_rc_get(ctx->rc, NULL, "dirty"));
}

int caemp_rc_save(caemp_ctx *ctx)
{
    int dirty = caemp_rc_dirty(ctx);

    if (!ctx->rc)
        return 0;
    aemp_rc_del(ctx->rc, NULL, "dirty");
    if (!dirty)
        return 0;
    int r = aemp_rc_save(ctx->rc);
    return r ? caemp_rc_failed(ctx, r) : 0;
}

void caemp_ctx_free(caemp_ctx *ctx)
{
    aemp_unref(ctx->args);
    aemp_rc_free(ctx->rc);
    aemp_unref(ctx->detached);
    free(ctx->profile_name);
}

/* ++$cfg->{dirty} */
int caemp_rc_mark_dirty(caemp_ctx *ctx)
{
    int64_t n = aemp_as_int(aemp_rc_get(ctx->rc, NULL, "dirty"));
    int r = aemp_rc_set(ctx->rc, NULL, "dirty", aemp_int(n + 1));
    return r ? caemp_rc_failed(ctx, r) : 0;
}

/* The edited map's key (borrowed): the rc's top level, the chosen
 * profile, or that profile detached after delprofile. */
const aemp_val *caemp_target_get(const caemp_ctx *ctx, const char *key)
{
    if (ctx->detached)
        return aemp_map_get(ctx->detached, key);
    return aemp_rc_get(ctx->rc, ctx->profile_name, key);
}

/* Sets the edited map's key, taking v. 0 or an exit status. */
int caemp_target_set(caemp_ctx *ctx, const char *key, aemp_val *v)
{
    if (ctx->detached)
        return aemp_map_set(ctx->detached, key, v) ? caemp_oom() : 0;
    int r = aemp_rc_set(ctx->rc, ctx->profile_name, key, v);
    return r ? caemp_rc_failed(ctx, r) : 0;
}

void caemp_target_del(caemp_ctx *ctx, const char *key)
{
    if (ctx->detached)
        aemp_map_del(ctx->detached, key, strlen(key));
    else
        aemp_rc_del(ctx->rc, ctx->profile_name, key);
}

/* The next argument (borrowed), or NULL after printing missing. */
const aemp_val *caemp_need_arg(caemp_ctx *ctx, const char *missing)
{
    if (ctx->pos >= ctx->argc) {
        fprintf(stderr, "%s\n", missing);
        return NULL;
    }
    return aemp_array_at(ctx->args, (size_t)ctx->pos++);
}

/* $cfg->{profile} (borrowed), autovivified as Perl does on any lookup
 * through it; NULL after a message. */
static const aemp_val *profiles(caemp_ctx *ctx)
{
    const aemp_val *p = aemp_rc_get(ctx->rc, NULL, "profile");
    if (aemp_is_null(p)) {
        int r = aemp_rc_set(ctx->rc, NULL, "profile", aemp_map());
        if (r) {
            caemp_rc_failed(ctx, r);
            return NULL;
        }
        p = aemp_rc_get(ctx->rc, NULL, "profile");
    }
    if (aemp_type_of(p) != AEMP_MAP) {
        fprintf(stderr, "caemp: %s: \"profile\" is not an object\n", aemp_rc_path(ctx->rc));
        return NULL;
    }
    return p;
}

/* ---- the profile commands ---- */

/* The next argument as a profile name (malloc'd), or NULL after a
 * message. */
static char *need_name(caemp_ctx *ctx, const char *missing)
{
    const aemp_val *v = caemp_need_arg(ctx, missing);
    char *name = v ? caemp_perl_str(v) : NULL;
    if (v && !name)
        caemp_oom();
    return name;
}

/* profile NAME: later commands edit that profile, made if needed. */
static int profile(caemp_ctx *ctx, const char *key, const char *missing)
{
    (void)key;
    char *name = need_name(ctx, missing);
    const aemp_val *all = name ? profiles(ctx) : NULL;
    int r = all ? 0 : CAEMP_EXIT_DIE;

    if (!r && !aemp_is_true(aemp_map_get(all, name))) /* ||= {} */
        if ((r = aemp_rc_set(ctx->rc, name, NULL, aemp_map())))
            r = caemp_rc_failed(ctx, r);
    if (!r && aemp_type_of(aemp_rc_get(ctx->rc, name, NULL)) != AEMP_MAP) {
        fprintf(stderr, "caemp: %s: profile \"%s\" is not an object\n",
                aemp_rc_path(ctx->rc), name);
        r = CAEMP_EXIT_DIE;
    }
    if (r) {
        free(name);
        return r;
    }
    aemp_unref(ctx->detached);
    ctx->detached = NULL;
    free(ctx->profile_name);
    ctx->profile_name = name;
    return caemp_rc_mark_dirty(ctx);
}

/* delprofile NAME. If NAME is the profile being edited, aemp goes on
 * editing it, detached from the rc: so do we, on a copy. */
static int delprofile(caemp_ctx *ctx, const char *key, const char *missing)
{
    (void)key;
    char *name = need_name(ctx, missing);
    const aemp_val *all = name ? profiles(ctx) : NULL;
    if (!all) {
        free(name);
        return CAEMP_EXIT_DIE;
    }
    const aemp_val *victim = aemp_rc_get(ctx->rc, name, NULL);
    if (victim && !ctx->detached && ctx->profile_name
        && victim == aemp_rc_get(ctx->rc, ctx->profile_name, NULL)
        && !(ctx->detached = aemp_copy(victim))) {
        free(name);
        return caemp_oom();
    }
    aemp_rc_del(ctx->rc, name, NULL);
    free(name);
    return caemp_rc_mark_dirty(ctx);
}

static int print_pretty(const aemp_val *v)
{
    size_t len;
    char *text;
    int r = aemp_rc_pretty(v, &text, &len);
    if (r)
        return caemp_die(r == AEMP_ENOMEM ? "caemp: out of memory" : "caemp: nested too deep");
    caemp_print(stdout, text, len);
    free(text);
    return 0;
}

static int showprofile(caemp_ctx *ctx, const char *key, const char *missing)
{
    (void)key;
    char *name = need_name(ctx, missing);
    const aemp_val *all = name ? profiles(ctx) : NULL;
    if (!all) {
        free(name);
        return CAEMP_EXIT_DIE;
    }
    const aemp_val *p = aemp_map_get(all, name);
    free(name);
    aemp_val *empty = aemp_is_true(p) ? NULL : aemp_map();
    aemp_type t = aemp_type_of(empty ? empty : p);
    int r = t == AEMP_MAP || t == AEMP_ARRAY
                ? print_pretty(empty ? empty : p)
                : caemp_die("caemp: showprofile: the profile is not an object");
    aemp_unref(empty);
    return r;
}

/* The host name, as POSIX::uname's node name. malloc'd. */
static char *host_name(void)
{
    struct utsname u;
    return strdup(uname(&u) == 0 ? u.nodename : "");
}

/* The remaining arguments as Perl's %kv = (KEY, VALUE, ...) makes them:
 * keys stringified, a later key wins, a lone last key gets undef. */
static aemp_val *rest_as_map(caemp_ctx *ctx)
{
    aemp_val *m = aemp_map();
    while (m && ctx->pos < ctx->argc) {
        char *k = caemp_perl_str(aemp_array_at(ctx->args, (size_t)ctx->pos++));
        aemp_val *v = ctx->pos < ctx->argc
                          ? aemp_copy(aemp_array_at(ctx->args, (size_t)ctx->pos++))
                          : aemp_null();
        if (!k || aemp_map_set(m, k, v)) {
            if (!k)
                aemp_unref(v);
            aemp_unref(m);
            m = NULL;
        }
        free(k);
    }
    return m;
}

/* showconfig [NAME [KEY VALUE]...]: the effective configuration; takes
 * every remaining argument. */
static int showconfig(caemp_ctx *ctx, const char *key, const char *missing)
{
    (void)key;
    (void)missing;
    char *name = NULL;
    aemp_val *kv = NULL, *cfg = NULL;
    int r = 0;

    if (ctx->pos >= ctx->argc)
        name = host_name();
    else if (!aemp_is_null(aemp_array_at(ctx->args, (size_t)ctx->pos)))
        name = caemp_perl_str(aemp_array_at(ctx->args, (size_t)ctx->pos));
    if (ctx->pos < ctx->argc)
        ctx->pos++;

    if (!(kv = rest_as_map(ctx))) {
        r = caemp_die("caemp: showconfig: out of memory");
    } else if (name && !aemp_is_true(aemp_map_get(kv, "norc")) && !profiles(ctx)) {
        /* find_profile looks the name up through $CFG{profile}, which
         * makes it exist */
        r = CAEMP_EXIT_DIE;
    } else if (aemp_rc_find_profile(ctx->rc, name, kv, &cfg)) {
        fprintf(stderr, "caemp: showconfig: %s\n", aemp_rc_errmsg(ctx->rc));
        r = CAEMP_EXIT_DIE;
    } else {
        aemp_map_del(cfg, "profile", 7); /* "make it look nicer", as aemp */
        aemp_map_del(cfg, "parent", 6);
        r = print_pretty(cfg);
    }
    free(name);
    aemp_unref(kv);
    aemp_unref(cfg);
    return r;
}

static const struct {
    const char *name;
    caemp_rc_fn fn;
    const char *missing;
} profile_commands[] = {
    {"profile", profile, "profile name is missing"},
    {"delprofile", delprofile, "profile name is missing"},
    {"showprofile", showprofile, "profile name is missing"},
    {"showconfig", showconfig, NULL},
};

/* 1 and *op if cmd is an rc command, else 0. */
static int find_op(const char *cmd, caemp_rc_op *op)
{
    for (size_t i = 0; i < sizeof profile_commands / sizeof *profile_commands; i++)
        if (strcmp(cmd, profile_commands[i].name) == 0) {
            *op = (caemp_rc_op){profile_commands[i].fn, NULL, profile_commands[i].missing};
            return 1;
        }
    return caemp_rc_find_key_op(cmd, op);
}

int caemp_rc_command(caemp_ctx *ctx, const char *cmd)
{
    caemp_rc_op op;

    if (!find_op(cmd, &op))
        return CAEMP_NOT_RC;
    int r = caemp_rc_ensure(ctx);
    return r ? r : op.fn(ctx, op.key, op.missing);
}
