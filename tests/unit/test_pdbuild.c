/*
 * test_pdbuild.c: the loader's page-directory builder (arch/x86/pdbuild.c)
 * on a simulated physical memory.
 *
 * "Physical memory" is a host buffer of SIM_PAGES pages standing for
 * [SIM_BASE, SIM_BASE + SIM_PAGES*4K). The builder gets its directory and a
 * pool of table pages from it. The checks use an independent MMU walker
 * that knows only physical addresses and the x86 32-bit paging rules
 * (CR3 -> PDE -> PTE -> frame), so the recursive slot is exercised exactly
 * as the CPU would: va 0xFFFFF000 must reach the directory, 0xFFC00000 +
 * (va >> 12) * 4 must reach the PTE of va.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "../../arch/x86/pdbuild.h"

#define SIM_BASE  0x00200000ull
#define SIM_PAGES 16u

static uint8_t mem[SIM_PAGES * PAGE_SIZE] __attribute__((aligned(4096)));
static struct pdbuild b;
static struct pdb_pool pool;
static struct pdb_frame_src src = { &pool, pdb_pool_alloc };

static uint32_t phys_read32(paddr_t pa)
{
	assert_true(pa >= SIM_BASE && pa + 4 <= SIM_BASE + sizeof(mem));
	uint32_t v;
	memcpy(&v, mem + (pa - SIM_BASE), 4);
	return v;
}

/* The CPU's view: translate va with CR3 = cr3; PADDR_NONE if not present.
 * *rw gets the effective write permission (PDE.RW & PTE.RW). */
static paddr_t walk(paddr_t cr3, vaddr_t va, int *rw)
{
	uint32_t pde = phys_read32(cr3 + (va >> 22) * 4);
	if (!(pde & X86_PTE_P))
		return PADDR_NONE;
	assert_false(pde & X86_PTE_PS);   /* the builder uses 4 KiB pages only */
	uint32_t pte = phys_read32((pde & X86_PTE_ADDR) + ((va >> 12) & 0x3FF) * 4);
	if (!(pte & X86_PTE_P))
		return PADDR_NONE;
	if (rw)
		*rw = (pde & X86_PTE_RW) && (pte & X86_PTE_RW);
	return (pte & X86_PTE_ADDR) | (va & PAGE_MASK);
}

/* Directory at page 0 of the simulated memory, pool of `tables` pages after it. */
static int setup(void **state)
{
	(void)state;
	memset(mem, 0x5A, sizeof(mem));   /* garbage: the builder must zero what it uses */
	pool = (struct pdb_pool){ mem + PAGE_SIZE, SIM_BASE + PAGE_SIZE, 4, 0 };
	assert_int_equal(pdb_init(&b, mem, SIM_BASE, &src), 0);
	return 0;
}

static void test_recursive_slot(void **state)
{
	(void)state;
	assert_int_equal(phys_read32(SIM_BASE + 1023 * 4), (uint32_t)SIM_BASE | 3u);
	for (uint32_t i = 0; i < 1023; i++)
		assert_int_equal(phys_read32(SIM_BASE + i * 4), 0);
	/* directory visible at 0xFFFFF000, writable */
	int rw = 0;
	assert_int_equal(walk(SIM_BASE, PAGING_PD_VA, &rw), SIM_BASE);
	assert_true(rw);
	assert_int_equal(walk(SIM_BASE, PAGING_PD_VA + 0x123, NULL), SIM_BASE + 0x123);
}

