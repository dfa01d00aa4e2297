#!/usr/bin/perl
# AnyEvent::MP 1.30's eg/simple_example_sender in 2.x style, a fixture of
# the interop suite and the twin of compat/examples/simple_example_sender.c:
# grp_get became a db_mon that keeps the family's ports at hand.

use AnyEvent;
use AnyEvent::MP;

configure;

my $ports = [];
my $receivers = db_mon eg_receivers => sub {
   $ports = [keys %{ $_[0] }];
};

my $find_timer =
   AnyEvent->timer (after => 0, interval => 1, cb => sub {
      @$ports
         or return;

      snd $_, test => time
         for @$ports;
   });

AnyEvent->condvar->recv;
