# bench/run's group "scale" (loaded by bench/run with require): one seed,
# C and then Perl, against 1,000, 5,000 and 10,000 linked nodes.
#
# The nodes are aemp-bench's "scale" clients (bench/bench_scale.c): one
# process, each client a node that speaks the protocol itself and does
# nothing else, so that the seed is the bottleneck. For each node count:
#
#   join_s          every node linked and its key registered (seen by the
#                   observers), from the first connect; at most
#                   scale_inflight handshakes at once
#   kib_per_link    seed RssAnon growth per joined, idle node: its link, its
#                   slave record, its 'l entry and its one key in "scale"
#                   (kib_per_link_vmrss: VmRSS growth, with code pages)
#   kib_per_key     seed VmRSS growth per key, each node setting
#                   scale_keys more (one g_upd each)
#   ops_per_s       db_set/db_del churn of scale_writers writers spread over
#                   all nodes, scale_obs observers db_mon the family (each
#                   op is one g_chg2 to each observer), scale_win ops in
#                   flight
#   cpu_us_per_op   the seed's CPU time (user + system) per op, measured
#                   over the churn
#   down_learned_s  one node's link closes; time until every other node
#                   has learned it, through a db_mon of a family the dead
#                   node had a key in: the seed clears a dead node's keys
#                   and tells the monitors (AnyEvent::MP 2.02 has no other
#                   notice for nodes without a link to the dead one)
#
# The Perl seed gets scale_perl_limit seconds per phase; where it does not
# finish, its figures are null and "stopped" says where and why, and the
# larger counts are not tried.
use strict;
use warnings;

use Time::HiRes qw(time sleep);

# the next event $tag from child $c within $timeout s; "status" events on
# the way are kept in $st. Returns the event, or undef on timeout / exit.
sub scale_expect {
   my ($c, $tag, $timeout, $st) = @_;
   my $deadline = time + $timeout;
   my $sel = IO::Select->new($c->{out});
   while (1) {
      while ($c->{buf} =~ s/^([^\n]*)\n//) {
         my $ev = eval { JSON::PP->new->decode($1) } or next;
         next unless ref $ev eq "ARRAY";
         $$st = $ev->[1] if $ev->[0] eq "status";
         return $ev if $ev->[0] eq $tag;
      }
      my $left = $deadline - time;
      return undef if $left <= 0;
      next unless $sel->can_read($left);
      my $n = sysread $c->{out}, $c->{buf}, 65536, length $c->{buf};
      return undef unless $n;
   }
}

sub scale_log_tail {
   my ($c) = @_;
   my $log = main::slurp($c->{log});
   $log =~ s/\s+\z//;
   $log = substr $log, -300 if length $log > 300;
   $log ne "" ? "; its log: $log" : ""
}

# private anonymous memory (RssAnon) of a process, in KiB
sub scale_anon_kib {
   my ($pid) = @_;
   open my $fh, "<", "/proc/$pid/status" or return undef;
   while (<$fh>) { return $1 + 0 if /^RssAnon:\s+(\d+)\s+kB/ }
   undef
}

