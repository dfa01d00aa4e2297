# A mixed mesh: one C seed and one Perl (AnyEvent::MP 2.02) seed, each
# listing both seed addresses, so they link and exchange their slaves'
# databases (g_global, g_set, g_upd). Every other node is Perl and has
# only one of the seeds as its seed: what a slave of one seed sets, changes
# and deletes is seen by db_mon at a slave of the other, both ways; the
# seeds' own keys and monitors take part; each seed reaches the other's
# slaves by id; a slave killed with SIGKILL leaves no key behind anywhere;
# each seed in turn is killed and restarted, and the slaves of both seeds
# agree again; a third seed (C) known only through 'g joins the mesh.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time sleep);
use AempInterop;

AempInterop::plan_or_skip();

my $J = $AempInterop::JSON;
my ($caddr, $paddr) = map "127.0.0.1:" . AempInterop::free_port(), 1 .. 2;
my %net = (secret => "mixed-mesh-secret");
my %seedargs = (
   cseed => [c    => %net, nodeid => "cseed", binds => [$caddr], seeds => [$caddr, $paddr]],
   pseed => [perl => %net, nodeid => "pseed", binds => [$paddr], seeds => [$caddr, $paddr]],
);
my %seed = map +($_ => AempInterop::start_node(@{ $seedargs{$_} })), qw(cseed pseed);
my %cslave = (%net, binds => ["127.0.0.1:*"], seeds => [$caddr]);
my %pslave = (%net, binds => ["127.0.0.1:*"], seeds => [$paddr]);

ok $seed{cseed}->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "pseed" && $_[0][2] }, 10),
   "the C seed links to the Perl seed";

