/*
 * Differential fuzzer of the region VMM over the simulated MMU.
 *
 * Input: a sequence of operations (create, destroy, grow, commit, decommit,
 * touch-read, touch-write, touch anywhere), 4 bytes each, on up to 16 region
 * slots of a machine with 8 MiB of RAM (so running out of frames happens).
 * A model keeps, per region, every page's state and the byte last written to
 * it. After every step:
 *   - region_check() finds nothing;
 *   - live regions never overlap and their sizes match the model;
 *   - committed pages are exactly those touched or committed: counts per
 *     region at every step, and page by page (region_page_state against the
 *     model) for one slot per step, rotating;
 *   - PMM frames in use since start-up == owned committed pages (regions +
 *     the layer's own pool) + page tables created since start-up;
 *   - a read returns the byte last written (0 for a fresh page);
 *   - physical regions (region_create_phys at any pa, any size) map pa + i
 *     page by page, with a PSE page exactly for each 4 MiB-aligned 4 MiB
 *     chunk of the range, refuse commit/decommit (-MM_EBUSY);
 *   - faults on guard pages / outside regions / writes to read-only regions /
 *     reserved pages of REGION_NOLAZY regions are refused with the documented error; -MM_ENOMEM only when the PMM is
 *     (nearly) empty.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmboot/region.h>
#include <mmboot/paging.h>
#include <mmboot/pmm.h>
#include <mmboot/errno.h>
#include "host_env.h"
#include "mmu_sim.h"

#define SLOTS 16
#define RAM   MiB(8)

struct mslot {
	struct region *r;        /* live region or NULL */
	vaddr_t span_lo;         /* span start */
	uint32_t span;           /* span pages incl. guards */
	uint32_t guard;          /* 0/1 */
	uint32_t flags;          /* create flags */
	paddr_t pa;              /* physical region (region_create_phys): first frame, else 0 */
	bool phys;               /* a physical region: frames not owned, no commit/grow */
	uint8_t *st;             /* per page: 0 reserved, 1 committed, 3 guard */
	uint8_t *data;           /* per page: byte last written at the probe offset */
};

static struct mslot slots[SLOTS];
static uint32_t free0, tables0, owned0;

#define FAIL(...) do { fprintf(stderr, "fuzz_region: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

static void slot_clear(struct mslot *s)
{
	free(s->st);
	free(s->data);
	memset(s, 0, sizeof(*s));
}

static uint32_t probe_off(uint32_t page) { return (page * 61u) % (PAGE_SIZE - 1); }

/* A physical region (frames not the PMM's) at a pa that may or may not start
 * on 4 MiB: every 4 MiB-aligned 4 MiB chunk of it must be one PSE page at a
 * va with the same offset within 4 MiB, the rest 4 KiB pages; all committed. */
static void op_create_phys(struct mslot *s, uint8_t b, uint8_t c)
{
	paddr_t pa = (paddr_t)(((uint32_t)b * 37u) % 2048u) * PAGE_SIZE + ((c & 0x80) ? 0x10 : 0);
	uint32_t size = (1u + b % 9u) * (uint32_t)MiB(1) - ((c & 0x20) ? PAGE_SIZE : 0);
	uint32_t flags = c & 1 ? REGION_WRITE : 0;
	struct region *r = region_create_phys(pa, size, flags, "fzp");
	if (!r)
		return;                                  /* out of va or descriptors: allowed */
	paddr_t pa0 = pa & ~(paddr_t)PAGE_MASK;
	struct region_info in;
	region_get_info(r, &in);
	s->r = r;
	s->phys = true;
	s->pa = pa0;
	s->guard = 0;
	s->span_lo = in.span_lo;
	s->span = in.span_pages;
	s->flags = flags;
	s->st = calloc(s->span + 4096 * 2, 1);
	s->data = calloc(s->span + 4096 * 2, 1);
	for (uint32_t i = 0; i < s->span; i++) {
		vaddr_t va = s->span_lo + i * PAGE_SIZE;
		paddr_t want = pa0 + (paddr_t)i * PAGE_SIZE;
		uint32_t fl = 0;
		if (arch_translate(va, &fl) != want)
			FAIL("phys page %u maps 0x%llx, expected 0x%llx", i, (unsigned long long)arch_translate(va, NULL),
			     (unsigned long long)want);
		bool chunk = (want & ~(paddr_t)(LARGE_PAGE_SIZE - 1)) >= pa0 &&
		             (want | (LARGE_PAGE_SIZE - 1)) < pa0 + (paddr_t)s->span * PAGE_SIZE;
		if (chunk != !!(fl & PG_LARGE))
			FAIL("phys page %u (pa 0x%llx): PSE %u, expected %u", i, (unsigned long long)want,
			     !!(fl & PG_LARGE), chunk);
		s->st[i] = 1;
		s->data[i] = *(uint8_t *)arch_va_ptr(va + probe_off(i));
	}
}

