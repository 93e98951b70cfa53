/*
 * Buddy physical memory manager (mm/pmm.c).
 *
 * Manages usable 4 KiB frames below 4 GiB in blocks of 2^order pages,
 * order 0 .. PMM_MAX_ORDER (4 MiB, one PSE large page). The whole state is
 * one contiguous, pointer-free, position-independent block ("metadata"):
 * fixed-width fields and byte offsets only, so the same bytes are valid in
 * the 64-bit loader, the 32-bit kernel and the host. Free frames are never
 * written (the kernel does not map them). docs/pmm.md has the design.
 *
 * Frame policy (fixed at pmm_init):
 *   - frame 0 is never handed out and cannot be released;
 *   - usable frames below PMM_LOW_RESERVE (1 MiB) are held back as
 *     "reserved" (pmm_release_range can hand them to the PMM later, e.g. for
 *     an AP trampoline; PMM_ZONE_1M finds nothing until then);
 *   - the metadata block itself, if it lies in the map, is never free;
 *   - free-class ranges (MEMMAP_FREE_MASK) not in usable_mask (e.g. the
 *     loader's own memory) are "reserved": pmm_release_range frees them;
 *   - everything else (MMIO, ACPI, runtime, gaps) is a hole, never managed;
 *   - free memory above 4 GiB is counted (stats.above_4g_bytes), never used.
 *
 * Calls take the PMM's own mm_lock (the kernel's saves and disables
 * interrupts); none may be made from inside another. A caller that already
 * serialises (one CPU, no allocation from interrupts) may set PMM_F_NOLOCK.
 *
 * OWNER: PMM work (issue 3).
 */
#ifndef MMBOOT_PMM_H
#define MMBOOT_PMM_H

#include "types.h"
#include "memmap.h"

#define PMM_MAX_ORDER 10u                 /* 2^10 pages = 4 MiB */
#define PMM_LOW_RESERVE MiB(1)            /* policy: low 1 MiB kept back by default */
#define PMM_PCP_ORDERS 10u                /* orders 0..9 have a free-block cache (see docs/pmm.md) */
#define PMM_PCP_CAP 64u                   /* order-0 cache entries */
#define PMM_PCP_CAP_HI 16u                /* cache entries of each order 1..9 */
#define PMM_METADATA_MAX (1288u * 1024u)  /* metadata for the full 4 GiB span (1316424 B), at most */

/* The classes free at build time after ExitBootServices (the loader's own
 * memory stays reserved until the kernel releases it). */
#define PMM_USABLE_AFTER_EXIT                                                  \
	(MEMMAP_CLASS_BIT(MEMMAP_USABLE) | MEMMAP_CLASS_BIT(MEMMAP_BOOT_SERVICES))

/* pmm_alloc flags */
#define PMM_ZONE_1M   0x1u                /* block must lie entirely below 1 MiB */
#define PMM_ZONE_16M  0x2u                /* block must lie entirely below 16 MiB (ISA DMA) */

/* pmm_set_flags bits */
#define PMM_F_REPORT  0x1u                /* print every error (not ENOMEM) with frame and caller */
#define PMM_F_NOCACHE 0x2u                /* disable the free-block caches (benchmarks, tests) */
#define PMM_F_NOLOCK  0x4u                /* caller serialises: skip the PMM's own mm_lock */

struct pmm;                               /* opaque; lives at the start of its metadata block */

struct pmm_stats {
	uint32_t free_pages;                  /* frames free now (buddy + caches) */
	uint32_t managed_pages;               /* frames handed out or free (free + allocated) */
	uint32_t reserved_pages;              /* RAM held back: policy, pmm_reserve, not-yet-released */
	uint32_t free_blocks[PMM_MAX_ORDER + 1]; /* free buddy blocks per order (cache not included) */
	uint32_t largest_free_order;          /* order of the largest free block, or ~0 if none */
	uint64_t above_4g_bytes;              /* usable memory above 4 GiB: counted, never handed out */
	uint32_t metadata_bytes;              /* size of the metadata block */
	uint32_t allocated_pages;             /* frames in allocated blocks */
	uint32_t cached_pages;                /* free frames in the free-block caches */
	uint32_t span_pages;                  /* frames covered by the metadata ([0, span)) */
	uint32_t hole_pages;                  /* frames in the span that are not RAM, frame 0, metadata */
	uint32_t errors;                      /* error returns so far (not counting ENOMEM) */
	uint32_t alloc_failures;              /* allocations refused: no block fitting */
};

