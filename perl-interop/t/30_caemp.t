# caemp's node commands against a real Perl node, next to Perl's aemp:
# the same rc file, the same output.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use AempInterop;

AempInterop::plan_or_skip();

my $pport = AempInterop::free_port();
my $perl = AempInterop::start_node(perl => nodeid => "perlsvc",
   binds => ["127.0.0.1:$pport"], seeds => [], secret => "caemp-secret");
$perl->do(port => "inbox");
$perl->do(echo => "echo");

# the rc file a new user would write with aemp: the "aemp" profile has the
# seeds and the secret
AempInterop::write_rc({ profile => { aemp => {
   seeds => ["127.0.0.1:$pport"], secret => "caemp-secret",
   binds => ["127.0.0.1:*"] } } });

my ($rc, $out, $err) = AempInterop::run_caemp(15, snd => "perlsvc#inbox", "hello", 1, '{"a":[1]}');
is $rc, 0, "caemp snd exits 0" or diag $err;
is $out, "message sent successfully \n", "and prints what aemp prints";
is_deeply $perl->expect(sub { $_[0][0] eq "rcv" && $_[0][1] eq "inbox" }),
   ["rcv", "inbox", "hello", "1", { a => [1] }], "the Perl port got the message";

my $aemp = `which aemp 2>/dev/null`;
chomp $aemp;
SKIP: {
   skip "Perl's aemp is not installed", 2 unless $aemp;
   my $a_out = `$aemp snd perlsvc#inbox hello 2>&1`;
   is $a_out, $out, "aemp snd prints the same";
   $perl->expect(sub { $_[0][0] eq "rcv" });
   my $a_time = `$aemp cal perlsvc time 2>&1`;
   like $a_time, qr/^\d+(\.\d+)?\n\z/, "aemp cal time prints a bare number";
}

($rc, $out, $err) = AempInterop::run_caemp(15, cal => "perlsvc", "time");
is $rc, 0, "caemp cal exits 0" or diag $err;
like $out, qr/^\d+(\.\d+)?\n\z/, "caemp cal time prints a bare number, as aemp";

($rc, $out, $err) = AempInterop::run_caemp(15, cal => "perlsvc", "snd", "perlsvc#echo", "echo");
# cal appends the reply port: the echo port answers to it
is $rc, 0, "caemp cal through the snd relay" or diag $err;
is $out, "\"echoed\"\n", "prints the reply as JSON without brackets";

# mon: prints the reason when the port dies
my $mon = AempInterop::start_caemp(mon => "perlsvc#inbox");
$perl->expect(sub { $_[0][0] eq "node" && $_[0][2] }, 10); # caemp is up
sleep 1;
$perl->cmd(kil => "perlsvc#inbox", "gone", "for good");
($rc, $out, $err) = AempInterop::finish_caemp($mon, 15);
is $rc, 0, "caemp mon exits 0" or diag $err;
is $out, "gone for good \n", "and prints the kill reason as aemp does";

# failures are loud
($rc, $out, $err) = AempInterop::run_caemp(15, snd => "perlsvc#nosuchport", "x");
isnt $rc, 0, "snd to a port that does not exist fails";
like $err, qr/no_such_port/, "saying why" or diag $err;

my $closed = AempInterop::free_port();
AempInterop::write_rc({ profile => { aemp => {
   seeds => ["127.0.0.1:$closed"], secret => "caemp-secret", binds => ["127.0.0.1:*"] } } });
($rc, $out, $err) = AempInterop::run_caemp(15, snd => "perlsvc#inbox", "x");
isnt $rc, 0, "snd without a reachable node fails";
like $err, qr/(cannot reach|no answer).*\(last error: Connection refused\)/,
   "with a clear message naming the cause" or diag $err;

AempInterop::write_rc({ profile => { aemp => {
   seeds => ["127.0.0.1:$pport"], secret => "wrong", binds => ["127.0.0.1:*"] } } });
($rc, $out, $err) = AempInterop::run_caemp(15, snd => "perlsvc#inbox", "x");
isnt $rc, 0, "snd with a wrong secret fails";
like $err, qr/cannot reach perlsvc#inbox: \["transport_error","perlsvc","connect timeout"\] \(last error: authentication failure\/shared secret mismatch\)/,
   "naming the kill reason, Perl's, and the cause the link met" or diag $err;

done_testing;