static void op_create(uint8_t a, uint8_t b, uint8_t c)
{
	struct mslot *s = &slots[a % SLOTS];
	if (s->r)
		return;
	if ((c & 0x1c) == 0x14) {
		op_create_phys(s, b, c);
		return;
	}
	uint32_t pages = (c & 0x80) ? 1u + (uint32_t)b * 16u : 1u + (b & 63u);
	uint32_t flags = (c & 1 ? REGION_WRITE : 0) | (c & 2 ? REGION_GUARD : 0) |
	                 ((c & 0x1c) == 0x1c ? REGION_COMMIT : 0) | ((c & 0x60) == 0x60 ? REGION_NOLAZY : 0);
	struct region *r = region_create(pages * PAGE_SIZE, flags, "fz");
	if (!r) {
		if (pmm_free_pages(mmu_sim_pmm()) > 3 + pages + pages / 1024)
			FAIL("create of %u pages failed with %u frames free", pages, pmm_free_pages(mmu_sim_pmm()));
		return;
	}
	struct region_info in;
	region_get_info(r, &in);
	s->r = r;
	s->guard = (flags & REGION_GUARD) ? 1 : 0;
	s->span_lo = in.span_lo;
	s->span = pages + 2 * s->guard;
	s->flags = flags;
	s->st = calloc(s->span + 4096 * 2, 1);
	s->data = calloc(s->span + 4096 * 2, 1);
	if (s->guard)
		s->st[0] = s->st[s->span - 1] = 3;
	if (flags & REGION_COMMIT)
		for (uint32_t i = s->guard; i < s->span - s->guard; i++)
			s->st[i] = 1;
}

static void op_destroy(uint8_t a)
{
	struct mslot *s = &slots[a % SLOTS];
	if (!s->r)
		return;
	if (region_destroy(s->r))
		FAIL("destroy refused");
	slot_clear(s);
}

static void op_grow(uint8_t a, uint8_t b)
{
	struct mslot *s = &slots[a % SLOTS];
	if (!s->r || (s->flags & REGION_COMMIT) || s->phys)
		return;
	uint32_t extra = 1u + (b & 31u) + ((b & 0x80) ? 1000u : 0u);
	uint32_t usable = s->span - 2 * s->guard;
	int rc = region_grow(s->r, (usable + extra) * PAGE_SIZE);
	if (rc == -MM_ENOMEM)
		return;
	if (rc)
		FAIL("grow: %d", rc);
	uint8_t *st = calloc(s->span + extra, 1), *d = calloc(s->span + extra, 1);
	memcpy(st, s->st, s->span);
	memcpy(d, s->data, s->span);
	if (s->guard) {
		st[s->span - 1] = 0;
		st[s->span + extra - 1] = 3;
	}
	free(s->st);
	free(s->data);
	s->st = st;
	s->data = d;
	s->span += extra;
}

/* Range [first, first+n) of usable pages from two bytes. */
static void pick_range(const struct mslot *s, uint8_t b, uint8_t c, uint32_t *first, uint32_t *n)
{
	uint32_t usable = s->span - 2 * s->guard;
	*first = ((uint32_t)b * 7919u + c) % usable;
	*n = 1 + c % (usable - *first);
	*first += s->guard;
}

