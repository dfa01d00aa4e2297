/* libaemp internal: CBOR writing into growable buffers and the incremental
 * reader for the "cbor" framing (AnyEvent::MP's Transport.pm: the sender
 * writes CBOR::XS::encode_cbor($msg) per message, back to back; the
 * receiver runs CBOR::XS->new->incr_parse_multiple over the byte stream).
 *
 * The mapping between CBOR and the value model, decided against
 * CBOR::XS 1.86 (the details are at the top of value_cbor_read.c and
 * value_cbor_write.c):
 * - A CBOR byte string is a Perl byte string: each byte is the character
 *   of that code point, so it decodes to the UTF-8 of those characters,
 *   the same string the json framing gives. A text string keeps its bytes.
 * - A string goes out as a byte string when every character is below
 *   U+0100 (what Perl does for byte strings and always for hash keys),
 *   else as a text string. So Perl byte strings round-trip byte for byte.
 * - Doubles go out as CBOR::XS writes an NV: an integer when integral in
 *   0 .. 2^32-1, else a single when exact, else a double.
 * - Tags 2 and 3 are bignums (value_bignum.c), written back as CBOR::XS
 *   writes a Math::BigInt.
 */
#ifndef AEMP_VALUE_CBOR_H
#define AEMP_VALUE_CBOR_H

#include <stddef.h>

#include "aemp/value.h"
#include "buf.h"

/* Appends the CBOR encoding of v (a NULL v is null) to b, as
 * CBOR::XS::encode_cbor writes the Perl data. AEMP_ENOMEM, or AEMP_EINVAL
 * when nested deeper than 512 levels; b may then hold part of it. */
int aempi_cbor_write(aemp_buf *b, const aemp_val *v);

/* Appends [portid, msg...]: a message on the wire, as the one array
 * encode_cbor would write, without building it. */
int aempi_cbor_write_frame(aemp_buf *b, const char *portid,
                           const aemp_val *msg);
/* The same for a message held as its n items, not an array. */
int aempi_cbor_write_frame_items(aemp_buf *b, const char *portid,
                                 aemp_val *const *items, size_t n);

/* At least as many bytes as aempi_cbor_write takes for v, without
 * encoding it: what a queue of values counts against a cap. The json
 * framing takes about as much (more for strings full of escapes). */
size_t aempi_cbor_size_bound(const aemp_val *v);

/* Called for each complete top-level CBOR item, as soon as its last byte
 * is fed; takes frame, which may be any type (a scalar or map is for the
 * caller to reject). A non-zero return stops the reader:
 * aempi_cbor_reader_feed returns that value, now and on every later call.
 * The callback may free the reader (feed then returns the callback's
 * value and the reader is gone), but must not feed it. */
typedef int (*aemp_cbor_frame_cb)(aemp_val *frame, void *ud);

typedef struct aemp_cbor_reader aemp_cbor_reader;

aemp_cbor_reader *aempi_cbor_reader_new(aemp_cbor_frame_cb cb, void *ud);
void aempi_cbor_reader_free(aemp_cbor_reader *r);

/* Caps what one frame decodes to at max bytes, counted as value_int.h's
 * AEMP_COST_* say; 0 for no cap (the default). Past the cap feeding fails
 * with AEMP_ELIMIT as soon as it shows. */
void aempi_cbor_reader_set_limit(aemp_cbor_reader *r, size_t max);

/* Makes the small arrays of the frames from pool (value_int.h), which
 * must outlive the reader; NULL (the default): from malloc. */
struct aemp_val_pool;
void aempi_cbor_reader_set_pool(aemp_cbor_reader *r,
                                struct aemp_val_pool *pool);

/* Feeds bytes; chunks may end anywhere, and the time it takes is linear
 * in the bytes fed however they are cut. Returns AEMP_OK, AEMP_EPARSE
 * (malformed input, or nesting deeper than 512; the reader is then
 * unusable and aempi_cbor_reader_error() says why), AEMP_ELIMIT (a frame
 * over the limit), AEMP_ENOMEM, or the callback's non-zero return value.
 * Errors stick: later calls return the same code and deliver nothing. */
int aempi_cbor_reader_feed(aemp_cbor_reader *r, const char *data, size_t len);
/* Why the reader failed, with the stream offset of the first byte of the
 * item where it stopped ("CBOR at byte 13: reserved additional
 * information", "CBOR at byte 9: frame exceeds the limit of 65536
 * bytes"); NULL while it has not failed. */
const char *aempi_cbor_reader_error(const aemp_cbor_reader *r);

/* The bytes the reader has looked at so far: fed, and copied and read
 * again while collecting strings. The tests check with it that the work
 * stays linear. */
size_t aempi_cbor_reader_work(const aemp_cbor_reader *r);

#endif
