# A Perl node that stops (SIGSTOP) while a C node sends to it: the C node
# does not queue without bound. Its unsent output reaches max_send_queue,
# or stays unmoved for monitor_timeout, and the link closes with that
# reason; the C node's monitors of the Perl node's ports fire and it goes
# on. Once continued, the Perl node links again.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use AempInterop;

AempInterop::plan_or_skip();

my $secret = "stop-secret";
my $pport = AempInterop::free_port();
my $perl = AempInterop::start_node(perl => nodeid => "sleeper",
   binds => ["127.0.0.1:$pport"], seeds => [], secret => $secret);
my $chunk = "x" x 65536;

# Links c to the Perl node, stops the Perl node, and sends it $mib MiB.
sub flood_stopped {
   my ($c, $mib) = @_;
   $perl->do(echo => "echo");
   $c->do(port => "inbox");
   $c->cmd(snd => $perl->port("echo"), "echo", $c->port("inbox"), 1);
   $c->expect(sub { $_[0][0] eq "rcv" && $_[0][1] eq "inbox" }, 10)
      or die "no link:\n" . $c->log_text;
   $c->do(mon => $perl->port("echo"), "lost");
   kill STOP => -$perl->{pid};
   $c->cmd(snd => $perl->port("echo"), "big", $chunk) for 1 .. $mib * 16;
   my $ev = $c->expect(sub { $_[0][0] eq "mon" && $_[0][1] eq "lost" }, 30);
   kill CONT => -$perl->{pid};
   $ev
}

# the cap: 1 MiB, 16 MiB offered
my $c1 = AempInterop::start_node(c => nodeid => "capped",
   binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$pport"], secret => $secret,
   max_send_queue => 1048576);
my $ev = flood_stopped($c1, 16);
is_deeply $ev, ["mon", "lost", "transport_error", "sleeper",
   "send queue exceeds max_send_queue (1048576 bytes)"],
   "past max_send_queue the link closes and the monitor fires with the cap"
   or diag $c1->log_text;
$c1->do(port => "after"); # dies if the node does not answer
pass "the C node goes on";
$c1->kill_node;

# the write timeout: 2 s, 32 MiB offered (more than the sockets take, less
# than the cap)
my $c2 = AempInterop::start_node(c => nodeid => "patient",
   binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$pport"], secret => $secret,
   monitor_timeout => 2, max_send_queue => 256 * 1048576);
$ev = flood_stopped($c2, 32);
is_deeply $ev, ["mon", "lost", "transport_error", "sleeper",
   "write timeout: the peer took nothing for 2 seconds"],
   "output unmoved for monitor_timeout closes the link"
   or diag $c2->log_text;

# continued, the Perl node (c2's seed) is linked again; a message sent
# before that could meet the connect timeout
$c2->discard(sub { $_[0][0] eq "node" });
ok $c2->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "sleeper" && $_[0][2] }, 30),
   "the Perl node, continued, is linked again" or diag $c2->log_text;
$c2->do(port => "inbox2");
$c2->cmd(snd => $perl->port("echo"), "echo", $c2->port("inbox2"), 2);
ok $c2->expect(sub { $_[0][0] eq "rcv" && $_[0][1] eq "inbox2" }, 20),
   "and answers over the new link" or diag $c2->log_text;

done_testing;
