/*
 * Slab heap: object caches and kmalloc (theory in include/mmboot/kmem.h,
 * layouts in mm/kmem_int.h).
 *
 * Fast path: kfree finds the object's slab and cache in O(1) from the
 * pagemap (never from the object), checks it is an object start of that
 * cache, and pushes it onto the cache's magazine; kmalloc pops the
 * magazine. Neither touches the object or its slab, under one cache lock.
 * Both are leaf functions on that path (kmem_mag_pop, kmem_free_fast: no
 * call, no register saved on the stack) touching one cache line of the
 * cache plus the magazine slot, and count one counter each (allocs or
 * frees; live is their difference). Anything else -- empty or full
 * magazine, debug cache, KM_ZERO, large size, a suspect pointer -- goes to
 * the out-of-line path (kmalloc_impl, kmem_alloc_impl, kmem_free_impl),
 * which does every check again from scratch.
 *
 * Slab path: a full magazine flushes its older half into the slabs (each
 * object onto its slab's hardened free list); an empty magazine makes the
 * allocation pop the active slab's free list. When the active slab runs
 * dry, it is tagged full and a partial slab, else a kept empty slab, else a
 * new slab (built with no lock held, constructors run there) becomes
 * active. A free into a non-active slab moves it full -> partial -> empty;
 * an empty slab beyond the cache's reserve goes back to the arena (and so
 * to the region layer). The active slab is never given back while it is
 * active, so an alloc/free pair at a slab boundary never maps and unmaps
 * pages.
 *
 * Reserve: a cache keeps KMEM_RESERVE_MIN empty slabs always, and more while
 * it holds no more slabs than its recent peak of slabs in use (the larger
 * of this epoch's and the last epoch's peak; an epoch is KMEM_EPOCH_REFILLS
 * refills), capped at KMEM_RESERVE_PAGES pages of empty slabs. So a burst
 * that is freed and allocated again (the 4096-object cycle of the
 * benchmark) finds its slabs built and committed, while a cache whose
 * demand fell returns the surplus within two epochs. Under memory pressure
 * (the arena cannot commit a run) kmem_reap flushes every magazine and
 * returns every empty slab, and the allocation is tried once more.
 *
 * Slab states: every slab of a cache is either active (one or none), on
 * partial (0 < inuse < per_slab), tagged full (inuse == per_slab, on no
 * list) or on empty (inuse == 0) -- kmem_check verifies it. The slabs'
 * inuse adds up to c->live plus the magazine's objects.
 *
 * kmalloc: 48 size classes, 8-byte steps up to 128 bytes, then 8 steps per
 * power of two (144, 160, .., 256, 288, .., 2048): waste is below 8 bytes up
 * to 64 bytes and below 1/9 of the class (< 12.5 %) above. A table indexed
 * by (size + 7) / 8 maps a size to its class. Larger requests are page runs
 * of the arena (kind KP_LARGE), page aligned, freed back at once.
 *
 * Misuse is reported by kmem_report (mm/kmem_debug.c) after the cache lock
 * is dropped; the operation is then abandoned (state unchanged).
 */
#include "kmem_int.h"

#include <mmboot/errno.h>

static const uint16_t kmalloc_sizes[] = {
	8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128,
	144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416, 448, 480, 512,
	576, 640, 704, 768, 832, 896, 960, 1024, 1152, 1280, 1408, 1536, 1664, 1792, 1920, 2048,
};
#define KMALLOC_NCLASSES ARRAY_SIZE(kmalloc_sizes)
_Static_assert(KMALLOC_NCLASSES == 48, "size class table");

static uint8_t kmalloc_index[KMALLOC_MAX_CLASS / 8 + 1];   /* (size+7)/8 -> class */
static struct kmem_cache *kmalloc_caches[KMALLOC_NCLASSES];
static struct kmem_cache kmem_cache_cache;                  /* caches of caches */

struct kmem_cache *kmem_caches;
struct kmem_cache *kmem_cache_table[KMEM_MAX_CACHES];
struct mm_lock kmem_registry_lock;
uint32_t kmem_errors;
uint32_t kmem_ncaches;
uint32_t kmem_reaps;
uint32_t kmem_reaped_pages;
static bool kmem_dbg_default;
static uint64_t kmem_seed;

/* ---- small helpers --------------------------------------------------------- */

static uint64_t kmem_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void kmem_name_set(char *dst, const char *name, uint32_t num)
{
	uint32_t i = 0, room = num ? KMEM_NAME_MAX - 11 : KMEM_NAME_MAX - 1;   /* 10 digits at most */
	for (; name && name[i] && i < room; i++)
		dst[i] = name[i];
	if (num) {
		char digits[10];
		uint32_t n = 0;
		do digits[n++] = (char)('0' + num % 10); while ((num /= 10) != 0);
		while (n)
			dst[i++] = digits[--n];
	}
	dst[i] = '\0';
}

static void kmem_list_push(struct kmem_list *l, struct kmem_page *pg, uint8_t which)
{
	pg->prev = NULL;
	pg->next = l->first;
	if (l->first)
		l->first->prev = pg;
	l->first = pg;
	l->count++;
	pg->list = which;
}

