/*
 * The map-file front end: format detection, loading files and directories,
 * the growing entry list, and error messages.
 *
 * Detection (mapfile_detect_format):
 *   1. binary: the mmboot dump magic at offset 0;
 *   2. any NUL byte or too many control bytes: a foreign binary file;
 *   3. text: mmboot's own table (its title line), the UEFI Shell's table
 *      (its column header), else the first line that any of the line
 *      classifiers recognises decides (normalised rows, Linux e820 new/old,
 *      EFI new/old), skipping blank lines, '#' comments and log noise.
 * UTF-16LE text with a byte-order mark (UEFI Shell redirection) is first
 * narrowed to ASCII (offsets in binary errors then count characters).
 * The chosen parser then reads the whole input strictly: a line that looks
 * wrong is an error naming its number, never silently skipped (only lines
 * carrying a log timestamp that are not map lines at all are skipped: they
 * are the rest of a dmesg).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mapfile_int.h"

#define MF_MAX_FILE (64u << 20)    /* refuse inputs above 64 MiB */

/* The message after a prefix of n bytes already in c->err; always -1. */
static int mf_vfail(struct mf_ctx *c, int n, const char *fmt, va_list ap)
{
	if (n < 0 || (size_t)n >= c->errlen)
		return -1;
	vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	return -1;
}

int mf_fail(struct mf_ctx *c, uint32_t line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->err, c->errlen, "%s:%u: ", c->name, line);
	va_start(ap, fmt);
	mf_vfail(c, n, fmt, ap);
	va_end(ap);
	return -1;
}

int mf_fail_at(struct mf_ctx *c, uint64_t offset, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->err, c->errlen, "%s: offset 0x%llx: ", c->name,
	                 (unsigned long long)offset);
	va_start(ap, fmt);
	mf_vfail(c, n, fmt, ap);
	va_end(ap);
	return -1;
}

static int mf_grow(struct mf_ctx *c, uint32_t line)
{
	struct mapfile *mf = c->mf;
	uint32_t cap = mf->cap ? mf->cap * 2 : 64;
	if (mf->n >= MF_MAX_ENTRIES)
		return mf_fail(c, line, "more than %u entries", MF_MAX_ENTRIES);
	struct memmap_in *in = realloc(mf->in, cap * sizeof(*in));
	if (!in)
		return mf_fail(c, line, "out of memory");
	mf->in = in;
	uint32_t *ln = realloc(mf->line, cap * sizeof(*ln));
	if (!ln)
		return mf_fail(c, line, "out of memory");
	mf->line = ln;
	mf->cap = cap;
	return 0;
}

int mf_add(struct mf_ctx *c, uint32_t line, uint64_t start, uint64_t end,
           uint32_t type, uint32_t kind, uint64_t attr)
{
	struct mapfile *mf = c->mf;
	if (mf->n == mf->cap && mf_grow(c, line) < 0)
		return -1;
	if (mf->n > 0 && mf->kind != kind)
		return mf_fail(c, line, "mixes EFI and e820 entries");
	mf->kind = kind;
	mf->in[mf->n] = (struct memmap_in){ .start = start, .end = end, .type = type,
	                                    .kind = kind, .attr = attr };
	mf->line[mf->n] = line;
	mf->n++;
	return 0;
}

const char *mapfile_format_name(enum mapfile_format f)
{
	switch (f) {
	case MAPFILE_LINUX_E820:     return "linux-e820";
	case MAPFILE_LINUX_E820_OLD: return "linux-e820-old";
	case MAPFILE_LINUX_EFI:      return "linux-efi";
	case MAPFILE_LINUX_EFI_OLD:  return "linux-efi-old";
	case MAPFILE_NORMALISED:     return "normalised";
	case MAPFILE_MMBOOT_DUMP:    return "mmboot-dump";
	case MAPFILE_MMBOOT_TEXT:    return "mmboot-table";
	case MAPFILE_UEFI_SHELL:     return "uefi-shell";
	case MAPFILE_SYSFS:          return "sysfs";
	default:                     return "unknown";
	}
}

/* Which line-based format does this line start? */
static enum mapfile_format classify_line(struct mf_scan s)
{
	if (mf_is_norm_line(s))
		return MAPFILE_NORMALISED;
	if (mf_is_e820_line(s))
		return MAPFILE_LINUX_E820;
	if (mf_is_efi_line(s))
		return MAPFILE_LINUX_EFI;
	if (mf_is_efi_old_line(s))
		return MAPFILE_LINUX_EFI_OLD;
	if (mf_is_e820_old_line(s))
		return MAPFILE_LINUX_E820_OLD;
	return MAPFILE_UNKNOWN;
}

static enum mapfile_format detect_lines(const struct mf_ctx *c)
{
	struct mf_cursor cur = { 0, 0 };
	struct mf_line l;
	while (mf_next_line(c, &cur, &l)) {
		bool stamped;
		if (mf_line_blank(&l) || l.p[0] == '#')
			continue;
		enum mapfile_format f = classify_line(mf_strip_log_prefix(&l, &stamped));
		if (f != MAPFILE_UNKNOWN)
			return f;
	}
	return MAPFILE_UNKNOWN;
}

