/*
 * The slab heap on its production page source, the region layer
 * (mm/kmem_region.c over mm/region.c), on the host MMU simulator
 * (tests/host/mmu_sim.c): slabs and large blocks become committed region
 * pages whose frames come from the PMM, and everything freed goes back --
 * the region layer's committed count and the PMM's used frames return to
 * their starting values. The heap region is REGION_NOLAZY: a touch of a page
 * the heap gave back (freed large block, released slab) is refused by the
 * fault path and reported with the region's name, and the heap reuses the
 * pages afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <mmboot/errno.h>
#include <mmboot/kmem.h>
#include <mmboot/paging.h>
#include <mmboot/region.h>
#include <mmboot/pmm.h>
#include "host_env.h"
#include "mmu_sim.h"

static struct kmem_region_source src;
static uint32_t pmm_used0, region_committed0;

static int setup(void **state)
{
	(void)state;
	if (mmu_sim_setup(64u << 20, 64) != 0)
		return -1;
	struct region_stats rs;
	region_get_stats(&rs);
	pmm_used0 = mmu_sim_pmm_used() - rs.meta_committed - arch_page_tables();
	region_committed0 = rs.committed_owned - rs.meta_committed;
	if (kmem_region_source_init(&src, 32u << 20) != 0)
		return -1;
	return kmem_init(&src.ps, KMEM_INIT_DEBUG, 99);
}

static int teardown(void **state)
{
	(void)state;
	uint32_t leaked = kmem_fini();
	int err = kmem_region_source_fini(&src);
	return leaked || err ? -1 : 0;
}

static void test_heap_on_regions(void **state)
{
	(void)state;
	static void *objs[20000];
	static uint32_t sizes[20000];
	uint32_t seed = 1;
	struct region_stats rs;
	for (uint32_t i = 0; i < 20000; i++) {
		seed = seed * 1103515245u + 12345u;
		sizes[i] = i % 97 == 0 ? 4096 + (seed >> 20) : 1 + (seed >> 16) % 2048;
		objs[i] = kmalloc(sizes[i], KM_NORMAL);
		assert_non_null(objs[i]);
		memset(objs[i], (int)(i & 0xff), sizes[i]);
	}
	struct kmem_stats ks;
	struct region_info ri;
	kmem_get_stats(&ks);
	/* every committed heap page is a committed page of the heap region */
	assert_int_equal(region_get_info(src.region, &ri), 0);
	assert_int_equal(ri.committed, ks.committed_pages);
	assert_true(ks.committed_pages > 2000);
	assert_true(mmu_sim_pmm_used() >= pmm_used0 + ks.committed_pages);
	assert_int_equal(kmem_check(true), 0);
	assert_int_equal(region_check(true), 0);
	for (uint32_t i = 0; i < 20000; i++) {
		const uint8_t *p = objs[i];
		for (uint32_t b = 0; b < sizes[i]; b += 61)
			assert_int_equal(p[b], i & 0xff);
		kfree(objs[i]);
	}
	for (struct kmem_cache *c = kmem_cache_next(NULL); c; c = kmem_cache_next(c))
		kmem_cache_shrink(c);
	assert_int_equal(kmem_check(true), 0);
	kmem_get_stats(&ks);
	assert_int_equal(region_get_info(src.region, &ri), 0);
	assert_int_equal(ri.committed, ks.committed_pages);
	assert_int_equal(ks.large_blocks, 0);
	/* only descriptor pages and the cache-of-caches slabs stay */
	uint64_t held = 0;
	for (struct kmem_cache *c = kmem_cache_next(NULL); c; c = kmem_cache_next(c)) {
		struct kmem_cache_stats cs;
		kmem_cache_get_stats(c, &cs);
		if (strcmp(cs.name, "kmem_cache") != 0)
			assert_int_equal(cs.bytes_held, 0);
		held += cs.bytes_held;
	}
	assert_int_equal(ks.committed_pages, ks.meta_pages + held / PAGE_SIZE);
	assert_int_equal(kmem_fini(), 0);
	assert_int_equal(kmem_region_source_fini(&src), 0);
	/* the region layer's own metadata pool and page tables may keep pages */
	region_get_stats(&rs);
	assert_int_equal(rs.committed_owned - rs.meta_committed, region_committed0);
	assert_int_equal(mmu_sim_pmm_used() - rs.meta_committed - arch_page_tables(), pmm_used0);
	assert_int_equal(region_check(true), 0);
	/* set up again for teardown */
	assert_int_equal(kmem_region_source_init(&src, 32u << 20), 0);
	assert_int_equal(kmem_init(&src.ps, KMEM_INIT_DEBUG, 98), 0);
}

