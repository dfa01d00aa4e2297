/* libaemp internal: the node kernel (AnyEvent::MP::Kernel and Node.pm):
 * the node structure, local ports, remote nodes, monitors and the delivery
 * queue that keeps every user callback out of the network code's stack. */
#ifndef AEMP_KERNEL_H
#define AEMP_KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "aemp/error.h"
#include "aemp/func.h"
#include "aemp/node.h"
#include "aemp/service.h"
#include "buf.h"
#include "dict.h"
#include "log.h"
#include "transport.h"
#include "value_int.h"

struct event;
struct evconnlistener;

/* A monitor: what to do when a port dies. */
typedef enum { MON_CB, MON_KIL, MON_SND, MON_REMOTE } aemp_mon_kind;

typedef struct aemp_monitor {
    struct aemp_monitor *next; /* in the list of the port it watches */
    uint64_t id;               /* aemp_port_mon_id's */
    aemp_mon_kind kind;
    char *port;        /* the full port id watched */
    aemp_mon_cb cb;    /* MON_CB */
    void *ud;
    char *target;      /* MON_KIL, MON_SND: the port to kill / send to;
                          MON_REMOTE: the node to send kil0 to */
    aemp_val *msg;     /* MON_SND: the message head */
} aemp_monitor;

/* A callback registered for a tag. */
typedef struct aemp_tag_cb {
    struct aemp_tag_cb *next;
    aemp_recv_cb cb;
    void *ud;
    char tag[];
} aemp_tag_cb;

/* A local port (Perl's %PORT / %PORT_DATA entry). */
typedef struct aemp_lport {
    char *id;               /* local id, e.g. "Xy3b" */
    char *full;             /* "NODE#id" */
    aemp_recv_cb dflt;      /* default callback or NULL */
    void *dflt_ud;
    int kill_unmatched;     /* no default: kill on an unmatched message */
    aemp_tag_cb *tags;
    aemp_monitor *mons;     /* who watches this port */
} aemp_lport;

/* A remote node (Node::Remote). */
typedef struct aemp_remote {
    struct aemp_node *node;
    const char *id;           /* the bytes of idv */
    aemp_val *idv;            /* the id as a string value: a job that names
                                 this node as its source holds a reference,
                                 so the id outlives the entry */
    aemp_link *link;          /* the link up, or NULL */
    aemp_val *queue;          /* messages waiting for the link, or NULL */
    size_t queue_bytes;       /* their size, as aempi_cbor_size_bound */
    struct event *connect_to; /* the connect_interval deadline */
    struct event *connect_w;  /* staggers connects to the addresses */
    aemp_val *addresses;      /* the addresses being tried */
    size_t next_address;
    double stagger;
    aemp_dict trials;         /* endpoint -> aemp_link* */
    aemp_dict lmon;           /* remote port id -> aemp_monitor* list */
    aemp_dict rmon;           /* our local port id -> monitor (for mon0) */
    unsigned firing;          /* fire jobs of a link failure not run yet:
                                 until they have, sends wait in queue and
                                 no connect starts (aempi_kernel_remote_fired);
                                 the remote must stay until then */
    struct aemp_remote *reap_next; /* in the node's list of entries that
                                      may be idle (reap_listed) */
    int reap_listed;
    char *last_error;         /* why the last link to it failed, or NULL */
} aemp_remote;

/* A seed address we keep a link to (Kernel.pm %SEED_NODE). */
typedef struct aemp_seed {
    char *addr;           /* host:port */
    char *nodeid;         /* learned from its greeting, or NULL */
    aemp_link *connect;   /* the attempt under way, or NULL */
    int is_self;          /* our own address: we are a seed */
} aemp_seed;

/* What the kernel keeps in each link (the host's owner_size bytes):
 * which seed or connect attempt made it, and the remote node it carries
 * once up. */
