package AempInterop;
# The interop harness: starts real AnyEvent::MP 2.x nodes (perl_node.pl)
# and C nodes (interop_node, caemp) on free loopback ports with a temporary
# rc file, drives them with JSON lines, and always cleans up: every child
# runs in its own process group, killed at exit and on signals.
use strict;
use warnings;

use Cwd qw(abs_path);
use Errno qw(EINTR);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(:sys_wait_h setsid);
use Time::HiRes qw(time sleep);

our $DIR = abs_path(dirname(__FILE__) . "/..");
our $TOP = abs_path("$DIR/..");
our $BUILD = abs_path($ENV{AEMP_BUILD} // "$TOP/build");
our $JSON = JSON::PP->new->utf8->canonical->allow_nonref;
our $TMP = tempdir("aemp-interop-XXXXXX", TMPDIR => 1, CLEANUP => 1);
our @CHILDREN;

# the rc file every node of a test reads unless told otherwise
$ENV{PERL_ANYEVENT_MP_RC} = "$TMP/rc";
write_rc({});

sub perl_aemp_version {
   my $v = `perl -MAnyEvent::MP -e 'print \$AnyEvent::MP::VERSION' 2>/dev/null`;
   return $? == 0 && $v =~ /^(\d+(?:\.\d+)?)/ ? $1 : undef;
}

# Test::More's plan: skip, saying why, without AnyEvent::MP 2.x or a build.
sub plan_or_skip {
   require Test::More;
   my $v = perl_aemp_version();
   if (!defined $v || $v < 2) {
      Test::More::plan(skip_all => "AnyEvent::MP 2.x is not installed: "
         . "the interop suite needs real Perl nodes");
   }
   -x "$BUILD/perl-interop/interop_node"
      or Test::More::plan(skip_all => "no build in $BUILD (set AEMP_BUILD)");
}

sub caemp { "$BUILD/tools/caemp/caemp" }

sub write_rc {
   my ($rc, $path) = @_;
   $path //= "$TMP/rc";
   open my $fh, ">", $path or die "$path: $!";
   print $fh $JSON->encode($rc);
   close $fh;
   $path
}

sub free_port {
   my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0,
                                 Listen => 1, ReuseAddr => 1)
      or die "no free port: $!";
   my $port = $s->sockport;
   close $s;
   $port
}

# Starts a child in its own process group with pipes to stdin and stdout;
# stderr goes to a log file.
sub spawn_child {
   my ($name, @cmd) = @_;
   pipe my $in_r, my $in_w or die "pipe: $!";
   pipe my $out_r, my $out_w or die "pipe: $!";
   my $log = "$TMP/$name.log";
   my $pid = fork // die "fork: $!";
   if (!$pid) {
      setsid();
      open STDIN, "<&", $in_r or die;
      open STDOUT, ">&", $out_w or die;
      open STDERR, ">>", $log or die;
      close $_ for $in_w, $out_r;
      exec @cmd or POSIX::_exit(127);
   }
   close $_ for $in_r, $out_w;
   $in_w->autoflush(1);
   push @CHILDREN, $pid;
   bless { name => $name, pid => $pid, in => $in_w, out => $out_r,
           buf => "", backlog => [], log => $log }, "AempInterop::Node";
}

# A node: kind "perl" or "c", configure arguments as a hash.
sub start_node {
   my ($kind, %args) = @_;
   my $name = $args{nodeid} // "node";
   my $argv = $JSON->encode(\%args);
   my $node = $kind eq "perl"
      ? spawn_child($name, $^X, "$DIR/perl_node.pl", $argv)
      : spawn_child($name, "$BUILD/perl-interop/interop_node", $argv);
   my $ready = $node->expect(sub { $_[0][0] eq "ready" }, 10)
      or die "$kind node $name did not start:\n" . $node->log_text;
   $node->{id} = $ready->[1];
   $node->{binds} = $ready->[2];
   $node
}