static void test_kernel_layout(void **state)
{
	(void)state;
	/* kernel 3 text pages RO + 2 data pages RW, stack, trampoline identity */
	assert_int_equal(pdb_map(&b, 0xC0100000u, 0x0DE86000ull, 3, 0), 0);
	assert_int_equal(pdb_map(&b, 0xC0103000u, 0x0DE89000ull, 2, PG_WRITE), 0);
	assert_int_equal(pdb_map(&b, 0xC0106000u, 0x0DE00000ull, 4, PG_WRITE), 0);
	assert_int_equal(pdb_map(&b, 0x0DE7A000u, 0x0DE7A000ull, 1, 0), 0);
	assert_int_equal(b.tables, 2);
	assert_int_equal(b.pages, 10);
	struct pdb_range r[] = { { 0xC0100000u, 5 }, { 0xC0106000u, 4 }, { 0x0DE7A000u, 1 } };
	assert_int_equal(pdb_tables_needed(r, 3), 2);
	int rw;
	for (uint32_t k = 0; k < 5; k++) {
		assert_int_equal(walk(SIM_BASE, 0xC0100000u + k * 4096, &rw), 0x0DE86000ull + k * 4096);
		assert_int_equal(rw, k >= 3);
	}
	assert_int_equal(walk(SIM_BASE, 0x0DE7A010u, &rw), 0x0DE7A010ull);
	assert_false(rw);
	assert_int_equal(walk(SIM_BASE, 0xC0105000u, NULL), PADDR_NONE);   /* guard */
	assert_int_equal(walk(SIM_BASE, 0, NULL), PADDR_NONE);             /* page 0 */
	assert_int_equal(pdb_translate(&b, 0xC0104008u, NULL), 0x0DE8A008ull);
	/* recursive view: 0xFFC00000 + (va>>12)*4 reaches the PTE of va */
	vaddr_t va = 0xC0103000u;
	paddr_t pte_pa = walk(SIM_BASE, PAGING_PT_BASE + (va >> 12) * 4, NULL);
	assert_int_not_equal(pte_pa, PADDR_NONE);
	uint32_t pte;
	assert_int_equal(pdb_translate(&b, va, &pte), 0x0DE89000ull);
	assert_int_equal(phys_read32(pte_pa), pte);
	assert_int_equal(pte, 0x0DE89000u | X86_PTE_P | X86_PTE_RW);
}

/* The loader's whole plan, checked before ExitBootServices. On PCs with RAM
 * at 0xC0xxxxxx (ASUS B550: usable up to 0xC3DED000) a trampoline taken
 * "anywhere below 4 GiB" lands inside the kernel's higher half: the check
 * must name the two ranges, not leave it to pdb_map after exit. */
static void test_plan_check(void **state)
{
	(void)state;
	uint32_t a = 99, c = 99;
	struct pdb_range ok[] = { { 0xC0000000u, 40 }, { 0xC0029000u, 4 }, { 0xC002E000u, 3 },
	                          { 0x3FFFF000u, 1 }, { 0xC0032000u, 16 } };
	assert_int_equal(pdb_plan_check(ok, 5, &a, &c), 0);
	struct pdb_range asus[] = { { 0xC0000000u, 40 }, { 0xC0029000u, 4 }, { 0xC002E000u, 3 },
	                            { 0xC0005000u, 1 }, { 0xC0032000u, 16 } };
	assert_int_equal(pdb_plan_check(asus, 5, &a, &c), -MM_EEXIST);
	assert_int_equal(a, 0);
	assert_int_equal(c, 3);
	asus[3].va = 0xC0031000u;   /* the guard page between two ranges: fine */
	assert_int_equal(pdb_plan_check(asus, 5, &a, &c), 0);
	asus[3].va = 0xC0040000u;   /* inside the last range */
	assert_int_equal(pdb_plan_check(asus, 5, &a, &c), -MM_EEXIST);
	assert_int_equal(a, 3);
	assert_int_equal(c, 4);
	struct pdb_range bad[] = { { 0xC0000000u, 1 }, { 0, 1 } };
	assert_int_equal(pdb_plan_check(bad, 2, &a, NULL), -MM_EINVAL);   /* page 0 */
	assert_int_equal(a, 1);
	bad[1] = (struct pdb_range){ 0xFFBFF000u, 2 };                     /* into PDE 1023 */
	assert_int_equal(pdb_plan_check(bad, 2, &a, NULL), -MM_ERANGE);
	bad[1] = (struct pdb_range){ 0x1800u, 1 };
	assert_int_equal(pdb_plan_check(bad, 2, NULL, NULL), -MM_EALIGN);
	bad[1] = (struct pdb_range){ 0x2000u, 0 };
	assert_int_equal(pdb_plan_check(bad, 2, NULL, NULL), -MM_EINVAL);
	/* whatever the loader takes below PDB_IDMAP_LIMIT cannot meet the higher half */
	assert_true(PDB_IDMAP_LIMIT <= 0xC0000000u);
}

