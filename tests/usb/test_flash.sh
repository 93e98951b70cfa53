#!/usr/bin/env bash
# Tests of tools/flash.sh's refusals and confirmation, without any real disk:
# a fake lsblk prints canned `lsblk -P` output (the devices a user might
# point it at), a fake dd records how it was called. Two cases use the real
# lsblk on things that must be refused (a plain file, the disk holding /).
# Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
FLASH=tools/flash.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c 8M /dev/urandom >"$work/img"

cat >"$work/lsblk" <<'FAKE'
#!/bin/sh
cat "$FAKE_LSBLK_OUT"
FAKE
# The fake dd: the write (conv=fsync) is recorded and done into the plain
# file standing for the device (FAKE_DD_CORRUPT=1: one byte of it is then
# lost, as on a failing stick); the read-back goes to the real dd.
cat >"$work/dd" <<'FAKE'
#!/bin/sh
case "$*" in
*conv=fsync*)
	echo "$@" >>"$FAKE_DD_LOG"
	dd "$@" 2>/dev/null || exit 1
	if [ -n "${FAKE_DD_CORRUPT:-}" ]; then
		for a in "$@"; do
			case $a in of=*) printf X | dd of="${a#of=}" bs=1 seek=4097 conv=notrunc 2>/dev/null ;; esac
		done
	fi ;;
*) exec dd "$@" ;;
esac
FAKE
chmod +x "$work/lsblk" "$work/dd"
export FLASH_LSBLK=$work/lsblk FLASH_DD=$work/dd FAKE_LSBLK_OUT=$work/out FAKE_DD_LOG=$work/ddlog

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }
dev_line() {  # name type rm tran size model mountpoint pkname
	printf 'NAME="%s" PATH="/dev/%s" TYPE="%s" RM="%s" TRAN="%s" SIZE="%s" VENDOR="Vend" MODEL="%s" MOUNTPOINT="%s" PKNAME="%s"\n' \
		"$1" "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8"
}
G=1073741824
stick() { dev_line sdb disk 1 usb $((16 * G)) "Ultra_Fit" "" ""; }

# expect VERDICT(accept|refuse) NAME PATTERN [flash.sh args...]: canned output already in $work/out
expect() {
	local want=$1 name=$2 pat=$3; shift 3
	local out rc
	out=$("$FLASH" --check "$@" 2>&1); rc=$?
	if { [ "$want" = accept ] && [ $rc -eq 0 ]; } || { [ "$want" = refuse ] && [ $rc -ne 0 ]; }; then
		if [[ $out == *$pat* ]]; then ok "$name"; return; fi
	fi
	notok "$name"; echo "# rc=$rc output: $out"
}

stick >"$work/out"
expect accept "unmounted 16 GiB USB stick accepted" "acceptable" "$work/img" /dev/sdb
{ stick; dev_line sdb1 part 1 "" $((16 * G - 1048576)) "" "" sdb; } >"$work/out"
expect accept "stick with an unmounted partition accepted" "acceptable" "$work/img" /dev/sdb
dev_line mmcblk0 disk 1 "" $((32 * G)) "SD" "" "" >"$work/out"
expect accept "removable card (RM=1, no transport) accepted" "acceptable" "$work/img" /dev/mmcblk0
dev_line sdc disk 0 usb $((500 * G / 2)) "USB_SSD" "" "" >"$work/out"
expect accept "fixed-media disk on USB (TRAN=usb) accepted" "acceptable" "$work/img" /dev/sdc

