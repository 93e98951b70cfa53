/*
 * Slab heap benchmark: one trace driver, built once per allocator
 * (-DALLOC_KMEM, -DALLOC_GLIBC, -DALLOC_JEMALLOC, -DALLOC_MIMALLOC) so that
 * the peers' malloc never clashes with another's; tests/bench/bench_kmem.c
 * runs the four binaries and prints one table.
 *
 * kmalloc runs exactly as in the kernel: mm/kmem*.c built -O2 (libmm bench
 * build) on its production page source, the region layer (mm/region.c) over
 * the host MMU simulator, with the host mm_lock (inline, include/mmboot/
 * mm_lock_host.h: a re-entry check, as the kernel's adds pushf/cli). Debug checks are off
 * (the production default).
 *
 * Output: "key value" lines (value: median over REPS runs, ns per operation
 * unless the key says otherwise), timed with the thread's CPU-time clock so
 * that time spent descheduled on a shared machine is not counted. Never
 * asserts a time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(ALLOC_KMEM)
#include <mmboot/kmem.h>
#include <mmboot/mm_env.h>
#include "mmu_sim.h"
#define ALLOC_NAME "kmalloc"
static inline void *A(size_t n) { return kmalloc(n, KM_NORMAL); }
static inline void F(void *p) { kfree(p); }
#elif defined(ALLOC_MIMALLOC)
#include <mimalloc.h>
#define ALLOC_NAME "mimalloc"
static inline void *A(size_t n) { return mi_malloc(n); }
static inline void F(void *p) { mi_free(p); }
#elif defined(ALLOC_JEMALLOC)
#include <jemalloc/jemalloc.h>
#define ALLOC_NAME "jemalloc"
static inline void *A(size_t n) { return malloc(n); }
static inline void F(void *p) { free(p); }
#else
#define ALLOC_NAME "glibc"
static inline void *A(size_t n) { return malloc(n); }
static inline void F(void *p) { free(p); }
#endif

#define REPS        7
#define PAIRS       (2u << 20)
#define LIVE        (1u << 20)
#define CHURN       (1u << 20)
#define CYCLE       4096u
#define OBJ_SIZE    128u

#define ESCAPE(p) __asm__ volatile("" : : "r"(p) : "memory")

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);   /* time descheduled is not counted */
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static inline uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Mixed sizes 8..2048: 60 % 8..64, 30 % 65..256, 8 % 257..1024, 2 % 1025..2048. */
static inline uint32_t mixed_size(void)
{
	uint64_t r = rnd();
	uint32_t p = (uint32_t)(r % 100), u = (uint32_t)(r >> 32);
	if (p < 60)
		return 8 + u % 57;
	if (p < 90)
		return 65 + u % 192;
	if (p < 98)
		return 257 + u % 768;
	return 1025 + u % 1024;
}

/* ---- alloc+free pairs -------------------------------------------------------- */

static double bench_pairs(size_t size, int hold)
{
	double t[REPS + 1];
	void *held = hold ? A(size) : NULL;
	ESCAPE(held);
	for (int r = 0; r <= REPS; r++) {   /* run 0 warms up, not counted */
		double t0 = now_ns();
		for (uint32_t i = 0; i < PAIRS; i++) {
			void *p = A(size);
			ESCAPE(p);
			F(p);
		}
		t[r] = (now_ns() - t0) / PAIRS;
	}
	if (held)
		F(held);
	return median(t + 1, REPS);
}

/* ---- mixed churn with ~1M live objects ------------------------------------------- */

static void **live;
static uint32_t *live_size;

static double bench_mixed(double *frag)
{
	double t[REPS];
	uint64_t requested = 0;
	for (uint32_t i = 0; i < LIVE; i++) {
		live_size[i] = mixed_size();
		live[i] = A(live_size[i]);
		requested += live_size[i];
		memset(live[i], 1, 8);
	}
	for (int r = 0; r < REPS; r++) {
		double t0 = now_ns();
		for (uint32_t i = 0; i < CHURN; i++) {
			uint32_t k = (uint32_t)(rnd() % LIVE);
			F(live[k]);
			requested -= live_size[k];
			live_size[k] = mixed_size();
			requested += live_size[k];
			live[k] = A(live_size[k]);
			ESCAPE(live[k]);
		}
		t[r] = (now_ns() - t0) / CHURN;
	}
	*frag = 0;
	ESCAPE(&requested);
#if defined(ALLOC_KMEM)
	uint64_t held = 0;
	for (struct kmem_cache *c = kmem_cache_next(NULL); c; c = kmem_cache_next(c)) {
		struct kmem_cache_stats st;
		kmem_cache_get_stats(c, &st);
		if (st.flags & KMEM_KMALLOC)
			held += st.bytes_held;
	}
	*frag = (double)held / (double)requested;
#endif
	for (uint32_t i = 0; i < LIVE; i++)
		F(live[i]);
	return median(t, REPS);
}

/* ---- object caches: constructor vs none -------------------------------------------- */

struct obj {
	struct obj *next, *prev;   /* list head the constructor sets up */
	uint32_t lock, refs;
	uint8_t payload[OBJ_SIZE - 2 * sizeof(void *) - 8];
};

static void obj_ctor(void *p)
{
	struct obj *o = p;
	memset(o, 0, sizeof(*o));
	o->next = o->prev = o;
	o->refs = 1;
}

