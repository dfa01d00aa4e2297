/* The part of the stream-reader tests that the JSON and CBOR readers
 * share (test_json_stream.c, test_cbor_stream.c): the Perl vectors, a
 * frame collector, strict comparison, and the vector tests that decode
 * the 18 messages whole, cut at every offset and byte by byte.
 *
 * The vectors: frames.json.bin and frames.cbor.bin hold 18 messages
 * exactly as AnyEvent::MP's json and cbor framings wrote them, back to
 * back; frames.expected.jsonl has the same messages as canonical JSON,
 * one a line (raw UTF-8, JSON::XS escapes, sorted keys);
 * frames.lengths.txt has each message's length in the json stream (first
 * column) and in the cbor stream (second). */
#ifndef AEMP_STREAM_HARNESS_H
#define AEMP_STREAM_HARNESS_H

#include <check.h>
#include <stddef.h>

#include "aemp/value.h"

#define NMSG 18

/* One reader behind one face. */
typedef struct stream_codec {
    const char *name;        /* the suite: "json_stream", "cbor_stream" */
    const char *stream_file; /* the vector stream, "frames.json.bin" */
    int lengths_column;      /* its column in frames.lengths.txt, from 0 */
    /* the split test's offsets are cut into this many test runs, each
     * under the Check timeout */
    int slices;
    void *(*make)(int (*cb)(aemp_val *frame, void *ud), void *ud);
    int (*feed)(void *r, const char *p, size_t len);
    const char *(*error)(const void *r);
    void (*drop)(void *r);
    /* Checks that message i (decoded) written again is byte for byte
     * what Perl sent, stream + offset[i]. */
    void (*check_reencoded)(int i, const aemp_val *msg);
} stream_codec;

/* The vectors, loaded by stream_harness_main; forked test cases
 * inherit them. */
extern char *stream;            /* the codec's stream file */
extern size_t stream_len;
extern char *expected[NMSG];    /* lines of frames.expected.jsonl */
extern size_t offset[NMSG + 1]; /* where each message starts in stream */
extern aemp_val *ref[NMSG];     /* the messages, from the expected lines */

/* Collects the frames a reader delivers (collect is its frame callback,
 * ud the collector). */
typedef struct collector {
    aemp_val *frames[64];
    size_t n;
    int stop_at;  /* return stop_rc for this frame (1-based), 0: never */
    int stop_rc;
    void *free_me; /* free this reader from the callback, at stop_at */
} collector;

int collect(aemp_val *frame, void *ud);
void collector_clear(collector *c);

/* Strict sameness, stricter than aemp_equal: same types, same bytes, same
 * key order. */
int same(const aemp_val *a, const aemp_val *b);

/* All 18 messages arrived, each the same as its reference. */
void check_all(const collector *c, const char *how);

/* The stream offset in a reader's error message ("... at byte N: ..."). */
unsigned long error_offset(const char *msg);

/* A stream that ends inside a message, one a message: nothing for it, no
 * error (more may come); freeing the reader then frees the partial value
 * (ASan's leak check sees to that). */
void check_truncated_vectors(void);

/* The vector tests of the codec stream_harness_main runs: one piece,
 * byte by byte, split at every offset. */
TCase *stream_vectors_tcase(void);

/* Loads the vectors for codec, runs the suite make_suite makes, frees
 * the vectors; returns the exit status. */
int stream_harness_main(const stream_codec *codec, Suite *(*make_suite)(void));

#endif