static void kmem_list_remove(struct kmem_list *l, struct kmem_page *pg)
{
	if (pg->prev)
		pg->prev->next = pg->next;
	else
		l->first = pg->next;
	if (pg->next)
		pg->next->prev = pg->prev;
	pg->next = pg->prev = NULL;
	pg->list = KL_NONE;
	l->count--;
}

static struct kmem_list *kmem_list_of(struct kmem_cache *c, uint8_t which)
{
	switch (which) {
	case KL_PARTIAL: return &c->partial;
	case KL_EMPTY:   return &c->empty;
	default:         return NULL;
	}
}

/* ---- slabs ----------------------------------------------------------------- */

/* Pages per slab: the fewest (1..8) wasting at most 1/32 of the slab,
 * else the best ratio; objects larger than 8 pages get one per slab. */
static uint32_t kmem_pick_slab_pages(uint32_t slot)
{
	uint32_t best = 1, best_waste = PAGE_SIZE;
	if (slot > 8 * PAGE_SIZE)
		return (slot + PAGE_SIZE - 1) / PAGE_SIZE;
	for (uint32_t n = 1; n <= 8; n++) {
		uint32_t bytes = n * PAGE_SIZE, per = bytes / slot;
		if (per == 0)
			continue;
		uint32_t waste = bytes - per * slot;
		if (waste * 32 <= bytes)
			return n;
		if (waste * best < best_waste * n) {   /* waste/n < best_waste/best */
			best = n;
			best_waste = waste;
		}
	}
	return best;
}

static void kmem_cache_layout(struct kmem_cache *c)
{
	if (c->flags & KMEM_DEBUG) {
		kmem_debug_layout(c);
	} else if (c->ctor) {
		c->obj_off = 0;
		c->fp_off = ALIGN_UP(c->size, (uint32_t)sizeof(uintptr_t));
		c->slot = ALIGN_UP(c->fp_off + (uint32_t)sizeof(uintptr_t), c->align);
	} else {
		c->obj_off = 0;
		c->fp_off = 0;
		c->slot = ALIGN_UP(c->size < 8 ? 8u : c->size, c->align);
	}
	c->slab_pages = kmem_pick_slab_pages(c->slot);
	c->per_slab = c->slab_pages * PAGE_SIZE / c->slot;
	c->recip = 0xFFFFFFFFu / c->slot + 1;   /* ceil(2^32 / slot), no 64-bit division */
	c->reserve_max = KMEM_RESERVE_PAGES / c->slab_pages;
	if (c->reserve_max < KMEM_RESERVE_MIN)
		c->reserve_max = KMEM_RESERVE_MIN;
	c->mag_cap = (c->flags & KMEM_DEBUG) ? 0 : KMEM_MAG_MAX;
}

/* A run from the arena; when it has none (out of va or the page source
 * cannot commit), reap every cache's reserve and try once more. Called with
 * no lock held. */
static struct kmem_page *kmem_run_alloc(uint32_t n, uint8_t kind, uint32_t id)
{
	struct kmem_page *pg = kmem_arena_alloc(n, kind, id);
	if (KMEM_UNLIKELY(!pg) && kmem_reap() != 0)
		pg = kmem_arena_alloc(n, kind, id);
	return pg;
}

/* A new slab for c with every object made (debug areas, constructor) and
 * linked; NULL when the arena has no page. Called with no lock held. */
static struct kmem_page *kmem_slab_new(struct kmem_cache *c)
{
	struct kmem_page *pg = kmem_run_alloc(c->slab_pages, KP_SLAB, c->id);
	if (!pg)
		return NULL;
	char *lo = (char *)kmem_page_addr(pg);
	void *next = NULL;
	for (uint32_t i = c->per_slab; i-- > 0;) {
		void *obj = lo + i * c->slot + c->obj_off;
		if (c->flags & KMEM_DEBUG)
			kmem_debug_init_obj(c, obj);
		if (c->ctor)
			c->ctor(obj);
		kmem_fp_store(c, obj, next);
		next = obj;
	}
	pg->cache = c;
	pg->freelist = next;
	pg->inuse = 0;
	return pg;
}

static void kmem_set_active(struct kmem_cache *c, struct kmem_page *pg)
{
	c->active = pg;
	pg->list = KL_ACTIVE;
	c->act_lo = kmem_page_addr(pg);
	c->act_span = (uintptr_t)c->slab_pages << PAGE_SHIFT;
}

static void kmem_slab_release(struct kmem_cache *c, struct kmem_page *pg);

/* Give back empty slabs the reserve no longer allows. c->lock held. */
static void kmem_trim_empty(struct kmem_cache *c)
{
	while (c->empty.first && kmem_empty_excess(c))
		kmem_slab_release(c, c->empty.first);
}

/* A refill happened: track the peak of slabs in use, and every
 * KMEM_EPOCH_REFILLS refills start a new epoch (the older peak is
 * forgotten, surplus empty slabs go back). c->lock held. */
static void kmem_peak_note(struct kmem_cache *c)
{
	uint32_t used = c->nr_slabs - c->empty.count;
	if (used > c->peak_cur)
		c->peak_cur = used;
	if (++c->epoch_refills < KMEM_EPOCH_REFILLS)
		return;
	c->epoch_refills = 0;
	c->peak_prev = c->peak_cur;
	c->peak_cur = used;
	kmem_trim_empty(c);
}

