/*
 * pte.h: the x86 32-bit (non-PAE) page-table entry format, shared by the
 * loader's first page directory (pdbuild.c) and the kernel's paging
 * (paging32.c, also compiled on the host through tests/host/mmu_sim.c).
 *
 *   PTE / table PDE:  31           12 11  9 8 7 6 5 4   3   2  1  0
 *                    | frame         | -- |G|PS|D|A|PCD|PWT|US|RW|P |
 *   4 MiB PDE (PSE):  frame in bits 31-22 (no PSE-36)
 *
 * The PG_* contract flags of <mmboot/paging.h> map one to one onto entry
 * bits (X86_PTE_FLAG_MAP); x86_pte_bits and x86_pte_flags convert both ways,
 * so the two directions cannot drift apart. Header only, no CPU access.
 */
#ifndef MMBOOT_ARCH_X86_PTE_H
#define MMBOOT_ARCH_X86_PTE_H

#include <stdint.h>
#include <mmboot/paging.h>

#define X86_PTE_P     0x001u        /* present */
#define X86_PTE_RW    0x002u        /* writable */
#define X86_PTE_US    0x004u        /* user */
#define X86_PTE_PWT   0x008u        /* write-through */
#define X86_PTE_PCD   0x010u        /* cache disable */
#define X86_PTE_A     0x020u        /* accessed */
#define X86_PTE_D     0x040u        /* dirty */
#define X86_PTE_PS    0x080u        /* PDE: 4 MiB page */
#define X86_PTE_G     0x100u        /* global */
#define X86_PTE_ADDR  0xFFFFF000u   /* frame bits of a 4 KiB entry / table PDE */
#define X86_PDE_LADDR 0xFFC00000u   /* frame bits of a 4 MiB PDE (no PSE-36) */
#define X86_PT_ENTRIES 1024u        /* entries per table / directory */

/* X(contract flag, entry bit) for every PG_* flag an entry can hold */
#define X86_PTE_FLAG_MAP(X) \
	X(PG_WRITE, X86_PTE_RW) \
	X(PG_USER, X86_PTE_US) \
	X(PG_NOCACHE, X86_PTE_PCD) \
	X(PG_WTHRU, X86_PTE_PWT) \
	X(PG_GLOBAL, X86_PTE_G)

/* PG_* contract flags -> entry bits, P always set. */
static inline uint32_t x86_pte_bits(uint32_t flags)
{
	uint32_t e = X86_PTE_P;
#define X86_FLAG_TO_BIT(f, b) if (flags & (f)) e |= (b);
	X86_PTE_FLAG_MAP(X86_FLAG_TO_BIT)
#undef X86_FLAG_TO_BIT
	return e;
}

/* Entry bits -> PG_* contract flags (P and the frame ignored). */
static inline uint32_t x86_pte_flags(uint32_t e)
{
	uint32_t f = 0;
#define X86_BIT_TO_FLAG(fl, b) if (e & (b)) f |= (fl);
	X86_PTE_FLAG_MAP(X86_BIT_TO_FLAG)
#undef X86_BIT_TO_FLAG
	return f;
}

#endif
