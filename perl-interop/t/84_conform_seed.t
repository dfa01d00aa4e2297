# caemp conform --seed, the global protocol against real seeds: a Perl
# 2.02 seed (a node whose seed is its own address, which makes it a
# global node) and a C seed (interop_node, likewise). Every check passes,
# the seed group (S-*) among them, within 30 seconds each; without
# --seed the seed group is not run, with --only seed only it is. The
# kit's faults side is tests/conform_faults.py (the seed-* faults).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use AempInterop;

AempInterop::plan_or_skip();

my $secret = "conform-seed-secret";

# Runs caemp conform with opts against port; returns the check ids that
# ran, after checking that none failed.
sub conform_ok {
   my ($what, $port, @opts) = @_;
   my $t0 = time;
   my ($rc, $out, $err) = AempInterop::run_caemp(60, conform => "--secret",
      $secret, @opts, "127.0.0.1:$port");
   my $secs = time - $t0;
   is $rc, 0, "$what: caemp conform exits 0" or diag "$out$err";
   my ($plan) = $out =~ /^1\.\.(\d+)$/m;
   my @results = $out =~ /^((?:not )?ok \d+ - \S+.*)$/mg;
   ok $plan && $plan == @results, "$what: the plan matches the results";
   is_deeply [grep /^not ok/, @results], [], "$what: no check failed";
   # the C node cannot spawn AnyEvent::MP::rcv (a Perl function): kernel
   # checks that need a spawned port skip there; no seed check may
   my @skipped = map { /- (\S+)/; $1 } grep /# SKIP/, @results;
   is_deeply [grep /^S-/, @skipped], [], "$what: no seed check skipped";
   note "$what: skipped @skipped" if @skipped;
   cmp_ok $secs, "<", 30, "$what: ran in under 30 s ("
      . sprintf("%.1f", $secs) . " s)";
   [map { /- (\S+)/; $1 } @results]
}

for my $kind (qw(perl c)) {
   my $port = AempInterop::free_port();
   my $addr = "127.0.0.1:$port";
   my $seed = AempInterop::start_node($kind => nodeid => "${kind}cfseed",
      binds => [$addr], seeds => [$addr], secret => $secret);
   my $name = $kind eq "perl" ? "Perl seed" : "C seed";

   my $ids = conform_ok("$name, --seed", $port, "--seed");
   my @seed = grep /^S-/, @$ids;
   cmp_ok scalar @seed, ">=", 18, "$name: the seed group ran ("
      . @seed . " checks)";
   ok scalar(grep /^[TK]-/, @$ids), "$name: with the node groups";

   $ids = conform_ok("$name, --only seed", $port, "--only", "seed");
   is scalar(grep !/^S-/, @$ids), 0, "$name: --only seed runs the seed "
      . "group alone";

   $ids = conform_ok("$name, no --seed", $port, "--only", "K-TIME");
   is_deeply $ids, ["K-TIME"], "$name: without --seed no seed check";
}

done_testing;
