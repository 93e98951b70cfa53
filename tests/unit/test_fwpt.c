/*
 * test_fwpt.c: the loader's walk of the firmware's x86_64 page tables and
 * the boot-info transient list (arch/x86/fwpt.c), on a simulated physical
 * memory.
 *
 * "Physical memory" is SIM_PAGES host pages standing for [SIM_BASE, ...),
 * placed above 4 GiB on purpose (the walker must not care). Trees are built
 * by hand with 1 GiB / 2 MiB leaves, absent entries whose address bits point
 * at real tables (must not be followed), NX and protection-key bits (must be
 * masked off), a recursive self-map and a back pointer (must not loop), and
 * five levels. Every table page must be reported exactly once per reference,
 * with its level; writability is the AND of RW over the levels unless CR0.WP
 * is clear. The list tests cover sorted insertion, merging with either or
 * both neighbours, kinds that must not merge, and a full list.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "../../arch/x86/fwpt.h"

#define SIM_BASE  0x123400000ull
#define SIM_PAGES 16u
#define PA(i)     (SIM_BASE + (uint64_t)(i) * 4096u)
#define NX        (1ull << 63)
#define PKEY      (0xFull << 59)

static uint64_t mem[SIM_PAGES][512];
static uint32_t taken[SIM_PAGES];       /* take() calls per page */
static uint32_t taken_level[SIM_PAGES]; /* the level reported */
static uint32_t outside;                /* take()/table() outside the memory */

static const uint64_t *sim_table(void *ctx, uint64_t pa)
{
	(void)ctx;
	if (pa < SIM_BASE || pa >= PA(SIM_PAGES) || (pa & 4095u)) {
		outside++;
		return NULL;
	}
	return mem[(pa - SIM_BASE) / 4096u];
}

static void sim_take(void *ctx, uint64_t pa, uint32_t level)
{
	(void)ctx;
	if (pa < SIM_BASE || pa >= PA(SIM_PAGES)) {
		outside++;
		return;
	}
	taken[(pa - SIM_BASE) / 4096u]++;
	taken_level[(pa - SIM_BASE) / 4096u] = level;
}

static const struct fwpt_ops ops = { NULL, sim_table, sim_take };

static int reset(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	memset(taken, 0, sizeof(taken));
	memset(taken_level, 0, sizeof(taken_level));
	outside = 0;
	return 0;
}

static void link(uint32_t from, uint32_t idx, uint32_t to, uint64_t flags)
{
	mem[from][idx] = PA(to) | FWPT_P | flags;
}

/* PML4 0 -> PDPT 1 -> {PD 2 -> {PT 4, 2M leaf, PT 5}, 1G leaf, PD 3 -> PT 6} */
static void build_tree(void)
{
	link(0, 0, 1, FWPT_RW);
	link(1, 0, 2, FWPT_RW | NX);
	mem[1][1] = 0x40000000ull | FWPT_P | FWPT_RW | FWPT_PS;     /* 1 GiB leaf */
	link(1, 2, 3, FWPT_RW | PKEY);
	link(2, 0, 4, FWPT_RW);
	mem[2][1] = 0x200000ull | FWPT_P | FWPT_RW | FWPT_PS;       /* 2 MiB leaf */
	link(2, 5, 5, FWPT_RW);
	link(3, 7, 6, 0);                                            /* read-only table */
	mem[3][8] = PA(9) | FWPT_RW;                                 /* absent: not followed */
	mem[4][3] = 0x5000ull | FWPT_P | FWPT_RW;                    /* 4 KiB leaves */
	mem[6][0] = 0x6000ull | FWPT_P | FWPT_RW;
}

static void expect_taken(const uint32_t *want_level, uint32_t n)
{
	for (uint32_t i = 0; i < SIM_PAGES; i++) {
		uint32_t want = i < n && want_level[i] ? 1u : 0u;
		if (taken[i] != want)
			fail_msg("page %u taken %u times, expected %u", i, taken[i], want);
		if (want && taken_level[i] != want_level[i])
			fail_msg("page %u reported at level %u, expected %u", i, taken_level[i],
			         want_level[i]);
	}
	assert_int_equal(outside, 0);
}

