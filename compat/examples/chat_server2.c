/* chat_server2: AnyEvent::MP's eg/chat_server2 (the "bridge head" chat
 * server), ported line by line with libaemp_compat, in 2.x style. The
 * server is only a function: a client spawns a port on this node with
 * "::client_connect", the name the Perl server's main::client_connect
 * answers to, so C and Perl clients and servers mix freely. configure
 * without arguments: the rc file decides the node's seeds and binds.
 *
 *    configure;
 *    db_set eg_chat_server2 => $NODE;
 *    my %clients;
 *    sub msg {
 *       print "relaying: $_[0]\n";
 *       snd $_, $_[0]
 *          for values %clients;
 *    }
 *    sub client_connect {
 *       my ($client, $nick) = @_;
 *       mon $client;
 *       mon $client, sub {
 *          delete $clients{$client};
 *          msg "$nick (quits, @_)";
 *       };
 *       $clients{$client} = $client;
 *       msg "$nick (joins)";
 *       rcv $SELF, sub { msg "$nick: $_[0]" };
 *    }
 *    warn "server ready.\n";
 *    AE::cv->recv;
 *
 * grp_reg eg_chat_server2 => $NODE became db_set, as MP/Intro.pod has it
 * for 2.x: the node port lives as long as the node, so there is nothing
 * for db_reg to watch.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "aemp_compat.h"

/* What Perl's closures in client_connect hold: the client's port and
 * nick. Two callbacks use it (the client's monitor and $SELF's rcv), so
 * it goes when both are done with it. */
typedef struct client {
    char *port;
    char *nick;
    int refs;
    struct client *next; /* in %clients */
} client;

static client *clients;

static void client_unref(void *data)
{
    client *c = data;
    if (--c->refs)
        return;
    free(c->port);
    free(c->nick);
    free(c);
}

static void msg(const char *text)
{
    printf("relaying: %s\n", text);
    fflush(stdout);
    for (client *c = clients; c; c = c->next)
        snd(c->port, S(text));
}

/* msg "...": Perl's interpolation is a printf here */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void msgf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *text = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (text) {
        va_start(ap, fmt);
        vsnprintf(text, (size_t)len + 1, fmt, ap);
        va_end(ap);
        msg(text);
    }
    free(text);
}

/* mon $client, sub { delete $clients{$client}; msg "$nick (quits, @_)" } */
static int on_quit(const aemp_val *args, void *ud)
{
    client *c = ud;
    for (client **p = &clients; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    char *reason = join(" ", args);
    msgf("%s (quits, %s)", c->nick, reason ? reason : "");
    free(reason);
    client_unref(c);
    return 0;
}

/* rcv $SELF, sub { msg "$nick: $_[0]" } */
static int on_line(const aemp_val *args, void *ud)
{
    client *c = ud;
    char *line = str_of(aemp_array_at(args, 0));
    msgf("%s: %s", c->nick, line ? line : "");
    free(line);
    return 0;
}

static int client_connect(const aemp_val *args, void *ud)
{
    (void)ud;
    client *c = calloc(1, sizeof *c); /* my ($client, $nick) = @_ */
    if (!c)
        return die("out of memory");
    c->refs = 1;
    if (!(c->port = str_of(aemp_array_at(args, 0)))
        || !(c->nick = str_of(aemp_array_at(args, 1)))) {
        client_unref(c);
        return die("out of memory");
    }

    mon_kil(c->port, SELF);           /* mon $client; */
    mon(c->port, on_quit, c);         /* mon $client, sub { ... }; */

    c->next = clients;                /* $clients{$client} = $client; */
    clients = c;

    msgf("%s (joins)", c->nick);

    rcv(SELF, NULL, on_line, c);      /* rcv $SELF, sub { ... }; */
    c->refs++;
    mon_guard(SELF, client_unref, c); /* ... which holds $nick */
    return 0;
}

int main(void)
{
    if (configure()) {
        fprintf(stderr, "configure: %s\n", aemp_compat_errmsg());
        return 1;
    }

    db_set("eg_chat_server2", NODE);

    sub("::client_connect", client_connect, NULL);

    fprintf(stderr, "server ready.\n");

    aemp_compat_loop();
    aemp_compat_destroy();
    return 0;
}
