/* The argument contract of the public API (docs/api.md): every function
 * declared in include/aemp/ takes NULL, "" and garbage without crashing
 * and answers with the documented error; a taken value is released even
 * then (ASan's leak check sees it). Inside a port's context a refused
 * call kills the port as Perl's croak would, with Perl's text, and the
 * node goes on. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "testutil.h"

#define BAD_ID "'undef' or the empty string are not valid node/port IDs"

static struct event_base *base;

static aemp_node *make_node(const char *id)
{
    aemp_node *n = aemp_node_new(base);
    ck_assert_ptr_nonnull(n);
    aemp_node_set_log(n, 0, NULL, NULL);
    aemp_val *args = aemp_map();
    aemp_map_set(args, "norc", aemp_int(1));
    aemp_map_set(args, "nodeid", aemp_str(id));
    aemp_map_set(args, "secret", aemp_str("s"));
    aemp_map_set(args, "binds", aemp_arrayv(aemp_str("127.0.0.1:*"), NULL));
    ck_assert_int_eq(aemp_node_configure(n, args, NULL), AEMP_OK);
    aemp_unref(args);
    return n;
}

static void run_until(int *flag, double seconds)
{
    test_run_until(base, flag, seconds);
}

/* runs the loop once for a short while: queued jobs run */
static void settle(void)
{
    int never = 0;
    run_until(&never, 0.05);
}

static int ignore_msg(aemp_node *n, const char *port, const aemp_val *msg,
                      void *ud)
{
    (void)n, (void)port, (void)msg, (void)ud;
    return 0;
}

static void ignore_mon(aemp_node *n, const char *port, const aemp_val *reason,
                       void *ud)
{
    (void)n, (void)port, (void)reason, (void)ud;
}

static void ignore_reply(aemp_node *n, const aemp_val *reply, void *ud)
{
    (void)n, (void)reply, (void)ud;
}

static void ignore_after(aemp_node *n, void *ud)
{
    (void)n, (void)ud;
}

static void ignore_release(void *data)
{
    (void)data;
}

static int ignore_func(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)n, (void)args, (void)ud;
    return 0;
}

static void ignore_db(aemp_node *n, const char *family, const aemp_val *r,
                      void *ud)
{
    (void)n, (void)family, (void)r, (void)ud;
}

static void ignore_db_mon(aemp_node *n, const char *family,
                          const aemp_val *db, const aemp_val *a,
                          const aemp_val *c, const aemp_val *d, void *ud)
{
    (void)n, (void)family, (void)db, (void)a, (void)c, (void)d, (void)ud;
}

static void ignore_node(aemp_node *n, const char *id, int up,
                        const aemp_val *reason, void *ud)
{
    (void)n, (void)id, (void)up, (void)reason, (void)ud;
}

static int peval_calls;

static int count_peval(aemp_node *n, void *ud)
{
    (void)n, (void)ud;
    peval_calls++;
    return 0;
}

static aemp_val *msg1(void)
{
    return aemp_arrayv(aemp_str("x"), NULL);
}

static void setup(void)
{
    base = event_base_new();
}

static void teardown(void)
{
    event_base_free(base);
}

/* ---- a NULL node handle ---- */

