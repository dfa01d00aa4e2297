# The global database as AnyEvent::MP::Intro shows it: receivers publish a
# port with db_set (or db_reg), a sender monitors the family with db_mon
# and sends "test" to every port that appears. A real Perl 2.02 seed holds
# the database; receivers and senders are Perl and C, both ways round.
# The sender has never met the receiver: sending finds it through the
# master (g_find) and links to it directly.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use AempInterop;

AempInterop::plan_or_skip();

my $sport = AempInterop::free_port();
my %net = (secret => "global-secret");
my $seed = AempInterop::start_node(perl => nodeid => "seed", %net,
   binds => ["127.0.0.1:$sport"], seeds => ["127.0.0.1:$sport"]);
my %member = (%net, binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$sport"]);

sub has_keys {
   my ($db, @keys) = @_;
   !grep !exists $db->{$_}, @keys
}

# ---- Perl receiver, C sender ----------------------------------------------

my $prcv = AempInterop::start_node(perl => nodeid => "eg_receiver_p", %member);
$prcv->do(port => "recv");
$prcv->do(db_set => "g", "eg_receivers", $prcv->port("recv"));

my $csnd = AempInterop::start_node(c => nodeid => "eg_sender_c", %member);
is $csnd->wait_master(sub { defined $_[0] }, 10), "seed", "the C node's master is the seed";
$csnd->cmd(nodes => ());
my $before = $csnd->expect(sub { $_[0][0] eq "nodes" });
ok !grep($_ eq "eg_receiver_p", @$before[1 .. $#$before]),
   "the C sender has no link to the receiver yet";

$csnd->do(db_mon => "m", "eg_receivers");
# the sender: on each callback, send to every port that appeared
my $ev = $csnd->expect_db_mon(m => sub { grep $_ eq $prcv->port("recv"), @{ $_[0][3] } }, 10);
ok $ev, "the C db_mon sees the Perl receiver's port appear" or diag explain $csnd->{backlog};
is_deeply $ev && $ev->[2], { $prcv->port("recv") => undef }, "with the value undef (null)";
$csnd->cmd(snd => $_, test => 1234) for @{ $ev ? $ev->[3] : [] };
is_deeply $prcv->expect(sub { $_[0][0] eq "rcv" }, 10), ["rcv", "recv", "test", 1234],
   "the Perl receiver gets the C sender's test message";
ok $csnd->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "eg_receiver_p" && $_[0][2] }, 10),
   "through a direct link the C node made by node id alone";

# another receiver comes up: the sender sees it and sends to it as well
my $prcv2 = AempInterop::start_node(perl => nodeid => "eg_receiver_p2", %member);
$prcv2->do(port => "recv");
$prcv2->do(db_set => "g", "eg_receivers", $prcv2->port("recv"), { since => "now" });
$ev = $csnd->expect_db_mon(m => sub { grep $_ eq $prcv2->port("recv"), @{ $_[0][3] } }, 10);
ok $ev, "a second receiver appears at the C sender";
is_deeply $ev && $ev->[2], { $prcv->port("recv") => undef, $prcv2->port("recv") => { since => "now" } },
   "the monitor's database has both, with their values";
$csnd->cmd(snd => $_, test => 5678) for @{ $ev ? $ev->[3] : [] };
is_deeply $prcv2->expect(sub { $_[0][0] eq "rcv" }, 10), ["rcv", "recv", "test", 5678],
   "and the second receiver gets its message";

# the first receiver drops its entry
$prcv->do(db_release => "g");
$ev = $csnd->expect_db_mon(m => sub { grep $_ eq $prcv->port("recv"), @{ $_[0][5] } }, 10);
ok $ev, "a released entry is deleted at the C monitor";
is_deeply $ev && [sort keys %{ $ev->[2] }], [$prcv2->port("recv")], "the other one stays";

# ---- C receivers, Perl sender --------------------------------------------

my $crcv = AempInterop::start_node(c => nodeid => "eg_receiver_c", %member);
$crcv->do(port => "recv");
$crcv->do(port => "regd");
$crcv->do(db_set => "g", "eg_receivers", $crcv->port("recv"));
$crcv->do(db_reg => "r", "eg_receivers", "regd", [1, "two"]);

my $psnd = AempInterop::start_node(perl => nodeid => "eg_sender_p", %member);
$psnd->do(db_mon => "m", "eg_receivers");
$ev = $psnd->expect_db_mon(m => sub { has_keys($_[0][2], $crcv->port("recv"), $crcv->port("regd")) }, 10);
ok $ev, "the Perl sender's db_mon sees both C entries (db_set and db_reg)"
   or diag explain $psnd->{backlog};
is_deeply $ev && $ev->[2], { $crcv->port("recv") => undef, $crcv->port("regd") => [1, "two"],
   $prcv2->port("recv") => { since => "now" } }, "with their values";
$psnd->cmd(snd => $crcv->port("recv"), test => "perl to c");
$psnd->cmd(snd => $crcv->port("regd"), test => "perl to c, registered");
my @got = map $crcv->expect(sub { $_[0][0] eq "rcv" }, 10), 1 .. 2;
is_deeply [sort { $a->[1] cmp $b->[1] } grep defined, @got],
   [["rcv", "recv", "test", "perl to c"], ["rcv", "regd", "test", "perl to c, registered"]],
   "the C receivers get the Perl sender's messages";
ok $psnd->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "eg_receiver_c" && $_[0][2] }, 10),
   "the Perl node linked to the C node by id alone";

