/* aemp-demo: a small network of C nodes doing real work.
 *
 * "aemp-demo" starts a coordinator node and three worker processes, each a
 * node of its own talking AnyEvent::MP over loopback TCP. The coordinator
 * hands out ranges of numbers; workers count the primes in them and send
 * the counts back; the coordinator checks the total against its own count.
 * One worker is told to fail half-way: the coordinator's monitor on its
 * port fires, and its range goes to another worker, as a Perl program with
 * mon would do it.
 *
 *   aemp-demo [LIMIT]          run the whole demo (default 3000000)
 *   aemp-demo worker N ADDR SECRET [FAIL]   (started by the demo itself)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/rand.h>

#include "aemp/aemp.h"

#define WORKERS 3
#define CHUNK 100000

static long count_primes(long lo, long hi)
{
    long count = 0;
    for (long n = lo < 2 ? 2 : lo; n < hi; n++) {
        int prime = 1;
        for (long d = 2; d * d <= n; d++)
            if (n % d == 0) {
                prime = 0;
                break;
            }
        count += prime;
    }
    return count;
}

static aemp_node *make_node(struct event_base *base, const char *id,
                            const char *secret, const char *seed)
{
    aemp_node *n = aemp_node_new(base);
    aemp_val *args = aemp_map();
    aemp_map_set(args, "norc", aemp_int(1)); /* the demo ignores rc files */
    aemp_map_set(args, "nodeid", aemp_str(id));
    aemp_map_set(args, "secret", aemp_str(secret));
    aemp_map_set(args, "binds", aemp_arrayv(aemp_str("127.0.0.1:*"), NULL));
    if (seed)
        aemp_map_set(args, "seeds", aemp_arrayv(aemp_str(seed), NULL));
    if (!n || aemp_node_configure(n, args, NULL)) {
        fprintf(stderr, "aemp-demo: %s: %s\n", id,
                n ? aemp_node_errmsg(n) : "out of memory");
        exit(1);
    }
    aemp_unref(args);
    return n;
}

/* ---- worker ---- */

typedef struct worker {
    struct event_base *base;
    int fail_after; /* chunks to do before failing on purpose; 0 never */
    int done;
} worker;

/* ["count", LO, HI, REPLY] -> REPLY gets ["result", SELF, LO, HI, COUNT] */
static int worker_count(aemp_node *n, const char *port, const aemp_val *msg,
                        void *ud)
{
    worker *w = ud;
    long lo = (long)aemp_as_int(aemp_array_at(msg, 1));
    long hi = (long)aemp_as_int(aemp_array_at(msg, 2));
    const char *reply = aemp_str_ptr(aemp_array_at(msg, 3), NULL);
    if (w->fail_after && ++w->done >= w->fail_after) {
        aemp_die(n, "worker gave up on %ld..%ld on purpose", lo, hi);
        return 1; /* the port dies with ("die", MESSAGE) */
    }
    aemp_sndv(n, reply, aemp_str("result"), aemp_str(port), aemp_int(lo),
              aemp_int(hi), aemp_int(count_primes(lo, hi)), NULL);
    return 0;
}

static int worker_quit(aemp_node *n, const char *port, const aemp_val *msg,
                       void *ud)
{
    (void)n;
    (void)port;
    (void)msg;
    event_base_loopexit(((worker *)ud)->base, NULL);
    return 0;
}

static void worker_lost(aemp_node *n, const char *port, const aemp_val *reason,
                        void *ud)
{
    (void)n;
    (void)port;
    (void)reason;
    event_base_loopexit(((worker *)ud)->base, NULL);
}

static int run_worker(const char *num, const char *addr, const char *secret,
                      const char *fail)
{
    worker w = {0};
    w.base = event_base_new();
    w.fail_after = fail ? atoi(fail) : 0;
    char id[64];
    snprintf(id, sizeof id, "demo-worker-%s", num);
    aemp_node *n = make_node(w.base, id, secret, addr);
    char *port = aemp_port(n, NULL, NULL);
    aemp_rcv(n, port, "count", worker_count, &w);
    aemp_rcv(n, port, "quit", worker_quit, &w);
    aemp_sndv(n, "demo-coord#jobs", aemp_str("ready"), aemp_str(port), NULL);
    /* the coordinator's node port lives as long as the coordinator */
    aemp_mon(n, "demo-coord", worker_lost, &w);
    event_base_dispatch(w.base);
    free(port);
    aemp_node_free(n);
    event_base_free(w.base);
    return 0;
}

/* ---- coordinator ---- */

typedef struct coord {
    struct event_base *base;
    aemp_node *node;
    long limit, next, total, ranges_left;
    long pending[64][2]; /* ranges lost with a dead worker */
    int npending;
    int chunks_by[WORKERS + 1];
    aemp_val *workers;   /* live worker ports */
    int finished;        /* workers leaving now is expected */
} coord;

static int worker_index(const char *port)
{
    const char *p = strstr(port, "demo-worker-");
    return p ? atoi(p + 12) : 0;
}

/* Gives the worker the next range, if any is left. */
static void hand_out(coord *c, const char *worker)
{
    long lo, hi;
    if (c->npending) {
        c->npending--;
        lo = c->pending[c->npending][0];
        hi = c->pending[c->npending][1];
    } else if (c->next < c->limit) {
        lo = c->next;
        hi = lo + CHUNK < c->limit ? lo + CHUNK : c->limit;
        c->next = hi;
    } else
        return;
    aemp_sndv(c->node, worker, aemp_str("count"), aemp_int(lo), aemp_int(hi),
              aemp_str("demo-coord#jobs"), NULL);
}

