/*
 * In-kernel tests of the slab heap (mm/kmem*.c on the region layer).
 *
 *   kmem_boot_state     the heap heap_init set up is sound, kmalloc works
 *   kmem_stress         KMEM_STRESS_OPS random operations over eight caches
 *                       and kmalloc sizes 1 B .. 16 KiB, every object's
 *                       content verified before it is freed or resized;
 *                       then everything freed, and the heap's, the region
 *                       layer's and the PMM's counts back to their start
 *   kmem_debug_*        each debug check proven by making the mistake on
 *                       purpose: the heap must stop with a report (a panic
 *                       the test catches) naming the error, the cache and
 *                       the caller
 *   kmem_reserve_cycle  4096 objects allocated and freed, three times: pages
 *                       are committed in the first round only (the cache
 *                       keeps the slabs of its recent peak); kmem_reap then
 *                       gives every one back (region and PMM counts)
 *   kmem_freed_page_fault a write through a dangling pointer into a freed
 *                       large block: the heap region commits only
 *                       explicitly, so the page fault is refused (the
 *                       region layer reports address, access, region
 *                       'heap'), the test catches it, nothing was
 *                       committed behind the heap, and the heap then
 *                       hands the page out again
 *
 * Before the region layer is up (vm_init not called yet) there is no heap
 * to test; the tests say so and pass. Once vm_init has run, the heap must
 * be there (heap_init), or they fail.
 */
#include "../kernel.h"
#include "../ktest.h"
#include "../vm.h"
#include "../../arch/x86/cpu.h"
#include <mmboot/kmem.h>
#include <mmboot/pmm.h>
#include <mmboot/region.h>

#ifndef KMEM_STRESS_OPS
#define KMEM_STRESS_OPS   (1u << 20)   /* one million operations; make KMEM_STRESS_OPS=n */
#endif
#define KMEM_STRESS_SLOTS 2048u
#define KMEM_NCACHES      8u

static bool kmem_test_ready(struct ktest_ctx *t)
{
	if (!vm_pmm()) {
		mm_printf("# %s: region layer not initialised in this run, no heap to test\n", t->name);
		return false;
	}
	KT_EXPECT(t, heap_ready(), "vm_init ran but the heap was not set up (heap_init)");
	return heap_ready();
}

static void kmem_shrink_all(void)
{
	for (struct kmem_cache *c = kmem_cache_next(NULL); c; c = kmem_cache_next(c))
		kmem_cache_shrink(c);
}

static void test_kmem_boot_state(struct ktest_ctx *t)
{
	if (!kmem_test_ready(t))
		return;
	KT_EXPECT_EQ(t, kmem_check(true), 0);
	uint8_t *p = kzalloc(100, KM_NORMAL);
	KT_EXPECT(t, p != NULL, "kzalloc(100) failed");
	if (p) {
		KT_EXPECT_EQ(t, ksize(p), 104);
		KT_EXPECT_EQ(t, p[0] | p[99], 0);
		kfree(p);
	}
	kfree(NULL);
	KT_EXPECT(t, kmalloc(0, KM_NORMAL) == NULL, "kmalloc(0) gave memory");
	KT_EXPECT_EQ(t, kmem_check(true), 0);
}
KTEST(kmem_boot_state, test_kmem_boot_state);

/* ---- stress ------------------------------------------------------------------ */

struct ks_obj {
	uint32_t *p;            /* object, NULL when the slot is empty */
	uint32_t words;         /* 32-bit words written */
	uint32_t size;          /* bytes requested */
	uint32_t seed;          /* content pattern */
	uint8_t cache;          /* index, or 0xff for kmalloc */
};

static struct ks_obj ks[KMEM_STRESS_SLOTS];
static struct kmem_cache *ks_caches[KMEM_NCACHES];
static const uint32_t ks_sizes[KMEM_NCACHES] = { 16, 24, 64, 100, 192, 500, 1000, 3000 };
static uint32_t ks_rng = 0x2545f491u;
static uint32_t ks_bad;

static uint32_t ks_rnd(void)
{
	ks_rng ^= ks_rng << 13;
	ks_rng ^= ks_rng >> 17;
	ks_rng ^= ks_rng << 5;
	return ks_rng;
}

static void ks_ctor(void *p)
{
	*(uint32_t *)p = 0xc0ffee;
}

