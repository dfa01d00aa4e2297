/* libaemp: error code texts. */
#include "aemp/error.h"

const char *aemp_strerror(int err)
{
    switch (err) {
    case AEMP_OK: return "success";
    case AEMP_ENOMEM: return "out of memory";
    case AEMP_EINVAL: return "invalid argument";
    case AEMP_ECONFIG: return "configuration error";
    case AEMP_EIO: return "input/output error";
    case AEMP_ENOPORT: return "no such port";
    case AEMP_ESTATE: return "not allowed in this state";
    case AEMP_EPROTO: return "protocol error";
    case AEMP_EAUTH: return "authentication failure";
    case AEMP_EPARSE: return "parse error";
    case AEMP_ETIMEDOUT: return "timed out";
    case AEMP_ENOTFOUND: return "not found";
    case AEMP_ELIMIT: return "limit exceeded";
    }
    return "unknown error";
}
