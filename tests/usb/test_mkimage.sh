#!/usr/bin/env bash
# Tests of tools/mkimage.sh on the host: the image it builds from a stand-in
# EFI application must be a valid GPT disk with one FAT32 EFI system
# partition at 1 MiB holding the exact loader bytes at the removable-media
# path, the README (CRLF) and an empty mmboot/ folder; bad inputs must be
# refused without leaving a file behind. Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/usb/lib.sh
export MTOOLS_SKIP_CHECK=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c 123457 /dev/urandom >"$work/app.efi"
img=$work/mmboot.img

out=$(tools/mkimage.sh -r esp/README.txt -o "$img" "$work/app.efi" 2>&1); rc=$?
usb_check "mkimage builds an image (rc=$rc)" [ $rc -eq 0 -a -f "$img" ]
[ $rc -eq 0 ] || echo "# $out"
usb_check "image is 64 MiB" [ "$(stat -c %s "$img" 2>/dev/null)" = $((64 << 20)) ]
dump=$(sfdisk -d "$img" 2>/dev/null)
usb_check "partition table is GPT" grep -q '^label: gpt' <<<"$dump"
usb_check "exactly one partition" [ "$(grep -c '^.*: start=' <<<"$dump")" = 1 ]
usb_check "partition is an EFI system partition at LBA 2048" \
	grep -q 'start= *2048,.*type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B' <<<"$dump"
usb_check "sfdisk --verify finds no problem (primary and backup GPT)" \
	bash -c "sfdisk --verify '$img' 2>&1 | grep -q 'No errors detected'"
off=$(usb_esp_offset "$img")
usb_check "ESP offset read back as 1 MiB" [ "${off:-0}" = 1048576 ]
part=$work/esp.fs
sectors=$(sed -n 's/.*start= *2048, size= *\([0-9]*\),.*/\1/p' <<<"$dump")
dd if="$img" of="$part" bs=512 skip=2048 count="${sectors:-0}" status=none
usb_check "fsck.fat finds the ESP clean" bash -c "fsck.fat -n '$part' >/dev/null 2>&1"
usb_check "ESP is FAT32" bash -c "minfo -i '$img@@$off' :: | grep -q 'disk type=\"FAT32'"
mcopy -i "$img@@$off" ::/EFI/BOOT/BOOTX64.EFI "$work/back.efi" 2>/dev/null
usb_check "EFI/BOOT/BOOTX64.EFI is the loader, byte for byte" cmp -s "$work/app.efi" "$work/back.efi"
mcopy -i "$img@@$off" ::/README.TXT "$work/readme" 2>/dev/null
usb_check "README.TXT is esp/README.txt with CRLF line ends" \
	cmp -s <(sed 's/$/\r/' esp/README.txt) "$work/readme"
listing=$(mdir -b -i "$img@@$off" ::/mmboot 2>&1); rc=$?
usb_check "mmboot/ exists and is empty" [ $rc -eq 0 -a -z "$listing" ]

out=$(tools/mkimage.sh -s 32 -o "$work/small.img" "$work/app.efi" 2>&1); rc=$?
usb_check "32 MiB refused (too small for FAT32), no file left" [ $rc -ne 0 -a ! -e "$work/small.img" ]
out=$(tools/mkimage.sh -o "$work/none.img" "$work/missing.efi" 2>&1); rc=$?
usb_check "missing loader refused, no file left" [ $rc -ne 0 -a ! -e "$work/none.img" ]
out=$(tools/mkimage.sh -s 128 -o "$work/big.img" "$work/app.efi" 2>&1); rc=$?
usb_check "128 MiB image: partition grows with it" \
	bash -c "sfdisk -d '$work/big.img' | grep -q 'start= *2048, size= *25[0-9][0-9][0-9][0-9],'"
usb_plan
