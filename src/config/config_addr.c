/* libaemp: host:port parsing and address formatting, as AnyEvent::Socket
 * does it (parse_hostport, parse_ipv4/6, format_address), for configure.
 *
 * The parsers follow AnyEvent::Socket's regular expressions closely, odd
 * corners included ("dead:beef:4040" is unparsable, "::1:4040" is an IPv6
 * address without a port), because a bind or seed string must mean the
 * same thing to a C node as to a Perl node. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aemp/error.h"
#include "buf.h"

/* Perl's \s: space, \t, \n, \v, \f, \r. */
static int perl_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* One part of parse_ipv4: 0x hex, 0 octal, or decimal, as Perl's oct() and
 * numification read them. Returns 0 when the part is not of that form. */
static int ipv4_part(const char *s, size_t len, unsigned long long *out)
{
    unsigned long long v = 0;
    size_t i = 0;
    int base = 10;

    if (len == 0)
        return 0;
    if (len >= 2 && s[0] == '0' && s[1] == 'x') {
        base = 16;
        i = 2;
        if (len == 2)
            return 0;
    } else if (s[0] == '0') {
        base = 8;
    }
    for (; i < len; i++) {
        int d = base == 16 ? hexval(s[i]) : (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1);
        if (d < 0 || d >= base)
            return 0;
        if (v < (1ULL << 40)) /* anything this big is out of range anyway */
            v = v * (unsigned)base + (unsigned)d;
    }
    *out = v;
    return 1;
}

/* AnyEvent::Socket::parse_ipv4: 1 to 4 dot-separated parts, the last one
 * filling the remaining bytes (so "127.1" is 127.0.0.1). */
static int parse_ipv4(const char *s, size_t len, unsigned char out[4])
{
    unsigned long long part[4];
    int n = 0;
    size_t start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.')
            continue;
        if (n == 4 || !ipv4_part(s + start, i - start, &part[n]))
            return 0;
        n++;
        start = i + 1;
    }
    for (int i = 0; i < n - 1; i++)
        if (part[i] >= 256)
            return 0;
    if (part[n - 1] >= 1ULL << (8 * (5 - n)))
        return 0;
    unsigned long long v = part[n - 1];
    for (int i = 0; i < n - 1; i++)
        v += part[i] << (24 - 8 * i);
    for (int i = 0; i < 4; i++)
        out[i] = (unsigned char)(v >> (24 - 8 * i));
    return 1;
}

/* Splits s[0..len) at ':' into up to max groups of 1-4 hex digits.
 * Returns the count, or -1 when a group is not of that form. An empty s
 * has no groups (Perl's split of an empty string). */
static int ipv6_groups(const char *s, size_t len, unsigned *g, int max)
{
    int n = 0;
    size_t start = 0;

    if (len == 0)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != ':')
            continue;
        size_t glen = i - start;
        if (glen < 1 || glen > 4 || n == max)
            return -1;
        unsigned v = 0;
        for (size_t k = start; k < i; k++) {
            int d = hexval(s[k]);
            if (d < 0)
                return -1;
            v = v * 16 + (unsigned)d;
        }
        g[n++] = v;
        start = i + 1;
    }
    return n;
}

/* AnyEvent::Socket::parse_ipv6, including its IPv4 forms (a plain IPv4
 * address gives the v4-mapped IPv6 address). */
