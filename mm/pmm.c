/*
 * Buddy physical memory manager.
 *
 * Theory
 * ------
 * Frames [0, span) are covered, span = the highest free-class frame below
 * 4 GiB rounded up to 1024 frames (4 MiB, the largest block). A block of
 * order k is 2^k frames aligned to 2^k frames; its buddy is pfn ^ 2^k.
 *
 * Everything lives in one block of memory, addressed by byte offsets from
 * its start, so it can be built by the 64-bit loader and used unchanged by
 * the 32-bit kernel wherever it is mapped:
 *
 *   +---------------------------+ 0
 *   | struct pmm (header)       |  counters, per-order bitmap geometry,
 *   |                           |  free-block caches, sanitizer report
 *   +---------------------------+ state_off (64-aligned)
 *   | uint8_t state[span]       |  one byte per frame (below)
 *   +---------------------------+ bitmap_off (64-aligned)
 *   | uint64_t words[]          |  per order k: level 0 = one bit per
 *   |                           |  block (span >> k bits), bit set = the
 *   |                           |  block is free; level l+1 = one bit per
 *   |                           |  word of level l, set = word may be
 *   |                           |  non-zero; the top level is one word
 *   +---------------------------+ size
 *
 * Finding a free block of order k is one bit scan per level (at most 4 for
 * 2^20 frames), from the top word down. Setting a bit touches the upper
 * levels only when a word turns non-zero; clearing one touches level 0
 * only: summary bits are cleared lazily, by the next search that finds the
 * word below empty. The hot paths scan native words (two 32-bit halves per
 * 64-bit word on i386; the layout is the same). Nothing is ever written
 * into free frames.
 *
 * Frame state byte:
 *   0x00        frame lies in a free buddy block, or is a tail frame of an
 *               allocated or cached block (the bitmaps tell them apart)
 *   0x80|k      head frame of an allocated block of order k
 *   0x20|k      head frame of a free block of order k parked in a cache
 *   0x40        reserved RAM (policy, pmm_reserve, not yet released)
 *   0x41        hole: not RAM, or frame 0; never managed
 *   0x42        the metadata block itself
 * Metadata: 1 byte + ~2 bits of bitmap per frame, ~1.27 bytes/frame.
 *
 * Invariants (pmm_check verifies all of them):
 *   I1 every frame is covered by at most one free block (all orders);
 *   I2 free blocks are fully coalesced: no free block of order k < 10 has
 *      its buddy free at order k;
 *   I3 a frame in a free block has state 0x00; state 0x00 outside a free
 *      block means "inside an allocated or cached block" (its head
 *      precedes it);
 *   I4 an allocated head 0x80|k is aligned to 2^k, its tail frames are
 *      0x00 and not free; allocated and cached blocks do not overlap;
 *   I5 a non-zero word has its summary bit set (a set bit over an empty
 *      word is allowed: lazy clearing); bits past the end are zero;
 *      per-order counts and the non-empty mask match the bitmaps;
 *   I6 a cached head 0x20|k is aligned, k has a cache, and it is on k's
 *      stack exactly once; stack entries are cached heads of their order;
 *   I7 counters (buddy, managed = free + allocated, reserved, self, hole)
 *      match what the walk finds; frame 0 is a hole.
 *
 * Allocation: the smallest order with a free block; normal requests take the
 * highest-addressed block of that order (keeping low memory for zone
 * requests), zone requests the lowest-addressed one, which lies below the
 * limit if any does. Normal requests of orders 0..9 use a per-order cache
 * of free blocks first (like Linux's per-CPU lists): a stack of pfns in the
 * header per order, filled by frees of blocks at or above 16 MiB. It makes
 * the common alloc/free pair a few loads and stores instead of splits and
 * merges. Cached blocks are free but not merged; a full stack gives half
 * back, and all stacks are drained into the bitmaps before a request could
 * fail (so "no memory" stays exact), before range operations and when
 * PMM_F_NOCACHE is set. The common paths (cache hit, cache push) are small
 * inline functions and update no counter; the rest is out of line.
 *
 * Range operations (reserve/release) rebuild each 4 MiB window they touch:
 * the window's free frames are read out of the bitmaps into a 1024-bit mask,
 * changed, and written back as the canonical (maximal aligned) blocks.
 *
 * Errors are values; the state is not touched before an operation has been
 * validated. With PMM_F_REPORT each error is printed naming frame and caller.
 */
#include <mmboot/pmm.h>
#include <mmboot/errno.h>
#include <mmboot/mm_env.h>

#define PMM_MAGIC     0x504d4d42u         /* "BMMP" */
#define PMM_VERSION   2u
#define PMM_PCP_SLOTS (PMM_PCP_CAP + (PMM_PCP_ORDERS - 1) * PMM_PCP_CAP_HI)
#define PMM_ORDERS    (PMM_MAX_ORDER + 1)
#define PMM_LEVELS    4u                  /* 64^4 > 2^20 frames */
#define PMM_WIN       (1u << PMM_MAX_ORDER) /* frames per window (largest block) */
#define PMM_WIN_WORDS (PMM_WIN / 64)
#define PMM_MAX_SPAN  (1u << 20)          /* 4 GiB of frames */
#define PMM_LOW_PFN   ((uint32_t)(PMM_LOW_RESERVE >> PAGE_SHIFT))
#define PMM_NONE      0xFFFFFFFFu
#define PMM_DMA_PFN   ((uint32_t)(MiB(16) >> PAGE_SHIFT))

#define FS_FREE     0x00u
#define FS_CACHED   0x20u               /* | order: head of a cached free block */
#define FS_RESERVED 0x40u
#define FS_HOLE     0x41u
#define FS_SELF     0x42u
#define FS_HEAD     0x80u

struct pmm_order {                        /* geometry and count of one order */
	uint32_t lvl_off[PMM_LEVELS];         /* word index of each level in the bitmap area */
	uint32_t levels;                      /* levels in use (top has one word) */
	uint32_t free_blocks;                 /* free blocks of this order */
	uint32_t hint;                        /* level-0 word that last held a free block */
	uint32_t pad;                         /* zero */
};

struct pmm {
	uint32_t magic;                       /* PMM_MAGIC */
	uint32_t version;                     /* PMM_VERSION */
	uint64_t size;                        /* bytes of the whole block */
	uint64_t mem_pa;                      /* physical address of the block, or PADDR_NONE */
	uint64_t above_4g_bytes;              /* free-class bytes above 4 GiB (never used) */
	uint32_t span;                        /* frames covered, multiple of PMM_WIN */
	uint32_t state_off;                   /* byte offset of state[] */
	uint32_t bitmap_off;                  /* byte offset of the bitmap words */
	uint32_t bitmap_words;                /* uint64_t words of bitmap */
	uint32_t buddy_pages;                 /* frames in free buddy blocks */
	uint32_t managed_pages;               /* frames free or allocated (init, range ops change it) */
	uint32_t reserved_pages;              /* frames in state RESERVED */
	uint32_t self_pages;                  /* frames in state SELF */
	uint32_t hole_pages;                  /* frames in state HOLE */
	uint32_t nonempty;                    /* bit k: order k has free blocks */
	uint32_t oom_said;                    /* bit k: an order-k failure was reported this burst */
	uint32_t flags;                       /* PMM_F_* */
	uint32_t errors;                      /* error returns so far */
	uint32_t alloc_failures;              /* allocations refused for lack of memory */
	struct mm_lock lock;                  /* guards everything below and above */
	struct pmm_order orders[PMM_ORDERS];  /* per-order geometry and counts */
	uint8_t pcp_n[16];                    /* blocks in the cache of order k (k < PMM_PCP_ORDERS) */
	uint32_t pcp[PMM_PCP_SLOTS];          /* the caches: pfns, one stack per order (pmm_pcp_base) */
	struct memmap_stats mstats;           /* what the sanitizer changed */
};
_Static_assert(sizeof(struct pmm_order) == 32, "pmm_order layout");
_Static_assert(__builtin_offsetof(struct pmm, span) == 32, "pmm layout");
_Static_assert(__builtin_offsetof(struct pmm, errors) == 80, "pmm layout");
_Static_assert(__builtin_offsetof(struct pmm, lock) == 88, "pmm layout");
_Static_assert(__builtin_offsetof(struct pmm, orders) == 96, "pmm layout");
_Static_assert(__builtin_offsetof(struct pmm, pcp_n) == 448, "pmm layout");
_Static_assert(__builtin_offsetof(struct pmm, mstats) == 1296, "pmm layout");
_Static_assert(sizeof(struct pmm) == 1600, "pmm layout (same on i386 and x86_64)");
_Static_assert(PMM_PCP_ORDERS <= 16 && PMM_PCP_CAP <= 255 && PMM_PCP_CAP_HI <= 255, "pcp_n");

