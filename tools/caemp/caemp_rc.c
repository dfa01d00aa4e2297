/* caemp: the commands that edit the rc file, as aemp's (setsecret,
 * profile, setbinds, showconfig, ...), with aemp's argument handling,
 * messages and quirks: a missing profile is created by "profile NAME",
 * "delbind" on a profile without binds leaves it an empty list, every
 * command marks the rc dirty even when nothing changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aemp/error.h"
#include "buf.h"
#include "caemp.h"
#include "config.h"

/* ---- the rc and what commands edit ---- */

static int die(const char *msg)
{
    fprintf(stderr, "%s\n", msg);
    return CAEMP_EXIT_DIE;
}

static int oom(void)
{
    return die("caemp: out of memory");
}

int caemp_rc_ensure(caemp_ctx *ctx)
{
    char *err = NULL;

    if (ctx->rc)
        return 0;
    if (!ctx->rcpath && !(ctx->rcpath = aemp_rc_path()))
        return oom();
    if (aemp_rc_load(ctx->rcpath, &ctx->rc, &err)) {
        fprintf(stderr, "caemp: %s\n", err ? err : "cannot load the rc file");
        free(err);
        return CAEMP_EXIT_DIE;
    }
    ctx->target = aemp_ref(ctx->rc);
    return 0;
}

int caemp_rc_dirty(const caemp_ctx *ctx)
{
    return ctx->rc && aemp_is_true(aemp_map_get(ctx->rc, "dirty"));
}

int caemp_rc_save(caemp_ctx *ctx)
{
    char *err = NULL;
    int dirty = caemp_rc_dirty(ctx);

    if (!ctx->rc)
        return 0;
    aemp_map_del(ctx->rc, "dirty", 5);
    if (!dirty)
        return 0;
    if (aemp_rc_save(ctx->rcpath, ctx->rc, &err)) {
        fprintf(stderr, "caemp: %s\n", err ? err : "cannot save the rc file");
        free(err);
        return CAEMP_EXIT_DIE;
    }
    return 0;
}

void caemp_ctx_free(caemp_ctx *ctx)
{
    aemp_unref(ctx->args);
    aemp_unref(ctx->rc);
    aemp_unref(ctx->target);
    free(ctx->rcpath);
    free(ctx->profile_name);
}

/* ++$cfg->{dirty} */
static int mark_dirty(caemp_ctx *ctx)
{
    int64_t n = aemp_as_int(aemp_map_get(ctx->rc, "dirty"));
    return aemp_map_set(ctx->rc, "dirty", aemp_int(n + 1)) ? oom() : 0;
}

/* The next argument (borrowed), or NULL after printing missing. */
static const aemp_val *need_arg(caemp_ctx *ctx, const char *missing)
{
    if (ctx->pos >= ctx->argc) {
        fprintf(stderr, "%s\n", missing);
        return NULL;
    }
    return aemp_array_at(ctx->args, (size_t)ctx->pos++);
}

/* $cfg->{profile}, autovivified as Perl does on any lookup through it. */
static aemp_val *profiles(caemp_ctx *ctx)
{
    aemp_val *p = aemp_map_get(ctx->rc, "profile");
    if (aemp_is_null(p)) {
        if (aemp_map_set(ctx->rc, "profile", aemp_map())) {
            oom();
            return NULL;
        }
        p = aemp_map_get(ctx->rc, "profile");
    }
    if (aemp_type_of(p) != AEMP_MAP) {
        fprintf(stderr, "caemp: %s: \"profile\" is not an object\n", ctx->rcpath);
        return NULL;
    }
    return p;
}

/* target->{key} as a list, autovivified; NULL (after a message) when it
 * holds something else. */
static aemp_val *target_list(caemp_ctx *ctx, const char *key)
{
    aemp_val *l = aemp_map_get(ctx->target, key);
    if (aemp_is_null(l)) {
        if (aemp_map_set(ctx->target, key, aemp_array())) {
            oom();
            return NULL;
        }
        l = aemp_map_get(ctx->target, key);
    }
    if (aemp_type_of(l) != AEMP_ARRAY) {
        fprintf(stderr, "caemp: %s is not a list, cannot add or remove items\n", key);
        return NULL;
    }
    return l;
}

static int same_str(const aemp_val *a, const aemp_val *b)
{
    char *sa = aemp_config_perl_str(a), *sb = aemp_config_perl_str(b);
    int eq = sa && sb && strcmp(sa, sb) == 0;
    free(sa);
    free(sb);
    return eq;
}

