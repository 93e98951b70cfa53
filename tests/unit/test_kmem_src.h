/*
 * Host page source for the slab heap's tests, fuzzer and benchmarks: an
 * mmap'ed arena standing for the heap region, with a commit budget (to run
 * the heap out of memory on purpose) and a per-page committed bitmap that
 * turns any double commit or decommit by the heap into an error. With
 * `protect`, uncommitted pages are PROT_NONE so a touch of a page the heap
 * gave back faults, like a decommitted region page in the kernel. Freshly
 * committed pages are filled with junk (contents are undefined).
 */
#ifndef MMBOOT_TEST_KMEM_SRC_H
#define MMBOOT_TEST_KMEM_SRC_H

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <mmboot/errno.h>
#include <mmboot/kmem.h>

struct host_ps {
	struct kmem_page_source ps;   /* what kmem_init takes */
	uint32_t budget;              /* most pages committed at once */
	uint32_t committed;           /* pages committed now */
	uint32_t commits;             /* commit calls so far */
	uint32_t errors;              /* double commits / decommits seen */
	int protect;                  /* PROT_NONE on uncommitted pages */
	int junk;                     /* fill committed pages with junk */
	uint8_t *map;                 /* 1 byte per page: committed */
};

static int host_ps_commit(struct kmem_page_source *ps, uint32_t first, uint32_t n)
{
	struct host_ps *h = ps->priv;
	if (first + n > ps->npages || first + n < first)
		return h->errors++, -MM_ERANGE;
	if (h->committed + n > h->budget)
		return -MM_ENOMEM;
	for (uint32_t i = first; i < first + n; i++)
		if (h->map[i])
			return h->errors++, -MM_EEXIST;
	char *p = (char *)ps->base + ((size_t)first << 12);
	if (h->protect && mprotect(p, (size_t)n << 12, PROT_READ | PROT_WRITE) != 0)
		return -MM_ENOMEM;
	if (h->junk)
		memset(p, 0xa5, (size_t)n << 12);
	memset(h->map + first, 1, n);
	h->committed += n;
	h->commits++;
	return 0;
}

static int host_ps_decommit(struct kmem_page_source *ps, uint32_t first, uint32_t n)
{
	struct host_ps *h = ps->priv;
	if (first + n > ps->npages || first + n < first)
		return h->errors++, -MM_ERANGE;
	for (uint32_t i = first; i < first + n; i++)
		if (!h->map[i])
			return h->errors++, -MM_ENOENT;
	char *p = (char *)ps->base + ((size_t)first << 12);
	madvise(p, (size_t)n << 12, MADV_DONTNEED);
	if (h->protect)
		mprotect(p, (size_t)n << 12, PROT_NONE);
	memset(h->map + first, 0, n);
	h->committed -= n;
	return 0;
}

/* Reserve npages (not committed). 0 or -1. */
static inline int host_ps_init(struct host_ps *h, uint32_t npages, uint32_t budget, int protect)
{
	memset(h, 0, sizeof(*h));
	void *base = mmap(NULL, (size_t)npages << 12, protect ? PROT_NONE : PROT_READ | PROT_WRITE,
	                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -1;
	h->map = calloc(npages, 1);
	if (!h->map) {
		munmap(base, (size_t)npages << 12);
		return -1;
	}
	h->ps.base = base;
	h->ps.npages = npages;
	h->ps.commit = host_ps_commit;
	h->ps.decommit = host_ps_decommit;
	h->ps.priv = h;
	h->budget = budget;
	h->protect = protect;
	h->junk = 1;
	return 0;
}

static inline void host_ps_fini(struct host_ps *h)
{
	munmap(h->ps.base, (size_t)h->ps.npages << 12);
	free(h->map);
	memset(h, 0, sizeof(*h));
}

#endif
