# bash completion for caemp (the commands of tools/caemp, the rc key
# commands of caemp_rc_keys.c). tests/check_caemp_docs.py checks that
# every command is here.

# Node commands: each takes every remaining argument.
_caemp_node_cmds="run snd cal mon eval trace shell restart conform db_keys
    db_values db_family db_set db_mon nodes logcatcher graph stats"

# rc file commands that take no argument.
_caemp_rc_noarg="help delnodeid gensecret delsecret gencert delcert
    delseeds delbinds delservices delservice_path deleval delparent
    delmonitor_timeout delconnect_interval delframing_format delauth_offer
    delauth_accept delautocork delnodelay delsecure delmetrics_bind"

# rc file commands that take one argument (setKEY also as KEY; showconfig
# takes the rest).
_caemp_rc_arg="profile delprofile showprofile showconfig
    setnodeid nodeid setsecret secret setcert cert
    setseeds seeds addseed delseed setbinds binds addbind delbind
    setservices services addservice delservice
    setservice_path service_path addservice_dir delservice_dir
    seteval setparent parent
    setmonitor_timeout monitor_timeout setconnect_interval connect_interval
    setframing_format framing_format setauth_offer auth_offer
    setauth_accept auth_accept setautocork autocork setnodelay nodelay
    setsecure secure setmetrics_bind metrics_bind"

# The rc file's profile names and node ids: cheap enough with perl's
# JSON::PP (relaxed, as the file is written); nothing without it.
_caemp_rc_names()
{
    local rc=${PERL_ANYEVENT_MP_RC-$HOME/.perl-anyevent-mp}
    [[ -r $rc ]] || return 0
    perl -MJSON::PP -e '
        local $/; my $c = eval { JSON::PP->new->relaxed->decode(<STDIN>) } or exit;
        my $p = ref $c->{profile} eq "HASH" ? $c->{profile} : {};
        my %n = map { $_ => 1 } keys %$p;
        for (values %$p) { $n{$_->{nodeid}} = 1 if ref eq "HASH" && defined $_->{nodeid} && $_->{nodeid} !~ /%/ }
        print "$_\n" for sort keys %n;
    ' < "$rc" 2>/dev/null
}

# COMPREPLY: the words of $1 that start with $cur (the caller's)
_caemp_words()
{
    mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur")
}

_caemp()
{
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=${COMP_WORDS[COMP_CWORD-1]}
    local i w node_cmd=

    # a node command eats everything after it
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ " ${_caemp_node_cmds//$'\n'/ } " == *" $w "* ]]; then
            node_cmd=$w
            break
        fi
    done

    case $prev in
        setcert|cert|--dot|--svg|--json|--cert)
            # --json is conform's report file; stats' --json takes none
            if [[ $prev != --json || $node_cmd == conform ]]; then
                mapfile -t COMPREPLY < <(compgen -f -- "$cur")
                compopt -o filenames 2>/dev/null
                return 0
            fi
            ;;
        profile|delprofile|showprofile|showconfig|setparent|parent)
            [[ -z $node_cmd ]] &&
                _caemp_words "$(_caemp_rc_names)"
            return 0
            ;;
    esac

    case $node_cmd in
        graph)
            if [[ $cur == -* ]]; then
                _caemp_words "--dot --svg"
            else
                _caemp_words "$(_caemp_rc_names)"
            fi
            return 0
            ;;
        stats)
            if [[ $cur == -* ]]; then
                _caemp_words "--json --interval"
            elif [[ $prev != --interval ]]; then
                _caemp_words "$(_caemp_rc_names)"
            fi
            return 0
            ;;
        conform)
            _caemp_words "--list --only --skip --json --secret
                --profile --timeout --cert --secure --monitor-timeout --slow
                --seed --master --listen --wait --help"
            return 0
            ;;
        eval|trace|shell|restart|snd|cal|mon)
            # the node (or a port of it) comes first
            [[ $prev == "$node_cmd" ]] &&
                _caemp_words "$(_caemp_rc_names)"
            return 0
            ;;
        run)
            [[ $prev == run ]] &&
                _caemp_words "profile nodeid binds seeds secret"
            return 0
            ;;
        ?*)
            return 0
            ;;
    esac

    # after an rc command that wants an argument: that argument
    if ((COMP_CWORD > 1)) && [[ " ${_caemp_rc_arg//$'\n'/ } " == *" $prev "* ]]; then
        return 0
    fi
    # run is a command only in the first position
    local words="$_caemp_rc_noarg $_caemp_rc_arg $_caemp_node_cmds"
    ((COMP_CWORD > 1)) && words=${words/run /}
    _caemp_words "$words"
}
complete -F _caemp caemp
