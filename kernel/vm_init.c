/*
 * vm_init.c: the kernel stage's virtual memory at start-up.
 *
 *   0x00000000  page 0: never mapped
 *   tramp_pa    mode-switch trampoline, identity mapped     region "trampoline"
 *   kernel_va   .text .rodata (mapped read-only)            region "kernel-text" (not writable)
 *               .data .bss                                  region "kernel-data"
 *   --------    arena start (end of the image)
 *               [guard][kernel stack]                       region "kstack"
 *               [guard][boot info][guard]                   region "bootinfo"
 *               PMM metadata (where the loader mapped it)   region "pmm-metadata"
 *               framebuffer (4 MiB PSE pages when aligned)  region "fbcon" (kernel/fbcon.c,
 *                                                           region_create_phys via physwin)
 *               ... regions created later (heap, tests) ...
 *   0xFBC00000  region-meta (the region layer's own pool, 64 MiB of va)
 *   0xFFC00000  page tables (recursive slot), PD at 0xFFFFF000
 *
 * Everything the loader mapped is adopted as a region (frames not owned, so
 * never given to the PMM by the region layer), and vm_orphan_pages() checks
 * that no mapped page is left outside a region.
 */
#include "kernel.h"
#include "vm.h"
#include "physwin.h"
#include <mmboot/paging.h>
#include <mmboot/region.h>
#include <mmboot/pmm.h>
#include <mmboot/errno.h>

extern const char __ktests_end[];   /* kernel.ld: end of .rodata; .data starts on the next page */

static struct pmm *vm_the_pmm;

struct pmm *vm_pmm(void)
{
	return vm_the_pmm;
}

static int adopt(vaddr_t va, uint32_t size, uint32_t flags, const char *name)
{
	if (region_adopt(va, size, flags, name))
		return 0;
	mm_printf("vm: cannot adopt %s at %08x (+%u bytes)\n", name, va, size);
	return -MM_EEXIST;
}

static bool page_writable(vaddr_t va)
{
	uint32_t fl = 0;
	return arch_translate(va, &fl) != PADDR_NONE && (fl & PG_WRITE);
}

/* The kernel image per ELF segment, as the loader mapped it: the read-only
 * run (.text, .rodata: kernel.ld puts .data on the page after __ktests_end)
 * as "kernel-text" without REGION_WRITE, the rest (.data, .bss) as
 * "kernel-data". Runs follow the page protections actually mapped, so a
 * write to .text is reported as "write to a read-only page of region
 * 'kernel-text'"; a boundary that differs from the linker's is reported. */
static int adopt_kernel_image(const struct bootinfo *bi)
{
	vaddr_t lo = bi->kernel_va, hi = ALIGN_UP(bi->kernel_va + bi->kernel_size, PAGE_SIZE);
	vaddr_t ro_end = lo, data_ld = ALIGN_UP((vaddr_t)(uintptr_t)__ktests_end, PAGE_SIZE);
	while (ro_end < hi && !page_writable(ro_end))
		ro_end += PAGE_SIZE;
	for (vaddr_t va = ro_end; va < hi; va += PAGE_SIZE)
		if (!page_writable(va)) {
			mm_printf("vm: kernel page %08x above the data start %08x is read-only\n", va, ro_end);
			return -MM_EINVAL;
		}
	if (ro_end != data_ld)
		mm_printf("vm: warning: kernel read-only run ends at %08x, kernel.ld puts .data at %08x\n",
		          ro_end, data_ld);
	int rc = ro_end > lo ? adopt(lo, ro_end - lo, 0, "kernel-text") : 0;
	return (rc || ro_end == hi) ? rc : adopt(ro_end, hi - ro_end, REGION_WRITE, "kernel-data");
}

