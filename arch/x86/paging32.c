/*
 * i386 paging (32-bit, non-PAE) through the recursive mapping: the kernel
 * implementation of <mmboot/paging.h>.
 *
 *   PDE 1023 = the page directory itself (set up by the loader), so
 *     the PDE of va is the u32 at 0xFFFFF000 + (va >> 22) * 4
 *     the PTE of va is the u32 at 0xFFC00000 + (va >> 12) * 4
 *   and no physical address is ever dereferenced.
 *
 * Page tables: created from the PMM on the first mapping in their 4 MiB
 * slot (zeroed through their recursive address), and freed back to the PMM
 * when their last entry goes (pt_used[] counts present entries per table).
 * Tables present at arch_paging_init (built by the loader from its own pool)
 * are kept even when empty: they are not the PMM's to take back.
 * Every change is followed by invlpg of the va (and of the table's recursive
 * address when a table comes or goes). 4 MiB pages (PSE) map physically
 * contiguous, 4 MiB aligned ranges (framebuffers); CR4.PSE is enabled here
 * when CPUID says the CPU has it.
 *
 * Fresh pages are zeroed by pg_zero (variants below; arch_paging_init picks
 * one from CPUID): rep stosb when the CPU has ERMS, else rep stosl.
 *
 * The same file runs on the host: tests/host/mmu_sim.c defines
 * PAGING32_HOOKS and the hw_* functions (recursive va -> pointer into the
 * simulated physical memory, counted invlpg, the zeroing variant for the
 * host CPU) and includes this file, so the
 * host tests exercise this exact code (after Linux's tools/testing/vma).
 *
 * Invariants (arch_paging_check): PDE 1023 points at the directory;
 * pt_used[i] equals the present entries of table i; an owned table is
 * never empty; owned tables are the ones arch_page_tables() counts.
 */
#include <mmboot/paging.h>
#include <mmboot/pmm.h>
#include <mmboot/errno.h>
#include <mmboot/mm_env.h>

#include "pte.h"

/* ---- zeroing a fresh page (kernel and host simulator run this code) ----
 *
 * Variants (bench_region measures each on cold and hot pages and inside the
 * lazy-commit path; figures and the reasons for the pick in docs/vmm.md):
 *   STOSB    rep stosb, cached stores: picked when CPUID has ERMS.
 *   STOSL    rep stosl, cached stores, any i386 (fast strings since P6):
 *            picked otherwise.
 *   MOVNTDQ  16-byte non-temporal stores from %xmm0, then sfence. Needs SSE2
 *            and SSE enabled (CR4.OSFXSR), which the kernel does not do:
 *            measured, not picked (slower than rep stos in the commit path:
 *            sfence waits for the stores to reach memory; equal on bulk
 *            cold zeroing). Sets %xmm0 itself, all in one asm block.
 *   MOVNTI   4-byte non-temporal stores (SSE2): the kernel's loop before;
 *            measured, not picked (slowest everywhere).
 */
enum pg_zero { PG_ZERO_STOSL, PG_ZERO_MOVNTI, PG_ZERO_STOSB, PG_ZERO_MOVNTDQ, PG_ZERO_MODES };

static const char *const pg_zero_names[PG_ZERO_MODES] = {
	"rep stosl", "movnti (4-byte NT)", "rep stosb", "movntdq (16-byte NT)",
};

#ifdef __SSE__
#define PG_XMM0_CLOBBER , "xmm0"   /* host: the compiler uses XMM itself */
#else
#define PG_XMM0_CLOBBER            /* kernel: -mno-sse, no XMM in C code */
#endif

/* One asm block: the compiler cannot touch %xmm0 between pxor and stores. */
static void pg_zero_movntdq(uint8_t *p, uint8_t *end)
{
	__asm__ volatile("pxor %%xmm0, %%xmm0\n"
	                 "1:\tmovntdq %%xmm0, (%0)\n\tmovntdq %%xmm0, 16(%0)\n\t"
	                 "movntdq %%xmm0, 32(%0)\n\tmovntdq %%xmm0, 48(%0)\n\t"
	                 "add $64, %0\n\tcmp %1, %0\n\tjne 1b\n\tsfence"
	                 : "+r"(p) : "r"(end) : "memory", "cc" PG_XMM0_CLOBBER);
}

