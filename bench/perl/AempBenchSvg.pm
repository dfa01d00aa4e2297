# bench/run's pictures: line charts as plain SVG, written by hand (no
# plotting package needed). One file holds one or more panels side by
# side; a panel has an x axis (linear or logarithmic, ticked at the
# data's x values), a y axis from 0 (ticked at round numbers) and one
# line per series.
#
#   AempBenchSvg::write_svg($file, $title, @panels)
#   panel: { title, xlabel, ylabel, logx => 0|1,
#            series => [ { name, points => [[x, y], ...] }, ... ] }
#
# seed_scale_svg writes the seed-at-scale curve (bench/run's seed_scale
# results) with it.
package AempBenchSvg;

use strict;
use warnings;

my @COLOURS = ('#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b');
my ($PW, $PH) = (420, 300);          # one panel
my ($ML, $MR, $MB) = (70, 20, 50);
my $MT0 = 36;                        # above the plot: title, then legend

sub esc {
   my ($s) = @_;
   $s =~ s/&/&amp;/g;
   $s =~ s/</&lt;/g;
   $s =~ s/>/&gt;/g;
   $s
}

# a short label: 5000 -> 5k, 65536 -> 64k (windows are powers of two),
# 2500000 -> 2.5M
sub short {
   my ($v) = @_;
   my $a = abs $v;
   return sprintf("%gM", $v / 1e6) if $a >= 1e6;
   return sprintf("%gk", $v / 1e3) if $a >= 1e3 && $v == int $v && $v % 1000 == 0;
   return sprintf("%gk", $v / 1024) if $a >= 1024 && $v == int $v && $v % 1024 == 0;
   return sprintf("%gk", $v / 1e3) if $a >= 1e4;
   sprintf "%g", $v
}

# round steps for an axis from 0 to max
sub nice_step {
   my ($max) = @_;
   return 1 if $max <= 0;
   my $raw = $max / 5;
   my $mag = 10 ** int(log($raw) / log(10) - ($raw < 1 ? 1 : 0));
   for my $m (1, 2, 2.5, 5, 10) { return $m * $mag if $m * $mag >= $raw }
   10 * $mag
}