/* Bytes of metadata needed to manage the free-class ranges of a sanitized map. */
uint64_t pmm_metadata_size(const struct memmap_range *map, uint32_t n);
/* The same bound from raw UEFI descriptors, before sanitizing (the loader sizes
 * and allocates the metadata before ExitBootServices with this; the final map
 * can never need more: metadata depends only on the highest free-class frame
 * below 4 GiB, and neither exiting nor sanitizing raises it). */
uint64_t pmm_metadata_size_efi(const void *descs, uint32_t n, uint32_t desc_size);
/* Metadata for a span of frames [0, pages) (rounded up to 4 MiB). */
uint64_t pmm_metadata_size_span(uint32_t pages);

/* One call from raw UEFI descriptors to a PMM (what the loader does after
 * ExitBootServices; the kernel only adopts it, see pmm_adopt): convert,
 * sanitize, build, keep the sanitizer's report in the PMM. scratch (8-byte
 * aligned) must hold pmm_build_scratch_size(n) bytes. NULL on failure. */
uint64_t pmm_build_scratch_size(uint32_t n_descs);
struct pmm *pmm_build_from_efi(void *mem, uint64_t mem_size, paddr_t mem_pa,
                               const void *descs, uint32_t n, uint32_t desc_size,
                               void *scratch, uint64_t scratch_size, uint32_t usable_mask);

/* Why a build returned NULL: the _ex forms of pmm_init / pmm_build_from_efi
 * fill it (zeroed on success), so the loader can say what failed. */
enum pmm_init_why {
	PMM_INIT_OK = 0,
	PMM_INIT_ARGS,            /* NULL mem / map / descriptors, or mask outside MEMMAP_FREE_MASK */
	PMM_INIT_ALIGN,           /* mem or scratch not 8-byte aligned (have = its address) */
	PMM_INIT_MAP,             /* map not sorted / disjoint / 4 KiB aligned / valid class (need = entry index) */
	PMM_INIT_MEM_SMALL,       /* metadata block too small (need, have: bytes) */
	PMM_INIT_SCRATCH_SMALL,   /* build scratch too small (need, have: bytes) */
	PMM_INIT_DESC_SIZE,       /* descriptor size below struct efi_memdesc (have = desc_size) */
};
struct pmm_init_err {
	uint32_t why;             /* enum pmm_init_why */
	int32_t code;             /* -MM_EINVAL, -MM_EALIGN or -MM_ENOMEM; 0 on success */
	uint64_t need;            /* bytes needed, or the bad entry's index (see why) */
	uint64_t have;            /* bytes given, address or size (see why) */
};
const char *pmm_init_why_name(uint32_t why);
struct pmm *pmm_build_from_efi_ex(void *mem, uint64_t mem_size, paddr_t mem_pa,
                                  const void *descs, uint32_t n, uint32_t desc_size,
                                  void *scratch, uint64_t scratch_size, uint32_t usable_mask,
                                  struct pmm_init_err *err);

/* Where a loader-built PMM travels to the kernel: at PMM_HANDOFF_EXT_OFFSET
 * in struct bootinfo's ext[] area (include/mmboot/bootinfo.h), fixed width. */
#define PMM_HANDOFF_MAGIC 0x48504d4du     /* "MPMH" */
#define PMM_HANDOFF_EXT_OFFSET 0u
struct pmm_handoff {
	uint32_t magic;                       /* PMM_HANDOFF_MAGIC when the loader built a PMM */
	uint32_t va;                          /* kernel virtual address the metadata is mapped at */
	uint64_t pa;                          /* its physical address (== pmm_metadata_pa) */
	uint64_t bytes;                       /* its size (== pmm_metadata_bytes) */
};
_Static_assert(sizeof(struct pmm_handoff) == 24, "pmm_handoff crosses loader -> kernel");

