/*
 * physwin: windows onto physical memory the PMM does not own (framebuffer,
 * ACPI tables, memory-mapped reset registers), for the real-hardware parts
 * of the kernel stage (kernel/fbcon.c, kernel/reset.c).
 *
 * Two ways, tried in order:
 *   1. the region layer: region_create_phys() maps [pa, pa + size) below
 *      4 GiB with 4 MiB PSE pages where alignment allows, 4 KiB pages for
 *      the rest, in the kernel's region arena; region_destroy() unmaps it.
 *   2. direct 4 MiB pages: when the region layer is not up yet, or pa lies
 *      above 4 GiB (out of reach of 32-bit PTEs), the window is built from
 *      PSE page-directory entries written through the recursive mapping, in
 *      a run of empty PDEs of the lower half (below the kernel's higher half
 *      and outside the region arena, like the loader's identity-mapped
 *      trampoline). Above 4 GiB this needs PSE-36 (CPUID.01H:EDX[17]): the
 *      PDE then carries physical address bits 32..39 in bits 13..20, up to
 *      the CPU's MAXPHYADDR (CPUID 80000008H, 36 when not reported).
 *      Without PSE-36 such memory cannot be reached: -MM_ERANGE.
 *
 * physwin_pde() is the pure encoding of such a PDE, shared with the host
 * test (tests/usb/test_physwin.c).
 */
#ifndef MMBOOT_KERNEL_PHYSWIN_H
#define MMBOOT_KERNEL_PHYSWIN_H

#include <mmboot/types.h>

#define PHYSWIN_WRITE   0x1u   /* writable */
#define PHYSWIN_WTHRU   0x2u   /* write-through (framebuffer) */
#define PHYSWIN_NOCACHE 0x4u   /* uncached (registers) */

/* How a window was made. */
#define PHYSWIN_NONE    0u
#define PHYSWIN_REGION  1u     /* region_create_phys */
#define PHYSWIN_PSE     2u     /* direct 4 MiB pages below 4 GiB */
#define PHYSWIN_PSE36   3u     /* direct 4 MiB PSE-36 pages above 4 GiB */

struct region;

struct physwin {
	vaddr_t va;              /* virtual address of the pa asked for */
	paddr_t pa;              /* physical address asked for */
	uint32_t size;           /* bytes asked for */
	uint32_t how;            /* PHYSWIN_* */
	struct region *r;        /* PHYSWIN_REGION: the region */
	uint32_t pde_first;      /* PHYSWIN_PSE*: first PDE index used */
	uint32_t pde_count;      /* PHYSWIN_PSE*: PDEs used */
};

/* PDE bits of the direct windows */
#define PDE_P     0x001u
#define PDE_RW    0x002u
#define PDE_PWT   0x008u
#define PDE_PCD   0x010u
#define PDE_PS    0x080u

/* The 4 MiB PDE mapping pa (4 MiB aligned) with PHYSWIN_* flags, on a CPU
 * with PSE-36 (pse36 != 0) and maxphyaddr physical address bits. 0 and the
 * entry in *pde, or -MM_EALIGN / -MM_ERANGE (pa too high for this CPU). */
int physwin_pde(paddr_t pa, uint32_t flags, int pse36, uint32_t maxphyaddr, uint32_t *pde);

/* Physical address bits 32..39 of a PSE-36 PDE, back (for checks/tests). */
paddr_t physwin_pde_addr(uint32_t pde);

#ifdef MM_ENV_KERNEL
/* Map [pa, pa + size). 0, or -MM_ERANGE (unreachable), -MM_ENOMEM (no
 * window), -MM_EINVAL (size 0, or no PSE for the direct way). */
int physwin_map(struct physwin *w, paddr_t pa, uint32_t size, uint32_t flags, const char *name);
void physwin_unmap(struct physwin *w);
const char *physwin_how(const struct physwin *w);
/* 1 if the 4 MiB PDE covering va belongs to a live direct window (mapped
 * outside every region on purpose; vm_orphan_pages does not count it). */
int physwin_owns_pde(vaddr_t va);
/* CPU facts the direct way depends on. */
int physwin_cpu_pse36(void);
uint32_t physwin_cpu_maxphyaddr(void);
#endif

#endif
