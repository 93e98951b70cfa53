/*
 * Host MMU simulator: the paging contract on the host (theory in mmu_sim.h).
 *
 *   cr3 ---> PD (frame in phys) --PDE i--> table (frame in phys) --PTE--> frame
 *            PD[1023] = cr3 | P | RW   (recursive: 0xFFC00000 + i*4096 = table i)
 *
 * arch/x86/paging32.c is compiled into this file with the hooks below, so
 * map/unmap/protect/translate here are the kernel's own code; only the
 * translation of recursive-slot addresses to host pointers (through
 * mmu_sim_walk), invlpg, CPU feature detection and arch_va_ptr are the
 * simulator's; arch_zero_page runs paging32.c's own zeroing code (pg_zero,
 * the variant the kernel would pick for this CPU) on the window page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cpuid.h>

#include <mmboot/paging.h>
#include <mmboot/pmm.h>
#include <mmboot/memmap.h>
#include <mmboot/region.h>
#include <mmboot/errno.h>
#include "mmu_sim.h"

#define WINDOW_BYTES (1ull << 32)

static struct {
	uint8_t *phys;             /* simulated physical memory */
	uint32_t phys_bytes;       /* its size */
	uint8_t *win;              /* 4 GiB window: data of kernel va v at win + v */
	uint32_t cr3;              /* pa of the page directory */
	struct pmm *pmm;           /* the PMM over phys */
	vaddr_t kernel_end;        /* end of the fake kernel image */
	bool pse;                  /* simulated CPUID.PSE */
	bool live;                 /* a machine exists (tables to poison on reset) */
	int zero_mode;             /* forced zeroing variant, -1: as the kernel picks */
	struct mmu_sim_stats st;   /* counters */
} sim = { .pse = true, .zero_mode = -1 };

static inline uint32_t *phys_u32(uint32_t pa)
{
	return (uint32_t *)(sim.phys + pa);
}

paddr_t mmu_sim_walk(vaddr_t va, uint32_t *bits)
{
	sim.st.walks++;
	uint32_t pde = phys_u32(sim.cr3)[va >> 22];
	if (!(pde & 0x1u))
		return PADDR_NONE;
	if (pde & 0x80u) {
		if (bits)
			*bits = pde & 0xFFFu;
		return (paddr_t)((pde & 0xFFC00000u) | (va & 0x3FFFFFu));
	}
	uint32_t pte = phys_u32(pde & 0xFFFFF000u)[(va >> 12) & 1023u];
	if (!(pte & 0x1u))
		return PADDR_NONE;
	if (bits)
		*bits = (pte & 0xFFFu) & (pde | ~0x2u);
	return (paddr_t)((pte & 0xFFFFF000u) | (va & 0xFFFu));
}

/* ---- hooks for paging32.c ---- */
#define PAGING32_HOOKS 1

static void *hw_ptr(vaddr_t va)
{
	paddr_t pa = mmu_sim_walk(va, NULL);
	if (pa == PADDR_NONE || pa >= sim.phys_bytes) {
		fprintf(stderr, "mmu_sim: paging code touched unmapped va 0x%08x\n", va);
		abort();
	}
	return sim.phys + pa;
}

static void hw_invlpg(vaddr_t va)
{
	(void)va;
	sim.st.invlpg++;
}

static uint32_t hw_cr3(void) { return sim.cr3; }
static bool hw_enable_pse(void) { return sim.pse; }

/* The host CPU, seen like the kernel sees its own (CPUID ERMS), unless a
 * variant was forced. Declared here,
 * defined after paging32.c (which defines enum pg_zero). */
static int hw_zero_detect_host(void);
#define hw_zero_detect() ((enum pg_zero)hw_zero_detect_host())

/* paging32's arch_unmap is wrapped (below) to poison the window page. */
int paging32_unmap(vaddr_t va, paddr_t *pa_out);
#define arch_unmap paging32_unmap
#include "../../arch/x86/paging32.c"
#undef arch_unmap

/* ---- data window ---- */

void *arch_va_ptr(vaddr_t va)
{
	if (va >= PAGING_PT_BASE)
		return hw_ptr(va);
	return sim.win + va;
}

/* ---- zeroing: paging32.c's own variants (pg_zero), run on the host ---- */

static int hw_zero_detect_host(void)
{
	if (sim.zero_mode >= 0)
		return sim.zero_mode;
	unsigned a, b, c, d;
	return (int)pg_zero_pick(__get_cpuid_count(7, 0, &a, &b, &c, &d) && ((b >> 9) & 1u));
}

