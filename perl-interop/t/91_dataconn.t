# AnyEvent::MP::DataConn between C nodes and real Perl 2.02 nodes: the
# aemp-dataconn greeting on the node's own listener, _expect before it,
# the init function on the accepting node getting the other end, a line
# each way. C to Perl (Perl accepting) and C to C both ways work. Perl
# to anything fails inside Perl 2.02 itself: its connect_to looks for
# the listeners in %AnyEvent::MP::Global::addr, which 2.x no longer
# fills, so it waits for them until its timeout; shown against a C node
# and against a Perl node alike (docs/dataconn.md). The nodes are
# spawn_node.c and spawn_node.pl (the dataconn command).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep);
use AempInterop;
use AempScenario;

AempInterop::plan_or_skip();

# the logs say when a node has found its master
local $ENV{AE_VERBOSE} = 8;
local $ENV{PERL_ANYEVENT_VERBOSE} = 8;
my $pport = AempInterop::free_port();
my %net = (secret => "dataconn-secret");
my $perl = AempScenario::start_spawn_node(perl => nodeid => "pdc", %net,
   binds => ["127.0.0.1:$pport"], seeds => ["127.0.0.1:$pport"]);
my @c = map AempScenario::start_spawn_node(c => nodeid => $_, %net,
   binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$pport"]), "cdc1", "cdc2";
my $perl2 = AempScenario::start_spawn_node(perl => nodeid => "pdc2", %net,
   binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$pport"]);
for my $n (@c, $perl2) {
   ok AempScenario::log_like($n, qr/new master node: pdc/, 15),
      "$n->{name} has the Perl seed as its master";
}
sleep 0.5; # their listeners reach the seed's 'l

sub ev {
   my ($node, $type, $tag, $timeout) = @_;
   $node->expect(sub { $_[0][0] eq $type && ($_[0][1] // "") eq $tag }, $timeout // 10)
}

my $n = 0;
# from connects to to: the init function there gets the data and its
# end; each end reads the line the other wrote.
sub connects {
   my ($from, $to, $what) = @_;
   my $tag = "t" . ++$n;
   $from->cmd(dataconn => $tag, $to->id, 5, "Interop::DataConn::init", $tag, [1, "two"]);
   is_deeply $to->expect(sub { $_[0][0] eq "dc_init" && $_[0][1] eq $tag }, 10),
      ["dc_init", $tag, [1, "two"]], "$what: the init function gets the init data";
   ok ev($from, dc_connected => $tag), "$what: the connecting side gets its end";
   is_deeply ev($from, dc_line => $tag), ["dc_line", $tag, "hello from init"],
      "$what: the connecting side reads the init function's line";
   is_deeply ev($to, dc_line => "init"), ["dc_line", "init", "hello from connect $tag"],
      "$what: the init function reads the connecting side's line";
}

connects($c[0], $perl, "C to Perl (Perl accepting)");
connects($c[1], $perl, "C to Perl again");
connects($c[0], $c[1], "C to C");
connects($c[1], $c[0], "C to C, the other way");

# Perl 2.02's connect_to to another node: _expect and the round trip
# arrive, then it waits for %AnyEvent::MP::Global::addr until the timeout
# kills its port with its own text. The same against C and Perl.
for my $to ($c[0], $perl) {
   my $tag = "t" . ++$n;
   my $what = "Perl to " . ($to == $perl ? "Perl" : "C");
   $perl2->cmd(dataconn => $tag, $to->id, 2, "Interop::DataConn::init", $tag);
   my $err = ev($perl2, dc_error => $tag, 15);
   # both sides time out after 2 s: the first kill of the port wins,
   # connect_to's own or the accepting node's (Perl's _expect kills with
   # undef, a C node's says why)
   my $id = $to->id;
   like $err->[2], qr/^AnyEvent::MP::DataConn (?:\Q$id\E: unable to establish connection within 2 seconds|undef|\Q$id\E: no data connection from pdc2 within 2 seconds)$/,
      "$what fails inside Perl 2.02: connect_to's timeout" or diag explain $err;
   ok !$to->expect(sub { $_[0][0] eq "dc_init" }, 0.5), "$what: no init function ran";
}

# why: 2.02's connect_to reads %AnyEvent::MP::Global::addr, which
# nothing fills any more, though the seed knows every listener
$_->cmd("global_addr") for $perl, $perl2;
for my $p ($perl, $perl2) {
   is_deeply $p->expect(sub { $_[0][0] eq "global_addr" }, 10),
      ["global_addr", []], "$p->{name}: %AnyEvent::MP::Global::addr is empty";
}

# the C node had the _expect and gave up on it too, quietly for the
# user of Perl's port (it is dead already)
ok AempScenario::log_like($c[0], qr/data connection \S+\@pdc2 with pdc2: cdc1: no data connection from pdc2 within 2 seconds/, 10),
   "the C node expected the connection and timed out";

$_->cmd("quit") for @c, $perl, $perl2;
done_testing;
