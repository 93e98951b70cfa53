#!/usr/bin/env bash
# Smoke run of the map-file fuzzer (tests/fuzz/fuzz_mapfile.c) inside
# `make test`: ~10 s of libFuzzer from a seed corpus of small maps in every
# format (the real corpus when present, plus generated tables, shell output
# and /sys/firmware/memmap trees); prints TAP. `make fuzz` runs it longer.
set -u
cd "$(dirname "$0")/../.." || exit 1
F=build/fuzz/tests/fuzz/fuzz_mapfile
M=${MMBOOT_MEMMAPS:-../shared/memmaps}
T=build/host/mmboot-memmap
SECS=${FUZZ_SMOKE_SECONDS:-10}
if [ ! -x "$F" ]; then
	echo "not ok 1 - $F not built"
	exit 1
fi
seeds=$(mktemp -d)
work=$(mktemp -d)
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh  # stable_copy, show
trap 'rm -rf "$seeds" "$work" "$work.bin" "$work.tool"' EXIT
stable_copy "$F" "$work.bin" -runs=0 || { echo "not ok 1 - $F does not run"; echo "1..1"; exit 1; }
F=$work.bin
stable_copy "$T" "$work.tool" formats && T=$work.tool
# seeds: byte 0 selects a forced prefix in the target; 0 = none (whole file)
i=0
for f in "$M"/*.txt; do
	[ -r "$f" ] || continue
	case $f in */README*) continue ;; esac
	{ printf '\0'; head -c 4000 "$f"; } >"$seeds/s$i"; i=$((i + 1))
	if [ -x "$T" ]; then
		{ printf '\0'; "$T" show "$f" 2>/dev/null | head -c 4000; } >"$seeds/t$i"
	fi
done
printf '\0Type       Start            End              # Pages          Attributes\nAvailable  0000000000000000-000000000009FFFF 00000000000000A0 000000000000000F\n' >"$seeds/shell"
printf '\0MemoryMap,"LoaderCode","1000","1FFF","1","F"\n' >"$seeds/sfo"
# byte 0 = 8: a /sys/firmware/memmap tree (NUL-separated start, end, type
# fields of entries 0, 1, ...), one valid, one with a missing "end" file (\1)
{ printf '\10'; printf '%s\0' 0x0 0x9fbff 'System RAM' 0x9fc00 0x9ffff Reserved 0x100000 \
	0x7fdffff 'System RAM' 0x7fe0000 0x7ffffff 'ACPI Tables' | head -c -1; } >"$seeds/sysfs"
{ printf '\10'; printf '%s\0' 0x0 0x9fbff 'System RAM' 0x9fc00 "$(printf '\1')" Reserved | head -c -1; } >"$seeds/sysfs-missing"
out=$("$F" -max_total_time="$SECS" -timeout=5 -rss_limit_mb=1024 -print_final_stats=1 \
      "$work" "$seeds" 2>&1)
rc=$?
echo "$out" | grep -E '^(Done [0-9]+ runs|stat::(number_of_executed_units|new_units_added|peak_rss_mb)|INFO: seed corpus|fuzz_mapfile: sysfs)|ERROR|SUMMARY' | show
if [ $rc -eq 0 ]; then
	echo "ok 1 - fuzz_mapfile ${SECS}s smoke run over every parser: no crash, leak or invariant failure"
else
	echo "$out" | tail -40 | show
	echo "not ok 1 - fuzz_mapfile smoke run failed (exit $rc)"
fi
# the target's exit line: how often the /sys/firmware/memmap parser accepted
# and refused a generated tree; both must have happened
read -r parsed refused < <(echo "$out" | sed -n 's/^fuzz_mapfile: sysfs trees parsed \([0-9]*\), refused \([0-9]*\)$/\1 \2/p' | tail -n1)
if [ "${parsed:-0}" -gt 0 ] && [ "${refused:-0}" -gt 0 ]; then
	echo "ok 2 - the sysfs parser was reached: $parsed trees parsed, $refused refused"
else
	echo "not ok 2 - the sysfs parser was reached (parsed ${parsed:-none}, refused ${refused:-none})"
fi
echo "1..2"
