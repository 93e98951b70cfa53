/*
 * Internals shared by the map-file parsers (tools/memmap/parse_*.c).
 *
 * Every parser gets a struct mf_ctx: the input bytes, the file name for
 * messages, and the struct mapfile it appends entries to. Text parsers walk
 * the input line by line with mf_next_line() and read fields with the small
 * scanner (struct mf_scan): each sc_* function either consumes what it
 * matched and returns true, or leaves the position unchanged and returns
 * false. Numbers that overflow 64 bits do not match.
 *
 * Errors: a parser calls mf_fail() once ("name:line: what is wrong", or
 * "name: offset 0x..: ..." for binary input) and returns -1 at once; nothing
 * is ever printed from here. The entry count is bounded (MF_MAX_ENTRIES) so
 * that hostile input cannot make the tool allocate without limit.
 */
#ifndef MMBOOT_TOOLS_MAPFILE_INT_H
#define MMBOOT_TOOLS_MAPFILE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mapfile.h"

#define MF_MAX_ENTRIES 65536u     /* more than any firmware map by far */

struct mf_ctx {
	const char *name;             /* file name for messages */
	const char *data;             /* input bytes (not NUL-terminated) */
	size_t len;                   /* input length, bytes */
	struct mapfile *mf;           /* output */
	char *err;                    /* error message buffer */
	size_t errlen;                /* its size */
	char tag[24];                 /* parser scratch: e820 map tag ("BIOS-e820") */
	uint32_t seq;                 /* parser scratch: next expected EFI memNN */
};

struct mf_line {
	const char *p;                /* first character of the line */
	size_t len;                   /* length without the line break (and without '\r') */
	uint32_t no;                  /* 1-based line number */
};

struct mf_cursor {
	size_t pos;                   /* offset of the next line */
	uint32_t no;                  /* number of the line last returned */
};

struct mf_scan {
	const char *p;                /* current position */
	const char *end;              /* end of the text (exclusive) */
};

/* errors and output */
int mf_fail(struct mf_ctx *c, uint32_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int mf_fail_at(struct mf_ctx *c, uint64_t offset, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int mf_add(struct mf_ctx *c, uint32_t line, uint64_t start, uint64_t end,
           uint32_t type, uint32_t kind, uint64_t attr);

/* lines */
bool mf_next_line(const struct mf_ctx *c, struct mf_cursor *cur, struct mf_line *l);
bool mf_line_blank(const struct mf_line *l);
/* Strip a syslog/journal "... kernel: " prefix, a "<N>" level and a
 * "[    0.000000] " timestamp; *stamped says whether any was found. */
struct mf_scan mf_strip_log_prefix(const struct mf_line *l, bool *stamped);

/* scanner */
void sc_ws(struct mf_scan *s);
bool sc_lit(struct mf_scan *s, const char *lit);
bool sc_hex(struct mf_scan *s, bool need_0x, uint64_t *v);
bool sc_dec(struct mf_scan *s, uint64_t *v);
bool sc_eol(struct mf_scan *s);
/* The text up to (not including) c; false if c does not occur. */
bool sc_until(struct mf_scan *s, char c, struct mf_scan *field);
/* Trim blanks on both sides of a field. */
struct mf_scan sc_trim(struct mf_scan f);
bool sc_equals(struct mf_scan f, const char *lit);
/* Copy a field into buf (NUL-terminated, truncated, non-printables as '?'). */
const char *sc_str(struct mf_scan f, char *buf, size_t len);

/* type names shared by several parsers (names.c); false if unknown */
bool mf_e820_type_from_linux(struct mf_scan name, uint32_t *type);
bool mf_e820_type_from_norm(struct mf_scan name, uint32_t *type);
bool mf_e820_type_from_sysfs(struct mf_scan name, uint32_t *type);
bool mf_efi_type_from_linux(struct mf_scan name, uint32_t *type);
bool mf_efi_type_from_spec(struct mf_scan name, uint32_t *type);
bool mf_efi_type_from_shell(struct mf_scan name, uint32_t *type);
bool mf_efi_attr_from_linux(struct mf_scan name, uint64_t *bit);

/* detection and parsing, one pair per format */
bool mf_is_e820_line(struct mf_scan s);
bool mf_is_e820_old_line(struct mf_scan s);
bool mf_is_efi_line(struct mf_scan s);
bool mf_is_efi_old_line(struct mf_scan s);
bool mf_is_norm_line(struct mf_scan s);
bool mf_is_table_text(const char *data, size_t len);
bool mf_is_shell_text(const char *data, size_t len);
bool mf_is_dump(const void *data, size_t len);

int mf_parse_e820(struct mf_ctx *c);
int mf_parse_e820_old(struct mf_ctx *c);
int mf_parse_efi(struct mf_ctx *c);
int mf_parse_efi_old(struct mf_ctx *c);
int mf_parse_norm(struct mf_ctx *c);
int mf_parse_table(struct mf_ctx *c);
int mf_parse_shell(struct mf_ctx *c);
int mf_parse_dump(struct mf_ctx *c);
int mf_load_sysfs(const char *dir, struct mapfile *mf, char *err, size_t errlen);

/* shared by the two Linux EFI formats (parse_efi.c) */
bool mf_efi_head(struct mf_scan *s, uint64_t *idx);
int mf_efi_range(struct mf_ctx *c, struct mf_scan *s, uint32_t line,
                 uint64_t *start, uint64_t *end);

/* The generic line loop of the Linux formats: blank lines and timestamped
 * lines that are not map lines are skipped (other dmesg output); any other
 * line must be accepted by fn, which returns 0, or -1 after mf_fail(). */
typedef int (*mf_line_fn)(struct mf_ctx *c, struct mf_scan s, uint32_t line);
int mf_parse_lines(struct mf_ctx *c, bool (*is_line)(struct mf_scan), mf_line_fn fn,
                   const char *what);

#endif
