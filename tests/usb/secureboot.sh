#!/usr/bin/env bash
# Secure Boot test: OVMF with Secure Boot enforced and Debian's snakeoil keys
# enrolled (PK, KEK and db all hold the snakeoil certificate), SMM on and the
# flash secure, booting the stick image from a USB (xHCI) disk:
#   - the loader signed with the snakeoil key through `make usb-signed`
#     boots and reaches the kernel's pass exit;
#   - the unsigned loader (build/mmboot.img) is refused: OVMF's boot manager
#     reports "Access Denied" for the USB disk (DxeImageVerificationLib's
#     EFI_SECURITY_VIOLATION, printed by BdsDxe on the serial console) and
#     the kernel never runs;
#   - a loader signed with a key that is not enrolled is refused the same way.
# The firmware's debug console (port 0x402) is captured as well; Debian's
# release OVMF prints nothing there, so the verdict comes from BdsDxe's lines.
# Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/usb/lib.sh
work=$(mktemp -d build/test-usb-sb.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$work"' EXIT
KEY=/usr/share/ovmf/PkKek-1-snakeoil.key
CERT=/usr/share/ovmf/PkKek-1-snakeoil.pem
for f in "$USB_OVMF_DIR/OVMF_CODE_4M.snakeoil.fd" "$USB_OVMF_DIR/OVMF_VARS_4M.snakeoil.fd" "$KEY" "$CERT"; do
	[ -r "$f" ] || { echo "not ok 1 - Secure Boot prerequisites: missing $f (package ovmf)"; exit 1; }
done
EFI=${USB_EFI:-build/BOOTX64.EFI}
mk() { make --no-print-directory -s USB_EFI="$EFI" "$@" >"$work/make.log" 2>&1 || { sed 's/^/# make: /' "$work/make.log"; return 1; }; }

usb_check "make usb builds the unsigned image" mk usb
usb_check "make usb-signed signs with the snakeoil key (passphrase via SIGN_PASS)" \
	env SIGN_PASS=snakeoil bash -c "$(declare -f mk); work=$work EFI=$EFI; mk usb-signed KEY=$KEY CERT=$CERT"
usb_check "sbverify: signed loader verifies against the snakeoil certificate" \
	bash -c "sbverify --cert '$CERT' build/BOOTX64.signed.efi >/dev/null 2>&1"
usb_check "sbverify: unsigned loader does not" bash -c "! sbverify --cert '$CERT' '$EFI' >/dev/null 2>&1"
# Bytes past the last section (a COFF symbol table objcopy kept) make
# sbverify warn "data remaining[...]: gaps between PE/COFF sections?"; strict
# firmware may refuse such an image (mk/area-boot.mk strips it).
sb_nowarn() {  # FILE: sbverify --list says nothing about gaps or leftover data
	local out
	out=$(sbverify --list "$1" 2>&1)
	if grep -qiE 'data remaining|gaps between' <<<"$out"; then
		grep -iE 'data remaining|gaps between' <<<"$out" | sed 's/^/#   sbverify: /'; return 1
	fi
}
usb_check "sbverify: no 'data remaining / gaps between PE/COFF sections' warning (unsigned loader)" \
	sb_nowarn "$EFI"
usb_check "sbverify: no 'data remaining / gaps between PE/COFF sections' warning (signed loader)" \
	sb_nowarn build/BOOTX64.signed.efi
# A key nobody enrolled.
openssl req -new -x509 -newkey rsa:2048 -nodes -days 1 -sha256 -subj "/CN=mmboot stranger/" \
	-keyout "$work/other.key" -out "$work/other.crt" >/dev/null 2>&1
tools/sign.sh "$work/other.key" "$work/other.crt" "$EFI" "$work/other.efi" >/dev/null &&
	tools/mkimage.sh -o "$work/other.img" "$work/other.efi" >/dev/null

media=$(usb_medium_name usb)
# boot_refused NAME IMAGE: the firmware must deny the USB disk and never start it.
boot_refused() {
	local dir=$work/$1
	usb_boot "$dir" usb "$2" secure "stop=No bootable option|Boot Manager Menu" timeout=60
	local rc=$?
	if grep -aq "failed to load Boot[0-9A-F]* \"UEFI QEMU QEMU $media.*: Access Denied" "$dir/serial.log" &&
	   ! grep -aq "starting Boot[0-9A-F]* \"UEFI QEMU QEMU $media" "$dir/serial.log" && [ $rc -ne 33 ]; then
		usb_ok "enforced Secure Boot refuses the $1 loader (Access Denied, ${rc/200/stopped} after $(cat "$dir/seconds") s)"
		grep -a 'Access Denied' "$dir/serial.log" | tr -d '\033' | sed 's/^/#   firmware: /'
	else
		usb_notok "enforced Secure Boot refuses the $1 loader"; usb_explain "$dir"
	fi
}

# Two boots at once at most (shared machine): the signed one runs beside the first refusal.
dir=$work/signed
usb_boot "$dir" usb build/mmboot-signed.img secure timeout=90 &
signed_pid=$!
boot_refused unsigned build/mmboot.img
wait $signed_pid
if usb_passed "$dir" && grep -aq "starting Boot[0-9A-F]* \"UEFI QEMU QEMU $media" "$dir/serial.log"; then
	usb_ok "enforced Secure Boot boots the snakeoil-signed stick to the kernel's pass exit ($(cat "$dir/seconds") s)"
else
	usb_notok "enforced Secure Boot boots the snakeoil-signed stick to the kernel's pass exit"; usb_explain "$dir"
fi
if [ -f "$work/other.img" ]; then boot_refused foreign-key "$work/other.img"
else usb_notok "enforced Secure Boot refuses the foreign-key loader (could not sign with a fresh key)"; fi
usb_plan
