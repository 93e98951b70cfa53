/*
 * Real firmware maps replayed into the sanitizer and the PMM.
 *
 * Reads every NAME.raw.txt in the shared corpus (../shared/memmaps/, or
 * $MMBOOT_MEMMAPS) with the inspector's parser (tools/memmap/mapfile.h) and
 * checks:
 *   - every raw file parses, with the entry count and sortedness the
 *     corpus README lists;
 *   - the raw and the normalised (NAME.txt) forms give the same entries
 *     and the same sanitized map;
 *   - the ZenBook's e820 and EFI forms give the same usable total;
 *   - the free memory below/above 4 GiB matches the README table (MiB);
 *   - a PMM built from each map has free pages == sanitized free-class
 *     pages below 4 GiB minus the policy reservations (frame 0 and the low
 *     1 MiB; the metadata lives outside the map here), counts the memory
 *     above 4 GiB, and passes pmm_check.
 * A missing corpus is reported; it fails only when CI is set.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <cmocka.h>

#include <mmboot/memmap.h>
#include <mmboot/pmm.h>
#include "../../tools/memmap/mapfile.h"
#include "host_env.h"

#define MAX_MAPS 64
#define OUT_CAP 4096

struct rmap {                          /* one corpus map, both forms */
	char name[128];                    /* NAME */
	struct mapfile raw, norm;          /* parsed forms */
	struct memmap_range out[OUT_CAP];  /* sanitized raw form */
	uint32_t n_out;
	struct memmap_stats st;
	struct memmap_range out_norm[OUT_CAP];
	uint32_t n_out_norm;
};

static const char *dir;
static struct rmap *maps[MAX_MAPS];
static unsigned n_maps;

static uint32_t sanitize(const struct mapfile *mf, struct memmap_range *out,
                         struct memmap_stats *st)
{
	void *scratch = malloc(memmap_scratch_size(mf->n) + 8);
	uint32_t n = memmap_sanitize(mf->in, mf->n, out, OUT_CAP, scratch, st);
	free(scratch);
	return n;
}

static int load(const char *name, struct mapfile *mf)
{
	char path[512], err[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (mapfile_load(path, mf, err, sizeof(err)) != 0) {
		print_error("%s\n", err);
		return -1;
	}
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp((*(struct rmap *const *)a)->name, (*(struct rmap *const *)b)->name);
}

static int setup(void **state)
{
	(void)state;
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d)) && n_maps < MAX_MAPS;) {
		size_t len = strlen(e->d_name);
		if (len < 9 || strcmp(e->d_name + len - 8, ".raw.txt") != 0)
			continue;
		struct rmap *m = calloc(1, sizeof(*m));
		snprintf(m->name, sizeof(m->name), "%.*s", (int)(len - 8), e->d_name);
		maps[n_maps++] = m;
	}
	closedir(d);
	qsort(maps, n_maps, sizeof(maps[0]), cmp_name);
	return n_maps ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < n_maps; i++) {
		mapfile_free(&maps[i]->raw);
		mapfile_free(&maps[i]->norm);
		free(maps[i]);
	}
	return 0;
}

/* Every raw file parses and sanitizes; so does its normalised twin. */
static void test_parse_every_raw_file(void **state)
{
	(void)state;
	assert_true(n_maps >= 16);
	for (unsigned i = 0; i < n_maps; i++) {
		struct rmap *m = maps[i];
		char f[160];
		snprintf(f, sizeof(f), "%s.raw.txt", m->name);
		if (load(f, &m->raw))
			fail_msg("%s does not parse", f);
		snprintf(f, sizeof(f), "%s.txt", m->name);
		if (load(f, &m->norm))
			fail_msg("%s does not parse", f);
		assert_true(m->raw.n > 0);
		m->n_out = sanitize(&m->raw, m->out, &m->st);
		struct memmap_stats st2;
		m->n_out_norm = sanitize(&m->norm, m->out_norm, &st2);
		assert_int_equal(m->st.truncated, 0);
		assert_int_equal(m->st.dropped_wrap, 0);
		print_message("# %-40s %-12s %3u entries -> %3u ranges (merged %u, clipped %u, overlaps %u)\n",
		              m->name, mapfile_format_name(m->raw.format), m->raw.n, m->n_out,
		              m->st.merged, m->st.clipped, m->st.overlaps);
	}
}

