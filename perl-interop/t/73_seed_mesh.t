# A mesh of four seeds, two Perl (AnyEvent::MP 2.02) and two C, with a
# Perl slave and a C slave. One Perl seed is killed: every surviving seed's
# 'l lists every live node with its addresses (never null), and caemp,
# with any surviving seed as its only seed, reaches every other live node
# by id (cal NODE time).
#
# c2 lists the other three seeds but not itself: it turns global when the
# first of them, already known to it as a global node, sends it g_slave.
# That is where a C seed used to send its first g_set without its own 'l;
# the other seed mirrored that as null in its own database, and when a
# third seed holding the entry went, the null came back as the merged
# value ("no known address" for c2).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use AempInterop;

AempInterop::plan_or_skip();

my $J = $AempInterop::JSON;
my %net = (secret => "seed-mesh-secret");
my @seeds = qw(p1 p2 c1 c2);
my %kind = (p1 => "perl", p2 => "perl", c1 => "c", c2 => "c");
my %addr = map +($_ => "127.0.0.1:" . AempInterop::free_port()), @seeds;

my %node;
for my $name (@seeds) {
   my @list = map $addr{$_}, grep $name ne "c2" || $_ ne "c2", @seeds;
   $node{$name} = AempInterop::start_node($kind{$name} => %net, nodeid => $name,
      binds => [$addr{$name}], seeds => \@list);
}
$node{sp} = AempInterop::start_node(perl => %net, nodeid => "sp",
   binds => ["127.0.0.1:*"], seeds => [$addr{p1}]);
$node{sc} = AempInterop::start_node(c => %net, nodeid => "sc",
   binds => ["127.0.0.1:*"], seeds => [$addr{c2}]);

# 'l as it must be: exactly these nodes, each with the addresses it
# listens on
sub l_lists {
   my (@live) = @_;
   my %want = map +($_ => $node{$_}->binds), @live;
   sub { $J->encode($_[0]) eq $J->encode(\%want) }
}

sub mesh_is {
   my ($what, @live) = @_;
   my @alive_seeds = grep exists $kind{$_}, @live;
   for my $s (@alive_seeds) {
      ok $node{$s}->query_until(db_family => "'g", sub { @alive_seeds == keys %{ $_[0] } }, 20),
         "$what: 'g at $s has the " . @alive_seeds . " seeds";
      ok $node{$s}->query_until(db_family => "'l", l_lists(@live), 20),
         "$what: 'l at $s lists every live node with its addresses";
   }
}

mesh_is "meshed", qw(p1 p2 c1 c2 sp sc);

$node{p2}->kill_node("KILL");
my @live = qw(p1 c1 c2 sp sc);
mesh_is "p2 killed", @live;

# and it stays so: a round of lookups through each seed, by caemp
for my $via (qw(p1 c1 c2)) {
   AempInterop::write_rc({ profile => { aemp => {
      seeds => [$addr{$via}], secret => $net{secret}, binds => ["127.0.0.1:*"] } } });
   for my $to (grep $_ ne $via, @live) {
      my ($rc, $out, $err) = AempInterop::run_caemp(15, cal => $to, "time");
      ok $rc eq "0" && $out =~ /^\d+(\.\d+)?\n\z/, "caemp cal $to time through $via"
         or diag "exit $rc, out $out, err $err";
   }
}
for my $s (qw(p1 c1 c2)) {
   is_deeply $node{$s}->query(db_family => "'l"), { map +($_ => $node{$_}->binds), @live },
      "'l at $s is still whole after the lookups";
}

done_testing;
