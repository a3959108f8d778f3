#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once, cached in build/debug-kernel/) Debian's 6.12 kernel source
# with the debugging options that catch what a module gets wrong:
# lockdep (PROVE_LOCKING), KASAN, UBSAN, kmemleak and DEBUG_ATOMIC_SLEEP.
# The config starts from x86_64_defconfig, not Debian's, so the build takes
# tens of minutes on two cores instead of hours; everything the module and
# the VM need is switched on explicitly. KCSAN is not among them: the
# kernel refuses it next to KASAN, and KASAN finds more of what a module
# gets wrong.
#
# The options are written into the tree next to its .config; when they
# change here, the config is made again and the kernel rebuilt.
#
# Prints two lines for the caller: "KVER=<release>" and "KDIR=<tree>".
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=/dev/null
pkg=$(sed -n 's/^LINUX_SOURCE_PKG := //p' "$ROOT/tools/versions.mk")
dir=$ROOT/build/debug-kernel
src=$dir/$pkg

if [ ! -f "$src/Makefile" ]; then
	echo "debug-kernel: extracting /usr/src/$pkg.tar.xz" >&2
	mkdir -p "$dir"
	tar -xJf "/usr/src/$pkg.tar.xz" -C "$dir"
fi
cd "$src"
options=(
	--set-str LOCALVERSION "-iommufd-debug"
	--disable LOCALVERSION_AUTO
	--enable MODULES --enable MODULE_UNLOAD
	--disable MODULE_SIG --disable MODVERSIONS
	--enable DEVTMPFS --enable DEVTMPFS_MOUNT
	--enable BLK_DEV_INITRD --enable RD_GZIP
	--enable SERIAL_8250 --enable SERIAL_8250_CONSOLE
	--enable IOMMU_SUPPORT --enable IOMMU_API
	--enable INTEL_IOMMU --enable IRQ_REMAP
	--enable IO_URING
	--enable TRANSPARENT_HUGEPAGE --enable HUGETLBFS
	--enable USERFAULTFD
	--enable DEBUG_FS
	--enable DEBUG_KERNEL
	--enable PROVE_LOCKING --enable DEBUG_ATOMIC_SLEEP
	--enable KASAN --enable KASAN_GENERIC --enable KASAN_INLINE
	--enable UBSAN --enable UBSAN_BOUNDS --enable UBSAN_SHIFT
	--enable UBSAN_BOOL --enable UBSAN_ENUM
	--disable UBSAN_TRAP
	--enable DEBUG_KMEMLEAK
	--set-val DEBUG_KMEMLEAK_MEM_POOL_SIZE 40000
	--disable DEBUG_KMEMLEAK_DEFAULT_OFF
	--disable DEBUG_KMEMLEAK_AUTO_SCAN
	--enable DEBUG_LIST --enable REFCOUNT_FULL
	--enable DETECT_HUNG_TASK --enable SOFTLOCKUP_DETECTOR
	--disable DEBUG_INFO --disable DEBUG_INFO_BTF
	--disable DEBUG_INFO_DWARF5 --enable DEBUG_INFO_NONE
)
if [ ! -f .config.iommufd ] ||
   [ "$(cat .config.iommufd)" != "${options[*]}" ]; then
	make -s x86_64_defconfig >&2
	scripts/config "${options[@]}"
	make -s olddefconfig >&2
	echo "${options[*]}" > .config.iommufd
fi
# olddefconfig silently drops an option whose dependencies are missing:
# make sure the detectors the run relies on are really in.
for want in PROVE_LOCKING KASAN UBSAN UBSAN_BOUNDS UBSAN_SHIFT DEBUG_KMEMLEAK \
	    DEBUG_ATOMIC_SLEEP USERFAULTFD; do
	grep -qx "CONFIG_$want=y" .config || {
		echo "debug-kernel: CONFIG_$want did not survive olddefconfig" >&2
		exit 1
	}
done
echo "debug-kernel: building in $src (cached after the first time)" >&2
make -s -j"$(nproc)" bzImage modules >&2
echo "KVER=$(make -s kernelrelease)"
echo "KDIR=$src"
