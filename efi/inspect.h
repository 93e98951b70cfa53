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
 * Options (efi/inspect_opts.c, parser efi/inspect_optparse.c), from four
 * places, each overriding the one before (the more specific wins):
 *   1. defaults: save, timeout=10, screen and serial, run the kernel stage;
 *   2. SMBIOS OEM strings (type 11) that start with "mmboot:": how a
 *      virtual machine's harness sets its own defaults without touching
 *      the disk (tools/run-qemu.sh passes "mmboot:timeout=0");
 *   3. \mmboot\config.txt on the boot volume ('#' starts a comment): the
 *      stick's settings;
 *   4. the load options (a UEFI shell command line or a boot entry's
 *      optional data): this one boot.
 * Words:
 *   nosave      do not write the dump and the table
 *   timeout=N   after the report, wait N seconds (0..86400) for a key (any
 *               key: the report becomes scrollable until Enter); 0 =
 *               continue at once. A value that is not a number is reported
 *               on the console and the earlier value kept
 *   serial      serial only: the loader writes through the Serial I/O
 *               protocol instead of ConOut (nothing on the screen, no pager,
 *               no wait, no graphics mode change) and the kernel stage does
 *               not draw on the framebuffer (BI_F_SERIAL_ONLY)
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
	uint32_t errors;              /* bad words seen by inspect_parse_opts (reported) */
};

#define INSPECT_TIMEOUT_DEFAULT 10u      /* seconds */
#define INSPECT_TIMEOUT_MAX     86400u   /* seconds */

/* Machine identity beyond the header's strings (SMBIOS type 1 and 11). */
struct smbios_ids {
	char serial[64];              /* type 1 Serial Number (printable ASCII), "" if none */
	uint8_t uuid[16];             /* type 1 UUID, bytes as stored */
	uint32_t has_uuid;            /* 1: uuid was read (type 1 length >= 0x19) */
	uint32_t smbios_rev;          /* major << 8 | minor (>= 2.6: UUID fields little-endian) */
	char oem_opts[256];           /* type 11 strings starting "mmboot:", prefix cut,
	                                 blank separated */
};

/* The options the loader decided on (set by inspect_memory_map; read by
 * sysinfo_collect for the boot-info block and the graphics mode). */
extern struct inspect_opts inspect_opts_used;

/* The defaults (step 1 above). Portable. */
void inspect_default_opts(struct inspect_opts *o);
/* Parse option words from ASCII text (len bytes) into o; `from` names the
 * source in messages. Bad words are reported with mm_printf and leave o's
 * fields as they were. Returns the number of bad words (also added to
 * o->errors). Portable. */
uint32_t inspect_parse_opts(const char *text, uint64_t len, const char *from,
                            struct inspect_opts *o);
/* Defaults, SMBIOS OEM strings, \mmboot\config.txt, load options. */
void inspect_get_opts(const struct smbios_ids *ids, struct inspect_opts *o);
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
/* The same table's serial number, UUID and "mmboot:" OEM strings; 0, or -1
 * (ids then all zero). Portable. */
int inspect_smbios_ids(const uint8_t *ep, struct smbios_ids *ids);

/* File-name part that identifies the machine: manufacturer and product,
 * then "_SN<serial>", or "_UUID<32 hex>" when the serial is empty or a
 * placeholder ("To be filled by O.E.M." and the like), nothing when both
 * are missing; letters and digits kept, runs of anything else one '_';
 * "unknown" without SMBIOS. At most cap - 1 characters. Portable. */
void inspect_machine_name(const struct memdump_header *h, const struct smbios_ids *ids,
                          char *dst, uint32_t cap);
/* 1 if s is a placeholder serial number (not unique to a machine). */
int inspect_serial_placeholder(const char *s);

/* Console (efi/inspect_console.c): switch ConOut to its largest text mode;
 * or, for the serial option, send the loader's output to the Serial I/O
 * protocol (1 if that worked). */
void inspect_console_largest(void);
int inspect_console_serial_only(void);

/* Write the dump (h, then n descriptors of h->desc_size bytes) and the text
 * table to \mmboot\<machine>-<k>.map / .txt on the boot volume, <machine>
 * from inspect_machine_name, k the first number not used yet. Reports what
 * happened; never fails the boot. */
void inspect_save(const struct memdump_header *h, const struct smbios_ids *ids,
                  const void *descs, const char *text, uint64_t text_len);

#endif
