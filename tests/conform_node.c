/* A C node for testing caemp conform (tests/conform_faults.py), with one
 * deliberate fault switched on by its argument, so the kit is shown to
 * tell right from wrong: each fault must make exactly the check meant
 * for it fail. The faults live here, not in the library: they replace a
 * built-in node-port request (aempi_kernel_node_request_replace), or
 * wrap the kernel's hooks, reaching into the node's internal state where
 * a fault needs it.
 *
 *    conform_node PORT SECRET FAULT [SEED]
 *
 * FAULT is none or one of the faults table's names below (each with the
 * check it must fail). One beginning with "seed" makes the node a seed
 * (its own address its seed), for caemp conform --seed; one beginning
 * with "secure" makes it secure (secure => 1), for caemp conform
 * --secure; with SEED (caemp conform --master) the node's seed is there.
 *
 * The node provides the master group's scenario functions
 * (docs/conformance.md): conform::db_set F K V, conform::db_del F K,
 * conform::db_mon F PORT; and MP.pm's AnyEvent::MP::rcv and
 * AnyEvent::MP::mon as init functions, for the kernel checks that spawn.
 *
 * Prints "ready" when it listens, then runs until killed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "aemp/aemp.h"
#include "global_int.h"
#include "kernel.h"

static const char *str_at(const aemp_val *msg, size_t i)
{
    const char *s = aemp_str_ptr(aemp_array_at(msg, i), NULL);
    return s ? s : "";
}

/* A new array of msg[from..]. */
static aemp_val *slice(const aemp_val *msg, size_t from)
{
    aemp_val *a = aemp_copy(msg);
    aemp_array_shift(a, from);
    return a;
}

/* A request's reply as Kernel.pm's snd @reply, VALUE: to the port
 * msg[from], with msg[from + 1..] (the reply's tag) and value (taken). */
static void reply(aemp_node *n, const aemp_val *msg, size_t from,
                  aemp_val *value)
{
    aemp_val *out = slice(msg, from + 1);
    aemp_array_push(out, value);
    aemp_snd(n, str_at(msg, from), out);
}

/* Sends msg (taken) to port id on node src. */
static void snd_to(aemp_node *n, const char *src, const char *id,
                   aemp_val *msg)
{
    char port[300];
    snprintf(port, sizeof port, "%s#%s", src, id);
    aemp_snd(n, port, msg);
}

/* ---- the kernel group's faults ---- */

/* ["", "time", PORT, @tag]: replies @tag and a string */
static void time_string(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)src;
    reply(n, msg, 2, aemp_str("half past noon"));
}

/* ["", "can", TAG, PORT, @tag]: "" for everything */
static void can_never(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)src;
    reply(n, msg, 3, aemp_str(""));
}

/* and "1" for everything */
static void can_always(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)src;
    reply(n, msg, 3, aemp_str("1"));
}

/* ["", TAG, ID, ...]: the request sent back to the sender's port ID, as
 * if its first argument were a reply port */
static void answer_back(aemp_node *n, const char *src, aemp_val *msg)
{
    snd_to(n, src, str_at(msg, 2), slice(msg, 1));
}

/* ["", ""]: taken for a protocol error, the sender's link dropped */
static void empty_tag_drops(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)msg;
    aemp_remote *r = aempi_kernel_remote_get(n, src, 0);
    if (r && r->link)
        aempi_link_close(r->link, "the empty tag");
}

static void ignore(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)n;
    (void)src;
    (void)msg;
}

/* ["", "mon1", ID]: of a port that does not exist, the kil0 leaves out
 * the port's NODE#ID */
static void mon1_short_reason(aemp_node *n, const char *src, aemp_val *msg)
{
    const char *id = str_at(msg, 2);
    aemp_remote *r = aempi_kernel_remote_get(n, src, 1);
    if (aempi_kernel_port_find(n, id))
        aempi_kernel_rmon_add(n, r, id);
    else
        aemp_snd(n, src, aemp_arrayv(aemp_str("kil0"), aemp_str(id),
                                     aemp_str("no_such_port"),
                                     aemp_str("cannot monitor nonexistent "
                                              "port"), NULL));
}

/* ["", "kil1", ID, @reason]: kills ID, forgetting the reason */
static void kil1_no_reason(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)src;
    aempi_kernel_kill_local(n, str_at(msg, 2), NULL);
}

