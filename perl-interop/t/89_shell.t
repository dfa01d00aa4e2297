# caemp shell and caemp restart, scripted (the shell's stdin is fed):
# against a Perl node, aemp's shell byte for byte (but the timings); against
# a C node started by caemp run, caemp's verbs; restart of both kinds.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use POSIX qw(setsid :sys_wait_h);
use IO::Select;
use Time::HiRes qw(time sleep);
use AempInterop;

AempInterop::plan_or_skip();

# AnyEvent::Watchdog is not installed: a stand-in whose restart leaves a
# mark and exits, on the Perl nodes' @INC only
my $lib = "$AempInterop::TMP/wdlib";
mkdir $lib; mkdir "$lib/AnyEvent"; mkdir "$lib/AnyEvent/Watchdog";
open my $wd, ">", "$lib/AnyEvent/Watchdog/Util.pm" or die $!;
print $wd "package AnyEvent::Watchdog::Util; sub restart { open my \$f, '>', \$ENV{AEMP_WD_MARK}; print \$f \"\$\$\\n\"; close \$f; POSIX::_exit(0) }\n1;\n";
close $wd;

my $pport = AempInterop::free_port();
my $perl = do {
   local $ENV{PERL5LIB} = join ":", $lib, $ENV{PERL5LIB} // ();
   local $ENV{AEMP_WD_MARK} = "$AempInterop::TMP/perlsh.restarted";
   AempInterop::start_node(perl => nodeid => "perlsh",
      binds => ["127.0.0.1:$pport"], seeds => [], secret => "shell-secret");
};
AempInterop::write_rc({ profile => { aemp => {
   seeds => ["127.0.0.1:$pport"], secret => "shell-secret",
   binds => ["127.0.0.1:*"] } } });

# Runs a shell with its stdin a pipe. After the first prompt (first), each
# step [LINE, PATTERN] writes LINE and waits until the output since
# matches PATTERN, as a user types after the answer; then the shell gets
# EOF (caemp) or is killed (aemp loops on EOF). Returns the output.
sub shell_session {
   my ($cmd, $first, @steps) = @_;
   pipe my $in_r, my $in_w or die;
   pipe my $out_r, my $out_w or die;
   my $pid = fork // die;
   if (!$pid) {
      setsid();
      open STDIN, "<&", $in_r or die;
      open STDOUT, ">&", $out_w or die;
      open STDERR, ">>", "$AempInterop::TMP/shell.err" or die;
      close $_ for $in_w, $out_r;
      exec @$cmd or POSIX::_exit(127);
   }
   push @AempInterop::CHILDREN, $pid;
   close $_ for $in_r, $out_w;
   $in_w->autoflush(1);
   my $out = "";
   my $sel = IO::Select->new($out_r);
   my $from = 0;
   my $wait = sub {
      my ($re) = @_;
      my $deadline = time + 15;
      while (substr($out, $from) !~ $re) {
         my $left = $deadline - time;
         return 0 if $left <= 0;
         next unless $sel->can_read($left);
         sysread($out_r, $out, 65536, length $out) or return 0;
      }
      1
   };
   $wait->($first) or diag "no first prompt in:\n$out";
   for my $step (@steps) {
      my ($line, $re) = @$step;
      $from = length $out;
      print $in_w "$line\n";
      $wait->($re) or diag "no match for $re after '$line' in:\n$out";
   }
   close $in_w;
   if ($cmd->[0] =~ /aemp$/ && $cmd->[0] !~ /caemp$/) {
      kill KILL => -$pid;
   } else {
      $wait->(qr/\z(?!x)x/) ; # to EOF (caemp exits)
   }
   waitpid $pid, 0;
   $out
}

my $P = "perlsh AnyEvent::MP::Kernel> ";
my $Q = "perlsh Foo;> ";
my @script = (qr/\Q$P\E\z/,
   ['1 + 1', qr/\n\Q$P\E\z/],
   ['package Foo;', qr/\Q$Q\E\z/],
   ['__PACKAGE__, [1, {a => "\x{e9}\x{263a}"}], undef, 0.5', qr/\n\Q$Q\E\z/],
   ['die "oops\n"', qr/oops.*\n\Q$Q\E\z/s],
   ['=', qr/nodes: .*\n\Q$Q\E\z/],
   ['=perlsh', qr/\Q$Q\E\z/],
   ['', qr/\Q$Q\E\z/],
);
my $c_out = shell_session([AempInterop::caemp(), shell => "perlsh"], @script);
# timings and the shell's own (random) node id differ from run to run
sub normal { $_[0] =~ s/^\d+\.\d{3}s$/T.TTTs/mgr =~ s{aemp/[^\s>]+}{aemp/SELF}gr }
my $c = normal($c_out);
like $c, qr/^Entering interactive shell/, "caemp shell greets as aemp";
like $c, qr/\nperlsh: 1 \+ 1\nT\.TTTs\n\[\n   2\n\]\n\n\Q$P\E/,
   "a line is evaluated on the Perl node, the answer printed as aemp's";
like $c, qr/\[\n   "Foo",\n   \[\n      1,\n      \{\n         "a" : "\\u00e9\\u263a"\n      \}\n   \],\n   null,\n   0\.5\n\]\n/,
   "results as JSON::XS pretty ascii: the package set by 'package Foo;'";
