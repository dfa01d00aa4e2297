/* libaemp internal: where strings, numbers and top-level texts begin and
 * end in a stream of JSON texts, found by looking at each byte once.
 *
 * The JSON reader needs this because yajl re-reads a string or number it
 * got in pieces from its first byte at every later call: a 64 MiB string
 * arriving in 16 KiB reads would cost time quadratic in its length. With
 * the scanner the reader holds back such a token until its end has
 * arrived and hands it to yajl in one piece; and it bounds the bytes of
 * one text (max_frame).
 *
 * A token ends where yajl's lexer ends it: a string at its closing quote,
 * a number at the first byte that cannot continue it (yajl's grammar:
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?). A byte that yajl
 * refuses inside a token (a control character, a bad escape or \u digit
 * in a string; "1." followed by a non-digit) ends it too, so that yajl
 * sees it, and reports it, at once. Whether a string is UTF-8 shows once
 * it is complete. Beyond that the scanner validates nothing; on
 * malformed input the places it finds may be wrong, which can cost a
 * hold-back that was not needed, never a wrong value: yajl sees the same
 * bytes in the same order, however cut. */
#ifndef AEMP_VALUE_JSON_SCAN_H
#define AEMP_VALUE_JSON_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct aemp_json_scan {
    size_t at;          /* stream offset of the next byte */
    size_t depth;       /* open arrays and maps */
    size_t tok_start;   /* where the open string or number began */
    size_t text_start;  /* where the open top-level text began */
    unsigned char state; /* 0 outside strings and numbers, else where in
                            one (value_json_scan.c) */
    unsigned char need;  /* \u digits still to come */
    unsigned char in_text; /* inside a top-level text */
    unsigned char ended;   /* aempi_json_scan_text stopped at a text's end:
                              1 at its closing bracket or quote, 2 other */
    unsigned char closed;  /* (the scan's: how the last token ended) */
} aemp_json_scan;

#define AEMP_JSON_SCAN_INIT {0, 0, 0, 0, 0, 0, 0, 0, 0}

/* Scans the bytes [p, end), which follow the ones scanned before. With
 * max non-zero it stops at the first byte that would make a text longer
 * than max bytes (whitespace between texts is not part of one) and
 * returns it; otherwise it returns end. */
const char *aempi_json_scan_run(aemp_json_scan *s, const char *p,
                                const char *end, size_t max);

/* The same, but it returns as soon as a top-level text ends (after its
 * last byte; after a number at the top, at the byte that ends it) and
 * sets s->ended then; a byte at the top that begins no text longer than
 * itself (one that yajl refuses, a letter of a literal) counts as such a
 * text. s->ended is 1 when the text ended with the bracket that closed
 * it or the quote that closed a string at the top (if yajl took all of
 * it without an error, it has then finished that text), 2 for any other
 * end (a number, a string broken by a byte yajl refuses, a byte at the
 * top that begins no text). */
const char *aempi_json_scan_text(aemp_json_scan *s, const char *p,
                                 const char *end, size_t max);

/* A string or number is open: it began at s->tok_start and has not ended
 * (a number ends only at the byte after it). */
static inline int aemp_json_scan_in_token(const aemp_json_scan *s)
{
    return s->state != 0;
}

/* Whether the eight bytes at p are plain in a JSON string: no control
 * character, quote or backslash; with high = 0x80 in every byte
 * (0x8080808080808080), none from 0x80 either (high = 0: those are
 * plain). The scanner, the reader and the writer ask this of most bytes,
 * a word at a time. Each test marks the high bit of a byte below 0x20,
 * or of one that the XOR makes zero (a quote, a backslash); a byte from
 * 0x80 leaves it clear (the ~w) unless high asks for it. 0 when all are
 * plain; else the marks, of which the first is exact (a borrow only runs
 * towards later bytes: in memory order on a little-endian machine), the
 * ones after it need not be. */
static inline uint64_t aemp_json_unplain_bits(const char *p, uint64_t high)
{
    const uint64_t ones = 0x0101010101010101u, highs = ones << 7;
    uint64_t w, q, b;
    memcpy(&w, p, 8);
    q = w ^ ('"' * ones);
    b = w ^ ('\\' * ones);
    return (((w - 0x20 * ones) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b) |
            (w & high)) &
           highs;
}

static inline int aemp_json_plain_word(const char *p, uint64_t high)
{
    return !aemp_json_unplain_bits(p, high);
}

#endif