static int parse_ipv6(const char *s, size_t len, unsigned char out[16])
{
    size_t colons = 0;
    for (size_t i = 0; i < len; i++)
        colons += s[i] == ':';

    if (colons < 2 || colons > 8) {
        unsigned char v4[4];
        if (colons == 0 && parse_ipv4(s, len, v4)) {
            memset(out, 0, 10);
            out[10] = out[11] = 0xff;
            memcpy(out + 12, v4, 4);
            return 1;
        }
        return 0;
    }

    const char *dc = NULL;
    for (size_t i = 0; i + 1 < len; i++)
        if (s[i] == ':' && s[i + 1] == ':') {
            dc = s + i;
            break;
        }
    const char *t = dc ? dc + 2 : s;
    size_t hlen = dc ? (size_t)(dc - s) : 0;
    size_t tlen = len - (size_t)(t - s);

    /* an IPv4 tail after the last ':' becomes two groups */
    unsigned tail4[2];
    int have4 = 0;
    const char *lastc = NULL;
    for (size_t i = 0; i < tlen; i++)
        if (t[i] == ':')
            lastc = t + i;
    const char *last = lastc ? lastc + 1 : t;
    size_t lastlen = tlen - (size_t)(last - t);
    if (tlen && memchr(last, '.', lastlen)) {
        unsigned char v4[4];
        if (colons > 6 || !parse_ipv4(last, lastlen, v4))
            return 0;
        tail4[0] = (unsigned)v4[0] << 8 | v4[1];
        tail4[1] = (unsigned)v4[2] << 8 | v4[3];
        have4 = 1;
        tlen = lastc ? (size_t)(lastc - t) : 0;
    }

    unsigned h[8], tg[10];
    int nh = ipv6_groups(s, hlen, h, 8);
    /* a tail that was only the IPv4 part has no hex groups left */
    int nt = (have4 && !lastc) ? 0 : ipv6_groups(t, tlen, tg, 8);
    if (nh < 0 || nt < 0)
        return 0;
    if (have4) {
        tg[nt++] = tail4[0];
        tg[nt++] = tail4[1];
    }
    if (nh + nt > 8 || (nh + nt != 8 && !dc))
        return 0;

    unsigned w[8] = {0};
    for (int i = 0; i < nh; i++)
        w[i] = h[i];
    for (int i = 0; i < nt; i++)
        w[8 - nt + i] = tg[i];
    for (int i = 0; i < 8; i++) {
        out[2 * i] = (unsigned char)(w[i] >> 8);
        out[2 * i + 1] = (unsigned char)w[i];
    }
    return 1;
}

/* AnyEvent::Socket::parse_address for IP addresses: 4 bytes for IPv4 and
 * v4-mapped IPv6, 16 for other IPv6; 0 when s is no address. */
size_t aempi_parse_address(const char *s, unsigned char out[16])
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (!parse_ipv6(s, strlen(s), out))
        return 0;
    if (memcmp(out, mapped, 12) == 0) {
        memmove(out, out + 12, 4);
        return 4;
    }
    return 16;
}

static void format_ipv4(const unsigned char *a, char *out)
{
    snprintf(out, 16, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

/* AnyEvent::Socket::format_ipv6: the special ::/96 forms, else %x groups
 * with the first of the longest runs (2 to 7) of zero groups as "::". */
static void format_ipv6(const unsigned char *a, char *out)
{
    static const unsigned char zero[12] = {0};

    if (memcmp(a, zero, 8) == 0) {
        if (memcmp(a + 8, zero, 8) == 0) {
            strcpy(out, "::");
            return;
        }
        if (memcmp(a + 8, zero, 7) == 0 && a[15] == 1) {
            strcpy(out, "::1");
            return;
        }
        const char *prefix = NULL;
        if (memcmp(a + 8, zero, 4) == 0)
            prefix = "::";
        else if (a[8] == 0 && a[9] == 0 && a[10] == 0xff && a[11] == 0xff)
            prefix = "::ffff:";
        else if (a[8] == 0xff && a[9] == 0xff && a[10] == 0 && a[11] == 0)
            prefix = "::ffff:0:";
        if (prefix) {
            char v4[16];
            format_ipv4(a + 12, v4);
            snprintf(out, 64, "%s%s", prefix, v4);
            return;
        }
    }

    unsigned w[8];
    for (int i = 0; i < 8; i++)
        w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];

    int best = -1, bestlen = 1;
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && w[j] == 0)
            j++;
        if (j - i > bestlen) {
            best = i;
            bestlen = j - i;
        }
        i = j > i ? j : i + 1;
    }

    size_t o = 0;
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            o += (size_t)snprintf(out + o, 64 - o, "::");
            i += bestlen - 1;
            continue;
        }
        o += (size_t)snprintf(out + o, 64 - o, "%s%x",
                              (i == 0 || i == best + bestlen) ? "" : ":", w[i]);
    }
}

