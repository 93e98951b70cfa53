/*
 * Region virtual memory manager: the kernel's virtual space in regions whose
 * pages are committed on first touch.
 *
 * Address space (kernel stage; the host simulator has the same shape):
 *
 *   0xC0000000  kernel image            adopted region "kernel" (below the arena)
 *   va_lo       ------------------------  arena start (end of kernel image)
 *               boot info, PMM metadata  adopted regions (loader mappings)
 *               framebuffer              region_create_phys / adopted, PSE pages
 *               created regions          [guard][pages ...][guard]
 *               ...free...
 *   va_hi-16M   region-meta             this layer's own descriptors and maps
 *   va_hi       ------------------------  arena end (<= 0xFFC00000)
 *   0xFFC00000  page tables (recursive slot), PD at 0xFFFFF000
 *
 * Data structures:
 *   - struct region: a span [span_lo, span_lo + span_pages) with optional
 *     guard pages at both ends and a 2-bit state per page (map: 16 pages per
 *     32-bit word; spans up to 64 pages keep it inline in the descriptor).
 *   - a red-black range tree of all regions keyed by address (lookup and the
 *     fault path: O(log n)); created regions also own a segment of the vmem
 *     arena (mm/vmem.c: O(1) fit -- exact lists up to 64 pages, capped
 *     fallback above -- and coalescing free).
 *   - the pool: descriptors, arena segments and large page maps need memory
 *     before any heap exists. They are carved from region-meta, a region this
 *     layer creates for itself at the top of the arena; a bump pointer commits
 *     its pages explicitly as it advances (never by fault), and freed objects
 *     go to power-of-two size-class free lists (32 B .. 256 KiB), poisoned
 *     with 0x6b. The pool never shrinks.
 *
 * Page states: UNALLOC (hole of an adopted region) / RESERVED / COMMITTED /
 * GUARD. Invariants (region_check):
 *   - regions never overlap; a created region's segment matches its span;
 *   - COMMITTED <=> mapped, for every page of every region;
 *   - committed/reserved counters equal the map; owned committed pages
 *     across regions equal rs.committed_owned, so
 *     PMM frames in use = committed_owned + arch_page_tables() (+ baseline).
 *
 * Fault path (region_fault): tree lookup -> page state -> RESERVED: frame
 * from the PMM, arch_map, arch_zero_page, state COMMITTED, return 0 (the CPU
 * retries the access). Anything else is an error value; the caller prints
 * region_fault_report() (address, access, region, cause) and stops. A
 * REGION_NOLAZY region (region-meta, the slab heap) is never committed by
 * fault: its reserved pages are ones its owner has not committed or has
 * given back, so a touch is a stray access (-MM_ENOTALLOC), not a demand.
 * A write fault on a COMMITTED page is retried (stale TLB) only if the live
 * mapping is writable: a region registered writable may hold pages the
 * loader mapped read-only, and retrying such a write would loop forever.
 * Out of frames, the low-memory hook (region_set_reclaim: kmem_reap) runs
 * once with the lock dropped before -MM_ENOMEM is returned.
 *
 * Frames and page tables are returned in one place: release_pages().
 * Locking: one lock; public functions take it, static ones assume it held.
 */
#include <mmboot/region.h>
#include <mmboot/vmem.h>
#include <mmboot/paging.h>
#include <mmboot/pmm.h>
#include <mmboot/errno.h>
#include <mmboot/mm_env.h>

#define REGION_MAGIC      0x52474e31u  /* "RGN1" */
#define REGION_POISON     0x6bu        /* freed pool objects */
#define INLINE_MAP_PAGES  64u          /* spans up to this keep the map inline */
#define META_MAX_PAGES    16384u       /* region-meta: at most 64 MiB of va */
#define POOL_MIN_SHIFT    5u           /* 32-byte objects */
#define POOL_MAX_SHIFT    18u          /* 256 KiB objects (maps of 1M pages) */
#define POOL_CLASSES      (POOL_MAX_SHIFT + 1u)
#define REGION_MAX_PAGES  (1u << 20)   /* 4 GiB: map fits the largest class */
#define CREATE_FLAGS      (REGION_WRITE | REGION_GUARD | REGION_COMMIT | REGION_NOCACHE | REGION_WTHRU | \
                           REGION_NOLAZY)

struct region {
	struct vmem_rb node;          /* range tree node: lo = span start, pages = span pages */
	struct vmem_seg *seg;         /* arena segment, NULL when outside the arena */
	uint32_t magic;               /* REGION_MAGIC while live */
	uint32_t flags;               /* REGION_* */
	uint32_t committed;           /* pages in state COMMITTED */
	uint32_t reserved;            /* pages in state RESERVED */
	uint32_t *map;                /* 2-bit page states, 16 per word */
	uint32_t map_cap;             /* pages the map can hold */
	uint32_t inline_map[INLINE_MAP_PAGES / 16]; /* map storage for small spans */
	char name[REGION_NAME_MAX];   /* NUL-terminated copy */
};

struct pool {
	vaddr_t top;                  /* bump pointer (va) */
	vaddr_t end;                  /* end of region-meta (va) */
	vaddr_t committed_end;        /* pages below this are committed */
	void *free[POOL_CLASSES];     /* free objects per class (link in first word) */
	uint32_t nfree[POOL_CLASSES]; /* objects on each free list */
	uint32_t bytes;               /* bytes handed out and not freed */
};

static struct {
	struct mm_lock lock;          /* protects everything below */
	struct pmm *pmm;              /* frames for lazy commit */
	struct vmem arena;            /* [va_lo, va_hi) */
	struct vmem_tree tree;        /* all regions by address */
	struct pool pool;             /* region-meta allocator */
	struct region meta;           /* region-meta's descriptor (static) */
	uint32_t meta_map[META_MAX_PAGES / 16]; /* region-meta's page map */
	uint32_t committed_owned;     /* committed pages with PMM frames */
	uint32_t committed_fixed;     /* committed pages of adopted/phys regions */
	uint32_t reserved;            /* reserved pages */
	uint32_t faults, faults_refused; /* region_fault outcomes */
	uint32_t (*reclaim)(void);    /* low-memory hook (kmem_reap), or NULL */
	bool reclaiming;              /* the hook is running: no nested call */
	uint32_t reclaims;            /* hook calls made */
	uint16_t slot_cnt[1024];      /* region_check: committed pages per 4 MiB slot */
	bool ready;                   /* region_init succeeded */
} rs;

