# AnyEvent::MP::LogCatcher both ways. A Perl catcher (LogCatcher::catch)
# sees a C node's log lines, which the C node sends from its built-in
# AnyEvent::MP::LogCatcher::connect; caemp logcatcher sees a Perl node's
# and a C node's lines, printed as Perl's catch prints them: AnyEvent::Log's
# format with the [NODE+DIFF] prefix. Lines above the catcher's level stay
# at home, and AE_LOG reaches a C node.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time sleep);
use AempInterop;

AempInterop::plan_or_skip();

my ($seed, $pn, $cn, $sport) = AempInterop::seed_network("logcatcher-secret");
my %member = (secret => "logcatcher-secret", binds => ["127.0.0.1:*"],
   seeds => ["127.0.0.1:$sport"]);

# One line of AnyEvent::Log's default format, as Perl's catch logs it.
my $STAMP = qr/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} [+-]\d{4}/;
sub caught_re {
   my ($level, $node, $text) = @_;
   qr/^$STAMP \Q$level\E\s+main: \[\Q$node\E(?:[+-]\d+\.\d{3}s)?\] \Q$text\E$/m
}

# Logs numbered lines on node until the file shows one (the catcher needs
# a moment to see the node in 'l and connect); the line seen, or undef.
sub log_until_seen {
   my ($node, $file, $level, $levelname, $text) = @_;
   my $deadline = time + 20;
   for (my $i = 1; time < $deadline; $i++) {
      $node->cmd(log => "$text $i", $level);
      my $until = time + 0.5;
      while (time < $until) {
         my $all = AempInterop::slurp($file);
         return $1 if $all =~ /(${\ caught_re($levelname, $node->id, "$text ") }\d+)/
                   || $all =~ /^(.*\Q$text \E\d+.*)$/m;
         sleep 0.05;
      }
   }
   undef
}

# ---- a Perl catcher, a C node's lines --------------------------------------

my $script = "$AempInterop::TMP/catcher.pl";
open my $fh, ">", $script or die "$script: $!";
print $fh <<'PERL';
use strict;
use AnyEvent;
use AnyEvent::MP;
use AnyEvent::MP::Kernel;
use AnyEvent::MP::LogCatcher;
use JSON::XS;
$| = 1;
configure %{ decode_json shift };
AnyEvent::MP::LogCatcher::catch (7);
print encode_json (["ready", $NODE, $AnyEvent::MP::Kernel::BINDS]), "\n";
AE::cv->recv;
PERL
close $fh;
my $pcatch = do {
   local $ENV{PERL_ANYEVENT_VERBOSE} = 7;
   local $ENV{AE_VERBOSE} = 7;
   AempInterop::spawn_child("pcatch", $^X, $script,
      $AempInterop::JSON->encode({ nodeid => "pcatch", %member }));
};
ok $pcatch->expect(sub { $_[0][0] eq "ready" }, 10), "the Perl catcher runs";

my $line = log_until_seen($cn, $pcatch->{log}, 5, "warn", "hello from C");
ok $line, "the Perl catcher logs a C node's line" or diag $pcatch->log_text;
like $line // "", qr/^$STAMP warn  main: \[cnode(?:[+-]\d+\.\d{3}s)?\] hello from C \d+$/,
   "in AnyEvent::Log's format, with the [node] prefix";

# a line above the catcher's level (7) stays at home; a later one arrives
$cn->do(log => "too verbose for the catcher", 8);
$line = log_until_seen($cn, $pcatch->{log}, 7, "info", "after the debug line");
ok $line, "an info line arrives";
unlike AempInterop::slurp($pcatch->{log}), qr/too verbose/, "a debug line does not";
unlike $cn->log_text, qr/unable to resolve function/,
   "the C node resolves AnyEvent::MP::LogCatcher::connect";

# ---- caemp logcatcher: a Perl node's and a C node's lines ---------------------

