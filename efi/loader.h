/*
 * Internal interfaces of the UEFI loader (efi/). Only efi/ includes this.
 *
 *   main.c           efi_main: the sequence of steps, error unwinding
 *   console.c        mm_printf & co. for the loader: firmware console before
 *                    ExitBootServices, COM1 directly after it
 *   memmap_report.c  the memory-map table and per-type summary
 *   elf32.c          validation and loading of the embedded ELF32 kernel
 *   sysinfo.c        firmware identity, GOP, configuration tables
 *   handoff.c        page directory, trampoline, ExitBootServices, jump
 *   pmm_handoff.c    PMM metadata before exit, PMM built after exit
 *   exitbs.c         the GetMemoryMap/ExitBootServices retry (host-tested)
 */
#ifndef MMBOOT_EFI_LOADER_H
#define MMBOOT_EFI_LOADER_H

#include <efi.h>
#include <mmboot/types.h>
#include <mmboot/mm_env.h>
#include <mmboot/bootinfo.h>

extern EFI_SYSTEM_TABLE *efi_st;
extern EFI_HANDLE efi_image;

/* console.c */
void efi_console_init(EFI_SYSTEM_TABLE *st);
void efi_console_boot_services_gone(void);   /* switch printing to raw COM1 */

/* Allocation below 4 GiB (AllocateMaxAddress 0xFFFFFFFF), never page 0.
 * Returns the physical (== pointer) address or 0 with *st set. */
paddr_t efi_alloc_low(UINTN pages, EFI_MEMORY_TYPE type, EFI_STATUS *st);
/* Make pages writable and executable in the firmware's page tables when the
 * firmware offers EFI_MEMORY_ATTRIBUTE_PROTOCOL (no-op otherwise). */
void efi_make_rwx(paddr_t pa, UINTN pages);
/* Give back every page efi_alloc_low handed out (failure unwinding). */
void efi_free_all(void);
extern int efi_exit_attempted;   /* ExitBootServices was called at least once */

/* Read the current map into a freshly allocated pool buffer (caller frees
 * with BS->FreePool). */
EFI_STATUS efi_get_map(void **buf, UINTN *size, UINTN *desc_size, UINT32 *desc_ver);

#include "elf32.h"

/* sysinfo.c */
void sysinfo_firmware(struct bootinfo *bi);
void sysinfo_print_firmware(void);
void sysinfo_print_image(void);             /* ImageBase, for gdb */
void sysinfo_collect(struct bootinfo *bi);   /* GOP, config tables, loaded image */

/* handoff.c */
struct boot_layout {
	paddr_t kernel_pa;                 /* loaded kernel image */
	struct elf32_plan plan;            /* its segments */
	paddr_t stack_pa;                  /* kernel stack pages */
	paddr_t tramp_pa;                  /* trampoline page */
	paddr_t bi_pa;                     /* boot-info block */
	uint32_t bi_pages;                 /* its size, pages */
	paddr_t pd_pa;                     /* directory + table pool, contiguous */
	uint32_t pool_pages;               /* tables in the pool */
	uint64_t tsc_loaded;               /* rdtsc after the kernel was copied */
	paddr_t pmm_meta_pa;               /* PMM metadata (0: no PMM from the loader) */
	uint32_t pmm_meta_pages;           /* its size, pages */
	uint32_t pmm_va;                   /* where the kernel sees it */
	paddr_t pmm_scratch_pa;            /* scratch for pmm_build_from_efi */
	uint32_t pmm_scratch_pages;        /* its size, pages */
};

/* pmm_handoff.c */
EFI_STATUS pmmh_prepare(struct boot_layout *L, uint32_t max_descs);
void pmmh_build(const struct boot_layout *L, struct bootinfo *bi);
EFI_STATUS handoff_prepare(struct boot_layout *L, struct bootinfo **bi_out);
EFI_STATUS handoff_exit_and_jump(struct boot_layout *L, struct bootinfo *bi);

static inline uint64_t rdtsc64(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

#define KSTACK_PAGES 4u     /* 16 KiB kernel stack */

#endif
