#!/usr/bin/env bash
# Smoke runs of the PMM area's libFuzzer targets (tests/fuzz/fuzz_memmap.c,
# fuzz_pmm.c) for `make test`: each runs for PMM_FUZZ_SECONDS (default 6)
# from an empty corpus; a crash or broken invariant (abort) fails it.
# Prints TAP; the fuzzer's own log is echoed with "# " in front.
set -u
build=${BUILD:-build}
secs=${PMM_FUZZ_SECONDS:-6}
targets=(fuzz_memmap fuzz_pmm)
echo "1..${#targets[@]}"
i=0
for t in "${targets[@]}"; do
	i=$((i + 1))
	bin=$build/fuzz/tests/fuzz/$t
	if [ ! -x "$bin" ]; then
		echo "not ok $i - $t: $bin not built"
		continue
	fi
	corpus=$(mktemp -d)
	log=$(mktemp)
	"$bin" -max_total_time="$secs" -max_len=4096 -print_final_stats=1 -artifact_prefix="$corpus/" "$corpus" >"$log" 2>&1
	rc=$?
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
	grep -E 'ERROR|SUMMARY|#[0-9]+ *DONE|stat::' "$log" | sed 's/^/# /'
	if [ "$rc" -eq 0 ]; then
		echo "ok $i - $t: ${runs:-?} inputs in ${secs}s, no invariant broken"
	else
		tail -n 30 "$log" | sed 's/^/# /'
		echo "not ok $i - $t: exit status $rc"
	fi
	rm -rf "$corpus" "$log"
done
