/*
 * Host unit tests of the region VMM (mm/region.c, mm/vmem.c) and of the
 * i386 paging code (arch/x86/paging32.c) over the simulated MMU
 * (tests/host/mmu_sim.c). Every test starts a fresh simulated machine:
 * 64 MiB of RAM, a 64-page kernel image adopted as region "kernel".
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <mmboot/region.h>
#include <mmboot/vmem.h>
#include <mmboot/paging.h>
#include <mmboot/pmm.h>
#include <mmboot/errno.h>
#include "host_env.h"
#include "mmu_sim.h"

#define RAM MiB(64)

static int setup(void **state)
{
	(void)state;
	host_log_set(HOST_LOG_QUIET);
	mmu_sim_set_pse(true);
	return mmu_sim_setup((uint32_t)RAM, 64) == 0 ? 0 : -1;
}

static uint32_t free_pages(void) { return pmm_free_pages(mmu_sim_pmm()); }
static uint32_t bytes_pages(uint32_t n) { return (n + PAGE_SIZE - 1) / PAGE_SIZE; }

static uint32_t committed_of(struct region *r)
{
	struct region_info in;
	assert_int_equal(region_get_info(r, &in), 0);
	return in.committed;
}

/* Create and destroy once so the internal pool has its pages committed. */
static void warm_pool(uint32_t size)
{
	struct region *r = region_create(size, REGION_WRITE, "warm");
	assert_non_null(r);
	assert_int_equal(region_commit(r, region_base(r), 1), 0);
	assert_int_equal(region_destroy(r), 0);
}

static void test_lazy_commit_reads_back(void **state)
{
	(void)state;
	struct region *r = region_create(64 * 1024, REGION_WRITE, "lazy");
	assert_non_null(r);
	assert_int_equal(committed_of(r), 0);
	assert_int_equal(region_size(r), 64 * 1024);
	vaddr_t b = region_base(r);
	assert_int_equal(region_page_state(b + 3 * PAGE_SIZE), REGION_PAGE_RESERVED);
	assert_int_equal(mmu_sim_write32(b + 3 * PAGE_SIZE + 8, 0xdeadbeef), 0);
	assert_int_equal(committed_of(r), 1);
	assert_int_equal(region_page_state(b + 3 * PAGE_SIZE), REGION_PAGE_COMMITTED);
	uint32_t v = 0;
	assert_int_equal(mmu_sim_read32(b + 3 * PAGE_SIZE + 8, &v), 0);
	assert_int_equal(v, 0xdeadbeef);
	/* the rest of a committed page reads zero */
	const uint8_t *p = arch_va_ptr(b + 3 * PAGE_SIZE);
	for (uint32_t i = 0; i < PAGE_SIZE; i++)
		if (i < 8 || i >= 12)
			assert_int_equal(p[i], 0);
	/* a second touch does not commit again */
	assert_int_equal(mmu_sim_touch(b + 3 * PAGE_SIZE, true), 0);
	assert_int_equal(committed_of(r), 1);
	assert_int_equal(region_check(true), 0);
	assert_int_equal(region_destroy(r), 0);
	assert_int_equal(region_check(true), 0);
}

static void test_guard_and_outside_faults(void **state)
{
	(void)state;
	struct region *r = region_create(3 * PAGE_SIZE, REGION_WRITE | REGION_GUARD, "guarded");
	assert_non_null(r);
	vaddr_t b = region_base(r);
	assert_int_equal(mmu_sim_touch(b - 1, true), -MM_ERESERVED);
	assert_int_equal(mmu_sim_touch(b + 3 * PAGE_SIZE, true), -MM_ERESERVED);
	assert_int_equal(region_page_state(b - PAGE_SIZE), REGION_PAGE_GUARD);
	assert_ptr_equal(region_lookup(b - PAGE_SIZE), r);
	assert_int_equal(mmu_sim_touch(b + 2 * PAGE_SIZE, true), 0);

	host_log_set(HOST_LOG_CAPTURE);
	host_log_clear();
	region_fault_report(b - 1, REGION_FAULT_WRITE, -MM_ERESERVED);
	assert_non_null(strstr(host_log_buf, "guard page"));
	assert_non_null(strstr(host_log_buf, "'guarded'"));
	assert_non_null(strstr(host_log_buf, "write"));
	/* far into the free arena: no region */
	vaddr_t far = b + MiB(100);
	assert_null(region_lookup(far));
	assert_int_equal(mmu_sim_touch(far, false), -MM_ENOENT);
	host_log_clear();
	region_fault_report(far, 0, -MM_ENOENT);
	assert_non_null(strstr(host_log_buf, "unallocated page"));
	/* below the arena, not the kernel image: outside everything */
	assert_int_equal(mmu_sim_touch(0x1000, true), -MM_ERANGE);
	host_log_clear();
	region_fault_report(0x1000, REGION_FAULT_WRITE, -MM_ERANGE);
	assert_non_null(strstr(host_log_buf, "outside every region"));
	host_log_set(HOST_LOG_QUIET);

	struct region_stats st;
	region_get_stats(&st);
	assert_int_equal(st.faults_refused, 4);
	assert_int_equal(region_destroy(r), 0);
	assert_int_equal(region_check(true), 0);
}

