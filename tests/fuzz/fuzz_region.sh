#!/usr/bin/env bash
# Smoke run of the region fuzzer for `make test` (TAP). The full run is
# `make fuzz` (FUZZ_TIME seconds per fuzzer).
set -u
bin=${BUILD:-build}/fuzz/tests/fuzz/fuzz_region
echo "1..1"
if [ ! -x "$bin" ]; then
	echo "not ok 1 - fuzz_region smoke run (missing $bin)"
	exit 0
fi
log=$(mktemp)
if "$bin" -runs=3000 -max_len=512 -seed=1 >"$log" 2>&1; then
	echo "ok 1 - fuzz_region smoke run ($(grep -o 'Done [0-9]* runs' "$log" | head -1))"
else
	sed 's/^/# /' "$log" | tail -40
	echo "not ok 1 - fuzz_region smoke run"
fi
rm -f "$log"
