#!/usr/bin/perl
# Makes README.md's picture of a network (docs/img/network.svg) from a
# real run: starts a small mixed network on loopback with the interop
# harness (a C seed and a Perl seed, two Perl nodes and two C nodes, one
# of which sends to a Perl node) and draws it with caemp graph --svg.
#
#    AEMP_BUILD=build perl perl-interop/network_picture.pl docs/img/network.svg
#
# Needs AnyEvent::MP 2.x and Graphviz's dot, as the interop suite and
# caemp graph --svg do.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use AempInterop;

my $svg = shift // die "usage: $0 FILE.svg\n";
my $cport = AempInterop::free_port();
my $pport = AempInterop::free_port();
my @seeds = ("127.0.0.1:$cport", "127.0.0.1:$pport");
my %net = (secret => "picture-secret", seeds => \@seeds);
my %member = (%net, binds => ["127.0.0.1:*"]);

my @nodes = (
   AempInterop::start_node(c => nodeid => "seed-c", %net,
      binds => ["127.0.0.1:$cport"]),
   AempInterop::start_node(perl => nodeid => "seed-perl", %net,
      binds => ["127.0.0.1:$pport"]),
   AempInterop::start_node(perl => nodeid => "web1", %member),
   AempInterop::start_node(perl => nodeid => "web2", %member),
   AempInterop::start_node(c => nodeid => "store", %member),
   AempInterop::start_node(c => nodeid => "metrics", %member),
);
my ($seed_c, $web1, $store) = @nodes[0, 2, 4];
AempInterop::write_rc({ profile => { aemp => { %member } } });

# every node is linked to both seeds
for my $id (qw(seed-perl web1 web2 store metrics)) {
   $seed_c->expect(sub { $_[0][0] eq "node" && $_[0][1] eq $id && $_[0][2] }, 10)
      or die "$id did not link to seed-c\n";
}
# store talks to web1: one more link
$web1->do(port => "inbox");
$store->cmd(snd => $web1->port("inbox"), "hello");
$web1->expect(sub { $_[0][0] eq "rcv" }, 10) or die "store did not reach web1\n";

my ($rc, $out, $err) = AempInterop::run_caemp(60, graph => "--svg", $svg,
   "seed-c", "seed-perl");
print STDERR $err;
$_->kill_node("TERM") for reverse @nodes;
exit $rc;
