/*
 * In-kernel tests of the region VMM (KTAP through kernel/ktest.c), on the
 * real MMU: faults are real #PF exceptions handled by region_fault.
 *
 *   region_startup_regions     kernel, kstack, bootinfo adopted; no mapped
 *                              page outside a region; region_check clean
 *   region_lazy_commit_64m     64 MiB reserved, sparse pages touched by plain
 *                              stores: committed == touched, data reads back,
 *                              destroy returns PMM free count and page-table
 *                              count to their earlier values
 *   region_guard_write_caught  a write to a guard page faults, is refused by
 *                              the region layer and caught by the test
 *   region_unallocated_caught  a read of free arena space is refused too
 *   region_10000_random_order  10,000 regions created, destroyed in random
 *                              order; arena, counts and checker back to start
 *   region_10000_interleaved   10,000 creates of random sizes (1..16 pages)
 *                              interleaved with destroys of random live ones
 *   region_text_write_caught   a write to kernel .text faults and is refused
 *                              as a write to a read-only page of
 *                              'kernel-text' (before: retried forever)
 *   region_phys_4m_pse         a PMM order-10 block (4 MiB aligned) mapped by
 *                              region_create_phys is one PSE page (PDE PS
 *                              bit, PG_LARGE), reads back, destroy restores
 *                              PMM free pages, page tables and the arena
 */
#include "../kernel.h"
#include "../ktest.h"
#include "../vm.h"
#include <mmboot/region.h>
#include <mmboot/paging.h>
#include <mmboot/pmm.h>
#include <mmboot/errno.h>
#include "../../arch/x86/cpu.h"

static uint32_t free_pages(void)
{
	return vm_pmm() ? pmm_free_pages(vm_pmm()) : 0;
}

static uint32_t rnd_state = 0x2545F491u;
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static uint32_t committed_of(const struct region *r)
{
	struct region_info in;
	return region_get_info(r, &in) ? ~0u : in.committed;
}

static void t_startup(struct ktest_ctx *t)
{
	static const char *const names[] = { "kernel", "kstack", "bootinfo" };
	const vaddr_t at[] = { kernel_bi->kernel_va, kernel_bi->stack_va, kernel_bi->bi_va };
	for (uint32_t i = 0; i < 3; i++) {
		const struct region *r = region_lookup(at[i]);
		KT_EXPECT(t, r && mm_memcmp(region_name(r), names[i], 4) == 0,
		          "%08x: region %s, expected %s", at[i], r ? region_name(r) : "none", names[i]);
	}
	KT_EXPECT_EQ(t, region_page_state(kernel_bi->stack_va - PAGE_SIZE), REGION_PAGE_GUARD);
	KT_EXPECT_EQ(t, vm_orphan_pages(true), 0);
	KT_EXPECT_EQ(t, region_check(true), 0);
}
KTEST(region_startup_regions, t_startup);

#define BIG_PAGES (MiB(64) / PAGE_SIZE)

