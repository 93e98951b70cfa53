/*
 * Benchmark of the buddy PMM (mm/pmm.c) against a simple first-fit bitmap
 * allocator (one bit per frame, a "lowest possibly free" hint, word-at-a-time
 * skipping of full words), in the same run, on the same operation
 * sequences. Built -O2 for the host and with -m32.
 *
 * Figures (each the median of REPS runs):
 *   1. order-0 alloc+free pair, pristine arena (1 GiB)
 *   2. the same on a fragmented arena (every other page of the low half
 *      allocated, the high half allocated)
 *   3. random mixed orders (1..64 pages) churn over 1 GiB, ns per operation
 *   4. init from a 4 GiB map, microseconds per GiB
 *   5. flat cost: figures 1 (buddy path) and 3 on 256 MiB vs 4 GiB
 * The PMM's free-block caches serve most figure 1-3 operations; "buddy
 * path" and "no caches" rows switch them off (PMM_F_NOCACHE) to show the
 * bitmap hierarchy's own cost. Default rows take the PMM's lock (host: an
 * inline re-entry check, include/mmboot/mm_lock_host.h). The churn's random
 * numbers are drawn before the clock starts. The -m32 build is compiled
 * like the kernel stage: no PIC/PIE (mk/area-pmm.mk).
 * Times are CPU time of the thread (CLOCK_THREAD_CPUTIME_ID), so that the
 * other work on a shared machine does not inflate them; printed, never
 * asserted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mmboot/pmm.h>
#include <mmboot/memmap.h>

#define REPS 11
#define PAIRS 1000000u
#define CHURN_OPS 1000000u
#define LIVE 8192u

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);   /* CPU time: other load on the machine does not count */
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_d);
	return v[n / 2];
}

/* The churn's random numbers are drawn before the clock starts (the same
 * sequence for every run and every allocator): the timed loop reads one
 * word per operation instead of running the generator. */
static uint32_t churn_rnd[CHURN_OPS];

static void churn_rnd_fill(uint64_t seed)
{
	uint64_t rng = seed;
	for (uint32_t i = 0; i < CHURN_OPS; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		churn_rnd[i] = (uint32_t)(rng >> 11);
	}
}

/* ---- baseline: first-fit bitmap ------------------------------------------ */

struct ff {                           /* first-fit bitmap allocator */
	uint64_t *bits;                   /* bit set = frame in use */
	uint32_t frames;                  /* frames covered */
	uint32_t hint;                    /* no free frame below this */
};

static void ff_init(struct ff *f, uint32_t frames)
{
	f->frames = frames;
	f->bits = calloc(frames / 64 + 1, 8);
	for (uint32_t i = 0; i < 4; i++)   /* low 256 frames kept back like the PMM */
		f->bits[i] = ~0ull;
	f->hint = 256;
}

static inline bool ff_test(const struct ff *f, uint32_t i) { return (f->bits[i / 64] >> (i % 64)) & 1; }

static uint32_t ff_alloc(struct ff *f, uint32_t n)
{
	uint32_t i = f->hint, run = 0, start = 0;
	while (i < f->frames) {
		if (run == 0 && (i % 64) == 0 && f->bits[i / 64] == ~0ull) {
			i += 64;
			continue;
		}
		if (ff_test(f, i)) {
			run = 0;
		} else {
			if (run++ == 0)
				start = i;
			if (run == n) {
				for (uint32_t k = start; k < start + n; k++)
					f->bits[k / 64] |= 1ull << (k % 64);
				if (start == f->hint)
					f->hint = start + n;
				return start;
			}
		}
		i++;
	}
	return UINT32_MAX;
}

static void ff_free(struct ff *f, uint32_t start, uint32_t n)
{
	for (uint32_t k = start; k < start + n; k++)
		f->bits[k / 64] &= ~(1ull << (k % 64));
	if (start < f->hint)
		f->hint = start;
}

/* ---- arenas ------------------------------------------------------------------ */

