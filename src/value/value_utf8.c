/* libaemp: Perl's UTF-8, as JSON::XS decodes it and Perl holds strings:
 * the shortest form of any code point an IV holds, UTF-16 surrogates
 * included; beyond U+10FFFF Perl's extension of the encoding. Whether a
 * string is UTF-8 in this sense decides whether it is a Perl character
 * string or a byte string (value_int.h). */
#include "value_int.h"

#include <string.h>

/* The continuation bytes that follow lead byte c in Perl's UTF-8, and the
 * smallest code point that needs that many (less is overlong); 0 for a
 * byte that cannot lead. Beyond U+10FFFF this is Perl's extension: up to
 * 6 bytes as in the original UTF-8, FE for 7 and FF for 13. */
static unsigned utf8_tail(unsigned c, uint64_t *min)
{
    static const struct {
        unsigned char lo, hi, n;
        uint64_t min;
    } leads[] = {
        {0xc2, 0xdf, 1, 0x80},       {0xe0, 0xef, 2, 0x800},
        {0xf0, 0xf7, 3, 0x10000},    {0xf8, 0xfb, 4, 0x200000},
        {0xfc, 0xfd, 5, 0x4000000},  {0xfe, 0xfe, 6, 0x80000000},
        {0xff, 0xff, 12, 0x1000000000},
    };
    for (size_t k = 0; k < sizeof(leads) / sizeof(*leads); k++)
        if (c >= leads[k].lo && c <= leads[k].hi) {
            *min = leads[k].min;
            return leads[k].n;
        }
    return 0;
}

int aempi_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) { /* ASCII is the common case: 8 bytes at a time */
            for (i++; len - i >= 8; i += 8) {
                uint64_t w;
                memcpy(&w, s + i, 8);
                if (w & 0x8080808080808080u)
                    break;
            }
            continue;
        }
        uint64_t min, cp;
        size_t n = utf8_tail(c, &min);
        if (!n || len - i - 1 < n)
            return 0;
        cp = c & (0x7fu >> (n + 1)); /* the lead byte's payload bits */
        for (size_t k = 1; k <= n; k++) {
            /* a code point must fit an IV: at most 2^63 - 1 */
            if ((s[i + k] & 0xc0) != 0x80 || cp >> 57)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min)
            return 0;
        i += n + 1;
    }
    return 1;
}

uint64_t aempi_utf8_next(const unsigned char *s, size_t *i)
{
    uint64_t min, cp = s[(*i)++];
    if (cp < 0x80)
        return cp;
    size_t n = utf8_tail((unsigned)cp, &min);
    cp &= 0x7fu >> (n + 1);
    while (n--)
        cp = cp << 6 | (s[(*i)++] & 0x3f);
    return cp;
}
