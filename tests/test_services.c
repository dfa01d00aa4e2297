/* The services list configure runs at its end (Kernel.pm configure): its
 * three forms, load_func's loading of a function's package, and every way
 * a service fails: configure fails with Perl's message and leaves no
 * listener open. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "kernel.h"
#include "testutil.h"

static struct event_base *base;

typedef struct calls {
    char log[1024]; /* "name args;" for each call, in order */
} calls;

static void record(calls *c, const char *what, const aemp_val *args)
{
    char *j = args ? aemp_to_json(args, NULL) : NULL;
    size_t used = strlen(c->log);
    snprintf(c->log + used, sizeof c->log - used, "%s%s%s;", what,
             j ? " " : "", j ? j : "");
    free(j);
}

static int svc_ok(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)n;
    record(ud, "ok", args);
    return 0;
}

static int svc_die(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)args;
    (void)ud;
    aemp_die(n, "kv store is corrupt");
    return 1;
}

static int svc_fail(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)n;
    (void)args;
    (void)ud;
    return 1;
}

/* A loader with three modules: "Good::Mod" registers Good::Mod::start,
 * "Broken::Mod" fails to load, anything else is not there. */
static int loader(aemp_node *n, const char *module, void *ud)
{
    record(ud, module, NULL);
    if (!strcmp(module, "Good::Mod"))
        return aemp_func_register(n, "Good::Mod::start", svc_ok, ud);
    if (!strcmp(module, "Broken::Mod")) {
        aemp_die(n, "syntax error at Broken/Mod line 1");
        return AEMP_EIO;
    }
    return AEMP_ENOTFOUND;
}

/* A node whose configure runs services (a JSON list); returns configure's
 * result, the node in *out. */
static int configure(const char *services, calls *c, int with_loader,
                     aemp_node **out)
{
    aemp_node *n = aemp_node_new(base);
    aemp_node_set_log(n, 0, NULL, NULL);
    aemp_func_register(n, "My::ok", svc_ok, c);
    aemp_func_register(n, "My::die", svc_die, c);
    aemp_func_register(n, "My::fail", svc_fail, c);
    if (with_loader)
        aemp_node_set_service_loader(n, loader, c);
    aemp_val *args = aemp_map();
    aemp_map_set(args, "norc", aemp_int(1));
    aemp_map_set(args, "nodeid", aemp_str("svc"));
    aemp_map_set(args, "secret", aemp_str("s"));
    aemp_map_set(args, "binds", aemp_arrayv(aemp_str("127.0.0.1:*"), NULL));
    aemp_map_set(args, "services",
                 aemp_from_json(services, strlen(services), NULL));
    int rc = aemp_node_configure(n, args, NULL);
    aemp_unref(args);
    *out = n;
    return rc;
}

/* configure failed with errmsg want, and the node listens nowhere */
static void check_fails(const char *services, int with_loader,
                        const char *want)
{
    calls c = {{0}};
    aemp_node *n;
    ck_assert_int_ne(configure(services, &c, with_loader, &n), 0);
    ck_assert_str_eq(aemp_node_errmsg(n), want);
    ck_assert_uint_eq(n->nlisteners, 0);
    ck_assert_uint_eq(aemp_array_len(aemp_node_binds(n)), 0);
    aemp_node_free(n);
}

static void setup(void)
{
    base = event_base_new();
}

static void teardown(void)
{
    event_base_free(base);
}

START_TEST(test_forms)
{
    calls c = {{0}};
    aemp_node *n;
    int rc = configure("[\"My::ok\", [\"My::ok\", 1, \"x\"], "
                       "\"Good::Mod::\", \"Good::Mod::start\", "
                       "\"Good::Mod::\"]", &c, 1, &n);
    ck_assert_msg(rc == 0, "configure: %s", aemp_node_errmsg(n));
    /* in order; the module loads once, as require does */
    ck_assert_str_eq(c.log, "ok [];ok [1,\"x\"];Good::Mod;ok [];");
    ck_assert_uint_eq(n->nlisteners, 1);
    aemp_node_free(n);
}
END_TEST

START_TEST(test_load_func)
{
    /* a function not registered makes its package load, as load_func */
    calls c = {{0}};
    aemp_node *n;
    int rc = configure("[[\"Good::Mod::start\", 7]]", &c, 1, &n);
    ck_assert_msg(rc == 0, "configure: %s", aemp_node_errmsg(n));
    ck_assert_str_eq(c.log, "Good::Mod;ok [7];");
    aemp_node_free(n);
    /* packages that are not there are no error, the function's absence is */
    memset(&c, 0, sizeof c);
    ck_assert_int_ne(configure("[\"No::Such::func\"]", &c, 1, &n), 0);
    ck_assert_str_eq(c.log, "No::Such;No;");
    ck_assert_str_eq(aemp_node_errmsg(n),
                     "unable to resolve function 'No::Such::func'");
    aemp_node_free(n);
}
END_TEST

START_TEST(test_failures)
{
    check_fails("[\"My::ok\", \"My::missing\"]", 0,
                "unable to resolve function 'My::missing'");
    check_fails("[[\"My::die\", 1]]", 0, "kv store is corrupt");
    check_fails("[\"My::fail\"]", 0, "My::fail: function failed");
    check_fails("[\"KV::Service::\"]", 0,
                "Can't locate KV::Service (you may need to install the "
                "KV::Service module) (this program has no service loader)");
    check_fails("[\"KV::Service::\"]", 1,
                "Can't locate KV::Service (you may need to install the "
                "KV::Service module)");
    check_fails("[\"Broken::Mod::\"]", 1,
                "syntax error at Broken/Mod line 1");
    /* load_func passes on a failure other than "not found" */
    check_fails("[\"Broken::Mod::f\"]", 1,
                "syntax error at Broken/Mod line 1");
    check_fails("[\"::f\"]", 1, "unable to resolve function '::f'");
    check_fails("{\"a\":1}", 0, "services: not a list");
    check_fails("[42]", 0, "services: each service must be \"Func::name\", "
                "[\"Func::name\", args...] or \"Module::\"");
    check_fails("[[]]", 0, "services: each service must be \"Func::name\", "
                "[\"Func::name\", args...] or \"Module::\"");
}
END_TEST

START_TEST(test_no_services)
{
    calls c = {{0}};
    aemp_node *n;
    ck_assert_int_eq(configure("[]", &c, 0, &n), 0);
    aemp_node_free(n);
    ck_assert_int_eq(configure("null", &c, 0, &n), 0);
    aemp_node_free(n);
    ck_assert_int_eq(aemp_node_set_service_loader(NULL, loader, NULL),
                     AEMP_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("services");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_forms);
    tcase_add_test(tc, test_load_func);
    tcase_add_test(tc, test_failures);
    tcase_add_test(tc, test_no_services);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
