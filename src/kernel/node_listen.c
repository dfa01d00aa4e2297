/* libaemp: accepting connections, and what happens when accept fails.
 *
 * accept() fails when file descriptors run out (EMFILE, ENFILE) or memory
 * does. The connection then stays in the kernel's queue and the listening
 * socket stays readable: retried at once, the loop would spin and log a
 * line per attempt (libevent's own warning: 1.7 million lines in seconds
 * with 1,000 idle connections against a limit of 256). So the listeners
 * rest for a while, 0.1 s doubling up to 1 s, and try again; the episode
 * is logged once when it starts and once when an accept works again. */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "kernel.h"

#define BACKOFF_FIRST 0.1
#define BACKOFF_MAX 1.0

static void listeners_enable(aemp_node *n, int on)
{
    for (size_t i = 0; i < n->nlisteners; i++)
        if (on)
            evconnlistener_enable(n->listeners[i].l);
        else
            evconnlistener_disable(n->listeners[i].l);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
                      struct sockaddr *sa, int salen, void *ud)
{
    (void)l;
    aemp_node *n = ud;
    if (n->accept_backoff > 0) {
        aemp_log_ctx(n, 4, LOG_KERNEL,
                     "accepting connections again (after %lu failed attempts).",
                     n->accept_failures);
        n->accept_backoff = 0;
        n->accept_failures = 0;
    }
    aempi_link_accept(&n->transport, fd, sa, salen);
}

static void on_retry(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    listeners_enable(ud, 1);
}

static void on_accept_error(struct evconnlistener *l, void *ud)
{
    (void)l;
    aemp_node *n = ud;
    int err = EVUTIL_SOCKET_ERROR();
    if (n->accept_backoff <= 0) {
        aemp_log_ctx(n, 4, LOG_KERNEL,
                     "cannot accept connections: %s; not accepting for a "
                     "while, then trying again.",
                     strerror(err));
        n->accept_backoff = BACKOFF_FIRST;
    } else if ((n->accept_backoff *= 2) > BACKOFF_MAX)
        n->accept_backoff = BACKOFF_MAX;
    n->accept_failures++;
    if (!n->accept_retry &&
        !(n->accept_retry = evtimer_new(n->base, on_retry, n)))
        return; /* no memory for the timer: keep trying, unlogged */
    listeners_enable(n, 0);
    struct timeval tv;
    tv.tv_sec = (time_t)n->accept_backoff;
    tv.tv_usec = (suseconds_t)((n->accept_backoff - (double)tv.tv_sec) * 1e6);
    evtimer_add(n->accept_retry, &tv);
}

struct evconnlistener *aempi_kernel_listener_new(aemp_node *n,
                                                 const struct sockaddr *sa,
                                                 int salen)
{
    struct evconnlistener *l = evconnlistener_new_bind(
        n->base, on_accept, n, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
        sa, salen);
    if (l)
        evconnlistener_set_error_cb(l, on_accept_error);
    return l;
}

void aempi_kernel_listeners_free(aemp_node *n)
{
    for (size_t i = 0; i < n->nlisteners; i++) {
        evconnlistener_free(n->listeners[i].l);
        free(n->listeners[i].bind);
    }
    free(n->listeners);
    n->listeners = NULL;
    n->nlisteners = 0;
    if (n->accept_retry)
        event_free(n->accept_retry);
    n->accept_retry = NULL;
}