typedef struct aemp_link_owner {
    aemp_seed *seed;       /* a seed connect, or NULL */
    aemp_remote *trial;    /* a connect attempt for this node: listed in
                              its trials */
    aemp_remote *remote;   /* set when the link carries a node */
    struct kernel_dc *dataconn; /* a data connection we are making
                                   (kernel_dataconn.c) */
} aemp_link_owner;

static inline aemp_link_owner *aemp_link_owner_of(aemp_link *link)
{
    return aempi_link_owner_data(link);
}

typedef struct aemp_listener {
    struct evconnlistener *l;
    char *bind; /* host:port as published */
} aemp_listener;

/* Deferred work: everything that calls user code goes through here. */
typedef enum {
    JOB_DELIVER,
    JOB_KILL,
    JOB_FIRE,
    JOB_NODE_EVENT,
    JOB_CALL, /* fn(node, job): work of other layers */
} aemp_job_kind;

typedef struct aemp_job aemp_job;
typedef void (*aemp_job_fn)(struct aemp_node *n, aemp_job *job);

struct aemp_job {
    struct aemp_job *next;
    aemp_job_kind kind;
    char *name;         /* local port id (KILL), node id (NODE_EVENT),
                           the node whose link failed (FIRE, or NULL),
                           what CALL needs */
    aemp_val *port;     /* DELIVER: the local port id, a string */
    const char *src;    /* SRCNODE: the bytes of src_ref, or our own id */
    aemp_val *src_ref;  /* the sending node's id, a reference the job
                           holds: the remote's entry may go first */
    aemp_val *val;      /* the message, or the reason */
    aemp_monitor *mon;  /* FIRE: the monitor, now owned by the job */
    int up;             /* NODE_EVENT */
    aemp_job_fn fn;     /* CALL */
    uint64_t id;        /* CALL: what fn needs to find its target */
};

/* What a higher layer (the global protocol) plugs into the kernel, as
 * Perl's Global.pm fills Kernel.pm's %NODE_REQ and watches its nodes: the
 * kernel calls these at points of its own work and knows nothing else of
 * the layer (kernel_hooks.c). */
typedef enum {
    KERNEL_ADDR_NONE,    /* nobody knows: the connect fails at once */
    KERNEL_ADDR_FOUND,   /* *addrs: a new array of host:port to try */
    KERNEL_ADDR_LOOKING, /* a lookup started; its answer comes as
                            aempi_kernel_remote_connect_to */
} kernel_addr_rc;

typedef struct kernel_hooks {
    /* configure is done (listeners up); the seeds start next */
    void (*configured)(struct aemp_node *n);
    /* a node came up or went down; the user's node monitors hear later */
    void (*node_event)(struct aemp_node *n, const char *id, int up);
    /* a seed link's greeting named rnode, not us */
    void (*seed_greeted)(struct aemp_node *n, const char *rnode);
    /* a seed address of ours is our own: this node is a seed */
    void (*seed_is_self)(struct aemp_node *n);
    /* where node id listens, to connect to it */
    kernel_addr_rc (*addresses)(struct aemp_node *n, const char *id,
                                aemp_val **addrs);
    /* 1 if the layer needs the link to id kept: its entry stays */
    int (*keeps)(const struct aemp_node *n, const char *id);
    /* the node goes: free the layer's state */
    void (*free)(struct aemp_node *n);
    /* the layer's counters, added to a stats map (kernel_stats.c) */
    void (*stats)(struct aemp_node *n, aemp_val *stats);
} kernel_hooks;

/* A node-port request: msg is ["", TAG, ARGS...], borrowed. */
typedef void (*kernel_req_fn)(struct aemp_node *n, const char *src,
                              aemp_val *msg);

typedef struct aemp_node_mon {
    struct aemp_node_mon *next;
    uint64_t id;               /* aemp_node_mon_id's */
    aemp_node_cb cb;
    void *ud;
} aemp_node_mon;

