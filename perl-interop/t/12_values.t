# Odd values: a Perl driver sends what only Perl makes (nesting at the
# limit and beyond, code points above U+10FFFF, Math::BigInt, byte and
# text keys) to a C echo node and to a Perl echo node, in each framing,
# and compares what comes back with what a Perl node receives from the
# driver directly. A C node must relay whatever Perl sends unchanged, and
# never send what Perl cannot decode: a port that tries to is killed with
# Perl's reason, as Perl's snd dies there.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use AempInterop;

AempInterop::plan_or_skip();

my $secret = "values-secret";

# A description as perl_node.pl's odd_describe makes it.
sub str_desc { "str:" . join ".", map sprintf("%x", ord), split //, $_[0] }
sub cp_desc { "str:" . join ".", @_ }

# A driver, a Perl echo node and a C echo node with the given framing
# lists; the driver's "box" port describes what comes back, the Perl echo
# node's "direct" port what the driver sends it directly.
sub start_trio {
   my ($tag, $framing) = @_;
   my @fmt = $framing ? (framing_format => $framing) : ();
   my $dport = AempInterop::free_port();
   my $drv = AempInterop::start_node(perl => nodeid => "drv_$tag",
      binds => ["127.0.0.1:$dport"], seeds => [], secret => $secret, @fmt);
   my %node = (drv => $drv);
   for (["pecho", "perl"], ["cecho", "c"]) {
      my ($name, $kind) = @$_;
      $node{$name} = AempInterop::start_node($kind => nodeid => "${name}_$tag",
         binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$dport"],
         secret => $secret, @fmt);
      $node{$name}->do(echo => "echo");
   }
   $drv->do(describe => "box");
   $node{pecho}->do(describe => "direct");
   wait_up($drv, $node{$_}->id) for qw(pecho cecho);
   \%node
}

# Until the node sees the other connected: the first snd then goes at once.
sub wait_up {
   my ($node, $id) = @_;
   $node->expect(sub { $_[0][0] eq "node" && $_[0][1] eq $id && $_[0][2] }, 10)
      or die $node->id . " never saw $id come up:\n" . $node->log_text;
}

# The driver sends the recipes' values; returns (description, error).
my $sent = 0;
sub odd {
   my ($drv, $port, @recipes) = @_;
   my $tag = ++$sent;
   $drv->cmd(odd => $tag, $port, @recipes);
   my $ev = $drv->expect(sub { $_[0][0] eq "odd" && $_[0][1] eq $tag }, 10)
      or die "the driver does not answer:\n" . $drv->log_text;
   @$ev[2, 3]
}

sub described {
   my ($node, $name) = @_;
   my $ev = $node->expect(sub { $_[0][0] eq "described" && $_[0][1] eq $name }, 10);
   $ev ? $ev->[2] : "nothing arrived"
}

# What a Perl node gets straight from the driver, and what comes back
# through each echo node (all as ["echoed", @values]).
sub through {
   my ($n, @recipes) = @_;
   my ($desc, $err) = odd($n->{drv}, $n->{pecho}->port("direct"), "echoed", @recipes);
   die "the driver's snd died: $err" if defined $err;
   my %got = (direct => described($n->{pecho}, "direct"));
   for my $echo (qw(cecho pecho)) {
      odd($n->{drv}, $n->{$echo}->port("echo"), "echo", $n->{drv}->port("box"), @recipes);
      $got{$echo} = described($n->{drv}, "box");
   }
   \%got
}

sub relays {
   my ($n, $what, @recipes) = @_;
   my $got = through($n, @recipes);
   is $got->{cecho}, $got->{direct}, "$what: the C node relays it unchanged";
   is $got->{pecho}, $got->{direct}, "$what: ... as the Perl node does";
   $got
}

my $deep511 = { deep => 511, in => 1 };   # with the frame: 512 levels
my $deep512 = { deep => 512, in => 1 };
my @strings = (
   [ascii => "plain"],
   [latin1_bytes => { bytes => "e9ff00" }],
   [latin1_text => { cp => ["e9", "ff", "0"] }],
   [wide => { cp => ["263a", "10ffff", "d800"] }],
   [keys => { hash => [[{ bytes => "e9" }, 1], [{ cp => ["e9"] }, 2],
      [{ cp => ["263a"] }, 3], [{ bytes => "ff00" }, 4], ["", 5]] }],
);
my @beyond = (   # code points only Perl strings hold, sent in cbor
   [u110000 => { cp => ["110000"] }],
   [mixed => { cp => ["61", "110000", "e9", "263a"] }],
   [u200000 => { cp => ["200000"] }],
   [u7fffffff => { cp => ["7fffffff"] }],
   [u1000000000 => { cp => ["1000000000"] }],
   [iv_max => { cp => ["7fffffffffffffff"] }],
   [as_key => { hash => [[{ cp => ["110000"] }, { cp => ["200000"] }]] }],
);
my @bignums = (
   [big_30_digits => { big => "123456789012345678901234567890" }],
   [big_2_64 => { big => "18446744073709551616" }],
   [big_u64_max => { big => "18446744073709551615" }],
   [big_2_32 => { big => "4294967296" }],
   [big_2_31 => { big => "2147483648" }],
   [big_small => { big => "5" }],          # Perl sends a plain 5
   [big_min_int32 => { big => "-2147483648" }],
);
# CBOR::XS garbles negative Math::BigInts beyond 32 bits when it writes
# them, so each Perl hop changes them: the C node must relay what arrived.
my @negative = (
   [big_neg_33_bits => { big => "-2147483649" }],
   [big_neg_30_digits => { big => "-123456789012345678901234567890" }],
);

sub kill_reason_ok {
   my ($n, $framing) = @_;
   # a port that sends one level deeper than it got: at the limit, that
   # is a message Perl's encoder refuses
   for my $echo (qw(cecho pecho)) {
      $n->{drv}->do(mon => $n->{$echo}->port("echo"), "$echo-mon");
      odd($n->{drv}, $n->{$echo}->port("echo"), "wrap", $n->{drv}->port("box"), $deep511);
      my $ev = $n->{drv}->expect(sub { $_[0][0] eq "mon" && $_[0][1] eq "$echo-mon" }, 10);
      ok $ev && $ev->[2] eq "die"
         && $ev->[3] =~ /^\Q$framing\E text or perl structure exceeds maximum nesting level \(max_depth set too low\?\)( at \S+ line \d+\.)?$/,
         "$framing, $echo: a port sending too deep a message dies with the encoder's reason"
         or diag explain $ev;
      $n->{$echo}->do(echo => "echo"); # a new one, for what follows
   }
   # the links are still fine: nothing half sent, nothing stalled
   relays($n, "$framing after the refused message", "still works");
}

# ---- cbor, Perl's default ------------------------------------------------

my $n = start_trio(cbor => undef);
relays($n, "cbor $_->[0]", $_->[1]) for @strings, @beyond, @bignums;
for (@negative) {
   my $got = through($n, $_->[1]);
   is $got->{cecho}, $got->{direct}, "cbor $_->[0]: the C node relays what arrived";
}
{
   my $got = relays($n, "cbor: 512 levels with the frame", $deep511);
   like $got->{cecho}, qr/^\[str:[0-9a-f.]+,(\[){511}num:1(\]){511}\]$/,
      "... and they are all there";
   my (undef, $err) = odd($n->{drv}, $n->{cecho}->port("echo"), "echo",
      $n->{drv}->port("box"), $deep512);
   like $err, qr/^cbor text or perl structure exceeds maximum nesting level/,
      "cbor: 513 levels: Perl's snd dies, so nothing that deep arrives from Perl";
}
kill_reason_ok($n, "cbor");

# ---- json ----------------------------------------------------------------

$n = start_trio(json => ["json"]);
relays($n, "json $_->[0]", $_->[1]) for @strings;
relays($n, "json: 512 levels with the frame", $deep511);
{
   my (undef, $err) = odd($n->{drv}, $n->{cecho}->port("echo"), "echo",
      $n->{drv}->port("box"), $deep512);
   like $err, qr/^json text or perl structure exceeds maximum nesting level/,
      "json: 513 levels: Perl's snd dies";
   (undef, $err) = odd($n->{drv}, $n->{cecho}->port("echo"), "echo",
      $n->{drv}->port("box"), { cp => ["110000"] });
   like $err, qr/^out of range codepoint \(0x110000\) encountered, unrepresentable in JSON/,
      "json: Perl cannot send U+110000 (JSON::XS's encoder refuses it)";
   (undef, $err) = odd($n->{drv}, $n->{cecho}->port("echo"), "echo",
      $n->{drv}->port("box"), { big => "123456789012345678901234567890" });
   like $err, qr/^encountered object '123456789012345678901234567890'/,
      "json: Perl cannot send a Math::BigInt";
}
kill_reason_ok($n, "json");

# ---- cbor in, json out ---------------------------------------------------
# The echo nodes take cbor from the driver and answer a node that reads
# only json: Perl's echo cannot write these values there (its snd dies),
# the C node writes what JSON::XS decodes to the same characters and
# digits.
{
   my $jport = AempInterop::free_port();
   my $recv = AempInterop::start_node(perl => nodeid => "jrecv",
      binds => ["127.0.0.1:$jport"], seeds => [], secret => $secret,
      framing_format => ["json"]);
   $recv->do(describe => "jbox");
   my $dport = AempInterop::free_port();
   my $drv = AempInterop::start_node(perl => nodeid => "drv_mixed",
      binds => ["127.0.0.1:$dport"], seeds => ["127.0.0.1:$jport"],
      secret => $secret, framing_format => ["cbor"]);
   my $c = AempInterop::start_node(c => nodeid => "cecho_mixed",
      binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$dport", "127.0.0.1:$jport"],
      secret => $secret);
   $c->do(echo => "echo");
   wait_up($drv, $c->id);
   wait_up($c, $recv->id);
   my @cases = (
      [u110000 => { cp => ["110000"] }, cp_desc("110000")],
      [mixed => { cp => ["61", "110000", "e9"] }, cp_desc("61", "110000", "e9")],
      [u1000000000 => { cp => ["1000000000"] }, cp_desc("1000000000")],
      # JSON::XS decodes a number beyond 64 bits as the string of its digits
      [big => { big => "123456789012345678901234567890" },
         str_desc("123456789012345678901234567890")],
      [big_fits => { big => "4294967296" }, "num:4294967296"],
   );
   for (@cases) {
      my ($what, $recipe, $want) = @$_;
      my (undef, $err) = odd($drv, $c->port("echo"), "echo", $recv->port("jbox"), $recipe);
      die "the driver's snd died: $err" if defined $err;
      is described($recv, "jbox"), "[" . str_desc("echoed") . ",$want]",
         "cbor in, json out, $what: the C node writes what JSON::XS reads as the same";
   }
}

done_testing;
