#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2054,SC2015  # trap handlers; QEMU option lists; a && b || die
# run-qemu.sh: boot mmboot (or any x86_64 EFI application) under QEMU + OVMF.
#
# Theory
# ------
# Every boot gets its own scratch directory under build/qemu/ holding
#   disk.img   a FAT16 "superfloppy" (no partition table; OVMF mounts it)
#              made with mtools, without root:
#                EFI/BOOT/BOOTX64.EFI   the loader
#                mmboot/                where the loader saves memory-map dumps
#              or a copy of the image given by IMG=
#   vars.fd    a private writable copy of the OVMF variable store
#   qemu.log   QEMU's own diagnostics (-d cpu_reset: "Triple fault" + CPU state)
# so that any number of boots can run in parallel and none of them changes a
# shared file. The directory is removed afterwards unless KEEP=1; the dumps
# the loader wrote into mmboot/ are copied out to DUMPS=dir when that is set.
#
# The kernel ends the VM by writing a status byte to the isa-debug-exit
# device at I/O port 0xf4; QEMU then exits with (status << 1) | 1:
#   0x10 pass -> QEMU 33 -> this script exits 0
#   0x11 fail -> QEMU 35 -> this script exits 1
#   anything else -> exits 2, saying what: reset or triple fault, a CPU
#   exception reported by the firmware, the loader returning to the firmware,
#   an unexpected status byte, QEMU failing, TIMEOUT.
# -no-reboot turns a guest reset (triple fault, firmware reset) into a QEMU exit
# with status 0, which is never a pass.
#
# Settings (environment or make variables):
#   EFI=path        EFI application to boot        (build/BOOTX64.EFI)
#   IMG=path        boot this disk image instead (a copy of it); if IMG names a
#                   .efi file it is taken as EFI=
#   MEM=256M        guest RAM. Note: past about 2 to 3.5 GiB of -m (depends on
#                   the machine type) QEMU puts the rest of the RAM above 4 GiB.
#   SMP=1           CPUs
#   MACHINE=q35     q35 or pc
#   FW=code         code   = OVMF_CODE.fd    + OVMF_VARS.fd     (2 MiB flash)
#                   code4m = OVMF_CODE_4M.fd + OVMF_VARS_4M.fd  (4 MiB flash)
#   OVMF_DIR=/usr/share/OVMF
#   ACCEL=tcg       tcg (default; reproducible, reports triple faults) or kvm
#   DEBUG=1         gdb stub, CPU halted at reset (-S); GDB_PORT=1234
#   SERIAL_LOG=f    also write the serial output (COM1) to file f
#   SERIAL_STDIO=1  serial on stdout (0: only to SERIAL_LOG)
#   TIMEOUT=s       kill QEMU after s seconds and exit 2 (default 120; 0 = never;
#                   DEBUG=1 defaults to 0)
#   QEMU_DISPLAY=none  display backend (gtk, sdl, vnc=:1, ...). DISPLAY is
#                   accepted too when it names a QEMU backend, never an X
#                   display such as ":0".
#   EXTRA="..."     extra QEMU arguments (word-split)
#   TRACE=1         log every interrupt/exception (QEMU -d int); on a triple
#                   fault the last ones are shown
#   KEEP=1          keep the scratch directory (printed at the end)
#   DUMPS=dir       copy the image's mmboot/ folder to dir after the boot
#   QEMU=qemu-system-x86_64
#   MENU_TIMEOUT=0  the loader's countdown after its memory-map report, passed
#                   as the SMBIOS OEM string "mmboot:timeout=N" (the loader's
#                   lowest-priority option source: a config.txt on the image or
#                   load options still win). Default 0 so that tests and
#                   `make run` go straight on; MENU_TIMEOUT=10 shows the
#                   countdown a real PC shows; MENU_TIMEOUT= (empty) passes
#                   nothing (the loader's own default, 10 s).
set -u