START_TEST(test_null_node)
{
    ck_assert_ptr_null(aemp_node_new(NULL));
    aemp_val *args = aemp_map();
    ck_assert_int_eq(aemp_node_configure(NULL, args, NULL), AEMP_EINVAL);
    aemp_unref(args);
    aemp_node_free(NULL);
    ck_assert_ptr_null(aemp_node_id(NULL));
    ck_assert_ptr_null(aemp_node_config(NULL));
    ck_assert_ptr_null(aemp_node_binds(NULL));
    ck_assert_ptr_nonnull(aemp_node_errmsg(NULL));
    aemp_node_set_log(NULL, 9, NULL, NULL);
    aemp_node_set_log_sink(NULL, NULL, NULL);
    ck_assert_uint_eq(aemp_node_unsent(NULL), 0);
    aemp_node_set_trace(NULL, 1);
    ck_assert_int_eq(aemp_node_set_busy_poll(NULL, 10), AEMP_EINVAL);

    ck_assert_ptr_null(aemp_port(NULL, ignore_msg, NULL));
    ck_assert_int_eq(aemp_rcv(NULL, "a#b", "t", ignore_msg, NULL), AEMP_EINVAL);
    aemp_die(NULL, "x");
    ck_assert_ptr_null(aemp_self(NULL));
    ck_assert_ptr_null(aemp_srcnode(NULL));
    ck_assert_int_eq(aemp_port_is_local(NULL, "a#b"), 0);

    /* every value handed over is released (ASan's leak check) */
    ck_assert_int_eq(aemp_snd(NULL, "a#b", msg1()), AEMP_EINVAL);
    ck_assert_int_eq(aemp_sndv(NULL, "a#b", aemp_str("x"), aemp_int(1), NULL),
                     AEMP_EINVAL);
    ck_assert_int_eq(aemp_kil(NULL, "a#b", msg1()), AEMP_EINVAL);
    ck_assert_uint_eq(aemp_mon(NULL, "a#b", ignore_mon, NULL).id, 0);
    ck_assert_uint_eq(aemp_mon_kil(NULL, "a#b", "a#c").id, 0);
    ck_assert_uint_eq(aemp_mon_snd(NULL, "a#b", "a#c", msg1()).id, 0);
    aemp_mon_cancel(NULL, (aemp_port_mon_id){1});
    ck_assert_int_eq(aemp_node_is_up(NULL, "a"), -1);
    ck_assert_ptr_null(aemp_node_last_error(NULL, "a"));
    ck_assert_ptr_null(aemp_up_nodes(NULL));
    ck_assert_uint_eq(aemp_mon_nodes(NULL, ignore_node, NULL).id, 0);
    aemp_mon_nodes_cancel(NULL, (aemp_node_mon_id){1});

    ck_assert_uint_eq(aemp_db_set(NULL, "f", "k", aemp_int(1)).id, 0);
    aemp_db_release(NULL, (aemp_db_handle){1});
    ck_assert_int_eq(aemp_db_del(NULL, "f", "k"), AEMP_EINVAL);
    ck_assert_uint_eq(aemp_db_reg(NULL, "f", "a#b", aemp_int(1)).id, 0);
    ck_assert_int_eq(aemp_db_family(NULL, "f", ignore_db, NULL), AEMP_EINVAL);
    ck_assert_int_eq(aemp_db_keys(NULL, "f", ignore_db, NULL), AEMP_EINVAL);
    ck_assert_int_eq(aemp_db_values(NULL, "f", ignore_db, NULL), AEMP_EINVAL);
    ck_assert_uint_eq(aemp_db_mon(NULL, "f", ignore_db_mon, NULL).id, 0);
    aemp_db_mon_cancel(NULL, (aemp_db_mon_id){1});
    ck_assert_ptr_null(aemp_node_master(NULL));

    ck_assert_int_eq(aemp_func_register(NULL, "A::b", ignore_func, NULL),
                     AEMP_EINVAL);
    ck_assert_int_eq(aemp_node_set_service_loader(NULL, NULL, NULL),
                     AEMP_EINVAL);
    ck_assert_int_eq(aemp_snd_to_func(NULL, "a", "A::b", msg1()), AEMP_EINVAL);
    ck_assert_ptr_null(aemp_spawn(NULL, "a", "A::b", msg1()));
    ck_assert_ptr_null(aemp_cal(NULL, "a#b", msg1(), 1, ignore_reply, NULL));
    ck_assert_uint_eq(aemp_after(NULL, 1, ignore_after, NULL).id, 0);
    ck_assert_uint_eq(aemp_after_snd(NULL, 1, "a#b", msg1()).id, 0);
    aemp_after_cancel(NULL, (aemp_timer_id){1});
    ck_assert_uint_eq(aemp_mon_guard(NULL, "a#b", ignore_release, NULL).id, 0);
    ck_assert_int_eq(aemp_peval(NULL, "a#b", count_peval, NULL), AEMP_EINVAL);
    ck_assert_int_eq(peval_calls, 0);
}
END_TEST

/* ---- values ---- */

