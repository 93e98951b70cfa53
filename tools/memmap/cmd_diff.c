/*
 * `mmboot-memmap diff [--exact] A B`: what changed between two maps, e.g.
 * the same PC before and after a firmware update, or the e820 and the EFI
 * form of one map.
 *
 * Both maps are sanitized first, then compared over the whole address space
 * (not entry by entry: the same memory may be cut into entries differently).
 * Each address is in no range or in one class; by default classes are
 * compared in groups that mean the same to an OS (free = usable, boot
 * services, loader; reserved = reserved, runtime, MMIO; ACPI reclaim; ACPI
 * NVS; persistent; unusable), so the e820 and EFI forms of one map agree;
 * --exact compares the classes themselves. Consecutive pieces with the same
 * change are reported as one line: "added" (only in B), "removed" (only in
 * A), "retyped" (in both, different group). The last line says how many
 * bytes are free in one map and not in the other.
 * Exit status: 0 no usable difference, 1 a usable difference, 2 bad input.
 */
#include <stdlib.h>
#include <string.h>

#include <mmboot/memmap_fmt.h>
#include "analyze.h"

#define DIFF_NONE 0u              /* address in no range */

struct diff_piece {
	uint64_t start, end;          /* [start, end) */
	uint32_t ga, gb;              /* group (or class + 1) in A and in B; DIFF_NONE */
};

enum diff_group { G_FREE = 1, G_RESERVED, G_ACPI, G_NVS, G_PERSISTENT, G_UNUSABLE };

static uint32_t diff_group_of(uint32_t cls, int exact)
{
	if (exact)
		return cls + 1;
	switch (cls) {
	case MEMMAP_USABLE: case MEMMAP_BOOT_SERVICES: case MEMMAP_LOADER: return G_FREE;
	case MEMMAP_ACPI_RECLAIM: return G_ACPI;
	case MEMMAP_ACPI_NVS: return G_NVS;
	case MEMMAP_PERSISTENT: return G_PERSISTENT;
	case MEMMAP_UNUSABLE: return G_UNUSABLE;
	default: return G_RESERVED;
	}
}

/* free RAM (usable, boot services, loader) in that group? */
static bool diff_is_free(uint32_t g, int exact)
{
	if (g == DIFF_NONE)
		return false;
	if (exact)
		return (MEMMAP_FREE_MASK >> (g - 1)) & 1u;
	return g == G_FREE;
}

static const char *diff_group_name(uint32_t g, int exact)
{
	static const char *const names[] = { "none", "free", "reserved", "ACPI-reclaim",
	                                     "ACPI-NVS", "persistent", "unusable" };
	if (exact)
		return g ? memmap_class_name((enum memmap_class)(g - 1)) : "none";
	return g < ARRAY_SIZE(names) ? names[g] : "?";
}

static int diff_u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* group at address pa in a sorted, disjoint list (cursor *i moves forward) */
static uint32_t diff_group_at(const struct analysis *a, uint32_t *i, uint64_t pa, int exact)
{
	while (*i < a->nout && a->out[*i].end <= pa)
		(*i)++;
	if (*i < a->nout && a->out[*i].start <= pa)
		return diff_group_of(a->out[*i].cls, exact);
	return DIFF_NONE;
}

/* The elementary pieces between all boundaries of both maps, merged. */
static uint32_t diff_pieces(const struct analysis *A, const struct analysis *B, int exact,
                            struct diff_piece *pc)
{
	uint32_t nb = 0, np = 0, ia = 0, ib = 0;
	uint64_t *b = malloc((2 * (A->nout + B->nout) + 1) * sizeof(*b));
	if (!b)
		return 0;
	for (uint32_t i = 0; i < A->nout; i++)
		b[nb++] = A->out[i].start, b[nb++] = A->out[i].end;
	for (uint32_t i = 0; i < B->nout; i++)
		b[nb++] = B->out[i].start, b[nb++] = B->out[i].end;
	qsort(b, nb, sizeof(*b), diff_u64_cmp);
	for (uint32_t i = 0; i + 1 < nb; i++) {
		if (b[i] == b[i + 1])
			continue;
		uint32_t ga = diff_group_at(A, &ia, b[i], exact), gb = diff_group_at(B, &ib, b[i], exact);
		if (np && pc[np - 1].end == b[i] && pc[np - 1].ga == ga && pc[np - 1].gb == gb)
			pc[np - 1].end = b[i + 1];
		else
			pc[np++] = (struct diff_piece){ b[i], b[i + 1], ga, gb };
	}
	free(b);
	return np;
}

