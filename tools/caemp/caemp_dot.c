/* caemp graph: the network as a graph, written as Graphviz DOT.
 *
 * Node ids may hold any character. In a quoted DOT id only \" is an
 * escape (Graphviz keeps any other backslash), and labels read \\, \n
 * and \" too, so the same escaping serves both: \ -> \\, " -> \",
 * control characters as \n, \r or \xHH. No raw quote or line break ever
 * ends up inside the quotes, and different ids stay different. */
#include <stdlib.h>
#include <string.h>

#include "caemp_dot.h"

int caemp_graph_init(caemp_graph *g)
{
    g->provider = aemp_map();
    g->seed = aemp_map();
    g->links = aemp_map();
    return g->provider && g->seed && g->links ? 0 : -1;
}

void caemp_graph_clear(caemp_graph *g)
{
    aemp_unref(g->provider);
    aemp_unref(g->seed);
    aemp_unref(g->links);
    g->provider = g->seed = g->links = NULL;
}

void caemp_graph_node(caemp_graph *g, const char *id, const char *provider,
                      int sure)
{
    if (!id)
        return;
    const char *known = aemp_str_ptr(aemp_map_get(g->provider, id), NULL);
    int have = provider && *provider;
    if (!known || (have && (sure || !*known)))
        aemp_map_set(g->provider, id, aemp_str(have ? provider : ""));
}

void caemp_graph_seed(caemp_graph *g, const char *id)
{
    if (!id)
        return;
    caemp_graph_node(g, id, NULL, 0);
    aemp_map_set(g->seed, id, aemp_bool(1));
}

void caemp_graph_link(caemp_graph *g, const char *a, const char *b)
{
    if (!a || !b || !strcmp(a, b))
        return;
    caemp_graph_node(g, a, NULL, 0);
    caemp_graph_node(g, b, NULL, 0);
    aemp_val *pair = strcmp(a, b) < 0 ? aemp_arrayv(aemp_str(a), aemp_str(b),
                                                    NULL)
                                      : aemp_arrayv(aemp_str(b), aemp_str(a),
                                                    NULL);
    char *key = pair ? aemp_to_json(pair, NULL) : NULL;
    if (key)
        aemp_map_set(g->links, key, aemp_ref(pair));
    free(key);
    aemp_unref(pair);
}

const char *caemp_provider_kind(const char *provider)
{
    if (!provider)
        return NULL;
    if (!strncmp(provider, "AE-libaemp", 10))
        return "C";
    /* AnyEvent::MP sends "AE-" and its version */
    if (!strncmp(provider, "AE-", 3) && provider[3] >= '0' && provider[3] <= '9')
        return "Perl";
    return NULL;
}

/* s inside double quotes, escaped as the top of the file says */
static void put_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\r')
            fputs("\\r", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02X", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The map's keys, sorted (borrowed; the array malloc'd, NULL if empty or
 * out of memory). */
static const char **sorted_keys(const aemp_val *map, size_t *n)
{
    *n = aemp_map_len(map);
    const char **keys = *n ? malloc(*n * sizeof *keys) : NULL;
    if (!keys) {
        *n = 0;
        return NULL;
    }
    for (size_t i = 0; i < *n; i++)
        keys[i] = aemp_map_key_at(map, i, NULL);
    qsort(keys, *n, sizeof *keys, cmp_str);
    return keys;
}

static void put_node(const caemp_graph *g, FILE *out, const char *id)
{
    const char *provider = aemp_str_ptr(aemp_map_get(g->provider, id), NULL);
    const char *kind = caemp_provider_kind(provider);
    fputs("  ", out);
    put_quoted(out, id);
    /* the label: the id, then what it runs */
    fputs(" [label=", out);
    size_t len = strlen(id);
    char *label = malloc(len + strlen(provider ? provider : "") + 16);
    if (label) {
        sprintf(label, "%s\n%s%s%s%s", id, kind ? kind : "",
                kind && provider && *provider ? " (" : "",
                provider && *provider ? provider : kind ? "" : "?",
                kind && provider && *provider ? ")" : "");
        put_quoted(out, label);
        free(label);
    }
    fprintf(out, ", fillcolor=\"%s\"",
            !kind ? "#eeeeee" : !strcmp(kind, "C") ? "#cfe2f3" : "#fce5cd");
    if (aemp_map_get(g->seed, id))
        fputs(", peripheries=2, penwidth=2", out);
    fputs("];\n", out);
}

/* The links sorted by their two ends: their JSON keys sort the same way
 * only by chance, so by the pair itself. */
static int cmp_link(const void *a, const void *b)
{
    const aemp_val *x = *(const aemp_val *const *)a;
    const aemp_val *y = *(const aemp_val *const *)b;
    int c = strcmp(aemp_str_ptr(aemp_array_at(x, 0), NULL),
                   aemp_str_ptr(aemp_array_at(y, 0), NULL));
    return c ? c : strcmp(aemp_str_ptr(aemp_array_at(x, 1), NULL),
                          aemp_str_ptr(aemp_array_at(y, 1), NULL));
}

static void put_links(const caemp_graph *g, FILE *out)
{
    size_t n = aemp_map_len(g->links);
    const aemp_val **links = n ? malloc(n * sizeof *links) : NULL;
    if (!links)
        return;
    for (size_t i = 0; i < n; i++)
        links[i] = aemp_map_value_at(g->links, i);
    qsort(links, n, sizeof *links, cmp_link);
    for (size_t i = 0; i < n; i++) {
        fputs("  ", out);
        put_quoted(out, aemp_str_ptr(aemp_array_at(links[i], 0), NULL));
        fputs(" -- ", out);
        put_quoted(out, aemp_str_ptr(aemp_array_at(links[i], 1), NULL));
        fputs(";\n", out);
    }
    free(links);
}

int caemp_graph_dot(const caemp_graph *g, FILE *out)
{
    fputs("graph aemp {\n"
          "  // made by caemp graph: seeds have a double border;"
          " C nodes blue, Perl nodes orange\n"
          "  node [shape=box, style=\"rounded,filled\", fontname=\"sans\"];\n",
          out);
    size_t n;
    const char **ids = sorted_keys(g->provider, &n);
    for (size_t i = 0; i < n; i++)
        put_node(g, out, ids[i]);
    free(ids);
    put_links(g, out);
    fputs("}\n", out);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
