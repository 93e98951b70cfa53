/*
 * The paging contract: the only way mm/ reaches the MMU.
 *
 * Two implementations provide exactly these functions:
 *   arch/x86/paging32.c   i386 kernel: 32-bit non-PAE paging through the
 *                         recursive mapping (PD at 0xFFFFF000, page tables at
 *                         0xFFC00000), invlpg on every change
 *   tests/host/mmu_sim.c  host: the same page directory and tables kept in a
 *                         host buffer standing for physical memory, a
 *                         software walker and simulated faults
 *
 * Page tables come from the PMM bound at arch_paging_init() and go back to it
 * when they become empty. All functions act on the current (only) address
 * space. va and pa are page aligned unless stated.
 *
 * OWNER: region VMM work (issue 4). Refine freely; keep the names other
 * layers use.
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

/* Recursive mapping (PDE 1023 maps the page directory itself). */
#define PAGING_RECURSIVE_SLOT 1023u
#define PAGING_PT_BASE   0xFFC00000u   /* page table i at PAGING_PT_BASE + i*4096 */
#define PAGING_PD_VA     0xFFFFF000u   /* the page directory */

/* Bind the PMM that page tables come from; adopt the tables already present. */
int arch_paging_init(struct pmm *pmm);

/* Map one 4 KiB page. -MM_EEXIST if va is mapped, -MM_ENOMEM if no frame for
 * a page table, -MM_EALIGN, -MM_ERANGE (pa >= 4 GiB without PSE-36, or va in
 * the recursive slot). */
int arch_map(vaddr_t va, paddr_t pa, uint32_t flags);

/* Map one 4 MiB PSE page (va and pa 4 MiB aligned). */
int arch_map_large(vaddr_t va, paddr_t pa, uint32_t flags);

/* Unmap one page (4 KiB, or the whole 4 MiB page containing va). The frame
 * that was mapped is returned in *pa_out (not freed: the caller owns it).
 * A page table that becomes empty goes back to the PMM. -MM_ENOENT if not mapped. */
int arch_unmap(vaddr_t va, paddr_t *pa_out);

/* Change the flags of a mapped page. */
int arch_protect(vaddr_t va, uint32_t flags);

/* Physical address va maps to (with offset), or PADDR_NONE; flags if non-NULL. */
paddr_t arch_translate(vaddr_t va, uint32_t *flags_out);

/* A pointer through which C code reads and writes the (mapped) kernel va.
 * Kernel: the address itself. Host: the simulated address space's backing. */
void *arch_va_ptr(vaddr_t va);

/* Zero one mapped page (non-temporal stores where the CPU has them). */
void arch_zero_page(vaddr_t va);

/* Page tables currently allocated from the PMM (not counting the directory
 * and tables the loader built). */
uint32_t arch_page_tables(void);

#endif /* MMBOOT_PAGING_H */
