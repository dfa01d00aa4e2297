# docs/operations.md's rolling replacement, as written there: a network
# with two Perl seeds (AnyEvent::MP 2.02), a Perl node and a C node; each
# Perl seed in turn is stopped and a C seed started in its place (same
# address, same node id) by caemp@.service's command line (the generated
# unit's ExecStart and Environment; only the program is the built caemp
# and the rc file a temporary one). Between the steps, the checks the
# page gives: the seeds in 'g, the database a seed holds (caemp db_family
# against that seed alone), the masters; at the end, a new Perl node
# reaches the C node by id through the C seeds.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time sleep);
use AempInterop;
use AempUnit;

AempInterop::plan_or_skip();

AempUnit::parse() or plan skip_all => "no $AempUnit::UNIT in the build";

my %net = (secret => "replace-secret");
my @addr = map "127.0.0.1:" . AempInterop::free_port(), 1, 2;
my %seedargs = map { ("seed$_" => { %net, nodeid => "seed$_",
   binds => [$addr[$_ - 1]], seeds => [@addr] }) } 1, 2;
my $rc = AempInterop::write_rc({ version => 1, profile => \%seedargs },
   "$AempInterop::TMP/aemp.rc");
# an rc for caemp's queries that reaches one seed alone (profile aemp)
my %only = map { ($_ => AempInterop::write_rc({ profile => { aemp => { %net,
   binds => ["127.0.0.1:*"], seeds => [$addr[$_ - 1]] } } },
   "$AempInterop::TMP/only$_.rc")) } 1, 2;

my %perl_seed = map { ($_ => AempInterop::start_node(perl => %{ $seedargs{"seed$_"} })) } 1, 2;
# a node retries a seed that went away ever more slowly, up to
# monitor_timeout (Kernel.pm's seed_all; 30 s by default): 5 here, so
# that step 5's wait for every node's link to the new seed is short
my %member = (%net, binds => ["127.0.0.1:*"], seeds => [@addr],
   monitor_timeout => 5);
my $pn;
sub start_pnode {
   $pn = AempInterop::start_node(perl => nodeid => "pnode", %member);
   $pn->do(db_set => "p", "svc", "from_perl", 1);
}
start_pnode();
my $cn = AempInterop::start_node(c => nodeid => "cnode", %member);
$cn->do(db_set => "c", "svc", "from_c", 2);
$cn->do(port => "inbox");

# what seed N holds of a family, asked through it alone
sub family_at {
   my ($n, $family) = @_;
   local $ENV{PERL_ANYEVENT_MP_RC} = $only{$n};
   my ($status, $out) = AempInterop::run_caemp(20, db_family => $family);
   $status eq "0" ? $AempInterop::JSON->decode($out) : undef
}

sub until_ok {
   my ($timeout, $check) = @_;
   my $deadline = time + $timeout;
   until ($check->()) {
      return 0 if time > $deadline;
      sleep 0.2;
   }
   1
}

my $both = { from_perl => 1, from_c => 2 };
sub seed_holds {
   my ($n, $what) = @_;
   my $last;
   ok until_ok(20, sub { $last = family_at($n, "svc");
                         $last && 2 == keys %$last }), "$what: seed$n holds both nodes' entries";
   is_deeply $last, $both, "$what: as the nodes set them";
}

sub seeds_in_g {
   my ($want, $what) = @_;
   my $got = $pn->query_until(db_keys => "'g",
      sub { join(",", sort @{ $_[0] }) eq join(",", @$want) }, 20);
   is_deeply [sort @{ $got // [] }], $want, "$what: 'g lists @$want";
}

# the nodes NODE is linked to
sub up_nodes {
   my ($node) = @_;
   $node->cmd("nodes");
   my $ev = $node->expect(sub { $_[0][0] eq "nodes" }, 10) or return [];
   [@$ev[1 .. $#$ev]]
}

# 5's wait: every node linked to the new seed, before the next step
sub linked_to {
   my ($seed, $what) = @_;
   for my $node ($pn, $cn) {
      ok until_ok(20, sub { grep $_ eq $seed, @{ up_nodes($node) } }),
         "$what: $node->{name} is linked to $seed";
   }
}

# 1. before
seeds_in_g(["seed1", "seed2"], "before");
seed_holds(1, "before");
seed_holds(2, "before");

my %c_seed;
for my $n (1, 2) {
   my $other = 3 - $n;
   # 3. stop the Perl seed: its nodes take the other seed
   $perl_seed{$n}->kill_node("TERM");
   seeds_in_g(["seed$other"], "seed$n (Perl) stopped");
   for my $node ($pn, $cn) {
      is $node->wait_master(sub { ($_[0] // "") eq "seed$other" }, 20), "seed$other",
         "seed$n (Perl) stopped: $node->{name}'s master is seed$other";
   }
   # 4. start the C seed from the unit's command line
   $c_seed{$n} = AempUnit::start("seed$n", $rc);
   # 5. the network took it
   seeds_in_g(["seed1", "seed2"], "caemp\@seed$n started");
   seed_holds($n, "caemp\@seed$n started");
   seed_holds($other, "caemp\@seed$n started");
   linked_to("seed$n", "caemp\@seed$n started");
   # AnyEvent::MP 2.02 follows one failover of its master only: a Perl
   # node that took another seed will not notice that one go (no new
   # master search; its entries would leave the database with that
   # seed). So the Perl nodes restart before the next seed is replaced
   # (operations.md says so).
   if ($n == 1) {
      $pn->kill_node("TERM");
      start_pnode();
      seed_holds($_, "the Perl node restarted") for 1, 2;
   }
}

# the network on two C seeds: a Perl node new to it reaches the C node by id
my $pf = AempInterop::start_node(perl => nodeid => "pfresh", %member);
$pf->do(port => "inbox");
$pf->cmd(snd => "cnode", "snd", $pf->port("inbox"), "through C seeds");
is_deeply $pf->expect(sub { $_[0][0] eq "rcv" }, 10), ["rcv", "inbox", "through C seeds"],
   "a new Perl node reaches the C node by id";
for my $n (1, 2) {
   kill TERM => $c_seed{$n}{pid};
   my ($status, undef, $err) = AempInterop::finish_caemp($c_seed{$n}, 10);
   is $status, 0, "caemp\@seed$n stops with exit status 0" or diag $err;
}

done_testing;
