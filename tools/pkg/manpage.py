#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn a Documentation/*.rst command page into rst2man's input.

The page is written for Sphinx: a title, then a NAME section whose one
paragraph is "NAME - WHAT". rst2man makes the NAME section itself, from
the title and a subtitle, and takes the section number from docinfo
fields. So the NAME section becomes a subtitle and docinfo fields follow
the title; the rest passes through unchanged. Prints to stdout.
"""
import argparse
import re
import sys


def to_man_source(text, version):
    name = re.search(r"^NAME\n=+\n\n(\S+) - (.+)\n(?:\n|\Z)", text, re.M)
    if not name:
        sys.exit("manpage: no 'NAME' section with 'NAME - WHAT' in it")
    command, what = name.group(1), name.group(2)
    text = text[:name.start()] + text[name.end():]

    title = re.search(r"^(=+)\n" + re.escape(command) + r"\n=+\n", text, re.M)
    if not title:
        sys.exit(f"manpage: no title '{command}' above the NAME section")
    rule = "-" * len(what)
    header = (f"\n{rule}\n{what}\n{rule}\n\n"
              f":Manual section: 1\n"
              f":Manual group: iommufd-oot\n"
              f":Version: {version}\n")
    return text[:title.end()] + header + text[title.end():]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", required=True)
    parser.add_argument("rst")
    args = parser.parse_args()
    with open(args.rst, encoding="utf-8") as f:
        sys.stdout.write(to_man_source(f.read(), args.version))


if __name__ == "__main__":
    main()
