/* libaemp internal: JSON writing into growable buffers and the incremental
 * reader for the "json" framing (back-to-back JSON texts, no separators). */
#ifndef AEMP_VALUE_JSON_H
#define AEMP_VALUE_JSON_H

#include <stddef.h>

#include "aemp/value.h"
#include "buf.h"

/* Appends the JSON encoding of v to b. canonical sorts map keys. */
int aemp_json_write(aemp_buf *b, const aemp_val *v, int canonical);

/* Called for each complete top-level JSON text; takes frame. A non-zero
 * return stops the reader: aemp_json_reader_feed returns that value. */
typedef int (*aemp_json_frame_cb)(aemp_val *frame, void *ud);

typedef struct aemp_json_reader aemp_json_reader;

aemp_json_reader *aemp_json_reader_new(aemp_json_frame_cb cb, void *ud);
void aemp_json_reader_free(aemp_json_reader *r);

/* Feeds bytes. Returns AEMP_OK, AEMP_EPARSE (malformed input; the reader is
 * then unusable and aemp_json_reader_error() says why), AEMP_ENOMEM, or the
 * callback's non-zero return value. */
int aemp_json_reader_feed(aemp_json_reader *r, const char *data, size_t len);
const char *aemp_json_reader_error(const aemp_json_reader *r);

#endif
