/*
 * main.c: kmain, the kernel stage's sequence.
 *
 *   1. console (COM1 + ring), own GDT/TSS/IDT        - before any risky access
 *   2. check the entry magic and the boot-info block - refuse a bad one
 *   3. report: paging state, layout, firmware, memory below/above 4 GiB,
 *      timings from the loader's TSC stamps
 *   4. each layer's init (marked INIT spots, one call per owner); right
 *      after the PMM, boot_reclaim_transient gives the loader's transient
 *      frames (firmware page tables, its stack, ...) to the PMM
 *      (kernel/boot_reclaim.c)
 *   5. in-kernel tests (KTAP), then the exit status (kernel.h)
 */
#include "kernel.h"
#include "ktest.h"
#include "fbcon.h"
#include "pmm_glue.h"
#include "boot_reclaim.h"
#include "vm.h"
#include <mmboot/kmem.h>
#include <mmboot/region.h>
#include <mmboot/errno.h>
#include "../arch/x86/cpu.h"
#include <mmboot/efi_memdesc.h>

struct bootinfo *kernel_bi;

void kmain(uint32_t magic, uint32_t bi_va, uint32_t bi_pa);
void selftest_crash(void);

static void check_entry(uint32_t magic, uint32_t bi_va, uint32_t bi_pa)
{
	if (magic != BOOTINFO_ENTRY_MAGIC)
		kernel_fail("entry magic %08x, expected %08x", magic, BOOTINFO_ENTRY_MAGIC);
	if (bi_va == 0 || !arch_va_mapped(bi_va))
		kernel_fail("boot-info address %08x is not mapped", bi_va);
	struct bootinfo *bi = (struct bootinfo *)(uintptr_t)bi_va;
	const char *why = bootinfo_check(bi, bi_va);
	if (why)
		kernel_fail("boot-info block refused: %s (magic %08x version %u size %u)", why,
		            bi->magic, bi->version, bi->size);
	if ((uint32_t)bi->bi_pa != bi_pa)
		kernel_fail("boot-info physical address %08x != %08llx", bi_pa,
		            (unsigned long long)bi->bi_pa);
	kernel_bi = bi;
}

static void report_paging(const struct bootinfo *bi)
{
	mm_printf("paging: cr0 %08x cr3 %08x cr4 %08x (PG %u WP %u PSE %u PAE %u)\n", read_cr0(),
	          read_cr3(), read_cr4(), read_cr0() >> 31, (read_cr0() >> 16) & 1,
	          (read_cr4() >> 4) & 1, (read_cr4() >> 5) & 1);
	mm_printf("layout: kernel %08x-%08x at pa %08llx, stack %08x-%08x, boot info %08x (%u KiB),"
	          " free va from %08x\n",
	          bi->kernel_va, bi->kernel_va + bi->kernel_size, (unsigned long long)bi->kernel_pa,
	          bi->stack_va, bi->stack_va + bi->stack_size, bi->bi_va, bi->total_size >> 10,
	          bi->boot_va_end);
	mm_printf("firmware: %s rev %08x, UEFI %u.%u.%u; ExitBootServices after %u tr%s\n",
	          bi->fw_vendor, bi->fw_revision, bi->uefi_revision >> 16,
	          (bi->uefi_revision & 0xFFFF) / 10, (bi->uefi_revision & 0xFFFF) % 10,
	          bi->exitbs_tries, bi->exitbs_tries == 1 ? "y" : "ies");
}

static void report_platform(const struct bootinfo *bi)
{
	if (bi->flags & BI_F_FB)
		mm_printf("framebuffer: %ux%u, pitch %u, format %u, at %08llx (%llu KiB)\n",
		          bi->fb_width, bi->fb_height, bi->fb_pitch, bi->fb_format,
		          (unsigned long long)bi->fb_pa, (unsigned long long)(bi->fb_size >> 10));
	else
		mm_printf("framebuffer: none\n");
	mm_printf("tables: ACPI RSDP %s %08llx, SMBIOS %08llx, SMBIOS3 %08llx\n",
	          (bi->flags & BI_F_ACPI2) ? "2.0" : (bi->flags & BI_F_ACPI1) ? "1.0" : "none",
	          (unsigned long long)bi->acpi_rsdp, (unsigned long long)bi->smbios,
	          (unsigned long long)bi->smbios3);
}

