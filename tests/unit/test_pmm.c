/*
 * Unit tests of the buddy PMM (mm/pmm.c): API, every error code (with the
 * state byte-for-byte unchanged after each), zones, policy, reserve and
 * release, stats, position independence, and the checker finding
 * corruption injected into the metadata.
 *
 * Internal layout the corruption tests rely on (mm/pmm.c theory block):
 * state bytes at offset 1600 (header 1600 bytes, a multiple of 64), one per frame;
 * bitmaps after them at a 64-byte boundary, order 0 level 0 first.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <mmboot/pmm.h>
#include <mmboot/errno.h>
#include "host_env.h"

#define STATE_OFF 1600u
#define ERRORS_OFF 80u                /* struct pmm.errors, alloc_failures: counters that differ after an error */

struct arena {
	void *mem;
	uint64_t size;
	struct pmm *pmm;
};

static struct memmap_range R(uint64_t s, uint64_t e, uint32_t cls)
{
	return (struct memmap_range){ s, e, cls, 0 };
}

static void arena_init(struct arena *a, const struct memmap_range *map, uint32_t n,
                       uint32_t mask)
{
	a->size = pmm_metadata_size(map, n);
	a->mem = aligned_alloc(64, (a->size + 63) & ~63ull);
	assert_non_null(a->mem);
	a->pmm = pmm_init(a->mem, a->size, PADDR_NONE, map, n, mask);
	assert_non_null(a->pmm);
	assert_int_equal(pmm_check(a->pmm, true), 0);
}

static void arena_64m(struct arena *a)
{
	struct memmap_range map[] = { R(0, MiB(64), MEMMAP_USABLE) };
	arena_init(a, map, 1, MEMMAP_CLASS_BIT(MEMMAP_USABLE));
}

static uint8_t *state_of(struct arena *a) { return (uint8_t *)a->mem + STATE_OFF; }

/* The metadata, with the error counter masked out. */
static void *snapshot(struct arena *a)
{
	void *s = malloc(a->size);
	memcpy(s, a->mem, a->size);
	memset((uint8_t *)s + ERRORS_OFF, 0, 8);
	return s;
}

static void assert_unchanged(struct arena *a, void *snap)
{
	void *now = snapshot(a);
	assert_memory_equal(now, snap, a->size);
	free(now);
}

static void test_init_basic(void **st)
{
	(void)st;
	struct arena a;
	arena_64m(&a);
	struct pmm_stats s;
	pmm_get_stats(a.pmm, &s);
	/* 16384 frames; frame 0 a hole, frames 1..255 reserved (low 1 MiB policy) */
	assert_int_equal(s.span_pages, 16384);
	assert_int_equal(s.free_pages, 16384 - 256);
	assert_int_equal(s.reserved_pages, 255);
	assert_int_equal(s.hole_pages, 1);
	assert_int_equal(s.allocated_pages, 0);
	assert_int_equal(s.largest_free_order, 10);
	assert_int_equal(s.free_blocks[10], 15);       /* 4..64 MiB */
	assert_int_equal(s.free_blocks[8], 1);         /* 1..2 MiB */
	assert_int_equal(s.free_blocks[9], 1);         /* 2..4 MiB */
	assert_int_equal(s.metadata_bytes, pmm_metadata_size_span(16384));
	assert_true(s.metadata_bytes <= 2 * s.managed_pages);
	/* the largest possible span fits the documented bound */
	assert_true(pmm_metadata_size_span(1u << 20) <= PMM_METADATA_MAX);
	assert_true(pmm_metadata_size_span(1u << 21) == pmm_metadata_size_span(1u << 20));
	free(a.mem);
}

static void test_alloc_free_every_order(void **st)
{
	(void)st;
	struct arena a;
	arena_64m(&a);
	uint32_t before = pmm_free_pages(a.pmm);
	paddr_t pa[PMM_MAX_ORDER + 1];
	for (unsigned k = 0; k <= PMM_MAX_ORDER; k++) {
		pa[k] = pmm_alloc(a.pmm, k, 0);
		assert_true(pa[k] != PADDR_NONE);
		assert_true(IS_ALIGNED(pa[k], (uint64_t)PAGE_SIZE << k));
		assert_true(pa[k] >= MiB(1) && pa[k] + (PAGE_SIZE << k) <= MiB(64));
	}
	assert_int_equal(pmm_free_pages(a.pmm), before - ((1u << (PMM_MAX_ORDER + 1)) - 1));
	for (unsigned i = 0; i <= PMM_MAX_ORDER; i++)
		for (unsigned j = 0; j < i; j++)   /* blocks disjoint */
			assert_true(pa[i] + (PAGE_SIZE << i) <= pa[j] || pa[j] + (PAGE_SIZE << j) <= pa[i]);
	assert_int_equal(pmm_check(a.pmm, true), 0);
	for (unsigned k = 0; k <= PMM_MAX_ORDER; k++)
		assert_int_equal(pmm_free(a.pmm, pa[k], k), 0);
	assert_int_equal(pmm_free_pages(a.pmm), before);
	assert_int_equal(pmm_check(a.pmm, true), 0);
	free(a.mem);
}

