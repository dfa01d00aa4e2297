/* libaemp internal: the global protocol (Kernel.pm's second half), the
 * normal node's side: the local database, the master, requests queued for
 * it, database monitors and node lookup. */
#ifndef AEMP_GLOBAL_H
#define AEMP_GLOBAL_H

#include "aemp/db.h"
#include "kernel.h"

typedef struct aemp_global aemp_global;

int global_init(aemp_node *n);
void global_free(aemp_node *n);

/* After configure: publish our listeners in 'l, look for a master. */
void global_start(aemp_node *n);

/* A seed link's greeting named rnode (not us). */
void global_seed_greeted(aemp_node *n, const char *rnode);

/* A node came up or went down (called before user callbacks). */
void global_node_event(aemp_node *n, const char *id, int up);

/* Where is this node? Asks the master (g_find). */
void global_find(aemp_node *n, const char *id);

/* Node-port requests of the protocol (msg is ["", TAG, ARGS...]). */
void global_req_g_reply(aemp_node *n, const char *src, aemp_val *msg);
void global_req_g_found(aemp_node *n, const char *src, aemp_val *msg);
void global_req_g_chg1(aemp_node *n, const char *src, aemp_val *msg);
void global_req_g_chg2(aemp_node *n, const char *src, aemp_val *msg);

/* The global (seed) node's requests (global_seed.c); on a node that is
 * not global they do nothing, except g_slave, which makes it one. */
void gseed_req_g_slave(aemp_node *n, const char *src, aemp_val *msg);
void gseed_req_g_set(aemp_node *n, const char *src, aemp_val *msg);
void gseed_req_g_upd(aemp_node *n, const char *src, aemp_val *msg);
void gseed_req_g_find(aemp_node *n, const char *src, aemp_val *msg);
void gseed_req_g_db(aemp_node *n, const char *src, aemp_val *msg);
void gseed_req_g_mon1(aemp_node *n, const char *src, aemp_val *msg);
void gseed_req_g_mon0(aemp_node *n, const char *src, aemp_val *msg);
void gseed_req_g_global(aemp_node *n, const char *src, aemp_val *msg);
void gseed_node_event(aemp_node *n, const char *id, int up);
/* Our seed address turned out to be our own: become a global node. */
void gseed_become(aemp_node *n);
/* 1 on a global node. */
int global_is_on(const aemp_node *n);
/* 1 if a global node keeps a link to id (a global node in 'g). */
int gseed_keeps(const aemp_node *n, const char *id);
/* A global node's addresses for a node (its 'l entry), a new array, or
 * NULL. */
aemp_val *gseed_addresses(aemp_node *n, const char *id);

/* Perl's sv_eq: scalars compare as strings (and definedness), references
 * by their JSON encoding. */
int global_sv_eq(const aemp_val *a, const aemp_val *b);

#endif
