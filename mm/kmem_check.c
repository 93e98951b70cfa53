/*
 * Slab heap statistics, checker and cache table.
 *
 * kmem_check walks the arena once and checks every slab it finds against
 * its cache: each slab's descriptor must name the cache, its length and
 * its list tag (active, partial, full, empty); its free list is walked
 * with the hardened decoding and every link must land on an object start of
 * the same slab (a corrupted link is counted, never followed); free count +
 * inuse must equal objects per slab and agree with the list (partial, full,
 * empty); the slabs' inuse must add up to the cache's live count plus its
 * magazine, the slabs found to its slab count, the partial/empty tags to
 * its list lengths, and all slabs' pages to the arena's slab page count;
 * no cache keeps more empty slabs than its reserve allows.
 * Magazine entries must be distinct object starts of the cache. Debug caches additionally
 * have every free object's poison, every object's red zones and state word
 * checked. The arena's own descriptors are checked by kmem_arena_check.
 */
#include "kmem_int.h"

static uint32_t kmem_check_fail_slab(bool verbose, const struct kmem_page *pg)
{
	if (verbose)
		mm_printf("kmem_check: slab %p has no cache\n", (void *)kmem_page_addr(pg));
	return 1;
}

static uint32_t kmem_bad(bool verbose, const struct kmem_cache *c, const void *slab, const char *what)
{
	if (verbose)
		mm_printf("kmem_check: cache %s slab %p: %s\n", c->name, slab, what);
	return 1;
}

/* Walk pg's free list; *nfree gets its length. */
static uint32_t kmem_check_freelist(struct kmem_cache *c, struct kmem_page *pg, uint32_t *nfree,
                                    bool verbose)
{
	uintptr_t lo = kmem_page_addr(pg), span = (uintptr_t)c->slab_pages << PAGE_SHIFT;
	uint32_t n = 0, bad = 0;
	void *obj = pg->freelist;
	if (obj && ((uintptr_t)obj - lo >= span || !kmem_is_obj_start(c, lo, obj)))
		return *nfree = 0, kmem_bad(verbose, c, (void *)lo, "free-list head outside the slab");
	while (obj) {
		if (++n > c->per_slab)
			return *nfree = n, bad + kmem_bad(verbose, c, (void *)lo, "free list loops");
		if (c->flags & KMEM_DEBUG)
			bad += kmem_debug_check_obj(c, obj, true, verbose);
		uintptr_t next = kmem_fp_load(c, obj);
		if (next && (next - lo >= span || !kmem_is_obj_start(c, lo, (void *)next))) {
			bad += kmem_bad(verbose, c, (void *)lo, "free-list link corrupted");
			break;
		}
		obj = (void *)next;
	}
	*nfree = n;
	return bad;
}

/* Debug caches: every allocated object's red zones; count must be inuse. */
static uint32_t kmem_check_allocated(struct kmem_cache *c, struct kmem_page *pg, bool verbose)
{
	char *lo = (char *)kmem_page_addr(pg);
	uint32_t allocated = 0, bad = 0;
	for (uint32_t i = 0; i < c->per_slab; i++) {
		void *obj = lo + i * c->slot + c->obj_off;
		if (kmem_track_of(c, obj)->state != KMEM_STATE_FREE) {
			allocated++;
			bad += kmem_debug_check_obj(c, obj, false, verbose);
		}
	}
	if (allocated != pg->inuse)
		bad += kmem_bad(verbose, c, lo, "allocated state words != inuse");
	return bad;
}

static uint32_t kmem_check_slab(struct kmem_cache *c, struct kmem_page *pg, uint8_t list, bool verbose)
{
	uint32_t bad = 0, nfree = 0;
	void *lo = (void *)kmem_page_addr(pg);
	if (pg->kind != KP_SLAB || pg->cache != c || pg->npages != c->slab_pages || pg->list != list ||
	    list < KL_ACTIVE || list > KL_EMPTY)
		return kmem_bad(verbose, c, lo, "descriptor does not match its cache/list");
	bad += kmem_check_freelist(c, pg, &nfree, verbose);
	if (nfree + pg->inuse != c->per_slab)
		bad += kmem_bad(verbose, c, lo, "free + inuse != objects per slab");
	if ((list == KL_FULL && pg->inuse != c->per_slab) || (list == KL_EMPTY && pg->inuse != 0) ||
	    (list == KL_PARTIAL && (pg->inuse == 0 || pg->inuse == c->per_slab)))
		bad += kmem_bad(verbose, c, lo, "slab on the wrong list for its count");
	if (c->flags & KMEM_DEBUG)
		bad += kmem_check_allocated(c, pg, verbose);
	return bad;
}

