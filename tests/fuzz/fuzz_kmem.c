/*
 * Differential fuzzer of the slab heap (mm/kmem*.c).
 *
 * The input is a budget byte, a debug byte, then a sequence of operations
 * on four object caches (plain, constructor + debug, debug, multi-page) and
 * kmalloc (slab sizes and large page blocks), run against a model of live
 * objects (pointer, size, content seed). After every operation: the new
 * object overlaps no live object, every live object's content reads back
 * intact when it is freed or resized, and kmem_check() finds nothing.
 *
 * Corruption operations make one deliberate mistake each and require the
 * matching report through the error hook: red-zone overwrite (REDZONE),
 * double free (DOUBLE_FREE, or NOT_HEAP once the pages went back), a delayed
 * double free (a, b, a: reported at once by debug caches, by the next
 * magazine flush otherwise -- a reap forces it), write after free (kmem_check
 * counts it; then allocating until the object comes back must report
 * POISON), a stray write into a hardened free-list link (kmem_check counts
 * it; allocating until the object is popped must report FREELIST and not
 * follow the link), free of an interior pointer (NOT_OBJECT), free
 * into the wrong cache (WRONG_CACHE). The mistake is then repaired and the
 * run goes on; at the end everything is freed and the page source must have
 * every page back. A reap operation (memory pressure) must leave no empty
 * slab in any cache; out of budget, the heap reaps by itself. Out of memory (the commit budget) must give NULL with
 * nothing corrupted. Any violation aborts (a crash is the finding).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmboot/kmem.h>
#include "host_env.h"
#include "../unit/test_kmem_src.h"

#define MAXLIVE 256
#define NCACHES 4
#define KMALLOC_ID 0xff

struct obj {
	uint8_t *p;        /* object */
	uint32_t size;     /* bytes requested */
	uint8_t cache;     /* index into caches, or KMALLOC_ID */
	uint8_t seed;      /* content pattern */
};

static struct obj live[MAXLIVE];
static uint32_t nlive;
static struct kmem_cache *caches[NCACHES];
static const uint32_t cache_size[NCACHES] = { 40, 100, 24, 3000 };
static struct host_ps src;
static const uint8_t *in;
static size_t in_len, in_pos;
static enum kmem_err_kind last_kind;
static const void *last_obj;
static uint32_t reports;

