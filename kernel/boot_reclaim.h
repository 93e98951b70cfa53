/*
 * boot_reclaim.h: the kernel gives the loader's transient frames back to the
 * PMM (kernel/boot_reclaim.c).
 *
 * The loader reserved in the PMM every frame that stayed live until the mode
 * switch (firmware page tables, GDT/IDT, its own stack, the PMM build
 * scratch, the trampoline page) and listed them in bi->transient[]
 * (include/mmboot/bootinfo.h, version 2). Once the kernel runs on its own
 * directory, none of them is needed: boot_reclaim_transient() unmaps the
 * trampoline's identity mapping (and frees the page table that held only
 * it), then releases exactly the listed ranges. The numbers are kept in
 * boot_reclaim for the KTAP tests (kernel/tests/test_boot_reclaim.c).
 */
#ifndef MMBOOT_KERNEL_BOOT_RECLAIM_H
#define MMBOOT_KERNEL_BOOT_RECLAIM_H

#include <mmboot/bootinfo.h>

struct boot_reclaim {
	uint32_t done;                /* 1 once boot_reclaim_transient ran with a PMM */
	uint32_t listed_pages;        /* frames in bi->transient[] */
	uint32_t released;            /* frames pmm_release_range freed */
	uint32_t free_before;         /* PMM free pages before the release */
	uint32_t free_after;          /* and after it */
	uint32_t errors;              /* ranges the PMM refused to release */
	uint32_t tramp_unmapped;      /* 1: the trampoline's identity mapping was removed */
	uint32_t tables_freed;        /* page tables freed because they became empty */
	uint32_t pd_tables;           /* page tables in the directory when the kernel started */
	uint64_t tramp_pa;            /* the trampoline page that was released */
};
extern struct boot_reclaim boot_reclaim;

/* Release the transient frames; call after the PMM is up and before the VMM
 * adopts the boot mappings. 0, or a negative MM_E* code. */
int boot_reclaim_transient(struct bootinfo *bi);

#endif
