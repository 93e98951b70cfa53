#!/usr/bin/env bash
# Smoke run of the slab heap's differential fuzzer (tests/fuzz/fuzz_kmem.c)
# for `make test`, printing TAP. A crash or an abort (model mismatch, missed
# debug report, inconsistency found by kmem_check) fails it. The long run
# is `make fuzz` (FUZZ_TIME seconds per fuzzer).
set -u
bin=${BUILD:-build}/fuzz/tests/fuzz/fuzz_kmem
runs=${KMEM_FUZZ_RUNS:-4000}
echo "1..1"
if [ ! -x "$bin" ]; then
	echo "not ok 1 - fuzz_kmem smoke run (missing $bin)"
	exit 0
fi
log=$(mktemp)
if "$bin" -runs="$runs" -max_len=1024 -seed=1 >"$log" 2>&1; then
	echo "ok 1 - fuzz_kmem smoke run ($(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | head -1))"
else
	sed 's/^/# /' "$log" | tail -40
	echo "not ok 1 - fuzz_kmem smoke run"
fi
rm -f "$log"