/* The active slab ran dry: make a slab with a free object active. Called
 * and returns with c->lock held (dropped while a new slab is built). */
static struct kmem_page *kmem_refill(struct kmem_cache *c)
{
	struct kmem_page *pg = c->partial.first ? c->partial.first : c->empty.first;
	if (pg) {
		kmem_list_remove(kmem_list_of(c, pg->list), pg);
	} else {
		mm_lock_release(&c->lock);
		pg = kmem_slab_new(c);
		mm_lock_acquire(&c->lock);
		if (!pg)
			return NULL;
		c->nr_slabs++;
		if (c->active && c->active->freelist) {   /* refilled meanwhile */
			kmem_list_push(&c->empty, pg, KL_EMPTY);
			kmem_trim_empty(c);
			return c->active;
		}
	}
	struct kmem_page *old = c->active;
	if (old && !old->freelist)
		old->list = KL_FULL;   /* on no list */
	else if (old)
		kmem_list_push(old->inuse ? &c->partial : &c->empty, old, old->inuse ? KL_PARTIAL : KL_EMPTY);
	kmem_set_active(c, pg);
	kmem_peak_note(c);
	kmem_trim_empty(c);
	return pg;
}

/* Give an empty slab's pages back to the arena. c->lock held. */
static void kmem_slab_release(struct kmem_cache *c, struct kmem_page *pg)
{
	if (pg == c->active) {
		c->active = NULL;
		c->act_lo = 0;
		c->act_span = 0;
	} else if (kmem_list_of(c, pg->list)) {
		kmem_list_remove(kmem_list_of(c, pg->list), pg);
	}
	c->nr_slabs--;
	pg->cache = NULL;
	pg->freelist = NULL;
	kmem_arena_free(pg);
}

/* A free changed the count of a non-active slab: move it between lists. */
static void kmem_slab_relist(struct kmem_cache *c, struct kmem_page *pg)
{
	if (pg->list != KL_FULL)
		kmem_list_remove(kmem_list_of(c, pg->list), pg);
	if (pg->inuse) {
		kmem_list_push(&c->partial, pg, KL_PARTIAL);
	} else {
		kmem_list_push(&c->empty, pg, KL_EMPTY);
		if (KMEM_UNLIKELY(kmem_empty_excess(c)))
			kmem_slab_release(c, pg);   /* beyond the reserve: pages back now */
	}
}

/* ---- allocation and free ---------------------------------------------------- */

/* Magazine empty: pop the active slab. Entered with c->lock held, returns
 * with it released (and any report made). */
static void *kmem_alloc_slow(struct kmem_cache *c, uintptr_t caller)
{
	struct kmem_page *pg = c->active;
	if (KMEM_UNLIKELY(!pg || !pg->freelist)) {
		pg = kmem_refill(c);
		if (!pg) {
			mm_lock_release(&c->lock);
			return NULL;
		}
	}
	void *obj = pg->freelist;
	uintptr_t next = kmem_fp_load(c, obj);
	/* the link must be 0 or an object start of this slab (one multiply):
	 * a damaged link is reported, never followed */
	if (KMEM_UNLIKELY(next - c->act_lo >= c->act_span && next != 0) ||
	    KMEM_UNLIKELY(next && !kmem_is_obj_start(c, c->act_lo, (void *)next))) {
		mm_lock_release(&c->lock);
		kmem_report(KMEM_ERR_FREELIST, c, obj, caller);
		return NULL;
	}
	pg->freelist = (void *)next;
	pg->inuse++;
	c->allocs++;
	enum kmem_err_kind e = KMEM_ERR_NONE;
	if (KMEM_UNLIKELY(c->flags & KMEM_DEBUG))
		e = kmem_debug_on_alloc(c, obj, caller);
	mm_lock_release(&c->lock);
	if (KMEM_UNLIKELY(e != KMEM_ERR_NONE))
		kmem_report(e, c, obj, caller);
	return obj;
}

/* A held cache lock on entry is a re-entry (the lock is per CPU state:
 * interrupts off in the kernel, one thread on the host): the fast paths
 * leave it to the slow path, whose mm_lock_acquire reports it. Checking
 * first lets the compiler drop the inline lock's report call, and with it
 * the stack frame the call needs, from the fast paths: a store to the stack
 * per call whose address could alias the magazine's (measured: the pair
 * loop then runs in one mode instead of two or three). */
KMEM_HOT bool kmem_lock_busy(const struct kmem_cache *c)
{
	return c->lock.held != 0;
}

/* Fast path: pop the magazine's top, or NULL when it is empty (always,
 * for a debug cache). No call, no stack: the callers are leaf functions
 * on this path and tail-call their slow path otherwise. */
KMEM_HOT void *kmem_mag_pop(struct kmem_cache *c)
{
	void *obj = NULL;
	if (KMEM_UNLIKELY(kmem_lock_busy(c)))
		return NULL;
	mm_lock_acquire(&c->lock);
	uint32_t n = c->mag_n;
	if (KMEM_LIKELY(n != 0)) {
		obj = c->mag[n];
		c->mag_n = n - 1;
		c->allocs++;
	}
	mm_lock_release(&c->lock);
	return obj;
}

