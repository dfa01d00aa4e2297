/* libaemp: named functions and what is built on them: spawn, cal, after,
 * mon_guard, peval (MP.pm; Kernel.pm's function-call requests).
 *
 * A Perl node loads a function by its name; a C node calls what was
 * registered under that name. As with every user callback, the call runs
 * from the job queue, never from inside the network code. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "aemp/func.h"
#include "kernel.h"

#define SPAWN_FUNC "AnyEvent::MP::_spawn"

typedef struct aemp_func_entry {
    aemp_func_cb cb;
    void *ud;
} aemp_func_entry;

/* ---- the registry ---- */

int aemp_func_register(aemp_node *n, const char *name, aemp_func_cb cb,
                       void *ud)
{
    if (!n)
        return AEMP_EINVAL;
    if (!name || !*name || !strcmp(name, SPAWN_FUNC))
        return aempi_kernel_refuse(n, "'%s': not a function name to register",
                                   name ? name : "undef");
    free(aempi_dict_del(&n->funcs, name));
    if (!cb)
        return AEMP_OK;
    aemp_func_entry *f = malloc(sizeof *f);
    if (!f)
        return AEMP_ENOMEM;
    f->cb = cb;
    f->ud = ud;
    if (aempi_dict_set(&n->funcs, name, f)) {
        free(f);
        return AEMP_ENOMEM;
    }
    return AEMP_OK;
}

int aempi_kernel_func_get(aemp_node *n, const char *name, aemp_func_cb *cb,
                          void **ud)
{
    aemp_func_entry *f = aempi_dict_get(&n->funcs, name);
    if (!f)
        return 0;
    *cb = f->cb;
    *ud = f->ud;
    return 1;
}

static aemp_val *slice(const aemp_val *msg, size_t from)
{
    aemp_val *a = aemp_array();
    for (size_t i = from; a && i < aemp_array_len(msg); i++)
        aemp_array_push(a, aemp_ref(aemp_array_at(msg, i)));
    return a;
}

static void log_failure(aemp_node *n, const char *src, const char *why)
{
    aemp_log_ctx(n, 4, LOG_KERNEL, "error processing node message from %s: %s",
                 src ? src : "", why);
}

/* ---- calls ---- */

/* job->name: the function, job->src: the caller, job->val: the args */
static void run_call(aemp_node *n, aemp_job *job)
{
    aemp_func_entry *f = aempi_dict_get(&n->funcs, job->name);
    if (!f)
        return; /* unregistered meanwhile */
    n->srcnode = job->src;
    n->die_set = 0;
    int rc = f->cb(n, job->val, f->ud);
    n->srcnode = NULL;
    if (rc) {
        aemp_buf why = AEMP_BUF_INIT;
        aempi_buf_printf(&why, "%s", n->die_set ? n->die_msg.p
                                               : "function failed");
        log_failure(n, job->src, why.p);
        aempi_buf_free(&why);
    }
}

/* MP.pm _spawn: port NODE#ID made by the init function, with $SELF set. */
static void run_spawn(aemp_node *n, aemp_job *job)
{
    const char *id = aemp_str_ptr(aemp_array_at(job->val, 0), NULL);
    const char *init = aemp_str_ptr(aemp_array_at(job->val, 1), NULL);
    if (!id || !*id)
        return;
    char *self = malloc(strlen(n->id) + strlen(id) + 2);
    if (!self)
        return;
    sprintf(self, "%s#%s", n->id, id);
    aemp_func_entry *f = init ? aempi_dict_get(&n->funcs, init) : NULL;
    int rc = 1;
    n->die_set = 0;
    if (f) {
        aemp_val *args = slice(job->val, 2);
        n->self = self;
        n->srcnode = job->src;
        rc = f->cb(n, args, f->ud);
        n->self = NULL;
        n->srcnode = NULL;
        aemp_unref(args);
    } else {
        aemp_die(n, "unable to resolve function '%s'", init ? init : "");
    }
    if (rc)
        aempi_kernel_kill_local(n, id,
                                aemp_arrayv(aemp_str("die"),
                                            aemp_str(n->die_set ? n->die_msg.p
                                                          : "init failed"),
                                      NULL));
    free(self);
}

