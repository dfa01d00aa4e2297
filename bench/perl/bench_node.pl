#!/usr/bin/perl
# bench_node.pl: the Perl side of the benchmark harness (bench/run), a real
# AnyEvent::MP node doing what aemp-bench does in C, with the same
# arguments and the same events (see bench/bench.h):
#
#   bench_node.pl MODE ARGS-AS-JSON-OBJECT
#
#   sink    counts ["d", ...] on NODE#data: a tight rcv callback that
#           counts, acking every ack_every messages; ["end"] reports
#   source  sends ["d", PAYLOAD] to "to" within a credit window for
#           "duration" seconds, then ["end"]
#   echo    ["p", REPLYPORT, SEQ] on NODE#echo -> ["r", SEQ]
#   ping    one ping in flight for "duration" seconds: RTT percentiles
#   node    configure and stay (an idle node, a seed when conf's seeds
#           hold its own address, or a hub counting messages)
#
# The node exits when stdin reaches end of file and after "timeout"
# seconds.
use strict;
use warnings;

BEGIN { eval { require EV } } # AnyEvent's fastest loop where installed
use AnyEvent;
use AnyEvent::MP;
use AnyEvent::MP::Kernel;
use JSON::XS;
use Time::HiRes ();

$| = 1;
my $json = JSON::XS->new->utf8->allow_nonref;

sub emit { print $json->encode([@_]), "\n" }
sub now() { Time::HiRes::clock_gettime(Time::HiRes::CLOCK_MONOTONIC()) }

my ($mode, $argv) = @ARGV;
my $args = $json->decode($argv // "{}");

configure %{ $args->{conf} || {} };

my $stdin = AE::io \*STDIN, 0, sub { sysread STDIN, my $buf, 256 or exit 0 };
my $deadline = AE::timer $args->{timeout} // 60, 0, sub {
   warn "bench_node.pl: timeout\n";
   exit 2;
};
my %keep; # watchers

my %mode;

$mode{sink} = sub {
   my $ack = $args->{ack};
   my $every = $args->{ack_every} || 1024;
   my ($n, $first) = (0);
   rcv "$NODE#data",
      d => sub {
         $first = now unless $n;
         snd $ack, a => $n unless ++$n % $every;
      },
      end => sub {
         my $secs = now - $first;
         emit result => { count => $n, seconds => $secs,
                          rate => $n > 1 && $secs > 0 ? ($n - 1) / $secs : 0 };
         $n = 0;
      };
};

$mode{source} = sub {
   my $to = $args->{to};
   my ($to_node) = split /#/, $to;
   my $window = $args->{window} || 8192;
   my $duration = $args->{duration} // 2.5;
   my $payload = "x" x (($args->{size} // 30) - 8); # ["d","xxx"]: size bytes
   my ($sent, $acked, $start, $ended) = (0, 0);

   my $fill = sub {
      while ($sent - $acked < $window) {
         snd $to, d => $payload;
         ++$sent;
      }
   };
   rcv "$NODE#ack", a => sub {
      $acked = $_[0];
      return if $ended;
      if (now - $start >= $duration) {
         $ended = 1;
         snd $to, "end";
         emit sent => { sent => $sent, seconds => now - $start };
      } else {
         $fill->();
      }
   };
   $keep{poll} = AE::timer 0, 0.002, sub {
      node_is_up $to_node or return;
      delete $keep{poll};
      $start = now;
      $fill->();
   };
};

$mode{echo} = sub {
   rcv "$NODE#echo", p => sub { snd $_[0], r => $_[1] };
};

$mode{ping} = sub {
   my $to = $args->{to};
   my ($to_node) = split /#/, $to;
   my $warmup = $args->{warmup} // 0.3;
   my $duration = $args->{duration} // 2;
   my $reply = "$NODE#pong";
   my ($seq, $start, $sent_at, $done, @rtt) = (0);
   my $send = sub {
      $sent_at = now;
      snd $to, p => $reply, ++$seq;
   };
   rcv $reply, r => sub {
      my $now = now;
      return if $done || $_[0] != $seq;
      push @rtt, ($now - $sent_at) * 1e6 if $now - $start >= $warmup;
      if ($now - $start < $warmup + $duration) {
         $send->();
         return;
      }
      $done = 1;
      @rtt = sort { $a <=> $b } @rtt;
      my $pct = sub { @rtt ? $rtt[int($_[0] * $#rtt)] : 0 };
      my $sum = 0;
      $sum += $_ for @rtt;
      emit result => { count => scalar @rtt, p50 => $pct->(0.5),
                       p90 => $pct->(0.9), p99 => $pct->(0.99),
                       max => @rtt ? $rtt[-1] : 0,
                       mean => @rtt ? $sum / @rtt : 0 };
   };
   $keep{poll} = AE::timer 0, 0.002, sub {
      node_is_up $to_node or return;
      delete $keep{poll};
      $start = now;
      $send->();
   };
};

# with "expect": counts messages on NODE#sink, reports ["count", N] once
# it has that many; with "report_master": ["master", ID] once it has one
$mode{node} = sub {
   if (my $expect = $args->{expect}) {
      my $n = 0;
      rcv "$NODE#sink", sub { emit count => $n if ++$n == $expect };
   }
   if ($args->{report_master}) {
      $keep{master} = AE::timer 0, 0.005, sub {
         my $m = $AnyEvent::MP::Kernel::MASTER // return;
         delete $keep{master};
         emit master => $m;
      };
   }
};

($mode{$mode || ""} or die "bench_node.pl: unknown mode " . ($mode // "") . "\n")->();

emit ready => $NODE, $AnyEvent::MP::Kernel::BINDS, AnyEvent::detect;
AE::cv->recv;
