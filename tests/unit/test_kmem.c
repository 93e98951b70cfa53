/*
 * Unit tests of the slab heap (mm/kmem*.c) on a host page source
 * (tests/unit/test_kmem_src.h): size classes and their waste bound, kmalloc
 * family semantics, caches and constructors, statistics and page return,
 * out of memory, and every debug check made to fire by a deliberate mistake
 * (caught through host_env's panic catcher or the error hook).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <mmboot/kmem.h>
#include <mmboot/mm_env.h>
#include "host_env.h"
#include "../../mm/kmem_int.h"   /* KMEM_MAG_MAX, KMEM_EPOCH_REFILLS */
#include "test_kmem_src.h"

#define ARENA_PAGES 4096u   /* 16 MiB */

static struct host_ps src;

static int setup_flags(void **state, uint32_t budget, uint32_t flags)
{
	(void)state;
	if (host_ps_init(&src, ARENA_PAGES, budget, 1) != 0)
		return -1;
	return kmem_init(&src.ps, flags, 12345) == 0 ? 0 : -1;
}
static int setup(void **state) { return setup_flags(state, ARENA_PAGES, 0); }
static int setup_debug(void **state) { return setup_flags(state, ARENA_PAGES, KMEM_INIT_DEBUG); }
static int setup_small(void **state) { return setup_flags(state, 300, 0); }

static int teardown(void **state)
{
	(void)state;
	kmem_set_error_hook(NULL);
	host_panic_disarm();
	uint32_t bad = kmem_check(true);
	uint32_t leaked = kmem_fini();
	uint32_t left = src.committed, errs = src.errors;
	host_ps_fini(&src);
	if (bad || leaked || left || errs) {
		fprintf(stderr, "teardown: check %u, leaked %u, pages left %u, source errors %u\n", bad,
		        leaked, left, errs);
		return -1;
	}
	return 0;
}

/* Committed pages other than page descriptors; the source must agree. */
static uint32_t data_pages(void)
{
	struct kmem_stats st;
	kmem_get_stats(&st);
	assert_int_equal(st.committed_pages, src.committed);
	return st.committed_pages - st.meta_pages;
}

/* ---- size classes ------------------------------------------------------------- */

/* Every size 1..2048 maps to the smallest class holding it; waste is below
 * 8 bytes up to 64 bytes and below 12.5 % of the class above. */
static void test_size_classes_waste_bound(void **state)
{
	(void)state;
	uint32_t n = kmalloc_class_count();
	assert_true(n >= 28);
	assert_int_equal(kmalloc_class_at(0), 8);
	assert_int_equal(kmalloc_class_at(n - 1), KMALLOC_MAX_CLASS);
	for (uint32_t i = 1; i < n; i++)
		assert_true(kmalloc_class_at(i) > kmalloc_class_at(i - 1));
	double worst = 0;
	for (uint32_t size = 1; size <= KMALLOC_MAX_CLASS; size++) {
		uint32_t cls = kmalloc_class_size(size);
		assert_true(cls >= size);
		assert_int_equal(cls % 8, 0);
		for (uint32_t i = 0; i < n; i++) {   /* minimal: the first class that fits */
			if (kmalloc_class_at(i) >= size) {
				assert_int_equal(kmalloc_class_at(i), cls);
				break;
			}
		}
		if (size <= 64) {
			assert_true(cls - size < 8);
		} else {
			assert_true((uint64_t)(cls - size) * 8 < cls);
			double w = (double)(cls - size) / cls;
			worst = w > worst ? w : worst;
		}
	}
	assert_true(worst < 0.125);
	assert_int_equal(kmalloc_class_size(0), 0);
	assert_int_equal(kmalloc_class_size(KMALLOC_MAX_CLASS + 1), 0);
}

/* ---- kmalloc family -------------------------------------------------------- */

static void fill(void *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		((uint8_t *)p)[i] = (uint8_t)(seed * 131 + i * 7);
}
static int intact(const void *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (((const uint8_t *)p)[i] != (uint8_t)(seed * 131 + i * 7))
			return 0;
	return 1;
}

