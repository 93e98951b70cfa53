/*
 * The paging contract: the only way mm/ reaches the MMU.
 *
 * Two implementations provide exactly these functions:
 *   arch/x86/paging32.c   i386 kernel: 32-bit non-PAE paging through the
 *                         recursive mapping (PD at 0xFFFFF000, page tables at
 *                         0xFFC00000), invlpg on every change
 *   tests/host/mmu_sim.c  host: the same page directory and tables, in the
 *                         real i386 format, kept in a host buffer standing for
 *                         physical memory; a software walker; simulated faults
 *                         (see tests/host/mmu_sim.h)
 *
 * Virtual layout seen through the recursive slot (PDE 1023 -> the PD):
 *
 *   0xFFC00000 + i*4096   page table of PDE i (i = va >> 22), if present
 *   0xFFFFF000            the page directory itself
 *   PTE of va             at PAGING_PT_BASE + (va >> 12) * 4
 *   PDE of va             at PAGING_PD_VA   + (va >> 22) * 4
 *
 * Page tables come from the PMM bound at arch_paging_init() and go back to it
 * when they become empty. Tables that were present at arch_paging_init (built
 * by the loader) are kept even when empty and are never given to the PMM.
 * All functions act on the current (only) address space; va and pa are page
 * aligned unless stated. The caller serialises (mm/region.c holds its lock).
 *
 * OWNER: region VMM work (issue 4).
 */
#ifndef MMBOOT_PAGING_H
#define MMBOOT_PAGING_H

#include "types.h"

struct pmm;

/* Mapping flags (contract level; the implementation turns them into PTE bits). */
#define PG_WRITE    0x01u   /* writable (CR0.WP is on: enforced for the kernel too) */
#define PG_USER     0x02u   /* user accessible (unused by the kernel stage today) */
#define PG_NOCACHE  0x04u   /* PCD: uncached (MMIO) */
#define PG_WTHRU    0x08u   /* PWT: write-through (framebuffers) */
#define PG_GLOBAL   0x10u   /* global (kept across CR3 reloads) */
#define PG_LARGE    0x20u   /* arch_translate output only: mapped by a 4 MiB PSE page */

/* Recursive mapping (PDE 1023 maps the page directory itself). */
#define PAGING_RECURSIVE_SLOT 1023u
#define PAGING_PT_BASE   0xFFC00000u   /* page table i at PAGING_PT_BASE + i*4096 */
#define PAGING_PD_VA     0xFFFFF000u   /* the page directory */
#define PAGING_VA_LIMIT  PAGING_PT_BASE /* first va that map/unmap refuse */

/* Bind the PMM that page tables come from; adopt the tables already present
 * (they stay for good). Enables PSE if the CPU has it. 0 or -MM_EINVAL. */
int arch_paging_init(struct pmm *pmm);

/* Map one 4 KiB page. -MM_EEXIST if va is mapped (4 KiB or inside a 4 MiB
 * page), -MM_ENOMEM if no frame for a page table, -MM_EALIGN, -MM_ERANGE
 * (pa >= 4 GiB, or va in the recursive slot). */
int arch_map(vaddr_t va, paddr_t pa, uint32_t flags);

/* Map one 4 MiB PSE page (va and pa 4 MiB aligned, PDE slot empty).
 * -MM_EINVAL when the CPU has no PSE (the caller falls back to 4 KiB pages). */
int arch_map_large(vaddr_t va, paddr_t pa, uint32_t flags);

/* Unmap one page: the 4 KiB page at va, or the whole 4 MiB page containing va
 * (then *pa_out is the large page's base). The frame that was mapped is
 * returned in *pa_out (may be NULL) and NOT freed: the caller owns it. A page
 * table that becomes empty goes back to the PMM. -MM_ENOENT if not mapped. */
int arch_unmap(vaddr_t va, paddr_t *pa_out);

/* Change the flags of a mapped page (4 KiB, or the 4 MiB page containing va). */
int arch_protect(vaddr_t va, uint32_t flags);

/* Physical address va maps to (with offset), or PADDR_NONE; PG_* flags
 * (incl. PG_LARGE) in *flags_out if non-NULL. */
paddr_t arch_translate(vaddr_t va, uint32_t *flags_out);

/* A pointer through which C code reads and writes the (mapped) kernel va.
 * Kernel: the address itself. Host: the simulated address space's backing
 * (contiguous for contiguous va, see mmu_sim.h). */
void *arch_va_ptr(vaddr_t va);

/* Zero one mapped 4 KiB page (non-temporal stores where the CPU has them). */
void arch_zero_page(vaddr_t va);

/* Page tables currently allocated from the PMM (not counting the directory
 * and the tables present at arch_paging_init). */
uint32_t arch_page_tables(void);

/* Present 4 KiB entries in the page table covering va: 0 when its PDE is
 * empty, 1024 for a 4 MiB page (lets checkers skip empty 4 MiB slots). */
uint32_t arch_slot_used(vaddr_t va);

/* Check the paging structures: recursive entry, no empty PMM-owned table,
 * table count. Returns the number of inconsistencies (0 = ok). */
uint32_t arch_paging_check(bool verbose);

#endif /* MMBOOT_PAGING_H */