START_TEST(test_values)
{
    aemp_val *v = aemp_str(NULL); /* a NULL string is undef, as in Perl */
    ck_assert_int_eq(aemp_type_of(v), AEMP_NULL);
    aemp_unref(v);
    v = aemp_strn(NULL, 3);
    ck_assert_int_eq(aemp_type_of(v), AEMP_NULL);
    aemp_unref(v);
    v = aemp_strn(NULL, 0);
    ck_assert_int_eq(aemp_type_of(v), AEMP_STRING);
    aemp_unref(v);
    const char *volatile nofmt = NULL;
    v = aemp_strf(nofmt, 1);
    ck_assert_int_eq(aemp_type_of(v), AEMP_NULL);
    aemp_unref(v);

    v = aemp_str("abc");
    ck_assert_int_eq(aemp_str_eq(v, NULL), 0);
    ck_assert_int_eq(aemp_str_eq(NULL, "abc"), 0);
    ck_assert_ptr_null(aemp_str_ptr(NULL, NULL));
    ck_assert_uint_eq(aemp_array_len(v), 0);
    ck_assert_ptr_null(aemp_array_at(v, 0));
    ck_assert_int_eq(aemp_array_push(v, aemp_int(1)), AEMP_EINVAL);
    ck_assert_ptr_null(aemp_array_take(v, 0));
    aemp_array_shift(v, 3);
    ck_assert_uint_eq(aemp_map_len(v), 0);
    ck_assert_ptr_null(aemp_map_key_at(v, 0, NULL));
    ck_assert_ptr_null(aemp_map_value_at(v, 0));
    ck_assert_int_eq(aemp_map_set(v, "k", aemp_int(1)), AEMP_EINVAL);
    aemp_unref(v);

    ck_assert_ptr_null(aemp_arrayn(2, NULL));
    v = aemp_arrayn(0, NULL);
    ck_assert_uint_eq(aemp_array_len(v), 0);
    aemp_unref(v);
    aemp_val *m = aemp_map();
    ck_assert_int_eq(aemp_map_set(m, NULL, aemp_int(1)), AEMP_EINVAL);
    ck_assert_int_eq(aemp_map_setn(m, NULL, 3, aemp_int(1)), AEMP_EINVAL);
    ck_assert_int_eq(aemp_map_set(NULL, "k", aemp_int(1)), AEMP_EINVAL);
    ck_assert_ptr_null(aemp_map_get(m, NULL));
    ck_assert_ptr_null(aemp_map_getn(m, NULL, 3));
    ck_assert_ptr_null(aemp_map_get(NULL, "k"));
    ck_assert_int_eq(aemp_map_del(m, NULL, 3), 0);
    ck_assert_int_eq(aemp_map_del(NULL, "k", 1), 0);
    ck_assert_uint_eq(aemp_map_len(m), 0);
    aemp_unref(m);

    ck_assert_ptr_null(aemp_copy(NULL));
    ck_assert_int_eq(aemp_is_null(NULL), 1);
    ck_assert_int_eq(aemp_is_true(NULL), 0);
    ck_assert_int_eq(aemp_as_int(NULL), 0);
    ck_assert_uint_eq(aemp_as_uint(NULL), 0);
    ck_assert(aemp_as_double(NULL) == 0.0);
    ck_assert_str_eq(aemp_type_name((aemp_type)99), "unknown");
    ck_assert_ptr_nonnull(aemp_strerror(-5));
    ck_assert_ptr_nonnull(aemp_strerror(12345));
    ck_assert_int_eq(aemp_equal(NULL, NULL), 1);
    aemp_unref(NULL);
    ck_assert_ptr_null(aemp_ref(NULL));

    size_t len = 99;
    char *json = aemp_to_json(NULL, &len); /* NULL is undef: "null" */
    ck_assert_str_eq(json, "null");
    free(json);
    json = aemp_to_json_canonical(NULL, NULL);
    ck_assert_str_eq(json, "null");
    free(json);
    char *err = NULL;
    ck_assert_ptr_null(aemp_from_json(NULL, 4, &err));
    ck_assert_ptr_nonnull(err);
    free(err);
    err = NULL;
    ck_assert_ptr_null(aemp_from_json("", 0, &err));
    free(err);
    ck_assert_ptr_null(aemp_from_json("[1,", 3, NULL));
}
END_TEST

/* ---- ids, messages, callbacks: refused outside a callback ---- */

static const char *const bad_ids[] = {NULL, "", "#", "#x", "#x#y"};
#define NBAD (sizeof bad_ids / sizeof *bad_ids)

