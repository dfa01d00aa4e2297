/* Handshake pieces against the values Perl computed (vectors/auth.json),
 * greeting format and parse, and the auth and framing choice. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aemp/value.h"
#include "aemp/version.h"
#include "transport_auth.h"
#include "testutil.h"

static aemp_val *cases;

static void load_cases(void)
{
    size_t len;
    char *text = test_read_vector("auth.json", &len);
    ck_assert_ptr_nonnull(text);
    aemp_val *doc = aemp_from_json(text, len, NULL);
    free(text);
    ck_assert_ptr_nonnull(doc);
    cases = aemp_ref(aemp_map_get(doc, "cases"));
    aemp_unref(doc);
    ck_assert_uint_ge(aemp_array_len(cases), 1);
}

static const char *field(const aemp_val *c, const char *k)
{
    const char *s = aemp_str_ptr(aemp_map_get(c, k), NULL);
    ck_assert_msg(s != NULL, "vector field %s missing", k);
    return s;
}

static char *unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    char *out = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned int b;
        sscanf(hex + 2 * i, "%2x", &b);
        out[i] = (char)b;
    }
    out[n] = 0;
    *len = n;
    return out;
}

START_TEST(test_vectors)
{
    load_cases();
    for (size_t i = 0; i < aemp_array_len(cases); i++) {
        const aemp_val *c = aemp_array_at(cases, i);
        const char *l1 = field(c, "lgreeting1"), *l2 = field(c, "lgreeting2");
        const char *r1 = field(c, "rgreeting1"), *r2 = field(c, "rgreeting2");
        size_t slen;
        char *secret = unhex(field(c, "secret_hex"), &slen);
        char out[2048];

        ck_assert_int_eq(aempi_auth_value("hmac_sha3_512", secret, slen, l1,
                                          l2,
                                          r1, r2, out, sizeof out), 0);
        ck_assert_str_eq(out, field(c, "hmac_sha3_512_lauth"));
        ck_assert_int_eq(aempi_auth_value("hmac_sha3_512", secret, slen, r1,
                                          r2,
                                          l1, l2, out, sizeof out), 0);
        ck_assert_str_eq(out, field(c, "hmac_sha3_512_rauth"));
        ck_assert_int_eq(aempi_auth_value("tls_sha3_512", NULL, 0, l1, l2, r1,
                                          r2, out, sizeof out), 0);
        ck_assert_str_eq(out, field(c, "tls_sha3_512_lauth"));
        ck_assert_int_eq(aempi_auth_value("tls_sha3_512", NULL, 0, r1, r2, l1,
                                          l2, out, sizeof out), 0);
        ck_assert_str_eq(out, field(c, "tls_sha3_512_rauth"));
        ck_assert_int_eq(aempi_auth_value("cleartext", secret, slen, l1, l2,
                                          r1,
                                          r2, out, sizeof out), 0);
        ck_assert_str_eq(out, field(c, "cleartext_auth"));

        /* the whole auth line Perl sent: method chosen from the remote
         * list, our hmac, framing chosen from the remote list */
        aemp_greeting rg;
        const char *err;
        ck_assert_int_eq(aempi_greeting_parse(r1, &rg, &err), 0);
        char method[64], framing[64], line[4096];
        ck_assert_int_eq(aempi_pick_common(rg.auths,
                                           "tls_sha3_512,hmac_sha3_512",
                                           0, method, sizeof method), 0);
        aemp_greeting lg;
        ck_assert_int_eq(aempi_greeting_parse(l1, &lg, &err), 0);
        ck_assert_int_eq(aempi_pick_common(rg.framings, lg.framings, 1,
                                           framing,
                                           sizeof framing), 0);
        aempi_auth_value(method, secret, slen, l1, l2, r1, r2, out,
                         sizeof out);
        snprintf(line, sizeof line, "%s;%s;%s", method, out, framing);
        ck_assert_str_eq(line, field(c, "auth_line_sent"));
        aempi_greeting_clear(&rg);
        aempi_greeting_clear(&lg);
        free(secret);
    }
    aemp_unref(cases);
}
END_TEST

