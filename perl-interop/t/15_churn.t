# Link churn. AnyEvent::MP promises for a monitored port: either every
# message sent to it arrives, or the monitor fires, and after the first
# lost message nothing later arrives before it has. A sender floods a
# receiver's port with sequence numbers, monitoring it, while the link
# between them is reset (the Perl receiver closes its socket at once,
# dropping what it had not read) or the receiver is killed and started
# again. Each monitor call reports the last number sent; the receiver
# writes each number to a file as it arrives (a new file per process). A
# gap of lost numbers [a, b] is silent unless a monitor fired after a was
# sent and before b + 1 was: there must be none, with a C sender against a
# Perl receiver and, as the reference, a Perl sender against a C receiver.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time sleep);
use AempInterop;

AempInterop::plan_or_skip();

my $secret = "interop-secret";
my $sport = AempInterop::free_port();
my $seedaddr = "127.0.0.1:$sport";
my $seed = AempInterop::start_node(perl => nodeid => "seed",
   binds => [$seedaddr], seeds => [], secret => $secret);

my $sinks = 0;
# A receiver "recv" on port $port with its sink writing to a new file.
sub start_receiver {
   my ($kind, $port) = @_;
   my $file = "$AempInterop::TMP/sink" . ++$sinks;
   local $ENV{AEMP_INTEROP_SINK} = "sink=$file";
   my $node = AempInterop::start_node($kind => nodeid => "recv",
      binds => ["127.0.0.1:$port"], seeds => [$seedaddr], secret => $secret);
   ($node, $file)
}

sub arrivals {
   my ($file) = @_;
   scalar(() = AempInterop::slurp($file) =~ /\n/g)
}

# Waits until the file has at least $count numbers.
sub wait_arrivals {
   my ($file, $count) = @_;
   my $deadline = time + 10;
   while (time < $deadline) {
      return 1 if arrivals($file) >= $count;
      sleep 0.02;
   }
   0
}

# Forgets the sender's node events so far (a round trip brings them in).
sub forget_node_events {
   my ($sender) = @_;
   $sender->do("nodes");
   $sender->discard(sub { $_[0][0] eq "node" || $_[0][0] eq "nodes" });
}

# The sender saw the receiver go and come back.
sub wait_relinked {
   my ($sender) = @_;
   for my $up (0, 1) {
      $sender->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "recv"
                            && $_[0][2] == $up }, 10)
         or return 0;
   }
   1
}

# Silent gaps, gaps, lost numbers and numbers out of order, from the sink
# files and the last numbers sent when the monitor fired.
sub count_gaps {
   my ($files, $fired) = @_;
   my (%got, @silent);
   my ($gaps, $lost, $disorder) = (0, 0, 0);
   for my $file (@$files) {
      my $last = -1;
      for my $seq (split /\n/, AempInterop::slurp($file)) {
         $disorder++ if $seq <= $last;
         $last = $got{$seq} = $seq;
      }
   }
   my $prev = -1;
   for my $seq (sort { $a <=> $b } keys %got) {
      if ($seq > $prev + 1) {
         my ($first, $end) = ($prev + 1, $seq - 1);
         $gaps++;
         $lost += $end - $first + 1;
         push @silent, "$first-$end"
            unless grep { $_ >= $first && $_ <= $end } @$fired;
      }
      $prev = $seq;
   }
   (\@silent, $gaps, $lost, $disorder)
}

sub churn {
   my ($sender_kind, $receiver_kind, $usec, @breaks) = @_;
   my $what = "$sender_kind sender, $receiver_kind receiver";
   my $rport = AempInterop::free_port();
   my ($recv, $file) = start_receiver($receiver_kind, $rport);
   my @files = ($file);
   my $send = AempInterop::start_node($sender_kind => nodeid => "send",
      binds => ["127.0.0.1:*"], seeds => [$seedaddr], secret => $secret);
   $send->cmd(flood => "f", "recv#sink", $usec);
   ok wait_arrivals($file, 100), "$what: messages flow";
   for my $break (@breaks) {
      forget_node_events($send);
      if ($break eq "kill") {
         $recv->kill_node("KILL");
         ($recv, $file) = start_receiver($receiver_kind, $rport);
         push @files, $file;
      } else {
         $recv->cmd(reset => "send");
      }
      my $relinked = wait_relinked($send);
      ok $relinked && wait_arrivals($file, arrivals($file) + 100),
         "$what: messages flow again after a $break"
         or last;
   }
   $send->cmd(flood_stop => "f");
   my (@fired, $sent);
   while (my $ev = $send->expect(sub { $_[0][0] =~ /^flood_(mon|stopped)\z/ }, 10)) {
      if ($ev->[0] eq "flood_stopped") {
         $sent = $ev->[2] + 1;
         last;
      }
      push @fired, $ev->[2];
   }
   my ($silent, $gaps, $lost, $disorder) = count_gaps(\@files, \@fired);
   note "$what: " . ($sent // "?") . " sent, $lost lost in $gaps gaps, "
      . @fired . " monitor calls";
   is $disorder, 0, "$what: what arrives, arrives in order";
   ok $gaps > 0, "$what: the churn lost messages";
   is_deeply $silent, [], "$what: no silent gaps";
   $_->cmd("quit") for $send, $recv;
   $_->kill_node("KILL") for $send, $recv;
}

churn(c => "perl", 0, qw(reset kill reset kill reset kill reset kill));
churn(perl => "c", 50, qw(kill kill kill));

$seed->cmd("quit");
done_testing;
