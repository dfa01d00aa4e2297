/* libaemp: binds and seeds, expanded as Kernel.pm's _resolve does it:
 * bare ports, '*' hosts (the interfaces' addresses, as Net::Interface
 * gives them), names resolved, everything formatted as AnyEvent::Socket
 * formats it. */
#include "config.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "aemp/error.h"

static int push_unique(aemp_val *list, const char *s)
{
    for (size_t i = 0; i < aemp_array_len(list); i++)
        if (aemp_str_eq(aemp_array_at(list, i), s))
            return AEMP_OK;
    return aemp_array_push(list, aemp_str(s));
}

static int push_hostport(aemp_val *list, const char *host, const char *port)
{
    char *hp = aempi_format_hostport(host, port);
    if (!hp)
        return AEMP_ENOMEM;
    int rc = push_unique(list, hp);
    free(hp);
    return rc;
}

/* Net::Interface's view, as Kernel.pm filters it: interfaces in the order
 * they first appear, each with its IPv4 addresses, then its IPv6 ones. */
int aempi_config_local_addrs(aemp_val **out, char **err)
{
    struct ifaddrs *ifs, *i, *j;
    aemp_val *list = aemp_array();

    *out = NULL;
    if (!list)
        return AEMP_ENOMEM;
    if (getifaddrs(&ifs) != 0) {
        aemp_unref(list);
        aempi_config_set_err(err, "getifaddrs failed");
        return AEMP_EIO;
    }
    for (i = ifs; i; i = i->ifa_next) {
        for (j = ifs; j != i && strcmp(j->ifa_name, i->ifa_name); j = j->ifa_next)
            ;
        if (j != i)
            continue; /* this interface was done at its first entry */
        for (int family = AF_INET; ; family = AF_INET6) {
            for (j = i; j; j = j->ifa_next) {
                if (!j->ifa_addr || j->ifa_addr->sa_family != family
                    || strcmp(j->ifa_name, i->ifa_name))
                    continue;
                char text[64];
                if (family == AF_INET) {
                    const unsigned char *a = (const unsigned char *)
                        &((const struct sockaddr_in *)(const void *)j->ifa_addr)->sin_addr;
                    if (a[0] == 0x7f) /* localhost etc. */
                        continue;
                    aempi_format_address(a, 4, text);
                } else {
                    const unsigned char *a = (const unsigned char *)
                        &((const struct sockaddr_in6 *)(const void *)j->ifa_addr)->sin6_addr;
                    /* global unicast 2000::/3, unique local fc00::/7 */
                    if (!((a[0] >= 0x20 && a[0] <= 0x3f) || a[0] == 0xfc || a[0] == 0xfd))
                        continue;
                    aempi_format_address(a, 16, text);
                }
                if (aemp_array_push(list, aemp_str(text))) {
                    freeifaddrs(ifs);
                    aemp_unref(list);
                    return AEMP_ENOMEM;
                }
            }
            if (family == AF_INET6)
                break;
        }
    }
    freeifaddrs(ifs);
    *out = list;
    return AEMP_OK;
}

/* resolve_sockaddr's service: "name=number", a number, or a service name.
 * The port ends up in a 16-bit field, as pack "n" truncates it. */
static int service_port(const char *service, unsigned *port, char **err)
{
    const char *eq = strrchr(service, '=');
    const char *num = eq && eq > service ? eq + 1 : service;
    size_t n = strspn(num, "0123456789");

    if (n && !num[n]) {
        unsigned long long v = 0;
        for (size_t i = 0; i < n; i++)
            v = (v * 10 + (unsigned)(num[i] - '0')) & 0xffffffffULL;
        *port = (unsigned)(v & 0xffff);
        return AEMP_OK;
    }
    struct servent *se = getservbyname(service, "tcp");
    if (!se) {
        aempi_config_set_err(err, "%s/tcp: service unknown", service);
        return AEMP_ECONFIG;
    }
    *port = ntohs((unsigned short)se->s_port);
    return AEMP_OK;
}

/* A host name's addresses, IPv4 before IPv6 as AnyEvent prefers them. */
static int resolve_name(const char *host, const char *port, aemp_val *list)
{
    struct addrinfo hints, *res, *ai;
    int rc = AEMP_OK;

    if (strcmp(host, "localhost") == 0) /* AnyEvent's special case */
        return push_hostport(list, "127.0.0.1", port)
            || push_hostport(list, "::1", port) ? AEMP_ENOMEM : AEMP_OK;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return AEMP_OK; /* like Perl: a name that does not resolve adds nothing */
    for (int family = AF_INET; !rc; family = AF_INET6) {
        for (ai = res; ai && !rc; ai = ai->ai_next) {
            char text[64];
            if (ai->ai_family != family)
                continue;
            if (family == AF_INET)
                aempi_format_address((const unsigned char *)&((const struct sockaddr_in *)
                                    (const void *)ai->ai_addr)->sin_addr, 4, text);
            else
                aempi_format_address((const unsigned char *)&((const struct sockaddr_in6 *)
                                    (const void *)ai->ai_addr)->sin6_addr, 16, text);
            rc = push_hostport(list, text, port);
        }
        if (family == AF_INET6)
            break;
    }
    freeaddrinfo(res);
    return rc;
}

