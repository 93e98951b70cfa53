/*
 * Unit tests of the memory-map sanitizer (mm/memmap.c): every rule of the
 * issue, descriptor strides 40/48/56, wraps, OEM types, and a randomized
 * comparison against a byte-level reference model on hundreds of unsorted,
 * overlapping entries. Scratch is allocated at exactly
 * memmap_scratch_size(n) so ASan catches any overrun.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <mmboot/memmap.h>
#include "host_env.h"

#define E820(s, e, t) ((struct memmap_in){ (s), (e), (t), MEMMAP_SRC_E820, 0 })
#define EFI(s, e, t)  ((struct memmap_in){ (s), (e), (t), MEMMAP_SRC_EFI, 0xf })

static struct memmap_range out[1024];
static struct memmap_stats st;

static uint32_t sanitize(const struct memmap_in *in, uint32_t n)
{
	void *scratch = malloc(memmap_scratch_size(n) ? memmap_scratch_size(n) : 1);
	uint32_t m = memmap_sanitize(in, n, out, ARRAY_SIZE(out), scratch, &st);
	free(scratch);
	return m;
}

static void expect(uint32_t i, uint64_t s, uint64_t e, uint32_t cls)
{
	if (out[i].start != s || out[i].end != e || out[i].cls != cls)
		fail_msg("out[%u] = [0x%llx-0x%llx) %s, expected [0x%llx-0x%llx) %s", i,
		         (unsigned long long)out[i].start, (unsigned long long)out[i].end,
		         memmap_class_name(out[i].cls), (unsigned long long)s,
		         (unsigned long long)e, memmap_class_name(cls));
}

/* Output invariants every result must satisfy. */
static void assert_clean(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		assert_true(out[i].start < out[i].end);
		assert_true(out[i].start % 4096 == 0 && out[i].end % 4096 == 0);
		assert_true(out[i].cls < MEMMAP_CLASS_COUNT);
		assert_int_equal(out[i].pad, 0);
		if (i > 0) {
			assert_true(out[i - 1].end <= out[i].start);
			assert_false(out[i - 1].end == out[i].start && out[i - 1].cls == out[i].cls);
		}
	}
}

static void test_class_mapping(void **s)
{
	(void)s;
	assert_int_equal(memmap_class_of_efi(EFI_MT_CONVENTIONAL), MEMMAP_USABLE);
	assert_int_equal(memmap_class_of_efi(EFI_MT_BOOT_SERVICES_CODE), MEMMAP_BOOT_SERVICES);
	assert_int_equal(memmap_class_of_efi(EFI_MT_BOOT_SERVICES_DATA), MEMMAP_BOOT_SERVICES);
	assert_int_equal(memmap_class_of_efi(EFI_MT_LOADER_CODE), MEMMAP_LOADER);
	assert_int_equal(memmap_class_of_efi(EFI_MT_LOADER_DATA), MEMMAP_LOADER);
	assert_int_equal(memmap_class_of_efi(EFI_MT_ACPI_RECLAIM), MEMMAP_ACPI_RECLAIM);
	assert_int_equal(memmap_class_of_efi(EFI_MT_ACPI_NVS), MEMMAP_ACPI_NVS);
	assert_int_equal(memmap_class_of_efi(EFI_MT_RUNTIME_SERVICES_DATA), MEMMAP_RUNTIME);
	assert_int_equal(memmap_class_of_efi(EFI_MT_MMIO_PORT_SPACE), MEMMAP_MMIO);
	assert_int_equal(memmap_class_of_efi(EFI_MT_UNUSABLE), MEMMAP_UNUSABLE);
	assert_int_equal(memmap_class_of_efi(EFI_MT_PERSISTENT), MEMMAP_PERSISTENT);
	assert_int_equal(memmap_class_of_efi(EFI_MT_PAL_CODE), MEMMAP_RESERVED);
	assert_int_equal(memmap_class_of_efi(0x70000001), MEMMAP_RESERVED);
	assert_int_equal(memmap_class_of_efi(0x80000000u), MEMMAP_RESERVED);
	assert_int_equal(memmap_class_of_e820(1), MEMMAP_USABLE);
	assert_int_equal(memmap_class_of_e820(2), MEMMAP_RESERVED);
	assert_int_equal(memmap_class_of_e820(3), MEMMAP_ACPI_RECLAIM);
	assert_int_equal(memmap_class_of_e820(4), MEMMAP_ACPI_NVS);
	assert_int_equal(memmap_class_of_e820(5), MEMMAP_UNUSABLE);
	assert_int_equal(memmap_class_of_e820(7), MEMMAP_PERSISTENT);
	assert_int_equal(memmap_class_of_e820(20), MEMMAP_RESERVED);
	assert_true(memmap_type_known(MEMMAP_SRC_EFI, 14));
	assert_false(memmap_type_known(MEMMAP_SRC_EFI, 0x70000000));
	assert_false(memmap_type_known(MEMMAP_SRC_E820, 20));
	assert_false(memmap_type_known(99, 1));
	assert_string_equal(memmap_class_name(MEMMAP_MMIO), "mmio");
}

