/*
 * Region virtual memory manager (mm/region.c, mm/vmem.c).
 *
 * The kernel's virtual space [va_lo, va_hi) (end of the kernel image up to the
 * recursive slot) is handed out in regions. Each page of a region is
 * unallocated, reserved (not yet backed), committed (backed by a frame) or a
 * guard page; the state lives in a 2-bit map per region. Reserved pages are
 * committed on first touch by the page-fault handler (region_fault) or
 * explicitly by region_commit; in a REGION_NOLAZY region only by
 * region_commit (a touch of a reserved page there is refused and reported,
 * which is how the slab heap catches writes to pages it gave back). Frames of created regions come from the PMM
 * and go back to it on decommit/destroy; adopted and physical regions map
 * frames the region layer does not own. See docs/vmm.md.
 *
 *   region_create(size)            [guard][ size rounded up to pages ][guard]
 *                                  ^span_lo ^region_base                    ^span end
 *
 * Locking: one lock (mm_lock) around all state; region_fault takes it too,
 * so no caller may touch a lazily committed page while holding a region call
 * (the region layer itself never faults: its own metadata is committed
 * explicitly).
 *
 * OWNER: region VMM work (issue 4). The slab heap builds on
 * create/commit/decommit/destroy/lookup.
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
#define REGION_FIXED      0x08u   /* set on adopted regions (existing mapping, frames not owned) */
#define REGION_NOCACHE    0x10u   /* MMIO */
#define REGION_WTHRU      0x20u   /* write-through (framebuffer) */
#define REGION_PHYS       0x40u   /* set on region_create_phys regions (frames not owned) */
#define REGION_NOLAZY     0x80u   /* no lazy commit: reserved pages are committed only by
                                   * region_commit; a touch of one (e.g. through a dangling
                                   * pointer into decommitted pages) is refused (-MM_ENOTALLOC) */

/* Page states (2 bits each in the region's page map). */
enum region_page_state {
	REGION_PAGE_UNALLOC = 0,      /* not part of any region (free arena space or beyond) */
	REGION_PAGE_RESERVED = 1,     /* reserved, not backed: committed on first touch */
	REGION_PAGE_COMMITTED = 2,    /* backed by a frame and mapped */
	REGION_PAGE_GUARD = 3,        /* never mapped: any access is reported */
};

/* region_fault access bits (the #PF handler in arch/x86/idt.c converts the
 * x86 error code: its bit 1 W/R -> WRITE, its bit 0 P -> PRESENT). */
#define REGION_FAULT_WRITE   0x1u /* the access was a write */
#define REGION_FAULT_PRESENT 0x2u /* page was present (protection violation) */

/* Set up the allocator over [va_lo, va_hi) (page aligned, va_hi <= the
 * recursive slot) using pmm for frames; paging must be initialised
 * (arch_paging_init). Creates the internal "region-meta" region at va_lo.
 * May be called again to start over (host tests). 0 or -MM_EINVAL/-MM_ENOMEM. */
int region_init(struct pmm *pmm, vaddr_t va_lo, vaddr_t va_hi);

/* New region of size bytes (rounded up to pages), pages reserved (or
 * committed with REGION_COMMIT); NULL if no space / no memory (size 0, or
 * unknown flags: NULL too). The name is copied (REGION_NAME_MAX-1 chars). */
#define REGION_NAME_MAX 24u
struct region *region_create(uint32_t size, uint32_t flags, const char *name);

/* Map physical memory not owned by the PMM (framebuffer, MMIO) at a new
 * virtual range: a 4 MiB PSE page for every 4 MiB-aligned 4 MiB chunk of
 * the range (the va keeps pa's offset within 4 MiB, so an unaligned range
 * gets them too), 4 KiB pages for the rest. pa need not be page aligned: the region
 * covers the enclosing pages; the va of pa is region_base + (pa & 0xFFF). */
struct region *region_create_phys(paddr_t pa, uint32_t size, uint32_t flags, const char *name);

/* Register an existing mapping (kernel image, boot info, PMM metadata,
 * framebuffer) as a region whose mapped pages are committed but not owned;
 * unmapped pages inside become guard pages (e.g. the page below a stack).
 * va may lie inside or outside [va_lo, va_hi); NULL if it overlaps a region.
 * Adopted regions are permanent: region_destroy returns -MM_EBUSY. */
struct region *region_adopt(vaddr_t va, uint32_t size, uint32_t flags, const char *name);

/* Unmap every page; frames of owned pages and emptied page tables go back to
 * the PMM, the virtual range to the arena, the descriptor to the pool. */
int region_destroy(struct region *r);

/* Grow in place to new_size bytes (upper guard moves up); -MM_ENOMEM if the
 * virtual range above is taken (region unchanged), -MM_EINVAL if smaller or
 * not a created region, 0 if equal. With REGION_COMMIT the new pages are
 * committed too; if that runs out of frames the region has still grown and
 * the new pages stay reserved (-MM_ENOMEM). */
