/* libaemp internal: what value.c shares with the codecs (JSON, CBOR).
 * The struct itself stays private to value.c; codecs go through these. */
#ifndef AEMP_VALUE_INT_H
#define AEMP_VALUE_INT_H

#include <stddef.h>

#include "aemp/value.h"

/* Nesting limit for decoders: JSON::XS's default max_depth, so a message
 * Perl would refuse is refused here too, and recursion stays bounded. */
#define AEMP_MAX_DEPTH 512

/* 1 if the string value holds well-formed UTF-8 (a Perl character string),
 * 0 if it is to be treated as a Perl byte string. Computed once, when the
 * string is made. Well-formed means what Perl's encoder passes through:
 * shortest form, at most U+10FFFF; UTF-16 surrogates (ED A0..BF xx) are
 * accepted because JSON::XS decodes and re-encodes them unchanged. */
int aemp_str_is_utf8(const aemp_val *v);
int aemp_utf8_valid(const unsigned char *s, size_t len);

/* The key of entry i as a string value (borrowed). */
aemp_val *aemp_map_key_val_at(const aemp_val *m, size_t i);
/* Sets m[key] = v, taking both key (a string value) and v. */
int aemp_map_set_kv(aemp_val *m, aemp_val *key, aemp_val *v);

/* strtod for JSON number text, independent of the C locale's decimal
 * point; s need not be NUL-terminated. */
double aemp_parse_double(const char *s, size_t len);

#endif