/* A reserved range nested in a usable one splits it in three. */
static void test_nested_reserved_splits(void **s)
{
	(void)s;
	struct memmap_in in[] = { E820(0, 0x100000, 1), E820(0x40000, 0x50000, 2) };
	uint32_t n = sanitize(in, 2);
	assert_int_equal(n, 3);
	expect(0, 0, 0x40000, MEMMAP_USABLE);
	expect(1, 0x40000, 0x50000, MEMMAP_RESERVED);
	expect(2, 0x50000, 0x100000, MEMMAP_USABLE);
	assert_int_equal(st.overlaps, 1);
	assert_clean(n);
}

/* Partial overlaps: the stricter class wins, whichever comes first. */
static void test_overlap_stricter_wins(void **s)
{
	(void)s;
	struct memmap_in in[] = {
		EFI(0x10000, 0x30000, EFI_MT_ACPI_NVS),
		EFI(0x00000, 0x20000, EFI_MT_CONVENTIONAL),
		EFI(0x28000, 0x40000, EFI_MT_BOOT_SERVICES_DATA),
		EFI(0x38000, 0x48000, EFI_MT_MMIO),
		EFI(0x40000, 0x50000, EFI_MT_RESERVED),
	};
	uint32_t n = sanitize(in, 5);
	assert_int_equal(n, 5);
	expect(0, 0, 0x10000, MEMMAP_USABLE);
	expect(1, 0x10000, 0x30000, MEMMAP_ACPI_NVS);
	expect(2, 0x30000, 0x38000, MEMMAP_BOOT_SERVICES);
	expect(3, 0x38000, 0x40000, MEMMAP_MMIO);
	expect(4, 0x40000, 0x50000, MEMMAP_RESERVED);
	assert_int_equal(st.unsorted, 1);
	assert_true(st.overlaps >= 3);
	assert_clean(n);
}

/* Touching ranges of one class merge; different classes do not. */
static void test_adjacent_merge(void **s)
{
	(void)s;
	struct memmap_in in[] = {
		E820(0x0, 0x1000, 1), E820(0x1000, 0x5000, 1), E820(0x5000, 0x9000, 1),
		E820(0x9000, 0xa000, 2), E820(0xa000, 0xb000, 2), E820(0xb000, 0xc000, 3),
	};
	uint32_t n = sanitize(in, 6);
	assert_int_equal(n, 3);
	expect(0, 0, 0x9000, MEMMAP_USABLE);
	expect(1, 0x9000, 0xb000, MEMMAP_RESERVED);
	expect(2, 0xb000, 0xc000, MEMMAP_ACPI_RECLAIM);
	assert_int_equal(st.merged, 3);
	assert_int_equal(st.overlaps, 0);
	assert_int_equal(st.unsorted, 0);
	assert_clean(n);
}

/* Usable rounds inward after merging: two half pages make a whole one. */
static void test_round_after_merge(void **s)
{
	(void)s;
	struct memmap_in in[] = { E820(0x1800, 0x2800, 1), E820(0x2800, 0x4000, 1) };
	uint32_t n = sanitize(in, 2);
	assert_int_equal(n, 1);
	expect(0, 0x2000, 0x4000, MEMMAP_USABLE);
	assert_int_equal(st.clipped, 1);
}

