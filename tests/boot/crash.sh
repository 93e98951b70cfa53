#!/usr/bin/env bash
# crash.sh: the fatal paths end the boot with a clear verdict, never a hang.
#
# Builds the deliberate-crash variants of the loader/kernel (CRASH=N, see
# kernel/selftest.c and efi/handoff.c) each in its own build directory, boots
# each under tools/run-qemu.sh (q35, 256M, two at a time) and checks both the
# exit status run-qemu.sh derives from QEMU and the report on serial:
#
#   N  what                                   status  serial must show
#   1  kernel stack overflow into the guard   1       EXCEPTION 8: #DF double fault
#   2  write to page 0                        1       EXCEPTION 14: #PF page fault
#   3  ud2                                    1       EXCEPTION 6: #UD invalid opcode
#   4  loader corrupts the boot-info magic    1       boot-info block refused
#   5  loader finds a corrupt kernel ELF      2       loader: embedded kernel image is corrupt
#                                                     and EFI status 0x8000000000000001
#                                                     (EFI_LOAD_ERROR; run-qemu.sh: THE
#                                                     LOADER RETURNED)
#   6  loader fails after ExitBootServices    1       loader: FATAL after ExitBootServices
#      (no PMM: nothing to return to; it ends QEMU through isa-debug-exit)
#
# Each variant is a full build of the loader and kernel (~25 s on a busy
# core); all six run by default (`make test` and `make boot-crash-check`),
# CRASH_CASES="1 4 5" picks some.
# These also show that the harness can fail: a boot that does not pass is
# never reported as a pass. Prints TAP; a failed case prints its serial log.
# Artifacts: build/test-artifacts/crash/N/{serial.log,run.txt,build.txt}
set -u
cd "$(dirname "$0")/../.." || exit 1
art=build/test-artifacts/crash
mkdir -p "$art"

cases=(
	"1|kernel stack overflow|1|EXCEPTION 8: #DF double fault"
	"2|write to page 0|1|EXCEPTION 14: #PF page fault"
	"3|ud2 in the kernel|1|EXCEPTION 6: #UD invalid opcode"
	"4|corrupt boot-info magic|1|boot-info block refused"
	"5|corrupt kernel image|2|loader: embedded kernel image is corrupt"
	"6|failure after ExitBootServices|1|loader: FATAL after ExitBootServices"
)

sel=" ${CRASH_CASES:-1 2 3 4 5 6} "
keep=()
for c in "${cases[@]}"; do
	case $sel in *" ${c%%|*} "*) keep+=("$c") ;; esac
done
cases=("${keep[@]}")

# Build every variant first (make parallelises inside one build).
for c in "${cases[@]}"; do
	IFS='|' read -r n _ _ _ <<< "$c"
	mkdir -p "$art/$n"
	make -s -j2 --no-print-directory BUILD="build/crash-test/$n" CRASH="$n" \
		"build/crash-test/$n/BOOTX64.EFI" > "$art/$n/build.txt" 2>&1
done

boot_one() {  # n
	SERIAL_STDIO=0 SERIAL_LOG="$art/$1/serial.log" TIMEOUT=150 \
		EFI="build/crash-test/$1/BOOTX64.EFI" tools/run-qemu.sh > "$art/$1/run.txt" 2>&1
	echo $? > "$art/$1/rc"
}
running=0
for c in "${cases[@]}"; do
	IFS='|' read -r n _ _ _ <<< "$c"
	rm -f "$art/$n/rc" "$art/$n/serial.log"
	[ -e "build/crash-test/$n/BOOTX64.EFI" ] || continue
	if [ "$running" -ge "${CRASH_JOBS:-2}" ]; then wait -n; running=$((running - 1)); fi
	boot_one "$n" &
	running=$((running + 1))
done
wait

t=0 fails=0
for c in "${cases[@]}"; do
	IFS='|' read -r n what want pat <<< "$c"
	t=$((t + 1))
	desc="crash $n ($what): run-qemu.sh exit $want, serial shows '$pat'"
	why=""
	if [ ! -e "build/crash-test/$n/BOOTX64.EFI" ]; then
		why="build failed"
	else
		rc=$(cat "$art/$n/rc" 2>/dev/null || echo none)
		[ "$rc" = "$want" ] || why="exit status $rc, expected $want"
		grep -aqF -- "$pat" "$art/$n/serial.log" 2>/dev/null || why="${why:+$why; }no '$pat' on serial"
		if [ "$n" = 5 ] && ! grep -q "THE LOADER RETURNED" "$art/$n/run.txt"; then
			why="${why:+$why; }run-qemu.sh did not say the loader returned"
		fi
		if [ "$n" = 5 ] && ! grep -aq "EFI status 0x8000000000000001" "$art/$n/serial.log"; then
			why="${why:+$why; }the loader did not return EFI_LOAD_ERROR"
		fi
	fi
	if [ -z "$why" ]; then
		echo "ok $t - $desc"
	else
		echo "not ok $t - $desc"
		fails=$((fails + 1))
		echo "#   reason: $why"
		for f in build.txt run.txt serial.log; do
			[ -s "$art/$n/$f" ] || continue
			echo "# ---- $art/$n/$f"
			sed 's/\x1b\[[0-9;=?]*[A-Za-z]//g; s/\r//g; s/^/# | /' "$art/$n/$f" | tail -n 150
		done
	fi
done
echo "1..$t"
[ "$fails" -eq 0 ]