struct aemp_node {
    struct event_base *base;
    aemp_val *config;         /* effective configuration */
    char *id;                 /* node id; "" before configure */
    char *uniq;               /* prefix of local port ids */
    char *runiq;              /* prefix of ids made for other nodes */
    char id_counter[32];      /* Perl string increment, starts at "a" */
    int secure;

    /* from the configuration (the links get theirs in transport.set) */
    double monitor_timeout;
    double connect_interval;
    size_t max_send_queue;    /* bytes a link may hold unsent, and a node
                                 without a link queued */

    aemp_dict ports;          /* local id -> aemp_lport* */
    aemp_val *last_port_id;   /* the port id string of the last delivery
                                 (a reference), and its port: a link's
                                 reader hands out the same string value
                                 for the same id, so a stream of messages
                                 to one port skips the lookup */
    aemp_lport *last_port;
    aemp_val_pool pool;       /* the frames' arrays, kept for reuse */
    aemp_dict remotes;        /* node id -> aemp_remote* */
    aemp_remote *last_remote; /* the one aempi_kernel_remote_get found
                                 last: a stream of sends to one node
                                 skips the dictionary */
    aemp_remote *reap_remotes; /* entries that may have become idle */
    uint64_t remote_epoch;    /* entries freed so far: a pointer to one
                                 kept past the current callback is good
                                 while this has not changed */
    struct {                  /* the port on another node aemp_snd sent
                                 to last: the next send there skips
                                 checking and splitting it and the lookup */
        char port[64];        /* "" when none */
        size_t portid_at;     /* where its port id starts */
        aemp_remote *r;
        uint64_t epoch;       /* remote_epoch then: r is good while equal */
    } snd_last;
    struct event *remote_reap_ev; /* frees the idle ones, from the loop */
    aemp_dict monitors;       /* id as decimal -> aemp_monitor* */
    uint64_t next_mon_id;     /* the ids of all kinds of monitor */
    aemp_node_mon *node_mons;
    aemp_monitor *self_mons;  /* monitors of our own node port */
    kernel_hooks hooks;       /* a higher layer's, or ones doing nothing */
    void *upper;              /* that layer's state, owned by it */
    aemp_dict node_reqs;      /* tag -> a higher layer's request
                                 (kernel_nodereq.c) */
    aemp_dict called;         /* function names called on the node port,
                                 which Perl keeps in %NODE_REQ (can) */
    aemp_dict funcs;          /* name -> aemp_func_entry* */
    aemp_service_loader service_loader; /* "Module::" services */
    void *service_ud;
    aemp_dict modules;        /* the modules loaded (Perl's %INC) */
    aemp_dict timers;         /* decimal id -> aemp_timer* (after, cal) */
    uint64_t next_timer_id;

    aemp_listener *listeners;
    size_t nlisteners;
    struct event *accept_retry; /* listeners back on after accept failed */
    double accept_backoff;    /* seconds resting; 0: accepting normally */
    unsigned long accept_failures; /* in this episode */
    aemp_val *binds;          /* array of "host:port" */

    aemp_link_host transport; /* the links, their settings and what they
                                 share; its hooks are kernel_link.c's */

    aemp_seed *seeds;
    size_t nseeds;
    double seed_retry;
    struct event *seed_timer;

    aemp_job *jobs, **jobs_tail;
    aemp_job *urgent, **urgent_tail; /* monitors fired by the running job
                                        or by a link failure */
    int dispatching;          /* jobs are running */
    aemp_job *job_pool;       /* finished jobs for reuse: no malloc per
                                 message */
    size_t job_pool_len;
    struct event *jobs_ev;
    const char *self;         /* $SELF while a port callback runs */
    const char *srcnode;      /* SRCNODE while a message is delivered */
    aemp_buf die_msg;         /* set by aemp_die */
    int die_set;

    char *last_link_error;    /* why the last link we started failed */

    struct kernel_dataconns *dataconns; /* kernel_dataconn.c */