static void pg_zero_movnti(uint32_t *p, uint32_t n32)
{
	for (uint32_t i = 0; i < n32; i += 4)
		__asm__ volatile("movnti %1, (%0)\n\tmovnti %1, 4(%0)\n\t"
		                 "movnti %1, 8(%0)\n\tmovnti %1, 12(%0)"
		                 : : "r"(p + i), "r"(0u) : "memory");
	__asm__ volatile("sfence" : : : "memory");
}

/* Zero n bytes at p (n a multiple of 64, p 16-byte aligned) with variant m. */
static void pg_zero(enum pg_zero m, void *p, uint32_t n)
{
	uintptr_t c = n;   /* the count register is pointer-wide (rcx on the host) */
	switch (m) {
	case PG_ZERO_MOVNTDQ:
		pg_zero_movntdq(p, (uint8_t *)p + n);
		return;
	case PG_ZERO_MOVNTI:
		pg_zero_movnti(p, n / 4);
		return;
	case PG_ZERO_STOSB:
		__asm__ volatile("rep stosb" : "+D"(p), "+c"(c) : "a"(0) : "memory");
		return;
	default:
		c /= 4;
		__asm__ volatile("rep stosl" : "+D"(p), "+c"(c) : "a"(0) : "memory");
		return;
	}
}

/* The variant a CPU gets: rep stosb with ERMS (CPUID.7.0:EBX bit 9), else
 * rep stosl. */
static enum pg_zero pg_zero_pick(bool erms)
{
	return erms ? PG_ZERO_STOSB : PG_ZERO_STOSL;
}

static enum pg_zero pg_zero_mode;   /* set by arch_paging_init (hw_zero_detect) */

#ifndef PAGING32_HOOKS
/* ---- the real hardware ---- */
#include "cpu.h"

static inline void *hw_ptr(vaddr_t va) { return (void *)(uintptr_t)va; }
static inline void hw_invlpg(vaddr_t va) { invlpg(va); }
static inline uint32_t hw_cr3(void) { return read_cr3() & X86_PTE_ADDR; }

static inline void hw_cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
	                 : "a"(leaf), "c"(0u));
}

static inline uint32_t hw_cpuid_edx(void)
{
	uint32_t r[4];
	hw_cpuid(1, r);
	return r[3];
}

static bool hw_enable_pse(void)
{
	if (!((hw_cpuid_edx() >> 3) & 1u))
		return false;
	uint32_t cr4 = read_cr4() | 0x10u;       /* CR4.PSE */
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
	return true;
}

/* ERMS: CPUID.7.0:EBX bit 9 (leaf 7 exists when CPUID.0:EAX >= 7). */
static enum pg_zero hw_zero_detect(void)
{
	uint32_t r[4];
	hw_cpuid(0, r);
	bool erms = false;
	if (r[0] >= 7) {
		hw_cpuid(7, r);
		erms = (r[1] >> 9) & 1u;
	}
	enum pg_zero m = pg_zero_pick(erms);
	mm_printf("paging: fresh pages zeroed with %s (CPUID ERMS %s)\n", pg_zero_names[m],
	          erms ? "yes" : "no");
	return m;
}

void *arch_va_ptr(vaddr_t va) { return (void *)(uintptr_t)va; }

void arch_zero_page(vaddr_t va)
{
	pg_zero(pg_zero_mode, (void *)(uintptr_t)va, PAGE_SIZE);
}
#endif

static struct {
	struct pmm *pmm;               /* page tables come from here */
	bool pse;                      /* 4 MiB pages usable */
	uint32_t owned[X86_PT_ENTRIES / 32]; /* bit i: table i was allocated here (PMM frame) */
	uint16_t used[X86_PT_ENTRIES];     /* present entries of table i */
	uint32_t tables;               /* owned tables */
} pg;

static inline volatile uint32_t *pde_of(vaddr_t va)
{
	return (volatile uint32_t *)hw_ptr(PAGING_PD_VA + (va >> 22) * 4u);
}

static inline volatile uint32_t *pte_of(vaddr_t va)
{
	return (volatile uint32_t *)hw_ptr(PAGING_PT_BASE + (va >> 12) * 4u);
}

