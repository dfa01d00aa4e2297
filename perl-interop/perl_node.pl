#!/usr/bin/perl
# perl_node.pl: a real AnyEvent::MP node driven line by line, speaking the
# same command language as interop_node (see interop_node.c): JSON arrays
# on stdin, events as JSON arrays on stdout.
use strict;
use warnings;

use AnyEvent;
use AnyEvent::Handle;
use AnyEvent::MP;
use AnyEvent::MP::Kernel;
use JSON::XS;

$| = 1;
my $json = JSON::XS->new->utf8->allow_nonref;

sub emit { print $json->encode([@_]), "\n" }

my $args = $json->decode(shift @ARGV // "{}");
configure %$args;

mon_nodes sub { emit node => $_[0], $_[1] ? 1 : 0, @_[2 .. $#_] };

my %keep;
my %cmd = (
   port => sub {
      my ($name) = @_;
      rcv "$NODE#$name", sub { emit rcv => $name, @_ };
   },
   echo => sub {
      my ($name) = @_;
      rcv "$NODE#$name", echo => sub {
         my ($reply, @x) = @_;
         snd $reply, echoed => @x;
      };
   },
   strict => sub {
      my ($name) = @_;
      my $port = port;
      rcv $port, echo => sub {
         my ($reply, @x) = @_;
         snd $reply, echoed => @x;
      };
      emit strict => $name, $port;
   },
   snd => sub { snd @_ },
   mon => sub {
      my ($port, $tag) = @_;
      $tag //= $port;
      mon $port, sub { emit mon => $tag, @_ };
   },
   kil => sub { kil @_ },
   nodes => sub { emit nodes => up_nodes },
   ping => sub { emit pong => $_[0] },
   quit => sub { exit 0 },
);

my $stdin; $stdin = AnyEvent::Handle->new(
   fh => \*STDIN,
   on_error => sub { exit 0 },
   on_eof => sub { exit 0 },
);
my $reader; $reader = sub {
   $stdin->push_read(line => sub {
      my $cmd = eval { $json->decode($_[1]) };
      if (ref $cmd eq "ARRAY" && $cmd{$cmd->[0]}) {
         my $op = shift @$cmd;
         $cmd{$op}->(@$cmd);
      } else {
         emit error => "unknown command: $_[1]";
      }
      $reader->();
   });
};
$reader->();

emit ready => $NODE, $AnyEvent::MP::Kernel::BINDS;
AE::cv->recv;
