/* The greeter of README.md ("A C node in a Perl network"), verbatim
 * below this comment: t/11_greeter.t checks that it is the README's code
 * and sends it what a peer can send. It reads the rc file for the
 * secret, seeds and binds. */
#include <aemp/aemp.h>
#include <event2/event.h>

static int on_hello(aemp_node *node, const char *port, const aemp_val *msg, void *ud)
{
    /* msg: ["hello", REPLYPORT, NAME] */
    aemp_sndv(node, aemp_str_ptr(aemp_array_at(msg, 1), NULL),
              aemp_str("hi"), aemp_copy(aemp_array_at(msg, 2)), NULL);
    return 0;
}

int main(void)
{
    struct event_base *base = event_base_new();
    aemp_node *node = aemp_node_new(base);
    aemp_val *args = aemp_map();           /* configure's arguments; */
    aemp_map_set(args, "nodeid", aemp_str("greeter"));  /* the rc file adds */
    if (aemp_node_configure(node, args, NULL))          /* secret, seeds... */
        return 1;
    aemp_unref(args);
    aemp_rcv(node, "greeter#hello", "hello", on_hello, NULL);
    event_base_dispatch(base);
}
