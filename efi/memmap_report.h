/*
 * memmap_report: print a raw UEFI memory map as a table and a per-type
 * summary through mm_printf. Kept apart from the loader so the memory-map
 * inspector (issue 6) can extend it (attribute decoding, SMBIOS header,
 * scrolling, saving to disk) behind the same small interface.
 */
#ifndef MMBOOT_EFI_MEMMAP_REPORT_H
#define MMBOOT_EFI_MEMMAP_REPORT_H

#include <stdint.h>

/* Short name of an EFI memory type ("Conventional", "BootData", ...). */
const char *memmap_type_name(uint32_t type);

/* Table of every descriptor (index, type, start, end, pages, attributes),
 * then per-type totals and the usable memory below / above 4 GiB. */
void memmap_report_print(const void *map, uint64_t map_size, uint64_t desc_size,
                         uint32_t desc_version);

#endif
