/*
 * Slab heap (mm/kmem.c, mm/kmem_arena.c, mm/kmem_debug.c, mm/kmem_check.c):
 * object caches and kmalloc on one lazily committed heap arena.
 *
 * The heap owns one large arena of virtual pages (production: one region of
 * the region VMM, see mm/kmem_region.c; host tests: an mmap'ed block). The
 * arena is reached through a tiny page-source interface (commit/decommit of
 * page runs), so the heap never knows how pages are backed. Slabs and large
 * kmalloc blocks are runs of arena pages; a 4-byte pagemap entry per arena
 * page (kind, offset in its run, cache id) gives the owner of any pointer
 * in O(1) without reading the (possibly freed) object itself, and a page
 * descriptor (struct kmem_page) holds each slab's lists and counts. Both
 * arrays sit at the start of the arena, committed as it is used.
 *
 * Object caches (Bonwick): kmem_cache_create(name, size, align, ctor, flags)
 * makes a cache of equal objects; the constructor runs when an object is
 * first made (slab creation), never on each allocation, so a freed object
 * must be returned in its constructed state. kmalloc(size) rounds size up to
 * one of the size classes (8 .. 2048 bytes, waste < 12.5 % of the class above
 * 64 bytes, < 8 bytes below) and uses that class's cache; larger sizes get
 * whole pages.
 *
 * Errors: allocators return NULL (out of memory, size 0, overflow); destroy
 * returns 0 or -MM_EBUSY. Misuse (double free, free of a non-object-start,
 * free into the wrong cache, red-zone overwrite, use-after-free write,
 * free-list corruption) is reported through kmem_report(): by default that
 * is mm_panic naming the cache, the object and the caller; a hook set with
 * kmem_set_error_hook() sees it instead (host tests, fuzzers), and the
 * offending operation is then abandoned with the heap left consistent.
 *
 * Locking: one mm_lock per cache, one for the arena (taken inside a cache
 * lock, never the other way). Constructors run without any lock held.
 *
 * OWNER: slab heap work (issue 5).
 */
#ifndef MMBOOT_KMEM_H
#define MMBOOT_KMEM_H

#include "types.h"

struct kmem_cache;

/* ---- page source: where the arena's pages come from -------------------- */

/* An arena of npages virtual pages, contiguous through base. commit makes
 * pages [first, first+n) usable (all or nothing; contents undefined),
 * decommit gives them back. Both return 0 or a negative MM_E* error. */
struct kmem_page_source {
	void *base;                      /* C pointer of arena page 0 (page aligned) */
	uint32_t npages;                 /* arena size, pages */
	int (*commit)(struct kmem_page_source *ps, uint32_t first, uint32_t n);
	int (*decommit)(struct kmem_page_source *ps, uint32_t first, uint32_t n);
	void *priv;                      /* the source's own state */
};

/* Production source: one region of the region VMM (mm/kmem_region.c),
 * named KMEM_REGION_NAME, created REGION_NOLAZY: a touch of a page the heap
 * has not committed (or has given back) faults and is reported. */
#define KMEM_REGION_NAME "heap"
struct region;
struct kmem_region_source {
	struct kmem_page_source ps;      /* what kmem_init takes */
	struct region *region;           /* the heap region */
	vaddr_t va;                      /* its base virtual address */
};
int kmem_region_source_init(struct kmem_region_source *src, uint32_t bytes);
int kmem_region_source_fini(struct kmem_region_source *src);   /* after kmem_fini */

/* Kernel stage (kernel/heap_init.c): the heap on one region of the region
 * layer, after vm_init; prints the cache table. 0 or a negative MM_E*. */
int heap_init(void);
bool heap_ready(void);

/* ---- flags ---------------------------------------------------------------- */

/* kmem_cache_create flags */
#define KMEM_DEBUG      0x01u   /* red zones, poison, owner tracking, state checks */
#define KMEM_NODEBUG    0x02u   /* never debug, whatever the global default */
#define KMEM_KMALLOC    0x80u   /* internal: a kmalloc size-class cache */

/* kmem_init flags */
#define KMEM_INIT_DEBUG 0x01u   /* debug on by default for every cache (boot option) */

/* kmalloc flags */
#define KM_NORMAL       0x00u
#define KM_ZERO         0x01u   /* zero the memory (kzalloc) */

#define KMALLOC_MAX_CLASS 2048u /* largest slab-backed kmalloc size; above: whole pages */
#define KMEM_NAME_MAX     24u   /* cache name storage, bytes with the NUL */

/* ---- life cycle ------------------------------------------------------------ */

/* Take the arena of ps and create the kmalloc caches. seed feeds the
 * free-list hardening secrets. 0, -MM_EINVAL, -MM_ENOMEM. */
int kmem_init(struct kmem_page_source *ps, uint32_t flags, uint64_t seed);

/* Tear everything down (host tests): frees every slab and large block and
 * every cache; returns the number of objects that were still live. */
uint32_t kmem_fini(void);

bool kmem_debug_default(void);

/* ---- object caches --------------------------------------------------------- */

struct kmem_cache *kmem_cache_create(const char *name, uint32_t size, uint32_t align,
                                     void (*ctor)(void *obj), uint32_t flags);
