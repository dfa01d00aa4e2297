#!/usr/bin/env python3
"""caemp's man pages and bash completion against the source.

    check_caemp_docs.py man SRCROOT
    check_caemp_docs.py completion SRCROOT BASH

Reads the commands from the C: every strcmp(cmd, "NAME") of caemp's
dispatch (tools/caemp/*.c), the rows of profile_commands[]
(caemp_rc.c) and what each row of keys[] (caemp_rc_keys.c) makes, as
find_key_op says (its is_cmd(cmd, VERB, k->FIELD) calls and their
k->GUARD conditions, read from the code too). The rc keys are keys[]'s
and every literal key the library reads from a configuration
(aemp_map_get(X, "KEY") in src/). The functions are include/aemp/'s
AEMP_API declarations.

man: every command (and caemp conform's every option) has an entry of its
own in docs/man/caemp.1 (an alias KEY of setKEY is set in bold), every rc key has
its own .TP entry in docs/man/aemp-rc.5, every public function is named
in docs/man/libaemp.3; with mandoc, groff and man present, the pages
render without a warning.

completion: every command and conform option is in
tools/completion/caemp.bash, and bash
completes each one from its name, and files after setcert. Exit 0 if
all is well, 1 with a list of what is missing, 77 (skip) without bash.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

STRING = r'"(?:\\.|[^"\\])*"'


def strip_comments(text):
    """C text without comments, string and char literals kept."""
    pat = r'//[^\n]*|/\*.*?\*/|(' + STRING + r"|'(?:\\.|[^'\\])*')"
    return re.sub(pat, lambda m: m.group(1) or ' ', text, flags=re.S)


def read_c(path):
    with open(path, encoding='utf-8') as f:
        return strip_comments(f.read())


class Lit(str):
    """A string literal's value, told apart from an identifier."""


def braced(text, start):
    """The text between the brace at or after start and its match."""
    i = text.index('{', start)
    depth = 0
    for j in range(i, len(text)):
        if text[j] == '{':
            depth += 1
        elif text[j] == '}':
            depth -= 1
            if depth == 0:
                return text[i + 1:j]
    raise ValueError('unbalanced braces')


def table_rows(text, name):
    """The rows of a static array initializer NAME[] = { {...}, ... }:
    each a list of its fields (strings unquoted, identifiers, numbers)."""
    m = re.search(r'\b' + name + r'\s*\[\s*\]\s*=', text)
    if not m:
        raise ValueError('no table ' + name + '[]')
    body = braced(text, m.end())
    tokens = re.findall(STRING + r'|[A-Za-z_]\w*|\d+|[{},]', body)
    rows, row, field, depth = [], None, None, 0
    for t in tokens:
        if t == '{':
            depth += 1
            if depth == 1:
                row, field = [], None
        elif t == '}':
            if depth == 1:
                row.append(field)
                rows.append(row)
            depth -= 1
        elif t == ',' and depth == 1:
            row.append(field)
            field = None
        elif depth == 1:
            if t.startswith('"'):  # adjacent literals concatenate
                value = bytes(t[1:-1], 'utf-8').decode('unicode_escape')
                field = Lit((field or '') + value)
            else:
                field = t
    return rows


def struct_fields(text, name):
    """The member names of typedef struct NAME { ... }, in order."""
    m = re.search(r'typedef\s+struct\s+' + name + r'\b', text)
    if not m:
        raise ValueError('no struct ' + name)
    decls = braced(text, m.end()).split(';')
    return [re.findall(r'\w+', d)[-1] for d in decls if d.strip()]


def is_string(field):
    return isinstance(field, Lit)


def truthy(field):
    return field is not None and field not in ('NULL', '0')


def key_commands(src):
    """{command: rc key} for every command keys[] makes, by the rules of
    find_key_op read from its code."""
    text = read_c(os.path.join(src, 'tools/caemp/caemp_rc_keys.c'))
    fields = struct_fields(text, 'rc_key')
    rows = [dict(zip(fields, r)) for r in table_rows(text, 'keys')]
    m = re.search(r'\bfind_key_op\s*\([^)]*\)\s*', text)
    body = braced(text, m.end())
    guard = r'(?:k->(\w+)\s*&&\s*)?'
    rules = [(v, f, g) for g, v, f in re.findall(
        guard + r'is_cmd\(\s*cmd\s*,\s*"(\w+)"\s*,\s*k->(\w+)\s*\)', body)]
    rules += [('', f, g) for g, f in re.findall(
        r'k->(\w+)\s*&&\s*strcmp\(\s*cmd\s*,\s*k->(\w+)\s*\)', body)]
    if not rows or len(rules) < 4:
        raise ValueError('keys[] or find_key_op not understood')
    cmds = {}
    for row in rows:
        for verb, field, g in rules:
            if is_string(row.get(field)) and (not g or truthy(row.get(g))):
                cmds[verb + row[field]] = verb
    return cmds, [row['key'] for row in rows]