/* and without a reason, kills with one */
static void kil1_made_reason(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)src;
    aempi_kernel_kill_local(n, str_at(msg, 2),
                            aemp_array_len(msg) > 3
                                ? slice(msg, 3)
                                : aemp_arrayv(aemp_str("die"),
                                              aemp_str("killed"), NULL));
}

/* ["", "eval", CODE, PORT, @tag]: answered with a number where the
 * error text goes */
static void eval_number(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)src;
    reply(n, msg, 3, aemp_int(42));
}

/* and on a secure node, answered as if it were not */
static void eval_insecure(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)src;
    reply(n, msg, 3, aemp_str("eval: cannot evaluate Perl code\n"));
}

/* ["", "AnyEvent::MP::_spawn", ...]: run, secure or not */
static void spawn_insecure(aemp_node *n, const char *src, aemp_val *msg)
{
    int secure = n->secure;
    n->secure = 0;
    aempi_kernel_func_request(n, src, str_at(msg, 1), aemp_ref(msg));
    n->secure = secure;
}

/* ---- faults in the frames a link delivers (the kernel's link hooks
 * wrapped) ---- */

static const aemp_link_hooks *link_hooks;
static aemp_link_hooks fault_link_hooks;
static void (*frame_fault)(aemp_node *n, const char *src,
                           const aemp_val *frame);

static void fault_frame(void *ud, aemp_link *link, aemp_val *frame)
{
    const char *src = aempi_link_remote_id(link);
    if (src)
        frame_fault(ud, src, frame);
    link_hooks->frame(ud, link, frame);
}

static int wrap_frames(aemp_node *n,
                       void (*fn)(aemp_node *, const char *, const aemp_val *))
{
    link_hooks = n->transport.hooks;
    fault_link_hooks = *link_hooks;
    fault_link_hooks.frame = fault_frame;
    n->transport.hooks = &fault_link_hooks;
    frame_fault = fn;
    return 0;
}

/* ["", FUNCTION, ID, ...] of a function the node does not have: an
 * error sent back to the sender's port ID */
static void unknown_func_answered(aemp_node *n, const char *src,
                                  const aemp_val *frame)
{
    const char *tag = str_at(frame, 1);
    if (str_at(frame, 0)[0] || !strstr(tag, "::") ||
        !strcmp(tag, "AnyEvent::MP::_spawn") || aempi_dict_get(&n->funcs, tag))
        return;
    snd_to(n, src, str_at(frame, 2),
           aemp_arrayv(aemp_strf("unable to resolve function '%s'", tag),
                       NULL));
}

/* [PORT, ...] for a port that does not exist: the sender told with a
 * kil0, as if it monitored the port */
static void unknown_port_answered(aemp_node *n, const char *src,
                                  const aemp_val *frame)
{
    const char *port = str_at(frame, 0);
    if (*port && !aempi_kernel_port_find(n, port))
        aemp_snd(n, src, aemp_arrayv(aemp_str("kil0"), aemp_str(port),
                                     aemp_str("no_such_port"),
                                     aemp_str("no such port"), NULL));
}

static int unknown_func(aemp_node *n)
{
    return wrap_frames(n, unknown_func_answered);
}

static int unknown_port(aemp_node *n)
{
    return wrap_frames(n, unknown_port_answered);
}

static int ignore_msg(aemp_node *n, const char *port, const aemp_val *msg,
                      void *ud)
{
    (void)n;
    (void)port;
    (void)msg;
    (void)ud;
    return 0;
}

/* The init function the kit spawns ports with (MP.pm's rcv, as
 * AnyEvent::MP::_spawn ID AnyEvent::MP::rcv NODE#ID TAG undef uses it on
 * a Perl node): the spawned port exists and ignores what it gets. */
static int rcv_init(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)args;
    (void)ud;
    return aemp_rcv(n, aemp_self(n), NULL, ignore_msg, NULL) ? 1 : 0;
}

/* How the node's AnyEvent::MP::mon misbehaves (a fault), or not. */
static enum {
    MON_RIGHT,
    MON_SND_NO_REASON,   /* mon PORT, RCVPORT, @MSG: the reason left out */
    MON_SND_MADE_REASON, /* and a normal kill given one */
    MON_KIL_NEVER,       /* mon PORT, RCVPORT: RCVPORT never killed */
    MON_KIL_ALWAYS,      /* and killed on a normal kill too */
} mon_fault;

