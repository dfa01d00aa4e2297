/* libaemp: values, the data model of AnyEvent::MP messages.
 *
 * Perl sends untyped scalars, arrays and hashes. A value here is one of:
 *
 *   AEMP_NULL     undef / JSON null
 *   AEMP_BOOL     JSON true / false
 *   AEMP_INT      an integer that fits int64_t
 *   AEMP_UINT     an integer above INT64_MAX that fits uint64_t
 *                 (18446744073709551615 and friends; Perl's UV)
 *   AEMP_DOUBLE   a floating point number
 *   AEMP_STRING   a byte string of any length; may hold NULs; normally UTF-8
 *   AEMP_ARRAY    an ordered list of values
 *   AEMP_MAP      string keys to values, in insertion order, keys unique
 *
 * Integers beyond uint64_t (or below INT64_MIN) in JSON are decoded as
 * JSON::XS decodes them: as the string of their digits
 * ("100000000000000000000"). CBOR bignums (tags 2 and 3, Perl's
 * Math::BigInt) are bignums: strings of their digits too, marked so that
 * they go out as numbers again (see aemp_bignum).
 * (JSON::XS tries a double only for 15 digits or fewer, which always fit
 * 64 bits.) Numbers with a fraction or exponent are doubles. One edge
 * differs: JSON::XS decodes -9223372036854775808 as a string (an
 * off-by-one in its range check), we decode it as AEMP_INT.
 * Nesting deeper than 512 levels (JSON::XS's max_depth) is refused by the
 * decoder and the encoder.
 *
 * Values are reference counted. Constructors return a new reference; a
 * function that "takes" a value consumes the caller's reference (also on
 * failure); accessors return borrowed pointers, valid while the container
 * lives. Values are not thread safe; they belong to one event loop.
 */
#ifndef AEMP_VALUE_H
#define AEMP_VALUE_H

#include "aemp/export.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum aemp_type {
    AEMP_NULL = 0,
    AEMP_BOOL,
    AEMP_INT,
    AEMP_UINT,
    AEMP_DOUBLE,
    AEMP_STRING,
    AEMP_ARRAY,
    AEMP_MAP,
} aemp_type;

typedef struct aemp_val aemp_val;

/* Constructors: a new reference each, NULL only when out of memory. A
 * NULL string (aemp_str(NULL), aemp_strn(NULL, n > 0), aemp_strf(NULL))
 * makes undef (AEMP_NULL), as Perl has it: never NULL, which would end an
 * aemp_arrayv or aemp_sndv list early. */
AEMP_API aemp_val *aemp_null(void);
AEMP_API aemp_val *aemp_bool(int b);
AEMP_API aemp_val *aemp_int(int64_t i);
/* stored as AEMP_INT when <= INT64_MAX */
AEMP_API aemp_val *aemp_uint(uint64_t u);
AEMP_API aemp_val *aemp_double(double d);
AEMP_API aemp_val *aemp_str(const char *s);              /* NUL-terminated */
AEMP_API aemp_val *aemp_strn(const char *s, size_t len); /* any bytes */
AEMP_API aemp_val *aemp_strf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
             ;
AEMP_API aemp_val *aemp_array(void);
AEMP_API aemp_val *aemp_map(void);

/* A bignum, as Perl's Math::BigInt: an integer of any size. It is an
 * AEMP_STRING of its decimal digits (aemp_str_ptr gives them), marked as
 * a number: the cbor framing sends it as CBOR::XS sends a Math::BigInt
 * (a plain integer from -2^31 to 2^31 - 1, else tag 2 or 3), the json
 * framing as a bare JSON number of those digits (JSON::XS itself cannot
 * write a Math::BigInt at all), and it equals another bignum or an
 * integer of the same digits, not a plain string. digits is "0" or an
 * optional '-' and at most 2466 digits without a leading zero; NULL when
 * it is not, or out of memory. Bignums as map keys are plain strings of
 * their digits, as Perl stringifies a hash key. */
AEMP_API aemp_val *aemp_bignum(const char *digits);
/* 1 if v is a bignum. */
AEMP_API int aemp_is_bignum(const aemp_val *v);

/* An array of the given values, taking each of them; the list ends with
 * NULL. If any item is NULL before the end (a failed constructor), use
 * aemp_arrayn instead. */
AEMP_API aemp_val *aemp_arrayv(aemp_val *first, ...);
/* An array of n values, taking each (NULL items make the call fail). */
AEMP_API aemp_val *aemp_arrayn(size_t n, aemp_val *const *items);

AEMP_API aemp_val *aemp_ref(aemp_val *v);  /* returns v; NULL-safe */
AEMP_API void aemp_unref(aemp_val *v);     /* NULL-safe */

