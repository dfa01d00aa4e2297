/* libaemp: named functions, spawn, cal and timers (MP.pm's spawn, cal,
 * after, mon_guard, peval; Kernel.pm's snd_to_func).
 *
 * Perl nodes call functions by their fully qualified names: a node-port
 * request ["", "Some::function", ARGS...] calls Some::function(ARGS...),
 * and spawn sends ["", "AnyEvent::MP::_spawn", ID, "Init::function",
 * ARGS...], which creates port NODE#ID by calling the init function with
 * $SELF set to it. A C node has no Perl code to load: it calls the C
 * functions registered under those names.
 */
#ifndef AEMP_FUNC_H
#define AEMP_FUNC_H

#include "aemp/export.h"

#include <stdint.h>

#include "aemp/node.h"
#include "aemp/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A named function. args is the array of arguments (borrowed). During a
 * spawn, aemp_self() is the new port id: the function creates the port
 * with aemp_rcv(node, aemp_self(node), ...). Return 0, or non-zero as a
 * Perl function that dies (set the message with aemp_die): a spawned port
 * is then killed with ("die", MESSAGE), a plain call is logged. */
typedef int (*aemp_func_cb)(aemp_node *node, const aemp_val *args, void *ud);

/* Registers (cb non-NULL) or removes (cb NULL) a function under a Perl
 * name such as "MyApp::Chat::Server::connect". Registered functions may
 * be called by other nodes even in secure mode; unregistered names are
 * refused there with "remote execution not allowed", as Perl refuses
 * them, and otherwise fail as "unable to resolve function 'NAME'". */
AEMP_API int aemp_func_register(aemp_node *node, const char *name,
                                aemp_func_cb cb,
                                void *ud);

/* Calls a function on a node: ["", func, args...] (Kernel.pm snd_to_func).
 * args is an array, taken (NULL: none). */
AEMP_API int aemp_snd_to_func(aemp_node *node, const char *nodeid,
                              const char *func,
                              aemp_val *args);

/* snd_on (Kernel.pm): has the node nodeid send msg (array, taken; NULL:
 * empty) to port, which may be on any node: ["", "snd", port, msg...] to
 * nodeid's node port. */
AEMP_API int aemp_snd_on(aemp_node *node, const char *nodeid,
                         const char *port, aemp_val *msg);

/* eval_on (Kernel.pm): ["", "eval", code, reply...] to nodeid's node
 * port. A Perl node evaluates the Perl code and, when reply (array,
 * taken) is given, sends reply[0] the rest of reply, then "$@" and the
 * results. A C node cannot run Perl code: it answers with an error text
 * as "$@"; a node in secure mode answers nothing. */
AEMP_API int aemp_eval_on(aemp_node *node, const char *nodeid,
                          const char *code, aemp_val *reply);

/* spawn: creates a port on the node of nodeid_or_port by calling the
 * function init (a fully qualified name, with "::") there with args
 * (array, taken; NULL: none). Returns the new port id at once (malloc'd),
 * or NULL. As in Perl, spawn on a node in secure mode is refused there. */
AEMP_API char *aemp_spawn(aemp_node *node, const char *nodeid_or_port,
                          const char *init, aemp_val *args);

/* cal: sends msg (array, taken) with a new reply port appended to port,
 * and calls cb with the reply message (an array, borrowed) once. With
 * timeout >= 0 seconds, cb gets NULL when no reply came in time; with a
 * negative timeout the target port is monitored instead, and cb gets NULL
 * when it dies first. The reply port is killed either way. Returns the
 * reply port's id (malloc'd), or NULL. */
typedef void (*aemp_cal_cb)(aemp_node *node, const aemp_val *reply,
                            void *ud);
AEMP_API char *aemp_cal(aemp_node *node, const char *port, aemp_val *msg,
                        double timeout, aemp_cal_cb cb, void *ud);

/* after: calls cb (aemp_after) or sends msg to port (aemp_after_snd, msg
 * taken) once, seconds from now (negative or NaN: at once; at most 10^9).
 * Returns a handle for aemp_after_cancel; a handle whose id is 0 is none
 * (the call failed). Its own struct type, as the monitor handles
 * (aemp_port_mon_id in node.h), so that a db handle or a bare number
 * handed to aemp_after_cancel does not compile. Cancelling a timer that
 * has run is harmless. */
typedef void (*aemp_after_cb)(aemp_node *node, void *ud);
typedef struct aemp_timer_id {
    uint64_t id;
} aemp_timer_id;
AEMP_API aemp_timer_id aemp_after(aemp_node *node, double seconds,
                                  aemp_after_cb cb,
                                  void *ud);
AEMP_API aemp_timer_id aemp_after_snd(aemp_node *node, double seconds,
                                      const char *port, aemp_val *msg);
AEMP_API void aemp_after_cancel(aemp_node *node, aemp_timer_id id);

/* mon_guard: keeps something alive as long as port lives; release(data)
 * runs once, when the port dies or when the node is freed (never when
 * the call fails and returns an id of 0). */
AEMP_API aemp_port_mon_id aemp_mon_guard(aemp_node *node, const char *port,
                                         void (*release)(void *data),
                                         void *data);

/* peval: runs fn in the context of a local port (aemp_self() is port);
 * a non-zero return kills the port with ("die", MESSAGE). Returns fn's
 * result, or AEMP_EINVAL without calling fn (port without a node part,
 * fn NULL). */
AEMP_API int aemp_peval(aemp_node *node, const char *port,
                        int (*fn)(aemp_node *node, void *ud), void *ud);

#ifdef __cplusplus
}
#endif

#endif
