/* libaemp: the JSON token scanner (see value_json_scan.h).
 *
 * It runs ahead of yajl over every byte, so it is written for speed:
 * byte classes from tables, and tight loops over the bytes that change
 * nothing (inside containers; plain ASCII inside strings, eight at a time
 * in long runs). Each byte is looked at a bounded number of times. */
#include "value_json_scan.h"

#include <stdint.h>
#include <string.h>

/* Where the scanner is: outside tokens, in a string, in a number. The
 * number states follow yajl's grammar: after '-', after a leading 0, in
 * the integer digits, after '.', in the fraction, after 'e', after its
 * sign, in the exponent. */
enum {
    OUT, STR, ESC, HEX,
    N_MINUS, N_ZERO, N_INT, N_DOT, N_FRAC, N_E, N_ESIGN, N_EXP
};

enum { PLAIN, QUOTE, MINUS, ZERO, DIGIT, OPEN, CLOSE, SPACE };

/* Bytes outside strings and numbers. */
static const unsigned char byte_class[256] = {
    ['"'] = QUOTE, ['-'] = MINUS, ['0'] = ZERO, ['1'] = DIGIT,
    ['2'] = DIGIT, ['3'] = DIGIT, ['4'] = DIGIT, ['5'] = DIGIT,
    ['6'] = DIGIT, ['7'] = DIGIT, ['8'] = DIGIT, ['9'] = DIGIT,
    ['['] = OPEN, ['{'] = OPEN, [']'] = CLOSE, ['}'] = CLOSE,
    /* what yajl skips between tokens */
    [' '] = SPACE, ['\t'] = SPACE, ['\n'] = SPACE, ['\r'] = SPACE,
    ['\v'] = SPACE, ['\f'] = SPACE,
};

/* Inside a container, bytes of these classes change nothing. */
static int inert(unsigned k)
{
    return k == PLAIN || k == SPACE;
}

/* ---- strings ----------------------------------------------------------- */

/* Bytes that a string may hold as they are: all but control characters,
 * the quote and the backslash (a table: this is asked for most bytes).
 * Bytes from 0x80 are plain here: whether they are UTF-8 is checked on
 * the whole string, once it has come. */
#define ROW(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
static const unsigned char plain_table[256] = {
    ROW(0), ROW(0),                                 /* control characters */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x22 '"' */
    ROW(1), ROW(1),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x5c '\\' */
    ROW(1), ROW(1), ROW(1), ROW(1), ROW(1), ROW(1), ROW(1), ROW(1),
    ROW(1), ROW(1),
};
#undef ROW

static int plain_in_string(unsigned c)
{
    return plain_table[c];
}

/* Past the plain bytes of a string in [p, end). */
static const char *skip_plain(const char *p, const char *end)
{
    while (end - p >= 8 && aemp_json_plain_word(p, 0))
        p += 8;
    while (p < end && plain_in_string((unsigned char)*p))
        p++;
    return p;
}

