/*
 * `mmboot-memmap show FILE`: the same report the loader prints on the
 * machine (mm/memmap_report.c): header, the table in source order with
 * attributes decoded, totals per type, what the sanitizer changed, usable
 * memory below and above 4 GiB. The output is itself a map file (the mmboot
 * text table) that every command reads back. `--ranges` adds the sanitized
 * ranges (sorted, disjoint, 4 KiB aligned, one class each) at the end.
 */
#include <stdio.h>
#include <string.h>

#include <mmboot/memmap_fmt.h>
#include "analyze.h"

static void show_emit(void *ctx, const char *line)
{
	fputs(line, (FILE *)ctx);
	fputc('\n', (FILE *)ctx);
}

static void show_ranges(const struct analysis *a)
{
	printf("\nsanitized ranges:\n");
	for (uint32_t i = 0; i < a->nout; i++) {
		char line[MEMFMT_LINE_MAX];
		struct memfmt_buf b;
		memfmt_init(&b, line, sizeof(line));
		memfmt_dec_w(&b, i, 5);
		memfmt_char(&b, ' ');
		memfmt_str(&b, memmap_class_name((enum memmap_class)a->out[i].cls));
		memfmt_pad(&b, 22);
		memfmt_hex(&b, a->out[i].start, 16);
		memfmt_char(&b, ' ');
		memfmt_hex(&b, a->out[i].end, 16);
		memfmt_char(&b, ' ');
		memfmt_size(&b, a->out[i].end - a->out[i].start);
		puts(line);
	}
}

int cmd_show(int argc, char **argv)
{
	struct analysis a;
	char source[600];
	int ranges = argc == 2 && !strcmp(argv[0], "--ranges");
	if (ranges) {
		argc--;
		argv++;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: mmboot-memmap show [--ranges] FILE\n");
		return EXIT_BAD_INPUT;
	}
	if (analysis_load(argv[0], &a) < 0)
		return EXIT_BAD_INPUT;
	snprintf(source, sizeof(source), "%s (%s)", argv[0], mapfile_format_name(a.mf.format));
	struct memfmt_report r = {
		.hdr = a.mf.has_hdr ? &a.mf.hdr : NULL,
		.machine = a.mf.machine,
		.source = source,
		.in = a.mf.in, .n = a.mf.n,
		.out = a.out, .nout = a.nout, .st = &a.st,
	};
	memfmt_report(&r, show_emit, stdout);
	if (ranges)
		show_ranges(&a);
	analysis_free(&a);
	return fflush(stdout) == 0 ? 0 : EXIT_BAD_INPUT;
}
