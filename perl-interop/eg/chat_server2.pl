#!/usr/bin/perl
# AnyEvent::MP 1.30's eg/chat_server2 in 2.x style, a fixture of the
# interop suite and the twin of compat/examples/chat_server2.c: grp_reg
# became db_set, as MP/Intro.pod writes it for 2.x (the node port lives as
# long as the node). ($| = 1 is ours: a test reads the pipe.)

# Usage: ./chat_server
# implement a chat client using "bridge-head" methodology.

use common::sense;
use AnyEvent::MP;

configure;

$| = 1;

db_set eg_chat_server2 => $NODE;

my %clients;

sub msg {
   print "relaying: $_[0]\n";
   snd $_, $_[0]
      for values %clients;
}

sub client_connect {
   my ($client, $nick) = @_;

   mon $client;
   mon $client, sub {
      delete $clients{$client};
      msg "$nick (quits, @_)";
   };

   $clients{$client} = $client;

   msg "$nick (joins)";

   rcv $SELF, sub { msg "$nick: $_[0]" };
}

warn "server ready.\n";

AE::cv->recv;
