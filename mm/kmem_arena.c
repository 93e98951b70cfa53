/*
 * Slab heap arena: runs of pages for slabs and large kmalloc blocks
 * (layout picture in mm/kmem_int.h).
 *
 * The arena is one contiguous range of virtual pages from a page source
 * (production: one region of the region VMM). The first pages hold the
 * pagemap (u32 per page) and the page descriptor array (struct kmem_page
 * per page), both committed as the high-water mark `top` grows; the rest is
 * handed out in runs.
 *
 * Allocation: exact-length bin 1..14 first, then first fit in the >= 15 bin
 * (split, remainder back to a bin), then carve from top. The run's pages are
 * committed through the page source; if that fails nothing changes and the
 * caller gets NULL. Free: decommit, mark every page free, coalesce with free
 * neighbours found through the descriptors at start-1 and end, and lower
 * top when the run reaches it (descriptor pages the new top does not need
 * are decommitted too). So committed pages are exactly the pages of live
 * runs plus the descriptor pages covering [0, top).
 *
 * Invariants (kmem_arena_check): every page below top belongs to exactly one
 * run whose head names its length; free runs are maximal (no two adjacent),
 * sit in the bin of their length, and never touch top; the counters match.
 * Lock: kmem_arena.lock, taken inside a cache lock, never around one.
 */
#include "kmem_int.h"

#include <mmboot/errno.h>

struct kmem_arena kmem_arena;

static uint32_t kmem_bin_of(uint32_t n)
{
	return n < KMEM_BINS - 1 ? n : KMEM_BINS - 1;
}

static void kmem_bin_insert(struct kmem_page *pg)
{
	struct kmem_page **b = &kmem_arena.bins[kmem_bin_of(pg->npages)];
	pg->prev = NULL;
	pg->next = *b;
	if (*b)
		(*b)->prev = pg;
	*b = pg;
	pg->list = KL_BIN;
}

static void kmem_bin_remove(struct kmem_page *pg)
{
	if (pg->prev)
		pg->prev->next = pg->next;
	else
		kmem_arena.bins[kmem_bin_of(pg->npages)] = pg->next;
	if (pg->next)
		pg->next->prev = pg->prev;
	pg->next = pg->prev = NULL;
	pg->list = KL_NONE;
}

/* Mark pages [start, start+n) as one run of kind with head start. */
static void kmem_run_mark(uint32_t start, uint32_t n, uint8_t kind, uint32_t id)
{
	for (uint32_t i = start; i < start + n; i++) {
		struct kmem_page *d = &kmem_arena.desc[i];
		kmem_arena.pagemap[i] = KMEM_PM(kind, i - start, id);
		d->kind = kind;
		d->head = start;
		d->npages = (i == start || i == start + n - 1) ? n : 0;
		d->list = KL_NONE;
		d->inuse = 0;
		d->cache = NULL;
		d->freelist = NULL;
		d->next = d->prev = NULL;
	}
}

/* Pages of an array of elem-byte entries, one per page below top. */
static uint32_t kmem_meta_need(uint32_t top, uint32_t elem)
{
	return (uint32_t)(((uint64_t)top * elem + PAGE_SIZE - 1) >> PAGE_SHIFT);
}

static void kmem_meta_count(void)
{
	kmem_arena.meta_committed = kmem_arena.pm_committed + kmem_arena.desc_committed;
}

/* Commit pagemap and descriptor pages so that pages below new_top have
 * both (all or nothing). */
