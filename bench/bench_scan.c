/* aemp-bench-scan: the frame-scanning ceiling (bench/run's anchors).
 *
 * The same frames a libaemp source sends to a sink, ["d", PAYLOAD] on
 * SINK#data, encoded by the library's own frame writers (the functions
 * a link encodes with, so the bytes are the wire's), written by a plain
 * writer as fast as the socket takes them and read by a reader that only
 * finds where each frame ends: no decoding, no values, no event loop.
 * What any receiver of this framing must at least do, per message.
 *
 *   scanread {"framing": "cbor"|"json"}
 *       reports ["ready", PORT], reads one connection to its end and
 *       reports ["result", {count, seconds, rate, cpu_ns_per_msg}], the
 *       rate from the first byte to the end of the stream
 *   scanwrite {"port": P, "framing": F, "size": 30, "duration": 2,
 *              "to": "sink#data"}
 *       writes frames back to back for duration seconds, then closes
 *
 * It uses the library's internal encoder, hence a program of its own:
 * aemp-bench keeps to the public API.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aemp/value.h"
#include "bench_sys.h"
#include "buf.h"
#include "value_cbor.h"
#include "value_json.h"

static double arg_num(const aemp_val *args, const char *key, double def)
{
    const aemp_val *v = aemp_map_get(args, key);
    return v && !aemp_is_null(v) ? aemp_as_double(v) : def;
}

static const char *arg_str(const aemp_val *args, const char *key,
                           const char *def)
{
    const char *s = aemp_str_ptr(aemp_map_get(args, key), NULL);
    return s ? s : def;
}

/* ---- scanning ---------------------------------------------------------- */

/* JSON frames are back to back with nothing between them: a frame ends
 * where its outer array closes, outside strings. The state lives across
 * reads. */
typedef struct json_scan {
    int depth, in_str, esc;
} json_scan;

static uint64_t scan_json(json_scan *st, const unsigned char *p, size_t n)
{
    uint64_t frames = 0;
    int depth = st->depth, in_str = st->in_str, esc = st->esc;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        switch (c) {
        case '"':
            in_str = 1;
            break;
        case '[':
        case '{':
            depth++;
            break;
        case ']':
        case '}':
            if (--depth == 0)
                frames++;
            break;
        default:
            break;
        }
    }
    st->depth = depth;
    st->in_str = in_str;
    st->esc = esc;
    return frames;
}

/* The length of the CBOR item at p (nested items included), 0 when it
 * does not end within n bytes, SIZE_MAX when it is not definite-length
 * CBOR (CBOR::XS and libaemp write no indefinite lengths). */
static size_t cbor_item(const unsigned char *p, size_t n, int depth)
{
    if (!n || depth > 64)
        return depth > 64 ? SIZE_MAX : 0;
    unsigned major = p[0] >> 5, ai = p[0] & 31;
    size_t off = 1;
    uint64_t arg;
    if (ai < 24)
        arg = ai;
    else if (ai <= 27) {
        size_t len = (size_t)1 << (ai - 24);
        if (n < 1 + len)
            return 0;
        arg = 0;
        for (size_t i = 0; i < len; i++)
            arg = arg << 8 | p[1 + i];
        off += len;
    } else
        return SIZE_MAX;
    switch (major) {
    case 2:
    case 3:
        if (arg > n - off)
            return 0;
        return off + (size_t)arg;
    case 4:
    case 5: {
        uint64_t items = major == 5 ? 2 * arg : arg;
        for (uint64_t i = 0; i < items; i++) {
            size_t len = cbor_item(p + off, n - off, depth + 1);
            if (!len || len == SIZE_MAX)
                return len;
            off += len;
        }
        return off;
    }
    case 6: {
        size_t len = cbor_item(p + off, n - off, depth + 1);
        return !len || len == SIZE_MAX ? len : off + len;
    }
    default: /* integers, simple values, floats: the head is the item */
        return off;
    }
}