static struct pmm *make_pmm(uint64_t bytes, void **mem)
{
	struct memmap_range map[] = {
		{ 0, 0x9f000, MEMMAP_USABLE, 0 },
		{ 0x9f000, 0x100000, MEMMAP_RESERVED, 0 },
		{ 0x100000, bytes, MEMMAP_USABLE, 0 },
	};
	uint64_t size = pmm_metadata_size(map, 3);
	*mem = aligned_alloc(64, (size + 63) & ~63ull);
	return pmm_init(*mem, size, PADDR_NONE, map, 3, MEMMAP_CLASS_BIT(MEMMAP_USABLE));
}

enum ff_kind { FF_PAIR, FF_FRAG, FF_CHURN };

/* ---- 1/2: order-0 pairs ------------------------------------------------------ */

static double pmm_pairs(struct pmm *p)
{
	double t0 = now_ns();
	for (uint32_t i = 0; i < PAIRS; i++) {
		paddr_t pa = pmm_alloc(p, 0, 0);
		pmm_free(p, pa, 0);
	}
	return (now_ns() - t0) / PAIRS;
}

static double ff_pairs(struct ff *f)
{
	double t0 = now_ns();
	for (uint32_t i = 0; i < PAIRS; i++) {
		uint32_t x = ff_alloc(f, 1);
		ff_free(f, x, 1);
	}
	return (now_ns() - t0) / PAIRS;
}

/* Every other page of the low half allocated (even frames), the rest free:
 * allocate everything, then free the high half and the odd low frames. */
static void fragment_pmm(struct pmm *p, uint32_t frames)
{
	pmm_set_flags(p, PMM_F_NOCACHE);
	while (pmm_alloc(p, 0, 0) != PADDR_NONE)
		;
	for (uint32_t f = 256; f < frames; f++)
		if (f >= frames / 2 || (f & 1))
			pmm_free(p, (paddr_t)f << 12, 0);
	pmm_set_flags(p, 0);
}

static void fragment_ff(struct ff *f)
{
	for (uint32_t i = 256; i < f->frames / 2; i += 2)
		f->bits[i / 64] |= 1ull << (i % 64);
	f->hint = 256;
}

/* ---- 3: churn ----------------------------------------------------------------- */

static struct { uint32_t pfn, order; } live[LIVE];

static double pmm_churn(struct pmm *p)
{
	uint32_t n = 0;
	double t0 = now_ns();
	for (uint32_t i = 0; i < CHURN_OPS; i++) {
		uint32_t r = churn_rnd[i];
		if (n == LIVE || (n && (r & 1))) {
			uint32_t k = (uint32_t)(((uint64_t)(r >> 1) * n) >> 31);   /* [0, n) without a division */
			pmm_free(p, (paddr_t)live[k].pfn << 12, live[k].order);
			live[k] = live[--n];
		} else {
			uint32_t order = (r >> 1) % 7;
			paddr_t pa = pmm_alloc(p, order, 0);
			if (pa != PADDR_NONE) {
				live[n].pfn = (uint32_t)(pa >> 12);
				live[n++].order = order;
			}
		}
	}
	double t = (now_ns() - t0) / CHURN_OPS;
	while (n) {
		n--;
		pmm_free(p, (paddr_t)live[n].pfn << 12, live[n].order);
	}
	return t;
}

static double ff_churn(struct ff *f)
{
	uint32_t n = 0;
	double t0 = now_ns();
	for (uint32_t i = 0; i < CHURN_OPS; i++) {
		uint32_t r = churn_rnd[i];
		if (n == LIVE || (n && (r & 1))) {
			uint32_t k = (uint32_t)(((uint64_t)(r >> 1) * n) >> 31);   /* [0, n) without a division */
			ff_free(f, live[k].pfn, 1u << live[k].order);
			live[k] = live[--n];
		} else {
			uint32_t order = (r >> 1) % 7;
			uint32_t x = ff_alloc(f, 1u << order);
			if (x != UINT32_MAX) {
				live[n].pfn = x;
				live[n++].order = order;
			}
		}
	}
	double t = (now_ns() - t0) / CHURN_OPS;
	while (n) {
		n--;
		ff_free(f, live[n].pfn, 1u << live[n].order);
	}
	return t;
}

