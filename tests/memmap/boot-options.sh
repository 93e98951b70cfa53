#!/usr/bin/env bash
# QEMU test: the inspector's options stop, timeout=N, serial and the Enter key;
# prints TAP. Six boots, two at a time:
#   enter  config.txt "timeout=30 nosave"; once the countdown shows, Enter is
#          sent through the QEMU monitor: the loader continues at once (the
#          countdown never gets below 20 s), opens no report view, and the
#          kernel stage runs to its pass exit;
#   tmo    config.txt "timeout=2 nosave" (QEMU's default is 0): the countdown
#          shows 2 s then 1 s, no key is sent, the loader continues by
#          itself; the host clock from the "(2 s)" line to the kernel banner
#          is at least 1.8 s and at most 15 s;
#   stopc  config.txt "stop": the report and the saved dump, then "inspect:
#          stopping after the report (option stop)", then the firmware's boot
#          manager runs again (OVMF starts its UiApp); the kernel banner never
#          appears. The test ends the VM once the firmware shows up;
#   stopl  "stop" as a load option: OVMF's -kernel loader starts the loader
#          with QEMU's -append line as its LoadOptions; the disk holds no
#          loader, so after the stop the boot manager goes on to the UEFI
#          shell (run-qemu.sh ends the VM there).
#   serial, screen: see "serial and screen" below (the serial option, the
#          machine's serial number in the dump's name, a bad timeout).
# shellcheck disable=SC2015  # a && b || die
# shellcheck source=tests/memmap/boot-lib.sh
. "$(dirname "$0")/boot-lib.sh"

# the firmware runs again after the loader's stop line
fw_after_stop() {
	clean "$1" | awk '/^inspect: stopping after the report/{s=1;next}
		s&&(/^BdsDxe: (loading|starting)/||/UEFI Interactive Shell/){f=1} END{exit !f}'
}
no_view()   { ! grep -aq -- '-- lines [0-9]' "$1"; }
no_kernel() { ! went_on "$1"; }
countdowns() { grep -ao 'scroll the memory map report ([0-9]* s)' "$1" | grep -o '[0-9]\+' | sort -n | uniq; }

mkimg "$tmp/enter.img" && config "$tmp/enter.img" 'timeout=30 nosave' &&
	mkimg "$tmp/tmo.img" && config "$tmp/tmo.img" 'timeout=2 nosave' &&
	mkimg "$tmp/stopc.img" && config "$tmp/stopc.img" '# report only
stop' && mkimg "$tmp/disk.img" 0 || { not_ok "images"; exit 1; }

# --- enter and tmo ----------------------------------------------------------------
mon=$tmp/mon.sock
start_boot "$tmp/enter.img" "$tmp/enter.log" EXTRA="-monitor unix:$mon,server,nowait"
p1=$bpid
(
	if wait_for "$tmp/enter.log" 'scroll the memory map report \(30 s\)'; then
		sleep 1
		sendkeys "$mon" 0.5 ret
	fi
) &
k1=$!
start_boot "$tmp/tmo.img" "$tmp/tmo.log"
p2=$bpid
t0="" t1=""
for _ in $(seq 1 $((BOOT_TIMEOUT * 10))); do
	kill -0 "$p2" 2>/dev/null || break
	now=$(date +%s.%N)
	[ -z "$t0" ] && grep -aq 'scroll the memory map report (2 s)' "$tmp/tmo.log" && t0=$now
	if [ -n "$t0" ] && grep -aq '^mmboot kernel stage' "$tmp/tmo.log"; then t1=$now; break; fi
	sleep 0.1
done
wait "$k1"
wait "$p1"; rc1=$?
wait "$p2"; rc2=$?

clean "$tmp/enter.log" >"$tmp/enter.txt"
c=$(countdowns "$tmp/enter.txt" | tr '\n' ' ')
echo "# enter: countdown seconds shown: $c"
check "enter: countdown of 30 s from config.txt shown" grep -aq 'scroll the memory map report (30 s)' "$tmp/enter.txt"
check "enter: Enter continues before the timeout (lowest count >= 20)" \
	test -n "$c" -a "$(countdowns "$tmp/enter.txt" | head -1)" -ge 20
