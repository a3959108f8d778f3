#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""One-way layers, checked on the built objects.

A file uses another when its object has an undefined symbol that the
other's object defines (nm); symbols that none of the given objects
defines (the kernel's, libc's, another library's) make no edge. The
check fails when the file graph has a cycle, when a file uses a file of
its own layer or of a layer above it, or when an object is in no layer.

The layer order is a LAYERS file: one line per layer, bottom first,
naming the file stems of the layer ("pages" for pages.c / pages.o),
optionally after a label and a colon:

    # comment
    core: object fault
    pages
    top: main

Usage:
  layers.py check [--name NAME] [--srcdir DIR] [--doc RST] LAYERS OBJ...
  layers.py draw LAYERS              print the drawing of the layers
  layers.py draw --update RST LAYERS rewrite the drawing in RST

--srcdir: every stem in LAYERS must have DIR/STEM.c (no stale names).
--doc: RST holds the drawing of LAYERS, as draw prints it, in the literal
block after a comment ".. layers-drawing: PATH" (PATH: LAYERS relative to
RST's directory) and a "::" line.
Exit status: 0 clean, 1 a layering problem, 2 a usage or input error.
"""

import argparse
import os
import subprocess
import sys
import textwrap

WIDTH = 72
# nm's type letters: what an object needs, and what it offers to others.
UNDEFINED = set('Uwv')


class InputError(Exception):
    pass


class Layers:
    """A LAYERS file: self.layers[i] = (label, [stems]), bottom first."""

    def __init__(self, path):
        self.path = path
        self.layers = []
        self.level = {}
        with open(path, encoding='utf-8') as f:
            for nr, line in enumerate(f, 1):
                self._add(line.split('#', 1)[0].strip(), nr)
        if not self.layers:
            raise InputError(f'{path}: no layers')

    def _add(self, text, nr):
        if not text:
            return
        label = ''
        if ':' in text:
            label, text = (s.strip() for s in text.split(':', 1))
        stems = text.split()
        if not stems:
            raise InputError(f'{self.path}:{nr}: a layer with no files')
        for stem in stems:
            if stem in self.level:
                raise InputError(f'{self.path}:{nr}: {stem} is already in '
                                 f'layer {self.level[stem] + 1}')
            self.level[stem] = len(self.layers)
        self.layers.append((label, stems))

    def name(self, stem):
        """'pages (layer 3, label)' for messages."""
        i = self.level[stem]
        label = self.layers[i][0]
        return f'{stem} (layer {i + 1}{", " + label if label else ""})'


def stem_of(path):
    return os.path.splitext(os.path.basename(path))[0]


def read_symbols(obj):
    """(defined global symbols, undefined symbols) of one object."""
    try:
        out = subprocess.run(['nm', '-P', obj], check=True, text=True,
                             capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise InputError(f'nm {obj}: {e}') from e
    defined, undefined = set(), set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        sym, kind = fields[0], fields[1]
        if kind in UNDEFINED:
            undefined.add(sym)
        elif kind.isupper() or kind == 'u':
            defined.add(sym)
    return defined, undefined


def file_graph(objs):
    """{user: {used: sorted symbols}} over the stems of @objs."""
    syms = {stem_of(o): read_symbols(o) for o in objs}
    owner = {}
    for stem, (defined, _) in syms.items():
        for sym in defined:
            owner.setdefault(sym, set()).add(stem)
    graph = {stem: {} for stem in syms}
    for stem, (_, undefined) in syms.items():
        for sym in undefined:
            for used in owner.get(sym, ()):
                if used != stem:
                    graph[stem].setdefault(used, []).append(sym)
    for edges in graph.values():
        for used in edges:
            edges[used].sort()
    return graph


def strong_components(graph):
    """Tarjan's algorithm; the components of more than one file."""
    index, low, stack, on_stack, comps = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return comps


def shortest_path(graph, start, goal, within):
    """Files from @start to @goal along edges inside @within (BFS)."""
    prev = {start: None}
    queue = [start]
    for v in queue:
        if v == goal:
            break
        for w in sorted(graph[v]):
            if w in within and w not in prev:
                prev[w] = v
                queue.append(w)
    path, v = [], goal
    while v is not None:
        path.append(v)
        v = prev[v]
    return path[::-1]


class Report:
    def __init__(self, name):
        self.name = name
        self.problems = 0

    def fail(self, text):
        self.problems += 1
        print(f'layers: {self.name}: FAIL: {text}')


def report_cycles(rep, graph, layers):
    """Each cycle, as the shortest loop through each of its bad edges."""
    for comp in strong_components(graph):
        inside = set(comp)
        edges = [(u, v) for u in comp for v in sorted(graph[u])
                 if v in inside]
        bad = [(u, v) for u, v in edges
               if u not in layers.level or v not in layers.level or
               layers.level[v] >= layers.level[u]]
        rep.fail(f'cycle of {len(comp)} files: {" ".join(comp)}')
        shown = set()
        for u, v in bad or edges[:1]:
            loop = [u] + shortest_path(graph, v, u, inside)[:-1]
            # The same loop found from another of its edges is not news.
            first = loop.index(min(loop))
            loop = loop[first:] + loop[:first + 1]
            if tuple(loop) in shown:
                continue
            shown.add(tuple(loop))
            print(f'  {" -> ".join(loop)}')
            for a, b in zip(loop, loop[1:]):
                print(f'    {a}.o -> {b}.o: {" ".join(graph[a][b])}')


def report_order(rep, graph, layers):
    for user in sorted(graph):
        for used, syms in sorted(graph[user].items()):
            if user not in layers.level or used not in layers.level:
                continue
            lu, lv = layers.level[user], layers.level[used]
            if lv > lu:
                what = 'uses a layer above'
            elif lv == lu:
                what = 'uses its own layer'
            else:
                continue
            rep.fail(f'{what}: {layers.name(user)} uses '
                     f'{layers.name(used)}: {" ".join(syms)}')


def check(args):
    layers = Layers(args.layers)
    rep = Report(args.name or args.layers)
    stems = [stem_of(o) for o in args.objs]
    if len(set(stems)) != len(stems):
        raise InputError('two objects of the same name')
    for obj in args.objs:
        if stem_of(obj) not in layers.level:
            rep.fail(f'{obj} is in no layer: add "{stem_of(obj)}" to '
                     f'{args.layers}')
    if args.srcdir:
        for stem in sorted(layers.level):
            if not os.path.exists(os.path.join(args.srcdir, stem + '.c')):
                rep.fail(f'{args.layers} names {stem}, but there is no '
                         f'{os.path.join(args.srcdir, stem + ".c")}')
    graph = file_graph(args.objs)
    report_cycles(rep, graph, layers)
    report_order(rep, graph, layers)
    if args.doc:
        check_doc(rep, args.doc, layers)
    nedges = sum(len(e) for e in graph.values())
    if rep.problems:
        print(f'layers: {rep.name}: {rep.problems} problem(s) '
              f'({len(args.objs)} objects, {nedges} uses)')
        return 1
    print(f'layers: {rep.name}: clean ({len(args.objs)} objects, '
          f'{len(layers.layers)} layers, {nedges} uses)')
    return 0


def wrap(words, width):
    lines, line = [], ''
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f'{line} {w}' if line else w
    return lines + [line]


def drawing(layers):
    """The layers as boxes, the top layer first, as text lines."""
    labels = [f'{i + 1} {label}'.rstrip()
              for i, (label, _) in enumerate(layers.layers)]
    lw = max(len(s) for s in labels)
    files = [[f'{stem}.c' for stem in stems] for _, stems in layers.layers]
    # As wide as the widest layer, wrapped to fit WIDTH.
    fw = min(WIDTH - 4 - lw - 3, max(len(' '.join(f)) for f in files))
    rule = '+' + '-' * (lw + fw + 5) + '+'
    lines = [rule]
    for i in reversed(range(len(layers.layers))):
        for j, text in enumerate(wrap(files[i], fw)):
            head = labels[i] if j == 0 else ''
            lines.append(f'| {head:<{lw}} : {text:<{fw}} |')
        lines.append(rule)
    lines.append('  each file uses only files of the layers under its own')
    return lines


MARKER = '.. layers-drawing:'


def find_drawing(rst, rst_lines, layers_path):
    """
    (first, end) line indices of the literal block that follows the
    comment "MARKER PATH" and a "::" line, PATH being @layers_path
    relative to @rst's directory; None if there is none.
    """
    want = os.path.realpath(layers_path)
    base = os.path.dirname(os.path.abspath(rst))
    at = next((i for i, s in enumerate(rst_lines) if s.startswith(MARKER) and
               os.path.realpath(os.path.join(base, s[len(MARKER):].strip()))
               == want), None)
    if at is None:
        return None
    i = at + 1
    while i < len(rst_lines) and rst_lines[i].strip() != '::':
        i += 1
    if i == len(rst_lines):
        return None
    i += 1
    while i < len(rst_lines) and not rst_lines[i].strip():
        i += 1
    first = end = i
    while i < len(rst_lines) and (not rst_lines[i].strip() or
                                   rst_lines[i].startswith(' ')):
        i += 1
        if rst_lines[i - 1].strip():
            end = i
    return first, end


def check_doc(rep, rst, layers):
    with open(rst, encoding='utf-8') as f:
        lines = f.read().splitlines()
    where = find_drawing(rst, lines, layers.path)
    if where is None:
        rep.fail(f'{rst} has no "{MARKER} PATH" line (PATH: {layers.path} '
                 'relative to it) followed by "::" and the drawing')
        return
    have = textwrap.dedent('\n'.join(lines[where[0]:where[1]])).splitlines()
    if [s.rstrip() for s in have] != drawing(layers):
        rep.fail(f'the drawing in {rst} is not that of {layers.path}; '
                 f'run: {sys.argv[0]} draw --update {rst} {layers.path}')


def draw(args):
    layers = Layers(args.layers)
    if not args.update:
        print('\n'.join(drawing(layers)))
        return 0
    with open(args.update, encoding='utf-8') as f:
        lines = f.read().splitlines()
    where = find_drawing(args.update, lines, layers.path)
    if where is None:
        raise InputError(f'{args.update}: no "{MARKER} PATH" line (PATH: '
                         f'{args.layers} relative to it), then "::"')
    block = ['    ' + s for s in drawing(layers)]
    if where[0] == where[1] and where[1] < len(lines):
        block.append('')
    if lines[where[0] - 1].strip():
        block.insert(0, '')
    lines[where[0]:where[1]] = block
    with open(args.update, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')
    return 0


def main():
    p = argparse.ArgumentParser(description='One-way layers of objects.')
    sub = p.add_subparsers(dest='cmd', required=True)
    c = sub.add_parser('check')
    c.add_argument('--name')
    c.add_argument('--srcdir')
    c.add_argument('--doc')
    c.add_argument('layers')
    c.add_argument('objs', nargs='+')
    d = sub.add_parser('draw')
    d.add_argument('--update', metavar='RST')
    d.add_argument('layers')
    args = p.parse_args()
    try:
        return check(args) if args.cmd == 'check' else draw(args)
    except (InputError, OSError) as e:
        print(f'layers: error: {e}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
