/*
 * mmboot-memmap: read, show, compare, replay and draw firmware memory maps.
 *
 *   mmboot-memmap show [--ranges] FILE  the table, totals, sanitizer changes
 *   mmboot-memmap diff A B           ranges added, removed, retyped
 *   mmboot-memmap replay FILE [--json]  what mmboot's sanitizer + PMM make of it
 *   mmboot-memmap svg FILE [--png OUT]  a picture of the address space
 *   mmboot-memmap formats            the input formats it reads
 *
 * FILE is any format tools/memmap/mapfile.h reads (detected automatically);
 * a directory is read as /sys/firmware/memmap. Exit status: 0 success (diff:
 * no usable difference), 1 diff found a usable difference, 2 bad input or
 * bad usage (the message names the file and the line or offset).
 */
#include <stdio.h>
#include <string.h>

#include "analyze.h"

static void usage(FILE *f)
{
	fputs("usage: mmboot-memmap show [--ranges] FILE\n"
	      "       mmboot-memmap diff [--exact] A B\n"
	      "       mmboot-memmap replay FILE [--json]\n"
	      "       mmboot-memmap svg FILE [--png OUT.png]   (SVG on stdout)\n"
	      "       mmboot-memmap formats\n"
	      "FILE: Linux e820/EFI boot log, normalised map, mmboot dump or table,\n"
	      "UEFI Shell memmap output, or a /sys/firmware/memmap directory.\n", f);
}

static int cmd_formats(void)
{
	for (int f = MAPFILE_LINUX_E820; f <= MAPFILE_SYSFS; f++)
		printf("%s\n", mapfile_format_name((enum mapfile_format)f));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_BAD_INPUT;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "show"))
		return cmd_show(argc - 2, argv + 2);
	if (!strcmp(cmd, "diff"))
		return cmd_diff(argc - 2, argv + 2);
	if (!strcmp(cmd, "replay"))
		return cmd_replay(argc - 2, argv + 2);
	if (!strcmp(cmd, "svg"))
		return cmd_svg(argc - 2, argv + 2);
	if (!strcmp(cmd, "formats"))
		return cmd_formats();
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "mmboot-memmap: unknown command '%s'\n", cmd);
	usage(stderr);
	return EXIT_BAD_INPUT;
}