check "enter: Enter does not open the report view" no_view "$tmp/enter.txt"
check "enter: the kernel stage runs" went_on "$tmp/enter.txt"
check "enter: the kernel stage ends with its pass exit (run-qemu exit $rc1)" test "$rc1" -eq 0
[ "$rc1" -eq 0 ] || show "$tmp/enter.log.run"

clean "$tmp/tmo.log" >"$tmp/tmo.txt"
c=$(countdowns "$tmp/tmo.txt" | tr '\n' ' ')
dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { if (a == "" || b == "") print "none"; else printf "%.2f", b - a }')
echo "# tmo: countdown seconds shown: $c; from \"(2 s)\" to the kernel banner: $dt s (host clock)"
check "tmo: countdown 2 s then 1 s (timeout=2 from config.txt)" test "$c" = "1 2 "
check "tmo: the loader waited about 2 s without a key (1.8 s <= $dt s <= 15 s)" \
	awk -v d="$dt" 'BEGIN { exit !(d != "none" && d >= 1.8 && d <= 15) }'
check "tmo: no report view" no_view "$tmp/tmo.txt"
check "tmo: the kernel stage runs" went_on "$tmp/tmo.txt"
check "tmo: the kernel stage ends with its pass exit (run-qemu exit $rc2)" test "$rc2" -eq 0
[ "$rc2" -eq 0 ] || show "$tmp/tmo.log.run"

# --- stopc and stopl --------------------------------------------------------------
start_boot "$tmp/stopc.img" "$tmp/stopc.log" DUMPS="$tmp/stopc.dumps"
p1=$bpid
start_boot "$tmp/disk.img" "$tmp/stopl.log" EXTRA="-kernel $EFI -append stop"
p2=$bpid
# the boot manager shows UiApp and waits: end that VM when it gets there
for _ in $(seq 1 $((BOOT_TIMEOUT * 2))); do
	kill -0 "$p1" 2>/dev/null || break
	if fw_after_stop "$tmp/stopc.log"; then sleep 1; kill -TERM "$p1"; break; fi
	sleep 0.5
done
wait "$p1"; rc1=$?
wait "$p2"; rc2=$?
echo "# stopc: run-qemu exit $rc1 (130: ended by this test), stopl: $rc2"

for v in stopc stopl; do
	clean "$tmp/$v.log" >"$tmp/$v.txt"
	grep -aE '^(usable above 4 GiB|saved?:|inspect:|BdsDxe:|UEFI Interactive Shell)' "$tmp/$v.txt" |
		head -6 | cut -c1-160 | show
	check "$v: the loader prints the report" grep -aq '^usable above 4 GiB' "$tmp/$v.txt"
	check "$v: the loader says it stops after the report" \
		grep -aq '^inspect: stopping after the report (option stop)$' "$tmp/$v.txt"
	check "$v: the firmware's boot manager runs again after the stop" fw_after_stop "$tmp/$v.log"
	check "$v: the kernel stage never runs" no_kernel "$tmp/$v.txt"
done
check "stopc: the report was saved before stopping" \
	test -s "$tmp/stopc.dumps/$machine-1.map" -a -s "$tmp/stopc.dumps/$machine-1.txt"
check "stopl: run-qemu saw the firmware take over (exit 2: the loader returned)" test "$rc2" -eq 2