void aempi_format_address(const unsigned char *addr, size_t len, char *out)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (len == 4)
        format_ipv4(addr, out);
    else if (len == 16 && memcmp(addr, mapped, 12) == 0)
        format_ipv4(addr + 12, out);
    else if (len == 16)
        format_ipv6(addr, out);
    else
        out[0] = 0;
}

char *aempi_format_hostport(const char *host, const char *port)
{
    aemp_buf b = AEMP_BUF_INIT;
    int v6 = strchr(host, ':') != NULL;

    if (aempi_buf_printf(&b, v6 ? "[%s]" : "%s", host)
        || (port && *port && aempi_buf_printf(&b, ":%s", port))) {
        aempi_buf_free(&b);
        return NULL;
    }
    return aempi_buf_detach(&b, NULL);
}

/* The leading run parse_hostport tries as an IPv6 address: after any
 * whitespace, the longest run of [0-9a-fA-F.:] whose part before the first
 * '.' holds at least two colons. Returns its length (0: none), *skip the
 * whitespace before it. */
static size_t ipv6_prefix(const char *s, size_t *skip)
{
    size_t i = 0, colons = 0;

    while (perl_space(s[i]))
        i++;
    *skip = i;
    size_t j = i;
    while (hexval(s[j]) >= 0 || s[j] == ':')
        colons += s[j++] == ':';
    if (colons < 2)
        return 0;
    while (hexval(s[j]) >= 0 || s[j] == ':' || s[j] == '.')
        j++;
    return j - i;
}

static int all_space(const char *s)
{
    while (perl_space(*s))
        s++;
    return *s == 0;
}

int aempi_parse_hostport(const char *s, const char *defport, char **host,
                         char **port)
{
    const char *p;
    size_t hlen, skip;
    unsigned char tmp[16];

    *host = *port = NULL;
    if (s[0] == '/') {
        *host = strdup("unix/");
        *port = strdup(s);
        goto done;
    }

    hlen = ipv6_prefix(s, &skip);
    if (hlen) {
        if (!parse_ipv6(s + skip, hlen, tmp))
            return AEMP_EINVAL; /* Perl's later anchored matches fail too */
        *host = strndup(s + skip, hlen);
        p = s + skip + hlen;
    } else if (s[0] == '[') {
        /* a leading space would leave pos() past 0, and the ^-anchored
         * alternatives below never match then: only s[0] counts */
        const char *close = strpbrk(s + 1, "[]");
        if (!close || *close != ']' || close == s + 1)
            return AEMP_EINVAL;
        *host = strndup(s + 1, (size_t)(close - s - 1));
        p = close + 1;
    } else {
        size_t n = strcspn(s, "[]: ");
        if (n == 0 || perl_space(s[0]))
            return AEMP_EINVAL;
        *host = strndup(s, n);
        p = s + n;
    }
    if (!*host)
        return AEMP_ENOMEM;

    /* the port: after whitespace, ':' or '#', up to trailing whitespace */
    const char *q = p;
    if (perl_space(*q))
        while (perl_space(*q))
            q++;
    else if (*q == ':' || *q == '#')
        q++;
    size_t plen = q > p ? strcspn(q, ": \t\n\v\f\r") : 0;
    if (plen && all_space(q + plen)) {
        *port = strndup(q, plen);
    } else if (all_space(p) && defport) {
        *port = strdup(defport);
    } else {
        free(*host);
        *host = NULL;
        return AEMP_EINVAL;
    }

    /* host names must not contain ':' */
    if (*host && strchr(*host, ':') && !parse_ipv6(*host, strlen(*host), tmp)) {
        free(*host);
        free(*port);
        *host = *port = NULL;
        return AEMP_EINVAL;
    }
done:
    if (!*host || !*port) {
        free(*host);
        free(*port);
        *host = *port = NULL;
        return AEMP_ENOMEM;
    }
    return AEMP_OK;
}

