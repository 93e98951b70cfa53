/*
 * heap_init.c: the kernel stage's slab heap (mm/kmem*.c) at start-up.
 *
 * The heap takes one region of HEAP_VA_BYTES of kernel virtual space
 * ("heap", guard pages on both sides, no lazy commit), nothing committed up
 * front: slabs, large blocks and the heap's page descriptors are committed
 * from the PMM through the region layer as they are needed and given back
 * when freed; a later touch of a page given back faults (use after free).
 * Free-list secrets are seeded from the TSC. Debug checks (red zones,
 * poison, owner tracking) are on for every cache when the kernel is built
 * with `make KMEM_DEBUG=1` (MMBOOT_KMEM_DEBUG); caches can also ask for them
 * one by one (KMEM_DEBUG), as the in-kernel tests do.
 *
 * Call after vm_init (the region layer must be up); before any kmalloc.
 */
#include "kernel.h"
#include "../arch/x86/cpu.h"
#include <mmboot/errno.h>
#include <mmboot/kmem.h>
#include <mmboot/region.h>

#ifndef MMBOOT_KMEM_DEBUG
#define MMBOOT_KMEM_DEBUG 0
#endif

#define HEAP_VA_BYTES (128u << 20)   /* reserved va; committed lazily */

static struct kmem_region_source heap_src;
static bool heap_up;

bool heap_ready(void)
{
	return heap_up;
}

int heap_init(void)
{
	int err = kmem_region_source_init(&heap_src, HEAP_VA_BYTES);
	if (!err)
		err = kmem_init(&heap_src.ps, MMBOOT_KMEM_DEBUG ? KMEM_INIT_DEBUG : 0, rdtsc());
	if (err) {
		mm_printf("heap: cannot set up the slab heap: %s\n", mm_strerror(err));
		return err;
	}
	mm_printf("heap: region '%s' %08x-%08x (%u MiB of va, committed on demand, freed pages"
	          " fault), debug %s\n", KMEM_REGION_NAME, heap_src.va, heap_src.va + HEAP_VA_BYTES,
	          HEAP_VA_BYTES >> 20, MMBOOT_KMEM_DEBUG ? "on for every cache" : "per cache");
	kmem_print_caches();
	uint32_t bad = kmem_check(true);
	if (bad) {
		mm_printf("heap: kmem_check found %u inconsistencies\n", bad);
		return -MM_ECORRUPT;
	}
	region_set_reclaim(kmem_reap);   /* a lazy commit out of frames reaps the slab reserve first */
	heap_up = true;
	return 0;
}
