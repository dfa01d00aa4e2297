/* libaemp: the first half of Kernel.pm's configure: the profile, the
 * node id (%n, %u, a trailing '/'), binds and seeds, before any socket is
 * made. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aemp/error.h"
#include "buf.h"

/* Is i where Perl's (?<=/)$ matches: the end, or before a final newline,
 * right after a '/'? */
static int slash_end(const char *s, size_t len, size_t i)
{
    return i > 0 && s[i - 1] == '/'
           && (i == len || (i + 1 == len && s[i] == '\n'));
}

int aempi_config_expand_nodeid(const char *tmpl, const char *nodename,
                               const char *runiq, char **out,
                               int *randomised)
{
    aemp_buf a = AEMP_BUF_INIT, b = AEMP_BUF_INIT;
    char *own_name = NULL, fresh[AEMP_RUNIQ_LEN + 1];
    int count = 0, r = AEMP_ENOMEM;

    *out = NULL;
    if (!nodename && !(nodename = own_name = aempi_config_nodename()))
        goto out;
    if (!runiq) {
        if ((r = aempi_config_runiq(fresh)))
            goto out;
        runiq = fresh;
        r = AEMP_ENOMEM;
    }

    /* s/%n/nodename/ge */
    for (const char *p = tmpl; *p;)
        if (p[0] == '%' && p[1] == 'n') {
            if (aempi_buf_puts(&a, nodename))
                goto out;
            p += 2;
        } else if (aempi_buf_putc(&a, *p++)) {
            goto out;
        }
    if (aempi_buf_reserve(&a, 0))
        goto out;

    /* s!(?:(?<=/)$|%u)!$RUNIQ!g */
    for (size_t i = 0; i <= a.len;) {
        if (slash_end(a.p, a.len, i)) {
            if (aempi_buf_puts(&b, runiq))
                goto out;
            count++;
        }
        if (i == a.len)
            break;
        if (a.p[i] == '%' && a.p[i + 1] == 'u') {
            if (aempi_buf_puts(&b, runiq))
                goto out;
            count++;
            i += 2;
        } else if (aempi_buf_putc(&b, a.p[i++])) {
            goto out;
        }
    }
    if (!(*out = aempi_buf_detach(&b, NULL)))
        goto out;
    if (randomised)
        *randomised = count > 0;
    r = AEMP_OK;
out:
    aempi_buf_free(&a);
    aempi_buf_free(&b);
    free(own_name);
    return r;
}

/* The seeds list: null or missing is none; duplicates go, as Kernel.pm
 * keeps seeds as hash keys. */
static int resolve_seeds(const aemp_val *cfg, const char *nodename,
                         const aemp_val *local_addrs, aemp_val **out,
                         char **err)
{
    const aemp_val *seeds = aemp_map_get(cfg, "seeds");
    aemp_val *all, *uniq;
    int r;

    *out = NULL;
    if (aemp_is_null(seeds))
        return (*out = aemp_array()) ? AEMP_OK : AEMP_ENOMEM;
    if (aemp_type_of(seeds) != AEMP_ARRAY) {
        aempi_config_set_err(err, "seeds must be a list, not %s",
                             aemp_type_name(aemp_type_of(seeds)));
        return AEMP_ECONFIG;
    }
    if ((r = aempi_config_expand_hostports(seeds, nodename, local_addrs, &all,
                                           err)))
        return r;
    if (!(uniq = aemp_array())) {
        aemp_unref(all);
        return AEMP_ENOMEM;
    }
    for (size_t i = 0; i < aemp_array_len(all); i++) {
        aemp_val *s = aemp_array_at(all, i);
        size_t k = 0;
        while (k < aemp_array_len(uniq) && !aemp_equal(aemp_array_at(uniq, k), s))
            k++;
        if (k == aemp_array_len(uniq) && aemp_array_push(uniq, aemp_ref(s))) {
            aemp_unref(all);
            aemp_unref(uniq);
            return AEMP_ENOMEM;
        }
    }
    aemp_unref(all);
    *out = uniq;
    return AEMP_OK;
}

/* binds: ["*"] unless the configuration has a true value. */
static int resolve_binds(const aemp_val *cfg, const char *nodename,
                         const aemp_val *local_addrs, aemp_val **out,
                         char **err)
{
    const aemp_val *binds = aemp_map_get(cfg, "binds");
    aemp_val *star = NULL;
    int r;

    *out = NULL;
    if (!aemp_is_true(binds)) {
        if (!(star = aemp_arrayv(aemp_str("*"), NULL)))
            return AEMP_ENOMEM;
        binds = star;
    }
    if (aemp_type_of(binds) != AEMP_ARRAY) {
        aempi_config_set_err(err, "binds must be a list, not %s",
                             aemp_type_name(aemp_type_of(binds)));
        return AEMP_ECONFIG;
    }
    r = aempi_config_expand_hostports(binds, nodename, local_addrs, out, err);
    aemp_unref(star);
    return r;
}