/* ---- access ---------------------------------------------------------------- */

static inline uint8_t *pmm_state(const struct pmm *p)
{
	return (uint8_t *)p + p->state_off;
}

static inline uint64_t *pmm_bm(const struct pmm *p)
{
	return (uint64_t *)((uint8_t *)p + p->bitmap_off);
}

static inline uint64_t pmm_bit(uint32_t i) { return (uint64_t)1 << (i & 63); }

/*
 * The bitmap words are uint64_t in memory on every target (one layout for
 * the loader, the kernel and the host). The hot paths work on native words
 * (unsigned long: 64 bits on x86_64, 32 on i386, where 64-bit shifts, tests
 * and bit scans cost several instructions and branches each). On i386 a
 * 64-bit word is two halves, low half first (little endian), so bit i of a
 * level is bit i % 32 of half i / 32 in both views. A summary bit stands for
 * a whole 64-bit word: on i386 "word non-zero" is "either half non-zero".
 */
typedef unsigned long __attribute__((may_alias)) pmm_hw_t;
#define PMM_HW_BITS     (8u * (uint32_t)sizeof(pmm_hw_t))
#define PMM_HW_PER_WORD (64u / PMM_HW_BITS)
_Static_assert(PMM_HW_BITS == 32 || PMM_HW_BITS == 64, "native bitmap word");

/* Level l of order k's bitmap, as native words. */
static inline pmm_hw_t *pmm_level(const struct pmm *p, unsigned k, uint32_t l)
{
	return (pmm_hw_t *)(pmm_bm(p) + p->orders[k].lvl_off[l]);
}

static inline pmm_hw_t pmm_hbit(uint32_t i) { return (pmm_hw_t)1 << (i % PMM_HW_BITS); }

/* The 64-bit word holding native word h is zero, h itself being v. */
static inline bool pmm_word_zero(const pmm_hw_t *a, uint32_t h, pmm_hw_t v)
{
	return v == 0 && (PMM_HW_PER_WORD == 1 || a[h ^ 1] == 0);
}

/* Lowest or highest set bit of 64-bit word w of a level; 64 if it is zero. */
static inline uint32_t pmm_word_pick(const pmm_hw_t *a, uint32_t w, bool highest)
{
	if (PMM_HW_PER_WORD == 1) {
		pmm_hw_t v = a[w];
		if (!v)
			return 64;
		return highest ? 63u - (uint32_t)__builtin_clzl(v) : (uint32_t)__builtin_ctzl(v);
	}
	pmm_hw_t lo = a[2 * w], hi = a[2 * w + 1];
	if (!(lo | hi))
		return 64;
	if (highest)
		return hi ? 63u - (uint32_t)__builtin_clzl(hi) : 31u - (uint32_t)__builtin_clzl(lo);
	return lo ? (uint32_t)__builtin_ctzl(lo) : 32u + (uint32_t)__builtin_ctzl(hi);
}

static inline bool pmm_test(const struct pmm *p, unsigned k, uint32_t idx)
{
	return (pmm_level(p, k, 0)[idx / PMM_HW_BITS] & pmm_hbit(idx)) != 0;
}

/* The lock, unless the caller serialises (PMM_F_NOLOCK); returns whether
 * it was taken, which is what pmm_unlock gets. */
static inline bool pmm_lock(struct pmm *p)
{
	bool take = !(p->flags & PMM_F_NOLOCK);
	if (take)
		mm_lock_acquire(&p->lock);
	return take;
}

static inline void pmm_unlock(struct pmm *p, bool taken)
{
	if (taken)
		mm_lock_release(&p->lock);
}

/* ---- layout ---------------------------------------------------------------- */

struct pmm_layout {                       /* computed geometry of a span */
	uint32_t span;                        /* frames, multiple of PMM_WIN */
	uint32_t state_off;                   /* as in struct pmm */
	uint32_t bitmap_off;                  /* as in struct pmm */
	uint32_t words;                       /* bitmap words */
	uint64_t size;                        /* total bytes */
	struct pmm_order orders[PMM_ORDERS];  /* geometry (counts zero) */
};

static uint32_t pmm_words(uint32_t bits) { return (bits + 63) / 64; }

static void pmm_layout(uint32_t pages, struct pmm_layout *L)
{
	if (pages > PMM_MAX_SPAN)
		pages = PMM_MAX_SPAN;
	L->span = pages ? ALIGN_UP(pages, PMM_WIN) : PMM_WIN;
	L->state_off = ALIGN_UP((uint32_t)sizeof(struct pmm), 64u);
	L->bitmap_off = ALIGN_UP(L->state_off + L->span, 64u);
	uint32_t w = 0;
	for (unsigned k = 0; k < PMM_ORDERS; k++) {
		struct pmm_order *o = &L->orders[k];
		mm_memset(o, 0, sizeof(*o));
		uint32_t words = pmm_words(L->span >> k);
		for (;;) {
			o->lvl_off[o->levels++] = w;
			w += words;
			if (words == 1)
				break;
			words = pmm_words(words);
		}
	}
	L->words = w;
	L->size = (uint64_t)L->bitmap_off + (uint64_t)w * 8;
}

uint64_t pmm_metadata_size_span(uint32_t pages)
{
	struct pmm_layout L;
	pmm_layout(pages, &L);
	return L.size;
}

/* Frames of [0, min(end, 4 GiB)), rounded down. */
static uint32_t pmm_pfn_below_4g(uint64_t end)
{
	return end >= PADDR_4G ? PMM_MAX_SPAN : (uint32_t)(end >> PAGE_SHIFT);
}

uint64_t pmm_metadata_size(const struct memmap_range *map, uint32_t n)
{
	uint32_t top = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (map[i].start < PADDR_4G && map[i].cls < MEMMAP_CLASS_COUNT &&
		    (MEMMAP_CLASS_BIT(map[i].cls) & MEMMAP_FREE_MASK)) {
			uint32_t e = pmm_pfn_below_4g(ALIGN_UP(map[i].end, (uint64_t)PAGE_SIZE));
			top = e > top ? e : top;
		}
	}
	return pmm_metadata_size_span(top);
}

uint64_t pmm_metadata_size_efi(const void *descs, uint32_t n, uint32_t desc_size)
{
	uint32_t top = 0;
	if (!descs || desc_size < sizeof(struct efi_memdesc))
		return pmm_metadata_size_span(PMM_MAX_SPAN);
	for (uint32_t i = 0; i < n; i++) {
		struct memmap_in in;
		memmap_from_efi((const uint8_t *)descs + (uint64_t)i * desc_size, 1, desc_size, &in);
		if (in.end <= in.start || in.start >= PADDR_4G ||
		    !(MEMMAP_CLASS_BIT(memmap_class_of_efi(in.type)) & MEMMAP_FREE_MASK))
			continue;
		uint32_t e = pmm_pfn_below_4g(in.end > ~(uint64_t)PAGE_MASK ? ~(uint64_t)0
		                              : ALIGN_UP(in.end, (uint64_t)PAGE_SIZE));
		top = e > top ? e : top;
	}
	return pmm_metadata_size_span(top);
}

/* ---- bitmap hierarchy -------------------------------------------------------- */

/* Set bit idx of level 0; each level above gets its bit when the word
 * below turns non-zero. */
static void pmm_bm_set(struct pmm *p, unsigned k, uint32_t idx)
{
	uint32_t levels = p->orders[k].levels;
	for (uint32_t l = 0; l < levels; l++) {
		pmm_hw_t *a = pmm_level(p, k, l);
		uint32_t h = idx / PMM_HW_BITS;
		pmm_hw_t old = a[h];
		a[h] = old | pmm_hbit(idx);
		if (!pmm_word_zero(a, h, old))
			return;
		idx >>= 6;
	}
}

/* Clear bit idx of level 0 only. The summary bits above are cleared
 * lazily, by the next search that finds the word below empty (a split or
 * merge then touches one level instead of up to four). */
static void pmm_bm_clear(struct pmm *p, unsigned k, uint32_t idx)
{
	pmm_level(p, k, 0)[idx / PMM_HW_BITS] &= ~pmm_hbit(idx);
}

static void pmm_bm_clear_bit(pmm_hw_t *a, uint32_t i)
{
	a[i / PMM_HW_BITS] &= ~pmm_hbit(i);
}

