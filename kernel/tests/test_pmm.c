/*
 * In-kernel tests of the buddy PMM as the kernel stage took it over
 * (kernel/pmm_glue.c), against the final memory map in the boot-info block.
 *
 *   pmm_boot_accounting   right after adopt, exactly: free == what the final
 *                         map offers below 4 GiB (usable and boot-services
 *                         classes) - policy (low 1 MiB) - transient frames
 *                         taken - (page tables + directory); allocated ==
 *                         page tables + directory; reserved == low 1 MiB +
 *                         transient taken + loader memory above 1 MiB minus
 *                         the metadata (not reserved: its own state), with
 *                         one line per item (kernel image, stack, boot info,
 *                         metadata, transient loader frames, loader image,
 *                         other loader memory), each item checked to lie in
 *                         loader-class memory
 *   pmm_loader_reclaim    releasing the loader image raised the free count
 *                         by exactly the loader-class pages in its range
 *   pmm_now_consistent    now: free + allocated == after the release (other
 *                         layers only allocate), and pmm_check finds nothing
 *   pmm_exhaust_and_return  allocate until nothing is left (largest blocks
 *                         first), free everything, the count comes back and
 *                         pmm_check is clean
 *   pmm_errors_are_values double free, wrong order, misaligned, frame 0, a
 *                         hole: the right MM_E* code, state unchanged
 */
#include "../kernel.h"
#include "../ktest.h"
#include "../pmm_glue.h"
#include "../boot_reclaim.h"   /* BOOT: transient frames (kernel/boot_reclaim.c) */
#include <mmboot/errno.h>

#define PMM_TEST_BLOCKS 8192u

static uint32_t pages_of(uint32_t mask, uint64_t lo, uint64_t hi)
{
	return (uint32_t)(memmap_mask_bytes(pmm_boot_map, pmm_boot.map_n, mask, lo, hi) >> PAGE_SHIFT);
}

static bool have_pmm(struct ktest_ctx *t)
{
	KT_EXPECT(t, kernel_pmm != NULL, "the kernel has no PMM (pmm_glue_init failed)");
	return kernel_pmm != NULL;
}

/* One reserved item: its pages, printed; it must lie in loader-class memory. */
static uint32_t acct_item(struct ktest_ctx *t, const char *what, uint64_t pa, uint64_t bytes)
{
	uint32_t pages = (uint32_t)((ALIGN_UP(pa + bytes, (uint64_t)PAGE_SIZE) -
	                             ALIGN_DOWN(pa, (uint64_t)PAGE_SIZE)) >> PAGE_SHIFT);
	uint32_t in_loader = pages_of(MEMMAP_CLASS_BIT(MEMMAP_LOADER), ALIGN_DOWN(pa, PAGE_SIZE),
	                              ALIGN_UP(pa + bytes, (uint64_t)PAGE_SIZE));
	mm_printf("# %s:   %-24s %6u pages at %08llx\n", t->name, what, pages,
	          (unsigned long long)pa);
	KT_EXPECT(t, !bytes || in_loader == pages, "%s: %u of its %u pages are loader memory", what,
	          in_loader, pages);
	return pages;
}

/* The transient frames that were loader memory (trampoline, loader stack, scratch). */
static uint32_t transient_loader_pages(void)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < kernel_bi->transient_count; i++) {
		const struct bootinfo_range *r = &kernel_bi->transient[i];
		n += pages_of(MEMMAP_CLASS_BIT(MEMMAP_LOADER), r->pa, r->pa + (uint64_t)r->pages * PAGE_SIZE);
	}
	return n;
}

