# KV::Service, the key-value cache service as a Perl module: the twin of
# the C plugin kv_service.c (KV/Service.so), with the same protocol, so
# that one rc profile with  services => ["KV::Service::"]  starts either:
# `aemp run profile kv` (this file on @INC, e.g. PERL5LIB) or `caemp run
# profile kv` (the plugin on the service path). docs/services.md.
#
# Loading it creates one port and registers it under the family "kv".
# Requests are cal-style, the reply port last:
#
#    ["get", KEY, REPLY]         -> REPLY gets [VALUE] (undef if unset)
#    ["set", KEY, VALUE, REPLY]  -> REPLY gets [1]; every subscriber gets
#                                   ["changed", KEY, VALUE]
#    ["subscribe", PORT, REPLY]  -> REPLY gets [1]; PORT is monitored and
#                                   forgotten when it dies
#    ["subscribers", REPLY]      -> REPLY gets [NUMBER OF SUBSCRIBERS]
#
# Anything else is ignored.
package KV::Service;

use strict;
use warnings;

use AnyEvent::MP;

our %DATA;
our %SUBS; # subscriber port => its monitor's guard

our $PORT = port { }; # ignores what it does not know, as the C twin

rcv $PORT,
   get => sub {
      my ($key, $reply) = @_;
      @_ == 2 or return;
      snd $reply, $DATA{$key};
   },
   set => sub {
      my ($key, $value, $reply) = @_;
      @_ == 3 or return;
      $DATA{$key} = $value;
      snd $_, changed => $key, $value for keys %SUBS;
      snd $reply, 1;
   },
   subscribe => sub {
      my ($sub, $reply) = @_;
      @_ == 2 or return;
      $SUBS{$sub} ||= mon $sub, sub { delete $SUBS{$sub} };
      snd $reply, 1;
   },
   subscribers => sub {
      my ($reply) = @_;
      @_ == 1 or return;
      snd $reply, scalar keys %SUBS;
   },
;

db_reg kv => $PORT;

AE::log info => "KV::Service: serving on $PORT";

1