# one node count, one seed kind: the figures, and "stopped" if it did not
# get through
sub scale_run {
   my ($ctx, $kind, $n) = @_;
   my $S = $ctx->{S};
   my %r = map { $_ => undef } qw(join_s kib_per_link kib_per_key ops_per_s cpu_us_per_op down_learned_s);
   my $limit = $kind eq "perl" ? $S->{scale_perl_limit} : 60 + $n / 200;
   my $port = main::free_port();
   my $addr = "127.0.0.1:$port";
   my $conf = { nodeid => "seed", binds => [$addr], seeds => [$addr],
                secret => $ctx->{secret} };
   my $total = 6 * $limit + 60;  # no child outlives its run
   my $seed = $kind eq "c"
      ? main::spawn("c-scale-seed", "$ctx->{build}/bench/aemp-bench", "node",
                    $ctx->{json}->encode({ conf => $conf, timeout => $total }))
      # the Perl seed may need more descriptors than the soft limit
      : main::spawn("perl-scale-seed", "sh", "-c",
                    'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', "sh",
                    $^X, $ctx->{perlnode}, "node",
                    $ctx->{json}->encode({ conf => $conf, timeout => $total }));
   my $st;
   my $stop = sub {
      my ($why) = @_;
      $r{stopped} = $why;
      main::stop(@_[1 .. $#_]);
      \%r
   };
   scale_expect($seed, "ready", 30, \$st)
      or return $stop->("the seed did not start" . scale_log_tail($seed), $seed);
   sleep 0.3;
   my $rss0 = main::rss_kib($seed->{pid});
   my $anon0 = scale_anon_kib($seed->{pid});
   my $cl = main::spawn("c-scale", "$ctx->{build}/bench/aemp-bench", "scale",
      $ctx->{json}->encode({
         conf => { secret => $ctx->{secret}, seeds => [$addr] },
         nodes => $n, observers => $S->{scale_obs}, keys => $S->{scale_keys},
         writers => $S->{scale_writers}, window => $S->{scale_win},
         inflight => $S->{scale_inflight}, warmup => $S->{seed_warm},
         duration => $S->{seed_dur}, timeout => $total }));
   my $status = sub {
      $st ? sprintf " (after %.0f s: %d of %d linked, %d registered, %d learned)",
               $st->{seconds}, $st->{linked}, $n, $st->{registered}, $st->{learned}
          : ""
   };
   my $phase = sub {
      my ($what, $tag, $timeout) = @_;
      my $ev = scale_expect($cl, $tag, $timeout, \$st);
      return $ev if $ev;
      my $alive = kill 0, $seed->{pid};
      die sprintf "%s: not done within %.0f s%s%s%s\n", $what, $timeout,
         $status->(), $alive ? "" : ", the seed exited",
         scale_log_tail($alive ? $cl : $seed);
   };
   my $settle = 0.5 + $n / 10000;
   my $ok = eval {
      $r{join_s} = $phase->("join", "joined", $limit)->[1]{seconds};
      sleep $settle;
      my $rss1 = main::rss_kib($seed->{pid});
      my $anon1 = scale_anon_kib($seed->{pid});
      # the seed's own memory: VmRSS also grows by the pages of the
      # program and its libraries that the join runs for the first time
      # (file pages, shared with every process using them), a fixed cost
      # that would show as up to 2 KiB per link at 1,000 nodes
      $r{kib_per_link} = defined $anon1 && defined $anon0
         ? ($anon1 - $anon0) / $n : undef;
      $r{kib_per_link_vmrss} = ($rss1 - $rss0) / $n;
      syswrite $cl->{in}, "keys\n";
      $phase->("keys", "keyed", $limit);
      sleep $settle;
      my $rss2 = main::rss_kib($seed->{pid});
      $r{kib_per_key} = ($rss2 - $rss1) / ($n * $S->{scale_keys});
      syswrite $cl->{in}, "churn\n";
      $phase->("churn", "mark", $limit);
      my ($t0, @c0) = (time, main::cpu_s($seed->{pid}));
      my $res = $phase->("churn", "result", $S->{seed_dur} + $limit)->[1];
      my ($t1, @c1) = (time, main::cpu_s($seed->{pid}));
      $r{ops_per_s} = $res->{ops_per_s};
      $r{cpu_us_per_op} = $res->{ops}
         ? 1e6 * ($c1[0] + $c1[1] - $c0[0] - $c0[1]) / $res->{ops} : undef;
      $r{seed_cpu_pct} = 100 * ($c1[0] + $c1[1] - $c0[0] - $c0[1]) / ($t1 - $t0);
      syswrite $cl->{in}, "down\n";
      $phase->("down: every node monitoring", "watching", $limit);
      $r{down_learned_s} = $phase->("down", "down", $limit)->[1]{seconds};
      $r{seed_rss_kib} = main::rss_kib($seed->{pid});
      1
   };
   if (!$ok) {
      (my $e = $@) =~ s/\s+\z//;
      return $stop->($e, $cl, $seed);
   }
   main::stop($cl, $seed);
   \%r
}

# every count, C seed then Perl seed: { COUNT => { c => {...}, perl => {...} } }
sub scale_group {
   my ($ctx) = @_;
   my @counts = grep /^\d+$/, split /[,\s]+/, $ctx->{S}{scale_nodes};
   my %out;
   my %gave_up;
   for my $n (@counts) {
      for my $kind ("c", "perl") {
         if ($kind eq "perl" && !$ctx->{perl}) {
            $out{$n}{perl} = undef;
            next;
         }
         if ($gave_up{$kind}) {
            $out{$n}{$kind} = { (map { $_ => undef } qw(join_s kib_per_link kib_per_key ops_per_s cpu_us_per_op down_learned_s)),
                                stopped => "not run: it stopped at $gave_up{$kind} nodes" };
            next;
         }
         printf "scale: %s seed, %d nodes\n", $kind eq "c" ? "C" : "Perl", $n;
         my $t = time;
         my $r = scale_run($ctx, $kind, $n);
         printf STDERR "  %-28s %5.1f s\n", "scale $kind $n", time - $t if $ENV{BENCH_VERBOSE};
         $out{$n}{$kind} = $r;
         if ($r->{stopped}) {
            $gave_up{$kind} = $n;
            warn "bench: scale $kind $n stopped: $r->{stopped}\n";
         }
      }
   }
   \%out
}

sub scale_table {
   my ($scale, $f) = @_;
   return unless $scale && %$scale;
   my @counts = sort { $a <=> $b } keys %$scale;
   printf "\n%-34s %s\n", "seed at scale (C seed / Perl seed)", join "", map { sprintf "%20s", "$_ nodes" } @counts;
   for (["all joined after (s)", "join_s", "%.2f"],
        ["KiB per idle link", "kib_per_link", "%.1f"],
        ["KiB per key", "kib_per_key", "%.2f"],
        ["ops/s (db_set/db_del)", "ops_per_s", "%.0f"],
        ["seed CPU per op (us)", "cpu_us_per_op", "%.2f"],
        ["all learned of a death (s)", "down_learned_s", "%.3f"]) {
      my ($label, $key, $fmt) = @$_;
      printf "  %-32s %s\n", $label, join "", map {
         my $c = $scale->{$_}{c};
         my $p = $scale->{$_}{perl};
         sprintf "%20s", $f->($c && $c->{$key}, $fmt) . " / " . $f->($p && $p->{$key}, $fmt)
      } @counts;
   }
   for my $n (@counts) {
      for my $kind ("c", "perl") {
         my $r = $scale->{$n}{$kind} or next;
         printf "  %s seed at %d nodes stopped: %s\n", $kind eq "c" ? "C" : "Perl", $n, $r->{stopped}
            if $r->{stopped};
      }
   }
}

1;
