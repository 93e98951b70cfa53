/*
 * pmm_glue.h: the kernel stage's physical memory manager (kernel/pmm_glue.c).
 *
 * pmm_glue_init(bi) makes kernel_pmm usable: it validates and adopts the
 * PMM the loader built (struct pmm_handoff in the boot-info ext[] area);
 * without a valid handoff it reports why and ends the kernel with the fail
 * status (there is no fallback build). It then releases the loader's own
 * image to the PMM and prints the PMM summary. The numbers it saw are kept
 * in pmm_boot for the in-kernel tests (kernel/tests/test_pmm.c).
 */
#ifndef MMBOOT_KERNEL_PMM_GLUE_H
#define MMBOOT_KERNEL_PMM_GLUE_H

#include <mmboot/bootinfo.h>
#include <mmboot/pmm.h>

extern struct pmm *kernel_pmm;        /* NULL until pmm_glue_init succeeded */
extern vaddr_t kernel_pmm_va;         /* where the metadata is mapped */
extern uint32_t kernel_pmm_bytes;     /* its size */

struct pmm_boot {                     /* what pmm_glue_init saw */
	uint32_t from_loader;             /* 1 once the loader's PMM is adopted (the only way) */
	uint32_t free_at_init;            /* free pages right after adopt/build */
	uint32_t alloc_at_init;           /* allocated pages then (loader page tables) */
	uint32_t released;                /* loader-image pages released */
	uint32_t free_after_release;      /* free pages after that */
	uint32_t map_n;                   /* sanitized final map ranges in pmm_boot_map */
	paddr_t loader_lo, loader_hi;     /* the loader-image range released */
	struct pmm_stats at_init;         /* all statistics right after adopt */
};
extern struct pmm_boot pmm_boot;
extern struct memmap_range pmm_boot_map[];   /* the sanitized final map */

/* 0, or -MM_ECORRUPT if the final pmm_check finds inconsistencies; does not
 * return (kernel_fail) when the loader handed over no valid PMM. */
int pmm_glue_init(const struct bootinfo *bi);
/* Sanitize the final map into pmm_boot_map/pmm_boot.map_n (once; main.c's
 * memory report uses it before pmm_glue_init). 0 or -MM_E*. */
int pmm_glue_map(const struct bootinfo *bi);

#endif