static void pmm_boot_reserved_items(struct ktest_ctx *t, uint32_t policy_held)
{
	const struct pmm_stats *s0 = &pmm_boot.at_init;
	uint32_t taken = kernel_bi->transient_taken;
	uint32_t loader = pages_of(MEMMAP_CLASS_BIT(MEMMAP_LOADER), PMM_LOW_RESERVE, PADDR_4G);
	mm_printf("# %s: reserved at init %u pages:\n", t->name, s0->reserved_pages);
	mm_printf("# %s:   %-24s %6u pages\n", t->name, "low 1 MiB (policy)", policy_held);
	mm_printf("# %s:   %-24s %6u pages\n", t->name, "transient (taken)", taken);
	uint32_t items = acct_item(t, "kernel image", kernel_bi->kernel_pa, kernel_bi->kernel_size);
	items += acct_item(t, "kernel stack", kernel_bi->stack_pa, kernel_bi->stack_size);
	items += acct_item(t, "boot info", kernel_bi->bi_pa, kernel_bi->total_size);
	uint32_t meta = acct_item(t, "PMM metadata (own)", pmm_metadata_pa(kernel_pmm),
	                          pmm_metadata_bytes(kernel_pmm));
	uint32_t tl = transient_loader_pages();
	mm_printf("# %s:   %-24s %6u pages\n", t->name, "transient loader frames", tl);
	uint32_t img = acct_item(t, "loader image", kernel_bi->loader_image_pa,
	                         kernel_bi->loader_image_size);
	items += tl + img;
	KT_EXPECT(t, items + meta <= loader, "items %u + metadata %u > loader memory %u", items,
	          meta, loader);
	mm_printf("# %s:   %-24s %6u pages\n", t->name, "other loader memory",
	          loader - meta - items);
	/* the metadata is loader memory but its own state (a hole), not reserved */
	KT_EXPECT_EQ(t, s0->reserved_pages, policy_held + taken + loader - meta);
}

static void pmm_boot_accounting(struct ktest_ctx *t)
{
	if (!have_pmm(t))
		return;
	uint32_t offered = pages_of(PMM_USABLE_AFTER_EXIT, 0, PADDR_4G);
	uint32_t policy = pages_of(PMM_USABLE_AFTER_EXIT, 0, PMM_LOW_RESERVE);
	uint32_t tables = kernel_bi->pt_count + 1;   /* page tables + the directory */
	uint32_t taken = kernel_bi->transient_taken;
	mm_printf("# %s: map offers %u pages below 4 GiB, policy keeps %u, transient taken %u, "
	          "page tables + directory %u: free %u, allocated %u\n", t->name, offered, policy,
	          taken, tables, pmm_boot.free_at_init, pmm_boot.alloc_at_init);
	KT_EXPECT(t, kernel_bi->flags & BI_F_PT_FROM_PMM, "page tables not from the PMM");
	KT_EXPECT_EQ(t, pmm_boot.free_at_init, offered - policy - taken - tables);
	KT_EXPECT_EQ(t, pmm_boot.alloc_at_init, tables);
	/* the low 1 MiB: every free-class frame there but frame 0 (a hole) */
	uint32_t low = pages_of(MEMMAP_FREE_MASK, PAGE_SIZE, PMM_LOW_RESERVE);
	pmm_boot_reserved_items(t, low);
	struct pmm_stats st;
	pmm_get_stats(kernel_pmm, &st);
	KT_EXPECT(t, st.above_4g_bytes == memmap_mask_bytes(pmm_boot_map, pmm_boot.map_n,
	                                                    PMM_USABLE_AFTER_EXIT, PADDR_4G, ~0ull),
	          "memory above 4 GiB counted wrong");
}
KTEST(pmm_boot_accounting, pmm_boot_accounting);

static void pmm_loader_reclaim(struct ktest_ctx *t)
{
	if (!have_pmm(t))
		return;
	uint32_t expect = pages_of(MEMMAP_CLASS_BIT(MEMMAP_LOADER), pmm_boot.loader_lo,
	                           pmm_boot.loader_hi);
	mm_printf("# %s: loader image %llx-%llx, %u loader pages, %u released, free %u -> %u\n",
	          t->name, (unsigned long long)pmm_boot.loader_lo,
	          (unsigned long long)pmm_boot.loader_hi, expect, pmm_boot.released,
	          pmm_boot.free_at_init, pmm_boot.free_after_release);
	KT_EXPECT(t, expect > 0, "the loader image is not loader-class memory in the final map");
	KT_EXPECT_EQ(t, pmm_boot.released, expect);
	KT_EXPECT_EQ(t, pmm_boot.free_after_release - pmm_boot.free_at_init, expect);
}
KTEST(pmm_loader_reclaim, pmm_loader_reclaim);

