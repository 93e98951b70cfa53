/*
 * The UEFI Shell's `memmap` command (EDK II ShellPkg, UEFI Shell 2.x),
 * captured from the screen, a serial console or `memmap > file`:
 *
 *   Type       Start            End              # Pages          Attributes
 *   Available  0000000000000000-000000000009FFFF 00000000000000A0 000000000000000F
 *   BS_Code    ...
 *   <blank>
 *     Reserved  :             14 Pages (57,344 Bytes)        (summary, ignored)
 *
 * Rows: "% -10s %016LX-%016LX %016LX %016LX": type name (full or short, any
 * case; OEM/OS types as hex), start, inclusive end, pages (hex), attributes.
 * Anything before the column header (prompt, command line) is ignored; the
 * table ends at the first blank line. The page count must match the range.
 * The standard-format output (`memmap -sfo`, lines MemoryMap,"Type","S",
 * "E","Pages","Attr") is read too. Files the shell writes (`memmap > f`)
 * are UTF-16LE with a byte-order mark; mapfile_parse() narrows them first.
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "mapfile_int.h"

static bool shell_is_header(const struct mf_line *l)
{
	struct mf_scan s = { l->p, l->p + l->len };
	sc_ws(&s);
	return sc_lit(&s, "Type") && memmem(l->p, l->len, "Start", 5) &&
	       memmem(l->p, l->len, "# Pages", 7) && memmem(l->p, l->len, "Attributes", 10);
}

static bool shell_is_sfo(const struct mf_line *l)
{
	struct mf_scan s = { l->p, l->p + l->len };
	return sc_lit(&s, "MemoryMap,\"");
}

bool mf_is_shell_text(const char *data, size_t len)
{
	struct mf_ctx c = { .data = data, .len = len };
	struct mf_cursor cur = { 0, 0 };
	struct mf_line l;
	while (mf_next_line(&c, &cur, &l))
		if (shell_is_header(&l) || shell_is_sfo(&l))
			return true;
	return false;
}

static int shell_add(struct mf_ctx *c, uint32_t line, struct mf_scan name, uint64_t start,
                     uint64_t last, uint64_t pages, uint64_t attr)
{
	uint32_t type;
	char buf[40];
	if (!mf_efi_type_from_shell(sc_trim(name), &type))
		return mf_fail(c, line, "unknown memory type \"%s\"", sc_str(sc_trim(name), buf, sizeof(buf)));
	if (last < start) {   /* zero pages ([X-(X-1)]) or garbage: the sanitizer drops it */
		if (last + 1 == start && pages != 0)
			return mf_fail(c, line, "page count 0x%llx does not match the range",
			               (unsigned long long)pages);
		return mf_add(c, line, start, last + 1, type, MEMMAP_SRC_EFI, attr);
	}
	if (pages != (last - start) / 4096 + 1 || ((last + 1 - start) & 0xfff))
		return mf_fail(c, line, "page count 0x%llx does not match the range",
		               (unsigned long long)pages);
	return mf_add(c, line, start, last + 1, type, MEMMAP_SRC_EFI, attr);
}

static int shell_row(struct mf_ctx *c, struct mf_scan s, uint32_t line)
{
	struct mf_scan name = s;
	uint64_t start, last, pages, attr;
	sc_ws(&s);
	name.p = s.p;
	while (s.p < s.end && *s.p != ' ' && *s.p != '\t')
		s.p++;
	name.end = s.p;
	sc_ws(&s);
	if (!sc_hex(&s, false, &start) || !sc_lit(&s, "-") || !sc_hex(&s, false, &last))
		return mf_fail(c, line, "bad range: expected START-END in hex");
	sc_ws(&s);
	if (!sc_hex(&s, false, &pages))
		return mf_fail(c, line, "bad page count");
	sc_ws(&s);
	if (!sc_hex(&s, false, &attr) || !sc_eol(&s))
		return mf_fail(c, line, "bad attributes: expected 16 hex digits at the end");
	return shell_add(c, line, name, start, last, pages, attr);
}

/* MemoryMap,"Type","Start","End","Pages","Attr" */
static int shell_sfo_row(struct mf_ctx *c, struct mf_scan s, uint32_t line)
{
	struct mf_scan name;
	uint64_t v[4];
	sc_lit(&s, "MemoryMap,\"");
	if (!sc_until(&s, '"', &name) || !sc_lit(&s, "\""))
		return mf_fail(c, line, "bad MemoryMap line: type not quoted");
	for (int i = 0; i < 4; i++)
		if (!sc_lit(&s, ",\"") || !sc_hex(&s, false, &v[i]) || !sc_lit(&s, "\""))
			return mf_fail(c, line, "bad MemoryMap line: field %d", i + 2);
	if (!sc_eol(&s))
		return mf_fail(c, line, "bad MemoryMap line: text after the last field");
	return shell_add(c, line, name, v[0], v[1], v[2], v[3]);
}

int mf_parse_shell(struct mf_ctx *c)
{
	struct mf_cursor cur = { 0, 0 };
	struct mf_line l;
	bool in_table = false;
	while (mf_next_line(c, &cur, &l)) {
		struct mf_scan s = { l.p, l.p + l.len };
		if (shell_is_sfo(&l)) {
			if (shell_sfo_row(c, s, l.no) < 0)
				return -1;
		} else if (shell_is_header(&l)) {
			if (c->mf->n > 0)
				return mf_fail(c, l.no, "a second memmap table in the same file");
			in_table = true;
		} else if (in_table && mf_line_blank(&l)) {
			in_table = false;
		} else if (in_table && shell_row(c, s, l.no) < 0) {
			return -1;
		}
	}
	if (c->mf->n == 0)
		return mf_fail(c, cur.no, "memmap table has no rows");
	return 0;
}
