/*
 * What the mmboot-memmap commands share: load a map file, sanitize it with
 * mmboot's own sanitizer (mm/memmap.c) and build mmboot's PMM from it
 * (mm/pmm.c) exactly as the loader would, on the host.
 */
#ifndef MMBOOT_TOOLS_ANALYZE_H
#define MMBOOT_TOOLS_ANALYZE_H

#include <stdio.h>

#include <mmboot/pmm.h>
#include "mapfile.h"

#define EXIT_BAD_INPUT 2          /* unreadable or unparsable input, bad usage */

struct analysis {
	const char *path;             /* file name as given */
	struct mapfile mf;            /* entries as read */
	struct memmap_range *out;     /* sanitized ranges (malloc'd) */
	uint32_t nout;                /* sanitized ranges */
	struct memmap_stats st;       /* what the sanitizer changed */
};

struct pmm_result {
	int built;                    /* 1 if pmm_init succeeded */
	struct pmm_stats ps;          /* its statistics right after init */
	uint64_t metadata_bytes;      /* metadata size */
	uint32_t check_errors;        /* pmm_check() inconsistencies (must be 0) */
	uint64_t largest_free_bytes;  /* largest free block, bytes */
};

/* Load and sanitize; on failure prints "mmboot-memmap: <error>" to stderr
 * and returns -1. */
int analysis_load(const char *path, struct analysis *a);
void analysis_free(struct analysis *a);
/* Build the PMM (metadata outside the map, as in a host replay: mem_pa none;
 * every free class usable) and collect its statistics. */
void analysis_pmm(const struct analysis *a, struct pmm_result *r);
/* Usable (free-class) bytes below and above 4 GiB after sanitizing. */
uint64_t analysis_usable(const struct analysis *a, int above_4g);
/* Class of one input entry, as the sanitizer sees it. */
enum memmap_class analysis_entry_class(const struct memmap_in *e);

int cmd_show(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_svg(int argc, char **argv);

#endif