like $c, qr/\nperlsh: die "oops\\n"\nT\.TTTs\noops\n \n\Q$Q\E/,
   "a failed eval prints \$\@ as aemp";
like $c, qr/\nnodes: (\S+ )*perlsh( \S+)*\n/, "= lists the nodes";

my $aemp = `which aemp 2>/dev/null`;
chomp $aemp;
SKIP: {
   skip "Perl's aemp is not installed", 1 unless $aemp;
   my $a = normal(shell_session([$aemp, shell => "perlsh"], @script));
   # aemp's last prompt (after the blank line) is where it was killed
   is $c, $a, "caemp shell's output is aemp's, byte for byte (but timings)";
}

# $ECHO: a port of the shell's that prints what it gets
my $e = shell_session([AempInterop::caemp(), shell => "perlsh"], qr/\Q$P\E\z/,
   ['snd $ECHO, 42, "x"; ()', qr/ECHO<perlsh> \[\n   42,\n   "x"\n\]\n/]);
like $e, qr/\nECHO<perlsh> \[\n   42,\n   "x"\n\]\n\n/, '$ECHO echoes as aemp\'s';

# ---- a C node started by caemp run: caemp's verbs ----
my $cport = AempInterop::free_port();
AempInterop::write_rc({ profile => { aemp => {
   seeds => ["127.0.0.1:$cport"], secret => "shell-secret",
   binds => ["127.0.0.1:*"] } } });
my $run = do {
   local $ENV{AE_VERBOSE} = 6;
   AempInterop::start_caemp(run => nodeid => "cshell",
      binds => qq(["127.0.0.1:$cport"]), seeds => qq(["127.0.0.1:$cport"]),
      secret => "shell-secret");
};
my ($rc, $out, $err);
for (1 .. 50) {
   ($rc, $out) = AempInterop::run_caemp(10, cal => "cshell", "time");
   last if $rc eq "0";
   sleep 0.1;
}
is $rc, 0, "the caemp run node is up";

# fed all at once: a script's lines wait for their answers
my $C = "cshell> ";
my $v = shell_session([AempInterop::caemp(), shell => "cshell"], qr/\Q$C\E\z/,
   [join("\n", 'cal . time', 'db_set fam k [1,"x"]',
      'db_family fam', 'db_keys fam', 'db_del fam k', 'db_keys fam',
      'snd $ECHO hi {"a":1}', 'nodes', 'eval 1', '=', 'package X'), qr/package: no such verb/]);
$v = normal($v);
like $v, qr/\n\Q$C$C\E\ncshell: cal \. time\nT\.TTTs\n\[\n   \d+(\.\d+)?\n\]\n\n\Q$C\E/,
   "a C node: the prompt without package, cal . asks the current node";
like $v, qr/cshell: db_family fam\nT\.TTTs\n\[\n   \{\n      "k" : \[\n         1,\n         "x"\n      \]\n   \}\n\]\n/,
   "db_set and db_family";
like $v, qr/cshell: db_keys fam\nT\.TTTs\n\[\n   \[\n      "k"\n   \]\n\]\n.*cshell: db_keys fam\nT\.TTTs\n\[\n   \[\]\n\]\n/s,
   "db_keys, and db_del deletes";
like $v, qr/\nECHO<aemp\/SELF> \[\n   "hi",\n   \{\n      "a" : 1\n   \}\n\]\n/,
   "snd with JSON arguments, to \$ECHO";
like $v, qr/cshell: nodes\nT\.TTTs\n\[\n   "cshell"\n\]\n/, "nodes";
like $v, qr/eval: no such verb/, "Perl code is no verb";
like $v, qr/\nnodes: (aemp\/SELF )?cshell\n/, "= lists the nodes";
like $v, qr/package: no such verb/, "package is Perl's";

# ---- restart ----
($rc, $out, $err) = AempInterop::run_caemp(15, restart => "cshell");
is $rc, 0, "caemp restart of a caemp run node exits 0" or diag $err;
is $out, "\n", "and prints what aemp prints for a Perl node";
my $back;
for (1 .. 50) {
   ($back) = AempInterop::run_caemp(10, cal => "cshell", "time");
   last if $back eq "0";
   sleep 0.1;
}
is $back, 0, "the node answers again under the same node id";
ok kill(0, $run->{pid}), "in the same process (exec keeps the pid)";
like AempInterop::slurp($run->{err}), qr/restart requested by aemp\/\S+: re-executing/,
   "it logged the restart";
is waitpid($run->{pid}, WNOHANG), 0, "caemp run did not exit";
kill TERM => -$run->{pid};
($rc) = AempInterop::finish_caemp($run, 10);
is $rc, 0, "the re-executed caemp run still exits 0 on SIGTERM";

AempInterop::write_rc({ profile => { aemp => {
   seeds => ["127.0.0.1:$pport"], secret => "shell-secret",
   binds => ["127.0.0.1:*"] } } });
($rc, $out, $err) = AempInterop::run_caemp(15, restart => "perlsh");
is $rc, 0, "caemp restart of a Perl node exits 0" or diag $err;
is $out, "\n", "and prints aemp's empty result";
my $mark = "$AempInterop::TMP/perlsh.restarted";
for (1 .. 50) { last if -s $mark; sleep 0.1 }
is AempInterop::slurp($mark), "$perl->{pid}\n",
   "the Perl node called AnyEvent::Watchdog::Util::restart";

done_testing;