static void test_kmalloc_all_sizes(void **state)
{
	(void)state;
	static void *ptrs[6000];
	uint32_t k = 0;
	for (uint32_t size = 1; size <= 3 * PAGE_SIZE; size += size < 2100 ? 1 : 509) {
		void *p = kmalloc(size, KM_NORMAL);
		assert_non_null(p);
		assert_true(((uintptr_t)p & 7) == 0);
		size_t ks = ksize(p);
		assert_true(ks >= size);
		if (!kmem_debug_default() && size <= KMALLOC_MAX_CLASS && (ks & (ks - 1)) == 0)
			assert_true(((uintptr_t)p & (ks - 1)) == 0);   /* power-of-two classes: natural alignment */
		if (size > KMALLOC_MAX_CLASS)
			assert_true(((uintptr_t)p & PAGE_MASK) == 0);
		fill(p, size, size);
		ptrs[k++] = p;
	}
	assert_int_equal(kmem_check(true), 0);
	k = 0;
	for (uint32_t size = 1; size <= 3 * PAGE_SIZE; size += size < 2100 ? 1 : 509) {
		assert_true(intact(ptrs[k], size, size));
		kfree(ptrs[k++]);
	}
	assert_int_equal(kmem_check(true), 0);
}

static void test_kmalloc_edges(void **state)
{
	(void)state;
	kfree(NULL);   /* no-op */
	assert_null(kmalloc(0, KM_NORMAL));
	assert_null(kmalloc((size_t)1 << 40, KM_NORMAL));
	assert_null(kcalloc(SIZE_MAX / 2, 3, KM_NORMAL));    /* overflow */
	assert_null(kcalloc((size_t)1 << 33, (size_t)1 << 33, KM_NORMAL));
	uint8_t *z = kcalloc(100, 7, KM_NORMAL);
	assert_non_null(z);
	for (int i = 0; i < 700; i++)
		assert_int_equal(z[i], 0);
	kfree(z);
	uint8_t *q = kzalloc(5000, KM_NORMAL);
	assert_non_null(q);
	for (int i = 0; i < 8192; i++)
		assert_int_equal(q[i], 0);
	kfree(q);
	assert_int_equal(ksize(NULL), 0);
	int on_stack;
	assert_int_equal(ksize(&on_stack), 0);
	assert_int_equal(kmem_check(true), 0);
}

static void test_krealloc(void **state)
{
	(void)state;
	uint8_t *p = krealloc(NULL, 10, KM_NORMAL);
	assert_non_null(p);
	fill(p, 10, 3);
	uint8_t *same = krealloc(p, 16, KM_NORMAL);   /* fits the class: in place */
	assert_ptr_equal(same, p);
	size_t sizes[] = { 100, 1000, 2048, 3000, 10000, 40, 9000 };
	size_t have = 10;
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint8_t *n = krealloc(p, sizes[i], KM_NORMAL);
		assert_non_null(n);
		assert_true(intact(n, have < sizes[i] ? have : sizes[i], 3));
		p = n;
		have = sizes[i] < have ? sizes[i] : have;
		fill(p, sizes[i], 3);
		have = sizes[i];
	}
	size_t old_usable = ksize(p);   /* bytes past it are new: KM_ZERO zeroes them */
	uint8_t *z = krealloc(p, 20000, KM_ZERO);
	assert_non_null(z);
	assert_true(intact(z, 9000, 3));
	for (size_t i = old_usable; i < 20000; i++)
		assert_int_equal(z[i], 0);
	assert_null(krealloc(z, 0, KM_NORMAL));   /* frees */
	assert_int_equal(kmem_check(true), 0);
}

/* ---- caches ------------------------------------------------------------------ */

static uint32_t ctor_calls;
static void ctor_obj(void *obj)
{
	ctor_calls++;
	memset(obj, 0x42, 40);
	((uint32_t *)obj)[0] = 0xc0ffee;
}

