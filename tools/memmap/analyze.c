/*
 * Loading, sanitizing and replaying a map on the host (analyze.h). The
 * sanitizer and the PMM are mmboot's own mm/ code, linked from libmm; the
 * only difference from the loader is where the PMM metadata lives (host
 * memory, so it takes no frame out of the map: mem_pa = PADDR_NONE).
 */
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

int analysis_load(const char *path, struct analysis *a)
{
	char err[512];
	memset(a, 0, sizeof(*a));
	a->path = path;
	if (mapfile_load(path, &a->mf, err, sizeof(err)) < 0) {
		fprintf(stderr, "mmboot-memmap: %s\n", err);
		return -1;
	}
	uint32_t n = a->mf.n;
	uint32_t cap = 2 * n + 8;     /* nesting can split each range in three */
	void *scratch = malloc(memmap_scratch_size(n) + 8);
	a->out = malloc(cap * sizeof(*a->out));
	if (!scratch || !a->out) {
		free(scratch);
		fprintf(stderr, "mmboot-memmap: %s: out of memory\n", path);
		analysis_free(a);
		return -1;
	}
	a->nout = memmap_sanitize(a->mf.in, n, a->out, cap, scratch, &a->st);
	free(scratch);
	return 0;
}

void analysis_free(struct analysis *a)
{
	mapfile_free(&a->mf);
	free(a->out);
	a->out = NULL;
}

void analysis_pmm(const struct analysis *a, struct pmm_result *r)
{
	memset(r, 0, sizeof(*r));
	uint64_t size = pmm_metadata_size(a->out, a->nout);
	void *mem = size ? aligned_alloc(64, (size + 63) & ~(uint64_t)63) : NULL;
	struct pmm *p = mem ? pmm_init(mem, size, PADDR_NONE, a->out, a->nout, MEMMAP_FREE_MASK)
	                    : NULL;
	if (p) {
		r->built = 1;
		pmm_set_memmap_stats(p, &a->st);
		pmm_get_stats(p, &r->ps);
		r->metadata_bytes = pmm_metadata_bytes(p);
		r->check_errors = pmm_check(p, false);
		if (r->ps.largest_free_order <= PMM_MAX_ORDER)
			r->largest_free_bytes = (uint64_t)PAGE_SIZE << r->ps.largest_free_order;
	}
	free(mem);
}

uint64_t analysis_usable(const struct analysis *a, int above_4g)
{
	return memmap_mask_bytes(a->out, a->nout, MEMMAP_FREE_MASK,
	                         above_4g ? PADDR_4G : 0, above_4g ? ~(uint64_t)0 : PADDR_4G);
}

enum memmap_class analysis_entry_class(const struct memmap_in *e)
{
	if (e->kind == MEMMAP_SRC_E820)
		return memmap_class_of_e820(e->type);
	return memmap_class_of_efi(e->type);
}
