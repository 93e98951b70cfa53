/*
 * sysinfo.c: what the loader learns from the firmware for the boot-info
 * block: firmware vendor/revision and UEFI revision (system table), the
 * framebuffer (Graphics Output Protocol, current mode), the ACPI RSDP
 * (2.0 GUID preferred over 1.0) and SMBIOS 2/3 entry points (configuration
 * table), and the loader's own image range (Loaded Image Protocol).
 * Missing items are simply left zero with their flag clear.
 *
 * The graphics mode: every GOP mode is queried and gop_pick
 * (efi/sysinfo_gop.c, host-tested) keeps the firmware's mode when it has a
 * linear 32-bit framebuffer of at least 640x480, else switches to the best
 * such mode; one "gop:" line says what was chosen and why. The pitch is
 * PixelsPerScanLine times the bytes per pixel the format/masks give. With
 * the serial option the mode is never changed and BI_F_SERIAL_ONLY tells
 * the kernel not to draw.
 */
#include "loader.h"
#include "inspect.h"
#include "sysinfo_gop.h"

static EFI_GUID guid_gop = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;
static EFI_GUID guid_loaded_image = EFI_LOADED_IMAGE_PROTOCOL_GUID;
static EFI_GUID guid_acpi20 = ACPI_20_TABLE_GUID;
static EFI_GUID guid_acpi10 = ACPI_TABLE_GUID;
static EFI_GUID guid_smbios = SMBIOS_TABLE_GUID;
static EFI_GUID guid_smbios3 = SMBIOS3_TABLE_GUID;

static int guid_eq(const EFI_GUID *a, const EFI_GUID *b)
{
	return mm_memcmp(a, b, sizeof(*a)) == 0;
}

static void vendor_ascii(char *dst, uint32_t cap, const CHAR16 *src)
{
	uint32_t i = 0;
	for (; src && src[i] && i + 1 < cap; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7F) ? (char)src[i] : '?';
	dst[i] = 0;
}

void sysinfo_firmware(struct bootinfo *bi)
{
	vendor_ascii(bi->fw_vendor, BOOTINFO_VENDOR_LEN, efi_st->FirmwareVendor);
	bi->fw_revision = efi_st->FirmwareRevision;
	bi->uefi_revision = efi_st->Hdr.Revision;
}

static void masks_for(struct bootinfo *bi, EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info)
{
	switch (info->PixelFormat) {
	case PixelRedGreenBlueReserved8BitPerColor:
		bi->fb_format = BI_FB_RGBX8;
		bi->fb_mask_red = 0xFF, bi->fb_mask_green = 0xFF00, bi->fb_mask_blue = 0xFF0000;
		bi->fb_mask_reserved = 0xFF000000u;
		break;
	case PixelBlueGreenRedReserved8BitPerColor:
		bi->fb_format = BI_FB_BGRX8;
		bi->fb_mask_blue = 0xFF, bi->fb_mask_green = 0xFF00, bi->fb_mask_red = 0xFF0000;
		bi->fb_mask_reserved = 0xFF000000u;
		break;
	case PixelBitMask:
		bi->fb_format = BI_FB_BITMASK;
		bi->fb_mask_red = info->PixelInformation.RedMask;
		bi->fb_mask_green = info->PixelInformation.GreenMask;
		bi->fb_mask_blue = info->PixelInformation.BlueMask;
		bi->fb_mask_reserved = info->PixelInformation.ReservedMask;
		break;
	default:
		bi->fb_format = BI_FB_BLT_ONLY;
		break;
	}
}

#define SYSINFO_MAX_MODES 256u

/* Every GOP mode's geometry and format (modes beyond the table: ignored). */
static uint32_t gop_query_all(EFI_GRAPHICS_OUTPUT_PROTOCOL *gop, struct gop_mode *m)
{
	uint32_t n = gop->Mode->MaxMode < SYSINFO_MAX_MODES ? gop->Mode->MaxMode : SYSINFO_MAX_MODES;
	for (uint32_t i = 0; i < n; i++) {
		EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = 0;
		UINTN sz = 0;
		mm_memset(&m[i], 0, sizeof(m[i]));
		if (EFI_ERROR(gop->QueryMode(gop, i, &sz, &info)) || !info)
			continue;
		m[i].valid = 1;
		m[i].width = info->HorizontalResolution;
		m[i].height = info->VerticalResolution;
		m[i].scanline = info->PixelsPerScanLine;
		m[i].format = info->PixelFormat <= PixelBltOnly ? (uint32_t)info->PixelFormat : 99u;
		m[i].mask_r = info->PixelInformation.RedMask;
		m[i].mask_g = info->PixelInformation.GreenMask;
		m[i].mask_b = info->PixelInformation.BlueMask;
		m[i].mask_x = info->PixelInformation.ReservedMask;
		efi_st->BootServices->FreePool(info);
	}
	return n;
}

