/*
 * boot_reclaim.c: release the loader's transient frames (boot_reclaim.h).
 *
 *   1. count the page tables the loader built (every present, non-PSE PDE
 *      below the recursive slot): the KTAP test checks that each one, and the
 *      directory, is an allocated PMM frame;
 *   2. the trampoline page: clear its identity PTE through the recursive
 *      window (0xFFC00000 + (va >> 12) * 4) and invlpg; if that leaves its
 *      page table empty, clear the PDE, invlpg the table's window address and
 *      pmm_free the table (the loader took it from the PMM, so this must
 *      succeed); bi->trampoline_pa becomes 0 so no later layer maps it;
 *   3. pmm_release_range on each bi->transient[] range; the free count must
 *      rise by exactly the listed pages (firmware frames the loader took and
 *      loader frames held by the PMM's policy are both "reserved" now).
 *
 * Runs before vm_init: the region layer then adopts only what is still
 * mapped.
 */
#include "kernel.h"
#include "boot_reclaim.h"
#include "pmm_glue.h"
#include "../arch/x86/cpu.h"
#include <mmboot/paging.h>
#include <mmboot/errno.h>

struct boot_reclaim boot_reclaim;

static volatile uint32_t *pte_slot(uint32_t va)
{
	return (volatile uint32_t *)(uintptr_t)(PAGING_PT_BASE + (va >> 12) * 4u);
}

static volatile uint32_t *pde_slot(uint32_t va)
{
	return (volatile uint32_t *)(uintptr_t)(PAGING_PD_VA + (va >> 22) * 4u);
}

static uint32_t count_tables(void)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < PAGING_RECURSIVE_SLOT; i++) {
		uint32_t pde = arch_pde(i << 22);
		n += (pde & 1u) && !(pde & 0x80u);
	}
	return n;
}

static int table_empty(uint32_t va)
{
	uint32_t base = va & ~0x3FFFFFu;
	for (uint32_t j = 0; j < 1024; j++)
		if (*pte_slot(base + j * PAGE_SIZE) & 1u)
			return 0;
	return 1;
}

/* Unmap the identity-mapped trampoline page; free its table if now empty. */
static void unmap_trampoline(struct bootinfo *bi)
{
	uint32_t va = (uint32_t)bi->trampoline_pa;
	if (!bi->trampoline_pa || bi->trampoline_pa >= PAGING_VA_LIMIT || !arch_va_mapped(va) ||
	    (arch_pde(va) & 0x80u) || (arch_pte(va) & 0xFFFFF000u) != va)
		return;
	*pte_slot(va) = 0;
	invlpg(va);
	boot_reclaim.tramp_unmapped = 1;
	boot_reclaim.tramp_pa = bi->trampoline_pa;
	bi->trampoline_pa = 0;
	if (!table_empty(va))
		return;
	uint32_t table_pa = *pde_slot(va) & 0xFFFFF000u;
	*pde_slot(va) = 0;
	invlpg((uint32_t)(uintptr_t)pte_slot(va & ~0x3FFFFFu));
	int rc = pmm_free(kernel_pmm, table_pa, 0);
	if (rc)
		mm_printf("boot: page table %08x of the trampoline not freeable: %s\n", table_pa,
		          mm_strerror(rc));
	else
		boot_reclaim.tables_freed++;
}

int boot_reclaim_transient(struct bootinfo *bi)
{
	if (!kernel_pmm)
		return -MM_EINVAL;
	boot_reclaim.pd_tables = count_tables();
	unmap_trampoline(bi);
	boot_reclaim.free_before = pmm_free_pages(kernel_pmm);
	for (uint32_t i = 0; i < bi->transient_count && i < BOOTINFO_TRANSIENT_MAX; i++) {
		const struct bootinfo_range *r = &bi->transient[i];
		boot_reclaim.listed_pages += r->pages;
		if (r->kind == BI_TR_TRAMPOLINE && !boot_reclaim.tramp_unmapped &&
		    r->pa < PAGING_VA_LIMIT && arch_va_mapped((uint32_t)r->pa)) {
			boot_reclaim.errors++;   /* still mapped: releasing it would alias */
			continue;
		}
		int n = pmm_release_range(kernel_pmm, r->pa, r->pa + (uint64_t)r->pages * PAGE_SIZE);
		if (n < 0)
			boot_reclaim.errors++;
		else
			boot_reclaim.released += (uint32_t)n;
	}
	boot_reclaim.free_after = pmm_free_pages(kernel_pmm);
	boot_reclaim.done = 1;
	mm_printf("boot: transient frames released: %u ranges, %u of %u listed pages (the loader took "
	          "%u from firmware memory; %u unlisted stay reserved); trampoline %s, %u page "
	          "table freed; PMM free %u -> %u\n",
	          bi->transient_count, boot_reclaim.released, boot_reclaim.listed_pages,
	          bi->transient_taken, bi->transient_unlisted,
	          boot_reclaim.tramp_unmapped ? "unmapped" : "kept", boot_reclaim.tables_freed,
	          boot_reclaim.free_before, boot_reclaim.free_after);
	return boot_reclaim.errors ? -MM_EBUSY : 0;
}