/* Partial and empty lists: length matches the count, members tagged. */
static uint32_t kmem_check_list(struct kmem_cache *c, struct kmem_list *l, uint8_t which, bool verbose)
{
	uint32_t bad = 0, n = 0;
	for (struct kmem_page *pg = l->first; pg; pg = pg->next) {
		if (++n > l->count)
			return bad + kmem_bad(verbose, c, NULL, "list longer than its count");
		if (pg->list != which || pg->kind != KP_SLAB || pg->cache != c)
			bad += kmem_bad(verbose, c, (void *)kmem_page_addr(pg), "slab on a list it is not tagged for");
	}
	if (n != l->count)
		bad += kmem_bad(verbose, c, NULL, "list count wrong");
	return bad;
}

/* Magazine: distinct object starts of this cache's slabs. */
static uint32_t kmem_check_mag(struct kmem_cache *c, bool verbose)
{
	uint32_t bad = 0;
	if (c->mag_n > c->mag_cap)
		return kmem_bad(verbose, c, NULL, "magazine count above capacity");
	if (c->mag[0] != NULL)
		bad += kmem_bad(verbose, c, c->mag[0], "magazine sentinel overwritten");
	for (uint32_t i = 1; i <= c->mag_n; i++) {
		struct kmem_page *pg = kmem_page_of(c->mag[i]);
		if (!pg || pg->kind != KP_SLAB || pg->cache != c ||
		    !kmem_is_obj_start(c, kmem_page_addr(pg), c->mag[i]))
			bad += kmem_bad(verbose, c, c->mag[i], "magazine holds a foreign pointer");
		for (uint32_t j = 1; j < i; j++)
			if (c->mag[j] == c->mag[i])
				bad += kmem_bad(verbose, c, c->mag[i], "object twice in the magazine");
	}
	return bad;
}

/* Per-cache totals gathered by the arena walk against the cache's counters. */
static uint32_t kmem_check_cache(struct kmem_cache *c, uint32_t *slab_pages, bool verbose)
{
	uint32_t bad = 0;
	if (c->active && (c->active->list != KL_ACTIVE || c->act_lo != kmem_page_addr(c->active)))
		bad += kmem_bad(verbose, c, NULL, "active slab tag/bounds stale");
	bad += kmem_check_list(c, &c->partial, KL_PARTIAL, verbose);
	bad += kmem_check_list(c, &c->empty, KL_EMPTY, verbose);
	bad += kmem_check_mag(c, verbose);
	if (c->chk_slabs != c->nr_slabs)
		bad += kmem_bad(verbose, c, NULL, "slab count != slabs found in the arena");
	if (c->chk_partial != c->partial.count || c->chk_empty != c->empty.count)
		bad += kmem_bad(verbose, c, NULL, "slabs tagged partial/empty != list counts");
	if (c->chk_inuse != kmem_live(c) + c->mag_n)
		bad += kmem_bad(verbose, c, NULL, "sum of slab counts != live + magazine");
	if (kmem_empty_excess(c))
		bad += kmem_bad(verbose, c, NULL, "more empty slabs kept than the reserve allows");
	*slab_pages += c->chk_slabs * c->slab_pages;
	return bad;
}

/* One walk over the arena's runs: every slab is checked and counted
 * against its cache. */
static uint32_t kmem_check_slabs(bool verbose)
{
	uint32_t bad = 0;
	struct kmem_page *d = kmem_arena.desc;
	for (uint32_t i = kmem_arena.meta_max; i < kmem_arena.top;) {
		uint32_t n = d[i].npages && d[i].head == i ? d[i].npages : 1;
		struct kmem_page *pg = &d[i];
		i += n;
		if (pg->kind != KP_SLAB)
			continue;
		struct kmem_cache *c = pg->cache;
		if (!c) {
			bad += kmem_check_fail_slab(verbose, pg);
			continue;
		}
		c->chk_slabs++;
		c->chk_inuse += pg->inuse;
		c->chk_partial += pg->list == KL_PARTIAL;
		c->chk_empty += pg->list == KL_EMPTY;
		if (pg->list == KL_ACTIVE && pg != c->active)
			bad += kmem_bad(verbose, c, (void *)kmem_page_addr(pg), "tagged active but is not");
		bad += kmem_check_slab(c, pg, pg->list, verbose);
	}
	return bad;
}

