package AempScenario;
# Helpers for the spawn/cal, secure-mode and example scenarios (t/80_*,
# t/81_*, t/82_*), on top of AempInterop: the spawn_node twins
# (spawn_node.pl, spawn_node.c), programs that print plain text lines
# (the eg/ programs), and waiting on a node's log file.
use strict;
use warnings;

use IO::Select;
use Time::HiRes qw(time sleep);
use AempInterop;

# A spawn_node, Perl or C, configured with %args; ready like start_node's.
sub start_spawn_node {
   my ($kind, %args) = @_;
   my $name = $args{nodeid} // "spawn";
   my $argv = $AempInterop::JSON->encode(\%args);
   my $node = $kind eq "perl"
      ? AempInterop::spawn_child($name, $^X, "$AempInterop::DIR/spawn_node.pl", $argv)
      : AempInterop::spawn_child($name, "$AempInterop::BUILD/perl-interop/spawn_node", $argv);
   my $ready = $node->expect(sub { $_[0][0] eq "ready" }, 10)
      or die "$kind spawn_node $name did not start:\n" . $node->log_text;
   $node->{id} = $ready->[1];
   $node->{binds} = $ready->[2];
   $node
}

# Waits until the node's log matches; true, or false after timeout seconds.
sub log_like {
   my ($node, $re, $timeout) = @_;
   my $deadline = time + ($timeout // 10);
   while (1) {
      return 1 if $node->log_text =~ $re;
      return 0 if time >= $deadline;
      sleep 0.05;
   }
}

# ---- text programs ---------------------------------------------------------------

# An eg/ program: "perl" runs perl-interop/eg/NAME.pl, "c" the compat
# example build/compat/NAME. It reads the rc file ($PERL_ANYEVENT_MP_RC).
sub start_program {
   my ($kind, $name, $label, @args) = @_;
   my $prog = $kind eq "perl"
      ? AempInterop::spawn_child($label, $^X, "$AempInterop::DIR/eg/$name.pl", @args)
      : AempInterop::spawn_child($label, "$AempInterop::BUILD/compat/$name", @args);
   $prog->{lines} = [];   # read, not taken by expect_line yet
   $prog->{history} = []; # every line read
   $prog->{tbuf} = "";
   $prog
}

# A line as a person reads it on the terminal: what follows the last
# carriage return, without the "> " prompts in front.
sub clean_line {
   my ($line) = @_;
   $line =~ s/.*\r//s;
   $line =~ s/^(?:> )+//;
   $line
}

# Waits for a line that matches $re among those no earlier expect_line
# took (lines that do not match stay for later calls); the cleaned line,
# or undef after timeout seconds.
sub expect_line {
   my ($prog, $re, $timeout) = @_;
   my $deadline = time + ($timeout // 10);
   my $sel = IO::Select->new($prog->{out});
   while (1) {
      while ($prog->{tbuf} =~ s/^([^\n]*)\n//) {
         push @{ $prog->{lines} }, clean_line($1);
         push @{ $prog->{history} }, $prog->{lines}[-1];
      }
      for my $i (0 .. $#{ $prog->{lines} }) {
         return splice @{ $prog->{lines} }, $i, 1 if $prog->{lines}[$i] =~ $re;
      }
      my $left = $deadline - time;
      return undef if $left <= 0;
      next unless $sel->can_read($left);
      sysread $prog->{out}, $prog->{tbuf}, 65536, length $prog->{tbuf}
         or return undef;
   }
}

# Sends a line to the program's stdin.
sub say_line {
   my ($prog, $line) = @_;
   print { $prog->{in} } "$line\n";
}

1;