static int is_hex(unsigned c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

enum { GOES_ON, CLOSED, BROKEN };

/* One byte c in a string that is not plain: whether the string goes on,
 * closed with c, or broke at c (yajl refuses c there: the string ends
 * before it, so yajl gets it at once). */
static int string_byte(aemp_json_scan *s, unsigned c)
{
    switch (s->state) {
    case ESC:
        if (c == 'u') {
            s->state = HEX;
            s->need = 4;
            return GOES_ON;
        }
        s->state = STR;
        return strchr("\"\\/bfnrt", (int)c) && c ? GOES_ON : BROKEN;
    case HEX:
        if (!is_hex(c))
            return BROKEN;
        if (!--s->need)
            s->state = STR;
        return GOES_ON;
    default: /* STR */
        if (c == '"')
            return CLOSED;
        if (c == '\\') {
            s->state = ESC;
            return GOES_ON;
        }
        return BROKEN; /* a control character */
    }
}

/* ---- numbers ----------------------------------------------------------- */

/* Bytes in numbers, by what they do there. */
enum { N_OTHER, N_0, N_1_9, N_POINT, N_EXP_MARK, N_SIGN };

static const unsigned char number_class[256] = {
    ['0'] = N_0, ['1'] = N_1_9, ['2'] = N_1_9, ['3'] = N_1_9,
    ['4'] = N_1_9, ['5'] = N_1_9, ['6'] = N_1_9, ['7'] = N_1_9,
    ['8'] = N_1_9, ['9'] = N_1_9, ['.'] = N_POINT, ['e'] = N_EXP_MARK,
    ['E'] = N_EXP_MARK, ['+'] = N_SIGN, ['-'] = N_SIGN,
};

/* The number state after a byte of each class, OUT where the byte cannot
 * continue the number (it ended before, or yajl refuses the byte). */
static const unsigned char number_next[][6] = {
    [N_MINUS - N_MINUS] = {OUT, N_ZERO, N_INT, OUT, OUT, OUT},
    [N_ZERO - N_MINUS] = {OUT, OUT, OUT, N_DOT, N_E, OUT},
    [N_INT - N_MINUS] = {OUT, N_INT, N_INT, N_DOT, N_E, OUT},
    [N_DOT - N_MINUS] = {OUT, N_FRAC, N_FRAC, OUT, OUT, OUT},
    [N_FRAC - N_MINUS] = {OUT, N_FRAC, N_FRAC, OUT, N_E, OUT},
    [N_E - N_MINUS] = {OUT, N_EXP, N_EXP, OUT, OUT, N_ESIGN},
    [N_ESIGN - N_MINUS] = {OUT, N_EXP, N_EXP, OUT, OUT, OUT},
    [N_EXP - N_MINUS] = {OUT, N_EXP, N_EXP, OUT, OUT, OUT},
};

static unsigned number_after(unsigned state, unsigned c)
{
    return number_next[state - N_MINUS][number_class[c]];
}

/* ---- texts and the limit ----------------------------------------------- */

/* The scan of one chunk: its start and its stream offset. */
typedef struct chunk {
    const char *start;
    size_t at;
} chunk;

static size_t offset_of(const chunk *c, const char *p)
{
    return c->at + (size_t)(p - c->start);
}

/* Where scanning must stop: the byte that would make the open text longer
 * than max, or end. */
static const char *limit_of(const aemp_json_scan *s, const chunk *c,
                            const char *p, const char *end, size_t max)
{
    if (!max || !s->in_text)
        return end;
    size_t used = offset_of(c, p) - s->text_start;
    if (used >= max)
        return p;
    return max - used < (size_t)(end - p) ? p + (max - used) : end;
}

/* A token starts at p with the byte of class k (a quote or a number). */
static void token_starts(aemp_json_scan *s, const chunk *c, const char *p,
                         unsigned k)
{
    s->state = k == QUOTE ? STR : k == MINUS ? N_MINUS
               : k == ZERO ? N_ZERO : N_INT;
    s->tok_start = offset_of(c, p);
}

/* The byte at p, at the top (outside every container), whose class is k:
 * a text starts there unless it is whitespace; a text of one byte (a
 * bracket that closes nothing, a literal's letter, garbage that yajl
 * refuses) ends there too. */
static void at_top(aemp_json_scan *s, const chunk *c, const char *p,
                   unsigned k)
{
    if (k == SPACE)
        return;
    s->in_text = 1;
    s->text_start = offset_of(c, p);
    if (k == OPEN)
        s->depth = 1;
    else if (k != PLAIN && k != CLOSE)
        token_starts(s, c, p, k);
    else
        s->in_text = 0;
}

/* The byte at p, inside a container, whose class k is not inert. */
static void inside(aemp_json_scan *s, const chunk *c, const char *p,
                   unsigned k)
{
    if (k == OPEN) {
        s->depth++;
    } else if (k == CLOSE) {
        if (!--s->depth)
            s->in_text = 0;
    } else {
        token_starts(s, c, p, k);
    }
}

/* Inside a container: past the bytes that change nothing, and past short
 * plain strings, which are most of them (the others take the general
 * way). */
static const char *skip_inside(const char *p, const char *lim)
{
    for (;;) {
        while (p < lim && inert(byte_class[(unsigned char)*p]))
            p++;
        if (p == lim || *p != '"')
            return p;
        const char *q = p + 1, *upto = lim - q > 64 ? q + 64 : lim;
        while (q < upto && plain_in_string((unsigned char)*q))
            q++;
        if (q == upto || *q != '"')
            return p;
        p = q + 1;
    }
}

/* A string or number ended: so did the text, if it is at the top. Returns
 * the new limit. */
static const char *token_ended(aemp_json_scan *s, const char *lim,
                               const char *end)
{
    s->state = OUT;
    if (s->depth)
        return lim;
    s->in_text = 0;
    return end;
}

/* ---- the scan ---------------------------------------------------------- */

/* In a string: returns where the scan goes on; *lim changes when the
 * string ends. */
static const char *in_string(aemp_json_scan *s, const char *p,
                             const char **lim, const char *end)
{
    if (s->state == STR)
        p = skip_plain(p, *lim);
    if (p == *lim)
        return p;
    int r = string_byte(s, (unsigned char)*p);
    if (r == GOES_ON)
        return p + 1;
    *lim = token_ended(s, *lim, end);
    s->closed = r == CLOSED;
    return r == CLOSED ? p + 1 : p;
}

/* The scan; with one set it stops right after a byte that ends a
 * top-level text (and sets s->ended). */
static const char *scan(aemp_json_scan *s, const char *p, const char *end,
                        size_t max, int one)
{
    chunk c = {p, s->at};
    const char *lim = limit_of(s, &c, p, end, max);
    s->ended = 0;
    for (;;) {
        unsigned char was = s->in_text;
        if (s->state >= N_MINUS) {
            unsigned next;
            while (p < lim &&
                   (next = number_after(s->state, (unsigned char)*p)) != OUT) {
                s->state = (unsigned char)next;
                p++;
            }
            /* the byte at p ends the number; it is part of the text
             * unless the number is at the top */
            if (p == lim &&
                (p == end || number_after(s->state, (unsigned char)*p)))
                break;
            lim = token_ended(s, lim, end);
            s->closed = 0;
        } else if (s->state != OUT) {
            p = in_string(s, p, &lim, end);
            if (p == lim && s->state != OUT)
                break;
        } else if (s->depth) {
            p = skip_inside(p, lim);
            if (p == lim)
                break;
            inside(s, &c, p, byte_class[(unsigned char)*p]);
            p++;
            if (!s->in_text)
                lim = end;
            s->closed = 1; /* (only read when the text ended here) */
        } else {
            if (p == lim)
                break;
            unsigned k = byte_class[(unsigned char)*p];
            at_top(s, &c, p, k);
            lim = limit_of(s, &c, p, end, max);
            p++;
            was |= k != SPACE; /* a text of one byte began and ended */
            s->closed = 0;
        }
        if (one && was && !s->in_text) {
            s->ended = s->closed ? 1 : 2;
            break;
        }
    }
    s->at = offset_of(&c, p);
    return p;
}

const char *aempi_json_scan_run(aemp_json_scan *s, const char *p,
                                const char *end, size_t max)
{
    return scan(s, p, end, max, 0);
}

const char *aempi_json_scan_text(aemp_json_scan *s, const char *p,
                                 const char *end, size_t max)
{
    return scan(s, p, end, max, 1);
}
