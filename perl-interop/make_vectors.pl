#!/usr/bin/perl
# make_vectors.pl: regenerates the reference vectors of tests/vectors from
# real AnyEvent::MP 2.x (tests/vectors/README.md says what each file is).
#
#   perl perl-interop/make_vectors.pl [--free-ports] DIR [auth|frames|wire ...]
#
# writes the named groups (all three by default) into DIR:
#   frames  frames.json.bin, frames.cbor.bin, frames.expected.jsonl,
#           frames.lengths.txt: 18 messages sent through
#           AnyEvent::MP::Transport's own sender (set_snd_framing), which
#           writes JSON::XS::encode_json / CBOR::XS::encode_cbor of each;
#   auth    auth.json: fixed greeting lines and secrets, and the values
#           Transport.pm's handshake computes from them (its
#           hmac_sha3_512_hex, and Digest::SHA3 and unpack "H*" as its
#           auth code calls them);
#   wire    wire-slave-seed.txt, wire-seed-seed.txt: real links between
#           AnyEvent::MP nodes (separate processes) captured byte for byte
#           by a TCP proxy in this process, one line per read().
# frames and auth come out byte for byte the same on every run. The wire
# transcripts carry nonces, HMACs, random port ids, times and ephemeral
# ports, and read() boundaries vary: perl-interop/t/05_vectors.t compares
# their structure. The nodes use the ports of the files in the tree
# (1404x..1406x on 127.0.0.1); --free-ports picks free ones instead.
use strict;
use warnings;

use AnyEvent;
use AnyEvent::Socket qw(tcp_server tcp_connect);
use AnyEvent::MP::Transport ();
use CBOR::XS ();
use Digest::SHA3 ();
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::XS ();
use MIME::Base64 ();
use POSIX ();

my $free_ports = @ARGV && $ARGV[0] eq "--free-ports" ? shift : 0;
my $dir = shift // die "usage: $0 [--free-ports] DIR [auth|frames|wire ...]\n";
my %want = map { $_ => 1 } @ARGV ? @ARGV : qw(auth frames wire);
-d $dir or die "$dir: not a directory\n";

sub write_file {
   my ($name, $bytes) = @_;
   open my $fh, ">:raw", "$dir/$name" or die "$dir/$name: $!\n";
   print $fh $bytes;
   close $fh or die "$dir/$name: $!\n";
}

# ---- frames ----------------------------------------------------------------

# The messages, as Perl data: what the C readers must decode and the C
# writers reproduce. Strings are Perl byte strings, which CBOR::XS writes
# as CBOR byte strings, except 13, whose characters above U+00FF make it a
# character string, a CBOR text string.
sub messages {
   my $nested = [];
   $nested = [$nested] for 1 .. 64;
   (
      ["", "g_slave"],
      ["", "g_slave", { "'l" => { seed1 => ["127.0.0.1:4040"] } }],
      ["", "g_found", "recv1", ["127.0.0.1:46655", "[::1]:4041"]],
      ["", "g_chg2", "eg_receivers", { "recv1#J0WJ2uBk6b" => undef }, ["old#port"]],
      ["", "mon1", "J0WJ2uBk6b"],
      ["", "kil0", "J0WJ2uBk6b", "transport_error", "peer", "connect timeout"],
      ["", "AnyEvent::MP::_spawn", "Ab3dE9fGhI.c", "MyApp::Chat::Server::connect", "client1#abc"],
      ["J0WJ2uBk6b", "test", 123, "hello"],
      ["x", 0, -1, 42, 9007199254740993, 9223372036854775807, -9223372036854775808,
       18446744073709551615],
      ["x", 0.5, -2.25, 1e300, 3.14159265358979, 1.5e-10],
      ["x", JSON::XS::true, JSON::XS::false, undef],
      ["x", "", "quote\" back\\ slash/ tab\t nl\n cr\r nul\0 bell\a"],
      ["x", "gr\x{fc}\x{df}e \x{263a} \x{1f600}"],
      ["x", join "", map chr, 0x80 .. 0xff],
      ["x", {}, [], { a => [1, { b => [undef] }] }],
      ["x", $nested],
      ["x", "z" x 100000],
      ["ping", "pong" x 10],
   )
}