/* the faulty monitor's action: ud the init's args [PORT, RCVPORT, @MSG] */
static void mon_wrong(aemp_node *n, const char *port, const aemp_val *reason,
                      void *ud)
{
    (void)port;
    aemp_val *args = ud;
    const char *rcvport = str_at(args, 1);
    if (mon_fault == MON_KIL_ALWAYS)
        aemp_kil(n, rcvport, aemp_copy(reason));
    else if (mon_fault == MON_KIL_NEVER)
        ;
    else {
        aemp_val *msg = slice(args, 2);
        for (size_t i = 0; mon_fault == MON_SND_MADE_REASON &&
                           i < aemp_array_len(reason); i++)
            aemp_array_push(msg, aemp_ref(aemp_array_at(reason, i)));
        if (mon_fault == MON_SND_MADE_REASON && !aemp_array_len(reason)) {
            aemp_array_push(msg, aemp_str("die"));
            aemp_array_push(msg, aemp_str("made up"));
        }
        aemp_snd(n, rcvport, msg);
    }
    aemp_unref(args);
}

/* MP.pm's mon as an init function (AnyEvent::MP::_spawn ID
 * AnyEvent::MP::mon PORT RCVPORT @MSG on a Perl node): with @MSG it
 * sends RCVPORT @MSG @reason when PORT dies, without it kills RCVPORT
 * when PORT dies abnormally. */
static int mon_init(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)ud;
    const char *port = str_at(args, 0), *rcvport = str_at(args, 1);
    aemp_port_mon_id id;
    if (aemp_array_len(args) < 2)
        return 1;
    int link = aemp_array_len(args) == 2;
    if (mon_fault != MON_RIGHT &&
        link == (mon_fault == MON_KIL_NEVER || mon_fault == MON_KIL_ALWAYS))
        id = aemp_mon(n, port, mon_wrong, aemp_copy(args));
    else if (!link)
        id = aemp_mon_snd(n, port, rcvport, slice(args, 2));
    else
        id = aemp_mon_kil(n, port, rcvport);
    return id.id ? 0 : 1;
}

static const char *fault_name;

/* the mon faults, named in mon_fault's order */
static int mon_wrong_on(aemp_node *n)
{
    static const char *const names[] = {
        "", "mon-snd-no-reason", "mon-snd-made-reason", "mon-kil-never",
        "mon-kil-always"};
    (void)n;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcmp(names[i], fault_name))
            mon_fault = i;
    return 0;
}

/* ---- the master group's scenario ---- */

static int sc_db_set(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)ud;
    aemp_db_set(n, str_at(args, 0), str_at(args, 1),
                aemp_ref(aemp_array_at(args, 2)));
    return 0;
}

static int sc_db_del(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)ud;
    aemp_db_del(n, str_at(args, 0), str_at(args, 1));
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static aemp_val *sorted(const aemp_val *keys)
{
    size_t n = aemp_array_len(keys);
    const char **k = calloc(n + 1, sizeof *k);
    aemp_val *a = aemp_array();
    for (size_t i = 0; k && i < n; i++)
        k[i] = str_at(keys, i);
    if (k)
        qsort(k, n, sizeof *k, cmp_str);
    for (size_t i = 0; k && a && i < n; i++)
        aemp_array_push(a, aemp_str(k[i]));
    free(k);
    return a;
}

/* reports each change to the port given: ["conform_chg", F, DB, ADDED,
 * CHANGED, DELETED], key lists sorted */
static void sc_report(aemp_node *n, const char *family, const aemp_val *db,
                      const aemp_val *added, const aemp_val *changed,
                      const aemp_val *deleted, void *ud)
{
    aemp_snd(n, ud, aemp_arrayv(aemp_str("conform_chg"), aemp_str(family),
                                aemp_ref((aemp_val *)db), sorted(added),
                                sorted(changed), sorted(deleted), NULL));
}

static int sc_db_mon(aemp_node *n, const aemp_val *args, void *ud)
{
    (void)ud;
    /* the port outlives the node's run: kept until exit */
    char *port = strdup(str_at(args, 1));
    aemp_db_mon(n, str_at(args, 0), sc_report, port);
    return 0;
}

/* ---- the seed group's faults ---- */

