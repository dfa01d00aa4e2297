/* libaemp: what the links of one node share (aemp_link_host): their
 * list, the event that frees dead ones, the event that writes the frames
 * of dirty links, and the depth of the host's event callbacks, which
 * tells the user when the work they found may run. */
#include <stdlib.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "transport_int.h"

static void on_reap(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    aemp_link_host *h = ud;
    aemp_link *l = h->links;
    while (l) {
        aemp_link *next = l->next;
        if (l->state == LINK_DEAD)
            aempi_link_free(l);
        l = next;
    }
}

static void on_flush(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    aemp_link_host *h = ud;
    aempi_link_host_enter(h); /* a write may find a link failed */
    aempi_link_io_flush_all(h);
    aempi_link_host_leave(h);
}

int aempi_link_host_init(aemp_link_host *h, struct event_base *base,
                         const aemp_link_hooks *hooks, void *ud,
                         const aemp_logger *log, size_t owner_size)
{
    *h = (aemp_link_host){0};
    h->base = base;
    h->hooks = hooks;
    h->ud = ud;
    h->log = log;
    h->owner_size = owner_size;
    h->set.monitor_timeout = 30;
    h->set.max_send_queue = (size_t)64 << 20;
    h->set.max_frame = AEMP_MAX_FRAME_DEFAULT;
    h->reap_ev = event_new(base, -1, 0, on_reap, h);
    h->flush_ev = event_new(base, -1, 0, on_flush, h);
    return h->reap_ev && h->flush_ev ? 0 : -1;
}

static void settings_clear(aemp_link_settings *s)
{
    free(s->nodeid);
    free(s->secret);
    free(s->auth_offer);
    free(s->auth_accept);
    free(s->framings);
    if (s->tls_ctx)
        SSL_CTX_free(s->tls_ctx);
    *s = (aemp_link_settings){0};
}

void aempi_link_host_clear(aemp_link_host *h)
{
    while (h->links)
        aempi_link_free(h->links);
    if (h->reap_ev)
        event_free(h->reap_ev);
    if (h->flush_ev)
        event_free(h->flush_ev);
    if (h->busy_ev)
        event_free(h->busy_ev);
    free(h->rbuf);
    settings_clear(&h->set);
    h->reap_ev = h->flush_ev = h->busy_ev = NULL;
    h->rbuf = NULL;
}

void aempi_link_host_enter(aemp_link_host *h)
{
    h->io_depth++;
}

void aempi_link_host_leave(aemp_link_host *h)
{
    if (!--h->io_depth)
        h->hooks->io_done(h->ud);
}

void aempi_link_host_deliver(aemp_link_host *h)
{
    if (h->io_depth != 1)
        return;
    h->delivering = 1;
    h->hooks->io_deliver(h->ud);
    h->delivering = 0;
    if (!h->dirty_links)
        return;
    /* What those jobs sent leaves now, not after the rest of this turn's
     * reads, when it is a reply to one peer (an ack, an answer): a read
     * turn can take in a whole credit window, and acks held until its end
     * make the sender sit idle, then the receiver: stop-and-go at half
     * speed. But a delivery that wrote to several links (a seed's
     * fan-out to the monitors of a family) waits for the turn's end, or
     * for a chunk's worth read since the last flush: the next links read
     * this turn mostly write to the same monitors, and flushing after
     * each would cost a send() per monitor per link instead of per turn.
     * (aempi_link_io_dirty left the flush event to us.) */
    if (!h->dirty_links->dirty_next ||
        h->unflushed_in >= AEMP_FLUSH_AFTER_IN)
        aempi_link_io_flush_all(h);
    else
        event_active(h->flush_ev, 0, 0);
}
