#!/usr/bin/perl
# A client of KV::Service (docs/services.md), the same against the Perl
# module and the C plugin: it finds the service in the database family
# "kv" (db_keys) and talks to it by cal.
#
#    kv_client.pl [-p PROFILE] get KEY
#    kv_client.pl [-p PROFILE] set KEY VALUE   (VALUE starting with [ { or "
#                                               is JSON, as for aemp)
#    kv_client.pl [-p PROFILE] subscribe N     (prints "subscribed", then
#                                               the first N changes)
#    kv_client.pl [-p PROFILE] subscribers
#
# Each answer is printed as one line of JSON. PROFILE (default kvclient)
# is the rc profile to configure with: its seeds lead to the service.
use strict;
use warnings;

use AnyEvent;
use AnyEvent::MP;
use JSON::PP;

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;
my $profile = "kvclient";
(undef, $profile) = splice @ARGV, 0, 2 if @ARGV > 1 && $ARGV[0] eq "-p";
my ($cmd, @args) = @ARGV;
$cmd && $cmd =~ /^(?:get|set|subscribe|subscribers)\z/
   or die "usage: kv_client.pl [-p PROFILE] get KEY | set KEY VALUE | subscribe N | subscribers\n";

$| = 1;
configure profile => $profile;

my $done = AE::cv;
my $give_up = AE::timer 10, 0, sub { warn "kv_client: no answer from a kv service\n"; $done->send(1) };

sub answer { print $JSON->encode($_[0]), "\n"; $done->send(0) }

sub run {
   my ($service) = @_;
   if ($cmd eq "get") {
      cal $service, get => $args[0], sub { answer($_[0]) };
   } elsif ($cmd eq "set") {
      my $v = $args[1] =~ /^[\[\{"]/ ? $JSON->decode($args[1]) : $args[1];
      cal $service, set => $args[0], $v, sub { answer($_[0]) };
   } elsif ($cmd eq "subscribers") {
      cal $service, subscribers => sub { answer($_[0]) };
   } else {
      my $left = $args[0] || 1;
      my $sub = port { };
      rcv $sub, changed => sub {
         print $JSON->encode([@_]), "\n";
         $done->send(0) unless --$left;
      };
      undef $give_up; # changes come when they come
      cal $service, subscribe => $sub, sub { print "subscribed\n" };
   }
}

# the service registers itself in "kv"; ask until it is there
my $ask; $ask = sub {
   db_keys kv => sub {
      my ($ports) = @_;
      return run($ports->[0]) if $ports && @$ports;
      my $w; $w = AE::timer 0.2, 0, sub { undef $w; $ask->() };
   };
};
$ask->();

exit $done->recv;
