# caemp run as a node Perl talks to; message traces of both sides agree
# line for line; a seed that dies and comes back is linked again.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep);
use AempInterop;

AempInterop::plan_or_skip();

my $pport = AempInterop::free_port();
my $cport = AempInterop::free_port();

local $ENV{PERL_ANYEVENT_MP_TRACE} = 1;
my $perl = AempInterop::start_node(perl => nodeid => "perltr",
   binds => ["127.0.0.1:$pport"], seeds => [], secret => "trace-secret");
delete $ENV{PERL_ANYEVENT_MP_TRACE};

local $ENV{AE_MP_TRACE} = 1;
my $run = AempInterop::start_caemp(run => nodeid => "crun",
   binds => qq(["127.0.0.1:$cport"]), seeds => qq(["127.0.0.1:$pport"]),
   secret => "trace-secret");
delete $ENV{AE_MP_TRACE};

my $up = $perl->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "crun" && $_[0][2] }, 10);
ok $up, "caemp run: the node joins the Perl node";

$perl->do(port => "inbox");
$perl->cmd(snd => "crun", "time", $perl->port("inbox"), "x");
my $ev = $perl->expect(sub { $_[0][0] eq "rcv" && $_[0][1] eq "inbox" }, 10);
ok $ev && $ev->[2] eq "x" && $ev->[3] > 1e9, "the caemp node answers time";

# traces: what one side sends is what the other receives, in Perl's format
sleep 0.2;
my $ctrace = AempInterop::slurp($run->{err});
my $ptrace = $perl->log_text;
like $ptrace, qr/^SND crun <- \[null,"time","perltr#inbox","x"\]$/m,
   "Perl traces its send";
like $ctrace, qr/^RCV perltr -> \["","time","perltr#inbox","x"\]$/m,
   "C traces the receipt as Perl does";
my ($t) = $ctrace =~ /^SND perltr <- \["inbox","x",([0-9.e+]+)\]$/m;
ok defined $t, "C traces its reply";
like $ptrace, qr/^RCV crun -> \["inbox","x",\Q$t\E\]$/m,
   "Perl traces the same reply, byte for byte";

# the seed (the Perl node) dies and comes back: the C node links again
my $c = AempInterop::start_node(c => nodeid => "cseeded",
   binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$pport"], secret => "trace-secret");
ok $c->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "perltr" && $_[0][2] }, 10),
   "linked to the seed";
$perl->kill_node("KILL");
ok $c->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "perltr" && !$_[0][2] }, 10),
   "the seed goes down";
my $perl2 = AempInterop::start_node(perl => nodeid => "perltr",
   binds => ["127.0.0.1:$pport"], seeds => [], secret => "trace-secret");
ok $c->expect(sub { $_[0][0] eq "node" && $_[0][1] eq "perltr" && $_[0][2] }, 20),
   "the restarted seed is linked again";
$perl2->do(port => "back");
$c->cmd(snd => $perl2->port("back"), "hello again");
is_deeply $perl2->expect(sub { $_[0][0] eq "rcv" }, 10), ["rcv", "back", "hello again"],
   "and messages flow";

kill TERM => -$run->{pid};
my ($rc) = AempInterop::finish_caemp($run, 10);
is $rc, 0, "caemp run exits 0 on SIGTERM";

done_testing;