/* ---- page map ---- */

static inline uint32_t map_get(const struct region *r, uint32_t i)
{
	return (r->map[i >> 4] >> ((i & 15u) * 2u)) & 3u;
}

static inline void map_set(struct region *r, uint32_t i, uint32_t st)
{
	uint32_t sh = (i & 15u) * 2u;
	r->map[i >> 4] = (r->map[i >> 4] & ~(3u << sh)) | (st << sh);
}

/* Bits of word w whose 2-bit entry is COMMITTED (binary 10): high bit set,
 * low bit clear; the result has the entry's high bit set. */
static inline uint32_t committed_bits(uint32_t w)
{
	return w & 0xaaaaaaaau & ~((w & 0x55555555u) << 1);
}

/* Guard pages at each end: 0 or 1. */
static inline uint32_t rguard(const struct region *r)
{
	return (r->flags & REGION_GUARD) ? 1u : 0u;
}

static inline vaddr_t span_end(const struct region *r)
{
	return r->node.lo + r->node.pages * PAGE_SIZE;
}

static inline vaddr_t page_va(const struct region *r, uint32_t i)
{
	return r->node.lo + i * PAGE_SIZE;
}

static inline bool owns_frames(const struct region *r)
{
	return !(r->flags & (REGION_FIXED | REGION_PHYS));
}

static uint32_t pg_flags(uint32_t rflags)
{
	uint32_t f = PG_GLOBAL;
	if (rflags & REGION_WRITE)
		f |= PG_WRITE;
	if (rflags & REGION_NOCACHE)
		f |= PG_NOCACHE;
	if (rflags & REGION_WTHRU)
		f |= PG_WTHRU;
	return f;
}

static inline uint32_t bytes_to_pages(uint32_t size)
{
	return (uint32_t)(((uint64_t)size + PAGE_MASK) >> PAGE_SHIFT);
}

static inline uint32_t ceil_log2(uint32_t x)
{
	return x <= 1 ? 0 : 32u - (uint32_t)__builtin_clz(x - 1);
}

/* ---- committing and releasing pages (the one place frames move) ---- */

/* A fresh zeroed frame mapped at page i (state and counters untouched). */
static int map_fresh(struct region *r, uint32_t i)
{
	vaddr_t va = page_va(r, i);
	paddr_t pa = pmm_alloc(rs.pmm, 0, 0);
	if (pa == PADDR_NONE)
		return -MM_ENOMEM;
	int rc = arch_map(va, pa, pg_flags(r->flags));
	if (rc) {
		if (pmm_free(rs.pmm, pa, 0))
			mm_panic("region: map_fresh: frame 0x%llx not freeable", (unsigned long long)pa);
		return rc;
	}
	arch_zero_page(va);
	return 0;
}

static void account_commit(struct region *r, uint32_t i)
{
	map_set(r, i, REGION_PAGE_COMMITTED);
	r->reserved--;
	r->committed++;
	rs.reserved--;
	rs.committed_owned++;
}

static int commit_page(struct region *r, uint32_t i)
{
	int rc = map_fresh(r, i);
	if (!rc)
		account_commit(r, i);
	return rc;
}

/* Undo a mapping made by map_fresh (frame back to the PMM). */
static void unmap_fresh(struct region *r, uint32_t i)
{
	paddr_t pa;
	if (arch_unmap(page_va(r, i), &pa) || pmm_free(rs.pmm, pa, 0))
		mm_panic("region: '%s' cannot undo the commit of page %u", r->name, i);
}

/* Commit the reserved pages of [from, to), all or nothing. Pages being
 * committed are marked PENDING (the guard encoding, which never occurs in a
 * usable range) so a failure knows exactly which ones to undo. */
#define REGION_PAGE_PENDING REGION_PAGE_GUARD
static int commit_locked(struct region *r, uint32_t from, uint32_t to)
{
	uint32_t i, k = to;
	int rc = 0;
	for (i = from; i < to; i++)
		if (map_get(r, i) == REGION_PAGE_RESERVED)
			map_set(r, i, REGION_PAGE_PENDING);
	for (i = from; i < to && !rc; i++)
		if (map_get(r, i) == REGION_PAGE_PENDING && (rc = map_fresh(r, i)))
			k = i;
	for (i = from; i < to; i++) {
		if (map_get(r, i) != REGION_PAGE_PENDING)
			continue;
		if (rc && i < k)
			unmap_fresh(r, i);
		if (rc)
			map_set(r, i, REGION_PAGE_RESERVED);
		else
			account_commit(r, i);
	}
	return rc;
}

/* Unmap the committed page i (or the 4 MiB page it starts); returns the
 * number of map entries it covered. Owned frames go back to the PMM. */
static uint32_t release_one(struct region *r, uint32_t i, uint32_t new_state)
{
	uint32_t fl = 0, n = 1;
	paddr_t pa;
	vaddr_t va = page_va(r, i);
	if (arch_translate(va, &fl) == PADDR_NONE || arch_unmap(va, &pa))
		mm_panic("region: '%s' page 0x%x committed but not mapped", r->name, va);
	if (fl & PG_LARGE)
		n = (LARGE_PAGE_SIZE - (va & (LARGE_PAGE_SIZE - 1))) >> PAGE_SHIFT;
	if (n > r->node.pages - i)
		mm_panic("region: '%s' large page at 0x%x runs past the span", r->name, va);
	if (owns_frames(r) && pmm_free(rs.pmm, pa, 0))
		mm_panic("region: '%s' frame 0x%llx of 0x%x not freeable", r->name,
		         (unsigned long long)pa, va);
	for (uint32_t k = i; k < i + n; k++) {
		if (map_get(r, k) != REGION_PAGE_COMMITTED)
			mm_panic("region: '%s' large page covers a non-committed page", r->name);
		map_set(r, k, new_state);
	}
	r->committed -= n;
	if (owns_frames(r))
		rs.committed_owned -= n;
	else
		rs.committed_fixed -= n;
	if (new_state == REGION_PAGE_RESERVED) {
		r->reserved += n;
		rs.reserved += n;
	}
	return n;
}

