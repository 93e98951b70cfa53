/*
 * Host simulation of the i386 MMU behind <mmboot/paging.h>, so that
 * mm/region.c (and the slab heap on top of it) run unchanged on the host.
 *
 * Simulated machine:
 *
 *   physical memory  one host buffer (phys); a simulated physical address pa
 *                    is the byte phys[pa]. The buddy PMM manages it (its
 *                    metadata sits at the top of the buffer) and hands out
 *                    frames inside it. The page directory and all page tables
 *                    live there, in the real i386 format (PDE/PTE bits,
 *                    PDE 1023 recursive); `cr3` is the directory's pa.
 *   paging code      arch/x86/paging32.c itself, included by mmu_sim.c with
 *                    host hooks: a recursive-slot va (0xFFC00000..) becomes a
 *                    pointer into phys through the software walker, so the
 *                    PDE/PTE index math is exercised exactly as on the CPU;
 *                    invlpg is counted.
 *   data of mapped   a 4 GiB host window (mmap, MAP_NORESERVE): the bytes of
 *   kernel pages     kernel va v live at window + v. So arch_va_ptr() gives
 *                    plain C pointers and multi-page regions are contiguous
 *                    (the slab heap needs that), at the speed of ordinary
 *                    memory. The window does not alias phys: a frame's bytes
 *                    in phys are unused for data pages (only tables live
 *                    there). To keep "zeroed on commit" observable, a page's
 *                    window bytes are poisoned (0xA5) when it is unmapped and
 *                    when the simulator is reset, so a commit that forgot to
 *                    zero reads 0xA5, not 0.
 *   faults           accesses through arch_va_ptr do not fault (no SIGSEGV
 *                    trapping): tests and the heap's host runs access pages
 *                    through mmu_sim_touch() and the mmu_sim_read/write helpers,
 *                    which walk the tables and, on a not-present or
 *                    read-only hit, call region_fault() with the x86 error
 *                    code bits, then retry like the CPU.
 *
 * Layout: a fake kernel image (kernel_pages frames) is mapped at
 * MMU_SIM_KERNEL_VA by "loader" tables built before arch_paging_init, so
 * they count as loader-owned exactly as on the real machine.
 */
#ifndef MMBOOT_MMU_SIM_H
#define MMBOOT_MMU_SIM_H

#include <stddef.h>
#include <mmboot/types.h>

struct pmm;

#define MMU_SIM_KERNEL_VA 0xC0000000u   /* fake kernel image */
#define MMU_SIM_POISON    0xA5u         /* window bytes of unmapped pages */

/* A fresh machine: phys_bytes of simulated RAM (>= 4 MiB, multiple of 4 KiB),
 * a PMM over it, a page directory with the recursive slot and kernel_pages
 * pages mapped at MMU_SIM_KERNEL_VA. Does not call arch_paging_init. 0 or -1. */
int mmu_sim_init(uint32_t phys_bytes, uint32_t kernel_pages);

/* mmu_sim_init + arch_paging_init + region_init over
 * [kernel end, PAGING_VA_LIMIT) + adopt the kernel image as "kernel". 0 or <0. */
int mmu_sim_setup(uint32_t phys_bytes, uint32_t kernel_pages);

/* Like the CPU: walk; if not present / not writable, region_fault() and retry.
 * 0, or the error region_fault returned (-MM_ECORRUPT if a retry still fails). */
int mmu_sim_touch(vaddr_t va, bool write);
int mmu_sim_write8(vaddr_t va, uint8_t v);
int mmu_sim_read8(vaddr_t va, uint8_t *v);
int mmu_sim_write32(vaddr_t va, uint32_t v);
int mmu_sim_read32(vaddr_t va, uint32_t *v);

/* Software page walk from cr3: pa or PADDR_NONE; raw effective entry bits
 * (P, RW = PDE.RW & PTE.RW, PS for 4 MiB pages) in *bits if non-NULL. */
paddr_t mmu_sim_walk(vaddr_t va, uint32_t *bits);

struct pmm *mmu_sim_pmm(void);
vaddr_t mmu_sim_kernel_end(void);       /* page-aligned end of the fake image */
void *mmu_sim_phys_ptr(paddr_t pa);     /* host pointer to simulated physical memory */
uint32_t mmu_sim_pmm_used(void);        /* frames the PMM has handed out (managed - free) */

struct mmu_sim_stats {
	uint64_t invlpg;        /* invlpg executed by paging32.c */
	uint64_t faults;        /* faults mmu_sim_touch raised */
	uint64_t walks;         /* software walks */
};
void mmu_sim_get_stats(struct mmu_sim_stats *st);
void mmu_sim_set_pse(bool on);          /* CPU has PSE (default on; next arch_paging_init) */

/* Page zeroing: the variants of arch/x86/paging32.c (pg_zero), numbered
 * 0 .. mmu_sim_zero_modes()-1 as there (rep stosl, movnti, rep stosb,
 * movntdq; the host process has SSE enabled, so all four run).
 * arch_zero_page on the host runs the one the kernel would pick for the
 * host CPU, or the one forced by mmu_sim_set_zero_mode (-1: back to the
 * kernel's pick; mmu_sim_zero_modes(): no zeroing, for the benchmark's
 * breakdown only -- a fresh page then reads the poison). */
unsigned mmu_sim_zero_modes(void);
const char *mmu_sim_zero_name(unsigned mode);
void mmu_sim_zero(unsigned mode, void *p, size_t n);   /* n multiple of 64, p 16-aligned */
void mmu_sim_set_zero_mode(int mode);                   /* also on later setups */
int mmu_sim_zero_mode(void);                            /* variant arch_zero_page runs now */

#endif
