%% aemp_bench: Erlang/OTP distribution beside libaemp (bench/run's anchors).
%%
%% Two nodes on loopback (-name N@127.0.0.1, one cookie), the same roles
%% and the same events on stdout as aemp-bench's modes, one JSON array per
%% line. bench/run compiles this file into its temporary directory and
%% starts each role with
%%   erl -noinput -name N@127.0.0.1 -setcookie C -run aemp_bench ROLE ARGS...
%%
%%   sink AckEvery TimeoutS
%%       registers sink, reports ["ready"]; counts {d, Payload} and sends
%%       the source {a, Count} every AckEvery messages; at 'end' reports
%%       ["result", {count, seconds, rate}] (messages after the first over
%%       the time from the first to the end, as aemp-bench's sink)
%%   source SinkNode Size Window DurationMs TimeoutS
%%       sends {d, Payload} (Payload: Size - 8 bytes of "x", the string
%%       in aemp-bench's ["d", "xxx..."]) while fewer than Window are
%%       unacknowledged, for DurationMs, then 'end'
%%   echo TimeoutS          registers echo: {p, From, Seq} -> From ! {r, Seq}
%%   ping EchoNode WarmupMs DurationMs TimeoutS
%%       one {p, self(), Seq} in flight; ["result", {count, p50, p99}] in us
-module(aemp_bench).
-export([sink/1, source/1, echo/1, ping/1]).

%% -run calls these in the boot process: the work goes to a process of
%% its own, so booting completes.
sink([Ack, T]) -> start(T, fun() -> sink_run(list_to_integer(Ack)) end).
source([Sink, Size, Win, Dur, T]) ->
    start(T, fun() -> source_run(list_to_atom(Sink), list_to_integer(Size),
                                 list_to_integer(Win), list_to_integer(Dur)) end).
echo([T]) -> start(T, fun echo_run/0).
ping([Echo, Warm, Dur, T]) ->
    start(T, fun() -> ping_run(list_to_atom(Echo), list_to_integer(Warm),
                               list_to_integer(Dur)) end).

%% every role ends by itself after its time limit
start(T, F) ->
    spawn(fun() -> timer:sleep(list_to_integer(T) * 1000), halt(2) end),
    spawn(F),
    ok.

emit(Fmt, Args) -> io:format(Fmt ++ "~n", Args).

now_us() -> erlang:monotonic_time(microsecond).
now_ns() -> erlang:monotonic_time(nanosecond).

%% waits until the peer node answers: it may still be starting
connect(Node) -> connect(Node, 200).
connect(_, 0) -> halt(3);
connect(Node, N) ->
    case net_adm:ping(Node) of
        pong -> ok;
        pang -> timer:sleep(50), connect(Node, N - 1)
    end.

%% ---- throughput

sink_run(Ack) ->
    register(sink, self()),
    emit("[\"ready\"]", []),
    receive {start, Src} -> Src ! {go, self()} end,
    receive {d, _} -> sink_loop(Ack, Src, 1, now_us()) end.

sink_loop(Ack, Src, N, T0) ->
    receive
        {d, _} ->
            N1 = N + 1,
            case N1 rem Ack of
                0 -> Src ! {a, N1};
                _ -> ok
            end,
            sink_loop(Ack, Src, N1, T0);
        'end' ->
            S = (now_us() - T0) / 1.0e6,
            Rate = case S > 0 of true -> (N - 1) / S; false -> 0.0 end,
            emit("[\"result\",{\"count\":~b,\"seconds\":~.6f,\"rate\":~.1f}]",
                 [N, S, Rate]),
            halt(0)
    end.

source_run(Node, Size, Win, Dur) ->
    connect(Node),
    Payload = binary:copy(<<"x">>, Size - 8),
    {sink, Node} ! {start, self()},
    Sink = receive {go, P} -> P end,
    emit("[\"ready\"]", []),
    Start = now_us(),
    source_loop(Sink, Payload, Win, 0, 0, Start + Dur * 1000).

source_loop(Sink, P, Win, Sent, Acked, End) ->
    Sent1 = fill(Sink, P, Sent, Acked + Win),
    receive {a, N} ->
        case now_us() >= End of
            true ->
                Sink ! 'end',
                emit("[\"sent\",{\"sent\":~b}]", [Sent1]),
                timer:sleep(infinity);
            false ->
                source_loop(Sink, P, Win, Sent1, N, End)
        end
    end.

fill(_, _, Sent, Limit) when Sent >= Limit -> Sent;
fill(Sink, P, Sent, Limit) -> Sink ! {d, P}, fill(Sink, P, Sent + 1, Limit).

%% ---- round trip

echo_run() ->
    register(echo, self()),
    emit("[\"ready\"]", []),
    echo_loop().

echo_loop() ->
    receive
        {p, From, Seq} -> From ! {r, Seq};
        {hello, From} -> From ! {echo, self()}
    end,
    echo_loop().

ping_run(Node, Warm, Dur) ->
    connect(Node),
    {echo, Node} ! {hello, self()},
    Echo = receive {echo, P} -> P end,
    Start = now_ns(),
    ping_loop(Echo, 1, Start + Warm * 1000000, Start + (Warm + Dur) * 1000000, []).

ping_loop(Echo, Seq, Warm, End, Acc) ->
    T = now_ns(),
    Echo ! {p, self(), Seq},
    receive {r, Seq} -> ok end,
    T1 = now_ns(),
    Acc1 = case T >= Warm of true -> [T1 - T | Acc]; false -> Acc end,
    case T1 >= End of
        true -> ping_report(lists:sort(Acc1));
        false -> ping_loop(Echo, Seq + 1, Warm, End, Acc1)
    end.

ping_report(Sorted) ->
    N = length(Sorted),
    Pct = fun(Q) when N > 0 -> lists:nth(1 + trunc(Q * (N - 1)), Sorted);
             (_) -> 0 end,
    emit("[\"result\",{\"count\":~b,\"p50\":~.3f,\"p99\":~.3f}]",
         [N, Pct(0.50) / 1000, Pct(0.99) / 1000]),
    halt(0).