# A stand-in for the AnyEvent::Handle under a transport: it keeps what the
# transport's sender pushes.
package VectorSink {
   sub new { bless { out => "" }, shift }
   sub push_write { $_[0]{out} .= $_[1] }
   sub destroy { }
}

# The bytes AnyEvent::MP::Transport sends for each message in a framing:
# its own set_snd_framing builds the sender, as on a real link.
sub framed {
   my ($framing, @msgs) = @_;
   my $sink = VectorSink->new;
   # a protocol name keeps the node's transport hooks out of it
   my $tp = bless { s_framing => $framing, hdl => $sink, protocol => "vectors" },
      "AnyEvent::MP::Transport";
   $tp->set_snd_framing;
   map { $sink->{out} = ""; $tp->{send}->($_); $sink->{out} } @msgs
}

sub make_frames {
   my @msgs = messages();
   my @json = framed(json => @msgs);
   my @cbor = framed(cbor => @msgs);
   my $canon = JSON::XS->new->utf8->canonical;
   write_file("frames.json.bin", join "", @json);
   write_file("frames.cbor.bin", join "", @cbor);
   write_file("frames.expected.jsonl", join "", map $canon->encode($_) . "\n", @msgs);
   write_file("frames.lengths.txt",
      join "", map length($json[$_]) . " " . length($cbor[$_]) . "\n", 0 .. $#msgs);
}

# ---- auth -------------------------------------------------------------------

my $ABOUT = "Handshake authentication vectors computed by AnyEvent::MP 2.02 "
   . "(Transport::hmac_sha3_512_hex, Digest::SHA3::sha3_512_hex). 'l' is the "
   . "local side (the side that computes lauth and sends auth_line_sent), 'r' "
   . "the remote. The HMAC input is the four greeting lines each followed by "
   . "\\n: local pair first for lauth, remote pair first for rauth (the auth "
   . "the local side expects to receive). Secrets are given hex-encoded (their "
   . "raw bytes).";

# The secrets: short ones, the HMAC block size (72 bytes) and one more,
# gensecret's length (180), separators and non-ASCII bytes.
sub secrets {
   (
      "testsecret123",
      "geheim",
      "x" x 72,
      "y" x 73,
      join("", map chr(48 + (7 * $_) % 75), 0 .. 179),
      "semi;colon and spaces",
      "\xc3\xa4\xc3\xb6\xc3\xbc-utf8-bytes",
   )
}

sub auth_case {
   my ($n, $secret) = @_;
   my $l1 = "aemp;1;cnode$n;tls_sha3_512,hmac_sha3_512,tls_anon,cleartext;json;"
      . "provider=test-0;mproto=1;gproto=1";
   my $r1 = "aemp;1;perl$n;tls_sha3_512,hmac_sha3_512,tls_anon,cleartext;"
      . "cbor,json,storable;mproto=1;peeraddr=127.0.0.1:4040;gproto=1;provider=AE-2.02";
   # fixed nonce lines (a real one is 88 characters of base64), one per case
   my $l2 = "bG9jYWxub25jZS0$n" . "A" x 70;
   my $r2 = "cmVtb3Rlbm9uY2U$n" . "B" x 70;
   my $lmsg = "$l1\012$l2\012$r1\012$r2\012";
   my $rmsg = "$r1\012$r2\012$l1\012$l2\012";
   my $lauth = AnyEvent::MP::Transport::hmac_sha3_512_hex($secret, $lmsg);
   {
      lgreeting1 => $l1, lgreeting2 => $l2, rgreeting1 => $r1, rgreeting2 => $r2,
      secret_hex => unpack("H*", $secret),
      hmac_sha3_512_lauth => $lauth,
      hmac_sha3_512_rauth => AnyEvent::MP::Transport::hmac_sha3_512_hex($secret, $rmsg),
      tls_sha3_512_lauth => Digest::SHA3::sha3_512_hex($lmsg),
      tls_sha3_512_rauth => Digest::SHA3::sha3_512_hex($rmsg),
      cleartext_auth => unpack("H*", $secret),
      # the local side receives json only, the first the remote offers
      auth_line_sent => "hmac_sha3_512;$lauth;json",
   }
}

sub make_auth {
   my @s = secrets();
   my @cases = map auth_case($_ + 1, $s[$_]), 0 .. $#s;
   write_file("auth.json", JSON::XS->new->pretty->canonical->encode(
      { about => $ABOUT, cases => \@cases }));
}

# ---- wire ---------------------------------------------------------------------

sub free_port {
   my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0,
                                 Listen => 1, ReuseAddr => 1)
      or die "no free port: $!\n";
   $s->sockport
}

