#!/usr/bin/env bash
# mmboot-memmap on the real-map corpus and on bad input; prints TAP.
#
# For every map in ../shared/memmaps (raw and normalised):
#   show      exits 0; its table parses back (show of the show output gives
#             the same rows: the mmboot text table round trip)
#   replay    --json is valid JSON with the agreed fields; the PMM's free +
#             held-back pages account for every usable page below 4 GiB
#             (frame 0 aside) and its checker finds nothing
#   svg       well-formed XML (xmllint); one band per non-empty entry in
#             both the linear and the compressed scale
# Then: diff of the ZenBook's e820 and EFI forms shows no usable difference
# (exit 0), diff of two machines does (exit 1); diff of two small hand-made
# maps prints exactly the lines worked out by hand (added, removed, retyped,
# pieces merged, grouped by default and by class with --exact, both
# directions) with the exit status each case must have; a binary dump written by an
# independent implementation of docs/memmap.md (python3) reads back with the
# same rows; bad input (garbled line, truncated or corrupted dump, binary
# junk, empty or missing file) exits 2 with a message naming the place.
# Without the corpus: says so, fails only when $CI is set.
set -u
cd "$(dirname "$0")/../.." || exit 1
T=${MMBOOT_MEMMAP_TOOL:-build/host/mmboot-memmap}
M=${MMBOOT_MEMMAPS:-../shared/memmaps}
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# rows of a show output: "idx type start end" (columns 1-4 of table rows)
rows() { awk '/^  idx type/{t=1;next} t&&/^$/{exit} t{print $1,$2,$3,$4}' "$1"; }

show_roundtrip() {  # show FILE, show the output again: same rows
	"$T" show "$1" >"$tmp/a.txt" 2>"$tmp/err" || { show "$tmp/err"; return 1; }
	"$T" show "$tmp/a.txt" >"$tmp/b.txt" 2>"$tmp/err" || { show "$tmp/err"; return 1; }
	[ -s "$tmp/a.txt" ] && diff <(rows "$tmp/a.txt") <(rows "$tmp/b.txt") >"$tmp/d" ||
		{ show "$tmp/d"; return 1; }
	[ "$(rows "$tmp/a.txt" | wc -l)" -gt 0 ]
}

replay_json() {
	"$T" replay "$1" --json >"$tmp/r.json" 2>"$tmp/err" || { show "$tmp/err"; return 1; }
	python3 - "$tmp/r.json" <<'EOF' 2>&1 | show
import json, sys
d = json.load(open(sys.argv[1]))
need = ["entries_in", "entries_out", "usable_below_4g", "usable_above_4g",
        "pmm_free_pages", "pmm_metadata_bytes", "largest_free_block", "warnings"]
missing = [k for k in need if k not in d]
assert not missing, "missing fields %s" % missing
assert isinstance(d["warnings"], list) and all(isinstance(w, str) for w in d["warnings"])
assert d["pmm_check_errors"] == 0, "pmm_check errors"
usable = d["usable_below_4g"] // 4096
held = d["pmm_free_pages"] + d["pmm_reserved_pages"]
assert usable - 1 <= held <= usable, "free %d + held back %d vs usable %d pages" % (
    d["pmm_free_pages"], d["pmm_reserved_pages"], usable)
assert d["largest_free_block"] <= 4 << 20 and d["pmm_metadata_bytes"] > 0
EOF
	[ "${PIPESTATUS[0]}" -eq 0 ]
}

svg_bands() {
	"$T" svg "$1" >"$tmp/m.svg" 2>"$tmp/err" || { show "$tmp/err"; return 1; }
	xmllint --noout "$tmp/m.svg" 2>&1 | show
	[ "${PIPESTATUS[0]}" -eq 0 ] || return 1
	"$T" show "$1" >"$tmp/s.txt" || return 1
	local want lin cmp
	want=$(rows "$tmp/s.txt" | awk '$3 != $4' | wc -l)
	lin=$(xmllint --xpath "count(//*[local-name()='g'][@id='linear']/*[@class='band'])" "$tmp/m.svg")
	cmp=$(xmllint --xpath "count(//*[local-name()='g'][@id='compressed']/*[@class='band'])" "$tmp/m.svg")
	[ "$lin" = "$want" ] && [ "$cmp" = "$want" ] ||
		{ echo "# bands: linear $lin compressed $cmp, entries $want"; return 1; }
}

