# TLS links between C and real Perl nodes configured by a certificate in
# the rc file (made by caemp gencert, as aemp gencert makes one).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use AempInterop;

AempInterop::plan_or_skip();
eval { require Net::SSLeay; 1 }
   or plan skip_all => "Net::SSLeay is not installed: Perl nodes cannot do TLS";

$ENV{AE_VERBOSE} = 9; # roles and refusals are logged at trace level

# a certificate for the network, and another one for an outsider
my ($rc, $out, $err) = AempInterop::run_caemp(60, "gencert");
is $rc, 0, "caemp gencert" or diag $err;
my $cfg = $AempInterop::JSON->decode(AempInterop::slurp("$AempInterop::TMP/rc"));
my $cert = $cfg->{cert};
like $cert, qr/BEGIN CERTIFICATE.*BEGIN PRIVATE KEY/s, "it holds a certificate and its key";
AempInterop::write_rc({}, "$AempInterop::TMP/rc");
AempInterop::run_caemp(60, "gencert");
my $other = $AempInterop::JSON->decode(AempInterop::slurp("$AempInterop::TMP/rc"))->{cert};
isnt $other, $cert, "a second, different certificate";
AempInterop::write_rc({ cert => $cert });

sub rcv_on {
   my ($node, $name) = @_;
   $node->expect(sub { $_[0][0] eq "rcv" && $_[0][1] eq $name }, 10)
}

# TLS only (no secret): C to Perl and Perl to C, over many links so that
# C is the TLS client in some and the server in others
my $pport = AempInterop::free_port();
my $perl = AempInterop::start_node(perl => nodeid => "ptls",
   binds => ["127.0.0.1:$pport"], seeds => []);
$perl->do(echo => "echo");
$perl->do(port => "inbox");
my (%roles, $n);
for my $i (1 .. 30) {
   my $c = AempInterop::start_node(c => nodeid => "ctls$i",
      binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$pport"]);
   $c->do(port => "inbox");
   $c->do(echo => "echo");
   $c->cmd(snd => $perl->port("echo"), "echo", $c->port("inbox"), "c to perl $i");
   my $ev = rcv_on($c, "inbox");
   $n++ if $ev && $ev->[3] eq "c to perl $i";
   $perl->cmd(snd => $c->port("echo"), "echo", $perl->port("inbox"), "perl to c $i");
   $ev = rcv_on($perl, "inbox");
   $n++ if $ev && $ev->[3] eq "perl to c $i";
   my $log = $c->log_text;
   $roles{client}++ if $log =~ /TLS as client/;
   $roles{server}++ if $log =~ /TLS as server/;
   like $log, qr/connected as ptls over TLS/, "link $i is TLS" if $i == 1;
   $c->cmd("quit");
   last if $i >= 4 && $roles{client} && $roles{server};
}
ok $roles{client}, "C was the TLS client ($roles{client} links)";
ok $roles{server}, "C was the TLS server ($roles{server} links)";
is $n, 2 * ($roles{client} + $roles{server}), "messages both ways on every link";

# TLS with a secret: still TLS (tls_sha3_512), both sides configured alike
my $pport2 = AempInterop::free_port();
my $perl2 = AempInterop::start_node(perl => nodeid => "ptls2",
   binds => ["127.0.0.1:$pport2"], seeds => [], secret => "also-a-secret");
my $c2 = AempInterop::start_node(c => nodeid => "ctls-secret",
   binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$pport2"], secret => "also-a-secret");
$perl2->do(echo => "echo");
$c2->do(port => "inbox");
$c2->cmd(snd => $perl2->port("echo"), "echo", $c2->port("inbox"), "tls+secret");
is_deeply rcv_on($c2, "inbox"), ["rcv", "inbox", "echoed", "tls+secret"], "TLS with a secret";
like $c2->log_text, qr/connected as ptls2 over TLS/, "over TLS";

# a node with a different certificate is refused on both sides
AempInterop::write_rc({ cert => $other }, "$AempInterop::TMP/other.rc");
{
   local $ENV{PERL_ANYEVENT_MP_RC} = "$AempInterop::TMP/other.rc";
   my $cx = AempInterop::start_node(c => nodeid => "coutsider",
      binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$pport"]);
   my $px = AempInterop::start_node(perl => nodeid => "poutsider",
      binds => ["127.0.0.1:*"], seeds => [$c2->binds->[0]]);
   my $ok;
   for (1 .. 100) {
      # whichever side's verification fails first, the other may see the
      # TLS alert or just the close: a TLS error or a disconnect
      $ok = $cx->log_text =~ /disconnected - / && $c2->log_text =~ /disconnected - /;
      last if $ok;
      select undef, undef, undef, 0.05;
   }
   ok $ok, "a C outsider fails against the Perl node, and C refuses a Perl outsider";
   like $perl->log_text, qr/disconnected/, "the Perl node logs the refused link";
   $cx->cmd("nodes");
   is_deeply $cx->expect(sub { $_[0][0] eq "nodes" }), ["nodes"], "no link came up";
   like $px->log_text, qr/error|fail|disconnected/i, "the Perl outsider logs its failure";
   $cx->cmd("quit");
}

# the global database over TLS: a Perl seed, a C node sets a key, a Perl
# node sees it with db_mon and reaches the C node by id (g_find)
my $sport = AempInterop::free_port();
my $seed = AempInterop::start_node(perl => nodeid => "tseed",
   binds => ["127.0.0.1:$sport"], seeds => ["127.0.0.1:$sport"]);
my $cg = AempInterop::start_node(c => nodeid => "cglobal",
   binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$sport"]);
my $pg = AempInterop::start_node(perl => nodeid => "pglobal",
   binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$sport"]);
$cg->do(port => "svc");
$cg->do(db_reg => "reg", "tls_services", "svc", "over tls");
$pg->cmd(db_mon => "m", "tls_services");
my $ev = $pg->expect(sub { $_[0][0] eq "db_mon" && exists $_[0][2]{"cglobal#svc"} }, 15);
ok $ev, "the Perl node sees the C node's key over TLS";
$pg->cmd(snd => "cglobal#svc", "found you");
is_deeply rcv_on($cg, "svc"), ["rcv", "svc", "found you"], "and reaches it by id";

done_testing;