# db_reg: the port dies, its entry goes
$crcv->do(kil => $crcv->port("regd"));
$ev = $psnd->expect_db_mon(m => sub { grep $_ eq $crcv->port("regd"), @{ $_[0][5] } }, 10);
ok $ev, "a killed db_reg port leaves the family (seen by Perl)";
ok $ev && !exists $ev->[2]{ $crcv->port("regd") } && exists $ev->[2]{ $crcv->port("recv") },
   "and only that entry";

# a db_set guard released, and a db_del
$crcv->do(db_set => "x", "eg_receivers", "plain-key", 42);
$ev = $psnd->expect_db_mon(m => sub { grep $_ eq "plain-key", @{ $_[0][3] } }, 10);
ok $ev && $ev->[2]{"plain-key"} == 42, "a C key with a number value";
$crcv->do(db_set => "x2", "eg_receivers", "plain-key", 43);
$ev = $psnd->expect_db_mon(m => sub { grep $_ eq "plain-key", @{ $_[0][4] } }, 10);
ok $ev && $ev->[2]{"plain-key"} == 43, "set again: Perl sees it changed";
$crcv->do(db_del => "eg_receivers", "plain-key");
$ev = $psnd->expect_db_mon(m => sub { grep $_ eq "plain-key", @{ $_[0][5] } }, 10);
ok $ev, "db_del deletes it";
$crcv->do(db_release => "g");
$ev = $psnd->expect_db_mon(m => sub { grep $_ eq $crcv->port("recv"), @{ $_[0][5] } }, 10);
ok $ev, "releasing the C guard deletes its entry";
is_deeply $ev && $ev->[2], { $prcv2->port("recv") => { since => "now" } },
   "leaving the Perl receiver's";

# a guard replaced by one for the same key: as in Perl, dropping the old
# guard (after the new one is made) deletes the key the new one was for
for my $n ($crcv, $psnd) {
   my $key = "reused_$n->{name}";
   $n->do(db_set => "reuse", "eg_receivers", $key, 1);
   $n->do(db_set => "reuse", "eg_receivers", $key, 2);
   my $ev = $csnd->expect_db_mon(m => sub { grep $_ eq $key, @{ $_[0][5] } }, 10);
   ok $ev, "$n->{name}: a guard replaced by one for the same key leaves the key deleted";
   $n->do(db_release => "reuse");
}

# Perl compares a new value with the old one as strings (sv_eq): 11 after
# "11" is no change and is not sent on; the C node does the same
for my $n ($crcv, $psnd) {
   my $key = "typed_$n->{name}";
   $n->do(db_set => "t1", "eg_receivers", $key, "11");
   $n->do(db_set => "t2", "eg_receivers", $key, 11);
   $n->do(db_set => "t3", "eg_receivers", "$key.after", 1);
   my $ev = $csnd->expect_db_mon(m => sub { exists $_[0][2]{"$key.after"} }, 10);
   is $ev && $AempInterop::JSON->encode($ev->[2]{$key}), '"11"',
      "$n->{name}: 11 after \"11\" is not sent: the string stays";
   $n->do(db_release => $_) for qw(t1 t2 t3);
}
ok $csnd->expect_db_mon(m => sub { !grep /^(typed|reused)_/, keys %{ $_[0][2] } }, 10),
   "all released";

# a C monitor cancelled and made again gets the current state at once
$csnd->do(db_unmon => "m");
$csnd->discard(sub { $_[0][0] eq "db_mon" && $_[0][1] eq "m" });
$csnd->do(db_mon => "m2", "eg_receivers");
$ev = $csnd->expect_db_mon(m2 => sub { 1 }, 10);
is_deeply $ev, ["db_mon", "m2", { $prcv2->port("recv") => { since => "now" } },
   [$prcv2->port("recv")], [], []], "a new C monitor starts with everything in added";
$csnd->do(db_mon => "m3", "eg_receivers");
is_deeply $csnd->expect_db_mon(m3 => sub { 1 }, 10),
   ["db_mon", "m3", { $prcv2->port("recv") => { since => "now" } }, [$prcv2->port("recv")], [], []],
   "so does a second monitor of the same family";
$prcv2->do(db_set => "late", "eg_receivers", "late", "x");
ok $csnd->expect_db_mon(m3 => sub { grep $_ eq "late", @{ $_[0][3] } }, 10), "both monitors see a change";
ok $csnd->expect_db_mon(m2 => sub { grep $_ eq "late", @{ $_[0][3] } }, 10), "(the other one too)";
ok !$csnd->expect(sub { $_[0][0] eq "db_mon" && $_[0][1] eq "m" }, 0.2),
   "the cancelled monitor stays quiet";

done_testing;