static void diff_line(const struct diff_piece *p, int exact)
{
	char sz[32];
	struct memfmt_buf s;
	memfmt_init(&s, sz, sizeof(sz));
	memfmt_size(&s, p->end - p->start);
	const char *what = p->ga == DIFF_NONE ? "added  " : p->gb == DIFF_NONE ? "removed" : "retyped";
	printf("%s 0x%016llx-0x%016llx %10s  ", what, (unsigned long long)p->start,
	       (unsigned long long)p->end, sz);
	if (p->ga == DIFF_NONE)
		printf("%s\n", diff_group_name(p->gb, exact));
	else if (p->gb == DIFF_NONE)
		printf("%s\n", diff_group_name(p->ga, exact));
	else
		printf("%s -> %s\n", diff_group_name(p->ga, exact), diff_group_name(p->gb, exact));
}

static void diff_usable_line(const char *label, uint64_t a, uint64_t b)
{
	printf("usable %s: %llu MiB -> %llu MiB (%+lld KiB)\n", label,
	       (unsigned long long)(a >> 20), (unsigned long long)(b >> 20),
	       (long long)((int64_t)(b - a) / 1024));
}

static int diff_report(const struct analysis *A, const struct analysis *B, int exact)
{
	struct diff_piece *pc = malloc((2 * (A->nout + B->nout) + 1) * sizeof(*pc));
	uint64_t usable_diff = 0;
	uint32_t lines = 0;
	if (!pc) {
		fprintf(stderr, "mmboot-memmap: out of memory\n");
		return EXIT_BAD_INPUT;
	}
	uint32_t np = diff_pieces(A, B, exact, pc);
	printf("--- %s (%s, %u entries)\n+++ %s (%s, %u entries)\n", A->path,
	       mapfile_format_name(A->mf.format), A->mf.n, B->path,
	       mapfile_format_name(B->mf.format), B->mf.n);
	for (uint32_t i = 0; i < np; i++) {
		if (pc[i].ga == pc[i].gb)
			continue;
		diff_line(&pc[i], exact);
		lines++;
		if (diff_is_free(pc[i].ga, exact) != diff_is_free(pc[i].gb, exact))
			usable_diff += pc[i].end - pc[i].start;
	}
	if (lines == 0)
		printf("no differences\n");
	diff_usable_line("below 4 GiB", analysis_usable(A, 0), analysis_usable(B, 0));
	diff_usable_line("above 4 GiB", analysis_usable(A, 1), analysis_usable(B, 1));
	if (usable_diff)
		printf("usable difference: %llu bytes free in one map only\n",
		       (unsigned long long)usable_diff);
	else
		printf("usable difference: none\n");
	free(pc);
	return usable_diff ? 1 : 0;
}

int cmd_diff(int argc, char **argv)
{
	struct analysis A, B;
	int exact = 0;
	if (argc > 0 && !strcmp(argv[0], "--exact")) {
		exact = 1;
		argc--;
		argv++;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: mmboot-memmap diff [--exact] A B\n");
		return EXIT_BAD_INPUT;
	}
	if (analysis_load(argv[0], &A) < 0)
		return EXIT_BAD_INPUT;
	if (analysis_load(argv[1], &B) < 0) {
		analysis_free(&A);
		return EXIT_BAD_INPUT;
	}
	int rc = diff_report(&A, &B, exact);
	analysis_free(&A);
	analysis_free(&B);
	return rc;
}