static void t_lazy_64m(struct ktest_ctx *t)
{
	struct region *w = region_create((uint32_t)MiB(64), REGION_WRITE | REGION_GUARD, "warm");
	KT_EXPECT(t, w != NULL, "warm-up create failed");
	if (w)
		region_destroy(w);                           /* the pool now holds a 64 MiB map */
	uint32_t free0 = free_pages(), tables0 = arch_page_tables();
	struct region *r = region_create((uint32_t)MiB(64), REGION_WRITE | REGION_GUARD, "test-64m");
	KT_EXPECT(t, r != NULL, "64 MiB region not created");
	if (!r)
		return;
	KT_EXPECT_EQ(t, committed_of(r), 0);
	volatile uint32_t *base = (volatile uint32_t *)(uintptr_t)region_base(r);
	uint32_t touched = 0;
	uint64_t t0 = rdtsc();
	for (uint32_t pg = 0; pg < BIG_PAGES; pg += 97 + (pg & 7)) {
		base[pg * 1024 + (pg & 1023)] = pg * 2654435761u;   /* faults, commits */
		touched++;
	}
	uint64_t cycles = (rdtsc() - t0) / touched;
	KT_EXPECT_EQ(t, committed_of(r), touched);
	uint32_t bad = 0;
	for (uint32_t pg = 0; pg < BIG_PAGES; pg += 97 + (pg & 7))
		bad += base[pg * 1024 + (pg & 1023)] != pg * 2654435761u;
	KT_EXPECT_EQ(t, bad, 0);
	KT_EXPECT_EQ(t, base[5 * 1024 + 3], 0);              /* untouched page: reads commit zero */
	KT_EXPECT_EQ(t, committed_of(r), touched + 1);
	KT_EXPECT(t, free_pages() < free0, "PMM free count did not drop");
	KT_EXPECT_EQ(t, free0 - free_pages(), touched + 1 + (arch_page_tables() - tables0));
	KT_EXPECT_EQ(t, region_check(true), 0);
	KT_EXPECT_EQ(t, region_destroy(r), 0);
	KT_EXPECT_EQ(t, free_pages(), free0);
	KT_EXPECT_EQ(t, arch_page_tables(), tables0);
	mm_printf("# region_lazy_commit_64m: %u pages touched, %llu TSC cycles per lazy commit"
	          " (#PF + region_fault + zeroing), PMM free %u, tables %u\n", touched,
	          (unsigned long long)cycles, free_pages(), arch_page_tables());
}
KTEST(region_lazy_commit_64m, t_lazy_64m);

static void t_guard(struct ktest_ctx *t)
{
	struct region *r = region_create(4 * PAGE_SIZE, REGION_WRITE | REGION_GUARD, "test-guard");
	KT_EXPECT(t, r != NULL, "create failed");
	if (!r)
		return;
	volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)region_base(r);
	p[0] = 1;
	vaddr_t guard = region_base(r) + region_size(r) + 8;
	if (ktest_expect_fault(KTEST_FAULT_PAGE) == 0) {
		*(volatile uint8_t *)(uintptr_t)guard = 0x5A;
		KT_EXPECT(t, 0, "write to the guard page did not fault");
	}
	ktest_expect_done();
	KT_EXPECT_EQ(t, ktest_fault_caught(), KTEST_FAULT_PAGE);
	KT_EXPECT_EQ(t, ktest_fault_addr(), guard);
	KT_EXPECT_EQ(t, region_page_state(guard), REGION_PAGE_GUARD);
	KT_EXPECT_EQ(t, arch_translate(guard, NULL), PADDR_NONE);
	KT_EXPECT_EQ(t, p[0], 1);                            /* the test resumed normally */
	KT_EXPECT_EQ(t, region_destroy(r), 0);
	KT_EXPECT_EQ(t, region_check(true), 0);
}
KTEST(region_guard_write_caught, t_guard);

static void t_unallocated(struct ktest_ctx *t)
{
	struct region *r = region_create(PAGE_SIZE, REGION_WRITE, "test-probe");
	KT_EXPECT(t, r != NULL, "create failed");
	if (!r)
		return;
	vaddr_t va = region_base(r);
	region_destroy(r);                                   /* now free arena space */
	if (ktest_expect_fault(KTEST_FAULT_PAGE) == 0) {
		(void)*(volatile uint32_t *)(uintptr_t)va;
		KT_EXPECT(t, 0, "read of free arena space did not fault");
	}
	ktest_expect_done();
	KT_EXPECT_EQ(t, ktest_fault_addr(), va);
	KT_EXPECT_EQ(t, region_page_state(va), REGION_PAGE_UNALLOC);
}
KTEST(region_unallocated_caught, t_unallocated);

#define MANY 10000u
static struct region *many[MANY];

/* After a test has destroyed every region it made: the arena is exactly as
 * it was (same regions, free pages, free segments: coalescing complete) and
 * the checker finds nothing. */