void aempi_kernel_func_request(aemp_node *n, const char *src, const char *tag,
                               aemp_val *msg)
{
    int spawn = !strcmp(tag, SPAWN_FUNC);
    aemp_func_entry *f = spawn ? NULL : aempi_dict_get(&n->funcs, tag);
    if (!f && n->secure) {
        /* Perl refuses code it has not run before, spawn included */
        log_failure(n, src, "remote execution not allowed");
        aemp_unref(msg);
        return;
    }
    aempi_kernel_node_request_called(n, tag, f || spawn);
    if (!f && !spawn) {
        aemp_buf why = AEMP_BUF_INIT;
        aempi_buf_printf(&why, "unable to resolve function '%s'", tag);
        log_failure(n, src, why.p);
        aempi_buf_free(&why);
    } else {
        /* node requests already run from the job queue, in order: call
         * at once, so a mon1 right behind a spawn finds the port */
        aemp_job job;
        memset(&job, 0, sizeof job);
        job.kind = JOB_CALL;
        job.name = (char *)tag;
        job.src = src;
        job.val = slice(msg, 2);
        if (spawn)
            run_spawn(n, &job);
        else
            run_call(n, &job);
        aemp_unref(job.val);
    }
    aemp_unref(msg);
}

/* The arguments of a call: NULL (none) or an array. */
static int check_args(aemp_node *n, const char *func, const aemp_val *args)
{
    if (!args)
        return AEMP_OK;
    char what[64];
    snprintf(what, sizeof what, "%s: the arguments", func);
    return aempi_kernel_check_array(n, what, args);
}

/* A request to the node port of nodeid (Kernel.pm: snd $node, TAG, ...):
 * head (taken) then args' elements (args an array or NULL, taken). api
 * names the caller in refusals. */
static int node_port_request(aemp_node *n, const char *api,
                             const char *nodeid, aemp_val *head,
                             aemp_val *args)
{
    int rc = AEMP_EINVAL;
    if (!n || aempi_kernel_check_port(n, nodeid))
        goto out;
    if (strchr(nodeid, '#')) {
        rc = aempi_kernel_refuse(n, "%s: not a node ID", nodeid);
        goto out;
    }
    if (check_args(n, api, args))
        goto out;
    for (size_t i = 0; head && i < aemp_array_len(args); i++)
        aemp_array_push(head, aemp_ref(aemp_array_at(args, i)));
    aemp_unref(args);
    return head ? aemp_snd(n, nodeid, head) : AEMP_ENOMEM;
out:
    aemp_unref(head);
    aemp_unref(args);
    return rc;
}

int aemp_snd_to_func(aemp_node *n, const char *nodeid, const char *func,
                     aemp_val *args)
{
    if (n && !func) {
        aemp_unref(args);
        return aempi_kernel_refuse(n, "aemp_snd_to_func: no function name");
    }
    return node_port_request(n, "aemp_snd_to_func", nodeid,
                             func ? aemp_arrayv(aemp_str(func), NULL) : NULL,
                             args);
}

int aemp_snd_on(aemp_node *n, const char *nodeid, const char *port,
                aemp_val *msg)
{
    if (n && aempi_kernel_check_port(n, port)) {
        aemp_unref(msg);
        return AEMP_EINVAL;
    }
    return node_port_request(n, "aemp_snd_on", nodeid,
                             port ? aemp_arrayv(aemp_str("snd"),
                                                aemp_str(port), NULL)
                                  : NULL,
                             msg);
}

int aemp_eval_on(aemp_node *n, const char *nodeid, const char *code,
                 aemp_val *reply)
{
    if (n && !code) {
        aemp_unref(reply);
        return aempi_kernel_refuse(n, "aemp_eval_on: no code");
    }
    return node_port_request(n, "aemp_eval_on", nodeid,
                             code ? aemp_arrayv(aemp_str("eval"),
                                                aemp_str(code), NULL)
                                  : NULL,
                             reply);
}

/* MP.pm's spawn checks the init function's name first */
static int check_spawn(aemp_node *n, const char *target, const char *init,
                       const aemp_val *args)
{
    if (!init || !strstr(init, "::"))
        return aempi_kernel_refuse(n, "spawn init function must be a "
                                "fully-qualified name, caught");
    if (aempi_kernel_check_port(n, target))
        return AEMP_EINVAL;
    return check_args(n, "aemp_spawn", args);
}

char *aemp_spawn(aemp_node *n, const char *target, const char *init,
                 aemp_val *args)
{
    if (!n || check_spawn(n, target, init, args)) {
        aemp_unref(args);
        return NULL;
    }
    char *nodeid = aemp_node_of(target);
    char *id = aempi_kernel_next_id(n, n->runiq);
    char *port = nodeid && id ? malloc(strlen(nodeid) + strlen(id) + 2)
                              : NULL;
    aemp_val *full = aemp_arrayv(aemp_str(id ? id : ""), aemp_str(init), NULL);
    for (size_t i = 0; full && i < aemp_array_len(args); i++)
        aemp_array_push(full, aemp_ref(aemp_array_at(args, i)));
    aemp_unref(args);
    if (port && full && !aemp_snd_to_func(n, nodeid, SPAWN_FUNC, full))
        sprintf(port, "%s#%s", nodeid, id);
    else {
        free(port);
        port = NULL;
    }
    free(nodeid);
    free(id);
    return port;
}