/* Perl's split /,/ of a string: trailing empty fields dropped. */
static aemp_val *split_commas(const aemp_val *v)
{
    char *s = aemp_config_perl_str(v);
    aemp_val *list = aemp_array();
    size_t len = s ? strlen(s) : 0;

    if (!s || !list) {
        free(s);
        aemp_unref(list);
        return NULL;
    }
    while (len && s[len - 1] == ',')
        len--;
    for (size_t start = 0; len && start <= len;) {
        size_t end = start;
        while (end < len && s[end] != ',')
            end++;
        if (aemp_array_push(list, aemp_strn(s + start, end - start))) {
            aemp_unref(list);
            list = NULL;
            break;
        }
        start = end + 1;
    }
    free(s);
    return list;
}

/* ---- the commands ---- */

typedef struct rc_cmd rc_cmd;
typedef int (*rc_fn)(caemp_ctx *ctx, const rc_cmd *c);

struct rc_cmd {
    const char *name;
    rc_fn fn;
    const char *key;     /* the rc key it edits */
    const char *missing; /* aemp's message for a missing argument */
    int alias;           /* also known without its "set" prefix */
};

static int set_value(caemp_ctx *ctx, const rc_cmd *c)
{
    const aemp_val *v = need_arg(ctx, c->missing);
    if (!v)
        return CAEMP_EXIT_DIE;
    if (aemp_map_set(ctx->target, c->key, aemp_copy(v)))
        return oom();
    return mark_dirty(ctx);
}

static int del_value(caemp_ctx *ctx, const rc_cmd *c)
{
    aemp_map_del(ctx->target, c->key, strlen(c->key));
    return mark_dirty(ctx);
}

/* setbinds, setseeds, setservices: a JSON list or map as given, anything
 * else split at commas. */
static int set_list(caemp_ctx *ctx, const rc_cmd *c)
{
    const aemp_val *v = need_arg(ctx, c->missing);
    if (!v)
        return CAEMP_EXIT_DIE;
    aemp_type t = aemp_type_of(v);
    aemp_val *list = t == AEMP_ARRAY || t == AEMP_MAP ? aemp_copy(v) : split_commas(v);
    if (!list || aemp_map_set(ctx->target, c->key, list))
        return oom();
    return mark_dirty(ctx);
}

/* Removes the items equal (as strings) to v; with first_only just one. */
static void remove_items(aemp_val *list, const aemp_val *v, int first_only)
{
    for (size_t i = 0; i < aemp_array_len(list);) {
        if (same_str(aemp_array_at(list, i), v)) {
            aemp_unref(aemp_array_take(list, i));
            if (first_only)
                return;
        } else {
            i++;
        }
    }
}

/* addbind, addseed: moves the item to the end; addservice: appends. */
static int add_item(caemp_ctx *ctx, const rc_cmd *c)
{
    const aemp_val *v = need_arg(ctx, c->missing);
    if (!v)
        return CAEMP_EXIT_DIE;
    aemp_val *list = target_list(ctx, c->key);
    if (!list)
        return CAEMP_EXIT_DIE;
    if (strcmp(c->key, "services") != 0)
        remove_items(list, v, 0);
    if (aemp_array_push(list, aemp_copy(v)))
        return oom();
    return mark_dirty(ctx);
}

/* delbind, delseed: every equal item; delservice: the first one. */
static int del_item(caemp_ctx *ctx, const rc_cmd *c)
{
    const aemp_val *v = need_arg(ctx, c->missing);
    if (!v)
        return CAEMP_EXIT_DIE;
    aemp_val *list = target_list(ctx, c->key);
    if (!list)
        return CAEMP_EXIT_DIE;
    remove_items(list, v, strcmp(c->key, "services") == 0);
    return mark_dirty(ctx);
}

static int gensecret(caemp_ctx *ctx, const rc_cmd *c)
{
    char *s = aemp_config_gensecret();
    if (!s)
        return die("caemp: gensecret: no random numbers");
    int bad = aemp_map_set(ctx->target, c->key, aemp_str(s));
    free(s);
    return bad ? oom() : mark_dirty(ctx);
}

