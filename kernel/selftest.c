/*
 * selftest.c: the boot chain's in-kernel tests (KTAP, kernel/ktest.h).
 * They run first (link order) and check what the loader promised:
 *
 *   boot_info_valid          block validates, map is sane, kernel lies in
 *                            a loader-owned range of the final map
 *   paging_recursive_slot    PDE 1023 -> the directory (== CR3); the
 *                            directory reads back through 0xFFFFF000
 *   paging_kernel_mapped     every kernel page maps to kernel_pa + offset,
 *                            .text read-only, .bss writable; stack and
 *                            boot info mapped; guard pages absent
 *   paging_page0_unmapped    no PTE for page 0 and a read of 0 faults
 *   paging_pte_write_invlpg  a PTE written through 0xFFC00000 + invlpg
 *                            creates an alias; removing it faults again
 *   exception_breakpoint     int3 goes through the IDT and resumes
 *   panic_is_catchable       mm_panic under ktest_expect_fault comes back
 *   fmt_conversions          the formatter (64-bit values on i386)
 *   console_ring_replay      the ring keeps the text; sinks get it
 */
#include "kernel.h"
#include "ktest.h"
#include "fmt.h"
#include "../arch/x86/cpu.h"
#include <mmboot/efi_memdesc.h>
#include <mmboot/paging.h>

#define PTE_P  0x1u
#define PTE_RW 0x2u

static void t_boot_info(struct ktest_ctx *t)
{
	const struct bootinfo *bi = kernel_bi;
	KT_EXPECT(t, bootinfo_check(bi, bi->bi_va) == 0, "bootinfo_check: %s",
	          bootinfo_check(bi, bi->bi_va));
	KT_EXPECT(t, bi->mmap_count > 0, "empty memory map");
	const uint8_t *map = (const uint8_t *)bi + bi->mmap_offset;
	int found = 0;
	for (uint32_t i = 0; i < bi->mmap_count; i++) {
		const struct efi_memdesc *d = (const void *)(map + i * bi->mmap_desc_size);
		KT_EXPECT(t, d->num_pages > 0 && (d->phys_start & 0xFFF) == 0,
		          "descriptor %u: start %llx pages %llu", i,
		          (unsigned long long)d->phys_start, (unsigned long long)d->num_pages);
		uint64_t end = d->phys_start + (d->num_pages << 12);
		if (d->type == EFI_MT_LOADER_CODE && d->phys_start <= bi->kernel_pa &&
		    bi->kernel_pa + bi->kernel_size <= end)
			found = 1;
	}
	KT_EXPECT(t, found, "kernel %llx+%x not inside a LoaderCode range of the final map",
	          (unsigned long long)bi->kernel_pa, bi->kernel_size);
	KT_EXPECT(t, (bi->flags & (BI_F_ACPI1 | BI_F_ACPI2)) && bi->acpi_rsdp,
	          "no ACPI RSDP in the boot info");
}
KTEST(boot_info_valid, t_boot_info);

static void t_recursive(struct ktest_ctx *t)
{
	uint32_t cr3 = read_cr3() & ~0xFFFu;
	uint32_t pde = arch_pde(PAGING_PD_VA);
	KT_EXPECT_EQ(t, pde & ~0xFFFu, cr3);
	KT_EXPECT(t, (pde & (PTE_P | PTE_RW)) == (PTE_P | PTE_RW), "PDE 1023 flags %x", pde);
	KT_EXPECT_EQ(t, cr3, (uint32_t)kernel_bi->page_dir_pa);
	/* The directory seen as the last page table: entry 1023 of table 1023. */
	KT_EXPECT_EQ(t, ((volatile uint32_t *)(uintptr_t)PAGING_PT_BASE)[0xFFFFF], pde);
	KT_EXPECT_EQ(t, arch_pte(PAGING_PD_VA) & ~0xFFFu, cr3);
}
KTEST(paging_recursive_slot, t_recursive);