static __attribute__((noinline)) void *kmem_alloc_impl(struct kmem_cache *c, uint32_t kmflags,
                                                       uintptr_t caller)
{
	void *obj;
	mm_lock_acquire(&c->lock);
	if (KMEM_LIKELY(c->mag_n != 0)) {
		obj = c->mag[c->mag_n--];
		c->allocs++;
		mm_lock_release(&c->lock);
	} else {
		obj = kmem_alloc_slow(c, caller);
		if (!obj)
			return NULL;
	}
	if (kmflags & KM_ZERO)
		mm_memset(obj, 0, c->size);
	return obj;
}

/* Put obj back on its slab pg's free list. c->lock held. */
static void kmem_slab_put(struct kmem_cache *c, struct kmem_page *pg, void *obj)
{
	kmem_fp_store(c, obj, pg->freelist);
	pg->freelist = obj;
	pg->inuse--;
	if (KMEM_UNLIKELY(pg->list != KL_ACTIVE) && (pg->list == KL_FULL || pg->inuse == 0))
		kmem_slab_relist(c, pg);
}

/* Drop the later copies of any object that sits in the magazine twice (a
 * double free that was not back to back: the push only compares with the
 * top). Each push counted a free, so every dropped copy uncounts it.
 * Open-addressed set of the magazine's pointers on the stack: O(mag_n),
 * paid once per flush (every KMEM_MAG_MAX / 2 frees). c->lock held.
 * Returns a duplicate for the report, or NULL. */
#define KMEM_DEDUP_SLOTS 256u   /* power of two (the hash's top 8 bits), load <= 1/2 */
_Static_assert(KMEM_DEDUP_SLOTS >= 2u * KMEM_MAG_MAX, "dedup set too small for the magazine");
static void *kmem_mag_dedup(struct kmem_cache *c)
{
	uint32_t set[KMEM_DEDUP_SLOTS], k = 0;   /* keys: (offset in the arena) / 8 + 1 */
	void *dup = NULL;
	mm_memset(set, 0, sizeof(set));
	for (uint32_t i = 1; i <= c->mag_n; i++) {
		void *obj = c->mag[i];
		/* unique per object: objects are 8-byte aligned, the arena < 32 GiB */
		uint32_t key = (uint32_t)(((uintptr_t)obj - kmem_arena.base) >> 3) + 1u;
		uint32_t h = (key * 0x9E3779B1u) >> 24;
		while (set[h] && set[h] != key)
			h = (h + 1u) & (KMEM_DEDUP_SLOTS - 1u);
		if (KMEM_UNLIKELY(set[h] == key)) {
			dup = obj;
			c->frees--;   /* that free did not happen */
			continue;
		}
		set[h] = key;
		c->mag[++k] = obj;
	}
	c->mag_n = k;
	return dup;
}

/* Flush the n oldest magazine objects into their slabs. c->lock held. An
 * object found twice in the magazine, or already free in its slab (a double
 * free that reached the magazine after the object had been flushed), is
 * dropped -- its free uncounted, since its push had counted it -- and
 * returned for a report; NULL otherwise. */
static void *kmem_mag_flush(struct kmem_cache *c, uint32_t n)
{
	uint32_t n0 = c->mag_n;
	void *dup = kmem_mag_dedup(c);
	n = n > c->mag_n ? c->mag_n : (n == n0 ? c->mag_n : n);
	for (uint32_t i = 1; i <= n; i++) {
		void *obj = c->mag[i];
		uint32_t idx = (uint32_t)(((uintptr_t)obj - kmem_arena.base) >> PAGE_SHIFT);
		struct kmem_page *pg = &kmem_arena.desc[idx - KMEM_PM_OFF(kmem_arena.pagemap[idx])];
		if (KMEM_UNLIKELY(obj == pg->freelist || pg->inuse == 0)) {
			dup = obj;
			c->frees--;
		} else {
			kmem_slab_put(c, pg, obj);
		}
	}
	c->mag_n -= n;
	for (uint32_t i = 1; i <= c->mag_n; i++)
		c->mag[i] = c->mag[i + n];
	return dup;
}

/* Free obj of slab pg when the magazine cannot take it at once (debug
 * cache, magazine full, or obj on top of it). c->lock held. The error
 * found; *dup gets an object to report from a flush. */
static enum kmem_err_kind kmem_free_slow(struct kmem_cache *c, struct kmem_page *pg, void *obj,
                                         uintptr_t caller, void **dup)
{
	if (KMEM_UNLIKELY(obj == pg->freelist || pg->inuse == 0))
		return KMEM_ERR_DOUBLE_FREE;
	if (c->mag_cap) {
		if (c->mag[c->mag_n] == obj)   /* mag[0] is NULL */
			return KMEM_ERR_DOUBLE_FREE;
		if (c->mag_n >= c->mag_cap)
			*dup = kmem_mag_flush(c, c->mag_cap / 2);
		c->mag[++c->mag_n] = obj;
	} else {
		if (KMEM_UNLIKELY(c->flags & KMEM_DEBUG)) {
			enum kmem_err_kind e = kmem_debug_check_free(c, obj);
			if (e != KMEM_ERR_NONE)
				return e;
			kmem_debug_on_free(c, obj, caller);
		}
		kmem_slab_put(c, pg, obj);
	}
	c->frees++;
	return KMEM_ERR_NONE;
}