/* Sizes: mostly small, some up to 2 KiB, 1 in 256 a page block. */
static uint32_t ks_size(uint32_t r)
{
	uint32_t u = r >> 8;
	switch (r & 0xff) {
	case 0:
		return 2049 + u % (14 * 1024);
	default:
		if ((r & 0xff) < 160)
			return 1 + u % 64;
		if ((r & 0xff) < 240)
			return 65 + u % 448;
		return 513 + u % 1536;
	}
}

static void ks_fill(struct ks_obj *o)
{
	for (uint32_t i = 0; i < o->words; i++)
		o->p[i] = o->seed + i * 0x9e3779b9u;
}

static bool ks_verify(const struct ks_obj *o, uint32_t words)
{
	for (uint32_t i = 0; i < words; i++)
		if (o->p[i] != o->seed + i * 0x9e3779b9u)
			return false;
	return true;
}

static void ks_alloc(struct ks_obj *o, uint32_t r)
{
	if (r & 0x10000) {
		o->cache = (uint8_t)((r >> 17) % KMEM_NCACHES);
		o->size = ks_sizes[o->cache];
		o->p = kmem_cache_alloc(ks_caches[o->cache], KM_NORMAL);
	} else {
		o->cache = 0xff;
		o->size = ks_size(ks_rnd());
		o->p = kmalloc(o->size, KM_NORMAL);
	}
	if (!o->p) {
		ks_bad++;   /* 256 MiB machines never run out here */
		return;
	}
	o->words = o->size / 4;
	o->seed = ks_rnd();
	ks_fill(o);
}

static void ks_release(struct ks_obj *o)
{
	if (!ks_verify(o, o->words))
		ks_bad++;
	if (o->cache == 0xff)
		kfree(o->p);
	else
		kmem_cache_free(ks_caches[o->cache], o->p);
	o->p = NULL;
}

static void ks_realloc(struct ks_obj *o)
{
	uint32_t size = ks_size(ks_rnd());
	uint32_t *n = krealloc(o->p, size, KM_NORMAL);
	if (!n) {
		ks_bad++;
		return;
	}
	uint32_t keep = size / 4 < o->words ? size / 4 : o->words;
	o->p = n;
	if (!ks_verify(o, keep))
		ks_bad++;
	o->size = size;
	o->words = size / 4;
	ks_fill(o);
}

static void ks_step(void)
{
	uint32_t r = ks_rnd();
	struct ks_obj *o = &ks[r % KMEM_STRESS_SLOTS];
	if (!o->p)
		ks_alloc(o, r);
	else if (o->cache == 0xff && (r & 0x700000) == 0)
		ks_realloc(o);
	else
		ks_release(o);
}

struct ks_counts {
	uint32_t pmm_free;      /* PMM free frames */
	uint32_t region_owned;  /* region layer: committed pages with PMM frames */
	uint32_t heap_pages;    /* heap: committed pages */
};

static void ks_counts(struct ks_counts *c)
{
	struct region_stats rs;
	struct kmem_stats hs;
	kmem_shrink_all();
	region_get_stats(&rs);
	kmem_get_stats(&hs);
	c->pmm_free = pmm_free_pages(vm_pmm());
	c->region_owned = rs.committed_owned;
	c->heap_pages = hs.committed_pages;
}

static bool ks_create_caches(struct ktest_ctx *t)
{
	for (uint32_t i = 0; i < KMEM_NCACHES; i++) {
		ks_caches[i] = kmem_cache_create("stress", ks_sizes[i], i == 3 ? 32 : 8,
		                                 i == 2 ? ks_ctor : NULL, i == 4 ? KMEM_DEBUG : 0);
		KT_EXPECT(t, ks_caches[i] != NULL, "kmem_cache_create %u failed", i);
		if (!ks_caches[i])
			return false;
	}
	return true;
}

