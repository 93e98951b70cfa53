#!/usr/bin/env bash
# sign.sh: sign an EFI application for Secure Boot with sbsigntool.
#
#   tools/sign.sh KEY CERT IN.efi OUT.efi
#   make sign KEY=db.key CERT=db.crt        -> build/BOOTX64.signed.efi
#
# KEY is a PEM private key, CERT the matching PEM X.509 certificate (the one
# enrolled in the firmware's db, or as a MOK for shim). sbsign cannot be given
# a passphrase on the command line, so a passphrase-protected key is first
# decrypted with openssl into a private temporary file (mode 0600, removed on
# exit); the passphrase comes from SIGN_PASS or, when that is unset, openssl
# asks on the terminal. The signature is then checked with sbverify against
# CERT, so a key/certificate mismatch fails here and not at the firmware.
#
# Making a key of your own (see docs/real-hardware.md for enrolling it):
#   openssl req -new -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
#       -subj "/CN=mmboot signing key/" -keyout db.key -out db.crt
#   openssl x509 -in db.crt -outform DER -out db.cer   # for firmware setup / mokutil
set -euo pipefail

die() { echo "sign: $*" >&2; exit 1; }
[ $# -eq 4 ] || die "usage: $0 KEY CERT IN.efi OUT.efi"
key=$1 cert=$2 in=$3 out=$4
[ -r "$key" ] || die "cannot read key $key (make sign KEY=... CERT=...)"
[ -r "$cert" ] || die "cannot read certificate $cert"
[ -r "$in" ] || die "no EFI application at $in"
command -v sbsign >/dev/null || die "sbsign missing (install sbsigntool: tools/deps.sh usb)"

tmpdir=$(mktemp -d)
trap 'rm -rf "$tmpdir"' EXIT
chmod 700 "$tmpdir"

if grep -q ENCRYPTED "$key"; then
	umask 077
	if [ -n "${SIGN_PASS+set}" ]; then
		openssl pkey -in "$key" -passin env:SIGN_PASS -out "$tmpdir/key.pem" ||
			die "cannot decrypt $key with SIGN_PASS"
	else
		openssl pkey -in "$key" -out "$tmpdir/key.pem" || die "cannot decrypt $key"
	fi
	key=$tmpdir/key.pem
fi

# sbsign warns about gaps between PE sections in gnu-efi images: harmless.
sbsign --key "$key" --cert "$cert" --output "$tmpdir/signed.efi" "$in" 2>"$tmpdir/err" ||
	{ cat "$tmpdir/err" >&2; die "sbsign failed"; }
sbverify --cert "$cert" "$tmpdir/signed.efi" >/dev/null 2>"$tmpdir/err" ||
	{ cat "$tmpdir/err" >&2; die "the signature does not verify against $cert"; }
mv "$tmpdir/signed.efi" "$out"
echo "sign: $out signed with $(openssl x509 -in "$cert" -noout -subject)"
