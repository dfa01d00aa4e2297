# The README's greeter (perl-interop/greeter.c, the README's code
# verbatim) and its Perl twin (greeter.pl) get what any peer can send:
# short and ill-typed hello messages. Where a Perl port dies (snd to an
# undefined or empty port croaks), the C port dies with Perl's reason and
# its node goes on; where it lives, a good hello is still answered.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use AempInterop;

AempInterop::plan_or_skip();
my $greeter_bin = "$AempInterop::BUILD/perl-interop/greeter";
-x $greeter_bin or plan skip_all => "perl-interop/greeter is not built";

my $BAD_ID = "'undef' or the empty string are not valid node/port IDs";

# ---- the program is the README's example ----------------------------------------

{
   my $readme = AempInterop::slurp("$AempInterop::TOP/README.md");
   my ($code) = $readme =~ /^## A C node in a Perl network\n\n```c\n(.*?)^```/ms;
   my $source = AempInterop::slurp("$AempInterop::DIR/greeter.c");
   $source =~ s{\A/\*.*?\*/\n}{}s; # the comment in front
   ok defined $code && $source eq $code, "greeter.c is the README's example verbatim";
}

# ---- the network: a Perl seed that sends and watches ---------------------------

my $sport = AempInterop::free_port();
my %net = (secret => "greeter-secret");
my $seed = AempInterop::start_node(perl => nodeid => "seed", %net,
   binds => ["127.0.0.1:$sport"], seeds => ["127.0.0.1:$sport"]);
AempInterop::write_rc({ %net, seeds => ["127.0.0.1:$sport"], binds => ["127.0.0.1:*"] });
$seed->do(port => "inbox");
my $inbox = $seed->port("inbox");

my %id = (c => "greeter", perl => "pgreeter");
my %greeter;

sub node_event {
   my ($id, $up) = @_;
   $seed->expect(sub { $_[0][0] eq "node" && $_[0][1] eq $id && $_[0][2] == $up }, 15)
}

sub start_greeter {
   my ($kind) = @_;
   $greeter{$kind} = $kind eq "c"
      ? AempInterop::spawn_child($id{$kind}, $greeter_bin)
      : AempInterop::spawn_child($id{$kind}, $^X, "$AempInterop::DIR/greeter.pl");
   node_event($id{$kind}, 1)
      or die "the $kind greeter did not come up:\n" . $greeter{$kind}->log_text;
}

sub restart_greeter {
   my ($kind) = @_;
   $greeter{$kind}->kill_node("TERM");
   node_event($id{$kind}, 0) or die "the $kind greeter did not go down";
   start_greeter($kind);
}