static void pmm_now_consistent(struct ktest_ctx *t)
{
	if (!have_pmm(t))
		return;
	struct pmm_stats st;
	pmm_get_stats(kernel_pmm, &st);
	mm_printf("# %s: free %u, allocated %u (page tables, heap, ...)\n", t->name, st.free_pages,
	          st.allocated_pages);
	KT_EXPECT_EQ(t, st.free_pages + st.allocated_pages,
	             pmm_boot.free_after_release + pmm_boot.alloc_at_init +
	             boot_reclaim.released /* BOOT: transient frames, kernel/boot_reclaim.c */);
	KT_EXPECT_EQ(t, pmm_check(kernel_pmm, true), 0);
}
KTEST(pmm_now_consistent, pmm_now_consistent);

static struct { uint32_t pfn; uint32_t order; } blocks[PMM_TEST_BLOCKS];

static void pmm_exhaust_and_return(struct ktest_ctx *t)
{
	if (!have_pmm(t))
		return;
	uint32_t start = pmm_free_pages(kernel_pmm), n = 0, pages = 0;
	for (int order = PMM_MAX_ORDER; order >= 0; order--) {
		paddr_t pa;
		while (n < PMM_TEST_BLOCKS && (pa = pmm_alloc(kernel_pmm, (unsigned)order, 0)) != PADDR_NONE) {
			blocks[n].pfn = pa_to_pfn(pa);
			blocks[n++].order = (uint32_t)order;
			pages += 1u << order;
		}
	}
	uint32_t left = pmm_free_pages(kernel_pmm);
	mm_printf("# %s: %u pages in %u blocks allocated, %u left\n", t->name, pages, n, left);
	KT_EXPECT_EQ(t, left, 0);
	KT_EXPECT_EQ(t, pages, start);
	KT_EXPECT(t, pmm_alloc(kernel_pmm, 0, 0) == PADDR_NONE, "allocation after exhaustion");
	for (uint32_t i = 0; i < n; i++) {
		int rc = pmm_free(kernel_pmm, pfn_to_pa(blocks[i].pfn), blocks[i].order);
		KT_EXPECT(t, rc == 0, "free(%08x, %u): %s", blocks[i].pfn << 12, blocks[i].order,
		          mm_strerror(rc));
	}
	KT_EXPECT_EQ(t, pmm_free_pages(kernel_pmm), start);
	KT_EXPECT_EQ(t, pmm_check(kernel_pmm, true), 0);
}
KTEST(pmm_exhaust_and_return, pmm_exhaust_and_return);

static void pmm_errors_are_values(struct ktest_ctx *t)
{
	if (!have_pmm(t))
		return;
	paddr_t a = pmm_alloc(kernel_pmm, 2, 0);
	KT_EXPECT(t, a != PADDR_NONE, "no block of order 2");
	if (a == PADDR_NONE)
		return;
	uint32_t before = pmm_free_pages(kernel_pmm);
	mm_printf("# %s: the PMM reports each of the next errors with frame and caller:\n", t->name);
	KT_EXPECT_EQ(t, pmm_free(kernel_pmm, a, 1), -MM_EORDER);
	KT_EXPECT_EQ(t, pmm_free(kernel_pmm, a + PAGE_SIZE, 0), -MM_ENOTALLOC);
	KT_EXPECT_EQ(t, pmm_free(kernel_pmm, a + 8, 2), -MM_EALIGN);
	KT_EXPECT_EQ(t, pmm_free(kernel_pmm, 0, 0), -MM_ERESERVED);
	KT_EXPECT_EQ(t, pmm_free(kernel_pmm, PADDR_4G, 0), -MM_ERANGE);
	KT_EXPECT_EQ(t, pmm_free_pages(kernel_pmm), before);
	KT_EXPECT_EQ(t, pmm_free(kernel_pmm, a, 2), 0);
	KT_EXPECT_EQ(t, pmm_free(kernel_pmm, a, 2), -MM_EDOUBLEFREE);
	KT_EXPECT_EQ(t, pmm_free_pages(kernel_pmm), before + 4);
	KT_EXPECT_EQ(t, pmm_check(kernel_pmm, true), 0);
}
KTEST(pmm_errors_are_values, pmm_errors_are_values);