static int adopt_boot_mappings(const struct bootinfo *bi)
{
	int rc = adopt_kernel_image(bi);
	rc = rc ? rc : adopt(bi->stack_va - PAGE_SIZE, bi->stack_size + PAGE_SIZE, REGION_WRITE, "kstack");
	uint32_t bi_end = ALIGN_UP(bi->bi_va + bi->total_size, PAGE_SIZE) + PAGE_SIZE;
	if (bi_end > bi->boot_va_end || arch_va_mapped(bi_end - PAGE_SIZE))
		bi_end -= PAGE_SIZE;                     /* no guard page above */
	rc = rc ? rc : adopt(bi->bi_va - PAGE_SIZE, bi_end - (bi->bi_va - PAGE_SIZE), REGION_WRITE, "bootinfo");
	if (!rc && bi->trampoline_pa && bi->trampoline_pa < PAGING_VA_LIMIT &&
	    !region_lookup((vaddr_t)bi->trampoline_pa))
		rc = adopt((vaddr_t)bi->trampoline_pa, PAGE_SIZE, 0, "trampoline");
	return rc;
}

/* Anything else the loader mapped in [lo, hi): adopted run by run, so that
 * no mapped page is left outside a region. */
static void adopt_leftovers(vaddr_t lo, vaddr_t hi)
{
	for (vaddr_t va = lo; va < hi; va += PAGE_SIZE) {
		if (!arch_va_mapped(va) || region_lookup(va))
			continue;
		vaddr_t end = va + PAGE_SIZE;
		while (end < hi && arch_va_mapped(end) && !region_lookup(end))
			end += PAGE_SIZE;
		adopt(va, end - va, REGION_WRITE, "boot-mapping");
		va = end - PAGE_SIZE;
	}
}

/* Orphans of one present page table (PDE index i). */
static uint32_t orphans_in_table(uint32_t i, bool verbose, uint32_t found)
{
	uint32_t n = 0;
	for (uint32_t j = 0; j < 1024; j++) {
		vaddr_t va = (i << 22) | (j << 12);
		if (!(arch_pte(va) & 1u) || region_lookup(va))
			continue;
		if (verbose && found + n < 8)
			mm_printf("vm: mapped page %08x (pte %08x) belongs to no region\n", va, arch_pte(va));
		n++;
	}
	return n;
}

uint32_t vm_orphan_pages(bool verbose)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < PAGING_RECURSIVE_SLOT; i++) {
		uint32_t pde = arch_pde(i << 22);
		if (!(pde & 1u))
			continue;
		if (pde & 0x80u) {
			if (physwin_owns_pde(i << 22))
				continue;   /* a physwin direct window (framebuffer above 4 GiB) */
			if (!region_lookup(i << 22) || !region_lookup((i << 22) | 0x3FF000u)) {
				if (verbose)
					mm_printf("vm: 4 MiB page %08x belongs to no region\n", i << 22);
				n += 1024;
			}
			continue;
		}
		n += orphans_in_table(i, verbose, n);
	}
	return n;
}

int vm_init(struct pmm *pmm, vaddr_t pmm_va, uint32_t pmm_bytes)
{
	const struct bootinfo *bi = kernel_bi;
	vaddr_t va_lo = ALIGN_UP(bi->kernel_va + bi->kernel_size, PAGE_SIZE);
	int rc = arch_paging_init(pmm);
	if (!rc)
		rc = region_init(pmm, va_lo, PAGING_VA_LIMIT);
	if (!rc)
		rc = adopt_boot_mappings(bi);
	if (!rc && pmm_bytes && !region_lookup(pmm_va))
		rc = adopt(pmm_va, pmm_bytes, REGION_WRITE, "pmm-metadata");
	if (rc) {
		mm_printf("vm: init failed: %s\n", mm_strerror(rc));
		return rc;
	}
	if (bi->boot_va_end > va_lo && bi->boot_va_end <= PAGING_VA_LIMIT)
		adopt_leftovers(va_lo, bi->boot_va_end);
	vm_the_pmm = pmm;
	uint32_t orphans = vm_orphan_pages(true), bad = region_check(true);
	mm_printf("vm: %u mapped pages outside regions, region_check %u, PMM free %u pages, "
	          "%u page tables from the PMM\n", orphans, bad, pmm_free_pages(pmm), arch_page_tables());
	if (orphans || bad) {   /* every mapped kernel page belongs to a region: no exceptions */
		mm_printf("vm: refusing to go on: %u orphan pages (e.g. a direct physwin window made "
		          "before the region layer), %u region_check errors\n", orphans, bad);
		return -MM_ECORRUPT;
	}
	return 0;
}
