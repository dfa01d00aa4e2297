/* libFuzzer target: greeting line 1 as a link reads it (transport.c takes
 * a line up to LF, drops a CR, refuses 4 KiB or more, and parses it with
 * aempi_greeting_parse), then what the handshake does with a parsed line:
 * the auth and framing choice from its lists and the tls key. A parsed
 * line formatted again from its fields must parse to the same fields,
 * a data connection's (aemp-dataconn) with its protocol and id. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport_auth.h"
#include "transport_tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The line as read_lines hands it over; NULL when it would be refused. */
static char *take_line(const uint8_t *data, size_t size)
{
    const uint8_t *lf = memchr(data, '\n', size);
    size_t len = lf ? (size_t)(lf - data) : size;
    if (len >= AEMP_LINE_MAX)
        return NULL;
    char *line = malloc(len + 1);
    if (!line)
        abort();
    memcpy(line, data, len);
    line[len] = 0;
    if (len && line[len - 1] == '\r')
        line[len - 1] = 0;
    return line;
}

static int same(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static void check_choices(const aemp_greeting *g)
{
    char out[64];
    int tls = aempi_tls_wanted(g->tls);
    if (!aempi_pick_common(g->auths, "tls_sha3_512,hmac_sha3_512", tls, out,
                           sizeof out) &&
        !aempi_list_has(g->auths, out))
        abort(); /* the pick must come from the remote list */
    if (!aempi_pick_common(g->framings, "cbor,json", 1, out, sizeof out) &&
        (!aempi_list_has(g->framings, out) || !aempi_list_has("cbor,json",
                                                              out)))
        abort();
}

/* Formats the parsed fields again and parses that: the same fields. */
static void check_reformat(const aemp_greeting *g)
{
    const char *peer = g->peeraddr ? g->peeraddr : "127.0.0.1:4040";
    /* a data connection's greeting keeps its protocol and id */
    int dataconn = !strcmp(g->protocol, AEMP_DATACONN_PROTOCOL);
    const char *id = g->dataconn_id ? g->dataconn_id : "a@x";
    char *again = dataconn ? aempi_greeting_format_dataconn(
                                 g->nodeid, g->auths, g->framings, peer,
                                 g->tls, id)
                           : aempi_greeting_format(g->nodeid, g->auths,
                                                   g->framings, peer, g->tls);
    if (!again)
        abort();
    aemp_greeting h;
    const char *err;
    if (aempi_greeting_parse(again, &h, &err)) {
        fprintf(stderr, "formatted greeting does not parse: %s\n", err);
        abort();
    }
    if (!same(g->nodeid, h.nodeid) || !same(g->auths, h.auths) ||
        !same(g->framings, h.framings) || !same(peer, h.peeraddr) ||
        !same(g->tls, h.tls) || h.version != AEMP_PROTOCOL_VERSION ||
        !same(g->protocol, h.protocol) ||
        !same(dataconn ? id : NULL, h.dataconn_id)) {
        fprintf(stderr, "formatted greeting parses differently: %s\n", again);
        abort();
    }
    aempi_greeting_clear(&h);
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = take_line(data, size);
    if (!line)
        return 0;
    aemp_greeting g;
    const char *err;
    if (!aempi_greeting_parse(line, &g, &err)) {
        check_choices(&g);
        check_reformat(&g);
        aempi_greeting_clear(&g);
    }
    free(line);
    return 0;
}