/* The va of a heap pointer (the host sees pages through the MMU window). */
static vaddr_t heap_va(const void *p)
{
	return src.va + (vaddr_t)((const char *)p - (const char *)src.ps.base);
}

/* The region flag itself: no lazy commit, explicit commit still works. */
static void test_nolazy_region(void **state)
{
	(void)state;
	struct region *r = region_create(8 * PAGE_SIZE, REGION_WRITE | REGION_NOLAZY, "nolazy");
	struct region *lazy = region_create(8 * PAGE_SIZE, REGION_WRITE, "lazy");
	assert_non_null(r);
	assert_non_null(lazy);
	vaddr_t va = region_base(r) + 2 * PAGE_SIZE;
	assert_int_equal(mmu_sim_touch(region_base(lazy), true), 0);   /* the plain region commits */
	assert_int_equal(mmu_sim_touch(va, false), -MM_ENOTALLOC);
	assert_int_equal(mmu_sim_touch(va, true), -MM_ENOTALLOC);
	assert_int_equal(region_page_state(va), REGION_PAGE_RESERVED);
	assert_int_equal(region_commit(r, va, 1), 0);
	assert_int_equal(mmu_sim_write32(va + 8, 0x12345678u), 0);
	assert_int_equal(region_decommit(r, va, 1), 0);
	assert_int_equal(mmu_sim_touch(va + 8, true), -MM_ENOTALLOC);
	struct region_info ri;
	assert_int_equal(region_get_info(r, &ri), 0);
	assert_int_equal(ri.committed, 0);
	assert_int_equal(region_check(true), 0);
	assert_int_equal(region_destroy(r), 0);
	assert_int_equal(region_destroy(lazy), 0);
}

/* A write to a freed large kmalloc block: refused by the fault path (the
 * heap region never commits by fault), reported naming the address, the
 * access and the region 'heap'; nothing changes; the heap reuses the pages. */
static void test_freed_large_block_faults(void **state)
{
	(void)state;
	struct region_stats s0, s1;
	struct region_info ri0, ri1;
	uint8_t *p = kmalloc(3 * PAGE_SIZE, KM_NORMAL);
	assert_non_null(p);
	vaddr_t va = heap_va(p) + PAGE_SIZE + 24;
	assert_int_equal(mmu_sim_touch(va, true), 0);        /* live: committed, mapped */
	kfree(p);
	assert_int_equal(region_page_state(va), REGION_PAGE_RESERVED);
	region_get_stats(&s0);
	assert_int_equal(region_get_info(src.region, &ri0), 0);
	int rc = mmu_sim_touch(va, true);                      /* the stray write */
	assert_int_equal(rc, -MM_ENOTALLOC);
	assert_int_equal(mmu_sim_touch(va, false), -MM_ENOTALLOC);
	region_get_stats(&s1);
	assert_int_equal(region_get_info(src.region, &ri1), 0);
	assert_int_equal(s1.faults_refused, s0.faults_refused + 2);
	assert_int_equal(s1.faults, s0.faults);
	assert_int_equal(ri1.committed, ri0.committed);   /* nothing was committed behind the heap */
	assert_int_equal(region_page_state(va), REGION_PAGE_RESERVED);
	char want[32];
	snprintf(want, sizeof(want), "0x%08x", va);
	host_log_set(HOST_LOG_CAPTURE);
	host_log_clear();
	region_fault_report(va, REGION_FAULT_WRITE, rc);
	host_log_set(HOST_LOG_QUIET);
	assert_non_null(strstr(host_log_buf, want));
	assert_non_null(strstr(host_log_buf, "write"));
	assert_non_null(strstr(host_log_buf, "region '" KMEM_REGION_NAME "'"));
	assert_non_null(strstr(host_log_buf, "uncommitted page"));
	assert_int_equal(kmem_check(true), 0);
	assert_int_equal(region_check(true), 0);
	/* the heap commits the same pages again for the next block of that size */
	uint8_t *q = kmalloc(3 * PAGE_SIZE, KM_NORMAL);
	assert_ptr_equal(q, p);
	assert_int_equal(mmu_sim_touch(va, true), 0);
	memset(q, 0x5a, 3 * PAGE_SIZE);
	kfree(q);
	assert_int_equal(mmu_sim_touch(va, true), -MM_ENOTALLOC);
	assert_int_equal(kmem_check(true), 0);
}