corpus_tests() {
	local f
	for f in "$M"/*.txt; do
		case $f in */README*) continue ;; esac
		local b
		b=$(basename "$f")
		check "show $b: table parses back with the same rows" show_roundtrip "$f"
		check "replay --json $b: valid JSON, fields, PMM accounts for usable pages" replay_json "$f"
		check "svg $b: well-formed, one band per entry in each scale" svg_bands "$f"
	done
	local z="$M/asus_zenbook_ux391fa"
	"$T" diff "${z}_e820.raw.txt" "${z}_efi_unsorted.raw.txt" >"$tmp/diff" 2>&1
	local rc=$?
	show "$tmp/diff"
	check "diff ZenBook e820 vs EFI: no usable difference (exit 0)" \
		test "$rc" -eq 0 -a "$(grep -c 'usable difference: none' "$tmp/diff")" -eq 1
	"$T" diff "$M/dell_latitude_7490.txt" "$M/hp_elitebook_1040_g9.txt" >"$tmp/diff" 2>&1
	rc=$?
	check "diff of two machines: ranges reported, usable difference (exit 1)" \
		test "$rc" -eq 1 -a "$(grep -cE '^(added|removed|retyped) ' "$tmp/diff")" -gt 0
}

# diff of two hand-made EFI maps. What changes, worked out by hand:
#   0x700000-0x800000  free RAM in A, runtime data + code in B (two entries,
#                      one group: one line)          -> retyped free -> reserved
#   0x800000-0x900000  boot-services data in A, conventional in B: the same
#                      group by default (nothing), --exact: retyped
#   0xa00000-0xb00000  reserved in A only           -> removed
#   4 GiB .. +1 MiB    conventional in B only       -> added
# usable: A 640 KiB + 7 MiB + 1 MiB, B 640 KiB + 6 MiB + 1 MiB (+1 MiB above
# 4 GiB): 2 MiB free in one map only -> exit 1. Each case compares the whole
# output after the two "---"/"+++" lines.
diff_case() {  # NAME WANT-RC EXPECTED-FILE ARGS...
	local name=$1 want=$2 exp=$3; shift 3
	"$T" diff "$@" >"$tmp/dout" 2>&1
	local rc=$?
	tail -n +3 "$tmp/dout" >"$tmp/dgot"
	if [ "$rc" -eq "$want" ] && diff -u "$exp" "$tmp/dgot" >"$tmp/dd" &&
	   [ "$(head -n2 "$tmp/dout" | grep -c '^\(---\|+++\) ')" -eq 2 ]; then
		ok "diff $name: exact lines, exit $want"
	else
		not_ok "diff $name: exact lines, exit $want (got exit $rc)"
		show "$tmp/dd"; show "$tmp/dout"
	fi
}