/* Lowest (or highest) free block index of order k; PMM_NONE if none.
 * Summary bits may be stale (set over an empty word, see pmm_bm_clear):
 * one met on the way down is cleared and the search starts again, so each
 * stale bit costs one extra descent, once. */
static uint32_t pmm_bm_find(struct pmm *p, unsigned k, bool highest)
{
	uint32_t top = p->orders[k].levels - 1, idx = 0;
	for (uint32_t l = top + 1; l-- > 0;) {
		uint32_t bit = pmm_word_pick(pmm_level(p, k, l), idx, highest);
		if (bit == 64) {
			if (l == top)
				return PMM_NONE;
			pmm_bm_clear_bit(pmm_level(p, k, l + 1), idx);   /* stale */
			l = top + 1;
			idx = 0;
			continue;
		}
		idx = idx * 64 + bit;
	}
	return idx;
}

/* Some free block of order k, the hint word first (one load when it still
 * holds a free block; most often the block freed last, cache-hot), else the
 * highest; PMM_NONE if none. */
static uint32_t pmm_bm_find_hinted(struct pmm *p, unsigned k)
{
	struct pmm_order *o = &p->orders[k];
	uint32_t bit = pmm_word_pick(pmm_level(p, k, 0), o->hint, true);
	if (bit != 64)
		return o->hint * 64 + bit;
	uint32_t idx = pmm_bm_find(p, k, true);
	if (idx != PMM_NONE)
		o->hint = idx >> 6;
	return idx;
}

static void pmm_insert(struct pmm *p, unsigned k, uint32_t pfn)
{
	pmm_bm_set(p, k, pfn >> k);
	p->orders[k].hint = pfn >> k >> 6;
	p->orders[k].free_blocks++;
	p->nonempty |= 1u << k;
	p->buddy_pages += 1u << k;
}

static void pmm_remove(struct pmm *p, unsigned k, uint32_t pfn)
{
	pmm_bm_clear(p, k, pfn >> k);
	if (--p->orders[k].free_blocks == 0)
		p->nonempty &= ~(1u << k);
	p->buddy_pages -= 1u << k;
}

/* Free a block into the bitmaps, merging with free buddies. */
static void pmm_buddy_free(struct pmm *p, uint32_t pfn, unsigned k)
{
	while (k < PMM_MAX_ORDER) {
		uint32_t buddy = pfn ^ (1u << k);
		if (!pmm_test(p, k, buddy >> k))
			break;
		pmm_remove(p, k, buddy);
		pfn &= ~(1u << k);
		k++;
	}
	pmm_insert(p, k, pfn);
}

/* Take free block idx of order j out of the bitmaps, splitting it down to
 * order k (the upper halves stay free). Returns its first frame. */
static uint32_t pmm_take(struct pmm *p, unsigned j, uint32_t idx, unsigned k)
{
	uint32_t pfn = idx << j;
	pmm_remove(p, j, pfn);
	while (j > k) {
		j--;
		pmm_insert(p, j, pfn + (1u << j));
	}
	return pfn;
}

/* Zone request: the smallest order whose lowest block ends below limit. */
static uint32_t pmm_buddy_alloc_zone(struct pmm *p, unsigned k, uint32_t limit)
{
	for (uint32_t mask = p->nonempty >> k << k; mask; mask &= mask - 1) {
		unsigned j = (unsigned)__builtin_ctz(mask);
		uint32_t idx = pmm_bm_find(p, j, false);
		if (idx != PMM_NONE && ((uint64_t)idx + 1) << j <= limit)
			return pmm_take(p, j, idx, k);
	}
	return PMM_NONE;
}

/* Normal request: the smallest order with a free block at or above 16 MiB
 * (keeps the DMA zone for zone requests): the hinted block, else the
 * highest; failing that, the smallest order at all. */
static uint32_t pmm_buddy_alloc(struct pmm *p, unsigned k)
{
	uint32_t first = PMM_NONE;
	unsigned first_j = 0;
	for (uint32_t mask = p->nonempty >> k << k; mask; mask &= mask - 1) {
		unsigned j = (unsigned)__builtin_ctz(mask);
		uint32_t idx = pmm_bm_find_hinted(p, j);
		if (idx != PMM_NONE && (idx << j) < PMM_DMA_PFN)
			idx = pmm_bm_find(p, j, true);
		if (idx == PMM_NONE)
			continue;
		if ((idx << j) >= PMM_DMA_PFN)
			return pmm_take(p, j, idx, k);
		if (first == PMM_NONE) {
			first = idx;
			first_j = j;
		}
	}
	return first == PMM_NONE ? PMM_NONE : pmm_take(p, first_j, first, k);
}

/* Insert the frames [s, e) as maximal aligned blocks. */
static void pmm_insert_run(struct pmm *p, uint32_t s, uint32_t e)
{
	while (s < e) {
		unsigned k = s ? (unsigned)__builtin_ctz(s) : PMM_MAX_ORDER;
		if (k > PMM_MAX_ORDER)
			k = PMM_MAX_ORDER;
		while (s + (1u << k) > e)
			k--;
		pmm_insert(p, k, s);
		s += 1u << k;
	}
}

/* ---- free-block caches ------------------------------------------------------ */

/* First slot and capacity of order k's cache in pcp[] (tables: one load
 * each on the common paths; orders without a cache have capacity 0). */
#define PMM_PCP_B(k) (PMM_PCP_CAP + ((k) - 1) * PMM_PCP_CAP_HI)
static const uint8_t pmm_pcp_base_tab[16] = {
	0, PMM_PCP_B(1), PMM_PCP_B(2), PMM_PCP_B(3), PMM_PCP_B(4), PMM_PCP_B(5),
	PMM_PCP_B(6), PMM_PCP_B(7), PMM_PCP_B(8), PMM_PCP_B(9),
};
static const uint8_t pmm_pcp_cap_tab[16] = {
	PMM_PCP_CAP, PMM_PCP_CAP_HI, PMM_PCP_CAP_HI, PMM_PCP_CAP_HI, PMM_PCP_CAP_HI,
	PMM_PCP_CAP_HI, PMM_PCP_CAP_HI, PMM_PCP_CAP_HI, PMM_PCP_CAP_HI, PMM_PCP_CAP_HI,
};
_Static_assert(PMM_PCP_ORDERS == 10 && PMM_PCP_B(10) == PMM_PCP_SLOTS && PMM_PCP_SLOTS <= 255,
               "cache tables match PMM_PCP_ORDERS");

static inline uint32_t pmm_pcp_base(unsigned k) { return pmm_pcp_base_tab[k & 15]; }
static inline uint32_t pmm_pcp_cap(unsigned k) { return pmm_pcp_cap_tab[k & 15]; }

/* Give the oldest blocks of order k's cache (bottom of its stack) back to
 * the bitmaps, merging them, until keep are left. */
static void pmm_pcp_flush_order(struct pmm *p, unsigned k, uint32_t keep)
{
	uint8_t *fs = pmm_state(p);
	uint32_t *c = p->pcp + pmm_pcp_base(k);
	uint32_t n = p->pcp_n[k] - keep;
	for (uint32_t i = 0; i < n; i++) {
		fs[c[i]] = FS_FREE;
		pmm_buddy_free(p, c[i], k);
	}
	for (uint32_t i = 0; i < keep; i++)
		c[i] = c[n + i];
	p->pcp_n[k] = (uint8_t)keep;
}

/* Frames in all caches (the caches keep no running total: the common path
 * then updates nothing but the cache itself). */
static uint32_t pmm_pcp_pages(const struct pmm *p)
{
	uint32_t n = 0;
	for (unsigned k = 0; k < PMM_PCP_ORDERS; k++)
		n += (uint32_t)p->pcp_n[k] << k;
	return n;
}

/* Frames in allocated blocks: managed frames that are not free. */
static uint32_t pmm_alloc_pages(const struct pmm *p)
{
	return p->managed_pages - p->buddy_pages - pmm_pcp_pages(p);
}

static void pmm_pcp_flush(struct pmm *p)
{
	for (unsigned k = 0; k < PMM_PCP_ORDERS; k++)
		if (p->pcp_n[k])
			pmm_pcp_flush_order(p, k, 0);
}

/* Take a block of order k from its cache; PMM_NONE if it is empty. */
static inline uint32_t pmm_pcp_pop(struct pmm *p, unsigned k)
{
	if (k >= PMM_PCP_ORDERS || p->pcp_n[k] == 0)
		return PMM_NONE;
	return p->pcp[pmm_pcp_base(k) + --p->pcp_n[k]];
}

