# caemp graph on a small mixed network: a C seed, a Perl node and a C
# node linked to each other, and a Perl node without binds, which only
# its own links reach. The DOT names every node once, marks the seed,
# has each link once, and says which nodes are C and which Perl: from
# each node's greeting to caemp, and for the node caemp cannot reach,
# from the C seed that is linked to it. --svg draws it with dot.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use AempInterop;

AempInterop::plan_or_skip();

my $sport = AempInterop::free_port();
my $saddr = "127.0.0.1:$sport";
my %net = (secret => "graph-secret");
my %member = (%net, binds => ["127.0.0.1:*"], seeds => [$saddr]);

my $seed = AempInterop::start_node(c => nodeid => "gseed", %net,
   binds => [$saddr], seeds => [$saddr]);
my $perl = AempInterop::start_node(perl => nodeid => "gperl", %member);
my $cnode = AempInterop::start_node(c => nodeid => "gcnode", %member);
my $hidden = AempInterop::start_node(perl => nodeid => "ghidden", %net,
   binds => [], seeds => [$saddr]);
AempInterop::write_rc({ profile => { aemp => { %member } } });

for my $id (qw(gperl gcnode ghidden)) {
   $seed->expect(sub { $_[0][0] eq "node" && $_[0][1] eq $id && $_[0][2] }, 10)
      or BAIL_OUT("$id did not link to the seed");
}
# the C node links to the Perl node by sending to it
$perl->do(port => "inbox");
$cnode->cmd(snd => $perl->port("inbox"), "hello");
$perl->expect(sub { $_[0][0] eq "rcv" && $_[0][1] eq "inbox" }, 10)
   or BAIL_OUT("gcnode did not reach gperl");

# the node lines and the edges of a DOT text
sub parse_dot {
   my ($dot) = @_;
   my (%node, @edges);
   for (split /\n/, $dot) {
      if (/^  "([^"]*)" \[(.*)\];$/) {
         $node{$1} = $2;
      } elsif (/^  "([^"]*)" -- "([^"]*)";$/) {
         push @edges, "$1 -- $2";
      }
   }
   (\%node, \@edges)
}

sub check_dot {
   my ($dot, $what) = @_;
   my ($node, $edges) = parse_dot($dot);
   like $dot, qr/\Agraph aemp \{\n.*\}\n\z/s, "$what: an undirected DOT graph";
   is_deeply [sort keys %$node], [qw(gcnode ghidden gperl gseed)],
      "$what: every node, once, caemp's own left out" or diag $dot;
   is_deeply $edges, ["gcnode -- gperl", "gcnode -- gseed",
      "ghidden -- gseed", "gperl -- gseed"],
      "$what: each link once, sorted" or diag $dot;
   like $node->{gseed}, qr/peripheries=2/, "$what: the seed is marked";
   unlike $node->{$_} // "", qr/peripheries/, "$what: $_ is no seed"
      for qw(gperl gcnode ghidden);
   like $node->{gseed}, qr/label="gseed\\nC \(AE-libaemp-[^)]+\)"/,
      "$what: the seed is C";
   like $node->{gcnode}, qr/label="gcnode\\nC \(AE-libaemp-/,
      "$what: gcnode is C";
   like $node->{gperl}, qr/label="gperl\\nPerl \(AE-2\.\d+\)"/,
      "$what: gperl is Perl";
   like $node->{ghidden}, qr/label="ghidden\\nPerl \(AE-2\.\d+\)"/,
      "$what: the node caemp cannot reach is Perl, as the seed says";
}

# caemp cannot reach ghidden (no binds): after its time, exit 1
my ($rc, $out, $err) = AempInterop::run_caemp(60, graph => "gseed");
is $rc, 1, "caemp graph exits 1: a node did not answer" or diag $err;
like $err, qr/^caemp: graph: ghidden did not answer within 15 seconds\b/m,
   "and says which";
check_dot($out, "from the seed given");

# no seed given: from the master; the DOT to a file and the picture
my $dotf = "$AempInterop::TMP/net.dot";
my $svgf = "$AempInterop::TMP/net.svg";
SKIP: {
   skip "Graphviz's dot is not installed", 6 unless `which dot 2>/dev/null`;
   ($rc, $out, $err) = AempInterop::run_caemp(60, graph => "--dot", $dotf,
      "--svg", $svgf);
   is $rc, 1, "caemp graph --dot --svg: the same walk" or diag $err;
   is $out, "", "nothing on stdout";
   check_dot(AempInterop::slurp($dotf), "from the master, to a file");
   like AempInterop::slurp($svgf), qr/<svg.*gseed.*<\/svg>/s,
      "dot drew the picture";
}

{
   local $ENV{PATH} = "/nonexistent";
   ($rc, $out, $err) = AempInterop::run_caemp(20, graph => "--svg", $svgf,
      "gseed");
}
is $rc, 1, "--svg without dot: exit 1";
like $err, qr/--svg needs Graphviz's dot program/, "with a clear message";

$_->kill_node("TERM") for $hidden, $cnode, $perl, $seed;
done_testing;
