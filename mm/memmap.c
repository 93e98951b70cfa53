/*
 * Memory-map sanitizer: firmware descriptors in, clean ranges out.
 *
 * Theory
 * ------
 * Firmware maps overlap, nest, leave zero-length entries, end inside a page,
 * come unsorted, and use types nobody defined. The sanitizer never trusts an
 * entry and never rejects the whole map for one bad entry.
 *
 * It works like Linux's e820 sanitizer: a boundary sweep. Each valid entry
 * gives two events, (start, +class) and (end, -class). The events are
 * heap-sorted by address (O(n log n), no recursion, no allocation) and swept
 * from low to high with a count of open entries per class; between two
 * consecutive event addresses the class is the strictest open one (the
 * highest enum value). A new output range starts wherever that class
 * changes, so:
 *
 *     usable  |=================================|
 *     reserved          |=====|
 *     out     |=usable==|=res=|=====usable======|
 *
 * overlaps are resolved, nested ranges split their host, and touching or
 * overlapping ranges of one class come out as one range (merged).
 *
 * Rounding happens after merging (pass 2): free classes (MEMMAP_FREE_MASK)
 * inward to 4 KiB, others outward. Outward rounding can make two strict
 * neighbours claim the same page, so the rounded ranges are swept again;
 * the stricter class gets the shared page. Inward rounding never makes a
 * free range overlap anything (its neighbours were adjacent or apart).
 *
 * Scratch layout (memmap_scratch_size(n)):
 *   [ events: 4n x struct mm_event ][ mid: 2n x struct memmap_range ]
 * Pass 1 emits at most 2n-1 ranges into mid; pass 2 sweeps those (at most
 * 4n-2 events) into out.
 *
 * Invariants of the output: sorted by start; start < end; disjoint
 * (out[i].end <= out[i+1].start); both ends 4 KiB aligned; no two touching
 * ranges share a class; no byte that any input entry (after dropping empty
 * and wrapped ones) marked with a class stricter than c is reported as c.
 */
#include <mmboot/memmap.h>
#include <mmboot/mm_env.h>

struct mm_event {             /* one end of one entry, in scratch */
	uint64_t addr;            /* boundary address, bytes */
	uint32_t cls;             /* enum memmap_class of the entry */
	uint32_t is_end;          /* 0: entry starts here, 1: entry ends here */
};

#define MM_CLS_NONE MEMMAP_CLASS_COUNT

/* ---- classification ------------------------------------------------------ */

enum memmap_class memmap_class_of_efi(uint32_t t)
{
	switch (t) {
	case EFI_MT_CONVENTIONAL: return MEMMAP_USABLE;
	case EFI_MT_BOOT_SERVICES_CODE:
	case EFI_MT_BOOT_SERVICES_DATA: return MEMMAP_BOOT_SERVICES;
	case EFI_MT_LOADER_CODE:
	case EFI_MT_LOADER_DATA: return MEMMAP_LOADER;
	case EFI_MT_ACPI_RECLAIM: return MEMMAP_ACPI_RECLAIM;
	case EFI_MT_ACPI_NVS: return MEMMAP_ACPI_NVS;
	case EFI_MT_RUNTIME_SERVICES_CODE:
	case EFI_MT_RUNTIME_SERVICES_DATA: return MEMMAP_RUNTIME;
	case EFI_MT_MMIO:
	case EFI_MT_MMIO_PORT_SPACE: return MEMMAP_MMIO;
	case EFI_MT_UNUSABLE: return MEMMAP_UNUSABLE;
	case EFI_MT_PERSISTENT: return MEMMAP_PERSISTENT;
	default: return MEMMAP_RESERVED;   /* reserved, PAL code, unaccepted, OEM, OS */
	}
}

enum memmap_class memmap_class_of_e820(uint32_t t)
{
	switch (t) {
	case 1: return MEMMAP_USABLE;
	case 3: return MEMMAP_ACPI_RECLAIM;
	case 4: return MEMMAP_ACPI_NVS;
	case 5: return MEMMAP_UNUSABLE;
	case 7:                             /* ACPI 6 persistent memory */
	case 12: return MEMMAP_PERSISTENT;  /* legacy "PRAM" */
	default: return MEMMAP_RESERVED;    /* 2 reserved, 6 disabled, 20 ... */
	}
}

bool memmap_type_known(uint32_t kind, uint32_t type)
{
	if (kind == MEMMAP_SRC_EFI)
		return type < EFI_MT_MAX_KNOWN;
	if (kind == MEMMAP_SRC_E820)
		return (type >= 1 && type <= 7) || type == 12;
	return false;
}

