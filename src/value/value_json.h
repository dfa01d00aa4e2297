/* libaemp internal: JSON writing into growable buffers and the incremental
 * reader for the "json" framing (back-to-back JSON texts, no separators). */
#ifndef AEMP_VALUE_JSON_H
#define AEMP_VALUE_JSON_H

#include <stddef.h>

#include "aemp/value.h"
#include "buf.h"

/* Appends the JSON encoding of v (a NULL v is null) to b; canonical sorts
 * map keys. AEMP_ENOMEM, or AEMP_EINVAL when nested deeper than 512
 * levels (or cyclic); b may then hold part of the text. */
int aempi_json_write(aemp_buf *b, const aemp_val *v, int canonical);

/* Appends [portid, msg...]: a message on the wire, as the one array JSON::XS
 * would write, without building it. */
int aempi_json_write_frame(aemp_buf *b, const char *portid,
                           const aemp_val *msg);
/* The same for a message held as its n items, not an array. */
int aempi_json_write_frame_items(aemp_buf *b, const char *portid,
                                 aemp_val *const *items, size_t n);

/* Called for each complete top-level JSON text, as soon as its last byte
 * is fed (a top-level number only once the next byte shows where it
 * ends); takes frame, which may be any type (a scalar or map is for the
 * caller to reject). A non-zero return stops the reader:
 * aempi_json_reader_feed returns that value, now and on every later call.
 * The callback may free the reader (feed then returns the callback's
 * value and the reader is gone), but must not feed it. */
typedef int (*aemp_json_frame_cb)(aemp_val *frame, void *ud);

typedef struct aemp_json_reader aemp_json_reader;

aemp_json_reader *aempi_json_reader_new(aemp_json_frame_cb cb, void *ud);
void aempi_json_reader_free(aemp_json_reader *r);

/* Caps one frame at max bytes, 0 for no cap (the default): both what it
 * decodes to, counted as value_int.h's AEMP_COST_* say, and its bytes on
 * the wire (whitespace between frames aside). Past the cap feeding fails
 * with AEMP_ELIMIT as soon as it shows. */
void aempi_json_reader_set_limit(aemp_json_reader *r, size_t max);

/* Arrays of the frames come from pool (value_int.h), which must outlive
 * the reader; NULL (the default): from malloc. */
struct aemp_val_pool;
void aempi_json_reader_set_pool(aemp_json_reader *r,
                                struct aemp_val_pool *pool);

/* Feeds bytes; chunks may end anywhere, and the time it takes is linear
 * in the bytes fed however they are cut. Returns AEMP_OK, AEMP_EPARSE
 * (malformed input, or nesting deeper than 512; the reader is then
 * unusable and aempi_json_reader_error() says why), AEMP_ELIMIT (a frame
 * over the limit), AEMP_ENOMEM, or the callback's non-zero return value.
 * Errors stick: later calls return the same code and deliver nothing. */
int aempi_json_reader_feed(aemp_json_reader *r, const char *data, size_t len);
/* Why the reader failed, with the stream byte offset where it stopped
 * ("JSON at byte 13: lexical error: invalid char in json text.", "JSON
 * at byte 70000: frame exceeds the limit of 65536 bytes"); NULL while it
 * has not failed. */
const char *aempi_json_reader_error(const aemp_json_reader *r);

/* The bytes the reader has looked at so far: scanned, copied while held
 * back, and read by yajl, counting again what yajl re-reads of a token
 * it got in pieces. The tests check with it that the work stays linear. */
size_t aempi_json_reader_work(const aemp_json_reader *r);

#endif
