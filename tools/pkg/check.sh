#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The package check of make check (as root, on Debian): the packages as a
# user gets them, from build to purge.
#
#   check.sh KVER...
#
# 1. make deb: the packages, built in a copy of the tree; lintian clean;
#    make install and make uninstall, into a DESTDIR.
# 2. apt-get install of the four packages, which pulls in nothing else;
#    DKMS builds and installs the release module for every KVER; modinfo
#    shows the package's version and "build: release"; the modules DKMS
#    installs are those kbuild's release build makes; DKMS builds nothing
#    for a kernel that has its own iommufd; every module
#    parameter has its line in the modprobe.d file; the man page renders
#    without warnings; a program built with pkg-config against
#    libiommufd-dev runs.
# 3. For each KVER, a VM boots with the module DKMS built (from
#    /lib/modules/KVER/updates/dkms/) and runs the release build's fd
#    suite and the iommufdctl suite with the installed iommufdctl.
# 4. apt-get purge: dkms status as before, the file lists of /usr, /etc
#    and /var/lib/dkms as before, the package list as before.
#
# Prints TAP, then "pkg-check: N passed, N failed, N skipped", which it
# also writes to build/pkg-check/results (the VM suites' counts
# included). Whatever fails, an exit trap purges what it installed.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build
out=$BUILD/pkg-check
PKGS=(iommufd-oot-dkms iommufd-oot-utils libiommufd0 libiommufd-dev)
MODPROBE_CONF=/etc/modprobe.d/iommufd-oot.conf
export DEBIAN_FRONTEND=noninteractive

n=0 passed=0 failed=0 skipped=0
rm -rf "$out"
mkdir -p "$out"
step_log=$out/step.log

ok() { n=$((n + 1)) passed=$((passed + 1)); echo "ok $n $*"; }
not_ok() {
	n=$((n + 1)) failed=$((failed + 1))
	echo "not ok $n $*"
	sed 's/^/# /' "$step_log"
}
# check DESCRIPTION COMMAND...: one TAP line; the output goes to the log
# and is shown only when the command fails.
check() {
	local desc=$1
	shift
	if "$@" > "$step_log" 2>&1; then ok "$desc"; else not_ok "$desc"; fi
}
finish() {
	echo "1..$n"
	echo "# package check: $SECONDS s"
	echo "$passed $failed $skipped" > "$out/results"
	echo "pkg-check: $passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	exit $?
}

installed_pkgs() {
	local p
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null |
			grep -q '^.[^n]' && echo "$p"
	done
}
purge_ours() {
	local left
	left=$(installed_pkgs)
	[ -z "$left" ] && return 0
	# shellcheck disable=SC2086
	apt-get purge -y -q $left
}
# /lib and /bin are links into /usr on a merged-/usr system: /usr covers
# them. /var/lib/dkms is DKMS's tree, where the builds live.
file_list() {
	local d dirs=(/usr /etc /var/lib/dkms)
	for d in /lib /lib64; do
		[ -L "$d" ] || dirs+=("$d")
	done
	find "${dirs[@]}" -xdev 2>/dev/null | LC_ALL=C sort
}
pkg_list() {
	dpkg-query -W -f '${Package}:${Architecture} ${Version} ${db:Status-Abbrev}\n' |
		LC_ALL=C sort
}

echo "TAP version 13"
if [ "$(id -u)" != 0 ] || ! command -v dpkg-query >/dev/null; then
	echo "Bail out! the package check needs root on Debian"
	failed=1
	finish
fi

# An earlier run that died before its purge left the packages behind.
if [ -n "$(installed_pkgs)" ]; then
	echo "# purging what an earlier run left installed: $(installed_pkgs)"
	purge_ours > "$step_log" 2>&1 || { not_ok "purge of an earlier run's packages"; finish; }
fi
file_list > "$out/files.before"
pkg_list > "$out/pkgs.before"
dkms status > "$out/dkms.before" 2>&1
mok_before=$( [ -e /var/lib/dkms/mok.key ] && echo yes)

# --- 1. Build.
version=$("$ROOT/tools/pkg/version.sh")
check "make deb builds the packages of $version, lintian clean" \
	make -C "$ROOT" --no-print-directory deb
debs=()
for p in "${PKGS[@]}"; do
	debs+=("$(ls "$BUILD"/deb/"${p}"_*.deb 2>/dev/null | head -n1)")
