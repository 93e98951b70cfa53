#!/usr/bin/env bash
# Installs what mmboot needs, for one purpose at a time:
#   tools/deps.sh run | test | bench | usb | all
# On Debian and Ubuntu it installs the missing packages with apt-get (through
# sudo when not root). Elsewhere it prints what to install and fails.
set -eu

want=${1:-all}

# Debian package names; each group lists what a purpose needs on top of build.
build_pkgs="make clang lld llvm binutils gnu-efi python3"
run_pkgs="qemu-system-x86 ovmf"
test_pkgs="libcmocka-dev mtools dosfstools fdisk sbsigntool libxml2-utils"
bench_pkgs="libjemalloc-dev libmimalloc-dev libc6-dev-i386 gcc-multilib"
usb_pkgs="mtools dosfstools fdisk sbsigntool"

case $want in
run)   pkgs="$build_pkgs $run_pkgs" ;;
test)  pkgs="$build_pkgs $run_pkgs $test_pkgs $usb_pkgs" ;;
bench) pkgs="$build_pkgs $bench_pkgs $test_pkgs" ;;
usb)   pkgs="$build_pkgs $usb_pkgs" ;;
all)   pkgs="$build_pkgs $run_pkgs $test_pkgs $bench_pkgs $usb_pkgs" ;;
*)     echo "usage: $0 run|test|bench|usb|all" >&2; exit 2 ;;
esac
# Area-specific additions (e.g. fonts) live in tools/deps.d/*.list: "purpose pkg..."
for f in "$(dirname "$0")"/deps.d/*.list; do
	[ -e "$f" ] || continue
	while read -r purpose extra; do
		case $purpose in \#*|"") continue ;; esac
		if [ "$purpose" = "$want" ] || [ "$want" = all ] ||
		   { [ "$want" = test ] && [ "$purpose" != bench ]; }; then
			pkgs="$pkgs $extra"
		fi
	done < "$f"
done

# The clang runtime (ASan, UBSan, libFuzzer) must match the installed clang's
# version: Debian 12 has the meta package libclang-rt-dev, other releases only
# libclang-rt-N-dev. Probe the capability itself; when it is missing, name the
# package for this clang (installed in a second round if clang is new too).
needs_rt() { case $want in test|bench|all) return 0 ;; esac; return 1; }
rt_works() {
	command -v clang >/dev/null 2>&1 || return 1
	local t; t=$(mktemp -d)
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; return (int)n * 0; }\n' > "$t/f.c"
	clang -fsanitize=fuzzer,address,undefined "$t/f.c" -o "$t/f" >/dev/null 2>&1
	local rc=$?; rm -rf "$t"; return $rc
}
rt_pkg() {
	local v; v=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9][0-9]*\).*/\1/p' | head -1)
	if [ -n "$v" ] && apt-cache show "libclang-rt-$v-dev" >/dev/null 2>&1; then
		echo "libclang-rt-$v-dev"
	elif [ -n "$v" ]; then
		echo "libclang-common-$v-dev"
	else
		echo "libclang-rt-dev"
	fi
}

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
	for p in $pkgs; do
		case " $missing " in *" $p "*) continue ;; esac
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[ "$st" = installed ] || missing="$missing $p"
	done
else
	echo "mmboot: this is not a Debian/Ubuntu system; install the equivalents of:" >&2
	echo "  $pkgs" >&2
	echo "  (clang, ld.lld, GNU ld, gnu-efi, QEMU, OVMF, cmocka, mtools, dosfstools, sfdisk, sbsigntool)" >&2
	exit 1
fi

if [ -z "$missing" ]; then
	if needs_rt && ! rt_works; then
		missing=" $(rt_pkg)"
	else
		exit 0
	fi
fi

echo "mmboot: installing missing packages:$missing"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo="sudo"
	else
		echo "mmboot: not root and no sudo; as root run: apt-get install$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || { echo "mmboot: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
	{ echo "mmboot: apt-get install$missing failed; install them by hand" >&2; exit 1; }
echo "mmboot: packages installed"
if needs_rt && ! rt_works; then
	rt=$(rt_pkg)
	echo "mmboot: installing the clang sanitizer/fuzzer runtime: $rt"
	$sudo apt-get install -y -qq --no-install-recommends "$rt" >/dev/null ||
		{ echo "mmboot: apt-get install $rt failed; install the clang runtime (ASan, UBSan, libFuzzer) for $(clang --version | head -1)" >&2; exit 1; }
	rt_works || { echo "mmboot: clang still cannot link -fsanitize=fuzzer,address,undefined" >&2; exit 1; }
fi
