/* Value helpers for the fuzz targets. */
#ifndef AEMP_FUZZ_VALUE_H
#define AEMP_FUZZ_VALUE_H

#include "aemp/value.h"

/* 1 if v holds a value that the framing writes as another value, as
 * Perl's writers do too: json writes inf and nan as null (value.h),
 * -0.0 as -0, which reads back as the integer 0, the largest doubles as
 * %.15g rounds them, past DBL_MAX, so they read back as inf, and a bignum
 * beyond 64 bits as a bare number, which reads back as a plain string of
 * its digits (docs/values.md); cbor writes -0.0 as the integer 0
 * (CBOR::XS: an integral NV in 0 .. 2^32-1). Such a value cannot come
 * back equal from that framing. */
int fuzz_json_lossy(const aemp_val *v);
int fuzz_cbor_lossy(const aemp_val *v);

/* 1 if a and b are the same value in every detail: types, bytes, key
 * order. Stricter than aemp_equal, which takes 2.0 for 2. */
int fuzz_identical(const aemp_val *a, const aemp_val *b);

/* Prints "what: canonical json of v" to stderr. */
void fuzz_show(const char *what, const aemp_val *v);

#endif
