#!/usr/bin/env bash
# Boots the exact stick image (build/mmboot.img, `make usb`) under QEMU+OVMF
# attached three ways a real PC might see it:
#   usb   a USB mass-storage device on an xHCI controller (the stick itself)
#   nvme  an NVMe disk
#   sata  a SATA disk on q35's AHCI controller
# Each boot uses a private copy of the image and must
#   - be started by OVMF's boot manager from that medium (BdsDxe line),
#   - reach the kernel's pass exit (isa-debug-exit 0x10, "mmboot: PASS"),
#   - leave its memory-map dump in mmboot/ on the image, read back with
#     mtools, with the dump magic and a length that matches its header,
#     and decoded by build/host/mmboot-memmap show (built here; a tool that
#     is missing or cannot read the dump is a failure).
# At most two QEMUs run at once. Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/usb/lib.sh
export MTOOLS_SKIP_CHECK=1
work=$(mktemp -d build/test-usb-media.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$work"' EXIT
EFI=${USB_EFI:-build/BOOTX64.EFI}
IMG=${USB_IMG:-build/mmboot.img}
MEMMAP_TOOL=build/host/mmboot-memmap
if ! make --no-print-directory -s USB_EFI="$EFI" usb $MEMMAP_TOOL >"$work/make.log" 2>&1; then
	sed 's/^/# make: /' "$work/make.log"; echo "not ok 1 - make usb $MEMMAP_TOOL"; exit 1
fi

check_boot() {
	local m=$1 dir=$work/$1 name
	name=$(usb_medium_name "$m")
	if usb_passed "$dir" && grep -aq "BdsDxe: starting Boot[0-9A-F]* \"UEFI QEMU.*$name" "$dir/serial.log"; then
		usb_ok "$m: OVMF boots the stick image from $name to the kernel's pass exit ($(cat "$dir/seconds") s)"
	else
		usb_notok "$m: OVMF boots the stick image from $name to the kernel's pass exit"; usb_explain "$dir"
	fi
	check_dump "$m"
}

check_dump() {
	local m=$1 dir=$work/$1 off files f size hs n ds
	off=$(usb_esp_offset "$dir/disk.img")
	files=$(mdir -b -i "$dir/disk.img@@$off" ::/mmboot 2>/dev/null | grep -i '\.map$')
	if [ -z "$files" ]; then usb_notok "$m: memory-map dump left in mmboot/ (folder empty)"; return; fi
	f=$(head -n1 <<<"$files")
	mcopy -n -i "$dir/disk.img@@$off" "$f" "$dir/dump.map" 2>/dev/null
	size=$(stat -c %s "$dir/dump.map" 2>/dev/null || echo 0)
	hs=$(od -An -tu4 -j12 -N4 "$dir/dump.map" 2>/dev/null | tr -d ' ')
	ds=$(od -An -tu4 -j16 -N4 "$dir/dump.map" 2>/dev/null | tr -d ' ')
	n=$(od -An -tu4 -j24 -N4 "$dir/dump.map" 2>/dev/null | tr -d ' ')
	if [ "$(head -c 8 "$dir/dump.map" 2>/dev/null)" = "MMBDUMP" ] &&
	   [ "$size" = $(( ${hs:-0} + ${n:-0} * ${ds:-0} )) ] && [ "${n:-0}" -gt 0 ]; then
		usb_ok "$m: memory-map dump ${f#::/} read back with mtools ($n descriptors of $ds bytes)"
	else
		usb_notok "$m: memory-map dump ${f#::/} read back with mtools (size $size, header $hs + $n x $ds)"
	fi
	if [ -x "$MEMMAP_TOOL" ] && "$MEMMAP_TOOL" show "$dir/dump.map" >"$dir/memmap.txt" 2>&1; then
		usb_ok "$m: mmboot-memmap show reads the dump ($(wc -l <"$dir/memmap.txt") lines)"
	else
		usb_notok "$m: mmboot-memmap show reads the dump ($MEMMAP_TOOL)"
		sed -n '1,10s/^/#   /p' "$dir/memmap.txt" 2>/dev/null
	fi
}

# Two at a time: usb and nvme together, then sata.
usb_boot "$work/usb" usb "$IMG" timeout=120 & p1=$!
usb_boot "$work/nvme" nvme "$IMG" timeout=120 & p2=$!
wait $p1; wait $p2
usb_boot "$work/sata" sata "$IMG" timeout=120
for m in usb nvme sata; do check_boot $m; done
usb_check "the built image itself was not modified by the boots" \
	bash -c "[ -z \"\$(MTOOLS_SKIP_CHECK=1 mdir -b -i '$IMG@@$(usb_esp_offset "$IMG")' ::/mmboot 2>/dev/null)\" ]"
usb_plan