static void test_read_only_region(void **state)
{
	(void)state;
	struct region *r = region_create(2 * PAGE_SIZE, 0, "ro");
	assert_non_null(r);
	vaddr_t b = region_base(r);
	assert_int_equal(mmu_sim_touch(b, false), 0);       /* read commits a zero page */
	assert_int_equal(committed_of(r), 1);
	assert_int_equal(mmu_sim_touch(b, true), -MM_EEXIST);
	assert_int_equal(mmu_sim_touch(b + PAGE_SIZE, true), -MM_EEXIST);
	uint32_t fl = 0;
	assert_true(arch_translate(b, &fl) != PADDR_NONE);
	assert_false(fl & PG_WRITE);
	assert_int_equal(region_destroy(r), 0);
}

/* The kernel-test scenario on the host: 64 MiB, sparse touches, destroy
 * returns PMM free count and page-table count to their earlier values. */
static void test_sparse_64m_returns_everything(void **state)
{
	(void)state;
	warm_pool(MiB(64));
	uint32_t free0 = free_pages(), tables0 = arch_page_tables();
	struct region *r = region_create((uint32_t)MiB(64), REGION_WRITE, "big");
	assert_non_null(r);
	vaddr_t b = region_base(r);
	uint32_t touched = 0;
	for (uint32_t pg = 0; pg < MiB(64) / PAGE_SIZE; pg += 257) {
		assert_int_equal(mmu_sim_write32(b + pg * PAGE_SIZE + 4, pg ^ 0x5a5a5a5au), 0);
		touched++;
	}
	assert_int_equal(committed_of(r), touched);
	uint32_t tables = arch_page_tables() - tables0;
	assert_true(tables >= 15 && tables <= 17);
	assert_int_equal(free0 - free_pages(), touched + tables);
	for (uint32_t pg = 0; pg < MiB(64) / PAGE_SIZE; pg += 257) {
		uint32_t v;
		assert_int_equal(mmu_sim_read32(b + pg * PAGE_SIZE + 4, &v), 0);
		assert_int_equal(v, pg ^ 0x5a5a5a5au);
	}
	assert_int_equal(region_check(true), 0);
	assert_int_equal(region_destroy(r), 0);
	assert_int_equal(free_pages(), free0);
	assert_int_equal(arch_page_tables(), tables0);
	assert_int_equal(region_check(true), 0);
}

