#!/usr/bin/env bash
# mkimage.sh: build the mmboot USB stick image, without root and without loop
# devices.
#
#   tools/mkimage.sh [-s SIZE_MIB] [-r README] -o OUT.img EFI_APP
#
# Layout of OUT.img (SIZE_MIB, default 64 MiB, 512-byte sectors):
#
#   LBA 0           protective MBR
#   LBA 1..33       primary GPT header + partition entries
#   LBA 2048 (1 MiB) partition 1: EFI system partition, FAT32, label MMBOOT
#                     /EFI/BOOT/BOOTX64.EFI   the loader (removable-media path,
#                                             UEFI spec 3.5.1.1), from EFI_APP
#                     /README.TXT             for whoever finds the stick
#                     /mmboot/                memory-map dumps land here
#   last 33 LBAs    backup GPT
#
# How: sfdisk writes the GPT into a plain sparse file; mformat formats the
# partition in place through mtools' "file@@offset" syntax; mmd/mcopy fill it.
# FAT32 needs at least 65525 clusters; with 512-byte clusters that is about
# 33 MiB, so SIZE_MIB must be >= 40 (checked).
#
# The disk GUID, partition GUID and volume serial are fixed so that two builds
# of the same inputs differ only in FAT timestamps.
set -euo pipefail

size_mib=64
readme=""
out=""
usage() { echo "usage: $0 [-s SIZE_MIB] [-r README] -o OUT.img EFI_APP" >&2; exit 2; }
while getopts "s:r:o:" opt; do
	case $opt in
	s) size_mib=$OPTARG ;;
	r) readme=$OPTARG ;;
	o) out=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] && [ -n "$out" ] || usage
efi_app=$1

die() { echo "mkimage: $*" >&2; exit 1; }
[ -f "$efi_app" ] || die "no EFI application at $efi_app (build the loader first)"
[ -z "$readme" ] || [ -f "$readme" ] || die "no README at $readme"
case $size_mib in ''|*[!0-9]*) die "size must be a number of MiB" ;; esac
[ "$size_mib" -ge 40 ] || die "size $size_mib MiB too small for FAT32 (>= 40)"
for tool in sfdisk mformat mmd mcopy; do
	command -v "$tool" >/dev/null || die "$tool missing (tools/deps.sh usb)"
done

ESP_START=2048                                  # sectors: partition at 1 MiB
ESP_TYPE=C12A7328-F81F-11D2-BA4B-00A0C93EC93B   # EFI system partition
DISK_GUID=6D6D626F-6F74-4D4D-8000-000000000001
PART_GUID=6D6D626F-6F74-4D4D-8000-000000000002
export MTOOLS_SKIP_CHECK=1 MTOOLS_NO_VFAT=0

tmp="$out.tmp.$$"
trap 'rm -f "$tmp" "$tmp.readme"' EXIT
rm -f "$tmp"
truncate -s "${size_mib}M" "$tmp"

sfdisk --no-reread --no-tell-kernel -q "$tmp" >/dev/null <<EOF
label: gpt
label-id: $DISK_GUID
first-lba: $ESP_START
start=$ESP_START, type=$ESP_TYPE, uuid=$PART_GUID, name="mmboot ESP"
EOF

# sfdisk aligns the end: read back the partition's size in sectors.
esp_sectors=$(sfdisk -d "$tmp" | sed -n 's/.*start= *'$ESP_START', size= *\([0-9]*\),.*/\1/p')
[ -n "$esp_sectors" ] || die "sfdisk did not create the partition"

img="$tmp@@$((ESP_START * 512))"
mformat -i "$img" -F -T "$esp_sectors" -h 64 -s 32 -c 1 -H "$ESP_START" \
	-N 6d6d6274 -v MMBOOT ::
mmd -i "$img" ::/EFI ::/EFI/BOOT ::/mmboot
mcopy -i "$img" "$efi_app" ::/EFI/BOOT/BOOTX64.EFI
if [ -n "$readme" ]; then   # CRLF line ends for old Notepad (mcopy -t would add a ^Z)
	sed 's/\r\?$/\r/' "$readme" >"$tmp.readme"
	mcopy -i "$img" "$tmp.readme" ::/README.TXT
	rm -f "$tmp.readme"
fi

mv "$tmp" "$out"
trap - EXIT
echo "mkimage: $out: ${size_mib} MiB GPT, ESP at LBA $ESP_START ($esp_sectors sectors, FAT32)"