/* Sub-page ends (SeaBIOS): usable inward, reserved outward, no overlap. */
static void test_subpage_ends(void **s)
{
	(void)s;
	struct memmap_in in[] = {
		E820(0x0, 0x9fc00, 1), E820(0x9fc00, 0xa0000, 2),
		E820(0xf0000, 0x100000, 2), E820(0x100000, 0xbffe0000, 1),
		E820(0xbffe0000, 0xc0000000, 2), E820(0xfeffc000, 0xff000000, 2),
		E820(0x100000000ull, 0x140000000ull, 1),
		E820(0x200000, 0x200800, 2),          /* half a page reserved inside usable */
		E820(0x300001, 0x300002, 4),          /* one NVS byte */
	};
	uint32_t n = sanitize(in, ARRAY_SIZE(in));
	assert_clean(n);
	assert_int_equal(n, 11);
	expect(0, 0, 0x9f000, MEMMAP_USABLE);
	expect(1, 0x9f000, 0xa0000, MEMMAP_RESERVED);
	expect(2, 0xf0000, 0x100000, MEMMAP_RESERVED);
	expect(3, 0x100000, 0x200000, MEMMAP_USABLE);
	expect(4, 0x200000, 0x201000, MEMMAP_RESERVED);
	expect(5, 0x201000, 0x300000, MEMMAP_USABLE);
	expect(6, 0x300000, 0x301000, MEMMAP_ACPI_NVS);
	expect(7, 0x301000, 0xbffe0000, MEMMAP_USABLE);
	expect(8, 0xbffe0000, 0xc0000000, MEMMAP_RESERVED);
	expect(9, 0xfeffc000, 0xff000000, MEMMAP_RESERVED);
	expect(10, 0x100000000ull, 0x140000000ull, MEMMAP_USABLE);
	assert_int_equal(st.overlaps, 2);
	assert_true(st.clipped >= 6);
}

/* Two strict classes sharing a partial page: the stricter gets it. */
static void test_shared_page_stricter(void **s)
{
	(void)s;
	struct memmap_in in[] = { E820(0x1000, 0x2800, 3), E820(0x2800, 0x4000, 2) };
	uint32_t n = sanitize(in, 2);
	assert_int_equal(n, 2);
	expect(0, 0x1000, 0x2000, MEMMAP_ACPI_RECLAIM);
	expect(1, 0x2000, 0x4000, MEMMAP_RESERVED);   /* shared page: reserved > ACPI */
	/* a sub-page MMIO range inside an ACPI page: the page is MMIO */
	struct memmap_in in2[] = { E820(0x1000, 0x3000, 3), EFI(0x2100, 0x2200, EFI_MT_MMIO) };
	n = sanitize(in2, 2);
	assert_int_equal(n, 2);
	expect(0, 0x1000, 0x2000, MEMMAP_ACPI_RECLAIM);
	expect(1, 0x2000, 0x3000, MEMMAP_MMIO);
}

static void test_zero_and_wrap_dropped(void **s)
{
	(void)s;
	struct memmap_in in[] = {
		E820(0x1000, 0x1000, 1),                       /* zero length */
		E820(0xfffffffffffff000ull, 0x1000, 2),        /* wrapped */
		E820(0x2000, 0x3000, 1),
		E820(0x10000, 0x10000, 2),
	};
	uint32_t n = sanitize(in, 4);
	assert_int_equal(n, 1);
	expect(0, 0x2000, 0x3000, MEMMAP_USABLE);
	assert_int_equal(st.dropped_empty, 2);
	assert_int_equal(st.dropped_wrap, 1);
	assert_int_equal(st.warnings, 3);
	assert_int_equal(st.log[0].what, MEMMAP_W_EMPTY);
	assert_int_equal(st.log[1].what, MEMMAP_W_WRAP);
	assert_int_equal(st.log[1].index, 1);
	/* and the printed report names them */
	host_log_set(HOST_LOG_CAPTURE);
	host_log_clear();
	memmap_print_stats(&st, "# ");
	host_log_set(HOST_LOG_STDERR);
	assert_non_null(strstr(host_log_buf, "wraps past 2^64"));
	assert_non_null(strstr(host_log_buf, "zero-length"));
}

/* Raw EFI descriptors with strides 40, 48 and 56 (read unaligned). */
static void fill_descs(uint8_t *buf, uint32_t stride, const struct efi_memdesc *d, uint32_t n)
{
	memset(buf, 0xAB, (size_t)stride * n);    /* junk in the padding */
	for (uint32_t i = 0; i < n; i++)
		memcpy(buf + (size_t)i * stride, &d[i], sizeof(d[i]));
}

