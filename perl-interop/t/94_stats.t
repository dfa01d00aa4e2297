# caemp stats (docs/metrics.md) against a C node (its named function
# aemp::stats) and Perl nodes (what eval can learn), counters moving as
# messages flow; --json and --interval; and an rc profile with
# metrics_bind that a Perl node ignores and a C node serves GET /metrics
# from.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use IO::Socket::INET;
use AempInterop;

AempInterop::plan_or_skip();

my $JSON = $AempInterop::JSON;
my ($seed, $pn, $cn, $sport) = AempInterop::seed_network("stats-secret");
$_->wait_master(sub { defined $_[0] }, 10) for $pn, $cn;

# One sample's value from caemp stats' text: "NAME{LABELS} VALUE" lines.
sub value_of {
   my ($out, $sample) = @_;
   $out =~ /^\Q$sample\E (\S+)$/m ? $1 : undef
}

sub stats_of {
   my (@args) = @_;
   my ($rc, $out, $err) = AempInterop::run_caemp(20, stats => @args);
   is $rc, 0, "caemp stats @args exits 0" or diag $err;
   $out
}

# ---- a C node ------------------------------------------------------------------

my $out = stats_of("cnode");
is value_of($out, 'aemp_node_info{node="cnode"}'), 1, "the C node names itself";
ok value_of($out, 'aemp_link_up{peer="seed",framing="cbor"}'),
   "its link to the Perl seed, with the peer and framing" or diag $out;
is value_of($out, "aemp_global_node"), 0, "it is no global node";
unlike $out, qr/^#/m, "no comment lines";

my $j1 = $JSON->decode(stats_of("cnode", "--json"));
is $j1->{node}, "cnode", "--json: the stats map";
is $j1->{provider}, "libaemp", "from libaemp";
is $j1->{metrics}{aemp_messages_in_total}{type}, "counter", "with the types";
# messages to the C node move its counters
$pn->do(snd => "cnode", "hello", $_) for 1 .. 20;
my $j2 = $JSON->decode(stats_of("cnode", "--json"));
my $in = sub {
   my $s = 0;
   $s += $_->[1] for @{ $_[0]{metrics}{aemp_messages_in_total}{samples} };
   $s
};
cmp_ok $in->($j2) - $in->($j1), ">=", 20, "messages in moved by the 20 sent";

# ---- Perl nodes, by eval ----------------------------------------------------------

is $JSON->decode(stats_of("pnode", "--json"))->{provider}, "perl", "a Perl node's, by eval";
$out = stats_of("pnode");
is value_of($out, 'aemp_node_info{node="pnode"}'), 1, "the Perl node answers by eval";
is value_of($out, 'aemp_link_up{peer="seed"}'), 1, "its link to the seed";
ok defined value_of($out, "aemp_ports"), "its ports";
is value_of($out, "aemp_global_node"), 0, "no global node";

$out = stats_of("seed");
is value_of($out, "aemp_global_node"), 1, "the Perl seed is a global node";
cmp_ok value_of($out, "aemp_seed_nodes") // 0, ">=", 2, "with its nodes";
cmp_ok value_of($out, "aemp_seed_keys") // 0, ">=", 3, "and its database's keys";

my ($rc, undef, $err) = AempInterop::run_caemp(20, stats => "nosuchnode");
isnt $rc, 0, "a node nobody knows fails";
like $err, qr/nosuchnode/, "naming it";
($rc, undef, $err) = AempInterop::run_caemp(20, stats => "cnode", "--interval", "x");
isnt $rc, 0, "a bad --interval fails";

# ---- --interval: rates ----------------------------------------------------------

my $run = AempInterop::start_caemp(stats => "cnode", "--interval", "0.5");
ok AempInterop::expect_caemp_line($run, sub { $_[0] =~ /^aemp_messages_in_total/ }, 15),
   "--interval: totals first";
ok AempInterop::expect_caemp_line($run, sub { $_[0] =~ /^aemp_messages_in_per_second\{framing="cbor"\} \d+$/ }, 15),
   "then per-second rates";
kill TERM => -$run->{pid};
AempInterop::finish_caemp($run, 10);

# ---- metrics_bind in a profile Perl nodes share ----------------------------------------

my $mport = AempInterop::free_port();
AempInterop::write_rc({ profile => {
   aemp => { seeds => ["127.0.0.1:$sport"], secret => "stats-secret", binds => ["127.0.0.1:*"] },
   shared => { seeds => ["127.0.0.1:$sport"], secret => "stats-secret", binds => ["127.0.0.1:*"],
               metrics_bind => "127.0.0.1:$mport" } } });
my $pm = AempInterop::start_node(perl => profile => "shared", nodeid => "pmetrics");
ok $pm, "a Perl node configured from a profile with metrics_bind starts";
my $cm = AempInterop::start_node(c => profile => "shared", nodeid => "cmetrics");
my $sock = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$mport", Timeout => 10);
ok $sock, "the C node from the same profile serves metrics_bind";
print $sock "GET /metrics HTTP/1.0\r\n\r\n" if $sock;
my $resp = $sock ? do { local $/; <$sock> } // "" : "";
like $resp, qr{\AHTTP/1\.\d 200}, "GET /metrics: 200";
like $resp, qr/^# TYPE aemp_messages_in_total counter$/m, "Prometheus text";
like $resp, qr/^aemp_node_info\{node="cmetrics"\} 1$/m, "of that node";
$out = stats_of("pmetrics");
is value_of($out, 'aemp_node_info{node="pmetrics"}'), 1, "and the Perl node answers caemp stats";

# ---- the rc key: caemp setmetrics_bind / delmetrics_bind ----------------------------------

my $rcfile = AempInterop::write_rc({}, "$AempInterop::TMP/rc-metrics");
{
   local $ENV{PERL_ANYEVENT_MP_RC} = $rcfile;
   ($rc, undef, $err) = AempInterop::run_caemp(10, profile => "p", setmetrics_bind => "127.0.0.1:9464");
   is $rc, 0, "caemp profile p setmetrics_bind ADDR" or diag $err;
   my $cfg = $JSON->decode(AempInterop::slurp($rcfile));
   is $cfg->{profile}{p}{metrics_bind}, "127.0.0.1:9464", "sets it in the profile";
   ($rc) = AempInterop::run_caemp(10, profile => "p", "delmetrics_bind");
   $cfg = $JSON->decode(AempInterop::slurp($rcfile));
   ok !$rc && !exists $cfg->{profile}{p}{metrics_bind}, "delmetrics_bind removes it";
   ($rc, undef, $err) = AempInterop::run_caemp(10, "setmetrics_bind");
   isnt $rc, 0, "setmetrics_bind without an address fails";
   like $err, qr/metrics bind address missing/, "saying what is missing";
}

done_testing;
