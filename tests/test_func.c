/* Named functions, spawn, cal (with and without timeout), after,
 * mon_guard, peval and secure mode. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "testutil.h"

static struct event_base *base;

typedef struct seen {
    int calls;
    aemp_val *last;
    char self[256];
    char src[256];
    char logs[4096];
} seen;

static void capture_log(int level, const char *ctx, const char *msg, void *ud)
{
    (void)level;
    (void)ctx;
    seen *s = ud;
    size_t used = strlen(s->logs);
    snprintf(s->logs + used, sizeof s->logs - used, "%s\n", msg);
}

static aemp_node *make_node(const char *id, int secure, seen *logs,
                            const char *seed)
{
    aemp_node *n = aemp_node_new(base);
    aemp_node_set_log(n, logs ? 9 : 0, logs ? capture_log : NULL, logs);
    aemp_val *args = aemp_map();
    aemp_map_set(args, "norc", aemp_int(1));
    aemp_map_set(args, "nodeid", aemp_str(id));
    aemp_map_set(args, "secret", aemp_str("s"));
    aemp_map_set(args, "secure", aemp_int(secure));
    aemp_map_set(args, "binds", aemp_arrayv(aemp_str("127.0.0.1:*"), NULL));
    if (seed)
        aemp_map_set(args, "seeds", aemp_arrayv(aemp_str(seed), NULL));
    ck_assert_int_eq(aemp_node_configure(n, args, NULL), 0);
    aemp_unref(args);
    return n;
}

static void run_until(int *flag, double seconds)
{
    for (int i = 0; i < (int)(seconds * 100) && !*flag; i++) {
        struct timeval tv = {0, 10000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
}

static void note(seen *s, const aemp_val *v)
{
    s->calls++;
    aemp_unref(s->last);
    s->last = v ? aemp_copy(v) : NULL;
}

static int json_is(const aemp_val *v, const char *want)
{
    char *j = aemp_to_json(v, NULL);
    int ok = j && !strcmp(j, want);
    if (!ok)
        fprintf(stderr, "got %s want %s\n", j ? j : "(null)", want);
    free(j);
    return ok;
}

static int my_func(aemp_node *n, const aemp_val *args, void *ud)
{
    seen *s = ud;
    note(s, args);
    snprintf(s->src, sizeof s->src, "%s", aemp_srcnode(n));
    return 0;
}

static int record(aemp_node *n, const char *port, const aemp_val *msg,
                  void *ud)
{
    (void)n;
    (void)port;
    note(ud, msg);
    return 0;
}

/* spawn's init: makes the port $SELF with a tag "hi" */
static int init_port(aemp_node *n, const aemp_val *args, void *ud)
{
    seen *s = ud;
    note(s, args);
    snprintf(s->self, sizeof s->self, "%s", aemp_self(n));
    return aemp_rcv(n, aemp_self(n), "hi", record, s);
}

/* makes its port, has it watched, then fails: the port dies with the
 * reason */
static seen init_fail_mon;
static void mon_record(aemp_node *n, const char *port, const aemp_val *reason,
                       void *ud);

static int init_fails(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)args;
    (void)ud;
    aemp_rcv(n, aemp_self(n), "hi", record, NULL);
    aemp_mon(n, aemp_self(n), mon_record, &init_fail_mon);
    aemp_die(n, "init refused");
    return 1;
}

static void mon_record(aemp_node *n, const char *port, const aemp_val *reason,
                       void *ud)
{
    (void)n;
    (void)port;
    note(ud, reason);
}

static void cal_record(aemp_node *n, const aemp_val *reply, void *ud)
{
    (void)n;
    note(ud, reply);
}

static int answer(aemp_node *n, const char *port, const aemp_val *msg,
                  void *ud)
{
    (void)port;
    (void)ud;
    /* ["ask", X, REPLY] */
    aemp_sndv(n, aemp_str_ptr(aemp_array_at(msg, 2), NULL), aemp_str("answer"),
              aemp_copy(aemp_array_at(msg, 1)), NULL);
    return 0;
}

static void setup(void)
{
    base = event_base_new();
}