static void op_commit(uint8_t a, uint8_t b, uint8_t c, bool commit)
{
	struct mslot *s = &slots[a % SLOTS];
	if (!s->r)
		return;
	uint32_t first, n;
	pick_range(s, b, c, &first, &n);
	vaddr_t va = s->span_lo + first * PAGE_SIZE;
	if (s->phys) {                                  /* frames not the PMM's: refused */
		int prc = commit ? region_commit(s->r, va, n) : region_decommit(s->r, va, n);
		if (prc != -MM_EBUSY)
			FAIL("%scommit of a physical region: %d", commit ? "" : "de", prc);
		return;
	}
	int rc = commit ? region_commit(s->r, va, n) : region_decommit(s->r, va, n);
	if (rc == -MM_ENOMEM && commit) {  /* all or nothing: the model stays as it was */
		uint32_t need = 0;
		for (uint32_t i = first; i < first + n; i++)
			need += !s->st[i];
		if (pmm_free_pages(mmu_sim_pmm()) >= need + n / 1024 + 2)
			FAIL("commit of %u pages: ENOMEM with %u frames free", need, pmm_free_pages(mmu_sim_pmm()));
		return;
	}
	if (rc)
		FAIL("%scommit: %d", commit ? "" : "de", rc);
	for (uint32_t i = first; i < first + n; i++) {
		if (commit && !s->st[i])
			s->data[i] = 0;
		if (!commit)
			s->data[i] = 0;
		s->st[i] = commit ? 1 : 0;
	}
}

static int expected_refusal(const struct mslot *s, uint32_t i, bool write)
{
	if (s->st[i] == 3)
		return -MM_ERESERVED;
	if (write && !(s->flags & REGION_WRITE))
		return -MM_EEXIST;
	if (s->st[i] == 0 && (s->flags & REGION_NOLAZY))
		return -MM_ENOTALLOC;    /* reserved page of a region that commits explicitly */
	return 0;
}

static void op_touch(uint8_t a, uint8_t b, uint8_t c, bool write)
{
	struct mslot *s = &slots[a % SLOTS];
	if (!s->r)
		return;
	uint32_t i = ((uint32_t)b * 257u + c) % s->span;
	vaddr_t va = s->span_lo + i * PAGE_SIZE + probe_off(i);
	int rc = mmu_sim_touch(va, write), want = expected_refusal(s, i, write);
	if (rc == -MM_ENOMEM && !s->st[i] && pmm_free_pages(mmu_sim_pmm()) <= 1)
		return;
	if (rc != want)
		FAIL("touch %s page %u of span %u (state %u): %d, expected %d", write ? "write" : "read",
		     i, s->span, s->st[i], rc, want);
	if (rc)
		return;
	uint8_t *p = arch_va_ptr(va);
	if (!s->st[i])
		s->data[i] = 0;
	s->st[i] = 1;
	if (*p != s->data[i])
		FAIL("page %u reads 0x%02x, model 0x%02x", i, *p, s->data[i]);
	if (write) {
		*p = c ? c : 1;
		s->data[i] = *p;
	}
}

static void op_touch_anywhere(uint8_t a, uint8_t b, uint8_t c)
{
	vaddr_t va = mmu_sim_kernel_end() + (((uint32_t)a << 16 | (uint32_t)b << 8 | c) * PAGE_SIZE) % MiB(64);
	for (int k = 0; k < SLOTS; k++) {
		const struct mslot *s = &slots[k];
		if (s->r && va >= s->span_lo && va < s->span_lo + s->span * PAGE_SIZE)
			return;                          /* a slot's page: op_touch covers it */
	}
	if (mmu_sim_touch(va, true) != -MM_ENOENT)       /* free arena space */
		FAIL("touch outside every region at 0x%08x not refused", va);
}

