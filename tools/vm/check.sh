#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every suite in the VM on each kernel given, the real-device
# suites in their own boots, the runner's own check, then the packages
# from build to purge (tools/pkg/check.sh). Prints the totals in one
# closing line and fails if anything failed anywhere.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
status=0
passed=0 failed=0 skipped=0
real_only=0
if [ "${1:-}" = --real-devices ]; then
	real_only=1
	shift
fi

add_results() {
	local p f s
	read -r p f s < "$1" || return
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

# The guest needs about five minutes on an idle two-core machine; the
# limit leaves room for a loaded one (a hang still ends the run).
VM_TIMEOUT=${IOMMUFD_CHECK_TIMEOUT:-1800}

# Every stage's output also goes to one log, so that the closing lines
# can repeat what failed: CI shows the end of the output only.
LOG=$ROOT/build/check.log
mkdir -p "$ROOT/build"
: > "$LOG"
stage() {
	"$@" 2>&1 | tee -a "$LOG"
	return "${PIPESTATUS[0]}"
}

# The failed TAP results and the runner's complaints ("# LABEL: why"),
# with the per-run totals that had a failure.
summarise_failures() {
	echo "=== what failed (full output: build/check.log)"
	grep -E '^[[:space:]]*not ok |^# (vm|vfio|pkg)-[^ ]+: |^[^ #]+: [0-9]+ passed, [1-9][0-9]* failed' \
		"$LOG" | grep -v -E '# (SKIP|TODO)|^# (PASSED|Totals): ' |
		tail -n 40
}

for kver in "$@"; do
	[ "$real_only" = 1 ] && break
	echo "=== suites on $kver"
	stage "$ROOT/tools/vm/run-vm.sh" --kver "$kver" --mode check \
		--timeout "$VM_TIMEOUT" --label "vm-$kver" || status=1
	add_results "$ROOT/build/vm/vm-$kver/results" || status=1
done

# The real-device suites: QEMU's edu devices through VFIO, behind
# emulated VT-d on every kernel and behind virtio-iommu where the kernel
# has its driver (Debian's 6.1 has none).
for kver in "$@"; do
	for iommu in intel virtio; do
		label=vfio-$iommu-$kver
		if [ "$iommu" = virtio ] &&
		   ! grep -q '/virtio-iommu\.ko' "/lib/modules/$kver/modules.dep"; then
			echo "=== $label: skipped, $kver has no virtio-iommu driver"
			continue
		fi
		echo "=== real-device suites on $kver with $iommu IOMMU"
		stage "$ROOT/tools/vm/run-vm.sh" --kver "$kver" --mode check \
			--iommu "$iommu" --timeout "$VM_TIMEOUT" \
			--label "$label" || status=1
		add_results "$ROOT/build/vm/$label/results" || status=1
	done
done

if [ "$real_only" = 0 ]; then
	echo "=== runner check on $1"
	"$ROOT/tools/vm/runner-selfcheck.sh" "$1" || status=1
	add_results "$ROOT/build/vm/runner-selfcheck.results" || status=1

	echo "=== packages: build, install, DKMS, VM, purge"
	stage "$ROOT/tools/pkg/check.sh" "$@" || status=1
	add_results "$ROOT/build/pkg-check/results" || status=1
fi

[ "$failed" -eq 0 ] || status=1
[ "$status" = 0 ] || summarise_failures
echo "check: $passed passed, $failed failed, $skipped skipped"
exit $status
