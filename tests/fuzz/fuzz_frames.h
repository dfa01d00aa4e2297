/* The checks fuzz_json_stream and fuzz_cbor_stream share: one frame reader
 * (json or cbor, behind fuzz_reader) is fed the input whole and in three
 * pieces cut where the data says; both must deliver the same frames and
 * end the same way, and every frame must come back equal (aemp_equal)
 * through the json and the cbor writer and reader; the writers' send path
 * (aemp_*_write_frame) must write the same bytes. A difference aborts. */
#ifndef AEMP_FUZZ_FRAMES_H
#define AEMP_FUZZ_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "aemp/value.h"

/* A frame reader as both framings have one: new, feed, free. The frame
 * callback takes the frame. */
typedef int (*fuzz_frame_cb)(aemp_val *frame, void *ud);

typedef struct fuzz_reader {
    const char *name;
    void *(*open)(fuzz_frame_cb cb, void *ud);
    int (*feed)(void *reader, const char *data, size_t len);
    void (*close)(void *reader);
} fuzz_reader;

/* The json and the cbor framing's readers. */
extern const fuzz_reader fuzz_json_reader;
extern const fuzz_reader fuzz_cbor_reader;

/* Runs the checks above on data with reader r. */
void fuzz_frames_check(const fuzz_reader *r, const uint8_t *data,
                       size_t size);

#endif
