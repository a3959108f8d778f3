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

for kver in "$@"; do
	[ "$real_only" = 1 ] && break
	echo "=== suites on $kver"
	"$ROOT/tools/vm/run-vm.sh" --kver "$kver" --mode check \
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
		"$ROOT/tools/vm/run-vm.sh" --kver "$kver" --mode check \
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
	"$ROOT/tools/pkg/check.sh" "$@" || status=1
	add_results "$ROOT/build/pkg-check/results" || status=1
fi

[ "$failed" -eq 0 ] || status=1
echo "check: $passed passed, $failed failed, $skipped skipped"
exit $status