diff_exact_tests() {
	cat >"$tmp/ma.txt" <<'EOF'
# machine: hand-made A
0x0 0xa0000 EfiConventionalMemory attr=0xf
0x100000 0x800000 EfiConventionalMemory attr=0xf
0x800000 0x900000 EfiBootServicesData attr=0xf
0x900000 0xa00000 EfiACPIReclaimMemory attr=0xf
0xa00000 0xb00000 EfiReservedMemoryType attr=0x0
0xfee00000 0xfee01000 EfiMemoryMappedIO attr=0x1
EOF
	cat >"$tmp/mb.txt" <<'EOF'
# machine: hand-made B
0x0 0xa0000 EfiConventionalMemory attr=0xf
0x100000 0x700000 EfiConventionalMemory attr=0xf
0x700000 0x780000 EfiRuntimeServicesData attr=0x800000000000000f
0x780000 0x800000 EfiRuntimeServicesCode attr=0x800000000000000f
0x800000 0x900000 EfiConventionalMemory attr=0xf
0x900000 0xa00000 EfiACPIReclaimMemory attr=0xf
0xfee00000 0xfee01000 EfiMemoryMappedIO attr=0x1
0x100000000 0x100100000 EfiConventionalMemory attr=0xf
EOF
	sed 's/EfiBootServicesData/EfiConventionalMemory/' "$tmp/ma.txt" >"$tmp/mc.txt"
	cat >"$tmp/e1" <<'EOF'
retyped 0x0000000000700000-0x0000000000800000    1.0 MiB  free -> reserved
removed 0x0000000000a00000-0x0000000000b00000    1.0 MiB  reserved
added   0x0000000100000000-0x0000000100100000    1.0 MiB  free
usable below 4 GiB: 8 MiB -> 7 MiB (-1024 KiB)
usable above 4 GiB: 0 MiB -> 1 MiB (+1024 KiB)
usable difference: 2097152 bytes free in one map only
EOF
	diff_case "A B (grouped)" 1 "$tmp/e1" "$tmp/ma.txt" "$tmp/mb.txt"
	cat >"$tmp/e2" <<'EOF'
retyped 0x0000000000700000-0x0000000000800000    1.0 MiB  usable -> runtime
retyped 0x0000000000800000-0x0000000000900000    1.0 MiB  boot_services -> usable
removed 0x0000000000a00000-0x0000000000b00000    1.0 MiB  reserved
added   0x0000000100000000-0x0000000100100000    1.0 MiB  usable
usable below 4 GiB: 8 MiB -> 7 MiB (-1024 KiB)
usable above 4 GiB: 0 MiB -> 1 MiB (+1024 KiB)
usable difference: 2097152 bytes free in one map only
EOF
	diff_case "--exact A B" 1 "$tmp/e2" --exact "$tmp/ma.txt" "$tmp/mb.txt"
	cat >"$tmp/e3" <<'EOF'
retyped 0x0000000000700000-0x0000000000800000    1.0 MiB  reserved -> free
added   0x0000000000a00000-0x0000000000b00000    1.0 MiB  reserved
removed 0x0000000100000000-0x0000000100100000    1.0 MiB  free
usable below 4 GiB: 7 MiB -> 8 MiB (+1024 KiB)
usable above 4 GiB: 1 MiB -> 0 MiB (-1024 KiB)
usable difference: 2097152 bytes free in one map only
EOF
	diff_case "B A (reversed: added <-> removed)" 1 "$tmp/e3" "$tmp/mb.txt" "$tmp/ma.txt"
	cat >"$tmp/e4" <<'EOF'
no differences
usable below 4 GiB: 8 MiB -> 8 MiB (+0 KiB)
usable above 4 GiB: 0 MiB -> 0 MiB (+0 KiB)
usable difference: none
EOF
	diff_case "boot services vs conventional (same group)" 0 "$tmp/e4" "$tmp/ma.txt" "$tmp/mc.txt"
	cat >"$tmp/e5" <<'EOF'
retyped 0x0000000000800000-0x0000000000900000    1.0 MiB  boot_services -> usable
usable below 4 GiB: 8 MiB -> 8 MiB (+0 KiB)
usable above 4 GiB: 0 MiB -> 0 MiB (+0 KiB)
usable difference: none
EOF
	diff_case "--exact boot services vs conventional (retyped, both free)" 0 "$tmp/e5" \
		--exact "$tmp/ma.txt" "$tmp/mc.txt"
	"$T" diff "$tmp/ma.txt" >/dev/null 2>&1
	check "diff with one file: exit 2" test $? -eq 2
}

# A dump written from docs/memmap.md by python3 (not by mmboot's code).
write_dump() {  # normalised-or-any map -> show rows -> dump file $2
	python3 - "$1" "$2" <<'EOF'
import struct, sys, zlib
rows = []
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) >= 3 and p[0].startswith("0x") and not p[2].startswith("e820:"):
        names = ["EfiReservedMemoryType", "EfiLoaderCode", "EfiLoaderData",
                 "EfiBootServicesCode", "EfiBootServicesData", "EfiRuntimeServicesCode",
                 "EfiRuntimeServicesData", "EfiConventionalMemory", "EfiUnusableMemory",
                 "EfiACPIReclaimMemory", "EfiACPIMemoryNVS", "EfiMemoryMappedIO"]
        attr = int(p[3][5:], 16) if len(p) > 3 else 0
        s, e = int(p[0], 16), int(p[1], 16)
        rows.append((names.index(p[2]), s, (e - s) >> 12, attr))
dsz = 48
data = b"".join(struct.pack("<IIQQQQ8x", t, 0, s, 0, n, a) for t, s, n, a in rows)
def s(x, n): return x.encode().ljust(n, b"\0")
hdr = struct.pack("<8sIIIIII Q II Q III I HBBBBBB", b"MMBDUMP\n", 1, 512, dsz, 1, len(rows),
                  1, 0x1234, 0x10000, (2 << 16) | 70, 0, 0, 0x0304, 3, zlib.crc32(data),
                  2026, 11, 22, 10, 0, 0, 0)
hdr += s("Test Vendor", 64) + s("ACME", 64) + s("Board 9", 64) + s("1.0", 64) + \
       s("ACME BIOS", 64) + s("B1.23", 64) + s("11/22/2026", 32) + b"\0" * 12
assert len(hdr) == 508, len(hdr)
hdr += struct.pack("<I", zlib.crc32(hdr + b"\0\0\0\0"))
open(sys.argv[2], "wb").write(hdr + data)
EOF
}