/* Every error code, with the metadata byte-for-byte unchanged after it. */
static void test_errors_leave_state_unchanged(void **st)
{
	(void)st;
	struct arena a;
	arena_64m(&a);
	paddr_t b3 = pmm_alloc(a.pmm, 3, 0), b0 = pmm_alloc(a.pmm, 0, 0);
	paddr_t f0 = pmm_alloc(a.pmm, 0, 0);
	assert_int_equal(pmm_free(a.pmm, f0, 0), 0);            /* f0 now cached-free */
	paddr_t f4 = pmm_alloc(a.pmm, 4, 0);
	assert_int_equal(pmm_free(a.pmm, f4, 4), 0);            /* f4 free in the bitmaps */
	void *snap = snapshot(&a);
	struct { paddr_t pa; unsigned order; int err; } cases[] = {
		{ b3, 11, -MM_EINVAL },
		{ b3 + 12, 3, -MM_EALIGN },                      /* not page aligned */
		{ b3 + PAGE_SIZE, 3, -MM_EALIGN },               /* not aligned to the order */
		{ MiB(64), 0, -MM_ERANGE },
		{ GiB(8), 0, -MM_ERANGE },
		{ b3, 2, -MM_EORDER },
		{ b3, 4, -MM_EALIGN },                           /* b3 may not be 16-page aligned */
		{ b3 + PAGE_SIZE, 0, -MM_ENOTALLOC },            /* tail frame */
		{ f0, 0, -MM_EDOUBLEFREE },                      /* in the order-0 cache */
		{ f4, 4, -MM_EDOUBLEFREE },                      /* in a free buddy block */
		{ f4 + PAGE_SIZE, 0, -MM_EDOUBLEFREE },          /* inside a free block */
		{ 0, 0, -MM_ERESERVED },                         /* frame 0 */
		{ 0x9000, 0, -MM_ERESERVED },                    /* low 1 MiB policy */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		if (cases[i].pa == b3 && cases[i].order == 4 && IS_ALIGNED(b3, (uint64_t)PAGE_SIZE << 4))
			cases[i].err = -MM_EORDER;
		int r = pmm_free(a.pmm, cases[i].pa, cases[i].order);
		if (r != cases[i].err)
			fail_msg("case %u: free(0x%llx, %u) = %s, expected %s", i,
			         (unsigned long long)cases[i].pa, cases[i].order,
			         mm_strerror(r), mm_strerror(cases[i].err));
		assert_unchanged(&a, snap);
	}
	int err = 0;
	assert_true(pmm_alloc_err(a.pmm, 11, 0, &err) == PADDR_NONE);
	assert_int_equal(err, -MM_EINVAL);
	assert_true(pmm_alloc_err(a.pmm, 0, 0x80, &err) == PADDR_NONE);
	assert_int_equal(err, -MM_EINVAL);
	assert_unchanged(&a, snap);
	struct pmm_stats s;
	pmm_get_stats(a.pmm, &s);
	assert_int_equal(s.errors, ARRAY_SIZE(cases) + 2);
	assert_int_equal(pmm_free(a.pmm, b3, 3), 0);
	assert_int_equal(pmm_free(a.pmm, b0, 0), 0);
	assert_int_equal(pmm_check(a.pmm, true), 0);
	free(snap);
	free(a.mem);
}