/* A slab given back to the region layer (kmem_cache_shrink) faults too. */
static void test_released_slab_faults(void **state)
{
	(void)state;
	struct kmem_cache *c = kmem_cache_create("uaf-slab", 256, 8, NULL, KMEM_NODEBUG);
	assert_non_null(c);
	static void *objs[64];
	for (uint32_t i = 0; i < 64; i++)
		assert_non_null(objs[i] = kmem_cache_alloc(c, KM_NORMAL));
	vaddr_t va = heap_va(objs[0]);
	for (uint32_t i = 0; i < 64; i++)
		kmem_cache_free(c, objs[i]);
	assert_int_equal(mmu_sim_touch(va, true), 0);   /* still a kept empty slab or magazine */
	assert_true(kmem_cache_shrink(c) > 0);
	assert_int_equal(mmu_sim_touch(va, true), -MM_ENOTALLOC);
	assert_int_equal(kmem_cache_destroy(c), 0);
	assert_int_equal(kmem_check(true), 0);
	assert_int_equal(region_check(true), 0);
}

/* Out of physical memory inside the region layer: kmalloc returns NULL,
 * nothing is corrupted, freeing brings everything back. */
static void test_region_oom(void **state)
{
	(void)state;
	static void *objs[40000];
	uint32_t n = 0;
	void *p;
	while (n < 40000 && (p = kmalloc(1024, KM_NORMAL)) != NULL)
		objs[n++] = p;
	assert_true(n > 1000 && n < 40000);   /* 64 MiB machine ran out before 40 MB */
	assert_null(kmalloc(64 * 1024, KM_NORMAL));
	assert_int_equal(kmem_check(true), 0);
	assert_int_equal(region_check(true), 0);
	for (uint32_t i = 0; i < n; i++)
		kfree(objs[i]);
	for (struct kmem_cache *c = kmem_cache_next(NULL); c; c = kmem_cache_next(c))
		kmem_cache_shrink(c);
	assert_non_null(p = kmalloc(64 * 1024, KM_NORMAL));
	kfree(p);
	assert_int_equal(kmem_check(true), 0);
}

/* Low-memory hook: the heap keeps empty slabs in its per-cache reserve
 * after a burst is freed; when a lazy commit elsewhere finds the PMM empty,
 * the region layer calls the registered reclaimer (kmem_reap) and the
 * commit succeeds. Without the hook the same touch fails with -MM_ENOMEM. */
static void test_lazy_commit_reaps_heap(void **state)
{
	(void)state;
	static void *objs[4096];
	for (uint32_t i = 0; i < 4096; i++)
		assert_non_null(objs[i] = kmalloc(512, KM_NORMAL));
	for (uint32_t i = 0; i < 4096; i++)
		kfree(objs[i]);
	struct kmem_stats ks0, ks1;
	kmem_get_stats(&ks0);
	assert_true(ks0.committed_pages > 64);   /* empty slabs kept in the reserve */
	struct region *hog = region_create(64u << 20, REGION_WRITE, "hog");
	assert_non_null(hog);
	uint32_t pg = 0;
	int rc = 0;
	for (; pg < (64u << 20) / PAGE_SIZE && rc == 0; pg++)
		rc = mmu_sim_touch(region_base(hog) + pg * PAGE_SIZE, true);
	assert_int_equal(rc, -MM_ENOMEM);                  /* no hook yet: out of memory */
	assert_int_equal(pmm_free_pages(mmu_sim_pmm()), 0);
	vaddr_t next = region_base(hog) + (pg - 1) * PAGE_SIZE;
	struct region_stats r0, r1;
	region_get_stats(&r0);
	region_set_reclaim(kmem_reap);
	assert_int_equal(mmu_sim_touch(next, true), 0);    /* the reap freed frames */
	assert_int_equal(region_page_state(next), REGION_PAGE_COMMITTED);
	region_get_stats(&r1);
	assert_int_equal(r1.reclaims, r0.reclaims + 1);
	kmem_get_stats(&ks1);
	assert_true(ks1.committed_pages < ks0.committed_pages);
	/* explicit region_commit goes through the hook too (more than the reap can free: ENOMEM) */
	assert_int_equal(region_commit(hog, next + PAGE_SIZE, (64u << 20) / PAGE_SIZE - pg), -MM_ENOMEM);
	region_get_stats(&r0);
	assert_int_equal(r0.reclaims, r1.reclaims + 1);
	region_set_reclaim(NULL);
	assert_int_equal(region_destroy(hog), 0);
	assert_int_equal(kmem_check(true), 0);
	assert_int_equal(region_check(true), 0);
}

int main(void)
{
	host_log_set(HOST_LOG_QUIET);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_heap_on_regions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_region_oom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lazy_commit_reaps_heap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nolazy_region, setup, teardown),
		cmocka_unit_test_setup_teardown(test_freed_large_block_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_released_slab_faults, setup, teardown),
	};
	return cmocka_run_group_tests_name("kmem_region", tests, NULL, NULL);
}
