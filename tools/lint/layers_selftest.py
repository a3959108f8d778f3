#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The layer check's own test (make lint-selftest).

Builds tiny C files into objects in a temporary directory, with LAYERS
files and an RST drawing, and runs layers.py on them: a clean stack must
pass; a cycle, a use of an upper layer, a use within a layer, an object
in no layer, a name with no source and a stale drawing must each fail,
naming the files and the symbols. Prints one line per case; exits 1 if
any case went otherwise.
"""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
LAYERS_PY = os.path.join(HERE, 'layers.py')
CC = os.environ.get('CC', 'cc')

# Each file: what it defines and what it calls. "ext_only" calls libc and
# a function no object defines: neither is an edge.
SOURCES = {
    'low': 'int low_value;\nint low_get(void) { return low_value; }\n',
    'mid': 'int low_get(void);\nint mid_get(void) { return low_get() + 1; }\n',
    'top': 'int mid_get(void);\nint top_get(void) { return mid_get(); }\n',
    'ext_only': '#include <stdlib.h>\nint nowhere(void);\n'
                'int ext_get(void) { return nowhere() + abs(-1); }\n',
    # A cycle: ping uses pong, pong uses ping.
    'ping': 'int pong(int n);\nint ping(int n) { return n ? pong(n - 1) : 0; }\n',
    'pong': 'int ping(int n);\nint pong(int n) { return n ? ping(n - 1) : 1; }\n',
    # Uses a variable, not a function, of low.
    'reader': 'extern int low_value;\nint reader(void) { return low_value; }\n',
}


class Failed(Exception):
    pass


class Case:
    def __init__(self, tmp):
        self.tmp = tmp
        self.failures = 0

    def path(self, name):
        return os.path.join(self.tmp, name)

    def layers(self, name, text):
        with open(self.path(name), 'w', encoding='utf-8') as f:
            f.write(text)
        return self.path(name)

    def run(self, *args):
        p = subprocess.run([sys.executable, LAYERS_PY] + list(args),
                           capture_output=True, text=True, check=False)
        return p.returncode, p.stdout + p.stderr

    def expect(self, title, args, rc, present=(), absent=()):
        """layers.py @args exits @rc and prints each of @present."""
        got_rc, out = self.run(*args)
        wrong = []
        if got_rc != rc:
            wrong.append(f'exit status {got_rc}, not {rc}')
        wrong += [f'no "{s}"' for s in present if s not in out]
        wrong += [f'"{s}" printed' for s in absent if s in out]
        if wrong:
            self.failures += 1
            print(f'layers-selftest: FAIL: {title}: {"; ".join(wrong)}')
            print('  ' + out.replace('\n', '\n  ').rstrip())
        else:
            print(f'layers-selftest: ok: {title}')


def build(tmp):
    objs = {}
    for stem, text in SOURCES.items():
        src = os.path.join(tmp, stem + '.c')
        with open(src, 'w', encoding='utf-8') as f:
            f.write(text)
        objs[stem] = os.path.join(tmp, stem + '.o')
        subprocess.run([CC, '-O2', '-c', '-o', objs[stem], src], check=True)
    return objs


def drawing_cases(t, objs, layers):
    rst = t.path('doc.rst')
    with open(rst, 'w', encoding='utf-8') as f:
        f.write('Title\n=====\n\n.. layers-drawing: stack.LAYERS\n\n::\n\n'
                'Text after.\n')
    stack = [objs['low'], objs['mid'], objs['top']]
    t.expect('a drawing that is not there yet fails',
             ['check', '--doc', rst, layers] + stack, 1,
             ['is not that of'])
    rc, out = t.run('draw', '--update', rst, layers)
    if rc:
        raise Failed(f'draw --update: {out}')
    with open(rst, encoding='utf-8') as f:
        text = f.read()
    t.expect('the drawing draw --update made passes, and shows every file',
             ['check', '--doc', rst, layers] + stack, 0, ['clean'])
    for name in ('low.c', 'mid.c', 'top.c', 'Text after.'):
        if name not in text:
            t.failures += 1
            print(f'layers-selftest: FAIL: the drawing lost "{name}"')
    with open(rst, 'w', encoding='utf-8') as f:
        f.write(text.replace('mid.c', 'old.c'))
    t.expect('a drawing naming another file fails',
             ['check', '--doc', rst, layers] + stack, 1,
             ['is not that of', 'draw --update'])
    t.expect('a document with no drawing of this LAYERS fails',
             ['check', '--doc', t.layers('empty.rst', 'Nothing\n'), layers]
             + stack, 1, ['has no ".. layers-drawing: PATH" line'])


def cases(t, objs):
    o = objs
    stack = t.layers('stack.LAYERS', '# bottom first\nbase: low ext_only\n'
                     'mid reader\ntop: top\n')
    t.expect('a clean stack passes',
             ['check', stack, o['low'], o['mid'], o['top'], o['ext_only'],
              o['reader']], 0, ['clean (5 objects, 3 layers, 3 uses)'])
    t.expect('a layer\'s file absent from the objects is no error',
             ['check', stack, o['low'], o['top']], 0, ['clean'])
    upside = t.layers('upside.LAYERS', 'top\nmid\nlow\n')
    t.expect('a use of an upper layer fails, naming files and symbols',
             ['check', upside, o['low'], o['mid'], o['top']], 1,
             ['uses a layer above: mid (layer 2) uses low (layer 3): low_get',
              'uses a layer above: top (layer 1) uses mid (layer 2): mid_get',
              '2 problem(s)'], ['cycle'])
    flat = t.layers('flat.LAYERS', 'low mid\n')
    t.expect('a use within a layer fails',
             ['check', flat, o['low'], o['mid']], 1,
             ['uses its own layer: mid (layer 1) uses low (layer 1): low_get'])
    t.expect('a variable makes an edge too',
             ['check', t.layers('var.LAYERS', 'reader\nlow\n'), o['low'],
              o['reader']], 1,
             ['reader (layer 1) uses low (layer 2): low_value'])
    pair = t.layers('pair.LAYERS', 'ping\npong\n')
    t.expect('a cycle fails, with its files and the symbols of each edge',
             ['check', pair, o['ping'], o['pong']], 1,
             ['cycle of 2 files: ping pong', 'ping -> pong -> ping',
              'ping.o -> pong.o: pong', 'pong.o -> ping.o: ping',
              'uses a layer above: ping (layer 1) uses pong (layer 2): pong'])
    t.expect('a cycle is found with files in no layer',
             ['check', t.layers('none.LAYERS', 'low\n'), o['ping'],
              o['pong']], 1,
             ['cycle of 2 files: ping pong', 'is in no layer: add "ping"',
              'is in no layer: add "pong"'])
    t.expect('an object in no layer fails',
             ['check', t.layers('short.LAYERS', 'low\n'), o['low'],
              o['mid']], 1, ['mid.o is in no layer: add "mid"'])
    t.expect('--srcdir: a name with no source fails',
             ['check', '--srcdir', t.tmp,
              t.layers('stale.LAYERS', 'low\ngone\n'), o['low']], 1,
             ['names gone, but there is no'])
    t.expect('--srcdir: names with sources pass',
             ['check', '--srcdir', t.tmp, stack, o['low'], o['mid']], 0,
             ['clean'])
    t.expect('a file named in two layers is an input error',
             ['check', t.layers('twice.LAYERS', 'low\nlow\n'), o['low']], 2,
             ['low is already in layer 1'])
    t.expect('a missing LAYERS file is an input error',
             ['check', t.path('nothing'), o['low']], 2, ['error'])
    drawing_cases(t, objs, stack)


def main():
    with tempfile.TemporaryDirectory(prefix='layers-selftest.') as tmp:
        t = Case(tmp)
        try:
            cases(t, build(tmp))
        except (Failed, subprocess.CalledProcessError, OSError) as e:
            print(f'layers-selftest: FAIL: {e}')
            return 1
    if t.failures:
        print(f'layers-selftest: {t.failures} case(s) failed')
        return 1
    print('layers-selftest: all cases passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
