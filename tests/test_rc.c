/* Tests for the public rc-file API (aemp/rc.h), through the public headers
 * only (this test is built without libaemp's internal include paths, as a
 * program using the installed library is): load and save in a temporary
 * directory, keys at the top level and in profiles, find_profile over a
 * parent chain, gensecret, and refused arguments.
 *
 * The expected find_profile results were produced by Perl:
 * AnyEvent::MP::Config 2.02's find_profile on the same rc data, printed
 * with JSON::XS->canonical. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aemp/aemp.h"
#include "testutil.h"

/* A temporary directory with the rc file's path in it. */
typedef struct tmp_rc {
    char dir[64];
    char path[96];
} tmp_rc;

static void tmp_rc_make(tmp_rc *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/aemp-rc-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/rc", t->dir);
}

/* Removes the rc file, its backup and the directory. */
static void tmp_rc_remove(tmp_rc *t)
{
    char backup[128];
    snprintf(backup, sizeof backup, "%s~", t->path);
    unlink(t->path);
    unlink(backup);
    ck_assert_int_eq(rmdir(t->dir), 0);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Asserts that v's canonical JSON is expect (v NULL: expect NULL). */
static void ck_canon(const aemp_val *v, const char *expect)
{
    if (!expect) {
        ck_assert_ptr_null(v);
        return;
    }
    ck_assert_ptr_nonnull(v);
    char *json = aemp_to_json_canonical(v, NULL);
    ck_assert_str_eq(json, expect);
    free(json);
}

static aemp_val *parse(const char *json)
{
    aemp_val *v = aemp_from_json(json, strlen(json), NULL);
    ck_assert_ptr_nonnull(v);
    return v;
}

START_TEST(test_new_and_path)
{
    setenv("PERL_ANYEVENT_MP_RC", "/x/rc", 1);
    aemp_rc *rc = aemp_rc_new(NULL);
    ck_assert_str_eq(aemp_rc_path(rc), "/x/rc");
    /* nothing read yet: Config.pm's data without a file */
    ck_canon(aemp_rc_get(rc, NULL, NULL), "{\"version\":1}");
    ck_assert_str_eq(aemp_rc_errmsg(rc), "");
    aemp_rc_free(rc);

    unsetenv("PERL_ANYEVENT_MP_RC");
    setenv("HOME", "/home/z", 1);
    rc = aemp_rc_new(NULL);
    ck_assert_str_eq(aemp_rc_path(rc), "/home/z/.perl-anyevent-mp");
    aemp_rc_free(rc);

    rc = aemp_rc_new("/given/path");
    ck_assert_str_eq(aemp_rc_path(rc), "/given/path");
    aemp_rc_free(rc);
}
END_TEST

/* Keys set at the top level and in a new profile are saved as JSON::XS's
 * pretty canonical layout and load again the same. */
START_TEST(test_save_load_round_trip)
{
    tmp_rc t;
    tmp_rc_make(&t);
    aemp_rc *rc = aemp_rc_new(t.path);

    /* a missing file is Config.pm's default data */
    ck_assert_int_eq(aemp_rc_load(rc), AEMP_OK);
    ck_canon(aemp_rc_get(rc, NULL, NULL), "{\"version\":1}");

    ck_assert_int_eq(aemp_rc_set(rc, NULL, "secret", aemp_str("s")), AEMP_OK);
    ck_assert_int_eq(aemp_rc_set(rc, "p", "binds", aemp_arrayv(aemp_str("*:1"), NULL)),
                     AEMP_OK);
    ck_assert_int_eq(aemp_rc_save(rc), AEMP_OK);
    char *text = read_file(t.path);
    ck_assert_str_eq(text,
                     "{\n"
                     "   \"profile\" : {\n"
                     "      \"p\" : {\n"
                     "         \"binds\" : [\n"
                     "            \"*:1\"\n"
                     "         ]\n"
                     "      }\n"
                     "   },\n"
                     "   \"secret\" : \"s\",\n"
                     "   \"version\" : 1\n"
                     "}\n"
                     "\n");
    free(text);
    /* a new file is private (the secret), the temporary one is gone */
    struct stat st;
    char backup[128], tmp[128];
    snprintf(backup, sizeof backup, "%s~", t.path);
    snprintf(tmp, sizeof tmp, "%s~new~", t.path);
    ck_assert_int_eq(stat(t.path, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert_int_ne(access(tmp, F_OK), 0);

    aemp_rc *back = aemp_rc_new(t.path);
    ck_assert_int_eq(aemp_rc_load(back), AEMP_OK);
    ck_assert(aemp_equal(aemp_rc_get(rc, NULL, NULL), aemp_rc_get(back, NULL, NULL)));
    ck_canon(aemp_rc_get(back, "p", "binds"), "[\"*:1\"]");

    /* a second save keeps the file's mode and the first file as PATH~ */
    ck_assert_int_eq(chmod(t.path, 0640), 0);
    ck_assert_int_eq(aemp_rc_set(back, NULL, "secret", aemp_str("t")), AEMP_OK);
    ck_assert_int_eq(aemp_rc_save(back), AEMP_OK);
    ck_assert_int_eq(stat(t.path, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0640);
    text = read_file(backup);
    ck_assert_ptr_nonnull(strstr(text, "\"secret\" : \"s\""));
    free(text);
    ck_assert_int_eq(aemp_rc_load(rc), AEMP_OK);
    ck_canon(aemp_rc_get(rc, NULL, "secret"), "\"t\"");

    /* and its owner and group, where the writer may set them (root: a
     * service's rc, root:caemp 0640) */
    if (geteuid() == 0) {
        ck_assert_int_eq(chown(t.path, 0, 4242), 0);
        ck_assert_int_eq(aemp_rc_set(back, NULL, "secret", aemp_str("u")),
                         AEMP_OK);
        ck_assert_int_eq(aemp_rc_save(back), AEMP_OK);
        ck_assert_int_eq(stat(t.path, &st), 0);
        ck_assert_int_eq(st.st_gid, 4242);
        ck_assert_int_eq(st.st_mode & 07777, 0640);
    }

    aemp_rc_free(back);
    aemp_rc_free(rc);
    tmp_rc_remove(&t);
}
END_TEST

START_TEST(test_load_errors)
{
    tmp_rc t;
    tmp_rc_make(&t);
    aemp_rc *rc = aemp_rc_new(t.path);
    ck_assert_int_eq(aemp_rc_set(rc, NULL, "kept", aemp_int(1)), AEMP_OK);

    /* relaxed JSON, as Config.pm reads it */
    write_file(t.path, "{ # a comment\n \"a\" : [1, 2,], \"version\" : 1, }\n");
    ck_assert_int_eq(aemp_rc_load(rc), AEMP_OK);
    ck_canon(aemp_rc_get(rc, NULL, NULL), "{\"a\":[1,2],\"version\":1}");

    /* not an object: an error naming the file; the data stays */
    write_file(t.path, "[1]");
    ck_assert_int_eq(aemp_rc_load(rc), AEMP_ECONFIG);
    ck_assert_ptr_nonnull(strstr(aemp_rc_errmsg(rc), t.path));
    ck_canon(aemp_rc_get(rc, NULL, "a"), "[1,2]");
    write_file(t.path, "{\"a\":");
    ck_assert_int_eq(aemp_rc_load(rc), AEMP_ECONFIG);
    ck_assert_ptr_nonnull(strstr(aemp_rc_errmsg(rc), t.path));

    /* a success clears the message */
    ck_assert_int_eq(aemp_rc_set(rc, NULL, "b", aemp_int(2)), AEMP_OK);
    ck_assert_str_eq(aemp_rc_errmsg(rc), "");
    aemp_rc_free(rc);
    unlink(t.path);

    /* a directory cannot be read; an unwritable place cannot be saved to */
    rc = aemp_rc_new(t.dir);
    ck_assert_int_eq(aemp_rc_load(rc), AEMP_EIO);
    aemp_rc_free(rc);
    rc = aemp_rc_new("/nonexistent/dir/rc");
    ck_assert_int_eq(aemp_rc_save(rc), AEMP_EIO);
    ck_assert_ptr_nonnull(strstr(aemp_rc_errmsg(rc), "/nonexistent/dir/rc~new~"));
    aemp_rc_free(rc);
    tmp_rc_remove(&t);
}
END_TEST

/* get, set and del at the top level and in profiles. */
START_TEST(test_keys_and_profiles)
{
    aemp_rc *rc = aemp_rc_new("/unused");

    ck_assert_ptr_null(aemp_rc_get(rc, NULL, "secret"));
    ck_assert_ptr_null(aemp_rc_get(rc, "p", NULL));
    ck_assert_ptr_null(aemp_rc_get(rc, "p", "binds"));

    /* a set in a missing profile makes it, and the "profile" map */
    ck_assert_int_eq(aemp_rc_set(rc, "p", "nodeid", aemp_str("n/")), AEMP_OK);
    ck_canon(aemp_rc_get(rc, NULL, "profile"), "{\"p\":{\"nodeid\":\"n/\"}}");
    ck_canon(aemp_rc_get(rc, "p", NULL), "{\"nodeid\":\"n/\"}");
    ck_assert_ptr_null(aemp_rc_get(rc, NULL, "nodeid"));

    /* the profile entry itself: a map, or refused */
    ck_assert_int_eq(aemp_rc_set(rc, "q", NULL, aemp_map()), AEMP_OK);
    ck_canon(aemp_rc_get(rc, "q", NULL), "{}");
    ck_assert_int_eq(aemp_rc_set(rc, "q", NULL, aemp_str("x")), AEMP_EINVAL);
    ck_canon(aemp_rc_get(rc, "q", NULL), "{}");

    ck_assert_int_eq(aemp_rc_del(rc, "p", "nodeid"), AEMP_OK);
    ck_assert_int_eq(aemp_rc_del(rc, "p", "nodeid"), AEMP_ENOTFOUND);
    ck_assert_int_eq(aemp_rc_del(rc, "nosuch", "nodeid"), AEMP_ENOTFOUND);
    ck_assert_int_eq(aemp_rc_del(rc, "q", NULL), AEMP_OK);
    ck_assert_ptr_null(aemp_rc_get(rc, "q", NULL));
    ck_assert_int_eq(aemp_rc_del(rc, "q", NULL), AEMP_ENOTFOUND);
    ck_assert_int_eq(aemp_rc_set(rc, NULL, "secret", aemp_str("s")), AEMP_OK);
    ck_assert_int_eq(aemp_rc_del(rc, NULL, "secret"), AEMP_OK);
    ck_canon(aemp_rc_get(rc, NULL, NULL), "{\"profile\":{\"p\":{}},\"version\":1}");

    /* a profile, or the "profile" key, holding something else */
    ck_assert_int_eq(aemp_rc_set(rc, NULL, "profile", parse("{\"s\":\"str\"}")), AEMP_OK);
    ck_canon(aemp_rc_get(rc, "s", NULL), "\"str\"");
    ck_assert_ptr_null(aemp_rc_get(rc, "s", "x"));
    ck_assert_int_eq(aemp_rc_set(rc, "s", "x", aemp_int(1)), AEMP_ECONFIG);
    ck_assert_ptr_nonnull(strstr(aemp_rc_errmsg(rc), "profile \"s\" is not an object"));
    ck_assert_int_eq(aemp_rc_set(rc, NULL, "profile", aemp_int(3)), AEMP_OK);
    ck_assert_int_eq(aemp_rc_set(rc, "s", "x", aemp_int(1)), AEMP_ECONFIG);
    ck_assert_ptr_nonnull(strstr(aemp_rc_errmsg(rc), "\"profile\" is not an object"));
    aemp_rc_free(rc);
}
END_TEST

/* The rc data of Perl's run: {"version":1,"secret":"top",
 * "monitor_timeout":7,"profile":{"base":{"binds":["*:4040"],
 * "secret":"base"},"leaf":{"parent":"base","nodeid":"leaf/"}}} */
static aemp_rc *chain_rc(void)
{
    aemp_rc *rc = aemp_rc_new("/unused");
    ck_assert_int_eq(aemp_rc_set(rc, NULL, "secret", aemp_str("top")), AEMP_OK);
    ck_assert_int_eq(aemp_rc_set(rc, NULL, "monitor_timeout", aemp_int(7)), AEMP_OK);
    ck_assert_int_eq(aemp_rc_set(rc, "base", "binds", aemp_arrayv(aemp_str("*:4040"), NULL)),
                     AEMP_OK);
    ck_assert_int_eq(aemp_rc_set(rc, "base", "secret", aemp_str("base")), AEMP_OK);
    ck_assert_int_eq(aemp_rc_set(rc, "leaf", "parent", aemp_str("base")), AEMP_OK);
    ck_assert_int_eq(aemp_rc_set(rc, "leaf", "nodeid", aemp_str("leaf/")), AEMP_OK);
    return rc;
}

#define DEFAULTS_AUTH                                                           \
    "\"auth_accept\":[\"tls_sha3_512\",\"hmac_sha3_512\",\"tls_anon\",\"cleartext\"]," \
    "\"auth_offer\":[\"tls_sha3_512\",\"hmac_sha3_512\"],"
#define PROFILES                                                                \
    "\"profile\":{\"base\":{\"binds\":[\"*:4040\"],\"secret\":\"base\"},"          \
    "\"leaf\":{\"nodeid\":\"leaf/\",\"parent\":\"base\"}},"

static const struct {
    const char *name, *args, *expect;
} chain_cases[] = {
    {"leaf", "{\"monitor_timeout\":99,\"connect_interval\":5}",
     "{" DEFAULTS_AUTH "\"binds\":[\"*:4040\"],\"connect_interval\":5,"
     "\"framing_format\":[\"cbor\",\"json\",\"storable\"],\"monitor_timeout\":7,"
     "\"nodeid\":\"leaf/\",\"parent\":\"base\"," PROFILES "\"secret\":\"base\",\"version\":1}"},
    {"leaf", "{\"monitor_timeout\":99,\"force\":1}",
     "{" DEFAULTS_AUTH "\"binds\":[\"*:4040\"],\"connect_interval\":2,"
     "\"framing_format\":[\"cbor\",\"json\",\"storable\"],\"monitor_timeout\":99,"
     "\"nodeid\":\"leaf/\",\"parent\":\"base\"," PROFILES "\"secret\":\"base\",\"version\":1}"},
    {"leaf", "{\"monitor_timeout\":99,\"norc\":1}",
     "{" DEFAULTS_AUTH "\"connect_interval\":2,"
     "\"framing_format\":[\"cbor\",\"json\",\"storable\"],\"monitor_timeout\":99}"},
    {NULL, NULL,
     "{" DEFAULTS_AUTH "\"connect_interval\":2,"
     "\"framing_format\":[\"cbor\",\"json\",\"storable\"],\"monitor_timeout\":7,"
     PROFILES "\"secret\":\"top\",\"version\":1}"},
};

START_TEST(test_find_profile_chain)
{
    aemp_rc *rc = chain_rc();
    aemp_val *args = chain_cases[_i].args ? parse(chain_cases[_i].args) : NULL;
    aemp_val *before = aemp_copy(aemp_rc_get(rc, NULL, NULL));
    aemp_val *out = NULL;

    ck_assert_int_eq(aemp_rc_find_profile(rc, chain_cases[_i].name, args, &out), AEMP_OK);
    ck_canon(out, chain_cases[_i].expect);
    /* the data is not changed; the result is the caller's own */
    ck_assert(aemp_equal(before, aemp_rc_get(rc, NULL, NULL)));
    ck_assert_int_eq(aemp_map_set(out, "secret", aemp_str("mine")), AEMP_OK);
    ck_canon(aemp_rc_get(rc, "base", "secret"), "\"base\"");
    aemp_unref(out);
    aemp_unref(before);
    aemp_unref(args);
    aemp_rc_free(rc);
}
END_TEST

START_TEST(test_find_profile_loop)
{
    aemp_rc *rc = chain_rc();
    aemp_val *sentinel = aemp_int(1), *out = sentinel;

    ck_assert_int_eq(aemp_rc_set(rc, "base", "parent", aemp_str("leaf")), AEMP_OK);
    ck_assert_int_eq(aemp_rc_find_profile(rc, "leaf", NULL, &out), AEMP_ECONFIG);
    ck_assert_ptr_null(out);
    ck_assert_ptr_nonnull(strstr(aemp_rc_errmsg(rc), "loops back"));
    aemp_unref(sentinel);
    aemp_rc_free(rc);
}
END_TEST

START_TEST(test_gensecret)
{
    char a[AEMP_RC_SECRET_LEN + 1], b[AEMP_RC_SECRET_LEN + 1];

    ck_assert_int_eq(AEMP_RC_SECRET_LEN, 180); /* aemp's nonce62 180 */
    ck_assert_int_eq(aemp_rc_gensecret(a, sizeof a), AEMP_OK);
    ck_assert_int_eq(aemp_rc_gensecret(b, sizeof b), AEMP_OK);
    ck_assert_uint_eq(strlen(a), 180);
    ck_assert_uint_eq(strspn(a, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
                      180);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(aemp_rc_gensecret(a, sizeof a - 1), AEMP_EINVAL);
}
END_TEST

START_TEST(test_pretty)
{
    aemp_val *v = parse("{\"b\":[1,{}],\"a\":[]}");
    char *text = NULL;
    size_t len = 0;

    ck_assert_int_eq(aemp_rc_pretty(v, &text, &len), AEMP_OK);
    ck_assert_str_eq(text, "{\n   \"a\" : [],\n   \"b\" : [\n      1,\n      {}\n   ]\n}\n");
    ck_assert_uint_eq(len, strlen(text));
    free(text);
    aemp_unref(v);
}
END_TEST

/* NULL handles and arguments are refused with AEMP_EINVAL (NULL for a
 * pointer); a value the call takes is released (the leak checkers of the
 * sanitizer build would see it). */
START_TEST(test_null_arguments)
{
    aemp_rc *rc = aemp_rc_new("/unused");
    aemp_val *sentinel = aemp_int(1), *out = sentinel;
    char *text = (char *)"x";

    ck_assert_int_eq(aemp_rc_load(NULL), AEMP_EINVAL);
    ck_assert_int_eq(aemp_rc_save(NULL), AEMP_EINVAL);
    ck_assert_ptr_null(aemp_rc_path(NULL));
    ck_assert_str_eq(aemp_rc_errmsg(NULL), "no rc");
    ck_assert_ptr_null(aemp_rc_get(NULL, NULL, NULL));
    ck_assert_int_eq(aemp_rc_set(NULL, NULL, "k", aemp_int(1)), AEMP_EINVAL);
    ck_assert_int_eq(aemp_rc_set(rc, NULL, NULL, aemp_map()), AEMP_EINVAL);
    ck_assert_int_eq(aemp_rc_set(rc, NULL, "k", NULL), AEMP_ENOMEM);
    ck_assert_int_eq(aemp_rc_del(NULL, NULL, "k"), AEMP_EINVAL);
    ck_assert_int_eq(aemp_rc_del(rc, NULL, NULL), AEMP_EINVAL);
    ck_assert_int_eq(aemp_rc_find_profile(NULL, "p", NULL, &out), AEMP_EINVAL);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(aemp_rc_find_profile(rc, "p", NULL, NULL), AEMP_EINVAL);
    aemp_val *list = parse("[\"norc\",1]");
    ck_assert_int_eq(aemp_rc_find_profile(rc, "p", list, &out), AEMP_EINVAL);
    aemp_unref(list);
    ck_assert_int_eq(aemp_rc_gensecret(NULL, 181), AEMP_EINVAL);
    ck_assert_int_eq(aemp_rc_pretty(NULL, &text, NULL), AEMP_EINVAL);
    ck_assert_ptr_null(text);
    ck_assert_int_eq(aemp_rc_pretty(aemp_rc_get(rc, NULL, NULL), NULL, NULL), AEMP_EINVAL);
    aemp_rc_free(NULL);
    /* nothing was changed by the refused calls */
    ck_canon(aemp_rc_get(rc, NULL, NULL), "{\"version\":1}");
    aemp_unref(sentinel);
    aemp_rc_free(rc);
}
END_TEST

static Suite *rc_suite(void)
{
    Suite *s = suite_create("rc");
    TCase *tc = tcase_create("file");
    tcase_add_test(tc, test_new_and_path);
    tcase_add_test(tc, test_save_load_round_trip);
    tcase_add_test(tc, test_load_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("data");
    tcase_add_test(tc, test_keys_and_profiles);
    tcase_add_loop_test(tc, test_find_profile_chain, 0,
                        sizeof chain_cases / sizeof *chain_cases);
    tcase_add_test(tc, test_find_profile_loop);
    tcase_add_test(tc, test_gensecret);
    tcase_add_test(tc, test_pretty);
    tcase_add_test(tc, test_null_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(rc_suite());
}
