# caemp conform's TLS, handshake-timeout and secure-mode checks against a
# Perl 2.02 node and a C node, each with the network's certificate (from
# the rc file, made by caemp gencert), a short monitor_timeout and
# secure => 1: none of those checks skips, none fails. A seed with the
# certificate passes the seed group and the TLS checks.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use AempInterop;

AempInterop::plan_or_skip();
eval { require Net::SSLeay; 1 }
   or plan skip_all => "Net::SSLeay is not installed: Perl nodes cannot do TLS";

my $secret = "conform-secret";
my ($rc, $out, $err) = AempInterop::run_caemp(60, "gencert");
is $rc, 0, "caemp gencert" or diag $err;
my $cert = $AempInterop::JSON->decode(AempInterop::slurp("$AempInterop::TMP/rc"))->{cert};
AempInterop::write_rc({ cert => $cert });

my @mine = qw(T-TLS-CLIENT T-TLS-SERVER T-TLS-ANON T-TLS-WRONG-CERT
              T-TLS-NO-CERT T-TLS-AUTH-PLAIN T-HANDSHAKE-TIMEOUT
              K-SECURE-EVAL K-SECURE-SPAWN);

for my $kind (qw(perl c)) {
   my $port = AempInterop::free_port();
   my $node = AempInterop::start_node($kind => nodeid => "${kind}conformtls",
      binds => ["127.0.0.1:$port"], seeds => [], secret => $secret,
      monitor_timeout => 2, secure => 1);
   ($rc, $out, $err) = AempInterop::run_caemp(60, conform => "--secret", $secret,
      "--secure", "--monitor-timeout", 2, "127.0.0.1:$port");
   is $rc, 0, "$kind node: caemp conform exits 0" or diag "$out$err";
   for my $id (@mine) {
      like $out, qr/^ok \d+ - \Q$id\E (?!.*# SKIP)/m, "$kind node: $id passes";
   }
   # the certificate from --cert too, the rc file's left out
   my $pem = "$AempInterop::TMP/conform.pem";
   open my $fh, ">", $pem or die;
   print $fh $cert;
   close $fh;
   AempInterop::write_rc({});
   ($rc, $out, $err) = AempInterop::run_caemp(60, conform => "--secret", $secret,
      "--cert", $pem, "--only", "T-TLS-CLIENT", "127.0.0.1:$port");
   like $out, qr/^ok 1 - T-TLS-CLIENT (?!.*# SKIP)/m, "$kind node: --cert FILE"
      or diag "$out$err";
   ($rc, $out, $err) = AempInterop::run_caemp(60, conform => "--secret", $secret,
      "--only", "T-TLS-CLIENT,K-SECURE-EVAL,T-HANDSHAKE-TIMEOUT", "127.0.0.1:$port");
   is scalar(() = $out =~ /# SKIP/g), 3, "$kind node: without a cert, --secure "
      . "and a monitor_timeout those checks skip" or diag $out;
   AempInterop::write_rc({ cert => $cert });
   $node->cmd("quit") if $kind eq "c";
}

# a seed with the certificate (its own address its seed): the seed group
# passes too, none of it skipped, with the TLS checks against the seed
my @tls = grep /^T-/, @mine;
for my $kind (qw(perl c)) {
   my $port = AempInterop::free_port();
   my $addr = "127.0.0.1:$port";
   my $node = AempInterop::start_node($kind => nodeid => "${kind}conformtlsseed",
      binds => [$addr], seeds => [$addr], secret => $secret,
      monitor_timeout => 2);
   ($rc, $out, $err) = AempInterop::run_caemp(60, conform => "--secret", $secret,
      "--seed", "--monitor-timeout", 2, $addr);
   is $rc, 0, "$kind TLS seed: caemp conform --seed exits 0" or diag "$out$err";
   my @seed = $out =~ /^ok \d+ - (S-\S+) (?!.*# SKIP)/mg;
   cmp_ok scalar @seed, ">=", 18, "$kind TLS seed: the seed group passes, "
      . "none skipped (" . @seed . " checks)" or diag $out;
   for my $id (@tls) {
      like $out, qr/^ok \d+ - \Q$id\E (?!.*# SKIP)/m, "$kind TLS seed: $id passes";
   }
   $node->cmd("quit") if $kind eq "c";
}

done_testing;