/* g_upd FAMILY SET DEL, with the family's monitors (Global.pm's
 * $GLOBAL_MON{FAMILY}) set aside when quiet: they are not told */
static void upd_quiet(aemp_node *n, const char *src, aemp_val *msg,
                      int quiet)
{
    aemp_global *g = global_of(n);
    const char *family = str_at(msg, 2);
    aemp_val *mons = NULL;
    if (quiet) {
        mons = aemp_ref(aemp_map_get(g->gmon, family));
        aemp_map_del(g->gmon, family, strlen(family));
    }
    aempi_gseed_req_g_upd(n, src, msg);
    if (mons)
        aemp_map_set(g->gmon, family, mons);
}

/* a delete is not told to monitors */
static void upd_quiet_delete(aemp_node *n, const char *src, aemp_val *msg)
{
    upd_quiet(n, src, msg, aemp_array_len(aemp_array_at(msg, 4)) > 0);
}

/* nor a set */
static void upd_quiet_set(aemp_node *n, const char *src, aemp_val *msg)
{
    upd_quiet(n, src, msg, aemp_map_len(aemp_array_at(msg, 3)) > 0);
}

/* a key the sender has set keeps its first value */
static void upd_no_replace(aemp_node *n, const char *src, aemp_val *msg)
{
    const aemp_val *have = aemp_map_get(
        aemp_map_get(global_of(n)->local_dbs, src), str_at(msg, 2));
    aemp_val *set = aemp_array_at(msg, 3);
    for (size_t i = 0; aemp_type_of(set) == AEMP_MAP &&
                       i < aemp_map_len(have); i++) {
        size_t klen;
        const char *k = aemp_map_key_at(have, i, &klen);
        aemp_map_del(set, k, klen);
    }
    aempi_gseed_req_g_upd(n, src, msg);
}

/* another node's delete takes every key it has in the family (the
 * seed's own deletes, of nodes gone from 'l, stay right) */
static void upd_del_all(aemp_node *n, const char *src, aemp_val *msg)
{
    const aemp_val *have = aemp_map_get(
        aemp_map_get(global_of(n)->local_dbs, src), str_at(msg, 2));
    const aemp_val *asked = aemp_array_at(msg, 4);
    if (!aemp_array_len(asked) || !strcmp(src, aemp_node_id(n))) {
        aempi_gseed_req_g_upd(n, src, msg);
        return;
    }
    aemp_val *del = aemp_array();
    for (size_t i = 0; i < aemp_map_len(have); i++)
        aemp_array_push(del, aemp_str(aemp_map_key_at(have, i, NULL)));
    for (size_t i = 0; i < aemp_array_len(asked); i++)
        if (!aemp_map_get(have, str_at(asked, i)))
            aemp_array_push(del, aemp_ref(aemp_array_at(asked, i)));
    aemp_val *upd = aemp_arrayv(aemp_str(""), aemp_str("g_upd"),
                                aemp_ref(aemp_array_at(msg, 2)),
                                aemp_ref(aemp_array_at(msg, 3)),
                                del ? del : aemp_null(), NULL);
    aempi_gseed_req_g_upd(n, src, upd);
    aemp_unref(upd);
}

/* a slave's change is not sent on to the other global nodes */
static void upd_no_forward(aemp_node *n, const char *src, aemp_val *msg)
{
    aemp_global *g = global_of(n);
    aemp_dict globals = g->global_nodes;
    memset(&g->global_nodes, 0, sizeof g->global_nodes);
    aempi_gseed_req_g_upd(n, src, msg);
    g->global_nodes = globals;
}

/* g_slave DB: the database dropped, but for its 'l entry */
static void slave_only_l(aemp_node *n, const char *src, aemp_val *msg)
{
    aemp_val *db = aemp_array_at(msg, 2);
    aemp_val *l = aemp_map_get(db, "'l");
    aemp_val *kept = aemp_map();
    if (l)
        aemp_map_set(kept, "'l", aemp_ref(l));
    aemp_val *slave = aemp_array_len(msg) > 2
                          ? aemp_arrayv(aemp_str(""), aemp_str("g_slave"),
                                        kept, NULL)
                          : (aemp_unref(kept), aemp_ref(msg));
    aempi_gseed_req_g_slave(n, src, slave);
    aemp_unref(slave);
}

