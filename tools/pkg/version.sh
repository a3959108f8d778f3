#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Prints the version of the tree, in a form Debian's version rules accept:
#
#   a release tag vX.Y[.Z] on HEAD      X.Y[.Z]
#   N commits after the tag vX.Y        X.Y+gitN.HASH
#   no release tag yet                  0.0~gitYYYYMMDD.HASH (commit date)
#
# and "+dirty" after it when tracked files differ from HEAD. A copy of the
# tree made by "make deb" has no .git; it carries the version in
# .tarball-version instead, which wins when present.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -r "$root/.tarball-version" ]; then
	cat "$root/.tarball-version"
	exit 0
fi
if ! git -C "$root" rev-parse --verify -q HEAD >/dev/null 2>&1; then
	echo "0.0~unknown"
	exit 0
fi

if desc=$(git -C "$root" describe --tags --match 'v[0-9]*' 2>/dev/null); then
	desc=${desc#v}
	case "$desc" in
	*-*-g*)
		hash=${desc##*-g}
		rest=${desc%-g*}
		version="${rest%-*}+git${rest##*-}.$hash"
		;;
	*)
		version=$desc
		;;
	esac
else
	date=$(git -C "$root" log -1 --format=%cd --date=format:%Y%m%d)
	hash=$(git -C "$root" rev-parse --short=7 HEAD)
	version="0.0~git$date.$hash"
fi
git -C "$root" update-index -q --refresh >/dev/null 2>&1 || true
git -C "$root" diff-index --quiet HEAD -- 2>/dev/null || version="$version+dirty"
echo "$version"
