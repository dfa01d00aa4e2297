/* libaemp: error codes.
 *
 * Every function that can fail returns one of these (0 is success) or a
 * NULL pointer; aemp_strerror() turns a code into a short English text.
 * Where a failure has details (a file name, a parse position), the node
 * or the config object keeps them in a message of its own.
 */
#ifndef AEMP_ERROR_H
#define AEMP_ERROR_H

#include "aemp/export.h"

#ifdef __cplusplus
extern "C" {
#endif

enum aemp_err {
    AEMP_OK = 0,
    AEMP_ENOMEM,    /* out of memory */
    AEMP_EINVAL,    /* an argument is not of the expected form */
    AEMP_ECONFIG,   /* the configuration or rc file is not usable */
    AEMP_EIO,       /* a file or socket operation failed */
    AEMP_ENOPORT,   /* no such (local) port */
    AEMP_ESTATE,    /* not allowed in the current state */
    AEMP_EPROTO,    /* the peer broke the protocol */
    AEMP_EAUTH,     /* authentication failed */
    AEMP_EPARSE,    /* malformed JSON or other text */
    AEMP_ETIMEDOUT, /* an operation timed out */
    AEMP_ENOTFOUND, /* a key, profile or name does not exist */
    AEMP_ELIMIT,    /* a configured limit (max_frame, max_send_queue) was
                       exceeded */
};

/* A static string for an error code; never NULL. */
AEMP_API const char *aemp_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