START_TEST(test_greeting_roundtrip)
{
    char *line = aempi_greeting_format("node1", "hmac_sha3_512,cleartext",
                                       "json", "127.0.0.1:4040", NULL);
    ck_assert_ptr_nonnull(line);
    ck_assert_int_eq(strncmp(line, "aemp;1;node1;hmac_sha3_512,cleartext;json;",
                             42), 0);
    aemp_greeting g;
    const char *err;
    ck_assert_int_eq(aempi_greeting_parse(line, &g, &err), 0);
    ck_assert_int_eq(g.version, 1);
    ck_assert_str_eq(g.nodeid, "node1");
    ck_assert_str_eq(g.peeraddr, "127.0.0.1:4040");
    ck_assert_str_eq(g.mproto, "1");
    ck_assert_str_eq(g.gproto, "1");
    ck_assert_ptr_null(g.tls);
    /* the provider names the library's version (aemp/version.h) */
    ck_assert_str_eq(g.provider, "AE-libaemp-" AEMP_VERSION);
    aempi_greeting_clear(&g);
    free(line);
}
END_TEST

START_TEST(test_greeting_perl)
{
    /* a real greeting, key=value pairs in Perl's hash order */
    const char *perl = "aemp;1;seed1;tls_sha3_512,hmac_sha3_512,tls_anon,"
                       "cleartext;json;peeraddr=127.0.0.1:56484;gproto=1;"
                       "mproto=1;provider=AE-2.02";
    aemp_greeting g;
    const char *err;
    ck_assert_int_eq(aempi_greeting_parse(perl, &g, &err), 0);
    ck_assert_str_eq(g.nodeid, "seed1");
    ck_assert_str_eq(g.framings, "json");
    ck_assert_str_eq(g.provider, "AE-2.02");
    ck_assert_str_eq(g.peeraddr, "127.0.0.1:56484");
    aempi_greeting_clear(&g);
}
END_TEST

START_TEST(test_greeting_dataconn)
{
    /* Perl 2.02's connect_to side (AnyEvent::MP::DataConn::_connect) */
    const char *perl = "aemp-dataconn;1;p;tls_sha3_512,hmac_sha3_512,tls_anon,"
                       "cleartext;cbor,json,storable;provider=AE-2.02;"
                       "peeraddr=127.0.0.1:45851;dataconn_id=b@p";
    aemp_greeting g;
    const char *err;
    ck_assert_int_eq(aempi_greeting_parse(perl, &g, &err), 0);
    ck_assert_str_eq(g.protocol, "aemp-dataconn");
    ck_assert_str_eq(g.nodeid, "p");
    ck_assert_str_eq(g.dataconn_id, "b@p");
    ck_assert_ptr_null(g.mproto);
    aempi_greeting_clear(&g);
    /* ours: no node protocol keys, the id, tls when asked */
    char *line = aempi_greeting_format_dataconn("c", "hmac_sha3_512", "json",
                                                "127.0.0.1:1", "1.0", "c@x");
    ck_assert_ptr_nonnull(line);
    ck_assert_int_eq(strncmp(line, "aemp-dataconn;1;c;hmac_sha3_512;json;",
                             37), 0);
    ck_assert_int_eq(aempi_greeting_parse(line, &g, &err), 0);
    ck_assert_str_eq(g.dataconn_id, "c@x");
    ck_assert_str_eq(g.tls, "1.0");
    ck_assert_ptr_null(g.mproto);
    ck_assert_ptr_null(g.gproto);
    aempi_greeting_clear(&g);
    free(line);
    /* a node greeting has no id; another aemp-WORD is no protocol of ours */
    ck_assert_int_eq(aempi_greeting_parse("aemp;1;x;a;b", &g, &err), 0);
    ck_assert_ptr_null(g.dataconn_id);
    aempi_greeting_clear(&g);
    ck_assert_int_eq(aempi_greeting_parse("aemp-other;1;x;a;b;dataconn_id=1",
                                          &g, &err), -1);
    ck_assert_int_eq(aempi_greeting_parse("aemp-dataconnx;1;x;a;b", &g, &err),
                     -1);
}
END_TEST

