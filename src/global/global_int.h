/* libaemp internal: what the files of the global protocol share
 * (global_slave.c, the normal node's side: the local database, the
 * master, requests queued for it, database monitors and node lookup;
 * global_seed.c and global_keepalive.c, a global node's side; and
 * global_register.c, which plugs them into the kernel). */
#ifndef AEMP_GLOBAL_INT_H
#define AEMP_GLOBAL_INT_H

#include "aemp/db.h"
#include "global.h"

typedef struct aemp_global aemp_global;

/* The seed's requests, counted by kind (docs/metrics.md). */
enum gseed_op {
    GOP_SLAVE, GOP_SET, GOP_UPD, GOP_FIND, GOP_DB, GOP_MON1, GOP_MON0,
    GOP_COUNT
};

typedef struct db_monitor {
    struct db_monitor *next;
    uint64_t id; /* aemp_db_mon_id's */
    char *family;
    aemp_db_mon_cb cb;
    void *ud;
    int active; /* a second monitor waits for its first call */
} db_monitor;

typedef struct db_reply {
    aemp_db_reply_cb cb;
    void *ud;
    char *family;
} db_reply;

typedef struct db_handle {
    char *family;
    char *key;
    aemp_port_mon_id mon; /* db_reg: the monitor of the port */
} db_handle;

struct aemp_global {
    /* every node: the normal node's side */
    aemp_val *local_db;  /* family -> key -> value: what we own */
    char *master;        /* node id, or NULL */
    int searching;       /* waiting for a seed to come up */
    aemp_val *requests;  /* id -> request, in order (GLOBAL_REQ) */
    char res_id[32];     /* GLOBAL_RES_ID: "b", "c", ... */
    aemp_dict replies;   /* id -> db_reply */
    aemp_val *mon_db;    /* family -> key -> value, as monitored */
    db_monitor *mons;
    aemp_dict handles;   /* decimal id -> db_handle */
    uint64_t next_handle;

    /* global nodes only (Global.pm) */
    int on;              /* this node is a global node */
    aemp_val *global_db; /* family -> key -> value, all shards merged */
    aemp_val *local_dbs; /* node -> family -> key -> value: the shards */
    aemp_val *holders;   /* family -> key -> {node -> null}: the shards
                            holding each key, oldest first (an index of
                            local_dbs for the merge on delete) */
    aemp_val *slaves;    /* node -> {family monitored -> null} */
    aemp_val *gmon;      /* family -> {monitoring node -> null} */
    aemp_dict global_nodes; /* nodes that said g_global (values unused) */
    aemp_val *keepalive; /* node -> count: links to keep */
    aemp_val *down;      /* node -> null: of those, the ones down */
    double keepalive_retry;
    struct event *keepalive_timer;
    /* the merge's g_chg2 and g_upd frames, encoded once per framing for
     * all their receivers: kept, emptied, between ops */
    aemp_frame_cache cache;
    int cache_busy;
    /* the kernel's entries of the monitors of the family fanned out to
     * last, in the order of its gmon map: a family's stream of changes
     * looks up no node by name. Good while gmon_gen (counts changes to
     * gmon) and the kernel's remote_epoch are as they were. */
    struct {
        const aemp_val *mons;
        uint64_t gmon_gen, remote_epoch;
        size_t len, cap;
        aemp_remote **r;
        int busy;
    } targets;
    uint64_t gmon_gen;
    aemp_val *s_chg2; /* "g_chg2", made once */
    /* docs/metrics.md: plain increments where the seed does the work */
    struct {
        uint64_t ops[GOP_COUNT]; /* requests served */
        uint64_t changes;        /* family changes sent to monitors */
        uint64_t fanout;         /* the g_chg2 messages that took */
    } count;
};

/* The node's global state: the kernel keeps it for us
 * (aempi_kernel_hooks_set); NULL on a node the protocol is not plugged
 * into. */
