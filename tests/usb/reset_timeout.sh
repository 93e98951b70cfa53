#!/usr/bin/env bash
# The end of a run on a real PC when nobody presses a key (kernel/reset.c):
# a variant of the loader+kernel built with RESET_TIMEOUT=3 (instead of
# 120 s) boots the stick image under QEMU without isa-debug-exit, twice at
# once:
#   kbd    q35 with its PS/2 controller: the kernel offers "press a key ...,
#          or wait 3 s", nobody presses, no stray byte (firmware leftovers,
#          acks) may count as a key;
#   nokbd  q35 with i8042=off: the kernel finds no controller (status port
#          reads 0xFF) and only waits;
# each must end with "reset: timeout", reset through the ACPI reset register
# (QEMU -no-reboot exits 0) without falling through to port 0xCF9, and not
# before about 3 s have passed on the host clock (the wait is timed by the
# ACPI PM timer, from QEMU's virtual clock). The wait measured on the host is
# printed; it is longer than 3 s on a loaded machine and never asserted
# beyond "not much shorter". Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/usb/lib.sh
work=$(mktemp -d build/test-usb-reset.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$work"' EXIT
VB=build/usb-timeout
if ! make -s -j2 --no-print-directory BUILD=$VB RESET_TIMEOUT=3 $VB/BOOTX64.EFI >"$work/make.log" 2>&1 ||
   ! tools/mkimage.sh -r esp/README.txt -o $VB/mmboot.img $VB/BOOTX64.EFI >>"$work/make.log" 2>&1; then
	sed 's/^/# make: /' "$work/make.log"; echo "not ok 1 - build the RESET_TIMEOUT=3 variant"; exit 1
fi
usb_ok "build the RESET_TIMEOUT=3 variant"

# boot_timed NAME OPTS...: boot, note the host time of the wait line and of QEMU's end.
boot_timed() {
	local name=$1 dir=$work/$1; shift
	usb_boot "$dir" usb $VB/mmboot.img noexit timeout=120 "$@" &
	local pid=$! t_wait="" t_reset=""
	while kill -0 $pid 2>/dev/null; do
		[ -z "$t_wait" ] && grep -aq 'stays on' "$dir/serial.log" 2>/dev/null && t_wait=$(date +%s.%N)
		[ -z "$t_reset" ] && grep -aq '^reset: timeout' "$dir/serial.log" 2>/dev/null &&
			t_reset=$(date +%s.%N)
		sleep 0.1
	done
	wait $pid
	# QEMU may end within one poll of the reset line: its end time then.
	[ -n "$t_reset" ] || t_reset=$(date +%s.%N)
	echo "$(cat "$dir/rc") ${t_wait:-0} $t_reset" >"$dir/timing"
}
boot_timed kbd &
p1=$!
boot_timed nokbd machine=i8042=off &
p2=$!
wait $p1 $p2

check() {  # name, expected wait-line text
	local dir=$work/$1 rc t0 t1 secs
	read -r rc t0 t1 <"$dir/timing"
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (a > 0) ? b - a : -1 }')
	if grep -aq "stays on .*; $2 3 s" "$dir/serial.log" && grep -aq '^reset: timeout' "$dir/serial.log" &&
	   grep -aq '^reset: ACPI reset register' "$dir/serial.log" &&
	   ! grep -aq '^reset: port 0xCF9' "$dir/serial.log" && [ "$rc" = 0 ] &&
	   awk -v s="$secs" 'BEGIN { exit !(s >= 2.5) }'; then
		usb_ok "$1: '$2 3 s', then reset by timeout through the ACPI reset register ($secs s after the prompt)"
	else
		usb_notok "$1: '$2 3 s', then reset by timeout through the ACPI reset register (rc $rc, $secs s)"
		usb_explain "$dir"
	fi
}
check kbd "press a key to restart, or wait"
check nokbd "restart in"
usb_plan
