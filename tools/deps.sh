#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Install, with apt-get, everything the build, the tests, the VM runner and
# the packages (make deb and its check: debhelper, dh-dkms, dkms, lintian,
# rst2man from python3-docutils) need on a Debian 12 machine. Idempotent:
# when every package is present it does nothing and touches no network.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
ver() { sed -n "s/^$1 := //p" "$here/versions.mk"; }
kver_612=$(ver KVER_612)
kver_61=$(ver KVER_61)

pkgs="build-essential gcc-12 make bc flex bison libelf-dev libssl-dev kmod
cpio gzip xz-utils busybox-static qemu-system-x86 liburing-dev
linux-source-6.12 python3 perl libedit-dev pahole
debhelper dh-dkms dkms dpkg-dev lintian fakeroot python3-docutils pkgconf
linux-image-${kver_612}-unsigned linux-headers-${kver_612}
linux-image-${kver_61}-unsigned linux-headers-${kver_61}"

missing=
for p in $pkgs; do
	st=$(dpkg-query -W -f '${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: need root to install packages" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
