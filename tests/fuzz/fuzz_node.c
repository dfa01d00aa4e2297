/* The socketpair harness of the node fuzz targets (fuzz_node.h). */
#include "fuzz_node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "aemp/node.h"
#include "kernel.h" /* the node's link host takes the socket */

/* The link's log lines are formatted as in real use (level 9: all of
 * them), then dropped; the one that says the handshake passed is noted. */
static void on_log(int level, const char *ctx, const char *msg, void *ud)
{
    (void)level;
    (void)ctx;
    fuzz_peer *p = ud;
    if (strstr(msg, " connected as " FUZZ_PEER_ID))
        p->up = 1;
}

static void on_read(struct bufferevent *bev, void *ud)
{
    (void)bev;
    (void)ud; /* the bytes wait in the input buffer for read_lines */
}

static void on_written(struct bufferevent *bev, void *ud)
{
    fuzz_peer *p = ud;
    if (p->closing)
        shutdown(bufferevent_getfd(bev), SHUT_WR);
}

static void on_event(struct bufferevent *bev, short what, void *ud)
{
    (void)bev;
    fuzz_peer *p = ud;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        p->closed = 1;
}

static void configure(fuzz_peer *p)
{
    aemp_val *args = aemp_map();
    aemp_map_set(args, "norc", aemp_int(1));
    aemp_map_set(args, "nodeid", aemp_str(FUZZ_NODE_ID));
    aemp_map_set(args, "secret", aemp_str(FUZZ_SECRET));
    aemp_map_set(args, "binds", aemp_array()); /* no listener */
    if (aemp_node_configure(p->node, args, NULL)) {
        fprintf(stderr, "configure: %s\n", aemp_node_errmsg(p->node));
        abort();
    }
    aemp_unref(args);
    aemp_node_set_log(p->node, 9, on_log, p);
}

void fuzz_peer_open(fuzz_peer *p)
{
    memset(p, 0, sizeof *p);
    int fd[2];
    p->base = event_base_new();
    p->node = p->base ? aemp_node_new(p->base) : NULL;
    if (!p->node || socketpair(AF_UNIX, SOCK_STREAM, 0, fd))
        abort();
    configure(p);
    evutil_make_socket_nonblocking(fd[0]);
    evutil_make_socket_nonblocking(fd[1]);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(4040);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (!aempi_link_accept(&p->node->transport, fd[0], (struct sockaddr *)&sa,
                           sizeof sa))
        abort();
    p->bev = bufferevent_socket_new(p->base, fd[1], BEV_OPT_CLOSE_ON_FREE);
    if (!p->bev)
        abort();
    bufferevent_setcb(p->bev, on_read, on_written, on_event, p);
    bufferevent_enable(p->bev, EV_READ | EV_WRITE);
}

void fuzz_peer_write(fuzz_peer *p, const void *data, size_t len)
{
    if (bufferevent_write(p->bev, data, len))
        abort();
}

int fuzz_peer_read_lines(fuzz_peer *p, int n, char **lines)
{
    struct evbuffer *in = bufferevent_get_input(p->bev);
    for (int i = 0; i < n; i++) {
        size_t len;
        while (!(lines[i] = evbuffer_readln(in, &len, EVBUFFER_EOL_LF))) {
            if (p->closed) {
                while (i--)
                    free(lines[i]);
                return -1;
            }
            event_base_loop(p->base, EVLOOP_ONCE);
        }
    }
    return 0;
}

void fuzz_peer_close(fuzz_peer *p)
{
    p->closing = 1;
    struct evbuffer *in = bufferevent_get_input(p->bev);
    if (!evbuffer_get_length(bufferevent_get_output(p->bev)))
        shutdown(bufferevent_getfd(p->bev), SHUT_WR);
    while (!p->closed) {
        event_base_loop(p->base, EVLOOP_ONCE);
        evbuffer_drain(in, evbuffer_get_length(in));
    }
    /* deliveries the frames queued run before the node goes */
    for (int i = 0; i < 8; i++)
        event_base_loop(p->base, EVLOOP_NONBLOCK);
    aemp_node_free(p->node);
    bufferevent_free(p->bev);
    event_base_free(p->base);
}