unsigned mmu_sim_zero_modes(void) { return PG_ZERO_MODES; }

const char *mmu_sim_zero_name(unsigned mode)
{
	return mode < PG_ZERO_MODES ? pg_zero_names[mode] : "none (not zeroed)";
}

void mmu_sim_zero(unsigned mode, void *p, size_t n)
{
	if (mode < PG_ZERO_MODES)
		pg_zero((enum pg_zero)mode, p, (uint32_t)n);
}

void mmu_sim_set_zero_mode(int mode)
{
	sim.zero_mode = mode;
	pg_zero_mode = (enum pg_zero)hw_zero_detect_host();
}

int mmu_sim_zero_mode(void) { return (int)pg_zero_mode; }

void arch_zero_page(vaddr_t va)
{
	if (sim.zero_mode != (int)PG_ZERO_MODES)      /* MODES: the benchmark's "no zeroing" */
		pg_zero(pg_zero_mode, arch_va_ptr(va), PAGE_SIZE);
}

/* Unmapping poisons the window bytes so a commit that forgot to zero shows. */
int arch_unmap(vaddr_t va, paddr_t *pa_out)
{
	uint32_t fl = 0;
	bool mapped = va < PAGING_VA_LIMIT && arch_translate(va, &fl) != PADDR_NONE;
	int rc = paging32_unmap(va, pa_out);
	if (rc == 0 && mapped) {
		vaddr_t lo = (fl & PG_LARGE) ? va & ~(LARGE_PAGE_SIZE - 1u) : va & ~PAGE_MASK;
		memset(sim.win + lo, MMU_SIM_POISON, (fl & PG_LARGE) ? LARGE_PAGE_SIZE : PAGE_SIZE);
	}
	return rc;
}

/* ---- machine set-up ---- */

static void poison_old_mappings(void)
{
	if (!sim.live)
		return;
	uint32_t *pd = phys_u32(sim.cr3);
	for (uint32_t i = 0; i < PAGING_RECURSIVE_SLOT; i++) {
		if (!(pd[i] & 0x1u))
			continue;
		if (pd[i] & 0x80u) {
			memset(sim.win + ((uint64_t)i << 22), MMU_SIM_POISON, LARGE_PAGE_SIZE);
			continue;
		}
		uint32_t *t = phys_u32(pd[i] & 0xFFFFF000u);
		for (uint32_t k = 0; k < 1024; k++)
			if (t[k] & 0x1u)
				memset(sim.win + ((uint64_t)i << 22) + ((uint64_t)k << 12), MMU_SIM_POISON, PAGE_SIZE);
	}
	sim.live = false;
}

