# Messages, monitors and kills between a C node and a real Perl node.
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
my $c = AempInterop::start_node(c => nodeid => "cnode1",
   binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$pport"], secret => $secret);

sub rcv_on {
   my ($node, $name, $timeout) = @_;
   $node->expect(sub { $_[0][0] eq "rcv" && $_[0][1] eq $name }, $timeout)
}
# Waits until everything $from sent to $to so far has been handled there:
# the node port's snd relay answers behind it on the same link.
my $syncs = 0;
sub netsync {
   my ($from, $to) = @_;
   my $n = ++$syncs;
   $from->do(port => "sync");
   $from->cmd(snd => $to->id, "snd", $from->port("sync"), "synced", $n);
   $from->expect(sub { $_[0][0] eq "rcv" && $_[0][1] eq "sync" && $_[0][3] == $n }, 10)
      or die "no sync from " . $to->id;
}

sub mon_on {
   my ($node, $tag, $timeout) = @_;
   $node->expect(sub { $_[0][0] eq "mon" && $_[0][1] eq $tag }, $timeout)
}

# C -> Perl and the reply back
$perl->do(echo => "echo");
$c->do(port => "inbox");
$c->cmd(snd => $perl->port("echo"), "echo", $c->port("inbox"), 1, "two",
   { three => [3] }, undef, "gr\x{fc}\x{df}e \x{263a}", "18446744073709551615");
my $ev = rcv_on($c, "inbox");
is_deeply $ev, ["rcv", "inbox", "echoed", 1, "two", { three => [3] }, undef,
   "gr\x{fc}\x{df}e \x{263a}", "18446744073709551615"],
   "C sends to a Perl port and gets the reply";

my $up = $perl->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "cnode1" }, 5);
is $up->[2], 1, "the Perl node saw the C node come up";

# Perl -> C: to a C port, and through the node port's snd relay
$c->do(echo => "cecho");
$perl->do(port => "pinbox");
$perl->cmd(snd => $c->port("cecho"), "echo", $perl->port("pinbox"), "hi", 42);
$ev = rcv_on($perl, "pinbox");
is_deeply $ev, ["rcv", "pinbox", "echoed", "hi", 42], "Perl sends to a C port";
$perl->cmd(snd => "cnode1", "snd", $perl->port("pinbox"), "relayed", [1, 2]);
$ev = rcv_on($perl, "pinbox");
is_deeply $ev, ["rcv", "pinbox", "relayed", [1, 2]],
   "the C node port relays a snd request";

# time and can, asked of the C node by Perl
$perl->cmd(snd => "cnode1", "time", $perl->port("pinbox"), "t");
$ev = rcv_on($perl, "pinbox");
ok $ev && $ev->[2] eq "t" && abs($ev->[3] - time) < 60,
   "time answers with the C node's clock";
$perl->cmd(snd => "cnode1", "can", "mon1", $perl->port("pinbox"), "can");
$ev = rcv_on($perl, "pinbox");
is_deeply $ev, ["rcv", "pinbox", "can", "1"], "can mon1 answers \"1\"";
$perl->cmd(snd => "cnode1", "can", "no_such_req", $perl->port("pinbox"), "can");
$ev = rcv_on($perl, "pinbox");
is_deeply $ev, ["rcv", "pinbox", "can", ""], "can of an unknown request answers \"\"";
# ... and the same of the Perl node by C
$c->cmd(snd => "perl1", "can", "mon1", $c->port("inbox"), "can");
$ev = rcv_on($c, "inbox");
is_deeply $ev, ["rcv", "inbox", "can", "1"], "Perl's can answers alike";
$c->cmd(snd => "perl1", "time", $c->port("inbox"), "t");
$ev = rcv_on($c, "inbox");
ok $ev && abs($ev->[3] - time) < 60, "Perl's time reaches C";

# mon and kil, C monitoring Perl
$perl->do(port => "victim1");
$c->cmd(mon => $perl->port("victim1"), "v1");
netsync($c, $perl);
$c->cmd(kil => $perl->port("victim1"), "my_reason", "killed by C", 7);
$ev = mon_on($c, "v1");
is_deeply $ev, ["mon", "v1", "my_reason", "killed by C", 7],
   "C kills a Perl port it monitors and sees the reason";