/* Free of a pointer whose page is not in a slab: a large block's first
 * byte, or a report. */
static void kmem_free_other(struct kmem_cache *want, void *p, uint32_t idx, uint32_t e,
                            uintptr_t caller)
{
	if (KMEM_PM_KIND(e) == KP_FREE && ((uintptr_t)p & PAGE_MASK) == 0)
		kmem_report(KMEM_ERR_DOUBLE_FREE, want, p, caller);   /* large block (or slab) freed already */
	else if (KMEM_PM_KIND(e) != KP_LARGE)
		kmem_report(KMEM_ERR_NOT_HEAP, want, p, caller);
	else if (want)
		kmem_report(KMEM_ERR_WRONG_CACHE, want, p, caller);
	else if (KMEM_PM_OFF(e) != 0 || ((uintptr_t)p & PAGE_MASK) != 0)
		kmem_report(KMEM_ERR_NOT_OBJECT, NULL, p, caller);
	else
		kmem_arena_free(&kmem_arena.desc[idx]);
}

/* Free p; want is the cache the caller named (NULL for kfree). The owner
 * comes from the pagemap (one 4-byte load), never from the object. Every
 * check and every case; kmem_free_fast below is its common case. */
static __attribute__((noinline)) void kmem_free_impl(struct kmem_cache *want, void *p,
                                                     uintptr_t caller)
{
	uintptr_t off = (uintptr_t)p - kmem_arena.base;
	if (KMEM_UNLIKELY(off >= ((uintptr_t)kmem_arena.top << PAGE_SHIFT))) {
		/* page aligned inside the heap, above its high-water mark: a block
		 * freed already (the arena shrank behind it) */
		bool stale = off < ((uintptr_t)kmem_arena.npages << PAGE_SHIFT) && !(off & PAGE_MASK) &&
		             (off >> PAGE_SHIFT) >= kmem_arena.meta_max;
		kmem_report(stale ? KMEM_ERR_DOUBLE_FREE : KMEM_ERR_NOT_HEAP, want, p, caller);
		return;
	}
	uint32_t idx = (uint32_t)(off >> PAGE_SHIFT), e = kmem_arena.pagemap[idx];
	if (KMEM_UNLIKELY(KMEM_PM_KIND(e) != KP_SLAB)) {
		kmem_free_other(want, p, idx, e, caller);
		return;
	}
	struct kmem_cache *c = kmem_cache_table[KMEM_PM_ID(e)];
	if (KMEM_UNLIKELY(want && want != c)) {
		kmem_report(KMEM_ERR_WRONG_CACHE, want, p, caller);
		return;
	}
	uint32_t head = idx - KMEM_PM_OFF(e);
	if (KMEM_UNLIKELY(!kmem_is_obj_start(c, kmem_arena.base + ((uintptr_t)head << PAGE_SHIFT), p))) {
		kmem_report(KMEM_ERR_NOT_OBJECT, c, p, caller);
		return;
	}
	mm_lock_acquire(&c->lock);
	void *dup = NULL;
	enum kmem_err_kind err = kmem_free_slow(c, &kmem_arena.desc[head], p, caller, &dup);
	mm_lock_release(&c->lock);
	if (KMEM_UNLIKELY(err != KMEM_ERR_NONE))
		kmem_report(err, c, p, caller);
	if (KMEM_UNLIKELY(dup != NULL))
		kmem_report(KMEM_ERR_DOUBLE_FREE, c, dup, caller);
}

/* Fast path of a free: p is an object start of a slab of a cache (want if
 * not NULL) whose magazine has room and does not hold p on top; push it.
 * False (nothing done) otherwise: kmem_free_impl then does the checks
 * again and handles or reports the case. The same O(1) lookup and
 * object-start check as kmem_free_impl, no call, no stack. */
KMEM_HOT bool kmem_free_fast(struct kmem_cache *want, void *p)
{
	uintptr_t off = (uintptr_t)p - kmem_arena.base;
	if (KMEM_UNLIKELY(off >= ((uintptr_t)kmem_arena.top << PAGE_SHIFT)))
		return false;
	uint32_t idx = (uint32_t)(off >> PAGE_SHIFT), e = kmem_arena.pagemap[idx];
	if (KMEM_UNLIKELY(KMEM_PM_KIND(e) != KP_SLAB))
		return false;
	struct kmem_cache *c = kmem_cache_table[KMEM_PM_ID(e)];
	if (KMEM_UNLIKELY(want && want != c))
		return false;
	uint32_t soff = (uint32_t)off - ((idx - KMEM_PM_OFF(e)) << PAGE_SHIFT);   /* offset in the slab */
	uint32_t i = kmem_slot_index(c, soff);
	if (KMEM_UNLIKELY(i >= c->per_slab || i * c->slot + c->obj_off != soff))
		return false;
	if (KMEM_UNLIKELY(kmem_lock_busy(c)))
		return false;
	mm_lock_acquire(&c->lock);
	uint32_t n = c->mag_n;
	bool ok = n < c->mag_cap && c->mag[n] != p;   /* mag[0] is NULL */
	if (KMEM_LIKELY(ok)) {
		c->mag[n + 1] = p;
		c->mag_n = n + 1;
		c->frees++;
	}
	mm_lock_release(&c->lock);
	return ok;
}