/* Page by page: the layer's state of every page of one slot equals the model's. */
static void check_pages(const struct mslot *s)
{
	static const enum region_page_state want[4] = { REGION_PAGE_RESERVED, REGION_PAGE_COMMITTED,
	                                                REGION_PAGE_UNALLOC, REGION_PAGE_GUARD };
	for (uint32_t i = 0; s->r && i < s->span; i++) {
		enum region_page_state st = region_page_state(s->span_lo + i * PAGE_SIZE);
		if (st != want[s->st[i]])
			FAIL("page %u of span %u: layer says %s, model %u", i, s->span,
			     region_page_state_name(st), s->st[i]);
	}
}

static uint32_t steps;

static void check_model(void)
{
	check_pages(&slots[steps++ % SLOTS]);
	if (region_check(false)) {
		host_log_set(HOST_LOG_STDERR);
		region_check(true);
		region_dump();
		FAIL("region_check");
	}
	struct region_stats st;
	region_get_stats(&st);
	uint32_t committed = 0;
	for (int k = 0; k < SLOTS; k++) {
		const struct mslot *s = &slots[k];
		if (!s->r)
			continue;
		struct region_info in;
		region_get_info(s->r, &in);
		uint32_t c = 0;
		for (uint32_t i = 0; i < s->span; i++)
			c += s->st[i] == 1;
		if (in.committed != c || in.span_pages != s->span || in.span_lo != s->span_lo)
			FAIL("slot %d: committed %u model %u span %u/%u", k, in.committed, c, in.span_pages, s->span);
		if (!s->phys)
			committed += c;                      /* physical pages are not owned */
		for (int j = 0; j < SLOTS; j++) {
			const struct mslot *o = &slots[j];
			if (j != k && o->r && o->span_lo < s->span_lo + s->span * PAGE_SIZE &&
			    s->span_lo < o->span_lo + o->span * PAGE_SIZE)
				FAIL("slots %d and %d overlap", k, j);
		}
	}
	if (st.committed_owned != committed + st.meta_committed)
		FAIL("owned committed %u, model %u + meta %u", st.committed_owned, committed, st.meta_committed);
	uint32_t used = free0 - pmm_free_pages(mmu_sim_pmm());
	if (used + owned0 != st.committed_owned + arch_page_tables() - tables0)
		FAIL("PMM frames in use %u != committed %u + tables %u", used,
		     st.committed_owned - owned0, arch_page_tables() - tables0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	host_log_set(HOST_LOG_QUIET);
	for (int k = 0; k < SLOTS; k++)
		slot_clear(&slots[k]);
	if (mmu_sim_setup((uint32_t)RAM, 16))
		FAIL("setup");
	struct region_stats st;
	region_get_stats(&st);
	free0 = pmm_free_pages(mmu_sim_pmm());
	tables0 = arch_page_tables();
	owned0 = st.committed_owned;
	for (size_t at = 0; at + 4 <= size && at < 4 * 400; at += 4) {
		uint8_t op = data[at], a = data[at + 1], b = data[at + 2], c = data[at + 3];
		switch (op % 8) {
		case 0: op_create(a, b, c); break;
		case 1: op_destroy(a); break;
		case 2: op_grow(a, b); break;
		case 3: op_commit(a, b, c, true); break;
		case 4: op_commit(a, b, c, false); break;
		case 5: op_touch(a, b, c, false); break;
		case 6: op_touch(a, b, c, true); break;
		default: op_touch_anywhere(a, b, c); break;
		}
		check_model();
	}
	for (int k = 0; k < SLOTS; k++)
		if (slots[k].r)
			op_destroy((uint8_t)k);
	check_model();
	struct region_stats end;
	region_get_stats(&end);
	/* the pool may have committed more of region-meta's reserved pages */
	if (end.regions != st.regions ||
	    end.reserved + end.meta_committed != st.reserved + st.meta_committed)
		FAIL("regions left: %u (start %u), reserved %u (start %u)", end.regions, st.regions,
		     end.reserved, st.reserved);
	return 0;
}