/* Holes (not RAM) are reserved for free(); ENOMEM leaves the state alone. */
static void test_enomem_and_holes(void **st)
{
	(void)st;
	struct arena a;
	struct memmap_range map[] = {
		R(0, MiB(2), MEMMAP_USABLE), R(MiB(2), MiB(3), MEMMAP_MMIO),
		R(MiB(3), MiB(8), MEMMAP_USABLE),
	};
	arena_init(&a, map, 3, MEMMAP_CLASS_BIT(MEMMAP_USABLE));
	assert_int_equal(pmm_free(a.pmm, MiB(2), 0), -MM_ERESERVED);
	uint32_t n = pmm_free_pages(a.pmm);
	assert_int_equal(n, 256 + 1280);          /* 1..2 MiB and 3..8 MiB */
	/* largest block: 4..8 MiB is order 10 */
	assert_true(pmm_alloc(a.pmm, 10, 0) == MiB(4));
	assert_true(pmm_alloc(a.pmm, 10, 0) == PADDR_NONE);
	int err;
	void *snap = snapshot(&a);
	assert_true(pmm_alloc_err(a.pmm, 9, 0, &err) == PADDR_NONE);
	assert_int_equal(err, -MM_ENOMEM);
	assert_unchanged(&a, snap);
	free(snap);
	/* exhaust: every remaining frame once, then ENOMEM */
	uint32_t got = 0;
	while (pmm_alloc(a.pmm, 0, 0) != PADDR_NONE)
		got++;
	assert_int_equal(got, n - 1024);
	assert_int_equal(pmm_free_pages(a.pmm), 0);
	assert_int_equal(pmm_check(a.pmm, true), 0);
	free(a.mem);
}

static void test_alloc_until_empty_free_all(void **st)
{
	(void)st;
	struct arena a;
	arena_64m(&a);
	uint32_t start = pmm_free_pages(a.pmm);
	paddr_t *pas = malloc(sizeof(paddr_t) * start);
	uint32_t n = 0;
	for (paddr_t pa; (pa = pmm_alloc(a.pmm, n % 3 == 0 ? 1 : 0, 0)) != PADDR_NONE;)
		pas[n++] = pa;
	/* order-1 requests fail first; fill the rest with order 0 */
	for (paddr_t pa; (pa = pmm_alloc(a.pmm, 0, 0)) != PADDR_NONE;)
		pas[n++] = pa | 1;   /* tag: order 0 */
	assert_int_equal(pmm_free_pages(a.pmm), 0);
	assert_int_equal(pmm_check(a.pmm, true), 0);
	for (uint32_t i = 0; i < n; i++) {
		unsigned order = (pas[i] & 1) ? 0 : (i % 3 == 0 ? 1 : 0);
		assert_int_equal(pmm_free(a.pmm, pas[i] & ~(paddr_t)1, order), 0);
	}
	assert_int_equal(pmm_free_pages(a.pmm), start);
	assert_int_equal(pmm_check(a.pmm, true), 0);
	/* fully coalesced again once the cache is drained */
	struct pmm_stats s;
	pmm_set_flags(a.pmm, PMM_F_NOCACHE);
	pmm_get_stats(a.pmm, &s);
	assert_int_equal(s.free_blocks[10], 15);
	free(pas);
	free(a.mem);
}

static void test_zones(void **st)
{
	(void)st;
	struct arena a;
	struct memmap_range map[] = {
		R(0x1000, 0x9f000, MEMMAP_USABLE), R(0x9f000, MiB(1), MEMMAP_RESERVED),
		R(MiB(1), MiB(12), MEMMAP_USABLE), R(MiB(12), MiB(20), MEMMAP_ACPI_NVS),
		R(MiB(20), MiB(256), MEMMAP_USABLE),
	};
	arena_init(&a, map, 5, MEMMAP_CLASS_BIT(MEMMAP_USABLE));
	/* low 1 MiB held back by policy: the 1 MiB zone is empty */
	int err;
	assert_true(pmm_alloc_err(a.pmm, 0, PMM_ZONE_1M, &err) == PADDR_NONE);
	assert_int_equal(err, -MM_ENOMEM);
	/* normal requests stay above 16 MiB while they can */
	paddr_t hi = pmm_alloc(a.pmm, 0, 0);
	assert_true(hi >= MiB(20));
	/* release the low memory: 0x1000..0x9f000 = 158 frames (frame 0 never) */
	assert_int_equal(pmm_release_range(a.pmm, 0, MiB(1)), 158);
	assert_int_equal(pmm_check(a.pmm, true), 0);
	uint32_t low = 0;
	for (paddr_t pa; (pa = pmm_alloc(a.pmm, 0, PMM_ZONE_1M)) != PADDR_NONE; low++) {
		assert_true(pa >= 0x1000 && pa + PAGE_SIZE <= 0x9f000);
	}
	assert_int_equal(low, 158);
	uint32_t mid = 0;
	for (paddr_t pa; (pa = pmm_alloc(a.pmm, 2, PMM_ZONE_16M)) != PADDR_NONE; mid++)
		assert_true(pa >= MiB(1) && pa + 4 * PAGE_SIZE <= MiB(12));
	assert_int_equal(mid, (MiB(11) / PAGE_SIZE) / 4);
	/* both flags: the stricter limit */
	assert_true(pmm_alloc(a.pmm, 0, PMM_ZONE_1M | PMM_ZONE_16M) == PADDR_NONE);
	/* an order-10 block cannot lie below 1 MiB */
	assert_true(pmm_alloc(a.pmm, 10, PMM_ZONE_1M) == PADDR_NONE);
	assert_int_equal(pmm_check(a.pmm, true), 0);
	free(a.mem);
}

