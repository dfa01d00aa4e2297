/* libaemp: profiles, as Config.pm's find_profile computes them, and the
 * Perl-isms configure needs (stringification, the host name, argument
 * lists). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "aemp/error.h"

void aempi_config_set_err(char **err, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return;
    va_start(ap, fmt);
    if (vasprintf(err, fmt, ap) < 0)
        *err = NULL;
    va_end(ap);
}

char *aempi_config_perl_str(const aemp_val *v)
{
    char *s = NULL;
    size_t len;
    const char *p;

    switch (aemp_type_of(v)) {
    case AEMP_NULL:
        return strdup("");
    case AEMP_BOOL:
        return strdup(aemp_is_true(v) ? "1" : "0");
    case AEMP_INT:
        if (asprintf(&s, "%lld", (long long)aemp_as_int(v)) < 0)
            return NULL;
        return s;
    case AEMP_UINT:
        if (asprintf(&s, "%llu", (unsigned long long)aemp_as_uint(v)) < 0)
            return NULL;
        return s;
    case AEMP_DOUBLE:
        if (asprintf(&s, "%.15g", aemp_as_double(v)) < 0)
            return NULL;
        return s;
    case AEMP_STRING:
        p = aemp_str_ptr(v, &len);
        return strndup(p, len);
    case AEMP_ARRAY:
    case AEMP_MAP:
        if (asprintf(&s, "%s(%p)", aemp_type_of(v) == AEMP_ARRAY ? "ARRAY" : "HASH",
                     (const void *)v) < 0)
            return NULL;
        return s;
    }
    return NULL;
}

char *aempi_config_nodename(void)
{
    struct utsname u;
    if (uname(&u) != 0)
        return strdup("");
    return strdup(u.nodename);
}

int aempi_config_args_from_list(const aemp_val *list, int odd_is_profile,
                                aemp_val **out, char **err)
{
    size_t n = aemp_array_len(list);
    int shift = odd_is_profile && (n & 1); /* a virtual "profile" in front */
    aemp_val *m = aemp_map();

    *out = NULL;
    if (!m)
        return AEMP_ENOMEM;
    if (aemp_type_of(list) != AEMP_ARRAY) {
        aemp_unref(m);
        aempi_config_set_err(err, "configure arguments must be a list");
        return AEMP_EINVAL;
    }
    for (size_t i = 0; i < n + (size_t)shift; i += 2) {
        const aemp_val *k = shift ? (i ? aemp_array_at(list, i - 1) : NULL)
                                  : aemp_array_at(list, i);
        const aemp_val *v = aemp_array_at(list, i + 1 - (size_t)shift);
        char *key = k ? aempi_config_perl_str(k) : strdup("profile");
        aemp_val *val = v ? aemp_copy(v) : aemp_null();
        if (!key || !val || aemp_map_set(m, key, val)) {
            free(key);
            aemp_unref(m);
            return AEMP_ENOMEM;
        }
        free(key);
    }
    *out = m;
    return AEMP_OK;
}

static aemp_val *strings(const char *const *s)
{
    aemp_val *a = aemp_array();
    for (; a && *s; s++)
        if (aemp_array_push(a, aemp_str(*s))) {
            aemp_unref(a);
            return NULL;
        }
    return a;
}

/* Config.pm's built-in defaults. */
static aemp_val *defaults(void)
{
    static const char *const framing[] = {"cbor", "json", "storable", NULL};
    static const char *const offer[] = {"tls_sha3_512", "hmac_sha3_512", NULL};
    static const char *const accept[] = {"tls_sha3_512", "hmac_sha3_512",
                                         "tls_anon", "cleartext", NULL};
    aemp_val *m = aemp_map();

    if (!m
        || aemp_map_set(m, "monitor_timeout", aemp_int(30))
        || aemp_map_set(m, "connect_interval", aemp_int(2))
        || aemp_map_set(m, "framing_format", strings(framing))
        || aemp_map_set(m, "auth_offer", strings(offer))
        || aemp_map_set(m, "auth_accept", strings(accept))) {
        aemp_unref(m);
        return NULL;
    }
    return m;
}

/* dst{k} = copy of src{k} for every key of src, except those named in
 * skip (NULL-terminated, may be NULL). */
static int overlay(aemp_val *dst, const aemp_val *src, const char *const *skip)
{
    for (size_t i = 0; i < aemp_map_len(src); i++) {
        size_t klen;
        const char *k = aemp_map_key_at(src, i, &klen);
        const char *const *s = skip;
        while (s && *s && !(strlen(*s) == klen && memcmp(*s, k, klen) == 0))
            s++;
        if (s && *s)
            continue;
        aemp_val *v = aemp_copy(aemp_map_value_at(src, i));
        if (!v || aemp_map_setn(dst, k, klen, v))
            return AEMP_ENOMEM;
    }
    return AEMP_OK;
}