static enum memmap_class mm_class_of(uint32_t kind, uint32_t type)
{
	if (kind == MEMMAP_SRC_EFI)
		return memmap_class_of_efi(type);
	if (kind == MEMMAP_SRC_E820)
		return memmap_class_of_e820(type);
	return MEMMAP_RESERVED;
}

const char *memmap_class_name(enum memmap_class cls)
{
	static const char *const names[MEMMAP_CLASS_COUNT] = {
		"usable", "boot_services", "loader", "acpi_reclaim", "persistent",
		"acpi_nvs", "runtime", "mmio", "unusable", "reserved",
	};
	return (unsigned)cls < MEMMAP_CLASS_COUNT ? names[cls] : "?";
}

const char *memmap_warning_name(uint32_t what)
{
	switch (what) {
	case MEMMAP_W_EMPTY: return "zero-length entry dropped";
	case MEMMAP_W_WRAP: return "end wraps past 2^64, entry dropped";
	case MEMMAP_W_UNKNOWN_TYPE: return "unknown type treated as reserved";
	case MEMMAP_W_TRUNCATED: return "output full, range lost";
	default: return "?";
	}
}

/* ---- stats --------------------------------------------------------------- */

static void mm_warn(struct memmap_stats *st, uint32_t what, uint32_t index,
                    uint64_t start, uint64_t end, uint32_t type)
{
	if (st->warnings < MEMMAP_WARN_LOG) {
		struct memmap_warning *w = &st->log[st->warnings];
		w->start = start;
		w->end = end;
		w->index = index;
		w->what = what;
		w->type = type;
		w->pad = 0;
	}
	st->warnings++;
}

void memmap_print_stats(const struct memmap_stats *st, const char *prefix)
{
	mm_printf("%ssanitizer: %u entries in, %u out; merged %u, clipped %u, "
	          "overlaps %u, empty %u, wrapped %u, unknown types %u, %s%s\n",
	          prefix, st->entries_in, st->entries_out, st->merged, st->clipped,
	          st->overlaps, st->dropped_empty, st->dropped_wrap,
	          st->unknown_types, st->unsorted ? "unsorted" : "sorted",
	          st->truncated ? ", TRUNCATED" : "");
	for (uint32_t i = 0; i < st->warnings && i < MEMMAP_WARN_LOG; i++) {
		const struct memmap_warning *w = &st->log[i];
		mm_printf("%swarning: entry %u [0x%llx-0x%llx) type 0x%x: %s\n", prefix,
		          w->index, (unsigned long long)w->start,
		          (unsigned long long)w->end, w->type, memmap_warning_name(w->what));
	}
	if (st->warnings > MEMMAP_WARN_LOG)
		mm_printf("%s... %u more warnings\n", prefix, st->warnings - MEMMAP_WARN_LOG);
}

/* ---- sorting (heap sort by address: bounded time on adversarial input) --- */

static void mm_sift_down(struct mm_event *ev, uint32_t root, uint32_t n)
{
	for (;;) {
		uint32_t child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && ev[child + 1].addr > ev[child].addr)
			child++;
		if (ev[root].addr >= ev[child].addr)
			return;
		struct mm_event t = ev[root];
		ev[root] = ev[child];
		ev[child] = t;
		root = child;
	}
}

static void mm_heap_sort(struct mm_event *ev, uint32_t n)
{
	if (n < 2)
		return;
	for (uint32_t i = n / 2; i-- > 0;)
		mm_sift_down(ev, i, n);
	for (uint32_t end = n - 1; end > 0; end--) {
		struct mm_event t = ev[0];
		ev[0] = ev[end];
		ev[end] = t;
		mm_sift_down(ev, 0, end);
	}
}

/* ---- the sweep ----------------------------------------------------------- */

struct mm_sweep {             /* state of one sweep over sorted events */
	uint32_t cnt[MEMMAP_CLASS_COUNT]; /* open entries per class */
	uint32_t active;          /* open entries in total */
	uint32_t cur;             /* class of the range being built, or MM_CLS_NONE */
	uint64_t cur_start;       /* start of the range being built */
	struct memmap_range *out; /* output array */
	uint32_t cap;             /* its capacity */
	uint32_t n_out;           /* ranges written */
	uint32_t lost;            /* ranges that did not fit */
	struct memmap_stats *st;  /* stats to count merges/overlaps in, or NULL */
};

static uint32_t mm_strictest(const struct mm_sweep *s)
{
	for (uint32_t c = MEMMAP_CLASS_COUNT; c-- > 0;)
		if (s->cnt[c])
			return c;
	return MM_CLS_NONE;
}

static void mm_emit(struct mm_sweep *s, uint64_t start, uint64_t end, uint32_t cls)
{
	if (s->n_out < s->cap) {
		struct memmap_range *r = &s->out[s->n_out++];
		r->start = start;
		r->end = end;
		r->cls = cls;
		r->pad = 0;
	} else {
		s->lost++;
	}
}

