/*
 * Reading memory maps on the host (tools/memmap/): every input format the
 * mmboot-memmap tool understands, parsed into one list of untrusted input
 * ranges for the sanitizer (struct memmap_in, include/mmboot/memmap.h).
 *
 * Formats: the four Linux boot-log formats (e820 new and old/Xen, EFI with
 * efi=debug new and old), the normalised corpus form (../shared/memmaps/NAME.txt),
 * mmboot's own binary dumps and text tables, the UEFI Shell `memmap` output,
 * and /sys/firmware/memmap.
 *
 * OWNER: memory-map inspector work (issue 6). The PMM work (issue 3) uses
 * mapfile_load() for its real-map replay test; keep these names.
 */
#ifndef MMBOOT_TOOLS_MAPFILE_H
#define MMBOOT_TOOLS_MAPFILE_H

#include <stddef.h>
#include <stdint.h>
#include <mmboot/memmap.h>
#include <mmboot/memdump.h>

enum mapfile_format {
	MAPFILE_UNKNOWN = 0,
	MAPFILE_LINUX_E820,       /* BIOS-e820: [mem 0xS-0xE_incl] type */
	MAPFILE_LINUX_E820_OLD,   /* S - E_excl (type)   (older kernels, Xen) */
	MAPFILE_LINUX_EFI,        /* efi: memNN: [Type|attrs] range=[0xS-0xE] (NMB) */
	MAPFILE_LINUX_EFI_OLD,    /* efi: memNN: type=7, attr=0xf, range=[0xS-0xE) (NMB) */
	MAPFILE_NORMALISED,       /* 0xS 0xE_excl TYPE [attr=0x..] (corpus *.txt) */
	MAPFILE_MMBOOT_DUMP,      /* mmboot binary dump */
	MAPFILE_MMBOOT_TEXT,      /* mmboot text table */
	MAPFILE_UEFI_SHELL,       /* UEFI Shell `memmap` */
	MAPFILE_SYSFS,            /* /sys/firmware/memmap */
};

struct mapfile {
	enum mapfile_format format;   /* detected format */
	uint32_t kind;                /* enum memmap_src_kind of all entries */
	uint32_t n;                   /* entries */
	uint32_t cap;                 /* allocated entries */
	struct memmap_in *in;         /* entries in source order (malloc'd) */
	uint32_t *line;               /* source line (or record index) of each entry */
	char machine[128];            /* machine name if the source names one, else "" */
	int has_hdr;                  /* 1 if hdr holds firmware facts (mmboot dumps) */
	struct memdump_header hdr;    /* the dump's header (descriptors not included) */
};

/* Parse text/bytes already in memory; name is used in error messages.
 * 0 on success; on failure -1 with err holding "name:line: what is wrong". */
int mapfile_parse(const char *name, const void *data, size_t len,
                  struct mapfile *mf, char *err, size_t errlen);
/* Read and parse a file (a directory for /sys/firmware/memmap). */
int mapfile_load(const char *path, struct mapfile *mf, char *err, size_t errlen);
void mapfile_free(struct mapfile *mf);
const char *mapfile_format_name(enum mapfile_format f);

#endif
