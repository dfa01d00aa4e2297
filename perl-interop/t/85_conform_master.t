# caemp conform --master: the kit plays the seed a normal node connects
# to, against a Perl 2.02 normal node and a C node (tests/conform_node).
# Each node under test runs the master group's scenario
# (docs/conformance.md §4): the Perl node defines conform::db_set,
# db_del and db_mon through configure's eval parameter, the C node
# registers them. Every check passes, within 30 seconds each, and the
# JSON report says the same as the TAP.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time sleep);
use AempInterop;

AempInterop::plan_or_skip();

my $secret = "conform-secret";

# The scenario in Perl, as docs/conformance.md gives it.
my $scenario = <<'PERL';
sub conform::db_set { AnyEvent::MP::Kernel::db_set($_[0], $_[1], $_[2]); return }
sub conform::db_del { AnyEvent::MP::Kernel::db_del($_[0], $_[1]); return }
our %conform_mon;
sub conform::db_mon {
   my ($family, $port) = @_;
   $conform_mon{$family} = AnyEvent::MP::Kernel::db_mon($family, sub {
      my @lists = map +[sort @{ $_[$_] || [] }], 1 .. 3;
      AnyEvent::MP::Kernel::snd($port, conform_chg => $family, $_[0], @lists);
   });
   return
}
PERL

# Starts caemp conform --master, then the node (start_node gets the
# seed address), and checks the TAP and the JSON report.
sub master_ok {
   my ($what, $start_node) = @_;
   my $seed = "127.0.0.1:" . AempInterop::free_port();
   my $json = "$AempInterop::TMP/master-" . time . ".json";
   my $t0 = time;
   my $run = AempInterop::start_caemp(conform => "--master", "--listen", $seed,
      "--secret", $secret, "--json", $json);
   ok AempInterop::expect_caemp_line($run, sub { $_[0] =~ /^1\.\./ }, 10),
      "$what: the kit listens";
   my $node = $start_node->($seed);
   my ($rc, $out, $err) = AempInterop::finish_caemp($run, 60);
   my $secs = time - $t0;
   is $rc, 0, "$what: caemp conform --master exits 0" or diag "$out$err";
   my ($plan) = $out =~ /^1\.\.(\d+)$/m;
   my @results = $out =~ /^((?:not )?ok \d+ - \S+.*)$/mg;
   ok $plan && $plan == @results && $plan >= 14,
      "$what: the plan matches the results ($plan checks)";
   is_deeply [grep /^not ok/, @results], [], "$what: no check failed";
   is_deeply [grep /# SKIP/, @results], [], "$what: nothing skipped";
   cmp_ok $secs, "<", 30, "$what: the group ran in under 30 s ("
      . sprintf("%.1f", $secs) . " s)";
   my $report = eval { $AempInterop::JSON->decode(AempInterop::slurp($json)) };
   my @checks = @{ $report->{checks} || [] };
   is scalar(grep $_->{status} ne "pass", @checks), 0,
      "$what: the JSON report has every check passed";
   is scalar(@checks), $plan, "$what: and one entry per check";
   $node
}

# ---- a Perl 2.02 normal node --------------------------------------------------

master_ok("Perl node", sub {
   AempInterop::start_node(perl => nodeid => "perlmaster",
      binds => ["127.0.0.1:" . AempInterop::free_port()], seeds => [$_[0]],
      secret => $secret, eval => $scenario);
});

# ---- a C node ----------------------------------------------------------------------

master_ok("C node", sub {
   my $port = AempInterop::free_port();
   my $c = AempInterop::spawn_child("cmaster",
      "$AempInterop::BUILD/tests/conform_node", $port, $secret, "none", $_[0]);
   my $ready = readline $c->{out};
   is $ready, "ready\n", "the C node starts";
   $c
});

# ---- nobody connects: exit 2 ------------------------------------------------------

my ($rc, $out, $err) = AempInterop::run_caemp(30, conform => "--master",
   "--listen", "127.0.0.1:" . AempInterop::free_port(), "--secret", "x",
   "--wait", "0.5");
is $rc, 1, "a node that never connects: M-CONNECT fails, exit 1";
like $out, qr/^not ok 1 - M-CONNECT/m, "with M-CONNECT failed";

done_testing;
