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
use Socket qw(SOL_SOCKET SO_LINGER);

$| = 1;
my $json = JSON::XS->new->utf8->allow_nonref;
my $canon = JSON::XS->new->utf8->allow_nonref->canonical;

sub emit { print $json->encode([@_]), "\n" }

my $args = $json->decode(shift @ARGV // "{}");
configure %$args;

mon_nodes sub { emit node => $_[0], $_[1] ? 1 : 0, @_[2 .. $#_] };

# the churn sink (as interop_churn.c): AEMP_INTEROP_SINK=NAME=FILE
if (($ENV{AEMP_INTEROP_SINK} // "") =~ /^([^=]+)=(.+)\z/) {
   my $file = $2;
   open my $sink, ">>", $file or die "$file: $!";
   rcv "$NODE#$1", sub { syswrite $sink, "$_[0]\n" };
}

# the floods (as interop_churn.c), by name
my %flood;

sub flood_monitor {
   my ($f) = @_;
   $f->{guard} = mon $f->{port}, sub {
      emit flood_mon => $f->{name}, $f->{next} - 1, @_;
      flood_monitor($f) if $f->{timer};
   };
}

my %keep;

# the database commands keep their guards here, by name
my (%db_guard, %db_mon);

sub sorted_keys { [sort @{ $_[0] || [] }] }
sub sorted_values {
   [map $_->[1], sort { $a->[0] cmp $b->[0] } map [$canon->encode($_), $_], @{ $_[0] || [] }]
}

sub db_query {
   my ($op, $func, $sort) = @_;
   sub {
      my ($tag, $family) = @_;
      $func->($family, sub { emit $op => $tag, $sort ? $sort->($_[0]) : $_[0] });
   }
}

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

   db_set => sub {
      my ($name, $family, $key, $value) = @_;
      $db_guard{$name} = db_set $family, $key, $value;
   },
   db_release => sub { delete $db_guard{$_[0]} },
   db_del => sub {
      my ($family, @keys) = @_;
      db_del $family, @keys; # (db_del @_ would pass scalar @_: prototype $@)
   },
   db_reg => sub {
      my ($name, $family, $port, $value) = @_;
      $db_guard{$name} = db_reg $family, "$NODE#$port", $value;
   },
   db_mon => sub {
      my ($name, $family) = @_;
      $db_mon{$name} = db_mon $family, sub {
         my ($db, $added, $changed, $deleted) = @_; # missing ones: []
         emit db_mon => $name, $db, sorted_keys($added), sorted_keys($changed),
            sorted_keys($deleted);
      };
   },
   db_unmon => sub { delete $db_mon{$_[0]} },
   db_family => db_query(db_family => \&db_family),
   db_keys => db_query(db_keys => \&db_keys, \&sorted_keys),
   db_values => db_query(db_values => \&db_values, \&sorted_values),
   master => sub { emit master => $AnyEvent::MP::Kernel::MASTER },
   quit => sub { exit 0 },

   # Perl's timers do not run on every turn: USEC must be above 0 here
   flood => sub {
      my ($name, $port, $usec) = @_;
      my $f = $flood{$name} = { name => $name, port => $port, next => 0 };
      flood_monitor($f);
      $f->{timer} = AE::timer 0, $usec / 1e6, sub { snd $port, $f->{next}++ };
   },
   flood_stop => sub {
      my $f = $flood{$_[0]};
      delete $f->{timer};
      delete $f->{guard};
      emit flood_stopped => $f->{name}, $f->{next} - 1;
   },
   # (perl_node.pl only) the link to NODEID is reset from this side: the
   # socket is closed at once, what it had not read is lost
   reset => sub {
      my ($id) = @_;
      my $tp = $AnyEvent::MP::Kernel::NODE{$id} && $AnyEvent::MP::Kernel::NODE{$id}{transport}
         or return emit error => "no link to $id";
      my $fh = $tp->{hdl}{fh};
      setsockopt $fh, SOL_SOCKET, SO_LINGER, pack "ii", 1, 0;
      $tp->error ("reset by the test");
      close $fh;
   },
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
