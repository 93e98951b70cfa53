/*
 * The UEFI memory descriptor as firmware lays it out in memory (UEFI 2.x,
 * EFI_MEMORY_DESCRIPTOR, version 1), restated here with fixed-width types so
 * that portable code (mm/, tools/, tests/) can read firmware maps without
 * <efi.h>. Firmware may use a larger DescriptorSize than this structure
 * (OVMF: 48 bytes); always step through a map by the firmware's size.
 */
#ifndef MMBOOT_EFI_MEMDESC_H
#define MMBOOT_EFI_MEMDESC_H

#include <stdint.h>

struct efi_memdesc {
	uint32_t type;          /* EFI_MEMORY_TYPE (enum efi_memtype, or OEM/OS values) */
	uint32_t pad;           /* alignment padding, not defined by the spec */
	uint64_t phys_start;    /* physical start, 4 KiB aligned per spec (not trusted) */
	uint64_t virt_start;    /* virtual start, used only after SetVirtualAddressMap */
	uint64_t num_pages;     /* length in 4 KiB pages */
	uint64_t attribute;     /* EFI_MEMORY_* capability/attribute bits */
};
_Static_assert(sizeof(struct efi_memdesc) == 40, "efi_memdesc layout");
_Static_assert(__builtin_offsetof(struct efi_memdesc, phys_start) == 8, "efi_memdesc layout");
_Static_assert(__builtin_offsetof(struct efi_memdesc, num_pages) == 24, "efi_memdesc layout");

enum efi_memtype {
	EFI_MT_RESERVED = 0,
	EFI_MT_LOADER_CODE = 1,
	EFI_MT_LOADER_DATA = 2,
	EFI_MT_BOOT_SERVICES_CODE = 3,
	EFI_MT_BOOT_SERVICES_DATA = 4,
	EFI_MT_RUNTIME_SERVICES_CODE = 5,
	EFI_MT_RUNTIME_SERVICES_DATA = 6,
	EFI_MT_CONVENTIONAL = 7,
	EFI_MT_UNUSABLE = 8,
	EFI_MT_ACPI_RECLAIM = 9,
	EFI_MT_ACPI_NVS = 10,
	EFI_MT_MMIO = 11,
	EFI_MT_MMIO_PORT_SPACE = 12,
	EFI_MT_PAL_CODE = 13,
	EFI_MT_PERSISTENT = 14,
	EFI_MT_UNACCEPTED = 15,
	EFI_MT_MAX_KNOWN = 16,
	EFI_MT_OEM_FIRST = 0x70000000,
	EFI_MT_OS_FIRST = 0x80000000u,
};

/* EFI_MEMORY_* attribute bits (UEFI 2.10, 7.2). */
#define EFI_MA_UC            0x0000000000000001ull
#define EFI_MA_WC            0x0000000000000002ull
#define EFI_MA_WT            0x0000000000000004ull
#define EFI_MA_WB            0x0000000000000008ull
#define EFI_MA_UCE           0x0000000000000010ull
#define EFI_MA_WP            0x0000000000001000ull
#define EFI_MA_RP            0x0000000000002000ull
#define EFI_MA_XP            0x0000000000004000ull
#define EFI_MA_NV            0x0000000000008000ull
#define EFI_MA_MORE_RELIABLE 0x0000000000010000ull
#define EFI_MA_RO            0x0000000000020000ull
#define EFI_MA_SP            0x0000000000040000ull
#define EFI_MA_CPU_CRYPTO    0x0000000000080000ull
#define EFI_MA_RUNTIME       0x8000000000000000ull

#define EFI_MD_PAGE_SHIFT 12u   /* descriptor pages are always 4 KiB */

#endif /* MMBOOT_EFI_MEMDESC_H */
