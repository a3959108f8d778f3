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

# rmmod, tried again for a while when the module is still in use: a
# suite's io_uring rings end in a kernel worker after the suite exits,
# and hold the /dev/iommu file (so the module) until then. A reference
# that outlives the wait is a leak and fails the run.
rmmod_settled() {
	tries=0
	while ! rmmod "$1" 2>/dev/null; do
		tries=$((tries + 1))
		if [ $tries -ge 20 ]; then
			rmmod "$1"
			return
		fi
		sleep 1
	done
	[ $tries = 0 ] || echo "IOMMUFD-RMMOD-WAITED $1 ${tries}s"
	return 0
}

loaded=
unload_module() {
	rmmod_settled "$(module_name "$loaded")"
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

# suites.list variants: "test" and "release" name the module build;
# "uring" is the test build with every command sent through io_uring.
# "vfio-type1", "vfio-oot" and "vfio-both" (real-device boots) name the
# VFIO IOMMU backends loaded while the suite runs (vfio_backends below),
# ours as the release pair (iommufd_oot.ko, iommufd_oot_vfio.ko);
# "vfio-oot-test" and "vfio-both-test" the same with the test pair
# (iommufd_oot_test.ko, iommufd_oot_test_vfio.ko: its debugfs
# iova_to_phys lets a suite look into the real domain).
run_suites() {
	while read -r variant suite; do
		[ -n "$suite" ] || continue
		echo "IOMMUFD-SUITE-BEGIN $suite@$variant"
		case "$variant" in
		vfio-*)
			vfio_backends "${variant#vfio-}"
			rc=$?
			;;
		*)
			# Our backend lives on the release build: it goes first.
			vfio_backends none
			rc=$?
			module=$variant
			[ "$variant" = uring ] && module=test
			[ $rc = 0 ] && load_module "$module"
			rc=$?
			;;
		esac
		if [ $rc = 0 ]; then
			case "$variant" in
			release) IOMMUFD_EXPECT_RELEASE=1 "/tests/$suite" ;;
			uring) IOMMUFD_TEST_SUBMIT=uring "/tests/$suite" ;;
			vfio-*) IOMMUFD_EDU_EXPECT_MODULE=$vfio_serving \
				IOMMUFD_EDU_MSI_ISOLATED=$msi_isolated \
				IOMMUFD_VFIO_TYPE1_LOADED=$type1_loaded \
				"/tests/$suite" ;;
			*) "/tests/$suite" ;;
			esac
			rc=$?
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

# insmod, said in the log the runner judges (a failure fails the run).
insmod_logged() {
	insmod "$@"
	rc=$?
	echo "IOMMUFD-INSMOD variant=$(basename "$1" .ko) rc=$rc"
	return $rc
}

rmmod_logged() {
	rmmod_settled "$1"
	rc=$?
	echo "IOMMUFD-RMMOD variant=$1 rc=$rc"
	return $rc
}

# QEMU's edu devices behind the emulated IOMMU, bound to vfio-pci: the
# benchmark's VFIO peer, and the devices of the real-device suites. The
# IOMMU driver comes first when it is a module (virtio-iommu), so that
# each device has its group by the time vfio-pci binds it.
vfio_ready=
vfio_setup() {
	[ -n "$vfio_ready" ] && return 0
	[ -f /lib/vfio/vfio.order ] || return 1
	for m in $(cat /lib/vfio/iommu.order /lib/vfio/vfio.order \
		   /lib/vfio/mdev.order 2>/dev/null); do
		insmod_logged "/lib/vfio/$m.ko" || return 1
	done
	n=0
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1234 ] || continue
		[ "$(cat "$d/device")" = 0x11e8 ] || continue
		echo vfio-pci > "$d/driver_override"
		basename "$d" > /sys/bus/pci/drivers_probe
		group=$(basename "$(readlink "$d/iommu_group")")
		if [ -z "$group" ] || [ ! -e "/dev/vfio/$group" ]; then
			echo "IOMMUFD-ERROR edu $(basename "$d") not bound to vfio-pci"
			return 1
		fi
		# The last edu's group: the benchmark's peer, and the
		# group of the suites that use one (iommufd_vfio_backend).
		export IOMMUFD_BENCH_VFIO_GROUP=/dev/vfio/$group
		export IOMMUFD_VFIO_GROUP=/dev/vfio/$group
		echo "IOMMUFD-VFIO edu $(basename "$d") group $group"
		n=$((n + 1))
	done
	[ $n -gt 0 ] || { echo "IOMMUFD-ERROR no edu device"; return 1; }
	vfio_ready=1
}

