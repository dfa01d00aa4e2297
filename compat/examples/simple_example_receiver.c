/* simple_example_receiver: AnyEvent::MP's eg/simple_example_receiver,
 * ported line by line with libaemp_compat, in 2.x style: grp_reg became
 * db_reg. Like the original it calls configure without arguments, so the
 * rc file decides the node's seeds and binds. Start a seed, then this and
 * simple_example_sender (C or Perl: perl-interop/eg/ has the Perl ones).
 *
 *    configure;
 *    my $port = port;
 *    db_reg eg_receivers => $port;
 *    rcv $port, test => sub {
 *       my ($data, $reply_port) = @_;
 *       print "Received data: " . $data . "\n";
 *    };
 *    AnyEvent->condvar->recv;
 */
#include <stdio.h>
#include <stdlib.h>

#include "aemp_compat.h"

static int on_test(const aemp_val *args, void *ud)
{
    (void)ud;
    char *data = str_of(aemp_array_at(args, 0)); /* my ($data) = @_ */

    printf("Received data: %s\n", data ? data : "");
    fflush(stdout); /* someone may be reading a pipe */
    free(data);
    return 0;
}

int main(void)
{
    if (configure()) {
        fprintf(stderr, "configure: %s\n", aemp_compat_errmsg());
        return 1;
    }

    char *port = port();

    db_reg("eg_receivers", port);

    rcv(port, "test", on_test, NULL);

    aemp_compat_loop();
    free(port);
    aemp_compat_destroy();
    return 0;
}