static int kmem_meta_grow(uint32_t new_top)
{
	struct kmem_page_source *ps = kmem_arena.ps;
	uint32_t pm = kmem_meta_need(new_top, sizeof(uint32_t));
	uint32_t dp = kmem_meta_need(new_top, sizeof(struct kmem_page));
	uint32_t pm_add = pm > kmem_arena.pm_committed ? pm - kmem_arena.pm_committed : 0;
	uint32_t dp_add = dp > kmem_arena.desc_committed ? dp - kmem_arena.desc_committed : 0;
	int err = pm_add ? ps->commit(ps, kmem_arena.pm_committed, pm_add) : 0;
	if (err)
		return err;
	err = dp_add ? ps->commit(ps, kmem_arena.pm_max + kmem_arena.desc_committed, dp_add) : 0;
	if (err) {
		if (pm_add)
			ps->decommit(ps, kmem_arena.pm_committed, pm_add);
		return err;
	}
	kmem_arena.pm_committed += pm_add;
	kmem_arena.desc_committed += dp_add;
	kmem_arena.committed += pm_add + dp_add;
	kmem_meta_count();
	return 0;
}

static void kmem_meta_give_back(uint32_t first, uint32_t n)
{
	int err = kmem_arena.ps->decommit(kmem_arena.ps, first, n);
	if (err)
		mm_panic("kmem_meta_shrink: decommit of metadata pages %u+%u failed: %s", first, n,
		         mm_strerror(err));
	kmem_arena.committed -= n;
}

/* top went down: give back metadata pages no page below top needs. */
static void kmem_meta_shrink(uint32_t new_top)
{
	uint32_t pm = kmem_meta_need(new_top, sizeof(uint32_t));
	uint32_t dp = kmem_meta_need(new_top, sizeof(struct kmem_page));
	if (pm < kmem_arena.pm_committed) {
		kmem_meta_give_back(pm, kmem_arena.pm_committed - pm);
		kmem_arena.pm_committed = pm;
	}
	if (dp < kmem_arena.desc_committed) {
		kmem_meta_give_back(kmem_arena.pm_max + dp, kmem_arena.desc_committed - dp);
		kmem_arena.desc_committed = dp;
	}
	kmem_meta_count();
}

/* Take n pages from top; UINT32_MAX when the arena is exhausted. */
static uint32_t kmem_take_top(uint32_t n)
{
	uint32_t start = kmem_arena.top;
	if (n > kmem_arena.npages - start || kmem_meta_grow(start + n) != 0)
		return UINT32_MAX;
	kmem_arena.top = start + n;
	kmem_run_mark(start, n, KP_FREE, 0);
	return start;
}

/* A free run of at least n pages, removed from its bin and split to n
 * (the remainder goes back to a bin); UINT32_MAX if none. */
static uint32_t kmem_take_bin(uint32_t n)
{
	for (uint32_t b = kmem_bin_of(n); b < KMEM_BINS; b++) {
		struct kmem_page *pg = kmem_arena.bins[b];
		while (pg && pg->npages < n)
			pg = pg->next;
		if (!pg)
			continue;
		kmem_bin_remove(pg);
		uint32_t start = kmem_page_index(pg), len = pg->npages;
		if (len > n) {
			kmem_run_mark(start + n, len - n, KP_FREE, 0);
			kmem_bin_insert(&kmem_arena.desc[start + n]);
		}
		return start;
	}
	return UINT32_MAX;
}

/* Give a run that is marked free (not in a bin) back: coalesce, bin or top. */
static void kmem_run_release(uint32_t start, uint32_t n)
{
	struct kmem_page *d = kmem_arena.desc;
	if (start > kmem_arena.meta_max && d[start - 1].kind == KP_FREE) {
		uint32_t h = d[start - 1].head;
		kmem_bin_remove(&d[h]);
		n += start - h;
		start = h;
	}
	uint32_t end = start + n;
	if (end < kmem_arena.top && d[end].kind == KP_FREE) {
		n += d[end].npages;
		kmem_bin_remove(&d[end]);
		end = start + n;
	}
	if (end == kmem_arena.top) {
		kmem_run_mark(start, n, KP_UNUSED, 0);
		kmem_arena.top = start;
		kmem_meta_shrink(start);
		return;
	}
	kmem_run_mark(start, n, KP_FREE, 0);
	kmem_bin_insert(&d[start]);
}