/* Does a freed block of order k at pfn go to a cache? Blocks below 16 MiB
 * do not: they go straight back to the bitmaps, so that normal requests
 * never take zone memory out of a cache. */
static inline bool pmm_pcp_wants(const struct pmm *p, uint32_t pfn, unsigned k)
{
	return k < PMM_PCP_ORDERS && pfn >= PMM_DMA_PFN && !(p->flags & PMM_F_NOCACHE);
}

/* Park a block in its cache, which has room. */
static inline void pmm_pcp_put(struct pmm *p, uint32_t pfn, unsigned k)
{
	uint32_t n = p->pcp_n[k];
	p->pcp[pmm_pcp_base(k) + n] = pfn;
	p->pcp_n[k] = (uint8_t)(n + 1);
	pmm_state(p)[pfn] = (uint8_t)(FS_CACHED | k);
}

/* Park a freed block in its cache if it wants it, first giving half the
 * cache back to the bitmaps when it is full. False if not cached. */
static bool pmm_pcp_push(struct pmm *p, uint32_t pfn, unsigned k)
{
	if (!pmm_pcp_wants(p, pfn, k))
		return false;
	uint32_t cap = pmm_pcp_cap(k);
	if (p->pcp_n[k] == cap)
		pmm_pcp_flush_order(p, k, cap / 2);
	pmm_pcp_put(p, pfn, k);
	return true;
}

/* ---- init / adopt ------------------------------------------------------------- */

/* Index of the first entry that breaks sorted/disjoint/aligned, or n. */
static uint32_t pmm_map_bad(const struct memmap_range *map, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct memmap_range *r = &map[i];
		if (r->start >= r->end || r->cls >= MEMMAP_CLASS_COUNT ||
		    !IS_ALIGNED(r->start, (uint64_t)PAGE_SIZE) ||
		    !IS_ALIGNED(r->end, (uint64_t)PAGE_SIZE))
			return i;
		if (i > 0 && map[i - 1].end > r->start)
			return i;
	}
	return n;
}

static void pmm_fill(struct pmm *p, uint32_t s, uint32_t e, uint8_t v)
{
	if (s < e)
		mm_memset(pmm_state(p) + s, v, e - s);
}

/* Clamp a byte range to frames of the span. */
static void pmm_frames(const struct pmm *p, paddr_t s, paddr_t e, uint32_t *fs, uint32_t *fe)
{
	uint32_t a = pmm_pfn_below_4g(s), b = pmm_pfn_below_4g(e);
	*fs = a < p->span ? a : p->span;
	*fe = b < p->span ? b : p->span;
}

/* Highest free-class frame below 4 GiB, exclusive. */
static uint32_t pmm_map_top(const struct memmap_range *map, uint32_t n)
{
	uint32_t top = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (map[i].start < PADDR_4G && map[i].cls < MEMMAP_CLASS_COUNT &&
		    (MEMMAP_CLASS_BIT(map[i].cls) & MEMMAP_FREE_MASK)) {
			uint32_t e = pmm_pfn_below_4g(map[i].end);
			top = e > top ? e : top;
		}
	}
	return top;
}

/* State bytes from the map: holes, free, reserved (before policy). */
static void pmm_init_states(struct pmm *p, const struct memmap_range *map, uint32_t n,
                            uint32_t usable_mask)
{
	uint32_t cursor = 0, ram = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t bit = MEMMAP_CLASS_BIT(map[i].cls), s, e;
		if (!(bit & MEMMAP_FREE_MASK))
			continue;
		pmm_frames(p, map[i].start, map[i].end, &s, &e);
		if (s >= e)
			continue;
		pmm_fill(p, cursor, s, FS_HOLE);
		pmm_fill(p, s, e, (bit & usable_mask) ? FS_FREE : FS_RESERVED);
		if (!(bit & usable_mask))
			p->reserved_pages += e - s;
		ram += e - s;
		cursor = e;
	}
	pmm_fill(p, cursor, p->span, FS_HOLE);
	p->hole_pages = p->span - ram;
}

/* Policy: turn frames of [s, e) in state FREE or RESERVED into v; keeps the
 * counters right (FREE frames are not in the bitmaps yet). */
static void pmm_policy_mark(struct pmm *p, uint32_t s, uint32_t e, uint8_t v)
{
	uint8_t *fs = pmm_state(p);
	for (uint32_t f = s; f < e && f < p->span; f++) {
		if (fs[f] != FS_FREE && fs[f] != FS_RESERVED)
			continue;
		p->reserved_pages -= fs[f] == FS_RESERVED;
		fs[f] = v;
		p->reserved_pages += v == FS_RESERVED;
		p->hole_pages += v == FS_HOLE;
		p->self_pages += v == FS_SELF;
	}
}

/* Frames of the metadata block, or an empty range. */
static void pmm_self_frames(const struct pmm *p, uint32_t *s, uint32_t *e)
{
	*s = *e = 0;
	if (p->mem_pa != PADDR_NONE && p->mem_pa < PADDR_4G)
		pmm_frames(p, ALIGN_DOWN(p->mem_pa, (uint64_t)PAGE_SIZE),
		           ALIGN_UP(p->mem_pa + p->size, (uint64_t)PAGE_SIZE), s, e);
}

static void pmm_apply_policy(struct pmm *p)
{
	uint32_t s, e;
	pmm_policy_mark(p, 0, 1, FS_HOLE);
	pmm_policy_mark(p, 1, PMM_LOW_PFN, FS_RESERVED);
	pmm_self_frames(p, &s, &e);
	pmm_policy_mark(p, s, e, FS_SELF);
}

/* Insert [s, e) minus the policy carve-outs (low 1 MiB, metadata). */
static void pmm_init_run(struct pmm *p, uint32_t s, uint32_t e)
{
	uint32_t ms, me;
	if (s < PMM_LOW_PFN)
		s = PMM_LOW_PFN;
	pmm_self_frames(p, &ms, &me);
	if (ms < me && ms < e && me > s) {
		pmm_insert_run(p, s, ms > s ? ms : s);
		s = me < e ? me : e;
	}
	pmm_insert_run(p, s, e);
}

/* Free runs: usable ranges, touching ones joined, minus the carve-outs. */
static void pmm_init_free(struct pmm *p, const struct memmap_range *map, uint32_t n,
                          uint32_t usable_mask)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t s, e, s2;
		if (!(MEMMAP_CLASS_BIT(map[i].cls) & usable_mask))
			continue;
		pmm_frames(p, map[i].start, map[i].end, &s, &e);
		while (i + 1 < n && map[i + 1].start == map[i].end &&
		       (MEMMAP_CLASS_BIT(map[i + 1].cls) & usable_mask)) {
			pmm_frames(p, map[i + 1].start, map[i + 1].end, &s2, &e);
			i++;
		}
		if (s < e)
			pmm_init_run(p, s, e);
	}
}

static void pmm_init_header(struct pmm *p, const struct pmm_layout *L, paddr_t mem_pa)
{
	mm_memset(p, 0, sizeof(*p));
	p->magic = PMM_MAGIC;
	p->version = PMM_VERSION;
	p->size = L->size;
	p->mem_pa = mem_pa;
	p->span = L->span;
	p->state_off = L->state_off;
	p->bitmap_off = L->bitmap_off;
	p->bitmap_words = L->words;
	mm_memcpy(p->orders, L->orders, sizeof(p->orders));
}

const char *pmm_init_why_name(uint32_t why)
{
	switch (why) {
	case PMM_INIT_OK: return "no error";
	case PMM_INIT_ARGS: return "bad arguments (no memory, map or descriptors, or usable mask)";
	case PMM_INIT_ALIGN: return "metadata or scratch not 8-byte aligned";
	case PMM_INIT_MAP: return "map entry not sorted, disjoint, 4 KiB aligned or of a known class";
	case PMM_INIT_MEM_SMALL: return "metadata block too small";
	case PMM_INIT_SCRATCH_SMALL: return "build scratch too small";
	case PMM_INIT_DESC_SIZE: return "descriptor size below struct efi_memdesc";
	default: return "unknown";
	}
}

/* Record why a build failed (err may be NULL); always returns NULL. */
static struct pmm *pmm_init_fail(struct pmm_init_err *err, uint32_t why, int code,
                                 uint64_t need, uint64_t have)
{
	if (err)
		*err = (struct pmm_init_err){ why, code, need, have };
	return NULL;
}

