# The rc file between caemp and Perl's AnyEvent::MP 2.x, both ways:
#
#  - what caemp writes, AnyEvent::MP::Config reads, and find_profile gives
#    the same effective configuration caemp's showconfig prints;
#  - the same command lines run by aemp and by caemp on copies of the same
#    rc file print the same (modulo Perl's random key order, which is put
#    in order before comparing, byte for byte), exit alike, and leave the
#    same data in the file; caemp's file is exactly JSON::XS's pretty,
#    canonical encoding of that data.
#
# Run from the top of the tree: prove perl-interop/t/40_rc_roundtrip.t
# CAEMP names the caemp binary (default: $AEMP_BUILD/tools/caemp/caemp, else
# build/tools/caemp/caemp); AEMP (default: aemp on the PATH) names Perl's aemp.
use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use Test::More;

my $top = abs_path(dirname(__FILE__) . "/../..");
my $caemp = $ENV{CAEMP} // (($ENV{AEMP_BUILD} // "$top/build") . "/tools/caemp/caemp");
my $aemp = $ENV{AEMP} // "aemp";

my $tmp = tempdir("caemp-rc-XXXXXX", TMPDIR => 1, CLEANUP => 1);
# loading Config.pm reads the rc: never the user's own
$ENV{PERL_ANYEVENT_MP_RC} = "$tmp/unused";

# Only with AnyEvent::MP 2.x (1.x has another protocol and rc semantics).
my $version = eval { require AnyEvent::MP::Config; require AnyEvent::MP;
                     $AnyEvent::MP::VERSION };
plan skip_all => "AnyEvent::MP 2.x is not installed"
   unless defined $version && $version >= 2;
plan skip_all => "no caemp at $caemp (build it, or set CAEMP)"
   unless -x $caemp;
plan skip_all => "Perl's aemp is not on the PATH (or set AEMP)"
   unless system("sh", "-c", "command -v '$aemp' >/dev/null") == 0;

require JSON::XS;

# Runs a tool with the rc at $rc; returns (exit status, stdout, stderr).
sub run_tool {
   my ($tool, $rc, @args) = @_;
   local $ENV{PERL_ANYEVENT_MP_RC} = $rc;
   my $pid = open(my $out, "-|") // die "fork: $!";
   if (!$pid) {
      open STDERR, ">", "$tmp/stderr" or die;
      exec $tool, @args or die "$tool: $!";
   }
   local $/;
   my $stdout = <$out> // "";
   close $out;
   my $status = $? >> 8;
   open my $e, "<", "$tmp/stderr" or die;
   my $stderr = <$e> // "";
   ($status, $stdout, $stderr)
}

# What AnyEvent::MP::Config itself makes of the file at $rc: its %CFG
# and find_profile's result, in a fresh perl.
sub perl_view {
   my ($rc, $name, @kv) = @_;
   local $ENV{PERL_ANYEVENT_MP_RC} = $rc;
   my $code = <<'EOF';
      use AnyEvent::MP::Config; use JSON::XS;
      my ($name, @kv) = @{ decode_json shift };
      my $p = AnyEvent::MP::Config::find_profile($name, @kv);
      print JSON::XS->new->utf8->canonical->encode(
         [{ %{ AnyEvent::MP::Config::config() } }, $p]);
EOF
   # command-line arguments are strings to aemp, so they are here too
   open my $fh, "-|", $^X, "-e", $code, JSON::XS::encode_json([$name, map "$_", @kv])
      or die "perl: $!";
   local $/;
   my $out = <$fh>;
   close $fh;
   @{ JSON::XS::decode_json($out) }
}

sub slurp {
   open my $fh, "<:raw", $_[0] or return undef;
   local $/;
   scalar <$fh>
}

# The rc data as Perl reads it (JSON::XS relaxed, as Config.pm).
sub rc_data {
   my $text = slurp($_[0]);
   defined $text ? JSON::XS->new->utf8->relaxed->decode($text) : undef
}

# aemp prints JSON::XS->new->pretty output, keys in hash order; caemp the
# same with keys sorted. Put each printed text in canonical order, working
# on bytes (each byte a character), so the printed encoding is kept.
sub canonical_output {
   my ($text) = @_;
   my $json = JSON::XS->new;
   my $pretty = JSON::XS->new->pretty->canonical;
   my $res = "";
   $json->incr_parse($text);
   while (my $v = $json->incr_parse) {
      $res .= $pretty->encode($v);
   }
   $res
}

# ---- caemp writes, Perl reads ----