my $cc = AempInterop::start_caemp(logcatcher => "info");
$line = log_until_seen($pn, $cc->{err}, 5, "warn", "hello from Perl");
ok $line, "caemp logcatcher prints a Perl node's line" or diag AempInterop::slurp($cc->{err});
like $line // "", qr/^$STAMP warn  main: \[pnode(?:[+-]\d+\.\d{3}s)?\] hello from Perl \d+$/,
   "in AnyEvent::Log's format, with the [node] prefix";
$line = log_until_seen($cn, $cc->{err}, 4, "error", "hello from C to caemp");
ok $line, "and a C node's line" or diag AempInterop::slurp($cc->{err});
like $line // "", qr/^$STAMP error main: \[cnode(?:[+-]\d+\.\d{3}s)?\] hello from C to caemp \d+$/,
   "in the same format";
$pn->do(log => "perl debug line", 8);
$line = log_until_seen($pn, $cc->{err}, 6, "note", "perl after debug");
ok $line, "a later note line arrives";
unlike AempInterop::slurp($cc->{err}), qr/perl debug line/, "a debug line of the Perl node does not";

# the caught lines are not sent on: the Perl catcher catches caemp's node
# too, but not what caemp caught
unlike AempInterop::slurp($pcatch->{log}), qr/\[aemp\/[^\]]*\] \[pnode/,
   "a caught line is not caught again";

# ---- a caught node goes down and comes back under the same id -----------------

# KILL: no goodbye, the catchers see the link go down; the new instance
# registers in 'l again and the catchers connect to it
for my $kind (qw(c perl)) {
   my $old = $kind eq "c" ? $cn : $pn;
   my $id = $old->id;
   $old->kill_node("KILL");
   my $new = AempInterop::start_node($kind => nodeid => $id, %member);
   $kind eq "c" ? ($cn = $new) : ($pn = $new);
   $line = log_until_seen($new, $cc->{err}, 5, "warn", "$kind $id is back");
   ok $line, "caemp logcatcher: the lines of a restarted $kind node arrive"
      or diag AempInterop::slurp($cc->{err});
   $line = log_until_seen($new, $pcatch->{log}, 5, "warn", "$kind $id is back for Perl");
   ok $line, "the Perl catcher: the lines of a restarted $kind node arrive"
      or diag $pcatch->log_text;
}

kill INT => $cc->{pid};
my ($rc, $out, $err) = AempInterop::finish_caemp($cc, 10);
is $rc, 0, "caemp logcatcher exits 0 on SIGINT";

# the C node stops sending when the catcher's port is gone: no error
# about the dead port in its log
$cn->cmd(log => "after caemp is gone", 4);
$cn->do(ping => 1);
sleep 0.5;
unlike $cn->log_text, qr/error processing node message/, "the C node logs no failed request";

# ---- usage ----------------------------------------------------------------------

($rc, $out, $err) = AempInterop::run_caemp(10, logcatcher => "loud");
isnt $rc, 0, "caemp logcatcher with a bad level fails";
like $err, qr/usage: caemp logcatcher \[LEVEL\]/, "saying how to call it";

# ---- AE_LOG on a C node ----------------------------------------------------------

{
   local $ENV{AE_LOG} = "main=+%x:%x=only,debug,file=$AempInterop::TMP/ae_log.txt";
   my $c2 = AempInterop::start_node(c => nodeid => "cnode2", %member);
   $c2->cmd(log => "to the file", 8);
   $c2->cmd(log => "not to the file", 4);
   $c2->do(ping => 2);
   my $deadline = time + 5;
   sleep 0.05 until AempInterop::slurp("$AempInterop::TMP/ae_log.txt") =~ /to the file/ || time > $deadline;
   my $f = AempInterop::slurp("$AempInterop::TMP/ae_log.txt");
   like $f, qr/^$STAMP debug main: to the file$/m, "AE_LOG: a context's debug lines to a file";
   unlike $f, qr/not to the file/, "only those";
   local $ENV{AE_LOG} = "filter=nonsense";
   my $c3 = AempInterop::start_node(c => nodeid => "cnode3", %member);
   sleep 0.2;
   like $c3->log_text, qr/PERL_ANYEVENT_LOG \(filter=nonsense\): parse error at 'nonsense'/,
      "a bad AE_LOG: Perl's message, and the node runs";
}

done_testing;