sub port { $free_ports ? free_port() : $_[0] }

# Python's repr of a bytes object: how the transcripts show each read().
sub py_bytes {
   my ($b) = @_;
   my $q = $b =~ /'/ && $b !~ /"/ ? '"' : "'";
   my %esc = ("\\" => "\\\\", $q => "\\$q", "\t" => "\\t", "\n" => "\\n", "\r" => "\\r");
   my $s = join "", map {
      $esc{$_} // (/[\x20-\x7e]/ ? $_ : sprintf "\\x%02x", ord)
   } split //, $b;
   "b$q$s$q"
}

# A TCP proxy from 127.0.0.1:$listen to 127.0.0.1:$target: records every
# read() of the first connection as [">" (client to server) or "<", bytes].
# With $hold it connects to the target only that many seconds after the
# client came: the client waits that long for the other side's greeting.
sub proxy {
   my ($listen, $target, $log, $hold) = @_;
   my %keep;
   my $server = tcp_server "127.0.0.1", $listen, sub {
      my ($cfh) = @_;
      my $first = !$keep{seen}++;
      $keep{"hold$cfh"} = AE::timer $hold // 0, 0, sub {
         tcp_connect "127.0.0.1", $target, sub {
            my ($sfh) = @_ or return close $cfh;
            $keep{"$cfh$_->[2]"} = pump(@$_, $first ? $log : undef)
               for [$cfh, $sfh, ">"], [$sfh, $cfh, "<"];
         };
      };
   };
   sub { %keep = (); undef $server }
}

# Relays what comes from one socket to the other, logging each read().
sub pump {
   my ($from, $to, $dir, $log) = @_;
   my $w; $w = AE::io $from, 0, sub {
      my $n = sysread $from, my $buf, 65536;
      if (!$n) {
         shutdown $to, 1;
         return undef $w;
      }
      push @$log, [$dir, $buf] if $log;
      relay($to, $buf);
   };
   $w
}

# Writes all of buf to a non-blocking socket (loopback: rarely waits).
sub relay {
   my ($fh, $buf) = @_;
   while (length $buf) {
      my $n = syswrite $fh, $buf;
      if (!defined $n) {
         return unless $!{EAGAIN};
         my $rin = ""; vec($rin, fileno $fh, 1) = 1;
         select undef, $rin, undef, 0.1;
         next;
      }
      substr $buf, 0, $n, "";
   }
}

# The node processes still running: killed however this script ends.
my @CHILDREN;
END { kill TERM => -$_ for @CHILDREN }
$SIG{INT} = $SIG{TERM} = sub { exit 1 };