static void test_cache_ctor_runs_once(void **state)
{
	(void)state;
	ctor_calls = 0;
	struct kmem_cache *c = kmem_cache_create("ctor-40", 40, 8, ctor_obj, 0);
	assert_non_null(c);
	assert_int_equal(ctor_calls, 0);   /* objects made with the first slab */
	uint32_t *o = kmem_cache_alloc(c, KM_NORMAL);
	assert_non_null(o);
	struct kmem_cache_stats st;
	kmem_cache_get_stats(c, &st);
	assert_int_equal(ctor_calls, st.objs_per_slab);
	assert_int_equal(o[0], 0xc0ffee);
	o[1] = 7;   /* constructed state the user keeps across free */
	kmem_cache_free(c, o);
	uint32_t before = ctor_calls;
	for (int i = 0; i < 100; i++) {
		uint32_t *x = kmem_cache_alloc(c, KM_NORMAL);
		assert_int_equal(x[0], 0xc0ffee);    /* free pointer not stored over the object */
		assert_ptr_equal(x, o);
		assert_int_equal(x[1], 7);
		kmem_cache_free(c, x);
	}
	assert_int_equal(ctor_calls, before);
	assert_int_equal(kmem_check(true), 0);
	assert_int_equal(kmem_cache_destroy(c), 0);
}

static void test_cache_destroy_busy(void **state)
{
	(void)state;
	struct kmem_cache *c = kmem_cache_create("busy", 100, 64, NULL, 0);
	assert_non_null(c);
	void *a = kmem_cache_alloc(c, KM_ZERO);
	assert_non_null(a);
	assert_true(((uintptr_t)a & 63) == 0);
	assert_int_equal(kmem_cache_destroy(c), -MM_EBUSY);
	assert_int_equal(kmem_check(true), 0);
	kmem_cache_free(c, a);
	assert_int_equal(kmem_cache_destroy(c), 0);
	assert_null(kmem_cache_create("bad", 0, 8, NULL, 0));
	assert_null(kmem_cache_create("bad", 8, 24, NULL, 0));   /* align not a power of two */
}

/* Slab lists move full -> partial -> empty; empty slabs above the reserve
 * go back to the page source; an alloc/free pair at a boundary commits no
 * page. */
static void test_stats_and_page_return(void **state)
{
	(void)state;
	uint32_t base = data_pages();
	struct kmem_cache *c = kmem_cache_create("stat-200", 200, 8, NULL, 0);
	struct kmem_cache_stats st;
	kmem_cache_get_stats(c, &st);
	uint32_t per = st.objs_per_slab, n = per * 5;
	static void *objs[4096];
	for (uint32_t i = 0; i < n; i++)
		assert_non_null(objs[i] = kmem_cache_alloc(c, KM_NORMAL));
	kmem_cache_get_stats(c, &st);
	assert_int_equal(st.live, n);
	assert_int_equal(st.slabs_full, 5);
	assert_int_equal(st.slabs_partial + st.slabs_empty, 0);
	assert_int_equal(st.bytes_held, 5ull * st.slab_pages * PAGE_SIZE);
	kmem_cache_free(c, objs[0]);
	kmem_cache_get_stats(c, &st);
	assert_int_equal(st.live, n - 1);
	assert_int_equal(st.slabs_full, 5);   /* the object waits in the magazine */
	assert_int_equal(kmem_cache_shrink(c), 0);   /* flushes it; no slab is empty */
	kmem_cache_get_stats(c, &st);
	assert_int_equal(st.slabs_full, 4);
	assert_int_equal(st.slabs_partial, 1);
	/* boundary pair: the active slab is full; a pair must not commit pages */
	uint32_t commits = src.commits;
	objs[0] = kmem_cache_alloc(c, KM_NORMAL);
	for (int i = 0; i < 1000; i++) {
		void *x = kmem_cache_alloc(c, KM_NORMAL);
		kmem_cache_free(c, x);
	}
	uint32_t after_pairs = src.commits;
	assert_true(after_pairs - commits <= 1);   /* at most the one new slab */
	for (uint32_t i = 0; i < n; i++)
		kmem_cache_free(c, objs[i]);
	kmem_cache_get_stats(c, &st);
	assert_int_equal(st.live, 0);
	assert_true(st.slabs_empty <= 2);   /* active + reserve */
	assert_int_equal(kmem_check(true), 0);
	assert_int_equal(kmem_cache_destroy(c), 0);
	/* everything back to the page source */
	assert_int_equal(data_pages(), base);
}

