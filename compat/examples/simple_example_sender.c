/* simple_example_sender: AnyEvent::MP's eg/simple_example_sender, ported
 * line by line with libaemp_compat, in 2.x style: grp_get became a db_mon
 * that keeps the family's ports at hand. Every second, every receiver
 * gets ("test", time). configure without arguments: the rc file decides.
 *
 *    configure;
 *    my $ports = [];
 *    my $receivers = db_mon eg_receivers => sub {
 *       $ports = [keys %{ $_[0] }];
 *    };
 *    my $find_timer = AnyEvent->timer (after => 0, interval => 1, cb => sub {
 *       @$ports or return;
 *       snd $_, test => time for @$ports;
 *    });
 *    AnyEvent->condvar->recv;
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "aemp_compat.h"

static aemp_val *ports; /* the receivers' ports: the family's keys */

static int on_receivers(const aemp_val *args, void *ud)
{
    (void)ud;
    const aemp_val *family = aemp_array_at(args, 0);

    aemp_unref(ports);
    ports = A();
    for (size_t i = 0; i < aemp_map_len(family); i++)
        aemp_array_push(ports, S(aemp_map_key_at(family, i, NULL)));
    return 0;
}

/* AnyEvent->timer with an interval: after() again, each time */
static int find_timer(const aemp_val *args, void *ud)
{
    (void)args;
    (void)ud;
    after(1, find_timer, NULL);

    for (size_t i = 0; i < aemp_array_len(ports); i++)
        snd(aemp_str_ptr(aemp_array_at(ports, i), NULL), S("test"),
            I(time(NULL)));
    return 0;
}

int main(void)
{
    if (configure()) {
        fprintf(stderr, "configure: %s\n", aemp_compat_errmsg());
        return 1;
    }

    db_mon("eg_receivers", on_receivers, NULL);

    after(0, find_timer, NULL);

    aemp_compat_loop();
    aemp_unref(ports);
    aemp_compat_destroy();
    return 0;
}
