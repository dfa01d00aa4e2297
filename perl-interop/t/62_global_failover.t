# Two Perl 2.02 seeds. The seed a C node has as its master is killed: the
# C node takes the other seed as its master; its keys and monitors carry
# on (a Perl observer sees the keys, the C monitor sees later changes) and
# lookups (queries, g_find) keep working.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time sleep);
use AempInterop;

AempInterop::plan_or_skip();

my @sport = map AempInterop::free_port(), 1 .. 2;
my @seeds = map "127.0.0.1:$_", @sport;
my %net = (secret => "failover-secret");
my %seed = (
   seed1 => AempInterop::start_node(perl => nodeid => "seed1", %net,
      binds => [$seeds[0]], seeds => [$seeds[0], $seeds[1]]),
   seed2 => AempInterop::start_node(perl => nodeid => "seed2", %net,
      binds => [$seeds[1]], seeds => [$seeds[1], $seeds[0]]),
);
ok $seed{seed1}->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "seed2" && $_[0][2] }, 10),
   "the two seeds are linked";
my %member = (%net, binds => ["127.0.0.1:*"], seeds => \@seeds);

# polls a query until the predicate accepts its answer
sub query_until {
   my ($node, $op, $family, $pred, $timeout) = @_;
   my $deadline = time + ($timeout // 10);
   my $r;
   while (time < $deadline) {
      $r = $node->query($op, $family);
      return $r if defined $r && $pred->($r);
      sleep 0.1;
   }
   diag "last answer: " . $AempInterop::JSON->encode($r);
   undef
}

my $cn = AempInterop::start_node(c => nodeid => "cnode", %member);
$cn->do(port => "inbox");
$cn->do(port => "worker");
$cn->do(db_set => "s", "fo", "ckey", { from => "c" });
$cn->do(db_reg => "r", "fo", "worker", 7);
$cn->do(db_mon => "fo", "fo");
my @ckeys = ("ckey", $cn->port("worker"));

my $po = AempInterop::start_node(perl => nodeid => "pobserver", %member);
$po->do(db_set => "p", "fo", "pkey", "from perl");
$po->do(db_mon => "fo", "fo");
ok $po->expect_db_mon(fo => sub { 3 == grep exists $_[0][2]{$_}, @ckeys, "pkey" }, 10),
   "the Perl observer sees the C node's keys and its own";
ok $cn->expect_db_mon(fo => sub { 3 == grep exists $_[0][2]{$_}, @ckeys, "pkey" }, 10),
   "the C monitor sees them all as well";

my $master = $cn->wait_master(sub { defined $_[0] }, 10);
ok $master && $seed{$master}, "the C node's master is a seed: " . ($master // "none");
my ($other) = grep $_ ne ($master // ""), sort keys %seed;

# ---- the master dies -------------------------------------------------------

$seed{$master}->kill_node("KILL");
ok $cn->expect(sub { $_[0][0] eq "node" && $_[0][1] eq $master && !$_[0][2] }, 10),
   "the master seed goes down";
is $cn->wait_master(sub { defined $_[0] && $_[0] ne $master }, 10), $other,
   "the C node's master is now the other seed";

my $fam = query_until($po, db_family => "fo",
   sub { 3 == grep exists $_[0]{$_}, @ckeys, "pkey" }, 15);
ok $fam, "the Perl observer's db_family still has the C node's keys";
is_deeply $fam, { ckey => { from => "c" }, $cn->port("worker") => 7, pkey => "from perl" },
   "with their values";

my $pf = AempInterop::start_node(perl => nodeid => "pfresh", %member);
$pf->do(db_mon => "fo", "fo");
ok $pf->expect_db_mon(fo => sub { 3 == grep exists $_[0][2]{$_}, @ckeys, "pkey" }, 10),
   "a Perl node started now sees them through its db_mon";
is $pf->master, $other, "(its master is the surviving seed)";

# the C monitor goes on: later changes reach it
$pf->do(db_set => "late", "fo", "late", [1]);
my $ev = $cn->expect_db_mon(fo => sub { exists $_[0][2]{late} }, 10);
ok $ev, "the C node's db_mon sees a change made after the switch";
is_deeply $ev && [sort keys %{ $ev->[2] }], [sort @ckeys, "late", "pkey"],
   "and its database is whole";
$pf->do(db_release => "late");
ok $cn->expect_db_mon(fo => sub { !exists $_[0][2]{late} }, 10), "and a delete";

# C keys changed after the switch reach the new master
$cn->do(db_set => "s2", "fo", "ckey2", "after");
ok $pf->expect_db_mon(fo => sub { ($_[0][2]{ckey2} // "") eq "after" }, 10),
   "a key the C node sets now reaches Perl";
$cn->do(kil => $cn->port("worker"));
ok $pf->expect_db_mon(fo => sub { !exists $_[0][2]{ $cn->port("worker") } }, 10),
   "a db_reg port killed now leaves the family";

# lookups: queries and node ids
is_deeply $cn->query(db_keys => "fo"), [sort "ckey", "ckey2", "pkey"],
   "db_keys from the C node answers (from the new master)";
is_deeply $cn->query(db_family => "'g"), { $other => undef },
   "'g has only the surviving seed";
my $pn = AempInterop::start_node(perl => nodeid => "pnew", %member);
$pn->do(port => "inbox");
$pn->do(db_mon => "l", "'l");
$pn->expect_db_mon(l => sub { exists $_[0][2]{pnew} && exists $_[0][2]{cnode} }, 10);
$cn->cmd(snd => "pnew", "snd", $cn->port("inbox"), "new master, new node");
is_deeply $cn->expect(sub { $_[0][0] eq "rcv" }, 10), ["rcv", "inbox", "new master, new node"],
   "the C node reaches a node that came up after the switch by id";
my $cn2 = AempInterop::start_node(c => nodeid => "cnew", %member);
$cn2->do(port => "inbox");
$cn2->do(db_mon => "l", "'l");
$cn2->expect_db_mon(l => sub { exists $_[0][2]{cnew} }, 10);
$pn->cmd(snd => "cnew", "snd", $pn->port("inbox"), "found the new C node");
is_deeply $pn->expect(sub { $_[0][0] eq "rcv" }, 10), ["rcv", "inbox", "found the new C node"],
   "and a Perl node reaches a C node that came up after it by id";

done_testing;
