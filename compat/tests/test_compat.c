/* libaemp_compat: the Perl names of one node by itself, against what they
 * map to: values and lists, the loop, configure, ports, rcv, snd, kil,
 * die, peval, the monitor forms and guards. test_compat_net.c has those
 * that need a second node. Each test ends with aemp_compat_destroy, so
 * the next one starts afresh even without Check's fork. */
#include <unistd.h>

#include "compat_testutil.h"

/* ---- values ------------------------------------------------------------------ */

START_TEST(test_values)
{
    ck_assert(take_json_is(A(S("s"), I(-3), N(0.5), U(), S(NULL), A(), H()),
                           "[\"s\",-3,0.5,null,null,[],{}]"));
    ck_assert(take_json_is(H(S("a"), A(I(1)), S("b"), J("{\"c\":true}")),
                           "{\"a\":[1],\"b\":{\"c\":true}}"));
    ck_assert_ptr_null(H(S("odd")));          /* pairs only */
    ck_assert_ptr_null(H(I(1), I(2)));        /* keys are strings */
    ck_assert_ptr_null(J("[1,"));             /* bad JSON fails */
    ck_assert_ptr_null(A(S("x"), NULL, I(2))); /* a failed constructor */
    aemp_val *kept = A(S("k"));
    ck_assert(take_json_is(A(R(kept), R(aemp_array_at(kept, 0))),
                           "[[\"k\"],\"k\"]"));
    aemp_unref(kept);

    /* "$v" and join */
    const char *want[] = {"x", "42", "0.25", "", "1", "0", "[1,{\"a\":null}]"};
    aemp_val *vals = A(S("x"), I(42), N(0.25), U(), aemp_bool(1), aemp_bool(0),
                       J("[1,{\"a\":null}]"));
    for (size_t i = 0; i < aemp_array_len(vals); i++) {
        char *s = str_of(aemp_array_at(vals, i));
        ck_assert_str_eq(s, want[i]);
        free(s);
    }
    char *joined = join(" ", vals);
    ck_assert_str_eq(joined, "x 42 0.25  1 0 [1,{\"a\":null}]");
    free(joined);
    aemp_val *none = A();
    joined = join(", ", none);
    ck_assert_str_eq(joined, "");
    free(joined);
    aemp_unref(none);
    aemp_unref(vals);
}
END_TEST

/* ---- the loop ------------------------------------------------------------------ */

static int stop_loop(const aemp_val *args, void *ud)
{
    note(ud, args);
    aemp_compat_loop_exit(); /* $cv->send */
    return 0;
}

START_TEST(test_loop)
{
    /* the node on our event_base; AE::cv->recv until $cv->send */
    struct event_base *base = event_base_new();
    ck_assert_int_eq(aemp_compat_use_base(base), 0);
    ck_assert_ptr_eq(aemp_compat_base(), base);
    ck_assert_int_eq(aemp_compat_use_base(base), AEMP_ESTATE);
    seen stopped = {0};
    after(0.01, stop_loop, &stopped);
    ck_assert_int_eq(aemp_compat_loop(), 0);
    ck_assert_int_eq(stopped.calls, 1);
    aemp_compat_destroy(); /* leaves our base alone */
    event_base_free(base);
    aemp_unref(stopped.last);
}
END_TEST

/* ---- configure ---------------------------------------------------------------- */

