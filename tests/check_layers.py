#!/usr/bin/env python3
"""Each layer of src/ uses only itself and the layers below it.

    check_layers.py SRC_DIR

The build already refuses an upward #include by its bare name (each layer
compiles with only its own and the lower folders on the include path,
docs/architecture.md). This catches the spellings the include path cannot
see: a path ("../kernel/kernel.h", "kernel/kernel.h"), which a compiler
resolves beside the file. Every quoted include in src/LAYER/ must name a
public header ("aemp/...") or a file of LAYER or of a layer below it.
Exits 1 with each offending line, else 0.
"""
import os
import re
import sys

# bottom up, as src/meson.build builds them
LAYERS = ['base', 'value', 'config', 'transport', 'kernel', 'global',
          'node']
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def allowed_files(src, layer):
    """The header names a file of layer may include."""
    names = set()
    for lower in LAYERS[:LAYERS.index(layer) + 1]:
        names.update(os.listdir(os.path.join(src, lower)))
    return names


def main(argv):
    src = argv[1]
    problems = []
    for layer in LAYERS:
        allowed = allowed_files(src, layer)
        folder = os.path.join(src, layer)
        for name in sorted(os.listdir(folder)):
            if not name.endswith(('.c', '.h')):
                continue
            path = os.path.join(folder, name)
            for no, line in enumerate(open(path), 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                inc = m.group(1)
                if inc.startswith('aemp/') and '..' not in inc:
                    continue
                if '/' in inc or inc not in allowed:
                    problems.append('src/%s/%s:%d: #include "%s" is not in '
                                    'src/%s or a layer below it'
                                    % (layer, name, no, inc, layer))
    for p in problems:
        print(p)
    print('%d layers checked, %d problems' % (len(LAYERS), len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