/* ---- timers: after and cal ---- */

typedef struct aemp_timer {
    aemp_node *node;
    uint64_t id;
    struct event *ev;
    aemp_after_cb cb;   /* after */
    void *ud;
    char *port;         /* after_snd: target; cal: the reply port */
    aemp_val *msg;      /* after_snd */
    aemp_cal_cb cal;    /* cal */
    aemp_port_mon_id mon; /* cal without timeout: the target's monitor */
} aemp_timer;

static void timer_key(uint64_t id, char key[24])
{
    snprintf(key, 24, "%llu", (unsigned long long)id);
}

static void timer_free(aemp_timer *t)
{
    if (t->ev)
        event_free(t->ev);
    free(t->port);
    aemp_unref(t->msg);
    free(t);
}

static aemp_timer *timer_take(aemp_node *n, uint64_t id)
{
    char key[24];
    timer_key(id, key);
    return aempi_dict_del(&n->timers, key);
}

static void on_after(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    aemp_timer *t = ud;
    aemp_node *n = t->node;
    timer_take(n, t->id);
    if (t->cb)
        t->cb(n, t->ud);
    else
        aemp_snd(n, t->port, aemp_ref(t->msg));
    timer_free(t);
}

/* About 31 years: later than any timer anybody waits for. */
#define TIMER_MAX 1e9

static aemp_timer *timer_new(aemp_node *n, double seconds,
                             event_callback_fn fn)
{
    aemp_timer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->node = n;
    t->id = ++n->next_timer_id;
    char key[24];
    timer_key(t->id, key);
    if (seconds > TIMER_MAX)
        seconds = TIMER_MAX; /* a struct timeval cannot hold more */
    if (seconds >= 0 && !(t->ev = event_new(n->base, -1, 0, fn, t))) {
        free(t);
        return NULL;
    }
    if (aempi_dict_set(&n->timers, key, t)) {
        timer_free(t);
        return NULL;
    }
    if (t->ev) {
        struct timeval tv;
        tv.tv_sec = (time_t)seconds;
        tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
        event_add(t->ev, &tv);
    }
    return t;
}

/* Cancels timer id (after, after_snd or cal); an unknown id is harmless. */
static void timer_cancel(aemp_node *n, uint64_t id)
{
    aemp_timer *t = timer_take(n, id);
    if (!t)
        return;
    if (t->mon.id)
        aemp_mon_cancel(n, t->mon);
    timer_free(t);
}

aemp_timer_id aemp_after(aemp_node *n, double seconds, aemp_after_cb cb,
                         void *ud)
{
    const aemp_timer_id none = {0};
    if (!n || aempi_kernel_check_cb(n, "aemp_after", cb != NULL))
        return none;
    /* not a number of seconds (NaN): at once, as a negative time */
    aemp_timer *t = timer_new(n, seconds > 0 ? seconds : 0, on_after);
    if (!t)
        return none;
    t->cb = cb;
    t->ud = ud;
    return (aemp_timer_id){t->id};
}

aemp_timer_id aemp_after_snd(aemp_node *n, double seconds, const char *port,
                             aemp_val *msg)
{
    const aemp_timer_id none = {0};
    if (!n || aempi_kernel_check_port(n, port) ||
        aempi_kernel_check_array(n, "aemp_after_snd: the message", msg)) {
        aemp_unref(msg);
        return none;
    }
    aemp_timer *t = timer_new(n, seconds > 0 ? seconds : 0, on_after);
    if (!t || !(t->port = strdup(port))) {
        if (t)
            timer_cancel(n, t->id);
        aemp_unref(msg);
        return none;
    }
    t->msg = msg;
    return (aemp_timer_id){t->id};
}

void aemp_after_cancel(aemp_node *n, aemp_timer_id id)
{
    if (n)
        timer_cancel(n, id.id);
}

/* A cal ends: once, by a reply, a timeout, or the target's death. */
static void cal_end(aemp_timer *t, const aemp_val *reply)
{
    aemp_node *n = t->node;
    if (!timer_take(n, t->id))
        return;
    if (t->mon.id)
        aemp_mon_cancel(n, t->mon);
    aemp_kil(n, t->port, NULL);
    t->cal(n, reply, t->ud);
    timer_free(t);
}

static int cal_reply(aemp_node *n, const char *port, const aemp_val *msg,
                     void *ud)
{
    (void)port;
    char key[24];
    timer_key((uint64_t)(uintptr_t)ud, key);
    aemp_timer *t = aempi_dict_get(&n->timers, key);
    if (t)
        cal_end(t, msg);
    return 0;
}

