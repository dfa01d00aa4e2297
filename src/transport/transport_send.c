/* libaemp: sending frames on a link. A plain link in the data phase
 * collects them in its pend buffer for the host's flush (transport_io.c);
 * other links hand each frame to their bufferevent. */
#include <stdio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "aemp/error.h"
#include "transport_int.h"
#include "value_int.h"

/* A link is closed once its unsent output (frames in pend, bytes in
 * its bufferevents) would pass max_send_queue: a peer that stops reading
 * (a stopped process, a full network) must cost that much memory at most,
 * and the monitors of its ports must learn that messages were lost. The
 * close runs from the loop (aempi_link_fail_soon), not inside the send: the
 * sender may be walking a list that the node-down handling changes. Until
 * then every send to the link fails with AEMP_ELIMIT, so nothing after
 * the lost message goes out either. */
size_t aempi_link_unsent(const aemp_link *l)
{
    size_t n = l->pend.len +
               evbuffer_get_length(bufferevent_get_output(l->io));
    if (l->io != l->bev) /* TLS: what the filter encrypted, not yet sent */
        n += evbuffer_get_length(bufferevent_get_output(l->bev));
    return n;
}

size_t aempi_link_host_unsent(const aemp_link_host *h)
{
    size_t n = 0;
    for (const aemp_link *l = h->links; l; l = l->next)
        if (l->io) /* not a link given away (aempi_link_take) */
            n += aempi_link_unsent(l);
    return n;
}

static int can_send(const aemp_link *l)
{
    if (l->state != LINK_DATA)
        return AEMP_ESTATE;
    return l->over_cap ? AEMP_ELIMIT : AEMP_OK;
}

static void close_over_cap(aemp_link *l)
{
    char why[96];
    snprintf(why, sizeof why, AEMP_SEND_CAP_FMT, l->host->set.max_send_queue);
    l->over_cap = 1;
    aempi_link_fail_soon(l, why);
}

/* Where a frame is encoded: a plain link in the data phase appends to
 * pend (transport_io.c writes it at the flush), other links encode into
 * scratch and hand it to their bufferevent. */
static aemp_buf *out_begin(aemp_link *l, size_t *mark)
{
    aemp_buf *b = l->direct ? &l->pend : &l->out;
    if (!l->direct)
        aempi_buf_reset(b);
    *mark = b->len;
    return b;
}

static int out_end(aemp_link *l, aemp_buf *b, size_t mark, int rc)
{
    if (rc) {
        b->len = mark; /* nothing of a frame that did not fit */
        return rc;     /* AEMP_ENOMEM, or AEMP_EINVAL: nested too deep */
    }
    /* pend holds the frame already; scratch does not count yet */
    size_t unsent = aempi_link_unsent(l) + (l->direct ? 0 : b->len);
    if (unsent > l->host->set.max_send_queue) {
        b->len = mark;
        close_over_cap(l);
        return AEMP_ELIMIT;
    }
    l->host->count.msgs_out[l->cbor_out]++;
    l->host->count.bytes_out[l->cbor_out] += b->len - mark;
    if (l->direct) {
        aempi_link_io_dirty(l);
        return AEMP_OK;
    }
    /* a TLS filter writes at once and may call back right here, inside
     * the program's aemp_snd: what those find must wait for the event
     * loop (no io_done from here) */
    aemp_link_host *h = l->host;
    h->io_depth++;
    int failed = bufferevent_write(l->io, b->p, b->len);
    h->io_depth--;
    return failed ? AEMP_EIO : AEMP_OK;
}

int aempi_link_send(aemp_link *l, const aemp_val *msg)
{
    int rc = can_send(l);
    if (rc)
        return rc;
    size_t mark;
    aemp_buf *b = out_begin(l, &mark);
    return out_end(l, b, mark,
                   l->cbor_out ? aempi_cbor_write(b, msg)
                               : aempi_json_write(b, msg, 0));
}

int aempi_link_send_items(aemp_link *l, const char *portid,
                          aemp_val *const *items, size_t n)
{
    int rc = can_send(l);
    if (rc)
        return rc;
    size_t mark;
    aemp_buf *b = out_begin(l, &mark);
    return out_end(l, b, mark,
                   l->cbor_out
                       ? aempi_cbor_write_frame_items(b, portid, items, n)
                       : aempi_json_write_frame_items(b, portid, items, n));
}

int aempi_link_send_to(aemp_link *l, const char *portid, const aemp_val *msg)
{
    return aempi_link_send_items(l, portid, aempi_array_items(msg),
                                 aemp_array_len(msg));
}

int aempi_link_send_cached(aemp_link *l, aemp_frame_cache *c,
                           const char *portid, const aemp_val *msg)
{
    int rc = can_send(l);
    if (rc)
        return rc;
    aemp_buf *enc = &c->enc[l->cbor_out ? 1 : 0];
    rc = enc->len ? AEMP_OK
         : l->cbor_out ? aempi_cbor_write_frame(enc, portid, msg)
                       : aempi_json_write_frame(enc, portid, msg);
    if (rc) {
        aempi_buf_reset(enc);
        return rc;
    }
    size_t mark;
    aemp_buf *b = out_begin(l, &mark);
    return out_end(l, b, mark, aempi_buf_append(b, enc->p, enc->len));
}

void aempi_frame_cache_free(aemp_frame_cache *c)
{
    aempi_buf_free(&c->enc[0]);
    aempi_buf_free(&c->enc[1]);
}

void aempi_link_host_each_up(aemp_link_host *h, aemp_link_visit_fn fn,
                             void *ud)
{
    for (aemp_link *l = h->links; l; l = l->next)
        if (l->state == LINK_DATA && !l->dataconn_id && l->remote_id)
            fn(ud, l->remote_id, l->s_framing, aempi_link_unsent(l));
}
