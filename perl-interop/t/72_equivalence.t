# State equivalence of the two seeds: one scripted sequence of sets,
# changes, deletes, registrations, monitors and node deaths, run once
# against a Perl (AnyEvent::MP 2.02) seed and once against the C seed, each
# time in a fresh network with the same node names and Perl nodes only
# around the seed. After every step the database's answers (db_family of
# every family touched, from a Perl node) must be the same, and so must
# every db_mon callback the Perl observers got, in order, monitor by
# monitor.
#
# Every step ends with a sync: the node that acted sets its key in the
# family "sync", which every observer monitors; a node's messages to the
# seed and the seed's to an observer keep their order, so once the
# observers see the sync, they have seen what the step caused. A node
# death is synced by its leaving 'l at the observer.
#
# Normalized: the values of 'l (addresses, with random ports) are left
# out, its keys are compared; the key lists of each callback are sorted
# (perl_node.pl does that). Perl's g_clr runs over a node's families in
# hash order, so the callbacks of different families may interleave in
# either order: each monitor's sequence is compared on its own.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time sleep);
use AempInterop;

AempInterop::plan_or_skip();

my $J = $AempInterop::JSON;

# every value kind JSON has, and a few strings and numbers a C seed could
# get wrong by re-encoding them
my @zoo = (
   int => 42, neg => -7, zero => 0, float => 0.1, third => 1 / 3, big => 1e20,
   huge => 1.5e300, tiny => 2.5e-300, int53 => 9007199254740993,
   u64 => "18446744073709551615" + 0, str_num => "007", str_float => "1.50",
   empty => "", null => undef, arr => [], hash => {},
   true => JSON::PP::true(), false => JSON::PP::false(),
   nested => { a => [1, [2, [3, { b => undef }]]], "" => "empty key" },
   uni => "ü€😀", "ключ" => "значение", esc => "a\nb\t\"c\\d/e",
   ctrl => "\x01\x1f\x7f", html => "<script>&amp;</script>",
   negzero => -0.0, one_nv => 1.0, str_int => "1", min_iv => -9223372036854775808,
);

