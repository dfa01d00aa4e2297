# Node-port calls against real Perl 2.02 nodes: `can`, snd_on, eval_on.
#
# `can TAG` answers exists $NODE_REQ{TAG}: a Perl normal node has
# Kernel.pm's requests and its g_* (g_global, g_reply, g_found, g_chg1,
# g_chg2, g_slave); Global.pm's (g_set, g_upd, g_find, g_db_*, g_mon*)
# only once it is global, as a seed of itself is. A function name called
# once on the node port is kept there, resolved or not. The C normal node
# and the C seed must answer as the Perl ones do, tag by tag.
#
# snd_on and eval_on: aemp_snd_on / aemp_eval_on from a C node make a
# Perl node relay and evaluate; Perl's own snd_on / eval_on against the C
# node get the relay and the C node's eval answer.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time sleep);
use AempInterop;

AempInterop::plan_or_skip();

my %net = (secret => "node-calls-secret");
my @seeds = map "127.0.0.1:" . AempInterop::free_port(), 1 .. 2;
my %member = (%net, binds => ["127.0.0.1:*"], seeds => [@seeds]);

my $pseed = AempInterop::start_node(perl => nodeid => "pseed", %net,
   binds => [$seeds[0]], seeds => [@seeds]);
my $cseed = AempInterop::start_node(c => nodeid => "cseed", %net,
   binds => [$seeds[1]], seeds => [@seeds]);
my $pnorm = AempInterop::start_node(perl => nodeid => "pnorm", %member);
my $cnorm = AempInterop::start_node(c => nodeid => "cnorm", %member);
my $drv = AempInterop::start_node(perl => nodeid => "drv", %member);
$drv->do(port => "inbox");

for my $n ($pnorm, $cnorm, $drv) {
   ok defined $n->wait_master(sub { defined $_[0] }, 15),
      $n->id . " has a master";
}

# can TAG on node: "1" or "" (undef: no answer)
my $asked = 0;
sub can_on {
   my ($node, $tag) = @_;
   my $n = ++$asked;
   $drv->cmd(snd => $node, "can", $tag, $drv->port("inbox"), "can", $n);
   my $ev = $drv->expect(sub { $_[0][0] eq "rcv" && $_[0][2] eq "can"
                               && $_[0][3] == $n }, 10);
   $ev ? $ev->[4] : undef
}