static void test_reserve_release(void **st)
{
	(void)st;
	struct arena a;
	struct memmap_range map[] = {
		R(0, MiB(1), MEMMAP_USABLE), R(MiB(1), MiB(5), MEMMAP_LOADER),
		R(MiB(5), MiB(32), MEMMAP_USABLE),
	};
	arena_init(&a, map, 3, MEMMAP_CLASS_BIT(MEMMAP_USABLE));
	uint32_t f0 = pmm_free_pages(a.pmm);
	assert_int_equal(f0, (MiB(27)) / PAGE_SIZE);
	struct pmm_stats s;
	pmm_get_stats(a.pmm, &s);
	assert_int_equal(s.reserved_pages, 255 + 1024);        /* low 1 MiB + loader */
	/* reclaim the loader memory: exactly 1024 frames */
	assert_int_equal(pmm_release_range(a.pmm, MiB(1), MiB(5)), 1024);
	assert_int_equal(pmm_free_pages(a.pmm), f0 + 1024);
	assert_int_equal(pmm_release_range(a.pmm, MiB(1), MiB(2)), -MM_EDOUBLEFREE);
	/* reserve a kernel image range (unaligned to blocks) */
	assert_int_equal(pmm_reserve(a.pmm, MiB(6) + 0x3000, MiB(7) + 0x5000), 256 + 2);
	assert_int_equal(pmm_reserve(a.pmm, MiB(6) + 0x3000, MiB(7) + 0x5000), 0);  /* idempotent */
	assert_int_equal(pmm_free_pages(a.pmm), f0 + 1024 - 258);
	assert_int_equal(pmm_check(a.pmm, true), 0);
	/* reserve over an allocated block: EBUSY, unchanged */
	paddr_t b = pmm_alloc(a.pmm, 0, 0);
	void *snap = snapshot(&a);
	assert_int_equal(pmm_reserve(a.pmm, b - PAGE_SIZE * 4, b + PAGE_SIZE), -MM_EBUSY);
	assert_int_equal(pmm_release_range(a.pmm, b, b + PAGE_SIZE), -MM_EBUSY);
	assert_int_equal(pmm_reserve(a.pmm, b + 1, b + PAGE_SIZE), -MM_EALIGN);
	assert_int_equal(pmm_reserve(a.pmm, b + PAGE_SIZE, b), -MM_EINVAL);
	assert_unchanged(&a, snap);
	free(snap);
	/* releasing what was reserved brings the frames back */
	assert_int_equal(pmm_release_range(a.pmm, MiB(6), MiB(8)), -MM_EDOUBLEFREE); /* the rest is free */
	assert_int_equal(pmm_release_range(a.pmm, MiB(6) + 0x3000, MiB(7) + 0x5000), 258);
	assert_int_equal(pmm_free(a.pmm, b, 0), 0);
	assert_int_equal(pmm_free_pages(a.pmm), f0 + 1024);
	/* frame 0 and holes are never released */
	assert_int_equal(pmm_release_range(a.pmm, 0, PAGE_SIZE), 0);
	assert_int_equal(pmm_release_range(a.pmm, GiB(1), GiB(2)), 0);
	assert_int_equal(pmm_check(a.pmm, true), 0);
	free(a.mem);
}

static void test_stats_above_4g(void **st)
{
	(void)st;
	struct arena a;
	struct memmap_range map[] = {
		R(0, MiB(640) / 1024, MEMMAP_USABLE), R(MiB(1), GiB(3), MEMMAP_USABLE),
		R(GiB(3), GiB(4), MEMMAP_RESERVED), R(GiB(4), GiB(6), MEMMAP_USABLE),
		R(GiB(6), GiB(7), MEMMAP_BOOT_SERVICES),
	};
	arena_init(&a, map, 5, MEMMAP_FREE_MASK);
	struct pmm_stats s;
	pmm_get_stats(a.pmm, &s);
	assert_int_equal(s.span_pages, GiB(3) / PAGE_SIZE);
	assert_int_equal(s.free_pages, (GiB(3) - MiB(1)) / PAGE_SIZE);
	assert_true(s.above_4g_bytes == GiB(3));
	assert_int_equal(s.largest_free_order, 10);
	uint64_t sum = 0;
	for (unsigned k = 0; k <= PMM_MAX_ORDER; k++)
		sum += (uint64_t)s.free_blocks[k] << k;
	assert_int_equal(sum + s.cached_pages, s.free_pages);
	/* never hands out memory at or above 4 GiB */
	for (paddr_t pa; (pa = pmm_alloc(a.pmm, 10, 0)) != PADDR_NONE;)
		assert_true(pa + MiB(4) <= GiB(3));
	assert_true(s.metadata_bytes * 100 / s.managed_pages <= 130);   /* ~1.27 bytes/page */
	free(a.mem);
}