/* g_db_keys / g_db_values FAMILY ID: replies the family itself, a map */
static void list_as_map(aemp_node *n, const char *src, aemp_val *msg)
{
    const aemp_val *fam = aemp_map_get(global_of(n)->global_db, str_at(msg, 2));
    aemp_snd(n, src, aemp_arrayv(aemp_str("g_reply"),
                                 aemp_copy(aemp_array_at(msg, 3)),
                                 fam ? aemp_copy(fam) : aemp_map(), NULL));
}

/* the families g_upd has named, and the nodes whose link came up: what
 * the seed "has heard of" for the faults below */
static aemp_val *heard_families, *heard_nodes;

static void upd_hearing(aemp_node *n, const char *src, aemp_val *msg)
{
    aemp_map_set(heard_families, str_at(msg, 2), aemp_null());
    aempi_gseed_req_g_upd(n, src, msg);
}

/* g_db_family FAMILY ID of a family never heard of: undef, not {} */
static void family_unheard_null(aemp_node *n, const char *src, aemp_val *msg)
{
    const char *family = str_at(msg, 2);
    if (aemp_map_get(global_of(n)->global_db, family) ||
        aemp_map_get(heard_families, family))
        aempi_gseed_req_g_db(n, src, msg);
    else
        aemp_snd(n, src, aemp_arrayv(aemp_str("g_reply"),
                                     aemp_copy(aemp_array_at(msg, 3)),
                                     aemp_null(), NULL));
}

static int family_unheard(aemp_node *n)
{
    heard_families = aemp_map();
    return aempi_kernel_node_request_replace(n, "g_upd", upd_hearing) ||
           aempi_kernel_node_request_replace(n, "g_db_family",
                                             family_unheard_null);
}

/* g_find NODE of the seed itself: undef */
static void find_self_null(aemp_node *n, const char *src, aemp_val *msg)
{
    if (strcmp(str_at(msg, 2), aemp_node_id(n)))
        aempi_gseed_req_g_find(n, src, msg);
    else
        aemp_snd(n, src, aemp_arrayv(aemp_str("g_found"),
                                     aemp_ref(aemp_array_at(msg, 2)),
                                     aemp_null(), NULL));
}

/* The kernel's node events, wrapped: the seed's side of one of them
 * (Global.pm's mon_nodes: g_global on up, the cleanup on down) left out,
 * and every node that came up noted. */
static void (*node_event)(aemp_node *n, const char *id, int up);
static int seed_deaf_to; /* 1: to ups, 0: to downs, -1: to neither */

static void fault_node_event(aemp_node *n, const char *id, int up)
{
    aemp_global *g = global_of(n);
    int on = g->on;
    if (up && heard_nodes)
        aemp_map_set(heard_nodes, id, aemp_null());
    if (up == seed_deaf_to)
        g->on = 0; /* aempi_gseed_node_event does nothing */
    node_event(n, id, up);
    g->on = on;
}

static int wrap_node_events(aemp_node *n, int deaf_to)
{
    node_event = n->hooks.node_event;
    n->hooks.node_event = fault_node_event;
    seed_deaf_to = deaf_to;
    return 0;
}

static int global_unsent(aemp_node *n)
{
    return wrap_node_events(n, 1);
}

static int no_cleanup(aemp_node *n)
{
    return wrap_node_events(n, 0);
}

/* g_find NODE of a node never up: [], not undef */
static void find_unheard_empty(aemp_node *n, const char *src, aemp_val *msg)
{
    const char *node = str_at(msg, 2);
    if (aemp_map_get(heard_nodes, node) ||
        aemp_map_get(aemp_map_get(global_of(n)->global_db, "'l"), node))
        aempi_gseed_req_g_find(n, src, msg);
    else
        aemp_snd(n, src, aemp_arrayv(aemp_str("g_found"), aemp_str(node),
                                     aemp_array(), NULL));
}

static int find_unheard(aemp_node *n)
{
    heard_nodes = aemp_map();
    wrap_node_events(n, -1);
    return aempi_kernel_node_request_replace(n, "g_find",
                                             find_unheard_empty);
}

/* g_mon1 FAMILY: does not exist, undef; else its keys, not the family
 * (the keys stand in for the family while the seed answers) */
