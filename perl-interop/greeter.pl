#!/usr/bin/perl
# The README's greeter as a Perl node writes it, for t/11_greeter.t: what
# AnyEvent::MP does with the same messages. It reads the rc file for the
# secret, seeds and binds.
use strict;
use warnings;
use AnyEvent;
use AnyEvent::MP;

configure nodeid => "pgreeter";
rcv "pgreeter#hello", hello => sub { snd $_[0], hi => $_[1] };
AE::cv->recv;
