/* libaemp: what the shared library exports.
 *
 * libaemp is compiled with hidden visibility: a function is visible
 * outside libaemp.so only when its declaration in include/aemp/ carries
 * AEMP_API. So the library exports exactly its API, a program that
 * defines a function of the same name as one of libaemp's internals
 * (which all begin with aempi_) cannot replace it, and the dynamic linker
 * resolves calls inside the library without a lookup.
 * tests/check_exports.py compares the exported list with these headers.
 */
#ifndef AEMP_EXPORT_H
#define AEMP_EXPORT_H

#if defined(__GNUC__)
#define AEMP_API __attribute__((visibility("default")))
#else
#define AEMP_API
#endif

#endif