void *kmem_cache_alloc(struct kmem_cache *c, uint32_t kmflags)
{
	if (KMEM_LIKELY(!(kmflags & KM_ZERO))) {
		void *obj = kmem_mag_pop(c);
		if (KMEM_LIKELY(obj != NULL))
			return obj;
	}
	return kmem_alloc_impl(c, kmflags, MM_CALLER());
}

void kmem_cache_free(struct kmem_cache *c, void *obj)
{
	if (obj && !kmem_free_fast(c, obj))
		kmem_free_impl(c, obj, MM_CALLER());
}

/* ---- kmalloc ------------------------------------------------------------------ */

static void *kmalloc_large(size_t size, uint32_t kmflags)
{
	if (size == 0 || size > (size_t)kmem_arena.npages * PAGE_SIZE)
		return NULL;
	uint32_t n = (uint32_t)((size + PAGE_SIZE - 1) >> PAGE_SHIFT);
	struct kmem_page *pg = kmem_run_alloc(n, KP_LARGE, 0);
	if (!pg)
		return NULL;
	void *p = (void *)kmem_page_addr(pg);
	if (kmflags & KM_ZERO)
		mm_memset(p, 0, (size_t)n << PAGE_SHIFT);
	return p;
}

static __attribute__((noinline)) void *kmalloc_impl(size_t size, uint32_t kmflags, uintptr_t caller)
{
	if (KMEM_LIKELY(size - 1 < KMALLOC_MAX_CLASS)) {
		struct kmem_cache *c = kmalloc_caches[kmalloc_index[(size + 7) >> 3]];
		void *obj = kmem_alloc_impl(c, kmflags, caller);
		if (KMEM_UNLIKELY(c->flags & KMEM_DEBUG) && obj)
			kmem_debug_set_request(c, obj, (uint32_t)size);   /* red zone from the request on */
		return obj;
	}
	return kmalloc_large(size, kmflags);
}

/* Fast path: a class size, no zeroing, the class's magazine not empty
 * (never for a debug cache): a leaf function, no stack. The class comes
 * from one byte table indexed by (size + 7) / 8 (size 1..2048). */
void *kmalloc(size_t size, uint32_t kmflags)
{
	if (KMEM_LIKELY(size - 1 < KMALLOC_MAX_CLASS) && KMEM_LIKELY(!(kmflags & KM_ZERO))) {
		void *obj = kmem_mag_pop(kmalloc_caches[kmalloc_index[(size + 7) >> 3]]);
		if (KMEM_LIKELY(obj != NULL))
			return obj;
	}
	return kmalloc_impl(size, kmflags, MM_CALLER());
}

void *kzalloc(size_t size, uint32_t kmflags)
{
	return kmalloc_impl(size, kmflags | KM_ZERO, MM_CALLER());
}

void *kcalloc(size_t n, size_t size, uint32_t kmflags)
{
	size_t bytes;
	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return kmalloc_impl(bytes, kmflags | KM_ZERO, MM_CALLER());
}

void kfree(void *p)
{
	if (p && !kmem_free_fast(NULL, p))
		kmem_free_impl(NULL, p, MM_CALLER());
}

size_t ksize(const void *p)
{
	struct kmem_page *pg = kmem_page_of(p);
	if (!p || !pg)
		return 0;
	if (pg->kind == KP_LARGE)
		return (size_t)pg->npages << PAGE_SHIFT;
	if (KMEM_UNLIKELY(pg->cache->flags & KMEM_DEBUG))
		return kmem_debug_request(pg->cache, p);   /* debug: the bytes asked for */
	return pg->cache->size;
}

void *krealloc(void *p, size_t size, uint32_t kmflags)
{
	uintptr_t caller = MM_CALLER();
	if (!p)
		return kmalloc_impl(size, kmflags, caller);
	if (size == 0) {
		kmem_free_impl(NULL, p, caller);
		return NULL;
	}
	size_t old = ksize(p);
	if (old == 0) {
		kmem_report(KMEM_ERR_NOT_HEAP, NULL, p, caller);
		return NULL;
	}
	struct kmem_page *pg = kmem_page_of(p);
	if (pg->kind == KP_SLAB && (pg->cache->flags & KMEM_DEBUG) && size <= pg->cache->size) {
		kmem_debug_set_request(pg->cache, p, (uint32_t)size);   /* in place: red zone moves */
		if ((kmflags & KM_ZERO) && size > old)
			mm_memset((char *)p + old, 0, size - old);
		return p;
	}
	if (size <= old)
		return p;
	void *n = kmalloc_impl(size, kmflags & ~KM_ZERO, caller);
	if (!n)
		return NULL;
	mm_memcpy(n, p, old);
	if (kmflags & KM_ZERO)
		mm_memset((char *)n + old, 0, ksize(n) - old);
	kmem_free_impl(NULL, p, caller);
	return n;
}