/* The metadata is position independent: copy it elsewhere, adopt, go on. */
static void test_position_independent(void **st)
{
	(void)st;
	struct arena a;
	arena_64m(&a);
	paddr_t x = pmm_alloc(a.pmm, 5, 0);
	void *copy = aligned_alloc(64, (a.size + 63) & ~63ull);
	memcpy(copy, a.mem, a.size);
	struct pmm *q = pmm_adopt(copy, a.size);
	assert_non_null(q);
	assert_int_equal(pmm_check(q, true), 0);
	paddr_t y1 = pmm_alloc(a.pmm, 3, 0), y2 = pmm_alloc(q, 3, 0);
	assert_true(y1 == y2);                    /* same bytes, same decisions */
	assert_int_equal(pmm_free(q, x, 5), 0);
	assert_int_equal(pmm_free(q, x, 5), -MM_EDOUBLEFREE);
	/* adopt refuses what is not a PMM */
	memset(copy, 0, 64);
	assert_null(pmm_adopt(copy, a.size));
	assert_null(pmm_adopt(a.mem, 100));
	free(copy);
	free(a.mem);
}

/* Metadata placed inside the map is never free; the efi sizing bounds it. */
static void test_metadata_in_map(void **st)
{
	(void)st;
	struct memmap_range map[] = { R(0, MiB(128), MEMMAP_USABLE) };
	uint64_t size = pmm_metadata_size(map, 1);
	void *mem = aligned_alloc(64, (size + 63) & ~63ull);
	struct pmm *p = pmm_init(mem, size, MiB(10) + 0x800, map, 1, MEMMAP_CLASS_BIT(MEMMAP_USABLE));
	assert_non_null(p);
	assert_int_equal(pmm_check(p, true), 0);
	uint32_t meta_frames = (uint32_t)((ALIGN_UP(MiB(10) + 0x800 + size, 4096) - MiB(10)) / 4096);
	assert_int_equal(pmm_free_pages(p), MiB(127) / 4096 - meta_frames);
	assert_int_equal(pmm_free(p, MiB(10), 0), -MM_ERESERVED);
	assert_int_equal(pmm_release_range(p, MiB(10), MiB(10) + meta_frames * 4096ull), 0); /* never released */
	assert_true(pmm_metadata_pa(p) == MiB(10) + 0x800);
	assert_int_equal(pmm_metadata_bytes(p), size);
	/* too small, misaligned, bad mask, bad map: NULL */
	assert_null(pmm_init(mem, size - 1, PADDR_NONE, map, 1, 1));
	assert_null(pmm_init((uint8_t *)mem + 4, size, PADDR_NONE, map, 1, 1));
	assert_null(pmm_init(mem, size, PADDR_NONE, map, 1, MEMMAP_CLASS_BIT(MEMMAP_MMIO)));
	struct memmap_range bad[] = { R(MiB(4), MiB(8), 0), R(MiB(6), MiB(9), 0) };
	assert_null(pmm_init(mem, size, PADDR_NONE, bad, 2, 1));
	struct memmap_range odd[] = { R(0x800, MiB(8), 0) };
	assert_null(pmm_init(mem, size, PADDR_NONE, odd, 1, 1));
	free(mem);
	/* raw EFI sizing: same as the sanitized map's, 48-byte descriptors */
	uint8_t raw[3 * 48];
	memset(raw, 0, sizeof(raw));
	struct efi_memdesc d[3] = {
		{ EFI_MT_CONVENTIONAL, 0, 0, 0, MiB(100) / 4096, 0xf },
		{ EFI_MT_BOOT_SERVICES_DATA, 0, MiB(100), 0, MiB(28) / 4096, 0xf },
		{ EFI_MT_MMIO, 0, GiB(3), 0, 1024, 1 },
	};
	for (int i = 0; i < 3; i++)
		memcpy(raw + i * 48, &d[i], sizeof(d[i]));
	assert_int_equal(pmm_metadata_size_efi(raw, 3, 48), size);
}