static void test_large_blocks_return(void **state)
{
	(void)state;
	struct kmem_stats s0, s1;
	kmem_get_stats(&s0);
	void *a = kmalloc(3 * PAGE_SIZE, KM_NORMAL), *b = kmalloc(PAGE_SIZE + 1, KM_NORMAL);
	void *c = kmalloc(20 * PAGE_SIZE, KM_NORMAL);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(ksize(b), 2 * PAGE_SIZE);
	kmem_get_stats(&s1);
	assert_int_equal(s1.large_blocks, s0.large_blocks + 3);
	assert_int_equal(s1.large_pages, s0.large_pages + 25);
	kfree(b);
	kfree(a);   /* coalesces with b's run */
	void *d = kmalloc(5 * PAGE_SIZE, KM_NORMAL);   /* fits the coalesced hole */
	assert_non_null(d);
	assert_int_equal(kmem_check(true), 0);
	kfree(c);
	kfree(d);
	kmem_get_stats(&s1);
	assert_int_equal(s1.large_blocks, s0.large_blocks);
	assert_int_equal(s1.committed_pages, s0.committed_pages);
	assert_int_equal(kmem_check(true), 0);
}

/* ---- empty-slab reserve ---------------------------------------------------------------- */

static void cache_stats(struct kmem_cache *c, struct kmem_cache_stats *st)
{
	kmem_cache_get_stats(c, st);
	assert_true(st->slabs_empty <= st->reserve_max + 1);   /* the reserve + an empty active slab */
}

/* A burst allocated and freed again and again (the benchmark's 4096-object
 * cycle) commits pages in the first round only: the cache keeps the slabs
 * of its recent peak. kmem_cache_shrink gives them all back. */
static void test_reserve_cycle_no_thrash(void **state)
{
	(void)state;
	uint32_t base = data_pages();
	struct kmem_cache *c = kmem_cache_create("cycle-128", 128, 8, NULL, KMEM_NODEBUG);
	struct kmem_cache_stats st;
	static void *objs[4096];
	uint32_t commits_after_first = 0;
	for (int round = 0; round < 5; round++) {
		for (uint32_t i = 0; i < 4096; i++)
			assert_non_null(objs[i] = kmem_cache_alloc(c, KM_NORMAL));
		for (uint32_t i = 0; i < 4096; i++)
			kmem_cache_free(c, objs[i]);
		if (round == 0)
			commits_after_first = src.commits;
		assert_int_equal(kmem_check(true), 0);
	}
	assert_int_equal(src.commits, commits_after_first);   /* no page committed again */
	cache_stats(c, &st);
	assert_int_equal(st.live, 0);
	assert_true(st.slabs_peak >= 4096 / st.objs_per_slab);
	assert_true(st.slabs_empty >= 4096 / st.objs_per_slab - KMEM_MAG_MAX / st.objs_per_slab - 2);
	assert_true(kmem_cache_shrink(c) >= st.slabs_empty * st.slab_pages);
	cache_stats(c, &st);
	assert_int_equal(st.bytes_held, 0);
	assert_int_equal(kmem_cache_destroy(c), 0);
	assert_int_equal(data_pages(), base);
}

/* The reserve is capped (reserve_max slabs), and a cache whose demand fell
 * gives its surplus back within two epochs of refills. */
static void test_reserve_cap_and_decay(void **state)
{
	(void)state;
	uint32_t base = data_pages();
	struct kmem_cache *c = kmem_cache_create("decay-1024", 1024, 8, NULL, KMEM_DEBUG);
	struct kmem_cache_stats st;
	static void *objs[2400];
	for (uint32_t i = 0; i < 2400; i++)
		assert_non_null(objs[i] = kmem_cache_alloc(c, KM_NORMAL));
	cache_stats(c, &st);
	uint32_t burst_slabs = (uint32_t)(st.bytes_held / (st.slab_pages * PAGE_SIZE));
	assert_true(burst_slabs > st.reserve_max);   /* the burst is larger than the cap */
	for (uint32_t i = 0; i < 2400; i++)
		kmem_cache_free(c, objs[i]);
	cache_stats(c, &st);
	assert_int_equal(st.slabs_empty, st.reserve_max + 1);   /* the cap + the active slab */
	assert_int_equal(kmem_check(true), 0);
	/* small churn: two slabs' worth at a time, many refills (no magazine) */
	uint32_t per = st.objs_per_slab;
	for (uint32_t k = 0; k < 2u * KMEM_EPOCH_REFILLS + 8; k++) {
		for (uint32_t i = 0; i < 2 * per; i++)
			assert_non_null(objs[i] = kmem_cache_alloc(c, KM_NORMAL));
		for (uint32_t i = 0; i < 2 * per; i++)
			kmem_cache_free(c, objs[i]);
	}
	cache_stats(c, &st);
	assert_true(st.slabs_peak <= 4);
	assert_true(st.slabs_empty <= 4);
	assert_int_equal(kmem_check(true), 0);
	assert_int_equal(kmem_cache_destroy(c), 0);
	assert_int_equal(data_pages(), base);
}

