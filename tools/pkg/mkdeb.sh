#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make deb: build the Debian packages in a copy of the tree, never in the
# tree itself, then check them with lintian.
#
#   mkdeb.sh OUTDIR VERSION
#
# The copy is what git has: HEAD plus the changes to tracked files (git
# stash create), without untracked files; a tree without git is copied
# as it is, less build/. VERSION (tools/pkg/version.sh) goes into the
# copy's .tarball-version, and, when debian/changelog's latest entry is
# another version, a snapshot entry for it on top of the copy's changelog.
# The .deb files, the source package and lintian's report end in OUTDIR.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
out=$1
version=$2
src=$out/iommufd-oot-$version

rm -rf "$out"
mkdir -p "$src"
if git -C "$ROOT" rev-parse -q --verify HEAD >/dev/null 2>&1; then
	tree=$(git -C "$ROOT" stash create 2>/dev/null || true)
	git -C "$ROOT" archive --format=tar "${tree:-HEAD}" | tar -x -C "$src"
else
	tar -C "$ROOT" --exclude=./build -cf - . | tar -x -C "$src"
fi
echo "$version" > "$src/.tarball-version"

cd "$src"
latest=$(dpkg-parsechangelog -S Version)
if [ "$latest" != "$version" ]; then
	maint=$(sed -n 's/^Maintainer: //p' debian/control)
	{
		printf 'iommufd-oot (%s) UNRELEASED; urgency=medium\n\n' "$version"
		printf '  * Snapshot of the tree after %s.\n\n' "$latest"
		printf ' -- %s  %s\n\n' "$maint" "$(date -R)"
		cat debian/changelog
	} > debian/changelog.new
	mv debian/changelog.new debian/changelog
fi

echo "deb: building iommufd-oot $version in $src"
dpkg-buildpackage -us -uc > "$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	echo "deb: dpkg-buildpackage failed (whole log: $out/build.log)" >&2
	exit 1
}
cd "$out"
ls -1 ./*.deb

# Every tag lintian reports at warning level or above fails the build;
# the ones that do not apply are overridden, each with its reason, in
# debian/*lintian-overrides.
changes=$(ls ./*.changes)
if ! lintian --fail-on error,warning --display-info "$changes" \
		> lintian.log 2>&1; then
	cat lintian.log >&2
	echo "deb: lintian is not clean (above)" >&2
	exit 1
fi
sed 's/^/lintian: /' lintian.log
echo "deb: lintian clean"