START_TEST(test_greeting_bad)
{
    aemp_greeting g;
    const char *err = NULL;
    ck_assert_int_eq(aempi_greeting_parse("GET / HTTP/1.0", &g, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(aempi_greeting_parse("aemp;1;x", &g, &err), -1);
    ck_assert_int_eq(aempi_greeting_parse("", &g, &err), -1);
    /* a wrong version parses; the transport refuses it */
    ck_assert_int_eq(aempi_greeting_parse("aemp;2;x;hmac_sha3_512;json", &g,
                                          &err), 0);
    ck_assert_int_eq(g.version, 2);
    aempi_greeting_clear(&g);
    ck_assert_int_eq(aempi_greeting_parse("aemp;one;x;a;b", &g, &err), 0);
    ck_assert_int_ne(g.version, 1);
    aempi_greeting_clear(&g);
}
END_TEST

START_TEST(test_pick)
{
    char out[64];
    /* remote order wins; tls_* only with TLS */
    ck_assert_int_eq(aempi_pick_common("tls_sha3_512,hmac_sha3_512,tls_anon,"
                                       "cleartext",
                                       "tls_sha3_512,hmac_sha3_512", 0, out,
                                       sizeof out), 0);
    ck_assert_str_eq(out, "hmac_sha3_512");
    ck_assert_int_eq(aempi_pick_common("tls_sha3_512,hmac_sha3_512",
                                       "tls_sha3_512,hmac_sha3_512", 1, out,
                                       sizeof out), 0);
    ck_assert_str_eq(out, "tls_sha3_512");
    ck_assert_int_eq(aempi_pick_common("tls_anon,cleartext", "hmac_sha3_512",
                                       0,
                                       out, sizeof out), -1);
    ck_assert_int_eq(aempi_pick_common("cbor,json,storable", "json", 1, out,
                                       sizeof out), 0);
    ck_assert_str_eq(out, "json");
    ck_assert_int_eq(aempi_pick_common("storable", "json", 1, out, sizeof out),
                     -1);
    ck_assert(aempi_list_has("a,bb,c", "bb"));
    ck_assert(!aempi_list_has("a,bb,c", "b"));
}
END_TEST

START_TEST(test_nonce)
{
    char a[89], b[89];
    ck_assert_int_eq(aempi_nonce_line(a), 0);
    ck_assert_int_eq(aempi_nonce_line(b), 0);
    ck_assert_uint_eq(strlen(a), 88);
    ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(test_auth_errors)
{
    char out[256];
    ck_assert_int_eq(aempi_auth_value("hmac_sha3_512", NULL, 0, "a", "b", "c",
                                      "d", out, sizeof out), -1);
    ck_assert_int_eq(aempi_auth_value("hmac_md6_64_256", "x", 1, "a", "b", "c",
                                      "d", out, sizeof out), -1);
    ck_assert(aempi_auth_equal("abc", "abc"));
    ck_assert(!aempi_auth_equal("abc", "abd"));
    ck_assert(!aempi_auth_equal("abc", "abcd"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("transport_auth");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_vectors);
    tcase_add_test(tc, test_greeting_roundtrip);
    tcase_add_test(tc, test_greeting_perl);
    tcase_add_test(tc, test_greeting_dataconn);
    tcase_add_test(tc, test_greeting_bad);
    tcase_add_test(tc, test_pick);
    tcase_add_test(tc, test_nonce);
    tcase_add_test(tc, test_auth_errors);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
