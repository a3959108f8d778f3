#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The bounded fuzz run of make check (installed as the suite
# iommufd_fuzz_bounded, with the seeds of regressions.txt appended after
# "#__SEEDS__"): replays every regression seed, then fuzzes a fresh seed
# for FUZZ_SECONDS (default 15). Prints TAP, one result per run; a
# failing fresh seed is printed, to be added to regressions.txt.

secs=${FUZZ_SECONDS:-15}
seeds=$(sed -n '/^#__SEEDS__$/,$p' "$0" | sed -e '1d' -e 's/#.*//' |
	awk 'NF')
n=$(printf '%s\n' "$seeds" | awk 'NF' | wc -l)

echo "TAP version 13"
echo "1..$((n + 1))"
if ! command -v iommufd_fuzz >/dev/null; then
	echo "Bail out! iommufd_fuzz is not on PATH"
	exit 1
fi
i=0
status=0
log=/tmp/iommufd_fuzz.$$
printf '%s\n' "$seeds" | awk 'NF' > "$log.seeds"
while read -r seed ops; do
	i=$((i + 1))
	if iommufd_fuzz -s "$seed" -n "${ops:-10000}" > "$log" 2>&1; then
		echo "ok $i regression seed $seed ($(tail -n 1 "$log"))"
	else
		sed 's/^/# /' "$log"
		echo "not ok $i regression seed $seed"
		status=1
	fi
done < "$log.seeds"
i=$((i + 1))
if iommufd_fuzz -t "$secs" > "$log" 2>&1; then
	echo "# $(tail -n 1 "$log")"
	echo "ok $i fresh seed for ${secs}s"
else
	sed 's/^/# /' "$log"
	echo "not ok $i fresh seed for ${secs}s (add its seed to tools/fuzz/regressions.txt)"
	status=1
fi
rm -f "$log" "$log.seeds"
exit $status