/* Memory pressure: when the page source cannot commit a run, the heap reaps
 * every cache's reserve and the allocation succeeds. */
static void test_reap_under_pressure(void **state)
{
	(void)state;
	uint32_t base = data_pages();
	struct kmem_cache *c = kmem_cache_create("reap-512", 512, 8, NULL, KMEM_NODEBUG);
	struct kmem_cache_stats st;
	struct kmem_stats ks;
	static void *objs[1600];
	for (uint32_t i = 0; i < 1600; i++)   /* 200 pages of the 300-page budget */
		assert_non_null(objs[i] = kmem_cache_alloc(c, KM_NORMAL));
	for (uint32_t i = 0; i < 1600; i++)
		kmem_cache_free(c, objs[i]);
	cache_stats(c, &st);
	assert_true(st.bytes_held >= 180u * PAGE_SIZE);   /* kept as the reserve */
	kmem_get_stats(&ks);
	assert_int_equal(ks.reaps, 0);
	void *big = kmalloc(150 * PAGE_SIZE, KM_NORMAL);   /* does not fit beside the reserve */
	assert_non_null(big);
	kmem_get_stats(&ks);
	assert_int_equal(ks.reaps, 1);
	assert_true(ks.reaped_pages >= 180);
	cache_stats(c, &st);
	assert_int_equal(st.bytes_held, 0);
	assert_int_equal(kmem_check(true), 0);
	assert_null(kmalloc(200 * PAGE_SIZE, KM_NORMAL));   /* really out: NULL after a reap */
	kmem_get_stats(&ks);
	assert_int_equal(ks.reaps, 2);
	kfree(big);
	assert_int_equal(kmem_cache_destroy(c), 0);
	assert_int_equal(kmem_check(true), 0);
	assert_int_equal(data_pages(), base);
}

/* ---- out of memory ------------------------------------------------------------------ */

static void test_oom_recovers(void **state)
{
	(void)state;
	static void *objs[40000];
	uint32_t base = data_pages();
	for (int round = 0; round < 2; round++) {
		uint32_t n = 0;
		void *p;
		while (n < ARRAY_SIZE(objs) && (p = kmalloc(n % 3 ? 96 : 700, KM_NORMAL)) != NULL) {
			fill(p, n % 3 ? 96 : 700, n);
			objs[n++] = p;
		}
		assert_true(n > 100 && n < ARRAY_SIZE(objs));   /* the budget ran out */
		assert_null(kmalloc(5 * PAGE_SIZE, KM_NORMAL));
		assert_int_equal(kmem_check(true), 0);
		for (uint32_t i = 0; i < n; i++) {
			assert_true(intact(objs[i], i % 3 ? 96 : 700, i));
			kfree(objs[i]);
		}
		for (struct kmem_cache *c = kmem_cache_next(NULL); c; c = kmem_cache_next(c))
			kmem_cache_shrink(c);
		assert_int_equal(kmem_check(true), 0);
		assert_int_equal(data_pages(), base);
	}
}

/* ---- debug checks ------------------------------------------------------------------- */

static struct kmem_error last_err;
static uint32_t hook_calls;
static void hook(const struct kmem_error *e)
{
	last_err = *e;
	hook_calls++;
}

