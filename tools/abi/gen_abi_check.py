#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Generate a C file of _Static_asserts comparing our uAPI headers with
upstream's.

Both copies of a header define the same identifiers, so they cannot be
included into one translation unit as they are.  This script therefore
writes a renamed copy of each of our headers, in which every identifier our
headers define (macros, enumerators, struct/union/enum tags, typedefs, the
include guard) gets the prefix "ours_".  The renamed copies keep the
directory layout below --src-root, so relative #include "..." lines between
our headers keep working.

The generated C file includes the upstream headers unchanged plus the
renamed copies and asserts, for everything the upstream headers declare:

  * every struct/union: equal size and alignment, and for every member that
    can be named (including members of nested and anonymous structs and
    unions): equal offset, equal size and, for members of plain scalar or
    array type, compatible types;
  * every named enum: equal size; every enumerator: equal value and type,
    and membership in the enum of the same name;
  * every object-like #define whose body is an integer constant expression
    (ioctl numbers, flags, magic values): equal value and type.

Anything upstream declares that our headers lack is reported by name and
makes the script exit with status 1 before any C is generated.  Anything
extra in our headers is where extensions live: with --extensions FILE
(tools/abi/extensions.txt), every integer constant of ours that upstream
lacks must be listed there with its rule, and the C file asserts the rule
(commands from 0xc0, test ops from 0x1000, extension flags of upstream
fields in the field's top byte), so that upstream growing the same space
later cannot collide with an extension.

Usage:
  gen_abi_check.py --src-root DIR --out-dir DIR \\
      --pair OURS_REL_PATH=UPSTREAM_PATH [--pair ...] \\
      [--extensions FILE] [-o FILE.c]

The C file includes every header by absolute path; compile it with
  gcc -fsyntax-only -Wall -Werror [-I <dir for the upstream headers' own
      #include <...> lines>] FILE.c

Only the Python standard library is used.
"""

import argparse
import os
import re
import sys

PREFIX = 'ours_'

# Identifiers that may appear in a #define body that we still consider a
# plain integer constant expression.
IOCTL_MACROS = {'_IO', '_IOR', '_IOW', '_IOWR', '_IOC'}

# Tokens that look like upstream uAPI names.  Our headers must not use one
# of these without defining it themselves: otherwise the renamed copy would
# silently pick up the upstream definition and hide drift.
UAPI_NAME_RE = re.compile(r'^_*(IOMMU|IOMMUFD|MOCK)_\w+$')

TOKEN_RE = re.compile(r'''
    (?P<ws>(?:\s|\\\n)+)
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<num>(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*)
  | (?P<char>'(?:\\.|[^\\'])+')
  | (?P<str>"(?:\\.|[^\\"])*")
  | (?P<punct><<=|>>=|\.\.\.|<<|>>|->|\+\+|--|&&|\|\||[<>=!]=
             |[-+*/%&|^~!<>=?:;,.(){}\[\]\#])
''', re.VERBOSE)


class ParseError(Exception):
    pass


def strip_comments(text):
    """Remove C and C++ comments, keeping string/char literals and newlines."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == '/' and text.startswith('/*', i):
            end = text.find('*/', i + 2)
            if end < 0:
                raise ParseError('unterminated comment')
            out.append(' ' + '\n' * text.count('\n', i, end))
            i = end + 2
        elif c == '/' and text.startswith('//', i):
            end = text.find('\n', i)
            i = n if end < 0 else end
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def tokenize(text):
    toks = []
    pos = 0
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            raise ParseError('cannot tokenize near %r' % text[pos:pos + 30])
        pos = m.end()
        if m.lastgroup != 'ws':
            toks.append(m.group())
    return toks


def is_ident(tok):
    return re.match(r'^[A-Za-z_]\w*$', tok) is not None


class Member:
    """One declarator inside a struct/union body."""

    def __init__(self, name, kind, type_text, dims, children, bitfield):
        self.name = name            # None for an anonymous struct/union
        self.kind = kind            # 'scalar', 'struct' or 'union'
        self.type_text = type_text  # for scalars, the C type spelled out
        self.dims = dims            # array dimensions, as token strings
        self.children = children    # list of Member for struct/union
        self.bitfield = bitfield


class Header:
    """What one header declares: enough to compare it with another."""

    def __init__(self, path):
        self.path = path
        self.macros = {}        # name -> body (object-like only)
        self.fn_macros = set()  # function-like macro names
        self.includes = []      # quoted #include targets
        self.aggregates = {}    # tag -> (kind, [Member])
        self.agg_order = []
        self.enums = {}         # tag -> [enumerator names]
        self.enum_order = []
        self.enumerators = {}   # name -> enum tag or None
        self.enum_values = {}   # name -> expression tokens or None
        self.typedefs = set()
        self.code_tokens = []
        self.directive_lines = []
        with open(path, encoding='utf-8') as f:
            self.raw = f.read()
        self._parse()

    # -- preprocessor -------------------------------------------------
    def _parse(self):
        text = strip_comments(self.raw)
        text = re.sub(r'\\\n', ' ', text)
        code_lines = []
        for line in text.split('\n'):
            if line.lstrip().startswith('#'):
                self.directive_lines.append(line.strip())
                self._directive(line.strip())
                code_lines.append('')
            else:
                code_lines.append(line)
        self.code_tokens = tokenize('\n'.join(code_lines))
        self._parse_code(self.code_tokens)

    def _directive(self, line):
        m = re.match(r'#\s*define\s+([A-Za-z_]\w*)(\()?(.*)$', line)
        if m:
            if m.group(2):
                self.fn_macros.add(m.group(1))
            else:
                self.macros[m.group(1)] = m.group(3).strip()
            return
        m = re.match(r'#\s*include\s+"([^"]+)"', line)
        if m:
            self.includes.append(m.group(1))

    # -- declarations -------------------------------------------------
    def _parse_code(self, toks):
        i = 0
        while i < len(toks):
            t = toks[i]
            if t == 'typedef':
                j = self._find_stmt_end(toks, i)
                stmt = toks[i:j]
                names = [x for x in stmt if is_ident(x)]
                if names:
                    self.typedefs.add(names[-1])
                if len(stmt) > 1 and stmt[1] in ('struct', 'union', 'enum'):
                    self._aggregate(stmt, 1)
                i = j + 1
            elif t in ('struct', 'union', 'enum'):
                j = self._find_stmt_end(toks, i)
                self._aggregate(toks[i:j], 0)
                i = j + 1
            else:
                i += 1

    @staticmethod
    def _find_stmt_end(toks, i):
        depth = 0
        while i < len(toks):
            if toks[i] in '({[':
                depth += 1
            elif toks[i] in ')}]':
                depth -= 1
            elif toks[i] == ';' and depth == 0:
                return i
            i += 1
        raise ParseError('missing ";"')

    def _aggregate(self, stmt, k):
        kind = stmt[k]
        tag = None
        j = k + 1
        if j < len(stmt) and is_ident(stmt[j]):
            tag = stmt[j]
            j += 1
        if j >= len(stmt) or stmt[j] != '{':
            return  # a forward declaration or a variable of that type
        end = match_close(stmt, j)
        body = stmt[j + 1:end]
        if kind == 'enum':
            self._enum(tag, body)
        else:
            if tag is None:
                return
            self.aggregates[tag] = (kind, parse_members(body))
            self.agg_order.append(tag)

    def _enum(self, tag, body):
        names = []
        for item in split_top(body, ','):
            if not item:
                continue
            name = item[0]
            if not is_ident(name):
                raise ParseError('bad enumerator %r in %s' % (item, self.path))
            names.append(name)
            self.enumerators[name] = tag
            self.enum_values[name] = item[2:] if len(item) > 2 else None
        if tag is not None:
            self.enums[tag] = names
            self.enum_order.append(tag)

    # -- summaries ----------------------------------------------------
    def defined_names(self):
        """Ordinary identifiers (macros, enumerators, typedefs)."""
        return (set(self.macros) | self.fn_macros | set(self.enumerators) |
                self.typedefs)

    def tags(self):
        return set(self.aggregates) | set(self.enums)


def match_close(toks, i):
    pairs = {'(': ')', '{': '}', '[': ']'}
    opener = toks[i]
    closer = pairs[opener]
    depth = 0
    for j in range(i, len(toks)):
        if toks[j] == opener:
            depth += 1
        elif toks[j] == closer:
            depth -= 1
            if depth == 0:
                return j
    raise ParseError('unbalanced %s' % opener)


def split_top(toks, sep):
    """Split a token list on sep at bracket depth 0."""
    parts = [[]]
    depth = 0
    for t in toks:
        if t in '({[':
            depth += 1
        elif t in ')}]':
            depth -= 1
        if t == sep and depth == 0:
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


def drop_attributes(toks):
    out = []
    i = 0
    while i < len(toks):
        if toks[i] in ('__attribute__', '__attribute'):
            i = match_close(toks, i + 1) + 1
        else:
            out.append(toks[i])
            i += 1
    return out


def parse_declarator(toks):
    """Split 'name [N][M] : bits' (possibly with leading '*') apart."""
    toks = [t for t in toks if t != '*' and t != 'const' and t != 'volatile']
    bitfield = ':' in toks
    if bitfield:
        toks = toks[:toks.index(':')]
    if not toks:
        return None, [], bitfield
    dims = []
    k = len(toks)
    while k > 0 and toks[k - 1] == ']':
        start = k - 1
        while toks[start] != '[':
            start -= 1
        dims.insert(0, ' '.join(toks[start + 1:k - 1]))
        k = start
    name = toks[k - 1] if k > 0 else None
    if name is not None and not is_ident(name):
        raise ParseError('bad declarator %r' % (toks,))
    return name, dims, bitfield


def parse_members(body):
    members = []
    for decl in split_top(body, ';'):
        decl = drop_attributes(decl)
        if not decl:
            continue
        if decl[0] in ('struct', 'union') and '{' in decl:
            kind = decl[0]
            j = decl.index('{')
            end = match_close(decl, j)
            children = parse_members(decl[j + 1:end])
            rest = decl[end + 1:]
            declarators = [d for d in split_top(rest, ',') if d]
            if not declarators:
                members.append(Member(None, kind, None, [], children, False))
            for d in declarators:
                name, dims, bf = parse_declarator(d)
                members.append(Member(name, kind, None, dims, children, bf))
            continue
        chunks = split_top(decl, ',')
        # The first chunk is "type declarator"; the name is the identifier
        # in front of any "[", ":" or the end.
        first = chunks[0]
        stop = len(first)
        for idx, t in enumerate(first):
            if t in ('[', ':'):
                stop = idx
                break
        name_idx = stop - 1
        type_toks = first[:name_idx]
        stars = [t for t in type_toks if t == '*']
        base = [t for t in type_toks if t != '*']
        for n, chunk in enumerate(chunks):
            if n == 0:
                d = first[name_idx:]
                ptr = stars
            else:
                ptr = [t for t in chunk if t == '*']
                d = chunk
            name, dims, bf = parse_declarator(d)
            ttext = ' '.join(base + ptr)
            members.append(Member(name, 'scalar', ttext, dims, None, bf))
    return members


def member_paths(members, prefix=''):
    """Yield (path, Member) for every member reachable by name."""
    for m in members:
        if m.name is None:
            yield from member_paths(m.children, prefix)
            continue
        path = prefix + m.name
        yield path, m
        if m.children is not None:
            sub = path + '[0]' * len(m.dims) + '.'
            yield from member_paths(m.children, sub)


# -- renaming ------------------------------------------------------------

def rename_text(text, names, tags):
    """Return text with our identifiers prefixed, comments dropped."""
    text = strip_comments(text)
    out = []
    prev = None
    pos = 0
    for m in TOKEN_RE.finditer(text):
        if m.start() != pos:
            raise ParseError('cannot tokenize near %r' % text[pos:pos + 30])
        pos = m.end()
        tok = m.group()
        if m.lastgroup == 'ident':
            if prev in ('struct', 'union', 'enum'):
                if tok in tags:
                    tok = PREFIX + tok
            elif tok in names:
                tok = PREFIX + tok
        out.append(tok)
        if m.lastgroup != 'ws':
            prev = tok
    if pos != len(text):
        raise ParseError('cannot tokenize near %r' % text[pos:pos + 30])
    return ''.join(out)


def collect_ours(src_root, rel_paths):
    """Parse our headers plus every quoted #include they pull in."""
    todo = list(rel_paths)
    seen = {}
    while todo:
        rel = os.path.normpath(todo.pop())
        if rel in seen:
            continue
        full = os.path.join(src_root, rel)
        hdr = Header(full)
        seen[rel] = hdr
        for inc in hdr.includes:
            target = os.path.normpath(os.path.join(os.path.dirname(rel), inc))
            if target.startswith('..'):
                raise ParseError('%s includes "%s", outside %s' %
                                 (full, inc, src_root))
            todo.append(target)
    return seen


# -- checks and generation -----------------------------------------------

def is_int_constant(body, known):
    """True if a #define body is an integer constant expression built only
    from literals, operators, other known constants and _IO*() macros."""
    if not body:
        return False
    try:
        toks = tokenize(body)
    except ParseError:
        return False
    for t in toks:
        if is_ident(t):
            if t not in known and t not in IOCTL_MACROS:
                return False
        elif t[0] == '"':
            return False
        elif t[0] in '{}[];#.' and t != '...':
            return False
    return True


class Generator:
    def __init__(self):
        self.lines = []
        self.count = 0
        self.problems = []
        self.skipped = []
        self.known = set()

    def sa(self, expr, msg):
        msg = msg.replace('\\', '\\\\').replace('"', '\\"')
        self.lines.append('_Static_assert(%s,\n\t       "abi drift: %s");'
                          % (expr, msg))
        self.count += 1

    def compare(self, up, ours_all, label):
        """Emit asserts comparing upstream header up against the union of
        our headers ours_all (dict rel -> Header)."""
        o_macros = {}
        o_enumerators = {}
        o_aggs = {}
        o_enums = {}
        for h in ours_all.values():
            o_macros.update(h.macros)
            o_enumerators.update(h.enumerators)
            o_aggs.update(h.aggregates)
            o_enums.update(h.enums)

        self.lines.append('')
        self.lines.append('/* ---- %s ---- */' % label)

        # Structures and unions.
        for tag in up.agg_order:
            kind, members = up.aggregates[tag]
            if tag not in o_aggs:
                self.problems.append('%s %s: missing from our header'
                                     % (kind, tag))
                continue
            okind, omembers = o_aggs[tag]
            if okind != kind:
                self.problems.append('%s %s: ours is a %s' % (kind, tag, okind))
                continue
            up_t = '%s %s' % (kind, tag)
            our_t = '%s %s%s' % (kind, PREFIX, tag)
            ours_paths = dict(member_paths(omembers))
            self.lines.append('')
            self.sa('sizeof(%s) == sizeof(%s)' % (up_t, our_t),
                    '%s: sizeof differs' % up_t)
            self.sa('_Alignof(%s) == _Alignof(%s)' % (up_t, our_t),
                    '%s: alignment differs' % up_t)
            for path, m in member_paths(members):
                if path not in ours_paths:
                    self.problems.append('%s: member %s missing from our '
                                         'header' % (up_t, path))
                    continue
                if m.bitfield:
                    self.skipped.append('%s.%s (bit-field)' % (up_t, path))
                    continue
                ua = '((%s *)0)->%s' % (up_t, path)
                oa = '((%s *)0)->%s' % (our_t, path)
                self.sa('__builtin_offsetof(%s, %s) == '
                        '__builtin_offsetof(%s, %s)'
                        % (up_t, path, our_t, path),
                        '%s: offset of %s differs' % (up_t, path))
                self.sa('sizeof(%s) == sizeof(%s)' % (ua, oa),
                        '%s: size of %s differs' % (up_t, path))
                tt = m.type_text or ''
                if m.kind == 'scalar' and not re.search(
                        r'\b(struct|union|enum)\b', tt):
                    self.sa('__builtin_types_compatible_p('
                            '__typeof__(%s), __typeof__(%s))' % (ua, oa),
                            '%s: type of %s differs (upstream: %s%s)'
                            % (up_t, path, tt,
                               ''.join('[%s]' % d for d in m.dims)))

        # Named enums: presence, size and membership.
        for tag in up.enum_order:
            if tag not in o_enums:
                self.problems.append('enum %s: missing from our header' % tag)
                continue
            self.sa('sizeof(enum %s) == sizeof(enum %s%s)'
                    % (tag, PREFIX, tag), 'enum %s: sizeof differs' % tag)
            for name in up.enums[tag]:
                if name in o_enumerators and o_enumerators[name] != tag:
                    self.problems.append(
                        '%s: upstream puts it in enum %s, ours in %s'
                        % (name, tag, 'an anonymous enum'
                           if o_enumerators[name] is None
                           else 'enum ' + o_enumerators[name]))

        # Enumerators.
        known = self.known | set(up.macros) | set(up.enumerators)
        for name in up.enumerators:
            if name not in o_enumerators:
                where = ('a #define' if name in o_macros else 'missing')
                self.problems.append('enumerator %s: %s in our header'
                                     % (name, where))
                continue
            self.const_asserts(name, 'enumerator')

        # Object-like macros that are integer constants.
        for name, body in up.macros.items():
            if not is_int_constant(body, known):
                if body:
                    self.skipped.append('#define %s (not an integer '
                                        'constant)' % name)
                continue
            if name not in o_macros:
                where = ('an enumerator' if name in o_enumerators
                         else 'missing')
                self.problems.append('#define %s: %s in our header'
                                     % (name, where))
                continue
            self.const_asserts(name, '#define')
        for name in up.fn_macros:
            self.skipped.append('#define %s() (function-like)' % name)

    def const_asserts(self, name, what):
        # The casts keep -Wenum-compare quiet when comparing two enums.
        self.sa('(long long)(%s) == (long long)(%s%s)'
                % (name, PREFIX, name),
                '%s %s: value differs' % (what, name))
        self.sa('__builtin_types_compatible_p(__typeof__(%s), '
                '__typeof__(%s%s))' % (name, PREFIX, name),
                '%s %s: type differs' % (what, name))


# -- extensions ------------------------------------------------------------

EXT_RULES = {'cmd', 'ioctl', 'test_op', 'top_flag', 'own', 'const', 'later'}
EXT_CMD_FIRST, EXT_CMD_LAST = 0xc0, 0xff
EXT_TEST_OP_FIRST, EXT_TEST_OP_LAST = 0x1000, 0x1fff


def read_extensions(path):
    """NAME -> (rule, field or None) from an extensions list."""
    exts = {}
    with open(path, encoding='utf-8') as f:
        for num, line in enumerate(f, 1):
            words = line.split('#', 1)[0].split()
            if not words:
                continue
            where = '%s:%d' % (path, num)
            name, rule = words[0], words[1] if len(words) > 1 else ''
            field = ' '.join(words[2:]) or None
            if rule not in EXT_RULES:
                raise ParseError('%s: unknown rule %r' % (where, rule))
            if rule == 'later':
                # A constant of a later upstream kernel: its value there.
                if field is None or not re.match(r'^(0x[0-9a-fA-F]+|\d+)$',
                                                 field):
                    raise ParseError('%s: rule later needs upstream\'s '
                                     'value' % where)
            elif (field is None) != (rule not in ('top_flag', 'own')):
                raise ParseError('%s: rule %s %s a field' % (
                    where, rule, 'needs' if field is None else 'takes no'))
            if rule != 'later' and field is not None and not re.match(
                    r'^(struct|union) \w+\.[\w.]+$', field):
                raise ParseError('%s: field %r is not "struct S.member"'
                                 % (where, field))
            if name in exts:
                raise ParseError('%s: %s listed twice' % (where, name))
            exts[name] = (rule, field)
    return exts


def our_only_constants(ours_all, ups):
    """Integer constants (enumerators, #defines) of ours upstream lacks."""
    up_names = set()
    for up in ups:
        up_names |= set(up.macros) | set(up.enumerators)
    mine = set()
    for h in ours_all.values():
        mine |= set(h.macros) | set(h.enumerators)
    found = set()
    for h in ours_all.values():
        for name in h.enumerators:
            if name not in up_names:
                found.add(name)
        for name, body in h.macros.items():
            if name not in up_names and \
               is_int_constant(body, mine | up_names):
                found.add(name)
    return found


def check_extensions(gen, exts, ours_all, ups):
    """Emit the asserts of every rule; report what breaks the list."""
    found = our_only_constants(ours_all, ups)
    for name in sorted(found - set(exts)):
        gen.problems.append('%s: not upstream\'s and not listed in the '
                            'extensions list (give it a rule)' % name)
    for name in sorted(set(exts) - found):
        gen.problems.append('%s: listed as an extension but not an '
                            'extension constant of our headers' % name)
    up_aggs = {}
    for up in ups:
        up_aggs.update(up.aggregates)
    o_aggs = {}
    for h in ours_all.values():
        o_aggs.update(h.aggregates)

    gen.lines.append('')
    gen.lines.append('/* ---- extensions keep clear of upstream ---- */')
    # Upstream's own numbers stay below our ranges.
    for up in ups:
        for name in up.enumerators:
            if name.startswith('IOMMUFD_CMD_'):
                gen.sa('(%s) < %d' % (name, EXT_CMD_FIRST),
                       '%s reaches the extension commands' % name)
            elif name.startswith('IOMMU_TEST_OP_'):
                gen.sa('(%s) < %d' % (name, EXT_TEST_OP_FIRST),
                       '%s reaches the extension test ops' % name)
    for name in sorted(set(exts) & found):
        rule, field = exts[name]
        ours = PREFIX + name
        if rule == 'cmd':
            gen.sa('(%s) >= %d && (%s) <= %d' % (ours, EXT_CMD_FIRST, ours,
                                                 EXT_CMD_LAST),
                   '%s: extension commands take 0xc0..0xff' % name)
        elif rule == 'ioctl':
            gen.sa('_IOC_TYPE(%s) == %sIOMMUFD_TYPE && _IOC_DIR(%s) == '
                   '_IOC_NONE && _IOC_NR(%s) >= %d' %
                   (ours, PREFIX, ours, ours, EXT_CMD_FIRST),
                   '%s: extension ioctls are _IO(IOMMUFD_TYPE, 0xc0..0xff)'
                   % name)
        elif rule == 'test_op':
            gen.sa('(%s) >= %d && (%s) <= %d' % (ours, EXT_TEST_OP_FIRST,
                                                 ours, EXT_TEST_OP_LAST),
                   '%s: extension test ops take 0x1000..0x1fff' % name)
        elif rule in ('top_flag', 'own'):
            check_ext_field(gen, name, rule, field, up_aggs, o_aggs)
        elif rule == 'later':
            gen.sa('(long long)(%s) == (long long)(%s)' % (ours, field),
                   '%s: must keep the value later upstream gives it'
                   % name)


def check_ext_field(gen, name, rule, field, up_aggs, o_aggs):
    """A flag of a field: top byte of an upstream field, or a field of
    ours alone."""
    kind_tag, path = field.split('.', 1)
    kind, tag = kind_tag.split()
    if tag not in o_aggs or path not in dict(member_paths(o_aggs[tag][1])):
        gen.problems.append('%s: %s is not a field of our headers'
                            % (name, field))
        return
    upstream_field = tag in up_aggs and \
        path in dict(member_paths(up_aggs[tag][1]))
    if rule == 'own':
        if upstream_field:
            gen.problems.append('%s: %s is upstream\'s: an extension flag '
                                'there is a top_flag' % (name, field))
        return
    if not upstream_field:
        gen.problems.append('%s: %s is ours alone: list the flag as own'
                            % (name, field))
        return
    width = 'sizeof(((%s %s *)0)->%s) * 8' % (kind, tag, path)
    gen.sa('(unsigned long long)(%s%s) != 0 && '
           '((unsigned long long)(%s%s) & ~(0xffULL << (%s - 8))) == 0'
           % (PREFIX, name, PREFIX, name, width),
           '%s: an extension flag of the upstream field %s must take the top '
           'byte of the field (bit 31 downward for a __u32)'
           % (name, field))


def leaked_names(src_root, ours_all):
    """Upstream-looking identifiers one of our headers uses although
    neither it nor any header it includes (by quoted path) defines them."""
    leaks = set()
    for rel, h in ours_all.items():
        reach = collect_ours(src_root, [rel])
        names = set()
        tags = set()
        for r in reach:
            names |= ours_all[r].defined_names()
            tags |= ours_all[r].tags()
        toks = list(h.code_tokens)
        for line in h.directive_lines:
            m = re.match(r'#\s*(define|if|elif|ifdef|ifndef)\b(.*)$', line)
            if m:
                toks += tokenize(m.group(2))
        prev = None
        for t in toks:
            if prev in ('struct', 'union', 'enum'):
                if t not in tags and re.match(r'^_*iommu', t, re.I):
                    leaks.add((rel, 'tag ' + t))
            elif UAPI_NAME_RE.match(t) and t not in names:
                leaks.add((rel, t))
            prev = t
    return sorted(leaks)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--src-root', required=True,
                    help='root our header paths are relative to')
    ap.add_argument('--out-dir', required=True,
                    help='where the renamed copies (OUT/ours/...) go')
    ap.add_argument('--pair', action='append', required=True,
                    metavar='OURS_REL=UPSTREAM',
                    help='our header (relative to --src-root) and the '
                    'upstream header it must match')
    ap.add_argument('--extensions', metavar='FILE',
                    help='list of our extension constants and their rules '
                    '(tools/abi/extensions.txt)')
    ap.add_argument('-o', '--output',
                    help='C file to write (default OUT_DIR/abi_check.c)')
    args = ap.parse_args()

    src_root = os.path.abspath(args.src_root)
    out_dir = os.path.abspath(args.out_dir)
    output = args.output or os.path.join(out_dir, 'abi_check.c')

    pairs = []
    for p in args.pair:
        if '=' not in p:
            ap.error('--pair needs OURS_REL=UPSTREAM, got %r' % p)
        ours_rel, upstream = p.split('=', 1)
        pairs.append((os.path.normpath(ours_rel), os.path.abspath(upstream)))

    try:
        ours_all = collect_ours(src_root, [o for o, _ in pairs])
        names = set()
        tags = set()
        for h in ours_all.values():
            names |= h.defined_names()
            tags |= h.tags()

        leaks = leaked_names(src_root, ours_all)
        if leaks:
            for rel, what in leaks:
                print('abi: %s uses %s, but neither it nor a header it '
                      'includes by quoted path defines it' % (rel, what),
                      file=sys.stderr)
            return 1

        # Renamed copies of our headers, same layout as in the tree.
        for rel, h in ours_all.items():
            dst = os.path.join(out_dir, 'ours', rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, 'w', encoding='utf-8') as f:
                f.write('/* Generated by gen_abi_check.py from %s */\n'
                        % os.path.join(src_root, rel))
                f.write(rename_text(h.raw, names, tags))

        gen = Generator()
        ups = [Header(upstream) for _, upstream in pairs]
        # Constants of any upstream header may appear in another's macros
        # (the test header builds IOMMU_TEST_CMD from IOMMUFD_TYPE).
        for up in ups:
            gen.known |= set(up.macros) | set(up.enumerators)
        for (ours_rel, upstream), up in zip(pairs, ups):
            # Compare against all of our headers reachable from this one.
            reach = collect_ours(src_root, [ours_rel])
            gen.compare(up, {r: ours_all[r] for r in reach},
                        '%s vs %s' % (ours_rel, upstream))
        if args.extensions:
            check_extensions(gen, read_extensions(args.extensions),
                             ours_all, ups)
    except (ParseError, OSError) as e:
        print('abi: %s' % e, file=sys.stderr)
        return 1

    if gen.problems:
        for p in gen.problems:
            print('abi: %s' % p, file=sys.stderr)
        print('abi: %d problem(s): declarations of the upstream header(s) '
              'missing or misplaced in ours, or extensions that break '
              'their rule' % len(gen.problems), file=sys.stderr)
        return 1

    with open(output, 'w', encoding='utf-8') as f:
        f.write('// SPDX-License-Identifier: GPL-2.0\n')
        f.write('/* Generated by gen_abi_check.py; do not edit. */\n')
        f.write('/* %d static asserts */\n' % gen.count)
        for s in gen.skipped:
            f.write('/* not compared: %s */\n' % s)
        f.write('#include <linux/types.h>\n')
        for _, upstream in pairs:
            f.write('#include "%s"\n' % upstream)
        for ours_rel, _ in pairs:
            f.write('#include "%s"\n'
                    % os.path.join(out_dir, 'ours', ours_rel))
        f.write('\n'.join(gen.lines))
        f.write('\n')
    print('gen_abi_check: %d asserts written to %s' % (gen.count, output))
    return 0


if __name__ == '__main__':
    sys.exit(main())
