#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every suite in the VM on each kernel given, the runner's own
# check, then the packages from build to purge (tools/pkg/check.sh).
# Prints the totals in one closing line and fails if anything failed
# anywhere.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
status=0
passed=0 failed=0 skipped=0

add_results() {
	local p f s
	read -r p f s < "$1" || return
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

# The guest needs about five minutes on an idle two-core machine; the
# limit leaves room for a loaded one (a hang still ends the run).
VM_TIMEOUT=${IOMMUFD_CHECK_TIMEOUT:-1800}

for kver in "$@"; do
	echo "=== suites on $kver"
	"$ROOT/tools/vm/run-vm.sh" --kver "$kver" --mode check \
		--timeout "$VM_TIMEOUT" --label "vm-$kver" || status=1
	add_results "$ROOT/build/vm/vm-$kver/results" || status=1
done

echo "=== runner check on $1"
"$ROOT/tools/vm/runner-selfcheck.sh" "$1" || status=1
add_results "$ROOT/build/vm/runner-selfcheck.results" || status=1

echo "=== packages: build, install, DKMS, VM, purge"
"$ROOT/tools/pkg/check.sh" "$@" || status=1
add_results "$ROOT/build/pkg-check/results" || status=1

[ "$failed" -eq 0 ] || status=1
echo "check: $passed passed, $failed failed, $skipped skipped"
exit $status