/* The final map as the sanitizer sees it (overlaps resolved, wrapped and
 * empty entries dropped, free classes rounded inward): the same rules as
 * the loader's "usable below/above 4 GiB" lines, so the figures agree. */
static void report_memory(const struct bootinfo *bi)
{
	int rc = pmm_glue_map(bi);
	if (rc)
		mm_printf("memory: the final map could not be sanitized: %s\n", mm_strerror(rc));
	uint64_t below = memmap_mask_bytes(pmm_boot_map, pmm_boot.map_n, MEMMAP_FREE_MASK, 0,
	                                   PADDR_4G);
	uint64_t above = memmap_mask_bytes(pmm_boot_map, pmm_boot.map_n, MEMMAP_FREE_MASK,
	                                   PADDR_4G, ~(uint64_t)0);
	mm_printf("memory: %u map entries; usable RAM %llu KiB below 4 GiB, %llu KiB above 4 GiB",
	          bi->mmap_count, (unsigned long long)(below >> 10), (unsigned long long)(above >> 10));
	mm_printf(above ? " (out of reach of 32-bit paging: not used)\n" : "\n");
}

static void report_timing(const struct bootinfo *bi)
{
	static const char *const names[] = { "loader entry", "map shown", "kernel loaded",
	                                     "paging built", "final map", "ExitBootServices",
	                                     "kernel entry" };
	/* in the order they happen (v2: paging is built after ExitBootServices) */
	static const uint8_t order[] = { BI_TSC_MAP_READ, BI_TSC_KERNEL_LOADED, BI_TSC_FINAL_MAP,
	                                 BI_TSC_EXIT_BS, BI_TSC_PAGING_BUILT, BI_TSC_KERNEL_ENTRY };
	mm_printf("tsc:");
	for (uint32_t k = 0; k < sizeof(order); k++) {
		uint32_t i = order[k];
		if (bi->tsc[i] && bi->tsc[0])
			mm_printf(" %s +%llu k", names[i],
			          (unsigned long long)((bi->tsc[i] - bi->tsc[0]) >> 10));
	}
	mm_printf(" (cycles/1024 since loader entry)\n");
}

void kmain(uint32_t magic, uint32_t bi_va, uint32_t bi_pa)
{
	uint64_t t_entry = rdtsc();
	console_init();
	mm_printf("\nmmboot kernel stage: i386, 32-bit paging, higher half at %08x\n",
	          (uint32_t)(uintptr_t)__kernel_start);
	arch_cpu_init();
	check_entry(magic, bi_va, bi_pa);
	kernel_bi->tsc[BI_TSC_KERNEL_ENTRY] = t_entry;
	report_paging(kernel_bi);
	report_platform(kernel_bi);
	report_memory(kernel_bi);
	report_timing(kernel_bi);
#ifdef MMBOOT_CRASH
	selftest_crash();
#endif

	/* INIT: pmm -- refuses to return without the loader's PMM */
	pmm_glue_init(kernel_bi);
	/* the loader's transient frames (firmware page tables, its stack, ...):
	 * we run on our own directory, give them to the PMM (before the VMM
	 * adopts the boot mappings: the trampoline's goes away) */
	boot_reclaim_transient(kernel_bi);
	/* INIT: vm */
	int rc = vm_init(kernel_pmm, kernel_pmm_va, kernel_pmm_bytes);
	if (rc)
		kernel_fail("vm: the region layer did not start: %s", mm_strerror(rc));
	/* INIT: heap */
	rc = heap_init();
	if (rc)
		kernel_fail("heap: the slab heap did not start: %s", mm_strerror(rc));
	/* INIT: fb */
#ifdef MMBOOT_TEST_FB_ABOVE_4G   /* test builds only: make FB_ABOVE_4G=1 (tests/usb/pse36.sh) */
	if (kernel_bi->fb_pa < 0x100000000ull)
		kernel_bi->fb_pa += 0x100000000ull;
#endif
	fbcon_setup();
	reset_setup();
	/* every layer is up: the kernel's address space as the tests find it */
	region_dump();

	uint32_t failed = ktest_run_all();
	kmem_print_caches();   /* the heap after the tests: caches made, slabs kept (VMM/HEAP) */
	pmm_print_summary(kernel_pmm, "pmm: at the end: ");   /* incl. failed allocations */
	kernel_exit(failed ? KERNEL_STATUS_FAIL : KERNEL_STATUS_PASS);
}
