#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a Debian kernel under QEMU with the module and run something in it.
#
#   run-vm.sh --kver KVER --mode check [--suites FILE] [--add FILE]...
#             [--timeout SECS] [--label NAME]
#   run-vm.sh --kver KVER --mode run
#   --kernel IMAGE boots IMAGE instead of /boot/vmlinuz-KVER (the debug
#   kernel of make check-debug); the modules are still build/mod/KVER/.
#   --iommu intel|virtio: a "real device" boot: a q35 machine with emulated
#   VT-d (caching mode) or virtio-iommu and two of QEMU's edu devices, the
#   kernel's VFIO modules, and by default the real-device suites, once per
#   VFIO backend setup (real_device_suites below). --mode run picks intel
#   by itself when the kernel has VFIO and our VFIO backend is built;
#   --iommu none keeps the plain machine.
#   --release-ko FILE loads FILE (.ko or .ko.xz) as the release build
#   instead of build/mod/KVER/release/ (the module DKMS built, in the
#   package check); --bin FILE puts the program FILE, with the shared
#   libraries it links, in the VM's /tools instead of the build's own
#   (an installed iommufdctl).
#
# check: runs every suite named in FILE (lines "VARIANT BINARY", VARIANT
#   test, release or uring, or in --iommu boots vfio-type1, vfio-oot,
#   vfio-both, vfio-oot-test or vfio-both-test: the VFIO backends loaded,
#   see init.sh's vfio_backends);
#   by default every selftest binary against the test build, and the
#   command suites again through io_uring), prints the
#   guest's TAP, then one line "LABEL: N passed, N failed, N skipped", and
#   exits non-zero on a failed or missing result, a timeout, or any kernel
#   warning, BUG, Oops, lockup or corruption report in the guest log.
# run: runs the demo (with edu's DMA through our VFIO backend on a
#   real-device boot), then gives a shell when stdin is a terminal.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build
kver=
kernel=
mode=check
suites=
timeout=600
label=
iommu=
add=()
release_ko=
bins=()

while [ $# -gt 0 ]; do
	case "$1" in
	--kver) kver=$2; shift 2 ;;
	--mode) mode=$2; shift 2 ;;
	--suites) suites=$2; shift 2 ;;
	--add) add+=("$2"); shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--label) label=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	--iommu) iommu=$2; shift 2 ;;
	--release-ko) release_ko=$2; shift 2 ;;
	--bin) bins+=("$2"); shift 2 ;;
	*) echo "run-vm: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -n "$kver" ] || { echo "run-vm: --kver is required" >&2; exit 2; }
case "$iommu" in
""|intel|virtio|none) ;;
*) echo "run-vm: --iommu takes intel, virtio or none, not $iommu" >&2; exit 2 ;;
esac
# The demo (run mode) ends with edu's DMA through our VFIO backend, so it
# boots emulated VT-d with edu whenever this kernel has VFIO and the
# backend was built for it; a kernel without VFIO (check-debug's) boots
# as before, and so does --iommu none.
if [ "$mode" = run ] && [ -z "$iommu" ] &&
   grep -qE '^kernel/drivers/vfio/pci/vfio-pci\.ko(\.xz)?:' \
	"/lib/modules/$kver/modules.dep" 2>/dev/null &&
   [ -r "$BUILD/mod/$kver/test/iommufd_oot_test_vfio.ko" ]; then
	iommu=intel
fi
[ "$iommu" = none ] && iommu=
label=${label:-$kver}
kernel=${kernel:-/boot/vmlinuz-$kver}
[ -r "$kernel" ] || { echo "run-vm: no kernel $kernel (run tools/deps.sh)" >&2; exit 2; }

# Suites that need a real device (an edu behind an emulated IOMMU, bound to
# vfio-pci) run only in --iommu boots.
is_real_device_suite() {
	case "$1" in
	iommufd_vfio_edu|iommufd_vfio_backend|iommufd_vfio_link|iommufdctl_vfio)
		return 0 ;;
	iommufd_vfio_mdev) return 0 ;;
	esac
	return 1
}

