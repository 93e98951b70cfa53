# shellcheck shell=bash
# tests/usb/lib.sh: helpers shared by the USB-stick boot tests (sourced).
#
# usb_boot boots a private copy of a disk image under QEMU + OVMF with the
# disk attached the way a real PC would see a stick or an internal disk, and
# records what happened:
#
#   usb_boot DIR MEDIUM IMAGE [options...]
#     DIR      scratch directory (created); afterwards it holds
#                disk.img    the private copy of IMAGE, as the guest left it
#                vars.fd     the private copy of the OVMF variable store
#                serial.log  COM1 (the firmware's BdsDxe lines, the kernel)
#                debug.log   OVMF's debug console (port 0x402; empty on
#                            Debian's release build, kept for other builds)
#                rc          QEMU's exit status (33 = the kernel's pass exit,
#                            0x10 written to isa-debug-exit at port 0xf4)
#     MEDIUM   usb  : qemu-xhci controller + usb-storage (removable=on)
#              nvme : NVMe controller, one namespace
#              sata : q35's built-in AHCI controller, ide-hd on port 0
#     options  secure      OVMF_CODE_4M.snakeoil.fd + OVMF_VARS_4M.snakeoil.fd,
#                          SMM, secure pflash: Secure Boot enforced with the
#                          Debian snakeoil PK/KEK/db
#              vga         a std VGA display (default: -nodefaults, no display)
#              monitor=S   QEMU monitor on unix socket S
#              stop=REGEX  end QEMU as soon as serial.log matches REGEX
#                          (firmware gave up; no need to wait for the timeout)
#              timeout=S   kill QEMU after S seconds (default USB_TIMEOUT or 60)
#              machine=P   extra -machine properties (e.g. i8042=off)
#              cpu=M       -cpu M (e.g. qemu64,-pse36)
#              mem=S       guest RAM (default USB_MEM or 256M)
#              noexit      no isa-debug-exit device: the kernel believes it is on
#                          a real PC (result on screen, key press or timeout,
#                          then reset; -no-reboot turns the reset into exit 0)
#
# It returns QEMU's status (124 on timeout, 200 when stopped by stop=).
# -no-reboot makes a reset end QEMU; -nodefaults removes q35's default
# CD-ROM, which OVMF would otherwise try (and fail on) first.

USB_OVMF_DIR=${OVMF_DIR:-/usr/share/OVMF}
USB_QEMU=${QEMU:-qemu-system-x86_64}
USB_MEM=${USB_MEM:-256M}

usb_medium_args() {
	case $1 in
	usb)  echo "-device qemu-xhci,id=xhci -device usb-storage,bus=xhci.0,drive=stick,removable=on" ;;
	nvme) echo "-device nvme,serial=MMBOOT0001,drive=stick" ;;
	sata) echo "-device ide-hd,bus=ide.0,drive=stick" ;;
	*) return 1 ;;
	esac
}

# What OVMF's boot manager calls each medium in its "BdsDxe: starting" line.
usb_medium_name() {
	case $1 in
	usb)  echo "USB HARDDRIVE" ;;
	nvme) echo "NVMe" ;;
	sata) echo "HARDDISK" ;;
	esac
}

