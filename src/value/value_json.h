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
int aemp_json_write(aemp_buf *b, const aemp_val *v, int canonical);

/* Appends [portid, msg...]: a message on the wire, as the one array JSON::XS
 * would write, without building it. */
int aemp_json_write_frame(aemp_buf *b, const char *portid,
                          const aemp_val *msg);

/* Called for each complete top-level JSON text, as soon as its last byte
 * is fed (a top-level number only once the next byte shows where it
 * ends); takes frame, which may be any type (a scalar or map is for the
 * caller to reject). A non-zero return stops the reader:
 * aemp_json_reader_feed returns that value, now and on every later call.
 * The callback may free the reader (feed then returns the callback's
 * value and the reader is gone), but must not feed it. */
typedef int (*aemp_json_frame_cb)(aemp_val *frame, void *ud);

typedef struct aemp_json_reader aemp_json_reader;

aemp_json_reader *aemp_json_reader_new(aemp_json_frame_cb cb, void *ud);
void aemp_json_reader_free(aemp_json_reader *r);

/* Feeds bytes; chunks may end anywhere. Returns AEMP_OK, AEMP_EPARSE
 * (malformed input, or nesting deeper than 512; the reader is then
 * unusable and aemp_json_reader_error() says why), AEMP_ENOMEM, or the
 * callback's non-zero return value. Errors stick: later calls return the
 * same code and deliver nothing. */
int aemp_json_reader_feed(aemp_json_reader *r, const char *data, size_t len);
/* Why the reader failed, with the stream byte offset where it stopped
 * ("JSON at byte 13: lexical error: invalid char in json text."); NULL
 * while it has not failed. */
const char *aemp_json_reader_error(const aemp_json_reader *r);

#endif