struct pmm *pmm_init(void *mem, uint64_t mem_size, paddr_t mem_pa,
                     const struct memmap_range *map, uint32_t n, uint32_t usable_mask)
{
	return pmm_init_ex(mem, mem_size, mem_pa, map, n, usable_mask, NULL);
}

struct pmm *pmm_init_ex(void *mem, uint64_t mem_size, paddr_t mem_pa,
                        const struct memmap_range *map, uint32_t n, uint32_t usable_mask,
                        struct pmm_init_err *err)
{
	if (!mem || (usable_mask & ~MEMMAP_FREE_MASK) || (n && !map))
		return pmm_init_fail(err, PMM_INIT_ARGS, -MM_EINVAL, 0, 0);
	if ((uintptr_t)mem & 7)
		return pmm_init_fail(err, PMM_INIT_ALIGN, -MM_EALIGN, 8, (uintptr_t)mem);
	uint32_t bad = pmm_map_bad(map, n);
	if (bad < n)
		return pmm_init_fail(err, PMM_INIT_MAP, -MM_EINVAL, bad, n);
	struct pmm_layout L;
	pmm_layout(pmm_map_top(map, n), &L);
	if (L.size > mem_size)
		return pmm_init_fail(err, PMM_INIT_MEM_SMALL, -MM_ENOMEM, L.size, mem_size);
	pmm_init_fail(err, PMM_INIT_OK, 0, 0, 0);
	struct pmm *p = mem;
	pmm_init_header(p, &L, mem_pa);
	mm_memset(pmm_bm(p), 0, (size_t)L.words * 8);
	pmm_init_states(p, map, n, usable_mask);
	pmm_apply_policy(p);
	pmm_init_free(p, map, n, usable_mask);
	p->managed_pages = p->buddy_pages;
	p->above_4g_bytes = memmap_mask_bytes(map, n, usable_mask, PADDR_4G, ~(uint64_t)0);
	return p;
}

uint64_t pmm_build_scratch_size(uint32_t n)
{
	return (uint64_t)n * sizeof(struct memmap_in) +
	       (uint64_t)(2 * n + 1) * sizeof(struct memmap_range) + memmap_scratch_size(n);
}

struct pmm *pmm_build_from_efi(void *mem, uint64_t mem_size, paddr_t mem_pa,
                               const void *descs, uint32_t n, uint32_t desc_size,
                               void *scratch, uint64_t scratch_size, uint32_t usable_mask)
{
	return pmm_build_from_efi_ex(mem, mem_size, mem_pa, descs, n, desc_size, scratch,
	                             scratch_size, usable_mask, NULL);
}

struct pmm *pmm_build_from_efi_ex(void *mem, uint64_t mem_size, paddr_t mem_pa,
                                  const void *descs, uint32_t n, uint32_t desc_size,
                                  void *scratch, uint64_t scratch_size, uint32_t usable_mask,
                                  struct pmm_init_err *err)
{
	if (!scratch || (n && !descs))
		return pmm_init_fail(err, PMM_INIT_ARGS, -MM_EINVAL, 0, 0);
	if ((uintptr_t)scratch & 7)
		return pmm_init_fail(err, PMM_INIT_ALIGN, -MM_EALIGN, 8, (uintptr_t)scratch);
	if (scratch_size < pmm_build_scratch_size(n))
		return pmm_init_fail(err, PMM_INIT_SCRATCH_SMALL, -MM_ENOMEM,
		                     pmm_build_scratch_size(n), scratch_size);
	struct memmap_in *in = scratch;
	struct memmap_range *out = (struct memmap_range *)(in + n);
	void *sscratch = out + 2 * n + 1;
	struct memmap_stats st;
	if (memmap_from_efi(descs, n, desc_size, in) != n)
		return pmm_init_fail(err, PMM_INIT_DESC_SIZE, -MM_EINVAL,
		                     sizeof(struct efi_memdesc), desc_size);
	uint32_t m = memmap_sanitize(in, n, out, 2 * n + 1, sscratch, &st);
	struct pmm *p = pmm_init_ex(mem, mem_size, mem_pa, out, m, usable_mask, err);
	if (p)
		pmm_set_memmap_stats(p, &st);
	return p;
}

static bool pmm_pcp_counts_ok(const struct pmm *p)
{
	for (unsigned k = 0; k < sizeof(p->pcp_n); k++)
		if (p->pcp_n[k] > pmm_pcp_cap(k))
			return false;
	return true;
}

/* Header consistent with its own span? */
static bool pmm_header_ok(const struct pmm *p, uint64_t mem_size)
{
	if (p->magic != PMM_MAGIC || p->version != PMM_VERSION || p->size > mem_size ||
	    p->span == 0 || p->span > PMM_MAX_SPAN || p->span % PMM_WIN ||
	    !pmm_pcp_counts_ok(p))
		return false;
	struct pmm_layout L;
	pmm_layout(p->span, &L);
	if (L.size != p->size || L.state_off != p->state_off ||
	    L.bitmap_off != p->bitmap_off || L.words != p->bitmap_words)
		return false;
	for (unsigned k = 0; k < PMM_ORDERS; k++)
		if (mm_memcmp(L.orders[k].lvl_off, p->orders[k].lvl_off,
		              sizeof(L.orders[k].lvl_off)) ||
		    L.orders[k].levels != p->orders[k].levels ||
		    p->orders[k].hint >= pmm_words(p->span >> k))
			return false;
	return true;
}

struct pmm *pmm_adopt(void *mem, uint64_t mem_size)
{
	struct pmm *p = mem;
	if (!mem || ((uintptr_t)mem & 7) || mem_size < sizeof(struct pmm) ||
	    !pmm_header_ok(p, mem_size))
		return NULL;
	p->lock.held = 0;
	return p;
}

void pmm_set_memmap_stats(struct pmm *p, const struct memmap_stats *st)
{
	mm_memcpy(&p->mstats, st, sizeof(p->mstats));
}

const struct memmap_stats *pmm_memmap_stats(const struct pmm *p) { return &p->mstats; }
void pmm_set_flags(struct pmm *p, uint32_t flags)
{
	bool locked = pmm_lock(p);
	p->flags = flags;
	if (flags & PMM_F_NOCACHE)
		pmm_pcp_flush(p);
	pmm_unlock(p, locked);
}
paddr_t pmm_metadata_pa(const struct pmm *p) { return p->mem_pa; }
uint64_t pmm_metadata_bytes(const struct pmm *p) { return p->size; }

/* ---- alloc / free --------------------------------------------------------- */

static int pmm_fail(struct pmm *p, int err, const char *op, paddr_t pa, unsigned order,
                    uintptr_t caller)
{
	p->errors++;
	if (p->flags & PMM_F_REPORT)
		mm_printf("pmm: %s(pa=0x%llx, order=%u) from caller 0x%lx: %s\n", op,
		          (unsigned long long)pa, order, (unsigned long)caller, mm_strerror(err));
	return -err;
}

static uint32_t pmm_zone_limit(const struct pmm *p, unsigned flags)
{
	uint32_t limit = p->span;
	if ((flags & PMM_ZONE_16M) && limit > PMM_DMA_PFN)
		limit = PMM_DMA_PFN;
	if ((flags & PMM_ZONE_1M) && limit > PMM_LOW_PFN)
		limit = PMM_LOW_PFN;
	return limit;
}

static uint32_t pmm_alloc_locked(struct pmm *p, unsigned order, unsigned flags)
{
	uint32_t pfn = flags ? PMM_NONE : pmm_pcp_pop(p, order);
	if (pfn != PMM_NONE) {
		pmm_state(p)[pfn] = (uint8_t)(FS_HEAD | order);
		return pfn;
	}
	pfn = flags ? pmm_buddy_alloc_zone(p, order, pmm_zone_limit(p, flags))
	            : pmm_buddy_alloc(p, order);
	if (pfn == PMM_NONE && pmm_pcp_pages(p)) {
		pmm_pcp_flush(p);
		pfn = flags ? pmm_buddy_alloc_zone(p, order, pmm_zone_limit(p, flags))
		            : pmm_buddy_alloc(p, order);
	}
	if (pfn != PMM_NONE)
		pmm_state(p)[pfn] = (uint8_t)(FS_HEAD | order);
	return pfn;
}

/* Out of memory is a value (-MM_ENOMEM), counted; with PMM_F_REPORT one
 * line names order, flags and caller, once per order per burst (a burst
 * ends when a block is freed or an allocation of that order succeeds). */