$perl->do(port => "victim2");
$c->cmd(mon => $perl->port("victim2"), "v2");
netsync($c, $perl);
$perl->cmd(kil => $perl->port("victim2"), "perl_reason", "x");
$ev = mon_on($c, "v2");
is_deeply $ev, ["mon", "v2", "perl_reason", "x"],
   "Perl kills its own port; C's monitor sees the reason";

$perl->do(port => "victim3");
$c->cmd(mon => $perl->port("victim3"), "v3");
netsync($c, $perl);
$perl->cmd(kil => $perl->port("victim3"));
$ev = mon_on($c, "v3");
is_deeply $ev, ["mon", "v3"], "a normal kill gives an empty reason";

# mon and kil, Perl monitoring C
$c->do(port => "cvictim1");
$perl->cmd(mon => $c->port("cvictim1"), "cv1");
netsync($perl, $c);
$perl->cmd(kil => $c->port("cvictim1"), "perl_kills", "c port");
$ev = mon_on($perl, "cv1");
is_deeply $ev, ["mon", "cv1", "perl_kills", "c port"],
   "Perl kills a C port it monitors and sees the reason";

$c->do(port => "cvictim2");
$perl->cmd(mon => $c->port("cvictim2"), "cv2");
netsync($perl, $c);
$c->cmd(kil => $c->port("cvictim2"), "c_reason");
$ev = mon_on($perl, "cv2");
is_deeply $ev, ["mon", "cv2", "c_reason"], "C kills its own port; Perl sees it";

# an unhandled message kills a port without default callback, alike in C
# and in Perl
for my $pair ([$c, $perl], [$perl, $c]) {
   my ($owner, $other) = @$pair;
   $owner->cmd(strict => "strict");
   my $port = $owner->expect(sub { $_[0][0] eq "strict" })->[2];
   $other->do(port => "sinbox");
   $other->cmd(snd => $port, "echo", $other->port("sinbox"), "still works");
   is_deeply rcv_on($other, "sinbox"), ["rcv", "sinbox", "echoed", "still works"],
      "$owner->{name}: a tag port answers";
   $other->cmd(mon => $port, "strict");
   netsync($other, $owner);
   $other->cmd(snd => $port, "non	sense", 1);
   $ev = mon_on($other, "strict");
   is_deeply $ev, ["mon", "strict", "unhandled_message",
      "no callback found for message 'non.sense'"],
      "$owner->{name}: an unmatched message kills the port with Perl's reason";
}

# no_such_port both ways
$c->cmd(mon => $perl->port("nonexistent"), "nsp1");
$ev = mon_on($c, "nsp1");
is_deeply $ev, ["mon", "nsp1", "no_such_port", "cannot monitor nonexistent port",
   "perl1#nonexistent"], "C monitoring a missing Perl port: no_such_port";
$perl->cmd(mon => $c->port("nonexistent"), "nsp2");
$ev = mon_on($perl, "nsp2");
is_deeply $ev, ["mon", "nsp2", "no_such_port", "cannot monitor nonexistent port",
   "cnode1#nonexistent"], "Perl monitoring a missing C port: no_such_port";

# a Perl node killed with SIGKILL fires the C monitors
$perl->do(port => "last");
$c->cmd(mon => $perl->port("last"), "last");
$c->cmd(mon => "perl1", "nodeport");
netsync($c, $perl);
$perl->kill_node("KILL");
$ev = mon_on($c, "last");
is_deeply [@$ev[0 .. 3]], ["mon", "last", "transport_error", "perl1"],
   "SIGKILL of the Perl node: transport_error";
ok defined $ev->[4] && length $ev->[4], "with a message ($ev->[4])";
$ev = mon_on($c, "nodeport");
is $ev->[2], "transport_error", "a monitor of the node port fires too";
$ev = $c->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "perl1" && !$_[0][2] }, 5);
ok $ev, "the C node reports perl1 down";

$c->cmd("quit");
done_testing;
