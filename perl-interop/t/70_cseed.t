# A C seed as the only seed of a network of Perl nodes (AnyEvent::MP 2.02).
# The C node lists its own bind address as its seed, so it runs the global
# service (Global.pm's role): the Intro's receiver and sender, both Perl
# and as MP/Intro.pod writes them, find each other through it; db_mon,
# db_keys, db_values and db_family answer the Perl nodes; a Perl node
# reaches another Perl non-seed node by id alone (g_find, answered by the
# C seed); an unknown node gets g_found null; a dead node's keys go.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time sleep);
use AempInterop;

AempInterop::plan_or_skip();

my $J = $AempInterop::JSON;
my $sport = AempInterop::free_port();
my $saddr = "127.0.0.1:$sport";
my %net = (secret => "cseed-secret");

# the C seed traces every message, so the test can see who answered what
my $seed = do {
   local $ENV{AE_MP_TRACE} = 1;
   AempInterop::start_node(c => nodeid => "cseed", %net,
      binds => [$saddr], seeds => [$saddr]);
};
my %member = (%net, binds => ["127.0.0.1:*"], seeds => [$saddr]);

# waits until the seed's log matches
sub seed_log_like {
   my ($re, $timeout) = @_;
   my $deadline = time + ($timeout // 10);
   while (1) {
      my $log = $seed->log_text;
      return 1 if $log =~ $re;
      return 0 if time >= $deadline;
      sleep 0.05;
   }
}

# ---- the Intro's programs, as MP/Intro.pod has them -----------------------
# Only configure's arguments differ (our network, from the command line)
# and the prints are JSON lines, so the harness can read them.

my $receiver_pl = <<'EOF';
   use AnyEvent;
   use AnyEvent::MP;
   use JSON::PP;
   $| = 1;
   sub out { print JSON::PP->new->canonical->encode([@_]), "\n" }

   configure %{ decode_json $ARGV[0] };

   my $port = port;
   db_set eg_receivers => $port;

   rcv $port, test => sub {
      my ($data, $reply_port) = @_;

      out received => $port, $data;
   };

   out ready => $NODE, $port;
   AnyEvent->condvar->recv;
EOF

my $sender_pl = <<'EOF';
   use AnyEvent;
   use AnyEvent::MP;
   use JSON::PP;
   $| = 1;
   sub out { print JSON::PP->new->canonical->encode([@_]), "\n" }

   configure %{ decode_json $ARGV[0] };

   my $guard = db_mon eg_receivers => sub {
      my ($family, $a, $c, $d) = @_;
      return unless %$family;

      # now there are some receivers, send them a message
      snd $_ => test => time
         for keys %$family;
      out sent => [sort keys %$family];
   };

   out ready => $NODE;
   AnyEvent->condvar->recv;
EOF

sub start_script {
   my ($name, $code, %args) = @_;
   my $node = AempInterop::spawn_child($name, $^X, "-e", $code,
      $J->encode({ %member, nodeid => $name, %args }));
   my $ready = $node->expect(sub { $_[0][0] eq "ready" }, 10)
      or die "$name did not start:\n" . $node->log_text;
   $node->{id} = $ready->[1];
   $node->{intro_port} = $ready->[2];
   $node
}

my $rcv1 = start_script(eg_receiver1 => $receiver_pl);
my $snd = start_script(eg_sender => $sender_pl);

my $ev = $snd->expect(sub { $_[0][0] eq "sent" && grep $_ eq $rcv1->{intro_port}, @{ $_[0][1] } }, 10);
ok $ev, "the Intro sender's db_mon finds the Intro receiver's port through the C seed"
   or diag $snd->log_text;
$ev = $rcv1->expect(sub { $_[0][0] eq "received" }, 10);
ok $ev && $ev->[1] eq $rcv1->{intro_port} && $ev->[2] =~ /^\d+$/ && abs($ev->[2] - time) < 60,
   "the receiver gets the sender's test message (the time)"
   or diag explain $ev, $rcv1->log_text;
ok seed_log_like(qr/^RCV eg_sender -> \["","g_mon1","eg_receivers"\]$/m)
   && seed_log_like(qr/^SND eg_sender <- \[null,"g_chg1","eg_receivers",\{"\Q$rcv1->{intro_port}\E":null\}\]$/m),
   "the C seed answered the sender's g_mon1 with the family";
ok seed_log_like(qr/^RCV eg_sender -> \["","g_find","eg_receiver1"\]$/m)
   && seed_log_like(qr/^SND eg_sender <- \[null,"g_found","eg_receiver1",\["127\.0\.0\.1:\d+"\]\]$/m),
   "and told it where the receiver listens (g_find, g_found)";

# a second receiver: the sender sends to both
my $rcv2 = start_script(eg_receiver2 => $receiver_pl);
ok $snd->expect(sub { $_[0][0] eq "sent" && 2 == @{ $_[0][1] } }, 10),
   "a second receiver appears at the sender";
ok $rcv2->expect(sub { $_[0][0] eq "received" }, 10), "and gets a message";
ok $rcv1->expect(sub { $_[0][0] eq "received" }, 10), "the first one gets another";

# the first receiver dies: its key goes, the sender hears of it
$rcv1->kill_node("KILL");
ok $snd->expect(sub { $_[0][0] eq "sent" && "@{ $_[0][1] }" eq $rcv2->{intro_port} }, 10),
   "a receiver killed with SIGKILL leaves the family (the sender sends to the other)";
ok $rcv2->expect(sub { $_[0][0] eq "received" }, 10), "which gets a message";

# ---- the database answers, asked by Perl nodes ---------------------------

my $pa = AempInterop::start_node(perl => nodeid => "pa", %member);
my $pb = AempInterop::start_node(perl => nodeid => "pb", %member);
is $pa->wait_master(sub { defined $_[0] }, 10), "cseed", "a Perl node's master is the C seed";
is $pb->wait_master(sub { defined $_[0] }, 10), "cseed", "(the other one's too)";

$pb->do(port => "inbox");
$pb->do(db_set => "k1", "svc", "pb-inbox", $pb->port("inbox"));
$pb->do(db_set => "k2", "svc", "conf", { list => [1, "two", undef], n => 1.5 });
$pa->do(db_set => "k3", "svc", "from-pa", "ünïcödé €");
$pa->do(db_mon => "svc", "svc");
my %want = (
   "pb-inbox" => $pb->port("inbox"),
   conf => { list => [1, "two", undef], n => 1.5 },
   "from-pa" => "ünïcödé €",
);
$ev = $pa->expect_db_mon(svc => sub { 3 == keys %{ $_[0][2] } }, 10);
is_deeply $ev && $ev->[2], \%want, "db_mon gives the family, every value intact";
is_deeply $pa->query(db_keys => "svc"), [sort keys %want], "db_keys";
is_deeply $pa->query(db_values => "svc"),
   [sort { $J->encode($a) cmp $J->encode($b) } values %want], "db_values";
is_deeply $pb->query(db_family => "svc"), \%want, "db_family";
is_deeply $pa->query(db_family => "no-such-family"), {}, "db_family of an unknown family: {}";
is_deeply $pa->query(db_keys => "no-such-family"), [], "db_keys of it: []";

my $l = $pa->query(db_family => "'l");
is_deeply [sort keys %{ $l || {} }], [sort qw(cseed eg_receiver2 eg_sender pa pb)],
   "'l lists the live nodes (the killed one is gone)";
is_deeply $l && $l->{cseed}, [$saddr], "the seed's addresses";
is_deeply $l && $l->{pb}, $pb->binds, "a Perl node's addresses, as it bound them";
is_deeply $pa->query(db_family => "'g"), { cseed => undef }, "'g: the C seed is the global node";

# changes and deletes reach the monitor
# (a new guard name: replacing guard k2 would run its db_del)
$pb->do(db_set => "k2b", "svc", "conf", "replaced");
$ev = $pa->expect_db_mon(svc => sub { "@{ $_[0][4] }" eq "conf" }, 10);
ok $ev && $ev->[2]{conf} eq "replaced" && !@{ $ev->[3] } && !@{ $ev->[5] }, "a change is a change";
$pa->do(db_release => "k3");
$ev = $pa->expect_db_mon(svc => sub { "@{ $_[0][5] }" eq "from-pa" }, 10);
ok $ev && !exists $ev->[2]{"from-pa"}, "a released guard deletes";
$pb->do(db_del => "svc", "conf");
$ev = $pa->expect_db_mon(svc => sub { "@{ $_[0][5] }" eq "conf" }, 10);
is_deeply $ev && $ev->[2], { "pb-inbox" => $pb->port("inbox") }, "db_del deletes";

# ---- finding a node by id alone ----------------------------------------------

$pa->cmd("nodes");
$ev = $pa->expect(sub { $_[0][0] eq "nodes" });
ok $ev && !grep($_ eq "pb", @$ev[1 .. $#$ev]), "pa has no link to pb yet";
$pa->do(port => "back");
$pa->cmd(snd => $pb->port("inbox"), "hello", $pa->port("back"));
is_deeply $pb->expect(sub { $_[0][0] eq "rcv" }, 10), ["rcv", "inbox", "hello", $pa->port("back")],
   "pa's message reaches pb, a non-seed node it only knew by id";
ok $pa->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "pb" && $_[0][2] }, 10),
   "through a direct link";
ok seed_log_like(qr/^RCV pa -> \["","g_find","pb"\]$/m)
   && seed_log_like(qr/^SND pa <- \[null,"g_found","pb",\Q@{[ $J->encode($pb->binds) ]}\E\]$/m),
   "whose addresses the C seed gave (g_found)";
$pb->cmd(snd => $pa->port("back"), "reply");
is_deeply $pa->expect(sub { $_[0][0] eq "rcv" }, 10), ["rcv", "back", "reply"], "and back";

# a node nobody knows: g_found null, which Perl's connect_to takes as an
# empty address list
$pa->do(mon => "ghost#port", "ghost");
$ev = $pa->expect(sub { $_[0][0] eq "mon" && $_[0][1] eq "ghost" }, 10);
is_deeply $ev, ["mon", "ghost", "transport_error", "ghost", "no known address"],
   "an unknown node id: the monitor fires with no known address";
ok seed_log_like(qr/^SND pa <- \[null,"g_found","ghost",null\]$/m),
   "the C seed answered g_found null";

# pb dies: its keys go at the monitor and from the database
$pb->kill_node("KILL");
$ev = $pa->expect_db_mon(svc => sub { "@{ $_[0][5] }" eq "pb-inbox" }, 10);
is_deeply $ev && $ev->[2], {}, "a killed node's keys are deleted";
is_deeply $pa->query(db_family => "svc"), {}, "db_family agrees";
ok !exists +($pa->query(db_family => "'l") // { pb => 1 })->{pb}, "and it left 'l";

done_testing;
