/*
 * sysinfo.c: what the loader learns from the firmware for the boot-info
 * block: firmware vendor/revision and UEFI revision (system table), the
 * framebuffer (Graphics Output Protocol, current mode), the ACPI RSDP
 * (2.0 GUID preferred over 1.0) and SMBIOS 2/3 entry points (configuration
 * table), and the loader's own image range (Loaded Image Protocol).
 * Missing items are simply left zero with their flag clear.
 */
#include "loader.h"

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

static void collect_gop(struct bootinfo *bi)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = 0;
	EFI_STATUS st = efi_st->BootServices->LocateProtocol(&guid_gop, 0, (void **)&gop);
	if (EFI_ERROR(st) || !gop || !gop->Mode || !gop->Mode->Info) {
		mm_printf("framebuffer: none (GOP status 0x%llx)\n", (unsigned long long)st);
		return;
	}
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = gop->Mode->Info;
	masks_for(bi, info);
	bi->fb_pa = gop->Mode->FrameBufferBase;
	bi->fb_size = gop->Mode->FrameBufferSize;
	bi->fb_width = info->HorizontalResolution;
	bi->fb_height = info->VerticalResolution;
	bi->fb_pitch = info->PixelsPerScanLine * 4;
	if (bi->fb_format != BI_FB_BLT_ONLY)
		bi->flags |= BI_F_FB;
	/* not printed here: the kernel stage prints it from the boot info */
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
	collect_gop(bi);
	collect_tables(bi);
	collect_image(bi);
}
