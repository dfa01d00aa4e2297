/* libaemp: the services configure runs at its end (Kernel.pm configure's
 * services loop and load_func), and the loader that stands in for
 * Perl's require (include/aemp/service.h).
 *
 * As in Perl the services run inside configure, one after the other; the
 * first that cannot be found or fails ends configure with its message
 * (left in n->die_msg for node.c, which undoes the rest). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aemp/service.h"
#include "kernel.h"

int aemp_node_set_service_loader(aemp_node *n, aemp_service_loader fn,
                                 void *ud)
{
    if (!n)
        return AEMP_EINVAL;
    n->service_loader = fn;
    n->service_ud = ud;
    return AEMP_OK;
}

void aempi_kernel_services_free(aemp_node *n)
{
    aempi_dict_clear(&n->modules); /* values are not pointers to free */
}

/* Perl's require: once per module, as %INC remembers it. The message of a
 * failure is in n->die_msg. */
static int require(aemp_node *n, const char *module)
{
    if (aempi_dict_get(&n->modules, module))
        return AEMP_OK;
    if (!n->service_loader) {
        /* what Perl's require says of a module nowhere on @INC */
        aemp_die(n, "Can't locate %s (you may need to install the %s "
                 "module) (this program has no service loader)", module,
                 module);
        return AEMP_ENOTFOUND;
    }
    n->die_set = 0;
    int rc = n->service_loader(n, module, n->service_ud);
    if (!rc)
        return aempi_dict_set(&n->modules, module, n) ? AEMP_ENOMEM
                                                       : AEMP_OK;
    if (!n->die_set)
        aemp_die(n, rc == AEMP_ENOTFOUND
                        ? "Can't locate %s (you may need to install the %s "
                          "module)"
                        : "%s: loading the module failed", module, module);
    return rc;
}

/* load_func: a function not registered yet makes its packages load, the
 * innermost first ("A::B" then "A" for "A::B::f"), until it is there; a
 * package that cannot be found is no error, any other failure is. */
static int load_func(aemp_node *n, const char *name, aemp_func_cb *cb,
                     void **ud)
{
    char *pkg = strdup(name);
    if (!pkg)
        return AEMP_ENOMEM;
    int rc = AEMP_OK;
    for (;;) {
        if (aempi_kernel_func_get(n, name, cb, ud))
            break;
        char *sep = NULL;
        for (char *p = strstr(pkg, "::"); p; p = strstr(p + 2, "::"))
            sep = p;
        if (!sep || sep == pkg) { /* no package left to load */
            aemp_die(n, "unable to resolve function '%s'", name);
            rc = AEMP_ENOTFOUND;
            break;
        }
        *sep = 0;
        int r = require(n, pkg);
        if (r && r != AEMP_ENOTFOUND) {
            rc = r;
            break;
        }
    }
    free(pkg);
    return rc;
}

static int call_service(aemp_node *n, const char *name, const aemp_val *args)
{
    aemp_func_cb cb;
    void *ud;
    int rc = load_func(n, name, &cb, &ud);
    if (rc)
        return rc;
    n->die_set = 0;
    if (cb(n, args, ud)) {
        if (!n->die_set)
            aemp_die(n, "%s: function failed", name);
        return AEMP_ECONFIG;
    }
    return AEMP_OK;
}

static int run_one(aemp_node *n, const aemp_val *s)
{
    size_t len;
    const char *name = aemp_str_ptr(s, &len);
    if (name && len > 2 && !strcmp(name + len - 2, "::")) {
        char *module = strndup(name, len - 2);
        int rc = module ? require(n, module) : AEMP_ENOMEM;
        free(module);
        return rc;
    }
    if (name) {
        aemp_val *none = aemp_array();
        int rc = none ? call_service(n, name, none) : AEMP_ENOMEM;
        aemp_unref(none);
        return rc;
    }
    name = aemp_str_ptr(aemp_array_at(s, 0), NULL);
    if (aemp_type_of(s) != AEMP_ARRAY || !name) {
        aemp_die(n, "services: each service must be \"Func::name\", "
                 "[\"Func::name\", args...] or \"Module::\"");
        return AEMP_ECONFIG;
    }
    aemp_val *args = aemp_array();
    for (size_t i = 1; args && i < aemp_array_len(s); i++)
        aemp_array_push(args, aemp_ref(aemp_array_at(s, i)));
    int rc = args ? call_service(n, name, args) : AEMP_ENOMEM;
    aemp_unref(args);
    return rc;
}

int aempi_kernel_services_run(aemp_node *n)
{
    const aemp_val *list = aemp_map_get(n->config, "services");
    if (!list || aemp_type_of(list) == AEMP_NULL)
        return AEMP_OK;
    if (aemp_type_of(list) != AEMP_ARRAY) {
        aemp_die(n, "services: not a list");
        return AEMP_ECONFIG;
    }
    aemp_log_ctx(n, 9, LOG_KERNEL, "starting services.");
    for (size_t i = 0; i < aemp_array_len(list); i++) {
        int rc = run_one(n, aemp_array_at(list, i));
        if (rc)
            return rc;
    }
    return AEMP_OK;
}