static void *cache_alloc(void *c)
{
#if defined(ALLOC_KMEM)
	return kmem_cache_alloc(c, KM_NORMAL);
#else
	struct obj *o = A(sizeof(struct obj));
	if (c)
		obj_ctor(o);   /* no constructor cache: initialise on every allocation */
	return o;
#endif
}

static void cache_free(void *c, void *o)
{
#if defined(ALLOC_KMEM)
	kmem_cache_free(c, o);
#else
	(void)c;
	F(o);
#endif
}

/* alloc+free pairs from the cache; ns per pair. */
static double bench_cache_pairs(void *c)
{
	double t[REPS];
	for (int r = 0; r < REPS; r++) {
		double t0 = now_ns();
		for (uint32_t i = 0; i < PAIRS; i++) {
			void *o = cache_alloc(c);
			ESCAPE(o);
			cache_free(c, o);
		}
		t[r] = (now_ns() - t0) / PAIRS;
	}
	return median(t, REPS);
}

/* Allocate CYCLE objects, free them all; ns per object (alloc + free). */
static double bench_cache_cycle(void *c)
{
	static void *objs[CYCLE];
	double t[REPS];
	for (int r = 0; r < REPS; r++) {
		double t0 = now_ns();
		for (uint32_t k = 0; k < PAIRS / CYCLE; k++) {
			for (uint32_t i = 0; i < CYCLE; i++)
				objs[i] = cache_alloc(c);
			ESCAPE(objs);
			for (uint32_t i = 0; i < CYCLE; i++)
				cache_free(c, objs[i]);
		}
		t[r] = (now_ns() - t0) / PAIRS;
	}
	return median(t, REPS);
}

static void run_cache_benches(void)
{
#if defined(ALLOC_KMEM)
	void *plain = kmem_cache_create("bench-plain", sizeof(struct obj), 8, NULL, 0);
	void *ctor = kmem_cache_create("bench-ctor", sizeof(struct obj), 8, obj_ctor, 0);
#else
	void *plain = NULL, *ctor = (void *)1;
#endif
	printf("cpair_plain %.3f\n", bench_cache_pairs(plain));
	printf("cpair_ctor %.3f\n", bench_cache_pairs(ctor));
	printf("cache_plain %.3f\n", bench_cache_cycle(plain));
	printf("cache_ctor %.3f\n", bench_cache_cycle(ctor));
#if defined(ALLOC_KMEM)
	kmem_cache_destroy(plain);
	kmem_cache_destroy(ctor);
#endif
}

static int setup(void)
{
#if defined(ALLOC_KMEM)
	static struct kmem_region_source src;
	if (mmu_sim_setup(768u << 20, 64) != 0 || kmem_region_source_init(&src, 512u << 20) != 0 ||
	    kmem_init(&src.ps, 0, 42) != 0) {
		fprintf(stderr, "bench_kmem: heap setup failed\n");
		return -1;
	}
#elif defined(ALLOC_JEMALLOC)
	const char *v = NULL;
	size_t len = sizeof(v);
	if (mallctl("version", &v, &len, NULL, 0) != 0) {
		fprintf(stderr, "bench_kmem: jemalloc is not the malloc in use\n");
		return -1;
	}
	printf("version %s\n", v);
#elif defined(ALLOC_MIMALLOC)
	printf("version %d\n", mi_version());
#endif
	return 0;
}

#if defined(ALLOC_KMEM)
/* The floor the environment sets: the four lock calls of a kmalloc+kfree
 * pair (mm_lock_acquire/release, inline as in the kernel). */
static double bench_lock_floor(void)
{
	static struct mm_lock lk;
	double t[REPS];
	for (int r = 0; r < REPS; r++) {
		double t0 = now_ns();
		for (uint32_t i = 0; i < PAIRS; i++) {
			mm_lock_acquire(&lk);
			ESCAPE(&lk);
			mm_lock_release(&lk);
			mm_lock_acquire(&lk);
			ESCAPE(&lk);
			mm_lock_release(&lk);
		}
		t[r] = (now_ns() - t0) / PAIRS;
	}
	return median(t, REPS);
}
#endif

int main(void)
{
	if (setup() != 0)
		return 1;
	live = calloc(LIVE, sizeof(*live));
	live_size = calloc(LIVE, sizeof(*live_size));
	printf("allocator %s\n", ALLOC_NAME);
	const char *only = getenv("BENCH_KMEM_ONLY");   /* "pairs", "mixed", "cache": one part */
	static const size_t sizes[] = { 16, 64, 256, 1024 };
	for (unsigned i = 0; i < 4 && (!only || strcmp(only, "pairs") == 0); i++) {
		printf("pair%zu %.3f\n", sizes[i], bench_pairs(sizes[i], 0));
		printf("held%zu %.3f\n", sizes[i], bench_pairs(sizes[i], 1));
	}
#if defined(ALLOC_KMEM)
	printf("lockfloor %.3f\n", bench_lock_floor());
#endif
	double frag;
	if (!only || strcmp(only, "mixed") == 0) {
		printf("mixed %.3f\n", bench_mixed(&frag));
		if (frag > 0)
			printf("frag %.4f\n", frag);
	}
	if (!only || strcmp(only, "cache") == 0)
		run_cache_benches();
#if defined(ALLOC_KMEM)
	if (kmem_check(true) != 0)
		printf("error kmem_check found inconsistencies\n");
#endif
	return 0;
}
