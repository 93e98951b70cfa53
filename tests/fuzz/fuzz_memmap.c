/*
 * libFuzzer target: raw firmware descriptor arrays into the sanitizer.
 *
 * Input: byte 0 picks the descriptor stride (40..63) and byte 1 whether
 * the entries go in as raw EFI descriptors or as generic e820 ranges; the
 * rest is the descriptor array. Addresses are taken from the bytes as they
 * are (any alignment, wraps, zero pages, OEM types), but with probability
 * folded into a small window so entries overlap often.
 *
 * Invariants checked on every output:
 *   - sorted, disjoint, start < end, both ends 4 KiB aligned, valid class,
 *     no two touching ranges of one class, count <= capacity;
 *   - no output range overlaps a (non-dropped) input entry of a stricter
 *     class: nothing usable that any input entry marked reserved;
 *   - the stats add up (entries_in, entries_out, dropped <= entries).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mmboot/memmap.h>
#include "host_env.h"

#define MAX_N 512u

static struct memmap_in in[MAX_N];
static struct memmap_range out[4 * MAX_N];
static uint64_t scratch[(4 * MAX_N * 16 + 2 * MAX_N * 24) / 8 + 1];

static uint32_t class_of(const struct memmap_in *e)
{
	return e->kind == MEMMAP_SRC_EFI ? memmap_class_of_efi(e->type)
	                                 : e->kind == MEMMAP_SRC_E820 ? memmap_class_of_e820(e->type)
	                                                              : MEMMAP_RESERVED;
}

static void fold(struct memmap_in *e, uint8_t sel)
{
	if (sel & 1) {                           /* squeeze into a 1 MiB window */
		uint64_t len = e->end - e->start;
		e->start &= 0xfffff;
		e->end = e->start + (len & 0x3ffff);
	}
	if (sel & 2)
		e->type %= 16;                       /* mostly known types */
}

static void check(uint32_t n, uint32_t m, const struct memmap_stats *st, uint32_t cap)
{
	if (m > cap || st->entries_in != n || st->entries_out != m)
		abort();
	if (st->dropped_wrap + st->dropped_empty > n + 2 * n)
		abort();
	for (uint32_t i = 0; i < m; i++) {
		const struct memmap_range *r = &out[i];
		if (r->start >= r->end || (r->start | r->end) & 0xfff || r->cls >= MEMMAP_CLASS_COUNT)
			abort();
		if (i && (out[i - 1].end > r->start ||
		          (out[i - 1].end == r->start && out[i - 1].cls == r->cls)))
			abort();
		for (uint32_t k = 0; k < n; k++) {
			const struct memmap_in *e = &in[k];
			if (e->end <= e->start || class_of(e) <= r->cls)
				continue;
			if (e->start < r->end && e->end > r->start)
				abort();                     /* a stricter input class lost to r */
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint32_t stride = 40 + data[0] % 24, as_efi = data[1] & 1, sel = data[1] >> 1;
	data += 2;
	size -= 2;
	uint32_t n = (uint32_t)(size / stride);
	if (n > MAX_N)
		n = MAX_N;
	if (as_efi) {
		memmap_from_efi(data, n, stride, in);
	} else {
		for (uint32_t i = 0; i < n; i++) {
			struct efi_memdesc d;
			memcpy(&d, data + (size_t)i * stride, sizeof(d));
			in[i] = (struct memmap_in){ d.phys_start, d.num_pages, d.type % 24, MEMMAP_SRC_E820, 0 };
		}
	}
	for (uint32_t i = 0; i < n; i++)
		if (in[i].end > in[i].start)
			fold(&in[i], (uint8_t)(sel >> (i % 6)));
	if (memmap_scratch_size(n) > sizeof(scratch))
		abort();
	struct memmap_stats st;
	uint32_t cap = (sel & 0x40) ? n / 2 + 1 : ARRAY_SIZE(out);
	uint32_t m = memmap_sanitize(in, n, out, cap, scratch, &st);
	check(n, m, &st, cap);
	return 0;
}