int region_grow(struct region *r, uint32_t new_size);

/* Commit [va, va + npages pages) now (reserved pages only; committed pages
 * are left). All or nothing: -MM_ENOMEM undoes this call's commits.
 * -MM_ERANGE outside the region's usable pages (guards excluded), -MM_EALIGN,
 * -MM_EBUSY for adopted/physical regions (their frames are not the PMM's). */
int region_commit(struct region *r, vaddr_t va, uint32_t npages);

/* Give committed pages back (frames to the PMM); they become reserved again
 * and a later touch commits a fresh zeroed page -- or, in a REGION_NOLAZY
 * region, faults (reported) until region_commit takes them again. */
int region_decommit(struct region *r, vaddr_t va, uint32_t npages);

/* The region whose span (guards included) contains va, or NULL. O(log n). */
struct region *region_lookup(vaddr_t va);

vaddr_t region_base(const struct region *r);    /* first usable byte */
uint32_t region_size(const struct region *r);   /* usable bytes (pages * 4096) */
const char *region_name(const struct region *r);
uint32_t region_flags(const struct region *r);

/* State of the page containing va (UNALLOC outside every region). */
enum region_page_state region_page_state(vaddr_t va);
const char *region_page_state_name(enum region_page_state st);

struct region_info {
	vaddr_t base;            /* first usable byte */
	uint32_t pages;          /* usable pages */
	vaddr_t span_lo;         /* first byte of the span (lower guard included) */
	uint32_t span_pages;     /* pages in the span (guards included) */
	uint32_t committed;      /* pages committed */
	uint32_t reserved;       /* pages reserved (not backed) */
	uint32_t guard;          /* guard pages */
	uint32_t flags;          /* REGION_* */
	char name[REGION_NAME_MAX]; /* copy of the name */
};
int region_get_info(const struct region *r, struct region_info *info);

struct region_stats {
	uint32_t regions;        /* live regions (incl. region-meta and adopted ones) */
	uint32_t committed_owned;/* committed pages whose frames came from the PMM */
	uint32_t committed_fixed;/* committed pages of adopted/physical regions (4 KiB units) */
	uint32_t reserved;       /* reserved pages */
	uint32_t arena_pages;    /* pages in [va_lo, va_hi) */
	uint32_t arena_free;     /* free pages of the arena */
	uint32_t free_segments;  /* free spans in the arena */
	uint32_t meta_bytes;     /* internal pool: bytes handed out to descriptors/maps */
	uint32_t meta_committed; /* internal pool: pages committed */
	uint32_t faults;         /* lazy commits done by region_fault */
	uint32_t faults_refused; /* faults region_fault refused */
	uint32_t reclaims;       /* low-memory hook calls (region_set_reclaim) */
};
void region_get_stats(struct region_stats *st);

/* Calls fn for every region in address order (no region calls inside fn). */
void region_foreach(void (*fn)(const struct region *r, void *arg), void *arg);

/* Print the region table (name, range, committed/reserved pages) via mm_printf. */
void region_dump(void);

/* Low-memory hook: when a lazy commit (region_fault) or region_commit of a
 * region without REGION_NOLAZY runs out of frames, the region layer calls
 * fn with its lock dropped (fn may call region_decommit/destroy; it returns
 * the pages it gave back) and retries once before reporting -MM_ENOMEM. The
 * kernel registers kmem_reap (the slab heap's empty-slab reserve). NULL
 * removes it; region_init clears it. */
void region_set_reclaim(uint32_t (*fn)(void));

/* Page-fault entry: va faulted with access (REGION_FAULT_* bits).
 * 0 when the page was committed and the access can be retried; otherwise
 *   -MM_ERANGE     outside every region and outside the arena
 *   -MM_ENOENT     unallocated page: free arena space, no region
 *   -MM_ERESERVED  guard page
 *   -MM_ENOTALLOC  reserved page of a REGION_NOLAZY region (not committed by
 *                  its owner: decommitted or never handed out)
 *   -MM_EEXIST     protection violation on a committed page (write to read-only)
 *   -MM_ENOMEM     out of physical memory (frame or page table) for a lazy commit
 * and the caller calls region_fault_report and stops. */
int region_fault(vaddr_t va, uint32_t access);

/* One line naming the address, the access, the region and the cause, e.g.
 *   region: page fault at 0xc1234000 (write, not present): guard page of region 'kstack' [...]
 *   region: out of physical memory committing 0xc1234000 in region 'heap'  */
void region_fault_report(vaddr_t va, uint32_t access, int err);

/* The cause of a region_fault error in words ("out of physical memory",
 * "guard page", "write to a read-only page", ...): the #PF handler's final
 * line names it with the region instead of a generic exception. */
const char *region_fault_cause(int err);

/* Walk the arena, the tree, every region's map against the page tables and
 * the paging checker; returns the inconsistencies found (0 = ok). */
uint32_t region_check(bool verbose);

#endif /* MMBOOT_REGION_H */
