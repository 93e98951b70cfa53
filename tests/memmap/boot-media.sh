#!/usr/bin/env bash
# QEMU test: the loader cannot save its memory-map dump; prints TAP.
#
# Four boots (two at a time), each must print the loader's message naming
# the failure with its UEFI status, leave no partial dump behind, and still
# run the kernel stage to its pass exit (run-qemu.sh exit 0):
#   ro    the loader's FAT image on a virtio-blk drive with readonly=on
#         (QEMU sets VIRTIO_BLK_F_RO, OVMF's BlockIo reports ReadOnly, the
#         FAT driver answers EFI_WRITE_PROTECTED): the image is byte for
#         byte unchanged afterwards;
#   full1 a FAT image with 2 KiB free (a filler file), less than the dump
#         (6 KiB): EFI_VOLUME_FULL on the .map; the empty .map the loader
#         created is deleted: \mmboot holds nothing, fsck.fat finds no error;
#   full2 12 KiB free: the dump (6 KiB) fits, the text table (13 KiB) does
#         not: the whole .map is kept (it decodes to the rows the loader
#         printed), no .txt is left, the console says only the .map was saved;
#   nofs  the loader comes over the network (OVMF PXE, QEMU's TFTP server):
#         the boot device has no Simple File System (EFI_UNSUPPORTED); the
#         FAT disk in the machine (no loader on it) is not written.
# shellcheck disable=SC2015  # a && b || die
# shellcheck source=tests/memmap/boot-lib.sh
. "$(dirname "$0")/boot-lib.sh"

# fill IMG so that LEFT bytes stay free
fill() {
	local free
	free=$(mdir -i "$1" :: | sed -n 's/ //g; s/bytesfree$//p')
	[ -n "$free" ] && [ "$free" -gt "$2" ] || return 1
	head -c $((free - $2)) /dev/zero >"$tmp/filler" && mcopy -i "$1" "$tmp/filler" ::/filler.bin &&
		[ "$(mdir -i "$1" :: | sed -n 's/ //g; s/bytesfree$//p')" = "$2" ]
}
files() { mdir -b -i "$1" ::/mmboot 2>/dev/null | sed 's|.*/||' | sort; }
fsck_ok() { fsck.fat -n "$1" >"$tmp/fsck" 2>&1 || { show "$tmp/fsck"; return 1; }; }
same_rows() { test -s "$1" && cmp -s "$1" "$2"; }

# boot NAME's serial log, clean, into $tmp/NAME.txt; its save lines shown
serial() { clean "$tmp/$1.log" >"$tmp/$1.txt" && grep -a -e '^save' "${@:2}" "$tmp/$1.txt" | show; }
# the disk image run-qemu kept (KEEP=1) after boot NAME, in $disk
kept_disk() {
	local d
	d=$(kept_dir "$tmp/$1.log")
	disk=$d/disk.img
	[ -n "$d" ] && [ -f "$disk" ] && return 0
	not_ok "$1: the disk image after the boot (run-qemu KEEP=1) is missing"
	return 1
}

# pass EXIT: the kernel stage ran and ended the VM with its pass status
ran_to_pass() {  # ran_to_pass NAME CLEANLOG RC RAWLOG
	check "$1: the boot goes on to the kernel stage" went_on "$2"
	check "$1: the kernel stage ends with its pass exit (run-qemu exit $3)" test "$3" -eq 0
	[ "$3" -eq 0 ] || { show "$4.run"; grep -a -e '^not ok' -e '^mmboot: ' "$2" | show; }
}

mkimg "$tmp/ro.img" && cp "$tmp/ro.img" "$tmp/ro.orig" || { not_ok "image ro"; exit 1; }
mkimg "$tmp/disk.img" 0 || { not_ok "image disk"; exit 1; }
mkimg "$tmp/full1.img" && fill "$tmp/full1.img" 2048 || { not_ok "image full1"; exit 1; }
mkimg "$tmp/full2.img" && fill "$tmp/full2.img" 12288 || { not_ok "image full2"; exit 1; }
mkdir -p "$tmp/tftp" && cp "$EFI" "$tmp/tftp/BOOTX64.EFI"

