package AempUnit;
# caemp@.service's command line for the interop tests: the generated
# unit's ExecStart and Environment ([Service]), run as systemd would run
# the instance, with two changes only: the program is the built caemp
# (the unit names the installed one) and PERL_ANYEVENT_MP_RC, which
# names the installed rc file, names the test's.
use strict;
use warnings;

use Text::ParseWords qw(shellwords);
use AempInterop;

our $UNIT = "$AempInterop::BUILD/tools/systemd/caemp\@.service";

# (ExecStart's words, {Environment}), or () without the unit
sub parse {
   open my $fh, "<", $UNIT or return ();
   my ($section, @exec, %env) = ("");
   while (<$fh>) {
      chomp;
      next if /^\s*(#|$)/;
      $section = $1, next if /^\[(.*)\]/;
      next unless $section eq "Service";
      @exec = shellwords($1) if /^ExecStart=(.*)/;
      %env = (%env, map { split /=/, $_, 2 } shellwords($1))
         if /^Environment=(.*)/;
   }
   (\@exec, \%env)
}

# Starts caemp@INSTANCE with the rc file RC (AempInterop::start_program:
# in the background, finish_caemp waits for it).
sub start {
   my ($instance, $rc) = @_;
   my ($exec, $env) = parse() or die "no $UNIT";
   local %ENV = (%ENV, %$env, PERL_ANYEVENT_MP_RC => $rc);
   AempInterop::start_program(AempInterop::caemp(),
      map s/%i/$instance/gr, @$exec[1 .. $#$exec]);
}

1;