/* The churn loop with an allocator that does nothing (a bump counter behind
 * a call): what the loop itself costs (reading the precomputed random
 * numbers, the unpredictable alloc/free branch, the live table). */
static uint32_t null_next;
__attribute__((noinline)) static uint32_t null_alloc(uint32_t n)
{
	uint32_t x = null_next;
	null_next = (null_next + n) & 0xfffff;
	return x;
}
__attribute__((noinline)) static void null_free(uint32_t x, uint32_t n)
{
	__asm__ volatile("" : : "r"(x), "r"(n) : "memory");
}

static double null_churn(void)
{
	uint32_t n = 0;
	double t0 = now_ns();
	for (uint32_t i = 0; i < CHURN_OPS; i++) {
		uint32_t r = churn_rnd[i];
		if (n == LIVE || (n && (r & 1))) {
			uint32_t k = (uint32_t)(((uint64_t)(r >> 1) * n) >> 31);   /* [0, n) without a division */
			null_free(live[k].pfn, 1u << live[k].order);
			live[k] = live[--n];
		} else {
			uint32_t order = (r >> 1) % 7;
			uint32_t x = null_alloc(1u << order);
			live[n].pfn = x;
			live[n++].order = order;
		}
	}
	return (now_ns() - t0) / CHURN_OPS;
}

/* ---- 4: init ------------------------------------------------------------------- */

/* A 4 GiB PC-like map: low memory, a hole at 640K..1M, RAM to 3.5 GiB,
 * MMIO above, with a few firmware ranges inside the RAM. */
static uint32_t map_4g(struct memmap_range *m)
{
	uint32_t n = 0;
	m[n++] = (struct memmap_range){ 0, 0x9f000, MEMMAP_USABLE, 0 };
	m[n++] = (struct memmap_range){ 0x9f000, 0x100000, MEMMAP_RESERVED, 0 };
	m[n++] = (struct memmap_range){ 0x100000, 0x7f000000, MEMMAP_USABLE, 0 };
	m[n++] = (struct memmap_range){ 0x7f000000, 0x7f800000, MEMMAP_BOOT_SERVICES, 0 };
	m[n++] = (struct memmap_range){ 0x7f800000, 0x7fa00000, MEMMAP_ACPI_NVS, 0 };
	m[n++] = (struct memmap_range){ 0x7fa00000, 0xdf000000, MEMMAP_USABLE, 0 };
	m[n++] = (struct memmap_range){ 0xdf000000, 0xe0000000, MEMMAP_RUNTIME, 0 };
	m[n++] = (struct memmap_range){ 0xe0000000, 0xf0000000, MEMMAP_MMIO, 0 };
	m[n++] = (struct memmap_range){ 0xf0000000, 0xfee00000, MEMMAP_USABLE, 0 };
	m[n++] = (struct memmap_range){ 0xfee00000, 0x100000000ull, MEMMAP_MMIO, 0 };
	return n;
}

static double init_us_per_gib(uint64_t *meta_bytes, uint32_t *managed)
{
	struct memmap_range m[16];
	uint32_t n = map_4g(m);
	uint64_t size = pmm_metadata_size(m, n);
	void *mem = aligned_alloc(64, (size + 63) & ~63ull);
	double v[REPS];
	struct pmm *p = NULL;
	for (int r = 0; r < REPS; r++) {
		double t0 = now_ns();
		p = pmm_init(mem, size, PADDR_NONE, m, n, MEMMAP_FREE_MASK);
		v[r] = now_ns() - t0;
	}
	struct pmm_stats st;
	pmm_get_stats(p, &st);
	*meta_bytes = st.metadata_bytes;
	*managed = st.managed_pages;
	double gib = (double)st.managed_pages * 4096.0 / (double)(1ull << 30);
	free(mem);
	return median(v, REPS) / 1000.0 / gib;
}

