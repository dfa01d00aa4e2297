#!/usr/bin/perl
# The reference vectors in tests/vectors come from real AnyEvent::MP 2.x:
# make_vectors.pl regenerates them into a temporary directory and they are
# compared with the files in the tree. auth.json and the frames files byte
# for byte. The wire transcripts carry nonces, HMACs, random port ids,
# times and ephemeral ports, and their read() boundaries, the order of
# frames sent at the same moment and of keys in a hash are Perl's hash
# order or timing: they are compared by structure. Per direction: the
# handshake lines in order (the greeting's key=value pairs sorted, the
# nonce, HMAC and ports masked), then the frames as a sorted list of their
# canonical JSON with port ids, ports and fractional numbers (the time)
# masked and db_keys answers sorted.
use strict;
use warnings;

use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use JSON::XS;
use Test::More;

use lib dirname(__FILE__) . "/../lib";
use AempInterop;

my $v = AempInterop::perl_aemp_version();
plan skip_all => "AnyEvent::MP 2.x is not installed: the vectors come from it"
   if !defined $v || $v < 2;

my $tree = "$AempInterop::TOP/tests/vectors";
my $tmp = tempdir("aemp-vectors-XXXXXX", TMPDIR => 1, CLEANUP => 1);

is system($^X, "$AempInterop::DIR/make_vectors.pl", "--free-ports", $tmp), 0,
   "make_vectors.pl ran";

sub slurp {
   my ($path) = @_;
   open my $fh, "<:raw", $path or return undef;
   local $/;
   <$fh>
}

for my $f (qw(auth.json frames.json.bin frames.cbor.bin frames.expected.jsonl
              frames.lengths.txt)) {
   my ($new, $old) = (slurp("$tmp/$f"), slurp("$tree/$f"));
   ok defined $new && defined $old && $new eq $old, "$f: byte for byte";
}

# ---- the structure of a transcript ----

# A Python bytes literal, as the transcripts write each read().
sub py_unbytes {
   my ($lit) = @_;
   $lit =~ /^b(['"])(.*)\1$/s or die "not a bytes literal: $lit\n";
   my $s = $2;
   my %esc = (t => "\t", n => "\n", r => "\r");
   $s =~ s/\\(?:x([0-9a-f]{2})|(.))/defined $1 ? chr hex $1 : $esc{$2} \/\/ $2/ge;
   $s
}

# The bytes each direction carried, in order.
sub directions {
   my ($path) = @_;
   my %bytes = (">" => "", "<" => "");
   open my $fh, "<", $path or die "$path: $!\n";
   while (<$fh>) {
      next if /^#/;
      chomp;
      /^([<>]) (b.*)$/ or die "$path: unexpected line $_\n";
      $bytes{$1} .= py_unbytes($2);
   }
   \%bytes
}

sub mask_string {
   local ($_) = @_;
   s/^(\d+\.\d+\.\d+\.\d+):\d+$/$1:<port>/;
   # a port id made of a random prefix and a counter: NODE#Xy3bZ9aQ1b
   s/^([^#]*#)?(?=[A-Za-z0-9]*[A-Z0-9])[A-Za-z0-9]{8,}$/($1 \/\/ "") . "<id>"/e;
   $_
}

sub mask {
   my ($v) = @_;
   return [map mask($_), @$v] if ref $v eq "ARRAY";
   return { map { mask_string($_) => mask($v->{$_}) } keys %$v } if ref $v eq "HASH";
   return $v if !defined $v || ref $v;
   return "<number>" if $v =~ /^-?\d+\.\d+$/;
   mask_string($v)
}

# db_keys answers with the keys in Perl's hash order
sub unordered {
   my ($frame) = @_;
   if (($frame->[1] // "") eq "g_reply" && ref $frame->[3] eq "ARRAY") {
      $frame->[3] = [sort { ($a // "") cmp ($b // "") } @{ $frame->[3] }];
   }
   $frame
}

sub handshake_line {
   my ($line) = @_;
   if ($line =~ /^aemp;/) {
      my ($p, $ver, $id, $auths, $framings, @kv) = split /;/, $line;
      return join ";", $p, $ver, $id, $auths, $framings,
         sort map { s/^peeraddr=(.*):\d+$/peeraddr=$1:<port>/r } @kv;
   }
   return "<nonce>" if $line =~ m{^[A-Za-z0-9+/]{88}$};
   $line =~ s/^(hmac_sha3_512);[0-9a-f]{128};/$1;<hmac>;/r
}

# Per direction: [handshake lines...], [sorted masked frames...].
sub structure {
   my ($path) = @_;
   my $bytes = directions($path);
   my $canon = JSON::XS->new->utf8->canonical;
   my %s;
   for my $dir (sort keys %$bytes) {
      my $b = $bytes->{$dir};
      my @lines;
      push @lines, handshake_line($1) while @lines < 3 && $b =~ s/^([^\n]*)\n//;
      my $json = JSON::XS->new->utf8;
      my @frames = map $canon->encode(mask(unordered($_))), $json->incr_parse($b);
      length $json->incr_text and die "$path: $dir: bytes after the last frame\n";
      $s{$dir} = { handshake => \@lines, frames => [sort @frames] };
   }
   \%s
}

for my $f (qw(wire-slave-seed.txt wire-seed-seed.txt)) {
   my ($new, $old) = eval { (structure("$tmp/$f"), structure("$tree/$f")) };
   is $@, "", "$f: both transcripts parse";
   is_deeply $new, $old, "$f: the same handshake and frames (masked, unordered)"
      or diag explain { regenerated => $new, tree => $old };
}

done_testing;