/* Pick (and, unless serial-only, set) the mode; number in effect or GOP_NONE. */
static uint32_t gop_choose(EFI_GRAPHICS_OUTPUT_PROTOCOL *gop, uint32_t *nmodes)
{
	static struct gop_mode modes[SYSINFO_MAX_MODES];
	const char *why = "";
	uint32_t cur = gop->Mode->Mode, n = gop_query_all(gop, modes);
	uint32_t pick = inspect_opts_used.serial ? cur : gop_pick(modes, n, cur, &why);
	*nmodes = n;
	if (inspect_opts_used.serial) {
		const char *bad = cur < n ? gop_unusable(&modes[cur]) : "unknown mode";
		mm_printf("gop: mode %u kept, not changed (serial only)%s%s\n", cur, bad ? ": " : "",
		          bad ? bad : "");
		return bad ? GOP_NONE : cur;
	}
	if (pick == GOP_NONE) {
		mm_printf("gop: %s (%u modes); no framebuffer for the kernel\n", why, n);
		return GOP_NONE;
	}
	if (pick != cur) {
		EFI_STATUS st = gop->SetMode(gop, pick);
		if (EFI_ERROR(st)) {
			mm_printf("gop: SetMode %u failed (status 0x%llx); no framebuffer\n", pick,
			          (unsigned long long)st);
			return GOP_NONE;
		}
	}
	mm_printf("gop: mode %u of %u, %ux%u, %u bytes per pixel%s: %s\n", pick, n,
	          modes[pick].width, modes[pick].height, gop_bytes_per_pixel(&modes[pick]),
	          pick != cur ? " (switched)" : "", why);
	return pick;
}

static void collect_gop(struct bootinfo *bi)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = 0;
	EFI_STATUS st = efi_st->BootServices->LocateProtocol(&guid_gop, 0, (void **)&gop);
	uint32_t n;
	if (EFI_ERROR(st) || !gop || !gop->Mode) {
		mm_printf("framebuffer: none (GOP status 0x%llx)\n", (unsigned long long)st);
		return;
	}
	if (gop_choose(gop, &n) == GOP_NONE || !gop->Mode->Info)
		return;
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = gop->Mode->Info;
	struct gop_mode m = { .width = info->HorizontalResolution,
	                      .height = info->VerticalResolution,
	                      .scanline = info->PixelsPerScanLine,
	                      .format = (uint32_t)info->PixelFormat,
	                      .mask_r = info->PixelInformation.RedMask,
	                      .mask_g = info->PixelInformation.GreenMask,
	                      .mask_b = info->PixelInformation.BlueMask,
	                      .mask_x = info->PixelInformation.ReservedMask, .valid = 1 };
	masks_for(bi, info);
	bi->fb_pa = gop->Mode->FrameBufferBase;
	bi->fb_size = gop->Mode->FrameBufferSize;
	bi->fb_width = m.width;
	bi->fb_height = m.height;
	bi->fb_pitch = m.scanline * gop_bytes_per_pixel(&m);
	if (!gop_unusable(&m))
		bi->flags |= BI_F_FB;
}

static void collect_tables(struct bootinfo *bi)
{
	for (UINTN i = 0; i < efi_st->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &efi_st->ConfigurationTable[i];
		uint64_t a = (uint64_t)(uintptr_t)t->VendorTable;
		if (guid_eq(&t->VendorGuid, &guid_acpi20)) {
			bi->acpi_rsdp = a;
			bi->flags = (bi->flags & ~BI_F_ACPI1) | BI_F_ACPI2;
		} else if (guid_eq(&t->VendorGuid, &guid_acpi10) && !(bi->flags & BI_F_ACPI2)) {
			bi->acpi_rsdp = a;
			bi->flags |= BI_F_ACPI1;
		} else if (guid_eq(&t->VendorGuid, &guid_smbios)) {
			bi->smbios = a;
			bi->flags |= BI_F_SMBIOS;
		} else if (guid_eq(&t->VendorGuid, &guid_smbios3)) {
			bi->smbios3 = a;
			bi->flags |= BI_F_SMBIOS3;
		}
	}
	/* not printed: the map report shows the RSDP and SMBIOS, the kernel all of them */
}

static void collect_image(struct bootinfo *bi)
{
	EFI_LOADED_IMAGE *li = 0;
	EFI_STATUS st = efi_st->BootServices->HandleProtocol(efi_image, &guid_loaded_image,
	                                                      (void **)&li);
	if (EFI_ERROR(st) || !li)
		return;
	bi->loader_image_pa = (uint64_t)(uintptr_t)li->ImageBase;
	bi->loader_image_size = li->ImageSize;
}

void sysinfo_print_image(void)
{
	struct bootinfo tmp;
	mm_memset(&tmp, 0, sizeof(tmp));
	collect_image(&tmp);
	/* gdb: add-symbol-file build/efi/bootx64.so -o <ImageBase> (linked at 0) */
	mm_printf("loader image: 0x%llx, %llu KiB\n",
	          (unsigned long long)tmp.loader_image_pa,
	          (unsigned long long)(tmp.loader_image_size >> 10));
}

void sysinfo_collect(struct bootinfo *bi)
{
	if (inspect_opts_used.serial)
		bi->flags |= BI_F_SERIAL_ONLY;
	collect_gop(bi);
	collect_tables(bi);
	collect_image(bi);
}