{
   my $rc = "$tmp/c2p";
   my @cmd = (
      setsecret => "global-secret", setmonitor_timeout => 7,
      profile => "base", setbinds => "*:4040,1.2.3.4:5", setseeds => "a:1,b:2",
      setframing_format => '["json","storable"]', auth_offer => '["hmac_sha3_512"]',
      profile => "leaf", setparent => "base", nodeid => "leaf/%u", addseed => "c:3",
      secret => "leaf-secret", setconnect_interval => '"3"', secure => 1,
   );
   my ($st, $out, $err) = run_tool($caemp, $rc, @cmd);
   is $st, 0, "caemp edits a new rc file" or diag $err;
   my $text = slurp($rc);
   ok eval { JSON::XS->new->utf8->decode($text); 1 }, "the file is strict JSON";

   my ($cfg, $leaf) = perl_view($rc, "leaf");
   is $cfg->{secret}, "global-secret", "Perl loaded caemp's file (not its empty default)";
   # addseed on a profile without seeds starts a list of its own (aemp too)
   is_deeply $leaf->{seeds}, ["c:3"], "Perl sees the profile's own seeds";
   is_deeply $leaf->{binds}, ["*:4040", "1.2.3.4:5"], "... the parent's binds";
   is $leaf->{secret}, "leaf-secret", "... the profile's own secret";
   is $leaf->{monitor_timeout}, 7, "... the global monitor_timeout";
   is_deeply $leaf->{framing_format}, ["json", "storable"], "... a JSON list from the parent";
   is $leaf->{connect_interval}, "3", "... a JSON string value";

   is $text, JSON::XS->new->utf8->pretty->canonical->encode($cfg) . "\n",
      "caemp's file is byte for byte JSON::XS's pretty canonical encoding plus a newline";

   # the effective profile, as caemp and as Perl compute it
   for my $case (["leaf"], ["base"], ["nosuch"], ["leaf", monitor_timeout => 99],
                 ["leaf", monitor_timeout => 99, secret => "arg", force => 1],
                 ["leaf", norc => 1, binds => "x"]) {
      my ($name, @kv) = @$case;
      my ($st, $out) = run_tool($caemp, $rc, showconfig => $name, @kv);
      my (undef, $p) = perl_view($rc, $name, @kv);
      delete @$p{qw(profile parent)};
      is $out, JSON::XS->new->pretty->canonical->encode($p),
         "caemp showconfig @$case prints Perl's find_profile, byte for byte";
   }
   is slurp($rc), $text, "showconfig alone leaves the file alone";
}

# gensecret and gencert: random, so checked on their own
{
   my $rc = "$tmp/random";
   my ($st, undef, $err) = run_tool($caemp, $rc, qw(gensecret profile tls gencert));
   is $st, 0, "caemp gensecret gencert" or diag $err;
   my ($cfg, $p) = perl_view($rc, "tls");
   like $cfg->{secret}, qr/^[0-9A-Za-z]{180}\z/, "the secret: 180 alphanumerics, as aemp's";
   like $p->{cert}, qr/^-----BEGIN CERTIFICATE-----\n.*-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n.*-----END PRIVATE KEY-----\n\z/s,
      "the certificate, then its key, as aemp's openssl req gives them";
 SKIP: {
      skip "no openssl binary", 1
         unless system("sh", "-c", "command -v openssl >/dev/null") == 0;
      open my $fh, ">", "$tmp/cert.pem" or die;
      print $fh $p->{cert};
      close $fh;
      my $subject = `openssl x509 -noout -subject -in $tmp/cert.pem 2>&1`;
      like $subject, qr/CN\s*=\s*AnyEvent::MP/, "openssl reads the certificate";
   }
}

# autocork: stored for Perl nodes; a false one is not what a C node does
# (it writes once per loop turn), and caemp says so
{
   my $rc = "$tmp/autocork";
   my ($st, undef, $err) = run_tool($caemp, $rc, qw(setautocork 0));
   is $st, 0, "caemp setautocork 0 stores it";
   like $err, qr/^caemp: autocork: stored for Perl nodes; C nodes ignore it/,
      "and says that C nodes do not honour it";
   my ($cfg) = perl_view($rc, "x");
   ok defined $cfg->{autocork} && !$cfg->{autocork}, "Perl reads a false autocork";
   ($st, undef, $err) = run_tool($caemp, $rc, qw(setautocork 1));
   is "$st $err", "0 ", "caemp setautocork 1: what C nodes do, no note";
}

# ---- the same commands through aemp and caemp ----

