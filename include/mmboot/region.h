/*
 * Region virtual memory manager (mm/region.c).
 *
 * The kernel's virtual space (end of kernel image .. recursive slot) is handed
 * out in regions. Each page of a region is unallocated, reserved (not yet
 * backed), committed (backed by a PMM frame) or a guard page; the state lives
 * in a 2-bit map per region. Reserved pages are committed on first touch by
 * the page-fault handler (region_fault) or explicitly by region_commit.
 *
 * OWNER: region VMM work (issue 4). Refine freely; keep the names other layers
 * use (the slab heap builds on create/commit/decommit/destroy/lookup).
 */
#ifndef MMBOOT_REGION_H
#define MMBOOT_REGION_H

#include "types.h"

struct region;
struct pmm;

/* region_create flags */
#define REGION_WRITE      0x01u   /* pages mapped writable */
#define REGION_GUARD      0x02u   /* a guard page below and above the region */
#define REGION_COMMIT     0x04u   /* commit every page now (no lazy commit) */
#define REGION_FIXED      0x08u   /* region_create_at: existing mapping adopted */
#define REGION_NOCACHE    0x10u   /* MMIO */
#define REGION_WTHRU      0x20u   /* write-through (framebuffer) */

/* Set up the allocator over [va_lo, va_hi) using pmm for frames. */
int region_init(struct pmm *pmm, vaddr_t va_lo, vaddr_t va_hi);

/* New region of size bytes (rounded up to pages); NULL if no space. */
struct region *region_create(uint32_t size, uint32_t flags, const char *name);

/* Register an existing mapping (kernel image, boot info, PMM metadata,
 * framebuffer) as a region whose pages are committed but not owned. */
struct region *region_adopt(vaddr_t va, uint32_t size, uint32_t flags, const char *name);

int region_destroy(struct region *r);                 /* frees frames, tables, range */
int region_grow(struct region *r, uint32_t new_size);  /* in place, -MM_ENOMEM if blocked */
int region_commit(struct region *r, vaddr_t va, uint32_t npages);
int region_decommit(struct region *r, vaddr_t va, uint32_t npages);
struct region *region_lookup(vaddr_t va);

vaddr_t region_base(const struct region *r);
uint32_t region_size(const struct region *r);
const char *region_name(const struct region *r);

/* Page-fault entry: va faulted with access (bit 0 write, bit 1 present).
 * 0 when the page was committed and the access can be retried; a negative
 * error otherwise (the caller reports and stops). */
int region_fault(vaddr_t va, uint32_t access);

/* Walk all regions and the page tables; returns the inconsistencies found. */
uint32_t region_check(bool verbose);

#endif /* MMBOOT_REGION_H */
