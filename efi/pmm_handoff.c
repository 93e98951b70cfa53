/*
 * pmm_handoff.c: the loader's part of the buddy PMM flow (issue 3).
 *
 *   before ExitBootServices   pmmh_prepare: size the PMM metadata from the
 *                             current map (pmm_metadata_size_efi: the final
 *                             map can never need more) and the build scratch
 *                             for the largest map the boot-info area can hold;
 *                             AllocatePages both (EfiLoaderData, below 4 GiB)
 *   kernel page directory     the metadata is mapped RW at pmm_va (handoff.c)
 *   after ExitBootServices    pmmh_build: pmm_build_from_efi on the final map
 *                             (usable + boot-services memory free; the loader's
 *                             own pages, metadata and scratch included, stay
 *                             reserved), then struct pmm_handoff in bi->ext;
 *                             on failure the reason (struct pmm_init_err) is
 *                             printed (COM1 by then) before the fatal stop
 *
 * The build only writes into the metadata and scratch pages (ours). The
 * caller then reserves the frames still live until the mode switch
 * (transient.c) and takes the page directory and tables from this PMM
 * (handoff.c); without a PMM there are no page tables, so a failed build
 * after ExitBootServices is fatal (reported on COM1).
 */
#include "loader.h"
#include <mmboot/pmm.h>
#include <mmboot/errno.h>

_Static_assert(PMM_HANDOFF_EXT_OFFSET + sizeof(struct pmm_handoff) <= BOOTINFO_EXT_BYTES,
               "the PMM handoff must fit in bootinfo.ext");

EFI_STATUS pmmh_prepare(struct boot_layout *L, uint32_t max_descs)
{
	void *map;
	UINTN size, dsize;
	UINT32 dver;
	EFI_STATUS st = efi_get_map(&map, &size, &dsize, &dver);
	if (EFI_ERROR(st)) {
		mm_printf("loader: GetMemoryMap for the PMM size failed (0x%llx)\n",
		          (unsigned long long)st);
		return st;
	}
	uint64_t meta = pmm_metadata_size_efi(map, (uint32_t)(size / dsize), (uint32_t)dsize);
	efi_st->BootServices->FreePool(map);
	uint64_t scratch = pmm_build_scratch_size(max_descs);
	L->pmm_meta_pages = (uint32_t)((meta + PAGE_SIZE - 1) / PAGE_SIZE);
	L->pmm_scratch_pages = (uint32_t)((scratch + PAGE_SIZE - 1) / PAGE_SIZE);
	if (meta == 0 || L->pmm_meta_pages == 0)
		return EFI_SUCCESS;   /* nothing to manage: the kernel will say so */
	L->pmm_meta_pa = efi_alloc_low(L->pmm_meta_pages, EfiLoaderData, &st);
	if (L->pmm_meta_pa)
		L->pmm_scratch_pa = efi_alloc_low(L->pmm_scratch_pages, EfiLoaderData, &st);
	if (!L->pmm_meta_pa || !L->pmm_scratch_pa) {
		mm_printf("loader: AllocatePages for the PMM metadata failed (0x%llx)\n",
		          (unsigned long long)st);
		return st;
	}
	mm_printf("pmm: metadata %llu KiB, build scratch %llu KiB (for up to %u descriptors)\n",
	          (unsigned long long)(meta >> 10), (unsigned long long)(scratch >> 10), max_descs);
	return EFI_SUCCESS;
}

struct pmm *pmmh_build(const struct boot_layout *L, struct bootinfo *bi)
{
	if (!L->pmm_meta_pa)
		return 0;
	const uint8_t *descs = (const uint8_t *)bi + bi->mmap_offset;
	struct pmm_init_err e;
	struct pmm *p = pmm_build_from_efi_ex(
		(void *)(uintptr_t)L->pmm_meta_pa, (uint64_t)L->pmm_meta_pages * PAGE_SIZE,
		L->pmm_meta_pa, descs, bi->mmap_count, bi->mmap_desc_size,
		(void *)(uintptr_t)L->pmm_scratch_pa, (uint64_t)L->pmm_scratch_pages * PAGE_SIZE,
		PMM_USABLE_AFTER_EXIT, &e);
	if (!p) {   /* after ExitBootServices: this goes to COM1, then the fatal path */
		mm_printf("loader: building the PMM from the final map (%u descriptors of %u bytes)"
		          " failed: %s (%s; need %llu, have %llu)\n", bi->mmap_count,
		          bi->mmap_desc_size, pmm_init_why_name(e.why), mm_strerror(e.code),
		          (unsigned long long)e.need, (unsigned long long)e.have);
		return 0;
	}
	struct pmm_handoff h = { PMM_HANDOFF_MAGIC, L->pmm_va, L->pmm_meta_pa,
	                         (uint64_t)L->pmm_meta_pages * PAGE_SIZE };
	mm_memcpy(bi->ext + PMM_HANDOFF_EXT_OFFSET, &h, sizeof(h));
	return p;
}