usb_boot() {
	local dir=$1 medium=$2 image=$3; shift 3
	local secure=0 vga=0 monitor="" stop="" timeout=${USB_TIMEOUT:-60} exitdev=1 mprops="" opt
	local cpu="" mem=$USB_MEM
	for opt in "$@"; do
		case $opt in
		secure) secure=1 ;;
		vga) vga=1 ;;
		monitor=*) monitor=${opt#monitor=} ;;
		stop=*) stop=${opt#stop=} ;;
		timeout=*) timeout=${opt#timeout=} ;;
		noexit) exitdev=0 ;;
		machine=*) mprops=,${opt#machine=} ;;
		cpu=*) cpu=${opt#cpu=} ;;
		mem=*) mem=${opt#mem=} ;;
		*) echo "usb_boot: unknown option $opt" >&2; return 2 ;;
		esac
	done
	local margs
	margs=$(usb_medium_args "$medium") || { echo "usb_boot: unknown medium $medium" >&2; return 2; }
	mkdir -p "$dir"
	cp --sparse=always "$image" "$dir/disk.img" || return 2
	local code=$USB_OVMF_DIR/OVMF_CODE_4M.fd vars=$USB_OVMF_DIR/OVMF_VARS_4M.fd
	local machine=q35 extra=()
	if [ $secure = 1 ]; then
		code=$USB_OVMF_DIR/OVMF_CODE_4M.snakeoil.fd vars=$USB_OVMF_DIR/OVMF_VARS_4M.snakeoil.fd
		machine=q35,smm=on
		# shellcheck disable=SC2054
		extra+=(-global driver=cfi.pflash01,property=secure,value=on)
	fi
	cp "$vars" "$dir/vars.fd" || return 2
	machine=$machine$mprops
	[ $vga = 1 ] && extra+=(-device VGA)
	[ -n "$cpu" ] && extra+=(-cpu "$cpu")
	[ -n "$monitor" ] && extra+=(-monitor "unix:$monitor,server=on,wait=off")
	extra+=(-smbios "type=11,value=mmboot:timeout=${MENU_TIMEOUT-0}")   # loader: no countdown
	# shellcheck disable=SC2054
	[ $exitdev = 1 ] && extra+=(-device isa-debug-exit,iobase=0xf4,iosize=0x04)
	: >"$dir/serial.log"; : >"$dir/debug.log"
	# shellcheck disable=SC2206
	local args=(-nodefaults -machine "$machine" -accel tcg -m "$mem" -smp 1
		"${extra[@]}"
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$code"
		-drive "if=pflash,format=raw,unit=1,file=$dir/vars.fd"
		-drive "if=none,id=stick,format=raw,file=$dir/disk.img"
		$margs
		-net none -no-reboot
		-serial "file:$dir/serial.log"
		-debugcon "file:$dir/debug.log" -global isa-debugcon.iobase=0x402
		-display none -parallel none)
	[ -n "$monitor" ] || args+=(-monitor none)
	echo "$USB_QEMU ${args[*]}" >"$dir/cmdline"
	local t0=$SECONDS
	"$USB_QEMU" "${args[@]}" 2>"$dir/stderr" &
	local pid=$! rc=""
	while kill -0 "$pid" 2>/dev/null; do
		if [ -n "$stop" ] && grep -aqE "$stop" "$dir/serial.log"; then
			sleep 0.5; kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rc=200; break
		fi
		if [ $((SECONDS - t0)) -ge "$timeout" ]; then
			kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rc=124; break
		fi
		sleep 0.25
	done
	[ -n "$rc" ] || { wait "$pid"; rc=$?; }
	echo "$rc" >"$dir/rc"
	echo $((SECONDS - t0)) >"$dir/seconds"
	return "$rc"
}

# usb_passed DIR: the boot ended with the kernel's pass exit (isa-debug-exit
# 0x10 -> QEMU 33) and the kernel's PASS line is on serial (USB_PASS_RE).
USB_PASS_RE=${USB_PASS_RE:-mmboot: PASS}
usb_passed() {
	[ "$(cat "$1/rc" 2>/dev/null)" = 33 ] && grep -aqE "$USB_PASS_RE" "$1/serial.log"
}

# The BdsDxe lines, the kernel's last lines: why a boot did not pass.
usb_explain() {
	local dir=$1
	echo "# qemu exit $(cat "$dir/rc" 2>/dev/null) after $(cat "$dir/seconds" 2>/dev/null) s; $(cat "$dir/cmdline")"
	tr -d '\033' <"$dir/serial.log" | grep -a . | tail -n 15 | sed 's/^/#   serial: /'
	sed 's/^/#   qemu: /' "$dir/stderr" 2>/dev/null
}

# Offset in bytes of the first partition of a GPT image (for mtools' @@).
usb_esp_offset() {
	local start
	start=$(sfdisk -J "$1" 2>/dev/null | sed -n 's/.*"start": *\([0-9]*\).*/\1/p' | head -n1)
	[ -n "$start" ] && echo $((start * 512))
}

# Sign IN with the Debian snakeoil key into OUT (the key is passphrase-
# protected; tools/sign.sh decrypts it to a private temporary file).
usb_sign_snakeoil() {
	SIGN_PASS=snakeoil tools/sign.sh /usr/share/ovmf/PkKek-1-snakeoil.key \
		/usr/share/ovmf/PkKek-1-snakeoil.pem "$1" "$2"
}

# TAP helpers: usb_ok NAME / usb_notok NAME; usb_plan at the end.
usb_n=0
usb_failed=0
usb_ok() { usb_n=$((usb_n + 1)); echo "ok $usb_n - $*"; }
usb_notok() { usb_n=$((usb_n + 1)); usb_failed=$((usb_failed + 1)); echo "not ok $usb_n - $*"; }
usb_check() { local name=$1; shift; if "$@"; then usb_ok "$name"; else usb_notok "$name"; fi; }
usb_plan() { echo "1..$usb_n"; }
