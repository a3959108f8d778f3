#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Build-time ABI check: our uapi/linux/iommufd.h and iommufd/iommufd_test.h
# must match upstream Linux 6.12's iommufd uAPI and selftest headers
# (layouts, ioctl numbers, constants), and every extension constant of
# ours must keep clear of what upstream may add later, by the rule that
# tools/abi/extensions.txt gives it.  See gen_abi_check.py for what is
# compared.
#
# Usage: abi-check.sh OUT_DIR   (from any directory)
#
# The upstream headers come from the kernel named in tools/versions.mk:
#   uAPI:  /usr/src/linux-headers-<KVER_612 without arch>-common/include/
#          uapi/linux/iommufd.h
#   test:  drivers/iommu/iommufd/iommufd_test.h, extracted once into OUT_DIR
#          from /usr/src/<LINUX_SOURCE_PKG>.tar.xz
# Overrides: ABI_UPSTREAM_UAPI, ABI_UPSTREAM_TEST, ABI_LINUX_SOURCE_TARBALL,
# ABI_CC (default gcc).
#
# Prints "abi: OK (N asserts)" and exits 0 when everything matches; prints
# what differs and exits non-zero otherwise.

set -eu

die() {
	echo "abi: FAILED: $*" >&2
	exit 1
}

[ $# -eq 1 ] || {
	echo "usage: $0 OUT_DIR" >&2
	exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
cc=${ABI_CC:-gcc}

mkvar() {
	sed -n "s/^$1[[:space:]]*:=[[:space:]]*//p" "$root/tools/versions.mk" |
		sed 's/[[:space:]]*$//'
}

kver=$(mkvar KVER_612)
[ -n "$kver" ] || die "KVER_612 not found in tools/versions.mk"
srcpkg=$(mkvar LINUX_SOURCE_PKG)
[ -n "$srcpkg" ] || die "LINUX_SOURCE_PKG not found in tools/versions.mk"

# 6.12.117+deb12-amd64 -> linux-headers-6.12.117+deb12-common
common=/usr/src/linux-headers-${kver%-*}-common
up_uapi=${ABI_UPSTREAM_UAPI:-$common/include/uapi/linux/iommufd.h}
[ -f "$up_uapi" ] ||
	die "upstream uAPI header $up_uapi not found (install linux-headers-$kver)"

up_test=${ABI_UPSTREAM_TEST:-$out/upstream/iommufd_test.h}
if [ ! -f "$up_test" ]; then
	tarball=${ABI_LINUX_SOURCE_TARBALL:-/usr/src/$srcpkg.tar.xz}
	member=$srcpkg/drivers/iommu/iommufd/iommufd_test.h
	[ -f "$tarball" ] ||
		die "$tarball not found (install $srcpkg) and $up_test missing"
	tmp=$out/upstream/.extract.$$
	rm -rf "$tmp"
	mkdir -p "$tmp"
	tar -xJf "$tarball" -C "$tmp" "$member" ||
		die "cannot extract $member from $tarball"
	mv "$tmp/$member" "$up_test"
	rm -rf "$tmp"
fi

# The upstream test header does #include <linux/iommufd.h>: make that
# resolve to the upstream uAPI header, not to ours and not to whatever
# /usr/include happens to hold.
mkdir -p "$out/upstream-include/linux"
cp "$up_uapi" "$out/upstream-include/linux/iommufd.h"

rm -f "$out/abi.ok" "$out/abi_check.c"
python3 "$here/gen_abi_check.py" --src-root "$root" --out-dir "$out" \
	--pair "uapi/linux/iommufd.h=$up_uapi" \
	--pair "iommufd/iommufd_test.h=$up_test" \
	--extensions "$here/extensions.txt" \
	-o "$out/abi_check.c" >/dev/null ||
	die "gen_abi_check.py reported problems (see above)"

n=$(grep -c '^_Static_assert(' "$out/abi_check.c")

# Each of our headers must also compile on its own in userspace.
for h in uapi/linux/iommufd.h iommufd/iommufd_test.h; do
	printf '#include "%s"\n' "$root/$h" >"$out/standalone.c"
	$cc -std=gnu11 -fsyntax-only -Wall -Werror "$out/standalone.c" ||
		die "$h does not compile on its own"
done
rm -f "$out/standalone.c"

# x86_64 (the ABI of the build host).
$cc -std=gnu11 -fsyntax-only -Wall -Werror \
	-I "$out/upstream-include" "$out/abi_check.c" ||
	die "our headers differ from upstream (x86_64, see above)"

# i386 as well when the compiler can do it: it catches __u64 vs
# __aligned_u64 mix-ups that x86_64 alignment hides.  The asm/ headers of
# the x86_64 multiarch directory serve both widths.
probe=$out/.m32probe.c
printf '#include <linux/types.h>\n' >"$probe"
if $cc -m32 -fsyntax-only -idirafter /usr/include/x86_64-linux-gnu \
	"$probe" 2>/dev/null; then
	$cc -m32 -std=gnu11 -fsyntax-only -Wall -Werror \
		-I "$out/upstream-include" \
		-idirafter /usr/include/x86_64-linux-gnu "$out/abi_check.c" ||
		die "our headers differ from upstream (i386, see above)"
	abis="x86_64, i386"
else
	abis="x86_64 only"
fi
rm -f "$probe"

touch "$out/abi.ok"
echo "abi: compared ($abis) with $up_uapi and $up_test"
echo "abi: OK ($n asserts)"
