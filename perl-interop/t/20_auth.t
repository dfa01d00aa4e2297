# A wrong secret is refused on both sides, each logging why, and neither
# node is disturbed: with the right secret the same nodes talk at once.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep);
use AempInterop;

AempInterop::plan_or_skip();

$ENV{AE_VERBOSE} = 9; # Perl logs refused links at trace level

sub wait_log {
   my ($node, $re) = @_;
   for (1 .. 100) {
      return 1 if $node->log_text =~ $re;
      sleep 0.05;
   }
   diag $node->log_text;
   0
}

for my $dir ("c-connects", "perl-connects") {
   my $pport = AempInterop::free_port();
   my $cport = AempInterop::free_port();
   my $perl = AempInterop::start_node(perl => nodeid => "perl-$dir",
      binds => ["127.0.0.1:$pport"], secret => "perl-secret",
      seeds => $dir eq "perl-connects" ? ["127.0.0.1:$cport"] : []);
   my $c = AempInterop::start_node(c => nodeid => "c-$dir",
      binds => ["127.0.0.1:$cport"], secret => "c-secret",
      seeds => $dir eq "c-connects" ? ["127.0.0.1:$pport"] : []);
   my $mismatch = qr/authentication failure\/shared secret mismatch/;
   ok wait_log($perl, $mismatch), "$dir: the Perl node logs the mismatch";
   ok wait_log($c, $mismatch), "$dir: the C node logs the mismatch";

   $c->cmd("nodes");
   my $ev = $c->expect(sub { $_[0][0] eq "nodes" });
   is_deeply $ev, ["nodes"], "$dir: no link came up";

   # both nodes go on serving: a third node with the C node's secret
   my $c2 = AempInterop::start_node(c => nodeid => "c2-$dir",
      binds => ["127.0.0.1:*"], secret => "c-secret",
      seeds => ["127.0.0.1:$cport"]);
   $c->do(echo => "echo");
   $c2->do(port => "inbox");
   $c2->cmd(snd => $c->port("echo"), "echo", $c2->port("inbox"), "fine");
   is_deeply $c2->expect(sub { $_[0][0] eq "rcv" }), ["rcv", "inbox", "echoed", "fine"],
      "$dir: the C node still serves its other links";
   $_->cmd("quit") for $c, $c2, $perl;
}

done_testing;
