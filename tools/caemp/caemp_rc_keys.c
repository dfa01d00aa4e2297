/* caemp: the rc commands that edit one key each (setsecret, delbinds,
 * addseed, gencert, ...), all made from one table with a row per rc key
 * (keys[] below), in aemp's words: same names, arguments, messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aemp/error.h"
#include "aemp/rc.h"
#include "caemp.h"

/* target->{key} as a list to edit: a copy of it, a new list when there is
 * none; NULL (after a message) when it holds something else. Edits are
 * made by putting the list back with caemp_target_set. */
static aemp_val *target_list(caemp_ctx *ctx, const char *key)
{
    const aemp_val *l = caemp_target_get(ctx, key);
    aemp_val *copy = aemp_is_null(l) ? aemp_array() : aemp_copy(l);
    if (!copy) {
        caemp_oom();
        return NULL;
    }
    if (aemp_type_of(copy) != AEMP_ARRAY) {
        aemp_unref(copy);
        fprintf(stderr, "caemp: %s is not a list, cannot add or remove items\n", key);
        return NULL;
    }
    return copy;
}

static int same_str(const aemp_val *a, const aemp_val *b)
{
    char *sa = caemp_perl_str(a), *sb = caemp_perl_str(b);
    int eq = sa && sb && strcmp(sa, sb) == 0;
    free(sa);
    free(sb);
    return eq;
}

