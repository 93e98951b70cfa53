/*
 * pdbuild: construction of the kernel stage's first 32-bit (non-PAE) page
 * directory, as portable code working on buffers.
 *
 * The loader (x86_64, efi/handoff.c) calls it with pages it obtained below
 * 4 GiB and their host pointers (identity: pointer == physical address); the
 * host test (tests/unit/test_pdbuild.c) calls it with a buffer standing for
 * physical memory and checks the result with its own page walker. Nothing
 * here includes <efi.h> or touches a CPU register.
 *
 * Page-table pages come from a frame source (struct pdb_frame_src): the
 * loader's calls pmm_alloc(order 0) after ExitBootServices (efi/transient.c);
 * the host test uses a contiguous pool (pdb_pool_*).
 *
 * Result (invariants the test checks):
 *   - PDE 1023 = the directory itself (P|RW): tables at 0xFFC00000 + i*4 KiB,
 *     the directory at 0xFFFFF000 once CR3 points at it;
 *   - every requested page mapped once, 4 KiB pages, PDEs P|RW, PTE flags from
 *     the PG_* contract flags of <mmboot/paging.h>;
 *   - page 0 and the recursive slot are never mapped; a second mapping of the
 *     same page is refused (-MM_EEXIST) and leaves the tables unchanged.
 */
#ifndef MMBOOT_ARCH_X86_PDBUILD_H
#define MMBOOT_ARCH_X86_PDBUILD_H

#include <mmboot/types.h>
#include <mmboot/errno.h>
#include <mmboot/paging.h>
#include "pte.h"      /* X86_PTE_* entry bits */

#define PDB_ENTRIES X86_PT_ENTRIES

struct pdb_frame_src {
	void *ctx;                                           /* source state */
	int (*alloc)(void *ctx, paddr_t *pa, void **ptr);    /* one page; 0 or -MM_ENOMEM */
};

struct pdbuild {
	uint32_t *pd;                      /* the directory, as the builder writes it */
	paddr_t pd_pa;                     /* its physical address (< 4 GiB) */
	const struct pdb_frame_src *src;   /* where page tables come from */
	uint32_t *pt[PDB_ENTRIES];         /* pointer to the table behind each PDE, or NULL */
	uint32_t tables;                   /* page tables allocated */
	uint32_t pages;                    /* 4 KiB pages mapped */
};

/* A contiguous pool of pages as a frame source. */
struct pdb_pool {
	uint8_t *base;      /* pointer to the first page */
	paddr_t pa;         /* its physical address */
	uint32_t pages;     /* pool size, pages */
	uint32_t used;      /* pages handed out */
};
int pdb_pool_alloc(void *pool, paddr_t *pa, void **ptr);

/* Start an empty directory in pd (one page at pd_pa): all zero, PDE 1023 recursive. */
int pdb_init(struct pdbuild *b, void *pd, paddr_t pd_pa, const struct pdb_frame_src *src);

/* Map npages pages va -> pa with PG_* flags. 0, -MM_EALIGN, -MM_ERANGE (pa not
 * below 4 GiB, va in the recursive slot or wrapping), -MM_EINVAL (page 0),
 * -MM_EEXIST, -MM_ENOMEM. On error the pages mapped before it stay mapped. */
int pdb_map(struct pdbuild *b, vaddr_t va, paddr_t pa, uint32_t npages, uint32_t flags);

/* What va maps to in the tables being built (PADDR_NONE if nothing);
 * *pte_out receives the raw entry when non-NULL. Does not follow PDE 1023. */
paddr_t pdb_translate(const struct pdbuild *b, vaddr_t va, uint32_t *pte_out);

/* Page tables a set of ranges needs (distinct PDE indices), for sizing a pool. */
struct pdb_range {
	vaddr_t va;         /* page aligned */
	uint32_t npages;    /* pages */
};
uint32_t pdb_tables_needed(const struct pdb_range *r, uint32_t n);

/* Identity-mapped pages (the trampoline) are taken below this physical
 * address, so va == pa stays below the higher-half kernel (0xC0000000 up)
 * and inside the first GiB that kernel/physwin.c leaves alone; if the
 * firmware has nothing there the loader falls back to "below the kernel's
 * lowest va", and pdb_plan_check is the final word either way. */
#define PDB_IDMAP_LIMIT 0x40000000u

/* Check a whole virtual plan before anything is mapped (the loader calls it
 * before ExitBootServices, so a conflict is an EFI error, not a halt after
 * exit): every range page aligned, non-empty, above page 0, below the
 * recursive slot, and no two ranges sharing a page. 0, -MM_EALIGN,
 * -MM_EINVAL, -MM_ERANGE (*a = the bad range) or -MM_EEXIST (*a, *b = the
 * first two ranges that overlap, a < b). a and b may be NULL. */
int pdb_plan_check(const struct pdb_range *r, uint32_t n, uint32_t *a, uint32_t *b);

/* PG_* contract flags -> PTE bits (P always set). */
uint32_t pdb_pte_bits(uint32_t flags);

#endif