static void teardown(void)
{
    event_base_free(base);
}

START_TEST(test_functions_and_spawn)
{
    seen fn = {0}, logs = {0};
    aemp_node *b = make_node("fb", 0, &logs, NULL);
    const char *addr = aemp_str_ptr(aemp_array_at(aemp_node_binds(b), 0), NULL);
    aemp_node *a = make_node("fa", 0, NULL, addr);
    aemp_func_register(b, "My::func", my_func, &fn);

    /* a function call from another node */
    aemp_snd_to_func(a, "fb", "My::func", aemp_arrayv(aemp_int(1),
                                                      aemp_str("x"), NULL));
    run_until(&fn.calls, 5);
    ck_assert(json_is(fn.last, "[1,\"x\"]"));
    ck_assert_str_eq(fn.src, "fa");

    /* spawn: the port exists with the id returned at once */
    seen init = {0}, msgs = {0};
    aemp_func_register(b, "My::init", init_port, &init);
    init.last = NULL;
    char *port = aemp_spawn(a, "fb", "My::init", aemp_arrayv(aemp_int(42),
                                                             NULL));
    ck_assert_ptr_nonnull(port);
    ck_assert_int_eq(strncmp(port, "fb#", 3), 0);
    run_until(&init.calls, 5);
    ck_assert_str_eq(init.self, port);
    ck_assert(json_is(init.last, "[42]"));
    aemp_rcv(b, port, "hi", record, &msgs);
    aemp_sndv(a, port, aemp_str("hi"), aemp_int(1), NULL);
    run_until(&msgs.calls, 5);
    ck_assert(json_is(msgs.last, "[\"hi\",1]"));

    /* an init function that fails kills the port; an unknown one too */
    seen died = {0}, unknown = {0};
    aemp_func_register(b, "My::bad", init_fails, NULL);
    char *bad = aemp_spawn(a, "fb", "My::bad", NULL);
    aemp_mon(a, bad, mon_record, &died);
    run_until(&died.calls, 5);
    /* as in Perl, the spawn runs as its request arrives and the kill is
     * delayed: the mon1 behind it finds the port and sees it die */
    ck_assert(json_is(died.last, "[\"die\",\"init refused\"]"));
    run_until(&init_fail_mon.calls, 5);
    ck_assert(json_is(init_fail_mon.last, "[\"die\",\"init refused\"]"));
    aemp_unref(init_fail_mon.last);
    char *nothing = aemp_spawn(a, "fb", "No::Such::init", NULL);
    aemp_mon(a, nothing, mon_record, &unknown);
    run_until(&unknown.calls, 5);
    ck_assert_str_eq(aemp_str_ptr(aemp_array_at(unknown.last, 0), NULL),
                     "no_such_port"); /* gone before b could watch it */
    ck_assert_ptr_null(aemp_spawn(a, "fb", "nocolons", NULL));

    /* an unknown function is logged, the link stays */
    aemp_snd_to_func(a, "fb", "No::Such::func", NULL);
    for (int i = 0; i < 100 && !strstr(logs.logs, "unable to resolve"); i++)
        run_until(&i, 0.01);
    ck_assert_ptr_nonnull(
        strstr(logs.logs, "unable to resolve function 'No::Such::func'"));
    ck_assert_int_eq(aemp_node_is_up(a, "fb"), 1);

    aemp_unref(fn.last);
    aemp_unref(init.last);
    aemp_unref(msgs.last);
    aemp_unref(died.last);
    aemp_unref(unknown.last);
    free(port);
    free(bad);
    free(nothing);
    aemp_node_free(a);
    aemp_node_free(b);
}
END_TEST

