#!/usr/bin/env python3
"""The library exports its API and nothing else.

    check_exports.py NM SHARED_LIB STATIC_LIB HEADER...

Reads the function declarations of the public headers: each must carry
AEMP_API (include/aemp/export.h), and the shared library must export
exactly the functions so declared, no more and no fewer. Every other
global symbol of the static library must begin with "aempi_", so a
program linked statically cannot clash with an internal name either.
Exits 1 with the differences listed, else 0.
"""
import re
import subprocess
import sys


def strip_source(text):
    """The header without comments, preprocessor lines and attributes."""
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    text = re.sub(r'//[^\n]*', ' ', text)
    # extern "C" { ... } for C++, which would hide everything between
    text = re.sub(r'#ifdef __cplusplus\n.*?#endif', ' ', text, flags=re.S)
    text = re.sub(r'^[ \t]*#(?:[^\n]*\\\n)*[^\n]*', ' ', text, flags=re.M)
    return re.sub(r'__attribute__\s*\(\(.*?\)\)', ' ', text, flags=re.S)


def declared_functions(path):
    """(name, has AEMP_API) for each function the header declares."""
    found = []
    text = strip_source(open(path).read())
    # drop struct and enum bodies, which hold no function declarations
    while True:
        shorter = re.sub(r'\{[^{}]*\}', ' ', text)
        if shorter == text:
            break
        text = shorter
    for stmt in text.split(';'):
        if re.search(r'\btypedef\b', stmt):
            continue
        m = re.search(r'([A-Za-z_]\w*)\s*\(', stmt)
        if m and m.group(1) != 'AEMP_API':
            found.append((m.group(1), bool(re.search(r'\bAEMP_API\b',
                                                     stmt))))
    return found


def symbols(nm, args, lib):
    """The defined global function and data symbols nm lists for lib."""
    out = subprocess.run([nm] + args + [lib], check=True,
                         capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in 'TDBRVWG':
            names.add(parts[2])
    return names


def main(argv):
    nm, shared, static, headers = argv[1], argv[2], argv[3], argv[4:]
    problems = []
    api = set()
    for h in headers:
        for name, marked in declared_functions(h):
            if not marked:
                problems.append('%s: %s is declared without AEMP_API'
                                % (h, name))
            api.add(name)
    exported = symbols(nm, ['-D', '--defined-only'], shared)
    for name in sorted(exported - api):
        problems.append('%s exports %s, which no header declares'
                        % (shared, name))
    for name in sorted(api - exported):
        problems.append('%s does not export %s, which a header declares'
                        % (shared, name))
    for name in sorted(symbols(nm, ['-g', '--defined-only'], static) - api):
        if not name.startswith('aempi_'):
            problems.append('%s: internal symbol %s lacks the aempi_ prefix'
                            % (static, name))
    for p in problems:
        print(p)
    print('%d functions declared, %d exported, %d problems'
          % (len(api), len(exported), len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
