/* libaemp: requests to the node port (Kernel.pm %NODE_REQ): messages
 * ["", TAG, ARGS...] from other nodes (or ourselves), with SRCNODE the
 * sending node. The kernel's own are built in; a higher layer adds its
 * own by tag (the global protocol its g_* requests), as Global.pm fills
 * %NODE_REQ. */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "kernel.h"

/* a higher layer's request (a function pointer does not fit a dict's
 * void *) */
typedef struct kernel_req {
    kernel_req_fn fn;
    int (*served)(const aemp_node *n); /* NULL: always */
    /* served under a function name (DataConn's): Perl has it in
     * %NODE_REQ only once load_func has cached it, so `can` says "1"
     * only after the first call */
    int by_name;
} kernel_req;

/* Function names Perl would keep in %NODE_REQ: every name called, even
 * one that did not resolve (load_func's dying stand-in is cached too).
 * A name no function is registered under is kept only while fewer than
 * this many are, so a peer sending made-up names cannot grow the table
 * without bound. */
#define CALLED_UNKNOWN_MAX 256

static const char *arg_str(const aemp_val *msg, size_t i)
{
    const char *s = aemp_str_ptr(aemp_array_at(msg, i), NULL);
    return s ? s : "";
}

/* A new array of msg[from..]. */
static aemp_val *slice(const aemp_val *msg, size_t from)
{
    aemp_val *a = aemp_array();
    for (size_t i = from; a && i < aemp_array_len(msg); i++)
        aemp_array_push(a, aemp_ref(aemp_array_at(msg, i)));
    return a;
}

/* snd @reply, @values: the reply port is msg[from], then the leading values
 * of the reply, then ours (taken). */
static void reply(aemp_node *n, const aemp_val *msg, size_t from,
                  aemp_val *values)
{
    const char *port = aemp_str_ptr(aemp_array_at(msg, from), NULL);
    if (!port || !*port) {
        aemp_unref(values);
        return;
    }
    aemp_val *out = slice(msg, from + 1);
    for (size_t i = 0; out && i < aemp_array_len(values); i++)
        aemp_array_push(out, aemp_ref(aemp_array_at(values, i)));
    aemp_unref(values);
    if (out)
        aemp_snd(n, port, out);
}

static void req_mon0(aemp_node *n, const char *src, aemp_val *msg)
{
    aemp_remote *r = aempi_kernel_remote_get(n, src, 0);
    if (r)
        aempi_kernel_rmon_del(n, r, arg_str(msg, 2));
}

static void req_mon1(aemp_node *n, const char *src, aemp_val *msg)
{
    aemp_remote *r = aempi_kernel_remote_get(n, src, 1);
    if (r)
        aempi_kernel_rmon_add(n, r, arg_str(msg, 2));
}

static void req_kil0(aemp_node *n, const char *src, aemp_val *msg)
{
    aemp_remote *r = aempi_kernel_remote_get(n, src, 0);
    if (!r)
        return;
    aemp_monitor *list = aempi_dict_del(&r->lmon, arg_str(msg, 2));
    if (!list)
        return;
    aemp_val *reason = slice(msg, 3);
    aempi_kernel_fire_list(n, list, reason, NULL);
    aemp_unref(reason);
}

static void req_kil1(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)src;
    aempi_kernel_kill_local(n, arg_str(msg, 2), slice(msg, 3));
}

static void req_snd(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)src;
    const char *port = aemp_str_ptr(aemp_array_at(msg, 2), NULL);
    if (port && *port)
        aemp_snd(n, port, slice(msg, 3));
}

static int request_known(const aemp_node *n, const char *tag);

static void req_can(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)src;
    /* Perl replies with exists's value: "1" or "" */
    int known = request_known(n, arg_str(msg, 2));
    reply(n, msg, 3, aemp_arrayv(aemp_str(known ? "1" : ""), NULL));
}

static void req_eval(aemp_node *n, const char *src, aemp_val *msg)
{
    if (n->secure) {
        aemp_log_ctx(n, 4, LOG_KERNEL,
                     "error processing node message from %s: remote execution "
                     "not allowed",
                     src);
        return;
    }
    /* Perl code cannot run here; answer as a failed eval does: "$@" and
     * no results. */
    reply(n, msg, 3,
          aemp_arrayv(aemp_str("eval: this node (libaemp, C) cannot "
                               "evaluate Perl code\n"),
                      NULL));
}

static void req_time(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)src;
    struct timeval tv;
    event_base_gettimeofday_cached(n->base, &tv);
    reply(n, msg, 2,
          aemp_arrayv(aemp_double((double)tv.tv_sec + tv.tv_usec / 1e6),
                      NULL));
}