START_TEST(test_bad_ids)
{
    aemp_node *n = make_node("args");
    char *port = aemp_port(n, ignore_msg, NULL);
    for (size_t i = 0; i < NBAD; i++) {
        const char *bad = bad_ids[i];
        ck_assert_int_eq(aemp_snd(n, bad, msg1()), AEMP_EINVAL);
        ck_assert_int_eq(aemp_sndv(n, bad, aemp_str("x"), NULL), AEMP_EINVAL);
        ck_assert_int_eq(aemp_kil(n, bad, msg1()), AEMP_EINVAL);
        ck_assert_int_eq(aemp_rcv(n, bad, NULL, ignore_msg, NULL), AEMP_EINVAL);
        ck_assert_uint_eq(aemp_mon(n, bad, ignore_mon, NULL).id, 0);
        ck_assert_uint_eq(aemp_mon_kil(n, bad, port).id, 0);
        ck_assert_uint_eq(aemp_mon_kil(n, port, bad).id, 0);
        ck_assert_uint_eq(aemp_mon_snd(n, bad, port, msg1()).id, 0);
        ck_assert_uint_eq(aemp_mon_snd(n, port, bad, msg1()).id, 0);
        ck_assert_uint_eq(aemp_mon_guard(n, bad, ignore_release, NULL).id, 0);
        ck_assert_ptr_null(aemp_cal(n, bad, msg1(), 1, ignore_reply, NULL));
        ck_assert_ptr_null(aemp_cal(n, bad, msg1(), -1, ignore_reply, NULL));
        ck_assert_uint_eq(aemp_after_snd(n, 0, bad, msg1()).id, 0);
        ck_assert_int_eq(aemp_snd_to_func(n, bad, "A::b", msg1()), AEMP_EINVAL);
        ck_assert_ptr_null(aemp_spawn(n, bad, "A::b", msg1()));
        ck_assert_int_eq(aemp_peval(n, bad, count_peval, NULL), AEMP_EINVAL);
        ck_assert_uint_eq(aemp_db_reg(n, "fam", bad, aemp_int(1)).id, 0);
        ck_assert_ptr_null(aemp_node_of(bad));
        ck_assert_int_eq(aemp_port_is_local(n, bad), 0);
    }
    ck_assert_int_eq(peval_calls, 0);
    ck_assert_int_eq(aemp_node_is_up(n, NULL), -1);

    /* kil needs a port part: a node port is never killed */
    ck_assert_int_eq(aemp_kil(n, "args", NULL), AEMP_EINVAL);
    ck_assert_int_eq(aemp_kil(n, "args#", NULL), AEMP_EINVAL);
    ck_assert_int_eq(aemp_kil(n, "other", msg1()), AEMP_EINVAL);
    ck_assert_uint_eq(aemp_mon_kil(n, port, "args").id, 0);
    /* rcv only on local ports, and not on the node port */
    ck_assert_int_eq(aemp_rcv(n, "other#p", "t", ignore_msg, NULL),
                     AEMP_EINVAL);
    ck_assert_int_eq(aemp_rcv(n, "args", "t", ignore_msg, NULL), AEMP_EINVAL);
    ck_assert_int_eq(aemp_rcv(n, "args#", "t", ignore_msg, NULL), AEMP_EINVAL);
    /* one-argument mon outside a port's context: no $SELF to kill */
    ck_assert_uint_eq(aemp_mon_kil(n, port, NULL).id, 0);
    /* snd_to_func wants a node id, not a port */
    ck_assert_int_eq(aemp_snd_to_func(n, "args#p", "A::b", NULL), AEMP_EINVAL);

    /* messages and reasons must be arrays (taken, released) */
    aemp_val *garbage[] = {NULL, aemp_int(1), aemp_str("x"), aemp_map(),
                           aemp_null()};
    for (size_t i = 0; i < sizeof garbage / sizeof *garbage; i++) {
        aemp_val *g = garbage[i];
        ck_assert_int_eq(aemp_snd(n, port, aemp_ref(g)), AEMP_EINVAL);
        if (g) /* NULL: a normal kill */
            ck_assert_int_eq(aemp_kil(n, "args#nosuch", aemp_ref(g)),
                             AEMP_EINVAL);
        ck_assert_uint_eq(aemp_mon_snd(n, port, port, aemp_ref(g)).id, 0);
        ck_assert_ptr_null(aemp_cal(n, port, aemp_ref(g), 1, ignore_reply,
                                    NULL));
        ck_assert_uint_eq(aemp_after_snd(n, 1, port, aemp_ref(g)).id, 0);
        if (g) { /* NULL: no arguments */
            ck_assert_int_eq(aemp_snd_to_func(n, "args", "A::b", aemp_ref(g)),
                             AEMP_EINVAL);
            ck_assert_ptr_null(aemp_spawn(n, "args", "A::b", aemp_ref(g)));
        }
        aemp_unref(g);
    }

    /* callbacks and names */
    ck_assert_uint_eq(aemp_mon(n, port, NULL, NULL).id, 0);
    ck_assert_uint_eq(aemp_mon_nodes(n, NULL, NULL).id, 0);
    ck_assert_uint_eq(aemp_mon_guard(n, port, NULL, NULL).id, 0);
    ck_assert_ptr_null(aemp_cal(n, port, msg1(), 1, NULL, NULL));
    ck_assert_uint_eq(aemp_after(n, 1, NULL, NULL).id, 0);
    ck_assert_int_eq(aemp_peval(n, port, NULL, NULL), AEMP_EINVAL);
    ck_assert_int_eq(aemp_func_register(n, NULL, ignore_func, NULL),
                     AEMP_EINVAL);
    ck_assert_int_eq(aemp_func_register(n, "", ignore_func, NULL),
                     AEMP_EINVAL);
    ck_assert_int_eq(aemp_func_register(n, "AnyEvent::MP::_spawn", ignore_func,
                                        NULL),
                     AEMP_EINVAL);
    ck_assert_int_eq(aemp_snd_to_func(n, "args", NULL, msg1()), AEMP_EINVAL);
    ck_assert_ptr_null(aemp_spawn(n, "args", NULL, msg1()));
    ck_assert_ptr_null(aemp_spawn(n, "args", "", msg1()));
    ck_assert_ptr_null(aemp_spawn(n, "args", "no_colons", msg1()));
    ck_assert_int_eq(aemp_node_set_busy_poll(n, 2000000), AEMP_EINVAL);
    aemp_die(n, NULL);

    /* timers: not-a-number and infinite times do not upset the timer */
    aemp_timer_id t = aemp_after(n, NAN, ignore_after, NULL);
    ck_assert_uint_ne(t.id, 0);
    aemp_timer_id t2 = aemp_after(n, INFINITY, ignore_after, NULL);
    ck_assert_uint_ne(t2.id, 0);
    aemp_after_cancel(n, t2);
    aemp_timer_id t3 = aemp_after_snd(n, 1e300, port, msg1());
    ck_assert_uint_ne(t3.id, 0);
    aemp_after_cancel(n, t3);
    char *cp = aemp_cal(n, port, msg1(), INFINITY, ignore_reply, NULL);
    ck_assert_ptr_nonnull(cp);
    free(cp);
    settle();

    /* the node still works */
    ck_assert_int_eq(aemp_snd(n, port, msg1()), AEMP_OK);
    ck_assert_int_eq(aemp_kil(n, port, NULL), AEMP_OK);
    free(port);
    aemp_node_free(n);
}
END_TEST

