#!/usr/bin/env bash
# Screenshot test of the framebuffer console, and of the end of a run on a
# real PC.
#
# Boots the stick image (USB on xHCI) under QEMU with a std VGA display and
# WITHOUT isa-debug-exit, so that the kernel behaves as on a real PC: after
# its report it prints
#   mmboot: result PASS stays on screen; press a key to restart, or wait 120 s
# and waits (kernel/reset.c). The kernel never exits while the screen is
# being looked at, so no timing guess is needed:
#   1. wait for that line on serial; take `screendump` (PPM and PNG) through
#      the QEMU monitor (unix socket); keep a copy of the serial log as it
#      was at that moment;
#   2. rebuild the text the screen must show from the serial log: the
#      console ring the framebuffer console replayed (its "fbcon: ...
#      replayed N bytes" line says how much: the N bytes before that line,
#      with the serial port's "\r\n" turned back into "\n") and everything
#      after it;
#   3. render that text on the host with the same renderer and font
#      (build/host/fbrender, kernel/fbcon_draw.c) at the screenshot's size and
#      compare every pixel; a negative control (the same text with one
#      character changed) must NOT match;
#   4. press a key (monitor `sendkey`): the kernel must say "reset: key
#      pressed", reset through the ACPI reset register, and QEMU (-no-reboot)
#      must end without the kernel ever trying the next method.
# Artifacts in build/test-artifacts/: screenshot.png, screen-text.txt, and
# screenshot-diff.png on a mismatch. Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/usb/lib.sh
work=$(mktemp -d build/test-usb-shot.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$work"' EXIT
art=build/test-artifacts
mkdir -p "$art"
EFI=${USB_EFI:-build/BOOTX64.EFI}
if ! make --no-print-directory -s USB_EFI="$EFI" usb build/host/fbrender >"$work/make.log" 2>&1; then
	sed 's/^/# make: /' "$work/make.log"; echo "not ok 1 - make usb fbrender"; exit 1
fi
WAIT_LINE='stays on screen; press a key'
dir=$work/boot
sock=$work/mon.sock

usb_boot "$dir" usb build/mmboot.img vga noexit monitor="$sock" timeout=120 &
qpid=$!
t0=$SECONDS
while ! grep -aq "$WAIT_LINE" "$dir/serial.log" 2>/dev/null; do
	if ! kill -0 $qpid 2>/dev/null || [ $((SECONDS - t0)) -gt 90 ]; then break; fi
	sleep 0.5
done
if ! grep -aq "$WAIT_LINE" "$dir/serial.log" 2>/dev/null; then
	usb_notok "kernel reached the on-screen result and waits for a key"
	wait $qpid; usb_explain "$dir"; usb_plan; exit 1
fi
usb_ok "kernel reached the on-screen result and waits for a key ($((SECONDS - t0)) s)"
sleep 1   # the line is on serial a moment before its last glyphs are drawn
cp "$dir/serial.log" "$work/serial-at-shot.log"
python3 tests/usb/qmon.py "$sock" "screendump $work/shot.ppm" "screendump $work/shot.png -f png" \
	>"$work/qmon.log" 2>&1
usb_check "screendump through the QEMU monitor (PPM and PNG)" [ -s "$work/shot.ppm" -a -s "$work/shot.png" ]
cp "$work/shot.png" "$art/screenshot.png" 2>/dev/null

# The text on screen: the replayed ring, then everything after the fbcon line.
python3 - "$work/serial-at-shot.log" "$work/screen.txt" <<'PY'
import re, sys
log = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
m = None
for m in re.finditer(rb"(?m)^fbcon: .*replayed (\d+) bytes\n", log):
    pass
if not m:
    sys.exit("no 'fbcon: ... replayed N bytes' line in the serial log")
n = int(m.group(1))
start = m.start()
open(sys.argv[2], "wb").write(log[start - n:])
PY
usb_check "serial log names the replayed console ring (fbcon line)" [ -s "$work/screen.txt" ]
cp "$work/screen.txt" "$art/screen-text.txt" 2>/dev/null
# The kernel's own verdict (PASS or FAIL of every layer's tests) is the boot
# tests' business; here the screen must carry the report's end and the result.
verdict=$(grep -ao '^mmboot: \(PASS\|FAIL\)' "$work/screen.txt" | tail -n1)
usb_check "the screen's text holds the kernel's report and result (${verdict:-none})" \
	bash -c "grep -q '^ok .* fbcon_screen' '$work/screen.txt' && [ -n '$verdict' ] && grep -q '$WAIT_LINE' '$work/screen.txt'"

out=$(build/host/fbrender compare "$work/shot.ppm" "$work/screen.txt" "$work/diff.ppm" 2>&1); rc=$?
if [ $rc -eq 0 ]; then
	usb_ok "screenshot equals the host rendering pixel for pixel: $out"
else
	usb_notok "screenshot equals the host rendering pixel for pixel"; echo "# $out"
	[ -s "$work/diff.ppm" ] && python3 tests/usb/ppm2png.py "$work/diff.ppm" "$art/screenshot-diff.png" &&
		echo "# differences in magenta: $art/screenshot-diff.png"
fi
# Negative control: one character different must be seen.
sed 's/press a key/press a kez/' "$work/screen.txt" >"$work/wrong.txt"
out=$(build/host/fbrender compare "$work/shot.ppm" "$work/wrong.txt" 2>&1); rc=$?
usb_check "negative control: one changed character is detected (${out%%;*})" [ $rc -eq 1 ]

# Key press -> reset through the ACPI reset register -> QEMU ends (-no-reboot).
python3 tests/usb/qmon.py "$sock" "sendkey spc" >>"$work/qmon.log" 2>&1
wait $qpid; rc=$?
if [ "$rc" = 0 ] && grep -aq '^reset: key pressed' "$dir/serial.log" &&
   grep -aq '^reset: ACPI reset register' "$dir/serial.log" &&
   ! grep -aq '^reset: port 0xCF9' "$dir/serial.log"; then
	usb_ok "key press resets the machine through the ACPI reset register (QEMU ended, rc $rc)"
else
	usb_notok "key press resets the machine through the ACPI reset register"; usb_explain "$dir"
fi
usb_plan