static int phys_setup(uint32_t phys_bytes)
{
	if (!sim.win) {
		void *w = mmap(NULL, WINDOW_BYTES, PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (w == MAP_FAILED)
			return -1;
		sim.win = w;
	}
	if (sim.phys && sim.phys_bytes != phys_bytes) {
		munmap(sim.phys, sim.phys_bytes);
		sim.phys = NULL;
	}
	if (!sim.phys) {
		void *p = mmap(NULL, phys_bytes, PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			return -1;
		sim.phys = p;
		sim.phys_bytes = phys_bytes;
	}
	return 0;
}

static int pmm_setup(void)
{
	struct memmap_range map = { 0, sim.phys_bytes, MEMMAP_USABLE, 0 };
	uint64_t meta = ALIGN_UP(pmm_metadata_size(&map, 1), (uint64_t)PAGE_SIZE);
	if (meta == 0 || meta + MiB(2) > sim.phys_bytes)
		return -1;
	uint64_t meta_pa = sim.phys_bytes - meta;
	sim.pmm = pmm_init(sim.phys + meta_pa, meta, meta_pa, &map, 1, 1u << MEMMAP_USABLE);
	return sim.pmm ? 0 : -1;
}

static uint32_t sim_frame(void)
{
	paddr_t pa = pmm_alloc(sim.pmm, 0, 0);
	if (pa == PADDR_NONE)
		return 0;
	memset(sim.phys + pa, 0, PAGE_SIZE);
	return (uint32_t)pa;
}

/* What the loader does: directory, recursive slot, kernel image pages. */
static int loader_tables(uint32_t kernel_pages)
{
	sim.cr3 = sim_frame();
	if (!sim.cr3)
		return -1;
	uint32_t *pd = phys_u32(sim.cr3);
	pd[PAGING_RECURSIVE_SLOT] = sim.cr3 | 0x3u;
	for (uint32_t p = 0; p < kernel_pages; p++) {
		vaddr_t va = MMU_SIM_KERNEL_VA + p * PAGE_SIZE;
		if (!(pd[va >> 22] & 0x1u)) {
			uint32_t t = sim_frame();
			if (!t)
				return -1;
			pd[va >> 22] = t | 0x3u;
		}
		uint32_t f = sim_frame();
		if (!f)
			return -1;
		phys_u32(pd[va >> 22] & 0xFFFFF000u)[(va >> 12) & 1023u] = f | 0x103u;
	}
	sim.kernel_end = MMU_SIM_KERNEL_VA + kernel_pages * PAGE_SIZE;
	return 0;
}

int mmu_sim_init(uint32_t phys_bytes, uint32_t kernel_pages)
{
	if (phys_bytes < MiB(4) || !IS_ALIGNED(phys_bytes, PAGE_SIZE) || kernel_pages > 1024)
		return -1;
	poison_old_mappings();
	if (phys_setup(phys_bytes) || pmm_setup() || loader_tables(kernel_pages))
		return -1;
	memset(&sim.st, 0, sizeof(sim.st));
	sim.live = true;
	return 0;
}

int mmu_sim_setup(uint32_t phys_bytes, uint32_t kernel_pages)
{
	int rc = mmu_sim_init(phys_bytes, kernel_pages);
	if (rc)
		return rc;
	if ((rc = arch_paging_init(sim.pmm)))
		return rc;
	if ((rc = region_init(sim.pmm, sim.kernel_end, PAGING_VA_LIMIT)))
		return rc;
	if (kernel_pages && !region_adopt(MMU_SIM_KERNEL_VA, kernel_pages * PAGE_SIZE, REGION_WRITE, "kernel"))
		return -MM_EEXIST;
	return 0;
}

/* ---- simulated accesses ---- */

int mmu_sim_touch(vaddr_t va, bool write)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		uint32_t bits = 0;
		paddr_t pa = mmu_sim_walk(va, &bits);
		bool present = pa != PADDR_NONE;
		if (present && (!write || (bits & 0x2u)))
			return 0;
		if (attempt)
			break;
		sim.st.faults++;
		int rc = region_fault(va, (present ? REGION_FAULT_PRESENT : 0u) |
		                              (write ? REGION_FAULT_WRITE : 0u));
		if (rc)
			return rc;
	}
	return -MM_ECORRUPT;
}

int mmu_sim_write8(vaddr_t va, uint8_t v)
{
	int rc = mmu_sim_touch(va, true);
	if (!rc)
		*(uint8_t *)arch_va_ptr(va) = v;
	return rc;
}

int mmu_sim_read8(vaddr_t va, uint8_t *v)
{
	int rc = mmu_sim_touch(va, false);
	if (!rc)
		*v = *(uint8_t *)arch_va_ptr(va);
	return rc;
}

int mmu_sim_write32(vaddr_t va, uint32_t v)
{
	int rc = mmu_sim_touch(va, true);
	if (!rc && (va & PAGE_MASK) > PAGE_SIZE - 4)
		rc = mmu_sim_touch(va + 3, true);
	if (!rc)
		memcpy(arch_va_ptr(va), &v, 4);
	return rc;
}

int mmu_sim_read32(vaddr_t va, uint32_t *v)
{
	int rc = mmu_sim_touch(va, false);
	if (!rc && (va & PAGE_MASK) > PAGE_SIZE - 4)
		rc = mmu_sim_touch(va + 3, false);
	if (!rc)
		memcpy(v, arch_va_ptr(va), 4);
	return rc;
}

struct pmm *mmu_sim_pmm(void) { return sim.pmm; }
vaddr_t mmu_sim_kernel_end(void) { return sim.kernel_end; }
void *mmu_sim_phys_ptr(paddr_t pa) { return sim.phys + pa; }
void mmu_sim_get_stats(struct mmu_sim_stats *st) { *st = sim.st; }
void mmu_sim_set_pse(bool on) { sim.pse = on; }

uint32_t mmu_sim_pmm_used(void)
{
	struct pmm_stats st;
	pmm_get_stats(sim.pmm, &st);
	return st.managed_pages - st.free_pages;
}