    uint64_t jobs_run;        /* docs/metrics.md: a plain increment */
    struct kernel_metrics *metrics; /* GET /metrics, or NULL
                                       (kernel_metrics.c) */

    aemp_logger log;          /* lent to the transport */
    int trace;
    aemp_buf scratch;         /* for log and trace lines */
    char *errmsg;
};

/* ---- kernel_log.c ---- */
void aempi_trace_msg(aemp_node *n, const char *dir, const char *nodeid,
                     const char *portid, const aemp_val *msg);
void aempi_log_init(aemp_node *n);
void aempi_log_free(aemp_node *n);

#define LOG_KERNEL "AnyEvent::MP::Kernel"

/* ---- kernel_port.c: local ports, monitors, the delivery queue ---- */
aemp_lport *aempi_kernel_port_find(aemp_node *n, const char *localid);
/* msg (taken) from node src: a string value the queued job references,
 * or NULL for this node. */
void aempi_kernel_inject(aemp_node *n, aemp_val *src, aemp_val *msg);
void aempi_kernel_kill_local(aemp_node *n, const char *localid,
                             aemp_val *reason);
/* Detaches and queues the firing of a list of monitors. remote: the node
 * whose link failed (its monitors run before any other job), or NULL.
 * Returns how many fire jobs carry remote. */
size_t aempi_kernel_fire_list(aemp_node *n, aemp_monitor *list,
                              const aemp_val *reason, const char *remote);
uint64_t aempi_kernel_monitor_add(aemp_node *n, aemp_monitor *m);
aemp_monitor *aempi_kernel_monitor_new(aemp_node *n, aemp_mon_kind kind,
                                       const char *port);
void aempi_kernel_monitor_free(aemp_monitor *m);
void aempi_kernel_queue_job(aemp_node *n, aemp_job *job);
aemp_job *aempi_kernel_job_alloc(aemp_node *n); /* zeroed, maybe reused */
/* Queues fn(n, job) with job->name = name (copied), job->val = val
 * (taken) and job->id = id. */
void aempi_kernel_queue_call(aemp_node *n, aemp_job_fn fn, const char *name,
                             aemp_val *val, uint64_t id);
void aempi_kernel_ports_free(aemp_node *n);
void aempi_kernel_run_jobs(aemp_node *n);
/* Around the node's event callbacks that may find a link failure: when
 * the outermost returns, the monitors it fired run, before any other
 * callback of the program can send (Perl runs them inside its error
 * handling). A callback that runs inside another, or inside a write from
 * the program's own call (TLS filters call back at once), leaves them to
 * the outermost one or to the job event. The depth is the transport's
 * (aempi_link_host_enter), which counts the links' own callbacks too. */
void aempi_kernel_io_enter(aemp_node *n);
void aempi_kernel_io_leave(aemp_node *n);
/* The transport's hooks (kernel_link.c): the outermost callback returns
 * (the monitors it fired run, unless jobs are running), and, inside it,
 * a read decoded frames (not inside a job: runs the queue now, as the
 * job event would). */
void aempi_kernel_io_done(aemp_node *n);
void aempi_kernel_io_deliver(aemp_node *n);
/* mon1 / mon0 from a remote node for one of our ports */
void aempi_kernel_rmon_add(aemp_node *n, aemp_remote *r, const char *localid);
void aempi_kernel_rmon_del(aemp_node *n, aemp_remote *r, const char *localid);
void aempi_kernel_jobs_free(aemp_node *n);
char *aempi_kernel_next_id(aemp_node *n, const char *prefix);
/* "NODE#PORT" -> malloc'd node id, *portid into port ("" for a node). */
char *aempi_kernel_split_port(const char *port, const char **portid);
aemp_job *aempi_kernel_job_new(aemp_node *n, aemp_job_kind kind,
                               const char *name,
                               aemp_val *val);
/* What the dispatcher runs (kernel_port.c, kernel_mon.c). */
void aempi_kernel_run_deliver(aemp_node *n, aemp_job *job);
void aempi_kernel_run_kill(aemp_node *n, const char *localid,
                           aemp_val *reason);
