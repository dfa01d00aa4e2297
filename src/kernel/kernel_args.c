/* libaemp: the argument checks of the public entry points.
 *
 * A port id, a reply port or a family name often comes straight out of a
 * message a peer sent, so no argument may crash the node. Where Perl's
 * function croaks, ours returns AEMP_EINVAL; and where that croak would
 * unwind a port's callback (rcv, spawn's init function, peval: $SELF is
 * set) and kill the port with ("die", TEXT), the port is killed with the
 * same text. C cannot unwind the callback, so it runs on; the kill is
 * queued, as every kill is, and the first reason wins. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernel.h"

int aempi_kernel_refuse(aemp_node *n, const char *fmt, ...)
{
    if (!n || !n->self)
        return AEMP_EINVAL;
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    aempi_kernel_kil(n, n->self, aemp_arrayv(aemp_str("die"), aemp_str(why),
                                             NULL));
    return AEMP_EINVAL;
}

int aempi_kernel_has_node(const char *port)
{
    return port && *port && *port != '#';
}

int aempi_kernel_check_port(aemp_node *n, const char *port)
{
    if (aempi_kernel_has_node(port))
        return AEMP_OK;
    return aempi_kernel_refuse(n, "%s", AEMP_BAD_ID);
}

int aempi_kernel_check_kil(aemp_node *n, const char *port)
{
    const char *hash = port ? strchr(port, '#') : NULL;
    if (!hash || !hash[1]) {
        /* Perl's kil croaks with "$nodeid#$portid" */
        int nlen = hash ? (int)(hash - port) : port ? (int)strlen(port) : 0;
        return aempi_kernel_refuse(n,
            "%.*s#: killing a node port is not allowed, caught",
            nlen, port ? port : "");
    }
    return aempi_kernel_check_port(n, port);
}

int aempi_kernel_check_array(aemp_node *n, const char *what, const aemp_val *v)
{
    if (aemp_type_of(v) == AEMP_ARRAY)
        return AEMP_OK;
    return aempi_kernel_refuse(n, "%s is not an array", what);
}

int aempi_kernel_check_cb(aemp_node *n, const char *func, int given)
{
    return given ? AEMP_OK : aempi_kernel_refuse(n, "%s: no callback", func);
}

/* MP.pm recommends families like [A-Za-z][A-Za-z0-9_:]* but checks
 * nothing, and Perl programs use others ("my-family"): any string but
 * the empty one goes, as it always did here. */
int aempi_kernel_check_family(aemp_node *n, const char *family)
{
    if (family && *family)
        return AEMP_OK;
    return aempi_kernel_refuse(n, "the database family is undef or empty");
}

int aempi_kernel_check_key(aemp_node *n, const char *key)
{
    return key ? AEMP_OK
               : aempi_kernel_refuse(n, "the database subkey is undef");
}