static void test_report_names_frame(void **st)
{
	(void)st;
	struct arena a;
	arena_64m(&a);
	pmm_set_flags(a.pmm, PMM_F_REPORT);
	host_log_set(HOST_LOG_CAPTURE);
	host_log_clear();
	assert_int_equal(pmm_free(a.pmm, MiB(8), 0), -MM_EDOUBLEFREE);
	host_log_set(HOST_LOG_STDERR);
	assert_non_null(strstr(host_log_buf, "pa=0x800000"));
	assert_non_null(strstr(host_log_buf, "EDOUBLEFREE"));
	assert_non_null(strstr(host_log_buf, "caller 0x"));
	free(a.mem);
}

/* A failed build says why (pmm_init_ex / pmm_build_from_efi_ex). */
static void test_init_says_why(void **st)
{
	struct memmap_range map[] = { R(0, MiB(64), MEMMAP_USABLE) };
	uint32_t mask = MEMMAP_CLASS_BIT(MEMMAP_USABLE);
	uint64_t need = pmm_metadata_size(map, 1);
	uint8_t *mem = aligned_alloc(64, (need + 63) & ~63ull);
	struct pmm_init_err e;
	assert_null(pmm_init_ex(mem, need - 8, PADDR_NONE, map, 1, mask, &e));
	assert_int_equal(e.why, PMM_INIT_MEM_SMALL);
	assert_int_equal(e.code, -MM_ENOMEM);
	assert_int_equal(e.need, need);
	assert_int_equal(e.have, need - 8);
	assert_null(pmm_init_ex(mem + 4, need, PADDR_NONE, map, 1, mask, &e));
	assert_int_equal(e.why, PMM_INIT_ALIGN);
	assert_null(pmm_init_ex(mem, need, PADDR_NONE, map, 1, MEMMAP_CLASS_BIT(MEMMAP_MMIO), &e));
	assert_int_equal(e.why, PMM_INIT_ARGS);
	struct memmap_range bad[] = { R(0, MiB(1), MEMMAP_USABLE), R(MiB(2), MiB(3) + 8, MEMMAP_USABLE) };
	assert_null(pmm_init_ex(mem, need, PADDR_NONE, bad, 2, mask, &e));
	assert_int_equal(e.why, PMM_INIT_MAP);
	assert_int_equal(e.need, 1);                          /* the bad entry's index */
	assert_non_null(pmm_init_ex(mem, need, PADDR_NONE, map, 1, mask, &e));
	assert_int_equal(e.why, PMM_INIT_OK);
	struct efi_memdesc d[2] = { { .type = 7, .phys_start = 0, .num_pages = 16384 },
	                            { .type = 7, .phys_start = MiB(64), .num_pages = 16 } };
	uint64_t ssize = pmm_build_scratch_size(2);
	void *scratch = aligned_alloc(64, (ssize + 63) & ~63ull);
	assert_null(pmm_build_from_efi_ex(mem, need, PADDR_NONE, d, 2, sizeof(d[0]), scratch,
	                                  ssize - 8, mask, &e));
	assert_int_equal(e.why, PMM_INIT_SCRATCH_SMALL);
	assert_int_equal(e.need, ssize);
	assert_null(pmm_build_from_efi_ex(mem, need, PADDR_NONE, d, 2, 8, scratch, ssize, mask, &e));
	assert_int_equal(e.why, PMM_INIT_DESC_SIZE);
	assert_null(pmm_build_from_efi_ex(mem, need, PADDR_NONE, d, 2, sizeof(d[0]), scratch, ssize,
	                                  mask, &e));   /* 64 MiB + 64 KiB needs more metadata */
	assert_int_equal(e.why, PMM_INIT_MEM_SMALL);
	assert_true(e.need > need);
	assert_string_not_equal(pmm_init_why_name(PMM_INIT_MEM_SMALL), "unknown");
	free(scratch);
	free(mem);
	(void)st;
}

/* Out of memory: a value, counted, and with PMM_F_REPORT one line per order
 * per burst naming order, flags and caller; a free starts a new burst. */