/* One transport descriptor t of an entry, into list. */
static int expand_one(const char *t, const char *nodename,
                      const aemp_val *local_addrs, aemp_val *list, char **err)
{
    char *host = NULL, *port = NULL, *owned = NULL;
    size_t digits = strspn(t, "0123456789");
    int rc;

    /* /^\d*$/: a bare port (or nothing) means the host name */
    if (!t[digits] || (t[digits] == '\n' && !t[digits + 1])) {
        if (asprintf(&owned, digits || t[0] ? "%s:%s" : "%s", nodename, t) < 0)
            return AEMP_ENOMEM;
        t = owned;
    }
    rc = aempi_parse_hostport(t, "0", &host, &port);
    if (rc) {
        if (rc == AEMP_EINVAL)
            aempi_config_set_err(err, "%s: unparsable transport descriptor",
                                 t);
        free(owned);
        return rc == AEMP_EINVAL ? AEMP_ECONFIG : rc;
    }
    if (strcmp(port, "*") == 0) {
        free(port);
        port = strdup("0");
    }

    unsigned char addr[16];
    size_t alen;
    unsigned pnum;
    char pbuf[8], text[64];
    if (!port) {
        rc = AEMP_ENOMEM;
    } else if (strcmp(host, "*") == 0) {
        /* every local address, the port as written */
        for (size_t i = 0; !rc && i < aemp_array_len(local_addrs); i++)
            rc = push_hostport(list, aemp_str_ptr(aemp_array_at(local_addrs, i), NULL), port);
    } else if (strcmp(host, "unix/") == 0) {
        if (port[0] == '/')
            rc = push_hostport(list, "unix/", port);
    } else if ((rc = service_port(port, &pnum, err)) == AEMP_OK) {
        snprintf(pbuf, sizeof pbuf, "%u", pnum);
        if ((alen = aempi_parse_address(host, addr)) != 0) {
            aempi_format_address(addr, alen, text);
            rc = push_hostport(list, text, pbuf);
        } else {
            for (char *c = host; *c; c++) /* AnyEvent lower-cases names */
                if (*c >= 'A' && *c <= 'Z')
                    *c = (char)(*c - 'A' + 'a');
            rc = resolve_name(host, pbuf, list);
        }
    }
    free(host);
    free(port);
    free(owned);
    return rc;
}

/* Perl's split /,/: empty trailing fields are dropped. Calls expand_one
 * for each field of s. */
static int expand_entry(const char *s, const char *nodename,
                        const aemp_val *local_addrs, aemp_val *out, char **err)
{
    size_t len = strlen(s);
    aemp_val *list = aemp_array();
    int rc = list ? AEMP_OK : AEMP_ENOMEM;

    while (len && s[len - 1] == ',')
        len--;
    for (size_t start = 0; !rc && len && start <= len;) {
        size_t end = start;
        while (end < len && s[end] != ',')
            end++;
        char *t = strndup(s + start, end - start);
        rc = t ? expand_one(t, nodename, local_addrs, list, err) : AEMP_ENOMEM;
        free(t);
        start = end + 1;
    }
    /* duplicates go within one entry only, as each _resolve has its own */
    for (size_t i = 0; !rc && i < aemp_array_len(list); i++)
        rc = aemp_array_push(out, aemp_ref(aemp_array_at(list, i)));
    aemp_unref(list);
    return rc;
}

int aempi_config_expand_hostports(const aemp_val *list, const char *nodename,
                                  const aemp_val *local_addrs, aemp_val **out,
                                  char **err)
{
    char *own_name = NULL;
    aemp_val *own_addrs = NULL, *res = aemp_array();
    int rc = res ? AEMP_OK : AEMP_ENOMEM;

    *out = NULL;
    if (!rc && aemp_type_of(list) != AEMP_ARRAY) {
        aempi_config_set_err(err, "binds and seeds must be lists of strings");
        rc = AEMP_ECONFIG;
    }
    if (!rc && !nodename)
        rc = (nodename = own_name = aempi_config_nodename()) ? AEMP_OK : AEMP_ENOMEM;
    for (size_t i = 0; !rc && i < aemp_array_len(list); i++) {
        const aemp_val *e = aemp_array_at(list, i);
        aemp_type t = aemp_type_of(e);
        /* null is "" to Perl, which splits into nothing */
        if (t == AEMP_ARRAY || t == AEMP_MAP) {
            aempi_config_set_err(err, "binds/seeds entry %zu is not a string",
                                 i);
            rc = AEMP_ECONFIG;
            break;
        }
        char *s = aempi_config_perl_str(e);
        if (!s) {
            rc = AEMP_ENOMEM;
            break;
        }
        /* '*' needs the interfaces: look them up then, once */
        if (!local_addrs && strchr(s, '*')) {
            rc = aempi_config_local_addrs(&own_addrs, err);
            local_addrs = own_addrs;
        }
        if (!rc)
            rc = expand_entry(s, nodename, local_addrs, res, err);
        free(s);
    }
    free(own_name);
    aemp_unref(own_addrs);
    if (rc) {
        aemp_unref(res);
        return rc;
    }
    *out = res;
    return AEMP_OK;
}
