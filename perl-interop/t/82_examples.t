# The distribution's eg/ programs in 2.x style, ported to C with
# libaemp_compat (compat/examples/) and as Perl fixtures (eg/*.pl), with
# each other: the simple sender and receiver, and the "bridge head" chat
# server with Perl and C clients. Like the originals, the programs call
# configure without arguments: the rc file gives them the seed (a Perl
# node that lists its own address as its seed) and the secret.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use AempInterop;
use AempScenario;

AempInterop::plan_or_skip();
-x "$AempInterop::BUILD/compat/chat_server2"
   or plan skip_all => "the compat examples are not built";

my $sport = AempInterop::free_port();
my %net = (secret => "eg-secret");
my $seed = AempInterop::start_node(perl => nodeid => "seed", %net,
   binds => ["127.0.0.1:$sport"], seeds => ["127.0.0.1:$sport"]);
# autocork: a Perl node writes what one event loop round sends in one go,
# as a busy node does (a C node always does)
AempInterop::write_rc({ %net, seeds => ["127.0.0.1:$sport"], binds => ["127.0.0.1:*"],
   autocork => 1 });

# The seed watches the families, so the test knows who registered.
$seed->do(db_mon => "receivers", "eg_receivers");
$seed->do(db_mon => "servers", "eg_chat_server2");

sub family_has {
   my ($mon, $pred, $what) = @_;
   my $ev = $seed->expect_db_mon($mon => sub { $pred->($_[0][2]) }, 15);
   ok $ev, $what;
   $ev ? $ev->[2] : {}
}

sub stop { $_->kill_node("TERM") for @_ }

# ---- simple_example_receiver and simple_example_sender ------------------------

for my $pair (["c", "perl"], ["perl", "c"]) {
   my ($rkind, $skind) = @$pair;
   my $who = "$skind sender, $rkind receiver";
   my $rcv = AempScenario::start_program($rkind, "simple_example_receiver", "rcv_$rkind");
   my $db = family_has(receivers => sub { keys %{ $_[0] } == 1 },
      "$who: the receiver registers its port (db_reg)");
   my ($port) = keys %$db;
   my $snd = AempScenario::start_program($skind, "simple_example_sender", "snd_$skind");
   my $line = AempScenario::expect_line($rcv, qr/^Received data: /, 15);
   like $line, qr/^Received data: \d+$/, "$who: the receiver prints what the sender sent"
      or diag $rcv->log_text, $snd->log_text;
   my ($t) = ($line // "") =~ /(\d+)$/;
   ok $t && abs($t - time) < 60, "$who: the time, in seconds";
   ok AempScenario::expect_line($rcv, qr/^Received data: \d+$/, 5),
      "$who: and again a second later";
   stop($snd, $rcv);
   family_has(receivers => sub { !exists $_[0]{$port} },
      "$who: the receiver's port leaves the family with its node");
}

# ---- chat_server2 and chat_client2 ---------------------------------------------

# A chat: the server, then clients [kind, nick]; every client says a line
# and every client reads every line.
sub chat {
   my ($skind, @clients) = @_;
   my $server = AempScenario::start_program($skind, "chat_server2", "server_$skind");
   my $db = family_has(servers => sub { keys %{ $_[0] } == 1 },
      "$skind server: registered in eg_chat_server2");
   my @nicks = map $_->[1], @clients;

   # the clients one after the other, each once the server relayed the
   # one before's join: then every client reads the last join
   my (@progs, $joined);
   my $deadline = time + 20;
   for my $c (@clients) {
      push @progs, AempScenario::start_program($c->[0], "chat_client2", "client_$c->[1]", $c->[1]);
      $joined = AempScenario::expect_line($server, qr/^relaying: \Q$c->[1]\E \(joins\)$/,
         $deadline - time) or last;
   }
   for my $prog (@progs) {
      $joined &&= AempScenario::expect_line($prog, qr/^\Q$nicks[-1]\E \(joins\)$/,
         $deadline - time);
   }
   ok $joined, "$skind server: @nicks join" or return ($server, @progs);

   # one deadline for the whole exchange, so that a broken chat fails
   # in bounded time
   $deadline = time + 15;
   my $left = sub { my $l = $deadline - time; $l > 0.5 ? $l : 0.5 };
   for my $i (0 .. $#progs) {
      my $text = "line $i from $nicks[$i] ($clients[$i][0])";
      AempScenario::say_line($progs[$i], $text);
      ok AempScenario::expect_line($server, qr/^relaying: \Q$nicks[$i]: $text\E$/, $left->()),
         "$skind server relays $nicks[$i]'s line";
      for my $j (0 .. $#progs) {
         ok AempScenario::expect_line($progs[$j], qr/^\Q$nicks[$i]: $text\E$/, $left->()),
            "$skind server: $nicks[$j] ($clients[$j][0]) reads $nicks[$i]'s line";
      }
   }

   # nobody was disconnected on the way
   for my $j (0 .. $#progs) {
      my @gone = grep /^disconnected/, @{ $progs[$j]{history} };
      ok !@gone, "$skind server: $nicks[$j] ($clients[$j][0]) stayed connected"
         or diag "$nicks[$j]: $gone[0]";
   }

   # a client goes: the others read that it quit
   $progs[-1]->kill_node("TERM");
   for my $j (0 .. $#progs - 1) {
      ok AempScenario::expect_line($progs[$j], qr/^\Q$nicks[-1]\E \(quits, .+\)$/, $left->()),
         "$skind server: $nicks[$j] reads that $nicks[-1] quit";
   }
   ($server, @progs)
}

my @run = chat(perl => [perl => "anna"], [c => "cora"]);
stop(@run);
family_has(servers => sub { !%{ $_[0] } }, "the Perl server leaves the family with its node");

@run = chat(c => [perl => "perla"], [perl => "perlb"], [c => "cecil"]);
stop(@run);

done_testing;
