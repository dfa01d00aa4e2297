/* libaemp: bignums (include/aemp/value.h), integers of any size as Perl's
 * Math::BigInt holds them.
 *
 * CBOR::XS 1.86 decodes tag 2 on a byte string (a big-endian magnitude n)
 * to Math::BigInt n and tag 3 to -n (not -1 - n as RFC 8949 has it), and
 * writes a Math::BigInt back through Math::BigInt::TO_CBOR: as a plain
 * integer from -2^31 to 2^31 - 1, else as tag 2 or 3 on its magnitude.
 * (For a negative one TO_CBOR garbles the magnitude: it packs the hex of
 * "-0x..." minus its first two characters, so the 'x' becomes a stray
 * nibble and each Perl hop changes the number. We write |v|, which
 * CBOR::XS reads back as v.)
 *
 * A bignum is a string value of its canonical decimal digits ("0", or an
 * optional '-' and digits without a leading zero) with the big flag, so
 * C code reads it as digits; the CBOR writer sends it as the tag again.
 */
#include "value_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aemp/error.h"

/* Digits a magnitude of AEMP_BIGNUM_BYTES bytes may need. */
#define MAX_DIGITS 2467
#define LIMB 1000000000u /* base of the decimal limbs: 9 digits each */

static aemp_val *mark_big(aemp_val *v)
{
    if (v)
        v->big = 1;
    return v;
}

int aemp_is_bignum(const aemp_val *v)
{
    return v && v->type == AEMP_STRING && v->big;
}

/* 1 if s is "0" or [-]digits without a leading zero, at most max digits. */
static int canonical_digits(const char *s, size_t max)
{
    size_t n = strspn(s + (*s == '-'), "0123456789");
    const char *d = s + (*s == '-');
    if (n == 0 || n > max || d[n] != 0)
        return 0;
    if (d[0] == '0')
        return n == 1 && d == s; /* "0", never "-0" or "01" */
    return 1;
}

aemp_val *aemp_bignum(const char *digits)
{
    if (!digits || !canonical_digits(digits, MAX_DIGITS - 1))
        return NULL;
    return mark_big(aemp_str(digits));
}

aemp_val *aempi_bignum_from_bytes(const unsigned char *s, size_t len,
                                  int neg)
{
    while (len && !*s) /* leading zeros */
        s++, len--;
    if (len > AEMP_BIGNUM_BYTES)
        return NULL;
    /* Base 10^9 limbs, least significant first: each byte is limbs*256+b. */
    enum { LIMBS = MAX_DIGITS / 9 + 2 };
    uint32_t limb[LIMBS];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        uint64_t carry = s[i];
        for (size_t k = 0; k < n; k++) {
            uint64_t t = (uint64_t)limb[k] * 256 + carry;
            limb[k] = (uint32_t)(t % LIMB);
            carry = t / LIMB;
        }
        if (carry)
            limb[n++] = (uint32_t)carry;
    }
    if (n == 0)
        return mark_big(aemp_str("0")); /* -0 too */
    char digits[LIMBS * 9 + 2], *p = digits;
    if (neg)
        *p++ = '-';
    p += sprintf(p, "%u", (unsigned)limb[n - 1]);
    for (size_t k = n - 1; k-- > 0;)
        p += sprintf(p, "%09u", (unsigned)limb[k]);
    return mark_big(aemp_strn(digits, (size_t)(p - digits)));
}

int aempi_bignum_small(const aemp_val *v, int64_t *i)
{
    size_t len;
    const char *s = aemp_str_ptr(v, &len);
    if (len > 11) /* "-2147483648" is the longest that fits */
        return 0;
    long long x = strtoll(s, NULL, 10);
    if (x < -2147483648LL || x > 2147483647LL)
        return 0;
    *i = x;
    return 1;
}

int aempi_bignum_magnitude(const aemp_val *v, aemp_buf *out)
{
    size_t len;
    const char *s = aemp_str_ptr(v, &len);
    s += *s == '-';
    /* Base 2^32 limbs, least significant first: each chunk of up to 9
     * digits is limbs * 10^k + chunk. */
    size_t cap = strlen(s) / 9 + 2, n = 0;
    uint32_t *limb = malloc(cap * sizeof(*limb));
    if (!limb)
        return AEMP_ENOMEM;
    while (*s) {
        uint64_t mul = 1, chunk = 0;
        for (int k = 0; k < 9 && *s; k++, s++) {
            mul *= 10;
            chunk = chunk * 10 + (uint64_t)(*s - '0');
        }
        for (size_t k = 0; k < n; k++) {
            uint64_t t = (uint64_t)limb[k] * mul + chunk;
            limb[k] = (uint32_t)t;
            chunk = t >> 32;
        }
        if (chunk)
            limb[n++] = (uint32_t)chunk;
    }
    int rc = AEMP_OK, started = 0;
    for (size_t k = n; k-- > 0 && !rc;)
        for (int shift = 24; shift >= 0 && !rc; shift -= 8) {
            unsigned char b = (unsigned char)(limb[k] >> shift);
            if (b || started)
                rc = aempi_buf_putc(out, (char)b);
            started |= b != 0;
        }
    free(limb);
    return rc;
}
