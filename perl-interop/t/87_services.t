# services (issue 14): one rc profile with  services => ["KV::Service::"]
# started by a Perl node (`aemp run profile kv`, KV/Service.pm on @INC)
# and by a C node (`caemp run profile kv`, the plugin KV/Service.so on the
# rc key service_path); the Perl client examples/kv_service/kv_client.pl
# works unchanged against both. A service that cannot be found makes both
# exit non-zero with the same kind of message.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time sleep);
use IO::Socket::INET;
use AempInterop;

AempInterop::plan_or_skip();

my $TMP = $AempInterop::TMP;
my $TOP = $AempInterop::TOP;
my $BUILD = $AempInterop::BUILD;
my $plugins = "$BUILD/examples/kv_service";
-e "$plugins/KV/Service.so" or plan skip_all => "the KV::Service plugin is not built";
my $client = "$TOP/examples/kv_service/kv_client.pl";
my ($aemp) = grep -x, map "$_/aemp", split /:/, $ENV{PATH} // "";
$aemp or plan skip_all => "Perl's aemp is not installed";

# aemp run loads AnyEvent::Watchdog, which is not installed here: a
# stand-in that does nothing, in this test's own directory only
mkdir "$TMP/wd"; mkdir "$TMP/wd/AnyEvent"; mkdir "$TMP/wd/AnyEvent/Watchdog";
for (["Watchdog.pm", "package AnyEvent::Watchdog; 1;\n"],
     ["Watchdog/Util.pm", "package AnyEvent::Watchdog::Util;\n"
                        . "sub autorestart { } sub heartbeat { } 1;\n"]) {
   open my $fh, ">", "$TMP/wd/AnyEvent/$_->[0]" or die "$_->[0]: $!";
   print $fh $_->[1];
}
# the Perl twin on @INC, as a deployment would install it
$ENV{PERL5LIB} = join ":", "$TMP/wd", "$TOP/examples/kv_service",
   $ENV{PERL5LIB} // ();

sub write_profiles {
   my ($port, %kv) = @_;
   AempInterop::write_rc({ secret => "kv-secret", profile => {
      kv => { nodeid => "kvnode", binds => ["127.0.0.1:$port"],
              seeds => ["127.0.0.1:$port"], services => ["KV::Service::"],
              service_path => [$plugins], %kv },
      kvclient => { binds => ["127.0.0.1:*"], seeds => ["127.0.0.1:$port"] },
   } });
}

sub bg { AempInterop::start_program(@_) }

# Runs the client; its output, stderr appended on failure.
sub kv {
   my $run = bg($^X, $client, @_);
   my ($rc, $out, $err) = AempInterop::finish_caemp($run, 20);
   $rc eq "0" ? $out : "FAILED ($rc): $out$err";
}

sub until_true {
   my ($timeout, $test) = @_;
   my $deadline = time + $timeout;
   while (time < $deadline) {
      my $r = $test->();
      return $r if $r;
      sleep 0.1;
   }
   undef
}

for my $kind (qw(perl c)) {
   my $port = AempInterop::free_port();
   write_profiles($port);
   local $ENV{AE_VERBOSE} = 7; # the service's "serving on" (info)
   my $server = bg($kind eq "perl" ? ($aemp, qw(run profile kv))
                                   : (AempInterop::caemp(), qw(run profile kv)));
   my $what = $kind eq "perl" ? "aemp run (KV/Service.pm)" : "caemp run (KV/Service.so)";

   is kv(get => "a"), "null\n", "$what: get of an unset key: undef";
   is kv(set => "a", '{"x":[1,"two"]}'), "1\n", "$what: set answers 1";
   is kv(get => "a"), qq({"x":[1,"two"]}\n), "$what: get gives the value back";
   is kv(set => "u", "\x{e9}t\x{e9}"), "1\n", "$what: set of a string";
   is kv(get => "u"), qq("\x{c3}\x{a9}t\x{c3}\x{a9}"\n), "$what: and it comes back the same";

   my $sub = bg($^X, $client, subscribe => 2);
   ok until_true(10, sub { AempInterop::slurp($sub->{out}) =~ /^subscribed$/m }),
      "$what: subscribe answers";
   is kv("subscribers"), "1\n", "$what: one subscriber";
   kv(set => "b", "hello");
   kv(set => "c", "[3]");
   my ($rc, $out, $err) = AempInterop::finish_caemp($sub, 10);
   is $out, qq(subscribed\n["b","hello"]\n["c",[3]]\n),
      "$what: the subscriber got both changes, in order" or diag $err;
   ok until_true(10, sub { kv("subscribers") eq "0\n" }),
      "$what: a subscriber that died is forgotten";

   like AempInterop::slurp($server->{err}), qr/KV::Service: serving on kvnode#/,
      "$what: the service logged its port";
   kill TERM => -$server->{pid};
   AempInterop::finish_caemp($server, 10);
}

# ---- a service that cannot be found or fails --------------------------------

my $port = AempInterop::free_port();
write_profiles($port, services => ["No::Such::"]);
my ($prc, undef, $perr) = AempInterop::finish_caemp(bg($aemp, qw(run profile kv)), 20);
my ($crc, undef, $cerr) = AempInterop::run_caemp(20, qw(run profile kv));
isnt $prc, 0, "aemp run: a module nowhere on \@INC: exits non-zero";
like $perr, qr/^Can't locate No\/Such\.pm in \@INC \(you may need to install the No::Such module\)/m,
   "saying Perl's require's message";
isnt $crc, 0, "caemp run: a plugin nowhere on the service path: exits non-zero";
like $cerr, qr/^caemp: run: Can't locate No\/Such\.so in the service path \(you may need to install the No::Such module\) \(service path contains: \Q$plugins\E /m,
   "saying the same, with the plugin's file and the path" or diag $cerr;

write_profiles($port, services => ["KV::Service::", "No::function"]);
($prc, undef, $perr) = AempInterop::finish_caemp(bg($aemp, qw(run profile kv)), 20);
($crc, undef, $cerr) = AempInterop::run_caemp(20, qw(run profile kv));
isnt $prc, 0, "aemp run: an unknown function: exits non-zero";
like $perr, qr/^unable to resolve function 'No::function'/m, "Perl's message";
isnt $crc, 0, "caemp run: exits non-zero";
like $cerr, qr/^caemp: run: unable to resolve function 'No::function'$/m,
   "with the same message" or diag $cerr;

# the node started nothing: its bind is free again
ok(IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $port,
                         Listen => 1, ReuseAddr => 1),
   "caemp run left no listener behind");

done_testing;
