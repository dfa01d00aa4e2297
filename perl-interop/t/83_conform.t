# caemp conform, the conformance kit, against real nodes: a Perl 2.02
# node, a C node (interop_node) and a node run by `caemp run`. Every
# check passes (skips allowed), within 30 seconds each, and the JSON
# report says the same as the TAP. The kit's faults side is
# tests/conform_faults.py.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use AempInterop;

AempInterop::plan_or_skip();

my $secret = "conform-secret";

# Runs caemp conform against port; checks the TAP and the JSON report.
sub conform_ok {
   my ($what, $port, @opts) = @_;
   my $json = "$AempInterop::TMP/conform-$port.json";
   my $t0 = time;
   my ($rc, $out, $err) = AempInterop::run_caemp(60, conform => @opts,
      "--json", $json, "127.0.0.1:$port");
   my $secs = time - $t0;
   is $rc, 0, "$what: caemp conform exits 0" or diag "$out$err";
   my ($plan) = $out =~ /^1\.\.(\d+)$/m;
   my @results = $out =~ /^((?:not )?ok \d+ - \S+.*)$/mg;
   ok $plan && $plan == @results && $plan >= 30,
      "$what: the plan matches the results ($plan checks)";
   my @failed = grep /^not ok/, @results;
   is_deeply \@failed, [], "$what: no check failed";
   my @skipped = map { /- (\S+)/; $1 } grep /# SKIP/, @results;
   note "$what: skipped @skipped" if @skipped;
   cmp_ok $secs, "<", 30, "$what: the catalogue ran in under 30 s ("
      . sprintf("%.1f", $secs) . " s)";
   my $report = eval { $AempInterop::JSON->decode(AempInterop::slurp($json)) };
   is scalar(grep $_->{status} eq "fail", @{ $report->{checks} || [] }), 0,
      "$what: the JSON report has no failure";
   is scalar(@{ $report->{checks} || [] }), $plan,
      "$what: and one entry per check";
   \@skipped
}

# ---- a Perl 2.02 node --------------------------------------------------------

my $pport = AempInterop::free_port();
my $perl = AempInterop::start_node(perl => nodeid => "perlconform",
   binds => ["127.0.0.1:$pport"], seeds => [], secret => $secret);
my $skipped = conform_ok("Perl node", $pport, "--secret", $secret);
# the TLS, handshake-timeout and secure-mode checks are opt-in (a
# certificate, --monitor-timeout, --secure: 86_conform_tls.t runs them)
is_deeply [grep !/^(T-TLS-|T-HANDSHAKE-TIMEOUT|K-SECURE-)/, @$skipped], [],
   "Perl node: nothing skipped but the opt-in checks";

# the secret from the rc file, as every caemp command takes it
AempInterop::write_rc({ secret => $secret });
my ($rc, $out, $err) = AempInterop::run_caemp(30, conform => "--only",
   "K-TIME,T-AUTH-HMAC", "127.0.0.1:$pport");
is $rc, 0, "the secret from the rc file" or diag "$out$err";
like $out, qr/^1\.\.2$/m, "--only selects two checks";
AempInterop::write_rc({});

# ---- a C node -----------------------------------------------------------------

my $cport = AempInterop::free_port();
my $c = AempInterop::start_node(c => nodeid => "cconform",
   binds => ["127.0.0.1:$cport"], seeds => [], secret => $secret);
conform_ok("C node", $cport, "--secret", $secret);

# ---- caemp run -----------------------------------------------------------------

my $rport = AempInterop::free_port();
my $run = AempInterop::start_caemp(run => nodeid => "runconform",
   binds => "[\"127.0.0.1:$rport\"]", secret => $secret);
my $up;
for (1 .. 100) {
   last if $up = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$rport");
   sleep 0.1;
}
ok $up, "caemp run listens";
close $up if $up;
conform_ok("caemp run", $rport, "--secret", $secret);
kill TERM => $run->{pid};

# ---- cannot run: exit 2 ----------------------------------------------------------

($rc, $out, $err) = AempInterop::run_caemp(30, conform => "--secret", "x",
   "127.0.0.1:" . AempInterop::free_port());
is $rc, 2, "an unreachable node: exit 2";
like $err, qr/cannot test/, "with a message";

done_testing;