# --- ro and full1 --------------------------------------------------------------
boot "$tmp/disk.img" "$tmp/ro.log" \
	EXTRA="-drive if=none,id=rod,format=raw,readonly=on,file=$tmp/ro.img -device virtio-blk-pci,drive=rod,bootindex=0" &
p1=$!
boot "$tmp/full1.img" "$tmp/full1.log" KEEP=1 &
p2=$!
wait "$p1"; rc1=$?
wait "$p2"; rc2=$?

serial ro
check "ro: the loader reports the read-only medium" \
	grep -aq '^save: cannot open \\mmboot on the boot volume: the medium is read-only (status 0x8000000000000008); the boot goes on without saving$' "$tmp/ro.txt"
check "ro: the read-only image is unchanged" cmp -s "$tmp/ro.img" "$tmp/ro.orig"
ran_to_pass ro "$tmp/ro.txt" "$rc1" "$tmp/ro.log"

serial full1
check "full1: the loader reports the full medium while writing the dump" \
	grep -aq '^save: writing the dump: the medium is full (status 0x800000000000000b); the boot goes on without saving$' "$tmp/full1.txt"
if kept_disk full1; then
	files "$disk" >"$tmp/full1.files"
	show "$tmp/full1.files"
	check "full1: no dump file left behind (\\mmboot empty)" test ! -s "$tmp/full1.files"
	check "full1: fsck.fat finds the file system clean" fsck_ok "$disk"
	rm -rf "${disk%/disk.img}"
fi
ran_to_pass full1 "$tmp/full1.txt" "$rc2" "$tmp/full1.log"

# --- full2 and nofs --------------------------------------------------------------
boot "$tmp/full2.img" "$tmp/full2.log" KEEP=1 &
p1=$!
boot "$tmp/disk.img" "$tmp/nofs.log" KEEP=1 \
	EXTRA="-netdev user,id=n0,tftp=$tmp/tftp,bootfile=BOOTX64.EFI -device virtio-net-pci,netdev=n0,romfile=,bootindex=0" &
p2=$!
wait "$p1"; rc1=$?
wait "$p2"; rc2=$?

serial full2
check "full2: the loader says only the dump was saved" \
	grep -aqE "^saved: \\\\mmboot\\\\$machine-1\\.map \\([0-9]+ bytes\\) only$" "$tmp/full2.txt"
check "full2: the loader reports the full medium while writing the text table" \
	grep -aq '^save: writing the text table: the medium is full (status 0x800000000000000b); the dump is kept without it$' "$tmp/full2.txt"
if kept_disk full2; then
	files "$disk" >"$tmp/full2.files"
	show "$tmp/full2.files"
	check "full2: \\mmboot holds the .map alone (no partial .txt)" \
		test "$(cat "$tmp/full2.files")" = "$machine-1.map"
	mcopy -i "$disk" "::/mmboot/$machine-1.map" "$tmp/full2.map" 2>/dev/null
	"$T" show "$tmp/full2.map" >"$tmp/full2.show" 2>&1
	rows "$tmp/full2.show" >"$tmp/r.host"
	rows "$tmp/full2.txt" >"$tmp/r.serial"
	check "full2: the kept dump is whole: it decodes to the $(wc -l <"$tmp/r.serial") rows the loader printed" \
		same_rows "$tmp/r.host" "$tmp/r.serial"
	check "full2: fsck.fat finds the file system clean" fsck_ok "$disk"
	rm -rf "${disk%/disk.img}"
fi
ran_to_pass full2 "$tmp/full2.txt" "$rc1" "$tmp/full2.log"

serial nofs -e 'BdsDxe: starting'
check "nofs: the loader came over the network (PXE)" grep -aq '^BdsDxe: starting .*PXEv4' "$tmp/nofs.txt"
check "nofs: the loader reports the boot device without a file system" \
	grep -aq '^save: cannot open \\mmboot on the boot volume: the boot device has no file system (status 0x8000000000000003); the boot goes on without saving$' "$tmp/nofs.txt"
if kept_disk nofs; then
	files "$disk" >"$tmp/nofs.files"
	check "nofs: nothing written to the FAT disk that is not the boot device" test ! -s "$tmp/nofs.files"
	rm -rf "${disk%/disk.img}"
fi
ran_to_pass nofs "$tmp/nofs.txt" "$rc2" "$tmp/nofs.log"
