/* caemp conform: the protocol conformance kit (issue 13,
 * docs/conformance.md). caemp.c calls this one function with the
 * arguments after "conform"; everything else of the kit stays inside
 * tools/caemp/conform, which, unlike the rest of caemp, also sees the
 * library's lower layers (base, value, transport) to play the wire. */
#ifndef CAEMP_CONFORM_H
#define CAEMP_CONFORM_H

/* Exit status: 0 every selected check passed (skips allowed), 1 some
 * failed, 2 a usage error or the node cannot be tested. */
int caemp_conform(int argc, char **argv);

#endif
