/*
 * pmm_glue.c: the kernel stage takes over physical memory.
 *
 * Two ways to a PMM, tried in order:
 *   1. adopt: the loader built the PMM from the final map after
 *      ExitBootServices and put a struct pmm_handoff at
 *      PMM_HANDOFF_EXT_OFFSET of the boot-info ext[] area: the metadata is
 *      mapped at handoff.va; pmm_adopt() checks its header and takes it
 *      over unchanged (the bytes are position independent).
 *   2. build here: the final map (raw descriptors in the boot-info block)
 *      is converted, sanitized and built into glue_meta[], a page-aligned
 *      array in the kernel's .bss (the loader allocated, zeroed and mapped
 *      it with the image; its physical address follows from kernel_pa), so
 *      no free frame is touched. PMM_METADATA_MAX covers a full 4 GiB span.
 * Either way the loader's memory (class "loader": kernel image, stack,
 * boot info, page tables, trampoline, the loader itself) starts reserved;
 * once the PMM is up the loader's own image is released to it (the kernel
 * never uses it). Errors are reported with frame and caller (PMM_F_REPORT).
 *
 * The sanitized final map is kept in pmm_boot_map[] so the tests can
 * recompute what the PMM must hold.
 */
#include "kernel.h"
#include "pmm_glue.h"
#include <mmboot/errno.h>

#define GLUE_MAX_DESCS 1024u
#define GLUE_META_BYTES PMM_METADATA_MAX

struct pmm *kernel_pmm;
vaddr_t kernel_pmm_va;
uint32_t kernel_pmm_bytes;
struct pmm_boot pmm_boot;
struct memmap_range pmm_boot_map[2 * GLUE_MAX_DESCS + 1];

static uint8_t glue_meta[GLUE_META_BYTES] __attribute__((aligned(4096)));
static struct memmap_in glue_in[GLUE_MAX_DESCS];
static uint64_t glue_scratch[(GLUE_MAX_DESCS * 112u) / 8u];
static struct memmap_stats glue_stats;

/* Sanitize the final map into pmm_boot_map. */
static int glue_sanitize(const struct bootinfo *bi)
{
	const uint8_t *descs = (const uint8_t *)bi + bi->mmap_offset;
	uint32_t n = bi->mmap_count;
	if (n > GLUE_MAX_DESCS) {
		mm_printf("pmm: final map has %u entries, more than %u\n", n, GLUE_MAX_DESCS);
		return -MM_ENOMEM;
	}
	if (memmap_scratch_size(n) > sizeof(glue_scratch) ||
	    memmap_from_efi(descs, n, bi->mmap_desc_size, glue_in) != n)
		return -MM_EINVAL;
	pmm_boot.map_n = memmap_sanitize(glue_in, n, pmm_boot_map, ARRAY_SIZE(pmm_boot_map),
	                                 glue_scratch, &glue_stats);
	return 0;
}

static int glue_adopt(const struct bootinfo *bi)
{
	const struct pmm_handoff *h = (const void *)(bi->ext + PMM_HANDOFF_EXT_OFFSET);
	if (h->magic != PMM_HANDOFF_MAGIC)
		return -MM_ENOENT;
	kernel_pmm = pmm_adopt((void *)(uintptr_t)h->va, h->bytes);
	if (!kernel_pmm) {
		mm_printf("pmm: the loader's PMM at va %08x (%llu bytes) is not valid\n", h->va,
		          (unsigned long long)h->bytes);
		return -MM_ECORRUPT;
	}
	kernel_pmm_va = h->va;
	kernel_pmm_bytes = (uint32_t)h->bytes;
	pmm_boot.from_loader = 1;
	return 0;
}

static int glue_build(const struct bootinfo *bi)
{
	uint64_t need = pmm_metadata_size(pmm_boot_map, pmm_boot.map_n);
	paddr_t pa = bi->kernel_pa + ((uint32_t)(uintptr_t)glue_meta - bi->kernel_va);
	if (need > sizeof(glue_meta))
		return -MM_ENOMEM;
	kernel_pmm = pmm_init(glue_meta, need, pa, pmm_boot_map, pmm_boot.map_n,
	                      PMM_USABLE_AFTER_EXIT);
	if (!kernel_pmm)
		return -MM_EINVAL;
	pmm_set_memmap_stats(kernel_pmm, &glue_stats);
	kernel_pmm_va = (vaddr_t)(uintptr_t)glue_meta;
	kernel_pmm_bytes = (uint32_t)need;
	return 0;
}

/* The loader's own image: the kernel never uses it again. */
static void glue_release_loader(const struct bootinfo *bi)
{
	pmm_boot.loader_lo = ALIGN_DOWN(bi->loader_image_pa, (uint64_t)PAGE_SIZE);
	pmm_boot.loader_hi = ALIGN_UP(bi->loader_image_pa + bi->loader_image_size, (uint64_t)PAGE_SIZE);
	int n = bi->loader_image_size ? pmm_release_range(kernel_pmm, pmm_boot.loader_lo,
	                                                  pmm_boot.loader_hi) : 0;
	if (n < 0) {
		mm_printf("pmm: releasing the loader image failed: %s\n", mm_strerror(n));
		n = 0;
	}
	pmm_boot.released = (uint32_t)n;
	pmm_boot.free_after_release = pmm_free_pages(kernel_pmm);
}

int pmm_glue_init(const struct bootinfo *bi)
{
	int rc = glue_sanitize(bi);
	if (!rc) {
		rc = glue_adopt(bi);
		if (rc == -MM_ENOENT)
			rc = glue_build(bi);
	}
	if (rc) {
		mm_printf("pmm: no physical memory manager: %s\n", mm_strerror(rc));
		kernel_pmm = NULL;
		return rc;
	}
	pmm_set_flags(kernel_pmm, PMM_F_REPORT);
	struct pmm_stats st;
	pmm_get_stats(kernel_pmm, &st);
	pmm_boot.free_at_init = st.free_pages;
	pmm_boot.alloc_at_init = st.allocated_pages;
	glue_release_loader(bi);
	mm_printf("pmm: %s; metadata at va %08x; loader image %llx-%llx: %u pages released\n",
	          pmm_boot.from_loader ? "adopted the loader's PMM" : "built from the final map",
	          kernel_pmm_va, (unsigned long long)pmm_boot.loader_lo,
	          (unsigned long long)pmm_boot.loader_hi, pmm_boot.released);
	pmm_print_summary(kernel_pmm, "pmm: ");
	uint32_t bad = pmm_check(kernel_pmm, true);
	mm_printf("pmm: pmm_check: %u inconsistencies\n", bad);
	return bad ? -MM_ECORRUPT : 0;
}