START_TEST(test_families)
{
    aemp_node *n = make_node("fams");
    const char *bad[] = {NULL, ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *f = bad[i];
        ck_assert_uint_eq(aemp_db_set(n, f, "k", aemp_int(1)).id, 0);
        ck_assert_uint_eq(aemp_db_reg(n, f, "fams#p", aemp_int(1)).id, 0);
        ck_assert_int_eq(aemp_db_del(n, f, "k"), AEMP_EINVAL);
        ck_assert_int_eq(aemp_db_family(n, f, ignore_db, NULL), AEMP_EINVAL);
        ck_assert_int_eq(aemp_db_keys(n, f, ignore_db, NULL), AEMP_EINVAL);
        ck_assert_int_eq(aemp_db_values(n, f, ignore_db, NULL), AEMP_EINVAL);
        ck_assert_uint_eq(aemp_db_mon(n, f, ignore_db_mon, NULL).id, 0);
    }
    /* any other name goes, as in Perl (MP.pm only recommends
     * [A-Za-z][A-Za-z0-9_:]*), the protocol's own included */
    const char *odd[] = {"never-set", "1abc", "x y", "'l", "'g"};
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        aemp_db_handle h = aemp_db_set(n, odd[i], "k", aemp_int(1));
        ck_assert_uint_ne(h.id, 0);
        aemp_db_release(n, h);
        ck_assert_int_eq(aemp_db_keys(n, odd[i], ignore_db, NULL), AEMP_OK);
        aemp_db_mon_id m = aemp_db_mon(n, odd[i], ignore_db_mon, NULL);
        ck_assert_uint_ne(m.id, 0);
        aemp_db_mon_cancel(n, m);
    }
    /* a subkey is a string, the empty one too */
    ck_assert_uint_eq(aemp_db_set(n, "fam", NULL, aemp_int(1)).id, 0);
    /* no $SELF outside a port */
    ck_assert_uint_eq(aemp_db_reg(n, "fam", NULL, aemp_int(1)).id, 0);
    ck_assert_int_eq(aemp_db_del(n, "fam", NULL), AEMP_EINVAL);
    aemp_db_handle e = aemp_db_set(n, "fam", "", aemp_int(1));
    ck_assert_uint_ne(e.id, 0);
    aemp_db_release(n, e);
    /* callbacks */
    ck_assert_int_eq(aemp_db_family(n, "fam", NULL, NULL), AEMP_EINVAL);
    ck_assert_uint_eq(aemp_db_mon(n, "fam", NULL, NULL).id, 0);
    /* good names pass */
    aemp_db_handle h = aemp_db_set(n, "My::Family_2", "k", aemp_str("v"));
    ck_assert_uint_ne(h.id, 0);
    ck_assert_int_eq(aemp_db_del(n, "My::Family_2", "k"), AEMP_OK);
    aemp_db_release(n, h);
    aemp_db_release(n, (aemp_db_handle){12345});
    aemp_db_mon_cancel(n, (aemp_db_mon_id){12345});
    aemp_node_free(n);
}
END_TEST