static void cal_timeout(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    cal_end(ud, NULL);
}

static void cal_target_died(aemp_node *n, const char *port,
                            const aemp_val *reason, void *ud)
{
    (void)port;
    (void)reason;
    char key[24];
    timer_key((uint64_t)(uintptr_t)ud, key);
    aemp_timer *t = aempi_dict_get(&n->timers, key);
    if (t) {
        t->mon = (aemp_port_mon_id){0}; /* fired: nothing to cancel */
        cal_end(t, NULL);
    }
}

char *aemp_cal(aemp_node *n, const char *port, aemp_val *msg, double timeout,
               aemp_cal_cb cb, void *ud)
{
    if (!n || aempi_kernel_check_port(n, port) ||
        aempi_kernel_check_array(n, "aemp_cal: the message", msg) ||
        aempi_kernel_check_cb(n, "aemp_cal", cb != NULL)) {
        aemp_unref(msg);
        return NULL;
    }
    aemp_timer *t = timer_new(n, timeout, cal_timeout);
    void *key = t ? (void *)(uintptr_t)t->id : NULL;
    if (!t || !(t->port = aemp_port(n, cal_reply, key))) {
        if (t)
            timer_cancel(n, t->id);
        aemp_unref(msg);
        return NULL;
    }
    t->cal = cb;
    t->ud = ud;
    /* Perl's cal without a timeout monitors the target; unlike Perl we
     * stop monitoring once the reply is in, so cb runs once */
    if (!(timeout >= 0)) /* NaN too: timer_new made no timer */
        t->mon = aemp_mon(n, port, cal_target_died, key);
    aemp_array_push(msg, aemp_str(t->port));
    aemp_snd(n, port, msg);
    return strdup(t->port);
}

/* ---- mon_guard and peval ---- */

typedef struct guard {
    void (*release)(void *);
    void *data;
    aemp_port_mon_id mon;
} guard;

/* Guards live in n->timers too, under their monitor's id with a "g"
 * prefix, so the node can release them when it is freed. */
static void guard_key(aemp_port_mon_id id, char key[32])
{
    snprintf(key, 32, "g%llu", (unsigned long long)id.id);
}

static void guard_fire(aemp_node *n, const char *port, const aemp_val *reason,
                       void *ud)
{
    (void)port;
    (void)reason;
    guard *g = ud;
    char key[32];
    guard_key(g->mon, key);
    aempi_dict_del(&n->timers, key);
    g->release(g->data);
    free(g);
}

aemp_port_mon_id aemp_mon_guard(aemp_node *n, const char *port,
                                void (*release)(void *), void *data)
{
    const aemp_port_mon_id none = {0};
    if (!n || aempi_kernel_check_port(n, port) ||
        aempi_kernel_check_cb(n, "aemp_mon_guard", release != NULL))
        return none;
    guard *g = malloc(sizeof *g);
    if (!g)
        return none;
    g->release = release;
    g->data = data;
    aemp_port_mon_id id = aemp_mon(n, port, guard_fire, g);
    char key[32];
    guard_key(id, key);
    g->mon = id;
    if (!id.id || aempi_dict_set(&n->timers, key, g)) {
        aemp_mon_cancel(n, id);
        free(g);
        return none;
    }
    return id;
}

int aemp_peval(aemp_node *n, const char *port,
               int (*fn)(aemp_node *, void *), void *ud)
{
    if (!n || aempi_kernel_check_port(n, port) ||
        aempi_kernel_check_cb(n, "aemp_peval", fn != NULL))
        return AEMP_EINVAL;
    const char *saved = n->self;
    n->self = port;
    n->die_set = 0;
    int rc = fn(n, ud);
    n->self = saved;
    if (rc && aemp_port_is_local(n, port)) {
        const char *localid = strchr(port, '#');
        aempi_kernel_kill_local(n, localid ? localid + 1 : "",
                                aemp_arrayv(aemp_str("die"),
                                            aemp_str(n->die_set ? n->die_msg.p
                                                          : "callback failed"),
                                      NULL));
    }
    return rc;
}

void aempi_kernel_funcs_free(aemp_node *n)
{
    for (aemp_dict_entry *e = aempi_dict_next(&n->funcs, NULL); e;
         e = aempi_dict_next(&n->funcs, e))
        free(e->value);
    aempi_dict_clear(&n->funcs);
    for (aemp_dict_entry *e = aempi_dict_next(&n->timers, NULL); e;
         e = aempi_dict_next(&n->timers, e)) {
        if (e->key[0] == 'g') { /* a mon_guard: released with the node */
            guard *g = e->value;
            g->release(g->data);
            free(g);
        } else
            timer_free(e->value);
    }
    aempi_dict_clear(&n->timers);
}
