# shellcheck shell=bash
# Helpers shared by the inspector's QEMU tests (tests/memmap/boot-*.sh);
# sourced, not run. Each test boots through tools/run-qemu.sh (TIMEOUT per
# boot <= 90 s) and runs at most two boots at a time.
#
# After sourcing: $tmp (removed at exit, which also prints the TAP plan),
# $EFI (a stable private copy of the loader), $T (of mmboot-memmap), and
#   ok/not_ok/check     TAP lines
#   mkimg IMG [LOADER]  16 MiB FAT16 superfloppy as run-qemu.sh makes it, with
#                       \mmboot\ and, if LOADER is 1 (default), \EFI\BOOT\BOOTX64.EFI
#   boot IMG LOG [VAR=value ...]  run-qemu.sh on a copy of IMG, serial to LOG,
#                       run-qemu's own messages to LOG.run; returns its status
#   clean LOG           serial log without ANSI escapes and CR at line ends (a
#                       lone CR, as in the countdown, becomes a line break)
#   went_on LOG         the kernel stage's banner is in the (clean) log
#   kept_dir LOG        the scratch directory run-qemu kept (KEEP=1)
set -u
cd "$(dirname "$0")/../.." || exit 1
T=build/host/mmboot-memmap
EFI=${EFI:-build/BOOTX64.EFI}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-90}
export MTOOLS_SKIP_CHECK=1
n=0
ok()     { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
check()  { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; echo "1..$n"' EXIT

# a private, working copy of a program that other people's `make` may be
# relinking right now: copy, check that it runs, retry for up to a minute
stable_copy() {  # stable_copy SRC DST TESTCMD...
	local src=$1 dst=$2 _
	shift 2
	for _ in $(seq 1 30); do
		if cp "$src" "$dst" 2>/dev/null && chmod +x "$dst" && "$dst" "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 2
	done
	return 1
}

mkimg() {
	truncate -s 16M "$1" && mformat -i "$1" -T 32768 -h 64 -s 32 -v MMBOOT :: &&
	mmd -i "$1" ::/mmboot || return 1
	[ "${2:-1}" = 1 ] || return 0
	mmd -i "$1" ::/EFI ::/EFI/BOOT && mcopy -i "$1" "$EFI" ::/EFI/BOOT/BOOTX64.EFI
}

boot() {
	local img=$1 log=$2
	shift 2
	env MEM=512M MACHINE=q35 SERIAL_STDIO=0 SERIAL_LOG="$log" TIMEOUT="$BOOT_TIMEOUT" \
		IMG="$img" "$@" tools/run-qemu.sh >"$log.run" 2>&1 </dev/null
}

clean()   { sed 's/\r*$//; s/\x1b\[[0-9;=?]*[A-Za-z]//g' "$1" | tr '\r' '\n'; }
went_on() { grep -aq '^mmboot kernel stage' "$1"; }
kept_dir() { sed -n 's/^run-qemu: kept //p' "$1.run" | tail -1; }
# lines of a clean log, prefixed for TAP
show() { sed 's/^/# /' "$@"; }

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
# shellcheck disable=SC2034  # used by the tests that source this
machine=QEMU_Standard_PC_Q35_ICH9_2009  # the name part QEMU's SMBIOS gives