# a seed becomes global once its link to itself is greeted
for my $seed (qw(pseed cseed)) {
   my $deadline = time + 15;
   sleep 0.1 while (can_on($seed, "g_set") // "") ne "1" && time < $deadline;
}

# function names a C node serves: "" until called, as on a Perl node
# (DataConn.pm and LogCatcher.pm put nothing into %NODE_REQ)
my @by_name = qw(AnyEvent::MP::DataConn::_expect
   AnyEvent::MP::DataConn::_connect AnyEvent::MP::LogCatcher::connect
   AnyEvent::Watchdog::Util::restart);

my @tags = ("", qw(mon0 mon1 kil0 kil1 snd can eval time devnull
   g_global g_reply g_found g_chg1 g_chg2 g_slave
   g_set g_upd g_find g_db_family g_db_keys g_db_values g_mon1 g_mon0
   g_disconnect no_such_tag AnyEvent::MP::_spawn Interop::Called::func),
   @by_name);

sub answers {
   my ($node) = @_;
   +{ map { ($_ => can_on($node, $_)) } @tags }
}

my %want_normal = map { ($_ => "1") } "", qw(mon0 mon1 kil0 kil1 snd can
   eval time devnull g_global g_reply g_found g_chg1 g_chg2 g_slave);
$want_normal{$_} = "" for grep !exists $want_normal{$_}, @tags;
my %want_global = %want_normal;
$want_global{$_} = "1" for qw(g_set g_upd g_find g_db_family g_db_keys
   g_db_values g_mon1 g_mon0);

my %got = map { ($_ => answers($_)) } qw(pnorm pseed cnorm cseed);
is_deeply $got{pnorm}, \%want_normal,
   "Perl normal node: Kernel.pm's requests, no Global.pm ones";
is_deeply $got{pseed}, \%want_global, "Perl seed: Global.pm's too";
is_deeply $got{cnorm}, $got{pnorm}, "C normal node answers as the Perl one";
is_deeply $got{cseed}, $got{pseed}, "C seed answers as the Perl one";

# a function name called once is kept, resolved or not
for my $node (qw(pnorm cnorm pseed cseed)) {
   $drv->cmd(snd => $node, "Interop::Called::func", 1);
   is can_on($node, "Interop::Called::func"), "1",
      "$node: a function name called once answers 1";
   is can_on($node, "Interop::Other::func"), "",
      "$node: one never called answers ''";
}

# ... and so is each of those once called (with arguments that do no
# harm: an _expect that waits an hour, an _connect of an unknown id, a
# catcher port that is gone; restart resolves on neither kind of node)
my $gone = $drv->id . "#gone";
my %harmless = (
   "AnyEvent::MP::DataConn::_expect" =>
      ["interop-can", $gone, 3600, "Interop::No::init"],
   "AnyEvent::MP::DataConn::_connect" => ["no-such-id", "drv"],
   "AnyEvent::MP::LogCatcher::connect" => [1, $gone, 1],
   "AnyEvent::Watchdog::Util::restart" => [],
);
for my $node (qw(pnorm cnorm pseed cseed)) {
   $drv->cmd(snd => $node, $_, @{ $harmless{$_} }) for @by_name;
   is_deeply { map { ($_ => can_on($node, $_)) } @by_name },
      { map { ($_ => "1") } @by_name },
      "$node: the served function names answer 1 once called";
}

# ---- snd_on, eval_on ---------------------------------------------------------

$cnorm->do(port => "cin");
$pnorm->do(port => "pin");

sub got_on {
   my ($node, $port, $tag) = @_;
   my $ev = $node->expect(sub { $_[0][0] eq "rcv" && $_[0][1] eq $port
                                && $_[0][2] eq $tag }, 10);
   $ev ? [@$ev[2 .. $#$ev]] : undef
}

# C to Perl
$cnorm->cmd(snd_on => "pnorm", $cnorm->port("cin"), "relayed", 1, [2]);
is_deeply got_on($cnorm, "cin", "relayed"), ["relayed", 1, [2]],
   "aemp_snd_on: the Perl node relays the message";
$cnorm->cmd(eval_on => "pnorm", "1+2", $cnorm->port("cin"), "ev", "x");
is_deeply got_on($cnorm, "cin", "ev"), ["ev", "x", "", 3],
   "aemp_eval_on: the Perl node evaluates and replies \"\$@\" and results";
$cnorm->cmd(eval_on => "pnorm", "die qq{no\\n}", $cnorm->port("cin"), "ev2");
is_deeply got_on($cnorm, "cin", "ev2"), ["ev2", "no\n"],
   "aemp_eval_on: a failing eval replies its \$@";
# the same request from Perl's eval_on: the same reply
$pnorm->cmd(eval_on => "pseed", "1+2", $cnorm->port("cin"), "ev3");
$cnorm->cmd(eval_on => "pseed", "1+2", $cnorm->port("cin"), "ev4");
my ($p, $c) = (got_on($cnorm, "cin", "ev3"), got_on($cnorm, "cin", "ev4"));
is_deeply [@{ $c // [] }[1 .. 2]], [@{ $p // [] }[1 .. 2]],
   "eval_on from C and from Perl: the same reply";

# Perl to C
$pnorm->cmd(snd_on => "cnorm", $pnorm->port("pin"), "relayed", 1);
is_deeply got_on($pnorm, "pin", "relayed"), ["relayed", 1],
   "Perl's snd_on: the C node relays the message";
$pnorm->cmd(eval_on => "cnorm", "1+2", $pnorm->port("pin"), "ev");
my $ev = got_on($pnorm, "pin", "ev");
is scalar @{ $ev // [] }, 2, "Perl's eval_on of a C node: one value, \$@";
like $ev->[1], qr/cannot evaluate Perl code/, "which says why";

done_testing;
