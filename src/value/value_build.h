/* libaemp internal: the value builder that both frame readers (JSON and
 * CBOR) put their values together with. A reader parses its format and
 * tells the builder what it found: a scalar, an array or map opening
 * (with its length when the format declares one), its end. The builder
 * keeps the open containers on its own stack until they close, so
 * dropping it (or failing) at any point frees exactly what the stack
 * holds; a value that completes a top-level frame goes to the frame
 * callback at once.
 *
 * It also keeps the two rules every frame obeys, whatever its format:
 * - nesting deeper than AEMP_MAX_DEPTH (512) arrays and maps is an error
 *   ("nesting deeper than 512 levels"), as in JSON::XS and CBOR::XS;
 * - with a limit set (max_frame on a link) a frame may not decode to
 *   more than that, counted as value_int.h's AEMP_COST_* say ("frame
 *   exceeds the limit of N bytes").
 *
 * The builder records the first error (code and reason); the reader
 * turns it into its message with the stream offset it knows. Every
 * function returns AEMP_OK or that first error, and after an error the
 * builder must not be fed again. */
#ifndef AEMP_VALUE_BUILD_H
#define AEMP_VALUE_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "aemp/value.h"

/* The readers' frame callback (aemp_json_frame_cb, aemp_cbor_frame_cb):
 * takes frame; a non-zero return stops the reader with that code. */
typedef int (*aemp_build_frame_cb)(aemp_val *frame, void *ud);

typedef struct aemp_build_level aemp_build_level;

/* Embedded in each reader; the reader reads err, why, cb_rc and sets
 * max and free_pending, the rest is the builder's. */
typedef struct aemp_build {
    aemp_build_frame_cb cb;
    void *ud;
    aemp_build_level *stack; /* the open arrays and maps, outermost first */
    size_t depth, cap;
    size_t max;       /* the frame limit, 0: none */
    size_t size;      /* the frame so far, counted as the limit counts */
    int err;          /* the first error, AEMP_OK while there is none */
    const char *why;  /* its reason, for the reader's message */
    int cb_rc;        /* what the frame callback returned last */
    int free_pending; /* the reader was freed inside the frame callback */
    struct aemp_val_pool *pool; /* where small arrays come from, or NULL
                                   (the reader's owner sets it) */
    char limit_why[64];
} aemp_build;

void aempi_build_init(aemp_build *b, aemp_build_frame_cb cb, void *ud);
/* Drops the open containers (a frame cut short); b is then empty. */
void aempi_build_clear(aemp_build *b);

/* Records err with why (a string that outlives b) unless an error is
 * recorded already; returns the recorded error. */
int aempi_build_fail(aemp_build *b, int err, const char *why);
/* The frame passes the limit: AEMP_ELIMIT. */
int aempi_build_over_limit(aemp_build *b);
/* What the frame may still count before it passes the limit (asked for
 * every value: inline). */
static inline size_t aempi_build_room(const aemp_build *b)
{
    return b->max ? b->max - b->size : SIZE_MAX;
}

/* A scalar (taken; NULL: out of memory) joins the open container, or
 * is a frame. In a map that waits for a key it is the key: a string as
 * it is, another scalar as Perl stringifies a hash key (integers as
 * digits, true/false "1"/"0", null "", doubles as Perl prints an NV:
 * "1.5", "1e+23", "0" for -0.0, "Inf", "NaN"). A container whose
 * declared length it completes closes and joins its parent in turn. */
int aempi_build_value(aemp_build *b, aemp_val *v);

/* A whole frame a reader made in one step (its fast path for small flat
 * arrays, only where no container is open), delivered as the last
 * aempi_build_value of a frame delivers it; takes frame (NULL: out of
 * memory). The reader checked it fits the limit. */
int aempi_build_frame(aemp_build *b, aemp_val *frame);

/* Opens an array or map (type AEMP_ARRAY or AEMP_MAP). indef: it ends at
 * aempi_build_close; else it holds n items (arrays) or pairs (maps) and
 * closes with the last, at once when n is 0. A declared length that
 * cannot fit the limit fails before any item comes; an array's item
 * vector is allocated ahead for at most 64 of them, the rest grows as
 * items really come. Fails where a map key is due ("map key is an array
 * or map"). */
int aempi_build_open(aemp_build *b, aemp_type type, uint64_t n, int indef);

/* Ends the innermost container, which must be an open indefinite one
 * without a key waiting for its value ("unexpected break", "break after
 * a map key": JSON's parser checks its brackets itself, so only CBOR's
 * break can meet these). */
int aempi_build_close(aemp_build *b);

#endif