static void pmm_oom(struct pmm *p, unsigned order, unsigned flags, uintptr_t caller)
{
	p->alloc_failures++;
	if (!(p->flags & PMM_F_REPORT) || (p->oom_said & (1u << order)))
		return;
	p->oom_said |= 1u << order;
	mm_printf("pmm: out of memory: alloc(order=%u, flags=0x%x) from caller 0x%lx refused; "
	          "%u pages free, %u failed allocations so far (further order-%u failures not "
	          "reported until memory is freed)\n", order, flags, (unsigned long)caller,
	          p->buddy_pages + pmm_pcp_pages(p), p->alloc_failures, order);
}

/* Everything but a cache hit, with the lock held; releases it. Out of line
 * so that the common path (a cache hit) stays a few instructions. */
static __attribute__((noinline)) paddr_t pmm_alloc_slow(struct pmm *p, unsigned order,
                                                        unsigned flags, int *err, uintptr_t caller,
                                                        bool locked)
{
	int e = 0;
	paddr_t pa = PADDR_NONE;
	if (order > PMM_MAX_ORDER || (flags & ~(PMM_ZONE_1M | PMM_ZONE_16M))) {
		e = pmm_fail(p, MM_EINVAL, "alloc", 0, order, caller);
	} else {
		uint32_t pfn = pmm_alloc_locked(p, order, flags);
		if (pfn != PMM_NONE)
			pa = pfn_to_pa(pfn);
		else
			e = -MM_ENOMEM;           /* a normal condition: counted, not reported */
	}
	if (e == -MM_ENOMEM)
		pmm_oom(p, order, flags, caller);
	else if (order <= PMM_MAX_ORDER)
		p->oom_said &= ~(1u << order);   /* this order works again: its burst is over */
	pmm_unlock(p, locked);
	if (err)
		*err = e;
	return pa;
}

/* The common case: a normal request of a cached order whose cache is not
 * empty (lock held): take its top block into *pfn. */
static inline bool pmm_alloc_cached(struct pmm *p, unsigned order, unsigned flags,
                                    uint32_t *pfn)
{
	if (__builtin_expect(flags != 0 || order >= PMM_PCP_ORDERS, 0))
		return false;
	uint32_t n = p->pcp_n[order];
	if (__builtin_expect(n == 0, 0))
		return false;
	uint32_t f = p->pcp[pmm_pcp_base(order) + n - 1];
	p->pcp_n[order] = (uint8_t)(n - 1);
	pmm_state(p)[f] = (uint8_t)(FS_HEAD | order);
	*pfn = f;
	return true;
}

paddr_t pmm_alloc_err(struct pmm *p, unsigned order, unsigned flags, int *err)
{
	uint32_t pfn;
	bool locked = pmm_lock(p);
	if (!pmm_alloc_cached(p, order, flags, &pfn))
		return pmm_alloc_slow(p, order, flags, err, MM_CALLER(), locked);
	pmm_unlock(p, locked);
	if (err)
		*err = 0;
	return pfn_to_pa(pfn);
}

paddr_t pmm_alloc(struct pmm *p, unsigned order, unsigned flags)
{
	uint32_t pfn;
	bool locked = pmm_lock(p);
	if (!pmm_alloc_cached(p, order, flags, &pfn))
		return pmm_alloc_slow(p, order, flags, NULL, MM_CALLER(), locked);
	pmm_unlock(p, locked);
	return pfn_to_pa(pfn);
}

/* Is frame f inside a free buddy block of any order? */
static bool pmm_in_free_block(const struct pmm *p, uint32_t f)
{
	for (unsigned k = 0; k < PMM_ORDERS; k++)
		if (pmm_test(p, k, f >> k))
			return true;
	return false;
}

static inline bool pmm_is_cached_head(uint8_t b)
{
	return (b & 0xF0u) == FS_CACHED;
}

/* Is frame f a tail frame of a cached block (whose head is f rounded down)? */
static bool pmm_in_cached_block(const struct pmm *p, uint32_t f)
{
	for (unsigned k = 1; k < PMM_PCP_ORDERS; k++) {
		uint32_t h = f & ~((1u << k) - 1);
		if (h != f && pmm_state(p)[h] == (FS_CACHED | k))
			return true;
	}
	return false;
}

/* Why freeing pfn as order is wrong (state byte b is not HEAD|order). */
static __attribute__((noinline)) int pmm_free_error(const struct pmm *p, uint32_t pfn, uint8_t b)
{
	if (b & FS_HEAD)
		return MM_EORDER;
	if (pmm_is_cached_head(b))
		return MM_EDOUBLEFREE;
	if (b == FS_RESERVED || b == FS_HOLE || b == FS_SELF)
		return MM_ERESERVED;
	if (b == FS_FREE && (pmm_in_free_block(p, pfn) || pmm_in_cached_block(p, pfn)))
		return MM_EDOUBLEFREE;
	return MM_ENOTALLOC;   /* tail frame of an allocated block */
}

static int pmm_free_check(const struct pmm *p, paddr_t pa, unsigned order)
{
	if (order > PMM_MAX_ORDER)
		return MM_EINVAL;
	if (pa & PAGE_MASK)
		return MM_EALIGN;
	if (pa >= pfn_to_pa(p->span))
		return MM_ERANGE;
	uint32_t pfn = pa_to_pfn(pa);
	if (pfn & ((1u << order) - 1))
		return MM_EALIGN;
	uint8_t b = pmm_state(p)[pfn];
	return b == (FS_HEAD | order) ? 0 : pmm_free_error(p, pfn, b);
}

/* A free that is not a plain cache push: an error, a full cache, or a
 * block that goes back to the bitmaps. Lock held; releases it. */
static __attribute__((noinline)) int pmm_free_slow(struct pmm *p, paddr_t pa, unsigned order,
                                                   uintptr_t caller, bool locked)
{
	int e = pmm_free_check(p, pa, order);
	if (e) {
		e = pmm_fail(p, e, "free", pa, order, caller);
		pmm_unlock(p, locked);
		return e;
	}
	uint32_t pfn = pa_to_pfn(pa);
	if (!pmm_pcp_push(p, pfn, order)) {
		pmm_state(p)[pfn] = FS_FREE;
		pmm_buddy_free(p, pfn, order);
	}
	p->oom_said = 0;   /* memory came back: a new burst of failures is reported again */
	pmm_unlock(p, locked);
	return 0;
}

/* The common case: a valid free (pa is the head of an allocated block of
 * this order: the same test pmm_free_check makes first) that its cache
 * takes and has room for. */
static inline bool pmm_free_cacheable(const struct pmm *p, paddr_t pa, unsigned order)
{
	if (order >= 16 || (pa >> 32) != 0)      /* orders without a cache: capacity 0 */
		return false;
	uint32_t lo = (uint32_t)pa, pfn = lo >> PAGE_SHIFT;
	return !(lo & ((4096u << order) - 1)) &&               /* page and order aligned */
	       pfn < p->span && pfn >= PMM_DMA_PFN && pmm_state(p)[pfn] == (FS_HEAD | order) &&
	       !(p->flags & PMM_F_NOCACHE) && p->pcp_n[order] != pmm_pcp_cap(order);
}

int pmm_free(struct pmm *p, paddr_t pa, unsigned order)
{
	bool locked = pmm_lock(p);
	if (__builtin_expect(!pmm_free_cacheable(p, pa, order), 0))
		return pmm_free_slow(p, pa, order, MM_CALLER(), locked);
	pmm_pcp_put(p, (uint32_t)pa >> PAGE_SHIFT, order);
	p->oom_said = 0;   /* memory came back (see pmm_oom) */
	pmm_unlock(p, locked);
	return 0;
}

/* ---- windows (range operations, checker) ---------------------------------- */

static void pmm_mask_set(uint64_t *mask, uint32_t lo, uint32_t len)
{
	if (len >= 64) {
		for (uint32_t w = lo / 64; w < (lo + len) / 64; w++)
			mask[w] = ~(uint64_t)0;
	} else {
		mask[lo / 64] |= (((uint64_t)1 << len) - 1) << (lo % 64);
	}
}

static bool pmm_mask_test(const uint64_t *mask, uint32_t i)
{
	return (mask[i / 64] >> (i % 64)) & 1;
}

/* Calls fn(p, k, pfn, arg) for every free block of order k in window w. */
typedef void (*pmm_block_fn)(struct pmm *p, unsigned k, uint32_t pfn, void *arg);