#define EXPECT_PANIC_WITH(stmt, text)                                          \
	do {                                                                       \
		if (HOST_EXPECT_PANIC() == 0) {                                        \
			stmt;                                                              \
			host_panic_disarm();                                               \
			fail_msg("no report for: %s", #stmt);                              \
		}                                                                      \
		assert_non_null(strstr(host_panic_msg, text));                         \
	} while (0)

static void test_debug_double_free(void **state)
{
	(void)state;
	void *a = kmalloc(48, KM_NORMAL), *b = kmalloc(48, KM_NORMAL);
	kfree(a);
	kfree(b);   /* a is no longer the free-list head: only the state word knows */
	EXPECT_PANIC_WITH(kfree(a), "double free");
	assert_non_null(strstr(host_panic_msg, "kmalloc-48"));
	assert_int_equal(kmem_check(true), 0);
}

static void test_double_free_nodebug_head(void **state)
{
	(void)state;
	struct kmem_cache *c = kmem_cache_create("nodebug", 32, 8, NULL, KMEM_NODEBUG);
	void *a = kmem_cache_alloc(c, KM_NORMAL);
	kmem_cache_free(c, a);
	EXPECT_PANIC_WITH(kmem_cache_free(c, a), "double free");
	assert_non_null(strstr(host_panic_msg, "nodebug"));
	assert_int_equal(kmem_cache_destroy(c), 0);
}

/* A double free that is not back to back (a, b, a) on a cache with a
 * magazine: the push cannot see it; the next flush must drop the second
 * copy, report it and keep the counts right (live back to 0, kmem_check
 * clean, destroy works); and a duplicate found before any flush (destroy)
 * must not leave live wrapped. Debug caches (no magazine) report at once. */
static void delayed_double_free(uint32_t flags, uint32_t extra)
{
	static void *v[400];
	struct kmem_cache *c = kmem_cache_create("delayed", 64, 8, NULL, flags);
	assert_non_null(c);
	for (uint32_t i = 0; i < 2 + extra; i++)
		v[i] = kmem_cache_alloc(c, KM_NORMAL);
	kmem_set_error_hook(hook);
	hook_calls = 0;
	kmem_cache_free(c, v[0]);
	kmem_cache_free(c, v[1]);
	kmem_cache_free(c, v[0]);                    /* the delayed double free */
	for (uint32_t i = 2; i < 2 + extra; i++)      /* enough frees to flush the magazine */
		kmem_cache_free(c, v[i]);
	if (extra) {
		assert_int_equal(hook_calls, 1);
		assert_int_equal(last_err.kind, KMEM_ERR_DOUBLE_FREE);
		assert_ptr_equal(last_err.obj, v[0]);
	}
	struct kmem_cache_stats st;
	kmem_cache_get_stats(c, &st);
	if (extra)
		assert_int_equal(st.live, 0);
	/* no object handed out twice among the next ones */
	uint32_t n = extra ? 2 + extra : 2;
	for (uint32_t i = 0; i < n; i++)
		v[i] = kmem_cache_alloc(c, KM_NORMAL);
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < i; j++)
			if (extra)
				assert_ptr_not_equal(v[i], v[j]);
	for (uint32_t i = 0; i < n; i++)
		kmem_cache_free(c, v[i]);
	kmem_cache_get_stats(c, &st);
	if (extra)
		assert_int_equal(st.live, 0);
	assert_int_equal(kmem_check(true), 0);
	assert_int_equal(kmem_cache_destroy(c), 0);
	assert_true(hook_calls >= 1);
	kmem_set_error_hook(NULL);
}

static void test_delayed_double_free_flush(void **state)
{
	(void)state;
	delayed_double_free(0, 298);
}

static void test_delayed_double_free_destroy(void **state)
{
	(void)state;
	/* no flush before destroy: destroy finds the duplicate in the magazine */
	struct kmem_cache *c = kmem_cache_create("delayed2", 64, 8, NULL, 0);
	void *a = kmem_cache_alloc(c, KM_NORMAL), *b = kmem_cache_alloc(c, KM_NORMAL);
	kmem_set_error_hook(hook);
	hook_calls = 0;
	kmem_cache_free(c, a);
	kmem_cache_free(c, b);
	kmem_cache_free(c, a);
	assert_int_equal(kmem_cache_destroy(c), 0);
	assert_int_equal(hook_calls, 1);
	assert_int_equal(last_err.kind, KMEM_ERR_DOUBLE_FREE);
	assert_int_equal(kmem_check(true), 0);
	kmem_set_error_hook(NULL);
}

static void test_delayed_double_free_debug(void **state)
{
	(void)state;
	delayed_double_free(KMEM_DEBUG, 298);
}