static inline aemp_global *global_of(const aemp_node *n)
{
    return n->upper;
}

/* ---- global_slave.c: every node's side ---- */
aemp_global *aempi_global_new(void); /* NULL: out of memory */
void aempi_global_state_free(aemp_global *g);

/* After configure: publish our listeners in 'l, look for a master. */
void aempi_global_start(aemp_node *n);

/* A seed link's greeting named rnode (not us). */
void aempi_global_seed_greeted(aemp_node *n, const char *rnode);

/* A node came up or went down (called before user callbacks). */
void aempi_global_node_event(aemp_node *n, const char *id, int up);

/* Where is this node? Asks the master (g_find). */
void aempi_global_find(aemp_node *n, const char *id);

/* Node-port requests of the protocol (msg is ["", TAG, ARGS...]). */
void aempi_global_req_g_reply(aemp_node *n, const char *src, aemp_val *msg);
void aempi_global_req_g_found(aemp_node *n, const char *src, aemp_val *msg);
void aempi_global_req_g_chg1(aemp_node *n, const char *src, aemp_val *msg);
void aempi_global_req_g_chg2(aemp_node *n, const char *src, aemp_val *msg);

/* 1 on a global node. */
int aempi_global_is_on(const aemp_node *n);

/* Perl's sv_eq: scalars compare as strings (and definedness), references
 * by their JSON encoding. */
int aempi_global_sv_eq(const aemp_val *a, const aemp_val *b);

void aempi_gslave_master_set(aemp_node *n, const char *id);
/* db_set without a handle: entries the protocol itself keeps. */
int aempi_gslave_set(aemp_node *n, const char *family, const char *key,
                     aemp_val *value);

/* ---- global_stats.c: the kernel's stats hook ---- */
void aempi_global_stats(aemp_node *n, aemp_val *stats);

/* ---- global_seed.c, global_keepalive.c: a global node's side ---- */
/* The global (seed) node's requests; on a node that is not global they
 * do nothing, except g_slave, which makes it one. */
void aempi_gseed_req_g_slave(aemp_node *n, const char *src, aemp_val *msg);
void aempi_gseed_req_g_set(aemp_node *n, const char *src, aemp_val *msg);
void aempi_gseed_req_g_upd(aemp_node *n, const char *src, aemp_val *msg);
void aempi_gseed_req_g_find(aemp_node *n, const char *src, aemp_val *msg);
void aempi_gseed_req_g_db(aemp_node *n, const char *src, aemp_val *msg);
void aempi_gseed_req_g_mon1(aemp_node *n, const char *src, aemp_val *msg);
void aempi_gseed_req_g_mon0(aemp_node *n, const char *src, aemp_val *msg);
void aempi_gseed_req_g_global(aemp_node *n, const char *src, aemp_val *msg);
void aempi_gseed_node_event(aemp_node *n, const char *id, int up);
/* Become a global node: our seed address turned out to be our own, or a
 * node sent us g_slave. */
void aempi_gseed_become(aemp_node *n);
/* 1 if a global node keeps a link to id (a global node in 'g). */
int aempi_gseed_keeps(const aemp_node *n, const char *id);
/* A global node's addresses for a node (its 'l entry), a new array, or
 * NULL. */
aemp_val *aempi_gseed_addresses(aemp_node *n, const char *id);
void aempi_gseed_free(aemp_global *g);
/* g_slave DB from node: node is a slave, DB its shard. */
void aempi_gseed_slave(aemp_node *n, const char *node, const aemp_val *db);
void aempi_gseed_upd(aemp_node *n, const char *node, aemp_val *family,
                     const aemp_val *set, const aemp_val *del);
void aempi_gseed_keepalive_add(aemp_node *n, const char *id);
void aempi_gseed_keepalive_del(aemp_node *n, const char *id);
void aempi_gseed_keepalive_event(aemp_node *n, const char *id, int up);

#endif