/* Raw and normalised forms: same entries (address, class), same result. */
static void test_raw_and_normalised_agree(void **state)
{
	(void)state;
	for (unsigned i = 0; i < n_maps; i++) {
		struct rmap *m = maps[i];
		if (m->raw.n != m->norm.n)
			fail_msg("%s: raw %u entries, normalised %u", m->name, m->raw.n, m->norm.n);
		for (uint32_t k = 0; k < m->raw.n; k++) {
			const struct memmap_in *a = &m->raw.in[k], *b = &m->norm.in[k];
			uint32_t ca = a->kind == MEMMAP_SRC_EFI ? memmap_class_of_efi(a->type)
			                                        : memmap_class_of_e820(a->type);
			uint32_t cb = b->kind == MEMMAP_SRC_EFI ? memmap_class_of_efi(b->type)
			                                        : memmap_class_of_e820(b->type);
			if (a->start != b->start || a->end != b->end || ca != cb)
				fail_msg("%s entry %u: raw [0x%llx-0x%llx) %s, normalised [0x%llx-0x%llx) %s",
				         m->name, k, (unsigned long long)a->start, (unsigned long long)a->end,
				         memmap_class_name(ca), (unsigned long long)b->start,
				         (unsigned long long)b->end, memmap_class_name(cb));
		}
		assert_int_equal(m->n_out, m->n_out_norm);
		assert_memory_equal(m->out, m->out_norm, m->n_out * sizeof(m->out[0]));
	}
}

static struct rmap *find(const char *name)
{
	for (unsigned i = 0; i < n_maps; i++)
		if (strcmp(maps[i]->name, name) == 0)
			return maps[i];
	return NULL;
}

/* The ZenBook's e820 and EFI forms: the same usable memory. */
static void test_zenbook_forms_agree(void **state)
{
	(void)state;
	struct rmap *a = find("asus_zenbook_ux391fa_e820");
	struct rmap *b = find("asus_zenbook_ux391fa_efi_unsorted");
	assert_non_null(a);
	assert_non_null(b);
	uint64_t ua = memmap_mask_bytes(a->out, a->n_out, MEMMAP_FREE_MASK, 0, ~0ull);
	uint64_t ub = memmap_mask_bytes(b->out, b->n_out, MEMMAP_FREE_MASK, 0, ~0ull);
	print_message("# zenbook usable: e820 %llu KiB, efi %llu KiB\n",
	              (unsigned long long)(ua >> 10), (unsigned long long)(ub >> 10));
	assert_true(ua == ub);
	assert_int_equal(b->st.unsorted, 1);
	assert_int_equal(a->st.unsorted, 0);
}

/* Cell i of a "| a | b | c |" table row, first word only, into buf. */
static bool cell(const char *line, unsigned i, char *buf, size_t len)
{
	const char *p = line;
	for (unsigned k = 0; k <= i; k++) {
		p = strchr(p, '|');
		if (!p)
			return false;
		p++;
	}
	while (*p == ' ')
		p++;
	size_t n = strcspn(p, " |");
	if (n == 0 || n >= len)
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return true;
}

/* README table: | name | entries | sorted | free < 4 GiB | free > 4 GiB | why |
 * (a row naming two forms, "a / _b", is checked for the first). */