static void test_kmem_stress(struct ktest_ctx *t)
{
	if (!kmem_test_ready(t))
		return;
	struct ks_counts before, after;
	ks_counts(&before);
	if (!ks_create_caches(t))
		return;
	uint64_t t0 = rdtsc();
	for (uint32_t i = 0; i < KMEM_STRESS_OPS; i++)
		ks_step();
	uint64_t t1 = rdtsc();
	struct kmem_stats hs;
	kmem_get_stats(&hs);
	mm_printf("# kmem_stress: %u operations in %u Mcycles; peak state: %u heap pages committed\n",
	          KMEM_STRESS_OPS, (uint32_t)((t1 - t0) >> 20), hs.committed_pages);
	KT_EXPECT_EQ(t, kmem_check(true), 0);
	for (uint32_t i = 0; i < KMEM_STRESS_SLOTS; i++)
		if (ks[i].p)
			ks_release(&ks[i]);
	KT_EXPECT_EQ(t, ks_bad, 0);
	for (uint32_t i = 0; i < KMEM_NCACHES; i++)
		KT_EXPECT_EQ(t, kmem_cache_destroy(ks_caches[i]), 0);
	KT_EXPECT_EQ(t, kmem_check(true), 0);
	ks_counts(&after);
	KT_EXPECT_EQ(t, after.heap_pages, before.heap_pages);
	KT_EXPECT_EQ(t, after.region_owned, before.region_owned);
	KT_EXPECT_EQ(t, after.pmm_free, before.pmm_free);
}
KTEST(kmem_stress, test_kmem_stress);

/* ---- debug checks: each mistake made on purpose ------------------------------------ */

static bool msg_has(const char *s, const char *sub)
{
	for (; *s; s++) {
		const char *a = s, *b = sub;
		while (*a && *b && *a == *b)
			a++, b++;
		if (!*b)
			return true;
	}
	return false;
}

/* The caught report names the error, the cache and a caller. */
static void expect_report(struct ktest_ctx *t, const char *what, const char *cache)
{
	const char *m = ktest_fault_message();
	KT_EXPECT(t, ktest_fault_caught() == KTEST_FAULT_PANIC, "no report for %s", what);
	KT_EXPECT(t, msg_has(m, what), "report '%s' does not say '%s'", m, what);
	KT_EXPECT(t, msg_has(m, cache), "report '%s' does not name cache '%s'", m, cache);
	KT_EXPECT(t, msg_has(m, "caller 0x"), "report '%s' does not name the caller", m);
}

