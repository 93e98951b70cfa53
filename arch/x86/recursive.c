/*
 * recursive.c: read the live page directory and tables through the
 * recursive slot the loader installed (PDE 1023 -> the directory):
 *
 *   0xFFFFF000 + 4*i            PDE i
 *   0xFFC00000 + 4096*i + 4*j   PTE j of the table behind PDE i
 *                               (= 0xFFC00000 + 4*(va >> 12))
 *
 * Read-only helpers for reports and self-checks; mapping changes belong to
 * arch/x86/paging32.c (VMM).
 */
#include "../../kernel/kernel.h"
#include <mmboot/paging.h>

#define PDE_P  0x1u
#define PDE_PS 0x80u

uint32_t arch_pde(uint32_t va)
{
	return ((volatile uint32_t *)(uintptr_t)PAGING_PD_VA)[va >> 22];
}

uint32_t arch_pte(uint32_t va)
{
	uint32_t pde = arch_pde(va);
	if (!(pde & PDE_P) || (pde & PDE_PS))
		return 0;
	return ((volatile uint32_t *)(uintptr_t)PAGING_PT_BASE)[va >> 12];
}

int arch_va_mapped(uint32_t va)
{
	uint32_t pde = arch_pde(va);
	if (!(pde & PDE_P))
		return 0;
	if (pde & PDE_PS)
		return 1;
	return (arch_pte(va) & PDE_P) != 0;
}
