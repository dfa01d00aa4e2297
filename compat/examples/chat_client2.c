/* chat_client2: AnyEvent::MP's eg/chat_client2 (the "bridge head" chat
 * client), ported line by line with libaemp_compat, in 2.x style: grp_get
 * became a db_mon that keeps the server nodes at hand. The client spawns
 * its port on a server node with "::client_connect" (a Perl or a C
 * chat_server2) and sends it each line read from stdin.
 *
 * Usage: chat_client2 nickname
 *
 *    my $nick = shift;
 *    configure;
 *    $| = 1;
 *    my $port = port;
 *    my ($client, $server);
 *    my $servernodes = [];
 *    my $servers = db_mon eg_chat_server2 => sub {
 *       $servernodes = [keys %{ $_[0] }];
 *    };
 *    sub server_connect {
 *       @$servernodes
 *          or return after 1, \&server_connect;
 *       print "\rconnecting...\n";
 *       $client = port { print "\r  \r@_\n> " };
 *       mon $client, sub {
 *          print "\rdisconnected @_\n";
 *          &server_connect;
 *       };
 *       $server = spawn $servernodes->[0], "::client_connect", $client, $nick;
 *       mon $server, $client;
 *    }
 *    server_connect;
 *    my $w = AE::io 0, 0, sub {
 *       chomp (my $line = <STDIN>);
 *       print "> ";
 *       snd $server, $line
 *         if $server;
 *    };
 *    print "> ";
 *    AE::cv->recv;
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "aemp_compat.h"

static const char *nick;
static char *client, *server;
static aemp_val *servernodes; /* the family's keys: the server nodes */

static int server_connect(const aemp_val *args, void *ud);

static int on_servers(const aemp_val *args, void *ud)
{
    (void)ud;
    const aemp_val *family = aemp_array_at(args, 0);

    aemp_unref(servernodes);
    servernodes = A();
    for (size_t i = 0; i < aemp_map_len(family); i++)
        aemp_array_push(servernodes, S(aemp_map_key_at(family, i, NULL)));
    return 0;
}

/* port { print "\r  \r@_\n> " } */
static int on_message(const aemp_val *args, void *ud)
{
    (void)ud;
    char *text = join(" ", args);
    printf("\r  \r%s\n> ", text ? text : "");
    fflush(stdout);
    free(text);
    return 0;
}

/* mon $client, sub { print "\rdisconnected @_\n"; &server_connect } */
static int on_disconnect(const aemp_val *args, void *ud)
{
    char *reason = join(" ", args);
    printf("\rdisconnected %s\n", reason ? reason : "");
    fflush(stdout);
    free(reason);
    return server_connect(args, ud);
}

static int server_connect(const aemp_val *args, void *ud)
{
    (void)args;
    (void)ud;
    if (!aemp_array_len(servernodes)) {
        after(1, server_connect, NULL);
        return 0;
    }

    printf("\rconnecting...\n");
    fflush(stdout);

    free(client);
    client = port(on_message, NULL);
    mon(client, on_disconnect, NULL);

    free(server);
    server = spawn(aemp_str_ptr(aemp_array_at(servernodes, 0), NULL),
                   "::client_connect", S(client), S(nick));
    mon_kil(server, client);
    return 0;
}

/* AE::io on stdin: each line goes to the server. Perl's <STDIN> reads
 * a line; here read() and a buffer, since stdio's buffer would hide
 * lines from the event loop. */
static void on_stdin(evutil_socket_t fd, short what, void *ud)
{
    (void)what;
    static char buf[4096];
    static size_t len;
    ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
    if (n <= 0) { /* Perl would spin on EOF; stop reading instead */
        event_del(*(struct event **)ud);
        return;
    }
    len += (size_t)n;
    buf[len] = 0;
    char *nl;
    while ((nl = strchr(buf, '\n'))) {
        *nl = 0;
        printf("> ");
        fflush(stdout);
        if (server)
            snd(server, S(buf));
        len -= (size_t)(nl + 1 - buf);
        memmove(buf, nl + 1, len + 1);
    }
    if (len == sizeof buf - 1) /* a line too long: dropped */
        len = 0;
}

int main(int argc, char **argv)
{
    nick = argc > 1 ? argv[1] : NULL; /* my $nick = shift; */

    if (configure()) {
        fprintf(stderr, "configure: %s\n", aemp_compat_errmsg());
        return 1;
    }

    char *port = port(); /* unused, as in the original */

    db_mon("eg_chat_server2", on_servers, NULL);

    server_connect(NULL, NULL);

    struct event *w;
    w = event_new(aemp_compat_base(), 0, EV_READ | EV_PERSIST, on_stdin, &w);
    event_add(w, NULL);

    printf("> ");
    fflush(stdout);
    aemp_compat_loop();
    event_free(w);
    free(port);
    free(client);
    free(server);
    aemp_unref(servernodes);
    aemp_compat_destroy();
    return 0;
}
