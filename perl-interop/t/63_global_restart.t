# The only seed dies and restarts with an empty database: the C node takes
# it as its master again and registers everything once more (its local
# database as it is now, its monitors), as Perl nodes do.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use AempInterop;

AempInterop::plan_or_skip();

my $sport = AempInterop::free_port();
my %net = (secret => "restart-secret");
my %seedargs = (%net, nodeid => "seed", binds => ["127.0.0.1:$sport"],
   seeds => ["127.0.0.1:$sport"]);
my $seed = AempInterop::start_node(perl => %seedargs);
my %member = (%net, binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$sport"]);

my $cn = AempInterop::start_node(c => nodeid => "cnode", %member);
$cn->do(port => "inbox");
$cn->do(port => "worker");
$cn->do(db_set => "a", "rs", "kept", "v1");
$cn->do(db_set => "b", "rs", "released", "v2");
$cn->do(db_reg => "r", "rs", "worker", { n => 1 });
$cn->do(db_set => "o", "other", "x", undef);
$cn->do(db_mon => "rs", "rs");

my $pw = AempInterop::start_node(perl => nodeid => "pwriter", %member);
$pw->do(db_set => "p", "rs", "pkey", 1);
ok $cn->expect_db_mon(rs => sub { 4 == keys %{ $_[0][2] } }, 10),
   "the C node's monitor sees its three keys and the Perl one";
is $cn->master, "seed", "its master is the seed";

$seed->kill_node("KILL");
ok $cn->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "seed" && !$_[0][2] }, 10),
   "the seed dies";
is $cn->master, undef, "the C node has no master";
$cn->discard(sub { $_[0][0] eq "node" }); # the first link's "up" among them

# changes while there is no master are kept for the next one
$cn->do(db_release => "b");
$cn->do(db_set => "c", "rs", "while_down", [2]);

$seed = AempInterop::start_node(perl => %seedargs);
ok $cn->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "seed" && $_[0][2] }, 20),
   "the seed is back and linked";
is $cn->wait_master(sub { defined $_[0] }, 10), "seed", "the seed is the master again";

my $pf = AempInterop::start_node(perl => nodeid => "pfresh", %member);
$pf->do(db_mon => "rs", "rs");
$pf->do(db_mon => "other", "other");
my %want = (kept => "v1", $cn->port("worker") => { n => 1 }, while_down => [2], pkey => 1);
my $ev = $pf->expect_db_mon(rs => sub { 4 == keys %{ $_[0][2] } }, 15);
ok $ev, "a fresh Perl observer sees the C node's keys (and the Perl node's) again";
is_deeply $ev && $ev->[2], \%want, "as the C node has them now";
ok $pf->expect_db_mon(other => sub { exists $_[0][2]{x} }, 10), "other families too";
is_deeply $pf->query(db_family => "rs"), \%want, "db_family says the same";

ok $cn->expect_db_mon(rs => sub { !exists $_[0][2]{released} && exists $_[0][2]{while_down} }, 10),
   "the C monitor is back, with what the new master has";
$pf->do(db_set => "n", "rs", "newkey", "from the fresh node");
$ev = $cn->expect_db_mon(rs => sub { grep $_ eq "newkey", @{ $_[0][3] } }, 10);
ok $ev, "the C monitor sees a change made after the restart";
is_deeply $ev && $ev->[2], { %want, newkey => "from the fresh node" }, "its database is whole";

# the restarted seed knows where the C node is
$pf->do(port => "inbox");
$pf->cmd(snd => "cnode", "snd", $pf->port("inbox"), "hello again");
is_deeply $pf->expect(sub { $_[0][0] eq "rcv" }, 10), ["rcv", "inbox", "hello again"],
   "the fresh Perl node reaches the C node by id";

done_testing;
