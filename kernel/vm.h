/*
 * vm.h: the kernel stage's virtual memory set-up (kernel/vm_init.c).
 */
#ifndef MMBOOT_KERNEL_VM_H
#define MMBOOT_KERNEL_VM_H

#include <mmboot/types.h>

struct pmm;

/* Paging over pmm, the region arena [end of kernel image, 0xFFC00000), the
 * start-up regions (kernel image, stack, boot info, trampoline, PMM
 * metadata at [pmm_va, pmm_va + pmm_bytes) if pmm_bytes), then
 * the region table on the console. 0, or a negative MM_E* (reported). */
int vm_init(struct pmm *pmm, vaddr_t pmm_va, uint32_t pmm_bytes);

/* The PMM vm_init was given (NULL before). */
struct pmm *vm_pmm(void);

/* Mapped kernel pages (below the recursive slot) that belong to no region;
 * prints the first few. 0 after vm_init. */
uint32_t vm_orphan_pages(bool verbose);

#endif