static void test_debug_not_object_start(void **state)
{
	(void)state;
	char *a = kmalloc(100, KM_NORMAL);
	EXPECT_PANIC_WITH(kfree(a + 8), "not an object start");
	char *big = kmalloc(3 * PAGE_SIZE, KM_NORMAL);
	EXPECT_PANIC_WITH(kfree(big + PAGE_SIZE), "not an object start");
	int on_stack;
	EXPECT_PANIC_WITH(kfree(&on_stack), "not allocated from the heap");
	kfree(big);
	kfree(a);
	assert_int_equal(kmem_check(true), 0);
}

static void test_debug_wrong_cache(void **state)
{
	(void)state;
	struct kmem_cache *c1 = kmem_cache_create("one", 64, 8, NULL, 0);
	struct kmem_cache *c2 = kmem_cache_create("two", 64, 8, NULL, 0);
	void *a = kmem_cache_alloc(c1, KM_NORMAL);
	EXPECT_PANIC_WITH(kmem_cache_free(c2, a), "wrong cache");
	assert_non_null(strstr(host_panic_msg, "cache two"));
	assert_non_null(strstr(host_panic_msg, "owner one"));
	kmem_cache_free(c1, a);
	assert_int_equal(kmem_cache_destroy(c1), 0);
	assert_int_equal(kmem_cache_destroy(c2), 0);
}

static void test_debug_redzone(void **state)
{
	(void)state;
	char *a = kmalloc(24, KM_NORMAL);
	a[24] = 1;   /* one byte past the object */
	EXPECT_PANIC_WITH(kfree(a), "red zone");
	assert_int_equal(kmem_check(false), 1);   /* the checker sees it too */
	a[24] = (char)0xbb;
	char *b = kmalloc(24, KM_NORMAL);
	b[-1] = 0;   /* one byte before */
	EXPECT_PANIC_WITH(kfree(b), "red zone");
	b[-1] = (char)0xbb;
	kfree(a);
	kfree(b);
	assert_int_equal(kmem_check(true), 0);
}

/* Debug kmalloc keeps the request: the slack between the request and the
 * class size is red zone (kmalloc(200) sits in the 208 class), ksize says
 * 200, and krealloc shrinking in place moves the red zone down. */
static void test_debug_redzone_from_request(void **state)
{
	(void)state;
	char *a = kmalloc(200, KM_NORMAL);
	assert_int_equal(ksize(a), 200);
	memset(a, 'x', 200);                       /* the whole request is usable */
	a[207] = 1;                                /* inside the class, past the request */
	EXPECT_PANIC_WITH(kfree(a), "red zone");
	assert_int_equal(kmem_check(false), 1);
	a[207] = (char)0xbb;
	a[200] = 2;
	EXPECT_PANIC_WITH(kfree(a), "red zone");
	a[200] = (char)0xbb;
	kfree(a);
	char *b = kmalloc(100, KM_NORMAL);         /* class 104 */
	assert_ptr_equal(krealloc(b, 50, KM_NORMAL), b);
	assert_int_equal(ksize(b), 50);
	b[60] = 3;
	EXPECT_PANIC_WITH(kfree(b), "red zone");
	b[60] = (char)0xbb;
	kfree(b);
	assert_int_equal(kmem_check(true), 0);
}

/* A large block freed twice is a double free, not "not from the heap". */
static void test_large_double_free(void **state)
{
	(void)state;
	char *big = kmalloc(5000, KM_NORMAL);
	assert_non_null(big);
	kfree(big);
	EXPECT_PANIC_WITH(kfree(big), "double free");
	assert_int_equal(kmem_check(true), 0);
}

static void test_debug_poison(void **state)
{
	(void)state;
	char *a = kmalloc(64, KM_NORMAL);
	kfree(a);
	a[10] = 'x';   /* write after free */
	assert_int_equal(kmem_check(false), 1);
	EXPECT_PANIC_WITH(kmalloc(64, KM_NORMAL), "written after free");
	/* the report came after the object was handed out: it is live now */
	kfree(a);
	assert_int_equal(kmem_check(true), 0);
}