/* Process every event at ev[*i].addr; returns the address. */
static uint64_t mm_sweep_point(struct mm_sweep *s, const struct mm_event *ev,
                               uint32_t ne, uint32_t *i, uint32_t *starts, uint32_t *ends)
{
	uint64_t a = ev[*i].addr;
	uint32_t open_before = s->active;
	*starts = *ends = 0;
	for (; *i < ne && ev[*i].addr == a; (*i)++) {
		if (ev[*i].is_end) {
			s->cnt[ev[*i].cls]--;
			(*ends)++;
		} else {
			s->cnt[ev[*i].cls]++;
			(*starts)++;
		}
	}
	s->active = open_before + *starts - *ends;
	return a;
}

static void mm_sweep_run(struct mm_sweep *s, const struct mm_event *ev, uint32_t ne)
{
	uint32_t i = 0;
	while (i < ne) {
		uint32_t starts, ends, open_before = s->active;
		uint64_t a = mm_sweep_point(s, ev, ne, &i, &starts, &ends);
		uint32_t cls = mm_strictest(s);
		if (s->st && starts) {
			uint32_t still_open = open_before - ends;
			s->st->overlaps += still_open ? starts : starts - 1;
		}
		if (cls != s->cur) {
			if (s->cur != MM_CLS_NONE)
				mm_emit(s, s->cur_start, a, s->cur);
			s->cur = cls;
			s->cur_start = a;
		} else if (s->st && cls != MM_CLS_NONE && starts && ends) {
			s->st->merged++;
		}
	}
}

/* Sweep ranges items[0..n) (start < end) into out; returns ranges written. */
static uint32_t mm_sweep_ranges(const struct memmap_range *items, uint32_t n,
                                struct mm_event *ev, struct memmap_range *out,
                                uint32_t cap, struct memmap_stats *st, uint32_t *lost)
{
	for (uint32_t k = 0; k < n; k++) {
		ev[2 * k] = (struct mm_event){ items[k].start, items[k].cls, 0 };
		ev[2 * k + 1] = (struct mm_event){ items[k].end, items[k].cls, 1 };
	}
	mm_heap_sort(ev, 2 * n);
	struct mm_sweep s;
	mm_memset(&s, 0, sizeof(s));
	s.cur = MM_CLS_NONE;
	s.out = out;
	s.cap = cap;
	s.st = st;
	mm_sweep_run(&s, ev, 2 * n);
	*lost = s.lost;
	return s.n_out;
}

/* ---- pass 1: validate and classify input -------------------------------- */

/* Turn the input into valid items in mid[]; returns how many. */
static uint32_t mm_collect(const struct memmap_in *in, uint32_t n,
                           struct memmap_range *mid, struct memmap_stats *st)
{
	uint32_t m = 0;
	for (uint32_t k = 0; k < n; k++) {
		const struct memmap_in *e = &in[k];
		if (k > 0 && e->start < in[k - 1].start)
			st->unsorted = 1;
		if (!memmap_type_known(e->kind, e->type)) {
			st->unknown_types++;
			mm_warn(st, MEMMAP_W_UNKNOWN_TYPE, k, e->start, e->end, e->type);
		}
		if (e->end == e->start) {
			st->dropped_empty++;
			mm_warn(st, MEMMAP_W_EMPTY, k, e->start, e->end, e->type);
			continue;
		}
		if (e->end < e->start) {
			st->dropped_wrap++;
			mm_warn(st, MEMMAP_W_WRAP, k, e->start, e->end, e->type);
			continue;
		}
		mid[m++] = (struct memmap_range){ e->start, e->end, mm_class_of(e->kind, e->type), 0 };
	}
	return m;
}

/* ---- pass 2: round to pages ---------------------------------------------- */

#define MM_TOP_PAGE (~(uint64_t)PAGE_MASK)   /* last page-aligned address */

/* Round r in place; false if it became empty. */
static bool mm_round(struct memmap_range *r)
{
	uint64_t s, e;
	if (MEMMAP_CLASS_BIT(r->cls) & MEMMAP_FREE_MASK) {
		s = r->start > MM_TOP_PAGE ? MM_TOP_PAGE : ALIGN_UP(r->start, (uint64_t)PAGE_SIZE);
		e = ALIGN_DOWN(r->end, (uint64_t)PAGE_SIZE);
	} else {
		s = ALIGN_DOWN(r->start, (uint64_t)PAGE_SIZE);
		e = r->end > MM_TOP_PAGE ? MM_TOP_PAGE : ALIGN_UP(r->end, (uint64_t)PAGE_SIZE);
	}
	r->start = s;
	r->end = e;
	return s < e;
}

