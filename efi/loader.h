/*
 * Internal interfaces of the UEFI loader (efi/). Only efi/ includes this.
 *
 *   main.c           efi_main: the sequence of steps, error unwinding
 *   console.c        mm_printf & co. for the loader: firmware console before
 *                    ExitBootServices, COM1 directly after it
 *   elf32.c          validation and loading of the embedded ELF32 kernel
 *   sysinfo.c        firmware identity, GOP, configuration tables
 *   handoff.c        page directory, trampoline, ExitBootServices, jump
 *   pmm_handoff.c    PMM metadata before exit, PMM built after exit
 *   transient.c      after exit: frames live until the mode switch reserved
 *                    in the PMM and listed for the kernel; page-table frames
 *                    from the PMM
 *   stackswitch.S    efi_call_on_stack: the exit path runs on our own stack
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
extern void (*efi_con_hook)(const CHAR16 *w); /* non-null: replaces ConOut (serial-only) */

/* Allocation below 4 GiB (AllocateMaxAddress 0xFFFFFFFF), never page 0.
 * Returns the physical (== pointer) address or 0 with *st set. */
paddr_t efi_alloc_low(UINTN pages, EFI_MEMORY_TYPE type, EFI_STATUS *st);
paddr_t efi_alloc_below(paddr_t max, UINTN pages, EFI_MEMORY_TYPE type, EFI_STATUS *st); /* last byte <= max */
/* Make pages writable and executable in the firmware's page tables when the
 * firmware offers EFI_MEMORY_ATTRIBUTE_PROTOCOL (no-op otherwise). */
void efi_make_rwx(paddr_t pa, UINTN pages);
/* Give back every page efi_alloc_low handed out (failure unwinding). */
void efi_free_all(void);
extern int efi_exit_attempted;   /* ExitBootServices was called at least once */

/* Read the current map into a freshly allocated pool buffer (caller frees
 * with BS->FreePool); the _key form also returns the map key. */
EFI_STATUS efi_get_map(void **buf, UINTN *size, UINTN *desc_size, UINT32 *desc_ver);
EFI_STATUS efi_get_map_key(void **buf, UINTN *size, UINTN *key, UINTN *desc_size,
                           UINT32 *desc_ver);

#include "elf32.h"

/* sysinfo.c */
void sysinfo_firmware(struct bootinfo *bi);
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
	paddr_t pd_pa;                     /* page directory (a PMM frame, after exit) */
	paddr_t lstack_pa;                 /* the loader's own stack for the exit path */
	uint64_t tsc_loaded;               /* rdtsc after the kernel was copied */
	paddr_t pmm_meta_pa;               /* PMM metadata (0: no PMM from the loader) */
	uint32_t pmm_meta_pages;           /* its size, pages */
	uint32_t pmm_va;                   /* where the kernel sees it */
	paddr_t pmm_scratch_pa;            /* scratch for pmm_build_from_efi */
	uint32_t pmm_scratch_pages;        /* its size, pages */
};

/* pmm_handoff.c */
struct pmm;
EFI_STATUS pmmh_prepare(struct boot_layout *L, uint32_t max_descs);
struct pmm *pmmh_build(const struct boot_layout *L, struct bootinfo *bi);   /* NULL: failed */

/* transient.c (after ExitBootServices only) */
struct pdb_frame_src;
void transient_reserve(const struct boot_layout *L, struct pmm *p, struct bootinfo *bi);
const struct pdb_frame_src *transient_frame_src(struct pmm *p);
uint32_t transient_frame_src_done(void);   /* frees refused frames; frames given */

/* handoff.c */
EFI_STATUS handoff_prepare(struct boot_layout *L, struct bootinfo **bi_out);
/* Runs on the loader's own stack (efi_call_on_stack); returns only on failure. */
uint64_t handoff_exit_and_jump(void *layout, void *bootinfo);

/* stackswitch.S: call fn(a, b) with the stack pointer at top (16-aligned). */
uint64_t efi_call_on_stack(void *top, uint64_t (*fn)(void *, void *), void *a, void *b);

static inline uint64_t rdtsc64(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

#define KSTACK_PAGES 4u     /* 16 KiB kernel stack */
#define LSTACK_PAGES 32u    /* 128 KiB loader stack for the exit path (UEFI asks >= 128 KiB) */

#endif