static void test_freelist_hardening(void **state)
{
	(void)state;
	struct kmem_cache *c = kmem_cache_create("hard", 64, 8, NULL, KMEM_NODEBUG);
	void *keep = kmem_cache_alloc(c, KM_NORMAL);   /* keeps the slab from being released */
	uintptr_t *a = kmem_cache_alloc(c, KM_NORMAL), *b = kmem_cache_alloc(c, KM_NORMAL);
	kmem_cache_free(c, b);
	kmem_cache_free(c, a);
	kmem_cache_shrink(c);   /* magazine -> slab free list: a's link -> b, stored hardened */
	assert_true(a[0] != (uintptr_t)b);
	uintptr_t saved = a[0];
	a[0] ^= 0x1000;   /* a stray write into a freed object */
	assert_true(kmem_check(false) >= 1);
	EXPECT_PANIC_WITH(kmem_cache_alloc(c, KM_NORMAL), "free-list pointer corrupted");
	a[0] = saved;
	assert_int_equal(kmem_check(true), 0);
	assert_ptr_equal(kmem_cache_alloc(c, KM_NORMAL), a);
	assert_ptr_equal(kmem_cache_alloc(c, KM_NORMAL), b);
	kmem_cache_free(c, a);
	kmem_cache_free(c, b);
	kmem_cache_free(c, keep);
	assert_int_equal(kmem_cache_destroy(c), 0);
}

/* With a hook, each report names the kind, cache, object and caller, and the
 * bad operation is abandoned with the heap consistent. */
static void test_hook_reports_caller(void **state)
{
	(void)state;
	kmem_set_error_hook(hook);
	hook_calls = 0;
	char *a = kmalloc(200, KM_NORMAL);
	kfree(a);
	kfree(a);
	assert_int_equal(hook_calls, 1);
	assert_int_equal(last_err.kind, KMEM_ERR_DOUBLE_FREE);
	assert_string_equal(last_err.cache, "kmalloc-208");
	assert_ptr_equal(last_err.obj, a);
	uintptr_t fn = (uintptr_t)test_hook_reports_caller;
	assert_true(last_err.caller > fn && last_err.caller < fn + 8192);
	assert_int_equal(kmem_check(true), 0);
	char *b = kmalloc(200, KM_NORMAL);
	b[ksize(b)] = 0;   /* first byte past the class size */
	kfree(b);
	assert_int_equal(last_err.kind, KMEM_ERR_REDZONE);
	b[ksize(b)] = (char)0xbb;
	kfree(b);   /* now it goes */
	assert_int_equal(hook_calls, 2);
	assert_int_equal(kmem_check(true), 0);
}

int main(void)
{
	host_log_set(HOST_LOG_QUIET);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_classes_waste_bound),
		cmocka_unit_test_setup_teardown(test_kmalloc_all_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kmalloc_all_sizes, setup_debug, teardown),
		cmocka_unit_test_setup_teardown(test_kmalloc_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_krealloc, setup_debug, teardown),
		cmocka_unit_test_setup_teardown(test_cache_ctor_runs_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_ctor_runs_once, setup_debug, teardown),
		cmocka_unit_test_setup_teardown(test_cache_destroy_busy, setup_debug, teardown),
		cmocka_unit_test_setup_teardown(test_stats_and_page_return, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_blocks_return, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_cycle_no_thrash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_cap_and_decay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reap_under_pressure, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_oom_recovers, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_debug_double_free, setup_debug, teardown),
		cmocka_unit_test_setup_teardown(test_double_free_nodebug_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delayed_double_free_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delayed_double_free_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delayed_double_free_debug, setup_debug, teardown),
		cmocka_unit_test_setup_teardown(test_debug_not_object_start, setup_debug, teardown),
		cmocka_unit_test_setup_teardown(test_debug_wrong_cache, setup_debug, teardown),
		cmocka_unit_test_setup_teardown(test_debug_redzone, setup_debug, teardown),
		cmocka_unit_test_setup_teardown(test_debug_poison, setup_debug, teardown),
		cmocka_unit_test_setup_teardown(test_debug_redzone_from_request, setup_debug, teardown),
		cmocka_unit_test_setup_teardown(test_large_double_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_freelist_hardening, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_reports_caller, setup_debug, teardown),
	};
	return cmocka_run_group_tests_name("kmem", tests, NULL, NULL);
}