static void test_walk_every_table(void **state)
{
	(void)state;
	build_tree();
	struct fwpt_stats st;
	fwpt_walk(&ops, PA(0) | 0x18u /* PCD|PWT bits in CR3 */, 4, 1u << 20, &st);
	static const uint32_t want[] = { 4, 3, 2, 2, 1, 1, 1 };
	expect_taken(want, 7);
	assert_int_equal(st.tables, 7);
	assert_int_equal(st.large, 2);
	assert_int_equal(st.entries, 4 * 512);   /* PML4, PDPT, two PDs; page tables not read */
	assert_int_equal(st.cycles, 0);
	assert_int_equal(st.budget_hit, 0);
}

static void test_walk_self_map_and_back_pointer(void **state)
{
	(void)state;
	build_tree();
	link(0, 511, 0, FWPT_RW);    /* recursive PML4 slot */
	link(2, 9, 1, FWPT_RW);      /* a PD pointing back at its PDPT */
	struct fwpt_stats st;
	fwpt_walk(&ops, PA(0), 4, 1u << 20, &st);
	static const uint32_t want[] = { 4, 3, 2, 2, 1, 1, 1 };
	expect_taken(want, 7);
	assert_int_equal(st.cycles, 2);
}

static void test_walk_shared_table(void **state)
{
	(void)state;
	build_tree();
	link(3, 9, 4, FWPT_RW);      /* PT 4 referenced from PD 2 and PD 3 */
	struct fwpt_stats st;
	fwpt_walk(&ops, PA(0), 4, 1u << 20, &st);
	assert_int_equal(taken[4], 2);   /* once per reference: take() must be idempotent */
	assert_int_equal(st.tables, 8);
}

static void test_walk_five_levels(void **state)
{
	(void)state;
	link(7, 0, 8, FWPT_RW);      /* PML5 7 -> PML4 8 -> PDPT 10 -> 1 GiB leaf */
	link(8, 3, 10, FWPT_RW);
	mem[10][0] = FWPT_P | FWPT_PS;
	struct fwpt_stats st;
	fwpt_walk(&ops, PA(7), 5, 1u << 20, &st);
	static const uint32_t want[] = { 0, 0, 0, 0, 0, 0, 0, 5, 4, 0, 3 };
	expect_taken(want, 11);
	assert_int_equal(st.large, 1);
}

static void test_walk_budget_and_bad_levels(void **state)
{
	(void)state;
	build_tree();
	struct fwpt_stats st;
	fwpt_walk(&ops, PA(0), 4, 10, &st);
	assert_int_equal(st.budget_hit, 1);
	assert_int_equal(st.entries, 10);
	fwpt_walk(&ops, PA(0), 6, 1u << 20, &st);
	assert_int_equal(st.tables, 0);
	fwpt_walk(&ops, PA(0), 1, 1u << 20, &st);
	assert_int_equal(st.tables, 0);
}

static void test_writable(void **state)
{
	(void)state;
	build_tree();
	uint64_t r = PA(0);
	assert_true(fwpt_writable(&ops, r, 4, 0x5123, true) == false);   /* absent: not mapped */
	/* va 0x3000: PML4[0] PDPT[0] PD[0] PT4[3] -> present RW */
	assert_true(fwpt_writable(&ops, r, 4, 0x3fff, true));
	assert_true(fwpt_writable(&ops, r, 4, 0x200000 + 0x1234, true)); /* 2 MiB leaf */
	assert_true(fwpt_writable(&ops, r, 4, 0x40000000 + 0x7777, true)); /* 1 GiB leaf */
	/* va 0x80E00000: PDPT[2] -> PD 3 [7] (read-only) -> PT 6 [0] RW: not writable */
	assert_true(fwpt_writable(&ops, r, 4, 0x80E00000, true) == false);
	assert_true(fwpt_writable(&ops, r, 4, 0x80E00000, false));       /* CR0.WP clear */
	assert_true(fwpt_writable(&ops, r, 4, 0x80E01000, false) == false); /* not present */
	assert_int_equal(outside, 0);
}

