/*
 * Slab heap internals shared by mm/kmem*.c (not a public contract).
 *
 * Arena layout (pages of the page source, committed lazily):
 *
 *   page 0     pm_max          meta_max                 top            npages
 *   +----------+---------------+------+-------+--------+---------------+
 *   | pagemap  | kmem_page[]   | slab | large | free   | never used    |
 *   | u32 per  | descriptors,  | run  | run   | run    | (no metadata  |
 *   | page     | one per page  |      |       | (bins) |  committed)   |
 *   +----------+---------------+------+-------+--------+---------------+
 *
 * The pagemap is the compact copy kfree reads (4 bytes a page: kind, page
 * offset in its run, cache id), so the fast path's one unavoidable cache
 * miss lands in a small array; the descriptors carry the rest (lists, free
 * list head, counts) for the slow paths.
 *
 * A run is a sequence of pages with one owner: a slab of a cache, a large
 * kmalloc block, or a free run (decommitted, kept in size bins, coalesced
 * with free neighbours; a free run ending at top lowers top instead). Every
 * page's descriptor names its run's first page (head); the head descriptor
 * holds the run length, kind and owner. Pages below top have committed
 * descriptors; descriptor pages are committed as top grows.
 *
 * Slab (run of slab_pages pages, objects packed from the first byte):
 *
 *   +--------+--------+--------+-- ... --+--------+-------+
 *   | slot 0 | slot 1 | slot 2 |         | slot k | tail  |  tail < slot
 *   +--------+--------+--------+-- ... --+--------+-------+
 *
 *   slot, normal cache:   [ object ............ ]   free pointer in bytes 0..
 *   slot, ctor cache:     [ object | fp ]          free pointer after the object
 *   slot, debug cache:    [ RZ | object | RZ | fp | caller | state ]
 *                           ^obj_off      ^obj_off+size
 *
 * Full slabs are on no list (tagged KL_FULL): a free into one touches no
 * other slab's descriptor. Each cache keeps a magazine (Bonwick 2001): a
 * small LIFO array of recently freed objects. kfree pushes onto it and
 * kmalloc pops from it without touching the slab or the object; when it is
 * full, its older half is flushed back into the slabs. Objects in the
 * magazine still count in their slab's inuse. Debug caches have none, so
 * every free goes through the checks at once.
 *
 * Free objects of a slab form a singly linked list; each link is stored
 * hardened: stored = next ^ cache secret ^ address of the stored word, so a
 * stray write decodes to a pointer outside the slab (detected before use).
 */
#ifndef MMBOOT_KMEM_INT_H
#define MMBOOT_KMEM_INT_H

#include <mmboot/kmem.h>
#include <mmboot/mm_env.h>

#define KMEM_LIKELY(x)   __builtin_expect(!!(x), 1)
#define KMEM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define KMEM_HOT static inline __attribute__((always_inline))   /* fast path, inlined */

/* pagemap entry: kind | offset of the page in its run (saturated) | cache id */
#define KMEM_PM(kind, off, id) ((uint32_t)(kind) | (uint32_t)((off) > 255 ? 255 : (off)) << 8 | \
                                (uint32_t)(id) << 16)
#define KMEM_PM_KIND(e)   ((e) & 0xffu)
#define KMEM_PM_OFF(e)    (((e) >> 8) & 0xffu)
#define KMEM_PM_ID(e)     ((e) >> 16)
#define KMEM_MAX_CACHES   1024u    /* cache ids 1..1023; 0 = none */

/* page kinds */
enum { KP_UNUSED = 0, KP_META, KP_FREE, KP_SLAB, KP_LARGE };
/* lists a head descriptor can be on */
enum { KL_NONE = 0, KL_ACTIVE, KL_PARTIAL, KL_FULL, KL_EMPTY, KL_BIN };

struct kmem_page {
	struct kmem_cache *cache;     /* slab head: owning cache */
	void *freelist;               /* slab head: first free object (plain pointer) */
	struct kmem_page *next;       /* slab list / free bin link */
	struct kmem_page *prev;       /* slab list / free bin link */
	uint32_t head;                /* index of this run's first page */
	uint32_t npages;              /* head (and free-run tail): run length, pages */
	uint16_t inuse;               /* slab head: objects allocated */
	uint8_t kind;                 /* KP_* */
	uint8_t list;                 /* KL_*: list the head is on */
};