# The --iommu boot's default suites.list. The DMA suite against stock
# type1 alone, against our release pair loaded after type1 (modprobe's
# order; ours must be chosen) and against ours alone; the backend suite,
# which looks into the real domain through the test pair's debugfs,
# against the test pair alone and after type1.
real_device_suites() {
	[ -x "$BUILD/selftests/iommufd_vfio_edu" ] && {
		echo "vfio-type1 iommufd_vfio_edu"
		echo "vfio-both iommufd_vfio_edu"
		echo "vfio-oot iommufd_vfio_edu"
	}
	[ -x "$BUILD/selftests/iommufd_vfio_link" ] && {
		echo "vfio-both iommufd_vfio_link"
		echo "vfio-oot iommufd_vfio_link"
	}
	[ -x "$BUILD/selftests/iommufd_vfio_backend" ] && {
		echo "vfio-oot-test iommufd_vfio_backend"
		echo "vfio-both-test iommufd_vfio_backend"
	}
	# Emulated (mdev) devices: stock type1 for comparison, ours.
	[ -x "$BUILD/selftests/iommufd_vfio_mdev" ] && {
		echo "vfio-type1 iommufd_vfio_mdev"
		echo "vfio-oot-test iommufd_vfio_mdev"
	}
	# iommufdctl's VFIO commands by hand, on our release pair; their
	# expected output (IOVA ranges, MSI window) is emulated VT-d's.
	[ "$iommu" = intel ] && [ -x "$BUILD/selftests/iommufdctl_vfio" ] &&
		echo "vfio-oot iommufdctl_vfio"
	return 0
}

# Copy module @1 (a path under /lib/modules/KVER/kernel without .ko) and
# every module it depends on into @2, decompressed, and append their names
# to @2/@3 in an order insmod can load them (dependencies first).
pack_module() {
	local rel=$1 dir=$2 order=$3 dep deps line m ko
	line=$(grep -E "^kernel/$rel\.ko(\.xz)?:" \
		"/lib/modules/$kver/modules.dep") || {
		echo "run-vm: $rel is not a module of $kver" >&2
		return 1
	}
	deps=${line#*:}
	# modules.dep lists a module's dependencies users first.
	for dep in $(echo $deps | tr ' ' '\n' | tac) "kernel/$rel.ko"; do
		m=$(basename "${dep%.xz}" .ko)
		grep -qx "$m" "$dir/$order" 2>/dev/null && continue
		ko=/lib/modules/$kver/${dep%.xz}
		ko=${ko%.ko}.ko
		if [ -f "$ko.xz" ]; then
			xz -dc "$ko.xz" > "$dir/$m.ko"
		else
			cp "$ko" "$dir/$m.ko"
		fi
		echo "$m" >> "$dir/$order"
	done
}

# VFIO from the same Debian kernel: vfio-pci and what it needs
# (vfio.order), vfio_iommu_type1 on its own, and for virtio-iommu its
# driver (iommu.order, loaded before anything binds).
pack_vfio() {
	local dir=$1
	mkdir -p "$dir"
	pack_module drivers/vfio/pci/vfio-pci "$dir" vfio.order || return 1
	pack_module drivers/vfio/vfio_iommu_type1 "$dir" type1.order ||
		return 1
	if [ "$iommu" = virtio ]; then
		pack_module drivers/iommu/virtio-iommu "$dir" iommu.order ||
			return 1
	fi
	# The mdev suite's emulated device: mdev.ko of this kernel
	# (mdev.order) and our test-only test_mdev.ko, if built.
	local tm=$BUILD/mod/$kver/test_mdev/test_mdev.ko
	if [ -r "$tm" ]; then
		pack_module drivers/vfio/mdev/mdev "$dir" mdev.order ||
			return 1
		cp "$tm" "$dir/"
		echo test_mdev >> "$dir/mdev.order"
	fi
}

work=$BUILD/vm/$label
rm -rf "$work"
mkdir -p "$work/root"/{bin,tests,tools,lib/iommufd,proc,sys,dev,tmp}
r=$work/root

# --- The initramfs: busybox, the module builds, selftests, tools.
cp /bin/busybox "$r/bin/busybox"
cp "$ROOT/tools/vm/init.sh" "$r/init"
chmod +x "$r/init"
# The test build is iommufd_oot_test.ko, the release one iommufd_oot.ko.
for v in test release; do
	name=iommufd_oot
	[ "$v" = test ] && name=iommufd_oot_test
	ko=$BUILD/mod/$kver/$v/$name.ko
	[ "$v" = release ] && [ -n "$release_ko" ] && ko=$release_ko
	[ -r "$ko" ] || { echo "run-vm: $ko not built" >&2; exit 2; }
	mkdir -p "$r/lib/iommufd/$v"
	case "$ko" in
	*.xz) xz -dc "$ko" > "$r/lib/iommufd/$v/$name.ko" ;;
	*) cp "$ko" "$r/lib/iommufd/$v/$name.ko" ;;
	esac
	# The VFIO backend of the same build (iommufd/Kbuild), if built:
	# it sits next to the core, in the build tree as in DKMS's.
	vko=${ko%.xz}
	vko=${vko%.ko}_vfio.ko
	if [ -r "$vko" ]; then
		cp "$vko" "$r/lib/iommufd/$v/${name}_vfio.ko"
	elif [ -r "$vko.xz" ]; then
		xz -dc "$vko.xz" > "$r/lib/iommufd/$v/${name}_vfio.ko"
	fi