/* The maps _find_profile returns, lowest priority first, appended to
 * chain: the rc's global keys, then the parents (farthest first), then the
 * profile. A name that is not there is an empty profile, as in Perl. */
static int profile_chain(const aemp_val *rc, const char *name,
                         aemp_val *chain, aemp_val *seen, char **err)
{
    if (!name) {
        /* Perl autovivifies $CFG{profile} on any lookup by name */
        aemp_val *g = aemp_copy(rc);
        if (!g)
            return AEMP_ENOMEM;
        if (aemp_array_len(seen) && aemp_is_null(aemp_map_get(g, "profile"))
            && aemp_map_set(g, "profile", aemp_map())) {
            aemp_unref(g);
            return AEMP_ENOMEM;
        }
        return aemp_array_push(chain, g);
    }

    for (size_t i = 0; i < aemp_array_len(seen); i++)
        if (aemp_str_eq(aemp_array_at(seen, i), name)) {
            aempi_config_set_err(err,
                                 "profile \"%s\": the parent chain loops back to \"%s\"",
                    aemp_str_ptr(aemp_array_at(seen, 0), NULL), name);
            return AEMP_ECONFIG;
        }
    if (aemp_array_push(seen, aemp_str(name)))
        return AEMP_ENOMEM;

    const aemp_val *profiles = aemp_map_get(rc, "profile");
    const aemp_val *p = NULL;
    if (!aemp_is_null(profiles)) {
        if (aemp_type_of(profiles) != AEMP_MAP) {
            aempi_config_set_err(err, "rc file: \"profile\" is not an object");
            return AEMP_ECONFIG;
        }
        p = aemp_map_get(profiles, name);
    }
    if (!aemp_is_null(p) && aemp_type_of(p) != AEMP_MAP) {
        aempi_config_set_err(err, "rc file: profile \"%s\" is not an object",
                             name);
        return AEMP_ECONFIG;
    }

    /* a parent that is no name (null, a list, a map) ends the chain: Perl
     * finds no profile under such a key */
    const aemp_val *parent = aemp_is_null(p) ? NULL : aemp_map_get(p, "parent");
    char *pname = NULL;
    aemp_type pt = aemp_type_of(parent);
    if (parent && pt != AEMP_NULL && pt != AEMP_ARRAY && pt != AEMP_MAP
        && !(pname = aempi_config_perl_str(parent)))
        return AEMP_ENOMEM;
    int rc2 = profile_chain(rc, pname, chain, seen, err);
    free(pname);
    if (rc2)
        return rc2;
    if (aemp_is_null(p))
        return AEMP_OK;
    aemp_val *copy = aemp_copy(p);
    return copy ? aemp_array_push(chain, copy) : AEMP_ENOMEM;
}

int aempi_config_find_profile(const aemp_val *rc, const char *name,
                              const aemp_val *args, aemp_val **out,
                              char **err)
{
    static const char *const flags[] = {"norc", "force", NULL};
    aemp_val *own_rc = NULL, *chain = NULL, *seen = NULL;
    aemp_val *res = defaults();
    int norc = aemp_is_true(aemp_map_get(args, "norc"));
    int force = aemp_is_true(aemp_map_get(args, "force"));
    int r = AEMP_ENOMEM;

    *out = NULL;
    if (!res)
        goto out;
    if (args && (r = overlay(res, args, flags)))
        goto out;
    r = AEMP_OK;
    if (norc)
        goto out;

    if (!rc && !(rc = own_rc = aempi_rc_default())) {
        r = AEMP_ENOMEM;
        goto out;
    }
    chain = aemp_array();
    seen = aemp_array();
    if (!chain || !seen) {
        r = AEMP_ENOMEM;
        goto out;
    }
    if ((r = profile_chain(rc, name, chain, seen, err)))
        goto out;

    /* force: (rc..., defaults+args); else (defaults+args, rc...) */
    aemp_val *merged = aemp_map();
    if (!merged) {
        r = AEMP_ENOMEM;
        goto out;
    }
    if (!force)
        r = overlay(merged, res, NULL);
    for (size_t i = 0; !r && i < aemp_array_len(chain); i++)
        r = overlay(merged, aemp_array_at(chain, i), NULL);
    if (!r && force)
        r = overlay(merged, res, NULL);
    aemp_unref(res);
    res = merged;
out:
    aemp_unref(own_rc);
    aemp_unref(chain);
    aemp_unref(seen);
    if (r) {
        aemp_unref(res);
        return r;
    }
    *out = res;
    return AEMP_OK;
}
