/* libaemp: the global database and node lookup, as a normal (non-seed)
 * node of AnyEvent::MP 2.x sees them.
 *
 * The database is two levels: family -> key -> value. Each node owns the
 * keys it sets (its local database); the seeds (global nodes) merge all of
 * them. A node talks to one seed, its master: the first seed whose link is
 * up. Queries and monitors go to the master and are sent again to a new
 * master when the old one goes; the local database is sent whole to each
 * new master.
 *
 * Families are best named like Perl identifiers ([A-Za-z][A-Za-z0-9_:]*),
 * as MP.pm recommends; like Perl, any other string is taken too. "'l"
 * (listeners: node id -> addresses) and "'g" (global nodes) are the
 * protocol's own and may be read. A NULL or empty family and a NULL
 * subkey are refused (AEMP_EINVAL, 0 for a handle, an id of 0 for a
 * monitor; a taken value is released) and, in a port's context, kill the
 * port as node.h describes.
 *
 * Callbacks run from the event loop, never inside the call that causes
 * them.
 */
#ifndef AEMP_DB_H
#define AEMP_DB_H

#include "aemp/export.h"

#include <stdint.h>

#include "aemp/node.h"
#include "aemp/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A handle for an entry set with aemp_db_set or aemp_db_reg: releasing it
 * deletes the entry (Perl's guard). A struct of its own, as the monitor
 * handles (aemp_port_mon_id in node.h), so that handing it to another
 * kind's function, or a bare number to aemp_db_release, does not compile.
 * A handle whose id is 0 is none (the call failed). */
typedef struct aemp_db_handle {
    uint64_t id;
} aemp_db_handle;

/* Sets family/key to value (taken; NULL means undef/null) in this node's
 * local database; sent to the master only when the value changed (compared
 * as Perl compares). Returns a handle, whose id is 0 on error. */
AEMP_API aemp_db_handle aemp_db_set(aemp_node *node, const char *family,
                                    const char *key, aemp_val *value);

/* Deletes the entry the handle was made for (if it is still there) and
 * forgets the handle. Stale handles are harmless. */
AEMP_API void aemp_db_release(aemp_node *node, aemp_db_handle h);

/* Deletes keys from this node's local database. */
AEMP_API int aemp_db_del(aemp_node *node, const char *family, const char *key);

/* db_reg: sets family/port to value and deletes it when the port dies
 * (or when the handle is released). port NULL is the running port
 * (aemp_self), as Perl's db_reg $family. */
AEMP_API aemp_db_handle aemp_db_reg(aemp_node *node, const char *family,
                                    const char *port, aemp_val *value);

/* The answer to a query: a map (family), or an array (keys, values);
 * borrowed. */
typedef void (*aemp_db_reply_cb)(aemp_node *node, const char *family,
                                 const aemp_val *result, void *ud);

/* Queries to the master; answered once there is a master. */
AEMP_API int aemp_db_family(aemp_node *node, const char *family,
                            aemp_db_reply_cb cb,
                            void *ud);
AEMP_API int aemp_db_keys(aemp_node *node, const char *family,
                          aemp_db_reply_cb cb,
                          void *ud);
AEMP_API int aemp_db_values(aemp_node *node, const char *family,
                            aemp_db_reply_cb cb,
                            void *ud);

/* Monitors a family. db is the whole family as now known (a map,
 * borrowed); added and changed are arrays of keys, deleted an array of
 * keys. The first call after aemp_db_mon has all keys in added. A second
 * monitor of a family already monitored gets the current state at once
 * (with changed and deleted empty). */
typedef void (*aemp_db_mon_cb)(aemp_node *node, const char *family,
                               const aemp_val *db, const aemp_val *added,
                               const aemp_val *changed,
                               const aemp_val *deleted, void *ud);

/* A database monitor's handle (see aemp_port_mon_id in node.h). */
typedef struct aemp_db_mon_id {
    uint64_t id;
} aemp_db_mon_id;

AEMP_API aemp_db_mon_id aemp_db_mon(aemp_node *node, const char *family,
                                    aemp_db_mon_cb cb, void *ud);
AEMP_API void aemp_db_mon_cancel(aemp_node *node, aemp_db_mon_id id);

/* The current master (a seed node id), or NULL while there is none. */
AEMP_API const char *aemp_node_master(const aemp_node *node);

#ifdef __cplusplus
}
#endif

#endif
