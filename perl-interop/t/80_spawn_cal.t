# spawn and cal between a C node and a real Perl 2.02 node, both ways:
# the spawned port is created by the named init function with $SELF set,
# monitored by the spawner and monitoring the spawner's port in turn,
# and killed with a reason from either side; cal to a node port's named
# function and to ports that answer, never answer, or die, with and
# without a timeout. Both nodes are spawn_node (spawn_node.pl and
# spawn_node.c): the same commands, so every scenario runs both ways.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use AempInterop;
use AempScenario;

AempInterop::plan_or_skip();

my $pport = AempInterop::free_port();
my %net = (secret => "spawn-secret");
# autocork: Perl writes what one event loop round sends in one go, as a
# busy node does; the spawn request and the monitor request behind it then
# arrive together.
my $perl = AempScenario::start_spawn_node(perl => nodeid => "pspawn", %net,
   autocork => 1,
   binds => ["127.0.0.1:$pport"], seeds => []);
my $c = AempScenario::start_spawn_node(c => nodeid => "cspawn", %net,
   binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$pport"]);

# the link is up once a function call arrives
$c->cmd(func => "pspawn", "Interop::Func::note", "hello");
ok $perl->expect(sub { $_[0][0] eq "func" && $_[0][2] eq "hello" }, 10),
   "the C node calls a Perl function by name (snd_to_func)";
$perl->cmd(func => "cspawn", "Interop::Func::note", "hello back", [1, { a => 2 }]);
is_deeply $c->expect(sub { $_[0][0] eq "func" }, 10),
   ["func", "note", "hello back", [1, { a => 2 }]],
   "the Perl node calls a C function by name, arguments intact";

sub ev_on {
   my ($node, $type, $tag, $timeout) = @_;
   $node->expect(sub { $_[0][0] eq $type && $_[0][1] eq $tag }, $timeout)
}

my $n = 0;
# $spawner spawns Interop::Spawn::init on $owner; returns the port once
# the init has run there (checked: $SELF is the id spawn returned, the
# arguments arrive).
sub spawn_on {
   my ($spawner, $owner, $peer) = @_;
   my $tag = "s" . ++$n;
   $spawner->do(port => $peer);
   $spawner->cmd(spawn => $tag, $owner->id, "Interop::Spawn::init",
      $spawner->port($peer), "arg", 42);
   my $port = ev_on($spawner, spawned => $tag)->[2];
   my $init = $owner->expect(sub { $_[0][0] eq "init" && $_[0][1] eq $port }, 10);
   my $who = "$spawner->{name} on $owner->{name}";
   like $port, qr/^\Q${\ $owner->id }\E#/, "$who: spawn returns a port of the other node";
   is_deeply $init, ["init", $port, $spawner->port($peer), "arg", 42],
      "$who: the init function ran with \$SELF the new port and the arguments";
   ($tag, $port)
}

for my $pair ([$perl, $c], [$c, $perl]) {
   my ($spawner, $owner) = @$pair;
   my $who = "$spawner->{name} on $owner->{name}";

   # the spawner monitors the port and kills it with a reason
   my ($tag, $port) = spawn_on($spawner, $owner, "peer_a");
   $spawner->cmd(mon => $port, $tag);
   $spawner->cmd(snd => $port, "echo", $spawner->port("peer_a"), "are you there");
   is_deeply ev_on($spawner, rcv => "peer_a"), ["rcv", "peer_a", "echoed", "are you there"],
      "$who: the spawned port answers";
   $spawner->cmd(kil => $port, "stopped", "by the spawner", 1);
   is_deeply ev_on($spawner, mon => $tag), ["mon", $tag, "stopped", "by the spawner", 1],
      "$who: killed with a reason, the spawner's monitor sees it";
   is_deeply $owner->expect(sub { $_[0][0] eq "died" && $_[0][1] eq $port }, 10),
      ["died", $port, "stopped", "by the spawner", 1], "$who: and so does the owner";

   # the other way round: the spawned port monitors the spawner's port
   ($tag, $port) = spawn_on($spawner, $owner, "peer_b");
   $spawner->cmd(mon => $port, $tag);
   $spawner->cmd(snd => $port, "echo", $spawner->port("peer_b"), "sync");
   ev_on($spawner, rcv => "peer_b"); # the monitors are in place
   $spawner->cmd(kil => $spawner->port("peer_b"), "peer_failed", "x");
   is_deeply $owner->expect(sub { $_[0][0] eq "died" && $_[0][1] eq $port }, 10),
      ["died", $port, "peer_failed", "x"],
      "$who: the spawner's port dies, the spawned port dies with its reason";
   is_deeply ev_on($spawner, mon => $tag), ["mon", $tag, "peer_failed", "x"],
      "$who: which the spawner's monitor of it sees";

   # die in the spawned port
   ($tag, $port) = spawn_on($spawner, $owner, "peer_c");
   $spawner->cmd(mon => $port, $tag);
   $spawner->cmd(snd => $port, "echo", $spawner->port("peer_c"), "sync");
   ev_on($spawner, rcv => "peer_c");
   $spawner->cmd(snd => $port, "die", "init port failed");
   is_deeply ev_on($spawner, mon => $tag), ["mon", $tag, "die", "init port failed"],
      "$who: a callback that dies kills the port with (die, message)";

   # an init function that does not exist
   $spawner->cmd(spawn_mon => "nofunc$n", $owner->id, "No::Such::init");
   my $ev = ev_on($spawner, mon => "nofunc$n");
   is $ev && $ev->[2], "no_such_port", "$who: no such init function: the port never exists";
}

# MP.pm's idiom: spawn, and monitor the new port at once. Perl creates the
# port as the spawn request arrives, so the monitor request behind it finds
# it; libaemp runs node requests in order from its job queue, so the spawn
# is done before the monitor request is looked at.
for my $pair ([$c, $perl], [$perl, $c]) {
   my ($spawner, $owner) = @$pair;
   my $who = "$spawner->{name} on $owner->{name}";
   my $tag = "idiom" . ++$n;
   $spawner->do(port => "peer_i");
   $spawner->cmd(spawn_mon => $tag, $owner->id, "Interop::Spawn::init", $spawner->port("peer_i"));
   my $port = ev_on($spawner, spawned => $tag)->[2];
   $spawner->cmd(snd => $port, "echo", $spawner->port("peer_i"), "sync");
   ev_on($spawner, rcv => "peer_i");
   $spawner->cmd(kil => $port, "done");
   is_deeply ev_on($spawner, mon => $tag), ["mon", $tag, "done"],
      "$who: spawn and mon at once: the monitor sees the kill, not no_such_port";
}

# ---- cal ---------------------------------------------------------------------

for my $pair ([$c, $perl], [$perl, $c]) {
   my ($caller, $callee) = @$pair;
   my $who = "$caller->{name} calls $callee->{name}";
   my $id = $callee->id;

   # a named function on the node port: the reply port comes last
   $caller->cmd(cal => "add$n", $id, undef, "Interop::Func::add", 40, 2);
   is_deeply ev_on($caller, cal => "add$n"), ["cal", "add$n", 42],
      "$who: cal without timeout gets the function's reply";
   is_deeply $callee->expect(sub { $_[0][0] eq "func" && $_[0][1] eq "add" }, 10),
      ["func", "add", 40, 2], "$who: the function got the arguments, not the reply port";
   $caller->cmd(cal => "addt$n", $id, 5, "Interop::Func::add", 1, 2, 3);
   is_deeply ev_on($caller, cal => "addt$n"), ["cal", "addt$n", 6],
      "$who: cal with a timeout gets the reply in time";
   $caller->cmd(cal => "time$n", $id, 5, "time");
   my $ev = ev_on($caller, cal => "time$n");
   ok $ev && abs($ev->[2] - time) < 60, "$who: cal of the node's time";

   # a port that never answers
   $callee->do(port => "silent$n");
   $caller->cmd(cal => "mute$n", $callee->port("silent$n"), 0.3, "ask", "anyone");
   my $asked = ev_on($callee, rcv => "silent$n");
   is_deeply [@$asked[0 .. 3]], ["rcv", "silent$n", "ask", "anyone"],
      "$who: the message arrives with a reply port appended";
   is_deeply ev_on($caller, cal => "mute$n"), ["cal", "mute$n"],
      "$who: no reply within the timeout: the callback gets nothing";
   # a late reply finds its port gone, and the callback is not called again
   $caller->do(port => "after$n");
   $callee->cmd(snd => $asked->[4], "too late");
   $callee->cmd(snd => $caller->port("after$n"), "behind it");
   ev_on($caller, rcv => "after$n");
   ok !$caller->expect(sub { $_[0][0] eq "cal" && $_[0][1] eq "mute$n" }, 0.2),
      "$who: a late reply calls nothing";

   # without timeout the target is monitored: its death ends the cal
   $callee->do(port => "doomed$n");
   $caller->cmd(cal => "dead$n", $callee->port("doomed$n"), undef, "ask");
   ev_on($callee, rcv => "doomed$n");
   $callee->cmd(kil => $callee->port("doomed$n"), "gone");
   is_deeply ev_on($caller, cal => "dead$n"), ["cal", "dead$n"],
      "$who: cal without timeout: the target dies, the callback gets nothing";
   $n++;
}

done_testing;
