/*
 * Differential test of the buddy PMM against a trivial model (shared with the
 * fuzzer: tests/host/pmm_model.h): one state per
 * frame (hole, free, allocated, reserved). Millions of random operations
 * (alloc of every order with and without zone flags, free, double free,
 * wrong order, tail frees, reserve, release) are applied to both; after
 * every step the free-page count and the error code must agree with the
 * model. Two runs: a dense one (200k operations) with pmm_check walking the
 * whole state after every step, as the house style asks of every allocator,
 * and a long sparse one (2M operations) that checks every CHECK_EVERY steps
 * to reach deep fill/drain histories in little time.
 *
 * When the PMM says "no memory" the model is searched for an aligned free
 * run of the requested size below the zone limit: a fully coalesced buddy
 * must find one whenever it exists.
 *
 * PMM_DIFF_OPS / PMM_DIFF_DENSE_OPS (env) override the number of operations
 * of the sparse (default 2M) and the dense run (default 200k).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <mmboot/pmm.h>
#include <mmboot/errno.h>
#include "host_env.h"
#include "pmm_model.h"

#define SPAN PMM_MODEL_SPAN           /* frames (32 MiB) */
#define CHECK_EVERY 128u

static struct pmm_model model;        /* live list: up to 4096 blocks */
static struct pmm *pmm;
static uint64_t rng = 0x243F6A8885A308D3ull;
static uint64_t n_alloc, n_nomem, n_free, n_bad, n_range;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define R(s, e, c) { (s), (e), (c), 0 }

static const struct memmap_range map[] = {
	R(0, 0x9f000, MEMMAP_USABLE), R(0x9f000, MiB(1), MEMMAP_RESERVED),
	R(MiB(1), MiB(10), MEMMAP_USABLE), R(MiB(10), MiB(10) + KiB(64), MEMMAP_MMIO),
	R(MiB(10) + KiB(64), MiB(24) + KiB(12), MEMMAP_USABLE),
	R(MiB(24) + KiB(12), MiB(28), MEMMAP_BOOT_SERVICES),
	R(MiB(28), MiB(30), MEMMAP_LOADER),
};
#define MASK (MEMMAP_CLASS_BIT(MEMMAP_USABLE) | MEMMAP_CLASS_BIT(MEMMAP_BOOT_SERVICES))

static void op_alloc(void)
{
	unsigned order = (unsigned)(rnd() % 100 < 60 ? 0 : rnd() % (PMM_MAX_ORDER + 1));
	uint64_t r = rnd() % 100;
	unsigned flags = r < 10 ? PMM_ZONE_16M : (r < 12 ? PMM_ZONE_1M : 0);
	paddr_t pa = pmm_alloc(pmm, order, flags);
	n_alloc++;
	if (pa == PADDR_NONE) {
		n_nomem++;
		if (pmm_model_has_run(&model, order, pmm_model_zone_limit(flags)))
			fail_msg("alloc(order %u, flags %u) failed but the model has a free run", order, flags);
		return;
	}
	uint32_t pfn = (uint32_t)(pa >> 12), len = 1u << order;
	if (pa & ((4096ull << order) - 1) || pfn + len > pmm_model_zone_limit(flags))
		fail_msg("alloc(order %u, flags %u) = 0x%llx misaligned or outside the zone", order,
		         flags, (unsigned long long)pa);
	uint32_t bad = pmm_model_take(&model, pfn, order);
	if (bad != UINT32_MAX)
		fail_msg("alloc gave frame 0x%x in model state %d", bad, model.frame[bad]);
	if (!pmm_model_push_live(&model, pfn, order)) {
		assert_int_equal(pmm_free(pmm, pa, order), 0);
		pmm_model_give(&model, pfn, order);
	}
}

static void op_free(void)
{
	if (!model.n_live)
		return;
	uint32_t i = (uint32_t)(rnd() % model.n_live);
	uint32_t pfn = model.live[i].pfn;
	int r = pmm_free(pmm, (paddr_t)pfn << 12, model.live[i].order);
	n_free++;
	if (r != 0)
		fail_msg("free(0x%x, %u) = %s", pfn, model.live[i].order, mm_strerror(r));
	pmm_model_drop_live(&model, i);
}

