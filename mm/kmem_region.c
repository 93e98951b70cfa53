/*
 * The slab heap's production page source: one region of the region VMM.
 *
 * kmem_region_source_init reserves `bytes` of kernel virtual space as one
 * region named "heap" (REGION_WRITE; REGION_GUARD: a guard page on each
 * side, so an overrun off either end of the heap faults; REGION_NOLAZY: the
 * page-fault handler never commits a page of it), nothing committed. The
 * heap commits page runs explicitly as slabs and large blocks need them and
 * decommits them when they are freed; the frames come from and go back to
 * the PMM through the region layer. Because of REGION_NOLAZY a decommitted
 * page stays unmapped until the heap commits it again: a late write through
 * a dangling pointer into a freed slab or large block faults and the kernel
 * stops with the region layer's report (address, access, region 'heap'),
 * instead of silently committing a fresh page. The arena pointer is arch_va_ptr(region base):
 * the address itself in the kernel; on the host, the simulated MMU's view,
 * which must be contiguous across the region's pages (checked on commit).
 */
#include <mmboot/errno.h>
#include <mmboot/kmem.h>
#include <mmboot/paging.h>
#include <mmboot/region.h>

static int kmem_region_commit(struct kmem_page_source *ps, uint32_t first, uint32_t n)
{
	struct kmem_region_source *src = ps->priv;
	vaddr_t va = src->va + (first << PAGE_SHIFT);
	int err = region_commit(src->region, va, n);   /* all or nothing */
	if (err)
		return err;
	for (uint32_t i = 0; i < n; i++) {
		vaddr_t pva = va + (i << PAGE_SHIFT);
		if (arch_va_ptr(pva) != (char *)ps->base + ((uintptr_t)(first + i) << PAGE_SHIFT)) {
			region_decommit(src->region, va, n);
			return -MM_ERANGE;   /* the va -> pointer view is not contiguous */
		}
	}
	return 0;
}

static int kmem_region_decommit(struct kmem_page_source *ps, uint32_t first, uint32_t n)
{
	struct kmem_region_source *src = ps->priv;
	return region_decommit(src->region, src->va + (first << PAGE_SHIFT), n);
}

int kmem_region_source_init(struct kmem_region_source *src, uint32_t bytes)
{
	bytes = ALIGN_UP(bytes, PAGE_SIZE);
	if (bytes == 0)
		return -MM_EINVAL;
	src->region = region_create(bytes, REGION_WRITE | REGION_GUARD | REGION_NOLAZY,
	                             KMEM_REGION_NAME);
	if (!src->region)
		return -MM_ENOMEM;
	src->va = region_base(src->region);
	src->ps.base = arch_va_ptr(src->va);
	src->ps.npages = bytes >> PAGE_SHIFT;
	src->ps.commit = kmem_region_commit;
	src->ps.decommit = kmem_region_decommit;
	src->ps.priv = src;
	return 0;
}

int kmem_region_source_fini(struct kmem_region_source *src)
{
	int err = src->region ? region_destroy(src->region) : 0;
	src->region = NULL;
	return err;
}