/* Offset of the first byte no text file has (NUL, or other C0 controls
 * than tab, CR, LF, FF, ESC), or len if none. */
static size_t first_binary_byte(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n' && ch != '\f' && ch != 0x1b)
			return i;
	}
	return len;
}

static enum mapfile_format detect_format(const struct mf_ctx *c)
{
	if (mf_is_dump(c->data, c->len))
		return MAPFILE_MMBOOT_DUMP;
	if (first_binary_byte(c->data, c->len) < c->len)
		return MAPFILE_UNKNOWN;
	if (mf_is_table_text(c->data, c->len))
		return MAPFILE_MMBOOT_TEXT;
	if (mf_is_shell_text(c->data, c->len))
		return MAPFILE_UEFI_SHELL;
	return detect_lines(c);
}

static int parse_as(struct mf_ctx *c, enum mapfile_format f)
{
	switch (f) {
	case MAPFILE_LINUX_E820:     return mf_parse_e820(c);
	case MAPFILE_LINUX_E820_OLD: return mf_parse_e820_old(c);
	case MAPFILE_LINUX_EFI:      return mf_parse_efi(c);
	case MAPFILE_LINUX_EFI_OLD:  return mf_parse_efi_old(c);
	case MAPFILE_NORMALISED:     return mf_parse_norm(c);
	case MAPFILE_MMBOOT_DUMP:    return mf_parse_dump(c);
	case MAPFILE_MMBOOT_TEXT:    return mf_parse_table(c);
	case MAPFILE_UEFI_SHELL:     return mf_parse_shell(c);
	default:                     break;
	}
	size_t bad = first_binary_byte(c->data, c->len);
	if (bad < c->len)
		return mf_fail_at(c, bad, "binary data (byte 0x%02x) and not an mmboot dump: "
		                  "not a memory map format mmboot-memmap knows",
		                  (unsigned char)c->data[bad]);
	return mf_fail(c, 1, "no memory map found: not a format mmboot-memmap knows "
	               "(Linux e820/EFI boot log, normalised map, mmboot dump or table, "
	               "UEFI Shell memmap)");
}

/* UTF-16LE text with a byte-order mark (what the UEFI Shell writes with
 * `memmap > file`) narrowed to ASCII, non-ASCII as '?'; NULL if not that. */
static char *utf16_to_ascii(const unsigned char *p, size_t len, size_t *out_len)
{
	if (len < 2 || p[0] != 0xff || p[1] != 0xfe || (len & 1))
		return NULL;
	char *a = malloc(len / 2 + 1);
	if (!a)
		return NULL;
	size_t n = 0;
	for (size_t i = 2; i + 1 < len; i += 2) {
		unsigned ch = p[i] | (unsigned)p[i + 1] << 8;
		a[n++] = ch == 0 ? '\0' : ch < 0x80 ? (char)ch : '?';
	}
	*out_len = n;
	return a;
}

int mapfile_parse(const char *name, const void *data, size_t len,
                  struct mapfile *mf, char *err, size_t errlen)
{
	size_t alen;
	char *ascii = utf16_to_ascii(data, len, &alen);
	struct mf_ctx c = { .name = name, .data = ascii ? ascii : data, .len = ascii ? alen : len,
	                    .mf = mf, .err = err, .errlen = errlen };
	int rc = 0;
	memset(mf, 0, sizeof(*mf));
	if (errlen)
		err[0] = '\0';
	if (c.len == 0) {
		rc = mf_fail(&c, 0, "empty file");
	} else {
		mf->format = detect_format(&c);
		rc = parse_as(&c, mf->format);
	}
	if (rc < 0)
		mapfile_free(mf);
	free(ascii);
	return rc < 0 ? -1 : 0;
}

static int read_whole(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	size_t cap = 65536, n = 0;
	char *p = malloc(cap);
	while (p) {
		n += fread(p + n, 1, cap - n, f);
		if (n < cap || cap >= MF_MAX_FILE)
			break;
		char *q = realloc(p, cap * 2);
		if (!q) {
			free(p);
			p = NULL;
			break;
		}
		p = q;
		cap *= 2;
	}
	int bad = ferror(f);
	fclose(f);
	if (!p || bad || n >= MF_MAX_FILE) {
		snprintf(err, errlen, "%s: %s", path, !p ? "out of memory" :
		         bad ? "read error" : "file too large (over 64 MiB)");
		free(p);
		return -1;
	}
	*buf = p;
	*len = n;
	return 0;
}

int mapfile_load(const char *path, struct mapfile *mf, char *err, size_t errlen)
{
	struct stat st;
	memset(mf, 0, sizeof(*mf));
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return mf_load_sysfs(path, mf, err, errlen);
	char *buf;
	size_t len;
	if (read_whole(path, &buf, &len, err, errlen) < 0)
		return -1;
	int rc = mapfile_parse(path, buf, len, mf, err, errlen);
	free(buf);
	return rc;
}

void mapfile_free(struct mapfile *mf)
{
	free(mf->in);
	free(mf->line);
	mf->in = NULL;
	mf->line = NULL;
	mf->n = mf->cap = 0;
}
