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
set -u
cd "$(dirname "$0")/../.." || exit 1
T=build/host/mmboot-memmap
EFI=${EFI:-build/BOOTX64.EFI}
n=0
# a private, working copy of a program that other people's `make` may be
# relinking right now: copy, check that it runs, retry for up to a minute
stable_copy() {  # stable_copy SRC DST TESTCMD...
	local src=$1 dst=$2 i
	shift 2
	for i in $(seq 1 30); do
		if cp "$src" "$dst" 2>/dev/null && chmod +x "$dst" && "$dst" "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 2
	done
	return 1
}
ok()     { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
check()  { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; echo "1..$n"' EXIT

rows() { awk '/^  idx type/{t=1;next} t&&/^$/{exit} t{print}' "$1"; }
report() { awk '/^mmboot memory map v1/{t=1} t&&/^usable above 4 GiB/{print;exit} t' "$1" | grep -v '^source: '; }

mkimg() {  # mkimg IMG: FAT16 superfloppy with the loader, as tools/run-qemu.sh makes it
	truncate -s 16M "$1" && mformat -i "$1" -T 32768 -h 64 -s 32 -v MMBOOT :: &&
	mmd -i "$1" ::/EFI ::/EFI/BOOT && mcopy -i "$1" "$EFI" ::/EFI/BOOT/BOOTX64.EFI
}

boot() {  # boot IMG LOG DUMPS
	MEM=512M MACHINE=q35 SERIAL_STDIO=0 SERIAL_LOG="$2" DUMPS="$3" TIMEOUT=${BOOT_TIMEOUT:-90} \
		IMG="$1" tools/run-qemu.sh >"$2.run" 2>&1
}

for need in "$T" "$EFI"; do
	[ -e "$need" ] || { not_ok "$need not built"; exit 1; }
done
command -v mformat >/dev/null || { not_ok "mtools missing"; exit 1; }
stable_copy "$T" "$tmp/mmboot-memmap" formats || { not_ok "$T does not run"; exit 1; }
T=$tmp/mmboot-memmap
# the loader: copy until two copies a second apart agree
for _ in $(seq 1 30); do
	cp "$EFI" "$tmp/BOOTX64.EFI" && sleep 1 && cmp -s "$EFI" "$tmp/BOOTX64.EFI" &&
		[ -s "$tmp/BOOTX64.EFI" ] && break
	sleep 1
done
EFI=$tmp/BOOTX64.EFI

# --- boot 1: save next to an earlier dump ---------------------------------
machine=QEMU_Standard_PC_Q35_ICH9_2009
mkimg "$tmp/a.img" && mmd -i "$tmp/a.img" ::/mmboot &&
	echo "earlier dump" >"$tmp/seed" &&
	mcopy -i "$tmp/a.img" "$tmp/seed" "::/mmboot/$machine-1.map" &&
	mcopy -i "$tmp/a.img" "$tmp/seed" "::/mmboot/$machine-1.txt" || { not_ok "image"; exit 1; }
boot "$tmp/a.img" "$tmp/a.log" "$tmp/dumps"
rc=$?
tr -d '\r' <"$tmp/a.log" | sed 's/\x1b\[[0-9;=?]*[A-Za-z]//g' >"$tmp/serial"
# "the boot goes on" = the loader hands over to the kernel stage; whether the
# kernel's own tests pass afterwards is not this test's business
went_on() { grep -aq '^mmboot kernel stage' "$1"; }
echo "# boot 1: run-qemu exit $rc"
check "boot 1: the loader goes on to the kernel stage" went_on "$tmp/serial"
went_on "$tmp/serial" || { tail -5 "$tmp/a.log.run"; tail -15 "$tmp/serial"; } | sed 's/^/# /'
check "loader prints the report with SMBIOS header" \
	test "$(grep -cE '^(mmboot memory map v1|manufacturer: QEMU|descriptors: size [0-9]+, version 1, map key 0x[0-9a-f]+)$' "$tmp/serial")" -eq 3
grep -E '^saved: |^save: ' "$tmp/serial" | sed 's/^/# /'
check "saved as -2 (next free number)" \
	test -s "$tmp/dumps/$machine-2.map" -a -s "$tmp/dumps/$machine-2.txt"
check "earlier dump -1 left untouched" cmp -s "$tmp/seed" "$tmp/dumps/$machine-1.map"
"$T" show "$tmp/dumps/$machine-2.map" >"$tmp/host.txt" 2>"$tmp/err"
hrc=$?
sed 's/^/# /' "$tmp/err"
check "host tool reads the saved dump" test "$hrc" -eq 0 -a "$(rows "$tmp/host.txt" | wc -l)" -gt 10
same() { diff "$1" "$2" >"$tmp/d" || { head -20 "$tmp/d" | sed 's/^/# /'; return 1; }; }
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
mkimg "$tmp/b.img" && echo "not a directory" >"$tmp/f" && mcopy -i "$tmp/b.img" "$tmp/f" ::/mmboot ||
	{ not_ok "image 2"; exit 1; }
boot "$tmp/b.img" "$tmp/b.log" "$tmp/dumps2"
rc=$?
tr -d '\r' <"$tmp/b.log" | sed 's/\x1b\[[0-9;=?]*[A-Za-z]//g' >"$tmp/serial2"
grep -E '^save: ' "$tmp/serial2" | sed 's/^/# /'
check "cannot save: reported on the console" \
	test "$(grep -c '^save: .*the boot goes on without saving' "$tmp/serial2")" -ge 1
echo "# boot 2: run-qemu exit $rc"
check "cannot save: boot 2 still goes on to the kernel stage" went_on "$tmp/serial2"

# --- boot 3: options from config.txt, countdown, keyboard ---------------------
# \mmboot\config.txt says "timeout=30 nosave": the loader counts down; keys
# sent through the QEMU monitor (End, then Enter) open the scrollable view at
# its last screen and then continue the boot; nothing is saved.
mkimg "$tmp/c.img" && mmd -i "$tmp/c.img" ::/mmboot && printf '# test\ntimeout=30 nosave\n' >"$tmp/cfg" &&
	mcopy -i "$tmp/c.img" "$tmp/cfg" ::/mmboot/config.txt || { not_ok "image 3"; exit 1; }
mon=$tmp/mon.sock
EXTRA="-monitor unix:$mon,server,nowait" boot "$tmp/c.img" "$tmp/c.log" "$tmp/dumps3" &
qpid=$!
for _ in $(seq 1 150); do
	grep -aq 'scroll the memory map report' "$tmp/c.log" 2>/dev/null && break
	sleep 1
done
python3 - "$mon" <<'EOF' 2>&1 | sed 's/^/# /'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
for k in ("end", "ret"):
    s.sendall(("sendkey %s\n" % k).encode())
    time.sleep(2)
EOF
wait "$qpid"
rc=$?
tr -d '\r' <"$tmp/c.log" | sed 's/\x1b\[[0-9;=?]*[A-Za-z]//g' >"$tmp/serial3"
check "config.txt options: countdown shown, nosave honoured" \
	test "$(grep -ac 'scroll the memory map report (30 s)' "$tmp/serial3")" -ge 1 -a \
	"$(grep -ac '^inspect: not saved (option nosave)' "$tmp/serial3")" -eq 1
last=$(grep -ao -- '-- lines [0-9]*-[0-9]* of [0-9]*' "$tmp/serial3" | tail -1)
echo "# pager: $last"
check "a key opens the report view; End shows its last screen" \
	test -n "$last" -a "$(echo "$last" | awk '{split($3, a, "-"); print (a[2] == $5)}')" = 1
echo "# boot 3: run-qemu exit $rc"
check "Enter continues: boot 3 goes on to the kernel stage" went_on "$tmp/serial3"
