/* libaemp: the data phase of a plain (not TLS) link: reading and writing
 * the socket ourselves.
 *
 * The handshake runs on a bufferevent. Once frames flow, its costs show
 * on every message: a bufferevent_write allocates a buffer chain, adds
 * EPOLLOUT (epoll_ctl), waits a turn of the loop, writes, and removes
 * EPOLLOUT again (epoll_ctl); a read asks the kernel how much there is
 * (ioctl FIONREAD) and allocates a chain for it. A node with many links,
 * a seed above all, makes several such writes per operation.
 *
 * So frames are encoded into the link's pend buffer, and the link joins
 * the host's dirty list. Right after the jobs a read delivered, or else
 * in the host's flush event after this loop turn's jobs, each dirty
 * link's pend is written with one send().
 * Only what the socket does not take goes to the bufferevent's output,
 * with EV_WRITE enabled until libevent has drained it (then it is
 * disabled again, in on_drained). Reads go straight from the socket into
 * a buffer the host shares among its links, and from there to the frame
 * reader, which copies what it keeps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "transport_int.h"

/* A read takes at most this much; a link with more waiting is read again
 * up to READ_TURN bytes in one turn, so one busy link cannot starve the
 * others. */
#define READ_CHUNK (16 * 1024)
#define READ_TURN (256 * 1024)
/* pend keeps its memory between flushes, up to this much */
#define PEND_KEEP (64 * 1024)

static void on_drained(struct bufferevent *bev, void *ud)
{
    aemp_link *l = ud;
    /* libevent wrote the backlog: from now on the flush writes directly */
    if (l->direct)
        bufferevent_disable(bev, EV_WRITE);
}

/* ---- busy polling (aempi_link_host_busy_poll) ----
 *
 * A receiver asleep in epoll_wait must be woken by each write of its
 * peer, and the peer pays for that wakeup inside its write (an IPI to the
 * other CPU, costly in a VM). While the node polls, a zero timeout keeps
 * libevent's epoll_wait from blocking, so writes find it awake. Polling
 * goes through the loop, not a loop of our own inside a callback, so
 * every other event of the base runs as usual meanwhile. */

