#!/usr/bin/env bash
# The fallback reset methods of kernel/reset.c, which an ordinary boot never
# reaches (QEMU's FADT has a reset register, and it works). Two test builds
# of the loader+kernel skip the earlier methods (make RESET_SKIP=..., a
# compile-time knob that exists only for this test) and wait 1 s instead of
# 120 s (RESET_TIMEOUT=1); each boots the stick image under QEMU q35 without
# isa-debug-exit, so the kernel takes the real-PC path (result, wait, reset):
#   cf9   RESET_SKIP=acpi      must print "reset: port 0xCF9 (0x02, 0x06)"
#         and QEMU must reset there (ICH9's reset control register: 0x06
#         asks for a hard reset): the next method's line ("reset: keyboard
#         controller") never appears;
#   kbc   RESET_SKIP=acpi,cf9  must print "reset: keyboard controller (0xFE
#         to port 0x64)" and QEMU must reset there (the i8042's pulse of the
#         reset line): "reset: triple fault" never appears;
#   tf    the kbc build on q35 with i8042=off: no controller takes the 0xFE,
#         so nothing happens for 0.5 s and the kernel must go on to its last
#         resort, "reset: triple fault" (lidt of an empty IDT, int3), which
#         also ends QEMU. This is the control for the two checks above: a
#         method that does nothing shows up as the next line.
# Each method waits 0.5 s (PM timer) after its write before the next one is
# tried, so a method that did nothing shows up as the next line on serial.
# -no-reboot turns the guest reset into QEMU exit 0 (tools/run-qemu.sh calls
# that "the VM reset or powered off without an exit status"; usb_boot records
# the 0). QEMU's FADT reset register is itself I/O port 0xCF9 <- 0x0f: the
# ACPI path and the 0xCF9 path reach the same device by different code.
# The kernel's result line (PASS or FAIL: the other layers' tests are
# the boot tests' business) must come before the reset. Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/usb/lib.sh
work=$(mktemp -d build/test-usb-resetfb.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$work"' EXIT

# build VARIANT SKIP: build/usb-reset-VARIANT/{BOOTX64.EFI,mmboot.img}
build() {
	local vb=build/usb-reset-$1
	if make -s -j2 --no-print-directory BUILD="$vb" RESET_TIMEOUT=1 RESET_SKIP="$2" \
	        "$vb/BOOTX64.EFI" >"$work/make-$1.log" 2>&1 &&
	   tools/mkimage.sh -r esp/README.txt -o "$vb/mmboot.img" "$vb/BOOTX64.EFI" \
	        >>"$work/make-$1.log" 2>&1; then
		usb_ok "build the RESET_SKIP=$2 RESET_TIMEOUT=1 variant"
	else
		sed 's/^/# make: /' "$work/make-$1.log"
		usb_notok "build the RESET_SKIP=$2 RESET_TIMEOUT=1 variant"
		return 1
	fi
}
built_cf9=0 built_kbc=0
build cf9 acpi && built_cf9=1
build kbc acpi,cf9 && built_kbc=1

[ $built_cf9 = 1 ] && { usb_boot "$work/cf9" usb build/usb-reset-cf9/mmboot.img noexit timeout=120 & }
p1=$!
[ $built_kbc = 1 ] && { usb_boot "$work/kbc" usb build/usb-reset-kbc/mmboot.img noexit timeout=120 & }
p2=$!
wait $p1 $p2 2>/dev/null
[ $built_kbc = 1 ] && usb_boot "$work/tf" usb build/usb-reset-kbc/mmboot.img noexit timeout=120 \
	machine=i8042=off

# check NAME EARLIER-LINE METHOD-LINE [NEXT-LINE]: both lines on serial, QEMU
# ended by the reset (exit 0), NEXT-LINE (the method after) never printed
check() {
	local name=$1 dir=$work/$1 rc
	rc=$(cat "$dir/rc" 2>/dev/null || echo none)
	local log=$dir/serial.log res
	res=$(grep -ao 'mmboot: result .*\(PASS\|FAIL\)' "$log" 2>/dev/null | grep -o 'PASS\|FAIL' | head -n1)
	if [ -s "$log" ] && [ -n "$res" ] && grep -aq 'mmboot: result .* stays on' "$log" &&
	   grep -aq '^reset: timeout' "$log" && grep -aqF "$2" "$log" && grep -aqF "$3" "$log" &&
	   { [ -z "${4:-}" ] || ! grep -aqF "$4" "$log"; } && [ "$rc" = 0 ]; then
		usb_ok "$name: result $res, '$2', then '$3' resets QEMU (exit 0 by -no-reboot${4:+, no '$4'})"
		grep -a '^reset:' "$log" | tr -d '\r' | sed 's/^/#   serial: /'
	else
		usb_notok "$name: result line, '$2', then '$3' resets QEMU (exit 0 by -no-reboot${4:+, no '$4'})"
		[ -d "$dir" ] && usb_explain "$dir"
	fi
}
check cf9 "reset: ACPI reset register skipped (test build)" "reset: port 0xCF9 (0x02, 0x06)" \
	"reset: keyboard controller"
check kbc "reset: port 0xCF9 skipped (test build)" "reset: keyboard controller (0xFE to port 0x64)" \
	"reset: triple fault"
check tf "reset: keyboard controller (0xFE to port 0x64)" "reset: triple fault"
usb_plan
