# shellcheck shell=bash
# Helpers shared by the inspector's QEMU tests (tests/memmap/boot-*.sh);
# sourced, not run. Each test boots through tools/run-qemu.sh (TIMEOUT per
# boot <= 90 s) and runs at most two boots at a time.
#
# After sourcing: $tmp (removed at exit, which also prints the TAP plan),
# $EFI (a stable private copy of the loader), $T (of mmboot-memmap), and
#   ok/not_ok/check/show/stable_copy   from tests/lib/tap.sh
#   mkimg IMG [LOADER [DIR]]  16 MiB FAT16 superfloppy as run-qemu.sh makes
#                       it, with \mmboot\ if DIR is 1 (default) and, if
#                       LOADER is 1 (default), \EFI\BOOT\BOOTX64.EFI
#   boot IMG LOG [VAR=value ...]  run-qemu.sh on a copy of IMG, serial to LOG,
#                       run-qemu's own messages to LOG.run; returns its status
#   start_boot IMG LOG [VAR=value ...]  the same in the background (LOG
#                       emptied first), run-qemu's pid in $bpid
#   clean LOG           serial log without ANSI escapes and CR at line ends (a
#                       lone CR, as in the countdown, becomes a line break)
#   went_on LOG         the kernel stage's banner is in the (clean) log
#   kept_dir LOG        the scratch directory run-qemu kept (KEEP=1)
#   rows FILE           the memory-map table rows of a report
#   wait_for LOG ERE [SECONDS]  until the raw LOG matches (1 if it never does)
#   config IMG TEXT     TEXT as \mmboot\config.txt on IMG
#   sendkeys SOCKET DELAY KEY...  QEMU monitor sendkey of each KEY, DELAY
#                       seconds after each
set -u
cd "$(dirname "$0")/../.." || exit 1
T=build/host/mmboot-memmap
EFI=${EFI:-build/BOOTX64.EFI}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-90}
export MTOOLS_SKIP_CHECK=1
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; echo "1..$n"' EXIT

mkimg() {
	truncate -s 16M "$1" && mformat -i "$1" -T 32768 -h 64 -s 32 -v MMBOOT :: || return 1
	if [ "${3:-1}" = 1 ]; then mmd -i "$1" ::/mmboot || return 1; fi
	[ "${2:-1}" = 1 ] || return 0
	mmd -i "$1" ::/EFI ::/EFI/BOOT && mcopy -i "$1" "$EFI" ::/EFI/BOOT/BOOTX64.EFI
}

# replaces the (sub)shell by run-qemu.sh: call it in ( ... )
exec_qemu() {
	local img=$1 log=$2
	shift 2
	exec env MEM=512M MACHINE=q35 SERIAL_STDIO=0 SERIAL_LOG="$log" TIMEOUT="$BOOT_TIMEOUT" \
		IMG="$img" "$@" tools/run-qemu.sh >"$log.run" 2>&1 </dev/null
}
boot() { ( exec_qemu "$@" ); }
start_boot() {
	: >"$2"
	( exec_qemu "$@" ) &
	# shellcheck disable=SC2034  # read by the tests that source this
	bpid=$!
}

clean()   { sed 's/\r*$//; s/\x1b\[[0-9;=?]*[A-Za-z]//g' "$1" | tr '\r' '\n'; }
went_on() { grep -aq '^mmboot kernel stage' "$1"; }
kept_dir() { sed -n 's/^run-qemu: kept //p' "$1.run" | tail -1; }
# the table rows of a report (serial log or `mmboot-memmap show` output)
rows() { awk '/^  idx type/{t=1;next} t&&/^$/{exit} t{print}' "$1"; }
# wait_for LOG ERE [SECONDS]: until the raw log matches (1 if it never does)
wait_for() {
	local _
	for _ in $(seq 1 $((${3:-$BOOT_TIMEOUT} * 5))); do
		grep -aqE "$2" "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}
config() {
	printf '%s\n' "$2" >"$tmp/cfg" && mcopy -o -i "$1" "$tmp/cfg" ::/mmboot/config.txt
}
sendkeys() {
	python3 - "$@" <<'EOF' 2>&1 | show
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
for k in sys.argv[3:]:
    s.sendall(("sendkey %s\n" % k).encode())
    time.sleep(float(sys.argv[2]))
s.close()
EOF
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
# shellcheck disable=SC2034  # used by the tests that source this
machine=QEMU_Standard_PC_Q35_ICH9_2009  # the name part QEMU's SMBIOS gives