static void req_up_nodes(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)src;
    aemp_val *list = aemp_up_nodes(n);
    aemp_val *out = aemp_arrayv(aemp_str(""), NULL);
    for (size_t i = 0; out && i < aemp_array_len(list); i++) {
        const char *id = aemp_str_ptr(aemp_array_at(list, i), NULL);
        const char *provider = aemp_node_provider(n, id);
        aemp_array_push(out, aemp_str(id));
        aemp_array_push(out, aemp_str(provider ? provider : ""));
    }
    aemp_unref(list);
    reply(n, msg, 2, out);
}

static void req_nothing(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)n;
    (void)src;
    (void)msg;
}

static const struct {
    const char *tag;
    kernel_req_fn fn;
} requests[] = {
    {"mon0", req_mon0}, {"mon1", req_mon1},       {"kil0", req_kil0},
    {"kil1", req_kil1}, {"snd", req_snd},         {"can", req_can},
    {"eval", req_eval}, {"time", req_time},       {"devnull", req_nothing},
    {"", req_nothing},  {AEMP_REQ_UP_NODES, req_up_nodes},
};

/* The request under tag: a higher layer's (or a test's replacement of a
 * built-in one) while it serves it, else built in; NULL if none. */
static kernel_req_fn request_find(const aemp_node *n, const char *tag)
{
    const kernel_req *r = aempi_dict_get(&n->node_reqs, tag);
    if (r)
        return !r->served || r->served(n) ? r->fn : NULL;
    for (size_t i = 0; i < sizeof requests / sizeof *requests; i++)
        if (!strcmp(requests[i].tag, tag))
            return requests[i].fn;
    return NULL;
}

/* exists $NODE_REQ{TAG}: a request served now, or a function name
 * called before */
static int request_known(const aemp_node *n, const char *tag)
{
    const kernel_req *r = aempi_dict_get(&n->node_reqs, tag);
    if (aempi_dict_get(&n->called, tag))
        return 1;
    return request_find(n, tag) != NULL && !(r && r->by_name);
}

void aempi_kernel_node_request_called(aemp_node *n, const char *tag,
                                      int registered)
{
    static char mark;
    if (registered || n->called.count < CALLED_UNKNOWN_MAX)
        aempi_dict_set(&n->called, tag, &mark); /* out of memory: "" */
}

int aempi_kernel_node_request_add(aemp_node *n, const char *tag,
                                  kernel_req_fn fn)
{
    return aempi_kernel_node_request_add_when(n, tag, fn, NULL);
}

int aempi_kernel_node_request_add_when(aemp_node *n, const char *tag,
                                       kernel_req_fn fn,
                                       int (*served)(const aemp_node *n))
{
    if (!tag || !fn || request_find(n, tag) ||
        aempi_dict_get(&n->node_reqs, tag))
        return AEMP_EINVAL;
    int rc = aempi_kernel_node_request_replace(n, tag, fn);
    if (!rc)
        ((kernel_req *)aempi_dict_get(&n->node_reqs, tag))->served = served;
    return rc;
}

int aempi_kernel_node_request_add_by_name(aemp_node *n, const char *tag,
                                          kernel_req_fn fn)
{
    int rc = aempi_kernel_node_request_add(n, tag, fn);
    if (!rc)
        ((kernel_req *)aempi_dict_get(&n->node_reqs, tag))->by_name = 1;
    return rc;
}

int aempi_kernel_node_request_replace(aemp_node *n, const char *tag,
                                      kernel_req_fn fn)
{
    if (!tag || !fn)
        return AEMP_EINVAL;
    kernel_req *old = aempi_dict_get(&n->node_reqs, tag);
    if (old) {
        old->fn = fn;
        return AEMP_OK;
    }
    kernel_req *r = calloc(1, sizeof *r);
    if (!r || aempi_dict_set(&n->node_reqs, tag, r)) {
        free(r);
        return AEMP_ENOMEM;
    }
    r->fn = fn;
    return AEMP_OK;
}

void aempi_kernel_node_requests_free(aemp_node *n)
{
    for (aemp_dict_entry *e = aempi_dict_next(&n->node_reqs, NULL); e;
         e = aempi_dict_next(&n->node_reqs, e))
        free(e->value);
    aempi_dict_clear(&n->node_reqs);
    aempi_dict_clear(&n->called);
}

void aempi_kernel_node_request(aemp_node *n, const char *src, aemp_val *msg)
{
    const char *tag = aemp_str_ptr(aemp_array_at(msg, 1), NULL);
    if (!tag) {
        /* ["", undef]: Perl looks up and fails on an empty name */
        tag = aemp_array_len(msg) > 1 ? "(not a string)" : "";
    }
    kernel_req_fn fn = request_find(n, tag);
    if (fn) {
        const kernel_req *r = aempi_dict_get(&n->node_reqs, tag);
        if (r && r->by_name)
            aempi_kernel_node_request_called(n, tag, 1);
        fn(n, src, msg);
        aemp_unref(msg);
        return;
    }
    /* Anything else names a function to call. */
    aempi_kernel_func_request(n, src, tag, msg);
}
