/* libaemp: the public rc-file API (aemp/rc.h). A thin layer over the
 * config layer's functions (config_rc.c, config.c): it keeps the data and
 * its path together, checks the arguments, and keeps each failure's
 * details for aemp_rc_errmsg instead of handing out malloc'd messages. */
#include "aemp/rc.h"

#include <stdlib.h>
#include <string.h>

#include "aemp/error.h"
#include "config.h"

struct aemp_rc {
    char *path;
    aemp_val *data;  /* a map: Config.pm's %CFG */
    int errcode;     /* the last call's result */
    char *errmsg;    /* its details, NULL when there are none */
};

/* Ends a call: records its result and details (msg taken, may be NULL). */
static int result(aemp_rc *rc, int code, char *msg)
{
    free(rc->errmsg);
    rc->errmsg = msg;
    rc->errcode = code;
    return code;
}

/* A refused call: rc may be NULL; v (may be NULL) is released. */
static int refuse(aemp_rc *rc, aemp_val *v)
{
    aemp_unref(v);
    return rc ? result(rc, AEMP_EINVAL, NULL) : AEMP_EINVAL;
}

aemp_rc *aemp_rc_new(const char *path)
{
    aemp_rc *rc = calloc(1, sizeof *rc);

    if (!rc)
        return NULL;
    rc->path = path ? strdup(path) : aempi_rc_default_path();
    rc->data = aempi_rc_default();
    if (!rc->path || !rc->data) {
        aemp_rc_free(rc);
        return NULL;
    }
    return rc;
}

void aemp_rc_free(aemp_rc *rc)
{
    if (!rc)
        return;
    free(rc->path);
    aemp_unref(rc->data);
    free(rc->errmsg);
    free(rc);
}

const char *aemp_rc_path(const aemp_rc *rc)
{
    return rc ? rc->path : NULL;
}

const char *aemp_rc_errmsg(const aemp_rc *rc)
{
    if (!rc)
        return "no rc";
    if (rc->errmsg)
        return rc->errmsg;
    return rc->errcode ? aemp_strerror(rc->errcode) : "";
}

int aemp_rc_load(aemp_rc *rc)
{
    aemp_val *data;
    char *err = NULL;

    if (!rc)
        return AEMP_EINVAL;
    int r = aempi_rc_read(rc->path, &data, &err);
    if (r)
        return result(rc, r, err);
    aemp_unref(rc->data);
    rc->data = data;
    return result(rc, AEMP_OK, NULL);
}

int aemp_rc_save(aemp_rc *rc)
{
    char *err = NULL;

    if (!rc)
        return AEMP_EINVAL;
    int r = aempi_rc_write(rc->path, rc->data, &err);
    return result(rc, r, err);
}

/* The map of profile NAME, or the data for NULL; what is there, or NULL. */
static aemp_val *entry(const aemp_rc *rc, const char *profile)
{
    if (!profile)
        return rc->data;
    return aemp_map_get(aemp_map_get(rc->data, "profile"), profile);
}

const aemp_val *aemp_rc_get(const aemp_rc *rc, const char *profile,
                            const char *key)
{
    if (!rc)
        return NULL;
    aemp_val *m = entry(rc, profile);
    return key ? aemp_map_get(m, key) : m;
}

/* rc's "profile" map, made when missing or null. */
static int profiles(aemp_rc *rc, aemp_val **out)
{
    aemp_val *all = aemp_map_get(rc->data, "profile");
    char *msg = NULL;

    if (aemp_is_null(all)) {
        int r = aemp_map_set(rc->data, "profile", aemp_map());
        if (r)
            return result(rc, r, NULL);
        all = aemp_map_get(rc->data, "profile");
    }
    if (aemp_type_of(all) != AEMP_MAP) {
        aempi_config_set_err(&msg, "%s: \"profile\" is not an object",
                             rc->path);
        return result(rc, AEMP_ECONFIG, msg);
    }
    *out = all;
    return AEMP_OK;
}

/* The map of profile name, made when missing or null. */
static int profile_map(aemp_rc *rc, const char *name, aemp_val **out)
{
    aemp_val *all, *p;
    char *msg = NULL;
    int r = profiles(rc, &all);

    if (r)
        return r;
    p = aemp_map_get(all, name);
    if (aemp_is_null(p)) {
        if ((r = aemp_map_set(all, name, aemp_map())))
            return result(rc, r, NULL);
        p = aemp_map_get(all, name);
    }
    if (aemp_type_of(p) != AEMP_MAP) {
        aempi_config_set_err(&msg, "%s: profile \"%s\" is not an object",
                             rc->path, name);
        return result(rc, AEMP_ECONFIG, msg);
    }
    *out = p;
    return AEMP_OK;
}

int aemp_rc_set(aemp_rc *rc, const char *profile, const char *key,
                aemp_val *v)
{
    aemp_val *m = rc ? rc->data : NULL;
    int r = AEMP_OK;

    if (!v)
        return rc ? result(rc, AEMP_ENOMEM, NULL) : AEMP_ENOMEM;
    if (!rc || (!profile && !key) || (!key && aemp_type_of(v) != AEMP_MAP))
        return refuse(rc, v);
    if (!key)
        r = profiles(rc, &m);
    else if (profile)
        r = profile_map(rc, profile, &m);
    if (r) {
        aemp_unref(v);
        return r;
    }
    return result(rc, aemp_map_set(m, key ? key : profile, v), NULL);
}

int aemp_rc_del(aemp_rc *rc, const char *profile, const char *key)
{
    if (!rc || (!profile && !key))
        return refuse(rc, NULL);
    /* key NULL: the profile itself, from the "profile" map */
    aemp_val *m = key ? entry(rc, profile) : aemp_map_get(rc->data, "profile");
    const char *k = key ? key : profile;
    int found = aemp_map_del(m, k, strlen(k));
    return result(rc, found ? AEMP_OK : AEMP_ENOTFOUND, NULL);
}

int aemp_rc_find_profile(aemp_rc *rc, const char *name, const aemp_val *args,
                         aemp_val **out)
{
    char *err = NULL;

    if (out)
        *out = NULL;
    if (!rc || !out || (args && aemp_type_of(args) != AEMP_MAP))
        return refuse(rc, NULL);
    int r = aempi_config_find_profile(rc->data, name, args, out, &err);
    return result(rc, r, err);
}

int aemp_rc_gensecret(char *out, size_t size)
{
    if (!out || size < AEMP_RC_SECRET_LEN + 1)
        return AEMP_EINVAL;
    return aempi_config_nonce62(out, AEMP_RC_SECRET_LEN);
}

int aemp_rc_pretty(const aemp_val *v, char **out, size_t *len)
{
    if (out)
        *out = NULL;
    if (!v || !out)
        return AEMP_EINVAL;
    return aempi_json_pretty(v, out, len);
}
