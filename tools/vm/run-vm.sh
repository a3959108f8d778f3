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
#   --release-ko FILE loads FILE (.ko or .ko.xz) as the release build
#   instead of build/mod/KVER/release/ (the module DKMS built, in the
#   package check); --bin FILE puts the program FILE, with the shared
#   libraries it links, in the VM's /tools instead of the build's own
#   (an installed iommufdctl).
#
# check: runs every suite named in FILE (lines "VARIANT BINARY", VARIANT
#   test, release, uring, or vfio and vfio-type1: the test build with
#   the VFIO backend loaded, vfio_iommu_type1 absent or loaded before it,
#   on a machine with emulated VT-d and edu bound to vfio-pci;
#   by default every selftest binary against the test build, and the
#   command suites again through io_uring), prints the
#   guest's TAP, then one line "LABEL: N passed, N failed, N skipped", and
#   exits non-zero on a failed or missing result, a timeout, or any kernel
#   warning, BUG, Oops, lockup or corruption report in the guest log.
# run: runs the demo, then gives a shell when stdin is a terminal.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build
kver=
kernel=
mode=check
suites=
timeout=600
label=
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
	--release-ko) release_ko=$2; shift 2 ;;
	--bin) bins+=("$2"); shift 2 ;;
	*) echo "run-vm: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -n "$kver" ] || { echo "run-vm: --kver is required" >&2; exit 2; }
label=${label:-$kver}
kernel=${kernel:-/boot/vmlinuz-$kver}
[ -r "$kernel" ] || { echo "run-vm: no kernel $kernel (run tools/deps.sh)" >&2; exit 2; }

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
cp "$BUILD"/selftests/* "$r/tests/" 2>/dev/null || true
if [ -n "$suites" ]; then
	cp "$suites" "$r/tests/suites.list"
else
	# Every suite on the test build; the fd and VFIO compat suites also
	# on the release build, where they check what works without the
	# test command; and
	# the command suites once more with every command sent through
	# io_uring instead of ioctl() (IOMMUFD_TEST_SUBMIT=uring).
	{
		for t in "$BUILD"/selftests/*; do
			echo "test $(basename "$t")"
		done
		echo "release iommufd_fd"
		echo "release iommufd_vfio_compat"
		for t in fd ioas domain huge windows fail_nth stress priv \
			 vfio_compat; do
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
# Suites of the "vfio" variants need a real device: VFIO, and a machine
# with an IOMMU and edu (as make bench has).
vfio_suites=0
grep -qE '^vfio' "$r/tests/suites.list" && vfio_suites=1
if [ "$mode" = bench ] || [ "$vfio_suites" = 1 ]; then
	# VFIO from the same Debian kernel, for the benchmark's peer and
	# the VFIO backend's suites.
	mkdir -p "$r/lib/vfio"
	# (6.1 has virqfd in a module of its own.)
	for m in virt/lib/irqbypass drivers/vfio/vfio drivers/vfio/vfio_virqfd \
		 drivers/vfio/vfio_iommu_type1 drivers/vfio/pci/vfio-pci-core \
		 drivers/vfio/pci/vfio-pci; do
		ko=/lib/modules/$kver/kernel/$m.ko
		if [ -f "$ko.xz" ]; then
			xz -dc "$ko.xz" > "$r/lib/vfio/$(basename "$m").ko"
		elif [ -f "$ko" ]; then
			cp "$ko" "$r/lib/vfio/"
		fi
	done
fi
(cd "$r" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initramfs.gz"

# --- QEMU: TCG unless KVM is present and actually works. A device node
# is not enough (some hosts expose one that cannot run a vCPU), so the
# probe creates a real machine with a vCPU and quits.
kvm_works() {
	[ -w /dev/kvm ] || return 1
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
if [ "$mode" = bench ] || [ "$vfio_suites" = 1 ]; then
	# The VFIO type1 peer: QEMU's edu device behind emulated VT-d.
	mem=3072
	machine=(-machine q35,kernel-irqchip=split
		 -device intel-iommu,intremap=on,caching-mode=on -device edu)
	append+=" intel_iommu=on iommu=pt"
fi
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
