#!/usr/bin/env bash
# shellcheck disable=SC2016  # gdb expressions ($pc) are meant literally
# gdb-attach.sh: `make debug` works: gdb attaches to QEMU's stub, loads the
# loader's and the kernel's symbols (tools/gdbinit), stops in the mode-switch
# trampoline and on the kernel entry. Prints TAP.
#
# Steps (as make debug does them):
#   1. probe boot: the loader prints "loader image: 0x..." on serial; that is
#      the base gdb loads build/efi/bootx64.so at
#   2. QEMU halted at reset with its gdb stub on a free port
#   3. gdb -batch -x tools/gdbinit, then mmboot-modeswitch (stops at the
#      trampoline's first instruction: checks pc == tramp page and the
#      symbol there is modeswitch_start), two `si`, continue to the
#      hardware breakpoint on the kernel entry (checks pc == e_entry of
#      kernel.elf and the symbol is _start), hbreak kmain + continue.
#   4. the live boot printed the same loader base as the probe boot (the
#      assumption make debug rests on)
# Artifacts: build/test-artifacts/gdb/{probe.log,serial.log,gdb.txt,qemu.txt}
set -u
cd "$(dirname "$0")/../.." || exit 1
art=build/test-artifacts/gdb
rm -rf "$art" && mkdir -p "$art"
n=0 fails=0
tap() {  # tap OK|FAIL description
	n=$((n + 1))
	if [ "$1" = OK ]; then echo "ok $n - gdb: $2"; else echo "not ok $n - gdb: $2"; fails=$((fails + 1)); fi
}
show() { sed 's/^/# | /' "$1"; }
finish() { echo "1..$n"; [ "$fails" -eq 0 ]; exit $?; }

for f in build/BOOTX64.EFI build/efi/bootx64.so build/kernel/kernel.elf build/efi/arch/x86/modeswitch.o; do
	[ -e "$f" ] || { tap FAIL "missing $f (make all)"; finish; }
done
command -v gdb >/dev/null || { tap FAIL "gdb is not installed (tools/deps.sh test)"; finish; }

# 1. probe boot
SERIAL_STDIO=0 SERIAL_LOG=$art/probe.log TIMEOUT=150 tools/run-qemu.sh > "$art/probe.txt" 2>&1
base=$(grep -ao 'loader image: 0x[0-9a-fA-F]*' "$art/probe.log" | tail -n 1 | cut -d' ' -f3)
if [ -n "$base" ]; then
	tap OK "probe boot printed the loader image base ($base)"
else
	tap FAIL "probe boot printed no 'loader image: 0x...' line"; show "$art/probe.txt"; show "$art/probe.log"; finish
fi
echo "$base" > "$art/loader-base"

# 2. QEMU halted, stub on a free port
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DEBUG=1 GDB_PORT=$port TIMEOUT=150 SERIAL_STDIO=0 SERIAL_LOG=$art/serial.log \
	tools/run-qemu.sh > "$art/qemu.txt" 2>&1 &
qpid=$!
for _ in $(seq 50); do
	grep -q "gdb stub on" "$art/qemu.txt" 2>/dev/null && break; sleep 0.1
done
sleep 0.5

# 3. gdb in batch mode
entry=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(28); print("0x%x" % struct.unpack_from("<I", d, 24)[0])' build/kernel/kernel.elf)
GDB_PORT=$port MMBOOT_SERIAL_LOG=$art/serial.log MMBOOT_LOADER_BASE_FILE=$art/loader-base \
timeout 120 gdb -q -batch -nx -x tools/gdbinit \
	-ex 'mmboot-modeswitch' \
	-ex 'printf "AT-TRAMP pc=0x%lx\n", $pc' -ex 'info symbol $pc' \
	-ex 'si' -ex 'si' \
	-ex 'continue' \
	-ex 'printf "AT-ENTRY pc=0x%lx\n", $pc' -ex 'info symbol $pc' \
	-ex 'mmboot-x32 $pc 3' \
	-ex 'hbreak kmain' -ex 'continue' \
	-ex 'printf "AT-KMAIN pc=0x%lx\n", $pc' -ex 'info symbol $pc' \
	-ex 'kill' > "$art/gdb.txt" 2>&1
grc=$?
wait "$qpid"

if grep -q "^mmboot: loader symbols from .* at image base $base" "$art/gdb.txt" &&
   grep -q "^mmboot: kernel symbols from" "$art/gdb.txt"; then
	tap OK "attached, loaded the loader symbols at $base and the kernel symbols"
else
	tap FAIL "attach or symbol loading (gdb exit $grc)"; show "$art/gdb.txt"; show "$art/qemu.txt"
fi
tramp=$(sed -n 's/^mmboot: trampoline page at \(0x[0-9a-f]*\).*/\1/p' "$art/gdb.txt")
if [ -n "$tramp" ] && grep -q "^AT-TRAMP pc=$tramp\$" "$art/gdb.txt" &&
   grep -A1 "^AT-TRAMP" "$art/gdb.txt" | grep -q "^modeswitch_start in section .text"; then
	tap OK "stopped on the mode-switch trampoline's first instruction ($tramp, modeswitch_start)"
else
	tap FAIL "mmboot-modeswitch did not stop at modeswitch_start in the trampoline page"; show "$art/gdb.txt"
fi
if grep -q "^AT-ENTRY pc=$entry\$" "$art/gdb.txt" &&
   grep -A1 "^AT-ENTRY" "$art/gdb.txt" | grep -q "^_start in section .text of .*kernel.elf" &&
   grep -qE "^ *${entry#0x}:"$'\t' "$art/gdb.txt"; then
	tap OK "hardware breakpoint on the kernel entry hit (pc $entry, _start of kernel.elf; mmboot-x32 decodes it)"
else
	tap FAIL "no stop on the kernel entry $entry"; show "$art/gdb.txt"
fi
if grep -q "^AT-KMAIN" "$art/gdb.txt" && grep -A1 "^AT-KMAIN" "$art/gdb.txt" | grep -qE "^kmain( \+ [0-9]+)? in section"; then
	tap OK "hbreak kmain by name in the 32-bit kernel"
else
	tap FAIL "no stop in kmain"; show "$art/gdb.txt"
fi

# 4. the address gdb was told matches the live boot
live=$(grep -ao 'loader image: 0x[0-9a-fA-F]*' "$art/serial.log" | tail -n 1 | cut -d' ' -f3)
if [ "$live" = "$base" ]; then
	tap OK "the live boot loaded the loader at the probe's base ($live)"
else
	tap FAIL "loader base differs: probe $base, live '${live}' (make debug's probe is unreliable)"
	show "$art/serial.log"
fi
finish