static void test_commit_decommit_zeroes(void **state)
{
	(void)state;
	struct region *r = region_create(8 * PAGE_SIZE, REGION_WRITE, "cd");
	assert_non_null(r);
	vaddr_t b = region_base(r);
	uint32_t free0 = free_pages();
	assert_int_equal(region_commit(r, b, 8), 0);
	assert_int_equal(committed_of(r), 8);
	memset(arch_va_ptr(b), 0x77, 8 * PAGE_SIZE);
	assert_int_equal(region_decommit(r, b + 2 * PAGE_SIZE, 4), 0);
	assert_int_equal(committed_of(r), 4);
	assert_int_equal(region_page_state(b + 2 * PAGE_SIZE), REGION_PAGE_RESERVED);
	/* unmapped bytes are poisoned by the simulator: zeroing must be real */
	assert_int_equal(*(uint8_t *)arch_va_ptr(b + 2 * PAGE_SIZE), MMU_SIM_POISON);
	uint8_t v = 1;
	assert_int_equal(mmu_sim_read8(b + 2 * PAGE_SIZE + 100, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(*(uint8_t *)arch_va_ptr(b + 7 * PAGE_SIZE), 0x77);
	assert_int_equal(region_commit(r, b, 8), 0);         /* committed pages left alone */
	assert_int_equal(*(uint8_t *)arch_va_ptr(b), 0x77);
	assert_int_equal(region_commit(r, b + 1, 1), -MM_EALIGN);
	assert_int_equal(region_commit(r, b + 8 * PAGE_SIZE, 1), -MM_ERANGE);
	assert_int_equal(region_commit(r, b - PAGE_SIZE, 1), -MM_ERANGE);
	assert_int_equal(region_destroy(r), 0);
	assert_true(free_pages() >= free0);
	assert_int_equal(region_check(true), 0);
}

static void test_commit_flag(void **state)
{
	(void)state;
	struct region *r = region_create(5 * PAGE_SIZE, REGION_WRITE | REGION_COMMIT, "eager");
	assert_non_null(r);
	assert_int_equal(committed_of(r), 5);
	struct region_stats st;
	region_get_stats(&st);
	assert_int_equal(st.faults, 0);
	assert_int_equal(mmu_sim_touch(region_base(r) + 4 * PAGE_SIZE, true), 0);
	region_get_stats(&st);
	assert_int_equal(st.faults, 0);
	assert_int_equal(region_destroy(r), 0);
}

static void test_grow(void **state)
{
	(void)state;
	struct region *a = region_create(4 * PAGE_SIZE, REGION_WRITE | REGION_GUARD, "a");
	assert_non_null(a);
	vaddr_t b = region_base(a);
	assert_int_equal(mmu_sim_write8(b + 3 * PAGE_SIZE, 9), 0);
	assert_int_equal(region_grow(a, 100 * PAGE_SIZE), 0);     /* map moves out of line */
	assert_int_equal(region_size(a), 100 * PAGE_SIZE);
	assert_int_equal(region_base(a), b);
	assert_int_equal(region_page_state(b + 4 * PAGE_SIZE), REGION_PAGE_RESERVED);
	assert_int_equal(region_page_state(b + 100 * PAGE_SIZE), REGION_PAGE_GUARD);
	assert_int_equal(mmu_sim_touch(b + 100 * PAGE_SIZE, true), -MM_ERESERVED);
	uint8_t v;
	assert_int_equal(mmu_sim_read8(b + 3 * PAGE_SIZE, &v), 0);
	assert_int_equal(v, 9);
	assert_int_equal(region_grow(a, 10 * PAGE_SIZE), -MM_EINVAL);
	/* a neighbour right above blocks growth */
	struct region *n = region_create(PAGE_SIZE, REGION_WRITE, "n");
	assert_non_null(n);
	assert_int_equal(region_base(n), b + 101 * PAGE_SIZE);
	assert_int_equal(region_grow(a, 101 * PAGE_SIZE), -MM_ENOMEM);
	assert_int_equal(region_check(true), 0);
	assert_int_equal(region_destroy(n), 0);
	assert_int_equal(region_grow(a, 101 * PAGE_SIZE), 0);
	assert_int_equal(region_check(true), 0);
	assert_int_equal(region_destroy(a), 0);
}

static void test_adopt(void **state)
{
	(void)state;
	struct region *k = region_lookup(MMU_SIM_KERNEL_VA);
	assert_non_null(k);
	assert_string_equal(region_name(k), "kernel");
	assert_int_equal(committed_of(k), 64);
	assert_int_equal(region_destroy(k), -MM_EBUSY);
	assert_null(region_adopt(MMU_SIM_KERNEL_VA + PAGE_SIZE, PAGE_SIZE, 0, "dup"));
	/* a loader-style mapping in the arena, adopted afterwards */
	vaddr_t va = mmu_sim_kernel_end() + MiB(8);
	paddr_t pa = pmm_alloc(mmu_sim_pmm(), 2, 0);
	assert_true(pa != PADDR_NONE);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(arch_map(va + i * PAGE_SIZE, pa + i * PAGE_SIZE, PG_WRITE), 0);
	struct region *bi = region_adopt(va + 100, 4 * PAGE_SIZE - 100, REGION_WRITE, "bootinfo");
	assert_non_null(bi);
	assert_int_equal(region_base(bi), va);
	assert_int_equal(committed_of(bi), 4);
	assert_ptr_equal(region_lookup(va + 3 * PAGE_SIZE), bi);
	struct region_stats st;
	region_get_stats(&st);
	assert_int_equal(st.committed_fixed, 64 + 4);
	assert_int_equal(region_check(true), 0);
	/* the arena does not hand the adopted range out again */
	for (int i = 0; i < 4096; i++) {
		struct region *r = region_create(PAGE_SIZE, 0, "fill");
		assert_non_null(r);
		assert_true(region_base(r) + PAGE_SIZE <= va || region_base(r) >= va + 4 * PAGE_SIZE);
	}
	assert_int_equal(region_check(true), 0);
}

static void test_adopt_hole_is_guard_and_dump(void **state)
{
	(void)state;
	/* a stack-like mapping: page 0 of the range unmapped (its guard) */
	vaddr_t va = mmu_sim_kernel_end() + MiB(1);
	paddr_t pa = pmm_alloc(mmu_sim_pmm(), 1, 0);
	assert_true(pa != PADDR_NONE);
	assert_int_equal(arch_map(va + PAGE_SIZE, pa, PG_WRITE), 0);
	assert_int_equal(arch_map(va + 2 * PAGE_SIZE, pa + PAGE_SIZE, PG_WRITE), 0);
	struct region *s = region_adopt(va, 3 * PAGE_SIZE, REGION_WRITE, "kstack");
	assert_non_null(s);
	struct region_info in;
	assert_int_equal(region_get_info(s, &in), 0);
	assert_int_equal(in.committed, 2);
	assert_int_equal(in.guard, 1);
	assert_int_equal(in.flags & REGION_FIXED, REGION_FIXED);
	assert_int_equal(region_page_state(va), REGION_PAGE_GUARD);
	assert_int_equal(mmu_sim_touch(va + 8, true), -MM_ERESERVED);
	assert_int_equal(mmu_sim_touch(va + PAGE_SIZE, true), 0);
	assert_int_equal(region_decommit(s, va + PAGE_SIZE, 1), -MM_EBUSY);
	assert_int_equal(region_grow(s, 8 * PAGE_SIZE), -MM_EINVAL);
	assert_int_equal(region_check(true), 0);
	host_log_set(HOST_LOG_CAPTURE);
	host_log_clear();
	region_dump();
	host_log_set(HOST_LOG_QUIET);
	assert_non_null(strstr(host_log_buf, "region table"));
	assert_non_null(strstr(host_log_buf, "kstack"));
	assert_non_null(strstr(host_log_buf, "kernel"));
	assert_non_null(strstr(host_log_buf, "region-meta"));
}

static void test_phys_large_pages(void **state)
{
	(void)state;
	paddr_t fb = MiB(8);
	struct region *r = region_create_phys(fb + 0x40, (uint32_t)MiB(8) + 2 * PAGE_SIZE, REGION_WRITE | REGION_WTHRU, "fb");
	assert_non_null(r);
	vaddr_t b = region_base(r);
	assert_true(IS_ALIGNED(b, LARGE_PAGE_SIZE));
	uint32_t fl = 0;
	assert_true(arch_translate(b + 0x40, &fl) == fb + 0x40);
	assert_true(fl & PG_LARGE);
	assert_true(fl & PG_WTHRU);
	assert_true(arch_translate(b + MiB(4) + 123, &fl) == fb + MiB(4) + 123);
	assert_true(fl & PG_LARGE);
	assert_true(arch_translate(b + MiB(8) + PAGE_SIZE, &fl) == fb + MiB(8) + PAGE_SIZE);
	assert_false(fl & PG_LARGE);
	assert_int_equal(committed_of(r), 2048 + 3);
	assert_int_equal(mmu_sim_touch(b + MiB(5), true), 0);
	assert_int_equal(region_check(true), 0);
	uint32_t free0 = free_pages();
	assert_int_equal(region_destroy(r), 0);
	assert_int_equal(arch_translate(b, NULL), PADDR_NONE);
	assert_true(free_pages() >= free0);                  /* no frame of fb went to the PMM */
	assert_int_equal(region_check(true), 0);
}

/* A physical range that does not start on 4 MiB but holds a 4 MiB-aligned
 * chunk: the va keeps pa's offset within 4 MiB, so the chunk is one PSE
 * page and the ends are 4 KiB pages. */
static void test_phys_unaligned_range_large_chunk(void **state)
{
	(void)state;
	paddr_t pa = MiB(8) + MiB(1) + 0x10;             /* 9 MiB + 16: chunk [12, 16) MiB inside */
	uint32_t size = (uint32_t)MiB(9);                /* to 18 MiB + 16 */
	struct region *r = region_create_phys(pa, size, REGION_WRITE, "fb-odd");
	assert_non_null(r);
	vaddr_t b = region_base(r);
	assert_int_equal(b & (LARGE_PAGE_SIZE - 1), (uint32_t)(pa & (LARGE_PAGE_SIZE - 1)) & ~PAGE_MASK);
	uint32_t fl = 0;
	vaddr_t chunk = b + (uint32_t)(MiB(12) - (pa & ~(paddr_t)PAGE_MASK));
	assert_true(IS_ALIGNED(chunk, LARGE_PAGE_SIZE));
	assert_true(arch_translate(chunk + 5, &fl) == MiB(12) + 5);
	assert_true(fl & PG_LARGE);
	assert_true(arch_translate(chunk + MiB(4) - 1, &fl) == MiB(16) - 1);
	assert_true(fl & PG_LARGE);
	assert_true(arch_translate(b + 0x10, &fl) == pa);
	assert_false(fl & PG_LARGE);
	assert_true(arch_translate(chunk + MiB(4), &fl) == MiB(16));
	assert_false(fl & PG_LARGE);
	assert_int_equal(committed_of(r), bytes_pages(size + 0x10));
	assert_int_equal(region_check(true), 0);
	assert_int_equal(region_destroy(r), 0);
	assert_int_equal(arch_translate(chunk, NULL), PADDR_NONE);
	assert_int_equal(region_check(true), 0);
}

static void test_phys_without_pse(void **state)
{
	(void)state;
	mmu_sim_set_pse(false);
	assert_int_equal(mmu_sim_setup((uint32_t)RAM, 16), 0);
	struct region *r = region_create_phys(MiB(4), (uint32_t)MiB(4), REGION_WRITE, "fb4k");
	assert_non_null(r);
	uint32_t fl = 0;
	assert_true(arch_translate(region_base(r) + MiB(2), &fl) == MiB(6));
	assert_false(fl & PG_LARGE);
	assert_int_equal(region_check(true), 0);
	assert_int_equal(region_destroy(r), 0);
	assert_int_equal(region_check(true), 0);
}

/* A page the loader mapped read-only inside a region registered writable
 * (the kernel image before per-segment registration): a write fault on it
 * must be refused and reported, not retried as a stale TLB entry (the CPU
 * would fault forever); reads are fine. */
static void test_write_to_ro_page_of_writable_region(void **state)
{
	(void)state;
	vaddr_t va = mmu_sim_kernel_end() + MiB(8);
	paddr_t pa = pmm_alloc(mmu_sim_pmm(), 0, 0);
	assert_true(pa != PADDR_NONE);
	assert_int_equal(arch_map(va, pa, 0), 0);
	struct region *r = region_adopt(va, PAGE_SIZE, REGION_WRITE, "text-like");
	assert_non_null(r);
	assert_int_equal(region_fault(va, REGION_FAULT_WRITE | REGION_FAULT_PRESENT), -MM_EEXIST);
	assert_int_equal(mmu_sim_touch(va, true), -MM_EEXIST);
	assert_int_equal(mmu_sim_touch(va, false), 0);
	host_log_set(HOST_LOG_CAPTURE);
	host_log_clear();
	region_fault_report(va, REGION_FAULT_WRITE | REGION_FAULT_PRESENT, -MM_EEXIST);
	assert_non_null(strstr(host_log_buf, "write to a read-only page of region 'text-like'"));
	host_log_set(HOST_LOG_QUIET);
	assert_int_equal(region_check(true), 0);
}

static void test_out_of_memory(void **state)
{
	(void)state;
	assert_int_equal(mmu_sim_setup((uint32_t)MiB(4), 4), 0);
	struct region *r = region_create((uint32_t)MiB(16), REGION_WRITE, "hog");
	assert_non_null(r);
	uint32_t free0 = free_pages(), tables0 = arch_page_tables();
	int rc = 0;
	uint32_t pg = 0;
	for (; pg < MiB(16) / PAGE_SIZE && rc == 0; pg++)
		rc = mmu_sim_touch(region_base(r) + pg * PAGE_SIZE, true);
	assert_int_equal(rc, -MM_ENOMEM);
	assert_int_equal(free_pages(), 0);
	host_log_set(HOST_LOG_CAPTURE);
	host_log_clear();
	region_fault_report(region_base(r) + (pg - 1) * PAGE_SIZE, REGION_FAULT_WRITE, rc);
	assert_non_null(strstr(host_log_buf, "out of physical memory"));
	assert_non_null(strstr(host_log_buf, "'hog'"));
	host_log_set(HOST_LOG_QUIET);
	assert_int_equal(region_check(true), 0);
	assert_int_equal(region_destroy(r), 0);
	assert_int_equal(free_pages(), free0);
	assert_int_equal(arch_page_tables(), tables0);
}

static void test_commit_all_or_nothing(void **state)
{
	(void)state;
	assert_int_equal(mmu_sim_setup((uint32_t)MiB(4), 4), 0);
	struct region *r = region_create((uint32_t)MiB(16), REGION_WRITE, "big");
	assert_non_null(r);
	vaddr_t b = region_base(r);
	assert_int_equal(mmu_sim_write8(b + 5 * PAGE_SIZE, 0x42), 0);   /* committed before */
	uint32_t free0 = free_pages(), tables0 = arch_page_tables();
	assert_int_equal(region_commit(r, b, MiB(16) / PAGE_SIZE), -MM_ENOMEM);
	assert_int_equal(committed_of(r), 1);
	assert_int_equal(free_pages(), free0);
	assert_int_equal(arch_page_tables(), tables0);
	assert_int_equal(region_page_state(b), REGION_PAGE_RESERVED);
	uint8_t v = 0;
	assert_int_equal(mmu_sim_read8(b + 5 * PAGE_SIZE, &v), 0);
	assert_int_equal(v, 0x42);
	assert_int_equal(region_check(true), 0);
	assert_null(region_create((uint32_t)MiB(16), REGION_WRITE | REGION_COMMIT, "eager"));
	assert_int_equal(free_pages(), free0);
	assert_int_equal(region_check(true), 0);
	struct region *k = region_lookup(MMU_SIM_KERNEL_VA);
	assert_int_equal(region_commit(k, MMU_SIM_KERNEL_VA, 1), -MM_EBUSY);
}

/* A small arena (8 MiB): fill it until create fails, free every other
 * region, then a create that needs a larger hole than any left must fail
 * while small ones still fit; everything consistent throughout. */
static void test_arena_exhaustion(void **state)
{
	(void)state;
	assert_int_equal(mmu_sim_init((uint32_t)MiB(16), 4), 0);
	assert_int_equal(arch_paging_init(mmu_sim_pmm()), 0);
	vaddr_t lo = 0xD0000000u;
	assert_int_equal(region_init(mmu_sim_pmm(), lo, lo + (uint32_t)MiB(8)), 0);
	struct region_stats st;
	region_get_stats(&st);
	uint32_t n = 0, cap = st.arena_free;
	static struct region *rr[4096];
	while (n < 4096 && (rr[n] = region_create(2 * PAGE_SIZE, REGION_WRITE, "fill")))
		n++;
	assert_int_equal(n, cap / 2);
	assert_int_equal(region_check(true), 0);
	for (uint32_t i = 0; i < n; i += 2)
		assert_int_equal(region_destroy(rr[i]), 0);
	region_get_stats(&st);
	assert_int_equal(st.arena_free, (n + 1) / 2 * 2 + cap % 2);
	assert_null(region_create(3 * PAGE_SIZE, REGION_WRITE, "too big"));   /* holes are 2 pages */
	struct region *a = region_create(2 * PAGE_SIZE, REGION_WRITE, "fits");
	assert_non_null(a);
	assert_int_equal(region_check(true), 0);
	assert_int_equal(region_destroy(a), 0);
	for (uint32_t i = 1; i < n; i += 2)
		assert_int_equal(region_destroy(rr[i]), 0);
	region_get_stats(&st);
	assert_int_equal(st.arena_free, cap);
	assert_int_equal(st.free_segments, 1);
	assert_int_equal(region_check(true), 0);
}

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static void test_10000_regions_random_order(void **state)
{
	(void)state;
	enum { N = 10000 };
	struct region **rs = calloc(N, sizeof(*rs));
	assert_non_null(rs);
	struct region_stats st0, st;
	region_get_stats(&st0);
	for (int i = 0; i < N; i++) {
		rs[i] = region_create((rnd() % 8 + 1) * PAGE_SIZE, REGION_WRITE | (i & 1 ? REGION_GUARD : 0), "many");
		assert_non_null(rs[i]);
	}
	assert_int_equal(region_check(false), 0);
	for (int i = N - 1; i > 0; i--) {
		int j = (int)(rnd() % (uint32_t)(i + 1));
		struct region *t = rs[i];
		rs[i] = rs[j];
		rs[j] = t;
	}
	for (int i = 0; i < N; i++) {
		assert_ptr_equal(region_lookup(region_base(rs[i])), rs[i]);
		assert_int_equal(region_destroy(rs[i]), 0);
	}
	region_get_stats(&st);
	assert_int_equal(st.regions, st0.regions);
	assert_int_equal(st.arena_free, st0.arena_free);
	assert_int_equal(st.free_segments, st0.free_segments);
	assert_int_equal(region_check(true), 0);
	free(rs);
}

static void test_checker_catches_damage(void **state)
{
	(void)state;
	struct region *r = region_create(2 * PAGE_SIZE, REGION_WRITE, "victim");
	assert_non_null(r);
	assert_int_equal(mmu_sim_touch(region_base(r), true), 0);
	paddr_t pa;
	assert_int_equal(arch_unmap(region_base(r), &pa), 0);   /* behind the region's back */
	assert_true(region_check(false) > 0);
	assert_int_equal(arch_map(region_base(r), pa, PG_WRITE), 0);
	assert_int_equal(region_check(false), 0);
	assert_int_equal(region_destroy(r), 0);
	assert_int_equal(region_destroy(r), -MM_EINVAL);         /* double destroy refused */
	((uint8_t *)r)[40] = 1;                                  /* use after free */
	assert_true(region_check(false) > 0);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	assert_null(region_create(0, REGION_WRITE, "zero"));
	assert_null(region_create(PAGE_SIZE, 0x1000, "flags"));
	assert_null(region_create(0xFFFFFFFFu, REGION_WRITE, "huge"));   /* > arena */
	assert_int_equal(region_destroy(NULL), -MM_EINVAL);
	assert_int_equal(arch_map(PAGING_PT_BASE, 0x100000, 0), -MM_ERANGE);
	assert_int_equal(arch_map(0x1000, 0x100001, 0), -MM_EALIGN);
	assert_int_equal(arch_unmap(0x1000, NULL), -MM_ENOENT);
	assert_int_equal(region_check(true), 0);
}

static void test_recursive_slot(void **state)
{
	(void)state;
	/* PDE 1023 maps the directory: the PD va translates to cr3, table i of
	 * the kernel image at 0xFFC00000 + i*4096 to the PDE's frame */
	paddr_t pd = arch_translate(PAGING_PD_VA, NULL);
	assert_true(pd != PADDR_NONE);
	uint32_t *pdp = mmu_sim_phys_ptr(pd);
	uint32_t i = MMU_SIM_KERNEL_VA >> 22;
	assert_true(pdp[1023] & 1u);
	assert_int_equal(pdp[1023] & 0xFFFFF000u, pd);
	assert_int_equal(arch_translate(PAGING_PT_BASE + i * PAGE_SIZE, NULL), pdp[i] & 0xFFFFF000u);
	assert_int_equal(*(uint32_t *)arch_va_ptr(PAGING_PD_VA + i * 4), pdp[i]);
	assert_int_equal(arch_paging_check(true), 0);
	struct mmu_sim_stats st0, st1;
	mmu_sim_get_stats(&st0);
	assert_int_equal(arch_map(0x400000, 0x200000, PG_WRITE), 0);
	assert_int_equal(arch_protect(0x400000, 0), 0);
	assert_int_equal(arch_unmap(0x400000, NULL), 0);
	mmu_sim_get_stats(&st1);
	assert_true(st1.invlpg - st0.invlpg >= 3 + 2);           /* each change + table create/free */
	assert_int_equal(arch_paging_check(true), 0);
}

/* ---- the arena alone: bounded fit (mm/vmem.c) ---- */

static struct vmem_seg *vt_get(void *ctx) { (void)ctx; return calloc(1, sizeof(struct vmem_seg)); }
static void vt_put(void *ctx, struct vmem_seg *sg) { (void)ctx; free(sg); }

static void vt_fini(struct vmem *vm)
{
	for (struct vmem_seg *sg = vm->first, *nx; sg; sg = nx) {
		nx = sg->anext;
		free(sg);
	}
}

/* Cut the arena into `holes` free holes of hole_pages separated by 1-page
 * allocations, the rest allocated too. */
static void vt_holes(struct vmem *vm, uint32_t holes, uint32_t hole_pages)
{
	static struct vmem_seg *h[8192];
	assert_true(holes <= 8192);
	for (uint32_t i = 0; i < holes; i++) {
		assert_non_null(h[i] = vmem_alloc(vm, hole_pages, 1));
		assert_non_null(vmem_alloc(vm, 1, 1));
	}
	while (vm->free_pages && vmem_alloc(vm, vm->free_pages >= 64 ? 64 : 1, 1))
		;
	assert_int_equal(vm->free_pages, 0);
	for (uint32_t i = 0; i < holes; i++)
		vmem_free(vm, h[i]);
	assert_int_equal(vm->nfree, holes);
	assert_int_equal(vmem_check(vm, true), 0);
}

/* 8,000 free 2-page holes: a 3-page request used to walk all of them (class
 * floor(log2 3) = 1) to find nothing; with exact lists it looks at none. */
static void test_vmem_small_fit_constant(void **state)
{
	(void)state;
	struct vmem vm;
	assert_int_equal(vmem_init(&vm, 0x10000000u, 0x10000000u + 24000u * PAGE_SIZE, vt_get, vt_put, NULL), 0);
	vt_holes(&vm, 8000, 2);
	assert_null(vmem_alloc(&vm, 3, 1));
	assert_int_equal(vm.scan_steps, 0);
	struct vmem_seg *sg = vmem_alloc(&vm, 2, 1);
	assert_non_null(sg);
	assert_int_equal(vm.scan_steps, 0);
	vmem_free(&vm, sg);
	assert_int_equal(vmem_check(&vm, true), 0);
	vt_fini(&vm);
}

/* 4,000 holes of 100 pages (list 64+6 holds 64..127): 120 pages finds no
 * larger list and looks at no more than VMEM_SCAN_MAX of them; 100 pages
 * takes the first it looks at; 64 pages is O(1). */
static void test_vmem_large_fit_capped(void **state)
{
	(void)state;
	struct vmem vm;
	assert_int_equal(vmem_init(&vm, 0x10000000u, 0x10000000u + 404100u * PAGE_SIZE, vt_get, vt_put, NULL), 0);
	vt_holes(&vm, 4000, 100);
	assert_null(vmem_alloc(&vm, 120, 1));
	assert_true(vm.scan_steps > 0 && vm.scan_steps <= VMEM_SCAN_MAX);
	uint32_t steps = vm.scan_steps;
	assert_non_null(vmem_alloc(&vm, 100, 1));
	assert_int_equal(vm.scan_steps, steps + 1);
	assert_non_null(vmem_alloc(&vm, 64, 1));
	assert_int_equal(vm.scan_steps, steps + 1);
	assert_int_equal(vmem_check(&vm, true), 0);
	vt_fini(&vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_lazy_commit_reads_back, setup),
		cmocka_unit_test_setup(test_guard_and_outside_faults, setup),
		cmocka_unit_test_setup(test_read_only_region, setup),
		cmocka_unit_test_setup(test_sparse_64m_returns_everything, setup),
		cmocka_unit_test_setup(test_commit_decommit_zeroes, setup),
		cmocka_unit_test_setup(test_commit_flag, setup),
		cmocka_unit_test_setup(test_grow, setup),
		cmocka_unit_test_setup(test_adopt, setup),
		cmocka_unit_test_setup(test_adopt_hole_is_guard_and_dump, setup),
		cmocka_unit_test_setup(test_phys_large_pages, setup),
		cmocka_unit_test_setup(test_phys_without_pse, setup),
		cmocka_unit_test_setup(test_phys_unaligned_range_large_chunk, setup),
		cmocka_unit_test_setup(test_out_of_memory, setup),
		cmocka_unit_test_setup(test_write_to_ro_page_of_writable_region, setup),
		cmocka_unit_test_setup(test_commit_all_or_nothing, setup),
		cmocka_unit_test_setup(test_arena_exhaustion, setup),
		cmocka_unit_test_setup(test_10000_regions_random_order, setup),
		cmocka_unit_test_setup(test_checker_catches_damage, setup),
		cmocka_unit_test_setup(test_bad_arguments, setup),
		cmocka_unit_test_setup(test_recursive_slot, setup),
		cmocka_unit_test(test_vmem_small_fit_constant),
		cmocka_unit_test(test_vmem_large_fit_capped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