static int before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec ||
           (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void on_busy(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    aemp_link_host *h = ud;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (before(&now, &h->busy_until)) {
        static const struct timeval zero = {0, 0};
        evtimer_add(h->busy_ev, &zero);
    }
}

static void busy_poll_extend(aemp_link_host *h)
{
    if (!h->busy_poll_us)
        return;
    clock_gettime(CLOCK_MONOTONIC, &h->busy_until);
    h->busy_until.tv_nsec += (long)h->busy_poll_us * 1000;
    if (h->busy_until.tv_nsec >= 1000000000L) {
        h->busy_until.tv_sec++;
        h->busy_until.tv_nsec -= 1000000000L;
    }
    if (!h->busy_ev && !(h->busy_ev = evtimer_new(h->base, on_busy, h)))
        return; /* no polling then, nothing else lost */
    if (!evtimer_pending(h->busy_ev, NULL)) {
        static const struct timeval zero = {0, 0};
        evtimer_add(h->busy_ev, &zero);
    }
}

void aempi_link_host_busy_poll(aemp_link_host *h, unsigned usec)
{
    h->busy_poll_us = usec;
}

static void read_link(aemp_link *l, evutil_socket_t fd)
{
    aemp_link_host *h = l->host;
    if (!h->rbuf && !(h->rbuf = malloc(READ_CHUNK))) {
        aempi_link_error(l, "out of memory");
        return;
    }
    /* a link over its send cap is about to close: its requests would
     * only make more output that cannot go anywhere */
    for (size_t got = 0;
         got < READ_TURN && l->state == LINK_DATA && !l->over_cap;) {
        ssize_t r = recv(fd, h->rbuf, READ_CHUNK, 0);
        if (r > 0) {
            got += (size_t)r;
            busy_poll_extend(h);
            int dead = aempi_link_feed(l, h->rbuf, (size_t)r);
            /* The frames just decoded are in the cache: deliver them now
             * rather than after every other socket of this turn has been
             * read. This is the job event's work, done a little earlier
             * from the event loop; the queue's order is the same. */
            aempi_link_host_deliver(h);
            if (dead || r < READ_CHUNK)
                return;
        } else if (r == 0) {
            /* AnyEvent::Handle's words for EOF in the data phase */
            aempi_link_error(l, "Unexpected end-of-file");
            return;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        } else {
            aempi_link_error(l, "%s", strerror(errno));
            return;
        }
    }
}

static void on_readable(evutil_socket_t fd, short what, void *ud)
{
    (void)what;
    aemp_link *l = ud;
    aemp_link_host *h = l->host;
    aempi_link_host_enter(h); /* the link may fail */
    read_link(l, fd);
    aempi_link_host_leave(h);
}

void aempi_link_io_start(aemp_link *l)
{
    if (l->state != LINK_DATA || l->rd_ev)
        return;
    evutil_socket_t fd = bufferevent_getfd(l->bev);
    l->rd_ev = event_new(l->host->base, fd, EV_READ | EV_PERSIST, on_readable,
                         l);
    if (!l->rd_ev || event_add(l->rd_ev, NULL)) {
        aempi_link_error(l, "out of memory");
        return;
    }
    l->direct = 1;
    /* the bufferevent keeps only the output backlog, if any */
    bufferevent_disable(l->bev, EV_READ);
    bufferevent_event_cb on_event;
    bufferevent_getcb(l->bev, NULL, NULL, &on_event, NULL);
    bufferevent_setcb(l->bev, NULL, on_drained, on_event, l);
    if (!evbuffer_get_length(bufferevent_get_output(l->bev)))
        bufferevent_disable(l->bev, EV_WRITE);
}

void aempi_link_io_dirty(aemp_link *l)
{
    if (l->dirty)
        return;
    aemp_link_host *h = l->host;
    l->dirty = 1;
    l->dirty_next = h->dirty_links;
    h->dirty_links = l;
    /* a delivery after a read writes what its jobs sent itself: a round
     * trip does not pay for activating the flush event and its turn */
    if (!h->delivering)
        event_active(h->flush_ev, 0, 0);
}

static void free_chunk(const void *data, size_t len, void *p)
{
    (void)data;
    (void)len;
    free(p);
}

/* pend from off on goes to the end of the bufferevent's output. A large
 * rest is handed over, not copied: a peer that reads slowly already costs
 * its backlog once, and a copy would cost it twice (and the time to make
 * it). A small rest is copied, so pend keeps its memory. */
static int pend_to_output(aemp_link *l, size_t off)
{
    struct evbuffer *out = bufferevent_get_output(l->bev);
    size_t rest = l->pend.len - off;
    if (rest < PEND_KEEP) {
        int rc = evbuffer_add(out, l->pend.p + off, rest);
        aempi_buf_reset(&l->pend);
        return rc;
    }
    char *p = aempi_buf_detach(&l->pend, NULL);
    if (evbuffer_add_reference(out, p + off, rest, free_chunk, p)) {
        free(p);
        return -1;
    }
    return 0;
}

/* Writes pend: straight to the socket when nothing is queued before it,
 * the rest (or all, behind a backlog) into the bufferevent's output. */
static void link_flush(aemp_link *l)
{
    struct evbuffer *out = bufferevent_get_output(l->bev);
    size_t off = 0;
    if (!evbuffer_get_length(out)) {
        evutil_socket_t fd = bufferevent_getfd(l->bev);
        while (off < l->pend.len) {
            /* MSG_NOSIGNAL: a closed peer is an error here, not SIGPIPE */
            ssize_t w = send(fd, l->pend.p + off, l->pend.len - off,
                             MSG_NOSIGNAL);
            if (w >= 0)
                off += (size_t)w;
            else if (errno == EINTR)
                continue;
            else if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            else {
                int err = errno;
                aempi_buf_reset(&l->pend);
                aempi_link_error(l, "%s", strerror(err));
                return;
            }
        }
    }
    if (off < l->pend.len) {
        if (pend_to_output(l, off)) {
            aempi_link_error(l, "out of memory");
            return;
        }
        /* enabling again would restart the write timeout: it measures
         * how long the backlog has not moved, not how long ago we added
         * to it */
        if (!(bufferevent_get_enabled(l->bev) & EV_WRITE))
            bufferevent_enable(l->bev, EV_WRITE);
    }
    if (l->pend.cap > PEND_KEEP)
        aempi_buf_free(&l->pend);
    else
        aempi_buf_reset(&l->pend);
}

void aempi_link_io_flush_all(aemp_link_host *h)
{
    h->unflushed_in = 0;
    while (h->dirty_links) {
        aemp_link *l = h->dirty_links;
        h->dirty_links = l->dirty_next;
        l->dirty = 0;
        l->dirty_next = NULL;
        link_flush(l); /* may close l: its memory stays until the reaper */
    }
}

void aempi_link_io_stop(aemp_link *l)
{
    if (l->rd_ev)
        event_del(l->rd_ev);
    if (l->dirty) {
        aemp_link **p = &l->host->dirty_links;
        while (*p != l)
            p = &(*p)->dirty_next;
        *p = l->dirty_next;
        l->dirty = 0;
    }
    if (l->pend.len)
        pend_to_output(l, 0); /* out of memory: those frames are lost with
                                 the link anyway */
    aempi_buf_reset(&l->pend);
    l->direct = 0;
}

void aempi_link_io_free(aemp_link *l)
{
    if (l->rd_ev)
        event_free(l->rd_ev);
    aempi_buf_free(&l->pend);
}