struct kmem_page *kmem_arena_alloc(uint32_t n, uint8_t kind, uint32_t id)
{
	if (n == 0)
		return NULL;
	mm_lock_acquire(&kmem_arena.lock);
	uint32_t start = kmem_take_bin(n);
	if (start == UINT32_MAX)
		start = kmem_take_top(n);
	if (start == UINT32_MAX || kmem_arena.ps->commit(kmem_arena.ps, start, n) != 0) {
		if (start != UINT32_MAX)
			kmem_run_release(start, n);
		mm_lock_release(&kmem_arena.lock);
		return NULL;
	}
	kmem_run_mark(start, n, kind, id);
	kmem_arena.committed += n;
	if (kind == KP_SLAB) {
		kmem_arena.slab_pages += n;
	} else {
		kmem_arena.large_pages += n;
		kmem_arena.large_blocks++;
	}
	mm_lock_release(&kmem_arena.lock);
	return &kmem_arena.desc[start];
}

void kmem_arena_free(struct kmem_page *head)
{
	mm_lock_acquire(&kmem_arena.lock);
	uint32_t start = kmem_page_index(head), n = head->npages;
	MM_ASSERT(head->kind == KP_SLAB || head->kind == KP_LARGE);
	if (head->kind == KP_SLAB) {
		kmem_arena.slab_pages -= n;
	} else {
		kmem_arena.large_pages -= n;
		kmem_arena.large_blocks--;
	}
	int err = kmem_arena.ps->decommit(kmem_arena.ps, start, n);
	if (err)
		mm_panic("kmem_arena_free: decommit of pages %u+%u failed: %s", start, n,
		         mm_strerror(err));
	kmem_arena.committed -= n;
	kmem_run_mark(start, n, KP_FREE, 0);
	kmem_run_release(start, n);
	mm_lock_release(&kmem_arena.lock);
}

int kmem_arena_init(struct kmem_page_source *ps)
{
	if (!ps || !ps->base || !ps->commit || !ps->decommit ||
	    !IS_ALIGNED((uintptr_t)ps->base, PAGE_SIZE))
		return -MM_EINVAL;
	if (ps->npages < 64)
		return -MM_EINVAL;
	uint32_t pm = kmem_meta_need(ps->npages, sizeof(uint32_t));
	uint32_t meta = pm + kmem_meta_need(ps->npages, sizeof(struct kmem_page));
	if (meta + 16 > ps->npages)
		return -MM_EINVAL;
	mm_memset(&kmem_arena, 0, sizeof(kmem_arena));
	kmem_arena.ps = ps;
	kmem_arena.base = (uintptr_t)ps->base;
	kmem_arena.pagemap = (uint32_t *)ps->base;
	kmem_arena.desc = (struct kmem_page *)((char *)ps->base + ((uintptr_t)pm << PAGE_SHIFT));
	kmem_arena.npages = ps->npages;
	kmem_arena.pm_max = pm;
	kmem_arena.meta_max = meta;
	int err = kmem_meta_grow(meta);
	if (err)
		return err;
	kmem_run_mark(0, meta, KP_META, 0);
	kmem_arena.top = meta;
	return 0;
}

/* Give every remaining run and the descriptor pages back (host tests). */
void kmem_arena_fini(void)
{
	struct kmem_page *d = kmem_arena.desc;
	for (uint32_t i = kmem_arena.meta_max; i < kmem_arena.top;) {
		uint32_t end = kmem_run_end(i);
		if (d[i].head == i && (d[i].kind == KP_SLAB || d[i].kind == KP_LARGE))
			kmem_arena_free(&d[i]);
		i = end;
	}
	if (kmem_arena.pm_committed)
		kmem_arena.ps->decommit(kmem_arena.ps, 0, kmem_arena.pm_committed);
	if (kmem_arena.desc_committed)
		kmem_arena.ps->decommit(kmem_arena.ps, kmem_arena.pm_max, kmem_arena.desc_committed);
	mm_memset(&kmem_arena, 0, sizeof(kmem_arena));
}

