# caemp's database commands and caemp nodes against a Perl 2.02 seed:
# db_keys, db_values and db_family print what a Perl node gets; db_set
# holds an entry until interrupted; db_mon prints each change; nodes prints
# the nodes linked; all fail loudly when no seed answers.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use AempInterop;

AempInterop::plan_or_skip();

my $JSON = $AempInterop::JSON;
my ($seed, $pn, $cn, $sport) = AempInterop::seed_network("caemp-db-secret");
my %net = (secret => "caemp-db-secret");

my %values = (str => "11", num => 11, float => 0.25, undef => undef,
   unicode => "\x{e9}t\x{e9} \x{2603}", nested => { b => [1, { c => "d" }], a => [] });
$pn->do(db_set => "p$_", "cdb", "p_$_", $values{$_}) for sort keys %values;
$cn->do(db_set => "c$_", "cdb", "c_$_", $values{$_}) for sort keys %values;
$pn->do(db_mon => "cdb", "cdb");
ok $pn->expect_db_mon(cdb => sub { 2 * keys %values == keys %{ $_[0][2] } }, 10),
   "the Perl node sees every key";

# ---- queries ----------------------------------------------------------------

for my $op (qw(db_keys db_values db_family)) {
   for my $family ("cdb", "'l", "nosuchfamily") {
      my ($rc, $out, $err) = AempInterop::run_caemp(15, $op, $family);
      is $rc, 0, "caemp $op $family exits 0" or diag $err;
      my $got = eval { $JSON->decode($out) };
      ok $out =~ /\A[^\n]*\n\z/ && defined $got, "prints one line of JSON" or diag $out;
      my $want = $pn->query($op, $family);
      if ($family eq "'l") { # the caemp node itself is in 'l: its own id
         my ($me) = grep m{^aemp/}, $op eq "db_values" ? () : ref $got eq "HASH" ? keys %$got : @$got;
         ok $op eq "db_values" || $me, "caemp's own node is in 'l" . ($me ? ": $me" : "");
         next; # ... and already gone, or not yet there, for the Perl node
      }
      is $out, $JSON->encode($want) . "\n", "caemp $op $family prints what the Perl node gets";
   }
}

# ---- db_set -------------------------------------------------------------------

my $set = AempInterop::start_caemp(db_set => "cdb", "from_caemp", '{"a":[1,"x"]}');
my $ev = $pn->expect_db_mon(cdb => sub { grep $_ eq "from_caemp", @{ $_[0][3] } }, 10);
ok $ev, "caemp db_set: the Perl node's db_mon sees the key";
is_deeply $ev && $ev->[2]{from_caemp}, { a => [1, "x"] }, "with the value decoded as JSON";
my $set2 = AempInterop::start_caemp(db_set => "cdb", "plain");
$ev = $pn->expect_db_mon(cdb => sub { grep $_ eq "plain", @{ $_[0][3] } }, 10);
ok $ev && exists $ev->[2]{plain} && !defined $ev->[2]{plain}, "without a value: null (undef)";
my $set3 = AempInterop::start_caemp(db_set => "cdb", "string", "not json");
$ev = $pn->expect_db_mon(cdb => sub { grep $_ eq "string", @{ $_[0][3] } }, 10);
is $ev && $ev->[2]{string}, "not json", "a plain argument is a string";

kill TERM => $set->{pid};
my ($rc, $out, $err) = AempInterop::finish_caemp($set, 10);
is $rc, 0, "caemp db_set exits 0 on SIGTERM" or diag $err;
is $out, "", "printing nothing";
ok $pn->expect_db_mon(cdb => sub { grep $_ eq "from_caemp", @{ $_[0][5] } }, 10),
   "and the key is gone";
kill INT => $set2->{pid};
($rc, $out, $err) = AempInterop::finish_caemp($set2, 10);
is $rc, 0, "caemp db_set exits 0 on SIGINT" or diag $err;
ok $pn->expect_db_mon(cdb => sub { grep $_ eq "plain", @{ $_[0][5] } }, 10),
   "and that key is gone too";
kill KILL => $set3->{pid};
AempInterop::finish_caemp($set3, 10);
ok $pn->expect_db_mon(cdb => sub { grep $_ eq "string", @{ $_[0][5] } }, 10),
   "a caemp db_set killed outright loses its key with its link";

# ---- db_mon -------------------------------------------------------------------

my $mon = AempInterop::start_caemp(db_mon => "cdb");
my $line = AempInterop::expect_caemp_line($mon, sub { 1 }, 10);
my %all = map { ("p_$_" => $values{$_}, "c_$_" => $values{$_}) } keys %values;
is $line, $JSON->encode({ added => \%all, changed => {}, deleted => [] }),
   "caemp db_mon: the first line has the whole family as added, keys sorted";
$pn->do(db_set => "new", "cdb", "zz_new", [1]);
is AempInterop::expect_caemp_line($mon, sub { 1 }, 10),
   '{"added":{"zz_new":[1]},"changed":{},"deleted":[]}', "a key added";
$cn->do(db_set => "cstr2", "cdb", "c_str", "changed"); # a second guard: the first stays
is AempInterop::expect_caemp_line($mon, sub { 1 }, 10),
   '{"added":{},"changed":{"c_str":"changed"},"deleted":[]}', "a key changed (by a C node)";
$pn->do(db_del => "cdb", "zz_new");
is AempInterop::expect_caemp_line($mon, sub { 1 }, 10),
   '{"added":{},"changed":{},"deleted":["zz_new"]}', "a key deleted";
$pn->kill_node("KILL");
is AempInterop::expect_caemp_line($mon, sub { 1 }, 10),
   $JSON->encode({ added => {}, changed => {}, deleted => [sort map "p_$_", keys %values] }),
   "a node killed: its keys deleted, sorted";
kill INT => $mon->{pid};
($rc, $out, $err) = AempInterop::finish_caemp($mon, 10);
is $rc, 0, "caemp db_mon exits 0 on SIGINT" or diag $err;
is $err, "", "and says nothing on stderr";

# ---- nodes --------------------------------------------------------------------

($rc, $out, $err) = AempInterop::run_caemp(15, "nodes");
is $rc, 0, "caemp nodes exits 0" or diag $err;
is $out, qq(["seed"]\n), "and prints the nodes up: the seed, not itself";

# ---- failures -----------------------------------------------------------------

($rc, $out, $err) = AempInterop::run_caemp(15, "db_keys");
isnt $rc, 0, "caemp db_keys without a family fails";
like $err, qr/usage/, "saying how to call it";

my $closed = AempInterop::free_port();
AempInterop::write_rc({ profile => { aemp => {
   seeds => ["127.0.0.1:$closed"], secret => $net{secret}, binds => ["127.0.0.1:*"] } } });
my $t0 = time;
($rc, $out, $err) = AempInterop::run_caemp(15, db_family => "cdb");
isnt $rc, 0, "caemp db_family without a reachable seed fails";
like $err, qr/db_family: no master node within 5 seconds/, "with a clear message" or diag $err;
ok time - $t0 < 10, "after about five seconds";
is $out, "", "printing nothing on stdout";

AempInterop::write_rc({ profile => { aemp => {
   seeds => ["127.0.0.1:$sport"], secret => "wrong", binds => ["127.0.0.1:*"] } } });
($rc, $out, $err) = AempInterop::run_caemp(15, "nodes");
isnt $rc, 0, "caemp nodes with a wrong secret fails";
like $err, qr/nodes: no master node.*\(last error: authentication failure\/shared secret mismatch\)/,
   "with a clear message naming the cause" or diag $err;

done_testing;