static void test_oom_reported_once_per_burst(void **st)
{
	struct arena a;
	arena_64m(&a);
	(void)st;
	pmm_set_flags(a.pmm, PMM_F_REPORT);
	paddr_t blk[16];
	for (unsigned i = 0; i < 15; i++)
		blk[i] = pmm_alloc(a.pmm, 10, 0);
	host_log_set(HOST_LOG_CAPTURE);
	host_log_clear();
	int err = 0;
	assert_int_equal(pmm_alloc_err(a.pmm, 10, 0, &err), PADDR_NONE);
	assert_int_equal(err, -MM_ENOMEM);
	assert_non_null(strstr(host_log_buf, "out of memory: alloc(order=10, flags=0x0) from caller 0x"));
	size_t len = host_log_len;
	assert_int_equal(pmm_alloc(a.pmm, 10, 0), PADDR_NONE);    /* same burst: silent */
	assert_int_equal(pmm_alloc(a.pmm, 10, PMM_ZONE_16M), PADDR_NONE);
	assert_int_equal(host_log_len, len);
	assert_int_equal(pmm_alloc(a.pmm, 9, PMM_ZONE_1M), PADDR_NONE); /* another order: said */
	assert_non_null(strstr(host_log_buf + len, "order=9, flags=0x1"));
	len = host_log_len;
	assert_int_equal(pmm_free(a.pmm, blk[0], 10), 0);          /* memory back: burst over */
	assert_int_not_equal(pmm_alloc(a.pmm, 10, 0), PADDR_NONE);
	assert_int_equal(pmm_alloc(a.pmm, 10, 0), PADDR_NONE);
	assert_true(host_log_len > len);
	host_log_set(HOST_LOG_STDERR);
	struct pmm_stats s;
	pmm_get_stats(a.pmm, &s);
	assert_int_equal(s.alloc_failures, 5);
	assert_int_equal(s.errors, 0);                              /* ENOMEM is not an error */
	assert_int_equal(pmm_check(a.pmm, true), 0);
	free(a.mem);
}

/* Corruption injected into each part of the metadata is found. */
static void test_checker_finds_corruption(void **st)
{
	(void)st;
	struct arena a;
	arena_64m(&a);
	paddr_t x = pmm_alloc(a.pmm, 2, 0);
	uint32_t xf = (uint32_t)(x >> 12);
	uint8_t *fs = state_of(&a);
	uint64_t *bm = (uint64_t *)((uint8_t *)a.mem + ALIGN_UP(STATE_OFF + 16384, 64));
	assert_int_equal(pmm_check(a.pmm, false), 0);
	struct { uint8_t *byte; uint8_t xor; const char *what; } inj[] = {
		{ &fs[xf], 0x01, "head order changed" },
		{ &fs[xf + 1], 0x40, "tail frame made reserved" },
		{ &fs[300], 0x80, "free frame made a head" },
		{ &fs[0], 0x41, "frame 0 made free" },
		{ &fs[5], 0x01, "reserved frame made a hole" },
		{ (uint8_t *)&bm[128], 0x01, "order-0 bit inside a free block" },
		{ (uint8_t *)&bm[0] + 5, 0x10, "reserved frame marked free" },
		{ (uint8_t *)&bm[xf / 64] + (xf % 64) / 8, (uint8_t)(1u << (xf % 8)), "allocated frame marked free" },
		{ (uint8_t *)a.mem, 0xff, "magic" },
		{ (uint8_t *)a.mem + 48, 0x01, "buddy_pages counter" },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(inj); i++) {
		*inj[i].byte ^= inj[i].xor;
		uint32_t n = pmm_check(a.pmm, false);
		*inj[i].byte ^= inj[i].xor;
		if (n == 0)
			fail_msg("checker missed: %s", inj[i].what);
		assert_int_equal(pmm_check(a.pmm, false), 0);
	}
	free(a.mem);
}

/* An order-0 alloc/free cycle through the cache and with the cache off. */
static void test_cache_and_nocache(void **st)
{
	(void)st;
	struct arena a;
	arena_64m(&a);
	uint32_t n0 = pmm_free_pages(a.pmm);
	paddr_t p[200];
	for (int i = 0; i < 200; i++)
		p[i] = pmm_alloc(a.pmm, 0, 0);
	for (int i = 0; i < 200; i++)
		assert_int_equal(pmm_free(a.pmm, p[i], 0), 0);
	struct pmm_stats s;
	pmm_get_stats(a.pmm, &s);
	assert_true(s.cached_pages > 0 && s.cached_pages <= PMM_PCP_CAP);
	assert_int_equal(s.free_pages, n0);
	assert_int_equal(pmm_check(a.pmm, true), 0);
	pmm_set_flags(a.pmm, PMM_F_NOCACHE);
	pmm_get_stats(a.pmm, &s);
	assert_int_equal(s.cached_pages, 0);
	assert_int_equal(s.free_blocks[10], 15);        /* all merged back */
	paddr_t q = pmm_alloc(a.pmm, 0, 0);
	assert_int_equal(pmm_free(a.pmm, q, 0), 0);
	assert_int_equal(pmm_free(a.pmm, q, 0), -MM_EDOUBLEFREE);
	assert_int_equal(pmm_check(a.pmm, true), 0);
	free(a.mem);
}

