/*
 * Formatting memory maps as text (mm/memmap_fmt.c), shared by the loader's
 * on-screen report and the host tool (`mmboot-memmap show`), so both print
 * the same table byte for byte and the host can read the loader's table back.
 *
 * Text goes into a caller-provided buffer (struct memfmt_buf, always
 * NUL-terminated, silently truncated when full); whole reports are handed
 * out one line at a time to an emit callback (no newline in the line), so
 * each side prints however it prints (console, serial, stdout, a file).
 *
 * The report (memfmt_report) is the "mmboot text table" format; its layout
 * is documented in docs/memmap.md and read back by tools/memmap/parse_table.c.
 * OWNER: memory-map inspector (issue 6).
 */
#ifndef MMBOOT_MEMMAP_FMT_H
#define MMBOOT_MEMMAP_FMT_H

#include "types.h"
#include "memmap.h"
#include "memdump.h"

#define MEMFMT_TITLE "mmboot memory map v1"
#define MEMFMT_COLUMNS \
	"  idx type                 start              end (excl)              pages       size attributes"
#define MEMFMT_LINE_MAX 160u      /* longest line memfmt_report emits, with NUL */

struct memfmt_buf {
	char *p;                      /* text, NUL-terminated */
	uint32_t len;                 /* characters written */
	uint32_t cap;                 /* bytes at p */
};

void memfmt_init(struct memfmt_buf *b, char *mem, uint32_t cap);
void memfmt_str(struct memfmt_buf *b, const char *s);
void memfmt_char(struct memfmt_buf *b, char c);
void memfmt_pad(struct memfmt_buf *b, uint32_t col);        /* spaces up to column col */
void memfmt_dec(struct memfmt_buf *b, uint64_t v);
void memfmt_dec_w(struct memfmt_buf *b, uint64_t v, uint32_t width); /* right-aligned */
void memfmt_hex(struct memfmt_buf *b, uint64_t v, uint32_t digits);  /* "0x" + zero-padded */
void memfmt_size(struct memfmt_buf *b, uint64_t bytes);     /* "640.0 KiB", "14.0 GiB" */
void memfmt_type(struct memfmt_buf *b, uint32_t kind, uint32_t type); /* one token */
void memfmt_attr(struct memfmt_buf *b, uint64_t attr);     /* "UC|WC|WT|WB|RUNTIME|0x..." or "-" */

/* Names (NULL when unknown). */
const char *memfmt_efi_type_name(uint32_t type);   /* "Conventional", ... */
const char *memfmt_e820_type_name(uint32_t type);  /* "e820:usable", ... */
const char *memfmt_attr_name(uint32_t bit);        /* bit number 0..63 -> "UC", ... */

/* Pages an entry covers (rounded up); 0 for empty or wrapped entries. */
uint64_t memfmt_pages(const struct memmap_in *e);

/* One table row: index, type, start, end, pages, size, attributes. */
void memfmt_row(struct memfmt_buf *b, uint32_t idx, const struct memmap_in *e);

typedef void (*memfmt_emit_fn)(void *ctx, const char *line);

struct memfmt_report {
	const struct memdump_header *hdr;  /* firmware facts (loader, dumps), or NULL */
	const char *machine;               /* machine name, or NULL */
	const char *source;                /* where the map came from, or NULL */
	const struct memmap_in *in;        /* entries in firmware order */
	uint32_t n;                        /* entries */
	const struct memmap_range *out;    /* sanitized ranges, or NULL */
	uint32_t nout;                     /* sanitized ranges */
	const struct memmap_stats *st;     /* what the sanitizer changed, or NULL */
};

/* The whole report: title, header, table, totals per type, sanitizer
 * changes, usable below/above 4 GiB. */
void memfmt_report(const struct memfmt_report *r, memfmt_emit_fn emit, void *ctx);
/* Parts of it, for callers that page the output themselves. */
void memfmt_report_header(const struct memfmt_report *r, memfmt_emit_fn emit, void *ctx);
void memfmt_report_totals(const struct memfmt_report *r, memfmt_emit_fn emit, void *ctx);
void memfmt_report_sanitizer(const struct memfmt_report *r, memfmt_emit_fn emit, void *ctx);

#endif /* MMBOOT_MEMMAP_FMT_H */
