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
 *                    -- with the variant the kernel picks for this CPU, then
 *                    with each zeroing variant forced, and with no zeroing
 *                    at all (the rest of the path: lookup, PMM, PTE write)
 *   zeroing          GB/s over a 64 MiB buffer of pre-faulted, cache-cold
 *                    pages, and over one hot (cached) page: each variant of
 *                    arch/x86/paging32.c's pg_zero (the kernel's own asm:
 *                    rep stosl, movnti, rep stosb, movntdq) and memset; each
 *                    variant's output is checked to be zero (not timed)
 *
 * Every figure is the median of REPEATS runs. Nothing is asserted about
 * times. `bench_region zero` runs only the zeroing and commit parts.
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
#define EVICT_BYTES MiB(64)    /* written to push earlier data out of the caches */

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

static uint8_t *evict_buf(void)
{
	static uint8_t *evict;
	if (!evict && !(evict = aligned_alloc(PAGE_SIZE, EVICT_BYTES)))
		die("alloc");
	return evict;
}

/* ns per page of the lazy (fault) or explicit commit of a 16 MiB region,
 * zeroing with variant zmode (-1: the kernel's pick, modes: none). The
 * window pages were poisoned by the previous run's destroy, so they are
 * still cached (like a frame freed and reused soon); cold: the caches are
 * flushed (64 MiB written, not timed) before each run. */
static double bench_commit(bool lazy, int zmode, bool cold)
{
	enum { PAGES = 4096 };
	mmu_sim_set_zero_mode(zmode);
	if (mmu_sim_setup((uint32_t)MiB(64), 16))
		die("setup");
	make_live(1000, 8);
	double t[REPEATS + 1];
	for (int k = 0; k < REPEATS + 1; k++) {          /* run 0 warms the host window */
		struct region *r = region_create(PAGES * PAGE_SIZE, REGION_WRITE, "commit");
		if (!r)
			die("create");
		vaddr_t b = region_base(r);
		if (cold)
			memset(evict_buf(), k, EVICT_BYTES);
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
	mmu_sim_set_zero_mode(-1);
	return median(t + 1, REPEATS);
}

static void check_zero(const uint8_t *p, size_t n, int mode)
{
	for (size_t i = 0; i < n; i++)
		if (p[i]) {
			fprintf(stderr, "bench_region: %s left byte %zu = 0x%02x\n",
			        mode < 0 ? "memset" : mmu_sim_zero_name((unsigned)mode), i, p[i]);
			exit(1);
		}
}

/* GB/s zeroing 4 KiB pages of a cold 64 MiB buffer (or one hot page) with
 * variant mode (-1: memset) */
static double bench_zero(int mode, bool hot)
{
	const size_t bytes = MiB(64);
	static uint8_t *buf;
	uint8_t *evict = evict_buf();
	if (!buf && !(buf = aligned_alloc(PAGE_SIZE, bytes)))
		die("alloc");
	double t[REPEATS];
	size_t pages = hot ? 16384 : bytes / PAGE_SIZE;
	for (int k = 0; k < REPEATS; k++) {
		memset(buf, 0x5a, hot ? PAGE_SIZE : bytes); /* pre-fault, non-zero */
		memset(evict, k, bytes);                   /* push buf out of the caches */
		if (hot)
			memset(buf, 0x5a, PAGE_SIZE);          /* ... except the hot page */
		double t0 = now_ns();
		for (size_t p = 0; p < pages; p++) {
			uint8_t *d = buf + (hot ? 0 : p * PAGE_SIZE);
			if (mode >= 0)
				mmu_sim_zero((unsigned)mode, d, PAGE_SIZE);
			else
				memset(d, 0, PAGE_SIZE);
			__asm__ volatile("" : : "r"(d) : "memory");
		}
		t[k] = (double)(pages * PAGE_SIZE) / (now_ns() - t0);   /* bytes/ns = GB/s */
	}
	check_zero(buf, hot ? PAGE_SIZE : bytes, mode);
	return median(t, REPEATS);
}

static void zero_table(void)
{
	unsigned modes = mmu_sim_zero_modes();
	double ms_cold = bench_zero(-1, false), ms_hot = bench_zero(-1, true);
	printf("%-30s %12s %12s %10s %12s\n", "zeroing 4 KiB pages", "cold GB/s", "vs memset",
	       "hot GB/s", "vs memset");
	for (unsigned m = 0; m < modes; m++) {
		double c = bench_zero((int)m, false), h = bench_zero((int)m, true);
		printf("%-30s %12.2f %11.2fx %10.2f %11.2fx%s\n", mmu_sim_zero_name(m), c, c / ms_cold,
		       h, h / ms_hot, (int)m == mmu_sim_zero_mode() ? "  <- arch_zero_page" : "");
	}
	printf("%-30s %12.2f %11.2fx %10.2f %11.2fx\n", "memset", ms_cold, 1.0, ms_hot, 1.0);
	printf("(target: arch_zero_page >= 16 GB/s on cold pages)\n");
}

static void commit_table(void)
{
	unsigned modes = mmu_sim_zero_modes();
	double lazy = bench_commit(true, -1, false), expl = bench_commit(false, -1, false);
	double lazy_cold = bench_commit(true, -1, true);
	printf("%-46s %9.1f ns %10s\n", "lazy commit per page (fault path, 16 MiB)", lazy, "<= 300 ns");
	printf("%-46s %9.1f ns %10s\n", "  same, caches flushed before each run", lazy_cold, "<= 300 ns");
	printf("%-46s %9.1f ns %10s\n", "explicit region_commit per page (16 MiB)", expl, "");
	printf("%-36s %14s %14s\n", "lazy commit per page, zeroing with", "cached frames", "cold frames");
	for (unsigned m = 0; m <= modes; m++)
		printf("  %-34s %11.1f ns %11.1f ns%s\n", mmu_sim_zero_name(m), bench_commit(true, (int)m, false),
		       bench_commit(true, (int)m, true), (int)m == mmu_sim_zero_mode() ? "  <- arch_zero_page" : "");
}

int main(int argc, char **argv)
{
	host_log_set(HOST_LOG_QUIET);
	bool zero_only = argc > 1 && !strcmp(argv[1], "zero");
	printf("region VMM benchmark (host, simulated MMU; median of %d runs)\n", REPEATS);
	if (!zero_only) {
		double p0 = bench_pairs(0), p10k = bench_pairs(10000), p100k = bench_pairs(100000);
		printf("%-46s %12s %10s\n", "measure", "value", "target");
		printf("%-46s %9.1f ns %10s\n", "create+destroy pair, 0 live regions", p0, "");
		printf("%-46s %9.1f ns %10s\n", "create+destroy pair, 10,000 live regions", p10k, "<= 100 ns");
		printf("%-46s %9.1f ns %10s\n", "create+destroy pair, 100,000 live regions", p100k, "");
		printf("%-46s %9.2f x %11s\n", "  ratio 100,000 live / 0 live", p100k / p0, "");
	}
	commit_table();
	zero_table();
	return 0;
}
