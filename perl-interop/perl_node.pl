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
use B ();
use Math::BigInt;

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

# Odd values (t/12_values.t) are made in Perl from JSON recipes, because
# only Perl makes them, and reported as JSON-safe descriptions:
#   {"cp": [HEX...]}      a string of those code points
#   {"bytes": HEX}        a byte string (no UTF-8 flag) of those octets
#   {"big": DIGITS}       a Math::BigInt
#   {"deep": N, "in": R}  R inside N arrays
#   {"hash": [[K, V]...]} a hash of recipes, in that order (later wins)
#   [R...]                an array; anything else is itself
sub odd_build {
   my ($r) = @_;
   ref $r eq "ARRAY" and return [map odd_build($_), @$r];
   ref $r eq "HASH" or return $r;
   exists $r->{cp} and return join "", map chr hex, @{ $r->{cp} };
   exists $r->{bytes} and return pack "H*", $r->{bytes};
   exists $r->{big} and return Math::BigInt->new($r->{big});
   if (exists $r->{deep}) {
      my $v = odd_build($r->{in});
      $v = [$v] for 1 .. $r->{deep};
      return $v;
   }
   my %h;
   $h{ odd_build($_->[0]) } = odd_build($_->[1]) for @{ $r->{hash} };
   \%h
}

# A value as Perl holds it: "big:DIGITS", "num:N", "str:" and the code
# points in hex, "[...]", "{KEY:VALUE,...}" sorted, "undef", "bool:0/1".
sub odd_describe {
   no warnings "recursion";
   my ($v) = @_;
   defined $v or return "undef";
   my $ref = ref $v;
   $ref eq "Math::BigInt" and return "big:" . $v->bstr;
   $ref =~ /Boolean/ and return "bool:" . ($v ? 1 : 0);
   $ref eq "ARRAY" and return "[" . join(",", map odd_describe($_), @$v) . "]";
   $ref eq "HASH" and return "{" . join(",", sort map odd_describe_str($_) . ":"
      . odd_describe($v->{$_}), keys %$v) . "}";
   my $flags = B::svref_2object(\$v)->FLAGS;
   return "num:$v" if $flags & (B::SVf_IOK | B::SVf_NOK) && !($flags & B::SVf_POK);
   odd_describe_str($v)
}

sub odd_describe_str {
   "str:" . join ".", map sprintf("%x", ord), split //, $_[0]
}

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
      }, wrap => sub { # one level deeper
         my ($reply, @x) = @_;
         snd $reply, wrapped => [@x];
      };
   },
   # ["odd", TAG, PORT, RECIPE...]: snd PORT, the values the recipes make;
   # reports ["odd", TAG, DESCRIPTION, ERROR]: what went, or why snd died
   odd => sub {
      my ($tag, $port, @recipes) = @_;
      my @v = map odd_build($_), @recipes;
      my $ok = eval { snd $port, @v; 1 };
      emit odd => $tag, odd_describe(\@v), $ok ? undef : "$@";
   },
   # a port that reports ["described", NAME, DESCRIPTION] of each message
   describe => sub {
      my ($name) = @_;
      rcv "$NODE#$name", sub { emit described => $name, odd_describe(\@_) };
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
   snd_on => sub { &AnyEvent::MP::Kernel::snd_on },
   eval_on => sub { &AnyEvent::MP::Kernel::eval_on },
   mon => sub {
      my ($port, $tag) = @_;
      $tag //= $port;
      mon $port, sub { emit mon => $tag, @_ };
   },
   kil => sub { kil @_ },
   nodes => sub { emit nodes => up_nodes },
   ping => sub { emit pong => $_[0] },
   log => sub { AE::log $_[1] => $_[0] }, # ["log", TEXT, LEVEL], context main

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