START_TEST(test_cal)
{
    aemp_node *n = make_node("solo", 0, NULL, NULL);
    char *srv = aemp_port(n, answer, NULL);
    seen r = {0};
    char *reply = aemp_cal(n, srv, aemp_arrayv(aemp_str("ask"), aemp_int(5),
                                               NULL),
                           1.0, cal_record, &r);
    ck_assert_ptr_nonnull(reply);
    run_until(&r.calls, 3);
    ck_assert(json_is(r.last, "[\"answer\",5]"));
    free(reply);

    /* timeout: cb with NULL, reply port killed */
    seen muted = {0};
    char *mute = aemp_port(n, record, &muted);
    seen t = {0};
    reply = aemp_cal(n, mute, aemp_arrayv(aemp_str("ask"), NULL), 0.2,
                     cal_record, &t);
    run_until(&t.calls, 3);
    ck_assert_int_eq(t.calls, 1);
    ck_assert_ptr_null(t.last);
    seen gone = {0};
    aemp_mon(n, reply, mon_record, &gone);
    run_until(&gone.calls, 2);
    ck_assert_str_eq(aemp_str_ptr(aemp_array_at(gone.last, 0), NULL),
                     "no_such_port");
    free(reply);

    /* no timeout: the target dies first */
    seen d = {0};
    reply = aemp_cal(n, mute, aemp_arrayv(aemp_str("ask"), NULL), -1,
                     cal_record, &d);
    aemp_kil(n, mute, aemp_arrayv(aemp_str("shot"), NULL));
    run_until(&d.calls, 3);
    ck_assert_int_eq(d.calls, 1);
    ck_assert_ptr_null(d.last);
    /* no second call later */
    run_until(&d.calls, 0.2);
    ck_assert_int_eq(d.calls, 1);
    aemp_unref(r.last);
    aemp_unref(gone.last);
    aemp_unref(muted.last);
    free(reply);
    free(srv);
    free(mute);
    aemp_node_free(n);
}
END_TEST

static void after_cb(aemp_node *n, void *ud)
{
    (void)n;
    ((seen *)ud)->calls++;
}

static void release_cb(void *data)
{
    ((seen *)data)->calls++;
}

static int failing_eval(aemp_node *n, void *ud)
{
    (void)ud;
    ck_assert_ptr_nonnull(aemp_self(n));
    aemp_die(n, "peval failed");
    return 1;
}

START_TEST(test_after_guard_peval)
{
    aemp_node *n = make_node("solo", 0, NULL, NULL);
    seen a = {0}, c = {0}, got = {0};
    aemp_after(n, 0.05, after_cb, &a);
    aemp_timer_id cancelled = aemp_after(n, 0.05, after_cb, &c);
    aemp_after_cancel(n, cancelled);
    char *inbox = aemp_port(n, record, &got);
    aemp_after_snd(n, 0.05, inbox, aemp_arrayv(aemp_str("tick"), NULL));
    run_until(&got.calls, 2);
    run_until(&a.calls, 2);
    ck_assert_int_eq(a.calls, 1);
    ck_assert_int_eq(c.calls, 0);
    ck_assert(json_is(got.last, "[\"tick\"]"));

    seen released = {0}, died = {0};
    char *p = aemp_port(n, record, &got);
    aemp_mon_guard(n, p, release_cb, &released);
    aemp_mon(n, p, mon_record, &died);
    ck_assert_int_eq(aemp_peval(n, p, failing_eval, NULL), 1);
    run_until(&died.calls, 2);
    ck_assert(json_is(died.last, "[\"die\",\"peval failed\"]"));
    run_until(&released.calls, 1);
    ck_assert_int_eq(released.calls, 1);
    aemp_unref(got.last);
    aemp_unref(died.last);
    free(inbox);
    free(p);
    aemp_node_free(n);
}
END_TEST

START_TEST(test_secure)
{
    seen logs = {0}, fn = {0};
    aemp_node *b = make_node("sb", 1, &logs, NULL);
    const char *addr = aemp_str_ptr(aemp_array_at(aemp_node_binds(b), 0), NULL);
    aemp_node *a = make_node("sa", 0, NULL, addr);
    aemp_func_register(b, "My::func", my_func, &fn);
    aemp_func_register(b, "My::init", init_port, &fn);
    aemp_snd_to_func(a, "sb", "Not::registered", NULL);
    aemp_sndv(a, "sb", aemp_str("eval"), aemp_str("1+1"), NULL);
    char *p = aemp_spawn(a, "sb", "My::init", NULL);
    aemp_snd_to_func(a, "sb", "My::func", aemp_arrayv(aemp_int(1), NULL));
    run_until(&fn.calls, 5);
    /* registered functions run; the rest is refused and logged */
    ck_assert_int_eq(fn.calls, 1);
    ck_assert(json_is(fn.last, "[1]"));
    const char *s = logs.logs;
    int refused = 0;
    while ((s = strstr(s, "remote execution not allowed"))) {
        refused++;
        s++;
    }
    ck_assert_int_eq(refused, 3); /* function, eval, spawn */
    ck_assert_int_eq(aemp_node_is_up(a, "sb"), 1);
    aemp_unref(fn.last);
    free(p);
    aemp_node_free(a);
    aemp_node_free(b);
}
END_TEST

