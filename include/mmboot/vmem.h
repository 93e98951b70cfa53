/*
 * Virtual range arena and range tree (mm/vmem.c), the allocator under
 * mm/region.c. Not for other layers: use region.h.
 *
 * Arena: [lo, hi) in pages, cut into segments kept in one address-ordered
 * doubly linked list (boundary tags, after Bonwick & Adams' vmem). Free
 * segments also sit on a segregated free list: one list per exact length
 * for 1..64 pages (class pages-1), then list 64+k for 2^k .. 2^(k+1)-1
 * pages; a 96-bit mask says which lists are non-empty. Allocation takes the
 * first non-empty list whose every segment fits (exact n-1 for n <= 64,
 * 64 + ceil(log2 n) above; <= 3 find-first-set steps) and splits from the
 * low end: O(1), and it never fails while a fitting segment exists, for
 * requests up to 64 pages. A larger request that is not a power of two
 * falls back, when no larger list is non-empty, to at most VMEM_SCAN_MAX
 * segments of its own list and may fail though a fit exists further down
 * (bounded cost instead of a walk of the whole list). Freeing coalesces
 * with both neighbours through the address list: O(1). Descriptors come
 * from a caller supplied pool (callbacks), so the arena never allocates.
 *
 * Range tree: an intrusive red-black tree of non-overlapping [lo, lo+pages)
 * ranges keyed by address (CLRS algorithm, parent pointers, no recursion):
 * insert, remove and find-containing in O(log n).
 */
#ifndef MMBOOT_VMEM_H
#define MMBOOT_VMEM_H

#include "types.h"

#define VMEM_EXACT 64u             /* exact-length free lists for 1..64 pages */
#define VMEM_CLASSES (VMEM_EXACT + 32u) /* then one list per power of two */
#define VMEM_MASK_WORDS (VMEM_CLASSES / 32u)
#define VMEM_SCAN_MAX 16u          /* fallback: segments looked at, at most */

struct vmem_seg {
	vaddr_t base;                 /* first byte */
	uint32_t pages;               /* length in 4 KiB pages, > 0 */
	struct vmem_seg *aprev;       /* address-ordered neighbours (all segments) */
	struct vmem_seg *anext;
	struct vmem_seg *fprev;       /* free-list neighbours (free segments only) */
	struct vmem_seg *fnext;
	uint32_t free;                /* 1 free, 0 allocated */
	uint32_t cls;                 /* free-list class (see above) while free */
};

struct vmem {
	vaddr_t lo, hi;               /* managed range, bytes, page aligned */
	struct vmem_seg *first;       /* lowest segment */
	struct vmem_seg *freelist[VMEM_CLASSES]; /* free segments by class */
	uint32_t nonempty[VMEM_MASK_WORDS]; /* bit k set iff freelist[k] non-empty */
	uint32_t scan_steps;          /* segments looked at by the capped fallback (tests) */
	uint32_t free_pages;          /* sum of free segment lengths */
	uint32_t nfree, nalloc;       /* segment counts */
	struct vmem_seg *(*seg_get)(void *ctx);          /* descriptor source */
	void (*seg_put)(void *ctx, struct vmem_seg *s);  /* descriptor sink */
	void *ctx;                    /* passed to seg_get/seg_put */
};

/* Whole range free. -MM_EINVAL on bad range, -MM_ENOMEM without descriptor. */
int vmem_init(struct vmem *vm, vaddr_t lo, vaddr_t hi,
              struct vmem_seg *(*seg_get)(void *ctx),
              void (*seg_put)(void *ctx, struct vmem_seg *s), void *ctx);

/* Allocate pages (aligned to align_pages, a power of two, 1 = any); the
 * allocated segment or NULL (no space or no descriptor). */
struct vmem_seg *vmem_alloc(struct vmem *vm, uint32_t pages, uint32_t align_pages);

/* Allocate pages at a va with va / PAGE_SIZE = phase_pages (mod align_pages,
 * a power of two; phase < align): a physical range keeps its offset within
 * 4 MiB, so its 4 MiB-aligned chunks can be PSE pages. NULL if none. */
struct vmem_seg *vmem_alloc_phase(struct vmem *vm, uint32_t pages, uint32_t align_pages,
                                  uint32_t phase_pages);

/* Allocate exactly [va, va + pages); NULL if any of it is not free. */
struct vmem_seg *vmem_alloc_at(struct vmem *vm, vaddr_t va, uint32_t pages);

/* Extend an allocated segment upwards by extra pages if the range above is
 * free. 0, -MM_ENOMEM (taken / no descriptor). */
int vmem_extend(struct vmem *vm, struct vmem_seg *s, uint32_t extra);

/* Free an allocated segment (coalesces; s is gone afterwards). */
void vmem_free(struct vmem *vm, struct vmem_seg *s);

/* Consistency walk: coverage, coalescing, free-list classes and counts. */
uint32_t vmem_check(const struct vmem *vm, bool verbose);

/* ---- range tree ---- */
struct vmem_rb {
	struct vmem_rb *parent, *left, *right;  /* tree links */
	uint32_t red;                 /* 1 red, 0 black */
	vaddr_t lo;                   /* first byte of the range */
	uint32_t pages;               /* range length in pages */
};

struct vmem_tree {
	struct vmem_rb *root;         /* NULL when empty */
	uint32_t count;               /* nodes */
};

/* Insert n (lo/pages set); -MM_EEXIST if it overlaps a node. */
int vmem_tree_insert(struct vmem_tree *t, struct vmem_rb *n);
void vmem_tree_remove(struct vmem_tree *t, struct vmem_rb *n);
struct vmem_rb *vmem_tree_find(const struct vmem_tree *t, vaddr_t va);
struct vmem_rb *vmem_tree_first(const struct vmem_tree *t);
struct vmem_rb *vmem_tree_next(const struct vmem_rb *n);
/* Red-black properties, order, no overlap, count; inconsistencies found. */
uint32_t vmem_tree_check(const struct vmem_tree *t, bool verbose);

#endif /* MMBOOT_VMEM_H */
