#!/usr/bin/perl
# AnyEvent::MP 1.30's eg/chat_client2 in 2.x style, a fixture of the
# interop suite and the twin of compat/examples/chat_client2.c: grp_get
# became a db_mon that keeps the server nodes at hand.

# Usage: ./chat_client nickname optional-servernode
# implement a chat client using "bridge-head" methodology.

use common::sense;
use AnyEvent::MP;

my $nick = shift;

configure;

$| = 1;

my $port = port;

my ($client, $server);

my $servernodes = [];
my $servers = db_mon eg_chat_server2 => sub {
   $servernodes = [keys %{ $_[0] }];
};

sub server_connect {
   @$servernodes
      or return after 1, \&server_connect;

   print "\rconnecting...\n";

   $client = port { print "\r  \r@_\n> " };
   mon $client, sub {
      print "\rdisconnected @_\n";
      &server_connect;
   };

   $server = spawn $servernodes->[0], "::client_connect", $client, $nick;
   mon $server, $client;
}

server_connect;

my $w = AE::io 0, 0, sub {
   chomp (my $line = <STDIN>);
   print "> ";
   snd $server, $line
     if $server;
};

print "> ";
AE::cv->recv;
