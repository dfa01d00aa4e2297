# bench/run's anchors: what libaemp's figures are measured against, on the
# same machine in the same run. Each is measured when its programs are
# there and is undef (null in the JSON) when not:
#
#   zmq      ZeroMQ PUSH/PULL one way (msgs/s at the puller, SNDHWM =
#            RCVHWM = the bench's window) and REQ/REP round trips, by
#            aemp-bench-zmq (built when meson finds libzmq)
#   erlang   two Erlang/OTP nodes, distribution on loopback: a credit
#            window with acks as aemp-bench's, and ping-pong round trips
#            (bench/erlang/aemp_bench.erl, compiled into the temporary
#            directory; needs erl and erlc)
#   scan     the same frames as a libaemp source sends, read from a
#            loopback socket and scanned for frame boundaries only, by
#            aemp-bench-scan: the ceiling for any receiver of a framing
#
# The harness hands in what it has (see new): starting children, pinning
# them to a CPU, its settings.
package AempBenchAnchors;

use strict;
use warnings;

use Time::HiRes qw(sleep);

# $h: { spawn => CODE(name, @cmd), stop => CODE(children...),
#       alive => CODE(child), on_cpu => CODE(cpu, @cmd) -> @cmd,
#       free_port => CODE, build => DIR, top => DIR, tmp => DIR,
#       cookie => STRING, settings => HASH }
sub new {
   my ($class, $h) = @_;
   my $self = bless { %$h, nodes => 0 }, $class;
   my $b = "$h->{build}/bench";
   $self->{zmq_prog} = -x "$b/aemp-bench-zmq" ? "$b/aemp-bench-zmq" : undef;
   $self->{scan_prog} = -x "$b/aemp-bench-scan" ? "$b/aemp-bench-scan" : undef;
   $self
}

sub have_zmq { $_[0]{zmq_prog} }
sub have_scan { $_[0]{scan_prog} }

# libzmq's version, for the JSON's meta
sub zmq_version {
   my $v = `pkg-config --modversion libzmq 2>/dev/null` // "";
   chomp $v;
   $v eq "" ? undef : $v
}

sub json_args { JSON::PP->new->canonical->encode($_[0]) }

sub prog {
   my ($self, $cpu, $name, $prog, $mode, $args) = @_;
   $self->{spawn}->($name, $self->{on_cpu}->($cpu, $prog, $mode,
                                             json_args({ timeout => 60, %$args })))
}

# ---- ZeroMQ ------------------------------------------------------------------

# PUSH/PULL, size-byte messages for the throughput duration: msgs/s at
# the puller and its CPU per message (its I/O thread included)
sub zmq_throughput {
   my ($self, $size, $hwm) = @_;
   return undef unless $self->{zmq_prog};
   my $S = $self->{settings};
   my $pull = $self->prog(1, "zmq-pull", $self->{zmq_prog}, pull => { hwm => $hwm });
   my $port = $pull->expect("ready", 20)->[1];
   my $push = $self->prog(0, "zmq-push", $self->{zmq_prog}, push => {
      port => $port, hwm => $hwm, size => $size, duration => $S->{duration} });
   my $res = $pull->expect("result", $S->{duration} + 20)->[1];
   $self->{stop}->($push, $pull);
   $res
}

# REQ/REP, one request in flight: p50 and p99 in us
sub zmq_latency {
   my ($self) = @_;
   return undef unless $self->{zmq_prog};
   my $S = $self->{settings};
   my $rep = $self->prog(1, "zmq-rep", $self->{zmq_prog}, rep => {});
   my $port = $rep->expect("ready", 20)->[1];
   my $req = $self->prog(0, "zmq-req", $self->{zmq_prog}, req => {
      port => $port, warmup => $S->{lat_warmup}, duration => $S->{lat_dur} });
   my $res = $req->expect("result", $S->{lat_warmup} + $S->{lat_dur} + 20)->[1];
   $self->{stop}->($req, $rep);
   $res
}

# ---- Erlang ------------------------------------------------------------------