struct kmem_list {
	struct kmem_page *first;      /* doubly linked through kmem_page next/prev */
	uint32_t count;               /* slabs on the list */
};

#define KMEM_MAG_MAX 120u          /* magazine slots per cache (120: struct kmem_cache is then
                                   * 1216 bytes, 10 per 3-page slab, not an exact fit of the
                                   * 48 kmalloc caches that a new cache would need a slab for) */

/* Empty-slab reserve (see mm/kmem.c, "reserve"): a cache keeps
 * KMEM_RESERVE_MIN empty slabs whatever happens, and more while it holds no
 * more slabs than its recent peak of slabs in use, up to KMEM_RESERVE_PAGES
 * pages of empty slabs. The peak is the larger of this epoch's and the
 * previous one's; an epoch is KMEM_EPOCH_REFILLS refills of the cache. */
#define KMEM_RESERVE_MIN   1u      /* empty slabs always kept */
#define KMEM_RESERVE_PAGES 256u    /* most pages of empty slabs per cache (1 MiB) */
#define KMEM_EPOCH_REFILLS 1024u   /* refills per peak epoch */

/* The first 64 bytes hold everything the fast paths touch besides the
 * magazine slot itself (lock, magazine count, layout for the object-start
 * check, counters); the structure is 64-byte aligned so they share one cache
 * line. The fast paths keep no "live" count: live = allocs - frees, so a
 * kmalloc+kfree pair updates one counter each instead of a shared one (a
 * read-modify-write chain through memory from call to call). */
struct kmem_cache {
	struct mm_lock lock;          /* guards everything below that changes */
	uint32_t mag_n;               /* objects in the magazine (mag[1..mag_n]) */
	uint32_t mag_cap;             /* magazine capacity (0: none, debug caches) */
	uint32_t flags;               /* KMEM_* */
	uint32_t size;                /* usable object bytes */
	uint32_t slot;                /* bytes per slot */
	uint32_t obj_off;             /* object offset inside a slot */
	uint32_t per_slab;            /* objects per slab */
	uint32_t recip;               /* ceil(2^32 / slot): exact slot index for offsets < 64 KiB */
	uint64_t allocs;              /* allocations since creation */
	uint64_t frees;               /* frees since creation (a dropped double free not counted) */
	/* ---- 64 bytes: the rest is for the slab paths ---- */
	uint32_t id;                  /* index in kmem_cache_table, in the pagemap */
	uint32_t align;               /* object alignment, bytes (power of two) */
	uint32_t fp_off;              /* free-pointer offset inside a slot */
	uint32_t slab_pages;          /* pages per slab */
	struct kmem_page *active;     /* slab allocations come from, or NULL */
	uintptr_t act_lo;             /* address of the active slab's first byte */
	uintptr_t act_span;           /* active slab bytes (0 when none) */
	uintptr_t secret;             /* free-list hardening secret */
	uint32_t reserve_max;         /* most empty slabs kept (>= KMEM_RESERVE_MIN) */
	uint32_t peak_cur;            /* peak of slabs in use (nr_slabs - empty) this epoch */
	uint32_t peak_prev;           /* the same, previous epoch */
	uint32_t epoch_refills;       /* refills in this epoch */
	uint32_t nr_slabs;            /* slabs of the cache (active, partial, full, empty) */
	struct kmem_list partial;     /* some objects allocated */
	struct kmem_list empty;       /* no object allocated (the reserve, see KMEM_RESERVE_*) */
	/* recently freed objects, LIFO, in mag[1..mag_n]; mag[0] stays NULL so
	 * the free path compares with the top (mag[mag_n]) without testing for
	 * an empty magazine. Counted in their slab's inuse. */
	void *mag[KMEM_MAG_MAX + 1];
	uint32_t chk_slabs;           /* kmem_check scratch: slabs seen */
	uint32_t chk_inuse;           /* kmem_check scratch: sum of inuse */
	uint32_t chk_partial;         /* kmem_check scratch: slabs tagged partial */
	uint32_t chk_empty;           /* kmem_check scratch: slabs tagged empty */
	void (*ctor)(void *obj);      /* constructor, or NULL */
	struct kmem_cache *next_cache;/* registry link */
	struct kmem_cache *prev_cache;/* registry link */
	char name[KMEM_NAME_MAX];     /* NUL-terminated */
} __attribute__((aligned(64)));
_Static_assert(__builtin_offsetof(struct kmem_cache, id) <= 64, "fast-path fields in line 0");

