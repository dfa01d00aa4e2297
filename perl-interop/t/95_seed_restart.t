# A C seed run as caemp@.service runs it (the generated unit's ExecStart
# and Environment: only the program is the built caemp and the rc file a
# temporary one), with a Perl node and a C node in its network. Stopped
# by SIGTERM (systemctl restart) it exits 0 and both nodes learn at once;
# killed (a crash, Restart=on-failure), they learn too. Each time it
# starts again from the same command line, and the network converges:
# both nodes take it as their master again, their database entries are
# back in it, and they reach each other by node id through it. A node
# with a service stopped the same way has its database entry gone.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(time sleep);
use AempInterop;
use AempUnit;

AempInterop::plan_or_skip();

my ($exec, $env) = AempUnit::parse()
   or plan skip_all => "no $AempUnit::UNIT in the build";
like $exec->[0], qr{/caemp$}, "the unit runs caemp";
like $env->{PERL_ANYEVENT_MP_RC}, qr{/caemp/aemp\.rc$}, "and names its rc file";

my $sport = AempInterop::free_port();
my $saddr = "127.0.0.1:$sport";
my %net = (secret => "unit-secret");
# seed1, and kv1: a node with a service (examples/kv_service's plugin,
# which registers its port in the family kv)
my $rc = AempInterop::write_rc({ version => 1, profile => {
   seed1 => { %net, nodeid => "cseed", binds => [$saddr], seeds => [$saddr] },
   kv1 => { %net, nodeid => "kvnode", binds => ["127.0.0.1:*"],
            seeds => [$saddr], services => ["KV::Service::"],
            service_path => ["$AempInterop::BUILD/examples/kv_service"] } } },
   "$AempInterop::TMP/aemp.rc");

sub listening {
   IO::Socket::INET->new(PeerAddr => $saddr, Timeout => 1) ? 1 : 0
}

sub start_seed {
   my $run = AempUnit::start("seed1", $rc);
   my $deadline = time + 10;
   sleep 0.05 until listening() || time > $deadline;
   $run
}

my $seed = start_seed();
ok listening(), "the seed listens";
my %member = (%net, binds => ["127.0.0.1:*"], seeds => [$saddr]);
my $pn = AempInterop::start_node(perl => nodeid => "pnode", %member);
my $cn = AempInterop::start_node(c => nodeid => "cnode", %member);
$pn->do(port => "inbox");
$cn->do(port => "inbox");
$pn->do(db_set => "p", "svc", "from_perl", 1);
$cn->do(db_set => "c", "svc", "from_c", 2);
$pn->do(db_mon => "svc", "svc");
$cn->do(db_mon => "svc", "svc");

my $both = sub { my $db = $_[0][2]; exists $db->{from_perl} && exists $db->{from_c} };

# both nodes have the seed as master and see each other's entries in it;
# a Perl node new to the network reaches the C node by id alone, and the
# C node reaches it: the seed says where each is
my $round = 0;
sub converged {
   my ($when) = @_;
   is $pn->wait_master(sub { ($_[0] // "") eq "cseed" }, 20), "cseed",
      "$when: the Perl node's master is the C seed";
   is $cn->wait_master(sub { ($_[0] // "") eq "cseed" }, 20), "cseed",
      "$when: the C node's master is the C seed";
   is_deeply $pn->query_until(db_family => "svc", sub { 2 == keys %{ $_[0] } }, 20),
      { from_perl => 1, from_c => 2 }, "$when: the seed has both nodes' entries";
   my $id = "pfresh" . ++$round;
   my $pf = AempInterop::start_node(perl => nodeid => $id, %member);
   $pf->do(port => "inbox");
   $pf->cmd(snd => "cnode", "snd", $pf->port("inbox"), "to C");
   is_deeply $pf->expect(sub { $_[0][0] eq "rcv" }, 10), ["rcv", "inbox", "to C"],
      "$when: a new Perl node reaches the C node by id";
   $cn->cmd(snd => $id, "snd", $cn->port("inbox"), "to $id");
   is_deeply $cn->expect(sub { $_[0][0] eq "rcv" && $_[0][2] eq "to $id" }, 10),
      ["rcv", "inbox", "to $id"], "$when: the C node reaches the new Perl node by id";
   $pf->kill_node("TERM");
}

ok $pn->expect_db_mon(svc => $both, 15), "the Perl node's monitor sees both entries";
ok $cn->expect_db_mon(svc => $both, 15), "the C node's monitor sees both entries";
converged("first start");

my $seed_down = sub { $_[0][0] eq "node" && $_[0][1] eq "cseed" && !$_[0][2] };

# systemctl stop/restart: SIGTERM
kill TERM => $seed->{pid};
my ($status, undef, $err) = AempInterop::finish_caemp($seed, 10);
is $status, 0, "SIGTERM: the seed exits 0" or diag $err;
ok $pn->expect($seed_down, 10), "the Perl node learns the seed is gone";
ok $cn->expect($seed_down, 10), "the C node learns the seed is gone";

$seed = start_seed();
converged("after SIGTERM and a new start");

# a crash: no goodbye, Restart=on-failure starts it again
kill KILL => $seed->{pid};
($status) = AempInterop::finish_caemp($seed, 10);
is $status, "signal 9", "the seed is killed";
ok $pn->expect($seed_down, 30), "the Perl node learns the seed is gone";
ok $cn->expect($seed_down, 30), "the C node learns the seed is gone";

$seed = start_seed();
converged("after a crash and a new start");

# caemp@kv1 stopped: the seed drops its service's entry at once
$pn->do(db_mon => "kv", "kv");
my $kv = AempUnit::start("kv1", $rc);
ok $pn->expect_db_mon(kv => sub { 1 == keys %{ $_[0][2] } }, 15),
   "caemp\@kv1's service registers its port";
kill TERM => $kv->{pid};
($status, undef, $err) = AempInterop::finish_caemp($kv, 10);
is $status, 0, "SIGTERM: caemp\@kv1 exits 0" or diag $err;
ok $pn->expect_db_mon(kv => sub { !keys %{ $_[0][2] } }, 10),
   "and its entry is gone from the seed's database";
kill TERM => $seed->{pid};
($status) = AempInterop::finish_caemp($seed, 10);
is $status, 0, "the last SIGTERM exits 0 too";

done_testing;