static void kmalloc_index_init(void);

uint32_t kmalloc_class_size(size_t size)
{
	if (size == 0 || size > KMALLOC_MAX_CLASS)
		return 0;
	if (kmalloc_index[KMALLOC_MAX_CLASS / 8] == 0)   /* usable before kmem_init */
		kmalloc_index_init();
	return kmalloc_sizes[kmalloc_index[(size + 7) >> 3]];
}

uint32_t kmalloc_class_count(void)
{
	return KMALLOC_NCLASSES;
}

uint32_t kmalloc_class_at(uint32_t i)
{
	return i < KMALLOC_NCLASSES ? kmalloc_sizes[i] : 0;
}

/* ---- caches: create, destroy, shrink ---------------------------------------------- */

/* Enter c in the registry and give it an id; false when all ids are taken. */
static bool kmem_register(struct kmem_cache *c)
{
	mm_lock_acquire(&kmem_registry_lock);
	uint32_t id = 1;
	while (id < KMEM_MAX_CACHES && kmem_cache_table[id])
		id++;
	if (id == KMEM_MAX_CACHES) {
		mm_lock_release(&kmem_registry_lock);
		return false;
	}
	c->id = id;
	kmem_cache_table[id] = c;
	c->prev_cache = NULL;
	c->next_cache = kmem_caches;
	if (kmem_caches)
		kmem_caches->prev_cache = c;
	kmem_caches = c;
	kmem_ncaches++;
	mm_lock_release(&kmem_registry_lock);
	return true;
}

static void kmem_unregister(struct kmem_cache *c)
{
	mm_lock_acquire(&kmem_registry_lock);
	if (c->prev_cache)
		c->prev_cache->next_cache = c->next_cache;
	else
		kmem_caches = c->next_cache;
	if (c->next_cache)
		c->next_cache->prev_cache = c->prev_cache;
	kmem_cache_table[c->id] = NULL;
	kmem_ncaches--;
	mm_lock_release(&kmem_registry_lock);
}

static bool kmem_cache_setup(struct kmem_cache *c, const char *name, uint32_t num, uint32_t size,
                             uint32_t align, void (*ctor)(void *), uint32_t flags)
{
	mm_memset(c, 0, sizeof(*c));
	kmem_name_set(c->name, name, num);
	c->size = size;
	c->align = align < 8 ? 8 : align;
	c->ctor = ctor;
	bool dbg = (flags & KMEM_DEBUG) || (kmem_dbg_default && !(flags & KMEM_NODEBUG));
	c->flags = (flags & ~(KMEM_DEBUG | KMEM_NODEBUG)) | (dbg ? KMEM_DEBUG : 0);
	kmem_seed = kmem_mix(kmem_seed);
	c->secret = (uintptr_t)kmem_seed | ((uintptr_t)1 << (sizeof(uintptr_t) * 8 - 1));
	kmem_cache_layout(c);
	return kmem_register(c);
}

struct kmem_cache *kmem_cache_create(const char *name, uint32_t size, uint32_t align,
                                     void (*ctor)(void *obj), uint32_t flags)
{
	if (size == 0 || size > 32768 || (align & (align - 1)) || align > PAGE_SIZE ||
	    !kmem_arena.desc || (flags & KMEM_KMALLOC))
		return NULL;
	struct kmem_cache *c = kmem_alloc_impl(&kmem_cache_cache, KM_NORMAL, MM_CALLER());
	if (!c)
		return NULL;
	if (!kmem_cache_setup(c, name, 0, size, align, ctor, flags)) {
		kmem_free_impl(&kmem_cache_cache, c, MM_CALLER());
		return NULL;
	}
	return c;
}

/* Free every slab of c whatever its objects (destroy, fini): full slabs
 * are on no list, so walk the arena. c->lock held. */
static void kmem_cache_drain(struct kmem_cache *c)
{
	struct kmem_page *d = kmem_arena.desc;
	c->mag_n = 0;
	for (uint32_t i = kmem_arena.meta_max; i < kmem_arena.top;) {
		uint32_t end = kmem_run_end(i);
		if (d[i].kind == KP_SLAB && d[i].head == i && d[i].cache == c)
			kmem_slab_release(c, &d[i]);
		i = end;
	}
	c->frees = c->allocs;   /* live 0 */
}

int kmem_cache_destroy(struct kmem_cache *c)
{
	if (!c || c == &kmem_cache_cache || (c->flags & KMEM_KMALLOC))
		return -MM_EINVAL;
	mm_lock_acquire(&c->lock);
	void *dup = kmem_mag_dedup(c);        /* a delayed double free still in the magazine */
	if (kmem_live(c)) {
		mm_lock_release(&c->lock);
		if (dup)
			kmem_report(KMEM_ERR_DOUBLE_FREE, c, dup, MM_CALLER());
		return -MM_EBUSY;
	}
	void *dup2 = kmem_mag_flush(c, c->mag_n);
	kmem_cache_drain(c);
	mm_lock_release(&c->lock);
	if (dup || dup2)
		kmem_report(KMEM_ERR_DOUBLE_FREE, c, dup ? dup : dup2, MM_CALLER());
	kmem_unregister(c);
	kmem_free_impl(&kmem_cache_cache, c, MM_CALLER());
	return 0;
}

