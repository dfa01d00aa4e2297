#!/usr/bin/env python3
"""caemp conform against a C node, with and without a deliberate fault.

    conform_faults.py CAEMP CONFORM_NODE FAULT EXPECTED_FAILURES
                      [--master [--wait SECONDS] | --transport]

Starts CONFORM_NODE (tests/conform_node.c) with FAULT on a free loopback
port, runs `caemp conform` against it, parses the TAP and checks that the
checks that failed are exactly EXPECTED_FAILURES (comma list, "none" for
none), so every fault is caught by the check meant for it and by no
other. Exits 0 when so, 1 with the TAP otherwise. With --master the kit
plays the seed (`caemp conform --master --listen`) and the node is
started with its seed pointing there (--wait: the kit's, for a node that
never connects). A FAULT beginning with "seed" makes CONFORM_NODE a
seed, and the kit runs with --seed (the seed group too); one beginning
with "secure" makes it secure, and the kit runs with --secure: the
secure-mode checks may not skip then, while the checks that need the
spawn a secure node refuses may. With --transport CONFORM_NODE is
tests/conform_fake_node.c, the kit runs the transport group only (--only
transport), the handshake timeout check too (--monitor-timeout, the fake
node's); a FAULT beginning with "tls" gives it and the kit a certificate
made by `caemp gencert`, and the TLS checks may not skip.
"""
import os
import re
import json
import subprocess
import sys
import tempfile

from loopback import free_port

SECRET = 'conform-test-secret'
OPT_IN = ('T-TLS-', 'T-HANDSHAKE-TIMEOUT', 'K-SECURE-')
# what a secure node's refused spawn makes skip (conform_kernel.c
# spawn_port)
NEED_SPAWN = ('K-KIL1-REASON', 'K-KIL1-NORMAL', 'K-MON0', 'K-KIL0-')


def main(argv):
    caemp, node_exe, fault, expected = argv[1:5]
    master = argv[5:6] == ['--master']
    wait = argv[6:8] if argv[6:7] == ['--wait'] else []
    transport = argv[5:] == ['--transport']
    want = set() if expected == 'none' else set(expected.split(','))
    port = free_port()
    env = dict(os.environ, PERL_ANYEVENT_MP_RC=os.devnull)
    tmp = tempfile.TemporaryDirectory()
    opt_in = OPT_IN
    cmd = [caemp, 'conform', '--secret', SECRET, '--timeout', '1']
    if transport:
        # conform_fake_node's MONITOR_TIMEOUT
        cmd += ['--only', 'transport', '--monitor-timeout', '3']
    node_cert = []
    if transport and fault.startswith('tls'):
        # the network's certificate, as caemp gencert stores it
        rc = os.path.join(tmp.name, 'rc')
        subprocess.run([caemp, 'gencert'], check=True, timeout=60,
                       env=dict(env, PERL_ANYEVENT_MP_RC=rc))
        pem = os.path.join(tmp.name, 'cert.pem')
        with open(rc) as f, open(pem, 'w') as out:
            out.write(json.load(f)['cert'])
        cmd += ['--cert', pem]
        node_cert = [pem]
        opt_in = tuple(o for o in OPT_IN if o != 'T-TLS-')
    node_cmd = [node_exe, str(port), SECRET, fault] + node_cert
    kit, plan = None, ''
    if master:
        # the kit listens first, the node finds it as its seed
        seed = '127.0.0.1:%d' % free_port()
        kit = subprocess.Popen(cmd + ['--master', '--listen', seed] + wait,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
        plan = kit.stdout.readline()
        if not plan.startswith('1..'):
            print('caemp conform --master did not start')
            kit.kill()
            return 1
        node_cmd.append(seed)
    node = subprocess.Popen(node_cmd, stdout=subprocess.PIPE, text=True)
    try:
        if node.stdout.readline().strip() != 'ready':
            print('conform_node did not start')
            return 1
        if kit:
            out, err = kit.communicate(timeout=60)
            run = subprocess.CompletedProcess(cmd, kit.returncode,
                                              plan + out, err)
        else:
            role = (['--seed'] if fault.startswith('seed') else
                    ['--secure'] if fault.startswith('secure') else [])
            run = subprocess.run(cmd + role + ['127.0.0.1:%d' % port],
                                 capture_output=True, text=True, timeout=60,
                                 env=env)
    finally:
        node.kill()
        node.wait()
        if kit and kit.poll() is None:
            kit.kill()
    tap = run.stdout
    plan = re.search(r'^1\.\.(\d+)$', tap, re.M)
    results = re.findall(r'^(ok|not ok) \d+ - (\S+)', tap, re.M)
    failed = {cid for status, cid in results if status == 'not ok'}
    problems = []
    if not plan or int(plan.group(1)) != len(results):
        problems.append('the plan does not match the results')
    if failed != want:
        problems.append('failed %s, expected %s' % (sorted(failed),
                                                    sorted(want)))
    if run.returncode != (1 if want else 0):
        problems.append('exit status %d' % run.returncode)
    # the checks that need a setting this node lacks (a certificate,
    # --secure, --monitor-timeout) may skip; nothing else may
    may_skip = opt_in
    if fault.startswith('secure'):
        may_skip = tuple(p for p in opt_in if p != 'K-SECURE-') + NEED_SPAWN
    skipped = [cid for cid in
               re.findall(r'^ok \d+ - (\S+).*# SKIP', tap, re.M)
               if not cid.startswith(may_skip)]
    if skipped:
        problems.append('skipped: %s' % skipped)
    if problems:
        print(tap + run.stderr)
        print('\n'.join(problems))
        return 1
    print('%s: %d checks, failed as expected: %s'
          % (fault, len(results), sorted(failed) or 'none'))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