void *kmem_cache_alloc(struct kmem_cache *c, uint32_t kmflags);
void kmem_cache_free(struct kmem_cache *c, void *obj);
int kmem_cache_destroy(struct kmem_cache *c);         /* -MM_EBUSY while objects live */
uint32_t kmem_cache_shrink(struct kmem_cache *c);      /* frees empty slabs; pages freed */
/* Memory pressure: every cache's magazine flushed and every empty slab (the
 * reserves) given back; pages freed. The heap calls it itself when the page
 * source cannot commit a run, before an allocation returns NULL. */
uint32_t kmem_reap(void);
const char *kmem_cache_name(const struct kmem_cache *c);
uint32_t kmem_cache_size(const struct kmem_cache *c);  /* usable bytes per object */

/* ---- kmalloc ------------------------------------------------------------- */

void *kmalloc(size_t size, uint32_t kmflags);
void *kzalloc(size_t size, uint32_t kmflags);
void *kcalloc(size_t n, size_t size, uint32_t kmflags);   /* NULL on n*size overflow */
void *krealloc(void *p, size_t size, uint32_t kmflags);   /* NULL (p intact) on failure */
void kfree(void *p);                                     /* kfree(NULL) does nothing */
size_t ksize(const void *p);                             /* usable bytes of a live block */

/* Size class serving size (1 .. KMALLOC_MAX_CLASS), 0 above. */
uint32_t kmalloc_class_size(size_t size);
uint32_t kmalloc_class_count(void);
uint32_t kmalloc_class_at(uint32_t i);

/* ---- statistics and checking ----------------------------------------------- */

struct kmem_cache_stats {
	const char *name;               /* cache name */
	uint32_t obj_size;              /* usable object bytes */
	uint32_t slot_size;             /* bytes per slot (object + debug data) */
	uint32_t slab_pages;            /* pages per slab */
	uint32_t objs_per_slab;         /* objects per slab */
	uint32_t live;                  /* objects allocated now */
	uint32_t slabs_full;            /* slabs with every object allocated */
	uint32_t slabs_partial;         /* slabs with some objects allocated */
	uint32_t slabs_empty;           /* slabs kept with no object allocated */
	uint32_t slabs_peak;            /* recent peak of slabs in use (sizes the reserve) */
	uint32_t reserve_max;           /* most empty slabs the cache keeps */
	uint64_t bytes_held;            /* slab pages held, bytes */
	uint64_t allocs;                /* allocations since creation */
	uint64_t frees;                 /* frees since creation */
	uint32_t flags;                 /* KMEM_* of the cache (KMEM_DEBUG if on) */
};
void kmem_cache_get_stats(struct kmem_cache *c, struct kmem_cache_stats *st);

struct kmem_stats {
	uint32_t arena_pages;           /* arena size, pages */
	uint32_t committed_pages;       /* pages committed now (slabs + large + metadata) */
	uint32_t meta_pages;            /* committed pages of page descriptors */
	uint32_t slab_pages;            /* pages in slabs */
	uint32_t large_pages;           /* pages in large kmalloc blocks */
	uint32_t large_blocks;          /* large kmalloc blocks live */
	uint32_t caches;                /* caches existing */
	uint64_t slab_bytes_live;       /* bytes of live slab objects (object size) */
	uint32_t errors_reported;       /* kmem_report calls so far */
	uint32_t reaps;                 /* kmem_reap calls (memory pressure) */
	uint32_t reaped_pages;          /* pages kmem_reap gave back */
};
void kmem_get_stats(struct kmem_stats *st);

/* Iterate caches: first with NULL, then with the previous; NULL at the end. */
struct kmem_cache *kmem_cache_next(struct kmem_cache *prev);

/* Walk every cache, slab, free list, debug area and the arena's page
 * descriptors; returns the number of inconsistencies found (0 = sound). */
uint32_t kmem_check(bool verbose);

/* Print the cache table through mm_printf. */
void kmem_print_caches(void);

/* ---- misuse reports ---------------------------------------------------------- */

enum kmem_err_kind {
	KMEM_ERR_NONE = 0,
	KMEM_ERR_DOUBLE_FREE,      /* object freed twice */
	KMEM_ERR_NOT_OBJECT,       /* pointer inside a slab but not at an object start */
	KMEM_ERR_WRONG_CACHE,      /* kmem_cache_free into a cache that does not own it */
	KMEM_ERR_REDZONE,          /* red zone around the object overwritten */
	KMEM_ERR_POISON,           /* freed object written after free */
	KMEM_ERR_FREELIST,         /* hardened free-list pointer does not decode to an object */
	KMEM_ERR_NOT_HEAP,         /* pointer not in an allocated heap page */
	KMEM_ERR_COUNT
};

struct kmem_error {
	enum kmem_err_kind kind;   /* what went wrong */
	const char *cache;         /* cache name, or "-" */
	const void *obj;           /* the object or pointer concerned */
	uintptr_t caller;          /* return address of the heap call's caller */
};

typedef void (*kmem_error_hook_t)(const struct kmem_error *e);
/* Route reports to hook (NULL: back to mm_panic). Returns the previous hook. */
kmem_error_hook_t kmem_set_error_hook(kmem_error_hook_t hook);
const char *kmem_err_name(enum kmem_err_kind kind);

#endif /* MMBOOT_KMEM_H */
