#!/usr/bin/env python3
"""caemp@.service's command line, run as systemd would run it.

    caemp_systemd.py CAEMP UNIT SYSUSERS

UNIT is the generated caemp@.service. Its ExecStart runs here with the
instance name substituted for %i and its Environment set, with two
changes only: the program is the built CAEMP (the unit names the
installed one), and PERL_ANYEVENT_MP_RC, which names the installed rc
file, names a temporary one with the profile. Then:

- with Type=notify (built with libsystemd), on a NOTIFY_SOCKET of our
  own: READY=1 comes, and when it does the node's port already listens;
  STATUS says it is a seed; SIGTERM brings STOPPING=1. With Type=exec,
  the port comes up (nothing is sent);
- SIGTERM ends it with exit status 0, promptly;
- with JOURNAL_STREAM naming its stderr, the log lines are
  "<PRIORITY>ctx: msg" without a time stamp (caemp's own message when
  the node cannot start too, "<3>caemp: run: ..."); with JOURNAL_STREAM
  naming another file they keep AnyEvent::Log's format;
- the unit runs as a user of its own, which SYSUSERS creates.
Exits 0 when all holds, 1 saying what did not.
"""
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

from loopback import free_port

INSTANCE = 'seed1'
RC_VAR = 'PERL_ANYEVENT_MP_RC'
WAIT = 10  # seconds before a missing event counts as missing


def fail(msg):
    print('FAIL: ' + msg)
    sys.exit(1)


def parse_unit(path):
    """The [Service] keys: each a list of values, in order."""
    keys = {}
    section = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            if line.startswith('['):
                section = line
                continue
            if section == '[Service]':
                k, _, v = line.partition('=')
                keys.setdefault(k, []).append(v)
    return keys


def command_line(keys, caemp, rc, instance=INSTANCE):
    """(argv, env) as systemd makes them, with our program and rc."""
    argv = [a.replace('%i', instance)
            for a in shlex.split(keys['ExecStart'][0])]
    if os.path.basename(argv[0]) != 'caemp':
        fail('ExecStart does not run caemp: %s' % argv[0])
    argv[0] = caemp
    env = dict(os.environ)
    for e in keys.get('Environment', []):
        for assignment in shlex.split(e):
            k, _, v = assignment.partition('=')
            env[k] = v
    if not env.get(RC_VAR, '').endswith('/caemp/aemp.rc'):
        fail('the unit does not name the rc file in %s' % RC_VAR)
    env[RC_VAR] = rc
    for k in ('NOTIFY_SOCKET', 'JOURNAL_STREAM', 'AE_VERBOSE',
              'PERL_ANYEVENT_VERBOSE'):
        env.pop(k, None)
    return argv, env


def listens(port):
    try:
        socket.create_connection(('127.0.0.1', port), timeout=1).close()
        return True
    except OSError:
        return False


def recv_until(sock, pred):
    """Notify datagrams until one pred accepts; it, or None."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        sock.settimeout(deadline - time.monotonic())
        try:
            msg = sock.recv(4096).decode()
        except socket.timeout:
            break
        if pred(msg):
            return msg
    return None


def stop(proc):
    """SIGTERM; the exit status, or fail if it does not end promptly."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=WAIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail('caemp run did not end after SIGTERM')


def check_service(argv, env, port, notify, tmp):
    sock = None
    if notify:
        path = os.path.join(tmp, 'notify')
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        env = dict(env, NOTIFY_SOCKET=path)
    proc = subprocess.Popen(argv, env=env)
    try:
        if notify:
            if not recv_until(sock, lambda m: 'READY=1' in m.split('\n')):
                fail('no READY=1 on NOTIFY_SOCKET')
            if not listens(port):
                fail('READY=1 came before the port listened')
            if not recv_until(sock, lambda m: 'STATUS=seed,' in m):
                fail('no STATUS saying the node is a seed')
        else:
            deadline = time.monotonic() + WAIT
            while not listens(port):
                if time.monotonic() > deadline:
                    fail('the node never listened')
                time.sleep(0.05)
        rc = stop(proc)
        if rc != 0:
            fail('exit status %d after SIGTERM, not 0' % rc)
        if notify and not recv_until(sock, lambda m: 'STOPPING=1' in m):
            fail('no STOPPING=1 after SIGTERM')
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print('ok: %s, ready%s, SIGTERM exits 0' %
          (' '.join(shlex.quote(a) for a in argv),
           ' told (Type=notify)' if notify else ''))