START_TEST(test_configure)
{
    /* an odd list starts with the profile: nodeid defaults to "NAME/..." */
    ck_assert_int_eq(configure(S("myprof"), S("norc"), I(1),
                               S("binds"), A(S("127.0.0.1:*"))),
                     0);
    ck_assert_int_eq(strncmp(NODE, "myprof/", 7), 0);
    ck_assert_int_eq(configure(S("norc"), I(1)), AEMP_ESTATE);
    ck_assert_str_eq(aemp_compat_errmsg(), "configure was called already");
    aemp_compat_destroy();

    ck_assert_int_eq(configure(I(1), I(2)), AEMP_EINVAL); /* keys: strings */
    ck_assert_int_eq(configure(S("norc"), NULL), AEMP_ENOMEM);
    aemp_compat_destroy();

    /* no arguments: the rc file ($PERL_ANYEVENT_MP_RC) decides */
    char rc[] = "/tmp/test_compat_rcXXXXXX";
    int fd = mkstemp(rc);
    const char *text = "{\"nodeid\":\"from_rc\",\"binds\":[\"127.0.0.1:*\"]}";
    ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    setenv("PERL_ANYEVENT_MP_RC", rc, 1);
    ck_assert_int_eq(configure(), 0);
    ck_assert_str_eq(NODE, "from_rc");
    unsetenv("PERL_ANYEVENT_MP_RC");
    unlink(rc);
    aemp_compat_destroy();
}
END_TEST

/* ---- ports, rcv, snd, kil, die, peval ---------------------------------------------- */

static int dies(const aemp_val *args, void *ud)
{
    note(ud, args);
    return die("no %s here", "way");
}

static int remove_self(const aemp_val *args, void *ud)
{
    note(ud, args);
    rcv(SELF, "once", NULL, NULL); /* rcv $SELF, once => undef */
    return 0;
}

/* Perl's croak inside a callback: the call fails and the port dies */
static int misuses(const aemp_val *args, void *ud)
{
    note(ud, args);
    snd(NULL, S("hi"));                /* snd undef, hi => ... */
    rcv("elsewhere#x", "t", record, NULL);
    return 0;
}

START_TEST(test_ports)
{
    ck_assert_int_eq(configure(S("norc"), I(1), S("nodeid"), S("p1")), 0);
    seen tagged = {0}, dflt = {0}, died = {0}, once = {0};

    char *port = port(record, &dflt);   /* port { ... } */
    ck_assert_int_eq(strncmp(port, "p1#", 3), 0);
    ck_assert_ptr_eq(rcv(port, "test", record, &tagged), port);
    snd(port, S("test"), I(1), S("two"));
    snd(port, S("other"), I(3));
    wait_for(&dflt.calls, 1);
    wait_for(&tagged.calls, 1);
    ck_assert(json_is(tagged.last, "[1,\"two\"]")); /* @_ without the tag */
    ck_assert(json_is(dflt.last, "[\"other\",3]")); /* the whole message */
    ck_assert_str_eq(tagged.self, port);            /* $SELF */
    ck_assert_ptr_null(SELF);                       /* outside: undef */

    /* a new callback for a tag replaces the old; removing it too */
    seen again = {0};
    rcv(port, "test", record, &again);
    rcv(port, "once", remove_self, &once);
    snd(port, S("test"), I(2));
    snd(port, S("once"));
    snd(port, S("once"));
    wait_for(&dflt.calls, 2); /* the second "once" went to the default */
    ck_assert_int_eq(again.calls, 1);
    ck_assert_int_eq(tagged.calls, 1);
    ck_assert_int_eq(once.calls, 1);
    ck_assert(json_is(dflt.last, "[\"once\"]"));

    /* die: the port is killed with ("die", MESSAGE) */
    rcv(port, "boom", dies, &tagged);
    mon(port, record, &died);
    snd(port, S("boom"));
    wait_for(&died.calls, 1);
    ck_assert(json_is(died.last, "[\"die\",\"no way here\"]"));
    ck_assert_ptr_null(rcv("elsewhere#x", "t", record, NULL)); /* not local */

    /* port without callback: an unmatched message kills it */
    char *strict = port();
    mon(strict, record, &died);
    snd(strict, S("what"));
    wait_for(&died.calls, 2);
    ck_assert(json_is(died.last, "[\"unhandled_message\","
                                 "\"no callback found for message 'what'\"]"));

    /* kil: normal, with a reason; a NULL element fails the call */
    char *a = port(record, &dflt), *b = port(record, &dflt);
    seen ma = {0}, mb = {0};
    mon(a, record, &ma);
    mon(b, record, &mb);
    ck_assert_int_eq(kil(a, S("x"), NULL), AEMP_ENOMEM);
    kil(a);
    kil(b, S("why"), I(7));
    wait_for(&mb.calls, 1);
    wait_for(&ma.calls, 1);
    ck_assert(json_is(ma.last, "[]"));
    ck_assert(json_is(mb.last, "[\"why\",7]"));

    /* peval: $SELF is the port; failing kills it */
    char *c = port(record, &dflt);
    seen mc = {0}, pe = {0};
    mon(c, record, &mc);
    ck_assert_int_eq(peval(c, dies, &pe, S("arg")), 1);
    ck_assert_str_eq(pe.self, c);
    ck_assert(json_is(pe.last, "[\"arg\"]"));
    wait_for(&mc.calls, 1);
    ck_assert(json_is(mc.last, "[\"die\",\"no way here\"]"));

    /* a call Perl dies on kills the port with Perl's reason; the first
     * one wins */
    char *d = port(misuses, &dflt);
    seen md = {0};
    mon(d, record, &md);
    snd(d, S("go"));
    wait_for(&md.calls, 1);
    ck_assert(json_is(md.last, "[\"die\",\"'undef' or the empty string are "
                               "not valid node/port IDs\"]"));
    aemp_unref(md.last);
    free(d);

    aemp_unref(tagged.last), aemp_unref(dflt.last), aemp_unref(died.last);
    aemp_unref(once.last), aemp_unref(again.last), aemp_unref(ma.last);
    aemp_unref(mb.last), aemp_unref(mc.last), aemp_unref(pe.last);
    free(port), free(strict), free(a), free(b), free(c);
    aemp_compat_destroy();
}
END_TEST