static void test_efi_strides_and_wrap(void **s)
{
	(void)s;
	struct efi_memdesc d[] = {
		{ EFI_MT_CONVENTIONAL, 0, 0x0, 0, 0x9f, 0xf },
		{ EFI_MT_BOOT_SERVICES_CODE, 0, 0x100000, 0, 0x100, 0xf },
		{ 0x70000005, 0, 0x200000, 0, 0x10, 0xf },                      /* OEM */
		{ 0x80000001, 0, 0x300000, 0, 0x10, 0 },                        /* OS */
		{ EFI_MT_CONVENTIONAL, 0, 0xfffffffffff00000ull, 0, 0x200, 0 }, /* wraps */
		{ EFI_MT_CONVENTIONAL, 0, 0x0, 0, 1ull << 52, 0 },              /* 2^64 from 0 */
		{ EFI_MT_CONVENTIONAL, 0, 0x400000, 0, 0, 0 },                  /* empty */
		{ EFI_MT_RUNTIME_SERVICES_DATA, 0, 0x500000, 0, 0xffffffffffffffffull, 0 },
	};
	uint32_t strides[] = { 40, 48, 56, 44 };
	for (unsigned k = 0; k < ARRAY_SIZE(strides); k++) {
		uint8_t *buf = malloc(strides[k] * ARRAY_SIZE(d) + 1);
		fill_descs(buf + 1, strides[k], d, ARRAY_SIZE(d));   /* +1: unaligned */
		struct memmap_in in[ARRAY_SIZE(d)];
		assert_int_equal(memmap_from_efi(buf + 1, ARRAY_SIZE(d), strides[k], in), ARRAY_SIZE(d));
		assert_true(in[1].start == 0x100000 && in[1].end == 0x200000);
		assert_true(in[4].end < in[4].start);
		assert_true(in[5].end < in[5].start);
		assert_true(in[7].end < in[7].start);
		uint32_t n = sanitize(in, ARRAY_SIZE(d));
		assert_int_equal(n, 4);
		expect(0, 0, 0x9f000, MEMMAP_USABLE);
		expect(1, 0x100000, 0x200000, MEMMAP_BOOT_SERVICES);
		expect(2, 0x200000, 0x210000, MEMMAP_RESERVED);
		expect(3, 0x300000, 0x310000, MEMMAP_RESERVED);
		assert_int_equal(st.unknown_types, 2);
		assert_int_equal(st.dropped_wrap, 3);
		assert_int_equal(st.dropped_empty, 1);
		free(buf);
	}
	struct memmap_in in[1];
	assert_int_equal(memmap_from_efi(d, 1, 32, in), 0);   /* stride too small */
}

static void test_truncated_output(void **s)
{
	(void)s;
	struct memmap_in in[6];
	for (int i = 0; i < 6; i++)
		in[i] = E820((uint64_t)i * 0x2000, (uint64_t)i * 0x2000 + 0x1000, 1);
	void *scratch = malloc(memmap_scratch_size(6));
	struct memmap_range small[4];
	uint32_t n = memmap_sanitize(in, 6, small, 4, scratch, &st);
	free(scratch);
	assert_int_equal(n, 4);
	assert_int_equal(st.truncated, 2);
	assert_int_equal(st.entries_out, 4);
	assert_true(small[3].start == 0x6000);
}

static void test_bytes_helpers(void **s)
{
	(void)s;
	struct memmap_in in[] = { E820(0, 0x9f000, 1), E820(0x100000, 0x200000000ull, 1),
	                          E820(0xc0000000ull, 0x100000000ull, 2) };
	uint32_t n = sanitize(in, 3);
	assert_true(memmap_class_bytes(out, n, MEMMAP_USABLE, 0, 1ull << 32) ==
	            0x9f000 + 0xc0000000ull - 0x100000);
	assert_true(memmap_class_bytes(out, n, MEMMAP_USABLE, 1ull << 32, ~0ull) == 0x100000000ull);
	assert_true(memmap_mask_bytes(out, n, MEMMAP_CLASS_BIT(MEMMAP_RESERVED) |
	                              MEMMAP_CLASS_BIT(MEMMAP_USABLE), 0, ~0ull) ==
	            0x200000000ull - 0x1000 - 0x60000 + 0x0);
}

/* ---- randomized: hundreds of unsorted entries vs a byte-level model ---- */