static void mon1_keys(aemp_node *n, const char *src, aemp_val *msg)
{
    aemp_global *g = global_of(n);
    const char *family = str_at(msg, 2);
    aemp_val *fam = aemp_ref(aemp_map_get(g->global_db, family));
    aemp_val *keys = aemp_array();
    for (size_t i = 0; fam && i < aemp_map_len(fam); i++)
        aemp_array_push(keys, aemp_str(aemp_map_key_at(fam, i, NULL)));
    if (fam)
        aemp_map_set(g->global_db, family, keys);
    else
        aemp_unref(keys);
    aempi_gseed_req_g_mon1(n, src, msg);
    if (fam)
        aemp_map_set(g->global_db, family, fam);
}

/* g_mon1 FAMILY: a family that does not exist is made, empty, first */
static void mon1_empty(aemp_node *n, const char *src, aemp_val *msg)
{
    aemp_global *g = global_of(n);
    if (!aemp_map_get(g->global_db, str_at(msg, 2)))
        aemp_map_set(g->global_db, str_at(msg, 2), aemp_map());
    aempi_gseed_req_g_mon1(n, src, msg);
}

/* g_global from another global: noted, but no g_set back */
static void global_no_set(aemp_node *n, const char *src, aemp_val *msg)
{
    (void)msg;
    aempi_dict_set(&global_of(n)->global_nodes, src, NULL);
}

/* ---- the faults ---- */

static int slave_no_l(aemp_node *n)
{
    return aemp_db_del(n, "'l", aemp_node_id(n));
}

/* A fault replaces the node-port request tag with fn, or is set up by
 * setup. */
static const struct {
    const char *name;
    const char *tag;
    kernel_req_fn fn;
    int (*setup)(aemp_node *n);
} faults[] = {
    /* the kernel group */
    {"time-string", "time", time_string, NULL},           /* K-TIME */
    {"can-never", "can", can_never, NULL},                /* K-CAN-KNOWN */
    {"can-always", "can", can_always, NULL},              /* K-CAN-UNKNOWN */
    {"devnull-answered", "devnull", answer_back, NULL},   /* K-DEVNULL */
    {"empty-tag-drops", "", empty_tag_drops, NULL},       /* K-EMPTY-TAG */
    {"unknown-func-answered", NULL, NULL, unknown_func},  /* K-UNKNOWN-FUNC */
    {"unknown-port-answered", NULL, NULL, unknown_port},  /* K-UNKNOWN-PORT */
    {"snd-dropped", "snd", ignore, NULL},                 /* K-SND-RELAY */
    {"mon1-short-reason", "mon1", mon1_short_reason, NULL}, /* K-MON1-NOPORT */
    {"kil0-no-reason", "kil1", kil1_no_reason, NULL},     /* K-KIL1-REASON */
    {"kil1-made-reason", "kil1", kil1_made_reason, NULL}, /* K-KIL1-NORMAL */
    {"mon0-ignored", "mon0", ignore, NULL},               /* K-MON0 */
    {"eval-number", "eval", eval_number, NULL},           /* K-EVAL */
    {"kil0-ignored", "kil0", ignore, NULL},               /* K-KIL0-* */
    {"mon-snd-no-reason", NULL, NULL, mon_wrong_on},      /* K-KIL0-REASON */
    {"mon-snd-made-reason", NULL, NULL, mon_wrong_on},    /* K-KIL0-NORMAL */
    {"mon-kil-never", NULL, NULL, mon_wrong_on},          /* K-KIL0-LINK */
    {"mon-kil-always", NULL, NULL, mon_wrong_on}, /* K-KIL0-LINK-NORMAL */

    /* secure => 1 */
    {"secure-eval", "eval", eval_insecure, NULL},         /* K-SECURE-EVAL */
    {"secure-spawn", "AnyEvent::MP::_spawn", spawn_insecure,
     NULL},                                               /* K-SECURE-SPAWN */
    /* the master group (SEED given) */
    {"slave-no-l", NULL, NULL, slave_no_l},               /* M-SLAVE-DB */
    {"chg2-ignored", "g_chg2", ignore, NULL},             /* M-CHG2 */
    /* the seed group (the node a seed) */
    {"seed-global-unsent", NULL, NULL, global_unsent},    /* S-GLOBAL-UP */
    {"seed-slave-db-dropped", "g_slave", slave_only_l, NULL}, /* S-SLAVE-DB */
    {"seed-upd-no-replace", "g_upd", upd_no_replace, NULL}, /* S-UPD-SET */
    {"seed-upd-del-all", "g_upd", upd_del_all, NULL},     /* S-UPD-DEL */
    {"seed-family-null", NULL, NULL, family_unheard},     /* S-DB-FAMILY */
    {"seed-keys-map", "g_db_keys", list_as_map, NULL},    /* S-DB-KEYS */
    {"seed-values-map", "g_db_values", list_as_map, NULL}, /* S-DB-VALUES */
    {"seed-find-self-null", "g_find", find_self_null, NULL}, /* S-FIND */
    {"seed-find-empty", NULL, NULL, find_unheard},        /* S-FIND-UNKNOWN */
    {"seed-chg1-empty", "g_mon1", mon1_empty, NULL},      /* S-MON1-NULL */
    {"seed-chg1-keys", "g_mon1", mon1_keys, NULL},        /* S-MON1-FULL */
    {"seed-chg2-set", "g_upd", upd_quiet_set, NULL},      /* S-CHG2-SET */
    {"seed-chg2-del", "g_upd", upd_quiet_delete, NULL},   /* S-CHG2-DEL */
    {"seed-mon0-ignored", "g_mon0", ignore, NULL},        /* S-MON0 */
    {"seed-no-cleanup", NULL, NULL, no_cleanup},          /* S-CLEANUP */
    {"seed-global-no-set", "g_global", global_no_set, NULL}, /* S-GLOBAL-SET */
    {"seed-set-ignored", "g_set", ignore, NULL},          /* S-GLOBAL-MIRROR */
    {"seed-upd-no-forward", "g_upd", upd_no_forward, NULL}, /* S-GLOBAL-FWD */
};