# A node in its own process (group): configure with the given arguments,
# run the scenario (Perl code; @keep holds its timers and guards), and
# keep going until killed or the scenario exits.
sub node {
   my ($tmp, $name, $conf, $scenario) = @_;
   my $json = JSON::XS->new->canonical->encode({ %$conf, norc => 1, secret => "testsecret123",
      framing_format => ["json"] });
   my $code = <<"EOP";
use strict; use warnings;
use AnyEvent; use AnyEvent::MP; use JSON::XS;
configure %{ decode_json(\$ARGV[0]) };
my \@keep;
$scenario
AE::cv->recv;
EOP
   my $file = "$tmp/$name.pl";
   open my $fh, ">", $file or die "$file: $!\n";
   print $fh $code;
   close $fh;
   my $pid = fork // die "fork: $!\n";
   if (!$pid) {
      POSIX::setsid();
      open STDIN, "<", "/dev/null";
      open STDOUT, ">", "$tmp/$name.log";
      open STDERR, ">&", \*STDOUT;
      { exec $^X, $file, $json }
      POSIX::_exit(127);
   }
   push @CHILDREN, $pid;
   $pid
}

sub after {
   my ($seconds) = @_;
   my $cv = AE::cv;
   my $t = AE::timer $seconds, 0, sub { $cv->send };
   $cv->recv;
}

sub wait_exit {
   my ($pid, $limit) = @_;
   my $cv = AE::cv;
   my $w = AE::child $pid, sub { $cv->send(1) };
   my $t = AE::timer $limit, 0, sub { $cv->send(0) };
   $cv->recv or die "a scenario node did not finish within $limit s\n";
   @CHILDREN = grep $_ != $pid, @CHILDREN;
}

sub stop {
   my %gone = map { $_ => 1 } @_;
   kill TERM => -$_ for @_;
   waitpid $_, 0 for @_;
   @CHILDREN = grep !$gone{$_}, @CHILDREN;
}

sub transcript {
   my ($name, $header, $log) = @_;
   @$log or die "$name: nothing passed the proxy\n";
   write_file($name, join "", (map "# $_\n", split /\n/, $header),
      map "$_->[0] " . py_bytes($_->[1]) . "\n", @$log);
}

# slave1 (a normal node) and its seed seed1, through the proxy.
sub wire_slave_seed {
   my ($tmp) = @_;
   my ($p_seed, $p_proxy, $p_slave) = (port(14040), port(14050), port(14061));
   my @log;
   my $stop_proxy = proxy($p_proxy, $p_seed, \@log);
   my $seed = node($tmp, "seed1", { nodeid => "seed1", binds => ["127.0.0.1:$p_seed"],
      seeds => ["127.0.0.1:$p_seed"] }, "");
   after(1);
   my $slave = node($tmp, "slave1", { nodeid => "slave1", binds => ["127.0.0.1:$p_slave"],
      seeds => ["127.0.0.1:$p_proxy"] }, <<'EOS');
my $port = port;
my $mon;
push @keep, AE::timer 1.0, 0, sub {
   db_set eg_receivers => $port, { info => "x" };
   $mon = db_mon eg_receivers => sub { };
   db_keys "'l" => sub { };
   db_family "'l" => sub { };
};
push @keep, AE::timer 1.5, 0, sub {
   snd "seed1", time => port { };
   mon "seed1#nosuchport", sub { };
   cal "seed1", snd => "seed1#nosuch", "x", sub { }, 1;
};
push @keep, AE::timer 3.0, 0, sub {
   db_del eg_receivers => $port;
   undef $mon;
};
push @keep, AE::timer 3.5, 0, sub { exit 0 };
EOS
   wait_exit($slave, 20);
   after(0.5);
   stop($seed);
   $stop_proxy->();
   transcript("wire-slave-seed.txt", <<"EOH", \@log);
A real AnyEvent::MP $AnyEvent::MP::Config::VERSION link, captured byte for byte by a TCP proxy.
'>' = from node "slave1" (a normal node) to its seed "seed1"; '<' = seed to slave.
Each line is one read() of raw bytes, shown as a Python bytes literal: frame
boundaries do not follow read boundaries. Shared secret: "testsecret123".
Both nodes were configured with framing_format ["json"].
What slave1 did (perl-interop/make_vectors.pl):
  db_set eg_receivers => \$port, {info => "x"};   -> g_upd
  db_mon eg_receivers => ...;                   -> g_mon1 / g_chg1
  db_keys "'l" / db_family "'l"                 -> g_db_keys / g_db_family + g_reply
  snd seed1, time => \$replyport                 -> node request "time"
  mon "seed1#nosuchport"                        -> mon1, answered by kil0 no_such_port
  cal seed1, snd => "seed1#nosuch", "x" (1s timeout; the relayed message is dropped)
  db_del eg_receivers => \$port; guard released  -> g_upd with deletes, g_mon0
EOH
}

