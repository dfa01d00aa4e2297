# max_frame against a real Perl node: a Perl node that sends a C node a
# frame over the C node's cap loses the link, the C node's monitors see
# the cap named, and the C node goes on (its seed link comes back and
# carries messages). Once for each framing the C node reads.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use AempInterop;

AempInterop::plan_or_skip();

my $secret = "interop-secret";
my $pport = AempInterop::free_port();
my $perl = AempInterop::start_node(perl => nodeid => "perl1",
   binds => ["127.0.0.1:$pport"], seeds => [], secret => $secret);
$perl->do(echo => "echo");
$perl->do(port => "anchor");

for my $framing (qw(cbor json)) {
   my $c = AempInterop::start_node(c => nodeid => "c_$framing",
      binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$pport"],
      secret => $secret, framing_format => [$framing], max_frame => 65536);
   $c->do(port => "inbox");

   # the C node monitors a Perl port, and hears back over the link
   $c->cmd(mon => $perl->port("anchor"), "anchor");
   $c->cmd(snd => $perl->port("echo"), "echo", $c->port("inbox"), "before");
   my $ev = $c->expect(sub { $_[0][0] eq "rcv" && $_[0][2] eq "echoed" }, 10);
   is_deeply $ev, ["rcv", "inbox", "echoed", "before"],
      "$framing: the link works";

   # a frame under the cap passes, one over it ends the link
   $perl->cmd(snd => $c->port("inbox"), "fits", "x" x 30000);
   $ev = $c->expect(sub { $_[0][0] eq "rcv" && $_[0][2] eq "fits" }, 10);
   is length($ev && $ev->[3]), 30000, "$framing: 30000 bytes pass a 64 KiB cap";
   $c->discard(sub { $_[0][0] eq "node" }); # the first link's coming up
   $perl->cmd(snd => $c->port("inbox"), "too big", "x" x 100000);
   $ev = $c->expect(sub { $_[0][0] eq "mon" && $_[0][1] eq "anchor" }, 10);
   is_deeply $ev, ["mon", "anchor", "transport_error", "perl1",
      "frame exceeds max_frame (65536 bytes)"],
      "$framing: 100000 bytes close the link, the monitor names the cap";
   ok !$c->expect(sub { $_[0][0] eq "rcv" && $_[0][2] eq "too big" }, 0.5),
      "$framing: the frame was not delivered";

   # the C node goes on: its seed link comes back and works
   ok $c->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "perl1" && !$_[0][2] }, 10),
      "$framing: the C node saw perl1 go down";
   ok $c->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "perl1" && $_[0][2] }, 30),
      "$framing: the C node connects to its seed again";
   $c->cmd(snd => $perl->port("echo"), "echo", $c->port("inbox"), "after");
   $ev = $c->expect(sub { $_[0][0] eq "rcv" && $_[0][2] eq "echoed" }, 10);
   is_deeply $ev, ["rcv", "inbox", "echoed", "after"],
      "$framing: and the new link carries messages";
   $c->cmd("quit");
}

done_testing;