def dispatch_commands(src):
    """The commands main() and caemp_node_command dispatch by name."""
    cmds = set()
    d = os.path.join(src, 'tools/caemp')
    for name in sorted(os.listdir(d)):
        if name.endswith('.c'):
            text = read_c(os.path.join(d, name))
            cmds |= set(re.findall(r'strcmp\(\s*cmd\s*,\s*"([^"]+)"\s*\)', text))
    rc = read_c(os.path.join(d, 'caemp_rc.c'))
    cmds |= {r[0] for r in table_rows(rc, 'profile_commands')}
    return cmds


def conform_options(src):
    """The options caemp conform reads (conform/conform.c)."""
    text = read_c(os.path.join(src, 'tools/caemp/conform/conform.c'))
    return set(re.findall(r'strcmp\(\s*a\s*,\s*"(--[\w-]+)"\s*\)', text))


# files whose aemp_map_get calls read the stats map (docs/metrics.md), not
# a configuration: its "metrics", "samples", "help", "type" are no rc keys
NOT_CONFIG_READERS = {'kernel_stats.c', 'kernel_prom.c'}


def library_keys(src):
    """Literal keys the library reads from a configuration map."""
    keys = set()
    for root, _, files in os.walk(os.path.join(src, 'src')):
        for name in files:
            if name.endswith('.c') and name not in NOT_CONFIG_READERS:
                text = read_c(os.path.join(root, name))
                keys |= set(re.findall(
                    r'aemp_map_get\(\s*(?:[^,;()]|\([^()]*\))*,\s*"([a-z_]+)"\s*\)',
                    text))
    return keys


def api_functions(src):
    """{header file name: the functions it declares}"""
    out = {}
    d = os.path.join(src, 'include/aemp')
    for name in sorted(os.listdir(d)):
        if name.endswith('.h'):
            text = read_c(os.path.join(d, name))
            out[name] = set(re.findall(r'AEMP_API[^;(]*?\b(aemp_\w+)\s*\(', text))
    return out


def all_commands(src):
    """Every command, and the aliases among them (setKEY's KEY)."""
    keycmds, _ = key_commands(src)
    cmds = dispatch_commands(src) | set(keycmds)
    # a parse that finds too little must not pass as "nothing missing"
    for known in ('help', 'run', 'snd', 'profile', 'showconfig',
                  'gensecret', 'setbinds', 'binds', 'addseed', 'delservice_dir'):
        if known not in cmds:
            raise ValueError('the source parse missed ' + known)
    return cmds, {c for c, verb in keycmds.items() if verb == ''}


def roff(path):
    with open(path, encoding='utf-8') as f:
        return [l for l in f.read().split('\n') if not l.startswith('.\\"')]


def bold_word(line):
    """The first word of a bold macro line (.B, .BI, .BR), or None."""
    m = re.match(r'\.(?:B|BI|BR)\s+"?([^\s"]+)', line)
    return m.group(1).replace('\\-', '-') if m else None


def entries(lines):
    """The bold first words of the .TP entries' tags."""
    return {bold_word(lines[i + 1]) for i, l in enumerate(lines[:-1])
            if l == '.TP'} - {None}


def header_entries(lines):
    """{header: the text of its .TP entry} in a page's HEADERS section."""
    out, cur = {}, None
    for l in lines:
        m = re.match(r'\.B <aemp/(\w+\.h)>$', l)
        if m:
            cur = m.group(1)
            out[cur] = ''
        elif l.startswith(('.TP', '.SH')):
            cur = None
        elif cur:
            out[cur] += l + '\n'
    return out


def lint(path):
    """Warnings of the tools present, as lintian runs man: [] if clean."""
    problems = []
    runs = []
    if shutil.which('mandoc'):
        runs.append(['mandoc', '-T', 'lint', '-W', 'warning', path])
    if shutil.which('groff'):
        runs.append(['groff', '-man', '-ww', '-z', path])
    if shutil.which('man'):
        runs.append(['man', '--warnings', '-E', 'UTF-8', '-l', '-Tutf8', '-Z', path])
    env = dict(os.environ, LC_ALL='C.UTF-8', MANWIDTH='80')
    for cmd in runs:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
        # mandoc exits 2 for a warning; man prints groff's on stderr
        if p.returncode not in (0,) or p.stderr.strip() or (
                cmd[0] == 'mandoc' and p.stdout.strip()):
            problems.append('%s: %s%s' % (' '.join(cmd), p.stdout, p.stderr))
    return problems