/* ---- configure with garbage ---- */

static aemp_val *garbage_value(int i)
{
    switch (i) {
    case 0: return aemp_null();
    case 1: return aemp_int(-1);
    case 2: return aemp_str("");
    case 3: return aemp_str("garbage#:*[");
    case 4: return aemp_arrayv(aemp_int(1), aemp_map(), NULL);
    case 5: return aemp_map();
    case 6: return aemp_arrayv(aemp_arrayv(aemp_null(), NULL), NULL);
    case 7: return aemp_double(NAN);
    default: return aemp_bool(1);
    }
}

START_TEST(test_configure_garbage)
{
    const char *keys[] = {"profile", "nodeid", "binds", "seeds", "secret",
                          "norc", "force", "monitor_timeout",
                          "connect_interval", "framing_format", "auth_offer",
                          "auth_accept", "secure", "cert", "parent"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        for (int g = 0; g < 9; g++) {
            aemp_node *n = aemp_node_new(base);
            aemp_node_set_log(n, 0, NULL, NULL);
            aemp_val *args = aemp_map();
            aemp_map_set(args, "norc", aemp_int(1));
            aemp_map_set(args, "binds",
                         aemp_arrayv(aemp_str("127.0.0.1:*"), NULL));
            aemp_map_set(args, keys[k], garbage_value(g));
            aemp_node_configure(n, args, NULL); /* any answer, no crash */
            ck_assert_ptr_nonnull(aemp_node_errmsg(n));
            aemp_unref(args);
            aemp_node_free(n);
        }
    }
    /* not a map; odd rc paths */
    aemp_node *n = aemp_node_new(base);
    aemp_node_set_log(n, 0, NULL, NULL);
    aemp_val *notmap = aemp_arrayv(aemp_str("nodeid"), NULL);
    ck_assert_int_ne(aemp_node_configure(n, notmap, NULL), AEMP_OK);
    aemp_unref(notmap);
    aemp_node_free(n);
    const char *paths[] = {"", "/", "/nonexistent/dir/rc"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        n = aemp_node_new(base);
        aemp_node_set_log(n, 0, NULL, NULL);
        aemp_node_configure(n, NULL, paths[i]);
        aemp_node_free(n);
    }
    /* twice */
    n = make_node("twice");
    aemp_val *args = aemp_map();
    ck_assert_int_eq(aemp_node_configure(n, args, NULL), AEMP_ESTATE);
    aemp_unref(args);
    aemp_node_free(n);
}
END_TEST

/* ---- inside a port's context: the port dies with Perl's reason ---- */

typedef struct death {
    int calls;
    aemp_val *reason;
} death;

static void on_death(aemp_node *n, const char *port, const aemp_val *reason,
                     void *ud)
{
    (void)n, (void)port;
    death *d = ud;
    d->calls++;
    aemp_unref(d->reason);
    d->reason = aemp_copy(reason);
}

static void assert_died(death *d, const char *why)
{
    run_until(&d->calls, 5);
    ck_assert_int_eq(d->calls, 1);
    ck_assert_uint_eq(aemp_array_len(d->reason), 2);
    ck_assert(aemp_str_eq(aemp_array_at(d->reason, 0), "die"));
    const char *got = aemp_str_ptr(aemp_array_at(d->reason, 1), NULL);
    ck_assert_msg(got && !strcmp(got, why), "reason '%s', want '%s'",
                  got ? got : "(none)", why);
    aemp_unref(d->reason);
    d->reason = NULL;
    d->calls = 0;
}