# Waits for an answer on the inbox whose first element is $tag.
my $answers = 0;
sub answer {
   my ($pred) = @_;
   $seed->expect(sub { $_[0][0] eq "rcv" && $_[0][1] eq "inbox" && $pred->(@{ $_[0] }[2 .. $#{ $_[0] }]) }, 15)
}

# The greeter's node answers through its node port's snd relay, behind
# everything sent to it before on the same link.
sub node_answers {
   my ($kind) = @_;
   my $n = ++$answers;
   $seed->cmd(snd => $id{$kind}, "snd", $inbox, "alive", $n);
   answer(sub { $_[0] eq "alive" && $_[1] == $n })
}

sub hello_answered {
   my ($kind) = @_;
   my $n = ++$answers;
   $seed->cmd(snd => "$id{$kind}#hello", "hello", $inbox, "name$n");
   answer(sub { $_[0] eq "hi" && ($_[1] // "") eq "name$n" })
}

# Sends the hello with @args; returns the reason the port died with (an
# array), or undef if it lives and still answers a good hello.
my $mons = 0;
sub try_hello {
   my ($kind, @args) = @_;
   my $tag = "m" . ++$mons;
   $seed->do(mon => "$id{$kind}#hello", $tag);
   $seed->cmd(snd => "$id{$kind}#hello", "hello", @args);
   # A callback that dies only queues the kill of its port, in Perl and
   # in C: messages that came with the bad one still reach the port. The
   # node port's answer comes once the bad hello was handled, and the
   # good hello after it comes in a later turn of the greeter's loop,
   # after the queued kill.
   node_answers($kind) or die "the $kind greeter does not answer";
   # either it died, or a good hello after the bad one is answered
   my $n = ++$answers;
   $seed->cmd(snd => "$id{$kind}#hello", "hello", $inbox, "name$n");
   my $ev = $seed->expect(sub {
      ($_[0][0] eq "mon" && $_[0][1] eq $tag)
         || ($_[0][0] eq "rcv" && $_[0][1] eq "inbox" && $_[0][2] eq "hi"
             && ($_[0][3] // "") eq "name$n")
   }, 15) or die "the $kind greeter neither died nor answered";
   if ($ev->[0] eq "mon") {
      ok node_answers($kind), "$kind greeter: its node goes on after the port died";
      ok !$seed->expect(sub { $_[0][0] eq "rcv" && ($_[0][3] // "") eq "name$n" }, 0),
         "$kind greeter: the dead port answered nothing";
      restart_greeter($kind);
      return [@$ev[2 .. $#$ev]];
   }
   # alive: it answers again, and its monitor stays quiet
   ok hello_answered($kind), "$kind greeter: still answers";
   ok !$seed->expect(sub { $_[0][0] eq "mon" && $_[0][1] eq $tag }, 0),
      "$kind greeter: the port did not die";
   undef
}

start_greeter($_) for qw(c perl);

# ---- where Perl's port dies, C's dies alike -------------------------------------

my $huge = "x" x 100_000;
my @cases = (
   ["no reply port",         []],
   ["an undef reply port",   [undef]],
   ["an empty reply port",   [""]],
   ["a port without a node", ["#x"]],
);
for my $case (@cases) {
   my ($what, $args) = @$case;
   my $perl = try_hello(perl => @$args);
   my $c = try_hello(c => @$args);
   ok $perl && $perl->[0] eq "die" && $perl->[1] =~ /^\Q$BAD_ID\E at /,
      "$what: the Perl port dies with Kernel.pm's reason"
      or diag explain $perl;
   is_deeply $c, ["die", $BAD_ID], "$what: the C port dies with the same reason";
}

# ---- where a reply port is not a string --------------------------------------------

# Perl sends to the node of its string form ("42", "ARRAY(0x...)"); the
# README's C code takes aemp_str_ptr of it, NULL for a non-string, and a
# NULL port is Perl's undef: that port dies as Perl's does on undef.
for my $case (["a number", 42], ["an array", [1]], ["a map", {}]) {
   my ($what, $arg) = @$case;
   is try_hello(perl => $arg), undef, "$what as reply port: the Perl port lives";
   is_deeply try_hello(c => $arg), ["die", $BAD_ID],
      "$what as reply port: the C port dies as on undef";
}

# ---- where nothing dies ------------------------------------------------------------------

my @alive = (
   ["a huge reply port",     [$huge]],
   ["an unknown node",       ["nosuchnode#port", "x"]],
   ["no name",               [$inbox]],
   ["a name that is a list", [$inbox, [1, { a => undef }]]],
   ["an undef name",         [$inbox, undef]],
);
for my $case (@alive) {
   my ($what, $args) = @$case;
   for my $kind (qw(perl c)) {
      is try_hello($kind => @$args), undef, "$what: the $kind port lives";
   }
}

# not hellos at all: the port's default callback ignores them
for my $kind (qw(perl c)) {
   $seed->cmd(snd => "$id{$kind}#hello");
   $seed->cmd(snd => "$id{$kind}#hello", 42, [1]);
   $seed->cmd(snd => "$id{$kind}#hello", "bogus", $huge);
   ok hello_answered($kind), "$kind greeter: other messages are ignored";
}

# the answers to the good hellos with odd names
for my $kind (qw(perl c)) {
   my $n = ++$answers;
   $seed->cmd(snd => "$id{$kind}#hello", "hello", $inbox, [1, "name$n"]);
   ok answer(sub { $_[0] eq "hi" && ref $_[1] && ($_[1][1] // "") eq "name$n" }),
      "$kind greeter: a list as name comes back";
}

my $c_log = $greeter{c}->log_text;
unlike $c_log, qr/AddressSanitizer|runtime error/, "the C greeter ran clean";

done_testing;