sub run_network {
   my ($kind) = @_;
   my $sport = AempInterop::free_port();
   my $saddr = "127.0.0.1:$sport";
   my %net = (secret => "equivalence-secret");
   my %member = (%net, binds => ["127.0.0.1:*"], seeds => [$saddr]);
   my $seed = AempInterop::start_node($kind, %net, nodeid => "seed",
      binds => [$saddr], seeds => [$saddr]);
   my (%node, @observers, @steps, %fams, $sync_n);

   my $start = sub {
      my ($name) = @_;
      my $n = $node{$name} = AempInterop::start_node(perl => nodeid => $name, %member);
      $n->wait_master(sub { defined $_[0] }, 10) eq "seed"
         or die "$kind: $name has no master";
      $n
   };
   my $observe = sub {
      my ($n, @mons) = @_;
      $n->do(db_mon => "sync", "sync");
      $n->do(db_mon => @$_) for @mons;
      push @observers, $n;
      $fams{ $_->[1] } = 1 for @mons;
   };
   # every observer has seen the node's sync key at the counter's value
   my $sync = sub {
      my ($actor) = @_;
      my $i = ++$sync_n;
      $actor->do(db_set => "sync$i", "sync", $actor->{name}, $i);
      for my $o (@observers) {
         $o->expect_db_mon(sync => sub { ($_[0][2]{ $actor->{name} } // -1) == $i }, 10)
            or die "$kind: sync $i of $actor->{name} not seen at $o->{name}";
      }
   };
   # waits (consuming nothing) until the observer's monitor "l" of 'l has
   # reported the node deleted
   my $left = sub {
      my ($o, $name) = @_;
      my $deadline = time + 10;
      while (time < $deadline) {
         return if grep $_->[0] eq "db_mon" && $_->[1] eq "l" && grep($_ eq $name, @{ $_->[5] }),
            @{ $o->{backlog} };
         $o->expect(sub { 0 }, 0.05);
      }
      die "$kind: $name did not leave 'l at $o->{name}";
   };
   # after a step (synced by each node that acted): db_family of every
   # family touched so far, from obs
   my $step = sub {
      my ($what, @actors) = @_;
      $sync->($_) for @actors;
      my %snap;
      for my $f (sort keys %fams) {
         my $r = $node{obs}->query(db_family => $f);
         defined $r or die "$kind: no answer to db_family $f";
         $snap{$f} = $f eq "'l" ? [sort keys %$r] : $r;
      }
      push @steps, [$what, \%snap];
   };

   # ---- the script ----

   my $obs = $start->("obs");
   $fams{$_} = 1 for "'g", "never-set";
   $observe->($obs, [l => "'l"], [fa => "fa"], [fb => "fb"], [fc => "fc"]);
   $step->("observer up", $obs);
   # the seed itself monitors too (it is its own master)
   $node{seed} = $seed;
   $observe->($seed, [seedfa => "fa"], [seedfc => "fc"]);
   $step->("the seed monitors", $seed);

   my $n1 = $start->("n1");
   $observe->($n1, [n1fa => "fa"]);
   $step->("n1 up", $n1);
   my $n2 = $start->("n2");
   $step->("n2 up", $n2);
   my $n3 = $start->("n3");
   $n3->do(db_mon => "n3fa", "fa"); # a monitor that dies with its node
   $step->("n3 up", $n3);

   $n1->do(db_set => "s1", "fa", "k1", 1);
   $step->("n1 sets k1 = 1", $n1);
   $n2->do(db_set => "s2", "fa", "k2", { x => [1, 2, { y => undef }] });
   $step->("n2 sets k2", $n2);
   $n1->do(db_set => "s1b", "fa", "k1", "1");
   $step->("n1 sets k1 = \"1\" (equal as Perl compares: nothing is sent)", $n1);
   $n1->do(db_set => "s1c", "fa", "k1", "1.0");
   $step->("n1 sets k1 = \"1.0\"", $n1);
   $n2->do(db_set => "s2b", "fa", "k1", 2);
   $step->("n2 sets k1 = 2 over n1's", $n2);
   $n2->do(db_set => "s2c", "fa", "k1", 2);
   $step->("n2 sets k1 = 2 again (nothing is sent)", $n2);
   $n1->do(db_set => "s1d", "fa", "k2", { x => [1, 2, { y => undef }] });
   $step->("n1 sets k2 to n2's value", $n1);
   $n2->do(db_release => "s2b");
   $step->("n2 deletes its k1: n1's comes back", $n2);
   $n1->do(db_del => "fa", "k1");
   $step->("n1 deletes k1", $n1);
   $n2->do(db_release => "s2");
   $step->("n2 deletes its k2: n1's equal value stays", $n2);
   $n1->do(db_del => "fa", "k2", "nonexistent");
   $step->("n1 deletes k2 and a key it never set", $n1);
   $n3->do(db_set => "s3", "fa", "k3", "n3's");
   $n3->do(db_set => "s3b", "fa", "k4", ["n3's"]);
   $step->("n3 sets k3, k4", $n3);
   $seed->do(db_set => "ss1", "fa", "seedkey", { seed => [1] });
   $step->("the seed sets a key of its own", $seed);
   $seed->do(db_set => "ss2", "fa", "k4", "seed's");
   $step->("the seed sets k4 over n3's", $seed);
   $seed->do(db_release => "ss2");
   $step->("the seed deletes its k4: n3's comes back", $seed);
   $n3->do(db_set => "s3k", "fa", "k3", "n3's again");
   $seed->do(db_set => "ss3", "fa", "k3", "n3's again");
   $n3->do(db_release => "s3k");
   $step->("n3 and the seed set k3 to one value, n3 deletes its own", $n3, $seed);

   $n3->do(port => "p");
   $n3->do(port => "q");
   $n3->do(db_reg => "r", "fb", "p", "p-val");
   $n3->do(db_reg => "rq", "fb", "q");
   $step->("n3 registers two ports", $n3);
   $n3->do(mon => $n3->port("p"), "p-died");
   $n3->do(kil => $n3->port("p"), "killed", "by test");
   $n3->expect(sub { $_[0][0] eq "mon" && $_[0][1] eq "p-died" }, 10)
      or die "$kind: n3#p did not die";
   $step->("n3 kills a registered port", $n3);

   $n1->do(db_set => "z$_", "fc", $zoo[2 * $_], $zoo[2 * $_ + 1]) for 0 .. @zoo / 2 - 1;
   $step->("n1 sets every kind of value", $n1);
   $n2->do(db_set => "zz", "fc", "float", 0.25);
   $n2->do(db_set => "zy", "fc", "str_num", 7);
   $step->("n2 sets two of them over n1's", $n2);
   $n2->do(db_release => "zy");
   $step->("n2 deletes one", $n2);

   $obs->do(db_mon => "fa2", "fa");
   $step->("a second monitor of fa at obs", $obs);
   $obs->do(db_unmon => "fb");
   $step->("obs stops monitoring fb", $obs);
   $n3->do(db_set => "s3c", "fb", "while-unmonitored", 1);
   $step->("n3 sets a key in fb", $n3);
   $obs->do(db_mon => "fb2", "fb");
   $step->("obs monitors fb again", $obs);
   $fams{"unmonitored"} = 1;
   $n3->do(db_set => "s3d", "unmonitored", "k", "v");
   $step->("n3 sets a key in a family nobody monitors", $n3);

   # deaths
   $n2->cmd("quit");
   $left->($obs, "n2");
   $step->("n2 quits", $n1);
   $n3->kill_node("KILL");
   $left->($obs, "n3");
   $step->("n3 is killed (SIGKILL)", $n1);

   # finding nodes through the seed
   $n1->do(port => "inbox");
   $obs->do(port => "back");
   $obs->cmd(snd => $n1->port("inbox"), "hello", $obs->port("back"));
   my $rcv = $n1->expect(sub { $_[0][0] eq "rcv" }, 10);
   $obs->do(mon => "ghost#p", "ghost");
   my $ghost = $obs->expect(sub { $_[0][0] eq "mon" && $_[0][1] eq "ghost" }, 10);
   $obs->do(mon => "n3#q", "dead");
   my $dead = $obs->expect(sub { $_[0][0] eq "mon" && $_[0][1] eq "dead" }, 10);

   # a late node: its monitors start with what is there
   my $n4 = $start->("n4");
   $observe->($n4, [n4fa => "fa"], [n4fb => "fb"], [n4fc => "fc"]);
   $step->("n4 up", $n4);
   $n4->do(db_set => "s4", "fa", "k3", "n4's now");
   $step->("n4 sets k3, n3's key once", $n4);

   my %queries = map {
      my $f = $_;
      map +("$_->{name}: $f keys" => $_->query(db_keys => $f),
            "$_->{name}: $f values" => $_->query(db_values => $f)), $n4, $seed
   } qw(fa fb fc never-set);

   # the callbacks, per monitor (the syncs left out)
   my %events;
   for my $o (@observers) {
      for my $ev (grep $_->[0] eq "db_mon", @{ $o->{backlog} }) {
         my @e = @$ev;
         $e[2] = [sort keys %{ $e[2] }] if $e[1] eq "l";
         push @{ $events{"$o->{name}/$e[1]"} }, $J->encode([@e[2 .. 5]]);
      }
   }

   my $result = {
      steps => \@steps, events => \%events, queries => \%queries,
      rcv => $rcv, ghost => $ghost, dead => $dead,
   };
   $_->kill_node("TERM") for grep $_->{name} ne "n3", values %node;
   $result
}

my %run;
for my $kind (qw(perl c)) {
   my $r = eval { run_network($kind) };
   ok $r, "the script runs against a " . ($kind eq "c" ? "C" : "Perl") . " seed" or diag $@;
   $run{$kind} = $r;
}
my ($p, $c) = @run{qw(perl c)};

SKIP: {
   skip "a run failed", 4 unless $p && $c;

   # the reference run, to show the script tests something
   my %pstep = map @$_, @{ $p->{steps} };
   is_deeply $pstep{"n2 deletes its k1: n1's comes back"}{fa}, { k1 => "1.0", k2 => { x => [1, 2, { y => undef }] } },
      "(Perl seed) a deleted override brings the other node's value back";
   is_deeply $pstep{"n3 is killed (SIGKILL)"}{fb}, {}, "(Perl seed) a killed node's keys are gone";
   is $pstep{"n2 quits"}{fc}{float}, 0.1, "(Perl seed) a node that quit: its value gives way to the other's";
   is_deeply $p->{ghost}, ["mon", "ghost", "transport_error", "ghost", "no known address"],
      "(Perl seed) an unknown node: g_found null";
}

SKIP: {
   skip "a run failed", 1 unless $p && $c;
   is scalar @{ $c->{steps} }, scalar @{ $p->{steps} }, "as many steps";
   for my $i (0 .. $#{ $p->{steps} }) {
      my ($what, $ps) = @{ $p->{steps}[$i] };
      my $cs = $c->{steps}[$i][1];
      is $J->encode($cs), $J->encode($ps), "step " . ($i + 1) . ", $what: db_family agrees";
   }
   is_deeply [sort keys %{ $c->{events} }], [sort keys %{ $p->{events} }], "the same monitors called back";
   for my $m (sort keys %{ $p->{events} }) {
      my ($pe, $ce) = ($p->{events}{$m}, $c->{events}{$m} || []);
      is_deeply $ce, $pe, "db_mon $m: the same " . scalar(@$pe) . " callbacks"
         or diag "Perl seed:\n  " . join("\n  ", @$pe) . "\nC seed:\n  " . join("\n  ", @$ce);
   }
   is $J->encode($c->{queries}), $J->encode($p->{queries}), "db_keys and db_values agree";
   for my $k (qw(rcv ghost dead)) {
      is $J->encode($c->{$k}), $J->encode($p->{$k}), "$k: " . $J->encode($p->{$k});
   }
}

done_testing;