static void test_totals_match_readme(void **state)
{
	(void)state;
	char path[512], line[1024];
	snprintf(path, sizeof(path), "%s/README.md", dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	unsigned rows = 0;
	while (fgets(line, sizeof(line), f)) {
		char name[160], entries[32], sorted[32], lo_s[32], hi_s[32];
		if (line[0] != '|' || !cell(line, 0, name, sizeof(name)) ||
		    !cell(line, 1, entries, sizeof(entries)) || !cell(line, 2, sorted, sizeof(sorted)) ||
		    !cell(line, 3, lo_s, sizeof(lo_s)) || !cell(line, 4, hi_s, sizeof(hi_s)))
			continue;
		struct rmap *m = find(name);
		if (!m)
			continue;                     /* the header row */
		unsigned long lo = strtoul(lo_s, NULL, 10), hi = strtoul(hi_s, NULL, 10);
		uint64_t below = memmap_mask_bytes(m->out, m->n_out, MEMMAP_FREE_MASK, 0, PADDR_4G);
		uint64_t above = memmap_mask_bytes(m->out, m->n_out, MEMMAP_FREE_MASK, PADDR_4G, ~0ull);
		long dl = (long)(below >> 20) - (long)lo, dh = (long)(above >> 20) - (long)hi;
		if (dl < -1 || dl > 1 || dh < -1 || dh > 1)
			fail_msg("%s: free %lluM / %lluM, README %luM / %luM", m->name,
			         (unsigned long long)(below >> 20), (unsigned long long)(above >> 20), lo, hi);
		assert_int_equal(m->raw.n, strtoul(entries, NULL, 10));
		assert_int_equal(m->st.unsorted, strcmp(sorted, "no") == 0);
		rows++;
	}
	fclose(f);
	print_message("# %u README rows checked\n", rows);
	assert_true(rows >= 15);
}

/* The PMM from each map: free pages == free-class pages below 4 GiB minus policy. */
static void test_pmm_replay(void **state)
{
	(void)state;
	for (unsigned i = 0; i < n_maps; i++) {
		struct rmap *m = maps[i];
		uint64_t size = pmm_metadata_size(m->out, m->n_out);
		void *mem = aligned_alloc(64, (size + 63) & ~63ull);
		struct pmm *p = pmm_init(mem, size, PADDR_NONE, m->out, m->n_out, MEMMAP_FREE_MASK);
		assert_non_null(p);
		uint64_t usable = memmap_mask_bytes(m->out, m->n_out, MEMMAP_FREE_MASK, 0, PADDR_4G);
		uint64_t policy = memmap_mask_bytes(m->out, m->n_out, MEMMAP_FREE_MASK, 0, PMM_LOW_RESERVE);
		struct pmm_stats s;
		pmm_get_stats(p, &s);
		if (s.free_pages != (usable - policy) / PAGE_SIZE)
			fail_msg("%s: PMM free %u pages, map offers %llu - policy %llu", m->name,
			         s.free_pages, (unsigned long long)(usable / PAGE_SIZE),
			         (unsigned long long)(policy / PAGE_SIZE));
		assert_true(s.above_4g_bytes ==
		            memmap_mask_bytes(m->out, m->n_out, MEMMAP_FREE_MASK, PADDR_4G, ~0ull));
		uint64_t frame0 = memmap_mask_bytes(m->out, m->n_out, MEMMAP_FREE_MASK, 0, PAGE_SIZE);
		assert_int_equal(s.reserved_pages, (policy - frame0) / PAGE_SIZE);
		if (pmm_check(p, true))
			fail_msg("%s: pmm_check failed", m->name);
		assert_true(s.metadata_bytes <= 2ull * s.managed_pages || s.managed_pages < 1024);
		print_message("# %-40s free %7u pages, above 4G %6llu MiB, metadata %7u B (%u.%02u B/page)\n",
		              m->name, s.free_pages, (unsigned long long)(s.above_4g_bytes >> 20),
		              s.metadata_bytes, s.metadata_bytes / s.managed_pages,
		              s.metadata_bytes * 100u / s.managed_pages % 100u);
		free(mem);
	}
}

int main(void)
{
	dir = getenv("MMBOOT_MEMMAPS") ? getenv("MMBOOT_MEMMAPS") : "../shared/memmaps";
	DIR *d = opendir(dir);
	if (!d) {
		bool ci = getenv("CI") && *getenv("CI");
		printf("1..1\n%s 1 - realmaps # %s real-map corpus %s not found\n",
		       ci ? "not ok" : "ok", ci ? "CI is set:" : "SKIP", dir);
		return ci ? 1 : 0;
	}
	closedir(d);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_every_raw_file),
		cmocka_unit_test(test_raw_and_normalised_agree),
		cmocka_unit_test(test_zenbook_forms_agree),
		cmocka_unit_test(test_totals_match_readme),
		cmocka_unit_test(test_pmm_replay),
	};
	return cmocka_run_group_tests_name("realmaps", tests, setup, teardown);
}
