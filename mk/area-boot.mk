# Boot chain (issue 2): the x86_64 UEFI loader with the i386 kernel stage
# embedded, and the host tests of its portable parts.
#
#   build/kernel/kernel.elf   ELF32, higher half (kernel/kernel.ld), ld.lld
#   build/BOOTX64.EFI         gnu-efi crt0 + elf_x86_64_efi.lds, GNU ld,
#                             objcopy --target efi-app-x86_64; carries kernel.elf
#
# Kernel sources: every kernel/*.c and kernel/tests/*.c (other layers add
# their init and test files there), arch/x86/*.c|S except the loader-side
# files (mode switch, page-directory builder) and the VMM's paging32.c,
# which its owner lists (or is picked up here when present).

# CRASH=n builds a deliberately failing variant (see kernel/selftest.c);
# use it with its own BUILD directory.
ifneq ($(CRASH),)
KERNEL_CFLAGS += -DMMBOOT_CRASH=$(CRASH)
EFI_CFLAGS    += -DMMBOOT_CRASH=$(CRASH)
endif

BOOT_EFI_ONLY   := arch/x86/modeswitch.S arch/x86/pdbuild.c arch/x86/fwpt.c
KERNEL_SRCS := $(sort $(wildcard kernel/*.c)) $(sort $(wildcard kernel/tests/*.c)) \
               $(filter-out $(BOOT_EFI_ONLY),$(wildcard arch/x86/*.c arch/x86/*.S))
KERNEL_OBJS := $(patsubst %.c,$(BUILD)/kernel/%.o,$(patsubst %.S,$(BUILD)/kernel/%.o,$(KERNEL_SRCS)))
KERNEL_ELF  := $(BUILD)/kernel/kernel.elf

EFI_SRCS := $(sort $(wildcard efi/*.c efi/*.S)) \
            kernel/fmt.c arch/x86/modeswitch.S arch/x86/pdbuild.c arch/x86/fwpt.c
EFI_OBJS := $(patsubst %.c,$(BUILD)/efi/%.o,$(patsubst %.S,$(BUILD)/efi/%.o,$(EFI_SRCS)))
EFI_SO   := $(BUILD)/efi/bootx64.so
EFI_APP  := $(BUILD)/BOOTX64.EFI

$(KERNEL_ELF): $(KERNEL_OBJS) $(LIBMM_KERNEL) kernel/kernel.ld
	@mkdir -p $(@D)
	$(LD_LLD) -m elf_i386 -nostdlib -z max-page-size=4096 -z norelro --no-dynamic-linker \
	  -T kernel/kernel.ld -o $@ $(KERNEL_OBJS) $(LIBMM_KERNEL)

# The loader embeds a copy without debug info (kernel.elf keeps it for gdb).
KERNEL_EMBED := $(BUILD)/kernel/kernel-embed.elf
$(KERNEL_EMBED): $(KERNEL_ELF)
	$(OBJCOPY) --strip-debug $< $@
$(BUILD)/efi/efi/kernel_blob.o: $(KERNEL_EMBED)
$(BUILD)/efi/efi/kernel_blob.o: EFI_ASFLAGS += -DKERNEL_EMBED_PATH='"$(KERNEL_EMBED)"'

$(EFI_SO): $(EFI_OBJS) $(LIBMM_EFI)
	$(LD_GNU) -nostdlib -znocombreloc -T $(EFI_LDS) -shared -Bsymbolic --no-undefined \
	  -L$(EFI_LIBDIR) $(EFI_CRT0) $(EFI_OBJS) $(LIBMM_EFI) -lefi -lgnuefi -o $@

$(EFI_APP): $(EFI_SO)
	$(OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel \
	  -j .rela -j .rel.* -j .rela.* -j .reloc --target efi-app-x86_64 \
	  --subsystem=10 --strip-all $< $@

ALL_TARGETS += $(KERNEL_ELF) $(EFI_APP)

# --- host tests ------------------------------------------------------------
BOOT_HOST_TESTS := $(BUILD)/host/tests/unit/test_bootinfo \
                   $(BUILD)/host/tests/unit/test_pdbuild \
                   $(BUILD)/host/tests/unit/test_exitbs \
                   $(BUILD)/host/tests/unit/test_elf32 \
                   $(BUILD)/host/tests/unit/test_fwpt \
                   $(BUILD)/host/tests/unit/test_loader_fw

$(BUILD)/host/tests/unit/test_bootinfo: $(BUILD)/host/tests/unit/test_bootinfo.o
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^ -lcmocka
$(BUILD)/host/tests/unit/test_pdbuild: $(BUILD)/host/tests/unit/test_pdbuild.o \
		$(BUILD)/host/arch/x86/pdbuild.o $(LIBMM_HOST) $(HOST_ENV_OBJS)
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^ -lcmocka
$(BUILD)/host/tests/unit/test_exitbs: $(BUILD)/host/tests/unit/test_exitbs.o \
		$(BUILD)/host/efi/exitbs.o
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^ -lcmocka

$(BUILD)/host/tests/unit/test_elf32: $(BUILD)/host/tests/unit/test_elf32.o \
		$(BUILD)/host/efi/elf32.o
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^ -lcmocka

$(BUILD)/host/tests/unit/test_fwpt: $(BUILD)/host/tests/unit/test_fwpt.o \
		$(BUILD)/host/arch/x86/fwpt.o
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^ -lcmocka

# the exit path against an untidy simulated firmware, then the PMM build
$(BUILD)/host/tests/unit/test_loader_fw: $(BUILD)/host/tests/unit/test_loader_fw.o \
		$(BUILD)/host/efi/exitbs.o $(LIBMM_HOST) $(HOST_ENV_OBJS)
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^ -lcmocka

HOST_TESTS += $(BOOT_HOST_TESTS)

.PHONY: boot-all
boot-all: $(EFI_APP)

# Fatal-path check: the CRASH=1..6 variants (kernel/selftest.c,
# efi/handoff.c), each built in its own directory and booted (two QEMU at a
# time) by tests/boot/crash.sh, which is in BOOT_TESTS (mk/area-qemu.mk):
# stack overflow -> #DF on its own stack, write to 0 -> #PF report, #UD,
# corrupt boot-info magic -> refused, truncated kernel image -> the loader
# prints why and returns EFI_LOAD_ERROR, no PMM after ExitBootServices ->
# the loader reports it and ends with the fail status. Prints TAP.
.PHONY: boot-crash-check
boot-crash-check:
	@CRASH_CASES="1 2 3 4 5 6" tests/boot/crash.sh
