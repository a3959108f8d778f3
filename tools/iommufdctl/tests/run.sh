#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The iommufdctl suite: runs each case through iommufdctl and compares
# what it printed and its exit status with what is expected; prints TAP.
# Runs in the VM (busybox sh), with iommufdctl and its test helpers on
# PATH and /dev/iommu there.
#
#   run.sh [DIR]
#
# A case is two files. NAME.cmds is an iommufdctl script; NAME.expected
# is its output, stdout then stderr interleaved as a terminal shows them,
# followed by a line "exit N" with the exit status (a first line
# "# SPDX-..." is not part of it). Buffer addresses vary, so
# "addr=0x..." reads "addr=ADDR" in the output. Lines of NAME.cmds that
# start with "#@" say how to run it:
#
#   #@ args: ARGS    more arguments, shell-quoted, before "-f NAME.cmds"
#   #@ stdin         the script comes on stdin instead of -f
#   #@ pty           typed at the prompt on a terminal (iommufdctl-pty),
#                    "#" lines left out
#   #@ json          with --json, and stdout goes through
#                    iommufdctl-json-check, which parses each JSON object
#                    and prints it flattened
#   #@ build: B      only on the test or the release build of the module
#   #@ needs: edu    only with an edu device bound to vfio-pci (edu2:
#                    two of them); their addresses are in $EDU0 and
#                    $EDU1 (for "#@ args:"), and read "EDU0" and "EDU1"
#                    in the output, as IOMMU group numbers read
#                    "iommu_group=G"
#   #@ filter: SED   a sed expression applied to the output, for what
#                    the kernel or the machine decides (page sizes)
#
# DIR is where the cases are. Without it: the cases appended to this
# file after "#__CASES__" (the installed suite, see the Makefile), or
# else the directory of this script.

tmp=$(mktemp -d /tmp/iommufdctl-tests.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

if [ -n "$1" ]; then
	dir=$1
elif grep -q '^#__CASES__$' "$0"; then
	dir=$tmp/cases
	mkdir "$dir"
	awk -v dir="$dir" '
		/^#__CASES__$/ { cases = 1; next }
		cases && /^#__FILE__ / { out = dir "/" $2; printf "" > out; next }
		out { print > out }
	' "$0"
else
	dir=$(dirname "$0")
fi

echo "TAP version 13"
if ! command -v iommufdctl >/dev/null; then
	echo "Bail out! iommufdctl is not on PATH"
	exit 1
fi
# The VM's /init mounts no devpts, which terminals need.
if [ ! -e /dev/pts/ptmx ]; then
	mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
fi
# A release build has no test commands: the CLI says ENOTTY.
if iommufdctl 'expect ENOTTY access create 0' >/dev/null 2>&1; then
	build=release
else
	build=test
fi

# QEMU's edu devices bound to vfio-pci, for the real-device cases
# (tools/iommufdctl/tests/vfio, run in the --iommu boots).
EDU0=
EDU1=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor" 2>/dev/null)" = 0x1234 ] || continue
	[ "$(cat "$d/device" 2>/dev/null)" = 0x11e8 ] || continue
	[ "$(basename "$(readlink "$d/driver")")" = vfio-pci ] || continue
	if [ -z "$EDU0" ]; then
		EDU0=$(basename "$d")
	elif [ -z "$EDU1" ]; then
		EDU1=$(basename "$d")
	fi
done
export EDU0 EDU1

# Why case $1 cannot run here, or nothing.
missing() {
	case "$(sed -n 's/^#@ needs: //p' "$dir/$1.cmds")" in
	edu) [ -n "$EDU0" ] || echo "needs an edu device bound to vfio-pci" ;;
	edu2) [ -n "$EDU1" ] || echo "needs two edu devices bound to vfio-pci" ;;
	esac
}

# Run case $1 in $dir; its output, then "exit N", into $tmp/out.
run_case() {
	name=$1
	eval "set -- $(sed -n 's/^#@ args: //p' "$name.cmds")"
	if grep -q '^#@ pty' "$name.cmds"; then
		{
			grep -v '^#' "$name.cmds" |
				iommufdctl-pty 'iommufd> ' iommufdctl "$@"
			echo $? > "$tmp/rc"
		} | tr -d '\r' > "$tmp/out"
		rc=$(cat "$tmp/rc")
	elif grep -q '^#@ json' "$name.cmds"; then
		iommufdctl --json "$@" -f "$name.cmds" > "$tmp/json" 2> "$tmp/err"
		rc=$?
		iommufdctl-json-check < "$tmp/json" > "$tmp/out" 2>&1
		cat "$tmp/err" >> "$tmp/out"
	elif grep -q '^#@ stdin' "$name.cmds"; then
		iommufdctl "$@" < "$name.cmds" > "$tmp/out" 2>&1
		rc=$?
	else
		iommufdctl "$@" -f "$name.cmds" > "$tmp/out" 2>&1
		rc=$?
	fi
	echo "exit $rc" >> "$tmp/out"
}

n=0
failed=0
cases=$(cd "$dir" && ls *.cmds | sed 's/\.cmds$//')
echo "1..$(echo "$cases" | wc -w)"
for name in $cases; do
	n=$((n + 1))
	want=$(sed -n 's/^#@ build: //p' "$dir/$name.cmds")
	if [ -n "$want" ] && [ "$want" != "$build" ]; then
		echo "ok $n $name # SKIP needs the $want build"
		continue
	fi
	why=$(missing "$name")
	if [ -n "$why" ]; then
		echo "ok $n $name # SKIP $why"
		continue
	fi
	(cd "$dir" && run_case "$name")
	sed -i -e 's/addr=0x[0-9a-f]*/addr=ADDR/g' \
	       -e 's/addr="0x[0-9a-f]*"/addr="ADDR"/g' \
	       -e 's/iommu_group=[0-9]*/iommu_group=G/g' "$tmp/out"
	for e in EDU0 EDU1; do
		eval "a=\$$e"
		[ -n "$a" ] && sed -i "s/$a/$e/g" "$tmp/out"
	done
	sed -n 's/^#@ filter: //p' "$dir/$name.cmds" > "$tmp/filter"
	[ -s "$tmp/filter" ] && sed -i -f "$tmp/filter" "$tmp/out"
	grep -v '^# SPDX-License-Identifier' "$dir/$name.expected" \
		> "$tmp/expected" 2>/dev/null
	if diff -u "$tmp/expected" "$tmp/out" > "$tmp/diff"; then
		echo "ok $n $name"
	else
		echo "not ok $n $name"
		sed 's/^/# /' "$tmp/diff"
		failed=$((failed + 1))
	fi
done
[ "$failed" -eq 0 ] && exit 0
exit 1