# polls a query until the predicate accepts its answer (which it returns)
sub query_until {
   my ($node, $op, $family, $pred, $timeout) = @_;
   my $deadline = time + ($timeout // 10);
   my $r;
   while (time < $deadline) {
      $r = $node->query($op, $family);
      return $r if defined $r && $pred->($r);
      sleep 0.1;
   }
   diag "$node->{name}: last $op $family: " . $J->encode($r);
   undef
}

# the keys of a db_mon event: added, changed, deleted, as one string
sub acd { my ($ev) = @_; $ev ? join " | ", map "@$_", @$ev[3 .. 5] : "(no event)" }

# sc: a slave of the C seed; sp: a slave of the Perl seed
my $sc = AempInterop::start_node(perl => nodeid => "sc", %cslave);
my $sp = AempInterop::start_node(perl => nodeid => "sp", %pslave);
is $sc->wait_master(sub { defined $_[0] }, 10), "cseed", "sc's master is the C seed";
is $sp->wait_master(sub { defined $_[0] }, 10), "pseed", "sp's master is the Perl seed";

ok query_until($sc, db_family => "'g", sub { 2 == keys %{ $_[0] } }),
   "'g at sc: both seeds are global nodes";
ok query_until($sp, db_family => "'g", sub { 2 == keys %{ $_[0] } }),
   "'g at sp: the same";
for my $s ([$sc, "sp"], [$sp, "sc"]) {
   ok query_until($s->[0], db_family => "'l", sub { exists $_[0]{ $s->[1] } }),
      "'l at $s->[0]{name} has the other seed's slave $s->[1]";
}

$_->do(db_mon => "mx", "mx") for $sc, $sp;
for my $s ($sc, $sp) {
   is_deeply $s->expect_db_mon(mx => sub { 1 }, 10), ["db_mon", "mx", {}, [], [], []],
      "$s->{name}'s db_mon starts with the empty family";
}

# ---- sets, changes, deletes, both ways ---------------------------------------

# the next db_mon event of mx at both slaves must be this one: the keys
# added | changed | deleted, and the family after it
sub both_see {
   my ($what, $acd, $db) = @_;
   for my $s ($sc, $sp) {
      my $ev = $s->expect_db_mon(mx => sub { 1 }, 10);
      is_deeply [acd($ev), $ev && $ev->[2]], [$acd, $db], "$what: seen at $s->{name}";
   }
}

$sc->do(db_set => "a", "mx", "a", "from sc");
both_see "a key set by sc (a slave of the C seed)", "a |  | ", { a => "from sc" };

my $bval = { from => "sp", list => [1, 2.5, "3"], u => "\x{263a}" };
$sp->do(db_set => "b", "mx", "b", $bval);
both_see "a key set by sp (a slave of the Perl seed)", "b |  | ", { a => "from sc", b => $bval };

$sc->do(db_set => "a2", "mx", "a", ["changed", undef]);
both_see "sc changes its key", " | a | ", { a => ["changed", undef], b => $bval };

$sp->do(db_set => "b2", "mx", "b", 0);
both_see "sp changes its key", " | b | ", { a => ["changed", undef], b => 0 };

$sc->do(db_del => "mx", "a");
both_see "db_del at sc", " |  | a", { b => 0 };

$sp->do(db_release => "b");
both_see "a guard released at sp", " |  | b", {};
$sp->do(db_release => "b2"); # its db_del: the key is gone already, nothing is sent

# the same key from both sides: the last one wins; deleting it brings the
# other side's value back, everywhere
$sc->do(db_set => "s1", "mx", "shared", "sc's");
both_see "sc sets shared", "shared |  | ", { shared => "sc's" };
$sp->do(db_set => "s2", "mx", "shared", "sp's");
both_see "sp sets shared over it", " | shared | ", { shared => "sp's" };
$sp->do(db_release => "s2");
both_see "sp deletes its shared: sc's value is back", " | shared | ", { shared => "sc's" };
$sc->do(db_release => "s1");
both_see "sc deletes shared too", " |  | shared", {};

my $ev;

# ---- the seeds' own database and monitors ------------------------------------

# each seed sets a key of its own; the slaves of both see both
my %sk = (cseed => 1, pseed => "two");
$seed{$_}->do(db_set => "own", "sk", $_, $sk{$_}) for qw(cseed pseed);
for my $s ($sc, $sp) {
   is_deeply query_until($s, db_family => "sk", sub { 2 == keys %{ $_[0] } }), \%sk,
      "each seed's own key is seen at $s->{name}";
}
# each seed monitors mx at itself (it is its own master)
for my $name (qw(cseed pseed)) {
   $seed{$name}->do(db_mon => "mx", "mx");
   is_deeply $seed{$name}->expect_db_mon(mx => sub { 1 }, 10), ["db_mon", "mx", {}, [], [], []],
      "$name monitors mx: empty";
}
for ([$sp, "from sp"], [$sc, "from sc"]) {
   my ($s, $v) = @$_;
   $s->do(db_set => "t", "mx", "t", $v);
   for my $name (qw(cseed pseed)) {
      $ev = $seed{$name}->expect_db_mon(mx => sub { 1 }, 10);
      is_deeply [acd($ev), $ev && $ev->[2]], [($v eq "from sp" ? "t |  | " : " | t | "), { t => $v }],
         "${name}'s own monitor sees $s->{name} set t";
   }
   both_see "$s->{name} sets t", ($v eq "from sp" ? "t |  | " : " | t | "), { t => $v };
}
$sc->do(db_release => "t");
for my $name (qw(cseed pseed)) {
   $ev = $seed{$name}->expect_db_mon(mx => sub { 1 }, 10);
   is_deeply [acd($ev), $ev && $ev->[2]], [" | t | ", { t => "from sp" }],
      "sc deletes its t: ${name}'s own monitor sees sp's value back";
}
both_see "sc deletes its t: sp's value is back", " | t | ", { t => "from sp" };
$sp->do(db_release => "t");
for my $name (qw(cseed pseed)) {
   $ev = $seed{$name}->expect_db_mon(mx => sub { 1 }, 10);
   is_deeply [acd($ev), $ev && $ev->[2]], [" |  | t", {}], "sp deletes t: gone at $name";
}
both_see "sp deletes t", " |  | t", {};
for my $name (qw(pseed cseed)) {
   $seed{$name}->do(db_unmon => "mx");
   $seed{$name}->discard(sub { $_[0][0] eq "db_mon" });
}
is_deeply $seed{cseed}->query(db_family => "sk"), \%sk, "the C seed answers its own db_family";

# a seed reaches the other seed's slave by id alone, through 'l
$_->do(port => "inbox") for $sc, $sp;
$seed{cseed}->cmd("nodes");
$ev = $seed{cseed}->expect(sub { $_[0][0] eq "nodes" }, 10);
ok $ev && !grep($_ eq "sp", @$ev[1 .. $#$ev]), "the C seed has no link to sp";
$seed{cseed}->cmd(snd => $sp->port("inbox"), "from the C seed");
is_deeply $sp->expect(sub { $_[0][0] eq "rcv" }, 10), ["rcv", "inbox", "from the C seed"],
   "the C seed reaches sp, a slave of the Perl seed, by id";
$seed{pseed}->cmd(snd => $sc->port("inbox"), "from the Perl seed");
is_deeply $sc->expect(sub { $_[0][0] eq "rcv" }, 10), ["rcv", "inbox", "from the Perl seed"],
   "the Perl seed reaches sc, a slave of the C seed, by id";

# ---- a slave dies ---------------------------------------------------------------

my $kc = AempInterop::start_node(perl => nodeid => "kc", %cslave);
my $kp = AempInterop::start_node(perl => nodeid => "kp", %pslave);
$kc->do(port => "p");
$kc->do(db_set => "x", "mx", "kc-key", "kc");
$kc->do(db_reg => "r", "mx", "p", "kc's port");
$kc->do(db_set => "y", "other", "kc-other", 1);
$kp->do(db_set => "x", "mx", "kp-key", "kp");
$kp->do(db_set => "y", "other", "kp-other", 1);
my @kkeys = ("kc-key", "kc#p", "kp-key");
for my $s ($sc, $sp) {
   ok $s->expect_db_mon(mx => sub { 3 == grep exists $_[0][2]{$_}, @kkeys }, 10),
      "$s->{name} sees the keys of kc (the C seed's) and kp (the Perl seed's)";
}
ok query_until($sp, db_family => "other", sub { 2 == keys %{ $_[0] } }), "in both families";

$kc->kill_node("KILL");
for my $s ($sc, $sp) {
   $ev = $s->expect_db_mon(mx => sub { !grep(/^kc/, keys %{ $_[0][2] }) }, 10);
   is_deeply $ev && $ev->[2], { "kp-key" => "kp" },
      "kc killed: its keys leave mx at $s->{name}";
}
is_deeply query_until($sp, db_family => "other", sub { 1 == keys %{ $_[0] } }),
   { "kp-other" => 1 }, "and the other family at sp";
ok query_until($sp, db_family => "'l", sub { !exists $_[0]{kc} }), "and 'l at sp";

$kp->kill_node("KILL");
for my $s ($sc, $sp) {
   $ev = $s->expect_db_mon(mx => sub { !exists $_[0][2]{"kp-key"} }, 10);
   is_deeply $ev && $ev->[2], {}, "kp killed: its key leaves mx at $s->{name}";
}
is_deeply query_until($sc, db_family => "other", sub { !keys %{ $_[0] } }), {},
   "and the other family at sc";
ok query_until($sc, db_family => "'l", sub { !exists $_[0]{kp} }), "and 'l at sc";

# ---- a seed dies and restarts ------------------------------------------------

# what the live slaves hold from here on
$sc->do(db_set => "live", "mx", "sc-key", "sc");
$sp->do(db_set => "live", "mx", "sp-key", "sp");
$sc->do(db_set => "live2", "other", "sc-other", [1]);
my %live = ("sc-key" => "sc", "sp-key" => "sp");
for my $s ($sc, $sp) {
   ok $s->expect_db_mon(mx => sub { 2 == grep exists $_[0][2]{$_}, keys %live }, 10),
      "$s->{name} sees both live keys";
}

# both slaves' view: db_family of mx, other, 'g and the keys of 'l agree
sub converged {
   my ($what, $timeout) = @_;
   my %want = (
      mx => \%live,
      other => { "sc-other" => [1] },
      "'g" => { cseed => undef, pseed => undef },
      sk => \%sk,
   );
   my $deadline = time + ($timeout // 20);
   my %got;
   while (time < $deadline) {
      for my $s ($sc, $sp) {
         $got{ $s->{name} }{$_} = $s->query(db_family => $_) for keys %want;
         my $l = $s->query(db_family => "'l");
         $got{ $s->{name} }{"'l"} = $l && [sort keys %$l];
      }
      $want{"'l"} = [qw(cseed pseed sc sp)];
      return 1 if $J->encode($got{sc}) eq $J->encode(\%want)
               && $J->encode($got{sp}) eq $J->encode(\%want);
      sleep 0.1;
   }
   diag "$what: not converged: " . $J->encode(\%got);
   0
}
ok converged("before"), "both slaves agree on every family";

for my $victim (qw(cseed pseed)) {
   my ($slave, $other) = $victim eq "cseed" ? ($sc, $sp) : ($sp, $sc);
   my $key = $slave->{name} . "-key";
   $seed{$victim}->kill_node("KILL");
   $ev = $other->expect_db_mon(mx => sub { !exists $_[0][2]{$key} }, 10);
   my $okey = "$other->{name}-key";
   is_deeply $ev && $ev->[2], { $okey => $live{$okey} },
      "$victim killed: $slave->{name}'s key leaves the other seed's side";
   ok $slave->expect(sub { $_[0][0] eq "node" && $_[0][1] eq $victim && !$_[0][2] }, 10),
      "$slave->{name} sees its seed go";

   # a change made while the seed is down goes to it once it is back
   $live{$key} = "$slave->{name}, while $victim was down";
   # (a new guard name: replacing the guard "live" would run its db_del)
   $slave->do(db_set => "live-$victim", "mx", $key, $live{$key});

   # the restarted seed has not set its key again
   delete $sk{$victim};
   $seed{$victim} = AempInterop::start_node(@{ $seedargs{$victim} });
   is $slave->wait_master(sub { ($_[0] // "") eq $victim }, 20), $victim,
      "$victim restarted: $slave->{name} takes it as its master again";
   for my $s ($sc, $sp) {
      ok $s->expect_db_mon(mx => sub { $J->encode($_[0][2]) eq $J->encode(\%live) }, 20),
         "$s->{name}'s db_mon has every live key again"
         or diag explain $s->{backlog};
   }
   ok converged("after $victim restarted"), "both slaves agree on every family again";
}

# a new slave of the C seed reaches a slave of the Perl seed by id alone
my $nc = AempInterop::start_node(perl => nodeid => "nc", %cslave);
$sp->do(port => "inbox");
$nc->cmd(snd => $sp->port("inbox"), "across the mesh");
is_deeply $sp->expect(sub { $_[0][0] eq "rcv" }, 10), ["rcv", "inbox", "across the mesh"],
   "a slave of the C seed reaches a slave of the Perl seed by id (g_find)";
$nc->do(port => "inbox");
$sp->cmd(snd => $nc->port("inbox"), "and back");
is_deeply $nc->expect(sub { $_[0][0] eq "rcv" }, 10), ["rcv", "inbox", "and back"],
   "and the other way";

# ---- a third seed, known only through 'g -----------------------------------

# qseed is a second C seed that lists only itself and the Perl seed: the
# two C seeds learn of each other from 'g (the mesh's g_set) and must link
# on their own (keepalive); without that link what qseed's slave sets
# would not reach the C seed (the Perl seed forwards only its own slaves'
# changes)
my $qaddr = "127.0.0.1:" . AempInterop::free_port();
my $qseed = AempInterop::start_node(c => %net, nodeid => "qseed", binds => [$qaddr],
   seeds => [$qaddr, $paddr]);
ok $seed{cseed}->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "qseed" && $_[0][2] }, 10),
   "the C seed links to a third seed it only knows from 'g";
for my $s ($sc, $sp) {
   ok query_until($s, db_family => "'g", sub { 3 == keys %{ $_[0] } }),
      "'g at $s->{name} has the three seeds";
}
my $sq = AempInterop::start_node(perl => nodeid => "sq", %net, binds => ["127.0.0.1:*"],
   seeds => [$qaddr]);
$sq->do(db_set => "q", "mx", "sq-key", "sq");
for my $s ($sc, $sp) {
   ok $s->expect_db_mon(mx => sub { ($_[0][2]{"sq-key"} // "") eq "sq" }, 10),
      "a key set by the third seed's slave is seen at $s->{name}";
}
$qseed->kill_node("KILL");
for my $s ($sc, $sp) {
   $ev = $s->expect_db_mon(mx => sub { !exists $_[0][2]{"sq-key"} }, 10);
   is_deeply $ev && $ev->[2], \%live, "the third seed killed: its slave's key leaves $s->{name}";
   ok query_until($s, db_family => "'g", sub { 2 == keys %{ $_[0] } }),
      "and 'g at $s->{name} is back to two seeds";
}

done_testing;