#define EXPECT_REPORT(t, stmt, what, cache)                                    \
	do {                                                                       \
		if (ktest_expect_fault(KTEST_FAULT_PANIC) == 0) {                      \
			stmt;                                                              \
			ktest_expect_done();                                               \
			KT_EXPECT(t, 0, "no report for: %s", #stmt);                       \
		} else {                                                               \
			ktest_expect_done();                                               \
			expect_report(t, what, cache);                                     \
		}                                                                      \
	} while (0)

static void test_kmem_debug_double_free(struct ktest_ctx *t)
{
	if (!kmem_test_ready(t))
		return;
	struct kmem_cache *c = kmem_cache_create("dbg-dfree", 48, 8, NULL, KMEM_DEBUG);
	void *a = kmem_cache_alloc(c, KM_NORMAL), *b = kmem_cache_alloc(c, KM_NORMAL);
	kmem_cache_free(c, a);
	kmem_cache_free(c, b);
	EXPECT_REPORT(t, kmem_cache_free(c, a), "double free", "dbg-dfree");
	KT_EXPECT_EQ(t, kmem_check(true), 0);
	KT_EXPECT_EQ(t, kmem_cache_destroy(c), 0);
}
KTEST(kmem_debug_double_free, test_kmem_debug_double_free);

static void test_kmem_debug_not_object(struct ktest_ctx *t)
{
	if (!kmem_test_ready(t))
		return;
	char *p = kmalloc(200, KM_NORMAL);
	EXPECT_REPORT(t, kfree(p + 8), "not an object start", "kmalloc-208");
	char *big = kmalloc(3 * PAGE_SIZE, KM_NORMAL);
	EXPECT_REPORT(t, kfree(big + PAGE_SIZE), "not an object start", "cache -");
	kfree(big);
	kfree(p);
	KT_EXPECT_EQ(t, kmem_check(true), 0);
}
KTEST(kmem_debug_not_object, test_kmem_debug_not_object);

static void test_kmem_debug_wrong_cache(struct ktest_ctx *t)
{
	if (!kmem_test_ready(t))
		return;
	struct kmem_cache *c1 = kmem_cache_create("dbg-one", 64, 8, NULL, 0);
	struct kmem_cache *c2 = kmem_cache_create("dbg-two", 64, 8, NULL, 0);
	void *a = kmem_cache_alloc(c1, KM_NORMAL);
	EXPECT_REPORT(t, kmem_cache_free(c2, a), "wrong cache", "dbg-two");
	KT_EXPECT(t, msg_has(ktest_fault_message(), "owner dbg-one"), "owner not named");
	kmem_cache_free(c1, a);
	KT_EXPECT_EQ(t, kmem_cache_destroy(c1), 0);
	KT_EXPECT_EQ(t, kmem_cache_destroy(c2), 0);
}
KTEST(kmem_debug_wrong_cache, test_kmem_debug_wrong_cache);

static void test_kmem_debug_redzone(struct ktest_ctx *t)
{
	if (!kmem_test_ready(t))
		return;
	struct kmem_cache *c = kmem_cache_create("dbg-rz", 30, 8, NULL, KMEM_DEBUG);
	char *a = kmem_cache_alloc(c, KM_NORMAL);
	a[30] = 0;   /* one byte past the end */
	EXPECT_REPORT(t, kmem_cache_free(c, a), "red zone", "dbg-rz");
	a[30] = (char)0xbb;
	kmem_cache_free(c, a);
	KT_EXPECT_EQ(t, kmem_check(true), 0);
	KT_EXPECT_EQ(t, kmem_cache_destroy(c), 0);
}
KTEST(kmem_debug_redzone, test_kmem_debug_redzone);

static void test_kmem_debug_poison(struct ktest_ctx *t)
{
	if (!kmem_test_ready(t))
		return;
	struct kmem_cache *c = kmem_cache_create("dbg-poison", 64, 8, NULL, KMEM_DEBUG);
	void *keep = kmem_cache_alloc(c, KM_NORMAL);
	char *a = kmem_cache_alloc(c, KM_NORMAL);
	kmem_cache_free(c, a);
	a[5] = 'x';   /* write after free */
	KT_EXPECT(t, kmem_check(false) >= 1, "kmem_check missed the write after free");
	void *again = NULL;
	EXPECT_REPORT(t, again = kmem_cache_alloc(c, KM_NORMAL), "written after free", "dbg-poison");
	(void)again;
	kmem_cache_free(c, a);   /* the report came after it was handed out again */
	kmem_cache_free(c, keep);
	KT_EXPECT_EQ(t, kmem_check(true), 0);
	KT_EXPECT_EQ(t, kmem_cache_destroy(c), 0);
}
KTEST(kmem_debug_poison, test_kmem_debug_poison);

static void test_kmem_debug_freelist(struct ktest_ctx *t)
{
	if (!kmem_test_ready(t))
		return;
	struct kmem_cache *c = kmem_cache_create("dbg-link", 64, 8, NULL, KMEM_NODEBUG);
	void *keep = kmem_cache_alloc(c, KM_NORMAL);
	uint32_t *a = kmem_cache_alloc(c, KM_NORMAL), *b = kmem_cache_alloc(c, KM_NORMAL);
	kmem_cache_free(c, b);
	kmem_cache_free(c, a);
	kmem_cache_shrink(c);   /* magazine -> slab free list: a's link to b, hardened */
	KT_EXPECT(t, a[0] != (uint32_t)(uintptr_t)b, "free-list link stored in clear");
	uint32_t saved = a[0];
	a[0] ^= 0x1000;   /* a stray write into a freed object */
	EXPECT_REPORT(t, kmem_cache_alloc(c, KM_NORMAL), "free-list pointer corrupted", "dbg-link");
	a[0] = saved;
	KT_EXPECT_EQ(t, kmem_check(true), 0);
	KT_EXPECT(t, kmem_cache_alloc(c, KM_NORMAL) == a, "repaired list does not give a");
	kmem_cache_free(c, a);
	kmem_cache_free(c, keep);
	KT_EXPECT_EQ(t, kmem_cache_destroy(c), 0);
}
KTEST(kmem_debug_freelist, test_kmem_debug_freelist);

/* ---- stray writes to pages the heap gave back ------------------------------------------ */

static void test_kmem_freed_page_fault(struct ktest_ctx *t)
{
	if (!kmem_test_ready(t))
		return;
	uint8_t *p = kmalloc(3 * PAGE_SIZE, KM_NORMAL);
	KT_EXPECT(t, p != NULL, "kmalloc(3 pages) failed");
	if (!p)
		return;
	mm_memset(p, 0x3c, 3 * PAGE_SIZE);
	volatile uint32_t *stray = (volatile uint32_t *)(p + PAGE_SIZE + 40);
	vaddr_t va = (vaddr_t)(uintptr_t)stray;
	struct region *r = region_lookup(va);
	KT_EXPECT(t, r && msg_has(region_name(r), KMEM_REGION_NAME), "block not in region '%s'",
	          KMEM_REGION_NAME);
	KT_EXPECT(t, r && (region_flags(r) & REGION_NOLAZY), "heap region commits lazily");
	kfree(p);
	KT_EXPECT_EQ(t, region_page_state(va), REGION_PAGE_RESERVED);
	struct region_stats s0, s1;
	region_get_stats(&s0);
	if (ktest_expect_fault(KTEST_FAULT_PAGE) == 0) {
		*stray = 0xdeadbeefu;   /* use after free: must fault, not commit a page */
		ktest_expect_done();
		KT_EXPECT(t, 0, "write to freed heap page 0x%08x was not caught", va);
	} else {
		ktest_expect_done();
		KT_EXPECT_EQ(t, ktest_fault_caught(), KTEST_FAULT_PAGE);
		KT_EXPECT_EQ(t, ktest_fault_addr(), va);
	}
	region_get_stats(&s1);
	KT_EXPECT_EQ(t, s1.faults_refused, s0.faults_refused + 1);
	KT_EXPECT_EQ(t, s1.committed_owned, s0.committed_owned);
	KT_EXPECT_EQ(t, region_page_state(va), REGION_PAGE_RESERVED);
	KT_EXPECT_EQ(t, kmem_check(true), 0);
	/* the heap hands the page out again (committed explicitly): take
	 * single pages until one is the stray page, then free them all */
	static void *pages[1024];
	uint32_t n = 0;
	bool reused = false;
	while (n < 1024 && !reused && (pages[n] = kmalloc(PAGE_SIZE, KM_NORMAL)) != NULL)
		reused = (vaddr_t)(uintptr_t)pages[n++] == (va & ~(vaddr_t)PAGE_MASK);
	KT_EXPECT(t, reused, "page 0x%08x not handed out again in %u pages", va, n);
	if (reused) {
		*stray = 0x600df00du;
		KT_EXPECT_EQ(t, *stray, 0x600df00du);
	}
	while (n)
		kfree(pages[--n]);
	KT_EXPECT_EQ(t, kmem_check(true), 0);
}
KTEST(kmem_freed_page_fault, test_kmem_freed_page_fault);

/* ---- the empty-slab reserve ---------------------------------------------------------------- */

static void test_kmem_reserve_cycle(struct ktest_ctx *t)
{
	if (!kmem_test_ready(t))
		return;
	static void *objs[4096];
	struct region_stats r0, r1;
	kmem_shrink_all();   /* no reserve anywhere: the counts below are the baseline */
	region_get_stats(&r0);
	uint32_t pmm0 = pmm_free_pages(vm_pmm()), owned_round1 = 0;
	struct kmem_cache *c = kmem_cache_create("cycle-128", 128, 8, NULL, KMEM_NODEBUG);
	KT_EXPECT(t, c != NULL, "kmem_cache_create failed");
	if (!c)
		return;
	for (uint32_t round = 0; round < 3; round++) {
		for (uint32_t i = 0; i < 4096; i++) {
			objs[i] = kmem_cache_alloc(c, KM_NORMAL);
			KT_EXPECT(t, objs[i] != NULL, "alloc %u of round %u failed", i, round);
			if (!objs[i])
				return;
		}
		for (uint32_t i = 0; i < 4096; i++)
			kmem_cache_free(c, objs[i]);
		region_get_stats(&r1);
		if (round == 0)
			owned_round1 = r1.committed_owned;
	}
	KT_EXPECT(t, owned_round1 > r0.committed_owned + 100, "first round committed only %u pages",
	          owned_round1 - r0.committed_owned);
	KT_EXPECT_EQ(t, r1.committed_owned, owned_round1);   /* rounds 2 and 3 committed nothing */
	struct kmem_stats k0, k1;
	kmem_get_stats(&k0);
	uint32_t pages = kmem_reap();
	kmem_get_stats(&k1);
	KT_EXPECT(t, pages >= 100, "kmem_reap gave back only %u pages", pages);
	KT_EXPECT_EQ(t, k1.reaps, k0.reaps + 1);
	KT_EXPECT_EQ(t, kmem_check(true), 0);
	KT_EXPECT_EQ(t, kmem_cache_destroy(c), 0);
	kmem_shrink_all();
	region_get_stats(&r1);
	KT_EXPECT_EQ(t, r1.committed_owned, r0.committed_owned);
	KT_EXPECT_EQ(t, pmm_free_pages(vm_pmm()), pmm0);
}
KTEST(kmem_reserve_cycle, test_kmem_reserve_cycle);
