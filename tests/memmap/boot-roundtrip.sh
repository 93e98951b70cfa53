#!/usr/bin/env bash
# QEMU boot test of the memory-map inspector in the loader; prints TAP.
#
# Boot 1: a FAT image that already holds \mmboot\<machine>-1.map/.txt
# (placeholder bytes). The loader must print the mmboot report on serial,
# save <machine>-2.map and -2.txt (the next free number: -1 untouched), and
# boot on. Read back with mtools, `mmboot-memmap show` of the dump must
# print the same table rows as the loader printed, and the same report apart
# from the "source:" line; the saved .txt must parse to the same rows.
# Boot 2: \mmboot is a plain file, so nothing can be saved: the loader must
# say so and still boot to the end (exit 0).
# Boot 3: options from \mmboot\config.txt, the countdown and the keyboard
# view (keys sent through the QEMU monitor).
# shellcheck disable=SC2015  # a && b || die
# shellcheck source=tests/memmap/boot-lib.sh
. "$(dirname "$0")/boot-lib.sh"

report() { awk '/^mmboot memory map v1/{t=1} t&&/^usable above 4 GiB/{print;exit} t' "$1" | grep -v '^source: '; }

# --- boot 1: save next to an earlier dump ---------------------------------
mkimg "$tmp/a.img" &&
	echo "earlier dump" >"$tmp/seed" &&
	mcopy -i "$tmp/a.img" "$tmp/seed" "::/mmboot/$machine-1.map" &&
	mcopy -i "$tmp/a.img" "$tmp/seed" "::/mmboot/$machine-1.txt" || { not_ok "image"; exit 1; }
boot "$tmp/a.img" "$tmp/a.log" DUMPS="$tmp/dumps"
rc=$?
clean "$tmp/a.log" >"$tmp/serial"
# "the boot goes on" = the loader hands over to the kernel stage (went_on);
# whether the kernel's own tests pass afterwards is not this test's business
echo "# boot 1: run-qemu exit $rc"
check "boot 1: the loader goes on to the kernel stage" went_on "$tmp/serial"
went_on "$tmp/serial" || { tail -5 "$tmp/a.log.run"; tail -15 "$tmp/serial"; } | show
check "loader prints the report with SMBIOS header" \
	test "$(grep -cE '^(mmboot memory map v1|manufacturer: QEMU|descriptors: size [0-9]+, version 1, map key 0x[0-9a-f]+)$' "$tmp/serial")" -eq 3
grep -E '^saved: |^save: ' "$tmp/serial" | show
check "saved as -2 (next free number)" \
	test -s "$tmp/dumps/$machine-2.map" -a -s "$tmp/dumps/$machine-2.txt"
check "earlier dump -1 left untouched" cmp -s "$tmp/seed" "$tmp/dumps/$machine-1.map"
"$T" show "$tmp/dumps/$machine-2.map" >"$tmp/host.txt" 2>"$tmp/err"
hrc=$?
show "$tmp/err"
check "host tool reads the saved dump" test "$hrc" -eq 0 -a "$(rows "$tmp/host.txt" | wc -l)" -gt 10
same() { diff "$1" "$2" >"$tmp/d" || { head -20 "$tmp/d" | show; return 1; }; }
rows "$tmp/serial" >"$tmp/r.serial"
rows "$tmp/host.txt" >"$tmp/r.host"
check "dump decodes to the same table rows the loader printed ($(wc -l <"$tmp/r.serial") rows)" \
	same "$tmp/r.serial" "$tmp/r.host"
report "$tmp/serial" >"$tmp/p.serial"
report "$tmp/host.txt" >"$tmp/p.host"
check "same whole report (header, totals, sanitizer, usable) apart from the source line" \
	same "$tmp/p.serial" "$tmp/p.host"
"$T" show "$tmp/dumps/$machine-2.txt" >"$tmp/host2.txt" 2>"$tmp/err"
rows "$tmp/host2.txt" >"$tmp/r.host2"
check "saved text table parses to the same rows" same "$tmp/r.serial" "$tmp/r.host2"

# --- boot 2: nowhere to save ------------------------------------------------
mkimg "$tmp/b.img" 1 0 && echo "not a directory" >"$tmp/f" && mcopy -i "$tmp/b.img" "$tmp/f" ::/mmboot ||
	{ not_ok "image 2"; exit 1; }
boot "$tmp/b.img" "$tmp/b.log" DUMPS="$tmp/dumps2"
rc=$?
clean "$tmp/b.log" >"$tmp/serial2"
grep -E '^save: ' "$tmp/serial2" | show
check "cannot save: reported on the console" \
	test "$(grep -c '^save: .*the boot goes on without saving' "$tmp/serial2")" -ge 1
echo "# boot 2: run-qemu exit $rc"
check "cannot save: boot 2 still goes on to the kernel stage" went_on "$tmp/serial2"

# --- boot 3: options from config.txt, countdown, keyboard ---------------------
# \mmboot\config.txt says "timeout=30 nosave": the loader counts down; keys
# sent through the QEMU monitor (End, Right, then Enter) open the scrollable
# view at its last screen, scroll it sideways and then continue the boot;
# nothing is saved.
mkimg "$tmp/c.img" && config "$tmp/c.img" '# test
timeout=30 nosave' || { not_ok "image 3"; exit 1; }
mon=$tmp/mon.sock
boot "$tmp/c.img" "$tmp/c.log" DUMPS="$tmp/dumps3" EXTRA="-monitor unix:$mon,server,nowait" &
qpid=$!
wait_for "$tmp/c.log" 'scroll the memory map report' 150
sendkeys "$mon" 2 end right ret
wait "$qpid"
rc=$?
clean "$tmp/c.log" >"$tmp/serial3"
check "config.txt options: countdown shown, nosave honoured" \
	test "$(grep -ac 'scroll the memory map report (30 s)' "$tmp/serial3")" -ge 1 -a \
	"$(grep -ac '^inspect: not saved (option nosave)' "$tmp/serial3")" -eq 1
last=$(grep -ao -- '-- lines [0-9]*-[0-9]* of [0-9]*' "$tmp/serial3" | tail -1)
echo "# pager: $last"
check "a key opens the report view; End shows its last screen" \
	test -n "$last" -a "$(echo "$last" | awk '{split($3, a, "-"); print (a[2] == $5)}')" = 1
col=$(grep -ao -- 'column [0-9]* of [0-9]*' "$tmp/serial3" | tail -1)
echo "# pager after Right: $col"
check "Right scrolls the view sideways (first column > 1, within the longest row)" \
	test -n "$col" -a "$(echo "$col" | awk '{print ($2 > 1 && $2 <= $4)}')" = 1
echo "# boot 3: run-qemu exit $rc"
check "Enter continues: boot 3 goes on to the kernel stage" went_on "$tmp/serial3"