# The VFIO IOMMU backends of a real-device suite: "type1" (stock
# vfio_iommu_type1 alone), "oot" (ours alone), "both" (type1 first, then
# ours, modprobe's order: ours must be the one chosen) or "none"; with
# "-test" ours is the test pair, else the release pair. The last one
# registered is asked first, so ours is unloaded before type1 is loaded.
# Sets vfio_serving to the module that must serve the suite's
# containers. virtio-iommu remaps no interrupts: both backends are told
# to accept that there, and the suite is told (msi_isolated) so that it
# can check the refusal without it.
type1_loaded=0
oot_loaded=
vfio_serving=
vfio_backends() {
	want_type1=0
	want_oot=
	build=release
	case "$1" in
	*-test) build=test ;;
	esac
	case "${1%-test}" in
	type1) want_type1=1 ;;
	oot) want_oot=$build ;;
	both) want_type1=1; want_oot=$build ;;
	none) ;;
	*) echo "IOMMUFD-ERROR unknown VFIO backends '$1'"; return 1 ;;
	esac
	unsafe=
	msi_isolated=1
	if [ "$(arg iommu)" = virtio ]; then
		unsafe=allow_unsafe_interrupts=1
		msi_isolated=0
	fi
	if [ -n "$oot_loaded" ] && { [ "$want_oot" != "$oot_loaded" ] ||
	   { [ $want_type1 = 1 ] && [ $type1_loaded = 0 ]; }; }; then
		rmmod_logged "$(module_name "$oot_loaded")_vfio" || return 1
		oot_loaded=
	fi
	if [ $type1_loaded = 1 ] && [ $want_type1 = 0 ]; then
		rmmod_logged vfio_iommu_type1 || return 1
		type1_loaded=0
	fi
	[ "$1" = none ] && return 0
	vfio_setup || return 1
	if [ $want_type1 = 1 ] && [ $type1_loaded = 0 ]; then
		insmod_logged /lib/vfio/vfio_iommu_type1.ko $unsafe || return 1
		type1_loaded=1
	fi
	vfio_serving=vfio_iommu_type1
	[ -n "$want_oot" ] || return 0
	vfio_serving=$(module_name "$want_oot")_vfio
	[ "$oot_loaded" = "$want_oot" ] && return 0
	load_module "$want_oot" || return 1
	insmod_logged "/lib/iommufd/$want_oot/$vfio_serving.ko" $unsafe ||
		return 1
	oot_loaded=$want_oot
}

# Our VFIO backend beside type1 on the same device: ours loaded second
# with type1=0, so that TYPE1v2 still selects type1 and our own type
# number selects ours (iommufd_backend_bench alternates the two).
backend_bench() {
	[ -n "$vfio_ready" ] || return 1
	insmod_logged /lib/iommufd/test/iommufd_oot_test_vfio.ko type1=0 ||
		return 1
	IOMMUFD_BENCH_ONLY=$only /tools/iommufd_backend_bench
	rc_bench=$?
	rmmod_logged iommufd_oot_test_vfio || return 1
	return $rc_bench
}

case "$mode" in
check)
	run_suites
	vfio_backends none
	[ -n "$loaded" ] && unload_module
	kmemleak_report
	;;
run)
	load_module test
	# A real-device boot (run-vm.sh picks emulated VT-d with edu when
	# the kernel has VFIO): edu bound to vfio-pci and our VFIO backend
	# of the test build loaded, for the demo's last part and the shell.
	if [ -n "$(arg iommu)" ]; then
		if vfio_backends oot-test; then
			export IOMMUFD_DEMO_VFIO=$vfio_serving
		else
			export IOMMUFD_DEMO_VFIO=failed
		fi
	fi
	[ -x /tools/demo.sh ] && /tools/demo.sh
	echo "IOMMUFD-DEMO-END rc=$?"
	if [ "$interactive" = 1 ]; then
		echo "Shell in the VM; /dev/iommu is live. 'poweroff -f' or Ctrl-D leaves."
		[ -n "$oot_loaded" ] &&
			echo "edu is bound to vfio-pci: try iommufdctl 'help vfio-open'."
		setsid cttyhack sh -l
	fi
	vfio_backends none
	;;
bench)
	load_module test
	vfio_setup && vfio_backends type1
	# bench_only=rates: only the operation-rate rows of ops_bench;
	# bench_only=backend: only our VFIO backend against type1;
	# bench_only=dirty: only the dirty-tracking benchmark.
	only=$(arg bench_only)
	rc=0
	if [ -z "$only" ]; then
		/tools/iommufd_bench
		rc=$?
	fi
	if [ "$only" != backend ] && [ "$only" != dirty ]; then
		IOMMUFD_BENCH_ONLY=$only /tools/iommufd_ops_bench
		rc2=$?
		[ $rc -eq 0 ] && rc=$rc2
	fi
	# Before the backend's: that one changes which modules are loaded.
	if [ -z "$only" ] || [ "$only" = dirty ]; then
		/tools/iommufd_dirty_bench
		rc2=$?
		[ $rc -eq 0 ] && rc=$rc2
	fi
	# dirty: its container rows, ours against type1, are the backend's.
	if [ -z "$only" ] || [ "$only" = backend ] || [ "$only" = dirty ]; then
		backend_bench
		rc2=$?
		[ $rc -eq 0 ] && rc=$rc2
	fi
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