static void pmm_window_blocks(const struct pmm *p, uint32_t w, pmm_block_fn fn, void *arg)
{
	const uint64_t *bm = pmm_bm(p);
	for (unsigned k = 0; k < PMM_ORDERS; k++) {
		uint32_t first = w >> k, count = PMM_WIN >> k;
		const uint64_t *l0 = bm + p->orders[k].lvl_off[0];
		for (uint32_t i = first; i < first + count; i += 64) {
			uint64_t bits = l0[i / 64];
			if (count < 64)
				bits = (bits >> (i % 64)) & (((uint64_t)1 << count) - 1);
			while (bits) {
				uint32_t b = (uint32_t)__builtin_ctzll(bits);
				bits &= bits - 1;
				fn((struct pmm *)p, k, (i + b) << k, arg);
			}
		}
	}
}

struct pmm_wmask {                        /* free frames of one window */
	uint64_t bits[PMM_WIN_WORDS];         /* bit i: frame w+i is free (buddy) */
	uint32_t base;                        /* first frame of the window */
	uint32_t overlaps;                    /* frames found in two blocks (checker) */
	uint32_t unmerged;                    /* blocks whose buddy is free too (checker) */
};

static void pmm_wmask_add(struct pmm *p, unsigned k, uint32_t pfn, void *arg)
{
	struct pmm_wmask *m = arg;
	uint32_t lo = pfn - m->base, len = 1u << k;
	for (uint32_t i = lo; i < lo + len; i++)
		m->overlaps += pmm_mask_test(m->bits, i);
	pmm_mask_set(m->bits, lo, len);
	if (k < PMM_MAX_ORDER && pmm_test(p, k, (pfn >> k) ^ 1))
		m->unmerged++;
}

static void pmm_window_mask(const struct pmm *p, uint32_t w, struct pmm_wmask *m)
{
	mm_memset(m, 0, sizeof(*m));
	m->base = w;
	pmm_window_blocks(p, w, pmm_wmask_add, m);
}

static void pmm_remove_cb(struct pmm *p, unsigned k, uint32_t pfn, void *arg)
{
	(void)arg;
	pmm_remove(p, k, pfn);
}

/* Replace the window's free blocks by the canonical blocks of mask. */
static void pmm_window_rebuild(struct pmm *p, uint32_t w, const uint64_t *mask)
{
	pmm_window_blocks(p, w, pmm_remove_cb, NULL);
	uint32_t i = 0;
	while (i < PMM_WIN) {
		if (!pmm_mask_test(mask, i)) {
			i++;
			continue;
		}
		uint32_t j = i;
		while (j < PMM_WIN && pmm_mask_test(mask, j))
			j++;
		pmm_insert_run(p, w + i, w + j);
		i = j;
	}
}

/* ---- reserve / release ------------------------------------------------------ */

enum pmm_rop { PMM_ROP_RESERVE, PMM_ROP_RELEASE };

/* Would the op fail on window w's frames [s, e)? -MM_EBUSY at once; a
 * release over a free frame sets *dbl (EBUSY takes precedence over it). */
static int pmm_range_check_window(const struct pmm *p, uint32_t w, uint32_t s, uint32_t e,
                                  enum pmm_rop op, bool *dbl)
{
	struct pmm_wmask m;
	const uint8_t *fs = pmm_state(p);
	pmm_window_mask(p, w, &m);
	for (uint32_t f = s; f < e; f++) {
		bool is_free = pmm_mask_test(m.bits, f - w);
		if ((fs[f] & FS_HEAD) || (fs[f] == FS_FREE && !is_free))
			return MM_EBUSY;
		if (op == PMM_ROP_RELEASE && is_free)
			*dbl = true;
	}
	return 0;
}

static uint32_t pmm_range_apply_window(struct pmm *p, uint32_t w, uint32_t s, uint32_t e,
                                       enum pmm_rop op)
{
	struct pmm_wmask m;
	uint8_t *fs = pmm_state(p);
	uint32_t changed = 0;
	pmm_window_mask(p, w, &m);
	for (uint32_t f = s; f < e; f++) {
		if (op == PMM_ROP_RESERVE && fs[f] == FS_FREE) {
			fs[f] = FS_RESERVED;
			m.bits[(f - w) / 64] &= ~pmm_bit(f - w);
			changed++;
		} else if (op == PMM_ROP_RELEASE && fs[f] == FS_RESERVED) {
			fs[f] = FS_FREE;
			m.bits[(f - w) / 64] |= pmm_bit(f - w);
			changed++;
		}
	}
	if (changed)
		pmm_window_rebuild(p, w, m.bits);
	return changed;
}

static int pmm_range_op(struct pmm *p, paddr_t start, paddr_t end, enum pmm_rop op,
                        uintptr_t caller)
{
	const char *name = op == PMM_ROP_RESERVE ? "reserve" : "release_range";
	if (start > end)
		return pmm_fail(p, MM_EINVAL, name, start, 0, caller);
	if ((start | end) & PAGE_MASK)
		return pmm_fail(p, MM_EALIGN, name, start, 0, caller);
	uint32_t s, e, done = 0;
	pmm_frames(p, start, end, &s, &e);
	bool dbl = false;
	pmm_pcp_flush(p);
	for (uint32_t w = ALIGN_DOWN(s, PMM_WIN); w < e; w += PMM_WIN) {
		int err = pmm_range_check_window(p, w, s > w ? s : w,
		                                 e < w + PMM_WIN ? e : w + PMM_WIN, op, &dbl);
		if (err)
			return pmm_fail(p, err, name, start, 0, caller);
	}
	if (dbl)
		return pmm_fail(p, MM_EDOUBLEFREE, name, start, 0, caller);
	for (uint32_t w = ALIGN_DOWN(s, PMM_WIN); w < e; w += PMM_WIN)
		done += pmm_range_apply_window(p, w, s > w ? s : w,
		                               e < w + PMM_WIN ? e : w + PMM_WIN, op);
	if (op == PMM_ROP_RESERVE) {
		p->reserved_pages += done;
		p->managed_pages -= done;
	} else {
		p->reserved_pages -= done;
		p->managed_pages += done;
	}
	return (int)done;
}

int pmm_reserve(struct pmm *p, paddr_t start, paddr_t end)
{
	uintptr_t caller = MM_CALLER();
	bool locked = pmm_lock(p);
	int r = pmm_range_op(p, start, end, PMM_ROP_RESERVE, caller);
	pmm_unlock(p, locked);
	return r;
}

int pmm_release_range(struct pmm *p, paddr_t start, paddr_t end)
{
	uintptr_t caller = MM_CALLER();
	bool locked = pmm_lock(p);
	int r = pmm_range_op(p, start, end, PMM_ROP_RELEASE, caller);
	pmm_unlock(p, locked);
	return r;
}

/* ---- stats -------------------------------------------------------------------- */

uint32_t pmm_free_pages(const struct pmm *p)
{
	return p->buddy_pages + pmm_pcp_pages(p);
}

/* Order of the largest cached block (the bitmaps are empty), or ~0. */
static uint32_t pmm_pcp_largest(const struct pmm *p)
{
	for (unsigned k = PMM_PCP_ORDERS; k-- > 0;)
		if (p->pcp_n[k])
			return k;
	return ~0u;
}

void pmm_get_stats(const struct pmm *p, struct pmm_stats *st)
{
	mm_memset(st, 0, sizeof(*st));
	st->free_pages = pmm_free_pages(p);
	st->allocated_pages = pmm_alloc_pages(p);
	st->managed_pages = p->managed_pages;
	st->reserved_pages = p->reserved_pages;
	st->cached_pages = pmm_pcp_pages(p);
	for (unsigned k = 0; k < PMM_ORDERS; k++)
		st->free_blocks[k] = p->orders[k].free_blocks;
	st->largest_free_order = p->nonempty ? 31u - (uint32_t)__builtin_clz(p->nonempty)
	                                     : pmm_pcp_largest(p);
	st->above_4g_bytes = p->above_4g_bytes;
	st->metadata_bytes = (uint32_t)p->size;
	st->span_pages = p->span;
	st->hole_pages = p->hole_pages + p->self_pages;
	st->errors = p->errors;
	st->alloc_failures = p->alloc_failures;
}

