#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the test VM: mount the basics, load the module, then run the
# suites, the demo or a benchmark, as the kernel command line says.
# Every line the host runner parses starts with "IOMMUFD-".

/bin/busybox --install -s /bin
export PATH=/bin:/tests:/tools
mkdir -p /proc /sys /dev /tmp /mnt/huge
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

arg() { sed -n "s/.*iommufd\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
mode=$(arg mode)
interactive=$(arg interactive)

# Report a stuck task well inside the host's timeout.
echo 30 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null

# Leaks from before the module existed are not ours: forget them.
[ -w /sys/kernel/debug/kmemleak ] && echo clear > /sys/kernel/debug/kmemleak

echo "IOMMUFD-INIT kernel=$(uname -r) mode=$mode"

# The module of each build: the test build is a module of its own name,
# so that it is never loaded where the release one is meant.
module_name() {
	case "$1" in
	test) echo iommufd_oot_test ;;
	*) echo iommufd_oot ;;
	esac
}

loaded=
unload_module() {
	# The VFIO backend uses the core: it goes first.
	vfio_backend_unload
	rmmod "$(module_name "$loaded")"
	echo "IOMMUFD-RMMOD variant=$loaded rc=$?"
	loaded=
}

load_module() {
	[ "$loaded" = "$1" ] && return 0
	[ -n "$loaded" ] && unload_module
	insmod "/lib/iommufd/$1/$(module_name "$1").ko"
	rc=$?
	echo "IOMMUFD-INSMOD variant=$1 rc=$rc"
	loaded=$1
	return $rc
}

# The VFIO backend of the test build, on top of VFIO (vfio_setup). $1 =
# yes: vfio_iommu_type1 is loaded first, as modprobe's soft dependency
# would; no: it is not loaded at all. Either way ours registers last, so
# VFIO asks it first.
vfio_backend=
vfio_backend_load() {
	vfio_backend_unload
	if [ "$1" = yes ]; then
		vfio_setup yes || return 1
	else
		grep -q '^vfio_iommu_type1 ' /proc/modules &&
			{ rmmod vfio_iommu_type1 || return 1; }
		vfio_setup no || return 1
	fi
	[ -n "$IOMMUFD_VFIO_GROUP" ] || return 1
	insmod /lib/iommufd/test/iommufd_oot_test_vfio.ko || return 1
	vfio_backend=iommufd_oot_test_vfio
	echo "IOMMUFD-VFIO backend loaded, type1 $1"
}

vfio_backend_unload() {
	[ -n "$vfio_backend" ] || return 0
	rmmod "$vfio_backend"
	echo "IOMMUFD-RMMOD vfio backend rc=$?"
	vfio_backend=
}

# suites.list variants: "test" and "release" name the module build;
# "uring" is the test build with every command sent through io_uring;
# "vfio" and "vfio-type1" the test build with the VFIO backend, without
# and with vfio_iommu_type1 loaded before it.
run_suites() {
	while read -r variant suite; do
		[ -n "$suite" ] || continue
		echo "IOMMUFD-SUITE-BEGIN $suite@$variant"
		module=$variant
		case "$variant" in
		uring|vfio|vfio-type1) module=test ;;
		esac
		if load_module "$module"; then
			rc=0
			case "$variant" in
			vfio) vfio_backend_load no || rc=255 ;;
			vfio-type1) vfio_backend_load yes || rc=255 ;;
			esac
			if [ $rc = 0 ]; then
				case "$variant" in
				release) IOMMUFD_EXPECT_RELEASE=1 "/tests/$suite" ;;
				uring) IOMMUFD_TEST_SUBMIT=uring "/tests/$suite" ;;
				vfio-type1) IOMMUFD_VFIO_TYPE1_LOADED=1 "/tests/$suite" ;;
				*) "/tests/$suite" ;;
				esac
				rc=$?
			fi
			vfio_backend_unload
		else
			rc=255
		fi
		echo "IOMMUFD-SUITE-END $suite@$variant rc=$rc"
	done < /tests/suites.list
}

# A kernel with kmemleak (the debug build): scan twice once the suites
# are done, so leaks they caused show up in the log the runner judges.
kmemleak_report() {
	[ -w /sys/kernel/debug/kmemleak ] || return 0
	echo scan > /sys/kernel/debug/kmemleak
	sleep 5
	echo scan > /sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak
	echo "IOMMUFD-KMEMLEAK-DONE"
}

# The peer for make bench, and the VFIO backend's device: QEMU's edu
# device behind emulated VT-d, bound to vfio-pci, its group handed to the
# benchmark and the suites. Modules already loaded are kept. $1 = no:
# leave vfio_iommu_type1 out.
vfio_setup() {
	for m in irqbypass vfio vfio_virqfd vfio_iommu_type1 vfio-pci-core \
		 vfio-pci; do
		[ "$m" = vfio_iommu_type1 ] && [ "$1" = no ] && continue
		# Only 6.1 has virqfd as a module of its own.
		[ "$m" = vfio_virqfd ] && [ ! -f "/lib/vfio/$m.ko" ] && continue
		[ -f "/lib/vfio/$m.ko" ] || return 0
		grep -q "^$(echo "$m" | tr - _) " /proc/modules && continue
		insmod "/lib/vfio/$m.ko" || return 0
	done
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1234 ] || continue
		[ "$(cat "$d/device")" = 0x11e8 ] || continue
		group=$(basename "$(readlink "$d/iommu_group")")
		export IOMMUFD_BENCH_VFIO_GROUP=/dev/vfio/$group
		export IOMMUFD_VFIO_GROUP=/dev/vfio/$group
		[ -e "$d/driver" ] && continue
		echo vfio-pci > "$d/driver_override"
		basename "$d" > /sys/bus/pci/drivers_probe
		echo "IOMMUFD-VFIO edu $(basename "$d") group $group"
	done
}

case "$mode" in
check)
	run_suites
	[ -n "$loaded" ] && unload_module
	kmemleak_report
	;;
run)
	load_module test
	[ -x /tools/demo.sh ] && /tools/demo.sh
	echo "IOMMUFD-DEMO-END rc=$?"
	if [ "$interactive" = 1 ]; then
		echo "Shell in the VM; /dev/iommu is live. 'poweroff -f' or Ctrl-D leaves."
		setsid cttyhack sh -l
	fi
	;;
bench)
	load_module test
	vfio_setup
	# bench_only=rates: only the operation-rate rows of ops_bench.
	only=$(arg bench_only)
	rc=0
	if [ -z "$only" ]; then
		/tools/iommufd_bench
		rc=$?
	fi
	IOMMUFD_BENCH_ONLY=$only /tools/iommufd_ops_bench
	rc2=$?
	[ $rc -eq 0 ] && rc=$rc2
	echo "IOMMUFD-BENCH-END rc=$rc"
	;;
fuzz)
	# make fuzz: the regression seeds, then a fresh seed for a long run.
	load_module test
	secs=$(arg fuzz_seconds)
	FUZZ_SECONDS=${secs:-300} /tests/iommufd_fuzz_bounded
	echo "IOMMUFD-FUZZ-END rc=$?"
	;;
*)
	echo "IOMMUFD-ERROR unknown mode '$mode'"
	;;
esac

[ -n "$loaded" ] && unload_module
echo "IOMMUFD-DONE"
sync
poweroff -f