/* Release every committed page in [from, to): skips whole map words that
 * hold no committed entry, so sparse regions cost little. */
static void release_pages(struct region *r, uint32_t from, uint32_t to, uint32_t new_state)
{
	uint32_t i = from;
	while (i < to) {
		if ((i & 15u) == 0 && to - i >= 16 && !committed_bits(r->map[i >> 4])) {
			i += 16;
			continue;
		}
		if (map_get(r, i) == REGION_PAGE_COMMITTED)
			i += release_one(r, i, new_state);
		else
			i++;
	}
}

/* ---- the pool (descriptors, segments, large maps) in region-meta ---- */

static int pool_grow_to(vaddr_t end)
{
	struct pool *p = &rs.pool;
	while (p->committed_end < end) {
		uint32_t i = (p->committed_end - rs.meta.node.lo) >> PAGE_SHIFT;
		int rc = commit_page(&rs.meta, i);
		if (rc)
			return rc;
		p->committed_end += PAGE_SIZE;
	}
	return 0;
}

static void *pool_alloc(uint32_t size)
{
	struct pool *p = &rs.pool;
	uint32_t k = ceil_log2(size);
	if (k < POOL_MIN_SHIFT)
		k = POOL_MIN_SHIFT;
	if (k > POOL_MAX_SHIFT)
		return NULL;
	uint32_t sz = 1u << k;
	void *obj = p->free[k];
	if (obj) {
		p->free[k] = *(void **)obj;
		p->nfree[k]--;
	} else {
		vaddr_t va = ALIGN_UP(p->top, sz < PAGE_SIZE ? 16u : PAGE_SIZE);
		if (va < p->top || (uint64_t)va + sz > p->end || pool_grow_to(va + sz))
			return NULL;
		p->top = va + sz;
		obj = arch_va_ptr(va);
	}
	p->bytes += sz;
	return obj;
}

static void pool_free(void *obj, uint32_t size)
{
	struct pool *p = &rs.pool;
	uint32_t k = ceil_log2(size);
	if (k < POOL_MIN_SHIFT)
		k = POOL_MIN_SHIFT;
	mm_memset(obj, REGION_POISON, (size_t)1 << k);
	*(void **)obj = p->free[k];
	p->free[k] = obj;
	p->nfree[k]++;
	p->bytes -= 1u << k;
}

/* Free objects must still hold their poison (use after free check). */
static uint32_t pool_check(bool verbose)
{
	uint32_t bad = 0;
	for (uint32_t k = POOL_MIN_SHIFT; k < POOL_CLASSES; k++) {
		uint32_t n = 0;
		for (void *o = rs.pool.free[k]; o; o = *(void **)o, n++) {
			const uint8_t *b = o;
			if (n > rs.pool.nfree[k])
				return bad + 1;
			for (uint32_t j = sizeof(void *); j < (1u << k) && j < 64; j++)
				if (b[j] != REGION_POISON) {
					if (verbose)
						mm_printf("region: pool object %p (class %u) written after free\n", o, k);
					bad++;
					break;
				}
		}
		bad += n != rs.pool.nfree[k];
	}
	return bad;
}

static struct vmem_seg *seg_get(void *ctx)
{
	(void)ctx;
	return pool_alloc(sizeof(struct vmem_seg));
}

static void seg_put(void *ctx, struct vmem_seg *s)
{
	(void)ctx;
	pool_free(s, sizeof(*s));
}

/* ---- descriptors and maps ---- */

static int map_alloc(struct region *r, uint32_t pages)
{
	if (pages <= INLINE_MAP_PAGES) {
		r->map = r->inline_map;
		r->map_cap = INLINE_MAP_PAGES;
		return 0;
	}
	uint32_t bytes = ((pages + 15u) / 16u) * 4u;
	r->map = pool_alloc(bytes);
	if (!r->map)
		return -MM_ENOMEM;
	r->map_cap = (1u << (ceil_log2(bytes) < POOL_MIN_SHIFT ? POOL_MIN_SHIFT : ceil_log2(bytes))) * 4u;
	return 0;
}

static void map_release(struct region *r)
{
	if (r->map && r->map != r->inline_map && r->map != rs.meta_map)
		pool_free(r->map, r->map_cap / 4u);
	r->map = NULL;
}

/* Fill map entries [from, to) with st and count them. */
static void map_fill(struct region *r, uint32_t from, uint32_t to, uint32_t st)
{
	for (uint32_t i = from; i < to; i++)
		map_set(r, i, st);
}

