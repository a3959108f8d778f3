#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge a guest console log from run-vm.sh.

Counts the TAP results of every suite, checks that each suite began and
ended, and looks for kernel trouble. With --boot-trouble LOG it only says
(exit 0) whether the kernel reported trouble before /init ran. Prints one closing line
"LABEL: N passed, N failed, N skipped" and writes the counts to --results
so that check.sh can add up several VM runs. Exit status 0 only when the
run is clean.
"""
import argparse
import re
import sys

# Kernel reports that fail a run wherever they appear in the guest log.
KERNEL_TROUBLE = [
    r"WARNING: CPU: ", r"WARNING: .* at ", r"\bBUG: ", r"kernel BUG at",
    r"\bOops\b", r"general protection fault", r"soft lockup",
    r"hard LOCKUP", r"rcu: INFO: .* stall", r"INFO: task .* blocked for",
    r"refcount_t: ", r"list_add corruption", r"list_del corruption",
    r"UBSAN: ", r"KASAN: ", r"kmemleak: .* new suspected",
    r"Kernel panic", r"possible circular locking", r"lock held when",
    r"unreferenced object 0x", r"possible recursive locking",
    r"inconsistent lock state", r"suspicious RCU usage",
    r"Call Trace:",
]
TROUBLE_RE = re.compile("|".join(KERNEL_TROUBLE))
RESULT_RE = re.compile(r"^(not ok|ok) \d+ ")
PLAN_RE = re.compile(r"^1\.\.(\d+)$")
SKIP_RE = re.compile(r"#\s*SKIP", re.IGNORECASE)


class Suite:
    def __init__(self, name):
        self.name = name
        self.began = False
        self.rc = None
        self.planned = None
        self.passed = self.failed = self.skipped = 0

    def results(self):
        return self.passed + self.failed + self.skipped


def parse(lines, suites):
    current = None
    trouble = []
    flags = {"done": False, "insmod_fail": [], "rmmod_fail": []}
    for line in lines:
        if TROUBLE_RE.search(line):
            trouble.append(line)
        m = re.match(r"^IOMMUFD-SUITE-BEGIN (\S+)", line)
        if m and m.group(1) in suites:
            current = suites[m.group(1)]
            current.began = True
            continue
        m = re.match(r"^IOMMUFD-SUITE-END (\S+) rc=(\d+)", line)
        if m and m.group(1) in suites:
            suites[m.group(1)].rc = int(m.group(2))
            current = None
            continue
        m = re.match(r"^IOMMUFD-(INSMOD|RMMOD) variant=(\S+) rc=(\d+)", line)
        if m and m.group(3) != "0":
            flags[m.group(1).lower() + "_fail"].append(line)
        if line.startswith("IOMMUFD-DONE"):
            flags["done"] = True
        if current is None:
            continue
        m = PLAN_RE.match(line)
        if m and current.planned is None:
            current.planned = int(m.group(1))
        m = RESULT_RE.match(line)
        if not m:
            continue
        if m.group(1) == "not ok":
            current.failed += 1
        elif SKIP_RE.search(line):
            current.skipped += 1
        else:
            current.passed += 1
    return trouble, flags


def boot_trouble(lines):
    """Kernel trouble before /init started: the boot, not the module."""
    found = []
    for line in lines:
        if line.startswith("IOMMUFD-INIT"):
            break
        if TROUBLE_RE.search(line):
            found.append(line)
    return found


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--boot-trouble":
        with open(sys.argv[2], errors="replace") as f:
            found = boot_trouble(l.rstrip("\n") for l in f)
        for line in found[:3]:
            print("#   " + line.strip())
        return 0 if found else 1
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", required=True)
    ap.add_argument("--suites", required=True)
    ap.add_argument("--qemu-rc", type=int, required=True)
    ap.add_argument("--results")
    ap.add_argument("log")
    args = ap.parse_args()

    suites = {}
    with open(args.suites) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                name = "%s@%s" % (parts[1], parts[0])
                suites[name] = Suite(name)
    with open(args.log, errors="replace") as f:
        lines = [l.rstrip("\n") for l in f]
    trouble, flags = parse(lines, suites)

    problems = []
    if args.qemu_rc == 124 or args.qemu_rc == 137:
        problems.append("timeout: the guest did not finish in time")
    elif args.qemu_rc != 0:
        problems.append("qemu exited with status %d" % args.qemu_rc)
    if not flags["done"]:
        problems.append("the guest never reached the end of its script")
    for line in flags["insmod_fail"] + flags["rmmod_fail"]:
        problems.append("module load/unload failed: " + line)
    for s in suites.values():
        if not s.began:
            problems.append("suite %s: never started" % s.name)
        elif s.rc is None:
            problems.append("suite %s: no end (crashed or hung)" % s.name)
        elif s.rc != 0 and s.failed == 0:
            problems.append("suite %s: exit status %d" % (s.name, s.rc))
        if s.began and s.planned is None:
            problems.append("suite %s: no TAP plan" % s.name)
        elif s.planned is not None and s.results() != s.planned:
            problems.append("suite %s: %d of %d results missing" %
                            (s.name, s.planned - s.results(), s.planned))
    for line in trouble:
        problems.append("kernel: " + line.strip())

    passed = sum(s.passed for s in suites.values())
    failed = sum(s.failed for s in suites.values())
    skipped = sum(s.skipped for s in suites.values())
    # Anything wrong outside a TAP result still counts as a failure.
    failed_total = failed + (1 if problems and failed == 0 else 0)
    for p in problems:
        print("# %s: %s" % (args.label, p))
    print("%s: %d passed, %d failed, %d skipped" %
          (args.label, passed, failed_total, skipped))
    if args.results:
        with open(args.results, "w") as f:
            f.write("%d %d %d\n" % (passed, failed_total, skipped))
    return 1 if (failed or problems) else 0


if __name__ == "__main__":
    sys.exit(main())