/* Objects allocated from c now (the magazine's objects are free). */
static inline uint32_t kmem_live(const struct kmem_cache *c)
{
	return (uint32_t)(c->allocs - c->frees);
}

/* ---- arena (mm/kmem_arena.c) ------------------------------------------ */

#define KMEM_BINS 16u             /* free-run bins: 1..14 pages exact, last: >= 15 */

struct kmem_arena {
	struct mm_lock lock;          /* guards the arena */
	struct kmem_page_source *ps;  /* where pages come from */
	uintptr_t base;               /* address of arena page 0 */
	uint32_t *pagemap;            /* one entry per page (== base) */
	struct kmem_page *desc;       /* descriptor array (page pm_max) */
	uint32_t npages;              /* arena pages */
	uint32_t pm_max;              /* pages the full pagemap needs */
	uint32_t meta_max;            /* pages pagemap + descriptor array need */
	uint32_t pm_committed;        /* pagemap pages committed */
	uint32_t desc_committed;      /* descriptor pages committed */
	uint32_t meta_committed;      /* pm_committed + desc_committed */
	uint32_t top;                 /* first page never handed out */
	uint32_t committed;           /* pages committed, descriptors included */
	uint32_t slab_pages;          /* pages in slabs */
	uint32_t large_pages;         /* pages in large blocks */
	uint32_t large_blocks;        /* large blocks live */
	struct kmem_page *bins[KMEM_BINS]; /* free runs by length */
};

/* hidden: no GOT load on the fast paths of position-independent builds */
extern struct kmem_arena kmem_arena __attribute__((visibility("hidden")));

int kmem_arena_init(struct kmem_page_source *ps);
void kmem_arena_fini(void);
/* Allocate and commit a run of n pages of kind KP_SLAB or KP_LARGE; the head
 * descriptor or NULL when out of pages or commit fails. */
struct kmem_page *kmem_arena_alloc(uint32_t n, uint8_t kind, uint32_t id);
void kmem_arena_free(struct kmem_page *head);
uint32_t kmem_arena_check(bool verbose);

static inline uint32_t kmem_page_index(const struct kmem_page *pg)
{
	return (uint32_t)(pg - kmem_arena.desc);
}
static inline uintptr_t kmem_page_addr(const struct kmem_page *pg)
{
	return kmem_arena.base + ((uintptr_t)kmem_page_index(pg) << PAGE_SHIFT);
}
/* Head descriptor of the allocated run holding p, or NULL if p is not in an
 * allocated (slab or large) run. Reads descriptors only, never p. */
static inline struct kmem_page *kmem_page_of(const void *p)
{
	uintptr_t off = (uintptr_t)p - kmem_arena.base;
	uint32_t idx = (uint32_t)(off >> PAGE_SHIFT);
	if (KMEM_UNLIKELY(off >= ((uintptr_t)kmem_arena.top << PAGE_SHIFT)))
		return NULL;
	uint32_t h = kmem_arena.desc[idx].head;
	struct kmem_page *pg = &kmem_arena.desc[h];
	if (KMEM_UNLIKELY(pg->kind < KP_SLAB || idx - h >= pg->npages))
		return NULL;
	return pg;
}

/* Walking runs while freeing some: the end of the run holding page i
 * (its head's start + length), robust to runs that a free just merged. */
static inline uint32_t kmem_run_end(uint32_t i)
{
	uint32_t h = kmem_arena.desc[i].head, n = kmem_arena.desc[h].npages;
	return h + n > i ? h + n : i + 1;
}

/* ---- hardened free list --------------------------------------------------- */

