/* libaemp_compat: AnyEvent::MP's Perl names for C, so a Perl program can
 * be ported line by line. Installed as <aemp/compat.h>; link with
 * -laemp_compat -laemp.
 *
 *   Perl                                    C
 *   configure;                              configure();
 *   my $port = port;                        char *port = port();
 *   rcv $port, test => sub { ... };         rcv(port, "test", on_test, NULL);
 *   snd $other, test => 42, "x";            snd(other, S("test"), I(42), S("x"));
 *   kil $SELF, die => "why";                kil(SELF, S("die"), S("why"));
 *   mon $port, sub { ... };                 mon(port, on_death, NULL);
 *   AE::cv->recv;                           aemp_compat_loop();
 *
 * docs/compat.md has the whole table. The rules:
 *
 * - One node per process, as in Perl: the compat layer keeps one default
 *   node and one event_base. This is the compat layer's one deliberate
 *   global; the core library (aemp_*) has none. aemp_compat_node() gives
 *   the node to mix in core calls.
 * - Lists (messages, kill reasons, configure's arguments, init arguments)
 *   are written out as arguments, as in Perl; the compiler counts them,
 *   there is no terminator to forget. Each element is a value made by a
 *   constructor (S, I, N, U, A, H, J, R below, or any aemp_* constructor);
 *   the call takes them all, also on failure. A NULL element (a failed
 *   constructor) makes the call fail.
 * - Every callback is an aemp_compat_sub: it gets Perl's @_ as an array
 *   (borrowed) and your pointer. For a port callback, returning non-zero
 *   is Perl's die: the port is killed with ("die", MESSAGE), MESSAGE set
 *   with die(). Other callbacks' return values are ignored.
 * - Functions returning char * return malloc'd strings (free them);
 *   const char * is borrowed.
 * - Perl's guards are numbers here (aemp_compat_guard, 0 is none):
 *   release(guard) is Perl's undef $guard. Dropping the number keeps the
 *   thing alive, as Perl's void context does. Stale guards are harmless.
 *
 * The short names are macros over the aemp_compat_* functions, and C
 * only (the lists are compound literals; from C++ call the functions with
 * arrays). Define AEMP_COMPAT_NO_SHORT_NAMES before including this header
 * to get only the long names: the short ones are common words, and the
 * one-letter constructors S I N U A H J R clash with <complex.h>'s I.
 */
#ifndef AEMP_COMPAT_H
#define AEMP_COMPAT_H

#include <stddef.h>
#include <stdint.h>

#include "aemp/aemp.h"

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;

/* Perl's @_ and your pointer. Return 0, or non-zero to die (port
 * callbacks and named functions only). */
typedef int (*aemp_compat_sub)(const aemp_val *args, void *ud);

typedef uint64_t aemp_compat_guard;

/* ---- the default node and its loop ------------------------------------ */

/* The node (made on first use, on the compat event_base). */
AEMP_API aemp_node *aemp_compat_node(void);
/* The event_base: the one given with aemp_compat_use_base, else a new
 * one made on first use. */
AEMP_API struct event_base *aemp_compat_base(void);
/* Runs the compat node on your event_base; call before anything else.
 * AEMP_ESTATE once the node exists. */
AEMP_API int aemp_compat_use_base(struct event_base *base);
/* AE::cv->recv: runs the loop until aemp_compat_loop_exit(). */
AEMP_API int aemp_compat_loop(void);
/* $cv->send: makes aemp_compat_loop() return. */
AEMP_API void aemp_compat_loop_exit(void);
/* Frees the node, every callback and the event_base (if it is ours);
 * the next call starts afresh. Not from inside a callback. */
AEMP_API void aemp_compat_destroy(void);

/* configure: key/value pairs as values; an odd count starts with the
 * profile name, as in Perl. Once only (AEMP_ESTATE after). The rc file is
 * $PERL_ANYEVENT_MP_RC or ~/.perl-anyevent-mp. */
AEMP_API int aemp_compat_configure(size_t n, aemp_val *const *args);
/* What went wrong in configure (file names, addresses). */
AEMP_API const char *aemp_compat_errmsg(void);

AEMP_API const char *aemp_compat_node_id(void);    /* NODE, $NODE */
AEMP_API const char *aemp_compat_self(void);       /* $SELF, or NULL */
AEMP_API char *aemp_compat_node_of(const char *port);   /* malloc'd */
AEMP_API int aemp_compat_port_is_local(const char *port);
/* 1, 0, or -1: undef */
AEMP_API int aemp_compat_node_is_up(const char *nodeid);
AEMP_API aemp_val *aemp_compat_up_nodes(void);     /* a new array */