# Two global nodes, seed2 linked to seed1 through the proxy, while a normal
# node slave3 (seeded by seed2 only) sets and deletes keys.
sub wire_seed_seed {
   my ($tmp) = @_;
   my ($p1, $p2, $px, $p3) = (port(14040), port(14042), port(14050), port(14063));
   my @log;
   # seed2 must know it is a global node (it has reached itself) before it
   # hears from seed1, or it first greets seed1 as a normal node would
   my $stop_proxy = proxy($px, $p1, \@log, 1);
   my $seed1 = node($tmp, "seed1", { nodeid => "seed1", binds => ["127.0.0.1:$p1"],
      seeds => ["127.0.0.1:$p1"] }, "");
   after(0.5);
   my $seed2 = node($tmp, "seed2", { nodeid => "seed2", binds => ["127.0.0.1:$p2"],
      seeds => ["127.0.0.1:$px", "127.0.0.1:$p2"] }, "");
   after(1.5);
   my $slave = node($tmp, "slave3", { nodeid => "slave3", binds => ["127.0.0.1:$p3"],
      seeds => ["127.0.0.1:$p2"] }, <<'EOS');
my $port = port;
push @keep, AE::timer 0.8, 0, sub {
   db_set svc => a => 1;
   db_set svc => b => [2];
   push @keep, db_reg svc2 => $port;
};
push @keep, AE::timer 1.6, 0, sub {
   db_set svc => a => 11;
   db_del svc => "b";
};
push @keep, AE::timer 2.4, 0, sub { exit 0 };
EOS
   wait_exit($slave, 20);
   after(1);
   stop($seed1, $seed2);
   $stop_proxy->();
   transcript("wire-seed-seed.txt", <<"EOH", \@log);
A real AnyEvent::MP $AnyEvent::MP::Config::VERSION link between two global (seed) nodes, captured byte
for byte by a TCP proxy. '>' = from seed2 to seed1; '<' = seed1 to seed2.
seed1: binds 127.0.0.1:$p1, seeds [itself]; seed2: binds 127.0.0.1:$p2,
seeds [seed1 (through the proxy), itself]. Secret "testsecret123", framing json.
A normal node slave3 (seeds: seed2 only) then did:
  t=0.8s  db_set svc => a => 1; db_set svc => b => [2]; db_reg svc2 => \$port
  t=1.6s  db_set svc => a => 11; db_del svc => "b"
  t=2.4s  exits (its link to seed2 drops; seed2 clears its shard)
Note that the 11 travels as the string "11": Perl scalars carry no fixed type.
EOH
}

sub make_wire {
   my $tmp = tempdir("aemp-vectors-XXXXXX", TMPDIR => 1, CLEANUP => 1);
   # no node reads an rc file (configure gets norc), but never the user's
   local $ENV{PERL_ANYEVENT_MP_RC} = "$tmp/rc";
   wire_slave_seed($tmp);
   wire_seed_seed($tmp);
}

make_frames() if $want{frames};
make_auth() if $want{auth};
make_wire() if $want{wire};