static void expect_range(struct ktest_ctx *t, uint32_t va, uint32_t size, paddr_t pa, int rw)
{
	for (uint32_t off = 0; off < size; off += PAGE_SIZE) {
		uint32_t pte = arch_pte(va + off);
		KT_EXPECT(t, (pte & PTE_P) && (pte & ~0xFFFu) == (uint32_t)(pa + off),
		          "va %08x: pte %08x, expected pa %08llx", va + off, pte,
		          (unsigned long long)(pa + off));
		if (rw >= 0)
			KT_EXPECT(t, !!(pte & PTE_RW) == rw, "va %08x: RW %u, expected %d", va + off,
			          !!(pte & PTE_RW), rw);
	}
}

static void t_kernel_mapped(struct ktest_ctx *t)
{
	const struct bootinfo *bi = kernel_bi;
	KT_EXPECT_EQ(t, bi->kernel_va, (uint32_t)(uintptr_t)__kernel_start);
	KT_EXPECT_EQ(t, bi->kernel_va + bi->kernel_size, (uint32_t)(uintptr_t)__kernel_end);
	expect_range(t, bi->kernel_va, bi->kernel_size, bi->kernel_pa, -1);
	KT_EXPECT(t, !(arch_pte((uint32_t)(uintptr_t)t_kernel_mapped) & PTE_RW), ".text writable");
	KT_EXPECT(t, arch_pte((uint32_t)(uintptr_t)__bss_start) & PTE_RW, ".bss read-only");
	expect_range(t, bi->stack_va, bi->stack_size, bi->stack_pa, 1);
	expect_range(t, bi->bi_va, bi->total_size, bi->bi_pa, 1);
	KT_EXPECT(t, !arch_va_mapped(bi->stack_va - PAGE_SIZE), "guard below the stack mapped");
	KT_EXPECT(t, !arch_va_mapped(bi->stack_va + bi->stack_size), "guard above the stack mapped");
	uint32_t esp = (uint32_t)(uintptr_t)__builtin_frame_address(0);
	KT_EXPECT(t, esp >= bi->stack_va && esp < bi->stack_va + bi->stack_size,
	          "running on stack %08x, not the loader's stack", esp);
}
KTEST(paging_kernel_mapped, t_kernel_mapped);

static void t_page0(struct ktest_ctx *t)
{
	KT_EXPECT(t, !arch_va_mapped(0), "page 0 is mapped (pde %08x pte %08x)", arch_pde(0),
	          arch_pte(0));
	volatile uint32_t *null = (volatile uint32_t *)(uintptr_t)arch_pte(0);   /* == 0 */
	if (ktest_expect_fault(KTEST_FAULT_PAGE) == 0) {
		(void)*null;
		KT_EXPECT(t, 0, "reading address 0 did not fault");
	}
	ktest_expect_done();
	KT_EXPECT_EQ(t, ktest_fault_caught(), KTEST_FAULT_PAGE);
	KT_EXPECT_EQ(t, ktest_fault_addr(), 0);
}
KTEST(paging_page0_unmapped, t_page0);

