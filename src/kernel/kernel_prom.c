/* libaemp: a stats map (aemp/stats.h) as Prometheus' text exposition
 * format 0.0.4. The map may come from another node (caemp stats renders
 * what aemp::stats sent), so whatever does not fit the format is left
 * out rather than written: names that are not metric names, labels that
 * are not strings, values that are not numbers. */
#include <inttypes.h>
#include <string.h>

#include "aemp/stats.h"
#include "kernel.h"

/* [a-zA-Z_:][a-zA-Z0-9_:]* (label names: the same without ':') */
static int is_name(const char *s, size_t len, int colon)
{
    if (!len || (*s >= '0' && *s <= '9'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '_' || (colon && c == ':');
        if (!ok)
            return 0;
    }
    return 1;
}

/* Label values escape \ " and newline; HELP text \ and newline. */
static void put_escaped(aemp_buf *b, const char *s, size_t len, int quote)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\')
            aempi_buf_puts(b, "\\\\");
        else if (s[i] == '\n')
            aempi_buf_puts(b, "\\n");
        else if (quote && s[i] == '"')
            aempi_buf_puts(b, "\\\"");
        else
            aempi_buf_putc(b, s[i]);
    }
}

static int put_value(aemp_buf *b, const aemp_val *v)
{
    switch (aemp_type_of(v)) {
    case AEMP_INT:
        if (aemp_as_int(v) < 0)
            return aempi_buf_printf(b, "%" PRId64, aemp_as_int(v));
        return aempi_buf_printf(b, "%" PRIu64, aemp_as_uint(v));
    case AEMP_DOUBLE: return aempi_buf_printf(b, "%.17g", aemp_as_double(v));
    default: return -1;
    }
}

static void put_labels(aemp_buf *b, const aemp_val *labels)
{
    int first = 1;
    for (size_t i = 0; i < aemp_map_len(labels); i++) {
        size_t klen, vlen;
        const char *k = aemp_map_key_at(labels, i, &klen);
        const char *v = aemp_str_ptr(aemp_map_value_at(labels, i), &vlen);
        if (!v || !is_name(k, klen, 0))
            continue;
        aempi_buf_puts(b, first ? "{" : ",");
        aempi_buf_append(b, k, klen);
        aempi_buf_puts(b, "=\"");
        put_escaped(b, v, vlen, 1);
        aempi_buf_putc(b, '"');
        first = 0;
    }
    if (!first)
        aempi_buf_putc(b, '}');
}

static void put_sample(aemp_buf *b, const char *name, size_t nlen,
                       const aemp_val *sample)
{
    size_t mark = b->len;
    aempi_buf_append(b, name, nlen);
    put_labels(b, aemp_array_at(sample, 0));
    aempi_buf_putc(b, ' ');
    if (put_value(b, aemp_array_at(sample, 1)))
        b->len = mark; /* not a number: no line */
    else
        aempi_buf_putc(b, '\n');
}

static void put_metric(aemp_buf *b, const char *name, size_t nlen,
                       const aemp_val *m)
{
    size_t hlen;
    const char *help = aemp_str_ptr(aemp_map_get(m, "help"), &hlen);
    const char *type = aemp_str_ptr(aemp_map_get(m, "type"), NULL);
    if (help) {
        aempi_buf_puts(b, "# HELP ");
        aempi_buf_append(b, name, nlen);
        aempi_buf_putc(b, ' ');
        put_escaped(b, help, hlen, 0);
        aempi_buf_putc(b, '\n');
    }
    if (type && (!strcmp(type, "counter") || !strcmp(type, "gauge"))) {
        aempi_buf_puts(b, "# TYPE ");
        aempi_buf_append(b, name, nlen);
        aempi_buf_printf(b, " %s\n", type);
    }
    const aemp_val *samples = aemp_map_get(m, "samples");
    for (size_t i = 0; i < aemp_array_len(samples); i++)
        put_sample(b, name, nlen, aemp_array_at(samples, i));
}

char *aemp_stats_prometheus(const aemp_val *stats, size_t *len)
{
    const aemp_val *metrics = aemp_map_get(stats, "metrics");
    if (aemp_type_of(metrics) != AEMP_MAP)
        return NULL;
    aemp_buf b = {0};
    for (size_t i = 0; i < aemp_map_len(metrics); i++) {
        size_t nlen;
        const char *name = aemp_map_key_at(metrics, i, &nlen);
        if (is_name(name, nlen, 1))
            put_metric(&b, name, nlen, aemp_map_value_at(metrics, i));
    }
    return aempi_buf_detach(&b, len);
}