/* Call with no heap operation in progress (tests, fuzzers, boot). */
uint32_t kmem_check(bool verbose)
{
	if (!kmem_arena.desc)
		return 0;
	uint32_t bad = kmem_arena_check(verbose), slab_pages = 0;
	for (struct kmem_cache *c = kmem_caches; c; c = c->next_cache)
		c->chk_slabs = c->chk_inuse = c->chk_partial = c->chk_empty = 0;
	bad += kmem_check_slabs(verbose);
	for (struct kmem_cache *c = kmem_caches; c; c = c->next_cache)
		bad += kmem_check_cache(c, &slab_pages, verbose);
	if (slab_pages != kmem_arena.slab_pages) {
		if (verbose)
			mm_printf("kmem_check: caches hold %u slab pages, arena counts %u\n", slab_pages,
			          kmem_arena.slab_pages);
		bad++;
	}
	return bad;
}

/* ---- statistics --------------------------------------------------------------- */

void kmem_cache_get_stats(struct kmem_cache *c, struct kmem_cache_stats *st)
{
	mm_lock_acquire(&c->lock);
	st->name = c->name;
	st->obj_size = c->size;
	st->slot_size = c->slot;
	st->slab_pages = c->slab_pages;
	st->objs_per_slab = c->per_slab;
	st->live = kmem_live(c);
	st->slabs_partial = c->partial.count;
	st->slabs_empty = c->empty.count;
	st->slabs_full = c->nr_slabs - c->partial.count - c->empty.count - (c->active ? 1 : 0);
	if (c->active) {
		uint32_t in = c->active->inuse;
		if (in == c->per_slab)
			st->slabs_full++;
		else if (in)
			st->slabs_partial++;
		else
			st->slabs_empty++;
	}
	st->slabs_peak = c->peak_cur > c->peak_prev ? c->peak_cur : c->peak_prev;
	st->reserve_max = c->reserve_max;
	st->bytes_held = (uint64_t)c->nr_slabs * c->slab_pages * PAGE_SIZE;
	st->allocs = c->allocs;
	st->frees = c->frees;
	st->flags = c->flags;
	mm_lock_release(&c->lock);
}

void kmem_get_stats(struct kmem_stats *st)
{
	mm_lock_acquire(&kmem_arena.lock);
	st->arena_pages = kmem_arena.npages;
	st->committed_pages = kmem_arena.committed;
	st->meta_pages = kmem_arena.meta_committed;
	st->slab_pages = kmem_arena.slab_pages;
	st->large_pages = kmem_arena.large_pages;
	st->large_blocks = kmem_arena.large_blocks;
	mm_lock_release(&kmem_arena.lock);
	st->caches = kmem_ncaches;
	st->errors_reported = kmem_errors;
	st->reaps = kmem_reaps;
	st->reaped_pages = kmem_reaped_pages;
	st->slab_bytes_live = 0;
	for (struct kmem_cache *c = kmem_caches; c; c = c->next_cache)
		st->slab_bytes_live += (uint64_t)kmem_live(c) * c->size;
}

void kmem_print_caches(void)
{
	struct kmem_stats hs;
	kmem_get_stats(&hs);
	mm_printf("kmem: %u caches, arena %u KiB, committed %u KiB (slabs %u, large %u in %u blocks,"
	          " descriptors %u pages)%s\n",
	          hs.caches, hs.arena_pages * 4, hs.committed_pages * 4, hs.slab_pages, hs.large_pages,
	          hs.large_blocks, hs.meta_pages, kmem_debug_default() ? ", debug on" : "");
	mm_printf("%-16s %6s %6s %5s %5s %7s %5s %5s %5s %8s\n", "cache", "size", "slot", "pages",
	          "objs", "live", "full", "part", "empty", "held KiB");
	for (struct kmem_cache *c = kmem_caches; c; c = c->next_cache) {
		struct kmem_cache_stats s;
		kmem_cache_get_stats(c, &s);
		if (s.live == 0 && s.bytes_held == 0 && (s.flags & KMEM_KMALLOC))
			continue;   /* untouched size classes: one line would say nothing */
		mm_printf("%-16s %6u %6u %5u %5u %7u %5u %5u %5u %8u%s\n", s.name, s.obj_size, s.slot_size,
		          s.slab_pages, s.objs_per_slab, s.live, s.slabs_full, s.slabs_partial,
		          s.slabs_empty, (uint32_t)(s.bytes_held >> 10),
		          (s.flags & KMEM_DEBUG) ? " D" : "");
	}
}