static void name_copy(char *dst, const char *src)
{
	uint32_t i = 0;
	for (; src && src[i] && i < REGION_NAME_MAX - 1; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

/* A descriptor for span [lo, lo + pages) with a map of pages entries, all UNALLOC. */
static struct region *desc_new(vaddr_t lo, uint32_t pages, uint32_t flags, const char *name)
{
	struct region *r = pool_alloc(sizeof(*r));
	if (!r)
		return NULL;
	mm_memset(r, 0, sizeof(*r));
	if (map_alloc(r, pages)) {
		pool_free(r, sizeof(*r));
		return NULL;
	}
	mm_memset(r->map, 0, r->map_cap / 4u);     /* entries beyond the span stay UNALLOC */
	r->node.lo = lo;
	r->node.pages = pages;
	r->flags = flags;
	r->magic = REGION_MAGIC;
	name_copy(r->name, name);
	return r;
}

static void desc_free(struct region *r)
{
	map_release(r);
	r->magic = 0;
	pool_free(r, sizeof(*r));
}

static bool region_valid(const struct region *r)
{
	return r && r->magic == REGION_MAGIC;
}

/* ---- init ---- */

/* region-meta at the top of the arena: static descriptor and map. */
static int meta_setup(vaddr_t va_lo, vaddr_t va_hi)
{
	uint32_t pages = (va_hi - va_lo) >> PAGE_SHIFT;
	pages = pages / 4u < META_MAX_PAGES ? pages / 4u : META_MAX_PAGES;
	if (pages < 16)
		return -MM_EINVAL;
	struct region *m = &rs.meta;
	m->node.lo = va_hi - pages * PAGE_SIZE;
	m->node.pages = pages;
	m->flags = REGION_WRITE | REGION_NOLAZY;   /* the pool commits explicitly, never by fault */
	m->magic = REGION_MAGIC;
	m->map = rs.meta_map;
	m->map_cap = META_MAX_PAGES;
	m->reserved = pages;
	rs.reserved = pages;
	name_copy(m->name, "region-meta");
	map_fill(m, 0, pages, REGION_PAGE_RESERVED);
	for (uint32_t i = 0; i < pages; i++)
		if (arch_slot_used(page_va(m, i)) && arch_translate(page_va(m, i), NULL) != PADDR_NONE)
			return -MM_EEXIST;
	rs.pool.top = rs.pool.committed_end = m->node.lo;
	rs.pool.end = va_hi;
	return 0;
}

int region_init(struct pmm *pmm, vaddr_t va_lo, vaddr_t va_hi)
{
	if (!pmm || !IS_ALIGNED(va_lo, PAGE_SIZE) || !IS_ALIGNED(va_hi, PAGE_SIZE) ||
	    va_hi <= va_lo || va_hi > PAGING_VA_LIMIT || va_lo == 0)
		return -MM_EINVAL;
	mm_memset(&rs, 0, sizeof(rs));
	rs.pmm = pmm;
	int rc = meta_setup(va_lo, va_hi);
	if (!rc)
		rc = vmem_init(&rs.arena, va_lo, va_hi, seg_get, seg_put, NULL);
	if (!rc) {
		rs.meta.seg = vmem_alloc_at(&rs.arena, rs.meta.node.lo, rs.meta.node.pages);
		rc = rs.meta.seg ? vmem_tree_insert(&rs.tree, &rs.meta.node) : -MM_ENOMEM;
	}
	rs.ready = (rc == 0);
	return rc;
}

/* ---- create / destroy ---- */

static struct region *create_locked(uint32_t pages, uint32_t flags, const char *name)
{
	uint32_t guard = (flags & REGION_GUARD) ? 1u : 0u;
	uint32_t span = pages + 2u * guard;
	struct vmem_seg *seg = vmem_alloc(&rs.arena, span, 1);
	if (!seg)
		return NULL;
	struct region *r = desc_new(seg->base, span, flags, name);
	if (!r) {
		vmem_free(&rs.arena, seg);
		return NULL;
	}
	r->seg = seg;
	map_fill(r, guard, span - guard, REGION_PAGE_RESERVED);
	if (guard) {
		map_set(r, 0, REGION_PAGE_GUARD);
		map_set(r, span - 1, REGION_PAGE_GUARD);
	}
	r->reserved = pages;
	rs.reserved += pages;
	if (vmem_tree_insert(&rs.tree, &r->node))
		mm_panic("region: arena handed out 0x%x which a region covers", seg->base);
	return r;
}

static void destroy_locked(struct region *r)
{
	release_pages(r, 0, r->node.pages, REGION_PAGE_UNALLOC);
	rs.reserved -= r->reserved;
	vmem_tree_remove(&rs.tree, &r->node);
	if (r->seg)
		vmem_free(&rs.arena, r->seg);
	desc_free(r);
}

struct region *region_create(uint32_t size, uint32_t flags, const char *name)
{
	uint32_t pages = bytes_to_pages(size);
	if (!rs.ready || pages == 0 || pages > REGION_MAX_PAGES || (flags & ~CREATE_FLAGS))
		return NULL;
	mm_lock_acquire(&rs.lock);
	struct region *r = create_locked(pages, flags, name);
	if (r && (flags & REGION_COMMIT) && commit_locked(r, rguard(r), r->node.pages - rguard(r))) {
		destroy_locked(r);
		r = NULL;
	}
	mm_lock_release(&rs.lock);
	return r;
}

int region_destroy(struct region *r)
{
	if (!region_valid(r))
		return -MM_EINVAL;
	if (r == &rs.meta || (r->flags & REGION_FIXED))
		return -MM_EBUSY;
	mm_lock_acquire(&rs.lock);
	destroy_locked(r);
	mm_lock_release(&rs.lock);
	return 0;
}

/* ---- grow ---- */

/* Make the map hold pages entries (copying the old states). */
static int map_reserve(struct region *r, uint32_t pages)
{
	if (pages <= r->map_cap)
		return 0;
	struct region tmp;
	if (map_alloc(&tmp, pages))
		return -MM_ENOMEM;
	uint32_t old_words = (r->node.pages + 15u) / 16u, new_words = tmp.map_cap / 16u;
	uint32_t *nm = tmp.map;               /* pages > INLINE_MAP_PAGES: a pool map */
	mm_memcpy(nm, r->map, old_words * 4u);
	mm_memset(nm + old_words, 0, (new_words - old_words) * 4u);
	map_release(r);
	r->map = nm;
	r->map_cap = tmp.map_cap;
	return 0;
}

static int grow_locked(struct region *r, uint32_t pages)
{
	uint32_t old_usable = r->node.pages - 2u * rguard(r);
	uint32_t extra = pages - old_usable, old_span = r->node.pages;
	uint32_t new_span = old_span + extra;
	if (map_reserve(r, new_span) || vmem_extend(&rs.arena, r->seg, extra))
		return -MM_ENOMEM;
	r->node.pages = new_span;          /* the tree key (lo) is unchanged */
	map_fill(r, old_span - rguard(r), new_span - rguard(r), REGION_PAGE_RESERVED);
	if (rguard(r))
		map_set(r, new_span - 1, REGION_PAGE_GUARD);
	r->reserved += extra;
	rs.reserved += extra;
	if (r->flags & REGION_COMMIT)
		return commit_locked(r, old_span - rguard(r), new_span - rguard(r));
	return 0;
}

int region_grow(struct region *r, uint32_t new_size)
{
	if (!region_valid(r))
		return -MM_EINVAL;
	uint32_t pages = bytes_to_pages(new_size);
	uint32_t usable = r->node.pages - 2u * rguard(r);
	if (pages == usable)
		return 0;
	if (pages < usable || pages > REGION_MAX_PAGES || !r->seg || !owns_frames(r) || r == &rs.meta)
		return -MM_EINVAL;
	mm_lock_acquire(&rs.lock);
	int rc = grow_locked(r, pages);
	mm_lock_release(&rs.lock);
	return rc;
}

/* ---- commit / decommit ---- */

/* Map indices of [va, va + npages) if inside the usable pages of r. */
static int usable_range(const struct region *r, vaddr_t va, uint32_t npages,
                        uint32_t *from, uint32_t *to)
{
	if (!IS_ALIGNED(va, PAGE_SIZE))
		return -MM_EALIGN;
	uint64_t lo = (uint64_t)r->node.lo + (uint64_t)rguard(r) * PAGE_SIZE;
	uint64_t hi = (uint64_t)span_end(r) - (uint64_t)rguard(r) * PAGE_SIZE;
	uint64_t end = (uint64_t)va + (uint64_t)npages * PAGE_SIZE;
	if (va < lo || end > hi || npages == 0)
		return -MM_ERANGE;
	*from = (va - r->node.lo) >> PAGE_SHIFT;
	*to = *from + npages;
	return 0;
}

/* Out of frames: run the low-memory hook (the slab heap's kmem_reap gives
 * its empty-slab reserve back through region_decommit) with the lock
 * dropped, then take it again. Called with rs.lock held; true if the hook
 * freed something (the caller retries once, looking everything up again).
 * Never for REGION_NOLAZY regions: their owner (the heap) commits under its
 * own locks and reaps by itself, and calling it back there would deadlock. */
static bool reclaim_relocked(void)
{
	uint32_t (*fn)(void) = rs.reclaim;
	if (!fn || rs.reclaiming)
		return false;
	rs.reclaiming = true;
	rs.reclaims++;
	mm_lock_release(&rs.lock);
	uint32_t pages = fn();
	mm_lock_acquire(&rs.lock);
	rs.reclaiming = false;
	return pages != 0;
}

void region_set_reclaim(uint32_t (*fn)(void))
{
	mm_lock_acquire(&rs.lock);
	rs.reclaim = fn;
	mm_lock_release(&rs.lock);
}

/* The checks region_commit and region_decommit share: a live region whose
 * frames it owns (not adopted, not the layer's own metadata), and a page
 * range inside it. */
static int frames_range(struct region *r, vaddr_t va, uint32_t npages, uint32_t *from,
                        uint32_t *to)
{
	if (!region_valid(r))
		return -MM_EINVAL;
	if (!owns_frames(r) || r == &rs.meta)
		return -MM_EBUSY;
	return usable_range(r, va, npages, from, to);
}

int region_commit(struct region *r, vaddr_t va, uint32_t npages)
{
	uint32_t from, to;
	int rc = frames_range(r, va, npages, &from, &to);
	if (rc)
		return rc;
	mm_lock_acquire(&rs.lock);
	rc = commit_locked(r, from, to);
	if (rc == -MM_ENOMEM && !(r->flags & REGION_NOLAZY) && reclaim_relocked() && region_valid(r))
		rc = commit_locked(r, from, to);
	mm_lock_release(&rs.lock);
	return rc;
}

int region_decommit(struct region *r, vaddr_t va, uint32_t npages)
{
	uint32_t from, to;
	int rc = frames_range(r, va, npages, &from, &to);
	if (rc)
		return rc;
	mm_lock_acquire(&rs.lock);
	release_pages(r, from, to, REGION_PAGE_RESERVED);
	mm_lock_release(&rs.lock);
	return 0;
}

/* ---- lookup and accessors ---- */

static inline struct region *find_locked(vaddr_t va)
{
	return (struct region *)vmem_tree_find(&rs.tree, va);   /* node is the first member */
}

struct region *region_lookup(vaddr_t va)
{
	if (!rs.ready)
		return NULL;
	mm_lock_acquire(&rs.lock);
	struct region *r = find_locked(va);
	mm_lock_release(&rs.lock);
	return r;
}

vaddr_t region_base(const struct region *r) { return r->node.lo + rguard(r) * PAGE_SIZE; }
uint32_t region_size(const struct region *r) { return (r->node.pages - 2u * rguard(r)) * PAGE_SIZE; }
const char *region_name(const struct region *r) { return r->name; }
uint32_t region_flags(const struct region *r) { return r->flags; }

enum region_page_state region_page_state(vaddr_t va)
{
	if (!rs.ready)
		return REGION_PAGE_UNALLOC;
	mm_lock_acquire(&rs.lock);
	struct region *r = find_locked(va);
	uint32_t st = r ? map_get(r, (va - r->node.lo) >> PAGE_SHIFT) : REGION_PAGE_UNALLOC;
	mm_lock_release(&rs.lock);
	return (enum region_page_state)st;
}

const char *region_page_state_name(enum region_page_state st)
{
	static const char *const names[] = { "unallocated", "reserved", "committed", "guard" };
	return (unsigned)st < 4u ? names[st] : "?";
}

int region_get_info(const struct region *r, struct region_info *info)
{
	if (!region_valid(r))
		return -MM_EINVAL;
	mm_memset(info, 0, sizeof(*info));
	info->base = region_base(r);
	info->pages = r->node.pages - 2u * rguard(r);
	info->span_lo = r->node.lo;
	info->span_pages = r->node.pages;
	info->committed = r->committed;
	info->reserved = r->reserved;
	info->guard = r->node.pages - r->committed - r->reserved;
	info->flags = r->flags;
	name_copy(info->name, r->name);
	return 0;
}

void region_get_stats(struct region_stats *st)
{
	mm_memset(st, 0, sizeof(*st));
	if (!rs.ready)
		return;
	mm_lock_acquire(&rs.lock);
	st->regions = rs.tree.count;
	st->committed_owned = rs.committed_owned;
	st->committed_fixed = rs.committed_fixed;
	st->reserved = rs.reserved;
	st->arena_pages = (rs.arena.hi - rs.arena.lo) >> PAGE_SHIFT;
	st->arena_free = rs.arena.free_pages;
	st->free_segments = rs.arena.nfree;
	st->meta_bytes = rs.pool.bytes;
	st->meta_committed = rs.meta.committed;
	st->faults = rs.faults;
	st->faults_refused = rs.faults_refused;
	st->reclaims = rs.reclaims;
	mm_lock_release(&rs.lock);
}

void region_foreach(void (*fn)(const struct region *r, void *arg), void *arg)
{
	if (!rs.ready)
		return;
	for (struct vmem_rb *n = vmem_tree_first(&rs.tree); n; n = vmem_tree_next(n))
		fn((const struct region *)n, arg);
}

/* ---- adopting existing mappings, mapping physical ranges ---- */

/* Reserve [va, va + pages) for a region that is not created by the arena:
 * inside the arena it takes the segment, outside it only needs the tree. */
static int claim_span(struct region *r)
{
	vaddr_t lo = r->node.lo, hi = span_end(r);
	if (hi > rs.arena.lo && lo < rs.arena.hi) {
		if (lo < rs.arena.lo || hi > rs.arena.hi)
			return -MM_ERANGE;
		r->seg = vmem_alloc_at(&rs.arena, lo, r->node.pages);
		if (!r->seg)
			return -MM_EEXIST;
	}
	if (vmem_tree_insert(&rs.tree, &r->node)) {
		if (r->seg)
			vmem_free(&rs.arena, r->seg);
		return -MM_EEXIST;
	}
	return 0;
}

static struct region *adopt_locked(vaddr_t va, uint32_t pages, uint32_t flags, const char *name)
{
	struct region *r = desc_new(va, pages, flags, name);
	if (!r)
		return NULL;
	if (claim_span(r)) {
		desc_free(r);
		return NULL;
	}
	for (uint32_t i = 0; i < pages; i++) {
		bool mapped = arch_translate(page_va(r, i), NULL) != PADDR_NONE;
		map_set(r, i, mapped ? REGION_PAGE_COMMITTED : REGION_PAGE_GUARD);
		r->committed += mapped;
	}
	rs.committed_fixed += r->committed;
	return r;
}

struct region *region_adopt(vaddr_t va, uint32_t size, uint32_t flags, const char *name)
{
	vaddr_t lo = ALIGN_DOWN(va, PAGE_SIZE);
	uint32_t pages = bytes_to_pages(size + (va - lo));
	if (!rs.ready || pages == 0 || pages > REGION_MAX_PAGES || lo == 0 ||
	    (uint64_t)lo + (uint64_t)pages * PAGE_SIZE > PAGING_VA_LIMIT)
		return NULL;
	mm_lock_acquire(&rs.lock);
	struct region *r = adopt_locked(lo, pages, REGION_FIXED | (flags & CREATE_FLAGS & ~(REGION_COMMIT | REGION_GUARD)), name);
	mm_lock_release(&rs.lock);
	return r;
}

/* Map pages of r from index i on: a 4 MiB page when aligned and long enough. */
static int phys_map_from(struct region *r, paddr_t pa0, uint32_t i, bool large)
{
	vaddr_t va = page_va(r, i);
	paddr_t pa = pa0 + (paddr_t)i * PAGE_SIZE;
	uint32_t fl = pg_flags(r->flags), n = 1;
	int rc = -MM_EINVAL;
	if (large && IS_ALIGNED(va, LARGE_PAGE_SIZE) && IS_ALIGNED(pa, LARGE_PAGE_SIZE) &&
	    r->node.pages - i >= LARGE_PAGE_SIZE / PAGE_SIZE) {
		rc = arch_map_large(va, pa, fl);
		n = LARGE_PAGE_SIZE / PAGE_SIZE;
	}
	if (rc == -MM_EINVAL) {           /* no PSE or not large-capable */
		rc = arch_map(va, pa, fl);
		n = 1;
	}
	if (rc)
		return rc;
	map_fill(r, i, i + n, REGION_PAGE_COMMITTED);
	r->committed += n;
	rs.committed_fixed += n;
	return (int)n;
}

static struct region *phys_locked(paddr_t pa0, uint32_t pages, uint32_t flags, const char *name)
{
	/* a 4 MiB-aligned 4 MiB chunk inside: give the va the same offset within
	 * 4 MiB as pa0, so that chunk (and any further one) is a PSE page */
	const uint32_t lp = LARGE_PAGE_SIZE / PAGE_SIZE;
	paddr_t first_large = (pa0 + LARGE_PAGE_SIZE - 1) & ~(paddr_t)(LARGE_PAGE_SIZE - 1);
	bool large = first_large + LARGE_PAGE_SIZE <= pa0 + (paddr_t)pages * PAGE_SIZE;
	struct vmem_seg *seg = large ? vmem_alloc_phase(&rs.arena, pages, lp, (uint32_t)(pa0 >> PAGE_SHIFT) & (lp - 1u))
	                             : NULL;
	if (!seg) {
		large = false;
		seg = vmem_alloc(&rs.arena, pages, 1);
	}
	if (!seg)
		return NULL;
	struct region *r = desc_new(seg->base, pages, flags, name);
	if (!r) {
		vmem_free(&rs.arena, seg);
		return NULL;
	}
	r->seg = seg;
	if (vmem_tree_insert(&rs.tree, &r->node))
		mm_panic("region: arena handed out 0x%x which a region covers", seg->base);
	for (uint32_t i = 0; i < pages;) {
		int n = phys_map_from(r, pa0, i, large);
		if (n < 0) {
			destroy_locked(r);
			return NULL;
		}
		i += (uint32_t)n;
	}
	return r;
}

struct region *region_create_phys(paddr_t pa, uint32_t size, uint32_t flags, const char *name)
{
	paddr_t pa0 = pa & ~(paddr_t)PAGE_MASK;
	uint32_t pages = bytes_to_pages(size + (uint32_t)(pa - pa0));
	if (!rs.ready || pages == 0 || pages > REGION_MAX_PAGES ||
	    pa0 + (paddr_t)pages * PAGE_SIZE > PADDR_4G || (flags & ~CREATE_FLAGS))
		return NULL;
	mm_lock_acquire(&rs.lock);
	struct region *r = phys_locked(pa0, pages, REGION_PHYS | (flags & ~(REGION_COMMIT | REGION_GUARD)), name);
	mm_lock_release(&rs.lock);
	return r;
}

/* ---- the fault path ---- */

/* A fault on a committed page: a write the mapping forbids (the region may
 * be writable while the loader mapped this page read-only, e.g. kernel
 * .text) is refused -- retrying it would fault forever. Only an access the
 * live mapping allows is a stale TLB entry worth retrying. */
static int fault_committed(const struct region *r, vaddr_t va, uint32_t access)
{
	uint32_t fl = 0;
	if ((access & REGION_FAULT_WRITE) && !(r->flags & REGION_WRITE))
		return -MM_EEXIST;
	if (arch_translate(va, &fl) == PADDR_NONE)
		return -MM_ECORRUPT;
	if ((access & REGION_FAULT_WRITE) && !(fl & PG_WRITE))
		return -MM_EEXIST;
	return 0;
}

static int fault_locked(vaddr_t va, uint32_t access)
{
	struct region *r = find_locked(va);
	if (!r)
		return (va >= rs.arena.lo && va < rs.arena.hi) ? -MM_ENOENT : -MM_ERANGE;
	uint32_t i = (va - r->node.lo) >> PAGE_SHIFT;
	switch (map_get(r, i)) {
	case REGION_PAGE_GUARD:
		return -MM_ERESERVED;
	case REGION_PAGE_UNALLOC:
		return -MM_ENOENT;
	case REGION_PAGE_COMMITTED:
		return fault_committed(r, va, access);
	default:
		if ((access & REGION_FAULT_WRITE) && !(r->flags & REGION_WRITE))
			return -MM_EEXIST;
		if (r->flags & REGION_NOLAZY)
			return -MM_ENOTALLOC;         /* committed only by its owner (region-meta, heap) */
		return commit_page(r, i);
	}
}

int region_fault(vaddr_t va, uint32_t access)
{
	if (!rs.ready)
		return -MM_ERANGE;
	mm_lock_acquire(&rs.lock);
	int rc = fault_locked(ALIGN_DOWN(va, PAGE_SIZE), access);
	if (rc == -MM_ENOMEM && reclaim_relocked())   /* only lazy regions get ENOMEM here */
		rc = fault_locked(ALIGN_DOWN(va, PAGE_SIZE), access);
	if (rc)
		rs.faults_refused++;
	else
		rs.faults++;
	mm_lock_release(&rs.lock);
	return rc;
}

const char *region_fault_cause(int err)
{
	switch (-err) {
	case MM_ERANGE:    return "outside every region and the arena";
	case MM_ENOENT:    return "unallocated page";
	case MM_ERESERVED: return "guard page";
	case MM_ENOTALLOC: return "uncommitted page (the region commits explicitly: use after free?)";
	case MM_EEXIST:    return "write to a read-only page";
	case MM_ENOMEM:    return "out of physical memory";
	case MM_ECORRUPT:  return "committed page not mapped (corrupt)";
	case 0:            return "committed";
	default:           return "refused";
	}
}

void region_fault_report(vaddr_t va, uint32_t access, int err)
{
	const char *acc = (access & REGION_FAULT_WRITE) ? "write" : "read";
	const char *pres = (access & REGION_FAULT_PRESENT) ? "present" : "not present";
	struct region *r = rs.ready ? find_locked(va) : NULL;
	if (err == -MM_ENOMEM && r) {
		mm_printf("region: out of physical memory committing 0x%08x (%s) in region '%s'"
		          " [0x%08x-0x%08x) (PMM free pages %u)\n", va, acc, r->name, r->node.lo,
		          span_end(r), pmm_free_pages(rs.pmm));
		return;
	}
	if (!r) {
		mm_printf("region: page fault at 0x%08x (%s, %s): %s%s\n", va, acc, pres,
		          region_fault_cause(err), err == -MM_ENOENT ? " (free arena space, no region)" : "");
		return;
	}
	mm_printf("region: page fault at 0x%08x (%s, %s): %s of region '%s' [0x%08x-0x%08x)"
	          " page %u state %s\n", va, acc, pres, region_fault_cause(err), r->name, r->node.lo,
	          span_end(r), (va - r->node.lo) >> PAGE_SHIFT,
	          region_page_state_name((enum region_page_state)map_get(r, (va - r->node.lo) >> PAGE_SHIFT)));
}

/* ---- table and checker ---- */

static void dump_one(const struct region *r, void *arg)
{
	char fl[7] = "------";
	if (r->flags & REGION_WRITE) fl[0] = 'w';
	if (rguard(r)) fl[1] = 'g';
	if (r->flags & REGION_FIXED) fl[2] = 'a';
	if (r->flags & REGION_PHYS) fl[3] = 'p';
	if (r->flags & (REGION_NOCACHE | REGION_WTHRU)) fl[4] = 'c';
	if (r->flags & REGION_NOLAZY) fl[5] = 'x';
	mm_printf("  %-20s 0x%08x-0x%08x %s %8u %8u %5u\n", r->name, r->node.lo, span_end(r), fl,
	          r->committed, r->reserved, r->node.pages - r->committed - r->reserved);
	(*(uint32_t *)arg)++;
}

void region_dump(void)
{
	uint32_t n = 0;
	if (!rs.ready) {
		mm_printf("region: not initialised\n");
		return;
	}
	mm_printf("region table: arena 0x%08x-0x%08x, %u free pages in %u spans\n",
	          rs.arena.lo, rs.arena.hi, rs.arena.free_pages, rs.arena.nfree);
	mm_printf("  %-20s %-21s %-6s %8s %8s %5s\n", "name", "range", "flags", "commit", "reserve", "guard");
	region_foreach(dump_one, &n);
	mm_printf("  %u regions, %u pages committed (%u owned), %u reserved, %u page tables\n", n,
	          rs.committed_owned + rs.committed_fixed, rs.committed_owned, rs.reserved,
	          arch_page_tables());
}

/* Committed pages of r: mapped (translate), and counted per 4 MiB slot so
 * that region_check can tell whether a slot holds mappings no region owns. */
static uint32_t check_committed(const struct region *r, uint32_t w, uint32_t bits, bool verbose)
{
	uint32_t bad = 0;
	while (bits) {
		uint32_t i = w * 16u + (uint32_t)__builtin_ctz(bits) / 2u;
		vaddr_t va = page_va(r, i);
		bits &= bits - 1u;
		rs.slot_cnt[va >> 22]++;
		if (arch_translate(va, NULL) == PADDR_NONE) {
			if (verbose && bad < 4)
				mm_printf("region: '%s' page 0x%x is committed but not mapped\n", r->name, va);
			bad++;
		}
	}
	return bad;
}

/* Count the states of r's map word by word; committed pages must be mapped. */
static uint32_t check_region(const struct region *r, uint32_t *owned, bool verbose)
{
	uint32_t bad = 0, res = 0, com = 0, grd = 0, words = (r->node.pages + 15u) / 16u;
	if (r->magic != REGION_MAGIC || r->node.pages > r->map_cap)
		return 1;
	for (uint32_t w = 0; w < words; w++) {
		uint32_t x = r->map[w], hi = x & 0xaaaaaaaau, lo = x & 0x55555555u;
		res += (uint32_t)__builtin_popcount(lo & ~(hi >> 1));
		grd += (uint32_t)__builtin_popcount(hi & (lo << 1));
		com += (uint32_t)__builtin_popcount(committed_bits(x));
		bad += check_committed(r, w, committed_bits(x), verbose);
	}
	if (com != r->committed || res != r->reserved || res + com + grd != r->node.pages ||
	    (!(r->flags & REGION_FIXED) && grd != 2u * rguard(r))) {
		if (verbose)
			mm_printf("region: '%s' map: %u committed (%u), %u reserved (%u), %u guard, span %u\n",
			          r->name, com, r->committed, res, r->reserved, grd, r->node.pages);
		bad++;
	}
	if (r->seg && (r->seg->free || r->seg->base != r->node.lo || r->seg->pages != r->node.pages))
		bad++;
	if (owns_frames(r))
		*owned += r->committed;
	return bad;
}

/* Every mapping in a slot of the arena (or of any region) belongs to a
 * committed page: the per-slot count of committed pages equals the page
 * table's present entries. */
static uint32_t check_slots(bool verbose)
{
	uint32_t bad = 0;
	for (uint32_t sl = 0; sl < PAGING_RECURSIVE_SLOT; sl++) {
		vaddr_t va = sl << 22;
		bool in_arena = va + LARGE_PAGE_SIZE > rs.arena.lo && va < rs.arena.hi;
		if (!in_arena && !rs.slot_cnt[sl])
			continue;
		if (rs.slot_cnt[sl] != arch_slot_used(va)) {
			if (verbose && bad < 4)
				mm_printf("region: slot 0x%08x: %u pages mapped, regions own %u\n", va,
				          arch_slot_used(va), rs.slot_cnt[sl]);
			bad++;
		}
	}
	return bad;
}

uint32_t region_check(bool verbose)
{
	if (!rs.ready)
		return 0;
	mm_lock_acquire(&rs.lock);
	uint32_t bad = vmem_check(&rs.arena, verbose) + vmem_tree_check(&rs.tree, verbose);
	uint32_t owned = 0, fixed = 0, reserved = 0, in_arena = 0;
	mm_memset(rs.slot_cnt, 0, sizeof(rs.slot_cnt));
	for (struct vmem_rb *n = vmem_tree_first(&rs.tree); n; n = vmem_tree_next(n)) {
		const struct region *r = (const struct region *)n;
		uint32_t b = check_region(r, &owned, verbose);
		if (b && verbose)
			mm_printf("region: '%s' [0x%08x-0x%08x): %u inconsistencies\n", r->name,
			          r->node.lo, span_end(r), b);
		bad += b;
		fixed += owns_frames(r) ? 0 : r->committed;
		reserved += r->reserved;
		in_arena += r->seg != NULL;
	}
	if (owned != rs.committed_owned || fixed != rs.committed_fixed || reserved != rs.reserved ||
	    in_arena != rs.arena.nalloc) {
		if (verbose)
			mm_printf("region: totals owned %u/%u fixed %u/%u reserved %u/%u segs %u/%u\n",
			          owned, rs.committed_owned, fixed, rs.committed_fixed, reserved,
			          rs.reserved, in_arena, rs.arena.nalloc);
		bad++;
	}
	bad += check_slots(verbose) + pool_check(verbose) + arch_paging_check(verbose);
	mm_lock_release(&rs.lock);
	return bad;
}

/* The descriptor must stay in the pool's 128-byte class (see docs/vmm.md). */
_Static_assert(sizeof(struct region) <= 128, "struct region outgrew its pool class");