static uint32_t mm_round_all(struct memmap_range *mid, uint32_t m, struct memmap_stats *st)
{
	uint32_t w = 0;
	for (uint32_t k = 0; k < m; k++) {
		struct memmap_range r = mid[k];
		bool kept = mm_round(&r);
		if (!kept) {
			st->dropped_empty++;
			continue;
		}
		if (r.start != mid[k].start || r.end != mid[k].end)
			st->clipped++;
		mid[w++] = r;
	}
	return w;
}

/* ---- entry points -------------------------------------------------------- */

uint64_t memmap_scratch_size(uint32_t n)
{
	return (uint64_t)n * 4 * sizeof(struct mm_event) +
	       (uint64_t)n * 2 * sizeof(struct memmap_range);
}

uint32_t memmap_sanitize(const struct memmap_in *in, uint32_t n,
                         struct memmap_range *out, uint32_t cap,
                         void *scratch, struct memmap_stats *stats)
{
	struct memmap_stats local;
	struct memmap_stats *st = stats ? stats : &local;
	mm_memset(st, 0, sizeof(*st));
	st->entries_in = n;
	if (n == 0 || !in || !scratch)
		return 0;
	if (n > MEMMAP_MAX_ENTRIES) {          /* event indices would overflow */
		st->truncated = n;
		mm_warn(st, MEMMAP_W_TRUNCATED, MEMMAP_MAX_ENTRIES, 0, 0, 0);
		return 0;
	}

	struct mm_event *ev = scratch;
	struct memmap_range *mid = (struct memmap_range *)(ev + 4 * (uint64_t)n);
	uint32_t lost;
	uint32_t m = mm_collect(in, n, mid, st);
	/* pass 1 may write into mid itself: the sweep turns every item into
	 * events before it emits the first range. */
	m = mm_sweep_ranges(mid, m, ev, mid, 2 * n, st, &lost);
	MM_ASSERT(lost == 0);
	m = mm_round_all(mid, m, st);
	uint32_t n_out = mm_sweep_ranges(mid, m, ev, out, out ? cap : 0, NULL, &lost);
	for (uint32_t k = 0; k < lost; k++)
		mm_warn(st, MEMMAP_W_TRUNCATED, cap + k, 0, 0, 0);
	st->truncated = lost;
	st->entries_out = n_out;
	return n_out;
}

/* Read one descriptor at any alignment. */
static void mm_read_desc(const void *descs, uint32_t i, uint32_t desc_size,
                         struct efi_memdesc *d)
{
	const uint8_t *p = (const uint8_t *)descs + (uint64_t)i * desc_size;
	mm_memcpy(d, p, sizeof(*d));
}

uint32_t memmap_from_efi(const void *descs, uint32_t n, uint32_t desc_size,
                         struct memmap_in *out)
{
	if (!descs || !out || desc_size < sizeof(struct efi_memdesc))
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		struct efi_memdesc d;
		mm_read_desc(descs, i, desc_size, &d);
		struct memmap_in *o = &out[i];
		o->start = d.phys_start;
		o->type = d.type;
		o->kind = MEMMAP_SRC_EFI;
		o->attr = d.attribute;
		uint64_t room = ~d.phys_start;   /* bytes up to 2^64 - 1 */
		if (d.num_pages > (room >> EFI_MD_PAGE_SHIFT) ||
		    (d.num_pages << EFI_MD_PAGE_SHIFT) > room) {
			/* end would reach or pass 2^64: mark wrapped (end < start) */
			if (o->start == 0)
				o->start = ~(uint64_t)0;
			o->end = 0;
		} else {
			o->end = d.phys_start + (d.num_pages << EFI_MD_PAGE_SHIFT);
		}
	}
	return n;
}

uint64_t memmap_mask_bytes(const struct memmap_range *r, uint32_t n,
                           uint32_t mask, uint64_t lo, uint64_t hi)
{
	uint64_t sum = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (r[i].cls >= MEMMAP_CLASS_COUNT || !(MEMMAP_CLASS_BIT(r[i].cls) & mask))
			continue;
		uint64_t s = r[i].start > lo ? r[i].start : lo;
		uint64_t e = r[i].end < hi ? r[i].end : hi;
		if (s < e)
			sum += e - s;
	}
	return sum;
}

uint64_t memmap_class_bytes(const struct memmap_range *r, uint32_t n,
                            enum memmap_class cls, uint64_t lo, uint64_t hi)
{
	if ((unsigned)cls >= MEMMAP_CLASS_COUNT)
		return 0;
	return memmap_mask_bytes(r, n, MEMMAP_CLASS_BIT(cls), lo, hi);
}
