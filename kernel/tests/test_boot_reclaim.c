/*
 * In-kernel tests of the boot handoff's frame accounting (issue 3, BOOT
 * side): the loader took the page directory and tables from the PMM after
 * ExitBootServices and reserved the frames that were live until the mode
 * switch; the kernel released those (kernel/boot_reclaim.c).
 *
 *   boot_transient_released   the listed transient ranges are sorted,
 *                             disjoint and of known kinds (the loader's stack
 *                             and the firmware's page tables among them); the
 *                             PMM's free count rose by exactly the listed
 *                             pages; none of them is reserved any more
 *   boot_page_tables_from_pmm the directory (CR3) and every page table are
 *                             allocated PMM frames (pmm_reserve refuses them
 *                             with -MM_EBUSY, state unchanged); the
 *                             trampoline's identity mapping is gone and its
 *                             table went back to the PMM
 */
#include "../kernel.h"
#include "../ktest.h"
#include "../pmm_glue.h"
#include "../boot_reclaim.h"
#include "../../arch/x86/cpu.h"
#include <mmboot/paging.h>
#include <mmboot/errno.h>

static bool have(struct ktest_ctx *t)
{
	KT_EXPECT(t, kernel_pmm && boot_reclaim.done, "no PMM, or boot_reclaim_transient did not run");
	return kernel_pmm && boot_reclaim.done;
}

/* Sorted, disjoint, known kinds, totals; which kinds occur (bit per kind). */
static uint32_t check_list(struct ktest_ctx *t, const struct bootinfo *bi)
{
	uint32_t kinds = 0, pages = 0;
	for (uint32_t i = 0; i < bi->transient_count; i++) {
		const struct bootinfo_range *r = &bi->transient[i];
		KT_EXPECT(t, r->kind > 0 && r->kind < BI_TR_KINDS, "range %u: kind %u", i, r->kind);
		KT_EXPECT(t, r->pages > 0 && (r->pa & PAGE_MASK) == 0 &&
		                 r->pa + (uint64_t)r->pages * PAGE_SIZE <= PADDR_4G,
		          "range %u: %llx + %u pages", i, (unsigned long long)r->pa, r->pages);
		if (i > 0)
			KT_EXPECT(t, bi->transient[i - 1].pa + (uint64_t)bi->transient[i - 1].pages *
			                     PAGE_SIZE <= r->pa,
			          "range %u not after range %u", i, i - 1);
		kinds |= 1u << (r->kind < 32 ? r->kind : 0);
		pages += r->pages;
	}
	KT_EXPECT_EQ(t, pages, bi->transient_pages);
	return kinds;
}

static void boot_transient_released(struct ktest_ctx *t)
{
	if (!have(t))
		return;
	const struct bootinfo *bi = kernel_bi;
	mm_printf("# %s: %u ranges, %u pages listed (%u taken from firmware memory, %u unlisted), "
	          "%u released, PMM free %u -> %u\n", t->name, bi->transient_count,
	          bi->transient_pages, bi->transient_taken, bi->transient_unlisted,
	          boot_reclaim.released, boot_reclaim.free_before, boot_reclaim.free_after);
	uint32_t kinds = check_list(t, bi);
	KT_EXPECT(t, kinds & (1u << BI_TR_LOADER_STACK), "the loader's stack is not listed");
	KT_EXPECT(t, kinds & (1u << BI_TR_FW_PAGE_TABLE), "no firmware page table listed");
	KT_EXPECT(t, bi->transient_taken > 0, "the loader took no firmware frame");
	KT_EXPECT_EQ(t, boot_reclaim.errors, 0);
	KT_EXPECT_EQ(t, boot_reclaim.listed_pages, bi->transient_pages);
	KT_EXPECT_EQ(t, boot_reclaim.released, bi->transient_pages);
	KT_EXPECT_EQ(t, boot_reclaim.free_after - boot_reclaim.free_before, bi->transient_pages);
	/* Not reserved any more: releasing again finds free (or since allocated)
	 * frames and refuses, leaving the PMM unchanged. */
	pmm_set_flags(kernel_pmm, 0);
	uint32_t before = pmm_free_pages(kernel_pmm);
	for (uint32_t i = 0; i < bi->transient_count; i++) {
		const struct bootinfo_range *r = &bi->transient[i];
		int rc = pmm_release_range(kernel_pmm, r->pa, r->pa + (uint64_t)r->pages * PAGE_SIZE);
		KT_EXPECT(t, rc == -MM_EDOUBLEFREE || rc == -MM_EBUSY,
		          "range %llx+%u still held: release gives %d", (unsigned long long)r->pa,
		          r->pages, rc);
	}
	pmm_set_flags(kernel_pmm, PMM_F_REPORT);
	KT_EXPECT_EQ(t, pmm_free_pages(kernel_pmm), before);
}
KTEST(boot_transient_released, boot_transient_released);

/* -MM_EBUSY from pmm_reserve: the frame is allocated (and stays so). */
static void expect_allocated(struct ktest_ctx *t, uint32_t pa, const char *what)
{
	int rc = pmm_reserve(kernel_pmm, pa, pa + PAGE_SIZE);
	KT_EXPECT(t, rc == -MM_EBUSY, "%s %08x: pmm_reserve gives %d, not EBUSY (not allocated)",
	          what, pa, rc);
}

static void boot_page_tables_from_pmm(struct ktest_ctx *t)
{
	if (!have(t))
		return;
	const struct bootinfo *bi = kernel_bi;
	uint32_t cr3 = read_cr3() & 0xFFFFF000u, tables = 0;
	mm_printf("# %s: directory %08x, %u tables from the loader, %u at kernel start, %u freed "
	          "with the trampoline (%llx)\n", t->name, cr3, bi->pt_count, boot_reclaim.pd_tables,
	          boot_reclaim.tables_freed, (unsigned long long)boot_reclaim.tramp_pa);
	KT_EXPECT(t, bi->flags & BI_F_PT_FROM_PMM, "the loader did not take the tables from the PMM");
	KT_EXPECT_EQ(t, cr3, (uint32_t)bi->page_dir_pa);
	KT_EXPECT_EQ(t, boot_reclaim.pd_tables, bi->pt_count);
	pmm_set_flags(kernel_pmm, 0);
	expect_allocated(t, cr3, "page directory");
	for (uint32_t i = 0; i < PAGING_RECURSIVE_SLOT; i++) {
		uint32_t pde = arch_pde(i << 22);
		if (!(pde & 1u) || (pde & 0x80u))
			continue;
		expect_allocated(t, pde & 0xFFFFF000u, "page table");
		tables++;
	}
	pmm_set_flags(kernel_pmm, PMM_F_REPORT);
	KT_EXPECT(t, tables > 0, "no page table present");
	KT_EXPECT_EQ(t, boot_reclaim.tramp_unmapped, 1);
	KT_EXPECT_EQ(t, bi->trampoline_pa, 0);
	KT_EXPECT(t, !arch_va_mapped((uint32_t)boot_reclaim.tramp_pa), "trampoline still mapped");
	KT_EXPECT_EQ(t, boot_reclaim.tables_freed, 1);
}
KTEST(boot_page_tables_from_pmm, boot_page_tables_from_pmm);