static uint8_t alias_target[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static void t_pte_write(struct ktest_ctx *t)
{
	uint32_t va = kernel_bi->stack_va - PAGE_SIZE;   /* the guard page: never used */
	volatile uint32_t *pte = (volatile uint32_t *)(uintptr_t)(PAGING_PT_BASE + (va >> 12) * 4);
	uint32_t frame = arch_pte((uint32_t)(uintptr_t)alias_target) & ~0xFFFu;
	KT_EXPECT(t, !arch_va_mapped(va) && frame, "setup: guard %08x, frame %08x", va, frame);
	alias_target[5] = 0x5A;
	*pte = frame | PTE_P | PTE_RW;
	invlpg(va);
	volatile uint8_t *alias = (volatile uint8_t *)(uintptr_t)va;
	KT_EXPECT_EQ(t, alias[5], 0x5A);
	alias[6] = 0xA5;
	KT_EXPECT_EQ(t, alias_target[6], 0xA5);
	*pte = 0;
	invlpg(va);
	if (ktest_expect_fault(KTEST_FAULT_PAGE) == 0) {
		alias[7] = 1;
		KT_EXPECT(t, 0, "write through the removed mapping did not fault");
	}
	ktest_expect_done();
	KT_EXPECT_EQ(t, ktest_fault_addr(), va + 7);
	KT_EXPECT_EQ(t, alias_target[7], 0);
}
KTEST(paging_pte_write_invlpg, t_pte_write);

static void t_breakpoint(struct ktest_ctx *t)
{
	uint32_t before = arch_breakpoints();
	__asm__ volatile("int3");
	KT_EXPECT_EQ(t, arch_breakpoints(), before + 1);
}
KTEST(exception_breakpoint, t_breakpoint);

static void t_panic(struct ktest_ctx *t)
{
	if (ktest_expect_fault(KTEST_FAULT_PANIC) == 0) {
		mm_panic("deliberate panic %u", 42u);
		KT_EXPECT(t, 0, "mm_panic returned");
	}
	ktest_expect_done();
	KT_EXPECT_EQ(t, ktest_fault_caught(), KTEST_FAULT_PANIC);
	KT_EXPECT(t, mm_memcmp(ktest_fault_message(), "deliberate panic 42", 20) == 0,
	          "message '%s'", ktest_fault_message());
}
KTEST(panic_is_catchable, t_panic);

static void expect_fmt(struct ktest_ctx *t, const char *got, const char *want)
{
	KT_EXPECT(t, mm_memcmp(got, want, __builtin_strlen(want) + 1) == 0, "got '%s', want '%s'",
	          got, want);
}

static void t_fmt(struct ktest_ctx *t)
{
	char b[64];
	fmt_snprintf(b, sizeof(b), "%08x|%-4s|%5d|%llu", 0xBEEFu, "ab", -42, 1ull << 40);
	expect_fmt(t, b, "0000beef|ab  |  -42|1099511627776");
	fmt_snprintf(b, sizeof(b), "%llx %lld %c%%", 0xFEDCBA9876543210ull, -9000000000ll, 'z');
	expect_fmt(t, b, "fedcba9876543210 -9000000000 z%");
	KT_EXPECT_EQ(t, fmt_snprintf(b, 4, "%s", "truncated"), 9);
	expect_fmt(t, b, "tru");
}
KTEST(fmt_conversions, t_fmt);

static uint32_t sink_bytes;
static char sink_last;
static void count_sink(const char *s, uint32_t len)
{
	sink_bytes += len;
	if (len)
		sink_last = s[len - 1];
}

static void t_console(struct ktest_ctx *t)
{
	sink_bytes = 0;
	console_replay(count_sink);
	KT_EXPECT(t, sink_bytes == console_ring_used() && sink_bytes > 100,
	          "replayed %u of %u bytes", sink_bytes, console_ring_used());
	KT_EXPECT_EQ(t, console_add_sink(count_sink), 0);
	uint32_t before = sink_bytes;
	mm_printf("# console sink check\n");
	KT_EXPECT_EQ(t, sink_bytes - before, 21);
	KT_EXPECT_EQ(t, sink_last, '\n');
	KT_EXPECT_EQ(t, console_remove_sink(count_sink), 0);
}
KTEST(console_ring_replay, t_console);

#ifdef MMBOOT_CRASH
/*
 * Deliberate crashes, to check the fatal paths (build with
 * `make BUILD=build/crashN CRASH=N build/crashN/BOOTX64.EFI`):
 *   1  kernel stack overflow into the guard page -> #DF on its own task
 *   2  write to page 0 outside any test          -> #PF report, decoded
 *   3  ud2                                        -> #UD report
 *   4  the loader corrupts the boot-info magic   -> the kernel refuses it
 *   5  the loader sees a corrupt kernel ELF      -> EFI error to firmware
 * Each must end with the fail status (QEMU exit 35), except 5, which ends
 * in the firmware's boot manager after the loader's message.
 */
static uint32_t __attribute__((noinline)) crash_recurse(uint32_t n)
{
	volatile uint8_t pad[512];
	pad[0] = (uint8_t)n;
	if (n == 0xFFFFFFFFu)   /* never: keeps -Winfinite-recursion quiet */
		return pad[0];
	return crash_recurse(n + 1) + pad[0];
}

void selftest_crash(void);
void selftest_crash(void)
{
	mm_printf("crash test %d\n", MMBOOT_CRASH);
	switch (MMBOOT_CRASH) {
	case 1: crash_recurse(0); break;
	case 2: *(volatile uint32_t *)(uintptr_t)arch_pte(0) = 1; break;
	case 3: __asm__ volatile("ud2"); break;
	default: break;
	}
}
#endif