done
# The stand-ins for the in-tree iommufd (iommufd_fd's in-tree tests).
if [ -r "$BUILD/tools/standin/$kver/iommufd.ko" ]; then
	mkdir -p "$r/lib/iommufd/standin"
	cp "$BUILD/tools/standin/$kver"/{iommufd,iommu_holder}.ko \
		"$r/lib/iommufd/standin/"
fi
cp "$BUILD"/selftests/* "$r/tests/" 2>/dev/null || true
if [ -n "$suites" ]; then
	cp "$suites" "$r/tests/suites.list"
elif [ -n "$iommu" ]; then
	real_device_suites > "$r/tests/suites.list"
else
	# Every suite on the test build; the fd and VFIO compat suites also
	# on the release build, where they check what works without the
	# test command; and
	# the command suites once more with every command sent through
	# io_uring instead of ioctl() (IOMMUFD_TEST_SUBMIT=uring).
	{
		for t in "$BUILD"/selftests/*; do
			is_real_device_suite "$(basename "$t")" ||
				echo "test $(basename "$t")"
		done
		echo "release iommufd_fd"
		echo "release iommufd_vfio_compat"
		for t in fd ioas domain huge windows fail_nth stress priv dirty \
			 fault nesting vfio_compat; do
			echo "uring iommufd_$t"
		done
	} > "$r/tests/suites.list"
fi
for f in "${add[@]}"; do
	cp "$f" "$r/tests/"
done
[ -d "$BUILD/tools/bin" ] && cp "$BUILD"/tools/bin/* "$r/tools/"
[ -f "$ROOT/tools/demo.sh" ] && cp "$ROOT/tools/demo.sh" "$r/tools/"
# An installed program and every shared library it loads, at the paths
# ldd names (the loader's own included), so that it runs as installed.
for b in "${bins[@]}"; do
	[ -x "$b" ] || { echo "run-vm: $b is not a program" >&2; exit 2; }
	cp "$b" "$r/tools/"
	for lib in $(ldd "$b" | grep -o '/[^ ]*'); do
		mkdir -p "$r$(dirname "$lib")"
		cp -L "$lib" "$r$lib"
	done
done
if [ "$mode" = bench ] || [ -n "$iommu" ]; then
	# VFIO for the benchmark's peer and for the real-device suites.
	pack_vfio "$r/lib/vfio" || exit 2
fi
(cd "$r" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initramfs.gz"

# --- QEMU: TCG, the emulation every build host has and the one the
# timeouts and benchmark figures are taken on. KVM only when asked for
# (IOMMUFD_VM_ACCEL=kvm) and present: a host may expose a /dev/kvm that
# creates vCPUs but cannot run a kernel (seen: a nested one whose
# instruction emulator fails on the boot's VEX instructions, "KVM
# internal error", and the guest then sits stopped until the timeout).
# The probe creates a real machine with a vCPU and quits.
kvm_works() {
	[ "${IOMMUFD_VM_ACCEL:-tcg}" = kvm ] && [ -w /dev/kvm ] || return 1
	(echo quit | timeout 10 qemu-system-x86_64 -accel kvm -cpu host \
		-M pc -nodefaults -display none -S -monitor stdio) \
		>/dev/null 2>&1
}
accel=(-accel tcg -cpu max)
if kvm_works 2>/dev/null; then
	accel=(-accel kvm -cpu host)
elif [ "${IOMMUFD_VM_ICOUNT:-0}" = 1 ]; then
	# The guest clock counts instructions (one per nanosecond): timings
	# become instruction counts, free of TCG's timing noise, for
	# comparing two versions of the code (Documentation/benchmarks.rst).
	accel+=(-icount shift=0,sleep=off)
fi
interactive=0
[ "$mode" = run ] && [ -t 0 ] && interactive=1
append="console=ttyS0 loglevel=${IOMMUFD_VM_LOGLEVEL:-5} panic=-1 iommufd.mode=$mode"
append+=" iommufd.interactive=$interactive"
[ "$mode" = fuzz ] && append+=" iommufd.fuzz_seconds=${FUZZ_SECONDS:-300}"
[ -n "${IOMMUFD_BENCH_ONLY:-}" ] &&
	append+=" iommufd.bench_only=$IOMMUFD_BENCH_ONLY"
mem=2048
machine=()
if [ "$mode" = bench ]; then
	# The VFIO type1 peer: QEMU's edu device behind emulated VT-d.
	mem=3072
	machine=(-machine q35,kernel-irqchip=split
		 -device intel-iommu,intremap=on,caching-mode=on -device edu)
	append+=" intel_iommu=on iommu=pt"
elif [ "$iommu" = intel ]; then
	# Emulated VT-d with interrupt remapping (so MSI is isolated and
	# type1 needs no allow_unsafe_interrupts) and caching mode (every
	# new mapping must be flushed, as on a real vIOMMU), and two edus,
	# each its own group. Debian's kernels need intel_iommu=on; iommu=pt
	# is left out on purpose: VFIO takes the groups over from the DMA
	# API's translated default domains, as on a stock host.
	machine=(-machine q35,kernel-irqchip=split
		 -device intel-iommu,intremap=on,caching-mode=on
		 -device edu -device edu)
	# no_timer_check: under TCG the boot's check that the timer
	# interrupt arrives through the remapped IO-APIC sometimes loses
	# the race against emulation, and with interrupt remapping on the
	# kernel panics instead of falling back ("timer doesn't work
	# through Interrupt-remapped IO-APIC"); the timer works.
	append+=" intel_iommu=on no_timer_check"
elif [ "$iommu" = virtio ]; then
	# virtio-iommu, described to the guest by ACPI VIOT. It remaps no
	# interrupts, so VFIO needs allow_unsafe_interrupts (init.sh).
	machine=(-machine q35 -device virtio-iommu-pci
		 -device edu -device edu)
fi
[ -n "$iommu" ] && append+=" iommufd.iommu=$iommu"
qemu=(qemu-system-x86_64 "${accel[@]}" "${machine[@]}" -m "$mem" -smp 2
      -nographic
      -no-reboot -kernel "$kernel" -initrd "$work/initramfs.gz"
      -append "$append")

if [ "$mode" = run ] && [ "$interactive" = 1 ]; then
	"${qemu[@]}"
	exit $?
fi
if [ "$mode" = run ] || [ "$mode" = bench ] || [ "$mode" = fuzz ]; then
	# No terminal: show the demo, benchmark or fuzzer; it must end with
	# rc=0 (and, for fuzz, without any kernel warning in the log).
	marker=DEMO
	[ "$mode" = bench ] && marker=BENCH
	[ "$mode" = fuzz ] && marker=FUZZ
	set +e
	timeout --foreground -k 5 "$timeout" "${qemu[@]}" < /dev/null | \
		tr -d '\r' | tee "$work/console.log"
	qemu_rc=${PIPESTATUS[0]}
	set -e
	if [ "$qemu_rc" -ne 0 ] ||
	   ! grep -q "^IOMMUFD-$marker-END rc=0" "$work/console.log"; then
		echo "$mode: failed (qemu status $qemu_rc)" >&2
		exit 1
	fi
	if [ "$mode" = fuzz ] &&
	   grep -E "WARNING: |BUG: |Oops|general protection|LOCKUP|lockup|rcu: INFO|blocked for|refcount_t: |corruption|UBSAN: |KASAN: |Kernel panic|circular locking|Call Trace:" \
		"$work/console.log" >&2; then
		echo "fuzz: kernel trouble in the guest log (above)" >&2
		exit 1
	fi
	exit 0
fi

log=$work/console.log
set +e
# Under QEMU's TCG a booting kernel occasionally trips over the emulation
# before /init runs (seen: an int3 Oops while the kernel patches its own
# text, and a KASAN report from an interrupt taken during CPU bring-up).
# Nothing of ours has run then, so a boot whose kernel reported trouble
# before IOMMUFD-INIT is retried, at most twice, and said so; anything
# after IOMMUFD-INIT is judged as it is.
for boot in 1 2 3; do
	timeout --foreground -k 5 "$timeout" "${qemu[@]}" < /dev/null | \
		tr -d '\r' | tee "$log" | sed -n '/^IOMMUFD-INIT/,$p'
	qemu_rc=${PIPESTATUS[0]}
	[ "$boot" = 3 ] && break
	python3 "$ROOT/tools/vm/parse-log.py" --boot-trouble "$log" \
		> "$work/boot-trouble" || break
	echo "# $label: the kernel reported trouble while booting, before" \
		"init ran (boot $boot of 3); booting again:"
	cat "$work/boot-trouble"
done
set -e
exec python3 "$ROOT/tools/vm/parse-log.py" --label "$label" \
	--suites "$r/tests/suites.list" --qemu-rc "$qemu_rc" \
	--results "$work/results" "$log"
