/* caemp graph's DOT writer (tools/caemp/caemp_dot.c): the text, whole,
 * for a small graph built in any order; escaping of ids that hold
 * quotes, backslashes and line breaks; seeds marked; each link once;
 * what a provider string says a node runs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caemp_dot.h"
#include "testutil.h"

static char *dot_of(const caemp_graph *g)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(caemp_graph_dot(g, f), 0);
    fclose(f);
    return text;
}

#define HEAD                                                                  \
    "graph aemp {\n"                                                          \
    "  // made by caemp graph: seeds have a double border; C nodes blue,"   \
    " Perl nodes orange\n"                                                    \
    "  node [shape=box, style=\"rounded,filled\", fontname=\"sans\"];\n"

START_TEST(test_small_network)
{
    caemp_graph g;
    ck_assert_int_eq(caemp_graph_init(&g), 0);
    /* added out of order, links both ways round and twice */
    caemp_graph_link(&g, "perl", "cseed");
    caemp_graph_node(&g, "perl", "AE-2.02", 0);
    caemp_graph_seed(&g, "cseed");
    caemp_graph_node(&g, "cseed", "AE-libaemp-1.0", 1);
    caemp_graph_link(&g, "cseed", "perl");
    caemp_graph_link(&g, "cnode", "cseed");
    caemp_graph_link(&g, "perl", "cnode");
    caemp_graph_link(&g, "cnode", "perl");
    caemp_graph_link(&g, "cnode", "cnode"); /* no loop */
    caemp_graph_node(&g, "cnode", "AE-libaemp-1.0", 0);
    caemp_graph_node(&g, "lonely", NULL, 0);
    caemp_graph_node(&g, "other", "Go-0.1", 0);
    char *dot = dot_of(&g);
    ck_assert_str_eq(
        dot,
        HEAD
        "  \"cnode\" [label=\"cnode\\nC (AE-libaemp-1.0)\", "
        "fillcolor=\"#cfe2f3\"];\n"
        "  \"cseed\" [label=\"cseed\\nC (AE-libaemp-1.0)\", "
        "fillcolor=\"#cfe2f3\", peripheries=2, penwidth=2];\n"
        "  \"lonely\" [label=\"lonely\\n?\", fillcolor=\"#eeeeee\"];\n"
        "  \"other\" [label=\"other\\nGo-0.1\", fillcolor=\"#eeeeee\"];\n"
        "  \"perl\" [label=\"perl\\nPerl (AE-2.02)\", "
        "fillcolor=\"#fce5cd\"];\n"
        "  \"cnode\" -- \"cseed\";\n"
        "  \"cnode\" -- \"perl\";\n"
        "  \"cseed\" -- \"perl\";\n"
        "}\n");
    free(dot);
    caemp_graph_clear(&g);
}
END_TEST

/* What a node says of itself counts over what others say of it; an
 * unknown provider never replaces a known one. */
START_TEST(test_provider_precedence)
{
    caemp_graph g;
    ck_assert_int_eq(caemp_graph_init(&g), 0);
    caemp_graph_node(&g, "a", "AE-2.02", 0);
    caemp_graph_node(&g, "a", "AE-libaemp-1.0", 0); /* hearsay: kept */
    caemp_graph_node(&g, "a", "", 1);
    caemp_graph_node(&g, "a", NULL, 1);
    ck_assert_str_eq(aemp_str_ptr(aemp_map_get(g.provider, "a"), NULL),
                     "AE-2.02");
    caemp_graph_node(&g, "a", "AE-libaemp-1.0", 1); /* its own greeting */
    ck_assert_str_eq(aemp_str_ptr(aemp_map_get(g.provider, "a"), NULL),
                     "AE-libaemp-1.0");
    caemp_graph_node(&g, "b", NULL, 0);
    caemp_graph_node(&g, "b", "AE-2.02", 0); /* unknown: filled */
    ck_assert_str_eq(aemp_str_ptr(aemp_map_get(g.provider, "b"), NULL),
                     "AE-2.02");
    caemp_graph_clear(&g);
}
END_TEST

START_TEST(test_escaping)
{
    caemp_graph g;
    ck_assert_int_eq(caemp_graph_init(&g), 0);
    caemp_graph_seed(&g, "a\"b");
    caemp_graph_link(&g, "a\"b", "c\\");
    caemp_graph_link(&g, "c\\", "line\nbreak\r\x01");
    char *dot = dot_of(&g);
    ck_assert_str_eq(
        dot,
        HEAD
        "  \"a\\\"b\" [label=\"a\\\"b\\n?\", fillcolor=\"#eeeeee\", "
        "peripheries=2, penwidth=2];\n"
        "  \"c\\\\\" [label=\"c\\\\\\n?\", fillcolor=\"#eeeeee\"];\n"
        "  \"line\\nbreak\\r\\x01\" [label=\"line\\nbreak\\r\\x01\\n?\", "
        "fillcolor=\"#eeeeee\"];\n"
        "  \"a\\\"b\" -- \"c\\\\\";\n"
        "  \"c\\\\\" -- \"line\\nbreak\\r\\x01\";\n"
        "}\n");
    /* no raw quote inside the quotes, no raw line break in a line */
    for (char *line = strtok(dot, "\n"); line; line = strtok(NULL, "\n"))
        ck_assert_ptr_null(strchr(line, '\r'));
    free(dot);
    caemp_graph_clear(&g);
}
END_TEST

START_TEST(test_kinds)
{
    ck_assert_str_eq(caemp_provider_kind("AE-libaemp-0.1.0"), "C");
    ck_assert_str_eq(caemp_provider_kind("AE-2.02"), "Perl");
    ck_assert_ptr_null(caemp_provider_kind("AE-"));
    ck_assert_ptr_null(caemp_provider_kind("Go-0.1"));
    ck_assert_ptr_null(caemp_provider_kind(""));
    ck_assert_ptr_null(caemp_provider_kind(NULL));
}
END_TEST

START_TEST(test_empty)
{
    caemp_graph g;
    ck_assert_int_eq(caemp_graph_init(&g), 0);
    char *dot = dot_of(&g);
    ck_assert_str_eq(dot, HEAD "}\n");
    free(dot);
    caemp_graph_clear(&g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("graph_dot");
    TCase *tc = tcase_create("dot");
    tcase_add_test(tc, test_small_network);
    tcase_add_test(tc, test_provider_precedence);
    tcase_add_test(tc, test_escaping);
    tcase_add_test(tc, test_kinds);
    tcase_add_test(tc, test_empty);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