#define CHECK(cond)                                                            \
	do {                                                                       \
		if (!(cond)) {                                                         \
			fprintf(stderr, "fuzz_kmem: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                           \
		}                                                                      \
	} while (0)

static void hook(const struct kmem_error *e)
{
	last_kind = e->kind;
	last_obj = e->obj;
	reports++;
}

static uint32_t next8(void) { return in_pos < in_len ? in[in_pos++] : 0; }
static uint32_t next16(void) { return next8() | next8() << 8; }

static void ctor(void *p)
{
	memset(p, 0xc7, cache_size[1]);
}

static uint8_t pat(uint8_t seed, uint32_t i) { return (uint8_t)(seed * 31 + i * 7 + 1); }

static void fill(struct obj *o)
{
	for (uint32_t i = 0; i < o->size; i++)
		o->p[i] = pat(o->seed, i);
}

static void verify(const struct obj *o)
{
	for (uint32_t i = 0; i < o->size; i++)
		CHECK(o->p[i] == pat(o->seed, i));
}

static bool is_debug(const struct obj *o)
{
	if (o->cache == KMALLOC_ID)
		return ksize(o->p) <= KMALLOC_MAX_CLASS && kmem_debug_default();   /* krealloc may keep a page block */
	return o->cache == 1 || o->cache == 2 || (o->cache != 0 && kmem_debug_default());
}

static void expect_report(uint32_t before, enum kmem_err_kind kind)
{
	CHECK(reports == before + 1);
	CHECK(last_kind == kind);
}

/* ---- model operations ------------------------------------------------------ */

static void add_live(uint8_t *p, uint32_t size, uint8_t cache)
{
	for (uint32_t i = 0; i < nlive; i++)   /* no two live objects overlap */
		CHECK(p + size <= live[i].p || live[i].p + live[i].size <= p);
	struct obj *o = &live[nlive++];
	o->p = p;
	o->size = size;
	o->cache = cache;
	o->seed = (uint8_t)next8();
	fill(o);
}

static void drop_live(uint32_t i)
{
	live[i] = live[--nlive];
}

static void free_obj(const struct obj *o)
{
	if (o->cache == KMALLOC_ID)
		kfree(o->p);
	else
		kmem_cache_free(caches[o->cache], o->p);
}

static void op_kmalloc(bool zero)
{
	uint32_t size = next16() % 4200 + 1;
	if (next8() % 8 == 0)
		size = size * 9;   /* large: page blocks */
	uint8_t *p = zero ? kzalloc(size, KM_NORMAL) : kmalloc(size, KM_NORMAL);
	if (!p)
		return;   /* out of budget: kmem_check below proves nothing broke */
	CHECK(ksize(p) >= size);
	if (zero)
		for (uint32_t i = 0; i < size; i++)
			CHECK(p[i] == 0);
	add_live(p, size, KMALLOC_ID);
}

static void op_cache_alloc(void)
{
	uint32_t ci = next8() % NCACHES;
	uint8_t *p = kmem_cache_alloc(caches[ci], KM_NORMAL);
	if (!p)
		return;
	if (ci == 1)   /* constructed state is there (no user writes survive: we fill) */
		CHECK(((uintptr_t)p & 31) == 0);
	add_live(p, cache_size[ci], (uint8_t)ci);
}

static void op_free(void)
{
	uint32_t i = next8() % nlive;
	verify(&live[i]);
	free_obj(&live[i]);
	drop_live(i);
}

static void op_realloc(void)
{
	uint32_t i = next8() % nlive;
	if (live[i].cache != KMALLOC_ID)
		return;
	uint32_t size = next16() % 6000 + 1;
	struct obj o = live[i];
	verify(&o);
	uint8_t *n = krealloc(o.p, size, KM_NORMAL);
	if (!n) {
		verify(&o);   /* failed: the old block is intact */
		return;
	}
	uint32_t keep = size < o.size ? size : o.size;
	for (uint32_t b = 0; b < keep; b++)
		CHECK(n[b] == pat(o.seed, b));
	drop_live(i);
	add_live(n, size, KMALLOC_ID);
}

/* ---- corruption operations ------------------------------------------------- */

static void op_redzone(void)
{
	uint32_t i = next8() % nlive;
	struct obj o = live[i];
	if (!is_debug(&o))
		return;
	uint32_t usable = o.cache == KMALLOC_ID ? (uint32_t)ksize(o.p) : cache_size[o.cache];
	uint8_t saved = o.p[usable];
	o.p[usable] ^= 0x5a;   /* first byte past the object */
	uint32_t before = reports;
	free_obj(&o);
	expect_report(before, KMEM_ERR_REDZONE);
	o.p[usable] = saved;   /* repaired; the object is still live */
	CHECK(kmem_check(false) == 0);
}

/* The report for freeing o again: a page-aligned pointer into free heap
 * pages is a double free (a large block or slab freed already); an object
 * whose slab went back is a pointer to no heap memory. */
static enum kmem_err_kind gone_kind(const struct obj *o, bool gone)
{
	return gone && ((uintptr_t)o->p & 4095u) ? KMEM_ERR_NOT_HEAP : KMEM_ERR_DOUBLE_FREE;
}

static void op_double_free(void)
{
	uint32_t i = next8() % nlive;
	struct obj o = live[i];
	verify(&o);
	free_obj(&o);
	drop_live(i);
	/* a large block, or a slab emptied beyond its cache's reserve, is no
	 * longer heap memory at all: the second free is a non-heap pointer */
	bool gone = ksize(o.p) == 0;
	uint32_t before = reports;
	free_obj(&o);
	expect_report(before, gone_kind(&o, gone));
}

/* Delayed double free: free a, free b, free a. A debug cache (state word)
 * or a freed page reports at once; a magazine cache cannot see it until the
 * magazine is flushed -- a reap (flush of every magazine) must report it,
 * drop the copy and leave the counts right (kmem_check after every op). */
static void op_delayed_double_free(void)
{
	if (nlive < 2)
		return;
	uint32_t i = next8() % nlive;
	struct obj a = live[i];
	verify(&a);
	free_obj(&a);
	drop_live(i);
	uint32_t j = next8() % nlive;
	struct obj b = live[j];
	verify(&b);
	free_obj(&b);
	drop_live(j);
	bool gone = ksize(a.p) == 0;
	uint32_t before = reports;
	free_obj(&a);
	if (reports == before)
		kmem_reap();   /* the magazine holds a twice: the flush finds it */
	CHECK(reports == before + 1);
	CHECK(last_kind == gone_kind(&a, gone) || last_kind == KMEM_ERR_DOUBLE_FREE);
	CHECK(last_obj == a.p);
}

/* Allocate from o's cache until o comes back (at most 600 objects, the
 * budget permitting) or a report names it; the temporaries must overlap no
 * live object and are freed afterwards. True if a report about o came. */
static bool alloc_until_back(const struct obj *o, enum kmem_err_kind kind)
{
	static uint8_t *tmp[600];
	uint32_t n = 0, before = reports;
	bool seen = false;
	struct kmem_stats ks0, ks1;
	kmem_get_stats(&ks0);
	while (n < 600 && !seen) {
		uint8_t *p = o->cache == KMALLOC_ID ? kmalloc(o->size, KM_NORMAL)
		                                    : kmem_cache_alloc(caches[o->cache], KM_NORMAL);
		if (reports != before) {
			CHECK(reports == before + 1 && last_kind == kind && last_obj == o->p);
			seen = true;
		}
		if (!p)
			break;
		for (uint32_t k = 0; k < nlive; k++)
			CHECK(p + o->size <= live[k].p || live[k].p + live[k].size <= p);
		tmp[n++] = p;
		if (p == o->p)
			break;
	}
	bool back = n && tmp[n - 1] == o->p;
	kmem_get_stats(&ks1);
	/* handed out again: the damage must have been reported -- unless the
	 * budget ran out meanwhile and the heap reaped: o's empty slab went back
	 * and was built afresh (o re-made, the damage gone with it) */
	if (back && ks1.reaps == ks0.reaps)
		CHECK(seen);
	for (uint32_t k = 0; k < n; k++) {
		if (o->cache == KMALLOC_ID)
			kfree(tmp[k]);
		else
			kmem_cache_free(caches[o->cache], tmp[k]);
	}
	return seen;
}

static void op_use_after_free(void)
{
	uint32_t i = next8() % nlive;
	struct obj o = live[i];
	if (!is_debug(&o) || o.cache == 1)   /* constructor caches are not poisoned */
		return;
	free_obj(&o);
	drop_live(i);
	if (ksize(o.p) == 0)
		return;   /* its slab went back to the source: the page is gone */
	uint32_t off = next16() % o.size;
	o.p[off] ^= 0x20;
	CHECK(kmem_check(false) >= 1);
	if (!(next8() & 1)) {
		o.p[off] ^= 0x20;
		CHECK(kmem_check(false) == 0);
		return;
	}
	/* the allocation that hands o out again must report the damage */
	alloc_until_back(&o, KMEM_ERR_POISON);
	/* o is free again (or its page gone): repair the byte only if the damage
	 * is still there (not reached, or a reap kept its slab) */
	if (ksize(o.p) != 0 && o.p[off] == (0x6b ^ 0x20))
		o.p[off] ^= 0x20;
}

static void op_freelist(void)
{
	uint32_t i = next8() % nlive;
	struct obj o = live[i];
	if (o.cache != 0)   /* the plain cache: link in the object's first word */
		return;
	free_obj(&o);
	drop_live(i);
	kmem_cache_shrink(caches[0]);   /* magazine -> slab free list */
	if (ksize(o.p) == 0)
		return;
	uintptr_t *link = (uintptr_t *)o.p;
	uintptr_t saved = *link;
	*link ^= ((uintptr_t)(next8() | 1) << 4) | 1u;   /* odd: never another object start */
	CHECK(kmem_check(false) >= 1);
	uintptr_t bad = *link;
	if (next8() & 1) {
		/* popping o must report the link and not follow it (alloc gives NULL) */
		alloc_until_back(&o, KMEM_ERR_FREELIST);
		if (ksize(o.p) == 0 || *link != bad)
			return;   /* a reap released or rebuilt o's slab: nothing to repair */
	}
	*link = saved;
	CHECK(kmem_check(false) == 0);
}

static void op_interior(void)
{
	uint32_t i = next8() % nlive;
	struct obj o = live[i];
	if (o.size < 16)
		return;
	uint32_t before = reports;
	if (o.cache == KMALLOC_ID)
		kfree(o.p + 8);
	else
		kmem_cache_free(caches[o.cache], o.p + 8);
	expect_report(before, KMEM_ERR_NOT_OBJECT);
}

static void op_wrong_cache(void)
{
	uint32_t i = next8() % nlive;
	struct obj o = live[i];
	uint32_t other = o.cache == KMALLOC_ID ? 0 : (o.cache + 1) % NCACHES;
	uint32_t before = reports;
	kmem_cache_free(caches[other], o.p);
	expect_report(before, KMEM_ERR_WRONG_CACHE);
}

/* Memory pressure by hand: every cache's reserve (and magazine) goes back;
 * live objects stay intact (checked when they are freed). */
static void op_reap(void)
{
	kmem_reap();
	for (struct kmem_cache *c = kmem_cache_next(NULL); c; c = kmem_cache_next(c)) {
		struct kmem_cache_stats st;
		kmem_cache_get_stats(c, &st);
		CHECK(st.slabs_empty == 0);
	}
}

/* ---- driver ------------------------------------------------------------------ */

static void setup(void)
{
	uint32_t budget = 48 + next8() * 4;
	uint32_t flags = next8() & 1 ? KMEM_INIT_DEBUG : 0;
	CHECK(host_ps_init(&src, 2048, budget, 1) == 0);
	CHECK(kmem_init(&src.ps, flags, 7) == 0);
	kmem_set_error_hook(hook);
	static const uint32_t cflags[NCACHES] = { KMEM_NODEBUG, KMEM_DEBUG, KMEM_DEBUG, 0 };
	for (uint32_t i = 0; i < NCACHES; i++) {
		caches[i] = kmem_cache_create("fuzz", cache_size[i], i == 1 ? 32 : 8, i == 1 ? ctor : NULL,
		                              cflags[i]);
		CHECK(caches[i] != NULL);
	}
	nlive = 0;
	reports = 0;
}

static void teardown(void)
{
	while (nlive)
		op_free();
	for (uint32_t i = 0; i < NCACHES; i++)
		CHECK(kmem_cache_destroy(caches[i]) == 0);
	CHECK(kmem_check(true) == 0);
	CHECK(kmem_fini() == 0);
	CHECK(src.committed == 0 && src.errors == 0);
	kmem_set_error_hook(NULL);
	host_ps_fini(&src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	in = data;
	in_len = size;
	in_pos = 0;
	host_log_set(HOST_LOG_QUIET);
	setup();
	while (in_pos < in_len) {
		uint32_t op = next8() % 16;
		if (nlive == 0 || (op < 6 && nlive < MAXLIVE)) {
			if (op % 3 == 0)
				op_cache_alloc();
			else
				op_kmalloc(op % 3 == 2);
		} else if (op < 6 || op < 9) {
			if (op == 8 && (next8() & 7) == 0)
				op_reap();
			else
				op_free();
		} else {
			switch (op) {
			case 9: op_realloc(); break;
			case 10: op_redzone(); break;
			case 11: op_double_free(); break;
			case 12: op_use_after_free(); break;
			case 13: op_freelist(); break;
			case 14: if (next8() & 1) op_interior(); else op_delayed_double_free(); break;
			default: op_wrong_cache(); break;
			}
		}
		CHECK(kmem_check(false) == 0);
	}
	teardown();
	return 0;
}
