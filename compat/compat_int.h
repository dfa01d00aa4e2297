/* libaemp_compat internals: the default node and the records that hold
 * the callbacks behind Perl's closures.
 *
 * A Perl closure carries its own data; a C callback needs (sub, ud), and
 * the core gives each callback one pointer. So every compat callback is a
 * record: the core calls a trampoline with the record, the trampoline
 * builds Perl's @_ and calls the sub. Records are found by a key in one
 * map (the core's own value map, holding the record's address as an
 * integer): "g<guard>" for what a guard can release, "r<port>\n<tag>" for
 * rcv callbacks, "p<port>" for the ports that have them, "f<name>" for
 * named functions. Every record is also on one list, so that
 * aemp_compat_destroy frees what the core will never call back. */
#ifndef AEMP_COMPAT_INT_H
#define AEMP_COMPAT_INT_H

/* the library itself uses only the aemp_compat_* names */
#define AEMP_COMPAT_NO_SHORT_NAMES
#include "aemp_compat.h"

/* Guards carry what they release in their top byte. */
enum {
    GUARD_MON = 1,  /* aemp_mon*: aemp_mon_cancel */
    GUARD_DB,       /* db_set, db_reg: aemp_db_release */
    GUARD_DB_MON,   /* db_mon: aemp_db_mon_cancel */
    GUARD_NODES,    /* mon_nodes: aemp_mon_nodes_cancel */
    GUARD_TIMER,    /* after: aemp_after_cancel */
};
#define GUARD_SHIFT 56

typedef struct compat_rec compat_rec;
struct compat_rec {
    compat_rec *prev, *next; /* the list of all records */
    char *key;               /* in the map, or NULL */
    aemp_compat_sub sub;
    void *ud;
    aemp_compat_guard guard; /* 0 if none */
    /* a mon_guard's release */
    void (*release)(void *data);
    /* rcv: 1 for a tag callback (@_ without the tag) */
    int tagged;
    /* rcv: the port's record ("p<port>"), and the next rcv of that port */
    compat_rec *port_rec;
    compat_rec *port_next;
    /* a port's record: its rcv records, and its monitor */
    compat_rec *rcvs;
    aemp_port_mon_id port_mon;
    /* after_snd: where to and what */
    char *port;
    aemp_val *msg;
};

/* compat.c: the node, the map, the list */
aemp_node *aempi_compat_node(void);     /* aemp_compat_node(): NULL if OOM */
aemp_val *aempi_compat_no_args(void);   /* an empty array, for empty @_ */
compat_rec *aempi_compat_rec_new(aemp_compat_sub sub, void *ud);
/* Puts rec into the map under key (a copy); replaces nothing. */
int aempi_compat_rec_file(compat_rec *rec, const char *key);
compat_rec *aempi_compat_rec_find(const char *key);
/* Takes rec out of the map and the list and frees it. */
void aempi_compat_rec_free(compat_rec *rec);
/* "g<guard>": files rec under its guard. */
int aempi_compat_rec_file_guard(compat_rec *rec, int kind, uint64_t id);
aemp_compat_guard aempi_compat_guard(int kind, uint64_t id);
/* A list (count, items) as a new array, taking the items; NULL if an
 * item is NULL (the rest are dropped). */
aemp_val *aempi_compat_list(size_t n, aemp_val *const *items);
void aempi_compat_drop(size_t n, aemp_val *const *items);
/* A reference to a value the core lends us, to put it in @_: the callee
 * gets it const again. */
static inline aemp_val *compat_ref(const aemp_val *v)
{
    return aemp_ref((aemp_val *)v);
}

#endif