/* The free-block caches of orders 1..9: a freed block above 16 MiB is
 * parked (counted free, state 0x20|order), refused as a double free (head,
 * head with another order, tail), served to the next request of its order;
 * blocks below 16 MiB go straight back; a request that fits only once the
 * caches are given back still succeeds ("no memory" stays exact); the
 * checker sees a corrupted cached head. */
static void test_order_caches(void **st)
{
	(void)st;
	struct arena a;
	arena_64m(&a);
	uint32_t n0 = pmm_free_pages(a.pmm);
	struct pmm_stats s;
	paddr_t b3 = pmm_alloc(a.pmm, 3, 0);
	assert_true(b3 >= MiB(16));
	assert_int_equal(pmm_free(a.pmm, b3, 3), 0);
	pmm_get_stats(a.pmm, &s);
	assert_int_equal(s.cached_pages, 8);
	assert_int_equal(s.free_pages, n0);
	assert_int_equal(s.allocated_pages, 0);
	assert_int_equal(state_of(&a)[b3 >> 12], 0x23);
	assert_int_equal(pmm_free(a.pmm, b3, 3), -MM_EDOUBLEFREE);
	assert_int_equal(pmm_free(a.pmm, b3, 2), -MM_EDOUBLEFREE);
	assert_int_equal(pmm_free(a.pmm, b3 + 4 * PAGE_SIZE, 2), -MM_EDOUBLEFREE);   /* a tail */
	assert_int_equal(pmm_free(a.pmm, b3 + PAGE_SIZE, 0), -MM_EDOUBLEFREE);
	assert_int_equal(pmm_check(a.pmm, true), 0);
	state_of(&a)[b3 >> 12] ^= 0x01;                         /* cached head's order */
	assert_true(pmm_check(a.pmm, false) > 0);
	state_of(&a)[b3 >> 12] ^= 0x01;
	assert_true(pmm_alloc(a.pmm, 3, 0) == b3);              /* served from the cache */
	assert_int_equal(pmm_free(a.pmm, b3, 3), 0);
	paddr_t z = pmm_alloc(a.pmm, 2, PMM_ZONE_16M);          /* below 16 MiB: not cached */
	assert_true(z < MiB(16));
	assert_int_equal(pmm_free(a.pmm, z, 2), 0);
	pmm_get_stats(a.pmm, &s);
	assert_int_equal(s.cached_pages, 8);
	/* every 2 MiB block out and back: the caches hold some of them unmerged */
	paddr_t b[32];
	unsigned n = 0;
	while ((b[n] = pmm_alloc(a.pmm, 9, 0)) != PADDR_NONE)
		n++;
	assert_int_equal(n, 31);                                /* 2..64 MiB */
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(pmm_free(a.pmm, b[i], 9), 0);
	pmm_get_stats(a.pmm, &s);
	assert_true(s.cached_pages >= 8 * 512);
	assert_int_equal(s.free_pages, n0);
	assert_int_equal(pmm_check(a.pmm, true), 0);
	for (n = 0; pmm_alloc(a.pmm, 10, 0) != PADDR_NONE; n++)
		;
	assert_int_equal(n, 15);                                /* all of 4..64 MiB */
	assert_int_equal(pmm_check(a.pmm, true), 0);
	free(a.mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_basic),
		cmocka_unit_test(test_alloc_free_every_order),
		cmocka_unit_test(test_errors_leave_state_unchanged),
		cmocka_unit_test(test_enomem_and_holes),
		cmocka_unit_test(test_alloc_until_empty_free_all),
		cmocka_unit_test(test_zones),
		cmocka_unit_test(test_reserve_release),
		cmocka_unit_test(test_stats_above_4g),
		cmocka_unit_test(test_position_independent),
		cmocka_unit_test(test_metadata_in_map),
		cmocka_unit_test(test_report_names_frame),
		cmocka_unit_test(test_init_says_why),
		cmocka_unit_test(test_oom_reported_once_per_burst),
		cmocka_unit_test(test_checker_finds_corruption),
		cmocka_unit_test(test_cache_and_nocache),
		cmocka_unit_test(test_order_caches),
	};
	return cmocka_run_group_tests_name("pmm", tests, NULL, NULL);
}