void aempi_kernel_run_fire(aemp_node *n, aemp_monitor *m,
                           const aemp_val *reason);
/* Perl's ++ on a string of lowercase letters: a, b, ... z, aa, ab. */
void aempi_kernel_string_increment(char *s, size_t cap);

/* kil without the argument checks: port has a node and a port part. */
int aempi_kernel_kil(aemp_node *n, const char *port, aemp_val *reason);

/* ---- kernel_args.c: the argument checks of the public functions ---- */
/* Perl's text when a node/port id has no node part (Kernel.pm add_node) */
#define AEMP_BAD_ID "'undef' or the empty string are not valid node/port IDs"
/* Returns AEMP_EINVAL; inside a port's context ($SELF set) also kills
 * that port with ("die", TEXT), as Perl's croak there would. */
int aempi_kernel_refuse(aemp_node *n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* 1 if the node part of port is not empty (Kernel.pm add_node's check) */
int aempi_kernel_has_node(const char *port);
/* Each returns AEMP_OK, or refuses (aempi_kernel_refuse) with Perl's text. */
int aempi_kernel_check_port(aemp_node *n, const char *port); /* a node part */
int aempi_kernel_check_kil(aemp_node *n,
                           const char *port);  /* and a port part */
/* what: e.g. "aemp_snd: the message" */
int aempi_kernel_check_array(aemp_node *n, const char *what,
                             const aemp_val *v);
int aempi_kernel_check_cb(aemp_node *n, const char *func, int given);
int aempi_kernel_check_family(aemp_node *n, const char *family);
int aempi_kernel_check_key(aemp_node *n, const char *key);

/* ---- kernel_remote.c: remote nodes (Node::Remote) ---- */
/* The entry for a node id, made if create. An entry is freed from the
 * event loop once idle: no link, queue, connect attempt or monitors of its
 * ports, and not a seed or a node a higher layer keeps. A pointer to it is
 * good until the current callback returns to the loop. */
aemp_remote *aempi_kernel_remote_get(aemp_node *n, const char *id, int create);
/* Something that kept r may have let go of it: r is freed from the loop
 * if it is idle by then. */
void aempi_kernel_remote_may_be_idle(aemp_remote *r);
/* The same for id's entry, if there is one. */
void aempi_kernel_remote_let_go(aemp_node *n, const char *id);
/* Frees the listed entries that are idle (what the event does). */
void aempi_kernel_remotes_reap(aemp_node *n);
void aempi_kernel_remotes_free(aemp_node *n);
/* aemp_snd of one message to the node ports of several nodes: to nodes
 * with a link up, each framing is encoded once (cache, zeroed before the
 * first call, freed with aempi_frame_cache_free after the last). msg is
 * borrowed and must not change between the calls. */
int aempi_kernel_snd_node_shared(aemp_node *n, const char *nodeid,
                                 const aemp_val *msg, aemp_frame_cache *cache);
/* The same in two steps, for a caller that sends to the same nodes again
 * and again: the entry to give aempi_kernel_snd_remote_shared for
 * nodeid (NULL: it takes the usual way), good until the callback
 * returns, and past it while n->remote_epoch is unchanged. */
aemp_remote *aempi_kernel_shared_target(aemp_node *n, const char *nodeid);
int aempi_kernel_snd_remote_shared(aemp_node *n, aemp_remote *r,
                                   const char *nodeid, const aemp_val *msg,
                                   aemp_frame_cache *cache);
void aempi_kernel_remote_send(aemp_remote *r, aemp_val *msg);
void aempi_kernel_remote_connect(aemp_remote *r);
void aempi_kernel_remote_connect_to(aemp_remote *r, const aemp_val *addresses);
void aempi_kernel_remote_error(aemp_remote *r, const char *msg);
/* A fire job of node id's link failure has run. */
void aempi_kernel_remote_fired(aemp_node *n, const char *id);
void aempi_kernel_remote_monitor(aemp_remote *r, aemp_monitor *m);
void aempi_kernel_remote_unmonitor(aemp_remote *r, aemp_monitor *m);
void aempi_kernel_remote_stop_connecting(aemp_remote *r);
/* Node up/down: internal reactions, then the user's callbacks (queued). */
void aempi_kernel_node_event(aemp_node *n, const char *id, int up,
                             const aemp_val *reason);
void aempi_kernel_run_node_event(aemp_node *n, aemp_job *job);

/* ---- kernel_remote.c: what links tell the kernel (kernel_link.c hands
 * these to the transport as its hooks) ---- */
/* The remote greeting named its node; return non-zero to refuse. */
int aempi_kernel_link_greeted(aemp_node *n, aemp_link *link, const char *rnode,
                              const char **why);
void aempi_kernel_link_up(aemp_node *n, aemp_link *link);
void aempi_kernel_link_error(aemp_node *n, aemp_link *link, const char *msg);
void aempi_kernel_link_frame(aemp_node *n, aemp_link *link, aemp_val *frame);

/* ---- kernel_link.c ---- */
/* Sets up n->transport with the kernel's hooks; 0, or -1 when out of
 * memory. */
int aempi_kernel_link_host_init(aemp_node *n);

/* ---- kernel_lasterr.c ---- */
/* Keeps msg as the last error of the link's node, and of the node's own
 * attempts when the link was one (aemp_node_last_error). Call before the
 * link's owner is released. */
void aempi_kernel_note_link_error(aemp_node *n, aemp_link *link,
                                  const char *msg);

/* ---- kernel_nodereq.c: requests to the node port ---- */
void aempi_kernel_node_request(aemp_node *n, const char *src, aemp_val *msg);
/* A higher layer's request under tag (Perl's $NODE_REQ{TAG} = ...):
 * AEMP_EINVAL if the tag is taken, AEMP_ENOMEM. */
int aempi_kernel_node_request_add(aemp_node *n, const char *tag,
                                  kernel_req_fn fn);
/* The same for a request the layer serves only while served(n) is true
 * (Global.pm's, which a node has only once it is global): until then
 * `can` answers "" for it and a request under tag is a function name, as
 * on a Perl node without Global.pm. */
int aempi_kernel_node_request_add_when(aemp_node *n, const char *tag,
                                       kernel_req_fn fn,
                                       int (*served)(const aemp_node *n));
/* The same for a request served under a function name (DataConn's
 * _expect/_connect): Perl has such a name in %NODE_REQ only once
 * load_func has cached it, so `can` answers "" until its first call. */
int aempi_kernel_node_request_add_by_name(aemp_node *n, const char *tag,
                                          kernel_req_fn fn);
/* Notes that a request named function tag ran or failed to resolve:
 * Perl keeps it in %NODE_REQ, so `can` answers "1" for it from now on. */
void aempi_kernel_node_request_called(aemp_node *n, const char *tag,
                                      int registered);
/* Puts fn under tag even when the tag is taken, a built-in request
 * included: for the fault-injection tests (tests/conform_node.c), which
 * make a node answer wrong on purpose. AEMP_EINVAL, AEMP_ENOMEM. */
int aempi_kernel_node_request_replace(aemp_node *n, const char *tag,
                                      kernel_req_fn fn);
void aempi_kernel_node_requests_free(aemp_node *n);

/* ---- kernel_hooks.c: a higher layer's hooks ---- */
/* Plugs hooks in (NULL ones do nothing) and state (not NULL), the
 * layer's, which its free hook frees. One layer per node: AEMP_ESTATE for
 * a second, AEMP_EINVAL without hooks or state. */
int aempi_kernel_hooks_set(aemp_node *n, const kernel_hooks *hooks,
                           void *state);
/* The hooks that do nothing (aempi_kernel_node_new's). */
void aempi_kernel_hooks_none(aemp_node *n);
/* Calls the free hook and plugs the layer out. */
void aempi_kernel_hooks_free(aemp_node *n);

/* ---- node.c: a node's life cycle ---- */
/* A node of the kernel alone; aemp_node_new (src/node) plugs the higher
 * layers in. */
aemp_node *aempi_kernel_node_new(struct event_base *base);

/* ---- kernel_func.c: named functions, spawn, cal, after ---- */
/* A node-port request naming a function (anything not built in). */
void aempi_kernel_func_request(aemp_node *n, const char *src, const char *tag,
                               aemp_val *msg);
void aempi_kernel_funcs_free(aemp_node *n);
/* the function registered under name: 1 with *cb and *ud set, else 0 */
int aempi_kernel_func_get(aemp_node *n, const char *name, aemp_func_cb *cb,
                          void **ud);

/* ---- kernel_service.c ---- */
/* runs the configuration's services; on failure the message is in
 * n->die_msg */
int aempi_kernel_services_run(aemp_node *n);
void aempi_kernel_services_free(aemp_node *n);

/* ---- kernel_dataconn.c: data connections (AnyEvent::MP::DataConn) ---- */
/* Its state and node-port requests (_expect, _connect); 0 or -1. */
int aempi_kernel_dataconn_init(aemp_node *n);
/* After the links are gone: the pending connections, without callbacks. */
void aempi_kernel_dataconn_free(aemp_node *n);
/* Where node id listens, as the addresses hook's lookup found it. */
void aempi_kernel_dataconn_addresses(aemp_node *n, const char *id,
                                     const aemp_val *addrs);
/* The transport's dataconn hook, and the error hook of a data
 * connection's link. */
void aempi_kernel_dataconn_link(aemp_node *n, aemp_link *link,
                                const char *id);
void aempi_kernel_dataconn_link_error(aemp_node *n, aemp_link *link,
                                      const char *msg);

/* ---- kernel_stats.c: counters as a stats map (aemp/stats.h) ---- */
/* A new stats map: the node's id and no metrics yet. */
aemp_val *aempi_stats_new(const char *nodeid);
/* A label map of one name and value (add more with aemp_map_set). */
aemp_val *aempi_stats_label(const char *name, const char *value);
/* Adds one sample of metric name to stats, the metric made on first use
 * with type ("counter", "gauge") and help; labels (taken) may be NULL. */
void aempi_stats_add(aemp_val *stats, const char *name, const char *type,
                     const char *help, aemp_val *labels, uint64_t value);
/* Every counter of the node: the transport's, the kernel's and the
 * higher layer's (its stats hook). A new map, the caller's. */
aemp_val *aempi_kernel_stats(aemp_node *n);

/* ---- kernel_metrics.c: GET /metrics (metrics_bind) ---- */
/* At configure: serves if the configuration has metrics_bind. 0, or an
 * error code with *why a malloc'd message (NULL when out of memory). */
int aempi_kernel_metrics_start(aemp_node *n, char **why);
void aempi_kernel_metrics_free(aemp_node *n);

/* ---- node_listen.c: listeners ---- */
struct sockaddr;
/* A listener on sa that backs off while accept fails (file descriptors
 * run out), logging that once. */
struct evconnlistener *aempi_kernel_listener_new(aemp_node *n,
                                                 const struct sockaddr *sa,
                                                 int salen);
void aempi_kernel_listeners_free(aemp_node *n);

/* ---- node_seed.c: seed links ---- */
void aempi_kernel_seeds_start(aemp_node *n);
void aempi_kernel_seed_again(aemp_node *n);
void aempi_kernel_seeds_free(aemp_node *n);
void aempi_kernel_seed_greeted(aemp_node *n, aemp_seed *seed,
                               const char *rnode);
/* 1 if id is the node id of one of our seeds. */
int aempi_kernel_is_seed_node(const aemp_node *n, const char *id);


#endif
