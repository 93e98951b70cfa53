/*
 * physwin.c: windows onto physical memory (theory in physwin.h).
 *
 * The direct way writes PDEs in the lower half: [PHYSWIN_VA_LO, kernel_va),
 * skipping the first GiB (where the loader's identity-mapped trampoline
 * lives); a run of empty PDEs is taken first-fit and given back (zeroed,
 * invlpg) by physwin_unmap. Nothing else in the kernel maps the lower half,
 * and the region arena lies above the kernel image, so the two never meet.
 * Interrupts are off in the kernel stage; the console serialises callers.
 */
#include <mmboot/errno.h>
#include <mmboot/paging.h>
#include <mmboot/region.h>
#include "kernel.h"
#include "physwin.h"
#include "../arch/x86/cpu.h"

#define PHYSWIN_VA_LO   0x40000000u     /* first va the direct way may use */
#define CR4_PSE         0x10u
#define CPUID_PSE36     (1u << 17)      /* CPUID.01H:EDX */

static uint32_t physwin_pdes[1024 / 32];    /* PDE indices held by direct windows */

static void pdes_mark(uint32_t first, uint32_t n, int on)
{
	for (uint32_t i = first; i < first + n && i < 1024; i++) {
		if (on)
			physwin_pdes[i / 32] |= 1u << (i % 32);
		else
			physwin_pdes[i / 32] &= ~(1u << (i % 32));
	}
}

int physwin_owns_pde(vaddr_t va)
{
	uint32_t i = va >> LARGE_PAGE_SHIFT;
	return (physwin_pdes[i / 32] >> (i % 32)) & 1u;
}

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

int physwin_cpu_pse36(void)
{
	uint32_t a, b, c, d;
	cpuid(1, &a, &b, &c, &d);
	return (d & CPUID_PSE36) != 0;
}

uint32_t physwin_cpu_maxphyaddr(void)
{
	uint32_t a, b, c, d;
	cpuid(0x80000000u, &a, &b, &c, &d);
	if (a < 0x80000008u)
		return 36;
	cpuid(0x80000008u, &a, &b, &c, &d);
	return a & 0xFFu;
}

static uint32_t region_flags_of(uint32_t flags)
{
	return ((flags & PHYSWIN_WRITE) ? REGION_WRITE : 0) |
	       ((flags & PHYSWIN_WTHRU) ? REGION_WTHRU : 0) |
	       ((flags & PHYSWIN_NOCACHE) ? REGION_NOCACHE : 0);
}

/* First run of n empty PDEs in the lower half (above the first GiB). */
static uint32_t find_empty_pdes(uint32_t n)
{
	volatile uint32_t *pd = (volatile uint32_t *)PAGING_PD_VA;
	uint32_t lo = PHYSWIN_VA_LO >> LARGE_PAGE_SHIFT;
	uint32_t hi = (kernel_bi ? kernel_bi->kernel_va : 0xC0000000u) >> LARGE_PAGE_SHIFT;
	for (uint32_t i = lo, run = 0; i < hi; i++) {
		run = pd[i] ? 0 : run + 1;
		if (run == n)
			return i + 1 - n;
	}
	return 0;
}

static int map_direct(struct physwin *w, uint32_t flags)
{
	if (!(read_cr4() & CR4_PSE))
		return -MM_EINVAL;
	int pse36 = physwin_cpu_pse36();
	uint32_t maxphy = physwin_cpu_maxphyaddr();
	paddr_t pa0 = ALIGN_DOWN(w->pa, (paddr_t)LARGE_PAGE_SIZE);
	paddr_t end = ALIGN_UP(w->pa + w->size, (paddr_t)LARGE_PAGE_SIZE);
	uint32_t n = (uint32_t)((end - pa0) >> LARGE_PAGE_SHIFT);
	uint32_t pde;
	if (physwin_pde(end - LARGE_PAGE_SIZE, flags, pse36, maxphy, &pde))
		return -MM_ERANGE;
	uint32_t first = find_empty_pdes(n);
	if (!first)
		return -MM_ENOMEM;
	volatile uint32_t *pd = (volatile uint32_t *)PAGING_PD_VA;
	for (uint32_t i = 0; i < n; i++) {
		physwin_pde(pa0 + ((paddr_t)i << LARGE_PAGE_SHIFT), flags, pse36, maxphy, &pde);
		pd[first + i] = pde;
		invlpg((first + i) << LARGE_PAGE_SHIFT);
	}
	w->pde_first = first, w->pde_count = n;
	pdes_mark(first, n, 1);
	w->va = (first << LARGE_PAGE_SHIFT) + (uint32_t)(w->pa - pa0);
	w->how = (end > PADDR_4G) ? PHYSWIN_PSE36 : PHYSWIN_PSE;
	return 0;
}

int physwin_map(struct physwin *w, paddr_t pa, uint32_t size, uint32_t flags, const char *name)
{
	*w = (struct physwin){ .pa = pa, .size = size };
	if (size == 0 || pa + size < pa)
		return -MM_EINVAL;
	if (pa + size <= PADDR_4G) {
		w->r = region_create_phys(pa, size, region_flags_of(flags), name);
		if (w->r) {
			w->va = region_base(w->r) + (uint32_t)(pa & PAGE_MASK);
			w->how = PHYSWIN_REGION;
			return 0;
		}
	}
	return map_direct(w, flags);
}

void physwin_unmap(struct physwin *w)
{
	if (w->how == PHYSWIN_REGION) {
		region_destroy(w->r);
	} else if (w->how == PHYSWIN_PSE || w->how == PHYSWIN_PSE36) {
		volatile uint32_t *pd = (volatile uint32_t *)PAGING_PD_VA;
		for (uint32_t i = 0; i < w->pde_count; i++) {
			pd[w->pde_first + i] = 0;
			invlpg((w->pde_first + i) << LARGE_PAGE_SHIFT);
		}
		pdes_mark(w->pde_first, w->pde_count, 0);
	}
	w->how = PHYSWIN_NONE;
}

const char *physwin_how(const struct physwin *w)
{
	static const char *const names[] = { "unmapped", "region layer", "4 MiB PSE pages",
	                                     "4 MiB PSE-36 pages" };
	return w->how < ARRAY_SIZE(names) ? names[w->how] : "?";
}