static struct bootinfo bi;

static void add(uint64_t pa, uint32_t pages, uint32_t kind, int want)
{
	assert_int_equal(bi_transient_add(&bi, pa, pages, kind), want);
}

static void expect_range(uint32_t i, uint64_t pa, uint32_t pages, uint32_t kind)
{
	assert_true(i < bi.transient_count);
	assert_int_equal(bi.transient[i].pa, pa);
	assert_int_equal(bi.transient[i].pages, pages);
	assert_int_equal(bi.transient[i].kind, kind);
}

static void test_list_sorted_and_merged(void **state)
{
	(void)state;
	memset(&bi, 0, sizeof(bi));
	add(0x10000, 1, BI_TR_FW_PAGE_TABLE, 0);
	add(0x5000, 1, BI_TR_FW_PAGE_TABLE, 0);       /* before: new entry 0 */
	add(0x11000, 2, BI_TR_FW_PAGE_TABLE, 0);      /* merges into the previous */
	add(0x4000, 1, BI_TR_FW_PAGE_TABLE, 0);       /* merges into the next */
	add(0x6000, 1, BI_TR_LOADER_STACK, 0);        /* touches 0x5000 but another kind */
	assert_int_equal(bi.transient_count, 3);
	expect_range(0, 0x4000, 2, BI_TR_FW_PAGE_TABLE);
	expect_range(1, 0x6000, 1, BI_TR_LOADER_STACK);
	expect_range(2, 0x10000, 3, BI_TR_FW_PAGE_TABLE);
	add(0x8000, 8, BI_TR_FW_PAGE_TABLE, 0);       /* 0x8000-0x10000: joins range 2 */
	expect_range(2, 0x8000, 11, BI_TR_FW_PAGE_TABLE);
	add(0x7000, 1, BI_TR_LOADER_STACK, 0);        /* after the stack range */
	expect_range(1, 0x6000, 2, BI_TR_LOADER_STACK);
	assert_int_equal(bi.transient_count, 3);
	assert_int_equal(bi.transient_pages, 2 + 2 + 11);
	memset(&bi, 0, sizeof(bi));
	add(0x1000, 1, BI_TR_FW_DESC_TABLE, 0);
	add(0x3000, 1, BI_TR_FW_DESC_TABLE, 0);
	add(0x2000, 1, BI_TR_FW_DESC_TABLE, 0);       /* bridges both neighbours */
	assert_int_equal(bi.transient_count, 1);
	expect_range(0, 0x1000, 3, BI_TR_FW_DESC_TABLE);
}

static void test_list_full(void **state)
{
	(void)state;
	memset(&bi, 0, sizeof(bi));
	for (uint32_t i = 0; i < BOOTINFO_TRANSIENT_MAX; i++)
		add(0x100000 + (uint64_t)i * 0x2000, 1, BI_TR_FW_PAGE_TABLE, 0);
	struct bootinfo copy = bi;
	add(0x1000, 1, BI_TR_FW_PAGE_TABLE, -1);      /* no room, no merge: refused */
	assert_memory_equal(&copy, &bi, sizeof(bi));
	add(0x101000, 1, BI_TR_FW_PAGE_TABLE, 0);     /* fills a gap: two ranges merge */
	assert_int_equal(bi.transient_count, BOOTINFO_TRANSIENT_MAX - 1);
	expect_range(0, 0x100000, 3, BI_TR_FW_PAGE_TABLE);
	for (uint32_t i = 1; i < bi.transient_count; i++)
		assert_true(bi.transient[i - 1].pa + bi.transient[i - 1].pages * 4096ull <
		            bi.transient[i].pa);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_walk_every_table, reset),
		cmocka_unit_test_setup(test_walk_self_map_and_back_pointer, reset),
		cmocka_unit_test_setup(test_walk_shared_table, reset),
		cmocka_unit_test_setup(test_walk_five_levels, reset),
		cmocka_unit_test_setup(test_walk_budget_and_bad_levels, reset),
		cmocka_unit_test_setup(test_writable, reset),
		cmocka_unit_test(test_list_sorted_and_merged),
		cmocka_unit_test(test_list_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
