/*
 * The memory-map inspector on the machine (issue 6): efi/inspect.c reads the
 * firmware's facts and memory map and prints the mmboot report (the same
 * text as `mmboot-memmap show`, mm/memmap_report.c); efi/save.c writes the
 * binary dump and the text table into \mmboot\ on the boot volume;
 * efi/inspect_smbios.c reads SMBIOS 2/3 identity strings.
 *
 * Nothing here fails the boot: every problem (no SMBIOS, no file system,
 * read-only or full medium) is reported on the console and the loader goes
 * on.
 *
 * Options (efi/inspect_opts.c), words from the load options (a UEFI shell
 * command line or a boot entry's optional data) and then from
 * \mmboot\config.txt on the boot volume ('#' starts a comment):
 *   nosave      do not write the dump and the table
 *   timeout=N   after the report, wait N seconds for a key (any key: the
 *               report becomes scrollable until Enter); 0 = continue at once.
 *               Default 10, or 0 on QEMU (SMBIOS manufacturer "QEMU") so
 *               that tests never wait
 *   serial      serial console only: no pager, no wait
 *   stop        stop after the report (and saving): back to the firmware's
 *               boot manager instead of running the kernel stage
 */
#ifndef MMBOOT_EFI_INSPECT_H
#define MMBOOT_EFI_INSPECT_H

#include <stdint.h>
#include <mmboot/memdump.h>

struct inspect_opts {
	uint32_t nosave;              /* 1: do not save */
	uint32_t timeout_s;           /* seconds to wait after the report */
	uint32_t serial;              /* 1: serial only, no pager */
	uint32_t stop;                /* 1: return to the firmware after the report */
};

/* Parse option words from ASCII text (len bytes) into o. Portable. */
void inspect_parse_opts(const char *text, uint64_t len, struct inspect_opts *o);
/* Defaults, then load options, then \mmboot\config.txt. */
void inspect_get_opts(const struct memdump_header *h, struct inspect_opts *o);
/* Read \mmboot\config.txt of the boot volume into buf; bytes read, 0 if none. */
uint64_t inspect_read_config(char *buf, uint64_t cap);
/* After the report: countdown, then a scrollable view of text if a key is
 * pressed, until Enter or Esc. */
void inspect_pager(const char *text, uint64_t len, uint32_t timeout_s);

/* Read the map with its key, print the report, save it. Before any other
 * loader allocation that should not appear in the saved map. */
void inspect_memory_map(void);

/* Fill h's SMBIOS fields from an entry point ("_SM_" or "_SM3_") whose
 * structure table is identity-mapped; 0, or -1 if the entry point or its
 * table is not valid (h's SMBIOS fields are then left zero). Portable. */
int inspect_smbios(const uint8_t *ep, struct memdump_header *h);

/* Write the dump (h, then n descriptors of h->desc_size bytes) and the text
 * table to \mmboot\<machine>-<k>.map / .txt on the boot volume, k the first
 * number not used yet. Reports what happened; never fails the boot. */
void inspect_save(const struct memdump_header *h, const void *descs,
                  const char *text, uint64_t text_len);

#endif
