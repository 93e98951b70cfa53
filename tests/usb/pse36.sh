#!/usr/bin/env bash
# A framebuffer above 4 GiB (kernel/fbcon.c, kernel/physwin.c): plain 32-bit
# paging cannot reach it; the kernel maps it with PSE-36 4 MiB pages when the
# CPU has them, else says so on serial and goes on without the screen.
#
# QEMU's display devices all sit below 4 GiB, so a test build of the
# loader+kernel (make FB_ABOVE_4G=1, a compile-time knob that exists only for
# this test; kernel/main.c) takes the framebuffer 4 GiB higher than the
# loader said. With -m 6G, q35 has RAM there (2 GiB below 4 GiB, 4 GiB above,
# the std VGA BAR at 0xc0000000 -> 0x1c0000000), which nothing else uses in a
# 32-bit kernel. Two boots of the stick image (USB on xHCI, std VGA, 6 GiB):
#   nopse36  -cpu qemu64,-pse36, with isa-debug-exit: serial must say
#            "fbcon: framebuffer at 0x1........ lies above 4 GiB and this CPU
#            has no PSE-36 ... no screen, serial only", the kernel's
#            fbcon_screen test must find no screen, the run must go on to its
#            exit, and (a line of its own) its result must be PASS;
#   pse36    the default CPU (qemu64 has PSE-36), no isa-debug-exit: the
#            fbcon line must say "(4 MiB PSE-36 pages)" at that address, the
#            kernel's fbcon_screen test (which reads the pixels back through
#            the mapping) must pass, the result must be on screen and (a line
#            of its own) be PASS; then, through the
#            QEMU monitor, the VM is stopped and the guest-physical memory at
#            the high address is saved (pmemsave), turned into a PPM and
#            compared pixel for pixel with the host rendering of the screen's
#            text (build/host/fbrender, as tests/usb/screenshot.sh does); a
#            negative control (one character changed) must not match.
# Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/usb/lib.sh
work=$(mktemp -d build/test-usb-pse36.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$work"' EXIT
VB=build/usb-fbhigh
if ! make -s -j2 --no-print-directory BUILD=$VB FB_ABOVE_4G=1 RESET_TIMEOUT=30 \
        $VB/BOOTX64.EFI >"$work/make.log" 2>&1 ||
   ! make -s --no-print-directory build/host/fbrender >>"$work/make.log" 2>&1 ||
   ! tools/mkimage.sh -r esp/README.txt -o $VB/mmboot.img $VB/BOOTX64.EFI >>"$work/make.log" 2>&1; then
	sed 's/^/# make: /' "$work/make.log"; echo "not ok 1 - build the FB_ABOVE_4G=1 variant"; exit 1
fi
usb_ok "build the FB_ABOVE_4G=1 variant and build/host/fbrender"

WAIT_LINE='stays on screen; press a key'
sock=$work/mon.sock
usb_boot "$work/nopse36" usb $VB/mmboot.img vga mem=6G cpu=qemu64,-pse36 timeout=150 &
p1=$!
usb_boot "$work/pse36" usb $VB/mmboot.img vga mem=6G noexit monitor="$sock" timeout=150 &
p2=$!

# --- pse36: stop the VM once the result is on screen, save the framebuffer
dir=$work/pse36
t0=$SECONDS
while ! grep -aq "$WAIT_LINE" "$dir/serial.log" 2>/dev/null; do
	if ! kill -0 $p2 2>/dev/null || [ $((SECONDS - t0)) -gt 140 ]; then break; fi
	sleep 0.5
done
fbline=$(grep -a '^fbcon: [0-9]*x[0-9]* pitch' "$dir/serial.log" 2>/dev/null | tr -d '\r' | head -n1)
read -r fw fh fp fpa < <(sed -n 's/^fbcon: \([0-9]*\)x\([0-9]*\) pitch \([0-9]*\) at \(0x[0-9a-f]*\) .*/\1 \2 \3 \4/p' <<<"$fbline")
if grep -aq "$WAIT_LINE" "$dir/serial.log" 2>/dev/null && [ -n "${fpa:-}" ]; then
	sleep 1   # the line is on serial a moment before its last glyphs are drawn
	cp "$dir/serial.log" "$work/serial-at-shot.log"
	python3 tests/usb/qmon.py "$sock" "stop" "pmemsave $fpa $((fp * fh)) $work/fb.raw" "quit" \
		>"$work/qmon.log" 2>&1
fi
wait $p1 $p2

# passed NAME: the kernel's result is PASS (a separate line: a failure of
# another layer's test shows up here, named, not as a console failure)
passed() {
	local dir=$work/$1
	if grep -aqE 'mmboot: (PASS|result .*PASS)' "$dir/serial.log"; then
		usb_ok "$1: the run's result is PASS"
	else
		usb_notok "$1: the run's result is PASS; failed kernel tests:"
		grep -a '^not ok' "$dir/serial.log" | tr -d '\r' | sed 's/^/#   serial: /'
		grep -a -B1 '^not ok' "$dir/serial.log" | grep -a '^# ' | tr -d '\r' | sed 's/^/#   serial: /'
	fi
}

dir=$work/nopse36
rc=$(cat "$dir/rc" 2>/dev/null)
if { [ "$rc" = 33 ] || [ "$rc" = 35 ]; } && grep -aqE '^mmboot: (PASS|FAIL)' "$dir/serial.log" &&
   grep -aqE '^fbcon: framebuffer at 0x1[0-9a-f]{8} lies above 4 GiB and this CPU has no PSE-36.*no screen, serial only' "$dir/serial.log" &&
   grep -aq 'fbcon_screen: no screen in this run' "$dir/serial.log"; then
	usb_ok "nopse36: 'framebuffer ... above 4 GiB and this CPU has no PSE-36 ... serial only', the run goes on to its exit"
	grep -a '^fbcon:' "$dir/serial.log" | tr -d '\r' | sed 's/^/#   serial: /'
else
	usb_notok "nopse36: 'framebuffer ... above 4 GiB and this CPU has no PSE-36 ... serial only', the run goes on to its exit"
	grep -a 'fbcon\|pse\|PSE' "$dir/serial.log" | tr -d '\r' | sed 's/^/#   serial: /'
	usb_explain "$dir"
fi
passed nopse36

dir=$work/pse36
if grep -aqE "^fbcon: .* at 0x1[0-9a-f]{8} -> 0x[0-9a-f]+ \(4 MiB PSE-36 pages\)" "$dir/serial.log" &&
   grep -aqE '^ok [0-9]+ fbcon_screen' "$dir/serial.log" &&
   grep -aq 'mmboot: result .* stays on screen' "$dir/serial.log"; then
	usb_ok "pse36: console mapped with 4 MiB PSE-36 pages above 4 GiB, fbcon_screen passes, result on screen"
	echo "#   serial: $fbline"
else
	usb_notok "pse36: console mapped with 4 MiB PSE-36 pages above 4 GiB, fbcon_screen passes, result on screen"
	grep -a 'fbcon' "$dir/serial.log" | tr -d '\r' | sed 's/^/#   serial: /'
	usb_explain "$dir"
fi
passed pse36

# The screen's text (as tests/usb/screenshot.sh rebuilds it) and the pixels
# saved from guest-physical memory above 4 GiB (BGRX -> PPM).
ok_raw=0
if [ -s "$work/fb.raw" ] && [ "$(stat -c %s "$work/fb.raw")" = $((fp * fh)) ] &&
   python3 - "$work/serial-at-shot.log" "$work/screen.txt" "$work/fb.raw" "$work/fb.ppm" \
             "$fw" "$fh" "$fp" <<'PY'
import re, sys
log = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
m = None
for m in re.finditer(rb"(?m)^fbcon: .*replayed (\d+) bytes\n", log):
    pass
if not m:
    sys.exit("no 'fbcon: ... replayed N bytes' line")
open(sys.argv[2], "wb").write(log[m.start() - int(m.group(1)):])
raw = open(sys.argv[3], "rb").read()
w, h, pitch = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
out = bytearray()
for y in range(h):
    row = raw[y * pitch:y * pitch + 4 * w]
    px = bytearray(3 * w)
    px[0::3], px[1::3], px[2::3] = row[2::4], row[1::4], row[0::4]   # B G R X -> R G B
    out += px
open(sys.argv[4], "wb").write(b"P6\n%d %d\n255\n" % (w, h) + bytes(out))
PY
then ok_raw=1; fi
if [ $ok_raw = 1 ]; then
	out=$(build/host/fbrender compare "$work/fb.ppm" "$work/screen.txt" 2>&1); rc=$?
	usb_check "pse36: memory at $fpa (pmemsave) equals the host rendering pixel for pixel (${out%%;*})" [ $rc -eq 0 ]
	[ $rc -eq 0 ] || echo "# $out"
	sed 's/press a key/press a kez/' "$work/screen.txt" >"$work/wrong.txt"
	out=$(build/host/fbrender compare "$work/fb.ppm" "$work/wrong.txt" 2>&1); rc=$?
	usb_check "pse36: negative control: one changed character is detected (${out%%;*})" [ $rc -eq 1 ]
else
	usb_notok "pse36: framebuffer memory above 4 GiB saved through the QEMU monitor (pmemsave)"
	sed 's/^/#   qmon: /' "$work/qmon.log" 2>/dev/null
fi
usb_plan
