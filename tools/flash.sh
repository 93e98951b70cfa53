#!/usr/bin/env bash
# flash.sh: write the mmboot image to a USB stick, refusing anything that
# might be a disk someone cares about.
#
#   tools/flash.sh [--check] [--max-gib N] IMAGE DEV
#   make flash DEV=/dev/sdX [MAX_GIB=N]
#
# The device must be, according to lsblk (which reads sysfs and the mount
# table):
#   - a whole disk (TYPE=disk, no parent), not a partition, loop or dm device;
#   - removable: RM=1, or attached over USB (TRAN=usb); SATA/NVMe/virtio
#     disks are refused even when empty;
#   - not in use: neither the disk nor any partition or holder below it
#     (LVM, dm-crypt, RAID) is mounted or used as swap, and there are no
#     such holders at all;
#   - not larger than MAX_GIB (default 256 GiB: bigger "sticks" are more
#     likely external backup drives), and not smaller than the image, and
#     with a medium in it (size > 0).
# Then it shows vendor, model, size and transport and asks for the word
# "yes" typed in full; anything else stops. Only then: dd bs=4M
# conv=fsync status=progress, and a read-back of the written bytes
# (O_DIRECT where possible) compared with the image.
#
# --check stops after the decision (exit 0 = would write, 1 = refused): the
# tests use it. For tests, FLASH_LSBLK and FLASH_DD name programs that stand
# in for lsblk and dd (canned output; a dd that records its calls and copies
# into a plain file standing for the device); the real tools are used
# otherwise. Nothing here needs root except the final dd.
set -euo pipefail

LSBLK=${FLASH_LSBLK:-lsblk}
DD=${FLASH_DD:-dd}
max_gib=${FLASH_MAX_GIB:-256}
check_only=0

die() { echo "flash: $*" >&2; exit 1; }
refuse() { echo "flash: refusing $dev: $*" >&2; exit 1; }

# field LINE KEY: the value of KEY="..." in one line of `lsblk -P`.
field() {
	local re="(^| )$2=\"([^\"]*)\""
	[[ $1 =~ $re ]] && printf '%s' "${BASH_REMATCH[2]}"
	return 0
}

# The disk and everything below it, one device per line (first line: dev).
device_facts() {
	"$LSBLK" -P -b -o NAME,PATH,TYPE,RM,TRAN,SIZE,VENDOR,MODEL,MOUNTPOINT,PKNAME "$dev" 2>&1
}

# check_whole_removable FIRST_LINE: refuse partitions, non-disks, fixed disks.
check_whole_removable() {
	local type rm tran pk
	type=$(field "$1" TYPE) rm=$(field "$1" RM) tran=$(field "$1" TRAN) pk=$(field "$1" PKNAME)
	[ "$type" = disk ] || refuse "it is a '$type', not a whole disk${pk:+ (the disk is /dev/$pk)}"
	[ -z "$pk" ] || refuse "it is part of /dev/$pk, not a whole disk"
	[ "$rm" = 1 ] || [ "$tran" = usb ] ||
		refuse "not a removable or USB disk (RM=$rm, transport '${tran:-none}')"
}

# check_unused ALL_LINES: nothing below the disk mounted, no swap, no holders.
check_unused() {
	local line mp type name
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		mp=$(field "$line" MOUNTPOINT) type=$(field "$line" TYPE) name=$(field "$line" NAME)
		[ -z "$mp" ] || refuse "$name is mounted on $mp (unmount it first)"
		case $type in disk|part) ;; *) refuse "$name is a '$type' holder (LVM/crypt/RAID in use)" ;; esac
	done <<<"$1"
}

# check_size FIRST_LINE IMAGE_BYTES
check_size() {
	local size max
	size=$(field "$1" SIZE)
	max=$((max_gib * 1024 * 1024 * 1024))
	[[ $size =~ ^[0-9]+$ ]] || refuse "lsblk gave no size"
	[ "$size" -gt 0 ] || refuse "size 0 (no medium in the reader?)"
	[ "$size" -le "$max" ] || refuse "$(human "$size") is larger than the limit of $max_gib GiB (MAX_GIB=N to change)"
	[ "$size" -ge "$2" ] || refuse "$(human "$size") is smaller than the image ($(human "$2"))"
}

human() { awk -v b="$1" 'BEGIN { printf "%.1f GiB", b / 1073741824 }'; }

confirm() {
	local first=$1 answer tran
	tran=$(field "$first" TRAN)
	echo "About to overwrite $dev:"
	echo "    $(field "$first" VENDOR) $(field "$first" MODEL)," \
		"$(human "$(field "$first" SIZE)") ($(field "$first" SIZE) bytes)," \
		"transport ${tran:-none}, removable=$(field "$first" RM)"
	echo "Everything on it will be lost. Type yes to continue:"
	read -r answer || answer=""
	[ "$answer" = yes ] || die "not confirmed; nothing written"
}

main() {
	while [ $# -gt 0 ]; do
		case $1 in
		--check) check_only=1; shift ;;
		--max-gib) max_gib=$2; shift 2 ;;
		*) break ;;
		esac
	done
	[ $# -eq 2 ] || die "usage: $0 [--check] [--max-gib N] IMAGE /dev/sdX"
	image=$1 dev=$2
	[ -f "$image" ] || die "no image at $image (make usb)"
	[[ $max_gib =~ ^[0-9]+$ ]] || die "MAX_GIB must be a number of GiB"
	local facts first
	facts=$(device_facts) || refuse "lsblk cannot read it: $(head -n1 <<<"$facts")"
	first=$(head -n1 <<<"$facts")
	[[ $first == *TYPE=* ]] || refuse "lsblk cannot read it: $first"
	check_whole_removable "$first"
	check_unused "$facts"
	check_size "$first" "$(stat -c %s "$image")"
	if [ "$check_only" = 1 ]; then echo "flash: $dev is acceptable"; exit 0; fi
	if [ -z "${FLASH_DD:-}" ] && [ ! -w "$dev" ]; then
		die "no write permission on $dev: run as root (sudo make flash DEV=$dev)"
	fi
	confirm "$first"
	"$DD" if="$image" of="$dev" bs=4M conv=fsync status=progress
	sync
	verify "$image"
	echo "flash: done; the stick can be removed"
}

# Read the image's length back from the device, bypassing the page cache
# where the device allows it, and compare: catches sticks that lose writes
# (fake capacity, worn flash) before someone carries one to a PC.
verify() {
	local bytes
	bytes=$(stat -c %s "$1")
	echo "flash: verifying $(human "$bytes") written to $dev"
	if ! { "$DD" if="$dev" bs=4M iflag=direct,count_bytes count="$bytes" status=none 2>/dev/null ||
	       "$DD" if="$dev" bs=4M iflag=count_bytes count="$bytes" status=none; } | cmp -s - "$1"; then
		die "VERIFY FAILED: $dev does not read back what was written (bad or fake-capacity stick?)"
	fi
}

main "$@"