static void op_bad_free(void)
{
	uint32_t pfn;
	unsigned order = (unsigned)(rnd() % 4);
	uint64_t r = rnd() % 3;
	if (r == 0 && model.n_live) {              /* a live block, wrong order or tail */
		uint32_t i = (uint32_t)(rnd() % model.n_live);
		pfn = model.live[i].pfn + (model.live[i].order && rnd() % 2 ? 1u : 0u);
	} else {
		pfn = (uint32_t)(rnd() % (SPAN + 64));
	}
	int want = pmm_model_free_error(&model, pfn, order);
	if (want == 0)
		return;                                /* happened to be a correct free: skip */
	uint32_t before = pmm_free_pages(pmm);
	int got = pmm_free(pmm, (paddr_t)pfn << 12, order);
	n_bad++;
	if (got != want)
		fail_msg("free(0x%x, %u) = %s, model says %s", pfn, order, mm_strerror(got),
		         mm_strerror(want));
	assert_int_equal(pmm_free_pages(pmm), before);
}

static void op_range(bool release)
{
	uint32_t s = (uint32_t)(rnd() % SPAN), e = s + (uint32_t)(rnd() % 64);
	if (e > SPAN)
		e = SPAN;
	uint32_t count;
	int want = pmm_model_range_want(&model, s, e, release, &count);
	n_range++;
	int got = release ? pmm_release_range(pmm, (paddr_t)s << 12, (paddr_t)e << 12)
	                  : pmm_reserve(pmm, (paddr_t)s << 12, (paddr_t)e << 12);
	if (want && got != want)
		fail_msg("%s [0x%x,0x%x) = %d, model says %d", release ? "release" : "reserve",
		         s, e, got, want);
	if (want)
		return;
	if (got != (int)count)
		fail_msg("%s [0x%x,0x%x) = %d frames, model says %u", release ? "release" : "reserve",
		         s, e, got, count);
	pmm_model_range_apply(&model, s, e, release);
}

static void step(uint64_t i)
{
	/* phases: fill for 40k steps, drain for 40k */
	bool filling = (i / 40000) % 2 == 0;
	uint64_t r = rnd() % 1000;
	if (r < 5)
		op_range(false);
	else if (r < 12)
		op_range(true);
	else if (r < 40)
		op_bad_free();
	else if (r < (filling ? 700u : 380u))
		op_alloc();
	else
		op_free();
	if (pmm_free_pages(pmm) != model.free)
		fail_msg("step %llu: free pages %u, model %u", (unsigned long long)i,
		         pmm_free_pages(pmm), model.free);
}

/* ops random steps (env overrides), pmm_check after every check_every-th */
static void run(const char *env_name, uint64_t dflt, uint64_t check_every, uint64_t seed)
{
	rng = seed;
	n_alloc = n_nomem = n_free = n_bad = n_range = 0;
	struct memmap_range m[ARRAY_SIZE(map)];
	memcpy(m, map, sizeof(m));
	uint64_t size = pmm_metadata_size(m, ARRAY_SIZE(m));
	void *mem = aligned_alloc(64, (size + 63) & ~63ull);
	pmm = pmm_init(mem, size, PADDR_NONE, m, ARRAY_SIZE(m), MASK);
	assert_non_null(pmm);
	pmm_model_init(&model, map, ARRAY_SIZE(map), MASK);
	assert_int_equal(pmm_free_pages(pmm), model.free);
	const char *env = getenv(env_name);
	uint64_t ops = env ? strtoull(env, NULL, 0) : dflt;
	for (uint64_t i = 0; i < ops; i++) {
		step(i);
		if (i % check_every == 0 && pmm_check(pmm, true) != 0)
			fail_msg("pmm_check failed after step %llu", (unsigned long long)i);
	}
	assert_int_equal(pmm_check(pmm, true), 0);
	/* drain: everything back, count returns to the model's */
	while (model.n_live)
		op_free();
	assert_int_equal(pmm_free_pages(pmm), model.free);
	assert_int_equal(pmm_check(pmm, true), 0);
	printf("# %llu operations, check every %llu: %llu allocs (%llu out of memory), %llu frees, %llu bad frees, "
	       "%llu range ops; final free %u pages\n", (unsigned long long)ops,
	       (unsigned long long)check_every,
	       (unsigned long long)n_alloc, (unsigned long long)n_nomem, (unsigned long long)n_free,
	       (unsigned long long)n_bad, (unsigned long long)n_range, model.free);
	free(mem);
}

static void test_dense(void **st)
{
	(void)st;
	run("PMM_DIFF_DENSE_OPS", 200000, 1, 0x13198A2E03707344ull);
}

static void test_sparse(void **st)
{
	(void)st;
	run("PMM_DIFF_OPS", 2000000, CHECK_EVERY, 0x243F6A8885A308D3ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dense),
		cmocka_unit_test(test_sparse),
	};
	return cmocka_run_group_tests_name("pmm_diff", tests, NULL, NULL);
}
