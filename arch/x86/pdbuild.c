/*
 * pdbuild.c: build the first 32-bit page directory (see pdbuild.h).
 *
 *   va:  31      22 21      12 11         0
 *       | PD index | PT index |  offset    |
 *
 *   pd[i]  = pt_pa | P | RW           (i < 1023)
 *   pd[1023] = pd_pa | P | RW         (recursive slot: tables at 0xFFC00000)
 *   pt[j]  = frame_pa | P | flags
 *
 * Tables are zeroed when they are taken from the source; the caller owns
 * all memory and keeps it alive until the kernel runs.
 */
#include "pdbuild.h"

int pdb_pool_alloc(void *pool, paddr_t *pa, void **ptr)
{
	struct pdb_pool *p = pool;
	if (p->used >= p->pages)
		return -MM_ENOMEM;
	*pa = p->pa + (paddr_t)p->used * PAGE_SIZE;
	*ptr = p->base + (size_t)p->used * PAGE_SIZE;
	p->used++;
	return 0;
}

static void zero_page(void *page)
{
	uint32_t *w = page;
	for (uint32_t i = 0; i < PAGE_SIZE / 4; i++)
		w[i] = 0;
}

uint32_t pdb_pte_bits(uint32_t flags)
{
	return x86_pte_bits(flags);
}

int pdb_init(struct pdbuild *b, void *pd, paddr_t pd_pa, const struct pdb_frame_src *src)
{
	if (!b || !pd || !src || !IS_ALIGNED(pd_pa, PAGE_SIZE))
		return -MM_EINVAL;
	if (pd_pa >= PADDR_4G)
		return -MM_ERANGE;
	b->pd = pd;
	b->pd_pa = pd_pa;
	b->src = src;
	b->tables = 0;
	b->pages = 0;
	for (uint32_t i = 0; i < PDB_ENTRIES; i++)
		b->pt[i] = 0;
	zero_page(pd);
	b->pd[PAGING_RECURSIVE_SLOT] = (uint32_t)pd_pa | X86_PTE_P | X86_PTE_RW;
	return 0;
}

/* The table behind PDE i, allocated and hooked in on first use. */
static uint32_t *table_for(struct pdbuild *b, uint32_t i, int *err)
{
	if (b->pt[i])
		return b->pt[i];
	paddr_t pa;
	void *ptr;
	*err = b->src->alloc(b->src->ctx, &pa, &ptr);
	if (*err)
		return 0;
	if (!IS_ALIGNED(pa, PAGE_SIZE) || pa >= PADDR_4G) {
		*err = -MM_ERANGE;
		return 0;
	}
	zero_page(ptr);
	b->pt[i] = ptr;
	b->pd[i] = (uint32_t)pa | X86_PTE_P | X86_PTE_RW;
	b->tables++;
	return ptr;
}

static int check_range(vaddr_t va, paddr_t pa, uint32_t npages)
{
	if (!IS_ALIGNED(va, PAGE_SIZE) || !IS_ALIGNED(pa, PAGE_SIZE))
		return -MM_EALIGN;
	if (npages == 0)
		return -MM_EINVAL;
	uint64_t vend = (uint64_t)va + (uint64_t)npages * PAGE_SIZE;
	if (vend > PAGING_PT_BASE)
		return -MM_ERANGE;
	if (pa + (uint64_t)npages * PAGE_SIZE > PADDR_4G)
		return -MM_ERANGE;
	if (va < PAGE_SIZE)
		return -MM_EINVAL;
	return 0;
}

int pdb_map(struct pdbuild *b, vaddr_t va, paddr_t pa, uint32_t npages, uint32_t flags)
{
	int err = check_range(va, pa, npages);
	if (err)
		return err;
	uint32_t bits = pdb_pte_bits(flags);
	for (uint32_t k = 0; k < npages; k++) {
		vaddr_t v = va + k * PAGE_SIZE;
		uint32_t *pt = table_for(b, v >> 22, &err);
		if (!pt)
			return err;
		uint32_t j = (v >> 12) & 0x3FFu;
		if (pt[j] & X86_PTE_P)
			return -MM_EEXIST;
		pt[j] = (uint32_t)(pa + (paddr_t)k * PAGE_SIZE) | bits;
		b->pages++;
	}
	return 0;
}

paddr_t pdb_translate(const struct pdbuild *b, vaddr_t va, uint32_t *pte_out)
{
	uint32_t i = va >> 22;
	if (pte_out)
		*pte_out = 0;
	if (i == PAGING_RECURSIVE_SLOT || !b->pt[i])
		return PADDR_NONE;
	uint32_t pte = b->pt[i][(va >> 12) & 0x3FFu];
	if (pte_out)
		*pte_out = pte;
	if (!(pte & X86_PTE_P))
		return PADDR_NONE;
	return (paddr_t)(pte & X86_PTE_ADDR) | (va & PAGE_MASK);
}

uint32_t pdb_tables_needed(const struct pdb_range *r, uint32_t n)
{
	uint32_t seen[PDB_ENTRIES / 32] = { 0 };
	uint32_t count = 0;
	for (uint32_t k = 0; k < n; k++) {
		if (r[k].npages == 0)
			continue;
		uint64_t last = (uint64_t)r[k].va + ((uint64_t)r[k].npages - 1) * PAGE_SIZE;
		if (last > 0xFFFFFFFFu)
			last = 0xFFFFFFFFu;
		for (uint32_t i = r[k].va >> 22; i <= (uint32_t)(last >> 22); i++) {
			if (!(seen[i / 32] & (1u << (i % 32)))) {
				seen[i / 32] |= 1u << (i % 32);
				count++;
			}
		}
	}
	return count;
}

static int plan_range_ok(const struct pdb_range *r)
{
	if (!IS_ALIGNED(r->va, PAGE_SIZE))
		return -MM_EALIGN;
	if (r->npages == 0 || r->va < PAGE_SIZE)
		return -MM_EINVAL;
	if ((uint64_t)r->va + (uint64_t)r->npages * PAGE_SIZE > PAGING_PT_BASE)
		return -MM_ERANGE;
	return 0;
}

int pdb_plan_check(const struct pdb_range *r, uint32_t n, uint32_t *a, uint32_t *b)
{
	for (uint32_t i = 0; i < n; i++) {
		int err = plan_range_ok(&r[i]);
		if (a)
			*a = i;
		if (err)
			return err;
		uint64_t lo = r[i].va, hi = lo + (uint64_t)r[i].npages * PAGE_SIZE;
		for (uint32_t j = i + 1; j < n; j++) {
			uint64_t lo2 = r[j].va, hi2 = lo2 + (uint64_t)r[j].npages * PAGE_SIZE;
			if (plan_range_ok(&r[j]) == 0 && lo < hi2 && lo2 < hi) {
				if (b)
					*b = j;
				return -MM_EEXIST;
			}
		}
	}
	return 0;
}