static inline vaddr_t table_va(uint32_t i) { return PAGING_PT_BASE + i * PAGE_SIZE; }
static inline bool is_owned(uint32_t i) { return (pg.owned[i >> 5] >> (i & 31u)) & 1u; }

static uint32_t count_present(uint32_t i)
{
	volatile uint32_t *t = (volatile uint32_t *)hw_ptr(table_va(i));
	uint32_t n = 0;
	for (uint32_t k = 0; k < X86_PT_ENTRIES; k++)
		n += t[k] & X86_PTE_P;
	return n;
}

int arch_paging_init(struct pmm *pmm)
{
	if (!pmm)
		return -MM_EINVAL;
	mm_memset(&pg, 0, sizeof(pg));
	pg.pmm = pmm;
	pg.pse = hw_enable_pse();
	pg_zero_mode = hw_zero_detect();
	volatile uint32_t *pd = pde_of(0);
	if (!(pd[PAGING_RECURSIVE_SLOT] & X86_PTE_P) || (pd[PAGING_RECURSIVE_SLOT] & X86_PTE_PS))
		return -MM_EINVAL;
	for (uint32_t i = 0; i < PAGING_RECURSIVE_SLOT; i++)
		if ((pd[i] & X86_PTE_P) && !(pd[i] & X86_PTE_PS))
			pg.used[i] = (uint16_t)count_present(i);
	return 0;
}

/* The table for va's slot, created from the PMM if absent. */
static int table_get(vaddr_t va, uint32_t flags)
{
	uint32_t i = va >> 22;
	volatile uint32_t *pde = pde_of(va);
	if (*pde & X86_PTE_P)
		return (*pde & X86_PTE_PS) ? -MM_EEXIST : 0;
	paddr_t pa = pmm_alloc(pg.pmm, 0, 0);
	if (pa == PADDR_NONE)
		return -MM_ENOMEM;
	if (pa >= PADDR_4G)
		mm_panic("paging: PMM handed out frame 0x%llx above 4 GiB", (unsigned long long)pa);
	*pde = (uint32_t)pa | X86_PTE_P | X86_PTE_RW | ((flags & PG_USER) ? X86_PTE_US : 0);
	hw_invlpg(table_va(i));
	mm_memset(hw_ptr(table_va(i)), 0, PAGE_SIZE);
	pg.owned[i >> 5] |= 1u << (i & 31u);
	pg.used[i] = 0;
	pg.tables++;
	return 0;
}

/* Give table i back to the PMM if it is ours and empty. */
static void table_put(uint32_t i)
{
	if (pg.used[i] || !is_owned(i))
		return;
	volatile uint32_t *pde = pde_of(i << 22);
	paddr_t pa = *pde & X86_PTE_ADDR;
	*pde = 0;
	hw_invlpg(table_va(i));
	pg.owned[i >> 5] &= ~(1u << (i & 31u));
	pg.tables--;
	if (pmm_free(pg.pmm, pa, 0))
		mm_panic("paging: page table frame 0x%llx not freeable", (unsigned long long)pa);
}

static int check_args(vaddr_t va, paddr_t pa, uint32_t align)
{
	if (!IS_ALIGNED(va, align) || !IS_ALIGNED(pa, (paddr_t)align))
		return -MM_EALIGN;
	if (va >= PAGING_VA_LIMIT || pa >= PADDR_4G)
		return -MM_ERANGE;
	return 0;
}

int arch_map(vaddr_t va, paddr_t pa, uint32_t flags)
{
	int rc = check_args(va, pa, PAGE_SIZE);
	if (rc || (rc = table_get(va, flags)))
		return rc;
	volatile uint32_t *pte = pte_of(va);
	if (*pte & X86_PTE_P)
		return -MM_EEXIST;
	*pte = (uint32_t)pa | x86_pte_bits(flags);
	pg.used[va >> 22]++;
	hw_invlpg(va);
	return 0;
}