# Paths the caller gave are relative to the caller's directory; the defaults
# and build/ to the top of the tree, where this script works.
abspath() { case $1 in ''|/*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }
for v in EFI IMG SERIAL_LOG DUMPS OVMF_DIR; do
	[ -n "${!v:-}" ] && printf -v "$v" '%s' "$(abspath "${!v}")"
done
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 2
export MTOOLS_SKIP_CHECK=1

say() { echo "run-qemu: $*" >&2; }
die() { say "$*"; exit 2; }

EFI=${EFI:-build/BOOTX64.EFI}
IMG=${IMG:-}
MEM=${MEM:-256M}
SMP=${SMP:-1}
MACHINE=${MACHINE:-q35}
FW=${FW:-code}
OVMF_DIR=${OVMF_DIR:-/usr/share/OVMF}
ACCEL=${ACCEL:-tcg}
DEBUG=${DEBUG:-0}
GDB_PORT=${GDB_PORT:-1234}
SERIAL_LOG=${SERIAL_LOG:-}
SERIAL_STDIO=${SERIAL_STDIO:-1}
EXTRA=${EXTRA:-}
KEEP=${KEEP:-0}
DUMPS=${DUMPS:-}
QEMU=${QEMU:-qemu-system-x86_64}
MENU_TIMEOUT=${MENU_TIMEOUT-0}
if [ "$DEBUG" = 1 ]; then TIMEOUT=${TIMEOUT:-0}; else TIMEOUT=${TIMEOUT:-120}; fi

# QEMU display: QEMU_DISPLAY, else DISPLAY if it is a QEMU backend name.
disp=${QEMU_DISPLAY:-}
if [ -z "$disp" ]; then
	case ${DISPLAY:-} in
	none|gtk*|sdl*|curses*|vnc=*|egl-headless*|spice-app*|dbus*|cocoa*) disp=$DISPLAY ;;
	*) disp=none ;;
	esac
fi

case $IMG in *.efi|*.EFI) EFI=$IMG; IMG= ;; esac

case $FW in
code)   fw_code=$OVMF_DIR/OVMF_CODE.fd    fw_vars=$OVMF_DIR/OVMF_VARS.fd ;;
code4m) fw_code=$OVMF_DIR/OVMF_CODE_4M.fd fw_vars=$OVMF_DIR/OVMF_VARS_4M.fd ;;
*)      die "FW=$FW: expected code or code4m" ;;
esac
case $MACHINE in q35|pc|pc-*) ;; *) die "MACHINE=$MACHINE: expected q35 or pc" ;; esac
case $ACCEL in tcg|kvm) ;; *) die "ACCEL=$ACCEL: expected tcg or kvm" ;; esac
case $TIMEOUT in ''|*[!0-9]*) die "TIMEOUT=$TIMEOUT: expected whole seconds" ;; esac
[ -r "$fw_code" ] || die "missing $fw_code (install the ovmf package: tools/deps.sh run)"
[ -r "$fw_vars" ] || die "missing $fw_vars (install the ovmf package: tools/deps.sh run)"
command -v "$QEMU" >/dev/null || die "missing $QEMU (install qemu-system-x86: tools/deps.sh run)"

mkdir -p build/qemu || die "cannot create build/qemu"
# scratch directories of boots killed with SIGKILL, older than 12 hours
find build/qemu -maxdepth 1 -name 'boot.*' -mmin +720 -exec rm -rf {} + 2>/dev/null
work=$(mktemp -d build/qemu/boot.XXXXXX) || die "cannot create a scratch directory"
cleanup() {
	if [ -n "$DUMPS" ] && [ -f "$work/disk.img" ]; then
		mkdir -p "$DUMPS" &&
		mcopy -i "$work/disk.img" -s -n -o -Q '::/mmboot/*' "$DUMPS/" 2>/dev/null || true
	fi
	if [ "$KEEP" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
qpid="" wpid=""
on_signal() {
	[ -n "$qpid" ] && kill -TERM "$qpid" 2>/dev/null
	[ -n "$wpid" ] && kill -TERM "$wpid" 2>/dev/null
	say "interrupted; QEMU stopped"
	exit 130
}
trap cleanup EXIT
trap on_signal INT TERM HUP

# make_image FILE EFI: FAT16 image, 16 MiB (32768 sectors), no partition table.
make_image() {
	command -v mformat >/dev/null || die "missing mtools (install mtools: tools/deps.sh test)"
	truncate -s 16M "$1" &&
	mformat -i "$1" -T 32768 -h 64 -s 32 -v MMBOOT :: &&
	mmd -i "$1" ::/EFI ::/EFI/BOOT ::/mmboot &&
	mcopy -i "$1" "$2" ::/EFI/BOOT/BOOTX64.EFI
}

if [ -n "$IMG" ]; then
	[ -r "$IMG" ] || die "IMG=$IMG: no such image"
	cp --sparse=always "$IMG" "$work/disk.img" || die "cannot copy $IMG"
else
	[ -r "$EFI" ] || die "$EFI does not exist (build it: make $EFI)"
	make_image "$work/disk.img" "$EFI" >/dev/null || die "cannot build the FAT image from $EFI"
fi
cp "$fw_vars" "$work/vars.fd" || die "cannot copy $fw_vars"

# Serial on COM1: stdout, a file, or both.
if [ -n "$SERIAL_LOG" ]; then
	mkdir -p "$(dirname "$SERIAL_LOG")" && : > "$SERIAL_LOG" || die "cannot write $SERIAL_LOG"
	if [ "$SERIAL_STDIO" = 1 ]; then
		serial=(-chardev "stdio,id=com1,logfile=$SERIAL_LOG" -serial chardev:com1)
	else
		serial=(-chardev "file,id=com1,path=$SERIAL_LOG" -serial chardev:com1)
	fi
else
	# no log asked for: keep one in the scratch directory for the watchdog
	if [ "$SERIAL_STDIO" = 1 ]; then
		serial=(-chardev "stdio,id=com1,logfile=$work/serial.log" -serial chardev:com1)
	else
		serial=(-chardev "file,id=com1,path=$work/serial.log" -serial chardev:com1)
	fi
fi
watch_log=${SERIAL_LOG:-$work/serial.log}

args=(
	-machine "$MACHINE" -accel "$ACCEL" -m "$MEM" -smp "$SMP"
	-drive "if=pflash,format=raw,unit=0,readonly=on,file=$fw_code"
	-drive "if=pflash,format=raw,unit=1,file=$work/vars.fd"
	-drive "format=raw,file=$work/disk.img"
	-net none
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
	-no-reboot
	"${serial[@]}"
	-monitor none -parallel none
	-display "$disp"
	-D "$work/qemu.log"
)
[ -n "$MENU_TIMEOUT" ] && args+=(-smbios "type=11,value=mmboot:timeout=$MENU_TIMEOUT")
if [ "${TRACE:-0}" = 1 ]; then args+=(-d int,cpu_reset); else args+=(-d cpu_reset); fi
if [ "$DEBUG" = 1 ]; then
	args+=(-gdb "tcp::$GDB_PORT" -S)
	say "CPU halted at reset, gdb stub on tcp::$GDB_PORT"
	if [ "$GDB_PORT" = 1234 ]; then pre=""; else pre="GDB_PORT=$GDB_PORT "; fi
	say "attach with: ${pre}gdb -x tools/gdbinit   (or: target remote :$GDB_PORT)"
fi
# shellcheck disable=SC2206
[ -n "$EXTRA" ] && args+=($EXTRA)

[ "${VERBOSE:-0}" = 1 ] && say "$QEMU ${args[*]}"

# watchdog LOG QPID: ends QEMU on TIMEOUT, soon after the firmware reports a
# CPU exception on the serial console (OVMF then spins forever), or once the
# boot manager says the application returned (it would go on to the next
# boot option and end in the UEFI shell), leaving a marker file that says why.
watchdog() {
	local t=0 log=$1
	while kill -0 "$2" 2>/dev/null; do
		sleep 1; t=$((t + 1))
		if [ "$TIMEOUT" -gt 0 ] && [ "$t" -ge "$TIMEOUT" ]; then
			: > "$work/timeout"; break
		fi
		[ -n "$log" ] && [ -s "$log" ] || continue
		if grep -aqE '^!!!! (X64|IA32) Exception Type' "$log"; then
			sleep 1; : > "$work/fw-exception"; break
		fi
		if grep -aqE 'BdsDxe: failed to start|UEFI Interactive Shell' "$log"; then
			sleep 1; : > "$work/fw-returned"; break
		fi
	done
	kill -TERM "$2" 2>/dev/null; sleep 3; kill -KILL "$2" 2>/dev/null
}

# In a script, a background job reads /dev/null unless stdin is redirected.
"$QEMU" "${args[@]}" 0<&0 2> "$work/stderr" &
qpid=$!
watchdog "$watch_log" "$qpid" >/dev/null 2>&1 &
wpid=$!
wait "$qpid"
rc=$?
kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
if [ -s "$work/stderr" ]; then grep -v 'terminating on signal\|Terminated via GDBstub' "$work/stderr" | sed 's/^/qemu: /' >&2; fi
[ -e "$work/timeout" ] && rc=124
[ -e "$work/fw-exception" ] && rc=125
[ -e "$work/fw-returned" ] && rc=126

cfg="$MACHINE, $MEM, smp $SMP, $FW, $ACCEL"
case $rc in
33) exit 0 ;;
35) say "the kernel reported failure (status 0x11) [$cfg]"; exit 1 ;;
124)
	say "TIMEOUT: no exit status after ${TIMEOUT}s; QEMU killed [$cfg]"; exit 2 ;;
125)
	say "FIRMWARE EXCEPTION: a CPU exception under the firmware (in the loader" \
	    "or before it); OVMF's report:"
	grep -aE -A4 '^!!!! (X64|IA32) Exception Type' "$watch_log" | sed 's/^/  /' >&2
	say "QEMU killed [$cfg]"; exit 2 ;;
126)
	say "THE LOADER RETURNED to the firmware (it failed before the kernel, or" \
	    "exited); the boot manager's words:"
	grep -aE 'BdsDxe: failed to start|UEFI Interactive Shell' "$watch_log" | head -n 3 |
		sed 's/\x1b\[[0-9;=?]*[A-Za-z]//g; s/\r//g; s/^/  /' >&2
	say "QEMU killed [$cfg]"; exit 2 ;;
0)
	if grep -q 'Terminated via GDBstub' "$work/stderr"; then
		say "gdb ended the VM (kill/quit in gdb) [$cfg]"
	elif grep -q 'Triple fault' "$work/qemu.log" 2>/dev/null; then
		say "TRIPLE FAULT: the CPU reset itself (-no-reboot ended QEMU) [$cfg]"
		if [ "${TRACE:-0}" = 1 ]; then
			say "the last exceptions before it (QEMU -d int):"
			grep -B60 'Triple fault' "$work/qemu.log" | sed 's/^/  /' >&2
		else
			say "run again with TRACE=1 to see the exceptions that led to it"
		fi
	else
		say "the VM reset or powered off without an exit status (firmware reset," \
		    "or the loader returned to a firmware that gave up) [$cfg]"
	fi
	exit 2 ;;
*)
	if [ $((rc & 1)) = 1 ] && [ "$rc" -gt 1 ]; then
		say "the kernel wrote unexpected status 0x$(printf %x $((rc >> 1))) to isa-debug-exit (QEMU exit $rc) [$cfg]"
	else
		say "QEMU failed with exit status $rc (bad arguments or a crash, see above) [$cfg]"
	fi
	exit 2 ;;
esac