/* ---- checker --------------------------------------------------------------- */

static uint32_t kmem_check_fail(bool verbose, const char *what, uint32_t idx)
{
	if (verbose)
		mm_printf("kmem_arena_check: page %u: %s\n", idx, what);
	return 1;
}

/* Check the run starting at i; *next gets the index after it. */
static uint32_t kmem_check_run(uint32_t i, uint32_t *next, uint32_t *free_runs,
                               uint32_t *live_pages, bool verbose)
{
	const struct kmem_page *d = kmem_arena.desc;
	uint32_t n = d[i].npages, bad = 0;
	if (d[i].head != i || n == 0 || n > kmem_arena.top - i) {
		*next = i + 1;
		return kmem_check_fail(verbose, "not a run head", i);
	}
	uint32_t id = d[i].kind == KP_SLAB && d[i].cache ? d[i].cache->id : 0;
	for (uint32_t j = i; j < i + n; j++) {
		if (d[j].head != i || d[j].kind != d[i].kind)
			bad += kmem_check_fail(verbose, "page of run names another head/kind", j);
		if (kmem_arena.pagemap[j] != KMEM_PM(d[i].kind, j - i, id))
			bad += kmem_check_fail(verbose, "pagemap entry disagrees with the descriptors", j);
	}
	if (d[i].kind == KP_FREE) {
		++*free_runs;
		if (d[i + n - 1].npages != n || d[i].list != KL_BIN)
			bad += kmem_check_fail(verbose, "free run tail/bin", i);
		if (i + n == kmem_arena.top || (i + n < kmem_arena.top && d[i + n].kind == KP_FREE))
			bad += kmem_check_fail(verbose, "free run not coalesced", i);
	} else if (d[i].kind == KP_SLAB || d[i].kind == KP_LARGE) {
		*live_pages += n;
	} else {
		bad += kmem_check_fail(verbose, "unknown kind below top", i);
	}
	*next = i + n;
	return bad;
}

static uint32_t kmem_check_bins(uint32_t free_runs, bool verbose)
{
	uint32_t bad = 0, seen = 0;
	for (uint32_t b = 1; b < KMEM_BINS; b++) {
		for (const struct kmem_page *pg = kmem_arena.bins[b]; pg; pg = pg->next) {
			if (++seen > free_runs)
				return bad + kmem_check_fail(verbose, "bins hold more runs than exist", 0);
			if (pg->kind != KP_FREE || kmem_bin_of(pg->npages) != b)
				bad += kmem_check_fail(verbose, "run in wrong bin", kmem_page_index(pg));
		}
	}
	if (seen != free_runs)
		bad += kmem_check_fail(verbose, "free runs missing from bins", 0);
	return bad;
}

uint32_t kmem_arena_check(bool verbose)
{
	if (!kmem_arena.desc)
		return 0;
	mm_lock_acquire(&kmem_arena.lock);
	uint32_t bad = 0, free_runs = 0, live = 0, i = kmem_arena.meta_max;
	while (i < kmem_arena.top)
		bad += kmem_check_run(i, &i, &free_runs, &live, verbose);
	bad += kmem_check_bins(free_runs, verbose);
	if (live != kmem_arena.slab_pages + kmem_arena.large_pages)
		bad += kmem_check_fail(verbose, "slab+large page count", live);
	if (kmem_arena.pm_committed < kmem_meta_need(kmem_arena.top, sizeof(uint32_t)) ||
	    kmem_arena.desc_committed < kmem_meta_need(kmem_arena.top, sizeof(struct kmem_page)))
		bad += kmem_check_fail(verbose, "metadata not committed up to top", kmem_arena.top);
	if (kmem_arena.committed != live + kmem_arena.meta_committed)
		bad += kmem_check_fail(verbose, "committed page count", kmem_arena.committed);
	mm_lock_release(&kmem_arena.lock);
	return bad;
}