/* Switches fault name on: 0, or -1 for an unknown name. */
static int fault_on(aemp_node *n, const char *name)
{
    if (!strcmp(name, "none") || !strcmp(name, "seed") ||
        !strcmp(name, "secure"))
        return 0;
    for (size_t i = 0; i < sizeof faults / sizeof *faults; i++)
        if (!strcmp(faults[i].name, name))
            return faults[i].setup
                       ? faults[i].setup(n)
                       : aempi_kernel_node_request_replace(n, faults[i].tag,
                                                           faults[i].fn);
    return -1;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: conform_node PORT SECRET FAULT [SEED]\n");
        return 2;
    }
    const char *fault = fault_name = argv[3];
    struct event_base *base = event_base_new();
    aemp_node *n = aemp_node_new(base);
    aemp_val *args = aemp_map();
    aemp_map_set(args, "norc", aemp_int(1));
    aemp_map_set(args, "nodeid", aemp_str("conform-test-node"));
    aemp_map_set(args, "secret", aemp_str(argv[2]));
    /* cleartext listed, so the kit's cleartext check runs too */
    aemp_map_set(args, "auth_accept", aemp_arrayv(aemp_str("hmac_sha3_512"),
                                                  aemp_str("cleartext"),
                                                  NULL));
    aemp_map_set(args, "binds",
                 aemp_arrayv(aemp_strf("127.0.0.1:%s", argv[1]), NULL));
    if (argc == 5)
        aemp_map_set(args, "seeds", aemp_arrayv(aemp_str(argv[4]), NULL));
    else if (!strncmp(fault, "seed", 4))
        aemp_map_set(args, "seeds",
                     aemp_arrayv(aemp_strf("127.0.0.1:%s", argv[1]), NULL));
    if (!strncmp(fault, "secure", 6))
        aemp_map_set(args, "secure", aemp_int(1));
    if (!n || aemp_node_configure(n, args, NULL)) {
        fprintf(stderr, "conform_node: %s\n", aemp_node_errmsg(n));
        return 1;
    }
    aemp_unref(args);
    aemp_func_register(n, "AnyEvent::MP::rcv", rcv_init, NULL);
    aemp_func_register(n, "AnyEvent::MP::mon", mon_init, NULL);
    aemp_func_register(n, "conform::db_set", sc_db_set, NULL);
    aemp_func_register(n, "conform::db_del", sc_db_del, NULL);
    aemp_func_register(n, "conform::db_mon", sc_db_mon, NULL);

    if (fault_on(n, fault)) {
        fprintf(stderr, "conform_node: bad fault %s\n", fault);
        return 2;
    }
    printf("ready\n");
    fflush(stdout);
    event_base_dispatch(base);
    aemp_node_free(n);
    event_base_free(base);
    return 0;
}