my $seed = <<'EOF';
{
   # a hand-written rc file, relaxed JSON
   "version" : 1,
   "secret" : "seed",
   "profile" : {
      "p" : { "parent" : "q", "binds" : [ "x:1", "y:2", ], },
      "q" : { "seeds" : [ "s:1" ], "monitor_timeout" : 5 },
   },
}
EOF

my @scenarios = (
   [qw(setsecret x showconfig foo)],
   [qw(setsecret x showprofile foo)],
   [qw(delbind x)],
   [qw(showconfig)],
   [qw(showconfig p)],
   [qw(showprofile p showprofile nosuch)],
   ["profile", "p", "setparent", "q", "profile", "q", "setbinds", "*:1,2", "addbind", "3",
    "delbind", "*:1", "setseeds", '["a:1"]', "addseed", "b:2", "addseed", "a:1",
    "delseed", "none", "showprofile", "q", "showconfig", "p"],
   ["profile", "p", "setmonitor_timeout", "5", "setconnect_interval", '"7"',
    "setframing_format", '["json","storable"]', "setauth_offer", '["hmac_sha3_512"]',
    "setauth_accept", '["cleartext"]', "setsecure", "1", "setautocork", "0",
    "setnodelay", '"1"', "showprofile", "p"],
   [qw(profile p delmonitor_timeout delsecure delparent delbinds delseeds delnodeid
       delsecret delframing_format delauth_offer delauth_accept delautocork delnodelay
       delconnect_interval showprofile p)],
   ["nodeid", "n/", "secret", "s", "binds", "a:1", "seeds", "b:2", "parent", "x",
    "monitor_timeout", "3", "framing_format", '["json"]', "secure", "1",
    "connect_interval", "1", "auth_offer", '[]', "auth_accept", '["tls_anon"]',
    "autocork", "1", "nodelay", "0", "showconfig"],
   [qw(delprofile p showprofile p showconfig p)],
   [qw(profile p delprofile p setsecret detached showprofile p)],
   ["setservices", "A::,B::", "addservice", "C", "addservice", "A::", "delservice", "A::",
    "seteval", "1+1", "showconfig", "nosuch"],
   [qw(showconfig p monitor_timeout 99 force 1)],
   [qw(showconfig p norc 1 x)],
   ["showconfig", '"p"', "odd"],
   ["profile", "r", "setbinds", '"a:1,b:2"', "setseeds", '{"a":1}', "showprofile", "r"],
   ["profile", "r", "setbinds", ",a:1,,b:2,,", "showprofile", "r"],
   ['["profile","j","setbinds",["a:1"],"showprofile","j","setsecret",{"x":[1]}]'],
   ["setsecret", "\xe4\xf6", "profile", "\xfc", "setnodeid", "n\xe9", "showprofile", "\xfc"],
   ["setsecret", "\xe4\xf6", "profile", "w", "setnodeid", '"\u20ac"', "showprofile", "w",
    "showconfig", "w"],
   [qw(setsecret a profile)],
   [qw(setsecret b bogus setsecret c)],
   [qw(profile p addbind)],
   [qw(profile p delbind)],
   [qw(setseeds)],
   [qw(profile)],
   [qw(showprofile)],
   [qw(setsecret a run)],
);

for my $sc (@scenarios) {
   my $name = join " ", @$sc;
   for my $start ("seed", "none") {
      my ($ra, $rc) = ("$tmp/a-$start", "$tmp/c-$start");
      unlink $ra, $rc, "$ra~", "$rc~";
      if ($start eq "seed") {
         for ($ra, $rc) { open my $fh, ">", $_ or die; print $fh $seed; close $fh }
      }
      my ($sa, $oa, $ea) = run_tool($aemp, $ra, @$sc);
      my ($sc_, $oc, $ec) = run_tool($caemp, $rc, @$sc);
      my $what = "[$name] from " . ($start eq "seed" ? "a seed file" : "no file");

      is $sc_, $sa, "$what: same exit status" or diag "aemp: $ea\ncaemp: $ec";
      is $oc, canonical_output($oa), "$what: same output";
      # aemp's own messages, where caemp's are meant to be the same
      if ($ea =~ /^(\S.* missing)\n\z/) {
         is $ec, $ea, "$what: same message";
      }
      is_deeply rc_data($rc), rc_data($ra), "$what: same rc data";
      if (defined(my $data = rc_data($ra))) {
         my $text = slurp($rc);
         is $text, JSON::XS->new->utf8->pretty->canonical->encode($data) . "\n",
            "$what: caemp's file is the canonical pretty encoding"
            unless $text eq $seed;
      }
   }
}

done_testing;