/* The README's greeter, verbatim. */
static int on_hello(aemp_node *node, const char *port, const aemp_val *msg,
                    void *ud)
{
    (void)port, (void)ud;
    /* msg: ["hello", REPLYPORT, NAME] */
    aemp_sndv(node, aemp_str_ptr(aemp_array_at(msg, 1), NULL),
              aemp_str("hi"), aemp_copy(aemp_array_at(msg, 2)), NULL);
    return 0;
}

/* One misuse per case, each in a receive callback. */
typedef void (*misuse_fn)(aemp_node *n);

static void snd_empty(aemp_node *n)
{
    aemp_snd(n, "", msg1());
}
static void snd_no_node(aemp_node *n)
{
    aemp_sndv(n, "#x", aemp_str("x"), NULL);
}
static void kil_null(aemp_node *n)
{
    aemp_kil(n, NULL, NULL);
}
static void kil_node(aemp_node *n)
{
    aemp_kil(n, "somenode", msg1());
}
static void rcv_remote(aemp_node *n)
{
    aemp_rcv(n, "other#p", "t", ignore_msg, NULL);
}
static void rcv_null(aemp_node *n)
{
    aemp_rcv(n, NULL, "t", ignore_msg, NULL);
}
static void mon_null(aemp_node *n)
{
    aemp_mon(n, NULL, ignore_mon, NULL);
}
static void spawn_unqualified(aemp_node *n)
{
    free(aemp_spawn(n, "die", "init", NULL));
}
static void spawn_no_node(aemp_node *n)
{
    free(aemp_spawn(n, "", "A::init", NULL));
}
static void cal_null(aemp_node *n)
{
    free(aemp_cal(n, NULL, msg1(), 1, ignore_reply, NULL));
}
static void snd_to_func_empty(aemp_node *n)
{
    aemp_snd_to_func(n, "", "A::b", NULL);
}
static void after_snd_null(aemp_node *n)
{
    aemp_after_snd(n, 0, NULL, msg1());
}
static void db_set_no_family(aemp_node *n)
{
    aemp_db_set(n, NULL, "k", NULL);
}
static void snd_not_array(aemp_node *n)
{
    aemp_snd(n, "die#x", aemp_int(1));
}
static void first_reason_wins(aemp_node *n)
{
    aemp_snd(n, NULL, msg1());
    aemp_kil(n, NULL, NULL);
    aemp_die(n, "later");
}

static const struct {
    misuse_fn fn;
    const char *why;
} misuses[] = {
    {snd_empty, BAD_ID},
    {snd_no_node, BAD_ID},
    {kil_null, "#: killing a node port is not allowed, caught"},
    {kil_node, "somenode#: killing a node port is not allowed, caught"},
    {rcv_remote, "other#p: rcv can only be called on local ports, caught"},
    {rcv_null, ": rcv can only be called on local ports, caught"},
    {mon_null, BAD_ID},
    {spawn_unqualified,
     "spawn init function must be a fully-qualified name, caught"},
    {spawn_no_node, BAD_ID},
    {cal_null, BAD_ID},
    {snd_to_func_empty, BAD_ID},
    {after_snd_null, BAD_ID},
    {db_set_no_family, "the database family is undef or empty"},
    {snd_not_array, "aemp_snd: the message is not an array"},
    {first_reason_wins, BAD_ID},
};

static int misuse(aemp_node *n, const char *port, const aemp_val *msg,
                  void *ud)
{
    (void)port, (void)msg;
    misuses[(size_t)(uintptr_t)ud].fn(n);
    return 1; /* the first reason wins over the callback's own */
}

typedef struct heard {
    int calls;
} heard;

static int count_msg(aemp_node *n, const char *port, const aemp_val *msg,
                     void *ud)
{
    (void)n, (void)port, (void)msg;
    ((heard *)ud)->calls++;
    return 0;
}