/* The node id template: the configured one, else "PROFILE/". */
static int nodeid_template(const aemp_val *cfg, const char *profile,
                           char **out, char **err)
{
    const aemp_val *id = aemp_map_get(cfg, "nodeid");
    aemp_type t = aemp_type_of(id);

    *out = NULL;
    if (!id)
        return asprintf(out, "%s/", profile) < 0 ? (*out = NULL, AEMP_ENOMEM) : AEMP_OK;
    if (t == AEMP_ARRAY || t == AEMP_MAP) {
        aempi_config_set_err(err, "nodeid must be a string, not %s",
                             aemp_type_name(t));
        return AEMP_ECONFIG;
    }
    if (!(*out = aempi_config_perl_str(id)))
        return AEMP_ENOMEM;
    if (!aemp_is_true(id)) {
        aempi_config_set_err(err,
                             "%s: illegal node ID (see AnyEvent::MP manpage for syntax)",
                             *out);
        free(*out);
        *out = NULL;
        return AEMP_ECONFIG;
    }
    return AEMP_OK;
}

int aempi_config_resolve_env(const aemp_val *args, const aemp_config_env *env,
                             aemp_val **out, int *randomised, char **err)
{
    static const aemp_config_env none = {0};
    aemp_val *kv = NULL, *own_rc = NULL, *cfg = NULL, *binds = NULL, *seeds = NULL;
    char *nodename = NULL, *profile = NULL, *tmpl = NULL, *id = NULL, *path = NULL;
    int r = AEMP_ENOMEM;

    *out = NULL;
    if (!env)
        env = &none;
    if (args && aemp_type_of(args) != AEMP_MAP) {
        aempi_config_set_err(err, "configure arguments must be a map");
        return AEMP_EINVAL;
    }
    kv = args ? aemp_copy(args) : aemp_map();
    nodename = env->nodename ? strdup(env->nodename) : aempi_config_nodename();
    if (!kv || !nodename)
        goto out;

    /* the profile: given, else the host name */
    const aemp_val *pv = aemp_map_get(kv, "profile");
    profile = aemp_is_null(pv) ? strdup(nodename) : aempi_config_perl_str(pv);
    if (!profile)
        goto out;
    aemp_map_del(kv, "profile", 7);

    const aemp_val *rc = env->rc;
    if (!rc && !aemp_is_true(aemp_map_get(kv, "norc"))) {
        if (!env->rcpath && !(path = aempi_rc_default_path()))
            goto out;
        if ((r = aempi_rc_read(env->rcpath ? env->rcpath : path, &own_rc,
                               err)))
            goto out;
        rc = own_rc;
    }
    if ((r = aempi_config_find_profile(rc, profile, kv, &cfg, err))
        || (r = nodeid_template(cfg, profile, &tmpl, err))
        || (r = aempi_config_expand_nodeid(tmpl, nodename, env->runiq, &id,
                                           randomised))
        || (r = resolve_binds(cfg, nodename, env->local_addrs, &binds, err))
        || (r = resolve_seeds(cfg, nodename, env->local_addrs, &seeds, err)))
        goto out;
    r = AEMP_ENOMEM;
    aemp_val *idv = aemp_str(id);
    if (!idv || aemp_map_set(cfg, "nodeid", idv))
        goto out;
    if (aemp_map_set(cfg, "binds", binds)) {
        binds = NULL;
        goto out;
    }
    binds = NULL;
    if (aemp_map_set(cfg, "seeds", seeds)) {
        seeds = NULL;
        goto out;
    }
    seeds = NULL;
    *out = cfg;
    cfg = NULL;
    r = AEMP_OK;
out:
    aemp_unref(kv);
    aemp_unref(own_rc);
    aemp_unref(cfg);
    aemp_unref(binds);
    aemp_unref(seeds);
    free(nodename);
    free(profile);
    free(tmpl);
    free(id);
    free(path);
    return r;
}

int aempi_config_resolve(const aemp_val *args, const char *rcpath,
                         aemp_val **out, int *randomised, char **err)
{
    aemp_config_env env = {0};
    env.rcpath = rcpath;
    return aempi_config_resolve_env(args, &env, out, randomised, err);
}
