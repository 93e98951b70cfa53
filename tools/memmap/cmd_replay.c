/*
 * `mmboot-memmap replay FILE [--json]`: what mmboot makes of a map: the
 * sanitizer's output and counters, then the buddy PMM built from it (host
 * replay: metadata outside the map, every free class handed to the PMM, the
 * documented policy applied: frame 0 and the low 1 MiB held back, nothing
 * above 4 GiB managed). With --json: one JSON object (docs/memmap.md lists
 * the fields); warnings are strings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "analyze.h"

#define REPLAY_MAX_WARN 24

struct replay {
	struct analysis a;            /* map, sanitized */
	struct pmm_result pr;         /* PMM built from it */
	char warn[REPLAY_MAX_WARN][160]; /* warnings, human-readable */
	int nwarn;                    /* warnings used */
};

static void replay_warn(struct replay *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void replay_warn(struct replay *r, const char *fmt, ...)
{
	va_list ap;
	if (r->nwarn >= REPLAY_MAX_WARN)
		return;
	va_start(ap, fmt);
	vsnprintf(r->warn[r->nwarn++], sizeof(r->warn[0]), fmt, ap);
	va_end(ap);
}

static void replay_collect_warnings(struct replay *r)
{
	const struct memmap_stats *st = &r->a.st;
	uint32_t logged = st->warnings < MEMMAP_WARN_LOG ? st->warnings : MEMMAP_WARN_LOG;
	for (uint32_t i = 0; i < logged; i++)
		replay_warn(r, "%s: entry %u [0x%llx-0x%llx) type 0x%x",
		            memmap_warning_name(st->log[i].what), st->log[i].index,
		            (unsigned long long)st->log[i].start, (unsigned long long)st->log[i].end,
		            st->log[i].type);
	if (st->warnings > logged)
		replay_warn(r, "%u more sanitizer warnings not logged", st->warnings - logged);
	if (st->unsorted)
		replay_warn(r, "input not sorted by start address");
	if (st->overlaps)
		replay_warn(r, "%u overlapping entries resolved (stricter type wins)", st->overlaps);
	if (st->clipped)
		replay_warn(r, "%u ranges clipped to 4 KiB pages", st->clipped);
	if (st->truncated)
		replay_warn(r, "%u output ranges lost (output full)", st->truncated);
	if (!r->pr.built)
		replay_warn(r, "PMM not built (no usable memory below 4 GiB?)");
	if (r->pr.check_errors)
		replay_warn(r, "pmm_check found %u inconsistencies", r->pr.check_errors);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void replay_json_sanitizer(FILE *f, const struct memmap_stats *st)
{
	fprintf(f, "  \"sanitizer\": {\"merged\": %u, \"clipped\": %u, \"overlaps\": %u, "
	        "\"dropped_empty\": %u, \"dropped_wrap\": %u, \"unknown_types\": %u, "
	        "\"unsorted\": %u, \"truncated\": %u},\n", st->merged, st->clipped,
	        st->overlaps, st->dropped_empty, st->dropped_wrap, st->unknown_types,
	        st->unsorted, st->truncated);
}

static void replay_json(FILE *f, const struct replay *r)
{
	const struct analysis *a = &r->a;
	const struct pmm_result *p = &r->pr;
	fputs("{\n  \"file\": ", f);
	json_str(f, a->path);
	fprintf(f, ",\n  \"format\": \"%s\",\n  \"machine\": ", mapfile_format_name(a->mf.format));
	json_str(f, a->mf.machine);
	fprintf(f, ",\n  \"kind\": \"%s\",\n", a->mf.kind == MEMMAP_SRC_E820 ? "e820" : "efi");
	fprintf(f, "  \"entries_in\": %u,\n  \"entries_out\": %u,\n", a->st.entries_in, a->nout);
	fprintf(f, "  \"usable_below_4g\": %llu,\n  \"usable_above_4g\": %llu,\n",
	        (unsigned long long)analysis_usable(a, 0), (unsigned long long)analysis_usable(a, 1));
	fprintf(f, "  \"pmm_free_pages\": %u,\n  \"pmm_managed_pages\": %u,\n"
	        "  \"pmm_reserved_pages\": %u,\n  \"pmm_metadata_bytes\": %llu,\n"
	        "  \"largest_free_block\": %llu,\n  \"pmm_check_errors\": %u,\n",
	        p->ps.free_pages, p->ps.managed_pages, p->ps.reserved_pages,
	        (unsigned long long)p->metadata_bytes, (unsigned long long)p->largest_free_bytes,
	        p->check_errors);
	fputs("  \"free_blocks\": [", f);
	for (unsigned o = 0; o <= PMM_MAX_ORDER; o++)
		fprintf(f, "%s%u", o ? ", " : "", p->ps.free_blocks[o]);
	fputs("],\n", f);
	replay_json_sanitizer(f, &a->st);
	fputs("  \"warnings\": [", f);
	for (int i = 0; i < r->nwarn; i++) {
		fputs(i ? ",\n    " : "\n    ", f);
		json_str(f, r->warn[i]);
	}
	fputs(r->nwarn ? "\n  ]\n}\n" : "]\n}\n", f);
}

static void replay_text(FILE *f, const struct replay *r)
{
	const struct analysis *a = &r->a;
	const struct pmm_result *p = &r->pr;
	fprintf(f, "%s (%s%s%s)\n", a->path, mapfile_format_name(a->mf.format),
	        a->mf.machine[0] ? ", " : "", a->mf.machine);
	fprintf(f, "sanitizer: %u entries in, %u ranges out\n", a->st.entries_in, a->nout);
	fprintf(f, "usable below 4 GiB: %llu MiB, above: %llu MiB\n",
	        (unsigned long long)(analysis_usable(a, 0) >> 20),
	        (unsigned long long)(analysis_usable(a, 1) >> 20));
	fprintf(f, "pmm: %u free pages (%llu MiB), %u managed, %u reserved, metadata %llu bytes, "
	        "largest free block %llu KiB, check %u\n", p->ps.free_pages,
	        (unsigned long long)p->ps.free_pages >> 8, p->ps.managed_pages, p->ps.reserved_pages,
	        (unsigned long long)p->metadata_bytes,
	        (unsigned long long)(p->largest_free_bytes >> 10), p->check_errors);
	fputs("free blocks per order:", f);
	for (unsigned o = 0; o <= PMM_MAX_ORDER; o++)
		fprintf(f, " %u", p->ps.free_blocks[o]);
	fputc('\n', f);
	for (int i = 0; i < r->nwarn; i++)
		fprintf(f, "warning: %s\n", r->warn[i]);
}

int cmd_replay(int argc, char **argv)
{
	static struct replay r;
	const char *path = NULL;
	int json = 0;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!path)
			path = argv[i];
		else
			path = "";
	}
	if (!path || !path[0]) {
		fprintf(stderr, "usage: mmboot-memmap replay FILE [--json]\n");
		return EXIT_BAD_INPUT;
	}
	memset(&r, 0, sizeof(r));
	if (analysis_load(path, &r.a) < 0)
		return EXIT_BAD_INPUT;
	analysis_pmm(&r.a, &r.pr);
	replay_collect_warnings(&r);
	if (json)
		replay_json(stdout, &r);
	else
		replay_text(stdout, &r);
	analysis_free(&r.a);
	return r.pr.check_errors ? 1 : 0;
}
