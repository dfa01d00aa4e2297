/* libaemp internal: the state the two halves of the global protocol
 * share (global_slave.c, global_seed.c, global_keepalive.c). */
#ifndef AEMP_GLOBAL_INT_H
#define AEMP_GLOBAL_INT_H

#include "global.h"

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
    aemp_db_handle next_handle;

    /* global nodes only (Global.pm) */
    int on;              /* this node is a global node */
    aemp_val *global_db; /* family -> key -> value, all shards merged */
    aemp_val *local_dbs; /* node -> family -> key -> value: the shards */
    aemp_val *holders;   /* family -> key -> {node -> null}: the shards
                            holding each key, oldest first (an index of
                            local_dbs for the merge on delete) */
    aemp_val *slaves;    /* node -> {family monitored -> null} */
    aemp_val *gmon;      /* family -> {monitoring node -> null} */
    aemp_val *keepalive; /* node -> count: links to keep */
    aemp_val *down;      /* node -> null: of those, the ones down */
    double keepalive_retry;
    struct event *keepalive_timer;
};

void gslave_master_set(aemp_node *n, const char *id);
/* db_set without a handle: entries the protocol itself keeps. */
int gslave_set(aemp_node *n, const char *family, const char *key,
               aemp_val *value);

void gseed_free(aemp_node *n);
/* g_slave DB from node: node is a slave, DB its shard. */
void gseed_slave(aemp_node *n, const char *node, const aemp_val *db);
void gseed_upd(aemp_node *n, const char *node, const char *family,
               const aemp_val *set, const aemp_val *del);
void gseed_keepalive_add(aemp_node *n, const char *id);
void gseed_keepalive_del(aemp_node *n, const char *id);
void gseed_keepalive_event(aemp_node *n, const char *id, int up);

#endif
