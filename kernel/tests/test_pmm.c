/*
 * In-kernel tests of the buddy PMM as the kernel stage took it over
 * (kernel/pmm_glue.c), against the final memory map in the boot-info block.
 *
 *   pmm_boot_accounting   right after adopt/build, free + allocated pages ==
 *                         what the final map offers below 4 GiB (usable and
 *                         boot-services classes) minus the policy (low 1 MiB);
 *                         the loader's memory (kernel image, stack, boot info,
 *                         page tables, metadata here) is held as reserved
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

static void pmm_boot_accounting(struct ktest_ctx *t)
{
	if (!have_pmm(t))
		return;
	uint32_t offered = pages_of(PMM_USABLE_AFTER_EXIT, 0, PADDR_4G);
	uint32_t policy = pages_of(PMM_USABLE_AFTER_EXIT, 0, PMM_LOW_RESERVE);
	mm_printf("# %s: map offers %u pages below 4 GiB, policy keeps %u, free %u + allocated %u "
	          "(%s)\n", t->name, offered, policy, pmm_boot.free_at_init, pmm_boot.alloc_at_init,
	          pmm_boot.from_loader ? "loader's PMM" : "built by the kernel");
	/* BOOT: minus the firmware frames the loader reserved as transient until the mode switch */
	KT_EXPECT_EQ(t, pmm_boot.free_at_init + pmm_boot.alloc_at_init,
	             offered - policy - kernel_bi->transient_taken);
	struct pmm_stats st;
	pmm_get_stats(kernel_pmm, &st);
	/* the loader's memory is held, never free: its pages are reserved (or the metadata) */
	uint32_t loader = pages_of(MEMMAP_CLASS_BIT(MEMMAP_LOADER), PMM_LOW_RESERVE, PADDR_4G);
	KT_EXPECT(t, st.reserved_pages + st.hole_pages + pmm_boot.released +
	                 boot_reclaim.released /* BOOT: transient frames released */ >= loader,
	          "reserved %u + holes %u < loader pages %u - released %u", st.reserved_pages,
	          st.hole_pages, loader, pmm_boot.released);
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