/* Perl's split /,/ of a string: trailing empty fields dropped. */
static aemp_val *split_commas(const aemp_val *v)
{
    char *s = caemp_perl_str(v);
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

/* ---- the per-key commands ----
 *
 * Each takes the rc key it edits and aemp's message for a missing
 * argument; 0 or an exit status. */

static int set_value(caemp_ctx *ctx, const char *key, const char *missing)
{
    const aemp_val *v = caemp_need_arg(ctx, missing);
    if (!v)
        return CAEMP_EXIT_DIE;
    int r = caemp_target_set(ctx, key, aemp_copy(v));
    return r ? r : caemp_rc_mark_dirty(ctx);
}

/* autocork: kept for the Perl nodes reading the rc file. A C node
 * always writes what a loop turn sent in one go, as AnyEvent::Handle does
 * with autocork => 1; a false autocork (write each message at once) is
 * not done there, and the user hears so. */
static int set_autocork(caemp_ctx *ctx, const char *key, const char *missing)
{
    const aemp_val *v = caemp_need_arg(ctx, missing);
    if (!v)
        return CAEMP_EXIT_DIE;
    if (!aemp_is_true(v))
        fprintf(stderr, "caemp: autocork: stored for Perl nodes; C nodes "
                        "ignore it and always write once per event-loop "
                        "turn, as with autocork 1 (see docs/config.md)\n");
    int r = caemp_target_set(ctx, key, aemp_copy(v));
    return r ? r : caemp_rc_mark_dirty(ctx);
}

static int del_value(caemp_ctx *ctx, const char *key, const char *missing)
{
    (void)missing;
    caemp_target_del(ctx, key);
    return caemp_rc_mark_dirty(ctx);
}

/* setbinds, setseeds, setservices: a JSON list or map as given, anything
 * else split at commas. */
static int set_list(caemp_ctx *ctx, const char *key, const char *missing)
{
    const aemp_val *v = caemp_need_arg(ctx, missing);
    if (!v)
        return CAEMP_EXIT_DIE;
    aemp_type t = aemp_type_of(v);
    aemp_val *list = t == AEMP_ARRAY || t == AEMP_MAP ? aemp_copy(v) : split_commas(v);
    int r = list ? caemp_target_set(ctx, key, list) : caemp_oom();
    return r ? r : caemp_rc_mark_dirty(ctx);
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

/* addbind, addseed (add): move the item to the end; addservice appends.
 * delbind, delseed: remove every equal item; delservice the first one. */
static int edit_items(caemp_ctx *ctx, const char *key, const char *missing, int add)
{
    const aemp_val *v = caemp_need_arg(ctx, missing);
    aemp_val *list = v ? target_list(ctx, key) : NULL;
    if (!list)
        return CAEMP_EXIT_DIE;
    int services = strcmp(key, "services") == 0; /* a service may repeat */
    if (!add || !services)
        remove_items(list, v, !add && services);
    if (add && aemp_array_push(list, aemp_copy(v))) {
        aemp_unref(list);
        return caemp_oom();
    }
    int r = caemp_target_set(ctx, key, list);
    return r ? r : caemp_rc_mark_dirty(ctx);
}

static int add_item(caemp_ctx *ctx, const char *key, const char *missing)
{
    return edit_items(ctx, key, missing, 1);
}

static int del_item(caemp_ctx *ctx, const char *key, const char *missing)
{
    return edit_items(ctx, key, missing, 0);
}

static int gensecret(caemp_ctx *ctx, const char *key, const char *missing)
{
    (void)missing;
    char secret[AEMP_RC_SECRET_LEN + 1];
    if (aemp_rc_gensecret(secret, sizeof secret))
        return caemp_die("caemp: gensecret: no random numbers");
    int r = caemp_target_set(ctx, key, aemp_str(secret));
    return r ? r : caemp_rc_mark_dirty(ctx);
}

/* The bytes of the file name (malloc'd), or NULL after a message. */
static char *read_file(const char *name, size_t *len)
{
    char *text = NULL, chunk[4096];
    size_t n;
    FILE *f = fopen(name, "rb"), *out = NULL;

    if (!f || !(out = open_memstream(&text, len))) {
        perror(name);
        if (f)
            fclose(f);
        return NULL;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, out);
    int failed = ferror(f) || ferror(out);
    if (failed)
        perror(name);
    fclose(f);
    if (fclose(out) != 0 || failed) {
        free(text);
        return NULL;
    }
    return text;
}

static int setcert(caemp_ctx *ctx, const char *key, const char *missing)
{
    const aemp_val *v = caemp_need_arg(ctx, missing);
    char *name = v ? caemp_perl_str(v) : NULL;
    if (!name)
        return v ? caemp_oom() : CAEMP_EXIT_DIE;
    size_t len;
    char *text = read_file(name, &len);
    free(name);
    if (!text)
        return CAEMP_EXIT_DIE;
    aemp_val *pem = caemp_bytes_value(text, len);
    free(text);
    int r = pem ? caemp_target_set(ctx, key, pem) : caemp_oom();
    return r ? r : caemp_rc_mark_dirty(ctx);
}

static int gencert(caemp_ctx *ctx, const char *key, const char *missing)
{
    (void)missing;
    char *err = NULL, *pem = caemp_gencert(&err);
    if (!pem) {
        fprintf(stderr, "caemp: gencert: %s\n", err ? err : "failed");
        free(err);
        return CAEMP_EXIT_DIE;
    }
    int r = caemp_target_set(ctx, key, aemp_str(pem));
    free(pem);
    return r ? r : caemp_rc_mark_dirty(ctx);
}

/* One row per rc key: setKEY (KEY too where alias is set) runs set with
 * set_missing as aemp's message for a missing argument, delKEY removes
 * the key; genKEY runs gen where there is one; where item names the
 * key's items, addITEM and delITEM add and remove one (item_missing). */
typedef struct rc_key {
    const char *key;
    caemp_rc_fn set;
    const char *set_missing;
    int alias;
    caemp_rc_fn gen;
    const char *item;
    const char *item_missing;
} rc_key;

static const rc_key keys[] = {
    {"nodeid", set_value, "node id missing", 1, NULL, NULL, NULL},
    {"secret", set_value, "shared secret missing", 1, gensecret, NULL, NULL},
    {"cert", setcert, "key+certificate pem filename missing", 1, gencert, NULL, NULL},
    {"binds", set_list, "bind addresses missing", 1, NULL, "bind", "bind address missing"},
    {"seeds", set_list, "seed addresses missing", 1, NULL, "seed", "seed address missing"},
    {"services", set_list, "service specifications missing", 1, NULL,
     "service", "service specification missing"},
    /* caemp run's plugin directories (docs/services.md); Perl ignores it */
    {"service_path", set_list, "service directories missing", 1, NULL,
     "service_dir", "service directory missing"},
    /* GET /metrics (docs/metrics.md); Perl ignores it */
    {"metrics_bind", set_value, "metrics bind address missing", 1, NULL, NULL, NULL},
    /* no "eval" alias: that is the node command */
    {"eval", set_value, "eval string missing", 0, NULL, NULL, NULL},
    {"parent", set_value, "profile name is missing", 1, NULL, NULL, NULL},
    {"monitor_timeout", set_value, "monitor_timeout value is missing", 1, NULL, NULL, NULL},
    {"connect_interval", set_value, "connect_interval value is missing", 1, NULL, NULL, NULL},
    {"framing_format", set_value, "framing_format value is missing", 1, NULL, NULL, NULL},
    {"auth_offer", set_value, "auth_offer value is missing", 1, NULL, NULL, NULL},
    {"auth_accept", set_value, "auth_accept value is missing", 1, NULL, NULL, NULL},
    {"autocork", set_autocork, "autocork value is missing", 1, NULL, NULL, NULL},
    {"nodelay", set_value, "nodelay value is missing", 1, NULL, NULL, NULL},
    {"secure", set_value, "secure value is missing", 1, NULL, NULL, NULL},
};

/* 1 if cmd is verb followed by noun ("set" "binds": "setbinds"). */
static int is_cmd(const char *cmd, const char *verb, const char *noun)
{
    size_t n = strlen(verb);
    return noun && strncmp(cmd, verb, n) == 0 && strcmp(cmd + n, noun) == 0;
}

/* 1 and *op if cmd is one of k's commands, else 0. */
static int find_key_op(const rc_key *k, const char *cmd, caemp_rc_op *op)
{
    if (is_cmd(cmd, "set", k->key) || (k->alias && strcmp(cmd, k->key) == 0))
        *op = (caemp_rc_op){k->set, k->key, k->set_missing};
    else if (is_cmd(cmd, "del", k->key))
        *op = (caemp_rc_op){del_value, k->key, NULL};
    else if (k->gen && is_cmd(cmd, "gen", k->key))
        *op = (caemp_rc_op){k->gen, k->key, NULL};
    else if (is_cmd(cmd, "add", k->item))
        *op = (caemp_rc_op){add_item, k->key, k->item_missing};
    else if (is_cmd(cmd, "del", k->item))
        *op = (caemp_rc_op){del_item, k->key, k->item_missing};
    else
        return 0;
    return 1;
}

int caemp_rc_find_key_op(const char *cmd, caemp_rc_op *op)
{
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (find_key_op(&keys[i], cmd, op))
            return 1;
    return 0;
}