#define RSPACE_PAGES 64u
#define RSPACE (RSPACE_PAGES * 4096u)
static uint8_t bytecls[RSPACE];      /* strictest class per byte, 0xff = none */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Reference class of page p (see mm/memmap.c rule 5), 0xff = not in output. */
static uint8_t ref_page(uint32_t p)
{
	uint8_t strict = 0xff, first = bytecls[p * 4096];
	bool same = true;
	for (uint32_t b = p * 4096; b < (p + 1) * 4096; b++) {
		uint8_t c = bytecls[b];
		if (c != 0xff && !(MEMMAP_CLASS_BIT(c) & MEMMAP_FREE_MASK))
			strict = (strict == 0xff || c > strict) ? c : strict;
		same &= c == first;
	}
	if (strict != 0xff)
		return strict;
	return same ? first : 0xff;
}

static void random_round(uint32_t n)
{
	struct memmap_in *in = malloc(sizeof(*in) * n);
	memset(bytecls, 0xff, sizeof(bytecls));
	for (uint32_t i = 0; i < n; i++) {
		uint64_t s = rnd() % RSPACE, len = rnd() % 3 == 0 ? rnd() % 64 : rnd() % (RSPACE / 4);
		if (rnd() % 4)
			s &= ~0xfffull;                            /* mostly page aligned */
		uint64_t e = s + len > RSPACE ? RSPACE : s + len;
		uint32_t t = (uint32_t)(rnd() % 17);
		in[i] = (struct memmap_in){ s, e, t == 16 ? 0x70000000u : t, MEMMAP_SRC_EFI, 0 };
		uint8_t c = (uint8_t)memmap_class_of_efi(in[i].type);
		for (uint64_t b = s; b < e; b++)
			if (bytecls[b] == 0xff || c > bytecls[b])
				bytecls[b] = c;
	}
	uint32_t m = sanitize(in, n);
	assert_clean(m);
	assert_int_equal(st.truncated, 0);
	uint8_t got[RSPACE_PAGES];
	memset(got, 0xff, sizeof(got));
	for (uint32_t i = 0; i < m; i++)
		for (uint64_t a = out[i].start; a < out[i].end; a += 4096)
			got[a / 4096] = (uint8_t)out[i].cls;
	for (uint32_t p = 0; p < RSPACE_PAGES; p++)
		if (got[p] != ref_page(p))
			fail_msg("n=%u page %u: got %d, reference %d", n, p, got[p], ref_page(p));
	free(in);
}

static void test_random_vs_reference(void **s)
{
	(void)s;
	for (int round = 0; round < 60; round++)
		random_round(1 + (uint32_t)(rnd() % 400));
}

/* 500 entries in reverse order, every other one nested in the one before. */
static void test_many_unsorted(void **s)
{
	(void)s;
	enum { N = 500 };
	static struct memmap_in in[N];
	for (uint32_t i = 0; i < N; i++) {
		uint64_t base = (uint64_t)(N - 1 - (i & ~1u)) * 0x10000;
		in[i] = i % 2 ? E820(base + 0x1000, base + 0x3000, 2) : E820(base, base + 0x10000, 1);
	}
	uint32_t n = sanitize(in, N);
	assert_clean(n);
	assert_int_equal(st.unsorted, 1);
	assert_int_equal(st.entries_in, N);
	/* each usable 64 KiB block split in three by the reserved one nested in it */
	assert_int_equal(n, 3 * N / 2);
	assert_int_equal(st.overlaps, N / 2);
	assert_true(memmap_class_bytes(out, n, MEMMAP_RESERVED, 0, ~0ull) == (N / 2) * 0x2000ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_class_mapping),
		cmocka_unit_test(test_nested_reserved_splits),
		cmocka_unit_test(test_overlap_stricter_wins),
		cmocka_unit_test(test_adjacent_merge),
		cmocka_unit_test(test_round_after_merge),
		cmocka_unit_test(test_subpage_ends),
		cmocka_unit_test(test_shared_page_stricter),
		cmocka_unit_test(test_zero_and_wrap_dropped),
		cmocka_unit_test(test_efi_strides_and_wrap),
		cmocka_unit_test(test_truncated_output),
		cmocka_unit_test(test_bytes_helpers),
		cmocka_unit_test(test_random_vs_reference),
		cmocka_unit_test(test_many_unsorted),
	};
	return cmocka_run_group_tests_name("memmap", tests, NULL, NULL);
}
