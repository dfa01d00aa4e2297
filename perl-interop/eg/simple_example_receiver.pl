#!/usr/bin/perl
# AnyEvent::MP 1.30's eg/simple_example_receiver in 2.x style, a fixture
# of the interop suite and the twin of compat/examples/
# simple_example_receiver.c: grp_reg became db_reg. configure without
# arguments: the rc file decides. ($| = 1 is ours: a test reads the pipe.)

use AnyEvent;
use AnyEvent::MP;

configure;

$| = 1;

my $port = port;

db_reg eg_receivers => $port;

rcv $port, test => sub {
   my ($data, $reply_port) = @_;

   print "Received data: " . $data . "\n";
};

AnyEvent->condvar->recv;
