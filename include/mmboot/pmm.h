/*
 * Buddy physical memory manager (mm/pmm.c).
 *
 * Manages usable 4 KiB frames below 4 GiB in blocks of 2^order pages,
 * order 0 .. PMM_MAX_ORDER (4 MiB, one PSE large page). The whole state is
 * one contiguous, pointer-free, position-independent block ("metadata"):
 * fixed-width fields and indices only, so the same bytes are valid in the
 * 64-bit loader, the 32-bit kernel and the host. Free frames are never
 * written (the kernel does not map them).
 *
 * OWNER: PMM work (issue 3). Refine freely; keep the names other layers use.
 */
#ifndef MMBOOT_PMM_H
#define MMBOOT_PMM_H

#include "types.h"
#include "memmap.h"

#define PMM_MAX_ORDER 10u                 /* 2^10 pages = 4 MiB */
#define PMM_LOW_RESERVE MiB(1)            /* policy: low 1 MiB kept back by default */

/* pmm_alloc flags */
#define PMM_ZONE_1M   0x1u                /* block must lie entirely below 1 MiB */
#define PMM_ZONE_16M  0x2u                /* block must lie entirely below 16 MiB (ISA DMA) */

struct pmm;                               /* opaque; lives at the start of its metadata block */

struct pmm_stats {
	uint32_t free_pages;                  /* frames free now */
	uint32_t managed_pages;               /* frames the PMM manages (free + allocated) */
	uint32_t reserved_pages;              /* frames in managed span never allocatable */
	uint32_t free_blocks[PMM_MAX_ORDER + 1]; /* free blocks per order */
	uint32_t largest_free_order;          /* order of the largest free block, or ~0 if none */
	uint64_t above_4g_bytes;              /* usable memory above 4 GiB: counted, never handed out */
	uint32_t metadata_bytes;              /* size of the metadata block */
};

/* Bytes of metadata needed to manage the usable ranges of a sanitized map. */
uint64_t pmm_metadata_size(const struct memmap_range *map, uint32_t n);

/* Build a PMM in mem (metadata_size bytes) from a sanitized map: every range of
 * a class in usable_mask (bit per enum memmap_class) becomes free, except frame
 * 0, the low 1 MiB (policy) and the metadata itself if it lies in the map.
 * Returns the PMM (== mem) or NULL on bad arguments. */
struct pmm *pmm_init(void *mem, uint64_t mem_size, paddr_t mem_pa,
                     const struct memmap_range *map, uint32_t n, uint32_t usable_mask);

/* Allocate a 2^order-page block; PADDR_NONE when none fits the flags. */
paddr_t pmm_alloc(struct pmm *pmm, unsigned order, unsigned flags);

/* Free a block. 0, or -MM_EDOUBLEFREE, -MM_ENOTALLOC, -MM_ERESERVED,
 * -MM_EALIGN, -MM_EORDER, -MM_ERANGE, -MM_EINVAL. State is unchanged on error. */
int pmm_free(struct pmm *pmm, paddr_t pa, unsigned order);

/* Take [start, end) out of the free pool for good (firmware, kernel image...). */
int pmm_reserve(struct pmm *pmm, paddr_t start, paddr_t end);

/* Make [start, end) free (e.g. reclaim loader or boot-services memory). */
int pmm_release_range(struct pmm *pmm, paddr_t start, paddr_t end);

void pmm_get_stats(const struct pmm *pmm, struct pmm_stats *st);
uint32_t pmm_free_pages(const struct pmm *pmm);

/* Walk the whole state; returns the number of inconsistencies found (0 = ok),
 * printing the first few through mm_printf when verbose. */
uint32_t pmm_check(const struct pmm *pmm, bool verbose);

#endif /* MMBOOT_PMM_H */
