# Nodes in a Perl network with one Perl 2.02 seed: a C node and a Perl node
# find each other by node id alone (g_find through the master, then a
# direct link); db_keys, db_values and db_family give a C node what they
# give a Perl node; a node killed with SIGKILL loses its keys, as C and Perl
# monitors see.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use AempInterop;

AempInterop::plan_or_skip();

my $JSON = $AempInterop::JSON; # canonical: compares types and order too

my $sport = AempInterop::free_port();
my %net = (secret => "global-secret");
my $seed = AempInterop::start_node(perl => nodeid => "seed", %net,
   binds => ["127.0.0.1:$sport"], seeds => ["127.0.0.1:$sport"]);
my %member = (%net, binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$sport"]);

my $cn = AempInterop::start_node(c => nodeid => "cnode", %member);
my $pn = AempInterop::start_node(perl => nodeid => "pnode", %member);
$_->do(port => "inbox") for $cn, $pn;
# both have registered with the master once its monitors answer
for my $n ($cn, $pn) {
   $n->do(db_mon => "l", "'l");
   ok $n->expect_db_mon(l => sub { exists $_[0][2]{cnode} && exists $_[0][2]{pnode} }, 10),
      "$n->{name} sees both nodes' listeners in 'l";
}

sub linked {
   my ($node, $other) = @_;
   $node->cmd("nodes");
   my $ev = $node->expect(sub { $_[0][0] eq "nodes" });
   scalar grep $_ eq $other, @$ev[1 .. $#$ev]
}

# ---- node ids alone: g_find ----------------------------------------------

ok !linked($cn, "pnode") && !linked($pn, "cnode"), "the two nodes have not met";
is $cn->master, "seed", "the C node's master is the seed";
# C -> Perl node port (snd relay) -> C port: needs the Perl node's address
$cn->cmd(snd => "pnode", "snd", $cn->port("inbox"), "found you");
is_deeply $cn->expect(sub { $_[0][0] eq "rcv" }, 10), ["rcv", "inbox", "found you"],
   "a C node reaches a Perl node by id alone and back";
ok $pn->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "cnode" && $_[0][2] }, 10),
   "over a direct link";

# and the other way round, with a fresh C node Perl has never met
my $cn2 = AempInterop::start_node(c => nodeid => "cnode2", %member);
$cn2->do(port => "inbox");
$cn2->do(db_mon => "l", "'l");
$cn2->expect_db_mon(l => sub { exists $_[0][2]{cnode2} }, 10); # registered
ok !linked($pn, "cnode2"), "the Perl node has not met the second C node";
$pn->cmd(snd => "cnode2", "snd", $pn->port("inbox"), "found you too");
is_deeply $pn->expect(sub { $_[0][0] eq "rcv" }, 10), ["rcv", "inbox", "found you too"],
   "a Perl node reaches a C node by id alone and back";
ok $cn2->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "pnode" && $_[0][2] }, 10),
   "over a direct link";

# an id nobody knows: the message is dropped, the C node goes on
$cn->cmd(snd => "nosuchnode", "snd", $cn->port("inbox"), "lost");
$cn->cmd(snd => "pnode", "snd", $cn->port("inbox"), "still here");
is_deeply $cn->expect(sub { $_[0][0] eq "rcv" }, 10), ["rcv", "inbox", "still here"],
   "a C node that sent to an unknown node id goes on";

# ---- queries: the same answers --------------------------------------------

my %pvalues = (
   p_str => "11", p_num => 11, p_float => 1.5, p_neg => -3, p_undef => undef,
   p_empty => "", p_unicode => "\x{fc}\x{20ac}", p_nested => { a => [1, { b => undef }] },
   p_array => [], p_hash => {}, p_true => JSON::PP::true, p_big => 18446744073709551615,
);
my %cvalues = map { (my $k = $_) =~ s/^p_/c_/; ($k => $pvalues{$_}) } keys %pvalues;
$pn->do(db_set => $_, "mixed", $_, $pvalues{$_}) for sort keys %pvalues;
$cn->do(db_set => $_, "mixed", $_, $cvalues{$_}) for sort keys %cvalues;
my @all = sort(keys %pvalues, keys %cvalues);

my $cobs = AempInterop::start_node(c => nodeid => "cobserver", %member);
my $pobs = AempInterop::start_node(perl => nodeid => "pobserver", %member);
for my $n ($cobs, $pobs) {
   $n->do(db_mon => "mixed", "mixed");
   ok $n->expect_db_mon(mixed => sub { @all == keys %{ $_[0][2] } }, 10),
      "$n->{name} sees all " . @all . " keys";
}
for my $op (qw(db_keys db_values db_family)) {
   for my $family ("mixed", "'l", "'g", "nosuchfamily") {
      my $c = $cobs->query($op, $family);
      my $p = $pobs->query($op, $family);
      ok defined $c && defined $p, "$op $family: both answer";
      is $JSON->encode($c), $JSON->encode($p), "$op $family: C and Perl agree";
   }
}
is_deeply $cobs->query(db_keys => "mixed"), \@all, "the keys are all there";
is $JSON->encode($cobs->query(db_family => "mixed")), $JSON->encode({ %pvalues, %cvalues }),
   "with the values set, types and all";
is $JSON->encode($cobs->query(db_family => "'g")), $JSON->encode({ seed => undef }),
   "'g lists the seed";

# ---- SIGKILL: the keys go -------------------------------------------------

my $cmon = $cobs; # C and Perl monitors of "mixed" and "'l"
$_->do(db_mon => "l", "'l") for $cobs, $pobs;
$_->expect_db_mon(l => sub { exists $_[0][2]{pnode} }, 10) for $cobs, $pobs;

$pn->kill_node("KILL");
for my $n ($cobs, $pobs) {
   my $ev = $n->expect_db_mon(mixed => sub { !grep /^p_/, keys %{ $_[0][2] } }, 10);
   ok $ev, "Perl node killed: $n->{name}'s db_mon sees its keys deleted";
   is_deeply $ev && [sort keys %{ $ev->[2] }], [sort keys %cvalues], "the C node's stay";
   ok $n->expect_db_mon(l => sub { grep $_ eq "pnode", @{ $_[0][5] } }, 10),
      "and its listeners go from 'l";
}

$cn->kill_node("KILL");
for my $n ($cobs, $pobs) {
   my $ev = $n->expect_db_mon(mixed => sub { !%{ $_[0][2] } }, 10);
   ok $ev, "C node killed: $n->{name}'s db_mon sees its keys deleted";
   ok $n->expect_db_mon(l => sub { grep $_ eq "cnode", @{ $_[0][5] } }, 10),
      "and its listeners go from 'l";
}
is_deeply $pobs->query(db_family => "mixed"), {}, "the family is empty";

done_testing;