/* ---- monitors and guards ------------------------------------------------------------ */

static void released(void *data)
{
    (*(int *)data)++;
}

START_TEST(test_monitors)
{
    ck_assert_int_eq(configure(S("norc"), I(1), S("nodeid"), S("m1")), 0);
    seen got = {0}, cb = {0}, cancelled = {0};
    char *inbox = port(record, &got);
    char *watched = port(record, &got);
    char *victim = port(record, &got);
    int freed = 0, freed2 = 0;

    mon(watched, record, &cb);                             /* mon $p, sub */
    release(mon(watched, record, &cancelled));             /* undef $guard */
    mon_kil(watched, victim);                              /* mon $p, $rcv */
    mon_snd(watched, inbox, S("gone"), I(1));              /* mon $p, $r, @msg */
    mon_guard(watched, released, &freed);                  /* mon_guard */
    aemp_compat_guard g = mon_guard(watched, released, &freed2);
    seen vic = {0};
    mon(victim, record, &vic);
    release(g);
    ck_assert_int_eq(freed2, 1); /* released at once */
    release(g);                  /* stale: harmless */
    ck_assert_int_eq(freed2, 1);

    kil(watched, S("bad"), S("luck"));
    wait_for(&vic.calls, 1);
    wait_for(&got.calls, 1);
    ck_assert(json_is(cb.last, "[\"bad\",\"luck\"]"));
    ck_assert_int_eq(cancelled.calls, 0);
    ck_assert(json_is(vic.last, "[\"bad\",\"luck\"]")); /* killed alike */
    ck_assert(json_is(got.last, "[\"gone\",1,\"bad\",\"luck\"]"));
    ck_assert_int_eq(freed, 1);

    /* mon $port with $SELF: only inside a port; a normal kill is not
     * passed on */
    ck_assert_int_eq(mon_kil(inbox, SELF), 0);

    /* a mon_guard still held is released with the node */
    char *held = port();
    int freed3 = 0;
    mon_guard(held, released, &freed3);
    aemp_unref(got.last), aemp_unref(cb.last), aemp_unref(vic.last);
    free(inbox), free(watched), free(victim), free(held);
    aemp_compat_destroy();
    ck_assert_int_eq(freed3, 1);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("one node");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_values);
    tcase_add_test(tc, test_loop);
    tcase_add_test(tc, test_configure);
    tcase_add_test(tc, test_ports);
    tcase_add_test(tc, test_monitors);
    return run_suite(tc);
}