static void expect_arena_restored(struct ktest_ctx *t, const struct region_stats *s0)
{
	struct region_stats s1;
	region_get_stats(&s1);
	KT_EXPECT_EQ(t, s1.regions, s0->regions);
	KT_EXPECT_EQ(t, s1.arena_free, s0->arena_free);
	KT_EXPECT_EQ(t, s1.free_segments, s0->free_segments);
	KT_EXPECT_EQ(t, region_check(true), 0);
}

static void t_many(struct ktest_ctx *t)
{
	struct region_stats s0;
	region_get_stats(&s0);
	uint32_t made = 0;
	for (uint32_t i = 0; i < MANY; i++) {
		many[i] = region_create((rnd() % 4 + 1) * PAGE_SIZE, REGION_WRITE | (i & 1 ? REGION_GUARD : 0), "many");
		made += many[i] != NULL;
	}
	KT_EXPECT_EQ(t, made, MANY);
	KT_EXPECT_EQ(t, region_check(false), 0);
	uint64_t t0 = rdtsc();
	uint32_t pairs_ok = 0;
	for (uint32_t i = 0; i < 1000; i++) {            /* a pair with 10,000 live regions */
		struct region *x = region_create((i % 4 + 1) * PAGE_SIZE, REGION_WRITE, "pair");
		pairs_ok += x && region_destroy(x) == 0;
	}
	KT_EXPECT_EQ(t, pairs_ok, 1000);
	mm_printf("# region_10000_random_order: create+destroy pair with %u live regions: %llu TSC cycles\n",
	          MANY, (unsigned long long)((rdtsc() - t0) / 1000));
	for (uint32_t i = MANY - 1; i > 0; i--) {
		uint32_t j = rnd() % (i + 1);
		struct region *x = many[i];
		many[i] = many[j];
		many[j] = x;
	}
	uint32_t bad = 0;
	for (uint32_t i = 0; i < MANY; i++)
		if (many[i]) {
			bad += region_lookup(region_base(many[i])) != many[i];
			bad += region_destroy(many[i]) != 0;
		}
	KT_EXPECT_EQ(t, bad, 0);
	expect_arena_restored(t, &s0);
}
KTEST(region_10000_random_order, t_many);

static void t_interleaved(struct ktest_ctx *t)
{
	struct region_stats s0;
	region_get_stats(&s0);
	uint32_t live = 0, made = 0, bad = 0;
	for (uint32_t step = 0; step < MANY; step++) {
		if (live && rnd() % 2 == 0) {             /* destroy a random live one */
			uint32_t j = rnd() % live;
			bad += region_destroy(many[j]) != 0;
			many[j] = many[--live];
		}
		uint32_t pages = rnd() % 16 + 1;
		struct region *r = region_create(pages * PAGE_SIZE, REGION_WRITE | (rnd() & 1 ? REGION_GUARD : 0), "mix");
		if (!r)
			continue;
		made++;
		bad += region_size(r) != pages * PAGE_SIZE || region_lookup(region_base(r)) != r;
		many[live++] = r;
	}
	KT_EXPECT_EQ(t, made, MANY);
	KT_EXPECT_EQ(t, region_check(false), 0);
	while (live) {
		uint32_t j = rnd() % live;
		bad += region_destroy(many[j]) != 0;
		many[j] = many[--live];
	}
	KT_EXPECT_EQ(t, bad, 0);
	expect_arena_restored(t, &s0);
}
KTEST(region_10000_interleaved, t_interleaved);