static int scanread(const aemp_val *args)
{
    int json = !strcmp(arg_str(args, "framing", "cbor"), "json");
    int port;
    int ls = bench_listen_loopback(&port);
    if (ls < 0) {
        perror("scanread");
        return 1;
    }
    printf("[\"ready\",%d]\n", port);
    fflush(stdout);
    int fd = accept(ls, NULL, NULL);
    if (fd < 0) {
        perror("scanread: accept");
        return 1;
    }
    /* what one of libaemp's loop turns reads at most from a link */
    size_t cap = 256 * 1024;
    unsigned char *buf = malloc(cap);
    size_t have = 0;
    json_scan js = {0, 0, 0};
    uint64_t frames = 0;
    double t0 = 0, c0 = 0;
    for (;;) {
        ssize_t got = read(fd, buf + have, cap - have);
        if (got < 0) {
            perror("scanread: read");
            return 1;
        }
        if (got == 0)
            break;
        if (!t0) {
            t0 = bench_now();
            c0 = bench_cpu();
        }
        if (json) {
            frames += scan_json(&js, buf, (size_t)got);
            continue;
        }
        /* CBOR: whole items only; a cut one waits for the next read */
        have += (size_t)got;
        size_t off = 0;
        for (;;) {
            size_t len = cbor_item(buf + off, have - off, 0);
            if (len == SIZE_MAX) {
                fprintf(stderr, "scanread: not CBOR at %zu\n", off);
                return 1;
            }
            if (!len)
                break;
            off += len;
            frames++;
        }
        memmove(buf, buf + off, have - off);
        have -= off;
        if (have == cap) {
            fprintf(stderr, "scanread: a frame over %zu bytes\n", cap);
            return 1;
        }
    }
    double secs = bench_now() - t0, cpu = bench_cpu() - c0;
    printf("[\"result\",{\"count\":%llu,\"seconds\":%.6f,\"rate\":%.1f,"
           "\"cpu_ns_per_msg\":%.2f}]\n",
           (unsigned long long)frames, secs,
           secs > 0 ? (double)frames / secs : 0.0,
           frames ? cpu * 1e9 / (double)frames : 0.0);
    fflush(stdout);
    free(buf);
    return 0;
}

/* ---- writing ----------------------------------------------------------- */

static int scanwrite(const aemp_val *args)
{
    int json = !strcmp(arg_str(args, "framing", "cbor"), "json");
    int port = (int)arg_num(args, "port", 0);
    double duration = arg_num(args, "duration", 2);
    size_t size = (size_t)arg_num(args, "size", 30);
    const char *to = arg_str(args, "to", "sink#data");
    if (size < 9) {
        fprintf(stderr, "scanwrite: size >= 9\n");
        return 1;
    }
    /* the bench's message, ["d", "xxx..."] of size bytes as JSON (as
     * aemp-bench's source makes it), framed as a link frames it */
    char *fill = malloc(size - 8 + 1);
    memset(fill, 'x', size - 8);
    fill[size - 8] = 0;
    aemp_val *msg = aemp_arrayv(aemp_str("d"), aemp_str(fill), NULL);
    free(fill);
    aemp_buf b = AEMP_BUF_INIT;
    /* a batch of whole frames, about 64 KiB: one write each */
    while (b.len < 64 * 1024) {
        int rc = json ? aempi_json_write_frame(&b, to, msg)
                      : aempi_cbor_write_frame(&b, to, msg);
        if (rc) {
            fprintf(stderr, "scanwrite: encoding failed\n");
            return 1;
        }
    }
    aemp_unref(msg);

    int fd = bench_connect_loopback(port);
    if (fd < 0) {
        perror("scanwrite");
        return 1;
    }
    printf("[\"ready\"]\n");
    fflush(stdout);
    double start = bench_now();
    uint64_t batches = 0;
    while (bench_now() - start < duration) {
        size_t done = 0;
        while (done < b.len) {
            ssize_t n = write(fd, b.p + done, b.len - done);
            if (n <= 0) {
                perror("scanwrite: write");
                return 1;
            }
            done += (size_t)n;
        }
        batches++;
    }
    close(fd);
    printf("[\"sent\",{\"batches\":%llu,\"bytes\":%llu}]\n",
           (unsigned long long)batches,
           (unsigned long long)(batches * b.len));
    fflush(stdout);
    aempi_buf_free(&b);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: aemp-bench-scan scanread|scanwrite ARGS\n");
        return 1;
    }
    char *err = NULL;
    aemp_val *args = aemp_from_json(argv[2], strlen(argv[2]), &err);
    if (!args || aemp_type_of(args) != AEMP_MAP) {
        fprintf(stderr, "aemp-bench-scan: ARGS must be a JSON object\n");
        return 1;
    }
    /* the harness's time limit, in case it went away */
    alarm((unsigned)arg_num(args, "timeout", 60));
    int rc = !strcmp(argv[1], "scanread")    ? scanread(args)
             : !strcmp(argv[1], "scanwrite") ? scanwrite(args)
                                             : (fprintf(stderr, "unknown mode\n"), 1);
    aemp_unref(args);
    return rc;
}