expect_bad() {  # expect_bad DESC PATTERN FILE: exit 2, stderr names the place
	local d=$1 pat=$2 f=$3
	"$T" show "$f" >/dev/null 2>"$tmp/err"
	local rc=$?
	show "$tmp/err"
	check "$d: exit 2, message names the place" \
		test "$rc" -eq 2 -a "$(grep -cE -- "$pat" "$tmp/err")" -ge 1
}

dump_and_bad_tests() {
	local src="$M/qemu_ovmf_q35_efi_127entries.txt"
	if [ -r "$src" ] && write_dump "$src" "$tmp/q.map"; then
		"$T" show "$tmp/q.map" >"$tmp/q.txt" 2>"$tmp/err"
		local rc=$?
		show "$tmp/err"
		"$T" show "$src" >"$tmp/src.txt"
		check "dump written from the documented layout reads back: same rows" \
			test "$rc" -eq 0 -a -z "$(diff <(rows "$tmp/q.txt") <(rows "$tmp/src.txt"))"
		check "dump header shown (SMBIOS, map key)" \
			test "$(grep -cE '^(manufacturer: ACME|product: Board 9|descriptors: size 48, version 1, map key 0x1234)$' "$tmp/q.txt")" -eq 3
		head -c 3000 "$tmp/q.map" >"$tmp/trunc.map"
		expect_bad "truncated dump" "trunc.map: offset 0x[0-9a-f]+: truncated" "$tmp/trunc.map"
		cp "$tmp/q.map" "$tmp/flip.map"
		printf '\x55' | dd of="$tmp/flip.map" bs=1 seek=700 conv=notrunc status=none
		expect_bad "corrupted dump" "flip.map: offset 0x200: descriptor checksum" "$tmp/flip.map"
	fi
	printf 'BIOS-e820: [mem 0x0-0x9ffff] usable\nBIOS-e820: [mem 0xa0000-0xfffff] reserved\nBIOS-e820: [mem 0x100000-0x1fff' >"$tmp/cut.txt"
	expect_bad "e820 log cut mid-line" "cut.txt:3:" "$tmp/cut.txt"
	printf 'efi: mem00: [Conventional Memory|  |WB] range=[0x0-0xfff] (0MB)\nefi: mem01: [Conventional Memory|  |WB] range=[0x1000-0x1fff] (0MB)\nefi: mem01: [Conventional Memory|  |WB] range=[0x2000-0x2fff] (0MB)\n' >"$tmp/dup.txt"
	expect_bad "EFI log with a repeated line" "dup.txt:3: entry mem01 out of sequence" "$tmp/dup.txt"
	head -c 4096 /bin/sh >"$tmp/junk.bin"
	expect_bad "binary junk" "junk.bin: offset 0x" "$tmp/junk.bin"
	: >"$tmp/empty.txt"
	expect_bad "empty file" "empty.txt.*empty" "$tmp/empty.txt"
	expect_bad "missing file" "no-such-file.txt: No such file" "$tmp/no-such-file.txt"
	"$T" frobnicate >/dev/null 2>&1
	check "unknown command: exit 2" test $? -eq 2
}

other_tests() {
	if [ -d /sys/firmware/memmap ]; then
		"$T" show /sys/firmware/memmap >"$tmp/sys.txt" 2>&1
		check "show /sys/firmware/memmap of this machine" test $? -eq 0 -a "$(rows "$tmp/sys.txt" | wc -l)" -gt 0
	fi
	if command -v rsvg-convert >/dev/null 2>&1 && [ -r "$M/dell_latitude_7490.txt" ]; then
		"$T" svg "$M/dell_latitude_7490.txt" --png "$tmp/m.png" >/dev/null 2>"$tmp/err"
		show "$tmp/err"
		check "svg --png writes a PNG (rsvg-convert)" \
			test "$(head -c 4 "$tmp/m.png" 2>/dev/null | od -An -c | tr -d ' ')" = '211PNG'
	fi
}

if [ ! -x "$T" ]; then
	not_ok "$T not built"
	exit 1
fi
stable_copy "$T" "$tmp/mmboot-memmap" formats || { not_ok "$T does not run"; exit 1; }
T=$tmp/mmboot-memmap
if ls "$M"/*.raw.txt >/dev/null 2>&1; then
	corpus_tests
else
	echo "# corpus $M not found (it lives next to the repository: ../shared/memmaps)"
	if [ -n "${CI:-}" ]; then not_ok "corpus present (CI is set)"; else ok "corpus missing: corpus tests skipped # SKIP"; fi
fi
diff_exact_tests
dump_and_bad_tests
other_tests
echo "1..$n"