static void worker_died(aemp_node *n, const char *port, const aemp_val *reason,
                        void *ud);

static int coord_ready(aemp_node *n, const char *port, const aemp_val *msg,
                       void *ud)
{
    (void)port;
    coord *c = ud;
    const char *worker = aemp_str_ptr(aemp_array_at(msg, 1), NULL);
    if (!worker)
        return 0;
    printf("  %s joined from node %s\n", worker, aemp_srcnode(n));
    aemp_array_push(c->workers, aemp_str(worker));
    aemp_mon(n, worker, worker_died, c);
    hand_out(c, worker);
    return 0;
}

static int coord_result(aemp_node *n, const char *port, const aemp_val *msg,
                        void *ud)
{
    (void)n;
    (void)port;
    coord *c = ud;
    const char *worker = aemp_str_ptr(aemp_array_at(msg, 1), NULL);
    c->total += (long)aemp_as_int(aemp_array_at(msg, 4));
    c->chunks_by[worker_index(worker)]++;
    if (--c->ranges_left == 0) {
        event_base_loopexit(c->base, NULL);
        return 0;
    }
    hand_out(c, worker);
    return 0;
}

static void worker_died(aemp_node *n, const char *port, const aemp_val *reason,
                        void *ud)
{
    coord *c = ud;
    if (c->finished)
        return;
    char *why = aemp_to_json(reason, NULL);
    printf("  %s died: %s\n", port, why ? why : "");
    free(why);
    /* which range did it hold? the one in its "die" message; simplest and
     * exact: parse it from the reason text */
    const char *text = aemp_str_ptr(aemp_array_at(reason, 1), NULL);
    long lo, hi;
    if (text && sscanf(text, "worker gave up on %ld..%ld", &lo, &hi) == 2 &&
        c->npending < 64) {
        c->pending[c->npending][0] = lo;
        c->pending[c->npending][1] = hi;
        c->npending++;
        printf("  range %ld..%ld goes to another worker\n", lo, hi);
        /* wake an idle worker, if one is idle: every live worker asks for
         * more after its current range, so the range is picked up there */
        for (size_t i = 0; i < aemp_array_len(c->workers); i++) {
            const char *w = aemp_str_ptr(aemp_array_at(c->workers, i), NULL);
            if (strcmp(w, port) && c->next >= c->limit) {
                hand_out(c, w);
                break;
            }
        }
    }
    (void)n;
}

static pid_t spawn_worker(int i, const char *addr, const char *secret,
                          int fail)
{
    pid_t pid = fork();
    if (pid == 0) {
        char num[16], failarg[16];
        snprintf(num, sizeof num, "%d", i);
        snprintf(failarg, sizeof failarg, "%d", fail);
        execl("/proc/self/exe", "aemp-demo", "worker", num, addr, secret,
              fail ? failarg : (char *)NULL, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int run_demo(long limit)
{
    unsigned char rnd[16];
    char secret[33];
    RAND_bytes(rnd, sizeof rnd);
    for (int i = 0; i < 16; i++)
        snprintf(secret + 2 * i, 3, "%02x", rnd[i]);

    coord c = {0};
    c.base = event_base_new();
    c.limit = limit;
    c.ranges_left = (limit + CHUNK - 1) / CHUNK;
    c.workers = aemp_array();
    c.node = make_node(c.base, "demo-coord", secret, NULL);
    aemp_rcv(c.node, "demo-coord#jobs", "ready", coord_ready, &c);
    aemp_rcv(c.node, "demo-coord#jobs", "result", coord_result, &c);
    const char *addr = aemp_str_ptr(aemp_array_at(aemp_node_binds(c.node), 0),
                                    NULL);
    printf("aemp-demo: coordinator node demo-coord listens on %s\n", addr);
    printf("counting primes below %ld with %d worker nodes "
           "(worker 3 fails on purpose on its 4th range)\n",
           limit, WORKERS);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pids[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        pids[i] = spawn_worker(i + 1, addr, secret, i == WORKERS - 1 ? 4 : 0);
    event_base_dispatch(c.base);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    c.finished = 1;

    for (size_t i = 0; i < aemp_array_len(c.workers); i++)
        aemp_sndv(c.node, aemp_str_ptr(aemp_array_at(c.workers, i), NULL),
                  aemp_str("quit"), NULL);
    struct timeval flush = {0, 200000};
    event_base_loopexit(c.base, &flush);
    event_base_dispatch(c.base);
    for (int i = 0; i < WORKERS; i++) {
        kill(pids[i], SIGTERM);
        waitpid(pids[i], NULL, 0);
    }

    double secs = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    for (int i = 1; i <= WORKERS; i++)
        printf("  demo-worker-%d counted %d ranges\n", i, c.chunks_by[i]);
    long check = count_primes(0, limit);
    printf("primes below %ld: %ld (network, %.2f s); %ld (checked locally): "
           "%s\n",
           limit, c.total, secs, check, c.total == check ? "OK" : "MISMATCH");
    aemp_unref(c.workers);
    aemp_node_free(c.node);
    event_base_free(c.base);
    return c.total == check ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && !strcmp(argv[1], "worker"))
        return run_worker(argv[2], argv[3], argv[4], argc > 5 ? argv[5] : NULL);
    long limit = argc > 1 ? atol(argv[1]) : 3000000;
    if (limit < 1000 || limit > 100000000) {
        fprintf(stderr, "usage: aemp-demo [LIMIT from 1000 to 100000000]\n");
        return 2;
    }
    return run_demo(limit);
}