static inline uintptr_t *kmem_fp_addr(const struct kmem_cache *c, void *obj)
{
	return (uintptr_t *)((char *)obj - c->obj_off + c->fp_off);
}
static inline void kmem_fp_store(const struct kmem_cache *c, void *obj, void *next)
{
	uintptr_t *at = kmem_fp_addr(c, obj);
	*at = (uintptr_t)next ^ c->secret ^ (uintptr_t)at;
}
static inline uintptr_t kmem_fp_load(const struct kmem_cache *c, void *obj)
{
	uintptr_t *at = kmem_fp_addr(c, obj);
	return *at ^ c->secret ^ (uintptr_t)at;
}
/* Slot index of byte offset off in a slab; exact for off < 64 KiB. */
static inline uint32_t kmem_slot_index(const struct kmem_cache *c, uint32_t off)
{
	return (uint32_t)(((uint64_t)off * c->recip) >> 32);
}
/* True when p (inside the slab at lo) is the start of an object. */
static inline bool kmem_is_obj_start(const struct kmem_cache *c, uintptr_t lo, const void *p)
{
	uint32_t off = (uint32_t)((uintptr_t)p - lo);
	uint32_t i = kmem_slot_index(c, off);
	return i < c->per_slab && i * c->slot + c->obj_off == off;
}

/* ---- debug (mm/kmem_debug.c) --------------------------------------------- */

#define KMEM_RZ_BYTES      8u     /* minimum red zone each side */
#define KMEM_RZ_BYTE       0xbbu  /* red-zone fill */
#define KMEM_POISON_BYTE   0x6bu  /* freed-object fill */
#define KMEM_STATE_FREE    0x46524545u /* "FREE" */
#define KMEM_STATE_ALLOC   0x414c4c43u /* "ALLC" */

struct kmem_track {
	uintptr_t freeptr;            /* hardened free-list link */
	uintptr_t caller;             /* last allocator / freer */
	uint32_t state;               /* KMEM_STATE_* */
	uint32_t req;                 /* kmalloc request while allocated (0: whole object);
	                               * bytes [req, size) are red zone */
};

void kmem_debug_layout(struct kmem_cache *c);
struct kmem_track *kmem_track_of(const struct kmem_cache *c, void *obj);
void kmem_debug_init_obj(struct kmem_cache *c, void *obj);
enum kmem_err_kind kmem_debug_on_alloc(struct kmem_cache *c, void *obj, uintptr_t caller);
enum kmem_err_kind kmem_debug_check_free(struct kmem_cache *c, void *obj);
void kmem_debug_on_free(struct kmem_cache *c, void *obj, uintptr_t caller);
void kmem_debug_set_request(struct kmem_cache *c, void *obj, uint32_t req);
uint32_t kmem_debug_request(const struct kmem_cache *c, const void *obj);
uint32_t kmem_debug_check_obj(struct kmem_cache *c, void *obj, bool is_free, bool verbose);

/* Report misuse (mm_panic or the hook). Call with no lock held. */
void kmem_report(enum kmem_err_kind kind, const struct kmem_cache *c, const void *obj,
                 uintptr_t caller);

/* ---- registry (mm/kmem.c) -------------------------------------------------- */

extern struct kmem_cache *kmem_caches;   /* registry list head */
extern struct kmem_cache *kmem_cache_table[KMEM_MAX_CACHES] /* id -> cache */
	__attribute__((visibility("hidden")));
extern struct mm_lock kmem_registry_lock;
extern uint32_t kmem_errors;             /* reports so far */
extern uint32_t kmem_ncaches;            /* caches existing */
extern uint32_t kmem_reaps;              /* kmem_reap calls */
extern uint32_t kmem_reaped_pages;       /* pages kmem_reap gave back */

/* True when c keeps more empty slabs than its reserve allows now; c->lock held. */
static inline bool kmem_empty_excess(const struct kmem_cache *c)
{
	uint32_t peak = c->peak_cur > c->peak_prev ? c->peak_cur : c->peak_prev;
	return c->empty.count > c->reserve_max ||
	       (c->empty.count > KMEM_RESERVE_MIN && c->nr_slabs > peak);
}

#endif /* MMBOOT_KMEM_INT_H */