/* A deep copy (strings and containers are duplicated). */
AEMP_API aemp_val *aemp_copy(const aemp_val *v);

/* Type and scalar accessors. The getters convert where Perl would:
 * aemp_as_int() of a double truncates, of a numeric string parses it,
 * of anything else is 0. */
AEMP_API aemp_type aemp_type_of(const aemp_val *v);
AEMP_API const char *aemp_type_name(aemp_type t);
/* is_null is also true for a NULL pointer; is_true is Perl's truth: not
 * undef, 0, "", "0" */
AEMP_API int aemp_is_null(const aemp_val *v);
AEMP_API int aemp_is_true(const aemp_val *v);
AEMP_API int64_t aemp_as_int(const aemp_val *v);
AEMP_API uint64_t aemp_as_uint(const aemp_val *v);
AEMP_API double aemp_as_double(const aemp_val *v);

/* The bytes of a string (always followed by a NUL byte that is not part of
 * it); NULL if v is not a string. len may be NULL. */
AEMP_API const char *aemp_str_ptr(const aemp_val *v, size_t *len);
/* 1 if v is a string equal to the NUL-terminated s. */
AEMP_API int aemp_str_eq(const aemp_val *v, const char *s);

/* Arrays. push takes item. at returns a borrowed item or NULL. */
AEMP_API size_t aemp_array_len(const aemp_val *a);
AEMP_API aemp_val *aemp_array_at(const aemp_val *a, size_t i);
AEMP_API int aemp_array_push(aemp_val *a, aemp_val *item);
/* Removes item i and returns it (the caller's reference). */
AEMP_API aemp_val *aemp_array_take(aemp_val *a, size_t i);
/* Removes and drops the first n items. */
AEMP_API void aemp_array_shift(aemp_val *a, size_t n);

/* Maps. set takes v and replaces the value of an existing key. A key is a
 * Perl string: bytes that are not UTF-8 (aemp_str_is_utf8's sense) are a
 * byte string, whose characters are its bytes, so "\xe9" and "\xc3\xa9"
 * are the same key, é. Keys are held, and aemp_map_key_at returns them,
 * as UTF-8. A NULL key is refused: set gives AEMP_EINVAL (v released),
 * get NULL, del 0. */
AEMP_API size_t aemp_map_len(const aemp_val *m);
AEMP_API const char *aemp_map_key_at(const aemp_val *m, size_t i,
                                     size_t *klen);
AEMP_API aemp_val *aemp_map_value_at(const aemp_val *m, size_t i);
AEMP_API aemp_val *aemp_map_get(const aemp_val *m, const char *key);
AEMP_API aemp_val *aemp_map_getn(const aemp_val *m, const char *key,
                                 size_t klen);
AEMP_API int aemp_map_set(aemp_val *m, const char *key, aemp_val *v);
AEMP_API int aemp_map_setn(aemp_val *m, const char *key, size_t klen,
                           aemp_val *v);
/* Removes a key; 1 if it was there. */
AEMP_API int aemp_map_del(aemp_val *m, const char *key, size_t klen);

/* Equality as Perl's database compares values: by their JSON encoding, so
 * 11 and "11" differ, maps are equal regardless of key order, a double is
 * equal to another number when "%.15g" prints them alike (2.0 == 2,
 * 0.1 + 0.2 == 0.3, but -0.0 != 0), and a byte string equals the UTF-8
 * string of the same characters ("\xe9" == "\xc3\xa9"). inf and nan
 * compare as Perl prints them ("inf", "nan"), not as the null we write. */
AEMP_API int aemp_equal(const aemp_val *a, const aemp_val *b);

/* JSON, as JSON::XS encode_json writes it: compact UTF-8, doubles as Perl
 * prints them (%.15g). Strings that are not valid UTF-8 are written as Perl
 * writes a byte string: each byte as the character of that code point.
 * inf and nan are written as null (JSON::XS writes bare inf/nan, which no
 * JSON parser accepts). Returns a malloc'd NUL-terminated buffer (free()
 * it), or NULL when out of memory or nested deeper than 512 levels. */
AEMP_API char *aemp_to_json(const aemp_val *v, size_t *len);
/* Canonical JSON: like aemp_to_json with map keys sorted bytewise
 * (JSON::XS canonical). */
AEMP_API char *aemp_to_json_canonical(const aemp_val *v, size_t *len);

/* Parses one complete JSON text. Returns NULL on error (json NULL too)
 * and, if err is not NULL, sets *err to a malloc'd message. */
AEMP_API aemp_val *aemp_from_json(const char *json, size_t len, char **err);

#ifdef __cplusplus
}
#endif

#endif
