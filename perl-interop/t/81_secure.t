# Secure mode, eval and caemp's eval and trace against real Perl 2.02
# nodes. A C node configured with secure => 1 refuses what a Perl node
# asks it to run (eval, functions it does not have, spawn), logging
# "remote execution not allowed" as Perl does, and goes on serving; the
# functions it registered still run. A C node without secure answers eval
# with an error and logs unknown functions. caemp eval prints what aemp
# eval prints; caemp trace what aemp trace prints, where nodes answer.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use POSIX ();
use Time::HiRes qw(time sleep);
use AempInterop;
use AempScenario;

AempInterop::plan_or_skip();

my $aemp = `which aemp 2>/dev/null`;
chomp $aemp;

my $pport = AempInterop::free_port();
my %net = (secret => "secure-secret");
my %member = (%net, binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$pport"]);
AempInterop::write_rc({ profile => { aemp => { %member } } });

# ---- caemp trace (first: no node here that cannot answer in time) ----------

my $p1 = AempInterop::start_node(perl => nodeid => "tr_p1", %net,
   binds => ["127.0.0.1:$pport"], seeds => ["127.0.0.1:$pport"]);
my $p2 = AempInterop::start_node(perl => nodeid => "tr_p2", %member);
my $c1 = AempInterop::start_node(c => nodeid => "tr_c1", %member);
for my $id ("tr_p2", "tr_c1") {
   $p1->expect(sub { $_[0][0] eq "node" && $_[0][1] eq $id && $_[0][2] }, 10)
      or BAIL_OUT("$id did not link to tr_p1");
}

# "NODE -> A B" with the neighbours sorted (Perl lists them in hash order)
sub trace_lines {
   my ($out) = @_;
   [sort map { s/^(\S+ -> )(.*)$/$1 . join " ", sort split " ", $2/er } split /\n/, $out]
}

# waits until the Perl nodes have no link to an aemp or caemp node left
# (a trace would try to follow it)
sub no_tool_nodes {
   my $deadline = time + 10;
   NODE: for my $node ($p1, $p2) {
      while (time < $deadline) {
         $node->cmd("nodes");
         my $ev = $node->expect(sub { $_[0][0] eq "nodes" }, 5);
         next NODE unless grep m{^aemp/}, @$ev[1 .. $#$ev];
         sleep 0.1;
      }
      return 0;
   }
   1
}

my ($rc, $out, $err) = AempInterop::run_caemp(30, trace => "tr_p1");
is $rc, 1, "caemp trace exits 1: a node could not answer" or diag $err;
is_deeply trace_lines($out), [
   "seed -> tr_p1",
   "tr_c1 (cannot answer: eval: this node (libaemp, C) cannot evaluate Perl code)",
   "tr_p1 -> tr_c1 tr_p2",
   "tr_p2 -> tr_p1",
], "caemp trace follows the links, Perl nodes answer, the C node says why not"
   or diag $out;
SKIP: {
   skip "Perl's aemp is not installed", 1 unless $aemp;
   ok no_tool_nodes(), "caemp's node has gone from the Perl nodes";
   my $a_out = `$aemp trace tr_p1 2>/dev/null`;
   my @want = grep !/^tr_c1 /, @{ trace_lines($out) };
   is_deeply [grep !/^tr_c1 /, @{ trace_lines($a_out) }], \@want,
      "aemp trace prints the same for the Perl nodes" or diag $a_out;
}
$_->kill_node("TERM") for $c1, $p2, $p1;

# ---- secure mode --------------------------------------------------------------

my $perl = AempScenario::start_spawn_node(perl => nodeid => "pnode", %net,
   binds => ["127.0.0.1:$pport"], seeds => ["127.0.0.1:$pport"]);
my $secure = AempScenario::start_spawn_node(c => nodeid => "csecure", %member,
   secure => 1);
my $plain = AempScenario::start_spawn_node(c => nodeid => "cplain", %member);
$perl->do(port => "inbox");
# the links are up (on both sides) once a C node's call reaches Perl
for my $c ($secure, $plain) {
   $c->cmd(func => "pnode", "Interop::Func::note", "up", $c->id);
   $perl->expect(sub { $_[0][0] eq "func" && $_[0][3] eq $c->id }, 10)
      or BAIL_OUT($c->id . " did not link to pnode");
}

sub inbox {
   $perl->expect(sub { $_[0][0] eq "rcv" && $_[0][1] eq "inbox" }, $_[0] // 10)
}

# Everything sent to $node before has been handled when its snd relay
# answers: the same link, in order.
my $syncs = 0;
sub sync_with {
   my ($node) = @_;
   my $n = ++$syncs;
   $perl->cmd(snd => $node->id, "snd", $perl->port("inbox"), "synced", $n);
   inbox()
}

my $refused = qr/error processing node message from pnode: remote execution not allowed/;
sub refusals { scalar(() = $secure->log_text =~ /$refused/g) }

$perl->cmd(snd => "csecure", "eval", "1+1", $perl->port("inbox"), "eval");
ok AempScenario::log_like($secure, $refused), "secure: eval is refused and logged";
is_deeply sync_with($secure), ["rcv", "inbox", "synced", 1], "and not answered";

$perl->cmd(func => "csecure", "Not::There::func", 1);
ok AempScenario::log_like($secure, qr/(?:$refused.*){2}/s),
   "secure: a function the node does not have is refused";

$perl->cmd(spawn_mon => "spawn", "csecure", "Interop::Spawn::init", $perl->port("inbox"));
my $ev = $perl->expect(sub { $_[0][0] eq "mon" && $_[0][1] eq "spawn" }, 10);
is $ev && $ev->[2], "no_such_port", "secure: spawn is refused, even of a registered init";
ok AempScenario::log_like($secure, qr/(?:$refused.*){3}/s), "and logged";
ok !$secure->expect(sub { $_[0][0] eq "init" }, 0.2), "the init function did not run";

$perl->cmd(func => "csecure", "Interop::Func::note", "allowed");
is_deeply $secure->expect(sub { $_[0][0] eq "func" }, 10), ["func", "note", "allowed"],
   "secure: a function the C node registered runs";
$perl->cmd(cal => "add", "csecure", 5, "Interop::Func::add", 2, 3);
is_deeply $perl->expect(sub { $_[0][0] eq "cal" && $_[0][1] eq "add" }, 10), ["cal", "add", 5],
   "and answers a cal";

# the C node goes on
$perl->cmd(snd => "csecure", "snd", $perl->port("inbox"), "still", "here");
is_deeply inbox(), ["rcv", "inbox", "still", "here"], "secure: the link stays up";
$secure->cmd(func => "pnode", "Interop::Func::note", "from the secure node");
is_deeply $perl->expect(sub { $_[0][0] eq "func" }, 10), ["func", "note", "from the secure node"],
   "secure: the C node still sends";
is refusals(), 3, "three refusals, no more";

# without secure: eval answers with an error, unknown functions are logged
$perl->cmd(snd => "cplain", "eval", "1+1", $perl->port("inbox"), "eval");
is_deeply inbox(), ["rcv", "inbox", "eval", "eval: this node (libaemp, C) cannot evaluate Perl code\n"],
   "not secure: eval answers as a failed eval";
$perl->cmd(func => "cplain", "Not::There::func");
ok AempScenario::log_like($plain,
   qr/error processing node message from pnode: unable to resolve function 'Not::There::func'/),
   "not secure: an unknown function is logged";
ok $plain->log_text !~ $refused, "and not refused";

# ---- caemp eval ---------------------------------------------------------------

# aemp dies with "$err @res": Perl adds " at FILE line N." where the text
# does not end in a newline; caemp prints the text and a newline.
sub unperl {
   my ($text) = @_;
   $text =~ s/\s*at \S+ line \d+\.\n\z/\n/;
   $text
}

my @cases = (
   [pnode => '1+1, "x", [1, {a => 2}]', 0, qq(2,"x",[1,{"a":2}]\n), ""],
   [pnode => 'die "boom\n"', 255, "", "boom\n"],
   [pnode => '1 +', 255, "", qr/^syntax error at \(eval \d+\) line 1, at EOF\n\z/],
   [pnode => '()', 0, "\n", ""],
   [pnode => 'undef, "\x{e9}"', 0, "null,\"\xe9\"\n", ""],
   ["pnode#inbox" => '$$ > 0 ? "pid" : "none"', 0, qq("pid"\n), ""],
   [cplain => '1', 255, "", "eval: this node (libaemp, C) cannot evaluate Perl code\n"],
);
for my $case (@cases) {
   my ($node, $expr, $want_rc, $want_out, $want_err) = @$case;
   my ($rc, $out, $err) = AempInterop::run_caemp(15, eval => $node, $expr);
   is $rc, $want_rc, "caemp eval $node '$expr' exits $want_rc" or diag $err;
   is $out, $want_out, "and prints the results";
   ref $want_err ? like($err, $want_err, "or the error") : is($err, $want_err, "or the error");
   SKIP: {
      skip "Perl's aemp is not installed", 3 unless $aemp;
      my $pid = open(my $fh, "-|") // die "fork: $!";
      if (!$pid) {
         open STDERR, ">", "$AempInterop::TMP/aemp.err";
         exec $aemp, eval => $node, $expr or POSIX::_exit(127);
      }
      my $a_out = do { local $/; <$fh> };
      close $fh;
      my $a_rc = $? >> 8;
      is $a_rc, $rc, "aemp eval $node '$expr' exits alike";
      is $a_out, $out, "prints alike";
      # (each eval on a Perl node counts: "(eval 19)", "(eval 20)")
      my $a_err = unperl(AempInterop::slurp("$AempInterop::TMP/aemp.err"));
      is $a_err =~ s/\(eval \d+\)/(eval N)/gr, $err =~ s/\(eval \d+\)/(eval N)/gr,
         "and fails alike";
   }
}

# a node in secure mode does not answer: five seconds, exit 1 (aemp exits
# 1 too, silently)
my $t0 = time;
($rc, $out, $err) = AempInterop::run_caemp(15, eval => "csecure", "1");
is $rc, 1, "caemp eval of a secure node exits 1";
like $err, qr/eval: no answer within 5 seconds/, "saying why";
ok time - $t0 >= 4.5, "after five seconds";

# a node nobody knows: the link fails; aemp says "no known address" at once
($rc, $out, $err) = AempInterop::run_caemp(15, eval => "nosuchnode", "1");
is $rc, 255, "caemp eval of an unknown node exits 255";
like $err, qr/^transport_error nosuchnode \S/, "with the transport error";
is $err, "transport_error nosuchnode no known address\n", "as Perl words it";

done_testing;
