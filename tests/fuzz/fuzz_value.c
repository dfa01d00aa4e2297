/* Value helpers for the fuzz targets (fuzz_value.h). */
#include "fuzz_value.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int json_lossy_double(double d)
{
    if (!isfinite(d) || (d == 0 && signbit(d)))
        return 1;
    /* %.15g rounds the largest doubles past DBL_MAX: they read back as
     * inf, in JSON::XS too */
    char text[32];
    snprintf(text, sizeof text, "%.15g", d);
    return isinf(strtod(text, NULL));
}

/* A bignum beyond 64 bits goes to json as a bare number, which reads back
 * as the plain string of its digits (docs/values.md), as in JSON::XS. */
static int json_lossy_bignum(const char *digits)
{
    errno = 0;
    if (digits[0] == '-')
        (void)strtoll(digits, NULL, 10);
    else
        (void)strtoull(digits, NULL, 10);
    return errno == ERANGE;
}

static int json_lossy(const aemp_val *v)
{
    if (aemp_is_bignum(v))
        return json_lossy_bignum(aemp_str_ptr(v, NULL));
    return aemp_type_of(v) == AEMP_DOUBLE &&
           json_lossy_double(aemp_as_double(v));
}

static int cbor_lossy(const aemp_val *v)
{
    double d = aemp_as_double(v);
    return aemp_type_of(v) == AEMP_DOUBLE && d == 0 && signbit(d);
}

/* 1 if lossy() is true of v or of a value inside it. */
static int has_lossy(const aemp_val *v, int (*lossy)(const aemp_val *))
{
    switch (aemp_type_of(v)) {
    case AEMP_ARRAY:
        for (size_t i = 0; i < aemp_array_len(v); i++)
            if (has_lossy(aemp_array_at(v, i), lossy))
                return 1;
        return 0;
    case AEMP_MAP:
        for (size_t i = 0; i < aemp_map_len(v); i++)
            if (has_lossy(aemp_map_value_at(v, i), lossy))
                return 1;
        return 0;
    default:
        return lossy(v);
    }
}

int fuzz_json_lossy(const aemp_val *v)
{
    return has_lossy(v, json_lossy);
}

int fuzz_cbor_lossy(const aemp_val *v)
{
    return has_lossy(v, cbor_lossy);
}

int fuzz_identical(const aemp_val *a, const aemp_val *b)
{
    aemp_type t = aemp_type_of(a);
    if (t != aemp_type_of(b))
        return 0;
    size_t la, lb;
    switch (t) {
    case AEMP_NULL:
        return 1;
    case AEMP_BOOL:
        return aemp_is_true(a) == aemp_is_true(b);
    case AEMP_INT:
        return aemp_as_int(a) == aemp_as_int(b);
    case AEMP_UINT:
        return aemp_as_uint(a) == aemp_as_uint(b);
    case AEMP_DOUBLE: {
        double x = aemp_as_double(a), y = aemp_as_double(b);
        return isnan(x) ? isnan(y) : !memcmp(&x, &y, sizeof x);
    }
    case AEMP_STRING: {
        const char *sa = aemp_str_ptr(a, &la), *sb = aemp_str_ptr(b, &lb);
        return la == lb && !memcmp(sa, sb, la);
    }
    case AEMP_ARRAY:
        if (aemp_array_len(a) != aemp_array_len(b))
            return 0;
        for (size_t i = 0; i < aemp_array_len(a); i++)
            if (!fuzz_identical(aemp_array_at(a, i), aemp_array_at(b, i)))
                return 0;
        return 1;
    case AEMP_MAP:
        if (aemp_map_len(a) != aemp_map_len(b))
            return 0;
        for (size_t i = 0; i < aemp_map_len(a); i++) {
            const char *ka = aemp_map_key_at(a, i, &la);
            const char *kb = aemp_map_key_at(b, i, &lb);
            if (la != lb || memcmp(ka, kb, la) ||
                !fuzz_identical(aemp_map_value_at(a, i), aemp_map_value_at(b, i)))
                return 0;
        }
        return 1;
    }
    return 0;
}

void fuzz_show(const char *what, const aemp_val *v)
{
    char *j = aemp_to_json_canonical(v, NULL);
    fprintf(stderr, "%s: %s\n", what, j ? j : "(cannot print)");
    free(j);
}