sub panel {
   my ($p, $ox, $oy, $lines) = @_;
   my @series = grep { @{ $_->{points} || [] } } @{ $p->{series} || [] };
   my @pts = map { @{ $_->{points} } } @series;
   my $out = "";
   # the legend goes between the title and the plot, a line per series
   # (as many lines in every panel, so that the plots line up)
   my $MT = $MT0 + 15 * $lines;
   my ($w, $h) = ($PW - $ML - $MR, $PH - $MT - $MB);
   my ($x0, $y0) = ($ox + $ML, $oy + $MT + $h);   # the origin on the page
   $out .= sprintf qq{<text x="%d" y="%d" text-anchor="middle" font-weight="bold">%s</text>\n},
      $ox + $ML + $w / 2, $oy + 22, esc($p->{title} // "");
   $out .= sprintf qq{<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>\n},
      $x0, $oy + $MT, $w, $h;
   if (!@pts) {
      return $out . sprintf qq{<text x="%d" y="%d" text-anchor="middle" fill="#888">not measured</text>\n},
         $x0 + $w / 2, $oy + $MT + $h / 2;
   }
   my $logx = $p->{logx};
   my $fx = sub { $logx ? log($_[0]) / log(2) : $_[0] };
   my %xs = map { $_->[0] => 1 } @pts;
   my @xs = sort { $a <=> $b } keys %xs;
   my ($xmin, $xmax) = ($fx->($xs[0]), $fx->($xs[-1]));
   $xmax = $xmin + 1 if $xmax == $xmin;
   my $ymax = 0;
   $_->[1] > $ymax and $ymax = $_->[1] for @pts;
   my $step = nice_step($ymax);
   my $ytop = $step * (int($ymax / $step) + 1);
   my $px = sub { $x0 + 10 + ($w - 20) * ($fx->($_[0]) - $xmin) / ($xmax - $xmin) };
   my $py = sub { $y0 - $h * $_[0] / $ytop };
   for (my $y = 0; $y <= $ytop + $step / 2; $y += $step) {
      $out .= sprintf qq{<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>\n},
         $x0, $py->($y), $x0 + $w, $py->($y);
      $out .= sprintf qq{<text x="%d" y="%.1f" text-anchor="end">%s</text>\n},
         $x0 - 5, $py->($y) + 4, esc(short($y));
   }
   for my $x (@xs) {
      $out .= sprintf qq{<text x="%.1f" y="%d" text-anchor="middle">%s</text>\n},
         $px->($x), $y0 + 16, esc(short($x));
   }
   $out .= sprintf qq{<text x="%d" y="%d" text-anchor="middle">%s</text>\n},
      $x0 + $w / 2, $y0 + 38, esc($p->{xlabel} // "");
   $out .= sprintf qq{<text x="%d" y="%d" text-anchor="middle" transform="rotate(-90 %d %d)">%s</text>\n},
      $ox + 14, $oy + $MT + $h / 2, $ox + 14, $oy + $MT + $h / 2, esc($p->{ylabel} // "");
   my $i = 0;
   for my $s (@series) {
      my $c = $COLOURS[$i % @COLOURS];
      my @sp = sort { $a->[0] <=> $b->[0] } @{ $s->{points} };
      $out .= sprintf qq{<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>\n},
         $c, join " ", map { sprintf "%.1f,%.1f", $px->($_->[0]), $py->($_->[1]) } @sp;
      $out .= sprintf qq{<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>\n},
         $px->($_->[0]), $py->($_->[1]), $c for @sp;
      $out .= sprintf qq{<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>}
         . qq{<text x="%d" y="%d">%s</text>\n},
         $x0, $oy + $MT0 + 15 * $i - 4, $x0 + 20, $oy + $MT0 + 15 * $i - 4, $c,
         $x0 + 26, $oy + $MT0 + 15 * $i, esc($s->{name} // "");
      $i++;
   }
   $out
}

sub write_svg {
   my ($file, $title, @panels) = @_;
   my $cols = @panels < 3 ? scalar @panels : 3;
   $cols ||= 1;
   my $rows = int((@panels + $cols - 1) / $cols) || 1;
   my ($W, $H) = ($cols * $PW, 30 + $rows * $PH);
   my $svg = qq{<?xml version="1.0" encoding="UTF-8"?>\n}
      . qq{<svg xmlns="http://www.w3.org/2000/svg" width="$W" height="$H" viewBox="0 0 $W $H" font-family="sans-serif" font-size="12">\n}
      . qq{<rect width="100%" height="100%" fill="white"/>\n}
      . sprintf(qq{<text x="%d" y="20" text-anchor="middle" font-size="14">%s</text>\n}, $W / 2, esc($title));
   my $lines = 1;
   for (@panels) { my $n = @{ $_->{series} || [] }; $lines = $n if $n > $lines }
   for my $i (0 .. $#panels) {
      $svg .= panel($panels[$i], ($i % $cols) * $PW, 30 + int($i / $cols) * $PH, $lines);
   }
   $svg .= "</svg>\n";
   open my $fh, ">", $file or return warn "$file: $!\n";
   print $fh $svg;
   close $fh or warn "$file: $!\n";
   1
}

# The seed-at-scale curve: $scale is bench/run's seed_scale result, keyed
# by node count, then "c" and "perl", each with join_s, kib_per_link,
# kib_per_key, ops_per_s, cpu_us_per_op, down_learned_s (undef where not
# measured). One panel per figure, a line per seed.
sub seed_scale_svg {
   my ($file, $scale, $title) = @_;
   return unless $scale && %$scale;
   my @n = sort { $a <=> $b } grep /^\d+$/, keys %$scale;
   my @panels;
   for ([join_s => "join storm (s)"], [ops_per_s => "db ops/s"],
        [cpu_us_per_op => "seed CPU per op (us)"], [kib_per_link => "KiB per link"],
        [kib_per_key => "KiB per key"], [down_learned_s => "a death learned by all (s)"]) {
      my ($k, $label) = @$_;
      push @panels, { title => $label, xlabel => "nodes", ylabel => $label, series => [
         map { my $seed = $_;
               { name => ($seed eq "c" ? "C seed" : "Perl seed"),
                 points => [ map { my $v = $scale->{$_}{$seed}; $v && defined $v->{$k} ? [$_, $v->{$k}] : () } @n ] } }
         qw(c perl) ] };
   }
   write_svg($file, $title // "seed at scale", @panels);
}

1;
