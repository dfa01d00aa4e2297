/* The frame reader checks of fuzz_json_stream and fuzz_cbor_stream
 * (fuzz_frames.h). */
#include "fuzz_frames.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aemp/error.h"
#include "buf.h"
#include "fuzz_value.h"
#include "value_cbor.h"
#include "value_json.h"

/* ---- the two readers behind one interface ---- */

static void *json_open(fuzz_frame_cb cb, void *ud)
{
    return aempi_json_reader_new(cb, ud);
}

static int json_feed(void *r, const char *data, size_t len)
{
    return aempi_json_reader_feed(r, data, len);
}

static void json_close(void *r)
{
    aempi_json_reader_free(r);
}

static void *cbor_open(fuzz_frame_cb cb, void *ud)
{
    return aempi_cbor_reader_new(cb, ud);
}

static int cbor_feed(void *r, const char *data, size_t len)
{
    return aempi_cbor_reader_feed(r, data, len);
}

static void cbor_close(void *r)
{
    aempi_cbor_reader_free(r);
}

const fuzz_reader fuzz_json_reader = {"json", json_open, json_feed,
                                      json_close};
const fuzz_reader fuzz_cbor_reader = {"cbor", cbor_open, cbor_feed,
                                      cbor_close};

/* ---- reporting ---- */

static void fail(const char *why, const aemp_val *a, const aemp_val *b)
{
    fprintf(stderr, "fuzz_frames: %s\n", why);
    fuzz_show("expected", a);
    fuzz_show("got", b);
    abort();
}

/* ---- reading ---- */

static int collect(aemp_val *frame, void *ud)
{
    aemp_array_push(ud, frame);
    return 0;
}

/* Feeds the pieces data[cut[i] .. cut[i+1]) in turn; the frames go to a
 * new array *frames. Returns what the last feed returned. */
static int read_pieces(const fuzz_reader *r, const uint8_t *data,
                       const size_t *cut, int npieces, aemp_val **frames)
{
    *frames = aemp_array();
    void *reader = r->open(collect, *frames);
    if (!*frames || !reader)
        abort(); /* out of memory in a fuzzer: nothing to learn */
    int rc = AEMP_OK;
    for (int i = 0; i < npieces; i++)
        rc = r->feed(reader, (const char *)data + cut[i],
                     cut[i + 1] - cut[i]);
    r->close(reader);
    return rc;
}

/* FNV-1a: where to cut depends on the data, so the fuzzer can steer it. */
static uint64_t hash(const uint8_t *data, size_t size)
{
    uint64_t h = 14695981039346656037u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 1099511628211u;
    return h;
}

/* ---- round trips ---- */

/* Reads the one frame of bytes written by a writer; NULL if it is not
 * exactly one frame. */
static aemp_val *read_back(const fuzz_reader *r, const aemp_buf *b)
{
    aemp_val *frames = aemp_array();
    void *reader = r->open(collect, frames);
    if (!frames || !reader)
        abort();
    int rc = r->feed(reader, b->p, b->len);
    /* a top-level json number ends only at the next byte */
    if (!rc && r == &fuzz_json_reader)
        rc = r->feed(reader, " ", 1);
    r->close(reader);
    aemp_val *one = !rc && aemp_array_len(frames) == 1
                        ? aemp_ref(aemp_array_at(frames, 0))
                        : NULL;
    aemp_unref(frames);
    return one;
}

/* A node sends [portid, msg...] without building that array
 * (aemp_*_write_frame): for a frame that starts with a port id (a string
 * without NUL; a bignum's digits are a number, which a port id never is)
 * those are the bytes of writing the frame itself. */
