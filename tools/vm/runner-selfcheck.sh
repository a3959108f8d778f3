#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prove that the VM runner fails a run for each thing it must catch: a
# failing test, a kernel warning, and a guest that hangs. Each case boots
# the VM with a deliberately bad suite and expects run-vm.sh to exit
# non-zero with the matching complaint. Prints TAP.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build
kver=$1
dir=$BUILD/runner-selfcheck
rm -rf "$dir"
mkdir -p "$dir"

# A kselftest with one passing and one failing assertion.
cp "$BUILD/tools/selfcheck_fail" "$dir/"
echo "test selfcheck_fail" > "$dir/fail.list"

# A suite whose tests pass but which makes the kernel WARN.
cp "$BUILD/tools/runner_warn/runner_warn.ko" "$dir/"
cat > "$dir/selfcheck_warn" <<'EOS'
#!/bin/sh
echo "TAP version 13"
echo "1..1"
insmod /tests/runner_warn.ko && echo "ok 1 runner_warn loaded"
EOS
echo "test selfcheck_warn" > "$dir/warn.list"

# A suite that never finishes.
cat > "$dir/selfcheck_hang" <<'EOS'
#!/bin/sh
echo "TAP version 13"
echo "1..1"
sleep 100000
EOS
echo "test selfcheck_hang" > "$dir/hang.list"
chmod +x "$dir"/selfcheck_*

n=0 passed=0 failed=0
echo "TAP version 13"
echo "1..3"
expect_failure() {
	local name=$1 pattern=$2 out rc
	shift 2
	n=$((n + 1))
	out=$("$ROOT/tools/vm/run-vm.sh" --kver "$kver" --mode check \
		--label "selfcheck-$name" "$@" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && grep -Eq "$pattern" <<< "$out"; then
		echo "ok $n runner fails a run with $name"
		passed=$((passed + 1))
	else
		echo "$out" | sed 's/^/# /'
		echo "not ok $n runner fails a run with $name (rc=$rc)"
		failed=$((failed + 1))
	fi
}

expect_failure failing_test '[1-9][0-9]* failed' \
	--suites "$dir/fail.list" --add "$dir/selfcheck_fail"
expect_failure kernel_warning 'kernel: .*WARNING' \
	--suites "$dir/warn.list" --add "$dir/selfcheck_warn" \
	--add "$dir/runner_warn.ko"
expect_failure hang 'timeout' --timeout 30 \
	--suites "$dir/hang.list" --add "$dir/selfcheck_hang"

echo "runner-selfcheck: $passed passed, $failed failed, 0 skipped"
echo "$passed $failed 0" > "$BUILD/vm/runner-selfcheck.results"
[ "$failed" -eq 0 ]