def check_man(src):
    cmds, aliases = all_commands(src)
    missing = []
    lines = roff(os.path.join(src, 'docs/man/caemp.1'))
    # each command an entry of its own; setKEY's alias KEY in bold
    bold = {bold_word(l) for l in lines}
    missing += ['caemp.1: command %s' % c for c in sorted(cmds - aliases - entries(lines))]
    missing += ['caemp.1: alias %s' % c for c in sorted(aliases - bold)]
    missing += ['caemp.1: conform option %s' % o
                for o in sorted(conform_options(src) - entries(lines))]

    keys = set(key_commands(src)[1]) | library_keys(src)
    rc_lines = roff(os.path.join(src, 'docs/man/aemp-rc.5'))
    missing += ['aemp-rc.5: key %s' % k for k in sorted(keys - entries(rc_lines))]

    # each function named in its header's entry
    headers = header_entries(roff(os.path.join(src, 'docs/man/libaemp.3')))
    for h, funcs in sorted(api_functions(src).items()):
        if funcs and h not in headers:
            missing.append('libaemp.3: header <aemp/%s>' % h)
        named = set(re.findall(r'\baemp_\w+', headers.get(h, '')))
        missing += ['libaemp.3: function %s under <aemp/%s>' % (f, h)
                    for f in sorted(funcs - named)]

    for name in ('caemp.1', 'aemp-rc.5', 'libaemp.3'):
        missing += lint(os.path.join(src, 'docs/man', name))
    return missing


def complete(bash, script, lines):
    """Runs _caemp for each line (the word under the cursor last; a
    trailing space: an empty word); the candidates of each, one list per
    line."""
    prog = ['source "$1" || exit 1']
    for l in lines:
        words = l.split() + ([''] if l.endswith(' ') else [])
        prog.append('COMP_WORDS=(%s); COMP_CWORD=%d; COMPREPLY=(); _caemp; '
                    'printf "%%s\\n" "${COMPREPLY[*]}"' % (
                        ' '.join("'%s'" % w for w in words), len(words) - 1))
    with tempfile.TemporaryDirectory() as home:
        open(os.path.join(home, 'cert.pem'), 'w').close()
        env = dict(os.environ, HOME=home,
                   PERL_ANYEVENT_MP_RC=os.path.join(home, 'rc'))
        p = subprocess.run([bash, '-c', '\n'.join(prog), 'bash', script],
                           capture_output=True, text=True, env=env, cwd=home)
    if p.returncode != 0:
        raise ValueError('bash: ' + p.stderr)
    return [l.split() for l in p.stdout.split('\n')[:len(lines)]]


def check_completion(src, bash):
    cmds, _ = all_commands(src)
    script = os.path.abspath(os.path.join(src, 'tools/completion/caemp.bash'))
    with open(script, encoding='utf-8') as f:
        words = set(re.findall(r'[\w-]+', f.read()))
    missing = ['caemp.bash: command %s' % c for c in sorted(cmds - words)]
    missing += ['caemp.bash: conform option %s' % o
                for o in sorted(conform_options(src) - words)]

    order = sorted(cmds)
    got = complete(bash, script, ['caemp ' + c for c in order])
    missing += ['caemp.bash: "caemp %s" does not complete to %s' % (c, c)
                for c, cands in zip(order, got) if c not in cands]
    se, ad = complete(bash, script, ['caemp se', 'caemp gensecret ad'])
    if not se or any(not c.startswith('se') for c in se):
        missing.append('caemp.bash: "caemp se" gives %r' % se)
    if 'addseed' not in ad:
        missing.append('caemp.bash: "caemp gensecret ad" gives %r' % ad)
    for line in ('caemp setcert ce', 'caemp graph --svg ce', 'caemp graph --dot ce'):
        if complete(bash, script, [line])[0] != ['cert.pem']:
            missing.append('caemp.bash: "%s" does not complete the file' % line)
    return missing


def main():
    mode, src = sys.argv[1], sys.argv[2]
    if mode == 'man':
        missing = check_man(src)
    else:
        bash = sys.argv[3] if len(sys.argv) > 3 else shutil.which('bash')
        if not bash:
            print('no bash: skipped')
            return 77
        missing = check_completion(src, bash)
    for m in missing:
        print('missing:', m)
    return 1 if missing else 0


if __name__ == '__main__':
    sys.exit(main())