/* ---- ports and messages --------------------------------------------- */

/* port / port { ... }: a new port id, malloc'd. */
AEMP_API char *aemp_compat_port(aemp_compat_sub cb, void *ud);
AEMP_API char *aemp_compat_port0(void);
/* rcv $port, tag => sub (tag NULL: the default callback; cb NULL removes
 * the tag's callback). Returns port, or NULL on error. A tag callback
 * gets the message without its tag, as in Perl. */
AEMP_API const char *aemp_compat_rcv(const char *port, const char *tag,
                                     aemp_compat_sub cb, void *ud);
AEMP_API int aemp_compat_snd(const char *port, size_t n, aemp_val *const *msg);
AEMP_API int aemp_compat_kil(const char *port, size_t n,
                             aemp_val *const *reason);
/* die "...": sets the die message and returns 1, so a callback ends
 * with: return die("no such user %s", name); */
AEMP_API int aemp_compat_die(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
             ;
/* peval $port, sub: runs cb with $SELF set to port; non-zero kills port
 * with ("die", MESSAGE). Returns cb's result. */
AEMP_API int aemp_compat_peval(const char *port, aemp_compat_sub cb, void *ud,
                               size_t n, aemp_val *const *args);

/* ---- monitors ----------------------------------------------------------- */

/* mon $port, sub { my @reason = @_ } */
AEMP_API aemp_compat_guard aemp_compat_mon(const char *port,
                                           aemp_compat_sub cb,
                                           void *ud);
/* mon $port, $rcvport (and mon $port: rcvport SELF) */
AEMP_API aemp_compat_guard aemp_compat_mon_kil(const char *port,
                                               const char *rcvport);
/* mon $port, $rcvport, @msg */
AEMP_API aemp_compat_guard aemp_compat_mon_snd(const char *port,
                                               const char *rcvport,
                                               size_t n, aemp_val *const *msg);
/* mon_guard $port, ...: release(data) when port dies or the guard is
 * released (or at aemp_compat_destroy). */
AEMP_API aemp_compat_guard aemp_compat_mon_guard(const char *port,
                                                 void (*release)(void *data),
                                                 void *data);
/* undef $guard */
AEMP_API void aemp_compat_release(aemp_compat_guard guard);

/* ---- functions, spawn, cal, after --------------------------------------- */

/* sub Name::func { ... }: makes cb callable by that name (spawn's init
 * function, snd_to_func); cb NULL removes it. */
AEMP_API int aemp_compat_sub_define(const char *name, aemp_compat_sub cb,
                                    void *ud);
/* spawn $node, "Init::func", @args: the new port id, malloc'd. */
AEMP_API char *aemp_compat_spawn(const char *node, const char *init, size_t n,
                                 aemp_val *const *args);
/* snd_to_func $node, "Some::func", @args (AnyEvent::MP::Kernel): calls
 * the function by name on that node. */
AEMP_API int aemp_compat_snd_to_func(const char *node, const char *func,
                                     size_t n, aemp_val *const *args);
/* cal $port, @msg, sub { my @reply = @_ } [, $timeout]: timeout < 0 is
 * Perl's undef (the target is monitored instead). cb gets an empty @_ on
 * timeout or when the target dies. */
AEMP_API int aemp_compat_cal(const char *port, double timeout,
                             aemp_compat_sub cb,
                             void *ud, size_t n, aemp_val *const *msg);
/* after $seconds, sub { ... } / after $seconds, $port, @msg */
AEMP_API aemp_compat_guard aemp_compat_after(double seconds,
                                             aemp_compat_sub cb,
                                             void *ud);
AEMP_API aemp_compat_guard aemp_compat_after_snd(double seconds,
                                                 const char *port,
                                                 size_t n,
                                                 aemp_val *const *msg);

/* ---- the shared database -------------------------------------------------- */

/* db_set $family => $key [=> $value] (n is 0 or 1) */
AEMP_API aemp_compat_guard aemp_compat_db_set(const char *family,
                                              const char *key,
                                              size_t n,
                                              aemp_val *const *value);
/* db_del $family => @keys */
AEMP_API int aemp_compat_db_del(const char *family, size_t n,
                                const char *const *keys);
/* db_reg $family => $port [=> $value] */
AEMP_API aemp_compat_guard aemp_compat_db_reg(const char *family,
                                              const char *port,
                                              size_t n,
                                              aemp_val *const *value);
/* db_mon $family => sub { my ($family, $added, $changed, $deleted) = @_ } */
AEMP_API aemp_compat_guard aemp_compat_db_mon(const char *family,
                                              aemp_compat_sub cb,
                                              void *ud);
/* db_family/db_keys/db_values $family => sub { my ($result) = @_ } */
AEMP_API int aemp_compat_db_family(const char *family, aemp_compat_sub cb,
                                   void *ud);
AEMP_API int aemp_compat_db_keys(const char *family, aemp_compat_sub cb,
                                 void *ud);
AEMP_API int aemp_compat_db_values(const char *family, aemp_compat_sub cb,
                                   void *ud);
/* mon_nodes sub { my ($node, $is_up, @reason) = @_ } */
AEMP_API aemp_compat_guard aemp_compat_mon_nodes(aemp_compat_sub cb, void *ud);

/* ---- values ---------------------------------------------------------------- */

/* The value behind S(): a string, or undef for NULL (Perl's undef). */
AEMP_API aemp_val *aemp_compat_str(const char *s);
/* A list as an array (A) or as a hash of key/value pairs (H). */
AEMP_API aemp_val *aemp_compat_array(size_t n, aemp_val *const *items);
AEMP_API aemp_val *aemp_compat_hash(size_t n, aemp_val *const *items);
/* A value from JSON text; NULL for bad JSON, so the call it is part of
 * fails rather than send something else. */
AEMP_API aemp_val *aemp_compat_json(const char *json);
/* "$v": a value as Perl stringifies it (undef is "", numbers as Perl
 * prints them, arrays and hashes as JSON). malloc'd. */
AEMP_API char *aemp_compat_str_of(const aemp_val *v);
/* join $sep, @list: malloc'd. */
AEMP_API char *aemp_compat_join(const char *sep, const aemp_val *list);

/* ---- the list machinery ------------------------------------------------------ */

/* A list as two arguments, count and array: the compound literal has a
 * NULL in front so that an empty list is valid C11; the array inside
 * sizeof is never evaluated. */
#define AEMP_COMPAT_LIST(...)                                              \
    (sizeof((aemp_val *[]){NULL, __VA_ARGS__}) / sizeof(aemp_val *) - 1), \
        ((aemp_val *[]){NULL, __VA_ARGS__} + 1)
#define AEMP_COMPAT_STRINGS(...)                                               \
    (sizeof((const char *[]){NULL, __VA_ARGS__}) / sizeof(const char *) - 1), \
        ((const char *[]){NULL, __VA_ARGS__} + 1)
/* The first argument, and the list after it. Callers pass an extra empty
 * argument (FIRST(__VA_ARGS__, )), so that a list with no elements after
 * the first is still valid C11. */
#define AEMP_COMPAT_FIRST(x, ...) x
#define AEMP_COMPAT_REST(x, ...) AEMP_COMPAT_LIST(__VA_ARGS__)
#define AEMP_COMPAT_REST_STRINGS(x, ...) AEMP_COMPAT_STRINGS(__VA_ARGS__)
/* port() or port(cb, ud): by argument count (port() has one, empty) */
#define AEMP_COMPAT_COUNT2_(a, b, c, n, ...) n
#define AEMP_COMPAT_COUNT2(...) AEMP_COMPAT_COUNT2_(__VA_ARGS__, 3, 2, 1, 0)
#define AEMP_COMPAT_CAT_(a, b) a##b
#define AEMP_COMPAT_CAT(a, b) AEMP_COMPAT_CAT_(a, b)
#define AEMP_COMPAT_PORT_1(...) aemp_compat_port0(__VA_ARGS__)
#define AEMP_COMPAT_PORT_2(cb, ud) aemp_compat_port(cb, ud)

/* ---- the short names ------------------------------------------------------- */

#ifndef AEMP_COMPAT_NO_SHORT_NAMES

#define NODE aemp_compat_node_id()
#define SELF aemp_compat_self()

#define configure(...) aemp_compat_configure(AEMP_COMPAT_LIST(__VA_ARGS__))
#define node_of(port) aemp_compat_node_of(port)
#define port_is_local(port) aemp_compat_port_is_local(port)
#define node_is_up(node) aemp_compat_node_is_up(node)
#define up_nodes() aemp_compat_up_nodes()

#define port(...) \
    AEMP_COMPAT_CAT(AEMP_COMPAT_PORT_, AEMP_COMPAT_COUNT2(__VA_ARGS__))(__VA_ARGS__)
#define rcv(port, tag, cb, ud) aemp_compat_rcv(port, tag, cb, ud)
#define snd(...)                                       \
    aemp_compat_snd(AEMP_COMPAT_FIRST(__VA_ARGS__, ), \
                    AEMP_COMPAT_REST(__VA_ARGS__, ))
#define kil(...)                                       \
    aemp_compat_kil(AEMP_COMPAT_FIRST(__VA_ARGS__, ), \
                    AEMP_COMPAT_REST(__VA_ARGS__, ))
#define die(...) aemp_compat_die(__VA_ARGS__)
#define peval(port, cb, ...)                                      \
    aemp_compat_peval(port, cb, AEMP_COMPAT_FIRST(__VA_ARGS__, ), \
                      AEMP_COMPAT_REST(__VA_ARGS__, ))

#define mon(port, cb, ud) aemp_compat_mon(port, cb, ud)
#define mon_kil(port, rcvport) aemp_compat_mon_kil(port, rcvport)
#define mon_snd(port, ...)                                          \
    aemp_compat_mon_snd(port, AEMP_COMPAT_FIRST(__VA_ARGS__, ), \
                        AEMP_COMPAT_REST(__VA_ARGS__, ))
#define mon_guard(port, release, data) aemp_compat_mon_guard(port, release, data)
#define release(guard) aemp_compat_release(guard)

#define sub(name, cb, ud) aemp_compat_sub_define(name, cb, ud)
#define spawn(node, ...)                                          \
    aemp_compat_spawn(node, AEMP_COMPAT_FIRST(__VA_ARGS__, ), \
                      AEMP_COMPAT_REST(__VA_ARGS__, ))
#define snd_to_func(node, ...)                                          \
    aemp_compat_snd_to_func(node, AEMP_COMPAT_FIRST(__VA_ARGS__, ), \
                            AEMP_COMPAT_REST(__VA_ARGS__, ))
#define cal(port, cb, ...)                                            \
    aemp_compat_cal(port, -1, cb, AEMP_COMPAT_FIRST(__VA_ARGS__, ), \
                    AEMP_COMPAT_REST(__VA_ARGS__, ))
#define cal_timeout(port, seconds, cb, ...)                                \
    aemp_compat_cal(port, seconds, cb, AEMP_COMPAT_FIRST(__VA_ARGS__, ), \
                    AEMP_COMPAT_REST(__VA_ARGS__, ))
#define after(seconds, cb, ud) aemp_compat_after(seconds, cb, ud)
#define after_snd(seconds, ...)                                          \
    aemp_compat_after_snd(seconds, AEMP_COMPAT_FIRST(__VA_ARGS__, ), \
                          AEMP_COMPAT_REST(__VA_ARGS__, ))

#define db_set(family, ...)                                          \
    aemp_compat_db_set(family, AEMP_COMPAT_FIRST(__VA_ARGS__, ), \
                       AEMP_COMPAT_REST(__VA_ARGS__, ))
#define db_del(...)                                       \
    aemp_compat_db_del(AEMP_COMPAT_FIRST(__VA_ARGS__, ), \
                       AEMP_COMPAT_REST_STRINGS(__VA_ARGS__, ))
#define db_reg(family, ...)                                          \
    aemp_compat_db_reg(family, AEMP_COMPAT_FIRST(__VA_ARGS__, ), \
                       AEMP_COMPAT_REST(__VA_ARGS__, ))
#define db_mon(family, cb, ud) aemp_compat_db_mon(family, cb, ud)
#define db_family(family, cb, ud) aemp_compat_db_family(family, cb, ud)
#define db_keys(family, cb, ud) aemp_compat_db_keys(family, cb, ud)
#define db_values(family, cb, ud) aemp_compat_db_values(family, cb, ud)
#define mon_nodes(cb, ud) aemp_compat_mon_nodes(cb, ud)

/* values: S string (NULL: undef), I integer, N number (double), U undef,
 * A array, H hash from key/value pairs, J from JSON text, R a new
 * reference to a value you hold (a borrowed one from @_, say) */
#define S(s) aemp_compat_str(s)
#define I(i) aemp_int(i)
#define N(d) aemp_double(d)
#define U() aemp_null()
#define A(...) aemp_compat_array(AEMP_COMPAT_LIST(__VA_ARGS__))
#define H(...) aemp_compat_hash(AEMP_COMPAT_LIST(__VA_ARGS__))
#define J(json) aemp_compat_json(json)
#define R(v) aemp_ref((aemp_val *)(v))
#define str_of(v) aemp_compat_str_of(v)
#define join(sep, list) aemp_compat_join(sep, list)

#endif /* AEMP_COMPAT_NO_SHORT_NAMES */

#ifdef __cplusplus
}
#endif

#endif
