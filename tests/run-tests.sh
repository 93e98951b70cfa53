#!/usr/bin/env bash
# Runs test programs and scripts, each of which prints TAP ("ok N - name",
# "not ok N - name"; cmocka does with CMOCKA_MESSAGE_OUTPUT=TAP), shows their
# output, and ends with the summary line "N passed, N failed".
# Only unindented TAP lines count: a script that echoes a log (serial
# output with KTAP in it) must prefix those lines with "# ".
# A program that exits non-zero without reporting a failure counts as one
# failure (a crash must never pass). Exit status: 0 iff nothing failed.
set -u
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0 failed=0 failed_names=()
for t in "$@"; do
	echo "# ---- $t"
	out=$(mktemp)
	"$t" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	p=$(grep -cE '^ok [0-9]+' "$out")
	f=$(grep -cE '^not ok [0-9]+' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $t exited with status $rc without reporting a failure"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $t reported no test at all"
		f=1
	fi
	[ "$f" -gt 0 ] && failed_names+=("$t")
	passed=$((passed + p)) failed=$((failed + f))
	rm -f "$out"
done
echo
for n in "${failed_names[@]}"; do echo "# failed in: $n"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