# --- serial and screen --------------------------------------------------------------
#   serial  config.txt "serial", QEMU -smbios type=1,serial=MMB-TEST_42: the
#           loader says it writes through the Serial I/O protocol only; the
#           report still comes whole on serial; the GOP mode is not changed;
#           the kernel stage says it does not draw (BI_F_SERIAL_ONLY) and
#           passes; the dump is named after the serial number
#           (<machine>_SNMMB_TEST_42-1.map); the screen, dumped through the
#           QEMU monitor when the report has ended (VM paused), is nearly
#           empty: fewer than half the control's pixel rows have anything
#           lit (what remains: the firmware's boot lines, its logo, and the
#           loader's banner and image-base lines, printed before the options
#           are read);
#   screen  control, config.txt "nosave timeout=abc": the bad timeout is
#           reported ("the timeout stays 0 s": the harness's default kept),
#           no countdown; the report is on the screen (most pixel rows lit).
lit() {   # pixel rows with anything lit in a binary PPM (P6) screen dump
	python3 - "$1" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
parts, pos = [], 0
while len(parts) < 4:
    while d[pos:pos + 1].isspace(): pos += 1
    e = pos
    while not d[e:e + 1].isspace(): e += 1
    parts.append(d[pos:e]); pos = e
pix = d[pos + 1:]
w, h = int(parts[1]), int(parts[2])
rows = 0
for y in range(h):
    r = pix[y * w * 3:(y + 1) * w * 3]
    rows += any(r[i] + r[i + 1] + r[i + 2] > 192 for i in range(0, len(r) - 2, 3))
print(rows)
PY
}
# pause the VM, dump the screen, go on
snap() {
	python3 - "$1" "$2" <<'PY' 2>&1 | show
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
for c in ("stop", "screendump " + sys.argv[2], "cont"):
    s.sendall((c + "\n").encode()); time.sleep(1.5)
s.close()
PY
}
mkimg "$tmp/ser.img" && config "$tmp/ser.img" 'serial' &&
	mkimg "$tmp/scr.img" && config "$tmp/scr.img" 'nosave timeout=abc' || { not_ok "images (serial)"; exit 1; }
for v in ser scr; do
	ex="-monitor unix:$tmp/$v.mon,server,nowait"
	[ $v = ser ] && ex="$ex -smbios type=1,serial=MMB-TEST_42"
	start_boot "$tmp/$v.img" "$tmp/$v.log" DUMPS="$tmp/$v.dumps" EXTRA="$ex"
	eval "p_$v=\$bpid"
	( wait_for "$tmp/$v.log" '^usable above 4 GiB' && snap "$tmp/$v.mon" "$tmp/$v.ppm" ) &
	eval "k_$v=\$!"
done
# shellcheck disable=SC2154  # p_ser, k_ser, ... set by eval
{ wait "$k_ser"; wait "$k_scr"; wait "$p_ser"; rc1=$?; wait "$p_scr"; rc2=$?; }
for v in ser scr; do clean "$tmp/$v.log" >"$tmp/$v.txt"; done
l1=$(lit "$tmp/ser.ppm" 2>/dev/null || echo none)
l2=$(lit "$tmp/scr.ppm" 2>/dev/null || echo none)
echo "# pixel rows lit when the report had ended: serial $l1, control $l2; run-qemu exit $rc1, $rc2"
grep -aE '^(console|gop|fbcon|saved|inspect):' "$tmp/ser.txt" "$tmp/scr.txt" | cut -c1-160 | show
check "serial: the loader writes through the Serial I/O protocol only" \
	grep -aq '^console: serial only (Serial I/O protocol' "$tmp/ser.txt"
check "serial: the whole report still comes on serial" grep -aq '^usable above 4 GiB' "$tmp/ser.txt"
check "serial: the graphics mode is left alone" grep -aq '^gop: mode [0-9]* kept, not changed (serial only)' "$tmp/ser.txt"
check "serial: the kernel stage does not draw" \
	grep -aq "^fbcon: the boot option 'serial' asks for no screen; serial only" "$tmp/ser.txt"
check "serial: the kernel stage passes (run-qemu exit $rc1)" test "$rc1" -eq 0
check "serial: the dump is named after the SMBIOS serial number" \
	test -s "$tmp/ser.dumps/${machine}_SNMMB_TEST_42-1.map" -a -s "$tmp/ser.dumps/${machine}_SNMMB_TEST_42-1.txt"
check "screen: timeout=abc is reported and the timeout kept" \
	grep -aq "^inspect: option 'timeout=abc' (.mmboot.config.txt): not a number of seconds (0..86400); the timeout stays 0 s" "$tmp/scr.txt"
check "screen: no countdown after the bad timeout" test "$(countdowns "$tmp/scr.txt" | wc -l)" -eq 0
check "screen: the console shows the report (control: $l2 pixel rows lit >= 400)" \
	awk -v b="$l2" 'BEGIN { exit !(b != "none" && b >= 400) }'
check "serial: the screen stays nearly empty ($l1 pixel rows lit < control/2)" \
	awk -v a="$l1" -v b="$l2" 'BEGIN { exit !(a != "none" && b != "none" && a * 2 < b) }'