static int setcert(caemp_ctx *ctx, const rc_cmd *c)
{
    const aemp_val *v = need_arg(ctx, c->missing);
    char *name = v ? aemp_config_perl_str(v) : NULL;
    if (!name)
        return v ? oom() : CAEMP_EXIT_DIE;

    aemp_buf b = AEMP_BUF_INIT;
    FILE *f = fopen(name, "rb");
    char chunk[4096];
    size_t n;
    if (!f) {
        perror(name);
        free(name);
        return CAEMP_EXIT_DIE;
    }
    int bad = 0;
    while (!bad && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        bad = aemp_buf_append(&b, chunk, n);
    if (ferror(f)) {
        perror(name);
        bad = 1;
    }
    fclose(f);
    free(name);
    if (bad) {
        aemp_buf_free(&b);
        return CAEMP_EXIT_DIE;
    }
    aemp_val *pem = caemp_bytes_value(b.p ? b.p : "", b.len);
    aemp_buf_free(&b);
    if (!pem || aemp_map_set(ctx->target, c->key, pem))
        return oom();
    return mark_dirty(ctx);
}

static int gencert(caemp_ctx *ctx, const rc_cmd *c)
{
    char *err = NULL, *pem = caemp_gencert(&err);
    if (!pem) {
        fprintf(stderr, "caemp: gencert: %s\n", err ? err : "failed");
        free(err);
        return CAEMP_EXIT_DIE;
    }
    int bad = aemp_map_set(ctx->target, c->key, aemp_str(pem));
    free(pem);
    return bad ? oom() : mark_dirty(ctx);
}

/* profile NAME: later commands edit that profile, made if needed. */
static int profile(caemp_ctx *ctx, const rc_cmd *c)
{
    const aemp_val *v = need_arg(ctx, c->missing);
    char *name = v ? aemp_config_perl_str(v) : NULL;
    aemp_val *all = name ? profiles(ctx) : NULL;
    if (!all) {
        free(name);
        return CAEMP_EXIT_DIE;
    }
    aemp_val *p = aemp_map_get(all, name);
    if (!aemp_is_true(p)) { /* ||= {} */
        if (aemp_map_set(all, name, aemp_map())) {
            free(name);
            return oom();
        }
        p = aemp_map_get(all, name);
    }
    if (aemp_type_of(p) != AEMP_MAP) {
        fprintf(stderr, "caemp: %s: profile \"%s\" is not an object\n", ctx->rcpath, name);
        free(name);
        return CAEMP_EXIT_DIE;
    }
    aemp_unref(ctx->target);
    ctx->target = aemp_ref(p);
    free(ctx->profile_name);
    ctx->profile_name = name;
    return mark_dirty(ctx);
}

static int delprofile(caemp_ctx *ctx, const rc_cmd *c)
{
    const aemp_val *v = need_arg(ctx, c->missing);
    char *name = v ? aemp_config_perl_str(v) : NULL;
    aemp_val *all = name ? profiles(ctx) : NULL;
    if (all)
        aemp_map_del(all, name, strlen(name));
    free(name);
    return all ? mark_dirty(ctx) : CAEMP_EXIT_DIE;
}

static int print_pretty(const aemp_val *v)
{
    size_t len;
    char *text = aemp_json_pretty(v, &len);
    if (!text)
        return oom();
    caemp_print(stdout, text, len);
    free(text);
    return 0;
}

static int showprofile(caemp_ctx *ctx, const rc_cmd *c)
{
    const aemp_val *v = need_arg(ctx, c->missing);
    char *name = v ? aemp_config_perl_str(v) : NULL;
    aemp_val *all = name ? profiles(ctx) : NULL;
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
                : die("caemp: showprofile: the profile is not an object");
    aemp_unref(empty);
    return r;
}

/* showconfig [NAME [KEY VALUE]...]: the effective configuration; takes
 * every remaining argument. */
static int showconfig(caemp_ctx *ctx, const rc_cmd *c)
{
    (void)c;
    char *name = NULL, *err = NULL;
    aemp_val *rest = aemp_array(), *kv = NULL, *cfg = NULL;
    int r = 0;

    if (ctx->pos >= ctx->argc)
        name = aemp_config_nodename();
    else if (!aemp_is_null(aemp_array_at(ctx->args, (size_t)ctx->pos)))
        name = aemp_config_perl_str(aemp_array_at(ctx->args, (size_t)ctx->pos));
    if (ctx->pos < ctx->argc)
        ctx->pos++;
    while (rest && ctx->pos < ctx->argc)
        aemp_array_push(rest, aemp_copy(aemp_array_at(ctx->args, (size_t)ctx->pos++)));

    if (!rest || aemp_config_args_from_list(rest, 0, &kv, &err)) {
        fprintf(stderr, "caemp: showconfig: %s\n", err ? err : "out of memory");
        r = CAEMP_EXIT_DIE;
    } else if (name && !aemp_is_true(aemp_map_get(kv, "norc")) && !profiles(ctx)) {
        /* find_profile looks the name up through $CFG{profile}, which
         * makes it exist */
        r = CAEMP_EXIT_DIE;
    } else if (aemp_config_find_profile(ctx->rc, name, kv, &cfg, &err)) {
        fprintf(stderr, "caemp: showconfig: %s\n", err ? err : "out of memory");
        r = CAEMP_EXIT_DIE;
    } else {
        aemp_map_del(cfg, "profile", 7); /* "make it look nicer", as aemp */
        aemp_map_del(cfg, "parent", 6);
        r = print_pretty(cfg);
    }
    free(name);
    free(err);
    aemp_unref(rest);
    aemp_unref(kv);
    aemp_unref(cfg);
    return r;
}

static const rc_cmd commands[] = {
    {"setnodeid", set_value, "nodeid", "node id missing", 1},
    {"delnodeid", del_value, "nodeid", NULL, 0},
    {"setsecret", set_value, "secret", "shared secret missing", 1},
    {"gensecret", gensecret, "secret", NULL, 0},
    {"delsecret", del_value, "secret", NULL, 0},
    {"setcert", setcert, "cert", "key+certificate pem filename missing", 1},
    {"gencert", gencert, "cert", NULL, 0},
    {"delcert", del_value, "cert", NULL, 0},
    {"setbinds", set_list, "binds", "bind addresses missing", 1},
    {"delbinds", del_value, "binds", NULL, 0},
    {"addbind", add_item, "binds", "bind address missing", 0},
    {"delbind", del_item, "binds", "bind address missing", 0},
    {"setseeds", set_list, "seeds", "seed addresses missing", 1},
    {"delseeds", del_value, "seeds", NULL, 0},
    {"addseed", add_item, "seeds", "seed address missing", 0},
    {"delseed", del_item, "seeds", "seed address missing", 0},
    {"setservices", set_list, "services", "service specifications missing", 1},
    {"delservices", del_value, "services", NULL, 0},
    {"addservice", add_item, "services", "service specification missing", 0},
    {"delservice", del_item, "services", "service specification missing", 0},
    /* no "eval" alias: that is the node command */
    {"seteval", set_value, "eval", "eval string missing", 0},
    {"deleval", del_value, "eval", NULL, 0},
    {"profile", profile, NULL, "profile name is missing", 0},
    {"delprofile", delprofile, NULL, "profile name is missing", 0},
    {"setparent", set_value, "parent", "profile name is missing", 1},
    {"delparent", del_value, "parent", NULL, 0},
    {"showprofile", showprofile, NULL, "profile name is missing", 0},
    {"showconfig", showconfig, NULL, NULL, 0},
    {"setmonitor_timeout", set_value, "monitor_timeout", "monitor_timeout value is missing", 1},
    {"delmonitor_timeout", del_value, "monitor_timeout", NULL, 0},
    {"setconnect_interval", set_value, "connect_interval", "connect_interval value is missing", 1},
    {"delconnect_interval", del_value, "connect_interval", NULL, 0},
    {"setframing_format", set_value, "framing_format", "framing_format value is missing", 1},
    {"delframing_format", del_value, "framing_format", NULL, 0},
    {"setauth_offer", set_value, "auth_offer", "auth_offer value is missing", 1},
    {"delauth_offer", del_value, "auth_offer", NULL, 0},
    {"setauth_accept", set_value, "auth_accept", "auth_accept value is missing", 1},
    {"delauth_accept", del_value, "auth_accept", NULL, 0},
    {"setautocork", set_value, "autocork", "autocork value is missing", 1},
    {"delautocork", del_value, "autocork", NULL, 0},
    {"setnodelay", set_value, "nodelay", "nodelay value is missing", 1},
    {"delnodelay", del_value, "nodelay", NULL, 0},
    {"setsecure", set_value, "secure", "secure value is missing", 1},
    {"delsecure", del_value, "secure", NULL, 0},
};

int caemp_rc_command(caemp_ctx *ctx, const char *cmd)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        const rc_cmd *c = &commands[i];
        if (strcmp(cmd, c->name) != 0 && !(c->alias && strcmp(cmd, c->name + 3) == 0))
            continue;
        int r = caemp_rc_ensure(ctx);
        return r ? r : c->fn(ctx, c);
    }
    return CAEMP_NOT_RC;
}
