# QEMU harness (issue 2): make run, make debug, the QEMU boot tests.
#
#   make run     build build/BOOTX64.EFI, boot it under QEMU+OVMF with the
#                serial console on the terminal; exits with the kernel's
#                status (0 pass, 1 fail, 2 no status: reset, crash, timeout)
#   make debug   probe boot (learns the loader's image base), then QEMU
#                halted at reset with a gdb stub; attach with
#                `gdb -x tools/gdbinit` from another terminal
#
# Settings (make variables or environment), passed to tools/run-qemu.sh:
#   MEM=256M SMP=1 MACHINE=q35|pc FW=code|code4m TIMEOUT=120 SERIAL_LOG=file
#   QEMU_DISPLAY=none|gtk|sdl|vnc=:1 (DISPLAY too, when it names a QEMU
#   backend) EXTRA="qemu args" ACCEL=tcg|kvm TRACE=1 DEBUG=1 GDB_PORT=1234
#   MENU_TIMEOUT=0 (the loader's countdown after its report; 0 = go on at once,
#   10 = as on a real PC; passed as an SMBIOS OEM string, see run-qemu.sh)
#   DUMPS=dir (where make run copies the loader's memory-map dumps;
#   default build/dumps)
# Boot tests (BOOT_TESTS, run last by make test; design in docs/qemu.md):
#   tests/boot/matrix.py     nine configurations, MATRIX_JOBS=2, MATRIX_ONLY=cfg,...
#   tests/boot/gdb-attach.sh make debug's path: stub, symbols, breakpoints
#   tests/boot/crash.sh      deliberate-crash builds end with the right verdict
#                            (all six variants; CRASH_CASES="1 4 5" picks some)

QEMU_BOOT_EFI := $(BUILD)/BOOTX64.EFI
QEMU_KERNEL   := $(BUILD)/kernel/kernel.elf
DUMPS ?= $(BUILD)/dumps

# Only what the user set (command line or environment) is passed:
# run-qemu.sh has the defaults, and a make variable of the same name defined
# in some other fragment must not leak into QEMU's settings.
QEMU_ENV_VARS := MEM SMP MACHINE FW TIMEOUT SERIAL_LOG QEMU_DISPLAY EXTRA ACCEL TRACE \
                 GDB_PORT KEEP IMG EFI OVMF_DIR MENU_TIMEOUT
QEMU_ENV = $(foreach v,$(QEMU_ENV_VARS),$(if $(filter command% environment%,$(origin $(v))),$(v)='$($(v))'))

.PHONY: run debug
run: deps-run
	@$(MAKE) --no-print-directory $(QEMU_BOOT_EFI)
	@$(QEMU_ENV) DEBUG='$(DEBUG)' DUMPS='$(DUMPS)' tools/run-qemu.sh

debug: deps-run
	@command -v gdb >/dev/null || { echo "make debug: gdb is missing (tools/deps.sh test installs it)"; exit 1; }
	@$(MAKE) --no-print-directory $(QEMU_BOOT_EFI) $(QEMU_KERNEL)
	@mkdir -p $(BUILD)/debug && rm -f $(BUILD)/debug/loader-base
	@echo "make debug: probe boot with the same settings to learn the loader's image base..."
	@$(QEMU_ENV) SERIAL_STDIO=0 SERIAL_LOG=$(BUILD)/debug/probe.log tools/run-qemu.sh \
	  >/dev/null 2>&1; \
	base=$$(grep -ao 'loader image: 0x[0-9a-fA-F]*' $(BUILD)/debug/probe.log | tail -n 1 | cut -d' ' -f3); \
	if [ -n "$$base" ]; then echo "$$base" > $(BUILD)/debug/loader-base; \
	  echo "make debug: loader image base $$base (OVMF loads it there on every boot with these settings)"; \
	else echo "make debug: the probe boot printed no 'loader image:' line; in gdb use mmboot-loader 0xBASE"; fi
	@echo "make debug: QEMU is halted at reset. In another terminal, from $(CURDIR):"
	@echo "    $(if $(GDB_PORT),GDB_PORT=$(GDB_PORT) )gdb -x tools/gdbinit"
	@echo "  then e.g. 'mmboot-modeswitch' (stop in the mode switch), 'si', 'continue' (kernel entry)."
	@echo "  Serial output below and in $(BUILD)/debug/serial.log."
	@$(QEMU_ENV) DEBUG=1 SERIAL_LOG=$(BUILD)/debug/serial.log tools/run-qemu.sh || true

BOOT_TESTS += tests/boot/matrix.py tests/boot/gdb-attach.sh tests/boot/crash.sh