int arch_map_large(vaddr_t va, paddr_t pa, uint32_t flags)
{
	if (!pg.pse)
		return -MM_EINVAL;
	int rc = check_args(va, pa, LARGE_PAGE_SIZE);
	if (rc)
		return rc;
	volatile uint32_t *pde = pde_of(va);
	if (*pde & X86_PTE_P)
		return -MM_EEXIST;
	*pde = (uint32_t)pa | x86_pte_bits(flags) | X86_PTE_PS;
	hw_invlpg(va);
	return 0;
}

/* The entry that maps va: its PDE (4 MiB page: 1) or PTE (0) in *e, or
 * -MM_ERANGE / -MM_ENOENT. */
static int entry_of(vaddr_t va, volatile uint32_t **e)
{
	if (va >= PAGING_VA_LIMIT)
		return -MM_ERANGE;
	volatile uint32_t *pde = pde_of(va);
	if (!(*pde & X86_PTE_P))
		return -MM_ENOENT;
	if (*pde & X86_PTE_PS) {
		*e = pde;
		return 1;
	}
	*e = pte_of(va);
	return (**e & X86_PTE_P) ? 0 : -MM_ENOENT;
}

int arch_unmap(vaddr_t va, paddr_t *pa_out)
{
	volatile uint32_t *e;
	int large = entry_of(va, &e);
	if (large < 0)
		return large;
	if (pa_out)
		*pa_out = *e & (large ? X86_PDE_LADDR : X86_PTE_ADDR);
	*e = 0;
	if (large) {
		hw_invlpg(va & ~(LARGE_PAGE_SIZE - 1u));
		return 0;
	}
	hw_invlpg(va);
	pg.used[va >> 22]--;
	table_put(va >> 22);
	return 0;
}

int arch_protect(vaddr_t va, uint32_t flags)
{
	volatile uint32_t *e;
	int large = entry_of(va, &e);
	if (large < 0)
		return large;
	if (large)
		*e = (*e & X86_PDE_LADDR) | x86_pte_bits(flags) | X86_PTE_PS;
	else
		*e = (*e & X86_PTE_ADDR) | x86_pte_bits(flags);
	hw_invlpg(va);
	return 0;
}

paddr_t arch_translate(vaddr_t va, uint32_t *flags_out)
{
	uint32_t pde = *pde_of(va);
	if (!(pde & X86_PTE_P))
		return PADDR_NONE;
	if (pde & X86_PTE_PS) {
		if (flags_out)
			*flags_out = x86_pte_flags(pde) | PG_LARGE;
		return (paddr_t)((pde & X86_PDE_LADDR) | (va & (LARGE_PAGE_SIZE - 1u)));
	}
	uint32_t pte = *pte_of(va);
	if (!(pte & X86_PTE_P))
		return PADDR_NONE;
	if (flags_out)
		*flags_out = x86_pte_flags(pte & (pde | ~X86_PTE_RW));
	return (paddr_t)((pte & X86_PTE_ADDR) | (va & PAGE_MASK));
}

uint32_t arch_slot_used(vaddr_t va)
{
	uint32_t pde = *pde_of(va);
	if (!(pde & X86_PTE_P))
		return 0;
	return (pde & X86_PTE_PS) ? X86_PT_ENTRIES : pg.used[va >> 22];
}

uint32_t arch_page_tables(void)
{
	return pg.tables;
}

uint32_t arch_paging_check(bool verbose)
{
	volatile uint32_t *pd = pde_of(0);
	uint32_t bad = 0, owned = 0;
	if ((pd[PAGING_RECURSIVE_SLOT] & X86_PTE_ADDR) != hw_cr3()) {
		if (verbose)
			mm_printf("paging: PDE 1023 = 0x%08x, not the directory 0x%08x\n",
			          (unsigned)pd[PAGING_RECURSIVE_SLOT], hw_cr3());
		bad++;
	}
	for (uint32_t i = 0; i < PAGING_RECURSIVE_SLOT; i++) {
		bool table = (pd[i] & X86_PTE_P) && !(pd[i] & X86_PTE_PS);
		if (is_owned(i) && (!table || pg.used[i] == 0))
			bad++;
		if (table && count_present(i) != pg.used[i]) {
			if (verbose)
				mm_printf("paging: table %u has %u entries, counted %u\n", i,
				          count_present(i), pg.used[i]);
			bad++;
		}
		owned += is_owned(i);
	}
	return bad + (owned != pg.tables);
}
