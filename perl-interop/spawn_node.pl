#!/usr/bin/perl
# spawn_node.pl: a real AnyEvent::MP node for the spawn, cal and secure
# scenarios, the twin of spawn_node.c: the same JSON-line commands on
# stdin, the same events on stdout (the list is at the top of
# spawn_node.c). The functions other nodes call are plain subs here.
use strict;
use warnings;

use AnyEvent;
use AnyEvent::Handle;
use AnyEvent::MP;
use AnyEvent::MP::Kernel;
use AnyEvent::MP::DataConn;
use JSON::XS;

$| = 1;
my $json = JSON::XS->new->utf8->allow_nonref;

sub emit { print $json->encode([@_]), "\n" }

my $args = $json->decode(shift @ARGV // "{}");
configure %$args;

# ---- the functions ------------------------------------------------------------

sub Interop::Spawn::init {
   my ($peer, @x) = @_;
   emit init => $SELF, $peer, @x;
   rcv $SELF,
      echo => sub {
         my ($reply, @y) = @_;
         snd $reply, echoed => @y;
      },
      die => sub { die "$_[0]\n" };
   mon $peer; # kills $SELF when $peer dies abnormally
   my $self = $SELF;
   mon $SELF, sub { emit died => $self, @_ };
}

sub Interop::Func::add {
   my $reply = pop;
   emit func => add => @_;
   my $sum = 0;
   $sum += $_ for @_;
   snd $reply, $sum;
}

sub Interop::Func::note {
   emit func => note => @_;
}

my %dc_ends; # keeps each data connection end until the other closes it

sub dc_start {
   my ($hdl, $tag, $hello) = @_;
   $dc_ends{$hdl} = $hdl;
   $hdl->on_error(sub { delete $dc_ends{$hdl} });
   $hdl->push_write($hello);
   $hdl->push_read(line => sub { emit dc_line => $tag, $_[1] });
}

sub Interop::DataConn::init {
   my $hdl = pop;
   emit dc_init => @_;
   dc_start($hdl, "init", "hello from init\n");
}

# ---- commands -------------------------------------------------------------------

my %cmd = (
   ping => sub { emit pong => $_[0] },
   port => sub {
      my ($name) = @_;
      rcv "$NODE#$name", sub { emit rcv => $name, @_ };
   },
   snd => sub { snd @_ },
   kil => sub { kil @_ },
   mon => sub {
      my ($port, $tag) = @_;
      mon $port, sub { emit mon => $tag, @_ };
   },
   spawn => sub {
      my ($tag, $node, $init, @args) = @_;
      emit spawned => $tag, spawn $node, $init, @args;
   },
   spawn_mon => sub {
      my ($tag, $node, $init, @args) = @_;
      my $port = spawn $node, $init, @args;
      mon $port, sub { emit mon => $tag, @_ };
      emit spawned => $tag, $port;
   },
   cal => sub {
      my ($tag, $port, $timeout, @msg) = @_;
      cal $port, @msg, sub { emit cal => $tag, @_ }, $timeout;
   },
   func => sub {
      my ($node, $name, @args) = @_;
      AnyEvent::MP::Kernel::snd_to_func $node, $name, @args;
   },
   dataconn => sub {
      my ($tag, $node, $timeout, $init, @data) = @_;
      # connect_to wants a port context: its errors kill that port
      my $port = port;
      mon $port, sub { emit dc_error => $tag, join " ", map $_ // "undef", @_ };
      peval $port, sub {
         AnyEvent::MP::DataConn::connect_to $node, $timeout, $init, @data, sub {
            emit dc_connected => $tag;
            dc_start($_[0], $tag, "hello from connect $tag\n");
         };
      };
   },
   # where 2.02's connect_to looks for listeners (1.x's Global filled it)
   global_addr => sub {
      no warnings "once";
      emit global_addr => [sort keys %AnyEvent::MP::Global::addr];
   },
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