dev_line sdb1 part 1 usb $((16 * G)) "" "" sdb >"$work/out"
expect refuse "partition refused" "not a whole disk" "$work/img" /dev/sdb1
dev_line sda disk 0 sata $((500 * G)) "Samsung_SSD" "" "" >"$work/out"
expect refuse "internal SATA disk refused" "not a removable" "$work/img" /dev/sda
dev_line nvme0n1 disk 0 nvme $((200 * G)) "WD_Black" "" "" >"$work/out"
expect refuse "NVMe disk refused" "not a removable" "$work/img" /dev/nvme0n1
dev_line loop0 loop 0 "" $((64 * 1048576)) "" "" "" >"$work/out"
expect refuse "loop device refused" "not a whole disk" "$work/img" /dev/loop0
{ stick; dev_line sdb1 part 1 "" $((16 * G)) "" "/media/user/STICK" sdb; } >"$work/out"
expect refuse "stick with a mounted partition refused" "mounted on /media/user/STICK" "$work/img" /dev/sdb
dev_line sdb disk 1 usb $((16 * G)) "Ultra_Fit" "/mnt" "" >"$work/out"
expect refuse "stick mounted as a whole (superfloppy) refused" "mounted on /mnt" "$work/img" /dev/sdb
{ stick; dev_line sdb2 part 1 "" $((2 * G)) "" "[SWAP]" sdb; } >"$work/out"
expect refuse "stick with a swap partition in use refused" "SWAP" "$work/img" /dev/sdb
{ stick; dev_line sdb1 part 1 "" $((16 * G)) "" "" sdb; dev_line luks-1 crypt 0 "" $((16 * G)) "" "" sdb1; } >"$work/out"
expect refuse "stick holding an open dm-crypt volume refused" "crypt" "$work/img" /dev/sdb
dev_line sdd disk 1 usb $((1024 * G)) "Backup_Drive" "" "" >"$work/out"
expect refuse "1 TiB removable disk refused by the default limit" "larger than the limit of 256 GiB" "$work/img" /dev/sdd
expect accept "1 TiB removable disk accepted with --max-gib 2048" "acceptable" --max-gib 2048 "$work/img" /dev/sdd
stick >"$work/out"
out=$(FLASH_MAX_GIB=8 "$FLASH" --check "$work/img" /dev/sdb 2>&1); rc=$?
[ $rc -ne 0 ] && [[ $out == *"limit of 8 GiB"* ]] && ok "limit from FLASH_MAX_GIB honoured" || { notok "limit from FLASH_MAX_GIB honoured"; echo "# $out"; }
dev_line sde disk 1 usb 0 "Card_Reader" "" "" >"$work/out"
expect refuse "empty card reader (size 0) refused" "size 0" "$work/img" /dev/sde
dev_line sdf disk 1 usb $((4 * 1048576)) "Tiny" "" "" >"$work/out"
expect refuse "device smaller than the image refused" "smaller than the image" "$work/img" /dev/sdf
printf 'lsblk: /dev/sdz: not a block device\n' >"$work/out"
expect refuse "garbage from lsblk refused" "cannot read" "$work/img" /dev/sdz

# Confirmation: only the full word "yes" writes. The "device" is a plain file.
stick >"$work/out"
dev=$work/sdb
for answer in "" y Y YES "yes please" no; do
	rm -f "$work/ddlog"
	out=$("$FLASH" "$work/img" "$dev" 2>&1 <<<"$answer"); rc=$?
	if [ $rc -ne 0 ] && [ ! -e "$work/ddlog" ] && [[ $out == *"nothing written"* ]]; then
		ok "answer '$answer' does not write"
	else notok "answer '$answer' does not write"; echo "# rc=$rc $out"; fi
done
rm -f "$work/ddlog"
out=$("$FLASH" "$work/img" "$dev" 2>&1 <<<"yes"); rc=$?
if [ $rc -eq 0 ] && [[ $out == *"Vend Ultra_Fit"* ]] && [[ $out == *"16.0 GiB"* ]]; then
	ok "prompt shows vendor, model and size"
else notok "prompt shows vendor, model and size"; echo "# $out"; fi
want="if=$work/img of=$dev bs=4M conv=fsync status=progress"
if [ "$(cat "$work/ddlog" 2>/dev/null)" = "$want" ]; then ok "'yes' runs dd conv=fsync status=progress once"
else notok "'yes' runs dd conv=fsync status=progress once"; echo "# got: $(cat "$work/ddlog" 2>/dev/null)"; fi
if [[ $out == *"verifying"* ]] && cmp -s "$work/img" "$dev"; then ok "written bytes read back and compared"
else notok "written bytes read back and compared"; echo "# $out"; fi
rm -f "$dev"
out=$(FAKE_DD_CORRUPT=1 "$FLASH" "$work/img" "$dev" 2>&1 <<<"yes"); rc=$?
[ $rc -ne 0 ] && [[ $out == *"VERIFY FAILED"* ]] && ok "a stick that loses a write fails verification" ||
	{ notok "a stick that loses a write fails verification"; echo "# rc=$rc $out"; }

# The real lsblk on things that must never be written.
unset FLASH_LSBLK FLASH_DD
out=$("$FLASH" --check "$work/img" "$work/img" 2>&1); rc=$?
[ $rc -ne 0 ] && [[ $out == *"cannot read"* ]] && ok "real lsblk: a plain file refused" || { notok "real lsblk: a plain file refused"; echo "# $out"; }
root=$(findmnt -no SOURCE / 2>/dev/null || true)
if [ -b "$root" ]; then
	rootdisk=$root
	pk=$(lsblk -no PKNAME "$root" 2>/dev/null | head -n1)
	[ -z "$pk" ] || rootdisk=/dev/$pk
	out=$("$FLASH" --check "$work/img" "$rootdisk" 2>&1 </dev/null); rc=$?
	[ $rc -ne 0 ] && [[ $out == *refusing* ]] && ok "real lsblk: the disk holding / ($rootdisk) refused" ||
		{ notok "real lsblk: the disk holding / ($rootdisk) refused"; echo "# $out"; }
else
	ok "real lsblk: the disk holding / refused # SKIP / is not on a block device here ($root)"
fi
echo "1..$n"