static void check_frame_writer(const fuzz_reader *r, const aemp_val *frame,
                               const aemp_buf *written)
{
    size_t len;
    const aemp_val *first = aemp_array_at(frame, 0);
    const char *portid = aemp_str_ptr(first, &len);
    if (aemp_type_of(frame) != AEMP_ARRAY || !portid ||
        strlen(portid) != len || aemp_is_bignum(first))
        return;
    aemp_val *msg = aemp_array();
    for (size_t i = 1; msg && i < aemp_array_len(frame); i++)
        if (aemp_array_push(msg, aemp_ref(aemp_array_at(frame, i))))
            abort();
    aemp_buf b = AEMP_BUF_INIT;
    int rc = r == &fuzz_json_reader ? aempi_json_write_frame(&b, portid, msg)
                                    : aempi_cbor_write_frame(&b, portid, msg);
    if (rc || b.len != written->len || memcmp(b.p, written->p, b.len)) {
        fprintf(stderr, "%s: the frame writer wrote other bytes (%d)\n",
                r->name, rc);
        fail("frame writer differs", frame, NULL);
    }
    aempi_buf_free(&b);
    aemp_unref(msg);
}

static void roundtrip_via(const fuzz_reader *r, const aemp_val *frame)
{
    aemp_buf b = AEMP_BUF_INIT;
    int rc = r == &fuzz_json_reader ? aempi_json_write(&b, frame, 0)
                                    : aempi_cbor_write(&b, frame);
    if (rc == AEMP_ENOMEM)
        fail("a writer ran out of memory", frame, NULL);
    if (rc) {
        /* the readers refuse what the writers refuse (512 levels) */
        fprintf(stderr, "%s writer refused a frame its reader took\n",
                r->name);
        fail("writer refused", frame, NULL);
    }
    check_frame_writer(r, frame, &b);
    aemp_val *back = read_back(r, &b);
    if (!back) {
        fprintf(stderr, "%s bytes: %.*s\n", r->name, (int)b.len, b.p);
        fail("written frame does not read back as one frame", frame, NULL);
    }
    if (!aemp_equal(frame, back)) {
        fprintf(stderr, "through %s\n", r->name);
        fail("round trip changed the frame", frame, back);
    }
    aemp_unref(back);
    aempi_buf_free(&b);
}

/* Written by the json and the cbor writer and read back, a frame is
 * aemp_equal to itself (unless it holds a double the framing cannot
 * carry, fuzz_value.h). */
static void roundtrip(const aemp_val *frame)
{
    if (!fuzz_json_lossy(frame))
        roundtrip_via(&fuzz_json_reader, frame);
    if (!fuzz_cbor_lossy(frame))
        roundtrip_via(&fuzz_cbor_reader, frame);
}

/* ---- the checks ---- */

void fuzz_frames_check(const fuzz_reader *r, const uint8_t *data,
                       size_t size)
{
    size_t whole_cut[2] = {0, size};
    aemp_val *whole, *pieces;
    int whole_rc = read_pieces(r, data, whole_cut, 1, &whole);

    uint64_t h = hash(data, size);
    size_t a = (size_t)(h % (size + 1)), b = (size_t)((h >> 32) % (size + 1));
    size_t cut[4] = {0, a < b ? a : b, a < b ? b : a, size};
    int pieces_rc = read_pieces(r, data, cut, 3, &pieces);

    /* libFuzzer stops at its malloc limit long before memory runs out:
     * a reader that says "out of memory" has a bug */
    if (whole_rc == AEMP_ENOMEM || pieces_rc == AEMP_ENOMEM)
        fail("a reader ran out of memory", whole, pieces);
    if (whole_rc != pieces_rc) {
        fprintf(stderr, "%s: whole %d, in pieces cut at %zu and %zu: %d\n",
                r->name, whole_rc, cut[1], cut[2], pieces_rc);
        fail("chunked and whole reads end differently", whole, pieces);
    }
    if (!fuzz_identical(whole, pieces)) {
        fprintf(stderr, "%s: cut at %zu and %zu\n", r->name, cut[1], cut[2]);
        fail("chunked and whole reads differ", whole, pieces);
    }
    for (size_t i = 0; i < aemp_array_len(whole); i++)
        roundtrip(aemp_array_at(whole, i));
    aemp_unref(whole);
    aemp_unref(pieces);
}
