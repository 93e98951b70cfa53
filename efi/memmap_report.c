/*
 * memmap_report.c: the loader's memory-map report (see memmap_report.h).
 *
 * Descriptors are read through struct efi_memdesc (include/mmboot/
 * efi_memdesc.h) at offsets i * desc_size, never i * sizeof: firmware may
 * use larger descriptors (OVMF: 48 bytes). Types outside the known range
 * are shown by number and counted as "Other". Everything is printed with
 * mm_printf, so this file does not depend on <efi.h>.
 */
#include "memmap_report.h"
#include <mmboot/efi_memdesc.h>
#include <mmboot/mm_env.h>
#include <mmboot/types.h>

static const char *const type_names[EFI_MT_MAX_KNOWN] = {
	"Reserved", "LoaderCode", "LoaderData", "BootCode", "BootData",
	"RtCode", "RtData", "Conventional", "Unusable", "ACPIReclaim",
	"ACPINVS", "MMIO", "MMIOPort", "PalCode", "Persistent", "Unaccepted",
};

const char *memmap_type_name(uint32_t type)
{
	if (type < EFI_MT_MAX_KNOWN)
		return type_names[type];
	if (type >= EFI_MT_OS_FIRST)
		return "OS-defined";
	if (type >= EFI_MT_OEM_FIRST)
		return "OEM";
	return "Other";
}

static const struct efi_memdesc *desc_at(const void *map, uint64_t i, uint64_t dsize)
{
	return (const struct efi_memdesc *)((const uint8_t *)map + i * dsize);
}

static void print_table(const void *map, uint64_t n, uint64_t dsize)
{
	mm_printf("  #   type          start              end (excl)         pages      attributes\n");
	for (uint64_t i = 0; i < n; i++) {
		const struct efi_memdesc *d = desc_at(map, i, dsize);
		uint64_t end = d->phys_start + (d->num_pages << EFI_MD_PAGE_SHIFT);
		mm_printf("  %3llu %-13s %016llx %016llx %10llu %016llx\n",
		          (unsigned long long)i, memmap_type_name(d->type),
		          (unsigned long long)d->phys_start, (unsigned long long)end,
		          (unsigned long long)d->num_pages, (unsigned long long)d->attribute);
	}
}

static int usable_after_exit(uint32_t type)
{
	return type == EFI_MT_CONVENTIONAL || type == EFI_MT_BOOT_SERVICES_CODE ||
	       type == EFI_MT_BOOT_SERVICES_DATA || type == EFI_MT_LOADER_CODE ||
	       type == EFI_MT_LOADER_DATA;
}

static void print_summary(const void *map, uint64_t n, uint64_t dsize)
{
	uint64_t pages[EFI_MT_MAX_KNOWN + 1] = { 0 }, count[EFI_MT_MAX_KNOWN + 1] = { 0 };
	uint64_t below = 0, above = 0;
	for (uint64_t i = 0; i < n; i++) {
		const struct efi_memdesc *d = desc_at(map, i, dsize);
		uint32_t t = d->type < EFI_MT_MAX_KNOWN ? d->type : EFI_MT_MAX_KNOWN;
		pages[t] += d->num_pages;
		count[t]++;
		if (!usable_after_exit(d->type))
			continue;
		uint64_t s = d->phys_start, e = s + (d->num_pages << EFI_MD_PAGE_SHIFT);
		if (e <= PADDR_4G)
			below += e - s;
		else if (s >= PADDR_4G)
			above += e - s;
		else {
			below += PADDR_4G - s;
			above += e - PADDR_4G;
		}
	}
	mm_printf("  per type:       entries      pages        KiB\n");
	for (uint32_t t = 0; t <= EFI_MT_MAX_KNOWN; t++) {
		if (count[t] == 0)
			continue;
		mm_printf("  %-13s %10llu %10llu %10llu\n",
		          t < EFI_MT_MAX_KNOWN ? type_names[t] : "Other",
		          (unsigned long long)count[t], (unsigned long long)pages[t],
		          (unsigned long long)(pages[t] * 4));
	}
	mm_printf("  usable after ExitBootServices: %llu KiB below 4 GiB, %llu KiB above 4 GiB\n",
	          (unsigned long long)(below >> 10), (unsigned long long)(above >> 10));
}

void memmap_report_print(const void *map, uint64_t map_size, uint64_t desc_size,
                         uint32_t desc_version)
{
	if (desc_size < sizeof(struct efi_memdesc)) {
		mm_printf("memory map: descriptor size %llu is too small\n",
		          (unsigned long long)desc_size);
		return;
	}
	uint64_t n = map_size / desc_size;
	mm_printf("memory map: %llu descriptors of %llu bytes (version %u), %llu bytes\n",
	          (unsigned long long)n, (unsigned long long)desc_size, desc_version,
	          (unsigned long long)map_size);
	print_table(map, n, desc_size);
	print_summary(map, n, desc_size);
}