/* Flush c's magazine, give back every empty slab (the active one too if
 * empty) and forget the peak, so the reserve starts again from what is in
 * use. Pages freed; *dup gets an object to report (double free found by
 * the flush). Takes c->lock. */
static uint32_t kmem_shrink_one(struct kmem_cache *c, void **dup)
{
	uint32_t pages = 0;
	mm_lock_acquire(&c->lock);
	*dup = kmem_mag_flush(c, c->mag_n);
	while (c->empty.first) {
		kmem_slab_release(c, c->empty.first);
		pages += c->slab_pages;
	}
	if (c->active && c->active->inuse == 0) {
		kmem_slab_release(c, c->active);
		pages += c->slab_pages;
	}
	c->peak_cur = c->peak_prev = c->nr_slabs;
	c->epoch_refills = 0;
	mm_lock_release(&c->lock);
	return pages;
}

uint32_t kmem_cache_shrink(struct kmem_cache *c)
{
	void *dup;
	uint32_t pages = kmem_shrink_one(c, &dup);
	if (dup)
		kmem_report(KMEM_ERR_DOUBLE_FREE, c, dup, MM_CALLER());
	return pages;
}

uint32_t kmem_reap(void)
{
	uint32_t pages = 0;
	void *dup = NULL;
	struct kmem_cache *dup_cache = NULL;
	mm_lock_acquire(&kmem_registry_lock);
	for (struct kmem_cache *c = kmem_caches; c; c = c->next_cache) {
		void *d;
		pages += kmem_shrink_one(c, &d);
		if (d && !dup) {
			dup = d;
			dup_cache = c;
		}
	}
	kmem_reaps++;
	kmem_reaped_pages += pages;
	mm_lock_release(&kmem_registry_lock);
	if (dup)
		kmem_report(KMEM_ERR_DOUBLE_FREE, dup_cache, dup, MM_CALLER());
	return pages;
}

const char *kmem_cache_name(const struct kmem_cache *c)
{
	return c->name;
}

uint32_t kmem_cache_size(const struct kmem_cache *c)
{
	return c->size;
}

struct kmem_cache *kmem_cache_next(struct kmem_cache *prev)
{
	return prev ? prev->next_cache : kmem_caches;
}

bool kmem_debug_default(void)
{
	return kmem_dbg_default;
}

/* ---- init / fini ------------------------------------------------------------------ */

static void kmalloc_index_init(void)
{
	uint32_t cls = 0;
	for (uint32_t i = 0; i <= KMALLOC_MAX_CLASS / 8; i++) {
		while (kmalloc_sizes[cls] < i * 8)
			cls++;
		kmalloc_index[i] = (uint8_t)cls;
	}
}

int kmem_init(struct kmem_page_source *ps, uint32_t flags, uint64_t seed)
{
	int err = kmem_arena_init(ps);
	if (err)
		return err;
	kmem_caches = NULL;
	kmem_ncaches = 0;
	kmem_errors = 0;
	kmem_reaps = 0;
	kmem_reaped_pages = 0;
	kmem_registry_lock.held = 0;
	kmem_dbg_default = (flags & KMEM_INIT_DEBUG) != 0;
	mm_memset(kmem_cache_table, 0, sizeof(kmem_cache_table));
	kmem_seed = seed;
	kmalloc_index_init();
	(void)kmem_cache_setup(&kmem_cache_cache, "kmem_cache", 0, sizeof(struct kmem_cache),
	                       _Alignof(struct kmem_cache), NULL, 0);
	for (uint32_t i = 0; i < KMALLOC_NCLASSES; i++) {
		struct kmem_cache *c = kmem_alloc_impl(&kmem_cache_cache, KM_NORMAL, 0);
		if (!c) {
			kmem_fini();
			return -MM_ENOMEM;
		}
		(void)kmem_cache_setup(c, "kmalloc-", kmalloc_sizes[i], kmalloc_sizes[i], 0, NULL, KMEM_KMALLOC);
		kmalloc_caches[i] = c;
	}
	return 0;
}

uint32_t kmem_fini(void)
{
	if (!kmem_arena.desc)
		return 0;
	uint32_t leaked = kmem_arena.large_blocks;
	for (struct kmem_cache *c = kmem_caches; c; c = c->next_cache) {
		if (c == &kmem_cache_cache)
			continue;
		leaked += kmem_live(c) + !(c->flags & KMEM_KMALLOC);   /* a user cache left counts too */
		mm_lock_acquire(&c->lock);
		kmem_cache_drain(c);
		mm_lock_release(&c->lock);
	}
	mm_lock_acquire(&kmem_cache_cache.lock);   /* last: it holds the cache structs */
	kmem_cache_drain(&kmem_cache_cache);
	mm_lock_release(&kmem_cache_cache.lock);
	kmem_arena_fini();
	kmem_caches = NULL;
	kmem_ncaches = 0;
	mm_memset(kmalloc_caches, 0, sizeof(kmalloc_caches));
	mm_memset(kmem_cache_table, 0, sizeof(kmem_cache_table));
	return leaked;
}
