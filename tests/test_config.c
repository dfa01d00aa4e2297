/* Tests for the configuration (src/config*.c): find_profile priorities and
 * parent chains, configure's node id, binds and seeds, address parsing and
 * formatting, and the rc file (relaxed reading, pretty writing, saving).
 *
 * The expected values were produced by Perl: AnyEvent::MP::Config 2.02's
 * find_profile, AnyEvent::Socket 7.17's parse_hostport / parse_ipv6 /
 * format_address, Kernel.pm's _resolve and node id regexes, and
 * JSON::XS 4.04 (relaxed decode, pretty->canonical encode). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aemp/error.h"
#include "aemp/value.h"
#include "config.h"
#include "testutil.h"

static aemp_val *parse(const char *json)
{
    char *err = NULL;
    aemp_val *v = aemp_from_json(json, strlen(json), &err);
    ck_assert_msg(v != NULL, "parse %s: %s", json, err ? err : "?");
    return v;
}

/* Asserts that v's canonical JSON is expect. */
static void ck_canon(const aemp_val *v, const char *expect)
{
    char *j = aemp_to_json_canonical(v, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(j, expect);
    free(j);
}

/* ---- find_profile ---- */

#define DEFAULTS_HEAD                                                       \
    "{\"auth_accept\":[\"tls_sha3_512\",\"hmac_sha3_512\",\"tls_anon\","  \
    "\"cleartext\"],\"auth_offer\":[\"tls_sha3_512\",\"hmac_sha3_512\"],"

#define CHAIN_RC                                                            \
    "{\"monitor_timeout\":10,\"secret\":\"g\",\"profile\":{"               \
    "\"a\":{\"secret\":\"pa\",\"parent\":\"b\",\"nodeid\":\"A\"},"         \
    "\"b\":{\"secret\":\"pb\",\"connect_interval\":5,\"parent\":\"c\","    \
    "\"binds\":[\"*:1\"]},"                                                \
    "\"c\":{\"seeds\":[\"h:1\"],\"connect_interval\":7,"                   \
    "\"monitor_timeout\":11}}}"

#define CHAIN_PROFILES                                                      \
    "\"profile\":{\"a\":{\"nodeid\":\"A\",\"parent\":\"b\",\"secret\":"    \
    "\"pa\"},\"b\":{\"binds\":[\"*:1\"],\"connect_interval\":5,\"parent\":" \
    "\"c\",\"secret\":\"pb\"},\"c\":{\"connect_interval\":7,"              \
    "\"monitor_timeout\":11,\"seeds\":[\"h:1\"]}},"

static const struct {
    const char *rc, *name, *args, *expect;
} profile_cases[] = {
    /* no profile in the rc: defaults, the rc's keys, "profile" made */
    {"{\"version\":1}", "x", "[]",
     DEFAULTS_HEAD "\"connect_interval\":2,\"framing_format\":[\"cbor\","
     "\"json\",\"storable\"],\"monitor_timeout\":30,\"profile\":{},"
     "\"version\":1}"},
    /* args < globals < parent chain (farthest first) < profile */
    {CHAIN_RC, "a", "[\"monitor_timeout\",99,\"framing_format\",[\"json\"],\"x\",1]",
     DEFAULTS_HEAD "\"binds\":[\"*:1\"],\"connect_interval\":5,"
     "\"framing_format\":[\"json\"],\"monitor_timeout\":11,\"nodeid\":\"A\","
     "\"parent\":\"b\"," CHAIN_PROFILES "\"secret\":\"pa\",\"seeds\":[\"h:1\"],"
     "\"x\":1}"},
    /* force: arguments and defaults on top of everything */
    {CHAIN_RC, "a", "[\"monitor_timeout\",99,\"secret\",\"arg\",\"force\",1,\"x\",1]",
     DEFAULTS_HEAD "\"binds\":[\"*:1\"],\"connect_interval\":2,"
     "\"framing_format\":[\"cbor\",\"json\",\"storable\"],\"monitor_timeout\":99,"
     "\"nodeid\":\"A\",\"parent\":\"b\"," CHAIN_PROFILES "\"secret\":\"arg\","
     "\"seeds\":[\"h:1\"],\"x\":1}"},
    /* norc: the rc does not count */
    {"{\"monitor_timeout\":10,\"secret\":\"g\",\"profile\":{\"a\":{\"secret\":\"pa\"}}}",
     "a", "[\"monitor_timeout\",99,\"norc\",1,\"secret\",\"s\"]",
     DEFAULTS_HEAD "\"connect_interval\":2,\"framing_format\":[\"cbor\","
     "\"json\",\"storable\"],\"monitor_timeout\":99,\"secret\":\"s\"}"},
    /* a parent that does not exist is an empty profile */
    {"{\"monitor_timeout\":10,\"profile\":{\"a\":{\"parent\":\"missing\",\"secret\":\"pa\"}}}",
     "a", "[]",
     DEFAULTS_HEAD "\"connect_interval\":2,\"framing_format\":[\"cbor\","
     "\"json\",\"storable\"],\"monitor_timeout\":10,\"parent\":\"missing\","
     "\"profile\":{\"a\":{\"parent\":\"missing\",\"secret\":\"pa\"}},"
     "\"secret\":\"pa\"}"},
    /* the global "parent" is not followed */
    {"{\"monitor_timeout\":10,\"parent\":\"a\",\"profile\":{\"a\":{\"secret\":\"pa\"}}}",
     "b", "[]",
     DEFAULTS_HEAD "\"connect_interval\":2,\"framing_format\":[\"cbor\","
     "\"json\",\"storable\"],\"monitor_timeout\":10,\"parent\":\"a\","
     "\"profile\":{\"a\":{\"secret\":\"pa\"}}}"},
    /* parent true is the profile named "1", as Perl stringifies it */
    {"{\"monitor_timeout\":10,\"profile\":{\"1\":{\"secret\":\"one\"},\"a\":{\"parent\":true}}}",
     "a", "[]",
     DEFAULTS_HEAD "\"connect_interval\":2,\"framing_format\":[\"cbor\","
     "\"json\",\"storable\"],\"monitor_timeout\":10,\"parent\":true,"
     "\"profile\":{\"1\":{\"secret\":\"one\"},\"a\":{\"parent\":true}},"
     "\"secret\":\"one\"}"},
    /* a list as parent names no profile */
    {"{\"monitor_timeout\":10,\"profile\":{\"a\":{\"parent\":[\"x\"]}}}", "a", "[]",
     DEFAULTS_HEAD "\"connect_interval\":2,\"framing_format\":[\"cbor\","
     "\"json\",\"storable\"],\"monitor_timeout\":10,\"parent\":[\"x\"],"
     "\"profile\":{\"a\":{\"parent\":[\"x\"]}}}"},
    /* "profile": null is made a map too */
    {"{\"version\":1,\"profile\":null}", "x", "[]",
     DEFAULTS_HEAD "\"connect_interval\":2,\"framing_format\":[\"cbor\","
     "\"json\",\"storable\"],\"monitor_timeout\":30,\"profile\":{},"
     "\"version\":1}"},
    /* no name: the global keys only, "profile" not made; false flags */
    {"{\"version\":1}", NULL, "[\"force\",0,\"norc\",0]",
     DEFAULTS_HEAD "\"connect_interval\":2,\"framing_format\":[\"cbor\","
     "\"json\",\"storable\"],\"monitor_timeout\":30,\"version\":1}"},
};

START_TEST(test_find_profile_perl)
{
    aemp_val *rc = parse(profile_cases[_i].rc);
    aemp_val *list = parse(profile_cases[_i].args), *args = NULL, *out = NULL;
    char *err = NULL;

    ck_assert_int_eq(aempi_config_args_from_list(list, 0, &args, &err),
                     AEMP_OK);
    ck_assert_int_eq(aempi_config_find_profile(rc, profile_cases[_i].name,
                                               args, &out, &err),
                     AEMP_OK);
    ck_canon(out, profile_cases[_i].expect);
    /* the rc itself is not changed */
    aemp_val *again = parse(profile_cases[_i].rc);
    ck_assert(aemp_equal(rc, again));
    aemp_unref(again);
    aemp_unref(out);
    aemp_unref(args);
    aemp_unref(list);
    aemp_unref(rc);
}
END_TEST

START_TEST(test_find_profile_no_rc)
{
    aemp_val *out = NULL;
    /* NULL rc: what Perl has without a file, {"version":1} */
    ck_assert_int_eq(aempi_config_find_profile(NULL, "x", NULL, &out, NULL),
                     AEMP_OK);
    ck_assert_int_eq(aemp_as_int(aemp_map_get(out, "version")), 1);
    ck_assert_int_eq(aemp_as_int(aemp_map_get(out, "monitor_timeout")), 30);
    aemp_unref(out);
}
END_TEST

START_TEST(test_find_profile_loops)
{
    const char *loops[] = {
        "{\"profile\":{\"a\":{\"parent\":\"a\"}}}",
        "{\"profile\":{\"a\":{\"parent\":\"b\"},\"b\":{\"parent\":\"c\"},\"c\":{\"parent\":\"a\"}}}",
        "{\"profile\":{\"a\":{\"parent\":\"b\"},\"b\":{\"parent\":\"b\"}}}",
    };
    for (size_t i = 0; i < sizeof loops / sizeof *loops; i++) {
        aemp_val *rc = parse(loops[i]), *out = (aemp_val *)1;
        char *err = NULL;
        ck_assert_int_eq(aempi_config_find_profile(rc, "a", NULL, &out, &err),
                         AEMP_ECONFIG);
        ck_assert_ptr_null(out);
        ck_assert_ptr_nonnull(err);
        ck_assert_msg(strstr(err, "loops") != NULL, "message: %s", err);
        free(err);
        aemp_unref(rc);
    }
    /* norc never looks at the chain */
    aemp_val *rc = parse(loops[0]), *args = parse("{\"norc\":1}"), *out = NULL;
    ck_assert_int_eq(aempi_config_find_profile(rc, "a", args, &out, NULL),
                     AEMP_OK);
    aemp_unref(out);
    aemp_unref(args);
    aemp_unref(rc);
}
END_TEST

START_TEST(test_find_profile_bad_rc)
{
    const char *bad[] = {
        "{\"profile\":\"x\"}",
        "{\"profile\":[]}",
        "{\"profile\":{\"a\":\"x\"}}",
        "{\"profile\":{\"a\":{\"parent\":\"b\"},\"b\":[1]}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        aemp_val *rc = parse(bad[i]), *out = NULL;
        char *err = NULL;
        ck_assert_int_eq(aempi_config_find_profile(rc, "a", NULL, &out, &err),
                         AEMP_ECONFIG);
        ck_assert_msg(err && strstr(err, "not an object"), "%s: %s", bad[i], err);
        free(err);
        aemp_unref(rc);
    }
}
END_TEST

START_TEST(test_args_from_list)
{
    aemp_val *list = parse("[\"prof\",\"nodeid\",\"n\",\"binds\",[\"*\"]]"), *m = NULL;
    ck_assert_int_eq(aempi_config_args_from_list(list, 1, &m, NULL), AEMP_OK);
    ck_canon(m, "{\"binds\":[\"*\"],\"nodeid\":\"n\",\"profile\":\"prof\"}");
    aemp_unref(m);
    aemp_unref(list);
    /* without the configure rule the lone last key gets null */
    list = parse("[\"a\",\"b\",\"c\"]");
    ck_assert_int_eq(aempi_config_args_from_list(list, 0, &m, NULL), AEMP_OK);
    ck_canon(m, "{\"a\":\"b\",\"c\":null}");
    aemp_unref(m);
    aemp_unref(list);
    /* later keys win, numbers become key strings */
    list = parse("[\"a\",1,\"a\",2,5,3]");
    ck_assert_int_eq(aempi_config_args_from_list(list, 0, &m, NULL), AEMP_OK);
    ck_canon(m, "{\"5\":3,\"a\":2}");
    aemp_unref(m);
    aemp_unref(list);
}
END_TEST

/* ---- node ids ---- */

static const struct {
    const char *tmpl, *expect;
    int randomised;
} nodeid_cases[] = {
    {"a/", "a/RUNIQ", 1},
    {"a", "a", 0},
    {"%n", "HOST", 0},
    {"%n/", "HOST/RUNIQ", 1},
    {"aemp/%n/%u", "aemp/HOST/RUNIQ", 1},
    {"%u%u", "RUNIQRUNIQ", 1},
    {"%u/", "RUNIQ/RUNIQ", 1},
    {"/", "/RUNIQ", 1},
    {"a/\n", "a/RUNIQ\n", 1},
    {"a%", "a%", 0},
    {"%%n", "%HOST", 0},
    {"%nn", "HOSTn", 0},
    {"a/b", "a/b", 0},
    {"x/%n", "x/HOST", 0},
    {"%u", "RUNIQ", 1},
    {"a//", "a//RUNIQ", 1},
    {"", "", 0}, /* nothing appended: the result is still a C string */
};

START_TEST(test_expand_nodeid)
{
    char *out = NULL;
    int randomised = -1;
    ck_assert_int_eq(aempi_config_expand_nodeid(nodeid_cases[_i].tmpl, "HOST",
                                                "RUNIQ",
                                                &out, &randomised), AEMP_OK);
    ck_assert_str_eq(out, nodeid_cases[_i].expect);
    ck_assert_int_eq(randomised, nodeid_cases[_i].randomised);
    free(out);
}
END_TEST

/* "%n" with an empty host name expands to nothing; the buffer that never
 * saw a byte must still come back NUL-terminated. */
START_TEST(test_expand_nodeid_empty_host)
{
    char *out = NULL;
    int randomised = -1;
    ck_assert_int_eq(aempi_config_expand_nodeid("%n", "", "RUNIQ", &out,
                                                &randomised), AEMP_OK);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(randomised, 0);
    free(out);
}
END_TEST

static int all_alnum(const char *s)
{
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
            return 0;
    return 1;
}

START_TEST(test_random_ids)
{
    char runiq[AEMP_RUNIQ_LEN + 1], *out = NULL;
    int randomised = 0;

    for (int i = 0; i < 200; i++) {
        ck_assert_int_eq(aempi_config_runiq(runiq), AEMP_OK);
        ck_assert_uint_eq(strlen(runiq), 10);
        ck_assert(all_alnum(runiq));
        char last = runiq[9];
        ck_assert_msg(!(last >= 'a' && last <= 'z'), "last char %c", last);
    }
    /* a fresh id when none is given */
    ck_assert_int_eq(aempi_config_expand_nodeid("anon/", "h", NULL, &out,
                                                &randomised), AEMP_OK);
    ck_assert_uint_eq(strlen(out), 15);
    ck_assert(strncmp(out, "anon/", 5) == 0 && all_alnum(out + 5));
    ck_assert_int_eq(randomised, 1);
    free(out);
}
END_TEST

/* ---- addresses ---- */

static const struct {
    const char *in, *host, *port;
} hostport_cases[] = {
    {"host:4040", "host", "4040"},
    {"host", "host", "0"},
    {"*", "*", "0"},
    {"*:*", "*", "*"},
    {"[::1]:4040", "::1", "4040"},
    {"::1", "::1", "0"},
    {"::1:4040", "::1:4040", "0"},
    {"::1 4040", "::1", "4040"},
    {"::1#4040", "::1", "4040"},
    {" host:1", NULL, NULL},
    {"host 1", "host", "1"},
    {"host  1  ", "host", "1"},
    {"dead:beef:4040", NULL, NULL},
    {"abc:4040", "abc", "4040"},
    {"1.2.3.4:5", "1.2.3.4", "5"},
    {"[1.2.3.4]:5", "1.2.3.4", "5"},
    {"/tmp/sock", "unix/", "/tmp/sock"},
    {"[]:1", NULL, NULL},
    {"[abc", NULL, NULL},
    {"host:1:2", NULL, NULL},
    {"ho st:1", NULL, NULL},
    {"[a:b]:1", NULL, NULL},
    {"::ffff:1.2.3.4", "::ffff:1.2.3.4", "0"},
    {"::ffff:1.2.3.4:80", NULL, NULL},
    {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8", "0"},
    {"host:", NULL, NULL},
    {"host:1 ", "host", "1"},
    {"host:1x", "host", "1x"},
    {"  ::1 80", "::1", "80"},
    {"fe80::1%eth0:80", NULL, NULL},
    {"[::1]", "::1", "0"},
    {"[::1] 80", "::1", "80"},
    {"[::1]x", NULL, NULL},
    {"", NULL, NULL},
    {"host\n", "host\n", "0"},
    {"host:1\n", "host", "1"},
    {"a\tb:1", "a\tb", "1"},
    {"host\t1", "host\t1", "0"},
    {"\thost", NULL, NULL},
    {"host:1\nx", NULL, NULL},
    {"a:b", "a", "b"},
    {"f::", "f::", "0"},
    {"g::1", NULL, NULL},
    {"1.2.3.4.5:80", "1.2.3.4.5", "80"},
};

START_TEST(test_parse_hostport)
{
    char *host = NULL, *port = NULL;
    int r = aempi_parse_hostport(hostport_cases[_i].in, "0", &host, &port);
    if (!hostport_cases[_i].host) {
        ck_assert_msg(r == AEMP_EINVAL, "'%s' parsed as %s %s", hostport_cases[_i].in,
                      host, port);
        return;
    }
    ck_assert_msg(r == AEMP_OK, "'%s' did not parse", hostport_cases[_i].in);
    ck_assert_str_eq(host, hostport_cases[_i].host);
    ck_assert_str_eq(port, hostport_cases[_i].port);
    free(host);
    free(port);
}
END_TEST

/* parse_address, then format_address, as Perl gives them */
static const struct {
    const char *in, *formatted;
} address_cases[] = {
    {"::", "::"},
    {"::1", "::1"},
    {"::2", "::0.0.0.2"},
    {"::1.2.3.4", "::1.2.3.4"},
    {"::ffff:1.2.3.4", "1.2.3.4"},
    {"::ffff:0:1.2.3.4", "::ffff:0:1.2.3.4"},
    {"1:0:0:2:0:0:0:3", "1:0:0:2::3"},
    {"1:0:0:2:0:0:3:4", "1::2:0:0:3:4"},
    {"2001:db8::1", "2001:db8::1"},
    {"fe80::1", "fe80::1"},
    {"0:0:1::", "0:0:1::"},
    {"1::", "1::"},
    {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
    {"1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"},
    {"2001:DB8:0:0:8:800:200C:417A", "2001:db8::8:800:200c:417a"},
    {"127.1", "127.0.0.1"},
    {"10.1", "10.0.0.1"},
    {"0x7f.1", "127.0.0.1"},
    {"010.0.0.1", "8.0.0.1"},
    {"1.2.3.4", "1.2.3.4"},
    {"256.1.1.1", NULL},
    {"1.2.3", "1.2.0.3"},
    {"1.65536", "1.1.0.0"},
    {"4294967295", "255.255.255.255"},
    {"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
    {"1:2:3:4:5:6:7:1.2.3.4", NULL},
    {"::1::2", NULL},
    {"1:2:3:4:5:6:7", NULL},
    {"1:2:3:4:5:6:7:8:9", NULL},
    {"g::1", NULL},
    {"12345::1", NULL},
    {"a:b::c:d", "a:b::c:d"},
    {"0:0:0:0:0:0:0:1", "::1"},
    {"::0:1", "::1"},
    {"0::", "::"},
    {"1:0::", "1::"},
    {"0:1:0:0:0:0:0:0", "0:1::"},
    {"::1:4040", "::0.1.64.64"},
    {"", NULL},
    {"host", NULL},
};

START_TEST(test_format_address)
{
    unsigned char a[16];
    char text[64];
    size_t len = aempi_parse_address(address_cases[_i].in, a);
    if (!address_cases[_i].formatted) {
        ck_assert_msg(len == 0, "'%s' parsed", address_cases[_i].in);
        return;
    }
    ck_assert_msg(len == 4 || len == 16, "'%s' did not parse", address_cases[_i].in);
    aempi_format_address(a, len, text);
    ck_assert_str_eq(text, address_cases[_i].formatted);
}
END_TEST

START_TEST(test_format_hostport)
{
    char *s = aempi_format_hostport("::1", "4040");
    ck_assert_str_eq(s, "[::1]:4040");
    free(s);
    s = aempi_format_hostport("1.2.3.4", "0");
    ck_assert_str_eq(s, "1.2.3.4:0");
    free(s);
    s = aempi_format_hostport("h", "");
    ck_assert_str_eq(s, "h");
    free(s);
}
END_TEST

/* ---- binds and seeds ---- */

static const char *const local_addrs_json = "[\"10.0.0.1\",\"2001:db8::1\"]";

static const struct {
    const char *in, *expect; /* expect NULL: an error */
} expand_cases[] = {
    {"[\"*\"]", "[\"10.0.0.1:0\",\"[2001:db8::1]:0\"]"},
    {"[\"*:*\"]", "[\"10.0.0.1:0\",\"[2001:db8::1]:0\"]"},
    /* '*' keeps the port as written */
    {"[\"*:01\"]", "[\"10.0.0.1:01\",\"[2001:db8::1]:01\"]"},
    /* duplicates go within an entry, not across entries */
    {"[\"*:4040,*:4040\"]", "[\"10.0.0.1:4040\",\"[2001:db8::1]:4040\"]"},
    {"[\"1.2.3.4:80,[::1]:81,1.2.3.4:80\",\"1.2.3.4:80\"]",
     "[\"1.2.3.4:80\",\"[::1]:81\",\"1.2.3.4:80\"]"},
    /* a bare port is the host name's (localhost here) */
    {"[\"4040\"]", "[\"127.0.0.1:4040\",\"[::1]:4040\"]"},
    {"[4040]", "[\"127.0.0.1:4040\",\"[::1]:4040\"]"},
    {"[\"\"]", "[]"},
    {"[\",\"]", "[]"},
    {"[\"1.2.3.4:5,,6\"]",
     "[\"1.2.3.4:5\",\"127.0.0.1:0\",\"[::1]:0\",\"127.0.0.1:6\",\"[::1]:6\"]"},
    {"[\"127.1:04040\"]", "[\"127.0.0.1:4040\"]"},
    {"[\"1.2.3.4:70000\"]", "[\"1.2.3.4:4464\"]"},
    {"[\"::ffff:1.2.3.4\"]", "[\"1.2.3.4:0\"]"},
    {"[\"::1:4040\"]", "[\"[::0.1.64.64]:0\"]"},
    {"[\"/tmp/s\"]", "[\"unix/:/tmp/s\"]"},
    {"[\"localhost:x=7\"]", "[\"127.0.0.1:7\",\"[::1]:7\"]"},
    {"[\"dead:beef:4040\"]", NULL},
    {"[\"localhost:nosuchservice\"]", NULL},
    {"[null,\"1.2.3.4:1\"]", "[\"1.2.3.4:1\"]"},
    {"[[\"x\"]]", NULL},
    {"\"*\"", NULL},
};

START_TEST(test_expand_hostports)
{
    aemp_val *addrs = parse(local_addrs_json), *in = parse(expand_cases[_i].in), *out = NULL;
    char *err = NULL;
    int r = aempi_config_expand_hostports(in, "localhost", addrs, &out, &err);
    if (!expand_cases[_i].expect) {
        ck_assert_int_eq(r, AEMP_ECONFIG);
        ck_assert_ptr_nonnull(err);
        free(err);
    } else {
        ck_assert_msg(r == AEMP_OK, "%s: %s", expand_cases[_i].in, err ? err : "?");
        ck_canon(out, expand_cases[_i].expect);
    }
    aemp_unref(out);
    aemp_unref(in);
    aemp_unref(addrs);
}
END_TEST

START_TEST(test_expand_messages)
{
    aemp_val *in = parse("[\"dead:beef:4040\"]"), *out = NULL;
    char *err = NULL;
    ck_assert_int_eq(aempi_config_expand_hostports(in, "h", NULL, &out, &err),
                     AEMP_ECONFIG);
    ck_assert_str_eq(err, "dead:beef:4040: unparsable transport descriptor");
    free(err);
    aemp_unref(in);
    in = parse("[\"localhost:nosuchservice\"]");
    err = NULL;
    ck_assert_int_eq(aempi_config_expand_hostports(in, "h", NULL, &out, &err),
                     AEMP_ECONFIG);
    ck_assert_str_eq(err, "nosuchservice/tcp: service unknown");
    free(err);
    aemp_unref(in);
}
END_TEST

/* The real interfaces: whatever they are, never loopback or link-local. */
START_TEST(test_local_addrs)
{
    aemp_val *addrs = NULL;
    ck_assert_int_eq(aempi_config_local_addrs(&addrs, NULL), AEMP_OK);
    for (size_t i = 0; i < aemp_array_len(addrs); i++) {
        const char *a = aemp_str_ptr(aemp_array_at(addrs, i), NULL);
        ck_assert_msg(strncmp(a, "127.", 4) != 0 && strcmp(a, "::1") != 0
                      && strncmp(a, "fe80:", 5) != 0, "address %s", a);
    }
    aemp_unref(addrs);
}
END_TEST

/* ---- configure ---- */

static aemp_val *resolve(const char *rc_json, const char *args_json, int *randomised,
                         int expect, char **err)
{
    aemp_val *rc = rc_json ? parse(rc_json) : NULL;
    aemp_val *args = args_json ? parse(args_json) : NULL;
    aemp_val *addrs = parse(local_addrs_json), *out = NULL;
    aemp_config_env env = {0};

    env.rc = rc;
    env.nodename = "localhost";
    env.runiq = "abcdefghiJ";
    env.local_addrs = addrs;
    env.rcpath = "/nonexistent/rc";
    int r = aempi_config_resolve_env(args, &env, &out, randomised, err);
    ck_assert_msg(r == expect, "resolve gave %d (%s)", r, err && *err ? *err : "");
    aemp_unref(rc);
    aemp_unref(args);
    aemp_unref(addrs);
    return out;
}

START_TEST(test_resolve_defaults)
{
    int randomised = 0;
    /* no profile given: the host name; node id "PROFILE/"; binds "*" */
    aemp_val *c = resolve("{\"version\":1}", NULL, &randomised, AEMP_OK, NULL);
    ck_assert_str_eq(aemp_str_ptr(aemp_map_get(c, "nodeid"), NULL), "localhost/abcdefghiJ");
    ck_assert_int_eq(randomised, 1);
    ck_canon(aemp_map_get(c, "binds"), "[\"10.0.0.1:0\",\"[2001:db8::1]:0\"]");
    ck_canon(aemp_map_get(c, "seeds"), "[]");
    ck_assert_int_eq(aemp_as_int(aemp_map_get(c, "monitor_timeout")), 30);
    aemp_unref(c);

    /* $binds ||= ["*"]: an empty list is true in Perl and stays empty */
    c = resolve("{\"binds\":[]}", NULL, NULL, AEMP_OK, NULL);
    ck_canon(aemp_map_get(c, "binds"), "[]");
    aemp_unref(c);
    c = resolve("{\"binds\":false,\"seeds\":null}", NULL, NULL, AEMP_OK, NULL);
    ck_canon(aemp_map_get(c, "binds"), "[\"10.0.0.1:0\",\"[2001:db8::1]:0\"]");
    ck_canon(aemp_map_get(c, "seeds"), "[]");
    aemp_unref(c);

    /* an empty profile name is a name: node id "/" + random */
    c = resolve(NULL, "{\"profile\":\"\",\"norc\":1}", &randomised, AEMP_OK, NULL);
    ck_assert_str_eq(aemp_str_ptr(aemp_map_get(c, "nodeid"), NULL), "/abcdefghiJ");
    aemp_unref(c);
}
END_TEST

START_TEST(test_resolve_profile)
{
    int randomised = 1;
    aemp_val *c = resolve(
        "{\"secret\":\"g\",\"seeds\":[\"1.2.3.4:1\"],\"profile\":{\"p\":{\"parent\":\"q\","
        "\"nodeid\":\"n-%n\",\"binds\":[\"4040\",\"1.2.3.4:2\"]},\"q\":{\"seeds\":"
        "[\"1.2.3.4:1,1.2.3.4:1\",\"1.2.3.4:1\",\"5.6.7.8:2\"],\"secret\":\"q\"}}}",
        "{\"profile\":\"p\",\"connect_interval\":9}", &randomised, AEMP_OK, NULL);
    ck_assert_str_eq(aemp_str_ptr(aemp_map_get(c, "nodeid"), NULL), "n-localhost");
    ck_assert_int_eq(randomised, 0);
    ck_canon(aemp_map_get(c, "binds"), "[\"127.0.0.1:4040\",\"[::1]:4040\",\"1.2.3.4:2\"]");
    /* seeds: duplicates removed across entries too */
    ck_canon(aemp_map_get(c, "seeds"), "[\"1.2.3.4:1\",\"5.6.7.8:2\"]");
    ck_assert_str_eq(aemp_str_ptr(aemp_map_get(c, "secret"), NULL), "q");
    ck_assert_int_eq(aemp_as_int(aemp_map_get(c, "connect_interval")), 9);
    aemp_unref(c);
}
END_TEST

START_TEST(test_resolve_errors)
{
    char *err = NULL;
    /* Perl: "$node: illegal node ID" for a false node id */
    resolve("{\"nodeid\":\"\"}", NULL, NULL, AEMP_ECONFIG, &err);
    ck_assert_str_eq(err, ": illegal node ID (see AnyEvent::MP manpage for syntax)");
    free(err);
    err = NULL;
    resolve("{\"nodeid\":\"0\"}", NULL, NULL, AEMP_ECONFIG, &err);
    free(err);
    err = NULL;
    resolve("{\"binds\":\"*\"}", NULL, NULL, AEMP_ECONFIG, &err);
    free(err);
    err = NULL;
    resolve("{\"seeds\":{}}", NULL, NULL, AEMP_ECONFIG, &err);
    free(err);
    err = NULL;
    resolve("{\"profile\":{\"x\":{\"parent\":\"x\"}}}", "{\"profile\":\"x\"}", NULL,
            AEMP_ECONFIG, &err);
    free(err);
}
END_TEST

START_TEST(test_resolve_rcfile)
{
    char dir[] = "/tmp/aemp-config-XXXXXX", path[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/rc", dir);
    FILE *f = fopen(path, "w");
    fputs("{ # from a file\n \"nodeid\" : \"fromfile\", \"binds\" : [ \"1.2.3.4:1\", ],\n}\n", f);
    fclose(f);

    aemp_val *args = parse("{\"profile\":\"p\"}"), *out = NULL;
    int randomised = -1;
    ck_assert_int_eq(aempi_config_resolve(args, path, &out, &randomised,
                                          NULL), AEMP_OK);
    ck_assert_str_eq(aemp_str_ptr(aemp_map_get(out, "nodeid"), NULL), "fromfile");
    ck_assert_int_eq(randomised, 0);
    ck_canon(aemp_map_get(out, "binds"), "[\"1.2.3.4:1\"]");
    aemp_unref(out);
    aemp_unref(args);

    /* norc: the file is not even read (this one would not parse) */
    f = fopen(path, "w");
    fputs("{ nonsense", f);
    fclose(f);
    args = parse("{\"profile\":\"p\",\"norc\":1,\"binds\":[\"1.2.3.4:3\"]}");
    ck_assert_int_eq(aempi_config_resolve(args, path, &out, &randomised,
                                          NULL), AEMP_OK);
    ck_assert(strncmp(aemp_str_ptr(aemp_map_get(out, "nodeid"), NULL), "p/", 2) == 0);
    aemp_unref(out);
    aemp_unref(args);
    char *err = NULL;
    ck_assert_int_eq(aempi_config_resolve(NULL, path, &out, &randomised,
                                          &err), AEMP_ECONFIG);
    ck_assert_msg(strstr(err, path) != NULL, "message names the file: %s", err);
    free(err);

    unlink(path);
    rmdir(dir);
}
END_TEST

/* ---- the rc file ---- */

START_TEST(test_rc_relaxed)
{
    static const struct {
        const char *in, *expect; /* canonical JSON, or NULL: an error */
    } cases[] = {
        {"{\"a\":1,}", "{\"a\":1}"},
        {"{\"a\":[1,2,],}", "{\"a\":[1,2]}"},
        {"{\"a\":1 # c\n}", "{\"a\":1}"},
        {"{\"a#b\":\"x#y\"}", "{\"a#b\":\"x#y\"}"},
        {"{\"a\":\"x\ty\"}", "{\"a\":\"x\\ty\"}"},
        {"{\"a\":1}#end", "{\"a\":1}"},
        {"# lead\n{\"a\":[1 #c]\n]}", "{\"a\":[1]}"},
        {"{\"a\":[1,#c\n]}", "{\"a\":[1]}"},
        {"{\"a\":1,\n  # x\n}", "{\"a\":1}"},
        {"{\"a\":1,\r# x\r}", "{\"a\":1}"},
        {"{\"q\\\"#\":1}", "{\"q\\\"#\":1}"},
        {"{\"a\":[1,,]}", NULL},
        {"{\"a\":[,]}", NULL},
        {"{,}", NULL},
        {"{\"a\":,}", NULL},
        {"{\"a\":1},", NULL},
        {"[1]", NULL},
        {"\"x\"", NULL},
        {"", NULL},
        {"{\"a\":1} {}", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        aemp_val *rc = NULL;
        char *err = NULL;
        int r = aempi_rc_parse(cases[i].in, strlen(cases[i].in), "RCNAME",
                               &rc, &err);
        if (!cases[i].expect) {
            ck_assert_msg(r == AEMP_ECONFIG, "'%s' parsed", cases[i].in);
            ck_assert_msg(err && strncmp(err, "RCNAME: ", 8) == 0, "message: %s", err);
            free(err);
            continue;
        }
        ck_assert_msg(r == AEMP_OK, "'%s': %s", cases[i].in, err ? err : "?");
        ck_canon(rc, cases[i].expect);
        aemp_unref(rc);
    }
}
END_TEST

START_TEST(test_rc_missing)
{
    aemp_val *rc = NULL;
    ck_assert_int_eq(aempi_rc_read("/nonexistent/dir/rc", &rc, NULL), AEMP_OK);
    ck_canon(rc, "{\"version\":1}");
    aemp_unref(rc);
}
END_TEST

START_TEST(test_pretty)
{
    /* JSON::XS->new->pretty->canonical->encode of the same data */
    static const char expect[] =
        "{\n"
        "   \"a\" : {},\n"
        "   \"b\" : [\n"
        "      1,\n"
        "      \"x\",\n"
        "      {}\n"
        "   ],\n"
        "   \"c\" : [],\n"
        "   \"d\" : {\n"
        "      \"e\" : 1.5,\n"
        "      \"f\" : null,\n"
        "      \"g\" : true\n"
        "   }\n"
        "}\n";
    aemp_val *v = parse("{\"b\":[1,\"x\",{}],\"a\":{},\"d\":{\"g\":true,\"f\":null,\"e\":1.5},\"c\":[]}");
    size_t len;
    char *text;
    ck_assert_int_eq(aempi_json_pretty(v, &text, &len), AEMP_OK);
    ck_assert_str_eq(text, expect);
    ck_assert_uint_eq(len, strlen(expect));
    free(text);
    aemp_unref(v);

    v = parse("[]");
    ck_assert_int_eq(aempi_json_pretty(v, &text, NULL), AEMP_OK);
    ck_assert_str_eq(text, "[]\n");
    free(text);
    aemp_unref(v);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("profiles");
    tcase_add_loop_test(tc, test_find_profile_perl, 0,
                        sizeof profile_cases / sizeof *profile_cases);
    tcase_add_test(tc, test_find_profile_no_rc);
    tcase_add_test(tc, test_find_profile_loops);
    tcase_add_test(tc, test_find_profile_bad_rc);
    tcase_add_test(tc, test_args_from_list);
    suite_add_tcase(s, tc);

    tc = tcase_create("nodeid");
    tcase_add_loop_test(tc, test_expand_nodeid, 0, sizeof nodeid_cases / sizeof *nodeid_cases);
    tcase_add_test(tc, test_expand_nodeid_empty_host);
    tcase_add_test(tc, test_random_ids);
    suite_add_tcase(s, tc);

    tc = tcase_create("addresses");
    tcase_add_loop_test(tc, test_parse_hostport, 0,
                        sizeof hostport_cases / sizeof *hostport_cases);
    tcase_add_loop_test(tc, test_format_address, 0,
                        sizeof address_cases / sizeof *address_cases);
    tcase_add_test(tc, test_format_hostport);
    tcase_add_loop_test(tc, test_expand_hostports, 0,
                        sizeof expand_cases / sizeof *expand_cases);
    tcase_add_test(tc, test_expand_messages);
    tcase_add_test(tc, test_local_addrs);
    suite_add_tcase(s, tc);

    tc = tcase_create("configure");
    tcase_add_test(tc, test_resolve_defaults);
    tcase_add_test(tc, test_resolve_profile);
    tcase_add_test(tc, test_resolve_errors);
    tcase_add_test(tc, test_resolve_rcfile);
    suite_add_tcase(s, tc);

    tc = tcase_create("rcfile");
    tcase_add_test(tc, test_rc_relaxed);
    tcase_add_test(tc, test_rc_missing);
    tcase_add_test(tc, test_pretty);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(config_suite());
}