void pmm_print_summary(const struct pmm *p, const char *prefix)
{
	struct pmm_stats st;
	pmm_get_stats(p, &st);
	mm_printf("%s%u free pages (%u MiB), %u allocated, %u reserved, span %u frames, "
	          "%u errors, %u failed allocations\n", prefix, st.free_pages, st.free_pages >> 8,
	          st.allocated_pages, st.reserved_pages, st.span_pages, st.errors, st.alloc_failures);
	mm_printf("%sfree blocks per order:", prefix);
	for (unsigned k = 0; k < PMM_ORDERS; k++)
		mm_printf(" %u:%u", k, st.free_blocks[k]);
	mm_printf(" (+%u cached)\n", st.cached_pages);
	mm_printf("%smetadata %u bytes at 0x%llx (%u.%02u bytes/managed page), "
	          "above 4 GiB %llu MiB unused\n", prefix, st.metadata_bytes,
	          (unsigned long long)p->mem_pa,
	          st.managed_pages ? st.metadata_bytes / st.managed_pages : 0,
	          st.managed_pages ? st.metadata_bytes * 100u / st.managed_pages % 100u : 0,
	          (unsigned long long)(st.above_4g_bytes >> 20));
	memmap_print_stats(&p->mstats, prefix);
}

/* ---- checker ---------------------------------------------------------------- */

struct pmm_chk {                          /* running totals of one check */
	uint32_t errors;                      /* inconsistencies found */
	bool verbose;                         /* print the first few */
	uint32_t free_pages, alloc_pages, reserved, self, hole, cached;
};

static void pmm_chk_fail(struct pmm_chk *c, const char *what, uint32_t a, uint32_t b)
{
	if (c->verbose && c->errors < 8)
		mm_printf("pmm_check: %s (0x%x, 0x%x)\n", what, a, b);
	c->errors++;
}

static void pmm_check_order(const struct pmm *p, unsigned k, struct pmm_chk *c)
{
	const struct pmm_order *o = &p->orders[k];
	const uint64_t *bm = pmm_bm(p);
	uint32_t bits = p->span >> k, pop = 0;
	for (uint32_t l = 0; l < o->levels; l++) {
		uint32_t words = pmm_words(bits);
		for (uint32_t i = 0; i < words; i++) {
			uint64_t v = bm[o->lvl_off[l] + i];
			if (l == 0)
				pop += (uint32_t)__builtin_popcountll(v);
			if ((bits % 64) && i == words - 1 && (v >> (bits % 64)))
				pmm_chk_fail(c, "bits past the end", k, l);
			if (l > 0) {   /* a word below that is not empty has its bit (stale bits allowed) */
				for (uint32_t b = 0; b < 64 && i * 64 + b < bits; b++)
					if (!((v >> b) & 1) && bm[o->lvl_off[l - 1] + i * 64 + b] != 0)
						pmm_chk_fail(c, "summary bit missing", k, i * 64 + b);
			}
		}
		bits = words;
	}
	if (pop != o->free_blocks)
		pmm_chk_fail(c, "free_blocks count wrong", k, pop);
	if (((p->nonempty >> k) & 1) != (pop != 0))
		pmm_chk_fail(c, "nonempty mask wrong", k, pop);
	c->free_pages += o->free_blocks << k;
}

/* A block head of order k (allocated or cached) at frame f: aligned, not
 * inside the previous block; it covers its tail frames up to *alloc_end. */
static bool pmm_check_head(struct pmm_chk *c, uint32_t f, unsigned k, unsigned max_order,
                           uint32_t *alloc_end, const char *what)
{
	if (k > max_order || (f & ((1u << k) - 1)) || f < *alloc_end) {
		pmm_chk_fail(c, what, f, k);
		return false;
	}
	*alloc_end = f + (1u << k);
	return true;
}

/* Frame f of window m is in state b; alloc_end: end of the allocated or
 * cached block being walked (its tail frames are 0x00 and not free). */
static void pmm_check_frame(const struct pmm *p, const struct pmm_wmask *m, uint32_t f,
                            uint32_t *alloc_end, struct pmm_chk *c)
{
	uint8_t b = pmm_state(p)[f];
	bool is_free = pmm_mask_test(m->bits, f - m->base);
	if (is_free && b != FS_FREE)
		pmm_chk_fail(c, "free frame with non-free state", f, b);
	if (b & FS_HEAD) {
		unsigned k = b & 0x7F;
		pmm_check_head(c, f, k, PMM_MAX_ORDER, alloc_end, "bad allocated head");
		c->alloc_pages += k <= PMM_MAX_ORDER ? 1u << k : 0;
	} else if (pmm_is_cached_head(b)) {
		unsigned k = b & 0x0F;
		if (pmm_check_head(c, f, k, PMM_PCP_ORDERS - 1, alloc_end, "bad cached head"))
			c->cached += 1u << k;
	} else if (b == FS_FREE) {
		if (is_free && f < *alloc_end)
			pmm_chk_fail(c, "free frame inside an allocated block", f, b);
		if (!is_free && f >= *alloc_end)
			pmm_chk_fail(c, "orphan frame (neither free nor allocated)", f, b);
	} else if (f < *alloc_end) {
		pmm_chk_fail(c, "allocated block covers a non-tail frame", f, b);
	} else if (b == FS_RESERVED) {
		c->reserved++;
	} else if (b == FS_SELF) {
		c->self++;
	} else if (b == FS_HOLE) {
		c->hole++;
	} else {
		pmm_chk_fail(c, "unknown state byte", f, b);
	}
}

static void pmm_check_windows(const struct pmm *p, struct pmm_chk *c)
{
	struct pmm_wmask m;
	uint32_t alloc_end = 0;
	for (uint32_t w = 0; w < p->span; w += PMM_WIN) {
		pmm_window_mask(p, w, &m);
		if (m.overlaps)
			pmm_chk_fail(c, "frames in two free blocks", w, m.overlaps);
		if (m.unmerged)
			pmm_chk_fail(c, "free buddies not merged", w, m.unmerged);
		for (uint32_t f = w; f < w + PMM_WIN; f++)
			pmm_check_frame(p, &m, f, &alloc_end, c);
	}
}

/* Order k's cache: every entry a cached head of order k, none twice;
 * returns the frames it holds. */
static uint32_t pmm_check_pcp_order(const struct pmm *p, unsigned k, struct pmm_chk *c)
{
	const uint32_t *e = p->pcp + pmm_pcp_base(k);
	for (uint32_t i = 0; i < p->pcp_n[k]; i++) {
		if (e[i] >= p->span || pmm_state(p)[e[i]] != (FS_CACHED | k))
			pmm_chk_fail(c, "cache entry not in cached state", k, e[i]);
		for (uint32_t j = 0; j < i; j++)
			if (e[j] == e[i])
				pmm_chk_fail(c, "cache entry twice", k, e[i]);
	}
	return (uint32_t)p->pcp_n[k] << k;
}

static void pmm_check_pcp(const struct pmm *p, struct pmm_chk *c)
{
	uint32_t pages = 0;
	if (!pmm_pcp_counts_ok(p)) {
		pmm_chk_fail(c, "cache count too large", 0, 0);
		return;
	}
	for (unsigned k = 0; k < PMM_PCP_ORDERS; k++)
		pages += pmm_check_pcp_order(p, k, c);
	if (c->cached != pages)
		pmm_chk_fail(c, "cached frames != cache entries", c->cached, pages);
}

static bool pmm_check_header(const struct pmm *p, struct pmm_chk *c)
{
	if (!pmm_header_ok(p, p->size)) {
		pmm_chk_fail(c, "header invalid", p->magic, p->span);
		return false;
	}
	return true;
}

uint32_t pmm_check(const struct pmm *p, bool verbose)
{
	struct pmm_chk c;
	mm_memset(&c, 0, sizeof(c));
	c.verbose = verbose;
	if (!pmm_check_header(p, &c))
		return c.errors;
	for (unsigned k = 0; k < PMM_ORDERS; k++)
		pmm_check_order(p, k, &c);
	if (c.free_pages != p->buddy_pages)
		pmm_chk_fail(&c, "buddy_pages wrong", c.free_pages, p->buddy_pages);
	pmm_check_windows(p, &c);
	pmm_check_pcp(p, &c);
	if (c.alloc_pages + c.free_pages + c.cached != p->managed_pages)
		pmm_chk_fail(&c, "managed_pages wrong", c.alloc_pages, p->managed_pages);
	if (c.reserved != p->reserved_pages || c.self != p->self_pages || c.hole != p->hole_pages)
		pmm_chk_fail(&c, "reserved/self/hole counts wrong", c.reserved, p->reserved_pages);
	if (pmm_state(p)[0] != FS_HOLE)
		pmm_chk_fail(&c, "frame 0 is not a hole", pmm_state(p)[0], 0);
	return c.errors;
}