# A small network: a Perl seed, a Perl node "pnode" and a C node "cnode"
# sharing secret, and the rc file's profile "aemp" (what caemp commands
# use) joining it. Returns (seed, pnode, cnode, the seed's port).
sub seed_network {
   my ($secret) = @_;
   my $sport = free_port();
   my %net = (secret => $secret);
   my $seed = start_node(perl => nodeid => "seed", %net,
      binds => ["127.0.0.1:$sport"], seeds => ["127.0.0.1:$sport"]);
   my %member = (%net, binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$sport"]);
   my $pn = start_node(perl => nodeid => "pnode", %member);
   my $cn = start_node(c => nodeid => "cnode", %member);
   write_rc({ profile => { aemp => {
      seeds => ["127.0.0.1:$sport"], secret => $secret, binds => ["127.0.0.1:*"] } } });
   ($seed, $pn, $cn, $sport)
}

# Starts caemp in the background; finish_caemp waits for it.
sub start_caemp {
   my (@args) = @_;
   start_program(caemp(), @args)
}

# Starts any program in the background, in a process group of its own,
# its stdout and stderr to files; finish_caemp waits for it too.
my $bg_runs = 0;
sub start_program {
   my (@cmd) = @_;
   my $n = ++$bg_runs;
   my %run = (out => "$TMP/bg$n.out", err => "$TMP/bg$n.err");
   my $pid = fork // die "fork: $!";
   if (!$pid) {
      setsid();
      open STDIN, "<", "/dev/null";
      open STDOUT, ">", $run{out};
      open STDERR, ">", $run{err};
      exec @cmd or POSIX::_exit(127);
   }
   push @CHILDREN, $pid;
   $run{pid} = $pid;
   \%run
}

# Waits up to timeout seconds; returns (exit code or "timeout", stdout,
# stderr).
sub finish_caemp {
   my ($run, $timeout) = @_;
   my $deadline = time + $timeout;
   my $status;
   while (time < $deadline) {
      if (waitpid($run->{pid}, WNOHANG) == $run->{pid}) {
         # a death by a signal is not an exit status: "signal N", which
         # no test takes for 0
         $status = $? & 127 ? "signal " . ($? & 127) : $? >> 8;
         last;
      }
      sleep 0.05;
   }
   unless (defined $status) {
      kill KILL => -$run->{pid};
      waitpid $run->{pid}, 0;
      $status = "timeout";
   }
   ($status, slurp($run->{out}), slurp($run->{err}))
}

sub run_caemp {
   my ($timeout, @args) = @_;
   finish_caemp(start_caemp(@args), $timeout)
}

# Waits until a background caemp (start_caemp) has written a line to
# stdout that the predicate accepts, beyond the lines taken before; the
# line without its newline, or undef after timeout seconds.
sub expect_caemp_line {
   my ($run, $pred, $timeout) = @_;
   my $deadline = time + ($timeout // 10);
   $run->{lines_taken} //= 0;
   while (1) {
      my @lines = split /\n/, slurp($run->{out}) =~ s/[^\n]*\z//r;
      while ($run->{lines_taken} < @lines) {
         my $line = $lines[$run->{lines_taken}++];
         return $line if $pred->($line);
      }
      return undef if time >= $deadline;
      sleep 0.05;
   }
}

sub slurp {
   my ($f) = @_;
   open my $fh, "<", $f or return "";
   local $/;
   my $s = <$fh>;
   $s // ""
}

sub cleanup {
   local $?; # waitpid in END must not become the test's exit status
   for my $pid (@CHILDREN) {
      kill TERM => -$pid;
   }
   sleep 0.1 if @CHILDREN;
   for my $pid (@CHILDREN) {
      kill KILL => -$pid;
      waitpid $pid, 0;
   }
   @CHILDREN = ();
}

END { cleanup() }
$SIG{INT} = $SIG{TERM} = sub { cleanup(); exit 1 };

package AempInterop::Node;

use Time::HiRes qw(time);

sub id { $_[0]{id} }
sub binds { $_[0]{binds} }
sub port { "$_[0]{id}#$_[1]" }
sub log_text { AempInterop::slurp($_[0]{log}) }

sub cmd {
   my ($self, @cmd) = @_;
   print { $self->{in} } $AempInterop::JSON->encode(\@cmd), "\n";
}

# A command, then a round trip that proves the node has carried it out.
sub do {
   my ($self, @cmd) = @_;
   $self->cmd(@cmd);
   my $n = ++$self->{pings};
   $self->cmd(ping => $n);
   $self->expect(sub { $_[0][0] eq "pong" && $_[0][1] == $n }, 10)
      or die "$self->{name} does not answer:\n" . $self->log_text;
}

# Waits for an event the predicate accepts (events seen earlier that no
# expect took are searched first); undef on timeout.
sub expect {
   my ($self, $pred, $timeout) = @_;
   for my $i (0 .. $#{ $self->{backlog} }) {
      my $ev = $self->{backlog}[$i];
      if ($pred->($ev)) {
         splice @{ $self->{backlog} }, $i, 1;
         return $ev;
      }
   }
   my $deadline = time + ($timeout // 10);
   my $sel = IO::Select->new($self->{out});
   while ((my $left = $deadline - time) > 0) {
      while ($self->{buf} =~ s/^([^\n]*)\n//) {
         my $ev = eval { $AempInterop::JSON->decode($1) } or next;
         return $ev if $pred->($ev);
         push @{ $self->{backlog} }, $ev;
      }
      next unless $sel->can_read($left);
      my $n = sysread $self->{out}, $self->{buf}, 65536, length $self->{buf};
      last unless $n;
   }
   undef
}

# The shared database. Waits for the next db_mon events of monitor NAME,
# in order (events are consumed), until one satisfies the predicate, which
# gets the event ["db_mon", NAME, DB, ADDED, CHANGED, DELETED]; undef on
# timeout.
sub expect_db_mon {
   my ($self, $name, $pred, $timeout) = @_;
   my $deadline = time + ($timeout // 10);
   while ((my $left = $deadline - time) > 0) {
      my $ev = $self->expect(sub { $_[0][0] eq "db_mon" && $_[0][1] eq $name }, $left)
         or return undef;
      return $ev if $pred->($ev);
   }
   undef
}

# Forgets the events seen but not taken that the predicate accepts.
sub discard {
   my ($self, $pred) = @_;
   @{ $self->{backlog} } = grep !$pred->($_), @{ $self->{backlog} };
}

# db_family, db_keys or db_values: the result, or undef on timeout.
sub query {
   my ($self, $op, $family, $timeout) = @_;
   my $tag = "q" . ++$self->{queries};
   $self->cmd($op, $tag, $family);
   my $ev = $self->expect(sub { $_[0][0] eq $op && $_[0][1] eq $tag }, $timeout // 10)
      or return undef;
   $ev->[2]
}

# Repeats a query until the predicate accepts the answer, which it
# returns; undef after timeout seconds (the last answer goes to diag).
sub query_until {
   my ($self, $op, $family, $pred, $timeout) = @_;
   my $deadline = time + ($timeout // 10);
   my $r;
   while (time < $deadline) {
      $r = $self->query($op, $family);
      return $r if defined $r && $pred->($r);
      Time::HiRes::sleep(0.1);
   }
   require Test::More;
   Test::More::diag("$self->{name}: last $op $family: "
      . $AempInterop::JSON->encode($r));
   undef
}

# The node's master now (undef: none; dies if the node does not answer).
sub master {
   my ($self) = @_;
   $self->cmd("master");
   my $ev = $self->expect(sub { $_[0][0] eq "master" }, 10)
      or die "$self->{name} does not answer:\n" . $self->log_text;
   $ev->[1]
}

# Asks for the master until the predicate accepts it; the master, or undef
# after timeout seconds.
sub wait_master {
   my ($self, $pred, $timeout) = @_;
   my $deadline = time + ($timeout // 10);
   while (time < $deadline) {
      my $m = $self->master;
      return $m if $pred->($m);
      Time::HiRes::sleep(0.05);
   }
   undef
}

# Kills the node's process group with a signal (KILL: no goodbye).
sub kill_node {
   my ($self, $sig) = @_;
   kill $sig // "KILL", -$self->{pid};
   waitpid $self->{pid}, 0;
}

1;