done
for d in "${debs[@]}"; do
	[ -n "$d" ] && continue
	echo "Bail out! make deb did not make all of: ${PKGS[*]}"
	failed=$((failed + 1))
	finish
done

# make install puts the module and the tools in place, make uninstall
# takes every file away again (in a DESTDIR, not on this machine).
dest=$out/destdir
check "make install into a DESTDIR, then make uninstall leaves no file" \
	sh -c "make -C '$ROOT' --no-print-directory NO_DEPS=1 DESTDIR='$dest' install >/dev/null &&
	       find '$dest' ! -type d | sort | tee '$out/destdir.files' &&
	       grep -q '/updates/iommufd_oot.ko' '$out/destdir.files' &&
	       grep -q '/bin/iommufdctl\$' '$out/destdir.files' &&
	       grep -q '/libiommufd.so.0\$' '$out/destdir.files' &&
	       make -C '$ROOT' --no-print-directory NO_DEPS=1 DESTDIR='$dest' uninstall &&
	       echo 'left after make uninstall:' && ! find '$dest' ! -type d | grep ."

# --- 2. Install.
trap 'purge_ours > "$out/purge-on-exit.log" 2>&1' EXIT
check "apt-get install ${PKGS[*]}" apt-get install -y -q "${debs[@]}"
pkg_list > "$out/pkgs.installed"
LC_ALL=C comm -13 "$out/pkgs.before" "$out/pkgs.installed" |
	cut -d: -f1 | LC_ALL=C sort > "$out/pkgs.added"
printf '%s\n' "${PKGS[@]}" | LC_ALL=C sort > "$out/pkgs.ours"
check "apt-get installed our four packages and nothing else" \
	diff -u "$out/pkgs.ours" "$out/pkgs.added"

arch=$(uname -m)
mods_of() { # KVER: the modules DKMS installed for KVER, by name
	ls "/var/lib/dkms/iommufd-oot/$version/$1/$arch/module/" 2>/dev/null |
		sed 's/\.ko.*//' | LC_ALL=C sort
}
for k in "$@"; do
	# common.postinst builds for the running and the newest kernel when
	# the running one is installed, else for all: build what it left out,
	# as a kernel's postinst hook would.
	if ! dkms status -m iommufd-oot -k "$k" 2>/dev/null | grep -q ': installed'; then
		echo "# DKMS's postinst left out $k; dkms install -k $k"
		dkms install -m iommufd-oot -v "$version" -k "$k" > "$step_log" 2>&1
	fi
	check "dkms status: iommufd-oot/$version installed for $k" \
		sh -c "dkms status -m iommufd-oot -v '$version' -k '$k' | tee /dev/stderr | grep -q ': installed'"

	modinfo -k "$k" iommufd_oot > "$out/modinfo.$k" 2>&1
	check "modinfo on $k: version $version, build release, from updates/dkms/" \
		sh -c "cat '$out/modinfo.$k';
		       grep -qx 'version: *$version' '$out/modinfo.$k' &&
		       grep -qx 'build: *release' '$out/modinfo.$k' &&
		       grep -q '^filename: */lib/modules/$k/updates/dkms/iommufd_oot.ko' '$out/modinfo.$k'"

	# Every module of the package says its version and build too.
	for m in $(mods_of "$k"); do
		check "modinfo of $m on $k: version $version, build release" \
			sh -c "modinfo -k '$k' -F version '$m' | grep -qx '$version' &&
			       modinfo -k '$k' -F build '$m' | grep -qx release"
	done

	# What kbuild's release build makes (make check built it) is what
	# DKMS must install: dkms.conf lists RELEASE_MODULES of the Makefile.
	order=$BUILD/mod/$k/release/iommufd/modules.order
	sed 's|.*/||; s|\.k\?o$||' "$order" 2>&1 | LC_ALL=C sort > "$out/mods.kbuild.$k"
	mods_of "$k" > "$out/mods.dkms.$k"
	check "DKMS installs on $k the modules of kbuild's release build" \
		diff -u "$out/mods.kbuild.$k" "$out/mods.dkms.$k"

	# Each parameter has its "# options MODULE NAME=" line.
	for m in $(cat "$out/mods.dkms.$k"); do
		modinfo -k "$k" -F parm "$m" | sed "s/:.*//; s/^/$m /"
	done | LC_ALL=C sort > "$out/parms.module.$k"
	sed -n 's/^#[[:space:]]*options[[:space:]]\+\([a-z_]*\)[[:space:]]\+\([a-z_0-9]*\)=.*/\1 \2/p' \
		"$MODPROBE_CONF" | LC_ALL=C sort > "$out/parms.conf.$k"
	check "$MODPROBE_CONF documents every parameter of the modules on $k" \
		diff -u "$out/parms.module.$k" "$out/parms.conf.$k"