# erl and erlc on PATH and the module compiled; once per run
sub have_erlang {
   my ($self) = @_;
   return $self->{erlang} if exists $self->{erlang};
   $self->{erlang} = undef;
   for (qw(erl erlc epmd)) { return undef unless which($_) }
   my $dir = "$self->{tmp}/erlang";
   mkdir $dir;
   my $src = "$self->{top}/bench/erlang/aemp_bench.erl";
   if (system("erlc -o \Q$dir\E \Q$src\E >\Q$dir/erlc.log\E 2>&1") != 0) {
      warn "bench: erlc failed, Erlang figures are null:\n" . main::slurp("$dir/erlc.log");
      return undef;
   }
   my $otp = `erl -noshell -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().' 2>/dev/null`;
   $self->{otp} = $otp =~ /^(\w+)$/ ? $1 : undef;
   $self->{erlang} = $dir;
}

sub otp_release { $_[0]{otp} }

sub which {
   my ($p) = @_;
   -x "$_/$p" and return "$_/$p" for split /:/, $ENV{PATH} // "";
   undef
}

# our own epmd on a free port (ERL_EPMD_PORT for the nodes we start), so
# that no other Erlang on the machine is touched; started again if the
# harness's clean-up took it
sub epmd {
   my ($self) = @_;
   return if $self->{epmd} && $self->{alive}->($self->{epmd});
   my $port = $self->{free_port}->();
   $ENV{ERL_EPMD_PORT} = $port;
   $self->{epmd} = $self->{spawn}->("epmd", "epmd", "-port", $port);
   for (1 .. 100) {
      last if IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port);
      sleep 0.02;
   }
}

sub erl {
   my ($self, $cpu, $role, @args) = @_;
   my $name = sprintf "aemp%s%d", $role, ++$self->{nodes};
   my $child = $self->{spawn}->("erl-$role", $self->{on_cpu}->($cpu,
      "erl", "-noinput", "-name", "$name\@127.0.0.1", "-setcookie", $self->{cookie},
      "-start_epmd", "false", "-kernel", "inet_dist_use_interface", "{127,0,0,1}",
      "-pa", $self->{erlang}, "-run", "aemp_bench", $role, @args, 60));
   ($child, "$name\@127.0.0.1")
}

# {d, Payload} to a registered sink, credit window and acks as aemp-bench
sub erlang_throughput {
   my ($self, $size, $every, $window) = @_;
   return undef unless $self->have_erlang;
   $self->epmd;
   my $S = $self->{settings};
   my ($sink, $sname) = $self->erl(1, sink => $every);
   $sink->expect("ready", 20);
   my ($src) = $self->erl(0, source => $sname, $size, $window,
                          int(1000 * $S->{duration}));
   my $res = $sink->expect("result", $S->{duration} + 30)->[1];
   $self->{stop}->($src, $sink);
   $res
}

sub erlang_latency {
   my ($self) = @_;
   return undef unless $self->have_erlang;
   $self->epmd;
   my $S = $self->{settings};
   my ($echo, $ename) = $self->erl(1, "echo");
   $echo->expect("ready", 20);
   my ($ping) = $self->erl(0, ping => $ename, int(1000 * $S->{lat_warmup}),
                           int(1000 * $S->{lat_dur}));
   my $res = $ping->expect("result", $S->{lat_warmup} + $S->{lat_dur} + 30)->[1];
   $self->{stop}->($ping, $echo);
   $res
}

# ---- the scanning ceiling ------------------------------------------------------

# framing "cbor" or "json": frames/s the reader scanned, its CPU per frame
sub scan {
   my ($self, $framing, $size) = @_;
   return undef unless $self->{scan_prog};
   my $S = $self->{settings};
   my $rd = $self->prog(1, "scan-read", $self->{scan_prog}, scanread => { framing => $framing });
   my $port = $rd->expect("ready", 20)->[1];
   my $wr = $self->prog(0, "scan-write", $self->{scan_prog}, scanwrite => {
      port => $port, framing => $framing, size => $size,
      duration => $S->{scan_duration} });
   my $res = $rd->expect("result", $S->{scan_duration} + 20)->[1];
   $self->{stop}->($wr, $rd);
   $res
}

1;
