/* caemp: the service loader of caemp run (docs/services.md). A module
 * "KV::Service::" of the services list is the plugin KV/Service.so, the
 * path of KV/Service.pm on Perl's @INC with .so for .pm, found in the
 * directories of the rc key service_path and then in the installed
 * plugins' directory. Its aemp_service_init registers what the module
 * offers, as a Perl module's top-level code does on require.
 *
 * Plugins stay loaded until the process ends: the functions and ports
 * they registered live as long as the node. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aemp/aemp.h"
#include "caemp.h"

/* $libdir/aemp/services of the installation, from meson */
#ifndef CAEMP_SERVICE_DIR
#error "CAEMP_SERVICE_DIR: the installed plugins' directory is not set"
#endif

/* A Perl package name: words of [A-Za-z0-9_] joined by "::", nothing that
 * could leave the search path's directories. */
static int valid_module(const char *m)
{
    const char *p = m;
    for (;;) {
        size_t w = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                             "vwxyz0123456789_");
        if (!w)
            return 0;
        p += w;
        if (!*p)
            return 1;
        if (strncmp(p, "::", 2))
            return 0;
        p += 2;
    }
}

#ifndef CAEMP_STATIC
/* "KV::Service" -> "KV/Service.so" */
static char *plugin_file(const char *module)
{
    char *f = malloc(strlen(module) + 4);
    if (!f)
        return NULL;
    char *o = f;
    for (const char *p = module; *p;) {
        if (!strncmp(p, "::", 2)) {
            *o++ = '/';
            p += 2;
        } else
            *o++ = *p++;
    }
    strcpy(o, ".so");
    return f;
}

/* The directories to search: service_path's (a list, or one string),
 * then the installed one. */
static aemp_val *search_path(aemp_node *node)
{
    const aemp_val *cfg = aemp_map_get(aemp_node_config(node),
                                       "service_path");
    aemp_val *dirs = aemp_array();
    if (aemp_str_ptr(cfg, NULL))
        aemp_array_push(dirs, aemp_ref((aemp_val *)cfg));
    for (size_t i = 0; i < aemp_array_len(cfg); i++)
        if (aemp_str_ptr(aemp_array_at(cfg, i), NULL))
            aemp_array_push(dirs, aemp_ref(aemp_array_at(cfg, i)));
    aemp_array_push(dirs, aemp_str(CAEMP_SERVICE_DIR));
    return dirs;
}

/* Loads path and runs its entry point. */
static int load_plugin(aemp_node *node, const char *module, const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        aemp_die(node, "%s: cannot load the service plugin: %s", path,
                 dlerror());
        return AEMP_EIO;
    }
    aemp_service_init_fn init;
    /* ISO C has no cast from void * to a function pointer; POSIX's way */
    *(void **)&init = dlsym(h, AEMP_SERVICE_INIT);
    if (!init) {
        aemp_die(node, "%s: not a service plugin (no %s)", path,
                 AEMP_SERVICE_INIT);
        dlclose(h);
        return AEMP_EIO;
    }
    /* it says why with aemp_die; whatever it returns, a module that was
     * found and failed is not a missing one (load_func passes over
     * those) */
    return init(node, module) ? AEMP_ECONFIG : AEMP_OK;
}

static int find_and_load(aemp_node *node, const char *module)
{
    char *file = plugin_file(module);
    aemp_val *dirs = search_path(node);
    int rc = AEMP_ENOTFOUND;
    size_t cap = 64;
    for (size_t i = 0; i < aemp_array_len(dirs); i++)
        cap += strlen(aemp_str_ptr(aemp_array_at(dirs, i), NULL)) + 1;
    char *seen = calloc(1, cap);
    for (size_t i = 0; file && seen && i < aemp_array_len(dirs); i++) {
        const char *dir = aemp_str_ptr(aemp_array_at(dirs, i), NULL);
        strcat(strcat(seen, i ? " " : ""), dir);
        size_t len = strlen(dir) + strlen(file) + 2;
        char *path = malloc(len);
        if (!path)
            break;
        snprintf(path, len, "%s/%s", dir, file);
        if (access(path, F_OK) == 0) {
            rc = load_plugin(node, module, path);
            free(path);
            break;
        }
        free(path);
    }
    if (rc == AEMP_ENOTFOUND)
        /* Perl's require: "Can't locate KV/Service.pm in @INC (...)" */
        aemp_die(node, "Can't locate %s in the service path (you may need "
                 "to install the %s module) (service path contains: %s)",
                 file ? file : module, module, seen ? seen : "");
    free(seen);
    free(file);
    aemp_unref(dirs);
    return rc;
}
#endif

int caemp_service_loader(aemp_node *node, const char *module, void *ud)
{
    (void)ud;
    if (!valid_module(module)) {
        aemp_die(node, "%s: not a module name", module);
        return AEMP_EINVAL;
    }
#ifdef CAEMP_STATIC
    /* a static program has no dynamic symbols for a plugin to use */
    aemp_die(node, "Can't load %s: this caemp is linked statically and "
             "cannot load service plugins", module);
    return AEMP_ENOTFOUND;
#else
    return find_and_load(node, module);
#endif
}