static void t_text_write(struct ktest_ctx *t)
{
	vaddr_t text = ALIGN_DOWN((vaddr_t)(uintptr_t)t_startup, 4u) + 4u;
	const struct region *r = region_lookup(text);
	KT_EXPECT(t, r && mm_memcmp(region_name(r), "kernel-text", 12) == 0,
	          "%08x: region %s, expected kernel-text", text, r ? region_name(r) : "none");
	KT_EXPECT(t, r && !(region_flags(r) & REGION_WRITE), "kernel-text is writable");
	uint32_t fl = 0;
	KT_EXPECT(t, arch_translate(text, &fl) != PADDR_NONE && !(fl & PG_WRITE), ".text mapped writable");
	struct region_stats s0, s1;
	region_get_stats(&s0);
	if (ktest_expect_fault(KTEST_FAULT_PAGE) == 0) {
		*(volatile uint32_t *)(uintptr_t)text = *(volatile uint32_t *)(uintptr_t)text;
		KT_EXPECT(t, 0, "write to .text did not fault");
	}
	ktest_expect_done();
	KT_EXPECT_EQ(t, ktest_fault_caught(), KTEST_FAULT_PAGE);
	KT_EXPECT_EQ(t, ktest_fault_addr(), text);
	region_get_stats(&s1);
	KT_EXPECT_EQ(t, s1.faults_refused, s0.faults_refused + 1);
	KT_EXPECT_EQ(t, s1.faults, s0.faults);
}
KTEST(region_text_write_caught, t_text_write);

static void t_phys_pse(struct ktest_ctx *t)
{
	struct region_stats s0, s1;
	uint32_t free0 = free_pages(), tables0 = arch_page_tables();
	region_get_stats(&s0);
	paddr_t pa = vm_pmm() ? pmm_alloc(vm_pmm(), 10, 0) : PADDR_NONE;
	if (pa == PADDR_NONE) {
		mm_printf("# region_phys_4m_pse: no free order-10 block; nothing to map\n");
		KT_EXPECT(t, 0, "no order-10 block in the PMM");
		return;
	}
	KT_EXPECT_EQ(t, (uint32_t)(pa & (LARGE_PAGE_SIZE - 1)), 0);
	struct region *r = region_create_phys(pa, (uint32_t)LARGE_PAGE_SIZE, REGION_WRITE, "test-pse");
	KT_EXPECT(t, r != NULL, "region_create_phys failed");
	if (r) {
		vaddr_t va = region_base(r);
		uint32_t fl = 0;
		KT_EXPECT_EQ(t, va & (LARGE_PAGE_SIZE - 1), 0);
		KT_EXPECT_EQ(t, arch_translate(va + 0x12345, &fl), pa + 0x12345);
		KT_EXPECT(t, fl & PG_LARGE, "not a PSE mapping (flags %x)", fl);
		KT_EXPECT(t, arch_pde(va) & 0x80u, "PDE %08x has no PS bit", arch_pde(va));
		KT_EXPECT_EQ(t, arch_page_tables(), tables0);
		volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)va;
		for (uint32_t i = 0; i < 1024; i++)
			p[i * 1024 + (i & 1023)] = i * 2654435761u;
		uint32_t bad = 0;
		for (uint32_t i = 0; i < 1024; i++)
			bad += p[i * 1024 + (i & 1023)] != i * 2654435761u;
		KT_EXPECT_EQ(t, bad, 0);
		KT_EXPECT_EQ(t, region_check(true), 0);
		KT_EXPECT_EQ(t, region_destroy(r), 0);
		KT_EXPECT_EQ(t, arch_translate(va, NULL), PADDR_NONE);
	}
	KT_EXPECT_EQ(t, pmm_free(vm_pmm(), pa, 10), 0);
	region_get_stats(&s1);
	KT_EXPECT_EQ(t, free_pages(), free0);
	KT_EXPECT_EQ(t, arch_page_tables(), tables0);
	KT_EXPECT_EQ(t, s1.regions, s0.regions);
	KT_EXPECT_EQ(t, s1.committed_fixed, s0.committed_fixed);
	KT_EXPECT_EQ(t, s1.arena_free, s0.arena_free);
	KT_EXPECT_EQ(t, region_check(true), 0);
}
KTEST(region_phys_4m_pse, t_phys_pse);