/* snd_on and eval_on: requests to another node's node port, ["", "snd",
 * PORT, @msg] and ["", "eval", CODE, @reply] */
START_TEST(test_snd_on_eval_on)
{
    aemp_node *b = make_node("ob", 0, NULL, NULL);
    const char *addr = aemp_str_ptr(aemp_array_at(aemp_node_binds(b), 0), NULL);
    aemp_node *a = make_node("oa", 0, NULL, addr);
    seen got = {0};
    char *inbox = aemp_port(a, record, &got);

    /* b relays to a's port, which b reaches over its own link */
    ck_assert_int_eq(aemp_snd_on(a, "ob", inbox,
                                 aemp_arrayv(aemp_str("relayed"),
                                             aemp_int(7), NULL)),
                     AEMP_OK);
    run_until(&got.calls, 5);
    ck_assert(json_is(got.last, "[\"relayed\",7]"));
    /* no message: an empty one */
    got.calls = 0;
    ck_assert_int_eq(aemp_snd_on(a, "oa", inbox, NULL), AEMP_OK);
    run_until(&got.calls, 5);
    ck_assert(json_is(got.last, "[]"));

    /* a C node cannot evaluate Perl: "$@" is an error text, no results;
     * the reply's leading values come first */
    got.calls = 0;
    ck_assert_int_eq(aemp_eval_on(a, "ob", "1+1",
                                  aemp_arrayv(aemp_str(inbox),
                                              aemp_str("ev"), NULL)),
                     AEMP_OK);
    run_until(&got.calls, 5);
    ck_assert_int_eq(aemp_array_len(got.last), 2);
    ck_assert_str_eq(aemp_str_ptr(aemp_array_at(got.last, 0), NULL), "ev");
    ck_assert_ptr_nonnull(strstr(aemp_str_ptr(aemp_array_at(got.last, 1),
                                              NULL),
                                 "cannot evaluate Perl"));

    /* bad arguments are refused, message and reply released */
    ck_assert_int_eq(aemp_snd_on(NULL, "ob", inbox, NULL), AEMP_EINVAL);
    ck_assert_int_eq(aemp_snd_on(a, "ob#p", inbox, aemp_array()),
                     AEMP_EINVAL);
    ck_assert_int_eq(aemp_snd_on(a, "ob", NULL, aemp_array()), AEMP_EINVAL);
    ck_assert_int_eq(aemp_snd_on(a, "ob", "", NULL), AEMP_EINVAL);
    ck_assert_int_eq(aemp_snd_on(a, "ob", inbox, aemp_int(1)), AEMP_EINVAL);
    ck_assert_int_eq(aemp_eval_on(NULL, "ob", "1", NULL), AEMP_EINVAL);
    ck_assert_int_eq(aemp_eval_on(a, "", "1", aemp_array()), AEMP_EINVAL);
    ck_assert_int_eq(aemp_eval_on(a, "ob", NULL, aemp_array()), AEMP_EINVAL);
    ck_assert_int_eq(aemp_eval_on(a, "ob", "1", aemp_str("x")), AEMP_EINVAL);

    aemp_unref(got.last);
    free(inbox);
    aemp_node_free(a);
    aemp_node_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("func");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_functions_and_spawn);
    tcase_add_test(tc, test_cal);
    tcase_add_test(tc, test_after_guard_peval);
    tcase_add_test(tc, test_secure);
    tcase_add_test(tc, test_snd_on_eval_on);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