START_TEST(test_die_in_callback)
{
    aemp_node *n = make_node("die");
    death d = {0};
    heard h = {0};
    char *witness = aemp_port(n, count_msg, &h);

    /* the README's greeter, sent ["hello"] without a reply port */
    ck_assert_int_eq(aemp_rcv(n, "die#hello", "hello", on_hello, NULL),
                     AEMP_OK);
    ck_assert_uint_ne(aemp_mon(n, "die#hello", on_death, &d).id, 0);
    ck_assert_int_eq(aemp_sndv(n, "die#hello", aemp_str("hello"), NULL),
                     AEMP_OK);
    assert_died(&d, BAD_ID);

    for (size_t i = 0; i < sizeof misuses / sizeof *misuses; i++) {
        char *p = aemp_port(n, misuse, (void *)(uintptr_t)i);
        ck_assert_uint_ne(aemp_mon(n, p, on_death, &d).id, 0);
        ck_assert_int_eq(aemp_snd(n, p, msg1()), AEMP_OK);
        assert_died(&d, misuses[i].why);
        /* the port is gone, the node goes on */
        ck_assert_uint_ne(aemp_mon(n, p, on_death, &d).id, 0);
        run_until(&d.calls, 5);
        ck_assert(aemp_str_eq(aemp_array_at(d.reason, 0), "no_such_port"));
        aemp_unref(d.reason);
        d = (death){0};
        h.calls = 0;
        ck_assert_int_eq(aemp_snd(n, witness, msg1()), AEMP_OK);
        run_until(&h.calls, 5);
        ck_assert_int_eq(h.calls, 1);
        free(p);
    }
    free(witness);
    aemp_node_free(n);
}
END_TEST

/* $SELF stands in for a missing port where Perl's does: one-argument mon
 * and db_reg without a port. */
typedef struct selfuse {
    aemp_port_mon_id mon;
    aemp_db_handle reg;
    const char *watched;
} selfuse;

static int use_self(aemp_node *n, const char *port, const aemp_val *msg,
                    void *ud)
{
    (void)port, (void)msg;
    selfuse *s = ud;
    s->mon = aemp_mon_kil(n, s->watched, NULL);
    s->reg = aemp_db_reg(n, "selfs", NULL, NULL);
    return 0;
}

START_TEST(test_self_defaults)
{
    aemp_node *n = make_node("self");
    death d = {0};
    char *watched = aemp_port(n, ignore_msg, NULL);
    selfuse s = {{0}, {0}, watched};
    char *p = aemp_port(n, use_self, &s);
    aemp_mon(n, p, on_death, &d);
    aemp_snd(n, p, msg1());
    settle();
    ck_assert_uint_ne(s.mon.id, 0);
    ck_assert_uint_ne(s.reg.id, 0);
    ck_assert_int_eq(d.calls, 0);
    /* the watched port dies abnormally: p dies with its reason */
    aemp_kil(n, watched, aemp_arrayv(aemp_str("die"), aemp_str("why"), NULL));
    assert_died(&d, "why");
    free(watched);
    free(p);
    aemp_node_free(n);
}
END_TEST

/* A spawn's init function and peval run in a port's context too. */
static int bad_init(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)args;
    aemp_rcv(n, aemp_self(n), NULL, ignore_msg, NULL);
    aemp_mon(n, aemp_self(n), on_death, ud);
    aemp_snd(n, "", msg1());
    return 0;
}

static int bad_peval(aemp_node *n, void *ud)
{
    (void)ud;
    aemp_kil(n, "", NULL);
    return 0;
}

START_TEST(test_spawn_and_peval)
{
    aemp_node *n = make_node("sp");
    death d = {0};
    ck_assert_int_eq(aemp_func_register(n, "T::bad_init", bad_init, &d),
                     AEMP_OK);
    char *spawned = aemp_spawn(n, "sp", "T::bad_init", NULL);
    ck_assert_ptr_nonnull(spawned);
    assert_died(&d, BAD_ID);
    free(spawned);

    char *p = aemp_port(n, ignore_msg, NULL);
    aemp_mon(n, p, on_death, &d);
    ck_assert_int_eq(aemp_peval(n, p, bad_peval, NULL), 0);
    assert_died(&d, "#: killing a node port is not allowed, caught");
    free(p);
    aemp_node_free(n);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_args");
    TCase *tc = tcase_create("args");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_null_node);
    tcase_add_test(tc, test_values);
    tcase_add_test(tc, test_bad_ids);
    tcase_add_test(tc, test_families);
    tcase_add_test(tc, test_configure_garbage);
    tcase_add_test(tc, test_die_in_callback);
    tcase_add_test(tc, test_self_defaults);
    tcase_add_test(tc, test_spawn_and_peval);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
