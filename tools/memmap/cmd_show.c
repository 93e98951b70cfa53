/*
 * `mmboot-memmap show FILE`: the same report the loader prints on the
 * machine (mm/memmap_report.c): header, the table in source order with
 * attributes decoded, totals per type, what the sanitizer changed, usable
 * memory below and above 4 GiB. The output is itself a map file (the mmboot
 * text table) that every command reads back.
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

int cmd_show(int argc, char **argv)
{
	struct analysis a;
	char source[600];
	if (argc != 1) {
		fprintf(stderr, "usage: mmboot-memmap show FILE\n");
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
	analysis_free(&a);
	return fflush(stdout) == 0 ? 0 : EXIT_BAD_INPUT;
}
