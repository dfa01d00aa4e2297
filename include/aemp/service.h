/* libaemp: services, the `services` list configure runs at its end
 * (Kernel.pm's configure), and service plugins (docs/services.md).
 *
 * The list has Perl's three forms:
 *   "Some::func"            calls the function registered under that name
 *                           (aemp_func_register) with no arguments;
 *   ["Some::func", ARGS...] calls it with ARGS;
 *   "Some::Module::"        loads the module Some::Module.
 * A C node has no @INC: it loads a module through the service loader the
 * program installs. Without one, a module fails as Perl's require of a
 * missing module does. As in Perl's load_func, a function not registered
 * yet makes the node load its package ("Some" for "Some::func") first, a
 * package that cannot be found being no error there.
 *
 * A service that cannot be found or fails makes aemp_node_configure fail
 * with Perl's message in aemp_node_errmsg ("unable to resolve function
 * 'Some::func'", or what the function or loader gave aemp_die); the node
 * then listens nowhere and has published nothing.
 */
#ifndef AEMP_SERVICE_H
#define AEMP_SERVICE_H

#include "aemp/export.h"

#include "aemp/node.h"
#include "aemp/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Loads the module named module ("KV::Service", without the trailing
 * "::"). Return 0 when it is loaded, AEMP_ENOTFOUND when there is no such
 * module, another AEMP_E* code when loading it failed; say why with
 * aemp_die (Perl's "Can't locate ..." or the module's own die). The node
 * calls it once per module: a module loaded stays loaded, as in %INC. */
typedef int (*aemp_service_loader)(aemp_node *node, const char *module,
                                   void *ud);

/* Installs the loader configure uses for "Module::" services (fn NULL:
 * none). Call before aemp_node_configure. */
AEMP_API int aemp_node_set_service_loader(aemp_node *node,
                                          aemp_service_loader fn, void *ud);

/* ---- plugins (caemp run; docs/services.md) ----
 *
 * A service plugin is a shared object that defines, with default
 * visibility, the function named by AEMP_SERVICE_INIT, of this type:
 *
 *     AEMP_SERVICE_EXPORT int aemp_service_init(aemp_node *node,
 *                                               const char *module);
 *
 * It runs once when the module is loaded, as a Perl module's top-level
 * code runs on require: it registers the module's named functions,
 * creates its ports, registers them in the database. Return 0, or
 * non-zero after aemp_die(node, WHY) to make configure fail. The plugin
 * does not define it for libaemp, so this header declares only its type:
 * the plugin calls libaemp's functions in the program that loads it. */
typedef int (*aemp_service_init_fn)(aemp_node *node, const char *module);

#define AEMP_SERVICE_INIT "aemp_service_init"

#if defined(__GNUC__)
#define AEMP_SERVICE_EXPORT __attribute__((visibility("default")))
#else
#define AEMP_SERVICE_EXPORT
#endif

#ifdef __cplusplus
}
#endif

#endif