/* ---- driver ------------------------------------------------------------------- */

typedef double (*pmm_fig)(struct pmm *p, uint64_t bytes);

static double fig_pair(struct pmm *p, uint64_t bytes) { (void)bytes; return pmm_pairs(p); }
static double fig_pair_nc(struct pmm *p, uint64_t bytes)
{
	(void)bytes;
	pmm_set_flags(p, PMM_F_NOCACHE | PMM_F_NOLOCK);
	return pmm_pairs(p);
}
static double fig_pair_nl(struct pmm *p, uint64_t bytes)
{
	(void)bytes;
	pmm_set_flags(p, PMM_F_NOLOCK);
	return pmm_pairs(p);
}
static double fig_frag(struct pmm *p, uint64_t bytes)
{
	fragment_pmm(p, (uint32_t)(bytes >> 12));
	return pmm_pairs(p);
}
static double fig_frag_nc(struct pmm *p, uint64_t bytes)
{
	fragment_pmm(p, (uint32_t)(bytes >> 12));
	pmm_set_flags(p, PMM_F_NOCACHE | PMM_F_NOLOCK);
	return pmm_pairs(p);
}
static double fig_churn(struct pmm *p, uint64_t bytes) { (void)bytes; return pmm_churn(p); }
static double fig_churn_nc(struct pmm *p, uint64_t bytes)
{
	(void)bytes;
	pmm_set_flags(p, PMM_F_NOCACHE);
	return pmm_churn(p);
}

struct job {                          /* one benchmark configuration */
	pmm_fig fig;                      /* PMM figure, or NULL for the baseline */
	int ff_kind;                      /* enum ff_kind for the baseline */
	uint64_t bytes;                   /* arena size */
};

static double pmm_once(pmm_fig fn, uint64_t bytes)
{
	void *mem;
	struct pmm *p = make_pmm(bytes, &mem);
	double t = fn(p, bytes);
	if (pmm_check(p, true) != 0)
		printf("# pmm_check failed after a run!\n");
	free(mem);
	return t;
}

static double ff_once(int kind, uint64_t bytes)
{
	struct ff f;
	ff_init(&f, (uint32_t)(bytes >> 12));
	if (kind == FF_FRAG)
		fragment_ff(&f);
	double t = kind == FF_CHURN ? ff_churn(&f) : ff_pairs(&f);
	free(f.bits);
	return t;
}

static double job_once(const struct job *j)
{
	return j->fig ? pmm_once(j->fig, j->bytes) : ff_once(j->ff_kind, j->bytes);
}

/* Medians of REPS runs of two jobs, interleaved run by run, so that both
 * see the same load on a shared machine. */
static void paired(const struct job *a, const struct job *b, double *ma, double *mb)
{
	double va[REPS], vb[REPS];
	for (int r = 0; r < REPS; r++) {
		va[r] = job_once(a);
		vb[r] = job_once(b);
	}
	*ma = median(va, REPS);
	*mb = median(vb, REPS);
}

static void row_vs_base(const char *what, pmm_fig fig, int kind, uint64_t bytes,
                        const char *unit, const char *target);

static void row(const char *what, double buddy, double base, const char *unit, const char *target)
{
	if (base > 0)
		printf("%-52s %9.2f %9.2f %7.2fx  %-6s %s\n", what, buddy, base, base / buddy, unit, target);
	else
		printf("%-52s %9.2f %9s %8s  %-6s %s\n", what, buddy, "-", "-", unit, target);
}

static void row_vs_base(const char *what, pmm_fig fig, int kind, uint64_t bytes,
                        const char *unit, const char *target)
{
	struct job a = { fig, 0, bytes }, b = { NULL, kind, bytes };
	double ma, mb;
	paired(&a, &b, &ma, &mb);
	row(what, ma, mb, unit, target);
}

