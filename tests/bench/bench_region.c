/*
 * Region VMM benchmark (host, -O2, no sanitizers), over the simulated MMU.
 *
 *   create+destroy   one region_create + region_destroy pair (1..8 pages)
 *                    with L live regions around it (L = 0, 10,000, 100,000;
 *                    the live set is fragmented: every other one destroyed;
 *                    live regions of 1..8 pages, 1 page for 100,000)
 *   lazy commit      per page: mmu_sim_touch -> region_fault -> tree lookup,
 *                    pmm_alloc, arch_map (paging32.c PTE write, page table
 *                    from the PMM every 1024 pages), arch_zero_page (NT)
 *   explicit commit  per page: region_commit of the whole range
 *   zeroing          GB/s over a 64 MiB buffer of pre-faulted, cache-cold
 *                    pages: SSE2 non-temporal stores vs memset; and a hot
 *                    (cached) page for reference
 *
 * Every figure is the median of REPEATS runs. Nothing is asserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mmboot/region.h>
#include <mmboot/paging.h>
#include <mmboot/pmm.h>
#include "host_env.h"
#include "mmu_sim.h"

#define REPEATS 7

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);   /* CPU time: the machine is shared */
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return v[n / 2];
}

static uint32_t rnd_state = 2463534242u;
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_region: %s failed\n", what);
	exit(1);
}

/* live regions, fragmented: create 2*live, destroy every other one */
static void make_live(uint32_t live, uint32_t max_pages)
{
	struct region **tmp = malloc(sizeof(*tmp) * (2 * live + 1));
	for (uint32_t i = 0; i < 2 * live; i++)
		if (!(tmp[i] = region_create((rnd() % max_pages + 1) * PAGE_SIZE, REGION_WRITE, "live")))
			die("create live");
	for (uint32_t i = 0; i < 2 * live; i += 2)
		region_destroy(tmp[i]);
	free(tmp);
}

static double bench_pairs(uint32_t live)
{
	if (mmu_sim_setup((uint32_t)MiB(256), 16))
		die("setup");
	make_live(live, live > 10000 ? 1 : 8);    /* 100,000 x 2 x 8 pages would not fit 1 GiB */
	enum { PAIRS = 100000 };
	uint32_t sizes[64];
	for (int i = 0; i < 64; i++)
		sizes[i] = (rnd() % 8 + 1) * PAGE_SIZE;
	double t[REPEATS];
	for (int k = 0; k < REPEATS; k++) {
		double t0 = now_ns();
		for (int i = 0; i < PAIRS; i++) {
			struct region *r = region_create(sizes[i & 63], REGION_WRITE, "pair");
			if (!r)
				die("create");
			region_destroy(r);
		}
		t[k] = (now_ns() - t0) / PAIRS;
	}
	if (region_check(false))
		die("region_check");
	return median(t, REPEATS);
}

/* ns per page of the lazy (fault) or explicit commit of a 16 MiB region */
static double bench_commit(bool lazy)
{
	enum { PAGES = 4096 };
	if (mmu_sim_setup((uint32_t)MiB(64), 16))
		die("setup");
	make_live(1000, 8);
	double t[REPEATS + 1];
	for (int k = 0; k < REPEATS + 1; k++) {          /* run 0 warms the host window */
		struct region *r = region_create(PAGES * PAGE_SIZE, REGION_WRITE, "commit");
		if (!r)
			die("create");
		vaddr_t b = region_base(r);
		double t0 = now_ns();
		if (lazy) {
			for (uint32_t p = 0; p < PAGES; p++)
				if (mmu_sim_touch(b + p * PAGE_SIZE, true))
					die("touch");
		} else if (region_commit(r, b, PAGES)) {
			die("commit");
		}
		t[k] = (now_ns() - t0) / PAGES;
		region_destroy(r);
	}
	return median(t + 1, REPEATS);
}

/* GB/s zeroing 4 KiB pages of a cold 64 MiB buffer (or one hot page) */
static double bench_zero(bool nt, bool hot)
{
	const size_t bytes = MiB(64);
	static uint8_t *buf, *evict;
	if (!buf) {
		buf = aligned_alloc(PAGE_SIZE, bytes);
		evict = aligned_alloc(PAGE_SIZE, bytes);
		if (!buf || !evict)
			die("alloc");
		memset(buf, 1, bytes);                     /* pre-fault */
		memset(evict, 1, bytes);
	}
	double t[REPEATS];
	for (int k = 0; k < REPEATS; k++) {
		memset(evict, k, bytes);                   /* push buf out of the caches */
		size_t pages = hot ? 16384 : bytes / PAGE_SIZE;
		double t0 = now_ns();
		for (size_t p = 0; p < pages; p++) {
			uint8_t *d = buf + (hot ? 0 : p * PAGE_SIZE);
			if (nt)
				mmu_sim_zero_nt(d, PAGE_SIZE);
			else
				memset(d, 0, PAGE_SIZE);
			__asm__ volatile("" : : "r"(d) : "memory");
		}
		t[k] = (double)(pages * PAGE_SIZE) / (now_ns() - t0);   /* bytes/ns = GB/s */
	}
	return median(t, REPEATS);
}

int main(void)
{
	host_log_set(HOST_LOG_QUIET);
	double p0 = bench_pairs(0), p10k = bench_pairs(10000), p100k = bench_pairs(100000);
	double lazy = bench_commit(true), expl = bench_commit(false);
	double znt = bench_zero(true, false), zms = bench_zero(false, false);
	double zhot_nt = bench_zero(true, true), zhot_ms = bench_zero(false, true);

	printf("region VMM benchmark (host, simulated MMU; median of %d runs)\n", REPEATS);
	printf("%-46s %12s %10s\n", "measure", "value", "target");
	printf("%-46s %9.1f ns %10s\n", "create+destroy pair, 0 live regions", p0, "");
	printf("%-46s %9.1f ns %10s\n", "create+destroy pair, 10,000 live regions", p10k, "<= 100 ns");
	printf("%-46s %9.1f ns %10s\n", "create+destroy pair, 100,000 live regions", p100k, "");
	printf("%-46s %9.2f x %11s\n", "  ratio 100,000 live / 0 live", p100k / p0, "");
	printf("%-46s %9.1f ns %10s\n", "lazy commit per page (fault path, 16 MiB)", lazy, "<= 300 ns");
	printf("%-46s %9.1f ns %10s\n", "explicit region_commit per page (16 MiB)", expl, "");
	printf("%-46s %9.2f GB/s %8s\n", "zero cold pages, non-temporal (arch_zero_page)", znt, ">= 16");
	printf("%-46s %9.2f GB/s %8s\n", "zero cold pages, memset", zms, "");
	printf("%-46s %9.2f x %11s\n", "  ratio non-temporal / memset (cold)", znt / zms, "");
	printf("%-46s %9.2f GB/s %8s\n", "zero one hot page, non-temporal", zhot_nt, "");
	printf("%-46s %9.2f GB/s %8s\n", "zero one hot page, memset", zhot_ms, "");
	printf("%-46s %9.1f ns %10s\n", "  zeroing share of a lazy commit (4 KiB / NT)", PAGE_SIZE / znt, "");
	return 0;
}
