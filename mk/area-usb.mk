# Real UEFI PCs (issue 7): the USB stick image, flashing, Secure Boot signing,
# the framebuffer console's font, and their tests.
#
#   make usb                          build/mmboot.img (GPT + FAT32 ESP, 64 MiB)
#   make flash DEV=/dev/sdX [MAX_GIB=256]   write it to a USB stick (asks first)
#   make sign KEY=db.key CERT=db.crt  build/BOOTX64.signed.efi (sbsigntool)
#   make usb-signed KEY=... CERT=...  build/mmboot-signed.img with the signed loader
#   make font                         build/gen/fbcon_font.c from a console font
#
# See docs/real-hardware.md.

USB_EFI       ?= $(BUILD)/BOOTX64.EFI
USB_IMG       := $(BUILD)/mmboot.img
USB_IMG_SIGNED := $(BUILD)/mmboot-signed.img
USB_SIGNED_EFI := $(BUILD)/BOOTX64.signed.efi
USB_SIZE_MIB  ?= 64
MAX_GIB       ?= 256

.PHONY: usb flash sign usb-signed
usb: $(USB_IMG)

# Remember which EFI application the image was made from, so that switching
# USB_EFI (tests use stand-ins) rebuilds the image even if the file is older.
USB_EFI_STAMP := $(BUILD)/usb/efi-path
.PHONY: usb-always
$(USB_EFI_STAMP): usb-always
	@mkdir -p $(@D); echo '$(abspath $(USB_EFI))' | cmp -s - $@ 2>/dev/null || echo '$(abspath $(USB_EFI))' >$@

$(USB_IMG): $(USB_EFI) $(USB_EFI_STAMP) esp/README.txt tools/mkimage.sh
	tools/mkimage.sh -s $(USB_SIZE_MIB) -r esp/README.txt -o $@ $(USB_EFI)

flash: $(USB_IMG)
	@[ -n "$(DEV)" ] || { echo "usage: make flash DEV=/dev/sdX [MAX_GIB=$(MAX_GIB)]" >&2; exit 2; }
	tools/flash.sh --max-gib $(MAX_GIB) $(USB_IMG) $(DEV)

sign: $(USB_EFI)
	@[ -n "$(KEY)" ] && [ -n "$(CERT)" ] || \
		{ echo "usage: make sign KEY=db.key CERT=db.crt (see docs/real-hardware.md)" >&2; exit 2; }
	tools/sign.sh $(KEY) $(CERT) $(USB_EFI) $(USB_SIGNED_EFI)

usb-signed: sign
	tools/mkimage.sh -s $(USB_SIZE_MIB) -r esp/README.txt -o $(USB_IMG_SIGNED) $(USB_SIGNED_EFI)

# RESET_TIMEOUT=s: seconds the result stays on a real PC's screen before the
# restart (kernel/reset.c; default 120). The timeout test builds a variant.
ifneq ($(RESET_TIMEOUT),)
KERNEL_CFLAGS += -DMMBOOT_RESET_TIMEOUT_S=$(RESET_TIMEOUT)u
endif
# RESET_SKIP=acpi or acpi,cf9: test builds only (tests/usb/reset_fallback.sh);
# the kernel skips those reset methods so that the later ones get tried.
ifneq ($(RESET_SKIP),)
KERNEL_CFLAGS += -DMMBOOT_RESET_SKIP='($(if $(findstring acpi,$(RESET_SKIP)),1,0)|$(if $(findstring cf9,$(RESET_SKIP)),2,0))'
endif

# FB_ABOVE_4G=1: test builds only (tests/usb/pse36.sh); the kernel takes the
# framebuffer 4 GiB higher than the loader said (RAM there under QEMU -m 6G),
# so that the console goes through PSE-36 pages, or through the no-PSE-36 path.
ifneq ($(FB_ABOVE_4G),)
KERNEL_CFLAGS += -DMMBOOT_TEST_FB_ABOVE_4G
endif

# --- framebuffer console font ---------------------------------------------
# Converted at build time from a packaged console font (console-setup-linux);
# FBCON_FONT picks another one (PSF1/PSF2, 8..16 pixels wide).
FBCON_FONT    ?= /usr/share/consolefonts/Uni2-Terminus16.psf.gz
FBCON_FONT_C  := $(BUILD)/gen/fbcon_font.c
.PHONY: font
font: $(FBCON_FONT_C)
$(FBCON_FONT_C): tools/font/psf2c.py
	@mkdir -p $(@D)
	@[ -r "$(FBCON_FONT)" ] || { echo "missing $(FBCON_FONT): install console-setup-linux (tools/deps.sh run)" >&2; exit 1; }
	$(PYTHON) tools/font/psf2c.py $(FBCON_FONT) $@ fbcon_font_default

FBCON_FONT_KOBJ := $(BUILD)/kernel/$(BUILD)/gen/fbcon_font.o
FBCON_FONT_HOBJ := $(BUILD)/host/$(BUILD)/gen/fbcon_font.o
$(FBCON_FONT_KOBJ): KERNEL_CFLAGS += -Ikernel
$(FBCON_FONT_HOBJ): HOST_CFLAGS += -Ikernel
# The kernel links the font (kernel/*.c are picked up by mk/area-boot.mk).
KERNEL_OBJS += $(FBCON_FONT_KOBJ)
$(KERNEL_ELF): $(FBCON_FONT_KOBJ)

# Host side: the renderer's unit tests and the screenshot test's renderer.
FBCON_HOST_OBJS := $(BUILD)/host/kernel/fbcon_draw.o $(FBCON_FONT_HOBJ)
$(BUILD)/host/tests/usb/test_fbcon: $(BUILD)/host/tests/usb/test_fbcon.o $(FBCON_HOST_OBJS)
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^ -lcmocka
$(BUILD)/host/tests/usb/test_fbcon.o: HOST_CFLAGS += -Ikernel
FBRENDER := $(BUILD)/host/fbrender
$(FBRENDER): $(BUILD)/host/tools/font/fbrender.o $(FBCON_HOST_OBJS)
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^
$(BUILD)/host/tools/font/fbrender.o: HOST_CFLAGS += -Ikernel
$(BUILD)/host/tests/usb/test_reset_hw: $(BUILD)/host/tests/usb/test_reset_hw.o \
		$(BUILD)/host/kernel/physwin_pde.o $(BUILD)/host/kernel/acpi_reset.o $(LIBMM_HOST) $(HOST_ENV_OBJS)
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^ -lcmocka
$(BUILD)/host/tests/usb/test_reset_hw.o: HOST_CFLAGS += -Ikernel
ALL_TARGETS += $(FBRENDER)
HOST_TESTS  += $(BUILD)/host/tests/usb/test_fbcon $(BUILD)/host/tests/usb/test_reset_hw

TEST_SCRIPTS += tests/usb/test_flash.sh tests/usb/test_mkimage.sh tests/usb/test_font.py
BOOT_TESTS   += tests/usb/media.sh tests/usb/secureboot.sh tests/usb/screenshot.sh \
                tests/usb/reset_timeout.sh tests/usb/reset_fallback.sh tests/usb/pse36.sh