done

# A kernel that builds iommufd itself gets no build: DKMS answers 77
# (BUILD_EXCLUSIVE) for a kernel tree whose .config has CONFIG_IOMMUFD.
mkdir -p "$out/kernel-with-iommufd"
echo 'CONFIG_IOMMUFD=m' > "$out/kernel-with-iommufd/.config"
check "DKMS does not build for a kernel with its own iommufd (CONFIG_IOMMUFD=m)" \
	sh -c "dkms build -m iommufd-oot -v '$version' -k 0.0.0-with-iommufd \
		--kernelsourcedir '$out/kernel-with-iommufd'; rc=\$?; echo rc=\$rc; [ \$rc = 77 ]"

check "iommufdctl's man page is installed and renders without warnings" \
	sh -c 'man -w iommufdctl | grep -q /man1/iommufdctl.1 &&
	       w=$(MANWIDTH=80 man --warnings -E UTF-8 iommufdctl 2>&1 >/dev/null) &&
	       echo "$w" && [ -z "$w" ]'

cat > "$out/use_lib.c" <<'EOC'
#include <errno.h>
#include <stdio.h>
#include <libiommufd.h>

int main(void)
{
	int rc = iommufd_open("/nonexistent/iommu");

	printf("iommufd_open: %d, IOMMU_IOAS_MAP: %#lx\n", rc,
	       (unsigned long)IOMMU_IOAS_MAP);
	return rc == -ENOENT ? 0 : 1;
}
EOC
check "a program built with pkg-config libiommufd links libiommufd.so.0 and runs" \
	sh -c "cc -Wall -Werror -o '$out/use_lib' '$out/use_lib.c' \$(pkg-config --cflags --libs libiommufd) &&
	       ldd '$out/use_lib' | grep 'libiommufd.so.0 => /' && '$out/use_lib'"

# --- 3. The module DKMS built, in a VM, with the installed iommufdctl.
printf 'release iommufd_fd\nrelease iommufdctl_cli\n' > "$out/suites.list"
for k in "$@"; do
	ko=$(ls "/lib/modules/$k/updates/dkms/iommufd_oot.ko"* 2>/dev/null | head -n1)
	echo "# VM on $k with $ko and /usr/bin/iommufdctl"
	# Its output, TAP included, indented as a subtest of this TAP.
	if "$ROOT/tools/vm/run-vm.sh" --kver "$k" --mode check \
		--suites "$out/suites.list" --label "pkg-$k" \
		--release-ko "${ko:-/nonexistent}" --bin /usr/bin/iommufdctl \
		2>&1 | sed 's/^/    /'; then
		ok "the DKMS-built module and the installed iommufdctl pass the release suites on $k"
	else
		echo "# (the VM run above failed)" > "$step_log"
		not_ok "the DKMS-built module and the installed iommufdctl pass the release suites on $k"
	fi
	if read -r p f s < "$BUILD/vm/pkg-$k/results"; then
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	fi
done

# --- 4. Purge.
check "apt-get purge ${PKGS[*]}" purge_ours
trap - EXIT
dkms status > "$out/dkms.after" 2>&1
check "dkms status after the purge is as before" \
	diff -u "$out/dkms.before" "$out/dkms.after"
# DKMS makes its module signing key on its first build; it is DKMS's,
# kept for every DKMS package to come. One made by this run goes too.
if [ -z "$mok_before" ] && [ -e /var/lib/dkms/mok.key ]; then
	echo "# removing the DKMS signing key this run made: /var/lib/dkms/mok.{key,pub}"
	rm -f /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
fi
file_list > "$out/files.after"
check "no file of ours is left in /usr, /etc or /var/lib/dkms" \
	diff -u "$out/files.before" "$out/files.after"
pkg_list > "$out/pkgs.after"
check "the installed packages are as before" \
	diff -u "$out/pkgs.before" "$out/pkgs.after"
finish