def stderr_of_run(argv, env, port, tmp, journal):
    """The stderr of a run stopped by SIGTERM, with JOURNAL_STREAM naming
    that stderr (journal) or another file."""
    err_path = os.path.join(tmp, 'journal' if journal else 'plain')
    other = os.path.join(tmp, 'other')
    open(other, 'w').close()
    with open(err_path, 'w') as err:
        st = os.fstat(err.fileno()) if journal else os.stat(other)
        env = dict(env, JOURNAL_STREAM='%d:%d' % (st.st_dev, st.st_ino),
                   AE_VERBOSE='6')
        proc = subprocess.Popen(argv, env=env, stderr=err)
        deadline = time.monotonic() + WAIT
        while not listens(port):
            if time.monotonic() > deadline:
                proc.kill()
                fail('the node never listened')
            time.sleep(0.05)
        rc = stop(proc)
    if rc != 0:
        fail('exit status %d after SIGTERM, not 0' % rc)
    with open(err_path) as f:
        return f.read()


def check_journal(argv, env, port, tmp):
    text = stderr_of_run(argv, env, port, tmp, True)
    lines = text.splitlines()
    if '<5>caemp: stopping on SIGTERM' not in lines:
        fail('no "<5>caemp: stopping on SIGTERM" line for the journal:\n'
             + text)
    for line in lines:
        if not re.match(r'<[0-7]>\S+: ', line):
            fail('a line without a priority prefix for the journal: ' + line)
    text = stderr_of_run(argv, env, port, tmp, False)
    if not re.search(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ note +'
                     r'caemp: stopping on SIGTERM$', text, re.M):
        fail('stderr that is not the journal lost its time stamps:\n' + text)
    print('ok: journal lines "<5>caemp: ...", elsewhere time-stamped')


def check_journal_error(keys, caemp, rc, tmp, held_port):
    """A node that cannot start says why at the journal's error priority."""
    argv, env = command_line(keys, caemp, rc, 'busy')
    err_path = os.path.join(tmp, 'busy')
    with open(err_path, 'w') as err:
        st = os.fstat(err.fileno())
        env = dict(env, JOURNAL_STREAM='%d:%d' % (st.st_dev, st.st_ino))
        rc_ = subprocess.run(argv, env=env, stderr=err, timeout=WAIT)
    with open(err_path) as f:
        text = f.read()
    if rc_.returncode != 1:
        fail('a node that cannot listen exits %d, not 1' % rc_.returncode)
    if not re.search(r'^<3>caemp: run: 127\.0\.0\.1:%d: cannot listen'
                     % held_port, text, re.M):
        fail('no "<3>caemp: run: ... cannot listen" line:\n' + text)
    print('ok: a failed start says why as "<3>caemp: run: ..."')


def check_user(keys, sysusers):
    user = keys.get('User', ['root'])[0]
    if user in ('root', '0'):
        fail('the unit runs as root')
    with open(sysusers) as f:
        entries = [shlex.split(l) for l in f
                   if l.strip() and not l.startswith('#')]
    users = [e for e in entries if e[0] == 'u' and e[1] == user]
    if not users:
        fail('%s does not create the user %s' % (sysusers, user))
    if ':' in users[0][3]:
        fail('the GECOS field of %s has a colon' % user)
    print('ok: runs as %s, made by sysusers' % user)


def main():
    caemp, unit, sysusers = sys.argv[1:4]
    keys = parse_unit(unit)
    check_user(keys, sysusers)
    notify = keys['Type'][0] == 'notify'
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        held = socket.socket()
        held.bind(('127.0.0.1', 0))
        held.listen()
        held_port = held.getsockname()[1]
        rc = os.path.join(tmp, 'aemp.rc')
        addr = '127.0.0.1:%d' % port
        with open(rc, 'w') as f:
            json.dump({'version': 1, 'profile': {
                INSTANCE: {'nodeid': INSTANCE, 'binds': [addr],
                           'seeds': [addr], 'secret': 'systemd-test'},
                'busy': {'binds': ['127.0.0.1:%d' % held_port]}}}, f)
        argv, env = command_line(keys, caemp, rc)
        check_service(argv, env, port, notify, tmp)
        check_journal(argv, env, port, tmp)
        check_journal_error(keys, caemp, rc, tmp, held_port)
        held.close()


if __name__ == '__main__':
    main()