/* Median of REPS runs of one PMM figure alone. */
static double pmm_median(pmm_fig fig, uint64_t bytes)
{
	double v[REPS];
	for (int r = 0; r < REPS; r++)
		v[r] = pmm_once(fig, bytes);
	return median(v, REPS);
}

/* Ratio of one figure on 4 GiB to 256 MiB, runs interleaved. */
static double flat(pmm_fig fig, double *small, double *big)
{
	struct job a = { fig, 0, 256ull << 20 }, b = { fig, 0, (4ull << 30) - (1ull << 20) };
	paired(&a, &b, small, big);
	return *big / *small;
}

int main(void)
{
	printf("# bench_pmm (%zu-bit build): medians of %d runs; baseline = first-fit bitmap\n",
	       sizeof(void *) * 8, REPS);
	printf("# speedup = baseline time / buddy time (> 1: the buddy is faster)\n");
	printf("%-52s %9s %9s %8s  %-6s %s\n", "figure", "buddy", "baseline", "speedup", "unit", "target");
	uint64_t G1 = 1ull << 30;
	churn_rnd_fill(0x1234567ull);
	for (int w = 0; w < 20; w++)       /* warm up: caches, frequency */
		pmm_once(fig_pair, G1);
	row_vs_base("order-0 alloc+free pair, 1 GiB", fig_pair, FF_PAIR, G1, "ns", "<= 10");
	row_vs_base("  the same, PMM_F_NOLOCK", fig_pair_nl, FF_PAIR, G1, "ns", "");
	row_vs_base("  the same, buddy path (no cache, no lock)", fig_pair_nc, FF_PAIR, G1, "ns", "");
	row_vs_base("order-0 pair, fragmented 1 GiB", fig_frag, FF_FRAG, G1, "ns", "<= 10");
	row_vs_base("  the same, buddy path (no cache, no lock)", fig_frag_nc, FF_FRAG, G1, "ns", "");
	double c1, cb, hv[REPS];
	struct job cj = { fig_churn, 0, G1 }, cf = { NULL, FF_CHURN, G1 };
	paired(&cj, &cf, &c1, &cb);
	row("mixed orders 1..64 pages churn, 1 GiB", c1, cb, "ns/op", "<= 20");
	for (int r = 0; r < REPS; r++)
		hv[r] = null_churn();
	double harness = median(hv, REPS);
	row("  of which the loop itself (null allocator)", harness, 0, "ns/op", "");
	row("  churn net of the loop", c1 - harness, 0, "ns/op", "");
	row("  the same, no caches (PMM_F_NOCACHE)", pmm_median(fig_churn_nc, G1), 0, "ns/op", "");
	uint64_t meta;
	uint32_t managed;
	double init = init_us_per_gib(&meta, &managed);
	row("init from a 4 GiB map (pmm_init)", init, 0, "us/GiB", "<= 50");
	double p256, p4g, c256, c4g, b256, b4g;
	row("flat: order-0 pair 4 GiB / 256 MiB", flat(fig_pair, &p256, &p4g), 0, "x", "<= 1.3");
	row("flat: churn 4 GiB / 256 MiB", flat(fig_churn, &c256, &c4g), 0, "x", "<= 1.3");
	row("flat: buddy-path pair 4 GiB / 256 MiB", flat(fig_pair_nc, &b256, &b4g), 0, "x", "");
	printf("# flat inputs (ns): pair %.2f / %.2f, churn %.2f / %.2f, buddy-path pair %.2f / %.2f\n",
	       p256, p4g, c256, c4g, b256, b4g);
	printf("%-52s %9.3f %9s %8s  %-6s %s\n", "metadata per managed page (4 GiB map)",
	       (double)meta / managed, "0.125", "", "bytes", "<= 2 (Linux struct page: 64)");
	printf("# metadata for the 4 GiB map: %llu bytes for %u managed pages\n",
	       (unsigned long long)meta, managed);
	return 0;
}