static void test_refusals(void **state)
{
	(void)state;
	assert_int_equal(pdb_map(&b, 0, 0x1000, 1, 0), -MM_EINVAL);                 /* page 0 */
	assert_int_equal(pdb_map(&b, 0xFFC00000u, 0x1000, 1, 0), -MM_ERANGE);       /* slot */
	assert_int_equal(pdb_map(&b, 0xFFBFF000u, 0x1000, 2, 0), -MM_ERANGE);       /* into slot */
	assert_int_equal(pdb_map(&b, 0xC0000000u, 0x100000000ull, 1, 0), -MM_ERANGE); /* >= 4G */
	assert_int_equal(pdb_map(&b, 0xC0000000u, 0xFFFFF000ull, 2, 0), -MM_ERANGE); /* crosses 4G */
	assert_int_equal(pdb_map(&b, 0xC0000800u, 0x1000, 1, 0), -MM_EALIGN);
	assert_int_equal(pdb_map(&b, 0xC0000000u, 0x1800, 1, 0), -MM_EALIGN);
	assert_int_equal(pdb_map(&b, 0xC0000000u, 0x1000, 0, 0), -MM_EINVAL);
	assert_int_equal(b.tables, 0);                                              /* nothing allocated */
	assert_int_equal(pdb_map(&b, 0xC0000000u, 0x1000, 1, PG_WRITE), 0);
	static uint8_t before[sizeof(mem)];
	memcpy(before, mem, sizeof(mem));
	assert_int_equal(pdb_map(&b, 0xC0000000u, 0x9000, 1, 0), -MM_EEXIST);
	assert_memory_equal(before, mem, sizeof(mem));                              /* unchanged */
	assert_int_equal(walk(SIM_BASE, 0xC0000000u, NULL), 0x1000);
}

static void test_flags_and_boundary(void **state)
{
	(void)state;
	/* 3 pages across a 4 MiB boundary need two tables */
	assert_int_equal(pdb_map(&b, 0xC03FF000u, 0x300000, 3, PG_WRITE | PG_NOCACHE | PG_WTHRU), 0);
	assert_int_equal(b.tables, 2);
	uint32_t pte;
	assert_int_equal(pdb_translate(&b, 0xC0400000u, &pte), 0x301000);
	assert_int_equal(pte & 0xFFF, X86_PTE_P | X86_PTE_RW | X86_PTE_PCD | X86_PTE_PWT);
	assert_int_equal(pdb_pte_bits(PG_GLOBAL | PG_USER), X86_PTE_P | X86_PTE_G | X86_PTE_US);
	struct pdb_range r[] = { { 0xC03FF000u, 3 }, { 0xC0400000u, 1 }, { 0x1000, 0 } };
	assert_int_equal(pdb_tables_needed(r, 3), 2);
}

static void test_pool_exhausted(void **state)
{
	(void)state;
	/* pool of 4 tables: the fifth 4 MiB area fails with ENOMEM, earlier ones stay */
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(pdb_map(&b, 0x40000000u + i * 0x400000u, 0x1000, 1, 0), 0);
	assert_int_equal(pdb_map(&b, 0x50000000u, 0x1000, 1, 0), -MM_ENOMEM);
	assert_int_equal(pool.used, 4);
	assert_int_equal(walk(SIM_BASE, 0x40C00000u, NULL), 0x1000);
	assert_int_equal(walk(SIM_BASE, 0x50000000u, NULL), PADDR_NONE);
	/* tables were zeroed although memory held garbage */
	for (uint32_t j = 1; j < 1024; j++)
		assert_int_equal(phys_read32(SIM_BASE + PAGE_SIZE + j * 4), 0);
}

static void test_init_arguments(void **state)
{
	(void)state;
	struct pdbuild x;
	assert_int_equal(pdb_init(&x, mem, SIM_BASE + 8, &src), -MM_EINVAL);
	assert_int_equal(pdb_init(&x, mem, 0x100000000ull, &src), -MM_ERANGE);
	assert_int_equal(pdb_init(&x, NULL, SIM_BASE, &src), -MM_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_recursive_slot, setup),
		cmocka_unit_test_setup(test_kernel_layout, setup),
		cmocka_unit_test_setup(test_plan_check, setup),
		cmocka_unit_test_setup(test_refusals, setup),
		cmocka_unit_test_setup(test_flags_and_boundary, setup),
		cmocka_unit_test_setup(test_pool_exhausted, setup),
		cmocka_unit_test_setup(test_init_arguments, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