/* Build a PMM in mem (mem_size bytes, 8-byte aligned) from a sanitized map:
 * every range of a class in usable_mask (bits MEMMAP_CLASS_BIT, a subset of
 * MEMMAP_FREE_MASK) becomes free, other free-class ranges reserved, subject
 * to the policy above. mem_pa is where mem lies physically (PADDR_NONE on the
 * host). Returns the PMM (== mem), or NULL on bad arguments (mem too small,
 * misaligned, map not sorted/disjoint/aligned, mask outside FREE_MASK). */
struct pmm *pmm_init(void *mem, uint64_t mem_size, paddr_t mem_pa,
                     const struct memmap_range *map, uint32_t n, uint32_t usable_mask);
/* The same; on NULL *err (if err != NULL) says why (struct pmm_init_err). */
struct pmm *pmm_init_ex(void *mem, uint64_t mem_size, paddr_t mem_pa,
                        const struct memmap_range *map, uint32_t n, uint32_t usable_mask,
                        struct pmm_init_err *err);

/* Take over a PMM built elsewhere (the same bytes, now mapped at mem).
 * Checks the header (magic, version, size, layout); NULL if it is not one. */
struct pmm *pmm_adopt(void *mem, uint64_t mem_size);

/* Keep the sanitizer's report with the PMM (it travels with the metadata). */
void pmm_set_memmap_stats(struct pmm *pmm, const struct memmap_stats *st);
const struct memmap_stats *pmm_memmap_stats(const struct pmm *pmm);
void pmm_set_flags(struct pmm *pmm, uint32_t flags);
paddr_t pmm_metadata_pa(const struct pmm *pmm);
uint64_t pmm_metadata_bytes(const struct pmm *pmm);

/* Allocate a 2^order-page block, aligned to its size; PADDR_NONE when none
 * fits the flags (or order/flags are invalid; *err says which if err != NULL). */
paddr_t pmm_alloc(struct pmm *pmm, unsigned order, unsigned flags);
paddr_t pmm_alloc_err(struct pmm *pmm, unsigned order, unsigned flags, int *err);

/* Free a block. 0, or -MM_EDOUBLEFREE, -MM_ENOTALLOC, -MM_ERESERVED,
 * -MM_EALIGN, -MM_EORDER, -MM_ERANGE, -MM_EINVAL. State is unchanged on error. */
int pmm_free(struct pmm *pmm, paddr_t pa, unsigned order);

/* Take the free frames of [start, end) (page aligned) out of the free pool
 * (kernel image, firmware...). Frames already reserved or holes are skipped.
 * Returns the number of frames taken, or -MM_EBUSY if any frame in the range
 * is allocated, -MM_EALIGN, -MM_EINVAL (start > end); unchanged on error. */
int pmm_reserve(struct pmm *pmm, paddr_t start, paddr_t end);

/* Make the reserved frames of [start, end) free (reclaim loader memory, boot
 * services memory, the low 1 MiB). Holes, frame 0 and the metadata are
 * skipped. Returns the number of frames freed, or -MM_EBUSY (a frame is
 * allocated), -MM_EDOUBLEFREE (a frame is already free), -MM_EALIGN,
 * -MM_EINVAL; unchanged on error. */
int pmm_release_range(struct pmm *pmm, paddr_t start, paddr_t end);

void pmm_get_stats(const struct pmm *pmm, struct pmm_stats *st);
uint32_t pmm_free_pages(const struct pmm *pmm);

/* Walk the whole state; returns the number of inconsistencies found (0 = ok),
 * printing the first few through mm_printf when verbose. */
uint32_t pmm_check(const struct pmm *pmm, bool verbose);

/* Print the summary (free memory per order, metadata, sanitizer changes). */
void pmm_print_summary(const struct pmm *pmm, const char *prefix);

#endif /* MMBOOT_PMM_H */
